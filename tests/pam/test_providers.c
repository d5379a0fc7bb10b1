/*
 * test_providers.c - pam_baxverify's Tryvox and Mudbase providers, the
 * failover between providers and the channel menu, through the real
 * libpam under pam_wrapper.
 *
 * Run by run-pam-tests.sh (BV_TEST_PROVIDERS) against the loopback mock,
 * which serves BaxVerify, Tryvox (/v1/verify/...) and Mudbase
 * (/api/auth/otp/...) on one HTTPS port.  Each case writes its own
 * baxverify.conf (provider list and groups through struct conf), resets
 * the mock, drives one PAM transaction through libpamtest (codes at the
 * echo-off prompt, menu choices at the echo-on prompt) and checks the PAM
 * return code, what the user was shown, what reached syslog and what the
 * mock was asked.  The teardown (harness.c) is the secret-hygiene check:
 * no API key, code, token, Tryvox verification_id or JWT in syslog or in
 * what the user saw, no key or Mudbase refreshToken in the PAM
 * environment, no key sent to the wrong API and never an Authorization
 * header to Mudbase.
 *
 * Services: bv, bv_safe (failmode=safe), bv_debug, bv_session_ignore
 * (auth + "session consume_token", PAM_IGNORE visible).
 */

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* BaxVerify */
#define P_SEND "/v1/auth/sms/send"
#define P_VERIFY "/v1/auth/sms/verify"
#define P_VALIDATE "/v1/auth/sms/validate-token"
#define P_BAX "/v1/auth/sms/"
/* Tryvox */
#define P_TV "/v1/verify"
#define P_TV_START "/v1/verify/start"
#define P_TV_CHECK "/v1/verify/check"
#define P_TV_STATUS "/v1/verify/ver_" /* GET /v1/verify/{id}, prefix */
/* Mudbase */
#define P_MB "/api/"
#define P_MB_SEND "/api/auth/otp/send"
#define P_MB_VERIFY "/api/auth/otp/verify"

/* struct conf initialisers: one provider with its group. */
#define TRYVOX_ONLY .provider = "\"tryvox\"", .tryvox = ""
#define MUDBASE_ONLY .provider = "\"mudbase\"", .mudbase = ""
#define BAX_THEN_TRYVOX .provider = "[\"baxverify\", \"tryvox\"]", .tryvox = ""

#define MENU_HEAD "Where should the verification code go?"
#define MENU_BAD "Enter a number from 1 to 2."

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

/* A message to the user, informational or error. */
#define assert_shown(needle) assert_shown_at((needle), __LINE__)

static void
assert_shown_at(const char *needle, int line)
{
	if (!in_bufs(info_buf, needle) && !in_bufs(err_buf, needle)) {
		print_error("line %d: the user was not shown \"%s\"\n", line,
			    needle);
		dump_user_messages();
		dump_syslog();
		fail();
	}
}

/* Back to a fresh mock between transactions of one case. */
static void
reset_mock(void)
{
	mock_post("/_mock/reset", "{}");
	mock_config("{\"force_code\": \"" CODE "\"}");
}

/* The nth (0-based) outbox message from api, duplicated, or NULL. */
static cJSON *
outbox_msg(const char *api, int nth)
{
	cJSON *box = mock_outbox();
	const cJSON *m;
	cJSON *found = NULL;

	cJSON_ArrayForEach(m, box)
	{
		const char *a = json_str(m, "api");

		if (a == NULL || strcmp(a, api) != 0 || nth-- > 0)
			continue;
		found = cJSON_Duplicate(m, true);
		break;
	}
	cJSON_Delete(box);
	return found;
}

/* The verification_id of the nth Tryvox delivery, allocated. */
static char *
tryvox_vid(int nth)
{
	cJSON *m = outbox_msg("tryvox", nth);
	char *vid;

	assert_non_null(m);
	assert_non_null(json_str(m, "verification_id"));
	vid = strdup(json_str(m, "verification_id"));
	assert_non_null(vid);
	cJSON_Delete(m);
	return vid;
}

static void
assert_outbox(const char *api, int nth, const char *to, const char *channel)
{
	cJSON *m = outbox_msg(api, nth);

	if (m == NULL) {
		print_error("no outbox message %d from %s\n", nth, api);
		fail();
	}
	assert_string_equal(json_str(m, "to"), to);
	assert_string_equal(json_str(m, "channel"), channel);
	cJSON_Delete(m);
}

/* Every recorded request to prefix: the check, one header each. */
static void
assert_all_headers(const char *prefix, const char *header, const char *want)
{
	cJSON *reqs = mock_requests();
	const cJSON *req;
	int n = 0;

	cJSON_ArrayForEach(req, reqs)
	{
		const char *p = json_str(req, "path");
		const cJSON *h =
		    cJSON_GetObjectItemCaseSensitive(req, "headers");
		const char *v;

		if (p == NULL || strncmp(p, prefix, strlen(prefix)) != 0)
			continue;
		n++;
		v = json_str(h, header);
		if (want == NULL && v != NULL) {
			print_error("%s %s carried %s: %s\n",
				    json_str(req, "method"), p, header, v);
			fail();
		}
		if (want != NULL && (v == NULL || strcmp(v, want) != 0)) {
			print_error("%s %s: %s is \"%s\", expected \"%s\"\n",
				    json_str(req, "method"), p, header,
				    v != NULL ? v : "(none)", want);
			fail();
		}
	}
	cJSON_Delete(reqs);
	assert_true(n > 0);
}

/* BAXVERIFY_TOKEN_EXPIRES is about now + ttl. */
static void
assert_expires(char **env, long ttl, time_t t0)
{
	const char *v = env_get(env, "BAXVERIFY_TOKEN_EXPIRES");
	char *end;
	long long exp;

	assert_non_null(v);
	exp = strtoll(v, &end, 10);
	assert_true(end != v && *end == '\0');
	assert_in_range(exp, (long long)t0 + ttl - 5, (long long)t0 + ttl + 60);
}

static int
json_int(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	assert_true(cJSON_IsNumber(v));
	return v->valueint;
}

/* ------------------------------------------------------------------ */
/* Tryvox: the happy path and what goes over the wire.                 */

static void
test_tryvox_success(void **state)
{
	struct conf c = {TRYVOX_ONLY};
	time_t t0 = time(NULL);
	char **env = NULL;
	char *vid;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_info("A verification code was sent by SMS to " ALICE_MASKED ".");
	vid = tryvox_vid(0);
	assert_string_equal(env_get(env, "BAXVERIFY_TOKEN"), vid);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "tryvox");
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "sms");
	assert_string_equal(env_get(env, "BAXVERIFY_PHONE"), ALICE_PHONE);
	assert_null(env_get(env, "BAXVERIFY_EMAIL"));
	/* Tryvox documents 10 minutes. */
	assert_expires(env, 600, t0);
	pamtest_free_env(env);
	free(vid);

	assert_requests(P_TV_START, 1);
	assert_requests(P_TV_CHECK, 1);
	assert_requests_prefix(P_TV_STATUS, 0);
	assert_requests_prefix(P_BAX, 0);
	assert_requests_prefix(P_MB, 0);
	assert_outbox("tryvox", 0, ALICE_PHONE, "sms");
	assert_logged(PRIO(LOG_INFO), "pam_baxverify(bv:auth)", "user=alice",
		      "verified " ALICE_MASKED " by tryvox (SMS)");
}

/* Bearer key and X-Tenant-ID on start, check and status; the bodies. */
static void
test_tryvox_requests(void **state)
{
	struct conf c = {.provider = "\"tryvox\"",
			 .tryvox = "  app_name = \"LoginGate\";\n"
				   "  code_length = 8;"};
	cJSON *body;
	char *vid;

	(void)state;
	write_conf(&c);
	/* The wrong code makes the module read the status too. */
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_requests(P_TV_START, 1);
	assert_requests(P_TV_CHECK, 2);
	assert_requests_prefix(P_TV_STATUS, 1);
	assert_all_headers(P_TV, "authorization", "Bearer " TRYVOX_KEY);
	assert_all_headers(P_TV, "x-tenant-id", TENANT_ID);
	assert_all_headers(P_TV_START, "content-type", "application/json");
	assert_all_headers(P_TV_CHECK, "content-type", "application/json");
	/* BaxVerify's project header has no business here. */
	assert_all_headers(P_TV, "x-project-id", NULL);

	vid = tryvox_vid(0);
	body = mock_request_body(P_TV_START, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "to"), ALICE_PHONE);
	assert_string_equal(json_str(body, "channel"), "sms");
	assert_string_equal(json_str(body, "app_name"), "LoginGate");
	assert_int_equal(json_int(body, "code_length"), 8);
	cJSON_Delete(body);
	for (int i = 0; i < 2; i++) {
		body = mock_request_body(P_TV_CHECK, i);
		assert_non_null(body);
		assert_string_equal(json_str(body, "verification_id"), vid);
		assert_string_equal(json_str(body, "code"),
				    i == 0 ? WRONG : CODE);
		cJSON_Delete(body);
	}
	free(vid);
}

