/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Barbican backend: castellan's BarbicanKeyManager.get() as Nova uses it
 * to read a volume's key (castellan/key_manager/barbican_key_manager.py).
 *
 * One Keystone token per key manager (so per driver), from
 * [barbican_service_user] or handed in by the compute service
 * (nv_keymgr_set_auth_token), cached until its expires_at and renewed once
 * when Barbican answers 401.  The key is the raw payload of
 * GET /v1/secrets/ID/payload (Accept: application/octet-stream), received
 * straight into secure memory (keymgr/http.c).
 */
#include "keymgr/barbican.h"

#include <string.h>

#include "keymgr/http.h"
#include "keymgr/keystone.h"
#include "nvirt/error.h"

/* Renew a token this long before Keystone says it expires, so a request does
 * not carry one that lapses on the way. */
#define EXPIRY_MARGIN_US (10 * G_USEC_PER_SEC)

typedef struct {
    const nv_conf *conf;    /* borrowed: the driver's */
    nv_keystone_auth *auth; /* NULL: no service credentials */
    GMutex lock;            /* the members below */
    nv_keystone_token token;
    nv_secure_buf *user_token; /* handed in; used instead of auth */
} barbican_state;

static const char *
nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* A key id goes into the URL path: Barbican's are UUIDs; refuse anything
 * that would change the path or need escaping. */
static gboolean
check_secret_id(const char *key_id, GError **error)
{
    gsize len = strlen(key_id);
    g_autofree char *quoted = NULL;

    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isalnum(key_id[i]) && key_id[i] != '-' && key_id[i] != '_')
            len = 0;
    }
    if (len > 0 && len <= 64)
        return TRUE;
    quoted = g_strescape(key_id, NULL);
    g_set_error(error, NV_ERROR, NV_ERROR_BAD_INPUT, "key '%s': not a Barbican secret id", quoted);
    return FALSE;
}

/* Who the request speaks for, in messages. */
static const char *
identity(const barbican_state *st)
{
    return st->user_token ? "the holder of the token handed to the driver" : st->auth->identity;
}

/* The token to send, authenticating if there is none or it has expired;
 * called with the lock held.  *@fresh says it was obtained just now. */
static const char *
current_token(barbican_state *st, gboolean *fresh, GError **error)
{
    const nv_conf *conf = st->conf;

    *fresh = FALSE;
    if (st->user_token)
        return nv_secure_buf_str(st->user_token);
    if (st->token.token && g_get_real_time() < st->token.expires_at - EXPIRY_MARGIN_US)
        return nv_secure_buf_str(st->token.token);
    nv_keystone_token_clear(&st->token);
    g_debug("key manager 'barbican': authenticating %s at %s", st->auth->identity,
            st->auth->auth_url);
    if (!nv_keystone_authenticate(
            st->auth, conf->barbican.verify_ssl, nonempty(conf->barbican.verify_ssl_path),
            conf->barbican.number_of_retries, conf->barbican.retry_delay, &st->token, error))
        return NULL;
    *fresh = TRUE;
    return nv_secure_buf_str(st->token.token);
}

/* Barbican's base URL, no trailing '/'. */
static char *
endpoint(const barbican_state *st, GError **error)
{
    const char *url = nonempty(st->conf->barbican.barbican_endpoint);
    g_autofree char *base = NULL;
    gsize len;

    if (!url)
        url = st->token.key_manager_url;
    if (!url) {
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                    "[barbican] barbican_endpoint is not set and the token's catalog has no "
                    "public key-manager endpoint");
        return NULL;
    }
    base = g_strdup(url);
    len = strlen(base);
    while (len > 0 && base[len - 1] == '/')
        base[--len] = '\0';
    return g_steal_pointer(&base);
}

/* The error for a non-200 answer to the payload GET. */
static void
set_http_error(const barbican_state *st, const char *key_id, const char *base, long status,
               GError **error)
{
    switch (status) {
    case 401:
        if (st->user_token)
            g_set_error(error, NV_ERROR, NV_ERROR_AUTH,
                        "key %s: Barbican at %s refused the token handed to the driver (HTTP 401)",
                        key_id, base);
        else
            g_set_error(error, NV_ERROR, NV_ERROR_AUTH,
                        "key %s: Barbican at %s refused the token of %s from %s (HTTP 401)", key_id,
                        base, st->auth->identity, st->auth->auth_url);
        return;
    case 403:
        g_set_error(error, NV_ERROR, NV_ERROR_AUTH,
                    "key %s: %s may not read it from Barbican at %s (HTTP 403)", key_id,
                    identity(st), base);
        return;
    case 404:
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND,
                    "key %s: not found in Barbican at %s (HTTP 404)", key_id, base);
        return;
    default:
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "key %s: Barbican at %s answered HTTP %ld",
                    key_id, base, status);
    }
}

