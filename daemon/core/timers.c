/* timers.c — due-time actions without scanning: every module writes the
 * instant its object next needs attention into `timers`; the loop keeps one
 * libevent timer for the earliest entry and, when it fires, runs SWEEP in
 * the writer, which takes each due entry out and hands it to the module
 * that keeps that kind (modules.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define SWEEP_BATCH 256

static size_t timer_value(const char *kind, uint64_t id, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s:%llu", kind, (unsigned long long)id);
	return n < 0 ? 0 : (size_t)n;
}

int timer_set(struct cmd_ctx *ctx, const char *kind, uint64_t id,
	      int64_t old_at, int64_t new_at)
{
	if (old_at == new_at)
		return 0;
	char val[64];
	size_t vlen = timer_value(kind, id, val, sizeof(val));
	unsigned char key[8];
	int rc = 0;
	if (old_at > 0) {
		be64_put(key, (uint64_t)old_at);
		rc = store_index_del(ctx->txn, ctx->st->timers, key, 8, val, vlen);
	}
	if (rc == 0 && new_at > 0) {
		be64_put(key, (uint64_t)new_at);
		rc = store_index_add(ctx->txn, ctx->st->timers, key, 8, val, vlen);
	}
	ctx->fx.timers_changed = true;
	return rc;
}

int64_t timer_next(MDB_txn *txn, struct store *st)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int64_t at = 0;
	if (mdb_cursor_open(txn, st->timers, &cur) != 0)
		return 0;
	if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8)
		at = (int64_t)be64_get(k.mv_data);
	mdb_cursor_close(cur);
	return at;
}

struct due_entry {
	char kind[64];
	uint64_t id;
};

/* Runs one due entry with its module's handler in a nested transaction,
 * so a handler that fails loses only its own writes. */
static int run_due(struct cmd_ctx *ctx, const struct due_entry *e)
{
	const struct pd_module *m = module_for_timer(e->kind);
	if (!m) {
		log_msg("error", 0, "parceldeskd", "due entry of unknown kind '%s:%llu' dropped",
			e->kind, (unsigned long long)e->id);
		return 0;
	}
	MDB_txn *parent = ctx->txn, *child;
	int rc = mdb_txn_begin(ctx->st->env, parent, 0, &child);
	if (rc)
		return rc;
	ctx->txn = child;
	rc = m->on_due(ctx, e->id);
	ctx->txn = parent;
	if (rc) {
		mdb_txn_abort(child);
		if (rc == MDB_MAP_FULL)
			return rc;
		log_msg("error", 0, "parceldeskd", "due %s:%llu failed, dropped: %s",
			e->kind, (unsigned long long)e->id, pd_strerror(rc));
		return 0;
	}
	return mdb_txn_commit(child);
}

/* Takes at most SWEEP_BATCH due entries out of `timers` — every one, a
 * stray or unreadable one too, so that no entry is met twice and the
 * timer cannot fire again and again at the same instant — then hands each
 * to its module's on_due, which sets a new entry if its record needs one.
 * A handler that fails is logged and its entry dropped (its record's next
 * change sets its due time again); MDB_MAP_FULL fails the whole SWEEP, the
 * writer grows the map and runs it again. `more: yes` asks the loop to run
 * again at once. */
int cmd_sweep(struct cmd_ctx *ctx)
{
	struct due_entry batch[SWEEP_BATCH];
	size_t n = 0;
	bool more = false;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->timers, &cur);
	if (rc)
		return reply_store_error(ctx, rc);
	MDB_val k, v;
	/* always the first entry: the one before it has just been deleted */
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		if (k.mv_size == 8 && (int64_t)be64_get(k.mv_data) > ctx->now)
			break;
		if (n == SWEEP_BATCH) {
			more = true;
			break;
		}
		char val[64];
		size_t len = v.mv_size < sizeof(val) - 1 ? v.mv_size : sizeof(val) - 1;
		memcpy(val, v.mv_data, len);
		val[len] = '\0';
		char *colon = strchr(val, ':');
		bool valid = k.mv_size == 8 && colon;
		if (valid) {
			*colon = '\0';
			snprintf(batch[n].kind, sizeof(batch[n].kind), "%s", val);
			batch[n].id = strtoull(colon + 1, NULL, 10);
		}
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
		if (valid)
			n++;
		else
			log_msg("error", 0, "parceldeskd", "unreadable due entry '%s' dropped", val);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	for (size_t i = 0; i < n; i++)
		if ((rc = run_due(ctx, &batch[i])))
			return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_int(ctx->a, d, "done", (int64_t)n);
	pd_map_set_bool(ctx->a, d, "more", more);
	ctx->rep->data = d;
	ctx->fx.timers_changed = true;
	reply_ok(ctx, 200, "%zu due action(s) run", n);
	return 0;
}
