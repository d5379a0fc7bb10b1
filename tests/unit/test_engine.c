/*
 * test_engine.c - the verification engine with a fake provider port and
 * a scripted conversation: no mock server, no libpam, no helper.  The
 * store is real (files in a temporary directory); the clock is the
 * engine's seam, so lockouts end without anyone waiting.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/core/wipe.h"
#include "../../src/engine/engine.h"
#include "../../src/store/store.h"

#define MAX_SCRIPT 16
#define MAX_LINES 32

/* What the fake provider answers, call by call, and what it was asked. */
struct fake {
	enum bv_result send[MAX_SCRIPT]; /* BV_OK when the script ran out */
	size_t nsend;
	enum bv_result check[MAX_SCRIPT];
	long left[MAX_SCRIPT]; /* attempts_left with a check */
	size_t ncheck;
	const char *sent_by[MAX_SCRIPT]; /* provider of each send */
	enum bv_channel sent_channel[MAX_SCRIPT];
	size_t validated;
	/* The conversation: answers in order, then BV_ABORTED. */
	const char *answers[MAX_SCRIPT];
	size_t nanswers, asked;
	char lines[MAX_LINES][256]; /* info and error lines */
	size_t nlines;
	/* Called in the middle of each send, before it answers. */
	void (*during_send)(void *arg, const char *provider);
	void *during_arg;
};

/* The log lines of a login, with their priorities. */
struct logged {
	int prio[MAX_LINES];
	char line[MAX_LINES][512];
	size_t n;
};

struct fixture {
	char dir[64];
	char conf[96];
	struct bv_config cfg;
	struct bv_log log;
	struct bv_engine e;
	struct fake fake;
	struct logged logged;	     /* emptied by start() */
	const char *baxverify_extra; /* more keys of the baxverify group */
	char health_path[96];	     /* the store's health record */
};

static time_t fake_time = 1800000000;

static time_t
fake_clock(void)
{
	return fake_time;
}

static enum bv_result
fake_send(void *arg, const struct bv_provider_info *p, enum bv_channel channel,
	  const char *dest, struct bv_outcome *out)
{
	struct fake *f = arg;
	size_t i = f->nsend++;

	(void)dest;
	assert_true(i < MAX_SCRIPT);
	f->sent_by[i] = p->name;
	f->sent_channel[i] = channel;
	if (f->during_send != NULL)
		f->during_send(f->during_arg, p->name);
	if (f->send[i] != BV_OK)
		snprintf(out->detail, sizeof(out->detail), "scripted");
	return f->send[i];
}

static enum bv_result
fake_check(void *arg, const struct bv_provider_info *p, const char *code,
	   struct bv_proof *proof, struct bv_outcome *out)
{
	struct fake *f = arg;
	size_t i = f->ncheck++;

	(void)p;
	assert_true(i < MAX_SCRIPT);
	assert_non_null(code);
	out->attempts_left = f->left[i] ? f->left[i] : -1;
	if (f->check[i] != BV_OK)
		return f->check[i];
	proof->token = strdup("proof-token");
	proof->expires = fake_time + 300;
	return proof->token ? BV_OK : BV_NOMEM;
}

static enum bv_result
fake_validate(void *arg, const struct bv_provider_info *p, const char *dest,
	      const char *token, bool consume, struct bv_outcome *out)
{
	struct fake *f = arg;

	(void)p;
	(void)dest;
	(void)consume;
	(void)out;
	f->validated++;
	return strcmp(token, "proof-token") == 0 ? BV_OK : BV_REJECTED;
}

static enum bv_result
fake_prompt(void *arg, bool echo, const char *text, char **answer)
{
	struct fake *f = arg;

	(void)echo;
	(void)text;
	if (f->asked >= f->nanswers)
		return BV_ABORTED;
	*answer = strdup(f->answers[f->asked++]);
	return *answer ? BV_OK : BV_NOMEM;
}

/* Recovery codes: the real crypt(3) comparison, as the helper makes it. */
static enum bv_result
fake_match_hash(void *arg, const char *code, const char *hash, bool *match)
{
	(void)arg;
	*match = store_hash_matches(code, hash);
	return BV_OK;
}

