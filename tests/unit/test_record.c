/*
 * Unit tests for daemon/core/record.c: a record kind declared as data (a
 * small "note" kind, as docs/records.md walks through) is saved by
 * record_save() alone: the index keys that changed move and no other, the
 * due index and the timer follow the record, the timeline entry lists the
 * changed fields. Runs against a real LMDB store in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

static int64_t follow_up_of(const struct pd_value *n)
{
	return strcmp(rec_str(n, "status"), "done") ? rec_int(n, "follow_up_by") : 0;
}

static int64_t wake_of(const struct pd_value *n)
{
	int64_t due = follow_up_of(n);
	return due ? due + 1 : 0;
}

static const char *urgent_key(struct cmd_ctx *ctx, const struct pd_value *n)
{
	(void)ctx;
	return pd_map_bool(n, "urgent") ? "urgent=1" : NULL;
}

/* The declaration: it borrows the customers' databases of the store. The
 * phone is listed from .fields and phone2 under the same key name from
 * .indexes: one key when they are equal. */
static const struct record_index NOTE_INDEXES[] = {
	{ "phone", "phone2", NULL },
	{ "urgent", NULL, urgent_key },
	{ NULL, NULL, NULL },
};

static const struct record_kind NOTE = {
	RECORD_KIND("note", customers, idx_cust),
	.fields = RECORD_FIELDS("customer", "taken_by", "phone", "ticket"),
	.indexes = NOTE_INDEXES,
	.due_db = RECORD_DB(complaint_due),
	.due = follow_up_of,
	.timer = wake_of,
	/* the due index again per taker: a taker's agenda */
	.due_by_db = RECORD_DB(contact_owner_due),
	.due_by = "taken_by",
};

struct fixture {
	char dir[64];
	struct pd_arena a;
	struct pd_reply rep;
	struct session sess;
	struct cmd_ctx ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/pd_test_record.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	config_default(&g_config);
	if (store_open(&g_store, f->dir, (size_t)64 << 20) < 0)
		return -1;
	pd_arena_init(&f->a);
	snprintf(f->sess.user, sizeof(f->sess.user), "op1");
	f->ctx = (struct cmd_ctx){ .a = &f->a, .rep = &f->rep, .st = &g_store, .sess = &f->sess,
				   .cfg = &g_config, .now = 1800000000 };
	if (mdb_txn_begin(g_store.env, NULL, 0, &f->ctx.txn))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	mdb_txn_abort(f->ctx.txn);
	store_close(&g_store);
	pd_arena_free(&f->a);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* The ids listed under an index key. */
static size_t ids_under(struct cmd_ctx *ctx, MDB_dbi dbi, const void *key, size_t klen, int64_t *ids)
{
	MDB_cursor *cur;
	assert_int_equal(mdb_cursor_open(ctx->txn, dbi, &cur), 0);
	MDB_val k = { klen, (void *)key }, v;
	size_t n = 0;
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP))
		ids[n++] = (int64_t)be64_get(v.mv_data);
	mdb_cursor_close(cur);
	return n;
}

static size_t listed(struct cmd_ctx *ctx, const char *key)
{
	int64_t ids[8];
	return ids_under(ctx, record_db(ctx, NOTE.index_db), key, strlen(key), ids);
}

static size_t index_size(struct cmd_ctx *ctx)
{
	MDB_stat s;
	assert_int_equal(mdb_stat(ctx->txn, record_db(ctx, NOTE.index_db), &s), 0);
	return s.ms_entries;
}

static struct pd_value *new_note(struct cmd_ctx *ctx)
{
	struct pd_value *n = pd_map(ctx->a);
	pd_map_set_int(ctx->a, n, "id", 7);
	pd_map_set_str(ctx->a, n, "customer", "C000101");
	pd_map_set_str(ctx->a, n, "taken_by", "op1");
	pd_map_set_str(ctx->a, n, "phone", "13500000001");
	pd_map_set_str(ctx->a, n, "phone2", "13500000001"); /* the same phone: one key */
	pd_map_set_str(ctx->a, n, "ticket", "");              /* empty: no key */
	pd_map_set_str(ctx->a, n, "status", "open");
	pd_map_set_int(ctx->a, n, "follow_up_by", ctx->now + 3600);
	return n;
}

