/* waybill.c — WAYBILL CREATE/GET/FIND/REDIRECT/RECALL and SCAN.
 *
 * A waybill is one value in `waybills` (number -> its view, its newest
 * events and its record, see waybill_put); the older events of its
 * tracking history are in `events` (number \0 be32 seq -> map), where an
 * event goes when it leaves the value, so a scan rewrites the waybill
 * alone (and, once the history is longer than WAYBILL_RECENT_MAX, appends
 * the event leaving the value). GET copies the reply's data kept packed
 * in the view. Both phones are indexed for FIND. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "contact.h"
#include "customer.h"
#include "daemon.h"
#include "record.h"
#include "reply.h"
#include "volume.h"
#include "waybill.h"
#include "waybill_rules.h"

#define EVENT_KEY_MAX 32
#define FIND_MAX_RESULTS 100
/* A scan may be entered a little ahead of the daemon's clock (terminal
 * clocks drift), never far ahead. */
#define SCAN_FUTURE_SLACK_SECS 300
/* A history longer than this is not kept in the view (a scan would
 * rewrite it all); GET renders it from the records. */
#define VIEW_EVENTS_MAX 64
#define VIEW_VERSION 3

static size_t event_key(const char *number, uint32_t seq, unsigned char *key)
{
	size_t n = strlen(number);
	memcpy(key, number, n);
	key[n] = '\0';
	be32_put(key + n + 1, seq);
	return n + 5;
}

int waybill_load(struct cmd_ctx *ctx, const char *number, struct pd_value **wb)
{
	int rc = waybill_get(ctx, number, wb);
	if (rc == MDB_NOTFOUND)
		reply_error(ctx, 404, "no waybill %s", number);
	else if (rc)
		reply_store_error(ctx, rc);
	return rc;
}

/* Saves a waybill (after adding ev to its history, when not NULL), its
 * view and its timeline entry (below): the one way a waybill is written.
 * Not record_save(): the key is the number, the history's newest events
 * and the view are written in its value and its older events in `events`
 * (docs/design.md, "The store"). */
enum { WB_KEYS_SAME, WB_KEYS_NEW };
static int waybill_save(struct cmd_ctx *ctx, const char *number, struct pd_value *wb, struct pd_value *ev,
			int keys, const char *action, const struct pd_value *detail);

/* A delivered parcel found misdelivered: inaccurate, counted once against
 * its destination depot's delivery accuracy. */
static int mark_misdelivered(struct cmd_ctx *ctx, struct pd_value *wb, bool *changed)
{
	if (!rec_int(wb, "delivered_at") || pd_map_bool(wb, "inaccurate"))
		return 0;
	pd_map_set_bool(ctx->a, wb, "inaccurate", true);
	*changed = true;
	return volume_count(ctx, wb, pd_map_str(wb, "dest_depot"), "inaccurate", 1);
}

int waybill_mark_complained(struct cmd_ctx *ctx, const char *number, bool misdelivery)
{
	struct pd_value *wb;
	int rc = waybill_get(ctx, number, &wb);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	bool changed = false;
	if (!pd_map_bool(wb, "complained")) {
		pd_map_set_bool(ctx->a, wb, "complained", true);
		if ((rc = volume_count(ctx, wb, pd_map_str(wb, "origin_depot"), "complained", 1)))
			return rc;
		changed = true;
	}
	if (misdelivery && (rc = mark_misdelivered(ctx, wb, &changed)))
		return rc;
	return changed ? waybill_save(ctx, number, wb, NULL, WB_KEYS_SAME, NULL, NULL) : 0;
}

int waybill_mark_misdelivered(struct cmd_ctx *ctx, const char *number)
{
	struct pd_value *wb;
	bool changed = false;
	int rc = waybill_get(ctx, number, &wb);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = mark_misdelivered(ctx, wb, &changed)))
		return rc;
	return changed ? waybill_save(ctx, number, wb, NULL, WB_KEYS_SAME, NULL, NULL) : 0;
}

int waybill_walk_phone(struct cmd_ctx *ctx, const char *phone,
		       void (*visit)(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb, void *ud),
		       void *ud)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->idx_phone, &cur);
	if (rc)
		return rc;
	MDB_val k = { strlen(phone), (void *)phone }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		char number[32];
		struct pd_value *wb;
		if (v.mv_size >= sizeof(number))
			continue;
		memcpy(number, v.mv_data, v.mv_size);
		number[v.mv_size] = '\0';
		if (waybill_get(ctx, number, &wb) == 0)
			visit(ctx, number, wb, ud);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int waybill_mark_priority(struct cmd_ctx *ctx, const char *number, struct pd_value *wb)
{
	if (pd_map_bool(wb, "priority"))
		return 0;
	pd_map_set_bool(ctx->a, wb, "priority", true);
	return waybill_save(ctx, number, wb, NULL, WB_KEYS_SAME, "priority", NULL);
}

int waybill_brief(struct cmd_ctx *ctx, const char *number, struct pd_value **out)
{
	struct pd_value *wb, *events;
	struct waybill_lateness l;
	int rc = waybill_get(ctx, number, &wb);
	if (rc || (rc = waybill_events(ctx, number, wb, &events)) || (rc = waybill_late(ctx, wb, &l)))
		return rc;
	struct pd_value *w = pd_map(ctx->a);
	pd_map_set_str(ctx->a, w, "status", pd_map_str(wb, "status"));
	pd_map_set_bool(ctx->a, w, "damaged", pd_map_bool(wb, "damaged"));
	map_set_time(ctx, w, "promised_at", rec_int(wb, "promised_at"));
	pd_map_set_bool(ctx->a, w, "late", l.late);
	pd_map_set_int(ctx->a, w, "late_secs", l.late_secs);
	pd_map_set(ctx->a, w, "events", events);
	*out = w;
	return 0;
}

/* Counts one history event on the waybill, numbering it (waybill_put
 * stores it, in the waybill's value). A waybill holds at most
 * max_events_per_waybill events: past it the write is refused (422,
 * PD_EREPLIED; nothing of the job is kept), so no history grows without
 * bound. */
static int waybill_add_event(struct cmd_ctx *ctx, const char *number,
			     struct pd_value *wb, struct pd_value *ev)
{
	int64_t count = rec_int(wb, "event_count");
	if (count >= ctx->cfg->max_events_per_waybill)
		return reply_error(ctx, 422, "waybill %s has %lld events, the most one may hold "
				   "(max_events_per_waybill): nothing recorded", number, (long long)count);
	count++;
	pd_map_set_int(ctx->a, wb, "event_count", count);
	pd_map_set_int(ctx->a, ev, "seq", count);
	return 0;
}

/* ---- the view: WAYBILL GET's reply data, kept packed ----
 *
 * A look-up copies bytes. Per waybill, its value in `waybills` keeps,
 * ahead of the record, the reply's data as sent (the waybill and its
 * history as shown, times in the depot's zone, msgpack; `wb_views` in a
 * store written before), written with every change of the waybill
 * or its events: every writer goes through waybill_save(). GET adds only
 * what depends on the clock (late, late_secs, completely_delayed) and the
 * fields after them, judged from the promise kept in the view's head. A
 * view that is missing (a store written before views), of another zone, or
 * of a history longer than VIEW_EVENTS_MAX is not used: the reply is
 * rendered from the records, with the same bytes.
 *
 * Layout: version u8, zone be32, promised_at be64, delivered_at be64,
 * same_city u8, late_carried_secs be64, recalled_at be64, customer be32,
 * then be32 each: fields, fields_len, status_len, events, events_len; then
 * the fields (key, value pairs of the waybill as shown, without their map
 * head), the status, the events (packed one after the other, without their
 * array head). `customer` is where the customer's string value starts in
 * the fields (0: the waybill has none), so GET finds the account without
 * looking through the fields. Version 2 lacks it: its fields are searched.
 * Version 1 (before address changes set a new promise) also lacks the two
 * be64s after same_city: it is read as carrying no lateness and running
 * its clock, except for a recalled waybill (rendered from the records,
 * where the recall's time is found). */
#define VIEW_HEAD 62
#define VIEW_HEAD_V2 58
#define VIEW_HEAD_V1 42

