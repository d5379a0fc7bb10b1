/*
 * conf.h - loading and validating baxverify.conf and the module arguments.
 *
 * One table of keys serves the file, the module arguments and the CLI.
 * Anything unknown or invalid is an error naming the file, line and key:
 * a typo must never switch two-factor authentication off.
 */
#ifndef BV_CONF_H
#define BV_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "channel.h"
#include "log.h"
#include "result.h"

enum bv_failmode {
	BV_FAILMODE_SECURE = 0, /* service unreachable: deny */
	BV_FAILMODE_SAFE        /* service unreachable: let the user in, loudly */
};

struct bv_http_config {
	char *ca_file;         /* extra CA bundle, or NULL */
	long connect_timeout;  /* seconds */
	long timeout;          /* seconds, whole request */
	char *proxy;           /* explicit proxy URL, or NULL: never from env */
};

/*
 * One provider's group (baxverify, tryvox, mudbase).  The key table says
 * which of these keys each group accepts; the others stay unset.
 */
struct bv_api_config {
	char *api_url;         /* https base URL, no trailing slash */
	char *api_key;         /* secret: wiped on free */
	char *api_key_file;
	char *project_id;      /* baxverify, mudbase */
	char *tenant_id;       /* tryvox */
	char *purpose;         /* baxverify */
	enum bv_channel channel; /* tryvox "channel", mudbase "method" */
	char *app_name;        /* tryvox */
	long code_length;      /* tryvox */
	bool validate_token;   /* ask the service to confirm its proof */
};

/* provider = "local": codes made and checked on this host. */
struct bv_local_config {
	char *delivery;        /* "command" or "file" */
	char *command;         /* argv[0]; argv[1] is the destination */
	char *file;            /* delivery = "file": appended to */
	char *message;         /* template: %c code, %h host name, %% */
	long code_length;
	long ttl;              /* seconds a code lives */
	long max_attempts;     /* wrong tries per code */
	long timeout;          /* seconds the command may run */
};

struct bv_config {
	char *path;            /* the file this came from */
	char *helper;          /* baxverify-helper, root-owned */
	char **providers;      /* NULL-terminated, in failover order */
	struct bv_api_config baxverify;
	struct bv_api_config tryvox;
	struct bv_api_config mudbase;
	/* The channel menu, in order; none (0): the first provider's own. */
	enum bv_channel channels[BV_CHANNEL_COUNT];
	size_t nchannels;
	struct bv_local_config local;
	char *store_dir;       /* the local store */
	long max_sends_per_hour; /* per user, across processes; 0: off */
	long deny;             /* failed verifications before a lockout */
	long unlock_time;      /* seconds a lockout lasts */
	bool recovery;         /* accept recovery codes at the prompt */
	long remember;         /* grace seconds after a success; 0: off */
	struct bv_http_config http;
	char *phones_file;
	bool phones_gecos;
	char *prompt;
	long max_tries;
	long max_sends;
	enum bv_failmode failmode;
	bool nullok;
	bool debug;
	bool consume_token;    /* module argument, session side */
	char **groups;         /* NULL-terminated fnmatch patterns, "!" negates */
};

/*
 * Read the configuration: defaults, then the file (conf= from argv or the
 * built-in path), then the module arguments, then cross-field checks and
 * the API key file.  owner_uid is who besides root may own the files (the
 * process's effective uid).  Returns BV_OK, BV_CONFIG (logged) or BV_NOMEM.
 * cfg is always safe to pass to cfg_free afterwards.
 */
enum bv_result cfg_load(struct bv_config *cfg, int argc, const char **argv,
			const struct bv_log *log);

/* As cfg_load, from an explicit path and no module arguments (the CLI). */
enum bv_result cfg_load_file(struct bv_config *cfg, const char *path,
			     const struct bv_log *log);

/* Release everything, wiping the API keys. */
void cfg_free(struct bv_config *cfg);

/* The group of provider name ("baxverify", ...), or NULL. */
const struct bv_api_config *cfg_api(const struct bv_config *cfg,
				    const char *name);

/*
 * Open a file that may hold secrets or decide who is asked: absolute path,
 * no symlink, regular file, owned by root or owner_uid, not writable by
 * group or others, and (when secret) not readable by them either.  Reads
 * at most maxlen bytes into an allocated NUL-terminated buffer.  Returns
 * BV_OK, BV_CONFIG (logged, naming the file and the reason) or BV_NOMEM.
 */
enum bv_result cfg_read_trusted_file(const char *path, bool secret,
				     size_t maxlen, const struct bv_log *log,
				     char **text, size_t *len);

#endif /* BV_CONF_H */
