/* store.h — the LMDB environment: named databases, keys, records.
 *
 * Records are msgpack maps (pd_value). Integer keys are big-endian so LMDB's
 * byte order is numeric order. Every function returns 0 or an LMDB error
 * code (MDB_NOTFOUND when a record is absent); MDB_MAP_FULL tells the writer
 * to grow the map and run the group again. */
#ifndef PD_STORE_H
#define PD_STORE_H

#include <endian.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "changeset.h"
#include "value.h"

/* The store's layout, `schema_version` in `meta`. 2: a waybill's value
 * may hold its newest events (0xc0), which a build of 1 would read as an
 * empty record. A store of an older version this build reads is marked
 * with this one's when it opens, so an older build refuses it after. */
#define STORE_SCHEMA_VERSION 2
#define STORE_SCHEMA_OLDEST 1

/* The schema version in meta (a database handle: a snapshot's too):
 * absent, STORE_SCHEMA_OLDEST; not 4 bytes, 0. 0 or an LMDB error. */
int store_schema_get(MDB_txn *txn, MDB_dbi meta, uint32_t *have);

/* One daemon per data directory: a second one would run its own writer
 * and timers on the same files. An flock on DIR/lock (created with DIR),
 * released by the kernel when the holder exits however it ends; the file
 * holds the holder's pid for the refusal message. Returns the descriptor
 * to keep open, or -1 after a message. */
int store_lock_dir(const char *dir);

/* The errors of a full disk, quota or file size limit (and EIO, LMDB's
 * code for a short write): the store is full, answered 503 like a map that
 * cannot grow. */
bool store_full_errno(int rc);

