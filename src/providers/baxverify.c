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
#include "common.h"
#include "../core/json.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* The probe's call: a day of statistics needs the key and the project. */
#define BAX_PROBE_PATH "/auth/sms/stats?days=1"

/* This provider's own group, from the context. */
static const struct baxverify_config *
conf_of(const struct bv_ctx *ctx)
{
	return ctx->conf;
}

/* Every documented error code and what it means for a login. */
static const struct {
	const char *code;
	enum bv_result result;
} error_codes[] = {
    /* The user's side of things: retry, resend, wait, or ask. */
    {"BAXVERIFY_OTP_INVALID", BV_WRONG_CODE},
    {"BAXVERIFY_OTP_EXPIRED", BV_EXPIRED},
    {"BAXVERIFY_OTP_MAX_ATTEMPTS", BV_MAX_ATTEMPTS},
    {"BAXVERIFY_RATE_LIMIT", BV_RATE_LIMITED},
    {"BAXVERIFY_INVALID_PHONE", BV_BAD_DESTINATION},
    /* The account or our configuration: an administrator must act. */
    {"BAXVERIFY_FEATURE_DISABLED", BV_REJECTED},
    {"BAXVERIFY_PLAN_NOT_INCLUDED", BV_REJECTED},
    {"BAXVERIFY_API_KEY_SCOPE", BV_REJECTED},
    {"BAXVERIFY_SENDER_NOT_CONFIGURED", BV_REJECTED},
    {"BAXVERIFY_INSUFFICIENT_CREDITS", BV_REJECTED},
    {"BAXVERIFY_VERIFY_FEE_CREDITS", BV_REJECTED},
    {"BAXVERIFY_NO_SUBSCRIPTION", BV_REJECTED},
    {"BAXVERIFY_PROJECT_INACTIVE", BV_REJECTED},
    {"BAXVERIFY_PROJECT_HEADER_REQUIRED", BV_REJECTED},
    {"BAXVERIFY_API_KEY_PROJECT_MISMATCH", BV_REJECTED},
    {"BAXVERIFY_SMS_SEND_FAILED", BV_REJECTED},
    {"BAXVERIFY_TOKEN_INVALID", BV_REJECTED},
    {"BAXVERIFY_TOKEN_CONSUMED", BV_REJECTED},
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
	enum bv_result rc;

	out->http_status = status;
	if (status < 400 || status >= 500)
		return provider_undocumented(status, "unexpected status", out);
	root = cJSON_ParseWithLength(body, len);
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	code = json_string(err, "code");
	if (!cJSON_IsObject(root) || code == NULL || *code == '\0') {
		rc = provider_undocumented(
		    status, "error response is not the documented envelope",
		    out);
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
 * POST body to {api_url}{path} with the documented headers.  On a 2xx
 * answer, returns BV_OK with resp filled; otherwise the classified error,
 * with out filled.
 */
static enum bv_result
bax_post(struct bv_ctx *ctx, const char *path, cJSON *req,
	 struct http_response *resp, struct bv_outcome *out)
{
	const struct baxverify_config *c = conf_of(ctx);
	char *body = json_print_wipe(req);
	char *auth = provider_bearer(c->api_key);
	char *project = provider_header("X-Project-Id", c->project_id);
	const char *headers[] = {auth, project, NULL};
	enum bv_result rc = BV_NOMEM;

	if (body == NULL || auth == NULL || project == NULL)
		goto out;
	rc = provider_call(ctx, c->api_url, "POST", path, headers, body, resp,
			   out);
	if (rc == BV_OK && (resp->status < 200 || resp->status >= 300))
		rc = baxverify_parse_error(resp->status, resp->body, resp->len,
					   out);
out:
	bv_free_secret(auth);
	free(project);
	bv_free_secret(body);
	return rc;
}

enum bv_result
baxverify_get(struct bv_ctx *ctx, const char *path_query, cJSON **root,
	      struct bv_outcome *out)
{
	const struct baxverify_config *c = conf_of(ctx);
	struct http_response resp = {0};
	char *auth = provider_bearer(c->api_key);
	char *project = provider_header("X-Project-Id", c->project_id);
	const char *headers[] = {auth, project, NULL};
	enum bv_result rc = BV_NOMEM;

	*root = NULL;
	if (auth == NULL || project == NULL)
		goto out;
	rc = provider_call(ctx, c->api_url, "GET", path_query, headers, NULL,
			   &resp, out);
	if (rc == BV_OK && (resp.status < 200 || resp.status >= 300))
		rc = baxverify_parse_error(resp.status, resp.body, resp.len,
					   out);
	if (rc != BV_OK)
		goto out;
	*root = provider_parse_object(&resp);
	if (*root == NULL)
		rc = provider_undocumented(resp.status,
					   "answer is not a JSON object", out);
out:
	bv_free_secret(auth);
	free(project);
	http_response_clear(&resp);
	return rc;
}

static enum bv_result
bax_send(struct bv_ctx *ctx, struct bv_outcome *out)
{
	struct http_response resp = {0};
	cJSON *req = cJSON_CreateObject(), *root = NULL;
	enum bv_result rc = BV_NOMEM;

	out->action = "send";
	if (cJSON_AddStringToObject(req, "phone", ctx->dest) == NULL ||
	    cJSON_AddStringToObject(req, "purpose", conf_of(ctx)->purpose) ==
		NULL) {
		json_wipe_delete(req);
		goto out;
	}
	rc = bax_post(ctx, "/auth/sms/send", req, &resp, out);
	/*
	 * The send answer's body is undocumented: accept empty or any JSON
	 * object, but not something else entirely (an HTML page from a
	 * captive portal is not "sent").
	 */
	if (rc == BV_OK && resp.len > 0) {
		root = provider_parse_object(&resp);
		if (root == NULL)
			rc = provider_undocumented(
			    resp.status, "send answer is not a JSON object",
			    out);
	}
out:
	json_wipe_delete(root);
	http_response_clear(&resp);
	return rc;
}

enum bv_result
baxverify_parse_verified(const struct bv_ctx *ctx,
			 const struct http_response *resp,
			 struct bv_proof *proof, struct bv_outcome *out)
{
	cJSON *root = provider_parse_object(resp);
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
		rc = provider_undocumented(
		    resp->status,
		    "verify answer lacks verified/accessToken/expiresIn", out);
		goto out;
	}
	if (phone != NULL && strcmp(phone, ctx->dest) != 0) {
		snprintf(out->detail, sizeof(out->detail),
			 "verify answer is for another phone");
		rc = BV_REJECTED;
		goto out;
	}
	proof->token = strdup(token);
	proof->expires = time(NULL) + (time_t)expires->valuedouble;
	rc = proof->token ? BV_OK : BV_NOMEM;
out:
	json_wipe_delete(root);
	return rc;
}

static enum bv_result
bax_check(struct bv_ctx *ctx, const char *code, struct bv_proof *proof,
	  struct bv_outcome *out)
{
	struct http_response resp = {0};
	cJSON *req = cJSON_CreateObject();
	enum bv_result rc = BV_NOMEM;

	out->action = "verify";
	if (cJSON_AddStringToObject(req, "phone", ctx->dest) == NULL ||
	    cJSON_AddStringToObject(req, "code", code) == NULL) {
		json_wipe_delete(req);
		goto out;
	}
	rc = bax_post(ctx, "/auth/sms/verify", req, &resp, out);
	if (rc == BV_OK)
		rc = baxverify_parse_verified(ctx, &resp, proof, out);
out:
	http_response_clear(&resp);
	return rc;
}

enum bv_result
baxverify_parse_valid(const struct bv_ctx *ctx,
		      const struct http_response *resp, struct bv_outcome *out)
{
	cJSON *root = provider_parse_object(resp);
	const cJSON *valid = cJSON_GetObjectItemCaseSensitive(root, "valid");
	const char *phone = json_string(root, "phone");
	enum bv_result rc;

	if (!cJSON_IsBool(valid) || phone == NULL) {
		rc = provider_undocumented(
		    resp->status, "validate-token answer lacks valid/phone",
		    out);
		goto out;
	}
	rc = BV_REJECTED;
	if (!cJSON_IsTrue(valid))
		snprintf(out->detail, sizeof(out->detail),
			 "token reported not valid");
	else if (ctx->dest != NULL && strcmp(phone, ctx->dest) != 0)
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
	struct http_response resp = {0};
	cJSON *req = cJSON_CreateObject();
	enum bv_result rc = BV_NOMEM;

	out->action = consume ? "consume" : "validate";
	if (cJSON_AddStringToObject(req, "token", token) == NULL ||
	    cJSON_AddBoolToObject(req, "consume", consume) == NULL) {
		json_wipe_delete(req);
		goto out;
	}
	rc = bax_post(ctx, "/auth/sms/validate-token", req, &resp, out);
	if (rc == BV_OK)
		rc = baxverify_parse_valid(ctx, &resp, out);
out:
	http_response_clear(&resp);
	return rc;
}

/* baxverify check: one authenticated read that changes nothing. */
static enum bv_result
bax_probe(struct bv_ctx *ctx, char *said, size_t saidsz, struct bv_outcome *out)
{
	cJSON *root = NULL;
	enum bv_result rc;

	said[0] = '\0';
	rc = baxverify_get(ctx, BAX_PROBE_PATH, &root, out);
	json_wipe_delete(root);
	out->action = "GET /auth/sms/stats";
	if (rc == BV_OK)
		snprintf(said, saidsz, "ok (API key and project accepted)");
	return rc;
}

const struct bv_provider baxverify_provider = {
    .info = &baxverify_info,
    .send = bax_send,
    .check = bax_check,
    .validate = bax_validate,
    .probe = bax_probe,
};
