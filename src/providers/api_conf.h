/*
 * api_conf.h - what the config groups of the HTTP providers share: the
 * form of api_url, the keys a provider cannot work without, and the API
 * key, given in the file or in a key file of its own.
 *
 * Module-safe (the NAME_info.c files use it): no libcurl, no cJSON.
 */
#ifndef BV_PROVIDER_API_CONF_H
#define BV_PROVIDER_API_CONF_H

#include "../core/log.h"
#include "../core/result.h"

/* Drop the trailing slashes of an https base URL (NULL is fine). */
void api_conf_trim_url(char *url);

/*
 * A key group.key the provider cannot work without: BV_OK when value is
 * set, else "PATH: GROUP.KEY is not set" logged and BV_CONFIG.
 */
enum bv_result api_conf_require(const char *path, const char *group,
				const char *key, const char *value,
				const struct bv_log *log);

/*
 * Exactly one of GROUP.api_key (*api_key) and GROUP.api_key_file; the
 * key file (absolute, no symlink, a regular file owned by root, no group
 * or other access, at most 4 KiB) is read into *api_key without its
 * trailing white space.  BV_OK, BV_NOMEM, or BV_CONFIG (logged, naming
 * the config or key file).
 */
enum bv_result api_conf_key(const char *path, const char *group, char **api_key,
			    const char *api_key_file, const struct bv_log *log);

#endif /* BV_PROVIDER_API_CONF_H */
