/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/options.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "virt/libvirt/host.h"

/* The runner process owns the daemon; criterion's workers are separate
 * processes and learn about it from these variables. */
#define ENV_DIR   "NVIRT_HARNESS_DIR"
#define ENV_ERROR "NVIRT_HARNESS_ERROR"

#define SCRIPT NV_HARNESS_SOURCE_DIR "/libvirtd-env.sh"

/* Bounds a hung QEMU job, not a performance expectation. */
#define JOB_DEADLINE_US (120 * G_USEC_PER_SEC)

extern char **environ;

/* Runner-side state, also read by the signal handler. */
static pid_t runner_pid;
static char *runner_dir;
static char **teardown_argv;
static char **teardown_envp;
static volatile sig_atomic_t torn_down;

/* ---- running the script ------------------------------------------------ */

static char **
script_envp(void)
{
    char **envp = g_get_environ();
    const char *root = g_getenv("NVIRT_BUILD_ROOT");

    if (!g_environ_getenv(envp, "NVIRT_QEMU_CAPS_CACHE") && root) {
        g_autofree char *cache = g_build_filename(root, "tests", "qemu-caps-cache", NULL);

        envp = g_environ_setenv(envp, "NVIRT_QEMU_CAPS_CACHE", cache, TRUE);
    }
    return envp;
}

/* Runs "libvirtd-env.sh CMD DIR [ARG]"; on failure returns FALSE and a
 * one-line message with the script's stderr. */
static gboolean
run_script(const char *cmd, const char *dir, const char *arg, char **out, char **message)
{
    const char *argv[] = { "/bin/sh", SCRIPT, cmd, dir, arg, NULL };
    g_auto(GStrv) envp = script_envp();
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, envp, G_SPAWN_DEFAULT, NULL, NULL, out, &err, &status,
                      &error)) {
        *message = g_strdup_printf("cannot run %s: %s", SCRIPT, error->message);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, &error)) {
        g_strstrip(err);
        g_strdelimit(err, "\n", ' ');
        *message =
            g_strdup_printf("%s %s %s failed (%s): %s", SCRIPT, cmd, dir, error->message, err);
        return FALSE;
    }
    return TRUE;
}

static void
script_or_fail(const char *cmd, const char *arg)
{
    g_autofree char *message = NULL;

    if (!run_script(cmd, nv_harness_dir(), arg, NULL, &message))
        cr_assert_fail("%s", message);
}

/* ---- runner: start before the first test, tear down after the last ------ */

static void
teardown(void)
{
    g_autofree char *message = NULL;
    g_autofree char *peer = NULL;
    g_autofree char *peer_message = NULL;

    if (!runner_dir || torn_down || getpid() != runner_pid)
        return;
    torn_down = 1;
    peer = g_build_filename(runner_dir, "peer", NULL);
    if (g_file_test(peer, G_FILE_TEST_IS_DIR) &&
        !run_script("teardown", peer, NULL, NULL, &peer_message))
        fprintf(stderr, "nvirt harness: %s\n", peer_message);
    if (!run_script("teardown", runner_dir, NULL, NULL, &message))
        fprintf(stderr, "nvirt harness: %s\n", message);
}

