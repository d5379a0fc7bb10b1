/*
 * harness.h - what the pam_wrapper + libpamtest programs share.
 *
 * Used by every program of tests/pam/: test_pam.c (the BaxVerify suite),
 * test_providers.c (Tryvox, Mudbase, failover, the channel menu),
 * test_local.c (the local provider and store), test_helper.c (the helper
 * as the local caller would attack it), test_faults.c (the fault matrix
 * and environment hygiene) and test_loop.c (the valgrind loop and
 * allocation failures).  `make check` starts each through
 * tests/run-test.sh and its runner (run-pam-tests.sh, run-faults.sh,
 * run-hardening.sh), which starts the loopback mock
 * (tests/mock/mock_baxverify.py) with tests/mock/lib.sh, writes the PAM
 * service files and exports:
 *
 *   BV_TESTDIR      scratch dir holding baxverify.conf and the phones file
 *   BV_MOCK_URL     https://127.0.0.1:PORT (all three APIs and /_mock)
 *   BV_CA_FILE      the test CA
 *   BV_SYSLOG_FILE  where syslog_capture.so appends syslog lines
 *
 * The harness is one file per concern, all declared here:
 * harness_mock.c (the mock's control API, request counting),
 * harness_conf.c (baxverify.conf and the key file), harness_run.c (one
 * PAM transaction), harness_assert.c (assertions), harness_leaks.c (the
 * secret-hygiene check), harness_util.c (helpers) and harness.c (fixtures
 * and the table-driven main).
 *
 * The harness offers: the mock's control API over HTTPS; writing
 * baxverify.conf (with a provider list and the tryvox/mudbase groups) and
 * the phones file; one PAM transaction through libpamtest with zeroed
 * conversation buffers, separate answers for the code prompt (echo off)
 * and the channel menu (echo on); assertions on what the user saw and on
 * syslog; and the per-case setup/teardown whose teardown is the
 * secret-hygiene check.
 *
 * The hygiene check fails a case when any API key (BaxVerify, Tryvox), any
 * typed code, any code the mock delivered, any token or Tryvox
 * verification_id the module handled, or any JWT at all (the Mudbase
 * token and refreshToken included) appears in syslog or in a message to
 * the user; when a full phone number or email address reaches the user;
 * when a key or a Mudbase refreshToken appears in the PAM environment;
 * and when a request carried a key to the wrong API (Mudbase must never
 * see an Authorization header).
 *
 * For the local store (test_local.c) it also takes as secrets every code
 * the local provider delivered (read back from outbox_path, where both
 * delivery = "file" and the test delivery scripts write) and whatever a
 * case registers (recovery codes), and fails a case when a store file
 * holds any secret in clear: the store keeps hashes only.
 */
#ifndef BV_TEST_HARNESS_H
#define BV_TEST_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include <cJSON.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

/* Must match what tests/mock/lib.sh gives the mock (bv_api_key...). */
#define API_KEY "sk_test_SECRET_9f8e7d"
#define PROJECT_ID "proj_test"
#define TRYVOX_KEY "tvx_sk_test_K3y9Qz7Wm4"
#define TENANT_ID "acc_test"
#define MUDBASE_PROJECT "proj_mud"

/* Distinctive values, so a leak is unmistakable in a log. */
#define CODE "918273"
#define WRONG "550011"

/* The phones file (see harness_group_setup): alice, carol (invalid, line
   4), root, dave (phone and email), erin (email only). */
#define ALICE_PHONE "+14155552671"
#define ROOT_PHONE "+447700900123"
#define DAVE_PHONE "+14155550123"
#define DAVE_EMAIL "dave@example.org"
#define ERIN_EMAIL "erin@example.com"
/* As the spec shows it: a fixed run of seven bullets (U+2022). */
#define BULLETS7 "\u2022\u2022\u2022\u2022\u2022\u2022\u2022"
#define ALICE_MASKED "+1" BULLETS7 "2671"
#define DAVE_MASKED "+1" BULLETS7 "0123"
#define DAVE_EMAIL_MASKED "d\u2022\u2022\u2022@example.org"
#define ERIN_EMAIL_MASKED "e\u2022\u2022\u2022@example.com"

/* User-visible lines, from the design (spec section "The flow"). */
#define MSG_NO_PHONE                                                           \
	"No phone number is registered for your account. "                     \
	"Contact your administrator."
