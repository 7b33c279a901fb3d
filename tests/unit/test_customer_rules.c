/*
 * Unit tests for daemon/rules/customer_rules.c: the customer rules
 * and the choices documented in docs/customers.md — month arithmetic,
 * months of cooperation, tier classification, the revenue-drop warning,
 * every KPI formula at its boundaries, and the shares as shown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "customer_rules.h"

static struct customer_rules_config defaults(void)
{
	struct customer_rules_config c;
	customer_rules_defaults(&c);
	return c;
}

/* ---- months ---- */

static void test_month_add_crosses_years(void **state)
{
	(void)state;
	assert_int_equal(month_add(202601, -1), 202512); /* January against December */
	assert_int_equal(month_add(202512, 1), 202601);
	assert_int_equal(month_add(202601, -12), 202501); /* same month last year */
	assert_int_equal(month_add(202603, -14), 202501);
	assert_int_equal(month_add(202512, -11), 202501);
	assert_int_equal(month_add(202501, 0), 202501);
	assert_int_equal(month_add(202412, 25), 202701);
	assert_int_equal(month_index(202601) - month_index(202512), 1);
	assert_int_equal(month_from_index(month_index(199912)), 199912);
}

static void test_leap_years(void **state)
{
	(void)state;
	assert_true(year_is_leap(2024));
	assert_false(year_is_leap(2025));
	assert_false(year_is_leap(1900)); /* century */
	assert_true(year_is_leap(2000));  /* 400th year */
	assert_int_equal(month_length_days(202402), 29);
	assert_int_equal(month_length_days(202502), 28);
	assert_int_equal(month_length_days(190002), 28);
	assert_int_equal(month_length_days(200002), 29);
	assert_int_equal(month_length_days(202412), 31);
	assert_int_equal(month_length_days(202404), 30);
	assert_int_equal(month_length_days(202413), 0);
	assert_int_equal(month_last_day(202402), 20240229);
	assert_int_equal(month_last_day(202302), 20230228);
	assert_int_equal(month_first_day(202603), 20260301);
}

static void test_month_valid(void **state)
{
	(void)state;
	assert_true(month_valid(202601));
	assert_true(month_valid(197001));
	assert_false(month_valid(202600));
	assert_false(month_valid(202613));
	assert_false(month_valid(196912));
}

static void test_months_between_counts_whole_months(void **state)
{
	(void)state;
	assert_int_equal(months_between(20250815, 20250914), 0);
	assert_int_equal(months_between(20250815, 20250915), 1); /* the anniversary day counts */
	assert_int_equal(months_between(20250101, 20260101), 12);
	assert_int_equal(months_between(20251231, 20260101), 0);
	/* a month-end start: the shorter month's last day is its anniversary */
	assert_int_equal(months_between(20250131, 20250228), 1);
	assert_int_equal(months_between(20250131, 20250227), 0);
	assert_int_equal(months_between(20240131, 20240229), 1); /* leap February */
	assert_int_equal(months_between(20240131, 20240228), 0);
	assert_int_equal(months_between(20240229, 20250228), 12); /* Feb 29 to a common year */
	assert_int_equal(months_between(20240229, 20250227), 11);
	/* through before start: nothing */
	assert_int_equal(months_between(20260301, 20260101), 0);
	assert_int_equal(months_between(20260101, 20260101), 0);
}

static void test_cooperation_months_by_month_end(void **state)
{
	(void)state;
	/* started on the 1st: its first month counts */
	assert_int_equal(cooperation_months(20250801, 202601), 6);
	/* started on the 2nd: August is not a whole month */
	assert_int_equal(cooperation_months(20250802, 202601), 5);
	assert_int_equal(cooperation_months(20250731, 202601), 6);
	assert_int_equal(cooperation_months(20251201, 202601), 2);
	assert_int_equal(cooperation_months(20260115, 202601), 0);
	assert_int_equal(cooperation_months(20260201, 202601), 0); /* starts after the month */
	/* December's month end runs into January of the next year */
	assert_int_equal(cooperation_months(20250701, 202512), 6);
	/* February of a leap year */
	assert_int_equal(cooperation_months(20230901, 202402), 6);
	assert_int_equal(cooperation_months(20240229, 202502), 12);
}

/* ---- tiers ---- */

static enum customer_tier monthly_tier(int64_t sum, int months)
{
	struct customer_rules_config c = defaults();
	struct tier_facts f = { .payment = PAYMENT_MONTHLY, .months = months, .revenue_fen = sum };
	struct tier_result r;
	customer_tier_classify(&c, &f, &r);
	return r.tier;
}

