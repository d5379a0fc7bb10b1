/*
 * test_local.c - the local store of pam_baxverify through the real libpam,
 * under pam_wrapper: provider = "local" (codes made, delivered and checked
 * on the host), the delivery command, recovery codes, the send limit and
 * the lockout, the grace window (remember=), parallel logins of one user,
 * two logins of one user interleaved, and damaged store files.
 *
 * Run by run-pam-tests.sh (BV_TEST_LOCAL), which writes the PAM services,
 * copies the test delivery commands (tests/pam/sms-*.sh) into the scratch
 * directory and passes BV_CLI, the built baxverify, used here as an
 * administrator would: recovery-codes, reset, validate-token.
 *
 * A local code is random, so the answers are computed when the prompt
 * comes (struct pam_run's answer hook, a "plan" below): "@latest" is the
 * code of the newest delivery in the outbox, "@0" the first one's,
 * "@expire" moves the live code's expiry in the store into the past and
 * then answers it; "" is Enter; anything else is typed as it is.
 *
 * Logins that must be separate processes (the limits, the lockout, the
 * parallel runs) go through run_pam_child / run_pam_parallel.  After every
 * case the harness's teardown is the secret-hygiene check, which here also
 * covers every code read back from the outbox, the recovery codes the CLI
 * printed, and the store files (hashes only, never a code or a token).
 *
 * Services: bv, bv_safe (failmode=safe), bv_session_ignore (auth +
 * session consume_token, PAM_IGNORE visible), bv_remember and
 * bv_remember2 (remember=300).
 */

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define P_SEND "/v1/auth/sms/send"

#define MSG_SENT "A verification code was sent by SMS to " ALICE_MASKED "."
#define MSG_LOCKED "Too many failed attempts. Try again in "
#define MSG_LIMIT "Too many codes requested. Try again in "
#define MSG_OFFER                                                              \
	"The verification service is unreachable. Enter a recovery "           \
	"code, or press Enter to cancel."
#define LOG_VERIFIED "verified " ALICE_MASKED " by local (SMS)"
/* BV_INTERNAL: this host's own failure, never an outage. */
#define MSG_HOST "Verification failed on this host. Contact your administrator."

/* Distinctive, and no recovery code the CLI could print twice. */
#define WRONG_RECOVERY "1111-2222-3333"

/* ------------------------------------------------------------------ */
/* Plans: answers computed when the prompt comes.                      */

#define PLAN(...) ((void *)(uintptr_t)(const char *const[]){__VA_ARGS__, NULL})

/* A login of user on service answered by the plan; fields may follow. */
#define LOGIN(svc, usr, plan)                                                  \
	.service = (svc), .user = (usr), .answer = plan_answer, .arg = (plan)

/*
 * The answer hooks run in child processes too: nothing from here to
 * plan_answer uses cmocka, and files are read without its assertions.
 */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 1025) {
			char *nb = realloc(buf, cap + 4096);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 4096;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* The code of the nth delivery (-1: the newest), from outbox_path: the
   first word of the message that is 4 to 8 digits. */
static bool
outbox_code(int nth, char *out, size_t outsz)
{
	char *box = slurp(outbox_path), *line, *save = NULL, *msg;
	int count = 0;
	bool ok = false;

	if (box == NULL)
		return false;
	for (line = strtok_r(box, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), count++) {
		char *wsave = NULL, *w;

		if (nth >= 0 && count != nth)
			continue;
		msg = strstr(line, ": ");
		if (msg == NULL)
			continue;
		ok = false;
		for (w = strtok_r(msg + 2, " ", &wsave); w != NULL && !ok;
		     w = strtok_r(NULL, " ", &wsave)) {
			size_t n = strlen(w);

			if (n >= 4 && n <= 8 && n < outsz &&
			    strspn(w, "0123456789") == n) {
				memcpy(out, w, n + 1);
				ok = true;
			}
		}
	}
	free(box);
	return ok;
}

static void
store_file(const char *user, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", store_path, user);
}

/*
 * Move the expiry of alice's live code into the past, keeping its hash:
 * "code HASH EXPIRES ATTEMPTS" becomes "code HASH 1 ATTEMPTS".  The
 * module holds no lock while it waits for an answer; the file is
 * replaced by rename, as the module does.
 */
static bool
expire_code(void)
{
	char path[8192], tmp[8300];
	char *text, *code, *f2, *f3;
	FILE *f;
	bool ok;

	store_file("alice", path, sizeof(path));
	text = slurp(path);
	if (text == NULL)
		return false;
	code = strstr(text, "\ncode ");
	f2 = code != NULL ? strchr(code + 6, ' ') : NULL;
	f3 = f2 != NULL ? strchr(f2 + 1, ' ') : NULL;
	if (f3 == NULL) {
		free(text);
		return false;
	}
	snprintf(tmp, sizeof(tmp), "%s.test", path);
	f = fopen(tmp, "we");
	ok =
	    f != NULL && fprintf(f, "%.*s 1%s", (int)(f2 - text), text, f3) > 0;
	ok = f != NULL && fclose(f) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	free(text);
	return ok;
}

/*
 * Let alice's lockout run out without waiting for the clock: its
 * "locked_until TIME" becomes "locked_until 1", replaced by rename.
 */
static bool
end_lockout(void)
{
	char path[8192], tmp[8300];
	char *text, *line, *eol;
	FILE *f;
	bool ok;

	store_file("alice", path, sizeof(path));
	text = slurp(path);
	if (text == NULL)
		return false;
	line = strstr(text, "\nlocked_until ");
	eol = line != NULL ? strchr(line + 1, '\n') : NULL;
	if (eol == NULL) {
		free(text);
		return false;
	}
	snprintf(tmp, sizeof(tmp), "%s.test", path);
	f = fopen(tmp, "we");
	ok = f != NULL && fprintf(f, "%.*s\nlocked_until 1%s",
				  (int)(line - text), text, eol) > 0;
	ok = f != NULL && fclose(f) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	free(text);
	return ok;
}

static const char *
plan_answer(int n, void *arg)
{
	const char *const *plan = arg;
	static char code[32];
	const char *step;

	for (int i = 0; i < n; i++) {
		if (plan[i] == NULL)
			return NULL;
	}
	step = plan[n];
	if (step == NULL)
		return NULL; /* plan used up: Enter */
	if (strcmp(step, "@expire") == 0) {
		if (!expire_code())
			return "expire-failed";
		step = "@latest";
	}
	if (strcmp(step, "@latest") == 0)
		return outbox_code(-1, code, sizeof(code)) ? code : NULL;
	if (step[0] == '@' && step[1] >= '0' && step[1] <= '9')
		return outbox_code(step[1] - '0', code, sizeof(code)) ? code
								      : NULL;
	return step;
}

/* ------------------------------------------------------------------ */
/* Configuration.                                                      */

static char local_group[16384];

/* provider = "local", delivery to the outbox file, plus more lines of
   the local group. */
static struct conf
local_file(const char *more)
{
	struct conf c = {.provider = "\"local\"", .sections = local_group};

	snprintf(local_group, sizeof(local_group),
		 "local = {\n  delivery = \"file\";\n  file = \"%s\";\n%s};",
		 outbox_path, more != NULL ? more : "");
	return c;
}

/* provider = "local", delivery by the script (in the scratch dir). */
static struct conf
local_command(const char *script, const char *more)
{
	struct conf c = {.provider = "\"local\"", .sections = local_group};

	snprintf(local_group, sizeof(local_group),
		 "local = {\n  delivery = \"command\";\n"
		 "  command = \"%s/%s\";\n%s};",
		 testdir, script, more != NULL ? more : "");
	return c;
}

/* ------------------------------------------------------------------ */
/* Looking at files.                                                   */

static void
scratch_file(const char *name, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", testdir, name);
}

static char *
read_scratch(const char *name)
{
	char path[8192];

	scratch_file(name, path, sizeof(path));
	return read_whole_file(path);
}

static unsigned
outbox_lines(void)
{
	char *box = read_whole_file(outbox_path);
	unsigned n = count_lines(box);

	free(box);
	return n;
}

#define assert_outbox(n) assert_outbox_at((n), __LINE__)
static void
assert_outbox_at(unsigned want, int line)
{
	unsigned got = outbox_lines();

	if (got != want) {
		char *box = read_whole_file(outbox_path);

		print_error("line %d: %u deliveries, expected %u:\n%s", line,
			    got, want, box);
		free(box);
		fail();
	}
}

static char *
store_text(const char *user)
{
	char path[8192];

	store_file(user, path, sizeof(path));
	return read_whole_file(path);
}

/* How many lines of user's record start with "key ". */
static int
store_count(const char *user, const char *key)
{
	char *text = store_text(user);
	size_t klen = strlen(key);
	int n = 0;

	for (const char *l = text; l != NULL && *l != '\0';) {
		const char *nl = strchr(l, '\n');

		if (strncmp(l, key, klen) == 0 && l[klen] == ' ')
			n++;
		l = nl != NULL ? nl + 1 : NULL;
	}
	free(text);
	return n;
}

/* The number in field (1-based, after the key) of user's first "key"
   line; -1 when there is no such line or field. */
static long long
store_field(const char *user, const char *key, int field)
{
	char *text = store_text(user), *save = NULL;
	long long v = -1;

	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char *wsave = NULL, *w = strtok_r(l, " ", &wsave);

		if (w == NULL || strcmp(w, key) != 0)
			continue;
		for (int f = 0; f < field && w != NULL; f++)
			w = strtok_r(NULL, " ", &wsave);
		if (w != NULL)
			v = strtoll(w, NULL, 10);
		break;
	}
	free(text);
	return v;
}

