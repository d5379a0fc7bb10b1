/*
 * local_key.h - the local provider's host key: 32 random bytes in a
 * root-only file of store.dir, made at first use, under which the MACs
 * of its codes and proof tokens are made (local_mac.h).  It never leaves
 * the host; docs/SECURITY.md says why that is what protects the codes.
 */
#ifndef BV_PROVIDER_LOCAL_KEY_H
#define BV_PROVIDER_LOCAL_KEY_H

#include <stddef.h>

#include "../core/log.h"
#include "../core/result.h"

#define LOCAL_KEY_BYTES 32

/*
 * Its name in store.dir.  The leading '.' keeps it apart from every
 * user's files (files.c): a record's name has no '.', one of an older
 * version's never begins with one, and locks and temporary files are a
 * record's name with a suffix.
 */
#define LOCAL_KEY_FILE ".host.key"

/*
 * Read the host key of store directory dir into key, making it first
 * when there is none: LOCAL_KEY_BYTES from getrandom(2) written to a
 * temporary file (mode 0600, fsync'd) and linked into place, so that two
 * helpers making it at once both end up with the one linked first.  The
 * directory is created (0700) when missing and must be as the store
 * demands it (root's or the effective uid's, no group or other access, not
 * a symbolic link); the key must be a regular file, not a symbolic link,
 * owned by root or the effective uid, with no group or other access, of
 * exactly LOCAL_KEY_BYTES bytes.
 *
 * Returns BV_OK; BV_CONFIG (logged, naming the file and why) when the
 * directory or key is refused or cannot be read or written; BV_INTERNAL
 * when the kernel gives no randomness.  key is wiped unless BV_OK.
 */
enum bv_result local_key_load(const char *dir, const struct bv_log *log,
			      unsigned char key[LOCAL_KEY_BYTES]);

/*
 * baxverify check: what local_key_load would make of dir's key, making,
 * reading and changing nothing.  said gets "host key PATH: ok", that it
 * is not made yet (it will be at the first code), or why it is refused.
 * Returns BV_OK (ok or not made yet) or BV_CONFIG.
 */
enum bv_result local_key_check(const char *dir, char *said, size_t saidsz);

#endif /* BV_PROVIDER_LOCAL_KEY_H */
