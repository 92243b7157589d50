/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile input (issue 12): every input a compute service may be handed by
 * another service or a tenant is refused with NV_ERROR_BAD_INPUT and one
 * short line naming the object, never a crash, a silent truncation or a
 * message the input can split or flood.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "support.h"
#include "util/quote.h"
#include "virt/block_device.h"
#include "virt/libvirt/volume/volume.h"

/* A message is one line, bounded whatever the input's size, and names the
 * object. */
#define MAX_MESSAGE 400

static void
assert_one_bounded_line(const char *name, const GError *error, const char *object,
                        const char *expect)
{
    cr_expect_not_null(error, "%s: accepted", name);
    if (!error)
        return;
    cr_expect(error->domain == NV_ERROR && error->code == NV_ERROR_BAD_INPUT, "%s: code %d: %.200s",
              name, error->code, error->message);
    cr_expect_null(strchr(error->message, '\n'), "%s: more than one line: %.200s", name,
                   error->message);
    cr_expect_leq(strlen(error->message), MAX_MESSAGE, "%s: %zu bytes: %.200s...", name,
                  strlen(error->message), error->message);
    cr_expect(strstr(error->message, object) != NULL, "%s: does not name %s: %.200s", name, object,
              error->message);
    cr_expect(strstr(error->message, expect) != NULL, "%s: no '%s' in: %.200s", name, expect,
              error->message);
}

/* A valid connection_info around @data_members (JSON members of "data"). */
static char *
conn_with(const char *data_members)
{
    return g_strdup_printf("{\"driver_volume_type\": \"local\", \"serial\": \"vol-1\", "
                           "\"data\": {\"device_path\": \"/dev/sdb\"%s%s}}",
                           *data_members ? ", " : "", data_members);
}

static char *
repeat(const char *unit, gsize times)
{
    GString *s = g_string_sized_new(strlen(unit) * times + 1);

    for (gsize i = 0; i < times; i++)
        g_string_append(s, unit);
    return g_string_free(s, FALSE);
}

static char *
deep_array(gsize depth)
{
    g_autofree char *open = repeat("[", depth);
    g_autofree char *close = repeat("]", depth);

    return g_strconcat(open, close, NULL);
}

typedef struct {
    const char *name;
    char *json;    /* owned */
    gssize len;    /* -1: NUL-terminated */
    gboolean meta; /* encryption metadata for "vol-1", else connection_info */
    const char *expect;
} json_case;

