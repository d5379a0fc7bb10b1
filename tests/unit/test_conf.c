/*
 * test_conf.c - cfg_load: defaults, the file, module arguments, checks.
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
#include "../../src/providers/mudbase.h"
#include "../../src/providers/tryvox.h"
#include "guarded.h"

/* Every path here is a short name under a mkdtemp directory in /tmp. */
#define PATH_BUF 256

#define MAX_ARGS 8

struct conf_state {
	char dir[64];            /* mkdtemp directory */
	char conf[PATH_BUF];     /* the config file */
	char key[PATH_BUF];      /* an API key file */
	char extra[PATH_BUF];    /* another file (include target, symlink) */
	char errlog[PATH_BUF];   /* captured stderr */
	char confarg[PATH_BUF + 8];
	struct bv_config cfg;
	struct bv_log log;
	char *captured;
};

/* The smallest file cfg_load accepts. */
static const char minimal_conf[] =
	"baxverify = {\n"
	"  project_id = \"proj_abc\";\n"
	"  api_key = \"sk_test_123\";\n"
	"};\n";

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

static int
setup(void **state)
{
	struct conf_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
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
	st->log.pamh = NULL;
	st->log.debug = false;
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

static void
write_conf(struct conf_state *st, const char *text, mode_t mode)
{
	write_file(st->conf, text, mode);
}

/* Read what the last call wrote on stderr into st->captured. */
static void
read_captured(struct conf_state *st)
{
	free(st->captured);
	st->captured = capture_read(st->errlog);
}

/*
 * cfg_load with "conf=<st->conf>" followed by the NULL-terminated extra
 * arguments, stderr captured into st->captured.
 */
static enum bv_result
load_args(struct conf_state *st, const char *const *extra)
{
	const char *argv[MAX_ARGS];
	enum bv_result rc;
	int argc = 0, saved;

	argv[argc++] = st->confarg;
	for (; extra != NULL && *extra != NULL; extra++) {
		assert_true(argc < MAX_ARGS);
		argv[argc++] = *extra;
	}
	cfg_free(&st->cfg);
	saved = capture_stderr(st->errlog);
	rc = cfg_load(&st->cfg, argc, argv, provider_catalog(), &st->log);
	capture_restore(saved);
	read_captured(st);
	return rc;
}

static enum bv_result
load(struct conf_state *st)
{
	return load_args(st, NULL);
}

/* Load text (mode 0600) and expect it refused, with a logged reason. */
static void
expect_config_error(struct conf_state *st, const char *text)
{
	write_conf(st, text, 0600);
	assert_int_equal(load(st), BV_CONFIG);
	assert_true(strlen(st->captured) > 0);
}

/* --- what a good file gives ------------------------------------------- */

static void
test_minimal_defaults(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;

	write_conf(st, minimal_conf, 0600);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(c->path, st->conf);
	assert_non_null(c->providers);
	assert_string_equal(c->providers[0], "baxverify");
	assert_null(c->providers[1]);
	assert_int_equal(c->nchannels, 0);
	assert_string_equal(bax(c)->api_url,
			    "https://api.baxcloud.tech/v1");
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
	assert_string_equal(c->prompt, "Verification code: ");
	assert_int_equal(c->max_tries, 3);
	assert_int_equal(c->max_sends, 2);
	assert_int_equal(c->failmode, BV_FAILMODE_SECURE);
	assert_false(c->nullok);
	assert_false(c->debug);
	assert_false(c->consume_token);
	assert_null(c->groups);
	assert_string_equal(st->captured, "");
}

/* The example from the design notes, verbatim apart from the values. */
static void
test_spec_example(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;

	write_conf(st,
		   "provider = \"baxverify\";\n"
		   "baxverify = {\n"
		   "  api_url = \"https://api.baxcloud.tech/v1\";   # default; "
		   "only https:// accepted\n"
		   "  project_id = \"your-project-id\";\n"
		   "  api_key = \"your-api-key\";                   # or "
		   "api_key_file = \"/etc/security/baxverify.key\";\n"
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
		   "groups = [];              # e.g. [\"wheel\", \"!svc-*\"]: "
		   "fnmatch patterns on the user's GROUP names;\n"
		   "                          # user applies if in a group "
		   "matching a positive pattern (or there are\n"
		   "                          # no positive patterns) and in no "
		   "group matching a \"!\" pattern.\n"
		   "debug = false;\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
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
test_full_values(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;

	write_conf(st,
		   "provider = \"baxverify\";\n"
		   "baxverify = {\n"
		   "  api_url = \"https://verify.example.test/api/v2\";\n"
		   "  project_id = \"proj_xyz\";\n"
		   "  api_key = \"sk_live_abc\";\n"
		   "  purpose = \"SSH_LOGIN\";\n"
		   "  validate_token = false;\n"
		   "};\n"
		   "http = {\n"
		   "  ca_file = \"/etc/ssl/certs/test-ca.pem\";\n"
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
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(bax(c)->api_url,
			    "https://verify.example.test/api/v2");
	assert_string_equal(bax(c)->project_id, "proj_xyz");
	assert_string_equal(bax(c)->api_key, "sk_live_abc");
	assert_string_equal(bax(c)->purpose, "SSH_LOGIN");
	assert_false(bax(c)->validate_token);
	assert_string_equal(c->http.ca_file, "/etc/ssl/certs/test-ca.pem");
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
test_groups_list_form(void **state)
{
	struct conf_state *st = *state;

	/* A libconfig list ( ) works as well as an array [ ]. */
	write_conf(st,
		   "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		   "groups = (\"admins\", \"!contractors\", \"ops-*\");\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_non_null(st->cfg.groups);
	assert_string_equal(st->cfg.groups[0], "admins");
	assert_string_equal(st->cfg.groups[1], "!contractors");
	assert_string_equal(st->cfg.groups[2], "ops-*");
	assert_null(st->cfg.groups[3]);
}

static void
test_api_url_trailing_slash(void **state)
{
	struct conf_state *st = *state;

	write_conf(st,
		   "baxverify = {\n"
		   "  api_url = \"https://api.baxcloud.tech/v1/\";\n"
		   "  project_id = \"p\";\n"
		   "  api_key = \"k\";\n"
		   "};\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(bax(&st->cfg)->api_url,
			    "https://api.baxcloud.tech/v1");

	write_conf(st,
		   "baxverify = {\n"
		   "  api_url = \"https://api.baxcloud.tech/v1///\";\n"
		   "  project_id = \"p\";\n"
		   "  api_key = \"k\";\n"
		   "};\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(bax(&st->cfg)->api_url,
			    "https://api.baxcloud.tech/v1");
}

static void
test_connect_timeout_clamped(void **state)
{
	struct conf_state *st = *state;

	/* The whole-request deadline bounds the connect phase. */
	write_conf(st,
		   "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		   "http = { connect_timeout = 30; timeout = 10; };\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_int_equal(st->cfg.http.timeout, 10);
	assert_true(st->cfg.http.connect_timeout <= st->cfg.http.timeout);
}

static void
test_range_edges_ok(void **state)
{
	struct conf_state *st = *state;

	write_conf(st,
		   "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		   "http = { connect_timeout = 1; timeout = 120; };\n"
		   "max_tries = 10;\n"
		   "max_sends = 1;\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_int_equal(st->cfg.http.connect_timeout, 1);
	assert_int_equal(st->cfg.http.timeout, 120);
	assert_int_equal(st->cfg.max_tries, 10);
	assert_int_equal(st->cfg.max_sends, 1);
}

static void
test_cfg_load_file(void **state)
{
	struct conf_state *st = *state;

	write_conf(st, minimal_conf, 0600);
	assert_int_equal(cfg_load_file(&st->cfg, st->conf, provider_catalog(),
				       &st->log), BV_OK);
	assert_string_equal(bax(&st->cfg)->api_key, "sk_test_123");
	assert_string_equal(st->cfg.path, st->conf);
}

/* --- what the file must not contain ----------------------------------- */

static void
test_unknown_top_level_key(void **state)
{
	struct conf_state *st = *state;
	char want[PATH_BUF + 64];

	write_conf(st,
		   "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		   "\n"
		   "max_trys = 3;\n",
		   0600);
	assert_int_equal(load(st), BV_CONFIG);
	snprintf(want, sizeof(want), "%s:3: unknown key \"max_trys\"",
		 st->conf);
	assert_non_null(strstr(st->captured, want));
}

static void
test_unknown_key_in_group(void **state)
{
	struct conf_state *st = *state;
	char want[PATH_BUF + 64];

	write_conf(st,
		   "baxverify = {\n"
		   "  project_id = \"p\";\n"
		   "  api_key = \"k\";\n"
		   "  validate_tokens = false;\n"
		   "};\n",
		   0600);
	assert_int_equal(load(st), BV_CONFIG);
	snprintf(want, sizeof(want),
		 "%s:4: unknown key \"baxverify.validate_tokens\"", st->conf);
	assert_non_null(strstr(st->captured, want));
}

static void
test_unknown_group(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "htpp = { timeout = 10; };\n");
}

static void
test_nested_group(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\";\n"
			    "  extra = { a = 1; }; };\n");
}

static void
test_unknown_empty_group(void **state)
{
	struct conf_state *st = *state;

	/* A group that holds nothing is still a key nobody knows. */
	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "bogus = {};\n");
	assert_non_null(strstr(st->captured, "bogus"));
}

static void
test_scalar_key_as_group(void **state)
{
	struct conf_state *st = *state;

	/* max_tries written as a group is a wrong type, not the default. */
	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "max_tries = {};\n");
	assert_non_null(strstr(st->captured, "max_tries"));
}

static void
test_consume_token_not_a_file_key(void **state)
{
	/* consume_token is a module argument only. */
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "consume_token = true;\n");
}

static void
test_wrong_type_string_for_int(void **state)
{
	struct conf_state *st = *state;
	char want[PATH_BUF + 64];

	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "max_tries = \"3\";\n");
	snprintf(want, sizeof(want), "%s:2: invalid value for \"max_tries\"",
		 st->conf);
	assert_non_null(strstr(st->captured, want));
}

static void
test_wrong_type_float_for_int(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "max_tries = 3.0;\n");
}

static void
test_wrong_type_string_for_bool(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "nullok = \"false\";\n");
}

static void
test_wrong_type_int_for_bool(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "nullok = 0;\n");
}

