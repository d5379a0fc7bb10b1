/*
 * fuzz_phones.c - the phones file: "user DEST [DEST]" lines -> a contact.
 *
 * Input: the text of the phones file, written to one file of the private
 * directory (mode 0644, as installed) and looked up through phones_lookup
 * for a few fixed users (GECOS off: the host's passwd is not under test).
 *
 * Checked: the result is OK or CONFIG (nothing here can run out of
 * memory); a contact found is a valid E.164 number and/or a valid email
 * address; after CONFIG the contact is empty.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "../../src/core/conf.h"
#include "../../src/core/phones.h"

/* Users of the seeds, root, and names that only look alike. */
static const char *const users[] = {"alice", "bob", "erin",
				    "root",  "x",   "alice2"};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	(void)fuzz_dir();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bv_config cfg;
	struct bv_log log = {.debug = false};
	char path[4096];
	size_t i;

	fuzz_write_file("baxverify.phones", data, size, 0644, path,
			sizeof(path));
	memset(&cfg, 0, sizeof(cfg));
	cfg.phones_file = path;
	cfg.phones_gecos = false;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		struct bv_contact c = {NULL, NULL};
		enum bv_result rc = phones_lookup(&cfg, users[i], &log, &c);

		if (rc != BV_OK && rc != BV_CONFIG)
			fuzz_fail("phones_lookup(%s) returned %d", users[i],
				  (int)rc);
		if (rc != BV_OK && (c.phone != NULL || c.email != NULL))
			fuzz_fail("phones_lookup(%s): a contact after an "
				  "error",
				  users[i]);
		if (c.phone != NULL && !phone_is_e164(c.phone))
			fuzz_fail("phones_lookup(%s): phone is not E.164",
				  users[i]);
		if (c.email != NULL && !email_is_valid(c.email))
			fuzz_fail("phones_lookup(%s): email is not valid",
				  users[i]);
		contact_clear(&c);
	}
	return 0;
}
