/*
 * test_store_health.c - the providers' health record: its text form
 * (strict parsing), its marks, and the files backend's health file (a
 * name no user's file can have, atomic replacement under a lock, reads
 * without one, damage read as no marks and logged naming the file).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/store/store.h"
#include "capture.h"
#include "guarded.h"

#define T0 1800000000

struct fixture {
	char dir[64];
	char store[96];
	char health[128]; /* the health file's path */
	char errlog[128]; /* captured stderr */
	struct bv_config cfg;
};

static const struct bv_log quiet = {.debug = false};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/bv-health-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->store, sizeof(f->store), "%s/store", f->dir);
	snprintf(f->health, sizeof(f->health), "%s/@health", f->store);
	snprintf(f->errlog, sizeof(f->errlog), "%s/stderr", f->dir);
	f->cfg.store_dir = f->store;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* --- the text form ------------------------------------------------- */

static void
test_format_parse_roundtrip(void **state)
{
	struct store_health a, b;
	char *text;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_true(store_health_mark(&a, "baxverify", T0));
	assert_true(store_health_mark(&a, "tryvox", T0 + 5));
	assert_true(store_health_mark(&a, "baxverify", T0 + 60));
	text = store_health_format(&a);
	assert_non_null(text);
	assert_string_equal(text, "# pam_baxverify provider health\n"
				  "version 1\n"
				  "down baxverify 1800000000 1800000060\n"
				  "down tryvox 1800000005 1800000005\n");
	assert_true(store_health_parse(text, strlen(text), &b));
	assert_memory_equal(&a, &b, sizeof(a));
	free(text);
	/* No marks: the version line alone. */
	memset(&a, 0, sizeof(a));
	text = store_health_format(&a);
	assert_true(store_health_parse(text, strlen(text), &b));
	assert_int_equal(b.nmarks, 0);
	free(text);
}

static void
test_parse_rejects_damage(void **state)
{
	static const char *const bad[] = {
	    "",					 /* no version */
	    "down baxverify 1 2\n",		 /* no version */
	    "version 2\n",			 /* unknown version */
	    "version 1\nversion 1\n",		 /* twice */
	    "version 1\ndown baxverify 1 2",	 /* no final newline */
	    "version 1\n\n",			 /* empty line */
	    "version 1\ndown baxverify 1\n",	 /* missing field */
	    "version 1\ndown baxverify 1 2 3\n", /* extra field */
	    "version 1\ndown  baxverify 1 2\n",	 /* double space */
	    "version 1\ndown baxverify 1 2 \n",	 /* trailing space */
	    "version 1\nup baxverify 1 2\n",	 /* unknown line */
	    "version 1\ndown bax/verify 1 2\n",	 /* bad name */
	    "version 1\ndown ../x 1 2\n",	 /* bad name */
	    "version 1\ndown baxverify x 2\n",	 /* not a number */
	    "version 1\ndown baxverify -1 2\n",	 /* negative */
	    "version 1\ndown baxverify +1 2\n",	 /* a sign */
	    "version 1\ndown baxverify 0 2\n",	 /* time 0 */
	    "version 1\ndown baxverify 1 99999999999999\n",  /* far future */
	    "version 1\ndown baxverify 5 4\n",		     /* since > last */
	    "version 1\ndown tryvox 1 2\ndown tryvox 3 4\n", /* twice */
	    "version 1\ndown "
	    "a23456789012345678901234567890123 1 2\n", /* name too long */
	};
	struct store_health h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (store_health_parse(bad[i], strlen(bad[i]), &h))
			fail_msg("accepted damaged health #%zu: %s", i, bad[i]);
		assert_int_equal(h.nmarks, 0);
	}
	/* A NUL inside is damage too. */
	assert_false(store_health_parse("version 1\n\0\n", 12, &h));
	/* Comments are fine anywhere. */
	assert_true(store_health_parse("# x\nversion 1\n# y\n"
				       "down local 7 8\n",
				       33, &h));
	assert_int_equal(h.nmarks, 1);
	assert_string_equal(h.marks[0].provider, "local");
}

/* More than STORE_MAX_MARKS lines: damage, not a cut list. */
static void
test_parse_rejects_too_many(void **state)
{
	char text[4096];
	struct store_health h;
	size_t used, i;

	(void)state;
	used = (size_t)snprintf(text, sizeof(text), "version 1\n");
	for (i = 0; i <= STORE_MAX_MARKS; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "down p%zu 1 2\n", i);
	assert_false(store_health_parse(text, used, &h));
}

