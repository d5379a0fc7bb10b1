/*
 * alloc.h - the helper's libraries allocate through us.
 *
 * libcurl, OpenSSL and cJSON report an allocation failure as whatever
 * error was in flight: a TLS handshake failure, a resolve error, an
 * unparsable answer.  Each of those is an outage, and failmode = "safe"
 * admits on an outage -- so a caller who could make an allocation fail
 * could sign in without a code.  Counting every failed allocation of
 * theirs lets the helper turn such a request into BV_NOMEM.
 */
#ifndef BV_HELPER_ALLOC_H
#define BV_HELPER_ALLOC_H

#include <stdbool.h>

/* Route the libraries' allocations through the counters.  Call first,
   before anything else touches them.  False when OpenSSL had already
   allocated (it then keeps its own allocator). */
bool alloc_hooks_install(void);

/* How many allocations have failed so far. */
unsigned long alloc_failures(void);

#endif /* BV_HELPER_ALLOC_H */
