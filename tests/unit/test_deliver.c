/*
 * test_deliver.c - the local provider's delivery: how the command is
 * started and waited for, what its ending means, and what of its error
 * output may be logged (deliver_excerpt: never the code, the number or
 * the address a program that echoes its input would print).
 *
 * Seams replaced at link time (-Wl,--wrap, see Makefile.am): waitpid (to
 * fail the way a caller who reaps our child, or a signal, makes it fail),
 * fork (to swap the program between the check and the exec, as an
 * attacker racing a symlink would) and fexecve (to fail the exec).  Each
 * seam passes through to the real call unless a case arms it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/providers/deliver.h"

/* ------------------------------------------------------------------ */
/* The seams.                                                          */

pid_t __wrap_waitpid(pid_t pid, int *status, int options);
pid_t __real_waitpid(pid_t pid, int *status, int options);
pid_t __wrap_fork(void);
pid_t __real_fork(void);
int __wrap_fexecve(int fd, char *const argv[], char *const envp[]);
int __real_fexecve(int fd, char *const argv[], char *const envp[]);

/* The next waitpid calls fail with this errno (0: pass through). */
static int waitpid_errno;
static int waitpid_failures;
/* Called in the parent just before the real fork. */
static void (*before_fork)(void);
/* fexecve fails with ENOEXEC in the child. */
static bool fexecve_fails;

pid_t
__wrap_waitpid(pid_t pid, int *status, int options)
{
	if (waitpid_failures > 0) {
		waitpid_failures--;
		errno = waitpid_errno;
		return -1;
	}
	return __real_waitpid(pid, status, options);
}

pid_t
__wrap_fork(void)
{
	if (before_fork != NULL)
		before_fork();
	return __real_fork();
}

int
__wrap_fexecve(int fd, char *const argv[], char *const envp[])
{
	if (fexecve_fails) {
		errno = ENOEXEC;
		return -1;
	}
	return __real_fexecve(fd, argv, envp);
}

/* ------------------------------------------------------------------ */
/* Fixture: a scratch directory with the delivery programs.            */

static char dir[64];
static char script[128];

static struct local_config lc = {
    .delivery = (char *)(uintptr_t) "command",
    .command = script,
    .timeout = 10,
};

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bv-deliver-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/sms.sh", dir);
	lc.timeout = 10;
	waitpid_failures = 0;
	before_fork = NULL;
	fexecve_fails = false;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Write dir/name (mode) with body after a "#!/bin/sh" line; %D in body
   is the scratch directory. */
static void
write_script(const char *path, const char *body, mode_t mode)
{
	FILE *f = fopen(path, "w");
	const char *p;

	assert_non_null(f);
	fputs("#!/bin/sh\n", f);
	for (p = body; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'D') {
			fputs(dir, f);
			p++;
		} else {
			fputc(*p, f);
		}
	}
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static bool
exists(const char *name)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static enum bv_result
deliver(struct bv_outcome *out)
{
	memset(out, 0, sizeof(*out));
	return deliver_message(&lc, "+14155552671", "918273 is your code", out);
}

#define assert_detail(out, needle)                                             \
	do {                                                                   \
		if (strstr((out)->detail, (needle)) == NULL)                   \
			fail_msg("detail \"%s\" lacks \"%s\"", (out)->detail,  \
				 (needle));                                    \
	} while (0)

/* ------------------------------------------------------------------ */
/* How the command ended.                                              */

