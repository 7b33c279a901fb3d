/* query.c — the query register (QUERY ...) and the search without a waybill
 * number (WAYBILL FIND).
 *
 * Every inquiry is one record of the declared kind QUERY (docs/records.md):
 * `queries` (be64 id -> map), listed through `query_index` by waybill, user,
 * local day, kind, status and depot. Two kinds wait for an answer: an
 * external query (we ask a partner carrier) and an investigation (signed
 * for, the customer says it never arrived). They are due by the customer's
 * service level (query_rules.c), listed by due time in `query_due` while
 * open, and late from their due instant: the one timer (kind "query")
 * marks them overdue and counts them late the second after, answered or
 * not. Records are never deleted by the daemon (the rules ask for at least
 * a year). */
#include <stdio.h>
#include <string.h>

#include "timefmt.h"
#include "contact.h"
#include "daemon.h"
#include "complaint.h"
#include "customer.h"
#include "query.h"
#include "query_rules.h"
#include "record.h"
#include "volume.h"
#include "waybill.h"
#include "waybill_rules.h"

#define FIND_MAX_RESULTS 100

/* What the desk can tell a caller, by the waybill's state (rules: "signed,
 * arrived but not signed, not yet arrived, not arrived locally"). */
static const char *situation(const struct pd_value *wb)
{
	const char *status = pd_map_str(wb, "status");
	switch (waybill_status_parse(status)) {
	case WAYBILL_DELIVERED: return "signed";
	case WAYBILL_OUT_FOR_DELIVERY:
	case WAYBILL_DELIVERY_FAILED:
	case WAYBILL_HELD: return "arrived_not_signed";
	case WAYBILL_IN_TRANSIT: {
		const char *last = pd_map_str(wb, "last_depot");
		const char *dest = pd_map_str(wb, "dest_depot");
		return (last && dest && strcmp(last, dest) == 0) ? "arrived_not_signed"
								 : "not_arrived_locally";
	}
	case WAYBILL_CREATED:
	case WAYBILL_PICKED_UP: return "not_yet_arrived";
	case WAYBILL_LOST: return "exception_lost";
	case WAYBILL_RETURNING:
	case WAYBILL_RETURNED: return "returned_to_sender";
	default: return "unknown";
	}
}

static struct query_rules rules;

int query_setup(const struct config *cfg)
{
	const char *problem;
	query_rules_from_options(cfg, &rules);
	if (query_rules_validate(&rules, &problem) < 0) {
		fprintf(stderr, "parceldeskd: query options: %s\n", problem);
		return -1;
	}
	return 0;
}

/* ---- the declared kind ---- */

static bool is_open(const struct pd_value *q)
{
	return strcmp(rec_str(q, "status"), "open") == 0;
}

/* An open query is listed by its due time (a query answered at once has
 * none). */
static int64_t due_of(const struct pd_value *q)
{
	return is_open(q) ? rec_int(q, "due_at") : 0;
}

/* The first second past due, until the query has been marked overdue. */
static int64_t timer_of(const struct pd_value *q)
{
	int64_t due = due_of(q);
	return due && !pd_map_bool(q, "ever_overdue") ? due + 1 : 0;
}

/* "day=YYYYMMDD": the local day it was registered. */
static const char *day_key(struct cmd_ctx *ctx, const struct pd_value *q)
{
	return pd_sprintf(ctx->a, "day=%d", pd_local_day(rec_int(q, "at")));
}

static const struct record_index QUERY_INDEXES[] = {
	{ "day", NULL, day_key },
	{ NULL, NULL, NULL },
};

static struct pd_value *query_present(struct cmd_ctx *ctx, const struct pd_value *q);

static struct pd_value *query_summary(struct cmd_ctx *ctx, const struct pd_value *before,
				      const struct pd_value *after)
{
	(void)before;
	return query_present(ctx, after);
}

static const struct record_kind QUERY = {
	RECORD_KIND("query", queries, query_index),
	.fields = RECORD_FIELDS("waybill", "user", "kind", "status", "depot"),
	.indexes = QUERY_INDEXES,
	.due_db = RECORD_DB(query_due),
	.due = due_of,
	.timer = timer_of,
	.summary = query_summary,
};

