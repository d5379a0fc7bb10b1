/*
 * pam_baxverify.c - the PAM entry points.
 *
 * pam_sm_authenticate reads as a story: arguments and config, the user,
 * whether the module applies and where the code may go, the dialogue,
 * the proof confirmed, the export, the verdict.  What a verification is
 * belongs to the engine (src/engine); this file gives it the PAM
 * conversation and the helper, and verdict() (verdict.c) alone turns
 * its result into a PAM code.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "auth.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* pam_set_data keys, for modules in the same process. */
#define DATA_TOKEN "baxverify_token"
#define DATA_DEST "baxverify_destination"
#define DATA_EXPIRES "baxverify_token_expires"
/* Who authenticated: sudo's session phase has PAM_USER = the target. */
#define DATA_USER "baxverify_user"

static void
free_secret_data(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	/* Replaced or released, the old value is ours to wipe and free. */
	(void)error_status;
	bv_free_secret(data);
}

/* libpam's answer to a call that stores something for us. */
static enum bv_result
stored(int pam_rc)
{
	if (pam_rc == PAM_SUCCESS)
		return BV_OK;
	return pam_rc == PAM_BUF_ERR ? BV_NOMEM : BV_INTERNAL;
}

/* Set NAME=value in the PAM environment, wiping our copy. */
static enum bv_result
put_env(pam_handle_t *pamh, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *kv = malloc(n);
	enum bv_result rc;

	if (kv == NULL)
		return BV_NOMEM;
	snprintf(kv, n, "%s=%s", name, value);
	rc = stored(pam_putenv(pamh, kv));
	bv_free_secret(kv);
	return rc;
}

static enum bv_result
set_data_copy(pam_handle_t *pamh, const char *key, const char *value)
{
	char *copy = strdup(value);
	enum bv_result rc;

	if (copy == NULL)
		return BV_NOMEM;
	rc = stored(pam_set_data(pamh, key, copy, free_secret_data));
	if (rc != BV_OK)
		bv_free_secret(copy);
	return rc;
}

/*
 * Make the proof visible to the session (PAM environment: sshd hands only
 * that back from its authentication process) and to other modules of this
 * process (pam_set_data).
 */
static enum bv_result
export_proof(struct auth_state *st)
{
	const struct bv_engine *e = &st->eng;
	char expires[32];
	enum bv_result rc;

	/* A recovery code proves nothing a service could confirm later. */
	if (e->recovered)
		return put_env(st->pamh, "BAXVERIFY_PROVIDER", "recovery");

	snprintf(expires, sizeof(expires), "%lld", (long long)e->proof.expires);
	rc = put_env(st->pamh, "BAXVERIFY_TOKEN", e->proof.token);
	if (rc == BV_OK)
		rc = put_env(st->pamh,
			     channel_is_email(e->channel) ? "BAXVERIFY_EMAIL"
							  : "BAXVERIFY_PHONE",
			     e->dest);
	if (rc == BV_OK)
		rc = put_env(st->pamh, "BAXVERIFY_TOKEN_EXPIRES", expires);
	if (rc == BV_OK)
		rc = put_env(st->pamh, "BAXVERIFY_PROVIDER", e->provider->name);
	if (rc == BV_OK)
		rc = put_env(st->pamh, "BAXVERIFY_CHANNEL",
			     channel_name(e->channel));
	if (rc == BV_OK)
		rc = set_data_copy(st->pamh, DATA_TOKEN, e->proof.token);
	if (rc == BV_OK)
		rc = set_data_copy(st->pamh, DATA_DEST, e->dest);
	if (rc == BV_OK)
		rc = set_data_copy(st->pamh, DATA_EXPIRES, expires);
	if (rc == BV_OK)
		rc = set_data_copy(st->pamh, DATA_USER, st->pam_user);
	return rc;
}

static bool
has_arg(int argc, const char **argv, const char *arg)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], arg) == 0)
			return true;
	return false;
}

