/* waybill_value.c — a waybill's value in `waybills` (see waybill.h): its
 * packed view and its record under one key, and the record read from it
 * (waybill_get: for waybill.c and waybill_list.c, which waybill.c calls). */
#include <string.h>

#include "waybill.h"

int waybill_value_split(const MDB_val *v, MDB_val *view, MDB_val *rec, bool *legacy)
{
	const unsigned char *p = v->mv_data;
	*legacy = !v->mv_size || p[0] != WAYBILL_VALUE_TAG;
	if (*legacy) {
		*view = (MDB_val){ 0, NULL };
		*rec = *v;
		return 0;
	}
	if (v->mv_size < WAYBILL_VALUE_HEAD)
		return MDB_CORRUPTED;
	uint32_t n = be32_get(p + 1);
	if (n > v->mv_size - WAYBILL_VALUE_HEAD)
		return MDB_CORRUPTED;
	*view = (MDB_val){ n, (void *)(p + WAYBILL_VALUE_HEAD) };
	*rec = (MDB_val){ v->mv_size - WAYBILL_VALUE_HEAD - n, (void *)(p + WAYBILL_VALUE_HEAD + n) };
	return 0;
}

int waybill_value_record(struct pd_arena *a, const MDB_val *v, struct pd_value **wb)
{
	MDB_val view, rec;
	bool legacy;
	size_t used;
	if (waybill_value_split(v, &view, &rec, &legacy) ||
	    pd_value_unpack(a, rec.mv_data, rec.mv_size, &used, wb) != PD_UNPACK_OK)
		return MDB_CORRUPTED;
	return 0;
}

int waybill_get(struct cmd_ctx *ctx, const char *number, struct pd_value **wb)
{
	MDB_val k = { strlen(number), (void *)number }, v;
	int rc = mdb_get(ctx->txn, ctx->st->waybills, &k, &v);
	return rc ? rc : waybill_value_record(ctx->a, &v, wb);
}
