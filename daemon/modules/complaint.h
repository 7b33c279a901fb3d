/* complaint.h — the complaint desk (COMPLAINT ...): first-contact
 * ownership, clocks, escalation, feedback, statistics. The rules themselves
 * are pure functions in complaint_rules.h; this module stores complaints,
 * keeps their indexes, counters and timeline in the same transaction, and
 * applies the rules. */
#ifndef PD_COMPLAINT_H
#define PD_COMPLAINT_H

#include "complaint_rules.h"
#include "daemon.h"

/* Builds the rules' config from the daemon's options and checks it, once
 * at start; 0 or -1 (message on stderr naming the option). */
int complaint_setup(const struct config *cfg);

/* A due time of complaint id has come (called by SWEEP in the writer):
 * marks the acknowledge clock breached, or escalates on the resolve clock.
 * Returns 0 or an LMDB error. */
int complaint_on_due(struct cmd_ctx *ctx, uint64_t id);
/* modules.c: fills the open_level index of older stores; the metrics
 * page's gauges (open by level, overdue). */
int complaint_open(struct cmd_ctx *ctx, bool *more);
int complaint_gauges(MDB_txn *txn, struct store *st, int64_t now, struct module_gauges *g);

/* Adds to `by` (category -> count) the complaints opened on the days
 * first_day to last_day (YYYYMMDD), from the statistics counters. 0 or an
 * LMDB code. */
int complaint_categories_of_days(struct cmd_ctx *ctx, int first_day, int last_day, struct pd_value *by);

/* The ids of an account's open complaints (not closed), pushed on ids.
 * 0 or an LMDB code (no reply). */
int complaint_open_of_customer(struct cmd_ctx *ctx, const char *account, struct pd_value *ids);

/* Links claim `claim` to complaint id, which must be about `waybill`: the
 * complaint lists the claim and its timeline says so. 0, or nonzero with
 * the reply set (404, 422, store error). */
int complaint_link_claim(struct cmd_ctx *ctx, int64_t id, const char *waybill, int64_t claim);

/* Loads complaint id as stored, without a reply: 0, MDB_NOTFOUND or an LMDB
 * code. */
int complaint_get(struct cmd_ctx *ctx, int64_t id, struct pd_value **out);

#endif
