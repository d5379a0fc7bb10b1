/*
 * deliver.c - running the delivery command, or appending to a file.
 *
 * The command runs as root with the code on its standard input, started
 * from a process the caller may control (sudo, su).  So: the program is
 * opened once, checked through that descriptor and exec'd from it (a path
 * swapped after the check never runs); the child is cleaned by
 * child_exec; only the command's own exit status can say "the gateway
 * failed" (BV_UNAVAILABLE, which failmode=safe may wave through), while
 * anything the caller could cause - a signal, a stop, a timeout, a wait,
 * fork or pipe error - is BV_INTERNAL.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "../core/child.h"
#include "../core/text.h"
#include "../core/wipe.h"

/* What we keep of the command's error output: its first line is all we
   ever log, and that only as a short excerpt. */
#define STDERR_KEEP 200
/* How often the wait loop looks at the child while its stderr is quiet. */
#define TICK_MS 20
/* Reads of stderr per look: 32 KB, then the deadline is checked again. */
#define COLLECT_READS 64
/* Marks stderr of a child whose exec failed (see start_child): an exit
   status from us, not from the gateway. */
#define EXEC_FAILED "\001bv-exec-failed\n"

char *
deliver_format(const char *tmpl, const char *code)
{
	char host[256] = "";
	size_t size, o = 0;
	const char *p, *add;
	char *out;

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "this host");
	size = strlen(tmpl) * (strlen(host) + strlen(code) + 1) + 1;
	out = calloc(1, size);
	if (out == NULL)
		return NULL;
	for (p = tmpl; *p != '\0'; p++) {
		char one[2] = {*p, '\0'};

		add = one;
		if (p[0] == '%' && p[1] == 'c')
			add = code;
		else if (p[0] == '%' && p[1] == 'h')
			add = host;
		else if (p[0] == '%' && p[1] == '%')
			add = "%";
		if (add != one)
			p++;
		memcpy(out + o, add, strlen(add));
		o += strlen(add);
	}
	return out;
}

/* ------------------------------------------------------------------ */
/* The excerpt of the command's error output that may reach syslog.    */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Part of an address: anything but white space, controls and the
   punctuation that usually surrounds one ("<a@b>", "(a@b)", "to: a@b"). */
static bool
is_addr_char(char c)
{
	return (unsigned char)c > ' ' && c != 0x7f &&
	       strchr("<>()[]{},;:\"'`", c) == NULL;
}

/* Length of the address-like word at s when it has an "@" with something
   on both sides, else 0. */
static size_t
email_len(const char *s)
{
	size_t n = 0, at = 0;
	bool seen = false;

	for (; is_addr_char(s[n]); n++)
		if (s[n] == '@' && !seen) {
			seen = true;
			at = n;
		}
	return seen && at > 0 && at + 1 < n ? n : 0;
}

/* What may come between the digits of a phone number. */
static bool
is_phone_sep(char c)
{
	return c != '\0' && strchr(" -.()", c) != NULL;
}

/* Most digits of a phone number (E.164). */
#define PHONE_DIGITS 15

/*
 * Length of "+" and the groups of digits (separators between them) of a
 * phone number after it, up to its last digit; 0 when no digit follows.
 * A group that would make it longer than any phone number is not part of
 * it ("+14155552671 (14155552671)" is a number, then another run).
 */
static size_t
phone_len(const char *s)
{
	size_t n = 1, end = 0, digits = 0, j, k;

	for (;;) {
		for (j = n; is_phone_sep(s[j]); j++)
			;
		for (k = j; is_digit(s[k]); k++)
			;
		if (k == j || (digits > 0 && digits + (k - j) > PHONE_DIGITS))
			break;
		digits += k - j;
		end = n = k;
	}
	return end;
}

/* Length of a run of digits (single spaces, dashes or dots between them
   allowed: "918 273" is one run) and its digit count in *digits. */
static size_t
digits_len(const char *s, size_t *digits)
{
	size_t n = 0;

	*digits = 0;
	while (is_digit(s[n])) {
		(*digits)++;
		n++;
		if (is_phone_sep(s[n]) && s[n] != '(' && s[n] != ')' &&
		    is_digit(s[n + 1]))
			n++;
	}
	return n;
}