#define assert_store(user, key, want)                                          \
	assert_store_at((user), (key), (want), __LINE__)
static void
assert_store_at(const char *user, const char *key, long long want, int line)
{
	long long got = store_field(user, key, 1);

	if (got != want) {
		char *text = store_text(user);

		print_error("line %d: store %s: \"%s\" is %lld, expected "
			    "%lld:\n%s",
			    line, user, key, got, want, text);
		free(text);
		fail();
	}
}

static void
done(struct pam_run *r)
{
	pamtest_free_env(r->env);
	r->env = NULL;
	free(r->shown);
	r->shown = NULL;
}

/* A 64-hex-digit token. */
static bool
hex64(const char *s)
{
	return s != NULL && strlen(s) == 64 &&
	       strspn(s, "0123456789abcdef") == 64;
}

/* The N of "...Try again in N minute(s)." after prefix in what the user
   saw, or -1. */
static long
minutes_in(const char *shown, const char *prefix)
{
	const char *p = shown != NULL ? strstr(shown, prefix) : NULL;
	char *end;
	long n;

	if (p == NULL)
		return -1;
	n = strtol(p + strlen(prefix), &end, 10);
	return strncmp(end, " minute(s).", 11) == 0 ? n : -1;
}

/* How many syslog lines contain needle. */
/* ------------------------------------------------------------------ */
/* The administrator's command.                                        */

/*
 * Run "$BV_CLI --conf CONF args..." (NULL-terminated), outside
 * pam_wrapper; its exit status, and what it printed (stdout and stderr)
 * in *out when out is not NULL.
 */
static int
run_cli(char **out, ...)
{
	const char *cli = getenv("BV_CLI");
	const char *argv[16];
	struct sbuf text = {NULL, 0, 0};
	char chunk[1024];
	int p[2], argc = 0, status = 0;
	ssize_t got;
	va_list ap;
	pid_t pid;

	if (cli == NULL || cli[0] == '\0') {
		print_message("BV_CLI not set: needs the baxverify command\n");
		skip();
	}
	argv[argc++] = cli;
	argv[argc++] = "--conf";
	argv[argc++] = conf_path;
	va_start(ap, out);
	while (argc < 15 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		unsetenv("LD_PRELOAD");
		unsetenv("PAM_WRAPPER");
		execv(cli, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(p[1]);
	sb_printf(&text, "%s", "");
	while ((got = read(p[0], chunk, sizeof(chunk) - 1)) > 0) {
		chunk[got] = '\0';
		sb_printf(&text, "%s", chunk);
	}
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (out != NULL)
		*out = text.s;
	else
		free(text.s);
	return WEXITSTATUS(status);
}

/* "baxverify validate-token --file F --user USER": a token is never
   given on the command line (the CLI refuses it there). */
static int
validate_token_cli(char **out, const char *token, const char *user)
{
	char path[8192];
	int rc;

	scratch_file("token", path, sizeof(path));
	write_file(path, token, 0600);
	rc = run_cli(out, "validate-token", "--file", path, "--user", user,
		     NULL);
	(void)unlink(path);
	return rc;
}

#define RECOVERY_LEN 14 /* "1234-5678-9012" */

/*
 * n recovery codes for user from "baxverify recovery-codes", as printed
 * ("NNNN-NNNN-NNNN").  Each, in that form and as bare digits, is a
 * secret for the rest of the case.
 */
static void
make_recovery(const char *user, char codes[][RECOVERY_LEN + 1], int n)
{
	char count[16], *out = NULL;
	const char *p;
	int got = 0;

	snprintf(count, sizeof(count), "%d", n);
	if (run_cli(&out, "recovery-codes", user, "--count", count, NULL) !=
	    0) {
		print_error("baxverify recovery-codes failed:\n%s", out);
		fail();
	}
	for (p = out; *p != '\0' && got < n; p++) {
		char digits[13];

		if (strspn(p, "0123456789") != 4 || p[4] != '-' ||
		    strspn(p + 5, "0123456789") != 4 || p[9] != '-' ||
		    strspn(p + 10, "0123456789") != 4 ||
		    (p != out && p[-1] != ' '))
			continue;
		snprintf(codes[got], RECOVERY_LEN + 1, "%.14s", p);
		snprintf(digits, sizeof(digits), "%.4s%.4s%.4s", p, p + 5,
			 p + 10);
		add_secret(codes[got]);
		add_secret(digits);
		got++;
		p += RECOVERY_LEN - 1;
	}
	if (got != n) {
		print_error("expected %d codes, found %d in:\n%s", n, got, out);
		fail();
	}
	free(out);
	/* Only hashes, one line per code. */
	assert_int_equal(store_count(user, "recovery"), n);
}

/* ------------------------------------------------------------------ */
/* provider = "local".                                                 */

static char token_seen[128];

/* Between authentication and session: the proof is in the store and
   the administrator's command confirms it (without spending it). */
static void
check_proof_recorded(struct pam_run *r)
{
	const char *token = env_get(r->env, "BAXVERIFY_TOKEN");
	char *out = NULL;

	assert_true(hex64(token));
	snprintf(token_seen, sizeof(token_seen), "%s", token);
	add_token_secret(token);
	assert_int_equal(store_count("alice", "token"), 1);
	/* Single use: the code is gone once it has been accepted. */
	assert_int_equal(store_count("alice", "code"), 0);
	assert_int_equal(validate_token_cli(&out, token, "alice"), 0);
	free(out);
}

/* The store is a 0700 directory the module made, its record and the
   outbox (it holds codes) 0600 files. */
static void
assert_modes(void)
{
	struct stat st;
	char path[8192];

	assert_int_equal(stat(store_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	store_file("alice", path, sizeof(path));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(lstat(outbox_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_local_success(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run r = {
	    LOGIN("bv_session_ignore", "alice", PLAN("@latest")),
	    .session = true, .after_auth = check_proof_recorded};
	char host[256] = "", want[512], code[32], *box, *out = NULL;
	time_t t0 = time(NULL);
	long long exp;

	(void)state;
	write_conf(&c);
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_int_equal(r.prompts, 1);
	assert_info(MSG_SENT);
	assert_true(hex64(env_get(r.env, "BAXVERIFY_TOKEN")));
	assert_string_equal(env_get(r.env, "BAXVERIFY_PROVIDER"), "local");
	assert_string_equal(env_get(r.env, "BAXVERIFY_CHANNEL"), "sms");
	assert_string_equal(env_get(r.env, "BAXVERIFY_PHONE"), ALICE_PHONE);
	exp = strtoll(env_get(r.env, "BAXVERIFY_TOKEN_EXPIRES"), NULL, 10);
	assert_in_range(exp, (long long)t0 + 900 - 5, (long long)t0 + 900 + 60);

	/* One delivery: the template with a 6-digit code and the host. */
	assert_outbox(1);
	assert_true(outbox_code(0, code, sizeof(code)));
	assert_int_equal(strlen(code), 6);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	snprintf(want, sizeof(want),
		 ALICE_PHONE ": %s is your login code "
			     "for %s\n",
		 code, host);
	box = read_whole_file(outbox_path);
	assert_string_equal(box, want);
	free(box);

	assert_logged(PRIO(LOG_INFO), "pam_baxverify(bv_session_ignore:auth)",
		      "user=alice", LOG_VERIFIED);
	assert_modes();

	/* The session spent the proof: gone from the store, refused. */
	assert_rc(r.session_rc, PAM_SUCCESS);
	assert_logged(PRIO(LOG_INFO), "session: proof consumed at local");
	assert_int_equal(store_count("alice", "token"), 0);
	assert_int_equal(validate_token_cli(&out, token_seen, "alice"), 1);
	free(out);
	assert_store("alice", "failures", 0);
	done(&r);
}

static void
test_local_wrong_then_right(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN(WRONG, "@latest"))};

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_int_equal(r.prompts, 2);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_logged(PRIO(LOG_NOTICE), "user=alice",
		      "verify via local failed: wrong code: code mismatch");
	assert_logged(PRIO(LOG_INFO), LOG_VERIFIED);
	assert_outbox(1);
	/* The success clears the failure the wrong code counted. */
	assert_store("alice", "failures", 0);
	done(&r);
}

/* local.max_attempts below max_tries: the code's own limit ends it. */
static void
test_local_max_attempts(void **state)
{
	struct conf c = local_file("  max_attempts = 2;\n");
	struct pam_run r = {
	    LOGIN("bv", "alice", PLAN(WRONG, WRONG, "@latest")),
	};

	(void)state;
	c.max_tries = 5;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_MAXTRIES);
	/* The right code is never asked for. */
	assert_int_equal(r.prompts, 2);
	assert_err("Wrong code. 1 attempt(s) left.");
	assert_err(MSG_TOO_MANY);
	assert_logged(PRIO(LOG_NOTICE), "denied: too many wrong codes");
	assert_not_logged(LOG_VERIFIED);
	/* "code HASH EXPIRES ATTEMPTS": both attempts are on record. */
	assert_int_equal(store_field("alice", "code", 3), 2);
	assert_store("alice", "failures", 2);
	done(&r);
}

/* The code's expiry passes while the user types: a new one on Enter. */
static void
test_local_expired_then_resend(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run r = {
	    LOGIN("bv", "alice", PLAN("@expire", "", "@latest")),
	};

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_int_equal(r.prompts, 3);
	assert_err("The code has expired. Press Enter for a new code.");
	assert_logged(PRIO(LOG_NOTICE), "verify via local failed: "
					"code expired");
	assert_logged(PRIO(LOG_INFO), LOG_VERIFIED);
	assert_outbox(2);
	assert_int_equal(count_in_bufs(info_buf, MSG_SENT), 2);
	done(&r);
}

/* No resend left: an expired code ends the login. */
static void
test_local_expired(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@expire", "@latest"))};

	(void)state;
	c.max_sends = 1;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_AUTH_ERR);
	assert_int_equal(r.prompts, 1);
	assert_err(MSG_EXPIRED);
	assert_not_said("Press Enter");
	assert_logged(PRIO(LOG_NOTICE), "user=alice",
		      "verify via local "
		      "failed: code expired: no live code");
	assert_outbox(1);
	/* The expired code is dropped from the record. */
	assert_int_equal(store_count("alice", "code"), 0);
	done(&r);
}

/* Enter: a second code; only the second one works. */
static void
test_local_resend(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("", "@0", "@1"))};
	char first[32], second[32];

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_outbox(2);
	assert_true(outbox_code(0, first, sizeof(first)));
	assert_true(outbox_code(1, second, sizeof(second)));
	/* (One run in a million draws the same code twice.) */
	if (strcmp(first, second) == 0)
		skip();
	assert_int_equal(r.prompts, 3);
	assert_int_equal(count_in_bufs(info_buf, MSG_SENT), 2);
	assert_err("Wrong code. 2 attempt(s) left.");
	assert_logged(PRIO(LOG_INFO), LOG_VERIFIED);
	done(&r);
}

/* The message template, its escapes, and code_length. */
static void
test_local_template(void **state)
{
	struct conf c = local_file("  message = \"Code %c for %h (100%%)\";\n"
				   "  code_length = 8;\n");
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};
	char host[256] = "", want[512], code[32], *box;

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_true(outbox_code(0, code, sizeof(code)));
	assert_int_equal(strlen(code), 8);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	snprintf(want, sizeof(want), ALICE_PHONE ": Code %s for %s (100%%)\n",
		 code, host);
	box = read_whole_file(outbox_path);
	assert_string_equal(box, want);
	free(box);
	assert_logged(PRIO(LOG_INFO), LOG_VERIFIED);
	done(&r);
}

