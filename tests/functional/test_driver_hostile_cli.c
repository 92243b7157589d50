/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile input to the real CLI against the private libvirtd (issue 12):
 * one table, one test case per input.  For each, "nvirt attach-volume" of
 * an existing LUKS volume to a running domain must
 *   - exit 1 or 2 (not crash, not hang: it runs under timeout(1) with
 *     SIGKILL after HOSTILE_TIMEOUT_S, which shows as exit 137 and fails
 *     the case; no timing is asserted);
 *   - print exactly one line on stderr, naming the object (the file, the
 *     volume, the mountpoint, the document);
 *   - draw no sanitizer report (in the sanitizer build);
 *   - change nothing on the host: the secrets, the domain's live and
 *     persistent XML, the volume's sha256.
 * The offline parsers' own tables are in tests/unit/test_hostile_input.c.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver_fixtures.h"
#include "support.h"

#define HOSTILE_DOMAIN    "hostile"
#define HOSTILE_VOLUME_ID "44444444-0000-0000-0000-000000000001"
#define HOSTILE_TIMEOUT_S "120"
/* A generous bound on the one line: messages cut untrusted values. */
#define HOSTILE_MAX_LINE 1024

typedef enum {
    IN_DEEP_JSON,
    IN_FIFO_CONNECTION_INFO,
    IN_DEV_ZERO_CONNECTION_INFO,
    IN_NUL_BYTE,
    IN_CONCATENATED,
    IN_HUGE_KEY_SIZE,
    IN_MOUNTPOINT,
    IN_NEWLINE_IN_VOLUME_ID,
    IN_TEN_MB_VALUE,
    IN_DAMAGED_LUKS_MAGIC,
    IN_PBKDF_2_POW_31,
    IN_FIFO_CONFIG,
    IN_DEV_ZERO_CONFIG,
} input_kind;

typedef struct {
    const char *name;
    input_kind kind;
    const char *mountpoint; /* IN_MOUNTPOINT: the bad one ("LONG": 4096 characters) */
    /* What the one line must say, "%s" replaced by the object's name
     * where the case names a file (see expected_text()). */
    const char *says;
} hostile_case;

static const hostile_case cases[] = {
    { "deep JSON", IN_DEEP_JSON, NULL, "connection_info: invalid JSON at line 1: nested deeper" },
    { "FIFO as --connection-info", IN_FIFO_CONNECTION_INFO, NULL, "%s: is a FIFO with no writer" },
    { "/dev/zero as --connection-info", IN_DEV_ZERO_CONNECTION_INFO, NULL,
      "/dev/zero: is a character device" },
    { "NUL byte", IN_NUL_BYTE, NULL, "%s: NUL byte at offset" },
    { "concatenated documents", IN_CONCATENATED, NULL,
      "connection_info: invalid JSON at line 1: data after the end of the document" },
    { "key_size 2^32 + 256", IN_HUGE_KEY_SIZE, NULL,
      "encryption for volume " HOSTILE_VOLUME_ID ": key 'key_size'" },
    { "mountpoint vd", IN_MOUNTPOINT, "vd", "mountpoint 'vd': not a disk device name" },
    { "mountpoint sd", IN_MOUNTPOINT, "sd", "mountpoint 'sd': not a disk device name" },
    { "mountpoint vdb1", IN_MOUNTPOINT, "vdb1", "mountpoint 'vdb1': not a disk device name" },
    { "mountpoint vdzzzzzzz", IN_MOUNTPOINT, "vdzzzzzzz",
      "mountpoint 'vdzzzzzzz': not a disk device name" },
    { "mountpoint of 4096 characters", IN_MOUNTPOINT, "LONG", "mountpoint 'vdaaaa" },
    { "mountpoint with a newline", IN_MOUNTPOINT, "vdb\nINJECTED", "mountpoint 'vdb\\nINJECTED'" },
    { "newline in the volume id", IN_NEWLINE_IN_VOLUME_ID, NULL, "'vol\\nINJECTED'" },
    { "10 MB value", IN_TEN_MB_VALUE, NULL, "%s: larger than 1048576 bytes" },
    { "damaged LUKS1 magic", IN_DAMAGED_LUKS_MAGIC, NULL,
      "volume " HOSTILE_VOLUME_ID ": non-zero data in the first" },
    { "2^31 PBKDF2 iterations", IN_PBKDF_2_POW_31, NULL,
      "volume " HOSTILE_VOLUME_ID ": keyslot 0 of %s asks for 2147483648 PBKDF2 iterations" },
    { "FIFO as --config", IN_FIFO_CONFIG, NULL, "%s: is a FIFO" },
    { "/dev/zero as --config", IN_DEV_ZERO_CONFIG, NULL, "/dev/zero: is a character device" },
};

/* The parameter is an index into cases[]: criterion copies parameters
 * into another process, where the table's pointers may not be valid. */
static guint case_indexes[G_N_ELEMENTS(cases)];

ParameterizedTestParameters(hostile_cli, refused_with_one_line_and_nothing_changed)
{
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
        case_indexes[i] = i;
    return cr_make_param_array(guint, case_indexes, G_N_ELEMENTS(case_indexes));
}

