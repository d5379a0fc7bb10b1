/*
 * harness_conf.c - the configuration files of a case: baxverify.conf
 * from a struct conf, and the API key file.
 *
 * The text comes from the one writer of the tests, bv_conf_text of
 * tests/mock/lib.sh, run as $BV_WRITE_CONF (tests/mock/write-conf.sh)
 * with the settings a struct conf stands for.  The answers are kept by
 * their arguments: a loop that writes the same configuration a thousand
 * times (test_loop.c) starts the writer once.
 */

/* vasprintf */
#define _GNU_SOURCE 1

#include "harness.h"
#include "harness_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64
#define CACHE_SLOTS 16

extern char **environ;

/* The writer's arguments. */
struct conf_args {
	char *v[MAX_ARGS + 1];
	int n;
};

static void add_arg(struct conf_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_arg(struct conf_args *a, const char *fmt, ...)
{
	va_list ap;
	int rc;

	assert_true(a->n < MAX_ARGS);
	va_start(ap, fmt);
	rc = vasprintf(&a->v[a->n], fmt, ap);
	va_end(ap);
	assert_true(rc >= 0);
	a->n++;
}

/* KEY as a libconfig string: quotes and backslashes escaped. */
static void
add_str(struct conf_args *a, const char *key, const char *value)
{
	struct sbuf sb = {NULL, 0, 0};

	sb_printf(&sb, "%s=\"", key);
	for (const char *p = value; *p != '\0'; p++)
		sb_printf(&sb, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
	sb_printf(&sb, "\"");
	add_arg(a, "%s", sb.s);
	free(sb.s);
}

/* The settings c stands for, in bv_conf_text's terms (--bare: all of
   them are here). */
static void
conf_settings(const struct conf *c, struct conf_args *a)
{
	char url[4096];
	const char *helper =
	    c->helper != NULL ? c->helper : getenv("BV_HELPER");

	snprintf(url, sizeof(url), "%s/v1", mock_url);
	add_arg(a, "--bare");
	add_arg(a, "provider=%s",
		c->provider != NULL ? c->provider : "\"baxverify\"");
	add_str(a, "baxverify.api_url", c->api_url != NULL ? c->api_url : url);
	add_str(a, "baxverify.project_id", PROJECT_ID);
	if (c->key == KEY_INLINE)
		add_str(a, "baxverify.api_key", API_KEY);
	else if (c->key == KEY_IN_FILE)
		add_str(a, "baxverify.api_key_file", key_path);
	add_str(a, "baxverify.purpose", "LOGIN");
	if (c->validate != NULL)
		add_arg(a, "baxverify.validate_token=%s", c->validate);
	if (c->tryvox != NULL) {
		add_str(a, "tryvox.api_url",
			c->tryvox_url != NULL ? c->tryvox_url : mock_url);
		add_str(a, "tryvox.api_key",
			c->tryvox_key != NULL ? c->tryvox_key : TRYVOX_KEY);
		add_str(a, "tryvox.tenant_id",
			c->tenant_id != NULL ? c->tenant_id : TENANT_ID);
		if (c->tryvox[0] != '\0')
			add_arg(a, "tryvox{%s", c->tryvox);
	}
	if (c->mudbase != NULL) {
		add_str(a, "mudbase.api_url",
			c->mudbase_url != NULL ? c->mudbase_url : mock_url);
		add_str(a, "mudbase.project_id",
			c->mudbase_project != NULL ? c->mudbase_project
						   : MUDBASE_PROJECT);
		if (c->mudbase[0] != '\0')
			add_arg(a, "mudbase{%s", c->mudbase);
	}
	if (!c->system_ca)
		add_str(a, "http.ca_file", ca_file);
	add_arg(a, "http.connect_timeout=%d",
		c->connect_timeout > 0 ? c->connect_timeout : 5);
	add_arg(a, "http.timeout=%d", c->timeout > 0 ? c->timeout : 5);
	add_str(a, "phones.file", c->phones != NULL ? c->phones : phones_path);
	add_arg(a, "phones.gecos=false");
	/* Never the system's store: the module would write to it. */
	add_str(a, "store.dir", store_path);
	/* The helper of this build tree, not the installed one. */
	if (helper != NULL)
		add_str(a, "helper", helper);
	if (c->limits != NULL)
		add_arg(a, "limits{  %s", c->limits);
	if (c->channels != NULL)
		add_arg(a, "channels=%s", c->channels);
	if (c->failmode != NULL)
		add_str(a, "failmode", c->failmode);
	if (c->max_tries > 0)
		add_arg(a, "max_tries=%d", c->max_tries);
	if (c->max_sends > 0)
		add_arg(a, "max_sends=%d", c->max_sends);
	if (c->groups != NULL)
		add_arg(a, "groups=%s", c->groups);
	/* Verbatim, after everything: sections, then extra (last, so that
	   write_conf can tell the line it starts on). */
	if (c->sections != NULL)
		add_arg(a, "+%s", c->sections);
	if (c->extra != NULL)
		add_arg(a, "+%s", c->extra);
}

/* This environment without LD_PRELOAD: the writer is a shell and awk,
   not a program under test (nor under ASan or an allocation shim). */
static char **
writer_env(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 1, sizeof(*env));
	assert_non_null(env);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[k++] = environ[i];
	}
	return env;
}

