/*
 * text.c - sanitising remote text, normalising typed codes.
 */
#include "config.h"

#include <string.h>

#include "text.h"

void
text_sanitize(char *dst, size_t dstsz, const char *src)
{
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)src;

	if (dstsz == 0)
		return;
	dst[0] = '\0';
	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		/* C1 controls arrive in UTF-8 as 0xC2 0x80..0x9F. */
		if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F) {
			s++;
			continue;
		}
		if (*s < 0x20 || *s == 0x7F)
			continue;
		if (o + 1 >= dstsz)
			break;
		dst[o++] = (char)*s;
	}
	dst[o] = '\0';
	if (*s != '\0' && dstsz > 4) {
		/* Cut: do not leave half a UTF-8 sequence before the mark. */
		o = dstsz - 4;
		while (o > 0 && ((unsigned char)dst[o] & 0xC0) == 0x80)
			o--;
		memcpy(dst + o, "...", 4);
	}
}

bool
code_normalize(const char *in, char *out, size_t outsz)
{
	size_t n = 0;

	if (in == NULL || outsz < CODE_MAX_DIGITS + 1)
		return false;
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-' || *in == '\t')
			continue;
		if (*in < '0' || *in > '9' || n >= CODE_MAX_DIGITS)
			goto bad;
		out[n++] = *in;
	}
	if (n < CODE_MIN_DIGITS)
		goto bad;
	out[n] = '\0';
	return true;
bad:
	explicit_bzero(out, outsz);
	return false;
}
