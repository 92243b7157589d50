/* SPDX-License-Identifier: Apache-2.0 */
/* libcryptsetup plumbing shared by the probe/format and the encryptors. */
#include "encryptors/crypt_util.h"

#include <errno.h>
#include <string.h>

#include "nvirt/error.h"

/* Every handle gets its own log callback (crypt_set_log_callback(cd, ...)
 * right after crypt_init), never the process-wide one: a compute service
 * that links nvirt keeps whatever global libcryptsetup handler it set.
 *
 * Residue: what libcryptsetup logs before crypt_init()/crypt_init_by_name()
 * return has no handle yet and goes to the global callback, or, when the
 * host process set none, to stderr (errors) and stdout (CRYPT_LOG_NORMAL).
 * In 2.6 that is only the error "Device PATH does not exist or access
 * denied." and device-mapper messages of crypt_init_by_name; callers check
 * the path themselves first (stat/open in luks_format.c and luks_ensure.c,
 * the sysfs lookup before crypt_init_by_name), so in practice it is only
 * reached in a race with the path disappearing.  include/nvirt/nvirt.h
 * says so next to the SIGPIPE rule. */
static void
log_cb(int level, const char *msg, void *usrptr)
{
    nv_crypt_log *log = usrptr;
    g_autofree char *line = g_strchomp(g_strdup(msg ? msg : ""));

    if (level == CRYPT_LOG_ERROR && log) {
        g_free(log->last_error);
        log->last_error = g_steal_pointer(&line);
        return;
    }
    g_debug("libcryptsetup: %s", line);
}

void
nv_crypt_log_begin(nv_crypt_log *log)
{
    log->last_error = NULL;
}

void
nv_crypt_log_end(nv_crypt_log *log)
{
    g_clear_pointer(&log->last_error, g_free);
}

void
nv_crypt_log_attach(struct crypt_device *cd, nv_crypt_log *log)
{
    crypt_set_log_callback(cd, log_cb, log);
}

char *
nv_crypt_log_detail(const nv_crypt_log *log)
{
    if (!log->last_error || !*log->last_error)
        return g_strdup("");
    return g_strdup_printf(" (libcryptsetup: %s)", log->last_error);
}

void
nv_crypt_close(struct crypt_device *cd)
{
    if (cd)
        crypt_free(cd);
}

struct crypt_device *
nv_crypt_open(const char *path, nv_crypt_log *log, GError **error)
{
    struct crypt_device *cd = NULL;
    int r = crypt_init(&cd, path);

    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: libcryptsetup cannot open it: %s%s", path, g_strerror(-r), detail);
        return NULL;
    }
    nv_crypt_log_attach(cd, log);
    return cd;
}

struct crypt_device *
nv_crypt_open_loaded(const char *what, const char *path, nv_crypt_log *log, GError **error)
{
    struct crypt_device *cd = nv_crypt_open(path, log, error);
    gboolean same = g_str_equal(what, path);
    int r;

    if (!cd)
        return NULL;
    r = crypt_load(cd, CRYPT_LUKS, NULL);
    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(log);

        if (r == -EINVAL && same)
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s carries no LUKS header%s", path,
                        detail);
        else if (r == -EINVAL)
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: %s carries no LUKS header%s",
                        what, path, detail);
        else if (same)
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                        "volume %s: libcryptsetup cannot read it: %s%s", path, g_strerror(-r),
                        detail);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                        "volume %s: libcryptsetup cannot read %s: %s%s", what, path, g_strerror(-r),
                        detail);
        crypt_free(cd);
        return NULL;
    }
    return cd;
}

struct crypt_device *
nv_crypt_open_by_name(const char *name, const char *volume_id, nv_crypt_log *log, GError **error)
{
    struct crypt_device *cd = NULL;
    int r = crypt_init_by_name(&cd, name);

    if (r < 0) {
        g_autofree char *detail = nv_crypt_log_detail(log);

        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: libcryptsetup cannot open mapping %s: %s%s", volume_id, name,
                    g_strerror(-r), detail);
        return NULL;
    }
    nv_crypt_log_attach(cd, log);
    return cd;
}

gboolean
nv_crypt_split_cipher(const char *what, const char *spec, char **cipher, char **mode,
                      GError **error)
{
    const char *dash = strchr(spec, '-');

    if (!*spec || dash == spec || (dash && !dash[1]) || strlen(spec) > 64) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "volume %s: cipher '%s' is not of the form CIPHER-MODE (e.g. aes-xts-plain64)",
                    what, spec);
        return FALSE;
    }
    if (!dash) {
        *cipher = g_strdup(spec);
        *mode = g_strdup("cbc-plain");
    } else {
        *cipher = g_strndup(spec, dash - spec);
        *mode = g_strdup(g_str_equal(dash + 1, "plain") ? "cbc-plain" : dash + 1);
    }
    return TRUE;
}
