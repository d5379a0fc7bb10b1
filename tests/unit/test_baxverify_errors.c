/*
 * test_baxverify_errors.c - BaxVerify error codes and error envelopes.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/result.h"
#include "../../src/providers/baxverify.h"

struct err_state {
	struct bv_outcome out;
};

static int
setup(void **state)
{
	struct err_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	*state = st;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	*state = NULL;
	return 0;
}

/* Every documented code, its documented HTTP status and its meaning. */
static const struct {
	const char *code;
	long status;
	enum bv_result result;
} documented[] = {
    {"BAXVERIFY_OTP_INVALID", 400, BV_WRONG_CODE},
    {"BAXVERIFY_OTP_EXPIRED", 400, BV_EXPIRED},
    {"BAXVERIFY_OTP_MAX_ATTEMPTS", 429, BV_MAX_ATTEMPTS},
    {"BAXVERIFY_RATE_LIMIT", 429, BV_RATE_LIMITED},
    {"BAXVERIFY_INVALID_PHONE", 400, BV_BAD_DESTINATION},
    {"BAXVERIFY_FEATURE_DISABLED", 403, BV_REJECTED},
    {"BAXVERIFY_PLAN_NOT_INCLUDED", 403, BV_REJECTED},
    {"BAXVERIFY_API_KEY_SCOPE", 403, BV_REJECTED},
    {"BAXVERIFY_SENDER_NOT_CONFIGURED", 400, BV_REJECTED},
    {"BAXVERIFY_INSUFFICIENT_CREDITS", 400, BV_REJECTED},
    {"BAXVERIFY_VERIFY_FEE_CREDITS", 400, BV_REJECTED},
    {"BAXVERIFY_NO_SUBSCRIPTION", 400, BV_REJECTED},
    {"BAXVERIFY_SMS_SEND_FAILED", 400, BV_REJECTED},
    {"BAXVERIFY_TOKEN_INVALID", 401, BV_REJECTED},
    {"BAXVERIFY_TOKEN_CONSUMED", 401, BV_REJECTED},
    {"BAXVERIFY_PROJECT_INACTIVE", 403, BV_REJECTED},
    {"BAXVERIFY_PROJECT_HEADER_REQUIRED", 400, BV_REJECTED},
    {"BAXVERIFY_API_KEY_PROJECT_MISMATCH", 403, BV_REJECTED},
};

#define N_DOCUMENTED (sizeof(documented) / sizeof(documented[0]))

/* parse_error on a NUL-terminated body. */
static enum bv_result
parse(struct err_state *st, long status, const char *body)
{
	memset(&st->out, 0, sizeof(st->out));
	return baxverify_parse_error(status, body, body ? strlen(body) : 0,
				     &st->out);
}

/* parse_error on an exact-size copy with no NUL after it. */
static enum bv_result
parse_exact(struct err_state *st, long status, const char *body, size_t len)
{
	char *copy = malloc(len ? len : 1);
	enum bv_result rc;

	assert_non_null(copy);
	memcpy(copy, body, len);
	memset(&st->out, 0, sizeof(st->out));
	rc = baxverify_parse_error(status, copy, len, &st->out);
	free(copy);
	return rc;
}

/* --- baxverify_code_result -------------------------------------------- */

static void
test_code_count(void **state)
{
	(void)state;
	/* The API documents eighteen codes. */
	assert_int_equal(N_DOCUMENTED, 18);
}

static void
test_code_user_side(void **state)
{
	(void)state;
	assert_int_equal(baxverify_code_result("BAXVERIFY_OTP_INVALID"),
			 BV_WRONG_CODE);
	assert_int_equal(baxverify_code_result("BAXVERIFY_OTP_EXPIRED"),
			 BV_EXPIRED);
	assert_int_equal(baxverify_code_result("BAXVERIFY_OTP_MAX_ATTEMPTS"),
			 BV_MAX_ATTEMPTS);
	assert_int_equal(baxverify_code_result("BAXVERIFY_RATE_LIMIT"),
			 BV_RATE_LIMITED);
	assert_int_equal(baxverify_code_result("BAXVERIFY_INVALID_PHONE"),
			 BV_BAD_DESTINATION);
}

