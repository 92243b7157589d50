/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nv_secure_buf: the one type that holds key material and passphrases.
 *
 * The bytes live in their own allocation, locked into RAM where the kernel
 * allows it, and are wiped with explicit_bzero() when the buffer is freed.
 * The data is always followed by a NUL byte (not counted in the length) so a
 * hex passphrase can be handed to C APIs that take a string.
 *
 * Never copy the bytes into a plain char buffer, a GString, a log message, an
 * XML document, argv, the environment or a file.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct nv_secure_buf nv_secure_buf;

/* A zero-filled buffer of @len bytes.  Never fails (aborts on OOM like g_new). */
nv_secure_buf *nv_secure_buf_new(gsize len);

/* A buffer holding a copy of @len bytes at @data.  The caller wipes @data. */
nv_secure_buf *nv_secure_buf_new_from(const void *data, gsize len);

/* Parse a hex string (either case, even length, no separators) into bytes.
 * @what names the source for the error message ("[key_manager] fixed_key");
 * the message never quotes the input. */
nv_secure_buf *nv_secure_buf_from_hex(const char *hex, const char *what, GError **error);

/* Lowercase ASCII hex of the bytes: the passphrase Nova and os-brick derive
 * from a volume key.  Length is 2 * nv_secure_buf_len(@buf). */
nv_secure_buf *nv_secure_buf_to_hex(const nv_secure_buf *buf);

/* Borrowed pointer to the bytes (NUL-terminated, see above). */
guint8 *nv_secure_buf_data(nv_secure_buf *buf);
const guint8 *nv_secure_buf_cdata(const nv_secure_buf *buf);
/* The bytes as a C string, for passphrases. */
const char *nv_secure_buf_str(const nv_secure_buf *buf);
gsize nv_secure_buf_len(const nv_secure_buf *buf);

/* Constant-time comparison of contents (lengths are not secret). */
gboolean nv_secure_buf_equal(const nv_secure_buf *a, const nv_secure_buf *b);

/* Wipe and free.  NULL is a no-op. */
void nv_secure_buf_free(nv_secure_buf *buf);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_secure_buf, nv_secure_buf_free)

G_END_DECLS
