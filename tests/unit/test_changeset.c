/*
 * Unit tests for daemon/core/changeset.c: the writes made through store.c
 * while capturing come out as one change set, in order, without those of
 * a nested transaction that aborted; applied to a second store they give
 * the same keys and values; malformed bytes (every cut, every flipped
 * byte, trailing bytes) are refused with an error and never crash; the
 * schema field: sets without it (older builds) apply, a newer schema is
 * refused by apply with nothing applied, a malformed one by parse.
 * Runs against two real LMDB stores in temporary directories.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct fixture {
	char dir[2][64];
	struct store st[2];
	struct changeset cs;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	for (int i = 0; i < 2; i++) {
		snprintf(f->dir[i], sizeof(f->dir[i]), "/tmp/pd_test_changeset.XXXXXX");
		if (!mkdtemp(f->dir[i]) || store_open(&f->st[i], f->dir[i], (size_t)16 << 20) < 0)
			return -1;
	}
	changeset_init(&f->cs);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	changeset_free(&f->cs);
	for (int i = 0; i < 2; i++) {
		store_close(&f->st[i]);
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir[i]);
		if (system(cmd) != 0)
			return -1;
	}
	free(f);
	return 0;
}

/* Writes of every kind into store 0, captured; returns the sealed set. */
static void capture_sample(struct fixture *f, MDB_txn **out)
{
	struct store *st = &f->st[0];
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(st->env, NULL, 0, &txn), 0);
	changeset_capture(&f->cs);
	unsigned char seq[8];
	be64_put(seq, 1);
	assert_int_equal(store_put_bytes(txn, st->users, "ann", 3, "A", 1, 0), 0);
	assert_int_equal(store_put_bytes(txn, st->users, "bob", 3, "B", 1, 0), 0);
	assert_int_equal(store_put_bytes(txn, st->audit, "\xff\x01", 2, "x", 1, MDB_APPEND), 0);
	assert_int_equal(store_index_add(txn, st->idx_phone, "135", 3, "n1", 2), 0);
	assert_int_equal(store_index_add(txn, st->idx_phone, "135", 3, "n2", 2), 0);
	assert_int_equal(store_index_add(txn, st->idx_phone, "135", 3, "n2", 2), 0); /* already there: no op */
	assert_int_equal(store_counter_add(txn, st->volume, "C|x", 5), 0);
	assert_int_equal(store_put_bytes(txn, st->timers, seq, 8, "t:1", 3, 0), 0);
	assert_int_equal(store_put_bytes(txn, st->timers, seq, 8, "t:2", 3, 0), 0);
	/* a nested transaction that aborts leaves nothing */
	struct store_nested n;
	assert_int_equal(store_nest_begin(txn, &n), 0);
	assert_int_equal(store_put_bytes(n.txn, st->users, "eve", 3, "E", 1, 0), 0);
	assert_int_equal(store_del(n.txn, st->users, "ann", 3, NULL, 0), 0);
	store_nest_end(&n, false);
	/* one that commits stays */
	assert_int_equal(store_nest_begin(txn, &n), 0);
	assert_int_equal(store_del(n.txn, st->users, "bob", 3, NULL, 0), 0);
	assert_int_equal(store_index_del(n.txn, st->idx_phone, "135", 3, "n1", 2), 0);
	assert_int_equal(store_index_del(n.txn, st->idx_phone, "135", 3, "zz", 2), 0); /* absent: no op */
	assert_int_equal(store_nest_end(&n, true), 0);
	/* a cursor delete of one of a key's values */
	MDB_cursor *cur;
	MDB_val k, v;
	assert_int_equal(mdb_cursor_open(txn, st->timers, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	assert_int_equal(store_cursor_del(cur), 0);
	mdb_cursor_close(cur);
	changeset_capture(NULL);
	changeset_seal(&f->cs, 3, 42);
	*out = txn;
}

struct seen {
	int n;
	char line[16][64];
};

static int note_op(void *ud, const struct changeset_op *op)
{
	struct seen *s = ud;
	if (s->n < 16)
		snprintf(s->line[s->n++], 64, "%d %.*s %.*s %s", op->kind, (int)op->db_len, op->db,
			 (int)op->key.mv_size, (char *)op->key.mv_data, op->val.mv_data ? "val" : "nil");
	return 0;
}

static void captures_in_order(void **state)
{
	struct fixture *f = *state;
	MDB_txn *txn;
	capture_sample(f, &txn);
	mdb_txn_abort(txn);
	struct changeset_head h;
	struct seen s = { 0 };
	assert_int_equal(changeset_parse(f->cs.sealed.data, f->cs.sealed.len, &h, note_op, &s), 0);
	assert_int_equal(h.epoch, 3);
	assert_int_equal(h.seq, 42);
	assert_int_equal(h.count, 11);
	const char *want[] = {
		"0 users ann val", "0 users bob val", "1 audit \xff\x01 val", "0 idx_phone 135 val",
		"0 idx_phone 135 val", "0 volume C|x val", "0 timers \0 val", "0 timers \0 val",
		"2 users bob nil", "2 idx_phone 135 val",
	};
	assert_int_equal(s.n, 11);
	for (int i = 0; i < 10; i++)
		if (i != 6 && i != 7)
			assert_string_equal(s.line[i], want[i]);
	assert_memory_equal(s.line[10], "2 timers ", 9); /* the cursor delete names its value */
	assert_string_equal(s.line[10] + strlen(s.line[10]) - 3, "val");
	(void)want;
}

/* Every key and value of every database, as one string. */
static void dump(struct store *st, struct pd_buf *out)
{
	MDB_txn *txn;
	MDB_dbi dbs[] = { st->users, st->audit, st->idx_phone, st->volume, st->timers };
	assert_int_equal(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), 0);
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_cursor *cur;
		MDB_val k, v;
		assert_int_equal(mdb_cursor_open(txn, dbs[i], &cur), 0);
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			pd_buf_printf(out, "%zu:", i);
			pd_buf_add(out, k.mv_data, k.mv_size);
			pd_buf_add(out, "=", 1);
			pd_buf_add(out, v.mv_data, v.mv_size);
			pd_buf_add(out, ";", 1);
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
}

