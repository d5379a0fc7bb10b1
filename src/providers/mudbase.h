/*
 * mudbase.h - the Mudbase OTP provider (public send / verify):
 * mudbase_info (mudbase_info.c, module-safe) and its operations
 * (mudbase.c).
 */
#ifndef BV_PROVIDER_MUDBASE_H
#define BV_PROVIDER_MUDBASE_H

#include "provider.h"

/* cJSON's, for the parsers below; this header needs no cJSON. */
struct cJSON;

/* The mudbase.* group (mudbase_info.c has its key table). */
struct mudbase_config {
	char *api_url;		 /* https base URL, no trailing slash */
	char *project_id;	 /* in every request's body */
	enum bv_channel channel; /* "method": its own channel */
};

extern const struct bv_provider_info mudbase_info;
extern const struct bv_provider mudbase_provider;

/*
 * Classify a Mudbase error status for the step it answered ("send" or
 * "verify"): Mudbase documents statuses, not codes, for these endpoints.
 */
enum bv_result mudbase_status_result(long status, const char *action);

/*
 * The answer parsers, exposed for the fuzzers.  out->action ("send" or
 * "verify") must be set, and out->http_status for mudbase_parse_verified,
 * as the provider does around each request.
 */

/*
 * An error answer (4xx) with the documented body ({"error": "text", ...}):
 * the status classified for out->action, error and code kept sanitised in
 * out.  A 5xx or any other body is BV_UNAVAILABLE.  Never BV_OK.
 */
enum bv_result mudbase_parse_error(const struct http_response *resp,
				   struct bv_outcome *out);

/*
 * Any answer: a non-2xx goes to mudbase_parse_error; a 2xx must be a JSON
 * object, then BV_OK and *root (free with json_wipe_delete), else
 * BV_UNAVAILABLE and *root NULL.
 */
enum bv_result mudbase_parse_answer(const struct http_response *resp,
				    struct cJSON **root,
				    struct bv_outcome *out);

/*
 * A verify answer (root from mudbase_parse_answer): BV_OK with
 * proof->token (allocated, a secret: bv_proof_clear) and proof->expires
 * only for a non-empty token and 0 < expiresIn <= 7 days; else
 * BV_UNAVAILABLE, or BV_NOMEM.
 */
enum bv_result mudbase_parse_verified(const struct cJSON *root,
				      struct bv_proof *proof,
				      struct bv_outcome *out);

#endif /* BV_PROVIDER_MUDBASE_H */
