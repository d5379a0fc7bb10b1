/*
 * log.h - the one way core code and providers write a log line.
 *
 * Each line goes to the sink when there is one (the module's: syslog
 * through PAM, which prefixes "pam_baxverify(service:phase)"; the
 * helper's: up its socket to the module), else to stderr (the CLI, unit
 * tests).  No PAM here, so that the helper and the CLI link none.  Nothing here
 * ever formats a secret: callers pass only sanitised, non-secret text.
 */
#ifndef BV_LOG_H
#define BV_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Line length a sink is given at most. */
#define BV_LOG_LINE_MAX 1024

struct bv_log {
	bool debug; /* emit LOG_DEBUG lines */
	/* Where each formatted line goes; NULL: stderr. */
	void (*sink)(void *arg, int prio, const char *line);
	void *sink_arg;
};

void bv_log(const struct bv_log *log, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* BV_LOG_H */
