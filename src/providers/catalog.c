/*
 * catalog.c - the providers this build has, as the module, the
 * configuration and the CLI may know them without their code (no
 * libcurl, no cJSON): each NAME_info.c's descriptor, and the questions
 * catalog.h answers about one.  The operations are in registry.c, in
 * the helper and the CLI.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "baxverify.h"
#include "local.h"
#include "mudbase.h"
#include "tryvox.h"
#include "../core/wipe.h"

/* NULL-terminated; the first entry is the default provider.  One line
   per provider, in registry.c's order. */
static const struct bv_provider_info *const catalog[] = {
    &baxverify_info, &tryvox_info, &mudbase_info, &local_info, NULL,
};

const struct bv_provider_info *const *
provider_catalog(void)
{
	return catalog;
}

const struct bv_provider_info *
provider_info_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && catalog[i] != NULL; i++)
		if (strcmp(catalog[i]->name, name) == 0)
			return catalog[i];
	return NULL;
}

const struct bv_provider_info *
provider_info_default(void)
{
	return catalog[0];
}

bool
provider_is_listed(const struct bv_config *cfg,
		   const struct bv_provider_info *p)
{
	size_t i;

	for (i = 0; p != NULL && cfg->providers[i] != NULL; i++)
		if (provider_info_find(cfg->providers[i]) == p)
			return true;
	return false;
}

bool
provider_has_channel(const struct bv_provider_info *p, enum bv_channel channel)
{
	return p != NULL && channel_set_has(p->channels, channel);
}

static bool
has_cap(const struct bv_provider_info *p, unsigned cap)
{
	return p != NULL && (p->caps & cap) != 0;
}

bool
provider_can_validate(const struct bv_provider_info *p)
{
	return has_cap(p, BV_CAP_VALIDATE);
}

bool
provider_consumes(const struct bv_provider_info *p)
{
	return has_cap(p, BV_CAP_CONSUMES);
}

bool
provider_needs_reference(const struct bv_provider_info *p)
{
	return has_cap(p, BV_CAP_REFERENCE);
}

bool
provider_keeps_user_state(const struct bv_provider_info *p)
{
	return has_cap(p, BV_CAP_USER_STATE);
}

enum bv_channel
provider_default_channel(const struct bv_config *cfg,
			 const struct bv_provider_info *p)
{
	return cfg_provider_channel(cfg, p);
}

bool
provider_confirms_proof(const struct bv_config *cfg,
			const struct bv_provider_info *p)
{
	const void *conf = cfg_provider_conf(cfg, p);

	return provider_can_validate(p) && p->validate_token != NULL &&
	       conf != NULL && p->validate_token(conf);
}

long
provider_longest_timeout(const struct bv_config *cfg)
{
	const struct bv_provider_info *p;
	long longest = cfg->http.timeout, t;
	size_t i;

	for (i = 0; cfg->providers[i] != NULL; i++) {
		p = provider_info_find(cfg->providers[i]);
		if (p == NULL || p->timeout == NULL ||
		    cfg_provider_conf(cfg, p) == NULL)
			continue;
		t = p->timeout(cfg_provider_conf(cfg, p));
		if (t > longest)
			longest = t;
	}
	return longest;
}

bool
provider_helper_path(const struct bv_config *cfg, char *buf, size_t size)
{
	const struct bv_provider_info *p;
	const char *slash = strrchr(cfg->helper, '/');
	bool offline = cfg->providers[0] != NULL;
	size_t i;
	int n;

	for (i = 0; offline && cfg->providers[i] != NULL; i++) {
		p = provider_info_find(cfg->providers[i]);
		offline = p != NULL && (p->caps & BV_CAP_OFFLINE) != 0;
	}
	n = snprintf(buf, size, "%s", cfg->helper);
	if (n < 0 || (size_t)n >= size)
		return false;
	if (!offline || slash == NULL)
		return true;
	n = snprintf(buf, size, "%.*s/%s", (int)(slash - cfg->helper),
		     cfg->helper, PROVIDER_OFFLINE_HELPER);
	if (n >= 0 && (size_t)n < size)
		return true;
	snprintf(buf, size, "%s", cfg->helper);
	return false;
}

void
bv_proof_clear(struct bv_proof *proof)
{
	bv_free_secret(proof->token);
	proof->token = NULL;
	proof->expires = 0;
}