static GPtrArray *
json_cases(void)
{
    GPtrArray *cases = g_ptr_array_new();
    g_autofree char *deep = deep_array(100000);
    g_autofree char *deep33 = deep_array(NV_JSON_MAX_DEPTH - 1); /* + root + data = 33 */
    g_autofree char *big = repeat("x", NV_JSON_MAX_BYTES);
    g_autofree char *long_id = repeat("v", 512 * 1024);
    g_autofree char *long_ident = repeat("y", 512 * 1024);
    g_autofree char *deep_member = g_strdup_printf("\"x\": %s", deep33);
    g_autofree char *big_member = g_strdup_printf("\"x\": \"%s\"", big);
    g_autofree char *id_member = g_strdup_printf("\"volume_id\": \"%s\"", long_id);
    g_autofree char *ident_member = g_strdup_printf("\"x\": %s", long_ident);
    g_autofree char *one = conn_with("");
    json_case *c;

#define ADD(n, j, l, m, e)                                                                         \
    do {                                                                                           \
        c = g_new0(json_case, 1);                                                                  \
        *c = (json_case){ n, j, l, m, e };                                                         \
        g_ptr_array_add(cases, c);                                                                 \
    } while (0)

    ADD("100000 levels", g_strdup(deep), -1, FALSE, "nested deeper than 32 levels");
    ADD("33 levels", conn_with(deep_member), -1, FALSE, "nested deeper than 32 levels");
    ADD("33 levels (encryption)", g_strdup_printf("{\"cipher\": [%s]}", deep33), -1, TRUE,
        "nested deeper than 32 levels");
    ADD("over 1 MiB", conn_with(big_member), -1, FALSE, "larger than 1048576 bytes");
    ADD("over 1 MiB (encryption)", g_strdup_printf("{\"cipher\": \"%s\"}", big), -1, TRUE,
        "larger than 1048576 bytes");
    ADD("NUL byte then garbage", g_strdup_printf("%s%cgarbage", one, '\0'), (gssize)strlen(one) + 8,
        FALSE, "NUL byte in the document");
    ADD("two documents", g_strconcat(one, one, NULL), -1, FALSE,
        "data after the end of the document");
    ADD("two documents with space", g_strconcat(one, "\n {}", NULL), -1, FALSE,
        "at line 2: data after the end of the document");
    ADD("two documents (encryption)", g_strdup("{\"cipher\": \"aes\"}{\"cipher\": \"x\"}"), -1,
        TRUE, "data after the end of the document");
    ADD("trailing garbage", g_strconcat(one, " x", NULL), -1, FALSE, "invalid JSON at line 1");
    /* Found by fuzz/fuzz_*: json-glib leaked the root of these (corpus
     * entries scalar-then-*). */
    ADD("a string, then an array", g_strdup("\"cipher\"[]"), -1, TRUE,
        "document must be a JSON object");
    ADD("a string, then an object", g_strconcat("\"target_iqn\"", one, NULL), -1, FALSE,
        "document must be a JSON object");
    ADD("a number, then an object", g_strconcat(" 1 ", one, NULL), -1, FALSE,
        "document must be a JSON object");
    ADD("\\u0000 in device_path",
        g_strdup("{\"driver_volume_type\": \"local\", \"serial\": \"vol-1\", \"data\": "
                 "{\"device_path\": \"/tmp/no\\u0000ne.img\"}}"),
        -1, FALSE, "\\u0000 (NUL) in a string");
    ADD("\\u0000 in volume_id", conn_with("\"volume_id\": \"vol\\u0000-2\""), -1, FALSE,
        "\\u0000 (NUL) in a string");
    ADD("\\u0000 in encryption_key_id", g_strdup("{\"encryption_key_id\": \"k\\u0000ey\"}"), -1,
        TRUE, "\\u0000 (NUL) in a string");
    /* Found by fuzz/fuzz_encryption_meta: json-glib 1.6 refused these but
     * leaked the string it was decoding (corpus entries surrogate-*.json). */
    ADD("lone low surrogate, truncated escape", g_strdup("{\"\\udddd\\u"), -1, TRUE,
        "at line 1: UTF-16 surrogate escape not in a pair");
    ADD("three hex digits, then an escape", g_strdup("{\"\\udeu\\u"), -1, TRUE,
        "at line 1: \\u escape without four hex digits");
    ADD("two hex digits in a name", conn_with("\"name\": \"\\u41\""), -1, FALSE,
        "\\u escape without four hex digits");
    ADD("high surrogate, then a letter", conn_with("\"name\": \"a\\ud83dx\""), -1, FALSE,
        "UTF-16 surrogate escape not in a pair");
    ADD("two high surrogates", g_strdup("{\"cipher\": \"\\ud83d\\ud83d\"}"), -1, TRUE,
        "UTF-16 surrogate escape not in a pair");
    ADD("newline in volume_id", conn_with("\"volume_id\": \"vol\\nINJECTED\""), -1, FALSE,
        "'vol\\nINJECTED'");
    ADD("newline in serial",
        g_strdup("{\"driver_volume_type\": \"local\", \"serial\": \"s\\nX\", \"data\": "
                 "{\"volume_id\": \"vol-1\"}}"),
        -1, FALSE, "key 'serial' holds a control character for volume vol-1: 's\\nX'");
    ADD("CRLF in target_portal", conn_with("\"target_portal\": \"h:1\\r\\nX\""), -1, FALSE,
        "key 'data.target_portal' holds a control character for volume vol-1: 'h:1\\r\\nX'");
    ADD("escape in cipher", g_strdup("{\"cipher\": \"aes\\u001b[2J\"}"), -1, TRUE,
        "key 'cipher' holds a control character: 'aes\\033[2J'");
    ADD("512 KiB volume_id", conn_with(id_member), -1, FALSE, "at most 255 bytes");
    ADD("512 KiB identifier", conn_with(ident_member), -1, FALSE, "invalid JSON at line 1");
    ADD("port 65536", conn_with("\"hosts\": [\"h\"], \"ports\": [65536]"), -1, FALSE,
        "an array of ports (0 to 65535) for volume vol-1");
    ADD("port -1", conn_with("\"hosts\": [\"h\"], \"ports\": [-1]"), -1, FALSE,
        "an array of ports (0 to 65535)");
    ADD("key_size 2^32 + 256", g_strdup("{\"key_size\": 4294967552}"), -1, TRUE,
        "key 'key_size' must be a positive multiple of 8");
#undef ADD
    return cases;
}