static void applies_to_another_store(void **state)
{
	struct fixture *f = *state;
	MDB_txn *txn;
	capture_sample(f, &txn);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
	assert_int_equal(changeset_apply(txn, f->cs.sealed.data, f->cs.sealed.len), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	struct pd_buf a, b;
	pd_buf_init(&a);
	pd_buf_init(&b);
	dump(&f->st[0], &a);
	dump(&f->st[1], &b);
	assert_true(a.len > 20);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* applied twice, its deletes find nothing: refused */
	assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
	int rc = changeset_apply(txn, f->cs.sealed.data, f->cs.sealed.len);
	assert_true(rc == MDB_NOTFOUND || rc == MDB_KEYEXIST);
	mdb_txn_abort(txn);
	pd_buf_free(&a);
	pd_buf_free(&b);
}

static void refuses_malformed(void **state)
{
	struct fixture *f = *state;
	MDB_txn *txn;
	capture_sample(f, &txn);
	mdb_txn_abort(txn);
	size_t len = f->cs.sealed.len;
	unsigned char *good = malloc(len + 1), *bad = malloc(len + 1);
	memcpy(good, f->cs.sealed.data, len);
	struct changeset_head h;
	/* every cut is refused (each copy is its own allocation, so ASan sees
	 * any read past the end) */
	for (size_t cut = 0; cut < len; cut++) {
		unsigned char *p = malloc(cut ? cut : 1);
		memcpy(p, good, cut);
		assert_int_equal(changeset_parse(p, cut, &h, NULL, NULL), EBADMSG);
		free(p);
	}
	/* a trailing byte */
	memcpy(bad, good, len);
	bad[len] = 0;
	assert_int_equal(changeset_parse(bad, len + 1, &h, NULL, NULL), EBADMSG);
	assert_int_equal(changeset_parse(NULL, 0, &h, NULL, NULL), EBADMSG);
	/* every byte flipped to every value: an error or a set that parses,
	 * never a crash; all applied in one transaction thrown away at the end */
	assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
	for (size_t i = 0; i < len; i++)
		for (int x = 0; x < 256; x++) {
			memcpy(bad, good, len);
			bad[i] = (unsigned char)x;
			(void)changeset_apply(txn, bad, len);
		}
	mdb_txn_abort(txn);
	/* a database this build does not have */
	memcpy(bad, good, len);
	char *users = memmem(bad, len, "users", 5);
	assert_non_null(users);
	memcpy(users, "usurp", 5);
	assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
	assert_int_equal(changeset_apply(txn, bad, len), ENOENT);
	MDB_stat ms;
	assert_int_equal(mdb_stat(txn, f->st[1].users, &ms), 0);
	assert_int_equal(ms.ms_entries, 0); /* checked before anything was applied */
	mdb_txn_abort(txn);
	free(good);
	free(bad);
}

static void nothing_captured_when_off(void **state)
{
	struct fixture *f = *state;
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(f->st[0].env, NULL, 0, &txn), 0);
	changeset_capture(&f->cs);
	changeset_capture(NULL);
	assert_false(changeset_capturing());
	assert_int_equal(store_put_bytes(txn, f->st[0].users, "ann", 3, "A", 1, 0), 0);
	assert_int_equal(f->cs.count, 0);
	changeset_seal(&f->cs, 0, 1);
	struct changeset_head h;
	assert_int_equal(changeset_parse(f->cs.sealed.data, f->cs.sealed.len, &h, NULL, NULL), 0);
	assert_int_equal(h.count, 0);
	mdb_txn_abort(txn);
}