/* Only async-signal-safe calls: fork, execve, waitpid, signal, raise. */
static void
on_signal(int sig)
{
    if (getpid() == runner_pid && teardown_argv && !torn_down) {
        pid_t pid = fork();

        torn_down = 1;
        if (pid == 0) {
            execve(teardown_argv[0], teardown_argv, teardown_envp);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void
setup(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *message = NULL;
    char *dir;

    runner_pid = getpid();
    dir = g_dir_make_tmp("nvirt-libvirtd-XXXXXX", &error);
    if (!dir) {
        message = g_strdup_printf("cannot create the libvirtd directory: %s", error->message);
        g_setenv(ENV_ERROR, message, TRUE);
        return;
    }
    runner_dir = dir;
    g_setenv(ENV_DIR, dir, TRUE);

    /* The peer daemon (nv_harness_peer_uri()) lives in DIR/peer, so it goes
     * first. */
    teardown_argv = g_new0(char *, 7);
    teardown_argv[0] = g_strdup("/bin/sh");
    teardown_argv[1] = g_strdup("-c");
    teardown_argv[2] = g_strdup("[ ! -d \"$2/peer\" ] || /bin/sh \"$1\" teardown \"$2/peer\"; "
                                "exec /bin/sh \"$1\" teardown \"$2\"");
    teardown_argv[3] = g_strdup("sh");
    teardown_argv[4] = g_strdup(SCRIPT);
    teardown_argv[5] = g_strdup(dir);
    teardown_envp = script_envp();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    atexit(teardown);

    if (!run_script("start", dir, NULL, NULL, &message)) {
        g_autofree char *full =
            g_strdup_printf("private libvirtd did not start (functional tests need root, "
                            "libvirt-daemon-system and qemu-system-x86): %s",
                            message);

        fprintf(stderr, "nvirt harness: %s\n", full);
        g_setenv(ENV_ERROR, full, TRUE);
    }
}

typedef struct {
    void (*start)(void);
    void (*stop)(void);
} fixture;

static fixture fixtures[4];
static guint n_fixtures;

void
nv_harness_add_fixture(void (*start)(void), void (*stop)(void))
{
    g_assert(n_fixtures < G_N_ELEMENTS(fixtures));
    fixtures[n_fixtures++] = (fixture){ start, stop };
}

static void
stop_fixtures(void)
{
    if (getpid() != runner_pid)
        return;
    for (guint i = n_fixtures; i-- > 0;)
        fixtures[i].stop();
}

ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
    setup();
    atexit(stop_fixtures);
    for (guint i = 0; i < n_fixtures; i++)
        fixtures[i].start();
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    stop_fixtures();
    teardown();
}

/* Visible although the project builds with -fvisibility=hidden: criterion's
 * sandbox (BoxFort) finds main() in the executable's symbol table to turn
 * each worker into a test instead of running main() again. */
__attribute__((visibility("default"))) int
main(int argc, char *argv[])
{
    struct criterion_test_set *tests = criterion_initialize();
    int ok = 1;

    /* Tests share one daemon and some restart it: one at a time unless the
     * caller asks otherwise (--jobs / CRITERION_JOBS). */
    criterion_options.jobs = 1;
    /* libvirt's remote driver writes to sockets the daemon may have closed
     * (tests stop it); a client must ignore SIGPIPE.  SIG_IGN survives the
     * exec of criterion's workers. */
    signal(SIGPIPE, SIG_IGN);
    if (criterion_handle_args(argc, argv, true))
        ok = criterion_run_all_tests(tests);
    criterion_finalize(tests);
    stop_fixtures();
    teardown();
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- worker side ------------------------------------------------------- */

static gboolean
daemon_alive(const char *dir)
{
    g_autofree char *pidfile = g_build_filename(dir, "libvirtd.pid", NULL);
    g_autofree char *pid = NULL;
    g_autofree char *stat = NULL;
    g_autofree char *statfile = NULL;
    const char *state;

    if (!g_file_get_contents(pidfile, &pid, NULL, NULL))
        return FALSE;
    g_strstrip(pid);
    statfile = g_strdup_printf("/proc/%s/stat", pid);
    if (!g_file_get_contents(statfile, &stat, NULL, NULL))
        return FALSE;
    /* "PID (comm) STATE ...": a zombie is a daemon that has exited. */
    state = strrchr(stat, ')');
    return state && state[1] == ' ' && state[2] != 'Z';
}

/* Each test runs in its own worker process: on the first call in it, undo
 * what an earlier test that crashed half-way may have left (daemon stopped,
 * QEMU version faked), so one failure does not cascade. */
static void
restore_daemon(const char *dir)
{
    g_autofree char *orig = g_build_filename(dir, "caps-orig", NULL);
    g_autofree char *message = NULL;

    if (g_file_test(orig, G_FILE_TEST_IS_DIR)) {
        if (!run_script("qemu-version", dir, "reset", NULL, &message))
            cr_assert_fail("%s", message);
    } else if (!daemon_alive(dir)) {
        if (!run_script("start", dir, NULL, NULL, &message))
            cr_assert_fail("%s", message);
    }
}

const char *
nv_harness_dir(void)
{
    static gboolean checked;
    const char *failed = g_getenv(ENV_ERROR);
    const char *dir = g_getenv(ENV_DIR);

    if (failed)
        cr_assert_fail("%s", failed);
    cr_assert(dir != NULL, "no private libvirtd: link the test with nv_harness and let its "
                           "main() run the tests");
    if (!checked) {
        checked = TRUE;
        restore_daemon(dir);
    }
    return dir;
}

const char *
nv_harness_uri(void)
{
    static char *uri;

    if (!uri)
        uri = g_strdup_printf("qemu+unix:///system?socket=%s/sock/libvirt-sock", nv_harness_dir());
    return uri;
}

char *
nv_harness_path(const char *name)
{
    return g_build_filename(nv_harness_dir(), name, NULL);
}

static void
silent_error(void *data, virErrorPtr err)
{
}

virConnectPtr
nv_harness_connect(void)
{
    virConnectPtr conn;

    virSetErrorFunc(NULL, silent_error);
    conn = virConnectOpen(nv_harness_uri());
    cr_assert(conn != NULL, "cannot connect to %s: %s", nv_harness_uri(), virGetLastErrorMessage());
    return conn;
}

void
nv_harness_restart_daemon(void)
{
    script_or_fail("stop", NULL);
    script_or_fail("start", NULL);
}

void
nv_harness_stop_daemon(void)
{
    script_or_fail("stop", NULL);
}

void
nv_harness_start_daemon(void)
{
    script_or_fail("start", NULL);
}

void
nv_harness_set_qemu_version(guint64 version)
{
    g_autofree char *arg = g_strdup_printf("%" G_GUINT64_FORMAT, version);

    script_or_fail("qemu-version", arg);
}

void
nv_harness_reset_qemu_version(void)
{
    script_or_fail("qemu-version", "reset");
}

/* ---- the peer daemon ---------------------------------------------------- */

/* Started by the first test that asks for it, in DIR/peer (its own mount
 * namespace and host UUID, the same capability cache), and torn down with
 * the main daemon.  Files under DIR are seen by both under the same path:
 * shared storage, as migration needs. */
const char *
nv_harness_peer_dir(void)
{
    static char *peer;
    g_autofree char *message = NULL;

    if (!peer)
        peer = g_build_filename(nv_harness_dir(), "peer", NULL);
    if (!daemon_alive(peer) && !run_script("start", peer, NULL, NULL, &message))
        cr_assert_fail("%s", message);
    return peer;
}

const char *
nv_harness_peer_uri(void)
{
    static char *uri;

    if (!uri)
        uri = g_strdup_printf("qemu+unix:///system?socket=%s/sock/libvirt-sock",
                              nv_harness_peer_dir());
    return uri;
}

virConnectPtr
nv_harness_peer_connect(void)
{
    virConnectPtr conn;

    virSetErrorFunc(NULL, silent_error);
    conn = virConnectOpen(nv_harness_peer_uri());
    cr_assert(conn != NULL, "cannot connect to %s: %s", nv_harness_peer_uri(),
              virGetLastErrorMessage());
    return conn;
}

/* ---- domains ------------------------------------------------------------ */

static char *
domain_xml(const char *name)
{
    g_autofree char *path = g_build_filename(NV_HARNESS_SOURCE_DIR, "data", "domain-tcg.xml", NULL);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    xmlNodePtr node;
    xmlChar *buf = NULL;
    int len = 0;
    char *xml;

    cr_assert(doc != NULL, "cannot parse %s", path);
    for (node = xmlDocGetRootElement(doc)->children; node; node = node->next)
        if (node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, BAD_CAST "name"))
            break;
    cr_assert(node != NULL, "%s has no <name>", path);
    xmlNodeSetContent(node, NULL);
    xmlNodeAddContent(node, BAD_CAST name);
    xmlDocDumpMemory(doc, &buf, &len);
    xml = g_strndup((const char *)buf, len);
    xmlFree(buf);
    xmlFreeDoc(doc);
    return xml;
}

virDomainPtr
nv_harness_define_domain(virConnectPtr conn, const char *name)
{
    g_autofree char *xml = domain_xml(name);
    virDomainPtr dom = virDomainDefineXML(conn, xml);

    cr_assert(dom != NULL, "cannot define domain '%s': %s", name, virGetLastErrorMessage());
    return dom;
}

virDomainPtr
nv_harness_start_domain(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = nv_harness_define_domain(conn, name);

    cr_assert(virDomainCreate(dom) == 0, "cannot start domain '%s': %s", name,
              virGetLastErrorMessage());
    return dom;
}

/* ---- volumes ------------------------------------------------------------ */

GBytes *
nv_harness_plaintext(gsize size)
{
    guint8 *data = g_malloc(size);

    for (gsize i = 0; i < size; i++) {
        guint64 sector = i / 512;
        gsize off = i % 512;

        if (off < sizeof(sector))
            data[i] = (guint8)(sector >> (8 * off));
        else
            data[i] = (guint8)(sector * 31 + 7 + off / 64);
    }
    return g_bytes_new_take(data, size);
}

static void
write_file(const char *path, const void *data, gsize len, int mode)
{
    g_autoptr(GError) error = NULL;

    cr_assert(g_file_set_contents_full(path, data, len, G_FILE_SET_CONTENTS_NONE, mode, &error),
              "%s", error ? error->message : "");
}

static void
run_tool(const char *const *argv, const char *what)
{
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err,
                           &status, &error),
              "%s", error ? error->message : "");
    cr_assert(g_spawn_check_wait_status(status, NULL), "%s %s failed: %s", argv[0], what, err);
}

