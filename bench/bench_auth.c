/*
 * bench_auth.c - the performance benchmark of pam_baxverify.
 *
 * A program that prints figures, not a test: bench/run-bench.sh builds it,
 * sets up the mock BaxVerify, the configuration and the PAM service files,
 * and runs it under pam_wrapper.  In one run, each operation is timed N
 * times (default 200) after a warm-up, all of them interleaved (one round
 * runs every operation once), and each module figure is printed beside its
 * floor as a ratio, with the issue's goal for it:
 *
 *   A   pam_start/pam_authenticate/pam_end on "auth required pam_permit.so"
 *   S0  a do-nothing module that links libconfig (bench/null_module.c),
 *       then the same pam_permit line: what any such module costs   vs A
 *   S   the module on a user outside "groups" (PAM_IGNORE, then the same
 *       pam_permit line), reading the shipped, fully commented
 *       configuration: loading the module, the parse, the group check vs A
 *   S"  the same with libcurl loaded in the process first (as in a host
 *       that links it): the module maps none of it, so it should not
 *       matter                                                         vs A
 *   B   a bare libcurl client making the same three HTTPS requests (same
 *       headers, bodies and CA file, one easy handle for the three): the
 *       requests alone, timed inside bench/bare_client
 *   B0  the same bare client as a program: fork, exec, loading libcurl,
 *       its requests, exit -- what any fresh libcurl client costs
 *   H0  that program started with nothing to do: loading and exit
 *   H   the helper started as the module starts it, with nothing to do:
 *       fork, exec, dynamic loading, exit                             vs H0
 *   F   a whole BaxVerify login: the helper's start, send, verify,
 *       validate-token, the code answered by the conversation        vs B0
 *   L   a local-provider login (file delivery, store in a scratch dir),
 *       goal 15 ms                                                     vs A
 *
 * and the TCP connections and API requests each operation made, read from
 * the mock's GET /_mock/stats around every single operation.
 *
 * Every login runs in a fresh process: this program executed again (not
 * a fork of it, whose pages a login would copy as it wrote them); the
 * time is taken inside the child around pam_start ... pam_end.  sudo is
 * a new process per login and sshd re-executes itself per connection, so
 * on a host a login always loads the module and its libraries.  Before its
 * clock starts, each child does what sudo does before PAM: it reads the two
 * users' passwd entries and group lists, which loads the host's NSS
 * modules (sshd reads the user's entry too).  libcurl is not linked into
 * this program, and the parent never loads it nor any other library of
 * the module's but libpam and libcrypt.  pam_wrapper's own per-process
 * set-up (a copy of the service directory) is done in each child before
 * the clock starts too, and removed after.
 *
 * Last, N BaxVerify logins and N skipped users run in this one process
 * (libcurl loaded, as in a long-lived PAM application) and the growth of
 * its resident set is printed.
 *
 *   bench_auth [-n ITERATIONS] [-w WARMUP]
 *
 * Environment (run-bench.sh sets it): BV_BENCH_MOCK_URL (https://host:port
 * of the mock), BV_BENCH_CA (the test CA), BV_BENCH_API_KEY,
 * BV_BENCH_PROJECT_ID, BV_BENCH_PHONE and BV_BENCH_CODE (the mock's
 * force_code), BV_BENCH_USER (has BV_BENCH_PHONE in the phones file),
 * BV_BENCH_SKIP_USER (outside the skip configuration's groups),
 * BV_BENCH_OUTBOX (local.file), BV_BENCH_BARE (bench/bare_client),
 * BV_BENCH_HELPER (the built baxverify-helper) and BV_BENCH_LIBCURL
 * (default libcurl.so.4).  Services: bench_permit, bench_null, bench_skip,
 * bench_bax,
 * bench_local.
 *
 * Exit status: 0 when every login gave the expected answer and every check
 * (connections and requests per operation, identical requests) held; 1
 * when a check failed; 2 for a usage error; 99 when a login or the set-up
 * failed.  A goal missed is printed, not an exit status: timings are
 * figures, not tests.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <security/pam_appl.h>

#include "bench_util.h"

#define SVC_PERMIT "bench_permit"
#define SVC_SKIP "bench_skip"
#define SVC_NULL "bench_null"
#define SVC_BAX "bench_bax"
#define SVC_LOCAL "bench_local"

/* ---------------------------------------------------------------------- */
/* Set-up and small helpers.                                               */

static struct {
	const char *mock_url;
	const char *ca;
	const char *api_key;
	const char *project_id;
	const char *phone;
	const char *code;
	const char *user;
	const char *skip_user;
	const char *outbox;
	const char *libcurl;
	const char *bare;   /* bench/bare_client */
	const char *helper; /* baxverify-helper */
} env;

