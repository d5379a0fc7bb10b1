/*
 * test_faults.c - the fault matrix and the environment-hygiene checks of
 * pam_baxverify, through the real libpam under pam_wrapper.
 *
 * Run by run-faults.sh, which starts the loopback mock (BV_MOCK_URL) and
 * five more instances of it: one serving a certificate for another host
 * (BV_WRONGHOST_PORT), an expired one (BV_EXPIRED_PORT), a self-signed one
 * that the test CA did not sign (BV_SELFSIGNED_PORT, certificate in
 * BV_SELFSIGNED_PEM, hashed into the directory BV_ENV_CA_DIR), one
 * speaking plain HTTP (BV_PLAIN_PORT), and the provider-health rows'
 * primary (BV_PRIMARY_URL).
 *
 * The fault matrix: for each provider (BaxVerify, Tryvox, Mudbase), each
 * step it has (send; verify; validate: BaxVerify validate-token, Tryvox
 * status with validate_token on; and Tryvox's status read after a wrong
 * code), each fault (below) and each failmode, one authentication with
 * http.timeout = FAULT_TIMEOUT (harness.h), asserting:
 *   - the PAM code and the verdict: denied, or allowed only under
 *     failmode=safe and only when the service is unreachable or unusable
 *     (never for a 429: that is the service refusing the user);
 *   - what the user was told;
 *   - the wall time: one timeout at most, never a retry
 *     (ONE_TIMEOUT_S, harness.h);
 *   - exactly one log line for the failure, naming the step and the
 *     fault; the harness's teardown fails the case when a key, a code or
 *     a token reached syslog or the user.
 *
 * Faults of the connection (refused, TLS, certificates, a listener that
 * accepts and never speaks) need the module's connection to go somewhere
 * else in the middle of an authentication.  The module's api_url names a
 * TCP forwarder in this process, which passes connections to the mock
 * until the code prompt (the harness's answer hook), then gives new
 * connections the fault, and for the verify step cuts the open one.  For
 * validate and the status read the connection must survive verify, so
 * the mock drops the request of the step instead ("drop": no answer), and
 * libcurl, as it does for a reused connection that died without a byte,
 * sends it again on a new connection, which meets the fault.  A DNS
 * failure can only happen at send: the host name is resolved once per
 * authentication (one libcurl handle, whose DNS cache keeps it); those
 * cells are listed as not applicable.
 *
 * The time-bound faults (hang after accept, hang after the request, slow
 * trickle) cost a timeout each and run in one failmode per provider and
 * step; every other fault runs in both.
 *
 * With BV_FAULT_MATRIX set (make check: tests/pam/fault-matrix.md in the
 * build directory), the results are written there as a markdown table
 * (only when the whole program ran, not with
 * a filter).
 *
 * Environment hygiene, with the variables set in this process around the
 * logins (as a su-like caller would leave them for sudo or login):
 * https_proxy, HTTPS_PROXY, http_proxy and ALL_PROXY pointing at a
 * listener of the test must get no connection from the module (a plain libcurl
 * request in the same environment does, which shows the variables are live);
 * CURL_CA_BUNDLE, SSL_CERT_FILE and SSL_CERT_DIR trusting the self-signed mock
 * must not make the module trust it (with ca_file or with the system CAs),
 * while the proper mock still works; and error text from the server holding
 * ANSI escapes, BEL, NUL, DEL, a C1 CSI, CR LF and 25-100 KB of it reaches
 * neither syslog nor the user with a control byte, nor unbounded.
 *
 * Provider health (health_retry): with provider = ["baxverify",
 * "tryvox"] and the primary refusing connections, hanging after accept,
 * answering 500 (a mock of its own, BV_PRIMARY_URL, so that its
 * connections are counted apart) or refusing the account (the control),
 * three logins each: the first goes through on Tryvox after the
 * primary's failure, the second makes no connection to a primary that
 * had an outage (and does ask one that only refused), and the third,
 * with the store's mark made older than health_retry, asks the primary
 * again.  Connections are counted at the primary; no assertion waits
 * for seconds to pass or measures them.
 *
 * Services: bv (failmode from the configuration: secure), bv_safe
 * (failmode=safe as a module argument).
 */

/* accept4, pipe2, open_memstream */
#define _GNU_SOURCE 1

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

/* http.timeout and http.connect_timeout of every case: long enough for
   the requests before the fault, which must not run out (harness.h). */
#define TIMEOUT FAULT_TIMEOUT
/* A syslog line or a user message longer than this is unbounded. */
#define LOG_LINE_MAX 1024
#define USER_MSG_MAX 512

/* From run-faults.sh. */
static int main_port;
static int wronghost_port;
static int expired_port;
static int selfsigned_port;
static int plain_port;
static const char *selfsigned_pem;
static const char *env_ca_dir;

/* ------------------------------------------------------------------ */
/* The forwarder: a TCP relay whose behaviour for new connections can   */
/* change in the middle of an authentication.                          */

enum fwd_mode {
	FWD_PASS,   /* relay to the target port */
	FWD_REFUSE, /* the listener is closed: connections are refused */
	FWD_HANG,   /* accept, read, never answer */
};

#define FWD_MAX 64

struct fwd_pair {
	int c; /* the module's side */
	int u; /* the upstream side; -1 for a held (FWD_HANG) connection */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running;
	int lfd;
	int port;
	int wake[2];
	enum fwd_mode mode; /* for new connections */
	int target;	    /* upstream port in FWD_PASS */
	unsigned req;	    /* requests made to the loop ... */
	unsigned done;	    /* ... and carried out */
	bool cut;	    /* close every open connection */
	bool stop;
	struct fwd_pair p[FWD_MAX];
	int n;
	int accepted;
} fwd = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
    .lfd = -1,
    .wake = {-1, -1},
};

