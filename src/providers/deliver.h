/*
 * deliver.h - how the local provider's message reaches the user: a
 * configured program (an SMS gateway client, gammu, an email bridge) or
 * a file (demos and tests).
 */
#ifndef BV_DELIVER_H
#define BV_DELIVER_H

#include "provider.h"

/*
 * Expand the message template: %c the code, %h this host's name, %% a
 * percent.  Returns an allocated string (it holds the code: free with
 * bv_free_secret), or NULL when out of memory.
 */
char *deliver_format(const char *tmpl, const char *code);

/*
 * Deliver message to dest as the local config says.  The command runs
 * without a shell (argv: command, dest), with an empty environment, the
 * message on stdin, no other descriptors, and is killed when it outlives
 * the timeout; exit status 0 is success.  Returns BV_OK, BV_UNAVAILABLE
 * (with out->detail naming what failed) or BV_NOMEM.
 */
enum bv_result deliver_message(const struct bv_local_config *lc,
			       const char *dest, const char *message,
			       struct bv_outcome *out);

#endif /* BV_DELIVER_H */
