/*
 * tryvox.c - Tryvox Verify: start, check, status.
 *
 * Follows shared/api/tryvox.md.  The verification_id from start is this
 * authentication's handle (its state, struct tryvox_state) and, since
 * Tryvox issues no token, also the exported proof.  Where the documents
 * disagree (the status of VERIFICATION_FAILED is 400 or 422) the client
 * decides on error.code alone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "tryvox.h"
#include "../core/json.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* A verification_id longer than this is not one the documents promise. */
#define TVX_ID_MAX 128
/* Documented lifetime of a verification. */
#define TVX_TTL 600
/*
 * Counts of attempts beyond this are not the documents' (max_attempts is
 * always 5): they are ignored rather than cast, which for a number like
 * 1e300 from the server would be undefined behaviour.
 */
#define TVX_ATTEMPTS_MAX 100
/*
 * An id no verification can have, for baxverify check: Tryvox answers
 * NOT_FOUND for it once the key and tenant are accepted, and
 * UNAUTHORIZED/FORBIDDEN otherwise.
 */
#define TVX_PROBE_ID "ver_baxverify_check"

/* This provider's own group and per-login state, from the context. */
static const struct tryvox_config *
conf_of(const struct bv_ctx *ctx)
{
	return ctx->conf;
}

static struct tryvox_state *
state_of(const struct bv_ctx *ctx)
{
	return ctx->state;
}

void
tryvox_state_clear(void *state)
{
	struct tryvox_state *st = state;

	bv_free_secret(st->id);
	st->id = NULL;
	st->expires = 0;
}

/* Every documented error code and what it means for a login. */
static const struct {
	const char *code;
	enum bv_result result;
} error_codes[] = {
    {"VERIFICATION_FAILED", BV_WRONG_CODE},	/* 400 or 422 */
    {"MAX_ATTEMPTS_EXCEEDED", BV_MAX_ATTEMPTS}, /* 429, id is dead */
    {"NOT_FOUND", BV_EXPIRED}, /* expired, approved or failed */
    {"RATE_LIMITED", BV_RATE_LIMITED},
    {"UNAUTHORIZED", BV_REJECTED},	 /* key missing, invalid, expired */
    {"FORBIDDEN", BV_REJECTED},		 /* key lacks permission */
    {"DELIVERY_FAILED", BV_UNAVAILABLE}, /* 502: upstream channel */
    {"INTERNAL_ERROR", BV_UNAVAILABLE},
    {"VALIDATION_FAILED", BV_REJECTED}, /* see tryvox_code_result */
};

enum bv_result
tryvox_code_result(const char *code, const char *action)
{
	size_t i;

	/* At start, a refused "to" is the user's registered destination. */
	if (strcmp(code, "VALIDATION_FAILED") == 0 &&
	    strcmp(action, "send") == 0)
		return BV_BAD_DESTINATION;
	for (i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
		if (strcmp(error_codes[i].code, code) == 0)
			return error_codes[i].result;
	return BV_REJECTED;
}

/* An error answer: {"error":{"code","message","details":[...]}}. */
enum bv_result
tryvox_parse_error(const struct http_response *resp, struct bv_outcome *out)
{
	cJSON *root = provider_parse_object(resp);
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	const char *code = json_string(err, "code");
	enum bv_result rc;

	if (code == NULL || *code == '\0' || resp->status < 400) {
		rc = provider_undocumented(
		    resp->status,
		    "error response is not the documented envelope", out);
		goto out;
	}
	text_sanitize(out->code, sizeof(out->code), code);
	text_sanitize(out->message, sizeof(out->message),
		      json_string(err, "message"));
	rc = tryvox_code_result(code, out->action);
	/* An undocumented 5xx never reads as anything but an outage. */
	if (resp->status >= 500)
		rc = BV_UNAVAILABLE;
out:
	json_wipe_delete(root);
	return rc;
}

enum bv_result
tryvox_parse_answer(const struct http_response *resp, cJSON **root,
		    struct bv_outcome *out)
{
	*root = NULL;
	if (resp->status < 200 || resp->status >= 300)
		return tryvox_parse_error(resp, out);
	*root = provider_parse_object(resp);
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*root, "data"))) {
		json_wipe_delete(*root);
		*root = NULL;
		return provider_undocumented(
		    resp->status, "answer has no \"data\" object", out);
	}
	return BV_OK;
}