/* validate_token = true: the status must say approved for us. */
static void
test_tryvox_validate_token(void **state)
{
	struct conf c = {.provider = "\"tryvox\"",
			 .tryvox = "  validate_token = true;"};
	char path[256];
	char *vid;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	vid = tryvox_vid(0);
	snprintf(path, sizeof(path), "/v1/verify/%s", vid);
	assert_requests(path, 1);
	free(vid);
}

static void
test_tryvox_debug_hygiene(void **state)
{
	struct conf c = {.provider = "\"tryvox\"",
			 .tryvox = "  validate_token = true;"};

	(void)state;
	write_conf(&c);
	/* debug logs more; the teardown checks none of it is a secret. */
	assert_rc(run_auth("bv_debug", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_logged(PRIO(LOG_DEBUG), "pam_baxverify(bv_debug:auth)");
}

/* ------------------------------------------------------------------ */
/* Tryvox: wrong codes and the attempts the server still allows.       */

static void
test_tryvox_wrong_then_right(void **state)
{
	struct conf c = {TRYVOX_ONLY};

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_requests(P_TV_CHECK, 2);
	/* After the wrong code the module asked for the status. */
	assert_requests_prefix(P_TV_STATUS, 1);
	assert_logged(ANY_PRIO,
		      "verify via tryvox refused: "
		      "VERIFICATION_FAILED (HTTP 422)",
		      "user=alice");
}

/*
 * max_tries = 5 locally, but the server allows 3: the count shown is the
 * server's (from GET status), and the third wrong code ends it.
 */
static void
test_tryvox_attempts_follow_server(void **state)
{
	struct conf c = {TRYVOX_ONLY, .max_tries = 5};

	(void)state;
	write_conf(&c);
	mock_config("{\"tryvox_max_attempts\": 3}");
	assert_rc(
	    run_auth("bv", "alice", ANSWERS(WRONG, WRONG, WRONG, CODE), NULL),
	    PAM_MAXTRIES);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_err("Wrong code. 1 attempt(s) left.");
	assert_not_said("4 attempt(s) left");
	assert_not_said("3 attempt(s) left");
	assert_err(MSG_TOO_MANY);
	assert_requests(P_TV_CHECK, 3);
	assert_requests_prefix(P_TV_STATUS, 3);
	assert_logged(ANY_PRIO, "denied: too many wrong codes", "user=alice");
}

/* The documented 5 attempts, with either reply to the fifth wrong code. */
struct fifth_case {
	const char *fifth_reply;  /* mock tryvox_fifth_reply */
	const char *after_failed; /* mock tryvox_after_failed */
};

static const struct fifth_case fifth_cases[] = {
    {"failed", "not_found"},
    {"max_attempts", "not_found"},
    {"failed", "max_attempts"},
};

static void
test_tryvox_max_attempts(void **state)
{
	const struct fifth_case *t = *state;
	struct conf c = {TRYVOX_ONLY, .max_tries = 10};
	char cfg[256];

	write_conf(&c);
	snprintf(cfg, sizeof(cfg),
		 "{\"tryvox_fifth_reply\": \"%s\", "
		 "\"tryvox_after_failed\": \"%s\"}",
		 t->fifth_reply, t->after_failed);
	mock_config(cfg);
	assert_rc(
	    run_auth("bv", "alice",
		     ANSWERS(WRONG, WRONG, WRONG, WRONG, WRONG, CODE, CODE),
		     NULL),
	    PAM_MAXTRIES);
	assert_err("Wrong code. 4 attempt(s) left.");
	assert_err("Wrong code. 1 attempt(s) left.");
	assert_err(MSG_TOO_MANY);
	assert_not_said("Wrong code. 0 attempt(s) left.");
	/* No check after the verification is dead. */
	assert_requests(P_TV_CHECK, 5);
	if (strcmp(t->fifth_reply, "max_attempts") == 0)
		assert_logged(ANY_PRIO, "MAX_ATTEMPTS_EXCEEDED (HTTP 429)");
}

/* The status request fails: the wrong code stands, counted locally. */
static void
test_tryvox_status_down_after_wrong(void **state)
{
	struct conf c = {TRYVOX_ONLY};

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"tryvox-status\", \"kind\": \"http500\", "
		   "\"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_not_said(MSG_UNREACH);
}

/*
 * limits.deny counts wrong codes, whoever checks them.  With Tryvox the
 * wrong code that uses up the server's attempts comes back as "failed"
 * (MAX_ATTEMPTS) rather than a plain wrong code: it must count all the
 * same, as the BaxVerify one does, or the lockout lags behind.
 */
static void
test_tryvox_last_wrong_code_counts_for_lockout(void **state)
{
	struct conf c = {TRYVOX_ONLY, .max_tries = 5, .limits = "deny = 2;"};

	(void)state;
	write_conf(&c);
	mock_config("{\"tryvox_max_attempts\": 2}");
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, WRONG, CODE), NULL),
		  PAM_MAXTRIES);
	assert_err("Wrong code. 1 attempt(s) left.");
	/* Two wrong codes with deny = 2: the next try is refused at once. */
	reset_mock();
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err("Too many failed attempts.");
	assert_requests(NULL, 0);
}

/* The same with BaxVerify, for comparison: its last wrong code counts. */
static void
test_baxverify_last_wrong_code_counts_for_lockout(void **state)
{
	struct conf c = {.max_tries = 5, .limits = "deny = 2;"};

	(void)state;
	write_conf(&c);
	mock_config("{\"max_attempts\": 2}");
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, WRONG, CODE), NULL),
		  PAM_AUTH_ERR);
	reset_mock();
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err("Too many failed attempts.");
	assert_requests(NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Tryvox: expiry.                                                     */

/* Check answers NOT_FOUND once (expired): Enter sends a new code that
   is then checked under its own verification_id. */
static void
test_tryvox_expired_then_resend(void **state)
{
	struct conf c = {TRYVOX_ONLY};
	char **env = NULL;
	char *vid0, *vid1;
	cJSON *body;

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"tryvox-check\", \"kind\": \"error\", "
		   "\"code\": \"NOT_FOUND\", \"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, "", CODE), &env),
		  PAM_SUCCESS);
	assert_err(MSG_EXPIRED_AGAIN);
	assert_int_equal(
	    count_in_bufs(info_buf, "A verification code was sent by SMS"), 2);
	assert_requests(P_TV_START, 2);
	assert_requests(P_TV_CHECK, 2);
	vid0 = tryvox_vid(0);
	vid1 = tryvox_vid(1);
	assert_string_not_equal(vid0, vid1);
	body = mock_request_body(P_TV_CHECK, 1);
	assert_string_equal(json_str(body, "verification_id"), vid1);
	cJSON_Delete(body);
	assert_string_equal(env_get(env, "BAXVERIFY_TOKEN"), vid1);
	assert_logged(ANY_PRIO, "verify via tryvox refused: NOT_FOUND "
				"(HTTP 404)");
	pamtest_free_env(env);
	free(vid0);
	free(vid1);
}

/*
 * The answers of an expiry-then-resend login: the first code, which the
 * mock's record lets run out just before it is typed (/_mock/expire: the
 * record's own expiry, not an injected error, and no clock to wait for);
 * Enter for a new one; that one.
 */
static const char *
expire_then_resend(int n, void *arg)
{
	char json[128];

	(void)arg;
	if (n == 0) {
		snprintf(json, sizeof(json), "{\"to\": \"%s\"}", ALICE_PHONE);
		mock_post("/_mock/expire", json);
		return CODE;
	}
	return n == 1 ? "" : CODE;
}

/* Real expiry at the mock: the code ran out in its record before the
   check; the resent code works. */
static void
test_tryvox_ttl_expiry_then_resend(void **state)
{
	struct conf c = {TRYVOX_ONLY};
	struct pam_run r = {
	    .service = "bv", .user = "alice", .answer = expire_then_resend};

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_int_equal(r.prompts, 3);
	assert_err(MSG_EXPIRED_AGAIN);
	assert_requests(P_TV_START, 2);
	assert_requests(P_TV_CHECK, 2);
	pamtest_free_env(r.env);
	free(r.shown);
}

