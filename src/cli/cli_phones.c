/*
 * cli_phones.c - "enroll", "unenroll" and "list": the phones file.
 *
 * Only the named user's lines change; every comment, blank line and other
 * user's line is copied byte for byte, so that an administrator's notes
 * survive and a diff shows exactly one change.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/phones.h"
#include "../core/text.h"
#include "cli.h"
#include "phonesfile.h"

/* A user's destinations from the command line. */
struct dests {
	const char *phone;
	const char *email;
};

/* Sort DEST arguments into a phone and an email; false (said) if bad. */
static bool
parse_dests(char **args, int n, struct dests *d)
{
	int i;

	d->phone = NULL;
	d->email = NULL;
	for (i = 0; i < n; i++) {
		/* '#' would start a comment in the file: refuse it. */
		bool email =
		    strchr(args[i], '#') == NULL && email_is_valid(args[i]);
		const char **slot = phone_is_e164(args[i]) ? &d->phone
				    : email		   ? &d->email
							   : NULL;

		if (slot == NULL) {
			fprintf(stderr,
				"baxverify: \"%s\" is neither an "
				"E.164 phone number (\"+\", then 8 to 15 "
				"digits, the first not 0, e.g. +14155550101) "
				"nor an email address\n",
				args[i]);
			return false;
		}
		if (*slot != NULL) {
			fprintf(stderr, "baxverify: at most one phone number "
					"and one email address per user\n");
			return false;
		}
		*slot = args[i];
	}
	return true;
}

/* The user's new line, with the comment of the line it replaces. */
static void
add_user_line(struct pbuf *b, const char *user, const struct dests *d,
	      const struct pline *old)
{
	const char *comment = NULL;
	size_t clen = 0, w;

	pbuf_adds(b, user);
	/* Align like the example file: destinations from column 9. */
	for (w = strlen(user); w < 8; w++)
		pbuf_add(b, " ", 1);
	if (w == strlen(user))
		pbuf_add(b, " ", 1);
	pbuf_adds(b, d->phone != NULL ? d->phone : d->email);
	if (d->phone != NULL && d->email != NULL) {
		pbuf_add(b, "  ", 2);
		pbuf_adds(b, d->email);
	}
	if (old != NULL)
		comment = pline_comment(old, &clen);
	if (comment != NULL && (clen == 0 || comment[0] == '#'))
		pbuf_add(b, "  ", 2); /* the '#' began the line */
	if (comment != NULL)
		pbuf_add(b, comment, clen);
	pbuf_add(b, "\n", 1);
}

/*
 * The new text: user's first line replaced (d != NULL) or dropped, later
 * lines of the user dropped (only the first counts, and a stale one could
 * deny), appended when absent.  *found counts the user's old lines.
 */
static void
rewrite(const struct phonesfile *pf, const char *user, const struct dests *d,
	struct pbuf *b, size_t *found)
{
	struct pline l;
	size_t pos = 0;

	*found = 0;
	while (pline_next(pf->text, pf->len, &pos, &l)) {
		if (!pline_is_user(&l, user)) {
			pbuf_add(b, l.start, l.len + (l.newline ? 1 : 0));
			continue;
		}
		if (++*found == 1 && d != NULL)
			add_user_line(b, user, d, &l);
	}
	if (*found == 0 && d != NULL) {
		if (b->len > 0 && b->p[b->len - 1] != '\n')
			pbuf_add(b, "\n", 1);
		add_user_line(b, user, d, NULL);
	}
}

/* What the module will say about the file's owner and mode. */
static void
warn_trust(const struct phonesfile *pf)
{
	if ((pf->st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (pf->st.st_uid != 0 && pf->st.st_uid != geteuid()))
		fprintf(stderr,
			"baxverify: warning: %s is writable by group "
			"or others or not owned by root (mode %04o); the "
			"module refuses it until that is fixed\n",
			pf->path, (unsigned)(pf->st.st_mode & 07777));
}

/* enroll (d != NULL) or unenroll (d == NULL) user. */
static int
edit_user(struct cli *cli, const char *user, const struct dests *d)
{
	struct phonesfile pf;
	struct pbuf b = {NULL, 0, 0, false};
	size_t found = 0;
	int status;

	status = phonesfile_open(cli->cfg.phones_file, &pf);
	if (status != CLI_OK)
		goto out;
	rewrite(&pf, user, d, &b, &found);
	status = CLI_FAILED;
	if (d == NULL && found == 0) {
		fprintf(stderr, "baxverify: %s is not in %s\n", user, pf.path);
		goto out;
	}
	status = CLI_IO;
	if (b.failed) {
		fprintf(stderr, "baxverify: out of memory\n");
		goto out;
	}
	status = phonesfile_replace(&pf, b.p ? b.p : "", b.len);
	if (status != CLI_OK)
		goto out;
	if (d != NULL)
		printf("%s %s: %s%s%s\n", found ? "replaced" : "enrolled", user,
		       d->phone ? d->phone : "",
		       d->phone && d->email ? " " : "",
		       d->email ? d->email : "");
	else
		printf("unenrolled %s (%zu line%s removed)\n", user, found,
		       found == 1 ? "" : "s");
	warn_trust(&pf);
out:
	free(b.p);
	phonesfile_close(&pf);
	return status;
}

/* Options common to the three commands: none but --conf and --help. */
static int
plain_options(struct cli *cli, int argc, char **argv, int min, int max)
{
	static const struct option opts[] = {
	    CLI_COMMON_OPTIONS,
	};
	int opt, status;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		status = cli_option(cli, opt, argc, argv);
		if (status >= 0)
			return status;
	}
	return cli_positional(argc, argv, min, max);
}

int
cli_enroll(struct cli *cli, int argc, char **argv)
{
	struct dests d;
	int status;

	status = plain_options(cli, argc, argv, 2, 3);
	if (status >= 0)
		return status;
	if (!cli_user_ok(argv[optind]) ||
	    !parse_dests(argv + optind + 1, argc - optind - 1, &d))
		return CLI_USAGE;
	status = cli_load_config(cli);
	if (status != CLI_OK)
		return status;
	return edit_user(cli, argv[optind], &d);
}

int
cli_unenroll(struct cli *cli, int argc, char **argv)
{
	int status;

	status = plain_options(cli, argc, argv, 1, 1);
	if (status >= 0)
		return status;
	if (!cli_user_ok(argv[optind]))
		return CLI_USAGE;
	status = cli_load_config(cli);
	if (status != CLI_OK)
		return status;
	return edit_user(cli, argv[optind], NULL);
}
