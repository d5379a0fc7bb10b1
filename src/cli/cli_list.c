/*
 * cli_list.c - "list": who is in the phones file, and where their codes
 * go, masked as the module shows them unless --full is given.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../core/phones.h"
#include "../core/text.h"
#include "../core/wipe.h"
#include "cli.h"
#include "phonesfile.h"

/* Longest line whose fields we read; the module's are far shorter. */
#define LIST_LINE_MAX 1024
/* Display columns of a masked or full phone number. */
#define PHONE_COLUMNS 16

struct entry {
	char user[256];
	char phone[64]; /* masked or sanitised, or "-" */
	char email[EMAIL_MAX + 16];
	bool valid;
};

/*
 * One line of the file into e, read by the module's own parser; false
 * for comments and blank lines.
 */
static bool
read_entry(const struct pline *l, bool full, struct entry *e)
{
	char buf[LIST_LINE_MAX], *user, *phone, *email;
	enum phones_line kind;

	/* An overlong line is shown, not skipped: it is damage. */
	if (l->len >= sizeof(buf)) {
		snprintf(e->user, sizeof(e->user), "?");
		e->valid = false;
		return true;
	}
	memcpy(buf, l->start, l->len);
	buf[l->len] = '\0';
	kind = phones_parse_line(buf, &user, &phone, &email);
	if (kind == PHONES_LINE_EMPTY)
		return false;
	text_sanitize(e->user, sizeof(e->user), user);
	e->valid = kind == PHONES_LINE_ENTRY;
	snprintf(e->phone, sizeof(e->phone), "-");
	snprintf(e->email, sizeof(e->email), "-");
	if (phone != NULL && full)
		text_sanitize(e->phone, sizeof(e->phone), phone);
	else if (phone != NULL)
		phone_mask(phone, e->phone, sizeof(e->phone));
	if (email != NULL && full)
		text_sanitize(e->email, sizeof(e->email), email);
	else if (email != NULL)
		email_mask(email, e->email, sizeof(e->email));
	explicit_bzero(buf, sizeof(buf));
	return true;
}

/*
 * Would the module read the file at all?  Its own check (owner, mode,
 * no symlink): a file it refuses fails every login, so list must not
 * show it as if all were well.
 */
static int
module_accepts(struct cli *cli)
{
	char *text = NULL;
	size_t len = 0;
	enum bv_result rc;

	rc = cfg_read_trusted_file(cli->cfg.phones_file, false, 1024 * 1024,
				   &cli->log, &text, &len);
	bv_free_secret(text);
	if (rc == BV_OK)
		return CLI_OK;
	fprintf(stderr,
		"baxverify: %s is refused by the module: every "
		"login it asks for a code fails until this is fixed\n",
		cli->cfg.phones_file);
	return cli_status_for(rc);
}

/* Print every entry; a first pass finds the width of the user column. */
static void
print_entries(const struct phonesfile *pf, bool full)
{
	struct entry e;
	struct pline l;
	size_t pos = 0, width = 4, lineno = 0;

	while (pline_next(pf->text, pf->len, &pos, &l))
		if (read_entry(&l, full, &e) && cli_text_width(e.user) > width)
			width = cli_text_width(e.user);
	pos = 0;
	while (pline_next(pf->text, pf->len, &pos, &l)) {
		lineno++;
		if (!read_entry(&l, full, &e))
			continue;
		cli_print_padded(e.user, width + 2);
		if (!e.valid) {
			printf("INVALID (line %zu)\n", lineno);
			fprintf(stderr,
				"baxverify: %s:%zu: invalid entry: the "
				"module refuses %s until it is fixed\n",
				pf->path, lineno, e.user);
			continue;
		}
		cli_print_padded(e.phone, PHONE_COLUMNS + 2);
		printf("%s\n", e.email);
	}
}

int
cli_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"full", no_argument, NULL, 'f'},
	    CLI_COMMON_OPTIONS,
	};
	struct phonesfile pf;
	bool full = false;
	int opt, status;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f') {
			full = true;
			continue;
		}
		status = cli_option(cli, opt, argc, argv);
		if (status >= 0)
			return status;
	}
	status = cli_positional(argc, argv, 0, 0);
	if (status >= 0)
		return status;
	status = cli_load_config(cli);
	if (status != CLI_OK)
		return status;
	status = phonesfile_open(cli->cfg.phones_file, &pf);
	if (status == CLI_OK && !pf.exists)
		fprintf(stderr,
			"baxverify: %s does not exist: nobody is "
			"enrolled\n",
			pf.path);
	if (status == CLI_OK && pf.exists)
		status = module_accepts(cli);
	if (status == CLI_OK)
		print_entries(&pf, full);
	phonesfile_close(&pf);
	return status;
}
