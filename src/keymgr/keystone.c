/* SPDX-License-Identifier: Apache-2.0 */
/* Keystone v3 tokens for the Barbican backend (see keystone.h). */
#include "keymgr/keystone.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "keymgr/http.h"
#include "nvirt/error.h"

/* Where the secret goes in the JSON json-glib writes; the secret itself is
 * spliced in only inside secure memory (nv_keystone_auth_body). */
#define SECRET_PLACEHOLDER "@@nvirt-secret@@"

static const char *
nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static gboolean
require(const char *value, const char *name, GError **error)
{
    if (nonempty(value))
        return TRUE;
    g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "[barbican_service_user] %s is not set", name);
    return FALSE;
}

static gboolean
require_secret(const nv_secure_buf *value, const char *name, GError **error)
{
    if (value && nv_secure_buf_len(value) > 0)
        return TRUE;
    g_set_error(error, NV_ERROR, NV_ERROR_CONFIG, "[barbican_service_user] %s is not set", name);
    return FALSE;
}

/* keystoneauth appends /v3 when the URL names no version; nvirt accepts
 * both spellings the same way. */
static char *
v3_url(const char *url)
{
    g_autofree char *base = g_strdup(url);
    gsize len = strlen(base);

    while (len > 0 && base[len - 1] == '/')
        base[--len] = '\0';
    if (g_str_has_suffix(base, "/v3"))
        return g_steal_pointer(&base);
    return g_strconcat(base, "/v3", NULL);
}

nv_keystone_auth *
nv_keystone_auth_new(const nv_conf *conf, GError **error)
{
    const struct nv_conf_service_user *su = &conf->barbican_service_user;
    const char *type = nonempty(su->auth_type);
    const char *url = nonempty(su->auth_url) ? su->auth_url : conf->barbican.auth_endpoint;
    g_autoptr(nv_keystone_auth) auth = NULL;

    if (!type)
        return NULL;
    auth = g_new0(nv_keystone_auth, 1);
    auth->conf = conf;
    if (strcmp(type, "password") == 0 || strcmp(type, "v3password") == 0) {
        const char *user = nonempty(su->username) ? su->username : su->user_id;
        const char *domain =
            nonempty(su->user_domain_name) ? su->user_domain_name : su->user_domain_id;

        auth->type = NV_KEYSTONE_AUTH_PASSWORD;
        if (!require(user, "username", error) || !require_secret(su->password, "password", error))
            return NULL;
        if (nonempty(su->username) && !nonempty(domain)) {
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                        "[barbican_service_user] username needs user_domain_name or "
                        "user_domain_id");
            return NULL;
        }
        auth->identity = domain ? g_strdup_printf("user '%s' (domain %s)", user, domain)
                                : g_strdup_printf("user '%s'", user);
    } else if (strcmp(type, "v3applicationcredential") == 0 ||
               strcmp(type, "applicationcredential") == 0) {
        auth->type = NV_KEYSTONE_AUTH_APPLICATION_CREDENTIAL;
        if (!require_secret(su->application_credential_secret, "application_credential_secret",
                            error))
            return NULL;
        if (nonempty(su->application_credential_id)) {
            auth->identity =
                g_strdup_printf("application credential '%s'", su->application_credential_id);
        } else if (nonempty(su->application_credential_name) &&
                   (nonempty(su->username) || nonempty(su->user_id))) {
            auth->identity = g_strdup_printf("application credential '%s' of user '%s'",
                                             su->application_credential_name,
                                             nonempty(su->username) ? su->username : su->user_id);
        } else {
            g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                        "[barbican_service_user] application_credential_id is not set");
            return NULL;
        }
    } else if (strcmp(type, "token") == 0 || strcmp(type, "v3token") == 0) {
        auth->type = NV_KEYSTONE_AUTH_TOKEN;
        if (!require_secret(su->token, "token", error))
            return NULL;
        auth->identity = g_strdup("the configured token");
    } else {
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                    "[barbican_service_user] auth_type: '%s' is not supported (password, "
                    "v3applicationcredential, token)",
                    type);
        return NULL;
    }
    if (!require(url, "auth_url", error))
        return NULL;
    auth->auth_url = v3_url(url);
    return g_steal_pointer(&auth);
}

void
nv_keystone_auth_free(nv_keystone_auth *auth)
{
    if (!auth)
        return;
    g_free(auth->auth_url);
    g_free(auth->identity);
    g_free(auth);
}

/* MEMBER: {"name": NAME} or {"id": ID}, plus the domain the same way, if
 * any; the object is left open for the caller to add to and close. */
