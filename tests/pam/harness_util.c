/*
 * harness_util.c - small helpers of the pam_wrapper + libpamtest
 * programs: PAM code names, whole files, growing strings, a refused port,
 * a monotonic clock.
 */

#include "harness.h"
#include "harness_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *
pam_rc_name(int rc)
{
	switch (rc) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_AUTH_ERR:
		return "PAM_AUTH_ERR";
	case PAM_MAXTRIES:
		return "PAM_MAXTRIES";
	case PAM_AUTHINFO_UNAVAIL:
		return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SERVICE_ERR:
		return "PAM_SERVICE_ERR";
	case PAM_IGNORE:
		return "PAM_IGNORE";
	case PAM_USER_UNKNOWN:
		return "PAM_USER_UNKNOWN";
	case PAM_SESSION_ERR:
		return "PAM_SESSION_ERR";
	case PAM_PERM_DENIED:
		return "PAM_PERM_DENIED";
	case PAM_BUF_ERR:
		return "PAM_BUF_ERR";
	case PAM_CONV_ERR:
		return "PAM_CONV_ERR";
	case PAM_SYSTEM_ERR:
		return "PAM_SYSTEM_ERR";
	case PAM_INCOMPLETE:
		return "PAM_INCOMPLETE";
	default:
		return "PAM_(other)";
	}
}

char *
read_whole_file(const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;
	size_t len = 0;

	f = fopen(path, "re");
	if (f == NULL)
		return strdup("");
	for (;;) {
		size_t n;

		if (cap - len < 4097) {
			char *nb = realloc(buf, cap + 8192);

			assert_non_null(nb);
			buf = nb;
			cap += 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	size_t len = strlen(text);

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

void
sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	if (sb->len + (size_t)n + 1 > sb->cap) {
		size_t ncap = (sb->len + (size_t)n + 1) * 2;
		char *ns = realloc(sb->s, ncap);

		assert_non_null(ns);
		sb->s = ns;
		sb->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

unsigned
count_lines(const char *s)
{
	unsigned n = 0;

	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\n')
			n++;
	}
	return n;
}

void
append_line(char **buf, size_t *len, const char *text)
{
	size_t n = strlen(text);
	char *nb = realloc(*buf, *len + n + 2);

	assert_non_null(nb);
	*buf = nb;
	memcpy(*buf + *len, text, n);
	*len += n;
	(*buf)[(*len)++] = '\n';
	(*buf)[*len] = '\0';
}

int
closed_port(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
