/*
 * cli_util.c - what every baxverify command uses: the configuration, the
 * HTTP client, option and number parsing, and printing results.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/wipe.h"
#include "cli.h"

/* Longest code or token read from stdin. */
#define SECRET_LINE_MAX 8192

/*
 * The module takes only absolute paths; for the command line a relative
 * --conf (or --file) is taken from the working directory, as any tool
 * would.
 */
static char *
absolute_path(const char *path)
{
	char cwd[PATH_MAX], *abs;
	size_t n;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	n = strlen(cwd) + strlen(path) + 2;
	abs = malloc(n);
	if (abs != NULL)
		snprintf(abs, n, "%s/%s", cwd, path);
	return abs;
}

int
cli_load_config(struct cli *cli)
{
	char *path;
	enum bv_result rc;

	if (cli->loaded)
		return CLI_OK;
	path = absolute_path(cli->conf_path);
	if (path == NULL) {
		fprintf(stderr, "baxverify: cannot resolve %s: %s\n",
			cli->conf_path, strerror(errno));
		return CLI_IO;
	}
	rc = cfg_load_file(&cli->cfg, path, provider_catalog(), &cli->log);
	free(path);
	if (rc != BV_OK) {
		/* cfg_load_file has said what is wrong, naming file:line. */
		cfg_free(&cli->cfg);
		if (rc == BV_NOMEM)
			fprintf(stderr, "baxverify: out of memory\n");
		return rc == BV_NOMEM ? CLI_IO : CLI_CONFIG;
	}
	cli->log.debug = cli->cfg.debug;
	cli->loaded = true;
	return CLI_OK;
}

int
cli_session(struct cli *cli)
{
	if (cli->session_ready)
		return CLI_OK;
	if (session_open(&cli->session, &cli->cfg, &cli->log, NULL, NULL) !=
	    BV_OK) {
		session_close(&cli->session);
		fprintf(stderr, "baxverify: cannot set up the providers\n");
		return CLI_IO;
	}
	cli->session_ready = true;
	return CLI_OK;
}

void
cli_free(struct cli *cli)
{
	if (cli->session_ready)
		session_close(&cli->session);
	cli->session_ready = false;
	if (cli->loaded)
		cfg_free(&cli->cfg); /* wipes the API keys */
	cli->loaded = false;
}

bool
cli_number(const char *text, long min, long max, const char *what, long *out)
{
	char *end = NULL;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || n < min || n > max) {
		fprintf(stderr,
			"baxverify: %s must be a number from %ld to "
			"%ld\n",
			what, min, max);
		return false;
	}
	*out = n;
	return true;
}

bool
cli_user_ok(const char *user)
{
	const char *p;

	/*
	 * The phones file splits at white space and cuts at '#', and a name
	 * starting with '-' reads as an option: any of those would make the
	 * line we write mean something else than what was asked.
	 */
	for (p = user; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '#')
			break;
	if (*user == '\0' || *p != '\0' || *user == '-' || strlen(user) > 200) {
		fprintf(stderr,
			"baxverify: invalid user name: it must be "
			"1-200 printable ASCII characters without white space "
			"or '#', not starting with '-'\n");
		return false;
	}
	return true;
}

int
cli_usage_error(const char *command, const char *msg)
{
	const struct cli_command *cmd = cli_find_command(command);

	fprintf(stderr, "baxverify: %s: %s\n", command, msg);
	if (cmd != NULL)
		cli_command_help(cmd, false);
	return CLI_USAGE;
}

int
cli_option(struct cli *cli, int opt, int argc, char **argv)
{
	const struct cli_command *cmd = cli_find_command(argv[0]);
	const char *bad;

	if (opt == CLI_OPT_CONF) {
		cli->conf_path = optarg;
		return -1;
	}
	if (opt == CLI_OPT_HELP && cmd != NULL) {
		cli_command_help(cmd, true);
		return CLI_OK;
	}
	/* getopt_long is silent (opterr = 0): say which one, once. */
	bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	fprintf(stderr,
		"baxverify: %s: unknown option or missing argument: "
		"%s\n",
		argv[0], bad);
	if (cmd != NULL)
		cli_command_help(cmd, false);
	return CLI_USAGE;
}

int
cli_positional(int argc, char **argv, int min, int max)
{
	int n = argc - optind;

	if (n >= min && n <= max)
		return -1;
	return cli_usage_error(argv[0], n < min ? "missing arguments"
						: "too many arguments");
}

/* What the result means to an administrator reading the line. */
static const char *
outcome_action(const struct bv_outcome *out)
{
	return out->action != NULL ? out->action : "request";
}