static void
add_named(JsonBuilder *b, const char *member, const char *name, const char *id,
          const char *domain_name, const char *domain_id)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_object(b);
    if (nonempty(id) && !nonempty(name)) {
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, id);
    } else {
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, name);
    }
    if (nonempty(domain_name) || nonempty(domain_id)) {
        json_builder_set_member_name(b, "domain");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, nonempty(domain_name) ? "name" : "id");
        json_builder_add_string_value(b, nonempty(domain_name) ? domain_name : domain_id);
        json_builder_end_object(b);
    }
}

/* The secret as a JSON string's contents (RFC 8259 section 7), written into
 * secure memory: the one piece of JSON not written by json-glib, because
 * json-glib's output would be an unwiped heap copy of the password. */
static gsize
escaped_len(const nv_secure_buf *secret)
{
    const guint8 *p = nv_secure_buf_cdata(secret);
    gsize n = 0;

    for (gsize i = 0; i < nv_secure_buf_len(secret); i++)
        n += p[i] == '"' || p[i] == '\\' ? 2 : p[i] < 0x20 ? 6 : 1;
    return n;
}

static guint8 *
escape_into(guint8 *out, const nv_secure_buf *secret)
{
    const guint8 *p = nv_secure_buf_cdata(secret);

    for (gsize i = 0; i < nv_secure_buf_len(secret); i++) {
        if (p[i] == '"' || p[i] == '\\') {
            *out++ = '\\';
            *out++ = p[i];
        } else if (p[i] < 0x20) {
            static const char hex[] = "0123456789abcdef";

            memcpy(out, "\\u00", 4);
            out[4] = (guint8)hex[p[i] >> 4];
            out[5] = (guint8)hex[p[i] & 0xf];
            out += 6;
        } else {
            *out++ = p[i];
        }
    }
    return out;
}

nv_secure_buf *
nv_keystone_auth_body(const nv_keystone_auth *auth)
{
    const struct nv_conf_service_user *su = &auth->conf->barbican_service_user;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;
    const nv_secure_buf *secret = NULL;
    const char *method = NULL;
    const char *hole;
    nv_secure_buf *body;
    guint8 *out;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "auth");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "identity");
    json_builder_begin_object(b);
    switch (auth->type) {
    case NV_KEYSTONE_AUTH_PASSWORD:
        method = "password";
        secret = su->password;
        break;
    case NV_KEYSTONE_AUTH_APPLICATION_CREDENTIAL:
        method = "application_credential";
        secret = su->application_credential_secret;
        break;
    case NV_KEYSTONE_AUTH_TOKEN:
        method = "token";
        secret = su->token;
        break;
    }
    json_builder_set_member_name(b, "methods");
    json_builder_begin_array(b);
    json_builder_add_string_value(b, method);
    json_builder_end_array(b);
    json_builder_set_member_name(b, method);
    json_builder_begin_object(b);
    if (auth->type == NV_KEYSTONE_AUTH_PASSWORD) {
        add_named(b, "user", su->username, su->user_id, su->user_domain_name, su->user_domain_id);
        json_builder_set_member_name(b, "password");
        json_builder_add_string_value(b, SECRET_PLACEHOLDER);
        json_builder_end_object(b);
    } else if (auth->type == NV_KEYSTONE_AUTH_APPLICATION_CREDENTIAL) {
        if (nonempty(su->application_credential_id)) {
            json_builder_set_member_name(b, "id");
            json_builder_add_string_value(b, su->application_credential_id);
        } else {
            json_builder_set_member_name(b, "name");
            json_builder_add_string_value(b, su->application_credential_name);
            add_named(b, "user", su->username, su->user_id, su->user_domain_name,
                      su->user_domain_id);
            json_builder_end_object(b);
        }
        json_builder_set_member_name(b, "secret");
        json_builder_add_string_value(b, SECRET_PLACEHOLDER);
    } else {
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, SECRET_PLACEHOLDER);
    }
    json_builder_end_object(b); /* method */
    json_builder_end_object(b); /* identity */
    /* An application credential carries its own scope. */
    if (auth->type != NV_KEYSTONE_AUTH_APPLICATION_CREDENTIAL &&
        (nonempty(su->project_name) || nonempty(su->project_id))) {
        json_builder_set_member_name(b, "scope");
        json_builder_begin_object(b);
        add_named(b, "project", su->project_name, su->project_id, su->project_domain_name,
                  su->project_domain_id);
        json_builder_end_object(b);
        json_builder_end_object(b);
    }
    json_builder_end_object(b); /* auth */
    json_builder_end_object(b);

    root = json_builder_get_root(b);
    text = json_to_string(root, FALSE);
    hole = strstr(text, "\"" SECRET_PLACEHOLDER "\"");
    g_assert(hole);
    hole++;
    body = nv_secure_buf_new(strlen(text) - strlen(SECRET_PLACEHOLDER) + escaped_len(secret));
    out = nv_secure_buf_data(body);
    memcpy(out, text, (gsize)(hole - text));
    out = escape_into(out + (hole - text), secret);
    memcpy(out, hole + strlen(SECRET_PLACEHOLDER), strlen(hole + strlen(SECRET_PLACEHOLDER)));
    return body;
}

