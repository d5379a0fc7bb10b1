/*
 * fuzz_text.c - text_sanitize, the filter between remote or user-typed
 * text and syslog or the user's terminal.
 *
 * Input: the bytes of the text, as a NUL-terminated string, sanitised
 * into buffers of several sizes (a guard byte after each).
 *
 * Checked: the output ends within the buffer and nothing is written past
 * it; it holds no C0 control, DEL or C1 control (U+0080..U+009F); it is
 * well-formed UTF-8 by RFC 3629 (no overlong forms, no surrogates,
 * nothing past U+10FFFF: a lenient terminal or log viewer could decode
 * an overlong form into ESC or CSI); it is never longer than the input;
 * and with room to spare, sanitising is idempotent and nothing goes
 * without a trace: an output that differs from its input holds more
 * '?' than it (a dropped byte could turn "\xffroot" into "root").
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../src/core/text.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Length of the RFC 3629 sequence at s, 0 when it is not one. */
static size_t
utf8_strict(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0; /* shorter forms are overlong */
	else if (s[0] == 0xED)
		hi = 0x9F; /* U+D800..U+DFFF are surrogates */
	else if (s[0] == 0xF0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xF4)
		hi = 0x8F; /* past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

static size_t
count_marks(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '?';
	return n;
}

static void
check_output(const char *out, size_t size, const char *in)
{
	const unsigned char *s = (const unsigned char *)out;
	size_t n;

	if (memchr(out, '\0', size) == NULL)
		fuzz_fail("text_sanitize(%zu): output not terminated", size);
	if (out[size] != 'G')
		fuzz_fail("text_sanitize(%zu): wrote past the buffer", size);
	for (; *s != '\0'; s += n) {
		if (*s < 0x20 || *s == 0x7F)
			fuzz_fail("text_sanitize(%zu): control byte 0x%02x",
				  size, *s);
		n = utf8_strict(s);
		if (n == 0)
			fuzz_fail("text_sanitize(%zu): not UTF-8 at offset "
				  "%zu (input %zu bytes)",
				  size, (size_t)(s - (const unsigned char *)out),
				  strlen(in));
		if (n == 2 && s[0] == 0xC2 && s[1] <= 0x9F)
			fuzz_fail("text_sanitize(%zu): C1 control", size);
	}
	if (strlen(out) > strlen(in))
		fuzz_fail("text_sanitize(%zu): output longer than the input",
			  size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 5, 6, 8, 16, 64, 128, 256 };
	char *in = fuzz_strndup(data, size), *out, *again;
	size_t i, big = strlen(in) + 1;

	/* A zero size must write nothing at all. */
	out = fuzz_strndup((const uint8_t *)"G", 1);
	text_sanitize(out, 0, in);
	if (out[0] != 'G')
		fuzz_fail("text_sanitize(0) wrote to the buffer");
	free(out);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		out = malloc(sizes[i] + 1);
		if (out == NULL)
			fuzz_fail("out of memory");
		memset(out, 'G', sizes[i] + 1);
		text_sanitize(out, sizes[i], in);
		check_output(out, sizes[i], in);
		free(out);
	}
	/* Room for all of it: nothing is cut, and a second pass is a no-op. */
	out = malloc(big + 1);
	again = malloc(big + 1);
	if (out == NULL || again == NULL)
		fuzz_fail("out of memory");
	memset(out, 'G', big + 1);
	memset(again, 'G', big + 1);
	text_sanitize(out, big, in);
	check_output(out, big, in);
	if (strcmp(out, in) != 0 && count_marks(out) <= count_marks(in))
		fuzz_fail("text_sanitize changed the text without a '?'");
	text_sanitize(again, big, out);
	check_output(again, big, in);
	if (strcmp(out, again) != 0)
		fuzz_fail("text_sanitize is not idempotent");
	text_sanitize(out, big, NULL);
	if (out[0] != '\0')
		fuzz_fail("text_sanitize(NULL) is not empty");
	free(out);
	free(again);
	free(in);
	return 0;
}
