/*
 * local.h - provider = "local": codes made, delivered and checked on this
 * host, with the local store holding only their MACs (local_mac.h).
 */
#ifndef BV_PROVIDER_LOCAL_H
#define BV_PROVIDER_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

#include "provider.h"

/* The local.* group (local_info.c has its key table). */
struct local_config {
	char *delivery; /* "command" or "file" */
	char *command;	/* argv[0]; argv[1] is the destination */
	char *file;	/* delivery = "file": appended to */
	char *message;	/* template: %c code, %h host name, %% */
	long code_length;
	long ttl;	   /* seconds a code lives */
	long max_attempts; /* wrong tries per code */
	long timeout;	   /* seconds the command may run */
};

extern const struct bv_provider_info local_info;
extern const struct bv_provider local_provider;

/*
 * Draw a uniform n-digit code from the kernel's CSPRNG (rejection
 * sampling: no modulo bias) into out (size > n).  Returns BV_OK or
 * BV_INTERNAL when the kernel would not give randomness.
 */
enum bv_result local_random_digits(char *out, size_t n);

/* n bytes from the kernel's CSPRNG; false when it would not give them. */
bool local_random_bytes(unsigned char *buf, size_t n);

#endif /* BV_PROVIDER_LOCAL_H */
