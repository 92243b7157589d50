/* SPDX-License-Identifier: Apache-2.0 */
/* Key leak scans of real nvirt runs (see key_scan.h). */
#include "key_scan.h"

#include <criterion/criterion.h>
#include <gio/gio.h>
#include <string.h>

void
key_forms_init(key_forms *k, const char *hex_key)
{
    g_autofree char *lower = g_ascii_strdown(hex_key, -1);
    gsize n = strlen(hex_key) / 2;
    g_autofree guint8 *raw = g_malloc(n);

    for (gsize i = 0; i < n; i++)
        raw[i] = (guint8)(g_ascii_xdigit_value(hex_key[2 * i]) << 4 |
                          g_ascii_xdigit_value(hex_key[2 * i + 1]));
    k->config_hex = g_bytes_new(hex_key, strlen(hex_key));
    k->passphrase = g_bytes_new(lower, strlen(lower));
    k->raw = g_bytes_new(raw, n);
}

void
key_forms_clear(key_forms *k)
{
    g_bytes_unref(k->config_hex);
    g_bytes_unref(k->passphrase);
    g_bytes_unref(k->raw);
}

static gboolean
contains(const void *data, gsize len, GBytes *needle)
{
    gsize n = 0;
    const void *p = g_bytes_get_data(needle, &n);

    return memmem(data, len, p, n) != NULL;
}

/* Which key form @data holds, or "" (criterion formats an assertion's
 * message even when it passes, so never NULL). */
const char *
leak_in(const void *data, gsize len, const key_forms *k)
{
    if (contains(data, len, k->config_hex))
        return "the fixed key's hex";
    if (contains(data, len, k->passphrase))
        return "the passphrase";
    if (contains(data, len, k->raw))
        return "the raw key bytes";
    return "";
}

/* strace -xx prints every string, path annotations too, as \xHH: turn a
 * line back into the bytes it stands for. */
static GByteArray *
unescape(const char *line)
{
    GByteArray *out = g_byte_array_new();

    for (const char *p = line; *p;) {
        if (p[0] == '\\' && p[1] == 'x' && g_ascii_isxdigit(p[2]) && g_ascii_isxdigit(p[3])) {
            guint8 b = (guint8)(g_ascii_xdigit_value(p[2]) << 4 | g_ascii_xdigit_value(p[3]));

            g_byte_array_append(out, &b, 1);
            p += 4;
        } else {
            g_byte_array_append(out, (const guint8 *)p, 1);
            p++;
        }
    }
    return out;
}

/* Check one strace log: no execve and no write to a non-socket carries the
 * key.  Fails the test naming the line's syscall and what leaked. */
void
check_trace(const char *log, const key_forms *k, trace_summary *sum)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GRegex) write_re = g_regex_new(
        "^[0-9]+ +(write|pwrite64|writev|pwritev|pwritev2)\\([0-9]+<([^>]*)>", 0, 0, NULL);
    g_autoptr(GRegex) exec_re = g_regex_new("^[0-9]+ +execve\\(", 0, 0, NULL);

    cr_assert(g_file_get_contents(log, &text, NULL, &error), "%s", error ? error->message : "");
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_autoptr(GByteArray) bytes = NULL;
        const char *what;

        if (g_regex_match(exec_re, *l, 0, NULL)) {
            bytes = unescape(*l);
            what = leak_in(bytes->data, bytes->len, k);
            cr_assert_str_empty(what, "%s in an execve (argv or environment)", what);
            sum->execs++;
            continue;
        }
        if (!g_regex_match(write_re, *l, 0, &m))
            continue;
        {
            g_autofree char *syscall = g_match_info_fetch(m, 1);
            g_autofree char *fd_escaped = g_match_info_fetch(m, 2);
            g_autoptr(GByteArray) fd_name = unescape(fd_escaped);
            gboolean is_socket;

            g_byte_array_append(fd_name, (const guint8 *)"", 1);
            is_socket = g_str_has_prefix((const char *)fd_name->data, "socket:");
            bytes = unescape(*l);
            what = leak_in(bytes->data, bytes->len, k);
            if (is_socket) {
                sum->socket_writes++;
                sum->key_on_socket |= contains(bytes->data, bytes->len, k->passphrase);
                continue;
            }
            sum->file_writes++;
            /* A truncated buffer ("..."...) could hide the key. */
            cr_assert_null(strstr(*l, "\"..."), "%s to %s was cut short in the trace", syscall,
                           (const char *)fd_name->data);
            cr_assert_str_empty(what, "%s in a %s to %s", what, syscall,
                                (const char *)fd_name->data);
        }
    }
}

void
run_result_clear(run_result *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* The bytes of a captured stream as a string ("" for none: an empty GBytes
 * has no data pointer). */
static char *
bytes_to_str(GBytes *bytes)
{
    gsize n = 0;
    const char *data = bytes ? g_bytes_get_data(bytes, &n) : NULL;

    return data ? g_strndup(data, n) : g_strdup("");
}

/* Run nvirt --debug ARGS under strace with G_MESSAGES_DEBUG=all; the trace
 * goes to @log. */
void
run_traced(const char *log, const char *const *args, run_result *r)
{
    static const char *const strace[] = {
        "strace", "-f",
        "-qq",    "-xx",
        "-y",     "-v",
        "-s",     "16777216",
        "-e",     "trace=execve,write,pwrite64,writev,pwritev,pwritev2,openat",
        NULL,
    };
    const char *bin = g_getenv("NVIRT_BIN");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GBytes) out = NULL;
    g_autoptr(GBytes) err = NULL;
    g_autoptr(GError) error = NULL;

    cr_assert_not_null(bin, "NVIRT_BIN is not set: run the tests through meson test");
    for (const char *const *a = strace; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, (gpointer) "-o");
    g_ptr_array_add(argv, (gpointer)log);
    g_ptr_array_add(argv, (gpointer) "--");
    g_ptr_array_add(argv, (gpointer)bin);
    g_ptr_array_add(argv, (gpointer) "--debug");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);

    g_subprocess_launcher_setenv(launcher, "G_MESSAGES_DEBUG", "all", TRUE);
    /* In the sanitizer build: LeakSanitizer stops the world with ptrace,
     * which a process strace already traces cannot do (it dies instead). */
    {
        const char *asan = g_getenv("ASAN_OPTIONS");
        g_autofree char *options =
            asan && *asan ? g_strconcat(asan, ":detect_leaks=0", NULL) : g_strdup("detect_leaks=0");

        g_subprocess_launcher_setenv(launcher, "ASAN_OPTIONS", options, TRUE);
    }
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    cr_assert_not_null(proc, "cannot run strace: %s", error ? error->message : "");
    cr_assert(g_subprocess_communicate(proc, NULL, NULL, &out, &err, &error), "%s",
              error ? error->message : "");
    cr_assert(g_subprocess_get_if_exited(proc));
    r->status = g_subprocess_get_exit_status(proc);
    r->out = bytes_to_str(out);
    r->err = bytes_to_str(err);
}

void
assert_output_clean(const run_result *r, const key_forms *k)
{
    const char *what = leak_in(r->out, strlen(r->out), k);

    cr_assert_str_empty(what, "%s on stdout", what);
    what = leak_in(r->err, strlen(r->err), k);
    cr_assert_str_empty(what, "%s on stderr", what);
    /* Debug output was on: the check saw what an operator's --debug shows. */
    cr_assert_not_null(strstr(r->err, "DEBUG"), "no debug output on stderr:\n%s", r->err);
}
