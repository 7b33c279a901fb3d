/* monthend.c — the month-end run (MONTHEND RUN/STATUS): each customer's
 * tier from the rules, and the revenue-drop warnings, for one month.
 *
 * The run is a record in `monthend_runs` ("YYYYMM" -> run) holding its
 * progress: the id of the last customer done. RUN only writes that record
 * and a timer entry "monthend:YYYYMM" due now; SWEEP (in the writer) hands
 * the entry to monthend_on_due(), which does the next batch of customers
 * (monthend_batch_customers, in id order) in the same transaction as the
 * new progress, and sets the entry due again until every customer is done.
 * So the loop keeps answering between batches, a restart goes on from the
 * last committed batch (the record and the timer entry are in the store),
 * and running a month again changes nothing: tiers computed from the same
 * counters are the same, and a warning's source key lets each customer's
 * month raise at most once. */
#include <stdio.h>
#include <string.h>

#include "timefmt.h"
#include "care.h"
#include "customer.h"
#include "record.h"

static int run_key(int month, char *buf, size_t cap)
{
	return snprintf(buf, cap, "%06d", month);
}

static int run_load(struct cmd_ctx *ctx, int month, struct pd_value **out)
{
	char key[16];
	int kl = run_key(month, key, sizeof(key));
	return store_get(ctx->txn, ctx->st->monthend_runs, key, (size_t)kl, ctx->a, out);
}

static int run_save(struct cmd_ctx *ctx, int month, const struct pd_value *run)
{
	char key[16];
	int kl = run_key(month, key, sizeof(key));
	return store_put(ctx->txn, ctx->st->monthend_runs, key, (size_t)kl, run, 0);
}

static int run_audit(struct cmd_ctx *ctx, int month, const char *action, const struct pd_value *run)
{
	struct pd_value *d = pd_map(ctx->a);
	static const char *const figures[] = { "processed", "tiers_changed", "warnings_raised" };
	for (size_t i = 0; i < 3; i++)
		pd_map_set_int(ctx->a, d, figures[i], rec_int(run, figures[i]));
	char id[16];
	run_key(month, id, sizeof(id));
	return store_audit(ctx->txn, ctx->st, "monthend", id, ctx->sess->user, ctx->now, action, d);
}

static struct pd_value *run_present(struct cmd_ctx *ctx, int month, const struct pd_value *run)
{
	struct pd_value *out = pd_map(ctx->a);
	if (run) {
		struct pd_value *shown = present(ctx, run);
		for (struct pd_entry *e = shown->u.c.head; e; e = e->next)
			if (strcmp(e->key, "timer_at") != 0) /* bookkeeping of the store */
				pd_map_set(ctx->a, out, e->key, e->val);
	} else {
		pd_map_set_str(ctx->a, out, "month", month_text(ctx, month));
		pd_map_set_str(ctx->a, out, "status", "not_started");
	}
	pd_map_set_int(ctx->a, out, "customers_total", customer_count(ctx));
	return out;
}

int cmd_monthend_run(struct cmd_ctx *ctx)
{
	int month;
	if (month_arg(ctx, "month", &month))
		return PD_EREPLIED;
	if (month >= month_now(ctx))
		return reply_error(ctx, 422, "month %s has not ended yet", month_text(ctx, month));
	struct pd_value *old = NULL, *run;
	int rc = run_load(ctx, month, &old);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	if (old && strcmp(rec_str(old, "status"), "running") == 0) {
		ctx->rep->data = run_present(ctx, month, old);
		return reply_ok(ctx, 200, "month-end %s is already running", month_text(ctx, month));
	}
	struct pd_arena *a = ctx->a;
	run = pd_map(a);
	pd_map_set_str(a, run, "month", month_text(ctx, month));
	pd_map_set_str(a, run, "status", "running");
	pd_map_set_int(a, run, "runs", (old ? rec_int(old, "runs") : 0) + 1);
	pd_map_set_int(a, run, "cursor", 0);
	pd_map_set_int(a, run, "processed", 0);
	pd_map_set_int(a, run, "tiers_changed", 0);
	pd_map_set_int(a, run, "warnings_raised", 0);
	pd_map_set_int(a, run, "winbacks_raised", 0);
	pd_map_set_int(a, run, "batches", 0);
	pd_map_set_int(a, run, "started_at", ctx->now);
	pd_map_set_str(a, run, "started_by", ctx->sess->user);
	pd_map_set_int(a, run, "finished_at", 0);
	pd_map_set_int(a, run, "timer_at", ctx->now);
	if ((rc = timer_set(ctx, "monthend", (uint64_t)month, 0, ctx->now)) ||
	    (rc = run_save(ctx, month, run)) ||
	    (rc = run_audit(ctx, month, "start", run)))
		return reply_store_error(ctx, rc);
	ctx->rep->data = run_present(ctx, month, run);
	reply_ok(ctx, 200, "month-end %s started", month_text(ctx, month));
	return 0;
}

