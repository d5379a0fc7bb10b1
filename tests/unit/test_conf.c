/*
 * test_conf.c - cfg_load: defaults, the file, module arguments, checks.
 *
 * One table: each case is a config file (and what else it needs: a key
 * file, a symlink, a FIFO, module arguments), the result cfg_load must
 * give, and everything it must log, line for line: "FILE:LINE: ..." for
 * a value of the file, "FILE: ..." for the checks across keys (STYLE.md
 * section 6).  A case that loads may look at what it got (check).
 *
 * In text and said, @CONF@ stands for the config's path, @KEY@ for the
 * key file's and @EXTRA@ for another file's (a symlink, an @include
 * target).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "../../src/core/conf.h"
#include "../../src/core/log.h"
#include "../../src/core/result.h"
#include "../../src/providers/baxverify.h"
#include "../../src/providers/catalog.h"
#include "../../src/providers/local.h"
#include "../../src/providers/mudbase.h"
#include "../../src/providers/tryvox.h"
#include "guarded.h"

/* Every path here is a short name under a mkdtemp directory in /tmp. */
#define PATH_BUF 256
/* Module arguments a case may give after conf=. */
#define MAX_ARGS 8
/* Room for a case's text or log with its paths filled in. */
#define TEXT_BUF 2048

/* What a case needs besides its config file. */
enum fixture {
	FIX_NONE,
	FIX_KEY,	   /* @KEY@: key_text in a file of mode key_mode */
	FIX_KEY_LINK,	   /* @KEY@: a symlink to such a file (@EXTRA@) */
	FIX_KEY_FIFO,	   /* @KEY@: a FIFO */
	FIX_INCLUDED,	   /* @EXTRA@: a world-writable config fragment */
	FIX_CONF_MISSING,  /* no config file at all */
	FIX_CONF_LINK,	   /* conf= names @EXTRA@, a symlink to the config */
	FIX_CONF_FIFO,	   /* the config is a FIFO */
	FIX_CONF_RELATIVE, /* conf= a relative path, from the config's dir */
	FIX_CONF_NOBODY,   /* the config is owned by nobody (root only) */
	FIX_BY_FILE	   /* cfg_load_file rather than cfg_load */
};

struct conf_state;

struct conf_case {
	const char *what; /* the case's name in the output */
	const char *text; /* the config file */
	mode_t mode;	  /* its mode; 0: 0600 */
	enum fixture fixture;
	const char *key_text; /* FIX_KEY, FIX_KEY_LINK */
	mode_t key_mode;
	const char *args[MAX_ARGS]; /* module arguments after conf= */
	enum bv_result rc;
	const char *said; /* all it logs, lines without the
			     "baxverify: " prefix; "": nothing */
	void (*check)(const struct conf_state *st);
};

struct conf_state {
	const struct conf_case *c;
	char dir[64];	       /* mkdtemp directory */
	char conf[PATH_BUF];   /* the config file */
	char key[PATH_BUF];    /* an API key file */
	char extra[PATH_BUF];  /* another file (include target, symlink) */
	char errlog[PATH_BUF]; /* captured stderr */
	char confarg[PATH_BUF + 8];
	struct bv_config cfg;
	struct bv_log log;
	char *captured;
};

/* Each provider's own group of the loaded configuration. */
static const struct baxverify_config *
bax(const struct bv_config *c)
{
	return cfg_provider_conf(c, &baxverify_info);
}

static const struct tryvox_config *
tvx(const struct bv_config *c)
{
	return cfg_provider_conf(c, &tryvox_info);
}

static const struct mudbase_config *
mud(const struct bv_config *c)
{
	return cfg_provider_conf(c, &mudbase_info);
}

static const struct local_config *
loc(const struct bv_config *c)
{
	return cfg_provider_conf(c, &local_info);
}

/* --- what good files give ------------------------------------------------- */

static void
check_minimal_defaults(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_string_equal(c->path, st->conf);
	assert_non_null(c->providers);
	assert_string_equal(c->providers[0], "baxverify");
	assert_null(c->providers[1]);
	assert_int_equal(c->nchannels, 0);
	assert_string_equal(bax(c)->api_url, "https://api.baxcloud.tech/v1");
	assert_string_equal(bax(c)->project_id, "proj_abc");
	assert_string_equal(bax(c)->api_key, "sk_test_123");
	assert_null(bax(c)->api_key_file);
	assert_string_equal(bax(c)->purpose, "LOGIN");
	assert_true(bax(c)->validate_token);
	assert_null(c->http.ca_file);
	assert_int_equal(c->http.connect_timeout, 5);
	assert_int_equal(c->http.timeout, 15);
	assert_null(c->http.proxy);
	assert_string_equal(c->phones_file, BV_DEFAULT_PHONES);
	assert_false(c->phones_gecos);
	assert_string_equal(c->store_dir, BV_DEFAULT_STORE);
	assert_string_equal(c->helper, BV_DEFAULT_HELPER);
	assert_string_equal(c->prompt, "Verification code: ");
	assert_int_equal(c->max_tries, 3);
	assert_int_equal(c->max_sends, 2);
	assert_int_equal(c->max_sends_per_hour, 5);
	assert_int_equal(c->deny, 5);
	assert_int_equal(c->unlock_time, 900);
	assert_true(c->recovery);
	assert_int_equal(c->remember, 0);
	assert_int_equal(c->health_retry, 60);
	assert_int_equal(c->failmode, BV_FAILMODE_SECURE);
	assert_false(c->nullok);
	assert_false(c->debug);
	assert_false(c->consume_token);
	assert_null(c->groups);
	/* The groups of providers not listed have their defaults too. */
	assert_string_equal(tvx(c)->api_url, "https://api.tryvox.io");
	assert_string_equal(mud(c)->api_url, "https://cloud.mudbase.dev");
	assert_string_equal(loc(c)->delivery, "command");
}

static void
check_spec_example(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_string_equal(bax(c)->project_id, "your-project-id");
	assert_string_equal(bax(c)->api_key, "your-api-key");
	assert_null(c->http.ca_file);
	assert_null(c->http.proxy);
	assert_string_equal(c->phones_file, "/etc/security/baxverify.phones");
	/* An empty list: no patterns at all. */
	assert_non_null(c->groups);
	assert_null(c->groups[0]);
}

static void
check_full_values(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_string_equal(bax(c)->api_url,
			    "https://verify.example.test/api/v2");
	assert_string_equal(bax(c)->project_id, "proj_xyz");
	assert_string_equal(bax(c)->api_key, "sk_live_abc");
	assert_string_equal(bax(c)->purpose, "SSH_LOGIN");
	assert_false(bax(c)->validate_token);
	/* Any readable regular file will do for the loader: the config. */
	assert_string_equal(c->http.ca_file, st->conf);
	assert_int_equal(c->http.connect_timeout, 10);
	assert_int_equal(c->http.timeout, 30);
	assert_string_equal(c->http.proxy, "http://proxy.example.test:3128");
	assert_string_equal(c->phones_file, "/srv/phones");
	assert_true(c->phones_gecos);
	assert_string_equal(c->prompt, "SMS code: ");
	assert_int_equal(c->max_tries, 5);
	assert_int_equal(c->max_sends, 4);
	assert_int_equal(c->failmode, BV_FAILMODE_SAFE);
	assert_true(c->nullok);
	assert_true(c->debug);
	assert_non_null(c->groups);
	assert_string_equal(c->groups[0], "wheel");
	assert_string_equal(c->groups[1], "!svc-*");
	assert_null(c->groups[2]);
}

static void
check_groups_list(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_non_null(c->groups);
	assert_string_equal(c->groups[0], "admins");
	assert_string_equal(c->groups[1], "!contractors");
	assert_string_equal(c->groups[2], "ops-*");
	assert_null(c->groups[3]);
}

/* The comments taken out before parsing: nothing of a string is. */
static void
check_comment_chars_in_strings(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_string_equal(c->prompt, "Code # not // a \"comment\": ");
	assert_string_equal(c->phones_file, "/srv/a#b//c");
	assert_non_null(c->groups);
	assert_string_equal(c->groups[0], "#wheel");
	assert_null(c->groups[1]);
	assert_int_equal(c->max_tries, 4);
}

