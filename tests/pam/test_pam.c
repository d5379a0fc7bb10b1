/*
 * test_pam.c - pam_baxverify through the real libpam, under pam_wrapper.
 *
 * Run by run-pam-tests.sh, which starts the loopback mock BaxVerify server
 * (tests/mock/mock_baxverify.py) and writes the PAM service files.  Each
 * case writes its own baxverify.conf, resets the mock, drives one PAM
 * transaction through libpamtest and checks the PAM return code, what the
 * user was shown, what reached syslog (captured by syslog_capture.so) and
 * what the mock was asked.
 *
 * After every case the teardown checks secret hygiene: neither the API key,
 * nor any code typed at the prompt, nor any token the mock issued appears
 * in syslog or in a message to the user, and the full phone number never
 * reaches the user.
 *
 * Environment (from the runner): BV_TESTDIR (scratch dir holding the conf
 * files), BV_MOCK_URL (https://127.0.0.1:PORT), BV_CA_FILE (the test CA),
 * BV_SYSLOG_FILE (where the shim appends syslog lines).  Services in the
 * pam.d the runner wrote: bv, bv_nullok, bv_safe, bv_debug, bv_session,
 * bv_badarg.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

/* Must match what run-pam-tests.sh gives the mock. */
#define API_KEY "sk_test_SECRET_9f8e7d"
#define PROJECT_ID "proj_test"

/* Distinctive values, so a leak is unmistakable in a log. */
#define CODE "918273"
#define WRONG "550011"

#define ALICE_PHONE "+14155552671"
#define ROOT_PHONE "+447700900123"
/* As the spec shows it: a fixed run of seven bullets (U+2022). */
#define ALICE_MASKED "+1\u2022\u2022\u2022\u2022\u2022\u2022\u20222671"

/* User-visible lines, from the design (spec section "The flow"). */
#define MSG_NO_PHONE \
	"No phone number is registered for your account. " \
	"Contact your administrator."
#define MSG_DIGITS "Enter only the digits of the code."
#define MSG_NO_CODE "No code entered."
#define MSG_TOO_MANY "Too many wrong codes."
#define MSG_EXPIRED_AGAIN "The code has expired. Press Enter for a new code."
#define MSG_EXPIRED "The code has expired."
#define MSG_RATE \
	"Too many codes requested. Wait a few minutes and try again."
#define MSG_BAD_PHONE \
	"Your registered phone number is not valid. Contact your administrator."
#define MSG_ADMIN \
	"Verification is not possible right now: the SMS service needs " \
	"attention from your administrator."
#define MSG_UNREACH "The verification service is unreachable. Try again later."
#define MSG_SAFE \
	"The verification service is unreachable; signing in without a code."
#define MSG_MISCONF \
	"Two-factor verification is misconfigured. Contact your administrator."

/* syslog priorities as the shim records them: LOG_AUTHPRIV | level. */
#define PRIO(level) (LOG_AUTHPRIV | (level))
#define ANY_PRIO (-1)

/*
 * The runner's stacks let a PAM_IGNORE from the module fall through to
 * "pam_debug.so auth=module_unknown" (libpam itself never lets a stack
 * answer PAM_IGNORE); run_auth() turns that marker back into PAM_IGNORE.
 */
#define IGNORE_MARKER PAM_MODULE_UNKNOWN

#define MAX_MSGS 32    /* messages captured per transaction */
#define MAX_ANSWERS 64 /* answer slots; the unused ones stay NULL */
#define MAX_SECRETS 32

/* ------------------------------------------------------------------ */
/* State shared by the cases: the environment and one transaction.     */

static const char *testdir;
static const char *mock_url;
static const char *ca_file;
static const char *syslog_file;
static char conf_path[4096];
static char phones_path[4096];
static char key_path[4096];

/*
 * libpamtest's conversation copies each message into the next buffer of
 * out_info / out_err (no bounds check, no NUL), and reads the next
 * in_echo_off slot for every prompt, even past the terminating NULL.  So
 * the buffers are zeroed, there are plenty of them, and the answer array
 * is padded with NULLs far beyond what any case uses.
 */
static char *info_buf[MAX_MSGS];
static char *err_buf[MAX_MSGS];
static const char *answers[MAX_ANSWERS];

/* Everything the user was shown in this case, across transactions. */
static char *transcript;
static size_t transcript_len;

/* Strings that must never reach syslog or the user, per case. */
static char *secrets[MAX_SECRETS];
static size_t n_secrets;

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

static const char *pam_rc_name(int rc)
{
	switch (rc) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_MAXTRIES: return "PAM_MAXTRIES";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_SESSION_ERR: return "PAM_SESSION_ERR";
	case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
	case PAM_BUF_ERR: return "PAM_BUF_ERR";
	case PAM_CONV_ERR: return "PAM_CONV_ERR";
	case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
	case PAM_INCOMPLETE: return "PAM_INCOMPLETE";
	default: return "PAM_(other)";
	}
}

#define assert_rc(got, want) \
	assert_rc_at((got), (want), __FILE__, __LINE__)

static void assert_rc_at(int got, int want, const char *file, int line)
{
	if (got != want) {
		print_error("%s:%d: PAM returned %s (%d), expected %s (%d)\n",
			    file, line, pam_rc_name(got), got,
			    pam_rc_name(want), want);
		fail();
	}
}

static void add_secret(const char *s)
{
	if (s == NULL || s[0] == '\0' || n_secrets >= MAX_SECRETS)
		return;
	secrets[n_secrets] = strdup(s);
	assert_non_null(secrets[n_secrets]);
	n_secrets++;
}

static void clear_secrets(void)
{
	for (size_t i = 0; i < n_secrets; i++) {
		free(secrets[i]);
		secrets[i] = NULL;
	}
	n_secrets = 0;
}

