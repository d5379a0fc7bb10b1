/*
 * local.h - provider = "local": codes made, delivered and checked on this
 * host, with the local store holding only their hashes.
 */
#ifndef BV_PROVIDER_LOCAL_H
#define BV_PROVIDER_LOCAL_H

#include <stddef.h>

#include "provider.h"

extern const struct bv_provider local_provider;

/*
 * Draw a uniform n-digit code from the kernel's CSPRNG (rejection
 * sampling: no modulo bias) into out (size > n).  Returns BV_OK or
 * BV_INTERNAL when the kernel would not give randomness.
 */
enum bv_result local_random_digits(char *out, size_t n);

#endif /* BV_PROVIDER_LOCAL_H */
