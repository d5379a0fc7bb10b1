/*
 * proto.c - framing for the module <-> helper socket.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "../core/wipe.h"

long
proto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
proto_init(struct proto_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
}

bool
proto_add(struct proto_msg *m, const char *s)
{
	char *copy;

	if (m->nfields == PROTO_MAX_FIELDS)
		return false;
	copy = strdup(s != NULL ? s : "");
	if (copy == NULL)
		return false;
	m->field[m->nfields++] = copy;
	return true;
}

bool
proto_add_long(struct proto_msg *m, long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%ld", v);
	return proto_add(m, num);
}

const char *
proto_get(const struct proto_msg *m, size_t i)
{
	return i < m->nfields ? m->field[i] : "";
}

bool
proto_get_long(const struct proto_msg *m, size_t i, long *v)
{
	const char *s = proto_get(m, i);
	char *end = NULL;

	if (*s == '\0')
		return false;
	errno = 0;
	*v = strtol(s, &end, 10);
	return errno == 0 && *end == '\0';
}

void
proto_clear(struct proto_msg *m)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		bv_free_secret(m->field[i]);
	memset(m, 0, sizeof(*m));
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Everything, or false; MSG_NOSIGNAL: a dead peer is no SIGPIPE. */
static bool
send_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

enum bv_result
proto_write(int fd, const struct proto_msg *m, const char **why)
{
	size_t total = 1, i, o;
	unsigned char *buf;
	enum bv_result rc = BV_OK;

	for (i = 0; i < m->nfields; i++)
		total += 4 + strlen(m->field[i]);
	if (total > PROTO_MAX_FRAME) {
		*why = "message too large";
		return BV_INTERNAL;
	}
	buf = malloc(4 + total);
	if (buf == NULL)
		return BV_NOMEM;
	put_u32(buf, (uint32_t)total);
	buf[4] = (unsigned char)m->type;
	for (i = 0, o = 5; i < m->nfields; i++) {
		size_t n = strlen(m->field[i]);

		put_u32(buf + o, (uint32_t)n);
		memcpy(buf + o + 4, m->field[i], n);
		o += 4 + n;
	}
	if (!send_all(fd, buf, 4 + total)) {
		*why = "the other side is gone";
		rc = BV_INTERNAL;
	}
	bv_free_secret_len(buf, 4 + total);
	return rc;
}

/* Exactly len bytes before the deadline. */
static enum bv_result
read_all(int fd, long deadline, unsigned char *buf, size_t len,
	 const char **why)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n;
	long wait;
	int r;

	while (len > 0) {
		wait = deadline < 0 ? -1 : deadline - proto_now_ms();
		/* Past the deadline (say, this process was stopped): what
		   already arrived still counts. */
		r = poll(&pfd, 1,
			 wait < 0 && deadline >= 0 ? 0
			 : wait > INT_MAX	   ? INT_MAX
						   : (int)wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			*why = "no answer before the deadline";
			return BV_INTERNAL;
		}
		n = r < 0 ? -1 : read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = n == 0 ? "end of file" : strerror(errno);
			return BV_INTERNAL;
		}
		buf += n;
		len -= (size_t)n;
	}
	return BV_OK;
}

/* Split a frame's payload into fields. */
static enum bv_result
parse(const unsigned char *p, size_t len, struct proto_msg *m, const char **why)
{
	size_t o = 1, n;

	proto_init(m, p[0]);
	while (o < len) {
		if (len - o < 4 || m->nfields == PROTO_MAX_FIELDS)
			goto bad;
		n = get_u32(p + o);
		o += 4;
		if (n > len - o || memchr(p + o, '\0', n) != NULL)
			goto bad;
		m->field[m->nfields] = malloc(n + 1);
		if (m->field[m->nfields] == NULL)
			return BV_NOMEM;
		memcpy(m->field[m->nfields], p + o, n);
		m->field[m->nfields++][n] = '\0';
		o += n;
	}
	return BV_OK;
bad:
	*why = "malformed message";
	return BV_INTERNAL;
}

enum bv_result
proto_read(int fd, long deadline, struct proto_msg *m, const char **why)
{
	unsigned char head[4], *buf = NULL;
	uint32_t len = 0;
	enum bv_result rc;

	proto_init(m, 0);
	rc = read_all(fd, deadline, head, sizeof(head), why);
	if (rc != BV_OK)
		goto out;
	len = get_u32(head);
	if (len == 0 || len > PROTO_MAX_FRAME) {
		*why = "malformed message";
		rc = BV_INTERNAL;
		goto out;
	}
	buf = malloc(len);
	if (buf == NULL) {
		rc = BV_NOMEM;
		goto out;
	}
	rc = read_all(fd, deadline, buf, len, why);
	if (rc == BV_OK)
		rc = parse(buf, len, m, why);
out:
	bv_free_secret_len(buf, len);
	if (rc != BV_OK)
		proto_clear(m);
	return rc;
}