struct view {
	uint32_t zone;
	struct waybill_promise promise;
	int64_t delivered_at;
	bool same_city;
	bool customer_known;  /* customer_at was kept (version 3 on) */
	uint32_t customer_at;
	uint32_t fields, events;
	const char *fields_p, *status_p, *events_p;
	uint32_t fields_len, status_len, events_len;
};

/* The zone a view's times are shown in: FNV-1a of the zone's name. */
static uint32_t view_zone(const struct cmd_ctx *ctx)
{
	uint32_t h = 2166136261u;
	for (const char *p = ctx->cfg->timezone; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

/* Reads a stored view; false when it cannot be used. */
static bool view_parse(const struct cmd_ctx *ctx, const MDB_val *v, struct view *out)
{
	const unsigned char *p = v->mv_data;
	static const size_t heads[] = { [1] = VIEW_HEAD_V1, [2] = VIEW_HEAD_V2, [VIEW_VERSION] = VIEW_HEAD };
	size_t head = v->mv_size < 1 || p[0] > VIEW_VERSION ? 0 : heads[p[0]];
	if (!head || v->mv_size < head)
		return false;
	out->zone = be32_get(p + 1);
	out->promise.promised_at = (int64_t)be64_get(p + 5);
	out->delivered_at = (int64_t)be64_get(p + 13);
	out->same_city = p[21];
	out->promise.carried_late_secs = head > VIEW_HEAD_V1 ? (int64_t)be64_get(p + 22) : 0;
	out->promise.stopped_at = head > VIEW_HEAD_V1 ? (int64_t)be64_get(p + 30) : 0;
	out->customer_known = head == VIEW_HEAD;
	out->customer_at = out->customer_known ? be32_get(p + 38) : 0;
	const unsigned char *q = p + head - 20;
	out->fields = be32_get(q);
	out->fields_len = be32_get(q + 4);
	out->status_len = be32_get(q + 8);
	out->events = be32_get(q + 12);
	out->events_len = be32_get(q + 16);
	if ((uint64_t)head + out->fields_len + out->status_len + out->events_len != v->mv_size)
		return false;
	out->fields_p = (const char *)p + head;
	out->status_p = out->fields_p + out->fields_len;
	out->events_p = out->status_p + out->status_len;
	if (out->customer_at && out->customer_at >= out->fields_len)
		return false;
	/* a version-1 view does not know when a recall stopped the clock */
	static const char recalled[] = "\xa8recalled\xc3";
	if (head == VIEW_HEAD_V1 && memmem(out->fields_p, out->fields_len, recalled, sizeof(recalled) - 1))
		return false;
	return out->zone == view_zone(ctx);
}

static bool same_city(const struct pd_value *wb)
{
	const char *sc = pd_map_str(wb, "sender_city"), *rc = pd_map_str(wb, "receiver_city");
	return sc && rc && strcmp(sc, rc) == 0;
}

/* Calls fn on each stored event seq first .. last, in order, until it
 * returns nonzero (that value is returned; an LMDB code on failure). wv:
 * where the events are (NULL: as the waybill's stored value says). */
typedef int (*event_visit)(struct cmd_ctx *ctx, const struct pd_value *ev, void *ud);
static int events_each(struct cmd_ctx *ctx, const char *number, const struct waybill_value *wv,
		       int64_t first, int64_t last, event_visit fn, void *ud);
static int events_range(struct cmd_ctx *ctx, const char *number, const struct waybill_value *wv,
			int64_t first, int64_t last, struct pd_value **out);

#define EVENT_FOUND (-1) /* not an LMDB code */

static int find_recall(struct cmd_ctx *ctx, const struct pd_value *ev, void *ud)
{
	(void)ctx;
	if (strcmp(rec_str(ev, "event"), "recalled") != 0)
		return 0;
	*(int64_t *)ud = rec_int(ev, "at");
	return EVENT_FOUND;
}

/* The promise of a stored waybill (waybill_rules.h): promised_at is the
 * promise in force. A recall stored before recalled_at was kept stopped the
 * clock at its event's time, found in the history. */
static int promise_of(struct cmd_ctx *ctx, const struct pd_value *wb, struct waybill_promise *p)
{
	p->promised_at = rec_int(wb, "promised_at");
	p->carried_late_secs = rec_int(wb, "late_carried_secs");
	p->stopped_at = rec_int(wb, "recalled_at");
	if (p->stopped_at || !pd_map_bool(wb, "recalled"))
		return 0;
	int rc = events_each(ctx, rec_str(wb, "number"), NULL, 1, rec_int(wb, "event_count"), find_recall,
			     &p->stopped_at);
	return rc == EVENT_FOUND ? 0 : rc;
}

static void judge(const struct cmd_ctx *ctx, const struct waybill_promise *p, int64_t delivered,
		  bool same, struct waybill_lateness *out)
{
	waybill_lateness(p, delivered, ctx->now, same, ctx->cfg->same_city_complete_delay_days,
			 ctx->cfg->intercity_complete_delay_days, out);
}

int waybill_late(struct cmd_ctx *ctx, const struct pd_value *wb, struct waybill_lateness *out)
{
	struct waybill_promise p;
	int rc = promise_of(ctx, wb, &p);
	if (rc == 0)
		judge(ctx, &p, rec_int(wb, "delivered_at"), same_city(wb), out);
	return rc;
}

/* A waybill's stored value, split; the view of a value written before
 * views moved in (legacy) is read from `wb_views` (size 0: none there). */
static int value_get(struct cmd_ctx *ctx, const char *number, struct waybill_value *wv)
{
	MDB_val k = { strlen(number), (void *)number }, v;
	int rc = mdb_get(ctx->txn, ctx->st->waybills, &k, &v);
	if (rc || (rc = waybill_value_split(&v, wv)) || !wv->legacy)
		return rc;
	rc = mdb_get(ctx->txn, ctx->st->wb_views, &k, &wv->view);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Appends the view of wb to b; ev is the event just added (NULL: none),
 * old_v the stored view (size 0: none), now where the events are with ev.
 * The history comes from the old view plus ev when that view is current,
 * else from the records. */
static int view_pack(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb,
		     const struct pd_value *ev, const MDB_val *old_v, const struct waybill_value *now,
		     struct pd_buf *b)
{
	int64_t count = rec_int(wb, "event_count");
	struct waybill_promise promise;
	int rc = promise_of(ctx, wb, &promise);
	if (rc)
		return rc;
	size_t base = b->len;
	pd_buf_reserve(b, base + 2048);
	b->len = base + VIEW_HEAD;
	msgpack_packer pk;
	msgpack_packer_init(&pk, b, pd_buf_write);
	/* the waybill as shown */
	struct pd_value *shown = present(ctx, wb);
	size_t customer_at = 0;
	for (struct pd_entry *e = shown->u.c.head; e; e = e->next) {
		pd_pack_str(&pk, e->key, e->key_len);
		if (e->val->type == PD_STR && e->key_len == 8 && !memcmp(e->key, "customer", 8))
			customer_at = b->len - base - VIEW_HEAD;
		pd_value_pack(&pk, e->val);
	}
	size_t fields_len = b->len - base - VIEW_HEAD;
	const char *status = pd_map_str(wb, "status");
	pd_buf_adds(b, status ? status : "");
	size_t status_len = b->len - base - VIEW_HEAD - fields_len;
	/* its history as shown */
	struct view old;
	size_t events = 0;
	if (ev && count == 1) {
		/* a new waybill: its history is its first event */
		pd_value_pack(&pk, present(ctx, ev));
		events = 1;
	} else if (old_v->mv_size && view_parse(ctx, old_v, &old) && old.events + (ev ? 1 : 0) == (uint64_t)count) {
		pd_buf_add(b, old.events_p, old.events_len);
		if (ev)
			pd_value_pack(&pk, present(ctx, ev));
		events = (size_t)count;
	} else {
		struct pd_value *list;
		rc = events_range(ctx, number, now, 1, count, &list);
		if (rc == 0) {
			for (struct pd_entry *e = list->u.c.head; e; e = e->next)
				pd_value_pack(&pk, e->val);
			events = list->u.c.count;
		}
	}
	if (rc)
		return rc;
	unsigned char *h = (unsigned char *)b->data + base;
	h[0] = VIEW_VERSION;
	be32_put(h + 1, view_zone(ctx));
	be64_put(h + 5, (uint64_t)promise.promised_at);
	be64_put(h + 13, (uint64_t)rec_int(wb, "delivered_at"));
	h[21] = same_city(wb);
	be64_put(h + 22, (uint64_t)promise.carried_late_secs);
	be64_put(h + 30, (uint64_t)promise.stopped_at);
	be32_put(h + 38, (uint32_t)customer_at);
	be32_put(h + 42, (uint32_t)shown->u.c.count);
	be32_put(h + 46, (uint32_t)fields_len);
	be32_put(h + 50, (uint32_t)status_len);
	be32_put(h + 54, (uint32_t)events);
	be32_put(h + 58, (uint32_t)(b->len - base - VIEW_HEAD - fields_len - status_len));
	return 0;
}

/* STATS' count of events, in `meta`: kept from the first event this
 * layout writes (absent: every event is in `events`, as before). */
#define EVENTS_TOTAL_KEY "count:events"

int waybill_events_total(MDB_txn *txn, struct store *st, uint64_t *out)
{
	MDB_stat s;
	int rc = store_meta_get(txn, st, EVENTS_TOTAL_KEY, out);
	if (rc || *out)
		return rc;
	if ((rc = mdb_stat(txn, st->events, &s)) == 0)
		*out = s.ms_entries;
	return rc;
}

static int events_total_add(struct cmd_ctx *ctx)
{
	uint64_t total;
	unsigned char buf[8];
	int rc = waybill_events_total(ctx->txn, ctx->st, &total);
	if (rc)
		return rc;
	be64_put(buf, total + 1);
	return store_put_bytes(ctx->txn, ctx->st->meta, EVENTS_TOTAL_KEY, sizeof(EVENTS_TOTAL_KEY) - 1, buf, 8, 0);
}

/* Writes wb, its view (none past VIEW_EVENTS_MAX events) and its newest
 * events as its value; ev is the event just added (NULL: none). ev joins
 * the newest events; past WAYBILL_RECENT_MAX of them the oldest goes to
 * `events`. A value written before keeps its events in `events` (the
 * first in the value is the next one) and loses its view in `wb_views`.
 * The stored value is read before the first put (LMDB's pointers into it
 * hold until then). */
static int waybill_put(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb,
		       const struct pd_value *ev)
{
	size_t klen = strlen(number);
	int64_t count = rec_int(wb, "event_count");
	struct waybill_value old;
	int rc = value_get(ctx, number, &old);
	if (rc == MDB_NOTFOUND) {
		old = (struct waybill_value){ .has_recent = true };
		rc = 0;
	}
	if (rc)
		return rc;
	if (!old.has_recent)
		old.spilled = (uint32_t)(count - (ev != NULL));
	if ((int64_t)old.spilled + old.recent_n + (ev != NULL) != count)
		return MDB_CORRUPTED;
	/* the newest events with ev: the history the view is packed from */
	struct pd_buf recent, b;
	pd_buf_init(&recent);
	if (old.recent.mv_size)
		pd_buf_add(&recent, old.recent.mv_data, old.recent.mv_size);
	if (ev) {
		msgpack_packer pk;
		msgpack_packer_init(&pk, &recent, pd_buf_write);
		pd_value_pack(&pk, ev);
	}
	struct waybill_value now = { .recent = { recent.len, recent.data }, .spilled = old.spilled,
				     .recent_n = old.recent_n + (ev != NULL), .has_recent = true };
	pd_buf_init(&b);
	pd_buf_reserve(&b, 4096);
	b.len = WAYBILL_VALUE_HEAD_RECENT;
	if (count <= VIEW_EVENTS_MAX)
		rc = view_pack(ctx, number, wb, ev, &old.view, &now, &b);
	now.view.mv_size = b.len - WAYBILL_VALUE_HEAD_RECENT;
	if (rc == 0 && ev)
		rc = events_total_add(ctx);
	const unsigned char *p = (const unsigned char *)recent.data, *end = p + recent.len;
	while (rc == 0 && now.recent_n > WAYBILL_RECENT_MAX) {
		unsigned char key[EVENT_KEY_MAX];
		MDB_val oldest;
		if ((rc = waybill_recent_next(&p, end, &oldest)))
			break;
		now.spilled++;
		now.recent_n--;
		rc = store_put_bytes(ctx->txn, ctx->st->events, key, event_key(number, now.spilled, key),
				     oldest.mv_data, oldest.mv_size, 0);
	}
	if (rc == 0) {
		now.recent.mv_size = (size_t)(end - p);
		if (now.recent.mv_size)
			pd_buf_add(&b, (const char *)p, now.recent.mv_size);
		/* the record last, packed in place (not packed apart and copied) */
		msgpack_packer pk;
		msgpack_packer_init(&pk, &b, pd_buf_write);
		if (pd_value_pack(&pk, wb) != 0)
			rc = ENOMEM;
	}
	if (rc == 0) {
		waybill_value_head((unsigned char *)b.data, &now);
		rc = store_put_bytes(ctx->txn, ctx->st->waybills, number, klen, b.data, b.len, 0);
	}
	pd_buf_free(&b);
	pd_buf_free(&recent);
	if (rc == 0 && old.legacy && (rc = store_del(ctx->txn, ctx->st->wb_views, number, klen, NULL, 0)) == MDB_NOTFOUND)
		rc = 0;
	return rc;
}

/* Every change of a waybill is written here: the event (ev, NULL: none),
 * its list index entries, the record with its packed view and the
 * timeline entry of `action` (NULL: none) with `detail`. keys: WB_KEYS_NEW
 * when the write may change what WAYBILL LIST indexes (created_at, a
 * depot, the customer: a new waybill, a redirect); WB_KEYS_SAME skips the
 * index, whose entries the waybill's first save made (or the start, for a
 * store written before it) and no entry is ever removed: on a scan its
 * three look-ups were an eighth of the apply (docs/performance.md). */
static int waybill_save(struct cmd_ctx *ctx, const char *number, struct pd_value *wb, struct pd_value *ev,
			int keys, const char *action, const struct pd_value *detail)
{
	int rc;
	if ((ev && (rc = waybill_add_event(ctx, number, wb, ev))) ||
	    (keys == WB_KEYS_NEW && (rc = waybill_list_index(ctx->txn, ctx->st, number, wb))) ||
	    (rc = waybill_put(ctx, number, wb, ev)))
		return rc;
	return action ? store_audit(ctx->txn, ctx->st, "waybill", number, ctx->sess->user, ctx->now, action, detail) : 0;
}

static struct pd_value *event_new(struct cmd_ctx *ctx, const char *kind,
				  int64_t at, const char *depot)
{
	struct pd_value *ev = pd_map(ctx->a);
	pd_map_set_str(ctx->a, ev, "event", kind);
	pd_map_set_int(ctx->a, ev, "at", at);
	if (depot)
		pd_map_set_str(ctx->a, ev, "depot", depot);
	pd_map_set_str(ctx->a, ev, "by", ctx->sess->user);
	return ev;
}

static const char *const create_string_fields[] = {
	"sender_name", "sender_phone", "sender_address", "sender_city",
	"receiver_name", "receiver_phone", "receiver_address", "receiver_city",
	"customer", "origin_depot", "dest_depot", "goods", "packaging", "payment",
	"service_level",
};

static int count_created(struct cmd_ctx *ctx, const struct pd_value *wb)
{
	const char *origin = pd_map_str(wb, "origin_depot");
	int rc;
	if ((rc = volume_count(ctx, wb, origin, "waybills", 1)) ||
	    (rc = volume_count(ctx, wb, origin, "revenue_fen", rec_int(wb, "fee_fen"))) ||
	    (rc = volume_count(ctx, wb, origin, "declared_fen", rec_int(wb, "declared_value_fen"))))
		return rc;
	return 0;
}

/* The counters a scan moves: deliveries (on time; accurate: to the
 * consignee, or left elsewhere with the receiver's consent) at the
 * destination depot, the first damage and the first loss. */
static int count_scan(struct cmd_ctx *ctx, const struct pd_value *before_wb,
		      struct pd_value *wb, enum waybill_event ev)
{
	const char *dest = pd_map_str(wb, "dest_depot");
	const char *origin = pd_map_str(wb, "origin_depot");
	int rc = 0;
	if (ev == WE_DELIVERED) {
		/* on time against the promise in force (wb's delivered_at is at) */
		struct waybill_lateness l;
		if ((rc = waybill_late(ctx, wb, &l)) ||
		    (rc = volume_count(ctx, wb, dest, "delivered", 1)) ||
		    (!l.late && (rc = volume_count(ctx, wb, dest, "delivered_on_time", 1))))
			return rc;
		int to = waybill_drop_parse(pd_map_str(wb, "delivered_to"));
		if (!waybill_delivery_accurate(to < 0 ? WAYBILL_TO_HAND : (enum waybill_drop)to,
					       pd_map_bool(wb, "signer_is_consignee"),
					       pd_map_bool(wb, "receiver_consent")) &&
		    !pd_map_bool(wb, "inaccurate")) {
			pd_map_set_bool(ctx->a, wb, "inaccurate", true);
			rc = volume_count(ctx, wb, dest, "inaccurate", 1);
		}
	} else if (ev == WE_DAMAGED && !before_wb) {
		rc = volume_count(ctx, wb, origin, "damaged", 1);
	} else if (ev == WE_LOST && !pd_map_bool(wb, "ever_lost")) {
		pd_map_set_bool(ctx->a, wb, "ever_lost", true);
		rc = volume_count(ctx, wb, origin, "lost", 1);
	}
	return rc;
}

int cmd_waybill_create(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *number = pd_arg_str(ctx->args, "number");
	int64_t pieces, weight, fee, declared = 0, max_piece = 0, promised, created = ctx->now;
	pd_arg_int(ctx->args, "pieces", &pieces);
	pd_arg_int(ctx->args, "weight_g", &weight);
	pd_arg_int(ctx->args, "fee_fen", &fee);
	pd_arg_int(ctx->args, "declared_value_fen", &declared);
	pd_arg_int(ctx->args, "max_piece_value_fen", &max_piece);
	pd_arg_int(ctx->args, "promised_at", &promised);
	pd_arg_int(ctx->args, "created_at", &created);
	bool insured = pd_arg_bool(ctx->args, "insured", 0);
	bool over_limit = pd_arg_bool(ctx->args, "over_limit", 0);
	bool over_limit_declared = pd_arg_bool(ctx->args, "over_limit_declared", 0);

	if (pieces < 1 || pieces > 10000)
		return reply_error(ctx, 400, "argument 'pieces' must be from 1 to 10000");
	if (weight < 1)
		return reply_error(ctx, 400, "argument 'weight_g' must be at least 1 gram");
	if (insured && declared <= 0)
		return reply_error(ctx, 422, "an insured waybill needs declared_value_fen above 0");
	if (max_piece > 0 && declared > 0 && pieces == 1 && max_piece != declared)
		return reply_error(ctx, 422, "with one piece, max_piece_value_fen must equal declared_value_fen");
	if (over_limit_declared && !over_limit)
		return reply_error(ctx, 422, "over_limit_declared needs over_limit=yes");
	if (promised <= created)
		return reply_error(ctx, 422, "promised_at must be after the waybill is created");
	if (created > ctx->now + SCAN_FUTURE_SLACK_SECS)
		return reply_error(ctx, 422, "created_at is in the future");

	MDB_val k = { strlen(number), (void *)number }, v;
	int rc = mdb_get(ctx->txn, ctx->st->waybills, &k, &v);
	if (rc == 0)
		return reply_error(ctx, 409, "waybill %s exists", number);
	if (rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);

	struct pd_value *wb = pd_map(a);
	pd_map_set_str(a, wb, "number", number);
	pd_map_set_str(a, wb, "status", waybill_status_name(WAYBILL_CREATED));
	for (size_t i = 0; i < sizeof(create_string_fields) / sizeof(create_string_fields[0]); i++) {
		const char *s = pd_arg_str(ctx->args, create_string_fields[i]);
		if (s)
			pd_map_set_str(a, wb, create_string_fields[i], s);
	}
	if (!pd_arg_str(ctx->args, "service_level"))
		pd_map_set_str(a, wb, "service_level", "basic");
	pd_map_set_int(a, wb, "pieces", pieces);
	pd_map_set_int(a, wb, "weight_g", weight);
	pd_map_set_int(a, wb, "declared_value_fen", declared);
	pd_map_set_bool(a, wb, "insured", insured);
	pd_map_set_bool(a, wb, "used_goods", pd_arg_bool(ctx->args, "used_goods", 0));
	pd_map_set_int(a, wb, "max_piece_value_fen", max_piece ? max_piece : (pieces == 1 ? declared : 0));
	pd_map_set_bool(a, wb, "over_limit", over_limit);
	pd_map_set_bool(a, wb, "over_limit_declared", over_limit_declared);
	pd_map_set_int(a, wb, "fee_fen", fee);
	pd_map_set_int(a, wb, "extra_fees_fen", 0);
	pd_map_set_int(a, wb, "promised_at", promised);
	pd_map_set_int(a, wb, "created_at", created);
	pd_map_set_str(a, wb, "created_by", ctx->sess->user);
	pd_map_set_bool(a, wb, "damaged", false);
	pd_map_set_bool(a, wb, "priority", false);
	pd_map_set_bool(a, wb, "ever_out_for_delivery", false);
	pd_map_set_int(a, wb, "redirects", 0);
	pd_map_set_int(a, wb, "event_count", 0);

	struct pd_value *ev = event_new(ctx, "created", created, pd_arg_str(ctx->args, "origin_depot"));
	const char *sp = pd_arg_str(ctx->args, "sender_phone");
	const char *rp = pd_arg_str(ctx->args, "receiver_phone");
	if ((rc = waybill_save(ctx, number, wb, ev, WB_KEYS_NEW, "create", NULL)) ||
	    (rc = store_index_add(ctx->txn, ctx->st->idx_phone, sp, strlen(sp), number, strlen(number))) ||
	    (rc = store_index_add(ctx->txn, ctx->st->idx_phone, rp, strlen(rp), number, strlen(number))) ||
	    (rc = count_created(ctx, wb)))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "number", number);
	pd_map_set_str(a, d, "status", "created");
	ctx->rep->data = d;
	reply_ok(ctx, 201, "waybill %s created", number);
	return 0;
}

/* Packs what GET adds to the waybill as shown: late, late_secs,
 * completely_delayed (they depend on the clock), same_city. The keys and
 * booleans are fixed msgpack bytes, written in two pieces around the
 * number rather than an item at a time. */
#define LATENESS_FIELDS 4
#define MP_BOOL(b) ((b) ? '\xc3' : '\xc2')
static void pack_lateness(struct cmd_ctx *ctx, msgpack_packer *pk, const struct waybill_promise *p,
			  int64_t delivered, bool same)
{
	struct waybill_lateness l;
	judge(ctx, p, delivered, same, &l);
	char head[] = "\xa4" "late" "?" "\xa9" "late_secs";
	char tail[] = "\xb2" "completely_delayed" "?" "\xa9" "same_city" "?";
	head[5] = MP_BOOL(l.late);
	tail[19] = MP_BOOL(l.completely_delayed);
	tail[30] = MP_BOOL(same);
	pk->callback(pk->data, head, sizeof(head) - 1);
	msgpack_pack_int64(pk, l.late_secs);
	pk->callback(pk->data, tail, sizeof(tail) - 1);
}

static int visit_packed(struct cmd_ctx *ctx, const MDB_val *v, event_visit fn, void *ud)
{
	struct pd_value *ev;
	size_t used;
	if (pd_value_unpack(ctx->a, v->mv_data, v->mv_size, &used, &ev) != PD_UNPACK_OK)
		return MDB_CORRUPTED;
	return fn(ctx, ev, ud);
}

/* Events seq first .. last of `events` (which holds seq 1..spilled
 * without gaps, all of a value written before): one cursor range, so a page costs what its size costs, whatever
 * the history's length. */
static int events_stored(struct cmd_ctx *ctx, const char *number, int64_t first, int64_t last,
			 event_visit fn, void *ud)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->events, &cur);
	if (rc)
		return rc;
	unsigned char key[EVENT_KEY_MAX];
	size_t prefix = strlen(number) + 1;
	MDB_val k = { event_key(number, (uint32_t)first, key), key }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != prefix + 4 || memcmp(k.mv_data, key, prefix) != 0 ||
		    be32_get((const unsigned char *)k.mv_data + prefix) > last) {
			rc = MDB_NOTFOUND;
			break;
		}
		if ((rc = visit_packed(ctx, &v, fn, ud)))
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The one reader of a history: seq 1 .. spilled from `events`, the newest
 * from the waybill's value (a value written before has them all in
 * `events`). */