static void
test_exit_zero(void **state)
{
	struct bv_outcome out;
	char path[192], got[64] = "";
	FILE *f;

	(void)state;
	write_script(script, "cat >'%D/got'\n", 0700);
	assert_int_equal(deliver(&out), BV_OK);
	snprintf(path, sizeof(path), "%s/got", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	assert_string_equal(got, "918273 is your code");
}

/* Only the program's own non-zero exit says "the gateway failed". */
static void
test_exit_status(void **state)
{
	struct bv_outcome out;

	(void)state;
	write_script(script, "cat >/dev/null\nexit 3\n", 0700);
	assert_int_equal(deliver(&out), BV_UNAVAILABLE);
	assert_detail(&out, "delivery command failed (status 3)");
}

static void
test_killed_by_signal(void **state)
{
	struct bv_outcome out;

	(void)state;
	write_script(script, "kill -9 $$\n", 0700);
	assert_int_equal(deliver(&out), BV_INTERNAL);
	assert_detail(&out, "delivery command killed by signal 9");
}

/* A stopped program is seen (WUNTRACED) at once, killed, and is no
   outage; without WUNTRACED it would look like a timeout. */
static void
test_stopped(void **state)
{
	struct bv_outcome out;

	(void)state;
	write_script(script, "kill -STOP $$\ntouch '%D/resumed'\n", 0700);
	assert_int_equal(deliver(&out), BV_INTERNAL);
	assert_detail(&out, "delivery command stopped");
	/* Killed, not continued. */
	assert_false(exists("resumed"));
}

/* EINTR from waitpid is retried: the delivery still succeeds. */
static void
test_wait_eintr(void **state)
{
	struct bv_outcome out;

	(void)state;
	write_script(script, "cat >/dev/null\n", 0700);
	waitpid_errno = EINTR;
	waitpid_failures = 3;
	assert_int_equal(deliver(&out), BV_OK);
	assert_int_equal(waitpid_failures, 0);
}

/* ECHILD (someone else reaped our child) is neither a success nor a
   timeout, and is reported at once. */
static void
test_wait_echild(void **state)
{
	struct bv_outcome out;

	(void)state;
	lc.timeout = 30;
	write_script(script, "cat >/dev/null\n", 0700);
	waitpid_errno = ECHILD;
	waitpid_failures = 1;
	assert_int_equal(deliver(&out), BV_INTERNAL);
	assert_detail(&out, "wait failed: ");
	assert_detail(&out, strerror(ECHILD));
}

/* A caller that ignores SIGCHLD (the kernel would reap our child itself)
   does not break the wait, and gets its disposition back. */
static void
test_sigchld_ignored(void **state)
{
	struct bv_outcome out;
	struct sigaction ign, now;
	enum bv_result rc;

	(void)state;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	assert_int_equal(sigaction(SIGCHLD, &ign, NULL), 0);
	write_script(script, "cat >/dev/null\nexit 0\n", 0700);
	rc = deliver(&out);
	assert_int_equal(sigaction(SIGCHLD, NULL, &now), 0);
	/* Back to normal before any assertion (teardown's system()). */
	ign.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &ign, NULL);
	assert_int_equal(rc, BV_OK);
	assert_true(now.sa_handler == SIG_IGN);
}

/* An exec that fails is ours to report, not the gateway's exit 127. */
static void
test_exec_fails(void **state)
{
	struct bv_outcome out;

	(void)state;
	write_script(script, "exit 0\n", 0700);
	fexecve_fails = true;
	assert_int_equal(deliver(&out), BV_INTERNAL);
	assert_detail(&out, "could not be started");
}

/* ------------------------------------------------------------------ */
/* What runs is what was checked.                                      */

static char evil[160];

/* Between the check and the exec, an attacker puts another program in
   place (group- and world-writable: it would be refused if checked). */
static void
swap_program(void)
{
	write_script(evil, "touch '%D/evil-ran'\n", 0777);
	assert_int_equal(chmod(evil, 0777), 0);
	assert_int_equal(rename(evil, script), 0);
}

static void
test_swapped_after_check(void **state)
{
	struct bv_outcome out;

	(void)state;
	snprintf(evil, sizeof(evil), "%s/evil.sh", dir);
	write_script(script, "cat >/dev/null\ntouch '%D/good-ran'\n", 0700);
	before_fork = swap_program;
	assert_int_equal(deliver(&out), BV_OK);
	assert_true(exists("good-ran"));
	assert_false(exists("evil-ran"));
}

static void
test_symlink_refused(void **state)
{
	struct bv_outcome out;
	char target[160];

	(void)state;
	snprintf(target, sizeof(target), "%s/real.sh", dir);
	write_script(target, "touch '%D/ran'\n", 0700);
	assert_int_equal(symlink(target, script), 0);
	assert_int_equal(deliver(&out), BV_CONFIG);
	assert_detail(&out, "delivery command refused: ");
	assert_false(exists("ran"));
}

