/*
 * test_store.c - the local store: record text form, atomic commits,
 * damage detection, locking under concurrency, hashing, code drawing and
 * the message template.
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

#include "../../src/providers/deliver.h"
#include "../../src/providers/local.h"
#include "../../src/store/store.h"
#include "guarded.h"

/* The files backend at dir, as a configuration with store.dir = dir. */
static enum bv_result
open_at(const char *dir, const char *user, const struct bv_log *log,
	struct store_txn *txn)
{
	struct bv_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.store_dir = (char *)(uintptr_t)dir;
	return store_open(&cfg, user, log, txn);
}

struct fixture {
	char dir[64];
	char store[96];
};

static const struct bv_log quiet = {.debug = false};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/bv-store-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->store, sizeof(f->store), "%s/store", f->dir);
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

static char *
read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(fp);
	assert_non_null(buf);
	assert_true(fread(buf, 1, 65535, fp) < 65535);
	fclose(fp);
	return buf;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
test_format_parse_roundtrip(void **state)
{
	struct store_record a, b;
	char *text;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.codes[0].hash, STORE_HASH_MAX, "$y$j9T$abc$def");
	a.codes[0].expires = 1800000000;
	a.codes[0].attempts = 2;
	snprintf(a.codes[1].hash, STORE_HASH_MAX, "$y$j9T$abd$deg");
	a.codes[1].expires = 1800000100;
	a.ncodes = 2;
	snprintf(a.tokens[0].hash, STORE_HASH_MAX, "$y$j9T$tok$xyz");
	a.tokens[0].expires = 1800000900;
	a.ntokens = 1;
	a.sends[0] = 1799999000;
	a.sends[1] = 1799999500;
	a.nsends = 2;
	a.failures = 3;
	a.locked_until = 1800000100;
	snprintf(a.recovery[0], STORE_HASH_MAX, "$y$j9T$r1$h1");
	snprintf(a.recovery[1], STORE_HASH_MAX, "$y$j9T$r2$h2");
	a.nrecovery = 2;
	snprintf(a.remember[0].key, STORE_KEY_MAX, "sudo|/dev/pts/1|-");
	a.remember[0].until = 1800000300;
	a.nremember = 1;
	text = store_format(&a);
	assert_non_null(text);
	assert_true(store_parse(text, strlen(text), &b));
	assert_memory_equal(&a, &b, sizeof(a));
	free(text);
}

static void
test_parse_rejects_damage(void **state)
{
	static const char *const bad[] = {
	    "",				       /* no version */
	    "version 2\n",		       /* unknown version */
	    "version 1\nversion 1\n",	       /* twice */
	    "version 1\nfailures 1",	       /* no final newline */
	    "version 1\nfailures x\n",	       /* not a number */
	    "version 1\nfailures -1\n",	       /* out of range */
	    "version 1\nbogus 1\n",	       /* unknown line */
	    "version 1\ncode $y$a 10\n",       /* missing field */
	    "version 1\ncode bad hash 10 0\n", /* extra field */
	    "version 1\ncode $y$a 10 0 9\n",   /* extra field */
	    "version 1\nrecovery h@sh\n",      /* bad hash characters */
	    "version 1\nremember a 1 2\n",     /* extra field */
	    "version 1\nfailures  1\n",	       /* double space */
	    "failures 1\nversion 1\n",	       /* version not first */
	};
	struct store_record r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store_parse(bad[i], strlen(bad[i]), &r))
			fail_msg("accepted damaged record #%zu: %s", i, bad[i]);
	/* A NUL inside is damage too. */
	assert_false(store_parse("version 1\n\0\n", 12, &r));
}