/*
 * Two logins of one user at the same time (two ssh sessions): each gets
 * a code and a proof of its own, and neither spoils the other's.
 */
static const char *
answer_after_other(int n, void *arg)
{
	static char code[32];

	if (n > 0)
		return NULL;
	/* Meanwhile, another login of alice runs from start to end. */
	(void)run_pam_child(arg);
	/* Then this one answers with the code it was sent (the first). */
	return outbox_code(0, code, sizeof(code)) ? code : NULL;
}

static void
test_local_two_logins_codes(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run other = {LOGIN("bv", "alice", PLAN("@latest"))};
	struct pam_run r = {.service = "bv",
			    .user = "alice",
			    .answer = answer_after_other,
			    .arg = &other};

	(void)state;
	write_conf(&c);
	run_pam(&r);
	assert_rc(other.auth_rc, PAM_SUCCESS);
	/* The first code, sent seconds ago, is still good for this login
	   (today: "The code has expired", and a third code goes out). */
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_int_equal(r.prompts, 1);
	assert_outbox(2);
	assert_int_equal(count_logged(LOG_VERIFIED), 2);
	done(&other);
	done(&r);
}

/* Between this login's authentication and its session, another login
   of alice authenticates: this session still spends its own proof. */
static void
other_login(struct pam_run *r)
{
	struct pam_run *other = r->arg;

	assert_rc(run_pam_child(other), PAM_SUCCESS);
	assert_true(hex64(env_get(other->env, "BAXVERIFY_TOKEN")));
	assert_string_not_equal(env_get(other->env, "BAXVERIFY_TOKEN"),
				env_get(r->env, "BAXVERIFY_TOKEN"));
}

static const char *
answer_latest(int n, void *arg)
{
	static char code[32];

	(void)arg;
	return n == 0 && outbox_code(-1, code, sizeof(code)) ? code : NULL;
}

static void
test_local_two_logins_sessions(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run other = {LOGIN("bv", "alice", PLAN("@latest"))};
	struct pam_run r = {.service = "bv_session_ignore",
			    .user = "alice",
			    .answer = answer_latest,
			    .arg = &other,
			    .session = true,
			    .after_auth = other_login};

	(void)state;
	write_conf(&c);
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_rc(r.session_rc, PAM_SUCCESS);
	assert_logged(PRIO(LOG_INFO), "session: proof consumed at local");
	done(&other);
	done(&r);
}

/*
 * sudo: PAM_USER is the invoking user while authenticating and the target
 * (root) when the session opens.  The proof is in the invoking user's
 * record, and that is where consume_token must spend it.
 */
static void
test_local_session_as_target_user(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run r = {.service = "bv_session_ignore",
			    .user = "alice",
			    .answer = answer_latest,
			    .session = true,
			    .session_user = "root"};

	(void)state;
	write_conf(&c);
	run_pam(&r);
	assert_rc(r.auth_rc, PAM_SUCCESS);
	assert_rc(r.session_rc, PAM_SUCCESS);
	assert_logged(PRIO(LOG_INFO), "session: proof consumed at local");
	/* Spent: alice's record holds no proof any more. */
	assert_int_equal(store_count("alice", "token"), 0);
	done(&r);
}

/* ------------------------------------------------------------------ */
/* delivery = "command".                                               */

static void
test_command_success(void **state)
{
	struct conf c = local_command("sms-record.sh", NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};
	char host[256] = "", want[512], code[32], script[8192];
	char *text, *line, *save = NULL;
	bool extra = false;

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_info(MSG_SENT);
	assert_logged(PRIO(LOG_INFO), LOG_VERIFIED);

	/* argv: the phone only. */
	text = read_scratch("sms-record.argv");
	assert_string_equal(text, "1\n" ALICE_PHONE "\n");
	free(text);
	/* stdin: the message from the template, the code that worked. */
	assert_true(outbox_code(-1, code, sizeof(code)));
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	snprintf(want, sizeof(want), "%s is your login code for %s", code,
		 host);
	text = read_scratch("sms-record.stdin");
	assert_string_equal(text, want);
	free(text);
	/* The environment: empty, exactly as execve(2) passed it. */
	text = read_scratch("sms-record.env");
	assert_string_equal(text, "");
	free(text);
	/* Descriptors: 0-2, and the shell's own on the script. */
	scratch_file("sms-record.sh", script, sizeof(script));
	text = read_scratch("sms-record.fds");
	assert_true(strlen(text) > 0);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *target = strchr(line, ' ');

		if (strncmp(line, "0 ", 2) == 0 ||
		    strncmp(line, "1 ", 2) == 0 ||
		    strncmp(line, "2 ", 2) == 0 ||
		    (target != NULL && strcmp(target + 1, script) == 0))
			continue;
		print_error("the delivery command inherited fd %s\n", line);
		extra = true;
	}
	free(text);
	assert_false(extra);
	done(&r);
}

/* No syslog line may carry a control character (the capture shim has
   already folded newlines) or an 8-bit/UTF-8 C1 control. */
static void
assert_log_clean(size_t max_line)
{
	char *log = read_whole_file(syslog_file);
	size_t len = 0;

	for (const unsigned char *p = (const unsigned char *)log; *p != '\0';
	     p++) {
		bool c1 = p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;

		if (*p == '\n') {
			len = 0;
			continue;
		}
		len++;
		if (*p < 0x20 || *p == 0x7F || *p == 0x9B || c1) {
			print_error("syslog has byte 0x%02x at offset %zu\n",
				    *p, (size_t)((const char *)p - log));
			dump_syslog();
			fail();
		}
		if (len > max_line) {
			print_error("a syslog line is over %zu bytes\n",
				    max_line);
			dump_syslog();
			fail();
		}
	}
	free(log);
}

static void
test_command_failure(void **state)
{
	struct conf c = local_command("sms-fail.sh", NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};

	(void)state;
	c.failmode = "secure";
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(r.prompts, 0);
	assert_err(MSG_UNREACH);
	assert_logged(PRIO(LOG_ERR), "user=alice", "send via local failed",
		      "delivery command failed (status 3): gateway ", "refused",
		      ": no credit left");
	/* Only the first line, and without its escape sequence. */
	assert_not_logged("second line");
	assert_not_logged("account 42");
	assert_log_clean(1024);
	assert_not_said("no credit");
	done(&r);
}