static nv_secure_buf *
get_key_locked(barbican_state *st, const char *key_id, GError **error)
{
    const nv_conf *conf = st->conf;
    const char *version = nonempty(conf->barbican.barbican_api_version);
    g_autofree char *base = NULL;
    g_autofree char *url = NULL;
    gboolean renewed = FALSE;

    for (int attempt = 0;;) {
        nv_http_response resp = { 0 };
        gboolean fresh;
        const char *token = current_token(st, &fresh, error);
        nv_http_request req = {
            .method = "GET",
            .accept = "application/octet-stream",
            .verify_tls = conf->barbican.verify_ssl,
            .ca_path = nonempty(conf->barbican.verify_ssl_path),
        };
        long status;

        if (!token)
            return NULL;
        if (!url) {
            base = endpoint(st, error);
            if (!base)
                return NULL;
            url =
                g_strdup_printf("%s/%s/secrets/%s/payload", base, version ? version : "v1", key_id);
        }
        req.url = url;
        req.auth_token = token;
        if (!nv_http_send(&req, &resp, error))
            return NULL;
        status = resp.status;
        if (status == 200 && nv_secure_buf_len(resp.body) > 0) {
            nv_secure_buf *key = g_steal_pointer(&resp.body);

            nv_http_response_clear(&resp);
            return key;
        }
        nv_http_response_clear(&resp);
        if (status == 200) {
            g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                        "key %s: Barbican at %s returned an empty payload", key_id, base);
            return NULL;
        }
        /* A cached token Keystone revoked, or whose expiry we misjudged:
         * authenticate once more. */
        if (status == 401 && !fresh && !renewed && !st->user_token) {
            g_debug("key manager 'barbican': token refused, renewing");
            nv_keystone_token_clear(&st->token);
            renewed = TRUE;
            continue;
        }
        if (status >= 500 && attempt < conf->barbican.number_of_retries) {
            attempt++;
            g_usleep((gulong)conf->barbican.retry_delay * G_USEC_PER_SEC);
            continue;
        }
        set_http_error(st, key_id, base, status, error);
        return NULL;
    }
}

static nv_secure_buf *
barbican_get_key(gpointer state, const char *key_id, GError **error)
{
    barbican_state *st = state;
    g_autoptr(GError) local = NULL;
    nv_secure_buf *key;

    if (!check_secret_id(key_id, error))
        return NULL;
    g_mutex_lock(&st->lock);
    if (!st->user_token && !st->auth) {
        g_mutex_unlock(&st->lock);
        g_set_error(error, NV_ERROR, NV_ERROR_CONFIG,
                    "key %s: [barbican_service_user] auth_type is not set and no token was "
                    "handed to the driver",
                    key_id);
        return NULL;
    }
    key = get_key_locked(st, key_id, &local);
    g_mutex_unlock(&st->lock);
    if (!key) {
        /* Keystone's and curl's messages do not name the key. */
        if (!g_str_has_prefix(local->message, "key "))
            g_prefix_error(&local, "key %s: %s", key_id,
                           local->code == NV_ERROR_UNREACHABLE ? "key manager unreachable: " : "");
        g_propagate_error(error, g_steal_pointer(&local));
    }
    return key;
}

static void
barbican_set_auth_token(gpointer state, const nv_secure_buf *token)
{
    barbican_state *st = state;

    g_mutex_lock(&st->lock);
    g_clear_pointer(&st->user_token, nv_secure_buf_unref);
    if (token && nv_secure_buf_len(token) > 0)
        st->user_token =
            nv_secure_buf_new_from(nv_secure_buf_cdata(token), nv_secure_buf_len(token));
    g_mutex_unlock(&st->lock);
}

static void
barbican_free_state(gpointer state)
{
    barbican_state *st = state;

    nv_keystone_token_clear(&st->token);
    g_clear_pointer(&st->user_token, nv_secure_buf_unref);
    nv_keystone_auth_free(st->auth);
    g_mutex_clear(&st->lock);
    g_free(st);
}

static const nv_keymgr_backend barbican_backend = {
    .name = "barbican",
    .get_key = barbican_get_key,
    .set_auth_token = barbican_set_auth_token,
    .free_state = barbican_free_state,
};

nv_keymgr *
nv_keymgr_new_barbican(const nv_conf *conf, GError **error)
{
    g_autoptr(GError) local = NULL;
    nv_keystone_auth *auth = nv_keystone_auth_new(conf, &local);
    barbican_state *st;

    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    st = g_new0(barbican_state, 1);
    st->conf = conf;
    st->auth = auth;
    g_mutex_init(&st->lock);
    return nv_keymgr_new(&barbican_backend, st);
}
