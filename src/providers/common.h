/*
 * common.h - what the HTTP providers share: one call that puts a JSON
 * request on the wire to {api_url}{path}, and JSON helpers for bodies.
 */
#ifndef BV_PROVIDER_COMMON_H
#define BV_PROVIDER_COMMON_H

#include <cjson/cJSON.h>

#include "provider.h"

/*
 * "Name: value" in a new string (may carry a key: free with
 * bv_free_secret).  NULL when out of memory.
 */
char *provider_header(const char *name, const char *value);

/* "Authorization: Bearer KEY" (free with bv_free_secret), or NULL. */
char *provider_bearer(const char *key);

/*
 * Send method ("GET"/"POST") to api_url + path with the given
 * headers (NULL-terminated "Name: value" lines, JSON content headers are
 * added) and body (POST only).  Returns BV_OK when any HTTP answer came
 * back (resp filled, out->http_status set), else BV_UNAVAILABLE or
 * BV_NOMEM with out->detail saying why.
 */
enum bv_result provider_call(struct bv_ctx *ctx, const char *api_url,
			     const char *method, const char *path,
			     const char *const *headers, const char *body,
			     struct http_response *resp,
			     struct bv_outcome *out);

/* Parse a response body as a JSON object; NULL when it is not one. */
cJSON *provider_parse_object(const struct http_response *resp);

/*
 * The "unavailable" verdict on an answer that is not what the documents
 * promise: 3xx (redirects are never followed), 5xx, or a body of the wrong
 * shape.  Sets out->detail and returns BV_UNAVAILABLE.
 */
enum bv_result provider_undocumented(long status, const char *what,
				     struct bv_outcome *out);

#endif /* BV_PROVIDER_COMMON_H */
