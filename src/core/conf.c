/*
 * conf.c - baxverify.conf and the module arguments, through one key table.
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
#include "fileio.h"
#include "text.h"
#include "wipe.h"
#include "../providers/provider.h"
#include "../store/store.h"

/* Bounds on what we read: a config or key file is never this large. */
#define CONF_MAX_BYTES (64 * 1024)
#define KEYFILE_MAX_BYTES 4096
#define PROMPT_MAX 200

/* KEY_NAMES: a list of strings that may also be written as one string. */
enum key_type {
	KEY_STRING,
	KEY_BOOL,
	KEY_INT,
	KEY_STRLIST,
	KEY_NAMES,
	KEY_FAILMODE,
	KEY_CHANNEL,  /* one channel name, stored as enum bv_channel */
	KEY_CHANNELS  /* the "channels" menu: names, or one name */
};

/* What a string value must look like. */
enum key_check {
	CHECK_ANY,       /* printable text */
	CHECK_NONEMPTY,  /* printable, not empty */
	CHECK_HTTPS_URL, /* https://..., no spaces */
	CHECK_PATH,      /* absolute path, or "" for unset */
	CHECK_ABS_PATH,  /* absolute path */
	CHECK_WORD,      /* letters, digits, _ and -, not empty */
	CHECK_PROXY,     /* empty, or scheme://host[:port] */
	CHECK_DELIVERY,  /* command or file */
	CHECK_TEMPLATE   /* printable, contains %c */
};

struct key_def {
	const char *name;  /* dotted path in the file */
	const char *arg;   /* module argument name, or NULL if file only */
	enum key_type type;
	size_t offset;     /* into struct bv_config */
	enum key_check check;
	long min, max;     /* KEY_INT range */
};

#define OFF(field) offsetof(struct bv_config, field)

/*
 * One cfg_load: what is being filled, and what the checks across keys
 * must still say of the file once it and the module arguments are read.
 */
struct loader {
	struct bv_config *cfg;
	const struct bv_log *log;
	bool channels_empty;     /* "channels = [];" */
	bool channel_twice;      /* a channel of "channels" came again... */
	enum bv_channel twice;   /* ...this one... */
	size_t twice_at;         /* ...after this many others */
};

