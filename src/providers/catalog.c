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

static const char *const sms_only[] = { "sms", NULL };
static const char *const tryvox_channels[] = { "sms", "voice", "whatsapp",
					       "email", NULL };
static const char *const mudbase_channels[] = { "sms", "email", NULL };

/* BaxVerify SMS OTP (primary). */
const struct bv_provider_info baxverify_info = {
	.name = "baxverify",
	.channels = sms_only,
	.consumes = true,
	.can_validate = true,
};

/* Tryvox Verify: status says approved, but nothing is spent. */
const struct bv_provider_info tryvox_info = {
	.name = "tryvox",
	.channels = tryvox_channels,
	.consumes = false,
	.can_validate = true,
};

/* Mudbase OTP: no endpoint to confirm or spend a token. */
const struct bv_provider_info mudbase_info = {
	.name = "mudbase",
	.channels = mudbase_channels,
	.consumes = false,
	.can_validate = false,
};

/* Codes made and checked on this host. */
const struct bv_provider_info local_info = {
	.name = "local",
	.channels = sms_only,
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
provider_has_channel(const struct bv_provider_info *p, const char *channel)
{
	size_t i;

	if (p == NULL || channel == NULL)
		return false;
	for (i = 0; p->channels[i] != NULL; i++)
		if (strcmp(p->channels[i], channel) == 0)
			return true;
	return false;
}

bool
provider_dest_is_email(const char *dest)
{
	return dest != NULL && strchr(dest, '@') != NULL;
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
