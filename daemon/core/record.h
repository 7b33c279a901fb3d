/* record.h — what every module does with its stored records: read a field,
 * move an index entry when a field changes, record the change in the
 * timeline. Complaints, claims and recovery items are kept this way:
 * load, change a copy, save both, and derive everything else from the
 * difference. */
#ifndef PD_RECORD_H
#define PD_RECORD_H

#include <stddef.h>

#include "daemon.h"

/* A field of a stored record, 0 / "" when absent. */
int64_t rec_int(const struct pd_value *r, const char *key);
/* The timer instant of a record due at `due` (0: none): the second after it,
 * until the record is marked overdue; 0 when nothing is due. */
int64_t rec_overdue_timer(const struct pd_value *r, int64_t due);
const char *rec_str(const struct pd_value *r, const char *key);

/* In a DUPSORT index of "field=value" -> be64 id, moves id from old_key to
 * new_key (either may be NULL). */
int rec_index_move(struct cmd_ctx *ctx, MDB_dbi dbi, const char *old_key,
		   const char *new_key, int64_t id);

/* ---- declared record kinds ----
 * A kind of record kept by id (complaint, claim, recovery item, customer,
 * warning) is declared once, as data: its database, its index entries,
 * its due index and its timer. record_save() then writes a change and
 * everything it implies, so no handler can forget an index. docs/records.md
 * shows how to add one. */

/* The database of a kind, as a member of struct store. */
#define RECORD_DB(member) offsetof(struct store, member)

/* One entry a record is listed under in its kind's index: "name=value" of a
 * string or integer field (none when the field is absent or ""), or what
 * key() derives from the whole record (NULL for none). A field listed
 * under its own name needs no entry here: see .fields. */
struct record_index {
	const char *name;
	const char *field;
	const char *(*key)(struct cmd_ctx *ctx, const struct pd_value *r);
};

struct record_kind {
	const char *name;	/* timeline and timer kind: "complaint" */
	const char *noun;	/* in "no NOUN 12"; NULL: the name */
	size_t db;		/* RECORD_DB(complaints): be64 id -> record */
	size_t index_db;	/* RECORD_DB(...) of the "field=value" index, 0: none */
	/* fields listed as "field=value" under their own name, ended by
	 * NULL: RECORD_FIELDS("depot", "status") */
	const char *const *fields;
	const struct record_index *indexes; /* the others, ended by { NULL } */
	/* be64 due -> be64 id, kept at due() (0: not listed), 0: none; the
	 * entry's time is kept in the record's due_key */
	size_t due_db;
	int64_t (*due)(const struct pd_value *r);
	/* the due index again per value of the string field due_by (an
	 * owner's agenda): "VALUE" -> be64 due be64 id (DUPSORT, so earliest
	 * first); 0: none. Filled for records saved before it by
	 * record_due_by_fill(). */
	size_t due_by_db;
	const char *due_by;
	/* the next instant the daemon must act (0: never), a timer of kind
	 * `name`; kept in the record's timer_at */
	int64_t (*timer)(const struct pd_value *r);
	/* the short reply of a change (NULL: the record as shown) */
	struct pd_value *(*summary)(struct cmd_ctx *ctx, const struct pd_value *before,
				    const struct pd_value *after);
};

/* The head of a declaration: name, table and index (members of struct
 * store), as in RECORD_KIND("claim", claims, claim_index). */
#define RECORD_KIND(kind_name, table, index) \
	.name = kind_name, .db = RECORD_DB(table), .index_db = RECORD_DB(index)
#define RECORD_FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

MDB_dbi record_db(const struct cmd_ctx *ctx, size_t member);

/* "name=value", or NULL when value is NULL or "" (a list filter's key). */
const char *record_key(struct cmd_ctx *ctx, const char *name, const char *value);

/* Who a change made at a due time (SWEEP) is recorded as: the daemon. */
extern const struct session record_daemon;

/* A new record of a kind: a map holding only "id", the next of the
 * sequence named as the kind. Returns 0 or an LMDB code (no reply). */
int record_new(struct cmd_ctx *ctx, const struct record_kind *kind, struct pd_value **out);

/* Loads record id of a kind; replies 404 ("no NOUN id") or a store error
 * and returns the LMDB code. */
int record_load(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t id,
		struct pd_value **out);
/* Loads the record the request's `id` argument names, and a working copy
 * to change when after is not NULL; replies as record_load(). */
int record_load_arg(struct cmd_ctx *ctx, const struct record_kind *kind,
		    struct pd_value **before, struct pd_value **after);
