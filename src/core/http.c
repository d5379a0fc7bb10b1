/*
 * http.c - HTTPS requests through one libcurl easy handle.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "http.h"
#include "wipe.h"

/* Where Debian keeps the system's trusted CAs, used beside ca_file. */
#define SYSTEM_CA_DIR "/etc/ssl/certs"
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* Most addresses of one name handed to libcurl. */
#define PIN_MAX_ADDRS 8

struct http_client {
	CURL *curl;
	const struct bv_http_config *conf;
	struct curl_slist *pins; /* CURLOPT_RESOLVE: names we resolved */
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
	curl_slist_free_all(c->pins);
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
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, hc->connect_timeout);
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

/*
 * What a libcurl error means.  Only what the network or the server can
 * cause is an outage (and may let failmode = "safe" admit); a failure of
 * this host (memory, a thread or descriptor it could not get, a CA file
 * it cannot read) never is.
 */
static enum bv_result
curl_result(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR: /* our size cap */
		return BV_UNAVAILABLE;
	case CURLE_OUT_OF_MEMORY:
		return BV_NOMEM;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return BV_CONFIG;
	default:
		/* Resolving (we resolve ourselves: curl's own resolver
		   failing means it could not start its thread), init
		   failures, anything unknown. */
		return BV_INTERNAL;
	}
}

/* "host:port:addr,addr" for CURLOPT_RESOLVE; v6 addresses in brackets. */
static enum bv_result
pin_entry(const char *host, const char *port, const struct addrinfo *ai,
	  char *out, size_t outsz, char *why, size_t whysz)
{
	size_t used;
	int n = 0;

	used = (size_t)snprintf(out, outsz, "%s:%s:", host, port);
	for (; ai != NULL && n < PIN_MAX_ADDRS && used < outsz;
	     ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN];
		const void *raw =
		    ai->ai_family == AF_INET6
			? (const void *)&(
			      (const struct sockaddr_in6 *)(const void *)
				  ai->ai_addr)
			      ->sin6_addr
			: (const void *)&(
			      (const struct sockaddr_in *)(const void *)
				  ai->ai_addr)
			      ->sin_addr;

		if (inet_ntop(ai->ai_family, raw, addr, sizeof(addr)) == NULL)
			continue;
		used += (size_t)snprintf(out + used, outsz - used,
					 ai->ai_family == AF_INET6 ? "%s[%s]"
								   : "%s%s",
					 n > 0 ? "," : "", addr);
		n++;
	}
	if (n == 0 || used >= outsz) {
		snprintf(why, whysz, "no usable address for %.64s", host);
		return BV_UNAVAILABLE;
	}
	return BV_OK;
}

/* Has host:port an entry already? */
static bool
pinned(const struct http_client *c, const char *host, const char *port)
{
	const struct curl_slist *l;
	size_t hl = strlen(host), pl = strlen(port);

	for (l = c->pins; l != NULL; l = l->next)
		if (strncmp(l->data, host, hl) == 0 && l->data[hl] == ':' &&
		    strncmp(l->data + hl + 1, port, pl) == 0 &&
		    l->data[hl + 1 + pl] == ':')
			return true;
	return false;
}

/*
 * Resolve the host of url here, in the helper's one thread, and hand the
 * addresses to libcurl: its own resolver runs in a thread, and a caller
 * who keeps the process from starting threads would make that look like
 * a DNS failure, an outage.  Only the resolver's own answers are: no
 * such name, a temporary or permanent DNS failure.
 */
static enum bv_result
pin_host(struct http_client *c, const char *url, char *why, size_t whysz)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char *host = NULL, *port = NULL, entry[1024];
	struct curl_slist *tmp;
	enum bv_result rc = BV_CONFIG;
	CURLU *u = curl_url();
	int err;

	if (u == NULL)
		return BV_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
		CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		CURLUE_OK) {
		snprintf(why, whysz, "cannot parse the URL");
		goto out;
	}
	/* A bracketed v6 literal needs no resolving; a name is resolved
	   once per client (every request of a login). */
	rc = BV_OK;
	if (host[0] == '[' || pinned(c, host, port))
		goto out;
	err = getaddrinfo(host, port, &hints, &ai);
	if (err == EAI_NONAME || err == EAI_AGAIN || err == EAI_FAIL ||
	    err == EAI_NODATA) {
		snprintf(why, whysz, "cannot resolve %.64s: %s", host,
			 gai_strerror(err));
		rc = BV_UNAVAILABLE;
	} else if (err != 0) {
		snprintf(why, whysz, "resolver failed for %.64s: %s", host,
			 gai_strerror(err));
		rc = err == EAI_MEMORY ? BV_NOMEM : BV_INTERNAL;
	} else {
		rc =
		    pin_entry(host, port, ai, entry, sizeof(entry), why, whysz);
	}
	if (rc == BV_OK) {
		tmp = curl_slist_append(c->pins, entry);
		if (tmp == NULL)
			rc = BV_NOMEM;
		else
			c->pins = tmp;
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

enum bv_result
http_request(struct http_client *c, const char *method, const char *url,
	     const char *const *headers, const char *body,
	     struct http_response *resp)
{
	struct sink sink = {NULL, 0, 0};
	struct curl_slist *hdrs = NULL;
	enum bv_result rc = BV_NOMEM;
	CURLcode cc;
	CURL *h = c->curl;

	memset(resp, 0, sizeof(*resp));
	sink.buf = calloc(1, HTTP_MAX_BODY + 1);
	hdrs = build_headers(headers);
	if (sink.buf == NULL || hdrs == NULL)
		goto out;
	rc = pin_host(c, url, resp->error, sizeof(resp->error));
	if (rc == BV_OK && c->conf->proxy != NULL)
		rc = pin_host(c, c->conf->proxy, resp->error,
			      sizeof(resp->error));
	if (rc != BV_OK)
		goto out;
	curl_easy_reset(h); /* keeps the connection cache, drops options */
	cc = set_safe_options(c);
	cc |= curl_easy_setopt(h, CURLOPT_RESOLVE, c->pins);
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
		rc = curl_result(cc);
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
