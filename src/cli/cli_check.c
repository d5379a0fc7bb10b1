/*
 * cli_check.c - "baxverify check": is this installation able to ask for
 * codes?  The configuration, a user's destination, the local store (and
 * the providers it holds marked down), and one authenticated call to
 * each configured provider's API.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/child.h"
#include "../core/phones.h"
#include "../core/text.h"
#include "../engine/engine.h"
#include "../providers/catalog.h"
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
 * The engine decides; the command says.  Its own lines (asked, skipped,
 * denied) are the module's log lines in other words, so only warnings
 * and errors (a group or phones lookup that failed) go to stderr.
 */
static void
quiet_sink(void *arg, int prio, const char *line)
{
	(void)arg;
	if (prio <= LOG_WARNING)
		fprintf(stderr, "baxverify: %s\n", line);
}

/* "CHANNEL to MASKED, ..." for the channels the engine would offer. */
static size_t
offered(const struct bv_engine *e, char *list, size_t listsz)
{
	enum bv_channel ch[ENGINE_MAX_CHANNELS];
	char masked[ENGINE_MASKED_MAX];
	size_t i, n, used = 0;

	list[0] = '\0';
	n = engine_usable_channels(e, ch, ENGINE_MAX_CHANNELS);
	for (i = 0; i < n && used < listsz; i++) {
		engine_mask(ch[i], engine_destination(e, ch[i]), masked,
			    sizeof(masked));
		used += (size_t)snprintf(list + used, listsz - used,
					 "%s%s to %s", used ? ", " : "",
					 channel_name(ch[i]), masked);
	}
	return n;
}

/* The channels the configuration offers, "sms, email". */
static void
wanted(const struct bv_config *cfg, char *out, size_t outsz)
{
	enum bv_channel ch[ENGINE_MAX_CHANNELS];
	size_t i, n, used = 0;

	out[0] = '\0';
	n = engine_wanted_channels(cfg, ch, ENGINE_MAX_CHANNELS);
	for (i = 0; i < n && used < outsz; i++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%s",
					 used ? ", " : "", channel_name(ch[i]));
}

/* With the engine's selection made: asked, skipped (nullok) or denied. */
static int
report_destinations(struct cli *cli, const struct bv_engine *e,
		    enum engine_selection sel)
{
	const struct bv_contact *c = &e->contact;
	char phone[64] = "-", email[ENGINE_MASKED_MAX] = "-";
	char list[4 * (EMAIL_MAX + 32)], want[64];

	if (c->phone != NULL)
		phone_mask(c->phone, phone, sizeof(phone));
	if (c->email != NULL)
		email_mask(c->email, email, sizeof(email));
	printf("user %s: phone %s, email %s\n", e->user, phone, email);
	if (sel == ENGINE_ASK) {
		offered(e, list, sizeof(list));
		printf("user %s: asked for a code: %s\n", e->user, list);
		return CLI_OK;
	}
	wanted(&cli->cfg, want, sizeof(want));
	if (sel == ENGINE_SKIP_NULLOK) {
		printf("user %s: skipped: nothing to send a code to by %s in "
		       "%s%s (nullok)\n",
		       e->user, want, cli->cfg.phones_file,
		       cli->cfg.phones_gecos ? " or GECOS" : "");
		return CLI_OK;
	}
	fprintf(stderr,
		"user %s: denied: nothing to send a code to by %s in %s%s "
		"(\"No phone number is registered\"; with nullok, here or "
		"on the PAM line, the user would be skipped)\n",
		e->user, want, cli->cfg.phones_file,
		cli->cfg.phones_gecos ? " or GECOS" : "");
	return CLI_FAILED;
}

/*
 * What the module would do with user, decided by the same engine: the
 * groups filter (skipped when it does not apply), then the
 * destinations.  A group lookup error is an error, as it is for the
 * module (it denies), never "skipped".
 */
static int
check_user(struct cli *cli, const char *user)
{
	struct bv_log log = {.debug = false, .sink = quiet_sink};
	enum engine_selection sel = ENGINE_NO_DESTINATION;
	struct bv_engine e;
	char who[192];
	enum bv_result rc;
	int status;

	snprintf(who, sizeof(who), "user=%s", user);
	engine_init(&e, &cli->cfg, &log, user, who);
	rc = engine_select(&e, &sel);
	if (rc != BV_OK) {
		/* Said what failed: a group lookup, or the phones file. */
		if (rc == BV_INTERNAL)
			fprintf(stderr,
				"user %s: error: the groups filter cannot be "
				"applied (the module denies: %s)\n",
				user, bv_result_name(rc));
		/* The passwd or group database is part of the setup. */
		status = rc == BV_INTERNAL ? CLI_CONFIG : cli_status_for(rc);
	} else if (sel == ENGINE_SKIP_GROUPS) {
		printf("user %s: skipped: in none of the groups the module "
		       "applies to (groups)\n",
		       user);
		status = CLI_OK;
	} else {
		status = report_destinations(cli, &e, sel);
	}
	engine_clear(&e);
	return status;
}

