/* SPDX-License-Identifier: Apache-2.0 */
/* The Barbican backend's options, Keystone request bodies and error mapping
 * (src/conf/barbican.c, src/keymgr/{barbican,keystone,http}.c) against a
 * tiny in-process HTTP stub.  The real Keystone and Barbican are in
 * tests/functional/test_barbican.c. */
#include <criterion/criterion.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "conf/conf.h"
#include "keymgr/keymgr.h"
#include "keymgr/keystone.h"
#include "nvirt/error.h"
#include "support.h"

#define KEY_ID    "6e0c1b6a-3c44-4f3b-9a52-0f4a3d1c2b11"
#define KEY_BYTES "0123456789abcdef0123456789ABCDEF"

/* ---- the stub: one canned answer per connection, in order ------------- */

typedef struct {
    int status;
    char *headers; /* extra header lines, each ending in \r\n */
    char *body;
} canned;

typedef struct {
    GSocketListener *listener;
    GCancellable *stop; /* closing the listener does not wake accept() */
    guint16 port;
    GThread *thread;
    GMutex lock;
    GQueue answers;           /* canned * */
    GPtrArray *request_lines; /* "POST /v3/auth/tokens", ... */
    GPtrArray *auth_tokens;   /* X-Auth-Token of each request, "" if none */
} stub;

static stub st;

static void
canned_free(canned *c)
{
    g_free(c->headers);
    g_free(c->body);
    g_free(c);
}

static void
answer(int status, const char *headers, const char *body)
{
    canned *c = g_new0(canned, 1);

    c->status = status;
    c->headers = g_strdup(headers ? headers : "");
    c->body = g_strdup(body ? body : "");
    g_mutex_lock(&st.lock);
    g_queue_push_tail(&st.answers, c);
    g_mutex_unlock(&st.lock);
}

/* A Keystone token answer expiring @seconds from now. */
static void
answer_token(const char *token, int seconds)
{
    g_autoptr(GDateTime) when = g_date_time_new_now_utc();
    g_autoptr(GDateTime) later = g_date_time_add_seconds(when, seconds);
    g_autofree char *stamp = g_date_time_format(later, "%Y-%m-%dT%H:%M:%S.000000Z");
    g_autofree char *headers = g_strdup_printf("X-Subject-Token: %s\r\n", token);
    g_autofree char *body = g_strdup_printf("{\"token\": {\"expires_at\": \"%s\", \"catalog\": "
                                            "[]}}",
                                            stamp);

    answer(201, headers, body);
}

static void
serve_one(GSocketConnection *conn)
{
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_autoptr(GDataInputStream) data = g_data_input_stream_new(in);
    g_autofree char *first = NULL;
    g_autofree char *token = g_strdup("");
    g_autofree char *reply = NULL;
    gsize content_length = 0;
    canned *c;

    g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(data), FALSE);
    first = g_data_input_stream_read_line(data, NULL, NULL, NULL);
    for (;;) {
        g_autofree char *line = g_data_input_stream_read_line(data, NULL, NULL, NULL);

        if (!line || *g_strstrip(line) == '\0')
            break;
        if (g_ascii_strncasecmp(line, "X-Auth-Token:", 13) == 0) {
            g_free(token);
            token = g_strdup(g_strstrip(line + 13));
        }
        if (g_ascii_strncasecmp(line, "Content-Length:", 15) == 0)
            content_length = (gsize)g_ascii_strtoull(line + 15, NULL, 10);
    }
    if (content_length > 0) {
        g_autofree char *body = g_malloc(content_length);

        g_input_stream_read_all(G_INPUT_STREAM(data), body, content_length, NULL, NULL, NULL);
    }
    g_mutex_lock(&st.lock);
    if (first) {
        char *sp = strrchr(first, ' ');

        if (sp)
            *sp = '\0'; /* drop " HTTP/1.1" */
        g_ptr_array_add(st.request_lines, g_strdup(g_strstrip(first)));
        g_ptr_array_add(st.auth_tokens, g_strdup(token));
    }
    c = g_queue_pop_head(&st.answers);
    g_mutex_unlock(&st.lock);
    if (!c)
        c = g_new0(canned, 1), c->status = 500, c->headers = g_strdup(""), c->body = g_strdup("");
    reply = g_strdup_printf("HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                            c->status, c->headers, strlen(c->body), c->body);
    g_output_stream_write_all(out, reply, strlen(reply), NULL, NULL, NULL);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    canned_free(c);
}

