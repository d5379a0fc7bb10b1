/*
 * child.c - a clean process for the helper and the delivery command.
 *
 * Everything after fork() in child_exec runs in a copy of sshd or sudo:
 * only async-signal-safe calls, no allocation, no stdio.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"

/* What the child's limits become: enough for TLS and a gateway script,
   none of the caller's, and no core file that could hold a secret. */
#define CHILD_NOFILE 1024
#define CHILD_STACK (8UL * 1024 * 1024)

int
child_open_trusted(const char *path, char *why, size_t whysz)
{
	struct stat st;
	int fd;

	if (path == NULL || path[0] != '/') {
		snprintf(why, whysz, "not an absolute path");
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, whysz, "cannot open it: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & S_IXUSR) == 0) {
		snprintf(why, whysz, "not an executable regular file");
		goto bad;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whysz,
			 "not owned by root or writable by group "
			 "or others");
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

/* Read /proc/self/fd with the raw syscall: no allocation after fork. */
static bool
close_listed(int from)
{
	char buf[4096];
	long n, off;
	int dir, fd;
	bool ok = true;

	dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return false;
	for (;;) {
		n = syscall(SYS_getdents64, dir, buf, sizeof(buf));
		if (n <= 0) {
			ok = n == 0;
			break;
		}
		for (off = 0; off < n;) {
			/* struct linux_dirent64: ino, off, reclen, type, name
			 */
			unsigned short reclen;
			const char *name = buf + off + 19;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			off += reclen;
			fd = 0;
			if (name[0] < '0' || name[0] > '9')
				continue;
			for (; *name >= '0' && *name <= '9'; name++)
				fd = fd * 10 + (*name - '0');
			if (fd >= from && fd != dir)
				close(fd);
		}
	}
	close(dir);
	return ok;
}

bool
child_close_from(int from)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0)
		return true;
		/* ENOSYS (kernel before 5.9), or anything else: list them. */
#endif
	return close_listed(from);
}

/* Full root when the caller's process had euid 0 (setuid sudo/su). */
static bool
take_root(void)
{
	if (geteuid() != 0) {
		uid_t u = geteuid();
		gid_t g = getegid();

		/* No privilege to take; keep the caller out of the real ids
		   anyway. */
		return setresgid(g, g, g) == 0 && setresuid(u, u, u) == 0;
	}
	return setgroups(0, NULL) == 0 && setresgid(0, 0, 0) == 0 &&
	       setresuid(0, 0, 0) == 0;
}

/*
 * glibc's sigaction refuses the two real-time signals it keeps for
 * itself, but a disposition of "ignore" set on them before exec survives
 * it like any other: the raw system call resets them too.
 */
static void
reset_reserved(int sig)
{
#if defined(__x86_64__) && defined(SYS_rt_sigaction)
	/* The kernel's struct sigaction on x86_64. */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} ksa = {SIG_DFL, 0, NULL, 0};

	(void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
#else
	(void)sig;
#endif
}

static bool
reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		/* SIGKILL and SIGSTOP refuse, and need no reset. */
		if (sigaction(sig, &sa, NULL) != 0 && errno == EINVAL &&
		    sig != SIGKILL && sig != SIGSTOP)
			reset_reserved(sig);
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) == 0;
}

static bool
set_limit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};

	if (setrlimit(resource, &rl) == 0)
		return true;
	/*
	 * Raising a hard limit takes CAP_SYS_RESOURCE, which root in a
	 * container may lack: then the soft limit goes as high as the hard
	 * one allows.  What still fails fails closed: an allocation failure
	 * is reported as such, a CPU limit kills the helper.
	 */
	if (getrlimit(resource, &rl) != 0)
		return false;
	if (soft != RLIM_INFINITY &&
	    (rl.rlim_max == RLIM_INFINITY || soft < rl.rlim_max))
		rl.rlim_cur = soft;
	else
		rl.rlim_cur = rl.rlim_max;
	return setrlimit(resource, &rl) == 0;
}

static bool
reset_limits(void)
{
	return set_limit(RLIMIT_CORE, 0, 0) &&
	       set_limit(RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY) &&
	       set_limit(RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY) &&
	       set_limit(RLIMIT_DATA, RLIM_INFINITY, RLIM_INFINITY) &&
	       set_limit(RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY) &&
	       set_limit(RLIMIT_RSS, RLIM_INFINITY, RLIM_INFINITY) &&
	       set_limit(RLIMIT_NPROC, RLIM_INFINITY, RLIM_INFINITY) &&
	       set_limit(RLIMIT_STACK, CHILD_STACK, RLIM_INFINITY) &&
	       set_limit(RLIMIT_NOFILE, CHILD_NOFILE, CHILD_NOFILE);
}

/*
 * The caller's share of the machine: niceness, scheduling class, CPU
 * affinity, I/O priority, timer slack and cgroup.  A helper starved of
 * CPU or tasks times out, and a timeout reads as an outage: put them
 * back to the system's.  Best effort (a container may refuse some); the
 * helper itself refuses to call a timeout an outage when it was kept
 * from running (helper.c).
 */
static void
write_best_effort(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	n = write(fd, text, strlen(text));
	(void)n;
	close(fd);
}

static void
reset_share(void)
{
	struct sched_param none = {.sched_priority = 0};
	cpu_set_t all;
	int cpu;

	(void)setpriority(PRIO_PROCESS, 0, 0);
	(void)sched_setscheduler(0, SCHED_OTHER, &none);
	CPU_ZERO(&all);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all);
	(void)sched_setaffinity(0, sizeof(all), &all);
#ifdef SYS_ioprio_set
	/* IOPRIO_WHO_PROCESS, this process, class "none": the default. */
	(void)syscall(SYS_ioprio_set, 1, 0, 0);
#endif
	(void)prctl(PR_SET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
	/* Out of the caller's cgroup (and its CPU quota and task limit). */
	write_best_effort("/sys/fs/cgroup/cgroup.procs", "0");
	write_best_effort("/proc/self/oom_score_adj", "0");
}

void
child_exec(int exec_fd, char *const argv[])
{
	char *const envp[] = {NULL};

	if (!take_root() || !reset_signals() || !reset_limits())
		return;
	reset_share();
	umask(077);
	/* Not the caller's directory: nothing relative lands there. */
	if (chdir("/") != 0)
		return;
	if (exec_fd != CHILD_EXEC_FD) {
		if (dup2(exec_fd, CHILD_EXEC_FD) < 0)
			return;
	}
	if (!child_close_from(CHILD_EXEC_FD + 1))
		return;
	fexecve(CHILD_EXEC_FD, argv, envp);
}