/* A change set written by hand: a map of the fields given in order, each
 * "epoch" 7, "seq" 9, "ops" one put of users/ann (or none: "ops0"),
 * "schema" N ("schema" followed by its value as a byte, "schemastr" a
 * string). */
static size_t hand_set(unsigned char *out, const char *const *fields, int n, int schema)
{
	size_t len = 0;
	out[len++] = (unsigned char)(0x80 | n);
#define PUT(s) do { memcpy(out + len, s, sizeof(s) - 1); len += sizeof(s) - 1; } while (0)
	for (int i = 0; i < n; i++) {
		if (!strcmp(fields[i], "epoch")) {
			PUT("\xa5" "epoch" "\x07");
		} else if (!strcmp(fields[i], "seq")) {
			PUT("\xa3" "seq" "\x09");
		} else if (!strcmp(fields[i], "ops")) {
			PUT("\xa3" "ops" "\x91\x94\x00\xa5" "users" "\xc4\x03" "ann" "\xc4\x01" "A");
		} else if (!strcmp(fields[i], "ops0")) {
			PUT("\xa3" "ops" "\x90");
		} else if (!strcmp(fields[i], "opsnew")) { /* an op of a kind this build lacks */
			PUT("\xa3" "ops" "\x91\x94\x09\xa5" "users" "\xc4\x03" "ann" "\xc4\x01" "A");
		} else if (!strcmp(fields[i], "extra")) { /* a field this build lacks */
			PUT("\xa5" "extra" "\x01");
		} else if (!strcmp(fields[i], "schema")) {
			PUT("\xa6" "schema");
			out[len++] = (unsigned char)schema;
		} else if (!strcmp(fields[i], "schemastr")) {
			PUT("\xa6" "schema" "\xa1" "3");
		}
	}
#undef PUT
	return len;
}

/* Entries of store 1's users database. */
static size_t users_in(struct fixture *f, MDB_txn *txn)
{
	MDB_stat ms;
	assert_int_equal(mdb_stat(txn, f->st[1].users, &ms), 0);
	return ms.ms_entries;
}