static void
test_wrong_type_int_for_string(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "prompt = 5;\n");
}

static void
test_wrong_type_groups_string(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "groups = \"wheel\";\n");
}

static void
test_groups_bad_elements(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "groups = [1, 2];\n");
	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "groups = [\"wheel\", \"\"];\n");
	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "groups = [\"!\"];\n");
}

static void
test_max_tries_zero(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "max_tries = 0;\n");
}

static void
test_max_tries_too_large(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "max_tries = 11;\n");
}

static void
test_max_sends_out_of_range(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "max_sends = 0;\n");
	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "max_sends = 6;\n");
}

static void
test_http_timeout_too_large(void **state)
{
	struct conf_state *st = *state;
	char want[PATH_BUF + 64];

	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "http = {\n"
			    "  timeout = 1000;\n"
			    "};\n");
	snprintf(want, sizeof(want), "%s:3: invalid value for \"http.timeout\"",
		 st->conf);
	assert_non_null(strstr(st->captured, want));
}

static void
test_http_timeouts_negative(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "http = { timeout = -1; };\n");
	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "http = { connect_timeout = 0; };\n");
}

static void
test_http_api_url(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    "baxverify = { api_url = \"http://api.baxcloud.tech/v1\";\n"
			    "  project_id = \"p\"; api_key = \"k\"; };\n");
	assert_non_null(strstr(st->captured, "baxverify.api_url"));
	expect_config_error(st,
			    "baxverify = { api_url = \"https://\";\n"
			    "  project_id = \"p\"; api_key = \"k\"; };\n");
	expect_config_error(st,
			    "baxverify = { api_url = \"api.baxcloud.tech/v1\";\n"
			    "  project_id = \"p\"; api_key = \"k\"; };\n");
	expect_config_error(st,
			    "baxverify = { api_url = \"https://a b/v1\";\n"
			    "  project_id = \"p\"; api_key = \"k\"; };\n");
}