static int events_each(struct cmd_ctx *ctx, const char *number, const struct waybill_value *wv,
		       int64_t first, int64_t last, event_visit fn, void *ud)
{
	struct waybill_value stored;
	int rc;
	if (!wv) {
		MDB_val k = { strlen(number), (void *)number }, v;
		if ((rc = mdb_get(ctx->txn, ctx->st->waybills, &k, &v)) || (rc = waybill_value_split(&v, &stored)))
			return rc;
		wv = &stored;
	}
	int64_t spilled = wv->has_recent ? wv->spilled : last;
	if (first <= spilled && (rc = events_stored(ctx, number, first, spilled < last ? spilled : last, fn, ud)))
		return rc;
	if (!wv->has_recent)
		return 0;
	const unsigned char *p = wv->recent.mv_data, *end = p + wv->recent.mv_size;
	int64_t newest = spilled + wv->recent_n;
	for (int64_t seq = spilled + 1; seq <= last && seq <= newest; seq++) {
		MDB_val v;
		if ((rc = waybill_recent_next(&p, end, &v)))
			return rc;
		if (seq >= first && (rc = visit_packed(ctx, &v, fn, ud)))
			return rc;
	}
	return 0;
}

static int push_shown(struct cmd_ctx *ctx, const struct pd_value *ev, void *ud)
{
	pd_arr_push(ctx->a, ud, present(ctx, ev));
	return 0;
}