static int
connect_local(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A listening socket on 127.0.0.1, port chosen by the kernel. */
static int
listen_local(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static bool
send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w <= 0)
			return false;
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

static void
pair_close(struct fwd_pair *p)
{
	if (p->c >= 0)
		close(p->c);
	if (p->u >= 0)
		close(p->u);
	p->c = -1;
	p->u = -1;
}

/* Called by the loop, with the lock held. */
static void
fwd_accept(void)
{
	int c = accept4(fwd.lfd, NULL, NULL, SOCK_CLOEXEC);
	int u = -1;

	if (c < 0)
		return;
	fwd.accepted++;
	if (fwd.n >= FWD_MAX) {
		close(c);
		return;
	}
	if (fwd.mode == FWD_PASS) {
		u = connect_local(fwd.target);
		if (u < 0) {
			close(c);
			return;
		}
		(void)setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &(int){1},
				 sizeof(int));
	}
	(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	fwd.p[fwd.n].c = c;
	fwd.p[fwd.n].u = u;
	fwd.n++;
}

/* Data on one side of pair i: pass it on (or, held, swallow it). */
static void
fwd_relay(int i, bool from_client)
{
	struct fwd_pair *p = &fwd.p[i];
	int src = from_client ? p->c : p->u;
	int dst = from_client ? p->u : p->c;
	char buf[16384];
	ssize_t r;

	if (src < 0)
		return;
	r = recv(src, buf, sizeof(buf), 0);
	if (r <= 0) {
		pair_close(p);
		return;
	}
	if (dst >= 0 && !send_all(dst, buf, (size_t)r))
		pair_close(p);
}

static void
fwd_apply_requests(void)
{
	if (fwd.req == fwd.done)
		return;
	if (fwd.cut || fwd.stop) {
		for (int i = 0; i < fwd.n; i++)
			pair_close(&fwd.p[i]);
		fwd.n = 0;
		fwd.cut = false;
	}
	if ((fwd.mode == FWD_REFUSE || fwd.stop) && fwd.lfd >= 0) {
		close(fwd.lfd);
		fwd.lfd = -1;
	}
	fwd.done = fwd.req;
	pthread_cond_broadcast(&fwd.cv);
}

static void *
fwd_loop(void *arg)
{
	struct pollfd pfd[2 + 2 * FWD_MAX];
	int who[2 + 2 * FWD_MAX]; /* pair * 2 + side (0 client, 1 upstream) */

	(void)arg;
	pthread_mutex_lock(&fwd.mu);
	for (;;) {
		nfds_t n = 0;
		int lidx = -1;

		fwd_apply_requests();
		if (fwd.stop)
			break;
		pfd[n].fd = fwd.wake[0];
		pfd[n].events = POLLIN;
		who[n++] = -1;
		if (fwd.lfd >= 0) {
			lidx = (int)n;
			pfd[n].fd = fwd.lfd;
			pfd[n].events = POLLIN;
			who[n++] = -1;
		}
		for (int i = 0; i < fwd.n; i++) {
			pfd[n].fd = fwd.p[i].c;
			pfd[n].events = POLLIN;
			who[n++] = 2 * i;
			if (fwd.p[i].u >= 0) {
				pfd[n].fd = fwd.p[i].u;
				pfd[n].events = POLLIN;
				who[n++] = 2 * i + 1;
			}
		}
		pthread_mutex_unlock(&fwd.mu);
		(void)poll(pfd, n, -1);
		pthread_mutex_lock(&fwd.mu);
		if (pfd[0].revents != 0) {
			char b[64];

			while (read(fwd.wake[0], b, sizeof(b)) > 0)
				;
		}
		/* Requests first: a cut must not relay what came with it. */
		if (fwd.req != fwd.done)
			continue;
		for (nfds_t k = 1; k < n; k++) {
			if (pfd[k].revents == 0)
				continue;
			if ((int)k == lidx)
				fwd_accept();
			else if (fwd.p[who[k] / 2].c >= 0)
				fwd_relay(who[k] / 2, who[k] % 2 == 0);
		}
		/* Forget the closed pairs. */
		for (int i = 0, j = 0, m = fwd.n; i < m; i++) {
			if (fwd.p[i].c >= 0)
				fwd.p[j++] = fwd.p[i];
			else
				fwd.n--;
		}
	}
	pthread_mutex_unlock(&fwd.mu);
	return NULL;
}

/* Ask the loop to carry out what was set; wait until it has. */
static void
fwd_request_locked(void)
{
	unsigned want = ++fwd.req;

	if (write(fwd.wake[1], "x", 1) < 0) {
		/* Full: the loop has a wake-up pending anyway. */
	}
	while (fwd.done != want)
		pthread_cond_wait(&fwd.cv, &fwd.mu);
}

static void
fwd_start(enum fwd_mode mode, int target)
{
	assert_false(fwd.running);
	assert_int_equal(pipe2(fwd.wake, O_CLOEXEC | O_NONBLOCK), 0);
	fwd.lfd = listen_local(&fwd.port);
	fwd.mode = mode == FWD_REFUSE ? FWD_PASS : mode;
	fwd.target = target;
	fwd.req = fwd.done = 0;
	fwd.cut = fwd.stop = false;
	fwd.n = 0;
	fwd.accepted = 0;
	assert_int_equal(pthread_create(&fwd.thread, NULL, fwd_loop, NULL), 0);
	fwd.running = true;
	if (mode == FWD_REFUSE) {
		pthread_mutex_lock(&fwd.mu);
		fwd.mode = FWD_REFUSE;
		fwd_request_locked();
		pthread_mutex_unlock(&fwd.mu);
	}
}

/* New connections get mode (target in FWD_PASS); cut closes the open
   ones.  Safe to call from the conversation: no cmocka in here. */
static void
fwd_switch(enum fwd_mode mode, int target, bool cut)
{
	pthread_mutex_lock(&fwd.mu);
	fwd.mode = mode;
	fwd.target = target;
	fwd.cut = cut;
	fwd_request_locked();
	pthread_mutex_unlock(&fwd.mu);
}

static void
fwd_stop(void)
{
	if (!fwd.running)
		return;
	pthread_mutex_lock(&fwd.mu);
	fwd.stop = true;
	fwd_request_locked();
	pthread_mutex_unlock(&fwd.mu);
	pthread_join(fwd.thread, NULL);
	close(fwd.wake[0]);
	close(fwd.wake[1]);
	fwd.wake[0] = fwd.wake[1] = -1;
	fwd.running = false;
}

/* ------------------------------------------------------------------ */
/* The matrix: steps, faults, rows.                                    */

struct step {
	const char *provider;
	const char *name;     /* in the table */
	const char *endpoint; /* the mock's fault endpoint */
	const char *action;   /* the step as the module's log names it */
	bool after_prompt;    /* happens after the code prompt */
	bool keeps_conn;      /* must reach the step on the verify's
				 connection: the mock drops it there */
	bool wrong_code;      /* answered with WRONG (the status read) */
};

static const struct step steps[] = {
    {"baxverify", "send", "send", "send", false, false, false},
    {"baxverify", "verify", "verify", "verify", true, false, false},
    {"baxverify", "validate", "validate-token", "validate", true, true, false},
    {"tryvox", "send", "tryvox-start", "send", false, false, false},
    {"tryvox", "verify", "tryvox-check", "verify", true, false, false},
    {"tryvox", "validate", "tryvox-status", "validate", true, true, false},
    {"tryvox", "status after a wrong code", "tryvox-status", "status", true,
     true, true},
    {"mudbase", "send", "mudbase-send", "send", false, false, false},
    {"mudbase", "verify", "mudbase-verify", "verify", true, false, false},
};

enum fault_id {
	F_REFUSED,
	F_DNS,
	F_TLS,
	F_WRONGHOST,
	F_EXPIRED,
	F_SELFSIGNED,
	F_HANG_ACCEPT,
	F_HANG_REQUEST,
	F_TRICKLE,
	F_HTTP500,
	F_EMPTY,
	F_TRUNCATED,
	F_MALFORMED,
	F_WRONGSHAPE,
	F_OVERSIZED,
	F_REDIRECT,
	F_429,
};

/* Which failmodes a fault runs in. */
enum modes { BOTH, SECURE_ONLY, SAFE_ONLY };

struct fault {
	enum fault_id id;
	const char *name;
	bool transport;	    /* the forwarder makes it, not the mock */
	enum fwd_mode mode; /* transport: what new connections get */
	int *port;	    /* FWD_PASS: where they go */
	const char *mock;   /* mock fault JSON members, else NULL */
	enum modes modes;
	/* The failure's log line holds one of these. */
	const char *needles[4];
};

static const struct fault faults[] = {
    {F_REFUSED,
     "connection refused",
     true,
     FWD_REFUSE,
     NULL,
     NULL,
     BOTH,
     {"Couldn't connect", "onnection refused"}},
    {F_DNS, "DNS failure", true, FWD_PASS, NULL, NULL, BOTH, {"resolve"}},
    {F_TLS,
     "TLS handshake failure (plain HTTP)",
     true,
     FWD_PASS,
     &plain_port,
     NULL,
     BOTH,
     {"SSL", "TLS"}},
    {F_WRONGHOST,
     "certificate for another host",
     true,
     FWD_PASS,
     &wronghost_port,
     NULL,
     BOTH,
     {"SSL", "certificate"}},
    {F_EXPIRED,
     "expired certificate",
     true,
     FWD_PASS,
     &expired_port,
     NULL,
     BOTH,
     {"SSL", "certificate"}},
    {F_SELFSIGNED,
     "self-signed certificate",
     true,
     FWD_PASS,
     &selfsigned_port,
     NULL,
     BOTH,
     {"SSL", "certificate"}},
    {F_HANG_ACCEPT,
     "hang after accept",
     true,
     FWD_HANG,
     NULL,
     NULL,
     SECURE_ONLY,
     {"Timeout", "timed out"}},
    {F_HANG_REQUEST,
     "hang after the request",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"hang\"",
     SAFE_ONLY,
     {"Timeout", "timed out"}},
    {F_TRICKLE,
     "slow trickle (1 byte/s)",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"trickle\", \"interval\": 1.0",
     SAFE_ONLY,
     {"Timeout", "timed out"}},
    {F_HTTP500,
     "HTTP 500 with HTML",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"http500\"",
     BOTH,
     {"HTTP 500"}},
    {F_EMPTY,
     "empty body (200)",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"empty\"",
     BOTH,
     {"HTTP 200"}},
    {F_TRUNCATED,
     "truncated body",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"truncated\"",
     BOTH,
     {"partial", "truncat"}},
    {F_MALFORMED,
     "malformed JSON",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"malformed\"",
     BOTH,
     {"HTTP 200"}},
    {F_WRONGSHAPE,
     "JSON of the wrong shape",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"wrongshape\"",
     BOTH,
     {"HTTP 200"}},
    {F_OVERSIZED,
     "oversized body (200 KiB)",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"oversized\"",
     BOTH,
     {"larger than"}},
    {F_REDIRECT,
     "redirect to another host",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"redirect\"",
     BOTH,
     {"redirect", "HTTP 302"}},
    {F_429,
     "429 with Retry-After",
     false,
     FWD_PASS,
     NULL,
     "\"kind\": \"ratelimit\", \"retry_after\": 30",
     BOTH,
     {"HTTP 429"}},
};

/* One cell of the matrix and, once run, its result. */
struct row {
	const struct step *step;
	const struct fault *fault;
	bool safe;
	const char *na; /* not applicable: why (not run) */
	/* Results. */
	bool ran;
	int rc;
	double seconds;
	char line[256];	 /* the failure's log line, prefix cut */
	char check[256]; /* "ok" or what failed */
};

static struct row *rows;
static size_t n_rows;

/* What a cell must give. */
struct want {
	int rc;
	bool allowed;
	const char *msg;    /* the user must see this */
	const char *action; /* the failure's log line is about this step */
	const char *const *needles;
	int lines; /* failure lines in all ("via PROVIDER") */
};

static const char *const expired_needles[] = {"BAXVERIFY_OTP_EXPIRED", NULL};

static bool
is(const struct step *s, const char *provider, const char *name)
{
	return strcmp(s->provider, provider) == 0 && strcmp(s->name, name) == 0;
}

static void
expected(const struct row *r, struct want *w)
{
	const struct step *s = r->step;
	enum fault_id f = r->fault->id;

	w->action = s->action;
	w->needles = r->fault->needles;
	w->lines = 1;
	w->allowed = false;
	if (s->wrong_code) {
		/*
		 * The status read follows a wrong code: whatever happens to
		 * it, the wrong code stands (max_tries = 1: the last try).
		 * The wrong code has its own line.
		 */
		w->rc = PAM_MAXTRIES;
		w->msg = MSG_TOO_MANY;
		w->lines = 2;
	} else if (f == F_429) {
		/* The service refusing this user: never failmode's. */
		bool tries = is(s, "mudbase", "verify");

		w->rc = tries ? PAM_MAXTRIES : PAM_AUTH_ERR;
		w->msg = tries ? MSG_TOO_MANY : "Too many codes requested.";
	} else if (f == F_EMPTY && is(s, "baxverify", "send")) {
		/*
		 * BaxVerify documents no body for send: an empty 2xx is
		 * "sent".  No code arrived, so the one typed is refused.
		 */
		w->rc = PAM_AUTH_ERR;
		w->msg = MSG_EXPIRED;
		w->action = "verify";
		w->needles = expired_needles;
	} else if (r->safe) {
		w->rc = PAM_SUCCESS;
		w->allowed = true;
		w->msg = MSG_SAFE;
	} else {
		w->rc = PAM_AUTHINFO_UNAVAIL;
		w->msg = MSG_UNREACH;
	}
}

/* ------------------------------------------------------------------ */
/* Running one cell.                                                   */

struct hook_ctx {
	const char *answer;
	bool do_switch;
	enum fwd_mode mode;
	int target;
	bool cut;
};

/* The code prompt: between send and verify.  No cmocka in here. */
static const char *
answer_hook(int n, void *arg)
{
	struct hook_ctx *h = arg;

	if (n > 0)
		return NULL;
	if (h->do_switch)
		fwd_switch(h->mode, h->target, h->cut);
	return h->answer;
}

static void
conf_for(const struct step *s, const char *url, struct conf *c, char *bax_url,
	 size_t bax_len)
{
	snprintf(bax_url, bax_len, "%s/v1", url);
	c->connect_timeout = TIMEOUT;
	c->timeout = TIMEOUT;
	c->max_tries = 1;
	c->max_sends = 1;
	c->api_url = bax_url;
	if (strcmp(s->provider, "tryvox") == 0) {
		c->provider = "\"tryvox\"";
		c->tryvox = strcmp(s->action, "validate") == 0
				? "  validate_token = true;"
				: "";
		c->tryvox_url = url;
	} else if (strcmp(s->provider, "mudbase") == 0) {
		c->provider = "\"mudbase\"";
		c->mudbase = "";
		c->mudbase_url = url;
	}
}

/* The message part of a syslog line: after "rhost=...: ". */
static const char *
log_text(const char *line)
{
	const char *p = strstr(line, " rhost=");
	const char *q = p != NULL ? strstr(p, ": ") : NULL;

	return q != NULL ? q + 2 : line;
}

/*
 * The failure lines of provider in syslog: how many in all, how many
 * about action, and the first of those (message part) in out.
 */
static void
failure_lines(const char *provider, const char *action, int *all, int *mine,
	      char *out, size_t outsz)
{
	char *log = read_whole_file(syslog_file);
	char failed[64], refused[64], head[64];
	char *save = NULL;

	snprintf(failed, sizeof(failed), " via %s failed: ", provider);
	snprintf(refused, sizeof(refused), " via %s refused: ", provider);
	snprintf(head, sizeof(head), "%s via %s ", action, provider);
	*all = *mine = 0;
	out[0] = '\0';
	for (char *ln = strtok_r(log, "\n", &save); ln != NULL;
	     ln = strtok_r(NULL, "\n", &save)) {
		const char *text = log_text(ln);

		if (strstr(ln, failed) == NULL && strstr(ln, refused) == NULL)
			continue;
		(*all)++;
		if (strncmp(text, head, strlen(head)) == 0) {
			if (*mine == 0)
				snprintf(out, outsz, "%s", text);
			(*mine)++;
		}
	}
	free(log);
}

static bool
has_any(const char *text, const char *const *needles)
{
	for (size_t i = 0; needles[i] != NULL; i++) {
		if (strstr(text, needles[i]) != NULL)
			return true;
	}
	return false;
}

static bool
shown(const char *needle)
{
	return in_bufs(info_buf, needle) || in_bufs(err_buf, needle);
}

/* The first broken promise of the cell, in r->check; false if any. */
static bool
judge(struct row *r, const struct want *w)
{
	int all, mine;
	char *check = r->check;
	size_t sz = sizeof(r->check);

	failure_lines(r->step->provider, w->action, &all, &mine, r->line,
		      sizeof(r->line));
	if (r->rc == PAM_SUCCESS && !w->allowed)
		snprintf(check, sz, "ALLOWED: expected %s", pam_rc_name(w->rc));
	else if (r->rc != w->rc)
		snprintf(check, sz, "PAM code %s, expected %s",
			 pam_rc_name(r->rc), pam_rc_name(w->rc));
	else if (!shown(w->msg))
		snprintf(check, sz, "user not told \"%s\"", w->msg);
	else if (!w->allowed && shown(MSG_SAFE))
		snprintf(check, sz, "user told \"%s\" but denied", MSG_SAFE);
	else if (w->allowed &&
		 !log_has(PRIO(LOG_WARNING),
			  LOGGED("ALLOWED WITHOUT A CODE", "failmode=safe")))
		snprintf(check, sz, "no WARNING line for the fail-open");
	else if (r->seconds >= ONE_TIMEOUT_S(TIMEOUT))
		snprintf(check, sz,
			 "took %.2f s: more than one timeout of "
			 "%d s",
			 r->seconds, TIMEOUT);
	else if (mine != 1)
		snprintf(check, sz,
			 "%d log lines \"%s via %s ...\", expected 1", mine,
			 w->action, r->step->provider);
	else if (all != w->lines)
		snprintf(check, sz, "%d failure lines via %s, expected %d", all,
			 r->step->provider, w->lines);
	else if (!has_any(r->line, w->needles))
		snprintf(check, sz, "log line does not name the fault (%s)",
			 w->needles[0]);
	else if (r->fault->id == F_REDIRECT &&
		 mock_count_prefix("/redirected") != 0)
		snprintf(check, sz, "the redirect was followed");
	else
		snprintf(check, sz, "ok");
	return strcmp(check, "ok") == 0;
}

static void
test_cell(void **state)
{
	struct row *r = *state;
	const struct step *s = r->step;
	const struct fault *f = r->fault;
	struct conf c = {0};
	struct hook_ctx h = {.answer = s->wrong_code ? WRONG : CODE};
	struct pam_run run = {
	    .service = r->safe ? "bv_safe" : "bv",
	    .user = "alice",
	    .answer = answer_hook,
	    .arg = &h,
	};
	struct want w;
	char url[256], bax_url[300], json[512];
	double t0;

	add_secret(WRONG);
	/* Where the module's connections go until the fault strikes. */
	if (f->transport && !s->after_prompt)
		fwd_start(f->mode, f->port != NULL ? *f->port : 0);
	else
		fwd_start(FWD_PASS, main_port);
	if (f->id == F_DNS)
		snprintf(url, sizeof(url), "https://nonexistent.invalid:%d",
			 main_port);
	else
		snprintf(url, sizeof(url), "https://127.0.0.1:%d", fwd.port);
	conf_for(s, url, &c, bax_url, sizeof(bax_url));
	write_conf(&c);

	if (f->mock != NULL) {
		snprintf(json, sizeof(json),
			 "{\"endpoint\": \"%s\", \"count\": 1, %s}",
			 s->endpoint, f->mock);
		mock_fault(json);
	} else if (s->after_prompt) {
		h.do_switch = true;
		h.mode = f->mode;
		h.target = f->port != NULL ? *f->port : 0;
		h.cut = !s->keeps_conn;
		if (s->keeps_conn) {
			snprintf(json, sizeof(json),
				 "{\"endpoint\": \"%s\", \"count\": 1, "
				 "\"kind\": \"drop\"}",
				 s->endpoint);
			mock_fault(json);
		}
	}

	t0 = now_s();
	run_pam(&run);
	r->seconds = now_s() - t0;
	r->rc = run.auth_rc;
	r->ran = true;
	pamtest_free_env(run.env);
	free(run.shown);
	fwd_stop();

	expected(r, &w);
	if (!judge(r, &w)) {
		print_error("%s / %s / %s / %s: %s\n", s->provider, s->name,
			    f->name, r->safe ? "safe" : "secure", r->check);
		dump_user_messages();
		dump_syslog();
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* Environment hygiene.                                                */

static const char *const proxy_vars[] = {
    "https_proxy", "HTTPS_PROXY", "http_proxy",
    "HTTP_PROXY",  "ALL_PROXY",	  "all_proxy",
};
static const char *const ca_vars[] = {"CURL_CA_BUNDLE", "SSL_CERT_FILE",
				      "SSL_CERT_DIR"};

static void
unset_env_vars(void)
{
	for (size_t i = 0; i < NELEM(proxy_vars); i++)
		unsetenv(proxy_vars[i]);
	for (size_t i = 0; i < NELEM(ca_vars); i++)
		unsetenv(ca_vars[i]);
}

/* Connections waiting on a listener nobody accepted from. */
static int
pending(int lfd)
{
	int n = 0;
	int fd;

	assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		close(fd);
		n++;
	}
	return n;
}

static size_t
discard(char *data, size_t size, size_t nmemb, void *userp)
{
	(void)data;
	(void)userp;
	return size * nmemb;
}

/*
 * A libcurl request as any program would make it (no proxy or CA option
 * set but the CA file given); returns the HTTP status, 0 on failure.
 */
static long
plain_get(const char *url, const char *cainfo, long timeout)
{
	CURL *h = curl_easy_init();
	long status = 0;

	assert_non_null(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (cainfo != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, cainfo);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}

static void
test_env_proxy_ignored(void **state)
{
	static const struct conf confs[] = {
	    {.timeout = TIMEOUT, .connect_timeout = TIMEOUT},
	    {.timeout = TIMEOUT,
	     .connect_timeout = TIMEOUT,
	     .provider = "\"tryvox\"",
	     .tryvox = ""},
	    {.timeout = TIMEOUT,
	     .connect_timeout = TIMEOUT,
	     .provider = "\"mudbase\"",
	     .mudbase = ""},
	};
	char proxy[64], url[300];
	int port, lfd, rc[NELEM(confs)], by_module, by_plain;
	double t0, secs;

	(void)state;
	lfd = listen_local(&port);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	for (size_t i = 0; i < NELEM(proxy_vars); i++)
		setenv(proxy_vars[i], proxy, 1);
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");

	/* One login per provider: BaxVerify, Tryvox, Mudbase. */
	t0 = now_s();
	for (size_t i = 0; i < NELEM(confs); i++) {
		write_conf(&confs[i]);
		rc[i] = run_auth("bv", "alice", ANSWERS(CODE), NULL);
	}
	secs = now_s() - t0;
	by_module = pending(lfd);
	/* The control: the variables do steer a libcurl left to them. */
	snprintf(url, sizeof(url), "%s/_mock/stats", mock_url);
	(void)plain_get(url, ca_file, 1);
	by_plain = pending(lfd);
	unset_env_vars();
	close(lfd);

	for (size_t i = 0; i < NELEM(confs); i++) {
		if (rc[i] != PAM_SUCCESS || by_module != 0) {
			print_error("with *_proxy set, %s: %s (%.2f s for "
				    "all), %d connection(s) to the proxy\n",
				    confs[i].provider != NULL
					? confs[i].provider
					: "baxverify",
				    pam_rc_name(rc[i]), secs, by_module);
			dump_syslog();
			fail();
		}
	}
	if (by_plain == 0) {
		print_error("control failed: a plain libcurl request did not "
			    "use the proxy variables; the check proves "
			    "nothing\n");
		fail();
	}
}

static void
set_ca_env(void)
{
	setenv("CURL_CA_BUNDLE", selfsigned_pem, 1);
	setenv("SSL_CERT_FILE", selfsigned_pem, 1);
	setenv("SSL_CERT_DIR", env_ca_dir, 1);
}

/* A GET to another mock instance, trusting only cainfo; its JSON. */
static cJSON *
other_mock_json(int port, const char *cainfo, const char *path)
{
	CURL *h = curl_easy_init();
	char url[256], *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	CURLcode cc;
	cJSON *j = NULL;

	assert_non_null(h);
	assert_non_null(mem);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_CAINFO, cainfo);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_WRITEDATA, mem); /* fwrite */
	cc = curl_easy_perform(h);
	fclose(mem);
	if (cc == CURLE_OK)
		j = cJSON_Parse(buf);
	free(buf);
	curl_easy_cleanup(h);
	return j;
}

static long
json_num(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

/* Against the self-signed mock with the CA variables trusting it. */
static void
env_ca_selfsigned(bool system_ca)
{
	struct conf c = {.timeout = TIMEOUT,
			 .connect_timeout = TIMEOUT,
			 .system_ca = system_ca};
	char url[256];
	cJSON *before, *after;
	long fails;
	int rc;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1", selfsigned_port);
	c.api_url = url;
	write_conf(&c);
	/* The control: its own certificate does trust the mock. */
	before =
	    other_mock_json(selfsigned_port, selfsigned_pem, "/_mock/stats");
	if (before == NULL) {
		print_error("control failed: %s does not let libcurl reach "
			    "the self-signed mock\n",
			    selfsigned_pem);
		fail();
	}
	set_ca_env();
	rc = run_auth("bv", "alice", ANSWERS(CODE), NULL);
	unset_env_vars();
	after =
	    other_mock_json(selfsigned_port, selfsigned_pem, "/_mock/stats");
	assert_non_null(after);
	fails = json_num(after, "handshake_failures") -
		json_num(before, "handshake_failures");
	if (rc != PAM_AUTHINFO_UNAVAIL || json_num(after, "requests") != 0 ||
	    fails < 1) {
		print_error("%s with CURL_CA_BUNDLE/SSL_CERT_FILE/SSL_CERT_DIR "
			    "trusting the self-signed mock: %s, %ld API "
			    "request(s) reached it, %ld handshake(s) "
			    "failed\n",
			    system_ca ? "system CAs" : "ca_file",
			    pam_rc_name(rc), json_num(after, "requests"),
			    fails);
		dump_syslog();
		fail();
	}
	assert_logged(PRIO(LOG_ERR), "send via baxverify failed", "SSL");
	cJSON_Delete(before);
	cJSON_Delete(after);
}

static void
test_env_ca_ignored_ca_file(void **state)
{
	(void)state;
	env_ca_selfsigned(false);
}

static void
test_env_ca_ignored_system(void **state)
{
	(void)state;
	env_ca_selfsigned(true);
}

static void
test_env_ca_proper_mock_works(void **state)
{
	struct conf c = {.timeout = TIMEOUT, .connect_timeout = TIMEOUT};
	int rc;

	(void)state;
	write_conf(&c);
	set_ca_env();
	rc = run_auth("bv", "alice", ANSWERS(CODE), NULL);
	unset_env_vars();
	assert_rc(rc, PAM_SUCCESS);
}

/* --- control characters from the server -------------------------- */

/*
 * ANSI clear screen and colour, BEL, CR LF and a forged line, an OSC
 * title sequence, DEL, a C1 CSI (U+009B), then NUL and more text: as JSON
 * escapes, which the mock turns back into those bytes on the wire.
 */
#define EVIL_JSON                                                              \
	"\\u001b[2J\\u001b[31mRED\\u0007BEL\\r\\nFAKE log line "               \
	"\\u001b]0;owned\\u0007 \\u007fDEL \\u009bC1 \\u0000after-NUL"
#define LONG_UNIT "\\u001b[1mLONG\\u0007 " /* 10 bytes once decoded */

struct ctl_case {
	const char *name;
	const char *endpoint;
	const char *provider; /* NULL: baxverify */
	const char *code;
	int status;
	int long_units;	      /* 0: EVIL_JSON as the message */
	const char *evidence; /* syslog must show this (sanitised) */
	bool ran;	      /* for the table */
	bool ok;
};

static struct ctl_case ctl_cases[] = {
    {"baxverify message", "send", NULL, "BAXVERIFY_SMS_SEND_FAILED", 400, 0,
     "RED?BEL", false, false},
    {"baxverify code", "send", NULL, "EVIL\\u001b[31m\\u0007\\r\\nCODE", 400, 0,
     "EVIL?[31m???CODE", false, false},
    {"tryvox message", "tryvox-start", "tryvox", "FORBIDDEN", 403, 0, "RED?BEL",
     false, false},
    {"mudbase message", "mudbase-send", "mudbase", "forbidden", 403, 0,
     "RED?BEL", false, false},
    /* 25 KB of escapes: within the 64 KiB cap, parsed and cut. */
    {"25 KB message", "send", NULL, "BAXVERIFY_SMS_SEND_FAILED", 400, 2500,
     "[1mLONG", false, false},
    /* 100 KB: over the cap, refused unread. */
    {"100 KB message", "send", NULL, "BAXVERIFY_SMS_SEND_FAILED", 400, 10000,
     "larger than", false, false},
};

static bool
is_control(const unsigned char *p)
{
	return *p < 0x20 || *p == 0x7f ||
	       (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
}

/* The first control byte of text (lines split at sep), or NULL. */
static const char *
find_control(const char *text, char sep)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p != (unsigned char)sep && is_control(p))
			return (const char *)p;
	}
	return NULL;
}

