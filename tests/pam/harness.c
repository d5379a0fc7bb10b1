/*
 * harness.c - the fixtures and the table-driven main of the pam_wrapper
 * + libpamtest programs, and the environment they share.  The rest of the
 * harness is in one file per concern (harness.h says what each piece
 * promises):
 *   harness_mock.c    the mock's control API, request counting
 *   harness_conf.c    the configuration files
 *   harness_run.c     one PAM transaction (libpamtest, own conversation,
 *                     children)
 *   harness_assert.c  assertions on the user's messages, syslog, requests
 *   harness_leaks.c   the secret-hygiene check of every case
 *   harness_util.c    small helpers
 */

#include "harness.h"
#include "harness_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>

#include <curl/curl.h>

/* ------------------------------------------------------------------ */
/* State shared by the cases: the environment and one transaction.     */

const char *testdir;
const char *mock_url;
const char *ca_file;
const char *syslog_file;
char conf_path[4096];
char phones_path[4096];
char key_path[4096];
char store_path[4096];
char outbox_path[4096];

/* ------------------------------------------------------------------ */
/* Fixtures.                                                           */

int
harness_group_setup(void **state)
{
	(void)state;
	testdir = getenv("BV_TESTDIR");
	mock_url = getenv("BV_MOCK_URL");
	ca_file = getenv("BV_CA_FILE");
	syslog_file = getenv("BV_SYSLOG_FILE");
	if (testdir == NULL || mock_url == NULL || ca_file == NULL ||
	    syslog_file == NULL) {
		print_error("BV_TESTDIR, BV_MOCK_URL, BV_CA_FILE and "
			    "BV_SYSLOG_FILE must be set (run-pam-tests.sh)\n");
		return -1;
	}
	snprintf(conf_path, sizeof(conf_path), "%s/baxverify.conf", testdir);
	snprintf(phones_path, sizeof(phones_path), "%s/baxverify.phones",
		 testdir);
	snprintf(key_path, sizeof(key_path), "%s/baxverify.key", testdir);
	snprintf(store_path, sizeof(store_path), "%s/store", testdir);
	snprintf(outbox_path, sizeof(outbox_path), "%s/outbox", testdir);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	for (size_t i = 0; i < MAX_MSGS; i++) {
		info_buf[i] = calloc(1, PAM_MAX_MSG_SIZE + 1);
		err_buf[i] = calloc(1, PAM_MAX_MSG_SIZE + 1);
		if (info_buf[i] == NULL || err_buf[i] == NULL)
			return -1;
	}
	/* alice: valid; bob: no entry; carol: invalid (line 4); root;
	   dave: phone and email; erin: email only. */
	write_file(phones_path,
		   "# test phones\n"
		   "alice " ALICE_PHONE "\n"
		   "\n"
		   "carol +12\n"
		   "root " ROOT_PHONE "\n"
		   "dave " DAVE_PHONE " " DAVE_EMAIL "\n"
		   "erin " ERIN_EMAIL "\n",
		   0600);
	return 0;
}

int
harness_group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < MAX_MSGS; i++) {
		free(info_buf[i]);
		free(err_buf[i]);
	}
	hygiene_free();
	curl_global_cleanup();
	return 0;
}

/* Remove the local store (its files and the directory); the module
   creates it again, mode 0700, when it needs it. */
static void
empty_store(void)
{
	DIR *d = opendir(store_path);
	struct dirent *e;
	char path[8192];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", store_path, e->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(store_path);
}

int
harness_setup(void **state)
{
	(void)state;
	begin_transaction();
	hygiene_reset();
	add_secret(API_KEY);
	add_secret(TRYVOX_KEY);
	add_secret(CODE);
	write_file(syslog_file, "", 0600);
	empty_store();
	(void)unlink(outbox_path);
	mock_post("/_mock/reset", "{}");
	mock_config("{\"force_code\": \"" CODE "\"}");
	write_default_conf();
	return 0;
}

/* A secret found in syslog, in what the user saw or (for keys and
   refresh tokens) in the PAM environment fails the case. */

/* Per case: the secret-hygiene check (harness_leaks.c); a leak fails the
   case. */
int
harness_teardown(void **state)
{
	bool clean;

	(void)state;
	clean = hygiene_check();
	/* Leave no fault, lockout or send count behind for what follows. */
	empty_store();
	(void)unlink(outbox_path);
	mock_post("/_mock/reset", "{}");
	return clean ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* The table-driven main.                                              */

void
add_case(struct CMUnitTest *all, size_t *n, char *name, CMUnitTestFunction fn,
	 const void *row)
{
	all[*n].name = name;
	all[*n].test_func = fn;
	all[*n].setup_func = harness_setup;
	all[*n].teardown_func = harness_teardown;
	all[*n].initial_state = (void *)(uintptr_t)row; /* cmocka API */
	(*n)++;
}

char *
case_name(const char *fn, const char *a, const char *b)
{
	char buf[256];

	if (b != NULL)
		snprintf(buf, sizeof(buf), "%s(%s, %s)", fn, a, b);
	else
		snprintf(buf, sizeof(buf), "%s(%s)", fn, a);
	return strdup(buf);
}

int
harness_run(const char *group, struct CMUnitTest *all, size_t n,
	    const char *only)
{
	/* An optional argument runs only the cases whose name contains it. */
	if (only != NULL) {
		size_t kept = 0;

		for (size_t i = 0; i < n; i++) {
			if (strstr(all[i].name, only) != NULL)
				all[kept++] = all[i];
		}
		n = kept;
	}
	return _cmocka_run_group_tests(group, all, n, harness_group_setup,
				       harness_group_teardown);
}
