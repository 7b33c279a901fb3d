/* contact.c — contacts with account customers (CONTACT ...) and the contact
 * plan by tier (docs/customers.md). The worked example of a declared record
 * kind (docs/records.md): one declaration, the handlers, and the rest is
 * record_save().
 *
 * A contact is planned (planned_at) and later done (done_at, summary), or
 * recorded done at once. Doing one plans the next: the one asked for
 * (next_at), or else the one the tier's plan calls for after a contact of
 * that kind. A planned contact not done is listed by its planned time in
 * `contact_due`; the one timer (kind "contact") marks it overdue the second
 * after. */
#include <stdlib.h>
#include <string.h>

#include "contact.h"
#include "contact_rules.h"
#include "customer.h"
#include "record.h"
#include "volume.h"

/* a contact may be recorded a little ahead of the daemon's clock */
#define CONTACT_FUTURE_SLACK_SECS 300
#define WEEK_SECS (7 * CONTACT_DAY_SECS)

static bool is_done(const struct pd_value *c)
{
	return strcmp(rec_str(c, "status"), "done") == 0;
}

static int64_t planned_of(const struct pd_value *c)
{
	return is_done(c) ? 0 : rec_int(c, "planned_at");
}

static int64_t timer_of(const struct pd_value *c)
{
	return rec_overdue_timer(c, planned_of(c));
}

static const struct record_kind CONTACT = {
	RECORD_KIND("contact", contacts, contact_index),
	/* source: a contact the rules raise is raised once */
	.fields = RECORD_FIELDS("customer", "owner", "depot", "status", "source"),
	.due_db = RECORD_DB(contact_due),
	.due = planned_of,
	/* an owner's agenda reads the owner's due contacts only */
	.due_by_db = RECORD_DB(contact_owner_due),
	.due_by = "owner",
	.timer = timer_of,
};

static const char *const KINDS[] = { "visit", "call", "letter", "meeting", "tour", "event" };
#define N_KINDS (sizeof(KINDS) / sizeof(KINDS[0]))

/* The monthly counters a contact moves (volume.h: its customer, its
 * depot, the network): contacts_planned.KIND in the month a contact is
 * planned for (moved with it; a contact recorded as made at once was not
 * planned), contacts_made.KIND in the month it was done, and
 * contacts_late.KIND when it was done after it was overdue. */
static int count_contact(struct cmd_ctx *ctx, const struct pd_value *before, const struct pd_value *after)
{
	const char *customer = rec_str(after, "customer"), *depot = rec_str(after, "depot");
	const char *kind = rec_str(after, "kind");
	int64_t was = before ? rec_int(before, "planned_at") : 0;
	int64_t is = before || !is_done(after) ? rec_int(after, "planned_at") : 0;
	const char *planned = pd_sprintf(ctx->a, "contacts_planned.%s", kind);
	int rc = 0;
	if (was != is && ((was && (rc = volume_count_month(ctx, customer, depot, volume_month(was), planned, -1))) ||
			  (is && (rc = volume_count_month(ctx, customer, depot, volume_month(is), planned, 1)))))
		return rc;
	if (!is_done(after) || (before && is_done(before)))
		return 0;
	int month = volume_month(rec_int(after, "done_at"));
	if ((rc = volume_count_month(ctx, customer, depot, month, pd_sprintf(ctx->a, "contacts_made.%s", kind), 1)))
		return rc;
	return pd_map_bool(after, "done_late")
		       ? volume_count_month(ctx, customer, depot, month, pd_sprintf(ctx->a, "contacts_late.%s", kind), 1)
		       : 0;
}

/* Every change of a contact is saved here: the record and its counters. */
static int contact_save(struct cmd_ctx *ctx, const struct pd_value *before, struct pd_value *after,
			const char *action, const char *text)
{
	int rc = count_contact(ctx, before, after);
	return rc ? rc : record_save(ctx, &CONTACT, before, after, action, text);
}

static void plan_from_config(const struct config *cfg, struct contact_plan *p)
{
	p->key_visit_days = cfg->contact_key_visit_days;
	p->key_meeting_days = cfg->contact_key_meeting_days;
	p->local_major_visit_days = cfg->contact_local_major_visit_days;
	p->local_major_call_days = cfg->contact_local_major_call_days;
	p->medium_call_days = cfg->contact_medium_call_days;
}