static size_t
longest_line(const char *text)
{
	size_t best = 0;

	while (*text != '\0') {
		const char *nl = strchr(text, '\n');
		size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);

		if (n > best)
			best = n;
		text += n + (nl != NULL ? 1 : 0);
	}
	return best;
}

static const char *
ctl_answer(int n, void *arg)
{
	(void)arg;
	return n == 0 ? CODE : NULL;
}

static void
test_control_chars(void **state)
{
	struct ctl_case *t = *state;
	struct conf c = {.timeout = TIMEOUT, .connect_timeout = TIMEOUT};
	struct pam_run run = {
	    .service = "bv", .user = "alice", .answer = ctl_answer};
	struct sbuf fault = {NULL, 0, 0};
	const char *bad;
	char *log;
	size_t loglen, userlen;

	t->ran = true;
	if (t->provider != NULL && strcmp(t->provider, "tryvox") == 0) {
		c.provider = "\"tryvox\"";
		c.tryvox = "";
	} else if (t->provider != NULL) {
		c.provider = "\"mudbase\"";
		c.mudbase = "";
	}
	write_conf(&c);
	sb_printf(&fault,
		  "{\"endpoint\": \"%s\", \"kind\": \"error\", "
		  "\"count\": 1, \"code\": \"%s\", \"status\": %d, "
		  "\"message\": \"",
		  t->endpoint, t->code, t->status);
	if (t->long_units == 0)
		sb_printf(&fault, "%s", EVIL_JSON);
	for (int i = 0; i < t->long_units; i++)
		sb_printf(&fault, "%s", LONG_UNIT);
	sb_printf(&fault, "\"}");
	mock_fault(fault.s);
	free(fault.s);

	run_pam(&run);
	pamtest_free_env(run.env);
	log = read_whole_file(syslog_file);
	loglen = longest_line(log);
	userlen = longest_line(run.shown);

	if (run.auth_rc == PAM_SUCCESS)
		fail_msg("%s: allowed", t->name);
	bad = find_control(log, '\n');
	if (bad != NULL)
		fail_msg("%s: syslog holds control byte 0x%02x: \"%.40s\"",
			 t->name, (unsigned char)*bad, bad);
	/* The capture folds CR and LF into blanks: two there are a raw
	   CR LF that reached syslog(3). */
	if (strstr(log, "BEL  FAKE") != NULL)
		fail_msg("%s: a CR LF from the server reached syslog", t->name);
	for (size_t i = 0; i < MAX_MSGS; i++) {
		bad = find_control(info_buf[i], '\0');
		if (bad == NULL)
			bad = find_control(err_buf[i], '\0');
		if (bad != NULL)
			fail_msg("%s: the user was shown control byte 0x%02x",
				 t->name, (unsigned char)*bad);
	}
	bad = find_control(run.shown, '\n');
	if (bad != NULL)
		fail_msg("%s: the user was shown control byte 0x%02x", t->name,
			 (unsigned char)*bad);
	if (loglen > LOG_LINE_MAX || strlen(log) > 8 * LOG_LINE_MAX)
		fail_msg("%s: syslog line of %zu bytes (%zu in all)", t->name,
			 loglen, strlen(log));
	if (userlen > USER_MSG_MAX || strlen(run.shown) > 4 * USER_MSG_MAX)
		fail_msg("%s: user message of %zu bytes", t->name, userlen);
	if (strstr(log, t->evidence) == NULL) {
		print_error("%s: syslog does not show \"%s\": the server's "
			    "text was not logged as expected\n",
			    t->name, t->evidence);
		dump_syslog();
		fail();
	}
	free(log);
	free(run.shown);
	t->ok = true;
}