static void
test_open_commit_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_txn txn;
	struct stat st;

	assert_int_equal(open_at(f->store, "alice", &quiet, &txn), BV_OK);
	assert_int_equal(txn.rec.failures, 0);
	txn.rec.failures = 4;
	assert_int_equal(store_commit(&txn), BV_OK);
	store_close(&txn);
	assert_int_equal(stat(f->store, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(open_at(f->store, "alice", &quiet, &txn), BV_OK);
	assert_int_equal(txn.rec.failures, 4);
	store_close(&txn);
}

static void
test_user_names_stay_inside(void **state)
{
	struct fixture *f = *state;
	struct store_txn txn;
	char path[160];

	assert_int_equal(open_at(f->store, "../evil/x", &quiet, &txn), BV_OK);
	assert_int_equal(store_commit(&txn), BV_OK);
	store_close(&txn);
	snprintf(path, sizeof(path), "%s/%%2E%%2E%%2Fevil%%2Fx", f->store);
	assert_int_equal(access(path, F_OK), 0);
}

/* failures of user's record, as store_open reads it. */
static long
failures_of(const struct fixture *f, const char *user)
{
	struct store_txn txn;
	long n;

	assert_int_equal(open_at(f->store, user, &quiet, &txn), BV_OK);
	n = txn.rec.failures;
	store_close(&txn);
	return n;
}

/* Set failures in user's record. */
static void
set_failures(const struct fixture *f, const char *user, long n)
{
	struct store_txn txn;

	assert_int_equal(open_at(f->store, user, &quiet, &txn), BV_OK);
	txn.rec.failures = n;
	assert_int_equal(store_commit(&txn), BV_OK);
	store_close(&txn);
}

static void
store_path(const struct fixture *f, const char *name, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", f->store, name);
}

/*
 * Users "alice.lock" and "alice.tmp" must not write over alice's lock
 * or temporary file: their records would replace the file alice's
 * transactions lock (two processes then lock two files, and updates
 * are lost), and alice's would be read as theirs.
 */
static void
test_lock_names_never_collide(void **state)
{
	struct fixture *f = *state;
	struct store_txn alice;
	struct stat before, after;
	char lock[160];

	assert_int_equal(open_at(f->store, "alice", &quiet, &alice), BV_OK);
	alice.rec.failures = 1;
	assert_int_equal(store_commit(&alice), BV_OK);
	store_path(f, "alice.lock", lock, sizeof(lock));
	assert_int_equal(stat(lock, &before), 0);
	/* Alice's lock is held meanwhile: theirs are other locks. */
	set_failures(f, "alice.lock", 7);
	set_failures(f, "alice.tmp", 9);
	assert_int_equal(stat(lock, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_size, 0);
	store_close(&alice);
	assert_int_equal(failures_of(f, "alice"), 1);
	assert_int_equal(failures_of(f, "alice.lock"), 7);
	assert_int_equal(failures_of(f, "alice.tmp"), 9);
	assert_int_equal(failures_of(f, "alice.lock.lock"), 0);
	/* And the other way round: alice's commits leave theirs alone. */
	set_failures(f, "alice", 2);
	assert_int_equal(failures_of(f, "alice.lock"), 7);
	assert_int_equal(failures_of(f, "alice.tmp"), 9);
}

/* Write a record with failures n at name, as an older version would. */
static void
write_record_at(const struct fixture *f, const char *name, long n)
{
	struct store_record rec;
	char path[160], *text;

	memset(&rec, 0, sizeof(rec));
	rec.failures = n;
	text = store_format(&rec);
	assert_non_null(text);
	(void)mkdir(f->store, 0700);
	store_path(f, name, path, sizeof(path));
	write_file(path, text);
	assert_int_equal(chmod(path, 0600), 0);
	free(text);
}

/*
 * Records written under the older naming ('.' kept as it was) are still
 * found, and move to the new name at the next commit, under the lock.
 */
static void
test_legacy_record_found_and_moved(void **state)
{
	struct fixture *f = *state;
	char old[160], new[160];
	struct store_txn txn;

	write_record_at(f, "alice", 2); /* no '.': the same name */
	write_record_at(f, "john.smith", 3);
	store_path(f, "john.smith", old, sizeof(old));
	store_path(f, "john%2Esmith", new, sizeof(new));
	assert_int_equal(failures_of(f, "alice"), 2);
	/* Read without a commit: nothing moves. */
	assert_int_equal(failures_of(f, "john.smith"), 3);
	assert_int_equal(access(old, F_OK), 0);
	assert_int_equal(access(new, F_OK), -1);
	/* A commit writes the new name and removes the old one. */
	assert_int_equal(open_at(f->store, "john.smith", &quiet, &txn), BV_OK);
	assert_int_equal(txn.rec.failures, 3);
	txn.rec.failures++;
	assert_int_equal(store_commit(&txn), BV_OK);
	store_close(&txn);
	assert_int_equal(access(new, F_OK), 0);
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(failures_of(f, "john.smith"), 4);
	/* Once the new name exists, an old file there again is ignored. */
	write_record_at(f, "john.smith", 99);
	assert_int_equal(failures_of(f, "john.smith"), 4);
}

/*
 * An older name that ends in ".lock" or ".tmp" is (also) another user's
 * lock or temporary file: never read as a record, never removed.
 */
static void
test_legacy_lock_name_not_taken(void **state)
{
	struct fixture *f = *state;
	char lock[160];

	write_record_at(f, "bob.lock", 5); /* bob's lock, or "bob.lock"'s? */
	write_record_at(f, "bob.tmp", 6);
	assert_int_equal(failures_of(f, "bob.lock"), 0);
	assert_int_equal(failures_of(f, "bob.tmp"), 0);
	set_failures(f, "bob.lock", 1);
	set_failures(f, "bob.tmp", 1);
	store_path(f, "bob.lock", lock, sizeof(lock));
	assert_int_equal(access(lock, F_OK), 0);
	set_failures(f, "bob", 8); /* bob's lock still works */
	assert_int_equal(failures_of(f, "bob"), 8);
	assert_int_equal(failures_of(f, "bob.lock"), 1);
}

static void
test_damaged_file_is_not_reset(void **state)
{
	struct fixture *f = *state;
	struct store_txn txn;
	char path[160], *after;
	const char *damaged = "version 1\nfailures 3\nlocked_until 9";

	assert_int_equal(mkdir(f->store, 0700), 0);
	snprintf(path, sizeof(path), "%s/alice", f->store);
	write_file(path, damaged); /* truncated mid-line */
	assert_int_equal(open_at(f->store, "alice", &quiet, &txn), BV_CONFIG);
	store_close(&txn);
	after = read_file(path);
	assert_string_equal(after, damaged);
	free(after);
}

/* store_open of alice and close, in the child of run_guarded. */
static int
open_in_child(void *arg)
{
	struct fixture *f = arg;
	struct store_txn txn;
	enum bv_result rc = open_at(f->store, "alice", &quiet, &txn);

	store_close(&txn);
	return (int)rc;
}

/* A FIFO in place of the record is refused at once, never waited on. */
static void
test_fifo_refused(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct stat st;

	assert_int_equal(mkdir(f->store, 0700), 0);
	snprintf(path, sizeof(path), "%s/alice", f->store);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(run_guarded(open_in_child, f, NULL), BV_CONFIG);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

static void
test_bad_directory_refused(void **state)
{
	struct fixture *f = *state;
	struct store_txn txn;

	assert_int_equal(mkdir(f->store, 0755), 0);
	assert_int_equal(open_at(f->store, "alice", &quiet, &txn), BV_CONFIG);
	store_close(&txn);
	assert_int_equal(open_at("relative/dir", "alice", &quiet, &txn),
			 BV_CONFIG);
	store_close(&txn);
}

/* Many processes each add to one counter; no update may be lost. */
static void
test_parallel_updates_exact(void **state)
{
	struct fixture *f = *state;
	enum { PROCS = 8, EACH = 25 };
	struct store_txn txn;
	int i, j, status;

	for (i = 0; i < PROCS; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid != 0)
			continue;
		for (j = 0; j < EACH; j++) {
			if (open_at(f->store, "alice", &quiet, &txn) != BV_OK)
				_exit(1);
			txn.rec.failures++;
			if (store_commit(&txn) != BV_OK)
				_exit(1);
			store_close(&txn);
		}
		_exit(0);
	}
	for (i = 0; i < PROCS; i++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(open_at(f->store, "alice", &quiet, &txn), BV_OK);
	assert_int_equal(txn.rec.failures, PROCS * EACH);
	store_close(&txn);
}

static void
test_prune(void **state)
{
	struct store_record r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.sends[0] = 1000;
	r.sends[1] = 5000;
	r.nsends = 2;
	r.remember[0].until = 4000;
	r.remember[1].until = 9000;
	r.nremember = 2;
	r.locked_until = 4500;
	store_prune(&r, 5000);
	assert_int_equal(r.nsends, 1);
	assert_int_equal(r.sends[0], 5000);
	assert_int_equal(r.nremember, 1);
	assert_int_equal(r.remember[0].until, 9000);
	assert_int_equal(r.locked_until, 0);
}

static void
test_hash_matches(void **state)
{
	char h1[STORE_HASH_MAX], h2[STORE_HASH_MAX];

	(void)state;
	assert_int_equal(store_hash("123456", h1), BV_OK);
	assert_int_equal(store_hash("123456", h2), BV_OK);
	assert_string_not_equal(h1, h2); /* salted */
	assert_null(strstr(h1, "123456"));
	assert_true(store_hash_matches("123456", h1));
	assert_false(store_hash_matches("123457", h1));
	assert_false(store_hash_matches("123456", ""));
}

/* Each digit value turns up about equally often: no modulo bias. */
static void
test_random_digits_uniform(void **state)
{
	enum { N = 200000 };
	long count[10] = {0};
	char code[9];
	int i, k;

	(void)state;
	for (i = 0; i < N / 8; i++) {
		assert_int_equal(local_random_digits(code, 8), BV_OK);
		assert_int_equal(strlen(code), 8);
		for (k = 0; k < 8; k++) {
			assert_true(code[k] >= '0' && code[k] <= '9');
			count[code[k] - '0']++;
		}
	}
	/* Expected 20000 each; 5 standard deviations is about 670. */
	for (k = 0; k < 10; k++)
		if (count[k] < 19300 || count[k] > 20700)
			fail_msg("digit %d drawn %ld times of %d", k, count[k],
				 N);
}

static void
test_message_template(void **state)
{
	char host[256] = "", want[320], *msg;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	msg = deliver_format("%c is your code for %h (100%%)", "424242");
	assert_non_null(msg);
	snprintf(want, sizeof(want), "424242 is your code for %s (100%%)",
		 host);
	assert_string_equal(msg, want);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_parse_roundtrip),
	    cmocka_unit_test(test_parse_rejects_damage),
	    cmocka_unit_test_setup_teardown(test_open_commit_reopen, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_user_names_stay_inside, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_lock_names_never_collide,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_legacy_record_found_and_moved,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_legacy_lock_name_not_taken,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_file_is_not_reset,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_directory_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parallel_updates_exact, setup,
					    teardown),
	    cmocka_unit_test(test_prune),
	    cmocka_unit_test(test_hash_matches),
	    cmocka_unit_test(test_random_digits_uniform),
	    cmocka_unit_test(test_message_template),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
