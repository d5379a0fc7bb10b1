/*
 * phonesfile.c - the phones file as text: lock, read, split into lines,
 * and replace atomically (temp file, fsync, rename, fsync the directory),
 * so that the module reading it at any instant sees the old file or the
 * new one, never half of one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "phonesfile.h"
#include "../core/fileio.h"

/* The module refuses a larger registry; so do we. */
#define PHONES_MAX_BYTES (1024 * 1024)

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Open and flock path's directory. */
static int
lock_dir(struct phonesfile *pf)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(pf->path, '/');
	size_t n = slash != NULL ? (size_t)(slash - pf->path) : 0;

	if (slash == NULL || n >= sizeof(dir)) {
		fprintf(stderr, "baxverify: %s: not an absolute path\n",
			pf->path);
		return CLI_CONFIG;
	}
	memcpy(dir, pf->path, n);
	dir[n] = '\0';
	pf->dir_fd =
	    open(n > 0 ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pf->dir_fd < 0 || flock(pf->dir_fd, LOCK_EX) != 0) {
		fprintf(stderr,
			"baxverify: cannot lock the directory of %s: "
			"%s\n",
			pf->path, strerror(errno));
		return CLI_IO;
	}
	return CLI_OK;
}

static int
read_all(struct phonesfile *pf, int fd)
{
	if (!bv_read_exact(fd, (size_t)pf->st.st_size, &pf->text)) {
		fprintf(stderr, "baxverify: %s: read error or short read\n",
			pf->path);
		return CLI_IO;
	}
	pf->len = (size_t)pf->st.st_size;
	return CLI_OK;
}

int
phonesfile_open(const char *path, struct phonesfile *pf)
{
	int fd = -1, status;

	memset(pf, 0, sizeof(*pf));
	pf->path = path;
	pf->dir_fd = -1;
	status = lock_dir(pf);
	if (status != CLI_OK)
		goto out;
	/* O_NONBLOCK: a FIFO here must be refused, not waited on. */
	fd = open(path,
		  O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		pf->st.st_mode = S_IFREG | 0644; /* what the module accepts */
		pf->st.st_uid = geteuid();
		pf->st.st_gid = getegid();
		pf->text = calloc(1, 1);
		status = pf->text != NULL ? CLI_OK : CLI_IO;
		goto out;
	}
	status = CLI_IO;
	if (fd < 0 || fstat(fd, &pf->st) != 0 || !S_ISREG(pf->st.st_mode) ||
	    pf->st.st_size > PHONES_MAX_BYTES) {
		fprintf(stderr, "baxverify: %s: %s\n", path,
			fd < 0 ? strerror(errno)
			       : "not a regular file of sane size");
		goto out;
	}
	pf->exists = true;
	status = read_all(pf, fd);
out:
	if (fd >= 0)
		close(fd);
	return status;
}

/* Give the new file the original's mode and owner, and fill it. */
static int
fill_tmp(int fd, const struct phonesfile *pf, const char *text, size_t len)
{
	/* Mode first, then owner: never readable by more than intended. */
	if (fchmod(fd, pf->st.st_mode & 07777) != 0 ||
	    (fchown(fd, pf->st.st_uid, pf->st.st_gid) != 0 &&
	     pf->st.st_uid != geteuid()) ||
	    !bv_write_all(fd, text, len) || fsync(fd) != 0)
		return errno != 0 ? errno : EIO;
	return 0;
}

int
phonesfile_replace(struct phonesfile *pf, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	const char *base = strrchr(pf->path, '/') + 1;
	int fd = -1, err = ENAMETOOLONG, n;
	bool made = false;

	/* Same directory: rename(2) is atomic only within a file system. */
	n = snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)(base - pf->path),
		     pf->path, base);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	err = errno;
	if (fd < 0)
		goto out;
	made = true;
	err = fill_tmp(fd, pf, text, len);
	if (err != 0)
		goto out;
	n = close(fd);
	fd = -1;
	err = n != 0 || rename(tmp, pf->path) != 0 ? errno : 0;
	if (err != 0)
		goto out;
	made = false;
	fsync(pf->dir_fd); /* the rename itself must reach the disk */
out:
	if (err != 0)
		fprintf(stderr, "baxverify: cannot write %s: %s\n", pf->path,
			strerror(err));
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	return err == 0 ? CLI_OK : CLI_IO;
}

void
phonesfile_close(struct phonesfile *pf)
{
	free(pf->text);
	pf->text = NULL;
	if (pf->dir_fd >= 0)
		close(pf->dir_fd); /* releases the flock */
	pf->dir_fd = -1;
}

bool
pline_next(const char *text, size_t len, size_t *pos, struct pline *l)
{
	const char *nl;

	if (*pos >= len)
		return false;
	l->start = text + *pos;
	nl = memchr(l->start, '\n', len - *pos);
	l->newline = nl != NULL;
	l->len = nl != NULL ? (size_t)(nl - l->start) : len - *pos;
	*pos += l->len + (l->newline ? 1 : 0);
	return true;
}

bool
pline_is_user(const struct pline *l, const char *user)
{
	size_t i = 0, start, ulen = strlen(user);

	while (i < l->len && is_blank(l->start[i]))
		i++;
	start = i;
	while (i < l->len && !is_blank(l->start[i]) && l->start[i] != '#')
		i++;
	return i - start == ulen && ulen > 0 &&
	       memcmp(l->start + start, user, ulen) == 0;
}

const char *
pline_comment(const struct pline *l, size_t *len)
{
	const char *hash = memchr(l->start, '#', l->len);

	if (hash == NULL)
		return NULL;
	/* With the blanks before it: the column it was aligned to stays. */
	while (hash > l->start && is_blank(hash[-1]))
		hash--;
	*len = l->len - (size_t)(hash - l->start);
	return hash;
}

void
pbuf_add(struct pbuf *b, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
pbuf_adds(struct pbuf *b, const char *s)
{
	pbuf_add(b, s, strlen(s));
}
