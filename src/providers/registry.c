/*
 * registry.c - the providers' operations, by name.  Linked into the
 * helper and the CLI only: these pull in libcurl and cJSON.
 */
#include "config.h"

#include <string.h>

#include "provider.h"
#include "baxverify.h"
#include "local.h"
#include "mudbase.h"
#include "tryvox.h"

/* NULL-terminated, in the catalog's order. */
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
		if (strcmp(providers[i]->info->name, name) == 0)
			return providers[i];
	return NULL;
}
