/*
 * registry.c - the providers' operations.  Linked into the helper and
 * the CLI only: these pull in libcurl and cJSON.  The module-safe half
 * of each provider is listed in catalog.c, in the same order.
 */
#include "config.h"

#include <stdlib.h>

#include "provider.h"
#include "baxverify.h"
#include "local.h"
#include "mudbase.h"
#include "tryvox.h"
#include "../core/wipe.h"

/* NULL-terminated, in the catalog's order: one line per provider. */
static const struct bv_provider *const providers[] = {
    &baxverify_provider, /* BaxVerify SMS OTP (primary) */
    &tryvox_provider,	 /* Tryvox Verify: sms, voice, whatsapp, email */
    &mudbase_provider,	 /* Mudbase OTP: sms, email; no API key */
    &local_provider,	 /* codes made and checked on this host */
    NULL,
};

const struct bv_provider *const *
provider_registry(void)
{
	return providers;
}

const struct bv_provider *
provider_ops(const struct bv_provider_info *info)
{
	size_t i;

	for (i = 0; info != NULL && providers[i] != NULL; i++)
		if (providers[i]->info == info)
			return providers[i];
	return NULL;
}

const struct bv_provider *
provider_find(const char *name)
{
	return provider_ops(provider_info_find(name));
}

enum bv_result
provider_state_new(const struct bv_provider *p, void **state)
{
	*state = NULL;
	if (p == NULL || p->state_size == 0)
		return BV_OK;
	*state = calloc(1, p->state_size);
	return *state != NULL ? BV_OK : BV_NOMEM;
}

void
provider_state_free(const struct bv_provider *p, void *state)
{
	if (p == NULL || state == NULL)
		return;
	if (p->state_clear != NULL)
		p->state_clear(state);
	bv_free_secret_len(state, p->state_size);
}