/* Every code is born expired: the resend does not help either. */
static void
test_tryvox_expired_real(void **state)
{
	struct conf c = {TRYVOX_ONLY};

	(void)state;
	write_conf(&c);
	mock_config("{\"tryvox_ttl\": 0}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, "", CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_EXPIRED_AGAIN);
	assert_err(MSG_EXPIRED);
	assert_requests(P_TV_START, 2);
	assert_requests(P_TV_CHECK, 2);
}

/* A wrong code reported while the status already says "expired". */
static void
test_tryvox_wrong_but_expired(void **state)
{
	struct conf c = {TRYVOX_ONLY, .max_sends = 1};

	(void)state;
	write_conf(&c);
	mock_config("{\"tryvox_ttl\": 0}");
	mock_fault("{\"endpoint\": \"tryvox-check\", \"kind\": \"error\", "
		   "\"code\": \"VERIFICATION_FAILED\", \"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_EXPIRED);
	assert_not_said("Wrong code.");
	assert_requests_prefix(P_TV_STATUS, 1);
}

/* ------------------------------------------------------------------ */
/* Tryvox: every documented error code at the endpoint that returns it. */

struct tv_error_case {
	const char *code;
	const char *endpoint; /* tryvox-start or tryvox-check */
	int status;	      /* the HTTP status the log must name */
	const char *service;
	int want_rc;
	const char *want_msg; /* shown to the user (info or error) */
	const char *config;   /* mock /_mock/config JSON, or NULL */
	bool real;	      /* no fault: the mock's own answer to WRONG */
	int max_sends;	      /* 0: default */
};

static const struct tv_error_case tv_errors[] = {
    /* The two documented statuses of a wrong code; then it succeeds. */
    {"VERIFICATION_FAILED", "tryvox-check", 400, "bv", PAM_SUCCESS,
     "Wrong code. 2 attempt(s) left.", "{\"tryvox_failed_status\": 400}", true,
     0},
    {"VERIFICATION_FAILED", "tryvox-check", 422, "bv", PAM_SUCCESS,
     "Wrong code. 2 attempt(s) left.", "{\"tryvox_failed_status\": 422}", true,
     0},
    {"VERIFICATION_FAILED", "tryvox-check", 400, "bv", PAM_SUCCESS,
     "Wrong code. 2 attempt(s) left.", "{\"tryvox_failed_status\": 400}", false,
     0},
    {"MAX_ATTEMPTS_EXCEEDED", "tryvox-check", 429, "bv", PAM_MAXTRIES,
     MSG_TOO_MANY, NULL, false, 0},
    {"NOT_FOUND", "tryvox-check", 404, "bv", PAM_AUTH_ERR, MSG_EXPIRED, NULL,
     false, 1},
    {"VALIDATION_FAILED", "tryvox-start", 400, "bv", PAM_AUTH_ERR,
     MSG_BAD_PHONE, NULL, false, 0},
    {"VALIDATION_FAILED", "tryvox-check", 400, "bv", PAM_AUTH_ERR, MSG_ADMIN,
     NULL, false, 0},
    {"UNAUTHORIZED", "tryvox-start", 401, "bv", PAM_AUTH_ERR, MSG_ADMIN, NULL,
     false, 0},
    {"UNAUTHORIZED", "tryvox-check", 401, "bv", PAM_AUTH_ERR, MSG_ADMIN, NULL,
     false, 0},
    {"FORBIDDEN", "tryvox-start", 403, "bv", PAM_AUTH_ERR, MSG_ADMIN, NULL,
     false, 0},
    {"FORBIDDEN", "tryvox-check", 403, "bv", PAM_AUTH_ERR, MSG_ADMIN, NULL,
     false, 0},
    {"RATE_LIMITED", "tryvox-start", 429, "bv", PAM_AUTH_ERR, MSG_RATE, NULL,
     false, 0},
    {"RATE_LIMITED", "tryvox-check", 429, "bv", PAM_AUTH_ERR, MSG_RATE, NULL,
     false, 0},
    {"DELIVERY_FAILED", "tryvox-start", 502, "bv", PAM_AUTHINFO_UNAVAIL,
     MSG_UNREACH, NULL, false, 0},
    {"INTERNAL_ERROR", "tryvox-start", 500, "bv", PAM_AUTHINFO_UNAVAIL,
     MSG_UNREACH, NULL, false, 0},
    {"INTERNAL_ERROR", "tryvox-check", 500, "bv", PAM_AUTHINFO_UNAVAIL,
     MSG_UNREACH, NULL, false, 0},
    /* Outages under failmode=safe let the user in, loudly... */
    {"DELIVERY_FAILED", "tryvox-start", 502, "bv_safe", PAM_SUCCESS, MSG_SAFE,
     NULL, false, 0},
    {"INTERNAL_ERROR", "tryvox-start", 500, "bv_safe", PAM_SUCCESS, MSG_SAFE,
     NULL, false, 0},
    /* ...account problems do not. */
    {"UNAUTHORIZED", "tryvox-start", 401, "bv_safe", PAM_AUTH_ERR, MSG_ADMIN,
     NULL, false, 0},
    {"FORBIDDEN", "tryvox-start", 403, "bv_safe", PAM_AUTH_ERR, MSG_ADMIN, NULL,
     false, 0},
    {"RATE_LIMITED", "tryvox-start", 429, "bv_safe", PAM_AUTH_ERR, MSG_RATE,
     NULL, false, 0},
};

static void
test_tryvox_error(void **state)
{
	const struct tv_error_case *t = *state;
	struct conf c = {TRYVOX_ONLY, .max_sends = t->max_sends};
	bool check = strcmp(t->endpoint, "tryvox-check") == 0;
	char fault[512];
	char line[256];
	char svc[64];

	write_conf(&c);
	if (t->config != NULL)
		mock_config(t->config);
	if (!t->real) {
		snprintf(fault, sizeof(fault),
			 "{\"endpoint\": \"%s\", \"kind\": \"error\", "
			 "\"code\": \"%s\", \"count\": 1}",
			 t->endpoint, t->code);
		mock_fault(fault);
	}
	assert_rc(run_auth(t->service, "alice",
			   t->real ? ANSWERS(WRONG, CODE) : ANSWERS(CODE, CODE),
			   NULL),
		  t->want_rc);
	assert_shown(t->want_msg);
	if (t->want_rc != PAM_SUCCESS)
		assert_not_said(MSG_SAFE);

	snprintf(line, sizeof(line), "%s via tryvox refused: %s (HTTP %d)",
		 check ? "verify" : "send", t->code, t->status);
	snprintf(svc, sizeof(svc), "service=%s", t->service);
	assert_logged(ANY_PRIO, line, "user=alice", svc, "rhost=");
	/* Never a failover to anybody: tryvox is the only provider. */
	assert_requests_prefix(P_BAX, 0);
	assert_requests_prefix(P_MB, 0);
}

/* The mock's own answers to a wrong key, a wrong tenant, a 6th start. */
static void
test_tryvox_wrong_key(void **state)
{
	struct conf c = {TRYVOX_ONLY, .tryvox_key = "tvx_sk_test_WRONGkey77"};

	(void)state;
	add_secret("tvx_sk_test_WRONGkey77");
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_ADMIN);
	assert_logged(PRIO(LOG_ERR), "send via tryvox refused: UNAUTHORIZED "
				     "(HTTP 401)");
	assert_requests(P_TV_START, 1);
	assert_requests(P_TV_CHECK, 0);
}

static void
test_tryvox_wrong_tenant(void **state)
{
	struct conf c = {TRYVOX_ONLY, .tenant_id = "acc_somebody_else"};

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_ADMIN);
	assert_not_said(MSG_SAFE);
	assert_logged(PRIO(LOG_ERR), "send via tryvox refused: FORBIDDEN "
				     "(HTTP 403)");
}