/* LUKS1 phdr: magic[6] version[2] cipher[32] mode[32] hash[32], then the
 * payload offset in 512-byte sectors, big endian. */
#define LUKS1_PAYLOAD_OFFSET_AT 104

void
nv_harness_create_luks_volume(const char *path, const char *passphrase, gsize size)
{
    g_autoptr(GBytes) plain = nv_harness_plaintext(size);

    nv_harness_create_luks_volume_with(path, passphrase, plain);
}

void
nv_harness_create_luks_volume_with(const char *path, const char *passphrase, GBytes *plain)
{
    gsize size = g_bytes_get_size(plain);
    g_autofree char *raw = g_strconcat(path, ".plain", NULL);
    g_autofree char *pass = g_strconcat(path, ".pass", NULL);
    g_autofree char *object = g_strdup_printf("secret,id=nvsec0,file=%s", pass);
    g_autofree char *target =
        g_strdup_printf("driver=luks,key-secret=nvsec0,file.filename=%s", path);
    guint8 header[LUKS1_PAYLOAD_OFFSET_AT + 4];
    guint64 offset;
    /* --type luks1: QEMU 7.2 cannot open LUKS2.  1000 PBKDF2 iterations
     * (the minimum) keep the KDF cheap; qemu-img's own luks creation
     * benchmarks the KDF and fails now and then with "Unable to get
     * accurate CPU usage". */
    const char *format[] = { "cryptsetup", "luksFormat", "-q",
                             "--type",     "luks1",      "--pbkdf-force-iterations",
                             "1000",       "--key-file", pass,
                             path,         NULL };
    /* -n: write the plaintext through QEMU's LUKS driver into the existing
     * container (no device-mapper on the test hosts). */
    const char *fill[] = { "qemu-img", "convert", "-q",       "-n",   "-f",
                           "raw",      raw,       "--object", object, "--target-image-opts",
                           target,     NULL };
    FILE *f;

    write_file(raw, g_bytes_get_data(plain, NULL), size, 0600);
    write_file(pass, passphrase, strlen(passphrase), 0600);
    cr_assert(truncate(path, 0) == 0 || errno == ENOENT);
    f = fopen(path, "w");
    cr_assert(f != NULL && fclose(f) == 0, "%s: %s", path, g_strerror(errno));
    cr_assert(truncate(path, size + 16 * 1024 * 1024) == 0, "%s: %s", path, g_strerror(errno));
    run_tool(format, path);

    f = fopen(path, "r");
    cr_assert(f != NULL && fread(header, sizeof(header), 1, f) == 1, "%s: short header", path);
    fclose(f);
    offset = ((guint64)header[LUKS1_PAYLOAD_OFFSET_AT] << 24) |
             ((guint64)header[LUKS1_PAYLOAD_OFFSET_AT + 1] << 16) |
             ((guint64)header[LUKS1_PAYLOAD_OFFSET_AT + 2] << 8) |
             header[LUKS1_PAYLOAD_OFFSET_AT + 3];
    /* QEMU's payload is the file minus the header: make it exactly @size. */
    cr_assert(truncate(path, offset * 512 + size) == 0, "%s: %s", path, g_strerror(errno));

    run_tool(fill, path);
    g_unlink(pass);
    g_unlink(raw);
}