/* failmode=safe lets the user in, with the warning it always logs. */
static void
test_command_failure_safe(void **state)
{
	struct conf c = local_command("sms-fail.sh", NULL);
	struct pam_run r = {LOGIN("bv_safe", "alice", PLAN("@latest"))};

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_info(MSG_SAFE);
	assert_logged(PRIO(LOG_WARNING), "ALLOWED WITHOUT A CODE");
	done(&r);
}

/* Is pid gone (or only a zombie nobody reaped)? */
static bool
pid_gone(pid_t pid)
{
	char path[64], *stat;
	const char *close_paren;
	bool gone;

	if (kill(pid, 0) != 0)
		return errno == ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = read_whole_file(path);
	close_paren = strrchr(stat, ')');
	gone = close_paren == NULL || strncmp(close_paren, ") Z", 3) == 0;
	free(stat);
	return gone;
}

/* The delivery command hangs: the login goes on within the timeout and
   nothing the command started is left running.  A timeout is this
   host's failure (the caller of a setuid program can stop or starve the
   command), never an outage: failmode=safe does not let anyone in on
   it. */
static void
check_timeout(const char *script)
{
	struct conf c = local_command(script, "  timeout = 1;\n");
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};
	char *pids_text;
	long pids[2] = {0, 0};
	char *p, *end;
	bool left = false;
	double t0;

	c.failmode = "safe";
	write_conf(&c);
	t0 = now_s();
	assert_rc(run_pam(&r), PAM_AUTH_ERR);
	/* Ended by the 1 s timeout: not by the module's own deadline (11 s),
	   nor by the hanging program (30 s). */
	assert_true(now_s() - t0 < ONE_TIMEOUT_S(1));
	assert_true(now_s() - t0 >= 0.9);
	assert_err(MSG_HOST);
	assert_not_logged("ALLOWED WITHOUT A CODE");
	assert_logged(ANY_PRIO, "send via local failed", "internal failure",
		      "delivery command timed out after 1s");
	done(&r);

	pids_text = read_scratch("sms-sleep.pids");
	p = pids_text;
	for (int i = 0; i < 2; i++) {
		pids[i] = strtol(p, &end, 10);
		p = end;
	}
	free(pids_text);
	assert_true(pids[0] > 0);
	for (int i = 0; i < 2 && pids[i] > 0; i++) {
		for (int wait = 0; wait < 50 && !pid_gone((pid_t)pids[i]);
		     wait++)
			usleep(20 * 1000);
		if (!pid_gone((pid_t)pids[i])) {
			print_error("pid %ld (started by the delivery command)"
				    " outlived the timeout\n",
				    pids[i]);
			/* Ours, by its PID: do not leave it behind. */
			kill((pid_t)pids[i], SIGKILL);
			left = true;
		}
	}
	assert_false(left);
}

/* The command is a shell script whose child hangs (no exec). */
static void
test_command_timeout(void **state)
{
	(void)state;
	check_timeout("sms-sleep.sh");
}

/* The hanging program is the module's direct child. */
static void
test_command_timeout_exec(void **state)
{
	(void)state;
	check_timeout("sms-sleep-exec.sh");
}

static void
test_command_hostile_output(void **state)
{
	struct conf c = local_command("sms-hostile.sh", NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};
	double t0 = now_s();

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_AUTHINFO_UNAVAIL);
	/* 100 KB on stderr must not block the command until the timeout
	   (10 s by default); 8 s leave a loaded machine room. */
	assert_true(now_s() - t0 < 8.0);
	assert_logged(
	    PRIO(LOG_ERR), "send via local failed",
	    "delivery command failed (status 1): ", "gateway says: AAAA");
	assert_not_logged("after the NUL");
	assert_not_logged("line two");
	assert_log_clean(512);
	assert_not_said("gateway says");
	done(&r);
}

/*
 * A gateway client that echoes its input on stderr and fails: syslog gets
 * its exit status and a masked excerpt, never the code, the number or an
 * address (before: the first line verbatim).
 */
static void
test_command_echoes_secrets(void **state)
{
	struct conf c = local_command("sms-echo.sh", NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};
	char code[32];

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(r.prompts, 0);
	/* What the command was given, as it echoed it. */
	assert_true(outbox_code(0, code, sizeof(code)));
	assert_logged(PRIO(LOG_ERR), "send via local failed",
		      "delivery command failed (status 1): sms-gw: to "
		      "+\u2026 (####, \u2026@\u2026) failed: \"####");
	assert_not_logged(code);
	assert_not_logged(ALICE_PHONE);
	assert_not_logged(ALICE_PHONE + 1);
	assert_not_logged(ALICE_PHONE + 2);
	assert_not_logged("alice@example.org");
	assert_not_logged("example.org");
	assert_log_clean(512);
	done(&r);
}

/*
 * A code whose delivery failed is forgotten at once: typed at the next
 * login (it may have leaked through the failed command's output), it is
 * a wrong code.  Before, its hash stayed in the store and it worked.
 */
static void
test_command_failure_forgets_code(void **state)
{
	struct conf c = local_command("sms-echo.sh", NULL);
	struct pam_run failed = {LOGIN("bv", "alice", PLAN("@latest"))};
	struct pam_run later = {LOGIN("bv", "alice", PLAN("@0"))};
	char leaked[32], fresh[32];

	(void)state;
	write_conf(&c);
	assert_rc(run_pam(&failed), PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(failed.prompts, 0);
	assert_int_equal(store_count("alice", "code"), 0);
	done(&failed);

	/* The next login gets a code of its own (by file) and types the
	   one that was never delivered. */
	c = local_file(NULL);
	c.max_tries = 1;
	write_conf(&c);
	run_pam(&later);
	assert_outbox(2);
	assert_true(outbox_code(0, leaked, sizeof(leaked)));
	assert_true(outbox_code(1, fresh, sizeof(fresh)));
	if (strcmp(leaked, fresh) == 0)
		skip(); /* one run in a million */
	assert_rc(later.auth_rc, PAM_MAXTRIES);
	assert_int_equal(later.prompts, 1);
	assert_logged(PRIO(LOG_NOTICE), "verify via local failed: wrong code");
	assert_not_logged(LOG_VERIFIED);
	/* Only the second login's code is left, with the wrong try on it. */
	assert_int_equal(store_count("alice", "code"), 1);
	assert_int_equal(store_field("alice", "code", 3), 1);
	done(&later);
}

/*
 * A command that cannot be run, or that we refuse to run, is our own
 * configuration's fault: never an outage that failmode=safe would wave
 * through.  (Before: PAM_AUTHINFO_UNAVAIL, and with failmode=safe
 * everyone got in.)
 */
static void
refused_command(const char *script, const char *why)
{
	struct conf c = local_command(script, NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};

	c.failmode = "safe";
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SERVICE_ERR);
	assert_int_equal(r.prompts, 0);
	assert_err(MSG_MISCONF);
	assert_not_logged("ALLOWED WITHOUT A CODE");
	assert_logged(ANY_PRIO, "send via local failed",
		      "configuration error: delivery command refused: ", why);
	assert_outbox(0);
	done(&r);
}

static void
test_command_not_executable(void **state)
{
	char path[8192], *script = read_scratch("sms-record.sh");

	(void)state;
	scratch_file("sms-noexec.sh", path, sizeof(path));
	write_file(path, script, 0600);
	free(script);
	refused_command("sms-noexec.sh", "not an executable regular file");
	(void)unlink(path);
}

static void
test_command_missing(void **state)
{
	(void)state;
	refused_command("no-such-command", "cannot open it: No such file");
}

/*
 * A symlink is refused (O_NOFOLLOW on the descriptor that is exec'd):
 * before, the check followed it and the exec by path ran whatever it
 * pointed to by then.
 */
static void
test_command_symlink(void **state)
{
	char link[8192], target[8192];

	(void)state;
	scratch_file("sms-link.sh", link, sizeof(link));
	scratch_file("sms-record.sh", target, sizeof(target));
	assert_int_equal(symlink(target, link), 0);
	refused_command("sms-link.sh", "cannot open it: Too many levels");
	(void)unlink(link);
}

/* Owned by someone else than root (or us): whoever owns it would read
   every code. */
static void
test_command_foreign_owner(void **state)
{
	char path[8192], *script = read_scratch("sms-record.sh");

	(void)state;
	if (geteuid() != 0) {
		free(script);
		skip(); /* only root can give a file away */
	}
	scratch_file("sms-nobody.sh", path, sizeof(path));
	write_file(path, script, 0700);
	free(script);
	assert_int_equal(chown(path, 65534, 65534), 0);
	refused_command("sms-nobody.sh", "not owned by root");
	(void)unlink(path);
}

/* delivery = "file" never follows a symlink (O_NOFOLLOW): refused as
   misconfigured, whatever failmode says. */
static void
test_file_delivery_symlink(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};
	char target[8192], *text;

	(void)state;
	scratch_file("outbox-target", target, sizeof(target));
	write_file(target, "", 0600);
	assert_int_equal(symlink(target, outbox_path), 0);
	c.failmode = "safe";
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_SERVICE_ERR);
	assert_int_equal(r.prompts, 0);
	assert_err(MSG_MISCONF);
	assert_logged(ANY_PRIO, "send via local failed", "cannot append to",
		      "not a regular file (a symlink)");
	text = read_whole_file(target);
	assert_string_equal(text, "");
	free(text);
	done(&r);
	(void)unlink(outbox_path);
	(void)unlink(target);
}

