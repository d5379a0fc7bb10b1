/*
 * conf.h - loading and validating baxverify.conf and the module arguments.
 *
 * One key table for the core (conf.c) and one per provider (its own
 * group, handed over with the catalog) serve the file, the module
 * arguments and the CLI.  Anything unknown or invalid is an error naming
 * the file, line and key: a typo must never switch two-factor
 * authentication off.
 */
#ifndef BV_CONF_H
#define BV_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "channel.h"
#include "log.h"
#include "result.h"

/* provider_info.h: what cfg_load is told of each provider. */
struct bv_provider_info;

/*
 * The most limits.max_sends_per_hour may be: the store keeps that many
 * send times per user (STORE_MAX_SENDS).
 */
#define CFG_MAX_SENDS_PER_HOUR 64

/* The most health_retry may be: an hour.  A provider down for longer
   is one to take out of "provider". */
#define CFG_MAX_HEALTH_RETRY 3600

enum bv_failmode {
	BV_FAILMODE_SECURE = 0, /* service unreachable: deny */
	BV_FAILMODE_SAFE /* service unreachable: let the user in, loudly */
};

struct bv_http_config {
	char *ca_file;	      /* extra CA bundle, or NULL */
	long connect_timeout; /* seconds */
	long timeout;	      /* seconds, whole request */
	char *proxy;	      /* explicit proxy URL, or NULL: never from env */
};

struct bv_config {
	char *path;	  /* the file this came from */
	char *helper;	  /* baxverify-helper, root-owned */
	char **providers; /* names, NULL-terminated, failover order */
	/* Seconds a provider that failed with an outage is tried only
	   after the others (the store's health record); 0: off. */
	long health_retry;
	/* The providers of this build (cfg_load's catalog, NULL-terminated)
	   and each one's own group: provider_conf[i] is catalog[i]'s
	   struct (cfg_provider_conf). */
	const struct bv_provider_info *const *catalog;
	void **provider_conf;
	/* The channel menu, in order; none (0): the first provider's own. */
	enum bv_channel channels[BV_CHANNEL_COUNT];
	size_t nchannels;
	char *store_dir;	 /* the local store */
	long max_sends_per_hour; /* per user, across processes; 0: off */
	long deny;		 /* failed verifications before a lockout */
	long unlock_time;	 /* seconds a lockout lasts */
	bool recovery;		 /* accept recovery codes at the prompt */
	long remember;		 /* grace seconds after a success; 0: off */
	struct bv_http_config http;
	char *phones_file;
	bool phones_gecos;
	char *prompt;
	long max_tries;
	long max_sends;
	enum bv_failmode failmode;
	bool nullok;
	bool debug;
	bool consume_token; /* module argument, session side */
	char **groups;	    /* NULL-terminated fnmatch patterns, "!" negates */
};

/*
 * Read the configuration: defaults, then the file (conf= from argv or the
 * built-in path), then the module arguments, then cross-field checks and
 * each listed provider's own (its key file among them).  catalog is
 * every provider this build has, NULL-terminated (provider_catalog()):
 * their groups are the only ones the file may have besides the core's,
 * the first is the default provider.  Files may be owned by root or by
 * the process's effective uid.  Returns BV_OK, BV_CONFIG (logged) or
 * BV_NOMEM.  cfg is always safe to pass to cfg_free afterwards.
 */
enum bv_result cfg_load(struct bv_config *cfg, int argc, const char **argv,
			const struct bv_provider_info *const *catalog,
			const struct bv_log *log);

/* As cfg_load, from an explicit path and no module arguments (the CLI). */
enum bv_result cfg_load_file(struct bv_config *cfg, const char *path,
			     const struct bv_provider_info *const *catalog,
			     const struct bv_log *log);

/* Release everything, wiping every string (the API keys among them). */
void cfg_free(struct bv_config *cfg);

/*
 * Provider p's own group (its struct, as its NAME_info.c defines it), or
 * NULL when p is not of cfg's catalog.  Set and checked for every
 * provider of the catalog, listed or not.
 */
const void *cfg_provider_conf(const struct bv_config *cfg,
			      const struct bv_provider_info *p);

/*
 * The channel p sends by when nobody chose one: its own channel key,
 * else the first channel it serves (catalog.h's provider_default_channel
 * is the same for the providers' users).
 */
enum bv_channel cfg_provider_channel(const struct bv_config *cfg,
				     const struct bv_provider_info *p);

/*
 * Open a file that may hold secrets or decide who is asked: absolute path,
 * no symlink, regular file, owned by root or owner_uid, not writable by
 * group or others, and (when secret) not readable by them either.  Reads
 * at most maxlen bytes into an allocated NUL-terminated buffer.  Returns
 * BV_OK, BV_CONFIG (logged, naming the file and the reason) or BV_NOMEM.
 */
enum bv_result cfg_read_trusted_file(const char *path, bool secret,
				     size_t maxlen, const struct bv_log *log,
				     char **text, size_t *len);

#endif /* BV_CONF_H */
