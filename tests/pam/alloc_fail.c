/*
 * alloc_fail.c - LD_PRELOAD shim that fails one chosen allocation.
 *
 * Preloaded into tests/pam/test_loop (allocfail mode) by run-hardening.sh,
 * after libpam_wrapper.so and with PAM_WRAPPER_DISABLE_DEEPBIND=1 (a
 * library loaded with RTLD_DEEPBIND could bind malloc to libc's, past this
 * shim).  It replaces malloc, calloc, realloc, strdup, strndup and free;
 * the real work is done by glibc's __libc_* entry points, so nothing here
 * needs dlsym (which itself allocates).  glibc's own internal callers
 * (fopen, vasprintf...) come through here too; its reallocarray and
 * memalign family do not, and nothing of ours uses them.
 *
 * Nothing is counted until the test arms the shim, which it does around
 * pam_authenticate only.  While armed, every allocation is counted twice:
 * in "all" (whoever called) and, when the immediate caller's address lies
 * in the module under test (pam_baxverify.so: libcore is linked into it,
 * so that is all of our code), in "own".  The test asks for the Nth
 * allocation of one of the two counts to return NULL (once; later calls
 * succeed again), or for none (a counting run).
 *
 * Leaks on error paths: every allocation made while armed by our own code
 * is remembered until it is freed (a free needs no arming, and realloc
 * moves the record).  After pam_end every one of them must be gone: the
 * module keeps no global state, and what it hands to pam_set_data is
 * freed by its cleanup at pam_end.  What is still there is reported as
 * "pam_baxverify.so+OFFSET" of the allocating call (addr2line -f -e
 * .libs/pam_baxverify.so OFFSET names the line).
 *
 * The interface, found by the test with dlsym(RTLD_DEFAULT, ...):
 *   void bv_alloc_fail_arm(int own_only, long fail_at);
 *       start counting from zero; fail_at 0: fail nothing
 *   void bv_alloc_fail_disarm(void);
 *   void bv_alloc_fail_stats(struct bv_alloc_stats *out);
 *   size_t bv_alloc_fail_live(unsigned long *offsets, size_t max);
 *       how many of our allocations are still live; their offsets
 * struct bv_alloc_stats is repeated in test_loop.c and must match.
 *
 * Single-threaded use is assumed (a PAM conversation is); the counters
 * are atomics all the same, so a stray thread cannot corrupt them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The module whose allocations are "own", by file name. */
#define MODULE_NAME "pam_baxverify.so"
#define MAX_RANGES 8
/* Open-addressing table of our live allocations; a power of two. */
#define LIVE_SLOTS 65536u

struct bv_alloc_stats {
	long all;		/* allocations while armed */
	long own;		/* of which called from the module */
	int fired;		/* the chosen one returned NULL */
	int fired_own;		/* ... and it was called from the module */
	uintptr_t fired_offset; /* caller's offset in the module, or 0 */
	uintptr_t fired_caller; /* caller's absolute address */
	bool module_found;	/* the module was loaded at arm time */
};

/* Exported: declared here to satisfy -Wmissing-prototypes. */
void *malloc(size_t n);
void *calloc(size_t nmemb, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);
char *strdup(const char *s);
char *strndup(const char *s, size_t n);
void bv_alloc_fail_arm(int own_only, long fail_at);
void bv_alloc_fail_disarm(void);
void bv_alloc_fail_stats(struct bv_alloc_stats *out);
size_t bv_alloc_fail_live(unsigned long *offsets, size_t max);

/* glibc's own allocator, exported for exactly this use. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t nmemb, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static struct {
	uintptr_t lo, hi;
} ranges[MAX_RANGES];
static size_t n_ranges;
static uintptr_t module_base;

static int armed;
static int own_only;
static long fail_at;
static struct bv_alloc_stats st;

static struct {
	uintptr_t ptr;	  /* 0: empty; 1: deleted */
	uintptr_t offset; /* of the allocating call in the module */
} live[LIVE_SLOTS];
static size_t n_live;
static volatile int live_lock;

/* ------------------------------------------------------------------ */
/* Where the module is.                                                */

static int
find_module(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *name = info->dlpi_name;
	size_t len = name != NULL ? strlen(name) : 0;
	size_t mlen = sizeof(MODULE_NAME) - 1;

	(void)size;
	(void)data;
	if (len < mlen || strcmp(name + len - mlen, MODULE_NAME) != 0 ||
	    (len > mlen && name[len - mlen - 1] != '/'))
		return 0;
	module_base = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum && n_ranges < MAX_RANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		ranges[n_ranges].lo = info->dlpi_addr + ph->p_vaddr;
		ranges[n_ranges].hi = ranges[n_ranges].lo + ph->p_memsz;
		n_ranges++;
	}
	return 1;
}