static void schema_field(void **state)
{
	struct fixture *f = *state;
	unsigned char b[128];
	struct changeset_head h;
	MDB_txn *txn;
	size_t len;
	/* a sealed set says the layout this build writes */
	changeset_seal(&f->cs, 1, 5);
	assert_int_equal(changeset_parse(f->cs.sealed.data, f->cs.sealed.len, &h, NULL, NULL), 0);
	assert_int_equal(h.schema, STORE_SCHEMA_VERSION);
	assert_int_equal(h.seq, 5);
	/* a set of a build before the field (3 fields): read as schema 2, applied */
	const char *old[] = { "epoch", "seq", "ops" };
	len = hand_set(b, old, 3, 0);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), 0);
	assert_int_equal(h.schema, CHANGESET_SCHEMA_UNSAID);
	assert_int_equal(h.epoch, 7);
	assert_int_equal(h.seq, 9);
	assert_int_equal(h.count, 1);
	assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
	assert_int_equal(changeset_apply(txn, b, len), 0);
	assert_int_equal(users_in(f, txn), 1);
	mdb_txn_abort(txn);
	/* this build's schema and the oldest, in any place: applied */
	for (int schema = STORE_SCHEMA_OLDEST; schema <= STORE_SCHEMA_VERSION; schema++) {
		const char *now[] = { "ops", "schema", "seq", "epoch" };
		len = hand_set(b, now, 4, schema);
		assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), 0);
		assert_int_equal(h.schema, schema);
		assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
		assert_int_equal(changeset_apply(txn, b, len), 0);
		assert_int_equal(users_in(f, txn), 1);
		mdb_txn_abort(txn);
	}
	/* a newer schema, before or after the ops: refused as soon as it is
	 * read (its epoch and seq known before it), nothing applied */
	const char *before[] = { "epoch", "seq", "schema", "ops" }, *after[] = { "epoch", "seq", "ops", "schema" };
	for (int i = 0; i < 2; i++) {
		len = hand_set(b, i ? after : before, 4, STORE_SCHEMA_VERSION + 1);
		assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EPROTONOSUPPORT);
		assert_int_equal(h.schema, STORE_SCHEMA_VERSION + 1);
		assert_int_equal(h.epoch, 7);
		assert_int_equal(h.seq, 9);
		assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
		assert_int_equal(changeset_apply(txn, b, len), EPROTONOSUPPORT);
		assert_int_equal(users_in(f, txn), 0);
		mdb_txn_abort(txn);
	}
	/* a newer schema whose ops or fields changed too (a kind or a field
	 * this build lacks): still named as a newer schema, not malformed */
	const char *newkind[] = { "epoch", "seq", "schema", "opsnew" };
	const char *newfield[] = { "epoch", "seq", "schema", "ops", "extra" };
	len = hand_set(b, newkind, 4, STORE_SCHEMA_VERSION + 1);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EPROTONOSUPPORT);
	assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
	assert_int_equal(changeset_apply(txn, b, len), EPROTONOSUPPORT);
	mdb_txn_abort(txn);
	len = hand_set(b, newfield, 5, STORE_SCHEMA_VERSION + 1);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EPROTONOSUPPORT);
	/* the same in this build's schema: malformed */
	len = hand_set(b, newkind, 4, STORE_SCHEMA_VERSION);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EBADMSG);
	len = hand_set(b, newfield, 5, STORE_SCHEMA_VERSION);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EBADMSG);
	/* a newer schema naming a database this build lacks: the schema is
	 * what is said */
	len = hand_set(b, before, 4, STORE_SCHEMA_VERSION + 1);
	memcpy(memmem(b, len, "users", 5), "usurp", 5);
	assert_int_equal(mdb_txn_begin(f->st[1].env, NULL, 0, &txn), 0);
	assert_int_equal(changeset_apply(txn, b, len), EPROTONOSUPPORT);
	mdb_txn_abort(txn);
	/* malformed: schema 0, a string, twice, in the place of ops, a fifth field */
	const char *twice[] = { "epoch", "schema", "seq", "schema" }, *no_ops[] = { "epoch", "seq", "schema" };
	const char *five[] = { "epoch", "seq", "schema", "ops0", "schema" }, *str[] = { "epoch", "seq", "schemastr", "ops" };
	len = hand_set(b, before, 4, 0);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EBADMSG);
	len = hand_set(b, str, 4, 0);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EBADMSG);
	len = hand_set(b, twice, 4, 2);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EBADMSG);
	len = hand_set(b, no_ops, 3, 2);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EBADMSG);
	len = hand_set(b, five, 5, 2);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EBADMSG);
	/* a schema that is not a positive integer fixnum byte: 0xc0 (nil) */
	len = hand_set(b, before, 4, 0xc0);
	assert_int_equal(changeset_parse(b, len, &h, NULL, NULL), EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(captures_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(applies_to_another_store, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(nothing_captured_when_off, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_field, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