char *
nv_harness_disk_xml(const char *path, const char *target_dev, const char *secret_uuid)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr disk = xmlNewNode(NULL, BAD_CAST "disk");
    xmlNodePtr node;
    xmlBufferPtr buf = xmlBufferCreate();
    char *xml;

    xmlDocSetRootElement(doc, disk);
    xmlNewProp(disk, BAD_CAST "type", BAD_CAST "file");
    xmlNewProp(disk, BAD_CAST "device", BAD_CAST "disk");
    node = xmlNewChild(disk, NULL, BAD_CAST "driver", NULL);
    xmlNewProp(node, BAD_CAST "name", BAD_CAST "qemu");
    xmlNewProp(node, BAD_CAST "type", BAD_CAST "raw");
    node = xmlNewChild(disk, NULL, BAD_CAST "source", NULL);
    xmlNewProp(node, BAD_CAST "file", BAD_CAST path);
    node = xmlNewChild(disk, NULL, BAD_CAST "target", NULL);
    xmlNewProp(node, BAD_CAST "dev", BAD_CAST target_dev);
    xmlNewProp(node, BAD_CAST "bus", BAD_CAST "scsi");
    if (secret_uuid) {
        xmlNodePtr enc = xmlNewChild(disk, NULL, BAD_CAST "encryption", NULL);

        xmlNewProp(enc, BAD_CAST "format", BAD_CAST "luks");
        node = xmlNewChild(enc, NULL, BAD_CAST "secret", NULL);
        xmlNewProp(node, BAD_CAST "type", BAD_CAST "passphrase");
        xmlNewProp(node, BAD_CAST "uuid", BAD_CAST secret_uuid);
    }
    xmlNodeDump(buf, doc, disk, 0, 1);
    xml = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    return xml;
}