static bool
is_own(uintptr_t caller)
{
	for (size_t i = 0; i < n_ranges; i++) {
		if (caller >= ranges[i].lo && caller < ranges[i].hi)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* The table of our live allocations.                                  */

static void
lock(void)
{
	while (__atomic_exchange_n(&live_lock, 1, __ATOMIC_ACQUIRE) != 0)
		;
}

static void
unlock(void)
{
	__atomic_store_n(&live_lock, 0, __ATOMIC_RELEASE);
}

static size_t
slot_of(uintptr_t p)
{
	return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull) & (LIVE_SLOTS - 1);
}

static void
track(void *p, uintptr_t caller)
{
	size_t i;

	if (p == NULL)
		return;
	lock();
	/* A full table only loses leak reports, never correctness. */
	if (n_live < LIVE_SLOTS / 2) {
		for (i = slot_of((uintptr_t)p); live[i].ptr > 1;
		     i = (i + 1) & (LIVE_SLOTS - 1))
			;
		live[i].ptr = (uintptr_t)p;
		live[i].offset = caller - module_base;
		n_live++;
	}
	unlock();
}

/* Forget p; true when it was ours.  *offset gets its allocating call. */
static bool
untrack(void *p, uintptr_t *offset)
{
	bool found = false;
	size_t i;

	if (p == NULL || __atomic_load_n(&n_live, __ATOMIC_RELAXED) == 0)
		return false;
	lock();
	for (i = slot_of((uintptr_t)p); live[i].ptr != 0;
	     i = (i + 1) & (LIVE_SLOTS - 1)) {
		if (live[i].ptr == (uintptr_t)p) {
			if (offset != NULL)
				*offset = live[i].offset;
			live[i].ptr = 1;
			n_live--;
			found = true;
			break;
		}
	}
	unlock();
	return found;
}

/* ------------------------------------------------------------------ */
/* The decision.                                                       */

/* Count this allocation; true when it is the one to fail. */
static bool
should_fail(uintptr_t caller, bool *own)
{
	long n;

	*own = false;
	if (!__atomic_load_n(&armed, __ATOMIC_RELAXED))
		return false;
	*own = is_own(caller);
	n = __atomic_add_fetch(&st.all, 1, __ATOMIC_RELAXED);
	if (*own) {
		long o = __atomic_add_fetch(&st.own, 1, __ATOMIC_RELAXED);

		if (own_only)
			n = o;
	} else if (own_only) {
		return false;
	}
	if (fail_at <= 0 || n != fail_at || st.fired)
		return false;
	st.fired = 1;
	st.fired_own = *own;
	st.fired_caller = caller;
	st.fired_offset = *own ? caller - module_base : 0;
	return true;
}

#define CALLER ((uintptr_t)__builtin_return_address(0))

static void *
do_malloc(size_t n, uintptr_t caller)
{
	bool own;
	void *p;

	if (should_fail(caller, &own)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __libc_malloc(n);
	if (own)
		track(p, caller);
	return p;
}

void *
malloc(size_t n)
{
	return do_malloc(n, CALLER);
}

void *
calloc(size_t nmemb, size_t n)
{
	uintptr_t caller = CALLER;
	bool own;
	void *p;

	if (should_fail(caller, &own)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __libc_calloc(nmemb, n);
	if (own)
		track(p, caller);
	return p;
}

void *
realloc(void *p, size_t n)
{
	uintptr_t caller = CALLER, offset = 0;
	bool own, was_own;
	void *q;

	if (p != NULL && n == 0) {
		free(p);
		return NULL;
	}
	if (should_fail(caller, &own)) {
		errno = ENOMEM;
		return NULL; /* p stays valid, and stays tracked */
	}
	was_own = untrack(p, &offset);
	q = __libc_realloc(p, n);
	if (q == NULL && was_own)
		track(p, offset + module_base);
	else if (was_own)
		track(q, offset + module_base);
	else if (own)
		track(q, caller);
	return q;
}

void
free(void *p)
{
	(void)untrack(p, NULL);
	__libc_free(p);
}

/* Our own, so that one strdup is one counted allocation (glibc's would
   call malloc again) and its caller is the one that matters. */
char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = do_malloc(n, CALLER);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

char *
strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *p = do_malloc(n + 1, CALLER);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* ------------------------------------------------------------------ */
/* The test's controls.                                                */

void
bv_alloc_fail_arm(int only_own, long at)
{
	n_ranges = 0;
	module_base = 0;
	dl_iterate_phdr(find_module, NULL);
	memset(&st, 0, sizeof(st));
	st.module_found = n_ranges > 0;
	own_only = only_own;
	fail_at = at;
	__atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
}

void
bv_alloc_fail_disarm(void)
{
	__atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST);
}

void
bv_alloc_fail_stats(struct bv_alloc_stats *out)
{
	*out = st;
}

size_t
bv_alloc_fail_live(unsigned long *offsets, size_t max)
{
	size_t n = 0;

	lock();
	for (size_t i = 0; i < LIVE_SLOTS; i++) {
		if (live[i].ptr <= 1)
			continue;
		if (n < max)
			offsets[n] = live[i].offset;
		n++;
	}
	unlock();
	return n;
}

/* ------------------------------------------------------------------ */
/* Armed from the environment: the helper, a program of its own.       */

/*
 * baxverify-helper starts with an empty environment; the test's helper
 * wrapper script sets BV_ALLOC_FAIL_AT=N (0: count only) and
 * BV_ALLOC_FAIL_REPORT=FILE, and this shim then counts every allocation
 * of the process from its start, fails the Nth, and writes
 * "ALLOCATIONS FIRED" to FILE at exit.
 */
static void arm_from_env(void) __attribute__((constructor));
static void report_at_exit(void) __attribute__((destructor));

static void
arm_from_env(void)
{
	const char *at = getenv("BV_ALLOC_FAIL_AT");

	if (at != NULL)
		bv_alloc_fail_arm(0, strtol(at, NULL, 10));
}

static void
report_at_exit(void)
{
	const char *path = getenv("BV_ALLOC_FAIL_REPORT");
	char line[64];
	int fd, n;

	if (path == NULL)
		return;
	n = snprintf(line, sizeof(line), "%ld %d\n", st.all, st.fired);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* A short report does not parse: the test then fails. */
		ssize_t w = write(fd, line, (size_t)n);

		(void)w;
		close(fd);
	}
}
