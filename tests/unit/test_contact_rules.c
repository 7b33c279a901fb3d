/*
 * Unit tests for daemon/rules/contact_rules.c: the contact plan by tier of
 * docs/customers.md — which tier is planned for which kind of contact, when
 * the next one is due after the last, and when a planned one is overdue or
 * on this week's agenda.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "contact_rules.h"

#define DAY CONTACT_DAY_SECS
#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static struct contact_plan defaults(void)
{
	struct contact_plan p;
	contact_plan_defaults(&p);
	return p;
}

static void test_plan_defaults_by_tier(void **state)
{
	(void)state;
	struct contact_plan p = defaults();
	assert_int_equal(contact_plan_days(&p, "key", "visit"), 30);
	assert_int_equal(contact_plan_days(&p, "key", "meeting"), 91);
	assert_int_equal(contact_plan_days(&p, "local_major", "visit"), 91);
	assert_int_equal(contact_plan_days(&p, "local_major", "call"), 30);
	assert_int_equal(contact_plan_days(&p, "medium_monthly", "call"), 30);
}

static void test_plan_calls_for_nothing_else(void **state)
{
	(void)state;
	struct contact_plan p = defaults();
	assert_int_equal(contact_plan_days(&p, "key", "letter"), 0);
	assert_int_equal(contact_plan_days(&p, "medium_monthly", "visit"), 0);
	assert_int_equal(contact_plan_days(&p, "cash", "call"), 0);
	assert_int_equal(contact_plan_days(&p, "", "visit"), 0);
	assert_int_equal(contact_plan_days(&p, NULL, "visit"), 0);
}

static void test_plan_follows_config(void **state)
{
	(void)state;
	struct contact_plan p = defaults();
	p.key_visit_days = 14;
	p.local_major_call_days = 0; /* switched off */
	assert_int_equal(contact_plan_days(&p, "key", "visit"), 14);
	assert_int_equal(contact_next_due(&p, "local_major", "call", T0), 0);
}

static void test_next_due_from_last_of_kind(void **state)
{
	(void)state;
	struct contact_plan p = defaults();
	assert_int_equal(contact_next_due(&p, "key", "visit", T0), T0 + 30 * DAY);
	assert_int_equal(contact_next_due(&p, "local_major", "visit", T0 + 5), T0 + 5 + 91 * DAY);
	assert_int_equal(contact_next_due(&p, "key", "call", T0), 0);  /* not in the key plan */
	assert_int_equal(contact_next_due(&p, "key", "visit", 0), 0);  /* never contacted */
}

static void test_overdue_from_the_second_after(void **state)
{
	(void)state;
	assert_false(contact_overdue(T0, 0, T0 - 1));
	assert_false(contact_overdue(T0, 0, T0));      /* on time at the planned second */
	assert_true(contact_overdue(T0, 0, T0 + 1));
	assert_false(contact_overdue(T0, T0 + 10, T0 + 100)); /* done */
	assert_false(contact_overdue(0, 0, T0));       /* nothing planned */
}

static void test_due_within_week(void **state)
{
	(void)state;
	int64_t week = 7 * DAY;
	assert_true(contact_due_within(T0 - 3 * DAY, 0, T0, week));  /* overdue: on the agenda */
	assert_true(contact_due_within(T0 + 6 * DAY, 0, T0, week));
	assert_false(contact_due_within(T0 + 7 * DAY, 0, T0, week)); /* next week */
	assert_false(contact_due_within(T0 + DAY, T0, T0, week));    /* done */
	assert_true(contact_due_within(T0 - 1, 0, T0, 0));           /* overdue only */
	assert_false(contact_due_within(T0, 0, T0, 0));
}

static void test_callback_due(void **state)
{
	(void)state;
	assert_int_equal(contact_callback_due(true, 1, T0), T0 + DAY);
	assert_int_equal(contact_callback_due(true, 0, T0), T0); /* at once */
	assert_int_equal(contact_callback_due(true, 3, T0 + 5), T0 + 5 + 3 * DAY);
	assert_int_equal(contact_callback_due(false, 1, T0), 0); /* switched off */
	assert_int_equal(contact_callback_due(true, 1, 0), 0);   /* not closed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_defaults_by_tier),
		cmocka_unit_test(test_plan_calls_for_nothing_else),
		cmocka_unit_test(test_plan_follows_config),
		cmocka_unit_test(test_next_due_from_last_of_kind),
		cmocka_unit_test(test_overdue_from_the_second_after),
		cmocka_unit_test(test_due_within_week),
		cmocka_unit_test(test_callback_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
