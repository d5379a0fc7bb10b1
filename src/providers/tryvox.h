/*
 * tryvox.h - the Tryvox Verify provider (start / check / status).
 */
#ifndef BV_PROVIDER_TRYVOX_H
#define BV_PROVIDER_TRYVOX_H

#include <cjson/cJSON.h>

#include "provider.h"

extern const struct bv_provider tryvox_provider;

/*
 * Classify a Tryvox error code for the step it answered ("send" or
 * "verify").  Unknown codes are BV_REJECTED.
 */
enum bv_result tryvox_code_result(const char *code, const char *action);

/*
 * The answer parsers, one per step, exposed for the fuzzers.  out->action
 * ("send", "verify", ...) must be set, as the provider does before each
 * request.
 */

/*
 * An error answer (status >= 400) in the documented envelope: its
 * error.code classified for out->action, and any 5xx BV_UNAVAILABLE.
 * Anything else is BV_UNAVAILABLE.  Never BV_OK.
 */
enum bv_result tryvox_parse_error(const struct http_response *resp,
				  struct bv_outcome *out);

/*
 * Any answer: a non-2xx goes to tryvox_parse_error; a 2xx must be a JSON
 * object with a "data" object, then BV_OK and *root (free with
 * json_wipe_delete), else BV_UNAVAILABLE and *root NULL.
 */
enum bv_result tryvox_parse_answer(const struct http_response *resp,
				   cJSON **root, struct bv_outcome *out);

/*
 * A start answer (root from tryvox_parse_answer): a usable
 * data.verification_id into ctx->ref (which must be NULL; allocated) and
 * data.expires_at into ctx->ref_expires.  BV_OK, BV_UNAVAILABLE or
 * BV_NOMEM.
 */
enum bv_result tryvox_parse_started(struct bv_ctx *ctx, const cJSON *root,
				    struct bv_outcome *out);

/*
 * A check answer: BV_OK with proof->token (a copy of ctx->ref, which must
 * be set) only for data.status "approved" and no other destination than
 * ctx->dest; else BV_REJECTED, or BV_NOMEM.
 */
enum bv_result tryvox_parse_checked(const struct bv_ctx *ctx,
				    const cJSON *root, struct bv_proof *proof,
				    struct bv_outcome *out);

/*
 * A status answer read after a wrong code: BV_MAX_ATTEMPTS (failed),
 * BV_EXPIRED (expired) or BV_WRONG_CODE with out->attempts_left set when
 * the counts make sense (0 <= attempts <= max_attempts <= 100).  Never
 * BV_OK.
 */
enum bv_result tryvox_parse_wrong_code(const cJSON *root,
				       struct bv_outcome *out);

/*
 * A status answer read to validate: BV_OK only for "approved" with a
 * destination that is ctx->dest (any, when ctx->dest is NULL); else
 * BV_REJECTED.
 */
enum bv_result tryvox_parse_validated(const struct bv_ctx *ctx,
				      const cJSON *root,
				      struct bv_outcome *out);

#endif /* BV_PROVIDER_TRYVOX_H */
