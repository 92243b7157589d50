/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading, locking and writing a volume for the probe and the format
 * (luks_format.c, luks_ensure.c): exclusive access, zero checks, and the
 * qcow2 header fields the safe format looks at.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encryptors/luks_priv.h"
#include "nvirt/error.h"

#define READ_CHUNK (1024 * 1024)
/* How long to wait for a volume lock another process holds. */
#define LOCK_WAIT_MS 2000
#define LOCK_POLL_MS 20

/* The qcow2 header's fixed fields (QEMU docs/interop/qcow2.txt), big
 * endian: magic at 0, version at 4, crypt_method at 32 (0 none, 1 AES, 2
 * LUKS). */
#define QCOW2_HEADER_LEN          36
#define QCOW2_VERSION_OFFSET      4
#define QCOW2_CRYPT_METHOD_OFFSET 32
#define QCOW2_CRYPT_LUKS          2

/* Callee messages name the path ("volume PATH: ..."); name the volume too. */
void
nv_luks_name_volume(const char *volume_id, const char *path, GError **error)
{
    const char *msg;
    char *named;

    if (!error || !*error || g_str_equal(volume_id, path))
        return;
    msg = (*error)->message;
    if (g_str_has_prefix(msg, "volume "))
        msg += strlen("volume ");
    named = g_strdup_printf("volume %s: %s", volume_id, msg);
    g_free((*error)->message);
    (*error)->message = named;
}

gboolean
nv_luks_read_at(const char *path, int fd, void *buf, gsize len, guint64 offset, GError **error)
{
    gsize done = 0;

    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot read it: %s", path,
                        g_strerror(errno));
            return FALSE;
        }
        if (n == 0) {
            /* Short: the rest reads as zeros to the caller. */
            memset((char *)buf + done, 0, len - done);
            break;
        }
        done += (gsize)n;
    }
    return TRUE;
}

gboolean
nv_luks_has_qcow2_magic(const char *path, int fd, gboolean *is_qcow2, GError **error)
{
    guint8 magic[4];

    if (!nv_luks_read_at(path, fd, magic, sizeof(magic), 0, error))
        return FALSE;
    *is_qcow2 = memcmp(magic, NV_QCOW2_MAGIC, sizeof(magic)) == 0;
    return TRUE;
}

int
nv_luks_open_volume(const char *path, int flags, GError **error)
{
    struct stat st;
    int fd;

    do
        fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int err = errno;

        if (err == EBUSY)
            g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                        "volume %s is in use by another process (mounted, mapped or opened "
                        "exclusively)",
                        path);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot open it: %s", path,
                        g_strerror(err));
        return -1;
    }
    /* The checks on the path were on whatever it named then: check what was
     * opened. */
    if (fstat(fd, &st) < 0 || (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))) {
        close(fd);
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT,
                    "volume %s: cannot probe it: not a block device or regular file", path);
        return -1;
    }
    return fd;
}

gboolean
nv_luks_volume_size(const char *volume_id, const char *path, int fd, guint64 *size, GError **error)
{
    struct stat st;

    if (fstat(fd, &st) < 0 || (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, size) < 0)) {
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot read the size of %s: %s",
                    volume_id, path, g_strerror(errno));
        return FALSE;
    }
    if (S_ISREG(st.st_mode))
        *size = (guint64)st.st_size;
    return TRUE;
}

/* Whether [@start, @end) of @fd reads as zeros. */
gboolean
nv_luks_region_is_zero(const char *path, int fd, guint64 start, guint64 end, gboolean *zero,
                       GError **error)
{
    g_autofree guint8 *buf = g_malloc(READ_CHUNK);

    *zero = TRUE;
    for (guint64 at = start; at < end && *zero; at += READ_CHUNK) {
        gsize len = (gsize)MIN((guint64)READ_CHUNK, end - at);

        if (!nv_luks_read_at(path, fd, buf, len, at, error))
            return FALSE;
        for (gsize i = 0; i < len; i++) {
            if (buf[i]) {
                *zero = FALSE;
                break;
            }
        }
    }
    return TRUE;
}

