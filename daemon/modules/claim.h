/* claim.h — claims, their approval, payment and recovery (CLAIM ...,
 * RECOVERY ...). The money rules are the pure engine in compensation.h. */
#ifndef PD_CLAIM_H
#define PD_CLAIM_H

#include "daemon.h"

/* Builds the engine's config from the daemon's options and checks it,
 * once at start; 0 or -1 (message on stderr). */
int claim_setup(const struct config *cfg);

/* A deadline of claim id has come (called by SWEEP in the writer). */
int claim_on_due(struct cmd_ctx *ctx, uint64_t id);
/* modules.c: fills the open_level index of older stores; the metrics
 * page's gauges (open by level, overdue). */
int claim_open(struct cmd_ctx *ctx, bool *more);
int claim_gauges(MDB_txn *txn, struct store *st, int64_t now, struct module_gauges *g);

/* The ids of an account's open claims (not refused or closed), pushed on
 * ids. 0 or an LMDB code (no reply). */
int claim_open_of_customer(struct cmd_ctx *ctx, const char *account, struct pd_value *ids);

/* Loads claim id as stored, without a reply: 0, MDB_NOTFOUND or an LMDB
 * code. */
int claim_get(struct cmd_ctx *ctx, int64_t id, struct pd_value **out);

#endif
