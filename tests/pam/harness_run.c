/*
 * harness_run.c - one PAM transaction: through libpamtest, or through
 * libpam with the harness's own conversation (PAM_TTY, PAM_RHOST,
 * answers computed when the prompt comes), in this process or in
 * children started together.
 */

#include "harness.h"
#include "harness_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

/*
 * libpamtest's conversation copies each message into the next buffer of
 * out_info / out_err (no bounds check, no NUL), and reads the next
 * in_echo_off slot for every prompt, even past the terminating NULL.  So
 * the buffers are zeroed, there are plenty of them, and the answer arrays
 * are padded with NULLs far beyond what any case uses.
 */
char *info_buf[MAX_MSGS];
char *err_buf[MAX_MSGS];
static const char *answers[MAX_ANSWERS];
static const char *menu_answers[MAX_ANSWERS];

/* Fresh message buffers: libpamtest copies without a terminating NUL. */
void
begin_transaction(void)
{
	memset(answers, 0, sizeof(answers));
	memset(menu_answers, 0, sizeof(menu_answers));
	for (size_t i = 0; i < MAX_MSGS; i++) {
		memset(info_buf[i], 0, PAM_MAX_MSG_SIZE + 1);
		memset(err_buf[i], 0, PAM_MAX_MSG_SIZE + 1);
	}
}

/* Keep what the user saw and the PAM environment for the teardown's
   hygiene check. */
static void
end_transaction(char **env)
{
	for (size_t i = 0; i < 2 * MAX_MSGS; i++) {
		const char *m =
		    i < MAX_MSGS ? info_buf[i] : err_buf[i - MAX_MSGS];

		if (m[0] != '\0')
			hygiene_keep_shown(m);
	}
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		hygiene_keep_env(env[i]);
}

/* ------------------------------------------------------------------ */
/* The harness's own conversation, for runs that need more than         */
/* libpamtest gives: PAM_TTY and PAM_RHOST, answers computed when the   */
/* prompt comes, a look between authentication and session, runs in     */
/* child processes.  Nothing here uses cmocka: it also runs in children. */

struct own_conv {
	struct pam_run *r;
	int n_off; /* code prompts so far */
	int n_on;  /* menu prompts so far */
	int n_info;
	int n_err;
	char *given[MAX_ANSWERS]; /* copies of the answers handed out */
	int n_given;
	char *shown; /* every message, one per line */
	size_t shown_len;
};

static size_t
list_len(const char *const *list)
{
	size_t n = 0;

	while (list != NULL && list[n] != NULL)
		n++;
	return n;
}

static void
shown_add(struct own_conv *c, const char *m)
{
	size_t n = strlen(m);
	char *ns = realloc(c->shown, c->shown_len + n + 2);

	if (ns == NULL)
		return;
	c->shown = ns;
	memcpy(c->shown + c->shown_len, m, n);
	c->shown_len += n;
	c->shown[c->shown_len++] = '\n';
	c->shown[c->shown_len] = '\0';
}

/* Copy a message into the next zeroed buffer, as libpamtest does. */
static void
keep_message(char **bufs, int *n, const char *m)
{
	if (*n < MAX_MSGS)
		snprintf(bufs[(*n)++], PAM_MAX_MSG_SIZE + 1, "%s", m);
}

static const char *
next_answer(struct own_conv *c, int style)
{
	const struct pam_run *r = c->r;
	const char *a = NULL;
	int n;

	if (style == PAM_PROMPT_ECHO_OFF) {
		n = c->n_off++;
		if (r->answer != NULL)
			a = r->answer(n, r->arg);
		else if ((size_t)n < list_len(r->codes))
			a = r->codes[n];
	} else {
		n = c->n_on++;
		if ((size_t)n < list_len(r->menu))
			a = r->menu[n];
	}
	if (a != NULL && c->n_given < MAX_ANSWERS)
		c->given[c->n_given++] = strdup(a);
	return a;
}

static int
own_conv_fn(int num_msg, const struct pam_message **msg,
	    struct pam_response **resp, void *appdata)
{
	struct own_conv *c = appdata;
	struct pam_response *out;

