/*
 * cli_check.c - "baxverify check": is this installation able to ask for
 * codes?  The configuration, a user's destination, the local store, and
 * one authenticated call to each configured provider's API.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/groups.h"
#include "../core/phones.h"
#include "../core/text.h"
#include "../store/store.h"
#include "cli.h"

/* Keep the first failure's status: the most basic problem comes first. */
static void
note(int *status, int s)
{
	if (*status == CLI_OK)
		*status = s;
}

/*
 * Append "CHANNEL to MASKED" to list (size listsz) for channel when the
 * user has a destination for it; true when they do.
 */
static bool
add_channel(const struct bv_contact *c, enum bv_channel channel, char *list,
	    size_t listsz)
{
	char masked[EMAIL_MAX + 16];
	bool email = channel_is_email(channel);
	const char *dest = email ? c->email : c->phone;
	size_t used = strlen(list);

	if (dest == NULL)
		return false;
	if (email)
		email_mask(dest, masked, sizeof(masked));
	else
		phone_mask(dest, masked, sizeof(masked));
	snprintf(list + used, listsz - used, "%s%s to %s", used ? ", " : "",
		 channel_name(channel), masked);
	return true;
}

/*
 * The channels the module would offer this user, as it chooses them:
 * those of "channels" (or, without it, the first provider's own) for
 * which the user has a destination.  Every channel of "channels" has a
 * provider that sends by it: the configuration was refused otherwise.
 * Returns how many; list gets them, wanted the channels asked about.
 */
static size_t
usable_channels(const struct bv_config *cfg, const struct bv_contact *c,
		char *list, size_t listsz, char *wanted, size_t wantedsz)
{
	enum bv_channel only = cli_default_channel(cfg, NULL);
	size_t i, n = 0;

	list[0] = wanted[0] = '\0';
	if (cfg->nchannels == 0) {
		snprintf(wanted, wantedsz, "%s", channel_name(only));
		return add_channel(c, only, list, listsz) ? 1 : 0;
	}
	for (i = 0; i < cfg->nchannels; i++) {
		size_t used = strlen(wanted);

		snprintf(wanted + used, wantedsz - used, "%s%s",
			 used ? ", " : "", channel_name(cfg->channels[i]));
		if (add_channel(c, cfg->channels[i], list, listsz))
			n++;
	}
	return n;
}

/* With a user's contact looked up: asked, skipped (nullok) or denied. */
static int
report_destinations(struct cli *cli, const char *user,
		    const struct bv_contact *c)
{
	char phone[64] = "-", email[EMAIL_MAX + 16] = "-";
	char list[4 * (EMAIL_MAX + 32)], wanted[64];

	if (c->phone != NULL)
		phone_mask(c->phone, phone, sizeof(phone));
	if (c->email != NULL)
		email_mask(c->email, email, sizeof(email));
	printf("user %s: phone %s, email %s\n", user, phone, email);
	if (usable_channels(&cli->cfg, c, list, sizeof(list), wanted,
			    sizeof(wanted)) > 0) {
		printf("user %s: asked for a code: %s\n", user, list);
		return CLI_OK;
	}
	if (cli->cfg.nullok) {
		printf("user %s: skipped: nothing to send a code to by %s in "
		       "%s%s (nullok)\n",
		       user, wanted, cli->cfg.phones_file,
		       cli->cfg.phones_gecos ? " or GECOS" : "");
		return CLI_OK;
	}
	fprintf(stderr,
		"user %s: denied: nothing to send a code to by %s in %s%s "
		"(\"No phone number is registered\"; with nullok, here or "
		"on the PAM line, the user would be skipped)\n",
		user, wanted, cli->cfg.phones_file,
		cli->cfg.phones_gecos ? " or GECOS" : "");
	return CLI_FAILED;
}

/*
 * What the module would do with user, in its order: the groups filter
 * (skipped when it does not apply), then the destinations.  *skipped is
 * set when the user would not be asked at all.  A group lookup error is
 * an error, as it is for the module (it denies), never "skipped".
 */
static int
check_user(struct cli *cli, const char *user)
{
	struct bv_contact c = {NULL, NULL};
	bool applies = true;
	enum bv_result rc;
	int status;

	rc = groups_user_applies(cli->cfg.groups, user, &cli->log, &applies);
	if (rc != BV_OK) {
		/* groups_user_applies has said what failed. */
		fprintf(stderr,
			"user %s: error: the groups filter cannot be "
			"applied (the module denies: %s)\n",
			user, bv_result_name(rc));
		/* The passwd or group database is part of the setup. */
		status = rc == BV_NOMEM ? cli_status_for(rc) : CLI_CONFIG;
		goto out;
	}
	if (!applies) {
		printf("user %s: skipped: in none of the groups the module "
		       "applies to (groups)\n",
		       user);
		status = CLI_OK;
		goto out;
	}
	rc = phones_lookup(&cli->cfg, user, &cli->log, &c);
	if (rc != BV_OK) {
		/* phones_lookup has logged which file and line. */
		status = cli_status_for(rc);
		goto out;
	}
	status = report_destinations(cli, user, &c);
out:
	contact_clear(&c);
	return status;
}

