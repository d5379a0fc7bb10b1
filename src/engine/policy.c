/*
 * policy.c - what the store adds around any provider: the per-user send
 * limit (SMS pumping), the lockout after repeated failures, the
 * sudo-style grace window, and break-glass recovery codes.  Each is one
 * short transaction on the user's store record.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "engine.h"
#include "../store/store.h"

/*
 * Append one field of the grace key to out (size outsz, used *o): '|'
 * before all but the first, and every byte that could confuse the record
 * (space, control, 8-bit) or the fields ('|', '%') as %XX, so that two
 * different fields never give one key.  False when it does not fit.
 */
static bool
key_field(char *out, size_t outsz, size_t *o, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *v = (const unsigned char *)value;

	if (*o > 0 && *o + 1 < outsz)
		out[(*o)++] = '|';
	else if (*o > 0)
		return false;
	for (; *v != '\0'; v++) {
		bool plain = *v > ' ' && *v < 0x7f && *v != '|' && *v != '%';

		if (*o + (plain ? 1 : 3) >= outsz)
			return false;
		if (plain) {
			out[(*o)++] = (char)*v;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[*v >> 4];
			out[(*o)++] = hex[*v & 15];
		}
	}
	out[*o] = '\0';
	return true;
}

bool
engine_grace_key(const char *const *fields, size_t nfields, char *out,
		 size_t outsz)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < nfields; i++)
		if (!key_field(out, outsz, &o, fields[i])) {
			out[0] = '\0';
			return false;
		}
	return nfields > 0;
}

/*
 * Is the user locked out now?  BV_LOCKED (logged, e->retry_at set) or
 * BV_OK.  Every check of an answer asks again: another login may have
 * locked the user while this one waited at the prompt.
 */
static enum bv_result
check_locked(struct bv_engine *e, const struct store_record *rec, time_t now)
{
	if (rec->locked_until <= now)
		return BV_OK;
	e->retry_at = rec->locked_until;
	engine_log(e, LOG_NOTICE,
		   "denied: locked out after %ld failed "
		   "verifications",
		   rec->failures);
	return BV_LOCKED;
}

/* Open (lock and read) the user's record, forgetting what has run out. */
static enum bv_result
open_record(struct bv_engine *e, struct store_txn *txn, time_t now)
{
	enum bv_result rc;

	rc = store_open(e->cfg, e->user, e->log, txn);
	if (rc == BV_OK)
		store_prune(&txn->rec, now);
	return rc;
}

enum bv_result
engine_begin(struct bv_engine *e, bool *granted)
{
	const char *key = e->grace_key;
	struct store_txn txn;
	time_t now = engine_now(e);
	enum bv_result rc;
	size_t i;

	*granted = false;
	rc = open_record(e, &txn, now);
	if (rc == BV_OK)
		rc = check_locked(e, &txn.rec, now);
	if (rc != BV_OK || e->cfg->remember <= 0 || key == NULL)
		goto out;
	for (i = 0; i < txn.rec.nremember; i++)
		if (strcmp(txn.rec.remember[i].key, key) == 0)
			*granted = true;
out:
	store_close(&txn);
	return rc;
}

enum bv_result
engine_check_locked(struct bv_engine *e)
{
	struct store_txn txn;
	time_t now = engine_now(e);
	enum bv_result rc;

	rc = open_record(e, &txn, now);
	if (rc == BV_OK)
		rc = check_locked(e, &txn.rec, now);
	store_close(&txn);
	return rc;
}

enum bv_result
engine_count_send(struct bv_engine *e)
{
	struct store_txn txn;
	time_t now = engine_now(e);
	enum bv_result rc;

	if (e->cfg->max_sends_per_hour <= 0)
		return BV_OK;
	rc = open_record(e, &txn, now);
	if (rc != BV_OK)
		goto out;
	if ((long)txn.rec.nsends >= e->cfg->max_sends_per_hour) {
		/* sends[] is in time order: the oldest frees a slot first. */
		e->retry_at = txn.rec.sends[0] + 3600;
		engine_log(e, LOG_NOTICE,
			   "send refused: %zu codes in the last "
			   "hour (limits.max_sends_per_hour = %ld)",
			   txn.rec.nsends, e->cfg->max_sends_per_hour);
		rc = BV_RATE_LIMITED;
		goto out;
	}
	if (txn.rec.nsends == STORE_MAX_SENDS) {
		memmove(txn.rec.sends, txn.rec.sends + 1,
			sizeof(txn.rec.sends[0]) * (STORE_MAX_SENDS - 1));
		txn.rec.nsends--;
	}
	txn.rec.sends[txn.rec.nsends++] = now;
	rc = store_commit(&txn);
out:
	store_close(&txn);
	return rc;
}

