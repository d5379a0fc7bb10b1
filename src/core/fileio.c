/*
 * fileio.c - read exactly, write fully.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "fileio.h"
#include "wipe.h"

bool
bv_read_exact(int fd, size_t size, char **out)
{
	char *buf = calloc(1, size + 1);
	size_t got = 0;
	ssize_t r;

	*out = NULL;
	if (buf == NULL) {
		errno = ENOMEM;
		return false;
	}
	while (got < size) {
		r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got != size) {
		bv_free_secret_len(buf, size + 1);
		if (errno == ENOMEM || errno == 0)
			errno = EIO;
		return false;
	}
	*out = buf;
	return true;
}

bool
bv_write_all(int fd, const char *text, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, text, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		text += w;
		len -= (size_t)w;
	}
	return true;
}
