/*
 * conf_key.c - a value of the file or of a module argument, checked and
 * stored as its key's table entry says.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "channel.h"
#include "conf.h"
#include "conf_key.h"
#include "wipe.h"

/* The slot of k in base, as the type the table says it is. */
static void *
slot_of(const void *base, const struct cfg_key *k)
{
	return (char *)(uintptr_t)base + k->offset;
}

bool
cfg_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

const struct cfg_key *
cfg_key_find(const struct cfg_key *keys, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keys[i].name != NULL && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

const struct cfg_key *
cfg_key_find_arg(const struct cfg_key *keys, size_t n, const char *arg,
		 size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keys[i].arg != NULL && strlen(keys[i].arg) == len &&
		    strncmp(keys[i].arg, arg, len) == 0)
			return &keys[i];
	return NULL;
}

bool
cfg_key_in_group(const struct cfg_key *keys, size_t n, const char *group)
{
	size_t i, len = strlen(group);

	for (i = 0; i < n; i++)
		if (keys[i].name != NULL &&
		    strncmp(keys[i].name, group, len) == 0 &&
		    keys[i].name[len] == '.')
			return true;
	return false;
}

static bool
nonempty_ok(const char *s)
{
	return *s != '\0';
}

static bool
https_url_ok(const char *s)
{
	/* Only https: the key travels in a header. */
	return strncmp(s, "https://", sizeof("https://") - 1) == 0 &&
	       s[sizeof("https://") - 1] != '\0' &&
	       strpbrk(s, " \"'\\") == NULL;
}

static bool
abs_path_ok(const char *s)
{
	return *s == '/' && strstr(s, "/../") == NULL;
}

static bool
path_ok(const char *s)
{
	return *s == '\0' || abs_path_ok(s);
}

static bool
word_ok(const char *s)
{
	const char *p;

	if (*s == '\0')
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

static bool
proxy_ok(const char *s)
{
	return *s == '\0' ||
	       (strstr(s, "://") != NULL && strchr(s, ' ') == NULL);
}

const struct cfg_check cfg_check_nonempty = {nonempty_ok, "a non-empty string",
					     false};
const struct cfg_check cfg_check_https_url = {https_url_ok, "an https:// URL",
					      false};
const struct cfg_check cfg_check_path = {path_ok, "an absolute path", false};
const struct cfg_check cfg_check_abs_path = {abs_path_ok, "an absolute path",
					     false};
const struct cfg_check cfg_check_word = {
    word_ok, "a word of letters, digits, '_' and '-'", false};
const struct cfg_check cfg_check_proxy = {
    proxy_ok, "a proxy URL such as http://proxy:3128", false};
const struct cfg_check cfg_check_secret = {nonempty_ok, "a non-empty string",
					   true};

static bool
string_ok(const struct cfg_key *k, const char *s)
{
	if (s == NULL || !cfg_printable(s))
		return false;
	return k->check == NULL || k->check->valid == NULL ||
	       k->check->valid(s);
}

/* What a string of k must be, for "invalid value ...: expected %s". */
static const char *
expected_string(const struct cfg_key *k)
{
	if (k->check != NULL && k->check->expected != NULL)
		return k->check->expected;
	return "printable text";
}

/* Store a string value; "" means unset where the check allows it. */
static enum bv_result
set_string(void *base, const struct cfg_key *k, const char *val)
{
	char **slot = slot_of(base, k);
	char *copy = NULL;

	if (*val != '\0' || k->check == NULL) {
		copy = strdup(val);
		if (copy == NULL)
			return BV_NOMEM;
	}
	/* Any string may be a key: every one is wiped when replaced. */
	bv_free_secret(*slot);
	*slot = copy;
	return BV_OK;
}

static enum bv_result
set_failmode(void *base, const struct cfg_key *k, const char *val)
{
	enum bv_failmode *slot = slot_of(base, k);

	if (strcmp(val, "secure") == 0)
		*slot = BV_FAILMODE_SECURE;
	else if (strcmp(val, "safe") == 0)
		*slot = BV_FAILMODE_SAFE;
	else
		return BV_CONFIG;
	return BV_OK;
}

static enum bv_result
set_channel(void *base, const struct cfg_key *k, const char *val)
{
	enum bv_channel *slot = slot_of(base, k);

	return channel_parse(val, slot) ? BV_OK : BV_CONFIG;
}

static void
free_strlist(char **list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/* A libconfig array or list of strings into a NULL-terminated vector. */
static enum bv_result
set_strlist(void *base, const struct cfg_key *k, const config_setting_t *s,
	    const char **expected)
{
	char ***slot = slot_of(base, k);
	bool single = config_setting_type(s) == CONFIG_TYPE_STRING;
	int n = single ? 1 : config_setting_length(s), i;
	char **list;

	list = calloc((size_t)n + 1, sizeof(*list));
	if (list == NULL)
		return BV_NOMEM;
	for (i = 0; i < n; i++) {
		const char *v = single ? config_setting_get_string(s)
				       : config_setting_get_string_elem(s, i);

		if (v == NULL || !string_ok(k, v) || strcmp(v, "!") == 0) {
			*expected = expected_string(k);
			free_strlist(list);
			return BV_CONFIG;
		}
		list[i] = strdup(v);
		if (list[i] == NULL) {
			free_strlist(list);
			return BV_NOMEM;
		}
	}
	free_strlist(*slot);
	*slot = list;
	return BV_OK;
}

/* A string, a failure mode or a channel: text in double quotes. */
static enum bv_result
set_text_setting(void *base, const struct cfg_key *k, const config_setting_t *s,
		 const char **expected)
{
	const char *v = config_setting_get_string(s);

	if (config_setting_type(s) != CONFIG_TYPE_STRING || v == NULL) {
		*expected = "a string in double quotes";
		return BV_CONFIG;
	}
	if (k->type == CFG_FAILMODE) {
		*expected = "\"secure\" or \"safe\"";
		return set_failmode(base, k, v);
	}
	if (k->type == CFG_CHANNEL) {
		*expected = channel_expected();
		return set_channel(base, k, v);
	}
	if (!string_ok(k, v)) {
		*expected = expected_string(k);
		return BV_CONFIG;
	}
	return set_string(base, k, v);
}

enum bv_result
cfg_key_set(void *base, const struct cfg_key *k, const config_setting_t *s,
	    const char **expected)
{
	int type = config_setting_type(s);
	long long ival;

	switch (k->type) {
	case CFG_STRING:
	case CFG_FAILMODE:
	case CFG_CHANNEL:
		return set_text_setting(base, k, s, expected);
	case CFG_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			*expected = "true or false";
			return BV_CONFIG;
		}
		*(bool *)slot_of(base, k) = config_setting_get_bool(s) != 0;
		return BV_OK;
	case CFG_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			*expected = "a whole number";
			return BV_CONFIG;
		}
		ival = config_setting_get_int64(s);
		if (ival < k->min || ival > k->max) {
			*expected = "a number in range";
			return BV_CONFIG;
		}
		*(long *)slot_of(base, k) = (long)ival;
		return BV_OK;
	case CFG_NAMES:
	case CFG_STRLIST:
		if (type == CONFIG_TYPE_STRING && k->type == CFG_NAMES)
			return set_strlist(base, k, s, expected);
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
			*expected = "a list of strings in [ ]";
			return BV_CONFIG;
		}
		return set_strlist(base, k, s, expected);
	case CFG_CHANNELS:
		break;
	}
	*expected = "a valid value";
	return BV_CONFIG;
}

