/*
 * test_catalog.c - channels, and the providers as the rest of the code
 * sees them: the catalog (module-safe descriptors) and the registry
 * (operations) agree, each descriptor's capabilities match its
 * operations, each key table keeps to its own group, and the questions
 * catalog.h answers.
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
#include <unistd.h>

#include "../../src/core/channel.h"
#include "../../src/core/conf.h"
#include "../../src/core/conf_key.h"
#include "../../src/providers/baxverify.h"
#include "../../src/providers/local.h"
#include "../../src/providers/mudbase.h"
#include "../../src/providers/provider.h"
#include "../../src/providers/tryvox.h"

/* --- channels ----------------------------------------------------------- */

static void
test_channel_names(void **state)
{
	static const char *const names[] = {"sms", "voice", "whatsapp",
					    "email"};
	static const char *const labels[] = {"SMS", "voice call", "WhatsApp",
					     "email"};
	enum bv_channel c;
	char quoted[32];
	size_t i;

	(void)state;
	assert_int_equal(BV_CHANNEL_COUNT, 4);
	for (i = 0; i < BV_CHANNEL_COUNT; i++) {
		assert_true(channel_parse(names[i], &c));
		assert_int_equal(c, (enum bv_channel)i);
		assert_string_equal(channel_name(c), names[i]);
		assert_string_equal(channel_label(c), labels[i]);
		/* The hint of an error message names every channel. */
		snprintf(quoted, sizeof(quoted), "\"%s\"", names[i]);
		assert_non_null(strstr(channel_expected(), quoted));
	}
	c = BV_CHANNEL_VOICE;
	assert_false(channel_parse("SMS", &c));
	assert_false(channel_parse("fax", &c));
	assert_false(channel_parse("", &c));
	assert_false(channel_parse("sms ", &c));
	assert_false(channel_parse(NULL, &c));
	assert_int_equal(c, BV_CHANNEL_VOICE); /* untouched */
	/* Out of the enum: never an out-of-bounds read. */
	assert_string_equal(channel_name((enum bv_channel)99), "sms");
}

static void
test_channel_sets(void **state)
{
	unsigned set =
	    BV_CHANNEL_BIT(BV_CHANNEL_VOICE) | BV_CHANNEL_BIT(BV_CHANNEL_EMAIL);

	(void)state;
	assert_true(channel_is_email(BV_CHANNEL_EMAIL));
	assert_false(channel_is_email(BV_CHANNEL_SMS));
	assert_false(channel_is_email(BV_CHANNEL_WHATSAPP));
	assert_true(channel_set_has(set, BV_CHANNEL_VOICE));
	assert_true(channel_set_has(set, BV_CHANNEL_EMAIL));
	assert_false(channel_set_has(set, BV_CHANNEL_SMS));
	assert_false(channel_set_has(BV_CHANNELS_ALL, BV_CHANNEL_COUNT));
	assert_int_equal(channel_set_first(set), BV_CHANNEL_VOICE);
	assert_int_equal(channel_set_first(BV_CHANNELS_ALL), BV_CHANNEL_SMS);
}

/* --- catalog and registry ---------------------------------------------- */