static void
check_url_trimmed(const struct conf_state *st)
{
	assert_string_equal(bax(&st->cfg)->api_url,
			    "https://api.baxcloud.tech/v1");
}

static void
check_connect_clamped(const struct conf_state *st)
{
	assert_int_equal(st->cfg.http.timeout, 10);
	assert_int_equal(st->cfg.http.connect_timeout, 10);
}

static void
check_range_edges(const struct conf_state *st)
{
	assert_int_equal(st->cfg.http.connect_timeout, 1);
	assert_int_equal(st->cfg.http.timeout, 120);
	assert_int_equal(st->cfg.max_tries, 10);
	assert_int_equal(st->cfg.max_sends, 1);
	assert_int_equal(st->cfg.max_sends_per_hour, 64);
	assert_int_equal(st->cfg.health_retry, 3600);
}

static void
check_health_retry_off(const struct conf_state *st)
{
	assert_int_equal(st->cfg.health_retry, 0);
}

static void
check_by_file(const struct conf_state *st)
{
	assert_string_equal(bax(&st->cfg)->api_key, "sk_test_123");
	assert_string_equal(st->cfg.path, st->conf);
}

static void
check_key_from_file(const struct conf_state *st)
{
	assert_string_equal(bax(&st->cfg)->api_key_file, st->key);
	assert_string_equal(bax(&st->cfg)->api_key, "sk_from_file");
}

static void
check_provider_tryvox(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_string_equal(c->providers[0], "tryvox");
	assert_null(c->providers[1]);
	assert_string_equal(tvx(c)->tenant_id, "ten_1");
	assert_string_equal(tvx(c)->api_key, "tk_1");
}

static void
check_provider_list(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_string_equal(c->providers[0], "baxverify");
	assert_string_equal(c->providers[1], "tryvox");
	assert_null(c->providers[2]);
	assert_string_equal(bax(c)->api_key, "k");
	assert_string_equal(tvx(c)->api_key, "tk_1");
}

static void
check_provider_order(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_string_equal(c->providers[0], "mudbase");
	assert_string_equal(c->providers[1], "tryvox");
	assert_string_equal(c->providers[2], "baxverify");
	assert_null(c->providers[3]);
}

static void
check_every_group(const struct conf_state *st)
{
	const struct bv_provider_info *const *all = provider_catalog();
	size_t i;

	/* Every provider of the build has its group, listed or not. */
	for (i = 0; all[i] != NULL; i++)
		assert_non_null(cfg_provider_conf(&st->cfg, all[i]));
	assert_null(cfg_provider_conf(&st->cfg, NULL));
}

static void
check_tryvox_defaults(const struct conf_state *st)
{
	const struct tryvox_config *t = tvx(&st->cfg);

	assert_string_equal(t->api_url, "https://api.tryvox.io");
	assert_int_equal(t->channel, BV_CHANNEL_SMS);
	assert_string_equal(t->app_name, "pam_baxverify");
	assert_int_equal(t->code_length, 6);
	assert_false(t->validate_token);
	assert_null(t->api_key_file);
}

static void
check_tryvox_full(const struct conf_state *st)
{
	const struct tryvox_config *t = tvx(&st->cfg);

	/* Trailing slash trimmed, as for baxverify. */
	assert_string_equal(t->api_url, "https://tryvox.example.test/v1");
	assert_string_equal(t->api_key, "tk_live");
	assert_string_equal(t->tenant_id, "ten_9");
	assert_int_equal(t->channel, BV_CHANNEL_WHATSAPP);
	assert_string_equal(t->app_name, "Example Corp");
	assert_int_equal(t->code_length, 8);
	assert_true(t->validate_token);
}

static void
check_tryvox_length_4(const struct conf_state *st)
{
	assert_int_equal(tvx(&st->cfg)->code_length, 4);
}

static void
check_tryvox_length_8(const struct conf_state *st)
{
	assert_int_equal(tvx(&st->cfg)->code_length, 8);
}

static void
check_tryvox_sms(const struct conf_state *st)
{
	assert_int_equal(tvx(&st->cfg)->channel, BV_CHANNEL_SMS);
}

static void
check_tryvox_voice(const struct conf_state *st)
{
	assert_int_equal(tvx(&st->cfg)->channel, BV_CHANNEL_VOICE);
}

static void
check_tryvox_whatsapp(const struct conf_state *st)
{
	assert_int_equal(tvx(&st->cfg)->channel, BV_CHANNEL_WHATSAPP);
}

static void
check_tryvox_email(const struct conf_state *st)
{
	assert_int_equal(tvx(&st->cfg)->channel, BV_CHANNEL_EMAIL);
}

static void
check_tryvox_key_file(const struct conf_state *st)
{
	assert_string_equal(tvx(&st->cfg)->api_key_file, st->key);
	assert_string_equal(tvx(&st->cfg)->api_key, "tk_from_file");
	/* The other groups' keys are untouched. */
	assert_null(bax(&st->cfg)->api_key);
}

static void
check_mudbase_defaults(const struct conf_state *st)
{
	const struct mudbase_config *m = mud(&st->cfg);

	assert_string_equal(st->cfg.providers[0], "mudbase");
	assert_null(st->cfg.providers[1]);
	assert_string_equal(m->project_id, "mud_1");
	assert_string_equal(m->api_url, "https://cloud.mudbase.dev");
	assert_int_equal(m->channel, BV_CHANNEL_SMS);
}

static void
check_mudbase_values(const struct conf_state *st)
{
	const struct mudbase_config *m = mud(&st->cfg);

	assert_string_equal(m->api_url, "https://mud.example.test");
	assert_string_equal(m->project_id, "mud_2");
	assert_int_equal(m->channel, BV_CHANNEL_EMAIL);
}

static void
check_local_defaults(const struct conf_state *st)
{
	const struct local_config *l = loc(&st->cfg);

	assert_string_equal(st->cfg.providers[0], "local");
	assert_string_equal(l->delivery, "command");
	assert_string_equal(l->command, "/usr/local/bin/sms");
	assert_null(l->file);
	assert_string_equal(l->message, "%c is your login code for %h");
	assert_int_equal(l->code_length, 6);
	assert_int_equal(l->ttl, 600);
	assert_int_equal(l->max_attempts, 5);
	assert_int_equal(l->timeout, 10);
}

static void
check_local_values(const struct conf_state *st)
{
	const struct local_config *l = loc(&st->cfg);

	assert_string_equal(l->delivery, "file");
	assert_string_equal(l->file, "/var/tmp/outbox");
	assert_string_equal(l->message, "code %c (%h, 100%%)");
	assert_int_equal(l->code_length, 8);
	assert_int_equal(l->ttl, 30);
	assert_int_equal(l->max_attempts, 20);
	assert_int_equal(l->timeout, 120);
}

static void
check_all_channels(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_int_equal(c->nchannels, 4);
	assert_int_equal(c->channels[0], BV_CHANNEL_SMS);
	assert_int_equal(c->channels[1], BV_CHANNEL_VOICE);
	assert_int_equal(c->channels[2], BV_CHANNEL_WHATSAPP);
	assert_int_equal(c->channels[3], BV_CHANNEL_EMAIL);
}

static void
check_email_sms(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_int_equal(c->nchannels, 2);
	assert_int_equal(c->channels[0], BV_CHANNEL_EMAIL);
	assert_int_equal(c->channels[1], BV_CHANNEL_SMS);
}

static void
check_sms_only(const struct conf_state *st)
{
	assert_int_equal(st->cfg.nchannels, 1);
	assert_int_equal(st->cfg.channels[0], BV_CHANNEL_SMS);
}

static void
check_unlisted_kept(const struct conf_state *st)
{
	const struct bv_config *c = &st->cfg;

	assert_string_equal(c->providers[0], "baxverify");
	assert_null(c->providers[1]);
	assert_null(tvx(c)->tenant_id);
	assert_null(tvx(c)->api_key);
	assert_int_equal(tvx(c)->channel, BV_CHANNEL_VOICE);
	assert_int_equal(tvx(c)->code_length, 4);
	assert_null(mud(c)->project_id);
	assert_int_equal(mud(c)->channel, BV_CHANNEL_EMAIL);
}

static void
check_baxverify_unlisted(const struct conf_state *st)
{
	assert_null(bax(&st->cfg)->project_id);
	assert_string_equal(bax(&st->cfg)->purpose, "SUDO");
}

