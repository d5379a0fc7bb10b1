/*
 * harness.c - the shared half of the pam_wrapper + libpamtest programs:
 * mock control, config and phones files, one PAM transaction, assertions
 * on user messages and syslog, and the secret-hygiene teardown.  See
 * harness.h for what each piece promises.
 */

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <curl/curl.h>

#define MAX_SECRETS 128

/* ------------------------------------------------------------------ */
/* State shared by the cases: the environment and one transaction.     */

const char *testdir;
const char *mock_url;
const char *ca_file;
const char *syslog_file;
char conf_path[4096];
char phones_path[4096];
char key_path[4096];
char store_path[4096];
char outbox_path[4096];

/*
 * libpamtest's conversation copies each message into the next buffer of
 * out_info / out_err (no bounds check, no NUL), and reads the next
 * in_echo_off slot for every prompt, even past the terminating NULL.  So
 * the buffers are zeroed, there are plenty of them, and the answer arrays
 * are padded with NULLs far beyond what any case uses.
 */
char *info_buf[MAX_MSGS];
char *err_buf[MAX_MSGS];
static const char *answers[MAX_ANSWERS];
static const char *menu_answers[MAX_ANSWERS];

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

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

const char *pam_rc_name(int rc)
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

void assert_rc_at(int got, int want, const char *file, int line)
{
	if (got != want) {
		print_error("%s:%d: PAM returned %s (%d), expected %s (%d)\n",
			    file, line, pam_rc_name(got), got,
			    pam_rc_name(want), want);
		dump_user_messages();
		dump_syslog();
		fail();
	}
}

static void add_secret_flag(const char *s, bool env_ok)
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

void add_secret(const char *s)
{
	add_secret_flag(s, false);
}

void add_token_secret(const char *s)
{
	add_secret_flag(s, true);
}

static void clear_secrets(void)
{
	for (size_t i = 0; i < n_secrets; i++) {
		free(secrets[i].s);
		secrets[i].s = NULL;
	}
	n_secrets = 0;
}

char *read_whole_file(const char *path)
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

void write_file(const char *path, const char *text, mode_t mode)
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

void sb_printf(struct sbuf *sb, const char *fmt, ...)
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

unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\n')
			n++;
	}
	return n;
}

/* Append text and a newline to a growing buffer. */
static void append_line(char **buf, size_t *len, const char *text)
{
	size_t n = strlen(text);
	char *nb = realloc(*buf, *len + n + 2);

	assert_non_null(nb);
	*buf = nb;
	memcpy(*buf + *len, text, n);
	*len += n;
	(*buf)[(*len)++] = '\n';
	(*buf)[*len] = '\0';
}

int closed_port(int *port)
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

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* The mock's control API, over HTTPS with the test CA.                */

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

struct http_reply mock_http(const char *path, const char *body, bool bearer)
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

void mock_post(const char *path, const char *json)
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

void mock_config(const char *json)
{
	mock_post("/_mock/config", json);
}

void mock_fault(const char *json)
{
	mock_post("/_mock/fault", json);
}

cJSON *mock_get_json(const char *path)
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

static cJSON *mock_array(const char *path, const char *member)
{
	cJSON *j = mock_get_json(path);
	cJSON *a = cJSON_DetachItemFromObject(j, member);

	cJSON_Delete(j);
	assert_true(cJSON_IsArray(a));
	return a;
}

cJSON *mock_requests(void)
{
	return mock_array("/_mock/requests", "requests");
}

cJSON *mock_outbox(void)
{
	return mock_array("/_mock/outbox", "messages");
}

const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Requests whose path equals path (exact) or starts with it (prefix). */
static int count_matching(const char *path, bool prefix)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	int n = 0;

	cJSON_ArrayForEach(req, reqs) {
		const char *p = json_str(req, "path");

		if (path == NULL ||
		    (p != NULL && (prefix ? strncmp(p, path, strlen(path)) == 0
					  : strcmp(p, path) == 0)))
			n++;
	}
	cJSON_Delete(reqs);
	return n;
}

int mock_count(const char *path)
{
	return count_matching(path, false);
}

int mock_count_prefix(const char *prefix)
{
	return count_matching(prefix, true);
}

long mock_stat(const char *name)
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
static cJSON *body_of(const cJSON *req)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "body");

	if (cJSON_IsString(b))
		return cJSON_Parse(b->valuestring);
	if (b != NULL && !cJSON_IsNull(b))
		return cJSON_Duplicate(b, true);
	return NULL;
}

