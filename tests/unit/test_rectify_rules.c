/*
 * Unit tests for daemon/rules/rectify_rules.c: when a rectification plan is
 * overdue, when its check may be recorded, and that it is closed only after
 * a check that it worked (docs/customers.md, "Rectification plans").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rectify_rules.h"

#define T0 1785542400LL /* 2026-08-01T00:00:00Z */

static void test_overdue_from_the_second_after_the_due_time(void **state)
{
	(void)state;
	assert_false(rectify_overdue("open", T0, T0));
	assert_true(rectify_overdue("open", T0, T0 + 1));
	assert_false(rectify_overdue("checked", T0, T0 + 1));
	assert_false(rectify_overdue("closed", T0, T0 + 1));
	assert_false(rectify_overdue("open", 0, T0));
}

static void test_a_check_is_of_an_open_plan_and_not_in_the_future(void **state)
{
	(void)state;
	assert_null(rectify_check_refusal("open", T0, T0 + 10, T0 + 10, 300));
	assert_null(rectify_check_refusal("open", T0, T0 + 300, T0, 300));
	assert_non_null(rectify_check_refusal("open", T0, T0 + 301, T0, 300));
	assert_non_null(rectify_check_refusal("open", T0, T0 - 1, T0 + 10, 300));
	assert_non_null(rectify_check_refusal("checked", T0, T0 + 10, T0 + 10, 300));
	assert_non_null(rectify_check_refusal("closed", T0, T0 + 10, T0 + 10, 300));
}

static void test_closed_only_after_the_check_that_it_worked(void **state)
{
	(void)state;
	assert_non_null(rectify_close_refusal("open"));
	assert_null(rectify_close_refusal("checked"));
	assert_non_null(rectify_close_refusal("closed"));
	assert_non_null(rectify_close_refusal(NULL));
}

static void test_missing_names_what_a_plan_lacks(void **state)
{
	(void)state;
	char buf[160];
	/* a plan raised by COMPLAINT CLOSE: fault, depot, action and owner only */
	const char *const raised[RECTIFY_N_REQUIRED] = { "stacked badly", "BJ02", NULL, "load on top", "", NULL, "sup1" };
	assert_int_equal(rectify_missing(raised, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "responsible, agreed_ops, agreed_inspection");
	const char *const full[RECTIFY_N_REQUIRED] = { "f", "BJ02", "Zhang", "a", "Wang", "Chen", "sup1" };
	assert_int_equal(rectify_missing(full, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	const char *const none[RECTIFY_N_REQUIRED] = { 0 };
	assert_int_equal(rectify_missing(none, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "fault, depot, responsible, action, agreed_ops, agreed_inspection, owner");
	/* a short buffer is cut, never overrun, and the count stays whole */
	char small[12];
	assert_int_equal(rectify_missing(none, small, sizeof(small)), 7);
	assert_string_equal(small, "fault");
}

static void test_state_shown(void **state)
{
	(void)state;
	assert_string_equal(rectify_state("open", T0, T0), "open");
	assert_string_equal(rectify_state("open", T0, T0 + 1), "overdue");
	assert_string_equal(rectify_state("checked", T0, T0 + 1), "checked");
	assert_string_equal(rectify_state("closed", T0, T0 + 1), "closed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overdue_from_the_second_after_the_due_time),
		cmocka_unit_test(test_a_check_is_of_an_open_plan_and_not_in_the_future),
		cmocka_unit_test(test_closed_only_after_the_check_that_it_worked),
		cmocka_unit_test(test_missing_names_what_a_plan_lacks),
		cmocka_unit_test(test_state_shown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
