/*
 * mudbase_info.c - Mudbase OTP as the configuration and the module know
 * it: its name, what it can do, its channels and the mudbase.* keys.  Its
 * operations are in mudbase.c, which needs libcurl and cJSON: the PAM
 * module links this file, never that one.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api_conf.h"
#include "mudbase.h"

#define MUD(field) offsetof(struct mudbase_config, field)

/*
 * The mudbase.* group: no API key (the endpoints are public), and the
 * channel is called "method", as in Mudbase's API.
 */
static const struct cfg_key keys[] = {
    {"mudbase.api_url", NULL, CFG_STRING, MUD(api_url), &cfg_check_https_url, 0,
     0},
    {"mudbase.project_id", NULL, CFG_STRING, MUD(project_id),
     &cfg_check_nonempty, 0, 0},
    {"mudbase.method", NULL, CFG_CHANNEL, MUD(channel), NULL, 0, 0},
};

static enum bv_result
mud_defaults(void *conf)
{
	struct mudbase_config *c = conf;

	c->channel = BV_CHANNEL_SMS;
	c->api_url = strdup("https://cloud.mudbase.dev");
	return c->api_url != NULL ? BV_OK : BV_NOMEM;
}

static enum bv_result
mud_check(void *conf, const char *path, const struct bv_log *log)
{
	struct mudbase_config *c = conf;

	api_conf_trim_url(c->api_url);
	return api_conf_require(path, mudbase_info.name, "project_id",
				c->project_id, log);
}

static enum bv_channel
mud_own_channel(const void *conf)
{
	const struct mudbase_config *c = conf;

	return c->channel;
}

/* Mudbase OTP: no endpoint to confirm or spend a token. */
const struct bv_provider_info mudbase_info = {
    .name = "mudbase",
    .caps = 0,
    .channels =
	BV_CHANNEL_BIT(BV_CHANNEL_SMS) | BV_CHANNEL_BIT(BV_CHANNEL_EMAIL),
    .keys = keys,
    .nkeys = sizeof(keys) / sizeof(keys[0]),
    .conf_size = sizeof(struct mudbase_config),
    .defaults = mud_defaults,
    .check = mud_check,
    .own_channel = mud_own_channel,
};
