/*
 * dialogue.c - what the user goes through: the channel menu, the code
 * sent (with failover between providers), the prompt, the retries.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "auth.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* At most one entry per channel. */
#define MAX_CHANNELS BV_CHANNEL_COUNT
/* Wrong menu answers before giving up. */
#define MENU_TRIES 3

static const char *
dest_for(const struct auth_state *st, enum bv_channel channel)
{
	return channel_is_email(channel) ? st->contact.email
					 : st->contact.phone;
}

static void
mask_dest(enum bv_channel channel, const char *dest, char *out,
	  size_t outsz)
{
	if (channel_is_email(channel))
		email_mask(dest, out, outsz);
	else
		phone_mask(dest, out, outsz);
}

/* Does any configured provider send by channel? */
static bool
channel_served(const struct auth_state *st, enum bv_channel channel)
{
	size_t i;

	for (i = 0; st->cfg.providers[i] != NULL; i++)
		if (provider_has_channel(provider_info_find(st->cfg.providers[i]),
					 channel))
			return true;
	return false;
}

size_t
usable_channels(const struct auth_state *st, enum bv_channel *out,
		size_t max)
{
	enum bv_channel fallback[1];
	const enum bv_channel *want = st->cfg.channels;
	size_t i, nwant = st->cfg.nchannels, n = 0;

	/* No "channels" list: the first provider's own channel. */
	if (nwant == 0) {
		fallback[0] = provider_default_channel(
			&st->cfg, provider_info_find(st->cfg.providers[0]));
		want = fallback;
		nwant = 1;
	}
	for (i = 0; i < nwant && n < max; i++)
		if (dest_for(st, want[i]) != NULL &&
		    channel_served(st, want[i]))
			out[n++] = want[i];
	return n;
}

static void
use_channel(struct auth_state *st, enum bv_channel channel)
{
	st->channel = channel;
	st->dest = dest_for(st, channel);
	mask_dest(channel, st->dest, st->masked, sizeof(st->masked));
}

/* Show the numbered menu once; *choice is 0-based, -1 for a bad answer. */
static enum bv_result
ask_menu(struct auth_state *st, const enum bv_channel *list, size_t n,
	 long *choice)
{
	char text[512], masked[MASKED_MAX], *answer = NULL, *end = NULL;
	size_t i, used;
	int rc;

	used = (size_t)snprintf(text, sizeof(text),
				"Where should the verification code go?");
	for (i = 0; i < n && used < sizeof(text); i++) {
		mask_dest(list[i], dest_for(st, list[i]), masked,
			  sizeof(masked));
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "\n  %zu) %s to %s", i + 1,
					 channel_label(list[i]), masked);
	}
	say(st, PAM_TEXT_INFO, "%s", text);
	rc = pam_prompt(st->pamh, PAM_PROMPT_ECHO_ON, &answer,
			"Choose 1-%zu [1]: ", n);
	if (rc != PAM_SUCCESS) {
		st->conv_rc = rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
		return BV_ABORTED;
	}
	*choice = 0;
	if (answer != NULL && answer[0] != '\0') {
		errno = 0;
		*choice = strtol(answer, &end, 10) - 1;
		if (errno != 0 || *end != '\0' || *choice < 0 ||
		    *choice >= (long)n)
			*choice = -1;
	}
	free(answer);
	return BV_OK;
}

/* Pick where the code goes: the menu when there is a choice. */
static enum bv_result
choose_channel(struct auth_state *st)
{
	enum bv_channel list[MAX_CHANNELS];
	size_t n = usable_channels(st, list, MAX_CHANNELS);
	enum bv_result rc;
	long choice = 0;
	int tries;

	if (n == 0)
		return BV_CONFIG;
	if (n == 1) {
		use_channel(st, list[0]);
		return BV_OK;
	}
	for (tries = 0; tries < MENU_TRIES; tries++) {
		rc = ask_menu(st, list, n, &choice);
		if (rc != BV_OK)
			return rc;
		if (choice >= 0) {
			use_channel(st, list[choice]);
			return BV_OK;
		}
		say(st, PAM_ERROR_MSG, "Enter a number from 1 to %zu.", n);
	}
	log_event(st, LOG_NOTICE, "denied: no valid channel chosen");
	st->conv_rc = PAM_AUTH_ERR;
	return BV_ABORTED;
}

