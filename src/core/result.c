/*
 * result.c - the names of results, for log lines.
 */
#include "config.h"

#include "result.h"

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
