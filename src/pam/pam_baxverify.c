/*
 * pam_baxverify.c - the PAM entry points.
 *
 * pam_sm_authenticate reads as a story: arguments and config, the user,
 * whether the module applies, where the code may go, the dialogue, the
 * proof confirmed, the export, the verdict.  Everything below it speaks
 * enum bv_result; the one mapping to PAM codes, user lines and failmode
 * is verdict() here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define PAM_SM_AUTH
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "auth.h"
#include "../core/groups.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* pam_set_data keys, for modules in the same process. */
#define DATA_TOKEN "baxverify_token"
#define DATA_DEST "baxverify_destination"
#define DATA_EXPIRES "baxverify_token_expires"
/* Who authenticated: sudo's session phase has PAM_USER = the target. */
#define DATA_USER "baxverify_user"

/* Most channels a user can be offered: one of each. */
#define MAX_CHANNELS BV_CHANNEL_COUNT

static void
free_secret_data(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	/* Replaced or released, the old value is ours to wipe and free. */
	(void)error_status;
	bv_free_secret(data);
}

/* Set NAME=value in the PAM environment, wiping our copy. */
static int
put_env(pam_handle_t *pamh, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *kv = malloc(n);
	int rc;

	if (kv == NULL)
		return PAM_BUF_ERR;
	snprintf(kv, n, "%s=%s", name, value);
	rc = pam_putenv(pamh, kv);
	bv_free_secret(kv);
	return rc;
}

static int
set_data_copy(pam_handle_t *pamh, const char *key, const char *value)
{
	char *copy = strdup(value);
	int rc;

	if (copy == NULL)
		return PAM_BUF_ERR;
	rc = pam_set_data(pamh, key, copy, free_secret_data);
	if (rc != PAM_SUCCESS)
		bv_free_secret(copy);
	return rc;
}

/*
 * Make the proof visible to the session (PAM environment: sshd hands only
 * that back from its authentication process) and to other modules of this
 * process (pam_set_data).
 */
static int
export_proof(struct auth_state *st)
{
	bool email = channel_is_email(st->channel);
	char expires[32];
	int rc;

	/* A recovery code proves nothing a service could confirm later. */
	if (st->recovered)
		return put_env(st->pamh, "BAXVERIFY_PROVIDER", "recovery");

	snprintf(expires, sizeof(expires), "%lld",
		 (long long)st->proof.expires);
	rc = put_env(st->pamh, "BAXVERIFY_TOKEN", st->proof.token);
	if (rc == PAM_SUCCESS)
		rc = put_env(st->pamh,
			     email ? "BAXVERIFY_EMAIL" : "BAXVERIFY_PHONE",
			     st->dest);
	if (rc == PAM_SUCCESS)
		rc = put_env(st->pamh, "BAXVERIFY_TOKEN_EXPIRES", expires);
	if (rc == PAM_SUCCESS)
		rc = put_env(st->pamh, "BAXVERIFY_PROVIDER",
			     st->provider->name);
	if (rc == PAM_SUCCESS)
		rc = put_env(st->pamh, "BAXVERIFY_CHANNEL",
			     channel_name(st->channel));
	if (rc == PAM_SUCCESS)
		rc = set_data_copy(st->pamh, DATA_TOKEN, st->proof.token);
	if (rc == PAM_SUCCESS)
		rc = set_data_copy(st->pamh, DATA_DEST, st->dest);
	if (rc == PAM_SUCCESS)
		rc = set_data_copy(st->pamh, DATA_EXPIRES, expires);
	if (rc == PAM_SUCCESS)
		rc = set_data_copy(st->pamh, DATA_USER, st->pam_user);
	return rc;
}

/* Whole minutes, rounded up, until st->retry_at. */
static long
minutes_until(const struct auth_state *st)
{
	long secs = (long)(st->retry_at - time(NULL));

	return secs <= 0 ? 1 : (secs + 59) / 60;
}

