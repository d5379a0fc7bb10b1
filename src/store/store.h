/*
 * store.h - the local store: one root-owned directory, one file per user.
 *
 * What must survive a process (send counts, lockouts, codes of the local
 * provider, recovery-code hashes, sudo-style grace entries) lives here.
 * Every change happens under an fcntl lock on the user's lock file and is
 * written to a temporary file, fsync'd and renamed, so a process killed
 * at any instant leaves either the old or the new state, and concurrent
 * authentications of one user never lose an update.  A file that cannot
 * be parsed is never reset: the caller is told, and denies.
 *
 * Transactions are short: open (lock + read), change the record, commit
 * (write) or not, close (unlock).  Nothing waits for a user with the lock
 * held.
 *
 * Besides the users' records, one record for the host: the providers'
 * health (which providers failed with an outage, and when), read at
 * every login and changed only when a provider goes down or comes back.
 */
#ifndef BV_STORE_H
#define BV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../core/conf.h"
#include "../core/log.h"
#include "../core/result.h"

/* Most recovery codes a user may hold, send times kept, grace entries. */
#define STORE_MAX_RECOVERY 32
/* limits.max_sends_per_hour can be no more than the sends kept. */
#define STORE_MAX_SENDS CFG_MAX_SENDS_PER_HOUR
#define STORE_MAX_REMEMBER 16
/* Longest hash crypt(3) writes, plus room. */
#define STORE_HASH_MAX 128
/* Longest key of a grace entry ("service|tty|rhost|session"). */
#define STORE_KEY_MAX 256

struct store_remember {
	char key[STORE_KEY_MAX]; /* service, terminal, remote host */
	time_t until;
};

/* Live codes and proofs of the local provider: one per login in flight,
   so two logins of one user (two terminals) do not undo each other. */
#define STORE_MAX_CODES 4
#define STORE_MAX_TOKENS 8

struct store_code {
	char hash[STORE_HASH_MAX];
	time_t expires;
	long attempts; /* wrong tries while it lived */
};

struct store_token {
	char hash[STORE_HASH_MAX];
	time_t expires;
};

/* One user's record.  Hashes only: no code or token is ever stored. */
struct store_record {
	/* The local provider's codes in flight, oldest first. */
	struct store_code codes[STORE_MAX_CODES];
	size_t ncodes;
	/* The local provider's proofs, oldest first. */
	struct store_token tokens[STORE_MAX_TOKENS];
	size_t ntokens;
	/* Limits. */
	time_t sends[STORE_MAX_SENDS]; /* times of recent sends */
	size_t nsends;
	long failures;	     /* failed verifications in a row */
	time_t locked_until; /* 0 when not locked */
	/* Break-glass codes, single use. */
	char recovery[STORE_MAX_RECOVERY][STORE_HASH_MAX];
	size_t nrecovery;
	/* Grace windows (remember=SECONDS). */
	struct store_remember remember[STORE_MAX_REMEMBER];
	size_t nremember;
};

/*
 * The providers' health, host-wide (not per user): the providers that
 * failed with an outage (BV_UNAVAILABLE) and when.  The engine sends to
 * a provider marked down within health_retry seconds only after the
 * others; a success clears its mark.  The worst a health record can do
 * is change that order: one that cannot be read is "no marks".
 */
#define STORE_MAX_MARKS 16
/* Longest provider name in a mark, plus its NUL. */
#define STORE_PROVIDER_MAX 32

struct store_mark {
	char provider[STORE_PROVIDER_MAX];
	time_t since; /* the first failure of this outage */
	time_t last;  /* the latest failure: health_retry counts from it */
};

struct store_health {
	struct store_mark marks[STORE_MAX_MARKS];
	size_t nmarks;
};

struct store_backend;

/* One open record.  All zero: not open (safe to close). */
struct store_txn {
	const struct store_backend *backend;
	void *impl; /* the backend's own state */
	const struct bv_log *log;
	struct store_record rec; /* as read; change it, then commit */
};

/* The health record opened for a change.  All zero: not open. */
struct store_health_txn {
	const struct store_backend *backend;
	void *impl; /* the backend's own state */
	const struct bv_log *log;
	struct store_health rec; /* as read; change it, then commit */
};

/*
 * A place to keep records: open locks and reads user's record (a
 * missing one reads as empty; a damaged one is BV_CONFIG, never reset),
 * commit writes txn->rec atomically, close unlocks and frees impl.  A
 * second backend is one file with one of these, and a line in store.c.
 */
