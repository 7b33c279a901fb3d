/* waybill_list.c — WAYBILL LIST: finding parcels without their number, by
 * the day they were registered, a depot, a customer account, a status.
 *
 * The index "idx_wb" holds "day=YYYYMMDD" (the local day of created_at),
 * "depot=CODE" (origin and every destination the waybill had) and
 * "customer=ACCOUNT" -> number. It is kept by waybill_save() and built at
 * open for a store written before it existed. Rows hold no sender or
 * receiver data: names, phones and addresses are shown only by WAYBILL GET
 * (the number known) or WAYBILL FIND (an ID check and an approval). */
#include <stdio.h>
#include <string.h>

#include "record.h"
#include "timefmt.h"
#include "waybill.h"

#define KEY_MAX 96

/* The index keys of a waybill; returns how many (at most 4). */
static int index_keys(const struct pd_value *wb, char keys[4][KEY_MAX])
{
	int n = 0;
	snprintf(keys[n++], KEY_MAX, "day=%08d", pd_local_day(rec_int(wb, "created_at")));
	static const char *const fields[] = { "origin_depot", "dest_depot", "customer" };
	for (int i = 0; i < 3; i++) {
		const char *v = rec_str(wb, fields[i]);
		if (*v && strlen(v) < KEY_MAX - 10)
			snprintf(keys[n++], KEY_MAX, "%s=%s", i < 2 ? "depot" : "customer", v);
	}
	return n;
}

int waybill_list_index(MDB_txn *txn, struct store *st, const char *number, const struct pd_value *wb)
{
	char keys[4][KEY_MAX];
	int n = index_keys(wb, keys), rc = 0;
	for (int i = 0; i < n && !rc; i++)
		rc = store_index_add(txn, st->idx_waybill, keys[i], strlen(keys[i]), number, strlen(number));
	return rc;
}

int waybill_list_open(struct cmd_ctx *ctx, bool *more)
{
	MDB_stat idx, all;
	MDB_cursor *cur;
	int rc;
	*more = false;
	if ((rc = mdb_stat(ctx->txn, ctx->st->idx_waybill, &idx)) ||
	    (rc = mdb_stat(ctx->txn, ctx->st->waybills, &all)) || idx.ms_entries > 0 || all.ms_entries == 0)
		return rc;
	if ((rc = mdb_cursor_open(ctx->txn, ctx->st->waybills, &cur)))
		return rc;
	MDB_val k, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct pd_value *wb;
		if ((rc = waybill_value_record(ctx->a, &v, &wb)))
			break;
		const char *number = pd_strndup(ctx->a, k.mv_data, k.mv_size);
		if ((rc = waybill_list_index(ctx->txn, ctx->st, number, wb)))
			break;
		pd_arena_reset(ctx->a);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct list_filter {
	const char *depot, *customer, *status;
	int day;
};

static bool wanted(const struct list_filter *f, const struct pd_value *wb)
{
	if (f->day && pd_local_day(rec_int(wb, "created_at")) != f->day)
		return false;
	if (f->customer && strcmp(rec_str(wb, "customer"), f->customer) != 0)
		return false;
	if (f->status && strcmp(rec_str(wb, "status"), f->status) != 0)
		return false;
	return !f->depot || !strcmp(rec_str(wb, "origin_depot"), f->depot) ||
	       !strcmp(rec_str(wb, "dest_depot"), f->depot);
}

static struct pd_value *row(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb)
{
	static const char *const fields[] = { "status", "origin_depot", "dest_depot", "customer",
					      "created_at", "promised_at", "last_event_at", NULL };
	struct pd_value *r = pd_map(ctx->a);
	pd_map_set_str(ctx->a, r, "number", number);
	for (const char *const *f = fields; *f; f++) {
		const struct pd_value *v = pd_map_get(wb, *f);
		pd_map_set(ctx->a, r, *f, v ? present_field(ctx, *f, v) : pd_str(ctx->a, ""));
	}
	return r;
}

int waybill_walk(struct cmd_ctx *ctx, const char *key, const char *before, int64_t limit, waybill_visit keep,
		 void *ud, int64_t *kept)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->idx_waybill, &cur);
	if (rc)
		return rc;
	MDB_val k = { strlen(key), (void *)key }, v = { before ? strlen(before) : 0, (void *)before };
	/* newest number first; before=NUMBER goes on below it */
	rc = mdb_cursor_get(cur, &k, &v, before ? MDB_GET_BOTH_RANGE : MDB_SET_KEY);
	if (rc == 0 && !before)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
	else if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV_DUP);
	else if (rc == MDB_NOTFOUND && before && mdb_cursor_get(cur, &k, &v, MDB_SET_KEY) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP); /* before is above every number */
	*kept = 0;
	for (; rc == 0 && *kept < limit; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV_DUP)) {
		const char *number = pd_strndup(ctx->a, v.mv_data, v.mv_size);
		struct pd_value *wb;
		if ((rc = waybill_get(ctx, number, &wb)))
			break;
		if ((rc = keep(ctx, number, wb, ud)) > 0) {
			(*kept)++;
			rc = 0;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct list_walk {
	const struct list_filter *f;
	struct pd_value *rows;
};

static int list_keep(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb, void *ud)
{
	struct list_walk *w = ud;
	if (!wanted(w->f, wb))
		return 0;
	pd_arr_push(ctx->a, w->rows, row(ctx, number, wb));
	return 1;
}

int cmd_waybill_list(struct cmd_ctx *ctx)
{
	struct list_filter f = { .depot = pd_arg_str(ctx->args, "depot"),
				 .customer = pd_arg_str(ctx->args, "customer"),
				 .status = pd_arg_str(ctx->args, "status") };
	const char *day = pd_arg_str(ctx->args, "day"), *before = pd_arg_str(ctx->args, "before");
	int64_t limit, before_id; /* before= is a number here, not an id */
	if (rec_list_args(ctx, &limit, &before_id))
		return PD_EREPLIED;
	if (!day && !f.depot && !f.customer)
		return reply_error(ctx, 400, "give day, depot or customer");
	/* Without an account, a list is a search without a waybill number:
	 * it takes a supervisor, whose own request is the approval. */
	if (!f.customer && ctx->sess->role < ROLE_SUPERVISOR)
		return reply_error(ctx, 403, "WAYBILL LIST without customer= needs the supervisor role "
					     "(a search without a waybill number)");
	int y, m, d;
	if (day && pd_date_parse(day, &y, &m, &d) == 0)
		f.day = y * 10000 + m * 100 + d;
	/* the most selective index first: an account, a day, a depot */
	const char *key = f.customer ? pd_sprintf(ctx->a, "customer=%s", f.customer)
		: f.day ? pd_sprintf(ctx->a, "day=%08d", f.day) : pd_sprintf(ctx->a, "depot=%s", f.depot);

	struct list_walk w = { &f, pd_arr(ctx->a) };
	int64_t kept;
	int rc = waybill_walk(ctx, key, before, limit, list_keep, &w, &kept);
	if (rc)
		return reply_store_error(ctx, rc);
	struct pd_value *rows = w.rows;
	ctx->rep->data = rows;
	reply_ok(ctx, 200, "%s", count_of(ctx, (int64_t)rows->u.c.count, "waybill", "waybills"));
	return 0;
}