/*
 * The helper the module starts for every provider call (the offline one
 * when every listed provider is local), by the module's own rule
 * (child_open_trusted): a helper anyone else could change would run as
 * root with every code and key.
 */
static int
check_helper(const struct bv_config *cfg)
{
	char why[96], helper[PATH_MAX];
	int fd;

	if (!provider_helper_path(cfg, helper, sizeof(helper))) {
		fprintf(stderr, "helper: %s: path too long\n", helper);
		return CLI_CONFIG;
	}
	fd = child_open_trusted(helper, why, sizeof(why));
	if (fd < 0) {
		fprintf(stderr, "helper: %s refused: %s\n", helper, why);
		return CLI_CONFIG;
	}
	close(fd);
	printf("helper: %s: ok\n", helper);
	return CLI_OK;
}

/*
 * The phones file as the module reads it (owner, mode, no symlink, each
 * line), whether or not a user was named: a refused file fails every
 * login the module asks a code for.
 */
static int
check_phones(struct cli *cli)
{
	struct bv_contact c = {NULL, NULL};
	enum bv_result rc;

	/* A name no line can have: every line is read, none is taken. */
	rc = phones_lookup(&cli->cfg, "#", &cli->log, &c);
	contact_clear(&c);
	if (rc != BV_OK) {
		fprintf(stderr,
			"phones: %s refused (the module denies every "
			"user it asks a code for)\n",
			cli->cfg.phones_file);
		return cli_status_for(rc);
	}
	printf("phones: %s: ok\n", cli->cfg.phones_file);
	return CLI_OK;
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
	rc = store_open(&cli->cfg, user, &cli->log, &txn);
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

/* Is name one of the providers cfg lists? */
static bool
listed(const struct bv_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg->providers[i] != NULL; i++)
		if (strcmp(cfg->providers[i], name) == 0)
			return true;
	return false;
}

/* One mark of the health record, as the module would take it now. */
static void
report_mark(const struct bv_config *cfg, const struct store_mark *m, time_t now)
{
	char since[32], last[32], until[32];

	cli_format_time(m->since, since, sizeof(since));
	cli_format_time(m->last, last, sizeof(last));
	printf("providers: %s marked down since %s (last failure %s): ",
	       m->provider, since, last);
	if (!listed(cfg, m->provider)) {
		printf("not listed in provider\n");
	} else if (cfg->health_retry > 0 && m->last <= now &&
		   now - m->last < cfg->health_retry) {
		cli_format_time(m->last + cfg->health_retry, until,
				sizeof(until));
		printf("tried after the others until %s\n", until);
	} else {
		printf("tried in its turn again (health_retry %ld s)\n",
		       cfg->health_retry);
	}
}

/*
 * The providers' health record (health_retry), as the module reads it at
 * every login.  A mark is news, not a failure (the probes below say
 * whether each provider works now); a record that cannot be used fails
 * the check, though nobody is denied for it: the module ignores it.
 */
static int
check_health(struct cli *cli)
{
	const struct bv_config *cfg = &cli->cfg;
	struct store_health h;
	time_t now = time(NULL);
	size_t i;

	if (store_health_read(cfg, &cli->log, &h) != BV_OK) {
		fprintf(stderr,
			"providers: the health record cannot be used; the "
			"module ignores it and tries the providers in their "
			"order (\"baxverify reset --providers\" writes a new "
			"one)\n");
		return CLI_IO;
	}
	if (h.nmarks == 0 && cfg->providers[0] != NULL &&
	    cfg->providers[1] != NULL && cfg->health_retry > 0)
		printf("providers: none marked down\n");
	for (i = 0; i < h.nmarks; i++)
		report_mark(cfg, &h.marks[i], now);
	return CLI_OK;
}

/*
 * One listed provider's probe: the configuration shown to work, nothing
 * sent to anyone.  The probe says what it found (or out does).
 */
static int
check_provider(struct cli *cli, const char *name)
{
	const struct bv_provider_info *p = provider_info_find(name);
	struct bv_outcome out = {.attempts_left = -1};
	char said[PATH_MAX + 128];
	enum bv_result rc;

	said[0] = '\0';
	rc = session_probe(&cli->session, p, said, sizeof(said), &out);
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
	note(&status, check_phones(cli));
	note(&status, check_helper(&cli->cfg));
	note(&status, check_store(cli, user));
	note(&status, check_health(cli));
	if (cli_session(cli) != CLI_OK)
		return CLI_IO;
	for (i = 0; cli->cfg.providers[i] != NULL; i++)
		note(&status, check_provider(cli, cli->cfg.providers[i]));
	if (status == CLI_OK)
		printf("ok\n");
	else
		fprintf(stderr, "check failed\n");
	return status;
}