static void test_new_record_is_listed(void **state)
{
	struct fixture *f = *state;
	struct cmd_ctx *ctx = &f->ctx;
	struct pd_value *n = new_note(ctx);
	assert_int_equal(record_save(ctx, &NOTE, NULL, n, "add", "first call"), 0);
	assert_int_equal(listed(ctx, "customer=C000101"), 1);
	assert_int_equal(listed(ctx, "taken_by=op1"), 1);
	assert_int_equal(listed(ctx, "phone=13500000001"), 1);
	assert_int_equal(index_size(ctx), 3); /* no ticket=, no urgent= */
	assert_int_equal(rec_int(n, "due_key"), ctx->now + 3600);
	assert_int_equal(rec_int(n, "timer_at"), ctx->now + 3601);
	assert_true(ctx->fx.timers_changed);
	unsigned char due[8];
	int64_t ids[4];
	be64_put(due, (uint64_t)(ctx->now + 3600));
	assert_int_equal(ids_under(ctx, record_db(ctx, NOTE.due_db), due, 8, ids), 1);
	assert_int_equal(ids[0], 7);
	assert_int_equal(timer_next(ctx->txn, ctx->st), ctx->now + 3601);
	struct pd_value *got;
	assert_int_equal(record_get(ctx, &NOTE, 7, &got), 0);
	assert_string_equal(rec_str(got, "customer"), "C000101");
	assert_int_equal(record_get(ctx, &NOTE, 8, &got), MDB_NOTFOUND);
	assert_int_equal(record_load(ctx, &NOTE, 8, &got), MDB_NOTFOUND);
	assert_int_equal(f->rep.code, 404);
	assert_string_equal(f->rep.msg, "no note 8"); /* no .noun: the kind's name */
}

static void test_change_moves_only_what_changed(void **state)
{
	struct fixture *f = *state;
	struct cmd_ctx *ctx = &f->ctx;
	struct pd_value *before = new_note(ctx);
	assert_int_equal(record_save(ctx, &NOTE, NULL, before, "add", NULL), 0);
	struct pd_value *after = pd_value_copy(ctx->a, before);
	pd_map_set_str(ctx->a, after, "taken_by", "sup1");
	pd_map_set_str(ctx->a, after, "phone2", "13500000002");
	pd_map_set_str(ctx->a, after, "ticket", "T-9");
	pd_map_set_bool(ctx->a, after, "urgent", true);
	pd_map_set_str(ctx->a, after, "status", "done");
	assert_int_equal(record_save(ctx, &NOTE, before, after, "done", NULL), 0);
	assert_int_equal(listed(ctx, "taken_by=op1"), 0);
	assert_int_equal(listed(ctx, "taken_by=sup1"), 1);
	assert_int_equal(listed(ctx, "phone=13500000001"), 1);
	assert_int_equal(listed(ctx, "phone=13500000002"), 1);
	assert_int_equal(listed(ctx, "ticket=T-9"), 1);
	assert_int_equal(listed(ctx, "urgent=1"), 1);
	assert_int_equal(listed(ctx, "customer=C000101"), 1);
	assert_int_equal(index_size(ctx), 6);
	/* done: off the due index and the timer */
	assert_int_equal(rec_int(after, "due_key"), 0);
	assert_int_equal(timer_next(ctx->txn, ctx->st), 0);
	unsigned char due[8];
	int64_t ids[4];
	be64_put(due, (uint64_t)(ctx->now + 3600));
	assert_int_equal(ids_under(ctx, record_db(ctx, NOTE.due_db), due, 8, ids), 0);
	/* the timeline: two entries, the second with the changed fields only */
	struct pd_value *tl;
	assert_int_equal(rec_timeline(ctx, "note", 7, &tl), 0);
	assert_int_equal(tl->u.c.count, 2);
	struct pd_value *last = tl->u.c.tail->val;
	assert_string_equal(rec_str(last, "action"), "done");
	struct pd_value *changes = pd_map_get(last, "changes");
	assert_non_null(changes);
	char fields[128] = "";
	for (struct pd_entry *e = changes->u.c.head; e; e = e->next) {
		strcat(fields, e->key);
		strcat(fields, " ");
	}
	assert_string_equal(fields, "taken_by phone2 ticket status urgent ");
	/* one line each: OLD -> NEW, or NEW alone where there was no value */
	assert_string_equal(rec_str(changes, "taken_by"), "op1 \xe2\x86\x92 sup1");
	assert_string_equal(rec_str(changes, "ticket"), " \xe2\x86\x92 T-9");
	assert_string_equal(rec_str(changes, "urgent"), "yes"); /* no value before */
	/* the opening entry lists what it set, no empty old values */
	struct pd_value *first = pd_map_get(tl->u.c.head->val, "changes");
	assert_non_null(first);
	assert_string_equal(rec_str(first, "taken_by"), "op1");
	assert_null(pd_map_get(first, "ticket")); /* set empty: not listed */
	for (struct pd_entry *e = first->u.c.head; e; e = e->next)
		assert_null(strstr(rec_str(first, e->key), "\xe2\x86\x92"));
}