/* Append n bytes of s to dst if they fit whole; false when they do not. */
static bool
put(char *dst, size_t dstsz, size_t *o, const char *s, size_t n)
{
	if (*o + n >= dstsz)
		return false;
	memcpy(dst + *o, s, n);
	*o += n;
	dst[*o] = '\0';
	return true;
}

/*
 * The masking itself, on text already free of control characters.  A
 * piece that does not fit ends the output: a number is never shown in
 * part.
 */
static void
mask_text(char *dst, size_t dstsz, const char *s, bool cut)
{
	size_t o = 0, i = 0, n, digits;
	bool ok = true;

	dst[0] = '\0';
	while (s[i] != '\0' && ok) {
		bool word = i == 0 || !is_addr_char(s[i - 1]);

		n = word ? email_len(s + i) : 0;
		if (n > 0) {
			ok =
			    put(dst, dstsz, &o, "\xe2\x80\xa6@\xe2\x80\xa6", 7);
		} else if (s[i] == '+' && (n = phone_len(s + i)) > 0) {
			ok = put(dst, dstsz, &o, "+\xe2\x80\xa6", 4);
		} else if (is_digit(s[i])) {
			n = digits_len(s + i, &digits);
			/* Cut at the end of the capture, a short run may be
			   the start of a longer number. */
			if (digits >= 4 || (cut && s[i + n] == '\0'))
				ok = put(dst, dstsz, &o, "####", 4);
			else
				ok = put(dst, dstsz, &o, s + i, n);
		} else {
			n = 1;
			ok = put(dst, dstsz, &o, s + i, 1);
		}
		i += n;
	}
}

static void
keep_printable_ascii(char *dst, size_t dstsz, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 1 < dstsz; src++)
		if (*src >= ' ' && *src <= '~')
			dst[o++] = *src;
	dst[o] = '\0';
}

void
deliver_excerpt(char *dst, size_t dstsz, const char *err, bool cut)
{
	char line[STDERR_KEEP + 1], clean[STDERR_KEEP + 1];
	char masked[3 * STDERR_KEEP + 1];
	size_t n = strcspn(err, "\n");

	if (dstsz == 0)
		return;
	/* Only the first line: the rest of a chatty program's output may
	   be its whole input echoed back. */
	if (err[n] == '\n')
		cut = false;
	if (n > STDERR_KEEP) {
		n = STDERR_KEEP;
		cut = true;
	}
	memcpy(line, err, n);
	line[n] = '\0';
	/* Everything but printable ASCII out first (not replaced: a '?'
	   between digits would split a code into runs too short to mask). */
	keep_printable_ascii(clean, sizeof(clean), line);
	mask_text(masked, sizeof(masked), clean, cut);
	text_sanitize(dst, dstsz, masked);
	explicit_bzero(line, sizeof(line));
	explicit_bzero(clean, sizeof(clean));
	explicit_bzero(masked, sizeof(masked));
}

/* ------------------------------------------------------------------ */
/* Running the command.                                                */

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Move fd above 2, so that setting up 0-2 cannot close it. */
static int
above_stdio(int fd)
{
	return fd > 2 ? fd : fcntl(fd, F_DUPFD, 3);
}

/*
 * In the child (async-signal-safe calls only): its own process group, so
 * that a kill reaches whatever it starts; the message on stdin, stdout
 * to /dev/null, stderr to our pipe; then child_exec.  A failure before
 * the program runs says so on stderr, so that its exit status is never
 * taken for the gateway's.
 */
