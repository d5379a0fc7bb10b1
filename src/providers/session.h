/*
 * session.h - calling the listed providers in process: what the helper
 * does for the module's requests, and what baxverify(8) does for its
 * commands.  A session holds the configuration, one HTTP client (one
 * connection for the whole authentication), the user's and caller's
 * names for log lines, and each listed provider's per-login state (what
 * a send leaves for the check: Tryvox's verification id, the local
 * code's hash).  Only a listed provider may be called.
 */
#ifndef BV_PROVIDER_SESSION_H
#define BV_PROVIDER_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/channel.h"
#include "provider.h"

struct provider_session {
	const struct bv_config *cfg;
	struct http_client *http;
	void **states;	   /* per listed provider, cfg->providers' order */
	char *dest;	   /* the destination of the last send, owned */
	struct bv_ctx ctx; /* the selected provider's context */
};

/*
 * Set up s for cfg (which the caller keeps alive): the HTTP client and a
 * state for each listed provider.  user is whose record the local
 * provider uses (may be NULL), who the "user=... service=..." prefix of
 * a provider's log lines.  BV_OK, BV_NOMEM or BV_INTERNAL (no HTTP
 * client).  s is always safe to pass to session_close.
 */
enum bv_result session_open(struct provider_session *s,
			    const struct bv_config *cfg,
			    const struct bv_log *log, const char *user,
			    const char *who);

/* Free the states and the client, wiping what they held. */
void session_close(struct provider_session *s);

/*
 * The operations of listed provider p, with its config group and state
 * selected in s->ctx; NULL when p is not listed (the administrator did
 * not configure it: it may not be called).
 */
const struct bv_provider *session_select(struct provider_session *s,
					 const struct bv_provider_info *p);

/*
 * A check that follows no send of this session (baxverify verify, run
 * after baxverify send): the channel and destination it is for.
 */
enum bv_result session_target(struct provider_session *s,
			      enum bv_channel channel, const char *dest);

/* The provider operations on s. */
enum bv_result session_send(struct provider_session *s,
			    const struct bv_provider_info *p,
			    enum bv_channel channel, const char *dest,
			    struct bv_outcome *out);
enum bv_result session_check(struct provider_session *s,
			     const struct bv_provider_info *p, const char *code,
			     struct bv_proof *proof, struct bv_outcome *out);
/* dest NULL: any destination. */
enum bv_result session_validate(struct provider_session *s,
				const struct bv_provider_info *p,
				const char *dest, const char *token,
				bool consume, struct bv_outcome *out);
/* baxverify check's probe of p: what it found in said. */
enum bv_result session_probe(struct provider_session *s,
			     const struct bv_provider_info *p, char *said,
			     size_t saidsz, struct bv_outcome *out);

#endif /* BV_PROVIDER_SESSION_H */
