/*
 * provider_info.h - what a provider is to those who never run it: its
 * name, what it can do, the channels it sends by, and its own group of
 * the configuration.
 *
 * The interface is declared here, in core, and implemented by each
 * provider in src/providers/NAME_info.c: code the PAM module maps, so no
 * libcurl and no cJSON there.  The operations (send, check, validate, a
 * probe) are a separate struct bv_provider (src/providers/provider.h),
 * linked into the helper and the CLI only.  cfg_load is handed the list
 * of these (provider_catalog()), so nothing in src/core names a provider.
 */
#ifndef BV_PROVIDER_INFO_H
#define BV_PROVIDER_INFO_H

#include <stdbool.h>
#include <stddef.h>

#include "channel.h"
#include "conf_key.h"
#include "log.h"
#include "result.h"

/* What a provider can do besides sending a code and checking it. */
enum bv_provider_cap {
	/* validate() confirms a proof it issued. */
	BV_CAP_VALIDATE = 1u << 0,
	/* validate(..., consume = true) really spends the proof. */
	BV_CAP_CONSUMES = 1u << 1,
	/* check needs what send left behind (Tryvox's verification id):
	   whoever sends and checks in two runs must carry it. */
	BV_CAP_REFERENCE = 1u << 2,
	/* Keeps per-user state in the local store: validate needs to know
	   whose proof it is. */
	BV_CAP_USER_STATE = 1u << 3,
	/* Needs no network: served by baxverify-helper-local, which maps
	   no network library (registry_offline.c), when every listed
	   provider is so. */
	BV_CAP_OFFLINE = 1u << 4,
};

struct bv_provider_info {
	/* The value of the "provider" key, the name in logs, and the name
	   of its group in the file: "tryvox" owns "tryvox.*". */
	const char *name;
	/* What it can do: BV_CAP_* bits. */
	unsigned caps;
	/* The channels it can send by: BV_CHANNEL_BIT() bits. */
	unsigned channels;

	/* Its group's key table: nkeys entries, each named "NAME.key",
	   filling its own config struct of conf_size bytes.  conf.c
	   allocates that zeroed, calls defaults(), applies the file and the
	   module arguments, and frees it by the table (every string
	   wiped): nothing may live there that the table does not name. */
	const struct cfg_key *keys;
	size_t nkeys;
	size_t conf_size;
	/* Set the defaults in conf before the file is read: BV_OK or
	   BV_NOMEM.  NULL: all zero. */
	enum bv_result (*defaults)(void *conf);
	/* The checks across its keys, run only when it is listed in
	   "provider": keys it cannot work without, api_key against
	   api_key_file, the key file read.  A failure is logged as
	   "PATH: ..." and is BV_CONFIG; else BV_OK or BV_NOMEM.  NULL:
	   nothing to check. */
	enum bv_result (*check)(void *conf, const char *path,
				const struct bv_log *log);
	/* The channel it sends by when none is chosen: its own key
	   (tryvox.channel, mudbase.method).  NULL: the first of channels. */
	enum bv_channel (*own_channel)(const void *conf);
	/* Whether a proof it issued is to be confirmed with validate()
	   before a login succeeds (its validate_token key).  NULL: never. */
	bool (*validate_token)(const void *conf);
	/* The longest one of its operations may take besides HTTP requests
	   (local.timeout: the delivery command), in seconds.  NULL: only
	   HTTP. */
	long (*timeout)(const void *conf);
};

#endif /* BV_PROVIDER_INFO_H */
