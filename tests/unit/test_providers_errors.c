/*
 * test_providers_errors.c - how the Tryvox and Mudbase providers classify
 * the services' errors: tryvox_code_result and mudbase_status_result.
 *
 * The tables follow shared/api/tryvox.md and shared/api/mudbase.md.  What
 * matters most: nothing undocumented is ever a success or a retry, and a
 * user-side mistake (wrong code) is never confused with an account problem.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../src/core/result.h"
#include "../../src/providers/mudbase.h"
#include "../../src/providers/tryvox.h"

/* Both steps a provider classifies errors for. */
static const char *const actions[] = {"send", "verify"};

#define N_ACTIONS (sizeof(actions) / sizeof(actions[0]))

/* --- tryvox_code_result ------------------------------------------------- */

/* Every documented code whose meaning does not depend on the step. */
static const struct {
	const char *code;
	enum bv_result want;
} tvx_codes[] = {
    {"VERIFICATION_FAILED", BV_WRONG_CODE},
    {"MAX_ATTEMPTS_EXCEEDED", BV_MAX_ATTEMPTS},
    {"NOT_FOUND", BV_EXPIRED},
    {"RATE_LIMITED", BV_RATE_LIMITED},
    {"UNAUTHORIZED", BV_REJECTED},
    {"FORBIDDEN", BV_REJECTED},
    {"DELIVERY_FAILED", BV_UNAVAILABLE},
    {"INTERNAL_ERROR", BV_UNAVAILABLE},
};

#define N_TVX_CODES (sizeof(tvx_codes) / sizeof(tvx_codes[0]))

static void
check_tvx(const char *code, const char *action, enum bv_result want)
{
	enum bv_result got = tryvox_code_result(code, action);

	if (got != want)
		fail_msg("tryvox_code_result(\"%s\", \"%s\"): want %s, got %s",
			 code, action, bv_result_name(want),
			 bv_result_name(got));
}

static void
test_tvx_documented_codes(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < N_TVX_CODES; i++)
		for (j = 0; j < N_ACTIONS; j++)
			check_tvx(tvx_codes[i].code, actions[j],
				  tvx_codes[i].want);
}

static void
test_tvx_each_code(void **state)
{
	(void)state;
	/* One line per documented code, to read against the document. */
	assert_int_equal(tryvox_code_result("VERIFICATION_FAILED", "verify"),
			 BV_WRONG_CODE);
	assert_int_equal(tryvox_code_result("MAX_ATTEMPTS_EXCEEDED", "verify"),
			 BV_MAX_ATTEMPTS);
	assert_int_equal(tryvox_code_result("NOT_FOUND", "verify"), BV_EXPIRED);
	assert_int_equal(tryvox_code_result("RATE_LIMITED", "send"),
			 BV_RATE_LIMITED);
	assert_int_equal(tryvox_code_result("UNAUTHORIZED", "send"),
			 BV_REJECTED);
	assert_int_equal(tryvox_code_result("FORBIDDEN", "send"), BV_REJECTED);
	assert_int_equal(tryvox_code_result("DELIVERY_FAILED", "send"),
			 BV_UNAVAILABLE);
	assert_int_equal(tryvox_code_result("INTERNAL_ERROR", "verify"),
			 BV_UNAVAILABLE);
}

static void
test_tvx_validation_failed(void **state)
{
	(void)state;
	/* At start, the refused field is the user's registered destination. */
	assert_int_equal(tryvox_code_result("VALIDATION_FAILED", "send"),
			 BV_BAD_DESTINATION);
	/* At check, it is our request that is wrong: not the user's fault. */
	assert_int_equal(tryvox_code_result("VALIDATION_FAILED", "verify"),
			 BV_REJECTED);
	/* Any other step: never a destination problem, never success. */
	assert_int_equal(tryvox_code_result("VALIDATION_FAILED", "validate"),
			 BV_REJECTED);
}

