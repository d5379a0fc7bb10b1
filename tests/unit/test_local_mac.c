/*
 * test_local_mac.c - the local provider's host key (local_key.c) and its
 * store entries (local_mac.c): the key made once, atomically, by racing
 * processes; every key file that anyone but root could have read or
 * replaced refused, naming the file and why; entries that match only
 * their own secret, user, kind and key; every other form a non-match;
 * and a record an earlier version wrote (crypt(3) hashes) still accepted
 * by the provider's check and validate.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/providers/local.h"
#include "../../src/providers/local_key.h"
#include "../../src/providers/local_mac.h"
#include "../../src/store/store.h"
#include "capture.h"

/* Length of a $bvmac1$ entry. */
#define ENTRY_LEN 122

struct fixture {
	char dir[64];	 /* the scratch directory */
	char store[96];	 /* store.dir inside it (not made yet) */
	char key[128];	 /* the key file's path */
	char log[96];	 /* captured stderr */
	char outbox[96]; /* local.file */
	struct bv_config cfg;
};

static const struct bv_log quiet = {.debug = false};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/bv-mac-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->store, sizeof(f->store), "%s/store", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/%s", f->store, LOCAL_KEY_FILE);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	snprintf(f->outbox, sizeof(f->outbox), "%s/outbox", f->dir);
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

/* The store directory, made as the module makes it. */
static void
make_store(const struct fixture *f)
{
	assert_int_equal(mkdir(f->store, 0700), 0);
}

static void
write_bytes(const char *path, const void *b, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The key file's bytes (exactly LOCAL_KEY_BYTES of them). */
static void
read_key_file(const struct fixture *f, unsigned char *out)
{
	int fd = open(f->key, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, out, LOCAL_KEY_BYTES + 1), LOCAL_KEY_BYTES);
	close(fd);
}

