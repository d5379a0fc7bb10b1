/*
 * cli_api.c - "send", "verify" and "validate-token": the configured
 * provider driven by hand, through the same provider code the module
 * uses, so what works here works at the login prompt.
 *
 * The CLI does not count its sends against limits.max_sends_per_hour:
 * those limits guard against strangers at a login prompt, not root.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/phones.h"
#include "../core/text.h"
#include "../core/wipe.h"
#include "../engine/engine.h"
#include "../providers/session.h"
#include "cli.h"

/* The channel a send or verify is for. */
struct asked_channel {
	const char *name;	 /* as given or chosen, for messages; NULL:
				    any (validate-token) */
	bool valid;		 /* name is a channel... */
	enum bv_channel channel; /* ...this one */
};

/* What one send, verify or validate run needs. */
struct api_run {
	struct provider_session session; /* the providers, in process */
	const struct bv_provider *p;	 /* the one picked, selected */
	struct asked_channel asked;
	struct bv_contact contact;
	const char *dest; /* in contact, or NULL: any */
	struct bv_outcome out;
	char masked[EMAIL_MAX + 16];
};

/* Options of the three commands, parsed into one place. */
struct api_args {
	const char *provider; /* --provider */
	const char *channel;  /* --channel */
	const char *id;	      /* --id */
	const char *user;     /* --user (validate-token) */
	const char *file;     /* --file: the code or token */
	bool show_token;      /* --show-token */
	bool consume;	      /* --consume */
};

/*
 * The provider the engine picks for the options (called name, sending by
 * the channel asked, able to validate when asked to), or NULL after
 * saying why.  Its operations run here, in process; the module's run in
 * the helper.
 */
static const struct bv_provider_info *
pick_provider(const struct bv_config *cfg, const char *name,
	      const struct asked_channel *asked, bool need_validate)
{
	const struct bv_provider_info *p = NULL;
	const char *channel = asked->name;

	if (channel == NULL || asked->valid)
		p = engine_pick_provider(
		    cfg, name, channel ? asked->channel : BV_CHANNEL_COUNT,
		    need_validate);
	if (p != NULL)
		return p;
	if (name != NULL)
		fprintf(stderr,
			"baxverify: provider \"%s\" is not "
			"configured%s%s%s\n",
			name, channel ? " or cannot send by " : "",
			channel ? channel : "",
			need_validate ? " or cannot validate tokens" : "");
	else
		fprintf(stderr, "baxverify: no configured provider %s%s\n",
			need_validate ? "can validate tokens" : "sends by ",
			need_validate ? "" : channel);
	return NULL;
}

/* Where user's codes go by the channel asked (the engine's lookup). */
static int
find_dest(struct cli *cli, struct api_run *r, const char *user)
{
	enum bv_channel channel = r->asked.channel;
	struct bv_engine e;
	enum bv_result rc;

	engine_init(&e, &cli->cfg, &cli->log, user, "");
	rc = phones_lookup(&cli->cfg, user, &cli->log, &e.contact);
	r->contact = e.contact;
	if (rc != BV_OK)
		return cli_status_for(rc); /* logged, naming file and line */
	/* validate-token names no channel: whatever the user has. */
	if (r->asked.name == NULL && r->contact.phone == NULL)
		channel = BV_CHANNEL_EMAIL;
	r->dest = engine_destination(&e, channel);
	if (r->dest == NULL) {
		fprintf(stderr, "baxverify: %s has no %s in %s\n", user,
			channel_is_email(channel) ? "email address"
						  : "phone number",
			cli->cfg.phones_file);
		return CLI_FAILED;
	}
	engine_mask(channel, r->dest, r->masked, sizeof(r->masked));
	return CLI_OK;
}

/*
 * The channel of a send or verify: --channel, else the default; none for
 * validate-token, nor for a --provider nobody knows (pick_provider says
 * so).
 */
static void
ask_channel(const struct bv_config *cfg, const struct api_args *a,
	    bool validate, struct asked_channel *asked)
{
	const struct bv_provider_info *named = provider_info_find(a->provider);

	memset(asked, 0, sizeof(*asked));
	if (a->channel != NULL) {
		asked->name = a->channel;
		asked->valid = channel_parse(a->channel, &asked->channel);
	} else if (!validate && (a->provider == NULL || named != NULL)) {
		asked->channel = engine_default_channel(cfg, named);
		asked->name = channel_name(asked->channel);
		asked->valid = true;
	}
}

