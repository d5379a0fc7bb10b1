/*
 * test_helper.c - the module's side of baxverify-helper, through libpam
 * and pam_wrapper: what the helper is given, and that every way it can
 * break denies, also under failmode = "safe" (service bv_safe).
 *
 * A broken helper is a script at the config's "helper" path; the real
 * helper is watched through a wrapper script that records what it was
 * given and then execs it.  The helper is this process's child: a case
 * may stop or kill it at the code prompt, as a caller could try.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "harness.h"

static char script[4096];
static char record[4096];

/* Write a helper script (mode 0755, root's) and point the config at it
   (the harness's timeouts: a script that execs the real helper must be
   able to log in). */
static void
use_script(const char *body, mode_t mode)
{
	struct conf c = {0};
	char text[20000];

	snprintf(script, sizeof(script), "%s/helper.sh", testdir);
	snprintf(record, sizeof(record), "%s/helper.record", testdir);
	snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
	(void)unlink(record);
	write_file(script, text, mode);
	c.helper = script;
	write_conf(&c);
}

/* This process's child called baxverify-helper, or -1. */
static pid_t
helper_pid(void)
{
	char path[300], stat[512];
	struct dirent *e;
	pid_t found = -1;
	DIR *d = opendir("/proc");
	FILE *f;

	while (d != NULL && found < 0 && (e = readdir(d)) != NULL) {
		int pid = 0, ppid = 0;
		char comm[64] = "";

		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(stat, sizeof(stat), f) != NULL &&
		    sscanf(stat, "%d (%63[^)]) %*c %d", &pid, comm, &ppid) ==
			3 &&
		    ppid == getpid() && strcmp(comm, "baxverify-helpe") == 0)
			found = pid;
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

static const char *
signal_helper(int n, void *arg)
{
	pid_t pid = helper_pid();

	(void)n;
	assert_true(pid > 0);
	assert_int_equal(kill(pid, *(int *)arg), 0);
	return CODE;
}

static void
done(struct pam_run *r)
{
	pamtest_free_env(r->env);
	free(r->shown);
}

static void
assert_denied_by_helper(int rc, const char *how)
{
	assert_rc(rc, PAM_AUTH_ERR);
	assert_logged(PRIO(LOG_ERR), "denied: helper failed", how);
	assert_not_logged("ALLOWED WITHOUT A CODE");
}

static void
test_helper_missing(void **state)
{
	struct conf c = {0};
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-helper", testdir);
	c.helper = path;
	write_conf(&c);
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_SERVICE_ERR);
	assert_logged(PRIO(LOG_ERR), "helper", "refused");
	assert_requests(NULL, 0);
}

static void
test_helper_group_writable(void **state)
{
	(void)state;
	use_script("exec true", 0775);
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_SERVICE_ERR);
	assert_logged(PRIO(LOG_ERR), "helper", "writable by group");
}

static void
test_helper_exits_at_once(void **state)
{
	(void)state;
	use_script("exit 0", 0755);
	assert_denied_by_helper(
	    run_auth("bv_safe", "alice", ANSWERS(CODE), NULL), "during start");
}

static void
test_helper_kills_itself(void **state)
{
	(void)state;
	use_script("kill -KILL $$", 0755);
	assert_denied_by_helper(
	    run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
	    "killed by signal 9");
}

static void
test_helper_talks_garbage(void **state)
{
	(void)state;
	/* "zzzz" as a frame length is 2 GB: over the cap. */
	use_script("printf zzzzzzzzzzzz >&0; cat >/dev/null", 0755);
	assert_denied_by_helper(
	    run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
	    "malformed message");
}

static void
test_helper_killed_at_prompt(void **state)
{
	struct pam_run r = {
	    .service = "bv_safe", .user = "alice", .answer = signal_helper};
	int sig = SIGKILL;
	struct conf c = {0};

	(void)state;
	write_conf(&c);
	r.arg = &sig;
	run_pam(&r);
	assert_denied_by_helper(r.auth_rc, "killed by signal 9");
	/* The code was never checked: the helper was gone. */
	assert_requests("/v1/auth/sms/verify", 0);
	done(&r);
}

static void
test_helper_stopped_at_prompt(void **state)
{
	struct pam_run r = {
	    .service = "bv_safe", .user = "alice", .answer = signal_helper};
	/* The code is sent before the prompt: that request must not run
	   out (harness.h); the stopped helper then waits out the module's
	   deadline, FAULT_TIMEOUT + 10 s. */
	struct conf c = {.timeout = FAULT_TIMEOUT,
			 .connect_timeout = FAULT_TIMEOUT};
	int sig = SIGSTOP;

	(void)state;
	write_conf(&c);
	r.arg = &sig;
	run_pam(&r);
	/* Past the module's deadline it is killed and reaped. */
	assert_denied_by_helper(r.auth_rc, "stopped by signal 19");
	assert_int_equal(helper_pid(), -1);
	done(&r);
}

