/* winback.c — win-back prospects (WINBACK ...; docs/customers.md,
 * "Win-back"), a declared record kind (docs/records.md). A customer whose
 * warning closed as lost, or who stopped sending for winback_idle_months
 * months (seen at month end), becomes a prospect by rule; staff may add one
 * by hand. A prospect has the reason the customer left, an owner, the
 * contacts made with the customer since, the before/after figures (monthly
 * waybills and revenue before leaving against since) and an outcome. */
#include <string.h>

#include "timefmt.h"
#include "care.h"
#include "contact.h"
#include "customer.h"
#include "record.h"
#include "volume.h"
#include "winback_rules.h"

static bool is_open(const struct pd_value *w)
{
	return strcmp(rec_str(w, "status"), "open") == 0;
}

/* "open=ACCOUNT" while open: one prospect of a customer at a time */
static const char *open_key(struct cmd_ctx *ctx, const struct pd_value *w)
{
	return is_open(w) ? pd_sprintf(ctx->a, "open=%s", rec_str(w, "customer")) : NULL;
}

static const struct record_index WINBACK_INDEXES[] = {
	{ "open", NULL, open_key },
	{ NULL, NULL, NULL },
};

static const struct record_kind WINBACK = {
	RECORD_KIND("winback", winbacks, winback_index),
	.noun = "win-back prospect",
	.fields = RECORD_FIELDS("customer", "owner", "status"),
	.indexes = WINBACK_INDEXES,
};

/* Writes a new prospect of customer c unless one is open; *id its id (0:
 * one was open). */
static int prospect_new(struct cmd_ctx *ctx, const struct pd_value *c, const char *trigger, const char *source,
			const char *reason, const char *owner, int left_month, int64_t *id_out)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *ids = pd_arr(a);
	const char *key = pd_sprintf(a, "open=%s", rec_str(c, "account"));
	*id_out = 0;
	int rc = record_ids_where(ctx, &WINBACK, &key, 1, "customer", rec_str(c, "account"), ids);
	if (rc || ids->u.c.count)
		return rc;
	struct pd_value *w;
	if ((rc = customer_record_new(ctx, &WINBACK, c, &w)))
		return rc;
	pd_map_set_str(a, w, "trigger", trigger);
	pd_map_set_str(a, w, "source", source ? source : "");
	pd_map_set_str(a, w, "reason", reason);
	pd_map_set_str(a, w, "owner", owner && *owner ? owner : rec_str(c, "manager"));
	pd_map_set_str(a, w, "left_month", month_text(ctx, left_month));
	pd_map_set_str(a, w, "status", "open");
	pd_map_set_int(a, w, "created_at", ctx->now);
	pd_map_set_str(a, w, "created_by", ctx->sess->user);
	*id_out = rec_int(w, "id");
	return record_save(ctx, &WINBACK, NULL, w, "add", trigger);
}

/* A change made by a rule is recorded as the daemon; *id as prospect_new(). */
static int raise_by_rule(struct cmd_ctx *ctx, const struct pd_value *c, const char *trigger, const char *source,
			 const char *reason, const char *owner, int left_month, int64_t *id)
{
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	int rc = prospect_new(ctx, c, trigger, source, reason, owner, left_month, id);
	ctx->sess = saved;
	return rc;
}

int winback_after_lost_warning(struct cmd_ctx *ctx, const struct pd_value *warning)
{
	struct pd_value *c;
	int64_t cid, id;
	int rc = customer_find(ctx, rec_str(warning, "customer"), &c, &cid);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	return raise_by_rule(ctx, c, "warning_lost",
			     pd_sprintf(ctx->a, "warning:%lld", (long long)rec_int(warning, "id")),
			     winback_reason_of_cause(rec_str(warning, "cause")), rec_str(warning, "owner"),
			     volume_month(ctx->now), &id);
}

/* The customer's waybills of the months before `month` (inclusive), oldest
 * first. */
static void months_of(struct cmd_ctx *ctx, const char *account, int month, const char *metric, int n, int64_t *out)
{
	for (int i = 0; i < n; i++)
		out[i] = volume_get(ctx->txn, ctx->st, "C", account, month_add(month, i - n + 1), metric);
}

int winback_stopped_check(struct cmd_ctx *ctx, const struct pd_value *customer, int month, bool *raised)
{
	int idle = (int)ctx->cfg->winback_idle_months;
	int64_t waybills[WINBACK_MAX_IDLE_MONTHS + WINBACK_BEFORE_MONTHS], id = 0;
	int n = idle + WINBACK_BEFORE_MONTHS;
	*raised = false;
	if (idle <= 0)
		return 0;
	months_of(ctx, rec_str(customer, "account"), month, "waybills", n, waybills);
	if (!winback_stopped(waybills, n, idle))
		return 0;
	int rc = raise_by_rule(ctx, customer, "stopped_sending", NULL, "unknown", NULL, month_add(month, 1 - idle), &id);
	*raised = id != 0;
	return rc;
}

int cmd_winback_add(struct cmd_ctx *ctx)
{
	struct pd_value *c, *w = NULL;
	const char *owner = pd_arg_str(ctx->args, "owner");
	if (customer_load(ctx, pd_arg_str(ctx->args, "customer"), &c) || (owner && user_load(ctx, owner, NULL)))
		return PD_EREPLIED;
	int left = month_now(ctx);
	if (pd_arg_str(ctx->args, "left_month") && month_arg(ctx, "left_month", &left))
		return PD_EREPLIED;
	int64_t id;
	int rc = prospect_new(ctx, c, "by_hand", NULL, pd_arg_str(ctx->args, "reason"), owner ? owner : ctx->sess->user,
			      left, &id);
	if (!rc && !id)
		return reply_error(ctx, 409, "%s is a win-back prospect already", rec_str(c, "account"));
	if (!rc)
		rc = record_get(ctx, &WINBACK, id, &w);
	return record_reply(ctx, &WINBACK, rc, NULL, w, 201,
			    pd_sprintf(ctx->a, "win-back prospect %lld: %s", (long long)id, rec_str(c, "account")));
}

