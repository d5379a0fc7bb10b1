/*
 * tryvox_info.c - Tryvox Verify as the configuration and the module know
 * it: its name, what it can do, its channels and the tryvox.* keys.  Its
 * operations are in tryvox.c, which needs libcurl and cJSON: the PAM
 * module links this file, never that one.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api_conf.h"
#include "tryvox.h"

#define TVX(field) offsetof(struct tryvox_config, field)

/* The tryvox.* group.  An entry here is all it takes to add a key. */
static const struct cfg_key keys[] = {
    {"tryvox.api_url", NULL, CFG_STRING, TVX(api_url), &cfg_check_https_url, 0,
     0},
    {"tryvox.api_key", NULL, CFG_STRING, TVX(api_key), &cfg_check_secret, 0, 0},
    {"tryvox.api_key_file", NULL, CFG_STRING, TVX(api_key_file),
     &cfg_check_path, 0, 0},
    {"tryvox.tenant_id", NULL, CFG_STRING, TVX(tenant_id), &cfg_check_nonempty,
     0, 0},
    {"tryvox.channel", NULL, CFG_CHANNEL, TVX(channel), NULL, 0, 0},
    {"tryvox.app_name", NULL, CFG_STRING, TVX(app_name), &cfg_check_nonempty, 0,
     0},
    {"tryvox.code_length", NULL, CFG_INT, TVX(code_length), NULL, 4, 8},
    {"tryvox.validate_token", NULL, CFG_BOOL, TVX(validate_token), NULL, 0, 0},
};

static enum bv_result
tvx_defaults(void *conf)
{
	struct tryvox_config *c = conf;

	c->channel = BV_CHANNEL_SMS;
	c->code_length = 6;
	c->api_url = strdup("https://api.tryvox.io");
	c->app_name = strdup("pam_baxverify");
	return c->api_url != NULL && c->app_name != NULL ? BV_OK : BV_NOMEM;
}

static enum bv_result
tvx_check(void *conf, const char *path, const struct bv_log *log)
{
	struct tryvox_config *c = conf;
	enum bv_result rc;

	api_conf_trim_url(c->api_url);
	rc = api_conf_require(path, tryvox_info.name, "tenant_id", c->tenant_id,
			      log);
	if (rc == BV_OK)
		rc = api_conf_key(path, tryvox_info.name, &c->api_key,
				  c->api_key_file, log);
	return rc;
}

static enum bv_channel
tvx_own_channel(const void *conf)
{
	const struct tryvox_config *c = conf;

	return c->channel;
}

static bool
tvx_validate_token(const void *conf)
{
	const struct tryvox_config *c = conf;

	return c->validate_token;
}

/*
 * Tryvox Verify.  Its status can say "approved", but nothing is spent;
 * a check needs the verification id its start gave.
 */
const struct bv_provider_info tryvox_info = {
    .name = "tryvox",
    .caps = BV_CAP_VALIDATE | BV_CAP_REFERENCE,
    .channels = BV_CHANNELS_ALL,
    .keys = keys,
    .nkeys = sizeof(keys) / sizeof(keys[0]),
    .conf_size = sizeof(struct tryvox_config),
    .defaults = tvx_defaults,
    .check = tvx_check,
    .own_channel = tvx_own_channel,
    .validate_token = tvx_validate_token,
};