/*
 * One Tryvox request.  On a 2xx answer with a "data" object returns BV_OK
 * and *root (free with json_wipe_delete) whose "data" is that object.
 */
static enum bv_result
tvx_request(struct bv_ctx *ctx, const char *method, const char *path,
	    cJSON *req, cJSON **root, struct bv_outcome *out)
{
	const struct tryvox_config *c = conf_of(ctx);
	struct http_response resp = {0};
	char *body = req ? json_print_wipe(req) : NULL;
	char *auth = provider_bearer(c->api_key);
	char *tenant = provider_header("X-Tenant-ID", c->tenant_id);
	const char *headers[] = {auth, tenant, NULL};
	enum bv_result rc = BV_NOMEM;

	*root = NULL;
	if ((req != NULL && body == NULL) || auth == NULL || tenant == NULL)
		goto out;
	rc = provider_call(ctx, c->api_url, method, path, headers, body, &resp,
			   out);
	if (rc != BV_OK)
		goto out;
	rc = tryvox_parse_answer(&resp, root, out);
out:
	bv_free_secret(auth);
	free(tenant);
	bv_free_secret(body);
	http_response_clear(&resp);
	return rc;
}

static const cJSON *
data_of(const cJSON *root)
{
	return cJSON_GetObjectItemCaseSensitive(root, "data");
}

/* A verification_id we will put in a URL path: short, plain characters. */
static bool
id_ok(const char *id)
{
	size_t n = id ? strspn(id, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
		      : 0;

	return n > 0 && n <= TVX_ID_MAX && id[n] == '\0';
}

/* "2026-03-01T08:10:00Z" (fraction and zone letter ignored), or 0. */
static time_t
iso_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL)
		return 0;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	return end != NULL ? timegm(&tm) : 0;
}

enum bv_result
tryvox_parse_started(struct bv_ctx *ctx, const cJSON *root,
		     struct bv_outcome *out)
{
	const char *id = json_string(data_of(root), "verification_id");
	struct tryvox_state *st = state_of(ctx);

	if (!id_ok(id))
		return provider_undocumented(out->http_status,
					     "start answer lacks a usable "
					     "verification_id",
					     out);
	st->id = strdup(id);
	st->expires = iso_time(json_string(data_of(root), "expires_at"));
	return st->id ? BV_OK : BV_NOMEM;
}

static enum bv_result
tvx_send(struct bv_ctx *ctx, struct bv_outcome *out)
{
	const struct tryvox_config *c = conf_of(ctx);
	cJSON *req, *root = NULL;
	enum bv_result rc = BV_NOMEM;

	out->action = "send";
	if (ctx->state == NULL)
		return BV_INTERNAL; /* a caller without the state: a bug */
	tryvox_state_clear(ctx->state);
	req = cJSON_CreateObject();
	if (cJSON_AddStringToObject(req, "to", ctx->dest) == NULL ||
	    /* Tryvox names its channels as we do. */
	    cJSON_AddStringToObject(req, "channel",
				    channel_name(ctx->channel)) == NULL ||
	    cJSON_AddNumberToObject(req, "code_length",
				    (double)c->code_length) == NULL ||
	    cJSON_AddStringToObject(req, "app_name", c->app_name) == NULL) {
		json_wipe_delete(req);
		goto out;
	}
	rc = tvx_request(ctx, "POST", "/v1/verify/start", req, &root, out);
	if (rc == BV_OK)
		rc = tryvox_parse_started(ctx, root, out);
out:
	json_wipe_delete(root);
	return rc;
}