/* The events seq first .. last as shown. */
static int events_range(struct cmd_ctx *ctx, const char *number, const struct waybill_value *wv,
			int64_t first, int64_t last, struct pd_value **out)
{
	*out = pd_arr(ctx->a);
	return events_each(ctx, number, wv, first, last, push_shown, *out);
}

/* The page of `limit` events before seq `before` (0: the latest), in order;
 * *next is the `before` of the page ahead of it, 0 when it starts at the
 * first event. wv: the waybill's value, already read (NULL: read it). */
static int events_page(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb,
		       const struct waybill_value *wv, int64_t before, int64_t limit,
		       struct pd_value **out, int64_t *next)
{
	int64_t count = rec_int(wb, "event_count");
	int64_t last = before && before <= count ? before - 1 : count;
	int64_t first = last - limit + 1 > 1 ? last - limit + 1 : 1;
	*next = first > 1 ? first : 0;
	return events_range(ctx, number, wv, first, last, out);
}

int waybill_events(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb,
		   struct pd_value **out)
{
	int64_t next;
	return events_page(ctx, number, wb, NULL, 0, ctx->cfg->waybill_events_page_max, out, &next);
}

/* The waybill's customer (NULL: none). A view of version 3 on says where
 * its string is; an older one is searched: without the key's bytes
 * anywhere there is no such key (one memmem), else its fields are walked. */