/* The running domain every case attaches to (started by the first). */
static virDomainPtr
hostile_domain(void)
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = virDomainLookupByName(conn, HOSTILE_DOMAIN);

    virConnectClose(conn);
    if (dom)
        return dom;
    return start_domain(HOSTILE_DOMAIN);
}

/* A LUKS1 volume, unlocked by PASSPHRASE, with @patch applied to its
 * header: @offset, @bytes, @len. */
static char *
luks_volume_file(const char *name, gsize offset, const void *bytes, gsize len)
{
    char *path = nv_harness_path(name);
    g_autofree char *data = NULL;
    gsize size = 0;

    nv_harness_create_luks_volume(path, PASSPHRASE, 4 * 1024 * 1024);
    if (bytes) {
        cr_assert(g_file_get_contents(path, &data, &size, NULL));
        cr_assert_geq(size, offset + len);
        memcpy(data + offset, bytes, len);
        cr_assert(g_file_set_contents(path, data, (gssize)size, NULL));
    }
    return path;
}

static char *
write_file(const char *name, const char *data, gsize len)
{
    char *path = nv_harness_path(name);

    cr_assert(g_file_set_contents(path, data, (gssize)len, NULL));
    return path;
}

typedef struct {
    char *conf;
    char *ci;
    char *enc;
    char *mountpoint;
    char *volume;
    char *object; /* the file the case names, for "%s" in says */
} hostile_run;

static void
hostile_run_clear(hostile_run *r)
{
    g_free(r->conf);
    g_free(r->ci);
    g_free(r->enc);
    g_free(r->mountpoint);
    g_free(r->volume);
    g_free(r->object);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hostile_run, hostile_run_clear)

/* Everything valid, then the one hostile input of @c. */
static void
prepare(const hostile_case *c, hostile_run *r)
{
    g_autofree char *ci_text = NULL;

    r->conf = write_conf("hostile.conf", FIXED_KEY, NULL);
    r->mountpoint = g_strdup("sdb");
    r->enc = write_file("hostile-enc.json", LUKS_ENCRYPTION, strlen(LUKS_ENCRYPTION));
    switch (c->kind) {
    case IN_DAMAGED_LUKS_MAGIC:
        /* "LUKS\xba\xbe" with its first byte changed: neither LUKS nor blank. */
        r->volume = luks_volume_file("hostile-magic.img", 0, "l", 1);
        break;
    case IN_PBKDF_2_POW_31: {
        /* LUKS1 keyslot 0's passwordIterations, big-endian, at 0xd4. */
        static const guint8 two_pow_31[] = { 0x80, 0x00, 0x00, 0x00 };

        r->volume = luks_volume_file("hostile-pbkdf.img", 0xd4, two_pow_31, sizeof(two_pow_31));
        r->object = g_strdup(r->volume);
        break;
    }
    default:
        r->volume = nv_harness_path("hostile.img");
        if (!g_file_test(r->volume, G_FILE_TEST_EXISTS))
            g_free(luks_volume_file("hostile.img", 0, NULL, 0));
        break;
    }
    ci_text = connection_info(HOSTILE_VOLUME_ID, r->volume, TRUE);
    r->ci = write_file("hostile-ci.json", ci_text, strlen(ci_text));

    switch (c->kind) {
    case IN_DEEP_JSON: {
        g_autofree char *deep = g_strnfill(100000, '[');

        g_free(r->ci);
        r->ci = write_file("hostile-deep.json", deep, strlen(deep));
        break;
    }
    case IN_FIFO_CONNECTION_INFO:
    case IN_FIFO_CONFIG: {
        g_autofree char *fifo = nv_harness_path("hostile.fifo");

        g_unlink(fifo);
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        r->object = g_strdup(fifo);
        if (c->kind == IN_FIFO_CONFIG) {
            g_free(r->conf);
            r->conf = g_strdup(fifo);
        } else {
            g_free(r->ci);
            r->ci = g_strdup(fifo);
        }
        break;
    }
    case IN_DEV_ZERO_CONNECTION_INFO:
        g_free(r->ci);
        r->ci = g_strdup("/dev/zero");
        break;
    case IN_DEV_ZERO_CONFIG:
        g_free(r->conf);
        r->conf = g_strdup("/dev/zero");
        break;
    case IN_NUL_BYTE: {
        g_autofree char *text = g_strdup_printf("%s%cgarbage", ci_text, '\0');

        g_free(r->ci);
        r->ci = write_file("hostile-nul.json", text, strlen(ci_text) + 8);
        r->object = g_strdup(r->ci);
        break;
    }
    case IN_CONCATENATED: {
        g_autofree char *two = g_strconcat(ci_text, ci_text, NULL);

        g_free(r->ci);
        r->ci = write_file("hostile-two.json", two, strlen(two));
        break;
    }
    case IN_HUGE_KEY_SIZE: {
        const char *enc = "{\"provider\": \"luks\", \"control_location\": \"front-end\", "
                          "\"cipher\": \"aes-xts-plain64\", \"key_size\": 4294967552, "
                          "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}";

        g_free(r->enc);
        r->enc = write_file("hostile-keysize.json", enc, strlen(enc));
        break;
    }
    case IN_MOUNTPOINT:
        g_free(r->mountpoint);
        if (g_str_equal(c->mountpoint, "LONG")) {
            r->mountpoint = g_strnfill(4096, 'a');
            r->mountpoint[0] = 'v';
            r->mountpoint[1] = 'd';
        } else {
            r->mountpoint = g_strdup(c->mountpoint);
        }
        break;
    case IN_NEWLINE_IN_VOLUME_ID: {
        g_autofree char *text = g_strdup_printf(
            "{\"driver_volume_type\": \"file\", \"serial\": \"s\", \"data\": {\"volume_id\": "
            "\"vol\\nINJECTED\", \"device_path\": \"%s\", \"encrypted\": true}}",
            r->volume);

        g_free(r->ci);
        r->ci = write_file("hostile-newline.json", text, strlen(text));
        break;
    }
    case IN_TEN_MB_VALUE: {
        g_autofree char *big = g_strnfill(10 * 1024 * 1024, 'x');
        g_autofree char *text = g_strdup_printf(
            "{\"driver_volume_type\": \"file\", \"serial\": \"%s\", \"data\": {\"volume_id\": "
            "\"%s\", \"device_path\": \"%s\", \"encrypted\": true, \"target_iqn\": \"%s\"}}",
            HOSTILE_VOLUME_ID, HOSTILE_VOLUME_ID, r->volume, big);

        g_free(r->ci);
        r->ci = write_file("hostile-big.json", text, strlen(text));
        r->object = g_strdup(r->ci);
        break;
    }
    case IN_DAMAGED_LUKS_MAGIC:
    case IN_PBKDF_2_POW_31:
        break;
    }
}

