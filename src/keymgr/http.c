/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP requests for the Barbican backend (see http.h). */
#include "keymgr/http.h"

#include <curl/curl.h>
#include <string.h>

#include "nvirt/error.h"

#define INITIAL_BODY_SIZE 4096

/* A response body growing inside secure memory, never past NV_HTTP_MAX_BODY. */
typedef struct {
    nv_secure_buf *buf;
    gsize used;
    gboolean too_large;
    nv_secure_buf *subject_token;
    gboolean want_subject_token;
} receiver;

static size_t
on_body(char *data, size_t size, size_t nmemb, void *user)
{
    receiver *rx = user;
    gsize n = size * nmemb;

    if (n > NV_HTTP_MAX_BODY - rx->used) {
        rx->too_large = TRUE;
        return 0; /* curl aborts the transfer */
    }
    if (!rx->buf || rx->used + n > nv_secure_buf_len(rx->buf)) {
        gsize cap = rx->buf ? nv_secure_buf_len(rx->buf) : INITIAL_BODY_SIZE;
        nv_secure_buf *bigger;

        while (cap < rx->used + n)
            cap *= 2;
        bigger = nv_secure_buf_new(MIN(cap, (gsize)NV_HTTP_MAX_BODY));
        if (rx->buf)
            memcpy(nv_secure_buf_data(bigger), nv_secure_buf_cdata(rx->buf), rx->used);
        nv_secure_buf_unref(rx->buf);
        rx->buf = bigger;
    }
    memcpy(nv_secure_buf_data(rx->buf) + rx->used, data, n);
    rx->used += n;
    return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *user)
{
    static const char name[] = "x-subject-token:";
    receiver *rx = user;
    gsize n = size * nmemb;
    const char *v;
    const char *end = data + n;

    if (!rx->want_subject_token || n < sizeof(name) - 1 ||
        g_ascii_strncasecmp(data, name, sizeof(name) - 1) != 0)
        return n;
    v = data + sizeof(name) - 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && g_ascii_isspace(end[-1]))
        end--;
    nv_secure_buf_unref(rx->subject_token);
    rx->subject_token = nv_secure_buf_new_from(v, (gsize)(end - v));
    return n;
}

/* curl_slist_append copies each header into plain heap memory: wipe the
 * copies before freeing them. */
static void
free_headers(struct curl_slist *headers)
{
    for (struct curl_slist *h = headers; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
}

static gpointer
init_curl(gpointer unused)
{
    /* Reference-counted and installs no handler (CURL_GLOBAL_DEFAULT is SSL
     * init only); without it the first curl_easy_init() would do the same,
     * thread-unsafely. */
    return GINT_TO_POINTER(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
}

/* An "X-Auth-Token: TOKEN" header, built in secure memory. */
static nv_secure_buf *
token_header(const char *token)
{
    static const char prefix[] = "X-Auth-Token: ";
    gsize len = strlen(token);
    nv_secure_buf *h = nv_secure_buf_new(sizeof(prefix) - 1 + len);

    memcpy(nv_secure_buf_data(h), prefix, sizeof(prefix) - 1);
    memcpy(nv_secure_buf_data(h) + sizeof(prefix) - 1, token, len);
    return h;
}

gboolean
nv_http_send(const nv_http_request *req, nv_http_response *resp, GError **error)
{
    static GOnce once = G_ONCE_INIT;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    receiver rx = { .want_subject_token = req->want_subject_token };
    CURLcode rc;
    CURL *curl;

    memset(resp, 0, sizeof(*resp));
    if (!GPOINTER_TO_INT(g_once(&once, init_curl, NULL)) || !(curl = curl_easy_init())) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "cannot initialise libcurl");
        return FALSE;
    }

    if (req->accept) {
        g_autofree char *accept = g_strdup_printf("Accept: %s", req->accept);

        headers = curl_slist_append(headers, accept);
    }
    if (req->auth_token) {
        g_autoptr(nv_secure_buf) h = token_header(req->auth_token);

        headers = curl_slist_append(headers, nv_secure_buf_str(h));
    }
    if (req->json_body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, nv_secure_buf_cdata(req->json_body));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)nv_secure_buf_len(req->json_body));
    }
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    /* A library in someone else's process: no SIGALRM for DNS timeouts. */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)NV_HTTP_CONNECT_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)NV_HTTP_TOTAL_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    /* A redirect would send the token elsewhere; Barbican and Keystone send
     * none. */
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, req->verify_tls ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, req->verify_tls ? 2L : 0L);
    if (req->verify_tls && req->ca_path) {
        if (g_file_test(req->ca_path, G_FILE_TEST_IS_DIR))
            curl_easy_setopt(curl, CURLOPT_CAPATH, req->ca_path);
        else
            curl_easy_setopt(curl, CURLOPT_CAINFO, req->ca_path);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rx);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &rx);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);

    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_cleanup(curl);
    free_headers(headers);

    if (rx.too_large) {
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED, "%s: response larger than %d bytes", req->url,
                    NV_HTTP_MAX_BODY);
    } else if (rc != CURLE_OK) {
        g_set_error(error, NV_ERROR, NV_ERROR_UNREACHABLE, "cannot reach %s (%s)", req->url,
                    *errbuf ? errbuf : curl_easy_strerror(rc));
    } else {
        resp->body = nv_secure_buf_new_from(rx.buf ? nv_secure_buf_cdata(rx.buf) : NULL, rx.used);
        resp->subject_token = g_steal_pointer(&rx.subject_token);
    }
    nv_secure_buf_unref(rx.buf);
    nv_secure_buf_unref(rx.subject_token);
    return rc == CURLE_OK && !rx.too_large;
}

void
nv_http_response_clear(nv_http_response *resp)
{
    g_clear_pointer(&resp->body, nv_secure_buf_unref);
    g_clear_pointer(&resp->subject_token, nv_secure_buf_unref);
    resp->status = 0;
}
