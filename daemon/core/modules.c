/* modules.c — every module of the daemon in one table (what it builds at
 * start, which due times it keeps and who handles them), and the daemon's
 * process-wide objects; apart from main() so unit tests and contrib tools
 * link the daemon's modules without it. The core reaches a module only
 * through this table (and the command table, commands.def). */
#include <string.h>

#include "claim.h"
#include "complaint.h"
#include "customer.h"
#include "daemon.h"

struct stats g_stats;
struct config g_config;
struct store g_store;

static const struct pd_module modules[] = {
	{ "auth", NULL, NULL, NULL },
	{ "waybill", NULL, NULL, NULL },
	{ "query", NULL, NULL, NULL },
	{ "calendar", NULL, NULL, NULL },
	{ "volume", NULL, NULL, NULL },
	{ "complaint", complaint_setup, "complaint", complaint_on_due },
	{ "claim", claim_setup, "claim", claim_on_due },
	{ "customer", customer_setup, NULL, NULL },
	{ "contact", NULL, "contact", contact_on_due },
	{ "warning", NULL, NULL, NULL },
	{ "monthend", NULL, "monthend", monthend_on_due },
	{ "report", NULL, NULL, NULL },
	{ "system", NULL, NULL, NULL },
};

#define MODULE_COUNT (sizeof(modules) / sizeof(modules[0]))

int modules_setup(const struct config *cfg)
{
	if (pd_commands_init() < 0)
		return 1;
	for (size_t i = 0; i < MODULE_COUNT; i++)
		if (modules[i].setup && modules[i].setup(cfg) < 0)
			return 2;
	return 0;
}

const struct pd_module *module_for_timer(const char *kind)
{
	for (size_t i = 0; i < MODULE_COUNT; i++)
		if (modules[i].timer_kind && strcmp(modules[i].timer_kind, kind) == 0)
			return &modules[i];
	return NULL;
}
