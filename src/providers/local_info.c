/*
 * local_info.c - provider = "local" as the configuration and the module
 * know it: its name, what it can do, its channel and the local.* keys.
 * Its operations are in local.c and deliver.c, run by the helper and the
 * CLI only.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "local.h"
#include "../core/text.h"

#define LOC(field) offsetof(struct local_config, field)

static bool
delivery_ok(const char *s)
{
	return strcmp(s, "command") == 0 || strcmp(s, "file") == 0;
}

/* A message template: %c (required), %h and %% are the only escapes. */
static bool
template_ok(const char *s)
{
	bool code = false;

	for (; *s != '\0'; s++) {
		if (*s != '%')
			continue;
		s++;
		if (*s == 'c')
			code = true;
		else if (*s != 'h' && *s != '%')
			return false;
	}
	return code;
}

static const struct cfg_check delivery_check = {
    delivery_ok, "\"command\" or \"file\"", false};
static const struct cfg_check template_check = {
    template_ok, "text with %c (the code); %h is the host, %% a percent",
    false};

/* The local.* group.  An entry here is all it takes to add a key. */
static const struct cfg_key keys[] = {
    {"local.delivery", NULL, CFG_STRING, LOC(delivery), &delivery_check, 0, 0},
    {"local.command", NULL, CFG_STRING, LOC(command), &cfg_check_path, 0, 0},
    {"local.file", NULL, CFG_STRING, LOC(file), &cfg_check_path, 0, 0},
    {"local.message", NULL, CFG_STRING, LOC(message), &template_check, 0, 0},
    {"local.code_length", NULL, CFG_INT, LOC(code_length), NULL,
     CODE_MIN_DIGITS, CODE_MAX_DIGITS},
    {"local.ttl", NULL, CFG_INT, LOC(ttl), NULL, 30, 3600},
    {"local.max_attempts", NULL, CFG_INT, LOC(max_attempts), NULL, 1, 20},
    {"local.timeout", NULL, CFG_INT, LOC(timeout), NULL, 1, 120},
};

static enum bv_result
local_defaults(void *conf)
{
	struct local_config *c = conf;

	c->code_length = 6;
	c->ttl = 600;
	c->max_attempts = 5;
	c->timeout = 10;
	c->delivery = strdup("command");
	c->message = strdup("%c is your login code for %h");
	return c->delivery != NULL && c->message != NULL ? BV_OK : BV_NOMEM;
}

/* Where its codes go must be set (and, by the key table, absolute). */
static enum bv_result
local_check(void *conf, const char *path, const struct bv_log *log)
{
	const struct local_config *c = conf;
	bool command = strcmp(c->delivery, "command") == 0;

	if ((command && c->command == NULL) || (!command && c->file == NULL)) {
		bv_log(log, LOG_ERR,
		       "%s: local.delivery = \"%s\" needs "
		       "local.%s",
		       path, c->delivery, command ? "command" : "file");
		return BV_CONFIG;
	}
	return BV_OK;
}

static long
local_timeout(const void *conf)
{
	const struct local_config *c = conf;

	return c->timeout;
}

/*
 * Codes made and checked on this host, their hashes in the user's record
 * of the local store.  Its proofs were made a moment ago by this host:
 * there is no service to confirm them with (no validate_token).
 */
const struct bv_provider_info local_info = {
    .name = "local",
    .caps =
	BV_CAP_VALIDATE | BV_CAP_CONSUMES | BV_CAP_USER_STATE | BV_CAP_OFFLINE,
    .channels = BV_CHANNEL_BIT(BV_CHANNEL_SMS),
    .keys = keys,
    .nkeys = sizeof(keys) / sizeof(keys[0]),
    .conf_size = sizeof(struct local_config),
    .defaults = local_defaults,
    .check = local_check,
    .timeout = local_timeout,
};