static void
fake_line(void *arg, const char *text)
{
	struct fake *f = arg;

	if (f->nlines < MAX_LINES)
		snprintf(f->lines[f->nlines++], sizeof(f->lines[0]), "%s",
			 text);
}

/* Was a line containing text shown to the user? */
static bool
shown(const struct fake *f, const char *text)
{
	size_t i;

	for (i = 0; i < f->nlines; i++)
		if (strstr(f->lines[i], text) != NULL)
			return true;
	return false;
}

static void
log_sink(void *arg, int prio, const char *line)
{
	struct logged *l = arg;

	if (l->n < MAX_LINES) {
		l->prio[l->n] = prio;
		snprintf(l->line[l->n++], sizeof(l->line[0]), "%s", line);
	}
}

/* How many log lines at prio hold both a and b (b may be NULL). */
static int
count_logged(const struct fixture *f, int prio, const char *a, const char *b)
{
	const struct logged *l = &f->logged;
	int n = 0;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->prio[i] == prio && strstr(l->line[i], a) != NULL &&
		    (b == NULL || strstr(l->line[i], b) != NULL))
			n++;
	return n;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* Load a configuration of the common keys plus extra, in f->dir. */
static void
load(struct fixture *f, const char *extra)
{
	char text[2048], phones[128];

	snprintf(phones, sizeof(phones), "%s/phones", f->dir);
	write_file(phones, "alice +14155552671 alice@example.org\n");
	snprintf(text, sizeof(text),
		 "baxverify = { project_id = \"p\"; api_key = \"k\"; %s };\n"
		 "tryvox = { tenant_id = \"t\"; api_key = \"k\"; };\n"
		 "phones = { file = \"%s\"; };\n"
		 "store = { dir = \"%s/store\"; };\n"
		 "%s\n",
		 f->baxverify_extra ? f->baxverify_extra : "", phones, f->dir,
		 extra);
	write_file(f->conf, text);
	cfg_free(&f->cfg);
	assert_int_equal(
	    cfg_load_file(&f->cfg, f->conf, provider_catalog(), &f->log),
	    BV_OK);
}

/* A fresh engine for alice (contact looked up) on f->cfg. */
static void
start(struct fixture *f)
{
	struct bv_engine *e = &f->e;
	enum engine_selection sel;

	engine_clear(e);
	memset(&f->fake, 0, sizeof(f->fake));
	memset(&f->logged, 0, sizeof(f->logged));
	engine_init(e, &f->cfg, &f->log, "alice", "user=alice");
	e->clock = fake_clock;
	e->port = (struct bv_port){.send = fake_send,
				   .check = fake_check,
				   .validate = fake_validate,
				   .match_hash = fake_match_hash,
				   .arg = &f->fake};
	e->conv = (struct bv_conv){fake_prompt, fake_line, fake_line, &f->fake};
	assert_int_equal(engine_select(e, &sel), BV_OK);
	assert_int_equal(sel, ENGINE_ASK);
}

static void
answers(struct fixture *f, size_t n, ...)
{
	va_list ap;
	size_t i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		f->fake.answers[i] = va_arg(ap, const char *);
	va_end(ap);
	f->fake.nanswers = n;
}

/* The whole login as the module runs it after selection. */
static enum bv_result
login(struct fixture *f)
{
	bool granted = false;
	enum bv_result rc = engine_begin(&f->e, &granted);

	if (rc == BV_OK && !granted)
		rc = engine_dialogue(&f->e);
	if (rc == BV_OK && !granted)
		rc = engine_confirm(&f->e);
	if (rc == BV_OK && !granted)
		rc = engine_succeeded(&f->e);
	return rc;
}

/* alice's record as the store has it. */
static struct store_record
record(struct fixture *f)
{
	struct store_record rec;
	struct store_txn txn;

