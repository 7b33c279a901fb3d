/* record.c — shared handling of stored records (see record.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int64_t rec_int(const struct pd_value *r, const char *key)
{
	int64_t v = 0;
	pd_map_int(r, key, &v);
	return v;
}

int64_t rec_overdue_timer(const struct pd_value *r, int64_t due)
{
	return due && !pd_map_bool(r, "overdue") ? due + 1 : 0;
}

const char *rec_str(const struct pd_value *r, const char *key)
{
	const char *s = pd_map_str(r, key);
	return s ? s : "";
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

/* ---- declared record kinds ---- */

#define RECORD_KEYS_MAX 16

static MDB_dbi store_db(const struct store *st, size_t member)
{
	MDB_dbi dbi;
	memcpy(&dbi, (const char *)st + member, sizeof(dbi));
	return dbi;
}

MDB_dbi record_db(const struct cmd_ctx *ctx, size_t member)
{
	return store_db(ctx->st, member);
}

const struct session record_daemon = { .user = "parceldeskd", .role = ROLE_ADMIN };

const char *record_key(struct cmd_ctx *ctx, const char *name, const char *value)
{
	return value && *value ? pd_sprintf(ctx->a, "%s=%s", name, value) : NULL;
}

int record_new(struct cmd_ctx *ctx, const struct record_kind *kind, struct pd_value **out)
{
	uint64_t id;
	int rc = store_next_seq(ctx->txn, ctx->st, kind->name, &id);
	if (rc)
		return rc;
	*out = pd_map(ctx->a);
	pd_map_set_int(ctx->a, *out, "id", (int64_t)id);
	return 0;
}

int record_get(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t id,
	       struct pd_value **out)
{
	unsigned char key[8];
	be64_put(key, (uint64_t)id);
	return store_get(ctx->txn, record_db(ctx, kind->db), key, 8, ctx->a, out);
}

int record_get_copy(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t id,
		    struct pd_value **before, struct pd_value **after)
{
	int rc = record_get(ctx, kind, id, before);
	if (rc == 0)
		*after = pd_value_copy(ctx->a, *before);
	return rc;
}

int record_load(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t id,
		struct pd_value **out)
{
	int rc = record_get(ctx, kind, id, out);
	if (rc == MDB_NOTFOUND)
		reply_error(ctx, 404, "no %s %lld", kind->noun ? kind->noun : kind->name, (long long)id);
	else if (rc)
		reply_store_error(ctx, rc);
	return rc;
}

int record_load_arg(struct cmd_ctx *ctx, const struct record_kind *kind,
		    struct pd_value **before, struct pd_value **after)
{
	int64_t id = 0;
	pd_arg_int(ctx->args, "id", &id);
	int rc = record_load(ctx, kind, id, before);
	if (rc == 0 && after)
		*after = pd_value_copy(ctx->a, *before);
	return rc;
}

/* "name=value" of a string or integer field, NULL when absent or "". */
static const char *field_key(struct cmd_ctx *ctx, const char *name, const struct pd_value *v)
{
	if (v && v->type == PD_STR && v->u.s.len)
		return pd_sprintf(ctx->a, "%s=%.*s", name, (int)v->u.s.len, v->u.s.ptr);
	if (v && v->type == PD_INT)
		return pd_sprintf(ctx->a, "%s=%lld", name, (long long)v->u.i);
	return NULL;
}

/* Adds key (none when NULL) to keys unless it is there. */
static size_t key_add(const char **keys, size_t n, const char *key)
{
	for (size_t i = 0; i < n && key; i++)
		if (strcmp(keys[i], key) == 0)
			return n;
	if (key && n < RECORD_KEYS_MAX)
		keys[n++] = key;
	return n;
}

/* The index keys of a record, each once. */
static size_t index_keys(struct cmd_ctx *ctx, const struct record_kind *kind,
			 const struct pd_value *r, const char **keys)
{
	size_t n = 0;
	if (!r)
		return 0;
	for (const char *const *f = kind->fields; f && *f; f++)
		n = key_add(keys, n, field_key(ctx, *f, pd_map_get(r, *f)));
	for (const struct record_index *ix = kind->indexes; ix && ix->name; ix++)
		n = key_add(keys, n, ix->key ? ix->key(ctx, r)
				   : field_key(ctx, ix->name, ix->field ? pd_map_get(r, ix->field) : NULL));
	return n;
}