static void
test_relative_ca_file(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "http = { ca_file = \"certs/ca.pem\"; };\n");
	assert_non_null(strstr(st->captured, "http.ca_file"));
}

static void
test_relative_phones_file(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "phones = { file = \"baxverify.phones\"; };\n");
}

static void
test_failmode_open(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "failmode = \"open\";\n");
	assert_non_null(strstr(st->captured, "failmode"));
}

static void
test_failmode_bool(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "failmode = true;\n");
}

static void
test_provider_unknown(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    "provider = \"nope\";\n"
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n");
	assert_non_null(strstr(st->captured, "nope"));
}

static void
test_purpose_not_a_word(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\";\n"
			    "  purpose = \"LOG IN\"; };\n");
}

static void
test_prompt_empty(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "prompt = \"\";\n");
}

static void
test_prompt_control_chars(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "prompt = \"Code:\\n\";\n");
}

static void
test_prompt_too_long(void **state)
{
	struct conf_state *st = *state;
	char text[512];
	char prompt[202];

	memset(prompt, 'x', sizeof(prompt) - 1);
	prompt[sizeof(prompt) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		 "prompt = \"%s\";\n",
		 prompt);
	expect_config_error(st, text);
}

static void
test_both_key_and_key_file(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->key, "sk_from_file\n", 0600);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key = \"k\";\n"
		 "  api_key_file = \"%s\"; };\n",
		 st->key);
	expect_config_error(st, text);
	assert_non_null(strstr(st->captured, "exactly one"));
}

static void
test_neither_key_nor_key_file(void **state)
{
	expect_config_error(*state, "baxverify = { project_id = \"p\"; };\n");
}

static void
test_empty_api_key(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"\"; };\n");
}

static void
test_missing_project_id(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st, "baxverify = { api_key = \"k\"; };\n");
	assert_non_null(strstr(st->captured, "project_id"));
}

static void
test_empty_file(void **state)
{
	/* Nothing set: no project, no key. */
	expect_config_error(*state, "");
}

static void
test_syntax_error(void **state)
{
	struct conf_state *st = *state;
	char want[PATH_BUF + 16];

	expect_config_error(st,
			    "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
			    "max_tries = 3\n"
			    "nullok = ;\n");
	snprintf(want, sizeof(want), "%s:", st->conf);
	assert_non_null(strstr(st->captured, want));
	assert_non_null(strstr(st->captured, "syntax error"));
}

static void
test_syntax_error_unclosed(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\"; api_key = \"k\";\n");
}

static void
test_include_line(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->extra, "max_tries = 7;\n", 0666);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		 "@include \"%s\"\n",
		 st->extra);
	expect_config_error(st, text);
	assert_non_null(strstr(st->captured, "@include"));
}

static void
test_include_first_line(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->extra, "max_tries = 7;\n", 0666);
	snprintf(text, sizeof(text),
		 "@include \"%s\"\n"
		 "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n",
		 st->extra);
	expect_config_error(st, text);
}

static void
test_include_indented(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	/*
	 * libconfig takes "@include" after leading blanks too; the included
	 * file (world-writable here) must not get past the ownership checks.
	 */
	write_file(st->extra, "max_tries = 7;\n", 0666);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		 "  @include \"%s\"\n",
		 st->extra);
	expect_config_error(st, text);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		 "\t@include \"%s\"\n",
		 st->extra);
	expect_config_error(st, text);
}

/* --- who may own and read the files ----------------------------------- */

static void
test_api_key_conf_0640(void **state)
{
	struct conf_state *st = *state;

	write_conf(st, minimal_conf, 0640);
	assert_int_equal(load(st), BV_CONFIG);
	assert_non_null(strstr(st->captured, st->conf));
	assert_non_null(strstr(st->captured, "group/world accessible"));
}

static void
test_api_key_conf_0604(void **state)
{
	struct conf_state *st = *state;

	write_conf(st, minimal_conf, 0604);
	assert_int_equal(load(st), BV_CONFIG);
	assert_non_null(strstr(st->captured, "group/world accessible"));
}

static void
test_conf_group_writable(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	/* Without a key in it, the file may be readable, never writable. */
	write_file(st->key, "sk_from_file\n", 0600);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n",
		 st->key);
	write_conf(st, text, 0664);
	assert_int_equal(load(st), BV_CONFIG);
	assert_non_null(strstr(st->captured, "writable"));
}

static void
test_conf_not_owned(void **state)
{
	struct conf_state *st = *state;

	if (geteuid() != 0)
		skip();
	write_conf(st, minimal_conf, 0600);
	assert_int_equal(chown(st->conf, 65534, 65534), 0);
	assert_int_equal(load(st), BV_CONFIG);
	assert_non_null(strstr(st->captured, "not owned by root"));
}

static void
test_key_file_ok(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->key, "sk_from_file\n", 0600);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n",
		 st->key);
	/* No secret in the config itself: it may be world-readable. */
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(bax(&st->cfg)->api_key_file, st->key);
	assert_non_null(bax(&st->cfg)->api_key);
	assert_string_equal(bax(&st->cfg)->api_key, "sk_from_file");
}

static void
test_key_file_crlf_trimmed(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->key, "sk_from_file \r\n", 0400);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n",
		 st->key);
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(bax(&st->cfg)->api_key, "sk_from_file");
}

static void
test_key_file_0644(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->key, "sk_from_file\n", 0644);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n",
		 st->key);
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_CONFIG);
	assert_non_null(strstr(st->captured, st->key));
	assert_non_null(strstr(st->captured, "group/world accessible"));
}

