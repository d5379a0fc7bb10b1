/*
 * local_mac.c - the local provider's codes and proof tokens as
 * HMAC-SHA256 entries under the host key (local_mac.h), and the crypt(3)
 * hashes earlier versions wrote, still verified.
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "local.h"
#include "local_mac.h"

#define PREFIX "$bvmac1$"
#define SALT_BYTES 16
#define MAC_BYTES 32
/* "$bvmac1$" KEYID "$" SALT "$" MAC, without the NUL. */
#define ENTRY_LEN                                                              \
	(sizeof(PREFIX) - 1 + 2 * LOCAL_MAC_ID_BYTES + 1 + 2 * SALT_BYTES +    \
	 1 + 2 * MAC_BYTES)
_Static_assert(ENTRY_LEN < STORE_HASH_MAX, "an entry fits a record field");

/* Offsets in an entry. */
#define ID_AT (sizeof(PREFIX) - 1)
#define SALT_AT (ID_AT + 2 * LOCAL_MAC_ID_BYTES + 1)
#define MAC_AT (SALT_AT + 2 * SALT_BYTES + 1)

/* What the key's id is the MAC of: never the key itself. */
static const char id_label[] = "pam_baxverify local host key id";

/* One piece of a MAC's message. */
struct piece {
	const void *p;
	size_t n;
};

/* HMAC-SHA256 under key of the pieces, one after another, into out. */
static bool
hmac(const unsigned char *key, const struct piece *pieces, size_t npieces,
     unsigned char out[MAC_BYTES])
{
	char digest[] = "SHA256"; /* OSSL_PARAM wants it writable */
	OSSL_PARAM params[2];
	EVP_MAC *m;
	EVP_MAC_CTX *c;
	size_t len = 0, i;
	bool ok;

	/*
	 * HMAC-SHA256 of the default provider needs nothing from
	 * openssl.cnf; in baxverify-helper-local nothing else would read it
	 * either, and reading it costs a local login more than every MAC
	 * it makes.  Where libcurl initialised OpenSSL first (the other
	 * helper, the CLI), this changes nothing.
	 */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	c = m != NULL ? EVP_MAC_CTX_new(m) : NULL;

	params[0] =
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = c != NULL && EVP_MAC_init(c, key, LOCAL_KEY_BYTES, params) == 1;
	for (i = 0; ok && i < npieces; i++)
		ok = EVP_MAC_update(c, pieces[i].p, pieces[i].n) == 1;
	ok = ok && EVP_MAC_final(c, out, &len, MAC_BYTES) == 1 &&
	     len == MAC_BYTES;
	/* Frees wipe the key schedule (OpenSSL clears HMAC contexts). */
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	return ok;
}

static void
to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 2n lowercase hex digits into n bytes; false on anything else. */
static bool
from_hex(const char *s, size_t n, unsigned char *out)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		hi = hex_value(s[2 * i]);
		lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/*
 * The entry for secret with this salt, into out (ENTRY_LEN + 1).  The
 * message is unambiguous: the label, kind and user end in their NUL (none
 * can hold one), the salt has a fixed length, the secret comes last.
 */
static bool
make_entry(const struct local_mac *mac, const char *user,
	   enum local_mac_kind kind, const char *secret,
	   const unsigned char salt[SALT_BYTES], char *out)
{
	const char *what = kind == LOCAL_MAC_TOKEN ? "token" : "code";
	const struct piece pieces[] = {
	    {PREFIX, sizeof(PREFIX)}, {what, strlen(what) + 1},
	    {user, strlen(user) + 1}, {salt, SALT_BYTES},
	    {secret, strlen(secret)},
	};
	unsigned char m[MAC_BYTES];
	bool ok;

	ok = hmac(mac->key, pieces, sizeof(pieces) / sizeof(pieces[0]), m);
	if (ok) {
		memcpy(out, PREFIX, ID_AT);
		memcpy(out + ID_AT, mac->id, 2 * LOCAL_MAC_ID_BYTES);
		out[SALT_AT - 1] = '$';
		to_hex(salt, SALT_BYTES, out + SALT_AT);
		out[MAC_AT - 1] = '$';
		to_hex(m, MAC_BYTES, out + MAC_AT);
		out[ENTRY_LEN] = '\0';
	}
	explicit_bzero(m, sizeof(m));
	return ok;
}

enum bv_result
local_mac_open(const struct bv_config *cfg, const struct bv_log *log,
	       struct local_mac *mac)
{
	const struct piece label = {id_label, sizeof(id_label) - 1};
	unsigned char id[MAC_BYTES];
	enum bv_result rc;

	memset(mac, 0, sizeof(*mac));
	rc = local_key_load(cfg->store_dir, log, mac->key);
	if (rc == BV_OK && !hmac(mac->key, &label, 1, id))
		rc = BV_INTERNAL;
	if (rc == BV_OK)
		to_hex(id, LOCAL_MAC_ID_BYTES, mac->id);
	else
		local_mac_close(mac);
	explicit_bzero(id, sizeof(id));
	return rc;
}

void
local_mac_close(struct local_mac *mac)
{
	explicit_bzero(mac, sizeof(*mac));
}

enum bv_result
local_mac_seal(const struct local_mac *mac, const char *user,
	       enum local_mac_kind kind, const char *secret, char *out)
{
	unsigned char salt[SALT_BYTES];

	out[0] = '\0';
	if (!local_random_bytes(salt, sizeof(salt)))
		return BV_INTERNAL; /* the kernel, not the service */
	if (!make_entry(mac, user, kind, secret, salt, out))
		return BV_INTERNAL;
	return BV_OK;
}

/* A $bvmac1$ entry: this key's, and the MAC it should be. */
static bool
mac_matches(const struct local_mac *mac, const char *user,
	    enum local_mac_kind kind, const char *secret, const char *stored)
{
	unsigned char salt[SALT_BYTES];
	char want[ENTRY_LEN + 1];
	bool ok;

	/* Another key's (or a damaged) entry matches nothing. */
	if (strlen(stored) != ENTRY_LEN ||
	    memcmp(stored + ID_AT, mac->id, 2 * LOCAL_MAC_ID_BYTES) != 0 ||
	    stored[SALT_AT - 1] != '$' || stored[MAC_AT - 1] != '$' ||
	    !from_hex(stored + SALT_AT, SALT_BYTES, salt))
		return false;
	ok = make_entry(mac, user, kind, secret, salt, want) &&
	     CRYPTO_memcmp(want, stored, ENTRY_LEN) == 0;
	explicit_bzero(want, sizeof(want));
	return ok;
}

bool
local_mac_matches(const struct local_mac *mac, const char *user,
		  enum local_mac_kind kind, const char *secret,
		  const char *stored)
{
	if (strncmp(stored, PREFIX, ID_AT) == 0)
		return mac_matches(mac, user, kind, secret, stored);
	/* A crypt(3) hash from before: slow, and only until it expires.
	   No other "$bv" form exists; a later one is not ours to guess. */
	if (stored[0] == '$' && strncmp(stored, "$bv", 3) != 0)
		return store_hash_matches(secret, stored);
	return false;
}
