/*
 * bench_load.c - pam_baxverify with a dead service, and under load
 * (issue 11).
 *
 * A program that prints figures, not a test: bench/run-bench.sh runs it
 * after bench_auth, with two more mocks (one healthy, one whose BaxVerify
 * send hangs), a listener that never completes a connect, and a
 * configuration, a store and a PAM service per row.  Each row prints its
 * floor, measured in the same run, the ratio to it, check lines ("ok" or
 * "FAIL") for what must hold, and goal lines ("met" or "MISSED") for
 * timings that depend on the machine:
 *
 *   1  Dead service, no failover: the only provider accepts, reads the
 *      request and never answers; http.timeout = connect_timeout = T.
 *      DEAD_LOGINS logins, each in a fresh process: every one denied
 *      (PAM_AUTHINFO_UNAVAIL: failmode "secure") within T + 0.5 s, with
 *      at most one connection per login (no retry); one more under
 *      failmode=safe admitted (PAM_SUCCESS) within the same bound.
 *      Floor T: a bare libcurl request to the same hanging endpoint with
 *      the same timeouts.
 *   2  Failover past a dead first provider: provider = ["baxverify",
 *      "tryvox"], BaxVerify's api_url a listener whose accept queue is
 *      full, so that a connect never completes (http.connect_timeout =
 *      C, the bound; http.timeout longer), Tryvox the healthy mock.
 *      Floor H: a Tryvox login alone (NEXT_LOGINS, each just before one
 *      of the next logins); floor D: a bare libcurl connect to the
 *      listener with the same timeouts.  The first login on a fresh store
 *      succeeds, within connect_timeout + a healthy login (D + the
 *      slowest H: a goal); the
 *      NEXT_LOGINS after it with a median within 1.2 H (a goal, printed),
 *      and none of them a SYN to the dead primary (a check): the module
 *      remembers a provider's outage (health_retry) and goes straight to
 *      the next one.  The SYNs the listener dropped are counted.
 *   3  Concurrency: CONC_LOGINS logins of one user from CONC_PROCS
 *      processes (CONC_EACH each, started together, each login its own
 *      pam_start/pam_authenticate/pam_end) against the files store, each
 *      answering one wrong code (max_tries = 1, limits.deny = 1000:
 *      every failure counted, the lockout only with the last).  p50, p99
 *      and the wall time; floor: the same login alone.  Exact counters
 *      prove no update was lost: the user's record then says failures
 *      CONC_LOGINS, and the mock sent CONC_LOGINS codes.
 *
 * Rows 1 and 2 time each login in a child forked for it, around
 * pam_start ... pam_end, as bench_auth does.  Not under pam_wrapper:
 * Linux-PAM's pam_start_confdir (1.4 and later) reads the service files
 * of BV_LOAD_PAM_DIR.  pam_wrapper gives every process a copy of them in
 * one of 62 names /tmp/pam.X, and 50 workers holding theirs lost some to
 * other pam_wrapper processes of the machine (a name taken twice, removed
 * by the first to leave: PAM_ABORT for the rest of that worker's logins).
 * libcurl is linked for the mocks' control API and the bare floors only:
 * the module maps none of it (the helper, exec'd per login, does the
 * network), so it changes no figure.
 *
 *   bench_load
 *
 * Environment (run-bench.sh sets it): BV_LOAD_MOCK_URL (the healthy
 * mock), BV_LOAD_DEAD_URL (the hanging one), BV_LOAD_HOLE_URL (an https
 * URL on the listener of row 2), BV_LOAD_CA, BV_LOAD_USER (in the phones
 * file), BV_LOAD_CODE (the mocks' force_code), BV_LOAD_TIMEOUT (T),
 * BV_LOAD_CONNECT_TIMEOUT (C), BV_LOAD_FAILOVER_TIMEOUT (row 2's
 * http.timeout), in seconds, BV_LOAD_CONC_STORE (row 3's store
 * directory) and BV_LOAD_PAM_DIR (the service files: load_dead,
 * load_dead_safe, load_secondary, load_failover, load_conc,
 * load_conc_floor, other).
 *
 * Exit status: 0 when every check held, 1 when one failed, 2 for a usage
 * error, 99 when the set-up or a login process failed.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
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

#include "bench_util.h"

#define SVC_DEAD "load_dead"
#define SVC_DEAD_SAFE "load_dead_safe"
#define SVC_SECONDARY "load_secondary"
#define SVC_FAILOVER "load_failover"
#define SVC_CONC "load_conc"
#define SVC_CONC_FLOOR "load_conc_floor"

#define DEAD_LOGINS 10
#define FLOOR_LOGINS 10
#define NEXT_LOGINS 10
#define CONC_PROCS 50
#define CONC_EACH 20
#define CONC_LOGINS (CONC_PROCS * CONC_EACH)

/* Slack over http.timeout for a dead service (row 1's goal). */
#define DEAD_SLACK_US 500000.0
/* Row 2: the logins after the first, against the healthy floor. */
#define NEXT_FACTOR 1.2
/* The mocks' control answers (the outbox of row 3 is the largest). */

