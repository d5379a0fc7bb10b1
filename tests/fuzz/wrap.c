/*
 * wrap.c - allocation-failure injection for the fuzz targets, after
 * pam-u2f's fuzz/wrap.c.
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
 * every call to those in the objects of the link (src/ and the harness)
 * comes here; cJSON, a shared library the wrap cannot reach, is given the
 * same malloc through cJSON_InitHooks.  libconfig's own allocations are
 * not failed: it treats running out of memory as fatal by design.
 *
 * The __wrap_ and __real_ names are the linker's, hence the underscores
 * the house style otherwise avoids.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t nmemb, size_t size);
void *__real_realloc(void *ptr, size_t size);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t nmemb, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
char *__wrap_strdup(const char *s);

static bool armed;
static bool fail_later;	       /* fail every allocation after the Nth */
static unsigned long fail_at;  /* N, counted from 1 */
static unsigned long count;    /* allocations since fuzz_alloc_arm */
static unsigned long failures; /* of them, failed on purpose */

/* Count one allocation; true when this one must fail. */
static bool
should_fail(void)
{
	if (!armed)
		return false;
	count++;
	if (count == fail_at || (fail_later && count > fail_at)) {
		failures++;
		errno = ENOMEM;
		return true;
	}
	return false;
}

void *
__wrap_malloc(size_t size)
{
	return should_fail() ? NULL : __real_malloc(size);
}

void *
__wrap_calloc(size_t nmemb, size_t size)
{
	return should_fail() ? NULL : __real_calloc(nmemb, size);
}

void *
__wrap_realloc(void *ptr, size_t size)
{
	/* A failed realloc leaves ptr as it was, as the real one does. */
	return should_fail() ? NULL : __real_realloc(ptr, size);
}

char *
__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

void
fuzz_alloc_init(void)
{
	cJSON_Hooks hooks = {__wrap_malloc, free};

	/* cJSON then reallocates by malloc + copy: that counts too. */
	cJSON_InitHooks(&hooks);
}

void
fuzz_alloc_arm(const uint8_t *sel)
{
	unsigned v = (unsigned)sel[0] | (unsigned)sel[1] << 8;

	fail_at = v & 0x7fff;
	fail_later = (v & 0x8000) != 0;
	count = 0;
	failures = 0;
	armed = fail_at != 0;
}

void
fuzz_alloc_disarm(void)
{
	armed = false;
}

unsigned long
fuzz_alloc_failures(void)
{
	return failures;
}
