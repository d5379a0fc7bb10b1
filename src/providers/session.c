/*
 * session.c - calling the listed providers in process (session.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../core/wipe.h"
#include "session.h"

/* A per-login state for each listed provider that keeps one. */
static enum bv_result
new_states(struct provider_session *s)
{
	enum bv_result rc = BV_OK;
	size_t i, n = 0;

	while (s->cfg->providers[n] != NULL)
		n++;
	s->states = calloc(n + 1, sizeof(*s->states));
	if (s->states == NULL)
		return BV_NOMEM;
	for (i = 0; i < n && rc == BV_OK; i++)
		rc = provider_state_new(provider_find(s->cfg->providers[i]),
					&s->states[i]);
	return rc;
}

enum bv_result
session_open(struct provider_session *s, const struct bv_config *cfg,
	     const struct bv_log *log, const char *user, const char *who)
{
	enum bv_result rc;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->ctx.cfg = cfg;
	s->ctx.log = log;
	s->ctx.user = user;
	s->ctx.who = who;
	rc = new_states(s);
	if (rc == BV_OK)
		rc = provider_transport_open(cfg, &s->http);
	s->ctx.http = s->http;
	return rc;
}

void
session_close(struct provider_session *s)
{
	size_t i;

	for (i = 0; s->states != NULL && s->cfg->providers[i] != NULL; i++)
		provider_state_free(provider_find(s->cfg->providers[i]),
				    s->states[i]);
	free(s->states);
	provider_transport_close(s->http);
	bv_free_secret(s->dest);
	memset(s, 0, sizeof(*s));
}

const struct bv_provider *
session_select(struct provider_session *s, const struct bv_provider_info *p)
{
	const struct bv_provider *ops;
	size_t i;

	for (i = 0; p != NULL && s->cfg->providers[i] != NULL; i++) {
		ops = provider_find(s->cfg->providers[i]);
		if (ops == NULL || ops->info != p)
			continue;
		s->ctx.conf = cfg_provider_conf(s->cfg, p);
		s->ctx.state = s->states[i];
		return ops;
	}
	return NULL;
}

/* Keep a copy of dest for the calls that follow (NULL: any). */
static enum bv_result
use_dest(struct provider_session *s, const char *dest)
{
	char *copy = NULL;

	if (dest != NULL) {
		copy = strdup(dest);
		if (copy == NULL)
			return BV_NOMEM;
	}
	bv_free_secret(s->dest);
	s->dest = copy;
	s->ctx.dest = copy;
	return BV_OK;
}

enum bv_result
session_target(struct provider_session *s, enum bv_channel channel,
	       const char *dest)
{
	s->ctx.channel = channel;
	return use_dest(s, dest);
}

enum bv_result
session_send(struct provider_session *s, const struct bv_provider_info *p,
	     enum bv_channel channel, const char *dest, struct bv_outcome *out)
{
	const struct bv_provider *ops = session_select(s, p);
	enum bv_result rc;

	out->action = "send";
	if (ops == NULL || !provider_has_channel(p, channel))
		return BV_CONFIG;
	rc = use_dest(s, dest);
	if (rc != BV_OK)
		return rc;
	s->ctx.channel = channel;
	return ops->send(&s->ctx, out);
}

enum bv_result
session_check(struct provider_session *s, const struct bv_provider_info *p,
	      const char *code, struct bv_proof *proof, struct bv_outcome *out)
{
	const struct bv_provider *ops = session_select(s, p);

	out->action = "verify";
	/* A check belongs to a send: it needs the destination sent to. */
	if (ops == NULL || s->ctx.dest == NULL)
		return BV_CONFIG;
	return ops->check(&s->ctx, code, proof, out);
}

enum bv_result
session_validate(struct provider_session *s, const struct bv_provider_info *p,
		 const char *dest, const char *token, bool consume,
		 struct bv_outcome *out)
{
	const struct bv_provider *ops = session_select(s, p);
	enum bv_result rc;

	out->action = consume ? "consume" : "validate";
	if (ops == NULL || ops->validate == NULL)
		return BV_CONFIG;
	rc = use_dest(s, dest);
	if (rc != BV_OK)
		return rc;
	return ops->validate(&s->ctx, token, consume, out);
}

enum bv_result
session_probe(struct provider_session *s, const struct bv_provider_info *p,
	      char *said, size_t saidsz, struct bv_outcome *out)
{
	const struct bv_provider *ops = session_select(s, p);

	if (ops == NULL || ops->probe == NULL)
		return BV_CONFIG;
	return ops->probe(&s->ctx, said, saidsz, out);
}