static char *read_whole_file(const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;
	size_t len = 0;

	f = fopen(path, "re");
	if (f == NULL)
		return strdup("");
	for (;;) {
		size_t n;

		if (cap - len < 4097) {
			char *nb = realloc(buf, cap + 8192);

			assert_non_null(nb);
			buf = nb;
			cap += 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	size_t len = strlen(text);

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* A growing string for building config files. */
struct sbuf {
	char *s;
	size_t len;
	size_t cap;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	if (sb->len + (size_t)n + 1 > sb->cap) {
		size_t ncap = (sb->len + (size_t)n + 1) * 2;
		char *ns = realloc(sb->s, ncap);

		assert_non_null(ns);
		sb->s = ns;
		sb->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\n')
			n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* The mock's control API, over HTTPS with the test CA.                */

struct http_reply {
	long status;
	char *body;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
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

/*
 * One request to the mock.  body NULL means GET.  With bearer, the
 * request carries the API headers the way the module sends them.
 * Returns the reply (status 0 on a transport failure); free body.
 */
static struct http_reply mock_http(const char *path, const char *body,
				   bool bearer)
{
	struct http_reply r = { 0, NULL, 0 };
	struct curl_slist *hdrs = NULL;
	char url[4096];
	CURL *c;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s%s", mock_url, path);
	c = curl_easy_init();
	assert_non_null(c);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (bearer) {
		hdrs = curl_slist_append(hdrs,
					 "Authorization: Bearer " API_KEY);
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

/* POST a control request and insist on a 2xx answer. */
static void mock_post(const char *path, const char *json)
{
	struct http_reply r = mock_http(path, json, false);

	if (r.status < 200 || r.status > 299) {
		print_error("mock POST %s %s -> %ld %s\n", path, json,
			    r.status, r.body);
		free(r.body);
		fail();
	}
	free(r.body);
}

static cJSON *mock_get_json(const char *path)
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

static void mock_fault(const char *json)
{
	mock_post("/_mock/fault", json);
}

/* The recorded API requests (array of {method,path,headers,body}). */
static cJSON *mock_requests(void)
{
	cJSON *j = mock_get_json("/_mock/requests");
	cJSON *reqs = cJSON_DetachItemFromObject(j, "requests");

	cJSON_Delete(j);
	assert_true(cJSON_IsArray(reqs));
	return reqs;
}

/* How many recorded API requests went to path (NULL: any path). */
static int mock_count(const char *path)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	int n = 0;

	cJSON_ArrayForEach(req, reqs) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(req, "path");

		if (path == NULL || (cJSON_IsString(p) &&
				     strcmp(p->valuestring, path) == 0))
			n++;
	}
	cJSON_Delete(reqs);
	return n;
}

static long mock_stat(const char *name)
{
	cJSON *j = mock_get_json("/_mock/stats");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	long n;

	assert_true(cJSON_IsNumber(v));
	n = (long)v->valuedouble;
	cJSON_Delete(j);
	return n;
}

/* Request body of the n-th (0-based) recorded request to path, parsed. */
static cJSON *mock_request_body(const char *path, int nth)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	cJSON *body = NULL;

	cJSON_ArrayForEach(req, reqs) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(req, "path");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "body");

		if (!cJSON_IsString(p) || strcmp(p->valuestring, path) != 0)
			continue;
		if (nth-- > 0)
			continue;
		if (cJSON_IsString(b))
			body = cJSON_Parse(b->valuestring);
		else if (b != NULL)
			body = cJSON_Duplicate(b, true);
		break;
	}
	cJSON_Delete(reqs);
	return body;
}

static const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Every token the module sent to validate-token is a secret. */
static void collect_tokens_from_mock(void)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;

	cJSON_ArrayForEach(req, reqs) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "body");
		cJSON *parsed = NULL;

		/* The mock records a JSON body parsed, other text as is. */
		if (cJSON_IsString(b)) {
			parsed = cJSON_Parse(b->valuestring);
			b = parsed;
		}
		if (cJSON_IsObject(b))
			add_secret(json_str(b, "token"));
		cJSON_Delete(parsed);
	}
	cJSON_Delete(reqs);
}

/* ------------------------------------------------------------------ */
/* Configuration files.                                                */

enum key_place { KEY_INLINE = 0, KEY_IN_FILE, KEY_NONE };

/* What a case wants in baxverify.conf; zero means "the default". */
struct conf {
	const char *api_url;      /* NULL: $BV_MOCK_URL/v1 */
	enum key_place key;       /* where the API key goes */
	mode_t mode;              /* of the conf file; 0: 0600 */
	mode_t key_mode;          /* of the key file; 0: 0600 */
	bool system_ca;           /* no ca_file: trust only the system CAs */
	int connect_timeout;      /* 0: 5 */
	int timeout;              /* 0: 5 */
	const char *failmode;     /* NULL: not written */
	int max_tries;            /* 0: not written */
	int max_sends;            /* 0: not written */
	const char *validate;     /* "true"/"false", NULL: not written */
	const char *phones;       /* phones.file, NULL: the test's file */
	const char *groups;       /* libconfig list text, NULL: not written */
	const char *extra;        /* top-level text appended verbatim */
};

/*
 * Write baxverify.conf (and the key file when asked).  Returns the line
 * number at which conf->extra starts, for cases that check the error line.
 */
static unsigned write_conf(const struct conf *c)
{
	struct sbuf sb = { NULL, 0, 0 };
	char url[4096];
	unsigned extra_line;

	snprintf(url, sizeof(url), "%s/v1", mock_url);
	sb_printf(&sb, "# written by tests/pam/test_pam.c\n");
	sb_printf(&sb, "provider = \"baxverify\";\n");
	sb_printf(&sb, "baxverify = {\n");
	sb_printf(&sb, "  api_url = \"%s\";\n",
		  c->api_url != NULL ? c->api_url : url);
	sb_printf(&sb, "  project_id = \"%s\";\n", PROJECT_ID);
	if (c->key == KEY_INLINE)
		sb_printf(&sb, "  api_key = \"%s\";\n", API_KEY);
	else if (c->key == KEY_IN_FILE)
		sb_printf(&sb, "  api_key_file = \"%s\";\n", key_path);
	sb_printf(&sb, "  purpose = \"LOGIN\";\n");
	if (c->validate != NULL)
		sb_printf(&sb, "  validate_token = %s;\n", c->validate);
	sb_printf(&sb, "};\n");
	sb_printf(&sb, "http = {\n");
	if (!c->system_ca)
		sb_printf(&sb, "  ca_file = \"%s\";\n", ca_file);
	sb_printf(&sb, "  connect_timeout = %d;\n  timeout = %d;\n};\n",
		  c->connect_timeout > 0 ? c->connect_timeout : 5,
		  c->timeout > 0 ? c->timeout : 5);
	sb_printf(&sb, "phones = { file = \"%s\"; gecos = false; };\n",
		  c->phones != NULL ? c->phones : phones_path);
	if (c->failmode != NULL)
		sb_printf(&sb, "failmode = \"%s\";\n", c->failmode);
	if (c->max_tries > 0)
		sb_printf(&sb, "max_tries = %d;\n", c->max_tries);
	if (c->max_sends > 0)
		sb_printf(&sb, "max_sends = %d;\n", c->max_sends);
	if (c->groups != NULL)
		sb_printf(&sb, "groups = %s;\n", c->groups);
	extra_line = count_lines(sb.s) + 1;
	if (c->extra != NULL)
		sb_printf(&sb, "%s\n", c->extra);

	write_file(conf_path, sb.s, c->mode != 0 ? c->mode : 0600);
	free(sb.s);

	(void)unlink(key_path);
	if (c->key == KEY_IN_FILE)
		write_file(key_path, API_KEY "\n",
			   c->key_mode != 0 ? c->key_mode : 0600);
	return extra_line;
}

static void write_default_conf(void)
{
	const struct conf c = { 0 };

	write_conf(&c);
}

/* ------------------------------------------------------------------ */
/* One PAM transaction.                                                */

/* Fresh message buffers: libpamtest copies without a terminating NUL. */
static void begin_transaction(void)
{
	memset(answers, 0, sizeof(answers));
	for (size_t i = 0; i < MAX_MSGS; i++) {
		memset(info_buf[i], 0, PAM_MAX_MSG_SIZE + 1);
		memset(err_buf[i], 0, PAM_MAX_MSG_SIZE + 1);
	}
}

/* Keep what the user saw for the teardown's hygiene check. */
static void end_transaction(void)
{
	for (size_t i = 0; i < 2 * MAX_MSGS; i++) {
		const char *m = i < MAX_MSGS ? info_buf[i]
					     : err_buf[i - MAX_MSGS];
		size_t len = strlen(m);
		char *nt;

		if (len == 0)
			continue;
		nt = realloc(transcript, transcript_len + len + 2);
		assert_non_null(nt);
		transcript = nt;
		memcpy(transcript + transcript_len, m, len);
		transcript_len += len;
		transcript[transcript_len++] = '\n';
		transcript[transcript_len] = '\0';
	}
}

