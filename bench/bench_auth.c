/*
 * bench_auth.c - the performance benchmark of pam_baxverify.
 *
 * A program that prints figures, not a test: bench/run-bench.sh builds it,
 * sets up the mock BaxVerify, the configuration and the PAM service files,
 * and runs it under pam_wrapper.  In one run, each operation is timed N
 * times (default 200) after a warm-up, all of them interleaved (one round
 * runs every operation once), and each module figure is printed beside its
 * floor as a ratio:
 *
 *   A   pam_start/pam_authenticate/pam_end on "auth required pam_permit.so"
 *   S   the module on a user outside "groups" (PAM_IGNORE, then the same
 *       pam_permit line): loading the module and reading its
 *       configuration                                                  vs A
 *   B   a bare libcurl client making the same three HTTPS requests (same
 *       headers, bodies and CA file, one easy handle for the three, a new
 *       handle per iteration, as the module does)
 *   F   a whole BaxVerify login: send, verify, validate-token, the code
 *       answered by the conversation function                          vs B
 *   C   the yescrypt hashing a local login does: crypt_r three times
 *   L   a local-provider login (file delivery, store in a scratch dir) vs C
 *
 * and the TCP connections and API requests each operation made, read from
 * the mock's GET /_mock/stats around every single operation.
 *
 * Every login (and every iteration of B) runs in a fresh process, forked
 * for it; the time is taken inside the child around pam_start ...
 * pam_end.  sudo is a new process per login and sshd re-executes itself
 * per connection, so on a host a login always loads the module and its
 * libraries; in one long-lived process later logins would find some of
 * them still loaded (OpenSSL pins itself in memory once initialised) and
 * look cheaper.  libcurl is not linked into this program, and the parent
 * never loads it nor any other library of the module's but libpam and
 * libcrypt: each child sets up, before its clock starts, the state its row
 * measures:
 *
 *   S, F    cold: nothing more (as in sudo, which links none of them)
 *   S', F'  the module's libraries that sshd links too (OpenSSL, Kerberos,
 *           zlib...: BV_BENCH_HOST_LIBS), loaded
 *   S", F"  libcurl loaded and initialised: what is left of the cost
 *           without loading libraries
 *   B       libcurl loaded and initialised, as for any libcurl client
 *
 * pam_wrapper's own per-process set-up (a copy of the service directory)
 * is done in each child before the clock starts too, and removed after.
 *
 * Last, N BaxVerify logins and N skipped users run in this one process
 * (libcurl loaded, as in a long-lived PAM application) and the growth of
 * its resident set is printed.
 *
 *   bench_auth [-n ITERATIONS] [-w WARMUP]
 *
 * Environment (run-bench.sh sets it): BV_BENCH_MOCK_URL (https://host:port
 * of the mock), BV_BENCH_CA (the test CA), BV_BENCH_API_KEY,
 * BV_BENCH_PROJECT_ID, BV_BENCH_PHONE and BV_BENCH_CODE (the mock's
 * force_code), BV_BENCH_USER (has BV_BENCH_PHONE in the phones file),
 * BV_BENCH_SKIP_USER (outside the skip configuration's groups),
 * BV_BENCH_OUTBOX (local.file), optional BV_BENCH_HOST_LIBS (sonames for
 * S' and F'; those rows are left out when it is unset) and
 * BV_BENCH_LIBCURL (default libcurl.so.4).  Services: bench_permit,
 * bench_skip, bench_bax, bench_local.
 *
 * Exit status: 0 when every login gave the expected answer and every check
 * (connections and requests per operation, identical requests) held; 1
 * when a check failed; 2 for a usage error; 99 when a login or the set-up
 * failed.
 */
#include "config.h"

#include <crypt.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <security/pam_appl.h>

#define SVC_PERMIT "bench_permit"
#define SVC_SKIP "bench_skip"
#define SVC_BAX "bench_bax"
#define SVC_LOCAL "bench_local"

#define BODY_MAX (64 * 1024)
#define CONTROL_MAX (16 * 1024 * 1024)

/* ---------------------------------------------------------------------- */
/* Set-up and small helpers.                                               */

static struct {
	const char *mock_url;
	const char *ca;
	const char *api_key;
	const char *project_id;
	const char *phone;
	const char *code;
	const char *user;
	const char *skip_user;
	const char *outbox;
	const char *libcurl;
} env;

/* The module's libraries sshd links, minus those loaded here already. */
static char host_libs[1024];

static int failed_checks;
/*
 * What this process is.  A forked child leaves with _exit, or pam_wrapper's
 * destructor would remove the parent's copy of the service directory; a
 * login child removes its own copy (see fresh()).
 */