/* GET /v1/verify/{id}: the verification's state, for after a wrong code. */
static enum bv_result
tvx_status(struct bv_ctx *ctx, const char *id, cJSON **root,
	   struct bv_outcome *out)
{
	char path[sizeof("/v1/verify/") + TVX_ID_MAX];

	if (!id_ok(id))
		return BV_REJECTED;
	snprintf(path, sizeof(path), "/v1/verify/%s", id);
	return tvx_request(ctx, "GET", path, NULL, root, out);
}

enum bv_result
tryvox_parse_wrong_code(const cJSON *root, struct bv_outcome *out)
{
	const cJSON *data = data_of(root), *tries, *max;
	const char *status = json_string(data, "status");

	tries = cJSON_GetObjectItemCaseSensitive(data, "attempts");
	max = cJSON_GetObjectItemCaseSensitive(data, "max_attempts");
	if (status != NULL && strcmp(status, "failed") == 0)
		return BV_MAX_ATTEMPTS;
	if (status != NULL && strcmp(status, "expired") == 0)
		return BV_EXPIRED;
	if (cJSON_IsNumber(tries) && cJSON_IsNumber(max) &&
	    tries->valuedouble >= 0 && max->valuedouble <= TVX_ATTEMPTS_MAX &&
	    max->valuedouble >= tries->valuedouble)
		out->attempts_left =
		    (long)(max->valuedouble - tries->valuedouble);
	return BV_WRONG_CODE;
}

/*
 * After VERIFICATION_FAILED: ask the status how many attempts are left,
 * and notice a verification that has meanwhile failed or expired.
 */
static enum bv_result
after_wrong_code(struct bv_ctx *ctx, struct bv_outcome *out)
{
	struct bv_outcome sout = {0};
	const char *who = ctx->who ? ctx->who : "-";
	cJSON *root = NULL;
	enum bv_result rc = BV_WRONG_CODE;

	sout.action = "status";
	if (tvx_status(ctx, state_of(ctx)->id, &root, &sout) != BV_OK) {
		/* The wrong code stands; only the count is unknown. */
		if (sout.code[0] != '\0')
			bv_log(ctx->log, LOG_WARNING,
			       "%s: status via tryvox "
			       "refused: %s (HTTP %ld): %s",
			       who, sout.code, sout.http_status, sout.message);
		else if (sout.http_status > 0)
			bv_log(ctx->log, LOG_WARNING,
			       "%s: status via tryvox "
			       "failed: %s (HTTP %ld)",
			       who, sout.detail[0] ? sout.detail : "no detail",
			       sout.http_status);
		else
			bv_log(ctx->log, LOG_WARNING,
			       "%s: status via tryvox "
			       "failed: %s",
			       who, sout.detail[0] ? sout.detail : "no detail");
		goto out;
	}
	rc = tryvox_parse_wrong_code(root, out);
out:
	json_wipe_delete(root);
	return rc;
}

enum bv_result
tryvox_parse_checked(const struct bv_ctx *ctx, const cJSON *root,
		     struct bv_proof *proof, struct bv_outcome *out)
{
	const char *status = json_string(data_of(root), "status");
	const char *to = json_string(data_of(root), "to");
	const struct tryvox_state *st = state_of(ctx);

	/* "approved" is the only success; a check answer must say so. */
	if (status == NULL || strcmp(status, "approved") != 0 ||
	    (to != NULL && strcmp(to, ctx->dest) != 0)) {
		snprintf(out->detail, sizeof(out->detail),
			 "check answered without \"approved\" for this "
			 "destination");
		return BV_REJECTED;
	}
	proof->token = strdup(st->id);
	/* The verification lives 10 minutes from its start. */
	proof->expires = st->expires > 0 ? st->expires : time(NULL) + TVX_TTL;
	return proof->token ? BV_OK : BV_NOMEM;
}