/* ------------------------------------------------------------------ */
/* Provider health: a dead primary is asked once, not at every login.  */

/*
 * provider = ["baxverify", "tryvox"], BaxVerify (the primary) failing
 * in one way, Tryvox (the main mock) healthy.  Three logins:
 *   1. the primary fails, the login goes through on Tryvox, and for an
 *      outage the primary is marked down (the store's @health);
 *   2. within health_retry: success on Tryvox, and NO connection to the
 *      primary for an outage (counted where the primary listens: for a
 *      refused primary its port listens from now on, so a connection
 *      would be seen) -- but for a refusal (the control row) the primary
 *      is asked again, since a refusal marks nothing;
 *   3. with the mark made older than health_retry (the store file
 *      rewritten: no test waits for seconds to pass): the primary is
 *      asked first again, fails again, and its mark's last failure moves.
 * Counts of connections, never elapsed times, decide.
 */
enum primary_kind {
	P_REFUSED, /* a bound port that does not listen */
	P_HANG,	   /* a listener that never accepts: TLS never starts */
	P_HTTP500, /* the primary mock: every send a 500 */
	P_REJECTED /* the primary mock: every send an account refusal */
};

struct health_case {
	const char *name;
	enum primary_kind kind;
	bool outage; /* BV_UNAVAILABLE: marks the primary down */
	/* Results, for the table. */
	bool ran;
	int rc[3];
	int conns[3]; /* connections at the primary per login; -1 n/a */
	char check[256];
};