static gpointer
serve(gpointer unused)
{
    for (;;) {
        g_autoptr(GSocketConnection) conn =
            g_socket_listener_accept(st.listener, NULL, st.stop, NULL);

        if (!conn)
            return NULL; /* listener closed */
        serve_one(conn);
    }
}

static void
stub_start(void)
{
    g_autoptr(GError) error = NULL;

    g_mutex_init(&st.lock);
    g_queue_init(&st.answers);
    st.request_lines = g_ptr_array_new_with_free_func(g_free);
    st.auth_tokens = g_ptr_array_new_with_free_func(g_free);
    st.listener = g_socket_listener_new();
    st.stop = g_cancellable_new();
    {
        g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
        g_autoptr(GSocketAddress) bound = NULL;

        cr_assert(g_socket_listener_add_address(st.listener, addr, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error),
                  "%s", error ? error->message : "");
        st.port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    }
    st.thread = g_thread_new("http-stub", serve, NULL);
}

static void
stub_stop(void)
{
    g_cancellable_cancel(st.stop);
    g_thread_join(st.thread);
    g_socket_listener_close(st.listener);
    g_clear_object(&st.stop);
    g_clear_object(&st.listener);
    g_queue_clear_full(&st.answers, (GDestroyNotify)canned_free);
    g_clear_pointer(&st.request_lines, g_ptr_array_unref);
    g_clear_pointer(&st.auth_tokens, g_ptr_array_unref);
    g_mutex_clear(&st.lock);
}

static const char *
request(guint i)
{
    cr_assert_lt(i, st.request_lines->len, "only %u requests", st.request_lines->len);
    return g_ptr_array_index(st.request_lines, i);
}

/* ---- configurations -------------------------------------------------- */

static char *tmpdir;

static void
setup(void)
{
    tmpdir = nv_test_mkdtemp();
    stub_start();
}