static enum bv_result
tvx_check(struct bv_ctx *ctx, const char *code, struct bv_proof *proof,
	  struct bv_outcome *out)
{
	cJSON *req, *root = NULL;
	enum bv_result rc = BV_NOMEM;

	out->action = "verify";
	/* No verification started (or the caller kept no state). */
	if (ctx->state == NULL || state_of(ctx)->id == NULL)
		return BV_EXPIRED;
	req = cJSON_CreateObject();
	if (cJSON_AddStringToObject(req, "verification_id",
				    state_of(ctx)->id) == NULL ||
	    cJSON_AddStringToObject(req, "code", code) == NULL) {
		json_wipe_delete(req);
		goto out;
	}
	rc = tvx_request(ctx, "POST", "/v1/verify/check", req, &root, out);
	if (rc == BV_WRONG_CODE)
		rc = after_wrong_code(ctx, out);
	if (rc == BV_OK)
		rc = tryvox_parse_checked(ctx, root, proof, out);
out:
	json_wipe_delete(root);
	return rc;
}

enum bv_result
tryvox_parse_validated(const struct bv_ctx *ctx, const cJSON *root,
		       struct bv_outcome *out)
{
	const char *status = json_string(data_of(root), "status");
	const char *to = json_string(data_of(root), "to");

	if (status == NULL || strcmp(status, "approved") != 0 || to == NULL ||
	    (ctx->dest != NULL && strcmp(to, ctx->dest) != 0)) {
		snprintf(out->detail, sizeof(out->detail),
			 "verification is not approved for this destination");
		return BV_REJECTED;
	}
	return BV_OK;
}

/*
 * Tryvox has no token to validate or consume: the status of the
 * verification must be "approved" for our destination.  consume is
 * accepted and has no further effect (the id cannot be checked again).
 */
static enum bv_result
tvx_validate(struct bv_ctx *ctx, const char *token, bool consume,
	     struct bv_outcome *out)
{
	cJSON *root = NULL;
	enum bv_result rc;

	out->action = consume ? "consume" : "validate";
	rc = tvx_status(ctx, token, &root, out);
	if (rc == BV_OK)
		rc = tryvox_parse_validated(ctx, root, out);
	json_wipe_delete(root);
	return rc;
}

/* baxverify check: the status of a verification that cannot exist. */
static enum bv_result
tvx_probe(struct bv_ctx *ctx, char *said, size_t saidsz, struct bv_outcome *out)
{
	enum bv_result rc;

	said[0] = '\0';
	rc = tvx_validate(ctx, TVX_PROBE_ID, false, out);
	out->action = "GET /v1/verify/" TVX_PROBE_ID;
	/* NOT_FOUND: authenticated, and there is no such verification. */
	if (rc == BV_OK ||
	    (rc == BV_EXPIRED && strcmp(out->code, "NOT_FOUND") == 0)) {
		snprintf(said, saidsz, "ok (API key and tenant accepted)");
		rc = BV_OK;
	}
	return rc;
}

/* The verification id send got, for verify --id. */
static const char *
tvx_reference(const void *state, time_t *expires)
{
	const struct tryvox_state *st = state;

	*expires = st->expires;
	return st->id;
}

static enum bv_result
tvx_set_reference(void *state, const char *ref)
{
	struct tryvox_state *st = state;

	tryvox_state_clear(st);
	st->id = strdup(ref);
	return st->id != NULL ? BV_OK : BV_NOMEM;
}

const struct bv_provider tryvox_provider = {
    .info = &tryvox_info,
    .state_size = sizeof(struct tryvox_state),
    .state_clear = tryvox_state_clear,
    .send = tvx_send,
    .check = tvx_check,
    .validate = tvx_validate,
    .probe = tvx_probe,
    .reference = tvx_reference,
    .set_reference = tvx_set_reference,
};
