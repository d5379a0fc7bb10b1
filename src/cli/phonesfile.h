/*
 * phonesfile.h - reading and atomically rewriting the phones file for
 * enroll, unenroll and list, keeping every other byte as it was.
 */
#ifndef BV_CLI_PHONESFILE_H
#define BV_CLI_PHONESFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* The file as read, under a lock on its directory. */
struct phonesfile {
	const char *path;
	char *text; /* the whole file, NUL-terminated ("" if none) */
	size_t len;
	bool exists;
	struct stat st; /* mode and owner to give the new file */
	int dir_fd;	/* the directory, flock'ed; -1 when closed */
};

/* A growing output buffer. */
struct pbuf {
	char *p;
	size_t len, cap;
	bool failed; /* out of memory: everything after is dropped */
};

/* One line of the text: [start, start + len), '\n' not included. */
struct pline {
	const char *start;
	size_t len;
	bool newline; /* ended with '\n' (the last line may not) */
};

/*
 * Lock the directory of path (flock: two administrators editing at once
 * must not lose each other's change) and read the file.  A missing file
 * reads as empty, to be created with mode 0644.  Returns a CLI_ status.
 */
int phonesfile_open(const char *path, struct phonesfile *pf);

/*
 * Replace the file with text: a temporary file in the same directory
 * with the original's mode and owner, written, fsync'd, renamed over the
 * original, and the directory fsync'd.  Returns a CLI_ status.
 */
int phonesfile_replace(struct phonesfile *pf, const char *text, size_t len);

/* Unlock and free. */
void phonesfile_close(struct phonesfile *pf);

/* The line at *pos of text, advancing *pos; false at the end. */
bool pline_next(const char *text, size_t len, size_t *pos, struct pline *l);

/* Is line l a line of user (its first field before any '#')? */
bool pline_is_user(const struct pline *l, const char *user);

/* The comment of l with the blanks before it, or NULL if it has none. */
const char *pline_comment(const struct pline *l, size_t *len);

void pbuf_add(struct pbuf *b, const char *s, size_t n);
void pbuf_adds(struct pbuf *b, const char *s);

#endif /* BV_CLI_PHONESFILE_H */
