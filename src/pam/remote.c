/*
 * remote.c - starting baxverify-helper and talking to it.
 *
 * The helper is exec'd from a descriptor whose owner and mode were
 * checked (child.c), as full root, with nothing of the caller's.  For the
 * helper's whole life SIGCHLD is arranged so that nobody but us can reap
 * it (child_signal_ready); the caller's arrangement comes back in
 * remote_stop.  We wait only for our own pid, and never signal a pid
 * someone else reaped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"
#include "remote.h"
#include "../core/child.h"
#include "../providers/catalog.h"
#include "../core/text.h"
#include "../helper/proto.h"

/* Beyond the longest timeout the helper itself applies: the store's lock
   wait and the helper's start. */
#define REMOTE_SLACK_S 10
/* How long a helper that was told to go may take to exit. */
#define REMOTE_EXIT_MS 2000
/* Without a pidfd, how often we look whether the helper exited; with
   one, how often we look for a stop (a pidfd tells only of an exit). */
#define REMOTE_POLL_MS 5
#define REMOTE_STOP_POLL_MS 50
/* Descriptors in the child are moved above this before 0-2 are set,
   whatever the caller left open or closed. */
#define CHILD_HIGH_FD 10

static long
budget_ms(const struct auth_state *st)
{
	return (provider_longest_timeout(&st->cfg) + REMOTE_SLACK_S) * 1000;
}

/* In the child: the socket on 0, /dev/null on 1 and 2, then exec. */
static void
exec_helper(int exe, int sock)
{
	char *const argv[] = {(char *)(uintptr_t) "baxverify-helper", NULL};
	int e, s, null;

	e = fcntl(exe, F_DUPFD, CHILD_HIGH_FD);
	s = fcntl(sock, F_DUPFD, CHILD_HIGH_FD);
	null = open("/dev/null", O_RDWR);
	if (null >= 0)
		null = fcntl(null, F_DUPFD, CHILD_HIGH_FD);
	if (e < 0 || s < 0 || null < 0 || dup2(s, 0) != 0 ||
	    dup2(null, 1) != 1 || dup2(null, 2) != 2)
		return;
	child_exec(e, argv);
}

/*
 * A descriptor that becomes readable the moment our child pid exits
 * (pidfd_open(2), Linux 5.3), or -1 where the kernel has none: then we
 * look every REMOTE_POLL_MS, and a login pays up to that much for
 * nothing at its end.
 */
static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd >= 0 ? (int)fd : -1;
#else
	(void)pid;
	return -1;
#endif
}

/*
 * Wait at most ms for our own child pid to exit (or, with WUNTRACED in
 * options, stop).  waitpid's answer: pid (status set), 0 when it was
 * still running at the deadline, -1 with errno.
 */
static pid_t
wait_child(pid_t pid, long ms, int options, int *status)
{
	long until = proto_now_ms() + ms, left;
	struct pollfd pfd = {.fd = open_pidfd(pid), .events = POLLIN};
	int saved;
	pid_t w;

	for (;;) {
		w = waitpid(pid, status, WNOHANG | options);
		if (w < 0 && errno == EINTR)
			continue;
		left = until - proto_now_ms();
		if (w != 0 || left <= 0)
			break;
		if (pfd.fd >= 0)
			poll(&pfd, 1,
			     (int)(left < REMOTE_STOP_POLL_MS
				       ? left
				       : REMOTE_STOP_POLL_MS));
		else
			poll(NULL, 0,
			     (int)(left < REMOTE_POLL_MS ? left
							 : REMOTE_POLL_MS));
	}
	saved = errno;
	if (pfd.fd >= 0)
		close(pfd.fd);
	errno = saved;
	return w;
}

/*
 * Why the helper went away, for the log line.  A helper whose socket
 * closed is exiting: it may take a moment to become a zombie.  One that
 * merely missed the deadline is not waited for.
 */