/* A new query's id, who registered it and when (saved by query_create). */
static int query_new(struct cmd_ctx *ctx, struct pd_value *q, uint64_t *id_out)
{
	uint64_t id;
	int rc = store_next_seq(ctx->txn, ctx->st, "query", &id);
	if (rc)
		return rc;
	pd_map_set_int(ctx->a, q, "id", (int64_t)id);
	pd_map_set_str(ctx->a, q, "user", ctx->sess->user);
	pd_map_set_int(ctx->a, q, "at", ctx->now);
	*id_out = id;
	return 0;
}

static int query_create(struct cmd_ctx *ctx, struct pd_value *q, uint64_t *id_out)
{
	int rc = query_new(ctx, q, id_out);
	return rc ? rc : record_save(ctx, &QUERY, NULL, q, "create", NULL);
}

/* ---- counting: the on-time-handling KPI and the monthly report ----
 * A query with a due time counts once when opened and once more when it
 * is first known late: at its due instant (the timer), or at its answer
 * when no timer marked it (a query opened by an earlier version), in the
 * waybill's month like every waybill counter (volume.h). */
static int count(struct cmd_ctx *ctx, const struct pd_value *q, bool late)
{
	const char *number = pd_map_str(q, "waybill");
	struct pd_value *wb;
	int rc = number ? waybill_get(ctx, number, &wb) : MDB_NOTFOUND;
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	const char *metric = strcmp(rec_str(q, "kind"), "investigation") == 0 ? "investigations" : "queries_external";
	return volume_count(ctx, wb, pd_map_str(wb, "dest_depot"),
			    late ? pd_sprintf(ctx->a, "%s_late", metric) : metric, 1);
}

/* An open query past its due time: marked overdue (for good) and counted
 * late, once. */
static int mark_late(struct cmd_ctx *ctx, struct pd_value *q)
{
	if (pd_map_bool(q, "ever_overdue") || !query_late(rec_int(q, "due_at"), rec_int(q, "answered_at"), ctx->now))
		return 0;
	pd_map_set_bool(ctx->a, q, "ever_overdue", true);
	return count(ctx, q, true);
}

int query_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	struct pd_value *before, *after;
	int rc = record_get_copy(ctx, &QUERY, (int64_t)id, &before, &after);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	/* SWEEP took the entry out: a query not late yet gets it again */
	pd_map_set_int(ctx->a, before, "timer_at", 0);
	bool was = pd_map_bool(after, "ever_overdue");
	if (is_open(after) && (rc = mark_late(ctx, after)))
		return rc;
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	rc = record_save(ctx, &QUERY, before, after, !was && pd_map_bool(after, "ever_overdue") ? "overdue" : NULL,
			 NULL);
	ctx->sess = saved;
	return rc;
}

/* The service level a query about waybill wb is answered at: its account
 * customer's, else the waybill's own (as for complaints). */
static enum service_level level_of(struct cmd_ctx *ctx, const struct pd_value *wb)
{
	const char *account = pd_map_str(wb, "customer");
	const char *name = account ? customer_service_level(ctx, account) : "basic";
	if (strcmp(name, "basic") == 0 && pd_map_str(wb, "service_level"))
		name = pd_map_str(wb, "service_level");
	int level = service_level_parse(name);
	return level < 0 ? SERVICE_BASIC : (enum service_level)level;
}

/* The fields of a query that waits for an answer about waybill wb: open,
 * due by kind and service level, the destination depot's. */
static int64_t set_waiting(struct cmd_ctx *ctx, struct pd_value *q, enum query_kind kind, const struct pd_value *wb)
{
	enum service_level level = level_of(ctx, wb);
	int64_t due = query_due_at(&rules, kind, level, ctx->now);
	pd_map_set_str(ctx->a, q, "status", "open");
	pd_map_set_int(ctx->a, q, "due_at", due);
	pd_map_set_str(ctx->a, q, "service_level", service_level_name(level));
	pd_map_set_str(ctx->a, q, "depot", rec_str(wb, "dest_depot"));
	pd_map_set_bool(ctx->a, q, "ever_overdue", false);
	return due;
}

/* Stores written before queries were a declared kind kept raw indexes
 * (number, user, be32 day) and no bookkeeping in the records: each such
 * record is saved once as if new, without a timeline entry, which adds its
 * query_index entries and its due_key (its due entry is the one it had).
 * Nothing shown changes. meta "query_index_from" holds the next id to look
 * at, all ones when done. */
#define QUERY_OPEN_STEP 2000