/*
 * Authenticate user on service, answering the code prompts with the
 * NULL-terminated list of answers.  Every answer becomes a secret.  When
 * envp is not NULL and authentication succeeded, *envp receives the PAM
 * environment (free with pamtest_free_env).  Returns the PAM code.
 */
static int run_auth(const char *service, const char *user,
		    const char *const *ans, char ***envp)
{
	struct pamtest_conv_data conv = {
		.in_echo_off = answers,
		.in_echo_on = answers,
		.out_err = err_buf,
		.out_info = info_buf,
	};
	struct pam_testcase tests[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_GETENVLIST, 0),
	};
	size_t n = 0;

	begin_transaction();
	for (; ans != NULL && ans[n] != NULL && n < MAX_ANSWERS / 2; n++) {
		answers[n] = ans[n];
		/* Short answers ("12") would match innocent log text. */
		if (strlen(ans[n]) >= 6)
			add_secret(ans[n]);
	}
	(void)run_pamtest(service, user, &conv, tests, NULL);
	end_transaction();
	if (tests[0].op_rv == IGNORE_MARKER)
		tests[0].op_rv = PAM_IGNORE;
	if (envp != NULL)
		*envp = tests[1].case_out.envlist;
	else
		pamtest_free_env(tests[1].case_out.envlist);
	return tests[0].op_rv;
}

#define ANSWERS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const char *env_get(char **env, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], name, nlen) == 0 && env[i][nlen] == '=')
			return env[i] + nlen + 1;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* What the user saw and what syslog got.                              */

static bool in_bufs(char **bufs, const char *needle)
{
	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (strstr(bufs[i], needle) != NULL)
			return true;
	}
	return false;
}

static int count_in_bufs(char **bufs, const char *needle)
{
	int n = 0;

	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (strstr(bufs[i], needle) != NULL)
			n++;
	}
	return n;
}

static void dump_user_messages(void)
{
	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (info_buf[i][0] != '\0')
			print_message("  info: %s\n", info_buf[i]);
	}
	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (err_buf[i][0] != '\0')
			print_message("  err:  %s\n", err_buf[i]);
	}
}

static void dump_syslog(void)
{
	char *log = read_whole_file(syslog_file);

	print_message("  syslog:\n%s", log);
	free(log);
}

#define assert_info(needle) assert_said(info_buf, "info", (needle), __LINE__)
#define assert_err(needle) assert_said(err_buf, "error", (needle), __LINE__)

static void assert_said(char **bufs, const char *kind, const char *needle,
			int line)
{
	if (!in_bufs(bufs, needle)) {
		print_error("line %d: no %s message containing \"%s\"\n", line,
			    kind, needle);
		dump_user_messages();
		fail();
	}
}

#define assert_not_said(needle) assert_not_said_at((needle), __LINE__)

static void assert_not_said_at(const char *needle, int line)
{
	if (in_bufs(info_buf, needle) || in_bufs(err_buf, needle)) {
		print_error("line %d: user was shown \"%s\"\n", line, needle);
		dump_user_messages();
		fail();
	}
}

/*
 * True when one syslog line has priority prio (ANY_PRIO: any) and
 * contains every string of the NULL-terminated list needles.
 */
static bool log_has(int prio, const char *const *needles)
{
	char *log = read_whole_file(syslog_file);
	char *ln = log;
	bool found = false;

	while (*ln != '\0' && !found) {
		char *nl = strchr(ln, '\n');
		char *next = nl != NULL ? nl + 1 : ln + strlen(ln);
		char *end;
		long p;
		bool all = true;

		if (nl != NULL)
			*nl = '\0';
		p = strtol(ln, &end, 10);
		if (end != ln && (prio == ANY_PRIO || p == prio)) {
			for (size_t i = 0; needles[i] != NULL; i++) {
				if (strstr(end, needles[i]) == NULL) {
					all = false;
					break;
				}
			}
			found = all;
		}
		ln = next;
	}
	free(log);
	return found;
}

#define LOGGED(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define assert_logged(prio, ...) \
	assert_logged_at((prio), LOGGED(__VA_ARGS__), __LINE__)

static void assert_logged_at(int prio, const char *const *needles, int line)
{
	if (!log_has(prio, needles)) {
		print_error("line %d: no syslog line (priority %d) with:",
			    line, prio);
		for (size_t i = 0; needles[i] != NULL; i++)
			print_error(" [%s]", needles[i]);
		print_error("\n");
		dump_syslog();
		dump_user_messages();
		fail();
	}
}

#define assert_requests(path, n) assert_requests_at((path), (n), __LINE__)

static void assert_requests_at(const char *path, int want, int line)
{
	int got = mock_count(path);

	if (got != want) {
		print_error("line %d: %d request(s) to %s, expected %d\n",
			    line, got, path != NULL ? path : "the API", want);
		fail();
	}
}

#define P_SEND "/v1/auth/sms/send"
#define P_VERIFY "/v1/auth/sms/verify"
#define P_VALIDATE "/v1/auth/sms/validate-token"

/* ------------------------------------------------------------------ */
/* Fixtures.                                                           */

static int group_setup(void **state)
{
	(void)state;
	testdir = getenv("BV_TESTDIR");
	mock_url = getenv("BV_MOCK_URL");
	ca_file = getenv("BV_CA_FILE");
	syslog_file = getenv("BV_SYSLOG_FILE");
	if (testdir == NULL || mock_url == NULL || ca_file == NULL ||
	    syslog_file == NULL) {
		print_error("BV_TESTDIR, BV_MOCK_URL, BV_CA_FILE and "
			    "BV_SYSLOG_FILE must be set (run-pam-tests.sh)\n");
		return -1;
	}
	snprintf(conf_path, sizeof(conf_path), "%s/baxverify.conf", testdir);
	snprintf(phones_path, sizeof(phones_path), "%s/baxverify.phones",
		 testdir);
	snprintf(key_path, sizeof(key_path), "%s/baxverify.key", testdir);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	for (size_t i = 0; i < MAX_MSGS; i++) {
		info_buf[i] = calloc(1, PAM_MAX_MSG_SIZE + 1);
		err_buf[i] = calloc(1, PAM_MAX_MSG_SIZE + 1);
		if (info_buf[i] == NULL || err_buf[i] == NULL)
			return -1;
	}
	/* alice: valid; bob: no entry; carol: invalid (line 4); root. */
	write_file(phones_path,
		   "# test phones\n"
		   "alice " ALICE_PHONE "\n"
		   "\n"
		   "carol +12\n"
		   "root " ROOT_PHONE "\n",
		   0600);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < MAX_MSGS; i++) {
		free(info_buf[i]);
		free(err_buf[i]);
	}
	curl_global_cleanup();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	begin_transaction();
	free(transcript);
	transcript = strdup("");
	transcript_len = 0;
	clear_secrets();
	add_secret(API_KEY);
	add_secret(CODE);
	write_file(syslog_file, "", 0600);
	mock_post("/_mock/reset", "{}");
	mock_post("/_mock/config", "{\"force_code\": \"" CODE "\"}");
	write_default_conf();
	return 0;
}

