/* waybill.h — what other modules use of the waybill store. */
#ifndef PD_WAYBILL_H
#define PD_WAYBILL_H

#include "daemon.h"

/* Loads a waybill; on failure replies 404 or a store error and returns the
 * LMDB code. */
int waybill_load(struct cmd_ctx *ctx, const char *number, struct pd_value **wb);
/* The tracking history in order, as shown in replies: its latest
 * waybill_events_page_max events (WAYBILL GET pages further back). */
int waybill_events(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb,
		   struct pd_value **out);
/* Checks id_type / id_last4 arguments (both or neither; 4 characters, never
 * the whole ID number). Replies 400 and returns -1 when wrong. */
int check_id_args(struct cmd_ctx *ctx);
/* Identifies the sender or the receiver (party "sender" / "receiver") of a
 * waybill as address changes and claims do: the phone on the waybill, or an
 * ID check (id_type and id_last4 arguments, checked by check_id_args) of
 * the person named on it. Returns how ("phone", "id_check"), or NULL. */
const char *waybill_identify(struct cmd_ctx *ctx, const struct pd_value *wb, const char *party,
			     const char *name, const char *phone);

#endif
