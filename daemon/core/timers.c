/* timers.c — due-time actions without scanning: every module writes the
 * instant its object next needs attention into `timers`; the loop keeps one
 * libevent timer for the earliest entry and, when it fires, runs SWEEP in
 * the writer (modules.c), which takes the due entries out with
 * timers_take_due() and hands each to the module that keeps that kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

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

/* Takes every entry, a stray or unreadable one too, so that no entry is
 * met twice and the loop's timer cannot fire again and again at the same
 * instant; the owner of a valid one sets a new entry if its record needs
 * one (modules.c runs them). */
int timers_take_due(struct cmd_ctx *ctx, struct timer_due *out, size_t cap,
		    size_t *n, bool *more)
{
	*n = 0;
	*more = false;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->timers, &cur);
	if (rc)
		return rc;
	MDB_val k, v;
	/* always the first entry: the one before it has just been deleted */
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		if (k.mv_size == 8 && (int64_t)be64_get(k.mv_data) > ctx->now)
			break;
		if (*n == cap) {
			*more = true;
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
			snprintf(out[*n].kind, sizeof(out[*n].kind), "%s", val);
			out[*n].id = strtoull(colon + 1, NULL, 10);
		}
		if ((rc = store_cursor_del(cur)))
			break;
		if (valid)
			(*n)++;
		else
			log_msg("error", 0, "parceldeskd", "unreadable due entry '%s' dropped", val);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
