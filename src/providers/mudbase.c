/*
 * mudbase.c - Mudbase OTP: public send and verify.
 *
 * Follows shared/api/mudbase.md.  Both endpoints are public: the project
 * travels in the body and no API key is ever sent.  The answer's token
 * becomes the exported proof; refreshToken and the user object are never
 * kept, logged or exported.  Mudbase documents statuses rather than codes
 * for these endpoints, so the status decides, and any answer not in the
 * documented shapes is "unavailable", never success.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mudbase.h"
#include "../core/json.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* This provider's own group, from the context. */
static const struct mudbase_config *
conf_of(const struct bv_ctx *ctx)
{
	return ctx->conf;
}

enum bv_result
mudbase_status_result(long status, const char *action)
{
	bool verify = strcmp(action, "verify") == 0;

	switch (status) {
	case 400: /* send: bad destination; verify: "Invalid or expired" */
		return verify ? BV_WRONG_CODE : BV_BAD_DESTINATION;
	case 401: /* verify: some deployments answer a wrong code so */
		return verify ? BV_WRONG_CODE : BV_REJECTED;
	case 429: /* rate limited; at verify, too many attempts */
		return verify ? BV_MAX_ATTEMPTS : BV_RATE_LIMITED;
	default: /* 403, 404 (project unknown), anything else */
		return BV_REJECTED;
	}
}

/* Error body: {"error": "text", "code": "bad_request", ...}. */
enum bv_result
mudbase_parse_error(const struct http_response *resp, struct bv_outcome *out)
{
	cJSON *root = provider_parse_object(resp);
	const char *msg = json_string(root, "error");
	enum bv_result rc;

	if (resp->status < 400 || resp->status >= 500 || msg == NULL) {
		rc = provider_undocumented(
		    resp->status,
		    "error response is not the documented "
		    "error body",
		    out);
		goto out;
	}
	text_sanitize(out->code, sizeof(out->code), json_string(root, "code"));
	if (out->code[0] == '\0')
		snprintf(out->code, sizeof(out->code), "HTTP_%ld",
			 resp->status);
	text_sanitize(out->message, sizeof(out->message), msg);
	rc = mudbase_status_result(resp->status, out->action);
out:
	json_wipe_delete(root);
	return rc;
}

enum bv_result
mudbase_parse_answer(const struct http_response *resp, cJSON **root,
		     struct bv_outcome *out)
{
	*root = NULL;
	if (resp->status < 200 || resp->status >= 300)
		return mudbase_parse_error(resp, out);
	*root = provider_parse_object(resp);
	if (*root == NULL)
		return provider_undocumented(
		    resp->status, "answer is not a JSON object", out);
	return BV_OK;
}

/* POST req to path; on 2xx, *root is the answer object. */
static enum bv_result
mud_post(struct bv_ctx *ctx, const char *path, cJSON *req, cJSON **root,
	 struct bv_outcome *out)
{
	struct http_response resp = {0};
	char *body = json_print_wipe(req);
	enum bv_result rc = BV_NOMEM;

	*root = NULL;
	if (body == NULL)
		goto out;
	/* No Authorization header: these endpoints are public. */
	rc = provider_call(ctx, conf_of(ctx)->api_url, "POST", path, NULL, body,
			   &resp, out);
	if (rc == BV_OK)
		rc = mudbase_parse_answer(&resp, root, out);
out:
	bv_free_secret(body);
	http_response_clear(&resp);
	return rc;
}

static enum bv_result
mud_send(struct bv_ctx *ctx, struct bv_outcome *out)
{
	cJSON *req = cJSON_CreateObject(), *root = NULL;
	bool email = channel_is_email(ctx->channel);
	enum bv_result rc = BV_NOMEM;

	out->action = "send";
	if (cJSON_AddStringToObject(req, "projectId",
				    conf_of(ctx)->project_id) == NULL ||
	    /* Mudbase's methods are named as our channels. */
	    cJSON_AddStringToObject(req, "method",
				    channel_name(ctx->channel)) == NULL ||
	    cJSON_AddStringToObject(req, email ? "email" : "phone",
				    ctx->dest) == NULL) {
		json_wipe_delete(req);
		goto out;
	}
	rc = mud_post(ctx, "/api/auth/otp/send", req, &root, out);
out:
	json_wipe_delete(root);
	return rc;
}

enum bv_result
mudbase_parse_verified(const cJSON *root, struct bv_proof *proof,
		       struct bv_outcome *out)
{
	const char *token = json_string(root, "token");
	const cJSON *expires =
	    cJSON_GetObjectItemCaseSensitive(root, "expiresIn");

	if (token == NULL || *token == '\0' || strlen(token) > 8192 ||
	    !cJSON_IsNumber(expires) || expires->valuedouble <= 0 ||
	    expires->valuedouble > 7 * 86400)
		return provider_undocumented(out->http_status,
					     "verify answer lacks "
					     "token/expiresIn",
					     out);
	proof->token = strdup(token);
	proof->expires = time(NULL) + (time_t)expires->valuedouble;
	return proof->token ? BV_OK : BV_NOMEM;
}

static enum bv_result
mud_check(struct bv_ctx *ctx, const char *code, struct bv_proof *proof,
	  struct bv_outcome *out)
{
	cJSON *req = cJSON_CreateObject(), *root = NULL;
	enum bv_result rc = BV_NOMEM;

	out->action = "verify";
	if (cJSON_AddStringToObject(req, "identifier", ctx->dest) == NULL ||
	    cJSON_AddStringToObject(req, "otp", code) == NULL ||
	    cJSON_AddStringToObject(req, "projectId",
				    conf_of(ctx)->project_id) == NULL) {
		json_wipe_delete(req);
		goto out;
	}
	rc = mud_post(ctx, "/api/auth/otp/verify", req, &root, out);
	if (rc == BV_OK)
		rc = mudbase_parse_verified(root, proof, out);
out:
	/* Wipes refreshToken and the user object with the rest. */
	json_wipe_delete(root);
	return rc;
}

/* baxverify check: the public endpoints take no key to try. */
static enum bv_result
mud_probe(struct bv_ctx *ctx, char *said, size_t saidsz, struct bv_outcome *out)
{
	(void)ctx;
	(void)out;
	snprintf(said, saidsz,
		 "no authenticated endpoint to test; "
		 "configuration valid");
	return BV_OK;
}

const struct bv_provider mudbase_provider = {
    .info = &mudbase_info,
    .send = mud_send,
    .check = mud_check,
    .validate = NULL, /* Mudbase has no endpoint to validate a token */
    .probe = mud_probe,
};