/* A secret found in syslog or in what the user saw fails the case. */
static int teardown(void **state)
{
	char *log;
	bool leak = false;

	(void)state;
	collect_tokens_from_mock();
	log = read_whole_file(syslog_file);
	for (size_t s = 0; s < n_secrets; s++) {
		if (strstr(log, secrets[s]) != NULL) {
			print_error("SECRET LEAK: syslog contains \"%s\"\n",
				    secrets[s]);
			leak = true;
		}
		if (strstr(transcript, secrets[s]) != NULL) {
			print_error("SECRET LEAK: user was shown \"%s\"\n",
				    secrets[s]);
			leak = true;
		}
	}
	if (strstr(transcript, ALICE_PHONE + 1) != NULL ||
	    strstr(transcript, ROOT_PHONE + 1) != NULL) {
		print_error("PHONE LEAK: user was shown the full number\n");
		leak = true;
	}
	if (leak || getenv("BV_TEST_VERBOSE") != NULL) {
		print_message("  syslog:\n%s", log);
		print_message("  user saw:\n%s", transcript);
	}
	free(log);
	clear_secrets();
	free(transcript);
	transcript = NULL;
	transcript_len = 0;
	/* Leave no fault behind for the next case (e.g. after a failure). */
	mock_post("/_mock/reset", "{}");
	return leak ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The happy path.                                                     */

static void test_success_exports_env(void **state)
{
	char **env = NULL;
	const char *token, *expires;
	time_t now = time(NULL);
	char *end;
	long long exp;
	int rc;

	(void)state;
	rc = run_auth("bv", "alice", ANSWERS(CODE), &env);
	assert_rc(rc, PAM_SUCCESS);

	assert_info("A verification code was sent by SMS to " ALICE_MASKED ".");

	token = env_get(env, "BAXVERIFY_TOKEN");
	assert_non_null(token);
	assert_true(strlen(token) > 10);
	add_secret(token);
	assert_string_equal(env_get(env, "BAXVERIFY_PHONE"), ALICE_PHONE);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "baxverify");
	expires = env_get(env, "BAXVERIFY_TOKEN_EXPIRES");
	assert_non_null(expires);
	errno = 0;
	exp = strtoll(expires, &end, 10);
	assert_int_equal(errno, 0);
	assert_true(end != expires && *end == '\0');
	/* The mock issues tokens for 900 s by default. */
	assert_in_range(exp, (long long)now + 900 - 5,
			(long long)now + 900 + 60);
	pamtest_free_env(env);

	assert_requests(P_SEND, 1);
	assert_requests(P_VERIFY, 1);
	assert_requests(P_VALIDATE, 1);
	assert_logged(PRIO(LOG_INFO), "pam_baxverify(bv:auth)", "user=alice",
		      "verified", "by baxverify");
}

static void test_api_requests(void **state)
{
	cJSON *reqs, *body;
	const cJSON *req, *v;
	const char *expected_paths[] = { P_SEND, P_VERIFY, P_VALIDATE };
	int i = 0;

	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);

	reqs = mock_requests();
	assert_int_equal(cJSON_GetArraySize(reqs), 3);
	cJSON_ArrayForEach(req, reqs) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(req,
								  "headers");
		const char *ct = json_str(h, "content-type");

		assert_string_equal(json_str(req, "method"), "POST");
		assert_string_equal(json_str(req, "path"), expected_paths[i]);
		assert_string_equal(json_str(h, "authorization"),
				    "Bearer " API_KEY);
		assert_string_equal(json_str(h, "x-project-id"), PROJECT_ID);
		assert_non_null(ct);
		assert_non_null(strstr(ct, "application/json"));
		i++;
	}
	cJSON_Delete(reqs);

	body = mock_request_body(P_SEND, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "phone"), ALICE_PHONE);
	assert_string_equal(json_str(body, "purpose"), "LOGIN");
	cJSON_Delete(body);

	body = mock_request_body(P_VERIFY, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "phone"), ALICE_PHONE);
	assert_string_equal(json_str(body, "code"), CODE);
	cJSON_Delete(body);

	body = mock_request_body(P_VALIDATE, 0);
	assert_non_null(body);
	assert_non_null(json_str(body, "token"));
	v = cJSON_GetObjectItemCaseSensitive(body, "consume");
	assert_true(cJSON_IsBool(v) && cJSON_IsFalse(v));
	cJSON_Delete(body);
}

/*
 * send + verify + validate-token share one TCP connection.  The mock counts
 * only connections that carried API requests, since the last reset.
 */
static void test_one_connection_per_auth(void **state)
{
	long conns;

	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_requests(NULL, 3);
	conns = mock_stat("connections");
	if (conns != 1) {
		print_error("one authentication used %ld connections\n",
			    conns);
		fail();
	}
}

static void test_validate_token_off(void **state)
{
	struct conf c = { .validate = "false" };
	char **env = NULL;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_non_null(env_get(env, "BAXVERIFY_TOKEN"));
	add_secret(env_get(env, "BAXVERIFY_TOKEN"));
	pamtest_free_env(env);
	assert_requests(P_SEND, 1);
	assert_requests(P_VERIFY, 1);
	assert_requests(P_VALIDATE, 0);
}

static void test_code_normalised(void **state)
{
	cJSON *body;

	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(" 918-273 "), NULL),
		  PAM_SUCCESS);
	body = mock_request_body(P_VERIFY, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "code"), CODE);
	cJSON_Delete(body);
}

static void test_debug_success(void **state)
{
	(void)state;
	assert_rc(run_auth("bv_debug", "alice", ANSWERS(CODE), NULL),
		  PAM_SUCCESS);
	/* debug adds DEBUG lines; the teardown checks they leak nothing. */
	assert_logged(PRIO(LOG_DEBUG), "pam_baxverify(bv_debug:auth)");
	assert_logged(PRIO(LOG_INFO), "user=alice", "verified",
		      "by baxverify");
}

/* ------------------------------------------------------------------ */
/* Wrong, malformed, expired and missing codes.                        */

static void test_wrong_then_right(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_requests(P_SEND, 1);
	assert_requests(P_VERIFY, 2);
}

static void test_max_tries(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, WRONG, WRONG, CODE),
			   NULL),
		  PAM_MAXTRIES);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_err("Wrong code. 1 attempt(s) left.");
	assert_err(MSG_TOO_MANY);
	assert_requests(P_VERIFY, 3);
	assert_logged(ANY_PRIO, "user=alice", "service=bv");
}

static void test_max_tries_configured(void **state)
{
	struct conf c = { .max_tries = 2 };

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, WRONG, CODE), NULL),
		  PAM_MAXTRIES);
	assert_err("Wrong code. 1 attempt(s) left.");
	assert_err(MSG_TOO_MANY);
	assert_requests(P_VERIFY, 2);
}

/* The server refuses further tries before max_tries is used up. */
static void test_server_max_attempts(void **state)
{
	(void)state;
	mock_post("/_mock/config", "{\"max_attempts\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE, CODE), NULL),
		  PAM_MAXTRIES);
	assert_err(MSG_TOO_MANY);
	assert_requests(P_VERIFY, 2);
	assert_logged(ANY_PRIO, "BAXVERIFY_OTP_MAX_ATTEMPTS", "user=alice");
}

static void test_non_digit_no_api_call(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS("12ab34", CODE), NULL),
		  PAM_SUCCESS);
	assert_err(MSG_DIGITS);
	/* Only the well-formed answer reached the API. */
	assert_requests(P_VERIFY, 1);
}