/* An OFD lock of @type over the whole volume.  Our own format holds the
 * write lock only while it writes and reads back the header (milliseconds),
 * so a short bounded wait rides that out; QEMU holds shared locks on the
 * images it has open for as long as it runs, which conflict with the write
 * lock only: past the wait that is "locked by another process". */
static gboolean
lock_volume(const char *volume_id, const char *path, int fd, short type, GError **error)
{
    struct flock lock = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };

    for (int tries = LOCK_WAIT_MS / LOCK_POLL_MS;; tries--) {
        int err;

        if (fcntl(fd, F_OFD_SETLK, &lock) == 0)
            return TRUE;
        err = errno;
        if ((err == EAGAIN || err == EACCES) && tries > 0) {
            g_usleep(LOCK_POLL_MS * 1000);
            continue;
        }
        if (err == EAGAIN || err == EACCES)
            g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                        "volume %s: %s is locked by another process", volume_id, path);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "volume %s: cannot lock %s: %s",
                        volume_id, path, g_strerror(err));
        return FALSE;
    }
}

/* The volume open for reading, with a shared OFD lock: what it reads is not
 * in the middle of somebody's format.  Returns the fd or -1. */
int
nv_luks_open_shared(const char *volume_id, const char *path, GError **error)
{
    int fd = nv_luks_open_volume(path, O_RDONLY, error);

    if (fd < 0) {
        nv_luks_name_volume(volume_id, path, error);
        return -1;
    }
    if (!lock_volume(volume_id, path, fd, F_RDLCK, error)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Exclusive access for writing: O_EXCL for a block device (the kernel's
 * claim: fails while mounted, mapped or claimed) and an OFD write lock over
 * the whole volume (conflicts with the locks QEMU holds on the images it
 * has open, and with nv_luks_open_shared()).  Returns the fd or -1; closing it
 * releases both. */
int
nv_luks_open_exclusive(const char *volume_id, const char *path, GError **error)
{
    struct stat st;
    int flags = O_RDWR;
    int fd;

    if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
        flags |= O_EXCL;
    fd = nv_luks_open_volume(path, flags, error);
    if (fd < 0) {
        nv_luks_name_volume(volume_id, path, error);
        return -1;
    }
    if (!lock_volume(volume_id, path, fd, F_WRLCK, error)) {
        close(fd);
        return -1;
    }
    return fd;
}

gboolean
nv_luks_write_at(const char *volume_id, const char *path, int fd, const void *data, gsize len,
                 guint64 offset, GError **error)
{
    gsize done = 0;

    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)data + done, len - done, (off_t)(offset + done));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot write to %s: %s",
                        volume_id, path, n < 0 ? g_strerror(errno) : "short write");
            return FALSE;
        }
        done += (gsize)n;
    }
    if (fsync(fd) < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_CRYPT, "volume %s: cannot flush %s: %s", volume_id,
                    path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static guint32
read_be32(const guint8 *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

/* qcow2: only ever accepted, when QEMU itself decrypts it (crypt_method
 * LUKS), never formatted. */
gboolean
nv_luks_check_qcow2_luks(const char *volume_id, const char *path, GError **error)
{
    guint8 header[QCOW2_HEADER_LEN];
    guint32 version, method;
    int fd = nv_luks_open_volume(path, O_RDONLY, error);
    gboolean ok;

    if (fd < 0) {
        nv_luks_name_volume(volume_id, path, error);
        return FALSE;
    }
    ok = nv_luks_read_at(path, fd, header, sizeof(header), 0, error);
    close(fd);
    if (!ok) {
        nv_luks_name_volume(volume_id, path, error);
        return FALSE;
    }
    if (memcmp(header, NV_QCOW2_MAGIC, 4) != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: %s is not a qcow2 image: refusing it", volume_id, path);
        return FALSE;
    }
    version = read_be32(header + QCOW2_VERSION_OFFSET);
    method = read_be32(header + QCOW2_CRYPT_METHOD_OFFSET);
    if ((version != 2 && version != 3) || method != QCOW2_CRYPT_LUKS) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNSUPPORTED,
                    "volume %s: %s is a qcow2 image (version %u) without LUKS encryption "
                    "(crypt_method %u): refusing it",
                    volume_id, path, version, method);
        return FALSE;
    }
    return TRUE;
}