static void
test_marks(void **state)
{
	struct store_health h;
	char name[16];
	size_t i;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_false(store_health_clear(&h, "baxverify"));
	assert_false(store_health_mark(&h, "bad name", T0));
	assert_false(store_health_mark(&h, "", T0));
	assert_false(store_health_mark(&h, "baxverify", 0));
	assert_int_equal(h.nmarks, 0);

	/* A mark again keeps when the outage began. */
	assert_true(store_health_mark(&h, "baxverify", T0));
	assert_true(store_health_mark(&h, "baxverify", T0 + 100));
	assert_int_equal(h.nmarks, 1);
	assert_int_equal(h.marks[0].since, T0);
	assert_int_equal(h.marks[0].last, T0 + 100);
	/* A clock set back starts it again, so that since <= last. */
	assert_true(store_health_mark(&h, "baxverify", T0 - 50));
	assert_int_equal(h.marks[0].since, T0 - 50);
	assert_int_equal(h.marks[0].last, T0 - 50);

	assert_true(store_health_mark(&h, "tryvox", T0));
	assert_true(store_health_clear(&h, "baxverify"));
	assert_int_equal(h.nmarks, 1);
	assert_string_equal(h.marks[0].provider, "tryvox");
	assert_null(store_health_find(&h, "baxverify"));

	/* Full: the mark whose last failure is oldest gives way. */
	for (i = 1; i < STORE_MAX_MARKS; i++) {
		snprintf(name, sizeof(name), "p%zu", i);
		assert_true(store_health_mark(&h, name, T0 + (time_t)i));
	}
	assert_int_equal(h.nmarks, STORE_MAX_MARKS);
	assert_true(store_health_mark(&h, "newcomer", T0 + 1000));
	assert_int_equal(h.nmarks, STORE_MAX_MARKS);
	assert_null(store_health_find(&h, "tryvox"));
	assert_non_null(store_health_find(&h, "newcomer"));
	assert_non_null(store_health_find(&h, "p1"));
}

/* --- the files backend --------------------------------------------- */

/* Mark provider down at now in one locked transaction. */
static enum bv_result
mark_down(const struct fixture *f, const char *provider, time_t now)
{
	struct store_health_txn txn;
	enum bv_result rc;

	rc = store_health_open(&f->cfg, &quiet, &txn);
	if (rc == BV_OK)
		rc = store_health_mark(&txn.rec, provider, now) ? BV_OK
								: BV_CONFIG;
	if (rc == BV_OK)
		rc = store_health_commit(&txn);
	store_health_close(&txn);
	return rc;
}

static void
test_read_creates_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_health h;

	h.nmarks = 3;
	assert_int_equal(store_health_read(&f->cfg, &quiet, &h), BV_OK);
	assert_int_equal(h.nmarks, 0);
	assert_int_equal(access(f->store, F_OK), -1);
	assert_int_equal(mkdir(f->store, 0700), 0);
	assert_int_equal(store_health_read(&f->cfg, &quiet, &h), BV_OK);
	assert_int_equal(access(f->health, F_OK), -1);
}