static void
test_key_file_empty(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->key, "\n", 0600);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n",
		 st->key);
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_CONFIG);
}

static void
test_key_file_missing(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n",
		 st->key);
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_CONFIG);
}

static void
test_key_file_symlink(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->extra, "sk_from_file\n", 0600);
	assert_int_equal(symlink(st->extra, st->key), 0);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n",
		 st->key);
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_CONFIG);
}

static void
test_key_file_relative(void **state)
{
	expect_config_error(*state,
			    "baxverify = { project_id = \"p\";\n"
			    "  api_key_file = \"baxverify.key\"; };\n");
}

static void
test_missing_conf(void **state)
{
	struct conf_state *st = *state;

	assert_int_equal(load(st), BV_CONFIG);
	assert_non_null(strstr(st->captured, st->conf));
}

static void
test_relative_conf(void **state)
{
	struct conf_state *st = *state;
	const char *argv[] = { "conf=baxverify.conf" };

	write_conf(st, minimal_conf, 0600);
	assert_int_equal(chdir(st->dir), 0);
	assert_int_equal(cfg_load(&st->cfg, 1, argv, provider_catalog(),
				  &st->log), BV_CONFIG);
	assert_int_equal(chdir("/"), 0);
}

static void
test_conf_symlink(void **state)
{
	struct conf_state *st = *state;
	char arg[PATH_BUF + 8];
	const char *argv[1];

	write_conf(st, minimal_conf, 0600);
	assert_int_equal(symlink(st->conf, st->extra), 0);
	snprintf(arg, sizeof(arg), "conf=%s", st->extra);
	argv[0] = arg;
	assert_int_equal(cfg_load(&st->cfg, 1, argv, provider_catalog(),
				  &st->log), BV_CONFIG);
}

/* --- providers: the list ------------------------------------------------ */

/* The captured log must mention what. */
static void
assert_logged(const struct conf_state *st, const char *what)
{
	if (strstr(st->captured, what) == NULL)
		fail_msg("expected \"%s\" in the log, got \"%s\"", what,
			 st->captured);
}

/* The smallest tryvox group cfg_load accepts. */
#define TRYVOX_MIN "tryvox = { tenant_id = \"ten_1\"; api_key = \"tk_1\"; };\n"
#define BAX_MIN "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
#define MUD_MIN "mudbase = { project_id = \"mud_1\"; };\n"
/* A tryvox provider whose group is left open for one more key. */
#define TVX_OPEN                \
	"provider = \"tryvox\";\n" \
	"tryvox = { tenant_id = \"t\"; api_key = \"k\";\n"

static void
test_provider_string(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;

	/* Only tryvox is used: the baxverify group need not exist. */
	write_conf(st, "provider = \"tryvox\";\n" TRYVOX_MIN, 0600);
	assert_int_equal(load(st), BV_OK);
	assert_non_null(c->providers);
	assert_string_equal(c->providers[0], "tryvox");
	assert_null(c->providers[1]);
	assert_string_equal(tvx(c)->tenant_id, "ten_1");
	assert_string_equal(tvx(c)->api_key, "tk_1");
	assert_string_equal(st->captured, "");
}

static void
test_provider_list(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;

	write_conf(st, "provider = [\"baxverify\", \"tryvox\"];\n" BAX_MIN
		       TRYVOX_MIN,
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(c->providers[0], "baxverify");
	assert_string_equal(c->providers[1], "tryvox");
	assert_null(c->providers[2]);
	assert_string_equal(bax(c)->api_key, "k");
	assert_string_equal(tvx(c)->api_key, "tk_1");
}

static void
test_provider_list_order_kept(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;

	/* Failover order is the file's order; a ( ) list works too. */
	write_conf(st, "provider = (\"mudbase\", \"tryvox\", \"baxverify\");\n"
		       BAX_MIN TRYVOX_MIN MUD_MIN,
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(c->providers[0], "mudbase");
	assert_string_equal(c->providers[1], "tryvox");
	assert_string_equal(c->providers[2], "baxverify");
	assert_null(c->providers[3]);
}

static void
test_provider_list_unknown(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st, "provider = [\"baxverify\", \"nope\"];\n"
				BAX_MIN);
	assert_logged(st, "unknown provider \"nope\"");
}

static void
test_provider_list_bad_elements(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st, "provider = [\"baxverify\", \"\"];\n" BAX_MIN);
	assert_logged(st, "provider");
	expect_config_error(st, "provider = [\"bax verify\"];\n" BAX_MIN);
	expect_config_error(st, "provider = [1];\n" BAX_MIN);
	expect_config_error(st, "provider = 1;\n" BAX_MIN);
	expect_config_error(st, "provider = true;\n" BAX_MIN);
}

static void
test_provider_duplicate(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    "provider = [\"baxverify\", \"tryvox\", "
			    "\"baxverify\"];\n" BAX_MIN TRYVOX_MIN);
	assert_logged(st, "\"baxverify\" is listed twice");
}

static void
test_provider_empty_list(void **state)
{
	struct conf_state *st = *state;

	/* An empty list is not "the default provider": it is a mistake. */
	expect_config_error(st, "provider = [];\n" BAX_MIN);
	assert_logged(st, "provider lists no provider");
	expect_config_error(st, "provider = ();\n" BAX_MIN);
	assert_logged(st, "provider lists no provider");
}

static void
test_cfg_provider_conf(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;
	const struct bv_provider_info *const *all = provider_catalog();
	size_t i;

	write_conf(st, minimal_conf, 0600);
	assert_int_equal(load(st), BV_OK);
	/* Every provider of the build has its group, listed or not. */
	for (i = 0; all[i] != NULL; i++)
		assert_non_null(cfg_provider_conf(c, all[i]));
	assert_null(cfg_provider_conf(c, NULL));
}

/* --- tryvox ------------------------------------------------------------- */

