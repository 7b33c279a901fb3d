/* need_rules.c — routing and closing of a customer's needs (see need_rules.h). */
#include <stddef.h>
#include <string.h>

#include "need_rules.h"

const char *need_route(const char *kind)
{
	static const struct {
		const char *kind, *to;
	} ROUTES[] = {
		{ "price", "marketing" },
		{ "service", "operations" },
		{ "price_adjustment", "cs_head" },
		{ "rebate", "cs_head" },
	};
	for (size_t i = 0; kind && i < sizeof(ROUTES) / sizeof(ROUTES[0]); i++)
		if (strcmp(ROUTES[i].kind, kind) == 0)
			return ROUTES[i].to;
	return NULL;
}

const char *need_result_missing(const char *kind, bool has_plan)
{
	if (kind && strcmp(kind, "service") == 0 && !has_plan)
		return "a service need is answered by operations with a service plan: give plan=";
	return NULL;
}

const char *need_close_refusal(const char *status, const char *document)
{
	if (!status || strcmp(status, "answered") != 0)
		return status && strcmp(status, "confirmed") == 0 ? "the need is confirmed already"
		       : "the need has no result yet: record it with NEED RESULT first";
	if (!document || !*document)
		return "the customer's written confirmation is needed: give document=";
	return NULL;
}

int64_t need_age_days(int64_t created_at, int64_t now)
{
	return now > created_at ? (now - created_at) / 86400 : 0;
}