static void test_tier_thresholds_are_met_exactly_at_them(void **state)
{
	(void)state;
	/* three months averaged; 200,000 / 50,000 / 10,000 yuan a month */
	assert_int_equal(monthly_tier(3 * INT64_C(20000000), 3), TIER_KEY);
	assert_int_equal(monthly_tier(3 * INT64_C(20000000) - 1, 3), TIER_LOCAL_MAJOR);
	assert_int_equal(monthly_tier(3 * INT64_C(5000000), 3), TIER_LOCAL_MAJOR);
	assert_int_equal(monthly_tier(3 * INT64_C(5000000) - 1, 3), TIER_MEDIUM_MONTHLY);
	assert_int_equal(monthly_tier(3 * INT64_C(1000000), 3), TIER_MEDIUM_MONTHLY);
	assert_int_equal(monthly_tier(3 * INT64_C(1000000) - 1, 3), TIER_REGULAR_MONTHLY);
	assert_int_equal(monthly_tier(0, 3), TIER_REGULAR_MONTHLY);
	/* no rounding: 2,999,999 over 3 months is below 10,000 yuan although
	 * its average rounds to it */
	assert_int_equal(monthly_tier(2999999, 3), TIER_REGULAR_MONTHLY);
}

static void test_tier_of_a_new_customer_averages_its_own_months(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	assert_int_equal(tier_average_months(&c, 0), 1);
	assert_int_equal(tier_average_months(&c, 1), 1);
	assert_int_equal(tier_average_months(&c, 2), 2);
	assert_int_equal(tier_average_months(&c, 3), 3);
	assert_int_equal(tier_average_months(&c, 40), 3);
	/* one month of 200,000 yuan is a key account's average */
	assert_int_equal(monthly_tier(INT64_C(20000000), 1), TIER_KEY);
	assert_int_equal(monthly_tier(INT64_C(20000000), 2), TIER_LOCAL_MAJOR);
	/* months 0 is taken as 1, never a division by zero */
	assert_int_equal(monthly_tier(INT64_C(20000000), 0), TIER_KEY);
}

static void test_tier_average_is_shown_rounded_down(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct tier_facts f = { .payment = PAYMENT_MONTHLY, .months = 3, .revenue_fen = 100 };
	struct tier_result r;
	customer_tier_classify(&c, &f, &r);
	assert_int_equal(r.average_fen, 33);
}

static enum customer_tier cash_tier(int64_t waybills, int64_t declared, int64_t revenue)
{
	struct customer_rules_config c = defaults();
	struct tier_facts f = { .payment = PAYMENT_CASH, .months = 3, .revenue_fen = revenue,
	                        .waybills = waybills, .declared_fen = declared };
	struct tier_result r;
	customer_tier_classify(&c, &f, &r);
	return r.tier;
}

static void test_high_end_individual(void **state)
{
	(void)state;
	assert_int_equal(cash_tier(20, 0, 0), TIER_HIGH_END_INDIVIDUAL);
	assert_int_equal(cash_tier(19, 0, 0), TIER_CASH);
	assert_int_equal(cash_tier(0, INT64_C(5000000), 0), TIER_HIGH_END_INDIVIDUAL);
	assert_int_equal(cash_tier(19, INT64_C(4999999), 0), TIER_CASH);
	/* a cash customer never becomes an account tier by revenue */
	assert_int_equal(cash_tier(1, 0, INT64_C(900000000)), TIER_CASH);
}

static void test_service_levels(void **state)
{
	(void)state;
	assert_int_equal(customer_tier_service_level(TIER_KEY), SERVICE_CUSTOMISED);
	assert_int_equal(customer_tier_service_level(TIER_LOCAL_MAJOR), SERVICE_EXCLUSIVE);
	assert_int_equal(customer_tier_service_level(TIER_MEDIUM_MONTHLY), SERVICE_VALUE_ADDED);
	assert_int_equal(customer_tier_service_level(TIER_REGULAR_MONTHLY), SERVICE_BASIC);
	assert_int_equal(customer_tier_service_level(TIER_CASH), SERVICE_BASIC);
	assert_int_equal(customer_tier_service_level(TIER_HIGH_END_INDIVIDUAL), SERVICE_BASIC);
	assert_string_equal(service_level_name(SERVICE_VALUE_ADDED), "value_added");
	assert_string_equal(service_level_name(SERVICE_CUSTOMISED), "customised");
	/* the one list of service levels, in order (complaints and queries use it) */
	static const char *const names[] = { "basic", "value_added", "exclusive", "customised" };
	for (int i = 0; i < SERVICE_LEVEL_COUNT; i++) {
		assert_string_equal(service_level_name((enum service_level)i), names[i]);
		assert_int_equal(service_level_parse(names[i]), i);
	}
	assert_int_equal(service_level_parse("customized"), -1);
	assert_null(service_level_name(SERVICE_LEVEL_COUNT));
}