static bool key_in(const char *key, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/* Removes the keys only before and adds those only after. */
static int index_move(struct cmd_ctx *ctx, const struct record_kind *kind,
		      const struct pd_value *before, const struct pd_value *after, int64_t id)
{
	const char *old_keys[RECORD_KEYS_MAX], *new_keys[RECORD_KEYS_MAX];
	size_t n_old = index_keys(ctx, kind, before, old_keys);
	size_t n_new = index_keys(ctx, kind, after, new_keys);
	MDB_dbi dbi = record_db(ctx, kind->index_db);
	int rc = 0;
	for (size_t i = 0; i < n_old && !rc; i++)
		if (!key_in(old_keys[i], new_keys, n_new))
			rc = rec_index_move(ctx, dbi, old_keys[i], NULL, id);
	for (size_t i = 0; i < n_new && !rc; i++)
		if (!key_in(new_keys[i], old_keys, n_old))
			rc = rec_index_move(ctx, dbi, NULL, new_keys[i], id);
	return rc;
}

/* In a DUPSORT index of be64 time -> be64 id, moves id (0 = absent). */
static int due_move(struct cmd_ctx *ctx, MDB_dbi dbi, int64_t old_at, int64_t new_at, int64_t id)
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

/* The entry of a record in its kind's per-value due index: "VALUE" ->
 * be64 due be64 id. */
static void due_by_entry(unsigned char v[16], int64_t at, int64_t id)
{
	be64_put(v, (uint64_t)at);
	be64_put(v + 8, (uint64_t)id);
}

static int due_by_move(struct cmd_ctx *ctx, const struct record_kind *kind, const struct pd_value *before,
		       const struct pd_value *after, int64_t due, int64_t id)
{
	const char *was = before ? rec_str(before, kind->due_by) : "", *is = rec_str(after, kind->due_by);
	int64_t was_at = before ? rec_int(before, "due_key") : 0;
	if (was_at == due && strcmp(was, is) == 0)
		return 0;
	MDB_dbi dbi = record_db(ctx, kind->due_by_db);
	unsigned char v[16];
	int rc = 0;
	if (was_at && *was) {
		due_by_entry(v, was_at, id);
		rc = store_index_del(ctx->txn, dbi, was, strlen(was), v, 16);
	}
	if (!rc && due && *is) {
		due_by_entry(v, due, id);
		rc = store_index_add(ctx->txn, dbi, is, strlen(is), v, 16);
	}
	return rc;
}

int record_save(struct cmd_ctx *ctx, const struct record_kind *kind,
		const struct pd_value *before, struct pd_value *after,
		const char *action, const char *text)
{
	int64_t id = rec_int(after, "id");
	int rc = 0;
	if (kind->due) {
		int64_t due = kind->due(after);
		pd_map_set_int(ctx->a, after, "due_key", due);
		rc = due_move(ctx, record_db(ctx, kind->due_db), before ? rec_int(before, "due_key") : 0, due, id);
		if (!rc && kind->due_by_db)
			rc = due_by_move(ctx, kind, before, after, due, id);
	}
	if (!rc && kind->timer) {
		int64_t at = kind->timer(after);
		pd_map_set_int(ctx->a, after, "timer_at", at);
		rc = timer_set(ctx, kind->name, (uint64_t)id, before ? rec_int(before, "timer_at") : 0, at);
	}
	if (!rc && kind->index_db)
		rc = index_move(ctx, kind, before, after, id);
	if (!rc) {
		unsigned char key[8];
		be64_put(key, (uint64_t)id);
		rc = store_put(ctx->txn, record_db(ctx, kind->db), key, 8, after, 0);
	}
	if (!rc && action)
		rc = rec_audit_change(ctx, kind->name, id, action, text, before, after);
	return rc;
}

int record_reply(struct cmd_ctx *ctx, const struct record_kind *kind, int save_rc,
		 const struct pd_value *before, const struct pd_value *after,
		 int code, const char *msg)
{
	if (save_rc)
		return reply_store_error(ctx, save_rc);
	if (!ctx->rep->data)
		ctx->rep->data = kind->summary ? kind->summary(ctx, before, after) : present(ctx, after);
	return reply_ok(ctx, code, "%s", msg);
}

int record_ids_where(struct cmd_ctx *ctx, const struct record_kind *kind,
		     const char *const *keys, size_t n_keys, const char *field,
		     const char *value, struct pd_value *ids)
{
	struct pd_value *pair = pd_map(ctx->a);
	pd_map_set_str(ctx->a, pair, field, value);
	char *packed;
	size_t packed_len;
	if (pd_value_to_msgpack(pair, &packed, &packed_len) < 0 || packed_len < 2)
		return ENOMEM;
	const char *needle = packed + 1; /* past the one-entry map's header */
	size_t needle_len = packed_len - 1;
	MDB_dbi table = record_db(ctx, kind->db);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, record_db(ctx, kind->index_db), &cur);
	if (rc)
		goto out;
	for (size_t i = 0; i < n_keys && (rc == 0 || rc == MDB_NOTFOUND); i++) {
		MDB_val k = { strlen(keys[i]), (void *)keys[i] }, v, rec;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
			if (v.mv_size != 8)
				continue;
			MDB_val idkey = { 8, v.mv_data };
			if ((rc = mdb_get(ctx->txn, table, &idkey, &rec)))
				break;
			if (!memmem(rec.mv_data, rec.mv_size, needle, needle_len))
				continue;
			struct pd_value *r;
			size_t used;
			if (pd_value_unpack(ctx->a, rec.mv_data, rec.mv_size, &used, &r) != PD_UNPACK_OK) {
				rc = MDB_CORRUPTED;
				break;
			}
			if (strcmp(rec_str(r, field), value) == 0)
				pd_arr_push(ctx->a, ids, pd_int(ctx->a, rec_int(r, "id")));
		}
	}
	mdb_cursor_close(cur);
