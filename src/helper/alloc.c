/*
 * alloc.c - the helper's counting allocator entry points.
 *
 * Each forwards to the next definition in the lookup order (glibc's, or
 * a test's preloaded allocation-failure shim) and counts a NULL.  A
 * global is right here: the helper is a program of its own.
 *
 * Under AddressSanitizer the sanitizer owns malloc; these stay out of its
 * way and the count is of nothing (the tests skip that check there).
 */
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"

static unsigned long failures;

unsigned long
alloc_failures(void)
{
	return failures;
}

#ifndef __SANITIZE_ADDRESS__

/* Declared here: they replace the C library's for this process. */
void *malloc(size_t n);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *p, size_t n);
char *strdup(const char *s);
char *strndup(const char *s, size_t max);

/* glibc's allocator, exported for exactly this use. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static int resolving;

/* dlsym may allocate: while it runs, glibc's allocator serves. */
static void
resolve(void)
{
	void *m, *c, *r;

	if (next_malloc != NULL || resolving)
		return;
	resolving = 1;
	m = dlsym(RTLD_NEXT, "malloc");
	c = dlsym(RTLD_NEXT, "calloc");
	r = dlsym(RTLD_NEXT, "realloc");
	next_calloc = c != NULL ? (void *(*)(size_t, size_t))c : __libc_calloc;
	next_realloc =
	    r != NULL ? (void *(*)(void *, size_t))r : __libc_realloc;
	next_malloc = m != NULL ? (void *(*)(size_t))m : __libc_malloc;
	resolving = 0;
}

static void *
counted(void *p, int wanted)
{
	if (p == NULL && wanted)
		__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	return p;
}

void *
malloc(size_t n)
{
	resolve();
	return counted(next_malloc != NULL ? next_malloc(n) : __libc_malloc(n),
		       n != 0);
}

void *
calloc(size_t nmemb, size_t size)
{
	resolve();
	return counted(next_calloc != NULL ? next_calloc(nmemb, size)
					   : __libc_calloc(nmemb, size),
		       nmemb != 0 && size != 0);
}

void *
realloc(void *p, size_t n)
{
	resolve();
	return counted(next_realloc != NULL ? next_realloc(p, n)
					    : __libc_realloc(p, n),
		       n != 0);
}

char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

char *
strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

#endif /* __SANITIZE_ADDRESS__ */
