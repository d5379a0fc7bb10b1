/*
 * conf.c - baxverify.conf and the module arguments.
 *
 * The core's keys are in one table here; each provider's group is in its
 * own table, which cfg_load is handed with the provider (the catalog).
 * Every value goes through conf_key.c; then the checks across keys, the
 * core's here and each listed provider's own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "conf_key.h"
#include "fileio.h"
#include "provider_info.h"
#include "wipe.h"

/* Bounds on what we read: a config file is never this large. */
#define CONF_MAX_BYTES (64 * 1024)
#define PROMPT_MAX 200

#define OFF(field) offsetof(struct bv_config, field)

/*
 * Every key of the core.  An entry here is all it takes to add one; the
 * providers' keys are in src/providers/NAME_info.c.
 */
static const struct cfg_key core_keys[] = {
    {"provider", NULL, CFG_NAMES, OFF(providers), &cfg_check_word, 0, 0},
    {"health_retry", NULL, CFG_INT, OFF(health_retry), NULL, 0,
     CFG_MAX_HEALTH_RETRY},
    {"helper", NULL, CFG_STRING, OFF(helper), &cfg_check_abs_path, 0, 0},
    {"channels", NULL, CFG_CHANNELS, OFF(channels), NULL, 0, 0},
    {"store.dir", NULL, CFG_STRING, OFF(store_dir), &cfg_check_abs_path, 0, 0},
    {"limits.max_sends_per_hour", NULL, CFG_INT, OFF(max_sends_per_hour), NULL,
     0, CFG_MAX_SENDS_PER_HOUR},
    {"limits.deny", NULL, CFG_INT, OFF(deny), NULL, 0, 1000},
    {"limits.unlock_time", NULL, CFG_INT, OFF(unlock_time), NULL, 1, 86400 * 7},
    {"recovery.enabled", NULL, CFG_BOOL, OFF(recovery), NULL, 0, 0},
    {"remember", "remember", CFG_INT, OFF(remember), NULL, 0, 86400},
    {"http.ca_file", NULL, CFG_STRING, OFF(http.ca_file), &cfg_check_path, 0,
     0},
    {"http.connect_timeout", NULL, CFG_INT, OFF(http.connect_timeout), NULL, 1,
     60},
    {"http.timeout", NULL, CFG_INT, OFF(http.timeout), NULL, 1, 120},
    {"http.proxy", NULL, CFG_STRING, OFF(http.proxy), &cfg_check_proxy, 0, 0},
    {"phones.file", NULL, CFG_STRING, OFF(phones_file), &cfg_check_abs_path, 0,
     0},
    {"phones.gecos", NULL, CFG_BOOL, OFF(phones_gecos), NULL, 0, 0},
    {"prompt", NULL, CFG_STRING, OFF(prompt), &cfg_check_nonempty, 0, 0},
    {"max_tries", NULL, CFG_INT, OFF(max_tries), NULL, 1, 10},
    {"max_sends", NULL, CFG_INT, OFF(max_sends), NULL, 1, 5},
    {"failmode", "failmode", CFG_FAILMODE, OFF(failmode), NULL, 0, 0},
    {"nullok", "nullok", CFG_BOOL, OFF(nullok), NULL, 0, 0},
    {"debug", "debug", CFG_BOOL, OFF(debug), NULL, 0, 0},
    {"groups", NULL, CFG_STRLIST, OFF(groups), &cfg_check_nonempty, 0, 0},
    {NULL, "consume_token", CFG_BOOL, OFF(consume_token), NULL, 0, 0},
};

#define NCORE (sizeof(core_keys) / sizeof(core_keys[0]))

/*
 * One cfg_load: what is being filled, and what the checks across keys
 * must still say of the file once it and the module arguments are read.
 */
struct loader {
	struct bv_config *cfg;
	const struct bv_log *log;
	bool channels_empty;   /* "channels = [];" */
	bool channel_twice;    /* a channel of "channels" came again... */
	enum bv_channel twice; /* ...this one... */
	size_t twice_at;       /* ...after this many others */
};

