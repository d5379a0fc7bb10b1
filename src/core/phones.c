/*
 * phones.c - E.164 numbers: checking, masking, and finding a user's.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "groups.h"
#include "phones.h"
#include "wipe.h"

/* A registry this large is a mistake; refuse rather than read forever. */
#define PHONES_MAX_BYTES (1024 * 1024)

bool
phone_is_e164(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s++ != '+' || *s < '1' || *s > '9')
		return false;
	for (; *s != '\0'; s++, n++)
		if (*s < '0' || *s > '9')
			return false;
	return n >= 8 && n <= 15;
}

void
phone_mask(const char *phone, char *out, size_t outsz)
{
	static const char bullets[] = "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"
				      "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"
				      "\xe2\x80\xa2"; /* 7 x U+2022 */
	size_t len = strlen(phone);

	/*
	 * "+", the first digit, a fixed run of bullets, the last four digits:
	 * enough for the user to recognise the phone, and the fixed run does
	 * not even tell an onlooker how long the number is.
	 */
	if (len < 6) {
		snprintf(out, outsz, "%s", bullets);
		return;
	}
	snprintf(out, outsz, "%.2s%s%s", phone, bullets, phone + len - 4);
}

bool
email_is_valid(const char *s)
{
	const char *at, *p;
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	at = strchr(s, '@');
	if (n < 3 || n > EMAIL_MAX || at == NULL || at == s ||
	    strchr(at + 1, '@') != NULL)
		return false;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("\"'\\,;<>()[]#", *p) != NULL)
			return false;
	p = strchr(at + 1, '.');
	return p != NULL && p != at + 1 && p[1] != '\0' && s[n - 1] != '.';
}

void
email_mask(const char *email, char *out, size_t outsz)
{
	const char *at = strchr(email, '@');

	snprintf(out, outsz, "%c\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2%s",
		 email[0], at ? at : "");
}

void
contact_clear(struct bv_contact *c)
{
	free(c->phone);
	free(c->email);
	c->phone = NULL;
	c->email = NULL;
}

/* Put one destination into *phone or *email; false if invalid or a
   second one of its kind (two phones: ambiguous). */
static bool
take_dest(char *dest, char **phone, char **email)
{
	char **slot;

	if (phone_is_e164(dest))
		slot = phone;
	else if (email_is_valid(dest))
		slot = email;
	else
		return false;
	if (*slot != NULL)
		return false;
	*slot = dest;
	return true;
}

enum phones_line
phones_parse_line(char *line, char **user, char **phone, char **email)
{
	char *hash = strchr(line, '#'), *d1, *d2, *extra, *save = NULL;

	*user = *phone = *email = NULL;
	if (hash != NULL)
		*hash = '\0';
	*user = strtok_r(line, " \t\r", &save);
	if (*user == NULL)
		return PHONES_LINE_EMPTY;
	d1 = strtok_r(NULL, " \t\r", &save);
	d2 = strtok_r(NULL, " \t\r", &save);
	extra = strtok_r(NULL, " \t\r", &save);
	if (d1 != NULL && extra == NULL && take_dest(d1, phone, email) &&
	    (d2 == NULL || take_dest(d2, phone, email)))
		return PHONES_LINE_ENTRY;
	*phone = *email = NULL;
	return PHONES_LINE_INVALID;
}

/* c gets copies of phone and email (either may be NULL). */
static enum bv_result
take_contact(const char *phone, const char *email, struct bv_contact *c)
{
	c->phone = phone ? strdup(phone) : NULL;
	c->email = email ? strdup(email) : NULL;
	if ((phone && !c->phone) || (email && !c->email)) {
		contact_clear(c);
		return BV_NOMEM;
	}
	return BV_OK;
}

/*
 * Look for user in the phones file text.  Only the user's first line
 * counts, but every invalid line is reported so the administrator hears
 * of it, and an invalid line of the user's denies.
 */
static enum bv_result
scan_phones(const char *path, char *text, const char *user,
	    const struct bv_log *log, struct bv_contact *c)
{
	enum bv_result rc = BV_OK;
	char *line = text, *next, *name, *phone, *email;
	enum phones_line kind;
	int lineno = 0;
	bool found = false;

	for (; line != NULL && rc != BV_NOMEM; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		kind = phones_parse_line(line, &name, &phone, &email);
		if (kind == PHONES_LINE_EMPTY)
			continue;
		if (kind == PHONES_LINE_INVALID) {
			bv_log(log, LOG_ERR,
			       "%s:%d: invalid phone number or "
			       "email (expected \"user DEST [DEST]\", each "
			       "DEST a +E164 number or an email address)",
			       path, lineno);
			if (strcmp(name, user) == 0)
				rc = BV_CONFIG;
		} else if (!found && strcmp(name, user) == 0) {
			found = true;
			if (take_contact(phone, email, c) != BV_OK)
				rc = BV_NOMEM;
		}
	}
	if (rc != BV_OK)
		contact_clear(c);
	return rc;
}

/*
 * The first comma-separated GECOS field that is an E.164 number.  A
 * passwd entry that cannot be read denies (BV_INTERNAL): read as "no
 * phone", it would let nullok skip the user.
 */
static enum bv_result
gecos_phone(const char *user, const struct bv_log *log, char **phone)
{
	struct passwd pw;
	char *buf = NULL, *field, *save = NULL;
	bool found = false;
	enum bv_result rc;

	rc = groups_getpwnam(user, log, &pw, &buf, &found);
	if (rc != BV_OK || !found)
		goto out;
	for (field = strtok_r(pw.pw_gecos, ",", &save); field != NULL;
	     field = strtok_r(NULL, ",", &save)) {
		field += strspn(field, " ");
		if (!phone_is_e164(field))
			continue;
		*phone = strdup(field);
		rc = *phone ? BV_OK : BV_NOMEM;
		break;
	}
out:
	free(buf);
	return rc;
}

enum bv_result
phones_lookup(const struct bv_config *cfg, const char *user,
	      const struct bv_log *log, struct bv_contact *c)
{
	char *text = NULL;
	size_t len = 0;
	enum bv_result rc;

	c->phone = NULL;
	c->email = NULL;
	rc = cfg_read_trusted_file(cfg->phones_file, false, PHONES_MAX_BYTES,
				   log, &text, &len);
	if (rc != BV_OK)
		goto out;
	rc = scan_phones(cfg->phones_file, text, user, log, c);
	if (rc == BV_OK && c->phone == NULL && cfg->phones_gecos)
		rc = gecos_phone(user, log, &c->phone);
out:
	free(text);
	return rc;
}
