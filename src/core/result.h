/*
 * result.h - the one result type every internal function returns.
 *
 * Core code and providers speak only in these values; the single mapping
 * to PAM return codes lives in src/pam/pam_baxverify.c, so that a provider
 * can never hand PAM a success by accident.
 */
#ifndef BV_RESULT_H
#define BV_RESULT_H

enum bv_result {
	BV_OK = 0,	    /* sent, verified, valid */
	BV_WRONG_CODE,	    /* the code did not match; the user may retry */
	BV_EXPIRED,	    /* no live code at the service: send a new one */
	BV_MAX_ATTEMPTS,    /* the service takes no more tries for this code */
	BV_RATE_LIMITED,    /* too many requests for this destination */
	BV_LOCKED,	    /* locked out after repeated failures */
	BV_BAD_DESTINATION, /* the service rejects the phone number */
	BV_REJECTED,	/* account or configuration problem at the service */
	BV_UNAVAILABLE, /* network, TLS, timeout, 5xx, undocumented answer */
	BV_CONFIG,	/* our own configuration is unusable */
	BV_ABORTED,	/* the user gave no answer, or the dialogue failed */
	BV_NOMEM,	/* out of memory */
	BV_INTERNAL	/* this host's own failure: the helper crashed,
			   was killed or stopped, broke the protocol; a
			   pipe or wait error; the delivery command
			   killed.  Never an outage: failmode stays out */
};

/* A short, fixed, secret-free name for a result, for log lines. */
const char *bv_result_name(enum bv_result rc);

#endif /* BV_RESULT_H */