/* A key, and the struct its value goes to: cfg or a provider's own. */
struct key_ref {
	const struct cfg_key *key;
	void *base;
};

/*
 * The position in the catalog of the provider called name, or -1.  The
 * one place names are matched: everything else holds the descriptor.
 */
static long
catalog_index(const struct bv_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg->catalog[i] != NULL; i++)
		if (strcmp(cfg->catalog[i]->name, name) == 0)
			return (long)i;
	return -1;
}

/* The key called name: the core's, or one of a provider's group. */
static bool
key_by_name(const struct bv_config *cfg, const char *name, struct key_ref *ref)
{
	size_t i;

	ref->key = cfg_key_find(core_keys, NCORE, name);
	ref->base = (void *)(uintptr_t)cfg;
	for (i = 0; ref->key == NULL && cfg->catalog[i] != NULL; i++) {
		ref->key = cfg_key_find(cfg->catalog[i]->keys,
					cfg->catalog[i]->nkeys, name);
		ref->base = cfg->provider_conf[i];
	}
	return ref->key != NULL;
}

/* The key whose module argument is the len bytes at arg. */
static bool
key_by_arg(const struct bv_config *cfg, const char *arg, size_t len,
	   struct key_ref *ref)
{
	size_t i;

	ref->key = cfg_key_find_arg(core_keys, NCORE, arg, len);
	ref->base = (void *)(uintptr_t)cfg;
	for (i = 0; ref->key == NULL && cfg->catalog[i] != NULL; i++) {
		ref->key = cfg_key_find_arg(cfg->catalog[i]->keys,
					    cfg->catalog[i]->nkeys, arg, len);
		ref->base = cfg->provider_conf[i];
	}
	return ref->key != NULL;
}

/* Is name the group part of some key ("http" of "http.timeout")? */
static bool
known_group(const struct bv_config *cfg, const char *name)
{
	size_t i;

	if (cfg_key_in_group(core_keys, NCORE, name))
		return true;
	for (i = 0; cfg->catalog[i] != NULL; i++)
		if (cfg_key_in_group(cfg->catalog[i]->keys,
				     cfg->catalog[i]->nkeys, name))
			return true;
	return false;
}

/*
 * The channel menu, in order.  An empty list, and a channel that comes
 * twice, are only noted here: check_channels refuses them among the
 * checks across keys, in the order the file gives them.
 */
static enum bv_result
set_channels(struct loader *ld, const config_setting_t *s,
	     const char **expected)
{
	struct bv_config *cfg = ld->cfg;
	int type = config_setting_type(s);
	bool single = type == CONFIG_TYPE_STRING;
	int n = single ? 1 : config_setting_length(s), i;
	enum bv_channel c;
	size_t j;

	if (!single && type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		*expected = "a list of strings in [ ]";
		return BV_CONFIG;
	}
	cfg->nchannels = 0;
	ld->channels_empty = n == 0;
	ld->channel_twice = false;
	for (i = 0; i < n; i++) {
		const char *v = single ? config_setting_get_string(s)
				       : config_setting_get_string_elem(s, i);

		if (!channel_parse(v, &c)) {
			*expected = channel_expected();
			return BV_CONFIG;
		}
		for (j = 0; j < cfg->nchannels && cfg->channels[j] != c; j++)
			;
		if (j == cfg->nchannels) {
			cfg->channels[cfg->nchannels++] = c;
		} else if (!ld->channel_twice) {
			ld->channel_twice = true;
			ld->twice = c;
			ld->twice_at = cfg->nchannels;
		}
	}
	return BV_OK;
}

