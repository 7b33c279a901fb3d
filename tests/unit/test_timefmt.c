/* test_timefmt.c — ISO 8601 parsing and the cached, libc-free formatting,
 * checked against localtime_r() in zones with and without DST. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

static void set_zone(const char *zone)
{
	setenv("TZ", zone, 1);
	tzset();
	pd_time_zone_changed();
}

/* The reference: what localtime_r and strftime say. */
static void reference(int64_t utc, char *buf, size_t cap, int *day)
{
	time_t t = (time_t)utc;
	struct tm tm;
	localtime_r(&t, &tm);
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 3600,
		 (off % 3600) / 60);
	*day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static void check_zone(const char *zone)
{
	set_zone(zone);
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* 1970 .. 2100, with a bias to seconds around whole hours */
		/* 1970-01-02 on: dates before 1970 are refused as input */
		int64_t utc = 86400 + (int64_t)(x % 4102358400ULL);
		if (i % 3 == 0)
			utc = utc / 3600 * 3600 + (int64_t)(x % 3) - 1;
		char want[64], got[PD_TIME_BUF];
		int want_day;
		reference(utc, want, sizeof(want), &want_day);
		pd_time_format(utc, got);
		if (strcmp(want, got) != 0)
			fail_msg("%s: %lld formats as %s, localtime says %s", zone, (long long)utc, got, want);
		assert_int_equal(pd_local_day(utc), want_day);
		int64_t back;
		assert_int_equal(pd_time_parse(got, &back), 0);
		assert_int_equal(back, utc);
	}
}

static void test_format_shanghai(void **state) { (void)state; check_zone("Asia/Shanghai"); }
static void test_format_new_york_dst(void **state) { (void)state; check_zone("America/New_York"); }
static void test_format_utc(void **state) { (void)state; check_zone("UTC"); }
static void test_format_half_hour_zone(void **state) { (void)state; check_zone("Asia/Kolkata"); }

static void test_parse_forms(void **state)
{
	(void)state;
	set_zone("Asia/Shanghai");
	int64_t a, b, c, d;
	assert_int_equal(pd_time_parse("2026-11-24T09:30:00+08:00", &a), 0);
	assert_int_equal(pd_time_parse("2026-11-24T01:30:00Z", &b), 0);
	assert_int_equal(pd_time_parse("2026-11-24T09:30+0800", &c), 0);
	assert_int_equal(pd_time_parse("2026-11-24T09:30:00", &d), 0); /* the depot's zone */
	assert_int_equal(a, b);
	assert_int_equal(a, c);
	assert_int_equal(a, d);
	static const char *const bad[] = {
		"2026-02-30T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24 09:30:00Z",
		"2026-11-24T09:60Z", "2026-11-24T09:30:00+15:00", "2026-11-24T09:30:00+08:0",
		"2026-11-24T09:30:00X", "", "2026-13-01T00:00Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pd_time_parse(bad[i], &a) == 0)
			fail_msg("accepted %s", bad[i]);
}

static void test_dates_and_months(void **state)
{
	(void)state;
	int y, m, d;
	assert_int_equal(pd_date_parse("2028-02-29", &y, &m, &d), 0);
	assert_int_not_equal(pd_date_parse("2026-02-29", &y, &m, &d), 0);
	assert_int_not_equal(pd_date_parse("2100-02-29", &y, &m, &d), 0);
	assert_int_equal(pd_date_parse("2000-02-29", &y, &m, &d), 0);
	assert_int_not_equal(pd_date_parse("1969-12-31", &y, &m, &d), 0);
	assert_int_equal(pd_month_parse("2026-12", &y, &m), 0);
	assert_int_not_equal(pd_month_parse("2026-13", &y, &m), 0);
	assert_int_not_equal(pd_month_parse("2026-1", &y, &m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_shanghai),
		cmocka_unit_test(test_format_new_york_dst),
		cmocka_unit_test(test_format_utc),
		cmocka_unit_test(test_format_half_hour_zone),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_dates_and_months),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