/* The single mapping from a result to a PAM code and the user's line. */
static int
verdict(struct auth_state *st, enum bv_result rc)
{
	bool by_email = channel_is_email(st->channel);
	bool by_sms = st->channel == BV_CHANNEL_SMS;

	switch (rc) {
	case BV_OK:
		return PAM_SUCCESS;
	case BV_WRONG_CODE:
		say(st, PAM_ERROR_MSG, "Wrong code.");
		return PAM_AUTH_ERR;
	case BV_MAX_ATTEMPTS:
		log_event(st, LOG_NOTICE, "denied: too many wrong codes");
		say(st, PAM_ERROR_MSG, "Too many wrong codes.");
		return PAM_MAXTRIES;
	case BV_EXPIRED:
		say(st, PAM_ERROR_MSG, "The code has expired.");
		return PAM_AUTH_ERR;
	case BV_RATE_LIMITED:
		if (st->retry_at > 0)
			say(st, PAM_ERROR_MSG, "Too many codes requested. Try "
			    "again in %ld minute(s).", minutes_until(st));
		else
			say(st, PAM_ERROR_MSG, "Too many codes requested. Wait "
			    "a few minutes and try again.");
		return PAM_AUTH_ERR;
	case BV_LOCKED:
		say(st, PAM_ERROR_MSG, "Too many failed attempts. Try again in "
		    "%ld minute(s).", minutes_until(st));
		return PAM_AUTH_ERR;
	case BV_BAD_DESTINATION:
		say(st, PAM_ERROR_MSG, "Your registered %s is not valid. "
		    "Contact your administrator.",
		    by_email ? "email address" : "phone number");
		return PAM_AUTH_ERR;
	case BV_REJECTED:
		say(st, PAM_ERROR_MSG, "Verification is not possible right "
		    "now: the %s service needs attention from your "
		    "administrator.", by_sms ? "SMS" : "verification");
		return PAM_AUTH_ERR;
	case BV_UNAVAILABLE:
		if (st->cfg.failmode == BV_FAILMODE_SAFE) {
			log_event(st, LOG_WARNING, "ALLOWED WITHOUT A CODE: "
				  "service unavailable and failmode=safe");
			say(st, PAM_TEXT_INFO, "The verification service is "
			    "unreachable; signing in without a code.");
			return PAM_SUCCESS;
		}
		say(st, PAM_ERROR_MSG, "The verification service is "
		    "unreachable. Try again later.");
		return PAM_AUTHINFO_UNAVAIL;
	case BV_CONFIG:
		say(st, PAM_ERROR_MSG, "Two-factor verification is "
		    "misconfigured. Contact your administrator.");
		return PAM_SERVICE_ERR;
	case BV_ABORTED:
		if (st->conv_rc != PAM_SUCCESS)
			return st->conv_rc;
		log_event(st, LOG_NOTICE, "denied: no code entered");
		return PAM_AUTH_ERR;
	case BV_NOMEM:
		bv_log(&st->log, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	case BV_INTERNAL:
		/* The helper's log line said what broke; whatever it was,
		   the caller could have caused it, so it is never an
		   outage. */
		say(st, PAM_ERROR_MSG, "Verification failed on this host. "
		    "Contact your administrator.");
		return PAM_AUTH_ERR;
	}
	return PAM_AUTH_ERR;
}

static bool
has_arg(int argc, const char **argv, const char *arg)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], arg) == 0)
			return true;
	return false;
}

/* Arguments and config; the user and where they come from. */
static enum bv_result
begin(struct auth_state *st, pam_handle_t *pamh, int argc, const char **argv)
{
	const void *item = NULL;
	const char *user = NULL;
	enum bv_result rc;
	int i;

	st->pamh = pamh;
	st->log.pamh = pamh;
	st->argc = argc;
	st->argv = argv;
	st->conv_rc = PAM_SUCCESS;
	snprintf(st->user, sizeof(st->user), "-");
	snprintf(st->rhost, sizeof(st->rhost), "-");
	snprintf(st->who, sizeof(st->who), "user=-");
	st->log.debug = has_arg(argc, argv, "debug");
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		st->service = item;
	item = NULL;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item &&
	    *(const char *)item != '\0')
		text_sanitize(st->rhost, sizeof(st->rhost), item);
	i = pam_get_user(pamh, &user, NULL);
	if (i != PAM_SUCCESS || user == NULL || *user == '\0') {
		bv_log(&st->log, LOG_ERR, "cannot determine the user");
		/* pam_get_user's own answer (a conversation error, say). */
		st->conv_rc = i == PAM_SUCCESS ? PAM_USER_UNKNOWN :
			      i == PAM_CONV_AGAIN ? PAM_INCOMPLETE : i;
		return BV_ABORTED;
	}
	st->pam_user = user;
	text_sanitize(st->user, sizeof(st->user), user);
	snprintf(st->who, sizeof(st->who), "user=%s service=%s rhost=%s",
		 st->user, st->service ? st->service : "-", st->rhost);
	rc = cfg_load(&st->cfg, argc, argv, provider_catalog(), &st->log);
	st->log.debug = st->log.debug || st->cfg.debug;
	if (rc == BV_CONFIG)
		log_event(st, LOG_ERR, "denied: configuration %s is unusable",
			  st->cfg.path ? st->cfg.path : "-");
	return rc;
}