/* A new planned contact with customer c; the caller adds the rest. */
static int contact_new(struct cmd_ctx *ctx, const struct pd_value *c, const char *kind, const char *purpose,
		       const char *owner, int64_t planned_at, struct pd_value **out)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *k;
	int rc = customer_record_new(ctx, &CONTACT, c, &k);
	if (rc)
		return rc;
	pd_map_set_str(a, k, "kind", kind);
	pd_map_set_str(a, k, "purpose", purpose ? purpose : "");
	pd_map_set_str(a, k, "owner", owner);
	pd_map_set_str(a, k, "status", "planned");
	pd_map_set_int(a, k, "planned_at", planned_at);
	pd_map_set_bool(a, k, "overdue", false);
	pd_map_set_int(a, k, "created_at", ctx->now);
	pd_map_set_str(a, k, "created_by", ctx->sess->user);
	*out = k;
	return 0;
}

/* What a contact made needs, checked before anything is written. */
struct made {
	int64_t done_at, next_at;
	const char *next_owner, *next_kind;
};

static int made_args(struct cmd_ctx *ctx, int64_t earliest, struct made *m)
{
	m->done_at = ctx->now;
	m->next_at = 0;
	pd_arg_int(ctx->args, "done_at", &m->done_at);
	pd_arg_int(ctx->args, "next_at", &m->next_at);
	m->next_owner = pd_arg_str(ctx->args, "next_owner");
	m->next_kind = pd_arg_str(ctx->args, "next_kind");
	if (m->done_at > ctx->now + CONTACT_FUTURE_SLACK_SECS)
		return reply_error(ctx, 422, "a contact is recorded done after it happened: 'done_at' is in the future");
	if (m->done_at < earliest)
		return reply_error(ctx, 422, "'done_at' is before the contact was entered");
	if (m->next_at && m->next_at <= m->done_at)
		return reply_error(ctx, 422, "'next_at' must be after the contact");
	if ((m->next_owner || m->next_kind) && !m->next_at)
		return reply_error(ctx, 400, "next_owner and next_kind go with next_at");
	if (m->next_owner && user_load(ctx, m->next_owner, NULL))
		return PD_EREPLIED;
	return 0;
}

struct open_of_kind {
	const char *kind;
	int64_t not_id; /* the contact being done */
	struct pd_value *found;
};

static bool find_planned(struct cmd_ctx *ctx, const struct pd_value *k, void *ud)
{
	(void)ctx;
	struct open_of_kind *o = ud;
	if (!o->found && !is_done(k) && rec_int(k, "id") != o->not_id && pd_map_bool(k, "by_plan") && strcmp(rec_str(k, "kind"), o->kind) == 0)
		o->found = (struct pd_value *)k;
	return false;
}

/* Marks contact `done` (saved by the caller) done as m says, and plans the
 * next one: the one asked for, or the tier's plan's (which moves the
 * account's planned contact of that kind rather than adding another). */
static int plan_next(struct cmd_ctx *ctx, const struct pd_value *customer, struct pd_value *done,
		     const struct made *m)
{
	struct pd_arena *a = ctx->a;
	const char *kind = m->next_kind ? m->next_kind : rec_str(done, "kind");
	int64_t at = m->next_at;
	bool by_plan = false;
	if (!at) {
		struct contact_plan plan;
		plan_from_config(ctx->cfg, &plan);
		at = contact_next_due(&plan, rec_str(customer, "tier"), kind, m->done_at);
		by_plan = true;
	}
	if (!at)
		return 0;
	int rc;
	if (by_plan) {
		struct open_of_kind o = { kind, rec_int(done, "id"), NULL };
		size_t kept;
		if ((rc = rec_walk_newest(ctx, ctx->st->contacts, ctx->st->contact_index,
					  record_key(ctx, "customer", rec_str(done, "customer")), 0, INT64_MAX,
					  find_planned, &o, &kept)))
			return rc;
		if (o.found) {
			struct pd_value *after = pd_value_copy(a, o.found);
			pd_map_set_int(a, after, "planned_at", at);
			pd_map_set_bool(a, after, "overdue", false);
			pd_map_set_int(a, done, "next_contact", rec_int(after, "id"));
			return contact_save(ctx, o.found, after, "plan",
					   pd_sprintf(a, "moved by contact %lld", (long long)rec_int(done, "id")));
		}
	}
	const char *owner = m->next_owner ? m->next_owner : rec_str(done, "owner");
	struct pd_value *next;
	if ((rc = contact_new(ctx, customer, kind, by_plan ? "plan" : "follow_up", owner, at, &next)))
		return rc;
	pd_map_set_int(a, next, "follows", rec_int(done, "id"));
	pd_map_set_bool(a, next, "by_plan", by_plan);
	pd_map_set_int(a, done, "next_contact", rec_int(next, "id"));
	return contact_save(ctx, NULL, next, "plan",
			   pd_sprintf(a, "after contact %lld", (long long)rec_int(done, "id")));
}