static void test_non_digit_counts_as_try(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS("abc", "12", "123456789",
						  CODE),
			   NULL),
		  PAM_MAXTRIES);
	/* The last bad answer may get "Too many wrong codes." instead. */
	assert_in_range(count_in_bufs(err_buf, MSG_DIGITS), 2, 3);
	assert_err(MSG_TOO_MANY);
	assert_requests(P_VERIFY, 0);
}

static void test_expired_then_resend(void **state)
{
	(void)state;
	mock_fault("{\"endpoint\": \"verify\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_OTP_EXPIRED\", \"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, "", CODE), NULL),
		  PAM_SUCCESS);
	assert_err(MSG_EXPIRED_AGAIN);
	assert_int_equal(count_in_bufs(info_buf,
				       "A verification code was sent by SMS"),
			 2);
	assert_requests(P_SEND, 2);
	assert_requests(P_VERIFY, 2);
}

/* Real expiry at the mock (not an injected error). */
static void test_expired_real(void **state)
{
	(void)state;
	/* Every code is born expired: the resend does not help either. */
	mock_post("/_mock/config", "{\"code_ttl\": 0}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, "", CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_EXPIRED_AGAIN);
	assert_err(MSG_EXPIRED);
	assert_requests(P_SEND, 2);
	assert_requests(P_VERIFY, 2);
}

static void test_expired_no_sends_left(void **state)
{
	struct conf c = { .max_sends = 1 };

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"verify\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_OTP_EXPIRED\", \"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_EXPIRED);
	assert_not_said("Press Enter");
	assert_requests(P_SEND, 1);
}

static void test_empty_answer_resends(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS("", CODE), NULL),
		  PAM_SUCCESS);
	assert_int_equal(count_in_bufs(info_buf,
				       "A verification code was sent by SMS"),
			 2);
	assert_requests(P_SEND, 2);
}

static void test_empty_answers_exhaust_sends(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS("", "", CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_NO_CODE);
	assert_requests(P_SEND, 2);
	assert_requests(P_VERIFY, 0);
}