static enum { PARENT, AGENT, LOGIN_CHILD } role = PARENT;
/* The parent's pam_wrapper directory (PAM_WRAPPER_RUNTIME_DIR). */
static char parent_pw_dir[1024];

static void child_pam_wrapper_cleanup(void);

static void
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bench_auth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (role == LOGIN_CHILD)
		child_pam_wrapper_cleanup();
	if (role != PARENT) {
		fflush(stderr);
		_exit(99);
	}
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

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Resident set size in KiB, from /proc/self/statm. */
static long
rss_kib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---------------------------------------------------------------------- */
/* Statistics.                                                             */

struct series {
	const char *tag, *label;
	double *us;
	int n;
	bool done;
	double mean, median, p90;
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
series_init(struct series *s, const char *tag, const char *label, int n)
{
	s->tag = tag;
	s->label = label;
	s->us = calloc((size_t)n, sizeof(*s->us));
	if (s->us == NULL)
		die("out of memory");
	s->n = 0;
	s->done = false;
}

static void
series_finish(struct series *s)
{
	double sum = 0;
	int i;

	for (i = 0; i < s->n; i++)
		sum += s->us[i];
	qsort(s->us, (size_t)s->n, sizeof(*s->us), cmp_double);
	s->mean = s->n ? sum / s->n : 0;
	s->median = s->n == 0  ? 0
		    : s->n % 2 ? s->us[s->n / 2]
			       : (s->us[s->n / 2 - 1] + s->us[s->n / 2]) / 2;
	/* Nearest rank: the smallest value >= 90% of the samples. */
	s->p90 = s->n ? s->us[(9 * s->n + 9) / 10 - 1] : 0;
	s->done = s->n > 0;
}

/* ---------------------------------------------------------------------- */
/* libcurl, loaded at run time (see the top of the file).                  */

struct curl_api {
	void *lib;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	const char *(*easy_strerror)(CURLcode);
};

static struct curl_api curl;

static bool
sym(void *lib, const char *name, void *fp, size_t fpsize)
{
	void *p = dlsym(lib, name);

	if (p == NULL || fpsize != sizeof(p))
		return false;
	memcpy(fp, &p, sizeof(p));
	return true;
}

#define SYM(field, name) sym(curl.lib, name, &curl.field, sizeof(curl.field))

/* Load and initialise libcurl into the global table, or die. */
static void
curl_load(void)
{
	if (curl.lib != NULL)
		return;
	curl.lib = dlopen(env.libcurl, RTLD_NOW | RTLD_LOCAL);
	if (curl.lib == NULL)
		die("%s", dlerror());
	if (!SYM(global_init, "curl_global_init") ||
	    !SYM(easy_init, "curl_easy_init") ||
	    !SYM(easy_setopt, "curl_easy_setopt") ||
	    !SYM(easy_perform, "curl_easy_perform") ||
	    !SYM(easy_getinfo, "curl_easy_getinfo") ||
	    !SYM(easy_cleanup, "curl_easy_cleanup") ||
	    !SYM(slist_append, "curl_slist_append") ||
	    !SYM(slist_free_all, "curl_slist_free_all") ||
	    !SYM(easy_strerror, "curl_easy_strerror"))
		die("%s lacks a symbol", env.libcurl);
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
}

/* Is (a) libcurl mapped in this process right now? */
static bool
libcurl_resident(void)
{
	void *h = dlopen(env.libcurl, RTLD_LAZY | RTLD_NOLOAD);

	if (h == NULL)
		return false;
	dlclose(h);
	return true;
}

/* A response body: fixed room (the bare client) or growing (control). */
struct sink {
	char *buf;
	size_t len, cap;
	bool grow;
};

static size_t
sink_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct sink *s = userp;
	size_t n = size * nmemb, cap;
	char *p;

