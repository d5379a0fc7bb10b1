/*
 * cli_report.c - "stats" and "logs": BaxVerify's GET /auth/sms/stats and
 * /auth/sms/logs, as a table or as JSON.
 *
 * Neither answer's shape is documented, so nothing here depends on field
 * names: stats prints every scalar it finds, logs the first array of
 * objects (its columns from the first item).  Every string and key from
 * the server is sanitised in the tree itself before either form is
 * printed, so no escape sequence reaches the terminal through --json
 * either (cJSON escapes C0 controls, but not C1 ones).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../core/json.h"
#include "../core/text.h"
#include "../providers/baxverify.h"
#include "cli.h"

/* Widest cell of a logs table, and most columns shown. */
#define CELL_MAX 41
#define MAX_COLUMNS 8
/* Longest query we build (phone and status are URL-encoded). */
#define QUERY_MAX 512

/* Sanitise s in place: the result is never longer than the original. */
static void
sanitize_in_place(char *s)
{
	size_t n = strlen(s);
	char *tmp = malloc(n + 1);

	if (tmp == NULL) {
		s[0] = '\0'; /* cannot check it: do not show it */
		return;
	}
	text_sanitize(tmp, n + 1, s);
	memcpy(s, tmp, strlen(tmp) + 1);
	free(tmp);
}

static void
sanitize_tree(cJSON *item)
{
	for (; item != NULL; item = item->next) {
		if (item->string != NULL)
			sanitize_in_place(item->string);
		if (cJSON_IsString(item) && item->valuestring != NULL)
			sanitize_in_place(item->valuestring);
		sanitize_tree(item->child);
	}
}

/* A scalar as text: numbers without a needless ".000000". */
static void
scalar_text(const cJSON *it, char *out, size_t outsz)
{
	double v = it->valuedouble;

	if (cJSON_IsString(it))
		text_sanitize(out, outsz, it->valuestring);
	else if (cJSON_IsNumber(it) && v > -1e15 && v < 1e15 &&
		 v == (double)(long long)v)
		snprintf(out, outsz, "%lld", (long long)v);
	else if (cJSON_IsNumber(it))
		snprintf(out, outsz, "%g", v);
	else if (cJSON_IsBool(it))
		snprintf(out, outsz, "%s", cJSON_IsTrue(it) ? "true" : "false");
	else if (cJSON_IsArray(it))
		snprintf(out, outsz, "[%d items]", cJSON_GetArraySize(it));
	else
		snprintf(out, outsz, "-");
}

/* GET path from BaxVerify; the answer's tree (sanitised) into *root. */
static int
bax_get(struct cli *cli, const char *path, cJSON **root)
{
	struct bv_outcome out = {.attempts_left = -1};
	enum bv_result rc;
	int status;

	status = cli_load_config(cli);
	if (status != CLI_OK)
		return status;
	if (!provider_is_listed(&cli->cfg, &baxverify_info)) {
		fprintf(stderr,
			"baxverify: %s: provider does not list "
			"\"baxverify\"; stats and logs are BaxVerify's\n",
			cli->cfg.path);
		return CLI_CONFIG;
	}
	status = cli_session(cli);
	if (status != CLI_OK)
		return status;
	/* Listed (checked above): its group selected in the context. */
	(void)session_select(&cli->session, &baxverify_info);
	rc = baxverify_get(&cli->session.ctx, path, root, &out);
	if (rc != BV_OK) {
		out.action = path;
		cli_print_outcome(baxverify_info.name, rc, &out);
		return cli_status_for(rc);
	}
	sanitize_tree(*root);
	return CLI_OK;
}

static int
print_json(const cJSON *root)
{
	char *text = cJSON_Print(root);

	if (text == NULL)
		return CLI_IO;
	printf("%s\n", text);
	free(text);
	return CLI_OK;
}

/* stats: every scalar, nested objects as "outer.inner". */
static void
print_pairs(const cJSON *obj, const char *prefix)
{
	const cJSON *it;
	char name[128], value[256];

	cJSON_ArrayForEach(it, obj)
	{
		snprintf(name, sizeof(name), "%s%s%s", prefix,
			 *prefix ? "." : "", it->string ? it->string : "?");
		if (cJSON_IsObject(it)) {
			print_pairs(it, name);
			continue;
		}
		/* The envelope's flag is not a statistic. */
		if (*prefix == '\0' && strcmp(name, "success") == 0)
			continue;
		scalar_text(it, value, sizeof(value));
		cli_print_padded(name, 20);
		printf("%s\n", value);
	}
}

/* A query value, URL-encoded, appended as "&name=value". */
static bool
add_param(char *q, size_t qsz, const char *name, const char *value)
{
	char *enc = curl_easy_escape(NULL, value, 0);
	size_t n = strlen(q);
	int w;

	if (enc == NULL)
		return false;
	w = snprintf(q + n, qsz - n, "%c%s=%s", strchr(q, '?') ? '&' : '?',
		     name, enc);
	curl_free(enc);
	return w > 0 && (size_t)w < qsz - n;
}