static void
test_tryvox_defaults(void **state)
{
	struct conf_state *st = *state;
	const struct tryvox_config *t;

	write_conf(st, "provider = \"tryvox\";\n" TRYVOX_MIN, 0600);
	assert_int_equal(load(st), BV_OK);
	t = tvx(&st->cfg);
	assert_string_equal(t->api_url, "https://api.tryvox.io");
	assert_int_equal(t->channel, BV_CHANNEL_SMS);
	assert_string_equal(t->app_name, "pam_baxverify");
	assert_int_equal(t->code_length, 6);
	assert_false(t->validate_token);
	assert_null(t->api_key_file);
}

static void
test_tryvox_full_values(void **state)
{
	struct conf_state *st = *state;
	const struct tryvox_config *t;

	write_conf(st,
		   "provider = \"tryvox\";\n"
		   "tryvox = {\n"
		   "  api_url = \"https://tryvox.example.test/v1/\";\n"
		   "  api_key = \"tk_live\";\n"
		   "  tenant_id = \"ten_9\";\n"
		   "  channel = \"whatsapp\";\n"
		   "  app_name = \"Example Corp\";\n"
		   "  code_length = 8;\n"
		   "  validate_token = true;\n"
		   "};\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	t = tvx(&st->cfg);
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
test_tryvox_requires_tenant_id(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st, "provider = \"tryvox\";\n"
				"tryvox = { api_key = \"tk\"; };\n");
	assert_logged(st, "tryvox.tenant_id is not set");
	expect_config_error(st, "provider = \"tryvox\";\n"
				"tryvox = { tenant_id = \"\";\n"
				"  api_key = \"tk\"; };\n");
	assert_logged(st, "tryvox.tenant_id");
}

static void
test_tryvox_key_exactly_one(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	/* Neither. */
	expect_config_error(st, "provider = \"tryvox\";\n"
				"tryvox = { tenant_id = \"t\"; };\n");
	assert_logged(st, "exactly one of tryvox.api_key and "
			  "tryvox.api_key_file");
	/* Both. */
	write_file(st->key, "tk_from_file\n", 0600);
	snprintf(text, sizeof(text),
		 "provider = \"tryvox\";\n"
		 "tryvox = { tenant_id = \"t\"; api_key = \"tk\";\n"
		 "  api_key_file = \"%s\"; };\n",
		 st->key);
	expect_config_error(st, text);
	assert_logged(st, "exactly one of tryvox.api_key and "
			  "tryvox.api_key_file");
	/* An empty key is no key. */
	expect_config_error(st, "provider = \"tryvox\";\n"
				"tryvox = { tenant_id = \"t\";\n"
				"  api_key = \"\"; };\n");
}

static void
test_tryvox_code_length_range(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st, TVX_OPEN "  code_length = 3; };\n");
	assert_logged(st, "invalid value for \"tryvox.code_length\"");
	expect_config_error(st, TVX_OPEN "  code_length = 9; };\n");
	assert_logged(st, "invalid value for \"tryvox.code_length\"");
	expect_config_error(st, TVX_OPEN "  code_length = \"6\"; };\n");

	write_conf(st, TVX_OPEN
		       "  code_length = 4; };\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_int_equal(tvx(&st->cfg)->code_length, 4);
	write_conf(st, TVX_OPEN
		       "  code_length = 8; };\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_int_equal(tvx(&st->cfg)->code_length, 8);
}

static void
test_tryvox_channel(void **state)
{
	struct conf_state *st = *state;
	static const char *const ok[] = { "sms", "voice", "whatsapp", "email",
					  NULL };
	char text[256];
	size_t i;

	expect_config_error(st, TVX_OPEN "  channel = \"fax\"; };\n");
	assert_logged(st, "invalid value for \"tryvox.channel\"");
	expect_config_error(st, TVX_OPEN "  channel = \"SMS\"; };\n");
	for (i = 0; ok[i] != NULL; i++) {
		snprintf(text, sizeof(text),
			 TVX_OPEN "  channel = \"%s\"; };\n", ok[i]);
		write_conf(st, text, 0600);
		assert_int_equal(load(st), BV_OK);
		assert_string_equal(channel_name(tvx(&st->cfg)->channel), ok[i]);
	}
}

static void
test_tryvox_api_url_https_only(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st,
			    TVX_OPEN "  api_url = \"http://api.tryvox.io\"; };\n");
	assert_logged(st, "tryvox.api_url");
}

static void
test_tryvox_api_key_conf_0640(void **state)
{
	struct conf_state *st = *state;

	write_conf(st, "provider = \"tryvox\";\n" TRYVOX_MIN, 0640);
	assert_int_equal(load(st), BV_CONFIG);
	assert_logged(st, st->conf);
	assert_logged(st, "group/world accessible");
}

static void
test_tryvox_api_key_unlisted_still_secret(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	/*
	 * A key in the file is a secret whether or not tryvox is used: the
	 * same file without the tryvox group would load at 0644.
	 */
	write_file(st->key, "sk_from_file\n", 0600);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n"
		 "%s",
		 st->key, TRYVOX_MIN);
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_CONFIG);
	assert_logged(st, "group/world accessible");
	write_conf(st, text, 0600);
	assert_int_equal(load(st), BV_OK);
}

static void
test_tryvox_key_file_loaded(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->key, "tk_from_file\n", 0600);
	snprintf(text, sizeof(text),
		 "provider = \"tryvox\";\n"
		 "tryvox = { tenant_id = \"t\"; api_key_file = \"%s\"; };\n",
		 st->key);
	/* No secret in the config itself: it may be world-readable. */
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(tvx(&st->cfg)->api_key_file, st->key);
	assert_non_null(tvx(&st->cfg)->api_key);
	assert_string_equal(tvx(&st->cfg)->api_key, "tk_from_file");
	/* The other groups' keys are untouched. */
	assert_null(bax(&st->cfg)->api_key);
}