struct store {
	MDB_env *env;
	/* one database per kind of object, plus indexes (DUPSORT) */
	MDB_dbi meta;               /* schema_version, sequences */
	MDB_dbi users;              /* name -> user */
	MDB_dbi waybills;           /* number -> packed view and waybill (waybill.h) */
	MDB_dbi events;             /* number \0 be32 seq -> event */
	MDB_dbi wb_views;           /* number -> packed view, of stores written before
				       it moved into `waybills` (read, then removed) */
	MDB_dbi idx_phone;          /* phone -> number (sender and receiver) */
	MDB_dbi idx_waybill;        /* "idx_wb": "day=YYYYMMDD" | "depot=CODE" | "customer=ACCOUNT" -> number (waybill_list.c) */
	MDB_dbi queries;            /* be64 id -> query */
	MDB_dbi query_index;        /* "idx_query": "field=value" -> be64 id (DUPSORT): every list filter */
	MDB_dbi query_due;          /* "idx_query_open": be64 due -> be64 id: queries waiting, by due time */
	/* The raw indexes of stores written before queries were a declared
	 * kind (number, user, be32 day -> be64 id): read once at start to
	 * build query_index (query.c), never written since. */
	MDB_dbi idx_query_waybill, idx_query_user, idx_query_day;
	MDB_dbi approvals;          /* be64 id -> search approval */
	MDB_dbi idem;               /* user \0 token -> logical reply */
	MDB_dbi audit;              /* kind:id \0 be64 seq -> change record */
	MDB_dbi timers;             /* be64 due -> "kind:id" (DUPSORT): one loop timer serves all */
	MDB_dbi complaints;         /* be64 id -> complaint */
	/* Members are spelled out; the LMDB names (in store.c) stay short
	 * ("idx_c", "c_stats", ...) so existing stores open unchanged. */
	MDB_dbi complaint_index;    /* "idx_c": "field=value" -> be64 id (DUPSORT): every list filter */
	MDB_dbi complaint_due;      /* "idx_c_due": be64 due -> be64 id: open complaints by their next due time */
	MDB_dbi complaint_stats;    /* "c_stats": "YYYYMMDD|dim|value" -> be64 count (by opening day) */
	MDB_dbi claims;             /* be64 id -> claim (documents, assessments inside) */
	MDB_dbi recoveries;         /* be64 id -> recovery item */
	MDB_dbi claim_index;        /* "idx_cl": "field=value" -> be64 id: claim and recovery lists */
	MDB_dbi claim_due;          /* "idx_cl_due": be64 due -> be64 id: claims by their next deadline */
	MDB_dbi claim_totals;       /* "cl_totals": "YYYYMM|dim|value" -> be64 fen paid */
	MDB_dbi calendars;          /* name -> calendar; \x01 name \0 be64 version -> that version; "depot=CODE" -> {calendar} (calendar.h) */
	MDB_dbi complaint_durations; /* "c_durations": "YYYYMMDD|ack" or "|resolve" -> be64 secs be64 id (DUPSORT) */
	MDB_dbi volume;             /* "C|acct|YYYYMM|metric" -> be64 (volume.h) */
	MDB_dbi incidents;          /* "YYYYMM" -> "complaint:ID" | "claim:ID" (DUPSORT) */
	MDB_dbi customers;          /* be64 id -> customer account (customer.h) */
	MDB_dbi idx_cust;           /* "field=value" -> be64 id (DUPSORT): account, name, phone, tier, depot, manager */
	MDB_dbi warnings;           /* be64 id -> warning customer */
	MDB_dbi idx_warn;           /* "field=value" -> be64 id (DUPSORT): customer, type, owner, depot, status, source */
	MDB_dbi monthend_runs;      /* "YYYYMM" -> month-end run and its progress */
	MDB_dbi contacts;           /* be64 id -> contact */
	MDB_dbi contact_index;      /* "field=value" -> be64 id (DUPSORT): customer, owner, depot, kind, status */
	MDB_dbi contact_due;        /* be64 planned time -> be64 id (DUPSORT): contacts not done */
	MDB_dbi contact_owner_due;  /* owner -> be64 planned time be64 id (DUPSORT): the same per owner (agenda) */
	MDB_dbi needs;              /* be64 id -> a customer's need (need.c) */
	MDB_dbi need_index;         /* "field=value" -> be64 id (DUPSORT): customer, owner, depot, route, status */
	MDB_dbi need_open;          /* be64 created_at -> be64 id (DUPSORT): needs not confirmed, by age */
	MDB_dbi rectify_plans;      /* be64 id -> rectification plan (rectify.c) */
	MDB_dbi rectify_index;      /* "field=value" -> be64 id (DUPSORT): customer, depot, owner, status, month, source */
	MDB_dbi rectify_due;        /* be64 due time -> be64 id (DUPSORT): open plans */
	MDB_dbi warning_due;        /* be64 first-action due time -> be64 id (DUPSORT): warnings awaiting their first action */
	MDB_dbi surveys;            /* be64 id -> satisfaction survey (survey.c) */
	MDB_dbi survey_index;       /* "field=value" -> be64 id (DUPSORT): customer, depot, status, pending */
	MDB_dbi survey_due;         /* be64 due time -> be64 id (DUPSORT): surveys due, not answered */
	MDB_dbi winbacks;           /* be64 id -> win-back prospect (winback.c) */
	MDB_dbi winback_index;      /* "field=value" -> be64 id (DUPSORT): customer, owner, status, open */
	MDB_dbi explanations;       /* "account|YYYYMM" -> why the month's revenue fell (no warning) */
	MDB_dbi report_texts;       /* "SCOPE|id|YYYYMM|section" -> staff text of a monthly report */
	/* Readers take it shared around a transaction; the writer takes it
	 * exclusive to grow the map (mdb_env_set_mapsize needs no live txn). */
	pthread_rwlock_t resize_lock;
	size_t map_size;
	/* bumped (under resize_lock, exclusive) each time the map moves */
	unsigned map_gen;
	/* the map takes no readahead (MADV_RANDOM) while the store is read in;
	 * under resize_lock, exclusive to change, so that a growth's new map
	 * gets the same advice */
	bool map_no_readahead;
	/* the map's size at which a growth ahead (store_grow_ahead) could
	 * not map: not tried again until the map has another size */
	_Atomic size_t grow_ahead_failed;
	/* growths of the map by this process, and those of them ahead of
	 * need (STATS store_map_grows, store_map_grows_ahead); counted under
	 * resize_lock, exclusive, as the map changes: a STATS that sees the
	 * new size sees the count */
	_Atomic uint64_t grows, grows_ahead;
	struct store_prefault *prefault; /* the thread mapping the store's pages, or NULL */
};

