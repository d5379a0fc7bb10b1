/*
 * test_loop.c - issue 6's leak loop and allocation-failure injection.
 *
 *   test_loop loop [TOTAL [TLS]]
 *	One process runs at least TOTAL (default 1000) complete
 *	authentications through libpamtest (pam_start ... pam_end each),
 *	at least TLS (default 200) of them over HTTPS to the mock (BaxVerify,
 *	Tryvox, Mudbase, wrong then right, API faults, failover, a session
 *	that consumes the token), the rest cheaper: the local provider with
 *	file delivery, an API on a closed port, ignored users, config
 *	errors.  run-hardening.sh runs it under valgrind memcheck, which
 *	fails the run on any invalid access or definite or indirect leak.
 *	Here: every authentication gives the expected PAM code, the harness's
 *	secret-hygiene check passes after every round, the number of open
 *	file descriptors after the loop equals the number after a warm-up
 *	round, and (without BV_LOOP_NO_HEAP_CHECK, i.e. outside valgrind and
 *	ASan) the heap in use does not grow over the second half.  The mix
 *	and the timing are printed.
 *
 *   test_loop allocfail baxverify|local|nullok
 *	With alloc_fail.so preloaded: counting runs of one successful
 *	authentication of alice (armed around pam_authenticate, failing
 *	nothing), then for every N one authentication in a forked child in
 *	which the Nth allocation returns NULL.  When a successful
 *	authentication makes more than BV_ALLOC_BUDGET (default 1500)
 *	allocations, every allocation made by pam_baxverify.so itself is
 *	failed in turn and the others (libcurl, OpenSSL, libpam, libc...)
 *	are sampled every k-th.  nullok: dave (phone and email) on a nullok
 *	service, our own allocations only: a failure must never skip him.
 *	Rules: no crash (a signal, or exit() inside pam_authenticate) -- but
 *	see library_crash() for crashes inside another library after its
 *	own allocation failed, which are listed, not failed; PAM_SUCCESS
 *	only when the authentication genuinely succeeded (the mock saw the
 *	right code and the token it issued still validates; the local code
 *	typed was the one delivered); PAM_IGNORE never; anything else must
 *	be a denial or PAM_BUF_ERR; and nothing allocated by the module may
 *	be left after pam_end.  To look at one run: BV_ALLOC_N=all:N (or
 *	own:N) with BV_ALLOC_VERBOSE=1 and BV_ALLOC_BACKTRACE=1.
 *
 * Environment and services as in run-pam-tests.sh (BV_TESTDIR,
 * BV_MOCK_URL, BV_CA_FILE, BV_SYSLOG_FILE; services bv, bv_nullok,
 * bv_badarg, bv_session).
 */

#define _GNU_SOURCE /* dladdr, pipe2 */
#include "harness.h"

#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define P_VERIFY "/v1/auth/sms/verify"
#define P_VALIDATE "/v1/auth/sms/validate-token"

/* The module's own limits, high enough for a loop of sends and failures;
   the store is emptied every round all the same. */
#define LIMITS "max_sends_per_hour = 50; deny = 1000;"

/* In a conversation answer: the code the local provider last delivered. */
#define DELIVERED "@delivered"

/* The heap may grow this much over the second half of the loop (outside
   valgrind): a leak of 64 bytes per authentication over 500 would not. */
#define HEAP_SLACK (32 * 1024)

static char local_sections[8192];
static char down_url[128];
static int down_fd = -1;

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

static int
fd_count(bool show)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], target[512];
		ssize_t len;

		if (e->d_name[0] == '.' ||
		    strtol(e->d_name, NULL, 10) == dirfd(d))
			continue;
		n++;
		if (!show)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		print_message("    fd %s -> %s\n", e->d_name, target);
	}
	closedir(d);
	return n;
}

/* Remove the local store; the module makes it again when it needs it. */
static void
clear_store(void)
{
	DIR *d = opendir(store_path);
	struct dirent *e;
	char path[8192];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", store_path, e->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(store_path);
}

/*
 * The code in the last line the local provider appended to the delivery
 * file, the harness's outbox ("+14155552671: CODE 123456"), into out.
 * Plain pread(2) of the file's tail: this runs while allocations may be
 * failing.
 */
static bool
read_delivered(char *out, size_t outsz)
{
	char buf[4096], *line, *p;
	struct stat st;
	ssize_t n = -1;
	size_t i = 0;
	int fd = open(outbox_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0)
		n = pread(fd, buf, sizeof(buf) - 1,
			  st.st_size > (off_t)sizeof(buf) - 1
			      ? st.st_size - (off_t)sizeof(buf) + 1
			      : 0);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line != NULL ? line + 1 : buf;
	p = strstr(line, "CODE ");
	if (p == NULL)
		return false;
	for (p += 5; *p >= '0' && *p <= '9' && i + 1 < outsz; p++)
		out[i++] = *p;
	out[i] = '\0';
	return i > 0;
}

/* All of syslog, unabridged (cmocka's print_message cuts long text). */
static void
print_syslog(void)
{
	char *log = read_whole_file(syslog_file);

	fflush(stdout);
	fputs("  syslog:\n", stderr);
	fputs(log, stderr);
	free(log);
}

/* ------------------------------------------------------------------ */
/* A conversation that can answer with the delivered local code.       */

struct conv_state {
	const char *const *answers; /* echo-off answers; DELIVERED: the code */
	size_t next;
	bool typed_delivered; /* it answered with a delivered code */
};

