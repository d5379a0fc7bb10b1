/*
 * registry.c - the providers this build knows, by name, and the small
 * helpers every provider shares.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "baxverify.h"
#include "local.h"
#include "mudbase.h"
#include "tryvox.h"
#include "../core/wipe.h"

/* NULL-terminated; the first entry is the default provider. */
static const struct bv_provider *const providers[] = {
	&baxverify_provider, /* BaxVerify SMS OTP (primary) */
	&tryvox_provider,    /* Tryvox Verify: sms, voice, whatsapp, email */
	&mudbase_provider,   /* Mudbase OTP: sms, email; no API key */
	&local_provider,     /* codes made and checked on this host */
	NULL,
};

const struct bv_provider *
provider_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && providers[i] != NULL; i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

bool
provider_has_channel(const struct bv_provider *p, const char *channel)
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