static struct health_case health_cases[] = {
    {"connection refused", P_REFUSED, true, false, {0}, {0}, ""},
    {"hang after accept", P_HANG, true, false, {0}, {0}, ""},
    {"HTTP 500 with HTML", P_HTTP500, true, false, {0}, {0}, ""},
    {"account refusal (control: no mark)",
     P_REJECTED,
     false,
     false,
     {0},
     {0},
     ""},
};

/* From run-faults.sh: a mock of its own for the primary. */
static const char *primary_url;

/*
 * The harness's control calls go to mock_url: pointed at the primary
 * mock for one call (and back in the teardown, should a call fail).
 */
static void
primary_post(const char *path, const char *json)
{
	const char *main_url = mock_url;

	mock_url = primary_url;
	mock_post(path, json);
	mock_url = main_url;
}

/* Connections that carried an API request to the primary mock. */
static long
primary_connections(void)
{
	const char *main_url = mock_url;
	long n;

	mock_url = primary_url;
	n = mock_stat("connections");
	mock_url = main_url;
	return n;
}

/* The primary's mark in the store's health record: last failure, or 0. */
static long long
primary_mark(void)
{
	char path[4200], *text, *p;
	long long since = 0, last = 0;
	char *end;

	snprintf(path, sizeof(path), "%s/@health", store_path);
	if (access(path, F_OK) != 0)
		return 0;
	text = read_whole_file(path);
	p = strstr(text, "\ndown baxverify ");
	if (p != NULL) {
		since = strtoll(p + 16, &end, 10);
		last = strtoll(end, NULL, 10);
	}
	free(text);
	return since > 0 ? last : 0;
}

