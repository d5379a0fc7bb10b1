/*
 * groups.c - matching a user's groups against the "groups" patterns.
 *
 * Under sudo and su the lookups run in a process the caller started, and
 * a lookup that fails must never read as "not in the group": that would
 * skip the very user the administrator wants asked (PAM_IGNORE).  So the
 * buffers grow until the entry fits, and every other error denies.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "groups.h"
#include "text.h"

/* First buffer for a passwd or group entry, and the most we grow it to:
   a group line of tens of thousands of members fits, past that is
   damage. */
#define ENTRY_BUF_START 4096
#define ENTRY_BUF_MAX (1024 * 1024)
/* First size of the group list, and the kernel's NGROUPS_MAX. */
#define GIDS_START 256
#define GIDS_MAX 65536

struct entry_buf {
	char *p;
	size_t size;
};

/* Does any pattern of the wanted sign match group name? */
static bool
matches(char *const *patterns, const char *name, bool negated)
{
	size_t i;

	for (i = 0; patterns[i] != NULL; i++) {
		const char *p = patterns[i];
		bool neg = p[0] == '!';

		if (neg != negated)
			continue;
		if (fnmatch(neg ? p + 1 : p, name, 0) == 0)
			return true;
	}
	return false;
}

/* A pattern without fnmatch's special characters names one group. */
static bool
is_literal(const char *pattern)
{
	return strpbrk(pattern, "*?[\\") == NULL;
}

static bool
has_positive(char *const *patterns)
{
	size_t i;

	for (i = 0; patterns[i] != NULL; i++)
		if (patterns[i][0] != '!')
			return true;
	return false;
}

/* Start b at ENTRY_BUF_START, or double it; false when out of memory. */
static bool
grow(struct entry_buf *b)
{
	size_t size = b->size == 0 ? ENTRY_BUF_START : b->size * 2;
	char *p = realloc(b->p, size);

	if (p == NULL)
		return false;
	b->p = p;
	b->size = size;
	return true;
}

/*
 * Log a failed lookup of what ("the passwd entry", "group 1234") for
 * user, with err (0: no error number to give).  The user name is
 * sanitised: it comes from the caller.
 */
static void
log_lookup(const struct bv_log *log, const char *user, const char *what,
	   int err)
{
	char clean[128];

	text_sanitize(clean, sizeof(clean), user);
	if (err == 0) {
		bv_log(log, LOG_ERR, "user=%s: cannot read %s", clean, what);
	} else if (err == ERANGE) {
		bv_log(log, LOG_ERR,
		       "user=%s: cannot read %s: larger than "
		       "%d bytes",
		       clean, what, ENTRY_BUF_MAX);
	} else {
		errno = err;
		bv_log(log, LOG_ERR, "user=%s: cannot read %s: %m", clean,
		       what);
	}
}

enum bv_result
groups_getpwnam(const char *user, const struct bv_log *log, struct passwd *pw,
		char **buf, bool *found)
{
	struct entry_buf b = {NULL, 0};
	struct passwd *res = NULL;
	enum bv_result rc = BV_NOMEM;
	int err = ERANGE;

	*found = false;
	while (err == ERANGE && b.size < ENTRY_BUF_MAX) {
		if (!grow(&b))
			goto out;
		err = getpwnam_r(user, pw, b.p, b.size, &res);
	}
	rc = BV_INTERNAL;
	if (err != 0) {
		log_lookup(log, user, "the passwd entry", err);
		goto out;
	}
	*found = res != NULL;
	rc = BV_OK;
out:
	*buf = b.p;
	return rc;
}

/* Group gid's entry into gr (pointing into b); *found false when there
   is none, which is not an error: a gid need not have a name. */
static enum bv_result
lookup_group(gid_t gid, const char *user, const struct bv_log *log,
	     struct entry_buf *b, struct group *gr, bool *found)
{
	struct group *res = NULL;
	char what[48];
	int err;

	*found = false;
	if (b->size == 0 && !grow(b))
		return BV_NOMEM;
	err = getgrgid_r(gid, gr, b->p, b->size, &res);
	while (err == ERANGE && b->size < ENTRY_BUF_MAX) {
		if (!grow(b))
			return BV_NOMEM;
		err = getgrgid_r(gid, gr, b->p, b->size, &res);
	}
	if (err != 0) {
		snprintf(what, sizeof(what), "group %lu", (unsigned long)gid);
		log_lookup(log, user, what, err);
		return BV_INTERNAL;
	}
	*found = res != NULL;
	return BV_OK;
}

