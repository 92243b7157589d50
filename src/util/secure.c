/* SPDX-License-Identifier: Apache-2.0 */
#include "util/secure.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvirt/error.h"

/* The header holds no secret and lives on the heap; the bytes have a mapping
 * of their own (see secure.h). */
struct nv_secure_buf {
    gatomicrefcount refs;
    gsize len;
    gsize map_len; /* whole pages, > len */
    guint8 *data;  /* start of the mapping; data[len] is NUL */
    gboolean locked;
};

static gsize
page_size(void)
{
    static gsize size;

    if (g_once_init_enter(&size)) {
        long n = sysconf(_SC_PAGESIZE);

        g_once_init_leave(&size, n > 0 ? (gsize)n : 4096);
    }
    return size;
}

/* Say once per process that keys may be swapped, then stay quiet: every
 * later buffer would fail the same way. */
static void
note_lock_failure(int err)
{
    static gint reported;

    if (g_atomic_int_compare_and_exchange(&reported, 0, 1))
        g_info("cannot lock key memory (%s; see RLIMIT_MEMLOCK): keys may be swapped out, "
               "they are still wiped after use",
               g_strerror(err));
}

nv_secure_buf *
nv_secure_buf_new(gsize len)
{
    gsize page = page_size();
    nv_secure_buf *buf;
    void *map;

    if (len >= G_MAXSIZE - page)
        g_error("nv_secure_buf_new: %" G_GSIZE_FORMAT " bytes is too large", len);

    buf = g_new0(nv_secure_buf, 1);
    g_atomic_ref_count_init(&buf->refs);
    buf->len = len;
    buf->map_len = (len + 1 + page - 1) / page * page;
    map = mmap(NULL, buf->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        g_error("nv_secure_buf_new: cannot map %" G_GSIZE_FORMAT " bytes: %s", buf->map_len,
                g_strerror(errno));
    buf->data = map;

    /* Keep the bytes out of core dumps and out of forked children before
     * anything is written to them.  Both are advice the kernel may lack (old
     * kernels have no MADV_WIPEONFORK); the wipe at unref still happens. */
    if (madvise(map, buf->map_len, MADV_DONTDUMP) != 0)
        g_debug("madvise(MADV_DONTDUMP) failed: %s", g_strerror(errno));
#ifdef MADV_WIPEONFORK
    if (madvise(map, buf->map_len, MADV_WIPEONFORK) != 0)
        g_debug("madvise(MADV_WIPEONFORK) failed: %s", g_strerror(errno));
#endif
    /* An unprivileged caller may hit RLIMIT_MEMLOCK: degrade, do not fail. */
    buf->locked = mlock(map, buf->map_len) == 0;
    if (!buf->locked)
        note_lock_failure(errno);
    return buf;
}

nv_secure_buf *
nv_secure_buf_new_from(const void *data, gsize len)
{
    nv_secure_buf *buf = nv_secure_buf_new(len);

    if (len > 0)
        memcpy(buf->data, data, len);
    return buf;
}

nv_secure_buf *
nv_secure_buf_from_hex(const char *hex, const char *what, GError **error)
{
    gsize hexlen = hex ? strlen(hex) : 0;
    g_autoptr(nv_secure_buf) buf = NULL;

    if (hexlen == 0 || hexlen % 2 != 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%s: expected an even number of hex digits", what);
        return NULL;
    }

    buf = nv_secure_buf_new(hexlen / 2);
    for (gsize i = 0; i < hexlen; i += 2) {
        int hi = g_ascii_xdigit_value(hex[i]);
        int lo = g_ascii_xdigit_value(hex[i + 1]);

        if (hi < 0 || lo < 0) {
            /* Do not echo the input: it is key material. */
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                        "%s: not a hex string (bad digit at offset %" G_GSIZE_FORMAT ")", what,
                        hi < 0 ? i : i + 1);
            return NULL;
        }
        buf->data[i / 2] = (guint8)((hi << 4) | lo);
    }
    return g_steal_pointer(&buf);
}

nv_secure_buf *
nv_secure_buf_to_hex(const nv_secure_buf *buf)
{
    static const char digits[] = "0123456789abcdef";
    nv_secure_buf *hex = nv_secure_buf_new(buf->len * 2);

    for (gsize i = 0; i < buf->len; i++) {
        hex->data[2 * i] = (guint8)digits[buf->data[i] >> 4];
        hex->data[2 * i + 1] = (guint8)digits[buf->data[i] & 0x0f];
    }
    return hex;
}

/* What a non-regular file is, for "PATH: is a FIFO, not a regular file". */
static const char *
file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

