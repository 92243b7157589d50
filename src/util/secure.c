/* SPDX-License-Identifier: Apache-2.0 */
#include "util/secure.h"

#include <string.h>
#include <sys/mman.h>

#include "nvirt/error.h"

struct nv_secure_buf {
    gsize len;
    gboolean locked;
    guint8 *data; /* len + 1 bytes, last one NUL */
};

nv_secure_buf *
nv_secure_buf_new(gsize len)
{
    nv_secure_buf *buf = g_new0(nv_secure_buf, 1);

    buf->len = len;
    buf->data = g_malloc0(len + 1);
    /* Best effort: an unprivileged caller may hit RLIMIT_MEMLOCK.  Failing to
     * lock only means the page could be swapped; the wipe still happens. */
    buf->locked = mlock(buf->data, len + 1) == 0;
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

void
nv_secure_buf_free(nv_secure_buf *buf)
{
    if (!buf)
        return;
    explicit_bzero(buf->data, buf->len + 1);
    if (buf->locked)
        munlock(buf->data, buf->len + 1);
    g_free(buf->data);
    g_free(buf);
}