Test(hostile_json, refused_with_one_bounded_line)
{
    g_autoptr(GPtrArray) cases = json_cases();

    for (guint i = 0; i < cases->len; i++) {
        json_case *c = g_ptr_array_index(cases, i);
        g_autoptr(GError) error = NULL;

        if (c->meta) {
            g_autoptr(nv_encryption_meta) meta =
                nv_encryption_meta_parse(c->json, c->len, "vol-1", &error);

            cr_expect_null(meta, "%s: accepted", c->name);
            assert_one_bounded_line(c->name, error, "encryption for volume vol-1:", c->expect);
        } else {
            g_autoptr(nv_connection_info) info = nv_connection_info_parse(c->json, c->len, &error);

            cr_expect_null(info, "%s: accepted (device_path %s)", c->name,
                           info ? info->device_path : "");
            assert_one_bounded_line(c->name, error, "connection_info:", c->expect);
        }
        g_free(c->json);
        g_free(c);
    }
}

/* The limits are limits, not a new grammar: at the bounds, and with
 * brackets, quotes and "\u0000"-lookalikes inside strings, Cinder's
 * documents still parse. */
Test(hostile_json, accepted_at_the_bounds)
{
    g_autofree char *deep32 = deep_array(NV_JSON_MAX_DEPTH - 2);
    g_autofree char *deep_member = g_strdup_printf("\"x\": %s", deep32);
    g_autofree char *id = repeat("v", NV_VOLUME_ID_MAX_BYTES);
    g_autofree char *id_member = g_strdup_printf("\"volume_id\": \"%s\"", id);
    const char *members[] = {
        deep_member,
        id_member,
        "\"x\": \"[[[[{{{{\\\"\\\\\"",
        "\"x\": \"\\\\u0000 is text here\"",
        "\"hosts\": [\"h\", \"i\"], \"ports\": [0, 65535]",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(members); i++) {
        g_autofree char *json = conn_with(members[i]);
        g_autofree char *spaced = g_strconcat(json, " \n\t", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(nv_connection_info) info = nv_connection_info_parse(spaced, -1, &error);

        cr_expect_not_null(info, "case %zu: %s", i, error ? error->message : "");
        if (info)
            cr_expect_str_eq(info->device_path, "/dev/sdb");
    }
}

/* A volume id the caller passes (from a command line) cannot split the
 * message either. */
Test(hostile_json, encryption_names_an_unplain_volume_quoted)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_encryption_meta) meta =
        nv_encryption_meta_parse("{\"cipher\": 1}", -1, "vol\nX", &error);

    cr_assert_null(meta);
    assert_one_bounded_line("unplain id", error,
                            "encryption for volume 'vol\\nX':", "key 'cipher' must be a string");
}

Test(quote, escapes_and_cuts)
{
    g_autofree char *big = repeat("z", 10 * 1024 * 1024);
    g_autofree char *q_big = nv_quote(big);
    g_autofree char *q_nl = nv_quote("a\nb\033[2J");
    g_autofree char *q_null = nv_quote(NULL);
    g_autofree char *q_64 =
        nv_quote("0123456789012345678901234567890123456789012345678901234567890123");

    cr_expect_eq(strlen(q_big), NV_QUOTE_MAX_CHARS + 5, "%s", q_big);
    cr_expect(g_str_has_suffix(q_big, "...'"));
    cr_expect_str_eq(q_nl, "'a\\nb\\033[2J'");
    cr_expect_str_eq(q_null, "(null)");
    cr_expect_str_eq(q_64, "'0123456789012345678901234567890123456789012345678901234567890123'");
}

