/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CryptsetupEncryptor (os_brick/encryptors/cryptsetup.py): plain dm-crypt,
 * deprecated upstream, kept so volumes created with it still open.
 *
 * os-brick runs `cryptsetup create --key-file=- [--cipher C] [--key-size K]
 * NAME DEV` with the hex passphrase on stdin.  cryptsetup hashes a
 * passphrase read from stdin with plain mode's hash even with --key-file
 * (only a real key file skips hashing), so the dm-crypt key is
 * ripemd160-derived, not the passphrase bytes: this file makes the same
 * libcryptsetup calls that command does, and the guest suite compares the
 * result with the real binary's, byte for byte.
 */
#include <errno.h>
#include <libcryptsetup.h>

#include "encryptors/crypt_util.h"
#include "encryptors/encryptor_priv.h"
#include "nvirt/error.h"

/* cryptsetup 2.6's compiled-in plain-mode defaults (cryptsetup --help). */
#define PLAIN_DEFAULT_CIPHER   "aes-cbc-essiv:sha256"
#define PLAIN_DEFAULT_KEY_BITS 256
#define PLAIN_DEFAULT_HASH     "ripemd160"

static gboolean
plain_open(nv_encryptor *enc, const char *device, const nv_secure_buf *passphrase, GError **error)
{
    g_autofree char *cipher = NULL;
    g_autofree char *mode = NULL;
    guint key_bits = enc->key_size_bits ? enc->key_size_bits : PLAIN_DEFAULT_KEY_BITS;
    struct crypt_params_plain params = { .hash = PLAIN_DEFAULT_HASH };
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    gboolean ok = FALSE;
    int r;

    if (!nv_crypt_split_cipher(enc->volume_id, enc->cipher ? enc->cipher : PLAIN_DEFAULT_CIPHER,
                               &cipher, &mode, error))
        return FALSE;

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open(device, &log, error);
    if (!cd)
        goto out;
    r = crypt_format(cd, CRYPT_PLAIN, cipher, mode, NULL, NULL, key_bits / 8, &params);
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: cannot set up plain %s-%s with a %u-bit key on %s: %s%s",
                    enc->volume_id, cipher, mode, key_bits, device, g_strerror(-r), detail);
        goto out;
    }
    /* Plain mode has no keyslots: any passphrase "opens" it. */
    ok = nv_encryptor_activate(enc, cd, device, "plain mapping", passphrase, &log, error);

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}

static gboolean
plain_attach(nv_encryptor *enc, const nv_secure_buf *passphrase, GError **error)
{
    g_autofree char *device = NULL;
    gboolean already_open;

    /* os-brick logs a deprecation warning here; a library should not
     * print, so only at info level. */
    g_info("volume %s: the plain CryptsetupEncryptor is deprecated, retype the volume to luks",
           enc->volume_id);
    if (!nv_encryptor_prepare_attach(enc, &device, &already_open, error))
        return FALSE;
    if (!already_open && (!nv_encryptor_require_block_device(enc, device, error) ||
                          !plain_open(enc, device, passphrase, error)))
        return FALSE;
    if (!nv_encryptor_link_mapping(enc, error)) {
        if (!already_open)
            nv_encryptor_rollback_open(enc);
        return FALSE;
    }
    return TRUE;
}

static gboolean
plain_detach(nv_encryptor *enc, GError **error)
{
    return nv_encryptor_close_mapping(enc, error);
}

static gboolean
plain_extend(nv_encryptor *enc, const nv_secure_buf *passphrase, guint64 *decrypted_size,
             GError **error)
{
    /* os-brick: NotImplementedError. */
    g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                "volume %s: extending a plain dm-crypt volume is not supported", enc->volume_id);
    return FALSE;
}

const nv_encryptor_ops nv_plain_encryptor_ops = {
    .name = "CryptsetupEncryptor",
    .attach = plain_attach,
    .detach = plain_detach,
    .extend = plain_extend,
};