static gboolean
check_regular(const char *path, const struct stat *st, gsize max_size, GError **error)
{
    if (S_ISDIR(st->st_mode)) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: %s", path, g_strerror(EISDIR));
        return FALSE;
    }
    if (!S_ISREG(st->st_mode)) {
        const char *kind = file_kind(st->st_mode);

        if (g_str_has_prefix(kind, "a "))
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: is %s, not a regular file", path,
                        kind);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "%s: %s", path, kind);
        return FALSE;
    }
    if (st->st_size < 0 || (guint64)st->st_size > max_size) {
        g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                    "%s: larger than %" G_GSIZE_FORMAT " bytes", path, max_size);
        return FALSE;
    }
    return TRUE;
}

static void
set_errno_error(GError **error, const char *path, int err)
{
    g_set_error(error, NV_ERROR, err == ENOENT ? NV_ERROR_NOT_FOUND : NV_ERROR_BAD_INPUT, "%s: %s",
                path, g_strerror(err));
}

/* A buffer of @cap bytes holding the first @used bytes of @old, which is
 * released. */
static nv_secure_buf *
grow(nv_secure_buf *old, gsize used, gsize cap)
{
    nv_secure_buf *buf = nv_secure_buf_new(cap);

    memcpy(buf->data, old->data, used);
    nv_secure_buf_unref(old);
    return buf;
}

nv_secure_buf *
nv_secure_buf_read_file(const char *path, gsize max_size, GError **error)
{
    g_autoptr(nv_secure_buf) buf = NULL;
    struct stat st;
    gsize used = 0;
    int fd;

    /* stat first, so a device is never opened (opening one can have effects
     * of its own), then fstat what was opened, in case the path changed. */
    if (stat(path, &st) != 0) {
        set_errno_error(error, path, errno);
        return NULL;
    }
    if (!check_regular(path, &st, max_size, error))
        return NULL;
    /* O_NONBLOCK: a FIFO swapped in after the stat must not block the open. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        set_errno_error(error, path, errno);
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !check_regular(path, &st, max_size, error)) {
        if (error && !*error)
            set_errno_error(error, path, errno);
        close(fd);
        return NULL;
    }

    /* One byte more than the file claims, to see whether it grew. */
    buf = nv_secure_buf_new((gsize)st.st_size + 1);
    for (;;) {
        ssize_t n;

        if (used == buf->len) {
            if (buf->len > max_size) {
                close(fd);
                g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT,
                            "%s: larger than %" G_GSIZE_FORMAT " bytes", path, max_size);
                return NULL;
            }
            buf = grow(buf, used, MIN(buf->len * 2, max_size + 1));
        }
        n = read(fd, buf->data + used, buf->len - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;

            close(fd);
            set_errno_error(error, path, err);
            return NULL;
        }
        if (n == 0)
            break;
        used += (gsize)n;
    }
    close(fd);
    /* Shorten to what was read; the bytes past it are zero (a fresh mapping)
     * and the whole mapping is wiped at unref anyway. */
    buf->len = used;
    buf->data[used] = '\0';
    return g_steal_pointer(&buf);
}

guint8 *
nv_secure_buf_data(nv_secure_buf *buf)
{
    return buf->data;
}

const guint8 *
nv_secure_buf_cdata(const nv_secure_buf *buf)
{
    return buf->data;
}

const char *
nv_secure_buf_str(const nv_secure_buf *buf)
{
    return (const char *)buf->data;
}

gsize
nv_secure_buf_len(const nv_secure_buf *buf)
{
    return buf->len;
}

gboolean
nv_secure_buf_equal(const nv_secure_buf *a, const nv_secure_buf *b)
{
    guint8 diff = 0;

    if (a->len != b->len)
        return FALSE;
    for (gsize i = 0; i < a->len; i++)
        diff |= a->data[i] ^ b->data[i];
    return diff == 0;
}

nv_secure_buf *
nv_secure_buf_ref(nv_secure_buf *buf)
{
    g_atomic_ref_count_inc(&buf->refs);
    return buf;
}

void
nv_secure_buf_unref(nv_secure_buf *buf)
{
    if (!buf || !g_atomic_ref_count_dec(&buf->refs))
        return;
    explicit_bzero(buf->data, buf->map_len);
    /* munmap drops the lock with the pages; no munlock, which on a shared
     * page would have unlocked other buffers too. */
    munmap(buf->data, buf->map_len);
    g_free(buf);
}

void
nv_secure_buf_free(nv_secure_buf *buf)
{
    nv_secure_buf_unref(buf);
}