static void set_done(struct cmd_ctx *ctx, struct pd_value *k, const struct made *m)
{
	struct pd_arena *a = ctx->a;
	pd_map_set_str(a, k, "status", "done");
	pd_map_set_int(a, k, "done_at", m->done_at);
	pd_map_set_str(a, k, "done_by", ctx->sess->user);
	pd_map_set_str(a, k, "summary", pd_arg_str(ctx->args, "summary"));
	if (pd_arg_str(ctx->args, "with_whom"))
		pd_map_set_str(a, k, "with_whom", pd_arg_str(ctx->args, "with_whom"));
	/* overdue is a state of a planned contact; one done late says so */
	if (pd_map_bool(k, "overdue"))
		pd_map_set_bool(a, k, "done_late", true);
	pd_map_set_bool(a, k, "overdue", false);
}

/* The list says overdue as of now, even before the sweep marked it. */
static void row_overdue(struct cmd_ctx *ctx, const struct pd_value *k, struct pd_value *row, void *ud)
{
	(void)ud;
	pd_map_set_bool(ctx->a, row, "overdue", contact_overdue(rec_int(k, "planned_at"), rec_int(k, "done_at"), ctx->now));
}

#define CONTACT_COLS RECORD_COLS("id", "customer", "customer_name", "depot", "kind", "purpose", "owner", "status", \
				 "planned_at", "done_at")

/* A contact as the lists show it. */
static struct pd_value *contact_row(struct cmd_ctx *ctx, const struct pd_value *k)
{
	const struct record_rows row = { CONTACT_COLS, .more = row_overdue };
	return record_row(ctx, &row, k);
}

/* ---- contacts the rules raise (contact.h) ---- */

static int contact_raise(struct cmd_ctx *ctx, const char *account, const char *kind, const char *purpose,
			 const char *role, int64_t at, const char *source, const char *text)
{
	struct pd_value *c, *k;
	if (!account || !*account || !at)
		return 0;
	int rc = customer_find(ctx, account, &c, NULL);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	const char *key = record_key(ctx, "source", source);
	MDB_val mk = { strlen(key), (void *)key }, v;
	if ((rc = mdb_get(ctx->txn, ctx->st->contact_index, &mk, &v)) != MDB_NOTFOUND)
		return rc; /* raised already (0), or a store error */
	/* nobody in the team or the manager's seat: whoever caused it, or
	 * whoever registered the account when the daemon's timer did */
	const char *owner = customer_member(c, role);
	if (!*owner)
		owner = ctx->sess == &record_daemon ? rec_str(c, "created_by") : ctx->sess->user;
	if ((rc = contact_new(ctx, c, kind, purpose, owner, at, &k)))
		return rc;
	pd_map_set_str(ctx->a, k, "source", source);
	pd_map_set_str(ctx->a, k, "reason", text);
	return contact_save(ctx, NULL, k, "raise", text);
}

int contact_after_close(struct cmd_ctx *ctx, const char *account, const char *source)
{
	int64_t at = contact_callback_due(ctx->cfg->contact_callback, ctx->cfg->contact_callback_days, ctx->now);
	return contact_raise(ctx, account, "call", "call_back", "maintenance_specialist", at, source,
			     pd_sprintf(ctx->a, "call back after %s closed", source));
}