static void
end(struct auth_state *st)
{
	bv_proof_clear(&st->proof);
	remote_stop(st);
	contact_clear(&st->contact);
	cfg_free(&st->cfg);
}

/*
 * Who is asked: the groups filter, then where the code may go.  Returns a
 * result; when it is BV_OK, *skip is PAM_SUCCESS to go on, or the PAM code
 * that ends the authentication here (PAM_IGNORE for a user the module does
 * not apply to, PAM_AUTH_ERR for one with nowhere to send a code).
 */
static enum bv_result
select_user(struct auth_state *st, int *skip)
{
	enum bv_channel channels[MAX_CHANNELS];
	bool applies = true;
	enum bv_result rc;

	*skip = PAM_SUCCESS;
	rc = groups_user_applies(st->cfg.groups, st->pam_user, &st->log,
				 &applies);
	if (rc != BV_OK)
		return rc;
	if (!applies) {
		log_event(st, LOG_DEBUG, "skipped: not in the configured groups");
		*skip = PAM_IGNORE;
		return BV_OK;
	}
	rc = phones_lookup(&st->cfg, st->pam_user, &st->log, &st->contact);
	if (rc != BV_OK ||
	    usable_channels(st, channels, MAX_CHANNELS) > 0)
		return rc;
	if (st->cfg.nullok) {
		log_event(st, LOG_INFO, "skipped: no phone registered (nullok)");
		*skip = PAM_IGNORE;
		return BV_OK;
	}
	log_event(st, LOG_NOTICE, "denied: no phone registered");
	say(st, PAM_ERROR_MSG, "No phone number is registered for your "
	    "account. Contact your administrator.");
	*skip = PAM_AUTH_ERR;
	return BV_OK;
}

