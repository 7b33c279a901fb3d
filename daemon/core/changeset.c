/* changeset.c — capture, sealing and applying of change sets. */
#include "changeset.h"

#include <errno.h>
#include <string.h>

#include "store.h"

#define DB_MAX 64

struct db {
	const char *name;
	size_t len;
	MDB_dbi dbi;
	bool dupsort;
};
static struct db dbs[DB_MAX];
static size_t db_count;

/* The capture of the thread holding the write transaction (one at a time:
 * LMDB allows one write transaction per environment). */
static struct changeset *active;

void changeset_init(struct changeset *cs)
{
	memset(cs, 0, sizeof(*cs));
	pd_buf_init(&cs->ops);
	pd_buf_init(&cs->sealed);
}

void changeset_free(struct changeset *cs)
{
	if (active == cs)
		active = NULL;
	pd_buf_free(&cs->ops);
	pd_buf_free(&cs->sealed);
}

void changeset_register_db(MDB_dbi dbi, const char *name, bool dupsort)
{
	for (size_t i = 0; i < db_count; i++)
		if (dbs[i].dbi == dbi)
			return;
	if (db_count < DB_MAX)
		dbs[db_count++] = (struct db){ name, strlen(name), dbi, dupsort };
}

static int db_by_handle(MDB_dbi dbi)
{
	for (size_t i = 0; i < db_count; i++)
		if (dbs[i].dbi == dbi)
			return (int)i;
	return -1;
}

