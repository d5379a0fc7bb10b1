/*
 * harness_leaks.c - the secret-hygiene check of every case (harness.h):
 * the secrets a case met, what the user saw and the PAM environments of
 * its transactions, and the leaks looked for at teardown - in syslog, on
 * the user's screen, in the PAM environment, in requests to the wrong
 * API, in the local store.
 */

#include "harness.h"
#include "harness_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#define MAX_SECRETS 128

/* Everything the user was shown in this case, across transactions. */
static char *transcript;
static size_t transcript_len;

/* Every PAM environment seen in this case, "NAME=value" per line. */
static char *env_seen;
static size_t env_seen_len;

/* Strings that must never reach syslog or the user, per case. */
static struct {
	char *s;
	bool env_ok; /* the PAM environment may carry it (exported token) */
} secrets[MAX_SECRETS];
static size_t n_secrets;

static void
add_secret_flag(const char *s, bool env_ok)
{
	if (s == NULL || s[0] == '\0')
		return;
	for (size_t i = 0; i < n_secrets; i++) {
		if (strcmp(secrets[i].s, s) == 0) {
			secrets[i].env_ok = secrets[i].env_ok && env_ok;
			return;
		}
	}
	if (n_secrets >= MAX_SECRETS)
		return;
	secrets[n_secrets].s = strdup(s);
	assert_non_null(secrets[n_secrets].s);
	secrets[n_secrets].env_ok = env_ok;
	n_secrets++;
}

void
add_secret(const char *s)
{
	add_secret_flag(s, false);
}

void
add_token_secret(const char *s)
{
	add_secret_flag(s, true);
}

static void
clear_secrets(void)
{
	for (size_t i = 0; i < n_secrets; i++) {
		free(secrets[i].s);
		secrets[i].s = NULL;
	}
	n_secrets = 0;
}

/*
 * Every token, Tryvox verification_id and delivered code the module
 * handled is a secret for syslog and the user.  (Tokens and ids may sit in
 * the PAM environment: BAXVERIFY_TOKEN exports them.)
 */
static void
collect_secrets_from_mock(void)
{
	cJSON *reqs = mock_requests();
	cJSON *outbox = mock_outbox();
	const cJSON *item;

	cJSON_ArrayForEach(item, reqs)
	{
		cJSON *b = mock_body_of(item);
		const char *p = json_str(item, "path");

		if (cJSON_IsObject(b)) {
			add_token_secret(json_str(b, "token"));
			add_token_secret(json_str(b, "verification_id"));
		}
		cJSON_Delete(b);
		/* GET /v1/verify/{id}: the status request. */
		if (p != NULL && strncmp(p, "/v1/verify/ver_", 15) == 0)
			add_token_secret(p + strlen("/v1/verify/"));
	}
	cJSON_ArrayForEach(item, outbox)
	{
		const char *code = json_str(item, "code");

		add_token_secret(json_str(item, "verification_id"));
		/* Short codes would match innocent text (e.g. "2671"). */
		if (code != NULL && strlen(code) >= 6)
			add_secret(code);
	}
	cJSON_Delete(outbox);
	cJSON_Delete(reqs);
}

/* The exported token (whatever the provider) is a secret for syslog and
   the user. */
static void
collect_secrets_from_env(void)
{
	const char *p = env_seen;

	while (p != NULL && (p = strstr(p, "BAXVERIFY_TOKEN=")) != NULL) {
		const char *v = p + strlen("BAXVERIFY_TOKEN=");
		const char *nl = strchr(v, '\n');
		char *tok =
		    strndup(v, nl != NULL ? (size_t)(nl - v) : strlen(v));

		assert_non_null(tok);
		add_token_secret(tok);
		free(tok);
		p = v;
	}
}

/*
 * Every code the local provider delivered: in outbox_path, "PHONE:
 * MESSAGE" per line, the code a word of digits in the message.  (Shorter
 * codes than 6 digits would match innocent text, as above.)
 */
static void
collect_secrets_from_outbox(void)
{
	char *box = read_whole_file(outbox_path);
	char *save = NULL;

	for (char *line = strtok_r(box, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *msg = strstr(line, ": ");
		char *wsave = NULL;

		if (msg == NULL)
			continue;
		for (char *w = strtok_r(msg + 2, " ", &wsave); w != NULL;
		     w = strtok_r(NULL, " ", &wsave)) {
			if (strlen(w) >= 6 &&
			    strspn(w, "0123456789") == strlen(w))
				add_secret(w);
		}
	}
	free(box);
}

/* ------------------------------------------------------------------ */
/* JWTs: the Mudbase token and refreshToken (and BaxVerify's token).   */

static bool
b64url_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

static int
b64url_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '-' ? 62 : 63;
}