	assert_int_equal(store_open(&f->cfg, "alice", &f->log, &txn), BV_OK);
	rec = txn.rec;
	store_close(&txn);
	return rec;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/bv-engine-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/baxverify.conf", f->dir);
	snprintf(f->health_path, sizeof(f->health_path), "%s/store/@health",
		 f->dir);
	f->log.sink = log_sink;
	f->log.sink_arg = &f->logged;
	fake_time = 1800000000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	engine_clear(&f->e);
	cfg_free(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Two wrong codes, then the right one: in, with the tries counted. */
static void
test_retries(void **state)
{
	struct fixture *f = *state;

	load(f, "max_tries = 3;");
	start(f);
	f->fake.check[0] = f->fake.check[1] = BV_WRONG_CODE;
	answers(f, 3, "111111", "222222", "333333");
	assert_int_equal(login(f), BV_OK);
	assert_int_equal(f->e.tries, 3);
	assert_true(shown(&f->fake, "Wrong code. 2 attempt(s) left."));
	assert_true(shown(&f->fake, "Wrong code. 1 attempt(s) left."));
	assert_string_equal(f->e.proof.token, "proof-token");
	assert_int_equal(record(f).failures, 0);
}

/* Out of tries: BV_MAX_ATTEMPTS, each wrong code counted in the store. */
static void
test_out_of_tries(void **state)
{
	struct fixture *f = *state;

	load(f, "max_tries = 2; limits = { deny = 10; };");
	start(f);
	f->fake.check[0] = f->fake.check[1] = BV_WRONG_CODE;
	answers(f, 2, "111111", "222222");
	assert_int_equal(login(f), BV_MAX_ATTEMPTS);
	assert_int_equal(f->fake.ncheck, 2);
	assert_int_equal(record(f).failures, 2);
}

/* The service knows of fewer attempts than max_tries allows. */
static void
test_service_attempts_left(void **state)
{
	struct fixture *f = *state;

	load(f, "max_tries = 5;");
	start(f);
	f->fake.check[0] = BV_WRONG_CODE;
	f->fake.left[0] = 1;
	f->fake.check[1] = BV_MAX_ATTEMPTS;
	answers(f, 3, "111111", "222222", "333333");
	assert_int_equal(login(f), BV_MAX_ATTEMPTS);
	assert_true(shown(&f->fake, "Wrong code. 1 attempt(s) left."));
	assert_int_equal(f->fake.ncheck, 2);
	assert_int_equal(record(f).failures, 2);
}

/* An empty answer sends a new code, up to max_sends; then it ends. */
static void
test_resend(void **state)
{
	struct fixture *f = *state;

	load(f, "max_sends = 2;");
	start(f);
	answers(f, 3, "", "", "");
	assert_int_equal(login(f), BV_ABORTED);
	assert_int_equal(f->fake.nsend, 2);
	assert_true(shown(&f->fake, "No code entered."));
	assert_false(f->e.abort_logged);
	assert_int_equal(record(f).nsends, 2);
}

/* Several channels: the menu, and the one chosen is the one used. */
static void
test_channel_menu(void **state)
{
	struct fixture *f = *state;

	load(f, "provider = [\"tryvox\"]; channels = [\"sms\", \"email\"];");
	start(f);
	answers(f, 2, "2", "123456");
	assert_int_equal(login(f), BV_OK);
	assert_true(shown(&f->fake, "Where should the verification code go?"));
	assert_true(shown(&f->fake, "2) email to a"));
	assert_int_equal(f->fake.sent_channel[0], BV_CHANNEL_EMAIL);
	assert_string_equal(f->e.dest, "alice@example.org");
}

/* Three answers that are no menu entry: the dialogue ends, logged. */
static void
test_channel_menu_refused(void **state)
{
	struct fixture *f = *state;

	load(f, "provider = [\"tryvox\"]; channels = [\"sms\", \"email\"];");
	start(f);
	answers(f, 3, "9", "x", "0");
	assert_int_equal(login(f), BV_ABORTED);
	assert_true(f->e.abort_logged);
	assert_int_equal(f->fake.nsend, 0);
	assert_true(shown(&f->fake, "Enter a number from 1 to 2."));
}

/* Store one recovery code for alice (as baxverify recovery-codes). */
static void
give_recovery_code(struct fixture *f, const char *digits)
{
	struct store_txn txn;

	assert_int_equal(store_open(&f->cfg, "alice", &f->log, &txn), BV_OK);
	assert_int_equal(store_hash(digits, txn.rec.recovery[0]), BV_OK);
	txn.rec.nrecovery = 1;
	assert_int_equal(store_commit(&txn), BV_OK);
	store_close(&txn);
}

/* A recovery code at the prompt: in, spent, not usable twice. */
static void
test_recovery_code(void **state)
{
	struct fixture *f = *state;

	load(f, "");
	give_recovery_code(f, "123456789012");
	start(f);
	answers(f, 1, "1234-5678-9012");
	assert_int_equal(login(f), BV_OK);
	assert_true(f->e.recovered);
	assert_int_equal(f->fake.ncheck, 0);
	assert_int_equal(record(f).nrecovery, 0);

	start(f);
	answers(f, 3, "1234-5678-9012", "1234-5678-9012", "1234-5678-9012");
	assert_int_equal(login(f), BV_MAX_ATTEMPTS);
	assert_false(f->e.recovered);
}

/* No code could be sent: a user with recovery codes may use one. */
static void
test_recovery_when_unavailable(void **state)
{
	struct fixture *f = *state;

	load(f, "");
	give_recovery_code(f, "123456789012");
	start(f);
	f->fake.send[0] = BV_UNAVAILABLE;
	answers(f, 1, "123456789012");
	assert_int_equal(login(f), BV_OK);
	assert_true(f->e.recovered);
	assert_true(shown(&f->fake, "Enter a recovery code"));

	/* Without one left, the outage stands (failmode decides). */
	start(f);
	f->fake.send[0] = BV_UNAVAILABLE;
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_UNAVAILABLE);
	assert_int_equal(f->fake.asked, 0);
}

/* limits.deny = N: the Nth wrong code of a login locks alice out. */
static void
test_lockout_at_each_attempt(void **state)
{
	struct fixture *f = *state;
	char extra[128];
	long deny;

	for (deny = 1; deny <= 3; deny++) {
		snprintf(extra, sizeof(extra),
			 "max_tries = 3; limits = { deny = %ld; "
			 "unlock_time = 600; max_sends_per_hour = 0; };",
			 deny);
		load(f, extra);
		start(f);
		f->fake.check[0] = f->fake.check[1] = f->fake.check[2] =
		    BV_WRONG_CODE;
		answers(f, 3, "111111", "222222", "333333");
		/* Locked before the tries ran out: BV_LOCKED; on the last
		   try, the login's own story is "too many wrong codes". */
		assert_int_equal(login(f),
				 deny < 3 ? BV_LOCKED : BV_MAX_ATTEMPTS);
		assert_int_equal(f->fake.ncheck, deny);
		assert_int_equal(record(f).locked_until, fake_time + 600);
		assert_int_equal(f->e.retry_at, fake_time + 600);

		/* The next login is refused before any code is sent. */
		start(f);
		answers(f, 1, "123456");
		assert_int_equal(login(f), BV_LOCKED);
		assert_int_equal(f->fake.nsend, 0);

		/* unlock_time later (on the engine's clock) it is over. */
		fake_time += 600;
		start(f);
		answers(f, 1, "123456");
		assert_int_equal(login(f), BV_OK);
		fake_time += 1;
	}
}

/* A recovery code is not even looked at while alice is locked out. */
static void
test_locked_recovery_not_spent(void **state)
{
	struct fixture *f = *state;

	load(f, "limits = { deny = 1; unlock_time = 600; };");
	give_recovery_code(f, "123456789012");
	start(f);
	f->fake.check[0] = BV_WRONG_CODE;
	answers(f, 2, "111111", "123456789012");
	assert_int_equal(login(f), BV_LOCKED);
	assert_int_equal(record(f).nrecovery, 1);
}

/* An outage of the first provider: the next one that sends by sms. */
static void
test_failover(void **state)
{
	struct fixture *f = *state;

	load(f, "provider = [\"baxverify\", \"tryvox\"];");
	start(f);
	f->fake.send[0] = BV_UNAVAILABLE;
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_OK);
	assert_int_equal(f->fake.nsend, 2);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_string_equal(f->fake.sent_by[1], "tryvox");
	assert_string_equal(f->e.provider->name, "tryvox");
}

