/* warning.c — warning customers (WARNING ...): the customers we may lose.
 *
 * A warning is one record in `warnings` (be64 id -> map) listed in
 * `idx_warn` under customer=, type=, subtype=, owner=, depot=, status= and,
 * when something raised it, source= ("complaint:12", "claim:7",
 * "revenue_drop:C000101:202601"): the source key makes raising idempotent.
 * Types and sub-types are those of docs/customers.md (the company's own):
 *   service_incident      ordinary | media_exposure
 *   competitor            competitor | tender
 *   performance_decline   revenue_drop | other
 * ("other" fits every type). Statuses: open -> following (after the first
 * follow-up) -> closed, with an outcome kept / recovered / lost.
 *
 * "Speed first": a warning raised since round 18 has first_action_by,
 * raised + warning_first_action_hours, met by its first follow-up
 * (first_action_at, the follow-up's own time). Until then it sits in
 * `warning_due`; the one timer (kind "warning") marks it
 * first_action_breached the second after. Warnings stored before have no
 * due time and read as they were. */
#include <stdio.h>
#include <string.h>

#include "care.h"
#include "customer.h"
#include "record.h"
#include "volume.h"

/* a follow-up may be entered a little ahead of the daemon's clock */
#define FOLLOWUP_FUTURE_SLACK_SECS 300

static const struct {
	const char *type, *subtypes[3];
} WARNING_KINDS[] = {
	{ "service_incident", { "ordinary", "media_exposure", "other" } },
	{ "competitor", { "competitor", "tender", "other" } },
	{ "performance_decline", { "revenue_drop", "other", NULL } },
};

static bool subtype_fits(const char *type, const char *subtype)
{
	for (size_t i = 0; i < sizeof(WARNING_KINDS) / sizeof(WARNING_KINDS[0]); i++) {
		if (strcmp(WARNING_KINDS[i].type, type) != 0)
			continue;
		for (size_t j = 0; j < 3; j++)
			if (WARNING_KINDS[i].subtypes[j] && strcmp(WARNING_KINDS[i].subtypes[j], subtype) == 0)
				return true;
	}
	return false;
}

static bool is_closed(const struct pd_value *w)
{
	return strcmp(rec_str(w, "status"), "closed") == 0;
}

/* ---- the first action's due time ---- */

/* When the first action is due, while it is awaited (0: met, closed, or a
 * warning stored without a due time). */
static int64_t first_action_due(const struct pd_value *w)
{
	if (is_closed(w) || rec_int(w, "first_action_at"))
		return 0;
	return rec_int(w, "first_action_by");
}

/* On time AT the due time, overdue from the second after (as complaints). */
static bool first_action_overdue(const struct pd_value *w, int64_t now)
{
	int64_t due = first_action_due(w);
	return due && now > due;
}

static int64_t timer_of(const struct pd_value *w)
{
	int64_t due = first_action_due(w);
	return due && !pd_map_bool(w, "first_action_breached") ? due + 1 : 0;
}

/* ---- saving ---- */

static const struct record_kind WARNING = {
	RECORD_KIND("warning", warnings, idx_warn),
	.fields = RECORD_FIELDS("customer", "type", "subtype", "owner", "depot", "status", "source"),
	.due_db = RECORD_DB(warning_due),
	.due = first_action_due,
	.timer = timer_of,
};

int warning_get(struct cmd_ctx *ctx, int64_t id, struct pd_value **out)
{
	return record_get(ctx, &WARNING, id, out);
}

/* A new warning for customer c; the caller sets what the kind needs. */
static int warning_new(struct cmd_ctx *ctx, const struct pd_value *c, const char *type, const char *subtype,
		       const char *owner, const char *text, struct pd_value **out)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *w;
	int rc = customer_record_new(ctx, &WARNING, c, &w);
	if (rc)
		return rc;
	pd_map_set_str(a, w, "type", type);
	pd_map_set_str(a, w, "subtype", subtype);
	pd_map_set_str(a, w, "status", "open");
	/* a warning nobody owns is lost: the team's customer-service manager
	 * (else the account manager) owns what the daemon raises */
	pd_map_set_str(a, w, "owner", owner ? owner : customer_member(c, "cs_manager"));
	pd_map_set_str(a, w, "text", text ? text : "");
	pd_map_set_str(a, w, "action_plan", "");
	pd_map_set_int(a, w, "raised_at", ctx->now);
	pd_map_set_str(a, w, "raised_by", ctx->sess->user);
	pd_map_set_int(a, w, "first_action_by", ctx->now + ctx->cfg->warning_first_action_hours * 3600);
	pd_map_set(a, w, "followups", pd_arr(a));
	pd_map_set_int(a, w, "followup_count", 0);
	pd_map_set_int(a, w, "last_followup_at", 0);
	pd_map_set_int(a, w, "next_followup_at", 0);
	*out = w;
	return 0;
}

