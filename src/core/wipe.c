/*
 * wipe.c - secret hygiene helpers.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wipe.h"

void
bv_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
bv_free_secret_len(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/*
 * Libraries (libconfig, cJSON) hand out const pointers to strings they own
 * and free without wiping.  Overwriting them before the library frees them
 * is the only way to keep a key or code out of freed heap memory.
 */
void
bv_wipe_str(const char *s)
{
	if (s == NULL)
		return;
	explicit_bzero((void *)(uintptr_t)s, strlen(s));
}

int
bv_consttime_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char diff = (unsigned char)(la != lb);

	/* Walk the longer string fully so timing says nothing of a prefix. */
	for (i = 0; i < (la > lb ? la : lb); i++) {
		unsigned char ca = i < la ? (unsigned char)a[i] : 0;
		unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
		diff |= ca ^ cb;
	}
	return diff == 0;
}