cJSON *mock_request_body(const char *path, int nth)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	cJSON *body = NULL;

	cJSON_ArrayForEach(req, reqs) {
		const char *p = json_str(req, "path");

		if (p == NULL || strcmp(p, path) != 0)
			continue;
		if (nth-- > 0)
			continue;
		body = body_of(req);
		break;
	}
	cJSON_Delete(reqs);
	return body;
}

/*
 * Every token, Tryvox verification_id and delivered code the module
 * handled is a secret for syslog and the user.  (Tokens and ids may sit in
 * the PAM environment: BAXVERIFY_TOKEN exports them.)
 */
static void collect_secrets_from_mock(void)
{
	cJSON *reqs = mock_requests();
	cJSON *outbox = mock_outbox();
	const cJSON *item;

	cJSON_ArrayForEach(item, reqs) {
		cJSON *b = body_of(item);
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
	cJSON_ArrayForEach(item, outbox) {
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
static void collect_secrets_from_env(void)
{
	const char *p = env_seen;

	while (p != NULL && (p = strstr(p, "BAXVERIFY_TOKEN=")) != NULL) {
		const char *v = p + strlen("BAXVERIFY_TOKEN=");
		const char *nl = strchr(v, '\n');
		char *tok = strndup(v, nl != NULL ? (size_t)(nl - v)
						  : strlen(v));

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
static void collect_secrets_from_outbox(void)
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
			if (strlen(w) >= 6 && strspn(w, "0123456789") ==
						       strlen(w))
				add_secret(w);
		}
	}
	free(box);
}

/* ------------------------------------------------------------------ */
/* Configuration files.                                                */

unsigned write_conf(const struct conf *c)
{
	struct sbuf sb = { NULL, 0, 0 };
	char url[4096];
	unsigned extra_line;

	snprintf(url, sizeof(url), "%s/v1", mock_url);
	sb_printf(&sb, "# written by tests/pam/harness.c\n");
	sb_printf(&sb, "provider = %s;\n",
		  c->provider != NULL ? c->provider : "\"baxverify\"");
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
	if (c->tryvox != NULL) {
		sb_printf(&sb, "tryvox = {\n");
		sb_printf(&sb, "  api_url = \"%s\";\n",
			  c->tryvox_url != NULL ? c->tryvox_url : mock_url);
		sb_printf(&sb, "  api_key = \"%s\";\n",
			  c->tryvox_key != NULL ? c->tryvox_key : TRYVOX_KEY);
		sb_printf(&sb, "  tenant_id = \"%s\";\n",
			  c->tenant_id != NULL ? c->tenant_id : TENANT_ID);
		sb_printf(&sb, "%s%s};\n", c->tryvox,
			  c->tryvox[0] != '\0' ? "\n" : "");
	}
	if (c->mudbase != NULL) {
		sb_printf(&sb, "mudbase = {\n");
		sb_printf(&sb, "  api_url = \"%s\";\n",
			  c->mudbase_url != NULL ? c->mudbase_url : mock_url);
		sb_printf(&sb, "  project_id = \"%s\";\n",
			  c->mudbase_project != NULL ? c->mudbase_project
						     : MUDBASE_PROJECT);
		sb_printf(&sb, "%s%s};\n", c->mudbase,
			  c->mudbase[0] != '\0' ? "\n" : "");
	}
	if (c->sections != NULL)
		sb_printf(&sb, "%s\n", c->sections);
	sb_printf(&sb, "http = {\n");
	if (!c->system_ca)
		sb_printf(&sb, "  ca_file = \"%s\";\n", ca_file);
	sb_printf(&sb, "  connect_timeout = %d;\n  timeout = %d;\n};\n",
		  c->connect_timeout > 0 ? c->connect_timeout : 5,
		  c->timeout > 0 ? c->timeout : 5);
	sb_printf(&sb, "phones = { file = \"%s\"; gecos = false; };\n",
		  c->phones != NULL ? c->phones : phones_path);
	/* Never the system's store: the module would write to it. */
	sb_printf(&sb, "store = { dir = \"%s\"; };\n", store_path);
	/* The helper of this build tree, not the installed one. */
	if (c->helper != NULL)
		sb_printf(&sb, "helper = \"%s\";\n", c->helper);
	else if (getenv("BV_HELPER") != NULL)
		sb_printf(&sb, "helper = \"%s\";\n", getenv("BV_HELPER"));
	if (c->limits != NULL)
		sb_printf(&sb, "limits = { %s };\n", c->limits);
	if (c->channels != NULL)
		sb_printf(&sb, "channels = %s;\n", c->channels);
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

void write_default_conf(void)
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
	memset(menu_answers, 0, sizeof(menu_answers));
	for (size_t i = 0; i < MAX_MSGS; i++) {
		memset(info_buf[i], 0, PAM_MAX_MSG_SIZE + 1);
		memset(err_buf[i], 0, PAM_MAX_MSG_SIZE + 1);
	}
}

/* Keep what the user saw for the teardown's hygiene check. */
static void end_transaction(char **env)
{
	for (size_t i = 0; i < 2 * MAX_MSGS; i++) {
		const char *m = i < MAX_MSGS ? info_buf[i]
					     : err_buf[i - MAX_MSGS];

		if (m[0] != '\0')
			append_line(&transcript, &transcript_len, m);
	}
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		append_line(&env_seen, &env_seen_len, env[i]);
}

/* ------------------------------------------------------------------ */
/* The harness's own conversation, for runs that need more than         */
/* libpamtest gives: PAM_TTY and PAM_RHOST, answers computed when the   */
/* prompt comes, a look between authentication and session, runs in     */
/* child processes.  Nothing here uses cmocka: it also runs in children. */

struct own_conv {
	struct pam_run *r;
	int n_off;          /* code prompts so far */
	int n_on;           /* menu prompts so far */
	int n_info;
	int n_err;
	char *given[MAX_ANSWERS]; /* copies of the answers handed out */
	int n_given;
	char *shown;        /* every message, one per line */
	size_t shown_len;
};

static size_t list_len(const char *const *list)
{
	size_t n = 0;

	while (list != NULL && list[n] != NULL)
		n++;
	return n;
}

static void shown_add(struct own_conv *c, const char *m)
{
	size_t n = strlen(m);
	char *ns = realloc(c->shown, c->shown_len + n + 2);

	if (ns == NULL)
		return;
	c->shown = ns;
	memcpy(c->shown + c->shown_len, m, n);
	c->shown_len += n;
	c->shown[c->shown_len++] = '\n';
	c->shown[c->shown_len] = '\0';
}

/* Copy a message into the next zeroed buffer, as libpamtest does. */
static void keep_message(char **bufs, int *n, const char *m)
{
	if (*n < MAX_MSGS)
		snprintf(bufs[(*n)++], PAM_MAX_MSG_SIZE + 1, "%s", m);
}

static const char *next_answer(struct own_conv *c, int style)
{
	const struct pam_run *r = c->r;
	const char *a = NULL;
	int n;

	if (style == PAM_PROMPT_ECHO_OFF) {
		n = c->n_off++;
		if (r->answer != NULL)
			a = r->answer(n, r->arg);
		else if ((size_t)n < list_len(r->codes))
			a = r->codes[n];
	} else {
		n = c->n_on++;
		if ((size_t)n < list_len(r->menu))
			a = r->menu[n];
	}
	if (a != NULL && c->n_given < MAX_ANSWERS)
		c->given[c->n_given++] = strdup(a);
	return a;
}

static int own_conv_fn(int num_msg, const struct pam_message **msg,
		       struct pam_response **resp, void *appdata)
{
	struct own_conv *c = appdata;
	struct pam_response *out;

	if (num_msg <= 0)
		return PAM_CONV_ERR;
	out = calloc((size_t)num_msg, sizeof(*out));
	if (out == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		int style = msg[i]->msg_style;
		const char *a;

		switch (style) {
		case PAM_PROMPT_ECHO_ON:
			/* As with libpamtest: no menu answers, no menu. */
			if (c->r->menu == NULL) {
				for (int j = 0; j < i; j++)
					free(out[j].resp);
				free(out);
				return PAM_CONV_ERR;
			}
			/* fall through */
		case PAM_PROMPT_ECHO_OFF:
			c->r->prompts++;
			a = next_answer(c, style);
			out[i].resp = a != NULL ? strdup(a) : NULL;
			break;
		case PAM_ERROR_MSG:
			keep_message(err_buf, &c->n_err, msg[i]->msg);
			shown_add(c, msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			keep_message(info_buf, &c->n_info, msg[i]->msg);
			shown_add(c, msg[i]->msg);
			break;
		default:
			break;
		}
	}
	*resp = out;
	return PAM_SUCCESS;
}

static bool in_child; /* after_auth (cmocka) is not for children */

/*
 * How children start together.  pam_wrapper sets itself up again in a
 * forked child, at its first pam_start: it picks a free /tmp/pam.X and
 * copies the service files there, which children doing it at the same
 * instant race on (seen: "Failed to create pam_wrapper config dir",
 * "Failed to parse pid").  So each child's pam_start runs under a lock;
 * then it says it is ready and waits for the common start.
 */
struct start_gate {
	int go;     /* read end: EOF is the start */
	int ready;  /* write end: one byte once pam_start is done */
};

static void start_locked(bool lock)
{
	char path[8192];
	static int fd = -1;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/.pam_start.lock", testdir);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return;
	fl.l_type = lock ? F_WRLCK : F_UNLCK;
	while (fcntl(fd, F_SETLKW, &fl) != 0 && errno == EINTR)
		;
}

/* One transaction through libpam with the harness's conversation. */
static void run_direct(struct pam_run *r, struct own_conv *c,
		       const struct start_gate *gate)
{
	struct pam_conv conv = { own_conv_fn, c };
	pam_handle_t *ph = NULL;
	int rc;
	char b = 'r';

	c->r = r;
	r->prompts = 0;
	r->session_rc = -1;
	r->env = NULL;
	r->shown = NULL;
	if (gate != NULL)
		start_locked(true);
	rc = pam_start(r->service, r->user, &conv, &ph);
	if (gate != NULL) {
		start_locked(false);
		if (write(gate->ready, &b, 1) != 1)
			rc = PAM_SYSTEM_ERR;
		while (read(gate->go, &b, 1) > 0)
			;
	}
	if (rc != PAM_SUCCESS) {
		r->auth_rc = rc;
		return;
	}
	if (r->tty != NULL)
		rc = pam_set_item(ph, PAM_TTY, r->tty);
	if (rc == PAM_SUCCESS && r->rhost != NULL)
		rc = pam_set_item(ph, PAM_RHOST, r->rhost);
	r->auth_rc = rc == PAM_SUCCESS ? pam_authenticate(ph, 0) : rc;
	r->env = pam_getenvlist(ph);
	if (r->after_auth != NULL && !in_child)
		r->after_auth(r);
	if (r->session && r->auth_rc == PAM_SUCCESS) {
		r->session_rc = r->session_user == NULL ? PAM_SUCCESS :
				pam_set_item(ph, PAM_USER, r->session_user);
		if (r->session_rc == PAM_SUCCESS)
			r->session_rc = pam_open_session(ph, 0);
		pamtest_free_env(r->env);
		r->env = pam_getenvlist(ph);
	}
	(void)pam_end(ph, r->session_rc >= 0 ? r->session_rc : r->auth_rc);
	if (r->auth_rc == IGNORE_MARKER)
		r->auth_rc = PAM_IGNORE;
	if (r->session_rc == IGNORE_MARKER)
		r->session_rc = PAM_IGNORE;
}

static bool wants_own_conv(const struct pam_run *r)
{
	return r->tty != NULL || r->rhost != NULL || r->answer != NULL ||
	       r->after_auth != NULL || r->session_user != NULL;
}

/* Back in the test: the answers become secrets, the rest is kept for
   the hygiene check. */
static void finish_own(struct pam_run *r, struct own_conv *c)
{
	for (int i = 0; i < c->n_given; i++) {
		if (c->given[i] != NULL && strlen(c->given[i]) >= 6)
			add_secret(c->given[i]);
		free(c->given[i]);
	}
	r->shown = c->shown != NULL ? c->shown : strdup("");
	assert_non_null(r->shown);
	end_transaction(r->env);
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w <= 0)
			return false;
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

static bool put_entry(int fd, char kind, const char *text)
{
	return write_all(fd, &kind, 1) &&
	       write_all(fd, text, strlen(text) + 1);
}

/*
 * The child's own pam_wrapper directory (see struct start_gate): removed
 * before _exit, which skips pam_wrapper's destructor; never the parent's.
 */
static void drop_pwrap_dir(const char *parent_dir)
{
	const char *dir = getenv("PAM_WRAPPER_RUNTIME_DIR");
	char path[8192];
	const char *sub[] = { "lib", "" };

	if (dir == NULL || strncmp(dir, "/tmp/pam.", 9) != 0 ||
	    (parent_dir != NULL && strcmp(dir, parent_dir) == 0))
		return;
	for (size_t i = 0; i < NELEM(sub); i++) {
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		d = opendir(path);
		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char file[8192 + 512];

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
			(void)unlink(file);
		}
		closedir(d);
		(void)rmdir(path);
	}
}

/*
 * In the child: start with the others, run, send back the results as
 * "auth session prompts\0" then one entry per item, a kind letter and
 * a NUL-terminated text: I info, E error, V environment, A answer given,
 * S everything shown.  Never returns.
 */
static void child_main(struct pam_run *r, const struct start_gate *gate,
		       int out, const char *parent_pwrap_dir)
{
	struct own_conv c = { 0 };
	char head[64];
	bool ok;

	in_child = true;
	/* A crash here must end this child, not resume cmocka in it. */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	alarm(60); /* a hung module must not hang make check */
	begin_transaction();
	run_direct(r, &c, gate);
	snprintf(head, sizeof(head), "%d %d %d", r->auth_rc, r->session_rc,
		 r->prompts);
	ok = write_all(out, head, strlen(head) + 1);
	for (size_t i = 0; ok && i < MAX_MSGS; i++) {
		if (info_buf[i][0] != '\0')
			ok = put_entry(out, 'I', info_buf[i]);
	}
	for (size_t i = 0; ok && i < MAX_MSGS; i++) {
		if (err_buf[i][0] != '\0')
			ok = put_entry(out, 'E', err_buf[i]);
	}
	for (size_t i = 0; ok && r->env != NULL && r->env[i] != NULL; i++)
		ok = put_entry(out, 'V', r->env[i]);
	for (int i = 0; ok && i < c.n_given; i++) {
		if (c.given[i] != NULL)
			ok = put_entry(out, 'A', c.given[i]);
	}
	if (ok)
		ok = put_entry(out, 'S', c.shown != NULL ? c.shown : "");
	drop_pwrap_dir(parent_pwrap_dir);
	_exit(ok ? 0 : 3);
}

/* "auth session prompts" */
static void parse_head(const char *p, struct pam_run *r)
{
	char *end;

	r->auth_rc = (int)strtol(p, &end, 10);
	assert_true(end != p && *end == ' ');
	p = end + 1;
	r->session_rc = (int)strtol(p, &end, 10);
	assert_true(end != p && *end == ' ');
	p = end + 1;
	r->prompts = (int)strtol(p, &end, 10);
	assert_true(end != p && *end == '\0');
}

/* Read the child's report into r (and the message buffers). */
static void parse_child(struct pam_run *r, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	size_t nenv = 0, cap = 8;
	int n_info = 0, n_err = 0;

	assert_non_null(memchr(data, '\0', len));
	parse_head(p, r);
	p += strlen(p) + 1;
	r->env = calloc(cap, sizeof(*r->env));
	assert_non_null(r->env);
	r->shown = NULL;
	while (p < end) {
		char kind = *p++;
		size_t n = strnlen(p, (size_t)(end - p));

		assert_true(p + n < end);
		switch (kind) {
		case 'I':
			keep_message(info_buf, &n_info, p);
			break;
		case 'E':
			keep_message(err_buf, &n_err, p);
			break;
		case 'V':
			if (nenv + 1 >= cap) {
				char **ne = realloc(r->env,
						    2 * cap * sizeof(*ne));

				assert_non_null(ne);
				r->env = ne;
				cap *= 2;
			}
			r->env[nenv] = strdup(p);
			assert_non_null(r->env[nenv]);
			r->env[++nenv] = NULL;
			break;
		case 'A':
			if (n >= 6)
				add_secret(p);
			break;
		case 'S':
			free(r->shown);
			r->shown = strdup(p);
			assert_non_null(r->shown);
			break;
		default:
			fail_msg("bad report from a child: kind %d", kind);
		}
		p += n + 1;
	}
	if (r->shown == NULL)
		r->shown = strdup("");
}

/* All a child reported, until it closed its end; free it. */
static char *read_report(int fd, size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap);
	ssize_t got;

	assert_non_null(buf);
	*len = 0;
	for (;;) {
		if (cap - *len < 1024) {
			char *nb = realloc(buf, cap * 2);

			assert_non_null(nb);
			buf = nb;
			cap *= 2;
		}
		got = read(fd, buf + *len, cap - *len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		*len += (size_t)got;
	}
	buf[*len] = '\0';
	return buf;
}

/* A pipe whose ends no program the module runs inherits. */
static void cloexec_pipe(int p[2])
{
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[0], F_SETFD, FD_CLOEXEC), 0);
	assert_int_equal(fcntl(p[1], F_SETFD, FD_CLOEXEC), 0);
}

