/*
 * proto.h - what the module and the helper say to each other.
 *
 * One socket between them.  A frame is a 4-byte big-endian length, then
 * that many bytes: one type byte, then fields, each a 4-byte big-endian
 * length and its bytes (text, no NUL).  Frames are capped, field counts
 * are capped, and anything else is a broken peer.  Buffers that held a
 * frame are wiped: codes, tokens and the destination cross here.
 *
 * module -> helper                     helper -> module
 *   HELLO version user who debug args…   LOG prio text (any number)
 *   SEND provider channel dest           REPLY result status code message
 *   CHECK provider code                        help_url detail action
 *   VALIDATE provider dest token consume       attempts_left token expires
 *   MATCH code hash  (a recovery code against its crypt(3) hash:
 *                     REPLY result OK when it matches, WRONG_CODE not)
 * Every request gets exactly one REPLY; the helper exits at end of file.
 */
#ifndef BV_PROTO_H
#define BV_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/result.h"

/* Changes whenever a message's meaning changes. */
#define PROTO_VERSION "baxverify-helper 2"
#define PROTO_MAX_FRAME (64 * 1024)
#define PROTO_MAX_FIELDS 48

enum proto_type {
	PROTO_HELLO = 'H',
	PROTO_SEND = 'S',
	PROTO_CHECK = 'C',
	PROTO_VALIDATE = 'V',
	PROTO_MATCH = 'M',
	PROTO_LOG = 'L',
	PROTO_REPLY = 'R'
};

/* The REPLY's fields, in order. */
enum proto_reply_field {
	REPLY_RESULT,
	REPLY_STATUS,
	REPLY_CODE,
	REPLY_MESSAGE,
	REPLY_HELP_URL,
	REPLY_DETAIL,
	REPLY_ACTION,
	REPLY_ATTEMPTS_LEFT,
	REPLY_TOKEN,
	REPLY_EXPIRES,
	REPLY_FIELDS
};

struct proto_msg {
	int type;
	size_t nfields;
	char *field[PROTO_MAX_FIELDS]; /* NUL-terminated; wiped on clear */
};

/* Start an empty message of a type. */
void proto_init(struct proto_msg *m, int type);

/* Append a copy of s (NULL sends ""), or a number.  False when out of
   memory or out of room (the message is then unusable). */
bool proto_add(struct proto_msg *m, const char *s);
bool proto_add_long(struct proto_msg *m, long v);

/* Field i, or "" when the peer sent fewer. */
const char *proto_get(const struct proto_msg *m, size_t i);

/* Field i as a number; false when absent or not a whole number. */
bool proto_get_long(const struct proto_msg *m, size_t i, long *v);

/* Wipe and free the fields. */
void proto_clear(struct proto_msg *m);

/*
 * Send one frame whole.  BV_OK, BV_NOMEM, or BV_INTERNAL when the peer is
 * gone or the frame would be too large (why says which).
 */
enum bv_result proto_write(int fd, const struct proto_msg *m, const char **why);

/*
 * Read one frame, waiting until deadline (proto_now_ms() clock; -1: no
 * deadline).  BV_OK, BV_NOMEM, or BV_INTERNAL for end of file, a
 * timeout, a read error or a malformed frame (why says which).
 */
enum bv_result proto_read(int fd, long deadline, struct proto_msg *m,
			  const char **why);

/* Milliseconds on the monotonic clock. */
long proto_now_ms(void);

#endif /* BV_PROTO_H */
