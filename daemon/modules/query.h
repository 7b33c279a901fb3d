/* query.h — what the core calls in the query module (modules.c). */
#ifndef PD_QUERY_H
#define PD_QUERY_H

#include "daemon.h"

/* At start: gives queries stored before they were a declared record kind
 * their index entries (a bounded step; *more while some are left). */
int query_open(struct cmd_ctx *ctx, bool *more);

#endif
