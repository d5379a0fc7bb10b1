/*
 * local_mac.h - how the local provider keeps its codes and proof tokens
 * in the user's store record:
 *
 *   $bvmac1$KEYID$SALT$MAC
 *
 * MAC is HMAC-SHA256, under the host key (local_key.h), of a fresh
 * random SALT, the user, the kind (code or token) and the secret; KEYID
 * names the key (a MAC of a fixed string under it, never the key), so an
 * entry made under another key is a plain non-match.  All three in
 * lowercase hex: the characters of crypt(3) hashes, which the record's
 * parser takes.
 *
 * A comparison costs microseconds where yescrypt costs some 50 ms, and
 * without the key, which never leaves the host, even a 6-digit code
 * cannot be searched for (docs/SECURITY.md, "Codes in the store").
 * Recovery codes, which must one day verify on other hosts, keep
 * store_hash.
 */
#ifndef BV_PROVIDER_LOCAL_MAC_H
#define BV_PROVIDER_LOCAL_MAC_H

#include <stdbool.h>

#include "local_key.h"
#include "../core/conf.h"
#include "../store/store.h"

/* What an entry protects; part of its MAC, so one never passes for the
   other. */
enum local_mac_kind {
	LOCAL_MAC_CODE,	 /* a code in flight */
	LOCAL_MAC_TOKEN, /* a proof token */
};

/* Bytes of the key's id (hex in an entry). */
#define LOCAL_MAC_ID_BYTES 8

/* The host key, loaded, and its id.  Wipe with local_mac_close. */
struct local_mac {
	unsigned char key[LOCAL_KEY_BYTES];
	char id[2 * LOCAL_MAC_ID_BYTES + 1];
};

/*
 * Load the host key of cfg->store_dir (made at first use) and derive its
 * id.  Returns BV_OK; BV_CONFIG (logged) for a refused or unreadable key;
 * BV_INTERNAL when the kernel gives no randomness or libcrypto fails;
 * mac is wiped unless BV_OK.
 */
enum bv_result local_mac_open(const struct bv_config *cfg,
			      const struct bv_log *log, struct local_mac *mac);

/* Wipe the key. */
void local_mac_close(struct local_mac *mac);

/*
 * The stored form of secret, user's, of this kind, with a fresh salt,
 * into out (STORE_HASH_MAX).  Returns BV_OK, or BV_INTERNAL when the
 * kernel gives no randomness or libcrypto fails.
 */
enum bv_result local_mac_seal(const struct local_mac *mac, const char *user,
			      enum local_mac_kind kind, const char *secret,
			      char *out);

/*
 * Whether secret is what the stored entry protects: a $bvmac1$ entry by
 * its MAC, compared in constant time (false when made under another key
 * or for another user or kind); the crypt(3) hash an earlier version
 * wrote (a "$...$" entry) by store_hash_matches, so records need no
 * migration; any other form never matches.
 */
bool local_mac_matches(const struct local_mac *mac, const char *user,
		       enum local_mac_kind kind, const char *secret,
		       const char *stored);

#endif /* BV_PROVIDER_LOCAL_MAC_H */