/* Decode len base64url characters (no padding) into a new string. */
static char *
b64url_decode(const char *s, size_t len)
{
	char *out = calloc(1, len + 1);
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	assert_non_null(out);
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 6) | (unsigned)b64url_value(s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return out;
}

/*
 * The next JWT-looking "eyJ...x.y.z" in text at or after *from; returns
 * its start and sets *len and *claims (the decoded payload, free it), or
 * NULL when there is none.
 */
static const char *
next_jwt(const char **from, size_t *len, char **claims)
{
	const char *p = *from;

	while ((p = strstr(p, "eyJ")) != NULL) {
		const char *q = p, *payload = NULL;
		size_t plen = 0;
		int dots = 0;

		while (b64url_char(*q) || (*q == '.' && dots < 2)) {
			if (*q == '.') {
				dots++;
				if (dots == 1)
					payload = q + 1;
				else
					plen = (size_t)(q - payload);
			}
			q++;
		}
		if (dots == 2 && plen > 0 && payload > p + 1) {
			*len = (size_t)(q - p);
			*claims = b64url_decode(payload, plen);
			*from = q;
			return p;
		}
		p += 3;
	}
	*from = NULL;
	return NULL;
}

char *
jwt_payload(const char *jwt)
{
	const char *dot1 = jwt != NULL ? strchr(jwt, '.') : NULL;
	const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;

	if (dot2 == NULL || dot2 == dot1 + 1)
		return NULL;
	for (const char *c = dot1 + 1; c < dot2; c++) {
		if (!b64url_char(*c))
			return NULL;
	}
	return b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1));
}

static bool
claims_are_refresh(const char *claims)
{
	cJSON *j = cJSON_Parse(claims);
	const char *type = json_str(j, "type");
	bool refresh = type != NULL && strcmp(type, "refresh") == 0;

	cJSON_Delete(j);
	return refresh || strstr(claims, "refresh") != NULL;
}

/* Any JWT in what the user saw or in syslog is a leak. */
static bool
jwt_leak(const char *text, const char *where)
{
	const char *from = text, *jwt;
	size_t len;
	char *claims;
	bool leak = false;

	while (from != NULL && (jwt = next_jwt(&from, &len, &claims)) != NULL) {
		print_error("SECRET LEAK: %s contains a %s JWT \"%.*s\"\n",
			    where,
			    claims_are_refresh(claims) ? "refresh" : "token",
			    (int)len, jwt);
		free(claims);
		leak = true;
	}
	return leak;
}

/*
 * In the PAM environment only BAXVERIFY_TOKEN may hold a JWT, and never a
 * refresh token.
 */
static bool
env_jwt_leak(const char *env)
{
	const char *line = env;
	bool leak = false;

	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t llen = nl != NULL ? (size_t)(nl - line) : strlen(line);
		char *copy = strndup(line, llen);
		const char *from = copy, *jwt;
		size_t len;
		char *claims;

		assert_non_null(copy);
		while (from != NULL &&
		       (jwt = next_jwt(&from, &len, &claims)) != NULL) {
			bool refresh = claims_are_refresh(claims);

			if (refresh ||
			    strncmp(copy, "BAXVERIFY_TOKEN=", 16) != 0) {
				print_error("SECRET LEAK: PAM environment "
					    "holds a %s JWT: %s\n",
					    refresh ? "refresh" : "token",
					    copy);
				leak = true;
			}
			free(claims);
		}
		free(copy);
		line = nl != NULL ? nl + 1 : NULL;
	}
	return leak;
}

/* ------------------------------------------------------------------ */
/* Which key each API may see.                                         */

static bool
request_leak(const cJSON *req)
{
	const char *path = json_str(req, "path");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(req, "headers");
	char *text = cJSON_PrintUnformatted(req);
	bool mud, tvx, bax, leak = false;

	assert_non_null(text);
	if (path == NULL)
		path = "";
	mud = strncmp(path, "/api/", 5) == 0;
	tvx = strncmp(path, "/v1/verify", 10) == 0;
	bax = !mud && !tvx;
	if (mud && (cJSON_GetObjectItemCaseSensitive(h, "authorization") ||
		    cJSON_GetObjectItemCaseSensitive(h, "x-api-key"))) {
		print_error("KEY LEAK: Mudbase request %s carried an "
			    "Authorization/X-Api-Key header\n",
			    path);
		leak = true;
	}
	if (!bax && strstr(text, API_KEY) != NULL) {
		print_error("KEY LEAK: the BaxVerify key went to %s\n", path);
		leak = true;
	}
	if (!tvx && strstr(text, TRYVOX_KEY) != NULL) {
		print_error("KEY LEAK: the Tryvox key went to %s\n", path);
		leak = true;
	}
	free(text);
	return leak;
}