#define MSG_DIGITS "Enter only the digits of the code."
#define MSG_NO_CODE "No code entered."
#define MSG_TOO_MANY "Too many wrong codes."
#define MSG_EXPIRED_AGAIN "The code has expired. Press Enter for a new code."
#define MSG_EXPIRED "The code has expired."
#define MSG_RATE "Too many codes requested. Wait a few minutes and try again."
#define MSG_BAD_PHONE                                                          \
	"Your registered phone number is not valid. Contact your "             \
	"administrator."
#define MSG_ADMIN                                                              \
	"Verification is not possible right now: the SMS service needs "       \
	"attention from your administrator."
#define MSG_UNREACH "The verification service is unreachable. Try again later."
#define MSG_SAFE                                                               \
	"The verification service is unreachable; signing in without a code."
#define MSG_MISCONF                                                            \
	"Two-factor verification is misconfigured. Contact your "              \
	"administrator."

/* syslog priorities as the shim records them: LOG_AUTHPRIV | level. */
#define PRIO(level) (LOG_AUTHPRIV | (level))
#define ANY_PRIO (-1)

/*
 * The runner's stacks let a PAM_IGNORE from the module fall through to
 * "pam_debug.so auth=module_unknown" (libpam itself never lets a stack
 * answer PAM_IGNORE); run_auth() turns that marker back into PAM_IGNORE.
 * The same holds for the session of the bv_session_ignore service.
 */
#define IGNORE_MARKER PAM_MODULE_UNKNOWN

/*
 * http.timeout and http.connect_timeout of a case whose fault must make
 * them run out (a hang, a trickle, a stopped helper).  The requests
 * before the fault share them and must not run out: 5 s is far beyond
 * what a loopback request takes on a loaded machine.  A case with a
 * timeout of t seconds that must end by that timeout (not by a retry,
 * not by the module's own deadline of t + 10 s) must end within
 * ONE_TIMEOUT_S(t): one timeout and 5 s of what a loaded machine adds,
 * where a retry of FAULT_TIMEOUT would already take 10 s.
 */
#define FAULT_TIMEOUT 5
#define ONE_TIMEOUT_S(t) ((double)(t) + 5.0)

#define MAX_MSGS 32    /* messages captured per transaction */
#define MAX_ANSWERS 64 /* answer slots; the unused ones stay NULL */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* The environment and the current transaction.                        */

extern const char *testdir;
extern const char *mock_url;
extern const char *ca_file;
extern const char *syslog_file;
extern char conf_path[4096];
extern char phones_path[4096];
extern char key_path[4096];
extern char store_path[4096]; /* store.dir: emptied before every case */
/* local.file of the local provider, one "PHONE: MESSAGE" line per code;
   removed before and after every case. */
extern char outbox_path[4096];

/* What the user was shown in the last transaction (zeroed buffers). */
extern char *info_buf[MAX_MSGS];
extern char *err_buf[MAX_MSGS];

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

const char *pam_rc_name(int rc);

#define assert_rc(got, want) assert_rc_at((got), (want), __FILE__, __LINE__)
void assert_rc_at(int got, int want, const char *file, int line);

/* s must never reach syslog, the user or the PAM environment. */
void add_secret(const char *s);
/* s (a token the module exports) must never reach syslog or the user;
   the PAM environment may carry it. */
void add_token_secret(const char *s);

char *read_whole_file(const char *path);
void write_file(const char *path, const char *text, mode_t mode);

/* A growing string. */
struct sbuf {
	char *s;
	size_t len;
	size_t cap;
};

void sb_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
unsigned count_lines(const char *s);

/* A TCP port on 127.0.0.1 that is bound but not listening: refused.
   Returns the socket; close it when done. */
int closed_port(int *port);
double now_s(void);

/* ------------------------------------------------------------------ */
/* The mock's control API, over HTTPS with the test CA.                */

struct http_reply {
	long status;
	char *body;
	size_t len;
};

/*
 * One request to the mock.  body NULL means GET.  With bearer, the
 * request carries the BaxVerify API headers the way the module sends
 * them.  Returns the reply (status 0 on a transport failure); free body.
 */
struct http_reply mock_http(const char *path, const char *body, bool bearer);
/* POST a control request and insist on a 2xx answer. */
void mock_post(const char *path, const char *json);
/* /_mock/config with one JSON object of settings. */
void mock_config(const char *json);
void mock_fault(const char *json);
cJSON *mock_get_json(const char *path);
/* The recorded API requests (array of {method,path,headers,body}). */
cJSON *mock_requests(void);
/* How many recorded API requests went to path (NULL: any path). */
int mock_count(const char *path);
/* How many recorded API requests have a path starting with prefix. */
int mock_count_prefix(const char *prefix);
long mock_stat(const char *name);
/* Request body of the n-th (0-based) recorded request to path, parsed. */
cJSON *mock_request_body(const char *path, int nth);
/* The outbox ({"messages": [...]}'s array), oldest first. */
cJSON *mock_outbox(void);
const char *json_str(const cJSON *obj, const char *name);

