/*
 * conv.c - the engine's conversation (prompt, info, error) through the
 * application's PAM conversation.  A failed conversation is BV_ABORTED
 * to the engine; what PAM said is kept for verdict().
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>

#include <security/pam_ext.h>

#include "auth.h"

static enum bv_result
conv_prompt(void *arg, bool echo, const char *text, char **answer)
{
	struct auth_state *st = arg;
	int rc;

	*answer = NULL;
	rc = pam_prompt(st->pamh,
			echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, answer,
			"%s", text);
	if (rc == PAM_SUCCESS && *answer == NULL) {
		/* Some applications answer "nothing" with NULL. */
		*answer = calloc(1, 1);
		if (*answer == NULL)
			return BV_NOMEM;
	}
	if (rc != PAM_SUCCESS) {
		st->pam_rc = rc;
		return BV_ABORTED;
	}
	return BV_OK;
}

static void
conv_info(void *arg, const char *text)
{
	say(arg, PAM_TEXT_INFO, "%s", text);
}

static void
conv_error(void *arg, const char *text)
{
	say(arg, PAM_ERROR_MSG, "%s", text);
}

struct bv_conv
conv_adapter(struct auth_state *st)
{
	struct bv_conv conv = {
	    .prompt = conv_prompt,
	    .info = conv_info,
	    .error = conv_error,
	    .arg = st,
	};

	return conv;
}

void
say(struct auth_state *st, int style, const char *fmt, ...)
{
	va_list ap;

	/* A message the application cannot show changes nothing: the
	   result that follows it is what counts. */
	va_start(ap, fmt);
	(void)pam_vprompt(st->pamh, style, NULL, fmt, ap);
	va_end(ap);
}