/* Configuration, provider, channel, destination and HTTP client. */
static int
run_setup(struct cli *cli, struct api_run *r, const struct api_args *a,
	  const char *user, bool validate)
{
	const struct bv_provider_info *p;
	int status;

	status = cli_load_config(cli);
	if (status != CLI_OK)
		return status;
	ask_channel(&cli->cfg, a, validate, &r->asked);
	p = pick_provider(&cli->cfg, a->provider, &r->asked, validate);
	if (p == NULL)
		return CLI_USAGE;
	r->out.attempts_left = -1;
	if (user != NULL) {
		status = find_dest(cli, r, user);
		if (status != CLI_OK)
			return status;
	}
	if (session_open(&r->session, &cli->cfg, &cli->log, user, NULL) !=
	    BV_OK) {
		fprintf(stderr, "baxverify: cannot set up the providers\n");
		return CLI_IO;
	}
	/* Listed: pick_provider took it from the configuration. */
	r->p = session_select(&r->session, p);
	return r->p != NULL ? CLI_OK : CLI_CONFIG;
}

static void
run_clear(struct api_run *r)
{
	session_close(&r->session);
	contact_clear(&r->contact);
}

/* Parse the options of send, verify and validate-token. */
static int
api_options(struct cli *cli, int argc, char **argv, struct api_args *a)
{
	static const struct option opts[] = {
	    {"provider", required_argument, NULL, 'p'},
	    {"channel", required_argument, NULL, 'c'},
	    {"id", required_argument, NULL, 'i'},
	    {"user", required_argument, NULL, 'u'},
	    {"show-token", no_argument, NULL, 's'},
	    {"consume", no_argument, NULL, 'k'},
	    {"file", required_argument, NULL, 'f'},
	    CLI_COMMON_OPTIONS,
	};
	int opt, status;

	memset(a, 0, sizeof(*a));
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		status = -1;
		if (opt == 'p')
			a->provider = optarg;
		else if (opt == 'c')
			a->channel = optarg;
		else if (opt == 'i')
			a->id = optarg;
		else if (opt == 'u')
			a->user = optarg;
		else if (opt == 's')
			a->show_token = true;
		else if (opt == 'k')
			a->consume = true;
		else if (opt == 'f')
			a->file = optarg;
		else
			status = cli_option(cli, opt, argc, argv);
		if (status >= 0)
			return status;
	}
	return -1;
}

/* Options that make no sense for a command are mistakes, not no-ops. */
static int
refuse_options(const char *cmd, const struct api_args *a, const char *ok)
{
	if ((a->id && !strchr(ok, 'i')) || (a->user && !strchr(ok, 'u')) ||
	    (a->channel && !strchr(ok, 'c')) ||
	    (a->show_token && !strchr(ok, 's')) ||
	    (a->consume && !strchr(ok, 'k')) || (a->file && !strchr(ok, 'f')))
		return cli_usage_error(cmd, "option not valid here");
	return -1;
}

int
cli_send(struct cli *cli, int argc, char **argv)
{
	struct api_run r;
	struct api_args a;
	const char *ref = NULL;
	time_t expires = 0;
	char when[32];
	enum bv_result rc;
	int status;

	memset(&r, 0, sizeof(r));
	status = api_options(cli, argc, argv, &a);
	if (status < 0)
		status = refuse_options("send", &a, "pc");
	if (status < 0)
		status = cli_positional(argc, argv, 1, 1);
	if (status >= 0)
		goto out;
	status = CLI_USAGE;
	if (!cli_user_ok(argv[optind]))
		goto out;
	status = run_setup(cli, &r, &a, argv[optind], false);
	if (status != CLI_OK)
		goto out;
	rc = session_send(&r.session, r.p->info, r.asked.channel, r.dest,
			  &r.out);
	status = cli_status_for(rc);
	if (rc != BV_OK) {
		cli_print_outcome(r.p->info->name, rc, &r.out);
		goto out;
	}
	printf("sent a code to %s by %s via %s\n", r.masked,
	       channel_name(r.asked.channel), r.p->info->name);
	/* What a later verify must be given (Tryvox's verification id). */
	if (r.p->reference != NULL)
		ref = r.p->reference(r.session.ctx.state, &expires);
	if (ref != NULL)
		printf("verification id: %s (give it to verify --id)\n", ref);
	if (expires != 0) {
		cli_format_time(expires, when, sizeof(when));
		printf("the code expires at %s\n", when);
	}
out:
	run_clear(&r);
	return status;
}

static void
print_proof(const struct bv_proof *proof, bool show)
{
	char when[32];
	long left = (long)(proof->expires - time(NULL));

	cli_format_time(proof->expires, when, sizeof(when));
	printf("verified; the proof token expires at %s", when);
	if (proof->expires != 0)
		printf(" (in %ld s)", left > 0 ? left : 0);
	printf("\n");
	if (show)
		printf("token: %s\n", proof->token);
}