/*
 * What the real helper is given, whatever this process carries: an
 * environment with a key-log file and a preload, a signal ignored, one
 * blocked, SIGCHLD ignored, umask 0, and a descriptor left open.
 */
static void
test_helper_gets_nothing_of_ours(void **state)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_chld, now;
	char body[8192], keylog[4096], line[512];
	sigset_t block, old_mask;
	mode_t old_umask;
	FILE *f;
	int leak, rc;

	(void)state;
	snprintf(keylog, sizeof(keylog), "%s/keylog", testdir);
	snprintf(body, sizeof(body),
		 "{ env; grep -E '^(Uid|Gid|SigIgn|SigBlk):' /proc/self/status;"
		 " echo \"umask $(umask)\"; echo \"core $(ulimit -c)\";"
		 " for fd in /proc/$$/fd/*; do echo \"fd ${fd##*/}\"; done;"
		 " } >'%s/helper.record'\n"
		 "exec '%s'",
		 testdir, getenv("BV_HELPER"));
	use_script(body, 0755);
	setenv("SSLKEYLOGFILE", keylog, 1);
	setenv("LD_PRELOAD", "/nonexistent/preload.so", 1);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGCHLD, &ign, &old_chld);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	old_umask = umask(0);
	leak = fcntl(2, F_DUPFD, 100);
	assert_true(leak >= 100);

	rc = run_auth("bv", "alice", ANSWERS(CODE), NULL);

	close(leak);
	umask(old_umask);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	/* The caller's SIGCHLD action is given back. */
	sigaction(SIGCHLD, NULL, &now);
	assert_true(now.sa_handler == SIG_IGN);
	sigaction(SIGCHLD, &old_chld, NULL);
	sigaction(SIGINT, &old_int, NULL);
	unsetenv("SSLKEYLOGFILE");
	unsetenv("LD_PRELOAD");

	/* SIGCHLD ignored did not turn a good login into a failure. */
	assert_rc(rc, PAM_SUCCESS);
	assert_int_equal(access(keylog, F_OK), -1);
	f = fopen(record, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		/* sh itself may set PWD; nothing else may be there. */
		if (strchr(line, '=') != NULL) {
			assert_true(strncmp(line, "PWD=", 4) == 0);
		} else if (strncmp(line, "Uid:", 4) == 0 ||
			   strncmp(line, "Gid:", 4) == 0) {
			assert_string_equal(line + 4, "\t0\t0\t0\t0");
		} else if (strncmp(line, "Sig", 3) == 0) {
			assert_string_equal(line + 7, "\t0000000000000000");
		} else if (strncmp(line, "umask ", 6) == 0) {
			assert_string_equal(line, "umask 0077");
		} else if (strncmp(line, "core ", 5) == 0) {
			assert_string_equal(line, "core 0");
		} else {
			/* 0-2, the script (3), what sh opened itself; never
			   the descriptor this process left open. */
			assert_true(strncmp(line, "fd ", 3) == 0);
			assert_true(strtol(line + 3, NULL, 10) < 100);
		}
	}
	fclose(f);
}

/* The helper's allocation count and whether the chosen one failed. */
static long
read_report(const char *path, int *fired)
{
	long all = -1;
	FILE *f = fopen(path, "r");

	*fired = 0;
	if (f != NULL) {
		if (fscanf(f, "%ld %d", &all, fired) != 2)
			all = -1;
		fclose(f);
	}
	return all;
}

/*
 * Every allocation of the helper (libcurl, OpenSSL, cJSON, glibc, ours)
 * failed in turn, in a login with a wrong code under failmode = "safe":
 * never a success, never "ALLOWED WITHOUT A CODE".  An allocation failure
 * the libraries report as a network error would be just that.
 */
