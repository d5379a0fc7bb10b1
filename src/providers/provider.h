/*
 * provider.h - the interface every verification provider implements.
 *
 * A provider is two halves:
 *  - struct bv_provider_info (src/core/provider_info.h), filled in
 *    src/providers/NAME_info.c: its name, capabilities, channels and
 *    config group.  Module-safe: the PAM module, the configuration and
 *    the CLI read it (catalog.h).
 *  - struct bv_provider (here), filled in src/providers/NAME.c: its
 *    operations and per-login state, which need libcurl and cJSON (or
 *    run the delivery command).  Only the helper and the CLI link them.
 * The module links libcore only and must not map libcurl: a descriptor
 * and its operations cannot share an object file without pulling one
 * into the other, so they are two files, and two registries (catalog.c,
 * registry.c), which a unit test keeps in step.
 *
 * A provider never sees the PAM handle: a context in, a result enum and
 * an outcome out.  The PAM side turns those into PAM codes, user lines
 * and log lines.
 */
#ifndef BV_PROVIDER_H
#define BV_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "catalog.h"
#include "../core/channel.h"
#include "../core/conf.h"
#include "../core/http.h"
#include "../core/log.h"
#include "../core/result.h"

/* What the service said, beyond the result: for logs, never secrets. */
struct bv_outcome {
	long http_status;   /* 0 when no HTTP response arrived */
	char code[64];	    /* the API's error code, sanitised, or "" */
	char message[256];  /* the API's error message, sanitised, or "" */
	char help_url[256]; /* details.helpUrl, sanitised, or "" */
	char detail[128];   /* transport or protocol problem, or "" */
	const char *action; /* "send", "verify", "validate" */
	long attempts_left; /* the service's count after a wrong code, or -1 */
};

/* The proof of a successful check. */
struct bv_proof {
	char *token;	/* secret: free with bv_proof_clear */
	time_t expires; /* Unix time, 0 when unknown */
};

/* One authentication's state, shared by the provider's calls. */
struct bv_ctx {
	const struct bv_config *cfg;
	const void *conf;	  /* this provider's own config group
				     (struct tryvox_config, ...):
				     cfg_provider_conf() */
	void *state;		  /* this provider's per-login state
				     (provider_state_new), or NULL when it
				     keeps none */
	struct http_client *http; /* one connection per authentication */
	const struct bv_log *log;
	const char *user;	 /* whose code it is (the local store) */
	const char *who;	 /* "user=... service=... rhost=..." for a
				    provider's own log lines */
	const char *dest;	 /* E.164 phone or email address */
	enum bv_channel channel; /* how the code goes to dest */
};

struct bv_provider {
	/* Name, capabilities, channels, config group (module-safe). */
	const struct bv_provider_info *info;

	/* Bytes of per-login state (what send leaves for check: Tryvox's
	   verification id, the local code's hash), allocated zeroed for
	   ctx->state; 0 when it keeps none. */
	size_t state_size;
	/* Free what the state points to, wiping secrets; NULL when it
	   points to nothing.  The state itself is wiped and freed by
	   provider_state_free. */
	void (*state_clear)(void *state);

	/* Ask the service to deliver a new code to ctx->dest. */
	enum bv_result (*send)(struct bv_ctx *ctx, struct bv_outcome *out);
	/* Check a normalised code; on BV_OK fill proof. */
	enum bv_result (*check)(struct bv_ctx *ctx, const char *code,
				struct bv_proof *proof, struct bv_outcome *out);
	/* Confirm a proof is valid for ctx->dest (any destination when
	   ctx->dest is NULL); consume marks it used.  NULL when the service
	   offers no such check (then info lacks BV_CAP_VALIDATE). */
	enum bv_result (*validate)(struct bv_ctx *ctx, const char *token,
				   bool consume, struct bv_outcome *out);

	/* For "baxverify check": show the configuration works, sending
	   nothing to anyone (one authenticated harmless call, or a look at
	   the delivery command).  said (size saidsz) gets the line to show
	   after "NAME: " whatever the result, or "" when out tells the
	   failure instead.  ctx->state is NULL. */
	enum bv_result (*probe)(struct bv_ctx *ctx, char *said, size_t saidsz,
				struct bv_outcome *out);

	/* BV_CAP_REFERENCE only (else NULL): the reference send left in
	   state, for an administrator to carry to a later check, and when
	   the code expires (0: unknown); NULL when there is none. */
	const char *(*reference)(const void *state, time_t *expires);
	/* ...and taking one back (verify --id): BV_OK or BV_NOMEM. */
	enum bv_result (*set_reference)(void *state, const char *ref);
};

/* The providers this program was linked with, NULL-terminated:
   registry_all.c (every provider, in the catalog's order) or
   registry_offline.c (the BV_CAP_OFFLINE ones). */
const struct bv_provider *const *provider_registry(void);

/* The transport the listed network providers share (one HTTPS client:
   one connection per authentication), or NULL where this program has
   none; closed by provider_transport_close.  BV_OK, BV_NOMEM or
   BV_CONFIG. */
enum bv_result provider_transport_open(const struct bv_config *cfg,
				       struct http_client **http);
void provider_transport_close(struct http_client *http);

/* At exit: what the transport's library keeps for the process. */
void provider_registry_done(void);

/* The provider called name, with its operations, or NULL (registry.c,
   in the helper and the CLI). */
const struct bv_provider *provider_find(const char *name);

/* The operations of the provider info describes, or NULL. */
const struct bv_provider *provider_ops(const struct bv_provider_info *info);

/* A zeroed per-login state for p into *state (NULL when p keeps none):
   BV_OK or BV_NOMEM. */
enum bv_result provider_state_new(const struct bv_provider *p, void **state);

/* Clear, wipe and free a state of p; NULL is fine. */
void provider_state_free(const struct bv_provider *p, void *state);

/* Wipe and free the token (catalog.c: the module clears proofs too). */
void bv_proof_clear(struct bv_proof *proof);

#endif /* BV_PROVIDER_H */
