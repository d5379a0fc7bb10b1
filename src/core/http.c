/*
 * http.c - HTTPS requests through one libcurl easy handle.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "wipe.h"

/* Where Debian keeps the system's trusted CAs, used beside ca_file. */
#define SYSTEM_CA_DIR "/etc/ssl/certs"
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

struct http_client {
	CURL *curl;
	const struct bv_http_config *conf;
};

/* Response collector: a buffer we own, capped, wiped on release. */
struct sink {
	char *buf;
	size_t len;
	int overflow;
};

static size_t
sink_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct sink *s = userp;
	size_t n = size * nmemb;

	if (s->len + n > HTTP_MAX_BODY) {
		s->overflow = 1;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

enum bv_result
http_client_new(const struct bv_http_config *conf, struct http_client **out)
{
	struct http_client *c;

	*out = NULL;
	/* Idempotent after the first call; no network is touched. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return BV_NOMEM;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return BV_NOMEM;
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c);
		return BV_NOMEM;
	}
	c->conf = conf;
	*out = c;
	return BV_OK;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

/* The options that make every request safe; set before each request. */
static CURLcode
set_safe_options(struct http_client *c)
{
	const struct bv_http_config *hc = c->conf;
	CURL *h = c->curl;
	CURLcode rc = CURLE_OK;

	/* Signals are the host program's (sshd, sudo), not ours. */
	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	rc |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	rc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	/*
	 * Trust anchors are named explicitly so that nothing in the
	 * environment (SSL_CERT_FILE, CURL_CA_BUNDLE) can swap them.
	 * ca_file adds to the system's CAs rather than replacing them.
	 */
	rc |= curl_easy_setopt(h, CURLOPT_CAINFO,
			       hc->ca_file ? hc->ca_file : SYSTEM_CA_BUNDLE);
	rc |= curl_easy_setopt(h, CURLOPT_CAPATH, SYSTEM_CA_DIR);
	/* "" disables the *_proxy environment variables. */
	rc |= curl_easy_setopt(h, CURLOPT_PROXY, hc->proxy ? hc->proxy : "");
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
			       hc->connect_timeout);
	rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT, hc->timeout);
	/*
	 * One connection per authentication leaves a TLS session cache
	 * nothing to resume, and libcurl 7.88's cache double-frees when its
	 * own allocation fails: off.
	 */
	rc |= curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	rc |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
			       (curl_off_t)HTTP_MAX_BODY);
	rc |= curl_easy_setopt(h, CURLOPT_USERAGENT,
			       PACKAGE_NAME "/" PACKAGE_VERSION);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	return rc;
}

/* Build libcurl's header list; our copies there are wiped by wipe_list. */
static struct curl_slist *
build_headers(const char *const *headers)
{
	struct curl_slist *list = NULL, *tmp;

	for (; headers != NULL && *headers != NULL; headers++) {
		tmp = curl_slist_append(list, *headers);
		if (tmp == NULL) {
			curl_slist_free_all(list);
			return NULL;
		}
		list = tmp;
	}
	/* Keep curl from sending "Expect: 100-continue" on larger bodies. */
	tmp = curl_slist_append(list, "Expect:");
	if (tmp == NULL)
		curl_slist_free_all(list);
	return tmp;
}

static void
wipe_list(struct curl_slist *list)
{
	struct curl_slist *l;

	for (l = list; l != NULL; l = l->next)
		bv_wipe_str(l->data);
	curl_slist_free_all(list);
}

enum bv_result
http_request(struct http_client *c, const char *method, const char *url,
	     const char *const *headers, const char *body,
	     struct http_response *resp)
{
	struct sink sink = { NULL, 0, 0 };
	struct curl_slist *hdrs = NULL;
	enum bv_result rc = BV_NOMEM;
	CURLcode cc;
	CURL *h = c->curl;

	memset(resp, 0, sizeof(*resp));
	sink.buf = calloc(1, HTTP_MAX_BODY + 1);
	hdrs = build_headers(headers);
	if (sink.buf == NULL || hdrs == NULL)
		goto out;
	curl_easy_reset(h); /* keeps the connection cache, drops options */
	cc = set_safe_options(c);
	cc |= curl_easy_setopt(h, CURLOPT_URL, url);
	cc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	cc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	if (strcmp(method, "POST") == 0) {
		/* POSTFIELDS, not COPYPOSTFIELDS: the bytes stay ours. */
		cc |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		cc |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
				       (long)(body ? strlen(body) : 0));
	} else {
		cc |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	if (cc != CURLE_OK) {
		/* Out of memory copying a string, or a libcurl without a
		   feature we rely on: this host's failure, not an outage. */
		snprintf(resp->error, sizeof(resp->error),
			 "libcurl refused an option");
		rc = BV_INTERNAL;
		goto out;
	}
	cc = curl_easy_perform(h);
	if (sink.overflow || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(resp->error, sizeof(resp->error),
			 "response larger than %d bytes", HTTP_MAX_BODY);
		rc = BV_UNAVAILABLE;
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(resp->error, sizeof(resp->error), "%s",
			 curl_easy_strerror(cc));
		rc = cc == CURLE_OUT_OF_MEMORY ? BV_NOMEM : BV_UNAVAILABLE;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = sink.buf;
	resp->len = sink.len;
	sink.buf = NULL;
	rc = BV_OK;
out:
	/* Drop our pointers from the handle before freeing what they name. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	wipe_list(hdrs);
	bv_free_secret_len(sink.buf, HTTP_MAX_BODY + 1);
	return rc;
}

void
http_response_clear(struct http_response *resp)
{
	bv_free_secret_len(resp->body, resp->len + 1);
	memset(resp, 0, sizeof(*resp));
}