static void
test_code_all_documented(void **state)
{
	size_t i;
	int rejected = 0;

	(void)state;
	for (i = 0; i < N_DOCUMENTED; i++) {
		enum bv_result rc = baxverify_code_result(documented[i].code);

		if (rc != documented[i].result)
			fail_msg("%s: got %d, want %d", documented[i].code,
				 (int)rc, (int)documented[i].result);
		if (rc == BV_REJECTED)
			rejected++;
	}
	assert_int_equal(rejected, 13);
}

static void
test_code_unknown(void **state)
{
	(void)state;
	assert_int_equal(baxverify_code_result("BAXVERIFY_SOMETHING_NEW"),
			 BV_REJECTED);
	assert_int_equal(baxverify_code_result(""), BV_REJECTED);
	/* Exact match only: no case folding, no prefixes, no padding. */
	assert_int_equal(baxverify_code_result("baxverify_otp_invalid"),
			 BV_REJECTED);
	assert_int_equal(baxverify_code_result("BAXVERIFY_OTP_INVALI"),
			 BV_REJECTED);
	assert_int_equal(baxverify_code_result("BAXVERIFY_OTP_INVALID "),
			 BV_REJECTED);
	assert_int_equal(baxverify_code_result("OTP_INVALID"), BV_REJECTED);
	assert_int_equal(baxverify_code_result("SUCCESS"), BV_REJECTED);
	assert_int_equal(baxverify_code_result("OK"), BV_REJECTED);
}

/* --- baxverify_parse_error: well-formed envelopes ---------------------- */

static void
test_envelope_full(void **state)
{
	struct err_state *st = *state;
	static const char body[] =
	    "{\"success\":false,"
	    "\"error\":{\"code\":\"BAXVERIFY_OTP_INVALID\","
	    "\"message\":\"Wrong \\u001b[31mcode\\u001b[0m\\nJan 1 sshd: ok\","
	    "\"details\":{\"projectId\":\"proj_abc\","
	    "\"helpUrl\":\"https://console.baxcloud.tech/help/otp\","
	    "\"docsUrl\":\"https://docs.baxcloud.tech/otp\"}},"
	    "\"timestamp\":\"2026-01-01T10:00:00.000Z\","
	    "\"path\":\"/v1/auth/sms/verify\"}";

	assert_int_equal(parse(st, 400, body), BV_WRONG_CODE);
	assert_int_equal(st->out.http_status, 400);
	assert_string_equal(st->out.code, "BAXVERIFY_OTP_INVALID");
	assert_string_equal(st->out.message,
			    "Wrong ?[31mcode?[0m?Jan 1 sshd: ok");
	assert_null(strchr(st->out.message, 0x1b));
	assert_null(strchr(st->out.message, '\n'));
	assert_string_equal(st->out.help_url,
			    "https://console.baxcloud.tech/help/otp");
}

static void
test_envelope_each_documented(void **state)
{
	struct err_state *st = *state;
	size_t i;

	for (i = 0; i < N_DOCUMENTED; i++) {
		char body[512];
		enum bv_result rc;

		snprintf(body, sizeof(body),
			 "{\"success\":false,\"error\":{\"code\":\"%s\","
			 "\"message\":\"m\",\"details\":{\"helpUrl\":"
			 "\"https://h/%zu\"}}}",
			 documented[i].code, i);
		rc = parse(st, documented[i].status, body);
		if (rc != documented[i].result)
			fail_msg("%s (HTTP %ld): got %d, want %d",
				 documented[i].code, documented[i].status,
				 (int)rc, (int)documented[i].result);
		assert_string_equal(st->out.code, documented[i].code);
		assert_int_equal(st->out.http_status, documented[i].status);
	}
}

static void
test_envelope_rate_limit_429(void **state)
{
	struct err_state *st = *state;

	assert_int_equal(parse(st, 429,
			       "{\"success\":false,\"error\":{\"code\":"
			       "\"BAXVERIFY_RATE_LIMIT\",\"message\":\"slow "
			       "down\"}}"),
			 BV_RATE_LIMITED);
	assert_string_equal(st->out.message, "slow down");
	/* No details: no help URL. */
	assert_string_equal(st->out.help_url, "");
}

static void
test_envelope_code_only(void **state)
{
	struct err_state *st = *state;

	assert_int_equal(parse(st, 403,
			       "{\"error\":{\"code\":"
			       "\"BAXVERIFY_FEATURE_DISABLED\"}}"),
			 BV_REJECTED);
	assert_string_equal(st->out.code, "BAXVERIFY_FEATURE_DISABLED");
	assert_string_equal(st->out.message, "");
	assert_string_equal(st->out.help_url, "");
}

