/*
 * auth.h - the state of one PAM call, shared by the module's files:
 * pam_baxverify.c (entry points, export), conv.c (the conversation
 * adapter), verdict.c (the one mapping to PAM codes) and remote.c (the
 * helper: the engine's provider port).  What a verification is lives in
 * the engine (src/engine), which knows nothing of PAM.
 */
#ifndef BV_PAM_AUTH_H
#define BV_PAM_AUTH_H

#include <stdbool.h>

#include <security/pam_modules.h>

#include "../core/conf.h"
#include "../core/log.h"
#include "../engine/engine.h"
#include "remote.h"

/* Longest grace key: service, terminal, remote host, login session. */
#define GRACE_KEY_MAX 256

struct auth_state {
	pam_handle_t *pamh;
	struct bv_log log;
	struct bv_config cfg;
	const char *service;
	const char *pam_user; /* as PAM gave it, for lookups */
	int argc;	      /* the module arguments, for the helper */
	const char **argv;
	char user[128];	 /* sanitised, for log lines */
	char rhost[128]; /* sanitised, "-" when unset */
	char who[320];	 /* "user=U service=S rhost=H", for log lines */
	char grace[GRACE_KEY_MAX];
	struct bv_engine eng; /* the verification */
	struct remote remote; /* the helper, once a provider is needed */
	bool no_user;	      /* pam_get_user gave no user */
	int pam_rc;	      /* what a failed PAM call (the conversation,
				 pam_get_user) returned, for verdict() */
};

/* conv.c: the engine's conversation, through the application's. */
struct bv_conv conv_adapter(struct auth_state *st);
/* A line to the user (PAM_TEXT_INFO or PAM_ERROR_MSG). */
void say(struct auth_state *st, int style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* verdict.c: the one mapping from a result to a PAM code. */
int verdict(struct auth_state *st, enum bv_result rc,
	    enum engine_selection sel);
/* The session side's: proof spent (or nothing to do), or not. */
int session_verdict(struct auth_state *st, enum bv_result rc, bool done);

#endif /* BV_PAM_AUTH_H */