static void
check_args_override(const struct conf_state *st)
{
	assert_int_equal(st->cfg.failmode, BV_FAILMODE_SAFE);
	assert_true(st->cfg.nullok);
	assert_true(st->cfg.debug);
	assert_string_equal(bax(&st->cfg)->purpose, "SUDO");
	assert_true(st->cfg.consume_token);
	assert_int_equal(st->cfg.remember, 300);
}

static void
check_failmode_secure(const struct conf_state *st)
{
	assert_int_equal(st->cfg.failmode, BV_FAILMODE_SECURE);
	assert_false(st->cfg.consume_token);
}

/* --- the table ------------------------------------------------------------ */

/* The smallest groups cfg_load accepts. */
#define BAX_MIN "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
#define TRYVOX_MIN "tryvox = { tenant_id = \"ten_1\"; api_key = \"tk_1\"; };\n"
#define MUD_MIN "mudbase = { project_id = \"mud_1\"; };\n"
/* A tryvox provider whose group is left open for one more key (line 3). */
#define TVX_OPEN                                                               \
	"provider = \"tryvox\";\n"                                             \
	"tryvox = { tenant_id = \"t\"; api_key = \"k\";\n"
/* The smallest file cfg_load accepts. */
#define MINIMAL                                                                \
	"baxverify = {\n"                                                      \
	"  project_id = \"proj_abc\";\n"                                       \
	"  api_key = \"sk_test_123\";\n"                                       \
	"};\n"
/* A key file's group, the key file at @KEY@. */
#define BAX_KEY_FILE                                                           \
	"baxverify = { project_id = \"p\"; api_key_file = \"@KEY@\"; };\n"
/* 201 characters: one more than a prompt may have. */
#define X10 "xxxxxxxxxx"
#define X200                                                                   \
	X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10    \
	    X10 X10 X10

/* What "invalid value" says each kind of value should have been. */
#define WANT_RANGE "expected a number in range"
#define WANT_NUMBER "expected a whole number"
#define WANT_BOOL "expected true or false"
#define WANT_STRING "expected a string in double quotes"
#define WANT_LIST "expected a list of strings in [ ]"
#define WANT_NONEMPTY "expected a non-empty string"
#define WANT_PATH "expected an absolute path"
#define WANT_URL "expected an https:// URL"
#define WANT_WORD "expected a word of letters, digits, '_' and '-'"
#define WANT_CHANNEL "expected \"sms\", \"voice\", \"whatsapp\" or \"email\""
#define HOLDS_KEY(mode)                                                        \
	"@CONF@: refused: holds api_key but is group/world accessible "        \
	"(mode " mode "); chmod 600 it, or move the key to api_key_file"
#define SECRET_OPEN(mode)                                                      \
	"@KEY@: refused: holds a secret but is group/world accessible "        \
	"(mode " mode "); chmod 600 it"
#define UNSERVED(ch)                                                           \
	"@CONF@: channel \"" ch "\" is offered but no configured provider "    \
	"sends by it"