/* Every key the file knows.  An entry here is all it takes to add one. */
static const struct key_def key_table[] = {
	{ "provider", NULL, KEY_NAMES, OFF(providers), CHECK_WORD, 0, 0 },
	{ "helper", NULL, KEY_STRING, OFF(helper), CHECK_ABS_PATH, 0, 0 },
	{ "channels", NULL, KEY_CHANNELS, OFF(channels), CHECK_ANY, 0, 0 },
	{ "baxverify.api_url", NULL, KEY_STRING, OFF(baxverify.api_url),
	  CHECK_HTTPS_URL, 0, 0 },
	{ "baxverify.project_id", NULL, KEY_STRING, OFF(baxverify.project_id),
	  CHECK_NONEMPTY, 0, 0 },
	{ "baxverify.api_key", NULL, KEY_STRING, OFF(baxverify.api_key),
	  CHECK_NONEMPTY, 0, 0 },
	{ "baxverify.api_key_file", NULL, KEY_STRING,
	  OFF(baxverify.api_key_file), CHECK_PATH, 0, 0 },
	{ "baxverify.purpose", "purpose", KEY_STRING, OFF(baxverify.purpose),
	  CHECK_WORD, 0, 0 },
	{ "baxverify.validate_token", NULL, KEY_BOOL,
	  OFF(baxverify.validate_token), CHECK_ANY, 0, 0 },
	{ "tryvox.api_url", NULL, KEY_STRING, OFF(tryvox.api_url),
	  CHECK_HTTPS_URL, 0, 0 },
	{ "tryvox.api_key", NULL, KEY_STRING, OFF(tryvox.api_key),
	  CHECK_NONEMPTY, 0, 0 },
	{ "tryvox.api_key_file", NULL, KEY_STRING, OFF(tryvox.api_key_file),
	  CHECK_PATH, 0, 0 },
	{ "tryvox.tenant_id", NULL, KEY_STRING, OFF(tryvox.tenant_id),
	  CHECK_NONEMPTY, 0, 0 },
	{ "tryvox.channel", NULL, KEY_CHANNEL, OFF(tryvox.channel), CHECK_ANY,
	  0, 0 },
	{ "tryvox.app_name", NULL, KEY_STRING, OFF(tryvox.app_name),
	  CHECK_NONEMPTY, 0, 0 },
	{ "tryvox.code_length", NULL, KEY_INT, OFF(tryvox.code_length),
	  CHECK_ANY, 4, 8 },
	{ "tryvox.validate_token", NULL, KEY_BOOL, OFF(tryvox.validate_token),
	  CHECK_ANY, 0, 0 },
	{ "mudbase.api_url", NULL, KEY_STRING, OFF(mudbase.api_url),
	  CHECK_HTTPS_URL, 0, 0 },
	{ "mudbase.project_id", NULL, KEY_STRING, OFF(mudbase.project_id),
	  CHECK_NONEMPTY, 0, 0 },
	{ "mudbase.method", NULL, KEY_CHANNEL, OFF(mudbase.channel), CHECK_ANY,
	  0, 0 },
	{ "local.delivery", NULL, KEY_STRING, OFF(local.delivery),
	  CHECK_DELIVERY, 0, 0 },
	{ "local.command", NULL, KEY_STRING, OFF(local.command), CHECK_PATH, 0,
	  0 },
	{ "local.file", NULL, KEY_STRING, OFF(local.file), CHECK_PATH, 0, 0 },
	{ "local.message", NULL, KEY_STRING, OFF(local.message),
	  CHECK_TEMPLATE, 0, 0 },
	{ "local.code_length", NULL, KEY_INT, OFF(local.code_length), CHECK_ANY,
	  CODE_MIN_DIGITS, CODE_MAX_DIGITS },
	{ "local.ttl", NULL, KEY_INT, OFF(local.ttl), CHECK_ANY, 30, 3600 },
	{ "local.max_attempts", NULL, KEY_INT, OFF(local.max_attempts),
	  CHECK_ANY, 1, 20 },
	{ "local.timeout", NULL, KEY_INT, OFF(local.timeout), CHECK_ANY, 1,
	  120 },
	{ "store.dir", NULL, KEY_STRING, OFF(store_dir), CHECK_ABS_PATH, 0,
	  0 },
	{ "limits.max_sends_per_hour", NULL, KEY_INT, OFF(max_sends_per_hour),
	  CHECK_ANY, 0, STORE_MAX_SENDS },
	{ "limits.deny", NULL, KEY_INT, OFF(deny), CHECK_ANY, 0, 1000 },
	{ "limits.unlock_time", NULL, KEY_INT, OFF(unlock_time), CHECK_ANY, 1,
	  86400 * 7 },
	{ "recovery.enabled", NULL, KEY_BOOL, OFF(recovery), CHECK_ANY, 0, 0 },
	{ "remember", "remember", KEY_INT, OFF(remember), CHECK_ANY, 0, 86400 },
	{ "http.ca_file", NULL, KEY_STRING, OFF(http.ca_file), CHECK_PATH, 0,
	  0 },
	{ "http.connect_timeout", NULL, KEY_INT, OFF(http.connect_timeout),
	  CHECK_ANY, 1, 60 },
	{ "http.timeout", NULL, KEY_INT, OFF(http.timeout), CHECK_ANY, 1, 120 },
	{ "http.proxy", NULL, KEY_STRING, OFF(http.proxy), CHECK_PROXY, 0, 0 },
	{ "phones.file", NULL, KEY_STRING, OFF(phones_file), CHECK_ABS_PATH, 0,
	  0 },
	{ "phones.gecos", NULL, KEY_BOOL, OFF(phones_gecos), CHECK_ANY, 0, 0 },
	{ "prompt", NULL, KEY_STRING, OFF(prompt), CHECK_NONEMPTY, 0, 0 },
	{ "max_tries", NULL, KEY_INT, OFF(max_tries), CHECK_ANY, 1, 10 },
	{ "max_sends", NULL, KEY_INT, OFF(max_sends), CHECK_ANY, 1, 5 },
	{ "failmode", "failmode", KEY_FAILMODE, OFF(failmode), CHECK_ANY, 0,
	  0 },
	{ "nullok", "nullok", KEY_BOOL, OFF(nullok), CHECK_ANY, 0, 0 },
	{ "debug", "debug", KEY_BOOL, OFF(debug), CHECK_ANY, 0, 0 },
	{ "groups", NULL, KEY_STRLIST, OFF(groups), CHECK_NONEMPTY, 0, 0 },
	{ NULL, "consume_token", KEY_BOOL, OFF(consume_token), CHECK_ANY, 0,
	  0 },
};