static void
test_tryvox_start_rate_limit_real(void **state)
{
	struct conf c = {TRYVOX_ONLY};

	(void)state;
	write_conf(&c);
	mock_config("{\"tryvox_start_limit\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_RATE);
	assert_logged(ANY_PRIO,
		      "send via tryvox refused: RATE_LIMITED "
		      "(HTTP 429)",
		      "user=alice");
}

/* ------------------------------------------------------------------ */
/* Tryvox: answers that must never let anyone in, whatever failmode.   */

struct forged_case {
	const char *name;
	const char *endpoint;
	const char *body; /* JSON the mock answers with HTTP 200 */
	const char *service;
	const char *tryvox; /* extra tryvox group lines */
};

#define CHECK_PENDING                                                          \
	"{\"data\": {\"verification_id\": \"ver_forged\", "                    \
	"\"status\": \"pending\", \"to\": \"" ALICE_PHONE "\", "               \
	"\"channel\": \"sms\"}}"
#define CHECK_OTHER_PHONE                                                      \
	"{\"data\": {\"verification_id\": \"ver_forged\", "                    \
	"\"status\": \"approved\", \"to\": \"+19999999999\", "                 \
	"\"channel\": \"sms\"}}"
#define STATUS_PENDING                                                         \
	"{\"data\": {\"verification_id\": \"ver_forged\", "                    \
	"\"to\": \"" ALICE_PHONE "\", \"channel\": \"sms\", "                  \
	"\"status\": \"pending\", \"attempts\": 1, \"max_attempts\": 5}}"

static const struct forged_case forged[] = {
    {"check-pending", "tryvox-check", CHECK_PENDING, "bv", ""},
    {"check-pending", "tryvox-check", CHECK_PENDING, "bv_safe", ""},
    {"check-other-phone", "tryvox-check", CHECK_OTHER_PHONE, "bv", ""},
    {"check-other-phone", "tryvox-check", CHECK_OTHER_PHONE, "bv_safe", ""},
    {"status-pending", "tryvox-status", STATUS_PENDING, "bv",
     "  validate_token = true;"},
    {"status-pending", "tryvox-status", STATUS_PENDING, "bv_safe",
     "  validate_token = true;"},
};

static void
test_tryvox_forged(void **state)
{
	const struct forged_case *t = *state;
	struct conf c = {TRYVOX_ONLY};
	char fault[2048];
	int rc;

	c.tryvox = t->tryvox;
	write_conf(&c);
	snprintf(fault, sizeof(fault),
		 "{\"endpoint\": \"%s\", \"kind\": \"wrongshape\", "
		 "\"count\": 10, \"body\": %s}",
		 t->endpoint, t->body);
	mock_fault(fault);
	rc = run_auth(t->service, "alice", ANSWERS(CODE, CODE, CODE), NULL);
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
/* Mudbase.                                                            */

static void
test_mudbase_success(void **state)
{
	struct conf c = {MUDBASE_ONLY};
	time_t t0 = time(NULL);
	char **env = NULL;
	const char *token;
	char *claims;
	cJSON *body;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_info("A verification code was sent by SMS to " ALICE_MASKED ".");
	token = env_get(env, "BAXVERIFY_TOKEN");
	assert_non_null(token);
	/* The access token, never the refresh token. */
	claims = jwt_payload(token);
	assert_non_null(claims);
	assert_non_null(strstr(claims, "\"type\":\"access\""));
	free(claims);
	for (size_t i = 0; env[i] != NULL; i++) {
		if (strncmp(env[i], "BAXVERIFY_TOKEN=", 16) != 0)
			assert_null(strstr(env[i], "eyJ"));
	}
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "mudbase");
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "sms");
	assert_string_equal(env_get(env, "BAXVERIFY_PHONE"), ALICE_PHONE);
	/* The mock's expiresIn: the documented example, 1800 s. */
	assert_expires(env, 1800, t0);
	pamtest_free_env(env);

	assert_requests(P_MB_SEND, 1);
	assert_requests(P_MB_VERIFY, 1);
	assert_requests_prefix(P_BAX, 0);
	assert_requests_prefix(P_TV, 0);
	/* Public endpoints: no key, no bearer, ever. */
	assert_all_headers(P_MB, "authorization", NULL);
	assert_all_headers(P_MB, "x-api-key", NULL);
	assert_all_headers(P_MB, "content-type", "application/json");

	body = mock_request_body(P_MB_SEND, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "projectId"), MUDBASE_PROJECT);
	assert_string_equal(json_str(body, "method"), "sms");
	assert_string_equal(json_str(body, "phone"), ALICE_PHONE);
	assert_null(cJSON_GetObjectItemCaseSensitive(body, "email"));
	cJSON_Delete(body);
	body = mock_request_body(P_MB_VERIFY, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "identifier"), ALICE_PHONE);
	assert_string_equal(json_str(body, "otp"), CODE);
	assert_string_equal(json_str(body, "projectId"), MUDBASE_PROJECT);
	cJSON_Delete(body);

	assert_outbox("mudbase", 0, ALICE_PHONE, "sms");
	assert_logged(PRIO(LOG_INFO), "user=alice",
		      "verified " ALICE_MASKED " by mudbase (SMS)");
}

static void
test_mudbase_debug_hygiene(void **state)
{
	struct conf c = {MUDBASE_ONLY};

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv_debug", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_logged(PRIO(LOG_DEBUG), "pam_baxverify(bv_debug:auth)");
}

/* The two plausible statuses of a wrong code: 400 and 401. */
static void
test_mudbase_wrong_then_right_400(void **state)
{
	struct conf c = {MUDBASE_ONLY};

	(void)state;
	write_conf(&c);
	mock_config("{\"mudbase_wrong_status\": 400}");
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_requests(P_MB_VERIFY, 2);
	assert_logged(ANY_PRIO,
		      "verify via mudbase refused: bad_request "
		      "(HTTP 400)",
		      "user=alice");
}

static void
test_mudbase_wrong_then_right_401(void **state)
{
	struct conf c = {MUDBASE_ONLY};

	(void)state;
	write_conf(&c);
	mock_config("{\"mudbase_wrong_status\": 401}");
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE), NULL),
		  PAM_SUCCESS);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_logged(ANY_PRIO,
		      "verify via mudbase refused: unauthorized "
		      "(HTTP 401)",
		      "user=alice");
}

static void
test_mudbase_max_tries(void **state)
{
	struct conf c = {MUDBASE_ONLY};

	(void)state;
	write_conf(&c);
	assert_rc(
	    run_auth("bv", "alice", ANSWERS(WRONG, WRONG, WRONG, CODE), NULL),
	    PAM_MAXTRIES);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_err("Wrong code. 1 attempt(s) left.");
	assert_err(MSG_TOO_MANY);
	assert_requests(P_MB_VERIFY, 3);
}

/* The mock stops taking tries (429) before max_tries is used up. */
static void
test_mudbase_server_max_attempts(void **state)
{
	struct conf c = {MUDBASE_ONLY};

	(void)state;
	write_conf(&c);
	mock_config("{\"mudbase_max_attempts\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(WRONG, CODE, CODE), NULL),
		  PAM_MAXTRIES);
	assert_err(MSG_TOO_MANY);
	assert_requests(P_MB_VERIFY, 2);
	assert_logged(ANY_PRIO, "verify via mudbase refused: rate_limited "
				"(HTTP 429)");
}

/*
 * Mudbase answers an expired code like a wrong one ("Invalid or expired
 * OTP", 400).  Real expiry (the code runs out in the mock's record before
 * it is typed), then Enter sends a new code, which works.
 */
static void
test_mudbase_expired_then_resend(void **state)
{
	struct conf c = {MUDBASE_ONLY};
	struct pam_run r = {
	    .service = "bv", .user = "alice", .answer = expire_then_resend};

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_int_equal(r.prompts, 3);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_int_equal(
	    count_in_bufs(info_buf, "A verification code was sent by SMS"), 2);
	assert_requests(P_MB_SEND, 2);
	assert_requests(P_MB_VERIFY, 2);
	pamtest_free_env(r.env);
	free(r.shown);
}

static void
test_mudbase_send_rate_limit_real(void **state)
{
	struct conf c = {MUDBASE_ONLY};

	(void)state;
	write_conf(&c);
	mock_config("{\"mudbase_send_limit\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_RATE);
	assert_logged(ANY_PRIO, "send via mudbase refused: rate_limited "
				"(HTTP 429)");
}

static void
test_mudbase_unknown_project(void **state)
{
	struct conf c = {MUDBASE_ONLY, .mudbase_project = "proj_nope"};

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_ADMIN);
	assert_not_said(MSG_SAFE);
	assert_logged(PRIO(LOG_ERR),
		      "send via mudbase refused: not_found "
		      "(HTTP 404)",
		      "Project not found");
}

/* Statuses 400/401/403/404/429 at both endpoints. */
struct mb_error_case {
	const char *code;     /* Mudbase "code" in the error body */
	const char *endpoint; /* mudbase-send or mudbase-verify */
	int status;
	const char *service;
	int want_rc;
	const char *want_msg;
};

static const struct mb_error_case mb_errors[] = {
    {"bad_request", "mudbase-send", 400, "bv", PAM_AUTH_ERR, MSG_BAD_PHONE},
    {"unauthorized", "mudbase-send", 401, "bv", PAM_AUTH_ERR, MSG_ADMIN},
    {"forbidden", "mudbase-send", 403, "bv", PAM_AUTH_ERR, MSG_ADMIN},
    {"not_found", "mudbase-send", 404, "bv", PAM_AUTH_ERR, MSG_ADMIN},
    {"rate_limited", "mudbase-send", 429, "bv", PAM_AUTH_ERR, MSG_RATE},
    /* At verify 400 and 401 are a wrong code: the right one then works. */
    {"bad_request", "mudbase-verify", 400, "bv", PAM_SUCCESS,
     "Wrong code. 2 attempt(s) left."},
    {"unauthorized", "mudbase-verify", 401, "bv", PAM_SUCCESS,
     "Wrong code. 2 attempt(s) left."},
    {"forbidden", "mudbase-verify", 403, "bv", PAM_AUTH_ERR, MSG_ADMIN},
    {"not_found", "mudbase-verify", 404, "bv", PAM_AUTH_ERR, MSG_ADMIN},
    {"rate_limited", "mudbase-verify", 429, "bv", PAM_MAXTRIES, MSG_TOO_MANY},
    /* Refusals are no outage: failmode=safe still denies. */
    {"unauthorized", "mudbase-send", 401, "bv_safe", PAM_AUTH_ERR, MSG_ADMIN},
    {"forbidden", "mudbase-send", 403, "bv_safe", PAM_AUTH_ERR, MSG_ADMIN},
    {"forbidden", "mudbase-verify", 403, "bv_safe", PAM_AUTH_ERR, MSG_ADMIN},
};