static void test_no_action_no_timeline(void **state)
{
	struct fixture *f = *state;
	struct cmd_ctx *ctx = &f->ctx;
	struct pd_value *n = new_note(ctx);
	assert_int_equal(record_save(ctx, &NOTE, NULL, n, NULL, NULL), 0);
	struct pd_value *tl;
	assert_int_equal(rec_timeline(ctx, "note", 7, &tl), 0);
	assert_int_equal(tl->u.c.count, 0);
	assert_int_equal(listed(ctx, "customer=C000101"), 1);
}

struct got {
	int64_t *ids;
	size_t n;
};

static bool collect(struct cmd_ctx *ctx, const struct pd_value *r, void *ud)
{
	(void)ctx;
	struct got *g = ud;
	assert_true(g->n < 8);
	g->ids[g->n++] = rec_int(r, "id");
	return true;
}

/* The ids rec_walk_due_by() lists for a taker, due before until. */
static size_t agenda(struct cmd_ctx *ctx, const char *who, int64_t until, int64_t *ids)
{
	struct got g = { ids, 0 };
	size_t kept;
	assert_int_equal(rec_walk_due_by(ctx, &NOTE, who, until, 0, 100, collect, &g, &kept), 0);
	assert_int_equal(kept, g.n);
	return kept;
}

static void test_due_index_per_taker(void **state)
{
	struct fixture *f = *state;
	struct cmd_ctx *ctx = &f->ctx;
	int64_t ids[8], far = ctx->now + 86400;
	struct pd_value *a = new_note(ctx), *b = new_note(ctx);
	pd_map_set_int(ctx->a, b, "id", 8);
	pd_map_set_int(ctx->a, b, "follow_up_by", ctx->now + 60); /* due first */
	assert_int_equal(record_save(ctx, &NOTE, NULL, a, NULL, NULL), 0);
	assert_int_equal(record_save(ctx, &NOTE, NULL, b, NULL, NULL), 0);
	/* the taker's own, earliest first, up to the horizon */
	assert_int_equal(agenda(ctx, "op1", far, ids), 2);
	assert_int_equal(ids[0], 8);
	assert_int_equal(ids[1], 7);
	assert_int_equal(agenda(ctx, "op1", ctx->now + 3600, ids), 1);
	assert_int_equal(agenda(ctx, "sup1", far, ids), 0);
	/* handed to another taker: it moves; done: it leaves */
	struct pd_value *a2 = pd_value_copy(ctx->a, a);
	pd_map_set_str(ctx->a, a2, "taken_by", "sup1");
	assert_int_equal(record_save(ctx, &NOTE, a, a2, NULL, NULL), 0);
	assert_int_equal(agenda(ctx, "op1", far, ids), 1);
	assert_int_equal(agenda(ctx, "sup1", far, ids), 1);
	assert_int_equal(ids[0], 7);
	struct pd_value *a3 = pd_value_copy(ctx->a, a2);
	pd_map_set_str(ctx->a, a3, "status", "done");
	assert_int_equal(record_save(ctx, &NOTE, a2, a3, NULL, NULL), 0);
	assert_int_equal(agenda(ctx, "sup1", far, ids), 0);
	/* the list of the kind goes through it when the taker is filtered on */
	const struct record_filter by[] = { { "customer", NULL, NULL }, { "taken_by", "op1", NULL } };
	struct got g = { ids, 0 };
	struct record_rows list = { RECORD_BY(by), .keep = collect, .ud = &g, .rows = pd_arr(ctx->a) };
	size_t kept;
	assert_int_equal(record_list(ctx, &NOTE, far, &list, 0, 100, &kept), 0);
	assert_int_equal(kept, 1);
	assert_int_equal(ids[0], 8);
}

static void test_due_index_filled_for_an_older_store(void **state)
{
	struct fixture *f = *state;
	struct cmd_ctx *ctx = &f->ctx;
	int64_t ids[8], far = ctx->now + 86400;
	/* saved by a version without the index: in the due index only */
	struct pd_value *n = new_note(ctx);
	assert_int_equal(record_save(ctx, &NOTE, NULL, n, NULL, NULL), 0);
	assert_int_equal(mdb_drop(ctx->txn, record_db(ctx, NOTE.due_by_db), 0), 0);
	assert_int_equal(agenda(ctx, "op1", far, ids), 0);
	assert_int_equal(record_due_by_fill(ctx, &NOTE), 0);
	assert_int_equal(agenda(ctx, "op1", far, ids), 1);
	assert_int_equal(ids[0], 7);
	/* once per store: a second start adds nothing */
	assert_int_equal(mdb_drop(ctx->txn, record_db(ctx, NOTE.due_by_db), 0), 0);
	assert_int_equal(record_due_by_fill(ctx, &NOTE), 0);
	assert_int_equal(agenda(ctx, "op1", far, ids), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_record_is_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_moves_only_what_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_action_no_timeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_index_per_taker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_index_filled_for_an_older_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
