/* waybill_value.c — a waybill's value in `waybills` (see waybill.h): its
 * packed view, its newest events and its record under one key, and the
 * record read from it (waybill_get: for waybill.c and waybill_list.c,
 * which waybill.c calls). */
#include <string.h>

#include "waybill.h"

int waybill_value_split(const MDB_val *v, struct waybill_value *out)
{
	const unsigned char *p = v->mv_data;
	*out = (struct waybill_value){ .rec = *v };
	out->legacy = !v->mv_size || (p[0] != WAYBILL_VALUE_TAG && p[0] != WAYBILL_VALUE_TAG_RECENT);
	if (out->legacy)
		return 0;
	out->has_recent = p[0] == WAYBILL_VALUE_TAG_RECENT;
	size_t head = out->has_recent ? WAYBILL_VALUE_HEAD_RECENT : WAYBILL_VALUE_HEAD;
	if (v->mv_size < head)
		return MDB_CORRUPTED;
	uint64_t view = be32_get(p + 1), recent = out->has_recent ? be32_get(p + 5) : 0;
	if (view + recent > v->mv_size - head)
		return MDB_CORRUPTED;
	if (out->has_recent) {
		out->spilled = be32_get(p + 9);
		out->recent_n = be32_get(p + 13);
		/* every event takes a byte at least; none is empty */
		if (out->recent_n > recent || (recent && !out->recent_n) || out->spilled > UINT32_MAX - out->recent_n)
			return MDB_CORRUPTED;
	}
	out->view = (MDB_val){ view, (void *)(p + head) };
	out->recent = (MDB_val){ recent, (void *)(p + head + view) };
	out->rec = (MDB_val){ v->mv_size - head - view - recent, (void *)(p + head + view + recent) };
	return 0;
}

void waybill_value_head(unsigned char *h, const struct waybill_value *wv)
{
	h[0] = WAYBILL_VALUE_TAG_RECENT;
	be32_put(h + 1, (uint32_t)wv->view.mv_size);
	be32_put(h + 5, (uint32_t)wv->recent.mv_size);
	be32_put(h + 9, wv->spilled);
	be32_put(h + 13, wv->recent_n);
}

int waybill_recent_next(const unsigned char **p, const unsigned char *end, MDB_val *ev)
{
	struct pd_mp_scan s;
	pd_mp_scan_init(&s);
	if (*p >= end || pd_mp_scan(&s, (const char *)*p, (size_t)(end - *p)) != PD_UNPACK_OK)
		return MDB_CORRUPTED;
	*ev = (MDB_val){ s.pos, (void *)*p };
	*p += s.pos;
	return 0;
}

int waybill_split_record(struct pd_arena *a, const struct waybill_value *wv, struct pd_value **wb)
{
	size_t used;
	return pd_value_unpack(a, wv->rec.mv_data, wv->rec.mv_size, &used, wb) == PD_UNPACK_OK ? 0 : MDB_CORRUPTED;
}

int waybill_value_record(struct pd_arena *a, const MDB_val *v, struct pd_value **wb)
{
	struct waybill_value wv;
	return waybill_value_split(v, &wv) ? MDB_CORRUPTED : waybill_split_record(a, &wv, wb);
}

int waybill_get(struct cmd_ctx *ctx, const char *number, struct pd_value **wb)
{
	MDB_val k = { strlen(number), (void *)number }, v;
	int rc = mdb_get(ctx->txn, ctx->st->waybills, &k, &v);
	return rc ? rc : waybill_value_record(ctx->a, &v, wb);
}