enum load_rc { LOAD_OK, LOAD_ERR };

static struct {
	const char *mock_url, *dead_url, *hole_url, *ca, *user, *code;
	const char *conc_store, *pam_dir;
	char wrong[16]; /* a code the mock never sends */
	long timeout_s, connect_timeout_s, failover_timeout_s;
} env;

static int failed_checks;

/* The user's last error line, as kept with a login (cut). */
#define MSG_MAX 60

/* One login: its time, its PAM code and the last error the user saw. */
struct sample {
	double us;
	int pam_rc;
	char msg[MSG_MAX];
};

__attribute__((format(printf, 1, 2))) static enum load_rc
fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bench_load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return LOAD_ERR;
}

/*
 * s after prefix, or NULL.  Through SKIP_PREFIX, which takes the length
 * from sizeof, never a literal (pam_inline.h's pam_str_skip_prefix).
 */
static const char *
skip_prefix_len(const char *s, const char *prefix, size_t len)
{
	return strncmp(s, prefix, len) == 0 ? s + len : NULL;
}

#define SKIP_PREFIX(s, prefix)                                                 \
	skip_prefix_len((s), (prefix), sizeof(prefix) - 1)

/* ---------------------------------------------------------------------- */
/* Statistics.                                                             */

struct summary {
	double min, median, p99, max;
};

/* Of n samples (n > 0, at most CONC_LOGINS); p99 by nearest rank. */
static struct summary
summarize(const struct sample *s, int n)
{
	static double us[CONC_LOGINS];
	struct summary sum;
	int i;

	for (i = 0; i < n; i++)
		us[i] = s[i].us;
	qsort(us, (size_t)n, sizeof(us[0]), cmp_double);
	sum.min = us[0];
	sum.max = us[n - 1];
	sum.median = n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2;
	sum.p99 = us[(99 * n + 99) / 100 - 1];
	return sum;
}

/* How many of n samples ended with PAM code want. */
static int
count_rc(const struct sample *s, int n, int want)
{
	int i, hits = 0;

	for (i = 0; i < n; i++)
		hits += s[i].pam_rc == want;
	return hits;
}

__attribute__((format(printf, 2, 3))) static void
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

/* The logins that did not end with want: each kind of answer (PAM
   code and the user's last error line) once, with how many gave it. */
static void
print_others(const struct sample *s, int n, int want)
{
	int i, j, same, kinds = 0;

	for (i = 0; i < n && kinds < 5; i++) {
		if (s[i].pam_rc == want)
			continue;
		for (j = 0; j < i; j++)
			if (s[j].pam_rc == s[i].pam_rc &&
			    strcmp(s[j].msg, s[i].msg) == 0)
				break;
		if (j < i)
			continue; /* counted with its first */
		for (same = 0, j = i; j < n; j++)
			same += s[j].pam_rc == s[i].pam_rc &&
				strcmp(s[j].msg, s[i].msg) == 0;
		printf("       %d x %s%s%s\n", same,
		       pam_strerror(NULL, s[i].pam_rc), s[i].msg[0] ? ": " : "",
		       s[i].msg);
		kinds++;
	}
}

/* ---------------------------------------------------------------------- */
/* The mocks' control API (libcurl).                                       */

/*
 * GET base+path (json NULL) or POST json to it; the answer's body in *out
 * (malloc'ed, the caller frees it).  LOAD_ERR, *out NULL, unless HTTP 200.
 */
static enum load_rc
control(const char *base, const char *path, const char *json, char **out)
{
	struct curl_slist *hdr = NULL;
	struct body b = {NULL, 0, 0};
	enum load_rc rc = LOAD_ERR;
	char url[1024];
	long status = 0;
	CURLcode cc;
	CURL *e;

	*out = NULL;
	snprintf(url, sizeof(url), "%s%s", base, path);
	e = curl_easy_init();
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (e == NULL || hdr == NULL) {
		fail("%s: out of memory", url);
		goto out;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, env.ca);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	if (json != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	}
	cc = curl_easy_perform(e);
	if (cc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK || status != 200 || b.buf == NULL) {
		fail("%s: %s, HTTP %ld: %.200s", url, curl_easy_strerror(cc),
		     status, b.buf ? b.buf : "");
		goto out;
	}
	*out = b.buf;
	b.buf = NULL;
	rc = LOAD_OK;
out:
	free(b.buf);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(e);
	return rc;
}

/* A control call whose answer is not needed. */
static enum load_rc
control_post(const char *base, const char *path, const char *json)
{
	char *body = NULL;
	enum load_rc rc = control(base, path, json, &body);

	free(body);
	return rc;
}

struct stats {
	long connections, requests;
};