static void
teardown(void)
{
    stub_stop();
    nv_test_rmtree(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
}

static nv_conf *
load(const char *text, GError **error)
{
    g_autofree char *path = g_build_filename(tmpdir, "nvirt.conf", NULL);
    g_autoptr(GError) local = NULL;

    cr_assert(g_file_set_contents(path, text, -1, &local));
    return nv_conf_load(path, NULL, error);
}

/* A config for the stub with a password user; @auth_port 1 = nothing there. */
static nv_conf *
stub_conf(guint16 auth_port, guint16 barbican_port, const char *extra)
{
    g_autofree char *text = g_strdup_printf(
        "[key_manager]\nbackend = barbican\n"
        "[barbican]\nbarbican_endpoint = http://127.0.0.1:%u/\nnumber_of_retries = 0\n"
        "retry_delay = 0\n%s"
        "[barbican_service_user]\nauth_type = password\nauth_url = http://127.0.0.1:%u/v3\n"
        "username = nova\nuser_domain_name = Default\npassword = pa\"ss\\\\word\n"
        "project_name = bar\nproject_domain_name = Default\n",
        barbican_port, extra ? extra : "", auth_port);
    g_autoptr(GError) error = NULL;
    nv_conf *conf = load(text, &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    return conf;
}

static nv_keymgr *
manager(const nv_conf *conf)
{
    g_autoptr(GError) error = NULL;
    nv_keymgr *mgr = nv_keymgr_new_from_conf(conf, &error);

    cr_assert_not_null(mgr, "%s", error ? error->message : "");
    cr_assert_str_eq(nv_keymgr_backend_name(mgr), "barbican");
    return mgr;
}

static void
assert_get_fails(nv_keymgr *mgr, int code, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) pass = nv_keymgr_get_volume_passphrase(mgr, "vol-1", KEY_ID, &error);

    cr_assert_null(pass);
    cr_assert(g_error_matches(error, NV_ERROR, code), "code %d: %s", error ? error->code : -1,
              error ? error->message : "");
    cr_assert_str_eq(error->message, message);
}

/* ---- options ------------------------------------------------------------ */

TestSuite(barbican, .init = setup, .fini = teardown);

Test(barbican, options_have_castellan_and_keystoneauth_names)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf =
        load("[barbican]\nbarbican_endpoint = https://kms:9311\nauth_endpoint = "
             "https://ks/v3\nbarbican_api_version = v1\nverify_ssl = false\n"
             "verify_ssl_path = /etc/ca.pem\nnumber_of_retries = 3\nretry_delay = 2\n"
             "[barbican_service_user]\nauth_type = v3applicationcredential\n"
             "application_credential_id = abc\napplication_credential_secret = s3cr;et\n",
             &error);

    cr_assert_not_null(conf, "%s", error ? error->message : "");
    cr_assert_str_eq(conf->barbican.barbican_endpoint, "https://kms:9311");
    cr_assert_str_eq(conf->barbican.auth_endpoint, "https://ks/v3");
    cr_assert_str_eq(conf->barbican.barbican_api_version, "v1");
    cr_assert_eq(conf->barbican.verify_ssl, FALSE);
    cr_assert_str_eq(conf->barbican.verify_ssl_path, "/etc/ca.pem");
    cr_assert_eq(conf->barbican.number_of_retries, 3);
    cr_assert_eq(conf->barbican.retry_delay, 2);
    cr_assert_str_eq(conf->barbican_service_user.auth_type, "v3applicationcredential");
    cr_assert_str_eq(conf->barbican_service_user.application_credential_id, "abc");
    /* iniparser's rule: an unquoted value ends at ';'. */
    cr_assert_str_eq(nv_secure_buf_str(conf->barbican_service_user.application_credential_secret),
                     "s3cr");
}

Test(barbican, defaults_are_castellans)
{
    g_autoptr(nv_conf) conf = nv_conf_new_default();

    cr_assert_str_eq(conf->barbican.auth_endpoint, "http://localhost/identity/v3");
    cr_assert_eq(conf->barbican.verify_ssl, TRUE);
    cr_assert_eq(conf->barbican.number_of_retries, 60);
    cr_assert_eq(conf->barbican.retry_delay, 1);
    cr_assert_str_eq(conf->barbican.barbican_endpoint, ""); /* <None>: the catalog's */
    cr_assert_null(conf->barbican_service_user.password);
}

Test(barbican, unsupported_auth_type_is_a_config_error)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf =
        load("[key_manager]\nbackend = barbican\n[barbican_service_user]\nauth_type = kerberos\n",
             &error);

    cr_assert_not_null(conf);
    cr_assert_null(nv_keymgr_new_from_conf(conf, &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG));
    cr_assert_str_eq(error->message, "[barbican_service_user] auth_type: 'kerberos' is not "
                                     "supported (password, v3applicationcredential, token)");
}

Test(barbican, password_auth_needs_a_password)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = load("[key_manager]\nbackend = barbican\n[barbican_service_user]\n"
                                   "auth_type = password\nusername = nova\n"
                                   "user_domain_name = Default\n",
                                   &error);

    cr_assert_null(nv_keymgr_new_from_conf(conf, &error));
    cr_assert_str_eq(error->message, "[barbican_service_user] password is not set");
}