/* Notes on the customer's timeline that a warning was raised. */
static int note_on_customer(struct cmd_ctx *ctx, const struct pd_value *c, const struct pd_value *w)
{
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_int(ctx->a, d, "warning", rec_int(w, "id"));
	pd_map_set_str(ctx->a, d, "type", rec_str(w, "type"));
	pd_map_set_str(ctx->a, d, "subtype", rec_str(w, "subtype"));
	if (*rec_str(w, "source"))
		pd_map_set_str(ctx->a, d, "source", rec_str(w, "source"));
	return store_audit(ctx->txn, ctx->st, "customer", pd_sprintf(ctx->a, "%lld", (long long)rec_int(c, "id")),
			   ctx->sess->user, ctx->now, "warning", d);
}

static int source_seen(struct cmd_ctx *ctx, const char *source)
{
	const char *key = pd_sprintf(ctx->a, "source=%s", source);
	MDB_val k = { strlen(key), (void *)key }, v;
	return mdb_get(ctx->txn, ctx->st->idx_warn, &k, &v);
}

int warning_raise(struct cmd_ctx *ctx, const char *account, const char *type,
		  const char *subtype, const char *source, const char *text)
{
	if (!account || !*account)
		return 0;
	struct pd_value *c, *w;
	int rc = customer_find(ctx, account, &c, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	rc = source_seen(ctx, source);
	if (rc != MDB_NOTFOUND)
		return rc; /* 0: raised before */
	if ((rc = warning_new(ctx, c, type, subtype, NULL, text, &w)))
		return rc;
	pd_map_set_str(ctx->a, w, "source", source);
	if ((rc = record_save(ctx, &WARNING, NULL, w, "raise", text)))
		return rc;
	return note_on_customer(ctx, c, w);
}

/* ---- the month-end's revenue-drop warning ---- */

struct open_drop {
	struct pd_value *found;
};

static bool find_open_drop(struct cmd_ctx *ctx, const struct pd_value *w, void *ud)
{
	(void)ctx;
	struct open_drop *o = ud;
	if (!o->found && !is_closed(w) && strcmp(rec_str(w, "subtype"), "revenue_drop") == 0)
		o->found = (struct pd_value *)w;
	return false;
}

int warning_revenue_drop(struct cmd_ctx *ctx, const struct pd_value *customer, int month, bool *raised)
{
	struct pd_arena *a = ctx->a;
	*raised = false;
	const char *account = rec_str(customer, "account");
	const struct customer_rules_config *rules = customer_rules();
	int64_t revenue = volume_get(ctx->txn, ctx->st, "C", account, month, "revenue_fen");
	int64_t last_year = volume_get(ctx->txn, ctx->st, "C", account, month_add(month, -12), "revenue_fen");
	bool explained;
	int rc = customer_month_explained(ctx, account, month, &explained);
	if (rc)
		return rc;
	struct revenue_drop drop;
	customer_revenue_drop(rules, cooperation_months(customer_start_day(customer), month), revenue, last_year,
			      explained, &drop);
	if (!drop.raise)
		return 0;
	const char *source = pd_sprintf(a, "revenue_drop:%s:%06d", account, month);
	rc = source_seen(ctx, source);
	if (rc != MDB_NOTFOUND)
		return rc;
	char pct[32];
	bp_format(drop.drop_bp, pct, sizeof(pct));
	const char *text = pd_sprintf(a, "revenue of %s down %s%% against %s: %lld fen against %lld fen",
				      month_text(ctx, month), pct, month_text(ctx, month_add(month, -12)),
				      (long long)revenue, (long long)last_year);
	struct pd_value *figures = pd_map(a);
	pd_map_set_str(a, figures, "month", month_text(ctx, month));
	pd_map_set_int(a, figures, "revenue_fen", revenue);
	pd_map_set_int(a, figures, "last_year_fen", last_year);
	pd_map_set_str(a, figures, "drop_pct", pct);

	/* a customer still declining keeps one open warning: a later month
	 * adds its figures to it instead of opening another */
	struct open_drop open = { NULL };
	size_t kept;
	if ((rc = rec_walk_newest(ctx, ctx->st->warnings, ctx->st->idx_warn, pd_sprintf(a, "customer=%s", account),
				  0, INT64_MAX, find_open_drop, &open, &kept)))
		return rc;
	if (open.found) {
		struct pd_value *before = open.found, *after = pd_value_copy(a, before);
		struct pd_value *months = pd_map_get(after, "months");
		if (!months || months->type != PD_ARR) {
			months = pd_arr(a);
			pd_map_set(a, after, "months", months);
		}
		pd_arr_push(a, months, figures);
		if ((rc = record_save(ctx, &WARNING, before, after, "revenue_drop", text)) ||
		    (rc = rec_index_move(ctx, ctx->st->idx_warn, NULL, pd_sprintf(a, "source=%s", source),
					 rec_int(after, "id"))))
			return rc;
		*raised = true;
		return 0;
	}
	struct pd_value *w;
	if ((rc = warning_new(ctx, customer, "performance_decline", "revenue_drop", NULL, text, &w)))
		return rc;
	pd_map_set_str(a, w, "source", source);
	pd_map_set_str(a, w, "month", month_text(ctx, month));
	struct pd_value *months = pd_arr(a);
	pd_arr_push(a, months, figures);
	pd_map_set(a, w, "months", months);
	if ((rc = record_save(ctx, &WARNING, NULL, w, "raise", text)) || (rc = note_on_customer(ctx, customer, w)))
		return rc;
	*raised = true;
	return 0;
}

/* ---- commands ---- */


static int finish(struct cmd_ctx *ctx, const struct pd_value *before, struct pd_value *after,
		   const char *action, const char *text, int code, const char *msg)
{
	int rc = record_save(ctx, &WARNING, before, after, action, text);
	if (rc)
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_int(ctx->a, d, "id", rec_int(after, "id"));
	pd_map_set_str(ctx->a, d, "customer", rec_str(after, "customer"));
	pd_map_set_str(ctx->a, d, "status", rec_str(after, "status"));
	pd_map_set_str(ctx->a, d, "owner", rec_str(after, "owner"));
	if (rec_int(after, "next_followup_at"))
		map_set_time(ctx, d, "next_followup_at", rec_int(after, "next_followup_at"));
	ctx->rep->data = d;
	reply_ok(ctx, code, "%s", msg);
	return 0;
}

int cmd_warning_add(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *type = pd_arg_str(ctx->args, "type"), *subtype = pd_arg_str(ctx->args, "subtype");
	const char *owner = pd_arg_str(ctx->args, "owner"), *cause = pd_arg_str(ctx->args, "cause");
	if (!subtype_fits(type, subtype))
		return reply_error(ctx, 400, "subtype %s is not a kind of %s warning", subtype, type);
	if (cause && strcmp(type, "service_incident") != 0)
		return reply_error(ctx, 400, "a cause goes with a service_incident warning only");
	struct pd_value *c, *w;
	if (customer_load(ctx, pd_arg_str(ctx->args, "customer"), &c))
		return PD_EREPLIED;
	if (owner && user_load(ctx, owner, NULL))
		return PD_EREPLIED;
	if (!owner && !*customer_member(c, "cs_manager"))
		owner = ctx->sess->user; /* nobody else to own it: whoever enters it */
	int rc;
	if ((rc = warning_new(ctx, c, type, subtype, owner, pd_arg_str(ctx->args, "text"), &w)))
		return reply_store_error(ctx, rc);
	if (pd_arg_str(ctx->args, "action_plan"))
		pd_map_set_str(a, w, "action_plan", pd_arg_str(ctx->args, "action_plan"));
	if (cause)
		pd_map_set_str(a, w, "cause", cause);
	if (pd_arg_str(ctx->args, "competitor"))
		pd_map_set_str(a, w, "competitor", pd_arg_str(ctx->args, "competitor"));
	if ((rc = note_on_customer(ctx, c, w)))
		return reply_store_error(ctx, rc);
	return finish(ctx, NULL, w, "add", NULL, 201, pd_sprintf(a, "warning %lld added", (long long)rec_int(w, "id")));
}

int cmd_warning_followup(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &WARNING, &before, &after))
		return PD_EREPLIED;
	if (is_closed(before))
		return reply_error(ctx, 409, "warning %lld is closed", (long long)rec_int(before, "id"));
	int64_t at = ctx->now, next_at = 0;
	pd_arg_int(ctx->args, "at", &at);
	pd_arg_int(ctx->args, "next_at", &next_at);
	if (at > ctx->now + FOLLOWUP_FUTURE_SLACK_SECS)
		return reply_error(ctx, 422, "a follow-up is recorded after it happened: 'at' is in the future");
	if (at < rec_int(before, "raised_at"))
		return reply_error(ctx, 422, "'at' is before the warning was raised");
	if (next_at && next_at <= at)
		return reply_error(ctx, 422, "'next_at' must be after the follow-up");
	const char *owner = pd_arg_str(ctx->args, "owner");
	if (owner && user_load(ctx, owner, NULL))
		return PD_EREPLIED;
	struct pd_value *f = pd_map(a);
	pd_map_set_int(a, f, "at", at);
	pd_map_set_str(a, f, "by", ctx->sess->user);
	pd_map_set_str(a, f, "text", pd_arg_str(ctx->args, "text"));
	if (next_at)
		pd_map_set_int(a, f, "next_at", next_at);
	struct pd_value *list = pd_map_get(after, "followups");
	if (!list || list->type != PD_ARR) {
		list = pd_arr(a);
		pd_map_set(a, after, "followups", list);
	}
	pd_arr_push(a, list, f);
	pd_map_set_int(a, after, "followup_count", rec_int(after, "followup_count") + 1);
	/* the first follow-up is the owner's first action, when it happened */
	if (rec_int(after, "first_action_by") && !rec_int(after, "first_action_at"))
		pd_map_set_int(a, after, "first_action_at", at);
	if (at > rec_int(after, "last_followup_at"))
		pd_map_set_int(a, after, "last_followup_at", at);
	pd_map_set_int(a, after, "next_followup_at", next_at);
	pd_map_set_str(a, after, "status", "following");
	if (owner)
		pd_map_set_str(a, after, "owner", owner);
	if (pd_arg_str(ctx->args, "action_plan"))
		pd_map_set_str(a, after, "action_plan", pd_arg_str(ctx->args, "action_plan"));
	return finish(ctx, before, after, "followup", pd_arg_str(ctx->args, "text"), 200,
	       pd_sprintf(a, "follow-up %lld recorded", (long long)rec_int(after, "followup_count")));
}

