/*
 * groups.h - does the module apply to this user?  (config key "groups")
 */
#ifndef BV_GROUPS_H
#define BV_GROUPS_H

#include <stdbool.h>

#include "log.h"
#include "result.h"

/*
 * patterns is a NULL-terminated list of fnmatch(3) patterns on group
 * names; "!pattern" excludes.  The user applies when some group of theirs
 * matches a positive pattern (or there is none) and none matches a "!"
 * pattern.  An empty or NULL list applies to everyone.  Returns BV_OK with
 * *applies set, BV_CONFIG when the user's groups cannot be read (logged),
 * or BV_NOMEM.
 */
enum bv_result groups_user_applies(char *const *patterns, const char *user,
				   const struct bv_log *log, bool *applies);

#endif /* BV_GROUPS_H */