/* The user's own trouble (a bad number) never goes to the next one. */
static void
test_no_failover_on_destination(void **state)
{
	struct fixture *f = *state;

	load(f, "provider = [\"baxverify\", \"tryvox\"];");
	start(f);
	f->fake.send[0] = BV_BAD_DESTINATION;
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_BAD_DESTINATION);
	assert_int_equal(f->fake.nsend, 1);
}

/* An account problem at every provider is not an outage. */
static void
test_rejected_everywhere(void **state)
{
	struct fixture *f = *state;

	load(f, "provider = [\"baxverify\", \"tryvox\"]; "
		"recovery = { enabled = false; };");
	start(f);
	f->fake.send[0] = BV_REJECTED;
	f->fake.send[1] = BV_UNAVAILABLE;
	assert_int_equal(login(f), BV_REJECTED);
	assert_int_equal(f->fake.nsend, 2);
}

/* max_sends_per_hour: the second login within the hour gets no code. */
static void
test_send_limit(void **state)
{
	struct fixture *f = *state;

	load(f, "limits = { max_sends_per_hour = 1; };");
	start(f);
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_OK);
	start(f);
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_RATE_LIMITED);
	assert_int_equal(f->fake.nsend, 0);
	assert_int_equal(f->e.retry_at, fake_time + 3600);
	fake_time += 3600;
	start(f);
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_OK);
}