enum bv_result
engine_failed(struct bv_engine *e)
{
	struct store_txn txn;
	time_t now = engine_now(e);
	enum bv_result rc;

	if (e->cfg->deny <= 0)
		return BV_OK;
	rc = open_record(e, &txn, now);
	if (rc != BV_OK)
		goto out;
	txn.rec.failures++;
	if (txn.rec.failures >= e->cfg->deny) {
		txn.rec.locked_until = now + e->cfg->unlock_time;
		e->retry_at = txn.rec.locked_until;
	}
	rc = store_commit(&txn);
	if (rc == BV_OK && txn.rec.locked_until > now) {
		engine_log(e, LOG_WARNING,
			   "locked out for %lds after %ld "
			   "failed verifications",
			   e->cfg->unlock_time, txn.rec.failures);
		rc = BV_LOCKED;
	}
out:
	store_close(&txn);
	return rc;
}

enum bv_result
engine_succeeded(struct bv_engine *e)
{
	struct store_remember *slot = NULL;
	const char *key = e->grace_key;
	struct store_txn txn;
	time_t now = engine_now(e);
	enum bv_result rc;
	bool changed;
	size_t i;

	rc = open_record(e, &txn, now);
	/* A lockout that began since this login's last check stands: a
	   success never lifts one (only unlock_time or baxverify reset). */
	if (rc == BV_OK)
		rc = check_locked(e, &txn.rec, now);
	if (rc != BV_OK)
		goto out;
	/* Nothing to write is the common case: no fsync for it. */
	changed = txn.rec.failures != 0;
	txn.rec.failures = 0;
	if (e->cfg->remember > 0 && key != NULL &&
	    strlen(key) < sizeof(slot->key)) {
		changed = true;
		for (i = 0; i < txn.rec.nremember && slot == NULL; i++)
			if (strcmp(txn.rec.remember[i].key, key) == 0)
				slot = &txn.rec.remember[i];
		if (slot == NULL && txn.rec.nremember < STORE_MAX_REMEMBER)
			slot = &txn.rec.remember[txn.rec.nremember++];
		if (slot == NULL) /* full: the oldest entry goes */
			slot = &txn.rec.remember[0];
		snprintf(slot->key, sizeof(slot->key), "%s", key);
		slot->until = now + e->cfg->remember;
	}
	if (changed)
		rc = store_commit(&txn);
out:
	store_close(&txn);
	return rc;
}

enum bv_result
engine_recovery_left(struct bv_engine *e, size_t *left)
{
	struct store_txn txn;
	enum bv_result rc;

	*left = 0;
	rc = store_open(e->cfg, e->user, e->log, &txn);
	if (rc == BV_OK)
		*left = txn.rec.nrecovery;
	store_close(&txn);
	return rc;
}

enum bv_result
engine_use_recovery(struct bv_engine *e, const char *digits, bool *used)
{
	struct store_txn txn;
	enum bv_result rc;
	size_t i;

	*used = false;
	/* Locked out: the code is not even looked at, so not spent, and
	   the lockout stays (checked in this transaction, under the lock). */
	rc = open_record(e, &txn, engine_now(e));
	if (rc == BV_OK)
		rc = check_locked(e, &txn.rec, engine_now(e));
	if (rc != BV_OK)
		goto out;
	for (i = 0; i < txn.rec.nrecovery && !*used && rc == BV_OK; i++)
		rc = e->port.match_hash(e->port.arg, digits,
					txn.rec.recovery[i], used);
	if (rc != BV_OK || !*used) {
		*used = false;
		goto out;
	}
	/* Single use: the matching hash (at i - 1) leaves the record. */
	memmove(txn.rec.recovery[i - 1], txn.rec.recovery[i],
		STORE_HASH_MAX * (txn.rec.nrecovery - i));
	txn.rec.nrecovery--;
	rc = store_commit(&txn);
	if (rc == BV_OK)
		engine_log(e, LOG_NOTICE, "RECOVERY CODE USED; %zu left",
			   txn.rec.nrecovery);
	else
		*used = false;
out:
	store_close(&txn);
	return rc;
}