struct store_backend {
	const char *name;
	enum bv_result (*open)(const struct bv_config *cfg, const char *user,
			       struct store_txn *txn);
	enum bv_result (*commit)(struct store_txn *txn);
	void (*close)(struct store_txn *txn);
	/* The providers' health record, one per host.  Read without a
	   lock (read at every login: it must be cheap, and a reader never
	   waits for a writer); missing reads as no marks; damaged or
	   unreadable is logged naming where, reads as no marks and returns
	   BV_CONFIG. */
	enum bv_result (*health_read)(const struct bv_config *cfg,
				      const struct bv_log *log,
				      struct store_health *h);
	/* Lock it and read it (damaged reads as no marks, logged, and the
	   commit replaces it); the lock's wait is short: a change of
	   health is never worth holding a login up for. */
	enum bv_result (*health_open)(const struct bv_config *cfg,
				      struct store_health_txn *txn);
	/* Write txn->rec atomically. */
	enum bv_result (*health_commit)(struct store_health_txn *txn);
	/* Unlock and free impl. */
	void (*health_close)(struct store_health_txn *txn);
};

/* files.c: one file per user in cfg->store_dir. */
extern const struct store_backend store_files;

/*
 * Lock and read user's record from the configured backend (files: the
 * directory is created 0700 when missing and must be owned by root or
 * the effective uid and not group/other accessible).  Returns BV_OK,
 * BV_CONFIG (logged: bad directory, damaged record naming where, lock
 * timeout) or BV_NOMEM.  txn is always safe to pass to store_close.
 */
enum bv_result store_open(const struct bv_config *cfg, const char *user,
			  const struct bv_log *log, struct store_txn *txn);

/* Write txn->rec atomically. */
enum bv_result store_commit(struct store_txn *txn);

/* Unlock and wipe. */
void store_close(struct store_txn *txn);

/* Forget sends older than an hour, codes, proofs and grace entries that
   ended, and a lockout that ran out (with the failures that caused it). */
void store_prune(struct store_record *rec, time_t now);

/*
 * Text form of a record and back (the file's content).  Parsing is
 * strict: an unknown line, a bad number or an overlong field is an error.
 * store_format returns an allocated string (free with bv_free_secret);
 * store_parse returns false on any error.
 */
char *store_format(const struct store_record *rec);
bool store_parse(const char *text, size_t len, struct store_record *rec);

/*
 * The providers' health record from the configured backend (see
 * struct store_backend): store_health_read for a look (BV_OK, or
 * BV_CONFIG when it was there but could not be used, logged, *h then
 * empty: no marks), store_health_open / commit / close for a change.
 * txn is always safe to pass to store_health_close.
 */
enum bv_result store_health_read(const struct bv_config *cfg,
				 const struct bv_log *log,
				 struct store_health *h);
enum bv_result store_health_open(const struct bv_config *cfg,
				 const struct bv_log *log,
				 struct store_health_txn *txn);
enum bv_result store_health_commit(struct store_health_txn *txn);
void store_health_close(struct store_health_txn *txn);

/* health.c: the health record's text form and its marks */

/*
 * Text form of the health record.  Parsing is strict, as for a user's
 * record: an unknown line, a bad number or name, a provider marked twice
 * is an error.  store_health_format returns an allocated string (free
 * it) or NULL; store_health_parse returns false on any error, *h empty.
 */
char *store_health_format(const struct store_health *h);
bool store_health_parse(const char *text, size_t len, struct store_health *h);

/* provider's mark in h, or NULL. */
struct store_mark *store_health_find(struct store_health *h,
				     const char *provider);
/*
 * Mark provider down at now: a new mark (since = last = now; when all
 * STORE_MAX_MARKS are taken, the one whose last failure is oldest
 * gives way), or an existing one's last failure moved to now.  False
 * when provider is no name a mark can hold or now no time it can.
 */
bool store_health_mark(struct store_health *h, const char *provider,
		       time_t now);
/* Remove provider's mark; true when there was one. */
bool store_health_clear(struct store_health *h, const char *provider);

/*
 * hash.c, in the helper and the CLI only (never the module): recovery
 * codes hashed by crypt(3) with a fresh salt of the system's preferred
 * slow method (yescrypt on Debian).  store_hash writes into out
 * (STORE_HASH_MAX); store_hash_matches compares in constant time.
 */
enum bv_result store_hash(const char *secret, char *out);
bool store_hash_matches(const char *secret, const char *hash);

#endif /* BV_STORE_H */