/* The grace window: a success opens it for the same key only. */
static void
test_grace_window(void **state)
{
	struct fixture *f = *state;
	const char *a[] = {"sudo", "/dev/pts/1", "-", "42.7"};
	const char *b[] = {"sudo", "/dev/pts/2", "-", "43.9"};
	char ka[256], kb[256];
	bool granted = false;

	assert_true(engine_grace_key(a, 4, ka, sizeof(ka)));
	assert_true(engine_grace_key(b, 4, kb, sizeof(kb)));
	assert_string_equal(ka, "sudo|/dev/pts/1|-|42.7");
	load(f, "remember = 300;");
	start(f);
	f->e.grace_key = ka;
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_OK);

	start(f);
	f->e.grace_key = ka;
	assert_int_equal(engine_begin(&f->e, &granted), BV_OK);
	assert_true(granted);
	start(f);
	f->e.grace_key = kb;
	assert_int_equal(engine_begin(&f->e, &granted), BV_OK);
	assert_false(granted);
	fake_time += 300;
	start(f);
	f->e.grace_key = ka;
	assert_int_equal(engine_begin(&f->e, &granted), BV_OK);
	assert_false(granted);
}

/* Grace keys escape what could join two fields into one. */
static void
test_grace_key_escaping(void **state)
{
	const char *tricky[] = {"a|b", "c"};
	const char *plain[] = {"a", "b|c"};
	char k1[64], k2[64], small[6];

	(void)state;
	assert_true(engine_grace_key(tricky, 2, k1, sizeof(k1)));
	assert_true(engine_grace_key(plain, 2, k2, sizeof(k2)));
	assert_string_not_equal(k1, k2);
	assert_false(engine_grace_key(tricky, 2, small, sizeof(small)));
	assert_string_equal(small, "");
}

/* Channels and providers as the module and the command choose them. */
static void
test_selection(void **state)
{
	struct fixture *f = *state;
	enum bv_channel ch[ENGINE_MAX_CHANNELS];

	load(f, "provider = [\"baxverify\", \"tryvox\"]; "
		"channels = [\"voice\", \"email\"];");
	start(f);
	assert_int_equal(engine_usable_channels(&f->e, ch, 4), 2);
	assert_int_equal(ch[0], BV_CHANNEL_VOICE);
	assert_int_equal(ch[1], BV_CHANNEL_EMAIL);
	assert_int_equal(engine_default_channel(&f->cfg, NULL),
			 BV_CHANNEL_VOICE);
	assert_string_equal(
	    engine_pick_provider(&f->cfg, NULL, BV_CHANNEL_VOICE, false)->name,
	    "tryvox");
	assert_null(engine_pick_provider(&f->cfg, "baxverify", BV_CHANNEL_VOICE,
					 false));
	assert_null(
	    engine_pick_provider(&f->cfg, "nosuch", BV_CHANNEL_COUNT, false));
	assert_string_equal(
	    engine_pick_provider(&f->cfg, NULL, BV_CHANNEL_COUNT, false)->name,
	    "baxverify");
}

