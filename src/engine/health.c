/*
 * health.c - the providers' health memory.  A provider whose send failed
 * with an outage is marked down in the store's health record (one for
 * the host), and for health_retry seconds after that failure the
 * following logins send through the other listed providers first,
 * instead of each waiting for the dead one's timeout; then it is tried
 * first again.  A provider that sends clears its mark.  When every
 * provider that could send is marked down, they are tried in their
 * order: the memory only ever changes the order, never who may be asked.
 *
 * Only BV_UNAVAILABLE from a send marks a provider.  The helper reports
 * it only on network evidence (DNS, connect, TLS, timeout, 5xx, an
 * answer that is not the API's, the local delivery command's failure),
 * and never for what this host or the caller could cause (those are
 * BV_INTERNAL); a refusal (BV_REJECTED: the key, the account), a rate
 * limit and a bad destination are a working service's answers and mark
 * nothing.
 *
 * The record is read once per login, without a lock, and the order it
 * gives is kept for the whole login (a new code continues where the last
 * send stopped).  It is written only when it changes: a provider not
 * marked down fails, or one that had a mark sends; so fifty logins at
 * once during an outage make one write, not fifty.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "engine.h"
#include "../store/store.h"

/* Providers a bit mask can follow; a host lists a handful. */
#define HEALTH_BITS (sizeof(unsigned long) * CHAR_BIT)

/* The memory is on, and has two providers to choose between. */
static bool
health_on(const struct bv_config *cfg)
{
	return cfg->health_retry > 0 && cfg->providers[0] != NULL &&
	       cfg->providers[1] != NULL;
}

static unsigned long
bit(size_t idx)
{
	return idx < HEALTH_BITS ? 1UL << idx : 0;
}

/* Is m a failure within health_retry of now?  (Not one from the future:
   a clock set back must not keep a provider down for longer.) */
static bool
still_down(const struct bv_config *cfg, const struct store_mark *m, time_t now)
{
	return m->last <= now && now - m->last < cfg->health_retry;
}

/* "2026-12-06 10:00:01 UTC": never the caller's TZ. */
static void
format_time(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outsz, "%lld", (long long)t);
}

/* Can cfg->providers[idx] send by the login's channel? */
static bool
serves(const struct bv_engine *e, size_t idx)
{
	return provider_has_channel(provider_info_find(e->cfg->providers[idx]),
				    e->channel);
}

/*
 * Say, once per login, what the memory changes: each provider marked
 * down that would have been asked before the first one that is not, or
 * that every provider for the channel is marked down.
 */
static void
explain(const struct bv_engine *e, struct store_health *h)
{
	const char *const *p = (const char *const *)e->cfg->providers;
	const struct store_mark *m;
	char since[40];
	size_t i, up;

	for (up = 0; p[up] != NULL; up++)
		if (serves(e, up) && (e->health_down & bit(up)) == 0)
			break;
	for (i = 0; i < up && p[up] != NULL; i++) {
		m = store_health_find(h, p[i]);
		if (m == NULL || (e->health_down & bit(i)) == 0 ||
		    !serves(e, i))
			continue;
		format_time(m->since, since, sizeof(since));
		engine_log(e, LOG_INFO,
			   "provider %s marked down since %s (health_retry "
			   "%ld s): trying %s first",
			   p[i], since, e->cfg->health_retry, p[up]);
	}
	if (p[up] == NULL && e->health_down != 0)
		engine_log(e, LOG_INFO,
			   "every provider that sends by %s is marked down "
			   "(health_retry %ld s): trying them in order",
			   channel_name(e->channel), e->cfg->health_retry);
}

void
engine_health_begin(struct bv_engine *e)
{
	struct store_health h;
	const struct store_mark *m;
	time_t now;
	size_t i;

	if (e->health_read)
		return;
	e->health_read = true;
	if (!health_on(e->cfg))
		return;
	now = engine_now(e);
	/* Damaged: logged by the store, and read as no marks. */
	(void)store_health_read(e->cfg, e->log, &h);
	for (i = 0; e->cfg->providers[i] != NULL; i++) {
		m = store_health_find(&h, e->cfg->providers[i]);
		if (m == NULL)
			continue;
		e->health_marked |= bit(i);
		if (still_down(e->cfg, m, now))
			e->health_down |= bit(i);
	}
	if (e->health_down != 0)
		explain(e, &h);
}

bool
engine_provider_at(const struct bv_engine *e, size_t pos, size_t *idx)
{
	const char *const *p = (const char *const *)e->cfg->providers;
	int pass;
	size_t i;

	/* First those not marked down, then those that are. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; p[i] != NULL; i++) {
			if (((e->health_down & bit(i)) != 0) != (pass == 1))
				continue;
			if (pos == 0) {
				*idx = i;
				return true;
			}
			pos--;
		}
	return false;
}

/*
 * Change provider's mark under the record's lock: down (a new mark, or
 * an old one's failure moved to now) unless another login marked it
 * down meanwhile, or cleared.  Written only when it changed.
 */
static void
change(struct bv_engine *e, const char *provider, bool down)
{
	struct store_health_txn txn;
	const struct store_mark *m;
	time_t now = engine_now(e);
	bool changed = false;

	/* Cannot lock or read: logged by the store; the next login tries
	   again.  Health is never worth failing a login over. */
	if (store_health_open(e->cfg, e->log, &txn) != BV_OK)
		goto out;
	m = store_health_find(&txn.rec, provider);
	if (down && (m == NULL || !still_down(e->cfg, m, now)))
		changed = store_health_mark(&txn.rec, provider, now);
	else if (!down)
		changed = store_health_clear(&txn.rec, provider);
	if (changed && store_health_commit(&txn) == BV_OK)
		engine_log(e, LOG_INFO,
			   down ? "provider %s marked down: for %ld s the "
				  "next logins try the others first"
				: "provider %s sends again: mark cleared "
				  "(health_retry %ld s)",
			   provider, e->cfg->health_retry);
out:
	store_health_close(&txn);
}

void
engine_health_note(struct bv_engine *e, size_t idx, enum bv_result rc)
{
	if (!health_on(e->cfg) || bit(idx) == 0)
		return;
	/* Down already: it was asked because nobody else could send.
	   Marked now: this login's order stays as it is (health_down). */
	if (rc == BV_UNAVAILABLE && (e->health_down & bit(idx)) == 0) {
		change(e, e->cfg->providers[idx], true);
		e->health_marked |= bit(idx);
	} else if (rc == BV_OK && (e->health_marked & bit(idx)) != 0) {
		change(e, e->cfg->providers[idx], false);
		e->health_marked &= ~bit(idx);
	}
}
