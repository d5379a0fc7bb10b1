/*
 * dialogue.c - what the user goes through: the channel menu, the code
 * sent (with failover between providers), the prompt, the retries, the
 * recovery codes; and the proof confirmed or spent afterwards.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "engine.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* Wrong menu answers before giving up. */
#define MENU_TRIES 3

static void
use_channel(struct bv_engine *e, enum bv_channel channel)
{
	e->channel = channel;
	e->dest = engine_destination(e, channel);
	engine_mask(channel, e->dest, e->masked, sizeof(e->masked));
}

/* Show the numbered menu once; *choice is 0-based, -1 for a bad answer. */
static enum bv_result
ask_menu(struct bv_engine *e, const enum bv_channel *list, size_t n,
	 long *choice)
{
	char text[512], masked[ENGINE_MASKED_MAX], *answer = NULL, *end = NULL;
	enum bv_result rc;
	size_t i, used;

	used = (size_t)snprintf(text, sizeof(text),
				"Where should the verification code go?");
	for (i = 0; i < n && used < sizeof(text); i++) {
		engine_mask(list[i], engine_destination(e, list[i]), masked,
			    sizeof(masked));
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "\n  %zu) %s to %s", i + 1,
					 channel_label(list[i]), masked);
	}
	engine_info(e, "%s", text);
	snprintf(text, sizeof(text), "Choose 1-%zu [1]: ", n);
	rc = e->conv.prompt(e->conv.arg, true, text, &answer);
	if (rc != BV_OK)
		return rc;
	*choice = 0;
	if (answer != NULL && answer[0] != '\0') {
		errno = 0;
		*choice = strtol(answer, &end, 10) - 1;
		if (errno != 0 || *end != '\0' || *choice < 0 ||
		    *choice >= (long)n)
			*choice = -1;
	}
	bv_free_secret(answer);
	return BV_OK;
}

/* Pick where the code goes: the menu when there is a choice. */
static enum bv_result
choose_channel(struct bv_engine *e)
{
	enum bv_channel list[ENGINE_MAX_CHANNELS];
	size_t n = engine_usable_channels(e, list, ENGINE_MAX_CHANNELS);
	enum bv_result rc;
	long choice = 0;
	int tries;

	if (n == 0)
		return BV_CONFIG;
	if (n == 1) {
		use_channel(e, list[0]);
		return BV_OK;
	}
	for (tries = 0; tries < MENU_TRIES; tries++) {
		rc = ask_menu(e, list, n, &choice);
		if (rc != BV_OK)
			return rc;
		if (choice >= 0) {
			use_channel(e, list[choice]);
			return BV_OK;
		}
		engine_error(e, "Enter a number from 1 to %zu.", n);
	}
	engine_log(e, LOG_NOTICE, "denied: no valid channel chosen");
	e->abort_logged = true;
	return BV_ABORTED;
}

/*
 * Send a code through the provider that sent the last one, or, when its
 * service is down or refuses because of the account, through the next
 * provider that serves the channel.  Never on the user's account of
 * things (invalid number, rate limit): that would let one person pump
 * messages through every provider.  "Next" is in the order of the
 * health memory (health.c): providers marked down come last.
 */
static enum bv_result
send_code(struct bv_engine *e)
{
	enum bv_result rc = BV_CONFIG;
	bool rejected = false;
	size_t pos, i;

	e->sends++;
	/* The local limit comes first: no provider is asked past it. */
	rc = engine_count_send(e);
	if (rc != BV_OK)
		return rc;
	engine_health_begin(e);
	rc = BV_CONFIG;
	for (pos = e->provider_idx; engine_provider_at(e, pos, &i); pos++) {
		const struct bv_provider_info *p =
		    provider_info_find(e->cfg->providers[i]);
		struct bv_outcome out = {.attempts_left = -1};

		if (!provider_has_channel(p, e->channel))
			continue;
		rc = e->port.send(e->port.arg, p, e->channel, e->dest, &out);
		engine_health_note(e, i, rc);
		if (rc == BV_OK) {
			e->provider = p;
			e->provider_idx = pos;
			engine_log(e, LOG_DEBUG, "code %ld sent to %s via %s",
				   e->sends, e->masked, p->name);
			engine_info(e,
				    "A verification code was sent by %s to %s.",
				    channel_label(e->channel), e->masked);
			return BV_OK;
		}
		engine_log_outcome(e, p->name, rc, &out);
		if (rc != BV_UNAVAILABLE && rc != BV_REJECTED)
			return rc;
		rejected = rejected || rc == BV_REJECTED;
	}
	if (rc == BV_CONFIG && engine_provider_at(e, e->provider_idx, &i))
		engine_log(e, LOG_ERR,
			   "no configured provider from %s on "
			   "sends by %s",
			   e->cfg->providers[i], channel_name(e->channel));
	/* An account problem anywhere is not an outage: failmode stays out. */
	return rejected ? BV_REJECTED : rc;
}