	if (s->len + n + 1 > s->cap) {
		if (!s->grow || s->len + n + 1 > CONTROL_MAX)
			return 0;
		for (cap = s->cap ? s->cap : 4096; cap < s->len + n + 1;)
			cap *= 2;
		p = realloc(s->buf, cap);
		if (p == NULL)
			return 0;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* ---------------------------------------------------------------------- */
/* The mock's control API, through an agent process.                       */

/*
 * A forked process that has libcurl loaded (so that this one need not)
 * makes the control requests, on one kept-alive connection that carries
 * no API request (the mock does not count it).  Requests are lines
 * "METHOD PATH JSON|-"; answers are "STATUS LENGTH\n" and the body.
 */
static struct {
	pid_t pid;
	FILE *to, *from;
} agent;

static void
agent_serve(FILE *in, FILE *out)
{
	struct sink body = {NULL, 0, 0, true};
	struct curl_slist *json_hdr;
	char *line = NULL, *path, *data, url[1024];
	size_t linecap = 0;
	ssize_t n;
	long status;
	CURL *e;

	curl_load();
	e = curl.easy_init();
	json_hdr = curl.slist_append(NULL, "Content-Type: application/json");
	if (e == NULL || json_hdr == NULL)
		die("agent: out of memory");
	while ((n = getline(&line, &linecap, in)) > 0) {
		line[n - 1] = line[n - 1] == '\n' ? '\0' : line[n - 1];
		path = strchr(line, ' ');
		data = path ? strchr(path + 1, ' ') : NULL;
		if (data == NULL)
			die("agent: bad request line");
		*path++ = '\0';
		*data++ = '\0';
		snprintf(url, sizeof(url), "%s%s", env.mock_url, path);
		body.len = 0;
		curl.easy_setopt(e, CURLOPT_URL, url);
		curl.easy_setopt(e, CURLOPT_CAINFO, env.ca);
		curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl.easy_setopt(e, CURLOPT_TIMEOUT, 20L);
		curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
		curl.easy_setopt(e, CURLOPT_WRITEDATA, &body);
		if (strcmp(line, "POST") == 0) {
			curl.easy_setopt(e, CURLOPT_HTTPHEADER, json_hdr);
			curl.easy_setopt(e, CURLOPT_POSTFIELDS, data);
		} else {
			curl.easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
			curl.easy_setopt(e, CURLOPT_HTTPGET, 1L);
		}
		status = 0;
		if (curl.easy_perform(e) == CURLE_OK)
			curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		fprintf(out, "%ld %zu\n", status, body.len);
		if (body.len)
			fwrite(body.buf, 1, body.len, out);
		if (fflush(out) != 0)
			break;
	}
	_exit(0);
}

static void
agent_start(void)
{
	int down[2], up[2];

	fflush(stdout);
	fflush(stderr);
	if (pipe(down) != 0 || pipe(up) != 0)
		die("pipe: %s", strerror(errno));
	agent.pid = fork();
	if (agent.pid < 0)
		die("fork: %s", strerror(errno));
	if (agent.pid == 0) {
		FILE *in, *out;

		role = AGENT;
		close(down[1]);
		close(up[0]);
		in = fdopen(down[0], "r");
		out = fdopen(up[1], "w");
		if (in == NULL || out == NULL)
			die("agent: fdopen failed");
		agent_serve(in, out);
	}
	close(down[0]);
	close(up[1]);
	agent.to = fdopen(down[1], "w");
	agent.from = fdopen(up[0], "r");
	if (agent.to == NULL || agent.from == NULL)
		die("fdopen failed");
}

static void
agent_stop(void)
{
	int status;

	if (agent.to == NULL)
		return;
	fclose(agent.to);
	fclose(agent.from);
	agent.to = agent.from = NULL;
	while (waitpid(agent.pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* METHOD path [json]: the answer's body (malloc'ed); dies unless 200. */
static char *
mock_call(const char *method, const char *path, const char *json)
{
	long status = 0;
	size_t len = 0;
	char *body;

	fprintf(agent.to, "%s %s %s\n", method, path, json ? json : "-");
	if (fflush(agent.to) != 0 ||
	    fscanf(agent.from, "%ld %zu", &status, &len) != 2 ||
	    fgetc(agent.from) != '\n')
		die("the control agent is gone");
	body = malloc(len + 1);
	if (body == NULL || fread(body, 1, len, agent.from) != len)
		die("the control agent is gone");
	body[len] = '\0';
	if (status != 200)
		die("%s %s: HTTP %ld: %s", method, path, status, body);
	return body;
}

static long
json_number(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(text, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

struct stats {
	long connections, requests;
};

static struct stats
mock_stats(void)
{
	char *body = mock_call("GET", "/_mock/stats", NULL);
	struct stats st;

	st.connections = json_number(body, "connections");
	st.requests = json_number(body, "requests");
	free(body);
	if (st.connections < 0 || st.requests < 0)
		die("GET /_mock/stats: unexpected answer");
	return st;
}

static void
mock_reset(void)
{
	char json[256];

	free(mock_call("POST", "/_mock/reset", "{}"));
	snprintf(json, sizeof(json), "{\"force_code\":\"%s\"}", env.code);
	free(mock_call("POST", "/_mock/config", json));
}

/* ---------------------------------------------------------------------- */
/* PAM.                                                                    */

struct conv_data {
	const char *code; /* the answer, or NULL: read it from outbox */
	const char *outbox;
	int prompts;
	char last_error[256];
};

/* The code of the newest line of the outbox ("+1...: 123456 is your..."). */
static char *
code_from_outbox(const char *path)
{
	char buf[4096], *line, *p, *end;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	p = strstr(line, ": ");
	if (p == NULL)
		return NULL;
	p += 2;
	for (end = p; *end >= '0' && *end <= '9'; end++)
		;
	if (end == p)
		return NULL;
	return strndup(p, (size_t)(end - p));
}

static int
conversation(int n, const struct pam_message **msg, struct pam_response **resp,
	     void *appdata)
{
	struct conv_data *cd = appdata;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			cd->prompts++;
			r[i].resp = cd->code ? strdup(cd->code)
					     : code_from_outbox(cd->outbox);
			if (r[i].resp == NULL)
				goto fail;
			break;
		case PAM_ERROR_MSG:
			snprintf(cd->last_error, sizeof(cd->last_error), "%s",
				 msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			break;
		default: /* a menu: not expected with one channel */
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

/* One pam_start/pam_authenticate/pam_end, timed; dies unless it succeeds. */
static double
login(const char *service, const char *user, const char *code)
{
	struct conv_data cd = {code, env.outbox, 0, ""};
	struct pam_conv conv = {conversation, &cd};
	pam_handle_t *pamh = NULL;
	double t0, t1;
	int rc;

	t0 = now_us();
	rc = pam_start(service, user, &conv, &pamh);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, 0);
	if (pamh != NULL)
		pam_end(pamh, rc);
	t1 = now_us();
	if (rc != PAM_SUCCESS)
		die("service %s, user %s: %s%s%s", service, user,
		    pam_strerror(NULL, rc), cd.last_error[0] ? ": " : "",
		    cd.last_error);
	return t1 - t0;
}

static double
login_permit(void)
{
	return login(SVC_PERMIT, env.user, NULL);
}

static double
login_skip(void)
{
	return login(SVC_SKIP, env.skip_user, NULL);
}

static double
login_bax(void)
{
	return login(SVC_BAX, env.user, env.code);
}

static double
login_local(void)
{
	/* The outbox is emptied between logins, outside the timing. */
	if (truncate(env.outbox, 0) != 0 && errno != ENOENT)
		die("truncate %s: %s", env.outbox, strerror(errno));
	return login(SVC_LOCAL, env.user, NULL);
}

/* ---------------------------------------------------------------------- */
/* Floor B: the bare libcurl client.                                       */

static char bare_buf[BODY_MAX + 1];
static struct sink bare_sink = {bare_buf, 0, sizeof(bare_buf), false};

static void
bare_post(CURL *e, struct curl_slist *hdrs, const char *path, const char *body)
{
	char url[1024];
	long status = 0;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s/v1%s", env.mock_url, path);
	bare_sink.len = 0;
	bare_sink.buf[0] = '\0';
	curl.easy_setopt(e, CURLOPT_URL, url);
	curl.easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl.easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl.easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	cc = curl.easy_perform(e);
	if (cc != CURLE_OK)
		die("bare client: %s: %s", path, curl.easy_strerror(cc));
	curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		die("bare client: %s: HTTP %ld: %s", path, status,
		    bare_sink.buf);
}

/* The value of "key":"..." in the last answer, into out. */
static bool
bare_string(const char *key, char *out, size_t outsz)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(bare_sink.buf, pat);
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

static double
bare_login(void)
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
	hdrs = curl.slist_append(hdrs, auth);
	hdrs = curl.slist_append(hdrs, project);
	hdrs = curl.slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl.slist_append(hdrs, "Accept: application/json");
	hdrs = curl.slist_append(hdrs, "Expect:");
	e = curl.easy_init();
	if (hdrs == NULL || e == NULL)
		die("bare client: out of memory");
	curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(e, CURLOPT_CAINFO, env.ca);
	curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 5L);
	curl.easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	curl.easy_setopt(e, CURLOPT_USERAGENT,
			 PACKAGE_NAME "/" PACKAGE_VERSION);
	curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
	curl.easy_setopt(e, CURLOPT_WRITEDATA, &bare_sink);

	bare_post(e, hdrs, "/auth/sms/send", send_body);
	bare_post(e, hdrs, "/auth/sms/verify", verify_body);
	if (!bare_string("accessToken", token, sizeof(token)))
		die("bare client: no accessToken in %s", bare_sink.buf);
	snprintf(validate_body, sizeof(validate_body),
		 "{\"token\":\"%s\",\"consume\":false}", token);
	bare_post(e, hdrs, "/auth/sms/validate-token", validate_body);
	if (strstr(bare_sink.buf, "\"valid\":true") == NULL)
		die("bare client: token not valid: %s", bare_sink.buf);

	curl.easy_cleanup(e);
	curl.slist_free_all(hdrs);
	t1 = now_us();
	return t1 - t0;
}

/* ---------------------------------------------------------------------- */
/* Floor C: the hashing of a local login.                                  */

/*
 * A local login hashes the new code (store_hash), checks the typed code
 * against that hash (store_hash_matches) and hashes the proof token
 * (store_hash): three crypt_r calls with the system's preferred method.
 */
static double
hash_three(void)
{
	static struct crypt_data cd;
	static const char token[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], hash[CRYPT_OUTPUT_SIZE];
	const char *h;
	double t0, t1;

	t0 = now_us();
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof(salt)) == NULL ||
	    (h = crypt_r(env.code, salt, &cd)) == NULL || h[0] == '*')
		die("crypt_r failed");
	snprintf(hash, sizeof(hash), "%s", h);
	h = crypt_r(env.code, hash, &cd);
	if (h == NULL || strcmp(h, hash) != 0)
		die("crypt_r: the code does not match its own hash");
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof(salt)) == NULL ||
	    (h = crypt_r(token, salt, &cd)) == NULL || h[0] == '*')
		die("crypt_r failed");
	t1 = now_us();
	return t1 - t0;
}

/* ---------------------------------------------------------------------- */
/* Fresh processes.                                                        */

/* Remove a directory of plain files. */
static void
remove_flat_dir(const char *path)
{
	char file[4096];
	struct dirent *de;
	DIR *d = opendir(path);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		unlink(file);
	}
	closedir(d);
	rmdir(path);
}

