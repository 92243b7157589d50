/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LuksEncryptor and Luks2Encryptor (os_brick/encryptors/luks.py) on
 * libcryptsetup.  os-brick formats whenever `cryptsetup isLuks` fails for
 * any reason; here only a volume the safe probe finds blank is formatted.
 */
#include <errno.h>
#include <libcryptsetup.h>

#include "encryptors/crypt_util.h"
#include "encryptors/encryptor_priv.h"
#include "encryptors/luks_format.h"
#include "nvirt/error.h"

/* `cryptsetup luksOpen --key-file=- DEV NAME`: any LUKS version. */
static gboolean
luks_open(nv_encryptor *enc, const char *device, const nv_secure_buf *passphrase, GError **error)
{
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    gboolean ok = FALSE;
    int r;

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open(device, &log, error);
    if (!cd)
        goto out;
    r = crypt_load(cd, CRYPT_LUKS, NULL);
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: cannot load the LUKS header of %s: %s%s", enc->volume_id, device,
                    g_strerror(-r), detail);
        goto out;
    }
    ok = nv_encryptor_activate(enc, cd, device, "mapping", passphrase, &log, error);

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}

static gboolean
luks_attach(nv_encryptor *enc, const nv_secure_buf *passphrase, GError **error)
{
    g_autofree char *device = NULL;
    gboolean already_open;
    nv_luks_probe_result probe;

    if (!nv_encryptor_prepare_attach(enc, &device, &already_open, error))
        return FALSE;
    if (already_open)
        return nv_encryptor_link_mapping(enc, error);

    if (!nv_luks_probe(device, &probe, error))
        return FALSE;
    if (probe.kind == NV_LUKS_PROBE_OTHER) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: device %s carries a %s signature and no LUKS header: refusing "
                    "to format",
                    enc->volume_id, device, probe.signature);
        return FALSE;
    }
    /* Checked after the probe, so an image file with a file system on it
     * is reported as that; before the format, so nothing is formatted that
     * cannot be opened. */
    if (!nv_encryptor_require_block_device(enc, device, error))
        return FALSE;
    if (probe.kind == NV_LUKS_PROBE_BLANK) {
        /* First attach of a new volume (cinder bug 1739442).  Always an
         * explicit LUKS version (os-brick bug 1831994). */
        g_info("volume %s: %s is blank, formatting it as %s", enc->volume_id, device,
               nv_encryption_format_name(enc->format));
        if (!nv_luks_format(
                device,
                enc->format == NV_ENCRYPTION_FORMAT_LUKS2 ? NV_LUKS_TYPE_LUKS2 : NV_LUKS_TYPE_LUKS1,
                enc->cipher, enc->key_size_bits, passphrase, enc->pbkdf2_iterations, error))
            return FALSE;
    }
    if (!luks_open(enc, device, passphrase, error))
        return FALSE;
    if (!nv_encryptor_link_mapping(enc, error)) {
        nv_encryptor_rollback_open(enc);
        return FALSE;
    }
    return TRUE;
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

    if (!nv_mapping_lookup("/sys", enc->mapping_name, &info, error))
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