/*
 * Send a code through the provider that sent the last one, or, when its
 * service is down or refuses because of the account, through the next
 * provider that serves the channel.  Never on the user's account of
 * things (invalid number, rate limit): that would let one person pump
 * messages through every provider.
 */
static enum bv_result
send_code(struct auth_state *st)
{
	enum bv_result rc = BV_CONFIG;
	bool rejected = false;
	size_t i;

	st->sends++;
	/* The local limit comes first: no provider is asked past it. */
	rc = guard_count_send(st);
	if (rc != BV_OK)
		return rc;
	rc = BV_CONFIG;
	for (i = st->provider_idx; st->cfg.providers[i] != NULL; i++) {
		const struct bv_provider_info *p =
			provider_info_find(st->cfg.providers[i]);
		struct bv_outcome out = { .attempts_left = -1 };

		if (!provider_has_channel(p, st->channel))
			continue;
		rc = remote_send(st, p, &out);
		if (rc == BV_OK) {
			st->provider = p;
			st->provider_idx = i;
			log_event(st, LOG_DEBUG, "code %ld sent to %s via %s",
				  st->sends, st->masked, p->name);
			say(st, PAM_TEXT_INFO,
			    "A verification code was sent by %s to %s.",
			    channel_label(st->channel), st->masked);
			return BV_OK;
		}
		log_outcome(st, p->name, rc, &out);
		if (rc != BV_UNAVAILABLE && rc != BV_REJECTED)
			return rc;
		rejected = rejected || rc == BV_REJECTED;
	}
	if (rc == BV_CONFIG)
		log_event(st, LOG_ERR, "no configured provider from %s on "
			  "sends by %s", st->cfg.providers[st->provider_idx],
			  channel_name(st->channel));
	/* An account problem anywhere is not an outage: failmode stays out. */
	return rejected ? BV_REJECTED : rc;
}

/* Ask for the code; BV_ABORTED when the dialogue itself fails. */
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

/*
 * A recovery code typed at the prompt: BV_OK when it was one of the
 * user's (now spent), BV_WRONG_CODE when not, or the store's error.
 */
static enum bv_result
try_recovery(struct auth_state *st, const char *digits)
{
	enum bv_result rc;
	bool used = false;

	rc = guard_use_recovery(st, digits, &used);
	if (rc != BV_OK)
		return rc;
	if (used) {
		st->recovered = true;
		return BV_OK;
	}
	log_event(st, LOG_NOTICE, "wrong recovery code (try %ld)", st->tries);
	return BV_WRONG_CODE;
}

/* After a wrong answer: the lockout counter, then the tries left. */
static enum bv_result
count_failure(struct auth_state *st, long left)
{
	enum bv_result rc = guard_failed(st);

	/* Out of tries anyway: that is this login's story; the lockout
	   (logged) meets the next one. */
	if (left <= 0 && (rc == BV_OK || rc == BV_LOCKED))
		return BV_MAX_ATTEMPTS;
	if (rc != BV_OK)
		return rc;
	say(st, PAM_ERROR_MSG, "Wrong code. %ld attempt(s) left.", left);
	return BV_WRONG_CODE;
}