/* Ask the service whether the proof it gave us is really good. */
static enum bv_result
confirm_proof(struct auth_state *st)
{
	struct bv_outcome out = { .attempts_left = -1 };
	enum bv_result rc;

	if (st->recovered)
		return BV_OK;
	/* Local proofs were made a moment ago; nothing to ask anyone. */
	if (!provider_confirms_proof(&st->cfg, st->provider))
		return BV_OK;
	rc = remote_validate(st, st->proof.token, false, &out);
	if (rc != BV_OK && rc != BV_NOMEM)
		log_outcome(st, st->provider->name, rc, &out);
	return rc;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
		    const char **argv)
{
	struct auth_state st = { 0 };
	bool granted = false;
	enum bv_result rc;
	int skip = PAM_SUCCESS, pam_rc;

	(void)flags;
	rc = begin(&st, pamh, argc, argv);
	if (rc == BV_OK)
		rc = select_user(&st, &skip);
	if (rc != BV_OK || skip != PAM_SUCCESS)
		goto out;
	rc = guard_begin(&st, &granted);
	if (rc != BV_OK || granted) {
		if (granted)
			log_event(&st, LOG_INFO, "granted: verified within the "
				  "last %lds on this service and terminal",
				  st.cfg.remember);
		goto out;
	}
	rc = remote_start(&st, st.pam_user);
	if (rc == BV_OK)
		rc = run_dialogue(&st);
	if (rc == BV_OK)
		rc = confirm_proof(&st);
	if (rc == BV_OK)
		rc = guard_succeeded(&st);
	if (rc == BV_OK && export_proof(&st) != PAM_SUCCESS)
		rc = BV_NOMEM;
	if (rc == BV_OK && st.recovered)
		log_event(&st, LOG_NOTICE, "signed in with a recovery code");
	else if (rc == BV_OK)
		log_event(&st, LOG_INFO, "verified %s by %s (%s)", st.masked,
			  st.provider->name, channel_label(st.channel));
out:
	/* Only a clean BV_OK may carry a skip code; errors go to verdict. */
	pam_rc = rc == BV_OK && skip != PAM_SUCCESS ? skip : verdict(&st, rc);
	end(&st);
	return pam_rc;
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/*
 * Spend the proof: validate-token with consume.  The token and where it
 * was sent come from the PAM environment, the only thing sshd carries
 * from its authentication process to the session.
 */
static enum bv_result
consume_proof(struct auth_state *st, const char *user, const char *token,
	      const char *pname)
{
	struct bv_outcome out = { .attempts_left = -1 };
	enum bv_result rc;

	st->provider = provider_info_find(pname);
	if (st->provider == NULL ||
	    !provider_is_listed(&st->cfg, st->provider)) {
		log_event(st, LOG_ERR, "session: proof from provider \"%.32s\" "
			  "that is not configured", pname);
		return BV_REJECTED;
	}

	rc = remote_start(st, user);
	if (rc == BV_OK)
		rc = remote_validate(st, token, true, &out);
	if (rc != BV_OK && rc != BV_NOMEM)
		log_outcome(st, pname, rc, &out);
	if (rc == BV_OK)
		log_event(st, LOG_INFO, "session: proof %s at %s",
			  provider_consumes(st->provider) ? "consumed"
							  : "confirmed",
			  pname);
	return rc;
}

PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
		    const char **argv)
{
	struct auth_state st = { 0 };
	const char *token, *pname;
	const void *authed = NULL;
	enum bv_result rc;
	int pam_rc = PAM_IGNORE;

	(void)flags;
	/* Without consume_token the session side has nothing to do: no
	   config is read, so it cannot fail a session either. */
	if (!has_arg(argc, argv, "consume_token"))
		return PAM_IGNORE;
	rc = begin(&st, pamh, argc, argv);
	if (rc != BV_OK) {
		pam_rc = verdict(&st, rc);
		goto out;
	}
	token = pam_getenv(pamh, "BAXVERIFY_TOKEN");
	pname = pam_getenv(pamh, "BAXVERIFY_PROVIDER");
	st.dest = pam_getenv(pamh, "BAXVERIFY_PHONE");
	if (st.dest == NULL)
		st.dest = pam_getenv(pamh, "BAXVERIFY_EMAIL");
	if (!st.cfg.consume_token || token == NULL || st.dest == NULL)
		goto out;
	/* No provider named: a proof of the default one. */
	if (pname == NULL)
		pname = provider_info_default()->name;
	st.provider = provider_info_find(pname);
	if (st.provider != NULL && !provider_can_validate(st.provider)) {
		/* Mudbase: no endpoint to spend or check the proof with. */
		log_event(&st, LOG_DEBUG, "session: %s cannot consume a proof",
			  st.provider->name);
		goto out;
	}
	/* The proof is in the record of who authenticated (sudo: the
	   invoking user, though PAM_USER is now the target); sshd
	   authenticates in another process, with the same PAM_USER. */
	if (pam_get_data(pamh, DATA_USER, &authed) != PAM_SUCCESS ||
	    authed == NULL)
		authed = st.pam_user;
	rc = consume_proof(&st, authed, token, pname);
	if (rc == BV_OK) {
		pam_rc = PAM_SUCCESS;
	} else if (rc == BV_UNAVAILABLE &&
		   st.cfg.failmode == BV_FAILMODE_SAFE) {
		log_event(&st, LOG_WARNING, "session: proof NOT consumed: "
			  "service unavailable and failmode=safe");
		pam_rc = PAM_SUCCESS;
	} else {
		pam_rc = rc == BV_NOMEM ? PAM_BUF_ERR : PAM_SESSION_ERR;
	}
out:
	end(&st);
	return pam_rc;
}

PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
		     const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