int cmd_winback_set(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &WINBACK, &before, &after))
		return PD_EREPLIED;
	if (!is_open(before))
		return reply_error(ctx, 409, "win-back prospect %lld is closed", (long long)rec_int(before, "id"));
	const char *owner = pd_arg_str(ctx->args, "owner");
	if (owner && user_load(ctx, owner, NULL))
		return PD_EREPLIED;
	static const char *const fields[] = { "reason", "owner", "approach" };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (pd_arg_str(ctx->args, fields[i]))
			pd_map_set_str(ctx->a, after, fields[i], pd_arg_str(ctx->args, fields[i]));
	return record_reply(ctx, &WINBACK, record_save(ctx, &WINBACK, before, after, "set", pd_arg_str(ctx->args, "text")),
			    before, after, 200, pd_sprintf(ctx->a, "win-back prospect %lld updated", (long long)rec_int(after, "id")));
}

int cmd_winback_close(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &WINBACK, &before, &after))
		return PD_EREPLIED;
	if (!is_open(before))
		return reply_error(ctx, 409, "win-back prospect %lld is closed", (long long)rec_int(before, "id"));
	const char *outcome = pd_arg_str(ctx->args, "outcome");
	pd_map_set_str(ctx->a, after, "status", "closed");
	pd_map_set_str(ctx->a, after, "outcome", outcome);
	pd_map_set_int(ctx->a, after, "closed_at", ctx->now);
	pd_map_set_str(ctx->a, after, "closed_by", ctx->sess->user);
	return record_reply(ctx, &WINBACK, record_save(ctx, &WINBACK, before, after, "close", pd_arg_str(ctx->args, "text")),
			    before, after, 200, pd_sprintf(ctx->a, "win-back prospect %lld closed: %s",
							   (long long)rec_int(after, "id"), outcome));
}

/* Monthly waybills and revenue before leaving (the WINBACK_BEFORE_MONTHS
 * months before left_month) against since (left_month to this month). */
static struct pd_value *figures(struct cmd_ctx *ctx, const struct pd_value *w)
{
	static const char *const metrics[] = { "waybills", "revenue_fen" };
	int y = 0, m = 0;
	pd_month_parse(rec_str(w, "left_month"), &y, &m);
	int left = y * 100 + m, now = month_now(ctx);
	int after_n = 1;
	while (after_n < 120 && month_add(left, after_n) <= now)
		after_n++;
	struct pd_value *out = pd_map(ctx->a);
	pd_map_set_str(ctx->a, out, "before_from", month_text(ctx, month_add(left, -WINBACK_BEFORE_MONTHS)));
	pd_map_set_str(ctx->a, out, "after_from", month_text(ctx, left));
	pd_map_set_int(ctx->a, out, "after_months", after_n);
	for (size_t i = 0; i < 2; i++) {
		int64_t before[WINBACK_BEFORE_MONTHS], after[120];
		months_of(ctx, rec_str(w, "customer"), month_add(left, -1), metrics[i], WINBACK_BEFORE_MONTHS, before);
		months_of(ctx, rec_str(w, "customer"), month_add(left, after_n - 1), metrics[i], after_n, after);
		int64_t b = winback_monthly_average(before, WINBACK_BEFORE_MONTHS);
		int64_t a = winback_monthly_average(after, after_n);
		struct pd_value *m = pd_map(ctx->a);
		pd_map_set_int(ctx->a, m, "monthly_before", b);
		pd_map_set_int(ctx->a, m, "monthly_after", a);
		char buf[32];
		bp_format(winback_change_bp(b, a), buf, sizeof(buf));
		pd_map_set_str(ctx->a, m, "change_pct", b ? buf : "");
		pd_map_set(ctx->a, out, metrics[i], m);
	}
	return out;
}

/* What GET adds after the timeline: the figures, and the contacts with
 * the customer since it became a prospect. */
static int since_prospect(struct cmd_ctx *ctx, const struct pd_value *w, struct pd_value *out)
{
	static const char *const cols[] = { "id", "kind", "purpose", "owner", "status", "planned_at", "done_at" };
	struct pd_value *contacts = pd_arr(ctx->a);
	int rc = contact_rows_since(ctx, rec_str(w, "customer"), rec_int(w, "created_at"), cols,
				    sizeof(cols) / sizeof(cols[0]), 20, contacts);
	if (rc)
		return rc;
	pd_map_set(ctx->a, out, "figures", figures(ctx, w));
	pd_map_set(ctx->a, out, "contacts", contacts);
	return 0;
}

int cmd_winback_get(struct cmd_ctx *ctx)
{
	return record_get_reply(ctx, &WINBACK, NULL, since_prospect);
}

int cmd_winback_list(struct cmd_ctx *ctx)
{
	struct record_filter by[] = { { .name = "customer" }, { .name = "owner" }, { .name = "status" } };
	struct record_rows list = {
		.by = by, .n = record_filter_args(ctx, by, 3),
		RECORD_COLS("id", "customer", "customer_name", "depot", "trigger", "reason", "owner", "status", "outcome",
			    "created_at"),
		.rows = pd_arr(ctx->a),
	};
	return record_list_reply(ctx, &WINBACK, 0, &list, "win-back prospects");
}