/* GET /_mock/stats: the connections that carried API requests, and
   those requests, since the mock's last reset. */
static enum load_rc
mock_stats(const char *base, struct stats *st)
{
	char *body = NULL;
	enum load_rc rc = control(base, "/_mock/stats", NULL, &body);

	if (rc != LOAD_OK)
		goto out;
	st->connections = json_number(body, "connections");
	st->requests = json_number(body, "requests");
	if (st->connections < 0 || st->requests < 0)
		rc = fail("%s/_mock/stats: unexpected answer", base);
out:
	free(body);
	return rc;
}

/* The messages in the mock's outbox: the codes it sent. */
static enum load_rc
mock_sends(const char *base, long *n)
{
	static const char key[] = "\"channel\":";
	char *body = NULL, *p;
	enum load_rc rc = control(base, "/_mock/outbox", NULL, &body);

	*n = 0;
	p = body != NULL ? strstr(body, key) : NULL;
	while (p != NULL) {
		(*n)++;
		p = strstr(p + sizeof(key) - 1, key);
	}
	free(body);
	return rc;
}

/* Back to the command line's settings, every code the bench code. */
static enum load_rc
mock_reset(const char *base)
{
	char json[128];
	enum load_rc rc = control_post(base, "/_mock/reset", "{}");

	snprintf(json, sizeof(json), "{\"force_code\":\"%s\"}", env.code);
	if (rc == LOAD_OK)
		rc = control_post(base, "/_mock/config", json);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* PAM.                                                                    */

struct conv_data {
	const char *code;
	char last_error[MSG_MAX];
};

/* Answers the code prompt with cd->code; keeps the last error line. */
static int
conversation(int n, const struct pam_message **msg, struct pam_response **resp,
	     void *appdata)
{
	struct conv_data *cd = appdata;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i, rc = PAM_BUF_ERR;

	if (r == NULL)
		goto out;
	rc = PAM_SUCCESS;
	for (i = 0; i < n && rc == PAM_SUCCESS; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			r[i].resp = strdup(cd->code);
			rc = r[i].resp ? PAM_SUCCESS : PAM_BUF_ERR;
			break;
		case PAM_ERROR_MSG:
			snprintf(cd->last_error, sizeof(cd->last_error), "%s",
				 msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			break;
		default: /* a channel menu: every row offers one channel */
			rc = PAM_CONV_ERR;
		}
	}
	if (rc == PAM_SUCCESS) {
		*resp = r;
		r = NULL;
	}
out:
	for (i = 0; r != NULL && i < n; i++)
		free(r[i].resp);
	free(r);
	return rc;
}

/* One pam_start/pam_authenticate/pam_end of env.user, timed. */
static void
login(const char *service, const char *code, struct sample *s)
{
	struct conv_data cd = {code, ""};
	struct pam_conv conv = {conversation, &cd};
	pam_handle_t *pamh = NULL;
	double t0 = now_us();
	int rc;

	rc = pam_start_confdir(service, env.user, &conv, env.pam_dir, &pamh);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, 0);
	if (pamh != NULL)
		pam_end(pamh, rc);
	s->us = now_us() - t0;
	s->pam_rc = rc;
	snprintf(s->msg, sizeof(s->msg), "%s", cd.last_error);
}

/* ---------------------------------------------------------------------- */
/* Fresh processes.                                                        */

/* Close *fd if open; -1 marks it closed. */
static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* read(2) until n bytes, end of file or an error; the bytes read. */
static size_t
read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Wait for pid; true when it exited with status 0. */
static bool
reap(pid_t pid)
{
	int status = 0;
	pid_t w;

	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	return w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* In the child of fresh_login: one login, its sample down fd.  _exit:
   the parent's stdio buffers and atexit work are the parent's. */
static void
login_child(int fd, const char *service, const char *code)
{
	struct sample s;
	ssize_t w;

	login(service, code, &s);
	w = write(fd, &s, sizeof(s));
	_exit(w == (ssize_t)sizeof(s) ? 0 : 99);
}

/* One login in a process forked for it, as with sudo and sshd. */
static enum load_rc
fresh_login(const char *service, const char *code, struct sample *s)
{
	enum load_rc rc = LOAD_OK;
	int fds[2] = {-1, -1};
	size_t got;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0) {
		rc = fail("pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = fail("fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		login_child(fds[1], service, code);
	}
	close_fd(&fds[1]);
	got = read_full(fds[0], s, sizeof(*s));
	/* Reaped whatever it said: a child is never left behind. */
	if (!reap(pid) || got != sizeof(*s))
		rc = fail("the login process for %s failed", service);
out:
	close_fd(&fds[0]);
	close_fd(&fds[1]);
	return rc;
}

/* n fresh logins in turn. */
static enum load_rc
fresh_logins(const char *service, const char *code, struct sample *s, int n)
{
	enum load_rc rc = LOAD_OK;
	int i;

	for (i = 0; i < n && rc == LOAD_OK; i++)
		rc = fresh_login(service, code, &s[i]);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Row 1: a dead service, no failover.                                     */

/*
 * A floor of rows 1 and 2: one bare libcurl request to a dead endpoint
 * with the module's timeouts -- what waiting for it costs any client,
 * libcurl's own timer included.  It must time out.
 */
static enum load_rc
bare_timeout(const char *url, long connect_timeout_s, long timeout_s,
	     struct sample *s)
{
	struct curl_slist *hdr = NULL;
	enum load_rc rc = LOAD_ERR;
	double t0;
	CURLcode cc;
	CURL *e;

	e = curl_easy_init();
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (e == NULL || hdr == NULL) {
		fail("bare client: out of memory");
		goto out;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, env.ca);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, connect_timeout_s);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, "{}");
	t0 = now_us();
	cc = curl_easy_perform(e);
	s->us = now_us() - t0;
	s->pam_rc = PAM_SUCCESS;
	s->msg[0] = '\0';
	if (cc != CURLE_OPERATION_TIMEDOUT) {
		fail("bare client: %s: %s, not a timeout", url,
		     curl_easy_strerror(cc));
		goto out;
	}
	rc = LOAD_OK;
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(e);
	return rc;
}

