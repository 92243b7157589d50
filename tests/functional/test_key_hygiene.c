/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key hygiene of a real "nvirt attach-volume" / "detach-volume" (DESIGN.md:
 * key material never goes to argv, the environment, logs or files).
 *
 * The CLI runs under strace with every debug switch on (G_MESSAGES_DEBUG=all
 * and --debug), attaching a blank file volume, which nvirt formats as LUKS1
 * with the passphrase and then hands to QEMU through a libvirt secret.  The
 * trace shows every execve (argv and environment) and every write to a file
 * descriptor; none may carry the fixed key (as the config file spells it,
 * in hex), its raw bytes, or the passphrase derived from it.  Writes to
 * sockets are left out: the passphrase goes to libvirtd over RPC
 * (virSecretSetValue), and the test checks that it does, so a trace that
 * could not see the key cannot pass for a clean one.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

/* Upper case, as an operator might write it; the passphrase is lower case. */
#define FIXED_KEY   "8F3A61C2D94E07B5A1C8E3F2096D4B7AE5C10F2B3D8A6E9147C2B5D0F3A8E61C"
#define VOLUME_ID   "22222222-0000-0000-0000-000000000001"
#define VOLUME_SIZE (4 * 1024 * 1024)

#define LUKS_ENCRYPTION                                                                            \
    "{\"provider\": \"luks\", \"control_location\": \"front-end\", "                               \
    "\"cipher\": \"aes-xts-plain64\", \"key_size\": 256, "                                         \
    "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}"

/* The three spellings of the key that must not leak. */
typedef struct {
    GBytes *config_hex; /* FIXED_KEY as written in the file */
    GBytes *passphrase; /* lowercase hex, what QEMU and libcryptsetup get */
    GBytes *raw;        /* the 32 key bytes */
} key_forms;

static void
key_forms_init(key_forms *k)
{
    g_autofree char *lower = g_ascii_strdown(FIXED_KEY, -1);
    guint8 raw[sizeof(FIXED_KEY) / 2];

    for (gsize i = 0; i < sizeof(raw); i++)
        raw[i] = (guint8)(g_ascii_xdigit_value(FIXED_KEY[2 * i]) << 4 |
                          g_ascii_xdigit_value(FIXED_KEY[2 * i + 1]));
    k->config_hex = g_bytes_new(FIXED_KEY, strlen(FIXED_KEY));
    k->passphrase = g_bytes_new(lower, strlen(lower));
    k->raw = g_bytes_new(raw, sizeof(raw));
}

static void
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
static const char *
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

typedef struct {
    guint execs;
    guint file_writes;   /* writes to anything but a socket */
    guint socket_writes; /* writes to a socket */
    gboolean key_on_socket;
} trace_summary;

/* Check one strace log: no execve and no write to a non-socket carries the
 * key.  Fails the test naming the line's syscall and what leaked. */
static void
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

typedef struct {
    int status;
    char *out;
    char *err;
} run_result;

static void
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
static void
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

static void
assert_output_clean(const run_result *r, const key_forms *k)
{
    const char *what = leak_in(r->out, strlen(r->out), k);

    cr_assert_str_empty(what, "%s on stdout", what);
    what = leak_in(r->err, strlen(r->err), k);
    cr_assert_str_empty(what, "%s on stderr", what);
    /* Debug output was on: the check saw what an operator's --debug shows. */
    cr_assert_not_null(strstr(r->err, "DEBUG"), "no debug output on stderr:\n%s", r->err);
}

static gboolean
has_volume_secret(void)
{
    virConnectPtr conn = nv_harness_connect();
    virSecretPtr secret = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_VOLUME, VOLUME_ID);
    gboolean found = secret != NULL;

    if (secret)
        virSecretFree(secret);
    virConnectClose(conn);
    return found;
}

static char *
live_xml(virDomainPtr dom)
{
    char *xml = virDomainGetXMLDesc(dom, 0);

    cr_assert_not_null(xml);
    return xml;
}

Test(key_hygiene, attach_and_detach_keep_the_key_out_of_argv_env_files_and_output)
{
    key_forms keys;
    g_autofree char *conf = nv_harness_path("hygiene.conf");
    g_autofree char *conf_text = g_strdup_printf(
        "[libvirt]\nconnection_uri = %s\n[key_manager]\nfixed_key = " FIXED_KEY "\n",
        nv_harness_uri());
    g_autofree char *volume = nv_harness_path("hygiene.img");
    g_autofree char *ci = nv_harness_path("hygiene-ci.json");
    g_autofree char *enc = nv_harness_path("hygiene-enc.json");
    g_autofree char *ci_text = g_strdup_printf(
        "{\"driver_volume_type\": \"file\", \"serial\": \"%s\", \"data\": {\"volume_id\": "
        "\"%s\", \"device_path\": \"%s\", \"encrypted\": true}}",
        VOLUME_ID, VOLUME_ID, volume);
    g_autofree char *attach_log = nv_harness_path("hygiene-attach.strace");
    g_autofree char *detach_log = nv_harness_path("hygiene-detach.strace");
    virConnectPtr conn = nv_harness_connect();
    virDomainPtr dom = nv_harness_start_domain(conn, "hygiene");
    trace_summary attach = { 0 };
    trace_summary detach = { 0 };
    run_result r = { 0 };
    g_autofree char *xml = NULL;

    key_forms_init(&keys);
    cr_assert(g_file_set_contents(conf, conf_text, -1, NULL));
    cr_assert_eq(g_chmod(conf, 0600), 0);
    cr_assert(g_file_set_contents(ci, ci_text, -1, NULL));
    cr_assert(g_file_set_contents(enc, LUKS_ENCRYPTION, -1, NULL));
    /* Blank: nvirt formats it, so libcryptsetup gets the passphrase too. */
    cr_assert(g_file_set_contents(volume, "", 0, NULL));
    cr_assert_eq(truncate(volume, VOLUME_SIZE), 0);

    {
        const char *args[] = {
            "--config-file", conf, "attach-volume", "hygiene", "-i", ci, "-e", enc, "-m",
            "sdb",           NULL
        };

        run_traced(attach_log, args, &r);
        cr_assert_eq(r.status, 0, "attach failed: %s", r.err);
        assert_output_clean(&r, &keys);
        run_result_clear(&r);
    }
    xml = live_xml(dom);
    cr_assert_not_null(strstr(xml, volume), "the volume is not attached:\n%s", xml);
    cr_assert(has_volume_secret());
    check_trace(attach_log, &keys, &attach);
    cr_assert_geq(attach.execs, 1, "the trace shows no execve: not an strace log?");
    cr_assert_geq(attach.file_writes, 1, "the trace shows no write to a file");
    cr_assert(attach.key_on_socket,
              "the passphrase is in no write to libvirtd's socket: the trace cannot see it");

    {
        const char *args[] = {
            "detach-volume", "hygiene", "--config", conf, "-i", ci, "-e", enc, "-m", "sdb", NULL
        };

        run_traced(detach_log, args, &r);
        cr_assert_eq(r.status, 0, "detach failed: %s", r.err);
        assert_output_clean(&r, &keys);
        run_result_clear(&r);
    }
    cr_assert_not(has_volume_secret());
    check_trace(detach_log, &keys, &detach);
    cr_assert_geq(detach.execs, 1);

    /* The traces hold the passphrase as written to the socket. */
    g_unlink(attach_log);
    g_unlink(detach_log);
    key_forms_clear(&keys);
    virDomainFree(dom);
    virConnectClose(conn);
}