int cmd_monthend_status(struct cmd_ctx *ctx)
{
	int y, m;
	pd_month_parse(pd_arg_str(ctx->args, "month"), &y, &m);
	int month = y * 100 + m;
	struct pd_value *run = NULL;
	int rc = run_load(ctx, month, &run);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	ctx->rep->data = run_present(ctx, month, run);
	reply_ok(ctx, 200, "month-end %s: %s", month_text(ctx, month), run ? rec_str(run, "status") : "not_started");
	return 0;
}

/* One customer of the run: its tier, then the warning rule. */
static int monthend_customer(struct cmd_ctx *ctx, const struct pd_value *before, int month,
			     struct pd_value *run)
{
	struct pd_value *after = pd_value_copy(ctx->a, before);
	bool tier_changed = customer_apply_tier(ctx, after, month);
	int rc = 0;
	/* only a change of tier is news for the timeline; the month the
	 * rules looked at is bookkeeping */
	if (tier_changed)
		rc = customer_save(ctx, before, after, "monthend_tier",
				   pd_sprintf(ctx->a, "month-end %s", month_text(ctx, month)));
	else if (strcmp(rec_str(before, "tier_month"), rec_str(after, "tier_month")) != 0 ||
		 strcmp(rec_str(before, "tier_auto"), rec_str(after, "tier_auto")) != 0 ||
		 rec_int(before, "average_payment_fen") != rec_int(after, "average_payment_fen"))
		rc = customer_save(ctx, before, after, NULL, NULL);
	if (rc)
		return rc;
	bool raised, winback;
	if ((rc = warning_revenue_drop(ctx, after, month, &raised)) ||
	    (rc = winback_stopped_check(ctx, after, month, &winback)))
		return rc;
	pd_map_set_int(ctx->a, run, "processed", rec_int(run, "processed") + 1);
	if (tier_changed)
		pd_map_set_int(ctx->a, run, "tiers_changed", rec_int(run, "tiers_changed") + 1);
	if (raised)
		pd_map_set_int(ctx->a, run, "warnings_raised", rec_int(run, "warnings_raised") + 1);
	if (winback)
		pd_map_set_int(ctx->a, run, "winbacks_raised", rec_int(run, "winbacks_raised") + 1);
	return 0;
}

int monthend_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	int month = (int)id;
	struct pd_value *run;
	int rc = run_load(ctx, month, &run);
	if (rc == MDB_NOTFOUND || (rc == 0 && strcmp(rec_str(run, "status"), "running") != 0))
		return 0; /* a stray entry: SWEEP has taken it away */
	if (rc)
		return rc;
	/* the sweep runs as the daemon itself */
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;

	int64_t last = rec_int(run, "cursor");
	struct pd_value *batch = pd_arr(ctx->a);
	bool more;
	if ((rc = customer_batch(ctx, last, ctx->cfg->monthend_batch_customers, batch, &more)))
		goto out;
	for (struct pd_entry *e = batch->u.c.head; e && !rc; e = e->next) {
		rc = monthend_customer(ctx, e->val, month, run);
		last = rec_int(e->val, "id");
	}
	if (rc)
		goto out;
	struct pd_arena *a = ctx->a;
	pd_map_set_int(a, run, "cursor", last);
	pd_map_set_int(a, run, "batches", rec_int(run, "batches") + 1);
	int64_t old_at = rec_int(run, "timer_at");
	if (more) {
		/* due again at once: SWEEP comes back after this commit, and
		 * other writes go between batches. SWEEP took the old entry
		 * out, so the new one is added even at the same second. */
		pd_map_set_int(a, run, "timer_at", ctx->now);
		rc = timer_set(ctx, "monthend", id, 0, ctx->now);
	} else {
		pd_map_set_str(a, run, "status", "done");
		pd_map_set_int(a, run, "finished_at", ctx->now);
		pd_map_set_int(a, run, "timer_at", 0);
		rc = timer_set(ctx, "monthend", id, old_at, 0);
		if (!rc)
			rc = run_audit(ctx, month, "done", run);
	}
	if (!rc)
		rc = run_save(ctx, month, run);
out:
	ctx->sess = saved;
	return rc;
}