/* Walk one level of the parsed file; groups recurse one level deep. */
static enum bv_result
apply_group(struct loader *ld, const config_setting_t *group,
	    const char *prefix)
{
	const struct bv_config *cfg = ld->cfg;
	int n = config_setting_length(group), i;
	enum bv_result rc = BV_OK;

	for (i = 0; i < n && rc == BV_OK; i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		const char *expected = "a valid value";
		struct key_ref ref;
		char full[128];
		int len;

		len = snprintf(full, sizeof(full), "%s%s%s", prefix,
			       *prefix ? "." : "", name ? name : "?");
		if (len < 0 || (size_t)len >= sizeof(full))
			full[0] = '\0';
		if (*prefix == '\0' && config_setting_is_group(s) &&
		    known_group(cfg, full)) {
			rc = apply_group(ld, s, full);
			continue;
		}
		if (!key_by_name(cfg, full, &ref)) {
			bv_log(ld->log, LOG_ERR, "%s:%d: unknown key \"%s\"",
			       cfg->path, config_setting_source_line(s), full);
			rc = BV_CONFIG;
			break;
		}
		if (ref.key->type == CFG_CHANNELS)
			rc = set_channels(ld, s, &expected);
		else
			rc = cfg_key_set(ref.base, ref.key, s, &expected);
		if (rc == BV_CONFIG)
			bv_log(ld->log, LOG_ERR,
			       "%s:%d: invalid value for \"%s\": expected %s",
			       cfg->path, config_setting_source_line(s), full,
			       expected);
	}
	return rc;
}

static bool
is_secret(const struct cfg_key *k)
{
	return k->check != NULL && k->check->secret;
}

/* The first secret key (cfg_check.secret) the file set, or NULL. */
static const struct cfg_key *
first_secret(const struct bv_config *cfg)
{
	size_t i, j;

	for (i = 0; cfg->catalog[i] != NULL; i++)
		for (j = 0; j < cfg->catalog[i]->nkeys; j++)
			if (is_secret(&cfg->catalog[i]->keys[j]) &&
			    cfg_key_is_set(cfg->provider_conf[i],
					   &cfg->catalog[i]->keys[j]))
				return &cfg->catalog[i]->keys[j];
	return NULL;
}

/*
 * libconfig keeps its own copies of every string and frees them without
 * wiping; clear the copies of the secret keys before config_destroy.
 */
static void
wipe_parsed_secrets(const struct bv_config *cfg, const config_t *lc)
{
	const struct cfg_key *k;
	const char *v;
	size_t i, j;

	for (i = 0; cfg->catalog[i] != NULL; i++)
		for (j = 0; j < cfg->catalog[i]->nkeys; j++) {
			k = &cfg->catalog[i]->keys[j];
			v = NULL;
			if (is_secret(k) && k->name != NULL &&
			    config_lookup_string(lc, k->name, &v) ==
				CONFIG_TRUE)
				bv_wipe_str(v);
		}
}

/* What a file that is not a regular one is, for the log line. */
static const char *
file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a special file";
}