/*
 * When the login session sid began (field 22 of /proc/SID/stat, in clock
 * ticks since boot), or 0.  With the session id it names one terminal
 * session: a pty number alone is reused by the next login on it.
 */
static unsigned long long
session_start(pid_t sid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)sid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces; fields resume after its ')'. */
	p = strrchr(buf, ')');
	for (field = 2; p != NULL && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

/* A PAM item as text, "-" when unset or empty. */
static const char *
item_text(const struct auth_state *st, int type)
{
	const void *item = NULL;

	if (pam_get_item(st->pamh, type, &item) != PAM_SUCCESS ||
	    item == NULL || *(const char *)item == '\0')
		return "-";
	return item;
}

/*
 * The grace key: service, terminal, remote host and the login session
 * (id and start time), so a success on one never opens another -- not
 * even the next login that gets the same pty.  The items are used whole
 * (not st->rhost, which is cut for the log); when they do not fit there
 * is no grace at all (a caller chooses PAM_TTY under sudo).
 */
static void
grace_key(struct auth_state *st)
{
	const char *fields[4];
	char session[48];
	pid_t sid = getsid(0);

	if (st->cfg.remember <= 0)
		return;
	snprintf(session, sizeof(session), "%d.%llu", (int)sid,
		 session_start(sid));
	fields[0] = st->service ? st->service : "-";
	fields[1] = item_text(st, PAM_TTY);
	fields[2] = item_text(st, PAM_RHOST);
	fields[3] = session;
	if (engine_grace_key(fields, 4, st->grace, sizeof(st->grace)))
		st->eng.grace_key = st->grace;
	else
		engine_log(&st->eng, LOG_DEBUG,
			   "no grace window: the service, "
			   "terminal and remote host are too long for a key");
}

/* The module's log lines: syslog through PAM (its prefix names the
   module, the service and the phase). */
static void
log_to_syslog(void *pamh, int prio, const char *line)
{
	pam_syslog(pamh, prio, "%s", line);
}

/* Arguments and config; the user and where they come from. */
static enum bv_result
begin(struct auth_state *st, pam_handle_t *pamh, int argc, const char **argv)
{
	const void *item = NULL;
	const char *user = NULL;
	enum bv_result rc;

	st->pamh = pamh;
	st->log.sink = log_to_syslog;
	st->log.sink_arg = pamh;
	st->argc = argc;
	st->argv = argv;
	st->pam_rc = PAM_SUCCESS;
	snprintf(st->user, sizeof(st->user), "-");
	snprintf(st->rhost, sizeof(st->rhost), "-");
	snprintf(st->who, sizeof(st->who), "user=-");
	engine_init(&st->eng, &st->cfg, &st->log, NULL, st->who);
	st->eng.conv = conv_adapter(st);
	st->eng.port = remote_port(st);
	st->log.debug = has_arg(argc, argv, "debug");
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		st->service = item;
	item = NULL;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item &&
	    *(const char *)item != '\0')
		text_sanitize(st->rhost, sizeof(st->rhost), item);
	st->pam_rc = pam_get_user(pamh, &user, NULL);
	if (st->pam_rc != PAM_SUCCESS || user == NULL || *user == '\0') {
		bv_log(&st->log, LOG_ERR, "cannot determine the user");
		st->no_user = true;
		return BV_ABORTED;
	}
	st->pam_user = user;
	st->eng.user = user;
	st->remote.user = user;
	text_sanitize(st->user, sizeof(st->user), user);
	snprintf(st->who, sizeof(st->who), "user=%s service=%s rhost=%s",
		 st->user, st->service ? st->service : "-", st->rhost);
	rc = cfg_load(&st->cfg, argc, argv, provider_catalog(), &st->log);
	st->log.debug = st->log.debug || st->cfg.debug;
	if (rc == BV_CONFIG)
		engine_log(&st->eng, LOG_ERR,
			   "denied: configuration %s is "
			   "unusable",
			   st->cfg.path ? st->cfg.path : "-");
	return rc;
}

