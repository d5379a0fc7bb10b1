/*
 * tryvox.h - the Tryvox Verify provider (start / check / status).
 */
#ifndef BV_PROVIDER_TRYVOX_H
#define BV_PROVIDER_TRYVOX_H

#include "provider.h"

extern const struct bv_provider tryvox_provider;

/*
 * Classify a Tryvox error code for the step it answered ("send" or
 * "verify").  Unknown codes are BV_REJECTED.
 */
enum bv_result tryvox_code_result(const char *code, const char *action);

#endif /* BV_PROVIDER_TRYVOX_H */