/* The body json-glib cannot write without a heap copy of the password: it
 * must still be JSON that parses to keystoneauth's request. */
Test(barbican, password_body_is_keystoneauths_json)
{
    g_autoptr(nv_conf) conf = stub_conf(1, 1, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_keystone_auth) auth = nv_keystone_auth_new(conf, &error);
    g_autoptr(nv_secure_buf) body = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *root;
    JsonObject *user;

    cr_assert_not_null(auth, "%s", error ? error->message : "");
    body = nv_keystone_auth_body(auth);
    cr_assert(json_parser_load_from_data(parser, nv_secure_buf_str(body), -1, &error), "%s",
              error ? error->message : "");
    root =
        json_object_get_object_member(json_node_get_object(json_parser_get_root(parser)), "auth");
    user = json_object_get_object_member(
        json_object_get_object_member(json_object_get_object_member(root, "identity"), "password"),
        "user");
    cr_assert_str_eq(json_object_get_string_member(user, "name"), "nova");
    /* Written as pa"ss\\word in the file: iniparser keeps both backslashes. */
    cr_assert_str_eq(json_object_get_string_member(user, "password"), "pa\"ss\\\\word");
    cr_assert_str_eq(
        json_object_get_string_member(json_object_get_object_member(user, "domain"), "name"),
        "Default");
    cr_assert_str_eq(
        json_object_get_string_member(
            json_object_get_object_member(json_object_get_object_member(root, "scope"), "project"),
            "name"),
        "bar");
}

/* ---- the exchange and its errors -------------------------------------- */

Test(barbican, key_is_the_raw_payload_and_the_token_is_cached)
{
    g_autoptr(nv_conf) conf = stub_conf(st.port, st.port, NULL);
    g_autoptr(nv_keymgr) mgr = manager(conf);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) k1 = NULL;
    g_autoptr(nv_secure_buf) k2 = NULL;

    answer_token("tok-1", 3600);
    answer(200, "Content-Type: application/octet-stream\r\n", KEY_BYTES);
    answer(200, "Content-Type: application/octet-stream\r\n", KEY_BYTES);
    k1 = nv_keymgr_get_key(mgr, KEY_ID, &error);
    cr_assert_not_null(k1, "%s", error ? error->message : "");
    k2 = nv_keymgr_get_key(mgr, KEY_ID, &error);
    cr_assert_not_null(k2, "%s", error ? error->message : "");
    cr_assert_eq(nv_secure_buf_len(k1), 32);
    cr_assert_eq(memcmp(nv_secure_buf_cdata(k1), KEY_BYTES, 32), 0);
    cr_assert_eq(st.request_lines->len, 3);
    cr_assert_str_eq(request(0), "POST /v3/auth/tokens");
    cr_assert_str_eq(request(1), "GET /v1/secrets/" KEY_ID "/payload");
    cr_assert_str_eq(request(2), "GET /v1/secrets/" KEY_ID "/payload");
    cr_assert_str_eq(g_ptr_array_index(st.auth_tokens, 2), "tok-1");
}

Test(barbican, expired_token_is_renewed_before_use)
{
    g_autoptr(nv_conf) conf = stub_conf(st.port, st.port, NULL);
    g_autoptr(nv_keymgr) mgr = manager(conf);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) k1 = NULL;
    g_autoptr(nv_secure_buf) k2 = NULL;

    /* Inside the renewal margin already: the next get needs a new one. */
    answer_token("tok-1", 1);
    answer(200, NULL, KEY_BYTES);
    answer_token("tok-2", 3600);
    answer(200, NULL, KEY_BYTES);
    k1 = nv_keymgr_get_key(mgr, KEY_ID, &error);
    cr_assert_not_null(k1, "%s", error ? error->message : "");
    k2 = nv_keymgr_get_key(mgr, KEY_ID, &error);
    cr_assert_not_null(k2, "%s", error ? error->message : "");
    cr_assert_str_eq(request(2), "POST /v3/auth/tokens");
    cr_assert_str_eq(g_ptr_array_index(st.auth_tokens, 3), "tok-2");
}