static const char *view_customer(struct cmd_ctx *ctx, const struct view *vw)
{
	const unsigned char *p = (const unsigned char *)vw->fields_p, *end = p + vw->fields_len;
	struct pd_mp_item it;
	if (vw->customer_known) {
		if (!vw->customer_at)
			return NULL;
		p += vw->customer_at;
		return pd_mp_next(&p, end, &it) == PD_UNPACK_OK && it.type == PD_STR
			       ? pd_strndup(ctx->a, it.s, it.count) : NULL;
	}
	static const char key[] = "customer";
	size_t klen = sizeof(key) - 1;
	if (!memmem(p, vw->fields_len, key, klen))
		return NULL;
	for (uint32_t i = 0; i < vw->fields; i++) {
		if (pd_mp_next(&p, end, &it) != PD_UNPACK_OK || it.type != PD_STR)
			return NULL;
		bool match = it.count == klen && memcmp(it.s, key, klen) == 0;
		/* the value, and whatever a container value holds */
		for (uint64_t items = 1; items > 0; items--) {
			if (pd_mp_next(&p, end, &it) != PD_UNPACK_OK)
				return NULL;
			if (match)
				return it.type == PD_STR ? pd_strndup(ctx->a, it.s, it.count) : NULL;
			items += it.type == PD_MAP ? 2 * it.count : it.type == PD_ARR ? it.count : 0;
		}
	}
	return NULL;
}

/* The special operating requirements of the waybill's account, read from
 * the customer at each GET (not kept in the view), so a changed customer
 * file shows at once; packed last when there are any. */
static void pack_requirements(msgpack_packer *pk, const struct pd_value *req)
{
	if (!req)
		return;
	msgpack_pack_str_with_body(pk, "requirements", 12);
	pd_value_pack(pk, req);
}

/* GET's reply data, packed: the waybill's fields as shown, the lateness
 * fields, its history, the account's requirements. The fields and history
 * come from the view when it can be used, else they are rendered from the
 * records. */
/* GET's reply data is packed straight into the request's arena, where the
 * reply keeps it: no heap buffer and no copy of it a GET. Grown by doubling
 * (the outgrown block stays in the arena until the request ends); sized
 * for the view's bytes at once, it does not grow on the view's path. */
struct arena_out {
	struct pd_arena *a;
	char *data;
	size_t len, cap;
};

static void arena_out_grow(struct arena_out *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 2048;
	while (cap < o->len + n)
		cap *= 2;
	char *grown = pd_alloc_raw(o->a, cap);
	if (o->len)
		memcpy(grown, o->data, o->len);
	o->data = grown;
	o->cap = cap;
}

/* Inline: the packer calls arena_write for every head and body. */
static inline void arena_out_reserve(struct arena_out *o, size_t n)
{
	if (o->len + n > o->cap)
		arena_out_grow(o, n);
}

static int arena_write(void *data, const char *p, size_t n)
{
	struct arena_out *o = data;
	arena_out_reserve(o, n);
	memcpy(o->data + o->len, p, n);
	o->len += n;
	return 0;
}

/* What GET packs around the view's bytes, at most: the map's and the
 * array's heads, the lateness fields, the events' keys. */
#define GET_ADDED_MAX 128

/* A GET's message, "waybill NUMBER: STATUS", joined without printf (every
 * look-up says it; the number is 6 to 20 digits, well inside the 255
 * bytes a message made by printf is cut at). */
static int get_ok(struct cmd_ctx *ctx, const char *number, const char *status, size_t status_len)
{
	size_t n = strlen(number);
	char *msg = pd_alloc_raw(ctx->a, 8 + n + 2 + status_len + 1), *w = msg;
	w = mempcpy(w, "waybill ", 8);
	w = mempcpy(w, number, n);
	w = mempcpy(w, ": ", 2);
	w = mempcpy(w, status, status_len);
	*w = '\0';
	return reply_ok_msg(ctx, 200, msg);
}