int store_open(struct store *st, const char *dir, size_t map_size);
/* The same with LMDB flags added (MDB_NOSYNC under the write-ahead log),
 * and pin (not NULL): a read transaction on the snapshot opened, begun
 * before the store's own start-up commit (the log's, wal_open). With
 * read_in (store_drop_cached() dropped), page faults on the map read no
 * more than their page (MADV_RANDOM) until the prefault's pass has read
 * the store in, its end turning readahead on again: the start-up's reads
 * and the log's replay then bring in no large folios, and mark no page
 * that would set off more readahead. */
int store_open_env(struct store *st, const char *dir, size_t map_size, unsigned env_flags, MDB_txn **pin,
		   bool read_in);
void store_close(struct store *st);
/* Doubles the map after a write found it full (caller holds no
 * transaction); full is the map's size that write ran with
 * (store_write_begin()'s map). A map no longer that size, grown by another
 * thread since, is not grown again: 0, and the write runs again (two
 * threads that found it full double it once). ENOMEM when a map that large
 * cannot be made (the address space): the map stays as it was, and a
 * later call tries again. */
int store_grow(struct store *st, size_t full);
/* After a commit (caller holds no transaction): doubles the map once the
 * store fills more than three quarters of it, but only if the resize lock
 * is free at once. store_grow() waits for every shared holder, and
 * BACKUP's copy and replication's snapshot hold it for the whole copy
 * (seconds to minutes): grown ahead, the map has room for the store to
 * grow by a third during a copy. (Not at half: a restarted store's map is
 * twice its file.) True when it grew the map. */
bool store_grow_ahead(struct store *st);
/* Another process (an importer, mdb tools) grew the map: take its size.
 * Answers MDB_MAP_RESIZED from a txn begin. Caller holds no transaction
 * and not the resize lock. ENOMEM as store_grow(). */
int store_adopt_map(struct store *st);
/* Begins a write transaction (mdb_txn_begin with no parent), taking a map
 * another process grew (store_adopt_map) when LMDB says so. LMDB reads the
 * meta pages in the map before the transaction counts as live (only a live
 * one makes a growth wait), and more than one thread writes (the writer,
 * replication's applying, a fenced primary's last groups): so under the
 * resize lock, shared. map (not NULL): the map's size the transaction
 * runs with, for store_grow() should it find the map full. */
int store_write_begin(struct store *st, MDB_txn **txn, size_t *map);

/* Maps the store's pages, on a thread of its own at the lowest priority,
 * now and again after every growth of the map, so that reads do not take a
 * page fault on the first touch of each page (docs/performance.md, "Round
 * 5"); first reads from disk, as single pages, those not in memory when
 * the store fits in half the memory available ("Round 14"). Stopped by
 * store_close(). The same thread keeps the runway past the store's end,
 * looking every runway_poll_ms (< 0: every 100 ms). waited: the start
 * waits for the first pass (store_prefault_wait()), which then runs at
 * the daemon's priority until it ends or the wait does. read_delay_ms
 * (tests; <= 0: none) pauses each read from disk. Returns 0, or -1 when the
 * thread cannot start. */
int store_prefault_start(struct store *st, bool dropped, bool waited, int runway_poll_ms, int read_delay_ms);
/* Waits until the prefault has no pass asked for or under way, at most
 * timeout_ms: true when it has none. Either way the pass under way goes
 * on at the lowest priority. */
bool store_prefault_wait(struct store *st, int timeout_ms);
/* Bytes of the store the pass under way, or the last, mapped (0: none,
 * or not started); bytes every pass read from disk; and "off", "running"
 * or "done". */
