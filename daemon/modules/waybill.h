/* waybill.h — what other modules use of the waybill store. */
#ifndef PD_WAYBILL_H
#define PD_WAYBILL_H

#include "daemon.h"

/* Loads a waybill; on failure replies 404 or a store error and returns the
 * LMDB code. */
int waybill_load(struct cmd_ctx *ctx, const char *number, struct pd_value **wb);
/* The same without a reply: 0, MDB_NOTFOUND or an LMDB code. */
int waybill_get(struct cmd_ctx *ctx, const char *number, struct pd_value **wb);
/* A waybill's value in `waybills` (docs/design.md, "The store"):
 * WAYBILL_VALUE_TAG_RECENT, be32 each: view length, recent length,
 * spilled, recent count; then the packed view (waybill.c; empty: none),
 * the waybill's newest events (raw, as `events` holds them, packed one
 * after another: seq spilled+1 .. spilled+count; seq 1 .. spilled are in
 * `events`), then the record (msgpack). The view and the newest events are
 * kept under the record's key so that a change rewrites one B-tree path,
 * not two or three (docs/performance.md, rounds 6 and 9).
 * Written before: WAYBILL_VALUE_TAG, be32 view length, the view, the
 * record (round 6: no recent events, every event in `events`); before that
 * the record alone (legacy: its view, if any, in `wb_views`, read from
 * there and removed when the waybill is next written). 0xc1 is never a
 * msgpack type byte, 0xc0 is nil: neither starts a record (a map). */
#define WAYBILL_VALUE_TAG 0xc1
#define WAYBILL_VALUE_HEAD 5
#define WAYBILL_VALUE_TAG_RECENT 0xc0
#define WAYBILL_VALUE_HEAD_RECENT 17
/* At most this many of a waybill's newest events are kept in its value
 * (docs/performance.md, round 9: the choice). */
#define WAYBILL_RECENT_MAX 24
struct waybill_value {
	MDB_val view;      /* the packed view (size 0: none) */
	MDB_val recent;    /* the newest events, packed one after another */
	MDB_val rec;       /* the record */
	uint32_t spilled;  /* events 1 .. spilled are in `events` */
	uint32_t recent_n; /* events spilled+1 .. spilled+recent_n are in recent */
	bool has_recent;   /* false (written before): every event is in `events` */
	bool legacy;       /* the record alone: its view is in `wb_views` */
};
/* Splits a stored value: 0 or MDB_CORRUPTED (lengths that pass its end). */
int waybill_value_split(const MDB_val *v, struct waybill_value *out);
/* Writes the head of a value (WAYBILL_VALUE_HEAD_RECENT bytes) for the
 * lengths and counts in wv. */
void waybill_value_head(unsigned char *h, const struct waybill_value *wv);
/* Steps *p over one packed event before end; ev is its bytes. 0, or
 * MDB_CORRUPTED when none is whole there. */
int waybill_recent_next(const unsigned char **p, const unsigned char *end, MDB_val *ev);
/* How many tracking events the store holds, in `events` and in the
 * waybills' values (STATS `events`): 0 or an LMDB code. */
int waybill_events_total(MDB_txn *txn, struct store *st, uint64_t *out);
/* The record of a stored value, unpacked: 0 or MDB_CORRUPTED. */
int waybill_value_record(struct pd_arena *a, const MDB_val *v, struct pd_value **wb);
/* The same from a value already split. */
int waybill_split_record(struct pd_arena *a, const struct waybill_value *wv, struct pd_value **wb);
/* A complaint about a waybill was opened: marks it complained (and, for a
 * misdelivery after delivery, inaccurate), counting each once in the
 * monthly volume. An unknown number is no error. 0 or an LMDB code (no
 * reply). */
int waybill_mark_complained(struct cmd_ctx *ctx, const char *number, bool misdelivery);
/* An investigation found a delivered waybill misdelivered (given to the
 * wrong person or address): marks it inaccurate, counted once in the
 * monthly volume as a misdelivery complaint does. An unknown number, or a
 * waybill not delivered, is no error. 0 or an LMDB code (no reply). */
int waybill_mark_misdelivered(struct cmd_ctx *ctx, const char *number);
/* Calls visit() on each waybill whose sender or receiver phone is `phone`
 * (the phone index). 0 or an LMDB code. */
int waybill_walk_phone(struct cmd_ctx *ctx, const char *phone,
		       void (*visit)(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb, void *ud),
		       void *ud);
/* Flags a loaded waybill for priority delivery (an urgent query), with its
 * timeline entry; nothing when it already is. 0 or an LMDB code (no
 * reply). */
int waybill_mark_priority(struct cmd_ctx *ctx, const char *number, struct pd_value *wb);
/* What a complaint shows of its waybill: status, damaged, the promise in
 * force and whether the parcel is late against it, events. 0 or an LMDB
 * code (MDB_NOTFOUND for an unknown number; no reply). */
int waybill_brief(struct cmd_ctx *ctx, const char *number, struct pd_value **out);
/* Is the parcel late (waybill_lateness() against the promise in force, as
 * of now)? Every module judges lateness this way. 0 or an LMDB code. */
struct waybill_lateness;
int waybill_late(struct cmd_ctx *ctx, const struct pd_value *wb, struct waybill_lateness *out);
/* The tracking history in order, as shown in replies: its latest
 * waybill_events_page_max events (WAYBILL GET pages further back). */
int waybill_events(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb,
		   struct pd_value **out);
/* Checks id_type / id_last4 arguments (both or neither; 4 characters, never
 * the whole ID number). Replies 400 and returns PD_EREPLIED when wrong. */
int check_id_args(struct cmd_ctx *ctx);
/* Identifies the sender or the receiver (party "sender" / "receiver") of a
 * waybill as address changes and claims do: the phone on the waybill, or an
 * ID check (id_type and id_last4 arguments, checked by check_id_args) of
 * the person named on it. Returns how ("phone", "id_check"), or NULL. */
const char *waybill_identify(struct cmd_ctx *ctx, const struct pd_value *wb, const char *party,
			     const char *name, const char *phone);

/* Walks the waybills listed under an idx_wb key ("customer=ACCOUNT",
 * "day=YYYYMMDD", "depot=CODE") newest number first, below `before` (NULL:
 * from the newest), calling keep() on each until limit were kept: keep()
 * returns 1 to count the waybill, 0 to skip it, or an LMDB code to stop.
 * *kept: how many were kept. 0 or an LMDB code. */
typedef int (*waybill_visit)(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb, void *ud);
int waybill_walk(struct cmd_ctx *ctx, const char *key, const char *before, int64_t limit, waybill_visit keep,
		 void *ud, int64_t *kept);

/* Adds a waybill's entries to the WAYBILL LIST index (idx_wb): the day it
 * was registered, its depots, its customer. 0 or an LMDB code. */
int waybill_list_index(MDB_txn *txn, struct store *st, const char *number, const struct pd_value *wb);
/* The module's open step: builds that index for a store written before it
 * (in one transaction; the daemon grows the map and runs it again when
 * full). */
int waybill_list_open(struct cmd_ctx *ctx, bool *more);

#endif
