/* warning.c — warning customers (WARNING ...). */
#include <string.h>

#include "customer.h"

int warning_raise(struct cmd_ctx *ctx, const char *account, const char *type,
		  const char *subtype, const char *source, const char *text)
{
	if (!account || !*account)
		return 0;
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_str(ctx->a, d, "type", type);
	pd_map_set_str(ctx->a, d, "subtype", subtype);
	pd_map_set_str(ctx->a, d, "source", source);
	if (text)
		pd_map_set_str(ctx->a, d, "text", text);
	return store_audit(ctx->txn, ctx->st, "customer", account, ctx->sess->user,
			   ctx->now, "warning_incident", d);
}

const char *customer_service_level(struct cmd_ctx *ctx, const char *account)
{
	(void)ctx;
	(void)account;
	return "basic";
}