/* Loads record id without a reply (MDB_NOTFOUND when absent). */
int record_get(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t id,
	       struct pd_value **out);
/* The same and a working copy to change: what a timer's handler starts
 * from (MDB_NOTFOUND: the record is gone, nothing to do). */
int record_get_copy(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t id,
		    struct pd_value **before, struct pd_value **after);

/* Writes a record (before NULL: a new one) and what its change implies:
 * the index entries whose keys differ, the due index, the timer and the
 * timeline entry of `action` (NULL: none) with every changed field.
 * Returns 0 or an LMDB code; no reply is set. */
int record_save(struct cmd_ctx *ctx, const struct record_kind *kind,
		const struct pd_value *before, struct pd_value *after,
		const char *action, const char *text);

/* Answers a change: the store error of save_rc, or `code` and `msg` with
 * the kind's summary (unless the handler already set the reply's data).
 * Returns what the handler returns. */
int record_reply(struct cmd_ctx *ctx, const struct record_kind *kind, int save_rc,
		 const struct pd_value *before, const struct pd_value *after,
		 int code, const char *msg);

/* The ids of the records listed under any of keys in the kind's index
 * whose string field `field` is `value` (a record is unpacked only when
 * its bytes hold the packed pair). */
int record_ids_where(struct cmd_ctx *ctx, const struct record_kind *kind,
		     const char *const *keys, size_t n_keys, const char *field,
		     const char *value, struct pd_value *ids);

/* Writes the timeline entry of a change: who, when, action, text, and every
 * field whose value changed with its old and new value as shown (a field
 * new and empty is no change). */
int rec_audit_change(struct cmd_ctx *ctx, const char *kind, int64_t id,
		     const char *action, const char *text,
		     const struct pd_value *before, const struct pd_value *after);

/* The timeline of one object, as shown: per entry seq, who, at, action,
 * the detail's facts (the note as `text`), and `changes`: field -> "OLD → NEW"
 * ("NEW" alone when the field had no value before). */
int rec_timeline(struct cmd_ctx *ctx, const char *kind, int64_t id,
		 struct pd_value **out);

/* The on_due of a kind whose timer marks a record overdue: loads record
 * id (gone: nothing to do), sets `overdue: yes` when overdue(r, now) holds
 * and saves it as the daemon (timeline "overdue"). 0 or an LMDB code. */
int record_mark_overdue(struct cmd_ctx *ctx, const struct record_kind *kind, uint64_t id,
			bool (*overdue)(const struct pd_value *r, int64_t now));

/* What a kind's GET adds to the record as shown (a field or a few), 0 or
 * an LMDB code. */
typedef int (*record_show)(struct cmd_ctx *ctx, const struct pd_value *r, struct pd_value *out);

/* A kind's GET answered: the record the request's `id` argument names,
 * every field as shown, what first() adds, its `timeline`, what last()
 * adds (either NULL: nothing), and "200 NOUN ID: STATUS". Returns what the
 * handler returns. */
int record_get_reply(struct cmd_ctx *ctx, const struct record_kind *kind, record_show first, record_show last);

/* A list row: the fields `cols` of r as shown, "" for an absent one. */
struct pd_value *rec_row(struct cmd_ctx *ctx, const struct pd_value *r, const char *const *cols, size_t n);

/* Rows a list gives when the request says nothing. */
#define LIST_LIMIT_DEFAULT 50

/* A list's paging arguments: limit (LIST_LIMIT_DEFAULT, at most the
 * list_limit_max option) and before (0: from the newest). Returns 0, or
 * PD_EREPLIED with a 400 naming the bound. */
int rec_list_args(struct cmd_ctx *ctx, int64_t *limit, int64_t *before);

/* Walks a "field=value" index (key) newest first, or a whole table of
 * be64 ids newest first (key NULL), calling keep() on each record after
 * `before` until limit rows were kept. keep() returns true to count it. */
typedef bool (*rec_visit)(struct cmd_ctx *ctx, const struct pd_value *r, void *ud);
int rec_walk_newest(struct cmd_ctx *ctx, MDB_dbi table, MDB_dbi index,
		    const char *key, int64_t before, int64_t limit,
		    rec_visit keep, void *ud, size_t *kept);
/* The same with a key of any bytes (a binary day key, say). */
int rec_walk_newest_key(struct cmd_ctx *ctx, MDB_dbi table, MDB_dbi index,
			const void *key, size_t key_len, int64_t before, int64_t limit,
			rec_visit keep, void *ud, size_t *kept);

/* An index entry added to a kind after records were saved: adds every
 * record's index entries (those present are kept), once per store (a meta
 * key "index:KIND:NAME" remembers it). At start, in a write txn. Returns 0
 * or an LMDB error. */