/* Proof confirmation: asked by default, not with validate_token off. */
static void
test_confirm(void **state)
{
	struct fixture *f = *state;

	load(f, "");
	start(f);
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_OK);
	assert_int_equal(f->fake.validated, 1);
	f->baxverify_extra = "validate_token = false;";
	load(f, "");
	start(f);
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_OK);
	assert_int_equal(f->fake.validated, 0);
}

/* --- the providers' health memory ---------------------------------- */

#define T0 1800000000 /* 2027-01-15 08:00:00 UTC */
#define TWO "provider = [\"baxverify\", \"tryvox\"]; "

/* The store's health record as a login would read it. */
static struct store_health
health(struct fixture *f)
{
	struct store_health h;

	assert_int_equal(store_health_read(&f->cfg, &f->log, &h), BV_OK);
	return h;
}

/* The health file's inode: a new one each time it is written (a new
   file renamed over it); 0 when there is none. */
static ino_t
health_inode(const struct fixture *f)
{
	struct stat st;

	return stat(f->health_path, &st) == 0 ? st.st_ino : 0;
}

/* One login of alice answering the right code, sends scripted. */
static enum bv_result
login_sends(struct fixture *f, enum bv_result first, enum bv_result second)
{
	start(f);
	f->fake.send[0] = first;
	f->fake.send[1] = second;
	answers(f, 1, "123456");
	return login(f);
}

/*
 * A dead primary: the first login pays for it and marks it down; the
 * next ones within health_retry go straight to the secondary (one INFO
 * line each, no write); after health_retry the primary is asked first
 * again; once it sends, its mark is gone.
 */
static void
test_health_skips_dead_primary(void **state)
{
	struct fixture *f = *state;
	struct store_health h;
	ino_t ino;

	load(f, TWO);
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	assert_int_equal(f->fake.nsend, 2);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_string_equal(f->fake.sent_by[1], "tryvox");
	h = health(f);
	assert_int_equal(h.nmarks, 1);
	assert_string_equal(h.marks[0].provider, "baxverify");
	assert_int_equal(h.marks[0].since, T0);
	assert_int_equal(h.marks[0].last, T0);
	assert_int_equal(
	    count_logged(f, LOG_INFO,
			 "provider baxverify marked down: for 60 s", NULL),
	    1);
	ino = health_inode(f);

	/* Within health_retry: straight to tryvox, said once, no write. */
	fake_time = T0 + 59;
	assert_int_equal(login_sends(f, BV_OK, BV_OK), BV_OK);
	assert_int_equal(f->fake.nsend, 1);
	assert_string_equal(f->fake.sent_by[0], "tryvox");
	assert_string_equal(f->e.provider->name, "tryvox");
	assert_int_equal(
	    count_logged(f, LOG_INFO,
			 "user=alice: provider baxverify marked down since "
			 "2027-01-15 08:00:00 UTC (health_retry 60 s): trying "
			 "tryvox first",
			 NULL),
	    1);
	assert_int_equal(f->logged.n, 1);
	assert_int_equal(health_inode(f), ino);

	/* health_retry after the failure: the primary first again; still
	   dead, the mark's last failure moves, its start stays. */
	fake_time = T0 + 60;
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	assert_int_equal(f->fake.nsend, 2);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_int_equal(count_logged(f, LOG_INFO, "trying", NULL), 0);
	h = health(f);
	assert_int_equal(h.nmarks, 1);
	assert_int_equal(h.marks[0].since, T0);
	assert_int_equal(h.marks[0].last, T0 + 60);

	/* Back up after another health_retry: it sends, the mark goes. */
	fake_time = T0 + 120;
	assert_int_equal(login_sends(f, BV_OK, BV_OK), BV_OK);
	assert_int_equal(f->fake.nsend, 1);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_int_equal(health(f).nmarks, 0);
	assert_int_equal(
	    count_logged(f, LOG_INFO, "provider baxverify sends again", NULL),
	    1);

	/* No mark, nothing to clear: the next success writes nothing. */
	ino = health_inode(f);
	fake_time = T0 + 121;
	assert_int_equal(login_sends(f, BV_OK, BV_OK), BV_OK);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_int_equal(health_inode(f), ino);
	assert_int_equal(f->logged.n, 0);
}