/* token.expires_at and the public key-manager URL of token.catalog. */
static gboolean
parse_token_body(const nv_secure_buf *body, const char *auth_url, nv_keystone_token *out,
                 GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *token;
    JsonNode *node;
    const char *expires;

    if (!json_parser_load_from_data(parser, nv_secure_buf_str(body),
                                    (gssize)nv_secure_buf_len(body), NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)) ||
        !(node = json_object_get_member(json_node_get_object(json_parser_get_root(parser)),
                                        "token")) ||
        !JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "%s/auth/tokens: no token in the answer",
                    auth_url);
        return FALSE;
    }
    token = json_node_get_object(node);
    out->expires_at = G_MAXINT64;
    expires = json_object_get_string_member_with_default(token, "expires_at", NULL);
    if (expires) {
        g_autoptr(GDateTime) when = g_date_time_new_from_iso8601(expires, NULL);

        if (when)
            out->expires_at =
                g_date_time_to_unix(when) * G_USEC_PER_SEC + g_date_time_get_microsecond(when);
    }
    node = json_object_get_member(token, "catalog");
    if (!node || !JSON_NODE_HOLDS_ARRAY(node))
        return TRUE;
    for (guint i = 0; i < json_array_get_length(json_node_get_array(node)); i++) {
        JsonNode *svc = json_array_get_element(json_node_get_array(node), i);
        JsonNode *eps;

        if (!JSON_NODE_HOLDS_OBJECT(svc) || g_strcmp0(json_object_get_string_member_with_default(
                                                          json_node_get_object(svc), "type", NULL),
                                                      "key-manager") != 0)
            continue;
        eps = json_object_get_member(json_node_get_object(svc), "endpoints");
        if (!eps || !JSON_NODE_HOLDS_ARRAY(eps))
            continue;
        for (guint j = 0; j < json_array_get_length(json_node_get_array(eps)); j++) {
            JsonNode *ep = json_array_get_element(json_node_get_array(eps), j);
            JsonObject *o = JSON_NODE_HOLDS_OBJECT(ep) ? json_node_get_object(ep) : NULL;

            if (o &&
                g_strcmp0(json_object_get_string_member_with_default(o, "interface", NULL),
                          "public") == 0 &&
                json_object_get_string_member_with_default(o, "url", NULL)) {
                out->key_manager_url = g_strdup(json_object_get_string_member(o, "url"));
                return TRUE;
            }
        }
    }
    return TRUE;
}

gboolean
nv_keystone_authenticate(const nv_keystone_auth *auth, gboolean verify_tls, const char *ca_path,
                         int retries, int delay_s, nv_keystone_token *out, GError **error)
{
    g_autofree char *url = g_strconcat(auth->auth_url, "/auth/tokens", NULL);
    g_autoptr(nv_secure_buf) body = nv_keystone_auth_body(auth);
    nv_http_request req = {
        .method = "POST",
        .url = url,
        .accept = "application/json",
        .json_body = body,
        .verify_tls = verify_tls,
        .ca_path = ca_path,
        .want_subject_token = TRUE,
    };
    nv_http_response resp = { 0 };

    memset(out, 0, sizeof(*out));
    for (int attempt = 0;; attempt++) {
        if (!nv_http_send(&req, &resp, error))
            return FALSE;
        if (resp.status < 500 || attempt >= retries)
            break;
        nv_http_response_clear(&resp);
        g_usleep((gulong)delay_s * G_USEC_PER_SEC);
    }
    if (resp.status == 401) {
        g_set_error(error, NV_ERROR, NV_ERROR_AUTH, "authentication failed for %s at %s (HTTP 401)",
                    auth->identity, auth->auth_url);
    } else if (resp.status != 201 && resp.status != 200) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "%s answered HTTP %ld authenticating %s", url,
                    resp.status, auth->identity);
    } else if (!resp.subject_token || nv_secure_buf_len(resp.subject_token) == 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "%s: no X-Subject-Token in the answer", url);
    } else if (parse_token_body(resp.body, auth->auth_url, out, error)) {
        out->token = g_steal_pointer(&resp.subject_token);
        nv_http_response_clear(&resp);
        return TRUE;
    }
    nv_http_response_clear(&resp);
    return FALSE;
}

void
nv_keystone_token_clear(nv_keystone_token *token)
{
    g_clear_pointer(&token->token, nv_secure_buf_unref);
    g_clear_pointer(&token->key_manager_url, g_free);
    token->expires_at = 0;
}
