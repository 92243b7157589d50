/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safe LUKS probe and format: the replacement for os-brick's
 * LuksEncryptor._is_luks() + _format_volume() (os_brick/encryptors/luks.py),
 * closing its data-loss gap (see luks_format.h).
 */
#include "encryptors/luks_format.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>
#include <sys/stat.h>

#include "encryptors/crypt_util.h"
#include "nvirt/error.h"

/* cryptsetup's compiled-in LUKS defaults (cryptsetup --help, 2.6): the
 * native path formats with the volume type's cipher, and with these when it
 * has none, as `cryptsetup luksFormat` without --cipher/--key-size would. */
#define DEFAULT_CIPHER   "aes"
#define DEFAULT_MODE     "xts-plain64"
#define DEFAULT_KEY_BITS 256
#define DEFAULT_HASH     "sha256"

const char *
nv_luks_probe_kind_to_string(nv_luks_probe_kind kind)
{
    switch (kind) {
    case NV_LUKS_PROBE_BLANK:
        return "blank";
    case NV_LUKS_PROBE_LUKS1:
        return "LUKS1";
    case NV_LUKS_PROBE_LUKS2:
        return "LUKS2";
    case NV_LUKS_PROBE_OTHER:
        return "other";
    }
    return "unknown";
}

/* What libblkid sees: TRUE with *found FALSE for no signature, or the
 * signature name in @sig (and the LUKS VERSION in @version). */
static gboolean
blkid_probe_path(const char *path, gboolean *found, char *sig, gsize sig_len, char *version,
                 gsize version_len, GError **error)
{
    blkid_probe pr;
    const char *val = NULL;
    int r;

    errno = 0;
    pr = blkid_new_probe_from_filename(path);
    if (!pr) {
        int err = errno;

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: libblkid cannot open it: %s", path,
                    err ? g_strerror(err) : "unknown error");
        return FALSE;
    }
    blkid_probe_enable_superblocks(pr, 1);
    /* BADCSUM: a file system with a damaged superblock is still somebody's
     * data; report it rather than treat the device as blank. */
    blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_VERSION |
                                              BLKID_SUBLKS_BADCSUM);
    blkid_probe_enable_partitions(pr, 1);

    errno = 0;
    r = blkid_do_safeprobe(pr);
    if (r < 0) {
        int err = errno;

        blkid_free_probe(pr);
        if (r == -2)
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                        "volume %s: libblkid finds more than one signature (ambiguous probe)",
                        path);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: libblkid cannot probe it: %s",
                        path, err ? g_strerror(err) : "unknown error");
        return FALSE;
    }

    *found = FALSE;
    sig[0] = '\0';
    version[0] = '\0';
    if (r == 0) {
        if (blkid_probe_lookup_value(pr, "TYPE", &val, NULL) == 0 ||
            blkid_probe_lookup_value(pr, "PTTYPE", &val, NULL) == 0) {
            *found = TRUE;
            g_strlcpy(sig, val, sig_len);
        }
        if (blkid_probe_lookup_value(pr, "VERSION", &val, NULL) == 0)
            g_strlcpy(version, val, version_len);
        /* safeprobe succeeded with a result we cannot name: still not blank. */
        if (!*found) {
            *found = TRUE;
            g_strlcpy(sig, "unknown", sig_len);
        }
    }
    blkid_free_probe(pr);
    return TRUE;
}

gboolean
nv_luks_probe(const char *path, nv_luks_probe_result *out, GError **error)
{
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    struct stat st;
    gboolean found = FALSE;
    char version[16];
    const char *luks_type = NULL;
    gboolean ok = FALSE;
    int r;

    memset(out, 0, sizeof(*out));
    out->kind = NV_LUKS_PROBE_BLANK;

    if (stat(path, &st) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot probe it: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: cannot probe it: not a block device or regular file", path);
        return FALSE;
    }

    if (!blkid_probe_path(path, &found, out->signature, sizeof(out->signature), version,
                          sizeof(version), error))
        return FALSE;

    /* Cross-check with libcryptsetup: it decides what LUKS is (and is what
     * QEMU's and dm-crypt's formats follow).  Only -EINVAL from crypt_load
     * means "no LUKS header"; anything else is a failure to read. */
    nv_crypt_log_begin(&log);
    cd = nv_crypt_open(path, &log, error);
    if (!cd)
        goto out;
    r = crypt_load(cd, CRYPT_LUKS, NULL);
    if (r == 0) {
        luks_type = crypt_get_type(cd);
    } else if (r != -EINVAL) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: libcryptsetup cannot read it: %s%s", path, g_strerror(-r), detail);
        goto out;
    }

    if (luks_type) {
        const char *want = g_str_equal(luks_type, CRYPT_LUKS1) ? "1" : "2";

        if (!found || !g_str_equal(out->signature, "crypto_LUKS") || !g_str_equal(version, want)) {
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                        "volume %s: libcryptsetup loads a %s header but libblkid sees %s%s%s", path,
                        luks_type, found ? out->signature : "no signature",
                        found && *version ? " version " : "", found ? version : "");
            goto out;
        }
        out->kind = g_str_equal(luks_type, CRYPT_LUKS1) ? NV_LUKS_PROBE_LUKS1 : NV_LUKS_PROBE_LUKS2;
    } else if (found && g_str_equal(out->signature, "crypto_LUKS")) {
        /* A damaged or unsupported LUKS header: someone's encrypted data,
         * and not something we can open. */
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: libblkid sees a LUKS%s header that libcryptsetup cannot load", path,
                    version);
        goto out;
    } else {
        out->kind = found ? NV_LUKS_PROBE_OTHER : NV_LUKS_PROBE_BLANK;
    }
    ok = TRUE;

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    if (!ok) {
        memset(out, 0, sizeof(*out));
        out->kind = NV_LUKS_PROBE_BLANK;
    }
    return ok;
}