static void
describe_exit(struct auth_state *st, bool closed, char *out, size_t outsz)
{
	struct remote *r = &st->remote;
	int status = 0;
	pid_t w;

	out[0] = '\0';
	/* Gone already (or never started): waitpid(0 or -pid) would wait
	   for a whole process group of the host's. */
	if (r->pid <= 0)
		return;
	w = wait_child(r->pid, closed ? REMOTE_EXIT_MS : 0, WUNTRACED, &status);
	if (w < 0 && errno == ECHILD) {
		/* Reaped by someone else: its pid may be reused already. */
		snprintf(out, outsz, "; reaped by another waiter");
		r->pid = -r->pid;
		return;
	}
	if (w != r->pid)
		return;
	if (WIFSIGNALED(status))
		snprintf(out, outsz, "; killed by signal %d", WTERMSIG(status));
	else if (WIFSTOPPED(status))
		snprintf(out, outsz, "; stopped by signal %d",
			 WSTOPSIG(status));
	else if (WIFEXITED(status))
		snprintf(out, outsz, "; exited with status %d",
			 WEXITSTATUS(status));
	if (!WIFSTOPPED(status))
		r->pid = -r->pid; /* reaped: nothing left to wait for */
}

/* The helper broke: log what we know, and it is never an outage. */
static enum bv_result
helper_failed(struct auth_state *st, const char *what, const char *why)
{
	char how[64];

	describe_exit(st, strcmp(why, "no answer before the deadline") != 0,
		      how, sizeof(how));
	if (st->remote.pid > 0)
		kill(st->remote.pid, SIGKILL);
	engine_log(&st->eng, LOG_ERR, "denied: helper failed during %s: %s%s",
		   what, why, how);
	remote_stop(st);
	return BV_INTERNAL;
}

/*
 * Our child must be ours to reap.  A caller who ignores SIGCHLD (or set
 * SA_NOCLDWAIT) would have the kernel reap it before we can read how it
 * ended: then the action is the default until remote_stop.  A host's
 * handler that reaps any child (sshd's does) would take it: then
 * SIGCHLD is blocked until remote_stop, and the host gets its notice,
 * for its own children too, when the mask comes back.
 */
static bool
child_signal_ready(struct remote *r)
{
	struct sigaction now, dfl = {.sa_handler = SIG_DFL};
	sigset_t chld;

	if (sigaction(SIGCHLD, NULL, &now) != 0)
		return false;
	if (now.sa_handler == SIG_IGN || (now.sa_flags & SA_NOCLDWAIT) != 0) {
		sigemptyset(&dfl.sa_mask);
		if (sigaction(SIGCHLD, &dfl, &r->old_chld) != 0)
			return false;
		r->chld_saved = true;
		return true;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &r->old_mask) != 0)
		return false;
	r->mask_saved = true;
	return true;
}

static enum bv_result
spawn(struct auth_state *st)
{
	struct remote *r = &st->remote;
	int sv[2] = {-1, -1}, exe = -1;
	char why[128], helper[PATH_MAX];
	enum bv_result rc = BV_INTERNAL;

	if (!provider_helper_path(&st->cfg, helper, sizeof(helper)))
		snprintf(why, sizeof(why), "its directory's path is too long");
	else
		exe = child_open_trusted(helper, why, sizeof(why));
	if (exe < 0) {
		engine_log(&st->eng, LOG_ERR, "denied: helper %s refused: %s",
			   helper, why);
		return BV_CONFIG;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		engine_log(&st->eng, LOG_ERR,
			   "denied: no socket for the helper: %m");
		goto out;
	}
	if (!child_signal_ready(r)) {
		engine_log(&st->eng, LOG_ERR, "denied: cannot set SIGCHLD: %m");
		goto out;
	}
	r->pid = fork();
	if (r->pid == 0) {
		exec_helper(exe, sv[1]);
		_exit(127);
	}
	if (r->pid < 0) {
		engine_log(&st->eng, LOG_ERR,
			   "denied: cannot start the helper: %m");
		r->pid = 0;
		goto out;
	}
	r->fd = sv[0];
	sv[0] = -1;
	rc = BV_OK;
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	close(exe);
	return rc;
}

/* A LOG frame from the helper: its line, cleaned, in our log. */
static void
relay_log(struct auth_state *st, const struct proto_msg *m)
{
	char line[BV_LOG_LINE_MAX];
	long prio = LOG_ERR;

	if (!proto_get_long(m, 0, &prio) || prio < LOG_EMERG ||
	    prio > LOG_DEBUG)
		prio = LOG_ERR;
	text_sanitize(line, sizeof(line), proto_get(m, 1));
	bv_log(&st->log, (int)prio, "%s", line);
}

/* One request, relaying log lines, until its REPLY (in rep). */
static enum bv_result
call(struct auth_state *st, const char *what, const struct proto_msg *req,
     struct proto_msg *rep)
{
	long deadline = proto_now_ms() + budget_ms(st);
	const char *why = "not started";
	enum bv_result rc = BV_INTERNAL;