/*
 * A FIFO at local.file: refused at once, with no reader (the open would
 * block: before, the login hung there) and with one (it opens, and is
 * then seen not to be a regular file); nothing is written to it.  Not
 * the harness's outbox: its checks read that file.
 */
static void
test_file_delivery_fifo(void **state)
{
	struct conf c = {.provider = "\"local\"", .sections = local_group};
	struct pam_run r = {LOGIN("bv", "alice", PLAN("@latest"))};
	struct pam_run again = r;
	char fifo[8192], buf[64];
	int reader;

	(void)state;
	scratch_file("outbox-fifo", fifo, sizeof(fifo));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(local_group, sizeof(local_group),
		 "local = {\n  delivery = \"file\";\n  file = \"%s\";\n};",
		 fifo);
	c.failmode = "safe";
	write_conf(&c);
	/* A watchdog, not a wait: should the open block again, the test
	   program dies (a failure) instead of hanging. */
	alarm(60);
	assert_rc(run_pam(&r), PAM_SERVICE_ERR);
	assert_err(MSG_MISCONF);
	assert_not_logged("ALLOWED WITHOUT A CODE");
	assert_logged(ANY_PRIO, "send via local failed", "cannot append to",
		      "not a regular file (a FIFO or socket)");
	done(&r);

	reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(reader >= 0);
	assert_rc(run_pam(&again), PAM_SERVICE_ERR);
	alarm(0);
	assert_logged(ANY_PRIO, "not a regular file (a FIFO)");
	/* End of file: the module opened and closed it, wrote nothing. */
	assert_int_equal(read(reader, buf, sizeof(buf)), 0);
	close(reader);
	done(&again);
	assert_int_equal(unlink(fifo), 0);
}

/* ------------------------------------------------------------------ */
/* Recovery codes.                                                     */

static void
test_recovery_once(void **state)
{
	char codes[10][RECOVERY_LEN + 1], bare[13];
	struct conf c = local_file(NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN(codes[0]))};
	struct pam_run digits = {LOGIN("bv", "alice", PLAN(bare))};
	struct pam_run again = {LOGIN("bv", "alice", PLAN(codes[0]))};

	(void)state;
	write_conf(&c);
	make_recovery("alice", codes, 10);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_string_equal(env_get(r.env, "BAXVERIFY_PROVIDER"), "recovery");
	assert_null(env_get(r.env, "BAXVERIFY_TOKEN"));
	assert_logged(PRIO(LOG_NOTICE), "user=alice",
		      "RECOVERY CODE USED; 9 left");
	assert_logged(PRIO(LOG_NOTICE), "signed in with a recovery code");
	assert_int_equal(store_count("alice", "recovery"), 9);
	done(&r);

	/* Typed as bare digits, another one works too. */
	snprintf(bare, sizeof(bare), "%.4s%.4s%.4s", codes[1], codes[1] + 5,
		 codes[1] + 10);
	assert_rc(run_pam(&digits), PAM_SUCCESS);
	assert_logged(PRIO(LOG_NOTICE), "RECOVERY CODE USED; 8 left");
	assert_int_equal(store_count("alice", "recovery"), 8);
	done(&digits);

	/* The same code again: refused, and counted as a failure. */
	c.max_tries = 1;
	write_conf(&c);
	assert_rc(run_pam(&again), PAM_MAXTRIES);
	assert_logged(PRIO(LOG_NOTICE), "wrong recovery code (try 1)");
	assert_err(MSG_TOO_MANY);
	assert_int_equal(store_count("alice", "recovery"), 8);
	assert_store("alice", "failures", 1);
	done(&again);
}

/* The API is down: a recovery code still gets in under failmode
   secure; Enter instead leaves the outage's verdict. */