int cmd_warning_close(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &WARNING, &before, &after))
		return PD_EREPLIED;
	if (is_closed(before))
		return reply_error(ctx, 409, "warning %lld is closed", (long long)rec_int(before, "id"));
	const char *outcome = pd_arg_str(ctx->args, "outcome");
	pd_map_set_str(ctx->a, after, "status", "closed");
	pd_map_set_str(ctx->a, after, "outcome", outcome);
	pd_map_set_int(ctx->a, after, "closed_at", ctx->now);
	pd_map_set_str(ctx->a, after, "closed_by", ctx->sess->user);
	pd_map_set_int(ctx->a, after, "next_followup_at", 0);
	int rc = strcmp(outcome, "lost") == 0 ? winback_after_lost_warning(ctx, after) : 0;
	if (rc)
		return reply_store_error(ctx, rc);
	return finish(ctx, before, after, "close", pd_arg_str(ctx->args, "text"), 200,
	       pd_sprintf(ctx->a, "closed: %s", outcome));
}

/* What GET shows before the timeline: the principles of handling a
 * warning, and the customer's tier and service level. */
static int warning_shown(struct cmd_ctx *ctx, const struct pd_value *w, struct pd_value *out)
{
	struct pd_value *principles = pd_arr(ctx->a);
	for (size_t i = 0; i < sizeof(WARNING_PRINCIPLES) / sizeof(WARNING_PRINCIPLES[0]); i++)
		pd_arr_push(ctx->a, principles, pd_str(ctx->a, WARNING_PRINCIPLES[i]));
	pd_map_set(ctx->a, out, "principles", principles);
	if (rec_int(w, "first_action_by"))
		pd_map_set_bool(ctx->a, out, "overdue", first_action_overdue(w, ctx->now));
	struct pd_value *c;
	if (customer_find(ctx, rec_str(w, "customer"), &c, NULL) == 0) {
		pd_map_set_str(ctx->a, out, "customer_tier", rec_str(c, "tier"));
		pd_map_set_str(ctx->a, out, "customer_service_level", rec_str(c, "service_level"));
	}
	return 0;
}