static void
test_writable_refused(void **state)
{
	struct bv_outcome out;

	(void)state;
	write_script(script, "touch '%D/ran'\n", 0720);
	assert_int_equal(deliver(&out), BV_CONFIG);
	assert_detail(&out, "writable by group or others");
	assert_false(exists("ran"));
}

static void
test_missing_refused(void **state)
{
	struct bv_outcome out;

	(void)state;
	assert_int_equal(deliver(&out), BV_CONFIG);
	assert_detail(&out, "delivery command refused: cannot open it");
}

/* ------------------------------------------------------------------ */
/* deliver_excerpt: what of the error output may be logged.            */

static const struct {
	const char *err;
	bool cut;
	const char *want;
} excerpts[] = {
    /* The code, however it is written. */
    {"cannot send 918273 is your code", false, "cannot send #### is your code"},
    {"code 918 273 / 91-82-73 / 9182.73", false, "code #### / #### / ####"},
    {"pin 1234, id 12345678", false, "pin ####, id ####"},
    /* Short numbers stay: they are statuses, not secrets. */
    {"error 42 at 12:05, retry 3", false, "error 42 at 12:05, retry 3"},
    /* Phone numbers, with or without separators. */
    {"no route to +14155552671", false, "no route to +\xe2\x80\xa6"},
    {"to +1 (415) 555-2671: quota", false, "to +\xe2\x80\xa6: quota"},
    {"bad number 14155552671", false, "bad number ####"},
    {"+14155552671 (14155552671)", false, "+\xe2\x80\xa6 (####)"},
    /* Email addresses, whole. */
    {"mail to <bob.smith+2fa@example.org> bounced", false,
     "mail to <\xe2\x80\xa6@\xe2\x80\xa6> bounced"},
    {"user@host: refused", false, "\xe2\x80\xa6@\xe2\x80\xa6: refused"},
    {"@ alone, or a@ or @b", false, "@ alone, or a@ or @b"},
    /* The first line only. */
    {"gateway down\n918273 is your code for +14155552671", false,
     "gateway down"},
    {"\nsecond line 918273", false, ""},
    /* Control characters cannot split a number to get it through. */
    {"code 91\x1b"
     "82\a73",
     false, "code ####"},
    {"code 9\r1\x7f"
     "82",
     false, "code ####"},
    /* Cut at the end of what was captured: the last digits may be the
       start of the code. */
    {"your code is 918", true, "your code is ####"},
    {"your code is 918", false, "your code is 918"},
    {"short 42\nmore", true, "short 42"},
    {"", false, ""},
};

static void
test_excerpt_table(void **state)
{
	char got[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(excerpts) / sizeof(excerpts[0]); i++) {
		deliver_excerpt(got, sizeof(got), excerpts[i].err,
				excerpts[i].cut);
		if (strcmp(got, excerpts[i].want) != 0)
			fail_msg("excerpt %zu: got \"%s\", want \"%s\"", i, got,
				 excerpts[i].want);
	}
}

/* Short: a long first line is cut, and never inside a mask. */
static void
test_excerpt_short(void **state)
{
	char err[512], got[24];
	size_t i;

	(void)state;
	for (i = 0; i + 1 < sizeof(err); i++)
		err[i] = i % 2 ? '@' : 'a';
	err[sizeof(err) - 1] = '\0';
	deliver_excerpt(got, sizeof(got), err, true);
	assert_true(strlen(got) < sizeof(got));
	assert_null(strchr(got, 'a'));
	memset(err, 'A', sizeof(err) - 1);
	deliver_excerpt(got, sizeof(got), err, false);
	assert_true(strlen(got) < sizeof(got));
	assert_non_null(strstr(got, "AAAA"));
	deliver_excerpt(got, 1, err, false);
	assert_string_equal(got, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exit_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exit_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_killed_by_signal, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_stopped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_eintr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_echild, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sigchld_ignored, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_exec_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_swapped_after_check, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_writable_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_missing_refused, setup,
					    teardown),
	    cmocka_unit_test(test_excerpt_table),
	    cmocka_unit_test(test_excerpt_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