static bool
requests_leak(void)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	bool leak = false;

	cJSON_ArrayForEach(req, reqs) leak = request_leak(req) || leak;
	cJSON_Delete(reqs);
	return leak;
}

/* Is s in text as a whole word (between blanks or line ends)? */
static bool
has_word(const char *text, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = text; (p = strstr(p, s)) != NULL; p++) {
		bool start = p == text || p[-1] == ' ' || p[-1] == '\n';
		bool stop = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';

		if (start && stop)
			return true;
	}
	return false;
}

/*
 * The store keeps hashes only: no code, recovery code or token may be
 * found in a file of it.  Short secrets (codes) count as a whole field
 * only, so that a digit run inside a timestamp is no false alarm.
 */
static bool
store_leak(void)
{
	DIR *d = opendir(store_path);
	struct dirent *e;
	char path[8192];
	bool leak = false;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL) {
		char *text;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", store_path, e->d_name);
		text = read_whole_file(path);
		for (size_t s = 0; s < n_secrets; s++) {
			const char *sec = secrets[s].s;

			if (strlen(sec) >= 16 ? strstr(text, sec) != NULL
					      : has_word(text, sec)) {
				print_error("SECRET LEAK: store file %s "
					    "contains \"%s\"\n",
					    path, sec);
				leak = true;
			}
		}
		free(text);
	}
	closedir(d);
	return leak;
}

/* ------------------------------------------------------------------ */
/* What the harness calls.                                             */

void
hygiene_keep_shown(const char *m)
{
	append_line(&transcript, &transcript_len, m);
}

void
hygiene_keep_env(const char *line)
{
	append_line(&env_seen, &env_seen_len, line);
}

void
hygiene_reset(void)
{
	clear_secrets();
	free(transcript);
	transcript = strdup("");
	transcript_len = 0;
	free(env_seen);
	env_seen = strdup("");
	env_seen_len = 0;
	assert_non_null(transcript);
	assert_non_null(env_seen);
}

void
hygiene_free(void)
{
	clear_secrets();
	free(transcript);
	transcript = NULL;
	free(env_seen);
	env_seen = NULL;
}

/*
 * The hygiene check at the end of a case: a secret found in syslog, in
 * what the user saw or (for keys and refresh tokens) in the PAM
 * environment, a full destination shown to the user, a key sent to the
 * wrong API or a secret in the store is reported.  True when clean; the
 * case's secrets are forgotten either way.
 */
bool
hygiene_check(void)
{
	static const char *const full_dests[] = {
	    ALICE_PHONE + 1, ROOT_PHONE + 1, DAVE_PHONE + 1,
	    DAVE_EMAIL,	     ERIN_EMAIL,
	};
	char *log;
	bool leak = false;

	collect_secrets_from_mock();
	collect_secrets_from_env();
	collect_secrets_from_outbox();
	log = read_whole_file(syslog_file);
	for (size_t s = 0; s < n_secrets; s++) {
		if (strstr(log, secrets[s].s) != NULL) {
			print_error("SECRET LEAK: syslog contains \"%s\"\n",
				    secrets[s].s);
			leak = true;
		}
		if (strstr(transcript, secrets[s].s) != NULL) {
			print_error("SECRET LEAK: user was shown \"%s\"\n",
				    secrets[s].s);
			leak = true;
		}
		/* Codes are short digit runs: only long secrets here. */
		if (!secrets[s].env_ok && strlen(secrets[s].s) >= 10 &&
		    strstr(env_seen, secrets[s].s) != NULL) {
			print_error("SECRET LEAK: PAM environment contains "
				    "\"%s\"\n",
				    secrets[s].s);
			leak = true;
		}
	}
	leak = jwt_leak(log, "syslog") || leak;
	leak = jwt_leak(transcript, "what the user saw") || leak;
	leak = env_jwt_leak(env_seen) || leak;
	for (size_t i = 0; i < NELEM(full_dests); i++) {
		if (strstr(transcript, full_dests[i]) != NULL) {
			print_error("DESTINATION LEAK: user was shown the "
				    "full \"%s\"\n",
				    full_dests[i]);
			leak = true;
		}
	}
	leak = requests_leak() || leak;
	leak = store_leak() || leak;
	if (leak || getenv("BV_TEST_VERBOSE") != NULL) {
		print_message("  syslog:\n%s", log);
		print_message("  user saw:\n%s", transcript);
		print_message("  PAM environment:\n%s", env_seen);
	}
	free(log);
	clear_secrets();
	return !leak;
}
