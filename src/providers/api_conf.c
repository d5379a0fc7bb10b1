/*
 * api_conf.c - the checks the HTTP providers' groups share.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api_conf.h"
#include "../core/conf.h"
#include "../core/conf_key.h"
#include "../core/wipe.h"

/* A key file is never this large. */
#define KEYFILE_MAX_BYTES 4096

void
api_conf_trim_url(char *url)
{
	size_t n = url != NULL ? strlen(url) : 0;

	/* A trailing slash would double it in every endpoint path. */
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
}

enum bv_result
api_conf_require(const char *path, const char *group, const char *key,
		 const char *value, const struct bv_log *log)
{
	if (value != NULL)
		return BV_OK;
	bv_log(log, LOG_ERR, "%s: %s.%s is not set", path, group, key);
	return BV_CONFIG;
}

/* Read a key file into *api_key, trimming the final newline. */
static enum bv_result
load_key_file(const char *file, char **api_key, const struct bv_log *log)
{
	char *text = NULL;
	size_t len = 0;
	enum bv_result rc;

	rc = cfg_read_trusted_file(file, true, KEYFILE_MAX_BYTES, log, &text,
				   &len);
	if (rc != BV_OK)
		return rc;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
			   text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	if (len == 0 || !cfg_printable(text)) {
		bv_log(log, LOG_ERR, "%s: no usable API key in the file", file);
		bv_free_secret_len(text, len + 1);
		return BV_CONFIG;
	}
	*api_key = strdup(text);
	bv_free_secret_len(text, len + 1);
	return *api_key != NULL ? BV_OK : BV_NOMEM;
}

enum bv_result
api_conf_key(const char *path, const char *group, char **api_key,
	     const char *api_key_file, const struct bv_log *log)
{
	if ((*api_key != NULL) == (api_key_file != NULL)) {
		bv_log(log, LOG_ERR,
		       "%s: set exactly one of %s.api_key and %s.api_key_file",
		       path, group, group);
		return BV_CONFIG;
	}
	if (*api_key != NULL)
		return BV_OK;
	return load_key_file(api_key_file, api_key, log);
}