static const struct key_def *
key_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(key_table) / sizeof(key_table[0]); i++)
		if (key_table[i].name != NULL &&
		    strcmp(key_table[i].name, name) == 0)
			return &key_table[i];
	return NULL;
}

static const struct key_def *
key_by_arg(const char *arg, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(key_table) / sizeof(key_table[0]); i++)
		if (key_table[i].arg != NULL &&
		    strlen(key_table[i].arg) == len &&
		    strncmp(key_table[i].arg, arg, len) == 0)
			return &key_table[i];
	return NULL;
}

/* Is name the group part of some key ("http" of "http.timeout")? */
static bool
known_group(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < sizeof(key_table) / sizeof(key_table[0]); i++)
		if (key_table[i].name != NULL &&
		    strncmp(key_table[i].name, name, n) == 0 &&
		    key_table[i].name[n] == '.')
			return true;
	return false;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
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

static bool
string_ok(enum key_check check, const char *s)
{
	const char *p;

	if (!printable(s))
		return false;
	switch (check) {
	case CHECK_ANY:
		return true;
	case CHECK_NONEMPTY:
		return *s != '\0';
	case CHECK_HTTPS_URL:
		/* Only https: the key travels in a header. */
		return strncmp(s, "https://", sizeof("https://") - 1) == 0 &&
		       s[sizeof("https://") - 1] != '\0' &&
		       strpbrk(s, " \"'\\") == NULL;
	case CHECK_PATH:
		return *s == '\0' || (*s == '/' && strstr(s, "/../") == NULL);
	case CHECK_ABS_PATH:
		return *s == '/' && strstr(s, "/../") == NULL;
	case CHECK_WORD:
		if (*s == '\0')
			return false;
		for (p = s; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '_' ||
			      *p == '-'))
				return false;
		return true;
	case CHECK_PROXY:
		return *s == '\0' ||
		       (strstr(s, "://") != NULL && strchr(s, ' ') == NULL);
	case CHECK_DELIVERY:
		return strcmp(s, "command") == 0 || strcmp(s, "file") == 0;
	case CHECK_TEMPLATE:
		return template_ok(s);
	}
	return false;
}

static const char *
check_hint(enum key_check check)
{
	switch (check) {
	case CHECK_HTTPS_URL:
		return "an https:// URL";
	case CHECK_PATH:
	case CHECK_ABS_PATH:
		return "an absolute path";
	case CHECK_WORD:
		return "a word of letters, digits, '_' and '-'";
	case CHECK_PROXY:
		return "a proxy URL such as http://proxy:3128";
	case CHECK_NONEMPTY:
		return "a non-empty string";
	case CHECK_DELIVERY:
		return "\"command\" or \"file\"";
	case CHECK_TEMPLATE:
		return "text with %c (the code); %h is the host, %% a percent";
	case CHECK_ANY:
		break;
	}
	return "printable text";
}

/* Store a string value; "" means unset for optional strings. */
static enum bv_result
set_string(struct bv_config *cfg, const struct key_def *k, const char *val)
{
	char **slot = (char **)(void *)((char *)cfg + k->offset);
	char *copy = NULL;

	if (*val != '\0' || k->check == CHECK_ANY) {
		copy = strdup(val);
		if (copy == NULL)
			return BV_NOMEM;
	}
	bv_free_secret(*slot);
	*slot = copy;
	return BV_OK;
}