static void test_wire_names_round_trip(void **state)
{
	(void)state;
	static const char *const tiers[] = { "key", "local_major", "medium_monthly", "regular_monthly", "cash",
	                                     "high_end_individual" };
	for (int i = 0; i < TIER_COUNT; i++) {
		assert_string_equal(customer_tier_name((enum customer_tier)i), tiers[i]);
		assert_int_equal(customer_tier_parse(tiers[i]), i);
	}
	assert_int_equal(customer_tier_parse("Key"), -1);
	assert_int_equal(customer_tier_parse(NULL), -1);
	assert_null(customer_tier_name(TIER_COUNT));
	assert_int_equal(customer_payment_parse("monthly"), PAYMENT_MONTHLY);
	assert_int_equal(customer_payment_parse("cash"), PAYMENT_CASH);
	assert_int_equal(customer_payment_parse("cod"), -1);
	assert_string_equal(kpi_name(KPI_DAMAGE_RATE), "damage_rate");
}

static void test_config_validation(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	const char *why = "unset";
	assert_int_equal(customer_rules_validate(&c, &why), 0);
	assert_null(why);
	c.tier_local_major_fen = c.tier_key_fen;
	assert_int_equal(customer_rules_validate(&c, &why), -1);
	assert_non_null(why);
	c = defaults();
	c.tier_window_months = 0;
	assert_int_equal(customer_rules_validate(&c, &why), -1);
	c = defaults();
	c.warning_drop_bp = 10001;
	assert_int_equal(customer_rules_validate(&c, &why), -1);
	c = defaults();
	c.kpi_damage_rate_max_bp = 10001;
	assert_int_equal(customer_rules_validate(&c, &why), -1);
}

/* ---- warnings ---- */

static struct revenue_drop drop_of(int cooperation, int64_t now, int64_t last_year, bool explained)
{
	struct customer_rules_config c = defaults();
	struct revenue_drop d;
	customer_revenue_drop(&c, cooperation, now, last_year, explained, &d);
	return d;
}

static void test_warning_at_exactly_six_months_and_twenty_percent(void **state)
{
	(void)state;
	struct revenue_drop d = drop_of(6, 8000, 10000, false);
	assert_true(d.raise);
	assert_int_equal(d.drop_bp, 2000);
	assert_null(d.why_not);
}

static void test_no_warning_below_six_months(void **state)
{
	(void)state;
	struct revenue_drop d = drop_of(5, 0, 10000, false);
	assert_false(d.raise);
	assert_int_equal(d.drop_bp, 10000); /* the figure is still shown */
	assert_string_equal(d.why_not, "too few months of cooperation");
}

static void test_no_warning_just_under_twenty_percent(void **state)
{
	(void)state;
	struct revenue_drop d = drop_of(12, 8001, 10000, false);
	assert_false(d.raise);
	assert_int_equal(d.drop_bp, 1999);
	/* a fraction of a basis point under the line does not raise either */
	d = drop_of(12, 800001, 1000000, false);
	assert_false(d.raise);
	assert_int_equal(d.drop_bp, 1999);
	d = drop_of(12, 800000, 1000000, false);
	assert_true(d.raise);
}

static void test_no_warning_for_an_explained_month(void **state)
{
	(void)state;
	struct revenue_drop d = drop_of(24, 1000, 10000, true);
	assert_false(d.raise);
	assert_string_equal(d.why_not, "staff marked the month explained");
}

static void test_no_warning_for_a_new_customer(void **state)
{
	(void)state;
	/* no revenue a year ago: nothing to fall from */
	struct revenue_drop d = drop_of(24, 0, 0, false);
	assert_false(d.raise);
	assert_int_equal(d.drop_bp, 0);
	/* and a customer with no cooperation yet */
	d = drop_of(0, 0, 10000, false);
	assert_false(d.raise);
}

