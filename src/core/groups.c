/*
 * groups.c - matching a user's groups against the "groups" patterns.
 */
#include "config.h"

#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "groups.h"

#define MAX_GROUPS 4096

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

static bool
has_positive(char *const *patterns)
{
	size_t i;

	for (i = 0; patterns[i] != NULL; i++)
		if (patterns[i][0] != '!')
			return true;
	return false;
}

enum bv_result
groups_user_applies(char *const *patterns, const char *user,
		    const struct bv_log *log, bool *applies)
{
	struct passwd pw, *pwres = NULL;
	char pwbuf[4096], grbuf[8192];
	gid_t *gids = NULL;
	int ngids = MAX_GROUPS, i;
	bool want = false, excluded = false;
	enum bv_result rc = BV_CONFIG;

	*applies = true;
	if (patterns == NULL || patterns[0] == NULL)
		return BV_OK;
	*applies = false;
	if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &pwres) != 0) {
		bv_log(log, LOG_ERR, "user=%s: cannot read the passwd entry: %m",
		       user);
		goto out;
	}
	if (pwres == NULL) {
		/* No such user: in no group, so not ours to ask. */
		rc = BV_OK;
		goto out;
	}
	gids = calloc(MAX_GROUPS, sizeof(*gids));
	if (gids == NULL) {
		rc = BV_NOMEM;
		goto out;
	}
	if (getgrouplist(user, pw.pw_gid, gids, &ngids) < 0) {
		bv_log(log, LOG_ERR, "user=%s: more than %d groups", user,
		       MAX_GROUPS);
		goto out;
	}
	for (i = 0; i < ngids; i++) {
		struct group gr, *grres = NULL;

		if (getgrgid_r(gids[i], &gr, grbuf, sizeof(grbuf), &grres) !=
			    0 ||
		    grres == NULL)
			continue;
		want = want || matches(patterns, gr.gr_name, false);
		excluded = excluded || matches(patterns, gr.gr_name, true);
	}
	*applies = (want || !has_positive(patterns)) && !excluded;
	rc = BV_OK;
out:
	free(gids);
	return rc;
}