static void
test_mudbase_error(void **state)
{
	const struct mb_error_case *t = *state;
	struct conf c = {MUDBASE_ONLY};
	bool verify = strcmp(t->endpoint, "mudbase-verify") == 0;
	char fault[512];
	char line[256];
	char svc[64];

	write_conf(&c);
	snprintf(fault, sizeof(fault),
		 "{\"endpoint\": \"%s\", \"kind\": \"error\", "
		 "\"code\": \"%s\", \"status\": %d, \"count\": 1}",
		 t->endpoint, t->code, t->status);
	mock_fault(fault);
	assert_rc(run_auth(t->service, "alice", ANSWERS(CODE, CODE), NULL),
		  t->want_rc);
	assert_shown(t->want_msg);
	if (t->want_rc != PAM_SUCCESS)
		assert_not_said(MSG_SAFE);
	snprintf(line, sizeof(line), "%s via mudbase refused: %s (HTTP %d)",
		 verify ? "verify" : "send", t->code, t->status);
	snprintf(svc, sizeof(svc), "service=%s", t->service);
	assert_logged(ANY_PRIO, line, "user=alice", svc);
	assert_requests_prefix(P_TV, 0);
	assert_requests_prefix(P_BAX, 0);
}

/* ------------------------------------------------------------------ */
/* The email channel.                                                  */

static void
test_tryvox_email(void **state)
{
	struct conf c = {.provider = "\"tryvox\"",
			 .tryvox = "  channel = \"email\";"};
	char **env = NULL;
	cJSON *body;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "dave", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_info(
	    "A verification code was sent by email to " DAVE_EMAIL_MASKED ".");
	assert_string_equal(env_get(env, "BAXVERIFY_EMAIL"), DAVE_EMAIL);
	assert_null(env_get(env, "BAXVERIFY_PHONE"));
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "email");
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "tryvox");
	pamtest_free_env(env);
	body = mock_request_body(P_TV_START, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "to"), DAVE_EMAIL);
	assert_string_equal(json_str(body, "channel"), "email");
	cJSON_Delete(body);
	assert_outbox("tryvox", 0, DAVE_EMAIL, "email");
	assert_logged(PRIO(LOG_INFO), "user=dave",
		      "verified " DAVE_EMAIL_MASKED " by tryvox (email)");
}

/* erin has only an email address; alice has none. */
static void
test_tryvox_email_only_user(void **state)
{
	struct conf c = {.provider = "\"tryvox\"",
			 .tryvox = "  channel = \"email\";"};
	char **env = NULL;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "erin", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_string_equal(env_get(env, "BAXVERIFY_EMAIL"), ERIN_EMAIL);
	pamtest_free_env(env);
	assert_info(
	    "A verification code was sent by email to " ERIN_EMAIL_MASKED ".");

	reset_mock();
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_requests(NULL, 0);
}

/* An email-only user where codes go by SMS: nowhere to send one. */
static void
test_sms_user_without_phone(void **state)
{
	struct conf c = {TRYVOX_ONLY};

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "erin", ANSWERS(CODE), NULL), PAM_AUTH_ERR);
	assert_err(MSG_NO_PHONE);
	assert_requests(NULL, 0);
}

static void
test_mudbase_email(void **state)
{
	struct conf c = {.provider = "\"mudbase\"",
			 .mudbase = "  method = \"email\";"};
	char **env = NULL;
	cJSON *body;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "dave", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_info(
	    "A verification code was sent by email to " DAVE_EMAIL_MASKED ".");
	assert_string_equal(env_get(env, "BAXVERIFY_EMAIL"), DAVE_EMAIL);
	assert_null(env_get(env, "BAXVERIFY_PHONE"));
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "email");
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "mudbase");
	pamtest_free_env(env);
	body = mock_request_body(P_MB_SEND, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "method"), "email");
	assert_string_equal(json_str(body, "email"), DAVE_EMAIL);
	assert_null(cJSON_GetObjectItemCaseSensitive(body, "phone"));
	cJSON_Delete(body);
	body = mock_request_body(P_MB_VERIFY, 0);
	assert_non_null(body);
	assert_string_equal(json_str(body, "identifier"), DAVE_EMAIL);
	cJSON_Delete(body);
	assert_outbox("mudbase", 0, DAVE_EMAIL, "email");
	assert_all_headers(P_MB, "authorization", NULL);
}

/* ------------------------------------------------------------------ */
/* Outages, per provider, under failmode secure and safe.              */

struct outage_case {
	const char *name;
	const char *provider; /* "tryvox" or "mudbase" */
	const char *fault;    /* mock fault JSON; NULL: a closed port */
	bool safe;
};

#define TV_FAULT(ep, kind)                                                     \
	"{\"endpoint\": \"tryvox-" ep "\", \"kind\": \"" kind "\", "           \
	"\"count\": 10}"
#define MB_FAULT(ep, kind)                                                     \
	"{\"endpoint\": \"mudbase-" ep "\", \"kind\": \"" kind "\", "          \
	"\"count\": 10}"

static const struct outage_case outages[] = {
    {"unreachable", "tryvox", NULL, false},
    {"unreachable", "tryvox", NULL, true},
    {"start-http500", "tryvox", TV_FAULT("start", "http500"), false},
    {"start-http500", "tryvox", TV_FAULT("start", "http500"), true},
    {"start-malformed", "tryvox", TV_FAULT("start", "malformed"), false},
    {"start-malformed", "tryvox", TV_FAULT("start", "malformed"), true},
    {"start-wrongshape", "tryvox", TV_FAULT("start", "wrongshape"), false},
    {"start-empty", "tryvox", TV_FAULT("start", "empty"), false},
    {"start-drop", "tryvox", TV_FAULT("start", "drop"), false},
    {"start-drop", "tryvox", TV_FAULT("start", "drop"), true},
    {"start-bad-id", "tryvox",
     "{\"endpoint\": \"tryvox-start\", \"kind\": \"wrongshape\", "
     "\"count\": 10, \"body\": {\"data\": {\"verification_id\": "
     "\"../../admin\", \"status\": \"pending\"}}}",
     false},
    {"check-http500", "tryvox", TV_FAULT("check", "http500"), false},
    {"check-http500", "tryvox", TV_FAULT("check", "http500"), true},
    {"check-malformed", "tryvox", TV_FAULT("check", "malformed"), false},
    {"check-truncated", "tryvox", TV_FAULT("check", "truncated"), false},
    {"unreachable", "mudbase", NULL, false},
    {"unreachable", "mudbase", NULL, true},
    {"send-http500", "mudbase", MB_FAULT("send", "http500"), false},
    {"send-http500", "mudbase", MB_FAULT("send", "http500"), true},
    {"send-malformed", "mudbase", MB_FAULT("send", "malformed"), false},
    {"send-drop", "mudbase", MB_FAULT("send", "drop"), true},
    {"verify-http500", "mudbase", MB_FAULT("verify", "http500"), false},
    {"verify-http500", "mudbase", MB_FAULT("verify", "http500"), true},
    {"verify-malformed", "mudbase", MB_FAULT("verify", "malformed"), false},
    {"verify-wrongshape", "mudbase", MB_FAULT("verify", "wrongshape"), false},
    {"verify-truncated", "mudbase", MB_FAULT("verify", "truncated"), false},
};

static void
test_outage(void **state)
{
	const struct outage_case *t = *state;
	struct conf c = {0};
	const char *service = t->safe ? "bv_safe" : "bv";
	bool tvx = strcmp(t->provider, "tryvox") == 0;
	char provider[64], url[128], via[64], svc[64];
	char **env = NULL;
	int fd = -1, port, rc;

	snprintf(provider, sizeof(provider), "\"%s\"", t->provider);
	c.provider = provider;
	if (tvx)
		c.tryvox = "";
	else
		c.mudbase = "";
	if (t->fault == NULL) {
		fd = closed_port(&port);
		snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
		if (tvx)
			c.tryvox_url = url;
		else
			c.mudbase_url = url;
	}
	write_conf(&c);
	if (t->fault != NULL)
		mock_fault(t->fault);
	rc = run_auth(service, "alice", ANSWERS(CODE, CODE), &env);
	if (fd >= 0)
		close(fd);

	snprintf(via, sizeof(via), "via %s", t->provider);
	snprintf(svc, sizeof(svc), "service=%s", service);
	assert_logged(ANY_PRIO, via, "user=alice", svc);
	if (t->safe) {
		assert_rc(rc, PAM_SUCCESS);
		assert_info(MSG_SAFE);
		assert_logged(PRIO(LOG_WARNING), "ALLOWED WITHOUT A CODE",
			      "user=alice", svc);
		/* No proof exists: nothing may pretend there is one. */
		assert_null(env_get(env, "BAXVERIFY_TOKEN"));
	} else {
		assert_rc(rc, PAM_AUTHINFO_UNAVAIL);
		assert_err(MSG_UNREACH);
	}
	pamtest_free_env(env);
}

/* ------------------------------------------------------------------ */
/* Failover between providers.                                         */