static void
test_envelope_unknown_code(void **state)
{
	struct err_state *st = *state;

	/* Well-formed but new: an administrator matter, never a retry. */
	assert_int_equal(
	    parse(st, 400,
		  "{\"success\":false,\"error\":{\"code\":"
		  "\"BAXVERIFY_SOMETHING_NEW\",\"message\":\"x\"}}"),
	    BV_REJECTED);
	assert_string_equal(st->out.code, "BAXVERIFY_SOMETHING_NEW");
}

static void
test_envelope_code_sanitized(void **state)
{
	struct err_state *st = *state;

	/* A code with a control character is no documented code. */
	assert_int_equal(parse(st, 400,
			       "{\"error\":{\"code\":"
			       "\"BAXVERIFY_OTP_INVALID\\r\\nX: y\"}}"),
			 BV_REJECTED);
	assert_string_equal(st->out.code, "BAXVERIFY_OTP_INVALID??X: y");
}

static void
test_envelope_long_fields(void **state)
{
	struct err_state *st = *state;
	char body[8192], longtext[1500];

	memset(longtext, 'A', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	snprintf(body, sizeof(body),
		 "{\"error\":{\"code\":\"X_%s\",\"message\":\"%s\","
		 "\"details\":{\"helpUrl\":\"https://h/%s\"}}}",
		 longtext, longtext, longtext);
	assert_int_equal(parse(st, 400, body), BV_REJECTED);
	assert_true(strlen(st->out.code) < sizeof(st->out.code));
	assert_true(strlen(st->out.message) < sizeof(st->out.message));
	assert_true(strlen(st->out.help_url) < sizeof(st->out.help_url));
	assert_string_equal(st->out.code + strlen(st->out.code) - 3, "...");
}

static void
test_envelope_not_nul_terminated(void **state)
{
	struct err_state *st = *state;
	static const char body[] =
	    "{\"error\":{\"code\":\"BAXVERIFY_OTP_EXPIRED\"}}";

	assert_int_equal(parse_exact(st, 400, body, strlen(body)), BV_EXPIRED);
	assert_string_equal(st->out.code, "BAXVERIFY_OTP_EXPIRED");
}

static void
test_envelope_len_respected(void **state)
{
	struct err_state *st = *state;
	static const char body[] =
	    "{\"error\":{\"code\":\"BAXVERIFY_OTP_EXPIRED\"}}";

	/* Only the first len bytes count: cut short, it is not JSON. */
	assert_int_equal(parse_exact(st, 400, body, strlen(body) - 2),
			 BV_UNAVAILABLE);
}

static void
test_help_url_wrong_type(void **state)
{
	struct err_state *st = *state;

	assert_int_equal(parse(st, 400,
			       "{\"error\":{\"code\":\"BAXVERIFY_OTP_INVALID\","
			       "\"message\":42,\"details\":{\"helpUrl\":7}}}"),
			 BV_WRONG_CODE);
	assert_string_equal(st->out.message, "");
	assert_string_equal(st->out.help_url, "");
}

/* --- baxverify_parse_error: anything else is "unavailable" ------------- */

static void
test_5xx_with_envelope(void **state)
{
	struct err_state *st = *state;
	static const char body[] =
	    "{\"success\":false,\"error\":{\"code\":"
	    "\"BAXVERIFY_OTP_INVALID\",\"message\":\"m\"}}";

	assert_int_equal(parse(st, 500, body), BV_UNAVAILABLE);
	assert_int_equal(st->out.http_status, 500);
	assert_true(strlen(st->out.detail) > 0);
	assert_int_equal(parse(st, 503, body), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 599, body), BV_UNAVAILABLE);
}

static void
test_4xx_html(void **state)
{
	struct err_state *st = *state;

	assert_int_equal(parse(st, 403,
			       "<html><head><title>403 Forbidden</title></head>"
			       "<body>Captive portal</body></html>"),
			 BV_UNAVAILABLE);
	assert_int_equal(st->out.http_status, 403);
	assert_true(strlen(st->out.detail) > 0);
	assert_string_equal(st->out.code, "");
}

