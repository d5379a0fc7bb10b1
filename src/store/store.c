/*
 * store.c - the per-user record: safe open, lock, temp + fsync + rename.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "../core/fileio.h"
#include "../core/wipe.h"

/* A record never grows near this; a bigger file is damage. */
#define STORE_FILE_MAX (64 * 1024)
/* How long to wait for another process's lock, in 10 ms steps. */
#define LOCK_STEPS 500

/*
 * The user's file name: letters, digits, '_' and '-' as they are, every
 * other byte as %XX -- the '.' too, so no user name can reach outside the
 * directory, and none can end in ".lock" or ".tmp": every name with a
 * '.' in it is a lock or temporary file, never a record (a user
 * "alice.lock" once wrote over alice's lock file).
 *
 * legacy: the naming before that, with '.' as it is (except in front),
 * for reading a record written then.
 */
static bool
file_name(const char *user, char *out, size_t outsz, bool legacy)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *user != '\0'; user++) {
		unsigned char c = (unsigned char)*user;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '_' || c == '-' ||
			     (c == '.' && o > 0 && legacy);

		if (o + 4 >= outsz)
			return false;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o > 0;
}

/* Open (creating if needed) the store directory and check who owns it. */
static enum bv_result
open_dir(const char *dir, const struct bv_log *log, int *fd)
{
	struct stat st;

	*fd = -1;
	if (dir == NULL || dir[0] != '/') {
		bv_log(log, LOG_ERR, "store: directory must be an absolute path");
		return BV_CONFIG;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		bv_log(log, LOG_ERR, "store: cannot create %s: %m", dir);
		return BV_CONFIG;
	}
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &st) != 0) {
		bv_log(log, LOG_ERR, "store: cannot open %s: %m", dir);
		return BV_CONFIG;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		bv_log(log, LOG_ERR,
		       "store: refused: %s must be owned by root with mode "
		       "0700 (it is %04o)",
		       dir, (unsigned)(st.st_mode & 07777));
		return BV_CONFIG;
	}
	return BV_OK;
}

/*
 * Take the user's lock.  F_SETLK in a bounded loop rather than F_SETLKW:
 * a blocking wait could only be broken by a signal, and signals belong to
 * the host program.
 */
static enum bv_result
take_lock(struct store_txn *txn, const char *dir)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
	char lock[STORE_KEY_MAX + 8];
	int i;

	snprintf(lock, sizeof(lock), "%s.lock", txn->name);
	txn->lock_fd = openat(txn->dir_fd, lock,
			      O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (txn->lock_fd < 0) {
		bv_log(txn->log, LOG_ERR, "store: cannot open %s/%s: %m", dir,
		       lock);
		return BV_CONFIG;
	}
	for (i = 0; i < LOCK_STEPS; i++) {
		if (fcntl(txn->lock_fd, F_SETLK, &fl) == 0)
			return BV_OK;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			break;
		nanosleep(&ten_ms, NULL);
	}
	bv_log(txn->log, LOG_ERR, "store: cannot lock %s/%s: %m", dir, lock);
	close(txn->lock_fd);
	txn->lock_fd = -1;
	return BV_CONFIG;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The legacy name of user's record, into txn->legacy, when it differs
 * from txn->name and may be read: one ending in ".lock" or ".tmp" is
 * (also) another user's lock or temporary file, never a record to take.
 */
static void
legacy_name(struct store_txn *txn, const char *user)
{
	char *l = txn->legacy;

	if (!file_name(user, l, sizeof(txn->legacy) - 8, true) ||
	    strcmp(l, txn->name) == 0 || ends_with(l, ".lock") ||
	    ends_with(l, ".tmp"))
		l[0] = '\0';
}

/* Open a file of the store for reading; -1 (errno set) when it cannot. */
static int
open_file(const struct store_txn *txn, const char *name)
{
	/* O_NONBLOCK: a FIFO in its place is refused, not waited on. */
	return openat(txn->dir_fd, name,
		      O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			      O_NONBLOCK);
}

/*
 * Read and parse the user's file; a missing one is an empty record.  When
 * only a record of the legacy name exists, it is read, and store_commit
 * moves it to the new name (under this lock, the user's only one).
 */
static enum bv_result
read_record(struct store_txn *txn, const char *dir)
{
	const char *name = txn->name;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;
	enum bv_result rc = BV_CONFIG;

	fd = open_file(txn, name);
	if (fd < 0 && errno == ENOENT && txn->legacy[0] != '\0') {
		name = txn->legacy;
		fd = open_file(txn, name);
	}
	if (fd < 0 && errno == ENOENT) {
		txn->legacy[0] = '\0'; /* nothing to move at commit */
		return BV_OK;
	}
	if (name == txn->name)
		txn->legacy[0] = '\0'; /* the new name wins */
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STORE_FILE_MAX) {
		bv_log(txn->log, LOG_ERR, "store: %s/%s is unreadable or not "
		       "a regular file of sane size", dir, name);
		goto out;
	}
	got = (size_t)st.st_size;
	if (!bv_read_exact(fd, got, &buf))
		buf = NULL;
	if (buf == NULL || !store_parse(buf, got, &txn->rec)) {
		/* Never reset: a damaged file could hide a lockout. */
		bv_log(txn->log, LOG_ERR, "store: %s/%s is damaged; denying "
		       "until an administrator repairs or removes it",
		       dir, name);
		memset(&txn->rec, 0, sizeof(txn->rec));
		goto out;
	}
	rc = BV_OK;
out:
	if (rc != BV_OK)
		txn->legacy[0] = '\0';
	bv_free_secret_len(buf, got + 1);
	if (fd >= 0)
		close(fd);
	return rc;
}

