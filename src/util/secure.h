/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nv_secure_buf: the one type that holds key material and passphrases.
 *
 * Each buffer has its own anonymous mapping (mmap, never the heap), rounded
 * up to whole pages, so no other allocation shares its pages.  The mapping is
 * locked into RAM where RLIMIT_MEMLOCK allows it (a refused mlock is logged
 * once at info level and otherwise ignored: the key may then be swapped, but
 * is still wiped), excluded from core dumps (MADV_DONTDUMP) and reads as
 * zeros in a forked child (MADV_WIPEONFORK, where the kernel has it).
 *
 * Buffers are reference-counted: nv_secure_buf_ref() shares one buffer
 * instead of copying the key; the last nv_secure_buf_unref() wipes the bytes
 * with explicit_bzero() and unmaps them.  Because pages are never shared,
 * releasing one buffer never unlocks another's memory.  A buffer that has
 * more than one reference is read-only by convention: nobody writes through
 * nv_secure_buf_data() once it is shared.
 *
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

/* A zero-filled buffer of @len bytes, with one reference.  Never fails
 * (aborts on OOM like g_new). */
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

/* Read the regular file @path whole into a new buffer, through open(2) and
 * read(2) only (no stdio buffer holds a copy; the read goes straight into
 * the locked mapping).  Anything but a regular file (a FIFO, a device, a
 * socket, a directory) is refused without opening it for I/O and without
 * blocking: the path is checked with stat(2), opened O_NONBLOCK and checked
 * again with fstat(2).  A file larger than @max_size bytes is refused.
 * Errors are NV_ERROR_BAD_INPUT (NV_ERROR_NOT_FOUND for a missing file), one
 * line naming @path: "PATH: No such file or directory", "PATH: is a FIFO,
 * not a regular file", "PATH: larger than 4194304 bytes". */
nv_secure_buf *nv_secure_buf_read_file(const char *path, gsize max_size, GError **error);

/* Borrowed pointer to the bytes (NUL-terminated, see above). */
guint8 *nv_secure_buf_data(nv_secure_buf *buf);
const guint8 *nv_secure_buf_cdata(const nv_secure_buf *buf);
/* The bytes as a C string, for passphrases. */
const char *nv_secure_buf_str(const nv_secure_buf *buf);
gsize nv_secure_buf_len(const nv_secure_buf *buf);

/* Constant-time comparison of contents (lengths are not secret). */
gboolean nv_secure_buf_equal(const nv_secure_buf *a, const nv_secure_buf *b);

/* Take one more reference to @buf; returns @buf.  Thread-safe. */
nv_secure_buf *nv_secure_buf_ref(nv_secure_buf *buf);

/* Drop one reference; the last one wipes and unmaps the bytes.  NULL is a
 * no-op.  Thread-safe. */
void nv_secure_buf_unref(nv_secure_buf *buf);

/* The same as nv_secure_buf_unref(), kept for existing callers. */
void nv_secure_buf_free(nv_secure_buf *buf);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_secure_buf, nv_secure_buf_unref)

G_END_DECLS
