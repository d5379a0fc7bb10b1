/*
 * baxverify_info.c - BaxVerify SMS OTP as the configuration and the
 * module know it: its name, what it can do, its channel and the
 * baxverify.* keys.  Its operations are in baxverify.c, which needs
 * libcurl and cJSON: the PAM module links this file, never that one.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api_conf.h"
#include "baxverify.h"

#define BAX(field) offsetof(struct baxverify_config, field)

/* The baxverify.* group.  An entry here is all it takes to add a key. */
static const struct cfg_key keys[] = {
    {"baxverify.api_url", NULL, CFG_STRING, BAX(api_url), &cfg_check_https_url,
     0, 0},
    {"baxverify.project_id", NULL, CFG_STRING, BAX(project_id),
     &cfg_check_nonempty, 0, 0},
    {"baxverify.api_key", NULL, CFG_STRING, BAX(api_key), &cfg_check_secret, 0,
     0},
    {"baxverify.api_key_file", NULL, CFG_STRING, BAX(api_key_file),
     &cfg_check_path, 0, 0},
    {"baxverify.purpose", "purpose", CFG_STRING, BAX(purpose), &cfg_check_word,
     0, 0},
    {"baxverify.validate_token", NULL, CFG_BOOL, BAX(validate_token), NULL, 0,
     0},
};

static enum bv_result
bax_defaults(void *conf)
{
	struct baxverify_config *c = conf;

	c->validate_token = true;
	c->api_url = strdup("https://api.baxcloud.tech/v1");
	c->purpose = strdup("LOGIN");
	return c->api_url != NULL && c->purpose != NULL ? BV_OK : BV_NOMEM;
}

static enum bv_result
bax_check(void *conf, const char *path, const struct bv_log *log)
{
	struct baxverify_config *c = conf;
	enum bv_result rc;

	api_conf_trim_url(c->api_url);
	rc = api_conf_require(path, baxverify_info.name, "project_id",
			      c->project_id, log);
	if (rc == BV_OK)
		rc = api_conf_key(path, baxverify_info.name, &c->api_key,
				  c->api_key_file, log);
	return rc;
}

static bool
bax_validate_token(const void *conf)
{
	const struct baxverify_config *c = conf;

	return c->validate_token;
}

/* BaxVerify SMS OTP (the default provider). */
const struct bv_provider_info baxverify_info = {
    .name = "baxverify",
    .caps = BV_CAP_VALIDATE | BV_CAP_CONSUMES,
    .channels = BV_CHANNEL_BIT(BV_CHANNEL_SMS),
    .keys = keys,
    .nkeys = sizeof(keys) / sizeof(keys[0]),
    .conf_size = sizeof(struct baxverify_config),
    .defaults = bax_defaults,
    .check = bax_check,
    .validate_token = bax_validate_token,
};
