/* record.c — shared handling of stored records (see record.h). */
#include <stdio.h>
#include <string.h>

#include "record.h"

int64_t rec_int(const struct pd_value *r, const char *key)
{
	int64_t v = 0;
	pd_map_int(r, key, &v);
	return v;
}

const char *rec_str(const struct pd_value *r, const char *key)
{
	const char *s = pd_map_str(r, key);
	return s ? s : "";
}

int rec_load(struct cmd_ctx *ctx, MDB_dbi dbi, const char *noun, int64_t id,
	     struct pd_value **out)
{
	unsigned char key[8];
	be64_put(key, (uint64_t)id);
	int rc = store_get(ctx->txn, dbi, key, 8, ctx->a, out);
	if (rc == MDB_NOTFOUND)
		reply_error(ctx, 404, "no %s %lld", noun, (long long)id);
	else if (rc)
		reply_store_error(ctx, rc);
	return rc;
}

int rec_save(struct cmd_ctx *ctx, MDB_dbi dbi, int64_t id, const struct pd_value *r)
{
	unsigned char key[8];
	be64_put(key, (uint64_t)id);
	return store_put(ctx->txn, dbi, key, 8, r, 0);
}

int rec_index_move(struct cmd_ctx *ctx, MDB_dbi dbi, const char *old_key,
		   const char *new_key, int64_t id)
{
	if (old_key && new_key && strcmp(old_key, new_key) == 0)
		return 0;
	unsigned char v[8];
	be64_put(v, (uint64_t)id);
	int rc = 0;
	if (old_key)
		rc = store_index_del(ctx->txn, dbi, old_key, strlen(old_key), v, 8);
	if (!rc && new_key)
		rc = store_index_add(ctx->txn, dbi, new_key, strlen(new_key), v, 8);
	return rc;
}

int rec_due_move(struct cmd_ctx *ctx, MDB_dbi dbi, int64_t old_at,
		 int64_t new_at, int64_t id)
{
	if (old_at == new_at)
		return 0;
	unsigned char k[8], v[8];
	be64_put(v, (uint64_t)id);
	int rc = 0;
	if (old_at) {
		be64_put(k, (uint64_t)old_at);
		rc = store_index_del(ctx->txn, dbi, k, 8, v, 8);
	}
	if (!rc && new_at) {
		be64_put(k, (uint64_t)new_at);
		rc = store_index_add(ctx->txn, dbi, k, 8, v, 8);
	}
	return rc;
}

/* Fields that are bookkeeping of the store, not facts of the object. */
static bool is_bookkeeping(const char *key)
{
	return !strcmp(key, "timer_at") || !strcmp(key, "due_key");
}

static struct pd_value *diff(struct cmd_ctx *ctx, const struct pd_value *before,
			     const struct pd_value *after)
{
	struct pd_value *changes = pd_arr(ctx->a);
	for (struct pd_entry *e = after->u.c.head; e; e = e->next) {
		if (is_bookkeeping(e->key))
			continue;
		struct pd_value *old = before ? pd_map_get(before, e->key) : NULL;
		struct pd_buf a, b;
		pd_buf_init(&a);
		pd_buf_init(&b);
		pd_buf_add(&a, "", 0);
		pd_buf_add(&b, "", 0);
		if (old)
			pd_value_render_text(present_field(ctx, e->key, old), &a);
		pd_value_render_text(present_field(ctx, e->key, e->val), &b);
		if (!old || a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
			struct pd_value *ch = pd_map(ctx->a);
			pd_map_set_str(ctx->a, ch, "field", e->key);
			pd_map_set(ctx->a, ch, "old", old ? pd_strn(ctx->a, a.data, a.len) : pd_nil(ctx->a));
			pd_map_set(ctx->a, ch, "new", pd_strn(ctx->a, b.data, b.len));
			pd_arr_push(ctx->a, changes, ch);
		}
		pd_buf_free(&a);
		pd_buf_free(&b);
	}
	return changes;
}

int rec_audit_change(struct cmd_ctx *ctx, const char *kind, int64_t id,
		     const char *action, const char *text,
		     const struct pd_value *before, const struct pd_value *after)
{
	struct pd_value *detail = pd_map(ctx->a);
	if (text)
		pd_map_set_str(ctx->a, detail, "text", text);
	pd_map_set(ctx->a, detail, "changes", diff(ctx, before, after));
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	return store_audit(ctx->txn, ctx->st, kind, idbuf, ctx->sess->user, ctx->now, action, detail);
}

int rec_timeline(struct cmd_ctx *ctx, const char *kind, int64_t id,
		 struct pd_value **out)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	struct pd_value *raw;
	int rc = store_audit_read(ctx->txn, ctx->st, kind, idbuf, ctx->a, &raw);
	if (rc == 0)
		*out = present(ctx, raw);
	return rc;
}

int rec_list_args(struct cmd_ctx *ctx, int64_t *limit, int64_t *before)
{
	*limit = LIST_LIMIT_DEFAULT;
	*before = 0;
	pd_arg_int(ctx->args, "limit", limit);
	pd_arg_int(ctx->args, "before", before);
	if (*limit < 1 || *limit > ctx->cfg->list_limit_max) {
		reply_error(ctx, 400, "argument 'limit' must be from 1 to %lld", (long long)ctx->cfg->list_limit_max);
		return -1;
	}
	return 0;
}

int rec_walk_newest(struct cmd_ctx *ctx, MDB_dbi table, MDB_dbi index,
		    const char *key, int64_t before, int64_t limit,
		    rec_visit keep, void *ud, size_t *kept)
{
	MDB_cursor *cur;
	MDB_dbi dbi = key ? index : table;
	int rc = mdb_cursor_open(ctx->txn, dbi, &cur);
	if (rc)
		return rc;
	MDB_val k = { key ? strlen(key) : 0, (void *)key }, v;
	if (key) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
		if (rc == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
	} else {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	*kept = 0;
	while (rc == 0 && (int64_t)*kept < limit) {
		const unsigned char *idp = key ? v.mv_data : k.mv_data;
		uint64_t id = be64_get(idp);
		if (!before || id < (uint64_t)before) {
			struct pd_value *r;
			size_t used;
			if (key) {
				if ((rc = store_get(ctx->txn, table, idp, 8, ctx->a, &r)))
					break;
			} else if (pd_value_unpack(ctx->a, v.mv_data, v.mv_size, &used, &r) != PD_UNPACK_OK) {
				rc = MDB_CORRUPTED;
				break;
			}
			if (keep(ctx, r, ud))
				(*kept)++;
		}
		rc = mdb_cursor_get(cur, &k, &v, key ? MDB_PREV_DUP : MDB_PREV);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
