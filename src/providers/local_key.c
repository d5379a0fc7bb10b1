/*
 * local_key.c - the local provider's host key (local_key.h): found, or
 * made once, in store.dir; refused when anyone but root could have read
 * or replaced it.
 *
 * The key file's directory is checked here, not by the store's files
 * backend: the key belongs to this host whatever the store is kept in (a
 * shared store would hold the records, never the key).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "local_key.h"
#include "../core/fileio.h"

_Static_assert(LOCAL_KEY_BYTES == 32, "the messages below say 32 bytes");

/* Random bytes naming one helper's temporary key file. */
#define TMP_TAG_BYTES 8

/* Open (creating if needed) the store directory and check who owns it. */
static enum bv_result
open_dir(const char *dir, const struct bv_log *log, int *fd)
{
	struct stat st;

	*fd = -1;
	if (dir == NULL || dir[0] != '/') {
		bv_log(log, LOG_ERR,
		       "local: store.dir must be an absolute path");
		return BV_CONFIG;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		bv_log(log, LOG_ERR, "local: cannot create %s: %m", dir);
		return BV_CONFIG;
	}
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &st) != 0) {
		bv_log(log, LOG_ERR, "local: cannot open %s: %m", dir);
		return BV_CONFIG;
	}
	/* Whoever can write the directory can swap the key for their own. */
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		bv_log(log, LOG_ERR,
		       "local: refused: %s must be owned by root with mode "
		       "0700 (it is %04o)",
		       dir, (unsigned)(st.st_mode & 07777));
		return BV_CONFIG;
	}
	return BV_OK;
}

/* Why the opened file fd cannot be the key, or NULL when it can. */
static const char *
refusal(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return "cannot be examined";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return "not owned by root";
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return "group or others have access (mode must be 0600 or "
		       "0400)";
	if (st.st_size != LOCAL_KEY_BYTES)
		return "not exactly 32 bytes long";
	return NULL;
}

/*
 * Open the key file in dir_fd and vet it: the descriptor, or -1 with
 * *why saying what is wrong, or with *why NULL when there is no key yet.
 * O_NONBLOCK: a FIFO in its place is refused, not waited on.
 */
