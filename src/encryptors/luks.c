/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LuksEncryptor and Luks2Encryptor (os_brick/encryptors/luks.py) on
 * libcryptsetup.  os-brick formats whenever `cryptsetup isLuks` fails for
 * any reason; here nv_luks_ensure() decides, as for the native path: only a
 * blank volume is formatted, crash-safely and under exclusive access.
 */
#include <errno.h>
#include <libcryptsetup.h>

#include "encryptors/crypt_util.h"
#include "encryptors/encryptor_priv.h"
#include "encryptors/luks_format.h"
#include "encryptors/luks_priv.h"
#include "nvirt/error.h"

/* `cryptsetup luksOpen --key-file=- DEV NAME`: any LUKS version. */
static gboolean
luks_open(nv_encryptor *enc, const char *device, const nv_secure_buf *passphrase, GError **error)
{
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    gboolean ok = FALSE;

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_loaded(enc->volume_id, device, &log, error);
    if (cd)
        ok = nv_encryptor_activate(enc, cd, device, "mapping", passphrase, &log, error);
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}

static gboolean
luks_attach(nv_encryptor *enc, const nv_secure_buf *passphrase, GError **error)
{
    nv_luks_type type =
        enc->format == NV_ENCRYPTION_FORMAT_LUKS2 ? NV_LUKS_TYPE_LUKS2 : NV_LUKS_TYPE_LUKS1;
    g_autofree char *device = NULL;
    gboolean already_open;
    nv_luks_ensure_result ensured;

    if (!nv_encryptor_prepare_attach(enc, &device, &already_open, error))
        return FALSE;
    if (already_open)
        return nv_encryptor_link_mapping(enc, error);

    /* Before anything is formatted: dm-crypt goes on block devices only.
     * An image file with something on it is refused for that first: the
     * better reason. */
    if (!nv_encryptor_is_block_device(device)) {
        if (!nv_luks_assess(enc->volume_id, device, type, NV_LUKS_ENSURE_ANY_VERSION, enc->cipher,
                            enc->key_size_bits, error))
            return FALSE;
        return nv_encryptor_require_block_device(enc, device, error);
    }
    /* First attach of a new volume formats it (cinder bug 1739442), always
     * with an explicit LUKS version (os-brick bug 1831994); an existing
     * header of either version opens, as with luksOpen. */
    if (!nv_luks_ensure(enc->volume_id, device, NV_IMAGE_RAW,
                        enc->format == NV_ENCRYPTION_FORMAT_LUKS2 ? NV_LUKS_TYPE_LUKS2
                                                                  : NV_LUKS_TYPE_LUKS1,
                        NV_LUKS_ENSURE_ANY_VERSION, enc->cipher, enc->key_size_bits, passphrase,
                        enc->pbkdf2_iterations, &ensured, error))
        return FALSE;
    if (!luks_open(enc, device, passphrase, error))
        goto undo_format;
    if (!nv_encryptor_link_mapping(enc, error)) {
        nv_encryptor_rollback_open(enc);
        goto undo_format;
    }
    return TRUE;

undo_format:
    /* The volume was blank before this attach: leave it blank. */
    if (ensured.formatted) {
        g_autoptr(GError) local = NULL;

        if (!nv_luks_unformat(enc->volume_id, device, ensured.header_uuid, &local))
            g_warning("%s", local->message);
    }
    return FALSE;
}

static gboolean
luks_detach(nv_encryptor *enc, GError **error)
{
    return nv_encryptor_close_mapping(enc, error);
}

/* `cryptsetup resize` of the mapping, then its size (os-brick reports
 * `blockdev --getsize64` of the device path, the same number). */
static gboolean
luks_extend(nv_encryptor *enc, const nv_secure_buf *passphrase, guint64 *decrypted_size,
            GError **error)
{
    struct crypt_device *cd = NULL;
    struct crypt_active_device cad;
    nv_mapping_info info;
    nv_crypt_log log;
    gboolean ok = FALSE;
    int r;

    if (!nv_mapping_lookup(enc->sysfs_root, enc->mapping_name, &info, error))
        return FALSE;
    if (info.state != NV_MAPPING_CRYPT) {
        g_set_error(error, NV_ERROR,
                    info.state == NV_MAPPING_INACTIVE ? NV_ERROR_NOT_FOUND : NV_ERROR_UNSUPPORTED,
                    "volume %s: cannot extend: %s is not an active crypt mapping", enc->volume_id,
                    enc->mapping_name);
        return FALSE;
    }

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_by_name(enc->mapping_name, enc->volume_id, &log, error);
    if (!cd)
        goto out;
    r = crypt_get_active_device(cd, enc->mapping_name, &cad);
    if (r == 0 && (cad.flags & CRYPT_ACTIVATE_KEYRING_KEY)) {
        /* LUKS2 keeps the volume key in the kernel keyring, not in the dm
         * table: resize needs it there, as `cryptsetup resize` asks for the
         * passphrase in this case. */
        r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, nv_secure_buf_str(passphrase),
                                         nv_secure_buf_len(passphrase), CRYPT_ACTIVATE_KEYRING_KEY);
        if (r == -EPERM) {
            g_set_error(error, NV_ERROR, NV_ERROR_WRONG_PASSPHRASE,
                        "volume %s: passphrase does not open any keyslot of mapping %s",
                        enc->volume_id, enc->mapping_name);
            goto out;
        }
    }
    if (r >= 0)
        r = crypt_resize(cd, enc->mapping_name, 0);
    if (r >= 0)
        r = crypt_get_active_device(cd, enc->mapping_name, &cad);
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot resize mapping %s: %s%s",
                    enc->volume_id, enc->mapping_name, g_strerror(-r), detail);
        goto out;
    }
    *decrypted_size = cad.size * 512; /* dm sectors */
    ok = TRUE;

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}

const nv_encryptor_ops nv_luks_encryptor_ops = {
    .name = "LuksEncryptor",
    .attach = luks_attach,
    .detach = luks_detach,
    .extend = luks_extend,
};
