/*
 * Unit tests for daemon/rules/query_rules.c: the time limits of queries
 * (docs/rules.md section 2) — which kinds wait for an answer, their due
 * time by service level, when an unanswered or answered query is late
 * (at the boundary), what an investigation's outcome allows, and the
 * shares a service level gets (shared with complaints).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "query_rules.h"

#define HOUR 3600
#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static struct query_rules defaults(void)
{
	struct config opt;
	struct query_rules r;
	config_default(&opt);
	query_rules_from_options(&opt, &r);
	return r;
}

static void test_defaults_from_the_options(void **state)
{
	(void)state;
	struct query_rules r = defaults();
	assert_int_equal(r.external_due_secs, 24 * HOUR);
	assert_int_equal(r.investigation_due_secs, 48 * HOUR);
	assert_int_equal(r.service_level_percent[SERVICE_BASIC], 100);
	assert_int_equal(r.service_level_percent[SERVICE_VALUE_ADDED], 90);
	assert_int_equal(r.service_level_percent[SERVICE_EXCLUSIVE], 75);
	assert_int_equal(r.service_level_percent[SERVICE_CUSTOMISED], 50);
	assert_int_equal(query_rules_validate(&r, NULL), 0);
}

static void test_due_by_kind_and_level(void **state)
{
	(void)state;
	struct query_rules r = defaults();
	assert_int_equal(query_due_at(&r, QUERY_EXTERNAL, SERVICE_BASIC, T0), T0 + 24 * HOUR);
	assert_int_equal(query_due_at(&r, QUERY_EXTERNAL, SERVICE_VALUE_ADDED, T0), T0 + 24 * HOUR * 9 / 10);
	assert_int_equal(query_due_at(&r, QUERY_EXTERNAL, SERVICE_EXCLUSIVE, T0), T0 + 18 * HOUR);
	assert_int_equal(query_due_at(&r, QUERY_EXTERNAL, SERVICE_CUSTOMISED, T0), T0 + 12 * HOUR);
	assert_int_equal(query_due_at(&r, QUERY_INVESTIGATION, SERVICE_BASIC, T0), T0 + 48 * HOUR);
	assert_int_equal(query_due_at(&r, QUERY_INVESTIGATION, SERVICE_CUSTOMISED, T0), T0 + 24 * HOUR);
	/* answered at once: no time limit */
	assert_int_equal(query_due_at(&r, QUERY_DELIVERY, SERVICE_CUSTOMISED, T0), 0);
	assert_int_equal(query_due_at(&r, QUERY_PICKUP, SERVICE_BASIC, T0), 0);
	assert_int_equal(query_due_at(&r, QUERY_NO_WAYBILL, SERVICE_BASIC, T0), 0);
	assert_int_equal(query_due_at(&r, QUERY_EXTERNAL, SERVICE_LEVEL_COUNT, T0), 0);
}

static void test_share_rounds_down_to_the_second(void **state)
{
	(void)state;
	struct query_rules r = defaults();
	r.external_due_secs = 101;
	r.service_level_percent[SERVICE_VALUE_ADDED] = 33;
	/* 33.33 s: a shortened limit errs towards the customer */
	assert_int_equal(query_due_at(&r, QUERY_EXTERNAL, SERVICE_VALUE_ADDED, T0), T0 + 33);
	assert_int_equal(service_level_share(101, 100), 101);
}

static void test_late_from_the_due_instant(void **state)
{
	(void)state;
	int64_t due = T0 + 24 * HOUR;
	/* unanswered: on time at the due second, late the second after, and
	 * late whether or not it is ever answered */
	assert_false(query_late(due, 0, due - 1));
	assert_false(query_late(due, 0, due));
	assert_true(query_late(due, 0, due + 1));
	assert_true(query_late(due, 0, due + 30 * 24 * HOUR));
	/* answered: judged at the answer, not at now */
	assert_false(query_late(due, due, due + 99));
	assert_true(query_late(due, due + 1, due + 1));
	/* no due time: never late */
	assert_false(query_late(0, 0, T0));
}

static void test_outcomes_and_claims(void **state)
{
	(void)state;
	assert_int_equal(query_outcome_parse("lost"), QUERY_LOST);
	assert_int_equal(query_outcome_parse("misdelivered"), QUERY_MISDELIVERED);
	assert_int_equal(query_outcome_parse("found"), -1);
	assert_int_equal(query_outcome_parse(NULL), -1);
	assert_string_equal(query_outcome_name(QUERY_DISPUTED), "disputed");
	assert_null(query_outcome_name(QUERY_OUTCOME_COUNT));
	assert_true(query_outcome_allows_claim(QUERY_LOST));
	assert_true(query_outcome_allows_claim(QUERY_MISDELIVERED));
	assert_false(query_outcome_allows_claim(QUERY_DELIVERED_CONFIRMED));
	assert_false(query_outcome_allows_claim(QUERY_FOUND_REDELIVERED));
	assert_false(query_outcome_allows_claim(QUERY_DISPUTED));
	assert_int_equal(query_kind_parse("investigation"), QUERY_INVESTIGATION);
	assert_string_equal(query_kind_name(QUERY_EXTERNAL), "external");
	assert_int_equal(query_kind_parse("lookup"), -1);
}

static void test_shares_checked(void **state)
{
	(void)state;
	struct query_rules r = defaults();
	const char *problem = NULL;
	r.service_level_percent[SERVICE_EXCLUSIVE] = 95; /* above value_added's 90 */
	assert_int_equal(query_rules_validate(&r, &problem), -1);
	assert_string_equal(problem, "service_level_percent must not grow from basic to customised");
	r = defaults();
	r.service_level_percent[SERVICE_CUSTOMISED] = 0;
	assert_int_equal(query_rules_validate(&r, &problem), -1);
	assert_string_equal(problem, "service_level_percent must be 1..100");
	r = defaults();
	r.investigation_due_secs = 0;
	assert_int_equal(query_rules_validate(&r, &problem), -1);
	/* equal shares are allowed */
	r = defaults();
	r.service_level_percent[SERVICE_EXCLUSIVE] = 90;
	assert_int_equal(query_rules_validate(&r, &problem), 0);
	assert_int_equal(service_level_parse("customised"), SERVICE_CUSTOMISED);
	assert_int_equal(service_level_parse("gold"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_from_the_options),
		cmocka_unit_test(test_due_by_kind_and_level),
		cmocka_unit_test(test_share_rounds_down_to_the_second),
		cmocka_unit_test(test_late_from_the_due_instant),
		cmocka_unit_test(test_outcomes_and_claims),
		cmocka_unit_test(test_shares_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
