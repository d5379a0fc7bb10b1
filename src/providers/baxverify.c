/*
 * baxverify.c - BaxVerify SMS OTP: send, verify, validate-token.
 *
 * Follows shared/api/baxverify.md: every request carries the bearer key,
 * X-Project-Id and a JSON content type; errors come in an envelope whose
 * error.code decides what happens.  Anything undocumented (a body that is
 * not JSON, a success without its token, a 5xx) counts as "unavailable",
 * never as success.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baxverify.h"
#include "../core/json.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* Every documented error code and what it means for a login. */
static const struct {
	const char *code;
	enum bv_result result;
} error_codes[] = {
	/* The user's side of things: retry, resend, wait, or ask. */
	{ "BAXVERIFY_OTP_INVALID", BV_WRONG_CODE },
	{ "BAXVERIFY_OTP_EXPIRED", BV_EXPIRED },
	{ "BAXVERIFY_OTP_MAX_ATTEMPTS", BV_MAX_ATTEMPTS },
	{ "BAXVERIFY_RATE_LIMIT", BV_RATE_LIMITED },
	{ "BAXVERIFY_INVALID_PHONE", BV_BAD_DESTINATION },
	/* The account or our configuration: an administrator must act. */
	{ "BAXVERIFY_FEATURE_DISABLED", BV_REJECTED },
	{ "BAXVERIFY_PLAN_NOT_INCLUDED", BV_REJECTED },
	{ "BAXVERIFY_API_KEY_SCOPE", BV_REJECTED },
	{ "BAXVERIFY_SENDER_NOT_CONFIGURED", BV_REJECTED },
	{ "BAXVERIFY_INSUFFICIENT_CREDITS", BV_REJECTED },
	{ "BAXVERIFY_VERIFY_FEE_CREDITS", BV_REJECTED },
	{ "BAXVERIFY_NO_SUBSCRIPTION", BV_REJECTED },
	{ "BAXVERIFY_PROJECT_INACTIVE", BV_REJECTED },
	{ "BAXVERIFY_PROJECT_HEADER_REQUIRED", BV_REJECTED },
	{ "BAXVERIFY_API_KEY_PROJECT_MISMATCH", BV_REJECTED },
	{ "BAXVERIFY_SMS_SEND_FAILED", BV_REJECTED },
	{ "BAXVERIFY_TOKEN_INVALID", BV_REJECTED },
	{ "BAXVERIFY_TOKEN_CONSUMED", BV_REJECTED },
};

enum bv_result
baxverify_code_result(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
		if (strcmp(error_codes[i].code, code) == 0)
			return error_codes[i].result;
	return BV_REJECTED;
}

enum bv_result
baxverify_parse_error(long status, const char *body, size_t len,
		      struct bv_outcome *out)
{
	cJSON *root = NULL;
	const cJSON *err, *details;
	const char *code;
	enum bv_result rc = BV_UNAVAILABLE;

	out->http_status = status;
	if (status < 400 || status >= 500) {
		snprintf(out->detail, sizeof(out->detail),
			 status >= 500 ? "server error" :
			 status >= 300 ? "redirect refused" :
					 "unexpected status");
		goto out;
	}
	root = cJSON_ParseWithLength(body, len);
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	code = json_string(err, "code");
	if (!cJSON_IsObject(root) || code == NULL || *code == '\0') {
		snprintf(out->detail, sizeof(out->detail),
			 "error response is not the documented envelope");
		goto out;
	}
	text_sanitize(out->code, sizeof(out->code), code);
	text_sanitize(out->message, sizeof(out->message),
		      json_string(err, "message"));
	details = cJSON_GetObjectItemCaseSensitive(err, "details");
	text_sanitize(out->help_url, sizeof(out->help_url),
		      json_string(details, "helpUrl"));
	rc = baxverify_code_result(code);
out:
	json_wipe_delete(root);
	return rc;
}

/*
 * POST a JSON body to {api_url}{path} with the documented headers.  On a
 * 2xx answer, returns BV_OK with resp filled; otherwise the classified
 * error, with out filled.
 */
