/* volume.h — monthly counters per customer, depot and the whole network,
 * kept in the same write transaction as the waybill, scan, complaint or
 * claim that changes them, so reports and KPIs never scan waybills.
 *
 * A counter is keyed "SCOPE|ID|YYYYMM|metric": scope C (customer account),
 * D (depot) or N (network, ID "all"). Waybill metrics count by the month
 * the waybill was CREATED (a cohort), so a KPI's numerator and denominator
 * speak of the same waybills even when a delivery falls next month:
 *
 *   waybills, revenue_fen, declared_fen          at WAYBILL CREATE
 *   delivered, delivered_on_time, inaccurate     at the delivered scan (on time
 *                                                against the promise in force;
 *                                                inaccurate: not to the consignee,
 *                                                or left without consent) and a
 *                                                misdelivery complaint
 *   damaged, lost                                the first damaged / lost scan
 *   complained                                   the waybill's first complaint
 *   complaints, complaints_late                  complaints by opening month
 *                                                (late = ever overdue)
 *   complaints.<category>                        the same by category
 *   claims, claims_paid_fen                      claims filed / paid
 *   queries_external, queries_external_late      external queries, and those late
 *   investigations, investigations_late          (unanswered past due: counted at
 *                                                the due instant, query.c)
 *
 * Customer counters use the waybill's account; depot counters the origin
 * (accepting) depot for volume and the destination depot for delivery
 * metrics (delivered*, inaccurate). */
#ifndef PD_VOLUME_H
#define PD_VOLUME_H

#include "daemon.h"

/* YYYYMM of a UTC time in the depot's zone. */
int volume_month(int64_t utc);

/* Adds delta to `metric` for the waybill's customer (if any), the given
 * depot, and the network, in the month of the waybill's creation. */
int volume_count(struct cmd_ctx *ctx, const struct pd_value *wb,
		 const char *depot, const char *metric, int64_t delta);

/* The same for a given month, customer (may be NULL) and depot: for
 * counters that follow a complaint's opening month. */
int volume_count_month(struct cmd_ctx *ctx, const char *customer,
		       const char *depot, int month, const char *metric,
		       int64_t delta);

/* Notes an incident of the month for the monthly report: "complaint:ID"
 * (first escalation) or "claim:ID" (a large payment). */
int volume_incident(struct cmd_ctx *ctx, int month, const char *what);
/* The incidents noted in `month`, pushed on whats as strings. 0 or an
 * LMDB code. */
int volume_incidents(struct cmd_ctx *ctx, int month, struct pd_value *whats);

/* A counter's key, what snprintf(key, VOLUME_KEY_MAX, "%s|%s|%06d|%s", ...)
 * writes (cut to fit), without printf's cost: a scan writes several.
 * scope, id and metric are not NULL (snprintf printed "(null)"). Returns
 * its length. */
#define VOLUME_KEY_MAX 160
size_t volume_key(char key[VOLUME_KEY_MAX], const char *scope, const char *id, int month, const char *metric);

/* Reads one counter (0 when absent). scope is "C", "D" or "N". */
int64_t volume_get(MDB_txn *txn, struct store *st, const char *scope,
		   const char *id, int month, const char *metric);

#endif
