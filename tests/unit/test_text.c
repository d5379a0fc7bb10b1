/*
 * test_text.c - text_sanitize, code_normalize and bv_consttime_streq.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../src/core/text.h"
#include "../../src/core/wipe.h"

/* Room for a code, with a canary pattern to see what was (not) written. */
struct text_state {
	char dst[64];
	char code[CODE_MAX_DIGITS + 8];
};

static int
setup(void **state)
{
	struct text_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	memset(st->dst, 'Z', sizeof(st->dst));
	memset(st->code, 'Z', sizeof(st->code));
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

/* True when s is valid UTF-8 (no cut or stray sequences). */
static bool
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n, i;

		if (*p < 0x80)
			n = 0;
		else if ((*p & 0xE0) == 0xC0)
			n = 1;
		else if ((*p & 0xF0) == 0xE0)
			n = 2;
		else if ((*p & 0xF8) == 0xF0)
			n = 3;
		else
			return false;
		for (i = 1; i <= n; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		p += n + 1;
	}
	return true;
}

/* True when s holds no C0 control, DEL or UTF-8-encoded C1 control. */
static bool
no_controls(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7F)
			return false;
		if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
			return false;
	}
	return true;
}

/* --- text_sanitize ---------------------------------------------------- */

static void
test_sanitize_plain(void **state)
{
	struct text_state *st = *state;

	text_sanitize(st->dst, sizeof(st->dst), "Wrong code, try again.");
	assert_string_equal(st->dst, "Wrong code, try again.");
}

static void
test_sanitize_null_src(void **state)
{
	struct text_state *st = *state;

	text_sanitize(st->dst, sizeof(st->dst), NULL);
	assert_string_equal(st->dst, "");
}

static void
test_sanitize_empty_src(void **state)
{
	struct text_state *st = *state;

	text_sanitize(st->dst, sizeof(st->dst), "");
	assert_string_equal(st->dst, "");
}

static void
test_sanitize_ansi_escape(void **state)
{
	struct text_state *st = *state;

	/* The ESC is a '?'; what is left is harmless printable text. */
	text_sanitize(st->dst, sizeof(st->dst),
		      "\x1b[31mred\x1b[0m \x1b]0;t\x07");
	assert_string_equal(st->dst, "?[31mred?[0m ?]0;t?");
	assert_null(strchr(st->dst, 0x1b));
}

static void
test_sanitize_crlf_tab(void **state)
{
	struct text_state *st = *state;

	/* No forged log lines. */
	text_sanitize(st->dst, sizeof(st->dst),
		      "line1\r\nJan 1 sshd: Accepted\tpassword");
	assert_string_equal(st->dst, "line1??Jan 1 sshd: Accepted?password");
}

static void
test_sanitize_all_c0(void **state)
{
	struct text_state *st = *state;
	char src[40];
	int i;

	for (i = 1; i < 0x20; i++)
		src[i - 1] = (char)i;
	src[0x1F] = 'a';
	src[0x20] = '\0';
	text_sanitize(st->dst, sizeof(st->dst), src);
	assert_string_equal(st->dst, "???????????????????????????????a");
}

static void
test_sanitize_del(void **state)
{
	struct text_state *st = *state;

	text_sanitize(st->dst, sizeof(st->dst),
		      "a\x7f"
		      "b\x7f");
	assert_string_equal(st->dst, "a?b?");
}

static void
test_sanitize_utf8_c1(void **state)
{
	struct text_state *st = *state;

	/* U+0080, U+009B (CSI) and U+009F are controls (one '?' each, for
	   their two bytes); U+00A0 is not. */
	text_sanitize(st->dst, sizeof(st->dst),
		      "a\xc2\x80"
		      "b\xc2\x9b"
		      "31mc\xc2\x9f"
		      "d\xc2\xa0"
		      "e");
	assert_string_equal(st->dst, "a?b?31mc?d\xc2\xa0"
				     "e");
	assert_true(no_controls(st->dst));
}