static enum bv_result
bax_post(struct bv_ctx *ctx, const char *path, const char *body,
	 struct http_response *resp, struct bv_outcome *out)
{
	const struct bv_baxverify_config *bc = &ctx->cfg->baxverify;
	char *auth = NULL, *project = NULL, *url = NULL;
	const char *headers[5];
	enum bv_result rc = BV_NOMEM;
	size_t n;

	n = strlen(bc->api_key) + sizeof("Authorization: Bearer ");
	auth = malloc(n);
	if (auth == NULL)
		goto out;
	snprintf(auth, n, "Authorization: Bearer %s", bc->api_key);
	n = strlen(bc->project_id) + sizeof("X-Project-Id: ");
	project = malloc(n);
	n = strlen(bc->api_url) + strlen(path) + 1;
	url = malloc(n);
	if (project == NULL || url == NULL)
		goto out;
	snprintf(project, strlen(bc->project_id) + sizeof("X-Project-Id: "),
		 "X-Project-Id: %s", bc->project_id);
	snprintf(url, n, "%s%s", bc->api_url, path);
	headers[0] = auth;
	headers[1] = project;
	headers[2] = "Content-Type: application/json";
	headers[3] = "Accept: application/json";
	headers[4] = NULL;
	rc = http_request(ctx->http, "POST", url, headers, body, resp);
	if (rc != BV_OK) {
		text_sanitize(out->detail, sizeof(out->detail), resp->error);
		goto out;
	}
	out->http_status = resp->status;
	if (resp->status < 200 || resp->status >= 300)
		rc = baxverify_parse_error(resp->status, resp->body, resp->len,
					   out);
out:
	bv_free_secret(auth);
	free(project);
	free(url);
	return rc;
}

static enum bv_result
bax_send(struct bv_ctx *ctx, struct bv_outcome *out)
{
	struct http_response resp = { 0 };
	cJSON *req = cJSON_CreateObject(), *root = NULL;
	char *body = NULL;
	enum bv_result rc = BV_NOMEM;

	out->action = "send";
	if (cJSON_AddStringToObject(req, "phone", ctx->phone) == NULL ||
	    cJSON_AddStringToObject(req, "purpose", ctx->purpose) == NULL)
		goto out;
	body = json_print_wipe(req);
	req = NULL;
	if (body == NULL)
		goto out;
	rc = bax_post(ctx, "/auth/sms/send", body, &resp, out);
	if (rc != BV_OK)
		goto out;
	/*
	 * The send answer's body is undocumented: accept empty or any JSON
	 * object, but not something else entirely (an HTML page from a
	 * captive portal is not "sent").
	 */
	if (resp.len > 0) {
		root = cJSON_ParseWithLength(resp.body, resp.len);
		if (!cJSON_IsObject(root)) {
			snprintf(out->detail, sizeof(out->detail),
				 "send answer is not a JSON object");
			rc = BV_UNAVAILABLE;
		}
	}
out:
	json_wipe_delete(req);
	json_wipe_delete(root);
	bv_free_secret(body);
	http_response_clear(&resp);
	return rc;
}

/* A successful verify answer into proof, or BV_UNAVAILABLE. */
static enum bv_result
parse_verified(struct bv_ctx *ctx, const struct http_response *resp,
	       struct bv_proof *proof, struct bv_outcome *out)
{
	cJSON *root = cJSON_ParseWithLength(resp->body, resp->len);
	const cJSON *verified, *expires;
	const char *token, *phone;
	enum bv_result rc = BV_UNAVAILABLE;