/* How many entries the store directory has, "." and ".." aside. */
static int
entries(const struct fixture *f)
{
	DIR *d = opendir(f->store);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* local_key_load with stderr captured; the log in *logged (free it). */
static enum bv_result
load_logged(const struct fixture *f, unsigned char *key, char **logged)
{
	int saved = capture_stderr(f->log);
	enum bv_result rc = local_key_load(f->store, &quiet, key);

	capture_restore(saved);
	*logged = capture_read(f->log);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The key file.                                                       */

/* Made at first use, in a directory made for it, then only read. */
static void
test_key_made_once(void **state)
{
	struct fixture *f = *state;
	unsigned char k1[LOCAL_KEY_BYTES], k2[LOCAL_KEY_BYTES];
	unsigned char file[LOCAL_KEY_BYTES], zero[LOCAL_KEY_BYTES] = {0};
	char *logged, said[512];
	struct stat st;

	assert_int_equal(local_key_check(f->store, said, sizeof(said)), BV_OK);
	assert_non_null(strstr(said, "not made yet"));
	assert_int_equal(load_logged(f, k1, &logged), BV_OK);
	assert_non_null(strstr(logged, "made the host key"));
	assert_non_null(strstr(logged, f->key));
	free(logged);
	assert_int_equal(stat(f->store, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(lstat(f->key, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, LOCAL_KEY_BYTES);
	read_key_file(f, file);
	assert_memory_equal(k1, file, LOCAL_KEY_BYTES);
	assert_memory_not_equal(k1, zero, LOCAL_KEY_BYTES);
	/* No temporary file is left behind. */
	assert_int_equal(entries(f), 1);
	assert_int_equal(load_logged(f, k2, &logged), BV_OK);
	assert_string_equal(logged, ""); /* read, not made again */
	free(logged);
	assert_memory_equal(k1, k2, LOCAL_KEY_BYTES);
	assert_int_equal(local_key_check(f->store, said, sizeof(said)), BV_OK);
	assert_non_null(strstr(said, ": ok"));
}

/*
 * Helpers that find no key at once all make one; each must end up with
 * the key the file holds (the first linked), never one of its own that a
 * later one replaced.
 */
static void
test_key_race(void **state)
{
	struct fixture *f = *state;
	enum { PROCS = 8 };
	unsigned char file[LOCAL_KEY_BYTES], got[LOCAL_KEY_BYTES];
	int go[2], res[2], i, status;

	make_store(f);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(res), 0);
	for (i = 0; i < PROCS; i++) {
		pid_t pid = fork();
		unsigned char k[LOCAL_KEY_BYTES];
		char c;

		assert_true(pid >= 0);
		if (pid != 0)
			continue;
		close(go[1]);
		/* Wait for the start: the write end closing. */
		if (read(go[0], &c, 1) != 0 ||
		    local_key_load(f->store, &quiet, k) != BV_OK ||
		    write(res[1], k, sizeof(k)) != (ssize_t)sizeof(k))
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(go[1]);
	close(res[1]);
	for (i = 0; i < PROCS; i++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	read_key_file(f, file);
	for (i = 0; i < PROCS; i++) {
		assert_int_equal(read(res[0], got, sizeof(got)), sizeof(got));
		assert_memory_equal(got, file, LOCAL_KEY_BYTES);
	}
	close(res[0]);
	assert_int_equal(entries(f), 1);
}

/* One way a key file can be unfit, and what the log says of it. */
struct bad_key {
	const char *label;
	void (*make)(const struct fixture *f);
	const char *why;
};

static void
make_group_readable(const struct fixture *f)
{
	write_bytes(f->key, "0123456789abcdef0123456789abcdef", 32, 0640);
}

static void
make_world_readable(const struct fixture *f)
{
	write_bytes(f->key, "0123456789abcdef0123456789abcdef", 32, 0604);
}

static void
make_short(const struct fixture *f)
{
	write_bytes(f->key, "0123456789abcdef0123456789abcde", 31, 0600);
}

static void
make_long(const struct fixture *f)
{
	write_bytes(f->key, "0123456789abcdef0123456789abcdef0", 33, 0600);
}

static void
make_empty(const struct fixture *f)
{
	write_bytes(f->key, "", 0, 0600);
}

static void
make_symlink(const struct fixture *f)
{
	char target[128];

	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	write_bytes(target, "0123456789abcdef0123456789abcdef", 32, 0600);
	assert_int_equal(symlink(target, f->key), 0);
}

static void
make_directory(const struct fixture *f)
{
	assert_int_equal(mkdir(f->key, 0700), 0);
}

static void
make_fifo(const struct fixture *f)
{
	assert_int_equal(mkfifo(f->key, 0600), 0);
}

static const struct bad_key bad_keys[] = {
    {"group-readable", make_group_readable, "group or others have access"},
    {"world-readable", make_world_readable, "group or others have access"},
    {"31 bytes", make_short, "not exactly 32 bytes long"},
    {"33 bytes", make_long, "not exactly 32 bytes long"},
    {"empty", make_empty, "not exactly 32 bytes long"},
    {"a symbolic link", make_symlink, "a symbolic link"},
    {"a directory", make_directory, "not a regular file"},
    {"a FIFO", make_fifo, "not a regular file"},
};

/* Refused, logged naming the file and why, and left as it was. */
static void
assert_refused(const struct fixture *f, const char *label, const char *why)
{
	unsigned char key[LOCAL_KEY_BYTES], zero[LOCAL_KEY_BYTES] = {0};
	struct stat before, after;
	char *logged, said[512];

	assert_int_equal(lstat(f->key, &before), 0);
	if (load_logged(f, key, &logged) != BV_CONFIG)
		fail_msg("%s: key not refused", label);
	if (strstr(logged, f->key) == NULL || strstr(logged, why) == NULL)
		fail_msg("%s: logged \"%s\"", label, logged);
	free(logged);
	assert_memory_equal(key, zero, LOCAL_KEY_BYTES); /* wiped */
	assert_int_equal(lstat(f->key, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_mode, before.st_mode);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(local_key_check(f->store, said, sizeof(said)),
			 BV_CONFIG);
	if (strstr(said, "refused") == NULL || strstr(said, why) == NULL)
		fail_msg("%s: check said \"%s\"", label, said);
}

static void
test_key_refused(void **state)
{
	struct fixture *f = *state;
	char cmd[256];
	size_t i;

	for (i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->store);
		assert_int_equal(system(cmd), 0);
		make_store(f);
		bad_keys[i].make(f);
		assert_refused(f, bad_keys[i].label, bad_keys[i].why);
	}
}

/* Owned by someone else: only root can make such a file. */
static void
test_key_not_roots(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0)
		skip();
	make_store(f);
	make_group_readable(f);
	assert_int_equal(chmod(f->key, 0600), 0);
	assert_int_equal(chown(f->key, 65534, 65534), 0);
	assert_refused(f, "owned by nobody", "not owned by root");
}

/* A directory others can enter is refused before any key is made. */
static void
test_key_directory_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char key[LOCAL_KEY_BYTES];
	char *logged;

	assert_int_equal(mkdir(f->store, 0755), 0);
	assert_int_equal(chmod(f->store, 0755), 0);
	assert_int_equal(load_logged(f, key, &logged), BV_CONFIG);
	assert_non_null(strstr(logged, "must be owned by root with mode 0700"));
	free(logged);
	assert_int_equal(entries(f), 0);
}

/* ------------------------------------------------------------------ */
/* Entries.                                                            */

static void
open_mac(const struct fixture *f, struct local_mac *mac)
{
	assert_int_equal(local_mac_open(&f->cfg, &quiet, mac), BV_OK);
}

static void
seal(const struct local_mac *mac, const char *user, enum local_mac_kind kind,
     const char *secret, char *out)
{
	assert_int_equal(local_mac_seal(mac, user, kind, secret, out), BV_OK);
}

/* Self-describing, salted, in the record's alphabet, secret-free. */
static void
test_entry_form(void **state)
{
	struct fixture *f = *state;
	struct store_record rec = {0}, back = {0};
	struct local_mac mac;
	char e1[STORE_HASH_MAX], e2[STORE_HASH_MAX], *text;

	open_mac(f, &mac);
	seal(&mac, "alice", LOCAL_MAC_CODE, "123456", e1);
	seal(&mac, "alice", LOCAL_MAC_CODE, "123456", e2);
	assert_int_equal(strlen(e1), ENTRY_LEN);
	assert_int_equal(strncmp(e1, "$bvmac1$", 8), 0);
	assert_int_equal(strspn(e1 + 8, "0123456789abcdef$"), ENTRY_LEN - 8);
	assert_memory_equal(e1, e2, 8 + 16 + 1); /* one key, one id */
	assert_string_not_equal(e1, e2);	 /* a fresh salt each */
	assert_null(strstr(e1, "123456"));
	/* The record's parser takes it as it took crypt(3) hashes. */
	snprintf(rec.codes[0].hash, STORE_HASH_MAX, "%s", e1);
	rec.codes[0].expires = 1000;
	rec.ncodes = 1;
	snprintf(rec.tokens[0].hash, STORE_HASH_MAX, "%s", e2);
	rec.tokens[0].expires = 1000;
	rec.ntokens = 1;
	text = store_format(&rec);
	assert_non_null(text);
	assert_true(store_parse(text, strlen(text), &back));
	assert_string_equal(back.codes[0].hash, e1);
	assert_string_equal(back.tokens[0].hash, e2);
	free(text);
	local_mac_close(&mac);
}

/* Only the same secret, user, kind and key match. */
static void
test_entry_matches_only_its_own(void **state)
{
	struct fixture *f = *state;
	struct local_mac mac;
	char e[STORE_HASH_MAX];

	open_mac(f, &mac);
	seal(&mac, "alice", LOCAL_MAC_CODE, "123456", e);
	assert_true(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "123456", e));
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "123457", e));
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "1234567", e));
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "12345", e));
	assert_false(local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "", e));
	assert_false(
	    local_mac_matches(&mac, "bob", LOCAL_MAC_CODE, "123456", e));
	assert_false(
	    local_mac_matches(&mac, "alice2", LOCAL_MAC_CODE, "123456", e));
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_TOKEN, "123456", e));
	local_mac_close(&mac);
}

