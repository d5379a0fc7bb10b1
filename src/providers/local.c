/*
 * local.c - provider = "local".
 *
 * send: a fresh code from getrandom(2), its MAC under the host key
 * (local_mac.h) with expiry and attempt count in the user's store
 * record, the message delivered by the configured command or file (a
 * code that could not be delivered is forgotten at once).  check:
 * compare with the live codes' entries (outside the lock: an entry an
 * earlier version wrote is a slow crypt(3) hash), then under a short lock
 * count the attempt or, on success, replace the code with a random
 * opaque proof token (its MAC stored, the token exported).  validate:
 * the token's entry and expiry; consume removes it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "deliver.h"
#include "local.h"
#include "local_mac.h"
#include "../core/text.h"
#include "../core/wipe.h"
#include "../store/store.h"

/* Proof tokens: 32 random bytes, hex. */
#define TOKEN_BYTES 32
/* How long a local proof token stays valid. */
#define TOKEN_TTL 900

/* One login's state: which of the user's live codes is its own. */
struct local_state {
	char code_hash[STORE_HASH_MAX]; /* the entry of the code it sent,
					   or "" */
};

/* This provider's own group and per-login state, from the context. */
static const struct local_config *
conf_of(const struct bv_ctx *ctx)
{
	return ctx->conf;
}

static struct local_state *
state_of(const struct bv_ctx *ctx)
{
	return ctx->state;
}

bool
local_random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

enum bv_result
local_random_digits(char *out, size_t n)
{
	unsigned char b[64];
	size_t o = 0, i;

	while (o < n) {
		if (!local_random_bytes(b, sizeof(b)))
			return BV_INTERNAL; /* the kernel, not the service */
		/* 250 is the largest multiple of 10 below 256. */
		for (i = 0; i < sizeof(b) && o < n; i++)
			if (b[i] < 250)
				out[o++] = (char)('0' + b[i] % 10);
	}
	out[n] = '\0';
	explicit_bzero(b, sizeof(b));
	return BV_OK;
}

static enum bv_result
random_token(char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[TOKEN_BYTES];
	size_t i;

	if (outsz < 2 * TOKEN_BYTES + 1 || !local_random_bytes(b, sizeof(b)))
		return BV_INTERNAL;
	for (i = 0; i < TOKEN_BYTES; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * TOKEN_BYTES] = '\0';
	explicit_bzero(b, sizeof(b));
	return BV_OK;
}

/* Drop element i of an array of n elements of size sz; returns n - 1. */
static size_t
drop(void *base, size_t n, size_t sz, size_t i)
{
	char *b = base;

	memmove(b + i * sz, b + (i + 1) * sz, (n - i - 1) * sz);
	explicit_bzero(b + (n - 1) * sz, sz);
	return n - 1;
}

/*
 * Record a new code's entry beside the user's other live codes (another
 * login of the same user may be waiting for its own); this login's own
 * previous code (its state's code_hash) is replaced, and the oldest goes
 * when there is no room.
 */
static enum bv_result
remember_code(struct bv_ctx *ctx, const char *code)
{
	const struct local_config *lc = conf_of(ctx);
	struct local_state *st = state_of(ctx);
	struct store_code *c;
	struct store_txn txn;
	struct local_mac mac;
	char hash[STORE_HASH_MAX];
	enum bv_result rc;
	size_t i;

	rc = local_mac_open(ctx->cfg, ctx->log, &mac);
	if (rc == BV_OK)
		rc =
		    local_mac_seal(&mac, ctx->user, LOCAL_MAC_CODE, code, hash);
	local_mac_close(&mac);
	if (rc != BV_OK)
		return rc;
	rc = store_open(ctx->cfg, ctx->user, ctx->log, &txn);
	if (rc == BV_OK) {
		store_prune(&txn.rec, time(NULL));
		i = 0;
		while (st->code_hash[0] != '\0' && i < txn.rec.ncodes) {
			if (strcmp(txn.rec.codes[i].hash, st->code_hash) != 0)
				i++;
			else
				txn.rec.ncodes =
				    drop(txn.rec.codes, txn.rec.ncodes,
					 sizeof(txn.rec.codes[0]), i);
		}
		if (txn.rec.ncodes == STORE_MAX_CODES)
			txn.rec.ncodes = drop(txn.rec.codes, txn.rec.ncodes,
					      sizeof(txn.rec.codes[0]), 0);
		c = &txn.rec.codes[txn.rec.ncodes++];
		snprintf(c->hash, sizeof(c->hash), "%s", hash);
		c->expires = time(NULL) + lc->ttl;
		c->attempts = 0;
		rc = store_commit(&txn);
	}
	store_close(&txn);
	if (rc == BV_OK)
		snprintf(st->code_hash, sizeof(st->code_hash), "%s", hash);
	return rc;
}

/*
 * The code just remembered could not be delivered: forget its hash (this
 * login's code only: its state's code_hash) under the lock.  Kept, it
 * would still work at the next login, for whoever read the failed
 * command's output or learnt the code some other way.  Returns BV_OK, or
 * the store's error (logged by the store).
 */
