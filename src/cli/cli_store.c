/*
 * cli_store.c - "recovery-codes" and "reset": a user's record in the
 * local store, or the providers' health record (reset --providers),
 * changed in one locked transaction each.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/text.h"
#include "../providers/local.h"
#include "../store/store.h"
#include "cli.h"

#define RECOVERY_DEFAULT 10

/* Fresh codes and their hashes, made before the store is locked. */
struct recovery_set {
	char code[STORE_MAX_RECOVERY][RECOVERY_DIGITS + 1];
	char hash[STORE_MAX_RECOVERY][STORE_HASH_MAX];
	size_t n;
};

/*
 * Draw and hash n codes.  Hashing is slow on purpose (yescrypt), so it
 * happens here, without the user's lock held: a login of that user must
 * not wait for it.
 */
static int
make_codes(struct recovery_set *set, size_t n)
{
	size_t i;

	set->n = n;
	for (i = 0; i < n; i++) {
		if (local_random_digits(set->code[i], RECOVERY_DIGITS) !=
			BV_OK ||
		    store_hash(set->code[i], set->hash[i]) != BV_OK) {
			fprintf(stderr,
				"baxverify: cannot make a recovery "
				"code (no randomness or crypt(3) failed)\n");
			return CLI_IO;
		}
	}
	return CLI_OK;
}

/* "  1234-5678-9012\n" */
#define CODE_LINE (2 + RECOVERY_DIGITS + 2 + 1)

/*
 * Print the codes as 1234-5678-9012, the form users will type.  They go
 * out with write(2) from a buffer we wipe, not through stdio, whose
 * buffer would keep a copy we cannot wipe.
 */
