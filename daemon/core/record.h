/* record.h — what every module does with its stored records: read a field,
 * move an index entry when a field changes, record the change in the
 * timeline. Complaints, claims and recovery items are kept this way:
 * load, change a copy, save both, and derive everything else from the
 * difference. */
#ifndef PD_RECORD_H
#define PD_RECORD_H

#include "daemon.h"

/* A field of a stored record, 0 / "" when absent. */
int64_t rec_int(const struct pd_value *r, const char *key);
const char *rec_str(const struct pd_value *r, const char *key);

/* Loads be64 id from dbi; replies 404 ("no NOUN id") or a store error. */
int rec_load(struct cmd_ctx *ctx, MDB_dbi dbi, const char *noun, int64_t id,
	     struct pd_value **out);
int rec_save(struct cmd_ctx *ctx, MDB_dbi dbi, int64_t id, const struct pd_value *r);

/* In a DUPSORT index of "field=value" -> be64 id, moves id from old_key to
 * new_key (either may be NULL). */
int rec_index_move(struct cmd_ctx *ctx, MDB_dbi dbi, const char *old_key,
		   const char *new_key, int64_t id);
/* In a DUPSORT index of be64 time -> be64 id, moves id (0 = absent). */
int rec_due_move(struct cmd_ctx *ctx, MDB_dbi dbi, int64_t old_at,
		 int64_t new_at, int64_t id);

/* Writes the timeline entry of a change: who, when, action, text, and every
 * field whose value changed with its old and new value as shown. */
int rec_audit_change(struct cmd_ctx *ctx, const char *kind, int64_t id,
		     const char *action, const char *text,
		     const struct pd_value *before, const struct pd_value *after);

/* The timeline of one object, as shown. */
int rec_timeline(struct cmd_ctx *ctx, const char *kind, int64_t id,
		 struct pd_value **out);

/* Rows a list gives when the request says nothing. */
#define LIST_LIMIT_DEFAULT 50

/* A list's paging arguments: limit (LIST_LIMIT_DEFAULT, at most the
 * list_limit_max option) and before (0: from the newest). Returns 0, or -1
 * with a 400 naming the bound. */
int rec_list_args(struct cmd_ctx *ctx, int64_t *limit, int64_t *before);

/* Walks a "field=value" index (key) newest first, or a whole table of
 * be64 ids newest first (key NULL), calling keep() on each record after
 * `before` until limit rows were kept. keep() returns true to count it. */
typedef bool (*rec_visit)(struct cmd_ctx *ctx, const struct pd_value *r, void *ud);
int rec_walk_newest(struct cmd_ctx *ctx, MDB_dbi table, MDB_dbi index,
		    const char *key, int64_t before, int64_t limit,
		    rec_visit keep, void *ud, size_t *kept);

#endif
