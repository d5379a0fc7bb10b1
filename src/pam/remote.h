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
#include "../engine/engine.h"

struct auth_state;

struct remote {
	const char *user; /* whose record the helper may touch */
	pid_t pid;	  /* 0: not started */
	int fd;		  /* our end of the socket, -1: none */
	bool chld_saved;  /* old_chld holds the caller's action */
	struct sigaction old_chld;
	bool mask_saved; /* old_mask holds the caller's mask */
	sigset_t old_mask;
};

/*
 * Start the helper for user (whose store record it may touch), unless it
 * runs already.  The port's operations start it on first use, for
 * st->remote.user.
 */
enum bv_result remote_start(struct auth_state *st, const char *user);

/* The engine's provider port: requests to the helper. */
struct bv_port remote_port(struct auth_state *st);

/* Close the socket, reap the helper (killing it if it lingers), and
   give the caller back its SIGCHLD action.  Safe to call twice. */
void remote_stop(struct auth_state *st);

#endif /* BV_PAM_REMOTE_H */