int query_open(struct cmd_ctx *ctx, bool *more)
{
	static const char progress[] = "query_index_from";
	MDB_val mk = { sizeof(progress) - 1, (void *)progress }, mv;
	uint64_t from = 0;
	int rc = mdb_get(ctx->txn, ctx->st->meta, &mk, &mv);
	if (rc == 0 && mv.mv_size == 8)
		from = be64_get(mv.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return rc;
	*more = false;
	if (from == UINT64_MAX)
		return 0;
	/* this step's ids first: the saves below write the table walked */
	uint64_t ids[QUERY_OPEN_STEP];
	size_t n = 0;
	MDB_cursor *cur;
	if ((rc = mdb_cursor_open(ctx->txn, ctx->st->queries, &cur)))
		return rc;
	unsigned char start[8];
	be64_put(start, from);
	MDB_val k = { 8, start }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && n < QUERY_OPEN_STEP;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (k.mv_size == 8)
			ids[n++] = be64_get(k.mv_data);
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	bool done = rc == MDB_NOTFOUND;
	for (size_t i = 0; i < n; i++) {
		struct pd_value *q;
		if ((rc = record_get(ctx, &QUERY, (int64_t)ids[i], &q)))
			return rc;
		if (!pd_map_get(q, "due_key") && (rc = record_save(ctx, &QUERY, NULL, q, NULL, NULL)))
			return rc;
	}
	unsigned char next[8];
	be64_put(next, done ? UINT64_MAX : ids[n - 1] + 1);
	*more = !done;
	return store_put_bytes(ctx->txn, ctx->st->meta, mk.mv_data, mk.mv_size, next, 8, 0);
}

static void copy_args(struct cmd_ctx *ctx, struct pd_value *q, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pd_value *v = pd_map_get(ctx->args, names[i]);
		if (v)
			pd_map_set(ctx->a, q, names[i], v);
	}
}

/* A waybill's investigations, newest first: the open one, and whether one
 * answered found that the parcel never reached the receiver. */
struct investigations {
	int64_t open;
	bool not_received;
};

static bool find_investigations(struct cmd_ctx *ctx, const struct pd_value *q, void *ud)
{
	(void)ctx;
	struct investigations *o = ud;
	if (strcmp(rec_str(q, "kind"), "investigation") != 0)
		return false;
	if (!o->open && is_open(q))
		o->open = rec_int(q, "id");
	o->not_received |= pd_map_bool(q, "may_claim");
	return false;
}

static int investigations_of(struct cmd_ctx *ctx, const char *number, struct investigations *o)
{
	size_t kept;
	memset(o, 0, sizeof(*o));
	return rec_walk_newest(ctx, ctx->st->queries, ctx->st->query_index, record_key(ctx, "waybill", number), 0,
			       INT64_MAX, find_investigations, o, &kept);
}

bool query_found_not_received(struct cmd_ctx *ctx, const char *number)
{
	struct investigations o;
	/* a store error reads as not found: the claim is refused, nothing written */
	return investigations_of(ctx, number, &o) == 0 && o.not_received;
}

/* "Signed, but I never got it": the receiver's delivery query about a
 * parcel signed for opens an investigation (docs/rules.md section 2). One
 * open investigation a waybill. Replies and returns PD_EREPLIED when not. */
static int check_not_received(struct cmd_ctx *ctx, const char *kind, const char *number, const struct pd_value *wb)
{
	if (strcmp(kind, "delivery") != 0)
		return reply_error(ctx, 400, "not_received=yes is the receiver's delivery query about a parcel "
					     "signed for: give kind=delivery");
	if (waybill_status_parse(pd_map_str(wb, "status")) != WAYBILL_DELIVERED)
		return reply_error(ctx, 409, "waybill %s is not signed for (it is %s): only a parcel signed for "
					     "that the customer says never arrived is investigated", number,
				   pd_map_str(wb, "status"));
	struct investigations o;
	int rc = investigations_of(ctx, number, &o);
	if (rc)
		return reply_store_error(ctx, rc);
	if (o.open)
		return reply_error(ctx, 409, "waybill %s already has an open investigation (query %lld)", number,
				   (long long)o.open);
	return 0;
}

/* The investigation a delivery query q opens, with what the delivery scan
 * recorded (the first evidence to check). Both are saved by the caller. */