out:
	free(packed);
	return rc == MDB_NOTFOUND ? 0 : rc;
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
		/* a field that appears empty is no change: an opening entry lists
		 * only the fields it set */
		bool empty = b.len == 0 || ((e->val->type == PD_MAP || e->val->type == PD_ARR) &&
					    e->val->u.c.count == 0);
		bool changed = old ? a.len != b.len || memcmp(a.data, b.data, a.len) != 0 : !empty;
		if (changed) {
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

/* A stored change {field, old, new} as one line: "OLD → NEW", or "NEW" when
 * the field had no value before (an opening entry); "" when there is
 * nothing to show (a field set empty, stored by earlier versions). */
static const char *change_line(struct cmd_ctx *ctx, const struct pd_value *ch)
{
	const struct pd_value *old = pd_map_get(ch, "old");
	const char *new = rec_str(ch, "new");
	if (!old || old->type != PD_STR)
		return new;
	return pd_sprintf(ctx->a, "%.*s \xe2\x86\x92 %s", (int)old->u.s.len, old->u.s.ptr, new);
}

/* A timeline entry as shown: seq, who, at, action, then what the stored
 * detail holds (the note as `text`, other facts of the action), then
 * `changes`: field -> one line (change_line). */
static struct pd_value *present_entry(struct cmd_ctx *ctx, const struct pd_value *e)
{
	struct pd_value *out = pd_map(ctx->a), *changes = pd_map(ctx->a);
	const struct pd_value *detail = NULL;
	for (struct pd_entry *f = e->u.c.head; f; f = f->next) {
		if (f->key_len == 6 && !memcmp(f->key, "detail", 6))
			detail = f->val;
		else
			pd_map_append(ctx->a, out, f->key, f->key_len, present_field(ctx, f->key, f->val));
	}
	if (detail && detail->type == PD_MAP) {
		for (struct pd_entry *f = detail->u.c.head; f; f = f->next) {
			if (strcmp(f->key, "changes") != 0) {
				pd_map_append(ctx->a, out, f->key, f->key_len, present_field(ctx, f->key, f->val));
				continue;
			}
			for (struct pd_entry *c = f->val->type == PD_ARR ? f->val->u.c.head : NULL; c; c = c->next) {
				const char *line = c->val->type == PD_MAP ? change_line(ctx, c->val) : "";
				if (*line)
					pd_map_set_str(ctx->a, changes, rec_str(c->val, "field"), line);
			}
		}
	}
	if (changes->u.c.count)
		pd_map_set(ctx->a, out, "changes", changes);
	return out;
}

int rec_timeline(struct cmd_ctx *ctx, const char *kind, int64_t id,
		 struct pd_value **out)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	struct pd_value *raw;
	int rc = store_audit_read(ctx->txn, ctx->st, kind, idbuf, ctx->a, &raw);
	if (rc)
		return rc;
	*out = pd_arr(ctx->a);
	for (struct pd_entry *e = raw->u.c.head; e; e = e->next)
		pd_arr_push(ctx->a, *out, e->val->type == PD_MAP ? present_entry(ctx, e->val) : present(ctx, e->val));
	return 0;
}

