/*
 * files.c - the store's first backend: one root-owned directory, one
 * file per user.  Every change happens under an fcntl lock on the user's
 * lock file and is written to a temporary file, fsync'd and renamed, so
 * a process killed at any instant leaves either the old or the new
 * state, and concurrent authentications of one user never lose an
 * update.  The providers' health record is one more file, "@health",
 * written the same way under its own lock and read without one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "../core/fileio.h"
#include "../core/wipe.h"

/* One open record: the directory, the lock, the file's names. */
struct files_txn {
	int lock_fd; /* -1 when not open */
	int dir_fd;
	char name[STORE_KEY_MAX];   /* the user's file name in the dir,
				       or the health record's */
	char legacy[STORE_KEY_MAX]; /* the record read was written under
				       this older name: commit moves it */
};

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

/*
 * Open the store directory (with create, creating it when missing) and
 * check who owns it.  Without create a missing directory is BV_OK with
 * *fd -1: nothing was ever stored.
 */
static enum bv_result
open_dir(const char *dir, const struct bv_log *log, bool create, int *fd)
{
	struct stat st;

	*fd = -1;
	if (dir == NULL || dir[0] != '/') {
		bv_log(log, LOG_ERR,
		       "store: directory must be an absolute path");
		return BV_CONFIG;
	}
	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		bv_log(log, LOG_ERR, "store: cannot create %s: %m", dir);
		return BV_CONFIG;
	}
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 && !create && errno == ENOENT)
		return BV_OK;
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
take_lock(struct files_txn *ft, const struct bv_log *log, const char *dir,
	  int steps)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct timespec ten_ms = {0, 10 * 1000 * 1000};
	char lock[STORE_KEY_MAX + 8];
	int i;

	snprintf(lock, sizeof(lock), "%s.lock", ft->name);
	ft->lock_fd = openat(ft->dir_fd, lock,
			     O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (ft->lock_fd < 0) {
		bv_log(log, LOG_ERR, "store: cannot open %s/%s: %m", dir, lock);
		return BV_CONFIG;
	}
	for (i = 0; i < steps; i++) {
		if (fcntl(ft->lock_fd, F_SETLK, &fl) == 0)
			return BV_OK;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			break;
		nanosleep(&ten_ms, NULL);
	}
	bv_log(log, LOG_ERR, "store: cannot lock %s/%s: %m", dir, lock);
	close(ft->lock_fd);
	ft->lock_fd = -1;
	return BV_CONFIG;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The legacy name of user's record, into ft->legacy, when it differs
 * from ft->name and may be read: one ending in ".lock" or ".tmp" is
 * (also) another user's lock or temporary file, never a record to take.
 */
static void
legacy_name(struct store_txn *txn, const char *user)
{
	struct files_txn *ft = txn->impl;
	char *l = ft->legacy;

	if (!file_name(user, l, sizeof(ft->legacy) - 8, true) ||
	    strcmp(l, ft->name) == 0 || ends_with(l, ".lock") ||
	    ends_with(l, ".tmp"))
		l[0] = '\0';
}

/* Open a file of the store for reading; -1 (errno set) when it cannot. */
static int
open_file(const struct store_txn *txn, const char *name)
{
	const struct files_txn *ft = txn->impl;
	/* O_NONBLOCK: a FIFO in its place is refused, not waited on. */
	return openat(ft->dir_fd, name,
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
	struct files_txn *ft = txn->impl;
	const char *name = ft->name;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;
	enum bv_result rc = BV_CONFIG;

	fd = open_file(txn, name);
	if (fd < 0 && errno == ENOENT && ft->legacy[0] != '\0') {
		name = ft->legacy;
		fd = open_file(txn, name);
	}
	if (fd < 0 && errno == ENOENT) {
		ft->legacy[0] = '\0'; /* nothing to move at commit */
		return BV_OK;
	}
	if (name == ft->name)
		ft->legacy[0] = '\0'; /* the new name wins */
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STORE_FILE_MAX) {
		bv_log(txn->log, LOG_ERR,
		       "store: %s/%s is unreadable or not "
		       "a regular file of sane size",
		       dir, name);
		goto out;
	}
	got = (size_t)st.st_size;
	if (!bv_read_exact(fd, got, &buf))
		buf = NULL;
	if (buf == NULL || !store_parse(buf, got, &txn->rec)) {
		/* Never reset: a damaged file could hide a lockout. */
		bv_log(txn->log, LOG_ERR,
		       "store: %s/%s is damaged; denying "
		       "until an administrator repairs or removes it",
		       dir, name);
		memset(&txn->rec, 0, sizeof(txn->rec));
		goto out;
	}
	rc = BV_OK;
out:
	if (rc != BV_OK)
		ft->legacy[0] = '\0';
	bv_free_secret_len(buf, got + 1);
	if (fd >= 0)
		close(fd);
	return rc;
}

static enum bv_result
files_open(const struct bv_config *cfg, const char *user, struct store_txn *txn)
{
	struct files_txn *ft = calloc(1, sizeof(*ft));
	const char *dir = cfg->store_dir;
	enum bv_result rc;

	if (ft == NULL)
		return BV_NOMEM;
	ft->lock_fd = -1;
	ft->dir_fd = -1;
	txn->impl = ft;
	if (!file_name(user, ft->name, sizeof(ft->name) - 8, false)) {
		bv_log(txn->log, LOG_ERR, "store: unusable user name");
		return BV_CONFIG;
	}
	legacy_name(txn, user);
	rc = open_dir(dir, txn->log, true, &ft->dir_fd);
	if (rc == BV_OK)
		rc = take_lock(ft, txn->log, dir, LOCK_STEPS);
	if (rc == BV_OK)
		rc = read_record(txn, dir);
	return rc;
}

/*
 * Replace ft->name with text: written to NAME.tmp, fsync'd and renamed
 * over it.  The caller holds NAME's lock, so the temporary name is its
 * alone; the directory's fsync is the caller's too.
 */
static enum bv_result
replace_file(const struct files_txn *ft, const struct bv_log *log,
	     const char *text)
{
	char tmp[STORE_KEY_MAX + 8];
	enum bv_result rc = BV_CONFIG;
	int fd = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", ft->name);
	fd =
	    openat(ft->dir_fd, tmp,
		   O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !bv_write_all(fd, text, strlen(text)) || fsync(fd) != 0) {
		bv_log(log, LOG_ERR, "store: cannot write %s: %m", tmp);
		goto out;
	}
	if (close(fd) != 0 ||
	    renameat(ft->dir_fd, tmp, ft->dir_fd, ft->name) != 0) {
		fd = -1;
		bv_log(log, LOG_ERR, "store: cannot replace %s: %m", ft->name);
		goto out;
	}
	fd = -1;
	rc = BV_OK;
out:
	if (fd >= 0) {
		close(fd);
		unlinkat(ft->dir_fd, tmp, 0);
	}
	return rc;
}

static enum bv_result
files_commit(struct store_txn *txn)
{
	struct files_txn *ft = txn->impl;
	enum bv_result rc;
	char *text;

	if (ft->lock_fd < 0)
		return BV_CONFIG;
	text = store_format(&txn->rec);
	if (text == NULL)
		return BV_NOMEM;
	rc = replace_file(ft, txn->log, text);
	if (rc != BV_OK)
		goto out;
	/* Moved from the legacy name: that file is stale now.  Left behind
	   it would do no harm (the new name wins), so only a warning. */
	if (ft->legacy[0] != '\0' && unlinkat(ft->dir_fd, ft->legacy, 0) != 0 &&
	    errno != ENOENT)
		bv_log(txn->log, LOG_WARNING,
		       "store: cannot remove %s, "
		       "replaced by %s: %m",
		       ft->legacy, ft->name);
	ft->legacy[0] = '\0';
	/* The rename (and unlink) must reach the disk too. */
	fsync(ft->dir_fd);
out:
	bv_free_secret(text);
	return rc;
}

/* Unlock, close and free ft (NULL: nothing). */
static void
release(struct files_txn *ft)
{
	if (ft == NULL)
		return;
	if (ft->lock_fd >= 0)
		close(ft->lock_fd); /* releases the fcntl lock */
	if (ft->dir_fd >= 0)
		close(ft->dir_fd);
	bv_free_secret_len(ft, sizeof(*ft));
}

static void
files_close(struct store_txn *txn)
{
	release(txn->impl);
	txn->impl = NULL;
}

/*
 * The providers' health record: one file for the host.  No user's file
 * can have its name: file_name writes '@' as %40 (the older naming did
 * too), so "@health", "@health.lock" and "@health.tmp" are nobody's
 * record, lock or temporary file, whatever the user name.
 */
#define HEALTH_NAME "@health"
/* A health record is a few lines; a bigger file is damage. */
#define HEALTH_FILE_MAX 4096
/*
 * How long to wait for the health lock, in 10 ms steps.  Whoever holds
 * it is writing the same news (a provider down, or back); a lock held
 * longer (a process stopped with it) costs a login this wait, never
 * the login itself.
 */
#define HEALTH_LOCK_STEPS 50

/*
 * Read and parse the health file in dir_fd: a missing one is no marks.
 * One that cannot be used is no marks too (BV_CONFIG), logged naming it
 * when say: it can only ever change the order providers are tried in,
 * so it must never stop a login.
 */
static enum bv_result
read_health(int dir_fd, const char *dir, const struct bv_log *log, bool say,
	    struct store_health *h)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	enum bv_result rc = BV_CONFIG;
	int fd;

	memset(h, 0, sizeof(*h));
	/* Writers rename a whole new file over it: no lock to read. */
	fd = openat(dir_fd, HEALTH_NAME,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return BV_OK;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > HEALTH_FILE_MAX) {
		if (say)
			bv_log(log, LOG_ERR,
			       "store: %s/%s is unreadable or not a regular "
			       "file of "
			       "sane size; ignored: providers are tried in the "
			       "configured order",
			       dir, HEALTH_NAME);
		goto out;
	}
	got = (size_t)st.st_size;
	if (!bv_read_exact(fd, got, &buf) || !store_health_parse(buf, got, h)) {
		if (say)
			bv_log(
			    log, LOG_ERR,
			    "store: %s/%s is damaged; ignored: providers are "
			    "tried in the configured order until it is "
			    "replaced "
			    "(baxverify reset --providers)",
			    dir, HEALTH_NAME);
		goto out;
	}
	rc = BV_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

static enum bv_result
files_health_read(const struct bv_config *cfg, const struct bv_log *log,
		  struct store_health *h)
{
	enum bv_result rc;
	int dir_fd = -1;

	memset(h, 0, sizeof(*h));
	/* A look creates nothing: no directory, no record. */
	rc = open_dir(cfg->store_dir, log, false, &dir_fd);
	if (rc == BV_OK && dir_fd >= 0)
		rc = read_health(dir_fd, cfg->store_dir, log, true, h);
	if (dir_fd >= 0)
		close(dir_fd);
	return rc;
}

static enum bv_result
files_health_open(const struct bv_config *cfg, struct store_health_txn *txn)
{
	struct files_txn *ft = calloc(1, sizeof(*ft));
	const char *dir = cfg->store_dir;
	enum bv_result rc;

	if (ft == NULL)
		return BV_NOMEM;
	ft->lock_fd = -1;
	ft->dir_fd = -1;
	txn->impl = ft;
	snprintf(ft->name, sizeof(ft->name), "%s", HEALTH_NAME);
	rc = open_dir(dir, txn->log, true, &ft->dir_fd);
	if (rc == BV_OK)
		rc = take_lock(ft, txn->log, dir, HEALTH_LOCK_STEPS);
	/* Damaged: read as no marks, and the commit replaces it.  Said
	   by the look every login takes first (files_health_read). */
	if (rc == BV_OK && read_health(ft->dir_fd, dir, txn->log, false,
				       &txn->rec) == BV_CONFIG)
		memset(&txn->rec, 0, sizeof(txn->rec));
	return rc;
}

static enum bv_result
files_health_commit(struct store_health_txn *txn)
{
	struct files_txn *ft = txn->impl;
	enum bv_result rc;
	char *text;

	if (ft->lock_fd < 0)
		return BV_CONFIG;
	text = store_health_format(&txn->rec);
	if (text == NULL)
		return BV_NOMEM;
	rc = replace_file(ft, txn->log, text);
	if (rc == BV_OK)
		fsync(ft->dir_fd);
	free(text);
	return rc;
}

static void
files_health_close(struct store_health_txn *txn)
{
	release(txn->impl);
	txn->impl = NULL;
}

const struct store_backend store_files = {
    .name = "files",
    .open = files_open,
    .commit = files_commit,
    .close = files_close,
    .health_read = files_health_read,
    .health_open = files_health_open,
    .health_commit = files_health_commit,
    .health_close = files_health_close,
};
