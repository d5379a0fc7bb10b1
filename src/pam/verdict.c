/*
 * verdict.c - the one place a result becomes a PAM code, with the user's
 * line that goes with it and failmode's say on an outage.  Nothing else
 * in the module produces a PAM code: the engine, begin(), the
 * conversation and the session side all return results.
 */
#include "config.h"

#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>

#include "auth.h"

/* Whole minutes, rounded up, until the engine's retry_at. */
static long
minutes_until(const struct auth_state *st)
{
	long secs = (long)(st->eng.retry_at - engine_now(&st->eng));

	return secs <= 0 ? 1 : (secs + 59) / 60;
}

/* A failed PAM call's code as this module's answer. */
static int
pam_failure(const struct auth_state *st)
{
	if (st->pam_rc == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	if (st->pam_rc == PAM_SUCCESS)
		return st->no_user ? PAM_USER_UNKNOWN : PAM_AUTH_ERR;
	return st->pam_rc;
}

/* A clean run: the user is in, skipped, or has nowhere to get a code. */
static int
selection_verdict(struct auth_state *st, enum engine_selection sel)
{
	switch (sel) {
	case ENGINE_ASK:
		return PAM_SUCCESS;
	case ENGINE_SKIP_GROUPS:
	case ENGINE_SKIP_NULLOK:
		return PAM_IGNORE;
	case ENGINE_NO_DESTINATION:
		break;
	}
	say(st, PAM_ERROR_MSG,
	    "No phone number is registered for your "
	    "account. Contact your administrator.");
	return PAM_AUTH_ERR;
}

static int
outage_verdict(struct auth_state *st)
{
	if (st->cfg.failmode == BV_FAILMODE_SAFE) {
		engine_log(&st->eng, LOG_WARNING,
			   "ALLOWED WITHOUT A CODE: "
			   "service unavailable and failmode=safe");
		say(st, PAM_TEXT_INFO,
		    "The verification service is "
		    "unreachable; signing in without a code.");
		return PAM_SUCCESS;
	}
	say(st, PAM_ERROR_MSG,
	    "The verification service is unreachable. "
	    "Try again later.");
	return PAM_AUTHINFO_UNAVAIL;
}

int
verdict(struct auth_state *st, enum bv_result rc, enum engine_selection sel)
{
	enum bv_channel channel = st->eng.channel;

	switch (rc) {
	case BV_OK:
		return selection_verdict(st, sel);
	case BV_WRONG_CODE:
		say(st, PAM_ERROR_MSG, "Wrong code.");
		return PAM_AUTH_ERR;
	case BV_MAX_ATTEMPTS:
		engine_log(&st->eng, LOG_NOTICE,
			   "denied: too many wrong codes");
		say(st, PAM_ERROR_MSG, "Too many wrong codes.");
		return PAM_MAXTRIES;
	case BV_EXPIRED:
		say(st, PAM_ERROR_MSG, "The code has expired.");
		return PAM_AUTH_ERR;
	case BV_RATE_LIMITED:
		if (st->eng.retry_at > 0)
			say(st, PAM_ERROR_MSG,
			    "Too many codes requested. Try "
			    "again in %ld minute(s).",
			    minutes_until(st));
		else
			say(st, PAM_ERROR_MSG,
			    "Too many codes requested. Wait "
			    "a few minutes and try again.");
		return PAM_AUTH_ERR;
	case BV_LOCKED:
		say(st, PAM_ERROR_MSG,
		    "Too many failed attempts. Try again in "
		    "%ld minute(s).",
		    minutes_until(st));
		return PAM_AUTH_ERR;
	case BV_BAD_DESTINATION:
		say(st, PAM_ERROR_MSG,
		    "Your registered %s is not valid. "
		    "Contact your administrator.",
		    channel_is_email(channel) ? "email address"
					      : "phone number");
		return PAM_AUTH_ERR;
	case BV_REJECTED:
		say(st, PAM_ERROR_MSG,
		    "Verification is not possible right "
		    "now: the %s service needs attention from your "
		    "administrator.",
		    channel == BV_CHANNEL_SMS ? "SMS" : "verification");
		return PAM_AUTH_ERR;
	case BV_UNAVAILABLE:
		return outage_verdict(st);
	case BV_CONFIG:
		say(st, PAM_ERROR_MSG,
		    "Two-factor verification is "
		    "misconfigured. Contact your administrator.");
		return PAM_SERVICE_ERR;
	case BV_ABORTED:
		if (st->no_user || st->pam_rc != PAM_SUCCESS ||
		    st->eng.abort_logged)
			return pam_failure(st);
		engine_log(&st->eng, LOG_NOTICE, "denied: no code entered");
		return PAM_AUTH_ERR;
	case BV_NOMEM:
		bv_log(&st->log, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	case BV_INTERNAL:
		/* The log line said what broke; whatever it was, the caller
		   could have caused it, so it is never an outage. */
		say(st, PAM_ERROR_MSG,
		    "Verification failed on this host. "
		    "Contact your administrator.");
		return PAM_AUTH_ERR;
	}
	return PAM_AUTH_ERR;
}

int
session_verdict(struct auth_state *st, enum bv_result rc, bool done)
{
	if (rc == BV_OK)
		return done ? PAM_SUCCESS : PAM_IGNORE;
	if (rc == BV_UNAVAILABLE && st->cfg.failmode == BV_FAILMODE_SAFE) {
		engine_log(&st->eng, LOG_WARNING,
			   "session: proof NOT "
			   "consumed: service unavailable and failmode=safe");
		return PAM_SUCCESS;
	}
	return rc == BV_NOMEM ? PAM_BUF_ERR : PAM_SESSION_ERR;
}
