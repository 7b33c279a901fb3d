/* volume.c — monthly counters (see volume.h). */
#include <stdio.h>
#include <string.h>

#include "timefmt.h"
#include "volume.h"

int volume_month(int64_t utc)
{
	return pd_local_day(utc) / 100;
}

/* Appends n bytes of s, as far as the key has room (snprintf's cut). */
static void key_add(char *key, size_t *len, const char *s, size_t n)
{
	size_t room = VOLUME_KEY_MAX - 1 - *len;
	n = n < room ? n : room;
	memcpy(key + *len, s, n);
	*len += n;
}

size_t volume_key(char key[VOLUME_KEY_MAX], const char *scope, const char *id, int month, const char *metric)
{
	/* %06d: a sign, then the digits, zero-padded to six with the sign */
	char num[16];
	size_t at = sizeof(num);
	unsigned m = month < 0 ? 0u - (unsigned)month : (unsigned)month;
	do
		num[--at] = (char)('0' + m % 10);
	while (m /= 10);
	while (sizeof(num) - at < (month < 0 ? 5u : 6u))
		num[--at] = '0';
	if (month < 0)
		num[--at] = '-';
	size_t len = 0;
	key_add(key, &len, scope, strlen(scope));
	key_add(key, &len, "|", 1);
	key_add(key, &len, id, strlen(id));
	key_add(key, &len, "|", 1);
	key_add(key, &len, num + at, sizeof(num) - at);
	key_add(key, &len, "|", 1);
	key_add(key, &len, metric, strlen(metric));
	key[len] = '\0';
	return len;
}

static int add(struct cmd_ctx *ctx, const char *scope, const char *id, int month,
	       const char *metric, int64_t delta)
{
	char key[VOLUME_KEY_MAX];
	volume_key(key, scope, id, month, metric);
	return store_counter_add(ctx->txn, ctx->st->volume, key, delta);
}

int volume_count(struct cmd_ctx *ctx, const struct pd_value *wb,
		 const char *depot, const char *metric, int64_t delta)
{
	int64_t created = 0;
	pd_map_int(wb, "created_at", &created);
	return volume_count_month(ctx, pd_map_str(wb, "customer"), depot,
				  volume_month(created), metric, delta);
}

int volume_count_month(struct cmd_ctx *ctx, const char *customer,
		       const char *depot, int month, const char *metric,
		       int64_t delta)
{
	int rc = 0;
	if (customer && *customer)
		rc = add(ctx, "C", customer, month, metric, delta);
	if (!rc && depot && *depot)
		rc = add(ctx, "D", depot, month, metric, delta);
	if (!rc)
		rc = add(ctx, "N", "all", month, metric, delta);
	return rc;
}

int volume_incidents(struct cmd_ctx *ctx, int month, struct pd_value *whats)
{
	char key[8];
	snprintf(key, sizeof(key), "%06d", month);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->incidents, &cur);
	if (rc)
		return rc;
	MDB_val k = { 6, key }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP))
		pd_arr_push(ctx->a, whats, pd_str(ctx->a, pd_strndup(ctx->a, v.mv_data, v.mv_size)));
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int volume_incident(struct cmd_ctx *ctx, int month, const char *what)
{
	char key[8];
	snprintf(key, sizeof(key), "%06d", month);
	return store_index_add(ctx->txn, ctx->st->incidents, key, 6, what, strlen(what));
}

int64_t volume_get(MDB_txn *txn, struct store *st, const char *scope,
		   const char *id, int month, const char *metric)
{
	char key[VOLUME_KEY_MAX];
	MDB_val k = { volume_key(key, scope, id, month, metric), key }, v;
	if (mdb_get(txn, st->volume, &k, &v) != 0 || v.mv_size != 8)
		return 0;
	return (int64_t)be64_get(v.mv_data);
}
