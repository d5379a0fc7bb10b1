/*
 * pam_baxverify.c - the PAM entry points and the conversation.
 *
 * pam_sm_authenticate reads as a story: arguments and config, the user,
 * whether the module applies, the phone, the provider, the dialogue, the
 * verdict, the export.  Everything below it speaks enum bv_result; the
 * one mapping to PAM codes, user lines and failmode is here.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_AUTH
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "../core/conf.h"
#include "../core/groups.h"
#include "../core/http.h"
#include "../core/log.h"
#include "../core/phones.h"
#include "../core/text.h"
#include "../core/wipe.h"
#include "../providers/provider.h"

/* pam_set_data keys for modules in the same process. */
#define DATA_TOKEN "baxverify_token"
#define DATA_PHONE "baxverify_phone"
#define DATA_EXPIRES "baxverify_token_expires"

/* Masked number: "+", a digit, up to 10 bullets of 3 bytes, 4 digits. */
#define MASKED_MAX 64

/* Everything one call of the module works with. */
struct auth_state {
	pam_handle_t *pamh;
	struct bv_log log;
	struct bv_config cfg;
	const char *service;
	const char *pam_user;   /* as PAM gave it, for lookups */
	char user[128];         /* sanitised, for log lines */
	char rhost[128];        /* sanitised, "-" when unset */
	char masked[MASKED_MAX];
	char *phone;
	const struct bv_provider *provider;
	struct http_client *http;
	struct bv_ctx ctx;
	struct bv_proof proof;
	long sends;
	long tries;
	int conv_rc;            /* PAM code of a failed conversation */
};

static void
free_secret_data(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	/* Replaced or released, the old value is ours to wipe and free. */
	(void)error_status;
	bv_free_secret(data);
}