/*
 * pam_wrapper sets itself up again in a forked child at its first
 * pam_start: a new /tmp/pam.X with a copy of the service directory.  That
 * is no part of a login on a host, so the child does it before the clock
 * starts, with the "other" service (pam_deny), and removes its copy at the
 * end.  The parent's copy is never touched.
 */
static void
child_pam_wrapper_setup(void)
{
	struct conv_data cd = {NULL, env.outbox, 0, ""};
	struct pam_conv conv = {conversation, &cd};
	pam_handle_t *pamh = NULL;

	if (pam_start("other", env.user, &conv, &pamh) != PAM_SUCCESS)
		die("pam_start(other) failed");
	pam_end(pamh, PAM_SUCCESS);
}

/* Remove the child's own copy; never the parent's (nor anything else). */
static void
child_pam_wrapper_cleanup(void)
{
	const char *own = getenv("PAM_WRAPPER_RUNTIME_DIR");

	if (own != NULL && strcmp(own, parent_pw_dir) != 0 &&
	    strncmp(own, "/tmp/pam.", 9) == 0)
		remove_flat_dir(own);
}

/* In a child: load the libraries of host_libs. */
static void
load_host_libs(void)
{
	char list[sizeof(host_libs)], *save = NULL, *name;

	snprintf(list, sizeof(list), "%s", host_libs);
	for (name = strtok_r(list, " ", &save); name != NULL;
	     name = strtok_r(NULL, " ", &save))
		if (dlopen(name, RTLD_NOW | RTLD_LOCAL) == NULL)
			die("%s", dlerror());
	if (libcurl_resident())
		die("BV_BENCH_HOST_LIBS loaded %s", env.libcurl);
}

