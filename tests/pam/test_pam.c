/*
 * test_pam.c - pam_baxverify through the real libpam, under pam_wrapper.
 *
 * Run by run-pam-tests.sh, which starts the loopback mock BaxVerify server
 * (tests/mock/mock_baxverify.py) and writes the PAM service files.  Each
 * case writes its own baxverify.conf, resets the mock, drives one PAM
 * transaction through libpamtest and checks the PAM return code, what the
 * user was shown, what reached syslog (captured by syslog_capture.so) and
 * what the mock was asked.
 *
 * The shared machinery (mock control, config writing, the transaction,
 * the assertions and the secret-hygiene teardown) is in harness.c; see
 * harness.h.  After every case the teardown checks secret hygiene: neither
 * an API key, nor any code typed at the prompt, nor any token the mock
 * issued appears in syslog or in a message to the user, and the full phone
 * number never reaches the user.
 *
 * Services in the pam.d the runner wrote: bv, bv_nullok, bv_safe,
 * bv_debug, bv_session, bv_badarg.
 */

#include "harness.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define P_SEND "/v1/auth/sms/send"
#define P_VERIFY "/v1/auth/sms/verify"
#define P_VALIDATE "/v1/auth/sms/validate-token"

/* ------------------------------------------------------------------ */
/* The happy path.                                                     */

static void
test_success_exports_env(void **state)
{
	char **env = NULL;
	const char *token, *expires;
	time_t now = time(NULL);
	char *end;
	long long exp;
	int rc;

	(void)state;
	rc = run_auth("bv", "alice", ANSWERS(CODE), &env);
	assert_rc(rc, PAM_SUCCESS);

	assert_info("A verification code was sent by SMS to " ALICE_MASKED ".");

	token = env_get(env, "BAXVERIFY_TOKEN");
	assert_non_null(token);
	assert_true(strlen(token) > 10);
	add_token_secret(token);
	assert_string_equal(env_get(env, "BAXVERIFY_PHONE"), ALICE_PHONE);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "baxverify");
	expires = env_get(env, "BAXVERIFY_TOKEN_EXPIRES");
	assert_non_null(expires);
	errno = 0;
	exp = strtoll(expires, &end, 10);
	assert_int_equal(errno, 0);
	assert_true(end != expires && *end == '\0');
	/* The mock issues tokens for 900 s by default. */
	assert_in_range(exp, (long long)now + 900 - 5,
			(long long)now + 900 + 60);
	pamtest_free_env(env);

	assert_requests(P_SEND, 1);
	assert_requests(P_VERIFY, 1);
	assert_requests(P_VALIDATE, 1);
	assert_logged(PRIO(LOG_INFO), "pam_baxverify(bv:auth)", "user=alice",
		      "verified", "by baxverify");
}

static void
test_api_requests(void **state)
{
	cJSON *reqs, *body;
	const cJSON *req, *v;
	const char *expected_paths[] = {P_SEND, P_VERIFY, P_VALIDATE};
	int i = 0;

	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);

	reqs = mock_requests();
	assert_int_equal(cJSON_GetArraySize(reqs), 3);
	cJSON_ArrayForEach(req, reqs)
	{
		const cJSON *h =
		    cJSON_GetObjectItemCaseSensitive(req, "headers");
		const char *ct = json_str(h, "content-type");

		assert_string_equal(json_str(req, "method"), "POST");
		assert_string_equal(json_str(req, "path"), expected_paths[i]);
		assert_string_equal(json_str(h, "authorization"),
				    "Bearer " API_KEY);
		assert_string_equal(json_str(h, "x-project-id"), PROJECT_ID);
		assert_non_null(ct);
		assert_non_null(strstr(ct, "application/json"));
		i++;
	}
	cJSON_Delete(reqs);

	body = mock_request_body(P_SEND, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "phone"), ALICE_PHONE);
	assert_string_equal(json_str(body, "purpose"), "LOGIN");
	cJSON_Delete(body);

	body = mock_request_body(P_VERIFY, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "phone"), ALICE_PHONE);
	assert_string_equal(json_str(body, "code"), CODE);
	cJSON_Delete(body);

	body = mock_request_body(P_VALIDATE, 0);
	assert_non_null(body);
	assert_non_null(json_str(body, "token"));
	v = cJSON_GetObjectItemCaseSensitive(body, "consume");
	assert_true(cJSON_IsBool(v) && cJSON_IsFalse(v));
	cJSON_Delete(body);
}

/*
 * send + verify + validate-token share one TCP connection.  The mock counts
 * only connections that carried API requests, since the last reset.
 */