int contact_first_visit(struct cmd_ctx *ctx, const char *account, const char *sales, int64_t at, int64_t survey)
{
	return contact_raise(ctx, account, "visit", "first_visit", "maintenance_specialist", at,
			     pd_sprintf(ctx->a, "handover:%s", account),
			     survey ? pd_sprintf(ctx->a, "first visit with sales (%s); take the first satisfaction reading "
						     "(survey %lld)", sales, (long long)survey)
				    : pd_sprintf(ctx->a, "first visit with sales (%s)", sales));
}

int contact_trial_flag(struct cmd_ctx *ctx, const char *account, const char *number, const char *what)
{
	struct pd_value *c;
	int rc = account && *account ? customer_find(ctx, account, &c, NULL) : MDB_NOTFOUND;
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (!customer_in_trial(c))
		return 0;
	return contact_raise(ctx, account, "call", "trial_follow_up", "maintenance_specialist", ctx->now,
			     pd_sprintf(ctx->a, "trial:%s:%s", number, what),
			     pd_sprintf(ctx->a, "waybill %s of the trial period: %s", number, what));
}

int contact_apology(struct cmd_ctx *ctx, const char *account, const char *source)
{
	struct pd_value *c;
	int rc = account && *account ? customer_find(ctx, account, &c, NULL) : MDB_NOTFOUND;
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (strcmp(rec_str(c, "tier"), "key") != 0)
		return 0;
	return contact_raise(ctx, account, "visit", "apology", "senior_leader",
			     ctx->now + ctx->cfg->contact_apology_days * CONTACT_DAY_SECS, pd_sprintf(ctx->a, "%s:apology", source),
			     pd_sprintf(ctx->a, "apology visit: %s reached the media", source));
}

/* The birthday call is planned on the day, at this local hour. */
#define BIRTHDAY_CALL_HOUR 10

int customer_care_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	struct pd_value *before, *after, *birthdays = pd_arr(ctx->a);
	/* what the timer does is the daemon's, whoever called SWEEP */
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	int rc = customer_care_take(ctx, (int64_t)id, &before, &after, birthdays);
	if (rc) {
		ctx->sess = saved;
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	const char *account = rec_str(after, "account");
	for (const struct pd_entry *e = birthdays->u.c.head; e && !rc; e = e->next) {
		const char *name = rec_str(e->val, "name");
		int day = (int)rec_int(e->val, "day");
		rc = contact_raise(ctx, account, "call", "birthday", "maintenance_specialist",
				   customer_day_start(day) + BIRTHDAY_CALL_HOUR * 3600,
				   pd_sprintf(ctx->a, "birthday:%s:%s:%d", account, name, day),
				   pd_sprintf(ctx->a, "%s's birthday on %04d-%02d-%02d", name, day / 10000, day / 100 % 100, day % 100));
	}
	bool matured = customer_in_trial(before) && !customer_in_trial(after);
	if (!rc)
		rc = customer_save(ctx, before, after, matured ? "mature" : birthdays->u.c.count ? "birthday" : NULL,
				   matured ? "the trial period ended" : NULL);
	ctx->sess = saved;
	return rc;
}

/* ---- what the customer page and the monthly report show (contact.h) ---- */

struct pd_value *contact_month_report(struct cmd_ctx *ctx, const char *scope, const char *id, int month,
				      const char *tier)
{
	struct pd_arena *a = ctx->a;
	struct contact_plan plan;
	plan_from_config(ctx->cfg, &plan);
	struct pd_value *out = pd_map(a), *rows = pd_arr(a);
	int64_t sums[3] = { 0 };
	static const char *const METRICS[] = { "planned", "made", "late" };
	for (size_t k = 0; k < N_KINDS; k++) {
		struct pd_value *r = pd_map(a);
		pd_map_set_str(a, r, "kind", KINDS[k]);
		for (size_t i = 0; i < 3; i++) {
			int64_t n = volume_get(ctx->txn, ctx->st, scope, id, month,
					       pd_sprintf(a, "contacts_%s.%s", METRICS[i], KINDS[k]));
			pd_map_set_int(a, r, METRICS[i], n);
			sums[i] += n;
		}
		if (tier)
			pd_map_set_int(a, r, "plan_days", contact_plan_days(&plan, tier, KINDS[k]));
		pd_arr_push(a, rows, r);
	}
	for (size_t i = 0; i < 3; i++)
		pd_map_set_int(a, out, METRICS[i], sums[i]);
	pd_map_set(a, out, "by_kind", rows);
	return out;
}

