/*
 * Unit tests for daemon/rules/survey_rules.c: scores in range, when a
 * survey is due by tier and after an incident, when it is overdue, and the
 * satisfaction index from surveys and complaint close scores
 * (docs/customers.md, "Satisfaction").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "survey_rules.h"

#define DAY 86400
#define T0 1785542400LL /* 2026-08-01T00:00:00Z */

static const struct survey_plan PLAN = { 91, 182, 365, 7 };

static void test_scores_one_to_five(void **state)
{
	(void)state;
	assert_false(survey_score_valid(0));
	assert_true(survey_score_valid(1));
	assert_true(survey_score_valid(5));
	assert_false(survey_score_valid(6));
	assert_false(survey_score_valid(-3));
}

static void test_periodic_by_tier(void **state)
{
	(void)state;
	assert_int_equal(survey_next_periodic(&PLAN, "key", T0), T0 + 91 * DAY);
	assert_int_equal(survey_next_periodic(&PLAN, "local_major", T0), T0 + 182 * DAY);
	assert_int_equal(survey_next_periodic(&PLAN, "medium_monthly", T0), T0 + 365 * DAY);
	assert_int_equal(survey_next_periodic(&PLAN, "regular_monthly", T0), 0);
	assert_int_equal(survey_next_periodic(&PLAN, "cash", T0), 0);
	assert_int_equal(survey_next_periodic(&PLAN, NULL, T0), 0);
	struct survey_plan none = { 0, 0, 0, 7 };
	assert_int_equal(survey_next_periodic(&none, "key", T0), 0);
}

static void test_after_an_incident_and_overdue(void **state)
{
	(void)state;
	int64_t due = survey_after_incident(&PLAN, T0);
	assert_int_equal(due, T0 + 7 * DAY);
	assert_false(survey_overdue(due, false, due));
	assert_true(survey_overdue(due, false, due + 1));
	assert_false(survey_overdue(due, true, due + 1));
	assert_false(survey_overdue(0, false, due + 1));
}

static void test_index_from_both_sources(void **state)
{
	(void)state;
	struct satisfaction_index x;
	/* surveys 5, 4, 4 (13/3 = 4.333); complaint closes 2, 3 (2.5) */
	struct satisfaction_in in = { 3, 13, 2, 5 };
	satisfaction_index(&in, &x);
	assert_int_equal(x.survey_avg_c, 433);
	assert_int_equal(x.complaint_avg_c, 250);
	assert_int_equal(x.readings, 5);
	assert_int_equal(x.index_points, 18);
	assert_int_equal(x.index_max, 25);
	assert_int_equal(x.index_c, 360);
	/* rounding half up: 9/2 = 4.5 */
	struct satisfaction_in half = { 2, 9, 0, 0 };
	satisfaction_index(&half, &x);
	assert_int_equal(x.index_c, 450);
	assert_int_equal(x.complaint_avg_c, 0);
	/* 2/3 = 0.6667 -> 67 hundredths */
	struct satisfaction_in third = { 3, 2, 0, 0 };
	satisfaction_index(&third, &x);
	assert_int_equal(x.survey_avg_c, 67);
}

static void test_index_without_readings(void **state)
{
	(void)state;
	struct satisfaction_index x;
	struct satisfaction_in none = { 0, 0, 0, 0 };
	satisfaction_index(&none, &x);
	assert_int_equal(x.readings, 0);
	assert_int_equal(x.index_c, 0);
	assert_int_equal(x.index_max, 0);
	/* counters out of step: points without readings do not count */
	struct satisfaction_in odd = { 0, 12, -1, 3 };
	satisfaction_index(&odd, &x);
	assert_int_equal(x.readings, 0);
	assert_int_equal(x.index_points, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scores_one_to_five),
		cmocka_unit_test(test_periodic_by_tier),
		cmocka_unit_test(test_after_an_incident_and_overdue),
		cmocka_unit_test(test_index_from_both_sources),
		cmocka_unit_test(test_index_without_readings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