	if (num_msg <= 0)
		return PAM_CONV_ERR;
	out = calloc((size_t)num_msg, sizeof(*out));
	if (out == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		int style = msg[i]->msg_style;
		const char *a;

		switch (style) {
		case PAM_PROMPT_ECHO_ON:
			/* As with libpamtest: no menu answers, no menu. */
			if (c->r->menu == NULL) {
				for (int j = 0; j < i; j++)
					free(out[j].resp);
				free(out);
				return PAM_CONV_ERR;
			}
			/* fall through */
		case PAM_PROMPT_ECHO_OFF:
			c->r->prompts++;
			a = next_answer(c, style);
			out[i].resp = a != NULL ? strdup(a) : NULL;
			break;
		case PAM_ERROR_MSG:
			keep_message(err_buf, &c->n_err, msg[i]->msg);
			shown_add(c, msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			keep_message(info_buf, &c->n_info, msg[i]->msg);
			shown_add(c, msg[i]->msg);
			break;
		default:
			break;
		}
	}
	*resp = out;
	return PAM_SUCCESS;
}

static bool in_child; /* after_auth (cmocka) is not for children */

/*
 * How children start together.  pam_wrapper sets itself up again in a
 * forked child, at its first pam_start: it picks a free /tmp/pam.X and
 * copies the service files there, which children doing it at the same
 * instant race on (seen: "Failed to create pam_wrapper config dir",
 * "Failed to parse pid").  So each child's pam_start runs under a lock;
 * then it says it is ready and waits for the common start.
 */
struct start_gate {
	int go;	   /* read end: EOF is the start */
	int ready; /* write end: one byte once pam_start is done */
};

static void
start_locked(bool lock)
{
	char path[8192];
	static int fd = -1;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/.pam_start.lock", testdir);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return;
	fl.l_type = lock ? F_WRLCK : F_UNLCK;
	while (fcntl(fd, F_SETLKW, &fl) != 0 && errno == EINTR)
		;
}

/* One transaction through libpam with the harness's conversation. */
static void
run_direct(struct pam_run *r, struct own_conv *c, const struct start_gate *gate)
{
	struct pam_conv conv = {own_conv_fn, c};
	pam_handle_t *ph = NULL;
	int rc;
	char b = 'r';

	c->r = r;
	r->prompts = 0;
	r->session_rc = -1;
	r->env = NULL;
	r->shown = NULL;
	if (gate != NULL)
		start_locked(true);
	rc = pam_start(r->service, r->user, &conv, &ph);
	if (gate != NULL) {
		start_locked(false);
		if (write(gate->ready, &b, 1) != 1)
			rc = PAM_SYSTEM_ERR;
		while (read(gate->go, &b, 1) > 0)
			;
	}
	if (rc != PAM_SUCCESS) {
		r->auth_rc = rc;
		return;
	}
	if (r->tty != NULL)
		rc = pam_set_item(ph, PAM_TTY, r->tty);
	if (rc == PAM_SUCCESS && r->rhost != NULL)
		rc = pam_set_item(ph, PAM_RHOST, r->rhost);
	r->auth_rc = rc == PAM_SUCCESS ? pam_authenticate(ph, 0) : rc;
	r->env = pam_getenvlist(ph);
	if (r->after_auth != NULL && !in_child)
		r->after_auth(r);
	if (r->session && r->auth_rc == PAM_SUCCESS) {
		r->session_rc =
		    r->session_user == NULL
			? PAM_SUCCESS
			: pam_set_item(ph, PAM_USER, r->session_user);
		if (r->session_rc == PAM_SUCCESS)
			r->session_rc = pam_open_session(ph, 0);
		pamtest_free_env(r->env);
		r->env = pam_getenvlist(ph);
	}
	(void)pam_end(ph, r->session_rc >= 0 ? r->session_rc : r->auth_rc);
	if (r->auth_rc == IGNORE_MARKER)
		r->auth_rc = PAM_IGNORE;
	if (r->session_rc == IGNORE_MARKER)
		r->session_rc = PAM_IGNORE;
}

static bool
wants_own_conv(const struct pam_run *r)
{
	return r->tty != NULL || r->rhost != NULL || r->answer != NULL ||
	       r->after_auth != NULL || r->session_user != NULL;
}

/* Back in the test: the answers become secrets, the rest is kept for
   the hygiene check. */
static void
finish_own(struct pam_run *r, struct own_conv *c)
{
	for (int i = 0; i < c->n_given; i++) {
		if (c->given[i] != NULL && strlen(c->given[i]) >= 6)
			add_secret(c->given[i]);
		free(c->given[i]);
	}
	r->shown = c->shown != NULL ? c->shown : strdup("");
	assert_non_null(r->shown);
	end_transaction(r->env);
}

static bool
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w <= 0)
			return false;
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

static bool
put_entry(int fd, char kind, const char *text)
{
	return write_all(fd, &kind, 1) && write_all(fd, text, strlen(text) + 1);
}

/*
 * The child's own pam_wrapper directory (see struct start_gate): removed
 * before _exit, which skips pam_wrapper's destructor; never the parent's.
 */
static void
drop_pwrap_dir(const char *parent_dir)
{
	const char *dir = getenv("PAM_WRAPPER_RUNTIME_DIR");
	char path[8192];
	const char *sub[] = {"lib", ""};

	if (dir == NULL || strncmp(dir, "/tmp/pam.", 9) != 0 ||
	    (parent_dir != NULL && strcmp(dir, parent_dir) == 0))
		return;
	for (size_t i = 0; i < NELEM(sub); i++) {
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		d = opendir(path);
		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char file[8192 + 512];

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
			(void)unlink(file);
		}
		closedir(d);
		(void)rmdir(path);
	}
}