#define CUSTOMER_PAGE_LAST 5

struct page {
	struct pd_value *last;
	const struct pd_value **planned;
	size_t n_planned, cap;
};

static bool page_keep(struct cmd_ctx *ctx, const struct pd_value *k, void *ud)
{
	struct page *p = ud;
	if (is_done(k)) {
		if (p->last->u.c.count < CUSTOMER_PAGE_LAST)
			pd_arr_push(ctx->a, p->last, contact_row(ctx, k));
		return false;
	}
	if (p->n_planned == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		const struct pd_value **grown = pd_alloc(ctx->a, cap * sizeof(*grown));
		if (p->n_planned)
			memcpy(grown, p->planned, p->n_planned * sizeof(*grown));
		p->planned = grown;
		p->cap = cap;
	}
	p->planned[p->n_planned++] = k;
	return false;
}

static int by_planned_at(const void *x, const void *y)
{
	int64_t a = rec_int(*(const struct pd_value *const *)x, "planned_at");
	int64_t b = rec_int(*(const struct pd_value *const *)y, "planned_at");
	return (a > b) - (a < b);
}

int contact_customer_page(struct cmd_ctx *ctx, const char *account, struct pd_value *out)
{
	struct page p = { .last = pd_arr(ctx->a) };
	size_t kept;
	int rc = rec_walk_newest(ctx, ctx->st->contacts, ctx->st->contact_index, record_key(ctx, "customer", account),
				 0, INT64_MAX, page_keep, &p, &kept);
	if (rc)
		return rc;
	if (p.n_planned)
		qsort(p.planned, p.n_planned, sizeof(*p.planned), by_planned_at);
	struct pd_value *planned = pd_arr(ctx->a);
	int64_t overdue = 0;
	for (size_t i = 0; i < p.n_planned; i++) {
		pd_arr_push(ctx->a, planned, contact_row(ctx, p.planned[i]));
		overdue += contact_overdue(rec_int(p.planned[i], "planned_at"), 0, ctx->now);
	}
	pd_map_set(ctx->a, out, "contacts_last", p.last);
	pd_map_set(ctx->a, out, "contacts_planned", planned);
	pd_map_set_int(ctx->a, out, "contacts_overdue", overdue);
	return 0;
}

/* ---- commands ---- */

int cmd_contact_add(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	int64_t planned_at = 0;
	pd_arg_int(ctx->args, "planned_at", &planned_at);
	bool made = pd_map_get(ctx->args, "done_at") != NULL;
	if (!planned_at && !made)
		return reply_error(ctx, 400, "give planned_at (a contact to make) or done_at (a contact made)");
	if (made && !pd_arg_str(ctx->args, "summary"))
		return reply_error(ctx, 400, "a contact made needs its summary");
	if (!made && pd_map_get(ctx->args, "next_at"))
		return reply_error(ctx, 400, "next_at goes with a contact made (done_at)");
	const char *owner = pd_arg_str(ctx->args, "owner");
	struct pd_value *c, *k;
	if (customer_load(ctx, pd_arg_str(ctx->args, "customer"), &c))
		return PD_EREPLIED;
	if (owner && user_load(ctx, owner, NULL))
		return PD_EREPLIED;
	struct made m = { 0 };
	if (made && made_args(ctx, 0, &m))
		return PD_EREPLIED;
	int rc;
	if ((rc = contact_new(ctx, c, pd_arg_str(ctx->args, "kind"), pd_arg_str(ctx->args, "purpose"),
			      owner ? owner : ctx->sess->user, planned_at ? planned_at : m.done_at, &k)))
		return reply_store_error(ctx, rc);
	if (pd_arg_str(ctx->args, "with_whom"))
		pd_map_set_str(a, k, "with_whom", pd_arg_str(ctx->args, "with_whom"));
	if (made) {
		set_done(ctx, k, &m);
		if ((rc = plan_next(ctx, c, k, &m)))
			return reply_store_error(ctx, rc);
	}
	return record_reply(ctx, &CONTACT, contact_save(ctx, NULL, k, made ? "record" : "plan", NULL),
			    NULL, k, 201, pd_sprintf(a, "contact %lld %s", (long long)rec_int(k, "id"),
						     made ? "recorded" : "planned"));
}

