/*
 * log.c - log lines to syslog through PAM, or to stderr without PAM.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <security/pam_ext.h>

#include "log.h"
#include "result.h"

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
	} else if (log != NULL && log->pamh != NULL) {
		pam_vsyslog(log->pamh, prio, fmt, ap);
	} else {
		fputs("baxverify: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

const char *
bv_result_name(enum bv_result rc)
{
	switch (rc) {
	case BV_OK:
		return "ok";
	case BV_WRONG_CODE:
		return "wrong code";
	case BV_EXPIRED:
		return "code expired";
	case BV_MAX_ATTEMPTS:
		return "too many attempts";
	case BV_RATE_LIMITED:
		return "rate limited";
	case BV_LOCKED:
		return "locked out";
	case BV_BAD_DESTINATION:
		return "invalid destination";
	case BV_REJECTED:
		return "refused by the service";
	case BV_UNAVAILABLE:
		return "service unavailable";
	case BV_CONFIG:
		return "configuration error";
	case BV_ABORTED:
		return "no answer";
	case BV_NOMEM:
		return "out of memory";
	case BV_INTERNAL:
		return "internal failure";
	}
	return "unknown";
}
