/*
 * fuzz_store_health.c - the providers' health record: text -> record ->
 * text.
 *
 * Input: the bytes of the store's health file.  store_health_parse must
 * never crash; when it accepts the bytes, every mark must be one the
 * store could have written (a name, since <= last), store_health_format
 * of the record must parse back to the identical record, and format to
 * the identical text: a health file the store writes is always one it
 * reads again (else every login would log it as damaged).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../src/store/store.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store_health h, again;
	char *text = NULL, *text2 = NULL;
	size_t i;

	if (!store_health_parse((const char *)data, size, &h))
		goto out;
	if (h.nmarks > STORE_MAX_MARKS)
		fuzz_fail("store_health_parse: a count beyond its array");
	for (i = 0; i < h.nmarks; i++)
		if (h.marks[i].provider[0] == '\0' ||
		    h.marks[i].since > h.marks[i].last ||
		    store_health_find(&h, h.marks[i].provider) != &h.marks[i])
			fuzz_fail("store_health_parse: mark %zu is no mark "
				  "the store writes",
				  i);
	text = store_health_format(&h);
	if (text == NULL)
		fuzz_fail("store_health_format failed on a parsed record");
	if (!store_health_parse(text, strlen(text), &again))
		fuzz_fail("store_health_parse refused what "
			  "store_health_format wrote:\n%s",
			  text);
	if (memcmp(&h, &again, sizeof(h)) != 0)
		fuzz_fail("the round trip changed the record");
	text2 = store_health_format(&again);
	if (text2 == NULL || strcmp(text, text2) != 0)
		fuzz_fail("store_health_format is not stable across a round "
			  "trip");
out:
	free(text);
	free(text2);
	return 0;
}
