/* recovery.c — RECOVERY commands: the money a paid claim brings back.
 *
 * Paying a claim creates the recovery items the compensation engine names
 * (claim.c calls recovery_create()): the responsible depot reimburses the
 * paying depot, a depot recovers from its sub-carrier, the insurer pays
 * back. An item is open until the money is received in full (settled) or
 * the creditor bears the rest (written_off). Items share the claims' index
 * database under "rec_" keys. */
#include <stdio.h>
#include <string.h>

#include "record.h"
#include "recovery.h"

static const struct record_index RECOVERY_INDEXES[] = {
	{ "rec_kind", "kind", NULL },
	{ "rec_debtor", "debtor", NULL },
	{ "rec_creditor", "creditor", NULL },
	{ "rec_claim", "claim", NULL },
	{ "rec_status", "status", NULL },
	{ NULL, NULL, NULL },
};

static const struct record_kind RECOVERY = {
	RECORD_KIND("recovery", recoveries, claim_index),
	.noun = "recovery item",
	.indexes = RECOVERY_INDEXES,
};

int recovery_create(struct cmd_ctx *ctx, const struct pd_value *claim, const char *kind,
		    const char *debtor, const char *creditor, int64_t fen, struct pd_value *ids)
{
	if (fen <= 0 || !*debtor)
		return 0;
	struct pd_value *r;
	int rc = record_new(ctx, &RECOVERY, &r);
	if (rc)
		return rc;
	struct pd_arena *a = ctx->a;
	pd_map_set_int(a, r, "claim", rec_int(claim, "id"));
	pd_map_set_str(a, r, "waybill", rec_str(claim, "waybill"));
	pd_map_set_str(a, r, "kind", kind);
	pd_map_set_str(a, r, "debtor", debtor);
	pd_map_set_str(a, r, "creditor", creditor);
	pd_map_set_int(a, r, "due_fen", fen);
	pd_map_set_int(a, r, "received_fen", 0);
	pd_map_set_str(a, r, "status", "open");
	pd_map_set_int(a, r, "created_at", ctx->now);
	pd_map_set_int(a, r, "due_at", ctx->now + ctx->cfg->recovery_due_days * 86400);
	pd_map_set(a, r, "receipts", pd_arr(a));
	pd_arr_push(a, ids, pd_int(a, rec_int(r, "id")));
	return record_save(ctx, &RECOVERY, NULL, r, "create", NULL);
}

struct pd_value *recovery_list_for(struct cmd_ctx *ctx, const struct pd_value *claim)
{
	struct pd_value *list = pd_arr(ctx->a);
	struct pd_value *ids = pd_map_get(claim, "recovery_items");
	if (ids && ids->type == PD_ARR)
		for (struct pd_entry *e = ids->u.c.head; e; e = e->next) {
			struct pd_value *r;
			if (record_get(ctx, &RECOVERY, e->val->u.i, &r) == 0)
				pd_arr_push(ctx->a, list, present(ctx, r));
		}
	return list;
}

static void row_overdue(struct cmd_ctx *ctx, const struct pd_value *r, struct pd_value *row, void *ud)
{
	(void)ud;
	pd_map_set_bool(ctx->a, row, "overdue", !strcmp(rec_str(r, "status"), "open") && ctx->now > rec_int(r, "due_at"));
}

int cmd_recovery_list(struct cmd_ctx *ctx)
{
	int64_t claim = 0;
	pd_arg_int(ctx->args, "claim", &claim);
	/* the narrowest index first */
	const struct record_filter by[] = {
		{ "rec_claim", claim ? pd_sprintf(ctx->a, "%lld", (long long)claim) : NULL, "claim" },
		{ "rec_debtor", pd_arg_str(ctx->args, "debtor"), "debtor" },
		{ "rec_creditor", pd_arg_str(ctx->args, "creditor"), "creditor" },
		{ "rec_status", pd_arg_str(ctx->args, "status"), "status" },
		{ "rec_kind", pd_arg_str(ctx->args, "kind"), "kind" },
	};
	/* a row: the whole item as shown */
	struct record_rows list = { RECORD_BY(by), .more = row_overdue, .rows = pd_arr(ctx->a) };
	return record_list_reply(ctx, &RECOVERY, 0, &list, "recovery items");
}

static int recovery_load(struct cmd_ctx *ctx, struct pd_value **before, struct pd_value **after)
{
	int rc = record_load_arg(ctx, &RECOVERY, before, after);
	if (rc == 0 && strcmp(rec_str(*before, "status"), "open") != 0)
		return reply_error(ctx, 409, "recovery item %lld is %s", (long long)rec_int(*before, "id"),
				   rec_str(*before, "status"));
	return rc;
}

int cmd_recovery_receive(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (recovery_load(ctx, &before, &after))
		return PD_EREPLIED;
	int64_t amount = 0;
	pd_arg_int(ctx->args, "amount_fen", &amount);
	int64_t received = rec_int(before, "received_fen"), due = rec_int(before, "due_fen");
	if (amount <= 0)
		return reply_error(ctx, 400, "argument 'amount_fen' must be above 0");
	if (received + amount > due)
		return reply_error(ctx, 422, "%lld fen is more than the %lld fen still due", (long long)amount,
				   (long long)(due - received));
	struct pd_value *receipt = pd_map(ctx->a);
	pd_map_set_int(ctx->a, receipt, "amount_fen", amount);
	pd_map_set_str(ctx->a, receipt, "reference", pd_arg_str(ctx->args, "reference"));
	pd_map_set_int(ctx->a, receipt, "at", ctx->now);
	pd_map_set_str(ctx->a, receipt, "by", ctx->sess->user);
	pd_arr_push(ctx->a, pd_map_get(after, "receipts"), receipt);
	pd_map_set_int(ctx->a, after, "received_fen", received + amount);
	if (received + amount == due) {
		pd_map_set_str(ctx->a, after, "status", "settled");
		pd_map_set_int(ctx->a, after, "settled_at", ctx->now);
	}
	return record_reply(ctx, &RECOVERY, record_save(ctx, &RECOVERY, before, after, "receive",
							pd_arg_str(ctx->args, "reference")),
			    before, after, 200,
			    pd_sprintf(ctx->a, "%lld fen received; %lld fen still due", (long long)amount,
				       (long long)(due - received - amount)));
}

int cmd_recovery_writeoff(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (recovery_load(ctx, &before, &after))
		return PD_EREPLIED;
	pd_map_set_str(ctx->a, after, "status", "written_off");
	pd_map_set_int(ctx->a, after, "written_off_fen", rec_int(before, "due_fen") - rec_int(before, "received_fen"));
	pd_map_set_str(ctx->a, after, "writeoff_reason", pd_arg_str(ctx->args, "reason"));
	return record_reply(ctx, &RECOVERY, record_save(ctx, &RECOVERY, before, after, "writeoff",
							pd_arg_str(ctx->args, "reason")),
			    before, after, 200,
			    pd_sprintf(ctx->a, "written off: %s bears %lld fen", rec_str(after, "creditor"),
				       (long long)rec_int(after, "written_off_fen")));
}