int cmd_warning_get(struct cmd_ctx *ctx)
{
	return record_get_reply(ctx, &WARNING, warning_shown, NULL);
}

/* overdue= (ud: the argument): the first action awaited past its due time */
static bool overdue_keep(struct cmd_ctx *ctx, const struct pd_value *w, void *ud)
{
	const struct pd_value *overdue = ud;
	return !overdue || first_action_overdue(w, ctx->now) == overdue->u.b;
}

static void row_overdue(struct cmd_ctx *ctx, const struct pd_value *w, struct pd_value *row, void *ud)
{
	(void)ud;
	pd_map_set_bool(ctx->a, row, "overdue", first_action_overdue(w, ctx->now));
}

/* The narrowest index first: customer, owner, depot, status, type, subtype;
 * the other filters are checked on each record. overdue=yes alone walks the
 * first-action due index, the most overdue first. */
int cmd_warning_list(struct cmd_ctx *ctx)
{
	struct record_filter by[] = {
		{ .name = "customer" }, { .name = "owner" }, { .name = "depot" },
		{ .name = "status" }, { .name = "type" }, { .name = "subtype" },
	};
	struct pd_value *overdue = pd_map_get(ctx->args, "overdue");
	struct record_rows list = {
		.by = by, .n = record_filter_args(ctx, by, 6),
		RECORD_COLS("id", "customer", "customer_name", "depot", "type", "subtype", "status", "owner", "raised_at",
			    "first_action_by", "first_action_at", "last_followup_at", "next_followup_at", "outcome"),
		.keep = overdue_keep, .more = row_overdue, .ud = overdue, .rows = pd_arr(ctx->a),
	};
	bool by_due = !record_filter_key(ctx, by, list.n) && overdue && overdue->u.b;
	return record_list_reply(ctx, &WARNING, by_due ? ctx->now : 0, &list, "warnings");
}

