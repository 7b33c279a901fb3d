/* globals.c — the daemon's three process-wide objects, apart from main()
 * so unit tests and contrib tools link the daemon's modules without it. */
#include "claim.h"
#include "complaint.h"
#include "customer.h"
#include "daemon.h"

struct stats g_stats;
struct config g_config;
struct store g_store;

int modules_setup(const struct config *cfg)
{
	if (pd_commands_init() < 0)
		return 1;
	if (complaint_setup(cfg) < 0 || claim_setup(cfg) < 0 || customer_setup(cfg) < 0)
		return 2;
	return 0;
}