void run_pam_parallel(struct pam_run *runs, size_t n)
{
	pid_t *pids = calloc(n, sizeof(*pids));
	int *fds = calloc(n, sizeof(*fds));
	const char *pw = getenv("PAM_WRAPPER_RUNTIME_DIR");
	char *parent_pwrap_dir = pw != NULL ? strdup(pw) : NULL;
	int go[2], ready[2];
	size_t nready = 0;
	char b;

	assert_non_null(pids);
	assert_non_null(fds);
	cloexec_pipe(go);
	cloexec_pipe(ready);
	fflush(NULL); /* no stdio buffer written twice */
	for (size_t i = 0; i < n; i++) {
		int p[2];

		cloexec_pipe(p);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct start_gate gate = { go[0], ready[1] };

			close(go[1]);
			close(ready[0]);
			close(p[0]);
			child_main(&runs[i], &gate, p[1], parent_pwrap_dir);
		}
		close(p[1]);
		fds[i] = p[0];
	}
	/*
	 * All past pam_start (or 10 s gone: a child that died before saying
	 * so must not keep the others waiting), closing the write end starts
	 * them at once.
	 */
	close(ready[1]);
	while (nready < n) {
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };

		if (poll(&pfd, 1, 10 * 1000) <= 0 ||
		    read(ready[0], &b, 1) != 1)
			break;
		nready++;
	}
	close(ready[0]);
	close(go[0]);
	close(go[1]);
	free(parent_pwrap_dir);
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		char *data = read_report(fds[i], &len);
		int status = 0;

		close(fds[i]);
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			print_error("child %zu (pid %d) ended with status "
				    "0x%x\n", i, (int)pids[i], status);
			fail();
		}
		begin_transaction();
		parse_child(&runs[i], data, len);
		end_transaction(runs[i].env);
		free(data);
	}
	free(pids);
	free(fds);
}

