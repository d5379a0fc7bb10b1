/*
 * engine.h - one verification, without PAM: who is asked, where the code
 * goes, sending with failover, the prompt and its retries, the proof
 * confirmed, and the store's policy around it (send limit, lockout,
 * grace window, recovery codes).
 *
 * The PAM module and the baxverify command both drive it; what differs
 * between them is handed in:
 *   - the conversation: three callbacks (prompt, info, error);
 *   - the provider port: how a provider's operations are reached (the
 *     module: baxverify-helper over a socket; the command: in process;
 *     the unit tests: a fake);
 *   - the clock, so that tests never wait for seconds to pass.
 * Everything returns enum bv_result; turning a result into a PAM code
 * (or an exit status) is the caller's one mapping.
 */
#ifndef BV_ENGINE_H
#define BV_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../core/channel.h"
#include "../core/conf.h"
#include "../core/log.h"
#include "../core/phones.h"
#include "../core/result.h"
#include "../providers/catalog.h"
#include "../providers/provider.h"

/* Masked destination: a phone or "a•••@domain" of up to EMAIL_MAX. */
#define ENGINE_MASKED_MAX (EMAIL_MAX + 16)
/* Most channels a user can be offered: one of each. */
#define ENGINE_MAX_CHANNELS BV_CHANNEL_COUNT

/* How the engine talks to the person being verified. */
struct bv_conv {
	/* Ask; *answer is allocated (free with bv_free_secret), maybe "".
	   BV_ABORTED when the conversation itself failed. */
	enum bv_result (*prompt)(void *arg, bool echo, const char *text,
				 char **answer);
	/* A line of information, and a line saying what went wrong. */
	void (*info)(void *arg, const char *text);
	void (*error)(void *arg, const char *text);
	void *arg;
};

/* How the engine reaches a provider's operations (provider.h). */
struct bv_port {
	enum bv_result (*send)(void *arg, const struct bv_provider_info *p,
			       enum bv_channel channel, const char *dest,
			       struct bv_outcome *out);
	enum bv_result (*check)(void *arg, const struct bv_provider_info *p,
				const char *code, struct bv_proof *proof,
				struct bv_outcome *out);
	/* dest NULL: any destination. */
	enum bv_result (*validate)(void *arg, const struct bv_provider_info *p,
				   const char *dest, const char *token,
				   bool consume, struct bv_outcome *out);
	/* Does code match hash, a recovery code's crypt(3) hash?  BV_OK
	   with *match set.  The memory-hard hash runs there (the helper),
	   not in the host process. */
	enum bv_result (*match_hash)(void *arg, const char *code,
				     const char *hash, bool *match);
	void *arg;
};

/* Whether the user is asked for a code (engine_select). */
enum engine_selection {
	ENGINE_ASK = 0,	      /* has somewhere a configured channel goes */
	ENGINE_SKIP_GROUPS,   /* in none of the configured groups */
	ENGINE_SKIP_NULLOK,   /* nowhere to send, and nullok */
	ENGINE_NO_DESTINATION /* nowhere to send: denied */
};

struct bv_engine {
	/* Given by the caller, which keeps them alive. */
	const struct bv_config *cfg;
	const struct bv_log *log;
	const char *user;      /* as given: lookups and the store */
	const char *who;       /* "user=U service=S rhost=H" for log lines */
	const char *grace_key; /* this session's grace window, or NULL */
	struct bv_conv conv;
	struct bv_port port;
	time_t (*clock)(void); /* NULL: time(NULL) */

	/* The verification's state. */
	struct bv_contact contact;
	enum bv_channel channel; /* chosen channel (SMS until chosen) */
	const char *dest;	 /* contact.phone or contact.email */
	char masked[ENGINE_MASKED_MAX];
	size_t provider_idx; /* who sent the code: the position in the
				order of trying (engine_provider_at) */
	const struct bv_provider_info *provider; /* NULL until a send */
	struct bv_proof proof;
	long sends;
	long tries;
	time_t retry_at; /* when a local limit or lockout ends */
	bool recovered;	 /* signed in with a recovery code */
	enum bv_result offered_recovery; /* why no code went out */
	bool abort_logged;		 /* BV_ABORTED whose reason is logged */
	/* The providers' health (health.c), read at the first send; bit i
	   is cfg->providers[i]. */
	bool health_read;
	unsigned long health_down;   /* marked down: tried after the others */
	unsigned long health_marked; /* has a mark: a send clears it */
};

/* Fill the caller's part of e (cfg, log, user, who, conv, port). */
void engine_init(struct bv_engine *e, const struct bv_config *cfg,
		 const struct bv_log *log, const char *user, const char *who);

/* Forget the contact and the proof (wiped). */
void engine_clear(struct bv_engine *e);

/* The engine's clock. */
time_t engine_now(const struct bv_engine *e);

/* select.c: who is asked and where the code may go */

