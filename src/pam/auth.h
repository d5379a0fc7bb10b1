/*
 * auth.h - the state of one PAM call, shared by the module's files:
 * pam_baxverify.c (entry points, verdict, export), dialogue.c (channel
 * menu, sending with failover, the code prompt) and report.c (the user's
 * lines and the administrator's log lines).
 */
#ifndef BV_PAM_AUTH_H
#define BV_PAM_AUTH_H

#include <stdbool.h>
#include <time.h>

#include <security/pam_modules.h>

#include "../core/conf.h"
#include "../core/log.h"
#include "../core/phones.h"
#include "../providers/provider.h"
#include "remote.h"

/* Masked destination: a phone or "a•••@domain" of up to EMAIL_MAX. */
#define MASKED_MAX (EMAIL_MAX + 16)

struct auth_state {
	pam_handle_t *pamh;
	struct bv_log log;
	struct bv_config cfg;
	const char *service;
	const char *pam_user;   /* as PAM gave it, for lookups */
	int argc;               /* the module arguments, for the helper */
	const char **argv;
	char user[128];         /* sanitised, for log lines */
	char rhost[128];        /* sanitised, "-" when unset */
	char who[320];          /* "user=U service=S rhost=H", for providers */
	struct bv_contact contact;
	enum bv_channel channel; /* chosen channel (SMS until chosen) */
	const char *dest;       /* contact.phone or contact.email */
	char masked[MASKED_MAX];
	size_t provider_idx;    /* into cfg.providers: who sent the code */
	/* NULL until a send succeeded */
	const struct bv_provider_info *provider;
	struct remote remote;   /* the helper, once a provider is needed */
	struct bv_proof proof;
	long sends;
	long tries;
	time_t retry_at;        /* when a local limit or lockout ends */
	bool recovered;         /* signed in with a recovery code */
	enum bv_result offered_recovery; /* why no code went out */
	int conv_rc;            /* PAM code of a failed conversation */
};

/* report.c */
void log_event(const struct auth_state *st, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_outcome(const struct auth_state *st, const char *provider,
		 enum bv_result rc, const struct bv_outcome *out);
int say(struct auth_state *st, int style, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* dialogue.c */
/* The channels this user can be offered, in order; returns the count. */
size_t usable_channels(const struct auth_state *st, enum bv_channel *out,
		       size_t max);
/* Pick the channel (menu when there are several), then send, ask and
   check until a code is accepted or something ends the dialogue. */
enum bv_result run_dialogue(struct auth_state *st);

/* guard.c: the local store's limits, lockout, grace and recovery codes */
/* Locked out?  Within a grace window (*granted)? */
enum bv_result guard_begin(struct auth_state *st, bool *granted);
/* Locked out now (BV_LOCKED, logged)?  Asked before every answer counts. */
enum bv_result guard_check_locked(struct auth_state *st);
/* Count a send against limits.max_sends_per_hour, or refuse it. */
enum bv_result guard_count_send(struct auth_state *st);
/* Count a failed verification; BV_LOCKED once limits.deny is reached. */
enum bv_result guard_failed(struct auth_state *st);
/* Clear the failures; open the grace window when remember is set. */
enum bv_result guard_succeeded(struct auth_state *st);
/* How many recovery codes the user has left. */
enum bv_result guard_recovery_left(struct auth_state *st, size_t *left);
/* Spend a recovery code (normalised digits) if it is one of the user's;
   BV_LOCKED, nothing spent, while the user is locked out. */
enum bv_result guard_use_recovery(struct auth_state *st, const char *digits,
				  bool *used);

#endif /* BV_PAM_AUTH_H */