static void
test_catalog_and_registry_agree(void **state)
{
	const struct bv_provider_info *const *cat = provider_catalog();
	const struct bv_provider *const *reg = provider_registry();
	size_t i, j;

	(void)state;
	for (i = 0; cat[i] != NULL; i++) {
		assert_non_null(reg[i]);
		assert_ptr_equal(reg[i]->info, cat[i]);
		assert_ptr_equal(provider_find(cat[i]->name), reg[i]);
		assert_ptr_equal(provider_ops(cat[i]), reg[i]);
		assert_ptr_equal(provider_info_find(cat[i]->name), cat[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(cat[i]->name, cat[j]->name);
	}
	assert_null(reg[i]);
	assert_true(i >= 1);
	assert_ptr_equal(provider_info_default(), cat[0]);
	assert_null(provider_info_find("nope"));
	assert_null(provider_info_find(NULL));
	assert_null(provider_find("BaxVerify"));
	assert_null(provider_ops(NULL));
}

/* What a descriptor says it can do, its operations must do. */
static void
test_capabilities_match_operations(void **state)
{
	const struct bv_provider *const *reg = provider_registry();
	const struct bv_provider *p;
	size_t i;

	(void)state;
	for (i = 0; reg[i] != NULL; i++) {
		p = reg[i];
		assert_non_null(p->send);
		assert_non_null(p->check);
		assert_non_null(p->probe);
		assert_int_equal(provider_can_validate(p->info),
				 p->validate != NULL);
		assert_int_equal(provider_needs_reference(p->info),
				 p->reference != NULL);
		assert_int_equal(p->reference != NULL,
				 p->set_reference != NULL);
		/* Only what validates can spend. */
		if (provider_consumes(p->info))
			assert_true(provider_can_validate(p->info));
		/* A reference lives in the per-login state. */
		if (provider_needs_reference(p->info))
			assert_true(p->state_size > 0);
		if (p->state_clear != NULL)
			assert_true(p->state_size > 0);
		/* Channels: some, all real ones. */
		assert_true(p->info->channels != 0);
		assert_int_equal(p->info->channels & ~BV_CHANNELS_ALL, 0);
		/* Confirming a proof needs a way to validate it. */
		if (p->info->validate_token != NULL)
			assert_true(provider_can_validate(p->info));
	}
}

/* The capabilities the CLI and the module rely on, per provider. */
static void
test_capabilities(void **state)
{
	(void)state;
	assert_true(provider_can_validate(&baxverify_info));
	assert_true(provider_consumes(&baxverify_info));
	assert_false(provider_needs_reference(&baxverify_info));
	assert_true(provider_can_validate(&tryvox_info));
	assert_false(provider_consumes(&tryvox_info));
	assert_true(provider_needs_reference(&tryvox_info));
	assert_false(provider_can_validate(&mudbase_info));
	assert_false(provider_consumes(&mudbase_info));
	assert_true(provider_keeps_user_state(&local_info));
	assert_false(provider_keeps_user_state(&tryvox_info));
	assert_false(provider_can_validate(NULL));
	assert_false(provider_has_channel(NULL, BV_CHANNEL_SMS));
	assert_true(provider_has_channel(&tryvox_info, BV_CHANNEL_WHATSAPP));
	assert_false(provider_has_channel(&mudbase_info, BV_CHANNEL_VOICE));
	assert_true(provider_has_channel(&mudbase_info, BV_CHANNEL_EMAIL));
}

/* The key's name after "group.", or NULL when it is not in group. */
static const char *
in_group(const char *key, const char *group)
{
	size_t n = strlen(group);

	if (strncmp(key, group, n) != 0 || key[n] != '.')
		return NULL;
	return key + n + 1;
}

/*
 * Each provider's table keeps to its own group, fills its own struct,
 * and every secret key has a NAME_file sibling (the message refusing a
 * readable config file says to move the key there).
 */
static void
test_key_tables(void **state)
{
	const struct bv_provider_info *const *cat = provider_catalog();
	const struct bv_provider_info *p;
	const struct cfg_key *k;
	const char *short_name;
	char sibling[128];
	size_t i, j;

	(void)state;
	for (i = 0; cat[i] != NULL; i++) {
		p = cat[i];
		assert_true(p->nkeys == 0 || p->conf_size > 0);
		for (j = 0; j < p->nkeys; j++) {
			k = &p->keys[j];
			assert_non_null(k->name);
			short_name = in_group(k->name, p->name);
			if (short_name == NULL || short_name[0] == '\0')
				fail_msg("%s: key %s outside its group",
					 p->name, k->name);
			assert_true(k->offset < p->conf_size);
			/* The core's own types. */
			assert_true(k->type != CFG_CHANNELS &&
				    k->type != CFG_FAILMODE);
			assert_ptr_equal(
			    cfg_key_find(p->keys, p->nkeys, k->name), k);
			if (k->check == NULL || !k->check->secret)
				continue;
			snprintf(sibling, sizeof(sibling), "%s_file", k->name);
			assert_non_null(
			    cfg_key_find(p->keys, p->nkeys, sibling));
		}
	}
}

/* Defaults: the own channel is one the provider serves. */
static void
test_defaults(void **state)
{
	const struct bv_provider_info *const *cat = provider_catalog();
	const struct bv_provider_info *p;
	void *conf;
	size_t i;

	(void)state;
	for (i = 0; cat[i] != NULL; i++) {
		p = cat[i];
		conf = calloc(1, p->conf_size + 1);
		assert_non_null(conf);
		if (p->defaults != NULL)
			assert_int_equal(p->defaults(conf), BV_OK);
		if (p->own_channel != NULL)
			assert_true(
			    channel_set_has(p->channels, p->own_channel(conf)));
		cfg_key_free_all(conf, p->keys, p->nkeys);
		free(conf);
	}
}

/* --- questions about a loaded configuration ------------------------------ */

struct loaded {
	char dir[64];
	char path[128];
	struct bv_config cfg;
};

static int
setup_loaded(void **state)
{
	struct loaded *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -1;
	snprintf(l->dir, sizeof(l->dir), "/tmp/bv-test-catalog.XXXXXX");
	if (mkdtemp(l->dir) == NULL) {
		free(l);
		return -1;
	}
	snprintf(l->path, sizeof(l->path), "%s/baxverify.conf", l->dir);
	*state = l;
	return 0;
}

static int
teardown_loaded(void **state)
{
	struct loaded *l = *state;

	cfg_free(&l->cfg);
	unlink(l->path);
	rmdir(l->dir);
	free(l);
	return 0;
}

static void
load_text(struct loaded *l, const char *text)
{
	struct bv_log log = {.debug = false};
	size_t len = strlen(text);
	int fd;

	unlink(l->path);
	/* It holds API keys: no group or other access. */
	fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	cfg_free(&l->cfg);
	assert_int_equal(
	    cfg_load_file(&l->cfg, l->path, provider_catalog(), &log), BV_OK);
}

static void
test_loaded_questions(void **state)
{
	struct loaded *l = *state;
	const struct bv_config *c = &l->cfg;

	load_text(l, "provider = [\"baxverify\", \"tryvox\", \"local\"];\n"
		     "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		     "tryvox = { tenant_id = \"t\"; api_key = \"k\";\n"
		     "  channel = \"voice\"; };\n"
		     "local = { command = \"/bin/true\"; timeout = 90; };\n"
		     "mudbase = { method = \"email\"; };\n"
		     "http = { timeout = 20; };\n");
	assert_true(provider_is_listed(c, &tryvox_info));
	assert_false(provider_is_listed(c, &mudbase_info));
	assert_false(provider_is_listed(c, NULL));
	/* Own channels, listed or not; the first served for the others. */
	assert_int_equal(provider_default_channel(c, &tryvox_info),
			 BV_CHANNEL_VOICE);
	assert_int_equal(provider_default_channel(c, &mudbase_info),
			 BV_CHANNEL_EMAIL);
	assert_int_equal(provider_default_channel(c, &baxverify_info),
			 BV_CHANNEL_SMS);
	assert_int_equal(provider_default_channel(c, NULL), BV_CHANNEL_SMS);
	/* validate_token: on by default for BaxVerify, off for Tryvox;
	   never for what cannot validate or has nobody to ask. */
	assert_true(provider_confirms_proof(c, &baxverify_info));
	assert_false(provider_confirms_proof(c, &tryvox_info));
	assert_false(provider_confirms_proof(c, &local_info));
	assert_false(provider_confirms_proof(c, &mudbase_info));
	assert_false(provider_confirms_proof(c, NULL));
	/* The delivery command may run longer than any request. */
	assert_int_equal(provider_longest_timeout(c), 90);

	load_text(l, "provider = \"tryvox\";\n"
		     "tryvox = { tenant_id = \"t\"; api_key = \"k\";\n"
		     "  validate_token = true; };\n"
		     "local = { timeout = 90; };\n"
		     "http = { timeout = 20; };\n");
	assert_true(provider_confirms_proof(c, &tryvox_info));
	/* local.timeout counts only when local is listed. */
	assert_int_equal(provider_longest_timeout(c), 20);
}

/* The helper the module starts: the offline one, beside the configured
   helper, only when every listed provider needs no network. */
static void
test_helper_path(void **state)
{
	struct loaded *l = *state;
	char buf[64];

	load_text(l, "provider = \"local\";\n"
		     "local = { command = \"/bin/true\"; };\n"
		     "helper = \"/opt/bv/libexec/baxverify-helper\";\n");
	assert_true(provider_helper_path(&l->cfg, buf, sizeof(buf)));
	assert_string_equal(buf, "/opt/bv/libexec/baxverify-helper-local");
	/* Too long for buf: the configured helper, and false. */
	assert_false(provider_helper_path(&l->cfg, buf, 34));
	assert_string_equal(buf, "/opt/bv/libexec/baxverify-helper");

	load_text(l, "provider = [\"local\", \"baxverify\"];\n"
		     "local = { command = \"/bin/true\"; };\n"
		     "baxverify = { project_id = \"p\"; api_key = \"k\"; };\n"
		     "helper = \"/opt/bv/libexec/baxverify-helper\";\n");
	assert_true(provider_helper_path(&l->cfg, buf, sizeof(buf)));
	assert_string_equal(buf, "/opt/bv/libexec/baxverify-helper");
	assert_true((local_info.caps & BV_CAP_OFFLINE) != 0);
	assert_true((baxverify_info.caps & BV_CAP_OFFLINE) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_channel_names),
	    cmocka_unit_test(test_channel_sets),
	    cmocka_unit_test(test_catalog_and_registry_agree),
	    cmocka_unit_test(test_capabilities_match_operations),
	    cmocka_unit_test(test_capabilities),
	    cmocka_unit_test(test_key_tables),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test_setup_teardown(test_helper_path, setup_loaded,
					    teardown_loaded),
	    cmocka_unit_test_setup_teardown(test_loaded_questions, setup_loaded,
					    teardown_loaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