static enum bv_result
set_failmode(struct bv_config *cfg, const char *val)
{
	if (strcmp(val, "secure") == 0)
		cfg->failmode = BV_FAILMODE_SECURE;
	else if (strcmp(val, "safe") == 0)
		cfg->failmode = BV_FAILMODE_SAFE;
	else
		return BV_CONFIG;
	return BV_OK;
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
set_strlist(struct bv_config *cfg, const struct key_def *k,
	    const config_setting_t *s, const char **bad)
{
	char ***slot = (char ***)(void *)((char *)cfg + k->offset);
	bool single = config_setting_type(s) == CONFIG_TYPE_STRING;
	int n = single ? 1 : config_setting_length(s), i;
	char **list;

	list = calloc((size_t)n + 1, sizeof(*list));
	if (list == NULL)
		return BV_NOMEM;
	for (i = 0; i < n; i++) {
		const char *v = single ? config_setting_get_string(s)
				       : config_setting_get_string_elem(s, i);

		if (v == NULL || !string_ok(k->check, v) ||
		    strcmp(v, "!") == 0) {
			*bad = check_hint(k->check);
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

/*
 * The channel menu, in order.  An empty list, and a channel that comes
 * twice, are only noted here: check_channels refuses them among the
 * checks across keys, where the file's other channel problems are told.
 */
static enum bv_result
set_channels(struct loader *ld, const config_setting_t *s, const char **bad)
{
	struct bv_config *cfg = ld->cfg;
	bool single = config_setting_type(s) == CONFIG_TYPE_STRING;
	int n = single ? 1 : config_setting_length(s), i;
	enum bv_channel c;
	size_t j;

	cfg->nchannels = 0;
	ld->channels_empty = n == 0;
	ld->channel_twice = false;
	for (i = 0; i < n; i++) {
		const char *v = single ? config_setting_get_string(s)
				       : config_setting_get_string_elem(s, i);

		if (!channel_parse(v, &c)) {
			*bad = channel_expected();
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

/* Apply one setting of the file; *bad says what was expected. */
static enum bv_result
apply_setting(struct loader *ld, const struct key_def *k,
	      const config_setting_t *s, const char **bad)
{
	struct bv_config *cfg = ld->cfg;
	int type = config_setting_type(s);
	const char *sval;
	long long ival;

	switch (k->type) {
	case KEY_STRING:
	case KEY_FAILMODE:
		sval = config_setting_get_string(s);
		if (type != CONFIG_TYPE_STRING || sval == NULL) {
			*bad = "a string in double quotes";
			return BV_CONFIG;
		}
		if (k->type == KEY_FAILMODE) {
			*bad = "\"secure\" or \"safe\"";
			return set_failmode(cfg, sval);
		}
		if (!string_ok(k->check, sval)) {
			*bad = check_hint(k->check);
			return BV_CONFIG;
		}
		return set_string(cfg, k, sval);
	case KEY_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			*bad = "true or false";
			return BV_CONFIG;
		}
		*(bool *)(void *)((char *)cfg + k->offset) =
			config_setting_get_bool(s) != 0;
		return BV_OK;
	case KEY_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			*bad = "a whole number";
			return BV_CONFIG;
		}
		ival = config_setting_get_int64(s);
		if (ival < k->min || ival > k->max) {
			*bad = "a number in range";
			return BV_CONFIG;
		}
		*(long *)(void *)((char *)cfg + k->offset) = (long)ival;
		return BV_OK;
	case KEY_CHANNEL:
		if (type != CONFIG_TYPE_STRING) {
			*bad = "a string in double quotes";
			return BV_CONFIG;
		}
		*bad = channel_expected();
		return channel_parse(config_setting_get_string(s),
				     (enum bv_channel *)(void *)((char *)cfg +
								k->offset))
			       ? BV_OK
			       : BV_CONFIG;
	case KEY_NAMES:
	case KEY_STRLIST:
	case KEY_CHANNELS:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST &&
		    (type != CONFIG_TYPE_STRING || k->type == KEY_STRLIST)) {
			*bad = "a list of strings in [ ]";
			return BV_CONFIG;
		}
		if (k->type == KEY_CHANNELS)
			return set_channels(ld, s, bad);
		return set_strlist(cfg, k, s, bad);
	}
	return BV_CONFIG;
}

/* Walk one level of the parsed file; groups recurse one level deep. */
static enum bv_result
apply_group(struct loader *ld, const config_setting_t *group,
	    const char *prefix)
{
	const struct bv_config *cfg = ld->cfg;
	const struct bv_log *log = ld->log;
	int n = config_setting_length(group), i;
	enum bv_result rc = BV_OK;

	for (i = 0; i < n && rc == BV_OK; i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		const struct key_def *k;
		const char *bad = "a valid value";
		char full[128];
		int len;

		len = snprintf(full, sizeof(full), "%s%s%s", prefix,
			       *prefix ? "." : "", name ? name : "?");
		if (len < 0 || (size_t)len >= sizeof(full))
			full[0] = '\0';
		if (*prefix == '\0' && config_setting_is_group(s) &&
		    known_group(full)) {
			rc = apply_group(ld, s, full);
			continue;
		}
		k = key_by_name(full);
		if (k == NULL) {
			bv_log(log, LOG_ERR, "%s:%d: unknown key \"%s\"",
			       cfg->path, config_setting_source_line(s), full);
			rc = BV_CONFIG;
			break;
		}
		rc = apply_setting(ld, k, s, &bad);
		if (rc == BV_CONFIG)
			bv_log(log, LOG_ERR,
			       "%s:%d: invalid value for \"%s\": expected %s",
			       cfg->path, config_setting_source_line(s), full,
			       bad);
	}
	return rc;
}

/*
 * libconfig keeps its own copies of every string and frees them without
 * wiping; clear the key's copy before config_destroy.
 */
static void
wipe_parsed_secrets(const config_t *lc)
{
	static const char *const keys[] = { "baxverify.api_key",
					    "tryvox.api_key" };
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = NULL;
		if (config_lookup_string(lc, keys[i], &v) == CONFIG_TRUE)
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
		bv_log(log, LOG_ERR, "%s: read error or file changed while "
		       "read: %m", path);
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
	cfg->baxverify.validate_token = true;
	cfg->tryvox.code_length = 6;
	cfg->local.code_length = 6;
	cfg->local.ttl = 600;
	cfg->local.max_attempts = 5;
	cfg->local.timeout = 10;
	cfg->max_sends_per_hour = 5;
	cfg->deny = 5;
	cfg->unlock_time = 900;
	cfg->recovery = true;
	cfg->max_tries = 3;
	cfg->max_sends = 2;
	cfg->failmode = BV_FAILMODE_SECURE;
}

/* Fill the string defaults the file did not set. */
static enum bv_result
fill_string_defaults(struct bv_config *cfg)
{
	struct {
		char **slot;
		const char *value;
	} d[] = {
		{ &cfg->baxverify.api_url, "https://api.baxcloud.tech/v1" },
		{ &cfg->baxverify.purpose, "LOGIN" },
		{ &cfg->tryvox.api_url, "https://api.tryvox.io" },
		{ &cfg->tryvox.app_name, "pam_baxverify" },
		{ &cfg->mudbase.api_url, "https://cloud.mudbase.dev" },
		{ &cfg->phones_file, BV_DEFAULT_PHONES },
		{ &cfg->store_dir, BV_DEFAULT_STORE },
		{ &cfg->helper, BV_DEFAULT_HELPER },
		{ &cfg->local.delivery, "command" },
		{ &cfg->local.message, "%c is your login code for %h" },
		{ &cfg->prompt, "Verification code: " },
	};
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		if (*d[i].slot != NULL)
			continue;
		*d[i].slot = strdup(d[i].value);
		if (*d[i].slot == NULL)
			return BV_NOMEM;
	}
	if (cfg->providers == NULL) {
		cfg->providers = calloc(2, sizeof(*cfg->providers));
		if (cfg->providers == NULL)
			return BV_NOMEM;
		cfg->providers[0] = strdup("baxverify");
		if (cfg->providers[0] == NULL)
			return BV_NOMEM;
	}
	return BV_OK;
}

static enum bv_result
parse_file(struct loader *ld)
{
	struct bv_config *cfg = ld->cfg;
	const struct bv_log *log = ld->log;
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
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		bv_log(log, LOG_ERR, "%s:%d: syntax error: %s", cfg->path,
		       config_error_line(&lc), config_error_text(&lc));
		rc = BV_CONFIG;
		goto out;
	}
	rc = apply_group(ld, config_root_setting(&lc), "");
	if (rc != BV_OK)
		goto out;
	if ((cfg->baxverify.api_key != NULL || cfg->tryvox.api_key != NULL) &&
	    (mode & (S_IRWXG | S_IRWXO)) != 0) {
		bv_log(log, LOG_ERR,
		       "%s: refused: holds api_key but is group/world "
		       "accessible (mode %04o); chmod 600 it, or move the key "
		       "to api_key_file",
		       cfg->path, (unsigned)(mode & 07777));
		rc = BV_CONFIG;
	}
out:
	wipe_parsed_secrets(&lc);
	config_destroy(&lc);
	if (text != NULL)
		bv_free_secret_len(text, len + 1);
	return rc;
}

/* A number given as text (a module argument), range-checked. */
static enum bv_result
set_int_text(struct bv_config *cfg, const struct key_def *k, const char *v)
{
	char *end = NULL;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < k->min ||
	    n > k->max)
		return BV_CONFIG;
	*(long *)(void *)((char *)cfg + k->offset) = n;
	return BV_OK;
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
		const struct key_def *k;
		enum bv_result rc = BV_CONFIG;

		if (nlen == 4 && strncmp(argv[i], "conf", 4) == 0 && eq)
			continue; /* consumed by cfg_load */
		k = key_by_arg(argv[i], nlen);
		if (k != NULL && k->type == KEY_BOOL && eq == NULL) {
			*(bool *)(void *)((char *)cfg + k->offset) = true;
			rc = BV_OK;
		} else if (k != NULL && k->type == KEY_FAILMODE && eq) {
			rc = set_failmode(cfg, eq + 1);
		} else if (k != NULL && k->type == KEY_STRING && eq &&
			   string_ok(k->check, eq + 1)) {
			rc = set_string(cfg, k, eq + 1);
		} else if (k != NULL && k->type == KEY_INT && eq) {
			rc = set_int_text(cfg, k, eq + 1);
		}
		if (rc == BV_NOMEM)
			return rc;
		if (rc != BV_OK) {
			bv_log(log, LOG_ERR, "invalid module argument \"%.64s\"",
			       argv[i]);
			return rc;
		}
	}
	return BV_OK;
}

