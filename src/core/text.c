/*
 * text.c - sanitising remote text, normalising typed codes.
 */
#include "config.h"

#include <string.h>

#include "text.h"

/*
 * Length of the well-formed UTF-8 sequence at s (1 for ASCII), or 0 when
 * the bytes there are not one: such a byte is replaced, which also
 * disarms a lone 0x9B that an 8-bit terminal would read as CSI.
 * Well-formed is RFC 3629's table: no overlong forms (E0 80 9B would be
 * ESC, E0 82 9B CSI, to a lenient decoder, past the control checks
 * below), no surrogates, nothing beyond U+10FFFF.
 */
static size_t
utf8_len(const unsigned char *s)
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
		lo = 0xA0; /* below: overlong */
	else if (s[0] == 0xED)
		hi = 0x9F; /* above: U+D800..U+DFFF, surrogates */
	else if (s[0] == 0xF0)
		lo = 0x90; /* below: overlong */
	else if (s[0] == 0xF4)
		hi = 0x8F; /* above: past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* C0 controls, DEL, and C1 controls (U+0080..U+009F), of length n. */
static bool
is_control(const unsigned char *s, size_t n)
{
	return (n == 1 && (*s < 0x20 || *s == 0x7F)) ||
	       (n == 2 && s[0] == 0xC2 && s[1] <= 0x9F);
}

/*
 * Each control character and each byte that is not UTF-8 becomes one
 * '?', never nothing: dropped, "\xffroot" would log as user=root, a
 * different and valid name.  So the output is never longer than the
 * input, and nothing is lost without a trace.
 */
void
text_sanitize(char *dst, size_t dstsz, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	const unsigned char *piece;
	size_t o = 0, n = 0, len;
	bool cut = false;

	if (dstsz == 0)
		return;
	dst[0] = '\0';
	if (s == NULL)
		return;
	for (; *s != '\0'; s += n) {
		n = utf8_len(s);
		piece = s;
		len = n;
		if (n == 0 || is_control(s, n)) {
			piece = (const unsigned char *)"?";
			len = 1;
			n = n == 0 ? 1 : n;
		}
		if (o + len >= dstsz) {
			cut = true;
			break;
		}
		memcpy(dst + o, piece, len);
		o += len;
	}
	dst[o] = '\0';
	if (cut && dstsz > 4) {
		/* Make room for the mark on a character boundary. */
		o = o < dstsz - 4 ? o : dstsz - 4;
		while (o > 0 && ((unsigned char)dst[o] & 0xC0) == 0x80)
			o--;
		memcpy(dst + o, "...", 4);
	}
}

/* Keep the digits of in, dropping spaces, tabs and dashes. */
static bool
digits_only(const char *in, char *out, size_t outsz, size_t min, size_t max)
{
	size_t n = 0;

	if (in == NULL || outsz < max + 1)
		return false;
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-' || *in == '\t')
			continue;
		if (*in < '0' || *in > '9' || n >= max)
			goto bad;
		out[n++] = *in;
	}
	if (n < min)
		goto bad;
	out[n] = '\0';
	return true;
bad:
	explicit_bzero(out, outsz);
	return false;
}

bool
code_normalize(const char *in, char *out, size_t outsz)
{
	return digits_only(in, out, outsz, CODE_MIN_DIGITS, CODE_MAX_DIGITS);
}

bool
recovery_normalize(const char *in, char *out, size_t outsz)
{
	return digits_only(in, out, outsz, RECOVERY_DIGITS, RECOVERY_DIGITS);
}