static void
test_recovery_api_down(void **state)
{
	char codes[10][RECOVERY_LEN + 1], url[128];
	struct conf c = {.api_url = url, .failmode = "secure"};
	struct pam_run none = {LOGIN("bv", "alice", PLAN(""))};
	struct pam_run r = {LOGIN("bv", "alice", PLAN(codes[3]))};
	struct pam_run enter = {LOGIN("bv", "alice", PLAN(""))};
	int port, fd;

	(void)state;
	fd = closed_port(&port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1", port);
	write_conf(&c);

	/* Without recovery codes there is nothing to offer. */
	assert_rc(run_pam(&none), PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(none.prompts, 0);
	assert_err(MSG_UNREACH);
	done(&none);

	make_recovery("alice", codes, 10);
	assert_rc(run_pam(&r), PAM_SUCCESS);
	assert_int_equal(r.prompts, 1);
	assert_err(MSG_OFFER);
	assert_string_equal(env_get(r.env, "BAXVERIFY_PROVIDER"), "recovery");
	assert_logged(PRIO(LOG_ERR), "send via baxverify failed");
	assert_logged(PRIO(LOG_NOTICE), "RECOVERY CODE USED; 9 left");
	done(&r);

	assert_rc(run_pam(&enter), PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(enter.prompts, 1);
	assert_err(MSG_OFFER);
	assert_err(MSG_UNREACH);
	assert_int_equal(store_count("alice", "recovery"), 9);
	done(&enter);
	close(fd);
}

/* A wrong recovery code is a failed verification like a wrong code:
   it counts towards the lockout. */
static void
test_recovery_wrong_counts(void **state)
{
	char codes[2][RECOVERY_LEN + 1];
	struct conf c = local_file(NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN(WRONG_RECOVERY))};
	struct pam_run code = {LOGIN("bv", "alice", PLAN(WRONG))};
	struct pam_run locked = {LOGIN("bv", "alice", PLAN(codes[0]))};

	(void)state;
	c.max_tries = 1;
	c.limits = "deny = 2;";
	write_conf(&c);
	make_recovery("alice", codes, 2);
	assert_rc(run_pam(&r), PAM_MAXTRIES);
	assert_logged(PRIO(LOG_NOTICE), "wrong recovery code (try 1)");
	assert_store("alice", "failures", 1);
	done(&r);

	assert_rc(run_pam_child(&code), PAM_MAXTRIES);
	assert_logged(PRIO(LOG_WARNING), "locked out for 900s after 2 failed "
					 "verifications");
	done(&code);
	/* Locked: not even a good recovery code is looked at. */
	assert_rc(run_pam_child(&locked), PAM_AUTH_ERR);
	assert_int_equal(locked.prompts, 0);
	assert_err(MSG_LOCKED);
	assert_int_equal(store_count("alice", "recovery"), 2);
	done(&locked);
}

/* recovery.enabled = false: a recovery code is just a wrong answer. */
static void
test_recovery_disabled(void **state)
{
	char codes[1][RECOVERY_LEN + 1];
	struct conf c = local_file(NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN(codes[0]))};

	(void)state;
	c.max_tries = 1;
	c.extra = "recovery = { enabled = false; };";
	write_conf(&c);
	make_recovery("alice", codes, 1);
	assert_rc(run_pam(&r), PAM_MAXTRIES);
	assert_not_logged("RECOVERY CODE USED");
	assert_logged(PRIO(LOG_NOTICE), "answer is not a code (try 1)");
	assert_int_equal(store_count("alice", "recovery"), 1);
	done(&r);
}

/* ------------------------------------------------------------------ */
/* Limits: the send limit and the lockout, across processes.           */

static void
test_send_limit(void **state)
{
	struct conf c = {.limits = "max_sends_per_hour = 2;"};
	struct pam_run third = {
	    .service = "bv", .user = "alice", .codes = ANSWERS(CODE)};
	struct pam_run after_reset = third;
	char *out = NULL;
	long minutes;

	(void)state;
	write_conf(&c);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_rc(run_auth("bv", "alice", ANSWERS(CODE), NULL), PAM_SUCCESS);
	assert_requests(P_SEND, 2);
	assert_int_equal(store_count("alice", "send"), 2);

	/* A third login, another process: refused before the API. */
	assert_rc(run_pam_child(&third), PAM_AUTH_ERR);
	assert_int_equal(third.prompts, 0);
	assert_requests(P_SEND, 2);
	minutes = minutes_in(third.shown, MSG_LIMIT);
	if (minutes < 59 || minutes > 60) {
		print_error("no \"" MSG_LIMIT "N minute(s).\" with N 59-60 "
			    "in:\n%s",
			    third.shown);
		fail();
	}
	assert_logged(PRIO(LOG_NOTICE), "user=alice",
		      "send refused: 2 codes "
		      "in the last hour (limits.max_sends_per_hour = 2)");
	done(&third);

	/* reset clears the counters. */
	assert_int_equal(run_cli(&out, "reset", "alice", NULL), 0);
	assert_non_null(strstr(out, "2 recent sends"));
	free(out);
	assert_rc(run_pam_child(&after_reset), PAM_SUCCESS);
	assert_requests(P_SEND, 3);
	done(&after_reset);
}

/* The limit also holds within one login's resends, local provider. */
static void
test_send_limit_local(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run r = {LOGIN("bv", "alice", PLAN("", "", "@latest"))};
	struct pam_run next = {LOGIN("bv", "alice", PLAN("@latest"))};

	(void)state;
	c.max_sends = 3;
	c.limits = "max_sends_per_hour = 2;";
	write_conf(&c);
	assert_rc(run_pam(&r), PAM_AUTH_ERR);
	assert_int_equal(r.prompts, 2);
	assert_outbox(2);
	assert_err(MSG_LIMIT);
	assert_logged(PRIO(LOG_NOTICE), "send refused: 2 codes in the last "
					"hour");
	done(&r);

	assert_rc(run_pam_child(&next), PAM_AUTH_ERR);
	assert_int_equal(next.prompts, 0);
	assert_outbox(2);
	assert_err(MSG_LIMIT);
	done(&next);
}

static void
test_lockout(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run first = {LOGIN("bv", "alice", PLAN(WRONG))};
	struct pam_run second = first, third = first;
	struct pam_run after = {LOGIN("bv", "alice", PLAN("@latest"))};
	char *out = NULL;
	long minutes;

	(void)state;
	c.max_tries = 1;
	c.limits = "deny = 2;";
	write_conf(&c);
	assert_rc(run_pam(&first), PAM_MAXTRIES);
	assert_store("alice", "failures", 1);
	done(&first);

	assert_rc(run_pam_child(&second), PAM_MAXTRIES);
	assert_store("alice", "failures", 2);
	assert_true(store_field("alice", "locked_until", 1) > time(NULL));
	assert_logged(PRIO(LOG_WARNING), "user=alice",
		      "locked out for 900s "
		      "after 2 failed verifications");
	done(&second);

	/* Locked: refused before any code is sent. */
	assert_rc(run_pam_child(&third), PAM_AUTH_ERR);
	assert_int_equal(third.prompts, 0);
	assert_outbox(2);
	minutes = minutes_in(third.shown, MSG_LOCKED);
	if (minutes != 15) {
		print_error("no \"" MSG_LOCKED "15 minute(s).\" in:\n%s",
			    third.shown);
		fail();
	}
	assert_logged(PRIO(LOG_NOTICE), "denied: locked out after 2 failed "
					"verifications");
	done(&third);

	/* The administrator clears it. */
	assert_int_equal(run_cli(&out, "reset", "alice", NULL), 0);
	assert_non_null(strstr(out, "cleared a lockout until"));
	free(out);
	assert_store("alice", "failures", 0);
	assert_int_equal(store_count("alice", "locked_until"), 0);
	assert_rc(run_pam_child(&after), PAM_SUCCESS);
	assert_outbox(3);
	done(&after);
}

/* A success clears the failures in a row. */
static void
test_success_resets_failures(void **state)
{
	static const struct {
		const char *answer;
		int rc;
		long long failures;
	} steps[] = {
	    {WRONG, PAM_MAXTRIES, 1},
	    {"@latest", PAM_SUCCESS, 0},
	    {WRONG, PAM_MAXTRIES, 1},
	    {WRONG, PAM_MAXTRIES, 2},
	    /* 3 = deny had the first failure not been cleared */
	    {"@latest", PAM_SUCCESS, 0},
	};
	struct conf c = local_file(NULL);

	(void)state;
	c.max_tries = 1;
	c.limits = "deny = 3; max_sends_per_hour = 64;";
	write_conf(&c);
	for (size_t i = 0; i < NELEM(steps); i++) {
		struct pam_run r = {
		    LOGIN("bv", "alice", PLAN(steps[i].answer)),
		};

		assert_rc(run_pam_child(&r), steps[i].rc);
		assert_store("alice", "failures", steps[i].failures);
		done(&r);
	}
	assert_not_logged("locked out");
	assert_int_equal(count_logged(LOG_VERIFIED), 2);
}

/* unlock_time passes: the user may try again, counted afresh. */
static void
test_lockout_ends(void **state)
{
	struct conf c = local_file(NULL);
	struct pam_run wrong = {LOGIN("bv", "alice", PLAN(WRONG))};
	struct pam_run wrong2 = wrong, locked = wrong, after = wrong;

	(void)state;
	c.max_tries = 1;
	c.limits = "deny = 2; unlock_time = 3600;";
	write_conf(&c);
	assert_rc(run_pam_child(&wrong), PAM_MAXTRIES);
	assert_rc(run_pam_child(&wrong2), PAM_MAXTRIES);
	assert_rc(run_pam_child(&locked), PAM_AUTH_ERR);
	assert_int_equal(locked.prompts, 0);
	assert_logged(PRIO(LOG_WARNING), "locked out for 3600s after 2 failed "
					 "verifications");
	/* The hour passes (in the record: no test waits on the clock). */
	assert_true(end_lockout());
	/* Asked again; this wrong code is the first of a new count. */
	assert_rc(run_pam_child(&after), PAM_MAXTRIES);
	assert_int_equal(after.prompts, 1);
	assert_outbox(3);
	assert_store("alice", "failures", 1);
	assert_int_equal(store_count("alice", "locked_until"), 0);
	done(&wrong);
	done(&wrong2);
	done(&locked);
	done(&after);
}

/* ------------------------------------------------------------------ */
/* The lockout meets every answer, not only the start of a login.      */

/*
 * A login that, when its first prompt comes, lets another login of the
 * same user run from start to end (its wrong code locks the user out),
 * and then answers: "@0" is this login's own code, anything else is
 * typed as it is (a recovery code).
 */
struct meanwhile {
	struct pam_run other;
	const char *then;
};

static const char *
answer_after_lockout(int n, void *arg)
{
	struct meanwhile *m = arg;
	static char code[32];

	if (n > 0)
		return NULL;
	(void)run_pam_child(&m->other);
	if (strcmp(m->then, "@0") == 0)
		return outbox_code(0, code, sizeof(code)) ? code : NULL;
	return m->then;
}

/* The right code, typed after another login locked the user out, does
   not get in and does not lift the lockout. */
static void
test_lockout_at_prompt(void **state)
{
	struct conf c = local_file(NULL);
	struct meanwhile m = {.other = {LOGIN("bv", "alice", PLAN(WRONG))},
			      .then = "@0"};
	struct pam_run r = {.service = "bv",
			    .user = "alice",
			    .answer = answer_after_lockout,
			    .arg = &m};
	long long until;

	(void)state;
	c.limits = "deny = 1;";
	write_conf(&c);
	run_pam(&r);
	assert_rc(m.other.auth_rc, PAM_AUTH_ERR);
	assert_logged(PRIO(LOG_WARNING), "locked out for 900s after 1 "
					 "failed verifications");
	until = store_field("alice", "locked_until", 1);
	assert_true(until > time(NULL));

	assert_rc(r.auth_rc, PAM_AUTH_ERR);
	assert_int_equal(r.prompts, 1);
	assert_non_null(strstr(r.shown, MSG_LOCKED));
	assert_int_equal(count_logged(LOG_VERIFIED), 0);
	assert_int_equal(count_logged("denied: locked out after 1 failed "
				      "verifications"),
			 1);
	/* The lockout, and the failure count, as the other login left
	   them; nothing more was sent. */
	assert_int_equal(store_field("alice", "locked_until", 1), until);
	assert_store("alice", "failures", 1);
	assert_outbox(2);
	done(&m.other);
	done(&r);
}

/* A recovery code typed at a prompt while the user is locked out is
   refused, not spent, and does not lift the lockout (as at the start). */
static void
test_recovery_refused_at_prompt_when_locked(void **state)
{
	char codes[2][RECOVERY_LEN + 1];
	struct conf c = local_file(NULL);
	struct meanwhile m = {.other = {LOGIN("bv", "alice", PLAN(WRONG))},
			      .then = codes[0]};
	struct pam_run r = {.service = "bv",
			    .user = "alice",
			    .answer = answer_after_lockout,
			    .arg = &m};
	struct pam_run after = {LOGIN("bv", "alice", PLAN(codes[0]))};
	long long until;
	char *out = NULL;

	(void)state;
	c.limits = "deny = 1;";
	write_conf(&c);
	make_recovery("alice", codes, 2);
	run_pam(&r);
	assert_rc(m.other.auth_rc, PAM_AUTH_ERR);
	until = store_field("alice", "locked_until", 1);
	assert_true(until > time(NULL));

	assert_rc(r.auth_rc, PAM_AUTH_ERR);
	assert_non_null(strstr(r.shown, MSG_LOCKED));
	assert_not_logged("RECOVERY CODE USED");
	assert_not_logged("signed in with a recovery code");
	assert_int_equal(store_count("alice", "recovery"), 2);
	assert_int_equal(store_field("alice", "locked_until", 1), until);
	assert_store("alice", "failures", 1);
	done(&m.other);
	done(&r);

	/* Unspent: once the administrator lifts the lockout, it works. */
	assert_int_equal(run_cli(&out, "reset", "alice", NULL), 0);
	free(out);
	assert_rc(run_pam_child(&after), PAM_SUCCESS);
	assert_logged(PRIO(LOG_NOTICE), "RECOVERY CODE USED; 1 left");
	done(&after);
}

/* ------------------------------------------------------------------ */
/* Grace: remember=SECONDS.                                            */

#define LOG_GRANTED                                                            \
	"granted: verified within the last 300s on this "                      \
	"service and terminal"

/* A login on service as user from tty (and rhost); whether it was asked
   for a code (and answered it) or let through silently. */
static bool
asked(const char *service, const char *user, const char *tty, const char *rhost)
{
	struct pam_run r = {LOGIN(service, user, PLAN("@latest")), .tty = tty,
			    .rhost = rhost};
	unsigned before = outbox_lines();
	bool was_asked;

	assert_rc(run_pam(&r), PAM_SUCCESS);
	was_asked = r.prompts > 0;
	if (was_asked) {
		assert_int_equal(r.prompts, 1);
		assert_outbox(before + 1);
	} else {
		/* Nothing at all: no message, no send. */
		assert_string_equal(r.shown, "");
		assert_outbox(before);
	}
	done(&r);
	return was_asked;
}

static void
test_grace_same_tty(void **state)
{
	struct conf c = local_file(NULL);
	time_t t0 = time(NULL);

	(void)state;
	write_conf(&c);
	assert_true(asked("bv_remember", "alice", "pts/1", NULL));
	assert_not_logged("granted:");
	assert_false(asked("bv_remember", "alice", "pts/1", NULL));
	assert_logged(PRIO(LOG_INFO), "pam_baxverify(bv_remember:auth)",
		      "user=alice", LOG_GRANTED);
	assert_int_equal(store_count("alice", "remember"), 1);
	/* The window runs 300 s from the first login, which began after
	   t0: no slack needed. */
	assert_true(store_field("alice", "remember", 2) >= t0 + 300);
}

/* Never shared across terminals, remote hosts, services or users. */
static void
test_grace_scoped(void **state)
{
	struct conf c = local_file(NULL);

	(void)state;
	c.limits = "max_sends_per_hour = 64;";
	write_conf(&c);
	assert_true(asked("bv_remember", "alice", "pts/1", NULL));
	assert_true(asked("bv_remember", "alice", "pts/2", NULL));
	assert_true(asked("bv_remember", "alice", "pts/1", "192.0.2.7"));
	assert_true(asked("bv_remember2", "alice", "pts/1", NULL));
	assert_true(asked("bv_remember", "root", "pts/1", NULL));
	/* Each of those now has a window of its own. */
	assert_false(asked("bv_remember", "alice", "pts/2", NULL));
	assert_false(asked("bv_remember2", "alice", "pts/1", NULL));
	assert_false(asked("bv_remember", "root", "pts/1", NULL));
	assert_false(asked("bv_remember", "alice", "pts/1", "192.0.2.7"));
	assert_int_equal(count_logged(LOG_GRANTED), 4);
	assert_logged(PRIO(LOG_INFO), "user=root service=bv_remember",
		      LOG_GRANTED);
	assert_logged(PRIO(LOG_INFO),
		      "user=alice service=bv_remember "
		      "rhost=192.0.2.7",
		      LOG_GRANTED);
}

static void
test_grace_off_by_default(void **state)
{
	struct conf c = local_file(NULL);

	(void)state;
	write_conf(&c);
	assert_true(asked("bv", "alice", "pts/1", NULL));
	assert_true(asked("bv", "alice", "pts/1", NULL));
	assert_not_logged("granted:");
	assert_int_equal(count_logged(LOG_VERIFIED), 2);
	assert_int_equal(store_count("alice", "remember"), 0);
}

/*
 * A PAM_TTY too long for a grace key (a caller chooses it under sudo):
 * no window is opened or granted, so two long terminals that share
 * their first 250 characters never share one, as a cut key would.
 */
static void
test_grace_long_tty(void **state)
{
	struct conf c = local_file(NULL);
	char tty1[301], tty2[301];

	(void)state;
	memset(tty1, 'A', 300);
	tty1[300] = '\0';
	memcpy(tty2, tty1, sizeof(tty2));
	memset(tty1 + 250, 'x', 50);
	memset(tty2 + 250, 'y', 50);
	c.limits = "max_sends_per_hour = 64;";
	c.extra = "debug = true;";
	write_conf(&c);
	assert_true(asked("bv_remember", "alice", tty1, NULL));
	assert_true(asked("bv_remember", "alice", tty2, NULL));
	assert_true(asked("bv_remember", "alice", tty1, NULL));
	assert_not_logged("granted:");
	assert_int_equal(store_count("alice", "remember"), 0);
	assert_logged(PRIO(LOG_DEBUG), "user=alice",
		      "no grace window: the "
		      "service, terminal and remote host are too long for a "
		      "key");
	/* A terminal of a sane length still gets its window. */
	assert_true(asked("bv_remember", "alice", "pts/1", NULL));
	assert_false(asked("bv_remember", "alice", "pts/1", NULL));
}

/* Terminals and remote hosts that differ only in bytes the record
   cannot hold, or in where a '|' falls, are different windows. */
static void
test_grace_key_unambiguous(void **state)
{
	struct conf c = local_file(NULL);

	(void)state;
	c.limits = "max_sends_per_hour = 64;";
	write_conf(&c);
	assert_true(asked("bv_remember", "alice", "pts/9 x", NULL));
	assert_true(asked("bv_remember", "alice", "pts/9_x", NULL));
	assert_true(asked("bv_remember", "alice", "a|b", "c"));
	assert_true(asked("bv_remember", "alice", "a", "b|c"));
	/* Each has a window of its own. */
	assert_false(asked("bv_remember", "alice", "pts/9 x", NULL));
	assert_false(asked("bv_remember", "alice", "a", "b|c"));
	assert_int_equal(store_count("alice", "remember"), 4);
}

/* remember is also a top-level key of the file. */
static void
test_grace_config_key(void **state)
{
	struct conf c = local_file(NULL);

	(void)state;
	c.extra = "remember = 300;";
	write_conf(&c);
	assert_true(asked("bv", "alice", "pts/1", NULL));
	assert_false(asked("bv", "alice", "pts/1", NULL));
	assert_logged(PRIO(LOG_INFO), "pam_baxverify(bv:auth)", LOG_GRANTED);
}

/* ------------------------------------------------------------------ */
/* Parallel logins of one user: no update lost.                        */

#define PARALLEL 20

/* (Not a compound literal in the loop: that one would die with it.) */
static const char *const wrong_only[] = {WRONG, NULL};

static void
test_parallel_failures(void **state)
{
	struct conf c = local_file("  max_attempts = 20;\n");
	struct pam_run runs[PARALLEL];
	int maxtries = 0;

	(void)state;
	c.max_tries = 1;
	c.limits = "deny = 1000; max_sends_per_hour = 64;";
	write_conf(&c);
	for (int i = 0; i < PARALLEL; i++)
		runs[i] = (struct pam_run){
		    .service = "bv", .user = "alice", .codes = wrong_only};
	run_pam_parallel(runs, PARALLEL);
	for (int i = 0; i < PARALLEL; i++) {
		if (runs[i].auth_rc == PAM_MAXTRIES && runs[i].prompts == 1)
			maxtries++;
		else
			print_error("run %d: %s, %d prompt(s):\n%s", i,
				    pam_rc_name(runs[i].auth_rc),
				    runs[i].prompts, runs[i].shown);
		done(&runs[i]);
	}
	assert_int_equal(maxtries, PARALLEL);
	/* One wrong answer each, every one counted. */
	assert_int_equal(count_logged("verify via local failed: wrong code"),
			 PARALLEL);
	assert_store("alice", "failures", PARALLEL);
	assert_int_equal(store_count("alice", "send"), PARALLEL);
	assert_outbox(PARALLEL);
	assert_not_logged("cannot lock");
}

static void
test_parallel_send_limit(void **state)
{
	struct conf c = local_file("  max_attempts = 20;\n");
	struct pam_run runs[PARALLEL];
	int sent = 0, refused = 0;

	(void)state;
	c.max_tries = 1;
	c.limits = "deny = 1000; max_sends_per_hour = 10;";
	write_conf(&c);
	for (int i = 0; i < PARALLEL; i++)
		runs[i] = (struct pam_run){
		    .service = "bv", .user = "alice", .codes = wrong_only};
	run_pam_parallel(runs, PARALLEL);
	for (int i = 0; i < PARALLEL; i++) {
		if (runs[i].auth_rc == PAM_MAXTRIES && runs[i].prompts == 1 &&
		    strstr(runs[i].shown, MSG_SENT) != NULL)
			sent++;
		else if (runs[i].auth_rc == PAM_AUTH_ERR &&
			 runs[i].prompts == 0 &&
			 strstr(runs[i].shown, MSG_LIMIT) != NULL)
			refused++;
		else
			print_error("run %d: %s, %d prompt(s):\n%s", i,
				    pam_rc_name(runs[i].auth_rc),
				    runs[i].prompts, runs[i].shown);
		done(&runs[i]);
	}
	assert_int_equal(sent, 10);
	assert_int_equal(refused, PARALLEL - 10);
	assert_int_equal(count_logged("send refused: 10 codes in the last "
				      "hour"),
			 PARALLEL - 10);
	assert_outbox(10);
	assert_int_equal(store_count("alice", "send"), 10);
	assert_store("alice", "failures", 10);
	assert_not_logged("cannot lock");
}

/* ------------------------------------------------------------------ */
/* A damaged store file is reported, never reset.                      */

enum damage {
	TRUNCATED, /* cut inside a line */
	EMPTY,
	NUL_BYTE,
	BAD_NUMBER,
	UNKNOWN_LINE,
	VERSION_2,
	OVERSIZE,  /* > 64 KB of comments */
	SYMLINK,   /* the user's file is a symlink to a good record */
	DIRECTORY, /* a directory where the file should be */
};

struct damage_case {
	const char *name;
	enum damage damage;
	const char *provider; /* NULL: local */
	const char *service;
};

static const struct damage_case damages[] = {
    {"truncated", TRUNCATED, NULL, "bv"},
    {"empty", EMPTY, NULL, "bv"},
    {"NUL byte", NUL_BYTE, NULL, "bv"},
    {"bad number", BAD_NUMBER, NULL, "bv"},
    {"unknown line", UNKNOWN_LINE, NULL, "bv"},
    {"version 2", VERSION_2, NULL, "bv"},
    {"oversize", OVERSIZE, NULL, "bv"},
    {"symlink", SYMLINK, NULL, "bv"},
    {"directory", DIRECTORY, NULL, "bv"},
    {"truncated", TRUNCATED, "baxverify", "bv"},
    {"truncated", TRUNCATED, NULL, "bv_safe"},
    {"bad number", BAD_NUMBER, "baxverify", "bv_safe"},
};

/* Damage alice's record as the case says; returns what the path holds
   now (for the "unchanged" check), allocated. */
static char *
apply_damage(enum damage d, const char *path)
{
	char *text = read_whole_file(path), *p;
	size_t len = strlen(text);
	struct sbuf sb = {NULL, 0, 0};
	char other[8300];

	assert_true(len > 20);
	switch (d) {
	case TRUNCATED:
		len = len / 2;
		if (text[len - 1] == '\n')
			len--;
		text[len] = '\0';
		write_file(path, text, 0600);
		break;
	case EMPTY:
		write_file(path, "", 0600);
		text[0] = '\0';
		break;
	case NUL_BYTE: {
		int fd;

		text[len / 2] = '\0';
		(void)unlink(path);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, text, len), (ssize_t)len);
		close(fd);
		text[len / 2] = '@'; /* compared as text below: marker */
		break;
	}
	case BAD_NUMBER:
		p = strstr(text, "failures ");
		assert_non_null(p);
		p[9] = 'x';
		write_file(path, text, 0600);
		break;
	case UNKNOWN_LINE:
		sb_printf(&sb, "%sfrobnicate 1\n", text);
		write_file(path, sb.s, 0600);
		free(text);
		text = sb.s;
		break;
	case VERSION_2:
		p = strstr(text, "version 1");
		assert_non_null(p);
		p[8] = '2';
		write_file(path, text, 0600);
		break;
	case OVERSIZE:
		sb_printf(&sb, "%s", text);
		for (int i = 0; i < 1100; i++)
			sb_printf(&sb, "# %060d\n", i);
		write_file(path, sb.s, 0600);
		free(text);
		text = sb.s;
		break;
	case SYMLINK:
		snprintf(other, sizeof(other), "%s.elsewhere", path);
		assert_int_equal(rename(path, other), 0);
		assert_int_equal(symlink(other, path), 0);
		free(text);
		text = strdup(other); /* the link's target */
		break;
	case DIRECTORY:
		assert_int_equal(unlink(path), 0);
		assert_int_equal(mkdir(path, 0700), 0);
		text[0] = '\0';
		break;
	}
	return text;
}