/* Name the who/where of every log line the same way. */
static void
log_event(const struct auth_state *st, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
log_event(const struct auth_state *st, int prio, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	bv_log(&st->log, prio, "user=%s service=%s rhost=%s: %s", st->user,
	       st->service ? st->service : "-", st->rhost, what);
}

/* The administrator's line for a provider call that did not succeed. */
static void
log_outcome(const struct auth_state *st, enum bv_result rc,
	    const struct bv_outcome *out)
{
	int prio = LOG_NOTICE;

	if (rc == BV_REJECTED || rc == BV_UNAVAILABLE ||
	    rc == BV_BAD_DESTINATION)
		prio = LOG_ERR;
	if (out->code[0] != '\0')
		log_event(st, prio, "%s via %s refused: %s (HTTP %ld): %s%s%s",
			  out->action ? out->action : "request",
			  st->provider->name, out->code, out->http_status,
			  out->message[0] ? out->message : bv_result_name(rc),
			  out->help_url[0] ? " help=" : "", out->help_url);
	else if (out->http_status > 0)
		log_event(st, prio, "%s via %s failed: %s: %s (HTTP %ld)",
			  out->action ? out->action : "request",
			  st->provider->name, bv_result_name(rc),
			  out->detail[0] ? out->detail : "no detail",
			  out->http_status);
	else
		log_event(st, prio, "%s via %s failed: %s: %s",
			  out->action ? out->action : "request",
			  st->provider->name, bv_result_name(rc),
			  out->detail[0] ? out->detail : "no detail");
}

static int
say(struct auth_state *st, int style, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
say(struct auth_state *st, int style, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pam_vprompt(st->pamh, style, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

static enum bv_result
send_code(struct auth_state *st)
{
	struct bv_outcome out = { 0 };
	enum bv_result rc;

	st->sends++;
	rc = st->provider->send(&st->ctx, &out);
	if (rc != BV_OK) {
		log_outcome(st, rc, &out);
		return rc;
	}
	log_event(st, LOG_DEBUG, "code %ld sent to %s", st->sends, st->masked);
	say(st, PAM_TEXT_INFO, "A verification code was sent by SMS to %s.",
	    st->masked);
	return BV_OK;
}

/* Ask for the code; NULL *answer with BV_ABORTED when the dialogue fails. */
static enum bv_result
ask_code(struct auth_state *st, char **answer)
{
	int rc;

	*answer = NULL;
	rc = pam_prompt(st->pamh, PAM_PROMPT_ECHO_OFF, answer, "%s",
			st->cfg.prompt);
	if (rc != PAM_SUCCESS) {
		st->conv_rc = rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
		return BV_ABORTED;
	}
	return BV_OK;
}

/* One typed answer: check it; BV_WRONG_CODE means "ask again". */
static enum bv_result
try_answer(struct auth_state *st, const char *answer)
{
	struct bv_outcome out = { 0 };
	char code[CODE_MAX_DIGITS + 1];
	enum bv_result rc;
	long left;

	st->tries++;
	left = st->cfg.max_tries - st->tries;
	if (!code_normalize(answer, code, sizeof(code))) {
		/* Not worth one of the service's attempts. */
		log_event(st, LOG_NOTICE, "answer is not a code (try %ld)",
			  st->tries);
		if (left <= 0)
			return BV_MAX_ATTEMPTS;
		say(st, PAM_ERROR_MSG, "Enter only the digits of the code.");
		return BV_WRONG_CODE;
	}
	rc = st->provider->check(&st->ctx, code, &st->proof, &out);
	explicit_bzero(code, sizeof(code));
	if (rc == BV_OK)
		return rc;
	log_outcome(st, rc, &out);
	if (rc == BV_WRONG_CODE && left <= 0)
		return BV_MAX_ATTEMPTS;
	if (rc == BV_WRONG_CODE)
		say(st, PAM_ERROR_MSG, "Wrong code. %ld attempt(s) left.", left);
	if (rc == BV_EXPIRED && st->sends < st->cfg.max_sends) {
		say(st, PAM_ERROR_MSG,
		    "The code has expired. Press Enter for a new code.");
		return left > 0 ? BV_WRONG_CODE : BV_EXPIRED;
	}
	return rc;
}

/* Send, then ask until a code checks out or something ends the dialogue. */
static enum bv_result
run_dialogue(struct auth_state *st)
{
	enum bv_result rc;
	char *answer = NULL;

	rc = send_code(st);
	while (rc == BV_OK) {
		rc = ask_code(st, &answer);
		if (rc != BV_OK)
			break;
		if (answer == NULL || answer[0] == '\0') {
			/* An empty answer asks for a new code. */
			if (st->sends >= st->cfg.max_sends) {
				say(st, PAM_ERROR_MSG, "No code entered.");
				rc = BV_ABORTED;
			} else {
				rc = send_code(st);
			}
		} else {
			rc = try_answer(st, answer);
			if (rc == BV_OK)
				break;
			if (rc == BV_WRONG_CODE)
				rc = BV_OK; /* ask again */
		}
		bv_free_secret(answer);
		answer = NULL;
	}
	bv_free_secret(answer);
	return rc;
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

/* Make the proof visible to the session (env) and to other modules. */
static int
export_proof(struct auth_state *st)
{
	char expires[32];
	int rc;

	snprintf(expires, sizeof(expires), "%lld",
		 (long long)st->proof.expires);
	rc = put_env(st->pamh, "BAXVERIFY_TOKEN", st->proof.token);
	if (rc == PAM_SUCCESS)
		rc = put_env(st->pamh, "BAXVERIFY_PHONE", st->phone);
	if (rc == PAM_SUCCESS)
		rc = put_env(st->pamh, "BAXVERIFY_TOKEN_EXPIRES", expires);
	if (rc == PAM_SUCCESS)
		rc = put_env(st->pamh, "BAXVERIFY_PROVIDER",
			     st->provider->name);
	if (rc == PAM_SUCCESS)
		rc = set_data_copy(st->pamh, DATA_TOKEN, st->proof.token);
	if (rc == PAM_SUCCESS)
		rc = set_data_copy(st->pamh, DATA_PHONE, st->phone);
	if (rc == PAM_SUCCESS)
		rc = set_data_copy(st->pamh, DATA_EXPIRES, expires);
	return rc;
}

/* The single mapping from a result to a PAM code and the user's line. */
static int
verdict(struct auth_state *st, enum bv_result rc)
{
	static const char admin[] =
		"Verification is not possible right now: the SMS service "
		"needs attention from your administrator.";

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
		say(st, PAM_ERROR_MSG, "Too many codes requested. Wait a few "
		    "minutes and try again.");
		return PAM_AUTH_ERR;
	case BV_BAD_DESTINATION:
		say(st, PAM_ERROR_MSG, "Your registered phone number is not "
		    "valid. Contact your administrator.");
		return PAM_AUTH_ERR;
	case BV_REJECTED:
		say(st, PAM_ERROR_MSG, "%s", admin);
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
	}
	return PAM_AUTH_ERR;
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
	st->conv_rc = PAM_SUCCESS;
	snprintf(st->user, sizeof(st->user), "-");
	snprintf(st->rhost, sizeof(st->rhost), "-");
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "debug") == 0)
			st->log.debug = true;
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		st->service = item;
	item = NULL;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item &&
	    *(const char *)item != '\0')
		text_sanitize(st->rhost, sizeof(st->rhost), item);
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL ||
	    *user == '\0') {
		bv_log(&st->log, LOG_ERR, "cannot determine the user");
		st->conv_rc = PAM_USER_UNKNOWN;
		return BV_ABORTED;
	}
	st->pam_user = user;
	text_sanitize(st->user, sizeof(st->user), user);
	rc = cfg_load(&st->cfg, argc, argv, &st->log);
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
	http_client_free(st->http);
	free(st->phone);
	cfg_free(&st->cfg);
}