static int investigation_new(struct cmd_ctx *ctx, struct pd_value *q, const struct pd_value *wb,
			     struct pd_value **out)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *inv = pd_map(a);
	pd_map_set_str(a, inv, "kind", "investigation");
	static const char *const fields[] = { "waybill", "channel", "terminal", "asker", "asker_phone" };
	copy_args(ctx, inv, fields, sizeof(fields) / sizeof(fields[0]));
	pd_map_set_str(a, inv, "question", "signed for, the customer says it never arrived");
	pd_map_set_str(a, inv, "signer", rec_str(wb, "signer"));
	pd_map_set_bool(a, inv, "signer_is_consignee", pd_map_bool(wb, "signer_is_consignee"));
	pd_map_set_int(a, inv, "delivered_at", rec_int(wb, "delivered_at"));
	pd_map_set_str(a, inv, "waybill_status", pd_map_str(wb, "status"));
	set_waiting(ctx, inv, QUERY_INVESTIGATION, wb);
	uint64_t id;
	int rc = query_new(ctx, inv, &id);
	if (rc)
		return rc;
	pd_map_set_int(a, inv, "from_query", rec_int(q, "id"));
	pd_map_set_int(a, q, "investigation", (int64_t)id);
	*out = inv;
	return 0;
}

int cmd_query_log(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *kind = pd_arg_str(ctx->args, "kind");
	const char *number = pd_arg_str(ctx->args, "waybill");
	bool urgent = pd_arg_bool(ctx->args, "urgent", 0);
	bool not_received = pd_arg_bool(ctx->args, "not_received", 0);
	if (strcmp(kind, "no_waybill") == 0 && number)
		return reply_error(ctx, 400, "a no_waybill query has no waybill argument");
	if (strcmp(kind, "no_waybill") != 0 && !number)
		return reply_error(ctx, 400, "missing argument 'waybill' for a %s query", kind);
	if (urgent && !number)
		return reply_error(ctx, 400, "urgent=yes flags a waybill for priority delivery: give waybill");
	if (not_received && urgent)
		return reply_error(ctx, 400, "urgent=yes is for a parcel on its way; not_received=yes for one signed for");
	struct pd_value *q = pd_map(a);
	static const char *const fields[] = { "kind", "waybill", "channel", "terminal",
					      "asker", "asker_phone", "answer", "urgent" };
	copy_args(ctx, q, fields, sizeof(fields) / sizeof(fields[0]));
	pd_map_set_str(a, q, "status", "answered");
	struct pd_value *wb = NULL;
	int rc;
	if (number) {
		if (waybill_load(ctx, number, &wb))
			return PD_EREPLIED;
		if (not_received && check_not_received(ctx, kind, number, wb))
			return PD_EREPLIED;
		pd_map_set_str(a, q, "waybill_status", pd_map_str(wb, "status"));
		pd_map_set_str(a, q, "situation", situation(wb));
		/* the customer is in a hurry: flag for priority delivery */
		if (urgent && (rc = waybill_mark_priority(ctx, number, wb)))
			return reply_store_error(ctx, rc);
	} else if (not_received) {
		return reply_error(ctx, 400, "not_received=yes is the receiver's delivery query about a parcel "
					     "signed for: give kind=delivery and waybill");
	}
	uint64_t id;
	struct pd_value *inv = NULL;
	if ((rc = query_new(ctx, q, &id)) || (not_received && (rc = investigation_new(ctx, q, wb, &inv))) ||
	    (rc = record_save(ctx, &QUERY, NULL, q, "create", NULL)) ||
	    (inv && ((rc = record_save(ctx, &QUERY, NULL, inv, "create", NULL)) || (rc = count(ctx, inv, false)))))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(a);
	pd_map_set_int(a, d, "id", (int64_t)id);
	if (wb) {
		pd_map_set_str(a, d, "waybill_status", pd_map_str(wb, "status"));
		pd_map_set_str(a, d, "situation", situation(wb));
		if (waybill_status_parse(pd_map_str(wb, "status")) == WAYBILL_DELIVERED) {
			int64_t at = 0;
			pd_map_int(wb, "delivered_at", &at);
			pd_map_set_str(a, d, "signer", pd_map_str(wb, "signer"));
			map_set_time(ctx, d, "delivered_at", at);
		}
		pd_map_set_bool(a, d, "priority", pd_map_bool(wb, "priority"));
	}
	if (inv) {
		pd_map_set_int(a, d, "investigation", rec_int(inv, "id"));
		map_set_time(ctx, d, "investigation_due_at", rec_int(inv, "due_at"));
		pd_map_set_str(a, d, "service_level", rec_str(inv, "service_level"));
		reply_ok(ctx, 201, "query %llu registered; investigation %lld opened", (unsigned long long)id,
			 (long long)rec_int(inv, "id"));
	} else {
		reply_ok(ctx, 201, "query %llu registered", (unsigned long long)id);
	}
	ctx->rep->data = d;
	return 0;
}