static void
test_tryvox_key_file_0644(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	write_file(st->key, "tk_from_file\n", 0644);
	snprintf(text, sizeof(text),
		 "provider = \"tryvox\";\n"
		 "tryvox = { tenant_id = \"t\"; api_key_file = \"%s\"; };\n",
		 st->key);
	write_conf(st, text, 0644);
	assert_int_equal(load(st), BV_CONFIG);
	assert_logged(st, st->key);
	assert_logged(st, "group/world accessible");
}

static void
test_tryvox_unknown_key(void **state)
{
	struct conf_state *st = *state;
	char want[PATH_BUF + 64];

	/* project_id is baxverify's and mudbase's, not tryvox's. */
	expect_config_error(st, TVX_OPEN "  project_id = \"p\"; };\n");
	snprintf(want, sizeof(want), "%s:3: unknown key \"tryvox.project_id\"",
		 st->conf);
	assert_logged(st, want);
}

/* --- mudbase ------------------------------------------------------------ */

static void
test_mudbase_defaults(void **state)
{
	struct conf_state *st = *state;
	const struct mudbase_config *m;

	/* No API key anywhere: the file may be world-readable. */
	write_conf(st, "provider = \"mudbase\";\n" MUD_MIN, 0644);
	assert_int_equal(load(st), BV_OK);
	m = mud(&st->cfg);
	assert_string_equal(st->cfg.providers[0], "mudbase");
	assert_null(st->cfg.providers[1]);
	assert_string_equal(m->project_id, "mud_1");
	assert_string_equal(m->api_url, "https://cloud.mudbase.dev");
	assert_int_equal(m->channel, BV_CHANNEL_SMS);
	assert_string_equal(st->captured, "");
}

static void
test_mudbase_values(void **state)
{
	struct conf_state *st = *state;
	const struct mudbase_config *m;

	write_conf(st,
		   "provider = \"mudbase\";\n"
		   "mudbase = { api_url = \"https://mud.example.test/\";\n"
		   "  project_id = \"mud_2\"; method = \"email\"; };\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	m = mud(&st->cfg);
	assert_string_equal(m->api_url, "https://mud.example.test");
	assert_string_equal(m->project_id, "mud_2");
	assert_int_equal(m->channel, BV_CHANNEL_EMAIL);
}

static void
test_mudbase_requires_project_id(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st, "provider = \"mudbase\";\n"
				"mudbase = { method = \"sms\"; };\n");
	assert_logged(st, "mudbase.project_id is not set");
	/* No group at all. */
	expect_config_error(st, "provider = \"mudbase\";\n");
	assert_logged(st, "mudbase.project_id is not set");
}

static void
test_mudbase_api_key_unknown(void **state)
{
	struct conf_state *st = *state;
	char want[PATH_BUF + 64];

	/* The endpoints are public: a key here is a misunderstanding. */
	expect_config_error(st, "provider = \"mudbase\";\n"
				"mudbase = {\n"
				"  project_id = \"m\";\n"
				"  api_key = \"k\";\n"
				"};\n");
	snprintf(want, sizeof(want), "%s:4: unknown key \"mudbase.api_key\"",
		 st->conf);
	assert_logged(st, want);
	expect_config_error(st, "provider = \"mudbase\";\n"
				"mudbase = { project_id = \"m\";\n"
				"  api_key_file = \"/etc/k\"; };\n");
	assert_logged(st, "unknown key \"mudbase.api_key_file\"");
	/* "channel" is tryvox's word; mudbase says "method". */
	expect_config_error(st, "provider = \"mudbase\";\n"
				"mudbase = { project_id = \"m\";\n"
				"  channel = \"sms\"; };\n");
	assert_logged(st, "unknown key \"mudbase.channel\"");
}

static void
test_mudbase_method_voice(void **state)
{
	struct conf_state *st = *state;

	/* A channel word, but not one Mudbase can send by. */
	expect_config_error(st, "provider = \"mudbase\";\n"
				"mudbase = { project_id = \"m\";\n"
				"  method = \"voice\"; };\n");
	assert_logged(st, "mudbase cannot send by \"voice\"");
	expect_config_error(st, "provider = \"mudbase\";\n"
				"mudbase = { project_id = \"m\";\n"
				"  method = \"whatsapp\"; };\n");
	assert_logged(st, "mudbase cannot send by \"whatsapp\"");
	/* Not a channel at all. */
	expect_config_error(st, "provider = \"mudbase\";\n"
				"mudbase = { project_id = \"m\";\n"
				"  method = \"fax\"; };\n");
	assert_logged(st, "invalid value for \"mudbase.method\"");
}

/* --- channels ----------------------------------------------------------- */

