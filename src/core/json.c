/*
 * json.c - cJSON helpers.
 */
#include "config.h"

#include <stdlib.h>

#include "json.h"
#include "wipe.h"

/* cJSON frees without wiping; clear every string of the tree first. */
static void
wipe_tree(const cJSON *item)
{
	const cJSON *c;

	for (; item != NULL; item = item->next) {
		if (item->valuestring != NULL)
			bv_wipe_str(item->valuestring);
		c = item->child;
		if (c != NULL)
			wipe_tree(c);
	}
}

void
json_wipe_delete(cJSON *item)
{
	if (item == NULL)
		return;
	if (item->valuestring != NULL)
		bv_wipe_str(item->valuestring);
	wipe_tree(item->child);
	cJSON_Delete(item);
}

const char *
json_string(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

char *
json_print_wipe(cJSON *obj)
{
	char *text = NULL;

	if (obj != NULL)
		text = cJSON_PrintUnformatted(obj);
	json_wipe_delete(obj);
	return text;
}
