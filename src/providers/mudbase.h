/*
 * mudbase.h - the Mudbase OTP provider (public send / verify).
 */
#ifndef BV_PROVIDER_MUDBASE_H
#define BV_PROVIDER_MUDBASE_H

#include "provider.h"

extern const struct bv_provider mudbase_provider;

/*
 * Classify a Mudbase error status for the step it answered ("send" or
 * "verify"): Mudbase documents statuses, not codes, for these endpoints.
 */
enum bv_result mudbase_status_result(long status, const char *action);

#endif /* BV_PROVIDER_MUDBASE_H */