int run_pam_child(struct pam_run *r)
{
	run_pam_parallel(r, 1);
	return r->auth_rc;
}

int run_pam(struct pam_run *r)
{
	struct pamtest_conv_data conv = {
		.in_echo_off = answers,
		.in_echo_on = menu_answers,
		.out_err = err_buf,
		.out_info = info_buf,
	};
	/*
	 * KEEPHANDLE first: libpamtest stops at the first operation whose
	 * result differs from the expected one, but hands back the handle
	 * either way, so the environment can be read whatever the outcome.
	 */
	struct pam_testcase tests[] = {
		pam_test(PAMTEST_KEEPHANDLE, 0),
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
	};
	pam_handle_t *ph;
	size_t n = 0;

	if (wants_own_conv(r)) {
		struct own_conv c = { 0 };

		begin_transaction();
		run_direct(r, &c, NULL);
		finish_own(r, &c);
		return r->auth_rc;
	}
	begin_transaction();
	for (; r->codes != NULL && r->codes[n] != NULL &&
	       n < MAX_ANSWERS / 2; n++) {
		answers[n] = r->codes[n];
		/* Short answers ("12") would match innocent log text. */
		if (strlen(r->codes[n]) >= 6)
			add_secret(r->codes[n]);
	}
	for (n = 0; r->menu != NULL && r->menu[n] != NULL &&
		    n < MAX_ANSWERS / 2; n++)
		menu_answers[n] = r->menu[n];

	tests[2].op_rv = -1;
	(void)_pamtest(r->service, r->user, &conv, tests,
		       r->session ? 3 : 2, NULL);
	ph = tests[0].case_out.ph;
	assert_non_null(ph);
	r->env = pam_getenvlist(ph);
	r->auth_rc = tests[1].op_rv;
	r->session_rc = r->session && r->auth_rc == PAM_SUCCESS
				? tests[2].op_rv
				: -1;
	(void)pam_end(ph, r->session_rc >= 0 ? r->session_rc : r->auth_rc);
	end_transaction(r->env);
	if (r->auth_rc == IGNORE_MARKER)
		r->auth_rc = PAM_IGNORE;
	if (r->session_rc == IGNORE_MARKER)
		r->session_rc = PAM_IGNORE;
	return r->auth_rc;
}

