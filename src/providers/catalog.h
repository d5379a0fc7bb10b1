/*
 * catalog.h - the providers this build has, and what anyone may ask of
 * one without running it: the PAM module (which never maps libcurl), the
 * configuration's checks, the verification engine and the CLI.
 *
 * Everything here is module-safe: catalog.c and the NAME_info.c files,
 * in libcore.  The operations are in provider.h (libnet).  These calls
 * are a stable interface for the verification engine, the module and the
 * CLI (tests/unit/test_catalog.c holds them to it); a NULL provider is
 * answered with false (or the neutral value), never a crash.
 */
#ifndef BV_PROVIDER_CATALOG_H
#define BV_PROVIDER_CATALOG_H

#include <stdbool.h>

#include "../core/channel.h"
#include "../core/conf.h"
#include "../core/provider_info.h"

/*
 * Every provider of this build, NULL-terminated, in a fixed order; the
 * first is the default value of the "provider" key.  What cfg_load is
 * handed.
 */
const struct bv_provider_info *const *provider_catalog(void);

/* The provider called name, or NULL (unknown, or name NULL). */
const struct bv_provider_info *provider_info_find(const char *name);

/* The default provider: the one "provider" means when not set. */
const struct bv_provider_info *provider_info_default(void);

/* Does cfg's "provider" list p? */
bool provider_is_listed(const struct bv_config *cfg,
			const struct bv_provider_info *p);

/* Can p send by channel? */
bool provider_has_channel(const struct bv_provider_info *p,
			  enum bv_channel channel);

/* Capabilities (BV_CAP_*, provider_info.h), one call each. */
/* Can validate() confirm a proof p issued? */
bool provider_can_validate(const struct bv_provider_info *p);
/* Does validate(..., consume = true) really spend it? */
bool provider_consumes(const struct bv_provider_info *p);
/* Does check need what send left (a reference: Tryvox's verification
   id), so that a send and a check in two runs must carry it? */
bool provider_needs_reference(const struct bv_provider_info *p);
/* Does p keep per-user state in the local store (validate needs the
   user)? */
bool provider_keeps_user_state(const struct bv_provider_info *p);

/*
 * The channel p sends by when nobody chose one: its own channel key
 * (tryvox.channel, mudbase.method), else the first it serves.  SMS for a
 * NULL provider.
 */
enum bv_channel provider_default_channel(const struct bv_config *cfg,
					 const struct bv_provider_info *p);

/*
 * Is a proof p issued to be confirmed with validate() before a login
 * succeeds?  p can validate and its validate_token key is on.
 */
bool provider_confirms_proof(const struct bv_config *cfg,
			     const struct bv_provider_info *p);

/*
 * The longest, in seconds, one provider operation of cfg may take in the
 * helper: http.timeout, or a listed provider's own longer limit (the
 * local provider's delivery command, local.timeout).  For the deadline
 * the module gives the helper.
 */
long provider_longest_timeout(const struct bv_config *cfg);

/* The offline helper's name, beside the configured helper. */
#define PROVIDER_OFFLINE_HELPER "baxverify-helper-local"

/*
 * The helper the module starts for cfg: the configured one (key
 * "helper"), or, when every listed provider is BV_CAP_OFFLINE, the
 * offline helper in the same directory, which loads no network library
 * and so starts several times faster.  Into buf; false when the path
 * does not fit (then buf holds the configured helper).
 */
bool provider_helper_path(const struct bv_config *cfg, char *buf, size_t size);

#endif /* BV_PROVIDER_CATALOG_H */