/* Read a key file into api->api_key, trimming the final newline. */
static enum bv_result
load_key_file(struct bv_api_config *api, const struct bv_log *log)
{
	char *text = NULL;
	size_t len = 0;
	enum bv_result rc;

	rc = cfg_read_trusted_file(api->api_key_file, true, KEYFILE_MAX_BYTES,
				   log, &text, &len);
	if (rc != BV_OK)
		return rc;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
			   text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	if (len == 0 || !printable(text)) {
		bv_log(log, LOG_ERR, "%s: no usable API key in the file",
		       api->api_key_file);
		bv_free_secret_len(text, len + 1);
		return BV_CONFIG;
	}
	api->api_key = strdup(text);
	bv_free_secret_len(text, len + 1);
	return api->api_key ? BV_OK : BV_NOMEM;
}

static void
trim_url(char *url)
{
	size_t n = strlen(url);

	/* A trailing slash would double it in every endpoint path. */
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
}

/* The group of provider name, writable (cfg_api is the public view). */
static struct bv_api_config *
api_group(struct bv_config *cfg, const char *name)
{
	if (strcmp(name, "baxverify") == 0)
		return &cfg->baxverify;
	if (strcmp(name, "tryvox") == 0)
		return &cfg->tryvox;
	if (strcmp(name, "mudbase") == 0)
		return &cfg->mudbase;
	return NULL;
}