int run_auth_menu(const char *service, const char *user,
		  const char *const *codes, const char *const *menu,
		  char ***envp)
{
	struct pam_run r = {
		.service = service,
		.user = user,
		.codes = codes,
		.menu = menu,
	};

	run_pam(&r);
	if (envp != NULL)
		*envp = r.env;
	else
		pamtest_free_env(r.env);
	return r.auth_rc;
}

int run_auth(const char *service, const char *user, const char *const *ans,
	     char ***envp)
{
	return run_auth_menu(service, user, ans, NULL, envp);
}

const char *env_get(char **env, const char *name)
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

bool in_bufs(char **bufs, const char *needle)
{
	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (strstr(bufs[i], needle) != NULL)
			return true;
	}
	return false;
}

int count_in_bufs(char **bufs, const char *needle)
{
	int n = 0;

	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (strstr(bufs[i], needle) != NULL)
			n++;
	}
	return n;
}

void dump_user_messages(void)
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

void dump_syslog(void)
{
	char *log = read_whole_file(syslog_file);

	print_message("  syslog:\n%s", log);
	free(log);
}

void assert_said(char **bufs, const char *kind, const char *needle, int line)
{
	if (!in_bufs(bufs, needle)) {
		print_error("line %d: no %s message containing \"%s\"\n", line,
			    kind, needle);
		dump_user_messages();
		dump_syslog();
		fail();
	}
}

