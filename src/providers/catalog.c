/*
 * catalog.c - what this build's providers are called, which channels
 * they send by and what they can do: data only, so the module, the
 * config checks and the CLI can reason about providers without mapping
 * libcurl.  The operations live in registry.c, in the helper.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "../core/wipe.h"

/* BaxVerify SMS OTP (primary). */
const struct bv_provider_info baxverify_info = {
	.name = "baxverify",
	.channels = BV_CHANNEL_BIT(BV_CHANNEL_SMS),
	.consumes = true,
	.can_validate = true,
};

/* Tryvox Verify: status says approved, but nothing is spent. */
const struct bv_provider_info tryvox_info = {
	.name = "tryvox",
	.channels = BV_CHANNELS_ALL,
	.consumes = false,
	.can_validate = true,
};

/* Mudbase OTP: no endpoint to confirm or spend a token. */
const struct bv_provider_info mudbase_info = {
	.name = "mudbase",
	.channels = BV_CHANNEL_BIT(BV_CHANNEL_SMS) |
		    BV_CHANNEL_BIT(BV_CHANNEL_EMAIL),
	.consumes = false,
	.can_validate = false,
};

/* Codes made and checked on this host. */
const struct bv_provider_info local_info = {
	.name = "local",
	.channels = BV_CHANNEL_BIT(BV_CHANNEL_SMS),
	.consumes = true,
	.can_validate = true,
};

/* NULL-terminated; the first entry is the default provider. */
static const struct bv_provider_info *const catalog[] = {
	&baxverify_info,
	&tryvox_info,
	&mudbase_info,
	&local_info,
	NULL,
};

const struct bv_provider_info *
provider_info_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && catalog[i] != NULL; i++)
		if (strcmp(catalog[i]->name, name) == 0)
			return catalog[i];
	return NULL;
}

bool
provider_has_channel(const struct bv_provider_info *p,
		     enum bv_channel channel)
{
	return p != NULL && channel_set_has(p->channels, channel);
}

enum bv_channel
provider_default_channel(const struct bv_config *cfg,
			 const struct bv_provider_info *p)
{
	const struct bv_api_config *api = cfg_api(cfg, p->name);

	return api != NULL ? api->channel : channel_set_first(p->channels);
}

void
bv_proof_clear(struct bv_proof *proof)
{
	bv_free_secret(proof->token);
	proof->token = NULL;
	proof->expires = 0;
}

void
bv_ctx_clear_ref(struct bv_ctx *ctx)
{
	bv_free_secret(ctx->ref);
	ctx->ref = NULL;
}