/* provider = "local": where its codes go must be set and absolute. */
static enum bv_result
check_local(struct bv_config *cfg, const struct bv_log *log)
{
	const struct bv_local_config *lc = &cfg->local;
	bool command = strcmp(lc->delivery, "command") == 0;

	if ((command && lc->command == NULL) || (!command && lc->file == NULL)) {
		bv_log(log, LOG_ERR, "%s: local.delivery = \"%s\" needs "
		       "local.%s", cfg->path, lc->delivery,
		       command ? "command" : "file");
		return BV_CONFIG;
	}
	return BV_OK;
}

/* The keys one provider's group must have, and its key file. */
static enum bv_result
check_api(struct bv_config *cfg, const char *name, const struct bv_log *log)
{
	struct bv_api_config *api = api_group(cfg, name);
	const struct bv_provider_info *p = provider_info_find(name);
	bool keyed = strcmp(name, "mudbase") != 0;
	const char *missing = NULL;

	if (p != NULL && strcmp(name, "local") == 0)
		return check_local(cfg, log);

	if (p == NULL || api == NULL) {
		bv_log(log, LOG_ERR, "%s: unknown provider \"%s\"", cfg->path,
		       name);
		return BV_CONFIG;
	}
	trim_url(api->api_url);
	if (api->project_id == NULL && strcmp(name, "tryvox") != 0)
		missing = "project_id";
	else if (api->tenant_id == NULL && strcmp(name, "tryvox") == 0)
		missing = "tenant_id";
	if (missing != NULL) {
		bv_log(log, LOG_ERR, "%s: %s.%s is not set", cfg->path, name,
		       missing);
		return BV_CONFIG;
	}
	if (!provider_has_channel(p, api->channel)) {
		bv_log(log, LOG_ERR, "%s: %s cannot send by \"%s\"", cfg->path,
		       name, channel_name(api->channel));
		return BV_CONFIG;
	}
	if (keyed && (api->api_key != NULL) == (api->api_key_file != NULL)) {
		bv_log(log, LOG_ERR,
		       "%s: set exactly one of %s.api_key and %s.api_key_file",
		       cfg->path, name, name);
		return BV_CONFIG;
	}
	if (api->api_key_file != NULL && api->api_key == NULL)
		return load_key_file(api, log);
	return BV_OK;
}

