/*
 * select.c - who is asked, and where a code may go: the groups filter,
 * the user's destinations, the channels on offer and the provider that
 * sends by a channel.  The module and the baxverify command decide
 * these here, once.
 */
#include "config.h"

#include <string.h>
#include <syslog.h>

#include "engine.h"
#include "../core/groups.h"
#include "../core/wipe.h"

void
engine_init(struct bv_engine *e, const struct bv_config *cfg,
	    const struct bv_log *log, const char *user, const char *who)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->log = log;
	e->user = user;
	e->who = who;
}

void
engine_clear(struct bv_engine *e)
{
	bv_proof_clear(&e->proof);
	contact_clear(&e->contact);
}

time_t
engine_now(const struct bv_engine *e)
{
	return e->clock != NULL ? e->clock() : time(NULL);
}

const char *
engine_destination(const struct bv_engine *e, enum bv_channel channel)
{
	return channel_is_email(channel) ? e->contact.email : e->contact.phone;
}

void
engine_mask(enum bv_channel channel, const char *dest, char *out, size_t outsz)
{
	if (channel_is_email(channel))
		email_mask(dest, out, outsz);
	else
		phone_mask(dest, out, outsz);
}

enum bv_channel
engine_default_channel(const struct bv_config *cfg,
		       const struct bv_provider_info *provider)
{
	if (provider != NULL)
		return provider_default_channel(cfg, provider);
	if (cfg->nchannels > 0)
		return cfg->channels[0];
	return provider_default_channel(cfg,
					provider_info_find(cfg->providers[0]));
}

size_t
engine_wanted_channels(const struct bv_config *cfg, enum bv_channel *out,
		       size_t max)
{
	size_t n = 0;

	/* No "channels" list: the first provider's own channel only. */
	if (cfg->nchannels == 0) {
		out[n++] = engine_default_channel(cfg, NULL);
		return n;
	}
	for (; n < max && n < cfg->nchannels; n++)
		out[n] = cfg->channels[n];
	return n;
}

/* Does any configured provider send by channel? */
static bool
channel_served(const struct bv_config *cfg, enum bv_channel channel)
{
	size_t i;

	for (i = 0; cfg->providers[i] != NULL; i++)
		if (provider_has_channel(provider_info_find(cfg->providers[i]),
					 channel))
			return true;
	return false;
}

size_t
engine_usable_channels(const struct bv_engine *e, enum bv_channel *out,
		       size_t max)
{
	enum bv_channel want[ENGINE_MAX_CHANNELS];
	size_t i, n = 0, nwant;

	nwant = engine_wanted_channels(e->cfg, want, ENGINE_MAX_CHANNELS);
	for (i = 0; i < nwant && n < max; i++)
		if (engine_destination(e, want[i]) != NULL &&
		    channel_served(e->cfg, want[i]))
			out[n++] = want[i];
	return n;
}

const struct bv_provider_info *
engine_pick_provider(const struct bv_config *cfg, const char *name,
		     enum bv_channel channel, bool need_validate)
{
	const struct bv_provider_info *wanted = provider_info_find(name);
	const struct bv_provider_info *p;
	size_t i;

	if (name != NULL && wanted == NULL)
		return NULL;
	for (i = 0; cfg->providers[i] != NULL; i++) {
		p = provider_info_find(cfg->providers[i]);
		if (p == NULL || (wanted != NULL && p != wanted))
			continue;
		if (channel != BV_CHANNEL_COUNT &&
		    !provider_has_channel(p, channel))
			continue;
		if (need_validate && !provider_can_validate(p))
			continue;
		return p;
	}
	return NULL;
}

enum bv_result
engine_select(struct bv_engine *e, enum engine_selection *sel)
{
	enum bv_channel channels[ENGINE_MAX_CHANNELS];
	bool applies = true;
	enum bv_result rc;

	*sel = ENGINE_NO_DESTINATION;
	rc = groups_user_applies(e->cfg->groups, e->user, e->log, &applies);
	if (rc != BV_OK)
		return rc;
	if (!applies) {
		engine_log(e, LOG_DEBUG,
			   "skipped: not in the configured groups");
		*sel = ENGINE_SKIP_GROUPS;
		return BV_OK;
	}
	rc = phones_lookup(e->cfg, e->user, e->log, &e->contact);
	if (rc != BV_OK)
		return rc;
	if (engine_usable_channels(e, channels, ENGINE_MAX_CHANNELS) > 0) {
		*sel = ENGINE_ASK;
	} else if (e->cfg->nullok) {
		engine_log(e, LOG_INFO,
			   "skipped: no phone registered (nullok)");
		*sel = ENGINE_SKIP_NULLOK;
	} else {
		engine_log(e, LOG_NOTICE, "denied: no phone registered");
	}
	return BV_OK;
}