/* The mock's own per-phone send limit, not an injected error. */
static void test_rate_limit_real(void **state)
{
	(void)state;
	mock_post("/_mock/config", "{\"send_limit\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_RATE);
	assert_logged(ANY_PRIO, "BAXVERIFY_RATE_LIMIT", "HTTP 429",
		      "user=alice");
}

/* ------------------------------------------------------------------ */
/* The documented error table, each code at the endpoint that returns  */
/* it, plus codes the module has never heard of.                       */

/* details.helpUrl in the mock's error envelopes starts with this. */
#define MOCK_HELP_URL \
	"https://baxcloud.tech/dashboard/projects/" PROJECT_ID "?tab="

struct api_error_case {
	const char *code;
	const char *endpoint;   /* mock fault endpoint */
	int status;             /* documented HTTP status */
	const char *service;
	int want_rc;
	const char *want_msg;   /* error message the user must see */
	int max_sends;          /* 0: default */
};

static const struct api_error_case api_errors[] = {
	{ "BAXVERIFY_FEATURE_DISABLED", "send", 403, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_PLAN_NOT_INCLUDED", "send", 403, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_API_KEY_SCOPE", "send", 403, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_SENDER_NOT_CONFIGURED", "send", 400, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_INSUFFICIENT_CREDITS", "send", 400, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_VERIFY_FEE_CREDITS", "verify", 400, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_NO_SUBSCRIPTION", "send", 400, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_RATE_LIMIT", "send", 429, "bv", PAM_AUTH_ERR, MSG_RATE,
	  0 },
	{ "BAXVERIFY_RATE_LIMIT", "verify", 429, "bv", PAM_AUTH_ERR,
	  MSG_RATE, 0 },
	{ "BAXVERIFY_OTP_EXPIRED", "verify", 400, "bv", PAM_AUTH_ERR,
	  MSG_EXPIRED, 1 },
	/* One injected OTP_INVALID, then the right code goes through. */
	{ "BAXVERIFY_OTP_INVALID", "verify", 400, "bv", PAM_SUCCESS,
	  "Wrong code. 2 attempt(s) left.", 0 },
	{ "BAXVERIFY_OTP_MAX_ATTEMPTS", "verify", 429, "bv", PAM_MAXTRIES,
	  MSG_TOO_MANY, 0 },
	{ "BAXVERIFY_INVALID_PHONE", "send", 400, "bv", PAM_AUTH_ERR,
	  MSG_BAD_PHONE, 0 },
	{ "BAXVERIFY_SMS_SEND_FAILED", "send", 400, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_TOKEN_INVALID", "validate-token", 401, "bv",
	  PAM_AUTH_ERR, MSG_ADMIN, 0 },
	{ "BAXVERIFY_TOKEN_CONSUMED", "validate-token", 401, "bv",
	  PAM_AUTH_ERR, MSG_ADMIN, 0 },
	{ "BAXVERIFY_PROJECT_INACTIVE", "send", 403, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_PROJECT_HEADER_REQUIRED", "send", 400, "bv",
	  PAM_AUTH_ERR, MSG_ADMIN, 0 },
	{ "BAXVERIFY_API_KEY_PROJECT_MISMATCH", "send", 403, "bv",
	  PAM_AUTH_ERR, MSG_ADMIN, 0 },
	/* Unknown codes in a well-formed envelope: denied, never "safe". */
	{ "BAXVERIFY_SOMETHING_NEW", "send", 400, "bv", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_SOMETHING_NEW", "verify", 403, "bv_safe", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	/* Administrator problems are no outage: failmode=safe denies. */
	{ "BAXVERIFY_FEATURE_DISABLED", "send", 403, "bv_safe", PAM_AUTH_ERR,
	  MSG_ADMIN, 0 },
	{ "BAXVERIFY_TOKEN_INVALID", "validate-token", 401, "bv_safe",
	  PAM_AUTH_ERR, MSG_ADMIN, 0 },
};

static void test_api_error(void **state)
{
	const struct api_error_case *t = *state;
	struct conf c = { .max_sends = t->max_sends };
	char fault[512];
	char http[32];
	char svc[64];

	write_conf(&c);
	snprintf(fault, sizeof(fault),
		 "{\"endpoint\": \"%s\", \"kind\": \"error\", \"code\": \"%s\","
		 " \"status\": %d, \"count\": 1}",
		 t->endpoint, t->code, t->status);
	mock_fault(fault);

	assert_rc(run_auth(t->service, "alice", ANSWERS(CODE, CODE), NULL),
		  t->want_rc);
	assert_err(t->want_msg);

	snprintf(http, sizeof(http), "HTTP %d", t->status);
	snprintf(svc, sizeof(svc), "service=%s", t->service);
	assert_logged(ANY_PRIO, t->code, http, "help=" MOCK_HELP_URL,
		      "user=alice", svc, "rhost=");
	if (t->want_rc != PAM_SUCCESS)
		assert_not_said(MSG_SAFE);
}

/* ------------------------------------------------------------------ */
/* The service is unreachable or answers nonsense.                     */

struct outage_case {
	const char *name;
	const char *fault;   /* mock fault JSON, NULL: see flags */
	bool closed_port;    /* api_url points at a port nobody serves */
	bool system_ca;      /* trust only the system CAs, not ours */
	int timeout;         /* http.timeout, 0: default */
	bool safe;           /* run under bv_safe */
};

#define OUTAGE(n, f, safe) { n, f, false, false, 0, safe }

static const struct outage_case outages[] = {
	{ "unreachable", NULL, true, false, 0, false },
	{ "unreachable", NULL, true, false, 0, true },
	{ "untrusted-ca", NULL, false, true, 0, false },
	{ "untrusted-ca", NULL, false, true, 0, true },
	{ "hang", "{\"endpoint\": \"send\", \"kind\": \"hang\", "
		  "\"count\": 10}", false, false, 2, false },
	{ "hang", "{\"endpoint\": \"send\", \"kind\": \"hang\", "
		  "\"count\": 10}", false, false, 2, true },
	{ "hang-verify", "{\"endpoint\": \"verify\", \"kind\": \"hang\", "
			 "\"count\": 10}", false, false, 2, false },
	{ "trickle", "{\"endpoint\": \"verify\", \"kind\": \"trickle\", "
		     "\"interval\": 0.5, \"count\": 10}", false, false, 2,
	  false },
	OUTAGE("http500", "{\"endpoint\": \"send\", \"kind\": \"http500\", "
			  "\"count\": 10}", false),
	OUTAGE("http500", "{\"endpoint\": \"send\", \"kind\": \"http500\", "
			  "\"count\": 10}", true),
	OUTAGE("http500-verify", "{\"endpoint\": \"verify\", "
				 "\"kind\": \"http500\", \"count\": 10}",
	       false),
	OUTAGE("http500-verify", "{\"endpoint\": \"verify\", "
				 "\"kind\": \"http500\", \"count\": 10}",
	       true),
	OUTAGE("malformed", "{\"endpoint\": \"send\", "
			    "\"kind\": \"malformed\", \"count\": 10}", false),
	OUTAGE("malformed", "{\"endpoint\": \"send\", "
			    "\"kind\": \"malformed\", \"count\": 10}", true),
	OUTAGE("malformed-verify", "{\"endpoint\": \"verify\", "
				   "\"kind\": \"malformed\", \"count\": 10}",
	       false),
	OUTAGE("wrongshape-verify", "{\"endpoint\": \"verify\", "
				    "\"kind\": \"wrongshape\", "
				    "\"count\": 10}", false),
	OUTAGE("malformed-validate", "{\"endpoint\": \"validate-token\", "
				     "\"kind\": \"malformed\", "
				     "\"count\": 10}", false),
	OUTAGE("empty", "{\"endpoint\": \"verify\", \"kind\": \"empty\", "
			"\"count\": 10}", false),
	OUTAGE("empty", "{\"endpoint\": \"verify\", \"kind\": \"empty\", "
			"\"count\": 10}", true),
	OUTAGE("oversized", "{\"endpoint\": \"send\", "
			    "\"kind\": \"oversized\", \"count\": 10}", false),
	OUTAGE("oversized", "{\"endpoint\": \"send\", "
			    "\"kind\": \"oversized\", \"count\": 10}", true),
	OUTAGE("oversized-verify", "{\"endpoint\": \"verify\", "
				   "\"kind\": \"oversized\", \"count\": 10}",
	       false),
	OUTAGE("truncated", "{\"endpoint\": \"verify\", "
			    "\"kind\": \"truncated\", \"count\": 10}", false),
	OUTAGE("truncated", "{\"endpoint\": \"verify\", "
			    "\"kind\": \"truncated\", \"count\": 10}", true),
	OUTAGE("drop", "{\"endpoint\": \"send\", \"kind\": \"drop\", "
		       "\"count\": 10}", false),
	OUTAGE("drop", "{\"endpoint\": \"send\", \"kind\": \"drop\", "
		       "\"count\": 10}", true),
	/* The redirect target is fixed up at run time (the mock's URL). */
	OUTAGE("redirect", NULL, false),
	OUTAGE("redirect", NULL, true),
};

/* A TCP port on 127.0.0.1 that is bound but not listening: refused. */
static int closed_port(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_outage(void **state)
{
	const struct outage_case *t = *state;
	struct conf c = { .timeout = t->timeout,
			  .connect_timeout = t->timeout };
	const char *service = t->safe ? "bv_safe" : "bv";
	char url[256];
	char fault[1024];
	char svc[64];
	int fd = -1;
	int port;
	double t0, elapsed;
	int rc;

	if (t->closed_port) {
		fd = closed_port(&port);
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1", port);
		c.api_url = url;
	}
	c.system_ca = t->system_ca;
	write_conf(&c);
	if (strcmp(t->name, "redirect") == 0) {
		snprintf(fault, sizeof(fault),
			 "{\"endpoint\": \"send\", \"kind\": \"redirect\", "
			 "\"location\": \"%s/v1/auth/sms/send\", "
			 "\"count\": 10}", mock_url);
		mock_fault(fault);
	} else if (t->fault != NULL) {
		mock_fault(t->fault);
	}

	t0 = now_s();
	rc = run_auth(service, "alice", ANSWERS(CODE, CODE), NULL);
	elapsed = now_s() - t0;
	if (fd >= 0)
		close(fd);

	snprintf(svc, sizeof(svc), "service=%s", service);
	if (t->safe) {
		assert_rc(rc, PAM_SUCCESS);
		assert_info(MSG_SAFE);
		assert_logged(PRIO(LOG_WARNING), "user=alice", svc);
	} else {
		assert_rc(rc, PAM_AUTHINFO_UNAVAIL);
		assert_err(MSG_UNREACH);
		assert_logged(ANY_PRIO, "user=alice", svc);
	}
	if (t->timeout > 0 && elapsed > t->timeout + 1.0) {
		print_error("%s took %.2f s with http.timeout = %d\n", t->name,
			    elapsed, t->timeout);
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* Well-formed answers that must not let anyone in, whatever failmode. */

struct forged_case {
	const char *name;
	const char *endpoint;
	const char *body;    /* JSON the mock answers with HTTP 200 */
	const char *service;
};

#define VALIDATE_OTHER_PHONE \
	"{\"valid\": true, \"phone\": \"+19999999999\", " \
	"\"projectId\": \"" PROJECT_ID "\", \"purpose\": \"LOGIN\", " \
	"\"requestId\": \"req_1\", " \
	"\"issuedAt\": \"2026-01-01T10:00:00.000Z\", " \
	"\"expiresAt\": \"2036-01-01T10:15:00.000Z\"}"
#define VALIDATE_NOT_VALID \
	"{\"valid\": false, \"phone\": \"" ALICE_PHONE "\", " \
	"\"projectId\": \"" PROJECT_ID "\", \"purpose\": \"LOGIN\"}"
#define VERIFY_NOT_VERIFIED \
	"{\"verified\": false, \"phone\": \"" ALICE_PHONE "\", " \
	"\"accessToken\": \"aaa.bbb.ccc\", \"tokenType\": \"Bearer\", " \
	"\"expiresIn\": 900}"

static const struct forged_case forged[] = {
	{ "validate-other-phone", "validate-token", VALIDATE_OTHER_PHONE,
	  "bv" },
	{ "validate-other-phone", "validate-token", VALIDATE_OTHER_PHONE,
	  "bv_safe" },
	{ "validate-not-valid", "validate-token", VALIDATE_NOT_VALID, "bv" },
	{ "validate-not-valid", "validate-token", VALIDATE_NOT_VALID,
	  "bv_safe" },
	{ "verify-not-verified", "verify", VERIFY_NOT_VERIFIED, "bv" },
	{ "verify-not-verified", "verify", VERIFY_NOT_VERIFIED, "bv_safe" },
};

static void test_forged_answer(void **state)
{
	const struct forged_case *t = *state;
	char fault[2048];
	int rc;

	snprintf(fault, sizeof(fault),
		 "{\"endpoint\": \"%s\", \"kind\": \"wrongshape\", "
		 "\"count\": 10, \"body\": %s}", t->endpoint, t->body);
	mock_fault(fault);
	rc = run_auth(t->service, "alice", ANSWERS(CODE, CODE), NULL);
	if (rc == PAM_SUCCESS || rc == PAM_IGNORE) {
		print_error("%s on %s: %s\n", t->name, t->service,
			    pam_rc_name(rc));
		dump_user_messages();
		dump_syslog();
		fail();
	}
	assert_not_said(MSG_SAFE);
}

/* ------------------------------------------------------------------ */
/* Who is asked: phones, nullok, groups.                               */

static void test_no_phone(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "bob", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_NO_PHONE);
	assert_requests(NULL, 0);
}

static void test_no_phone_nullok(void **state)
{
	(void)state;
	assert_rc(run_auth("bv_nullok", "bob", ANSWERS(CODE), NULL),
		  PAM_IGNORE);
	assert_requests(NULL, 0);
}

/* nullok must not wave through a typo in the user's own entry. */
static void test_invalid_phone_entry(void **state)
{
	char where[4200];
	int rc;

	(void)state;
	snprintf(where, sizeof(where), "%s:4", phones_path);
	rc = run_auth("bv_nullok", "carol", ANSWERS(CODE), NULL);
	if (rc == PAM_SUCCESS || rc == PAM_IGNORE) {
		print_error("carol (invalid entry) got %s under nullok\n",
			    pam_rc_name(rc));
		fail();
	}
	assert_logged(PRIO(LOG_ERR), where, "invalid phone number");
	rc = run_auth("bv", "carol", ANSWERS(CODE), NULL);
	assert_true(rc != PAM_SUCCESS && rc != PAM_IGNORE);
	assert_requests(NULL, 0);
}

struct group_case {
	const char *groups;
	bool asked;
};

static const struct group_case group_cases[] = {
	{ "[\"root\"]", true },
	{ "[\"ro*\"]", true },
	{ "[\"!root\"]", false },
	{ "[\"nosuchgroup-xyz\"]", false },
	{ "[\"!nosuchgroup-*\"]", true },
	{ "[\"root\", \"!root\"]", false },
	{ "[\"nosuchgroup-xyz\", \"root\"]", true },
};

static void test_groups(void **state)
{
	const struct group_case *t = *state;
	struct conf c = { .groups = t->groups };
	char **env = NULL;
	int rc;

	write_conf(&c);
	rc = run_auth("bv", "root", ANSWERS(CODE), &env);
	if (t->asked) {
		assert_rc(rc, PAM_SUCCESS);
		assert_string_equal(env_get(env, "BAXVERIFY_PHONE"),
				    ROOT_PHONE);
		add_secret(env_get(env, "BAXVERIFY_TOKEN"));
		assert_requests(P_SEND, 1);
	} else {
		assert_rc(rc, PAM_IGNORE);
		assert_requests(NULL, 0);
	}
	pamtest_free_env(env);
}

/*
 * The group filter comes before the phone lookup: a real user outside the
 * groups is ignored even without a phone entry; inside them, he is told
 * he has no phone.  ("daemon" exists on every Debian system.)
 */
static void test_groups_before_phone(void **state)
{
	struct conf c = { .groups = "[\"nosuchgroup-xyz\"]" };

	(void)state;
	if (getpwnam("daemon") == NULL)
		skip();
	write_conf(&c);
	assert_rc(run_auth("bv", "daemon", ANSWERS(CODE), NULL), PAM_IGNORE);
	c.groups = "[\"daemon\"]";
	write_conf(&c);
	assert_rc(run_auth("bv", "daemon", ANSWERS(CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_NO_PHONE);
	assert_requests(NULL, 0);
}

/*
 * A user the system does not know (alice is only in the phones file) while
 * a groups filter is set: he is in none of the groups, so PAM_IGNORE or an
 * error are both defensible, but never a success.
 */
static void test_groups_unknown_user(void **state)
{
	struct conf c = { .groups = "[\"nosuchgroup-xyz\"]" };
	int rc;

	(void)state;
	write_conf(&c);
	rc = run_auth("bv", "alice", ANSWERS(CODE), NULL);
	if (rc == PAM_SUCCESS) {
		print_error("unknown user \"alice\" with a groups filter: "
			    "PAM_SUCCESS\n");
		dump_syslog();
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* Configuration errors: always PAM_SERVICE_ERR, never a request.      */

static void expect_config_error(const char *service)
{
	assert_rc(run_auth(service, "alice", ANSWERS(CODE), NULL),
		  PAM_SERVICE_ERR);
	assert_err(MSG_MISCONF);
	assert_not_said(MSG_SAFE);
	assert_requests(NULL, 0);
}

static void test_conf_world_readable(void **state)
{
	struct conf c = { .mode = 0644 };

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "group/world");
}

static void test_conf_group_readable_safe(void **state)
{
	struct conf c = { .mode = 0640, .failmode = "safe" };

	(void)state;
	write_conf(&c);
	expect_config_error("bv_safe");
	assert_logged(PRIO(LOG_ERR), conf_path, "group/world");
}

static void test_key_file(void **state)
{
	struct conf c = { .key = KEY_IN_FILE };
	cJSON *reqs;
	const cJSON *req;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	reqs = mock_requests();
	cJSON_ArrayForEach(req, reqs) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(req,
								  "headers");

		assert_string_equal(json_str(h, "authorization"),
				    "Bearer " API_KEY);
	}
	cJSON_Delete(reqs);
}

static void test_key_file_world_readable(void **state)
{
	struct conf c = { .key = KEY_IN_FILE, .key_mode = 0644 };

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), key_path, "group/world");
}

/* Without api_key the conf file itself may be world-readable. */
static void test_conf_without_key_may_be_readable(void **state)
{
	struct conf c = { .key = KEY_IN_FILE, .mode = 0644 };

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
}

static void test_conf_unknown_key(void **state)
{
	struct conf c = { .extra = "frobnication_level = 3;" };
	char where[4200];
	unsigned line;

	(void)state;
	line = write_conf(&c);
	snprintf(where, sizeof(where), "%s:%u", conf_path, line);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), where, "frobnication_level");
}

static void test_conf_unknown_key_safe(void **state)
{
	struct conf c = { .failmode = "safe",
			  .extra = "frobnication_level = 3;" };

	(void)state;
	write_conf(&c);
	expect_config_error("bv_safe");
	assert_logged(PRIO(LOG_ERR), conf_path, "frobnication_level");
}

static void test_conf_wrong_type(void **state)
{
	struct conf c = { .extra = "max_tries = \"three\";" };

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "max_tries");
}

static void test_conf_out_of_range(void **state)
{
	struct conf c = { .extra = "max_sends = 0;" };

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "max_sends");
}

