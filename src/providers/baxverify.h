/*
 * baxverify.h - the BaxVerify (BaxCloud) SMS OTP provider: baxverify_info
 * (baxverify_info.c, module-safe) and its operations (baxverify.c).
 */
#ifndef BV_PROVIDER_BAXVERIFY_H
#define BV_PROVIDER_BAXVERIFY_H

#include <stdbool.h>

#include "provider.h"

/* cJSON's, for the parsers below; this header needs no cJSON. */
struct cJSON;

/* The baxverify.* group (baxverify_info.c has its key table). */
struct baxverify_config {
	char *api_url; /* https base URL, no trailing slash */
	char *api_key; /* secret: from the file or api_key_file */
	char *api_key_file;
	char *project_id;    /* X-Project-Id */
	char *purpose;	     /* sent with each code: LOGIN, SUDO, ... */
	bool validate_token; /* confirm the proof before a login passes */
};

extern const struct bv_provider_info baxverify_info;
extern const struct bv_provider baxverify_provider;

/*
 * Classify a BaxVerify error code (e.g. "BAXVERIFY_OTP_INVALID") into a
 * result.  Unknown codes are BV_REJECTED: never success, never a retry.
 */
enum bv_result baxverify_code_result(const char *code);

/*
 * Read an error response (status >= 400) into out and return its result.
 * A body that is not the documented envelope is BV_UNAVAILABLE.
 */
enum bv_result baxverify_parse_error(long status, const char *body, size_t len,
				     struct bv_outcome *out);

/*
 * Read a 2xx answer of POST /auth/sms/verify for ctx->dest.  BV_OK with
 * proof->token (allocated, a secret: bv_proof_clear) and proof->expires
 * only for verified=true, a token and a sane expiresIn; BV_REJECTED for
 * verified=false or another phone; BV_UNAVAILABLE for any other shape;
 * BV_NOMEM.  Exposed for the fuzzers; the status is not looked at.
 */
enum bv_result baxverify_parse_verified(const struct bv_ctx *ctx,
					const struct http_response *resp,
					struct bv_proof *proof,
					struct bv_outcome *out);

/*
 * Read a 2xx answer of POST /auth/sms/validate-token: BV_OK only for
 * valid=true and (unless ctx->dest is NULL) the phone ctx->dest;
 * BV_REJECTED for valid=false or another phone; BV_UNAVAILABLE when valid
 * or phone is missing.  Exposed for the fuzzers.
 */
enum bv_result baxverify_parse_valid(const struct bv_ctx *ctx,
				     const struct http_response *resp,
				     struct bv_outcome *out);

/*
 * GET {api_url}{path_query} (e.g. "/auth/sms/stats?days=7") with the
 * documented headers, for the administrator's command.  On BV_OK *root is
 * the answer object (free with json_wipe_delete).
 */
enum bv_result baxverify_get(struct bv_ctx *ctx, const char *path_query,
			     struct cJSON **root, struct bv_outcome *out);

#endif /* BV_PROVIDER_BAXVERIFY_H */