/* Does the path still hold exactly what apply_damage left? */
static void
assert_undamaged_further(enum damage d, const char *path, const char *before)
{
	struct stat st;
	char link[8300];
	ssize_t n;

	assert_int_equal(lstat(path, &st), 0);
	switch (d) {
	case SYMLINK:
		assert_true(S_ISLNK(st.st_mode));
		n = readlink(path, link, sizeof(link) - 1);
		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, before);
		break;
	case DIRECTORY:
		assert_true(S_ISDIR(st.st_mode));
		break;
	case NUL_BYTE: {
		char *now = read_whole_file(path);
		size_t half = strlen(before) / 2;

		/* Up to the NUL, and the size, as written. */
		assert_int_equal(strlen(now), half);
		assert_memory_equal(now, before, half);
		assert_int_equal(st.st_size, (off_t)strlen(before));
		free(now);
		break;
	}
	default: {
		char *now = read_whole_file(path);

		assert_true(S_ISREG(st.st_mode));
		assert_string_equal(now, before);
		free(now);
		break;
	}
	}
}

static void
test_store_damaged(void **state)
{
	const struct damage_case *dc = *state;
	struct conf c = local_file(NULL);
	struct pam_run good = {LOGIN("bv", "alice", PLAN("@latest"))};
	struct pam_run r = {LOGIN(dc->service, "alice", PLAN("@latest"))};
	char path[8192], *before;

	/* A real record first: sends, a proof, the failures line. */
	write_conf(&c);
	assert_rc(run_pam(&good), PAM_SUCCESS);
	done(&good);
	store_file("alice", path, sizeof(path));
	before = apply_damage(dc->damage, path);
	if (dc->provider != NULL) {
		struct conf api = {0};

		write_conf(&api);
	}
	write_file(syslog_file, "", 0600);

	assert_rc(run_pam(&r), PAM_SERVICE_ERR);
	assert_int_equal(r.prompts, 0);
	assert_err(MSG_MISCONF);
	assert_logged(PRIO(LOG_ERR), store_path, "/alice ");
	assert_not_logged("ALLOWED WITHOUT A CODE");
	/* Nothing sent, and the file left exactly as it was. */
	assert_outbox(1);
	assert_requests(NULL, 0);
	assert_undamaged_further(dc->damage, path, before);
	/* Nor does the administrator's reset paper over it. */
	if (getenv("BV_CLI") != NULL) {
		char *out = NULL;

		assert_int_not_equal(run_cli(&out, "reset", "alice", NULL), 0);
		assert_non_null(strstr(out, "/alice"));
		free(out);
		assert_undamaged_further(dc->damage, path, before);
	}
	free(before);
	done(&r);
	if (dc->damage == DIRECTORY)
		(void)rmdir(path);
	if (dc->damage == SYMLINK) {
		char other[8300];

		snprintf(other, sizeof(other), "%s.elsewhere", path);
		(void)unlink(other);
	}
}