static void
test_sanitize_keeps_utf8(void **state)
{
	struct text_state *st = *state;

	text_sanitize(st->dst, sizeof(st->dst),
		      "caf\xc3\xa9 \xe2\x80\xa2 \xf0\x9f\x94\x91");
	assert_string_equal(st->dst,
			    "caf\xc3\xa9 \xe2\x80\xa2 \xf0\x9f\x94\x91");
}

static void
test_sanitize_fits_exactly(void **state)
{
	struct text_state *st = *state;
	char dst[6];

	/* Five characters and the NUL: no cut, no mark. */
	text_sanitize(dst, sizeof(dst), "abcde");
	assert_string_equal(dst, "abcde");
	(void)st;
}

static void
test_sanitize_truncates_ascii(void **state)
{
	struct text_state *st = *state;
	char dst[10];

	text_sanitize(dst, sizeof(dst), "abcdefghijklmnop");
	assert_string_equal(dst, "abcdef...");
	assert_true(strlen(dst) < sizeof(dst));
	(void)st;
}

static void
test_sanitize_truncation_counts_replaced(void **state)
{
	struct text_state *st = *state;
	char dst[8];

	/* A replaced byte takes its room like any other character. */
	text_sanitize(dst, sizeof(dst),
		      "\r\na\x1b"
		      "b\nc\td\x7f"
		      "e");
	assert_string_equal(dst, "??a?...");
	text_sanitize(dst, sizeof(dst),
		      "a\x1b"
		      "b\nc\t");
	assert_string_equal(dst, "a?b?c?");
	(void)st;
}

/*
 * Bytes that are not UTF-8 are replaced, one '?' per byte, never
 * dropped: a user name "\xffroot" must not log as user=root.
 */
static void
test_sanitize_invalid_bytes_visible(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"\xffroot", "?root"},
	    {"ro\xffot", "ro?ot"},
	    {"root\xfe", "root?"},
	    {"\x80\xbf"
	     "admin",
	     "??admin"}, /* lone continuations */
	    {"\xc0\xaf"
	     "etc",
	     "??etc"}, /* overlong '/' */
	    {"\xe0\x80\x9b"
	     "x",
	     "???x"}, /* overlong ESC */
	    {"\xed\xa0\x80"
	     "y",
	     "???y"}, /* a surrogate */
	    {"\xf4\x90\x80\x80"
	     "z",
	     "????z"}, /* past U+10FFFF */
	    {"\xf5\x80"
	     "w",
	     "??w"},
	    {"\x9b"
	     "31m",
	     "?31m"},					/* a lone 8-bit CSI */
	    {"ab\xe2\x80", "ab??"},			/* cut sequence */
	    {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"}, /* valid: kept */
	};
	struct text_state *st = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text_sanitize(st->dst, sizeof(st->dst), cases[i].in);
		if (strcmp(st->dst, cases[i].out) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
				 st->dst, cases[i].out);
		assert_true(utf8_valid(st->dst));
		assert_true(no_controls(st->dst));
		/* Never longer than what came in. */
		assert_true(strlen(st->dst) <= strlen(cases[i].in));
	}
}

static void
test_sanitize_truncation_keeps_utf8_whole(void **state)
{
	struct text_state *st = *state;
	/* Bullets (3 bytes), accents (2 bytes), emoji (4 bytes) at every
	 * possible offset against every buffer size: never a cut sequence. */
	static const char *const srcs[] = {
	    "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"
	    "\xe2\x80\xa2\xe2\x80\xa2",
	    "a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    "ab\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94"
	    "\x91",
	    "x\xe2\x80\xa2y\xc3\xa9z\xf0\x9f\x94\x91w\xe2\x80\xa2v\xc3\xa9",
	};
	size_t i, sz;

	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		for (sz = 5; sz <= strlen(srcs[i]) + 1; sz++) {
			char dst[64];
			size_t n;

			memset(dst, 'Z', sizeof(dst));
			text_sanitize(dst, sz, srcs[i]);
			n = strlen(dst);
			assert_true(n < sz);
			assert_true(utf8_valid(dst));
			if (sz <= strlen(srcs[i])) {
				/* Cut: marked, and what precedes is a prefix.
				 */
				assert_true(n >= 3);
				assert_string_equal(dst + n - 3, "...");
				assert_memory_equal(dst, srcs[i], n - 3);
			} else {
				assert_string_equal(dst, srcs[i]);
			}
		}
	}
	(void)st;
}