/* BaxVerify unreachable: the code goes by Tryvox and is checked there. */
static void
test_failover_unreachable_to_tryvox(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX};
	char url[128];
	char **env = NULL;
	char *vid;
	cJSON *body;
	int fd, port;

	(void)state;
	fd = closed_port(&port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1", port);
	c.api_url = url;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), &env), PAM_SUCCESS);
	close(fd);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "tryvox");
	vid = tryvox_vid(0);
	assert_string_equal(env_get(env, "BAXVERIFY_TOKEN"), vid);
	pamtest_free_env(env);
	assert_requests(P_TV_START, 1);
	assert_requests(P_TV_CHECK, 1);
	body = mock_request_body(P_TV_CHECK, 0);
	assert_string_equal(json_str(body, "verification_id"), vid);
	cJSON_Delete(body);
	free(vid);
	assert_info("A verification code was sent by SMS to " ALICE_MASKED ".");
	assert_not_said(MSG_UNREACH);
	assert_logged(PRIO(LOG_ERR),
		      "send via baxverify failed:", "user=alice");
	assert_logged(PRIO(LOG_INFO),
		      "verified " ALICE_MASKED " by tryvox (SMS)");
}

/* BaxVerify refuses for the account: Tryvox sends, Tryvox checks. */
static void
test_failover_credits_to_tryvox(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX};
	char **env = NULL;

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"send\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_INSUFFICIENT_CREDITS\", "
		   "\"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "tryvox");
	pamtest_free_env(env);
	assert_requests(P_SEND, 1);
	assert_requests(P_VERIFY, 0);
	assert_requests(P_VALIDATE, 0);
	assert_requests(P_TV_START, 1);
	assert_requests(P_TV_CHECK, 1);
	assert_not_said(MSG_ADMIN);
	assert_logged(PRIO(LOG_ERR),
		      "send via baxverify refused: "
		      "BAXVERIFY_INSUFFICIENT_CREDITS (HTTP 400)",
		      "user=alice");
	assert_logged(PRIO(LOG_INFO),
		      "verified " ALICE_MASKED " by tryvox (SMS)");
}

/* A resend after a failover goes to the provider that sent the code. */
static void
test_failover_resend_stays(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX};

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"send\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_INSUFFICIENT_CREDITS\", "
		   "\"count\": 10}");
	assert_rc(run_auth("bv", "alice", ANSWERS("", CODE), NULL),
		  PAM_SUCCESS);
	assert_requests(P_SEND, 1);
	assert_requests(P_TV_START, 2);
	assert_requests(P_TV_CHECK, 1);
}

/* Refused by BaxVerify, then Mudbase: Mudbase still sees no key. */
static void
test_failover_to_mudbase(void **state)
{
	struct conf c = {.provider = "[\"baxverify\", \"mudbase\"]",
			 .mudbase = ""};
	char **env = NULL;

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"send\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_FEATURE_DISABLED\", \"count\": 1}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "mudbase");
	pamtest_free_env(env);
	assert_requests(P_SEND, 1);
	assert_requests(P_MB_SEND, 1);
	assert_requests(P_MB_VERIFY, 1);
	assert_all_headers(P_MB, "authorization", NULL);
	assert_all_headers(P_MB, "x-project-id", NULL);
	assert_logged(ANY_PRIO, "send via baxverify refused: "
				"BAXVERIFY_FEATURE_DISABLED (HTTP 403)");
	assert_logged(PRIO(LOG_INFO), "by mudbase (SMS)");
}

/* Tryvox down (5xx), Mudbase next. */
static void
test_failover_tryvox_to_mudbase(void **state)
{
	struct conf c = {.provider = "[\"tryvox\", \"mudbase\"]",
			 .tryvox = "",
			 .mudbase = ""};
	char **env = NULL;

	(void)state;
	write_conf(&c);
	mock_fault(TV_FAULT("start", "http500"));
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), &env), PAM_SUCCESS);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "mudbase");
	pamtest_free_env(env);
	assert_requests(P_TV_START, 1);
	assert_requests(P_TV_CHECK, 0);
	assert_requests(P_MB_VERIFY, 1);
	assert_all_headers(P_MB, "authorization", NULL);
	assert_logged(ANY_PRIO, "send via tryvox failed:", "HTTP 500");
}

/* The user's own problems never travel to the next provider. */
struct no_failover_case {
	const char *code;
	int status;
	const char *want_msg;
	const char *service;
};

static const struct no_failover_case no_failovers[] = {
    {"BAXVERIFY_RATE_LIMIT", 429, MSG_RATE, "bv"},
    {"BAXVERIFY_RATE_LIMIT", 429, MSG_RATE, "bv_safe"},
    {"BAXVERIFY_INVALID_PHONE", 400, MSG_BAD_PHONE, "bv"},
    {"BAXVERIFY_INVALID_PHONE", 400, MSG_BAD_PHONE, "bv_safe"},
};

static void
test_no_failover(void **state)
{
	const struct no_failover_case *t = *state;
	struct conf c = {BAX_THEN_TRYVOX};
	char fault[512];
	char line[256];

	write_conf(&c);
	snprintf(fault, sizeof(fault),
		 "{\"endpoint\": \"send\", \"kind\": \"error\", "
		 "\"code\": \"%s\", \"count\": 10}",
		 t->code);
	mock_fault(fault);
	assert_rc(run_auth(t->service, "alice", ANSWERS(CODE, CODE), NULL),
		  PAM_AUTH_ERR);
	assert_err(t->want_msg);
	assert_not_said(MSG_SAFE);
	assert_requests(P_SEND, 1);
	assert_requests_prefix(P_TV, 0);
	snprintf(line, sizeof(line), "send via baxverify refused: %s (HTTP %d)",
		 t->code, t->status);
	assert_logged(ANY_PRIO, line);
	assert_not_logged("via tryvox");
}

/* Once a code is out, a failing check never starts over elsewhere. */
static void
test_no_failover_on_check(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX};

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"verify\", \"kind\": \"http500\", "
		   "\"count\": 10}");
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE, CODE), NULL),
		  PAM_AUTHINFO_UNAVAIL);
	assert_requests(P_SEND, 1);
	assert_requests_prefix(P_TV, 0);
}

/* A refusal for the account plus an outage: failmode=safe denies. */
static void
test_refusal_then_outage_safe(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX};
	char url[128];
	int fd, port;

	(void)state;
	fd = closed_port(&port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
	c.tryvox_url = url;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"send\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_INSUFFICIENT_CREDITS\", "
		   "\"count\": 10}");
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_AUTH_ERR);
	close(fd);
	assert_err(MSG_ADMIN);
	assert_not_said(MSG_SAFE);
	assert_logged(ANY_PRIO, "send via baxverify refused: "
				"BAXVERIFY_INSUFFICIENT_CREDITS");
	assert_logged(ANY_PRIO, "send via tryvox failed:");
	assert_not_logged("ALLOWED WITHOUT A CODE");
}

/* The other order: an outage, then a refusal for the account. */
static void
test_outage_then_refusal_safe(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX};
	char url[128];
	int fd, port;

	(void)state;
	fd = closed_port(&port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1", port);
	c.api_url = url;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"tryvox-start\", \"kind\": \"error\", "
		   "\"code\": \"UNAUTHORIZED\", \"count\": 10}");
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_AUTH_ERR);
	close(fd);
	assert_err(MSG_ADMIN);
	assert_not_said(MSG_SAFE);
	assert_logged(ANY_PRIO, "send via baxverify failed:");
	assert_logged(ANY_PRIO, "send via tryvox refused: UNAUTHORIZED "
				"(HTTP 401)");
}

/* Every provider down: an outage, with failmode's usual answers. */
static void
test_all_down(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX};

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"send\", \"kind\": \"http500\", "
		   "\"count\": 10}");
	mock_fault(TV_FAULT("start", "http500"));
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL),
		  PAM_AUTHINFO_UNAVAIL);
	assert_err(MSG_UNREACH);
	assert_logged(ANY_PRIO, "send via baxverify failed:");
	assert_logged(ANY_PRIO, "send via tryvox failed:");
	assert_rc(run_auth("bv_safe", "alice", ANSWERS(CODE), NULL),
		  PAM_SUCCESS);
	assert_info(MSG_SAFE);
}

/* ------------------------------------------------------------------ */
/* The channel menu.                                                   */

#define MENU_SMS_VOICE                                                         \
	MENU_HEAD "\n  1) SMS to " ALICE_MASKED                                \
		  "\n  2) voice call to " ALICE_MASKED

static const struct conf menu_conf = {
    TRYVOX_ONLY,
    .channels = "[\"sms\", \"voice\"]",
};

static void
test_menu_choose_voice(void **state)
{
	char **env = NULL;
	char *vid;
	cJSON *body;

	(void)state;
	write_conf(&menu_conf);
	assert_rc(
	    run_auth_menu("bv", "alice", ANSWERS(CODE), ANSWERS("2"), &env),
	    PAM_SUCCESS);
	assert_info(MENU_SMS_VOICE);
	assert_info(
	    "A verification code was sent by voice call to " ALICE_MASKED ".");
	assert_outbox("tryvox", 0, ALICE_PHONE, "voice");
	body = mock_request_body(P_TV_START, 0);
	assert_string_equal(json_str(body, "channel"), "voice");
	cJSON_Delete(body);
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "voice");
	vid = tryvox_vid(0);
	assert_string_equal(env_get(env, "BAXVERIFY_TOKEN"), vid);
	free(vid);
	pamtest_free_env(env);
	assert_logged(PRIO(LOG_INFO),
		      "verified " ALICE_MASKED " by tryvox (voice call)");
}