int cmd_query_external(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *number = pd_arg_str(ctx->args, "waybill");
	struct pd_value *wb;
	if (waybill_load(ctx, number, &wb))
		return PD_EREPLIED;
	struct pd_value *q = pd_map(a);
	pd_map_set_str(a, q, "kind", "external");
	static const char *const fields[] = { "waybill", "partner", "question", "channel",
					      "terminal", "asker", "asker_phone" };
	copy_args(ctx, q, fields, sizeof(fields) / sizeof(fields[0]));
	int64_t due = set_waiting(ctx, q, QUERY_EXTERNAL, wb);
	pd_map_set_str(a, q, "waybill_status", pd_map_str(wb, "status"));
	uint64_t id;
	int rc = query_create(ctx, q, &id);
	if (rc || (rc = count(ctx, q, false)))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(a);
	pd_map_set_int(a, d, "id", (int64_t)id);
	map_set_time(ctx, d, "due_at", due);
	pd_map_set_str(a, d, "service_level", rec_str(q, "service_level"));
	ctx->rep->data = d;
	reply_ok(ctx, 201, "external query %llu opened", (unsigned long long)id);
	return 0;
}

static struct pd_value *query_present(struct cmd_ctx *ctx, const struct pd_value *q)
{
	struct pd_value *out = present(ctx, q);
	/* as of now, even before the timer marked it */
	pd_map_set_bool(ctx->a, out, "overdue", is_open(q) && query_late(rec_int(q, "due_at"), 0, ctx->now));
	return out;
}

/* An investigation's outcome and the complaint it led to, checked against
 * the investigation before anything is written. */
static int set_outcome(struct cmd_ctx *ctx, const struct pd_value *q, struct pd_value *after)
{
	int outcome = query_outcome_parse(pd_arg_str(ctx->args, "outcome"));
	long long id = (long long)rec_int(q, "id");
	const char *number = rec_str(q, "waybill");
	if (outcome < 0)
		return reply_error(ctx, 400, "missing argument 'outcome': investigation %lld is answered with what it found",
				   id);
	pd_map_set_str(ctx->a, after, "outcome", query_outcome_name((enum query_outcome)outcome));
	/* the parcel never reached the receiver: the loss may now be claimed */
	pd_map_set_bool(ctx->a, after, "may_claim", query_outcome_allows_claim((enum query_outcome)outcome));
	int64_t complaint_id = 0;
	struct pd_value *r;
	int rc;
	if (pd_arg_int(ctx->args, "complaint", &complaint_id)) {
		if ((rc = complaint_get(ctx, complaint_id, &r)))
			return rc == MDB_NOTFOUND ? reply_error(ctx, 404, "no complaint %lld", (long long)complaint_id)
						  : reply_store_error(ctx, rc);
		if (strcmp(rec_str(r, "waybill"), number) != 0)
			return reply_error(ctx, 422, "complaint %lld is not about waybill %s", (long long)complaint_id,
					   number);
		pd_map_set_int(ctx->a, after, "complaint", complaint_id);
	}
	return 0;
}

/* The partner's answer to an external query, or an investigation's
 * outcome: the query is answered, late or not; one first known late now
 * is counted late (the timer did not run for it). */
/* The account of an answered external query's waybill hears from us: a
 * call-back (none without a waybill of an account). */
static int callback_after(struct cmd_ctx *ctx, const char *number, int64_t id)
{
	struct pd_value *wb;
	int rc = number ? waybill_get(ctx, number, &wb) : MDB_NOTFOUND;
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	return contact_after_close(ctx, pd_map_str(wb, "customer"), pd_sprintf(ctx->a, "query:%lld", (long long)id));
}

