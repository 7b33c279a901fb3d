/* rectify.c — rectification plans (RECTIFY ...; docs/customers.md,
 * "Rectification plans"), a declared record kind (docs/records.md). A plan
 * follows a service incident where our operation failed: raised from a
 * complaint, a claim or a warning, it names the fault, the responsible
 * depot and person, the corrective action agreed with operations and the
 * inspection department, an owner and a due date; it is closed only after
 * a check that the action worked. An open plan past its due time is marked
 * overdue by the one timer (kind "rectify"). */
#include <string.h>

#include "timefmt.h"
#include "care.h"
#include "customer.h"
#include "record.h"
#include "rectify_rules.h"
#include "volume.h"

/* a check may be recorded a little ahead of the daemon's clock */
#define CHECK_FUTURE_SLACK_SECS 300

static int64_t due_of(const struct pd_value *p)
{
	return strcmp(rec_str(p, "status"), "open") == 0 ? rec_int(p, "due_at") : 0;
}

static int64_t timer_of(const struct pd_value *p)
{
	return rec_overdue_timer(p, due_of(p));
}

static const char *source_key(struct cmd_ctx *ctx, const struct pd_value *p)
{
	return pd_sprintf(ctx->a, "source=%s:%lld", rec_str(p, "source"), (long long)rec_int(p, "source_id"));
}

static const struct record_index RECTIFY_INDEXES[] = {
	{ "source", NULL, source_key },
	{ NULL, NULL, NULL },
};

static const struct record_kind RECTIFY = {
	RECORD_KIND("rectify", rectify_plans, rectify_index),
	.noun = "rectification plan",
	.fields = RECORD_FIELDS("customer", "depot", "owner", "status", "month"),
	.indexes = RECTIFY_INDEXES,
	.due_db = RECORD_DB(rectify_due),
	.due = due_of,
	.timer = timer_of,
};

int rectify_due_arg(struct cmd_ctx *ctx, const char *name, int64_t *due_at)
{
	int y, m, d;
	const char *due = pd_arg_str(ctx->args, name);
	if (pd_date_parse(due, &y, &m, &d) < 0)
		return reply_error(ctx, 400, "argument '%s' must be a date YYYY-MM-DD", name);
	*due_at = pd_local_day_start(y, m, d) + 86399;
	if (*due_at < ctx->now)
		return reply_error(ctx, 422, "%s %s is already past", name, due);
	return 0;
}

/* What a plan lacks before its check (rectify_missing()): "" when whole. */
static const char *missing_of(struct cmd_ctx *ctx, const struct pd_value *p)
{
	const char *values[RECTIFY_N_REQUIRED];
	for (size_t i = 0; i < RECTIFY_N_REQUIRED; i++)
		values[i] = rec_str(p, RECTIFY_REQUIRED[i]);
	char buf[160];
	rectify_missing(values, buf, sizeof(buf));
	return pd_sprintf(ctx->a, "%s", buf);
}

int rectify_raise(struct cmd_ctx *ctx, const struct rectify_in *in, int64_t *id_out)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *p;
	int rc = record_new(ctx, &RECTIFY, &p);
	if (rc)
		return rc;
	pd_map_set_str(a, p, "source", in->source);
	pd_map_set_int(a, p, "source_id", in->source_id);
	pd_map_set_str(a, p, "customer", in->customer ? in->customer : "");
	pd_map_set_str(a, p, "depot", in->depot ? in->depot : "");
	pd_map_set_str(a, p, "fault", in->fault ? in->fault : "");
	pd_map_set_str(a, p, "responsible", in->responsible ? in->responsible : "");
	pd_map_set_str(a, p, "action", in->action);
	pd_map_set_str(a, p, "agreed_ops", in->agreed_ops ? in->agreed_ops : "");
	pd_map_set_str(a, p, "agreed_inspection", in->agreed_inspection ? in->agreed_inspection : "");
	pd_map_set_str(a, p, "owner", in->owner);
	pd_map_set_int(a, p, "due_at", in->due_at);
	if (in->accountability)
		pd_map_set_str(a, p, "accountability", in->accountability);
	pd_map_set_str(a, p, "status", "open");
	pd_map_set_bool(a, p, "overdue", false);
	pd_map_set_str(a, p, "month", month_text(ctx, volume_month(ctx->now)));
	pd_map_set_int(a, p, "created_at", ctx->now);
	pd_map_set_str(a, p, "created_by", ctx->sess->user);
	*id_out = rec_int(p, "id");
	return record_save(ctx, &RECTIFY, NULL, p, "add", in->fault);
}

