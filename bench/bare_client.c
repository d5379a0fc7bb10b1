/*
 * bare_client.c - the floor of a BaxVerify login: a bare libcurl client.
 *
 * The three HTTPS requests of one login (send, verify, validate-token)
 * with the module's headers, bodies and CA file, one easy handle for the
 * three, made by the smallest program that can: linked with libcurl as
 * any client is, and nothing else.  bench_auth runs it as a program
 * (fork, exec) for two floors at once:
 *
 *   B   the requests alone: this program times them itself, libcurl
 *       loaded and initialised, and prints the microseconds on stdout
 *   B0  the whole program, as bench_auth times it from fork to exit:
 *       what a fresh libcurl client costs, as the helper is one
 *
 *   bare_client            the login; prints "MICROSECONDS\n"
 *   bare_client --start    exit at once: loading the libraries only
 *
 * Environment (bench_auth passes its own): BV_BENCH_MOCK_URL,
 * BV_BENCH_CA, BV_BENCH_API_KEY, BV_BENCH_PROJECT_ID, BV_BENCH_PHONE,
 * BV_BENCH_CODE.  Exit status 0, or 99 with a reason on stderr.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bench_util.h"

#define BODY_MAX (64 * 1024)

static struct {
	const char *mock_url, *ca, *api_key, *project_id, *phone, *code;
} env;

static char body[BODY_MAX + 1];
static size_t body_len;

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("bare_client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(99);
}

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		die("%s is not set (run bench/run-bench.sh)", name);
	return v;
}

/* The answer into body; a longer one fails the transfer, as in the
   module. */
static size_t
sink(char *data, size_t size, size_t nmemb, void *userp)
{
	size_t n = size * nmemb;

	(void)userp;
	if (body_len + n > BODY_MAX)
		return 0;
	memcpy(body + body_len, data, n);
	body_len += n;
	body[body_len] = '\0';
	return n;
}

static void
post(CURL *e, struct curl_slist *hdrs, const char *path, const char *json)
{
	char url[1024];
	long status = 0;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s/v1%s", env.mock_url, path);
	body_len = 0;
	body[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	cc = curl_easy_perform(e);
	if (cc != CURLE_OK)
		die("%s: %s", path, curl_easy_strerror(cc));
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		die("%s: HTTP %ld: %s", path, status, body);
}

/* The value of "key":"..." in the last answer, into out. */
static bool
string_of(const char *key, char *out, size_t outsz)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(body, pat);
	if (p == NULL)
		return false;
	p += strlen(pat);
	end = strchr(p, '"');
	if (end == NULL || (size_t)(end - p) >= outsz)
		return false;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return true;
}

/* One login's three requests; the microseconds they took. */
static double
login(void)
{
	static char auth[512], project[256], send_body[256], verify_body[256];
	static char token[8192], validate_body[8300];
	struct curl_slist *hdrs = NULL;
	double t0, t1;
	CURL *e;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", env.api_key);
	snprintf(project, sizeof(project), "X-Project-Id: %s", env.project_id);
	snprintf(send_body, sizeof(send_body),
		 "{\"phone\":\"%s\",\"purpose\":\"LOGIN\"}", env.phone);
	snprintf(verify_body, sizeof(verify_body),
		 "{\"phone\":\"%s\",\"code\":\"%s\"}", env.phone, env.code);

	t0 = now_us();
	/* The module's request headers, in its order. */
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, project);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	e = curl_easy_init();
	if (hdrs == NULL || e == NULL)
		die("out of memory");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CAINFO, env.ca);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_USERAGENT,
			 PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);

	post(e, hdrs, "/auth/sms/send", send_body);
	post(e, hdrs, "/auth/sms/verify", verify_body);
	if (!string_of("accessToken", token, sizeof(token)))
		die("no accessToken in %s", body);
	snprintf(validate_body, sizeof(validate_body),
		 "{\"token\":\"%s\",\"consume\":false}", token);
	post(e, hdrs, "/auth/sms/validate-token", validate_body);
	if (strstr(body, "\"valid\":true") == NULL)
		die("token not valid: %s", body);

	curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	t1 = now_us();
	return t1 - t0;
}

int
main(int argc, char **argv)
{
	double us;

	if (argc == 2 && strcmp(argv[1], "--start") == 0)
		return 0;
	if (argc != 1)
		die("usage: bare_client [--start]");
	env.mock_url = need_env("BV_BENCH_MOCK_URL");
	env.ca = need_env("BV_BENCH_CA");
	env.api_key = need_env("BV_BENCH_API_KEY");
	env.project_id = need_env("BV_BENCH_PROJECT_ID");
	env.phone = need_env("BV_BENCH_PHONE");
	env.code = need_env("BV_BENCH_CODE");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
	us = login();
	curl_global_cleanup();
	printf("%.0f\n", us);
	return fflush(stdout) == 0 ? 0 : 99;
}