int
cli_stats(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"days", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    CLI_COMMON_OPTIONS,
	};
	char path[QUERY_MAX] = "/auth/sms/stats";
	const char *days = NULL;
	cJSON *root = NULL;
	bool json = false;
	long n;
	int opt, status = -1;

	opterr = 0;
	while (status < 0 &&
	       (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'd')
			days = optarg;
		else if (opt == 'j')
			json = true;
		else
			status = cli_option(cli, opt, argc, argv);
	}
	if (status < 0)
		status = cli_positional(argc, argv, 0, 0);
	if (status >= 0)
		goto out;
	status = CLI_USAGE;
	if (days != NULL && (!cli_number(days, 1, 3650, "--days", &n) ||
			     !add_param(path, sizeof(path), "days", days)))
		goto out;
	status = bax_get(cli, path, &root);
	if (status != CLI_OK)
		goto out;
	if (json)
		status = print_json(root);
	else
		print_pairs(root, "");
out:
	json_wipe_delete(root);
	return status;
}

/* The first array of objects in root, or in root's "data" object. */
static const cJSON *
find_items(const cJSON *root)
{
	const cJSON *it, *data;

	cJSON_ArrayForEach(it, root)
	{
		if (cJSON_IsArray(it) &&
		    (cJSON_GetArraySize(it) == 0 || cJSON_IsObject(it->child)))
			return it;
	}
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	return cJSON_IsObject(data) ? find_items(data) : NULL;
}

/* Columns: the scalar members of the first item, in its order. */
static int
columns(const cJSON *items, const char **cols, size_t *width)
{
	const cJSON *it, *row;
	char cell[CELL_MAX];
	int n = 0, i;

	cJSON_ArrayForEach(it, items->child)
	{
		if (n < MAX_COLUMNS && it->string != NULL &&
		    !cJSON_IsObject(it) && !cJSON_IsArray(it)) {
			cols[n] = it->string;
			width[n] = cli_text_width(it->string);
			n++;
		}
	}
	cJSON_ArrayForEach(row, items)
	{
		for (i = 0; i < n; i++) {
			it = cJSON_GetObjectItemCaseSensitive(row, cols[i]);
			scalar_text(it, cell, sizeof(cell));
			if (cli_text_width(cell) > width[i])
				width[i] = cli_text_width(cell);
		}
	}
	return n;
}

static void
print_table(const cJSON *items)
{
	const char *cols[MAX_COLUMNS];
	size_t width[MAX_COLUMNS];
	const cJSON *row;
	char cell[CELL_MAX];
	int n, i;

	n = columns(items, cols, width);
	for (i = 0; i < n; i++)
		cli_print_padded(cols[i], i + 1 < n ? width[i] + 2 : 0);
	printf("\n");
	cJSON_ArrayForEach(row, items)
	{
		for (i = 0; i < n; i++) {
			scalar_text(
			    cJSON_GetObjectItemCaseSensitive(row, cols[i]),
			    cell, sizeof(cell));
			cli_print_padded(cell, i + 1 < n ? width[i] + 2 : 0);
		}
		printf("\n");
	}
}

/* The page's scalars (page, limit, total...) on one line. */
static void
print_summary(const cJSON *root)
{
	const cJSON *it;
	char value[64];
	bool any = false;

	cJSON_ArrayForEach(it, root)
	{
		if (cJSON_IsObject(it) || cJSON_IsArray(it) ||
		    it->string == NULL || strcmp(it->string, "success") == 0)
			continue;
		scalar_text(it, value, sizeof(value));
		printf("%s%s: %s", any ? ", " : "", it->string, value);
		any = true;
	}
	if (any)
		printf("\n");
}

static int
print_logs(const cJSON *root)
{
	const cJSON *items = find_items(root);

	if (items == NULL) {
		fprintf(stderr, "baxverify: the logs answer holds no list of "
				"entries; use --json to see it\n");
		return CLI_FAILED;
	}
	if (cJSON_GetArraySize(items) == 0)
		printf("no log entries\n");
	else
		print_table(items);
	print_summary(root);
	return CLI_OK;
}

/* The logs query from the options; false (said) when one is bad. */
static bool
logs_query(char *path, size_t pathsz, const char *const *val)
{
	static const char *const names[] = {"page", "limit", "phone", "status"};
	static const long max[] = {1000000, 100};
	long n;
	int i;

	for (i = 0; i < 4; i++) {
		if (val[i] == NULL)
			continue;
		if (i < 2 && !cli_number(val[i], 1, max[i], names[i], &n))
			return false;
		if (!add_param(path, pathsz, names[i], val[i])) {
			fprintf(stderr, "baxverify: --%s is too long\n",
				names[i]);
			return false;
		}
	}
	return true;
}

int
cli_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"page", required_argument, NULL, 0},
	    {"limit", required_argument, NULL, 1},
	    {"phone", required_argument, NULL, 2},
	    {"status", required_argument, NULL, 3},
	    {"json", no_argument, NULL, 'j'},
	    CLI_COMMON_OPTIONS,
	};
	char path[QUERY_MAX] = "/auth/sms/logs";
	const char *val[4] = {NULL, NULL, NULL, NULL};
	cJSON *root = NULL;
	bool json = false;
	int opt, status = -1;

	opterr = 0;
	while (status < 0 &&
	       (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt >= 0 && opt < 4)
			val[opt] = optarg;
		else if (opt == 'j')
			json = true;
		else
			status = cli_option(cli, opt, argc, argv);
	}
	if (status < 0)
		status = cli_positional(argc, argv, 0, 0);
	if (status >= 0)
		goto out;
	status = CLI_USAGE;
	if (!logs_query(path, sizeof(path), val))
		goto out;
	status = bax_get(cli, path, &root);
	if (status == CLI_OK)
		status = json ? print_json(root) : print_logs(root);
out:
	json_wipe_delete(root);
	return status;
}