static void
test_4xx_empty(void **state)
{
	struct err_state *st = *state;

	assert_int_equal(parse(st, 400, ""), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 404, NULL), BV_UNAVAILABLE);
	assert_int_equal(parse_exact(st, 400, "", 0), BV_UNAVAILABLE);
}

static void
test_4xx_truncated(void **state)
{
	struct err_state *st = *state;

	assert_int_equal(
	    parse(st, 400, "{\"success\":false,\"error\":{\"code\":\"BAXVER"),
	    BV_UNAVAILABLE);
	assert_int_equal(
	    parse(st, 400, "{\"error\":{\"code\":\"BAXVERIFY_OTP_INVALID\""),
	    BV_UNAVAILABLE);
}

static void
test_4xx_array(void **state)
{
	struct err_state *st = *state;

	assert_int_equal(
	    parse(st, 400,
		  "[{\"error\":{\"code\":\"BAXVERIFY_OTP_INVALID\"}}]"),
	    BV_UNAVAILABLE);
	assert_int_equal(parse(st, 400, "[]"), BV_UNAVAILABLE);
}

static void
test_4xx_other_json(void **state)
{
	struct err_state *st = *state;

	assert_int_equal(parse(st, 400, "null"), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 400, "\"BAXVERIFY_OTP_INVALID\""),
			 BV_UNAVAILABLE);
	assert_int_equal(parse(st, 400, "42"), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 400, "{}"), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 400, "{\"error\":null}"), BV_UNAVAILABLE);
	assert_int_equal(
	    parse(st, 400, "{\"error\":\"BAXVERIFY_OTP_INVALID\"}"),
	    BV_UNAVAILABLE);
	assert_int_equal(parse(st, 400, "{\"error\":{}}"), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 400, "{\"error\":{\"code\":42}}"),
			 BV_UNAVAILABLE);
	assert_int_equal(parse(st, 400, "{\"error\":{\"code\":\"\"}}"),
			 BV_UNAVAILABLE);
	/* The code one level too high is not the envelope. */
	assert_int_equal(parse(st, 400, "{\"code\":\"BAXVERIFY_OTP_INVALID\"}"),
			 BV_UNAVAILABLE);
	/* Keys are case-sensitive. */
	assert_int_equal(
	    parse(st, 400, "{\"Error\":{\"Code\":\"BAXVERIFY_OTP_INVALID\"}}"),
	    BV_UNAVAILABLE);
}

static void
test_3xx(void **state)
{
	struct err_state *st = *state;
	static const char body[] =
	    "{\"error\":{\"code\":\"BAXVERIFY_OTP_INVALID\"}}";

	assert_int_equal(parse(st, 302, body), BV_UNAVAILABLE);
	assert_int_equal(st->out.http_status, 302);
	assert_true(strlen(st->out.detail) > 0);
	assert_string_equal(st->out.code, "");
	assert_int_equal(parse(st, 301, ""), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 307, body), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 308, body), BV_UNAVAILABLE);
}

static void
test_not_an_error_status(void **state)
{
	struct err_state *st = *state;

	/* Called with a success or odd status, it never says success. */
	assert_int_equal(parse(st, 200, "{\"verified\":true}"), BV_UNAVAILABLE);
	assert_int_equal(parse(st, 0, ""), BV_UNAVAILABLE);
	assert_int_equal(
	    parse(st, 600, "{\"error\":{\"code\":\"BAXVERIFY_OTP_INVALID\"}}"),
	    BV_UNAVAILABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_code_count),
	    T(test_code_user_side),
	    T(test_code_all_documented),
	    T(test_code_unknown),
	    T(test_envelope_full),
	    T(test_envelope_each_documented),
	    T(test_envelope_rate_limit_429),
	    T(test_envelope_code_only),
	    T(test_envelope_unknown_code),
	    T(test_envelope_code_sanitized),
	    T(test_envelope_long_fields),
	    T(test_envelope_not_nul_terminated),
	    T(test_envelope_len_respected),
	    T(test_help_url_wrong_type),
	    T(test_5xx_with_envelope),
	    T(test_4xx_html),
	    T(test_4xx_empty),
	    T(test_4xx_truncated),
	    T(test_4xx_array),
	    T(test_4xx_other_json),
	    T(test_3xx),
	    T(test_not_an_error_status),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