/*
 * Every provider marked down: asked anyway, in their order (a login is
 * never denied without asking one), without a write; the first that
 * sends clears its own mark only.
 */
static void
test_health_all_down(void **state)
{
	struct fixture *f = *state;
	struct store_health h;
	ino_t ino;

	load(f, TWO "recovery = { enabled = false; };");
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_UNAVAILABLE),
			 BV_UNAVAILABLE);
	assert_int_equal(health(f).nmarks, 2);
	ino = health_inode(f);

	fake_time = T0 + 10;
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_UNAVAILABLE),
			 BV_UNAVAILABLE);
	assert_int_equal(f->fake.nsend, 2);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_string_equal(f->fake.sent_by[1], "tryvox");
	assert_int_equal(count_logged(f, LOG_INFO,
				      "every provider that sends by sms is "
				      "marked down (health_retry 60 s): "
				      "trying them in order",
				      NULL),
			 1);
	assert_int_equal(health_inode(f), ino);
	h = health(f);
	assert_int_equal(h.marks[0].last, T0);

	fake_time = T0 + 20;
	assert_int_equal(login_sends(f, BV_OK, BV_OK), BV_OK);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	h = health(f);
	assert_int_equal(h.nmarks, 1);
	assert_string_equal(h.marks[0].provider, "tryvox");
}

/*
 * The primary marked down and the secondary failing too: the primary
 * is still asked, last; when it sends, the marks swap.
 */
static void
test_health_down_one_asked_last(void **state)
{
	struct fixture *f = *state;
	struct store_health h;

	load(f, TWO);
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	fake_time = T0 + 5;
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	assert_int_equal(f->fake.nsend, 2);
	assert_string_equal(f->fake.sent_by[0], "tryvox");
	assert_string_equal(f->fake.sent_by[1], "baxverify");
	assert_string_equal(f->e.provider->name, "baxverify");
	h = health(f);
	assert_int_equal(h.nmarks, 1);
	assert_string_equal(h.marks[0].provider, "tryvox");
	assert_int_equal(h.marks[0].since, T0 + 5);
}

/* A new code in the same login keeps the login's order. */
static void
test_health_resend_keeps_order(void **state)
{
	struct fixture *f = *state;

	load(f, TWO "max_sends = 2;");
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	fake_time = T0 + 1;
	start(f);
	answers(f, 2, "", "123456");
	assert_int_equal(login(f), BV_OK);
	assert_int_equal(f->fake.nsend, 2);
	assert_string_equal(f->fake.sent_by[0], "tryvox");
	assert_string_equal(f->fake.sent_by[1], "tryvox");
	assert_int_equal(count_logged(f, LOG_INFO, "trying tryvox first", NULL),
			 1);
}

/*
 * Only an outage marks a provider: a refusal because of the account
 * (which fails over), a rate limit, a bad destination and this host's
 * own failure (which do not) leave no mark.
 */
static void
test_health_refusals_mark_nothing(void **state)
{
	struct fixture *f = *state;
	static const enum bv_result results[] = {
	    BV_REJECTED, BV_RATE_LIMITED, BV_BAD_DESTINATION, BV_INTERNAL,
	    BV_NOMEM,	 BV_CONFIG,	  BV_WRONG_CODE,      BV_EXPIRED,
	};
	size_t i;

	load(f, TWO "limits = { max_sends_per_hour = 0; };");
	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		(void)login_sends(f, results[i], BV_OK);
		assert_string_equal(f->fake.sent_by[0], "baxverify");
		if (access(f->health_path, F_OK) == 0)
			fail_msg("%s marked the provider down",
				 bv_result_name(results[i]));
	}
}

/* health_retry = 0, or one provider: no memory, no file. */
static void
test_health_off(void **state)
{
	struct fixture *f = *state;

	load(f, TWO "health_retry = 0;");
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	fake_time = T0 + 1;
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	assert_int_equal(f->fake.nsend, 2);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_int_equal(access(f->health_path, F_OK), -1);

	load(f, "recovery = { enabled = false; };");
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_UNAVAILABLE);
	assert_int_equal(access(f->health_path, F_OK), -1);
}