Test(barbican, refused_cached_token_is_renewed_once)
{
    g_autoptr(nv_conf) conf = stub_conf(st.port, st.port, NULL);
    g_autoptr(nv_keymgr) mgr = manager(conf);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) k1 = NULL;
    g_autoptr(nv_secure_buf) k2 = NULL;

    answer_token("tok-1", 3600);
    answer(200, NULL, KEY_BYTES);
    answer(401, NULL, "{}");
    answer_token("tok-2", 3600);
    answer(200, NULL, KEY_BYTES);
    k1 = nv_keymgr_get_key(mgr, KEY_ID, &error);
    cr_assert_not_null(k1, "%s", error ? error->message : "");
    k2 = nv_keymgr_get_key(mgr, KEY_ID, &error);
    cr_assert_not_null(k2, "%s", error ? error->message : "");
    cr_assert_eq(st.request_lines->len, 5);
    cr_assert_str_eq(g_ptr_array_index(st.auth_tokens, 4), "tok-2");
}

Test(barbican, keystone_401_names_the_user_and_auth_url)
{
    g_autoptr(nv_conf) conf = stub_conf(st.port, st.port, NULL);
    g_autoptr(nv_keymgr) mgr = manager(conf);
    g_autofree char *message = g_strdup_printf(
        "volume vol-1: key " KEY_ID ": authentication failed for user 'nova' (domain Default) at "
        "http://127.0.0.1:%u/v3 (HTTP 401)",
        st.port);

    answer(401, NULL, "{\"error\": {\"code\": 401}}");
    assert_get_fails(mgr, NV_ERROR_AUTH, message);
}

Test(barbican, barbican_403_404_and_5xx)
{
    g_autoptr(nv_conf) conf = stub_conf(st.port, st.port, NULL);
    g_autoptr(nv_keymgr) mgr = manager(conf);
    g_autofree char *m403 = g_strdup_printf("volume vol-1: key " KEY_ID
                                            ": user 'nova' (domain Default) may not read it from "
                                            "Barbican at http://127.0.0.1:%u (HTTP 403)",
                                            st.port);
    g_autofree char *m404 = g_strdup_printf(
        "volume vol-1: key " KEY_ID ": not found in Barbican at http://127.0.0.1:%u (HTTP 404)",
        st.port);
    g_autofree char *m500 = g_strdup_printf(
        "volume vol-1: key " KEY_ID ": Barbican at http://127.0.0.1:%u answered HTTP 500", st.port);

    answer_token("tok-1", 3600);
    answer(403, NULL, "{}");
    assert_get_fails(mgr, NV_ERROR_AUTH, m403);
    answer(404, NULL, "{}");
    assert_get_fails(mgr, NV_ERROR_NOT_FOUND, m404);
    answer(500, NULL, "{}");
    assert_get_fails(mgr, NV_ERROR_FAILED, m500);
}

Test(barbican, server_errors_are_retried_number_of_retries_times)
{
    g_autoptr(nv_conf) conf = NULL;
    g_autoptr(nv_keymgr) mgr = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) key = NULL;
    g_autofree char *text =
        g_strdup_printf("[key_manager]\nbackend = barbican\n[barbican]\nbarbican_endpoint = "
                        "http://127.0.0.1:%u\nnumber_of_retries = 2\nretry_delay = 0\n",
                        st.port);

    conf = load(text, &error);
    mgr = manager(conf);
    nv_keymgr_set_auth_token(mgr, NULL);
    {
        g_autoptr(nv_secure_buf) tok = nv_secure_buf_new_from("user-token", 10);

        nv_keymgr_set_auth_token(mgr, tok);
    }
    answer(503, NULL, "");
    answer(503, NULL, "");
    answer(200, NULL, KEY_BYTES);
    key = nv_keymgr_get_key(mgr, KEY_ID, &error);
    cr_assert_not_null(key, "%s", error ? error->message : "");
    cr_assert_eq(st.request_lines->len, 3);
    /* The handed-in token, and no Keystone request at all. */
    cr_assert_str_eq(g_ptr_array_index(st.auth_tokens, 2), "user-token");
}