static enum bv_result
read_trusted(const char *path, size_t maxlen, const struct bv_log *log,
	     char **text, size_t *len, mode_t *mode)
{
	struct stat st;
	enum bv_result rc = BV_CONFIG;
	char *buf = NULL;
	size_t size = 0;
	int fd = -1;

	*text = NULL;
	if (path == NULL || path[0] != '/') {
		bv_log(log, LOG_ERR, "%s: not an absolute path",
		       path ? path : "(none)");
		goto out;
	}
	/* O_NONBLOCK: open(2) of a FIFO with no writer would wait forever,
	   holding up every login; opened this way it is refused below.  A
	   regular file reads the same either way. */
	fd = open(path,
		  O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		bv_log(log, LOG_ERR, "%s: cannot open: %m", path);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		bv_log(log, LOG_ERR, "%s: cannot stat: %m", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		bv_log(log, LOG_ERR, "%s: refused: %s, not a regular file",
		       path, file_kind(st.st_mode));
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		bv_log(log, LOG_ERR, "%s: refused: not owned by root", path);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		bv_log(log, LOG_ERR,
		       "%s: refused: group/world writable (mode %04o)", path,
		       (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((size_t)st.st_size > maxlen) {
		bv_log(log, LOG_ERR, "%s: refused: larger than %zu bytes", path,
		       maxlen);
		goto out;
	}
	size = (size_t)st.st_size;
	errno = 0;
	if (!bv_read_exact(fd, size, &buf)) {
		if (errno == ENOMEM) {
			rc = BV_NOMEM;
			goto out;
		}
		bv_log(log, LOG_ERR,
		       "%s: read error or file changed while "
		       "read: %m",
		       path);
		goto out;
	}
	*text = buf;
	buf = NULL;
	*len = size;
	*mode = st.st_mode;
	rc = BV_OK;
out:
	bv_free_secret_len(buf, size + 1);
	if (fd >= 0)
		close(fd);
	return rc;
}

enum bv_result
cfg_read_trusted_file(const char *path, bool secret, size_t maxlen,
		      const struct bv_log *log, char **text, size_t *len)
{
	mode_t mode = 0;
	enum bv_result rc;

	rc = read_trusted(path, maxlen, log, text, len, &mode);
	if (rc == BV_OK && secret && (mode & (S_IRWXG | S_IRWXO)) != 0) {
		bv_log(log, LOG_ERR,
		       "%s: refused: holds a secret but is group/world "
		       "accessible (mode %04o); chmod 600 it",
		       path, (unsigned)(mode & 07777));
		bv_free_secret_len(*text, *len + 1);
		*text = NULL;
		rc = BV_CONFIG;
	}
	return rc;
}

static void
set_defaults(struct bv_config *cfg)
{
	cfg->http.connect_timeout = 5;
	cfg->http.timeout = 15;
	cfg->health_retry = 60;
	cfg->max_sends_per_hour = 5;
	cfg->deny = 5;
	cfg->unlock_time = 900;
	cfg->recovery = true;
	cfg->max_tries = 3;
	cfg->max_sends = 2;
	cfg->failmode = BV_FAILMODE_SECURE;
}

/* Each provider's own struct, zeroed, with its defaults. */
static enum bv_result
new_provider_confs(struct bv_config *cfg)
{
	const struct bv_provider_info *p;
	enum bv_result rc = BV_OK;
	size_t i, n = 0;

	while (cfg->catalog[n] != NULL)
		n++;
	cfg->provider_conf = calloc(n + 1, sizeof(*cfg->provider_conf));
	if (cfg->provider_conf == NULL)
		return BV_NOMEM;
	for (i = 0; i < n && rc == BV_OK; i++) {
		p = cfg->catalog[i];
		/* One byte at least: a provider without keys has a slot. */
		cfg->provider_conf[i] = calloc(1, p->conf_size + 1);
		if (cfg->provider_conf[i] == NULL)
			rc = BV_NOMEM;
		else if (p->defaults != NULL)
			rc = p->defaults(cfg->provider_conf[i]);
	}
	return rc;
}

/* Fill the core's string defaults the file did not set. */
static enum bv_result
fill_string_defaults(struct bv_config *cfg)
{
	struct {
		char **slot;
		const char *value;
	} d[] = {
	    {&cfg->phones_file, BV_DEFAULT_PHONES},
	    {&cfg->store_dir, BV_DEFAULT_STORE},
	    {&cfg->helper, BV_DEFAULT_HELPER},
	    {&cfg->prompt, "Verification code: "},
	};
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		if (*d[i].slot != NULL)
			continue;
		*d[i].slot = strdup(d[i].value);
		if (*d[i].slot == NULL)
			return BV_NOMEM;
	}
	/* No "provider": the catalog's first (none in an empty catalog:
	   check_config says so). */
	if (cfg->providers == NULL) {
		cfg->providers = calloc(2, sizeof(*cfg->providers));
		if (cfg->providers == NULL)
			return BV_NOMEM;
		if (cfg->catalog[0] != NULL) {
			cfg->providers[0] = strdup(cfg->catalog[0]->name);
			if (cfg->providers[0] == NULL)
				return BV_NOMEM;
		}
	}
	return BV_OK;
}

/*
 * Take the comments out of text, in place, before libconfig sees it:
 * the shipped file is mostly comments, and libconfig's scanner spends
 * more on them than the rest of a skipped user's login costs.  Each
 * newline stays (libconfig's line numbers in error messages stay
 * right), strings are copied untouched (escapes and all; they may span
 * lines), and so are block comments, which are rare and may hide a '#'.
 */
static void
drop_line_comments(char *text)
{
	const char *in = text, *end;
	char *out = text;
	size_t n;

	while (*in != '\0') {
		if (*in == '"') {
			*out++ = *in++;
			while (*in != '\0' && *in != '"') {
				if (*in == '\\' && in[1] != '\0')
					*out++ = *in++;
				*out++ = *in++;
			}
			if (*in == '"')
				*out++ = *in++;
		} else if (*in == '#' || (in[0] == '/' && in[1] == '/')) {
			/* One libconfig ends at a newline: without one it
			   stays, for libconfig to refuse as it would. */
			n = strcspn(in, "\n");
			if (in[n] == '\0') {
				memmove(out, in, n);
				out += n;
				in += n;
			} else {
				in += n;
			}
		} else if (in[0] == '/' && in[1] == '*') {
			end = strstr(in + 2, "*/");
			n = end != NULL ? (size_t)(end + 2 - in) : strlen(in);
			memmove(out, in, n);
			out += n;
			in += n;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

static enum bv_result
parse_file(struct loader *ld)
{
	struct bv_config *cfg = ld->cfg;
	const struct bv_log *log = ld->log;
	const struct cfg_key *secret;
	const char *key;
	config_t lc;
	char *text = NULL;
	size_t len = 0;
	mode_t mode = 0;
	enum bv_result rc;

	config_init(&lc);
	rc = read_trusted(cfg->path, CONF_MAX_BYTES, log, &text, &len, &mode);
	if (rc != BV_OK)
		goto out;
	/*
	 * An @include would read a file our ownership checks never saw.
	 * libconfig accepts it indented too; refusing the word anywhere is
	 * simplest and costs nothing a real configuration needs.
	 */
	if (strstr(text, "@include") != NULL) {
		bv_log(log, LOG_ERR, "%s: @include is not supported",
		       cfg->path);
		rc = BV_CONFIG;
		goto out;
	}
	drop_line_comments(text);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		bv_log(log, LOG_ERR, "%s:%d: syntax error: %s", cfg->path,
		       config_error_line(&lc), config_error_text(&lc));
		rc = BV_CONFIG;
		goto out;
	}
	rc = apply_group(ld, config_root_setting(&lc), "");
	if (rc != BV_OK)
		goto out;
	/*
	 * A secret in the file (an api_key, even in the group of a provider
	 * that is not listed) makes the whole file a secret.  Every secret
	 * key has a NAME_file sibling to move it to (test_catalog checks).
	 */
	secret = first_secret(cfg);
	if (secret != NULL && (mode & (S_IRWXG | S_IRWXO)) != 0) {
		key = strrchr(secret->name, '.') + 1; /* "api_key" */
		bv_log(log, LOG_ERR,
		       "%s: refused: holds %s but is group/world "
		       "accessible (mode %04o); chmod 600 it, or move the key "
		       "to %s_file",
		       cfg->path, key, (unsigned)(mode & 07777), key);
		rc = BV_CONFIG;
	}
out:
	wipe_parsed_secrets(cfg, &lc);
	config_destroy(&lc);
	if (text != NULL)
		bv_free_secret_len(text, len + 1);
	return rc;
}

/* Module arguments override the file ("debug", "failmode=safe", ...). */
static enum bv_result
apply_args(struct bv_config *cfg, int argc, const char **argv,
	   const struct bv_log *log)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t nlen = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		struct key_ref ref;
		enum bv_result rc = BV_CONFIG;

		if (nlen == 4 && strncmp(argv[i], "conf", 4) == 0 && eq)
			continue; /* consumed by cfg_load */
		if (key_by_arg(cfg, argv[i], nlen, &ref))
			rc = cfg_key_set_text(ref.base, ref.key,
					      eq ? eq + 1 : NULL);
		if (rc == BV_NOMEM)
			return rc;
		if (rc != BV_OK) {
			bv_log(log, LOG_ERR,
			       "invalid module argument \"%.64s\"", argv[i]);
			return rc;
		}
	}
	return BV_OK;
}

enum bv_channel
cfg_provider_channel(const struct bv_config *cfg,
		     const struct bv_provider_info *p)
{
	const void *conf = cfg_provider_conf(cfg, p);

	if (p == NULL)
		return BV_CHANNEL_SMS;
	if (p->own_channel != NULL && conf != NULL)
		return p->own_channel(conf);
	return channel_set_first(p->channels);
}

/*
 * One listed provider: its own checks across its keys, then whether it
 * can send by its own channel.
 */
static enum bv_result
check_provider(const struct loader *ld, size_t idx)
{
	const struct bv_config *cfg = ld->cfg;
	const struct bv_provider_info *p = cfg->catalog[idx];
	enum bv_channel own;
	enum bv_result rc = BV_OK;

	if (p->check != NULL)
		rc = p->check(cfg->provider_conf[idx], cfg->path, ld->log);
	if (rc != BV_OK)
		return rc;
	own = cfg_provider_channel(cfg, p);
	if (!channel_set_has(p->channels, own)) {
		bv_log(ld->log, LOG_ERR, "%s: %s cannot send by \"%s\"",
		       cfg->path, p->name, channel_name(own));
		return BV_CONFIG;
	}
	return BV_OK;
}

/* Each listed provider once, known to this build, and usable. */
static enum bv_result
check_providers(const struct loader *ld)
{
	const struct bv_config *cfg = ld->cfg;
	enum bv_result rc = BV_OK;
	size_t i, j;
	long idx;

	if (cfg->providers[0] == NULL) {
		bv_log(ld->log, LOG_ERR, "%s: provider lists no provider",
		       cfg->path);
		return BV_CONFIG;
	}
	for (i = 0; cfg->providers[i] != NULL && rc == BV_OK; i++) {
		idx = catalog_index(cfg, cfg->providers[i]);
		if (idx < 0) {
			bv_log(ld->log, LOG_ERR, "%s: unknown provider \"%s\"",
			       cfg->path, cfg->providers[i]);
			return BV_CONFIG;
		}
		for (j = 0; j < i; j++)
			if (catalog_index(cfg, cfg->providers[j]) == idx) {
				bv_log(ld->log, LOG_ERR,
				       "%s: provider \"%s\" is listed twice",
				       cfg->path, cfg->providers[i]);
				return BV_CONFIG;
			}
		rc = check_provider(ld, (size_t)idx);
	}
	return rc;
}

/* Is channel c one some listed provider sends by? */
static bool
channel_served(const struct bv_config *cfg, enum bv_channel c)
{
	long idx;
	size_t i;

	for (i = 0; cfg->providers[i] != NULL; i++) {
		idx = catalog_index(cfg, cfg->providers[i]);
		if (idx >= 0 && channel_set_has(cfg->catalog[idx]->channels, c))
			return true;
	}
	return false;
}

/*
 * Each offered channel must be one some listed provider can use, and
 * offered once.  The menu is told in the file's order: a channel that
 * came again is told where it came (ld->twice_at).
 */
static enum bv_result
check_channels(const struct loader *ld)
{
	const struct bv_config *cfg = ld->cfg;
	size_t i;

	if (ld->channels_empty) {
		bv_log(ld->log, LOG_ERR, "%s: channels lists no channel",
		       cfg->path);
		return BV_CONFIG;
	}
	for (i = 0; i <= cfg->nchannels; i++) {
		if (ld->channel_twice && i == ld->twice_at) {
			bv_log(ld->log, LOG_ERR,
			       "%s: channel \"%s\" is listed twice", cfg->path,
			       channel_name(ld->twice));
			return BV_CONFIG;
		}
		if (i < cfg->nchannels &&
		    !channel_served(cfg, cfg->channels[i])) {
			bv_log(ld->log, LOG_ERR,
			       "%s: channel \"%s\" is offered but no "
			       "configured provider sends by it",
			       cfg->path, channel_name(cfg->channels[i]));
			return BV_CONFIG;
		}
	}
	return BV_OK;
}

/*
 * An extra CA bundle that cannot be read would fail every TLS handshake
 * later, as a vague error in the middle of a login: refuse it here,
 * naming the file and why.  (Its content is for TLS to judge.)
 */
static enum bv_result
check_ca_file(const struct loader *ld)
{
	const char *path = ld->cfg->http.ca_file;
	struct stat st;
	int fd;

	if (path == NULL)
		return BV_OK;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		bv_log(ld->log, LOG_ERR,
		       "%s: http.ca_file %s cannot be read: "
		       "%s",
		       ld->cfg->path, path, strerror(errno));
		return BV_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		bv_log(ld->log, LOG_ERR,
		       "%s: http.ca_file %s is not a regular "
		       "file",
		       ld->cfg->path, path);
		return BV_CONFIG;
	}
	close(fd);
	return BV_OK;
}

/* Checks that involve more than one key. */
static enum bv_result
check_config(const struct loader *ld)
{
	struct bv_config *cfg = ld->cfg;
	enum bv_result rc;

	rc = check_providers(ld);
	if (rc == BV_OK)
		rc = check_ca_file(ld);
	if (rc != BV_OK)
		return rc;
	/* The whole-request deadline bounds the connect phase too. */
	if (cfg->http.connect_timeout > cfg->http.timeout)
		cfg->http.connect_timeout = cfg->http.timeout;
	if (strlen(cfg->prompt) > PROMPT_MAX) {
		bv_log(ld->log, LOG_ERR,
		       "%s: prompt is longer than %d characters", cfg->path,
		       PROMPT_MAX);
		return BV_CONFIG;
	}
	return check_channels(ld);
}

const void *
cfg_provider_conf(const struct bv_config *cfg, const struct bv_provider_info *p)
{
	size_t i;

	for (i = 0; p != NULL && cfg->catalog != NULL &&
		    cfg->provider_conf != NULL && cfg->catalog[i] != NULL;
	     i++)
		if (cfg->catalog[i] == p)
			return cfg->provider_conf[i];
	return NULL;
}

enum bv_result
cfg_load(struct bv_config *cfg, int argc, const char **argv,
	 const struct bv_provider_info *const *catalog,
	 const struct bv_log *log)
{
	static const struct bv_provider_info *const none[] = {NULL};
	const char *path = BV_DEFAULT_CONF;
	struct loader ld = {.cfg = cfg, .log = log};
	enum bv_result rc;
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->catalog = catalog != NULL ? catalog : none;
	set_defaults(cfg);
	rc = new_provider_confs(cfg);
	if (rc != BV_OK)
		return rc;
	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], "conf=", sizeof("conf=") - 1) == 0)
			path = argv[i] + sizeof("conf=") - 1;
	cfg->path = strdup(path);
	if (cfg->path == NULL)
		return BV_NOMEM;
	rc = parse_file(&ld);
	if (rc != BV_OK)
		return rc;
	rc = apply_args(cfg, argc, argv, log);
	if (rc != BV_OK)
		return rc;
	rc = fill_string_defaults(cfg);
	if (rc != BV_OK)
		return rc;
	return check_config(&ld);
}