static int
print_codes(const struct recovery_set *set, const char *user)
{
	char buf[STORE_MAX_RECOVERY * CODE_LINE + 1];
	size_t i, n = 0, done = 0;
	ssize_t w;

	printf("Recovery codes for %s -- each works once.  They are shown "
	       "only now:\nstore them somewhere safe (not on this host).\n\n",
	       user);
	if (fflush(stdout) != 0)
		return CLI_IO;
	for (i = 0; i < set->n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "  %.4s-%.4s-%.4s\n", set->code[i],
				      set->code[i] + 4, set->code[i] + 8);
	while (done < n) {
		w = write(STDOUT_FILENO, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	explicit_bzero(buf, sizeof(buf));
	if (done == n)
		return CLI_OK;
	fprintf(stderr, "baxverify: could not print the codes; they are "
			"stored but unknown: run the command again\n");
	return CLI_IO;
}

/* Replace (set != NULL) or remove user's recovery hashes. */
static int
store_codes(struct cli *cli, const char *user, const struct recovery_set *set,
	    size_t *old)
{
	struct store_txn txn;
	enum bv_result rc;
	size_t i;

	rc = store_open(&cli->cfg, user, &cli->log, &txn);
	if (rc != BV_OK)
		goto out;
	*old = txn.rec.nrecovery;
	memset(txn.rec.recovery, 0, sizeof(txn.rec.recovery));
	txn.rec.nrecovery = set != NULL ? set->n : 0;
	for (i = 0; i < txn.rec.nrecovery; i++)
		memcpy(txn.rec.recovery[i], set->hash[i], STORE_HASH_MAX);
	rc = store_commit(&txn);
out:
	store_close(&txn);
	/* store_open/commit have logged the directory or file at fault. */
	return rc == BV_OK ? CLI_OK : CLI_IO;
}

static int
recovery_options(struct cli *cli, int argc, char **argv, long *count,
		 bool *revoke)
{
	static const struct option opts[] = {
	    {"count", required_argument, NULL, 'n'},
	    {"revoke", no_argument, NULL, 'r'},
	    CLI_COMMON_OPTIONS,
	};
	const char *n = NULL;
	int opt, status = -1;

	opterr = 0;
	while (status < 0 &&
	       (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'n')
			n = optarg;
		else if (opt == 'r')
			*revoke = true;
		else
			status = cli_option(cli, opt, argc, argv);
	}
	if (status < 0)
		status = cli_positional(argc, argv, 1, 1);
	if (status < 0 && n != NULL && *revoke)
		status = cli_usage_error(argv[0], "--count and --revoke "
						  "exclude each other");
	if (status < 0 && n != NULL &&
	    !cli_number(n, 1, STORE_MAX_RECOVERY, "--count", count))
		status = CLI_USAGE;
	if (status < 0 && !cli_user_ok(argv[optind]))
		status = CLI_USAGE;
	return status;
}

int
cli_recovery_codes(struct cli *cli, int argc, char **argv)
{
	struct recovery_set set;
	long count = RECOVERY_DEFAULT;
	bool revoke = false;
	size_t old = 0;
	int status;

	memset(&set, 0, sizeof(set));
	status = recovery_options(cli, argc, argv, &count, &revoke);
	if (status >= 0)
		goto out;
	status = cli_load_config(cli);
	if (status == CLI_OK && !revoke)
		status = make_codes(&set, (size_t)count);
	if (status == CLI_OK)
		status =
		    store_codes(cli, argv[optind], revoke ? NULL : &set, &old);
	if (status != CLI_OK)
		goto out;
	/* Printed only once they are stored: a code that is shown works. */
	if (revoke) {
		printf("revoked %zu recovery code%s of %s\n", old,
		       old == 1 ? "" : "s", argv[optind]);
		goto out;
	}
	status = print_codes(&set, argv[optind]);
	if (status != CLI_OK)
		goto out;
	if (old > 0)
		printf("\nThe %zu earlier code%s no longer work.\n", old,
		       old == 1 ? "" : "s");
	if (!cli->cfg.recovery)
		fprintf(stderr,
			"baxverify: note: recovery.enabled is false "
			"in %s: the module refuses these codes until it is "
			"true\n",
			cli->cfg.path);
out:
	explicit_bzero(&set, sizeof(set));
	return status;
}

/* What reset clears: the lockout, the counters behind the limits and
   the grace windows (as sudo -K ends sudo's). */
struct cleared {
	long failures;
	time_t locked_until;
	size_t nsends;
	size_t nremember;
};

static void
report_reset(const struct cleared *c, const char *user)
{
	char until[32];

	if (c->failures == 0 && c->locked_until == 0 && c->nsends == 0 &&
	    c->nremember == 0) {
		printf("reset %s: nothing to clear\n", user);
		return;
	}
	printf("reset %s: cleared", user);
	if (c->locked_until > time(NULL)) {
		cli_format_time(c->locked_until, until, sizeof(until));
		printf(" a lockout until %s;", until);
	} else if (c->locked_until != 0) {
		printf(" an ended lockout;");
	}
	printf(" %ld failed verification%s; %zu recent send%s; %zu grace "
	       "window%s\n",
	       c->failures, c->failures == 1 ? "" : "s", c->nsends,
	       c->nsends == 1 ? "" : "s", c->nremember,
	       c->nremember == 1 ? "" : "s");
}

static int
reset_user(struct cli *cli, const char *user)
{
	struct store_txn txn;
	struct cleared c = {0, 0, 0, 0};
	enum bv_result rc;

	rc = store_open(&cli->cfg, user, &cli->log, &txn);
	if (rc != BV_OK)
		goto out;
	c.failures = txn.rec.failures;
	c.locked_until = txn.rec.locked_until;
	c.nsends = txn.rec.nsends;
	c.nremember = txn.rec.nremember;
	txn.rec.failures = 0;
	memset(txn.rec.remember, 0, sizeof(txn.rec.remember));
	txn.rec.nremember = 0;
	txn.rec.locked_until = 0;
	memset(txn.rec.sends, 0, sizeof(txn.rec.sends));
	txn.rec.nsends = 0;
	rc = store_commit(&txn);
	if (rc == BV_OK)
		report_reset(&c, user);
out:
	store_close(&txn);
	/* store_open/commit have logged the directory or file at fault. */
	return rc == BV_OK ? CLI_OK : CLI_IO;
}

/*
 * Clear every provider's health mark (health_retry): the next login
 * tries the providers in their order.  The record is written whole,
 * which also replaces one that was damaged.
 */
static int
reset_providers(struct cli *cli)
{
	struct store_health_txn txn;
	char names[STORE_MAX_MARKS * (STORE_PROVIDER_MAX + 2)];
	enum bv_result rc;
	size_t i, used = 0;

	names[0] = '\0';
	rc = store_health_open(&cli->cfg, &cli->log, &txn);
	if (rc != BV_OK)
		goto out;
	for (i = 0; i < txn.rec.nmarks; i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used,
					 "%s%s", i > 0 ? ", " : "",
					 txn.rec.marks[i].provider);
	memset(&txn.rec, 0, sizeof(txn.rec));
	rc = store_health_commit(&txn);
	if (rc == BV_OK && names[0] == '\0')
		printf("reset providers: nothing to clear\n");
	else if (rc == BV_OK)
		printf("reset providers: cleared the marks of %s\n", names);
out:
	store_health_close(&txn);
	/* store_health_open/commit have logged what is at fault. */
	return rc == BV_OK ? CLI_OK : CLI_IO;
}

int
cli_reset(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"providers", no_argument, NULL, 'p'},
	    CLI_COMMON_OPTIONS,
	};
	bool providers = false;
	int opt, status = -1;

	opterr = 0;
	while (status < 0 &&
	       (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p')
			providers = true;
		else
			status = cli_option(cli, opt, argc, argv);
	}
	/* USER, or --providers alone. */
	if (status < 0)
		status = cli_positional(argc, argv, providers ? 0 : 1,
					providers ? 0 : 1);
	if (status < 0 && !providers && !cli_user_ok(argv[optind]))
		status = CLI_USAGE;
	if (status >= 0)
		return status;
	status = cli_load_config(cli);
	if (status != CLI_OK)
		return status;
	return providers ? reset_providers(cli) : reset_user(cli, argv[optind]);
}