void
cli_print_outcome(const char *prefix, enum bv_result rc,
		  const struct bv_outcome *out)
{
	fprintf(stderr, "%s: %s failed: %s", prefix, outcome_action(out),
		bv_result_name(rc));
	if (out->code[0] != '\0' || out->http_status != 0) {
		fprintf(stderr, " (");
		if (out->code[0] != '\0')
			fprintf(stderr, "%s%s", out->code,
				out->http_status != 0 ? ", " : "");
		if (out->http_status != 0)
			fprintf(stderr, "HTTP %ld", out->http_status);
		fprintf(stderr, ")");
	}
	if (out->message[0] != '\0')
		fprintf(stderr, ": %s", out->message);
	fputc('\n', stderr);
	if (out->help_url[0] != '\0')
		fprintf(stderr, "  help: %s\n", out->help_url);
	if (out->detail[0] != '\0')
		fprintf(stderr, "  detail: %s\n", out->detail);
}

int
cli_status_for(enum bv_result rc)
{
	switch (rc) {
	case BV_OK:
		return CLI_OK;
	case BV_CONFIG:
		return CLI_CONFIG;
	case BV_NOMEM:
		return CLI_IO;
	default:
		return CLI_FAILED;
	}
}

void
cli_format_time(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outsz, "unknown");
}

char *
cli_read_secret_line(void)
{
	char *buf = calloc(1, SECRET_LINE_MAX + 1);
	size_t n = 0;
	ssize_t r;
	char c;

	if (buf == NULL)
		return NULL;
	/*
	 * read(2) a byte at a time rather than stdio: no copy of the secret
	 * is left in a FILE buffer we cannot wipe, and nothing after the
	 * line is consumed.
	 */
	for (;;) {
		r = read(STDIN_FILENO, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (c == '\r')
			continue;
		if (n == SECRET_LINE_MAX) {
			n = 0; /* too long: refuse rather than cut */
			break;
		}
		buf[n++] = c;
	}
	c = 0;
	if (n == 0) {
		bv_free_secret_len(buf, SECRET_LINE_MAX + 1);
		return NULL;
	}
	return buf;
}

/* The first line of a secret file, as a new string; NULL with *status
   set when there is none. */
static char *
secret_from_file(struct cli *cli, const char *file, int *status)
{
	char *path = absolute_path(file), *text = NULL, *line = NULL;
	size_t len = 0;

	*status = CLI_IO;
	if (path == NULL) {
		fprintf(stderr, "baxverify: cannot resolve %s: %s\n", file,
			strerror(errno));
		goto out;
	}
	/*
	 * As for the module's key files: absolute, no symlink, a regular
	 * file owned by root (or us) with no group or other access.  The
	 * reasons are logged to stderr, naming the file.
	 */
	if (cfg_read_trusted_file(path, true, SECRET_LINE_MAX, &cli->log, &text,
				  &len) != BV_OK)
		goto out;
	text[strcspn(text, "\r\n")] = '\0';
	if (text[0] == '\0') {
		fprintf(stderr, "baxverify: %s: its first line is empty\n",
			path);
		*status = CLI_USAGE;
		goto out;
	}
	line = strdup(text);
	if (line == NULL)
		fprintf(stderr, "baxverify: out of memory\n");
out:
	bv_free_secret_len(text, text != NULL ? len + 1 : 0);
	free(path);
	return line;
}

char *
cli_take_secret(struct cli *cli, const char *command, const char *what,
		char *arg, const char *file, int *status)
{
	char *s;

	*status = CLI_USAGE;
	if (arg != NULL && strcmp(arg, "-") != 0) {
		/* Too late to hide it from ps(1); shorten its stay there. */
		bv_wipe_str(arg);
		fprintf(stderr,
			"baxverify: %s: refusing a %s on the command line "
			"(every user sees it in ps): give it on standard "
			"input or with --file FILE\n",
			command, what);
		return NULL;
	}
	if (arg != NULL && file != NULL) {
		cli_usage_error(command, "give \"-\" or --file, not both");
		return NULL;
	}
	if (file != NULL)
		return secret_from_file(cli, file, status);
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "%s: ", what);
	s = cli_read_secret_line();
	if (s == NULL)
		fprintf(stderr, "baxverify: %s: no %s on standard input\n",
			command, what);
	return s;
}

size_t
cli_text_width(const char *text)
{
	size_t n = 0;

	/* Count code points: every byte that does not continue one. */
	for (; *text != '\0'; text++)
		if (((unsigned char)*text & 0xC0) != 0x80)
			n++;
	return n;
}

void
cli_print_padded(const char *text, size_t width)
{
	size_t w = cli_text_width(text);

	fputs(text, stdout);
	for (; w < width; w++)
		fputc(' ', stdout);
}