/*
 * An entry made under another host's key (or an earlier key of this
 * host) is a plain non-match, with its own id or with this key's id put
 * in its place.
 */
static void
test_entry_other_key(void **state)
{
	struct fixture *f = *state;
	struct local_mac a, b;
	char e[STORE_HASH_MAX], cmd[256];

	open_mac(f, &a);
	seal(&a, "alice", LOCAL_MAC_TOKEN, "tok", e);
	snprintf(cmd, sizeof(cmd), "rm -f '%s'", f->key);
	assert_int_equal(system(cmd), 0);
	open_mac(f, &b); /* a new key is made */
	assert_string_not_equal(a.id, b.id);
	assert_memory_not_equal(a.key, b.key, LOCAL_KEY_BYTES);
	assert_true(local_mac_matches(&a, "alice", LOCAL_MAC_TOKEN, "tok", e));
	assert_false(local_mac_matches(&b, "alice", LOCAL_MAC_TOKEN, "tok", e));
	memcpy(e + 8, b.id, 16);
	assert_false(local_mac_matches(&b, "alice", LOCAL_MAC_TOKEN, "tok", e));
	local_mac_close(&a);
	local_mac_close(&b);
}

/* Damaged entries and unknown forms never match. */
static void
test_entry_unknown_forms(void **state)
{
	struct fixture *f = *state;
	struct local_mac mac;
	char e[STORE_HASH_MAX], bad[STORE_HASH_MAX + 8];
	const char *forms[] = {
	    "",		"123456",   "abYq1qYHoYQ0k", /* DES crypt: never written
						      */
	    "$bvmac1$", "$bvmac2$", "$bv$",	     "*", "!", "$",
	};
	size_t i;

	open_mac(f, &mac);
	seal(&mac, "alice", LOCAL_MAC_CODE, "123456", e);
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "123456",
				      forms[i]))
			fail_msg("matched \"%s\"", forms[i]);
	/* The right entry, cut short, made longer, upper-cased, or under a
	   later version's prefix. */
	snprintf(bad, sizeof(bad), "%.*s", ENTRY_LEN - 1, e);
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "123456", bad));
	snprintf(bad, sizeof(bad), "%s0", e);
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "123456", bad));
	snprintf(bad, sizeof(bad), "%s", e);
	for (i = 8; i < ENTRY_LEN; i++)
		if (bad[i] >= 'a' && bad[i] <= 'f')
			bad[i] = (char)(bad[i] - 'a' + 'A');
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "123456", bad));
	snprintf(bad, sizeof(bad), "%s", e);
	bad[6] = '2';
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "123456", bad));
	snprintf(bad, sizeof(bad), "%s", e);
	bad[24] = '.'; /* the '$' after the key id */
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "123456", bad));
	local_mac_close(&mac);
}

