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
	return p != NULL && p != at + 1 && p[1] != '\0' &&
	       s[n - 1] != '.';
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

/* Put one destination of the user's line into c; false if invalid. */
static bool
take_dest(const char *dest, struct bv_contact *c, bool *nomem)
{
	char **slot;

	if (phone_is_e164(dest))
		slot = &c->phone;
	else if (email_is_valid(dest))
		slot = &c->email;
	else
		return false;
	if (*slot != NULL)
		return false; /* two phones or two emails: ambiguous */
	*slot = strdup(dest);
	if (*slot == NULL)
		*nomem = true; /* never cleared by a later success */
	return true;
}

/*
 * Look for user in the phones file text.  Lines: "user DEST [DEST]", '#'
 * starts a comment.  Only the user's first line counts, but every invalid
 * line is reported so the administrator hears of it.
 */
static enum bv_result
scan_phones(const char *path, char *text, const char *user,
	    const struct bv_log *log, struct bv_contact *c)
{
	enum bv_result rc = BV_OK;
	char *line = text, *next, *save = NULL;
	int lineno = 0;
	bool found = false;

	for (; line != NULL; line = next) {
		struct bv_contact tmp = { NULL, NULL };
		char *name, *d1, *d2, *extra, *hash;
		bool nomem = false, ok, mine;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		name = strtok_r(line, " \t\r", &save);
		if (name == NULL)
			continue;
		d1 = strtok_r(NULL, " \t\r", &save);
		d2 = strtok_r(NULL, " \t\r", &save);
		extra = strtok_r(NULL, " \t\r", &save);
		mine = strcmp(name, user) == 0;
		ok = d1 != NULL && extra == NULL &&
		     take_dest(d1, &tmp, &nomem) &&
		     (d2 == NULL || take_dest(d2, &tmp, &nomem));
		if (nomem) {
			contact_clear(&tmp);
			return BV_NOMEM;
		}
		if (!ok) {
			bv_log(log, LOG_ERR, "%s:%d: invalid phone number or "
			       "email (expected \"user DEST [DEST]\", each "
			       "DEST a +E164 number or an email address)",
			       path, lineno);
			if (mine)
				rc = BV_CONFIG;
		}
		/* The first valid line counts; any invalid one denies. */
		if (mine && ok && !found) {
			found = true;
			*c = tmp;
		} else {
			contact_clear(&tmp);
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
