/*
 * wipe.h - the one primitive for getting rid of secrets (codes, tokens,
 * keys, conversation replies): overwrite, then free.
 */
#ifndef BV_WIPE_H
#define BV_WIPE_H

#include <stddef.h>

/* Overwrite a NUL-terminated string and free it; NULL is fine. */
void bv_free_secret(char *s);

/* Overwrite len bytes and free them; NULL is fine. */
void bv_free_secret_len(void *p, size_t len);

/* Overwrite a string in place without freeing it (memory we do not own). */
void bv_wipe_str(const char *s);

/* Constant-time comparison of two NUL-terminated strings. */
int bv_consttime_streq(const char *a, const char *b);

#endif /* BV_WIPE_H */
