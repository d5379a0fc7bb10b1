/*
 * http.h - the HTTPS client on libcurl.
 *
 * One client (one curl easy handle) per authentication, so every request
 * of it reuses one TLS connection when the server keeps it open.  TLS peer
 * and host verification are always on, only https is spoken, redirects are
 * never followed, proxies come only from the configuration, responses over
 * HTTP_MAX_BODY bytes are refused, and every request has a deadline.
 */
#ifndef BV_HTTP_H
#define BV_HTTP_H

#include <stddef.h>

#include "conf.h"
#include "result.h"

#define HTTP_MAX_BODY (64 * 1024)

struct http_client;

struct http_response {
	long status; /* HTTP status, 0 when no response arrived */
	char *body;  /* NUL-terminated, wiped on clear (may hold a token) */
	size_t len;
	char error[128]; /* what went wrong below HTTP, for the log */
};

/* Create a client; nothing touches the network until http_request. */
enum bv_result http_client_new(const struct bv_http_config *conf,
			       struct http_client **out);
void http_client_free(struct http_client *c);

/*
 * Send one request.  method is "GET" or "POST"; body (JSON, may hold a
 * secret; we own and later wipe it) is NULL for GET; headers is a
 * NULL-terminated list of "Name: value" lines (may hold the API key; the
 * copies libcurl makes are wiped here).  Returns BV_OK whenever an HTTP
 * response arrived (any status), BV_UNAVAILABLE for network, TLS, timeout,
 * redirect-less 3xx is still a response; oversized bodies are
 * BV_UNAVAILABLE.  resp must be cleared with http_response_clear.
 */
enum bv_result http_request(struct http_client *c, const char *method,
			    const char *url, const char *const *headers,
			    const char *body, struct http_response *resp);

void http_response_clear(struct http_response *resp);

#endif /* BV_HTTP_H */