static void
test_tvx_unknown(void **state)
{
	static const char *const unknown[] = {
	    "",
	    "OK",
	    "SUCCESS",
	    "APPROVED",
	    "verification_failed", /* codes are case-sensitive */
	    "VERIFICATION_FAILED ",
	    " NOT_FOUND",
	    "VERIFICATION_FAILED\n",
	    "NOT_FOUNDX",
	    "NOT_FOUN",
	    "BAXVERIFY_OTP_INVALID", /* another provider's code */
	    "PAYMENT_REQUIRED",
	    "\x1b[2J",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		for (j = 0; j < N_ACTIONS; j++)
			check_tvx(unknown[i], actions[j], BV_REJECTED);
}

static void
test_tvx_never_ok(void **state)
{
	size_t i, j;

	(void)state;
	/* No error code, documented or not, reads as success. */
	for (i = 0; i < N_TVX_CODES; i++)
		for (j = 0; j < N_ACTIONS; j++)
			assert_int_not_equal(
			    tryvox_code_result(tvx_codes[i].code, actions[j]),
			    BV_OK);
	assert_int_not_equal(tryvox_code_result("VALIDATION_FAILED", "send"),
			     BV_OK);
}

/* --- mudbase_status_result ---------------------------------------------- */

/* The intended table (mudbase.c), per status and step. */
static const struct {
	long status;
	enum bv_result send;
	enum bv_result verify;
} mud_table[] = {
    /* send: bad destination; verify: "Invalid or expired OTP" */
    {400, BV_BAD_DESTINATION, BV_WRONG_CODE},
    /* verify: some deployments answer a wrong code with 401 */
    {401, BV_REJECTED, BV_WRONG_CODE},
    {403, BV_REJECTED, BV_REJECTED},
    /* project not found */
    {404, BV_REJECTED, BV_REJECTED},
    /* send: rate limited; verify: too many attempts */
    {429, BV_RATE_LIMITED, BV_MAX_ATTEMPTS},
    /* undocumented */
    {418, BV_REJECTED, BV_REJECTED},
};

static void
check_mud(long status, const char *action, enum bv_result want)
{
	enum bv_result got = mudbase_status_result(status, action);

	if (got != want)
		fail_msg("mudbase_status_result(%ld, \"%s\"): want %s, got %s",
			 status, action, bv_result_name(want),
			 bv_result_name(got));
}

static void
test_mud_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mud_table) / sizeof(mud_table[0]); i++) {
		check_mud(mud_table[i].status, "send", mud_table[i].send);
		check_mud(mud_table[i].status, "verify", mud_table[i].verify);
	}
}

static void
test_mud_each_status(void **state)
{
	(void)state;
	assert_int_equal(mudbase_status_result(400, "send"),
			 BV_BAD_DESTINATION);
	assert_int_equal(mudbase_status_result(400, "verify"), BV_WRONG_CODE);
	assert_int_equal(mudbase_status_result(401, "send"), BV_REJECTED);
	assert_int_equal(mudbase_status_result(401, "verify"), BV_WRONG_CODE);
	assert_int_equal(mudbase_status_result(403, "send"), BV_REJECTED);
	assert_int_equal(mudbase_status_result(403, "verify"), BV_REJECTED);
	assert_int_equal(mudbase_status_result(404, "send"), BV_REJECTED);
	assert_int_equal(mudbase_status_result(404, "verify"), BV_REJECTED);
	assert_int_equal(mudbase_status_result(429, "send"), BV_RATE_LIMITED);
	assert_int_equal(mudbase_status_result(429, "verify"), BV_MAX_ATTEMPTS);
	assert_int_equal(mudbase_status_result(418, "send"), BV_REJECTED);
	assert_int_equal(mudbase_status_result(418, "verify"), BV_REJECTED);
}

static void
test_mud_other_4xx(void **state)
{
	static const long other[] = {402, 405, 409, 410, 413,
				     415, 422, 451, 499};
	size_t i, j;

	(void)state;
	/* Undocumented client errors: an account or setup problem. */
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		for (j = 0; j < N_ACTIONS; j++)
			check_mud(other[i], actions[j], BV_REJECTED);
}

static void
test_mud_never_ok(void **state)
{
	long status;
	size_t j;

	(void)state;
	/* Whatever status reaches the classifier, it is never success. */
	for (status = 0; status < 600; status++)
		for (j = 0; j < N_ACTIONS; j++)
			assert_int_not_equal(
			    mudbase_status_result(status, actions[j]), BV_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tvx_documented_codes),
	    cmocka_unit_test(test_tvx_each_code),
	    cmocka_unit_test(test_tvx_validation_failed),
	    cmocka_unit_test(test_tvx_unknown),
	    cmocka_unit_test(test_tvx_never_ok),
	    cmocka_unit_test(test_mud_table),
	    cmocka_unit_test(test_mud_each_status),
	    cmocka_unit_test(test_mud_other_4xx),
	    cmocka_unit_test(test_mud_never_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