typedef double (*op_fn)(void);

/* One row of the table. */
struct op {
	struct series s;
	op_fn fn;
	bool fork; /* in a fresh process */
	bool host; /* ... with host_libs loaded first */
	bool curl; /* ... with libcurl loaded and initialised first */
	const struct op *floor;
	long want_conns, want_reqs; /* per iteration; -1: any */
	long conns, reqs;	    /* counted over the timed iterations */
};

/* Run op->fn in a new process forked for it; the time the child measured. */
static double
fresh(const struct op *op)
{
	double us = -1;
	int fds[2], status;
	ssize_t r;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		role = LOGIN_CHILD;
		close(fds[0]);
		child_pam_wrapper_setup();
		if (op->host)
			load_host_libs();
		if (op->curl)
			curl_load();
		us = op->fn();
		child_pam_wrapper_cleanup();
		r = write(fds[1], &us, sizeof(us));
		_exit(r == (ssize_t)sizeof(us) ? 0 : 99);
	}
	close(fds[1]);
	do
		r = read(fds[0], &us, sizeof(us));
	while (r < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    r != (ssize_t)sizeof(us)) {
		/* The child said why on stderr. */
		fflush(stdout);
		exit(99);
	}
	return us;
}

static double
run_op(const struct op *op)
{
	return op->fork ? fresh(op) : op->fn();
}

static int iterations = 200, warmup = 10;

/*
 * Rounds of every operation once, in turn, so that a slow patch of the
 * machine or the mock hits them all alike.  When recording, the time of
 * each and the connections and requests the mock saw meanwhile are kept.
 */
