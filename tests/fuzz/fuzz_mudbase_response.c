/*
 * fuzz_mudbase_response.c - Mudbase's answers: JSON bytes -> result.
 *
 * Input: one byte choosing the HTTP status (fuzz_status) and, by its
 * value / 10, the step the answer is for ("send" or "verify": Mudbase's
 * statuses mean different things at each); then FUZZ_ALLOC_BYTES choosing
 * an allocation to fail; then the body.
 *
 * As mud_post does, the answer goes through mudbase_parse_answer; when
 * that accepts a verify answer, through mudbase_parse_verified.  The
 * error parser also sees every 2xx body (it must refuse it).
 *
 * Checked: every result is a parser's result; no OK for a non-2xx status
 * or from the error parser; any 5xx is "unavailable"; verify's OK comes
 * with a token and a future expiry, anything else with no token; NOMEM
 * only when an allocation failed, and no OK from a call in which one did;
 * the outcome's texts are safe to log.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "../../src/core/json.h"
#include "../../src/core/wipe.h"
#include "../../src/providers/mudbase.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_alloc_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = {"send", "verify"};
	struct http_response resp;
	struct bv_outcome out;
	struct bv_proof proof = {NULL, 0};
	cJSON *root = NULL;
	const char *action;
	unsigned long before;
	enum bv_result rc;

	if (size < 1 + FUZZ_ALLOC_BYTES)
		return 0;
	action = actions[(data[0] / 10) % 2];
	memset(&resp, 0, sizeof(resp));
	resp.status = fuzz_status(data[0]);
	resp.len = size - 1 - FUZZ_ALLOC_BYTES;
	resp.body = fuzz_strndup(data + 1 + FUZZ_ALLOC_BYTES, resp.len);

	fuzz_alloc_arm(data + 1);
	fuzz_outcome_init(&out, action, resp.status);
	before = fuzz_alloc_failures();
	rc = mudbase_parse_error(&resp, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"mudbase_parse_error");
	if (rc == BV_OK)
		fuzz_fail("mudbase_parse_error said OK (status %ld)",
			  resp.status);
	if (resp.status >= 500 && rc != BV_UNAVAILABLE)
		fuzz_fail("mudbase_parse_error: a 5xx is not unavailable");

	fuzz_outcome_init(&out, action, resp.status);
	before = fuzz_alloc_failures();
	rc = mudbase_parse_answer(&resp, &root, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"mudbase_parse_answer");
	if (rc == BV_OK && (resp.status < 200 || resp.status >= 300))
		fuzz_fail("mudbase_parse_answer: OK for status %ld",
			  resp.status);
	if ((rc == BV_OK) != (root != NULL) ||
	    (root != NULL && !cJSON_IsObject(root)))
		fuzz_fail("mudbase_parse_answer: OK and object disagree");
	if (rc != BV_OK)
		goto out;

	fuzz_outcome_init(&out, "verify", resp.status);
	before = fuzz_alloc_failures();
	rc = mudbase_parse_verified(root, &proof, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"mudbase_parse_verified");
	if (rc == BV_OK &&
	    (proof.token == NULL || proof.token[0] == '\0' ||
	     strlen(proof.token) > 8192 || proof.expires <= time(NULL) - 1))
		fuzz_fail("mudbase_parse_verified: OK without a good proof");
	if (rc != BV_OK && proof.token != NULL)
		fuzz_fail("mudbase_parse_verified: a token without OK");
out:
	fuzz_alloc_disarm();
	bv_proof_clear(&proof);
	json_wipe_delete(root);
	bv_free_secret_len(resp.body, resp.len + 1);
	return 0;
}
