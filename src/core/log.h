/*
 * log.h - the one way core code and providers write a log line.
 *
 * Inside the module lines go to pam_vsyslog (which prefixes
 * "pam_baxverify(service:phase)"); in the CLI and unit tests, with no PAM
 * handle, they go to stderr.  Nothing here ever formats a secret: callers
 * pass only sanitised, non-secret text.
 */
#ifndef BV_LOG_H
#define BV_LOG_H

#include <stdbool.h>
#include <syslog.h>
#include <security/pam_modules.h>

/* Line length a sink is given at most. */
#define BV_LOG_LINE_MAX 1024

struct bv_log {
	pam_handle_t *pamh; /* NULL: write to stderr (or the sink) */
	bool debug;	    /* emit LOG_DEBUG lines */
	/* The helper: each formatted line goes to the module instead. */
	void (*sink)(void *arg, int prio, const char *line);
	void *sink_arg;
};

void bv_log(const struct bv_log *log, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* BV_LOG_H */
