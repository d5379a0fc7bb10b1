/*
 * harness_mock.c - the mock's control API over HTTPS with the test CA:
 * settings, faults, the outbox, and counting the API requests it got.
 */

#include "harness.h"
#include "harness_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

static size_t
collect(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_reply *r = userp;
	size_t n = size * nmemb;
	char *nb = realloc(r->body, r->len + n + 1);

	if (nb == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

struct http_reply
mock_http(const char *path, const char *body, bool bearer)
{
	struct http_reply r = {0, NULL, 0};
	struct curl_slist *hdrs = NULL;
	char url[4096];
	CURL *c;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s%s", mock_url, path);
	c = curl_easy_init();
	assert_non_null(c);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (bearer) {
		hdrs =
		    curl_slist_append(hdrs, "Authorization: Bearer " API_KEY);
		hdrs = curl_slist_append(hdrs, "X-Project-Id: " PROJECT_ID);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	else
		print_error("mock %s: %s\n", path, curl_easy_strerror(cc));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (r.body == NULL)
		r.body = strdup("");
	return r;
}

void
mock_post(const char *path, const char *json)
{
	struct http_reply r = mock_http(path, json, false);

	if (r.status < 200 || r.status > 299) {
		print_error("mock POST %s %s -> %ld %s\n", path, json, r.status,
			    r.body);
		free(r.body);
		fail();
	}
	free(r.body);
}

void
mock_config(const char *json)
{
	mock_post("/_mock/config", json);
}

void
mock_fault(const char *json)
{
	mock_post("/_mock/fault", json);
}

cJSON *
mock_get_json(const char *path)
{
	struct http_reply r = mock_http(path, NULL, false);
	cJSON *j;

	if (r.status != 200) {
		print_error("mock GET %s -> %ld %s\n", path, r.status, r.body);
		free(r.body);
		fail();
	}
	j = cJSON_Parse(r.body);
	free(r.body);
	assert_non_null(j);
	return j;
}

static cJSON *
mock_array(const char *path, const char *member)
{
	cJSON *j = mock_get_json(path);
	cJSON *a = cJSON_DetachItemFromObject(j, member);

	cJSON_Delete(j);
	assert_true(cJSON_IsArray(a));
	return a;
}

cJSON *
mock_requests(void)
{
	return mock_array("/_mock/requests", "requests");
}

cJSON *
mock_outbox(void)
{
	return mock_array("/_mock/outbox", "messages");
}

const char *
json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Requests whose path equals path (exact) or starts with it (prefix). */
static int
count_matching(const char *path, bool prefix)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	int n = 0;

	cJSON_ArrayForEach(req, reqs)
	{
		const char *p = json_str(req, "path");

		if (path == NULL ||
		    (p != NULL && (prefix ? strncmp(p, path, strlen(path)) == 0
					  : strcmp(p, path) == 0)))
			n++;
	}
	cJSON_Delete(reqs);
	return n;
}

int
mock_count(const char *path)
{
	return count_matching(path, false);
}

int
mock_count_prefix(const char *prefix)
{
	return count_matching(prefix, true);
}

long
mock_stat(const char *name)
{
	cJSON *j = mock_get_json("/_mock/stats");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	long n;

	assert_true(cJSON_IsNumber(v));
	n = (long)v->valuedouble;
	cJSON_Delete(j);
	return n;
}

/* The mock records a JSON body parsed, other text as a string. */
cJSON *
mock_body_of(const cJSON *req)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "body");

	if (cJSON_IsString(b))
		return cJSON_Parse(b->valuestring);
	if (b != NULL && !cJSON_IsNull(b))
		return cJSON_Duplicate(b, true);
	return NULL;
}

cJSON *
mock_request_body(const char *path, int nth)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	cJSON *body = NULL;

	cJSON_ArrayForEach(req, reqs)
	{
		const char *p = json_str(req, "path");

		if (p == NULL || strcmp(p, path) != 0)
			continue;
		if (nth-- > 0)
			continue;
		body = mock_body_of(req);
		break;
	}
	cJSON_Delete(reqs);
	return body;
}