static void
test_one_connection_per_auth(void **state)
{
	long conns;

	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_requests(NULL, 3);
	conns = mock_stat("connections");
	if (conns != 1) {
		print_error("one authentication used %ld connections\n", conns);
		fail();
	}
}

static void
test_validate_token_off(void **state)
{
	struct conf c = {.validate = "false"};
	char **env = NULL;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_non_null(env_get(env, "BAXVERIFY_TOKEN"));
	add_token_secret(env_get(env, "BAXVERIFY_TOKEN"));
	pamtest_free_env(env);
	assert_requests(P_SEND, 1);
	assert_requests(P_VERIFY, 1);
	assert_requests(P_VALIDATE, 0);
}

static void
test_code_normalised(void **state)
{
	cJSON *body;

	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(" 918-273 "), NULL),
		  PAM_SUCCESS);
	body = mock_request_body(P_VERIFY, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "code"), CODE);
	cJSON_Delete(body);
}

static void
test_debug_success(void **state)
{
	(void)state;
	assert_rc(run_auth("bv_debug", "alice", ANSWERS(CODE), NULL),
		  PAM_SUCCESS);
	/* debug adds DEBUG lines; the teardown checks they leak nothing. */
	assert_logged(PRIO(LOG_DEBUG), "pam_baxverify(bv_debug:auth)");
	assert_logged(PRIO(LOG_INFO), "user=alice", "verified", "by baxverify");
}

/* ------------------------------------------------------------------ */
/* Wrong, malformed, expired and missing codes.                        */

static void
test_wrong_then_right(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_requests(P_SEND, 1);
	assert_requests(P_VERIFY, 2);
}

static void
test_max_tries(void **state)
{
	(void)state;
	assert_rc(
	    run_auth("bv", "alice", ANSWERS(WRONG, WRONG, WRONG, CODE), NULL),
	    PAM_MAXTRIES);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_err("Wrong code. 1 attempt(s) left.");
	assert_err(MSG_TOO_MANY);
	assert_requests(P_VERIFY, 3);
	assert_logged(ANY_PRIO, "user=alice", "service=bv");
}

static void
test_max_tries_configured(void **state)
{
	struct conf c = {.max_tries = 2};

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, WRONG, CODE), NULL),
		  PAM_MAXTRIES);
	assert_err("Wrong code. 1 attempt(s) left.");
	assert_err(MSG_TOO_MANY);
	assert_requests(P_VERIFY, 2);
}

/* The server refuses further tries before max_tries is used up. */
static void
test_server_max_attempts(void **state)
{
	(void)state;
	mock_post("/_mock/config", "{\"max_attempts\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE, CODE), NULL),
		  PAM_MAXTRIES);
	assert_err(MSG_TOO_MANY);
	assert_requests(P_VERIFY, 2);
	assert_logged(ANY_PRIO, "BAXVERIFY_OTP_MAX_ATTEMPTS", "user=alice");
}

static void
test_non_digit_no_api_call(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS("12ab34", CODE), NULL),
		  PAM_SUCCESS);
	assert_err(MSG_DIGITS);
	/* Only the well-formed answer reached the API. */
	assert_requests(P_VERIFY, 1);
}

static void
test_non_digit_counts_as_try(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice",
			   ANSWERS("abc", "12", "123456789", CODE), NULL),
		  PAM_MAXTRIES);
	/* The last bad answer may get "Too many wrong codes." instead. */
	assert_in_range(count_in_bufs(err_buf, MSG_DIGITS), 2, 3);
	assert_err(MSG_TOO_MANY);
	assert_requests(P_VERIFY, 0);
}

static void
test_expired_then_resend(void **state)
{
	(void)state;
	mock_fault("{\"endpoint\": \"verify\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_OTP_EXPIRED\", \"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, "", CODE), NULL),
		  PAM_SUCCESS);
	assert_err(MSG_EXPIRED_AGAIN);
	assert_int_equal(
	    count_in_bufs(info_buf, "A verification code was sent by SMS"), 2);
	assert_requests(P_SEND, 2);
	assert_requests(P_VERIFY, 2);
}

/* Real expiry at the mock (not an injected error). */
static void
test_expired_real(void **state)
{
	(void)state;
	/* Every code is born expired: the resend does not help either. */
	mock_post("/_mock/config", "{\"code_ttl\": 0}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, "", CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_EXPIRED_AGAIN);
	assert_err(MSG_EXPIRED);
	assert_requests(P_SEND, 2);
	assert_requests(P_VERIFY, 2);
}

static void
test_expired_no_sends_left(void **state)
{
	struct conf c = {.max_sends = 1};

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"verify\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_OTP_EXPIRED\", \"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_EXPIRED);
	assert_not_said("Press Enter");
	assert_requests(P_SEND, 1);
}

static void
test_empty_answer_resends(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS("", CODE), NULL),
		  PAM_SUCCESS);
	assert_int_equal(
	    count_in_bufs(info_buf, "A verification code was sent by SMS"), 2);
	assert_requests(P_SEND, 2);
}