/* ---- QMP ----------------------------------------------------------------- */

static JsonNode *
parse_json(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;

    cr_assert(json_parser_load_from_data(parser, text, -1, &error), "bad QMP reply %s: %s", text,
              error->message);
    return json_node_copy(json_parser_get_root(parser));
}

char *
nv_harness_qmp(virDomainPtr dom, const char *command_json)
{
    char *reply = NULL;
    g_autoptr(JsonNode) root = NULL;

    cr_assert(virDomainQemuMonitorCommand(dom, command_json, &reply, 0) == 0,
              "QMP %s on domain '%s': %s", command_json, virDomainGetName(dom),
              virGetLastErrorMessage());
    root = parse_json(reply);
    cr_assert(JSON_NODE_HOLDS_OBJECT(root), "QMP reply %s is not an object", reply);
    cr_assert(!json_object_has_member(json_node_get_object(root), "error"), "QMP %s: %s",
              command_json, reply);
    return reply;
}

/* {"execute": NAME, "arguments": {...}}: qmp_begin, qmp_str/qmp_bool for
 * each argument, then qmp_run (which consumes the builder). */
static JsonBuilder *
qmp_begin(const char *execute)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, execute);
    json_builder_set_member_name(b, "arguments");
    json_builder_begin_object(b);
    return b;
}