int record_mark_overdue(struct cmd_ctx *ctx, const struct record_kind *kind, uint64_t id,
			bool (*overdue)(const struct pd_value *r, int64_t now))
{
	struct pd_value *before, *after;
	int rc = record_get_copy(ctx, kind, (int64_t)id, &before, &after);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	bool late = overdue(after, ctx->now);
	if (late)
		pd_map_set_bool(ctx->a, after, "overdue", true);
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	rc = record_save(ctx, kind, before, after, late ? "overdue" : NULL, NULL);
	ctx->sess = saved;
	return rc;
}

bool record_matches(const struct pd_value *r, const struct record_filter *by, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!by[i].value)
			continue;
		const char *field = by[i].field ? by[i].field : by[i].name;
		const struct pd_value *v = pd_map_get(r, field);
		char num[24];
		const char *have = rec_str(r, field);
		if (v && v->type == PD_INT) {
			snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
			have = num;
		}
		if (strcmp(by[i].value, have) != 0)
			return false;
	}
	return true;
}

size_t record_filter_args(struct cmd_ctx *ctx, struct record_filter *by, size_t n)
{
	for (size_t i = 0; i < n; i++)
		by[i].value = pd_arg_str(ctx->args, by[i].name);
	return n;
}

int64_t record_due_arg(struct cmd_ctx *ctx)
{
	const char *due = pd_arg_str(ctx->args, "due");
	return !due ? 0 : strcmp(due, "overdue") == 0 ? ctx->now : INT64_MAX;
}

const char *record_filter_key(struct cmd_ctx *ctx, const struct record_filter *by, size_t n)
{
	const char *key = NULL;
	for (size_t i = 0; i < n && !key; i++)
		key = record_key(ctx, by[i].name, by[i].value);
	return key;
}

struct pd_value *record_row(struct cmd_ctx *ctx, const struct record_rows *list, const struct pd_value *r)
{
	if (!record_matches(r, list->by, list->n) || (list->keep && !list->keep(ctx, r, list->ud)))
		return NULL;
	struct pd_value *row = list->cols ? pd_map(ctx->a) : present(ctx, r);
	for (size_t i = 0; list->cols && i < list->n_cols; i++) {
		struct pd_value *v = pd_map_get(r, list->cols[i]);
		pd_map_set(ctx->a, row, list->cols[i], v ? present_field(ctx, list->cols[i], v)
						       : list->nil_absent ? pd_nil(ctx->a) : pd_str(ctx->a, ""));
	}
	if (list->more)
		list->more(ctx, r, row, list->ud);
	return row;
}

static bool row_keep(struct cmd_ctx *ctx, const struct pd_value *r, void *ud)
{
	struct record_rows *list = ud;
	struct pd_value *row = record_row(ctx, list, r);
	if (row)
		pd_arr_push(ctx->a, list->rows, row);
	return row != NULL;
}

int record_list(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t due_until, struct record_rows *list,
		int64_t before, int64_t limit, size_t *kept)
{
	for (size_t i = 0; due_until && kind->due_by_db && i < list->n; i++)
		if (list->by[i].value && strcmp(list->by[i].name, kind->due_by) == 0)
			return rec_walk_due_by(ctx, kind, list->by[i].value, due_until, before, limit, row_keep, list,
					       kept);
	if (due_until)
		return rec_walk_due(ctx, record_db(ctx, kind->db), record_db(ctx, kind->due_db), due_until, before, limit,
				    row_keep, list, kept);
	return rec_walk_newest(ctx, record_db(ctx, kind->db), record_db(ctx, kind->index_db),
			       record_filter_key(ctx, list->by, list->n), before, limit, row_keep, list, kept);
}

int record_list_reply(struct cmd_ctx *ctx, const struct record_kind *kind, int64_t due_until,
		      struct record_rows *list, const char *what)
{
	int64_t limit, before;
	size_t kept;
	if (rec_list_args(ctx, &limit, &before))
		return PD_EREPLIED;
	int rc = record_list(ctx, kind, due_until, list, before, limit, &kept);
	if (rc)
		return reply_store_error(ctx, rc);
	ctx->rep->data = list->rows;
	return reply_ok(ctx, 200, "%s", count_of(ctx, (int64_t)kept, kind->noun ? kind->noun : kind->name, what));
}