void assert_not_said_at(const char *needle, int line)
{
	if (in_bufs(info_buf, needle) || in_bufs(err_buf, needle)) {
		print_error("line %d: user was shown \"%s\"\n", line, needle);
		dump_user_messages();
		fail();
	}
}

bool log_has(int prio, const char *const *needles)
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

int count_logged(const char *needle)
{
	char *log = read_whole_file(syslog_file);
	int n = 0;

	for (const char *l = log; *l != '\0';) {
		const char *nl = strchr(l, '\n');
		size_t len = nl != NULL ? (size_t)(nl - l) : strlen(l);
		const char *hit = strstr(l, needle);

		if (hit != NULL && hit < l + len)
			n++;
		l += len + (nl != NULL);
	}
	free(log);
	return n;
}

static void print_needles(const char *const *needles)
{
	for (size_t i = 0; needles[i] != NULL; i++)
		print_error(" [%s]", needles[i]);
	print_error("\n");
}

void assert_logged_at(int prio, const char *const *needles, int line)
{
	if (!log_has(prio, needles)) {
		print_error("line %d: no syslog line (priority %d) with:",
			    line, prio);
		print_needles(needles);
		dump_syslog();
		dump_user_messages();
		fail();
	}
}

void assert_not_logged_at(const char *const *needles, int line)
{
	if (log_has(ANY_PRIO, needles)) {
		print_error("line %d: unexpected syslog line with:", line);
		print_needles(needles);
		dump_syslog();
		fail();
	}
}

