/*
 * fuzz_text.c - text_sanitize, the filter between remote or user-typed
 * text and syslog or the user's terminal, checked against an oracle.
 *
 * Input: the bytes of the text, as a NUL-terminated string, sanitised
 * into buffers of several sizes (a guard byte after each).
 *
 * The oracle is independent of text.c: it decodes the input with the C
 * library's mbrtowc(3) in the C.UTF-8 locale, one character at a time
 * from a fresh state, and builds what text.h promises from that:
 *   - a character mbrtowc decodes, that RFC 3629 allows (glibc also
 *     takes the old 5- and 6-byte forms and code points past U+10FFFF:
 *     those are refused here) and that is not a control (C0, DEL, C1 =
 *     U+0080..U+009F), is copied as it is;
 *   - a control character becomes one '?' (all of its bytes);
 *   - a byte that does not start such a character (mbrtowc says invalid
 *     or incomplete) becomes one '?', and decoding goes on at the next
 *     byte - never dropped: "\xffroot" must not show as "root".
 * With room for all of it (a buffer of strlen(input) + 1) the output must
 * be exactly that.  With less, it must be the longest prefix of it that
 * ends on a character boundary and leaves room for the NUL and, when the
 * buffer has more than 4 bytes, the "..." mark after it.  Nothing may be
 * written past the buffer; a zero size writes nothing; sanitising the
 * output again changes nothing; NULL gives "".
 */
#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fuzz.h"
#include "../../src/core/text.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		fuzz_fail("no C.UTF-8 locale: the oracle needs it");
	return 0;
}

/* What text_sanitize must make of a text, with unlimited room. */
struct expected {
	char *text;	/* the whole output */
	size_t len;	/* strlen(text) */
	size_t *bounds; /* bounds[i]: the end of the i-th character */
	size_t nbounds;
};

/* May this decoded character reach a log or a terminal as it is? */
static bool
printable(wchar_t wc)
{
	if (wc < 0x20 || (wc >= 0x7F && wc <= 0x9F))
		return false; /* C0, DEL, C1 */
	if (wc >= 0xD800 && wc <= 0xDFFF)
		return false; /* surrogates: not characters */
	return wc <= 0x10FFFF;
}

static void
oracle(const char *in, struct expected *e)
{
	size_t inlen = strlen(in), i = 0, n, len;
	const char *piece;
	mbstate_t st;
	wchar_t wc;

	/* Never longer than the input: one output byte or more per byte. */
	e->text = malloc(inlen + 1);
	e->bounds = malloc((inlen + 1) * sizeof(*e->bounds));
	if (e->text == NULL || e->bounds == NULL)
		fuzz_fail("out of memory");
	e->len = 0;
	e->nbounds = 0;
	while (i < inlen) {
		memset(&st, 0, sizeof(st));
		n = mbrtowc(&wc, in + i, inlen - i, &st);
		piece = in + i;
		len = n;
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			piece = "?";
			len = 1;
			n = 1;
		} else if (!printable(wc)) {
			piece = "?";
			len = 1;
			/* A surrogate or a code point past U+10FFFF is not
			   a character: each of its bytes is replaced. */
			if (wc > 0x10FFFF || (wc >= 0xD800 && wc <= 0xDFFF))
				n = 1;
		}
		memcpy(e->text + e->len, piece, len);
		e->len += len;
		e->bounds[e->nbounds++] = e->len;
		i += n;
	}
	e->text[e->len] = '\0';
}

/* The longest prefix of e ending on a character boundary, at most max
   bytes long. */
static size_t
longest_prefix(const struct expected *e, size_t max)
{
	size_t i, best = 0;

	for (i = 0; i < e->nbounds && e->bounds[i] <= max; i++)
		best = e->bounds[i];
	return best;
}

/* out (from a buffer of size bytes, guard byte after it) against e. */
static void
check_output(const char *out, size_t size, const struct expected *e)
{
	size_t keep;

	if (memchr(out, '\0', size) == NULL)
		fuzz_fail("text_sanitize(%zu): output not terminated", size);
	if (out[size] != 'G')
		fuzz_fail("text_sanitize(%zu): wrote past the buffer", size);
	if (e->len < size) {
		if (strcmp(out, e->text) != 0)
			fuzz_fail("text_sanitize(%zu): \"%s\", the oracle says "
				  "\"%s\"",
				  size, out, e->text);
		return;
	}
	/* Cut: the mark when there is room for it. */
	keep = longest_prefix(e, size > 4 ? size - 4 : size - 1);
	if (strncmp(out, e->text, keep) != 0 ||
	    strcmp(out + keep, size > 4 ? "..." : "") != 0)
		fuzz_fail("text_sanitize(%zu): cut as \"%s\"; the oracle "
			  "keeps %zu bytes of \"%s\"%s",
			  size, out, keep, e->text,
			  size > 4 ? " then \"...\"" : "");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = {1, 2, 3, 4, 5, 6, 8, 16, 64, 128, 256};
	char *in = fuzz_strndup(data, size), *out, *again;
	size_t i, big = strlen(in) + 1;
	struct expected e;

	oracle(in, &e);
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
		check_output(out, sizes[i], &e);
		free(out);
	}
	/* Room for all of it: exactly the oracle's, and a second pass is a
	   no-op. */
	out = malloc(big + 1);
	again = malloc(big + 1);
	if (out == NULL || again == NULL)
		fuzz_fail("out of memory");
	memset(out, 'G', big + 1);
	memset(again, 'G', big + 1);
	text_sanitize(out, big, in);
	check_output(out, big, &e);
	text_sanitize(again, big, out);
	if (strcmp(out, again) != 0)
		fuzz_fail("text_sanitize is not idempotent");
	text_sanitize(out, big, NULL);
	if (out[0] != '\0')
		fuzz_fail("text_sanitize(NULL) is not empty");
	free(out);
	free(again);
	free(e.text);
	free(e.bounds);
	free(in);
	return 0;
}