int rectify_raise_reply(struct cmd_ctx *ctx, const struct rectify_in *in)
{
	int64_t id;
	int rc = rectify_raise(ctx, in, &id);
	struct pd_value *p = NULL;
	if (!rc)
		rc = record_get(ctx, &RECTIFY, id, &p);
	return record_reply(ctx, &RECTIFY, rc, NULL, p, 201,
			    pd_sprintf(ctx->a, "rectification plan %lld raised from %s %lld", (long long)id, in->source,
				       (long long)in->source_id));
}

/* RECTIFY ADD is in rectify_add.c: it reads the complaint, claim or
 * warning a plan is raised from through their modules, and complaint.c
 * calls this one. */

int cmd_rectify_check(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &RECTIFY, &before, &after))
		return PD_EREPLIED;
	int64_t at = ctx->now;
	pd_arg_int(ctx->args, "checked_at", &at);
	const char *refusal = rectify_check_refusal(rec_str(before, "status"), rec_int(before, "created_at"), at,
						    ctx->now, CHECK_FUTURE_SLACK_SECS);
	if (refusal)
		return reply_error(ctx, strcmp(rec_str(before, "status"), "open") ? 409 : 422,
				   "rectification plan %lld: %s", (long long)rec_int(before, "id"), refusal);
	const char *result = pd_arg_str(ctx->args, "result");
	bool worked = strcmp(result, "worked") == 0;
	/* an action nobody answers for, or not agreed, cannot be found to work */
	const char *missing = missing_of(ctx, before);
	if (worked && *missing)
		return reply_error(ctx, 409, "rectification plan %lld lacks %s: complete it with RECTIFY EDIT first",
				   (long long)rec_int(before, "id"), missing);
	int64_t due_at = 0;
	if (pd_arg_str(ctx->args, "due") && (worked ? reply_error(ctx, 400, "a new due date goes with result=failed")
					     : rectify_due_arg(ctx, "due", &due_at)))
		return PD_EREPLIED;
	struct pd_arena *a = ctx->a;
	pd_map_set_str(a, after, "check_result", result);
	pd_map_set_str(a, after, "checked_by", ctx->sess->user);
	pd_map_set_int(a, after, "checked_at", at);
	pd_map_set_str(a, after, "check_text", pd_arg_str(ctx->args, "text"));
	pd_map_set_int(a, after, "checks", rec_int(after, "checks") + 1);
	if (worked) {
		pd_map_set_str(a, after, "status", "checked");
		pd_map_set_bool(a, after, "overdue", false);
	} else if (due_at) {
		/* the action did not work: a new date to do it by */
		pd_map_set_int(a, after, "due_at", due_at);
		pd_map_set_bool(a, after, "overdue", false);
	}
	return record_reply(ctx, &RECTIFY, record_save(ctx, &RECTIFY, before, after, "check", pd_arg_str(ctx->args, "text")),
			    before, after, 200, pd_sprintf(a, "rectification plan %lld checked: %s",
							   (long long)rec_int(after, "id"), result));
}

int cmd_rectify_edit(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &RECTIFY, &before, &after))
		return PD_EREPLIED;
	static const char *const fields[] = { "fault", "depot", "responsible", "action", "agreed_ops",
					      "agreed_inspection", "owner", "accountability" };
	size_t given = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = pd_arg_str(ctx->args, fields[i]);
		if (v && !*v)
			return reply_error(ctx, 400, "argument '%s' must not be empty", fields[i]);
		given += v != NULL;
	}
	int64_t due_at = 0;
	if (!given && !pd_arg_str(ctx->args, "due"))
		return reply_error(ctx, 400, "give what to change: fault, depot, responsible, action, agreed_ops, "
					     "agreed_inspection, owner, due or accountability");
	if (strcmp(rec_str(before, "status"), "open"))
		return reply_error(ctx, 409, "rectification plan %lld is %s: only an open plan is changed",
				   (long long)rec_int(before, "id"), rec_str(before, "status"));
	if ((pd_arg_str(ctx->args, "owner") && user_load(ctx, pd_arg_str(ctx->args, "owner"), NULL)) ||
	    (pd_arg_str(ctx->args, "due") && rectify_due_arg(ctx, "due", &due_at)))
		return PD_EREPLIED;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (pd_arg_str(ctx->args, fields[i]))
			pd_map_set_str(ctx->a, after, fields[i], pd_arg_str(ctx->args, fields[i]));
	if (due_at) {
		/* a new date to do it by: not overdue until it passes */
		pd_map_set_int(ctx->a, after, "due_at", due_at);
		pd_map_set_bool(ctx->a, after, "overdue", false);
	}
	const char *missing = missing_of(ctx, after);
	return record_reply(ctx, &RECTIFY, record_save(ctx, &RECTIFY, before, after, "edit", pd_arg_str(ctx->args, "text")),
			    before, after, 200,
			    *missing ? pd_sprintf(ctx->a, "rectification plan %lld changed; it still lacks %s",
						  (long long)rec_int(after, "id"), missing)
				     : pd_sprintf(ctx->a, "rectification plan %lld changed", (long long)rec_int(after, "id")));
}