static const struct conf_case cases[] = {
    /* What a good file gives. */
    {.what = "minimal file: defaults",
     .text = MINIMAL,
     .rc = BV_OK,
     .said = "",
     .check = check_minimal_defaults},
    {.what = "the design notes' example",
     .text = "provider = \"baxverify\";\n"
	     "baxverify = {\n"
	     "  api_url = \"https://api.baxcloud.tech/v1\";   # default\n"
	     "  project_id = \"your-project-id\";\n"
	     "  api_key = \"your-api-key\";   # or api_key_file\n"
	     "  purpose = \"LOGIN\";\n"
	     "  validate_token = true;\n"
	     "};\n"
	     "http = { ca_file = \"\"; connect_timeout = 5; timeout = 15; "
	     "proxy = \"\"; };\n"
	     "phones = { file = \"/etc/security/baxverify.phones\"; "
	     "gecos = false; };\n"
	     "prompt = \"Verification code: \";\n"
	     "max_tries = 3;\n"
	     "max_sends = 2;\n"
	     "failmode = \"secure\";      # or \"safe\"\n"
	     "nullok = false;\n"
	     "groups = [];              # e.g. [\"wheel\", \"!svc-*\"]\n"
	     "debug = false;\n",
     .rc = BV_OK,
     .said = "",
     .check = check_spec_example},
    {.what = "every core key set",
     .text = "provider = \"baxverify\";\n"
	     "baxverify = {\n"
	     "  api_url = \"https://verify.example.test/api/v2\";\n"
	     "  project_id = \"proj_xyz\";\n"
	     "  api_key = \"sk_live_abc\";\n"
	     "  purpose = \"SSH_LOGIN\";\n"
	     "  validate_token = false;\n"
	     "};\n"
	     "http = {\n"
	     "  ca_file = \"@CONF@\";\n"
	     "  connect_timeout = 10;\n"
	     "  timeout = 30;\n"
	     "  proxy = \"http://proxy.example.test:3128\";\n"
	     "};\n"
	     "phones = { file = \"/srv/phones\"; gecos = true; };\n"
	     "prompt = \"SMS code: \";\n"
	     "max_tries = 5;\n"
	     "max_sends = 4;\n"
	     "failmode = \"safe\";\n"
	     "nullok = true;\n"
	     "groups = [\"wheel\", \"!svc-*\"];\n"
	     "debug = true;\n",
     .rc = BV_OK,
     .said = "",
     .check = check_full_values},
    {.what = "groups as a ( ) list",
     .text = BAX_MIN "groups = (\"admins\", \"!contractors\", \"ops-*\");\n",
     .rc = BV_OK,
     .said = "",
     .check = check_groups_list},
    {.what = "comments: '#' and '//' inside strings are not comments",
     .text = "# a comment \"with a quote\n"
	     "baxverify = { project_id = \"p\"; api_key = \"k\"; };  // too\n"
	     "phones = { file = \"/srv/a#b//c\"; };  # trailing \" quote\n"
	     "/* a block # comment\n   \" still */\n"
	     "prompt = \"Code # not // a \\\"comment\\\": \";\n"
	     "groups = [\"#wheel\"];\n"
	     "   # indented\n"
	     "max_tries = 4;\n",
     .rc = BV_OK,
     .said = "",
     .check = check_comment_chars_in_strings},
    {.what = "comments: one without a newline stays, for libconfig",
     .text = BAX_MIN "max_tries = 4; # no newline\rnullok = true;",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: syntax error: syntax error"},
    {.what = "comments: line numbers of errors stay right",
     .text = "# one\n"
	     "# two\n" BAX_MIN "  // four\n"
	     "max_tries = ;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:5: syntax error: syntax error"},
    {.what = "api_url: a trailing slash dropped",
     .text = "baxverify = {\n"
	     "  api_url = \"https://api.baxcloud.tech/v1/\";\n"
	     "  project_id = \"p\";\n"
	     "  api_key = \"k\";\n"
	     "};\n",
     .rc = BV_OK,
     .said = "",
     .check = check_url_trimmed},
    {.what = "api_url: trailing slashes dropped",
     .text = "baxverify = {\n"
	     "  api_url = \"https://api.baxcloud.tech/v1///\";\n"
	     "  project_id = \"p\";\n"
	     "  api_key = \"k\";\n"
	     "};\n",
     .rc = BV_OK,
     .said = "",
     .check = check_url_trimmed},
    {.what = "connect_timeout bounded by timeout",
     .text = BAX_MIN "http = { connect_timeout = 30; timeout = 10; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_connect_clamped},
    {.what = "ranges: the edges are in",
     .text = BAX_MIN "http = { connect_timeout = 1; timeout = 120; };\n"
		     "max_tries = 10;\n"
		     "max_sends = 1;\n"
		     "limits = { max_sends_per_hour = 64; };\n"
		     "health_retry = 3600;\n",
     .rc = BV_OK,
     .said = "",
     .check = check_range_edges},
    {.what = "health_retry = 0: no health memory",
     .text = BAX_MIN "health_retry = 0;\n",
     .rc = BV_OK,
     .said = "",
     .check = check_health_retry_off},
    {.what = "cfg_load_file",
     .text = MINIMAL,
     .fixture = FIX_BY_FILE,
     .rc = BV_OK,
     .said = "",
     .check = check_by_file},

    /* What the file must not contain. */
    {.what = "unknown top-level key",
     .text = BAX_MIN "\n"
		     "max_trys = 3;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: unknown key \"max_trys\""},
    {.what = "unknown key in a provider's group",
     .text = "baxverify = {\n"
	     "  project_id = \"p\";\n"
	     "  api_key = \"k\";\n"
	     "  validate_tokens = false;\n"
	     "};\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:4: unknown key \"baxverify.validate_tokens\""},
    {.what = "unknown group",
     .text = BAX_MIN "htpp = { timeout = 10; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: unknown key \"htpp\""},
    {.what = "a group inside a group",
     .text = "baxverify = { project_id = \"p\"; api_key = \"k\";\n"
	     "  extra = { a = 1; }; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: unknown key \"baxverify.extra\""},
    {.what = "an empty group nobody knows",
     .text = BAX_MIN "bogus = {};\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: unknown key \"bogus\""},
    {.what = "a number written as a group",
     .text = BAX_MIN "max_tries = {};\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"max_tries\": " WANT_NUMBER},
    {.what = "consume_token is a module argument only",
     .text = BAX_MIN "consume_token = true;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: unknown key \"consume_token\""},
    {.what = "a string for a number",
     .text = BAX_MIN "max_tries = \"3\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"max_tries\": " WANT_NUMBER},
    {.what = "a float for a number",
     .text = BAX_MIN "max_tries = 3.0;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"max_tries\": " WANT_NUMBER},
    {.what = "a string for a boolean",
     .text = BAX_MIN "nullok = \"false\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"nullok\": " WANT_BOOL},
    {.what = "a number for a boolean",
     .text = BAX_MIN "nullok = 0;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"nullok\": " WANT_BOOL},
    {.what = "a number for a string",
     .text = BAX_MIN "prompt = 5;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"prompt\": " WANT_STRING},
    {.what = "groups: one string is not a list",
     .text = BAX_MIN "groups = \"wheel\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"groups\": " WANT_LIST},
    {.what = "groups: numbers",
     .text = BAX_MIN "groups = [1, 2];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"groups\": " WANT_NONEMPTY},
    {.what = "groups: an empty pattern",
     .text = BAX_MIN "groups = [\"wheel\", \"\"];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"groups\": " WANT_NONEMPTY},
    {.what = "groups: a bare \"!\"",
     .text = BAX_MIN "groups = [\"!\"];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"groups\": " WANT_NONEMPTY},
    {.what = "health_retry = -1",
     .text = BAX_MIN "health_retry = -1;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"health_retry\": " WANT_RANGE},
    {.what = "health_retry = 3601",
     .text = BAX_MIN "health_retry = 3601;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"health_retry\": " WANT_RANGE},
    {.what = "health_retry as a string",
     .text = BAX_MIN "health_retry = \"60\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"health_retry\": " WANT_NUMBER},
    {.what = "health_retry is no module argument",
     .text = BAX_MIN,
     .args = {"health_retry=0"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"health_retry=0\""},
    {.what = "max_tries = 0",
     .text = BAX_MIN "max_tries = 0;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"max_tries\": " WANT_RANGE},
    {.what = "max_tries = 11",
     .text = BAX_MIN "max_tries = 11;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"max_tries\": " WANT_RANGE},
    {.what = "max_sends = 0",
     .text = BAX_MIN "max_sends = 0;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"max_sends\": " WANT_RANGE},
    {.what = "max_sends = 6",
     .text = BAX_MIN "max_sends = 6;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"max_sends\": " WANT_RANGE},
    {.what = "limits.max_sends_per_hour beyond what the store keeps",
     .text = BAX_MIN "limits = { max_sends_per_hour = 65; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for "
	     "\"limits.max_sends_per_hour\": " WANT_RANGE},
    {.what = "http.timeout = 1000",
     .text = BAX_MIN "http = {\n"
		     "  timeout = 1000;\n"
		     "};\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"http.timeout\": " WANT_RANGE},
    {.what = "http.timeout = -1",
     .text = BAX_MIN "http = { timeout = -1; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"http.timeout\": " WANT_RANGE},
    {.what = "http.connect_timeout = 0",
     .text = BAX_MIN "http = { connect_timeout = 0; };\n",
     .rc = BV_CONFIG,
     .said =
	 "@CONF@:2: invalid value for \"http.connect_timeout\": " WANT_RANGE},
    {.what = "api_url: http",
     .text = "baxverify = { api_url = \"http://api.baxcloud.tech/v1\";\n"
	     "  project_id = \"p\"; api_key = \"k\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"baxverify.api_url\": " WANT_URL},
    {.what = "api_url: no host",
     .text = "baxverify = { api_url = \"https://\";\n"
	     "  project_id = \"p\"; api_key = \"k\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"baxverify.api_url\": " WANT_URL},
    {.what = "api_url: no scheme",
     .text = "baxverify = { api_url = \"api.baxcloud.tech/v1\";\n"
	     "  project_id = \"p\"; api_key = \"k\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"baxverify.api_url\": " WANT_URL},
    {.what = "api_url: a space",
     .text = "baxverify = { api_url = \"https://a b/v1\";\n"
	     "  project_id = \"p\"; api_key = \"k\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"baxverify.api_url\": " WANT_URL},
    {.what = "http.ca_file missing",
     .text = BAX_MIN "http = { ca_file = \"@CONF@.missing\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: http.ca_file @CONF@.missing cannot be read: No "
	     "such file or directory"},
    {.what = "http.ca_file a directory",
     .text = BAX_MIN "http = { ca_file = \"/\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: http.ca_file / is not a regular file"},
    {.what = "http.ca_file relative",
     .text = BAX_MIN "http = { ca_file = \"certs/ca.pem\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"http.ca_file\": " WANT_PATH},
    {.what = "phones.file relative",
     .text = BAX_MIN "phones = { file = \"baxverify.phones\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"phones.file\": " WANT_PATH},
    {.what = "failmode = \"open\"",
     .text = BAX_MIN "failmode = \"open\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"failmode\": expected "
	     "\"secure\" or \"safe\""},
    {.what = "failmode = true",
     .text = BAX_MIN "failmode = true;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"failmode\": " WANT_STRING},
    {.what = "purpose: two words",
     .text = "baxverify = { project_id = \"p\"; api_key = \"k\";\n"
	     "  purpose = \"LOG IN\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"baxverify.purpose\": " WANT_WORD},
    {.what = "prompt empty",
     .text = BAX_MIN "prompt = \"\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"prompt\": " WANT_NONEMPTY},
    {.what = "prompt with a control character",
     .text = BAX_MIN "prompt = \"Code:\\n\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"prompt\": " WANT_NONEMPTY},
    {.what = "prompt too long",
     .text = BAX_MIN "prompt = \"" X200 "x\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: prompt is longer than 200 characters"},
    {.what = "api_key and api_key_file",
     .fixture = FIX_KEY,
     .key_text = "sk_from_file\n",
     .key_mode = 0600,
     .text = "baxverify = { project_id = \"p\"; api_key = \"k\";\n"
	     "  api_key_file = \"@KEY@\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: set exactly one of baxverify.api_key and "
	     "baxverify.api_key_file"},
    {.what = "neither api_key nor api_key_file",
     .text = "baxverify = { project_id = \"p\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: set exactly one of baxverify.api_key and "
	     "baxverify.api_key_file"},
    {.what = "api_key empty",
     .text = "baxverify = { project_id = \"p\"; api_key = \"\"; };\n",
     .rc = BV_CONFIG,
     .said =
	 "@CONF@:1: invalid value for \"baxverify.api_key\": " WANT_NONEMPTY},
    {.what = "project_id missing",
     .text = "baxverify = { api_key = \"k\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: baxverify.project_id is not set"},
    {.what = "an empty file: no project, no key",
     .text = "",
     .rc = BV_CONFIG,
     .said = "@CONF@: baxverify.project_id is not set"},
    {.what = "syntax error",
     .text = BAX_MIN "max_tries = 3\n"
		     "nullok = ;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: syntax error: syntax error"},
    {.what = "syntax error: a group left open",
     .text = "baxverify = { project_id = \"p\"; api_key = \"k\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: syntax error: syntax error"},
    {.what = "@include",
     .fixture = FIX_INCLUDED,
     .text = BAX_MIN "@include \"@EXTRA@\"\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: @include is not supported"},
    {.what = "@include on the first line",
     .fixture = FIX_INCLUDED,
     .text = "@include \"@EXTRA@\"\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@: @include is not supported"},
    /* libconfig takes it after leading blanks too; the included file
       (world-writable here) must not get past the ownership checks. */
    {.what = "@include indented",
     .fixture = FIX_INCLUDED,
     .text = BAX_MIN "  @include \"@EXTRA@\"\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: @include is not supported"},
    {.what = "@include after a tab",
     .fixture = FIX_INCLUDED,
     .text = BAX_MIN "\t@include \"@EXTRA@\"\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: @include is not supported"},

    /* Who may own and read the files. */
    {.what = "api_key in a config of mode 0640",
     .text = MINIMAL,
     .mode = 0640,
     .rc = BV_CONFIG,
     .said = HOLDS_KEY("0640")},
    {.what = "api_key in a config of mode 0604",
     .text = MINIMAL,
     .mode = 0604,
     .rc = BV_CONFIG,
     .said = HOLDS_KEY("0604")},
    /* Without a key in it, the file may be readable, never writable. */
    {.what = "config group-writable",
     .fixture = FIX_KEY,
     .key_text = "sk_from_file\n",
     .key_mode = 0600,
     .mode = 0664,
     .text = BAX_KEY_FILE,
     .rc = BV_CONFIG,
     .said = "@CONF@: refused: group/world writable (mode 0664)"},
    {.what = "config not owned by root",
     .fixture = FIX_CONF_NOBODY,
     .text = MINIMAL,
     .rc = BV_CONFIG,
     .said = "@CONF@: refused: not owned by root"},
    /* No secret in the config itself: it may be world-readable. */
    {.what = "api_key_file",
     .fixture = FIX_KEY,
     .key_text = "sk_from_file\n",
     .key_mode = 0600,
     .mode = 0644,
     .text = BAX_KEY_FILE,
     .rc = BV_OK,
     .said = "",
     .check = check_key_from_file},
    {.what = "api_key_file: trailing blanks and CRLF dropped",
     .fixture = FIX_KEY,
     .key_text = "sk_from_file \r\n",
     .key_mode = 0400,
     .mode = 0644,
     .text = BAX_KEY_FILE,
     .rc = BV_OK,
     .said = "",
     .check = check_key_from_file},
    {.what = "api_key_file of mode 0644",
     .fixture = FIX_KEY,
     .key_text = "sk_from_file\n",
     .key_mode = 0644,
     .mode = 0644,
     .text = BAX_KEY_FILE,
     .rc = BV_CONFIG,
     .said = SECRET_OPEN("0644")},
    {.what = "api_key_file empty",
     .fixture = FIX_KEY,
     .key_text = "\n",
     .key_mode = 0600,
     .mode = 0644,
     .text = BAX_KEY_FILE,
     .rc = BV_CONFIG,
     .said = "@KEY@: no usable API key in the file"},
    {.what = "api_key_file missing",
     .mode = 0644,
     .text = BAX_KEY_FILE,
     .rc = BV_CONFIG,
     .said = "@KEY@: cannot open: No such file or directory"},
    {.what = "api_key_file a symlink",
     .fixture = FIX_KEY_LINK,
     .key_text = "sk_from_file\n",
     .key_mode = 0600,
     .mode = 0644,
     .text = BAX_KEY_FILE,
     .rc = BV_CONFIG,
     .said = "@KEY@: cannot open: Too many levels of symbolic links"},
    {.what = "api_key_file relative",
     .text = "baxverify = { project_id = \"p\";\n"
	     "  api_key_file = \"baxverify.key\"; };\n",
     .rc = BV_CONFIG,
     .said =
	 "@CONF@:2: invalid value for \"baxverify.api_key_file\": " WANT_PATH},
    {.what = "config missing",
     .fixture = FIX_CONF_MISSING,
     .rc = BV_CONFIG,
     .said = "@CONF@: cannot open: No such file or directory"},
    {.what = "config named by a relative path",
     .fixture = FIX_CONF_RELATIVE,
     .text = MINIMAL,
     .rc = BV_CONFIG,
     .said = "baxverify.conf: not an absolute path"},
    {.what = "config named through a symlink",
     .fixture = FIX_CONF_LINK,
     .text = MINIMAL,
     .rc = BV_CONFIG,
     .said = "@EXTRA@: cannot open: Too many levels of symbolic links"},
    /* open(2) without O_NONBLOCK waits for a writer forever, and every
       login with it. */
    {.what = "config a FIFO",
     .fixture = FIX_CONF_FIFO,
     .rc = BV_CONFIG,
     .said = "@CONF@: refused: a FIFO, not a regular file"},
    {.what = "api_key_file a FIFO",
     .fixture = FIX_KEY_FIFO,
     .mode = 0644,
     .text = BAX_KEY_FILE,
     .rc = BV_CONFIG,
     .said = "@KEY@: refused: a FIFO, not a regular file"},

    /* The list of providers. */
    {.what = "provider: one, as a string; other groups not needed",
     .text = "provider = \"tryvox\";\n" TRYVOX_MIN,
     .rc = BV_OK,
     .said = "",
     .check = check_provider_tryvox},
    {.what = "provider: a list",
     .text = "provider = [\"baxverify\", \"tryvox\"];\n" BAX_MIN TRYVOX_MIN,
     .rc = BV_OK,
     .said = "",
     .check = check_provider_list},
    /* Failover order is the file's order; a ( ) list works too. */
    {.what = "provider: the order kept",
     .text = "provider = (\"mudbase\", \"tryvox\", \"baxverify\");\n" BAX_MIN
	 TRYVOX_MIN MUD_MIN,
     .rc = BV_OK,
     .said = "",
     .check = check_provider_order},
    {.what = "provider: each of the build has its group",
     .text = MINIMAL,
     .rc = BV_OK,
     .said = "",
     .check = check_every_group},
    {.what = "provider unknown",
     .text = "provider = \"nope\";\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@: unknown provider \"nope\""},
    {.what = "provider: names are exact",
     .text = "provider = \"BaxVerify\";\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@: unknown provider \"BaxVerify\""},
    {.what = "provider: a provider this build lacks",
     .text = "provider = [\"baxverify\", \"twilio\"];\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@: unknown provider \"twilio\""},
    {.what = "provider: an empty name",
     .text = "provider = [\"baxverify\", \"\"];\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"provider\": " WANT_WORD},
    {.what = "provider: not a word",
     .text = "provider = [\"bax verify\"];\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"provider\": " WANT_WORD},
    {.what = "provider: a number in the list",
     .text = "provider = [1];\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"provider\": " WANT_WORD},
    {.what = "provider: a number",
     .text = "provider = 1;\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"provider\": " WANT_LIST},
    {.what = "provider: a boolean",
     .text = "provider = true;\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@:1: invalid value for \"provider\": " WANT_LIST},
    {.what = "provider listed twice",
     .text = "provider = [\"baxverify\", \"tryvox\", \"baxverify\"];\n" BAX_MIN
	 TRYVOX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@: provider \"baxverify\" is listed twice"},
    /* An empty list is not "the default provider": it is a mistake. */
    {.what = "provider = []",
     .text = "provider = [];\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@: provider lists no provider"},
    {.what = "provider = ()",
     .text = "provider = ();\n" BAX_MIN,
     .rc = BV_CONFIG,
     .said = "@CONF@: provider lists no provider"},

    /* Groups of providers. */
    {.what = "a group of a provider this build lacks",
     .text = BAX_MIN "twilio = { api_key = \"k\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: unknown key \"twilio\""},
    {.what = "a provider's group written as a value",
     .text = BAX_MIN "tryvox = 5;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: unknown key \"tryvox\""},
    {.what = "one provider's key in another's group",
     .text = TVX_OPEN "  project_id = \"p\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: unknown key \"tryvox.project_id\""},
    /* Groups kept for later: not an error while their provider is not
       listed. */
    {.what = "groups of unlisted providers need nothing",
     .text = BAX_MIN "tryvox = { channel = \"voice\"; code_length = 4; };\n"
		     "mudbase = { method = \"email\"; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_unlisted_kept},
    {.what = "empty groups of unlisted providers",
     .text = BAX_MIN "tryvox = {};\nmudbase = {};\nlocal = {};\n",
     .rc = BV_OK,
     .said = ""},
    {.what = "the baxverify group when only tryvox is used",
     .text = "provider = \"tryvox\";\n" TRYVOX_MIN
	     "baxverify = { purpose = \"SUDO\"; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_baxverify_unlisted},
    /* A value that is wrong in itself is wrong whoever uses it. */
    {.what = "unlisted group: tryvox.code_length out of range",
     .text = BAX_MIN "tryvox = { code_length = 9; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"tryvox.code_length\": " WANT_RANGE},
    {.what = "unlisted group: tryvox.channel not a channel",
     .text = BAX_MIN "tryvox = { channel = \"fax\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"tryvox.channel\": " WANT_CHANNEL},
    {.what = "unlisted group: mudbase.api_key",
     .text = BAX_MIN "mudbase = { api_key = \"k\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: unknown key \"mudbase.api_key\""},
    {.what = "unlisted group: local.ttl out of range",
     .text = BAX_MIN "local = { ttl = 5; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"local.ttl\": " WANT_RANGE},

    /* tryvox. */
    {.what = "tryvox: defaults",
     .text = "provider = \"tryvox\";\n" TRYVOX_MIN,
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_defaults},
    {.what = "tryvox: every key",
     .text = "provider = \"tryvox\";\n"
	     "tryvox = {\n"
	     "  api_url = \"https://tryvox.example.test/v1/\";\n"
	     "  api_key = \"tk_live\";\n"
	     "  tenant_id = \"ten_9\";\n"
	     "  channel = \"whatsapp\";\n"
	     "  app_name = \"Example Corp\";\n"
	     "  code_length = 8;\n"
	     "  validate_token = true;\n"
	     "};\n",
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_full},
    {.what = "tryvox: tenant_id missing",
     .text = "provider = \"tryvox\";\n"
	     "tryvox = { api_key = \"tk\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: tryvox.tenant_id is not set"},
    {.what = "tryvox: tenant_id empty",
     .text = "provider = \"tryvox\";\n"
	     "tryvox = { tenant_id = \"\";\n"
	     "  api_key = \"tk\"; };\n",
     .rc = BV_CONFIG,
     .said =
	 "@CONF@:2: invalid value for \"tryvox.tenant_id\": " WANT_NONEMPTY},
    {.what = "tryvox: neither api_key nor api_key_file",
     .text = "provider = \"tryvox\";\n"
	     "tryvox = { tenant_id = \"t\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: set exactly one of tryvox.api_key and "
	     "tryvox.api_key_file"},
    {.what = "tryvox: api_key and api_key_file",
     .fixture = FIX_KEY,
     .key_text = "tk_from_file\n",
     .key_mode = 0600,
     .text = "provider = \"tryvox\";\n"
	     "tryvox = { tenant_id = \"t\"; api_key = \"tk\";\n"
	     "  api_key_file = \"@KEY@\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: set exactly one of tryvox.api_key and "
	     "tryvox.api_key_file"},
    {.what = "tryvox: an empty key is no key",
     .text = "provider = \"tryvox\";\n"
	     "tryvox = { tenant_id = \"t\";\n"
	     "  api_key = \"\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"tryvox.api_key\": " WANT_NONEMPTY},
    {.what = "tryvox: code_length = 3",
     .text = TVX_OPEN "  code_length = 3; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"tryvox.code_length\": " WANT_RANGE},
    {.what = "tryvox: code_length = 9",
     .text = TVX_OPEN "  code_length = 9; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"tryvox.code_length\": " WANT_RANGE},
    {.what = "tryvox: code_length a string",
     .text = TVX_OPEN "  code_length = \"6\"; };\n",
     .rc = BV_CONFIG,
     .said =
	 "@CONF@:3: invalid value for \"tryvox.code_length\": " WANT_NUMBER},
    {.what = "tryvox: code_length = 4",
     .text = TVX_OPEN "  code_length = 4; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_length_4},
    {.what = "tryvox: code_length = 8",
     .text = TVX_OPEN "  code_length = 8; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_length_8},
    {.what = "tryvox: channel \"fax\"",
     .text = TVX_OPEN "  channel = \"fax\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"tryvox.channel\": " WANT_CHANNEL},
    {.what = "tryvox: channel names are lower case",
     .text = TVX_OPEN "  channel = \"SMS\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"tryvox.channel\": " WANT_CHANNEL},
    {.what = "tryvox: channel a number",
     .text = TVX_OPEN "  channel = 1; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"tryvox.channel\": " WANT_STRING},
    {.what = "tryvox: channel sms",
     .text = TVX_OPEN "  channel = \"sms\"; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_sms},
    {.what = "tryvox: channel voice",
     .text = TVX_OPEN "  channel = \"voice\"; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_voice},
    {.what = "tryvox: channel whatsapp",
     .text = TVX_OPEN "  channel = \"whatsapp\"; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_whatsapp},
    {.what = "tryvox: channel email",
     .text = TVX_OPEN "  channel = \"email\"; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_email},
    {.what = "tryvox: api_url http",
     .text = TVX_OPEN "  api_url = \"http://api.tryvox.io\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"tryvox.api_url\": " WANT_URL},
    {.what = "tryvox: api_key in a config of mode 0640",
     .text = "provider = \"tryvox\";\n" TRYVOX_MIN,
     .mode = 0640,
     .rc = BV_CONFIG,
     .said = HOLDS_KEY("0640")},
    /* A key in the file is a secret whether or not tryvox is used: the
       same file without the tryvox group would load at 0644. */
    {.what = "tryvox: an unlisted group's api_key is still a secret",
     .fixture = FIX_KEY,
     .key_text = "sk_from_file\n",
     .key_mode = 0600,
     .text = BAX_KEY_FILE TRYVOX_MIN,
     .mode = 0644,
     .rc = BV_CONFIG,
     .said = HOLDS_KEY("0644")},
    {.what = "tryvox: an unlisted group's api_key, file 0600",
     .fixture = FIX_KEY,
     .key_text = "sk_from_file\n",
     .key_mode = 0600,
     .text = BAX_KEY_FILE TRYVOX_MIN,
     .rc = BV_OK,
     .said = ""},
    {.what = "tryvox: api_key_file",
     .fixture = FIX_KEY,
     .key_text = "tk_from_file\n",
     .key_mode = 0600,
     .mode = 0644,
     .text = "provider = \"tryvox\";\n"
	     "tryvox = { tenant_id = \"t\";\n"
	     "  api_key_file = \"@KEY@\"; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_tryvox_key_file},
    {.what = "tryvox: api_key_file of mode 0644",
     .fixture = FIX_KEY,
     .key_text = "tk_from_file\n",
     .key_mode = 0644,
     .mode = 0644,
     .text = "provider = \"tryvox\";\n"
	     "tryvox = { tenant_id = \"t\";\n"
	     "  api_key_file = \"@KEY@\"; };\n",
     .rc = BV_CONFIG,
     .said = SECRET_OPEN("0644")},

    /* mudbase. */
    {.what = "mudbase: defaults; no key, so the file may be 0644",
     .text = "provider = \"mudbase\";\n" MUD_MIN,
     .mode = 0644,
     .rc = BV_OK,
     .said = "",
     .check = check_mudbase_defaults},
    {.what = "mudbase: every key",
     .text = "provider = \"mudbase\";\n"
	     "mudbase = { api_url = \"https://mud.example.test/\";\n"
	     "  project_id = \"mud_2\"; method = \"email\"; };\n",
     .rc = BV_OK,
     .said = "",
     .check = check_mudbase_values},
    {.what = "mudbase: project_id missing",
     .text = "provider = \"mudbase\";\n"
	     "mudbase = { method = \"sms\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: mudbase.project_id is not set"},
    {.what = "mudbase: no group at all",
     .text = "provider = \"mudbase\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: mudbase.project_id is not set"},
    /* The endpoints are public: a key here is a misunderstanding. */
    {.what = "mudbase: api_key",
     .text = "provider = \"mudbase\";\n"
	     "mudbase = {\n"
	     "  project_id = \"m\";\n"
	     "  api_key = \"k\";\n"
	     "};\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:4: unknown key \"mudbase.api_key\""},
    {.what = "mudbase: api_key_file",
     .text = "provider = \"mudbase\";\n"
	     "mudbase = { project_id = \"m\";\n"
	     "  api_key_file = \"/etc/k\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: unknown key \"mudbase.api_key_file\""},
    /* "channel" is tryvox's word; mudbase says "method". */
    {.what = "mudbase: channel",
     .text = "provider = \"mudbase\";\n"
	     "mudbase = { project_id = \"m\";\n"
	     "  channel = \"sms\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: unknown key \"mudbase.channel\""},
    {.what = "mudbase: method voice, a channel it lacks",
     .text = "provider = \"mudbase\";\n"
	     "mudbase = { project_id = \"m\";\n"
	     "  method = \"voice\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: mudbase cannot send by \"voice\""},
    {.what = "mudbase: method whatsapp, a channel it lacks",
     .text = "provider = \"mudbase\";\n"
	     "mudbase = { project_id = \"m\";\n"
	     "  method = \"whatsapp\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: mudbase cannot send by \"whatsapp\""},
    {.what = "mudbase: method fax, no channel at all",
     .text = "provider = \"mudbase\";\n"
	     "mudbase = { project_id = \"m\";\n"
	     "  method = \"fax\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"mudbase.method\": " WANT_CHANNEL},

    /* local. */
    {.what = "local: defaults",
     .text = "provider = \"local\";\n"
	     "local = { command = \"/usr/local/bin/sms\"; };\n",
     .mode = 0644,
     .rc = BV_OK,
     .said = "",
     .check = check_local_defaults},
    {.what = "local: every key",
     .text = "provider = \"local\";\n"
	     "local = {\n"
	     "  delivery = \"file\";\n"
	     "  file = \"/var/tmp/outbox\";\n"
	     "  message = \"code %c (%h, 100%%)\";\n"
	     "  code_length = 8;\n"
	     "  ttl = 30;\n"
	     "  max_attempts = 20;\n"
	     "  timeout = 120;\n"
	     "};\n",
     .rc = BV_OK,
     .said = "",
     .check = check_local_values},
    {.what = "local: no command",
     .text = "provider = \"local\";\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: local.delivery = \"command\" needs local.command"},
    {.what = "local: delivery file, no file",
     .text = "provider = \"local\";\n"
	     "local = { delivery = \"file\";\n"
	     "  command = \"/usr/local/bin/sms\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: local.delivery = \"file\" needs local.file"},
    {.what = "local: delivery neither command nor file",
     .text = "provider = \"local\";\n"
	     "local = { delivery = \"mail\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"local.delivery\": expected "
	     "\"command\" or \"file\""},
    {.what = "local: command relative",
     .text = "provider = \"local\";\n"
	     "local = { command = \"sms.sh\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"local.command\": " WANT_PATH},
    {.what = "local: message without the code",
     .text = "provider = \"local\";\n"
	     "local = { command = \"/usr/local/bin/sms\";\n"
	     "  message = \"your code is on its way\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"local.message\": expected "
	     "text with %c (the code); %h is the host, %% a percent"},
    {.what = "local: message with an unknown escape",
     .text = "provider = \"local\";\n"
	     "local = { command = \"/usr/local/bin/sms\";\n"
	     "  message = \"%c for %u\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"local.message\": expected "
	     "text with %c (the code); %h is the host, %% a percent"},
    {.what = "local: code_length = 3",
     .text = "provider = \"local\";\n"
	     "local = { command = \"/usr/local/bin/sms\";\n"
	     "  code_length = 3; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"local.code_length\": " WANT_RANGE},
    {.what = "local: max_attempts = 0",
     .text = "provider = \"local\";\n"
	     "local = { command = \"/usr/local/bin/sms\";\n"
	     "  max_attempts = 0; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"local.max_attempts\": " WANT_RANGE},
    {.what = "local: timeout = 121",
     .text = "provider = \"local\";\n"
	     "local = { command = \"/usr/local/bin/sms\";\n"
	     "  timeout = 121; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:3: invalid value for \"local.timeout\": " WANT_RANGE},
    {.what = "local: an unknown key",
     .text = "provider = \"local\";\n"
	     "local = { commands = \"/usr/local/bin/sms\"; };\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: unknown key \"local.commands\""},
    {.what = "local: sends by SMS only",
     .text = "provider = \"local\";\n"
	     "local = { command = \"/usr/local/bin/sms\"; };\n"
	     "channels = [\"sms\", \"email\"];\n",
     .rc = BV_CONFIG,
     .said = UNSERVED("email")},

    /* channels. */
    {.what = "channels: all four",
     .text = "provider = [\"baxverify\", \"tryvox\"];\n" BAX_MIN TRYVOX_MIN
	     "channels = [\"sms\", \"voice\", \"whatsapp\", \"email\"];\n",
     .rc = BV_OK,
     .said = "",
     .check = check_all_channels},
    {.what = "channels: mudbase serves email",
     .text = "provider = [\"baxverify\", \"mudbase\"];\n" BAX_MIN MUD_MIN
	     "channels = [\"email\", \"sms\"];\n",
     .rc = BV_OK,
     .said = "",
     .check = check_email_sms},
    {.what = "channels: one, as a string",
     .text = BAX_MIN "channels = \"sms\";\n",
     .rc = BV_OK,
     .said = "",
     .check = check_sms_only},
    {.what = "channels: fax",
     .text = BAX_MIN "channels = [\"sms\", \"fax\"];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"channels\": " WANT_CHANNEL},
    {.what = "channels: an empty name",
     .text = BAX_MIN "channels = [\"sms\", \"\"];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"channels\": " WANT_CHANNEL},
    {.what = "channels: a number",
     .text = BAX_MIN "channels = [1];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"channels\": " WANT_CHANNEL},
    {.what = "channels: a boolean",
     .text = BAX_MIN "channels = true;\n",
     .rc = BV_CONFIG,
     .said = "@CONF@:2: invalid value for \"channels\": " WANT_LIST},
    {.what = "channels: voice, served by no listed provider",
     .text = "provider = [\"baxverify\", \"mudbase\"];\n" BAX_MIN MUD_MIN
	     "channels = [\"sms\", \"voice\"];\n",
     .rc = BV_CONFIG,
     .said = UNSERVED("voice")},
    {.what = "channels: BaxVerify alone sends SMS only",
     .text = BAX_MIN "channels = [\"email\"];\n",
     .rc = BV_CONFIG,
     .said = UNSERVED("email")},
    /* Tryvox's group is there, but tryvox is not a provider here. */
    {.what = "channels: an unlisted provider serves nothing",
     .text = "provider = \"baxverify\";\n" BAX_MIN TRYVOX_MIN
	     "channels = [\"voice\"];\n",
     .rc = BV_CONFIG,
     .said = UNSERVED("voice")},
    /* An empty menu leaves no user anywhere to send a code, which nullok
       would wave through: refuse it, like an empty provider list. */
    {.what = "channels = []",
     .text = BAX_MIN "channels = [];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: channels lists no channel"},
    {.what = "channels: one listed twice",
     .text = BAX_MIN "channels = [\"sms\", \"sms\"];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: channel \"sms\" is listed twice"},
    /* Told in the file's order: the first voice is the first problem. */
    {.what = "channels: unserved, then listed twice",
     .text = BAX_MIN "channels = [\"voice\", \"voice\"];\n",
     .rc = BV_CONFIG,
     .said = UNSERVED("voice")},
    {.what = "channels: listed twice, then unserved",
     .text = BAX_MIN "channels = [\"sms\", \"sms\", \"voice\"];\n",
     .rc = BV_CONFIG,
     .said = "@CONF@: channel \"sms\" is listed twice"},

    /* Module arguments. */
    {.what = "arguments override the file",
     .text = "baxverify = { project_id = \"p\"; api_key = \"k\";\n"
	     "  purpose = \"LOGIN\"; };\n"
	     "failmode = \"secure\";\n"
	     "nullok = false;\n"
	     "debug = false;\n",
     .args = {"failmode=safe", "nullok", "debug", "purpose=SUDO",
	      "consume_token", "remember=300"},
     .rc = BV_OK,
     .said = "",
     .check = check_args_override},
    {.what = "failmode=secure over the file's safe",
     .text = BAX_MIN "failmode = \"safe\";\n",
     .args = {"failmode=secure"},
     .rc = BV_OK,
     .said = "",
     .check = check_failmode_secure},
    {.what = "argument unknown",
     .text = MINIMAL,
     .args = {"frobnicate"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"frobnicate\""},
    {.what = "argument failmode=open",
     .text = MINIMAL,
     .args = {"failmode=open"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"failmode=open\""},
    {.what = "argument failmode without a value",
     .text = MINIMAL,
     .args = {"failmode"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"failmode\""},
    {.what = "argument purpose empty",
     .text = MINIMAL,
     .args = {"purpose="},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"purpose=\""},
    {.what = "argument purpose not a word",
     .text = MINIMAL,
     .args = {"purpose=SU DO"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"purpose=SU DO\""},
    {.what = "argument boolean with a value",
     .text = MINIMAL,
     .args = {"nullok=yes"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"nullok=yes\""},
    /* Only the keys the table marks as arguments may be given so. */
    {.what = "argument of a file-only key",
     .text = MINIMAL,
     .args = {"max_tries=5"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"max_tries=5\""},
    {.what = "argument of a provider's file-only key",
     .text = MINIMAL,
     .args = {"project_id=p"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"project_id=p\""},
    {.what = "argument remember out of range",
     .text = MINIMAL,
     .args = {"remember=86401"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"remember=86401\""},
    {.what = "argument conf without a value",
     .text = MINIMAL,
     .args = {"conf"},
     .rc = BV_CONFIG,
     .said = "invalid module argument \"conf\""},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* --- running a case ------------------------------------------------------- */

static int
setup(void **state)
{
	struct conf_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	st->c = *state;
	snprintf(st->dir, sizeof(st->dir), "/tmp/bv-test-conf.XXXXXX");
	if (mkdtemp(st->dir) == NULL) {
		free(st);
		return -1;
	}
	snprintf(st->conf, sizeof(st->conf), "%s/baxverify.conf", st->dir);
	snprintf(st->key, sizeof(st->key), "%s/baxverify.key", st->dir);
	snprintf(st->extra, sizeof(st->extra), "%s/extra", st->dir);
	snprintf(st->errlog, sizeof(st->errlog), "%s/stderr", st->dir);
	snprintf(st->confarg, sizeof(st->confarg), "conf=%s", st->conf);
	*state = st;
	return 0;
}

static int
teardown(void **state)
{
	struct conf_state *st = *state;

	cfg_free(&st->cfg);
	free(st->captured);
	unlink(st->conf);
	unlink(st->key);
	unlink(st->extra);
	unlink(st->errlog);
	rmdir(st->dir);
	free(st);
	*state = NULL;
	return 0;
}

/* text with @CONF@, @KEY@ and @EXTRA@ filled in, into out. */
static void
expand(const struct conf_state *st, const char *text, char *out, size_t outsz)
{
	static const char *const marks[] = {"@CONF@", "@KEY@", "@EXTRA@"};
	const char *paths[] = {st->conf, st->key, st->extra};
	size_t used = 0, i, n;

	out[0] = '\0';
	while (*text != '\0') {
		for (i = 0; i < 3; i++)
			if (strncmp(text, marks[i], strlen(marks[i])) == 0)
				break;
		n = i < 3 ? strlen(paths[i]) : 1;
		assert_true(used + n < outsz);
		memcpy(out + used, i < 3 ? paths[i] : text, n);
		used += n;
		text += i < 3 ? strlen(marks[i]) : 1;
	}
	out[used] = '\0';
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	size_t len = strlen(text);
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* The config, the key file and the rest, as the case wants them. */
static void
prepare(struct conf_state *st)
{
	const struct conf_case *c = st->c;
	char text[TEXT_BUF];

	if (c->fixture == FIX_KEY)
		write_file(st->key, c->key_text, c->key_mode);
	if (c->fixture == FIX_KEY_LINK) {
		write_file(st->extra, c->key_text, c->key_mode);
		assert_int_equal(symlink(st->extra, st->key), 0);
	}
	if (c->fixture == FIX_KEY_FIFO)
		assert_int_equal(mkfifo(st->key, 0600), 0);
	if (c->fixture == FIX_INCLUDED)
		write_file(st->extra, "max_tries = 7;\n", 0666);
	if (c->fixture == FIX_CONF_FIFO)
		assert_int_equal(mkfifo(st->conf, 0600), 0);
	if (c->fixture == FIX_CONF_MISSING || c->fixture == FIX_CONF_FIFO)
		return;
	expand(st, c->text, text, sizeof(text));
	write_file(st->conf, text, c->mode != 0 ? c->mode : 0600);
	if (c->fixture == FIX_CONF_LINK) {
		assert_int_equal(symlink(st->conf, st->extra), 0);
		snprintf(st->confarg, sizeof(st->confarg), "conf=%s",
			 st->extra);
	}
	if (c->fixture == FIX_CONF_RELATIVE)
		snprintf(st->confarg, sizeof(st->confarg),
			 "conf=baxverify.conf");
	if (c->fixture == FIX_CONF_NOBODY)
		assert_int_equal(chown(st->conf, 65534, 65534), 0);
}

/* cfg_load as the case says, its stderr captured; returns its result. */
static enum bv_result
load(struct conf_state *st, struct bv_config *cfg)
{
	const char *argv[MAX_ARGS + 1];
	int argc = 0, i;

	if (st->c->fixture == FIX_BY_FILE)
		return cfg_load_file(cfg, st->conf, provider_catalog(),
				     &st->log);
	argv[argc++] = st->confarg;
	for (i = 0; i < MAX_ARGS && st->c->args[i] != NULL; i++)
		argv[argc++] = st->c->args[i];
	return cfg_load(cfg, argc, argv, provider_catalog(), &st->log);
}

/* load in the child of run_guarded: a FIFO must not block it. */
static int
load_in_child(void *arg)
{
	struct conf_state *st = arg;
	struct bv_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	return (int)load(st, &cfg);
}

/* Each line of said as bv_log writes it without PAM: "baxverify: ...". */
static void
expected_log(const struct conf_state *st, char *out, size_t outsz)
{
	char said[TEXT_BUF];
	const char *line = said, *nl;
	size_t used = 0;
	int n;

	expand(st, st->c->said, said, sizeof(said));
	out[0] = '\0';
	while (*line != '\0') {
		nl = strchr(line, '\n');
		n = snprintf(out + used, outsz - used, "baxverify: %.*s\n",
			     (int)(nl ? nl - line : (long)strlen(line)), line);
		assert_true(n > 0 && (size_t)n < outsz - used);
		used += (size_t)n;
		line = nl ? nl + 1 : line + strlen(line);
	}
}

static void
run_case(void **state)
{
	struct conf_state *st = *state;
	const struct conf_case *c = st->c;
	char want[TEXT_BUF];
	enum bv_result rc;
	int saved;

	if (c->fixture == FIX_CONF_NOBODY && geteuid() != 0)
		skip();
	prepare(st);
	if (c->fixture == FIX_CONF_FIFO || c->fixture == FIX_KEY_FIFO) {
		rc = (enum bv_result)run_guarded(load_in_child, st, st->errlog);
	} else {
		if (c->fixture == FIX_CONF_RELATIVE)
			assert_int_equal(chdir(st->dir), 0);
		saved = capture_stderr(st->errlog);
		rc = load(st, &st->cfg);
		capture_restore(saved);
		if (c->fixture == FIX_CONF_RELATIVE)
			assert_int_equal(chdir("/"), 0);
	}
	st->captured = capture_read(st->errlog);
	expected_log(st, want, sizeof(want));
	if (strcmp(st->captured, want) != 0)
		fail_msg("%s: logged\n%swhere this was expected:\n%s", c->what,
			 st->captured, want);
	assert_int_equal(rc, c->rc);
	if (c->check != NULL)
		c->check(st);
}

int
main(void)
{
	struct CMUnitTest tests[NCASES];
	size_t i;

	for (i = 0; i < NCASES; i++) {
		tests[i].name = cases[i].what;
		tests[i].test_func = run_case;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = (void *)(uintptr_t)&cases[i];
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
