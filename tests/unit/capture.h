/*
 * capture.h - what core code logs without PAM goes to stderr: the unit
 * tests send stderr to a file around a call and read it back.
 */
#ifndef BV_TEST_CAPTURE_H
#define BV_TEST_CAPTURE_H

/* Send stderr to path (truncated); returns the saved descriptor. */
int capture_stderr(const char *path);

/* Back to the saved stderr (closing saved). */
void capture_restore(int saved);

/* The whole of path as a NUL-terminated string (free it). */
char *capture_read(const char *path);

#endif /* BV_TEST_CAPTURE_H */