int cmd_waybill_get(struct cmd_ctx *ctx)
{
	const char *number = pd_arg_str(ctx->args, "number");
	int64_t limit = ctx->cfg->waybill_events_page_max, before = 0, next = 0;
	pd_arg_int(ctx->args, "events_limit", &limit);
	pd_arg_int(ctx->args, "events_before", &before);
	if (limit < 1 || limit > ctx->cfg->waybill_events_page_max)
		return reply_error(ctx, 400, "argument 'events_limit' must be from 1 to %lld",
				   (long long)ctx->cfg->waybill_events_page_max);
	struct view vw;
	struct waybill_value wv;
	struct arena_out o = { .a = ctx->a };
	msgpack_packer pk;
	msgpack_packer_init(&pk, &o, arena_write);
	struct pd_value *req;
	int rc = value_get(ctx, number, &wv);
	/* the view holds the whole history: it serves the first page when
	 * that is the whole history */
	if (rc == 0 && view_parse(ctx, &wv.view, &vw) && !before && vw.events <= (uint64_t)limit) {
		if ((rc = customer_requirements(ctx, view_customer(ctx, &vw), &req)))
			return reply_store_error(ctx, rc);
		arena_out_reserve(&o, vw.fields_len + vw.events_len + GET_ADDED_MAX);
		msgpack_pack_map(&pk, vw.fields + LATENESS_FIELDS + 2 + (req != NULL));
		arena_write(&o, vw.fields_p, vw.fields_len);
		pack_lateness(ctx, &pk, &vw.promise, vw.delivered_at, vw.same_city);
		msgpack_pack_str_with_body(&pk, "events", 6);
		msgpack_pack_array(&pk, vw.events);
		arena_write(&o, vw.events_p, vw.events_len);
		static const char no_next[] = "\xb2" "events_next_before" "\x00"; /* and 0 */
		arena_write(&o, no_next, sizeof(no_next) - 1);
		pack_requirements(&pk, req);
		get_ok(ctx, number, vw.status_p, vw.status_len);
	} else {
		struct pd_value *wb, *events;
		/* the value read above, when there was one (the same
		 * transaction); else the record, or the 404 */
		bool have = rc == 0;
		if (have && (rc = waybill_split_record(ctx->a, &wv, &wb)))
			return reply_store_error(ctx, rc);
		if (!have && waybill_load(ctx, number, &wb))
			return PD_EREPLIED;
		struct waybill_promise promise;
		if ((rc = events_page(ctx, number, wb, have ? &wv : NULL, before, limit, &events, &next)) ||
		    (rc = promise_of(ctx, wb, &promise)) ||
		    (rc = customer_requirements(ctx, pd_map_str(wb, "customer"), &req)))
			return reply_store_error(ctx, rc);
		struct pd_value *shown = present(ctx, wb);
		msgpack_pack_map(&pk, shown->u.c.count + LATENESS_FIELDS + 2 + (req != NULL));
		for (struct pd_entry *e = shown->u.c.head; e; e = e->next) {
			pd_pack_str(&pk, e->key, e->key_len);
			pd_value_pack(&pk, e->val);
		}
		pack_lateness(ctx, &pk, &promise, rec_int(wb, "delivered_at"), same_city(wb));
		msgpack_pack_str_with_body(&pk, "events", 6);
		pd_value_pack(&pk, events);
		msgpack_pack_str_with_body(&pk, "events_next_before", 18);
		msgpack_pack_int64(&pk, next);
		pack_requirements(&pk, req);
		const char *status = pd_map_str(wb, "status");
		get_ok(ctx, number, status ? status : "", status ? strlen(status) : 0);
	}
	ctx->rep->packed = o.data;
	ctx->rep->packed_len = o.len;
	return 0;
}

/* ---- delivery attempts ---- */

struct attempts {
	int64_t out, failed;
};

static int count_attempt(struct cmd_ctx *ctx, const struct pd_value *ev, void *ud)
{
	(void)ctx;
	struct attempts *n = ud;
	const char *kind = rec_str(ev, "event");
	n->out += !strcmp(kind, "out_for_delivery");
	n->failed += !strcmp(kind, "delivery_failed");
	return 0;
}

/* How often the parcel went out and how often that failed. A waybill
 * stored before attempts were counted has them in its history. */
static int attempts_of(struct cmd_ctx *ctx, const struct pd_value *wb, struct attempts *n)
{
	n->out = rec_int(wb, "delivery_attempts");
	n->failed = rec_int(wb, "failed_attempts");
	if (pd_map_get(wb, "delivery_attempts") || !pd_map_bool(wb, "ever_out_for_delivery"))
		return 0;
	return events_each(ctx, rec_str(wb, "number"), NULL, 1, rec_int(wb, "event_count"), count_attempt, n);
}

/* Counts an attempt (out_for_delivery) or its failure on the waybill; an
 * attempt after the free ones records the extra-attempt fee on the event
 * and in the waybill's extra fees. Returns 0 or an LMDB code; *fee is the
 * fee recorded. */
static int count_attempts(struct cmd_ctx *ctx, struct pd_value *wb, struct pd_value *e,
			  enum waybill_event ev, int64_t *fee)
{
	struct attempts n;
	int rc = attempts_of(ctx, wb, &n);
	*fee = 0;
	if (rc)
		return rc;
	if (ev == WE_OUT_FOR_DELIVERY) {
		*fee = waybill_attempt_fee(n.failed, ctx->cfg->free_delivery_attempts,
					   ctx->cfg->extra_attempt_fee_fen);
		n.out++;
		pd_map_set_int(ctx->a, e, "attempt", n.out);
		if (*fee) {
			pd_map_set_int(ctx->a, e, "fee_fen", *fee);
			pd_map_set_int(ctx->a, wb, "extra_fees_fen", rec_int(wb, "extra_fees_fen") + *fee);
		}
	} else {
		n.failed++;
	}
	pd_map_set_int(ctx->a, wb, "delivery_attempts", n.out);
	pd_map_set_int(ctx->a, wb, "failed_attempts", n.failed);
	return 0;
}

/* Where a delivered parcel was left (to=, default hand) and, anywhere but
 * the receiver's hand, whether the receiver consented (consent=, required
 * there, refused with a hand delivery). -1 with a 400 when wrong. */
static int delivery_place(struct cmd_ctx *ctx, enum waybill_event ev)
{
	const char *to = pd_arg_str(ctx->args, "to");
	bool consent = pd_map_get(ctx->args, "consent") != NULL;
	if (ev != WE_DELIVERED)
		return (to || consent) ? reply_error(ctx, 400, "to and consent go with a delivered scan only"), -1 : 0;
	int place = to ? waybill_drop_parse(to) : WAYBILL_TO_HAND;
	if (place == WAYBILL_TO_HAND && consent)
		return reply_error(ctx, 400, "consent is not asked for a hand delivery: it goes with a parcel left "
					     "elsewhere (to=locker, station, neighbour or other)"), -1;
	if (place != WAYBILL_TO_HAND && !consent)
		return reply_error(ctx, 400, "missing argument 'consent' (yes or no): a parcel left at the %s needs "
					     "to say whether the receiver agreed", to), -1;
	return place;
}

/* Sets the promise in force on wb (and, the first time it moves, keeps the
 * first one in original_promised_at), saying what moved it: the one way a
 * sender's address change and a receiver-caused failed delivery give the
 * parcel a new promise (docs/rules.md section 1, "not our delay"). */
static void promise_move(struct cmd_ctx *ctx, struct pd_value *wb, const struct waybill_promise *old,
			 const struct waybill_promise *promise, const char *by)
{
	if (promise->promised_at == old->promised_at)
		return;
	if (!rec_int(wb, "original_promised_at"))
		pd_map_set_int(ctx->a, wb, "original_promised_at", old->promised_at);
	pd_map_set_int(ctx->a, wb, "promised_at", promise->promised_at);
	if (promise->carried_late_secs)
		pd_map_set_int(ctx->a, wb, "late_carried_secs", promise->carried_late_secs);
	pd_map_set_str(ctx->a, wb, "promise_moved_by", by);
}

/* A delivery failed at `at` by the receiver's doing (a wrong or changed
 * name, address or phone, or unreachable) is not our delay: the promise
 * moves as for an accepted re-route, by receiver_fault_allowance_secs; the
 * event keeps the old and the new promise. 0 or an LMDB code. */
static int receiver_fault(struct cmd_ctx *ctx, struct pd_value *wb, struct pd_value *e, int64_t at)
{
	struct waybill_promise old, promise;
	int rc = promise_of(ctx, wb, &old);
	if (rc)
		return rc;
	waybill_receiver_fault_promise(&old, at, ctx->cfg->receiver_fault_allowance_secs, &promise);
	if (promise.promised_at == old.promised_at)
		return 0;
	pd_map_set_int(ctx->a, e, "old_promised_at", old.promised_at);
	pd_map_set_int(ctx->a, e, "new_promised_at", promise.promised_at);
	promise_move(ctx, wb, &old, &promise, "failed_delivery");
	return 0;
}

/* A scan of an account's parcel during the account's trial period: a
 * damaged or late parcel is flagged to the account's owner at once (the
 * contact module keeps each flag once, and knows whether the account is in
 * trial). Lateness is judged at each scan, against the promise in force. */
