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

bool
engine_channel_is_email(const char *channel)
{
	return channel != NULL && strcmp(channel, "email") == 0;
}

const char *
engine_channel_label(const char *channel)
{
	if (channel == NULL)
		return "SMS";
	if (strcmp(channel, "voice") == 0)
		return "voice call";
	if (strcmp(channel, "whatsapp") == 0)
		return "WhatsApp";
	if (strcmp(channel, "email") == 0)
		return "email";
	return "SMS";
}

const char *
engine_destination(const struct bv_engine *e, const char *channel)
{
	return engine_channel_is_email(channel) ? e->contact.email
						: e->contact.phone;
}

void
engine_mask(const char *channel, const char *dest, char *out, size_t outsz)
{
	if (engine_channel_is_email(channel))
		email_mask(dest, out, outsz);
	else
		phone_mask(dest, out, outsz);
}

/* The channel a provider sends by when none is asked for. */
static const char *
own_channel(const struct bv_config *cfg, const char *name)
{
	const struct bv_api_config *api = cfg_api(cfg, name);
	const struct bv_provider_info *p = provider_info_find(name);

	if (api != NULL)
		return api->channel;
	return p != NULL ? p->channels[0] : NULL;
}

const char *
engine_default_channel(const struct bv_config *cfg, const char *provider)
{
	if (provider != NULL)
		return own_channel(cfg, provider);
	if (cfg->channels != NULL)
		return cfg->channels[0];
	return own_channel(cfg, cfg->providers[0]);
}

size_t
engine_wanted_channels(const struct bv_config *cfg, const char **out,
		       size_t max)
{
	size_t n = 0;

	/* No "channels" list: the first provider's own channel only. */
	if (cfg->channels == NULL) {
		out[n++] = engine_default_channel(cfg, NULL);
		return n;
	}
	for (; n < max && cfg->channels[n] != NULL; n++)
		out[n] = cfg->channels[n];
	return n;
}

/* Does any configured provider send by channel? */
static bool
channel_served(const struct bv_config *cfg, const char *channel)
{
	size_t i;

	for (i = 0; cfg->providers[i] != NULL; i++)
		if (provider_has_channel(provider_info_find(cfg->providers[i]),
					 channel))
			return true;
	return false;
}

size_t
engine_usable_channels(const struct bv_engine *e, const char **out,
		       size_t max)
{
	const char *want[ENGINE_MAX_CHANNELS];
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
		     const char *channel, bool need_validate)
{
	const struct bv_provider_info *p;
	size_t i;

	for (i = 0; cfg->providers[i] != NULL; i++) {
		p = provider_info_find(cfg->providers[i]);
		if (p == NULL || (name != NULL && strcmp(name, p->name) != 0))
			continue;
		if (channel != NULL && !provider_has_channel(p, channel))
			continue;
		if (need_validate && !p->can_validate)
			continue;
		return p;
	}
	return NULL;
}

enum bv_result
engine_select(struct bv_engine *e, enum engine_selection *sel)
{
	const char *channels[ENGINE_MAX_CHANNELS];
	bool applies = true;
	enum bv_result rc;

	*sel = ENGINE_NO_DESTINATION;
	rc = groups_user_applies(e->cfg->groups, e->user, e->log, &applies);
	if (rc != BV_OK)
		return rc;
	if (!applies) {
		engine_log(e, LOG_DEBUG, "skipped: not in the configured groups");
		*sel = ENGINE_SKIP_GROUPS;
		return BV_OK;
	}
	rc = phones_lookup(e->cfg, e->user, e->log, &e->contact);
	if (rc != BV_OK)
		return rc;
	if (engine_usable_channels(e, channels, ENGINE_MAX_CHANNELS) > 0) {
		*sel = ENGINE_ASK;
	} else if (e->cfg->nullok) {
		engine_log(e, LOG_INFO, "skipped: no phone registered (nullok)");
		*sel = ENGINE_SKIP_NULLOK;
	} else {
		engine_log(e, LOG_NOTICE, "denied: no phone registered");
	}
	return BV_OK;
}