static void test_conf_http_url(void **state)
{
	struct conf c = { .api_url = "http://127.0.0.1:1/v1" };

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "api_url");
}

static void test_conf_http_url_safe(void **state)
{
	struct conf c = { .api_url = "http://127.0.0.1:1/v1",
			  .failmode = "safe" };

	(void)state;
	write_conf(&c);
	expect_config_error("bv_safe");
}

static void test_conf_relative_phones(void **state)
{
	struct conf c = { .phones = "relative.phones" };

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "phones.file");
}

static void test_conf_missing(void **state)
{
	(void)state;
	assert_int_equal(unlink(conf_path), 0);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path);
}

static void test_conf_missing_safe(void **state)
{
	(void)state;
	assert_int_equal(unlink(conf_path), 0);
	expect_config_error("bv_safe");
}

static void test_conf_syntax_error(void **state)
{
	struct conf c = { .extra = "max_tries = ;" };

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path);
}

static void test_bad_module_argument(void **state)
{
	(void)state;
	expect_config_error("bv_badarg");
	assert_logged(PRIO(LOG_ERR), "frobnicate");
}

/* ------------------------------------------------------------------ */
/* Session: consume_token spends the proof token.                      */

static void test_session_consumes_token(void **state)
{
	struct pamtest_conv_data conv = {
		.in_echo_off = answers,
		.in_echo_on = answers,
		.out_err = err_buf,
		.out_info = info_buf,
	};
	struct pam_testcase tests[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
		pam_test(PAMTEST_GETENVLIST, 0),
	};
	char **env;
	const char *token;
	char body[8192];
	struct http_reply r;
	cJSON *j, *consume;
	enum pamtest_err perr;

	(void)state;
	begin_transaction();
	answers[0] = CODE;
	perr = run_pamtest("bv_session", "alice", &conv, tests, NULL);
	end_transaction();
	assert_rc(tests[0].op_rv, PAM_SUCCESS);
	assert_rc(tests[1].op_rv, PAM_SUCCESS);
	assert_int_equal(perr, PAMTEST_ERR_OK);

	env = tests[2].case_out.envlist;
	token = env_get(env, "BAXVERIFY_TOKEN");
	assert_non_null(token);
	add_secret(token);

	/* auth validated with consume:false, the session with consume:true */
	assert_requests(P_VALIDATE, 2);
	j = mock_request_body(P_VALIDATE, 1);
	assert_non_null(j);
	consume = cJSON_GetObjectItemCaseSensitive(j, "consume");
	assert_true(cJSON_IsTrue(consume));
	assert_string_equal(json_str(j, "token"), token);
	cJSON_Delete(j);

	/* The token is spent: a further validation is refused. */
	snprintf(body, sizeof(body), "{\"token\": \"%s\", \"consume\": false}",
		 token);
	pamtest_free_env(env);
	r = mock_http(P_VALIDATE, body, true);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body, "BAXVERIFY_TOKEN_CONSUMED"));
	free(r.body);
}