	if (st->remote.pid > 0)
		rc = proto_write(st->remote.fd, req, &why);
	while (rc == BV_OK) {
		rc = proto_read(st->remote.fd, deadline, rep, &why);
		if (rc != BV_OK || rep->type == PROTO_REPLY)
			break;
		if (rep->type == PROTO_LOG)
			relay_log(st, rep);
		else {
			rc = BV_INTERNAL;
			why = "unexpected message";
		}
		proto_clear(rep);
	}
	if (rc == BV_OK && rep->nfields != REPLY_FIELDS) {
		proto_clear(rep);
		rc = BV_INTERNAL;
		why = "malformed reply";
	}
	if (rc == BV_INTERNAL)
		return helper_failed(st, what, why);
	return rc;
}

/* A reply's result; anything outside the enum is a broken helper. */
static bool
reply_result(const struct proto_msg *rep, enum bv_result *rc)
{
	long v;

	if (!proto_get_long(rep, REPLY_RESULT, &v) || v < BV_OK ||
	    v > BV_INTERNAL)
		return false;
	*rc = (enum bv_result)v;
	return true;
}

static const char *
action_name(const char *s)
{
	static const char *const known[] = {"send", "verify", "validate",
					    "consume"};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(s, known[i]) == 0)
			return known[i];
	return NULL;
}

static void
read_outcome(const struct proto_msg *rep, struct bv_outcome *out)
{
	text_sanitize(out->code, sizeof(out->code), proto_get(rep, REPLY_CODE));
	text_sanitize(out->message, sizeof(out->message),
		      proto_get(rep, REPLY_MESSAGE));
	text_sanitize(out->help_url, sizeof(out->help_url),
		      proto_get(rep, REPLY_HELP_URL));
	text_sanitize(out->detail, sizeof(out->detail),
		      proto_get(rep, REPLY_DETAIL));
	if (!proto_get_long(rep, REPLY_STATUS, &out->http_status))
		out->http_status = 0;
	if (!proto_get_long(rep, REPLY_ATTEMPTS_LEFT, &out->attempts_left))
		out->attempts_left = -1;
	out->action = action_name(proto_get(rep, REPLY_ACTION));
}

/*
 * Send req and turn the REPLY into a result and outcome; on BV_OK with
 * proof, take its token.
 */
static enum bv_result
request(struct auth_state *st, const char *what, struct proto_msg *req,
	struct bv_outcome *out, struct bv_proof *proof)
{
	struct proto_msg rep = {0};
	enum bv_result rc;
	long expires = 0;

	rc = call(st, what, req, &rep);
	proto_clear(req);
	if (rc == BV_OK && !reply_result(&rep, &rc)) {
		proto_clear(&rep);
		rc = helper_failed(st, what, "result out of range");
	}
	if (rc == BV_INTERNAL) {
		/* The line above says how; the provider's line says where. */
		out->action = action_name(what);
		snprintf(out->detail, sizeof(out->detail), "the helper failed");
	}
	if (rc != BV_OK && rep.nfields == 0)
		return rc;
	read_outcome(&rep, out);
	if (rc == BV_OK && proof != NULL) {
		if (*proto_get(&rep, REPLY_TOKEN) == '\0' ||
		    !proto_get_long(&rep, REPLY_EXPIRES, &expires)) {
			proto_clear(&rep);
			return helper_failed(st, what, "success without proof");
		}
		proof->token = strdup(proto_get(&rep, REPLY_TOKEN));
		proof->expires = (time_t)expires;
		if (proof->token == NULL)
			rc = BV_NOMEM;
	}
	proto_clear(&rep);
	return rc;
}

enum bv_result
remote_start(struct auth_state *st, const char *user)
{
	struct proto_msg hello;
	struct bv_outcome out = {.attempts_left = -1};
	enum bv_result rc;
	bool ok;
	int i;

	if (st->remote.pid > 0)
		return BV_OK;
	rc = spawn(st);
	if (rc != BV_OK)
		return rc;
	proto_init(&hello, PROTO_HELLO);
	ok = proto_add(&hello, PROTO_VERSION) && proto_add(&hello, user) &&
	     proto_add(&hello, st->who) &&
	     proto_add(&hello, st->log.debug ? "1" : "0");
	for (i = 0; ok && i < st->argc; i++)
		ok = proto_add(&hello, st->argv[i]);
	if (!ok) {
		proto_clear(&hello);
		return BV_NOMEM;
	}
	rc = request(st, "start", &hello, &out, NULL);
	/* The helper read the same config we did; a refusal there is one
	   it found (a key file swapped since, say): never an outage. */
	if (rc == BV_UNAVAILABLE)
		rc = BV_INTERNAL;
	return rc;
}