static int failed_checks;
/*
 * What this process is.  A forked child leaves with _exit, or pam_wrapper's
 * destructor would remove the parent's copy of the service directory; a
 * login child removes its own copy (see fresh()).
 */
static enum { PARENT, AGENT, LOGIN_CHILD } role = PARENT;
/* The parent's pam_wrapper directory (PAM_WRAPPER_RUNTIME_DIR). */
static char parent_pw_dir[1024];

static void child_pam_wrapper_cleanup(void);

static void
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bench_auth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (role == LOGIN_CHILD)
		child_pam_wrapper_cleanup();
	if (role != PARENT) {
		fflush(stderr);
		_exit(99);
	}
	exit(99);
}

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		die("%s is not set (run bench/run-bench.sh)", name);
	return v;
}

/* Resident set size in KiB, from /proc/self/statm. */
static long
rss_kib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---------------------------------------------------------------------- */
/* Statistics.                                                             */

struct series {
	const char *tag, *label;
	double *us;
	int n;
	bool done;
	double mean, median, p90;
};

static void
series_init(struct series *s, const char *tag, const char *label, int n)
{
	s->tag = tag;
	s->label = label;
	s->us = calloc((size_t)n, sizeof(*s->us));
	if (s->us == NULL)
		die("out of memory");
	s->n = 0;
	s->done = false;
}

static void
series_finish(struct series *s)
{
	double sum = 0;
	int i;

	for (i = 0; i < s->n; i++)
		sum += s->us[i];
	qsort(s->us, (size_t)s->n, sizeof(*s->us), cmp_double);
	s->mean = s->n ? sum / s->n : 0;
	s->median = s->n == 0  ? 0
		    : s->n % 2 ? s->us[s->n / 2]
			       : (s->us[s->n / 2 - 1] + s->us[s->n / 2]) / 2;
	/* Nearest rank: the smallest value >= 90% of the samples. */
	s->p90 = s->n ? s->us[(9 * s->n + 9) / 10 - 1] : 0;
	s->done = s->n > 0;
}

/* ---------------------------------------------------------------------- */
/* libcurl, loaded at run time (see the top of the file).                  */

struct curl_api {
	void *lib;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	const char *(*easy_strerror)(CURLcode);
};

static struct curl_api curl;

static bool
sym(void *lib, const char *name, void *fp, size_t fpsize)
{
	void *p = dlsym(lib, name);

	if (p == NULL || fpsize != sizeof(p))
		return false;
	memcpy(fp, &p, sizeof(p));
	return true;
}

#define SYM(field, name) sym(curl.lib, name, &curl.field, sizeof(curl.field))

/* Load and initialise libcurl into the global table, or die. */
static void
curl_load(void)
{
	if (curl.lib != NULL)
		return;
	curl.lib = dlopen(env.libcurl, RTLD_NOW | RTLD_LOCAL);
	if (curl.lib == NULL)
		die("%s", dlerror());
	if (!SYM(global_init, "curl_global_init") ||
	    !SYM(easy_init, "curl_easy_init") ||
	    !SYM(easy_setopt, "curl_easy_setopt") ||
	    !SYM(easy_perform, "curl_easy_perform") ||
	    !SYM(easy_getinfo, "curl_easy_getinfo") ||
	    !SYM(easy_cleanup, "curl_easy_cleanup") ||
	    !SYM(slist_append, "curl_slist_append") ||
	    !SYM(slist_free_all, "curl_slist_free_all") ||
	    !SYM(easy_strerror, "curl_easy_strerror"))
		die("%s lacks a symbol", env.libcurl);
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
}

/* Is (a) libcurl mapped in this process right now? */
static bool
libcurl_resident(void)
{
	void *h = dlopen(env.libcurl, RTLD_LAZY | RTLD_NOLOAD);

	if (h == NULL)
		return false;
	dlclose(h);
	return true;
}

/* ---------------------------------------------------------------------- */
/* The mock's control API, through an agent process.                       */

/*
 * A forked process that has libcurl loaded (so that this one need not)
 * makes the control requests, on one kept-alive connection that carries
 * no API request (the mock does not count it).  Requests are lines
 * "METHOD PATH JSON|-"; answers are "STATUS LENGTH\n" and the body.
 */
static struct {
	pid_t pid;
	FILE *to, *from;
} agent;