/* ------------------------------------------------------------------ */

static const struct CMUnitTest plain_tests[] = {
    T(test_local_success),
    T(test_local_wrong_then_right),
    T(test_local_max_attempts),
    T(test_local_expired_then_resend),
    T(test_local_expired),
    T(test_local_resend),
    T(test_local_template),
    T(test_local_two_logins_codes),
    T(test_local_two_logins_sessions),
    T(test_local_session_as_target_user),
    T(test_command_success),
    T(test_command_failure),
    T(test_command_failure_safe),
    T(test_command_timeout),
    T(test_command_timeout_exec),
    T(test_command_hostile_output),
    T(test_command_echoes_secrets),
    T(test_command_failure_forgets_code),
    T(test_command_not_executable),
    T(test_command_missing),
    T(test_command_symlink),
    T(test_command_foreign_owner),
    T(test_file_delivery_symlink),
    T(test_file_delivery_fifo),
    T(test_recovery_once),
    T(test_recovery_api_down),
    T(test_recovery_wrong_counts),
    T(test_recovery_disabled),
    T(test_send_limit),
    T(test_send_limit_local),
    T(test_lockout),
    T(test_success_resets_failures),
    T(test_lockout_ends),
    T(test_lockout_at_prompt),
    T(test_recovery_refused_at_prompt_when_locked),
    T(test_grace_same_tty),
    T(test_grace_scoped),
    T(test_grace_off_by_default),
    T(test_grace_long_tty),
    T(test_grace_key_unambiguous),
    T(test_grace_config_key),
    T(test_parallel_failures),
    T(test_parallel_send_limit),
};

int
main(int argc, char **argv)
{
	size_t max = NELEM(plain_tests) + NELEM(damages);
	struct CMUnitTest *all = calloc(max, sizeof(*all));
	char **names = calloc(max, sizeof(*names));
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t n = 0;
	int rc;

	if (all == NULL || names == NULL)
		return 1;
	for (size_t i = 0; i < NELEM(plain_tests); i++)
		all[n++] = plain_tests[i];
	for (size_t i = 0; i < NELEM(damages); i++) {
		char label[128];

		snprintf(label, sizeof(label), "%s, %s", damages[i].name,
			 damages[i].provider != NULL ? damages[i].provider
						     : "local");
		names[n] =
		    case_name("test_store_damaged", label, damages[i].service);
		add_case(all, &n, names[n], test_store_damaged, &damages[i]);
	}
	rc = harness_run("pam_baxverify local store (pam_wrapper)", all, n,
			 only);
	for (size_t i = 0; i < max; i++)
		free(names[i]);
	free(names);
	free(all);
	return rc;
}
