/*
 * alloc.h - every allocation of the helper is counted.
 *
 * libcurl, OpenSSL, cJSON and glibc report an allocation failure as
 * whatever error was in flight: a TLS handshake failure, a resolve error,
 * an unparsable answer.  Each of those is an outage, and failmode =
 * "safe" admits on an outage -- so a helper that ran out of memory could
 * let someone in without a code.  The helper defines malloc, calloc,
 * realloc, strdup and strndup itself (the executable's definitions come
 * before every library's), counts the failures and turns a request
 * during which any allocation failed into BV_NOMEM.
 */
#ifndef BV_HELPER_ALLOC_H
#define BV_HELPER_ALLOC_H

/* How many allocations have failed so far in this process. */
unsigned long alloc_failures(void);

#endif /* BV_HELPER_ALLOC_H */