static void
rounds(struct op *ops, size_t nops, int count, bool record)
{
	struct stats before, after;
	double us;
	size_t k;
	int i;

	before = mock_stats();
	for (i = 0; i < count; i++) {
		for (k = 0; k < nops; k++) {
			if (!ops[k].fn)
				continue;
			us = run_op(&ops[k]);
			after = mock_stats();
			if (record) {
				ops[k].s.us[ops[k].s.n++] = us;
				ops[k].conns +=
				    after.connections - before.connections;
				ops[k].reqs += after.requests - before.requests;
			}
			before = after;
		}
		if (!record && i == 0)
			fprintf(stderr, "bench_auth: warm-up...\n");
		if (record && (i + 1) % 50 == 0)
			fprintf(stderr, "bench_auth: %d of %d rounds\n", i + 1,
				count);
	}
	for (k = 0; record && k < nops; k++)
		if (ops[k].fn)
			series_finish(&ops[k].s);
}

/* Remove the values that differ by nature: the token and connection ids. */
static void
normalize(char *s)
{
	static const char *const keys[] = {"\"token\":\"", "\"connection\":"};
	char *p, *q;
	size_t k;

	for (k = 0; k < 2; k++) {
		for (p = strstr(s, keys[k]); p != NULL;
		     p = strstr(p, keys[k])) {
			p += strlen(keys[k]);
			q = p;
			if (k == 0)
				while (*q != '\0' && *q != '"')
					q++;
			else
				while (*q >= '0' && *q <= '9')
					q++;
			memmove(p, q, strlen(q) + 1);
		}
	}
}

/* The requests of one module login and of one bare-client iteration. */
static bool
same_requests(const struct op *module_op, const struct op *bare_op)
{
	char *module, *bare;
	bool same;

	mock_reset();
	run_op(module_op);
	module = mock_call("GET", "/_mock/requests", NULL);
	mock_reset();
	run_op(bare_op);
	bare = mock_call("GET", "/_mock/requests", NULL);
	mock_reset();
	normalize(module);
	normalize(bare);
	same = strcmp(module, bare) == 0;
	if (!same)
		fprintf(stderr,
			"module requests:\n%.3000s\nbare client "
			"requests:\n%.3000s\n",
			module, bare);
	free(module);
	free(bare);
	return same;
}

/* ---------------------------------------------------------------------- */
/* Output.                                                                 */

static void
row(const struct op *op)
{
	const struct series *s = &op->s, *f = op->floor ? &op->floor->s : NULL;

	if (!s->done)
		return;
	printf("%-2s %-44s %10.0f %10.0f %10.0f", s->tag, s->label, s->mean,
	       s->median, s->p90);
	if (f != NULL && f->done)
		printf("  %-5s %8.2f %8.2f", f->tag, s->median / f->median,
		       s->mean / f->mean);
	putchar('\n');
}

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %-4s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failed_checks++;
}

/* Did every timed iteration of op make the connections it should? */
static bool
counts_ok(const struct op *op)
{
	return !op->s.done ||
	       ((op->want_conns < 0 || op->conns == op->want_conns * op->s.n) &&
		(op->want_reqs < 0 || op->reqs == op->want_reqs * op->s.n));
}

/* "1.00/3.00" connections/requests per iteration, or "-" for a row not run. */
static const char *
per(const struct op *op, char *buf, size_t size)
{
	if (!op->s.done)
		return "-";
	snprintf(buf, size, "%.2f/%.2f", (double)op->conns / op->s.n,
		 (double)op->reqs / op->s.n);
	return buf;
}

static const char *
fmt_us(double us, char *buf, size_t size)
{
	snprintf(buf, size, "%.0f", us);
	return buf;
}

/* The names of host_libs, wrapped under an indent. */
static void
print_wrapped(const char *indent, const char *text)
{
	char list[sizeof(host_libs)], *save = NULL, *name;
	size_t col = 0;

	snprintf(list, sizeof(list), "%s", text);
	for (name = strtok_r(list, " ", &save); name != NULL;
	     name = strtok_r(NULL, " ", &save)) {
		if (col == 0 || col + strlen(name) + 1 > 72) {
			printf("%s%s", col ? "\n" : "", indent);
			col = strlen(indent);
		} else {
			putchar(' ');
			col++;
		}
		fputs(name, stdout);
		col += strlen(name);
	}
	putchar('\n');
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_auth [-n ITERATIONS] [-w WARMUP]\n");
	exit(2);
}

static int
number(const char *s, int min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > 1000000)
		usage();
	return (int)v;
}