static void
start_child(int exec_fd, const char *command, const char *dest, int in,
	    int null, int err)
{
	char *const argv[] = {(char *)(uintptr_t)command,
			      (char *)(uintptr_t)dest, NULL};
	int report = err;
	ssize_t told;

	exec_fd = above_stdio(exec_fd);
	in = above_stdio(in);
	null = above_stdio(null);
	err = above_stdio(err);
	if (exec_fd >= 0 && in >= 0 && null >= 0 && err >= 0 &&
	    setpgid(0, 0) == 0 && dup2(in, 0) == 0 && dup2(null, 1) == 1 &&
	    dup2(err, 2) == 2) {
		/* child_exec closes all but 0-2 before it fails, if it does. */
		report = 2;
		child_exec(exec_fd, argv);
	}
	/* Nobody to tell when this fails: the exit status still does. */
	told = write(report, EXEC_FAILED, sizeof(EXEC_FAILED) - 1);
	(void)told;
	_exit(127);
}

/* How the command ended. */
enum run_end {
	END_EXITED,   /* value: its exit status */
	END_SIGNALED, /* value: the signal */
	END_STOPPED,
	END_TIMEOUT,
	END_WAIT_ERR /* value: errno of waitpid */
};

struct run {
	pid_t pid;
	int err;       /* read end of its stderr, non-blocking */
	long deadline; /* now_ms() when it is killed */
	char errbuf[STDERR_KEEP + 1];
	size_t got;
	bool cut; /* it printed more than we kept */
	enum run_end end;
	int value;
};

/*
 * Read what the command wrote to stderr, keeping the start (the pipe
 * must not fill up, or the command blocks).  A bounded number of reads,
 * so that a flood cannot keep the wait loop from its deadline.  False at
 * end of file (or error): nothing more will come.
 */
static bool
collect(struct run *r)
{
	char chunk[512];
	ssize_t n;
	size_t keep;
	int reads;

	for (reads = 0; reads < COLLECT_READS; reads++) {
		n = read(r->err, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && errno == EAGAIN;
		keep = STDERR_KEEP - r->got;
		if ((size_t)n > keep)
			r->cut = true;
		keep = (size_t)n < keep ? (size_t)n : keep;
		memcpy(r->errbuf + r->got, chunk, keep);
		r->got += keep;
		r->errbuf[r->got] = '\0';
		explicit_bzero(chunk, sizeof(chunk));
	}
	return true;
}

/* The command and everything it started; then wait for it to go.  Our
   own child is not reaped by anyone else while SIGCHLD is SIG_DFL. */
static void
kill_and_reap(pid_t pid)
{
	int status;

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/*
 * Wait for the child until it exits or the deadline passes, reading its
 * error output meanwhile.  Every way out sets r->end: a stop, a timeout
 * or a wait error kills the child's process group first - but not after
 * ECHILD: someone else reaped it, and its pid may already be another
 * process's.  A wait error is never a timeout or a success.
 */
static void
reap(struct run *r)
{
	bool open_err = true;
	int status = 0;
	pid_t w;

	for (;;) {
		w = waitpid(r->pid, &status, WNOHANG | WUNTRACED);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r->end = END_WAIT_ERR;
			r->value = errno;
			if (r->value != ECHILD)
				kill_and_reap(r->pid);
			return;
		}
		if (w == r->pid)
			break;
		if (now_ms() >= r->deadline) {
			r->end = END_TIMEOUT;
			kill_and_reap(r->pid);
			return;
		}
		if (open_err) {
			struct pollfd pfd = {.fd = r->err, .events = POLLIN};

			if (poll(&pfd, 1, TICK_MS) > 0)
				open_err = collect(r);
		} else {
			struct timespec t = {0, TICK_MS * 1000 * 1000};

			nanosleep(&t, NULL);
		}
	}
	if (WIFSTOPPED(status)) {
		r->end = END_STOPPED;
		kill_and_reap(r->pid);
		return;
	}
	/* What it wrote just before it ended may still be in the pipe. */
	if (open_err)
		collect(r);
	r->end = WIFEXITED(status) ? END_EXITED : END_SIGNALED;
	r->value = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
}

/* The result and out->detail for how the command ended. */
static enum bv_result
judge(const struct run *r, long timeout, struct bv_outcome *out)
{
	char excerpt[72];
	size_t mark = sizeof(EXEC_FAILED) - 1;

	switch (r->end) {
	case END_EXITED:
		if (r->value == 0)
			return BV_OK;
		if (r->value == 127 && r->got >= mark &&
		    memcmp(r->errbuf, EXEC_FAILED, mark) == 0) {
			snprintf(out->detail, sizeof(out->detail),
				 "delivery command could not be started");
			return BV_INTERNAL;
		}
		/* The gateway's own report: an outage, not our failure. */
		deliver_excerpt(excerpt, sizeof(excerpt), r->errbuf, r->cut);
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command failed (status %d)%s%s", r->value,
			 excerpt[0] ? ": " : "", excerpt);
		return BV_UNAVAILABLE;
	case END_SIGNALED:
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command killed by signal %d", r->value);
		break;
	case END_STOPPED:
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command stopped");
		break;
	case END_TIMEOUT:
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command timed out after %lds", timeout);
		break;
	case END_WAIT_ERR:
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command: wait failed: %s",
			 strerror(r->value));
		break;
	}
	return BV_INTERNAL;
}

