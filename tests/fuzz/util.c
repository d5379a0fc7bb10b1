/*
 * util.c - the helpers of fuzz.h: failing loudly, the private
 * directory, and the checks every response target makes.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../src/providers/provider.h"

static char dir_path[4096];

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	/*
	 * run-fuzz.sh closes the target's stderr (-close_fd_mask=2) to keep
	 * the log lines of the code under test out of the output; say it on
	 * stdout too so the reason travels with the crash report.
	 */
	va_start(ap, fmt);
	fputs("fuzz invariant broken: ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
	va_start(ap, fmt);
	fputs("fuzz invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* Remove the private directory and what the targets put in it. */
static void
remove_dir(void)
{
	DIR *d;
	struct dirent *e;

	if (dir_path[0] == '\0')
		return;
	d = opendir(dir_path);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0)
				(void)unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	(void)rmdir(dir_path);
	dir_path[0] = '\0';
}

const char *
fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (dir_path[0] != '\0')
		return dir_path;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	n = snprintf(dir_path, sizeof(dir_path), "%s/bv-fuzz.XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(dir_path))
		fuzz_fail("TMPDIR is too long");
	if (mkdtemp(dir_path) == NULL)
		fuzz_fail("mkdtemp %s: %s", dir_path, strerror(errno));
	atexit(remove_dir);
	return dir_path;
}

void
fuzz_write_file(const char *name, const void *data, size_t len, unsigned mode,
		char *path, size_t pathsz)
{
	const char *p = data;
	ssize_t w;
	int fd, n;

	n = snprintf(path, pathsz, "%s/%s", fuzz_dir(), name);
	if (n < 0 || (size_t)n >= pathsz)
		fuzz_fail("path of %s is too long", name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  (mode_t)mode);
	if (fd < 0 || fchmod(fd, (mode_t)mode) != 0)
		fuzz_fail("open %s: %s", path, strerror(errno));
	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fuzz_fail("write %s: %s", path, strerror(errno));
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) != 0)
		fuzz_fail("close %s: %s", path, strerror(errno));
}

char *
fuzz_strndup(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		fuzz_fail("out of memory copying the input");
	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

long
fuzz_status(uint8_t byte)
{
	static const long statuses[] = {200, 201, 400, 401, 403,
					404, 422, 429, 500, 502};

	return statuses[byte % (sizeof(statuses) / sizeof(statuses[0]))];
}

bool
fuzz_parser_result_ok(enum bv_result rc)
{
	switch (rc) {
	case BV_OK:
	case BV_WRONG_CODE:
	case BV_EXPIRED:
	case BV_MAX_ATTEMPTS:
	case BV_RATE_LIMITED:
	case BV_BAD_DESTINATION:
	case BV_REJECTED:
	case BV_UNAVAILABLE:
	case BV_NOMEM:
		return true;
	case BV_LOCKED:
	case BV_CONFIG:
	case BV_ABORTED:
	case BV_INTERNAL:
		return false;
	}
	return false; /* not a value of the enum at all */
}

/* One text field of an outcome: terminated, no C0, DEL or C1 bytes. */
static void
check_field(const char *s, size_t size, const char *who, const char *field)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n;

	if (memchr(s, '\0', size) == NULL)
		fuzz_fail("%s: outcome %s is not terminated", who, field);
	n = strlen(s);
	for (i = 0; i < n; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			fuzz_fail("%s: outcome %s holds control byte 0x%02x",
				  who, field, u[i]);
		if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f)
			fuzz_fail("%s: outcome %s holds a C1 control", who,
				  field);
	}
}

void
fuzz_check_outcome(const struct bv_outcome *out, const char *who)
{
	check_field(out->code, sizeof(out->code), who, "code");
	check_field(out->message, sizeof(out->message), who, "message");
	check_field(out->help_url, sizeof(out->help_url), who, "help_url");
	check_field(out->detail, sizeof(out->detail), who, "detail");
}

void
fuzz_check_call(enum bv_result rc, unsigned long failed,
		const struct bv_outcome *out, const char *who)
{
	if (!fuzz_parser_result_ok(rc))
		fuzz_fail("%s returned %d", who, (int)rc);
	if (rc == BV_NOMEM && failed == 0)
		fuzz_fail("%s: out of memory, yet nothing failed", who);
	if (rc == BV_OK && failed > 0)
		fuzz_fail("%s: %lu allocations failed, yet OK", who, failed);
	fuzz_check_outcome(out, who);
}

void
fuzz_outcome_init(struct bv_outcome *out, const char *action, long status)
{
	memset(out, 0, sizeof(*out));
	out->action = action;
	out->http_status = status;
	out->attempts_left = -1;
}