static void
agent_serve(FILE *in, FILE *out)
{
	struct body body = {NULL, 0, 0};
	struct curl_slist *json_hdr;
	char *line = NULL, *path, *data, url[1024];
	size_t linecap = 0;
	ssize_t n;
	long status;
	CURL *e;

	curl_load();
	e = curl.easy_init();
	json_hdr = curl.slist_append(NULL, "Content-Type: application/json");
	if (e == NULL || json_hdr == NULL)
		die("agent: out of memory");
	while ((n = getline(&line, &linecap, in)) > 0) {
		line[n - 1] = line[n - 1] == '\n' ? '\0' : line[n - 1];
		path = strchr(line, ' ');
		data = path ? strchr(path + 1, ' ') : NULL;
		if (data == NULL)
			die("agent: bad request line");
		*path++ = '\0';
		*data++ = '\0';
		snprintf(url, sizeof(url), "%s%s", env.mock_url, path);
		body.len = 0;
		curl.easy_setopt(e, CURLOPT_URL, url);
		curl.easy_setopt(e, CURLOPT_CAINFO, env.ca);
		curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl.easy_setopt(e, CURLOPT_TIMEOUT, 20L);
		curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, body_write);
		curl.easy_setopt(e, CURLOPT_WRITEDATA, &body);
		if (strcmp(line, "POST") == 0) {
			curl.easy_setopt(e, CURLOPT_HTTPHEADER, json_hdr);
			curl.easy_setopt(e, CURLOPT_POSTFIELDS, data);
		} else {
			curl.easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
			curl.easy_setopt(e, CURLOPT_HTTPGET, 1L);
		}
		status = 0;
		if (curl.easy_perform(e) == CURLE_OK)
			curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		fprintf(out, "%ld %zu\n", status, body.len);
		if (body.len)
			fwrite(body.buf, 1, body.len, out);
		if (fflush(out) != 0)
			break;
	}
	_exit(0);
}

static void
agent_start(void)
{
	int down[2], up[2];

	fflush(stdout);
	fflush(stderr);
	if (pipe(down) != 0 || pipe(up) != 0)
		die("pipe: %s", strerror(errno));
	agent.pid = fork();
	if (agent.pid < 0)
		die("fork: %s", strerror(errno));
	if (agent.pid == 0) {
		FILE *in, *out;

		role = AGENT;
		close(down[1]);
		close(up[0]);
		in = fdopen(down[0], "r");
		out = fdopen(up[1], "w");
		if (in == NULL || out == NULL)
			die("agent: fdopen failed");
		agent_serve(in, out);
	}
	close(down[0]);
	close(up[1]);
	agent.to = fdopen(down[1], "w");
	agent.from = fdopen(up[0], "r");
	if (agent.to == NULL || agent.from == NULL)
		die("fdopen failed");
}