static int
open_vetted(int dir_fd, const char **why)
{
	int fd;

	*why = NULL;
	fd = openat(dir_fd, LOCAL_KEY_FILE,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			*why = "a symbolic link";
		else if (errno != ENOENT)
			*why = strerror(errno);
		return -1;
	}
	*why = refusal(fd);
	if (*why != NULL) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
read_key(int fd, unsigned char *key)
{
	size_t got = 0;
	ssize_t r;

	while (got < LOCAL_KEY_BYTES) {
		r = read(fd, key + got, LOCAL_KEY_BYTES - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* A temporary name of this helper's own: ".host.key.HEX.tmp". */
static bool
tmp_name(char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char tag[TMP_TAG_BYTES];
	size_t i, o;

	if (!local_random_bytes(tag, sizeof(tag)))
		return false;
	o = (size_t)snprintf(out, outsz, "%s.", LOCAL_KEY_FILE);
	for (i = 0; i < sizeof(tag) && o + 2 < outsz; i++) {
		out[o++] = hex[tag[i] >> 4];
		out[o++] = hex[tag[i] & 15];
	}
	snprintf(out + o, outsz - o, ".tmp");
	return true;
}

/*
 * Make the key: written in full to a temporary file first, so that the
 * name never shows a partial key; linked, never renamed, into place, so
 * that a key another helper linked meanwhile is never replaced (this one
 * is then dropped, and both read that one).  A temporary file left by a
 * process killed here is harmless: nothing reads it.
 */
static enum bv_result
make_key(int dir_fd, const char *dir, const struct bv_log *log)
{
	unsigned char key[LOCAL_KEY_BYTES];
	char tmp[sizeof(LOCAL_KEY_FILE) + 2 * TMP_TAG_BYTES + 8];
	enum bv_result rc = BV_CONFIG;
	bool made = false;
	int fd = -1;

	if (!local_random_bytes(key, sizeof(key)) ||
	    !tmp_name(tmp, sizeof(tmp))) {
		rc = BV_INTERNAL; /* the kernel, not the configuration */
		goto out;
	}
	fd = openat(dir_fd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	made = fd >= 0;
	/* fchmod: the umask of whoever runs baxverify(8) must not matter. */
	if (fd < 0 || fchmod(fd, 0600) != 0 ||
	    !bv_write_all(fd, (const char *)key, sizeof(key)) ||
	    fsync(fd) != 0) {
		bv_log(log, LOG_ERR, "local: cannot write %s/%s: %m", dir, tmp);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		bv_log(log, LOG_ERR, "local: cannot write %s/%s: %m", dir, tmp);
		goto out;
	}
	fd = -1;
	if (linkat(dir_fd, tmp, dir_fd, LOCAL_KEY_FILE, 0) == 0)
		bv_log(log, LOG_INFO, "local: made the host key %s/%s", dir,
		       LOCAL_KEY_FILE);
	else if (errno != EEXIST) {
		bv_log(log, LOG_ERR, "local: cannot make %s/%s: %m", dir,
		       LOCAL_KEY_FILE);
		goto out;
	}
	rc = BV_OK;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		unlinkat(dir_fd, tmp, 0);
	/* The link (and the unlink) must reach the disk too. */
	if (rc == BV_OK)
		fsync(dir_fd);
	explicit_bzero(key, sizeof(key));
	return rc;
}

enum bv_result
local_key_load(const char *dir, const struct bv_log *log,
	       unsigned char key[LOCAL_KEY_BYTES])
{
	const char *why = NULL;
	enum bv_result rc;
	int dir_fd = -1, fd = -1;

	rc = open_dir(dir, log, &dir_fd);
	if (rc != BV_OK)
		goto out;
	fd = open_vetted(dir_fd, &why);
	if (fd < 0 && why == NULL) {
		rc = make_key(dir_fd, dir, log);
		if (rc != BV_OK)
			goto out;
		fd = open_vetted(dir_fd, &why);
	}
	if (fd < 0) {
		bv_log(log, LOG_ERR,
		       "local: host key %s/%s refused: %s; remove it and a "
		       "new one is made at the next code",
		       dir, LOCAL_KEY_FILE, why ? why : "missing");
		rc = BV_CONFIG;
		goto out;
	}
	if (!read_key(fd, key)) {
		bv_log(log, LOG_ERR, "local: cannot read %s/%s: %m", dir,
		       LOCAL_KEY_FILE);
		rc = BV_CONFIG;
	}
out:
	if (fd >= 0)
		close(fd);
	if (dir_fd >= 0)
		close(dir_fd);
	if (rc != BV_OK)
		explicit_bzero(key, LOCAL_KEY_BYTES);
	return rc;
}

enum bv_result
local_key_check(const char *dir, char *said, size_t saidsz)
{
	const char *why = NULL;
	int dir_fd, fd = -1;

	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0 && errno != ENOENT) {
		snprintf(said, saidsz, "host key %s/%s: cannot open %s: %s",
			 dir, LOCAL_KEY_FILE, dir, strerror(errno));
		return BV_CONFIG;
	}
	if (dir_fd >= 0)
		fd = open_vetted(dir_fd, &why);
	if (fd >= 0)
		close(fd);
	if (dir_fd >= 0)
		close(dir_fd);
	if (why != NULL) {
		snprintf(said, saidsz, "host key %s/%s refused: %s", dir,
			 LOCAL_KEY_FILE, why);
		return BV_CONFIG;
	}
	if (fd < 0)
		snprintf(said, saidsz,
			 "host key %s/%s: not made yet; it is made (mode "
			 "0600) at the first code",
			 dir, LOCAL_KEY_FILE);
	else
		snprintf(said, saidsz, "host key %s/%s: ok", dir,
			 LOCAL_KEY_FILE);
	return BV_OK;
}