int cmd_contact_done(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after, *c;
	if (record_load_arg(ctx, &CONTACT, &before, &after))
		return PD_EREPLIED;
	if (is_done(before))
		return reply_error(ctx, 409, "contact %lld is done already", (long long)rec_int(before, "id"));
	struct made m;
	if (made_args(ctx, rec_int(before, "created_at"), &m))
		return PD_EREPLIED;
	if (customer_load(ctx, rec_str(before, "customer"), &c))
		return PD_EREPLIED;
	set_done(ctx, after, &m);
	int rc = plan_next(ctx, c, after, &m);
	if (rc)
		return reply_store_error(ctx, rc);
	return record_reply(ctx, &CONTACT, contact_save(ctx, before, after, "done",
						       pd_arg_str(ctx->args, "summary")),
			    before, after, 200, pd_sprintf(ctx->a, "contact %lld done", (long long)rec_int(after, "id")));
}

int cmd_contact_get(struct cmd_ctx *ctx)
{
	return record_get_reply(ctx, &CONTACT, NULL, NULL);
}

/* due=: planned before now + horizon (ud), not done */
static bool due_keep(struct cmd_ctx *ctx, const struct pd_value *k, void *ud)
{
	return contact_due_within(rec_int(k, "planned_at"), rec_int(k, "done_at"), ctx->now, *(int64_t *)ud);
}

int cmd_contact_list(struct cmd_ctx *ctx)
{
	const char *due = pd_arg_str(ctx->args, "due");
	int64_t horizon = due && strcmp(due, "week") == 0 ? WEEK_SECS : 0;
	struct record_filter by[] = { { .name = "customer" }, { .name = "owner" }, { .name = "depot" } };
	struct record_rows list = {
		.by = by, .n = record_filter_args(ctx, by, 3), CONTACT_COLS, .keep = due ? due_keep : NULL,
		.more = row_overdue, .ud = &horizon, .rows = pd_arr(ctx->a),
	};
	/* due=: the planned-time index, the most overdue first, up to the horizon */
	return record_list_reply(ctx, &CONTACT, due ? ctx->now + horizon : 0, &list, "contacts");
}

static bool entered_since(struct cmd_ctx *ctx, const struct pd_value *k, void *ud)
{
	(void)ctx;
	return rec_int(k, "created_at") >= *(int64_t *)ud;
}

int contact_rows_since(struct cmd_ctx *ctx, const char *account, int64_t since, const char *const *cols,
		       size_t n_cols, int64_t limit, struct pd_value *rows)
{
	const struct record_filter by[] = { { "customer", account, NULL } };
	struct record_rows list = {
		RECORD_BY(by), .cols = cols, .n_cols = n_cols, .keep = entered_since, .ud = &since, .rows = rows,
	};
	size_t kept;
	return record_list(ctx, &CONTACT, 0, &list, 0, limit, &kept);
}

int contact_load_customer(struct cmd_ctx *ctx, int64_t id, const char **account)
{
	struct pd_value *k;
	int rc = record_load(ctx, &CONTACT, id, &k);
	if (!rc)
		*account = rec_str(k, "customer");
	return rc;
}

int contact_open(struct cmd_ctx *ctx, bool *more)
{
	*more = false; /* one step: the due contacts are walked once */
	return record_due_by_fill(ctx, &CONTACT);
}

int contact_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	struct pd_value *before, *after;
	int rc = record_get_copy(ctx, &CONTACT, (int64_t)id, &before, &after);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (!is_done(after) && contact_overdue(rec_int(after, "planned_at"), 0, ctx->now))
		pd_map_set_bool(ctx->a, after, "overdue", true);
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	rc = contact_save(ctx, before, after, pd_map_bool(after, "overdue") ? "overdue" : NULL, NULL);
	ctx->sess = saved;
	return rc;
}