static int trial_flags(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb, enum waybill_event ev)
{
	const char *account = rec_str(wb, "customer");
	struct waybill_lateness l;
	int rc = 0;
	if (!*account)
		return 0;
	if (ev == WE_DAMAGED)
		rc = contact_trial_flag(ctx, account, number, "damaged");
	if (!rc && !(rc = waybill_late(ctx, wb, &l)) && l.late)
		rc = contact_trial_flag(ctx, account, number, "late");
	return rc;
}

int cmd_scan(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *number = pd_arg_str(ctx->args, "number");
	const char *event_name = pd_arg_str(ctx->args, "event");
	const char *depot = pd_arg_str(ctx->args, "depot");
	int64_t at = ctx->now;
	pd_arg_int(ctx->args, "at", &at);
	enum waybill_event ev = (enum waybill_event)waybill_event_parse(event_name);

	if (ev == WE_DELIVERED) {
		if (!pd_arg_str(ctx->args, "signer"))
			return reply_error(ctx, 400, "missing argument 'signer' (who signed)");
		if (!pd_map_get(ctx->args, "signer_is_consignee"))
			return reply_error(ctx, 400, "missing argument 'signer_is_consignee' (yes or no)");
	} else if (pd_arg_str(ctx->args, "signer") || pd_map_get(ctx->args, "signer_is_consignee") ||
		   pd_arg_str(ctx->args, "remarks"))
		return reply_error(ctx, 400, "signer, signer_is_consignee and remarks go with a delivered scan only");
	if (ev == WE_DELIVERY_FAILED && !pd_arg_str(ctx->args, "reason"))
		return reply_error(ctx, 400, "missing argument 'reason' (why delivery failed)");
	/* whose doing the failure was: the carrier's unless the terminal says
	 * otherwise (a terminal that does not send cause keeps its meaning) */
	const char *cause_arg = pd_arg_str(ctx->args, "cause");
	if (cause_arg && ev != WE_DELIVERY_FAILED)
		return reply_error(ctx, 400, "cause goes with a delivery_failed scan only");
	int cause = cause_arg ? waybill_fail_cause_parse(cause_arg) : WAYBILL_CAUSE_CARRIER;
	if (cause < 0)
		return reply_error(ctx, 400, "argument 'cause' is not a failure cause");
	int place = delivery_place(ctx, ev);
	if (place < 0)
		return PD_EREPLIED;
	if (at > ctx->now + SCAN_FUTURE_SLACK_SECS)
		return reply_error(ctx, 422, "scan time is in the future");

	struct pd_value *wb;
	if (waybill_load(ctx, number, &wb))
		return PD_EREPLIED;
	if (at < rec_int(wb, "created_at"))
		return reply_error(ctx, 422, "scan time is before the waybill was created");
	int cur = waybill_status_parse(pd_map_str(wb, "status"));
	int before_lost = waybill_status_parse(pd_map_str(wb, "before_lost"));
	int next = waybill_status_next((enum waybill_status)cur, ev, (enum waybill_status)before_lost);
	if (next < 0)
		return reply_error(ctx, 409, "cannot record %s on a waybill that is %s",
				   event_name, pd_map_str(wb, "status"));

	int rc;
	int64_t fee = 0;
	struct pd_value *e = event_new(ctx, event_name, at, depot);
	static const char *const extra[] = { "signer", "remarks", "reason", "note" };
	for (size_t i = 0; i < 4; i++) {
		const char *s = pd_arg_str(ctx->args, extra[i]);
		if (s)
			pd_map_set_str(a, e, extra[i], s);
	}
	pd_map_set_str(a, e, "status_after", waybill_status_name((enum waybill_status)next));

	switch (ev) {
	case WE_DELIVERED: {
		const char *remarks = pd_arg_str(ctx->args, "remarks");
		bool consignee = pd_arg_bool(ctx->args, "signer_is_consignee", 0);
		pd_map_set_bool(a, e, "signer_is_consignee", consignee);
		pd_map_set_int(a, wb, "delivered_at", at);
		pd_map_set_str(a, wb, "signer", pd_arg_str(ctx->args, "signer"));
		pd_map_set_bool(a, wb, "signer_is_consignee", consignee);
		pd_map_set_bool(a, wb, "signed_with_remarks", remarks && *remarks);
		if (remarks)
			pd_map_set_str(a, wb, "remarks", remarks);
		const char *to = waybill_drop_name((enum waybill_drop)place);
		pd_map_set_str(a, e, "to", to);
		pd_map_set_str(a, wb, "delivered_to", to);
		if (place != WAYBILL_TO_HAND) {
			bool consent = pd_arg_bool(ctx->args, "consent", 0);
			pd_map_set_bool(a, e, "consent", consent);
			pd_map_set_bool(a, wb, "receiver_consent", consent);
		}
		break;
	}
	case WE_DELIVERY_FAILED:
		pd_map_set_str(a, e, "cause", waybill_fail_cause_name((enum waybill_fail_cause)cause));
		if (waybill_fail_cause_receiver((enum waybill_fail_cause)cause) &&
		    (rc = receiver_fault(ctx, wb, e, at)))
			return reply_store_error(ctx, rc);
		/* fall through */
	case WE_OUT_FOR_DELIVERY:
		if ((rc = count_attempts(ctx, wb, e, ev, &fee)))
			return reply_store_error(ctx, rc);
		pd_map_set_bool(a, wb, "ever_out_for_delivery", true);
		break;
	case WE_DAMAGED:
		/* the first damage counts once in the month's damage rate */
		if (!pd_map_bool(wb, "damaged") && (rc = count_scan(ctx, NULL, wb, ev)))
			return reply_store_error(ctx, rc);
		pd_map_set_bool(a, wb, "damaged", true);
		break;
	case WE_LOST:
		pd_map_set_str(a, wb, "before_lost", waybill_status_name((enum waybill_status)cur));
		break;
	case WE_RETURNED:
		pd_map_set_int(a, wb, "returned_at", at);
		break;
	default:
		break;
	}
	pd_map_set_str(a, wb, "status", waybill_status_name((enum waybill_status)next));
	/* an offline terminal may upload a scan late: the history keeps the
	 * order scans arrived in, and the last event is the latest in time */
	if (at >= rec_int(wb, "last_event_at")) {
		pd_map_set_int(a, wb, "last_event_at", at);
		pd_map_set_str(a, wb, "last_depot", depot);
	}

	if ((ev == WE_DELIVERED || ev == WE_LOST) && (rc = count_scan(ctx, wb, wb, ev)))
		return reply_store_error(ctx, rc);
	if ((rc = trial_flags(ctx, number, wb, ev)))
		return reply_store_error(ctx, rc);
	struct pd_value *detail = pd_map(a);
	pd_map_set_str(a, detail, "event", event_name);
	pd_map_set_str(a, detail, "from", waybill_status_name((enum waybill_status)cur));
	pd_map_set_str(a, detail, "to", waybill_status_name((enum waybill_status)next));
	if ((rc = waybill_save(ctx, number, wb, e, WB_KEYS_SAME, "scan", detail)))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "number", number);
	pd_map_set_str(a, d, "event", event_name);
	pd_map_set_str(a, d, "status", waybill_status_name((enum waybill_status)next));
	pd_map_set_int(a, d, "seq", rec_int(wb, "event_count"));
	if (fee)
		pd_map_set_int(a, d, "fee_fen", fee);
	ctx->rep->data = d;
	reply_ok(ctx, 201, "%s recorded", event_name);
	return 0;
}

/* ---- address change and recall ---- */