static void
print_dead(const struct sample *floor, const struct summary *dead,
	   const struct stats *st, const struct sample *safe)
{
	printf("\n1. Dead service, no failover: the only provider accepts, "
	       "reads the request, never\n   answers; http.timeout = "
	       "http.connect_timeout = %ld s.\n",
	       env.timeout_s);
	printf("   %-44s %9s %9s %9s  %s\n", "", "min ms", "median ms",
	       "max ms", "x floor T (median, max)");
	printf("   %-44s %9s %9.0f\n",
	       "floor T: bare libcurl, same request and timeout", "",
	       floor->us / 1e3);
	printf("   %-44s %9.0f %9.0f %9.0f  %.3f %.3f\n",
	       "module: login, fresh process (x10)", dead->min / 1e3,
	       dead->median / 1e3, dead->max / 1e3, dead->median / floor->us,
	       dead->max / floor->us);
	printf("   %-44s %9s %9.0f\n", "module: one login, failmode=safe", "",
	       safe->us / 1e3);
	printf("   The hanging mock saw %ld connection(s) and %ld request(s) "
	       "for the %d logins.\n",
	       st->connections, st->requests, DEAD_LOGINS);
}

static enum load_rc
row_dead(void)
{
	struct sample bare, dead[DEAD_LOGINS], safe;
	double bound = (double)env.timeout_s * 1e6 + DEAD_SLACK_US;
	struct summary ds;
	struct stats before, after;
	char url[1024];
	enum load_rc rc;
	int denied;

	fprintf(stderr, "bench_load: 1. dead service (about %ld s)...\n",
		(DEAD_LOGINS + 2) * env.timeout_s);
	rc = control_post(env.dead_url, "/_mock/fault",
			  "{\"endpoint\":\"send\",\"kind\":\"hang\","
			  "\"seconds\":60}");
	snprintf(url, sizeof(url), "%s/v1/auth/sms/send", env.dead_url);
	/* Before the counting: the mock sees this request too. */
	if (rc == LOAD_OK)
		rc = bare_timeout(url, env.timeout_s, env.timeout_s, &bare);
	if (rc == LOAD_OK)
		rc = mock_stats(env.dead_url, &before);
	if (rc == LOAD_OK)
		rc = fresh_logins(SVC_DEAD, env.code, dead, DEAD_LOGINS);
	if (rc == LOAD_OK)
		rc = mock_stats(env.dead_url, &after);
	if (rc == LOAD_OK)
		rc = fresh_login(SVC_DEAD_SAFE, env.code, &safe);
	if (rc != LOAD_OK)
		goto out;
	after.connections -= before.connections;
	after.requests -= before.requests;
	ds = summarize(dead, DEAD_LOGINS);
	print_dead(&bare, &ds, &after, &safe);
	denied = count_rc(dead, DEAD_LOGINS, PAM_AUTHINFO_UNAVAIL);
	check(denied == DEAD_LOGINS && ds.max <= bound,
	      "dead service: %d of %d denied with PAM_AUTHINFO_UNAVAIL, "
	      "max %.3f s (want <= %.1f s:\n       http.timeout + 0.5 s)",
	      denied, DEAD_LOGINS, ds.max / 1e6, bound / 1e6);
	print_others(dead, DEAD_LOGINS, PAM_AUTHINFO_UNAVAIL);
	check(after.connections <= DEAD_LOGINS && after.requests <= DEAD_LOGINS,
	      "no retry: %ld connection(s), %ld request(s) for %d logins "
	      "(want at most one each)",
	      after.connections, after.requests, DEAD_LOGINS);
	check(safe.pam_rc == PAM_SUCCESS && safe.us <= bound,
	      "failmode=safe: %s in %.3f s (want PAM_SUCCESS, <= %.1f s)",
	      pam_strerror(NULL, safe.pam_rc), safe.us / 1e6, bound / 1e6);
	print_others(&safe, 1, PAM_SUCCESS);
out:
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Row 2: failover past a dead first provider.                             */

/*
 * The SYNs the kernel dropped because a listener's accept queue was full
 * (TcpExt ListenOverflows of /proc/net/netstat, one count for the whole
 * network namespace).  Nothing else here keeps a listener full, so the
 * change over a login is the connects it made to the dead primary: each
 * its SYN and the retransmissions until connect_timeout.  -1 when the
 * counter cannot be read.
 */
static long
listen_overflows(void)
{
	char *names = NULL, *values = NULL, *np, *vp, *ns = NULL, *vs = NULL;
	size_t ncap = 0, vcap = 0;
	long found = -1;
	FILE *f = fopen("/proc/net/netstat", "r");

	if (f == NULL)
		goto out;
	/* Pairs of lines: "TcpExt: NAME..." then "TcpExt: VALUE...". */
	while (found < 0 && getline(&names, &ncap, f) > 0 &&
	       getline(&values, &vcap, f) > 0) {
		if (SKIP_PREFIX(names, "TcpExt:") == NULL)
			continue;
		np = strtok_r(names, " \n", &ns);
		vp = strtok_r(values, " \n", &vs);
		while (np != NULL && vp != NULL &&
		       strcmp(np, "ListenOverflows") != 0) {
			np = strtok_r(NULL, " \n", &ns);
			vp = strtok_r(NULL, " \n", &vs);
		}
		if (np != NULL && vp != NULL)
			found = strtol(vp, NULL, 10);
	}
	fclose(f);
out:
	free(names);
	free(values);
	return found;
}

/* "N" or "-" (the counter could not be read), in buf. */
static const char *
syns(long before, long after, char *buf, size_t size)
{
	if (before < 0 || after < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%ld", after - before);
	return buf;
}

/* Row 2's figures: the floors H and D, the first login, the next ten. */
struct failover {
	struct summary h, next;
	struct sample d, first;
	long ov[3]; /* ListenOverflows before, after the first, at the end */
};

static void
print_failover(const struct failover *f)
{
	char b1[32], b2[32];

	printf("\n2. Failover: provider = [\"baxverify\", \"tryvox\"]; "
	       "BaxVerify's address a listener whose\n   accept queue is full "
	       "(a connect never completes), Tryvox the healthy mock;\n   "
	       "http.connect_timeout = %ld s (the bound of the dead "
	       "primary), http.timeout = %ld s.\n",
	       env.connect_timeout_s, env.failover_timeout_s);
	printf("   %-44s %9s %9s %9s  %s\n", "", "min ms", "median ms",
	       "max ms", "x floor H (median, max)");
	printf("   %-44s %9.0f %9.0f %9.0f\n",
	       "floor H: a Tryvox login alone (x10, between)", f->h.min / 1e3,
	       f->h.median / 1e3, f->h.max / 1e3);
	printf("   %-44s %9s %9.0f\n",
	       "floor D: bare libcurl connect, same timeout", "",
	       f->d.us / 1e3);
	printf("   %-44s %9s %9.0f %9s  %.2f\n",
	       "module: first login, fresh store", "", f->first.us / 1e3, "",
	       f->first.us / f->h.median);
	printf("   %-44s %9.0f %9.0f %9.0f  %.2f %.2f\n",
	       "module: the next ten logins", f->next.min / 1e3,
	       f->next.median / 1e3, f->next.max / 1e3,
	       f->next.median / f->h.median, f->next.max / f->h.median);
	printf("   The first login less D: %.0f ms (H: median %.0f, max %.0f)."
	       "\n   SYNs the dead primary dropped (TcpExtListenOverflows): %s "
	       "at the first login,\n   %s over the next ten.\n",
	       (f->first.us - f->d.us) / 1e3, f->h.median / 1e3, f->h.max / 1e3,
	       syns(f->ov[0], f->ov[1], b1, sizeof(b1)),
	       syns(f->ov[1], f->ov[2], b2, sizeof(b2)));
}

/*
 * The first login's goal is connect_timeout + a healthy login.  Both
 * terms are taken as measured: libcurl's dead connect (D, which overshoots
 * connect_timeout by its timer's few ms, a cost no client of libcurl
 * avoids) and the slowest healthy login of the floor (one sample against
 * another: the median alone would fail a login as fast as the floor's
 * noise).
 */
static void
check_failover(const struct failover *f, const struct sample *floor,
	       const struct sample *next)
{
	double first_bound = f->d.us + f->h.max;
	double next_bound = NEXT_FACTOR * f->h.median;
	char b[32];
	int ok;

	ok = count_rc(floor, NEXT_LOGINS, PAM_SUCCESS);
	check(ok == NEXT_LOGINS, "floor: %d of %d Tryvox logins succeeded", ok,
	      NEXT_LOGINS);
	print_others(floor, NEXT_LOGINS, PAM_SUCCESS);
	check(f->first.pam_rc == PAM_SUCCESS,
	      "first login: %s through the secondary (want PAM_SUCCESS)",
	      pam_strerror(NULL, f->first.pam_rc));
	printf("  goal first login: %.3f s (want <= D + max H = %.3f s: "
	       "connect_timeout + a healthy\n       login): %s\n",
	       f->first.us / 1e6, first_bound / 1e6,
	       f->first.us <= first_bound ? "met" : "MISSED");
	print_others(&f->first, 1, PAM_SUCCESS);
	/* What health memory does, counted: no connection to the dead
	   primary after its outage.  What it is worth, timed, is a goal. */
	ok = count_rc(next, NEXT_LOGINS, PAM_SUCCESS);
	check(ok == NEXT_LOGINS &&
		  (f->ov[1] < 0 || f->ov[2] < 0 || f->ov[2] == f->ov[1]),
	      "next ten: %d of %d succeeded, %s SYN(s) to the dead primary "
	      "(want 0: health memory\n       skips it after its outage)",
	      ok, NEXT_LOGINS, syns(f->ov[1], f->ov[2], b, sizeof(b)));
	printf("  goal next ten: median %.0f ms = %.2f H (want <= %.1f H = "
	       "%.0f ms): %s; max %.2f H\n",
	       f->next.median / 1e3, f->next.median / f->h.median, NEXT_FACTOR,
	       next_bound / 1e3,
	       f->next.median <= next_bound ? "met" : "MISSED",
	       f->next.max / f->h.median);
	print_others(next, NEXT_LOGINS, PAM_SUCCESS);
}

/*
 * A floor login and one of the next ten in turn, ten times, so that both
 * meet the machine in the same state (bench_auth interleaves its rows so
 * too): the goal compares each of the ten with the floor.
 */
static enum load_rc
floor_and_next(struct sample *floor, struct sample *next)
{
	enum load_rc rc = LOAD_OK;
	int i;

	for (i = 0; i < NEXT_LOGINS && rc == LOAD_OK; i++) {
		rc = fresh_login(SVC_SECONDARY, env.code, &floor[i]);
		if (rc == LOAD_OK)
			rc = fresh_login(SVC_FAILOVER, env.code, &next[i]);
	}
	return rc;
}

static enum load_rc
row_failover(void)
{
	struct sample floor[NEXT_LOGINS], next[NEXT_LOGINS];
	struct failover f;
	enum load_rc rc;

	fprintf(stderr, "bench_load: 2. failover (about %ld s)...\n",
		(2 + NEXT_LOGINS) * env.connect_timeout_s);
	rc = bare_timeout(env.hole_url, env.connect_timeout_s,
			  env.failover_timeout_s, &f.d);
	f.ov[0] = listen_overflows();
	if (rc == LOAD_OK)
		rc = fresh_login(SVC_FAILOVER, env.code, &f.first);
	f.ov[1] = listen_overflows();
	/* The floor's logins go nowhere near the listener. */
	if (rc == LOAD_OK)
		rc = floor_and_next(floor, next);
	f.ov[2] = listen_overflows();
	if (rc != LOAD_OK)
		goto out;
	f.h = summarize(floor, NEXT_LOGINS);
	f.next = summarize(next, NEXT_LOGINS);
	print_failover(&f);
	check_failover(&f, floor, next);
out:
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Row 3: concurrency.                                                     */

/* What one worker sends back: one write, under PIPE_BUF, so that the
   reports of workers ending together never interleave. */
struct report {
	int worker;
	struct sample s[CONC_EACH];
};
_Static_assert(sizeof(struct report) <= PIPE_BUF, "a report in one write");

/*
 * A worker: the start (end of file on go, when the parent closes it),
 * CONC_EACH logins in this process, and the report.
 */
static void
worker(int index, int go, int out)
{
	static struct report rep;
	ssize_t w;
	char c;
	int i;

	rep.worker = index;
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	for (i = 0; i < CONC_EACH; i++)
		login(SVC_CONC, env.wrong, &rep.s[i]);
	w = write(out, &rep, sizeof(rep));
	_exit(w == (ssize_t)sizeof(rep) ? 0 : 99);
}

/* Fork the workers, which wait for go; their pids in pids[], how many
   in *started. */
static enum load_rc
spawn_workers(int go[2], int out[2], pid_t *pids, int *started)
{
	enum load_rc rc = LOAD_OK;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	for (*started = 0; *started < CONC_PROCS; (*started)++) {
		pid = fork();
		if (pid < 0) {
			rc = fail("fork: %s", strerror(errno));
			goto out;
		}
		if (pid == 0) {
			/* go's write end must be the parent's alone, or
			   closing it would start nobody. */
			close(go[1]);
			close(out[0]);
			worker(*started, go[0], out[1]);
		}
		pids[*started] = pid;
	}
out:
	return rc;
}

/* Start the workers together; every login's sample in all[], the time
   from the start to the last worker's exit in *wall_us. */
static enum load_rc
run_workers(struct sample *all, double *wall_us)
{
	int go[2] = {-1, -1}, out[2] = {-1, -1};
	static struct report rep;
	pid_t pids[CONC_PROCS];
	enum load_rc rc = LOAD_ERR;
	int started = 0, reports = 0, i;
	double t0 = now_us();

	if (pipe(go) != 0 || pipe(out) != 0) {
		fail("pipe: %s", strerror(errno));
		goto out;
	}
	rc = spawn_workers(go, out, pids, &started);
	close_fd(&out[1]);
	t0 = now_us();
	close_fd(&go[1]);
	/* Until every worker has exited (the end of out). */
	while (read_full(out[0], &rep, sizeof(rep)) == sizeof(rep) &&
	       rep.worker >= 0 && rep.worker < CONC_PROCS) {
		memcpy(&all[rep.worker * CONC_EACH], rep.s, sizeof(rep.s));
		reports++;
	}
out:
	/* Every worker started is released and reaped, whatever failed. */
	close_fd(&go[1]);
	close_fd(&out[1]);
	for (i = 0; i < started; i++)
		if (!reap(pids[i]) && rc == LOAD_OK)
			rc = fail("worker %d failed", i);
	*wall_us = now_us() - t0;
	if (rc == LOAD_OK && reports != CONC_PROCS)
		rc = fail("%d of %d workers reported", reports, CONC_PROCS);
	close_fd(&go[0]);
	close_fd(&out[0]);
	return rc;
}

/* The user's record in row 3's store: "failures N", "locked_until T". */
static enum load_rc
read_record(long *failures, long *locked_until)
{
	char path[4096], *line = NULL;
	const char *v;
	size_t cap = 0;
	enum load_rc rc = LOAD_OK;
	FILE *f;

	*failures = *locked_until = -1;
	snprintf(path, sizeof(path), "%s/%s", env.conc_store, env.user);
	f = fopen(path, "r");
	if (f == NULL) {
		rc = fail("%s: %s", path, strerror(errno));
		goto out;
	}
	while (getline(&line, &cap, f) > 0) {
		v = SKIP_PREFIX(line, "failures ");
		if (v != NULL)
			*failures = strtol(v, NULL, 10);
		v = SKIP_PREFIX(line, "locked_until ");
		if (v != NULL)
			*locked_until = strtol(v, NULL, 10);
	}
	fclose(f);
out:
	free(line);
	return rc;
}

static void
print_conc(const struct summary *fl, const struct summary *cs, double wall_us)
{
	printf("\n3. Concurrency: %d logins of one user from %d processes "
	       "(%d each, started together),\n   files store, each "
	       "answering one wrong code (max_tries = 1, limits.deny = "
	       "1000).\n",
	       CONC_LOGINS, CONC_PROCS, CONC_EACH);
	printf("   %-44s %9s %9s %9s  %s\n", "", "p50 us", "p99 us", "max us",
	       "x floor (p50, p99)");
	printf("   %-44s %9.0f %9s %9.0f\n",
	       "floor: the same login alone (x10; median)", fl->median, "",
	       fl->max);
	printf("   %-44s %9.0f %9.0f %9.0f  %.1f %.1f\n",
	       "module: per login, 50 at a time", cs->median, cs->p99, cs->max,
	       cs->median / fl->median, cs->p99 / fl->median);
	printf("   Wall time %.2f s: %.0f logins/s.\n", wall_us / 1e6,
	       CONC_LOGINS / (wall_us / 1e6));
}

static enum load_rc
row_conc(void)
{
	static struct sample all[CONC_LOGINS];
	struct sample floor[FLOOR_LOGINS];
	long failures, locked_until, sends = 0;
	struct summary fs, cs;
	struct stats st;
	double wall_us = 0;
	enum load_rc rc;
	int denied;

	fprintf(stderr, "bench_load: 3. %d logins from %d processes...\n",
		CONC_LOGINS, CONC_PROCS);
	rc = fresh_logins(SVC_CONC_FLOOR, env.wrong, floor, FLOOR_LOGINS);
	/* From here on the mock counts row 3's logins only. */
	if (rc == LOAD_OK)
		rc = mock_reset(env.mock_url);
	if (rc == LOAD_OK)
		rc = run_workers(all, &wall_us);
	if (rc == LOAD_OK)
		rc = mock_stats(env.mock_url, &st);
	if (rc == LOAD_OK)
		rc = mock_sends(env.mock_url, &sends);
	if (rc == LOAD_OK)
		rc = read_record(&failures, &locked_until);
	if (rc != LOAD_OK)
		goto out;
	fs = summarize(floor, FLOOR_LOGINS);
	cs = summarize(all, CONC_LOGINS);
	print_conc(&fs, &cs, wall_us);
	denied = count_rc(all, CONC_LOGINS, PAM_MAXTRIES);
	check(denied == CONC_LOGINS,
	      "%d of %d logins denied with PAM_MAXTRIES (one wrong code)",
	      denied, CONC_LOGINS);
	print_others(all, CONC_LOGINS, PAM_MAXTRIES);
	check(failures == CONC_LOGINS,
	      "%s lost updates: the user's record says failures %ld (want "
	      "%d)%s",
	      failures == CONC_LOGINS ? "0" : "SOME", failures, CONC_LOGINS,
	      locked_until > 0 ? "; locked out by the last" : "");
	check(sends == CONC_LOGINS && st.requests == 2L * CONC_LOGINS,
	      "the mock sent %ld codes (want %d) and got %ld requests (want "
	      "%d) in %ld connections",
	      sends, CONC_LOGINS, st.requests, 2 * CONC_LOGINS, st.connections);
out:
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Set-up.                                                                 */

static enum load_rc
need_env(const char *name, const char **out)
{
	enum load_rc rc = LOAD_OK;

	*out = getenv(name);
	if (*out == NULL || **out == '\0')
		rc = fail("%s is not set (run bench/run-bench.sh)", name);
	return rc;
}

/* A whole number of seconds, 1-60, from the environment. */
static enum load_rc
need_seconds(const char *name, long *out)
{
	const char *v = NULL;
	char *end = NULL;
	enum load_rc rc = need_env(name, &v);

	if (rc != LOAD_OK)
		goto out;
	errno = 0;
	*out = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || *out < 1 || *out > 60)
		rc = fail("%s: not a number of seconds: %s", name, v);
out:
	return rc;
}

static enum load_rc
read_env(void)
{
	enum load_rc rc = LOAD_OK;
	size_t n;

	if (need_env("BV_LOAD_MOCK_URL", &env.mock_url) != LOAD_OK ||
	    need_env("BV_LOAD_DEAD_URL", &env.dead_url) != LOAD_OK ||
	    need_env("BV_LOAD_HOLE_URL", &env.hole_url) != LOAD_OK ||
	    need_env("BV_LOAD_CA", &env.ca) != LOAD_OK ||
	    need_env("BV_LOAD_USER", &env.user) != LOAD_OK ||
	    need_env("BV_LOAD_CODE", &env.code) != LOAD_OK ||
	    need_env("BV_LOAD_CONC_STORE", &env.conc_store) != LOAD_OK ||
	    need_env("BV_LOAD_PAM_DIR", &env.pam_dir) != LOAD_OK ||
	    need_seconds("BV_LOAD_TIMEOUT", &env.timeout_s) != LOAD_OK ||
	    need_seconds("BV_LOAD_CONNECT_TIMEOUT", &env.connect_timeout_s) !=
		LOAD_OK ||
	    need_seconds("BV_LOAD_FAILOVER_TIMEOUT", &env.failover_timeout_s) !=
		LOAD_OK) {
		rc = LOAD_ERR;
		goto out;
	}
	n = strlen(env.code);
	if (n < 4 || n >= sizeof(env.wrong) ||
	    strspn(env.code, "0123456789") != n) {
		rc = fail("BV_LOAD_CODE: not a code: %s", env.code);
		goto out;
	}
	/* The same length, another first digit: a code, never the one. */
	memcpy(env.wrong, env.code, n + 1);
	env.wrong[0] = (char)('0' + (env.code[0] - '0' + 1) % 10);
out:
	return rc;
}

int
main(int argc, char **argv)
{
	double t_start = now_us();
	enum load_rc rc;
	int status = 2;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: bench_load (run by bench/run-bench.sh)"
				"\n");
		goto out;
	}
	status = 99;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = read_env();
	if (rc == LOAD_OK && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		rc = fail("curl_global_init failed");
	if (rc != LOAD_OK)
		goto out;
	rc = mock_reset(env.mock_url);
	printf("\npam_baxverify %s: a dead service, failover and concurrency "
	       "(bench_load). Each login is\npam_start + pam_authenticate + "
	       "pam_end, timed in a fresh process (rows 1 and 2).\n",
	       PACKAGE_VERSION);
	if (rc == LOAD_OK)
		rc = row_dead();
	if (rc == LOAD_OK)
		rc = row_failover();
	if (rc == LOAD_OK)
		rc = row_conc();
	curl_global_cleanup();
	if (rc != LOAD_OK)
		goto out;
	printf("Run time %.1f s.\n", (now_us() - t_start) / 1e6);
	status = failed_checks ? 1 : 0;
out:
	return status;
}
