/*
 * fuzz_baxverify_response.c - BaxVerify's answers: JSON bytes -> result.
 *
 * Input: one byte choosing the HTTP status (fuzz_status) and, by its
 * value / 10, whether validate-token runs with no expected phone; then
 * FUZZ_ALLOC_BYTES choosing an allocation to fail; then the body.
 *
 * As bax_post does, a non-2xx answer goes to baxverify_parse_error; a 2xx
 * answer to the verify and validate-token parsers.  The error parser also
 * sees every 2xx body (it must refuse it).
 *
 * Checked: every result is a parser's result; the error parser never
 * says OK; OK from verify comes with a token and a future expiry, and
 * anything else with no token; NOMEM only when an allocation failed, and
 * no OK from a call in which one did; the outcome's texts are safe to log.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "../../src/core/wipe.h"
#include "../../src/providers/baxverify.h"

/* The phone of the seeds' answers. */
#define DEST "+15551230000"

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
	struct bv_ctx ctx;
	struct http_response resp;
	struct bv_outcome out;
	struct bv_proof proof = {NULL, 0};
	unsigned long before;
	enum bv_result rc;
	bool any_dest;

	if (size < 1 + FUZZ_ALLOC_BYTES)
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	memset(&resp, 0, sizeof(resp));
	ctx.dest = DEST;
	resp.status = fuzz_status(data[0]);
	any_dest = (data[0] / 10) % 2 == 1;
	resp.len = size - 1 - FUZZ_ALLOC_BYTES;
	resp.body = fuzz_strndup(data + 1 + FUZZ_ALLOC_BYTES, resp.len);

	fuzz_alloc_arm(data + 1);
	memset(&out, 0, sizeof(out));
	out.action = "verify";
	before = fuzz_alloc_failures();
	rc = baxverify_parse_error(resp.status, resp.body, resp.len, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"baxverify_parse_error");
	if (rc == BV_OK)
		fuzz_fail("baxverify_parse_error said OK (status %ld)",
			  resp.status);
	if (out.http_status != resp.status)
		fuzz_fail("baxverify_parse_error: http_status not set");
	if (resp.status < 200 || resp.status >= 300)
		goto out;

	memset(&out, 0, sizeof(out));
	out.action = "verify";
	out.http_status = resp.status;
	before = fuzz_alloc_failures();
	rc = baxverify_parse_verified(&ctx, &resp, &proof, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"baxverify_parse_verified");
	if (rc == BV_OK &&
	    (proof.token == NULL || proof.token[0] == '\0' ||
	     strlen(proof.token) > 8192 || proof.expires <= time(NULL) - 1))
		fuzz_fail("baxverify_parse_verified: OK without a good proof");
	if (rc != BV_OK && proof.token != NULL)
		fuzz_fail("baxverify_parse_verified: a token without OK");

	memset(&out, 0, sizeof(out));
	out.action = "validate";
	out.http_status = resp.status;
	ctx.dest = any_dest ? NULL : DEST;
	before = fuzz_alloc_failures();
	rc = baxverify_parse_valid(&ctx, &resp, &out);
	fuzz_check_call(rc, fuzz_alloc_failures() - before, &out,
			"baxverify_parse_valid");
	if (rc != BV_OK && rc != BV_REJECTED && rc != BV_UNAVAILABLE)
		fuzz_fail("baxverify_parse_valid returned %d", (int)rc);
out:
	fuzz_alloc_disarm();
	bv_proof_clear(&proof);
	bv_free_secret_len(resp.body, resp.len + 1);
	return 0;
}