/* A number given as text (a module argument), range-checked. */
static enum bv_result
set_int_text(void *base, const struct cfg_key *k, const char *v)
{
	char *end = NULL;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < k->min || n > k->max)
		return BV_CONFIG;
	*(long *)slot_of(base, k) = n;
	return BV_OK;
}

enum bv_result
cfg_key_set_text(void *base, const struct cfg_key *k, const char *text)
{
	if (k->type == CFG_BOOL && text == NULL) {
		*(bool *)slot_of(base, k) = true;
		return BV_OK;
	}
	if (text == NULL)
		return BV_CONFIG;
	switch (k->type) {
	case CFG_FAILMODE:
		return set_failmode(base, k, text);
	case CFG_CHANNEL:
		return set_channel(base, k, text);
	case CFG_STRING:
		return string_ok(k, text) ? set_string(base, k, text)
					  : BV_CONFIG;
	case CFG_INT:
		return set_int_text(base, k, text);
	default:
		return BV_CONFIG;
	}
}

bool
cfg_key_is_set(const void *base, const struct cfg_key *k)
{
	switch (k->type) {
	case CFG_STRING:
		return *(char *const *)slot_of(base, k) != NULL;
	case CFG_STRLIST:
	case CFG_NAMES:
		return *(char **const *)slot_of(base, k) != NULL;
	default:
		return false;
	}
}

void
cfg_key_free_all(void *base, const struct cfg_key *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (keys[i].type == CFG_STRING) {
			char **slot = slot_of(base, &keys[i]);

			bv_free_secret(*slot);
			*slot = NULL;
		} else if (keys[i].type == CFG_STRLIST ||
			   keys[i].type == CFG_NAMES) {
			char ***slot = slot_of(base, &keys[i]);

			free_strlist(*slot);
			*slot = NULL;
		}
	}
}