int cmd_query_answer(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &QUERY, &before, &after))
		return PD_EREPLIED;
	long long id = (long long)rec_int(before, "id");
	const char *kind = rec_str(before, "kind");
	bool investigation = strcmp(kind, "investigation") == 0;
	if (!investigation && strcmp(kind, "external") != 0)
		return reply_error(ctx, 409, "query %lld is a %s query, answered when it was registered: only external "
					     "queries and investigations wait for an answer", id, kind);
	if (!investigation && (pd_map_get(ctx->args, "outcome") || pd_map_get(ctx->args, "complaint")))
		return reply_error(ctx, 400, "outcome and complaint are for an investigation; query %lld is an "
					     "external query", id);
	if (!is_open(before))
		return reply_error(ctx, 409, "query %lld is already answered", id);
	if (investigation && set_outcome(ctx, before, after))
		return PD_EREPLIED;
	int64_t due = rec_int(before, "due_at");
	bool late = query_late(due, ctx->now, ctx->now);
	pd_map_set_str(ctx->a, after, "answer", pd_arg_str(ctx->args, "answer"));
	pd_map_set_str(ctx->a, after, "status", "answered");
	pd_map_set_int(ctx->a, after, "answered_at", ctx->now);
	pd_map_set_str(ctx->a, after, "answered_by", ctx->sess->user);
	pd_map_set_bool(ctx->a, after, "answered_late", late);
	int rc = mark_late(ctx, after);
	/* found given to the wrong person or address: a misdelivery, counted
	 * against delivery accuracy (docs/rules.md) */
	if (!rc && investigation && strcmp(rec_str(after, "outcome"), "misdelivered") == 0)
		rc = waybill_mark_misdelivered(ctx, rec_str(after, "waybill"));
	if (!rc && !investigation) /* the account hears from us after the answer */
		rc = callback_after(ctx, pd_map_str(after, "waybill"), id);
	if (rc)
		return reply_store_error(ctx, rc);
	const char *what = investigation ? pd_sprintf(ctx->a, "investigation %lld answered: %s", id,
						      rec_str(after, "outcome"))
					 : pd_sprintf(ctx->a, "query %lld answered", id);
	return record_reply(ctx, &QUERY, record_save(ctx, &QUERY, before, after, "answer", NULL), before, after,
			    200, pd_sprintf(ctx->a, "%s%s", what, late ? " (late)" : ""));
}

int cmd_query_get(struct cmd_ctx *ctx)
{
	struct pd_value *q;
	if (record_load_arg(ctx, &QUERY, &q, NULL))
		return PD_EREPLIED;
	ctx->rep->data = query_present(ctx, q);
	reply_ok(ctx, 200, "ok");
	return 0;
}

/* Does a record pass the filters that were not used to pick the index? */
static bool query_matches(struct cmd_ctx *ctx, const struct pd_value *q)
{
	const char *wb = pd_arg_str(ctx->args, "waybill");
	const char *user = pd_arg_str(ctx->args, "user");
	const char *day = pd_arg_str(ctx->args, "day");
	const char *kind = pd_arg_str(ctx->args, "kind");
	const char *depot = pd_arg_str(ctx->args, "depot");
	struct pd_value *open = pd_map_get(ctx->args, "open");
	struct pd_value *overdue = pd_map_get(ctx->args, "overdue");
	const char *qwb = pd_map_str(q, "waybill");
	if (wb && (!qwb || strcmp(wb, qwb) != 0))
		return false;
	if (user && strcmp(user, pd_map_str(q, "user")) != 0)
		return false;
	if ((kind && strcmp(kind, rec_str(q, "kind")) != 0) || (depot && strcmp(depot, rec_str(q, "depot")) != 0))
		return false;
	if (overdue && (is_open(q) && query_late(rec_int(q, "due_at"), 0, ctx->now)) != overdue->u.b)
		return false;
	if (day) {
		int y, m, d;
		int64_t at = 0;
		pd_date_parse(day, &y, &m, &d);
		pd_map_int(q, "at", &at);
		if (pd_local_day(at) != y * 10000 + m * 100 + d)
			return false;
	}
	if (open && (strcmp(pd_map_str(q, "status"), "open") == 0) != open->u.b)
		return false;
	return true;
}

/* A QUERY LIST row: kept when it matches the filters of the request. */
static bool query_list_keep(struct cmd_ctx *ctx, const struct pd_value *q, void *list)
{
	if (!query_matches(ctx, q))
		return false;
	pd_arr_push(ctx->a, list, query_present(ctx, q));
	return true;
}

