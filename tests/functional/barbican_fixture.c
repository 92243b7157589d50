/* SPDX-License-Identifier: Apache-2.0 */
/* Keystone + Barbican once per test binary (see barbican_fixture.h). */
#include "barbican_fixture.h"

#include <criterion/criterion.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "support.h"

#define ENV_DIR   "NVIRT_BARBICAN_DIR"
#define ENV_ERROR "NVIRT_BARBICAN_ERROR"

/* Keystone's token lifetime here: short enough that a test can outlive a
 * token (nvirt renews 10 s before expires_at), long enough for an attach. */
#define TOKEN_LIFETIME "20"

/* ---- runner side: start before the first test, stop after the last ---- */

static GSubprocess *fixture;
static char *fixture_dir;

static void
stop_fixture(void)
{
    g_autoptr(GError) error = NULL;

    if (!fixture)
        return;
    /* End of stdin: the script stops Keystone and Barbican and reaps them. */
    g_output_stream_close(g_subprocess_get_stdin_pipe(fixture), NULL, NULL);
    if (!g_subprocess_wait(fixture, NULL, &error))
        fprintf(stderr, "barbican fixture: %s\n", error->message);
    g_clear_object(&fixture);
    nv_test_rmtree(fixture_dir);
    g_clear_pointer(&fixture_dir, g_free);
}

static void
start_fixture(void)
{
    const char *root = g_getenv("NVIRT_SOURCE_ROOT");
    g_autofree char *script = NULL;
    g_autofree char *log = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GDataInputStream) out = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *line = NULL;
    gint64 t0 = g_get_monotonic_time();

    if (!root) {
        g_setenv(ENV_ERROR, "NVIRT_SOURCE_ROOT is not set: run through meson test", TRUE);
        return;
    }
    script = g_build_filename(root, "tests", "functional", "barbican-fixture.py", NULL);
    fixture_dir = g_dir_make_tmp("nvirt-barbican-XXXXXX", &error);
    if (!fixture_dir) {
        g_setenv(ENV_ERROR, error->message, TRUE);
        return;
    }
    log = g_build_filename(fixture_dir, "fixture.log", NULL);
    launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_subprocess_launcher_set_stderr_file_path(launcher, log);
    fixture = g_subprocess_launcher_spawn(launcher, &error, "/usr/bin/python3", script, fixture_dir,
                                          TOKEN_LIFETIME, NULL);
    if (!fixture) {
        g_setenv(ENV_ERROR, error->message, TRUE);
        return;
    }
    out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(fixture));
    line = g_data_input_stream_read_line(out, NULL, NULL, &error);
    if (!line || strstr(line, "\"error\"")) {
        g_autofree char *msg =
            g_strdup_printf("Keystone/Barbican fixture did not start (needs python3-keystone, "
                            "python3-barbican; log %s): %s",
                            log, line ? line : (error ? error->message : "no output"));

        fprintf(stderr, "barbican fixture: %s\n", msg);
        g_setenv(ENV_ERROR, msg, TRUE);
        return;
    }
    g_setenv(ENV_DIR, fixture_dir, TRUE);
    fprintf(stderr, "barbican fixture: Keystone and Barbican ready in %.1f s (%s)\n",
            (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, fixture_dir);
}

/* Started and stopped by the harness's runner, after and before its
 * daemon (nv_harness_add_fixture; criterion names report hooks by line, so
 * a second pair here could collide with harness.c's at link time). */
__attribute__((constructor)) static void
register_fixture(void)
{
    nv_harness_add_fixture(start_fixture, stop_fixture);
}

/* ---- worker side ------------------------------------------------------- */

const char *
nv_barbican_dir(void)
{
    const char *dir = g_getenv(ENV_DIR);

    cr_assert_not_null(dir, "%s", g_getenv(ENV_ERROR) ? g_getenv(ENV_ERROR) : "no fixture");
    return dir;
}

static char *
member_dup(JsonObject *o, const char *name)
{
    return g_strdup(json_object_get_string_member(o, name));
}

const nv_barbican *
nv_barbican_get(void)
{
    static nv_barbican info;
    g_autofree char *path = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonObject *o;
    JsonObject *pw;

    if (info.keystone_url)
        return &info;
    path = g_build_filename(nv_barbican_dir(), "fixture.json", NULL);
    cr_assert(json_parser_load_from_file(parser, path, &error), "%s", error ? error->message : "");
    o = json_node_get_object(json_parser_get_root(parser));
    pw = json_object_get_object_member(o, "passwords");
    info.keystone_url = member_dup(o, "keystone");
    info.barbican_url = member_dup(o, "barbican");
    info.nova_password = member_dup(pw, "nova");
    info.eve_password = member_dup(pw, "eve");
    info.app_cred_id = member_dup(o, "app_cred_id");
    info.app_cred_secret = member_dup(o, "app_cred_secret");
    info.token_lifetime = (int)json_object_get_int_member(o, "token_lifetime");
    info.startup_seconds = json_object_get_double_member(o, "startup_seconds");
    return &info;
}

/* Send @text (one or two lines) to the control socket; the reply's object. */
static JsonNode *
command(const char *text)
{
    g_autofree char *path = g_build_filename(nv_barbican_dir(), "control.sock", NULL);
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GSocketConnection) conn = NULL;
    g_autoptr(GDataInputStream) in = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *reply = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o;

    conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &error);
    cr_assert_not_null(conn, "%s", error ? error->message : "");
    cr_assert(g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), text,
                                        strlen(text), NULL, NULL, &error),
              "%s", error ? error->message : "");
    in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    reply = g_data_input_stream_read_line(in, NULL, NULL, &error);
    cr_assert_not_null(reply, "fixture: %s", error ? error->message : "no reply");
    cr_assert(json_parser_load_from_data(parser, reply, -1, &error), "%s", reply);
    o = json_node_get_object(json_parser_get_root(parser));
    cr_assert_not(json_object_has_member(o, "error"), "fixture: %s", reply);
    return json_node_copy(json_parser_get_root(parser));
}

char *
nv_barbican_store(const char *hex_key)
{
    g_autofree char *text = g_strdup_printf("store\n%s\n", hex_key);
    g_autoptr(JsonNode) reply = command(text);

    return g_strdup(json_object_get_string_member(json_node_get_object(reply), "id"));
}

void
nv_barbican_stop(void)
{
    g_autoptr(JsonNode) reply = command("stop-barbican\n");
}

void
nv_barbican_start(void)
{
    g_autoptr(JsonNode) reply = command("start-barbican\n");
}

void
nv_barbican_revoke_nova(void)
{
    g_autoptr(JsonNode) reply = command("revoke-nova\n");
}

const char *
nv_barbican_nova_token(void)
{
    static char *token;
    g_autoptr(JsonNode) reply = command("nova-token\n");

    g_free(token);
    token = g_strdup(json_object_get_string_member(json_node_get_object(reply), "token"));
    return token;
}