enum bv_result
cfg_load_file(struct bv_config *cfg, const char *path,
	      const struct bv_provider_info *const *catalog,
	      const struct bv_log *log)
{
	const char *argv[1];
	char *arg;
	size_t n = strlen(path) + sizeof("conf=");
	enum bv_result rc;

	memset(cfg, 0, sizeof(*cfg)); /* safe for cfg_free whatever happens */
	arg = malloc(n);
	if (arg == NULL)
		return BV_NOMEM;
	snprintf(arg, n, "conf=%s", path);
	argv[0] = arg;
	rc = cfg_load(cfg, 1, argv, catalog, log);
	free(arg);
	return rc;
}

void
cfg_free(struct bv_config *cfg)
{
	const struct bv_provider_info *p;
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	cfg_key_free_all(cfg, core_keys, NCORE);
	for (i = 0; cfg->provider_conf != NULL && cfg->catalog[i] != NULL;
	     i++) {
		p = cfg->catalog[i];
		if (cfg->provider_conf[i] == NULL)
			continue;
		/* Its keys are wiped by the table (api_key among them). */
		cfg_key_free_all(cfg->provider_conf[i], p->keys, p->nkeys);
		bv_free_secret_len(cfg->provider_conf[i], p->conf_size + 1);
	}
	free(cfg->provider_conf);
	memset(cfg, 0, sizeof(*cfg));
}
