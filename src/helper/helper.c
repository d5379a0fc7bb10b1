/*
 * helper.c - baxverify-helper: every provider call of the module.
 *
 * The module (src/pam/remote.c) starts this program once per
 * authentication, as full root, with an empty environment, default
 * signals, sane limits, umask 077 and only the socket open on fd 0.  So
 * nothing the sudo or su caller set -- SSLKEYLOGFILE, proxies, CA
 * variables, LD_PRELOAD, signal dispositions, ulimits -- reaches libcurl,
 * OpenSSL or the delivery command, and the caller can neither signal,
 * ptrace nor read this process.  It reads requests (proto.h), answers
 * each with one REPLY, sends its log lines up the same socket for the
 * module to log, and exits when the module closes its end.
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "alloc.h"
#include "proto.h"
#include "../core/conf.h"
#include "../core/log.h"
#include "../core/wipe.h"
#include "../providers/catalog.h"
#include "../providers/session.h"
#include "../store/store.h"

/* The socket to the module. */
#define SOCK_FD 0
/* HELLO's fields before the module arguments. */
#define HELLO_ARGS 4
/* Kept from running for this long, and this share of a request, the
   helper's timeouts and failures say nothing about the service. */
#define STARVED_MS 500
#define STARVED_SHARE 4

struct helper {
	int fd;
	struct bv_log log;
	struct proto_msg hello; /* kept: the config points into it */
	struct bv_config cfg;
	/* The listed providers in process: one connection per
	   authentication, each one's per-login state. */
	struct provider_session session;
	bool limits_ok; /* no resource limit below ours */
};

static void
send_log(void *arg, int prio, const char *line)
{
	struct helper *h = arg;
	struct proto_msg m;
	const char *why = NULL;

	proto_init(&m, PROTO_LOG);
	if (proto_add_long(&m, prio) && proto_add(&m, line))
		(void)proto_write(h->fd, &m, &why);
	proto_clear(&m);
}

static enum bv_result
reply(struct helper *h, enum bv_result rc, const struct bv_outcome *out,
      const struct bv_proof *proof)
{
	struct proto_msg m;
	const char *why = NULL;
	bool ok;

	proto_init(&m, PROTO_REPLY);
	ok = proto_add_long(&m, rc) && proto_add_long(&m, out->http_status) &&
	     proto_add(&m, out->code) && proto_add(&m, out->message) &&
	     proto_add(&m, out->help_url) && proto_add(&m, out->detail) &&
	     proto_add(&m, out->action) &&
	     proto_add_long(&m, out->attempts_left) &&
	     proto_add(&m, proof->token) &&
	     proto_add_long(&m, (long)proof->expires);
	rc = ok ? proto_write(h->fd, &m, &why) : BV_NOMEM;
	proto_clear(&m);
	return rc;
}

/* Load the configuration the module named, as the module would. */
static enum bv_result
hello(struct helper *h)
{
	const char *args[PROTO_MAX_FIELDS];
	size_t i, n = h->hello.nfields;
	enum bv_result rc;

	if (h->hello.type != PROTO_HELLO || n < HELLO_ARGS ||
	    strcmp(proto_get(&h->hello, 0), PROTO_VERSION) != 0)
		return BV_INTERNAL;
	h->log.debug = strcmp(proto_get(&h->hello, 3), "1") == 0;
	for (i = HELLO_ARGS; i < n; i++)
		args[i - HELLO_ARGS] = h->hello.field[i];
	rc = cfg_load(&h->cfg, (int)(n - HELLO_ARGS), args, provider_catalog(),
		      &h->log);
	if (rc == BV_OK)
		rc = session_open(&h->session, &h->cfg, &h->log,
				  proto_get(&h->hello, 1),
				  proto_get(&h->hello, 2));
	return rc;
}

static enum bv_result
do_send(struct helper *h, const struct proto_msg *m, struct bv_outcome *out)
{
	enum bv_channel channel;

	out->action = "send";
	/* The channel travels by name. */
	if (!channel_parse(proto_get(m, 1), &channel))
		return BV_CONFIG;
	return session_send(&h->session, provider_info_find(proto_get(m, 0)),
			    channel, proto_get(m, 2), out);
}

static enum bv_result
do_check(struct helper *h, const struct proto_msg *m, struct bv_outcome *out,
	 struct bv_proof *proof)
{
	return session_check(&h->session, provider_info_find(proto_get(m, 0)),
			     proto_get(m, 1), proof, out);
}

static enum bv_result
do_validate(struct helper *h, const struct proto_msg *m, struct bv_outcome *out)
{
	const char *dest = proto_get(m, 1);

	/* An empty destination: any. */
	return session_validate(&h->session,
				provider_info_find(proto_get(m, 0)),
				*dest != '\0' ? dest : NULL, proto_get(m, 2),
				strcmp(proto_get(m, 3), "1") == 0, out);
}

/* A recovery code against its crypt(3) hash: OK when it matches. */
static enum bv_result
do_match(const struct proto_msg *m, struct bv_outcome *out)
{
	out->action = "recovery";
	return store_hash_matches(proto_get(m, 0), proto_get(m, 1))
		   ? BV_OK
		   : BV_WRONG_CODE;
}

/*
 * Milliseconds this process has spent runnable but not running (the
 * second field of /proc/self/schedstat), or -1.
 */
