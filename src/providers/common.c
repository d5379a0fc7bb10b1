/*
 * common.c - the shared request path of the HTTP providers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../core/json.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* Room for the caller's headers plus the two JSON ones and the end. */
#define MAX_HEADERS 8

char *
provider_header(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *h = malloc(n);

	if (h != NULL)
		snprintf(h, n, "%s: %s", name, value);
	return h;
}

char *
provider_bearer(const char *key)
{
	size_t n = strlen(key) + sizeof("Authorization: Bearer ");
	char *h = malloc(n);

	if (h != NULL)
		snprintf(h, n, "Authorization: Bearer %s", key);
	return h;
}

enum bv_result
provider_call(struct bv_ctx *ctx, const char *api_url, const char *method,
	      const char *path, const char *const *headers, const char *body,
	      struct http_response *resp, struct bv_outcome *out)
{
	const char *all[MAX_HEADERS + 3];
	enum bv_result rc = BV_NOMEM;
	size_t n = 0, len;
	char *url;

	len = strlen(api_url) + strlen(path) + 1;
	url = malloc(len);
	if (url == NULL)
		goto out;
	snprintf(url, len, "%s%s", api_url, path);
	for (; headers != NULL && headers[n] != NULL && n < MAX_HEADERS; n++)
		all[n] = headers[n];
	if (strcmp(method, "POST") == 0)
		all[n++] = "Content-Type: application/json";
	all[n++] = "Accept: application/json";
	all[n] = NULL;
	rc = http_request(ctx->http, method, url, all, body, resp);
	out->http_status = resp->status;
	if (rc != BV_OK)
		text_sanitize(out->detail, sizeof(out->detail), resp->error);
out:
	free(url);
	return rc;
}

cJSON *
provider_parse_object(const struct http_response *resp)
{
	cJSON *root;

	if (resp->body == NULL || resp->len == 0)
		return NULL;
	root = cJSON_ParseWithLength(resp->body, resp->len);
	if (root != NULL && !cJSON_IsObject(root)) {
		json_wipe_delete(root);
		root = NULL;
	}
	return root;
}

enum bv_result
provider_undocumented(long status, const char *what, struct bv_outcome *out)
{
	if (status >= 300 && status < 400)
		snprintf(out->detail, sizeof(out->detail), "redirect refused");
	else if (status >= 500)
		snprintf(out->detail, sizeof(out->detail), "server error");
	else
		snprintf(out->detail, sizeof(out->detail), "%s", what);
	return BV_UNAVAILABLE;
}
