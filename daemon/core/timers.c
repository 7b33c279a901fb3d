/* timers.c — due-time actions without scanning: every module writes the
 * instant its object next needs attention into `timers`; the loop keeps one
 * libevent timer for the earliest entry and, when it fires, runs SWEEP in
 * the writer, which hands each due entry to its module. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "complaint.h"
#include "customer.h"
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

/* Runs at most SWEEP_BATCH due entries; `more: yes` asks the loop to run
 * again at once. Each module's handler moves or removes its own entry. */
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
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || (int64_t)be64_get(k.mv_data) > ctx->now)
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
		if (!colon)
			continue;
		*colon = '\0';
		snprintf(batch[n].kind, sizeof(batch[n].kind), "%s", val);
		batch[n].id = strtoull(colon + 1, NULL, 10);
		n++;
	}
	mdb_cursor_close(cur);
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(batch[i].kind, "complaint") == 0)
			rc = complaint_on_due(ctx, batch[i].id);
		else if (strcmp(batch[i].kind, "claim") == 0)
			rc = claim_on_due(ctx, batch[i].id);
		else if (strcmp(batch[i].kind, "contact") == 0)
			rc = contact_on_due(ctx, batch[i].id);
		else if (strcmp(batch[i].kind, "monthend") == 0)
			rc = monthend_on_due(ctx, batch[i].id);
		else
			rc = 0;
		if (rc)
			return reply_store_error(ctx, rc);
		done++;
	}
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_int(ctx->a, d, "done", (int64_t)done);
	pd_map_set_bool(ctx->a, d, "more", more);
	ctx->rep->data = d;
	ctx->fx.timers_changed = true;
	reply_ok(ctx, 200, "%zu due action(s) run", done);
	return 0;
}
