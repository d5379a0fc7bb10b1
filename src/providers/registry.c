/*
 * registry.c - the providers this build knows, by name.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "baxverify.h"
#include "../core/wipe.h"

/* NULL-terminated; the first entry is the default provider. */
static const struct bv_provider *const providers[] = {
	&baxverify_provider, /* BaxVerify SMS OTP (primary) */
	NULL,
};

const struct bv_provider *
provider_find(const char *name)
{
	size_t i;

	for (i = 0; providers[i] != NULL; i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

void
bv_proof_clear(struct bv_proof *proof)
{
	bv_free_secret(proof->token);
	free(proof->phone);
	proof->token = NULL;
	proof->phone = NULL;
	proof->expires = 0;
}