/* The mark made older than health_retry, as time would. */
static void
age_primary_mark(long long by)
{
	char path[4200], text[128];
	long long when = (long long)time(NULL) - by;

	snprintf(path, sizeof(path), "%s/@health", store_path);
	snprintf(text, sizeof(text), "version 1\ndown baxverify %lld %lld\n",
		 when, when);
	write_file(path, text, 0600);
}

static const char *
health_answer(int n, void *arg)
{
	(void)arg;
	return n == 0 ? CODE : NULL;
}

/* One login of alice; its PAM code, and the provider that sent the code
   in *by (static text, "-" when none). */
static int
health_login(const char **by)
{
	struct pam_run run = {
	    .service = "bv", .user = "alice", .answer = health_answer};
	const char *p;

	run_pam(&run);
	p = env_get(run.env, "BAXVERIFY_PROVIDER");
	*by = p == NULL ? "-" : strcmp(p, "tryvox") == 0 ? "tryvox" : "other";
	pamtest_free_env(run.env);
	free(run.shown);
	return run.auth_rc;
}

/*
 * Connections the primary got since the last count: taken off its
 * listener fd, or from the primary mock's count (base: the last one).
 * -1 when they cannot be counted (a port that refuses).
 */
static int
primary_count(const struct health_case *t, int fd, long *base)
{
	long now, delta;

	if (t->kind == P_REFUSED || t->kind == P_HANG)
		return fd < 0 ? -1 : pending(fd);
	now = primary_connections();
	delta = now - *base;
	*base = now;
	return (int)delta;
}

static bool
health_judge(struct health_case *t, const char *const by[3])
{
	char *c = t->check;
	size_t sz = sizeof(t->check);

	for (int i = 0; i < (t->outage ? 3 : 2); i++)
		if (t->rc[i] != PAM_SUCCESS || strcmp(by[i], "tryvox") != 0) {
			snprintf(c, sz, "login %d: %s, code by %s", i + 1,
				 pam_rc_name(t->rc[i]), by[i]);
			return false;
		}
	if (t->kind != P_REFUSED && t->conns[0] < 1)
		snprintf(c, sz, "login 1 did not reach the primary");
	else if (t->outage && t->conns[1] != 0)
		snprintf(c, sz, "login 2 made %d connection(s) to the primary",
			 t->conns[1]);
	else if (!t->outage && t->conns[1] < 1)
		snprintf(c, sz, "login 2 skipped a primary that only refused");
	else if (t->outage && t->conns[2] < 1)
		snprintf(c, sz, "after health_retry the primary was not asked");
	else if (t->outage && count_logged("provider baxverify marked down "
					   "since") != 1)
		snprintf(c, sz, "%d \"marked down since\" lines, expected 1",
			 count_logged("provider baxverify marked down since"));
	else if (!t->outage && count_logged("marked down") != 0)
		snprintf(c, sz, "a refusal marked the primary down");
	else
		snprintf(c, sz, "ok");
	return strcmp(c, "ok") == 0;
}