static int db_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < db_count; i++)
		if (dbs[i].len == len && memcmp(dbs[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

void changeset_capture(struct changeset *cs)
{
	active = cs;
	if (cs) {
		cs->ops.len = 0;
		cs->count = 0;
	}
}

bool changeset_capturing(void)
{
	return active != NULL;
}

struct changeset_mark changeset_mark(void)
{
	return active ? (struct changeset_mark){ active->ops.len, active->count }
		      : (struct changeset_mark){ 0, 0 };
}

void changeset_rewind(struct changeset_mark m)
{
	if (active && m.len <= active->ops.len) {
		active->ops.len = m.len;
		active->count = m.count;
	}
}

/* ---- msgpack, the few types a change set uses ---- */

static void put_be(struct pd_buf *b, unsigned char tag, uint64_t v, int n)
{
	unsigned char h[9];
	h[0] = tag;
	for (int i = n; i >= 1; i--, v >>= 8)
		h[i] = (unsigned char)v;
	pd_buf_add(b, h, (size_t)n + 1);
}

static void pack_uint(struct pd_buf *b, uint64_t v)
{
	if (v < 128) {
		unsigned char c = (unsigned char)v;
		pd_buf_add(b, &c, 1);
	} else if (v <= UINT32_MAX) {
		put_be(b, 0xce, v, 4);
	} else {
		put_be(b, 0xcf, v, 8);
	}
}

static void pack_str(struct pd_buf *b, const char *s, size_t n)
{
	if (n < 32) {
		unsigned char c = (unsigned char)(0xa0 | n);
		pd_buf_add(b, &c, 1);
	} else {
		put_be(b, 0xdb, n, 4);
	}
	pd_buf_add(b, s, n);
}

static void pack_bin(struct pd_buf *b, const MDB_val *v)
{
	if (v->mv_size <= 0xff)
		put_be(b, 0xc4, v->mv_size, 1);
	else
		put_be(b, 0xc6, v->mv_size, 4);
	pd_buf_add(b, v->mv_data, v->mv_size);
}

static void note(enum changeset_kind kind, MDB_dbi dbi, const MDB_val *key, const MDB_val *val)
{
	int d = db_by_handle(dbi);
	unsigned char head[2] = { 0x94, (unsigned char)kind };
	pd_buf_add(&active->ops, head, 2);
	/* an unregistered handle cannot happen (store_open names them all);
	 * an empty name makes the change set refused, not silently partial */
	if (d < 0)
		pack_str(&active->ops, "", 0);
	else
		pack_str(&active->ops, dbs[d].name, dbs[d].len);
	pack_bin(&active->ops, key);
	if (val) {
		pack_bin(&active->ops, val);
	} else {
		unsigned char nil = 0xc0;
		pd_buf_add(&active->ops, &nil, 1);
	}
	active->count++;
}

void changeset_note_put(MDB_dbi dbi, const MDB_val *key, const MDB_val *val, unsigned flags)
{
	if (active)
		note(flags & MDB_APPEND ? CHANGESET_APPEND : CHANGESET_PUT, dbi, key, val);
}

void changeset_note_del(MDB_dbi dbi, const MDB_val *key, const MDB_val *val)
{
	if (!active)
		return;
	int d = db_by_handle(dbi);
	/* a value names one of a DUPSORT key's values; elsewhere LMDB ignores it */
	note(CHANGESET_DEL, dbi, key, d >= 0 && dbs[d].dupsort ? val : NULL);
}

void changeset_seal(struct changeset *cs, uint64_t epoch, uint64_t seq)
{
	struct pd_buf *b = &cs->sealed;
	b->len = 0;
	pd_buf_reserve(b, cs->ops.len + 48);
	/* schema: a build from before the field refuses a map of 4 fields
	 * (EBADMSG) instead of applying values it may misread */
	unsigned char map = 0x84;
	pd_buf_add(b, &map, 1);
	pack_str(b, "epoch", 5);
	pack_uint(b, epoch);
	pack_str(b, "seq", 3);
	pack_uint(b, seq);
	pack_str(b, "schema", 6);
	pack_uint(b, STORE_SCHEMA_VERSION);
	pack_str(b, "ops", 3);
	put_be(b, 0xdd, cs->count, 4);
	if (cs->ops.len)
		pd_buf_add(b, cs->ops.data, cs->ops.len);
}

/* ---- reading ---- */

struct rd {
	const unsigned char *p, *end;
};

static bool rd_take(struct rd *r, size_t n, const unsigned char **out)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	*out = r->p;
	r->p += n;
	return true;
}

static bool rd_be(struct rd *r, int n, uint64_t *v)
{
	const unsigned char *q;
	if (!rd_take(r, (size_t)n, &q))
		return false;
	*v = 0;
	for (int i = 0; i < n; i++)
		*v = (*v << 8) | q[i];
	return true;
}

static bool rd_tag(struct rd *r, unsigned char *t)
{
	const unsigned char *q;
	if (!rd_take(r, 1, &q))
		return false;
	*t = *q;
	return true;
}

static bool rd_uint(struct rd *r, uint64_t *v)
{
	unsigned char t;
	if (!rd_tag(r, &t))
		return false;
	if (t < 0x80) {
		*v = t;
		return true;
	}
	switch (t) {
	case 0xcc: return rd_be(r, 1, v);
	case 0xcd: return rd_be(r, 2, v);
	case 0xce: return rd_be(r, 4, v);
	case 0xcf: return rd_be(r, 8, v);
	default: return false;
	}
}

/* A container's head (array: want 0x90, map: want 0x80). */
static bool rd_head(struct rd *r, unsigned char want, uint64_t *n)
{
	unsigned char t;
	if (!rd_tag(r, &t))
		return false;
	if ((t & 0xf0) == want) {
		*n = t & 0x0f;
		return true;
	}
	unsigned char big = want == 0x90 ? 0xdc : 0xde;
	if (t == big)
		return rd_be(r, 2, n);
	if (t == big + 1)
		return rd_be(r, 4, n);
	return false;
}

/* A str (bin false) or bin (bin true); nil gives data NULL when allowed. */
static bool rd_bytes(struct rd *r, bool bin, bool nil_ok, MDB_val *out)
{
	unsigned char t;
	if (!rd_tag(r, &t))
		return false;
	uint64_t n;
	bool ok;
	if (t == 0xc0 && nil_ok) {
		*out = (MDB_val){ 0, NULL };
		return true;
	}
	if (!bin && (t & 0xe0) == 0xa0) {
		n = t & 0x1f;
		ok = true;
	} else if (t == (bin ? 0xc4 : 0xd9)) {
		ok = rd_be(r, 1, &n);
	} else if (t == (bin ? 0xc5 : 0xda)) {
		ok = rd_be(r, 2, &n);
	} else if (t == (bin ? 0xc6 : 0xdb)) {
		ok = rd_be(r, 4, &n);
	} else {
		return false;
	}
	const unsigned char *q;
	if (!ok || !rd_take(r, (size_t)n, &q))
		return false;
	*out = (MDB_val){ (size_t)n, (void *)q };
	return true;
}

static int parse_op(struct rd *r, struct changeset_op *op)
{
	uint64_t n, kind;
	MDB_val db;
	if (!rd_head(r, 0x90, &n) || n != 4 || !rd_uint(r, &kind) || kind > CHANGESET_DEL ||
	    !rd_bytes(r, false, false, &db) || db.mv_size == 0 ||
	    !rd_bytes(r, true, false, &op->key) || op->key.mv_size == 0 ||
	    !rd_bytes(r, true, kind == CHANGESET_DEL, &op->val))
		return EBADMSG;
	op->kind = (enum changeset_kind)kind;
	op->db = db.mv_data;
	op->db_len = db.mv_size;
	return 0;
}

int changeset_parse(const void *blob, size_t len, struct changeset_head *head,
		    int (*each)(void *ud, const struct changeset_op *op), void *ud)
{
	struct rd r = { blob, (const unsigned char *)blob + len };
	uint64_t fields;
	unsigned seen = 0;
	*head = (struct changeset_head){ .schema = CHANGESET_SCHEMA_UNSAID };
	/* no upper bound on the fields here: a newer build's set may have
	 * more, and its schema, read before them, says so (below); a fifth
	 * field of this schema repeats a name or is unknown */
	if (!blob || !rd_head(&r, 0x80, &fields) || fields < 3)
		return EBADMSG;
	for (uint64_t f = 0; f < fields; f++) {
		MDB_val name;
		if (!rd_bytes(&r, false, false, &name))
			return EBADMSG;
		unsigned bit = name.mv_size == 5 && memcmp(name.mv_data, "epoch", 5) == 0 ? 1
			     : name.mv_size == 3 && memcmp(name.mv_data, "seq", 3) == 0 ? 2
			     : name.mv_size == 3 && memcmp(name.mv_data, "ops", 3) == 0 ? 4
			     : name.mv_size == 6 && memcmp(name.mv_data, "schema", 6) == 0 ? 8 : 0;
		if (!bit || (seen & bit))
			return EBADMSG;
		seen |= bit;
		bool ok = bit == 1 ? rd_uint(&r, &head->epoch)
			: bit == 2 ? rd_uint(&r, &head->seq)
			: bit == 8 ? rd_uint(&r, &head->schema) && head->schema > 0
			: rd_head(&r, 0x90, &head->count);
		if (!ok)
			return EBADMSG;
		/* a newer layout, judged as soon as it is known: every sealer
		 * writes the schema before the ops, whose format (op kinds,
		 * databases) may be what changed */
		if (bit == 8 && head->schema > STORE_SCHEMA_VERSION)
			return EPROTONOSUPPORT;
		if (bit != 4)
			continue;
		for (uint64_t i = 0; i < head->count; i++) {
			struct changeset_op op;
			int rc = parse_op(&r, &op);
			if (rc == 0 && each)
				rc = each(ud, &op);
			if (rc)
				return rc;
		}
	}
	/* epoch, seq and ops all there (3 fields: not schema in one's place) */
	return r.p == r.end && (seen & 7) == 7 ? 0 : EBADMSG;
}

static int check_op(void *ud, const struct changeset_op *op)
{
	(void)ud;
	return db_by_name(op->db, op->db_len) < 0 ? ENOENT : 0;
}

static int apply_op(void *ud, const struct changeset_op *op)
{
	MDB_txn *txn = ud;
	int d = db_by_name(op->db, op->db_len);
	MDB_val key = op->key, val = op->val;
	switch (op->kind) {
	case CHANGESET_PUT:
		return mdb_put(txn, dbs[d].dbi, &key, &val, 0);
	case CHANGESET_APPEND:
		return mdb_put(txn, dbs[d].dbi, &key, &val, MDB_APPEND);
	case CHANGESET_DEL:
		return mdb_del(txn, dbs[d].dbi, &key, val.mv_data ? &val : NULL);
	}
	return EBADMSG;
}

int changeset_apply(MDB_txn *txn, const void *blob, size_t len)
{
	struct changeset_head head;
	int rc = changeset_parse(blob, len, &head, check_op, NULL);
	return rc ? rc : changeset_parse(blob, len, &head, apply_op, txn);
}