/* A crypt(3) hash, as earlier versions stored codes and tokens. */
static void
test_entry_crypt_hash(void **state)
{
	struct fixture *f = *state;
	struct local_mac mac;
	char h[STORE_HASH_MAX];

	open_mac(f, &mac);
	assert_int_equal(store_hash("654321", h), BV_OK);
	assert_int_equal(h[0], '$');
	assert_true(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "654321", h));
	assert_false(
	    local_mac_matches(&mac, "alice", LOCAL_MAC_CODE, "654320", h));
	local_mac_close(&mac);
}

/* ------------------------------------------------------------------ */
/* Through the provider.                                               */

/* The local provider's context for alice, delivering to f->outbox. */
struct login {
	struct local_config lc;
	struct bv_ctx ctx;
	struct bv_outcome out;
};

static void
login_init(struct fixture *f, struct login *l)
{
	memset(l, 0, sizeof(*l));
	l->lc.delivery = (char *)(uintptr_t) "file";
	l->lc.file = f->outbox;
	l->lc.message = (char *)(uintptr_t) "code %c";
	l->lc.code_length = 6;
	l->lc.ttl = 600;
	l->lc.max_attempts = 5;
	l->ctx.cfg = &f->cfg;
	l->ctx.conf = &l->lc;
	l->ctx.state = calloc(1, local_provider.state_size);
	assert_non_null(l->ctx.state);
	l->ctx.log = &quiet;
	l->ctx.user = "alice";
	l->ctx.who = "user=alice";
	l->ctx.dest = "+14155550101";
	l->ctx.channel = BV_CHANNEL_SMS;
	l->out.attempts_left = -1;
}

static void
login_free(struct login *l)
{
	free(l->ctx.state);
}

static enum bv_result
check(struct login *l, const char *code, struct bv_proof *proof)
{
	memset(&l->out, 0, sizeof(l->out));
	return local_provider.check(&l->ctx, code, proof, &l->out);
}

static enum bv_result
validate(struct login *l, const char *token, bool consume)
{
	memset(&l->out, 0, sizeof(l->out));
	return local_provider.validate(&l->ctx, token, consume, &l->out);
}