/* Ask for the code; BV_ABORTED when the dialogue itself fails. */
static enum bv_result
ask_code(struct bv_engine *e, char **answer)
{
	*answer = NULL;
	return e->conv.prompt(e->conv.arg, false, e->cfg->prompt, answer);
}

/*
 * A recovery code typed at the prompt: BV_OK when it was one of the
 * user's (now spent), BV_WRONG_CODE when not, or the store's error.
 */
static enum bv_result
try_recovery(struct bv_engine *e, const char *digits)
{
	enum bv_result rc;
	bool used = false;

	rc = engine_use_recovery(e, digits, &used);
	if (rc != BV_OK)
		return rc;
	if (used) {
		e->recovered = true;
		return BV_OK;
	}
	engine_log(e, LOG_NOTICE, "wrong recovery code (try %ld)", e->tries);
	return BV_WRONG_CODE;
}

/* After a wrong answer: the lockout counter, then the tries left. */
static enum bv_result
count_failure(struct bv_engine *e, long left)
{
	enum bv_result rc = engine_failed(e);

	/* Out of tries anyway: that is this login's story; the lockout
	   (logged) meets the next one. */
	if (left <= 0 && (rc == BV_OK || rc == BV_LOCKED))
		return BV_MAX_ATTEMPTS;
	if (rc != BV_OK)
		return rc;
	engine_error(e, "Wrong code. %ld attempt(s) left.", left);
	return BV_WRONG_CODE;
}

/* One typed answer: check it; BV_WRONG_CODE means "ask again". */
static enum bv_result
try_answer(struct bv_engine *e, const char *answer)
{
	struct bv_outcome out = {.attempts_left = -1};
	char code[RECOVERY_DIGITS + 1];
	enum bv_result rc;
	long left;

	e->tries++;
	left = e->cfg->max_tries - e->tries;
	if (e->cfg->recovery &&
	    recovery_normalize(answer, code, sizeof(code))) {
		rc = try_recovery(e, code);
		explicit_bzero(code, sizeof(code));
		return rc == BV_WRONG_CODE ? count_failure(e, left) : rc;
	}
	if (e->provider == NULL) {
		/* No code went out (service down): only recovery codes. */
		engine_error(e, "Enter a recovery code.");
		return left > 0 ? BV_WRONG_CODE : BV_MAX_ATTEMPTS;
	}
	if (!code_normalize(answer, code, sizeof(code))) {
		/* Not worth one of the service's attempts. */
		engine_log(e, LOG_NOTICE, "answer is not a code (try %ld)",
			   e->tries);
		if (left <= 0)
			return BV_MAX_ATTEMPTS;
		engine_error(e, "Enter only the digits of the code.");
		return BV_WRONG_CODE;
	}
	rc = e->port.check(e->port.arg, e->provider, code, &e->proof, &out);
	explicit_bzero(code, sizeof(code));
	if (rc == BV_OK)
		return rc;
	engine_log_outcome(e, e->provider->name, rc, &out);
	if (rc == BV_INTERNAL)
		return rc;
	/* The service may know of fewer attempts than we allow. */
	if (out.attempts_left >= 0 && out.attempts_left < left)
		left = out.attempts_left;
	if (rc == BV_WRONG_CODE)
		return count_failure(e, left);
	/* The wrong code that used up the service's attempts counts too. */
	if (rc == BV_MAX_ATTEMPTS) {
		enum bv_result grc = engine_failed(e);

		return grc == BV_OK || grc == BV_LOCKED ? rc : grc;
	}
	if (rc == BV_EXPIRED && e->sends < e->cfg->max_sends) {
		engine_error(e, "The code has expired. Press Enter for a new "
				"code.");
		return left > 0 ? BV_WRONG_CODE : BV_EXPIRED;
	}
	return rc;
}