static enum bv_result
forget_code(struct bv_ctx *ctx)
{
	struct local_state *st = state_of(ctx);
	struct store_txn txn;
	enum bv_result rc;
	size_t i;

	if (st->code_hash[0] == '\0')
		return BV_OK;
	rc = store_open(ctx->cfg, ctx->user, ctx->log, &txn);
	for (i = 0; rc == BV_OK && i < txn.rec.ncodes; i++) {
		if (strcmp(txn.rec.codes[i].hash, st->code_hash) != 0)
			continue;
		txn.rec.ncodes = drop(txn.rec.codes, txn.rec.ncodes,
				      sizeof(txn.rec.codes[0]), i);
		rc = store_commit(&txn);
		break;
	}
	store_close(&txn);
	explicit_bzero(st->code_hash, sizeof(st->code_hash));
	return rc;
}

static enum bv_result
local_send(struct bv_ctx *ctx, struct bv_outcome *out)
{
	const struct local_config *lc = conf_of(ctx);
	char code[CODE_MAX_DIGITS + 1];
	char *message = NULL;
	enum bv_result rc, wrc;

	out->action = "send";
	if (ctx->state == NULL)
		return BV_INTERNAL; /* a caller without the state: a bug */
	rc = local_random_digits(code, (size_t)lc->code_length);
	if (rc == BV_OK)
		rc = remember_code(ctx, code);
	if (rc == BV_OK) {
		message = deliver_format(lc->message, code);
		rc = message ? deliver_message(lc, ctx->dest, message, out)
			     : BV_NOMEM;
		/* A code that may be live must not pass for an outage. */
		wrc = rc != BV_OK ? forget_code(ctx) : BV_OK;
		if (wrc != BV_OK)
			rc = wrc;
	}
	explicit_bzero(code, sizeof(code));
	bv_free_secret(message);
	return rc;
}

/* Add a proof token's hash, the oldest going when there is no room. */
static void
add_token(struct store_record *rec, const char *hash, time_t expires)
{
	struct store_token *t;

	if (rec->ntokens == STORE_MAX_TOKENS)
		rec->ntokens =
		    drop(rec->tokens, rec->ntokens, sizeof(rec->tokens[0]), 0);
	t = &rec->tokens[rec->ntokens++];
	t->expires = expires;
	snprintf(t->hash, sizeof(t->hash), "%s", hash);
}

/*
 * Which live code the typed one is, compared without the lock: an entry
 * an earlier version wrote is a slow hash, and every login of the user
 * (and every other check) would wait for it.  *hit gets that code's
 * entry, or "" for none.  BV_EXPIRED / BV_MAX_ATTEMPTS when no code could
 * match.
 */
static enum bv_result
find_code(struct bv_ctx *ctx, const struct local_mac *mac, const char *code,
	  char *hit, struct bv_outcome *out)
{
	const struct local_config *lc = conf_of(ctx);
	char live[STORE_MAX_CODES][STORE_HASH_MAX];
	size_t i, nlive = 0, ncodes;
	struct store_txn txn;
	enum bv_result rc;

	hit[0] = '\0';
	rc = store_open(ctx->cfg, ctx->user, ctx->log, &txn);
	if (rc == BV_OK) {
		store_prune(&txn.rec, time(NULL));
		for (i = 0; i < txn.rec.ncodes; i++)
			if (txn.rec.codes[i].attempts < lc->max_attempts)
				memcpy(live[nlive++], txn.rec.codes[i].hash,
				       STORE_HASH_MAX);
	}
	ncodes = txn.rec.ncodes;
	/* Nothing can match: the codes that ran out leave the record now. */
	if (rc == BV_OK && (ncodes == 0 || nlive == 0))
		rc = store_commit(&txn);
	store_close(&txn);
	if (rc != BV_OK)
		return rc;
	if (ncodes == 0 || nlive == 0) {
		snprintf(out->detail, sizeof(out->detail),
			 ncodes == 0 ? "no live code (expired or never sent)"
				     : "every live code has had its attempts");
		return ncodes == 0 ? BV_EXPIRED : BV_MAX_ATTEMPTS;
	}
	for (i = 0; i < nlive && hit[0] == '\0'; i++)
		if (local_mac_matches(mac, ctx->user, LOCAL_MAC_CODE, code,
				      live[i]))
			memcpy(hit, live[i], STORE_HASH_MAX);
	return BV_OK;
}

/*
 * Under the lock, briefly: what find_code found.  A wrong code counts
 * against every live code (a guess is a guess, whichever login it came
 * through); a right one is spent, if no other login spent it meanwhile,
 * and the proof token's entry takes its place.
 */