/* The pipes: in[] a socket pair (send() with MSG_NOSIGNAL cannot raise
   SIGPIPE in sshd or sudo when the program exits early), err[] a pipe
   whose read end never blocks us, null /dev/null. */
static bool
open_pipes(int in[2], int err[2], int *null, struct bv_outcome *out)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 ||
	    pipe2(err, O_CLOEXEC) != 0 ||
	    fcntl(err[0], F_SETFL, O_NONBLOCK) != 0) {
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command: no pipes: %s", strerror(errno));
		return false;
	}
	*null = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (*null < 0) {
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command: cannot open /dev/null: %s",
			 strerror(errno));
		return false;
	}
	return true;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Start the command and wait for it.  SIGCHLD is SIG_DFL meanwhile so
 * that a caller who ignores it (the kernel would then reap our child
 * itself) cannot make the wait fail; the caller's action is restored.
 */
static enum bv_result
spawn(const struct local_config *lc, int exec_fd, const char *dest,
      const char *message, struct bv_outcome *out)
{
	int in[2] = {-1, -1}, err[2] = {-1, -1}, null = -1;
	struct sigaction dfl, old;
	bool saved = false;
	struct run r;
	enum bv_result rc = BV_INTERNAL;
	size_t len = strlen(message);
	ssize_t sent;

	memset(&r, 0, sizeof(r));
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (!open_pipes(in, err, &null, out))
		goto out;
	saved = sigaction(SIGCHLD, &dfl, &old) == 0;
	r.pid = fork();
	if (r.pid < 0) {
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command: fork failed: %s", strerror(errno));
		goto out;
	}
	if (r.pid == 0)
		start_child(exec_fd, lc->command, dest, in[1], null, err[1]);
	/* Also from here: a kill of the group must not miss it. */
	(void)setpgid(r.pid, r.pid);
	close_fd(&in[1]);
	close_fd(&err[1]);
	r.err = err[0];
	sent = send(in[0], message, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(in[0], SHUT_WR);
	r.deadline = now_ms() + lc->timeout * 1000;
	reap(&r);
	rc = judge(&r, lc->timeout, out);
	/* An exit 0 after reading half the message is no delivery. */
	if (rc == BV_OK && sent != (ssize_t)len) {
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command: the message was not passed whole");
		rc = BV_INTERNAL;
	}
out:
	if (saved)
		sigaction(SIGCHLD, &old, NULL);
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&null);
	explicit_bzero(&r, sizeof(r));
	return rc;
}

