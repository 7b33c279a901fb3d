/*
 * Unit tests for daemon/rules/need_rules.c: where a customer's need of each
 * kind is routed, what its result needs, and when it may be closed
 * (docs/customers.md, "Needs").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "need_rules.h"

static void test_route_by_kind(void **state)
{
	(void)state;
	assert_string_equal(need_route("price"), "marketing");
	assert_string_equal(need_route("service"), "operations");
	assert_string_equal(need_route("price_adjustment"), "cs_head");
	assert_string_equal(need_route("rebate"), "cs_head");
	assert_null(need_route("lunch"));
	assert_null(need_route(NULL));
}

static void test_a_service_need_is_answered_with_a_plan(void **state)
{
	(void)state;
	assert_non_null(need_result_missing("service", false));
	assert_null(need_result_missing("service", true));
	assert_null(need_result_missing("price", false));
	assert_null(need_result_missing("rebate", false));
}

static void test_closing_needs_a_result_and_the_written_confirmation(void **state)
{
	(void)state;
	assert_non_null(need_close_refusal("open", "DOC-1"));
	assert_non_null(need_close_refusal("answered", NULL));
	assert_non_null(need_close_refusal("answered", ""));
	assert_null(need_close_refusal("answered", "DOC-1"));
	assert_non_null(need_close_refusal("confirmed", "DOC-1"));
	assert_non_null(need_close_refusal(NULL, "DOC-1"));
}

static void test_age_in_whole_days(void **state)
{
	(void)state;
	assert_int_equal(need_age_days(1000, 1000), 0);
	assert_int_equal(need_age_days(1000, 1000 + 86399), 0);
	assert_int_equal(need_age_days(1000, 1000 + 86400), 1);
	assert_int_equal(need_age_days(1000, 1000 + 10 * 86400 + 5), 10);
	assert_int_equal(need_age_days(2000, 1000), 0); /* a clock set back */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_by_kind),
		cmocka_unit_test(test_a_service_need_is_answered_with_a_plan),
		cmocka_unit_test(test_closing_needs_a_result_and_the_written_confirmation),
		cmocka_unit_test(test_age_in_whole_days),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