static long
waited_to_run_ms(void)
{
	char buf[128], *p = NULL;
	long long ns;
	ssize_t n;
	int fd = open("/proc/self/schedstat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	(void)strtoll(buf, &p, 10);
	if (p == NULL || *p != ' ')
		return -1;
	ns = strtoll(p + 1, &p, 10);
	return p != NULL && (*p == ' ' || *p == '\n') ? (long)(ns / 1000000)
						      : -1;
}

/* At least min (RLIM_INFINITY: unlimited) in the soft limit? */
static bool
limit_at_least(int resource, rlim_t min)
{
	struct rlimit rl;

	return getrlimit(resource, &rl) == 0 &&
	       (rl.rlim_cur == RLIM_INFINITY ||
		(min != RLIM_INFINITY && rl.rlim_cur >= min));
}

/*
 * child.c raises the limits it can; root without CAP_SYS_RESOURCE (a
 * container) keeps the caller's hard limits.  Under those, a failed
 * mapping or thread can look like a network error: then nothing is an
 * outage.
 */
static bool
limits_sane(void)
{
	return limit_at_least(RLIMIT_AS, RLIM_INFINITY) &&
	       limit_at_least(RLIMIT_DATA, RLIM_INFINITY) &&
	       limit_at_least(RLIMIT_FSIZE, RLIM_INFINITY) &&
	       limit_at_least(RLIMIT_CPU, RLIM_INFINITY) &&
	       limit_at_least(RLIMIT_STACK, 8UL * 1024 * 1024) &&
	       limit_at_least(RLIMIT_NOFILE, 256) &&
	       limit_at_least(RLIMIT_NPROC, 256);
}

/*
 * An outage is what the service did, not what this host did to us: a
 * caller's cgroup CPU quota, a scheduling class or CPU hogs that kept
 * the helper from running make a request time out too.  When it waited
 * to run for a good part of the request (or that cannot be told), the
 * failure is this host's.
 */
static enum bv_result
judge_outage(struct helper *h, long waited_before, long t0,
	     struct bv_outcome *out)
{
	long waited = waited_to_run_ms(), elapsed = proto_now_ms() - t0;

	if (!h->limits_ok) {
		bv_log(&h->log, LOG_ERR,
		       "helper: runs under resource limits "
		       "below its own: not taken for an outage (%s)",
		       out->detail);
		return BV_INTERNAL;
	}
	if (waited >= 0 && waited_before >= 0 &&
	    (waited - waited_before < STARVED_MS ||
	     (waited - waited_before) * STARVED_SHARE < elapsed))
		return BV_UNAVAILABLE;
	bv_log(&h->log, LOG_ERR,
	       "helper: kept from running for %ld of "
	       "%ld ms: not taken for an outage (%s)",
	       waited >= 0 && waited_before >= 0 ? waited - waited_before : -1,
	       elapsed, out->detail);
	return BV_INTERNAL;
}

/* One request, one REPLY. */
static enum bv_result
serve(struct helper *h, const struct proto_msg *m)
{
	struct bv_outcome out = {.attempts_left = -1, .action = ""};
	struct bv_proof proof = {0};
	unsigned long failed = alloc_failures();
	long waited = waited_to_run_ms(), t0 = proto_now_ms();
	enum bv_result rc;

	switch (m->type) {
	case PROTO_SEND:
		rc = do_send(h, m, &out);
		break;
	case PROTO_CHECK:
		rc = do_check(h, m, &out, &proof);
		break;
	case PROTO_VALIDATE:
		rc = do_validate(h, m, &out);
		break;
	case PROTO_MATCH:
		rc = do_match(m, &out);
		break;
	default:
		return BV_INTERNAL;
	}
	if (rc == BV_UNAVAILABLE)
		rc = judge_outage(h, waited, t0, &out);
	if (alloc_failures() != failed && rc != BV_NOMEM) {
		/* Whatever the library made of it, it was not an outage. */
		bv_log(&h->log, LOG_CRIT,
		       "helper: an allocation failed "
		       "during %s (%s)",
		       out.action, bv_result_name(rc));
		bv_proof_clear(&proof);
		rc = BV_NOMEM;
	}
	rc = reply(h, rc, &out, &proof);
	bv_proof_clear(&proof);
	return rc;
}

static void
finish(struct helper *h)
{
	session_close(&h->session);
	cfg_free(&h->cfg);
	proto_clear(&h->hello);
	provider_registry_done();
}

int
main(void)
{
	struct helper h = {.fd = SOCK_FD};
	struct bv_outcome none = {.attempts_left = -1, .action = ""};
	struct bv_proof no_proof = {0};
	struct proto_msg req;
	const char *why = NULL;
	enum bv_result rc;

	h.log.sink = send_log;
	h.log.sink_arg = &h;
	h.limits_ok = limits_sane();
	rc = proto_read(h.fd, -1, &h.hello, &why);
	if (rc != BV_OK)
		goto out;
	rc = hello(&h);
	if (rc == BV_OK && alloc_failures() != 0)
		rc = BV_NOMEM;
	/* The module denies on anything but BV_OK here. */
	if (reply(&h, rc, &none, &no_proof) != BV_OK || rc != BV_OK)
		goto out;
	for (;;) {
		rc = proto_read(h.fd, -1, &req, &why);
		if (rc != BV_OK)
			break; /* end of file: the module is done */
		rc = serve(&h, &req);
		proto_clear(&req);
		if (rc != BV_OK)
			break;
	}
out:
	finish(&h);
	return rc == BV_OK || rc == BV_INTERNAL ? 0 : 1;
}