/*
 * Who is asked: the groups filter, then the phone.  Returns a result; when
 * it is BV_OK, *skip is PAM_SUCCESS to go on, or the PAM code that ends the
 * authentication here (PAM_IGNORE for a user the module does not apply to,
 * PAM_AUTH_ERR for one without a phone).
 */
static enum bv_result
select_user(struct auth_state *st, int *skip)
{
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
	rc = phones_lookup(&st->cfg, st->pam_user, &st->log, &st->phone);
	if (rc != BV_OK || st->phone != NULL)
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

/* Wire up the provider and one HTTP client for this authentication. */
static enum bv_result
open_provider(struct auth_state *st)
{
	enum bv_result rc;

	st->provider = provider_find(st->cfg.provider);
	if (st->provider == NULL)
		return BV_CONFIG;
	rc = http_client_new(&st->cfg.http, &st->http);
	st->ctx.cfg = &st->cfg;
	st->ctx.http = st->http;
	st->ctx.log = &st->log;
	st->ctx.phone = st->phone;
	st->ctx.purpose = st->cfg.baxverify.purpose;
	phone_mask(st->phone ? st->phone : "", st->masked, sizeof(st->masked));
	return rc;
}

/* Ask the service whether the proof it gave us is really good. */
static enum bv_result
confirm_proof(struct auth_state *st)
{
	struct bv_outcome out = { 0 };
	enum bv_result rc;

	if (!st->cfg.baxverify.validate_token)
		return BV_OK;
	rc = st->provider->validate(&st->ctx, st->proof.token, false, &out);
	if (rc != BV_OK)
		log_outcome(st, rc, &out);
	return rc;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
		    const char **argv)
{
	struct auth_state st = { 0 };
	enum bv_result rc;
	int skip = PAM_SUCCESS, pam_rc;

	(void)flags;
	rc = begin(&st, pamh, argc, argv);
	if (rc == BV_OK)
		rc = select_user(&st, &skip);
	if (rc != BV_OK || skip != PAM_SUCCESS)
		goto out;
	rc = open_provider(&st);
	if (rc == BV_OK)
		rc = run_dialogue(&st);
	if (rc == BV_OK)
		rc = confirm_proof(&st);
	if (rc == BV_OK && export_proof(&st) != PAM_SUCCESS)
		rc = BV_NOMEM;
	if (rc == BV_OK)
		log_event(&st, LOG_INFO, "verified %s by %s", st.masked,
			  st.provider->name);
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
 * With consume_token, spend the proof at session open so it cannot be
 * replayed.  sshd authenticates in another process and hands back only
 * the PAM environment, so the token comes from pam_getenv.
 */
PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
		    const char **argv)
{
	struct auth_state st = { 0 };
	struct bv_outcome out = { 0 };
	const char *token, *phone;
	enum bv_result rc;
	int pam_rc = PAM_IGNORE;

	(void)flags;
	rc = begin(&st, pamh, argc, argv);
	if (rc != BV_OK) {
		pam_rc = verdict(&st, rc);
		goto out;
	}
	token = pam_getenv(pamh, "BAXVERIFY_TOKEN");
	phone = pam_getenv(pamh, "BAXVERIFY_PHONE");
	if (!st.cfg.consume_token || token == NULL || phone == NULL)
		goto out;
	st.phone = strdup(phone);
	rc = st.phone ? open_provider(&st) : BV_NOMEM;
	if (rc == BV_OK)
		rc = st.provider->validate(&st.ctx, token, true, &out);
	if (rc != BV_OK && rc != BV_NOMEM && rc != BV_CONFIG)
		log_outcome(&st, rc, &out);
	if (rc == BV_OK) {
		log_event(&st, LOG_INFO, "proof consumed");
		pam_rc = PAM_SUCCESS;
	} else if (rc == BV_UNAVAILABLE &&
		   st.cfg.failmode == BV_FAILMODE_SAFE) {
		log_event(&st, LOG_WARNING, "proof NOT consumed: service "
			  "unavailable and failmode=safe");
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
