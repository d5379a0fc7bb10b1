/*
 * deliver.c - running the delivery command, or appending to a file.
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
#include "../core/text.h"
#include "../core/wipe.h"

/* What we keep of the command's error output, for one log line. */
#define STDERR_KEEP 200

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
		char one[2] = { *p, '\0' };

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

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: wire up stdin/stdout/stderr, drop the rest, exec. */
static void
exec_child(const char *command, const char *dest, int in, int err)
{
	char *const argv[] = { (char *)(uintptr_t)command,
			       (char *)(uintptr_t)dest, NULL };
	char *const envp[] = { NULL };
	int null = open("/dev/null", O_WRONLY);

	/* Its own process group, so a timeout ends whatever it started. */
	if (setpgid(0, 0) != 0 || dup2(in, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(err, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	execve(command, argv, envp);
	_exit(127);
}

/*
 * Wait for the child, reading its error output, until it exits or the
 * deadline passes (then it is killed).  Returns the wait status, or -1
 * when it had to be killed.
 */
static int
reap(pid_t pid, int err, long deadline, char *errbuf, size_t errsz)
{
	size_t got = 0;
	int status = 0;
	bool open_err = true;

	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = err, .events = POLLIN };
		char chunk[256];
		ssize_t r;

		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		if (!open_err || poll(&pfd, 1, 20) <= 0) {
			struct timespec t = { 0, 20 * 1000 * 1000 };

			if (!open_err)
				nanosleep(&t, NULL);
			continue;
		}
		r = read(err, chunk, sizeof(chunk));
		if (r <= 0) {
			open_err = false;
			continue;
		}
		if (got + 1 < errsz) {
			size_t n = (size_t)r < errsz - 1 - got ? (size_t)r
							      : errsz - 1 - got;
			memcpy(errbuf + got, chunk, n);
			got += n;
			errbuf[got] = '\0';
		}
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/*
 * The program runs as root in sshd or sudo: it must be a regular,
 * executable file that only root (or our own user) can change.
 */
static bool
command_trusted(const char *path, struct bv_outcome *out)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & S_IXUSR) == 0) {
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command is not an executable file");
		return false;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command refused: not owned by root or "
			 "writable by others");
		return false;
	}
	return true;
}

static enum bv_result
run_command(const struct bv_local_config *lc, const char *dest,
	    const char *message, struct bv_outcome *out)
{
	int in[2] = { -1, -1 }, err[2] = { -1, -1 }, status;
	char errbuf[STDERR_KEEP + 1] = "";
	enum bv_result rc = BV_UNAVAILABLE;
	pid_t pid;

	if (!command_trusted(lc->command, out))
		return BV_UNAVAILABLE;
	/*
	 * A socket rather than a pipe for stdin: send() with MSG_NOSIGNAL
	 * cannot raise SIGPIPE in sshd or sudo when the program exits early.
	 */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 ||
	    pipe2(err, O_CLOEXEC) != 0) {
		snprintf(out->detail, sizeof(out->detail), "no pipes: %s",
			 strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(out->detail, sizeof(out->detail), "fork failed");
		goto out;
	}
	if (pid == 0)
		exec_child(lc->command, dest, in[1], err[1]);
	close(in[1]);
	close(err[1]);
	in[1] = err[1] = -1;
	send(in[0], message, strlen(message), MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(in[0], SHUT_WR);
	status = reap(pid, err[0], now_ms() + lc->timeout * 1000, errbuf,
		      sizeof(errbuf));
	if (status == -1) {
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command timed out after %lds", lc->timeout);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char clean[64], *nl = strchr(errbuf, '\n');

		/* The first line of what it printed; a program may be chatty. */
		if (nl != NULL)
			*nl = '\0';
		text_sanitize(clean, sizeof(clean), errbuf);
		snprintf(out->detail, sizeof(out->detail),
			 "delivery command failed (status %d)%s%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 clean[0] ? ": " : "", clean);
	} else {
		rc = BV_OK;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return rc;
}

static enum bv_result
append_file(const struct bv_local_config *lc, const char *dest,
	    const char *message, struct bv_outcome *out)
{
	size_t n = strlen(dest) + strlen(message) + 4;
	char *line = malloc(n);
	enum bv_result rc = BV_UNAVAILABLE;
	int fd;

	if (line == NULL)
		return BV_NOMEM;
	/* One write of one line: concurrent appends do not interleave. */
	snprintf(line, n, "%s: %s\n", dest, message);
	fd = open(lc->file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
				    O_CLOEXEC | O_NOCTTY,
		  0600);
	if (fd >= 0 && write(fd, line, strlen(line)) == (ssize_t)strlen(line))
		rc = BV_OK;
	else
		snprintf(out->detail, sizeof(out->detail),
			 "cannot append to %.80s", lc->file);
	if (fd >= 0)
		close(fd);
	bv_free_secret(line);
	return rc;
}

enum bv_result
deliver_message(const struct bv_local_config *lc, const char *dest,
		const char *message, struct bv_outcome *out)
{
	if (strcmp(lc->delivery, "file") == 0)
		return append_file(lc, dest, message, out);
	return run_command(lc, dest, message, out);
}
