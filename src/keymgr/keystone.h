/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keystone v3 authentication for the Barbican backend (keystoneauth1's
 * password, v3applicationcredential and token plugins, as castellan loads
 * them from [barbican_service_user]).  Private to keymgr.
 */
#pragma once

#include <glib.h>

#include "conf/conf.h"
#include "util/secure.h"

G_BEGIN_DECLS

typedef enum {
    NV_KEYSTONE_AUTH_PASSWORD,
    NV_KEYSTONE_AUTH_APPLICATION_CREDENTIAL,
    NV_KEYSTONE_AUTH_TOKEN,
} nv_keystone_auth_type;

/* The credentials of [barbican_service_user], checked. */
typedef struct {
    nv_keystone_auth_type type;
    char *auth_url; /* ends in "/v3", no trailing '/' */
    char
        *identity; /* for messages: "user 'nova' (domain Default)", "application credential 'ID'" */
    const nv_conf *conf; /* borrowed: the strings and secrets of the section */
} nv_keystone_auth;

/* Check [barbican_service_user] of @conf (borrowed; must outlive the result).
 * Errors (NV_ERROR_CONFIG), e.g.
 *   "[barbican_service_user] auth_type: 'kerberos' is not supported (password,
 *    v3applicationcredential, token)"
 *   "[barbican_service_user] password is not set"
 * An unset auth_type returns NULL without an error: no service credentials. */
nv_keystone_auth *nv_keystone_auth_new(const nv_conf *conf, GError **error);
void nv_keystone_auth_free(nv_keystone_auth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nv_keystone_auth, nv_keystone_auth_free)

typedef struct {
    nv_secure_buf *token;  /* X-Subject-Token */
    gint64 expires_at;     /* g_get_real_time() microseconds; G_MAXINT64: not given */
    char *key_manager_url; /* the catalog's public key-manager endpoint; NULL: none */
} nv_keystone_token;

/* POST AUTH_URL/auth/tokens.  Errors: NV_ERROR_AUTH "authentication failed
 * for IDENTITY at AUTH_URL (HTTP 401)", NV_ERROR_UNREACHABLE "cannot reach
 * ...", NV_ERROR_FAILED for any other answer.  Server errors (5xx) are
 * retried @retries times, @delay_s apart.  @out is filled on success (clear
 * it with nv_keystone_token_clear()). */
gboolean nv_keystone_authenticate(const nv_keystone_auth *auth, gboolean verify_tls,
                                  const char *ca_path, int retries, int delay_s,
                                  nv_keystone_token *out, GError **error);

void nv_keystone_token_clear(nv_keystone_token *token);

/* Exposed for unit tests: the request body for @auth, in secure memory
 * (it holds the password, secret or token). */
nv_secure_buf *nv_keystone_auth_body(const nv_keystone_auth *auth);

G_END_DECLS
