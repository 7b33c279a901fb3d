/* changeset.h — a group commit's writes, as data (docs/changeset.md).
 *
 * Every put and delete the writer makes goes through store.c's wrappers,
 * which tell the capture here; the writer seals the group's ops into one
 * change set {epoch, seq, schema, ops} (msgpack) after its jobs ran. The same
 * bytes can be applied to another store (a follower, or a copy of this
 * one at an earlier state) with changeset_apply() and give the same
 * records. A job whose nested transaction aborts is rewound out of the
 * capture (store_nest_end); a job that fails after writing straight in the
 * group's transaction throws the transaction and capture away (writer.c;
 * the capture's count tells whether a job wrote). Only the thread that holds the write
 * transaction captures; writes made with no capture started (start-up
 * migrations, contrib/import) are not recorded. */
#ifndef PD_CHANGESET_H
#define PD_CHANGESET_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reply.h"

enum changeset_kind {
	CHANGESET_PUT = 0,    /* put key/value (a DUPSORT database: add the value) */
	CHANGESET_APPEND = 1, /* put with MDB_APPEND: the key is after every other */
	CHANGESET_DEL = 2,    /* delete the key (value nil: with all its values),
				 or one value of a DUPSORT key */
};

struct changeset {
	struct pd_buf ops;    /* the ops captured, packed one after another */
	uint64_t count;
	struct pd_buf sealed; /* the last change set sealed */
};

/* A point to rewind the capture to (a nested transaction's start). */
struct changeset_mark {
	size_t len;
	uint64_t count;
};

void changeset_init(struct changeset *cs);
void changeset_free(struct changeset *cs);

/* Names a database for the capture and for apply (store_open, once per
 * database). Change sets carry the name, not the handle. */
void changeset_register_db(MDB_dbi dbi, const char *name, bool dupsort);

/* Captures this thread's writes into cs from now on, emptied (NULL: stop
 * capturing). */
void changeset_capture(struct changeset *cs);
bool changeset_capturing(void);
struct changeset_mark changeset_mark(void);
void changeset_rewind(struct changeset_mark m);

/* Called by store.c after a write succeeded; a no-op when not capturing.
 * val of a delete: the one value removed from a DUPSORT key, or NULL. */
void changeset_note_put(MDB_dbi dbi, const MDB_val *key, const MDB_val *val, unsigned flags);
void changeset_note_del(MDB_dbi dbi, const MDB_val *key, const MDB_val *val);

/* Packs what was captured as {epoch, seq, schema, ops} into cs->sealed;
 * schema: STORE_SCHEMA_VERSION, the layout this build writes (a store is
 * marked with it when it opens, store.h). */
void changeset_seal(struct changeset *cs, uint64_t epoch, uint64_t seq);

/* ---- reading ---- */

struct changeset_op {
	enum changeset_kind kind;
	const char *db;
	size_t db_len;
	MDB_val key;
	MDB_val val;       /* mv_data NULL: nil (a delete of the whole key) */
};

struct changeset_head {
	uint64_t epoch, seq, count;
	/* the layout its values are in: its `schema` field, or
	 * CHANGESET_SCHEMA_UNSAID for a set without one */
	uint64_t schema;
};

/* The schema of a set without the field: sealed by a build from before
 * the field (every build before 23d4efa), which wrote schema 1 (before
 * round 9) or 2 (round 9 on): at most 2, and every build since reads both. */
#define CHANGESET_SCHEMA_UNSAID 2

/* Reads a change set without touching a store: 0; EPROTONOSUPPORT as
 * soon as it reads a schema above STORE_SCHEMA_VERSION (a layout this
 * build would misread; head holds the fields read before it: a sealer
 * writes epoch, seq, schema, then ops, so the rest, whatever a newer
 * build changed in it, is not read); or EBADMSG when the bytes are not a
 * well-formed change set (truncated, trailing bytes, a wrong type, an
 * unknown kind or field, an empty key, a schema of 0). each (may be NULL)
 * is called for every op in order; a nonzero return stops and is returned. */
int changeset_parse(const void *blob, size_t len, struct changeset_head *head,
		    int (*each)(void *ud, const struct changeset_op *op), void *ud);

/* Checks the whole change set (EBADMSG; EPROTONOSUPPORT when its schema
 * is above STORE_SCHEMA_VERSION: values this build would misread; ENOENT
 * for a database this build does not have), then applies its ops in order
 * in txn. An op that does
 * not find the state it was made on (a delete of nothing: MDB_NOTFOUND;
 * an append before the last key: MDB_KEYEXIST) fails with LMDB's code.
 * On any error the caller aborts txn: part of the ops may be in it. */
int changeset_apply(MDB_txn *txn, const void *blob, size_t len);

#endif
