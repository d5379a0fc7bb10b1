/*
 * health.c - the text form of the providers' health record, and its
 * marks.
 *
 *   version 1
 *   down PROVIDER SINCE LAST     (one line per provider marked down)
 *
 * SINCE is the first failure of the outage, LAST the latest (Unix
 * times, SINCE <= LAST).  Lines are separated by '\n', fields by one
 * space, '#' starts a comment line.  Parsing is as strict as a user's
 * record (record.c): damage is noticed, and the caller reads it as no
 * marks, never as a mark it did not write.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* Fields of a line: "down NAME SINCE LAST". */
#define HEALTH_FIELDS 4
/* The latest time a record holds: far beyond any clock, within time_t. */
#define HEALTH_TIME_MAX ((long long)1 << 40)

/* A provider name: letters, digits, '_' and '-', as conf.c's words. */
static bool
name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n > 0 && n < STORE_PROVIDER_MAX && s[n] == '\0';
}

static bool
time_ok(const char *s, long long *out)
{
	char *end = NULL;

	if (*s < '0' || *s > '9')
		return false; /* no sign, no blank: strtoll would take them */
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' && *out > 0 &&
	       *out <= HEALTH_TIME_MAX;
}

/* Split line at single spaces; -1 when it has more than HEALTH_FIELDS. */
static int
split(char *line, char **f)
{
	int n = 0;
	char *p = line;

	while (n < HEALTH_FIELDS) {
		f[n++] = p;
		p = strchr(p, ' ');
		if (p == NULL)
			return n;
		*p++ = '\0';
	}
	return -1;
}

/* One line that is not a comment; false on anything unexpected. */
static bool
apply_line(char *line, struct store_health *h, bool *version)
{
	char *f[HEALTH_FIELDS];
	long long since = 0, last = 0;
	struct store_mark *m;
	int n = split(line, f);

	if (n == 2 && strcmp(f[0], "version") == 0) {
		if (*version || strcmp(f[1], "1") != 0)
			return false;
		*version = true;
		return true;
	}
	if (!*version || n != 4 || strcmp(f[0], "down") != 0 ||
	    !name_ok(f[1]) || !time_ok(f[2], &since) || !time_ok(f[3], &last) ||
	    since > last || h->nmarks >= STORE_MAX_MARKS ||
	    store_health_find(h, f[1]) != NULL)
		return false;
	m = &h->marks[h->nmarks++];
	snprintf(m->provider, sizeof(m->provider), "%s", f[1]);
	m->since = (time_t)since;
	m->last = (time_t)last;
	return true;
}

bool
store_health_parse(const char *text, size_t len, struct store_health *h)
{
	char *copy, *line, *next;
	bool ok = true, version = false;

	memset(h, 0, sizeof(*h));
	if (memchr(text, '\0', len) != NULL)
		return false;
	copy = malloc(len + 1);
	if (copy == NULL)
		return false;
	memcpy(copy, text, len);
	copy[len] = '\0';
	/* Every line, the last included, ends with '\n': a file cut short
	   is damage, not a shorter list. */
	if (len > 0 && copy[len - 1] != '\n')
		ok = false;
	for (line = copy; ok && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		if (line[0] != '#')
			ok = apply_line(line, h, &version);
	}
	ok = ok && version;
	free(copy);
	if (!ok)
		memset(h, 0, sizeof(*h));
	return ok;
}

char *
store_health_format(const struct store_health *h)
{
	/* A line is at most "down " + name + two 13-digit times. */
	size_t size = 64 + STORE_MAX_MARKS * (STORE_PROVIDER_MAX + 48);
	char *buf = malloc(size);
	size_t used, i;
	int n;

	if (buf == NULL)
		return NULL;
	n = snprintf(buf, size, "# pam_baxverify provider health\nversion 1\n");
	used = (size_t)n;
	for (i = 0; i < h->nmarks && i < STORE_MAX_MARKS; i++) {
		n = snprintf(buf + used, size - used, "down %s %lld %lld\n",
			     h->marks[i].provider, (long long)h->marks[i].since,
			     (long long)h->marks[i].last);
		if (n < 0 || (size_t)n >= size - used) {
			free(buf);
			return NULL;
		}
		used += (size_t)n;
	}
	return buf;
}

struct store_mark *
store_health_find(struct store_health *h, const char *provider)
{
	size_t i;

	for (i = 0; i < h->nmarks; i++)
		if (strcmp(h->marks[i].provider, provider) == 0)
			return &h->marks[i];
	return NULL;
}

bool
store_health_mark(struct store_health *h, const char *provider, time_t now)
{
	struct store_mark *m = store_health_find(h, provider);
	size_t i, oldest = 0;

	if (!name_ok(provider) || now <= 0 || now > HEALTH_TIME_MAX)
		return false;
	if (m != NULL) {
		/* A clock set back: the outage starts again now. */
		if (now < m->since)
			m->since = now;
		m->last = now;
		return true;
	}
	if (h->nmarks < STORE_MAX_MARKS) {
		m = &h->marks[h->nmarks++];
	} else {
		/* Only a hand-made record gets here (a host has a few
		   providers): the stalest mark matters least. */
		for (i = 1; i < h->nmarks; i++)
			if (h->marks[i].last < h->marks[oldest].last)
				oldest = i;
		m = &h->marks[oldest];
	}
	memset(m, 0, sizeof(*m));
	snprintf(m->provider, sizeof(m->provider), "%s", provider);
	m->since = now;
	m->last = now;
	return true;
}

bool
store_health_clear(struct store_health *h, const char *provider)
{
	struct store_mark *m = store_health_find(h, provider);
	size_t i;

	if (m == NULL)
		return false;
	i = (size_t)(m - h->marks);
	memmove(&h->marks[i], &h->marks[i + 1],
		(h->nmarks - i - 1) * sizeof(h->marks[0]));
	h->nmarks--;
	memset(&h->marks[h->nmarks], 0, sizeof(h->marks[0]));
	return true;
}
