/*
 * Unit tests for daemon/rules/winback_rules.c: when a customer counts as
 * having stopped sending, and the before/after figures of a win-back
 * prospect (docs/customers.md, "Win-back").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "winback_rules.h"

static void test_stopped_after_idle_months(void **state)
{
	(void)state;
	const int64_t stopped[] = { 40, 38, 0, 0, 0 };
	assert_true(winback_stopped(stopped, 5, 3));
	assert_false(winback_stopped(stopped, 5, 4)); /* only 3 idle months */
	const int64_t sending[] = { 40, 0, 0, 1, 0 };
	assert_false(winback_stopped(sending, 5, 3));
	const int64_t never[] = { 0, 0, 0, 0, 0 };
	assert_false(winback_stopped(never, 5, 3)); /* never sent: nothing to win back */
	assert_false(winback_stopped(stopped, 5, 0)); /* the rule off */
	assert_false(winback_stopped(stopped, 3, 3)); /* no month before the idle ones */
}

static void test_monthly_average(void **state)
{
	(void)state;
	const int64_t f[] = { 10, 11, 11 };
	assert_int_equal(winback_monthly_average(f, 3), 11); /* 10.67 */
	const int64_t g[] = { 1, 2 };
	assert_int_equal(winback_monthly_average(g, 2), 2); /* 1.5 half up */
	assert_int_equal(winback_monthly_average(f, 0), 0);
	/* months of the largest totals: their average, not a wrapped sum */
	const int64_t big[] = { INT64_MAX, INT64_MAX, INT64_MAX - 2 };
	assert_true(winback_monthly_average(big, 3) == INT64_MAX - 1);
}

static void test_change(void **state)
{
	(void)state;
	assert_int_equal(winback_change_bp(100, 0), -10000);
	assert_int_equal(winback_change_bp(100, 80), -2000);
	assert_int_equal(winback_change_bp(100, 130), 3000);
	assert_int_equal(winback_change_bp(0, 50), 0);
	assert_true(winback_change_bp(1, INT64_MAX) == INT64_MAX); /* the largest, not wrapped */
}

static void test_reason_from_the_warning_cause(void **state)
{
	(void)state;
	assert_string_equal(winback_reason_of_cause("price"), "price");
	assert_string_equal(winback_reason_of_cause("attitude"), "maintenance");
	assert_string_equal(winback_reason_of_cause("lateness"), "service_quality");
	assert_string_equal(winback_reason_of_cause("loss"), "service_quality");
	assert_string_equal(winback_reason_of_cause("ending_risk"), "other");
	assert_string_equal(winback_reason_of_cause(""), "unknown");
	assert_string_equal(winback_reason_of_cause(NULL), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stopped_after_idle_months),
		cmocka_unit_test(test_monthly_average),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_reason_from_the_warning_cause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