static void
qmp_str(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    json_builder_add_string_value(b, value);
}

static void
qmp_bool(JsonBuilder *b, const char *key, gboolean value)
{
    json_builder_set_member_name(b, key);
    json_builder_add_boolean_value(b, value);
}

static JsonNode *
qmp_run(virDomainPtr dom, JsonBuilder *b)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) cmd = NULL;
    g_autofree char *text = NULL;
    g_autofree char *reply = NULL;

    json_builder_end_object(b);
    json_builder_end_object(b);
    cmd = json_builder_get_root(b);
    g_object_unref(b);
    json_generator_set_root(gen, cmd);
    text = json_generator_to_data(gen, NULL);
    reply = nv_harness_qmp(dom, text);
    return parse_json(reply);
}

char *
nv_harness_format_node(virDomainPtr dom, const char *target_dev)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
    g_autofree char *expr = NULL;
    xmlDocPtr doc;
    xmlXPathContextPtr ctx;
    xmlXPathObjectPtr res;
    char *node = NULL;

    cr_assert(xml != NULL, "no live XML for domain '%s': %s", virDomainGetName(dom),
              virGetLastErrorMessage());
    for (const char *p = target_dev; *p; p++)
        cr_assert(g_ascii_isalnum(*p), "bad target dev '%s'", target_dev);
    doc = xmlReadMemory(xml, strlen(xml), NULL, NULL, XML_PARSE_NONET);
    cr_assert(doc != NULL);
    ctx = xmlXPathNewContext(doc);
    expr =
        g_strdup_printf("string(/domain/devices/disk[target/@dev='%s']/source/@index)", target_dev);
    res = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    if (res && res->stringval && *res->stringval)
        node = g_strdup_printf("libvirt-%s-format", (const char *)res->stringval);
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    cr_assert(node != NULL, "domain '%s' has no disk '%s' with a source index in its live XML",
              virDomainGetName(dom), target_dev);
    return node;
}

static gint64
node_size(virDomainPtr dom, const char *node)
{
    JsonBuilder *b = qmp_begin("query-named-block-nodes");
    g_autoptr(JsonNode) reply = NULL;
    JsonArray *nodes;

    qmp_bool(b, "flat", TRUE);
    reply = qmp_run(dom, b);
    nodes = json_object_get_array_member(json_node_get_object(reply), "return");
    for (guint i = 0; i < json_array_get_length(nodes); i++) {
        JsonObject *n = json_array_get_object_element(nodes, i);

        if (g_strcmp0(json_object_get_string_member(n, "node-name"), node) == 0)
            return json_object_get_int_member(json_object_get_object_member(n, "image"),
                                              "virtual-size");
    }
    cr_assert_fail("domain '%s' has no block node %s", virDomainGetName(dom), node);
    return -1;
}