/* Mountpoints libvirt would refuse as a <target dev=...> (virDiskNameParse)
 * are refused before any XML is written, naming the volume. */
Test(hostile_device_name, refused_with_one_bounded_line)
{
    g_autofree char *huge = repeat("v", 4096);
    g_autofree char *huge_dev = g_strconcat("/dev/", huge, NULL);
    const char *names[] = {
        "vd",  "sd",    "/dev/hd",     "vdb1",    "vdzzzz", "vdzzzzzzz", "xvd",
        "vdB", "vd\nb", "/dev/../vdb", "nvme0n1", "foo",    huge,        huge_dev,
    };

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(nv_disk_info) di =
            nv_disk_info_new_for_volume("vol-1", names[i], "virtio", &error);
        g_autofree char *name = g_strescape(names[i], NULL);

        name[MIN(strlen(name), 32)] = '\0';
        cr_expect_null(di, "%s: accepted", name);
        assert_one_bounded_line(name, error, "volume vol-1: mountpoint '",
                                "not a disk device name");
    }
}

/* A bus given on the command line is quoted too. */
Test(hostile_device_name, bus_is_quoted)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_disk_info) di = nv_disk_info_new_for_volume("vol-1", "vdb", "xen\nX", &error);

    cr_assert_null(di);
    assert_one_bounded_line("bus", error, "volume vol-1: disk bus 'xen\\nX'", "is not supported");
}

/* nvirt disk-xml with @input as --connection-info.  Its standard input is
 * the file @stdin_path if given, else a pipe from "cat @pipe_from" if
 * given, else a pipe holding @stdin_text (may be NULL).  Returns the exit
 * status; stderr in @err. */
static int
disk_xml_input(const char *input, const char *stdin_path, const char *pipe_from,
               const char *stdin_text, char **err)
{
    g_autofree char *conf = nv_test_data_path("disk-xml/nvirt.conf");
    const char *bin = g_getenv("NVIRT_BIN");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GBytes) in = NULL;
    g_autoptr(GBytes) err_bytes = NULL;
    g_autoptr(GError) error = NULL;

    cr_assert_not_null(bin, "NVIRT_BIN is not set: run the tests through meson test");
    signal(SIGPIPE, SIG_IGN);
    if (pipe_from) {
        /* A pipe that ends only when nvirt stops reading it. */
        g_ptr_array_add(argv, "/bin/sh");
        g_ptr_array_add(argv, "-c");
        g_ptr_array_add(argv, "cat \"$0\" | \"$@\"");
        g_ptr_array_add(argv, (gpointer)pipe_from);
    }
    for (const char *a[] = { bin, "disk-xml", "--config", conf, "--connection-info", input,
                             "--mountpoint", "vdb" },
                    **p = a;
         p < a + G_N_ELEMENTS(a); p++)
        g_ptr_array_add(argv, (gpointer)*p);
    g_ptr_array_add(argv, NULL);

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                         G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                         (stdin_path ? 0 : G_SUBPROCESS_FLAGS_STDIN_PIPE));
    if (stdin_path)
        g_subprocess_launcher_set_stdin_file_path(launcher, stdin_path);
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    cr_assert_not_null(proc, "%s", error ? error->message : "");
    if (!stdin_path)
        in = g_bytes_new(stdin_text ? stdin_text : "", stdin_text ? strlen(stdin_text) : 0);
    cr_assert(g_subprocess_communicate(proc, in, NULL, NULL, &err_bytes, &error), "%s",
              error ? error->message : "");
    *err = g_strndup(g_bytes_get_data(err_bytes, NULL), g_bytes_get_size(err_bytes));
    cr_assert(g_subprocess_get_if_exited(proc), "nvirt did not exit normally: %s", *err);
    return g_subprocess_get_exit_status(proc);
}