static bool id_last4_valid(const char *s)
{
	if (strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

int check_id_args(struct cmd_ctx *ctx)
{
	const char *type = pd_arg_str(ctx->args, "id_type");
	const char *last4 = pd_arg_str(ctx->args, "id_last4");
	if (!type != !last4)
		return reply_error(ctx, 400, "an ID check needs both id_type and id_last4");
	if (last4 && !id_last4_valid(last4))
		return reply_error(ctx, 400, "argument 'id_last4' must be exactly the last 4 letters or digits of the ID, never the whole number");
	return 0;
}

const char *waybill_identify(struct cmd_ctx *ctx, const struct pd_value *wb, const char *party,
			     const char *name, const char *phone)
{
	if (phone && strcmp(phone, pd_map_str(wb, pd_sprintf(ctx->a, "%s_phone", party))) == 0)
		return "phone";
	if (pd_arg_str(ctx->args, "id_type") && name &&
	    strcmp(name, pd_map_str(wb, pd_sprintf(ctx->a, "%s_name", party))) == 0)
		return "id_check";
	return NULL;
}

/* May the sender still change the address or recall it
 * (waybill_change_allowed()): before it went out for delivery, or held or
 * failed after free_delivery_attempts failed ones (the sender decides after
 * the free attempts: one figure for both). 0, or PD_EREPLIED after a 409
 * naming the rule ("address change" or "recall" refused). */
static int change_allowed(struct cmd_ctx *ctx, const struct pd_value *wb, const char *what)
{
	struct attempts n;
	const char *why;
	int rc = attempts_of(ctx, wb, &n);
	if (rc)
		return reply_store_error(ctx, rc);
	int64_t free_n = ctx->cfg->free_delivery_attempts;
	rc = waybill_change_allowed((enum waybill_status)waybill_status_parse(pd_map_str(wb, "status")),
				    pd_map_bool(wb, "ever_out_for_delivery"), n.failed, free_n, &why);
	if (rc == WAYBILL_CHANGE_TOO_FEW_FAILED)
		return reply_error(ctx, 409, "%s refused: %s (%lld of %lld failed)", what, why, (long long)n.failed,
				   (long long)free_n);
	return rc ? reply_error(ctx, 409, "%s refused: %s", what, why) : 0;
}

/* Only the sender may ask: the phone on the waybill, or an ID check of the
 * sender (the requester's name must be the sender's). */
static int check_sender(struct cmd_ctx *ctx, const struct pd_value *wb)
{
	int rc = check_id_args(ctx);
	if (rc)
		return rc;
	if (waybill_identify(ctx, wb, "sender", pd_arg_str(ctx->args, "requester"),
			     pd_arg_str(ctx->args, "requester_phone")))
		return 0;
	return reply_error(ctx, 422, "only the sender may ask: give requester_phone matching the sender's phone, "
				     "or an ID check (id_type, id_last4) of the sender by name");
}

static void record_requester(struct cmd_ctx *ctx, struct pd_value *ev)
{
	pd_map_set_str(ctx->a, ev, "requested_by", pd_arg_str(ctx->args, "requester"));
	const char *t = pd_arg_str(ctx->args, "id_type");
	if (t) {
		pd_map_set_str(ctx->a, ev, "id_type", t);
		pd_map_set_str(ctx->a, ev, "id_last4", pd_arg_str(ctx->args, "id_last4"));
	} else {
		pd_map_set_str(ctx->a, ev, "verified_by", "sender_phone");
	}
	pd_map_set_str(ctx->a, ev, "accepted_by", ctx->sess->user);
}

int cmd_waybill_redirect(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *number = pd_arg_str(ctx->args, "number");
	const char *address = pd_arg_str(ctx->args, "address");
	const char *city = pd_arg_str(ctx->args, "city");
	const char *dest_depot = pd_arg_str(ctx->args, "dest_depot");
	struct pd_value *wb;
	if (waybill_load(ctx, number, &wb) || check_sender(ctx, wb) || change_allowed(ctx, wb, "address change"))
		return PD_EREPLIED;
	const char *why;
	int64_t redirects = rec_int(wb, "redirects"), extra = rec_int(wb, "extra_fees_fen");
	if (redirects >= ctx->cfg->max_redirects_per_waybill)
		return reply_error(ctx, 422, "address change refused: this waybill has had its %lld allowed change(s)",
				   (long long)ctx->cfg->max_redirects_per_waybill);
	const char *old_city = pd_map_str(wb, "receiver_city");
	bool other_city = strcmp(old_city, city) != 0;
	if (other_city && !dest_depot)
		return reply_error(ctx, 400, "missing argument 'dest_depot': the new address is in another city");
	int64_t fee = other_city ? ctx->cfg->redirect_fee_other_city_fen
				 : ctx->cfg->redirect_fee_same_city_fen;
	/* the sender's change is not our delay: a new promise (docs/rules.md
	 * section 3) */
	struct waybill_promise old, promise;
	int64_t requested = 0;
	pd_arg_int(ctx->args, "promised_at", &requested);
	int rc = promise_of(ctx, wb, &old);
	if (rc)
		return reply_store_error(ctx, rc);
	if (waybill_redirect_promise(&old, ctx->now, other_city, ctx->cfg->reroute_allowance_secs,
				     requested, &promise, &why) < 0)
		return reply_error(ctx, 422, "address change refused: %s", why);

	struct pd_value *ev = event_new(ctx, "redirected", ctx->now, pd_map_str(wb, "last_depot"));
	pd_map_set_str(a, ev, "old_address", pd_map_str(wb, "receiver_address"));
	pd_map_set_str(a, ev, "old_city", old_city);
	pd_map_set_str(a, ev, "new_address", address);
	pd_map_set_str(a, ev, "new_city", city);
	if (dest_depot) {
		pd_map_set_str(a, ev, "old_dest_depot", pd_map_str(wb, "dest_depot"));
		pd_map_set_str(a, ev, "new_dest_depot", dest_depot);
	}
	pd_map_set_bool(a, ev, "rerouted", other_city);
	pd_map_set_int(a, ev, "fee_fen", fee);
	pd_map_set_int(a, ev, "old_promised_at", old.promised_at);
	pd_map_set_int(a, ev, "new_promised_at", promise.promised_at);
	record_requester(ctx, ev);
	promise_move(ctx, wb, &old, &promise, "address_change");

	pd_map_set_str(a, wb, "receiver_address", address);
	pd_map_set_str(a, wb, "receiver_city", city);
	if (dest_depot)
		pd_map_set_str(a, wb, "dest_depot", dest_depot);
	pd_map_set_int(a, wb, "redirects", redirects + 1);
	pd_map_set_int(a, wb, "extra_fees_fen", extra + fee);
	if ((rc = waybill_save(ctx, number, wb, ev, WB_KEYS_NEW, "redirect", ev)))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "number", number);
	pd_map_set_bool(a, d, "rerouted", other_city);
	pd_map_set_int(a, d, "fee_fen", fee);
	map_set_time(ctx, d, "promised_at", promise.promised_at);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "address changed");
	return 0;
}

int cmd_waybill_recall(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *number = pd_arg_str(ctx->args, "number");
	struct pd_value *wb;
	if (waybill_load(ctx, number, &wb) || check_sender(ctx, wb) || change_allowed(ctx, wb, "recall"))
		return PD_EREPLIED;
	const char *status = pd_map_str(wb, "status");
	int cur = waybill_status_parse(status);
	int next = waybill_status_next((enum waybill_status)cur, WE_RETURNING, WAYBILL_STATUS_COUNT);
	if (next < 0)
		return reply_error(ctx, 409, "recall refused: the parcel is %s", status);
	int64_t extra = rec_int(wb, "extra_fees_fen");
	struct pd_value *ev = event_new(ctx, "recalled", ctx->now, pd_map_str(wb, "last_depot"));
	const char *reason = pd_arg_str(ctx->args, "reason");
	if (reason)
		pd_map_set_str(a, ev, "reason", reason);
	pd_map_set_int(a, ev, "fee_fen", ctx->cfg->recall_fee_fen);
	pd_map_set_str(a, ev, "status_after", waybill_status_name((enum waybill_status)next));
	record_requester(ctx, ev);
	pd_map_set_str(a, wb, "status", waybill_status_name((enum waybill_status)next));
	pd_map_set_bool(a, wb, "recalled", true);
	/* the sender took the parcel back: its lateness clock stops here */
	pd_map_set_int(a, wb, "recalled_at", ctx->now);
	pd_map_set_int(a, wb, "extra_fees_fen", extra + ctx->cfg->recall_fee_fen);
	int rc;
	if ((rc = waybill_save(ctx, number, wb, ev, WB_KEYS_SAME, "recall", ev)))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "number", number);
	pd_map_set_str(a, d, "status", waybill_status_name((enum waybill_status)next));
	ctx->rep->data = d;
	reply_ok(ctx, 200, "recalled: the parcel returns to its sender");
	return 0;
}