static void test_no_warning_when_revenue_grew(void **state)
{
	(void)state;
	struct revenue_drop d = drop_of(24, 12000, 10000, false);
	assert_false(d.raise);
	assert_int_equal(d.drop_bp, 0);
	d = drop_of(24, 10000, 10000, false);
	assert_false(d.raise);
}

static void test_warning_for_a_month_without_revenue(void **state)
{
	(void)state;
	struct revenue_drop d = drop_of(24, 0, 10000, false);
	assert_true(d.raise);
	assert_int_equal(d.drop_bp, 10000);
}

static void test_warning_thresholds_from_config(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	c.warning_min_months = 12;
	c.warning_drop_bp = 3000;
	struct revenue_drop d;
	customer_revenue_drop(&c, 11, 0, 100, false, &d);
	assert_false(d.raise);
	customer_revenue_drop(&c, 12, 71, 100, false, &d);
	assert_false(d.raise);
	customer_revenue_drop(&c, 12, 70, 100, false, &d);
	assert_true(d.raise);
}

static void test_warning_with_huge_figures_does_not_overflow(void **state)
{
	(void)state;
	int64_t year = INT64_C(900000000000000000); /* 9e17 fen */
	struct revenue_drop d = drop_of(24, year / 10 * 8, year, false);
	assert_true(d.raise);
	assert_int_equal(d.drop_bp, 2000);
}

/* ---- KPIs ---- */

static void test_kpi_on_time_handling(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct kpi_result r;
	/* 50 external queries, 50 complaints, one complaint late: 99 % met */
	kpi_on_time_handling(&c, 50, 0, 50, 1, &r);
	assert_int_equal(r.numerator, 99);
	assert_int_equal(r.denominator, 100);
	assert_int_equal(r.value_bp, 9900);
	assert_int_equal(r.target_bp, 9900);
	assert_false(r.at_most);
	assert_true(r.met);
	kpi_on_time_handling(&c, 50, 1, 50, 1, &r);
	assert_int_equal(r.numerator, 98);
	assert_int_equal(r.value_bp, 9800);
	assert_false(r.met);
	/* late counts above their totals cannot go negative */
	kpi_on_time_handling(&c, 1, 5, 0, 0, &r);
	assert_int_equal(r.numerator, 0);
	assert_int_equal(r.denominator, 1);
}

static void test_kpi_value_is_rounded_toward_failing(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct kpi_result r;
	/* 98.995 %: shown 98.99, not met (rounding half up would show 99.00) */
	kpi_on_time_delivery(&c, 20000, 19799, &r);
	assert_int_equal(r.value_bp, 9899);
	assert_false(r.met);
	/* 0.1001 % damage: shown 0.11, not met */
	kpi_damage_rate(&c, 999, 1, &r);
	assert_int_equal(r.value_bp, 11);
	assert_false(r.met);
}

static void test_kpi_satisfaction(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct kpi_result r;
	assert_string_equal(kpi_name(KPI_SATISFACTION), "satisfaction");
	/* readings 4, 4, 4, 4: 16 of 20 points, exactly the 80 % target */
	kpi_satisfaction(&c, 16, 20, &r);
	assert_true(r.met);
	assert_int_equal(r.value_bp, 8000);
	/* 4, 4, 4, 3: 15 of 20 */
	kpi_satisfaction(&c, 15, 20, &r);
	assert_false(r.met);
	assert_int_equal(r.value_bp, 7500);
	/* no readings: nothing failed */
	kpi_satisfaction(&c, 0, 0, &r);
	assert_true(r.no_data);
	assert_true(r.met);
}

static void test_kpi_on_time_delivery(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct kpi_result r;
	kpi_on_time_delivery(&c, 100, 99, &r);
	assert_true(r.met);
	assert_int_equal(r.value_bp, 9900);
	kpi_on_time_delivery(&c, 100, 98, &r);
	assert_false(r.met);
	kpi_on_time_delivery(&c, 100, 100, &r);
	assert_int_equal(r.value_bp, 10000);
	assert_true(r.met);
}

static void test_kpi_without_complaint(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct kpi_result r;
	kpi_without_complaint(&c, 100, 2, &r);
	assert_int_equal(r.numerator, 98);
	assert_int_equal(r.value_bp, 9800);
	assert_true(r.met);
	kpi_without_complaint(&c, 100, 3, &r);
	assert_false(r.met);
	kpi_without_complaint(&c, 5, 9, &r); /* counters out of step */
	assert_int_equal(r.numerator, 0);
	assert_false(r.met);
}