/* The first action's due time passed without one: marked for good (the
 * timeline says when), shown overdue until the first follow-up. */
int warning_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	struct pd_value *before, *after;
	int rc = record_get_copy(ctx, &WARNING, (int64_t)id, &before, &after);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	bool late = first_action_overdue(after, ctx->now) && !pd_map_bool(after, "first_action_breached");
	if (late)
		pd_map_set_bool(ctx->a, after, "first_action_breached", true);
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	rc = record_save(ctx, &WARNING, before, after, late ? "first_action_overdue" : NULL, NULL);
	ctx->sess = saved;
	return rc;
}

static bool is_active(struct cmd_ctx *ctx, const struct pd_value *w, void *ud)
{
	(void)ctx;
	(void)ud;
	return strcmp(rec_str(w, "status"), "closed") != 0;
}

int warning_active_of_customer(struct cmd_ctx *ctx, const char *account, struct pd_value *rows, size_t *n)
{
	const struct record_filter by[] = { { "customer", account, NULL } };
	struct record_rows list = {
		RECORD_BY(by), RECORD_COLS("id", "type", "subtype", "status", "owner", "raised_at"), .keep = is_active,
		.rows = rows,
	};
	return record_list(ctx, &WARNING, 0, &list, 0, INT64_MAX, n);
}
