/*
 * report.c - the user's lines and the administrator's log lines.
 *
 * Every log line names user, service and remote host the same way, and a
 * provider's refusal carries its error code, HTTP status and help URL.
 * Nothing here is ever handed a secret.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "auth.h"

void
log_event(const struct auth_state *st, int prio, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	bv_log(&st->log, prio, "%s: %s", st->who, what);
}

void
log_outcome(const struct auth_state *st, const char *provider,
	    enum bv_result rc, const struct bv_outcome *out)
{
	const char *action = out->action ? out->action : "request";
	int prio = LOG_NOTICE;

	if (rc == BV_REJECTED || rc == BV_UNAVAILABLE ||
	    rc == BV_BAD_DESTINATION || rc == BV_INTERNAL ||
	    rc == BV_CONFIG || rc == BV_NOMEM)
		prio = LOG_ERR;
	if (out->code[0] != '\0')
		log_event(st, prio, "%s via %s refused: %s (HTTP %ld): %s%s%s",
			  action, provider, out->code, out->http_status,
			  out->message[0] ? out->message : bv_result_name(rc),
			  out->help_url[0] ? " help=" : "", out->help_url);
	else if (out->http_status > 0)
		log_event(st, prio, "%s via %s failed: %s: %s (HTTP %ld)",
			  action, provider, bv_result_name(rc),
			  out->detail[0] ? out->detail : "no detail",
			  out->http_status);
	else
		log_event(st, prio, "%s via %s failed: %s: %s", action,
			  provider, bv_result_name(rc),
			  out->detail[0] ? out->detail : "no detail");
}

int
say(struct auth_state *st, int style, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pam_vprompt(st->pamh, style, NULL, fmt, ap);
	va_end(ap);
	return rc;
}