/* The store directory, as store_open will demand it. */
static int
check_store_dir(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) != 0 && errno == ENOENT) {
		printf("store: %s does not exist yet; it is created (mode "
		       "0700) at first use\n",
		       dir);
		return CLI_OK;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "store: %s is not a directory\n", dir);
		return CLI_IO;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		fprintf(stderr,
			"store: %s must be owned by root with mode "
			"0700 (it is %04o, uid %u)\n",
			dir, (unsigned)(st.st_mode & 07777),
			(unsigned)st.st_uid);
		return CLI_IO;
	}
	printf("store: %s: ok\n", dir);
	return CLI_OK;
}

/* With a user: open (lock, read, parse) the user's own record. */
static int
check_store(struct cli *cli, const char *user)
{
	struct store_txn txn;
	char until[32];
	enum bv_result rc;

	if (user == NULL)
		return check_store_dir(cli->cfg.store_dir);
	rc = store_open(cli->cfg.store_dir, user, &cli->log, &txn);
	if (rc == BV_OK) {
		printf("store: %s: ok (%s: %zu recovery codes, %ld failures",
		       cli->cfg.store_dir, user, txn.rec.nrecovery,
		       txn.rec.failures);
		if (txn.rec.locked_until > time(NULL)) {
			cli_format_time(txn.rec.locked_until, until,
					sizeof(until));
			printf(", LOCKED until %s", until);
		}
		printf(")\n");
	}
	store_close(&txn);
	/* store_open has logged what is wrong with the dir or record. */
	return rc == BV_OK ? CLI_OK : CLI_IO;
}

/*
 * One listed provider's probe: the configuration shown to work, nothing
 * sent to anyone.  The probe says what it found (or out does).
 */
static int
check_provider(struct cli *cli, const char *name)
{
	const struct bv_provider *p = provider_find(name);
	struct bv_outcome out;
	struct bv_ctx ctx;
	char said[PATH_MAX + 128];
	enum bv_result rc;

	/* cfg_load refuses unknown providers; this is only a guard. */
	if (p == NULL || p->probe == NULL) {
		fprintf(stderr, "%s: unknown provider\n", name);
		return CLI_CONFIG;
	}
	memset(&ctx, 0, sizeof(ctx));
	memset(&out, 0, sizeof(out));
	out.attempts_left = -1;
	ctx.cfg = &cli->cfg;
	ctx.conf = cfg_provider_conf(&cli->cfg, p->info);
	ctx.http = cli->http;
	ctx.log = &cli->log;
	said[0] = '\0';
	rc = p->probe(&ctx, said, sizeof(said), &out);
	if (rc == BV_OK) {
		printf("%s: %s\n", name, said);
		return CLI_OK;
	}
	if (said[0] != '\0') {
		fprintf(stderr, "%s: %s\n", name, said);
		return cli_status_for(rc);
	}
	cli_print_outcome(name, rc, &out);
	return CLI_FAILED;
}

int
cli_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"user", required_argument, NULL, 'u'},
	    CLI_COMMON_OPTIONS,
	};
	const char *user = NULL;
	int opt, status;
	size_t i;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'u') {
			user = optarg;
			continue;
		}
		status = cli_option(cli, opt, argc, argv);
		if (status >= 0)
			return status;
	}
	status = cli_positional(argc, argv, 0, 0);
	if (status >= 0)
		return status;
	if (user != NULL && !cli_user_ok(user))
		return CLI_USAGE;
	status = cli_load_config(cli);
	if (status != CLI_OK)
		return status;
	printf("config: %s: valid\n", cli->cfg.path);
	if (user != NULL)
		note(&status, check_user(cli, user));
	note(&status, check_store(cli, user));
	if (cli_http(cli) != CLI_OK)
		return CLI_IO;
	for (i = 0; cli->cfg.providers[i] != NULL; i++)
		note(&status, check_provider(cli, cli->cfg.providers[i]));
	if (status == CLI_OK)
		printf("ok\n");
	else
		fprintf(stderr, "check failed\n");
	return status;
}
