/*
 * text.h - making remote and user-typed text safe to show and to log,
 * and normalising what the user types at the code prompt.
 */
#ifndef BV_TEXT_H
#define BV_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copy src into dst (size dstsz, always NUL-terminated), replacing each
 * C0 or C1 control character, DEL, and each byte that is not part of
 * well-formed UTF-8 with '?', so that a server cannot put escape
 * sequences on a user's terminal or forge lines in syslog, and a name
 * with such bytes never shows as another, valid one ("\xffroot" is
 * "?root", not "root").  The result is never longer than src.  Long text
 * is cut and marked with "...".  src may be NULL (gives "").
 */
void text_sanitize(char *dst, size_t dstsz, const char *src);

/* Shortest and longest code the prompt accepts, in digits. */
#define CODE_MIN_DIGITS 4
#define CODE_MAX_DIGITS 8

/*
 * Normalise a typed code: spaces and dashes are dropped, what is left must
 * be CODE_MIN_DIGITS..CODE_MAX_DIGITS ASCII digits.  On success the digits
 * are in out (size outsz >= CODE_MAX_DIGITS + 1) and true is returned; on
 * failure out is wiped and false is returned.
 */
bool code_normalize(const char *in, char *out, size_t outsz);

/* Digits of a recovery code ("1234-5678-9012"): longer than any code. */
#define RECOVERY_DIGITS 12

/*
 * Normalise a typed recovery code: spaces and dashes dropped, exactly
 * RECOVERY_DIGITS digits.  out needs RECOVERY_DIGITS + 1 bytes; wiped on
 * failure.
 */
bool recovery_normalize(const char *in, char *out, size_t outsz);

#endif /* BV_TEXT_H */
