/*
 * cli.h - baxverify(8), the administrator's command: what its files share.
 *
 * baxverify.c parses the global options and dispatches; each cli_*.c file
 * holds one area's commands.  A command gets argv from its own name on
 * (argv[0] is the command), parses it with getopt_long, and returns one
 * of the exit statuses below.  Everything it prints that came from a
 * server or a file goes through text_sanitize first.
 */
#ifndef BV_CLI_H
#define BV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../core/conf.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../providers/provider.h"
#include "../providers/session.h"

/* Exit statuses, documented in baxverify(8) EXIT STATUS. */
enum cli_status {
	CLI_OK = 0,	/* done; the check passed */
	CLI_FAILED = 1, /* the check, verification or API call failed */
	CLI_USAGE = 2,	/* bad command line */
	CLI_CONFIG = 3, /* the configuration (or phones file) is unusable */
	CLI_IO = 4	/* the local store or a file could not be used */
};

/* State of one run, shared by the command that runs. */
struct cli {
	const char *conf_path; /* --conf, or BV_DEFAULT_CONF */
	struct bv_config cfg;  /* loaded by cli_load_config */
	bool loaded;
	struct bv_log log; /* no sink: core code logs to stderr */
	/* The listed providers in process (check, stats, logs), opened on
	   first use: one HTTP client for the run. */
	struct provider_session session;
	bool session_ready;
};

/* One command: its name, handler, synopsis and help for --help. */
struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *synopsis; /* arguments after the name */
	const char *help;     /* what it does and its options */
};

/* cli_util.c */

/*
 * Load the configuration named by cli->conf_path (once).  Errors are
 * already logged to stderr naming file, line and key.  Returns CLI_OK,
 * CLI_CONFIG or CLI_IO (out of memory).
 */
int cli_load_config(struct cli *cli);

/* The run's provider session (no user), made on first use.  CLI_OK or
   CLI_IO. */
int cli_session(struct cli *cli);

/* Release what cli holds (the configuration is wiped). */
void cli_free(struct cli *cli);

/*
 * A whole decimal number in [min, max] (strtol, end pointer, errno).
 * On failure prints "baxverify: WHAT must be a number from MIN to MAX"
 * and returns false.
 */
bool cli_number(const char *text, long min, long max, const char *what,
		long *out);

/*
 * A user name we may write into the phones file or use as a store key:
 * not empty, printable ASCII, no white space, no '#', no leading '-'.
 * Prints why not and returns false otherwise.
 */
bool cli_user_ok(const char *user);

/* Print "baxverify: COMMAND: MSG" for a usage error; returns CLI_USAGE. */
int cli_usage_error(const char *command, const char *msg);

/*
 * The options every command takes, for the end of its getopt_long table:
 * --conf PATH and --help.  Commands have long options only; an argument
 * that starts with '-' (other than "-", stdin) goes after "--".
 */
#define CLI_OPT_CONF 0x100
#define CLI_OPT_HELP 0x101
/* clang-format off */
#define CLI_COMMON_OPTIONS                                 \
	{ "conf", required_argument, NULL, CLI_OPT_CONF }, \
	{ "help", no_argument, NULL, CLI_OPT_HELP },       \
	{ NULL, 0, NULL, 0 }
/* clang-format on */

/*
 * Handle an option of a command's getopt_long loop that the command did
 * not handle itself: --conf, --help, and errors.  Returns -1 to go on
 * parsing, else the status the command must return (CLI_OK after printing
 * the command's help, CLI_USAGE after saying what was wrong).
 */
int cli_option(struct cli *cli, int opt, int argc, char **argv);

/*
 * Check a command's positional arguments after getopt: between min and
 * max of them (argv[optind]...).  Returns -1 when fine, else CLI_USAGE
 * after printing the command's usage line.
 */
int cli_positional(int argc, char **argv, int min, int max);

/* The command called name, or NULL. */
const struct cli_command *cli_find_command(const char *name);

/*
 * Print a command's usage line; full adds its help text.  Full help goes
 * to stdout (asked for), the bare usage line to stderr (a mistake).
 */
void cli_command_help(const struct cli_command *cmd, bool full);

/*
 * Print a failed provider call on stderr: "PREFIX: what (CODE, HTTP n):
 * message", then "  help: URL" and "  detail: ..." lines when known.
 * Every field is already sanitised by the provider.
 */
void cli_print_outcome(const char *prefix, enum bv_result rc,
		       const struct bv_outcome *out);

/* The exit status for a provider's result: 0, 1, 3 or 4. */
int cli_status_for(enum bv_result rc);

/* "2026-03-01 08:10:00 UTC" into out (size >= 32); "unknown" for 0. */
void cli_format_time(time_t t, char *out, size_t outsz);

/*
 * Read one line (a code or token) from stdin into a new string, without
 * the newline; NULL on error or empty input.  The caller frees it with
 * bv_free_secret.
 */
char *cli_read_secret_line(void);

/*
 * The code or token a command was given, never from argv (every user of
 * the host sees argv in ps(1)): arg is the command's positional argument
 * for it, NULL or "-" for standard input (one line); file is --file's
 * argument or NULL: the first line of a file that must be owned by root
 * (or us) with no group or other access, as the module's key files.  A
 * secret in arg is wiped and refused with a one-line error.  what names
 * it ("code", "token").  Returns the secret (free with bv_free_secret),
 * or NULL with *status set: CLI_USAGE (on the command line, both "-" and
 * --file, nothing given), CLI_IO (the file cannot be used; said why).
 */
char *cli_take_secret(struct cli *cli, const char *command, const char *what,
		      char *arg, const char *file, int *status);

/* Print text padded with spaces to width display columns (UTF-8). */
void cli_print_padded(const char *text, size_t width);

/* Display columns of UTF-8 text (one per code point). */
size_t cli_text_width(const char *text);

/* cli_check.c */
int cli_check(struct cli *cli, int argc, char **argv);

/* cli_phones.c, cli_list.c */
int cli_enroll(struct cli *cli, int argc, char **argv);
int cli_unenroll(struct cli *cli, int argc, char **argv);
int cli_list(struct cli *cli, int argc, char **argv);

/* cli_api.c */

int cli_send(struct cli *cli, int argc, char **argv);
int cli_verify(struct cli *cli, int argc, char **argv);
int cli_validate_token(struct cli *cli, int argc, char **argv);

/* cli_report.c */
int cli_stats(struct cli *cli, int argc, char **argv);
int cli_logs(struct cli *cli, int argc, char **argv);

/* cli_store.c */
int cli_recovery_codes(struct cli *cli, int argc, char **argv);
int cli_reset(struct cli *cli, int argc, char **argv);

#endif /* BV_CLI_H */