/* The sonames of BV_BENCH_HOST_LIBS that are not loaded here already. */
static void
pick_host_libs(const char *names)
{
	char list[1024], *save = NULL, *name;
	size_t used;
	void *h;

	snprintf(list, sizeof(list), "%s", names ? names : "");
	for (name = strtok_r(list, " \t\n", &save); name != NULL;
	     name = strtok_r(NULL, " \t\n", &save)) {
		h = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
		if (h != NULL) { /* libpam's own, libcrypt */
			dlclose(h);
			continue;
		}
		used = strlen(host_libs);
		snprintf(host_libs + used, sizeof(host_libs) - used, "%s%s",
			 used ? " " : "", name);
	}
}

enum { A, S, S1, S2, B, F, F1, F2, C, L, NOPS };

int
main(int argc, char **argv)
{
	struct op ops[NOPS];
	long rss_start, rss0, rss_half, rss1;
	char b1[32], b2[32], b3[32];
	const char *dir;
	double t_start = now_us();
	bool host, same;
	int opt, i;

	while ((opt = getopt(argc, argv, "n:w:")) != -1) {
		switch (opt) {
		case 'n':
			iterations = number(optarg, 1);
			break;
		case 'w':
			warmup = number(optarg, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	env.mock_url = need_env("BV_BENCH_MOCK_URL");
	env.ca = need_env("BV_BENCH_CA");
	env.api_key = need_env("BV_BENCH_API_KEY");
	env.project_id = need_env("BV_BENCH_PROJECT_ID");
	env.phone = need_env("BV_BENCH_PHONE");
	env.code = need_env("BV_BENCH_CODE");
	env.user = need_env("BV_BENCH_USER");
	env.skip_user = need_env("BV_BENCH_SKIP_USER");
	env.outbox = need_env("BV_BENCH_OUTBOX");
	env.libcurl = getenv("BV_BENCH_LIBCURL");
	if (env.libcurl == NULL || *env.libcurl == '\0')
		env.libcurl = "libcurl.so.4";
	setvbuf(stdout, NULL, _IOLBF, 0);
	rss_start = rss_kib();
	if (getenv("PAM_WRAPPER_SERVICE_DIR") == NULL)
		die("not running under pam_wrapper (run bench/run-bench.sh)");
	if (libcurl_resident())
		die("%s is already loaded: the cold rows would not be cold",
		    env.libcurl);
	pick_host_libs(getenv("BV_BENCH_HOST_LIBS"));
	host = host_libs[0] != '\0';

	memset(ops, 0, sizeof(ops));
#define OP(i, t, l, f, fk, h, c, fl, wc, wr)                                   \
	do {                                                                   \
		series_init(&ops[i].s, t, l, iterations);                      \
		ops[i].fn = f;                                                 \
		ops[i].fork = fk;                                              \
		ops[i].host = h;                                               \
		ops[i].curl = c;                                               \
		ops[i].floor = fl;                                             \
		ops[i].want_conns = wc;                                        \
		ops[i].want_reqs = wr;                                         \
	} while (0)
	OP(A, "A", "floor A: pam_permit stack", login_permit, true, false,
	   false, NULL, 0, 0);
	OP(S, "S", "module: load + skip, cold", login_skip, true, false, false,
	   &ops[A], 0, 0);
	OP(S1, "S'", "module: load + skip, sshd's libs", login_skip, true, true,
	   false, &ops[A], 0, 0);
	OP(S2, "S\"", "module: load + skip, libcurl resident", login_skip, true,
	   false, true, &ops[A], 0, 0);
	OP(B, "B", "floor B: bare libcurl, same 3 requests", bare_login, true,
	   false, true, NULL, 1, 3);
	OP(F, "F", "module: BaxVerify login, cold", login_bax, true, false,
	   false, &ops[B], 1, 3);
	OP(F1, "F'", "module: BaxVerify login, sshd's libs", login_bax, true,
	   true, false, &ops[B], 1, 3);
	OP(F2, "F\"", "module: BaxVerify login, libcurl resident", login_bax,
	   true, false, true, &ops[B], 1, 3);
	OP(C, "C", "floor C: crypt_r x3 (a local login's)", hash_three, false,
	   false, false, NULL, -1, -1);
	OP(L, "L", "module: local provider login, cold", login_local, true,
	   false, false, &ops[C], 0, 0);
#undef OP
	if (!host)
		ops[S1].fn = ops[F1].fn = NULL;

	/*
	 * pam_wrapper copies the service directory at the first pam_start of
	 * a process: here once; the children make (and remove) their own.
	 */
	login_permit();
	dir = getenv("PAM_WRAPPER_RUNTIME_DIR");
	snprintf(parent_pw_dir, sizeof(parent_pw_dir), "%s", dir ? dir : "");

	agent_start();
	mock_reset();
	same = same_requests(&ops[F2], &ops[B]);
	rounds(ops, NOPS, warmup, false);
	rounds(ops, NOPS, iterations, true);

	/* Memory: logins in this one process, libcurl loaded. */
	fprintf(stderr,
		"bench_auth: %d BaxVerify logins and %d skipped users "
		"in one process...\n",
		iterations, iterations);
	curl_load();
	for (i = 0; i < warmup; i++) {
		login_bax();
		login_skip();
	}
	rss0 = rss_half = rss_kib();
	for (i = 0; i < iterations; i++) {
		if (i == iterations / 2)
			rss_half = rss_kib();
		login_bax();
		login_skip();
	}
	rss1 = rss_kib();
	agent_stop();

	/* The figures. */
	printf("pam_baxverify %s: %d iterations per operation after %d "
	       "warm-up, interleaved, in one run.\n",
	       PACKAGE_VERSION, iterations, warmup);
	printf("Each login: pam_start + pam_authenticate + pam_end in a fresh "
	       "process, as with sudo and sshd\n(timed in a forked child after "
	       "pam_wrapper's set-up). What the child has loaded first:\n"
	       "  cold:             of the module's libraries only libpam and "
	       "libcrypt (as sudo)\n"
	       "  libcurl resident: libcurl, initialised: what is left "
	       "without loading libraries\n"
	       "  sshd's libs:      the module's libraries sshd links:\n");
	print_wrapped("                    ", host ? host_libs : "(not run)");
	putchar('\n');
	printf("   %-44s %10s %10s %10s  %-5s %8s %8s\n", "operation",
	       "mean us", "median us", "p90 us", "floor", "x median", "x mean");
	for (i = 0; i < NOPS; i++)
		row(&ops[i]);

	printf("\n%-47s %10s %12s %10s\n", "median difference, us", "cold",
	       "sshd's libs", "libcurl");
	printf("%-47s %10.0f %12s %10.0f\n",
	       "the module on a skipped user (S - A)",
	       ops[S].s.median - ops[A].s.median,
	       host ? fmt_us(ops[S1].s.median - ops[A].s.median, b1, sizeof(b1))
		    : "-",
	       ops[S2].s.median - ops[A].s.median);
	printf("%-47s %10.0f %12s %10.0f\n",
	       "a BaxVerify login over the bare client (F - B)",
	       ops[F].s.median - ops[B].s.median,
	       host ? fmt_us(ops[F1].s.median - ops[B].s.median, b1, sizeof(b1))
		    : "-",
	       ops[F2].s.median - ops[B].s.median);
	printf("A local login: hashing (C) is %.0f%% of it (median); the rest "
	       "is %.0f us.\n",
	       100.0 * ops[C].s.median / ops[L].s.median,
	       ops[L].s.median - ops[C].s.median);

	printf("\nChecks (TCP connections/API requests per operation, from "
	       "GET /_mock/stats around each):\n");
	check(counts_ok(&ops[F]) && counts_ok(&ops[F1]) && counts_ok(&ops[F2]),
	      "BaxVerify login: %s cold, %s sshd's libs, %s libcurl resident "
	      "(want 1/3)",
	      per(&ops[F], b1, sizeof(b1)), per(&ops[F1], b2, sizeof(b2)),
	      per(&ops[F2], b3, sizeof(b3)));
	check(counts_ok(&ops[S]) && counts_ok(&ops[S1]) && counts_ok(&ops[S2]),
	      "skipped user: %s cold, %s sshd's libs, %s libcurl resident "
	      "(want 0/0)",
	      per(&ops[S], b1, sizeof(b1)), per(&ops[S1], b2, sizeof(b2)),
	      per(&ops[S2], b3, sizeof(b3)));
	check(counts_ok(&ops[L]) && counts_ok(&ops[A]),
	      "local provider login: %s; pam_permit: %s (want 0/0)",
	      per(&ops[L], b1, sizeof(b1)), per(&ops[A], b2, sizeof(b2)));
	check(counts_ok(&ops[B]), "bare client: %s (want 1/3)",
	      per(&ops[B], b1, sizeof(b1)));
	check(same, "the bare client's requests equal the module's (method, "
		    "path, headers, bodies;\n       token and connection ids "
		    "aside)");

	printf("\nResident set of this process over %d BaxVerify logins and "
	       "%d skipped users in it (libcurl\nloaded): %+ld KiB (%+.0f "
	       "bytes per pair), %+ld KiB of it over the second half; %ld KiB "
	       "at\nstart, %ld KiB at the end (libcurl loaded in it "
	       "included).\n",
	       iterations, iterations, rss1 - rss0,
	       1024.0 * (double)(rss1 - rss0) / iterations, rss1 - rss_half,
	       rss_start, rss1);
	printf("Run time %.1f s.\n", (now_us() - t_start) / 1e6);
	return failed_checks ? 1 : 0;
}