size_t store_prefaulted_bytes(struct store *st);
size_t store_prefault_read_bytes(struct store *st);
/* Before the store opens (with the prefault on): drops data.mdb's cached
 * pages (written first), which may lie in large folios, when it fits in
 * half the memory available, so that the prefault reads it all in single
 * pages; true when it dropped (pass it to store_prefault_start()). Not
 * when the last daemon stopped cleanly on this boot and left the file as
 * it is (store_mark_cached()): its page cache is the daemon's own. */
bool store_drop_cached(const char *dir);
/* At a clean stop, after the store closed: writes that mark. */
void store_mark_cached(const char *dir);
const char *store_prefault_state(struct store *st);

/* The users database's generation: bumped after a commit that changed it
 * (a CMD_USERS command, a follower's applied change set, a restored
 * snapshot). Sessions compare it with the generation they were last
 * checked at, so a loop reads the users database only after users
 * changed, not on every request. Any thread. */
uint64_t store_users_generation(void);
void store_users_changed(void);

const char *store_strerror(int rc);

void be64_put(unsigned char *p, uint64_t v);
void be32_put(unsigned char *p, uint32_t v);

/* Big-endian reads, inline, a load and a byte swap each: a GET reads a
 * dozen from the view's head. */
static inline uint64_t be64_get(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline uint32_t be32_get(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

/* The one way a key is written: every put and delete of the daemon goes
 * through these (store_put, the index and counter helpers use them), so
 * the writer's change set sees them all (changeset.h). store_del's val:
 * the one value of a DUPSORT key to remove, or NULL for the key. */
int store_put_bytes(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
		    const void *val, size_t vlen, unsigned flags);
int store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
	      const void *val, size_t vlen);
/* mdb_cursor_del(cur, 0) of the entry under the cursor. */
int store_cursor_del(MDB_cursor *cur);

/* A nested write transaction whose writes also leave the change set when
 * it aborts (or its commit fails). */
struct store_nested {
	MDB_txn *txn;
	struct changeset_mark mark;
};
int store_nest_begin(MDB_txn *parent, struct store_nested *n);
/* Commits (keep) or aborts n->txn; returns the commit's result. */
int store_nest_end(struct store_nested *n, bool keep);

int store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
	      struct pd_arena *a, struct pd_value **out);
int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
	      const struct pd_value *rec, unsigned flags);
/* Adds (key, value) to a DUPSORT index. */
int store_index_add(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
		    const void *val, size_t vlen);
int store_index_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
		    const void *val, size_t vlen);
/* Next value of a named sequence (1, 2, ...), in the meta database. */
/* A be64 number in meta under key (0 when absent): 0 or an LMDB code. */
int store_meta_get(MDB_txn *txn, const struct store *st, const char *key, uint64_t *out);
/* Puts one with mdb_put itself: not in the change set (seq:commit and the
 * epoch of a set applied as a whole, replication's own state). */
int store_meta_put(MDB_txn *txn, const struct store *st, const char *key, uint64_t val);
int store_next_seq(MDB_txn *txn, struct store *st, const char *name,
		   uint64_t *out);
/* Appends a change record: who did what to which object, when. */
int store_audit(MDB_txn *txn, struct store *st, const char *kind,
		const char *id, const char *who, int64_t at, const char *action,
		const struct pd_value *detail);
/* The change records of one object, oldest first (raw records). EINVAL
 * for a kind kept in sequence only (store.c: a waybill's). */
int store_audit_read(MDB_txn *txn, struct store *st, const char *kind,
		     const char *id, struct pd_arena *a, struct pd_value **out);
/* Adds delta to a be64 counter (created at 0). EOVERFLOW, nothing
 * written, when the sum would pass 64 bits (reply_store_error(): 422). */
int store_counter_add(MDB_txn *txn, MDB_dbi dbi, const char *key, int64_t delta);
/* Bytes used by the data file (pages in use * page size). The caller
 * holds resize_lock (LMDB reads them from the meta pages in the map, which
 * a growth unmaps), or a read transaction taken under it. */
size_t store_used_bytes(struct store *st);
/* The same, and the map's size (map may be NULL), for a thread that does
 * not hold the lock: takes it shared. */
size_t store_size_now(struct store *st, size_t *map);

#endif