static void
test_helper_allocation_failures(void **state)
{
	const char *shim = getenv("BV_ALLOC_FAIL_SHIM");
	const char *budget_s = getenv("BV_HELPER_ALLOC_BUDGET");
	char body[16384], failat[4096], report[4096], at[32];
	struct conf c = {.max_tries = 1};
	long total, step, budget, i, runs = 0, changed = 0;
	int f, rc;

	(void)state;
	if (shim == NULL || getenv("BV_PRELOAD_FIRST") != NULL)
		skip(); /* no shim, or a sanitizer owns the allocator */
	budget = budget_s != NULL ? strtol(budget_s, NULL, 10) : 400;
	snprintf(failat, sizeof(failat), "%s/helper.failat", testdir);
	snprintf(report, sizeof(report), "%s/helper.allocs", testdir);
	snprintf(body, sizeof(body),
		 "exec env LD_PRELOAD='%s' BV_ALLOC_FAIL_AT=\"$(cat '%s')\" "
		 "BV_ALLOC_FAIL_REPORT='%s' '%s'",
		 shim, failat, report, getenv("BV_HELPER"));
	use_script(body, 0755);
	c.helper = script;
	write_conf(&c);

	write_file(failat, "0", 0600);
	assert_rc(run_auth("bv_safe", "alice", ANSWERS("000000"), NULL),
		  PAM_MAXTRIES);
	total = read_report(report, &f);
	assert_true(total > 100);
	/* The first allocations one by one, then a sample of the rest. */
	step = total / budget > 1 ? total / budget : 1;
	for (i = 1; i <= total; i += i < 64 ? 1 : step) {
		snprintf(at, sizeof(at), "%ld", i);
		write_file(failat, at, 0600);
		(void)unlink(report);
		rc = run_auth("bv_safe", "alice", ANSWERS("000000"), NULL);
		if (rc == PAM_SUCCESS) {
			print_error("allocation %ld of %ld failed: and the "
				    "wrong code was let in\n",
				    i, total);
			dump_syslog();
			fail();
		}
		/* Anything but the plain "too many wrong codes": the
		   failure showed. */
		changed += rc != PAM_MAXTRIES;
		runs++;
	}
	assert_not_logged("ALLOWED WITHOUT A CODE");
	print_message("  %ld helper allocations; %ld runs, %ld denied "
		      "otherwise than for the wrong code: %d out of memory, "
		      "%d helper died\n",
		      total, runs, changed, count_logged("out of memory"),
		      count_logged("denied: helper failed"));
	/* The injection really bit (the count is stable from run to run). */
	assert_true(changed * 4 > runs);
}

/*
 * The helper under valgrind memcheck for whole logins, right and wrong
 * codes: no invalid access, no definite or indirect leak.  (The module's
 * own loop of 1,000 logins runs under valgrind in run-hardening.sh.)
 */
static void
test_helper_under_valgrind(void **state)
{
	char body[16384], logs[4096], path[8192], line[512];
	struct dirent *e;
	int logins = 0, files = 0;
	FILE *f;
	DIR *d;

	(void)state;
	if (access("/usr/bin/valgrind", X_OK) != 0 ||
	    getenv("BV_PRELOAD_FIRST") != NULL)
		skip();
	snprintf(logs, sizeof(logs), "%s/valgrind", testdir);
	mkdir(logs, 0700);
	snprintf(body, sizeof(body),
		 "exec /usr/bin/valgrind -q --leak-check=full "
		 "--errors-for-leak-kinds=definite,indirect "
		 "--show-leak-kinds=definite,indirect "
		 "--log-file='%s/vg.%%p' '%s'",
		 logs, getenv("BV_HELPER"));
	use_script(body, 0755);
	/* valgrind slows the helper down many times: long timeouts. */
	{
		struct conf c = {
		    .helper = script, .timeout = 30, .connect_timeout = 30};

		write_conf(&c);
	}
	/* Three logins: the mock's own send limit allows three. */
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_rc(run_auth("bv", "alice", ANSWERS("000000", "111111", "222222"),
			   NULL),
		  PAM_MAXTRIES);
	assert_rc(run_auth("bv_session", "alice", ANSWERS(CODE), NULL),
		  PAM_SUCCESS);
	logins = 3;
	/* -q: a log file with any line in it is an error report. */
	d = opendir(logs);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", logs, e->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		if (fgets(line, sizeof(line), f) != NULL) {
			print_error("valgrind on the helper: %s", line);
			fail();
		}
		fclose(f);
	}
	closedir(d);
	assert_int_equal(files, logins);
}

/* The helper resolves names itself; a name that does not exist is an
   outage (the resolver's own answer), one that does is used. */
