/* handover.c — CUSTOMER HANDOVER, CUSTOMER MATURE and CUSTOMER TRIAL: an
 * account handed over from sales and its trial period, waybill by waybill (docs/customers.md "Hand-over from
 * sales and the trial period"). Apart from customer.c because the
 * hand-over plans the first joint visit through the contact module, which
 * reads customers: no module calls back into one that calls it. */
#include <string.h>

#include "timefmt.h"
#include "care.h"
#include "contact.h"
#include "contact_rules.h"
#include "customer.h"
#include "record.h"
#include "waybill.h"
#include "waybill_rules.h"

/* legal may have signed a little ahead of the daemon's clock */
#define LEGAL_FUTURE_SLACK_SECS 300
#define SATISFACTION_LOWEST 1
#define SATISFACTION_HIGHEST 5

static int reply_trial(struct cmd_ctx *ctx, const struct pd_value *before, struct pd_value *after,
		       const char *action, const char *text, int code, const char *msg)
{
	int rc = customer_save(ctx, before, after, action, text);
	if (rc)
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(ctx->a);
	static const char *const cols[] = { "account", "trial_status", "trial_start", "trial_end" };
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		pd_map_set_str(ctx->a, d, cols[i], rec_str(after, cols[i]));
	ctx->rep->data = d;
	reply_ok(ctx, code, "%s", msg);
	return 0;
}

int cmd_customer_handover(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *legal_by = pd_arg_str(ctx->args, "legal_by"), *sales = pd_arg_str(ctx->args, "sales");
	int64_t legal_at = 0, satisfaction = 0;
	bool has_legal_at = pd_arg_int(ctx->args, "legal_at", &legal_at);
	bool has_sat = pd_arg_int(ctx->args, "satisfaction", &satisfaction);
	if (!legal_by || !has_legal_at)
		return reply_error(ctx, 422, "sales hands an account over only with its contract reviewed by legal: "
					     "give legal_by and legal_at");
	if (legal_at > ctx->now + LEGAL_FUTURE_SLACK_SECS)
		return reply_error(ctx, 422, "'legal_at' is in the future: the contract is reviewed before the hand-over");
	if (has_sat && (satisfaction < SATISFACTION_LOWEST || satisfaction > SATISFACTION_HIGHEST))
		return reply_error(ctx, 400, "argument 'satisfaction' must be from %d to %d", SATISFACTION_LOWEST,
				   SATISFACTION_HIGHEST);
	struct pd_value *before;
	const char *account = pd_arg_str(ctx->args, "account");
	if (customer_load(ctx, account, &before))
		return PD_EREPLIED;
	if (*rec_str(before, "trial_status"))
		return reply_error(ctx, 409, "customer %s was handed over already (%s)", account,
				   rec_str(before, "trial_status"));
	struct pd_value *after = pd_value_copy(a, before), *h = pd_map(a);
	pd_map_set_str(a, h, "sales", sales);
	pd_map_set_str(a, h, "contract", pd_arg_str(ctx->args, "contract"));
	pd_map_set_str(a, h, "legal_by", legal_by);
	pd_map_set_int(a, h, "legal_at", legal_at);
	pd_map_set_str(a, h, "by", ctx->sess->user);
	pd_map_set_int(a, h, "at", ctx->now);
	pd_map_set(a, after, "handover", h);
	int today = pd_local_day(ctx->now), end = trial_end_day(today, (int)ctx->cfg->trial_months);
	pd_map_set_str(a, after, "trial_status", "trial");
	pd_map_set_str(a, after, "trial_start", pd_sprintf(a, "%04d-%02d-%02d", today / 10000, today / 100 % 100, today % 100));
	pd_map_set_str(a, after, "trial_end", pd_sprintf(a, "%04d-%02d-%02d", end / 10000, end / 100 % 100, end % 100));
	customer_plan_care(ctx, after);
	/* the first reading is a survey: taken already, or due at the first visit */
	int64_t visit_at = ctx->now + ctx->cfg->contact_first_visit_days * CONTACT_DAY_SECS, survey = 0;
	int rc = survey_first_reading(ctx, before, has_sat ? satisfaction : 0, visit_at, &survey);
	if (!rc)
		rc = contact_first_visit(ctx, account, sales, visit_at, has_sat ? 0 : survey);
	if (rc)
		return reply_store_error(ctx, rc);
	pd_map_set_int(a, h, "first_survey", survey);
	return reply_trial(ctx, before, after, "handover", pd_sprintf(a, "from sales (%s), contract reviewed by %s", sales, legal_by),
			   201, pd_sprintf(a, "%s handed over from sales: trial until %s", account, rec_str(after, "trial_end")));
}

