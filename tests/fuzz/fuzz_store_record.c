/*
 * fuzz_store_record.c - the local store's record: text -> record -> text.
 *
 * Input: the bytes of a user's store file.  store_parse must never crash;
 * when it accepts the bytes, store_format of the record must parse back
 * to the identical record, and format to the identical text: a record
 * the store writes is always one it can read again (else a user would be
 * locked out by their own file, which reads as "damaged").
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../src/core/wipe.h"
#include "../../src/store/store.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Field by field, naming the first that differs. */
static void
compare(const struct store_record *a, const struct store_record *b)
{
	size_t i;

	if (a->ncodes != b->ncodes)
		fuzz_fail("round trip changed the code count");
	for (i = 0; i < a->ncodes; i++)
		if (strcmp(a->codes[i].hash, b->codes[i].hash) != 0 ||
		    a->codes[i].expires != b->codes[i].expires ||
		    a->codes[i].attempts != b->codes[i].attempts)
			fuzz_fail("round trip changed code %zu", i);
	if (a->ntokens != b->ntokens)
		fuzz_fail("round trip changed the token count");
	for (i = 0; i < a->ntokens; i++)
		if (strcmp(a->tokens[i].hash, b->tokens[i].hash) != 0 ||
		    a->tokens[i].expires != b->tokens[i].expires)
			fuzz_fail("round trip changed token %zu", i);
	if (a->nsends != b->nsends)
		fuzz_fail("round trip changed the send count");
	for (i = 0; i < a->nsends; i++)
		if (a->sends[i] != b->sends[i])
			fuzz_fail("round trip changed send %zu", i);
	if (a->failures != b->failures || a->locked_until != b->locked_until)
		fuzz_fail("round trip changed failures/locked_until");
	if (a->nrecovery != b->nrecovery)
		fuzz_fail("round trip changed the recovery count");
	for (i = 0; i < a->nrecovery; i++)
		if (strcmp(a->recovery[i], b->recovery[i]) != 0)
			fuzz_fail("round trip changed recovery %zu", i);
	if (a->nremember != b->nremember)
		fuzz_fail("round trip changed the grace count");
	for (i = 0; i < a->nremember; i++)
		if (strcmp(a->remember[i].key, b->remember[i].key) != 0 ||
		    a->remember[i].until != b->remember[i].until)
			fuzz_fail("round trip changed grace entry %zu", i);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Large (over 10 KiB each): static, not on the stack. */
	static struct store_record rec, again;
	char *text = NULL, *text2 = NULL;

	if (!store_parse((const char *)data, size, &rec))
		goto out;
	if (rec.ncodes > STORE_MAX_CODES || rec.ntokens > STORE_MAX_TOKENS ||
	    rec.nsends > STORE_MAX_SENDS ||
	    rec.nrecovery > STORE_MAX_RECOVERY ||
	    rec.nremember > STORE_MAX_REMEMBER)
		fuzz_fail("store_parse: a count beyond its array");
	text = store_format(&rec);
	if (text == NULL)
		fuzz_fail("store_format failed on a record store_parse made");
	if (!store_parse(text, strlen(text), &again))
		fuzz_fail("store_parse refused what store_format wrote:\n%s",
			  text);
	compare(&rec, &again);
	text2 = store_format(&again);
	if (text2 == NULL || strcmp(text, text2) != 0)
		fuzz_fail("store_format is not stable across a round trip");
out:
	bv_free_secret(text);
	bv_free_secret(text2);
	return 0;
}
