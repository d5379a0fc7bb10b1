/*
 * groups.h - does the module apply to this user?  (config key "groups")
 */
#ifndef BV_GROUPS_H
#define BV_GROUPS_H

#include <pwd.h>
#include <stdbool.h>

#include "log.h"
#include "result.h"

/*
 * patterns is a NULL-terminated list of fnmatch(3) patterns on group
 * names; "!pattern" excludes.  The user applies when some group of theirs
 * matches a positive pattern (or there is none) and none matches a "!"
 * pattern.  An empty or NULL list applies to everyone; a user with no
 * passwd entry is in no group.  Returns BV_OK with *applies set,
 * BV_INTERNAL when the user's passwd entry, group list or one of their
 * groups cannot be read (logged with the error: an unread group could be
 * the one that asks for a code, so it never counts as "not a member"),
 * or BV_NOMEM.
 */
enum bv_result groups_user_applies(char *const *patterns, const char *user,
				   const struct bv_log *log, bool *applies);

/*
 * getpwnam_r with a buffer that grows on ERANGE (up to 1 MiB).  On BV_OK
 * *found tells whether user has an entry; when it has, pw points into
 * *buf, which the caller frees (always, whatever the result).  Any lookup
 * error is BV_INTERNAL, logged naming the user; BV_NOMEM.
 */
enum bv_result groups_getpwnam(const char *user, const struct bv_log *log,
			       struct passwd *pw, char **buf, bool *found);

#endif /* BV_GROUPS_H */
