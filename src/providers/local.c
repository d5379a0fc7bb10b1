/*
 * local.c - provider = "local".
 *
 * send: a fresh code from getrandom(2), its crypt(3) hash with expiry and
 * attempt count in the user's store record, the message delivered by the
 * configured command or file.  check: under the record's lock, compare in
 * constant time, count the attempt, and on success replace the code with
 * a random opaque proof token (hash stored, token exported).  validate:
 * the token's hash and expiry; consume removes it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "deliver.h"
#include "local.h"
#include "../core/text.h"
#include "../core/wipe.h"
#include "../store/store.h"

/* Proof tokens: 32 random bytes, hex. */
#define TOKEN_BYTES 32
/* How long a local proof token stays valid. */
#define TOKEN_TTL 900

static const char *const local_channels[] = { "sms", NULL };

static bool
fill_random(unsigned char *buf, size_t n)
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
		if (!fill_random(b, sizeof(b)))
			return BV_UNAVAILABLE;
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

	if (outsz < 2 * TOKEN_BYTES + 1 || !fill_random(b, sizeof(b)))
		return BV_UNAVAILABLE;
	for (i = 0; i < TOKEN_BYTES; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * TOKEN_BYTES] = '\0';
	explicit_bzero(b, sizeof(b));
	return BV_OK;
}

/* Record a new code's hash (replacing any older code). */
static enum bv_result
remember_code(struct bv_ctx *ctx, const char *code)
{
	const struct bv_local_config *lc = &ctx->cfg->local;
	struct store_txn txn;
	char hash[STORE_HASH_MAX];
	enum bv_result rc;

	rc = store_hash(code, hash);
	if (rc != BV_OK)
		return rc;
	rc = store_open(ctx->cfg->store_dir, ctx->user, ctx->log, &txn);
	if (rc == BV_OK) {
		snprintf(txn.rec.code_hash, sizeof(txn.rec.code_hash), "%s",
			 hash);
		txn.rec.code_expires = time(NULL) + lc->ttl;
		txn.rec.code_attempts = 0;
		rc = store_commit(&txn);
	}
	store_close(&txn);
	return rc;
}

static enum bv_result
local_send(struct bv_ctx *ctx, struct bv_outcome *out)
{
	const struct bv_local_config *lc = &ctx->cfg->local;
	char code[CODE_MAX_DIGITS + 1];
	char *message = NULL;
	enum bv_result rc;

	out->action = "send";
	rc = local_random_digits(code, (size_t)lc->code_length);
	if (rc == BV_OK)
		rc = remember_code(ctx, code);
	if (rc == BV_OK) {
		message = deliver_format(lc->message, code);
		rc = message ? deliver_message(lc, ctx->dest, message, out)
			     : BV_NOMEM;
	}
	explicit_bzero(code, sizeof(code));
	bv_free_secret(message);
	return rc;
}

/* Under the lock: the typed code against the stored hash. */
static enum bv_result
check_locked(struct bv_ctx *ctx, struct store_txn *txn, const char *code,
	     char *token, struct bv_outcome *out)
{
	const struct bv_local_config *lc = &ctx->cfg->local;
	struct store_record *rec = &txn->rec;
	time_t now = time(NULL);
	enum bv_result rc;

	if (rec->code_hash[0] == '\0' || rec->code_expires <= now) {
		rec->code_hash[0] = '\0';
		snprintf(out->detail, sizeof(out->detail),
			 "no live code (expired or never sent)");
		return BV_EXPIRED;
	}
	if (rec->code_attempts >= lc->max_attempts) {
		snprintf(out->detail, sizeof(out->detail),
			 "code has had its %ld attempts", lc->max_attempts);
		return BV_MAX_ATTEMPTS;
	}
	if (!store_hash_matches(code, rec->code_hash)) {
		rec->code_attempts++;
		out->attempts_left = lc->max_attempts - rec->code_attempts;
		snprintf(out->detail, sizeof(out->detail), "code mismatch");
		return BV_WRONG_CODE;
	}
	/* Single use: the code is gone, a proof token takes its place. */
	rec->code_hash[0] = '\0';
	rec->code_attempts = 0;
	rc = random_token(token, 2 * TOKEN_BYTES + 1);
	if (rc == BV_OK)
		rc = store_hash(token, rec->token_hash);
	rec->token_expires = now + TOKEN_TTL;
	return rc;
}

static enum bv_result
local_check(struct bv_ctx *ctx, const char *code, struct bv_proof *proof,
	    struct bv_outcome *out)
{
	char token[2 * TOKEN_BYTES + 1] = "";
	struct store_txn txn;
	enum bv_result rc, wrc;

	out->action = "verify";
	rc = store_open(ctx->cfg->store_dir, ctx->user, ctx->log, &txn);
	if (rc != BV_OK)
		goto out;
	rc = check_locked(ctx, &txn, code, token, out);
	/* Attempt counts and single use must reach the disk either way. */
	wrc = store_commit(&txn);
	if (wrc != BV_OK)
		rc = wrc;
	if (rc == BV_OK) {
		proof->token = strdup(token);
		proof->expires = txn.rec.token_expires;
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
	struct store_txn txn;
	enum bv_result rc;

	out->action = consume ? "consume" : "validate";
	rc = store_open(ctx->cfg->store_dir, ctx->user, ctx->log, &txn);
	if (rc != BV_OK)
		goto out;
	if (txn.rec.token_expires <= time(NULL) ||
	    !store_hash_matches(token, txn.rec.token_hash)) {
		snprintf(out->detail, sizeof(out->detail),
			 "proof token unknown, used or expired");
		rc = BV_REJECTED;
		goto out;
	}
	if (consume) {
		txn.rec.token_hash[0] = '\0';
		txn.rec.token_expires = 0;
		rc = store_commit(&txn);
	}
out:
	store_close(&txn);
	return rc;
}

const struct bv_provider local_provider = {
	.name = "local",
	.channels = local_channels,
	.send = local_send,
	.check = local_check,
	.consumes = true,
	.validate = local_validate,
};