static void
end(struct auth_state *st)
{
	engine_clear(&st->eng);
	remote_stop(st);
	cfg_free(&st->cfg);
}

/* Asked, and answered: the code, its proof, the store, the export. */
static enum bv_result
authenticate(struct auth_state *st)
{
	struct bv_engine *e = &st->eng;
	bool granted = false;
	enum bv_result rc;

	grace_key(st);
	rc = engine_begin(e, &granted);
	if (rc != BV_OK || granted) {
		if (granted)
			engine_log(e, LOG_INFO,
				   "granted: verified within the "
				   "last %lds on this service and terminal",
				   st->cfg.remember);
		return rc;
	}
	rc = remote_start(st, st->pam_user);
	if (rc == BV_OK)
		rc = engine_dialogue(e);
	if (rc == BV_OK)
		rc = engine_confirm(e);
	if (rc == BV_OK)
		rc = engine_succeeded(e);
	if (rc == BV_OK)
		rc = export_proof(st);
	if (rc == BV_OK && e->recovered)
		engine_log(e, LOG_NOTICE, "signed in with a recovery code");
	else if (rc == BV_OK)
		engine_log(e, LOG_INFO, "verified %s by %s (%s)", e->masked,
			   e->provider->name, channel_label(e->channel));
	return rc;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct auth_state st = {0};
	enum engine_selection sel = ENGINE_ASK;
	enum bv_result rc;
	int pam_rc;

	(void)flags;
	rc = begin(&st, pamh, argc, argv);
	if (rc == BV_OK)
		rc = engine_select(&st.eng, &sel);
	if (rc == BV_OK && sel == ENGINE_ASK)
		rc = authenticate(&st);
	pam_rc = verdict(&st, rc, sel);
	end(&st);
	return pam_rc;
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/*
 * Spend the proof: validate-token with consume.  The token and where it
 * was sent come from the PAM environment, the only thing sshd carries
 * from its authentication process to the session.  *done tells whether
 * there was a proof to spend.
 */
static enum bv_result
consume(struct auth_state *st, bool *done)
{
	const char *token, *pname, *dest;
	const void *authed = NULL;
	enum bv_result rc;
	bool skipped = false;

	*done = false;
	token = pam_getenv(st->pamh, "BAXVERIFY_TOKEN");
	pname = pam_getenv(st->pamh, "BAXVERIFY_PROVIDER");
	dest = pam_getenv(st->pamh, "BAXVERIFY_PHONE");
	if (dest == NULL)
		dest = pam_getenv(st->pamh, "BAXVERIFY_EMAIL");
	if (!st->cfg.consume_token || token == NULL || dest == NULL)
		return BV_OK;
	/* No provider named: a proof of the default one. */
	if (pname == NULL)
		pname = provider_info_default()->name;
	/* The proof is in the record of who authenticated (sudo: the
	   invoking user, though PAM_USER is now the target); sshd
	   authenticates in another process, with the same PAM_USER. */
	if (pam_get_data(st->pamh, DATA_USER, &authed) != PAM_SUCCESS ||
	    authed == NULL)
		authed = st->pam_user;
	st->remote.user = authed;
	rc = engine_consume(&st->eng, pname, dest, token, &skipped);
	*done = rc == BV_OK && !skipped;
	return rc;
}

PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct auth_state st = {0};
	enum bv_result rc = BV_OK;
	bool done = false;
	int pam_rc;

	(void)flags;
	/* Without consume_token the session side has nothing to do: no
	   config is read, so it cannot fail a session either. */
	if (!has_arg(argc, argv, "consume_token"))
		return session_verdict(&st, BV_OK, false);
	rc = begin(&st, pamh, argc, argv);
	if (rc != BV_OK) {
		pam_rc = verdict(&st, rc, ENGINE_ASK);
		end(&st);
		return pam_rc;
	}
	rc = consume(&st, &done);
	pam_rc = session_verdict(&st, rc, done);
	end(&st);
	return pam_rc;
}

PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