/* Is channel c one some configured provider sends by? */
static bool
channel_served(const struct bv_config *cfg, enum bv_channel c)
{
	size_t i;

	for (i = 0; cfg->providers[i] != NULL; i++)
		if (provider_has_channel(provider_info_find(cfg->providers[i]),
					 c))
			return true;
	return false;
}

/*
 * Each offered channel must be one some configured provider can use, and
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
			       "%s: channel \"%s\" is listed twice",
			       cfg->path, channel_name(ld->twice));
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

/* Checks that involve more than one key. */
static enum bv_result
check_config(const struct loader *ld)
{
	struct bv_config *cfg = ld->cfg;
	const struct bv_log *log = ld->log;
	enum bv_result rc = BV_OK;
	size_t i, j;

	if (cfg->providers[0] == NULL) {
		bv_log(log, LOG_ERR, "%s: provider lists no provider",
		       cfg->path);
		return BV_CONFIG;
	}
	for (i = 0; cfg->providers[i] != NULL && rc == BV_OK; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(cfg->providers[i], cfg->providers[j]) == 0) {
				bv_log(log, LOG_ERR,
				       "%s: provider \"%s\" is listed twice",
				       cfg->path, cfg->providers[i]);
				return BV_CONFIG;
			}
		rc = check_api(cfg, cfg->providers[i], log);
	}
	if (rc != BV_OK)
		return rc;
	/* The whole-request deadline bounds the connect phase too. */
	if (cfg->http.connect_timeout > cfg->http.timeout)
		cfg->http.connect_timeout = cfg->http.timeout;
	if (strlen(cfg->prompt) > PROMPT_MAX) {
		bv_log(log, LOG_ERR, "%s: prompt is longer than %d characters",
		       cfg->path, PROMPT_MAX);
		return BV_CONFIG;
	}
	return check_channels(ld);
}

const struct bv_api_config *
cfg_api(const struct bv_config *cfg, const char *name)
{
	return api_group((struct bv_config *)(uintptr_t)cfg, name);
}

enum bv_result
cfg_load(struct bv_config *cfg, int argc, const char **argv,
	 const struct bv_log *log)
{
	const char *path = BV_DEFAULT_CONF;
	struct loader ld = { .cfg = cfg, .log = log };
	enum bv_result rc;
	int i;

	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
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
	rc = cfg_load(cfg, 1, argv, log);
	free(arg);
	return rc;
}

static void
free_api(struct bv_api_config *api)
{
	free(api->api_url);
	bv_free_secret(api->api_key);
	free(api->api_key_file);
	free(api->project_id);
	free(api->tenant_id);
	free(api->purpose);
	free(api->app_name);
}

void
cfg_free(struct bv_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free_strlist(cfg->providers);
	free_api(&cfg->baxverify);
	free_api(&cfg->tryvox);
	free_api(&cfg->mudbase);
	free(cfg->http.ca_file);
	free(cfg->http.proxy);
	free(cfg->phones_file);
	free(cfg->store_dir);
	free(cfg->helper);
	free(cfg->local.delivery);
	free(cfg->local.command);
	free(cfg->local.file);
	free(cfg->local.message);
	free(cfg->prompt);
	free_strlist(cfg->groups);
	memset(cfg, 0, sizeof(*cfg));
}