int record_get_reply(struct cmd_ctx *ctx, const struct record_kind *kind, record_show first, record_show last)
{
	struct pd_value *r, *timeline;
	if (record_load_arg(ctx, kind, &r, NULL))
		return PD_EREPLIED;
	struct pd_value *out = present(ctx, r);
	int rc = first ? first(ctx, r, out) : 0;
	if (!rc)
		rc = rec_timeline(ctx, kind->name, rec_int(r, "id"), &timeline);
	if (!rc) {
		pd_map_set(ctx->a, out, "timeline", timeline);
		rc = last ? last(ctx, r, out) : 0;
	}
	if (rc)
		return reply_store_error(ctx, rc);
	ctx->rep->data = out;
	return reply_ok(ctx, 200, "%s %lld: %s", kind->noun ? kind->noun : kind->name, (long long)rec_int(r, "id"),
			rec_str(r, "status"));
}

struct pd_value *rec_row(struct cmd_ctx *ctx, const struct pd_value *r, const char *const *cols, size_t n)
{
	struct record_rows list = { .cols = cols, .n_cols = n };
	return record_row(ctx, &list, r);
}

int rec_list_args(struct cmd_ctx *ctx, int64_t *limit, int64_t *before)
{
	*limit = LIST_LIMIT_DEFAULT;
	*before = 0;
	pd_arg_int(ctx->args, "limit", limit);
	pd_arg_int(ctx->args, "before", before);
	if (*limit < 1 || *limit > ctx->cfg->list_limit_max)
		return reply_error(ctx, 400, "argument 'limit' must be from 1 to %lld", (long long)ctx->cfg->list_limit_max);
	return 0;
}

int rec_walk_newest(struct cmd_ctx *ctx, MDB_dbi table, MDB_dbi index,
		    const char *key, int64_t before, int64_t limit,
		    rec_visit keep, void *ud, size_t *kept)
{
	return rec_walk_newest_key(ctx, table, index, key, key ? strlen(key) : 0, before, limit,
				   keep, ud, kept);
}

int rec_walk_newest_key(struct cmd_ctx *ctx, MDB_dbi table, MDB_dbi index,
			const void *key, size_t key_len, int64_t before, int64_t limit,
			rec_visit keep, void *ud, size_t *kept)
{
	MDB_cursor *cur;
	MDB_dbi dbi = key ? index : table;
	int rc = mdb_cursor_open(ctx->txn, dbi, &cur);
	if (rc)
		return rc;
	MDB_val k = { key_len, (void *)key }, v;
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

/* One entry of a due walk: the record of id (8 bytes, be64) due at `at`;
 * MDB_NOTFOUND past `until` (the walk ends), 0 to go on. */
static int due_visit(struct cmd_ctx *ctx, MDB_dbi table, int64_t at, const void *id, int64_t until, int64_t before,
		     rec_visit keep, void *ud, size_t *kept)
{
	if (at >= until)
		return MDB_NOTFOUND;
	if (before && be64_get(id) >= (uint64_t)before)
		return 0;
	struct pd_value *r;
	int rc = store_get(ctx->txn, table, id, 8, ctx->a, &r);
	if (!rc && keep(ctx, r, ud))
		(*kept)++;
	return rc;
}

int rec_walk_due(struct cmd_ctx *ctx, MDB_dbi table, MDB_dbi due, int64_t until, int64_t before,
		 int64_t limit, rec_visit keep, void *ud, size_t *kept)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, due, &cur);
	if (rc)
		return rc;
	MDB_val k, v;
	*kept = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && (int64_t)*kept < limit;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		rc = k.mv_size != 8 ? MDB_NOTFOUND
				    : due_visit(ctx, table, (int64_t)be64_get(k.mv_data), v.mv_data, until, before, keep, ud,
						kept);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int rec_walk_due_by(struct cmd_ctx *ctx, const struct record_kind *kind, const char *value, int64_t until,
		    int64_t before, int64_t limit, rec_visit keep, void *ud, size_t *kept)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, record_db(ctx, kind->due_by_db), &cur);
	if (rc)
		return rc;
	MDB_val k = { strlen(value), (void *)value }, v;
	*kept = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0 && (int64_t)*kept < limit;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP))
		rc = v.mv_size != 16 ? MDB_NOTFOUND
				     : due_visit(ctx, record_db(ctx, kind->db), (int64_t)be64_get(v.mv_data),
						 (const unsigned char *)v.mv_data + 8, until, before, keep, ud, kept);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Runs fill() once per store, at start, in a write txn: the meta key
 * "index:KIND:NAME" remembers that it ran. */
