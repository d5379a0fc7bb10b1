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

/*
 * Look for user in the phones file text.  Lines: "user +E164", '#' starts
 * a comment.  Only the user's own lines matter, but every invalid line is
 * reported so the administrator hears of it.
 */
static enum bv_result
scan_phones(const char *path, char *text, const char *user,
	    const struct bv_log *log, char **phone)
{
	enum bv_result rc = BV_OK;
	char *line = text, *next, *save = NULL;
	int lineno = 0;

	for (; line != NULL; line = next) {
		char *name, *num, *extra, *hash;

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
		num = strtok_r(NULL, " \t\r", &save);
		extra = strtok_r(NULL, " \t\r", &save);
		if (num == NULL || extra != NULL || !phone_is_e164(num)) {
			bv_log(log, LOG_ERR, "%s:%d: invalid phone number "
			       "(expected \"user +E164\")", path, lineno);
			if (strcmp(name, user) == 0)
				rc = BV_CONFIG;
			continue;
		}
		if (strcmp(name, user) != 0 || *phone != NULL)
			continue;
		*phone = strdup(num);
		if (*phone == NULL)
			return BV_NOMEM;
	}
	if (rc != BV_OK) {
		free(*phone);
		*phone = NULL;
	}
	return rc;
}

/* The first comma-separated GECOS field that is an E.164 number. */
static enum bv_result
gecos_phone(const char *user, char **phone)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *field, *save = NULL;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return BV_OK;
	for (field = strtok_r(pw.pw_gecos, ",", &save); field != NULL;
	     field = strtok_r(NULL, ",", &save)) {
		field += strspn(field, " ");
		if (!phone_is_e164(field))
			continue;
		*phone = strdup(field);
		return *phone ? BV_OK : BV_NOMEM;
	}
	return BV_OK;
}

enum bv_result
phones_lookup(const struct bv_config *cfg, const char *user,
	      const struct bv_log *log, char **phone)
{
	char *text = NULL;
	size_t len = 0;
	enum bv_result rc;

	*phone = NULL;
	rc = cfg_read_trusted_file(cfg->phones_file, false, PHONES_MAX_BYTES,
				   log, &text, &len);
	if (rc != BV_OK)
		goto out;
	rc = scan_phones(cfg->phones_file, text, user, log, phone);
	if (rc == BV_OK && *phone == NULL && cfg->phones_gecos)
		rc = gecos_phone(user, phone);
out:
	free(text);
	return rc;
}
