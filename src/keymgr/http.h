/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The little HTTP the Barbican backend needs, on libcurl (private to
 * keymgr).
 *
 * libcurl rather than libsoup-3.0: a blocking request with connect and total
 * timeouts and no main loop is what a key fetch inside an attach is, and
 * libcurl hands every response byte to a callback, so the key payload and
 * the Keystone token go straight into nv_secure_buf memory instead of a
 * GBytes that would be freed unwiped.  The copies of secret request headers
 * nvirt can reach (curl_slist) are wiped after the request.  What libcurl
 * and the TLS library keep in their own send and receive buffers (a small
 * POST body is copied next to the headers) is out of reach: no API exposes
 * them and curl_global_init_mem() would replace the allocator of the whole
 * process; each request uses its own easy handle, freed at once, so those
 * buffers live only for one request.
 */
#pragma once

#include <glib.h>

#include "util/secure.h"

G_BEGIN_DECLS

/* Bounds of every request (seconds). */
#define NV_HTTP_CONNECT_TIMEOUT 10
#define NV_HTTP_TOTAL_TIMEOUT   60

/* The largest response body kept (a key is 32 or 64 bytes; a token
 * response with its catalog a few KiB). */
#define NV_HTTP_MAX_BODY (1024 * 1024)

typedef struct {
    const char *method;             /* "GET", "POST" */
    const char *url;                /* never carries a secret */
    const char *accept;             /* Accept header, NULL: none */
    const char *auth_token;         /* X-Auth-Token (secret), NULL: none */
    const nv_secure_buf *json_body; /* POST body, sent as application/json; NULL: none */
    gboolean verify_tls;
    const char *ca_path; /* file or directory; NULL: the system's */
    /* Capture the X-Subject-Token response header into @subject_token. */
    gboolean want_subject_token;
} nv_http_request;

typedef struct {
    long status;
    nv_secure_buf *body;          /* the response body, exactly its length */
    nv_secure_buf *subject_token; /* X-Subject-Token, if asked and present */
} nv_http_response;

/* Send @req.  FALSE only when no HTTP answer came (refused, timeout, TLS,
 * DNS): NV_ERROR_UNREACHABLE, "cannot reach URL_ORIGIN: REASON".  Any HTTP
 * status is TRUE; @resp is filled (the caller frees it with
 * nv_http_response_clear()). */
gboolean nv_http_send(const nv_http_request *req, nv_http_response *resp, GError **error);

void nv_http_response_clear(nv_http_response *resp);

G_END_DECLS
