/*
 * registry.c - finding a provider's operations in the list this program
 * was linked with (registry_all.c: every provider, for the helper and
 * the CLI; registry_offline.c: the local provider alone, for the helper
 * that maps no network library).  The module-safe half of each provider
 * is listed in catalog.c.
 */
#include "config.h"

#include <stdlib.h>

#include "provider.h"
#include "../core/wipe.h"

const struct bv_provider *
provider_ops(const struct bv_provider_info *info)
{
	size_t i;

	const struct bv_provider *const *providers = provider_registry();

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