/* All of user's groups (primary gid included) into *gids, *ngids. */
static enum bv_result
user_gids(const char *user, gid_t gid, const struct bv_log *log, gid_t **gids,
	  int *ngids)
{
	int size = GIDS_START, want;
	gid_t *p;

	for (;;) {
		p = realloc(*gids, (size_t)size * sizeof(*p));
		if (p == NULL)
			return BV_NOMEM;
		*gids = p;
		want = size;
		if (getgrouplist(user, gid, *gids, &want) >= 0) {
			*ngids = want;
			return BV_OK;
		}
		/* -1 with a larger count: the list did not fit; else a
		   failure getgrouplist does not explain (no errno). */
		if (want <= size || want > GIDS_MAX)
			break;
		size = want;
	}
	log_lookup(log, user,
		   want > GIDS_MAX ? "the group list (more than "
				     "65536 groups)"
				   : "the group list",
		   0);
	return BV_INTERNAL;
}

/* Match every group of gids against the patterns: *want when a positive
   pattern names one of them, *excluded when a negated one does. */
static enum bv_result
match_groups(char *const *patterns, const char *user, const gid_t *gids,
	     int ngids, const struct bv_log *log, bool *want_out,
	     bool *excluded_out)
{
	struct entry_buf b = {NULL, 0};
	bool want = false, excluded = false, found;
	enum bv_result rc = BV_OK;
	int i;

	for (i = 0; i < ngids && rc == BV_OK; i++) {
		struct group gr;

		rc = lookup_group(gids[i], user, log, &b, &gr, &found);
		if (rc != BV_OK || !found)
			continue;
		want = want || matches(patterns, gr.gr_name, false);
		excluded = excluded || matches(patterns, gr.gr_name, true);
	}
	*want_out = want;
	*excluded_out = excluded;
	free(b.p);
	return rc;
}

/*
 * The group called name: *found when it exists, then its gid, and
 * *listed when its member list names user.
 */
static enum bv_result
named_group(const char *name, const char *user, const struct bv_log *log,
	    bool *found, gid_t *gid, bool *listed)
{
	struct entry_buf b = {NULL, 0};
	struct group gr, *res = NULL;
	enum bv_result rc = BV_NOMEM;
	char what[80];
	size_t i;
	int err;

	*found = *listed = false;
	if (!grow(&b))
		goto out;
	err = getgrnam_r(name, &gr, b.p, b.size, &res);
	while (err == ERANGE && b.size < ENTRY_BUF_MAX) {
		if (!grow(&b))
			goto out;
		err = getgrnam_r(name, &gr, b.p, b.size, &res);
	}
	if (err != 0) {
		snprintf(what, sizeof(what), "group %.60s", name);
		log_lookup(log, user, what, err);
		rc = BV_INTERNAL;
		goto out;
	}
	rc = BV_OK;
	if (res == NULL)
		goto out;
	*found = true;
	*gid = gr.gr_gid;
	for (i = 0; gr.gr_mem != NULL && gr.gr_mem[i] != NULL && !*listed; i++)
		*listed = strcmp(gr.gr_mem[i], user) == 0;
out:
	free(b.p);
	return rc;
}

/* Is user (primary gid) a member of the group called name? */
static enum bv_result
named_member(const char *name, const char *user, gid_t primary,
	     const struct bv_log *log, bool *member)
{
	enum bv_result rc;
	bool found, listed;
	gid_t gid = 0;

	rc = named_group(name, user, log, &found, &gid, &listed);
	*member = rc == BV_OK && found && (listed || gid == primary);
	return rc;
}

/*
 * getgrouplist reports no error: a group source that failed, or an
 * allocation inside it, leaves groups out of the list in silence, and
 * a user "in none of the groups" would be skipped.  A pattern without
 * wildcards names one group, whose own lookup does report errors: ask
 * it too before skipping anyone.
 */
static enum bv_result
literal_member(char *const *patterns, const char *user, gid_t primary,
	       const struct bv_log *log, bool *member)
{
	enum bv_result rc = BV_OK;
	size_t i;

	*member = false;
	for (i = 0; patterns[i] != NULL && rc == BV_OK && !*member; i++)
		if (patterns[i][0] != '!' && is_literal(patterns[i]))
			rc = named_member(patterns[i], user, primary, log,
					  member);
	return rc;
}

/* Does any pattern need fnmatch, rather than name one group? */
static bool
has_wildcard(char *const *patterns)
{
	size_t i;

	for (i = 0; patterns[i] != NULL; i++)
		if (!is_literal(patterns[i]))
			return true;
	return false;
}