/* The health_retry of the configuration is the one counted. */
static void
test_health_retry_configured(void **state)
{
	struct fixture *f = *state;

	load(f, TWO "health_retry = 5;");
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	fake_time = T0 + 4;
	assert_int_equal(login_sends(f, BV_OK, BV_OK), BV_OK);
	assert_string_equal(f->fake.sent_by[0], "tryvox");
	assert_int_equal(count_logged(f, LOG_INFO, "(health_retry 5 s)", NULL),
			 1);
	fake_time = T0 + 5;
	assert_int_equal(login_sends(f, BV_OK, BV_OK), BV_OK);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
}

/*
 * A damaged health file stops nobody: logged naming the file, read as
 * no marks (the providers in their order), and replaced by the next
 * change.
 */
static void
test_health_damaged(void **state)
{
	struct fixture *f = *state;
	char store[96];

	load(f, TWO);
	snprintf(store, sizeof(store), "%s/store", f->dir);
	assert_int_equal(mkdir(store, 0700), 0);
	write_file(f->health_path, "version 1\ndown tryvox 1800000000\n");
	assert_int_equal(login_sends(f, BV_UNAVAILABLE, BV_OK), BV_OK);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_string_equal(f->fake.sent_by[1], "tryvox");
	assert_int_equal(count_logged(f, LOG_ERR, f->health_path, "damaged"),
			 1);
	/* Written whole by the mark. */
	assert_int_equal(health(f).nmarks, 1);
	assert_string_equal(health(f).marks[0].provider, "baxverify");
}

/* A mark from the future (a clock set back) keeps nobody down. */
static void
test_health_future_mark(void **state)
{
	struct fixture *f = *state;
	char store[96];

	load(f, TWO);
	snprintf(store, sizeof(store), "%s/store", f->dir);
	assert_int_equal(mkdir(store, 0700), 0);
	write_file(f->health_path,
		   "version 1\ndown baxverify 1800000100 1800000100\n");
	assert_int_equal(login_sends(f, BV_OK, BV_OK), BV_OK);
	assert_string_equal(f->fake.sent_by[0], "baxverify");
	assert_int_equal(health(f).nmarks, 0);
}

/* What another login does in the middle of this one's send. */
static void
mark_meanwhile(void *arg, const char *provider)
{
	struct fixture *f = arg;
	struct store_health_txn txn;

	if (strcmp(provider, "baxverify") != 0)
		return;
	assert_int_equal(store_health_open(&f->cfg, &f->log, &txn), BV_OK);
	assert_true(store_health_mark(&txn.rec, provider, fake_time));
	assert_int_equal(store_health_commit(&txn), BV_OK);
	store_health_close(&txn);
}

/*
 * Logins that all find the primary dead at once write the news once:
 * one that fails after another marked it finds the mark under the lock
 * and writes nothing.
 */
static void
test_health_written_once(void **state)
{
	struct fixture *f = *state;
	ino_t ino;

	load(f, TWO);
	start(f);
	f->fake.send[0] = BV_UNAVAILABLE;
	f->fake.during_send = mark_meanwhile;
	f->fake.during_arg = f;
	answers(f, 1, "123456");
	assert_int_equal(login(f), BV_OK);
	ino = health_inode(f);
	assert_true(ino != 0);
	assert_int_equal(count_logged(f, LOG_INFO, "marked down: for", NULL),
			 0);
	/* That login wrote nothing after the other's mark. */
	assert_int_equal(health_inode(f), ino);
	assert_int_equal(health(f).nmarks, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_tries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_service_attempts_left, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_resend, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_channel_menu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_channel_menu_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_code, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_when_unavailable,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lockout_at_each_attempt, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_locked_recovery_not_spent,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_failover_on_destination,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejected_everywhere, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_send_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grace_window, setup, teardown),
	    cmocka_unit_test(test_grace_key_escaping),
	    cmocka_unit_test_setup_teardown(test_selection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_skips_dead_primary,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_all_down, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_health_down_one_asked_last,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_resend_keeps_order,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_refusals_mark_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_retry_configured, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_health_damaged, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_health_future_mark, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_health_written_once, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