/* ------------------------------------------------------------------ */

/*
 * The table-driven cases are expanded at run time, one cmocka test per
 * row, each named after its row so a failure names the code or fault.
 */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define T(f) { #f, f, setup, teardown, NULL }

static const struct CMUnitTest plain_tests[] = {
	T(test_success_exports_env),
	T(test_api_requests),
	T(test_one_connection_per_auth),
	T(test_validate_token_off),
	T(test_code_normalised),
	T(test_debug_success),
	T(test_wrong_then_right),
	T(test_max_tries),
	T(test_max_tries_configured),
	T(test_server_max_attempts),
	T(test_non_digit_no_api_call),
	T(test_non_digit_counts_as_try),
	T(test_expired_then_resend),
	T(test_expired_real),
	T(test_expired_no_sends_left),
	T(test_empty_answer_resends),
	T(test_empty_answers_exhaust_sends),
	T(test_rate_limit_real),
	T(test_no_phone),
	T(test_no_phone_nullok),
	T(test_invalid_phone_entry),
	T(test_groups_before_phone),
	T(test_groups_unknown_user),
	T(test_conf_world_readable),
	T(test_conf_group_readable_safe),
	T(test_key_file),
	T(test_key_file_world_readable),
	T(test_conf_without_key_may_be_readable),
	T(test_conf_unknown_key),
	T(test_conf_unknown_key_safe),
	T(test_conf_wrong_type),
	T(test_conf_out_of_range),
	T(test_conf_http_url),
	T(test_conf_http_url_safe),
	T(test_conf_relative_phones),
	T(test_conf_missing),
	T(test_conf_missing_safe),
	T(test_conf_syntax_error),
	T(test_bad_module_argument),
	T(test_session_consumes_token),
};

static void add_case(struct CMUnitTest *all, size_t *n, char *name,
		     CMUnitTestFunction fn, const void *row)
{
	all[*n].name = name;
	all[*n].test_func = fn;
	all[*n].setup_func = setup;
	all[*n].teardown_func = teardown;
	all[*n].initial_state = (void *)(uintptr_t)row; /* cmocka API */
	(*n)++;
}

/* "fn(a, b)" */
static char *case_name(const char *fn, const char *a, const char *b)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s(%s, %s)", fn, a, b);
	return strdup(buf);
}

int main(int argc, char **argv)
{
	size_t max = NELEM(plain_tests) + NELEM(api_errors) + NELEM(outages) +
		     NELEM(forged) + NELEM(group_cases);
	struct CMUnitTest *all = calloc(max, sizeof(*all));
	char **names = calloc(max, sizeof(*names));
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t n = 0;
	int rc;

	if (all == NULL || names == NULL)
		return 1;
	for (size_t i = 0; i < NELEM(plain_tests); i++)
		all[n++] = plain_tests[i];
	for (size_t i = 0; i < NELEM(api_errors); i++) {
		names[n] = case_name("test_api_error", api_errors[i].code,
				     api_errors[i].endpoint);
		if (strcmp(api_errors[i].service, "bv") != 0) {
			free(names[n]);
			names[n] = case_name("test_api_error",
					     api_errors[i].code,
					     api_errors[i].service);
		}
		add_case(all, &n, names[n], test_api_error, &api_errors[i]);
	}
	for (size_t i = 0; i < NELEM(outages); i++) {
		names[n] = case_name("test_outage", outages[i].name,
				     outages[i].safe ? "bv_safe" : "bv");
		add_case(all, &n, names[n], test_outage, &outages[i]);
	}
	for (size_t i = 0; i < NELEM(forged); i++) {
		names[n] = case_name("test_forged_answer", forged[i].name,
				     forged[i].service);
		add_case(all, &n, names[n], test_forged_answer, &forged[i]);
	}
	for (size_t i = 0; i < NELEM(group_cases); i++) {
		names[n] = case_name("test_groups", group_cases[i].groups,
				     group_cases[i].asked ? "asked"
							  : "ignored");
		add_case(all, &n, names[n], test_groups, &group_cases[i]);
	}

	/* An optional argument runs only the cases whose name contains it. */
	if (only != NULL) {
		size_t kept = 0;

		for (size_t i = 0; i < n; i++) {
			if (strstr(all[i].name, only) != NULL)
				all[kept++] = all[i];
		}
		n = kept;
	}

	rc = _cmocka_run_group_tests("pam_baxverify (pam_wrapper)", all, n,
				     group_setup, group_teardown);
	for (size_t i = 0; i < max; i++)
		free(names[i]);
	free(names);
	free(all);
	return rc;
}