static int fill_once(struct cmd_ctx *ctx, const struct record_kind *kind, const char *name,
		     int (*fill)(struct cmd_ctx *ctx, const struct record_kind *kind, const char *name))
{
	char mark[96];
	int ml = snprintf(mark, sizeof(mark), "index:%s:%s", kind->name, name);
	MDB_val mk = { (size_t)ml, mark }, mv;
	int rc = mdb_get(ctx->txn, ctx->st->meta, &mk, &mv);
	if (rc != MDB_NOTFOUND)
		return rc; /* 0: filled before */
	if ((rc = fill(ctx, kind, name)))
		return rc;
	return store_put_bytes(ctx->txn, ctx->st->meta, mk.mv_data, mk.mv_size, "1", 1, 0);
}

static int fill_index(struct cmd_ctx *ctx, const struct record_kind *kind, const char *name)
{
	(void)name; /* every key of the kind is added; those present are kept */
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, record_db(ctx, kind->db), &cur);
	if (rc)
		return rc;
	MDB_dbi index = record_db(ctx, kind->index_db);
	MDB_val k, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct pd_value *r;
		size_t used;
		const char *keys[RECORD_KEYS_MAX];
		if (k.mv_size != 8 || pd_value_unpack(ctx->a, v.mv_data, v.mv_size, &used, &r) != PD_UNPACK_OK)
			continue;
		size_t n = index_keys(ctx, kind, r, keys);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = store_index_add(ctx->txn, index, keys[i], strlen(keys[i]), k.mv_data, 8);
		pd_arena_reset(ctx->a);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int record_index_fill(struct cmd_ctx *ctx, const struct record_kind *kind, const char *name)
{
	return fill_once(ctx, kind, name, fill_index);
}

static int fill_due_by(struct cmd_ctx *ctx, const struct record_kind *kind, const char *name)
{
	(void)name;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, record_db(ctx, kind->due_db), &cur);
	if (rc)
		return rc;
	MDB_dbi table = record_db(ctx, kind->db), index = record_db(ctx, kind->due_by_db);
	MDB_val k, v;
	/* the due index holds only the records due: no other record is read */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct pd_value *r;
		unsigned char e[16];
		if (k.mv_size != 8 || v.mv_size != 8)
			continue;
		if ((rc = store_get(ctx->txn, table, v.mv_data, 8, ctx->a, &r)) == MDB_NOTFOUND)
			continue;
		const char *value = rec_str(r, kind->due_by);
		due_by_entry(e, (int64_t)be64_get(k.mv_data), (int64_t)be64_get(v.mv_data));
		if (!rc && *value)
			rc = store_index_add(ctx->txn, index, value, strlen(value), e, 16);
		pd_arena_reset(ctx->a);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int record_due_by_fill(struct cmd_ctx *ctx, const struct record_kind *kind)
{
	return fill_once(ctx, kind, "due_by", fill_due_by);
}

int record_gauges(MDB_txn *txn, struct store *st, const struct record_kind *kind,
		  const char *name, const char *const *levels, size_t n_levels,
		  int64_t now, struct module_gauges *g)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, store_db(st, kind->index_db), &cur);
	if (rc)
		return rc;
	g->kind = kind->name;
	g->n_levels = n_levels < GAUGE_LEVELS_MAX ? n_levels : GAUGE_LEVELS_MAX;
	for (size_t i = 0; i < g->n_levels && (rc == 0 || rc == MDB_NOTFOUND); i++) {
		char key[96];
		int kl = snprintf(key, sizeof(key), "%s=%s", name, levels[i]);
		MDB_val k = { (size_t)kl, key }, v;
		size_t n = 0;
		g->levels[i] = levels[i];
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
		if (rc == 0)
			rc = mdb_cursor_count(cur, &n);
		g->open[i] = n;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_cursor_open(txn, store_db(st, kind->due_db), &cur)))
		return rc;
	MDB_val k, v;
	g->overdue = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	     rc == 0 && k.mv_size == 8 && (int64_t)be64_get(k.mv_data) < now;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		g->overdue++;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