static void
agent_stop(void)
{
	int status;

	if (agent.to == NULL)
		return;
	fclose(agent.to);
	fclose(agent.from);
	agent.to = agent.from = NULL;
	while (waitpid(agent.pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* METHOD path [json]: the answer's body (malloc'ed); dies unless 200. */
static char *
mock_call(const char *method, const char *path, const char *json)
{
	long status = 0;
	size_t len = 0;
	char *body;

	fprintf(agent.to, "%s %s %s\n", method, path, json ? json : "-");
	if (fflush(agent.to) != 0 ||
	    fscanf(agent.from, "%ld %zu", &status, &len) != 2 ||
	    fgetc(agent.from) != '\n')
		die("the control agent is gone");
	body = malloc(len + 1);
	if (body == NULL || fread(body, 1, len, agent.from) != len)
		die("the control agent is gone");
	body[len] = '\0';
	if (status != 200)
		die("%s %s: HTTP %ld: %s", method, path, status, body);
	return body;
}

struct stats {
	long connections, requests;
};

static struct stats
mock_stats(void)
{
	char *body = mock_call("GET", "/_mock/stats", NULL);
	struct stats st;

	st.connections = json_number(body, "connections");
	st.requests = json_number(body, "requests");
	free(body);
	if (st.connections < 0 || st.requests < 0)
		die("GET /_mock/stats: unexpected answer");
	return st;
}

static void
mock_reset(void)
{
	char json[256];

	free(mock_call("POST", "/_mock/reset", "{}"));
	snprintf(json, sizeof(json), "{\"force_code\":\"%s\"}", env.code);
	free(mock_call("POST", "/_mock/config", json));
}

/* ---------------------------------------------------------------------- */
/* PAM.                                                                    */

struct conv_data {
	const char *code; /* the answer, or NULL: read it from outbox */
	const char *outbox;
	int prompts;
	char last_error[256];
};

/* The code of the newest line of the outbox ("+1...: 123456 is your..."). */
static char *
code_from_outbox(const char *path)
{
	char buf[4096], *line, *p, *end;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	p = strstr(line, ": ");
	if (p == NULL)
		return NULL;
	p += 2;
	for (end = p; *end >= '0' && *end <= '9'; end++)
		;
	if (end == p)
		return NULL;
	return strndup(p, (size_t)(end - p));
}

static int
conversation(int n, const struct pam_message **msg, struct pam_response **resp,
	     void *appdata)
{
	struct conv_data *cd = appdata;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			cd->prompts++;
			r[i].resp = cd->code ? strdup(cd->code)
					     : code_from_outbox(cd->outbox);
			if (r[i].resp == NULL)
				goto fail;
			break;
		case PAM_ERROR_MSG:
			snprintf(cd->last_error, sizeof(cd->last_error), "%s",
				 msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			break;
		default: /* a menu: not expected with one channel */
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

/* One pam_start/pam_authenticate/pam_end, timed; dies unless it succeeds. */
static double
login(const char *service, const char *user, const char *code)
{
	struct conv_data cd = {code, env.outbox, 0, ""};
	struct pam_conv conv = {conversation, &cd};
	pam_handle_t *pamh = NULL;
	double t0, t1;
	int rc;

	t0 = now_us();
	rc = pam_start(service, user, &conv, &pamh);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, 0);
	if (pamh != NULL)
		pam_end(pamh, rc);
	t1 = now_us();
	if (rc != PAM_SUCCESS)
		die("service %s, user %s: %s%s%s", service, user,
		    pam_strerror(NULL, rc), cd.last_error[0] ? ": " : "",
		    cd.last_error);
	return t1 - t0;
}

static double
login_permit(void)
{
	return login(SVC_PERMIT, env.user, NULL);
}

static double
login_skip(void)
{
	return login(SVC_SKIP, env.skip_user, NULL);
}

static double
login_null(void)
{
	return login(SVC_NULL, env.skip_user, NULL);
}

static double
login_bax(void)
{
	return login(SVC_BAX, env.user, env.code);
}

static double
login_local(void)
{
	/* The outbox is emptied between logins, outside the timing. */
	if (truncate(env.outbox, 0) != 0 && errno != ENOENT)
		die("truncate %s: %s", env.outbox, strerror(errno));
	return login(SVC_LOCAL, env.user, NULL);
}

/* ---------------------------------------------------------------------- */
/* Fresh processes.                                                        */

/* Remove a directory of plain files. */
static void
remove_flat_dir(const char *path)
{
	char file[4096];
	struct dirent *de;
	DIR *d = opendir(path);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		unlink(file);
	}
	closedir(d);
	rmdir(path);
}

/*
 * pam_wrapper sets itself up again in a forked child at its first
 * pam_start: a new /tmp/pam.X with a copy of the service directory.  That
 * is no part of a login on a host, so the child does it before the clock
 * starts, with the "other" service (pam_deny), and removes its copy at the
 * end.  The parent's copy is never touched.
 */
static void
child_pam_wrapper_setup(void)
{
	struct conv_data cd = {NULL, env.outbox, 0, ""};
	struct pam_conv conv = {conversation, &cd};
	pam_handle_t *pamh = NULL;

	if (pam_start("other", env.user, &conv, &pamh) != PAM_SUCCESS)
		die("pam_start(other) failed");
	pam_end(pamh, PAM_SUCCESS);
}

/* Remove the child's own copy; never the parent's (nor anything else). */
static void
child_pam_wrapper_cleanup(void)
{
	const char *own = getenv("PAM_WRAPPER_RUNTIME_DIR");

	if (own != NULL && strcmp(own, parent_pw_dir) != 0 &&
	    strncmp(own, "/tmp/pam.", 9) == 0)
		remove_flat_dir(own);
}

/*
 * What sudo has done before pam_start: read the invoking and the target
 * user's passwd entries and group lists (sudoers matching), so the
 * host's NSS modules are loaded when PAM runs; sshd reads the user's
 * entry likewise.  Done in every login child, before its clock starts,
 * for both users of the bench.
 */
static void
host_lookups(void)
{
	const char *users[] = {env.user, env.skip_user};
	gid_t gids[256];
	struct passwd *pw;
	size_t i;
	int n;

	for (i = 0; i < 2; i++) {
		/* The bench's own user need not be an account. */
		pw = getpwnam(users[i]);
		if (pw == NULL)
			continue;
		n = 256;
		(void)getgrouplist(users[i], pw->pw_gid, gids, &n);
	}
}

typedef double (*op_fn)(void);

/* One row of the table. */
struct op {
	struct series s;
	op_fn fn;
	bool fork; /* in a fresh process (else fn forks what it times) */
	bool curl; /* ... with libcurl loaded and initialised first */
	const struct op *floor;
	double goal; /* the most median / floor median may be; 0: none */
	long want_conns, want_reqs; /* per iteration; -1: any */
	long conns, reqs;	    /* counted over the timed iterations */
};

/*
 * Run op number k in a new process: this program executed again with
 * -x k -r FD, so that the login starts in a fresh process image as it
 * does in sudo (a new program) and sshd (which executes itself again per
 * connection), not in a fork of this one, whose pages the login would
 * copy as it writes them.  The time the child measured.
 */
static double
fresh(int k)
{
	char kbuf[16], fdbuf[16];
	double us = -1;
	int fds[2], status;
	ssize_t r;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	snprintf(kbuf, sizeof(kbuf), "%d", k);
	snprintf(fdbuf, sizeof(fdbuf), "%d", fds[1]);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		execl("/proc/self/exe", "bench_auth", "-x", kbuf, "-r", fdbuf,
		      (char *)NULL);
		_exit(97);
	}
	close(fds[1]);
	do
		r = read(fds[0], &us, sizeof(us));
	while (r < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    r != (ssize_t)sizeof(us)) {
		/* The child said why on stderr. */
		fflush(stdout);
		exit(99);
	}
	return us;
}

/*
 * In the executed child (-x): set up what the row measures, time its
 * login, and write the microseconds to fd.
 */
static void
login_child(const struct op *op, int fd)
{
	const char *dir = getenv("PAM_WRAPPER_RUNTIME_DIR");
	double us;
	ssize_t r;

	role = LOGIN_CHILD;
	/* The parent's pam_wrapper directory, inherited: never removed. */
	snprintf(parent_pw_dir, sizeof(parent_pw_dir), "%s", dir ? dir : "");
	child_pam_wrapper_setup();
	host_lookups();
	if (op->curl)
		curl_load();
	us = op->fn();
	child_pam_wrapper_cleanup();
	r = write(fd, &us, sizeof(us));
	_exit(r == (ssize_t)sizeof(us) ? 0 : 99);
}

/* ---------------------------------------------------------------------- */
/* Programs: the bare client and the helper, timed from fork to exit.      */

/*
 * Run path with arg (or none), stdin from in (-1: /dev/null), and time
 * it from fork to its exit status.  Its first output line, when out is
 * given, is read into out.  Dies unless it exits 0.
 */
static double
run_program(const char *path, const char *arg, int in, char *out, size_t outsz)
{
	int fds[2] = {-1, -1}, status, null;
	double t0, t1;
	ssize_t n = 0, r;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (out != NULL && pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	t0 = now_us();
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		null = open("/dev/null", O_RDWR);
		if (dup2(in >= 0 ? in : null, 0) < 0 ||
		    (fds[1] >= 0 && dup2(fds[1], 1) < 0))
			_exit(98);
		execl(path, path, arg, (char *)NULL);
		_exit(97);
	}
	if (fds[1] >= 0)
		close(fds[1]);
	if (in >= 0)
		close(in);
	while (fds[0] >= 0 && (size_t)n + 1 < outsz) {
		r = read(fds[0], out + n, outsz - (size_t)n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	t1 = now_us();
	if (fds[0] >= 0) {
		close(fds[0]);
		out[n] = '\0';
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s%s%s: exit status %d", path, arg ? " " : "",
		    arg ? arg : "",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return t1 - t0;
}

/* Floor B0: the bare client as a program, its three requests included. */
static double bare_inner_us;

static double
bare_cold(void)
{
	char out[64];
	double us = run_program(env.bare, NULL, -1, out, sizeof(out));

	bare_inner_us = strtod(out, NULL);
	if (bare_inner_us <= 0)
		die("bare_client printed no time");
	return us;
}

/* Floor B: the same run's requests alone, timed by the client itself. */
static double
bare_warm(void)
{
	bare_cold();
	return bare_inner_us;
}

/* Floor H0: a libcurl program that does nothing: loading, start, exit. */
static double
bare_start(void)
{
	return run_program(env.bare, "--start", -1, NULL, 0);
}

/*
 * H: the helper's start, as the module starts it (fork, exec, dynamic
 * loading) and end: its socket reads end of file at once, so it exits
 * before loading any configuration.
 */
static double
helper_start(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair: %s", strerror(errno));
	close(sv[0]);
	return run_program(env.helper, NULL, sv[1], NULL, 0);
}

static double
run_op(const struct op *op, int k)
{
	return op->fork ? fresh(k) : op->fn();
}

static int iterations = 200, warmup = 10;

/*
 * Rounds of every operation once, in turn, so that a slow patch of the
 * machine or the mock hits them all alike.  When recording, the time of
 * each and the connections and requests the mock saw meanwhile are kept.
 */
static void
rounds(struct op *ops, size_t nops, int count, bool record)
{
	struct stats before, after;
	double us;
	size_t k;
	int i;

	before = mock_stats();
	for (i = 0; i < count; i++) {
		for (k = 0; k < nops; k++) {
			us = run_op(&ops[k], (int)k);
			after = mock_stats();
			if (record) {
				ops[k].s.us[ops[k].s.n++] = us;
				ops[k].conns +=
				    after.connections - before.connections;
				ops[k].reqs += after.requests - before.requests;
			}
			before = after;
		}
		if (!record && i == 0)
			fprintf(stderr, "bench_auth: warm-up...\n");
		if (record && (i + 1) % 50 == 0)
			fprintf(stderr, "bench_auth: %d of %d rounds\n", i + 1,
				count);
	}
	for (k = 0; record && k < nops; k++)
		series_finish(&ops[k].s);
}

/* Remove the values that differ by nature: the token and connection ids. */
static void
normalize(char *s)
{
	static const char *const keys[] = {"\"token\":\"", "\"connection\":"};
	char *p, *q;
	size_t k;

	for (k = 0; k < 2; k++) {
		for (p = strstr(s, keys[k]); p != NULL;
		     p = strstr(p, keys[k])) {
			p += strlen(keys[k]);
			q = p;
			if (k == 0)
				while (*q != '\0' && *q != '"')
					q++;
			else
				while (*q >= '0' && *q <= '9')
					q++;
			memmove(p, q, strlen(q) + 1);
		}
	}
}

/* The requests of one module login and of one bare-client iteration. */
static bool
same_requests(const struct op *module_op, int module_k,
	      const struct op *bare_op)
{
	char *module, *bare;
	bool same;

	mock_reset();
	run_op(module_op, module_k);
	module = mock_call("GET", "/_mock/requests", NULL);
	mock_reset();
	run_op(bare_op, -1);
	bare = mock_call("GET", "/_mock/requests", NULL);
	mock_reset();
	normalize(module);
	normalize(bare);
	same = strcmp(module, bare) == 0;
	if (!same)
		fprintf(stderr,
			"module requests:\n%.3000s\nbare client "
			"requests:\n%.3000s\n",
			module, bare);
	free(module);
	free(bare);
	return same;
}

/* ---------------------------------------------------------------------- */
/* Output.                                                                 */

static int goals_missed;

/* "met"/"MISSED" against a goal ratio, or "" when there is none. */
static const char *
goal_word(double ratio, double goal, char *buf, size_t size)
{
	if (goal <= 0)
		return "";
	if (ratio > goal)
		goals_missed++;
	snprintf(buf, size, "<=%.2f %s", goal,
		 ratio <= goal ? "met" : "MISSED");
	return buf;
}

static void
row(const struct op *op)
{
	const struct series *s = &op->s, *f = op->floor ? &op->floor->s : NULL;
	char g[32];

	printf("%-3s %-43s %9.0f %9.0f %9.0f", s->tag, s->label, s->mean,
	       s->median, s->p90);
	if (f != NULL)
		printf(
		    "  %-3s %7.2f %7.2f  %s", f->tag, s->median / f->median,
		    s->mean / f->mean,
		    goal_word(s->median / f->median, op->goal, g, sizeof(g)));
	putchar('\n');
}

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %-4s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failed_checks++;
}

/* Did every timed iteration of op make the connections it should? */
static bool
counts_ok(const struct op *op)
{
	return (op->want_conns < 0 || op->conns == op->want_conns * op->s.n) &&
	       (op->want_reqs < 0 || op->reqs == op->want_reqs * op->s.n);
}

/* "1.00/3.00" connections/requests per iteration. */
static const char *
per(const struct op *op, char *buf, size_t size)
{
	snprintf(buf, size, "%.2f/%.2f", (double)op->conns / op->s.n,
		 (double)op->reqs / op->s.n);
	return buf;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_auth [-n ITERATIONS] [-w WARMUP]\n");
	exit(2);
}

static int
number(const char *s, int min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > 1000000)
		usage();
	return (int)v;
}

enum { A, S0, S, S2, B, B0, H0, H, F, L, NOPS };

/* The rows, in the order they are run and printed. */
static void
setup_ops(struct op *ops)
{
	memset(ops, 0, NOPS * sizeof(*ops));
#define OP(i, t, l, f, fk, c, fl, gl, wc, wr)                                  \
	do {                                                                   \
		series_init(&ops[i].s, t, l, iterations);                      \
		ops[i].fn = f;                                                 \
		ops[i].fork = fk;                                              \
		ops[i].curl = c;                                               \
		ops[i].floor = fl;                                             \
		ops[i].goal = gl;                                              \
		ops[i].want_conns = wc;                                        \
		ops[i].want_reqs = wr;                                         \
	} while (0)
	OP(A, "A", "floor: pam_permit stack", login_permit, true, false, NULL,
	   0, 0, 0);
	OP(S0, "S0", "floor: a do-nothing module with libconfig", login_null,
	   true, false, &ops[A], 0, 0, 0);
	OP(S, "S", "module: load + skip (as sudo)", login_skip, true, false,
	   &ops[A], 1.5, 0, 0);
	OP(S2, "S\"", "module: load + skip, libcurl resident", login_skip, true,
	   true, &ops[A], 1.5, 0, 0);
	OP(B, "B", "floor: bare libcurl, same 3 requests", bare_warm, false,
	   false, NULL, 0, 1, 3);
	OP(B0, "B0", "floor: bare libcurl program, whole run", bare_cold, false,
	   false, NULL, 0, 1, 3);
	OP(H0, "H0", "floor: libcurl program start + exit", bare_start, false,
	   false, NULL, 0, 0, 0);
	OP(H, "H", "module: helper start + exit", helper_start, false, false,
	   &ops[H0], 0, 0, 0);
	OP(F, "F", "module: BaxVerify login (as sudo)", login_bax, true, false,
	   &ops[B0], 1.15, 1, 3);
	OP(L, "L", "module: local provider login", login_local, true, false,
	   &ops[A], 0, 0, 0);
#undef OP
}

/* The local login's goal, microseconds (median). */
#define LOCAL_GOAL_US 15000.0

int
main(int argc, char **argv)
{
	struct op ops[NOPS];
	long rss_start, rss0, rss_half, rss1;
	char b1[32], b2[32], g[32];
	const char *dir;
	double t_start = now_us(), no_start, ratio;
	int opt, i, child_op = -1, child_fd = -1;
	bool same;

	while ((opt = getopt(argc, argv, "n:w:x:r:")) != -1) {
		switch (opt) {
		case 'x': /* a login child (fresh) */
			child_op = number(optarg, 0);
			break;
		case 'r':
			child_fd = number(optarg, 0);
			break;
		case 'n':
			iterations = number(optarg, 1);
			break;
		case 'w':
			warmup = number(optarg, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	env.mock_url = need_env("BV_BENCH_MOCK_URL");
	env.ca = need_env("BV_BENCH_CA");
	env.api_key = need_env("BV_BENCH_API_KEY");
	env.project_id = need_env("BV_BENCH_PROJECT_ID");
	env.phone = need_env("BV_BENCH_PHONE");
	env.code = need_env("BV_BENCH_CODE");
	env.user = need_env("BV_BENCH_USER");
	env.skip_user = need_env("BV_BENCH_SKIP_USER");
	env.outbox = need_env("BV_BENCH_OUTBOX");
	env.bare = need_env("BV_BENCH_BARE");
	env.helper = need_env("BV_BENCH_HELPER");
	env.libcurl = getenv("BV_BENCH_LIBCURL");
	if (env.libcurl == NULL || *env.libcurl == '\0')
		env.libcurl = "libcurl.so.4";
	setvbuf(stdout, NULL, _IOLBF, 0);
	rss_start = rss_kib();
	if (getenv("PAM_WRAPPER_SERVICE_DIR") == NULL)
		die("not running under pam_wrapper (run bench/run-bench.sh)");
	if (libcurl_resident())
		die("%s is already loaded: the cold rows would not be cold",
		    env.libcurl);

	setup_ops(ops);
	if (child_op >= 0) {
		if (child_op >= NOPS || !ops[child_op].fork || child_fd < 0)
			usage();
		login_child(&ops[child_op], child_fd);
	}

	/*
	 * pam_wrapper copies the service directory at the first pam_start of
	 * a process: here once; the children make (and remove) their own.
	 */
	login_permit();
	dir = getenv("PAM_WRAPPER_RUNTIME_DIR");
	snprintf(parent_pw_dir, sizeof(parent_pw_dir), "%s", dir ? dir : "");

	agent_start();
	mock_reset();
	same = same_requests(&ops[F], F, &ops[B]);
	rounds(ops, NOPS, warmup, false);
	rounds(ops, NOPS, iterations, true);

	/* Memory: logins in this one process, libcurl loaded. */
	fprintf(stderr,
		"bench_auth: %d BaxVerify logins and %d skipped users "
		"in one process...\n",
		iterations, iterations);
	curl_load();
	for (i = 0; i < warmup; i++) {
		login_bax();
		login_skip();
	}
	rss0 = rss_half = rss_kib();
	for (i = 0; i < iterations; i++) {
		if (i == iterations / 2)
			rss_half = rss_kib();
		login_bax();
		login_skip();
	}
	rss1 = rss_kib();
	agent_stop();

	/* The figures. */
	printf("pam_baxverify %s: %d iterations per operation after %d "
	       "warm-up, interleaved, in one run.\n",
	       PACKAGE_VERSION, iterations, warmup);
	printf("Logins (A, S0, S, S\", F, L): pam_start + pam_authenticate + "
	       "pam_end, each in a freshly\nexecuted process, as with sudo "
	       "and sshd, timed after pam_wrapper's set-up and after\nwhat "
	       "sudo does before PAM (the users' passwd entries and group "
	       "lists read: NSS\nloaded).  Programs (B0, H0, H): timed from "
	       "fork to exit.  B: the client's own time\nfor its requests, "
	       "libcurl loaded and initialised.  Goals are on the median "
	       "ratio.\n\n");
	printf("    %-43s %9s %9s %9s  %-3s %7s %7s  %s\n", "operation",
	       "mean us", "median", "p90", "vs", "x med", "x mean", "goal");
	for (i = 0; i < NOPS; i++)
		row(&ops[i]);

	printf("\nDerived (medians, us):\n");
	printf("  the module on a skipped user (S - A)              %9.0f\n",
	       ops[S].s.median - ops[A].s.median);
	printf("    of which loading a module and libconfig (S0 - A) %8.0f, "
	       "the module's own (S - S0) %.0f\n",
	       ops[S0].s.median - ops[A].s.median,
	       ops[S].s.median - ops[S0].s.median);
	printf("  a BaxVerify login over the bare program (F - B0)  %9.0f\n",
	       ops[F].s.median - ops[B0].s.median);
	printf("  the helper's start over a libcurl program's (H - H0) "
	       "%6.0f\n",
	       ops[H].s.median - ops[H0].s.median);
	/* Libraries loaded, on both sides: the login without the helper's
	   start, the bare program without a libcurl program's start. */
	no_start = ops[F].s.median - ops[H].s.median;
	ratio = no_start / (ops[B0].s.median - ops[H0].s.median);
	printf("  libraries loaded: a login without the helper's start "
	       "(F - H)\n    vs the bare program without its start (B0 - "
	       "H0)         %9.0f  x %.2f  %s\n",
	       no_start, ratio, goal_word(ratio, 1.05, g, sizeof(g)));
	printf("  a local login (L), goal <= %.0f us                  %9.0f  "
	       "%s\n",
	       LOCAL_GOAL_US, ops[L].s.median,
	       goal_word(ops[L].s.median / LOCAL_GOAL_US, 1.0, g, sizeof(g)));

	printf("\nChecks (TCP connections/API requests per operation, from "
	       "GET /_mock/stats around each):\n");
	check(counts_ok(&ops[F]), "BaxVerify login: %s (want 1/3)",
	      per(&ops[F], b1, sizeof(b1)));
	check(counts_ok(&ops[S]) && counts_ok(&ops[S2]) && counts_ok(&ops[S0]),
	      "skipped user: %s, %s libcurl resident (want 0/0)",
	      per(&ops[S], b1, sizeof(b1)), per(&ops[S2], b2, sizeof(b2)));
	check(counts_ok(&ops[L]) && counts_ok(&ops[A]) && counts_ok(&ops[H]),
	      "local provider login: %s; pam_permit, helper start: 0/0 "
	      "(want 0/0)",
	      per(&ops[L], b1, sizeof(b1)));
	check(counts_ok(&ops[B]) && counts_ok(&ops[B0]),
	      "bare client: %s (want 1/3)", per(&ops[B0], b1, sizeof(b1)));
	check(same, "the bare client's requests equal the module's (method, "
		    "path, headers, bodies;\n       token and connection ids "
		    "aside)");

	printf("\nResident set of this process over %d BaxVerify logins and "
	       "%d skipped users in it (libcurl\nloaded): %+ld KiB (%+.0f "
	       "bytes per pair), %+ld KiB of it over the second half; %ld KiB "
	       "at\nstart, %ld KiB at the end (libcurl loaded in it "
	       "included).\n",
	       iterations, iterations, rss1 - rss0,
	       1024.0 * (double)(rss1 - rss0) / iterations, rss1 - rss_half,
	       rss_start, rss1);
	printf("Goals missed: %d.  Run time %.1f s.\n", goals_missed,
	       (now_us() - t_start) / 1e6);
	return failed_checks ? 1 : 0;
}
