/*
 * report.c - the administrator's log lines and the user's lines.
 *
 * Every log line names user, service and remote host the same way (the
 * caller's "who"), and a provider's refusal carries its error code, HTTP
 * status and help URL.  Nothing here is ever handed a secret.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "engine.h"

void
engine_log(const struct bv_engine *e, int prio, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	bv_log(e->log, prio, "%s: %s", e->who, what);
}

void
engine_log_outcome(const struct bv_engine *e, const char *provider,
		   enum bv_result rc, const struct bv_outcome *out)
{
	const char *action = out->action ? out->action : "request";
	int prio = LOG_NOTICE;

	if (rc == BV_REJECTED || rc == BV_UNAVAILABLE ||
	    rc == BV_BAD_DESTINATION || rc == BV_INTERNAL || rc == BV_CONFIG ||
	    rc == BV_NOMEM)
		prio = LOG_ERR;
	if (out->code[0] != '\0')
		engine_log(e, prio, "%s via %s refused: %s (HTTP %ld): %s%s%s",
			   action, provider, out->code, out->http_status,
			   out->message[0] ? out->message : bv_result_name(rc),
			   out->help_url[0] ? " help=" : "", out->help_url);
	else if (out->http_status > 0)
		engine_log(e, prio, "%s via %s failed: %s: %s (HTTP %ld)",
			   action, provider, bv_result_name(rc),
			   out->detail[0] ? out->detail : "no detail",
			   out->http_status);
	else
		engine_log(e, prio, "%s via %s failed: %s: %s", action,
			   provider, bv_result_name(rc),
			   out->detail[0] ? out->detail : "no detail");
}

/* Format a line for the user and hand it to one of the callbacks. */
static void tell(const struct bv_engine *e, void (*line)(void *, const char *),
		 const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
tell(const struct bv_engine *e, void (*line)(void *, const char *),
     const char *fmt, va_list ap)
{
	char text[1024];

	vsnprintf(text, sizeof(text), fmt, ap);
	line(e->conv.arg, text);
}

void
engine_info(const struct bv_engine *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tell(e, e->conv.info, fmt, ap);
	va_end(ap);
}

void
engine_error(const struct bv_engine *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tell(e, e->conv.error, fmt, ap);
	va_end(ap);
}
