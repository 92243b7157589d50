/* SPDX-License-Identifier: Apache-2.0 */
/* Reading one INI file without copies of its keys (see ini.h). */
#include "conf/ini.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nvirt/error.h"

/* What a key option's value is replaced with; N is its index in keys. */
#define PLACEHOLDER_PREFIX "nvirt-secret-"

/* ------------------------------------------------------------------------ */
/* Scrubbing key values out of the text                                      */
/* ------------------------------------------------------------------------ */

static const char *
match_key_name(const char *name, gsize len, const char *const *key_names)
{
    for (gsize i = 0; key_names[i]; i++) {
        if (strlen(key_names[i]) == len && g_ascii_strncasecmp(name, key_names[i], len) == 0)
            return key_names[i];
    }
    return NULL;
}

static const char *
prefix_key_name(const char *line, gsize len, const char *const *key_names)
{
    for (gsize i = 0; key_names[i]; i++) {
        gsize n = strlen(key_names[i]);

        if (n <= len && g_ascii_strncasecmp(line, key_names[i], n) == 0)
            return key_names[i];
    }
    return NULL;
}

/* Where the value of "KEY = VALUE" starts and how long it is, for the text
 * after the '=' up to @end (the line's end, trailing blanks stripped), by
 * iniparser 4.1's iniparser_line(): a value in double or single quotes is
 * the text up to the closing quote (or the end of the line) as written;
 * otherwise the text up to the first ';' or '#', blanks stripped, with ""
 * and '' meaning empty. */
static void
value_span(const char *v, const char *end, const char **start, gsize *len)
{
    const char *stop;

    while (v < end && g_ascii_isspace(*v))
        v++;
    if (v < end && (*v == '"' || *v == '\'')) {
        const char *q = v + 1;
        const char *close = memchr(q, *v, (gsize)(end - q));

        stop = close ? close : end;
        if (stop > q) {
            *start = q;
            *len = (gsize)(stop - q);
            return;
        }
        /* An empty quoted value falls through to the unquoted rule. */
    }
    stop = v;
    while (stop < end && *stop != ';' && *stop != '#')
        stop++;
    while (stop > v && g_ascii_isspace(stop[-1]))
        stop--;
    if (stop - v == 2 && (memcmp(v, "\"\"", 2) == 0 || memcmp(v, "''", 2) == 0))
        stop = v;
    *start = v;
    *len = (gsize)(stop - v);
}

/* Append one line of the text (without its newline) to @out, with a key
 * option's value moved into @keys. */
static gboolean
scrub_line(const char *line, gsize line_len, guint lineno, const char *path,
           const char *const *key_names, GString *out, GPtrArray *keys, GError **error)
{
    const char *s = line;
    const char *end = line + line_len;
    const char *eq;
    const char *name_end;
    const char *name;
    const char *value;
    gsize value_len;

    while (s < end && g_ascii_isspace(*s))
        s++;
    while (end > s && g_ascii_isspace(end[-1]))
        end--;
    /* Blank lines, comments and section headers, as iniparser tells them. */
    if (s == end || *s == '#' || *s == ';' || (*s == '[' && end[-1] == ']')) {
        g_string_append_len(out, line, (gssize)line_len);
        return TRUE;
    }

    eq = memchr(s, '=', (gsize)(end - s));
    if (!eq) {
        /* "fixed_key 0011..." is a syntax error: keep the error, at the
         * same line, without the text after the name. */
        name = prefix_key_name(s, (gsize)(end - s), key_names);
        if (name)
            g_string_append(out, name);
        else
            g_string_append_len(out, line, (gssize)line_len);
        return TRUE;
    }

    name_end = eq;
    while (name_end > s && g_ascii_isspace(name_end[-1]))
        name_end--;
    name = match_key_name(s, (gsize)(name_end - s), key_names);
    if (!name) {
        g_string_append_len(out, line, (gssize)line_len);
        return TRUE;
    }
    if (end[-1] == '\\') {
        /* iniparser would join the next line to the value. */
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                    "%s:%u: %s: a key cannot continue on the next line", path, lineno, name);
        return FALSE;
    }

    value_span(eq + 1, end, &value, &value_len);
    g_string_append_printf(out, "%s = " PLACEHOLDER_PREFIX "%u", name, keys->len);
    g_ptr_array_add(keys, nv_secure_buf_new_from(value, value_len));
    return TRUE;
}

/* The text of @raw with every key value replaced by a placeholder; the
 * values go to @keys.  Line numbers stay as they are. */
static GString *
scrub(const nv_secure_buf *raw, const char *path, const char *const *key_names, GPtrArray *keys,
      GError **error)
{
    g_autoptr(GString) out = g_string_sized_new(nv_secure_buf_len(raw) + 1);
    const char *p = nv_secure_buf_str(raw);
    const char *end = p + nv_secure_buf_len(raw);
    guint lineno = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        const char *line_end = nl ? nl : end;

        if (!scrub_line(p, (gsize)(line_end - p), ++lineno, path, key_names, out, keys, error))
            return NULL;
        if (nl)
            g_string_append_c(out, '\n');
        p = nl ? nl + 1 : end;
    }
    return g_steal_pointer(&out);
}

/* ------------------------------------------------------------------------ */
/* iniparser                                                                 */
/* ------------------------------------------------------------------------ */

/* iniparser reports errors through one process-wide callback, so loads are
 * serialised and the first error of the current load is kept here. */
G_LOCK_DEFINE_STATIC(iniparser_lock);
static const char *ini_error_file;
static char *ini_error;

