/*
 * log.c - log lines to the caller's sink, or to stderr.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void
bv_log(const struct bv_log *log, int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio == LOG_DEBUG && (log == NULL || !log->debug))
		return;
	va_start(ap, fmt);
	if (log != NULL && log->sink != NULL) {
		char line[BV_LOG_LINE_MAX];

		vsnprintf(line, sizeof(line), fmt, ap);
		log->sink(log->sink_arg, prio, line);
	} else {
		fputs("baxverify: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
