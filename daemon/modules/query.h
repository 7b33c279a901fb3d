/* query.h — what the core calls in the query module (modules.c). */
#ifndef PD_QUERY_H
#define PD_QUERY_H

#include "daemon.h"

/* At start: gives queries stored before they were a declared record kind
 * their index entries (a bounded step; *more while some are left). */
int query_open(struct cmd_ctx *ctx, bool *more);
/* Builds and checks the query rules from the options (at start). */
int query_setup(const struct config *cfg);
/* Whether an investigation of waybill number found that the parcel signed
 * for never reached the receiver (outcome lost or misdelivered): its loss
 * may be claimed although the waybill shows delivered. */
bool query_found_not_received(struct cmd_ctx *ctx, const char *number);
/* The timer of query id: marks it overdue and counts it late. */
int query_on_due(struct cmd_ctx *ctx, uint64_t id);

#endif
