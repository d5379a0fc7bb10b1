/*
 * record.c - the text form of a store record.
 *
 *   version 1
 *   code HASH EXPIRES ATTEMPTS   (one line per live code)
 *   token HASH EXPIRES           (one line per live proof)
 *   send TIME            (one line per recent send)
 *   failures N
 *   locked_until TIME
 *   recovery HASH        (one line per unused recovery code)
 *   remember KEY UNTIL   (one line per grace window)
 *
 * Lines are separated by '\n', fields by one space.  Parsing is strict so
 * that damage is noticed rather than read as "nothing recorded".
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "../core/wipe.h"

#define MAX_FIELDS 4

/* Characters crypt(3) hashes are made of. */
static bool
hash_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./$");

	return n > 0 && n < STORE_HASH_MAX && s[n] == '\0';
}

/* A grace key: printable, no spaces, bounded. */
static bool
key_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] >= 0x7f)
			return false;
	return n > 0 && n < STORE_KEY_MAX;
}

static bool
number(const char *s, long long min, long long max, long long *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= min &&
	       *out <= max;
}

/* Split line at single spaces into at most MAX_FIELDS fields. */
static int
split(char *line, char **f)
{
	int n = 0;
	char *p = line;

	while (n < MAX_FIELDS + 1) {
		f[n++] = p;
		p = strchr(p, ' ');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	return p == NULL ? n : -1;
}

/* Apply one parsed line; false on anything unexpected. */
static bool
apply_line(char **f, int n, struct store_record *rec, bool *version)
{
	long long a = 0, b = 0;

	if (strcmp(f[0], "version") == 0 && n == 2) {
		if (*version || strcmp(f[1], "1") != 0)
			return false;
		*version = true;
		return true;
	}
	if (!*version)
		return false;
	if (strcmp(f[0], "code") == 0 && n == 4 && hash_ok(f[1]) &&
	    number(f[2], 0, (long long)1 << 40, &a) &&
	    number(f[3], 0, 1000, &b) && rec->ncodes < STORE_MAX_CODES) {
		struct store_code *c = &rec->codes[rec->ncodes++];

		snprintf(c->hash, sizeof(c->hash), "%s", f[1]);
		c->expires = (time_t)a;
		c->attempts = (long)b;
		return true;
	}
	if (strcmp(f[0], "token") == 0 && n == 3 && hash_ok(f[1]) &&
	    number(f[2], 0, (long long)1 << 40, &a) &&
	    rec->ntokens < STORE_MAX_TOKENS) {
		struct store_token *t = &rec->tokens[rec->ntokens++];

		snprintf(t->hash, sizeof(t->hash), "%s", f[1]);
		t->expires = (time_t)a;
		return true;
	}
	if (strcmp(f[0], "send") == 0 && n == 2 &&
	    number(f[1], 0, (long long)1 << 40, &a) &&
	    rec->nsends < STORE_MAX_SENDS) {
		rec->sends[rec->nsends++] = (time_t)a;
		return true;
	}
	if (strcmp(f[0], "failures") == 0 && n == 2 &&
	    number(f[1], 0, 1000000, &a)) {
		rec->failures = (long)a;
		return true;
	}
	if (strcmp(f[0], "locked_until") == 0 && n == 2 &&
	    number(f[1], 0, (long long)1 << 40, &a)) {
		rec->locked_until = (time_t)a;
		return true;
	}
	if (strcmp(f[0], "recovery") == 0 && n == 2 && hash_ok(f[1]) &&
	    rec->nrecovery < STORE_MAX_RECOVERY) {
		snprintf(rec->recovery[rec->nrecovery++], STORE_HASH_MAX, "%s",
			 f[1]);
		return true;
	}
	if (strcmp(f[0], "remember") == 0 && n == 3 && key_ok(f[1]) &&
	    number(f[2], 0, (long long)1 << 40, &a) &&
	    rec->nremember < STORE_MAX_REMEMBER) {
		struct store_remember *r = &rec->remember[rec->nremember++];

		snprintf(r->key, sizeof(r->key), "%s", f[1]);
		r->until = (time_t)a;
		return true;
	}
	return false;
}

bool
store_parse(const char *text, size_t len, struct store_record *rec)
{
	char *copy, *line, *next, *f[MAX_FIELDS + 1];
	bool ok = true, version = false;
	int n;

	memset(rec, 0, sizeof(*rec));
	if (memchr(text, '\0', len) != NULL)
		return false;
	copy = malloc(len + 1);
	if (copy == NULL)
		return false;
	memcpy(copy, text, len);
	copy[len] = '\0';
	/* Every line, the last included, ends with '\n'. */
	if (len > 0 && copy[len - 1] != '\n')
		ok = false;
	for (line = copy; ok && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		if (line[0] == '#')
			continue;
		n = split(line, f);
		ok = n > 0 && apply_line(f, n, rec, &version);
	}
	ok = ok && version;
	bv_free_secret_len(copy, len + 1);
	if (!ok)
		memset(rec, 0, sizeof(*rec));
	return ok;
}

/* Append to a growing buffer; false when it would not fit. */
static bool add(char *buf, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
add(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *used)
		return false;
	*used += (size_t)n;
	return true;
}

char *
store_format(const struct store_record *rec)
{
	size_t size =
	    4096 + STORE_MAX_RECOVERY * (STORE_HASH_MAX + 16) +
	    (STORE_MAX_CODES + STORE_MAX_TOKENS) * (STORE_HASH_MAX + 48) +
	    STORE_MAX_REMEMBER * (STORE_KEY_MAX + 32) + STORE_MAX_SENDS * 32;
	char *buf = calloc(1, size);
	size_t used = 0, i;
	bool ok;

	if (buf == NULL)
		return NULL;
	ok = add(buf, size, &used,
		 "# pam_baxverify store record\n"
		 "version 1\n");
	for (i = 0; i < rec->ncodes; i++)
		ok = ok &&
		     add(buf, size, &used, "code %s %lld %ld\n",
			 rec->codes[i].hash, (long long)rec->codes[i].expires,
			 rec->codes[i].attempts);
	for (i = 0; i < rec->ntokens; i++)
		ok = ok && add(buf, size, &used, "token %s %lld\n",
			       rec->tokens[i].hash,
			       (long long)rec->tokens[i].expires);
	for (i = 0; i < rec->nsends; i++)
		ok = ok && add(buf, size, &used, "send %lld\n",
			       (long long)rec->sends[i]);
	ok = ok && add(buf, size, &used, "failures %ld\n", rec->failures);
	if (rec->locked_until != 0)
		ok = ok && add(buf, size, &used, "locked_until %lld\n",
			       (long long)rec->locked_until);
	for (i = 0; i < rec->nrecovery; i++)
		ok = ok &&
		     add(buf, size, &used, "recovery %s\n", rec->recovery[i]);
	for (i = 0; i < rec->nremember; i++)
		ok = ok && add(buf, size, &used, "remember %s %lld\n",
			       rec->remember[i].key,
			       (long long)rec->remember[i].until);
	if (!ok) {
		bv_free_secret_len(buf, size);
		return NULL;
	}
	return buf;
}