static enum bv_result
run_command(const struct local_config *lc, const char *dest,
	    const char *message, struct bv_outcome *out)
{
	char why[96];
	enum bv_result rc;
	int exec_fd;

	/*
	 * Checked and exec'd through one descriptor: a path swapped after
	 * the check (a symlink, a rename) is never what runs as root.  A
	 * program we refuse is our configuration's fault, and never an
	 * outage failmode=safe could let users through on.
	 */
	exec_fd = child_open_trusted(lc->command, why, sizeof(why));
	if (exec_fd < 0) {
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command refused: %s", why);
		return BV_CONFIG;
	}
	rc = spawn(lc, exec_fd, dest, message, out);
	close(exec_fd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* delivery = "file".                                                  */

/* What a path that is not a regular file is, for the log. */
static const char *
kind_of(int fd, int err)
{
	struct stat st;

	if (fd < 0)
		return err == ELOOP    ? "a symlink"
		       : err == EISDIR ? "a directory"
				       : "a FIFO or socket";
	if (fstat(fd, &st) != 0)
		return "unknown";
	return S_ISFIFO(st.st_mode)   ? "a FIFO"
	       : S_ISSOCK(st.st_mode) ? "a socket"
	       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)
		   ? "a device"
		   : "not a regular file";
}

/*
 * Open local.file to append: never through a symlink, never blocking
 * (a FIFO without a reader would hang the login until sshd's grace time
 * runs out), and only a regular file.  Returns the descriptor, or -1
 * with out->detail set and *rc the result: BV_CONFIG for what is not a
 * regular file, BV_INTERNAL for this host's own trouble (a full disk, a
 * read-only file system) - never an outage.
 */
static int
open_outbox(const char *path, struct bv_outcome *out, enum bv_result *rc)
{
	struct stat st;
	int fd, err;

	fd = open(path,
		  O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
		      O_NOCTTY | O_NONBLOCK,
		  0600);
	err = fd < 0 ? errno : 0;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	/* ELOOP: a symlink; ENXIO: a FIFO or socket without a reader;
	   EISDIR: a directory; or it opened as something else. */
	*rc = BV_CONFIG;
	if (fd >= 0 || err == ELOOP || err == ENXIO || err == EISDIR) {
		snprintf(out->detail, sizeof(out->detail),
			 "cannot append to %.60s: not a regular file (%s)",
			 path, kind_of(fd, err));
	} else {
		*rc = BV_INTERNAL;
		snprintf(out->detail, sizeof(out->detail),
			 "cannot append to %.60s: %s", path, strerror(err));
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

static enum bv_result
append_file(const struct local_config *lc, const char *dest,
	    const char *message, struct bv_outcome *out)
{
	size_t n = strlen(dest) + strlen(message) + 4;
	char *line = malloc(n);
	enum bv_result rc = BV_INTERNAL;
	ssize_t w;
	int fd = -1;

	if (line == NULL)
		return BV_NOMEM;
	/* One write of one line: concurrent appends do not interleave. */
	snprintf(line, n, "%s: %s\n", dest, message);
	fd = open_outbox(lc->file, out, &rc);
	if (fd < 0)
		goto out;
	w = write(fd, line, strlen(line));
	if (w == (ssize_t)strlen(line))
		rc = BV_OK;
	else
		snprintf(out->detail, sizeof(out->detail),
			 "cannot append to %.60s: %s", lc->file,
			 w < 0 ? strerror(errno) : "short write");
out:
	if (fd >= 0)
		close(fd);
	bv_free_secret(line);
	return rc;
}

enum bv_result
deliver_probe(const struct local_config *lc, char *said, size_t saidsz)
{
	struct stat st;
	char why[96];
	int fd;

	if (strcmp(lc->delivery, "file") != 0) {
		/* The module's own rule, by the same function: whoever can
		   change the program reads every code it is given. */
		fd = child_open_trusted(lc->command, why, sizeof(why));
		if (fd < 0) {
			snprintf(said, saidsz,
				 "delivery command %s refused: %s",
				 lc->command ? lc->command : "(unset)", why);
			return BV_CONFIG;
		}
		close(fd);
		snprintf(said, saidsz, "delivery command %s: ok", lc->command);
		return BV_OK;
	}
	/* As open_outbox opens it: never through a symlink. */
	if (lstat(lc->file, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(said, saidsz, "delivery file %s is not a regular file",
			 lc->file);
		return BV_CONFIG;
	}
	snprintf(said, saidsz, "delivery file %s: ok", lc->file);
	return BV_OK;
}

enum bv_result
deliver_message(const struct local_config *lc, const char *dest,
		const char *message, struct bv_outcome *out)
{
	if (strcmp(lc->delivery, "file") == 0)
		return append_file(lc, dest, message, out);
	return run_command(lc, dest, message, out);
}
