/*
 * syslog_capture.c - LD_PRELOAD shim that captures syslog(3) output.
 *
 * The test machines have no /dev/log, so whatever libpam's pam_syslog()
 * writes would be lost.  Preloaded next to libpam_wrapper.so (with
 * PAM_WRAPPER_USE_SYSLOG=1, so pam_wrapper hands pam_syslog() back to
 * libpam), this shim replaces syslog(), vsyslog() and their _FORTIFY_SOURCE
 * variants, and appends every message as one line
 *
 *     <priority number> <message>\n
 *
 * to the file named by $BV_SYSLOG_FILE.  The file is opened with O_APPEND
 * and each line is written with a single write(2), so lines from several
 * processes never interleave.  Without BV_SYSLOG_FILE messages are dropped.
 *
 * openlog() and closelog() are no-ops: nothing here needs a socket.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* Longer messages are cut; libpam itself caps a message well below this. */
#define CAPTURE_LINE_MAX 4096

/* Exported overrides: declared here to satisfy -Wmissing-prototypes. */
void __syslog_chk(int priority, int flag, const char *fmt, ...);
void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap);

static void
capture_write(int priority, const char *fmt, va_list ap)
{
	char line[CAPTURE_LINE_MAX];
	const char *path;
	size_t len;
	int n;
	int fd;
	int saved_errno = errno; /* callers may log with %m after us */

	path = getenv("BV_SYSLOG_FILE");
	if (path == NULL || path[0] == '\0')
		goto out;

	n = snprintf(line, sizeof(line), "%d ", priority);
	if (n < 0 || (size_t)n >= sizeof(line))
		goto out;
	len = (size_t)n;

	/* %m in fmt must see the caller's errno. */
	errno = saved_errno;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n < 0)
		goto out;
	len += (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;

	/* One record per line: fold embedded newlines. */
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	}
	line[len++] = '\n';

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		  0600);
	if (fd < 0)
		goto out;
	if (write(fd, line, len) < 0) {
		/* Nothing sensible to do: a test will see the line missing. */
	}
	close(fd);
out:
	errno = saved_errno;
}

void
vsyslog(int priority, const char *fmt, va_list ap)
{
	capture_write(priority, fmt, ap);
}

void
syslog(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	capture_write(priority, fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int priority, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	capture_write(priority, fmt, ap);
}

void
__syslog_chk(int priority, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	capture_write(priority, fmt, ap);
	va_end(ap);
}

void
openlog(const char *ident, int option, int facility)
{
	(void)ident;
	(void)option;
	(void)facility;
}

void
closelog(void)
{
}
