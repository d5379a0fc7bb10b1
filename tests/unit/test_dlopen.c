/*
 * test_dlopen.c - the built module loads with every symbol resolved and
 * exports the PAM entry points (and, through the version script, nothing
 * else of ours), and maps no network, TLS or JSON library.
 */
#include "config.h"

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void *
open_module(void)
{
	const char *path = getenv("BV_MODULE");
	void *h;

	assert_non_null(path);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		fail_msg("dlopen: %s", dlerror());
	return h;
}

static void
test_entry_points(void **state)
{
	static const char *const wanted[] = {
	    "pam_sm_authenticate",
	    "pam_sm_setcred",
	    "pam_sm_open_session",
	    "pam_sm_close_session",
	};
	void *h = open_module();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		assert_non_null(dlsym(h, wanted[i]));
	dlclose(h);
}

static void
test_internals_hidden(void **state)
{
	static const char *const hidden[] = {
	    "cfg_load",		  "http_request",  "phones_lookup", "bv_log",
	    "baxverify_provider", "provider_find", "text_sanitize",
	};
	void *h = open_module();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (dlsym(h, hidden[i]) != NULL)
			fail_msg("%s is exported", hidden[i]);
	dlclose(h);
}

/*
 * sudo and sshd load the module on every call, and under sudo and su the
 * caller's environment reaches whatever it maps: no network, TLS or JSON
 * library may come with it (the helper has them).  Nor libcrypt: every
 * user, the skipped ones too, would pay for loading it, and only a
 * recovery code needs it (the helper checks those).
 */
static void
test_no_network_libraries(void **state)
{
	static const char *const banned[] = {
	    "/libcurl",	   "/libcjson", "/libssl", "/libcrypto.", "/libgnutls",
	    "/libnghttp2", "/libldap",	"/libpq",  "/libcrypt.",
	};
	char line[4096];
	void *h = open_module();
	FILE *maps = fopen("/proc/self/maps", "r");
	size_t i;

	(void)state;
	assert_non_null(maps);
	while (fgets(line, sizeof(line), maps) != NULL)
		for (i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
			if (strstr(line, banned[i]) != NULL)
				fail_msg("loading the module mapped %s", line);
	fclose(maps);
	dlclose(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_entry_points),
	    cmocka_unit_test(test_internals_hidden),
	    cmocka_unit_test(test_no_network_libraries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
