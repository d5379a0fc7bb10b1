/*
 * fuzz_tryvox_response.c - Tryvox's answers: JSON bytes -> result.
 *
 * Input: one byte choosing the HTTP status (fuzz_status) and, by its
 * value / 10, the step the answer is for ("send" or "verify", which
 * matters for VALIDATION_FAILED) and whether validation expects a
 * destination; then FUZZ_ALLOC_BYTES choosing an allocation to fail; then
 * the body.
 *
 * As tvx_request does, the answer goes through tryvox_parse_answer; when
 * that accepts it, through every step's parser (start, check, the status
 * after a wrong code, validate).  The error parser also sees every 2xx
 * body (it must refuse it).
 *
 * Checked: every result is a parser's result; no OK for a non-2xx status
 * or from the error and wrong-code parsers; start's OK comes with an id
 * fit for a URL path, check's with a token; NOMEM only when an allocation
 * failed, and no OK from a call in which one did; attempts_left, once
 * set, is a count between 0 and 100 (no undefined cast of the server's
 * numbers: UBSan); the outcome's texts are safe to log.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "../../src/core/json.h"
#include "../../src/core/wipe.h"
#include "../../src/providers/tryvox.h"

/* The destination of the seeds' answers, and start's id. */
#define DEST "+15551230000"
#define REF "ver_7Qm2"
#define ID_MAX 128

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_alloc_init();
	return 0;
}

/* The step parsers on an accepted answer. */
static void
steps(const cJSON *root, long status, bool any_dest)
{
	struct tryvox_state st = {NULL, 0};
	struct bv_ctx ctx;
	struct bv_outcome out;
	struct bv_proof proof = {NULL, 0};
	unsigned long before;
	enum bv_result rc;
	size_t n;

	memset(&ctx, 0, sizeof(ctx));
	ctx.state = &st;
	ctx.dest = DEST;
	fuzz_outcome_init(&out, "send", status);
	before = fuzz_alloc_failures();
	rc = tryvox_parse_started(&ctx, root, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"tryvox_parse_started");
	if ((rc == BV_OK) != (st.id != NULL))
		fuzz_fail("tryvox_parse_started: OK and id disagree");
	if (st.id != NULL) {
		n = strspn(st.id, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
		if (n == 0 || n > ID_MAX || st.id[n] != '\0')
			fuzz_fail("tryvox_parse_started: an id unfit for "
				  "a URL path");
	}
	/* tvx_check runs only with an id in hand. */
	if (st.id == NULL) {
		st.id = strdup(REF);
		if (st.id == NULL)
			goto out; /* an injected failure: nothing to check */
	}

	fuzz_outcome_init(&out, "verify", status);
	before = fuzz_alloc_failures();
	rc = tryvox_parse_checked(&ctx, root, &proof, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"tryvox_parse_checked");
	if ((rc == BV_OK) != (proof.token != NULL))
		fuzz_fail("tryvox_parse_checked: OK and token disagree");
	if (proof.token != NULL && strcmp(proof.token, st.id) != 0)
		fuzz_fail("tryvox_parse_checked: token is not the id");

	fuzz_outcome_init(&out, "status", status);
	rc = tryvox_parse_wrong_code(root, &out);
	fuzz_check_call(rc, 0, &out, "tryvox_parse_wrong_code");
	if (rc != BV_WRONG_CODE && rc != BV_MAX_ATTEMPTS && rc != BV_EXPIRED)
		fuzz_fail("tryvox_parse_wrong_code returned %d", (int)rc);
	if (out.attempts_left < -1 || out.attempts_left > 100 ||
	    (rc != BV_WRONG_CODE && out.attempts_left != -1))
		fuzz_fail("tryvox_parse_wrong_code: attempts_left %ld",
			  out.attempts_left);

	ctx.dest = any_dest ? NULL : DEST;
	fuzz_outcome_init(&out, "validate", status);
	rc = tryvox_parse_validated(&ctx, root, &out);
	fuzz_check_call(rc, 0, &out, "tryvox_parse_validated");
	if (rc != BV_OK && rc != BV_REJECTED)
		fuzz_fail("tryvox_parse_validated returned %d", (int)rc);
out:
	bv_proof_clear(&proof);
	tryvox_state_clear(&st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = {"send", "verify"};
	struct http_response resp;
	struct bv_outcome out;
	cJSON *root = NULL;
	const char *action;
	bool any_dest, ok2xx;
	unsigned long before;
	enum bv_result rc;

	if (size < 1 + FUZZ_ALLOC_BYTES)
		return 0;
	action = actions[(data[0] / 10) % 2];
	any_dest = (data[0] / 20) % 2 == 1;
	memset(&resp, 0, sizeof(resp));
	resp.status = fuzz_status(data[0]);
	ok2xx = resp.status >= 200 && resp.status < 300;
	resp.len = size - 1 - FUZZ_ALLOC_BYTES;
	resp.body = fuzz_strndup(data + 1 + FUZZ_ALLOC_BYTES, resp.len);

	fuzz_alloc_arm(data + 1);
	fuzz_outcome_init(&out, action, resp.status);
	before = fuzz_alloc_failures();
	rc = tryvox_parse_error(&resp, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"tryvox_parse_error");
	if (rc == BV_OK)
		fuzz_fail("tryvox_parse_error said OK (status %ld)",
			  resp.status);
	if (resp.status >= 500 && rc != BV_UNAVAILABLE)
		fuzz_fail("tryvox_parse_error: a 5xx is not unavailable");

	fuzz_outcome_init(&out, action, resp.status);
	before = fuzz_alloc_failures();
	rc = tryvox_parse_answer(&resp, &root, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"tryvox_parse_answer");
	if (rc == BV_OK && !ok2xx)
		fuzz_fail("tryvox_parse_answer: OK for status %ld",
			  resp.status);
	if ((rc == BV_OK) != (root != NULL))
		fuzz_fail("tryvox_parse_answer: OK and root disagree");
	if (root != NULL &&
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "data")))
		fuzz_fail("tryvox_parse_answer: OK without a data object");
	if (rc == BV_OK)
		steps(root, resp.status, any_dest);
	fuzz_alloc_disarm();
	json_wipe_delete(root);
	bv_free_secret_len(resp.body, resp.len + 1);
	return 0;
}