static char *
bytes_to_str(GBytes *bytes)
{
    gsize n = 0;
    const char *data = bytes ? g_bytes_get_data(bytes, &n) : NULL;

    return data ? g_strndup(data, n) : g_strdup("");
}

/* nvirt attach-volume under timeout(1); returns the exit status (137:
 * killed by the timeout). */
static int
run_attach(const hostile_run *r, char **out, char **err)
{
    const char *bin = g_getenv("NVIRT_BIN");
    const char *argv[] = { "timeout",
                           "-s",
                           "KILL",
                           HOSTILE_TIMEOUT_S,
                           bin,
                           "--config",
                           r->conf,
                           "attach-volume",
                           HOSTILE_DOMAIN,
                           "-i",
                           r->ci,
                           "-e",
                           r->enc,
                           "-m",
                           r->mountpoint,
                           NULL };
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GBytes) stdin_bytes = g_bytes_new("", 0);
    g_autoptr(GBytes) out_bytes = NULL;
    g_autoptr(GBytes) err_bytes = NULL;
    g_autoptr(GError) error = NULL;

    cr_assert_not_null(bin, "NVIRT_BIN is not set: run the tests through meson test");
    proc = g_subprocess_newv(argv,
                             G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE,
                             &error);
    cr_assert_not_null(proc, "%s", error ? error->message : "");
    cr_assert(g_subprocess_communicate(proc, stdin_bytes, NULL, &out_bytes, &err_bytes, &error),
              "%s", error ? error->message : "");
    *out = bytes_to_str(out_bytes);
    *err = bytes_to_str(err_bytes);
    if (!g_subprocess_get_if_exited(proc))
        return 128 + g_subprocess_get_term_sig(proc);
    return g_subprocess_get_exit_status(proc);
}

ParameterizedTest(guint *index, hostile_cli, refused_with_one_line_and_nothing_changed)
{
    const hostile_case *c = &cases[*index];
    virDomainPtr dom = hostile_domain();
    g_auto(hostile_run) r = { 0 };
    g_auto(host_state) before = { 0 };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *says = NULL;
    const char *newline;
    int status;

    prepare(c, &r);
    snapshot(&before, HOSTILE_DOMAIN, r.volume);
    status = run_attach(&r, &out, &err);

    cr_assert(status == 1 || status == 2, "%s: exit status %d (137: killed by the timeout): %s",
              c->name, status, err);
    cr_assert_null(strstr(err, "Sanitizer"), "%s: sanitizer report:\n%s", c->name, err);
    cr_assert_null(strstr(err, "runtime error:"), "%s: UBSan report:\n%s", c->name, err);
    newline = strchr(err, '\n');
    cr_assert(newline && newline[1] == '\0', "%s: not exactly one line on stderr:\n%s", c->name,
              err);
    cr_assert_leq(strlen(err), HOSTILE_MAX_LINE, "%s: a line of %zu bytes", c->name, strlen(err));
    {
        g_auto(GStrv) parts = g_strsplit(c->says, "%s", 2);

        says = g_strjoinv(r.object ? r.object : "", parts);
    }
    cr_assert_not_null(strstr(err, says), "%s: '%s' not in: %s", c->name, says, err);
    cr_assert_str_eq(out, "", "%s: stdout: %s", c->name, out);
    assert_unchanged(&before, HOSTILE_DOMAIN, r.volume);
    virDomainFree(dom);
}