static void
test_menu_empty_is_first(void **state)
{
	char **env = NULL;

	(void)state;
	write_conf(&menu_conf);
	assert_rc(
	    run_auth_menu("bv", "alice", ANSWERS(CODE), ANSWERS(""), &env),
	    PAM_SUCCESS);
	assert_info("A verification code was sent by SMS to " ALICE_MASKED ".");
	assert_outbox("tryvox", 0, ALICE_PHONE, "sms");
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "sms");
	pamtest_free_env(env);
}

static void
test_menu_invalid_reasks(void **state)
{
	(void)state;
	write_conf(&menu_conf);
	assert_rc(run_auth_menu("bv", "alice", ANSWERS(CODE),
				ANSWERS("7", "abc", "2"), NULL),
		  PAM_SUCCESS);
	assert_int_equal(count_in_bufs(err_buf, MENU_BAD), 2);
	assert_int_equal(count_in_bufs(info_buf, MENU_HEAD), 3);
	assert_requests(P_TV_START, 1);
	assert_outbox("tryvox", 0, ALICE_PHONE, "voice");
}

/* Three bad menu answers: no code is sent at all. */
static void
test_menu_gives_up(void **state)
{
	int rc;

	(void)state;
	write_conf(&menu_conf);
	rc = run_auth_menu("bv", "alice", ANSWERS(CODE),
			   ANSWERS("0", "3", "x", "1"), NULL);
	assert_rc(rc, PAM_AUTH_ERR);
	assert_int_equal(count_in_bufs(err_buf, MENU_BAD), 3);
	assert_requests(NULL, 0);
}

/* Enter at the code prompt offers the menu again; the new choice wins. */
static void
test_menu_again_on_resend(void **state)
{
	char **env = NULL;
	char *vid;
	cJSON *body;

	(void)state;
	write_conf(&menu_conf);
	assert_rc(run_auth_menu("bv", "alice", ANSWERS("", CODE),
				ANSWERS("1", "2"), &env),
		  PAM_SUCCESS);
	assert_int_equal(count_in_bufs(info_buf, MENU_HEAD), 2);
	assert_info("A verification code was sent by SMS to " ALICE_MASKED ".");
	assert_info(
	    "A verification code was sent by voice call to " ALICE_MASKED ".");
	assert_outbox("tryvox", 0, ALICE_PHONE, "sms");
	assert_outbox("tryvox", 1, ALICE_PHONE, "voice");
	vid = tryvox_vid(1);
	body = mock_request_body(P_TV_CHECK, 0);
	assert_string_equal(json_str(body, "verification_id"), vid);
	cJSON_Delete(body);
	assert_string_equal(env_get(env, "BAXVERIFY_TOKEN"), vid);
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "voice");
	free(vid);
	pamtest_free_env(env);
}

/* max_sends bounds the resends, menu or not. */
static void
test_menu_resend_bounded(void **state)
{
	(void)state;
	write_conf(&menu_conf);
	assert_rc(run_auth_menu("bv", "alice", ANSWERS("", "", CODE),
				ANSWERS("1", "2", "1"), NULL),
		  PAM_AUTH_ERR);
	assert_err(MSG_NO_CODE);
	assert_int_equal(count_in_bufs(info_buf, MENU_HEAD), 2);
	assert_requests(P_TV_START, 2);
	assert_requests(P_TV_CHECK, 0);
}

/* Only the channels the user has an address for are offered. */
static void
test_menu_only_usable_channels(void **state)
{
	struct conf c = menu_conf;

	(void)state;
	c.channels = "[\"sms\", \"voice\", \"email\"]";
	write_conf(&c);
	assert_rc(
	    run_auth_menu("bv", "dave", ANSWERS(CODE), ANSWERS("3"), NULL),
	    PAM_SUCCESS);
	assert_info(MENU_HEAD "\n  1) SMS to " DAVE_MASKED
			      "\n  2) voice call to " DAVE_MASKED
			      "\n  3) email to " DAVE_EMAIL_MASKED);
	assert_outbox("tryvox", 0, DAVE_EMAIL, "email");

	/* alice has no email address: two entries. */
	reset_mock();
	assert_rc(
	    run_auth_menu("bv", "alice", ANSWERS(CODE), ANSWERS("2"), NULL),
	    PAM_SUCCESS);
	assert_info(MENU_SMS_VOICE);
	assert_not_said("3) ");
	assert_outbox("tryvox", 0, ALICE_PHONE, "voice");
}

/* One usable channel: no menu (an echo-on prompt would fail the case). */
static void
test_menu_single_channel_no_menu(void **state)
{
	struct conf c = menu_conf;

	(void)state;
	c.channels = "[\"email\", \"sms\"]";
	write_conf(&c);
	assert_rc(run_auth_menu("bv", "alice", ANSWERS(CODE), NO_ANSWERS, NULL),
		  PAM_SUCCESS);
	assert_not_said(MENU_HEAD);
	assert_outbox("tryvox", 0, ALICE_PHONE, "sms");
}

/* Each channel goes to the first provider that serves it. */
static void
test_menu_routes_by_provider(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX, .channels = "[\"sms\", \"voice\"]"};
	char **env = NULL;

	(void)state;
	write_conf(&c);
	assert_rc(
	    run_auth_menu("bv", "alice", ANSWERS(CODE), ANSWERS("2"), &env),
	    PAM_SUCCESS);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "tryvox");
	pamtest_free_env(env);
	assert_requests_prefix(P_BAX, 0);
	assert_outbox("tryvox", 0, ALICE_PHONE, "voice");

	reset_mock();
	assert_rc(
	    run_auth_menu("bv", "alice", ANSWERS(CODE), ANSWERS("1"), &env),
	    PAM_SUCCESS);
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "baxverify");
	pamtest_free_env(env);
	assert_requests_prefix(P_TV, 0);
	assert_requests(P_SEND, 1);
}

/*
 * A new channel chosen at the resend goes to the first provider that
 * serves it, as the first send would: the provider that sent the last
 * code (by another channel) is no reason to skip the configured order.
 * Here voice can only go by Tryvox; SMS then belongs to BaxVerify, which
 * never failed.
 */
static void
test_menu_resend_other_channel_keeps_order(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX, .channels = "[\"sms\", \"voice\"]"};
	char **env = NULL;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth_menu("bv", "alice", ANSWERS("", CODE),
				ANSWERS("2", "1"), &env),
		  PAM_SUCCESS);
	assert_outbox("tryvox", 0, ALICE_PHONE, "voice");
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "sms");
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "baxverify");
	pamtest_free_env(env);
	assert_requests(P_TV_START, 1);
	assert_requests(P_SEND, 1);
}

/*
 * After a failover (Mudbase down for SMS, BaxVerify sent it) the user
 * asks for a new code by email, which only Mudbase serves: Mudbase must
 * be asked, and a configuration that passed the checks is never
 * "misconfigured" at run time.
 */
static void
test_menu_resend_after_failover_earlier_channel(void **state)
{
	struct conf c = {.provider = "[\"mudbase\", \"baxverify\"]",
			 .mudbase = "",
			 .channels = "[\"sms\", \"email\"]"};
	char **env = NULL;

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"mudbase-send\", \"kind\": \"http500\", "
		   "\"count\": 1}");
	assert_rc(run_auth_menu("bv", "dave", ANSWERS("", CODE),
				ANSWERS("1", "2"), &env),
		  PAM_SUCCESS);
	assert_not_said(MSG_MISCONF);
	assert_outbox("baxverify", 0, DAVE_PHONE, "sms");
	assert_outbox("mudbase", 0, DAVE_EMAIL, "email");
	assert_string_equal(env_get(env, "BAXVERIFY_PROVIDER"), "mudbase");
	assert_string_equal(env_get(env, "BAXVERIFY_CHANNEL"), "email");
	pamtest_free_env(env);
}

/* ------------------------------------------------------------------ */
/* Session: consume_token.                                             */

static void
test_session_tryvox(void **state)
{
	struct conf c = {TRYVOX_ONLY};
	struct pam_run r = {
	    .service = "bv_session_ignore",
	    .user = "alice",
	    .codes = ANSWERS(CODE),
	    .session = true,
	};
	char path[256];
	char *vid;

	(void)state;
	write_conf(&c);
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_rc(r.session_rc, PAM_SUCCESS);
	vid = tryvox_vid(0);
	assert_string_equal(env_get(r.env, "BAXVERIFY_TOKEN"), vid);
	pamtest_free_env(r.env);
	/* The session read the status of that verification: approved. */
	snprintf(path, sizeof(path), "/v1/verify/%s", vid);
	assert_requests(path, 1);
	assert_all_headers(P_TV_STATUS, "authorization", "Bearer " TRYVOX_KEY);
	assert_all_headers(P_TV_STATUS, "x-tenant-id", TENANT_ID);
	free(vid);
	/* Tryvox cannot spend a verification: "confirmed" (or "consumed"). */
	assert_logged(PRIO(LOG_INFO),
		      "pam_baxverify(bv_session_ignore:"
		      "session)",
		      "session: proof ", " at tryvox");
}

