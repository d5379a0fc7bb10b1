/*
 * test_dlopen.c - the built module loads with every symbol resolved and
 * exports the PAM entry points (and, through the version script, nothing
 * else of ours).
 */
#include "config.h"

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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
		"pam_sm_authenticate", "pam_sm_setcred",
		"pam_sm_open_session", "pam_sm_close_session",
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
		"cfg_load", "http_request", "phones_lookup", "bv_log",
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_points),
		cmocka_unit_test(test_internals_hidden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
