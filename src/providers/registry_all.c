/*
 * registry_all.c - every provider's operations, and the HTTPS transport
 * the network ones share.  Linked into baxverify-helper and the CLI:
 * this pulls in libcurl and cJSON.  In the catalog's order (catalog.c):
 * one line per provider.
 */
#include "config.h"

#include <curl/curl.h>

#include "provider.h"
#include "baxverify.h"
#include "local.h"
#include "mudbase.h"
#include "tryvox.h"
#include "../core/http.h"

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

enum bv_result
provider_transport_open(const struct bv_config *cfg, struct http_client **http)
{
	return http_client_new(&cfg->http, http);
}

void
provider_transport_close(struct http_client *http)
{
	http_client_free(http);
}

void
provider_registry_done(void)
{
	curl_global_cleanup();
}