/* The list index: the most selective filter given. */
static const char *list_key(struct cmd_ctx *ctx)
{
	const char *day = pd_arg_str(ctx->args, "day");
	struct pd_value *open = pd_map_get(ctx->args, "open");
	static const char *const by[] = { "waybill", "user", "depot", "kind" };
	for (size_t i = 0; i < sizeof(by) / sizeof(by[0]); i++)
		if (pd_arg_str(ctx->args, by[i]))
			return record_key(ctx, by[i], pd_arg_str(ctx->args, by[i]));
	int y, m, d;
	if (day && pd_date_parse(day, &y, &m, &d) == 0)
		return pd_sprintf(ctx->a, "day=%d", y * 10000 + m * 100 + d);
	return open && open->u.b ? "status=open" : NULL;
}

int cmd_query_list(struct cmd_ctx *ctx)
{
	int64_t limit, before;
	if (rec_list_args(ctx, &limit, &before))
		return PD_EREPLIED;
	struct pd_value *overdue = pd_map_get(ctx->args, "overdue");
	struct pd_value *list = pd_arr(ctx->a);
	size_t kept;
	int rc;
	if (overdue && overdue->u.b)
		/* the due index: the most overdue first, up to now */
		rc = rec_walk_due(ctx, ctx->st->queries, ctx->st->query_due, ctx->now, before, limit,
				  query_list_keep, list, &kept);
	else
		rc = rec_walk_newest(ctx, ctx->st->queries, ctx->st->query_index, list_key(ctx), before, limit,
				     query_list_keep, list, &kept);
	if (rc)
		return reply_store_error(ctx, rc);
	ctx->rep->data = list;
	reply_ok(ctx, 200, "%s", count_of(ctx, (int64_t)list->u.c.count, "query", "queries"));
	return 0;
}

/* ---- the search without a waybill number ---- */

int cmd_query_approve(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *for_user = pd_arg_str(ctx->args, "for_user");
	if (check_id_args(ctx))
		return PD_EREPLIED;
	int rc = user_load(ctx, for_user, NULL);
	if (rc)
		return PD_EREPLIED;
	uint64_t id;
	if ((rc = store_next_seq(ctx->txn, ctx->st, "approval", &id)))
		return reply_store_error(ctx, rc);
	struct pd_value *ap = pd_map(a);
	pd_map_set_int(a, ap, "id", (int64_t)id);
	static const char *const fields[] = { "phone", "name", "id_type", "id_last4", "for_user" };
	copy_args(ctx, ap, fields, 5);
	pd_map_set_str(a, ap, "approved_by", ctx->sess->user);
	pd_map_set_int(a, ap, "approved_at", ctx->now);
	pd_map_set_int(a, ap, "expires_at", ctx->now + ctx->cfg->find_approval_valid_secs);
	pd_map_set_bool(a, ap, "used", false);
	unsigned char key[8];
	be64_put(key, id);
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)id);
	if ((rc = store_put(ctx->txn, ctx->st->approvals, key, 8, ap, 0)) ||
	    (rc = store_audit(ctx->txn, ctx->st, "approval", idbuf, ctx->sess->user, ctx->now, "approve", NULL)))
		return reply_store_error(ctx, rc);
	ctx->rep->data = present(ctx, ap);
	reply_ok(ctx, 201, "approval %llu for %s", (unsigned long long)id, for_user);
	return 0;
}

/* An operator's search needs a supervisor's approval for exactly this
 * person and this user, unused and unexpired; it is then used up. A
 * supervisor's own request is its own approval. */