	verified = cJSON_GetObjectItemCaseSensitive(root, "verified");
	expires = cJSON_GetObjectItemCaseSensitive(root, "expiresIn");
	token = json_string(root, "accessToken");
	phone = json_string(root, "phone");
	if (cJSON_IsFalse(verified)) {
		/* A clear "no" from the real server is not an outage. */
		snprintf(out->detail, sizeof(out->detail),
			 "verify answered verified=false");
		rc = BV_REJECTED;
		goto out;
	}
	if (!cJSON_IsTrue(verified) || token == NULL || *token == '\0' ||
	    strlen(token) > 8192 || !cJSON_IsNumber(expires) ||
	    expires->valuedouble <= 0 || expires->valuedouble > 86400) {
		snprintf(out->detail, sizeof(out->detail),
			 "verify answer lacks verified/accessToken/expiresIn");
		goto out;
	}
	if (phone != NULL && strcmp(phone, ctx->phone) != 0) {
		snprintf(out->detail, sizeof(out->detail),
			 "verify answer is for another phone");
		rc = BV_REJECTED;
		goto out;
	}
	rc = BV_NOMEM;
	proof->token = strdup(token);
	proof->phone = strdup(ctx->phone);
	if (proof->token == NULL || proof->phone == NULL) {
		bv_proof_clear(proof);
		goto out;
	}
	proof->expires = time(NULL) + (time_t)expires->valuedouble;
	rc = BV_OK;
out:
	json_wipe_delete(root);
	return rc;
}

static enum bv_result
bax_check(struct bv_ctx *ctx, const char *code, struct bv_proof *proof,
	  struct bv_outcome *out)
{
	struct http_response resp = { 0 };
	cJSON *req = cJSON_CreateObject();
	char *body = NULL;
	enum bv_result rc = BV_NOMEM;

	out->action = "verify";
	if (cJSON_AddStringToObject(req, "phone", ctx->phone) == NULL ||
	    cJSON_AddStringToObject(req, "code", code) == NULL)
		goto out;
	body = json_print_wipe(req);
	req = NULL;
	if (body == NULL)
		goto out;
	rc = bax_post(ctx, "/auth/sms/verify", body, &resp, out);
	if (rc == BV_OK)
		rc = parse_verified(ctx, &resp, proof, out);
out:
	json_wipe_delete(req);
	bv_free_secret(body);
	http_response_clear(&resp);
	return rc;
}

/* A validate-token answer: valid, and for the phone we verified. */
static enum bv_result
parse_valid(struct bv_ctx *ctx, const struct http_response *resp,
	    struct bv_outcome *out)
{
	cJSON *root = cJSON_ParseWithLength(resp->body, resp->len);
	const cJSON *valid = cJSON_GetObjectItemCaseSensitive(root, "valid");
	const char *phone = json_string(root, "phone");
	enum bv_result rc = BV_UNAVAILABLE;

	if (!cJSON_IsBool(valid) || phone == NULL) {
		snprintf(out->detail, sizeof(out->detail),
			 "validate-token answer lacks valid/phone");
		goto out;
	}
	rc = BV_REJECTED;
	if (!cJSON_IsTrue(valid))
		snprintf(out->detail, sizeof(out->detail),
			 "token reported not valid");
	else if (ctx->phone != NULL && strcmp(phone, ctx->phone) != 0)
		snprintf(out->detail, sizeof(out->detail),
			 "token was issued for another phone");
	else
		rc = BV_OK;
out:
	json_wipe_delete(root);
	return rc;
}

static enum bv_result
bax_validate(struct bv_ctx *ctx, const char *token, bool consume,
	     struct bv_outcome *out)
{
	struct http_response resp = { 0 };
	cJSON *req = cJSON_CreateObject();
	char *body = NULL;
	enum bv_result rc = BV_NOMEM;

	out->action = consume ? "consume" : "validate";
	if (cJSON_AddStringToObject(req, "token", token) == NULL ||
	    cJSON_AddBoolToObject(req, "consume", consume) == NULL)
		goto out;
	body = json_print_wipe(req);
	req = NULL;
	if (body == NULL)
		goto out;
	rc = bax_post(ctx, "/auth/sms/validate-token", body, &resp, out);
	if (rc == BV_OK)
		rc = parse_valid(ctx, &resp, out);
out:
	json_wipe_delete(req);
	bv_free_secret(body);
	http_response_clear(&resp);
	return rc;
}

const struct bv_provider baxverify_provider = {
	.name = "baxverify",
	.send = bax_send,
	.check = bax_check,
	.validate = bax_validate,
};
