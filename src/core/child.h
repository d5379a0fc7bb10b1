/*
 * child.h - starting a program from a process the caller controls.
 *
 * Under sudo and su the module runs in a setuid process whose real uid,
 * environment, signal dispositions and mask, resource limits and umask
 * are the caller's.  A program started from there (the helper, the
 * delivery command) must inherit none of it: it takes full root so the
 * caller can neither signal, ptrace nor read it, gets default signals,
 * sane limits, umask 077, only the descriptors it is given and an
 * environment built from nothing.  And it is exec'd from a descriptor
 * whose owner and mode were checked, so a path swapped after the check
 * (a symlink, a rename) is never what runs.
 */
#ifndef BV_CHILD_H
#define BV_CHILD_H

#include <stdbool.h>
#include <stddef.h>

/* The descriptor the checked program is exec'd from, in the child. */
#define CHILD_EXEC_FD 3

/*
 * Open path to exec it later: absolute, not a symlink, a regular file
 * executable by its owner, owned by root (or the effective uid) and not
 * writable by group or others.  The descriptor is not close-on-exec (a
 * script's interpreter opens it as /dev/fd/N).  Returns it, or -1 with a
 * short reason (naming no secret) in why.
 */
int child_open_trusted(const char *path, char *why, size_t whysz);

/*
 * In the forked child, between fork and exec (async-signal-safe calls
 * only): take full root when the effective uid is 0, reset every signal
 * and the mask, raise the resource limits to sane values (no core
 * dumps), set umask 077, go to "/", move exec_fd to CHILD_EXEC_FD, close every
 * descriptor above it, and exec it with argv and an empty environment.
 * Descriptors 0-2 must be set up by the caller.  Returns only on
 * failure; the caller then _exits.
 */
void child_exec(int exec_fd, char *const argv[]);

/*
 * Close every descriptor >= from.  close_range(2) where the kernel has
 * it, else every entry of /proc/self/fd.  Returns false when either could
 * not be done (a descriptor may still be open: do not exec).
 */
bool child_close_from(int from);

#endif /* BV_CHILD_H */
