/* SPDX-License-Identifier: Apache-2.0 */
/* libcryptsetup plumbing shared by the probe/format and the encryptors. */
#include "encryptors/crypt_util.h"

#include <string.h>

#include "nvirt/error.h"

/* Messages logged before a handle exists (crypt_init) go to the global
 * callback, which has no user pointer: find the collector through a
 * thread-local instead. */
static _Thread_local nv_crypt_log *current_log;

static void
log_cb(int level, const char *msg, void *usrptr)
{
    nv_crypt_log *log = usrptr ? usrptr : current_log;
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
    static gsize once;

    if (g_once_init_enter(&once)) {
        /* The default global callback prints to stderr. */
        crypt_set_log_callback(NULL, log_cb, NULL);
        g_once_init_leave(&once, 1);
    }
    log->last_error = NULL;
    current_log = log;
}

void
nv_crypt_log_end(nv_crypt_log *log)
{
    current_log = NULL;
    g_clear_pointer(&log->last_error, g_free);
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
    crypt_set_log_callback(cd, log_cb, log);
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
    crypt_set_log_callback(cd, log_cb, log);
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