static int use_approval(struct cmd_ctx *ctx, int64_t *approval_id)
{
	*approval_id = 0;
	int64_t id;
	if (!pd_arg_int(ctx->args, "approval", &id)) {
		if (ctx->sess->role >= ROLE_SUPERVISOR)
			return 0;
		reply_error(ctx, 403, "a search without a waybill number needs a supervisor's approval "
				      "(QUERY APPROVE, then approval=ID)");
		return -1;
	}
	unsigned char key[8];
	be64_put(key, (uint64_t)id);
	struct pd_value *ap;
	int rc = store_get(ctx->txn, ctx->st->approvals, key, 8, ctx->a, &ap);
	if (rc == MDB_NOTFOUND) {
		reply_error(ctx, 404, "no approval %lld", (long long)id);
		return -1;
	}
	if (rc) {
		reply_store_error(ctx, rc);
		return -1;
	}
	int64_t expires = 0;
	pd_map_int(ap, "expires_at", &expires);
	static const char *const must_match[] = { "phone", "name", "id_type", "id_last4" };
	if (strcmp(pd_map_str(ap, "for_user"), ctx->sess->user) != 0) {
		reply_error(ctx, 403, "approval %lld was given to another user", (long long)id);
		return -1;
	}
	for (size_t i = 0; i < 4; i++)
		if (strcmp(pd_map_str(ap, must_match[i]), pd_arg_str(ctx->args, must_match[i])) != 0) {
			reply_error(ctx, 403, "approval %lld does not cover this %s", (long long)id, must_match[i]);
			return -1;
		}
	if (pd_map_bool(ap, "used")) {
		reply_error(ctx, 409, "approval %lld is already used", (long long)id);
		return -1;
	}
	if (ctx->now > expires) {
		reply_error(ctx, 409, "approval %lld has expired", (long long)id);
		return -1;
	}
	pd_map_set_bool(ctx->a, ap, "used", true);
	pd_map_set_int(ctx->a, ap, "used_at", ctx->now);
	if ((rc = store_put(ctx->txn, ctx->st->approvals, key, 8, ap, 0))) {
		reply_store_error(ctx, rc);
		return -1;
	}
	*approval_id = id;
	return 0;
}

struct found {
	const char *phone, *name;
	size_t matched;
	struct pd_value *list;
};

/* Only the party whose phone AND name match is answered. */
static void find_keep(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb, void *ud)
{
	struct pd_arena *a = ctx->a;
	struct found *f = ud;
	const char *party = NULL;
	if (!strcmp(pd_map_str(wb, "sender_phone"), f->phone) && !strcmp(pd_map_str(wb, "sender_name"), f->name))
		party = "sender";
	else if (!strcmp(pd_map_str(wb, "receiver_phone"), f->phone) && !strcmp(pd_map_str(wb, "receiver_name"), f->name))
		party = "receiver";
	if (!party || ++f->matched > FIND_MAX_RESULTS)
		return;
	struct pd_value *r = pd_map(a);
	pd_map_set_str(a, r, "number", number);
	pd_map_set_str(a, r, "party", party);
	pd_map_set_str(a, r, "status", pd_map_str(wb, "status"));
	pd_map_set_str(a, r, "receiver_city", pd_map_str(wb, "receiver_city"));
	pd_map_set_str(a, r, "goods", pd_map_str(wb, "goods"));
	int64_t created = 0;
	pd_map_int(wb, "created_at", &created);
	map_set_time(ctx, r, "created_at", created);
	pd_arr_push(a, f->list, r);
}

int cmd_waybill_find(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	struct found f = { pd_arg_str(ctx->args, "phone"), pd_arg_str(ctx->args, "name"), 0, pd_arr(a) };
	int64_t approval_id;
	if (check_id_args(ctx) || use_approval(ctx, &approval_id) < 0)
		return PD_EREPLIED;
	int rc = waybill_walk_phone(ctx, f.phone, find_keep, &f);
	if (rc)
		return reply_store_error(ctx, rc);
	struct pd_value *list = f.list;
	size_t matched = f.matched;

	/* always registered, with the ID's type and last 4 characters only */
	struct pd_value *q = pd_map(a);
	pd_map_set_str(a, q, "kind", "no_waybill");
	static const char *const fields[] = { "terminal", "id_type", "id_last4" };
	copy_args(ctx, q, fields, 3);
	pd_map_set_str(a, q, "asker", f.name);
	pd_map_set_str(a, q, "asker_phone", f.phone);
	pd_map_set_str(a, q, "channel", "counter");
	pd_map_set_str(a, q, "status", "answered");
	pd_map_set_str(a, q, "answer", pd_sprintf(a, "search by phone and name: %zu waybill(s)", matched));
	if (approval_id)
		pd_map_set_int(a, q, "approval", approval_id);
	else
		pd_map_set_str(a, q, "approved_by", ctx->sess->user);
	uint64_t qid;
	if ((rc = query_create(ctx, q, &qid)))
		return reply_store_error(ctx, rc);
	ctx->rep->data = list;
	reply_ok(ctx, 200, "%zu waybill(s) found%s; query %llu registered", matched,
		 matched > FIND_MAX_RESULTS ? " (first 100 shown)" : "", (unsigned long long)qid);
	return 0;
}
