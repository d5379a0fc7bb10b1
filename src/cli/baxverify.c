/*
 * baxverify.c - the administrator's command of pam_baxverify: global
 * options, the command table, help, and dispatch.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cli_help(struct cli *cli, int argc, char **argv);

/* Every command, in the order --help lists them. */
static const struct cli_command commands[] = {
    {"check", cli_check, "[--user USER]",
     "Validate the configuration (the delivery command by the module's\n"
     "own rule) and make one authenticated call per configured\n"
     "provider; with --user, also say whether USER would be asked for a\n"
     "code (to which masked destination) or skipped, and why (groups,\n"
     "no destination, nullok), and open USER's store record.  Lists\n"
     "the providers marked down (health_retry).  Prints\n"
     "\"ok\" or what is wrong, with the API's error code, HTTP status\n"
     "and help URL.\n"},
    {"enroll", cli_enroll, "USER DEST [DEST]",
     "Set USER's line in the phones file: DEST is a +E.164 number or an\n"
     "email address (at most one of each).  Comments and other lines\n"
     "are kept byte for byte; the file is replaced atomically.\n"},
    {"unenroll", cli_unenroll, "USER",
     "Remove USER's lines from the phones file.\n"},
    {"list", cli_list, "[--full]",
     "List the users of the phones file with their destinations,\n"
     "masked unless --full is given.\n"},
    {"send", cli_send, "USER [--channel C] [--provider NAME]",
     "Send USER a code through the first configured provider (or NAME)\n"
     "that sends by CHANNEL.  For Tryvox the verification id needed by\n"
     "\"verify --id\" is printed.\n"},
    {"verify", cli_verify,
     "USER [-] [--file F] [--id ID] [--channel C] [--provider NAME] "
     "[--show-token]",
     "Check a code for USER: one line read from standard input (\"-\",\n"
     "the default) or the first line of F (owned by root, no group or\n"
     "other access).  Never on the command line: every user sees that\n"
     "in ps.  Prints \"verified\" and when the proof token expires; the\n"
     "token itself only with --show-token.\n"},
    {"validate-token", cli_validate_token,
     "[-] [--file F] [--consume] [--provider NAME] [--user USER]",
     "Ask the provider whether a proof token, read from standard input\n"
     "(\"-\", the default) or the first line of F, is valid; --consume\n"
     "spends it.  --user checks it was issued for USER's destination\n"
     "(and names USER's store for the local provider).\n"},
    {"stats", cli_stats, "[--days N] [--json]",
     "BaxVerify usage counts of the last N days (the server's default\n"
     "when not given).\n"},
    {"logs", cli_logs,
     "[--page N] [--limit N] [--phone P] [--status S] [--json]",
     "BaxVerify delivery logs, one page at a time.\n"},
    {"recovery-codes", cli_recovery_codes, "USER [--count N] [--revoke]",
     "Make N (1-32, default 10) single-use recovery codes for USER,\n"
     "print them once and keep only their hashes, replacing any earlier\n"
     "set; --revoke removes them all.\n"},
    {"reset", cli_reset, "USER | --providers",
     "Clear USER's lockout, failure count, recent sends and grace\n"
     "windows; or, with --providers, every provider's mark of the\n"
     "health record (health_retry), so that the next login tries the\n"
     "providers in their configured order.\n"},
    {"help", cli_help, "[COMMAND]", "Show help.\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct cli_command *
cli_find_command(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void
cli_command_help(const struct cli_command *cmd, bool full)
{
	FILE *f = full ? stdout : stderr;

	fprintf(f, "usage: baxverify [--conf PATH] %s %s\n", cmd->name,
		cmd->synopsis);
	if (full)
		fprintf(f,
			"\n%s\nOptions of every command: --conf PATH "
			"(default %s), --help.\n",
			cmd->help, BV_DEFAULT_CONF);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: baxverify [--conf PATH] COMMAND [ARGS]\n"
		   "       baxverify --help | --version\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s %s\n", commands[i].name, commands[i].synopsis);
	fprintf(f,
		"\n--conf PATH  the configuration (default %s)\n"
		"\"baxverify help COMMAND\" or \"baxverify COMMAND --help\" "
		"explains one command.\nExit status: 0 ok, 1 the check or API "
		"call failed, 2 usage error,\n3 configuration error, 4 local "
		"store or I/O error.  See baxverify(8).\n",
		BV_DEFAULT_CONF);
}

static int
cli_help(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd;

	(void)cli;
	if (argc > 2)
		return cli_usage_error("help", "at most one COMMAND");
	if (argc < 2) {
		usage(stdout);
		return CLI_OK;
	}
	cmd = cli_find_command(argv[1]);
	if (cmd == NULL)
		return cli_usage_error("help", "no such command");
	cli_command_help(cmd, true);
	return CLI_OK;
}

/* --conf, --help and --version before the command. */
static int
global_options(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"conf", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	opterr = 0;
	/* "+": stop at the command; its own options are its business. */
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (opt == 'c') {
			cli->conf_path = optarg;
		} else if (opt == 'h') {
			usage(stdout);
			return CLI_OK;
		} else if (opt == 'V') {
			printf("baxverify (%s) %s\n", PACKAGE_NAME,
			       PACKAGE_VERSION);
			return CLI_OK;
		} else {
			fprintf(stderr,
				"baxverify: unknown option or missing "
				"argument: %s\n",
				argv[optind - 1]);
			usage(stderr);
			return CLI_USAGE;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct cli cli;
	const struct cli_command *cmd;
	int status;

	memset(&cli, 0, sizeof(cli));
	cli.conf_path = BV_DEFAULT_CONF;
	status = global_options(&cli, argc, argv);
	if (status >= 0)
		return status;
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	cmd = cli_find_command(argv[optind]);
	if (cmd == NULL) {
		fprintf(stderr, "baxverify: unknown command \"%s\"\n",
			argv[optind]);
		usage(stderr);
		return CLI_USAGE;
	}
	/* The command parses its own argv, starting at its name. */
	argc -= optind;
	argv += optind;
	optind = 0; /* GNU getopt: start afresh */
	status = cmd->run(&cli, argc, argv);
	cli_free(&cli);
	if (fflush(stdout) != 0 && status == CLI_OK)
		status = CLI_IO; /* e.g. codes printed to a full disk */
	return status;
}