/* Poll query-jobs until @job_id concludes; returns its error or NULL. */
static char *
wait_job(virDomainPtr dom, const char *job_id)
{
    gint64 deadline = g_get_monotonic_time() + JOB_DEADLINE_US;

    for (;;) {
        g_autoptr(JsonNode) reply = qmp_run(dom, qmp_begin("query-jobs"));
        JsonArray *jobs = json_object_get_array_member(json_node_get_object(reply), "return");

        for (guint i = 0; i < json_array_get_length(jobs); i++) {
            JsonObject *job = json_array_get_object_element(jobs, i);

            if (g_strcmp0(json_object_get_string_member(job, "id"), job_id) != 0)
                continue;
            if (g_strcmp0(json_object_get_string_member(job, "status"), "concluded") == 0)
                return json_object_has_member(job, "error")
                           ? g_strdup(json_object_get_string_member(job, "error"))
                           : NULL;
        }
        cr_assert(g_get_monotonic_time() < deadline, "QEMU job %s on domain '%s' never concluded",
                  job_id, virDomainGetName(dom));
        g_usleep(10 * 1000);
    }
}

GBytes *
nv_harness_read_back(virDomainPtr dom, const char *target_dev, gsize size)
{
    g_autofree char *node = nv_harness_format_node(dom, target_dev);
    g_autofree char *path = nv_harness_path("read-back.raw");
    g_autofree char *job_error = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) r1 = NULL;
    g_autoptr(JsonNode) r2 = NULL;
    g_autoptr(JsonNode) r3 = NULL;
    g_autoptr(JsonNode) r4 = NULL;
    gint64 vsize = node_size(dom, node);
    JsonBuilder *b;
    char *data = NULL;
    gsize len = 0;
    int fd;

    cr_assert((gint64)size <= vsize, "disk '%s' of domain '%s' has %" G_GINT64_FORMAT " bytes",
              target_dev, virDomainGetName(dom), vsize);
    /* blockdev-backup wants a target exactly as big as the source. */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0 && ftruncate(fd, vsize) == 0, "%s: %s", path, g_strerror(errno));
    close(fd);

    b = qmp_begin("blockdev-add");
    qmp_str(b, "driver", "file");
    qmp_str(b, "node-name", "nvtest-readback");
    qmp_str(b, "filename", path);
    r1 = qmp_run(dom, b);

    b = qmp_begin("blockdev-backup");
    qmp_str(b, "job-id", "nvtest-readback-job");
    qmp_str(b, "device", node);
    qmp_str(b, "target", "nvtest-readback");
    qmp_str(b, "sync", "full");
    /* Keep the concluded job around so its error can be read. */
    qmp_bool(b, "auto-dismiss", FALSE);
    r2 = qmp_run(dom, b);
    job_error = wait_job(dom, "nvtest-readback-job");

    b = qmp_begin("job-dismiss");
    qmp_str(b, "id", "nvtest-readback-job");
    r3 = qmp_run(dom, b);
    b = qmp_begin("blockdev-del");
    qmp_str(b, "node-name", "nvtest-readback");
    r4 = qmp_run(dom, b);
    cr_assert(job_error == NULL, "backup of %s on domain '%s' failed: %s", node,
              virDomainGetName(dom), job_error);

    cr_assert(g_file_get_contents(path, &data, &len, &error), "%s", error ? error->message : "");
    g_unlink(path);
    return g_bytes_new_take(data, size);
}

/* "NAME (...) X.Y.Z" or "NAME version X.Y.Z (...)" from `PROGRAM --version`:
 * an independent witness of the versions libvirt reports (harness.h). */
guint64
nv_harness_program_version(const char *program)
{
    const char *argv[] = { program, "--version", NULL };
    g_autofree char *out = NULL;
    g_autoptr(GRegex) re = g_regex_new("(\\d+)\\.(\\d+)\\.(\\d+)", 0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    guint64 v[3];

    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                           NULL, NULL));
    cr_assert(g_regex_match(re, out, 0, &m), "no version in %s", out);
    for (int i = 0; i < 3; i++) {
        g_autofree char *part = g_match_info_fetch(m, i + 1);

        v[i] = g_ascii_strtoull(part, NULL, 10);
    }
    return NV_VERSION(v[0], v[1], v[2]);
}
