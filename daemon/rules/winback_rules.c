/* winback_rules.c — see winback_rules.h. */
#include <stddef.h>
#include <string.h>

#include "winback_rules.h"

__extension__ typedef __int128 wide; /* sums and products of totals up to INT64_MAX */

const char *winback_reason_of_cause(const char *cause)
{
	static const struct {
		const char *cause, *reason;
	} REASONS[] = {
		{ "price", "price" },
		{ "attitude", "maintenance" },
		{ "lateness", "service_quality" },
		{ "damage", "service_quality" },
		{ "loss", "service_quality" },
		{ "complaints", "service_quality" },
	};
	if (!cause || !*cause)
		return "unknown";
	for (size_t i = 0; i < sizeof(REASONS) / sizeof(REASONS[0]); i++)
		if (strcmp(REASONS[i].cause, cause) == 0)
			return REASONS[i].reason;
	return "other";
}

bool winback_stopped(const int64_t *waybills, int n, int idle_months)
{
	if (idle_months <= 0 || n <= idle_months)
		return false;
	for (int i = n - idle_months; i < n; i++)
		if (waybills[i] > 0)
			return false;
	for (int i = 0; i < n - idle_months; i++)
		if (waybills[i] > 0)
			return true;
	return false;
}

int64_t winback_monthly_average(const int64_t *figures, int n)
{
	if (n <= 0)
		return 0;
	wide sum = 0; /* months of totals up to INT64_MAX each */
	for (int i = 0; i < n; i++)
		sum += figures[i] > 0 ? figures[i] : 0;
	return (int64_t)((sum + n / 2) / n);
}

int64_t winback_change_bp(int64_t before, int64_t after)
{
	if (before <= 0)
		return 0;
	wide bp = ((wide)after - before) * 10000 / before;
	return bp > INT64_MAX ? INT64_MAX : (int64_t)bp; /* never below -10000 */
}