/* An email proof: the session finds the destination in BAXVERIFY_EMAIL. */
static void
test_session_tryvox_email(void **state)
{
	struct conf c = {.provider = "\"tryvox\"",
			 .tryvox = "  channel = \"email\";"};
	struct pam_run r = {
	    .service = "bv_session_ignore",
	    .user = "dave",
	    .codes = ANSWERS(CODE),
	    .session = true,
	};

	(void)state;
	write_conf(&c);
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_rc(r.session_rc, PAM_SUCCESS);
	assert_string_equal(env_get(r.env, "BAXVERIFY_EMAIL"), DAVE_EMAIL);
	pamtest_free_env(r.env);
	assert_requests_prefix(P_TV_STATUS, 1);
}

/* The status does not say approved: the session is refused. */
static void
test_session_tryvox_not_approved(void **state)
{
	struct conf c = {TRYVOX_ONLY};
	struct pam_run r = {
	    .service = "bv_session_ignore",
	    .user = "alice",
	    .codes = ANSWERS(CODE),
	    .session = true,
	};

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"tryvox-status\", \"kind\": "
		   "\"wrongshape\", \"count\": 10, \"body\": " STATUS_PENDING
		   "}");
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_rc(r.session_rc, PAM_SESSION_ERR);
	pamtest_free_env(r.env);
}

/* After a failover the proof is Tryvox's: consumed there. */
static void
test_session_after_failover(void **state)
{
	struct conf c = {BAX_THEN_TRYVOX};
	struct pam_run r = {
	    .service = "bv_session_ignore",
	    .user = "alice",
	    .codes = ANSWERS(CODE),
	    .session = true,
	};

	(void)state;
	write_conf(&c);
	mock_fault("{\"endpoint\": \"send\", \"kind\": \"error\", "
		   "\"code\": \"BAXVERIFY_INSUFFICIENT_CREDITS\", "
		   "\"count\": 1}");
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_rc(r.session_rc, PAM_SUCCESS);
	pamtest_free_env(r.env);
	assert_requests(P_VALIDATE, 0);
	assert_requests_prefix(P_TV_STATUS, 1);
}

/* Mudbase has nothing to consume: the session module stands aside. */
static void
test_session_mudbase(void **state)
{
	struct conf c = {MUDBASE_ONLY};
	struct pam_run r = {
	    .service = "bv_session_ignore",
	    .user = "alice",
	    .codes = ANSWERS(CODE),
	    .session = true,
	};

	(void)state;
	write_conf(&c);
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	pamtest_free_env(r.env);
	/* No request after send and verify. */
	assert_requests(NULL, 2);
	assert_rc(r.session_rc, PAM_IGNORE);
}

/* ------------------------------------------------------------------ */
/* Configuration of the new providers.                                 */

static void
test_tryvox_without_group(void **state)
{
	struct conf c = {.provider = "\"tryvox\""};

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL),
		  PAM_SERVICE_ERR);
	assert_err(MSG_MISCONF);
	assert_logged(PRIO(LOG_ERR), conf_path, "tryvox.tenant_id");
	assert_requests(NULL, 0);
}

/* ------------------------------------------------------------------ */

static const struct CMUnitTest plain_tests[] = {
    T(test_tryvox_success),
    T(test_tryvox_requests),
    T(test_tryvox_validate_token),
    T(test_tryvox_debug_hygiene),
    T(test_tryvox_wrong_then_right),
    T(test_tryvox_attempts_follow_server),
    T(test_tryvox_status_down_after_wrong),
    T(test_tryvox_last_wrong_code_counts_for_lockout),
    T(test_baxverify_last_wrong_code_counts_for_lockout),
    T(test_tryvox_expired_then_resend),
    T(test_tryvox_ttl_expiry_then_resend),
    T(test_tryvox_expired_real),
    T(test_tryvox_wrong_but_expired),
    T(test_tryvox_wrong_key),
    T(test_tryvox_wrong_tenant),
    T(test_tryvox_start_rate_limit_real),
    T(test_mudbase_success),
    T(test_mudbase_debug_hygiene),
    T(test_mudbase_wrong_then_right_400),
    T(test_mudbase_wrong_then_right_401),
    T(test_mudbase_max_tries),
    T(test_mudbase_server_max_attempts),
    T(test_mudbase_expired_then_resend),
    T(test_mudbase_send_rate_limit_real),
    T(test_mudbase_unknown_project),
    T(test_tryvox_email),
    T(test_tryvox_email_only_user),
    T(test_sms_user_without_phone),
    T(test_mudbase_email),
    T(test_failover_unreachable_to_tryvox),
    T(test_failover_credits_to_tryvox),
    T(test_failover_resend_stays),
    T(test_failover_to_mudbase),
    T(test_failover_tryvox_to_mudbase),
    T(test_no_failover_on_check),
    T(test_refusal_then_outage_safe),
    T(test_outage_then_refusal_safe),
    T(test_all_down),
    T(test_menu_choose_voice),
    T(test_menu_empty_is_first),
    T(test_menu_invalid_reasks),
    T(test_menu_gives_up),
    T(test_menu_again_on_resend),
    T(test_menu_resend_bounded),
    T(test_menu_only_usable_channels),
    T(test_menu_single_channel_no_menu),
    T(test_menu_routes_by_provider),
    T(test_menu_resend_other_channel_keeps_order),
    T(test_menu_resend_after_failover_earlier_channel),
    T(test_session_tryvox),
    T(test_session_tryvox_email),
    T(test_session_tryvox_not_approved),
    T(test_session_after_failover),
    T(test_session_mudbase),
    T(test_tryvox_without_group),
};

int
main(int argc, char **argv)
{
	size_t max = NELEM(plain_tests) + NELEM(fifth_cases) +
		     NELEM(tv_errors) + NELEM(mb_errors) + NELEM(outages) +
		     NELEM(forged) + NELEM(no_failovers);
	struct CMUnitTest *all = calloc(max, sizeof(*all));
	char **names = calloc(max, sizeof(*names));
	const char *only = argc > 1 ? argv[1] : NULL;
	char label[128];
	size_t n = 0;
	int rc;

	if (all == NULL || names == NULL)
		return 1;
	for (size_t i = 0; i < NELEM(plain_tests); i++)
		all[n++] = plain_tests[i];
	for (size_t i = 0; i < NELEM(fifth_cases); i++) {
		names[n] = case_name("test_tryvox_max_attempts",
				     fifth_cases[i].fifth_reply,
				     fifth_cases[i].after_failed);
		add_case(all, &n, names[n], test_tryvox_max_attempts,
			 &fifth_cases[i]);
	}
	for (size_t i = 0; i < NELEM(tv_errors); i++) {
		snprintf(label, sizeof(label), "%s%s %d",
			 tv_errors[i].real ? "real " : "", tv_errors[i].code,
			 tv_errors[i].status);
		names[n] = case_name("test_tryvox_error", label,
				     strcmp(tv_errors[i].service, "bv") == 0
					 ? tv_errors[i].endpoint
					 : tv_errors[i].service);
		add_case(all, &n, names[n], test_tryvox_error, &tv_errors[i]);
	}
	for (size_t i = 0; i < NELEM(mb_errors); i++) {
		snprintf(label, sizeof(label), "%d %s", mb_errors[i].status,
			 mb_errors[i].endpoint);
		names[n] = case_name("test_mudbase_error", label,
				     mb_errors[i].service);
		add_case(all, &n, names[n], test_mudbase_error, &mb_errors[i]);
	}
	for (size_t i = 0; i < NELEM(outages); i++) {
		snprintf(label, sizeof(label), "%s %s", outages[i].provider,
			 outages[i].name);
		names[n] = case_name("test_outage", label,
				     outages[i].safe ? "bv_safe" : "bv");
		add_case(all, &n, names[n], test_outage, &outages[i]);
	}
	for (size_t i = 0; i < NELEM(forged); i++) {
		names[n] = case_name("test_tryvox_forged", forged[i].name,
				     forged[i].service);
		add_case(all, &n, names[n], test_tryvox_forged, &forged[i]);
	}
	for (size_t i = 0; i < NELEM(no_failovers); i++) {
		names[n] = case_name("test_no_failover", no_failovers[i].code,
				     no_failovers[i].service);
		add_case(all, &n, names[n], test_no_failover, &no_failovers[i]);
	}

	rc = harness_run("pam_baxverify providers (pam_wrapper)", all, n, only);
	for (size_t i = 0; i < max; i++)
		free(names[i]);
	free(names);
	free(all);
	return rc;
}