static bool
gid_listed(const gid_t *gids, int ngids, gid_t gid)
{
	int i;

	for (i = 0; i < ngids; i++)
		if (gids[i] == gid)
			return true;
	return false;
}

/* A named group whose member list did not name the user. */
struct open_group {
	const char *name;
	gid_t gid;
	bool negated;
};

/*
 * Is the open group g, whose gid is in the user's list, the group it
 * names?  Two names may share a gid (a local group and a directory's):
 * an exclusion holds only for the name the gid resolves to, as the
 * wildcard path matches names, so that a shared gid never skips anyone.
 */
static enum bv_result
gid_is_named(const struct open_group *g, const char *user,
	     const struct bv_log *log, struct entry_buf *b, bool *is)
{
	struct group gr;
	bool found;
	enum bv_result rc;

	*is = !g->negated;
	if (!g->negated)
		return BV_OK; /* asking more users is never unsafe */
	rc = lookup_group(g->gid, user, log, b, &gr, &found);
	*is = rc == BV_OK && found && strcmp(gr.gr_name, g->name) == 0;
	return rc;
}

/*
 * Patterns that each name one group: each is looked up by its name, and
 * the user's whole group list is read only when a member list left the
 * answer open.  A member list is not the whole truth (directories may
 * leave members out of it, or nest groups): a user it does not name is
 * looked for in their group list before being skipped.  Their other
 * groups are never looked up one by one.
 */
static enum bv_result
literal_applies(char *const *patterns, const char *user, gid_t primary,
		const struct bv_log *log, bool *applies)
{
	struct entry_buf b = {NULL, 0};
	struct open_group *open = NULL, *g;
	size_t i, n = 0, nopen = 0;
	gid_t *gids = NULL;
	bool want = false, excluded = false, found, listed, is;
	enum bv_result rc = BV_NOMEM;
	int ngids = 0;

	while (patterns[n] != NULL)
		n++;
	open = calloc(n, sizeof(*open));
	if (open == NULL)
		goto out;
	rc = BV_OK;
	for (i = 0; i < n && rc == BV_OK; i++) {
		g = &open[nopen];
		g->negated = patterns[i][0] == '!';
		g->name = g->negated ? patterns[i] + 1 : patterns[i];
		rc = named_group(g->name, user, log, &found, &g->gid, &listed);
		if (rc != BV_OK || !found)
			continue;
		if (listed && g->negated)
			excluded = true;
		else if (listed || (!g->negated && g->gid == primary))
			want = true;
		else
			nopen++;
	}
	/* Excluded, or wanted with no exclusion left to check: decided. */
	for (i = 0; i < nopen && rc == BV_OK && !excluded; i++)
		if (open[i].negated || !want)
			break;
	if (rc == BV_OK && !excluded && i < nopen) {
		rc = user_gids(user, primary, log, &gids, &ngids);
		for (i = 0; i < nopen && rc == BV_OK; i++) {
			if (!gid_listed(gids, ngids, open[i].gid))
				continue;
			rc = gid_is_named(&open[i], user, log, &b, &is);
			if (is && open[i].negated)
				excluded = true;
			else if (is)
				want = true;
		}
	}
	*applies = (want || !has_positive(patterns)) && !excluded;
out:
	free(open);
	free(b.p);
	free(gids);
	return rc;
}

enum bv_result
groups_user_applies(char *const *patterns, const char *user,
		    const struct bv_log *log, bool *applies)
{
	struct passwd pw;
	char *pwbuf = NULL;
	gid_t *gids = NULL;
	int ngids = 0;
	bool found = false, want = false, excluded = false;
	enum bv_result rc;

	*applies = true;
	if (patterns == NULL || patterns[0] == NULL)
		return BV_OK;
	*applies = false;
	rc = groups_getpwnam(user, log, &pw, &pwbuf, &found);
	/* No such user: in no group, so not ours to ask. */
	if (rc != BV_OK || !found)
		goto out;
	if (!has_wildcard(patterns)) {
		rc = literal_applies(patterns, user, pw.pw_gid, log, applies);
		if (rc != BV_OK)
			*applies = false;
		goto out;
	}
	rc = user_gids(user, pw.pw_gid, log, &gids, &ngids);
	if (rc == BV_OK)
		rc = match_groups(patterns, user, gids, ngids, log, &want,
				  &excluded);
	if (rc == BV_OK && !want && has_positive(patterns))
		rc = literal_member(patterns, user, pw.pw_gid, log, &want);
	if (rc == BV_OK)
		*applies = (want || !has_positive(patterns)) && !excluded;
out:
	free(gids);
	free(pwbuf);
	return rc;
}