static void test_kpi_damage_rate_is_at_most(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct kpi_result r;
	kpi_damage_rate(&c, 1000, 1, &r); /* exactly 0.1 % */
	assert_true(r.at_most);
	assert_int_equal(r.value_bp, 10);
	assert_true(r.met);
	kpi_damage_rate(&c, 1000, 2, &r);
	assert_int_equal(r.value_bp, 20);
	assert_false(r.met);
	kpi_damage_rate(&c, 1000, 0, &r);
	assert_int_equal(r.value_bp, 0);
	assert_true(r.met);
	kpi_damage_rate(&c, 3, 1, &r); /* 33.33.. % rounds up */
	assert_int_equal(r.value_bp, 3334);
}

static void test_kpi_delivery_accuracy(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct kpi_result r;
	kpi_delivery_accuracy(&c, 100, 2, &r);
	assert_int_equal(r.numerator, 98);
	assert_true(r.met);
	kpi_delivery_accuracy(&c, 100, 3, &r);
	assert_int_equal(r.value_bp, 9700);
	assert_false(r.met);
}

static void test_kpi_without_data_is_met_and_marked(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	struct kpi_result r;
	kpi_on_time_delivery(&c, 0, 0, &r);
	assert_true(r.no_data);
	assert_true(r.met);
	assert_int_equal(r.value_bp, 0);
	kpi_damage_rate(&c, 0, 0, &r);
	assert_true(r.no_data);
	assert_true(r.met);
}

static void test_kpi_targets_from_config(void **state)
{
	(void)state;
	struct customer_rules_config c = defaults();
	c.kpi_on_time_delivery_bp = 10000;
	struct kpi_result r;
	kpi_on_time_delivery(&c, 1000, 999, &r);
	assert_false(r.met);
	c.kpi_damage_rate_max_bp = 0;
	kpi_damage_rate(&c, 1000, 1, &r);
	assert_false(r.met);
	kpi_damage_rate(&c, 1000, 0, &r);
	assert_true(r.met);
}

/* ---- shares as text ---- */

