/*
 * json.h - small cJSON helpers that keep secrets out of freed memory.
 */
#ifndef BV_JSON_H
#define BV_JSON_H

#include <cjson/cJSON.h>

/* Wipe every string value (recursively), then cJSON_Delete. */
void json_wipe_delete(cJSON *item);

/* A string member of obj, or NULL when absent or not a string. */
const char *json_string(const cJSON *obj, const char *name);

/*
 * Serialise an object built with cJSON_Create* into a new string and
 * delete the object (wiping it).  NULL when out of memory.  The string may
 * hold a secret: free it with bv_free_secret.
 */
char *json_print_wipe(cJSON *obj);

#endif /* BV_JSON_H */
