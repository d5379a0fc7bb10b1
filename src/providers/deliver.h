/*
 * deliver.h - how the local provider's message reaches the user: a
 * configured program (an SMS gateway client, gammu, an email bridge) or
 * a file (demos and tests).
 */
#ifndef BV_DELIVER_H
#define BV_DELIVER_H

#include "local.h"

/*
 * Expand the message template: %c the code, %h this host's name, %% a
 * percent.  Returns an allocated string (it holds the code: free with
 * bv_free_secret), or NULL when out of memory.
 */
char *deliver_format(const char *tmpl, const char *code);

/*
 * Deliver message to dest as the local config says.
 *
 * delivery = "command": the program is opened and checked once
 * (child_open_trusted: absolute, no symlink, a regular executable file
 * owned by root or us, not writable by group or others) and exec'd from
 * that descriptor (child_exec: full root, default signals, sane limits,
 * an empty environment), without a shell: argv is command and dest, the
 * message on stdin, stdout /dev/null, stderr read by us (a script's $0
 * is then /dev/fd/3, not its path).  It runs in a process group of its
 * own, killed with it when it outlives the timeout.
 *
 * Returns BV_OK (exit status 0); BV_UNAVAILABLE when the program exited
 * with another status (the gateway's own report of a failure; out->detail
 * has the status and a masked excerpt of its first line of error output,
 * see deliver_excerpt); BV_INTERNAL when it was killed by a signal,
 * stopped, timed out, could not be started, or a pipe, fork or wait
 * failed - anything the caller of a setuid program could cause, never an
 * outage; BV_CONFIG when the program or file is refused (out->detail
 * says why); BV_NOMEM.
 *
 * delivery = "file": one line "DEST: MESSAGE" appended to a regular file
 * (never through a symlink, never blocking on a FIFO).  BV_CONFIG when
 * the path is not a regular file, BV_INTERNAL when it cannot be written.
 */
enum bv_result deliver_message(const struct local_config *lc, const char *dest,
			       const char *message, struct bv_outcome *out);

/*
 * For "baxverify check", sending nothing: delivery = "command": the
 * program opened and checked as deliver_message does (child_open_trusted)
 * and closed; "file": the path not something other than a regular file
 * (it may not exist yet).  said (size saidsz) gets the line to show:
 * "delivery command PATH: ok" or "... refused: WHY", "delivery file
 * PATH: ok" or "... is not a regular file".  BV_OK or BV_CONFIG.
 */
enum bv_result deliver_probe(const struct local_config *lc, char *said,
			     size_t saidsz);

/*
 * What of a delivery command's error output err may be logged: its first
 * line only, without control characters, every run of 4 or more digits
 * (single spaces, dashes or dots between them count as one run) as
 * "####", every phone number ("+" then digits, spaces, dashes) as "+…"
 * and every email address (a word with "@" inside) as "…@…", cut to fit
 * dstsz.  cut says err was truncated: a digit run it ends with may be the
 * start of a longer number, and is masked whatever its length.  A program
 * that echoes its input must not put the code or the user's number in
 * syslog.
 */
void deliver_excerpt(char *dst, size_t dstsz, const char *err, bool cut);

#endif /* BV_DELIVER_H */
