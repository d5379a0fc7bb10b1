/*
 * provider.h - the interface every verification provider implements.
 *
 * A provider sends a code to a destination, checks a code the user typed,
 * and (where the service can) validates or consumes the proof it issued.
 * It never sees the PAM handle: a context in, a result enum and an outcome
 * out.  The PAM side turns those into PAM codes, user lines and log lines.
 */
#ifndef BV_PROVIDER_H
#define BV_PROVIDER_H

#include <stdbool.h>
#include <time.h>

#include "../core/channel.h"
#include "../core/conf.h"
#include "../core/http.h"
#include "../core/log.h"
#include "../core/result.h"

/* What the service said, beyond the result: for logs, never secrets. */
struct bv_outcome {
	long http_status;    /* 0 when no HTTP response arrived */
	char code[64];       /* the API's error code, sanitised, or "" */
	char message[256];   /* the API's error message, sanitised, or "" */
	char help_url[256];  /* details.helpUrl, sanitised, or "" */
	char detail[128];    /* transport or protocol problem, or "" */
	const char *action;  /* "send", "verify", "validate" */
	long attempts_left;  /* the service's count after a wrong code, or -1 */
};

/* The proof of a successful check. */
struct bv_proof {
	char *token;         /* secret: free with bv_proof_clear */
	time_t expires;      /* Unix time, 0 when unknown */
};

/* One authentication's state, shared by the provider's calls. */
struct bv_ctx {
	const struct bv_config *cfg;
	const struct bv_api_config *api; /* this provider's config group */
	struct http_client *http; /* one connection per authentication */
	const struct bv_log *log;
	const char *user;         /* whose code it is (the local store) */
	const char *who;          /* "user=... service=... rhost=..." for a
				     provider's own log lines */
	const char *dest;         /* E.164 phone or email address */
	enum bv_channel channel;  /* how the code goes to dest */
	char *ref;                /* the service's id for the code in flight
				     (Tryvox verification_id), or NULL */
	time_t ref_expires;       /* when that code expires, 0 if unknown */
};

/*
 * What anyone may know of a provider without loading its code: the
 * module (which never maps libcurl), the config checks and the CLI read
 * this; only the helper calls the operations.
 */
struct bv_provider_info {
	/* Name used in the config's provider key and in logs. */
	const char *name;
	/* Channels the service can send by: a set of BV_CHANNEL_BIT. */
	unsigned channels;
	/* Whether validate(..., consume = true) really spends the proof. */
	bool consumes;
	/* Whether the service can confirm a proof at all (validate). */
	bool can_validate;
};

extern const struct bv_provider_info baxverify_info;
extern const struct bv_provider_info tryvox_info;
extern const struct bv_provider_info mudbase_info;
extern const struct bv_provider_info local_info;

struct bv_provider {
	/* Name, channels, capabilities. */
	const struct bv_provider_info *info;
	/* Ask the service to deliver a new code to ctx->dest. */
	enum bv_result (*send)(struct bv_ctx *ctx, struct bv_outcome *out);
	/* Check a normalised code; on BV_OK fill proof. */
	enum bv_result (*check)(struct bv_ctx *ctx, const char *code,
				struct bv_proof *proof,
				struct bv_outcome *out);
	/* Confirm a proof is valid for ctx->dest (any destination when
	   ctx->dest is NULL); consume marks it used.  NULL when the service
	   offers no such check. */
	enum bv_result (*validate)(struct bv_ctx *ctx, const char *token,
				   bool consume, struct bv_outcome *out);
};

/* The provider called name, or NULL (catalog.c: no provider code). */
const struct bv_provider_info *provider_info_find(const char *name);

/* The provider's operations (registry.c, in the helper and the CLI). */
const struct bv_provider *provider_find(const char *name);

/* Can p send by channel?  False for a NULL provider. */
bool provider_has_channel(const struct bv_provider_info *p,
			  enum bv_channel channel);

/*
 * The channel p sends by when nobody chose one: its own channel key
 * (tryvox.channel, mudbase.method), else the first it serves.
 */
enum bv_channel provider_default_channel(const struct bv_config *cfg,
					 const struct bv_provider_info *p);

void bv_proof_clear(struct bv_proof *proof);

/* Forget ctx->ref, wiping it. */
void bv_ctx_clear_ref(struct bv_ctx *ctx);

#endif /* BV_PROVIDER_H */