/* The user's record as the store reads it. */
static void
read_record(struct fixture *f, struct store_record *rec)
{
	struct store_txn txn;

	assert_int_equal(store_open(&f->cfg, "alice", &quiet, &txn), BV_OK);
	*rec = txn.rec;
	store_close(&txn);
}

/*
 * A record the previous version wrote, a code and a proof token as
 * crypt(3) hashes, still verifies after the upgrade: the code is
 * accepted (and spent, its proof kept as a MAC), the old token is valid
 * and spent once.  No migration.
 */
static void
test_old_record_verifies(void **state)
{
	struct fixture *f = *state;
	const char *token = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
			    "00112233445566778899aabbccddeeff";
	char code_hash[STORE_HASH_MAX], token_hash[STORE_HASH_MAX];
	char text[512], path[160];
	struct bv_proof proof = {0};
	struct store_record rec;
	struct login l;
	long until = (long)time(NULL) + 300;

	make_store(f);
	assert_int_equal(store_hash("424242", code_hash), BV_OK);
	assert_int_equal(store_hash(token, token_hash), BV_OK);
	snprintf(text, sizeof(text),
		 "# pam_baxverify store record\nversion 1\n"
		 "code %s %ld 0\ntoken %s %ld\nfailures 0\n",
		 code_hash, until, token_hash, until);
	snprintf(path, sizeof(path), "%s/alice", f->store);
	write_bytes(path, text, strlen(text), 0600);

	login_init(f, &l);
	assert_int_equal(check(&l, "424243", &proof), BV_WRONG_CODE);
	assert_int_equal(check(&l, "424242", &proof), BV_OK);
	assert_non_null(proof.token);
	read_record(f, &rec);
	assert_int_equal(rec.ncodes, 0);
	assert_int_equal(rec.ntokens, 2);
	assert_string_equal(rec.tokens[0].hash, token_hash);
	assert_int_equal(strncmp(rec.tokens[1].hash, "$bvmac1$", 8), 0);
	assert_int_equal(validate(&l, token, false), BV_OK);
	assert_int_equal(validate(&l, token, true), BV_OK);
	assert_int_equal(validate(&l, token, false), BV_REJECTED);
	assert_int_equal(validate(&l, proof.token, true), BV_OK);
	assert_int_equal(validate(&l, proof.token, true), BV_REJECTED);
	bv_proof_clear(&proof);
	login_free(&l);
}

/* The code sent, as the outbox got it ("code NNNNNN"). */
static void
sent_code(const struct fixture *f, char *code)
{
	FILE *fp = fopen(f->outbox, "r");
	char line[256];

	assert_non_null(fp);
	code[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "code ") != NULL)
			snprintf(code, 7, "%s", strstr(line, "code ") + 5);
	fclose(fp);
	assert_int_equal(strlen(code), 6);
}

/*
 * A login now: the record holds $bvmac1$ entries only; once the host key
 * is replaced (another key), the live code is a wrong code, not damage.
 */
static void
test_new_entries_and_key_change(void **state)
{
	struct fixture *f = *state;
	char code[8], cmd[256];
	struct bv_proof proof = {0};
	struct store_record rec;
	struct login l;

	login_init(f, &l);
	assert_int_equal(local_provider.send(&l.ctx, &l.out), BV_OK);
	sent_code(f, code);
	read_record(f, &rec);
	assert_int_equal(rec.ncodes, 1);
	assert_int_equal(strncmp(rec.codes[0].hash, "$bvmac1$", 8), 0);
	assert_int_equal(check(&l, code, &proof), BV_OK);
	read_record(f, &rec);
	assert_int_equal(rec.ntokens, 1);
	assert_int_equal(strncmp(rec.tokens[0].hash, "$bvmac1$", 8), 0);
	assert_null(strstr(rec.tokens[0].hash, proof.token));

	assert_int_equal(local_provider.send(&l.ctx, &l.out), BV_OK);
	sent_code(f, code);
	snprintf(cmd, sizeof(cmd), "rm -f '%s'", f->key);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(check(&l, code, &proof), BV_WRONG_CODE);
	assert_int_equal(validate(&l, proof.token, false), BV_REJECTED);
	bv_proof_clear(&proof);
	login_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_key_made_once, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_key_race, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_not_roots, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_key_directory_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_entry_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_matches_only_its_own,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_other_key, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_entry_unknown_forms, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_entry_crypt_hash, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_old_record_verifies, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_new_entries_and_key_change,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
