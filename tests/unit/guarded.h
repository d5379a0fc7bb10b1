/*
 * guarded.h - run a call that must never block in a child process, so a
 * call that does block (open(2) of a FIFO with no writer) fails its case
 * instead of hanging the suite.
 *
 * The child runs fn(arg) under a watchdog alarm and exits with what fn
 * returned (0..255), its stderr sent to errlog (when not NULL).  The
 * watchdog only ever fires when the call blocks: nothing waits for it
 * when the call returns.  fn runs in the child: no cmocka assertions
 * there.  Include after <cmocka.h>.
 */
#ifndef BV_TEST_GUARDED_H
#define BV_TEST_GUARDED_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Far longer than any call here takes; a blocked one never returns. */
#define GUARD_SECONDS 20

static int
run_guarded(int (*fn)(void *), void *arg, const char *errlog)
{
	int status = 0, fd;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (errlog != NULL) {
			fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
				_exit(255);
			close(fd);
		}
		signal(SIGALRM, SIG_DFL);
		alarm(GUARD_SECONDS);
		fd = fn(arg);
		fflush(NULL);
		_exit(fd);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the call blocked (killed by signal %d after at most "
			 "%d s)",
			 WTERMSIG(status), GUARD_SECONDS);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#endif /* BV_TEST_GUARDED_H */