/* Exit 2 and exactly one stderr line holding @object and @expect. */
static void
assert_cli_refused(const char *name, int status, const char *err, const char *object,
                   const char *expect)
{
    const char *nl = strchr(err, '\n');

    cr_expect_eq(status, 2, "%s: exit %d: %.300s", name, status, err);
    cr_expect(nl != NULL && nl[1] == '\0', "%s: not exactly one line: %.300s", name, err);
    cr_expect_leq(strlen(err), MAX_MESSAGE, "%s: %zu bytes", name, strlen(err));
    cr_expect(strstr(err, object) != NULL, "%s: does not name %s: %.300s", name, object, err);
    cr_expect(strstr(err, expect) != NULL, "%s: no '%s' in: %.300s", name, expect, err);
}

/* Inputs that are not a regular file or a pipe, and pipes that do not end,
 * are refused without blocking or growing (the meson test timeout bounds
 * the time; nothing here measures it). */
Test(hostile_cli_input, non_regular_and_unbounded_inputs_are_refused)
{
    g_autofree char *dir = nv_test_mkdtemp();
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_autofree char *nul = g_build_filename(dir, "nul.json", NULL);
    g_autofree char *deep_file = g_build_filename(dir, "deep.json", NULL);
    g_autofree char *deep = deep_array(100000);
    static const char nul_doc[] = "{\"driver_volume_type\": \"file\", \"serial\": \"v\", "
                                  "\"data\": {\"device_path\": \"/tmp/a\"}}\0{garbage";
    struct {
        const char *name, *input, *stdin_path, *pipe_from, *object, *expect;
    } cases[] = {
        { "FIFO with no writer", fifo, NULL, NULL, fifo, "is a FIFO with no writer" },
        { "/dev/zero", "/dev/zero", NULL, NULL, "/dev/zero", "is a character device" },
        { "/dev/null", "/dev/null", NULL, NULL, "/dev/null", "is a character device" },
        { "directory", dir, NULL, NULL, dir, "is a directory" },
        { "NUL byte then garbage", nul, NULL, NULL, nul, "NUL byte at offset 80" },
        { "/dev/zero on stdin", "-", "/dev/zero", NULL, "standard input",
          "larger than 1048576 bytes" },
        { "endless pipe on stdin", "-", NULL, "/dev/zero", "standard input",
          "larger than 1048576 bytes" },
        { "100000 levels", deep_file, NULL, NULL,
          "connection_info:", "nested deeper than 32 levels" },
    };

    cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", g_strerror(errno));
    cr_assert(g_file_set_contents(nul, nul_doc, sizeof(nul_doc) - 1, NULL));
    cr_assert(g_file_set_contents(deep_file, deep, -1, NULL));
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *err = NULL;
        int status =
            disk_xml_input(cases[i].input, cases[i].stdin_path, cases[i].pipe_from, NULL, &err);

        assert_cli_refused(cases[i].name, status, err, cases[i].object, cases[i].expect);
    }
    nv_test_rmtree(dir);
}

static gpointer
write_fifo(gpointer data)
{
    const char *fifo = data;
    g_autofree char *json = nv_test_data_read("cinder/file.json");
    /* Blocks until nvirt opens the FIFO for reading. */
    int fd = open(fifo, O_WRONLY | O_CLOEXEC);

    if (fd >= 0) {
        g_assert_cmpint(write(fd, json, strlen(json)), ==, (gssize)strlen(json));
        close(fd);
    }
    return GINT_TO_POINTER(fd >= 0);
}

/* A pipe is still an input: a FIFO whose writer is waiting for nvirt, and
 * a pipe on stdin, are read to their end. */
Test(hostile_cli_input, pipes_are_read)
{
    g_autofree char *dir = nv_test_mkdtemp();
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_autofree char *json = nv_test_data_read("cinder/file.json");
    g_autofree char *err = NULL;
    g_autofree char *err_stdin = NULL;
    GThread *writer;

    cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", g_strerror(errno));
    writer = g_thread_new("fifo-writer", write_fifo, fifo);
    cr_expect_eq(disk_xml_input(fifo, NULL, NULL, NULL, &err), 0, "%s", err);
    cr_expect(GPOINTER_TO_INT(g_thread_join(writer)));
    cr_expect_eq(disk_xml_input("-", NULL, NULL, json, &err_stdin), 0, "%s", err_stdin);
    nv_test_rmtree(dir);
}
