/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One configuration file, read so that key material never leaves secure
 * memory (private to the conf module).
 *
 * iniparser 4.1 reads through stdio (the FILE buffer holds the whole file
 * and is freed unwiped), copies lines into stack buffers it never clears and
 * frees replaced values unwiped.  So it never sees a key:
 *
 *  1. the file is read with open/read into an nv_secure_buf
 *     (nv_secure_buf_read_file: regular files only, bounded size);
 *  2. every line that sets a key option (fixed_key, in any section) is
 *     rewritten as "fixed_key = nvirt-secret-N" in a plain copy of the text,
 *     and its value is copied into nv_secure_buf number N;
 *  3. iniparser parses the scrubbed copy (from a memfd) and decides, as for
 *     every other option, which section a line is in and which line wins;
 *     the loader then swaps the placeholder it finds back for buffer N.
 *
 * Only step 2 reads INI syntax outside iniparser, and only to find where a
 * key's value starts and ends on its line, by iniparser 4.1's own rules
 * (quotes, inline ';'/'#' comments).  A key option whose dictionary value is
 * not a placeholder (the scrubber missed it) is an error, never a key.
 */
#pragma once

#include <glib.h>
#include <iniparser/iniparser.h>

#include "util/secure.h"

G_BEGIN_DECLS

typedef struct {
    char *path;      /* as given, for messages */
    dictionary *ini; /* iniparser's view; holds placeholders, never key values */
    GPtrArray *keys; /* nv_secure_buf *: the value text of placeholder N */
} nv_ini_file;

/* Read and parse @path.  @key_names (NULL-terminated, compared without case)
 * are the option names whose values are keys.  Errors are NV_ERROR_CONFIG,
 * one line naming @path (and the line, for syntax errors). */
nv_ini_file *nv_ini_file_load(const char *path, const char *const *key_names, gsize max_size,
                              GError **error);

/* The secure value text a key option's dictionary @value stands for
 * (borrowed), or NULL when @value is not one of this file's placeholders. */
nv_secure_buf *nv_ini_file_key(const nv_ini_file *file, const char *value);

void nv_ini_file_free(nv_ini_file *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_ini_file, nv_ini_file_free)

G_END_DECLS