/*
 * The groups filter, then the user's destinations (e->contact): ask,
 * skip or deny (logged).  BV_OK with *sel set, or the error of a group
 * or phones lookup (logged).
 */
enum bv_result engine_select(struct bv_engine *e, enum engine_selection *sel);

/* The channels this user can be offered, in order; returns the count. */
size_t engine_usable_channels(const struct bv_engine *e, enum bv_channel *out,
			      size_t max);

/* The channels the configuration offers (asked about), in order. */
size_t engine_wanted_channels(const struct bv_config *cfg, enum bv_channel *out,
			      size_t max);

/* The user's destination for channel (phone or email), or NULL. */
const char *engine_destination(const struct bv_engine *e,
			       enum bv_channel channel);

/* A masked destination for display: "+1•••••••2671", "a•••@host". */
void engine_mask(enum bv_channel channel, const char *dest, char *out,
		 size_t outsz);

/*
 * No channel asked for: provider's own channel when there is one, else
 * what the module offers first (the first of "channels", or with none
 * the first listed provider's own).
 */
enum bv_channel engine_default_channel(const struct bv_config *cfg,
				       const struct bv_provider_info *provider);

/*
 * The first listed provider called name (any when NULL) that sends by
 * channel (any when BV_CHANNEL_COUNT) and, with need_validate, can
 * confirm a proof.  NULL when there is none.
 */
const struct bv_provider_info *engine_pick_provider(const struct bv_config *cfg,
						    const char *name,
						    enum bv_channel channel,
						    bool need_validate);

/* dialogue.c: what the user goes through */

/*
 * Pick the channel (a menu when there are several), send a code (with
 * failover), ask and check until a code (or a recovery code) is
 * accepted or something ends the dialogue.
 */
enum bv_result engine_dialogue(struct bv_engine *e);

/* Ask the provider whether the proof it gave is good (when configured). */
enum bv_result engine_confirm(struct bv_engine *e);

/*
 * The session side: spend (consume) or confirm token, issued by the
 * provider called pname for dest.  BV_OK, or the provider's refusal
 * (logged).  *skipped when the provider cannot confirm proofs at all.
 */
enum bv_result engine_consume(struct bv_engine *e, const char *pname,
			      const char *dest, const char *token,
			      bool *skipped);

/* health.c: the providers' health memory */

/*
 * Read the store's health record, once per login: the providers marked
 * down within health_retry are tried after the others (logged at INFO,
 * for the login's channel).  Nothing to read with health_retry 0 or one
 * provider listed.
 */
void engine_health_begin(struct bv_engine *e);

/*
 * The pos-th (0-based) provider to try, as its index in cfg->providers
 * (*idx): those not marked down in their order, then those marked down
 * in theirs.  False past the last.
 */
bool engine_provider_at(const struct bv_engine *e, size_t pos, size_t *idx);

/*
 * A send through cfg->providers[idx] gave rc: BV_UNAVAILABLE marks it
 * down, BV_OK clears its mark, in the store and only when that changes
 * the record (logged at INFO).  Anything else changes nothing.
 */
void engine_health_note(struct bv_engine *e, size_t idx, enum bv_result rc);

/* policy.c: the store's limits, lockout, grace and recovery codes */

/* Locked out (BV_LOCKED, logged)?  Within a grace window (*granted)? */
enum bv_result engine_begin(struct bv_engine *e, bool *granted);
/* Locked out now?  Asked before every answer counts. */
enum bv_result engine_check_locked(struct bv_engine *e);
/* Count a send against limits.max_sends_per_hour, or refuse it. */
enum bv_result engine_count_send(struct bv_engine *e);
/* Count a failed verification; BV_LOCKED once limits.deny is reached. */
enum bv_result engine_failed(struct bv_engine *e);
/* Clear the failures; open the grace window when remember is set. */
enum bv_result engine_succeeded(struct bv_engine *e);
/* How many recovery codes the user has left. */
enum bv_result engine_recovery_left(struct bv_engine *e, size_t *left);
/* Spend a recovery code (normalised digits) if it is one of the user's;
   BV_LOCKED, nothing spent, while the user is locked out. */
enum bv_result engine_use_recovery(struct bv_engine *e, const char *digits,
				   bool *used);
/*
 * The grace key for a session: the fields (service, terminal, remote
 * host, "SID.START" of the login session) escaped and joined into out
 * (size outsz).  False when they do not fit: then no grace at all, for a
 * cut key could be another session's.
 */
bool engine_grace_key(const char *const *fields, size_t nfields, char *out,
		      size_t outsz);

/* report.c: the administrator's log lines and the user's lines */

/* "who: message" at prio. */
void engine_log(const struct bv_engine *e, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A provider's failure or refusal, with its code, HTTP status and URL. */
void engine_log_outcome(const struct bv_engine *e, const char *provider,
			enum bv_result rc, const struct bv_outcome *out);
/* A line to the user through the conversation. */
void engine_info(const struct bv_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void engine_error(const struct bv_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* BV_ENGINE_H */
