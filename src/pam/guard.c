/*
 * guard.c - what the local store adds around any provider: the per-user
 * send limit (SMS pumping), the lockout after repeated failures, the
 * sudo-style grace window, and break-glass recovery codes.  Each is one
 * short transaction on the user's store record.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"
#include "../store/store.h"

/*
 * When the login session sid began (field 22 of /proc/SID/stat, in clock
 * ticks since boot), or 0.  With the session id it names one terminal
 * session: a pty number alone is reused by the next login on it.
 */
static unsigned long long
session_start(pid_t sid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)sid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces; fields resume after its ')'. */
	p = strrchr(buf, ')');
	for (field = 2; p != NULL && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

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

/* A PAM item as text, "-" when unset or empty. */
static const char *
item_text(const struct auth_state *st, int type)
{
	const void *item = NULL;

	if (pam_get_item(st->pamh, type, &item) != PAM_SUCCESS ||
	    item == NULL || *(const char *)item == '\0')
		return "-";
	return item;
}

/*
 * The grace key: service, terminal, remote host and the login session
 * (id and start time), so a success on one never opens another -- not
 * even the next login that gets the same pty.  The items are used whole
 * (not st->rhost, which is cut for the log): false when the key would
 * not fit STORE_KEY_MAX, and then no grace at all, for a cut key could
 * be another session's (a caller chooses PAM_TTY under sudo).
 */
static bool
grace_key(const struct auth_state *st, char *out, size_t outsz)
{
	pid_t sid = getsid(0);
	char session[48];
	size_t o = 0;
	bool ok;

	out[0] = '\0';
	snprintf(session, sizeof(session), "%d.%llu", (int)sid,
		 session_start(sid));
	ok = key_field(out, outsz, &o, st->service ? st->service : "-") &&
	     key_field(out, outsz, &o, item_text(st, PAM_TTY)) &&
	     key_field(out, outsz, &o, item_text(st, PAM_RHOST)) &&
	     key_field(out, outsz, &o, session);
	if (!ok) {
		out[0] = '\0';
		log_event(st, LOG_DEBUG, "no grace window: the service, "
			  "terminal and remote host are too long for a key");
	}
	return ok;
}

/*
 * Is the user locked out now?  BV_LOCKED (logged, st->retry_at set) or
 * BV_OK.  Every check of an answer asks again: another login may have
 * locked the user while this one waited at the prompt.
 */
static enum bv_result
check_locked(struct auth_state *st, const struct store_record *rec,
	     time_t now)
{
	if (rec->locked_until <= now)
		return BV_OK;
	st->retry_at = rec->locked_until;
	log_event(st, LOG_NOTICE, "denied: locked out after %ld failed "
		  "verifications", rec->failures);
	return BV_LOCKED;
}

/* Open (lock and read) the user's record, forgetting what has run out. */
static enum bv_result
open_record(struct auth_state *st, struct store_txn *txn, time_t now)
{
	enum bv_result rc;

	rc = store_open(st->cfg.store_dir, st->pam_user, &st->log, txn);
	if (rc == BV_OK)
		store_prune(&txn->rec, now);
	return rc;
}

enum bv_result
guard_begin(struct auth_state *st, bool *granted)
{
	char key[STORE_KEY_MAX];
	struct store_txn txn;
	time_t now = time(NULL);
	enum bv_result rc;
	size_t i;

	*granted = false;
	rc = open_record(st, &txn, now);
	if (rc == BV_OK)
		rc = check_locked(st, &txn.rec, now);
	if (rc != BV_OK || st->cfg.remember <= 0 ||
	    !grace_key(st, key, sizeof(key)))
		goto out;
	for (i = 0; i < txn.rec.nremember; i++)
		if (strcmp(txn.rec.remember[i].key, key) == 0)
			*granted = true;
out:
	store_close(&txn);
	return rc;
}

enum bv_result
guard_check_locked(struct auth_state *st)
{
	struct store_txn txn;
	time_t now = time(NULL);
	enum bv_result rc;

	rc = open_record(st, &txn, now);
	if (rc == BV_OK)
		rc = check_locked(st, &txn.rec, now);
	store_close(&txn);
	return rc;
}

enum bv_result
guard_count_send(struct auth_state *st)
{
	struct store_txn txn;
	time_t now = time(NULL);
	enum bv_result rc;

	if (st->cfg.max_sends_per_hour <= 0)
		return BV_OK;
	rc = open_record(st, &txn, now);
	if (rc != BV_OK)
		goto out;
	if ((long)txn.rec.nsends >= st->cfg.max_sends_per_hour) {
		/* sends[] is in time order: the oldest frees a slot first. */
		st->retry_at = txn.rec.sends[0] + 3600;
		log_event(st, LOG_NOTICE, "send refused: %zu codes in the last "
			  "hour (limits.max_sends_per_hour = %ld)",
			  txn.rec.nsends, st->cfg.max_sends_per_hour);
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
guard_failed(struct auth_state *st)
{
	struct store_txn txn;
	time_t now = time(NULL);
	enum bv_result rc;

	if (st->cfg.deny <= 0)
		return BV_OK;
	rc = open_record(st, &txn, now);
	if (rc != BV_OK)
		goto out;
	txn.rec.failures++;
	if (txn.rec.failures >= st->cfg.deny) {
		txn.rec.locked_until = now + st->cfg.unlock_time;
		st->retry_at = txn.rec.locked_until;
	}
	rc = store_commit(&txn);
	if (rc == BV_OK && txn.rec.locked_until > now) {
		log_event(st, LOG_WARNING, "locked out for %lds after %ld "
			  "failed verifications", st->cfg.unlock_time,
			  txn.rec.failures);
		rc = BV_LOCKED;
	}
out:
	store_close(&txn);
	return rc;
}

enum bv_result
guard_succeeded(struct auth_state *st)
{
	struct store_remember *slot = NULL;
	char key[STORE_KEY_MAX];
	struct store_txn txn;
	time_t now = time(NULL);
	enum bv_result rc;
	size_t i;

	rc = open_record(st, &txn, now);
	/* A lockout that began since this login's last check stands: a
	   success never lifts one (only unlock_time or baxverify reset). */
	if (rc == BV_OK)
		rc = check_locked(st, &txn.rec, now);
	if (rc != BV_OK)
		goto out;
	txn.rec.failures = 0;
	if (st->cfg.remember > 0 && grace_key(st, key, sizeof(key))) {
		for (i = 0; i < txn.rec.nremember && slot == NULL; i++)
			if (strcmp(txn.rec.remember[i].key, key) == 0)
				slot = &txn.rec.remember[i];
		if (slot == NULL && txn.rec.nremember < STORE_MAX_REMEMBER)
			slot = &txn.rec.remember[txn.rec.nremember++];
		if (slot == NULL) /* full: the oldest entry goes */
			slot = &txn.rec.remember[0];
		snprintf(slot->key, sizeof(slot->key), "%s", key);
		slot->until = now + st->cfg.remember;
	}
	rc = store_commit(&txn);
out:
	store_close(&txn);
	return rc;
}

enum bv_result
guard_recovery_left(struct auth_state *st, size_t *left)
{
	struct store_txn txn;
	enum bv_result rc;

	*left = 0;
	rc = store_open(st->cfg.store_dir, st->pam_user, &st->log, &txn);
	if (rc == BV_OK)
		*left = txn.rec.nrecovery;
	store_close(&txn);
	return rc;
}

enum bv_result
guard_use_recovery(struct auth_state *st, const char *digits, bool *used)
{
	struct store_txn txn;
	enum bv_result rc;
	size_t i;

	*used = false;
	/* Locked out: the code is not even looked at, so not spent, and
	   the lockout stays (checked in this transaction, under the lock). */
	rc = open_record(st, &txn, time(NULL));
	if (rc == BV_OK)
		rc = check_locked(st, &txn.rec, time(NULL));
	if (rc != BV_OK)
		goto out;
	for (i = 0; i < txn.rec.nrecovery && !*used; i++)
		*used = store_hash_matches(digits, txn.rec.recovery[i]);
	if (!*used)
		goto out;
	/* Single use: the matching hash (at i - 1) leaves the record. */
	memmove(txn.rec.recovery[i - 1], txn.rec.recovery[i],
		STORE_HASH_MAX * (txn.rec.nrecovery - i));
	txn.rec.nrecovery--;
	rc = store_commit(&txn);
	if (rc == BV_OK)
		log_event(st, LOG_NOTICE, "RECOVERY CODE USED; %zu left",
			  txn.rec.nrecovery);
	else
		*used = false;
out:
	store_close(&txn);
	return rc;
}