static int
capture_ini_error(const char *fmt, ...)
{
    va_list ap;
    int line = 0;

    if (ini_error)
        return 0;
    /* Take apart iniparser 4.1's own formats rather than printing them: they
     * name the memfd, not the file, and span two lines. */
    va_start(ap, fmt);
    if (strstr(fmt, "syntax error") || strstr(fmt, "line too long")) {
        (void)va_arg(ap, const char *);
        line = va_arg(ap, int);
    }
    va_end(ap);

    if (strstr(fmt, "syntax error"))
        ini_error = g_strdup_printf("%s:%d: syntax error", ini_error_file, line);
    else if (strstr(fmt, "line too long"))
        ini_error = g_strdup_printf("%s:%d: line too long", ini_error_file, line);
    else if (strstr(fmt, "cannot open"))
        ini_error = g_strdup_printf("%s: cannot open", ini_error_file);
    else if (strstr(fmt, "memory"))
        ini_error = g_strdup_printf("%s: out of memory", ini_error_file);
    else
        ini_error = g_strdup_printf("%s: cannot parse", ini_error_file);
    return 0;
}

/* Parse @text with iniparser 4.1, which reads only from a path: hand it a
 * memfd holding the scrubbed text (no key in it). */
static dictionary *
parse(const GString *text, const char *path, GError **error)
{
    g_autofree char *fd_path = NULL;
    dictionary *dict;
    gsize done = 0;
    int fd;

    fd = memfd_create("nvirt-conf", MFD_CLOEXEC);
    if (fd < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: cannot parse: memfd_create: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    while (done < text->len) {
        ssize_t n = write(fd, text->str + done, text->len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;

            close(fd);
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: cannot parse: %s", path,
                        g_strerror(err));
            return NULL;
        }
        done += (gsize)n;
    }
    fd_path = g_strdup_printf("/proc/self/fd/%d", fd);

    G_LOCK(iniparser_lock);
    ini_error_file = path;
    iniparser_set_error_callback(capture_ini_error);
    dict = iniparser_load(fd_path);
    /* iniparser 4.1 cannot tell us the callback it had, so this restores its
     * default (print to stderr); see the note in include/nvirt/nvirt.h. */
    iniparser_set_error_callback(NULL);
    if (!dict) {
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s", ini_error ? ini_error : "cannot parse");
    } else if (ini_error) {
        /* iniparser 4.1 returns NULL on errors; be safe if one does not. */
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s", ini_error);
        iniparser_freedict(dict);
        dict = NULL;
    }
    g_clear_pointer(&ini_error, g_free);
    ini_error_file = NULL;
    G_UNLOCK(iniparser_lock);
    close(fd);
    return dict;
}

/* Every key option in @file->ini must hold one of the placeholders; if the
 * scrubber missed a spelling, wipe the value iniparser copied and fail. */
static gboolean
check_no_key_leaked(nv_ini_file *file, const char *const *key_names, GError **error)
{
    for (ssize_t i = 0; i < file->ini->size; i++) {
        const char *entry = file->ini->key[i];
        char *value = file->ini->val[i];
        const char *colon = entry ? strchr(entry, ':') : NULL;

        if (!colon || !value || !match_key_name(colon + 1, strlen(colon + 1), key_names))
            continue;
        if (nv_ini_file_key(file, value))
            continue;
        explicit_bzero(value, strlen(value));
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                    "%s: [%.*s] %s: cannot be read safely; write it on one line as %s = HEX",
                    file->path, (int)(colon - entry), entry, colon + 1, colon + 1);
        return FALSE;
    }
    return TRUE;
}

nv_ini_file *
nv_ini_file_load(const char *path, const char *const *key_names, gsize max_size, GError **error)
{
    g_autoptr(nv_ini_file) file = g_new0(nv_ini_file, 1);
    g_autoptr(nv_secure_buf) raw = NULL;
    g_autoptr(GString) text = NULL;
    g_autoptr(GError) local = NULL;

    file->path = g_strdup(path);
    file->keys = g_ptr_array_new_with_free_func((GDestroyNotify)nv_secure_buf_unref);

    raw = nv_secure_buf_read_file(path, max_size, &local);
    if (!raw) {
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s", local->message);
        return NULL;
    }
    if (strlen(nv_secure_buf_str(raw)) != nv_secure_buf_len(raw)) {
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "%s: contains a NUL byte", path);
        return NULL;
    }
    text = scrub(raw, path, key_names, file->keys, error);
    if (!text)
        return NULL;
    file->ini = parse(text, path, error);
    if (!file->ini || !check_no_key_leaked(file, key_names, error))
        return NULL;
    return g_steal_pointer(&file);
}

nv_secure_buf *
nv_ini_file_key(const nv_ini_file *file, const char *value)
{
    guint64 n;

    if (!value || !g_str_has_prefix(value, PLACEHOLDER_PREFIX))
        return NULL;
    if (!g_ascii_string_to_unsigned(value + strlen(PLACEHOLDER_PREFIX), 10, 0,
                                    file->keys->len ? file->keys->len - 1 : 0, &n, NULL) ||
        file->keys->len == 0)
        return NULL;
    return g_ptr_array_index(file->keys, (guint)n);
}

void
nv_ini_file_free(nv_ini_file *file)
{
    if (!file)
        return;
    if (file->ini)
        iniparser_freedict(file->ini);
    if (file->keys)
        g_ptr_array_unref(file->keys);
    g_free(file->path);
    g_free(file);
}