enum bv_result
store_open(const char *dir, const char *user, const struct bv_log *log,
	   struct store_txn *txn)
{
	enum bv_result rc;

	memset(txn, 0, sizeof(*txn));
	txn->lock_fd = -1;
	txn->dir_fd = -1;
	txn->log = log;
	if (!file_name(user, txn->name, sizeof(txn->name) - 8, false)) {
		bv_log(log, LOG_ERR, "store: unusable user name");
		return BV_CONFIG;
	}
	legacy_name(txn, user);
	rc = open_dir(dir, log, &txn->dir_fd);
	if (rc == BV_OK)
		rc = take_lock(txn, dir);
	if (rc == BV_OK)
		rc = read_record(txn, dir);
	return rc;
}

enum bv_result
store_commit(struct store_txn *txn)
{
	char tmp[STORE_KEY_MAX + 8], *text;
	enum bv_result rc = BV_CONFIG;
	int fd = -1;

	if (txn->lock_fd < 0)
		return BV_CONFIG;
	text = store_format(&txn->rec);
	if (text == NULL)
		return BV_NOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", txn->name);
	/* We hold the lock, so the temporary name is ours alone. */
	fd = openat(txn->dir_fd, tmp,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0 || !bv_write_all(fd, text, strlen(text)) || fsync(fd) != 0) {
		bv_log(txn->log, LOG_ERR, "store: cannot write %s: %m", tmp);
		goto out;
	}
	if (close(fd) != 0 ||
	    renameat(txn->dir_fd, tmp, txn->dir_fd, txn->name) != 0) {
		fd = -1;
		bv_log(txn->log, LOG_ERR, "store: cannot replace %s: %m",
		       txn->name);
		goto out;
	}
	fd = -1;
	/* Moved from the legacy name: that file is stale now.  Left behind
	   it would do no harm (the new name wins), so only a warning. */
	if (txn->legacy[0] != '\0' &&
	    unlinkat(txn->dir_fd, txn->legacy, 0) != 0 && errno != ENOENT)
		bv_log(txn->log, LOG_WARNING, "store: cannot remove %s, "
		       "replaced by %s: %m", txn->legacy, txn->name);
	txn->legacy[0] = '\0';
	/* The rename (and unlink) must reach the disk too. */
	fsync(txn->dir_fd);
	rc = BV_OK;
out:
	if (fd >= 0) {
		close(fd);
		unlinkat(txn->dir_fd, tmp, 0);
	}
	bv_free_secret(text);
	return rc;
}

void
store_close(struct store_txn *txn)
{
	if (txn->lock_fd >= 0)
		close(txn->lock_fd); /* releases the fcntl lock */
	if (txn->dir_fd >= 0)
		close(txn->dir_fd);
	explicit_bzero(&txn->rec, sizeof(txn->rec));
	txn->lock_fd = -1;
	txn->dir_fd = -1;
}

void
store_prune(struct store_record *rec, time_t now)
{
	size_t i, n = 0;

	for (i = 0; i < rec->nsends; i++)
		if (rec->sends[i] > now - 3600)
			rec->sends[n++] = rec->sends[i];
	rec->nsends = n;
	for (i = 0, n = 0; i < rec->nremember; i++)
		if (rec->remember[i].until > now)
			rec->remember[n++] = rec->remember[i];
	rec->nremember = n;
	for (i = 0, n = 0; i < rec->ncodes; i++)
		if (rec->codes[i].expires > now)
			rec->codes[n++] = rec->codes[i];
	rec->ncodes = n;
	for (i = 0, n = 0; i < rec->ntokens; i++)
		if (rec->tokens[i].expires > now)
			rec->tokens[n++] = rec->tokens[i];
	rec->ntokens = n;
	/* A lockout that ran out starts the count afresh (as pam_faillock). */
	if (rec->locked_until != 0 && rec->locked_until <= now) {
		rec->locked_until = 0;
		rec->failures = 0;
	}
}

enum bv_result
store_hash(const char *secret, char *out)
{
	struct crypt_data *cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	enum bv_result rc = BV_CONFIG;
	const char *h;

	/* NULL prefix: the system's preferred method, entropy from the OS. */
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return BV_CONFIG;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return BV_NOMEM;
	h = crypt_r(secret, salt, cd);
	if (h != NULL && h[0] != '*' && strlen(h) < STORE_HASH_MAX) {
		snprintf(out, STORE_HASH_MAX, "%s", h);
		rc = BV_OK;
	}
	bv_free_secret_len(cd, sizeof(*cd));
	return rc;
}

bool
store_hash_matches(const char *secret, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	bool ok = false;

	if (hash[0] == '\0')
		return false;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return false;
	h = crypt_r(secret, hash, cd);
	ok = h != NULL && h[0] != '*' && bv_consttime_streq(h, hash);
	bv_free_secret_len(cd, sizeof(*cd));
	return ok;
}