static void
test_sanitize_truncation_bullet_example(void **state)
{
	struct text_state *st = *state;
	char dst[8];

	/* "a" + bullet fits in 4 bytes; the cut point (8 - 4 = 4) lands on
	 * a lead byte, so the second bullet goes whole. */
	text_sanitize(dst, sizeof(dst),
		      "a\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2");
	assert_string_equal(dst, "a\xe2\x80\xa2...");
	/* One byte more in front: the cut would land inside a bullet. */
	text_sanitize(dst, sizeof(dst),
		      "ab\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2");
	assert_string_equal(dst, "ab...");
	(void)st;
}

static void
test_sanitize_dstsz_one(void **state)
{
	struct text_state *st = *state;

	text_sanitize(st->dst, 1, "abc");
	assert_int_equal(st->dst[0], '\0');
	assert_int_equal(st->dst[1], 'Z');
}

static void
test_sanitize_dstsz_zero(void **state)
{
	struct text_state *st = *state;

	/* Nothing may be written at all. */
	text_sanitize(st->dst, 0, "abc");
	assert_int_equal(st->dst[0], 'Z');
}

static void
test_sanitize_long_mixed(void **state)
{
	struct text_state *st = *state;
	char src[600];
	size_t i;

	for (i = 0; i + 1 < sizeof(src); i++)
		src[i] = (char)(i % 3 == 0 ? 0x1b : (i % 3 == 1 ? '\n' : 'x'));
	src[sizeof(src) - 1] = '\0';
	text_sanitize(st->dst, sizeof(st->dst), src);
	assert_true(strlen(st->dst) < sizeof(st->dst));
	assert_true(no_controls(st->dst));
	assert_string_equal(st->dst + strlen(st->dst) - 3, "...");
}

/* --- code_normalize --------------------------------------------------- */

static void
test_code_plain(void **state)
{
	struct text_state *st = *state;

	assert_true(code_normalize("123456", st->code, sizeof(st->code)));
	assert_string_equal(st->code, "123456");
}

static void
test_code_spaces_dashes(void **state)
{
	struct text_state *st = *state;

	assert_true(code_normalize("123 456", st->code, sizeof(st->code)));
	assert_string_equal(st->code, "123456");
	assert_true(code_normalize("12-34-56", st->code, sizeof(st->code)));
	assert_string_equal(st->code, "123456");
	assert_true(code_normalize(" 1 2-3 4 ", st->code, sizeof(st->code)));
	assert_string_equal(st->code, "1234");
}

static void
test_code_bounds(void **state)
{
	struct text_state *st = *state;

	assert_true(code_normalize("1234", st->code, sizeof(st->code)));
	assert_string_equal(st->code, "1234");
	assert_true(code_normalize("12345678", st->code, sizeof(st->code)));
	assert_string_equal(st->code, "12345678");
	assert_true(code_normalize("0000", st->code, sizeof(st->code)));
	assert_string_equal(st->code, "0000");
}

static void
test_code_exact_outsz(void **state)
{
	struct text_state *st = *state;
	char out[CODE_MAX_DIGITS + 1];

	assert_true(code_normalize("8765-4321", out, sizeof(out)));
	assert_string_equal(out, "87654321");
	(void)st;
}

/* A rejected code must leave the whole buffer zeroed. */
static void
assert_rejected(struct text_state *st, const char *in)
{
	size_t i;

	memset(st->code, 'Z', sizeof(st->code));
	assert_false(code_normalize(in, st->code, sizeof(st->code)));
	for (i = 0; i < sizeof(st->code); i++)
		assert_int_equal(st->code[i], 0);
}