/*
 * In the child: start with the others, run, send back the results as
 * "auth session prompts\0" then one entry per item, a kind letter and
 * a NUL-terminated text: I info, E error, V environment, A answer given,
 * S everything shown.  Never returns.
 */
static void
child_main(struct pam_run *r, const struct start_gate *gate, int out,
	   const char *parent_pwrap_dir)
{
	struct own_conv c = {0};
	char head[64];
	bool ok;

	in_child = true;
	/* A crash here must end this child, not resume cmocka in it. */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	alarm(60); /* a hung module must not hang make check */
	begin_transaction();
	run_direct(r, &c, gate);
	snprintf(head, sizeof(head), "%d %d %d", r->auth_rc, r->session_rc,
		 r->prompts);
	ok = write_all(out, head, strlen(head) + 1);
	for (size_t i = 0; ok && i < MAX_MSGS; i++) {
		if (info_buf[i][0] != '\0')
			ok = put_entry(out, 'I', info_buf[i]);
	}
	for (size_t i = 0; ok && i < MAX_MSGS; i++) {
		if (err_buf[i][0] != '\0')
			ok = put_entry(out, 'E', err_buf[i]);
	}
	for (size_t i = 0; ok && r->env != NULL && r->env[i] != NULL; i++)
		ok = put_entry(out, 'V', r->env[i]);
	for (int i = 0; ok && i < c.n_given; i++) {
		if (c.given[i] != NULL)
			ok = put_entry(out, 'A', c.given[i]);
	}
	if (ok)
		ok = put_entry(out, 'S', c.shown != NULL ? c.shown : "");
	drop_pwrap_dir(parent_pwrap_dir);
	_exit(ok ? 0 : 3);
}

/* "auth session prompts" */
static void
parse_head(const char *p, struct pam_run *r)
{
	char *end;

	r->auth_rc = (int)strtol(p, &end, 10);
	assert_true(end != p && *end == ' ');
	p = end + 1;
	r->session_rc = (int)strtol(p, &end, 10);
	assert_true(end != p && *end == ' ');
	p = end + 1;
	r->prompts = (int)strtol(p, &end, 10);
	assert_true(end != p && *end == '\0');
}

/* Read the child's report into r (and the message buffers). */
static void
parse_child(struct pam_run *r, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	size_t nenv = 0, cap = 8;
	int n_info = 0, n_err = 0;

	assert_non_null(memchr(data, '\0', len));
	parse_head(p, r);
	p += strlen(p) + 1;
	r->env = calloc(cap, sizeof(*r->env));
	assert_non_null(r->env);
	r->shown = NULL;
	while (p < end) {
		char kind = *p++;
		size_t n = strnlen(p, (size_t)(end - p));

		assert_true(p + n < end);
		switch (kind) {
		case 'I':
			keep_message(info_buf, &n_info, p);
			break;
		case 'E':
			keep_message(err_buf, &n_err, p);
			break;
		case 'V':
			if (nenv + 1 >= cap) {
				char **ne =
				    realloc(r->env, 2 * cap * sizeof(*ne));

				assert_non_null(ne);
				r->env = ne;
				cap *= 2;
			}
			r->env[nenv] = strdup(p);
			assert_non_null(r->env[nenv]);
			r->env[++nenv] = NULL;
			break;
		case 'A':
			if (n >= 6)
				add_secret(p);
			break;
		case 'S':
			free(r->shown);
			r->shown = strdup(p);
			assert_non_null(r->shown);
			break;
		default:
			fail_msg("bad report from a child: kind %d", kind);
		}
		p += n + 1;
	}
	if (r->shown == NULL)
		r->shown = strdup("");
}

/* All a child reported, until it closed its end; free it. */
static char *
read_report(int fd, size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap);
	ssize_t got;

	assert_non_null(buf);
	*len = 0;
	for (;;) {
		if (cap - *len < 1024) {
			char *nb = realloc(buf, cap * 2);

			assert_non_null(nb);
			buf = nb;
			cap *= 2;
		}
		got = read(fd, buf + *len, cap - *len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		*len += (size_t)got;
	}
	buf[*len] = '\0';
	return buf;
}

/* A pipe whose ends no program the module runs inherits. */
static void
cloexec_pipe(int p[2])
{
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[0], F_SETFD, FD_CLOEXEC), 0);
	assert_int_equal(fcntl(p[1], F_SETFD, FD_CLOEXEC), 0);
}

