/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz/ share.
 *
 * Each target links the library code of src/ directly (not the PAM
 * module) and checks properties of the answer, not only "no crash": an
 * invariant that fails calls fuzz_fail(), which aborts so libFuzzer keeps
 * the input.  Files a target needs live in one private directory per
 * process (fuzz_dir), removed at exit.
 */
#ifndef BV_FUZZ_H
#define BV_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../src/core/result.h"

struct bv_outcome;

/* The entry points libFuzzer calls. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken invariant on stdout and stderr, then abort(). */
void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * The private directory of this process (mode 0700, created by mkdtemp
 * under $TMPDIR or /tmp on first use, removed with its files at exit).
 * Never NULL: failing to create it is fuzz_fail.
 */
const char *fuzz_dir(void);

/*
 * Write len bytes to name inside fuzz_dir() with the given mode, replacing
 * what was there; the absolute path goes to path (size pathsz).  Any
 * error is fuzz_fail: the target would test nothing.
 */
void fuzz_write_file(const char *name, const void *data, size_t len,
		     unsigned mode, char *path, size_t pathsz);

/* bytes as a new NUL-terminated string (len bytes + NUL); aborts on OOM. */
char *fuzz_strndup(const uint8_t *data, size_t len);

/*
 * An HTTP status for a response target, from one input byte: 200, 201,
 * 400, 401, 403, 404, 422, 429, 500 or 502.
 */
long fuzz_status(uint8_t byte);

/* Is rc a value a response parser may return (never LOCKED, CONFIG,
   ABORTED, nor anything outside the enum)? */
bool fuzz_parser_result_ok(enum bv_result rc);

/*
 * The texts of an outcome are bounded, NUL-terminated and free of control
 * characters (they reach syslog and the user's screen): else fuzz_fail
 * naming who.
 */
void fuzz_check_outcome(const struct bv_outcome *out, const char *who);

/*
 * The checks every parser call gets: a valid result, BV_NOMEM only when an
 * allocation failed, never BV_OK when one did (failed: how many it saw
 * fail), and a clean outcome.
 */
void fuzz_check_call(enum bv_result rc, unsigned long failed,
		     const struct bv_outcome *out, const char *who);

/* A fresh outcome for one call, as a provider sets it up. */
void fuzz_outcome_init(struct bv_outcome *out, const char *action, long status);

/*
 * Allocation-failure injection (wrap.c, targets linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup; cJSON is
 * pointed at the same malloc by fuzz_alloc_init).
 *
 * The first FUZZ_ALLOC_BYTES of an input choose the failure, little
 * endian: 0 fails nothing; otherwise the low 15 bits are N, and the Nth
 * allocation after fuzz_alloc_arm fails (bit 15 set: the Nth and every
 * later one).  Only allocations between arm and disarm count, so the
 * harness's own never fail.
 */
#define FUZZ_ALLOC_BYTES 2

void fuzz_alloc_init(void);
void fuzz_alloc_arm(const uint8_t *sel);
void fuzz_alloc_disarm(void);
/* Allocations failed since the last arm. */
unsigned long fuzz_alloc_failures(void);

#endif /* BV_FUZZ_H */