static void
test_code_rejects_letters(void **state)
{
	assert_rejected(*state, "abc");
	assert_rejected(*state, "12a456");
	assert_rejected(*state, "123456a");
	assert_rejected(*state, "a123456");
}

static void
test_code_rejects_empty(void **state)
{
	assert_rejected(*state, "");
	assert_rejected(*state, "   ");
	assert_rejected(*state, "--");
}

static void
test_code_rejects_length(void **state)
{
	assert_rejected(*state, "123");
	assert_rejected(*state, "1 2 3");
	assert_rejected(*state, "123456789");
	assert_rejected(*state, "1234-5678-9");
}

static void
test_code_rejects_fullwidth(void **state)
{
	/* U+FF11..U+FF14: digits, but not ASCII. */
	assert_rejected(*state, "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"
				"\xef\xbc\x94");
	/* Arabic-Indic digits likewise. */
	assert_rejected(*state, "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4");
}

static void
test_code_rejects_other_punctuation(void **state)
{
	assert_rejected(*state, "123.456");
	assert_rejected(*state, "123_456");
	assert_rejected(*state, "+123456");
	assert_rejected(*state, "123456\n");
}

static void
test_code_wipes_partial(void **state)
{
	struct text_state *st = *state;
	size_t i;

	/* A long digit run, then a letter: the digits already copied go. */
	memset(st->code, 'Z', sizeof(st->code));
	assert_false(code_normalize("1234567x", st->code, sizeof(st->code)));
	for (i = 0; i < sizeof(st->code); i++)
		assert_int_equal(st->code[i], 0);
}

static void
test_code_small_outsz(void **state)
{
	struct text_state *st = *state;
	char out[CODE_MAX_DIGITS];

	/* A buffer too small for the longest code is refused outright. */
	assert_false(code_normalize("1234", out, sizeof(out)));
	(void)st;
}

static void
test_code_null_in(void **state)
{
	struct text_state *st = *state;

	assert_false(code_normalize(NULL, st->code, sizeof(st->code)));
}

/* --- bv_consttime_streq ----------------------------------------------- */

static void
test_streq(void **state)
{
	(void)state;
	assert_true(bv_consttime_streq("abc", "abc"));
	assert_true(bv_consttime_streq("", ""));
	assert_true(bv_consttime_streq("+14155552671", "+14155552671"));
	assert_false(bv_consttime_streq("abc", "abd"));
	assert_false(bv_consttime_streq("abc", "xbc"));
	assert_false(bv_consttime_streq("abc", "ab"));
	assert_false(bv_consttime_streq("ab", "abc"));
	assert_false(bv_consttime_streq("", "a"));
	assert_false(bv_consttime_streq("a", ""));
	assert_false(bv_consttime_streq("abc", "ABC"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_sanitize_plain),
	    T(test_sanitize_null_src),
	    T(test_sanitize_empty_src),
	    T(test_sanitize_ansi_escape),
	    T(test_sanitize_crlf_tab),
	    T(test_sanitize_all_c0),
	    T(test_sanitize_del),
	    T(test_sanitize_utf8_c1),
	    T(test_sanitize_keeps_utf8),
	    T(test_sanitize_fits_exactly),
	    T(test_sanitize_truncates_ascii),
	    T(test_sanitize_truncation_counts_replaced),
	    T(test_sanitize_invalid_bytes_visible),
	    T(test_sanitize_truncation_keeps_utf8_whole),
	    T(test_sanitize_truncation_bullet_example),
	    T(test_sanitize_dstsz_one),
	    T(test_sanitize_dstsz_zero),
	    T(test_sanitize_long_mixed),
	    T(test_code_plain),
	    T(test_code_spaces_dashes),
	    T(test_code_bounds),
	    T(test_code_exact_outsz),
	    T(test_code_rejects_letters),
	    T(test_code_rejects_empty),
	    T(test_code_rejects_length),
	    T(test_code_rejects_fullwidth),
	    T(test_code_rejects_other_punctuation),
	    T(test_code_wipes_partial),
	    T(test_code_small_outsz),
	    T(test_code_null_in),
	    T(test_streq),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
