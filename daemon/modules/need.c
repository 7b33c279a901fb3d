/* need.c — the needs an account customer raises (NEED ...; docs/customers.md,
 * "Needs"): a declared record kind (docs/records.md). A need is routed by
 * its kind to a department and a named owner, answered with a result (a
 * service need with operations' service plan), and closed only when the
 * customer's responsible person confirmed it in writing. Open needs are
 * listed by their age through `need_open` (be64 created_at -> id). */
#include <string.h>

#include "care.h"
#include "customer.h"
#include "need_rules.h"
#include "record.h"

static bool is_open(const struct pd_value *n)
{
	return strcmp(rec_str(n, "status"), "confirmed") != 0;
}

static int64_t open_since(const struct pd_value *n)
{
	return is_open(n) ? rec_int(n, "created_at") : 0;
}

static const struct record_kind NEED = {
	RECORD_KIND("need", needs, need_index),
	.fields = RECORD_FIELDS("customer", "owner", "depot", "route", "status"),
	.due_db = RECORD_DB(need_open),
	.due = open_since,
};

int cmd_need_add(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *kind = pd_arg_str(ctx->args, "kind"), *owner = pd_arg_str(ctx->args, "owner");
	struct pd_value *c;
	if (customer_load(ctx, pd_arg_str(ctx->args, "customer"), &c) || user_load(ctx, owner, NULL))
		return PD_EREPLIED;
	struct pd_value *n;
	int rc = customer_record_new(ctx, &NEED, c, &n);
	if (rc)
		return reply_store_error(ctx, rc);
	pd_map_set_str(a, n, "kind", kind);
	pd_map_set_str(a, n, "route", need_route(kind));
	pd_map_set_str(a, n, "owner", owner);
	pd_map_set_str(a, n, "text", pd_arg_str(ctx->args, "text"));
	if (pd_arg_str(ctx->args, "raised_by"))
		pd_map_set_str(a, n, "raised_by", pd_arg_str(ctx->args, "raised_by"));
	pd_map_set_str(a, n, "status", "open");
	pd_map_set_int(a, n, "created_at", ctx->now);
	pd_map_set_str(a, n, "created_by", ctx->sess->user);
	return record_reply(ctx, &NEED, record_save(ctx, &NEED, NULL, n, "add", pd_arg_str(ctx->args, "text")),
			    NULL, n, 201, pd_sprintf(a, "need %lld routed to %s (%s)", (long long)rec_int(n, "id"),
						     need_route(kind), owner));
}

int cmd_need_result(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &NEED, &before, &after))
		return PD_EREPLIED;
	if (!is_open(before))
		return reply_error(ctx, 409, "need %lld is confirmed already", (long long)rec_int(before, "id"));
	const char *plan = pd_arg_str(ctx->args, "plan");
	const char *missing = need_result_missing(rec_str(before, "kind"), plan != NULL);
	if (missing)
		return reply_error(ctx, 422, "%s", missing);
	pd_map_set_str(ctx->a, after, "result", pd_arg_str(ctx->args, "result"));
	if (plan)
		pd_map_set_str(ctx->a, after, "plan", plan);
	pd_map_set_str(ctx->a, after, "status", "answered");
	pd_map_set_int(ctx->a, after, "answered_at", ctx->now);
	return record_reply(ctx, &NEED, record_save(ctx, &NEED, before, after, "result", pd_arg_str(ctx->args, "result")),
			    before, after, 200, pd_sprintf(ctx->a, "need %lld answered", (long long)rec_int(after, "id")));
}

int cmd_need_done(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &NEED, &before, &after))
		return PD_EREPLIED;
	const char *document = pd_arg_str(ctx->args, "document");
	const char *refusal = need_close_refusal(rec_str(before, "status"), document);
	if (refusal)
		return reply_error(ctx, strcmp(rec_str(before, "status"), "answered") ? 409 : 422, "need %lld: %s",
				   (long long)rec_int(before, "id"), refusal);
	pd_map_set_str(ctx->a, after, "status", "confirmed");
	pd_map_set_str(ctx->a, after, "confirmed_by", pd_arg_str(ctx->args, "confirmed_by"));
	pd_map_set_str(ctx->a, after, "document", document);
	pd_map_set_int(ctx->a, after, "confirmed_at", ctx->now);
	return record_reply(ctx, &NEED, record_save(ctx, &NEED, before, after, "confirm", document),
			    before, after, 200, pd_sprintf(ctx->a, "need %lld confirmed", (long long)rec_int(after, "id")));
}

static int age_of(struct cmd_ctx *ctx, const struct pd_value *n, struct pd_value *out)
{
	if (is_open(n))
		pd_map_set_int(ctx->a, out, "age_days", need_age_days(rec_int(n, "created_at"), ctx->now));
	return 0;
}

int cmd_need_get(struct cmd_ctx *ctx)
{
	return record_get_reply(ctx, &NEED, NULL, age_of);
}

static void row_age(struct cmd_ctx *ctx, const struct pd_value *n, struct pd_value *row, void *ud)
{
	(void)ud;
	pd_map_set_int(ctx->a, row, "age_days", is_open(n) ? need_age_days(rec_int(n, "created_at"), ctx->now) : 0);
}

int cmd_need_list(struct cmd_ctx *ctx)
{
	struct record_filter by[] = { { .name = "customer" }, { .name = "owner" }, { .name = "route" } };
	struct record_rows list = {
		.by = by, .n = record_filter_args(ctx, by, 3),
		RECORD_COLS("id", "customer", "depot", "kind", "route", "owner", "status", "created_at"),
		.more = row_age, .rows = pd_arr(ctx->a),
	};
	/* open=yes: the open ones by age (need_open), the oldest first */
	return record_list_reply(ctx, &NEED, pd_arg_bool(ctx->args, "open", 0) ? INT64_MAX : 0, &list, "needs");
}
