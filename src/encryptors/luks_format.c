/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safe LUKS probe and the read-only checks: the replacement for os-brick's
 * LuksEncryptor._is_luks() (os_brick/encryptors/luks.py), closing its
 * data-loss gap (see luks_format.h), the passphrase check and the bound on
 * the PBKDF cost of an unlock.  The format is in luks_ensure.c.
 */
#include "encryptors/luks_format.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encryptors/crypt_util.h"
#include "encryptors/luks_priv.h"
#include "nvirt/error.h"

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

const char *
nv_luks_found_to_string(nv_luks_found found)
{
    switch (found) {
    case NV_LUKS_FOUND_LUKS1:
        return "LUKS1";
    case NV_LUKS_FOUND_LUKS2:
        return "LUKS2";
    case NV_LUKS_FOUND_QCOW2_LUKS:
        return "qcow2 LUKS";
    }
    return "unknown";
}

/* What libblkid sees: TRUE with *found FALSE for no signature, or the
 * signature name in @sig (and the LUKS VERSION in @version). */
static gboolean
blkid_probe_fd(const char *path, int fd, gboolean *found, char *sig, gsize sig_len, char *version,
               gsize version_len, GError **error)
{
    blkid_probe pr;
    const char *val = NULL;
    int r;

    pr = blkid_new_probe();
    if (!pr || blkid_probe_set_device(pr, fd, 0, 0) < 0) {
        int err = errno;

        blkid_free_probe(pr);
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: libblkid cannot probe it: %s",
                    path, err ? g_strerror(err) : "unknown error");
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
nv_luks_probe_fd(const char *path, int fd, nv_luks_probe_result *out, struct crypt_device **loaded,
                 GError **error)
{
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    gboolean found = FALSE;
    char version[16];
    const char *luks_type = NULL;
    gboolean ok = FALSE;
    int r;

    memset(out, 0, sizeof(*out));
    out->kind = NV_LUKS_PROBE_BLANK;

    if (!blkid_probe_fd(path, fd, &found, out->signature, sizeof(out->signature), version,
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
    } else if (found) {
        out->kind = NV_LUKS_PROBE_OTHER;
    } else {
        gboolean is_qcow2 = FALSE;

        /* libblkid has no prober for image formats. */
        if (!nv_luks_has_qcow2_magic(path, fd, &is_qcow2, error))
            goto out;
        if (is_qcow2) {
            out->kind = NV_LUKS_PROBE_OTHER;
            g_strlcpy(out->signature, "qcow2", sizeof(out->signature));
        }
    }
    ok = TRUE;
    if (loaded && luks_type) {
        /* The caller's now: @log ends here, so its messages go to the
         * debug log until the caller attaches its own. */
        *loaded = g_steal_pointer(&cd);
        nv_crypt_log_attach(*loaded, NULL);
    }

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    if (!ok) {
        memset(out, 0, sizeof(*out));
        out->kind = NV_LUKS_PROBE_BLANK;
    }
    return ok;
}

gboolean
nv_luks_probe(const char *path, nv_luks_probe_result *out, GError **error)
{
    struct stat st;
    gboolean ok;
    int fd;

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
    fd = nv_luks_open_volume(path, O_RDONLY, error);
    if (fd < 0)
        return FALSE;
    ok = nv_luks_probe_fd(path, fd, out, NULL, error);
    close(fd);
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
    cd = nv_crypt_open_loaded(path, path, &log, error);
    if (!cd)
        goto out;
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

static const nv_luks_unlock_bound default_bound = {
    .max_pbkdf2_iterations = NV_LUKS_DEFAULT_MAX_PBKDF2_ITERATIONS,
    .max_argon2_memory_kib = NV_LUKS_DEFAULT_MAX_ARGON2_MEMORY_KIB,
    .max_argon2_cost = NV_LUKS_DEFAULT_MAX_ARGON2_COST,
};

/* One keyslot's PBKDF against @bound; the message says what was found. */
static gboolean
check_keyslot_cost(const char *volume_id, const char *path, int slot,
                   const struct crypt_pbkdf_type *pbkdf, const nv_luks_unlock_bound *bound,
                   GError **error)
{
    const char *what = NULL;
    guint64 found = 0;
    guint64 max = 0;

    if (g_str_equal(pbkdf->type, CRYPT_KDF_PBKDF2)) {
        found = pbkdf->iterations;
        max = bound->max_pbkdf2_iterations;
        what = "PBKDF2 iterations";
    } else if (bound->max_argon2_memory_kib &&
               pbkdf->max_memory_kb > bound->max_argon2_memory_kib) {
        found = pbkdf->max_memory_kb;
        max = bound->max_argon2_memory_kib;
        what = "KiB of argon2 memory";
    } else {
        /* argon2i/argon2id: time cost is the number of passes over the
         * memory, so the work is their product. */
        found = (guint64)pbkdf->iterations * pbkdf->max_memory_kb;
        max = bound->max_argon2_cost;
        what = "argon2 KiB-passes (time cost x memory)";
    }
    if (max && found > max) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: keyslot %d of %s asks for %" G_GUINT64_FORMAT
                    " %s, more than the bound of %" G_GUINT64_FORMAT ": refusing to unlock it",
                    volume_id, slot, path, found, what, max);
        return FALSE;
    }
    return TRUE;
}

gboolean
nv_luks_check_unlock_cost(const char *volume_id, const char *path,
                          const nv_luks_unlock_bound *bound, GError **error)
{
    struct crypt_device *cd = NULL;
    nv_crypt_log log;
    gboolean ok = FALSE;
    int active = 0;
    int r;

    if (!bound)
        bound = &default_bound;
    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_loaded(volume_id, path, &log, error);
    if (!cd)
        goto out;
    for (int slot = 0; slot < crypt_keyslot_max(crypt_get_type(cd)); slot++) {
        struct crypt_pbkdf_type pbkdf = { 0 };
        crypt_keyslot_info status = crypt_keyslot_status(cd, slot);

        if (status != CRYPT_SLOT_ACTIVE && status != CRYPT_SLOT_ACTIVE_LAST)
            continue;
        active++;
        r = crypt_keyslot_get_pbkdf(cd, slot, &pbkdf);
        if (r < 0) {
            g_autofree char *detail = nv_crypt_log_detail(&log);

            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                        "volume %s: cannot read the PBKDF of keyslot %d of %s: %s%s", volume_id,
                        slot, path, g_strerror(-r), detail);
            goto out;
        }
        if (!check_keyslot_cost(volume_id, path, slot, &pbkdf, bound, error))
            goto out;
    }
    if (active == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: %s has no active keyslot: no passphrase can open it", volume_id,
                    path);
        goto out;
    }
    ok = TRUE;

out:
    nv_crypt_close(cd);
    nv_crypt_log_end(&log);
    return ok;
}

gboolean
nv_luks_get_payload_offset(const char *volume_id, const char *path, guint64 *offset, GError **error)
{
    struct crypt_device *cd = NULL;
    nv_crypt_log log;

    g_return_val_if_fail(volume_id != NULL && path != NULL && offset != NULL, FALSE);
    *offset = 0;
    nv_crypt_log_begin(&log);
    cd = nv_crypt_open_loaded(volume_id, path, &log, error);
    if (cd) {
        /* crypt_get_data_offset() counts 512-byte sectors, whatever the
         * volume's encryption sector size. */
        *offset = crypt_get_data_offset(cd) * 512;
        nv_crypt_close(cd);
    }
    nv_crypt_log_end(&log);
    return cd != NULL;
}