/* Run $BV_WRITE_CONF with a's arguments; its output, allocated. */
static char *
run_writer(const struct conf_args *a)
{
	const char *writer = getenv("BV_WRITE_CONF");
	static char sh[] = "sh";
	char *argv[MAX_ARGS + 3], **env = writer_env(), *out = NULL, *path;
	size_t len = 0, cap = 0;
	int p[2], status = 0;
	ssize_t got;
	pid_t pid;

	if (writer == NULL) {
		print_error("BV_WRITE_CONF must be set (tests/mock/lib.sh, "
			    "bv_under_pam_wrapper)\n");
		fail();
	}
	path = strdup(writer);
	assert_non_null(path);
	argv[0] = sh;
	argv[1] = path;
	for (int i = 0; i < a->n; i++)
		argv[i + 2] = a->v[i];
	argv[a->n + 2] = NULL;
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(p[1], 1) == 1) {
			close(p[0]);
			close(p[1]);
			execve("/bin/sh", argv, env);
		}
		_exit(127);
	}
	free(env);
	free(path);
	close(p[1]);
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(out, cap + 16384);

			assert_non_null(nb);
			out = nb;
			cap += 16384;
		}
		got = read(p[0], out + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(p[0]);
	out[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("%s failed (status 0x%x)\n", writer, status);
		fail();
	}
	return out;
}

/* The text for a's arguments: from the cache, else from the writer. */
static const char *
conf_text(const struct conf_args *a)
{
	static struct {
		char *key;
		char *text;
	} cache[CACHE_SLOTS];
	static unsigned next;
	struct sbuf key = {NULL, 0, 0};
	unsigned slot;

	for (int i = 0; i < a->n; i++)
		sb_printf(&key, "%s%c", a->v[i], '\037');
	for (slot = 0; slot < CACHE_SLOTS; slot++) {
		if (cache[slot].key != NULL &&
		    strcmp(cache[slot].key, key.s) == 0) {
			free(key.s);
			return cache[slot].text;
		}
	}
	slot = next++ % CACHE_SLOTS;
	free(cache[slot].key);
	free(cache[slot].text);
	cache[slot].key = key.s;
	cache[slot].text = run_writer(a);
	return cache[slot].text;
}

unsigned
write_conf(const struct conf *c)
{
	struct conf_args a = {.n = 0};
	const char *text;
	unsigned extra_line;
	size_t len;

	conf_settings(c, &a);
	text = conf_text(&a);
	for (int i = 0; i < a.n; i++)
		free(a.v[i]);
	write_file(conf_path, text, c->mode != 0 ? c->mode : 0600);

	/* The line extra starts on: it ends the file, then a newline. */
	len = strlen(text);
	if (c->extra != NULL && len > strlen(c->extra)) {
		char *head = strndup(text, len - strlen(c->extra) - 1);

		assert_non_null(head);
		extra_line = count_lines(head) + 1;
		free(head);
	} else {
		extra_line = count_lines(text) + 1;
	}

	(void)unlink(key_path);
	if (c->key == KEY_IN_FILE)
		write_file(key_path, API_KEY "\n",
			   c->key_mode != 0 ? c->key_mode : 0600);
	return extra_line;
}

void
write_default_conf(void)
{
	const struct conf c = {0};

	write_conf(&c);
}