static gboolean
split_cipher(const char *path, const char *spec, char **cipher, char **mode, GError **error)
{
    if (!spec) {
        *cipher = g_strdup(DEFAULT_CIPHER);
        *mode = g_strdup(DEFAULT_MODE);
        return TRUE;
    }
    return nv_crypt_split_cipher(path, spec, cipher, mode, error);
}

gboolean
nv_luks_format(const char *path, nv_luks_type type, const char *cipher, guint key_size_bits,
               const nv_secure_buf *passphrase, guint32 pbkdf2_iterations, GError **error)
{
    const char *crypt_type = type == NV_LUKS_TYPE_LUKS2 ? CRYPT_LUKS2 : CRYPT_LUKS1;
    nv_luks_probe_result probe;
    g_autofree char *cipher_name = NULL;
    g_autofree char *cipher_mode = NULL;
    struct crypt_params_luks1 luks1 = { .hash = DEFAULT_HASH };
    struct crypt_pbkdf_type pbkdf = {
        .type = CRYPT_KDF_PBKDF2,
        .hash = DEFAULT_HASH,
        .iterations = pbkdf2_iterations,
        .flags = CRYPT_PBKDF_NO_BENCHMARK,
    };
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    gboolean ok = FALSE;
    int r;

    if (!split_cipher(path, cipher, &cipher_name, &cipher_mode, error))
        return FALSE;
    if (key_size_bits % 8 != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: key size %u is not a multiple of 8 bits", path, key_size_bits);
        return FALSE;
    }
    if (key_size_bits == 0) {
        /* cryptsetup doubles the default for XTS, which splits the key in
         * two halves. */
        key_size_bits = DEFAULT_KEY_BITS;
        if (g_str_has_prefix(cipher_mode, "xts-"))
            key_size_bits *= 2;
    }

    /* The probe and the format open the device separately: whoever hands us
     * the volume must not be writing to it meanwhile (Nova holds it between
     * connect_volume and attach). */
    if (!nv_luks_probe(path, &probe, error))
        return FALSE;
    switch (probe.kind) {
    case NV_LUKS_PROBE_BLANK:
        break;
    case NV_LUKS_PROBE_LUKS1:
    case NV_LUKS_PROBE_LUKS2:
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s already carries a %s header: refusing to format", path,
                    nv_luks_probe_kind_to_string(probe.kind));
        return FALSE;
    case NV_LUKS_PROBE_OTHER:
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s carries a %s signature and no LUKS header: refusing to format", path,
                    probe.signature);
        return FALSE;
    }

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open(path, &log, error);
    if (!cd)
        goto out;
    if (pbkdf2_iterations > 0 && (r = crypt_set_pbkdf_type(cd, &pbkdf)) < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: PBKDF2 with %u iterations rejected: %s%s", path, pbkdf2_iterations,
                    g_strerror(-r), detail);
        goto out;
    }
    /* Always an explicit type: cryptsetup >= 2.1 defaults to LUKS2, which
     * QEMU cannot open (os-brick bug 1831994). */
    r = crypt_format(cd, crypt_type, cipher_name, cipher_mode, NULL, NULL, key_size_bits / 8,
                     type == NV_LUKS_TYPE_LUKS1 ? (void *)&luks1 : NULL);
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: cannot format as %s with cipher %s-%s and a %u-bit key: %s%s", path,
                    crypt_type, cipher_name, cipher_mode, key_size_bits, g_strerror(-r), detail);
        goto out;
    }
    r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, nv_secure_buf_str(passphrase),
                                        nv_secure_buf_len(passphrase));
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: formatted as %s but cannot add the passphrase keyslot: %s%s", path,
                    crypt_type, g_strerror(-r), detail);
        goto out;
    }
    g_debug("volume %s: formatted as %s (%s-%s, %u-bit key), passphrase in keyslot %d", path,
            crypt_type, cipher_name, cipher_mode, key_size_bits, r);
    ok = TRUE;

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}

gboolean
nv_luks_check_passphrase(const char *path, const nv_secure_buf *passphrase, GError **error)
{
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    gboolean ok = FALSE;
    int r;

    nv_crypt_log_begin(&log);
    cd = nv_crypt_open(path, &log, error);
    if (!cd)
        goto out;
    r = crypt_load(cd, CRYPT_LUKS, NULL);
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        if (r == -EINVAL)
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s carries no LUKS header%s", path,
                        detail);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                        "volume %s: libcryptsetup cannot read it: %s%s", path, g_strerror(-r),
                        detail);
        goto out;
    }
    /* No name: libcryptsetup only checks the passphrase against the
     * keyslots, no device-mapper needed. */
    r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, nv_secure_buf_str(passphrase),
                                     nv_secure_buf_len(passphrase), 0);
    if (r == -EPERM) {
        g_set_error(error, NV_ERROR, NV_ERROR_WRONG_PASSPHRASE,
                    "volume %s: passphrase does not open any keyslot", path);
        goto out;
    }
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(&log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot check the passphrase: %s%s",
                    path, g_strerror(-r), detail);
        goto out;
    }
    ok = TRUE;

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}