void
run_pam_parallel(struct pam_run *runs, size_t n)
{
	pid_t *pids = calloc(n, sizeof(*pids));
	int *fds = calloc(n, sizeof(*fds));
	const char *pw = getenv("PAM_WRAPPER_RUNTIME_DIR");
	char *parent_pwrap_dir = pw != NULL ? strdup(pw) : NULL;
	int go[2], ready[2];
	size_t nready = 0;
	char b;

	assert_non_null(pids);
	assert_non_null(fds);
	cloexec_pipe(go);
	cloexec_pipe(ready);
	fflush(NULL); /* no stdio buffer written twice */
	for (size_t i = 0; i < n; i++) {
		int p[2];

		cloexec_pipe(p);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct start_gate gate = {go[0], ready[1]};

			close(go[1]);
			close(ready[0]);
			close(p[0]);
			child_main(&runs[i], &gate, p[1], parent_pwrap_dir);
		}
		close(p[1]);
		fds[i] = p[0];
	}
	/*
	 * All past pam_start (or 10 s gone: a child that died before saying
	 * so must not keep the others waiting), closing the write end starts
	 * them at once.
	 */
	close(ready[1]);
	while (nready < n) {
		struct pollfd pfd = {.fd = ready[0], .events = POLLIN};

		if (poll(&pfd, 1, 10 * 1000) <= 0 || read(ready[0], &b, 1) != 1)
			break;
		nready++;
	}
	close(ready[0]);
	close(go[0]);
	close(go[1]);
	free(parent_pwrap_dir);
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		char *data = read_report(fds[i], &len);
		int status = 0;

		close(fds[i]);
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			print_error("child %zu (pid %d) ended with status "
				    "0x%x\n",
				    i, (int)pids[i], status);
			fail();
		}
		begin_transaction();
		parse_child(&runs[i], data, len);
		end_transaction(runs[i].env);
		free(data);
	}
	free(pids);
	free(fds);
}

int
run_pam_child(struct pam_run *r)
{
	run_pam_parallel(r, 1);
	return r->auth_rc;
}

int
run_pam(struct pam_run *r)
{
	struct pamtest_conv_data conv = {
	    .in_echo_off = answers,
	    .in_echo_on = menu_answers,
	    .out_err = err_buf,
	    .out_info = info_buf,
	};
	/*
	 * KEEPHANDLE first: libpamtest stops at the first operation whose
	 * result differs from the expected one, but hands back the handle
	 * either way, so the environment can be read whatever the outcome.
	 */
	struct pam_testcase tests[] = {
	    pam_test(PAMTEST_KEEPHANDLE, 0),
	    pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
	    pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
	};
	pam_handle_t *ph;
	size_t n = 0;

	if (wants_own_conv(r)) {
		struct own_conv c = {0};

		begin_transaction();
		run_direct(r, &c, NULL);
		finish_own(r, &c);
		return r->auth_rc;
	}
	begin_transaction();
	for (; r->codes != NULL && r->codes[n] != NULL && n < MAX_ANSWERS / 2;
	     n++) {
		answers[n] = r->codes[n];
		/* Short answers ("12") would match innocent log text. */
		if (strlen(r->codes[n]) >= 6)
			add_secret(r->codes[n]);
	}
	for (n = 0;
	     r->menu != NULL && r->menu[n] != NULL && n < MAX_ANSWERS / 2; n++)
		menu_answers[n] = r->menu[n];

	tests[2].op_rv = -1;
	(void)_pamtest(r->service, r->user, &conv, tests, r->session ? 3 : 2,
		       NULL);
	ph = tests[0].case_out.ph;
	assert_non_null(ph);
	r->env = pam_getenvlist(ph);
	r->auth_rc = tests[1].op_rv;
	r->session_rc =
	    r->session && r->auth_rc == PAM_SUCCESS ? tests[2].op_rv : -1;
	(void)pam_end(ph, r->session_rc >= 0 ? r->session_rc : r->auth_rc);
	end_transaction(r->env);
	if (r->auth_rc == IGNORE_MARKER)
		r->auth_rc = PAM_IGNORE;
	if (r->session_rc == IGNORE_MARKER)
		r->session_rc = PAM_IGNORE;
	return r->auth_rc;
}

int
run_auth_menu(const char *service, const char *user, const char *const *codes,
	      const char *const *menu, char ***envp)
{
	struct pam_run r = {
	    .service = service,
	    .user = user,
	    .codes = codes,
	    .menu = menu,
	};

	run_pam(&r);
	if (envp != NULL)
		*envp = r.env;
	else
		pamtest_free_env(r.env);
	return r.auth_rc;
}

int
run_auth(const char *service, const char *user, const char *const *ans,
	 char ***envp)
{
	return run_auth_menu(service, user, ans, NULL, envp);
}

const char *
env_get(char **env, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], name, nlen) == 0 && env[i][nlen] == '=')
			return env[i] + nlen + 1;
	}
	return NULL;
}