static void
test_helper_resolves_names(void **state)
{
	char url[512];
	const char *port = strrchr(mock_url, ':');
	struct conf c = {.timeout = FAULT_TIMEOUT,
			 .connect_timeout = FAULT_TIMEOUT};

	(void)state;
	assert_non_null(port);
	snprintf(url, sizeof(url), "https://localhost%s/v1", port);
	c.api_url = url;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);

	c.api_url = "https://no-such-host.invalid/v1";
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL),
		  PAM_AUTHINFO_UNAVAIL);
	assert_logged(PRIO(LOG_ERR), "cannot resolve no-such-host.invalid");
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_SUCCESS);
	assert_info(MSG_SAFE);
}

/* A CA file libcurl cannot read is the administrator's error, never an
   outage: denied under failmode = "safe" too. */
static void
test_helper_bad_ca_file_is_config(void **state)
{
	const char *saved = ca_file;
	char bad[4096];
	struct conf c = {0};

	(void)state;
	snprintf(bad, sizeof(bad), "%s/not-a-ca.pem", testdir);
	write_file(bad, "not a certificate\n", 0644);
	ca_file = bad;
	write_conf(&c);
	ca_file = saved;
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_SERVICE_ERR);
	assert_not_logged("ALLOWED WITHOUT A CODE");
}

static volatile sig_atomic_t chld_seen;

/* As sshd's: reaps whatever child has ended. */
static void
count_chld(int sig)
{
	int saved = errno;

	(void)sig;
	chld_seen++;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

/* A host's own SIGCHLD handler that reaps any child (sshd's) stays in
   place, cannot take the helper from the module, and hears of it. */
static void
test_helper_keeps_host_sigchld_handler(void **state)
{
	struct sigaction sa = {.sa_handler = count_chld}, old, now;
	struct conf c = {0};
	int rc;

	(void)state;
	write_conf(&c);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, &old);
	chld_seen = 0;
	rc = run_auth("bv", "alice", ANSWERS(CODE), NULL);
	sigaction(SIGCHLD, NULL, &now);
	sigaction(SIGCHLD, &old, NULL);
	assert_rc(rc, PAM_SUCCESS);
	assert_true(now.sa_handler == count_chld);
	assert_true(chld_seen >= 1);
}

/*
 * Limits the helper cannot raise (root without CAP_SYS_RESOURCE, as in a
 * container): then no failure is an outage.  Where it can raise them,
 * the outage is one as usual.  The run is in a child: a lowered hard
 * limit cannot be raised again.
 */
static void
test_helper_low_limits_no_outage(void **state)
{
	struct conf c = {.timeout = 2, .connect_timeout = 2};
	char url[128], body[8192], *seen;
	struct rlimit rl = {1UL << 31, 1UL << 31};
	int port, fd, status = 0;
	pid_t pid;

	(void)state;
	if (getenv("BV_PRELOAD_FIRST") != NULL)
		skip(); /* ASan wants its address space */
	fd = closed_port(&port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1", port);
	snprintf(body, sizeof(body), "ulimit -v >'%s'\nexec '%s'", record,
		 getenv("BV_HELPER"));
	use_script(body, 0755);
	c.api_url = url;
	c.helper = script;
	write_conf(&c);
	pid = fork();
	if (pid == 0) {
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(90);
		_exit(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL));
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(fd);
	assert_true(WIFEXITED(status));
	seen = read_whole_file(record);
	if (strcmp(seen, "unlimited\n") == 0) {
		/* Raised back: a refused connection is an outage. */
		assert_int_equal(WEXITSTATUS(status), PAM_SUCCESS);
	} else {
		assert_int_equal(WEXITSTATUS(status), PAM_AUTH_ERR);
		assert_logged(PRIO(LOG_ERR), "below its own");
		assert_not_logged("ALLOWED WITHOUT A CODE");
	}
	free(seen);
}

static const struct CMUnitTest tests[] = {
    T(test_helper_missing),
    T(test_helper_group_writable),
    T(test_helper_exits_at_once),
    T(test_helper_kills_itself),
    T(test_helper_talks_garbage),
    T(test_helper_killed_at_prompt),
    T(test_helper_stopped_at_prompt),
    T(test_helper_gets_nothing_of_ours),
    T(test_helper_allocation_failures),
    T(test_helper_resolves_names),
    T(test_helper_bad_ca_file_is_config),
    T(test_helper_keeps_host_sigchld_handler),
    T(test_helper_low_limits_no_outage),
    T(test_helper_under_valgrind),
};

int
main(int argc, char **argv)
{
	struct CMUnitTest all[NELEM(tests)];
	size_t n = 0;

	for (size_t i = 0; i < NELEM(tests); i++)
		all[n++] = tests[i];
	return harness_run("pam_baxverify helper (pam_wrapper)", all, n,
			   argc > 1 ? argv[1] : NULL);
}