Test(barbican, refused_connection_is_unreachable_with_the_endpoint)
{
    g_autoptr(GSocketListener) gone = g_socket_listener_new();
    guint16 port = g_socket_listener_add_any_inet_port(gone, NULL, NULL);
    g_autoptr(nv_conf) conf = NULL;
    g_autoptr(nv_keymgr) mgr = NULL;
    g_autofree char *prefix = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_secure_buf) key = NULL;

    g_socket_listener_close(gone); /* a port nobody listens on */
    conf = stub_conf(port, port, NULL);
    mgr = manager(conf);
    prefix = g_strdup_printf("volume vol-1: key " KEY_ID ": key manager unreachable: cannot reach "
                             "http://127.0.0.1:%u/v3/auth/tokens (",
                             port);
    key = nv_keymgr_get_volume_passphrase(mgr, "vol-1", KEY_ID, &error);
    cr_assert_null(key);
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_UNREACHABLE), "%s",
              error ? error->message : "");
    cr_assert(g_str_has_prefix(error->message, prefix), "%s", error->message);
}

Test(barbican, key_id_that_would_change_the_url_is_refused)
{
    g_autoptr(nv_conf) conf = stub_conf(st.port, st.port, NULL);
    g_autoptr(nv_keymgr) mgr = manager(conf);
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_keymgr_get_key(mgr, "../../v3/users", &error));
    cr_assert(g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT));
    cr_assert_str_eq(error->message, "key '../../v3/users': not a Barbican secret id");
    cr_assert_eq(st.request_lines->len, 0);
}

Test(barbican, refused_handed_in_token_is_not_renewed)
{
    g_autofree char *text = g_strdup_printf("[key_manager]\nbackend = barbican\n[barbican]\n"
                                            "barbican_endpoint = http://127.0.0.1:%u\n",
                                            st.port);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = load(text, &error);
    g_autoptr(nv_keymgr) mgr = manager(conf);
    g_autoptr(nv_secure_buf) tok = nv_secure_buf_new_from("user-token", 10);
    g_autofree char *message = g_strdup_printf(
        "volume vol-1: key " KEY_ID ": Barbican at http://127.0.0.1:%u refused the token handed "
        "to the driver (HTTP 401)",
        st.port);

    nv_keymgr_set_auth_token(mgr, tok);
    answer(401, NULL, "{}");
    assert_get_fails(mgr, NV_ERROR_AUTH, message);
    cr_assert_eq(st.request_lines->len, 1, "a handed-in token was renewed");
}

Test(barbican, token_auth_body_and_application_credential_body)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_conf) conf = load("[barbican_service_user]\nauth_type = v3applicationcredential\n"
                                   "auth_url = http://ks:5000\n"
                                   "application_credential_id = ac1\n"
                                   "application_credential_secret = s\\e\"c\n",
                                   &error);
    g_autoptr(nv_keystone_auth) auth = nv_keystone_auth_new(conf, &error);
    g_autoptr(nv_secure_buf) body = NULL;

    cr_assert_not_null(auth, "%s", error ? error->message : "");
    /* keystoneauth adds the version to an unversioned URL. */
    cr_assert_str_eq(auth->auth_url, "http://ks:5000/v3");
    body = nv_keystone_auth_body(auth);
    cr_assert_str_eq(nv_secure_buf_str(body),
                     "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],"
                     "\"application_credential\":{\"id\":\"ac1\",\"secret\":\"s\\\\e\\\"c\"}}}}");
}