int cmd_rectify_close(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &RECTIFY, &before, &after))
		return PD_EREPLIED;
	const char *refusal = rectify_close_refusal(rec_str(before, "status"));
	if (refusal)
		return reply_error(ctx, 409, "rectification plan %lld: %s", (long long)rec_int(before, "id"), refusal);
	if (pd_arg_str(ctx->args, "accountability"))
		pd_map_set_str(ctx->a, after, "accountability", pd_arg_str(ctx->args, "accountability"));
	pd_map_set_str(ctx->a, after, "status", "closed");
	pd_map_set_int(ctx->a, after, "closed_at", ctx->now);
	pd_map_set_str(ctx->a, after, "closed_by", ctx->sess->user);
	return record_reply(ctx, &RECTIFY, record_save(ctx, &RECTIFY, before, after, "close", pd_arg_str(ctx->args, "text")),
			    before, after, 200, pd_sprintf(ctx->a, "rectification plan %lld closed", (long long)rec_int(after, "id")));
}

static int state_of(struct cmd_ctx *ctx, const struct pd_value *p, struct pd_value *out)
{
	pd_map_set_str(ctx->a, out, "state", rectify_state(rec_str(p, "status"), rec_int(p, "due_at"), ctx->now));
	pd_map_set_str(ctx->a, out, "missing", missing_of(ctx, p));
	return 0;
}

int cmd_rectify_get(struct cmd_ctx *ctx)
{
	return record_get_reply(ctx, &RECTIFY, NULL, state_of);
}

static const char *const STATES[] = { "open", "overdue", "checked", "closed" };

/* A row's state, counted by state (ud: int64_t[4], open, overdue,
 * checked, closed). */
static void row_state(struct cmd_ctx *ctx, const struct pd_value *p, struct pd_value *row, void *ud)
{
	int64_t *counts = ud;
	state_of(ctx, p, row);
	for (size_t i = 0; i < 4; i++)
		counts[i] += strcmp(STATES[i], rec_str(row, "state")) == 0;
}

static const char *const PLAN_COLS[] = { "id", "source", "source_id", "customer", "depot", "fault", "owner",
					 "status", "due_at", "checked_at" };

/* The plans of filters by as rows with their state, counted by state. */
static struct record_rows plan_rows(struct cmd_ctx *ctx, const struct record_filter *by, int64_t *counts)
{
	return (struct record_rows){
		.by = by, .n = 4, .cols = PLAN_COLS, .n_cols = sizeof(PLAN_COLS) / sizeof(PLAN_COLS[0]),
		.more = row_state, .ud = counts, .rows = pd_arr(ctx->a),
	};
}

int cmd_rectify_list(struct cmd_ctx *ctx)
{
	struct record_filter by[4] = {
		{ .name = "customer" }, { .name = "depot" }, { .name = "owner" }, { .name = "status" },
	};
	record_filter_args(ctx, by, 4);
	int64_t counts[4] = { 0 };
	struct record_rows list = plan_rows(ctx, by, counts);
	/* due=: open plans by due time, the most overdue first; up to now, or all */
	return record_list_reply(ctx, &RECTIFY, record_due_arg(ctx), &list, "rectification plans");
}

int rectify_month(struct cmd_ctx *ctx, const char *customer, const char *depot, int month, struct pd_value **out)
{
	const struct record_filter by[4] = {
		{ "month", month_text(ctx, month), NULL }, { "customer", customer, NULL }, { "depot", depot, NULL },
		{ .name = "status" },
	};
	int64_t counts[4] = { 0 };
	struct record_rows list = plan_rows(ctx, by, counts);
	size_t kept;
	int rc = record_list(ctx, &RECTIFY, 0, &list, 0, INT64_MAX, &kept);
	if (rc)
		return rc;
	struct pd_value *s = pd_map(ctx->a);
	pd_map_set_int(ctx->a, s, "raised", (int64_t)kept);
	for (size_t i = 0; i < 4; i++)
		pd_map_set_int(ctx->a, s, STATES[i], counts[i]);
	pd_map_set(ctx->a, s, "plans", list.rows);
	*out = s;
	return 0;
}

static bool overdue_now(const struct pd_value *p, int64_t now)
{
	return rectify_overdue(rec_str(p, "status"), rec_int(p, "due_at"), now);
}

int rectify_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	return record_mark_overdue(ctx, &RECTIFY, id, overdue_now);
}
