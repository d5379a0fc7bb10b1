/*
 * harness_int.h - what the files of the harness share between them, not
 * with the test programs (those include harness.h only).
 */
#ifndef BV_TEST_HARNESS_INT_H
#define BV_TEST_HARNESS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

/* harness_util.c: append text and a newline to a growing buffer. */
void append_line(char **buf, size_t *len, const char *text);

/* harness_mock.c: the body of a recorded request, parsed (the mock keeps
   JSON parsed, other text as a string); NULL when none.  Free it. */
cJSON *mock_body_of(const cJSON *req);

/* harness_run.c: fresh (zeroed) message buffers and answer slots. */
void begin_transaction(void);

/* harness_leaks.c: the per-case record of what the user saw and of the
   PAM environments, and the check of a case's end. */
void hygiene_keep_shown(const char *message);
void hygiene_keep_env(const char *name_value);
/* A new case: no secrets, nothing seen. */
void hygiene_reset(void);
/* At the end of the group. */
void hygiene_free(void);
/* True when the case leaked nothing (else the leaks are printed). */
bool hygiene_check(void);

#endif /* BV_TEST_HARNESS_INT_H */