static void
test_commit_and_read(void **state)
{
	struct fixture *f = *state;
	struct store_health h;
	struct stat st;

	assert_int_equal(mark_down(f, "baxverify", T0), BV_OK);
	assert_int_equal(mark_down(f, "tryvox", T0 + 1), BV_OK);
	assert_int_equal(store_health_read(&f->cfg, &quiet, &h), BV_OK);
	assert_int_equal(h.nmarks, 2);
	assert_int_equal(store_health_find(&h, "tryvox")->last, T0 + 1);
	assert_int_equal(lstat(f->health, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(f->store, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

/*
 * The health file is nobody's record: a user called "@health" (or
 * "@health.lock") has a record, lock and temporary file of their own,
 * and each side's commits leave the other's alone.
 */
static void
test_name_is_no_users(void **state)
{
	struct fixture *f = *state;
	static const char *const users[] = {"@health", "@health.lock",
					    "@health.tmp"};
	struct store_health h;
	struct store_txn txn;
	size_t i;

	assert_int_equal(mark_down(f, "baxverify", T0), BV_OK);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		assert_int_equal(store_open(&f->cfg, users[i], &quiet, &txn),
				 BV_OK);
		assert_int_equal(txn.rec.failures, 0);
		txn.rec.failures = 3;
		assert_int_equal(store_commit(&txn), BV_OK);
		store_close(&txn);
	}
	assert_int_equal(store_health_read(&f->cfg, &quiet, &h), BV_OK);
	assert_int_equal(h.nmarks, 1);
	assert_int_equal(mark_down(f, "tryvox", T0), BV_OK);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		assert_int_equal(store_open(&f->cfg, users[i], &quiet, &txn),
				 BV_OK);
		assert_int_equal(txn.rec.failures, 3);
		store_close(&txn);
	}
}

/* store_health_read with stderr captured; the log's text (free it). */
static char *
read_logged(const struct fixture *f, struct store_health *h, enum bv_result *rc)
{
	int saved = capture_stderr(f->errlog);

	*rc = store_health_read(&f->cfg, &quiet, h);
	capture_restore(saved);
	return capture_read(f->errlog);
}

/*
 * A damaged health file reads as no marks (it may only ever change the
 * order of the providers), logged naming it; a change replaces it.
 */
static void
test_damaged_is_no_marks(void **state)
{
	struct fixture *f = *state;
	struct store_health h;
	enum bv_result rc;
	char *log;

	assert_int_equal(mkdir(f->store, 0700), 0);
	write_file(f->health, "version 1\ndown baxverify 1800000000 18");
	h.nmarks = 1;
	log = read_logged(f, &h, &rc);
	assert_int_equal(rc, BV_CONFIG);
	assert_int_equal(h.nmarks, 0);
	assert_non_null(strstr(log, f->health));
	assert_non_null(strstr(log, "is damaged"));
	free(log);

	/* The next change writes a whole good file over it. */
	assert_int_equal(mark_down(f, "tryvox", T0), BV_OK);
	log = read_logged(f, &h, &rc);
	assert_int_equal(rc, BV_OK);
	assert_string_equal(log, "");
	assert_int_equal(h.nmarks, 1);
	assert_string_equal(h.marks[0].provider, "tryvox");
	free(log);

	/* Too large to be one: refused unread. */
	{
		char big[8192];

		memset(big, '#', sizeof(big) - 2);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		write_file(f->health, big);
	}
	log = read_logged(f, &h, &rc);
	assert_int_equal(rc, BV_CONFIG);
	assert_int_equal(h.nmarks, 0);
	assert_non_null(strstr(log, "not a regular file of sane size"));
	free(log);
}

static int
read_in_child(void *arg)
{
	struct fixture *f = arg;
	struct store_health h;

	return (int)store_health_read(&f->cfg, &quiet, &h);
}

/* A FIFO or a symlink in its place: refused at once, never waited on. */
static void
test_special_files_refused(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char target[160];

	assert_int_equal(mkdir(f->store, 0700), 0);
	assert_int_equal(mkfifo(f->health, 0600), 0);
	assert_int_equal(run_guarded(read_in_child, f, NULL), BV_CONFIG);
	assert_int_equal(lstat(f->health, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(unlink(f->health), 0);

	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	write_file(target, "version 1\ndown baxverify 1 2\n");
	assert_int_equal(symlink(target, f->health), 0);
	assert_int_equal(run_guarded(read_in_child, f, NULL), BV_CONFIG);
}

/*
 * While another process holds the health lock (stopped, say), a reader
 * does not wait at all, and a writer gives up after a short wait.
 */
static void
test_lock_held_elsewhere(void **state)
{
	struct fixture *f = *state;
	struct store_health_txn txn;
	struct store_health h;
	int go[2], done[2], status;
	char c = 0;
	pid_t pid;

	assert_int_equal(mark_down(f, "baxverify", T0), BV_OK);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[0]);
		close(done[1]);
		if (store_health_open(&f->cfg, &quiet, &txn) != BV_OK)
			_exit(1);
		if (write(go[1], "x", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(2);
		store_health_close(&txn);
		_exit(0);
	}
	close(go[1]);
	close(done[0]);
	assert_int_equal(read(go[0], &c, 1), 1);
	assert_int_equal(run_guarded(read_in_child, f, NULL), BV_OK);
	assert_int_equal(store_health_read(&f->cfg, &quiet, &h), BV_OK);
	assert_int_equal(h.nmarks, 1);
	assert_int_equal(store_health_open(&f->cfg, &quiet, &txn), BV_CONFIG);
	store_health_close(&txn);
	assert_int_equal(write(done[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(go[0]);
	close(done[1]);
	/* Released: a change goes through again. */
	assert_int_equal(mark_down(f, "tryvox", T0), BV_OK);
}

/* Processes marking different providers at once lose no mark. */
static void
test_parallel_marks(void **state)
{
	struct fixture *f = *state;
	enum { PROCS = 8 };
	struct store_health h;
	char name[16];
	int i, status;

	for (i = 0; i < PROCS; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid != 0)
			continue;
		snprintf(name, sizeof(name), "p%d", i);
		_exit(mark_down(f, name, T0 + i) == BV_OK ? 0 : 1);
	}
	for (i = 0; i < PROCS; i++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(store_health_read(&f->cfg, &quiet, &h), BV_OK);
	assert_int_equal(h.nmarks, PROCS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_parse_roundtrip),
	    cmocka_unit_test(test_parse_rejects_damage),
	    cmocka_unit_test(test_parse_rejects_too_many),
	    cmocka_unit_test(test_marks),
	    cmocka_unit_test_setup_teardown(test_read_creates_nothing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_commit_and_read, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_name_is_no_users, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_is_no_marks, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_special_files_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_lock_held_elsewhere, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_parallel_marks, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
