/*
 * phones.h - the phone registry: which number belongs to which user.
 *
 * Sources, in order: the phones file ("username +E164 [email]" per line),
 * then, when enabled, the GECOS field of the user's passwd entry.
 */
#ifndef BV_PHONES_H
#define BV_PHONES_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "result.h"

struct bv_config;

/* Longest E.164 number: "+" and 15 digits. */
#define PHONE_MAX 16

/* True when s is "+" followed by 8 to 15 digits, the first not 0. */
bool phone_is_e164(const char *s);

/*
 * Write a masked form of an E.164 number for display: the "+", the first
 * digit, seven bullets (U+2022) and the last four digits, whatever the
 * length, e.g. "+1•••••••2671".  out needs at least 28 bytes.
 */
void phone_mask(const char *phone, char *out, size_t outsz);

/* Longest email address we accept (RFC 5321 path limit). */
#define EMAIL_MAX 254

/* A plain address: one "@", a dotted domain, no spaces or quotes. */
bool email_is_valid(const char *s);

/*
 * "a•••@example.com": the first character, bullets, the domain.  out
 * needs strlen(email) + 12 bytes; a shorter buffer cuts the domain.
 */
void email_mask(const char *email, char *out, size_t outsz);

/* Where a user's codes may go; either may be NULL. */
struct bv_contact {
	char *phone; /* E.164 */
	char *email;
};

void contact_clear(struct bv_contact *c);

/* What one line of the phones file is. */
enum phones_line {
	PHONES_LINE_EMPTY = 0, /* blank or only a comment */
	PHONES_LINE_ENTRY,     /* "user DEST [DEST]" */
	PHONES_LINE_INVALID    /* anything else: the user it names is refused */
};

/*
 * Split one line of the phones file (no newline) in place: '#' starts a
 * comment; fields are separated by blanks; each DEST is an E.164 number
 * or an email address, at most one of each.  *user, *phone and *email
 * point into line (NULL when absent; *user is set for an invalid line
 * that has one).  The module's lookup and baxverify list read the file
 * with this, so they never disagree about a line.
 */
enum phones_line phones_parse_line(char *line, char **user, char **phone,
				   char **email);

/*
 * Find user's phone and email.  Lines of the phones file are
 * "user DEST [DEST]", each DEST an E.164 number or an email address.
 * Returns BV_OK (either or both fields may stay NULL when the user has
 * none), BV_CONFIG when the registry cannot be read or the user's own
 * entry is invalid (a typo must not look like "no phone", which nullok
 * would wave through), BV_INTERNAL when phones.gecos is on and the
 * user's passwd entry cannot be read (logged), or BV_NOMEM.
 */
enum bv_result phones_lookup(const struct bv_config *cfg, const char *user,
			     const struct bv_log *log, struct bv_contact *c);

#endif /* BV_PHONES_H */