void assert_requests_at(const char *path, int want, int line)
{
	int got = mock_count(path);

	if (got != want) {
		print_error("line %d: %d request(s) to %s, expected %d\n",
			    line, got, path != NULL ? path : "the API", want);
		fail();
	}
}

void assert_requests_prefix_at(const char *prefix, int want, int line)
{
	int got = mock_count_prefix(prefix);

	if (got != want) {
		print_error("line %d: %d request(s) to %s*, expected %d\n",
			    line, got, prefix, want);
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* JWTs: the Mudbase token and refreshToken (and BaxVerify's token).   */

static bool b64url_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

static int b64url_value(char ch)
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
static char *b64url_decode(const char *s, size_t len)
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
static const char *next_jwt(const char **from, size_t *len, char **claims)
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

char *jwt_payload(const char *jwt)
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

static bool claims_are_refresh(const char *claims)
{
	cJSON *j = cJSON_Parse(claims);
	const char *type = json_str(j, "type");
	bool refresh = type != NULL && strcmp(type, "refresh") == 0;

	cJSON_Delete(j);
	return refresh || strstr(claims, "refresh") != NULL;
}

/* Any JWT in what the user saw or in syslog is a leak. */
static bool jwt_leak(const char *text, const char *where)
{
	const char *from = text, *jwt;
	size_t len;
	char *claims;
	bool leak = false;

	while (from != NULL &&
	       (jwt = next_jwt(&from, &len, &claims)) != NULL) {
		print_error("SECRET LEAK: %s contains a %s JWT \"%.*s\"\n",
			    where, claims_are_refresh(claims) ? "refresh"
							      : "token",
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
static bool env_jwt_leak(const char *env)
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

static bool request_leak(const cJSON *req)
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
			    "Authorization/X-Api-Key header\n", path);
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

static bool requests_leak(void)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	bool leak = false;

	cJSON_ArrayForEach(req, reqs)
		leak = request_leak(req) || leak;
	cJSON_Delete(reqs);
	return leak;
}

/* Is s in text as a whole word (between blanks or line ends)? */
static bool has_word(const char *text, const char *s)
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
static bool store_leak(void)
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
					    "contains \"%s\"\n", path, sec);
				leak = true;
			}
		}
		free(text);
	}
	closedir(d);
	return leak;
}