/* One typed answer: check it; BV_WRONG_CODE means "ask again". */
static enum bv_result
try_answer(struct auth_state *st, const char *answer)
{
	struct bv_outcome out = { .attempts_left = -1 };
	char code[RECOVERY_DIGITS + 1];
	enum bv_result rc;
	long left;

	st->tries++;
	left = st->cfg.max_tries - st->tries;
	if (st->cfg.recovery && recovery_normalize(answer, code, sizeof(code))) {
		rc = try_recovery(st, code);
		explicit_bzero(code, sizeof(code));
		return rc == BV_WRONG_CODE ? count_failure(st, left) : rc;
	}
	if (st->provider == NULL) {
		/* No code went out (service down): only recovery codes. */
		say(st, PAM_ERROR_MSG, "Enter a recovery code.");
		return left > 0 ? BV_WRONG_CODE : BV_MAX_ATTEMPTS;
	}
	if (!code_normalize(answer, code, sizeof(code))) {
		/* Not worth one of the service's attempts. */
		log_event(st, LOG_NOTICE, "answer is not a code (try %ld)",
			  st->tries);
		if (left <= 0)
			return BV_MAX_ATTEMPTS;
		say(st, PAM_ERROR_MSG, "Enter only the digits of the code.");
		return BV_WRONG_CODE;
	}
	rc = remote_check(st, code, &st->proof, &out);
	explicit_bzero(code, sizeof(code));
	if (rc == BV_OK)
		return rc;
	log_outcome(st, st->provider->name, rc, &out);
	if (rc == BV_INTERNAL)
		return rc;
	/* The service may know of fewer attempts than we allow. */
	if (out.attempts_left >= 0 && out.attempts_left < left)
		left = out.attempts_left;
	if (rc == BV_WRONG_CODE)
		return count_failure(st, left);
	/* The wrong code that used up the service's attempts counts too. */
	if (rc == BV_MAX_ATTEMPTS) {
		enum bv_result grc = guard_failed(st);

		return grc == BV_OK || grc == BV_LOCKED ? rc : grc;
	}
	if (rc == BV_EXPIRED && st->sends < st->cfg.max_sends) {
		say(st, PAM_ERROR_MSG,
		    "The code has expired. Press Enter for a new code.");
		return left > 0 ? BV_WRONG_CODE : BV_EXPIRED;
	}
	return rc;
}

/* An empty answer: a new code, by another channel when there is one. */
static enum bv_result
resend(struct auth_state *st)
{
	enum bv_channel list[MAX_CHANNELS];
	enum bv_result rc = BV_OK;

	if (st->sends >= st->cfg.max_sends) {
		say(st, PAM_ERROR_MSG, "No code entered.");
		return BV_ABORTED;
	}
	if (usable_channels(st, list, MAX_CHANNELS) > 1) {
		enum bv_channel before = st->channel;

		rc = choose_channel(st);
		/* Another channel: every provider gets its chance again. */
		if (rc == BV_OK && before != st->channel)
			st->provider_idx = 0;
	}
	if (rc == BV_OK)
		rc = send_code(st);
	return rc;
}

/*
 * No code could be sent (service down, or refusing for the account): a
 * user holding recovery codes may still get in with one.  Otherwise, or
 * on an empty answer, the send's failure stands (and failmode decides).
 */
static enum bv_result
offer_recovery(struct auth_state *st, enum bv_result failed)
{
	size_t left = 0;

	if (!st->cfg.recovery || (failed != BV_UNAVAILABLE &&
				  failed != BV_REJECTED))
		return failed;
	if (guard_recovery_left(st, &left) != BV_OK || left == 0)
		return failed;
	say(st, PAM_ERROR_MSG, failed == BV_UNAVAILABLE ?
	    "The verification service is unreachable. Enter a recovery code, "
	    "or press Enter to cancel." :
	    "No code could be sent. Enter a recovery code, or press Enter "
	    "to cancel.");
	st->offered_recovery = failed;
	return BV_OK;
}

enum bv_result
run_dialogue(struct auth_state *st)
{
	enum bv_result rc;
	char *answer = NULL;

	rc = choose_channel(st);
	if (rc == BV_OK)
		rc = send_code(st);
	if (rc != BV_OK)
		rc = offer_recovery(st, rc);
	while (rc == BV_OK) {
		rc = ask_code(st, &answer);
		/* Another login may have locked the user out while this one
		   waited at the prompt: then no answer is checked (no code,
		   no recovery code) and no new code is sent. */
		if (rc == BV_OK)
			rc = guard_check_locked(st);
		if (rc != BV_OK)
			break;
		if ((answer == NULL || answer[0] == '\0') &&
		    st->provider == NULL) {
			rc = st->offered_recovery; /* gave up on recovery */
		} else if (answer == NULL || answer[0] == '\0') {
			rc = resend(st);
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
