/* query_rules.c — see query_rules.h. */
#include <string.h>

#include "config.h"
#include "query_rules.h"

static const char *const kind_names[QUERY_KIND_COUNT] = {
	"delivery", "pickup", "no_waybill", "external", "investigation",
};

static const char *const outcome_names[QUERY_OUTCOME_COUNT] = {
	"delivered_confirmed", "found_redelivered", "misdelivered", "lost", "disputed",
};

static int parse(const char *const *names, int count, const char *s)
{
	for (int i = 0; s && i < count; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *query_kind_name(enum query_kind k)
{
	return k >= 0 && k < QUERY_KIND_COUNT ? kind_names[k] : NULL;
}

int query_kind_parse(const char *s)
{
	return parse(kind_names, QUERY_KIND_COUNT, s);
}

const char *query_outcome_name(enum query_outcome o)
{
	return o >= 0 && o < QUERY_OUTCOME_COUNT ? outcome_names[o] : NULL;
}

int query_outcome_parse(const char *s)
{
	return parse(outcome_names, QUERY_OUTCOME_COUNT, s);
}

void query_rules_from_options(const struct config *opt, struct query_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->external_due_secs = opt->external_query_due_secs;
	r->investigation_due_secs = opt->investigation_due_secs;
	r->service_level_percent[SERVICE_BASIC] = 100;
	r->service_level_percent[SERVICE_VALUE_ADDED] = (unsigned)opt->query_percent_value_added;
	r->service_level_percent[SERVICE_EXCLUSIVE] = (unsigned)opt->query_percent_exclusive;
	r->service_level_percent[SERVICE_CUSTOMISED] = (unsigned)opt->query_percent_customised;
}

int query_rules_validate(const struct query_rules *r, const char **problem)
{
	if (r->external_due_secs < 1 || r->investigation_due_secs < 1) {
		if (problem)
			*problem = "a query's due time must be at least a second";
		return -1;
	}
	return service_level_shares_check(r->service_level_percent, problem);
}

int64_t query_due_at(const struct query_rules *r, enum query_kind k, enum service_level s, int64_t opened_at)
{
	int64_t period = k == QUERY_EXTERNAL ? r->external_due_secs
		       : k == QUERY_INVESTIGATION ? r->investigation_due_secs : 0;
	if (!period || s < 0 || s >= SERVICE_LEVEL_COUNT)
		return 0;
	return opened_at + service_level_share(period, r->service_level_percent[s]);
}

bool query_late(int64_t due_at, int64_t answered_at, int64_t now)
{
	if (!due_at)
		return false;
	return (answered_at ? answered_at : now) > due_at;
}

bool query_outcome_allows_claim(enum query_outcome o)
{
	return o == QUERY_MISDELIVERED || o == QUERY_LOST;
}