static void
test_health(void **state)
{
	struct health_case *t = *state;
	struct conf c = {.connect_timeout = TIMEOUT,
			 .timeout = TIMEOUT,
			 .max_tries = 1,
			 .max_sends = 1,
			 .provider = "[\"baxverify\", \"tryvox\"]",
			 .tryvox = ""};
	const char *by[3] = {"-", "-", "-"};
	char url[300];
	long base = 0;
	long long mark = 0;
	int port = 0, fd = -1;

	t->ran = true;
	primary_post("/_mock/reset", "{}");
	if (t->kind == P_REFUSED)
		fd = closed_port(&port);
	else if (t->kind == P_HANG)
		fd = listen_local(&port);
	if (fd >= 0)
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1", port);
	else
		snprintf(url, sizeof(url), "%s/v1", primary_url);
	if (t->kind == P_HTTP500)
		primary_post("/_mock/fault", "{\"endpoint\": \"send\", "
					     "\"kind\": \"http500\"}");
	else if (t->kind == P_REJECTED)
		primary_post("/_mock/fault",
			     "{\"endpoint\": \"send\", \"kind\": \"error\", "
			     "\"code\": \"BAXVERIFY_INSUFFICIENT_CREDITS\"}");
	c.api_url = url;
	write_conf(&c);

	t->rc[0] = health_login(&by[0]);
	t->conns[0] = primary_count(t, t->kind == P_REFUSED ? -1 : fd, &base);
	mark = primary_mark();
	/* From now on a connection to a refusing primary would be seen. */
	if (t->kind == P_REFUSED)
		assert_int_equal(listen(fd, 16), 0);
	t->rc[1] = health_login(&by[1]);
	t->conns[1] = primary_count(t, fd, &base);
	if (t->outage) {
		age_primary_mark(3600);
		t->rc[2] = health_login(&by[2]);
		t->conns[2] = primary_count(t, fd, &base);
	} else {
		t->conns[2] = -1;
	}
	if (fd >= 0)
		close(fd);

	if (t->outage && mark == 0)
		snprintf(t->check, sizeof(t->check),
			 "login 1 did not mark the primary down");
	else if (!t->outage && mark != 0)
		snprintf(t->check, sizeof(t->check),
			 "a refusal marked the primary down");
	else if (t->outage && primary_mark() <= (long long)time(NULL) - 3600)
		snprintf(t->check, sizeof(t->check),
			 "login 3 did not mark the primary down again");
	else if (health_judge(t, by))
		return;
	if (strcmp(t->check, "ok") == 0 || t->check[0] == '\0')
		snprintf(t->check, sizeof(t->check), "failed");
	print_error("health / %s: %s\n", t->name, t->check);
	dump_syslog();
	fail();
}

static int
health_teardown(void **state)
{
	struct health_case *t = *state;
	int rc;

	mock_url = getenv("BV_MOCK_URL");
	primary_post("/_mock/reset", "{}");
	rc = harness_teardown(state);
	if (rc != 0 && strcmp(t->check, "ok") == 0)
		snprintf(t->check, sizeof(t->check),
			 "SECRET LEAK (see the test log)");
	return rc;
}

/* ------------------------------------------------------------------ */
/* The table in docs/.                                                 */

/* Markdown-safe copy of s: '|' and '`' escaped, cut at max bytes. */
static void
md_cell(FILE *f, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0' && n < max; s++, n++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '`')
			fputs("'", f);
		else
			fputc(*s, f);
	}
	if (*s != '\0')
		fputs("…", f);
}

static const char *
verdict_name(const struct row *r)
{
	if (r->na != NULL)
		return "n/a";
	if (!r->ran)
		return "not run";
	return r->rc == PAM_SUCCESS ? "**allowed**" : "denied";
}

/* The environment checks, their outcome kept for the table. */
struct hygiene_check {
	const char *name;
	const char *what;
	CMUnitTestFunction fn;
	bool ran;
	bool ok;
};

static struct hygiene_check hygiene[] = {
    {"proxy variables",
     "https_proxy, HTTPS_PROXY, http_proxy, "
     "ALL_PROXY at a listener of the test: a login with each provider "
     "succeeds, no connection to it",
     test_env_proxy_ignored, false, false},
    {"CA variables, ca_file",
     "CURL_CA_BUNDLE, SSL_CERT_FILE, "
     "SSL_CERT_DIR trusting the self-signed mock: refused",
     test_env_ca_ignored_ca_file, false, false},
    {"CA variables, system CAs", "the same without ca_file: refused",
     test_env_ca_ignored_system, false, false},
    {"CA variables, proper mock",
     "the same variables, the proper mock "
     "with ca_file: success",
     test_env_ca_proper_mock_works, false, false},
};

/* Runs one check; ok only when it returned (fail() jumps over). */
static void
test_hygiene(void **state)
{
	struct hygiene_check *h = *state;

	h->ran = true;
	h->fn(state);
	h->ok = true;
}

static void
write_matrix(const char *path)
{
	char tmp[4200];
	FILE *f;
	size_t ok = 0, bad = 0, na = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (f == NULL) {
		print_error("cannot write %s: %s\n", tmp, strerror(errno));
		return;
	}
	for (size_t i = 0; i < n_rows; i++) {
		if (rows[i].na != NULL)
			na++;
		else if (rows[i].ran && strcmp(rows[i].check, "ok") == 0)
			ok++;
		else
			bad++;
	}
	fprintf(f,
		"# Fault matrix\n\n"
		"Generated by `tests/pam/test_faults.c` (run by "
		"`tests/pam/run-faults.sh` in `make check`); do not edit.\n"
		"Each row is one authentication of user alice through libpam "
		"(pam_wrapper) against the loopback mock, with "
		"`http.timeout = %d`, `http.connect_timeout = %d`, "
		"`max_tries = 1`, `max_sends = 1`. The time-bound faults run "
		"in one failmode per provider and step.\n\n"
		"A row passes when: the verdict is a denial, or an allowance "
		"only with `failmode = \"safe\"` and only when the service is "
		"unreachable or unusable (never for a 429); the PAM code and "
		"the user's message are the documented ones; the wall time "
		"is under `http.timeout` + 5 s (one timeout, never a "
		"retry); exactly one log line "
		"reports the failure of that step and names the fault; and "
		"no key, code or token reached syslog or the user.\n\n"
		"- *verify*, *validate*: connection faults strike after the "
		"code prompt (a forwarder in the test switches); for "
		"*validate* and the status read the mock drops the step's "
		"request so that libcurl reconnects into the fault.\n"
		"- *status after a wrong code* (Tryvox): the wrong code "
		"stands whatever the status read does, so the verdict is "
		"`PAM_MAXTRIES`.\n"
		"- BaxVerify *send*, empty body: BaxVerify documents no body "
		"for send, so an empty 200 counts as sent; no code arrived "
		"and the one typed is refused.\n"
		"- DNS at *verify* and later: not applicable, the host name "
		"is resolved once per authentication.\n\n"
		"Result: %zu rows pass, %zu fail, %zu not applicable.\n\n",
		TIMEOUT, TIMEOUT, ok, bad, na);
	fprintf(f, "| Provider | Step | Fault | failmode | PAM code | Verdict "
		   "| Seconds | Log line (excerpt) | Check |\n"
		   "|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < n_rows; i++) {
		const struct row *r = &rows[i];

		fprintf(f, "| %s | %s | %s | %s | ", r->step->provider,
			r->step->name, r->fault->name,
			r->safe ? "safe" : "secure");
		if (r->na != NULL) {
			fprintf(f, "— | n/a | — | %s | n/a |\n", r->na);
			continue;
		}
		fprintf(f, "%s | %s | %.1f | ",
			r->ran ? pam_rc_name(r->rc) : "—", verdict_name(r),
			r->seconds);
		if (r->line[0] != '\0') {
			fputc('`', f);
			md_cell(f, r->line, 110);
			fputc('`', f);
		} else {
			fputs("(none)", f);
		}
		fputs(" | ", f);
		md_cell(f, r->ran ? r->check : "not run", 200);
		fputs(" |\n", f);
	}
	fprintf(f, "\n## Environment hygiene\n\n"
		   "| Check | What | Result |\n|---|---|---|\n");
	for (size_t i = 0; i < NELEM(hygiene); i++)
		fprintf(f, "| %s | %s | %s |\n", hygiene[i].name,
			hygiene[i].what,
			!hygiene[i].ran ? "not run"
			: hygiene[i].ok ? "ok"
					: "FAIL");
	for (size_t i = 0; i < NELEM(ctl_cases); i++)
		fprintf(f,
			"| control characters: %s | error answer at %s "
			"(%s): no control byte in syslog or to the user, "
			"lines bounded | %s |\n",
			ctl_cases[i].name, ctl_cases[i].endpoint,
			ctl_cases[i].long_units > 0
			    ? "ESC and BEL, 10 bytes a unit"
			    : "ANSI escapes, BEL, CR LF, OSC, DEL, C1 CSI, "
			      "NUL",
			!ctl_cases[i].ran ? "not run"
			: ctl_cases[i].ok ? "ok"
					  : "FAIL");
	fprintf(f,
		"\n## Provider health\n\n"
		"`provider = [\"baxverify\", \"tryvox\"]`, the default "
		"`health_retry = 60`: BaxVerify (the primary) fails as the "
		"row says, Tryvox answers. Login 1 must go through on Tryvox "
		"after the primary's failure; login 2 must make no connection "
		"to a primary that had an outage (counted where it listens; a "
		"refusing primary's port listens from login 2 on) and still "
		"ask one that only refused; login 3, with the mark made older "
		"than `health_retry` in the store, must ask the primary again "
		"and mark it down again. Counts of connections decide, never "
		"elapsed time.\n\n"
		"| Primary | Login 1 | Connections to the primary: login 1, "
		"2, 3 | Login 2 | Login 3 | Check |\n"
		"|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < NELEM(health_cases); i++) {
		const struct health_case *t = &health_cases[i];

		if (!t->ran) {
			fprintf(f, "| %s | not run | | | | not run |\n",
				t->name);
			continue;
		}
		fprintf(f, "| %s | %s | ", t->name, pam_rc_name(t->rc[0]));
		/* "—": nothing to count (a port that refused; no login 3). */
		for (int k = 0; k < 3; k++) {
			if (t->conns[k] < 0)
				fprintf(f, "—%s", k < 2 ? ", " : " | ");
			else
				fprintf(f, "%d%s", t->conns[k],
					k < 2 ? ", " : " | ");
		}
		fprintf(f, "%s | %s | ", pam_rc_name(t->rc[1]),
			t->conns[2] < 0 && !t->outage ? "—"
						      : pam_rc_name(t->rc[2]));
		md_cell(f, t->check, 200);
		fputs(" |\n", f);
	}
	if (fchmod(fileno(f), 0644) != 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		print_error("cannot write %s: %s\n", path, strerror(errno));
		(void)unlink(tmp);
		return;
	}
	print_message("fault matrix written to %s\n", path);
}

