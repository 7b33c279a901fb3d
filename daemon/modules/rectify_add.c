/* rectify_add.c — RECTIFY ADD: a rectification plan raised by hand from a
 * complaint, a claim or a warning (docs/customers.md "Rectification
 * plans"). Apart from rectify.c because it reads the incident through the
 * incident's own module, and complaint.c calls rectify.c (a plan raised
 * when a complaint closes): no module calls back into one that calls it. */
#include <string.h>

#include "care.h"
#include "claim.h"
#include "complaint.h"
#include "customer.h"
#include "record.h"

/* The incident a plan is raised from; replies 404 "no KIND ID" or the
 * store error. */
static int source_load(struct cmd_ctx *ctx, const char *source, int64_t id, struct pd_value **out)
{
	int rc = strcmp(source, "complaint") == 0 ? complaint_get(ctx, id, out)
		 : strcmp(source, "claim") == 0 ? claim_get(ctx, id, out)
		 : warning_get(ctx, id, out);
	if (rc == MDB_NOTFOUND)
		reply_error(ctx, 404, "no %s %lld", source, (long long)id);
	else if (rc)
		reply_store_error(ctx, rc);
	return rc;
}

int cmd_rectify_add(struct cmd_ctx *ctx)
{
	const char *source = pd_arg_str(ctx->args, "source");
	struct rectify_in in = {
		.source = source, .fault = pd_arg_str(ctx->args, "fault"),
		.depot = pd_arg_str(ctx->args, "depot"), .responsible = pd_arg_str(ctx->args, "responsible"),
		.action = pd_arg_str(ctx->args, "action"), .agreed_ops = pd_arg_str(ctx->args, "agreed_ops"),
		.agreed_inspection = pd_arg_str(ctx->args, "agreed_inspection"),
		.owner = pd_arg_str(ctx->args, "owner"), .accountability = pd_arg_str(ctx->args, "accountability"),
	};
	pd_arg_int(ctx->args, "source_id", &in.source_id);
	struct pd_value *src;
	if (strcmp(source, "complaint") && strcmp(source, "claim") && strcmp(source, "warning"))
		return reply_error(ctx, 400, "argument 'source' must be complaint, claim or warning");
	if (source_load(ctx, source, in.source_id, &src) || user_load(ctx, in.owner, NULL) ||
	    rectify_due_arg(ctx, "due", &in.due_at))
		return PD_EREPLIED;
	in.customer = rec_str(src, "customer");
	if (!in.depot)
		in.depot = rec_str(src, "depot");
	return rectify_raise_reply(ctx, &in);
}