/* ------------------------------------------------------------------ */
/* Configuration files.                                                */

enum key_place { KEY_INLINE = 0, KEY_IN_FILE, KEY_NONE };

/* What a case wants in baxverify.conf; zero means "the default". */
struct conf {
	const char *api_url;  /* NULL: $BV_MOCK_URL/v1 */
	enum key_place key;   /* where the BaxVerify API key goes */
	mode_t mode;	      /* of the conf file; 0: 0600 */
	mode_t key_mode;      /* of the key file; 0: 0600 */
	bool system_ca;	      /* no ca_file: trust only the system CAs */
	int connect_timeout;  /* 0: 5 */
	int timeout;	      /* 0: 5 */
	const char *failmode; /* NULL: not written */
	int max_tries;	      /* 0: not written */
	int max_sends;	      /* 0: not written */
	const char *validate; /* "true"/"false", NULL: not written */
	const char *phones;   /* phones.file, NULL: the test's file */
	const char *groups;   /* libconfig list text, NULL: not written */
	const char *extra;    /* top-level text appended verbatim */
	/* Providers. */
	const char *provider;	 /* value of "provider" as libconfig text,
				    e.g. "\"tryvox\"" or "[\"baxverify\",
				    \"tryvox\"]"; NULL: "\"baxverify\"" */
	const char *tryvox;	 /* non-NULL: write a tryvox group (api_url,
				    api_key, tenant_id) plus these lines */
	const char *tryvox_url;	 /* tryvox.api_url; NULL: the mock */
	const char *tryvox_key;	 /* tryvox.api_key; NULL: TRYVOX_KEY */
	const char *tenant_id;	 /* tryvox.tenant_id; NULL: TENANT_ID */
	const char *mudbase;	 /* non-NULL: write a mudbase group (api_url,
				    project_id) plus these lines */
	const char *mudbase_url; /* mudbase.api_url; NULL: the mock */
	const char *mudbase_project; /* NULL: MUDBASE_PROJECT */
	const char *channels;	     /* "channels" as libconfig text, or NULL */
	const char *sections;	     /* further top-level groups, verbatim */
	/* The local store is always the scratch store_path. */
	const char *limits; /* body of a "limits" group, or NULL: the
			       module's defaults */
	const char *helper; /* helper path; NULL: $BV_HELPER */
};

/*
 * Write baxverify.conf (and the key file when asked).  Returns the line
 * number at which conf->extra starts, for cases that check the error line.
 */
unsigned write_conf(const struct conf *c);
void write_default_conf(void);

/* ------------------------------------------------------------------ */
/* One PAM transaction.                                                */

#define ANSWERS(...) ((const char *const[]){__VA_ARGS__, NULL})
/* An empty (NULL-terminated) list: no echo-on prompt may come. */
#define NO_ANSWERS ((const char *const[]){NULL})

struct pam_run {
	const char *service;
	const char *user;
	const char *const *codes; /* echo-off answers (the code prompt);
				     once used up, each prompt gets NULL,
				     which the module reads as Enter */
	const char *const *menu;  /* echo-on answers (the channel menu);
				     NULL: none (a menu then fails with
				     PAM_CONV_ERR) */
	bool session;		  /* pam_open_session after a success */
	/* Out. */
	int auth_rc;	/* IGNORE_MARKER already mapped */
	int session_rc; /* -1 when the session was not opened */
	char **env;	/* the PAM environment at the end (free
			   with pamtest_free_env); always set */

	/*
	 * Optional.  Any of these makes run_pam drive libpam itself, with a
	 * conversation of the harness that behaves like libpamtest's (same
	 * buffers, same answers) and also counts the prompts.
	 */
	const char *tty;   /* PAM_TTY before pam_authenticate */
	const char *rhost; /* PAM_RHOST before pam_authenticate */
	/* The answer to the n-th (0-based) code prompt, asked when the
	   prompt comes (a case may read the code just delivered, or change
	   the store first); NULL is Enter.  Replaces codes. */
	const char *(*answer)(int n, void *arg);
	void *arg; /* for answer and after_auth */
	/* PAM_USER for pam_open_session, as sudo sets the target user
	   between the phases; NULL: unchanged. */
	const char *session_user;
	/* Between pam_authenticate and pam_open_session (in-process runs
	   only). */
	void (*after_auth)(struct pam_run *r);
	/* Out, from the harness's conversation (0 and NULL otherwise). */
	int prompts; /* code and menu prompts answered */
	char *shown; /* what the user saw, one message per
			line (free it) */
};