/* An empty answer: a new code, by another channel when there is one. */
static enum bv_result
resend(struct bv_engine *e)
{
	enum bv_channel list[ENGINE_MAX_CHANNELS];
	enum bv_result rc = BV_OK;

	if (e->sends >= e->cfg->max_sends) {
		engine_error(e, "No code entered.");
		return BV_ABORTED;
	}
	if (engine_usable_channels(e, list, ENGINE_MAX_CHANNELS) > 1) {
		enum bv_channel before = e->channel;

		rc = choose_channel(e);
		/* Another channel: every provider gets its chance again. */
		if (rc == BV_OK && before != e->channel)
			e->provider_idx = 0;
	}
	if (rc == BV_OK)
		rc = send_code(e);
	return rc;
}

/*
 * No code could be sent (service down, or refusing for the account): a
 * user holding recovery codes may still get in with one.  Otherwise, or
 * on an empty answer, the send's failure stands (and failmode decides).
 */
static enum bv_result
offer_recovery(struct bv_engine *e, enum bv_result failed)
{
	size_t left = 0;

	if (!e->cfg->recovery ||
	    (failed != BV_UNAVAILABLE && failed != BV_REJECTED))
		return failed;
	if (engine_recovery_left(e, &left) != BV_OK || left == 0)
		return failed;
	engine_error(e, failed == BV_UNAVAILABLE
			    ? "The verification service is unreachable. Enter "
			      "a recovery code, "
			      "or press Enter to cancel."
			    : "No code could be sent. Enter a recovery code, "
			      "or press Enter "
			      "to cancel.");
	e->offered_recovery = failed;
	return BV_OK;
}

enum bv_result
engine_dialogue(struct bv_engine *e)
{
	enum bv_result rc;
	char *answer = NULL;

	rc = choose_channel(e);
	if (rc == BV_OK)
		rc = send_code(e);
	if (rc != BV_OK)
		rc = offer_recovery(e, rc);
	while (rc == BV_OK) {
		rc = ask_code(e, &answer);
		/* Another login may have locked the user out while this one
		   waited at the prompt: then no answer is checked (no code,
		   no recovery code) and no new code is sent. */
		if (rc == BV_OK)
			rc = engine_check_locked(e);
		if (rc != BV_OK)
			break;
		if ((answer == NULL || answer[0] == '\0') &&
		    e->provider == NULL) {
			rc = e->offered_recovery; /* gave up on recovery */
		} else if (answer == NULL || answer[0] == '\0') {
			rc = resend(e);
		} else {
			rc = try_answer(e, answer);
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

enum bv_result
engine_confirm(struct bv_engine *e)
{
	struct bv_outcome out = {.attempts_left = -1};
	enum bv_result rc;

	if (e->recovered)
		return BV_OK;
	/* Local proofs were made a moment ago; nothing to ask anyone. */
	if (!provider_confirms_proof(e->cfg, e->provider))
		return BV_OK;
	rc = e->port.validate(e->port.arg, e->provider, e->dest, e->proof.token,
			      false, &out);
	if (rc != BV_OK && rc != BV_NOMEM)
		engine_log_outcome(e, e->provider->name, rc, &out);
	return rc;
}

enum bv_result
engine_consume(struct bv_engine *e, const char *pname, const char *dest,
	       const char *token, bool *skipped)
{
	struct bv_outcome out = {.attempts_left = -1};
	enum bv_result rc;

	*skipped = false;
	e->provider = provider_info_find(pname);
	if (e->provider != NULL && !provider_can_validate(e->provider)) {
		/* No endpoint to spend or check the proof with. */
		engine_log(e, LOG_DEBUG, "session: %s cannot consume a proof",
			   e->provider->name);
		*skipped = true;
		return BV_OK;
	}
	if (e->provider == NULL || !provider_is_listed(e->cfg, e->provider)) {
		engine_log(e, LOG_ERR,
			   "session: proof from provider \"%.32s\" "
			   "that is not configured",
			   pname);
		return BV_REJECTED;
	}
	rc =
	    e->port.validate(e->port.arg, e->provider, dest, token, true, &out);
	if (rc != BV_OK && rc != BV_NOMEM)
		engine_log_outcome(e, pname, rc, &out);
	if (rc == BV_OK)
		engine_log(e, LOG_INFO, "session: proof %s at %s",
			   provider_consumes(e->provider) ? "consumed"
							  : "confirmed",
			   pname);
	return rc;
}