static void
test_empty_answers_exhaust_sends(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "alice", ANSWERS("", "", CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_NO_CODE);
	assert_requests(P_SEND, 2);
	assert_requests(P_VERIFY, 0);
}

/* The mock's own per-phone send limit, not an injected error. */
static void
test_rate_limit_real(void **state)
{
	(void)state;
	mock_post("/_mock/config", "{\"send_limit\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_RATE);
	assert_logged(ANY_PRIO, "BAXVERIFY_RATE_LIMIT", "HTTP 429",
		      "user=alice");
}

/* ------------------------------------------------------------------ */
/* The documented error table, each code at the endpoint that returns  */
/* it, plus codes the module has never heard of.                       */

/* details.helpUrl in the mock's error envelopes starts with this. */
#define MOCK_HELP_URL                                                          \
	"https://baxcloud.tech/dashboard/projects/" PROJECT_ID "?tab="

struct api_error_case {
	const char *code;
	const char *endpoint; /* mock fault endpoint */
	int status;	      /* documented HTTP status */
	const char *service;
	int want_rc;
	const char *want_msg; /* error message the user must see */
	int max_sends;	      /* 0: default */
};

static const struct api_error_case api_errors[] = {
    {"BAXVERIFY_FEATURE_DISABLED", "send", 403, "bv", PAM_AUTH_ERR, MSG_ADMIN,
     0},
    {"BAXVERIFY_PLAN_NOT_INCLUDED", "send", 403, "bv", PAM_AUTH_ERR, MSG_ADMIN,
     0},
    {"BAXVERIFY_API_KEY_SCOPE", "send", 403, "bv", PAM_AUTH_ERR, MSG_ADMIN, 0},
    {"BAXVERIFY_SENDER_NOT_CONFIGURED", "send", 400, "bv", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    {"BAXVERIFY_INSUFFICIENT_CREDITS", "send", 400, "bv", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    {"BAXVERIFY_VERIFY_FEE_CREDITS", "verify", 400, "bv", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    {"BAXVERIFY_NO_SUBSCRIPTION", "send", 400, "bv", PAM_AUTH_ERR, MSG_ADMIN,
     0},
    {"BAXVERIFY_RATE_LIMIT", "send", 429, "bv", PAM_AUTH_ERR, MSG_RATE, 0},
    {"BAXVERIFY_RATE_LIMIT", "verify", 429, "bv", PAM_AUTH_ERR, MSG_RATE, 0},
    {"BAXVERIFY_OTP_EXPIRED", "verify", 400, "bv", PAM_AUTH_ERR, MSG_EXPIRED,
     1},
    /* One injected OTP_INVALID, then the right code goes through. */
    {"BAXVERIFY_OTP_INVALID", "verify", 400, "bv", PAM_SUCCESS,
     "Wrong code. 2 attempt(s) left.", 0},
    {"BAXVERIFY_OTP_MAX_ATTEMPTS", "verify", 429, "bv", PAM_MAXTRIES,
     MSG_TOO_MANY, 0},
    {"BAXVERIFY_INVALID_PHONE", "send", 400, "bv", PAM_AUTH_ERR, MSG_BAD_PHONE,
     0},
    {"BAXVERIFY_SMS_SEND_FAILED", "send", 400, "bv", PAM_AUTH_ERR, MSG_ADMIN,
     0},
    {"BAXVERIFY_TOKEN_INVALID", "validate-token", 401, "bv", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    {"BAXVERIFY_TOKEN_CONSUMED", "validate-token", 401, "bv", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    {"BAXVERIFY_PROJECT_INACTIVE", "send", 403, "bv", PAM_AUTH_ERR, MSG_ADMIN,
     0},
    {"BAXVERIFY_PROJECT_HEADER_REQUIRED", "send", 400, "bv", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    {"BAXVERIFY_API_KEY_PROJECT_MISMATCH", "send", 403, "bv", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    /* Unknown codes in a well-formed envelope: denied, never "safe". */
    {"BAXVERIFY_SOMETHING_NEW", "send", 400, "bv", PAM_AUTH_ERR, MSG_ADMIN, 0},
    {"BAXVERIFY_SOMETHING_NEW", "verify", 403, "bv_safe", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    /* Administrator problems are no outage: failmode=safe denies. */
    {"BAXVERIFY_FEATURE_DISABLED", "send", 403, "bv_safe", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
    {"BAXVERIFY_TOKEN_INVALID", "validate-token", 401, "bv_safe", PAM_AUTH_ERR,
     MSG_ADMIN, 0},
};

static void
test_api_error(void **state)
{
	const struct api_error_case *t = *state;
	struct conf c = {.max_sends = t->max_sends};
	char fault[512];
	char http[32];
	char svc[64];

	write_conf(&c);
	snprintf(fault, sizeof(fault),
		 "{\"endpoint\": \"%s\", \"kind\": \"error\", \"code\": \"%s\","
		 " \"status\": %d, \"count\": 1}",
		 t->endpoint, t->code, t->status);
	mock_fault(fault);

	assert_rc(run_auth(t->service, "alice", ANSWERS(CODE, CODE), NULL),
		  t->want_rc);
	assert_err(t->want_msg);

	snprintf(http, sizeof(http), "HTTP %d", t->status);
	snprintf(svc, sizeof(svc), "service=%s", t->service);
	assert_logged(ANY_PRIO, t->code, http, "help=" MOCK_HELP_URL,
		      "user=alice", svc, "rhost=");
	if (t->want_rc != PAM_SUCCESS)
		assert_not_said(MSG_SAFE);
}

/* ------------------------------------------------------------------ */
/* The service is unreachable or answers nonsense.                     */

struct outage_case {
	const char *name;
	const char *fault; /* mock fault JSON, NULL: see flags */
	bool closed_port;  /* api_url points at a port nobody serves */
	bool system_ca;	   /* trust only the system CAs, not ours */
	int timeout;	   /* http.timeout, 0: default */
	bool safe;	   /* run under bv_safe */
};

#define OUTAGE(n, f, safe)                                                     \
	{                                                                      \
		n, f, false, false, 0, safe                                    \
	}

static const struct outage_case outages[] = {
    {"unreachable", NULL, true, false, 0, false},
    {"unreachable", NULL, true, false, 0, true},
    {"untrusted-ca", NULL, false, true, 0, false},
    {"untrusted-ca", NULL, false, true, 0, true},
    {"hang",
     "{\"endpoint\": \"send\", \"kind\": \"hang\", "
     "\"count\": 10}",
     false, false, FAULT_TIMEOUT, false},
    {"hang",
     "{\"endpoint\": \"send\", \"kind\": \"hang\", "
     "\"count\": 10}",
     false, false, FAULT_TIMEOUT, true},
    {"hang-verify",
     "{\"endpoint\": \"verify\", \"kind\": \"hang\", "
     "\"count\": 10}",
     false, false, FAULT_TIMEOUT, false},
    {"trickle",
     "{\"endpoint\": \"verify\", \"kind\": \"trickle\", "
     "\"interval\": 0.5, \"count\": 10}",
     false, false, FAULT_TIMEOUT, false},
    OUTAGE("http500",
	   "{\"endpoint\": \"send\", \"kind\": \"http500\", "
	   "\"count\": 10}",
	   false),
    OUTAGE("http500",
	   "{\"endpoint\": \"send\", \"kind\": \"http500\", "
	   "\"count\": 10}",
	   true),
    OUTAGE("http500-verify",
	   "{\"endpoint\": \"verify\", "
	   "\"kind\": \"http500\", \"count\": 10}",
	   false),
    OUTAGE("http500-verify",
	   "{\"endpoint\": \"verify\", "
	   "\"kind\": \"http500\", \"count\": 10}",
	   true),
    OUTAGE("malformed",
	   "{\"endpoint\": \"send\", "
	   "\"kind\": \"malformed\", \"count\": 10}",
	   false),
    OUTAGE("malformed",
	   "{\"endpoint\": \"send\", "
	   "\"kind\": \"malformed\", \"count\": 10}",
	   true),
    OUTAGE("malformed-verify",
	   "{\"endpoint\": \"verify\", "
	   "\"kind\": \"malformed\", \"count\": 10}",
	   false),
    OUTAGE("wrongshape-verify",
	   "{\"endpoint\": \"verify\", "
	   "\"kind\": \"wrongshape\", "
	   "\"count\": 10}",
	   false),
    OUTAGE("malformed-validate",
	   "{\"endpoint\": \"validate-token\", "
	   "\"kind\": \"malformed\", "
	   "\"count\": 10}",
	   false),
    OUTAGE("empty",
	   "{\"endpoint\": \"verify\", \"kind\": \"empty\", "
	   "\"count\": 10}",
	   false),
    OUTAGE("empty",
	   "{\"endpoint\": \"verify\", \"kind\": \"empty\", "
	   "\"count\": 10}",
	   true),
    OUTAGE("oversized",
	   "{\"endpoint\": \"send\", "
	   "\"kind\": \"oversized\", \"count\": 10}",
	   false),
    OUTAGE("oversized",
	   "{\"endpoint\": \"send\", "
	   "\"kind\": \"oversized\", \"count\": 10}",
	   true),
    OUTAGE("oversized-verify",
	   "{\"endpoint\": \"verify\", "
	   "\"kind\": \"oversized\", \"count\": 10}",
	   false),
    OUTAGE("truncated",
	   "{\"endpoint\": \"verify\", "
	   "\"kind\": \"truncated\", \"count\": 10}",
	   false),
    OUTAGE("truncated",
	   "{\"endpoint\": \"verify\", "
	   "\"kind\": \"truncated\", \"count\": 10}",
	   true),
    OUTAGE("drop",
	   "{\"endpoint\": \"send\", \"kind\": \"drop\", "
	   "\"count\": 10}",
	   false),
    OUTAGE("drop",
	   "{\"endpoint\": \"send\", \"kind\": \"drop\", "
	   "\"count\": 10}",
	   true),
    /* The redirect target is fixed up at run time (the mock's URL). */
    OUTAGE("redirect", NULL, false),
    OUTAGE("redirect", NULL, true),
};

static void
test_outage(void **state)
{
	const struct outage_case *t = *state;
	struct conf c = {.timeout = t->timeout, .connect_timeout = t->timeout};
	const char *service = t->safe ? "bv_safe" : "bv";
	char url[256];
	char fault[1024];
	char svc[64];
	int fd = -1;
	int port;
	double t0, elapsed;
	int rc;

	if (t->closed_port) {
		fd = closed_port(&port);
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1", port);
		c.api_url = url;
	}
	c.system_ca = t->system_ca;
	write_conf(&c);
	if (strcmp(t->name, "redirect") == 0) {
		snprintf(fault, sizeof(fault),
			 "{\"endpoint\": \"send\", \"kind\": \"redirect\", "
			 "\"location\": \"%s/v1/auth/sms/send\", "
			 "\"count\": 10}",
			 mock_url);
		mock_fault(fault);
	} else if (t->fault != NULL) {
		mock_fault(t->fault);
	}

	t0 = now_s();
	rc = run_auth(service, "alice", ANSWERS(CODE, CODE), NULL);
	elapsed = now_s() - t0;
	if (fd >= 0)
		close(fd);

	snprintf(svc, sizeof(svc), "service=%s", service);
	if (t->safe) {
		assert_rc(rc, PAM_SUCCESS);
		assert_info(MSG_SAFE);
		assert_logged(PRIO(LOG_WARNING), "user=alice", svc);
	} else {
		assert_rc(rc, PAM_AUTHINFO_UNAVAIL);
		assert_err(MSG_UNREACH);
		assert_logged(ANY_PRIO, "user=alice", svc);
	}
	/* One timeout, never a retry (harness.h). */
	if (t->timeout > 0 && elapsed >= ONE_TIMEOUT_S(t->timeout)) {
		print_error("%s took %.2f s with http.timeout = %d\n", t->name,
			    elapsed, t->timeout);
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* Well-formed answers that must not let anyone in, whatever failmode. */

struct forged_case {
	const char *name;
	const char *endpoint;
	const char *body; /* JSON the mock answers with HTTP 200 */
	const char *service;
};

#define VALIDATE_OTHER_PHONE                                                   \
	"{\"valid\": true, \"phone\": \"+19999999999\", "                      \
	"\"projectId\": \"" PROJECT_ID "\", \"purpose\": \"LOGIN\", "          \
	"\"requestId\": \"req_1\", "                                           \
	"\"issuedAt\": \"2026-01-01T10:00:00.000Z\", "                         \
	"\"expiresAt\": \"2036-01-01T10:15:00.000Z\"}"
#define VALIDATE_NOT_VALID                                                     \
	"{\"valid\": false, \"phone\": \"" ALICE_PHONE "\", "                  \
	"\"projectId\": \"" PROJECT_ID "\", \"purpose\": \"LOGIN\"}"
#define VERIFY_NOT_VERIFIED                                                    \
	"{\"verified\": false, \"phone\": \"" ALICE_PHONE "\", "               \
	"\"accessToken\": \"aaa.bbb.ccc\", \"tokenType\": \"Bearer\", "        \
	"\"expiresIn\": 900}"

static const struct forged_case forged[] = {
    {"validate-other-phone", "validate-token", VALIDATE_OTHER_PHONE, "bv"},
    {"validate-other-phone", "validate-token", VALIDATE_OTHER_PHONE, "bv_safe"},
    {"validate-not-valid", "validate-token", VALIDATE_NOT_VALID, "bv"},
    {"validate-not-valid", "validate-token", VALIDATE_NOT_VALID, "bv_safe"},
    {"verify-not-verified", "verify", VERIFY_NOT_VERIFIED, "bv"},
    {"verify-not-verified", "verify", VERIFY_NOT_VERIFIED, "bv_safe"},
};

static void
test_forged_answer(void **state)
{
	const struct forged_case *t = *state;
	char fault[2048];
	int rc;

	snprintf(fault, sizeof(fault),
		 "{\"endpoint\": \"%s\", \"kind\": \"wrongshape\", "
		 "\"count\": 10, \"body\": %s}",
		 t->endpoint, t->body);
	mock_fault(fault);
	rc = run_auth(t->service, "alice", ANSWERS(CODE, CODE), NULL);
	if (rc == PAM_SUCCESS || rc == PAM_IGNORE) {
		print_error("%s on %s: %s\n", t->name, t->service,
			    pam_rc_name(rc));
		dump_user_messages();
		dump_syslog();
		fail();
	}
	assert_not_said(MSG_SAFE);
}

/* ------------------------------------------------------------------ */
/* Who is asked: phones, nullok, groups.                               */

static void
test_no_phone(void **state)
{
	(void)state;
	assert_rc(run_auth("bv", "bob", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_NO_PHONE);
	assert_requests(NULL, 0);
}

static void
test_no_phone_nullok(void **state)
{
	(void)state;
	assert_rc(run_auth("bv_nullok", "bob", ANSWERS(CODE), NULL),
		  PAM_IGNORE);
	assert_requests(NULL, 0);
}

/* nullok must not wave through a typo in the user's own entry. */
static void
test_invalid_phone_entry(void **state)
{
	char where[4200];
	int rc;

	(void)state;
	snprintf(where, sizeof(where), "%s:4", phones_path);
	rc = run_auth("bv_nullok", "carol", ANSWERS(CODE), NULL);
	if (rc == PAM_SUCCESS || rc == PAM_IGNORE) {
		print_error("carol (invalid entry) got %s under nullok\n",
			    pam_rc_name(rc));
		fail();
	}
	assert_logged(PRIO(LOG_ERR), where, "invalid phone number");
	rc = run_auth("bv", "carol", ANSWERS(CODE), NULL);
	assert_true(rc != PAM_SUCCESS && rc != PAM_IGNORE);
	assert_requests(NULL, 0);
}

struct group_case {
	const char *groups;
	bool asked;
};

static const struct group_case group_cases[] = {
    {"[\"root\"]", true},
    {"[\"ro*\"]", true},
    {"[\"!root\"]", false},
    {"[\"nosuchgroup-xyz\"]", false},
    {"[\"!nosuchgroup-*\"]", true},
    {"[\"root\", \"!root\"]", false},
    {"[\"nosuchgroup-xyz\", \"root\"]", true},
};

static void
test_groups(void **state)
{
	const struct group_case *t = *state;
	struct conf c = {.groups = t->groups};
	char **env = NULL;
	int rc;

	write_conf(&c);
	rc = run_auth("bv", "root", ANSWERS(CODE), &env);
	if (t->asked) {
		assert_rc(rc, PAM_SUCCESS);
		assert_string_equal(env_get(env, "BAXVERIFY_PHONE"),
				    ROOT_PHONE);
		add_token_secret(env_get(env, "BAXVERIFY_TOKEN"));
		assert_requests(P_SEND, 1);
	} else {
		assert_rc(rc, PAM_IGNORE);
		assert_requests(NULL, 0);
	}
	pamtest_free_env(env);
}

/*
 * The group filter comes before the phone lookup: a real user outside the
 * groups is ignored even without a phone entry; inside them, he is told
 * he has no phone.  ("daemon" exists on every Debian system.)
 */
static void
test_groups_before_phone(void **state)
{
	struct conf c = {.groups = "[\"nosuchgroup-xyz\"]"};

	(void)state;
	if (getpwnam("daemon") == NULL)
		skip();
	write_conf(&c);
	assert_rc(run_auth("bv", "daemon", ANSWERS(CODE), NULL), PAM_IGNORE);
	c.groups = "[\"daemon\"]";
	write_conf(&c);
	assert_rc(run_auth("bv", "daemon", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_NO_PHONE);
	assert_requests(NULL, 0);
}

/*
 * A user the system does not know (alice is only in the phones file) while
 * a groups filter is set: he is in none of the groups, so PAM_IGNORE or an
 * error are both defensible, but never a success.
 */
static void
test_groups_unknown_user(void **state)
{
	struct conf c = {.groups = "[\"nosuchgroup-xyz\"]"};
	int rc;

	(void)state;
	write_conf(&c);
	rc = run_auth("bv", "alice", ANSWERS(CODE), NULL);
	if (rc == PAM_SUCCESS) {
		print_error("unknown user \"alice\" with a groups filter: "
			    "PAM_SUCCESS\n");
		dump_syslog();
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* Configuration errors: always PAM_SERVICE_ERR, never a request.      */

static void
expect_config_error(const char *service)
{
	assert_rc(run_auth(service, "alice", ANSWERS(CODE), NULL),
		  PAM_SERVICE_ERR);
	assert_err(MSG_MISCONF);
	assert_not_said(MSG_SAFE);
	assert_requests(NULL, 0);
}

static void
test_conf_world_readable(void **state)
{
	struct conf c = {.mode = 0644};

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "group/world");
}

static void
test_conf_group_readable_safe(void **state)
{
	struct conf c = {.mode = 0640, .failmode = "safe"};

	(void)state;
	write_conf(&c);
	expect_config_error("bv_safe");
	assert_logged(PRIO(LOG_ERR), conf_path, "group/world");
}

static void
test_key_file(void **state)
{
	struct conf c = {.key = KEY_IN_FILE};
	cJSON *reqs;
	const cJSON *req;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	reqs = mock_requests();
	cJSON_ArrayForEach(req, reqs)
	{
		const cJSON *h =
		    cJSON_GetObjectItemCaseSensitive(req, "headers");

		assert_string_equal(json_str(h, "authorization"),
				    "Bearer " API_KEY);
	}
	cJSON_Delete(reqs);
}

static void
test_key_file_world_readable(void **state)
{
	struct conf c = {.key = KEY_IN_FILE, .key_mode = 0644};

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), key_path, "group/world");
}

/* Without api_key the conf file itself may be world-readable. */
static void
test_conf_without_key_may_be_readable(void **state)
{
	struct conf c = {.key = KEY_IN_FILE, .mode = 0644};

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
}

static void
test_conf_unknown_key(void **state)
{
	struct conf c = {.extra = "frobnication_level = 3;"};
	char where[4200];
	unsigned line;

	(void)state;
	line = write_conf(&c);
	snprintf(where, sizeof(where), "%s:%u", conf_path, line);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), where, "frobnication_level");
}

static void
test_conf_unknown_key_safe(void **state)
{
	struct conf c = {.failmode = "safe",
			 .extra = "frobnication_level = 3;"};

	(void)state;
	write_conf(&c);
	expect_config_error("bv_safe");
	assert_logged(PRIO(LOG_ERR), conf_path, "frobnication_level");
}

static void
test_conf_wrong_type(void **state)
{
	struct conf c = {.extra = "max_tries = \"three\";"};

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "max_tries");
}

static void
test_conf_out_of_range(void **state)
{
	struct conf c = {.extra = "max_sends = 0;"};

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "max_sends");
}

static void
test_conf_http_url(void **state)
{
	struct conf c = {.api_url = "http://127.0.0.1:1/v1"};

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "api_url");
}

static void
test_conf_http_url_safe(void **state)
{
	struct conf c = {.api_url = "http://127.0.0.1:1/v1",
			 .failmode = "safe"};

	(void)state;
	write_conf(&c);
	expect_config_error("bv_safe");
}

static void
test_conf_relative_phones(void **state)
{
	struct conf c = {.phones = "relative.phones"};

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path, "phones.file");
}

static void
test_conf_missing(void **state)
{
	(void)state;
	assert_int_equal(unlink(conf_path), 0);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path);
}

static void
test_conf_missing_safe(void **state)
{
	(void)state;
	assert_int_equal(unlink(conf_path), 0);
	expect_config_error("bv_safe");
}

static void
test_conf_syntax_error(void **state)
{
	struct conf c = {.extra = "max_tries = ;"};

	(void)state;
	write_conf(&c);
	expect_config_error("bv");
	assert_logged(PRIO(LOG_ERR), conf_path);
}

static void
test_bad_module_argument(void **state)
{
	(void)state;
	expect_config_error("bv_badarg");
	assert_logged(PRIO(LOG_ERR), "frobnicate");
}

/* ------------------------------------------------------------------ */
/* Session: consume_token spends the proof token.                      */

static void
test_session_consumes_token(void **state)
{
	struct pam_run r = {
	    .service = "bv_session",
	    .user = "alice",
	    .codes = ANSWERS(CODE),
	    .session = true,
	};
	const char *token;
	char body[8192];
	struct http_reply hr;
	cJSON *j, *consume;

	(void)state;
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_rc(r.session_rc, PAM_SUCCESS);

	token = env_get(r.env, "BAXVERIFY_TOKEN");
	assert_non_null(token);
	add_token_secret(token);

	/* auth validated with consume:false, the session with consume:true */
	assert_requests(P_VALIDATE, 2);
	j = mock_request_body(P_VALIDATE, 1);
	assert_non_null(j);
	consume = cJSON_GetObjectItemCaseSensitive(j, "consume");
	assert_true(cJSON_IsTrue(consume));
	assert_string_equal(json_str(j, "token"), token);
	cJSON_Delete(j);

	/* The token is spent: a further validation is refused. */
	snprintf(body, sizeof(body), "{\"token\": \"%s\", \"consume\": false}",
		 token);
	pamtest_free_env(r.env);
	hr = mock_http(P_VALIDATE, body, true);
	assert_int_equal(hr.status, 401);
	assert_non_null(strstr(hr.body, "BAXVERIFY_TOKEN_CONSUMED"));
	free(hr.body);
}

/* ------------------------------------------------------------------ */

/*
 * The table-driven cases are expanded at run time, one cmocka test per
 * row, each named after its row so a failure names the code or fault.
 */

static const struct CMUnitTest plain_tests[] = {
    T(test_success_exports_env),
    T(test_api_requests),
    T(test_one_connection_per_auth),
    T(test_validate_token_off),
    T(test_code_normalised),
    T(test_debug_success),
    T(test_wrong_then_right),
    T(test_max_tries),
    T(test_max_tries_configured),
    T(test_server_max_attempts),
    T(test_non_digit_no_api_call),
    T(test_non_digit_counts_as_try),
    T(test_expired_then_resend),
    T(test_expired_real),
    T(test_expired_no_sends_left),
    T(test_empty_answer_resends),
    T(test_empty_answers_exhaust_sends),
    T(test_rate_limit_real),
    T(test_no_phone),
    T(test_no_phone_nullok),
    T(test_invalid_phone_entry),
    T(test_groups_before_phone),
    T(test_groups_unknown_user),
    T(test_conf_world_readable),
    T(test_conf_group_readable_safe),
    T(test_key_file),
    T(test_key_file_world_readable),
    T(test_conf_without_key_may_be_readable),
    T(test_conf_unknown_key),
    T(test_conf_unknown_key_safe),
    T(test_conf_wrong_type),
    T(test_conf_out_of_range),
    T(test_conf_http_url),
    T(test_conf_http_url_safe),
    T(test_conf_relative_phones),
    T(test_conf_missing),
    T(test_conf_missing_safe),
    T(test_conf_syntax_error),
    T(test_bad_module_argument),
    T(test_session_consumes_token),
};

int
main(int argc, char **argv)
{
	size_t max = NELEM(plain_tests) + NELEM(api_errors) + NELEM(outages) +
		     NELEM(forged) + NELEM(group_cases);
	struct CMUnitTest *all = calloc(max, sizeof(*all));
	char **names = calloc(max, sizeof(*names));
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t n = 0;
	int rc;

	if (all == NULL || names == NULL)
		return 1;
	for (size_t i = 0; i < NELEM(plain_tests); i++)
		all[n++] = plain_tests[i];
	for (size_t i = 0; i < NELEM(api_errors); i++) {
		names[n] = case_name("test_api_error", api_errors[i].code,
				     api_errors[i].endpoint);
		if (strcmp(api_errors[i].service, "bv") != 0) {
			free(names[n]);
			names[n] =
			    case_name("test_api_error", api_errors[i].code,
				      api_errors[i].service);
		}
		add_case(all, &n, names[n], test_api_error, &api_errors[i]);
	}
	for (size_t i = 0; i < NELEM(outages); i++) {
		names[n] = case_name("test_outage", outages[i].name,
				     outages[i].safe ? "bv_safe" : "bv");
		add_case(all, &n, names[n], test_outage, &outages[i]);
	}
	for (size_t i = 0; i < NELEM(forged); i++) {
		names[n] = case_name("test_forged_answer", forged[i].name,
				     forged[i].service);
		add_case(all, &n, names[n], test_forged_answer, &forged[i]);
	}
	for (size_t i = 0; i < NELEM(group_cases); i++) {
		names[n] =
		    case_name("test_groups", group_cases[i].groups,
			      group_cases[i].asked ? "asked" : "ignored");
		add_case(all, &n, names[n], test_groups, &group_cases[i]);
	}

	/* An optional argument runs only the cases whose name contains it. */
	rc = harness_run("pam_baxverify (pam_wrapper)", all, n, only);
	for (size_t i = 0; i < max; i++)
		free(names[i]);
	free(names);
	free(all);
	return rc;
}
