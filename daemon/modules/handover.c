/* handover.c — CUSTOMER HANDOVER and CUSTOMER MATURE: an account handed
 * over from sales and its trial period (docs/customers.md "Hand-over from
 * sales and the trial period"). Apart from customer.c because the
 * hand-over plans the first joint visit through the contact module, which
 * reads customers: no module calls back into one that calls it. */
#include <string.h>

#include "timefmt.h"
#include "contact.h"
#include "customer.h"
#include "record.h"

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
	if (has_sat)
		pd_map_set_int(a, h, "first_satisfaction", satisfaction);
	pd_map_set_str(a, h, "by", ctx->sess->user);
	pd_map_set_int(a, h, "at", ctx->now);
	pd_map_set(a, after, "handover", h);
	int today = pd_local_day(ctx->now), end = trial_end_day(today, (int)ctx->cfg->trial_months);
	pd_map_set_str(a, after, "trial_status", "trial");
	pd_map_set_str(a, after, "trial_start", pd_sprintf(a, "%04d-%02d-%02d", today / 10000, today / 100 % 100, today % 100));
	pd_map_set_str(a, after, "trial_end", pd_sprintf(a, "%04d-%02d-%02d", end / 10000, end / 100 % 100, end % 100));
	customer_plan_care(ctx, after);
	int rc = contact_first_visit(ctx, account, sales, !has_sat);
	if (rc)
		return reply_store_error(ctx, rc);
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
