/* SPDX-License-Identifier: Apache-2.0 */
#include "virt/libvirt/volume_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "nvirt/error.h"

/* How often a waiter tries the lock again. */
#define LOCK_POLL_US (20 * 1000)

struct nv_volume_lock {
    int fd;
    char *path;
};

static gboolean
is_plain_id(const char *volume_id)
{
    if (!*volume_id || strcmp(volume_id, ".") == 0 || strcmp(volume_id, "..") == 0)
        return FALSE;
    for (const char *p = volume_id; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    }
    return strlen(volume_id) <= 128;
}

char *
nv_volume_lock_file_name(const char *volume_id)
{
    g_autofree char *safe = NULL;
    g_autofree char *digest = NULL;

    g_return_val_if_fail(volume_id != NULL, NULL);
    if (is_plain_id(volume_id))
        return g_strconcat("nvirt-volume-", volume_id, NULL);
    safe = g_strndup(volume_id, 64);
    for (char *p = safe; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
            *p = '_';
    }
    digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, volume_id, -1);
    return g_strdup_printf("nvirt-volume-%s-%s", safe, digest);
}

nv_volume_lock *
nv_volume_lock_acquire(const char *lock_dir, const char *volume_id, guint timeout_ms,
                       GError **error)
{
    g_autofree char *name = NULL;
    g_autofree char *path = NULL;
    nv_volume_lock *lock;
    gint64 deadline;
    int fd;

    g_return_val_if_fail(lock_dir != NULL && volume_id != NULL, NULL);
    if (g_mkdir_with_parents(lock_dir, 0700) < 0) {
        int err = errno;

        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "volume %s: cannot create the lock directory '%s': %s", volume_id, lock_dir,
                    g_strerror(err));
        return NULL;
    }
    name = nv_volume_lock_file_name(volume_id);
    path = g_build_filename(lock_dir, name, NULL);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int err = errno;

        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "volume %s: cannot open lock file '%s': %s",
                    volume_id, path, g_strerror(err));
        return NULL;
    }

    /* Polling instead of a blocking flock(): a blocking one cannot be given
     * a deadline without a signal, and a library does not arm timers in its
     * caller's process. */
    deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;

        if (err == EINTR)
            continue;
        if (err != EWOULDBLOCK) {
            g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "volume %s: cannot lock '%s': %s",
                        volume_id, path, g_strerror(err));
            close(fd);
            return NULL;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, NV_ERROR, NV_ERROR_BUSY,
                        "volume %s: another operation on it holds '%s'; gave up after %u s",
                        volume_id, path, timeout_ms / 1000);
            close(fd);
            return NULL;
        }
        g_usleep(LOCK_POLL_US);
    }
    g_debug("volume %s: locked '%s'", volume_id, path);
    lock = g_new0(nv_volume_lock, 1);
    lock->fd = fd;
    lock->path = g_steal_pointer(&path);
    return lock;
}

void
nv_volume_lock_release(nv_volume_lock *lock)
{
    if (!lock)
        return;
    /* Closing the only descriptor of the open file description drops the
     * flock. */
    close(lock->fd);
    g_free(lock->path);
    g_free(lock);
}