int cmd_customer_mature(struct cmd_ctx *ctx)
{
	struct pd_value *before;
	const char *account = pd_arg_str(ctx->args, "account");
	if (customer_load(ctx, account, &before))
		return PD_EREPLIED;
	if (!customer_in_trial(before))
		return reply_error(ctx, 409, "customer %s is not in a trial period", account);
	struct pd_value *after = pd_value_copy(ctx->a, before);
	customer_set_mature(ctx, after);
	return reply_trial(ctx, before, after, "mature", pd_arg_str(ctx->args, "reason"), 200,
			   pd_sprintf(ctx->a, "%s is mature", account));
}

/* CUSTOMER TRIAL: the waybills registered in the trial period, each with
 * what went wrong (late against the promise in force as of now, damaged,
 * complained about). */
struct trial_walk {
	int64_t from, to; /* the trial's first and last second */
	bool flagged_only;
	int64_t flagged;
	struct pd_value *rows;
};

static int trial_keep(struct cmd_ctx *ctx, const char *number, const struct pd_value *wb, void *ud)
{
	struct trial_walk *t = ud;
	struct pd_arena *a = ctx->a;
	int64_t at = rec_int(wb, "created_at");
	struct waybill_lateness l;
	if (at < t->from || at > t->to)
		return 0;
	int rc = waybill_late(ctx, wb, &l);
	if (rc)
		return rc;
	bool damaged = pd_map_bool(wb, "damaged"), complained = pd_map_bool(wb, "complained");
	const char *flags = pd_sprintf(a, "%s%s%s", l.late ? ",late" : "", damaged ? ",damaged" : "",
				       complained ? ",complained" : "");
	if (*flags)
		t->flagged++;
	else if (t->flagged_only)
		return 0;
	struct pd_value *r = pd_map(a);
	pd_map_set_str(a, r, "number", number);
	static const char *const cols[] = { "status", "dest_depot", "created_at", "promised_at" };
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		const struct pd_value *v = pd_map_get(wb, cols[i]);
		pd_map_set(a, r, cols[i], v ? present_field(ctx, cols[i], v) : pd_str(a, ""));
	}
	pd_map_set_bool(a, r, "late", l.late);
	pd_map_set_bool(a, r, "damaged", damaged);
	pd_map_set_bool(a, r, "complained", complained);
	pd_map_set_str(a, r, "flags", *flags ? flags + 1 : "");
	pd_arr_push(a, t->rows, r);
	return 1;
}

int cmd_customer_trial(struct cmd_ctx *ctx)
{
	struct pd_value *c;
	const char *account = pd_arg_str(ctx->args, "account");
	int64_t limit, unused; /* before= is a waybill number here */
	if (rec_list_args(ctx, &limit, &unused) || customer_load(ctx, account, &c))
		return PD_EREPLIED;
	const char *start = rec_str(c, "trial_start"), *end = rec_str(c, "trial_end");
	int y, m, d, ye, me, de;
	if (pd_date_parse(start, &y, &m, &d) < 0 || pd_date_parse(end, &ye, &me, &de) < 0)
		return reply_error(ctx, 409, "customer %s was not handed over from sales: it has no trial period", account);
	struct trial_walk t = { .from = pd_local_day_start(y, m, d), .to = pd_local_day_start(ye, me, de) + 86399,
				.flagged_only = pd_arg_bool(ctx->args, "flagged", 0), .rows = pd_arr(ctx->a) };
	/* matured early by hand: the trial ended that day */
	int64_t matured = rec_int(c, "matured_at");
	if (matured && matured < t.to)
		t.to = matured;
	int64_t kept;
	int rc = waybill_walk(ctx, pd_sprintf(ctx->a, "customer=%s", account), pd_arg_str(ctx->args, "before"), limit,
			      trial_keep, &t, &kept);
	if (rc)
		return reply_store_error(ctx, rc);
	ctx->rep->data = t.rows;
	return reply_ok(ctx, 200, "%lld waybill%s of %s's trial (%s to %s), %lld flagged", (long long)kept,
			kept == 1 ? "" : "s", account, start, end, (long long)t.flagged);
}
