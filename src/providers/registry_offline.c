/*
 * registry_offline.c - the providers that need no network: the local
 * provider alone.  Linked into baxverify-helper-local, which the module
 * starts when every listed provider is BV_CAP_OFFLINE: no libcurl, TLS
 * library or resolver is loaded for a login that sends nothing over the
 * network, and loading them is most of what a helper's start costs.
 */
#include "config.h"

#include <stddef.h>

#include "provider.h"
#include "local.h"

static const struct bv_provider *const providers[] = {
    &local_provider, /* codes made and checked on this host */
    NULL,
};

const struct bv_provider *const *
provider_registry(void)
{
	return providers;
}

/* No network provider here: no transport to open. */
enum bv_result
provider_transport_open(const struct bv_config *cfg, struct http_client **http)
{
	(void)cfg;
	*http = NULL;
	return BV_OK;
}

void
provider_transport_close(struct http_client *http)
{
	(void)http;
}

void
provider_registry_done(void)
{
}