static void
test_channels_valid(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;

	write_conf(st, "provider = [\"baxverify\", \"tryvox\"];\n" BAX_MIN
		       TRYVOX_MIN
		       "channels = [\"sms\", \"voice\", \"whatsapp\", "
		       "\"email\"];\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_int_equal(c->nchannels, 4);
	assert_int_equal(c->channels[0], BV_CHANNEL_SMS);
	assert_int_equal(c->channels[1], BV_CHANNEL_VOICE);
	assert_int_equal(c->channels[2], BV_CHANNEL_WHATSAPP);
	assert_int_equal(c->channels[3], BV_CHANNEL_EMAIL);

	/* Mudbase serves email. */
	write_conf(st, "provider = [\"baxverify\", \"mudbase\"];\n" BAX_MIN
		       MUD_MIN "channels = [\"email\", \"sms\"];\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_int_equal(c->nchannels, 2);
	assert_int_equal(c->channels[0], BV_CHANNEL_EMAIL);
	assert_int_equal(c->channels[1], BV_CHANNEL_SMS);
}

static void
test_channels_fax(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st, BAX_MIN "channels = [\"sms\", \"fax\"];\n");
	assert_logged(st, "invalid value for \"channels\"");
	expect_config_error(st, BAX_MIN "channels = [\"sms\", \"\"];\n");
	expect_config_error(st, BAX_MIN "channels = [1];\n");
}

static void
test_channels_unserved(void **state)
{
	struct conf_state *st = *state;

	expect_config_error(st, "provider = [\"baxverify\", \"mudbase\"];\n"
				BAX_MIN MUD_MIN
				"channels = [\"sms\", \"voice\"];\n");
	assert_logged(st, "channel \"voice\" is offered but no configured "
			  "provider sends by it");
	/* BaxVerify alone sends SMS only. */
	expect_config_error(st, BAX_MIN "channels = [\"email\"];\n");
	assert_logged(st, "channel \"email\" is offered but no configured "
			  "provider sends by it");
}

static void
test_channels_unlisted_provider_serves_nothing(void **state)
{
	struct conf_state *st = *state;

	/* Tryvox's group is there, but tryvox is not a provider here. */
	expect_config_error(st, "provider = \"baxverify\";\n" BAX_MIN
				TRYVOX_MIN "channels = [\"voice\"];\n");
	assert_logged(st, "channel \"voice\" is offered but no configured "
			  "provider sends by it");
}

static void
test_channels_empty_list(void **state)
{
	struct conf_state *st = *state;

	/*
	 * An empty menu leaves no user anywhere to send a code, which nullok
	 * would wave through: refuse it, like an empty provider list.
	 */
	expect_config_error(st, BAX_MIN "channels = [];\n");
	assert_logged(st, "channels");
}

/* --- groups of providers that are not used ------------------------------ */

static void
test_unlisted_groups_not_required(void **state)
{
	struct conf_state *st = *state;
	const struct bv_config *c = &st->cfg;

	/*
	 * Groups kept for later (no tenant_id, no key, no project_id): not an
	 * error while their provider is not listed.
	 */
	write_conf(st, BAX_MIN
		       "tryvox = { channel = \"voice\"; code_length = 4; };\n"
		       "mudbase = { method = \"email\"; };\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_string_equal(c->providers[0], "baxverify");
	assert_null(c->providers[1]);
	assert_null(tvx(c)->tenant_id);
	assert_null(tvx(c)->api_key);
	assert_int_equal(tvx(c)->channel, BV_CHANNEL_VOICE);
	assert_null(mud(c)->project_id);
	assert_int_equal(mud(c)->channel, BV_CHANNEL_EMAIL);
	assert_string_equal(st->captured, "");

	/* Empty groups too. */
	write_conf(st, BAX_MIN "tryvox = {};\nmudbase = {};\n", 0600);
	assert_int_equal(load(st), BV_OK);

	/* And the baxverify group when only tryvox is used. */
	write_conf(st, "provider = \"tryvox\";\n" TRYVOX_MIN
		       "baxverify = { purpose = \"SUDO\"; };\n",
		   0600);
	assert_int_equal(load(st), BV_OK);
	assert_null(bax(c)->project_id);
}

static void
test_unlisted_groups_values_checked(void **state)
{
	struct conf_state *st = *state;

	/* A value that is wrong in itself is wrong whoever uses it. */
	expect_config_error(st, BAX_MIN "tryvox = { code_length = 9; };\n");
	assert_logged(st, "tryvox.code_length");
	expect_config_error(st, BAX_MIN "tryvox = { channel = \"fax\"; };\n");
	assert_logged(st, "tryvox.channel");
	expect_config_error(st, BAX_MIN "mudbase = { api_key = \"k\"; };\n");
	assert_logged(st, "unknown key \"mudbase.api_key\"");
}

/* --- module arguments ------------------------------------------------- */

static void
test_args_override(void **state)
{
	struct conf_state *st = *state;
	static const char *const args[] = { "failmode=safe", "nullok", "debug",
					    "purpose=SUDO", "consume_token",
					    NULL };

	write_conf(st,
		   "baxverify = { project_id = \"p\"; api_key = \"k\";\n"
		   "  purpose = \"LOGIN\"; };\n"
		   "failmode = \"secure\";\n"
		   "nullok = false;\n"
		   "debug = false;\n",
		   0600);
	assert_int_equal(load_args(st, args), BV_OK);
	assert_int_equal(st->cfg.failmode, BV_FAILMODE_SAFE);
	assert_true(st->cfg.nullok);
	assert_true(st->cfg.debug);
	assert_string_equal(bax(&st->cfg)->purpose, "SUDO");
	assert_true(st->cfg.consume_token);
}

static void
test_args_failmode_secure_over_safe(void **state)
{
	struct conf_state *st = *state;
	static const char *const args[] = { "failmode=secure", NULL };

	write_conf(st,
		   "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		   "failmode = \"safe\";\n",
		   0600);
	assert_int_equal(load_args(st, args), BV_OK);
	assert_int_equal(st->cfg.failmode, BV_FAILMODE_SECURE);
}

static void
test_args_none(void **state)
{
	struct conf_state *st = *state;

	write_conf(st, minimal_conf, 0600);
	assert_int_equal(load_args(st, NULL), BV_OK);
	assert_false(st->cfg.consume_token);
	assert_int_equal(st->cfg.failmode, BV_FAILMODE_SECURE);
}

/* One bad module argument on an otherwise good file. */
static void
expect_bad_arg(struct conf_state *st, const char *arg)
{
	const char *args[2];

	args[0] = arg;
	args[1] = NULL;
	write_conf(st, minimal_conf, 0600);
	assert_int_equal(load_args(st, args), BV_CONFIG);
	assert_non_null(strstr(st->captured, "invalid module argument"));
}

static void
test_arg_unknown(void **state)
{
	struct conf_state *st = *state;

	expect_bad_arg(st, "frobnicate");
	assert_non_null(strstr(st->captured, "frobnicate"));
}

static void
test_arg_failmode_open(void **state)
{
	expect_bad_arg(*state, "failmode=open");
}

static void
test_arg_failmode_bare(void **state)
{
	expect_bad_arg(*state, "failmode");
}

static void
test_arg_purpose_empty(void **state)
{
	expect_bad_arg(*state, "purpose=");
}

static void
test_arg_purpose_not_a_word(void **state)
{
	expect_bad_arg(*state, "purpose=SU DO");
}

static void
test_arg_bool_with_value(void **state)
{
	expect_bad_arg(*state, "nullok=yes");
}

static void
test_arg_file_only_key(void **state)
{
	/* Only the keys the table marks as arguments may be given so. */
	expect_bad_arg(*state, "max_tries=5");
}

static void
test_arg_conf_bare(void **state)
{
	expect_bad_arg(*state, "conf");
}

/* --- files that are not regular: refused, never waited on --------------- */

/* cfg_load of st->conf, in the child of run_guarded. */
static int
load_in_child(void *arg)
{
	struct conf_state *st = arg;
	const char *argv[1] = { st->confarg };
	struct bv_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	return (int)cfg_load(&cfg, 1, argv, provider_catalog(), &st->log);
}

static enum bv_result
load_guarded(struct conf_state *st)
{
	enum bv_result rc;

	rc = (enum bv_result)run_guarded(load_in_child, st, st->errlog);
	read_captured(st);
	return rc;
}

/* A FIFO at the config path: open(2) without O_NONBLOCK waits for a
   writer forever, and every login with it. */
static void
test_conf_fifo(void **state)
{
	struct conf_state *st = *state;

	assert_int_equal(mkfifo(st->conf, 0600), 0);
	assert_int_equal(load_guarded(st), BV_CONFIG);
	assert_non_null(strstr(st->captured, st->conf));
	assert_non_null(strstr(st->captured, "refused: a FIFO, not a "
				"regular file"));
}

static void
test_key_file_fifo(void **state)
{
	struct conf_state *st = *state;
	char text[PATH_BUF + 200];

	assert_int_equal(mkfifo(st->key, 0600), 0);
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key_file = \"%s\"; };\n",
		 st->key);
	write_conf(st, text, 0644);
	assert_int_equal(load_guarded(st), BV_CONFIG);
	assert_non_null(strstr(st->captured, st->key));
	assert_non_null(strstr(st->captured, "a FIFO"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_conf_fifo),
		T(test_key_file_fifo),
		T(test_minimal_defaults),
		T(test_spec_example),
		T(test_full_values),
		T(test_groups_list_form),
		T(test_api_url_trailing_slash),
		T(test_connect_timeout_clamped),
		T(test_range_edges_ok),
		T(test_cfg_load_file),
		T(test_unknown_top_level_key),
		T(test_unknown_key_in_group),
		T(test_unknown_group),
		T(test_nested_group),
		T(test_unknown_empty_group),
		T(test_scalar_key_as_group),
		T(test_consume_token_not_a_file_key),
		T(test_wrong_type_string_for_int),
		T(test_wrong_type_float_for_int),
		T(test_wrong_type_string_for_bool),
		T(test_wrong_type_int_for_bool),
		T(test_wrong_type_int_for_string),
		T(test_wrong_type_groups_string),
		T(test_groups_bad_elements),
		T(test_max_tries_zero),
		T(test_max_tries_too_large),
		T(test_max_sends_out_of_range),
		T(test_http_timeout_too_large),
		T(test_http_timeouts_negative),
		T(test_http_api_url),
		T(test_relative_ca_file),
		T(test_relative_phones_file),
		T(test_failmode_open),
		T(test_failmode_bool),
		T(test_provider_unknown),
		T(test_purpose_not_a_word),
		T(test_prompt_empty),
		T(test_prompt_control_chars),
		T(test_prompt_too_long),
		T(test_both_key_and_key_file),
		T(test_neither_key_nor_key_file),
		T(test_empty_api_key),
		T(test_missing_project_id),
		T(test_empty_file),
		T(test_syntax_error),
		T(test_syntax_error_unclosed),
		T(test_include_line),
		T(test_include_first_line),
		T(test_include_indented),
		T(test_api_key_conf_0640),
		T(test_api_key_conf_0604),
		T(test_conf_group_writable),
		T(test_conf_not_owned),
		T(test_key_file_ok),
		T(test_key_file_crlf_trimmed),
		T(test_key_file_0644),
		T(test_key_file_empty),
		T(test_key_file_missing),
		T(test_key_file_symlink),
		T(test_key_file_relative),
		T(test_missing_conf),
		T(test_relative_conf),
		T(test_conf_symlink),
		T(test_provider_string),
		T(test_provider_list),
		T(test_provider_list_order_kept),
		T(test_provider_list_unknown),
		T(test_provider_list_bad_elements),
		T(test_provider_duplicate),
		T(test_provider_empty_list),
		T(test_cfg_provider_conf),
		T(test_tryvox_defaults),
		T(test_tryvox_full_values),
		T(test_tryvox_requires_tenant_id),
		T(test_tryvox_key_exactly_one),
		T(test_tryvox_code_length_range),
		T(test_tryvox_channel),
		T(test_tryvox_api_url_https_only),
		T(test_tryvox_api_key_conf_0640),
		T(test_tryvox_api_key_unlisted_still_secret),
		T(test_tryvox_key_file_loaded),
		T(test_tryvox_key_file_0644),
		T(test_tryvox_unknown_key),
		T(test_mudbase_defaults),
		T(test_mudbase_values),
		T(test_mudbase_requires_project_id),
		T(test_mudbase_api_key_unknown),
		T(test_mudbase_method_voice),
		T(test_channels_valid),
		T(test_channels_fax),
		T(test_channels_unserved),
		T(test_channels_unlisted_provider_serves_nothing),
		T(test_channels_empty_list),
		T(test_unlisted_groups_not_required),
		T(test_unlisted_groups_values_checked),
		T(test_args_override),
		T(test_args_failmode_secure_over_safe),
		T(test_args_none),
		T(test_arg_unknown),
		T(test_arg_failmode_open),
		T(test_arg_failmode_bare),
		T(test_arg_purpose_empty),
		T(test_arg_purpose_not_a_word),
		T(test_arg_bool_with_value),
		T(test_arg_file_only_key),
		T(test_arg_conf_bare),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