static void test_formats(void **state)
{
	(void)state;
	char buf[32];
	bp_format(9850, buf, sizeof(buf));
	assert_string_equal(buf, "98.50");
	bp_format(5, buf, sizeof(buf));
	assert_string_equal(buf, "0.05");
	bp_format(10000, buf, sizeof(buf));
	assert_string_equal(buf, "100.00");
	bp_format(-2000, buf, sizeof(buf));
	assert_string_equal(buf, "-20.00");
	assert_int_equal(share_bp(1, 3), 3333);
	assert_int_equal(share_bp(2, 3), 6667); /* half up */
	assert_int_equal(share_bp(1, 0), 0);
	/* a share of a tiny base passes int64: the largest, not a wrapped sign */
	assert_true(share_bp(INT64_C(1000000000000000), 1) == INT64_MAX);
	assert_true(share_bp(-INT64_C(1000000000000000), 1) == -INT64_MAX);
	change_format(INT64_C(1000000000000000), 1, buf, sizeof(buf));
	assert_string_equal(buf, "+92233720368547758.07");
	change_format(80, 100, buf, sizeof(buf));
	assert_string_equal(buf, "-20.00");
	change_format(120, 100, buf, sizeof(buf));
	assert_string_equal(buf, "+20.00");
	change_format(100, 100, buf, sizeof(buf));
	assert_string_equal(buf, "0.00");
	change_format(5, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	change_format(300, 100, buf, sizeof(buf));
	assert_string_equal(buf, "+200.00");
}

static void test_principles(void **state)
{
	(void)state;
	assert_string_equal(WARNING_PRINCIPLES[0], "sincere communication");
	assert_string_equal(WARNING_PRINCIPLES[4], "authoritative confirmation");
}

static void test_trial_end_day(void **state)
{
	(void)state;
	assert_int_equal(trial_end_day(20260115, 3), 20260415);
	assert_int_equal(trial_end_day(20261130, 3), 20270228);   /* a shorter month: its last day */
	assert_int_equal(trial_end_day(20271130, 3), 20280229);   /* leap year */
	assert_int_equal(trial_end_day(20261015, 3), 20270115);   /* across the year */
	assert_int_equal(trial_end_day(20260131, 1), 20260228);
	/* the trial is exactly that many whole months */
	assert_int_equal(months_between(20261130, trial_end_day(20261130, 3)), 3);
	assert_int_equal(months_between(20261130, trial_end_day(20261130, 3) - 1), 2);
}

static void test_birthday_parse(void **state)
{
	(void)state;
	int m = 0, d = 0;
	assert_int_equal(birthday_parse("03-15", &m, &d), 0);
	assert_int_equal(m * 100 + d, 315);
	assert_int_equal(birthday_parse("1984-11-02", &m, &d), 0);
	assert_int_equal(m * 100 + d, 1102);
	assert_int_equal(birthday_parse("02-29", &m, &d), 0);      /* some are born on it */
	assert_int_equal(birthday_parse("1988-02-29", &m, &d), 0); /* a leap year */
	assert_int_equal(birthday_parse("1989-02-29", &m, &d), -1);
	assert_int_equal(birthday_parse("02-30", &m, &d), -1);
	assert_int_equal(birthday_parse("13-01", &m, &d), -1);
	assert_int_equal(birthday_parse("04-31", &m, &d), -1);
	assert_int_equal(birthday_parse("03-15x", &m, &d), -1);
	assert_int_equal(birthday_parse("1984-11", &m, &d), -1);
	assert_int_equal(birthday_parse("", &m, &d), -1);
	assert_int_equal(birthday_parse(NULL, &m, &d), -1);
}

static void test_birthday_next_and_feb_29(void **state)
{
	(void)state;
	assert_int_equal(birthday_next(3, 15, 20260301), 20260315);
	assert_int_equal(birthday_next(3, 15, 20260315), 20260315); /* today is the day */
	assert_int_equal(birthday_next(3, 15, 20260316), 20270315); /* passed: next year */
	assert_int_equal(birthday_next(1, 1, 20261231), 20270101);
	/* Feb 29: the 28th in a common year, the 29th in a leap year */
	assert_int_equal(birthday_next(2, 29, 20260101), 20260228);
	assert_int_equal(birthday_next(2, 29, 20260301), 20270228);
	assert_int_equal(birthday_next(2, 29, 20270301), 20280229);
	assert_int_equal(birthday_next(2, 29, 20280229), 20280229);
	assert_int_equal(birthday_next(2, 29, 20990301), 21000228); /* 2100 is not leap */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_month_add_crosses_years),
		cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_trial_end_day),
		cmocka_unit_test(test_birthday_parse),
		cmocka_unit_test(test_birthday_next_and_feb_29),
		cmocka_unit_test(test_month_valid),
		cmocka_unit_test(test_months_between_counts_whole_months),
		cmocka_unit_test(test_cooperation_months_by_month_end),
		cmocka_unit_test(test_tier_thresholds_are_met_exactly_at_them),
		cmocka_unit_test(test_tier_of_a_new_customer_averages_its_own_months),
		cmocka_unit_test(test_tier_average_is_shown_rounded_down),
		cmocka_unit_test(test_high_end_individual),
		cmocka_unit_test(test_service_levels),
		cmocka_unit_test(test_wire_names_round_trip),
		cmocka_unit_test(test_config_validation),
		cmocka_unit_test(test_warning_at_exactly_six_months_and_twenty_percent),
		cmocka_unit_test(test_no_warning_below_six_months),
		cmocka_unit_test(test_no_warning_just_under_twenty_percent),
		cmocka_unit_test(test_no_warning_for_an_explained_month),
		cmocka_unit_test(test_no_warning_for_a_new_customer),
		cmocka_unit_test(test_no_warning_when_revenue_grew),
		cmocka_unit_test(test_warning_for_a_month_without_revenue),
		cmocka_unit_test(test_warning_thresholds_from_config),
		cmocka_unit_test(test_warning_with_huge_figures_does_not_overflow),
		cmocka_unit_test(test_kpi_on_time_handling),
		cmocka_unit_test(test_kpi_value_is_rounded_toward_failing),
		cmocka_unit_test(test_kpi_satisfaction),
		cmocka_unit_test(test_kpi_on_time_delivery),
		cmocka_unit_test(test_kpi_without_complaint),
		cmocka_unit_test(test_kpi_damage_rate_is_at_most),
		cmocka_unit_test(test_kpi_delivery_accuracy),
		cmocka_unit_test(test_kpi_without_data_is_met_and_marked),
		cmocka_unit_test(test_kpi_targets_from_config),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_principles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
