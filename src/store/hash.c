/*
 * hash.c - crypt(3) hashes of recovery codes (and of the local
 * provider's entries written by earlier versions).
 *
 * Linked into the helper and the CLI only, never the module: yescrypt is
 * memory-hard by design, and the module would otherwise map libcrypt
 * into sudo and sshd for every user, the skipped ones included, to check
 * a recovery code once in a while.  The module asks the helper
 * (PROTO_MATCH).
 */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "../core/wipe.h"

enum bv_result
store_hash(const char *secret, char *out)
{
	struct crypt_data *cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	enum bv_result rc = BV_CONFIG;
	const char *h;

	/* NULL prefix: the system's preferred method, entropy from the OS. */
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return BV_CONFIG;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return BV_NOMEM;
	h = crypt_r(secret, salt, cd);
	if (h != NULL && h[0] != '*' && strlen(h) < STORE_HASH_MAX) {
		snprintf(out, STORE_HASH_MAX, "%s", h);
		rc = BV_OK;
	}
	bv_free_secret_len(cd, sizeof(*cd));
	return rc;
}

bool
store_hash_matches(const char *secret, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	bool ok = false;

	if (hash[0] == '\0')
		return false;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return false;
	h = crypt_r(secret, hash, cd);
	ok = h != NULL && h[0] != '*' && bv_consttime_streq(h, hash);
	bv_free_secret_len(cd, sizeof(*cd));
	return ok;
}
