/*
 * fileio.h - whole-file reads and writes over descriptors, retrying on
 * EINTR and short transfers, shared by the config loader, the local store
 * and the CLI's phones-file editor.
 */
#ifndef BV_FILEIO_H
#define BV_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Read exactly size bytes from fd into a new buffer with a NUL after them
 * (size + 1 bytes: free with bv_free_secret_len(buf, size + 1) when it may
 * hold a secret).  False when out of memory, on a read error, or when the
 * file ends early (it changed under us); *out is then NULL.
 */
bool bv_read_exact(int fd, size_t size, char **out);

/* Write all of text; false on any error. */
bool bv_write_all(int fd, const char *text, size_t len);

#endif /* BV_FILEIO_H */
