/*
 * Unit tests for daemon/rules/claim_rules.c: the claim's statuses, the
 * allowed changes written out case by case, and which
 * statuses are open or wait for a decision.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "claim_rules.h"

static void test_names_round_trip(void **state)
{
	(void)state;
	static const char *const names[] = { "filed", "assessed", "escalated", "approved", "paid",
					     "refused", "closed" };
	assert_int_equal(sizeof(names) / sizeof(names[0]), CLAIM_STATUS_COUNT);
	for (int i = 0; i < CLAIM_STATUS_COUNT; i++) {
		enum claim_status s = CLAIM_CLOSED;
		assert_string_equal(claim_status_name((enum claim_status)i), names[i]);
		assert_true(claim_status_parse(names[i], &s));
		assert_int_equal(s, i);
	}
	enum claim_status s = CLAIM_PAID;
	assert_false(claim_status_parse("Filed", &s));
	assert_false(claim_status_parse("", &s));
	assert_false(claim_status_parse(NULL, &s));
	assert_int_equal(s, CLAIM_PAID);
	assert_null(claim_status_name(CLAIM_STATUS_COUNT));
}

static void test_open_and_awaiting(void **state)
{
	(void)state;
	static const bool open[CLAIM_STATUS_COUNT] = { true, true, true, true, true, false, false };
	static const bool awaits[CLAIM_STATUS_COUNT] = { true, true, true, false, false, false, false };
	for (int i = 0; i < CLAIM_STATUS_COUNT; i++) {
		assert_int_equal(claim_status_is_open((enum claim_status)i), open[i]);
		assert_int_equal(claim_awaits_decision((enum claim_status)i), awaits[i]);
	}
	assert_false(claim_status_is_open(CLAIM_STATUS_COUNT));
}

/* Every pair: the allowed ones listed, all others refused. */
static void test_transitions(void **state)
{
	(void)state;
	static const struct { enum claim_status from, to; } allowed[] = {
		{ CLAIM_FILED, CLAIM_ASSESSED },     { CLAIM_FILED, CLAIM_ESCALATED },
		{ CLAIM_FILED, CLAIM_REFUSED },      { CLAIM_ASSESSED, CLAIM_ASSESSED },
		{ CLAIM_ASSESSED, CLAIM_ESCALATED }, { CLAIM_ASSESSED, CLAIM_APPROVED },
		{ CLAIM_ASSESSED, CLAIM_REFUSED },   { CLAIM_ESCALATED, CLAIM_ASSESSED },
		{ CLAIM_ESCALATED, CLAIM_ESCALATED }, { CLAIM_ESCALATED, CLAIM_APPROVED },
		{ CLAIM_ESCALATED, CLAIM_REFUSED },  { CLAIM_APPROVED, CLAIM_PAID },
		{ CLAIM_PAID, CLAIM_CLOSED },        { CLAIM_REFUSED, CLAIM_CLOSED },
	};
	for (int f = 0; f < CLAIM_STATUS_COUNT; f++)
		for (int t = 0; t < CLAIM_STATUS_COUNT; t++) {
			bool want = false;
			for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
				want |= allowed[i].from == (enum claim_status)f && allowed[i].to == (enum claim_status)t;
			if (claim_transition_allowed((enum claim_status)f, (enum claim_status)t) != want)
				fail_msg("%s -> %s: got %d, want %d", claim_status_name((enum claim_status)f),
					 claim_status_name((enum claim_status)t), !want, want);
		}
	/* by name, the ones a desk might try */
	assert_false(claim_transition_allowed(CLAIM_FILED, CLAIM_APPROVED));  /* assess first */
	assert_false(claim_transition_allowed(CLAIM_APPROVED, CLAIM_REFUSED)); /* decided */
	assert_false(claim_transition_allowed(CLAIM_CLOSED, CLAIM_FILED));
	assert_false(claim_transition_allowed(CLAIM_PAID, CLAIM_PAID));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_open_and_awaiting),
		cmocka_unit_test(test_transitions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