int record_index_fill(struct cmd_ctx *ctx, const struct record_kind *kind, const char *name);

/* The metrics page's gauges of a kind, from its indexes in txn: the
 * records listed under "name=LEVEL" for each of levels (one look-up each,
 * LMDB's count of a key's duplicates) and the entries of its due index
 * before now (a walk of keys, no record read). */
int record_gauges(MDB_txn *txn, struct store *st, const struct record_kind *kind,
		  const char *name, const char *const *levels, size_t n_levels,
		  int64_t now, struct module_gauges *g);

/* Walks a due index (be64 time -> be64 id) earliest first up to `until`
 * (exclusive), calling keep() on each record of table whose id is below
 * `before` (0: any) until limit rows were kept. */
int rec_walk_due(struct cmd_ctx *ctx, MDB_dbi table, MDB_dbi due, int64_t until, int64_t before,
		 int64_t limit, rec_visit keep, void *ud, size_t *kept);

/* The same through the kind's per-value due index (.due_by_db): only the
 * records whose due_by field is `value`. */
int rec_walk_due_by(struct cmd_ctx *ctx, const struct record_kind *kind, const char *value, int64_t until,
		    int64_t before, int64_t limit, rec_visit keep, void *ud, size_t *kept);

/* The per-value due index of a kind added after records were saved: adds
 * the entry of every record in its due index, once per store (meta key
 * "index:KIND:due_by"). At start, in a write txn. 0 or an LMDB error. */
int record_due_by_fill(struct cmd_ctx *ctx, const struct record_kind *kind);

/* A list's filter: the index key's name, the request's value (NULL: not
 * given), and the field it is checked against when that is not the name. */
struct record_filter {
	const char *name, *value, *field;
};

/* Whether each given filter's field of r holds its value (a string, or an
 * integer written in decimal). */
bool record_matches(const struct pd_value *r, const struct record_filter *by, size_t n);

/* Sets each filter's value to the request's argument of its name (NULL
 * when not given); returns n. */
size_t record_filter_args(struct cmd_ctx *ctx, struct record_filter *by, size_t n);

/* A list's `due` argument (absent, overdue or open): the instant its due
 * index is walked up to, as record_list() takes it: 0 (not by due time),
 * now, or the end of time. */
int64_t record_due_arg(struct cmd_ctx *ctx);

/* The index key of the first filter given, NULL when none is. */
const char *record_filter_key(struct cmd_ctx *ctx, const struct record_filter *by, size_t n);

/* A kind's list as data: its filters, the columns of a row, and what the
 * kind adds; record_list() fills `rows`. */
struct record_rows {
	const struct record_filter *by;
	size_t n;
	/* a row: these fields as shown, "" for an absent one (nil when
	 * nil_absent); cols NULL: the whole record as shown */
	const char *const *cols;
	size_t n_cols;
	bool nil_absent;
	/* optional: false leaves a record out that the filters let through */
	bool (*keep)(struct cmd_ctx *ctx, const struct pd_value *r, void *ud);
	/* optional: what a row shows after its columns */
	void (*more)(struct cmd_ctx *ctx, const struct pd_value *r, struct pd_value *row, void *ud);
	void *ud;
	struct pd_value *rows;
};

/* The filters of a list, an array: .by and .n of struct record_rows. */
#define RECORD_BY(array) .by = (array), .n = sizeof(array) / sizeof((array)[0])
/* The columns of a row, for struct record_rows: .cols and .n_cols. */
#define RECORD_COLS(...) .cols = (const char *const[]){ __VA_ARGS__ }, \
	.n_cols = sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

/* A row of a list as the list shows it, or NULL when it leaves r out. */
struct pd_value *record_row(struct cmd_ctx *ctx, const struct record_rows *list, const struct pd_value *r);

/* The walk of a kind's list: with due_until > 0 its due index earliest
 * first up to that instant (exclusive), through the per-value due index
 * when the kind has one and its field is filtered on; else newest first
 * through the index key of the first filter given (none: the whole
 * table). Each
 * record the list keeps is a row pushed on list->rows. */
int record_list(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t due_until, struct record_rows *list,
		int64_t before, int64_t limit, size_t *kept);

/* A LIST answered: its paging arguments (rec_list_args()), the walk of
 * record_list(), the rows as the reply's data and "200 N WHAT" (WHAT the
 * plural, "200 1 NOUN" for one). Returns what the handler returns. */
int record_list_reply(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t due_until,
		      struct record_rows *list, const char *what);

#endif
