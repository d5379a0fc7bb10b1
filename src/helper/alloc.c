/*
 * alloc.c - counting allocators for libcurl, OpenSSL and cJSON.
 *
 * A global is right here: the helper is a program of its own, one
 * authentication per process.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "alloc.h"

static unsigned long failures;

static void *
note(void *p, size_t n)
{
	if (p == NULL && n != 0)
		failures++;
	return p;
}

static void *
count_malloc(size_t n)
{
	return note(malloc(n), n);
}

static void *
count_calloc(size_t nmemb, size_t size)
{
	return note(calloc(nmemb, size), nmemb != 0 && size != 0);
}

static void *
count_realloc(void *p, size_t n)
{
	return note(realloc(p, n), n);
}

static char *
count_strdup(const char *s)
{
	return note(strdup(s), 1);
}

static void *
ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return count_malloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return count_realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

bool
alloc_hooks_install(void)
{
	cJSON_Hooks hooks = { .malloc_fn = count_malloc, .free_fn = free };
	bool ok;

	/* OpenSSL first: it refuses once it has allocated anything. */
	ok = CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) ==
	     1;
	cJSON_InitHooks(&hooks);
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, count_malloc, free,
				 count_realloc, count_strdup,
				 count_calloc) != CURLE_OK)
		ok = false;
	return ok;
}

unsigned long
alloc_failures(void)
{
	return failures;
}