/* ------------------------------------------------------------------ */
/* Fixtures and main.                                                  */

static int
cell_setup(void **state)
{
	return harness_setup(state);
}

/* The forwarder and the variables go whatever happened; then the
   hygiene check, whose verdict the table shows too. */
static int
cell_teardown(void **state)
{
	struct row *r = *state;
	int rc;

	fwd_stop();
	unset_env_vars();
	rc = harness_teardown(state);
	if (rc != 0 && r != NULL && strcmp(r->check, "ok") == 0)
		snprintf(r->check, sizeof(r->check),
			 "SECRET LEAK (see the test log)");
	return rc;
}

static int
hyg_teardown(void **state)
{
	fwd_stop();
	unset_env_vars();
	return harness_teardown(state);
}

static int
ctl_teardown(void **state)
{
	struct ctl_case *t = *state;
	int rc = hyg_teardown(state);

	if (rc != 0)
		t->ok = false;
	return rc;
}

static int
hygiene_teardown(void **state)
{
	struct hygiene_check *h = *state;
	int rc = hyg_teardown(state);

	if (rc != 0)
		h->ok = false;
	return rc;
}

static int
env_port(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long p;

	if (v == NULL)
		return -1;
	p = strtol(v, &end, 10);
	return end != v && *end == '\0' && p > 0 && p < 65536 ? (int)p : -1;
}

static void
add_rows(void)
{
	size_t max = NELEM(steps) * NELEM(faults) * 2;

	rows = calloc(max, sizeof(*rows));
	assert_non_null(rows);
	for (size_t s = 0; s < NELEM(steps); s++) {
		for (size_t f = 0; f < NELEM(faults); f++) {
			for (int safe = 0; safe < 2; safe++) {
				struct row *r;

				if ((faults[f].modes == SECURE_ONLY && safe) ||
				    (faults[f].modes == SAFE_ONLY && !safe))
					continue;
				r = &rows[n_rows++];
				r->step = &steps[s];
				r->fault = &faults[f];
				r->safe = safe;
				snprintf(r->check, sizeof(r->check), "ok");
				if (faults[f].id == F_DNS &&
				    steps[s].after_prompt)
					r->na = "the name is resolved once, "
						"at send (libcurl's DNS cache "
						"of the one handle)";
			}
		}
	}
}

int
main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	const char *docs = getenv("BV_FAULT_MATRIX");
	const char *url = getenv("BV_MOCK_URL");
	const char *colon = url != NULL ? strrchr(url, ':') : NULL;
	struct CMUnitTest *all;
	char **names;
	size_t n = 0, max;
	double t0 = now_s();
	int failed;

	main_port = colon != NULL ? (int)strtol(colon + 1, NULL, 10) : -1;
	wronghost_port = env_port("BV_WRONGHOST_PORT");
	expired_port = env_port("BV_EXPIRED_PORT");
	selfsigned_port = env_port("BV_SELFSIGNED_PORT");
	plain_port = env_port("BV_PLAIN_PORT");
	selfsigned_pem = getenv("BV_SELFSIGNED_PEM");
	env_ca_dir = getenv("BV_ENV_CA_DIR");
	primary_url = getenv("BV_PRIMARY_URL");
	if (main_port <= 0 || wronghost_port < 0 || expired_port < 0 ||
	    selfsigned_port < 0 || plain_port < 0 || selfsigned_pem == NULL ||
	    env_ca_dir == NULL || primary_url == NULL) {
		fprintf(stderr, "BV_MOCK_URL, BV_WRONGHOST_PORT, "
				"BV_EXPIRED_PORT, BV_SELFSIGNED_PORT, "
				"BV_PLAIN_PORT, BV_SELFSIGNED_PEM, "
				"BV_ENV_CA_DIR and BV_PRIMARY_URL must be set "
				"(run-faults.sh)\n");
		return 99;
	}
	unset_env_vars();
	add_rows();
	max = n_rows + NELEM(ctl_cases) + NELEM(hygiene) + NELEM(health_cases);
	all = calloc(max, sizeof(*all));
	names = calloc(max, sizeof(*names));
	if (all == NULL || names == NULL)
		return 99;
	for (size_t i = 0; i < n_rows; i++) {
		char buf[256];

		if (rows[i].na != NULL)
			continue;
		snprintf(buf, sizeof(buf), "fault(%s, %s, %s, %s)",
			 rows[i].step->provider, rows[i].step->name,
			 rows[i].fault->name, rows[i].safe ? "safe" : "secure");
		names[n] = strdup(buf);
		all[n] = (struct CMUnitTest){names[n], test_cell, cell_setup,
					     cell_teardown, &rows[i]};
		n++;
	}
	for (size_t i = 0; i < NELEM(ctl_cases); i++) {
		names[n] = case_name("control_chars", ctl_cases[i].name, NULL);
		all[n] = (struct CMUnitTest){names[n], test_control_chars,
					     harness_setup, ctl_teardown,
					     &ctl_cases[i]};
		n++;
	}
	for (size_t i = 0; i < NELEM(health_cases); i++) {
		names[n] = case_name("health", health_cases[i].name, NULL);
		all[n] =
		    (struct CMUnitTest){names[n], test_health, harness_setup,
					health_teardown, &health_cases[i]};
		n++;
	}
	for (size_t i = 0; i < NELEM(hygiene); i++) {
		names[n] = strdup(hygiene[i].name);
		all[n] =
		    (struct CMUnitTest){names[n], test_hygiene, harness_setup,
					hygiene_teardown, &hygiene[i]};
		n++;
	}
	failed =
	    harness_run("pam_baxverify faults and environment", all, n, only);
	print_message("fault matrix and hygiene: %.1f s\n", now_s() - t0);
	if (docs != NULL && docs[0] != '\0' && only == NULL)
		write_matrix(docs);
	for (size_t i = 0; i < max; i++)
		free(names[i]);
	free(names);
	free(all);
	free(rows);
	return failed;
}
