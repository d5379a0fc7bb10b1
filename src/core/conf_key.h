/*
 * conf_key.h - the keys of baxverify.conf: a key's name, type, checks
 * and where its value goes.
 *
 * A key table describes the fields of one struct: the core's (struct
 * bv_config, in conf.c) or a provider's own (struct tryvox_config, in
 * src/providers/tryvox_info.c).  conf.c reads the file and the module
 * arguments through these tables only, so a value that is wrong in itself
 * is refused the same way wherever it is, naming file, line and key.
 */
#ifndef BV_CONF_KEY_H
#define BV_CONF_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* libconfig's, seen only by conf.c and conf_key.c. */
struct config_setting_t;

enum cfg_type {
	CFG_STRING,   /* char *; "" unsets it (when its check allows "") */
	CFG_BOOL,     /* bool */
	CFG_INT,      /* long, from min to max */
	CFG_STRLIST,  /* char **, NULL-terminated, from [ ] or ( ) */
	CFG_NAMES,    /* as CFG_STRLIST, or one string */
	CFG_CHANNEL,  /* enum bv_channel, by its name */
	CFG_FAILMODE, /* enum bv_failmode: "secure" or "safe" */
	CFG_CHANNELS  /* the "channels" menu: conf.c sets it itself */
};

/*
 * What a string value (or each string of a list) must look like, beyond
 * printable text (no control characters), which every string must be.
 * The core's are below; a provider may define its own for a key of its
 * group (local.delivery).
 */
struct cfg_check {
	/* The test; NULL: any printable text. */
	bool (*valid)(const char *value);
	/* What valid wants, for "invalid value ...: expected %s". */
	const char *expected;
	/* A secret (an API key): wiped wherever it goes, and the file that
	   sets it must have no group or other access. */
	bool secret;
};

extern const struct cfg_check cfg_check_nonempty;  /* not empty */
extern const struct cfg_check cfg_check_https_url; /* https://..., no
						      spaces */
extern const struct cfg_check cfg_check_path;	   /* absolute, or ""
						      for unset */
extern const struct cfg_check cfg_check_abs_path;  /* absolute */
extern const struct cfg_check cfg_check_word;	   /* letters, digits,
						      _ and -, not empty */
extern const struct cfg_check cfg_check_proxy;	   /* "", or
						      scheme://host[:port] */
extern const struct cfg_check cfg_check_secret;	   /* not empty, a
						      secret */

struct cfg_key {
	/* The dotted name in the file ("tryvox.api_url"); NULL for a
	   module argument that is not a key of the file. */
	const char *name;
	/* The module argument's name ("purpose"), or NULL: file only. */
	const char *arg;
	enum cfg_type type;
	/* Where the value goes in the struct the table describes. */
	size_t offset;
	/* Strings and lists of strings: what the text must be; NULL: any
	   printable text.  A string that may be "" is unset by "". */
	const struct cfg_check *check;
	/* CFG_INT: the range, inclusive. */
	long min, max;
};

/* Printable text: no C0 control character, no DEL. */
bool cfg_printable(const char *s);

/* The key of table keys (n entries) called name, or NULL. */
const struct cfg_key *cfg_key_find(const struct cfg_key *keys, size_t n,
				   const char *name);

/* The key whose module argument is the len bytes at arg, or NULL. */
const struct cfg_key *cfg_key_find_arg(const struct cfg_key *keys, size_t n,
				       const char *arg, size_t len);

/* Does some key of the table live in group ("http" of "http.timeout")? */
bool cfg_key_in_group(const struct cfg_key *keys, size_t n, const char *group);

/*
 * Set k's value in base (the struct its table describes) from a setting
 * of the file.  BV_OK; BV_NOMEM; BV_CONFIG with *expected saying what the
 * value should have been.  Not for CFG_CHANNELS.
 */
enum bv_result cfg_key_set(void *base, const struct cfg_key *k,
			   const struct config_setting_t *s,
			   const char **expected);

/*
 * Set k's value in base from a module argument: text is what follows
 * "=", NULL for a bare word (a boolean then becomes true).  BV_OK,
 * BV_NOMEM or BV_CONFIG.
 */
enum bv_result cfg_key_set_text(void *base, const struct cfg_key *k,
				const char *text);

/* Does base hold a value for k (a string or list that is set)? */
bool cfg_key_is_set(const void *base, const struct cfg_key *k);

/* Free every string and list the table names in base, wiping strings. */
void cfg_key_free_all(void *base, const struct cfg_key *keys, size_t n);

#endif /* BV_CONF_KEY_H */
