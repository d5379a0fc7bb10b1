/*
 * fuzz_code.c - what the user types at the code prompt: code_normalize
 * and recovery_normalize.
 *
 * Input: the bytes of the answer, as a NUL-terminated string (the PAM
 * conversation gives a C string; bytes after a NUL are not seen).
 *
 * Checked against a plain model of the rule (spaces, tabs and dashes
 * dropped, the rest ASCII digits, CODE_MIN_DIGITS..CODE_MAX_DIGITS of
 * them, or exactly RECOVERY_DIGITS): accepted exactly when the model
 * says so, the output is those digits, and a refusal leaves the output
 * buffer all zero (it may have held part of a code).  A buffer too small
 * is always refused.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../src/core/text.h"
#include "../../src/core/wipe.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The model: the kept digits of in into want; false if any other byte. */
static bool
model(const char *in, char *want, size_t wantsz, size_t *n)
{
	*n = 0;
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '\t' || *in == '-')
			continue;
		if (*in < '0' || *in > '9')
			return false;
		if (*n + 1 < wantsz)
			want[*n] = *in;
		(*n)++;
	}
	want[*n + 1 < wantsz ? *n : wantsz - 1] = '\0';
	return true;
}

static bool
all_zero(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != '\0')
			return false;
	return true;
}

/* One normaliser against the model, with room for max digits. */
static void
check(bool (*norm)(const char *, char *, size_t), const char *name,
      const char *in, size_t min, size_t max)
{
	char out[RECOVERY_DIGITS + 8], want[RECOVERY_DIGITS + 8];
	size_t n;
	bool digits = model(in, want, sizeof(want), &n);
	bool expect = digits && n >= min && n <= max;
	bool got;

	memset(out, 'x', sizeof(out));
	got = norm(in, out, max + 1);
	if (got != expect)
		fuzz_fail("%s: %s, the model says %s", name,
			  got ? "accepted" : "refused",
			  expect ? "accept" : "refuse");
	if (got && strcmp(out, want) != 0)
		fuzz_fail("%s: output is not the typed digits", name);
	if (got && strspn(out, "0123456789") != strlen(out))
		fuzz_fail("%s: output holds a non-digit", name);
	if (!got && !all_zero(out, max + 1))
		fuzz_fail("%s: refused but the buffer was not wiped", name);
	/* Bytes past the size given must be left alone. */
	if (out[max + 1] != 'x')
		fuzz_fail("%s: wrote past the buffer size", name);
	/* One byte short of room for max digits and the NUL: refused. */
	if (norm(in, out, max))
		fuzz_fail("%s: accepted a buffer of %zu bytes", name, max);
	explicit_bzero(out, sizeof(out));
	explicit_bzero(want, sizeof(want));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_strndup(data, size);

	check(code_normalize, "code_normalize", in, CODE_MIN_DIGITS,
	      CODE_MAX_DIGITS);
	check(recovery_normalize, "recovery_normalize", in, RECOVERY_DIGITS,
	      RECOVERY_DIGITS);
	bv_free_secret(in);
	return 0;
}