static int
answer_prompt(struct conv_state *cs, struct pam_response *r)
{
	const char *a = cs->answers[cs->next];
	char code[16];

	if (a == NULL)
		a = "";
	else
		cs->next++;
	if (strcmp(a, DELIVERED) == 0) {
		if (!read_delivered(code, sizeof(code)))
			return PAM_CONV_ERR;
		a = code;
		cs->typed_delivered = true;
	}
	r->resp = strdup(a);
	return r->resp != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
}

static int
conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
	void *data)
{
	struct conv_state *cs = data;
	struct pam_response *r;
	int rc = PAM_SUCCESS;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n && rc == PAM_SUCCESS; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			rc = answer_prompt(cs, &r[i]);
		else if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			rc = PAM_CONV_ERR; /* no channel menu here */
	}
	if (rc != PAM_SUCCESS) {
		for (int i = 0; i < n; i++)
			free(r[i].resp);
		free(r);
		return rc;
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* The configurations.                                                 */

static void
conf_bax(const char *url)
{
	struct conf c = {.api_url = url, .limits = LIMITS};

	write_conf(&c);
}

static void
conf_local(void)
{
	struct conf c = {.provider = "\"local\"",
			 .sections = local_sections,
			 .limits = LIMITS};

	/* The outbox keeps growing over a round: the harness's teardown
	   takes every code in it as a secret for its hygiene check. */
	write_conf(&c);
}

/* ------------------------------------------------------------------ */
/* The loop's scenarios: one authentication each, its result asserted. */

static void
expect(const char *service, const char *user, const char *const *codes,
       int want)
{
	assert_rc(run_auth(service, user, codes, NULL), want);
}

static void
sc_bax_ok(void)
{
	conf_bax(NULL);
	expect("bv", "alice", ANSWERS(CODE), PAM_SUCCESS);
}

static void
sc_bax_wrong_right(void)
{
	conf_bax(NULL);
	expect("bv", "alice", ANSWERS(WRONG, CODE), PAM_SUCCESS);
}

/* Authentication, then the session that consumes the token. */
static void
sc_bax_session(void)
{
	struct pam_run r = {.service = "bv_session",
			    .user = "alice",
			    .codes = ANSWERS(CODE),
			    .session = true};

	conf_bax(NULL);
	run_pam(&r);
	pamtest_free_env(r.env);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_rc(r.session_rc, PAM_SUCCESS);
}

static void
sc_bax_send_refused(void)
{
	conf_bax(NULL);
	mock_fault("{\"endpoint\": \"send\", \"kind\": \"error\", \"code\": "
		   "\"BAXVERIFY_INSUFFICIENT_CREDITS\", \"count\": 1}");
	expect("bv", "alice", ANSWERS(CODE), PAM_AUTH_ERR);
}

static void
sc_bax_verify_500(void)
{
	conf_bax(NULL);
	mock_fault("{\"endpoint\": \"verify\", \"kind\": \"http500\", "
		   "\"count\": 1}");
	expect("bv", "alice", ANSWERS(CODE), PAM_AUTHINFO_UNAVAIL);
}

static void
sc_bax_validate_malformed(void)
{
	conf_bax(NULL);
	mock_fault("{\"endpoint\": \"validate-token\", \"kind\": "
		   "\"malformed\", \"count\": 1}");
	expect("bv", "alice", ANSWERS(CODE), PAM_AUTHINFO_UNAVAIL);
}

static void
sc_tryvox_ok(void)
{
	struct conf c = {
	    .provider = "\"tryvox\"", .tryvox = "", .limits = LIMITS};

	write_conf(&c);
	expect("bv", "alice", ANSWERS(CODE), PAM_SUCCESS);
}

static void
sc_mudbase_ok(void)
{
	struct conf c = {
	    .provider = "\"mudbase\"", .mudbase = "", .limits = LIMITS};

	write_conf(&c);
	expect("bv", "alice", ANSWERS(WRONG, CODE), PAM_SUCCESS);
}

/* BaxVerify refuses the send for the account: Tryvox takes over. */
static void
sc_failover_refused(void)
{
	struct conf c = {.provider = "[\"baxverify\", \"tryvox\"]",
			 .tryvox = "",
			 .limits = LIMITS};

	write_conf(&c);
	mock_fault("{\"endpoint\": \"send\", \"kind\": \"error\", \"code\": "
		   "\"BAXVERIFY_INSUFFICIENT_CREDITS\", \"count\": 1}");
	expect("bv", "alice", ANSWERS(CODE), PAM_SUCCESS);
}

/* BaxVerify unreachable (a closed port), Mudbase takes over. */
static void
sc_failover_down(void)
{
	struct conf c = {.provider = "[\"baxverify\", \"mudbase\"]",
			 .api_url = down_url,
			 .mudbase = "",
			 .limits = LIMITS};

	write_conf(&c);
	expect("bv", "alice", ANSWERS(CODE), PAM_SUCCESS);
}

/* The cheap ones: no TLS. */
static void
sc_api_down(void)
{
	conf_bax(down_url);
	expect("bv", "alice", ANSWERS(CODE), PAM_AUTHINFO_UNAVAIL);
}

static void
local_auth(const char *const *answers, int want)
{
	struct conv_state cs = {.answers = answers};
	struct pam_testcase tests[] = {
	    pam_test(PAMTEST_AUTHENTICATE, want),
	};
	enum pamtest_err perr;

	conf_local();
	perr = _pamtest_conv("bv", "alice", conv_fn, &cs, tests, 1, NULL);
	if (tests[0].op_rv != want)
		print_syslog();
	assert_rc(tests[0].op_rv, want);
	assert_int_equal(perr, PAMTEST_ERR_OK);
	assert_true(cs.typed_delivered);
}

static void
sc_local_ok(void)
{
	local_auth(ANSWERS(DELIVERED), PAM_SUCCESS);
}

static void
sc_local_wrong_right(void)
{
	local_auth(ANSWERS(WRONG, DELIVERED), PAM_SUCCESS);
}

static void
sc_ignored_group(void)
{
	struct conf c = {.groups = "[\"nosuchgroup-xyz\"]", .limits = LIMITS};

	write_conf(&c);
	expect("bv", "root", ANSWERS(CODE), PAM_IGNORE);
}

static void
sc_nullok(void)
{
	conf_bax(NULL);
	expect("bv_nullok", "bob", ANSWERS(CODE), PAM_IGNORE);
}

static void
sc_no_phone(void)
{
	conf_bax(NULL);
	expect("bv", "bob", ANSWERS(CODE), PAM_AUTH_ERR);
}

static void
sc_bad_argument(void)
{
	conf_bax(NULL);
	expect("bv_badarg", "alice", ANSWERS(CODE), PAM_SERVICE_ERR);
}

static void
sc_bad_conf(void)
{
	struct conf c = {.extra = "frobnicate = 1;", .limits = LIMITS};

	write_conf(&c);
	expect("bv", "alice", ANSWERS(CODE), PAM_SERVICE_ERR);
}

/*
 * TLS: speaks HTTPS to the mock.  LOCAL: the local provider, its store
 * record and delivery file (its codes were once yescrypt hashes, about
 * 2 s under valgrind).  Both run once a round; the cheap ones make up the
 * rest of the thousand.
 */
enum kind { TLS, LOCAL, CHEAP };

struct scenario {
	const char *name;
	enum kind kind;
	void (*run)(void);
	long count;
	double secs;
};

static struct scenario scenarios[] = {
    {"baxverify ok", TLS, sc_bax_ok, 0, 0},
    {"baxverify wrong then right", TLS, sc_bax_wrong_right, 0, 0},
    {"baxverify auth + session", TLS, sc_bax_session, 0, 0},
    {"baxverify send refused (fault)", TLS, sc_bax_send_refused, 0, 0},
    {"baxverify verify HTTP 500 (fault)", TLS, sc_bax_verify_500, 0, 0},
    {"baxverify validate malformed (fault)", TLS, sc_bax_validate_malformed, 0,
     0},
    {"tryvox ok", TLS, sc_tryvox_ok, 0, 0},
    {"mudbase wrong then right", TLS, sc_mudbase_ok, 0, 0},
    {"failover baxverify refused -> tryvox", TLS, sc_failover_refused, 0, 0},
    {"failover baxverify down -> mudbase", TLS, sc_failover_down, 0, 0},
    {"local ok (file delivery)", LOCAL, sc_local_ok, 0, 0},
    {"local wrong then right", LOCAL, sc_local_wrong_right, 0, 0},
    {"API down (closed port)", CHEAP, sc_api_down, 0, 0},
    {"ignored: not in groups", CHEAP, sc_ignored_group, 0, 0},
    {"ignored: no phone, nullok", CHEAP, sc_nullok, 0, 0},
    {"denied: no phone", CHEAP, sc_no_phone, 0, 0},
    {"config error: bad argument", CHEAP, sc_bad_argument, 0, 0},
    {"config error: unknown key", CHEAP, sc_bad_conf, 0, 0},
};

/*
 * Every scenario once, the cheap ones cheap_rep times; then the harness's
 * teardown (the secret-hygiene check over the round's syslog, messages,
 * environments and mock requests) and a fresh setup (mock, store and
 * syslog reset; its per-case records freed) for the next round.
 */
static long
run_round(long cheap_rep, long *tls)
{
	long n = 0;

	for (size_t i = 0; i < NELEM(scenarios); i++) {
		struct scenario *s = &scenarios[i];
		long reps = s->kind == CHEAP ? cheap_rep : 1;

		for (long k = 0; k < reps; k++) {
			double t0 = now_s();

			/* Under the module's send limit, records kept
			   across a few runs all the same. */
			if (n % 10 == 9)
				clear_store();

			s->run();
			s->secs += now_s() - t0;
			s->count++;
			n++;
			if (s->kind == TLS)
				(*tls)++;
		}
	}
	if (harness_teardown(NULL) != 0)
		fail_msg("secret-hygiene check failed");
	harness_setup(NULL);
	return n;
}

static void
loop_setup(void)
{
	snprintf(local_sections, sizeof(local_sections),
		 "local = {\n  delivery = \"file\";\n  file = \"%s\";\n"
		 "  message = \"CODE %%c\";\n};",
		 outbox_path);
	if (down_fd < 0) {
		int port;

		down_fd = closed_port(&port);
		snprintf(down_url, sizeof(down_url), "https://127.0.0.1:%d/v1",
			 port);
	}
}

static long arg_total = 1000;
static long arg_tls = 200;

/*
 * The crash handlers from before cmocka put in its own: ASan's (which
 * prints where), or the default (valgrind reports the crash itself).
 * cmocka's would only say "Segmentation fault".
 */
static const int crash_sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
static struct sigaction pre_cmocka[NELEM(crash_sigs)];

static void
save_crash_handlers(void)
{
	for (size_t i = 0; i < NELEM(crash_sigs); i++)
		(void)sigaction(crash_sigs[i], NULL, &pre_cmocka[i]);
}

static void
restore_crash_handlers(void)
{
	for (size_t i = 0; i < NELEM(crash_sigs); i++)
		(void)sigaction(crash_sigs[i], &pre_cmocka[i], NULL);
}

static void
test_loop(void **state)
{
	long n_tls = 0, n_cheap = 0, n_once;
	long rounds, cheap_rep, total = 0, tls = 0;
	int fds_before, fds_after;
	size_t heap_before, heap_mid = 0, heap_after;
	long round = 0;
	bool heap_check = getenv("BV_LOOP_NO_HEAP_CHECK") == NULL;
	double t0, t1;

	(void)state;
	restore_crash_handlers();
	/* The mock's send limits are run-hardening.sh's (--send-limit...). */
	loop_setup();
	for (size_t i = 0; i < NELEM(scenarios); i++) {
		if (scenarios[i].kind == TLS)
			n_tls++;
		else if (scenarios[i].kind == CHEAP)
			n_cheap++;
	}
	n_once = (long)NELEM(scenarios) - n_cheap;
	rounds = (arg_tls + n_tls - 1) / n_tls;
	if (rounds < 1)
		rounds = 1;
	cheap_rep = (arg_total - rounds * n_once + rounds * n_cheap - 1) /
		    (rounds * n_cheap);
	if (cheap_rep < 1)
		cheap_rep = 1;

	/* Warm-up: every path once, so lazily made state exists. */
	t0 = now_s();
	total += run_round(1, &tls);
	fds_before = fd_count(false);
	heap_before = mallinfo2().uordblks;
	t1 = now_s();
	while (total < arg_total || tls < arg_tls) {
		total += run_round(cheap_rep, &tls);
		/* Caches (libc's, OpenSSL's) settle over the first rounds:
		   the heap is compared from the middle on. */
		if (++round == rounds / 2)
			heap_mid = mallinfo2().uordblks;
	}
	fds_after = fd_count(false);
	heap_after = mallinfo2().uordblks;

	print_message("loop: %ld authentications (%ld over TLS) in %.1f s "
		      "(warm-up round included); %ld per cheap scenario and "
		      "round\n",
		      total, tls, now_s() - t0, cheap_rep);
	for (size_t i = 0; i < NELEM(scenarios); i++)
		print_message("  %5ld x %-40s %s %7.1f ms each\n",
			      scenarios[i].count, scenarios[i].name,
			      scenarios[i].kind == TLS	   ? "TLS  "
			      : scenarios[i].kind == LOCAL ? "local"
							   : "cheap",
			      1000.0 * scenarios[i].secs /
				  (double)scenarios[i].count);
	print_message("loop: open fds after the warm-up %d, at the end %d\n",
		      fds_before, fds_after);
	if (fds_before != fds_after) {
		print_error("file descriptors leaked over %.0f s of loop:\n",
			    now_s() - t1);
		(void)fd_count(true);
		fail();
	}
	if (heap_check) {
		long grown = (long)heap_after - (long)heap_mid;

		if (heap_mid == 0)
			heap_mid = heap_before;
		print_message("loop: heap in use after the warm-up %zu, "
			      "half-way %zu, at the end %zu (%+ld bytes in "
			      "the second half)\n",
			      heap_before, heap_mid, heap_after, grown);
		assert_true(grown < HEAP_SLACK);
	}
	assert_true(total >= arg_total);
	assert_true(tls >= arg_tls);
}

/* ------------------------------------------------------------------ */
/* Allocation-failure injection.                                       */

/* As in alloc_fail.c. */
struct bv_alloc_stats {
	long all;
	long own;
	int fired;
	int fired_own;
	uintptr_t fired_offset;
	uintptr_t fired_caller;
	bool module_found;
};

static void (*af_arm)(int own_only, long fail_at);
static void (*af_disarm)(void);
static void (*af_stats)(struct bv_alloc_stats *out);
static size_t (*af_live)(unsigned long *offsets, size_t max);

#define MAX_LIVE 8
#define CRASH_EXIT (-1)

/* What a child reports through its pipe. */
struct child_result {
	int start_rc;
	int auth_rc;
	struct bv_alloc_stats st;
	size_t n_live;
	unsigned long live[MAX_LIVE];
	bool typed_delivered;
	char fired_lib[64];		/* the library of the failed call */
	unsigned long fired_lib_offset; /* and the call's offset in it */
	char provider[32];		/* BAXVERIFY_PROVIDER */
	char token[1024];		/* BAXVERIFY_TOKEN */
	/* From the crash handler: the signal (CRASH_EXIT: a library called
	   exit()), and where (the first frame outside libc and the shim:
	   abort() and free()'s checks are libc's, the culprit is their
	   caller). */
	int crash_sig;
	char crash_lib[64];
	unsigned long crash_offset;
};

static bool allocfail_local;
/* nullok: dave (phone and email) on bv_nullok, our allocations only. */
static bool allocfail_nullok;

/* The child's report, and its pipe: the crash handler sends it too. */
static struct child_result child_res;
static int child_fd = -1;

/* The file name (no directory) of the object holding addr, and the
   offset of addr in it. */
static void
object_of(uintptr_t addr, char *out, size_t outsz, unsigned long *offset)
{
	Dl_info info;
	const char *b;

	if (dladdr((void *)addr, &info) == 0 || info.dli_fname == NULL) {
		snprintf(out, outsz, "?");
		return;
	}
	b = strrchr(info.dli_fname, '/');
	snprintf(out, outsz, "%s", b != NULL ? b + 1 : info.dli_fname);
	if (offset != NULL)
		*offset = (unsigned long)(addr - (uintptr_t)info.dli_fbase);
}

/* Where a crash happened: the first frame from first on that is not in
   libc or the shim. */
static void
crash_site(int first)
{
	void *frames[64];
	int n = backtrace(frames, 64);

	af_disarm();
	af_stats(&child_res.st);
	if (child_res.st.fired)
		object_of(child_res.st.fired_caller, child_res.fired_lib,
			  sizeof(child_res.fired_lib),
			  &child_res.fired_lib_offset);
	for (int i = first; i < n; i++) {
		object_of((uintptr_t)frames[i], child_res.crash_lib,
			  sizeof(child_res.crash_lib), &child_res.crash_offset);
		if (strcmp(child_res.crash_lib, "libc.so.6") != 0 &&
		    strcmp(child_res.crash_lib, "alloc_fail.so") != 0)
			break;
	}
	if (getenv("BV_ALLOC_BACKTRACE") != NULL)
		backtrace_symbols_fd(frames, n, STDERR_FILENO);
	if (write(child_fd, &child_res, sizeof(child_res)) < 0) {
		/* the parent reports the death all the same */
	}
}

/* Set while pam_authenticate runs in the child. */
static volatile bool in_auth;

/* A library that calls exit() (libconfig's scanner does, on ENOMEM)
   ends sshd as surely as a crash. */
static void
exit_handler(void)
{
	if (!in_auth)
		return;
	in_auth = false;
	child_res.crash_sig = CRASH_EXIT;
	/* Frames: crash_site, here, libc's exit machinery, the caller. */
	crash_site(2);
}

/* In a crashing child: report where (and with BV_ALLOC_BACKTRACE print
   the backtrace), then die of the signal.  A test process: dladdr and
   snprintf here are not async-signal-safe, and need not be. */
static void
crash_handler(int sig)
{
	in_auth = false;
	child_res.crash_sig = sig;
	/* Frames: crash_site, here, the trampoline (libc), the site. */
	crash_site(2);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* In the child: one authentication, armed as asked. */
static void
child_auth(int out_fd, int own_only, long fail_at)
{
	static const int sigs[] = {SIGSEGV, SIGBUS,  SIGILL,
				   SIGFPE,  SIGABRT, SIGSYS};
	struct child_result *res = &child_res;
	struct conv_state cs = {
	    .answers = allocfail_local ? ANSWERS(DELIVERED) : ANSWERS(CODE),
	};
	struct pam_conv conv = {conv_fn, &cs};
	pam_handle_t *ph = NULL;
	void *frames[1];
	const char *v;

	/* cmocka catches these; here they report and kill the child.  One
	   backtrace() first: it loads libgcc_s, not to be done in the
	   handler. */
	child_fd = out_fd;
	(void)backtrace(frames, 1);
	for (size_t i = 0; i < NELEM(sigs); i++)
		signal(sigs[i], crash_handler);
	atexit(exit_handler);
	alarm(60);
	memset(res, 0, sizeof(*res));
	res->auth_rc = -1;
	res->start_rc =
	    pam_start(allocfail_nullok ? "bv_nullok" : "bv",
		      allocfail_nullok ? "dave" : "alice", &conv, &ph);
	if (res->start_rc == PAM_SUCCESS) {
		in_auth = true;
		af_arm(own_only, fail_at);
		res->auth_rc = pam_authenticate(ph, 0);
		af_disarm();
		in_auth = false;
		af_stats(&res->st);
		if (res->st.fired)
			object_of(res->st.fired_caller, res->fired_lib,
				  sizeof(res->fired_lib),
				  &res->fired_lib_offset);
		v = pam_getenv(ph, "BAXVERIFY_TOKEN");
		snprintf(res->token, sizeof(res->token), "%s", v ? v : "");
		v = pam_getenv(ph, "BAXVERIFY_PROVIDER");
		snprintf(res->provider, sizeof(res->provider), "%s",
			 v ? v : "");
		(void)pam_end(ph, res->auth_rc);
	}
	res->n_live = af_live(res->live, MAX_LIVE);
	res->typed_delivered = cs.typed_delivered;
	if (write(out_fd, res, sizeof(*res)) != (ssize_t)sizeof(*res))
		_exit(3);
	/* No atexit handlers, no stdio flush: the parent owns those. */
	_exit(0);
}

/* Fresh state for every run, so each run makes the same allocations. */
static void
before_run(void)
{
	clear_store();
	write_file(syslog_file, "", 0600);
	if (allocfail_local) {
		write_file(outbox_path, "", 0600);
	} else {
		mock_post("/_mock/reset", "{}");
		mock_config("{\"force_code\": \"" CODE "\"}");
	}
}

/*
 * One run in a child.  Returns 1 with the child's report, 0 when it
 * crashed and its handler reported (res->crash_sig), -1 when there is no
 * report (status says why).
 */
static int
run_child(int own_only, long fail_at, struct child_result *res, int *status)
{
	int p[2];
	pid_t pid;
	ssize_t got = 0, r;
	bool full;

	before_run();
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_auth(p[1], own_only, fail_at);
	}
	close(p[1]);
	while ((size_t)got < sizeof(*res)) {
		r = read(p[0], (char *)res + got, sizeof(*res) - (size_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	close(p[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	full = (size_t)got == sizeof(*res);
	if (full && res->crash_sig == 0 && WIFEXITED(*status) &&
	    WEXITSTATUS(*status) == 0)
		return 1;
	if (full && res->crash_sig != 0)
		return 0;
	return -1;
}

/* The mock saw the right code, and the token it issued (the one the
   module exported) was validated and still validates. */
static bool
bax_genuine(const struct child_result *res)
{
	cJSON *verify = mock_request_body(P_VERIFY, 0);
	cJSON *validate = mock_request_body(P_VALIDATE, 0);
	struct sbuf sb = {NULL, 0, 0};
	struct http_reply r;
	bool ok;

	ok = json_str(verify, "code") != NULL &&
	     strcmp(json_str(verify, "code"), CODE) == 0 &&
	     json_str(validate, "token") != NULL &&
	     strcmp(json_str(validate, "token"), res->token) == 0 &&
	     strcmp(res->provider, "baxverify") == 0;
	cJSON_Delete(verify);
	cJSON_Delete(validate);
	if (!ok)
		return false;
	sb_printf(&sb, "{\"token\": \"%s\", \"consume\": false}", res->token);
	r = mock_http(P_VALIDATE, sb.s, true);
	ok = r.status == 200 && strstr(r.body, "\"valid\":true") != NULL;
	free(r.body);
	free(sb.s);
	return ok;
}

static bool
local_genuine(const struct child_result *res)
{
	return res->typed_delivered && strlen(res->token) == 64 &&
	       strcmp(res->provider, "local") == 0;
}

static bool
is_denial(int rc)
{
	switch (rc) {
	case PAM_BUF_ERR:
	case PAM_AUTH_ERR:
	case PAM_AUTHINFO_UNAVAIL:
	case PAM_SERVICE_ERR:
	case PAM_SYSTEM_ERR:
	case PAM_CONV_ERR:
	case PAM_MAXTRIES:
	case PAM_PERM_DENIED:
	case PAM_ABORT:
	case PAM_USER_UNKNOWN:
	case PAM_CRED_INSUFFICIENT:
		return true;
	default:
		return false;
	}
}

/* Results, by kind. */
struct tally {
	long runs, not_reached, genuine, failures;
	long by_rc[64];
	long genuine_own; /* genuine successes whose failed call was ours */
	char genuine_libs[512];
	/* Crashes inside a library after its own allocation failed. */
	long lib_crashes;
	struct {
		char lib[64];
		long count;
		long first_n;
		unsigned long offset;
		int sig;
	} crash_sites[8];
};

static void
note_lib(struct tally *t, const char *lib)
{
	size_t len = strlen(t->genuine_libs);

	if (strstr(t->genuine_libs, lib) != NULL)
		return;
	snprintf(t->genuine_libs + len, sizeof(t->genuine_libs) - len, "%s%s",
		 len > 0 ? ", " : "", lib);
}

/* Judge one run; false (with a message) when it broke a rule. */
static bool
judge(struct tally *t, int own_only, long n, const struct child_result *res)
{
	const char *mode = own_only ? "own" : "all";
	int rc = res->auth_rc == IGNORE_MARKER ? PAM_IGNORE : res->auth_rc;
	bool ok = true;

	t->runs++;
	if (getenv("BV_ALLOC_VERBOSE") != NULL)
		print_message("  %s N=%ld: %s, failed call in %s+%#lx\n", mode,
			      n, pam_rc_name(rc),
			      res->st.fired ? res->fired_lib : "(none)",
			      res->fired_lib_offset);
	if (res->start_rc != PAM_SUCCESS) {
		print_error("%s N=%ld: pam_start failed: %d\n", mode, n,
			    res->start_rc);
		return false;
	}
	if (rc >= 0 && rc < (int)NELEM(t->by_rc))
		t->by_rc[rc]++;
	if (!res->st.module_found) {
		print_error("%s N=%ld: pam_baxverify.so was not loaded when "
			    "the shim was armed\n",
			    mode, n);
		ok = false;
	}
	if (!res->st.fired) {
		t->not_reached++;
		if (rc != PAM_SUCCESS) {
			print_error("%s N=%ld: nothing failed, yet %s\n", mode,
				    n, pam_rc_name(rc));
			ok = false;
		}
	} else if (rc == PAM_SUCCESS) {
		bool genuine =
		    allocfail_local ? local_genuine(res) : bax_genuine(res);

		if (genuine) {
			t->genuine++;
			if (res->st.fired_own) {
				t->genuine_own++;
				print_message(
				    "  note: %s N=%ld: our "
				    "allocation at pam_baxverify.so"
				    "+%#lx failed, and the "
				    "authentication still "
				    "succeeded genuinely\n",
				    mode, n,
				    (unsigned long)res->st.fired_offset);
			}
			note_lib(t, res->fired_lib[0] ? res->fired_lib : "?");
		} else {
			print_error("%s N=%ld: PAM_SUCCESS after a failed "
				    "allocation in %s (+%#lx) that is not a "
				    "genuine success\n",
				    mode, n, res->fired_lib,
				    (unsigned long)res->st.fired_offset);
			ok = false;
		}
	} else if (!is_denial(rc)) {
		print_error("%s N=%ld: failed allocation in %s (+%#lx) gave "
			    "%s (%d): neither a denial nor PAM_BUF_ERR\n",
			    mode, n, res->fired_lib,
			    (unsigned long)res->st.fired_offset,
			    pam_rc_name(rc), rc);
		ok = false;
	}
	if (res->n_live > 0) {
		print_error("%s N=%ld (failed call in %s, result %s): %zu "
			    "allocation(s) by pam_baxverify.so still live "
			    "after pam_end, made at:",
			    mode, n, res->fired_lib, pam_rc_name(rc),
			    res->n_live);
		for (size_t i = 0; i < res->n_live && i < MAX_LIVE; i++)
			print_error(" +%#lx", res->live[i]);
		print_error("\n");
		ok = false;
	}
	if (!ok)
		t->failures++;
	return ok;
}

/*
 * A crash inside another library (libconfig, libpam...) right after an
 * allocation of that same library (or of libc on its behalf) failed is
 * that library's own failure to survive it: listed, and fatal only with
 * BV_ALLOC_STRICT set.  A crash in our code, or in a library after our
 * allocation failed (we handed it something broken), is always fatal.
 */
static bool
library_crash(const struct child_result *res)
{
	const char *site = res->crash_lib, *fired = res->fired_lib;

	if (!res->st.fired || getenv("BV_ALLOC_STRICT") != NULL)
		return false;
	if (strcmp(site, "pam_baxverify.so") == 0 ||
	    strcmp(site, "test_loop") == 0 || strcmp(site, "?") == 0 ||
	    res->st.fired_own)
		return false;
	return strcmp(site, fired) == 0 || strcmp(fired, "libc.so.6") == 0;
}

static const char *
crash_name(int sig)
{
	return sig == CRASH_EXIT ? "exit() called" : strsignal(sig);
}

static void
note_crash(struct tally *t, long n, const struct child_result *res)
{
	size_t i;

	t->lib_crashes++;
	for (i = 0; i < NELEM(t->crash_sites); i++) {
		if (t->crash_sites[i].count == 0) {
			snprintf(t->crash_sites[i].lib,
				 sizeof(t->crash_sites[i].lib), "%s",
				 res->crash_lib);
			t->crash_sites[i].first_n = n;
			t->crash_sites[i].offset = res->crash_offset;
			t->crash_sites[i].sig = res->crash_sig;
		}
		if (strcmp(t->crash_sites[i].lib, res->crash_lib) == 0 &&
		    t->crash_sites[i].sig == res->crash_sig) {
			t->crash_sites[i].count++;
			return;
		}
	}
}

static void
run_one(struct tally *t, int own_only, long n)
{
	const char *mode = own_only ? "own" : "all";
	struct child_result res;
	int status = 0;
	int got = run_child(own_only, n, &res, &status);

	if (got == 1) {
		(void)judge(t, own_only, n, &res);
		return;
	}
	t->runs++;
	if (got == 0 && library_crash(&res)) {
		note_crash(t, n, &res);
		return;
	}
	t->failures++;
	if (got == 0)
		print_error("%s N=%ld: CRASH: %s in %s+%#lx, after a failed "
			    "allocation in %s+%#lx (rerun with "
			    "BV_ALLOC_BACKTRACE=1 for the backtrace)\n",
			    mode, n, crash_name(res.crash_sig), res.crash_lib,
			    res.crash_offset,
			    res.st.fired ? res.fired_lib : "(none)",
			    res.fired_lib_offset);
	else if (WIFSIGNALED(status))
		print_error("%s N=%ld: CRASH: the child died of signal %d "
			    "(%s)\n",
			    mode, n, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
	else
		print_error("%s N=%ld: the child exited %d without a "
			    "report\n",
			    mode, n, WEXITSTATUS(status));
}

static void
print_tally(const char *what, const struct tally *t)
{
	print_message("allocfail %s: %ld runs: %ld with nothing left to "
		      "fail, %ld genuine successes despite a failed "
		      "allocation (%ld of them ours; in: %s), %ld broke a "
		      "rule\n",
		      what, t->runs, t->not_reached, t->genuine, t->genuine_own,
		      t->genuine_libs[0] ? t->genuine_libs : "-", t->failures);
	for (size_t i = 0; i < NELEM(t->crash_sites); i++) {
		if (t->crash_sites[i].count > 0)
			print_message(
			    "  %ld crash(es) inside %s after its own "
			    "allocation failed, the first at N=%ld "
			    "(%s at %s+%#lx): not our code\n",
			    t->crash_sites[i].count, t->crash_sites[i].lib,
			    t->crash_sites[i].first_n,
			    crash_name(t->crash_sites[i].sig),
			    t->crash_sites[i].lib, t->crash_sites[i].offset);
	}
	print_message("  results:");
	for (size_t rc = 0; rc < NELEM(t->by_rc); rc++) {
		if (t->by_rc[rc] > 0)
			print_message(" %s=%ld",
				      rc == PAM_IGNORE ? "PAM_IGNORE"
						       : pam_rc_name((int)rc),
				      t->by_rc[rc]);
	}
	print_message("\n");
}

static void
test_allocfail(void **state)
{
	const char *what = allocfail_local    ? "local"
			   : allocfail_nullok ? "nullok"
					      : "baxverify";
	const char *env = getenv("BV_ALLOC_BUDGET");
	const char *only = getenv("BV_ALLOC_N");
	long budget = env != NULL ? strtol(env, NULL, 10) : 1500;
	struct tally t_all, t_own;
	struct child_result res;
	long all = 0, own = 0, stride = 1;
	int status;
	double t0 = now_s();

	(void)state;
	/* The nullok case is about our own code failing open. */
	if (allocfail_nullok)
		budget = 0;
	memset(&t_all, 0, sizeof(t_all));
	memset(&t_own, 0, sizeof(t_own));
	af_arm = (void (*)(int, long))dlsym(RTLD_DEFAULT, "bv_alloc_fail_arm");
	af_disarm = (void (*)(void))dlsym(RTLD_DEFAULT, "bv_alloc_fail_disarm");
	af_stats = (void (*)(struct bv_alloc_stats *))dlsym(
	    RTLD_DEFAULT, "bv_alloc_fail_stats");
	af_live = (size_t(*)(unsigned long *, size_t))dlsym(
	    RTLD_DEFAULT, "bv_alloc_fail_live");
	if (af_arm == NULL || af_disarm == NULL || af_stats == NULL ||
	    af_live == NULL) {
		print_error("alloc_fail.so is not preloaded\n");
		fail();
	}
	loop_setup();
	if (allocfail_local)
		conf_local();
	else
		conf_bax(NULL);

	/* Counting runs: nothing fails; take the largest count. */
	for (int i = 0; i < 3; i++) {
		if (run_child(0, 0, &res, &status) != 1 ||
		    !judge(&t_all, 0, 0, &res))
			fail_msg("the counting run of %s failed", what);
		if (res.auth_rc != PAM_SUCCESS)
			fail_msg("the counting run of %s gave %s", what,
				 pam_rc_name(res.auth_rc));
		print_message("allocfail %s: counting run %d: %ld "
			      "allocations, %ld by pam_baxverify.so\n",
			      what, i + 1, res.st.all, res.st.own);
		all = res.st.all > all ? res.st.all : all;
		own = res.st.own > own ? res.st.own : own;
	}
	memset(&t_all, 0, sizeof(t_all));
	/* BV_ALLOC_N="all:N" or "own:N": that run alone, to reproduce one
	   (with BV_ALLOC_BACKTRACE=1 and BV_ALLOC_VERBOSE=1). */
	if (only != NULL) {
		bool o = strncmp(only, "own:", 4) == 0;

		run_one(o ? &t_own : &t_all, o, strtol(only + 4, NULL, 10));
		print_tally(only, o ? &t_own : &t_all);
		if (t_all.failures + t_own.failures > 0)
			fail();
		return;
	}
	/*
	 * Every N up to one past the count (that last run must see nothing
	 * fail) when that fits the budget; otherwise every N of our own
	 * allocations and every stride-th of all.  nullok: our own only.
	 */
	if (allocfail_nullok || all + 1 > budget) {
		long left = budget - (own + 1);

		for (long n = 1; n <= own + 1; n++)
			run_one(&t_own, 1, n);
		stride = left > 0 ? (all + left - 1) / left : 0;
	}
	for (long n = 1; stride > 0 && n <= all + 1; n += stride)
		run_one(&t_all, 0, n);
	if (stride > 1)
		run_one(&t_all, 0, all + 1);

	print_message("allocfail %s: a successful authentication makes %ld "
		      "allocations, %ld of them by pam_baxverify.so\n",
		      what, all, own);
	if (stride != 1)
		print_message("allocfail %s: every allocation of "
			      "pam_baxverify.so failed in turn (N = 1..%ld)"
			      "\n",
			      what, own + 1);
	if (stride > 1)
		print_message("allocfail %s: and every %ld-th of all "
			      "allocations (N = 1..%ld)\n",
			      what, stride, all + 1);
	else if (stride == 1)
		print_message("allocfail %s: every allocation failed in turn "
			      "(N = 1..%ld)\n",
			      what, all + 1);
	if (stride != 1)
		print_tally("own", &t_own);
	if (stride > 0)
		print_tally(stride > 1 ? "all (sampled)" : "all", &t_all);
	print_message("allocfail %s: %.1f s\n", what, now_s() - t0);
	if (t_all.failures + t_own.failures > 0)
		fail_msg("%ld run(s) broke a rule",
			 t_all.failures + t_own.failures);
}

/* ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr, "usage: test_loop loop [TOTAL [TLS]]\n"
			"       test_loop allocfail baxverify|local|nullok\n");
	exit(99);
}

int
main(int argc, char **argv)
{
	struct CMUnitTest t[1];
	const char *name;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "loop") == 0) {
		if (argc > 2)
			arg_total = strtol(argv[2], NULL, 10);
		if (argc > 3)
			arg_tls = strtol(argv[3], NULL, 10);
		name = "loop";
		t[0] = (struct CMUnitTest){"loop", test_loop, harness_setup,
					   harness_teardown, NULL};
	} else if (strcmp(argv[1], "allocfail") == 0 && argc == 3 &&
		   (strcmp(argv[2], "baxverify") == 0 ||
		    strcmp(argv[2], "local") == 0 ||
		    strcmp(argv[2], "nullok") == 0)) {
		allocfail_local = strcmp(argv[2], "local") == 0;
		allocfail_nullok = strcmp(argv[2], "nullok") == 0;
		name = allocfail_local	  ? "allocfail_local"
		       : allocfail_nullok ? "allocfail_nullok"
					  : "allocfail_baxverify";
		t[0] = (struct CMUnitTest){name, test_allocfail, harness_setup,
					   harness_teardown, NULL};
	} else {
		usage();
	}
	save_crash_handlers();
	return _cmocka_run_group_tests(name, t, 1, harness_group_setup,
				       harness_group_teardown);
}