/* ------------------------------------------------------------------ */
/* Fixtures.                                                           */

int harness_group_setup(void **state)
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
	snprintf(store_path, sizeof(store_path), "%s/store", testdir);
	snprintf(outbox_path, sizeof(outbox_path), "%s/outbox", testdir);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	for (size_t i = 0; i < MAX_MSGS; i++) {
		info_buf[i] = calloc(1, PAM_MAX_MSG_SIZE + 1);
		err_buf[i] = calloc(1, PAM_MAX_MSG_SIZE + 1);
		if (info_buf[i] == NULL || err_buf[i] == NULL)
			return -1;
	}
	/* alice: valid; bob: no entry; carol: invalid (line 4); root;
	   dave: phone and email; erin: email only. */
	write_file(phones_path,
		   "# test phones\n"
		   "alice " ALICE_PHONE "\n"
		   "\n"
		   "carol +12\n"
		   "root " ROOT_PHONE "\n"
		   "dave " DAVE_PHONE " " DAVE_EMAIL "\n"
		   "erin " ERIN_EMAIL "\n",
		   0600);
	return 0;
}

int harness_group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < MAX_MSGS; i++) {
		free(info_buf[i]);
		free(err_buf[i]);
	}
	free(transcript);
	transcript = NULL;
	free(env_seen);
	env_seen = NULL;
	curl_global_cleanup();
	return 0;
}

/* Remove the local store (its files and the directory); the module
   creates it again, mode 0700, when it needs it. */
static void empty_store(void)
{
	DIR *d = opendir(store_path);
	struct dirent *e;
	char path[8192];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", store_path, e->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(store_path);
}

static void reset_case(void)
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

int harness_setup(void **state)
{
	(void)state;
	begin_transaction();
	reset_case();
	add_secret(API_KEY);
	add_secret(TRYVOX_KEY);
	add_secret(CODE);
	write_file(syslog_file, "", 0600);
	empty_store();
	(void)unlink(outbox_path);
	mock_post("/_mock/reset", "{}");
	mock_config("{\"force_code\": \"" CODE "\"}");
	write_default_conf();
	return 0;
}

/* A secret found in syslog, in what the user saw or (for keys and
   refresh tokens) in the PAM environment fails the case. */
int harness_teardown(void **state)
{
	static const char *const full_dests[] = {
		ALICE_PHONE + 1, ROOT_PHONE + 1, DAVE_PHONE + 1, DAVE_EMAIL,
		ERIN_EMAIL,
	};
	char *log;
	bool leak = false;

	(void)state;
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
				    "\"%s\"\n", secrets[s].s);
			leak = true;
		}
	}
	leak = jwt_leak(log, "syslog") || leak;
	leak = jwt_leak(transcript, "what the user saw") || leak;
	leak = env_jwt_leak(env_seen) || leak;
	for (size_t i = 0; i < NELEM(full_dests); i++) {
		if (strstr(transcript, full_dests[i]) != NULL) {
			print_error("DESTINATION LEAK: user was shown the "
				    "full \"%s\"\n", full_dests[i]);
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
	/* Leave no fault, lockout or send count behind for what follows. */
	empty_store();
	(void)unlink(outbox_path);
	mock_post("/_mock/reset", "{}");
	return leak ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The table-driven main.                                              */

void add_case(struct CMUnitTest *all, size_t *n, char *name,
	      CMUnitTestFunction fn, const void *row)
{
	all[*n].name = name;
	all[*n].test_func = fn;
	all[*n].setup_func = harness_setup;
	all[*n].teardown_func = harness_teardown;
	all[*n].initial_state = (void *)(uintptr_t)row; /* cmocka API */
	(*n)++;
}

char *case_name(const char *fn, const char *a, const char *b)
{
	char buf[256];

	if (b != NULL)
		snprintf(buf, sizeof(buf), "%s(%s, %s)", fn, a, b);
	else
		snprintf(buf, sizeof(buf), "%s(%s)", fn, a);
	return strdup(buf);
}

int harness_run(const char *group, struct CMUnitTest *all, size_t n,
		const char *only)
{
	/* An optional argument runs only the cases whose name contains it. */
	if (only != NULL) {
		size_t kept = 0;

		for (size_t i = 0; i < n; i++) {
			if (strstr(all[i].name, only) != NULL)
				all[kept++] = all[i];
		}
		n = kept;
	}
	return _cmocka_run_group_tests(group, all, n, harness_group_setup,
				       harness_group_teardown);
}