static enum bv_result
apply_check(struct bv_ctx *ctx, struct store_record *rec, const char *hit,
	    const char *token_hash, struct bv_outcome *out)
{
	const struct local_config *lc = conf_of(ctx);
	time_t now = time(NULL);
	size_t i;

	store_prune(rec, now);
	if (hit[0] == '\0') {
		for (i = 0; i < rec->ncodes; i++)
			rec->codes[i].attempts++;
		/* The newest code is the one this login is waiting for. */
		out->attempts_left =
		    rec->ncodes == 0 ? 0
				     : lc->max_attempts -
					   rec->codes[rec->ncodes - 1].attempts;
		if (out->attempts_left < 0)
			out->attempts_left = 0;
		snprintf(out->detail, sizeof(out->detail), "code mismatch");
		return BV_WRONG_CODE;
	}
	for (i = 0; i < rec->ncodes; i++)
		if (strcmp(rec->codes[i].hash, hit) == 0 &&
		    rec->codes[i].attempts < lc->max_attempts)
			break;
	if (i == rec->ncodes) {
		snprintf(out->detail, sizeof(out->detail),
			 "the code expired or was used meanwhile");
		return BV_EXPIRED;
	}
	/* Single use: the code is gone, a proof token takes its place. */
	rec->ncodes = drop(rec->codes, rec->ncodes, sizeof(rec->codes[0]), i);
	add_token(rec, token_hash, now + TOKEN_TTL);
	return BV_OK;
}

static enum bv_result
local_check(struct bv_ctx *ctx, const char *code, struct bv_proof *proof,
	    struct bv_outcome *out)
{
	char token[2 * TOKEN_BYTES + 1] = "";
	char hit[STORE_HASH_MAX], token_hash[STORE_HASH_MAX] = "";
	struct store_txn txn = {0};
	struct local_mac mac;
	enum bv_result rc, wrc;

	out->action = "verify";
	rc = local_mac_open(ctx->cfg, ctx->log, &mac);
	if (rc == BV_OK)
		rc = find_code(ctx, &mac, code, hit, out);
	if (rc == BV_OK && hit[0] != '\0') {
		rc = random_token(token, sizeof(token));
		if (rc == BV_OK)
			rc = local_mac_seal(&mac, ctx->user, LOCAL_MAC_TOKEN,
					    token, token_hash);
	}
	local_mac_close(&mac);
	if (rc == BV_OK)
		rc = store_open(ctx->cfg, ctx->user, ctx->log, &txn);
	if (rc != BV_OK)
		goto out;
	rc = apply_check(ctx, &txn.rec, hit, token_hash, out);
	/* Attempt counts and single use must reach the disk either way. */
	wrc = store_commit(&txn);
	if (wrc != BV_OK)
		rc = wrc;
	if (rc == BV_OK) {
		proof->token = strdup(token);
		proof->expires = time(NULL) + TOKEN_TTL;
		rc = proof->token ? BV_OK : BV_NOMEM;
	}
out:
	store_close(&txn);
	explicit_bzero(token, sizeof(token));
	return rc;
}

static enum bv_result
local_validate(struct bv_ctx *ctx, const char *token, bool consume,
	       struct bv_outcome *out)
{
	struct store_txn txn = {0};
	struct local_mac mac;
	enum bv_result rc;
	size_t i;

	out->action = consume ? "consume" : "validate";
	rc = local_mac_open(ctx->cfg, ctx->log, &mac);
	if (rc == BV_OK)
		rc = store_open(ctx->cfg, ctx->user, ctx->log, &txn);
	if (rc != BV_OK)
		goto out;
	store_prune(&txn.rec, time(NULL));
	for (i = 0; i < txn.rec.ntokens; i++)
		if (local_mac_matches(&mac, ctx->user, LOCAL_MAC_TOKEN, token,
				      txn.rec.tokens[i].hash))
			break;
	if (i == txn.rec.ntokens) {
		snprintf(out->detail, sizeof(out->detail),
			 "proof token unknown, used or expired");
		rc = BV_REJECTED;
		goto out;
	}
	if (consume) {
		txn.rec.ntokens = drop(txn.rec.tokens, txn.rec.ntokens,
				       sizeof(txn.rec.tokens[0]), i);
		rc = store_commit(&txn);
	}
out:
	local_mac_close(&mac);
	store_close(&txn);
	return rc;
}

/*
 * baxverify check: the delivery command or file, sending nothing, then
 * the host key, making nothing: "...: ok; host key PATH: ok".
 */
static enum bv_result
local_probe(struct bv_ctx *ctx, char *said, size_t saidsz,
	    struct bv_outcome *out)
{
	char key[PATH_MAX + 128];
	enum bv_result rc;
	size_t n;

	out->action = "check";
	rc = deliver_probe(conf_of(ctx), said, saidsz);
	if (rc != BV_OK)
		return rc;
	rc = local_key_check(ctx->cfg->store_dir, key, sizeof(key));
	n = strlen(said);
	snprintf(said + n, saidsz - n, "; %s", key);
	return rc;
}

const struct bv_provider local_provider = {
    .info = &local_info,
    .state_size = sizeof(struct local_state),
    .send = local_send,
    .check = local_check,
    .validate = local_validate,
    .probe = local_probe,
};