/*
 * Run one transaction as r says.  Every code answer of 6+ characters
 * becomes a secret; what the user saw and the PAM environment are kept
 * for the hygiene check.  Returns r->auth_rc.
 */
int run_pam(struct pam_run *r);

/*
 * Authenticate user on service, answering the code prompts with the
 * NULL-terminated list of answers.  When envp is not NULL, *envp receives
 * the PAM environment (free with pamtest_free_env).  Returns the PAM code.
 */
int run_auth(const char *service, const char *user, const char *const *ans,
	     char ***envp);
/* As run_auth, with answers for the channel menu too. */
int run_auth_menu(const char *service, const char *user,
		  const char *const *codes, const char *const *menu,
		  char ***envp);

/*
 * Run each transaction in a process of its own (fork; the children start
 * together), as separate logins of separate programs would: nothing of
 * one reaches another but through the store.  The answer hooks run in
 * the children and must not use cmocka's assertions; after_auth is not
 * called.  Every result, what the user saw (info_buf and err_buf hold
 * the last run's) and the answers given are brought back for the
 * assertions and the hygiene check.
 */
void run_pam_parallel(struct pam_run *runs, size_t n);
/* One transaction in a child process; returns r->auth_rc. */
int run_pam_child(struct pam_run *r);

const char *env_get(char **env, const char *name);

/* The decoded payload (claims) of a JWT "x.y.z", or NULL; free it. */
char *jwt_payload(const char *jwt);

/* ------------------------------------------------------------------ */
/* What the user saw and what syslog got.                              */

bool in_bufs(char **bufs, const char *needle);
int count_in_bufs(char **bufs, const char *needle);
void dump_user_messages(void);
void dump_syslog(void);

#define assert_info(needle) assert_said(info_buf, "info", (needle), __LINE__)
#define assert_err(needle) assert_said(err_buf, "error", (needle), __LINE__)
void assert_said(char **bufs, const char *kind, const char *needle, int line);

#define assert_not_said(needle) assert_not_said_at((needle), __LINE__)
void assert_not_said_at(const char *needle, int line);

/*
 * True when one syslog line has priority prio (ANY_PRIO: any) and
 * contains every string of the NULL-terminated list needles.
 */
bool log_has(int prio, const char *const *needles);

#define LOGGED(...) ((const char *const[]){__VA_ARGS__, NULL})
#define assert_logged(prio, ...)                                               \
	assert_logged_at((prio), LOGGED(__VA_ARGS__), __LINE__)
#define assert_not_logged(...)                                                 \
	assert_not_logged_at(LOGGED(__VA_ARGS__), __LINE__)
void assert_logged_at(int prio, const char *const *needles, int line);
void assert_not_logged_at(const char *const *needles, int line);
/* How many syslog lines contain needle. */
int count_logged(const char *needle);

#define assert_requests(path, n) assert_requests_at((path), (n), __LINE__)
void assert_requests_at(const char *path, int want, int line);
#define assert_requests_prefix(prefix, n)                                      \
	assert_requests_prefix_at((prefix), (n), __LINE__)
void assert_requests_prefix_at(const char *prefix, int want, int line);

/* ------------------------------------------------------------------ */
/* Fixtures and the table-driven main.                                 */

int harness_group_setup(void **state);
int harness_group_teardown(void **state);
/* Per case: fresh syslog, empty local store, mock reset with force_code
   CODE, default conf. */
int harness_setup(void **state);
/* Per case: the secret-hygiene check; a leak fails the case. */
int harness_teardown(void **state);

#define T(f)                                                                   \
	{                                                                      \
#f, f, harness_setup, harness_teardown, NULL                   \
	}

/* Append one table row as a cmocka case named name, state row. */
void add_case(struct CMUnitTest *all, size_t *n, char *name,
	      CMUnitTestFunction fn, const void *row);
/* "fn(a, b)", allocated. */
char *case_name(const char *fn, const char *a, const char *b);
/* Keep only the cases whose name contains only (NULL: all); run them. */
int harness_run(const char *group, struct CMUnitTest *all, size_t n,
		const char *only);

#endif /* BV_TEST_HARNESS_H */