/* Check code for user; status out. */
static int
verify_code(struct api_run *r, const char *typed, bool show)
{
	char code[CODE_MAX_DIGITS + 1];
	struct bv_proof proof = {NULL, 0};
	enum bv_result rc;
	int status = CLI_USAGE;

	if (!code_normalize(typed, code, sizeof(code))) {
		fprintf(stderr,
			"baxverify: verify: CODE must be %d to %d "
			"digits\n",
			CODE_MIN_DIGITS, CODE_MAX_DIGITS);
		goto out;
	}
	rc = session_target(&r->session, r->asked.channel, r->dest);
	if (rc == BV_OK)
		rc = session_check(&r->session, r->p->info, code, &proof,
				   &r->out);
	status = cli_status_for(rc);
	if (rc != BV_OK) {
		cli_print_outcome(r->p->info->name, rc, &r->out);
		if (r->out.attempts_left >= 0)
			fprintf(stderr, "  attempts left: %ld\n",
				r->out.attempts_left);
		goto out;
	}
	print_proof(&proof, show);
out:
	explicit_bzero(code, sizeof(code));
	bv_proof_clear(&proof);
	return status;
}

int
cli_verify(struct cli *cli, int argc, char **argv)
{
	struct api_run r;
	struct api_args a;
	char *code = NULL;
	char why[128];
	int status;

	memset(&r, 0, sizeof(r));
	status = api_options(cli, argc, argv, &a);
	if (status < 0)
		status = refuse_options("verify", &a, "pcisf");
	if (status < 0)
		status = cli_positional(argc, argv, 1, 2);
	if (status >= 0)
		goto out;
	code = cli_take_secret(cli, "verify", "code",
			       optind + 1 < argc ? argv[optind + 1] : NULL,
			       a.file, &status);
	if (code == NULL)
		goto out;
	status = CLI_USAGE;
	if (!cli_user_ok(argv[optind]))
		goto out;
	status = run_setup(cli, &r, &a, argv[optind], false);
	if (status != CLI_OK)
		goto out;
	/* A check that needs what send left (Tryvox's verification id):
	   only the send of another run printed it. */
	if (provider_needs_reference(r.p->info) && a.id == NULL) {
		snprintf(why, sizeof(why),
			 "%s needs --id VERIFICATION_ID (printed by send)",
			 r.p->info->name);
		status = cli_usage_error("verify", why);
		goto out;
	}
	status = CLI_IO;
	if (a.id != NULL && r.p->set_reference != NULL &&
	    r.p->set_reference(r.session.ctx.state, a.id) != BV_OK)
		goto out;
	status = verify_code(&r, code, a.show_token);
out:
	bv_free_secret(code);
	run_clear(&r);
	return status;
}

/* Say what the service said of the token. */
static int
report_validity(const struct api_run *r, enum bv_result rc, bool consume)
{
	if (rc == BV_OK) {
		bool spent = consume && provider_consumes(r->p->info);

		printf("valid%s%s%s\n", r->dest ? " for " : "",
		       r->dest ? r->masked : "",
		       spent ? " (now consumed)" : "");
		return CLI_OK;
	}
	/* An answer about the token (not an outage) is "invalid". */
	if (rc == BV_REJECTED || rc == BV_EXPIRED)
		printf("invalid\n");
	cli_print_outcome(r->p->info->name, rc, &r->out);
	return cli_status_for(rc);
}

int
cli_validate_token(struct cli *cli, int argc, char **argv)
{
	struct api_run r;
	struct api_args a;
	char *token = NULL;
	char why[128];
	enum bv_result rc;
	int status;

	memset(&r, 0, sizeof(r));
	status = api_options(cli, argc, argv, &a);
	if (status < 0)
		status = refuse_options("validate-token", &a, "pkuf");
	if (status < 0)
		status = cli_positional(argc, argv, 0, 1);
	if (status >= 0)
		goto out;
	token = cli_take_secret(cli, "validate-token", "token",
				optind < argc ? argv[optind] : NULL, a.file,
				&status);
	if (token == NULL)
		goto out;
	status = CLI_USAGE;
	if (a.user != NULL && !cli_user_ok(a.user))
		goto out;
	status = run_setup(cli, &r, &a, a.user, true);
	if (status != CLI_OK)
		goto out;
	/* A provider that keeps its proofs in the user's record. */
	if (provider_keeps_user_state(r.p->info) && a.user == NULL) {
		snprintf(why, sizeof(why), "the %s provider needs --user USER",
			 r.p->info->name);
		status = cli_usage_error("validate-token", why);
		goto out;
	}
	rc = session_validate(&r.session, r.p->info, r.dest, token, a.consume,
			      &r.out);
	status = report_validity(&r, rc, a.consume);
out:
	bv_free_secret(token);
	run_clear(&r);
	return status;
}
