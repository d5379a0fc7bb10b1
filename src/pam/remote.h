/*
 * remote.h - the module's side of baxverify-helper.
 *
 * The module never calls a provider itself: it starts the helper (only
 * when a provider is needed, once per authentication), sends it requests
 * over a socket and reads one reply each.  Every failure of this
 * machinery -- no helper, a helper that crashed, was killed, stopped past
 * the deadline or broke the protocol, a fork, pipe or wait error -- is
 * BV_INTERNAL, never BV_UNAVAILABLE: only the helper's own report of an
 * outage may let failmode = "safe" admit anyone.
 */
#ifndef BV_PAM_REMOTE_H
#define BV_PAM_REMOTE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../core/result.h"
#include "../providers/provider.h"

struct auth_state;

struct remote {
	pid_t pid;                  /* 0: not started */
	int fd;                     /* our end of the socket, -1: none */
	bool chld_saved;            /* old_chld holds the caller's action */
	struct sigaction old_chld;
	bool mask_saved;            /* old_mask holds the caller's mask */
	sigset_t old_mask;
};

/* Start the helper for user (whose store record it may touch). */
enum bv_result remote_start(struct auth_state *st, const char *user);

/* Ask provider p to send a code to st->dest by st->channel. */
enum bv_result remote_send(struct auth_state *st,
			   const struct bv_provider_info *p,
			   struct bv_outcome *out);

/* Check a normalised code with the provider that sent it. */
enum bv_result remote_check(struct auth_state *st, const char *code,
			    struct bv_proof *proof, struct bv_outcome *out);

/* Confirm (or consume) a proof of st->provider for st->dest. */
enum bv_result remote_validate(struct auth_state *st, const char *token,
			       bool consume, struct bv_outcome *out);

/* Close the socket, reap the helper (killing it if it lingers), and
   give the caller back its SIGCHLD action.  Safe to call twice. */
void remote_stop(struct auth_state *st);

#endif /* BV_PAM_REMOTE_H */
