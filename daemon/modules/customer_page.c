/* customer_page.c — CUSTOMER GET: an account with its counters, its open
 * complaints and claims, its active warnings and its timeline. It sits
 * apart from customer.c because it reads what the complaint and claim
 * modules own, through their functions, while those modules read the
 * customer's service level: no module calls back into one that calls it.
 * The contacts come from the contact module the same way. */
#include <string.h>

#include "timefmt.h"
#include "claim.h"
#include "complaint.h"
#include "contact.h"
#include "customer.h"
#include "record.h"
#include "volume.h"

#define HISTORY_MONTHS 12

static struct pd_value *volume_record(struct cmd_ctx *ctx, const char *account, int month)
{
	struct pd_value *r = pd_map(ctx->a);
	pd_map_set_str(ctx->a, r, "month", month_text(ctx, month));
	static const char *const metrics[] = { "waybills", "revenue_fen", "declared_fen" };
	for (size_t i = 0; i < 3; i++)
		pd_map_set_int(ctx->a, r, metrics[i], volume_get(ctx->txn, ctx->st, "C", account, month, metrics[i]));
	return r;
}

int cmd_customer_get(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *account = pd_arg_str(ctx->args, "account");
	struct pd_value *c;
	if (customer_load(ctx, account, &c))
		return PD_EREPLIED;
	struct pd_value *out = present(ctx, c);
	pd_map_set_str(a, out, "tier_source", *rec_str(c, "tier_override") ? "override" : "auto");
	int now_month = month_now(ctx), last_complete = month_add(now_month, -1);
	struct tier_result verdict;
	customer_tier_for(ctx, c, last_complete, &verdict);
	/* what the rules say today, next to the tier in force */
	pd_map_set_str(a, out, "tier_by_rules_now", customer_tier_name(verdict.tier));
	pd_map_set_int(a, out, "average_payment_now_fen", verdict.average_fen);
	pd_map_set_int(a, out, "cooperation_months", months_between(customer_start_day(c), pd_local_day(ctx->now)));

	pd_map_set(a, out, "this_month", volume_record(ctx, account, now_month));
	struct pd_value *history = pd_arr(a);
	int64_t waybills = 0, revenue = 0, declared = 0;
	for (int i = HISTORY_MONTHS; i >= 1; i--) {
		struct pd_value *r = volume_record(ctx, account, month_add(now_month, -i));
		waybills += rec_int(r, "waybills");
		revenue += rec_int(r, "revenue_fen");
		declared += rec_int(r, "declared_fen");
		pd_arr_push(a, history, r);
	}
	struct pd_value *year = pd_map(a);
	pd_map_set_str(a, year, "from", month_text(ctx, month_add(now_month, -HISTORY_MONTHS)));
	pd_map_set_str(a, year, "to", month_text(ctx, last_complete));
	pd_map_set_int(a, year, "waybills", waybills);
	pd_map_set_int(a, year, "revenue_fen", revenue);
	pd_map_set_int(a, year, "declared_fen", declared);
	pd_map_set(a, out, "last_12_months", year);
	pd_map_set(a, out, "monthly", history);

	struct pd_value *complaints = pd_arr(a), *claims = pd_arr(a), *warnings = pd_arr(a);
	size_t kept;
	int rc;
	if ((rc = complaint_open_of_customer(ctx, account, complaints)) ||
	    (rc = claim_open_of_customer(ctx, account, claims)) ||
	    (rc = warning_active_of_customer(ctx, account, warnings, &kept)) ||
	    (rc = contact_customer_page(ctx, account, out)))
		return reply_store_error(ctx, rc);
	pd_map_set_int(a, out, "open_complaints", (int64_t)complaints->u.c.count);
	pd_map_set(a, out, "open_complaint_ids", complaints);
	pd_map_set_int(a, out, "open_claims", (int64_t)claims->u.c.count);
	pd_map_set(a, out, "open_claim_ids", claims);
	pd_map_set_int(a, out, "active_warnings", (int64_t)kept);
	pd_map_set(a, out, "warnings", warnings);
	struct pd_value *timeline;
	if ((rc = rec_timeline(ctx, "customer", rec_int(c, "id"), &timeline)))
		return reply_store_error(ctx, rc);
	pd_map_set(a, out, "timeline", timeline);
	ctx->rep->data = out;
	reply_ok(ctx, 200, "customer %s: %s", account, rec_str(c, "tier"));
	return 0;
}
