/*
 * tryvox.h - the Tryvox Verify provider (start / check / status):
 * tryvox_info (tryvox_info.c, module-safe) and its operations (tryvox.c).
 */
#ifndef BV_PROVIDER_TRYVOX_H
#define BV_PROVIDER_TRYVOX_H

#include <stdbool.h>
#include <time.h>

#include "provider.h"

/* cJSON's, for the parsers below; this header needs no cJSON. */
struct cJSON;

/* The tryvox.* group (tryvox_info.c has its key table). */
struct tryvox_config {
	char *api_url; /* https base URL, no trailing slash */
	char *api_key; /* secret: from the file or api_key_file */
	char *api_key_file;
	char *tenant_id;	 /* X-Tenant-ID */
	enum bv_channel channel; /* its own channel */
	char *app_name;		 /* named in the message */
	long code_length;
	bool validate_token; /* confirm the proof before a login passes */
};

/* One login's verification: what start gave, for check and status. */
struct tryvox_state {
	char *id;	/* verification_id, or NULL */
	time_t expires; /* its expires_at, 0 if unknown */
};

extern const struct bv_provider_info tryvox_info;
extern const struct bv_provider tryvox_provider;

/* Forget the verification in a struct tryvox_state (wiping its id). */
void tryvox_state_clear(void *state);

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
				   struct cJSON **root, struct bv_outcome *out);

/*
 * A start answer (root from tryvox_parse_answer): a usable
 * data.verification_id into the state's id (ctx->state, a struct
 * tryvox_state whose id must be NULL; allocated) and data.expires_at
 * into its expires.  BV_OK, BV_UNAVAILABLE or BV_NOMEM.
 */
enum bv_result tryvox_parse_started(struct bv_ctx *ctx,
				    const struct cJSON *root,
				    struct bv_outcome *out);

/*
 * A check answer: BV_OK with proof->token (a copy of the state's id,
 * which must be set) only for data.status "approved" and no other
 * destination than ctx->dest; else BV_REJECTED, or BV_NOMEM.
 */
enum bv_result tryvox_parse_checked(const struct bv_ctx *ctx,
				    const struct cJSON *root,
				    struct bv_proof *proof,
				    struct bv_outcome *out);

/*
 * A status answer read after a wrong code: BV_MAX_ATTEMPTS (failed),
 * BV_EXPIRED (expired) or BV_WRONG_CODE with out->attempts_left set when
 * the counts make sense (0 <= attempts <= max_attempts <= 100).  Never
 * BV_OK.
 */
enum bv_result tryvox_parse_wrong_code(const struct cJSON *root,
				       struct bv_outcome *out);

/*
 * A status answer read to validate: BV_OK only for "approved" with a
 * destination that is ctx->dest (any, when ctx->dest is NULL); else
 * BV_REJECTED.
 */
enum bv_result tryvox_parse_validated(const struct bv_ctx *ctx,
				      const struct cJSON *root,
				      struct bv_outcome *out);

#endif /* BV_PROVIDER_TRYVOX_H */