static enum bv_result
port_send(void *arg, const struct bv_provider_info *p, enum bv_channel channel,
	  const char *dest, struct bv_outcome *out)
{
	struct auth_state *st = arg;
	struct proto_msg m;
	enum bv_result rc = remote_start(st, st->remote.user);

	if (rc != BV_OK)
		return rc;
	proto_init(&m, PROTO_SEND);
	if (!proto_add(&m, p->name) || !proto_add(&m, channel_name(channel)) ||
	    !proto_add(&m, dest)) {
		proto_clear(&m);
		return BV_NOMEM;
	}
	return request(st, "send", &m, out, NULL);
}

static enum bv_result
port_check(void *arg, const struct bv_provider_info *p, const char *code,
	   struct bv_proof *proof, struct bv_outcome *out)
{
	struct auth_state *st = arg;
	struct proto_msg m;
	enum bv_result rc = remote_start(st, st->remote.user);

	if (rc != BV_OK)
		return rc;
	proto_init(&m, PROTO_CHECK);
	if (!proto_add(&m, p->name) || !proto_add(&m, code)) {
		proto_clear(&m);
		return BV_NOMEM;
	}
	return request(st, "verify", &m, out, proof);
}

static enum bv_result
port_validate(void *arg, const struct bv_provider_info *p, const char *dest,
	      const char *token, bool consume, struct bv_outcome *out)
{
	struct auth_state *st = arg;
	struct proto_msg m;
	enum bv_result rc = remote_start(st, st->remote.user);

	if (rc != BV_OK)
		return rc;
	proto_init(&m, PROTO_VALIDATE);
	if (!proto_add(&m, p->name) || !proto_add(&m, dest ? dest : "") ||
	    !proto_add(&m, token) || !proto_add(&m, consume ? "1" : "0")) {
		proto_clear(&m);
		return BV_NOMEM;
	}
	return request(st, consume ? "consume" : "validate", &m, out, NULL);
}

/* A recovery code against its hash: yescrypt is the helper's work. */
static enum bv_result
port_match_hash(void *arg, const char *code, const char *hash, bool *match)
{
	struct auth_state *st = arg;
	struct bv_outcome out = {.attempts_left = -1};
	struct proto_msg m;
	enum bv_result rc = remote_start(st, st->remote.user);

	*match = false;
	if (rc != BV_OK)
		return rc;
	proto_init(&m, PROTO_MATCH);
	if (!proto_add(&m, code) || !proto_add(&m, hash)) {
		proto_clear(&m);
		return BV_NOMEM;
	}
	rc = request(st, "recovery", &m, &out, NULL);
	*match = rc == BV_OK;
	return rc == BV_WRONG_CODE ? BV_OK : rc;
}

struct bv_port
remote_port(struct auth_state *st)
{
	struct bv_port port = {
	    .send = port_send,
	    .check = port_check,
	    .validate = port_validate,
	    .match_hash = port_match_hash,
	    .arg = st,
	};

	return port;
}

/* Wait for our own child only, at most REMOTE_EXIT_MS, then kill it. */
static void
reap(struct remote *r)
{
	int status;
	pid_t w;

	/* The helper exits as soon as it reads end of file. */
	w = wait_child(r->pid, REMOTE_EXIT_MS, 0, &status);
	if (w != 0)
		return; /* reaped, or not ours to wait for any more */
	kill(r->pid, SIGKILL);
	do
		w = waitpid(r->pid, &status, 0);
	while (w < 0 && errno == EINTR);
}

void
remote_stop(struct auth_state *st)
{
	struct remote *r = &st->remote;

	if (r->pid != 0) {
		close(r->fd);
		r->fd = -1;
	}
	if (r->pid > 0)
		reap(r);
	r->pid = 0;
	if (r->chld_saved)
		sigaction(SIGCHLD, &r->old_chld, NULL);
	r->chld_saved = false;
	if (r->mask_saved)
		sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
	r->mask_saved = false;
}
