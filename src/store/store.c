/*
 * store.c - the store's interface: a user's record opened (locked and
 * read) by the configured backend, changed, committed, closed; and what
 * every backend shares (pruning, hashing).  The backends are listed
 * here, one line each.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "../core/wipe.h"

/* NULL-terminated; the first is the default. */
static const struct store_backend *const backends[] = {
    &store_files, /* one file per user in store.dir */
    NULL,
};

enum bv_result
store_open(const struct bv_config *cfg, const char *user,
	   const struct bv_log *log, struct store_txn *txn)
{
	memset(txn, 0, sizeof(*txn));
	txn->log = log;
	txn->backend = backends[0];
	return txn->backend->open(cfg, user, txn);
}

enum bv_result
store_commit(struct store_txn *txn)
{
	if (txn->backend == NULL || txn->impl == NULL)
		return BV_CONFIG;
	return txn->backend->commit(txn);
}

void
store_close(struct store_txn *txn)
{
	if (txn->backend != NULL)
		txn->backend->close(txn);
	explicit_bzero(&txn->rec, sizeof(txn->rec));
	txn->backend = NULL;
	txn->impl = NULL;
}

enum bv_result
store_health_read(const struct bv_config *cfg, const struct bv_log *log,
		  struct store_health *h)
{
	return backends[0]->health_read(cfg, log, h);
}

enum bv_result
store_health_open(const struct bv_config *cfg, const struct bv_log *log,
		  struct store_health_txn *txn)
{
	memset(txn, 0, sizeof(*txn));
	txn->log = log;
	txn->backend = backends[0];
	return txn->backend->health_open(cfg, txn);
}

enum bv_result
store_health_commit(struct store_health_txn *txn)
{
	if (txn->backend == NULL || txn->impl == NULL)
		return BV_CONFIG;
	return txn->backend->health_commit(txn);
}

void
store_health_close(struct store_health_txn *txn)
{
	if (txn->backend != NULL)
		txn->backend->health_close(txn);
	memset(&txn->rec, 0, sizeof(txn->rec));
	txn->backend = NULL;
	txn->impl = NULL;
}

void
store_prune(struct store_record *rec, time_t now)
{
	size_t i, n = 0;

	for (i = 0; i < rec->nsends; i++)
		if (rec->sends[i] > now - 3600)
			rec->sends[n++] = rec->sends[i];
	rec->nsends = n;
	for (i = 0, n = 0; i < rec->nremember; i++)
		if (rec->remember[i].until > now)
			rec->remember[n++] = rec->remember[i];
	rec->nremember = n;
	for (i = 0, n = 0; i < rec->ncodes; i++)
		if (rec->codes[i].expires > now)
			rec->codes[n++] = rec->codes[i];
	rec->ncodes = n;
	for (i = 0, n = 0; i < rec->ntokens; i++)
		if (rec->tokens[i].expires > now)
			rec->tokens[n++] = rec->tokens[i];
	rec->ntokens = n;
	/* A lockout that ran out starts the count afresh (as pam_faillock). */
	if (rec->locked_until != 0 && rec->locked_until <= now) {
		rec->locked_until = 0;
		rec->failures = 0;
	}
}
