/*
 * Unit tests for daemon/bizcal.c.  Expected instants are built with timegm(),
 * an implementation independent of the module's own date arithmetic, and the
 * random tests compare against a minute-by-minute brute-force oracle.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* timegm, gmtime_r */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bizcal.h"

#define PLUS_8 (8 * 3600)
#define MINUS_5 (-5 * 3600)

/* UTC seconds of a local wall-clock time in a zone of the given offset. */
static int64_t local_time(int year, int month, int day, int hour, int minute, int second, int32_t offset)
{
	struct tm tm = {0};
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	return (int64_t)timegm(&tm) - offset;
}

static struct bizcal_day day_hours(const char *text)
{
	struct bizcal_day hours;
	assert_int_equal(bizcal_parse_day(text, &hours), BIZCAL_OK);
	return hours;
}

/* Mon-Fri with the given hours, weekend closed, at the given offset, no holidays. */
static struct bizcal weekday_calendar(const char *hours, int32_t offset)
{
	struct bizcal cal;
	memset(&cal, 0, sizeof cal);
	for (int weekday = BIZCAL_MONDAY; weekday <= BIZCAL_FRIDAY; weekday++)
		cal.week[weekday] = day_hours(hours);
	cal.utc_offset_secs = offset;
	return cal;
}

static struct bizcal office_calendar(int32_t offset)
{
	return weekday_calendar("09:00-18:00", offset);
}

static int64_t add_minutes(const struct bizcal *cal, int64_t start, int64_t minutes)
{
	int64_t due = -1;
	assert_int_equal(bizcal_add_minutes(cal, start, minutes, &due), BIZCAL_OK);
	return due;
}

static int64_t minutes_between(const struct bizcal *cal, int64_t from, int64_t to)
{
	int64_t minutes = -1;
	assert_int_equal(bizcal_minutes_between(cal, from, to, &minutes), BIZCAL_OK);
	return minutes;
}

/* ---- add: the basic cases ---- */

static void test_friday_1750_plus_60_is_monday_0950(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t friday = local_time(2026, 3, 6, 17, 50, 0, PLUS_8);
	assert_int_equal(add_minutes(&cal, friday, 60), local_time(2026, 3, 9, 9, 50, 0, PLUS_8));
}

static void test_seconds_of_the_start_are_kept(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t friday = local_time(2026, 3, 6, 17, 50, 30, PLUS_8);
	assert_int_equal(add_minutes(&cal, friday, 60), local_time(2026, 3, 9, 9, 50, 30, PLUS_8));
	int64_t due;
	assert_int_equal(bizcal_add_seconds(&cal, friday, 29, &due), BIZCAL_OK);
	assert_int_equal(due, local_time(2026, 3, 6, 17, 50, 59, PLUS_8));
}

static void test_due_exactly_at_closing_is_closing_time(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t friday = local_time(2026, 3, 6, 17, 0, 0, PLUS_8);
	assert_int_equal(add_minutes(&cal, friday, 60), local_time(2026, 3, 6, 18, 0, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, friday, 61), local_time(2026, 3, 9, 9, 1, 0, PLUS_8));
}

static void test_start_outside_hours_waits_for_opening(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 4, 7, 0, 0, PLUS_8), 30),
	                 local_time(2026, 3, 4, 9, 30, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 4, 20, 0, 0, PLUS_8), 30),
	                 local_time(2026, 3, 5, 9, 30, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 7, 10, 0, 0, PLUS_8), 30),
	                 local_time(2026, 3, 9, 9, 30, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 6, 18, 0, 0, PLUS_8), 1),
	                 local_time(2026, 3, 9, 9, 1, 0, PLUS_8));
}

static void test_lunch_break_is_skipped(void **state)
{
	(void)state;
	struct bizcal cal = weekday_calendar("09:00-12:00,13:30-18:00", PLUS_8);
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 4, 11, 30, 0, PLUS_8), 60),
	                 local_time(2026, 3, 4, 14, 0, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 4, 11, 30, 0, PLUS_8), 30),
	                 local_time(2026, 3, 4, 12, 0, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 4, 12, 30, 0, PLUS_8), 1),
	                 local_time(2026, 3, 4, 13, 31, 0, PLUS_8));
}

static void test_zero_minutes_is_the_start(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t sunday_night = local_time(2026, 3, 8, 23, 0, 0, PLUS_8);
	assert_int_equal(add_minutes(&cal, sunday_night, 0), sunday_night);
}

static void test_night_shift_split_over_midnight(void **state)
{
	(void)state;
	struct bizcal cal;
	memset(&cal, 0, sizeof cal);
	cal.week[BIZCAL_MONDAY] = day_hours("22:00-24:00");
	cal.week[BIZCAL_TUESDAY] = day_hours("00:00-06:00");
	cal.utc_offset_secs = PLUS_8;
	assert_int_equal(bizcal_validate(&cal, NULL, 0), BIZCAL_OK);
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 9, 23, 30, 0, PLUS_8), 60),
	                 local_time(2026, 3, 10, 0, 30, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 9, 23, 30, 0, PLUS_8), 30),
	                 local_time(2026, 3, 10, 0, 0, 0, PLUS_8));
}

static void test_round_the_clock_calendar_is_wall_time(void **state)
{
	(void)state;
	struct bizcal cal;
	memset(&cal, 0, sizeof cal);
	for (int weekday = 0; weekday < BIZCAL_WEEKDAY_COUNT; weekday++)
		cal.week[weekday] = day_hours("00:00-24:00");
	cal.utc_offset_secs = MINUS_5;
	int64_t start = local_time(2026, 12, 31, 23, 59, 7, MINUS_5);
	assert_int_equal(add_minutes(&cal, start, 2), start + 120);
	assert_int_equal(add_minutes(&cal, start, 60 * 24 * 400), start + INT64_C(60) * 60 * 24 * 400);
	assert_int_equal(minutes_between(&cal, start, start + 86400 * 10), 60 * 24 * 10);
}

/* ---- add: month end, year end, leap day, offsets ---- */

static void test_month_end(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	assert_int_equal(add_minutes(&cal, local_time(2026, 7, 31, 17, 0, 0, PLUS_8), 120),
	                 local_time(2026, 8, 3, 10, 0, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2026, 4, 30, 17, 59, 0, PLUS_8), 2),
	                 local_time(2026, 5, 1, 9, 1, 0, PLUS_8));
}

static void test_year_end_with_new_year_holiday(void **state)
{
	(void)state;
	static const int32_t holidays[] = {20270101};
	struct bizcal cal = office_calendar(PLUS_8);
	cal.holidays = holidays;
	cal.holiday_count = 1;
	assert_int_equal(bizcal_validate(&cal, NULL, 0), BIZCAL_OK);
	assert_int_equal(add_minutes(&cal, local_time(2026, 12, 31, 17, 0, 0, PLUS_8), 120),
	                 local_time(2027, 1, 4, 10, 0, 0, PLUS_8));
	cal.holiday_count = 0;
	assert_int_equal(add_minutes(&cal, local_time(2026, 12, 31, 17, 0, 0, PLUS_8), 120),
	                 local_time(2027, 1, 1, 10, 0, 0, PLUS_8));
}

static void test_leap_day(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	assert_int_equal(add_minutes(&cal, local_time(2028, 2, 28, 17, 30, 0, PLUS_8), 60),
	                 local_time(2028, 2, 29, 9, 30, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2028, 2, 29, 17, 30, 0, PLUS_8), 60),
	                 local_time(2028, 3, 1, 9, 30, 0, PLUS_8));
	/* 2027 has no 29 February: Friday 26th -> Monday 1 March. */
	assert_int_equal(add_minutes(&cal, local_time(2027, 2, 26, 17, 30, 0, PLUS_8), 60),
	                 local_time(2027, 3, 1, 9, 30, 0, PLUS_8));
	static const int32_t leap_holiday[] = {20280229};
	cal.holidays = leap_holiday;
	cal.holiday_count = 1;
	assert_int_equal(bizcal_validate(&cal, NULL, 0), BIZCAL_OK);
	assert_int_equal(add_minutes(&cal, local_time(2028, 2, 28, 17, 30, 0, PLUS_8), 60),
	                 local_time(2028, 3, 1, 9, 30, 0, PLUS_8));
}

static void test_negative_offset(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(MINUS_5);
	int64_t friday = local_time(2026, 3, 6, 17, 50, 0, MINUS_5);
	int64_t due = add_minutes(&cal, friday, 60);
	assert_int_equal(due, local_time(2026, 3, 9, 9, 50, 0, MINUS_5));
	/* Monday 09:50 at -05:00 is 14:50 UTC. */
	assert_int_equal(due, local_time(2026, 3, 9, 14, 50, 0, 0));
	/* Year end at -05:00: local 31 Dec 17:30 is already 1 Jan in UTC. */
	assert_int_equal(add_minutes(&cal, local_time(2026, 12, 31, 17, 30, 0, MINUS_5), 60),
	                 local_time(2027, 1, 1, 9, 30, 0, MINUS_5));
}

static void test_offset_decides_the_local_day(void **state)
{
	(void)state;
	/* 2026-03-06T01:00Z is Friday 09:00 at +08:00 but Thursday 20:00 at -05:00. */
	int64_t instant = local_time(2026, 3, 6, 1, 0, 0, 0);
	struct bizcal east = office_calendar(PLUS_8);
	struct bizcal west = office_calendar(MINUS_5);
	assert_int_equal(add_minutes(&east, instant, 30), local_time(2026, 3, 6, 9, 30, 0, PLUS_8));
	assert_int_equal(add_minutes(&west, instant, 30), local_time(2026, 3, 6, 9, 30, 0, MINUS_5));
	struct bizcal utc = office_calendar(0);
	assert_int_equal(add_minutes(&utc, instant, 30), local_time(2026, 3, 6, 9, 30, 0, 0));
}

/* ---- holidays and make-up days ---- */

/* A National Day week: 1-7 October 2026 off (Thursday to Wednesday), Saturday 10 October worked. */
static const int32_t NATIONAL_DAY[] = {20261001, 20261002, 20261003, 20261004, 20261005, 20261006, 20261007};

static struct bizcal national_day_calendar(struct bizcal_makeup_day *makeup)
{
	struct bizcal cal = office_calendar(PLUS_8);
	cal.holidays = NATIONAL_DAY;
	cal.holiday_count = sizeof NATIONAL_DAY / sizeof NATIONAL_DAY[0];
	makeup->date = 20261010;
	makeup->hours = cal.week[BIZCAL_MONDAY];
	cal.makeup_days = makeup;
	cal.makeup_day_count = 1;
	assert_int_equal(bizcal_validate(&cal, NULL, 0), BIZCAL_OK);
	return cal;
}

static void test_holidays_are_skipped(void **state)
{
	(void)state;
	struct bizcal_makeup_day makeup;
	struct bizcal cal = national_day_calendar(&makeup);
	assert_int_equal(add_minutes(&cal, local_time(2026, 9, 30, 17, 0, 0, PLUS_8), 120),
	                 local_time(2026, 10, 8, 10, 0, 0, PLUS_8));
	/* Starting inside the holidays waits for the first working day. */
	assert_int_equal(add_minutes(&cal, local_time(2026, 10, 3, 11, 0, 0, PLUS_8), 1),
	                 local_time(2026, 10, 8, 9, 1, 0, PLUS_8));
}

static void test_makeup_saturday_works(void **state)
{
	(void)state;
	struct bizcal_makeup_day makeup;
	struct bizcal cal = national_day_calendar(&makeup);
	assert_int_equal(add_minutes(&cal, local_time(2026, 10, 9, 17, 0, 0, PLUS_8), 120),
	                 local_time(2026, 10, 10, 10, 0, 0, PLUS_8));
	/* The following Sunday is still off. */
	assert_int_equal(add_minutes(&cal, local_time(2026, 10, 10, 17, 0, 0, PLUS_8), 120),
	                 local_time(2026, 10, 12, 10, 0, 0, PLUS_8));
	/* Own hours: a short make-up day. */
	makeup.hours = day_hours("10:00-12:00");
	assert_int_equal(add_minutes(&cal, local_time(2026, 10, 9, 17, 0, 0, PLUS_8), 120),
	                 local_time(2026, 10, 10, 11, 0, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, local_time(2026, 10, 9, 17, 0, 0, PLUS_8), 240),
	                 local_time(2026, 10, 12, 10, 0, 0, PLUS_8));
}

static void test_holiday_on_a_weekend_changes_nothing(void **state)
{
	(void)state;
	static const int32_t saturday[] = {20260307};
	struct bizcal cal = office_calendar(PLUS_8);
	cal.holidays = saturday;
	cal.holiday_count = 1;
	assert_int_equal(add_minutes(&cal, local_time(2026, 3, 6, 17, 50, 0, PLUS_8), 60),
	                 local_time(2026, 3, 9, 9, 50, 0, PLUS_8));
}

/* ---- many minutes: whole weeks skipped ---- */

static void test_a_year_of_minutes_ends_at_closing_time(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	/* 52 full weeks of Mon-Fri 9 h from Monday 5 Jan 2026 end on Friday 1 Jan 2027 at 18:00. */
	int64_t start = local_time(2026, 1, 5, 9, 0, 0, PLUS_8);
	int64_t minutes = INT64_C(52) * 5 * 9 * 60;
	assert_int_equal(add_minutes(&cal, start, minutes), local_time(2027, 1, 1, 18, 0, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, start, minutes + 1), local_time(2027, 1, 4, 9, 1, 0, PLUS_8));
	assert_int_equal(minutes_between(&cal, start, local_time(2027, 1, 1, 18, 0, 0, PLUS_8)), minutes);
	/* From midnight the whole budget is whole weeks: still closing time on the last Friday, not the next Monday. */
	int64_t midnight = local_time(2026, 1, 5, 0, 0, 0, PLUS_8);
	assert_int_equal(add_minutes(&cal, midnight, minutes), local_time(2027, 1, 1, 18, 0, 0, PLUS_8));
	assert_int_equal(add_minutes(&cal, midnight, 5 * 9 * 60), local_time(2026, 1, 9, 18, 0, 0, PLUS_8));
}

static void test_long_clock_over_holidays_is_consistent(void **state)
{
	(void)state;
	struct bizcal_makeup_day makeup;
	struct bizcal cal = national_day_calendar(&makeup);
	int64_t start = local_time(2026, 1, 2, 15, 17, 23, PLUS_8);
	int64_t minutes = 5000000; /* about 35 years */
	int64_t due = add_minutes(&cal, start, minutes);
	assert_int_equal(minutes_between(&cal, start, due), minutes);
	int64_t seconds;
	assert_int_equal(bizcal_seconds_between(&cal, start, due - 1, &seconds), BIZCAL_OK);
	assert_int_equal(seconds, minutes * 60 - 1);
	/* Across 2026 the holidays take five weekdays (1-2 and 5-7 October) and the make-up Saturday gives one back. */
	struct bizcal plain = office_calendar(PLUS_8);
	int64_t year_start = local_time(2026, 1, 1, 0, 0, 0, PLUS_8), year_end = local_time(2027, 1, 1, 0, 0, 0, PLUS_8);
	assert_int_equal(minutes_between(&plain, year_start, year_end) - minutes_between(&cal, year_start, year_end),
	                 (5 - 1) * 9 * 60);
}

static void test_range_errors(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t due = 12345;
	int64_t start = local_time(2026, 3, 6, 17, 50, 0, PLUS_8);
	assert_int_equal(bizcal_add_minutes(&cal, start, -1, &due), BIZCAL_EINVAL);
	assert_int_equal(bizcal_add_seconds(&cal, start, -1, &due), BIZCAL_EINVAL);
	assert_int_equal(bizcal_add_minutes(&cal, start, INT64_MAX, &due), BIZCAL_ERANGE);
	assert_int_equal(bizcal_add_minutes(&cal, start, INT64_MAX / 60, &due), BIZCAL_ERANGE);
	assert_int_equal(bizcal_add_minutes(&cal, -1, 10, &due), BIZCAL_ERANGE);
	assert_int_equal(bizcal_add_minutes(&cal, BIZCAL_MAX_UTC + 1, 10, &due), BIZCAL_ERANGE);
	assert_int_equal(bizcal_add_minutes(&cal, local_time(9999, 12, 31, 17, 0, 0, PLUS_8), 120, &due), BIZCAL_ERANGE);
	assert_int_equal(due, 12345);
	assert_int_equal(bizcal_add_minutes(NULL, start, 10, &due), BIZCAL_EINVAL);
	assert_int_equal(bizcal_add_minutes(&cal, start, 10, NULL), BIZCAL_EINVAL);
	/* A very sparse calendar runs past year 9999 and says so, quickly. */
	struct bizcal sparse;
	memset(&sparse, 0, sizeof sparse);
	sparse.week[BIZCAL_SUNDAY] = day_hours("12:00-12:01");
	assert_int_equal(bizcal_add_minutes(&sparse, start, INT64_C(1000000000), &due), BIZCAL_ERANGE);
	assert_int_equal(bizcal_add_minutes(&sparse, start, 52, &due), BIZCAL_OK);
}

/* ---- minutes between ---- */

static void test_minutes_between(void **state)
{
	(void)state;
	struct bizcal_makeup_day makeup;
	struct bizcal cal = national_day_calendar(&makeup);
	int64_t friday_1700 = local_time(2026, 3, 6, 17, 0, 0, PLUS_8);
	assert_int_equal(minutes_between(&cal, friday_1700, friday_1700), 0);
	assert_int_equal(minutes_between(&cal, friday_1700, local_time(2026, 3, 6, 17, 45, 0, PLUS_8)), 45);
	assert_int_equal(minutes_between(&cal, friday_1700, local_time(2026, 3, 9, 10, 0, 0, PLUS_8)), 120);
	assert_int_equal(minutes_between(&cal, local_time(2026, 3, 7, 0, 0, 0, PLUS_8),
	                                 local_time(2026, 3, 8, 23, 59, 59, PLUS_8)), 0);
	/* Wed 30 Sep 17:00 -> Sat 10 Oct 10:00: 1 h + Thu 8 and Fri 9 (18 h) + 1 h on the make-up Saturday. */
	assert_int_equal(minutes_between(&cal, local_time(2026, 9, 30, 17, 0, 0, PLUS_8),
	                                 local_time(2026, 10, 10, 10, 0, 0, PLUS_8)), 20 * 60);
	/* Partial minutes round down. */
	assert_int_equal(minutes_between(&cal, friday_1700, friday_1700 + 59), 0);
	int64_t seconds;
	assert_int_equal(bizcal_seconds_between(&cal, friday_1700, friday_1700 + 59, &seconds), BIZCAL_OK);
	assert_int_equal(seconds, 59);
	assert_int_equal(bizcal_seconds_between(&cal, friday_1700 + 1, friday_1700, &seconds), BIZCAL_EINVAL);
	assert_int_equal(bizcal_seconds_between(&cal, -5, friday_1700, &seconds), BIZCAL_ERANGE);
	assert_int_equal(bizcal_minutes_between(&cal, friday_1700, friday_1700, NULL), BIZCAL_EINVAL);
}

/* ---- pauses ---- */

static int64_t add_paused(const struct bizcal *cal, int64_t start, int64_t minutes, const struct bizcal_span *pauses,
			  size_t count)
{
	int64_t due = -1;
	assert_int_equal(bizcal_add_minutes_paused(cal, start, minutes, pauses, count, &due), BIZCAL_OK);
	return due;
}

static void test_pause_over_a_weekend(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t start = local_time(2026, 3, 6, 16, 0, 0, PLUS_8);
	assert_int_equal(add_paused(&cal, start, 180, NULL, 0), local_time(2026, 3, 9, 10, 0, 0, PLUS_8));
	/* Paused Friday 17:00 to Monday 10:00: 60 + 60 business minutes paused. */
	struct bizcal_span pause = {local_time(2026, 3, 6, 17, 0, 0, PLUS_8), local_time(2026, 3, 9, 10, 0, 0, PLUS_8)};
	assert_int_equal(add_paused(&cal, start, 180, &pause, 1), local_time(2026, 3, 9, 12, 0, 0, PLUS_8));
	/* A pause wholly outside working hours shifts nothing. */
	struct bizcal_span weekend = {local_time(2026, 3, 7, 10, 0, 0, PLUS_8), local_time(2026, 3, 8, 10, 0, 0, PLUS_8)};
	assert_int_equal(add_paused(&cal, start, 180, &weekend, 1), local_time(2026, 3, 9, 10, 0, 0, PLUS_8));
}

static void test_pause_edges(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t start = local_time(2026, 3, 4, 10, 0, 0, PLUS_8);
	/* Before the start: ignored. */
	struct bizcal_span before = {local_time(2026, 3, 3, 10, 0, 0, PLUS_8), local_time(2026, 3, 3, 12, 0, 0, PLUS_8)};
	assert_int_equal(add_paused(&cal, start, 60, &before, 1), local_time(2026, 3, 4, 11, 0, 0, PLUS_8));
	/* Straddling the start: the clock starts when the pause ends. */
	struct bizcal_span straddle = {local_time(2026, 3, 4, 9, 0, 0, PLUS_8), local_time(2026, 3, 4, 10, 30, 0, PLUS_8)};
	assert_int_equal(add_paused(&cal, start, 60, &straddle, 1), local_time(2026, 3, 4, 11, 30, 0, PLUS_8));
	/* Due before the pause: unaffected, also when due exactly as the pause begins. */
	struct bizcal_span later = {local_time(2026, 3, 4, 11, 0, 0, PLUS_8), local_time(2026, 3, 4, 15, 0, 0, PLUS_8)};
	assert_int_equal(add_paused(&cal, start, 60, &later, 1), local_time(2026, 3, 4, 11, 0, 0, PLUS_8));
	assert_int_equal(add_paused(&cal, start, 61, &later, 1), local_time(2026, 3, 4, 15, 1, 0, PLUS_8));
	/* Several pauses, one of them empty. */
	struct bizcal_span several[] = {
		{local_time(2026, 3, 4, 10, 10, 0, PLUS_8), local_time(2026, 3, 4, 10, 20, 0, PLUS_8)},
		{local_time(2026, 3, 4, 10, 30, 0, PLUS_8), local_time(2026, 3, 4, 10, 30, 0, PLUS_8)},
		{local_time(2026, 3, 4, 10, 40, 0, PLUS_8), local_time(2026, 3, 4, 11, 0, 0, PLUS_8)},
	};
	assert_int_equal(add_paused(&cal, start, 60, several, 3), local_time(2026, 3, 4, 11, 30, 0, PLUS_8));
	/* Zero minutes is due at once even inside a pause. */
	assert_int_equal(add_paused(&cal, start, 0, &straddle, 1), start);
}

static void test_open_pause(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t start = local_time(2026, 3, 4, 10, 0, 0, PLUS_8);
	int64_t due = 777;
	struct bizcal_span open = {local_time(2026, 3, 4, 10, 30, 0, PLUS_8), BIZCAL_OPEN_END};
	assert_int_equal(bizcal_add_minutes_paused(&cal, start, 60, &open, 1, &due), BIZCAL_EPAUSED);
	assert_int_equal(due, 777);
	/* Due before the open pause begins: the due time stands. */
	assert_int_equal(add_paused(&cal, start, 30, &open, 1), local_time(2026, 3, 4, 10, 30, 0, PLUS_8));
	struct bizcal_span open_at_start = {start - 60, BIZCAL_OPEN_END};
	assert_int_equal(bizcal_add_minutes_paused(&cal, start, 10, &open_at_start, 1, &due), BIZCAL_EPAUSED);
}

static void test_bad_pause_lists(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	int64_t start = local_time(2026, 3, 4, 10, 0, 0, PLUS_8);
	int64_t due;
	struct bizcal_span reversed = {start + 100, start};
	assert_int_equal(bizcal_add_minutes_paused(&cal, start, 60, &reversed, 1, &due), BIZCAL_EPAUSE_ORDER);
	struct bizcal_span overlapping[] = {{start, start + 100}, {start + 50, start + 200}};
	assert_int_equal(bizcal_add_minutes_paused(&cal, start, 60, overlapping, 2, &due), BIZCAL_EPAUSE_ORDER);
	struct bizcal_span open_not_last[] = {{start, BIZCAL_OPEN_END}, {BIZCAL_OPEN_END, BIZCAL_OPEN_END}};
	assert_int_equal(bizcal_add_minutes_paused(&cal, start, 60, open_not_last, 2, &due), BIZCAL_EPAUSE_ORDER);
	assert_int_equal(bizcal_add_minutes_paused(&cal, start, 60, NULL, 1, &due), BIZCAL_EINVAL);
	struct bizcal_span touching[] = {{start, start + 100}, {start + 100, start + 200}};
	assert_int_equal(bizcal_add_minutes_paused(&cal, start, 60, touching, 2, &due), BIZCAL_OK);
	assert_int_equal(due, start + 200 + 3600);
}

/* ---- validation ---- */

static void expect_invalid(const struct bizcal *cal, int code, const char *fragment)
{
	char message[160];
	assert_int_equal(bizcal_validate(cal, message, sizeof message), code);
	if (strstr(message, fragment) == NULL)
		fail_msg("message \"%s\" does not name \"%s\"", message, fragment);
}

static void test_valid_calendar_passes(void **state)
{
	(void)state;
	struct bizcal_makeup_day makeup;
	struct bizcal cal = national_day_calendar(&makeup);
	char message[80] = "untouched";
	assert_int_equal(bizcal_validate(&cal, message, sizeof message), BIZCAL_OK);
	assert_string_equal(message, "");
}

static void test_calendar_without_hours_refused(void **state)
{
	(void)state;
	struct bizcal cal;
	memset(&cal, 0, sizeof cal);
	cal.utc_offset_secs = PLUS_8;
	expect_invalid(&cal, BIZCAL_ENO_HOURS, "no working hours");
	int64_t due;
	assert_int_equal(bizcal_add_minutes(&cal, 1000, 10, &due), BIZCAL_ENO_HOURS);
	assert_int_equal(bizcal_minutes_between(&cal, 1000, 2000, &due), BIZCAL_ENO_HOURS);
	/* Make-up days alone are not enough: the week must work. */
	struct bizcal_makeup_day makeup = {20261010, day_hours("09:00-18:00")};
	cal.makeup_days = &makeup;
	cal.makeup_day_count = 1;
	expect_invalid(&cal, BIZCAL_ENO_HOURS, "no working hours");
}

static void test_overlapping_intervals_refused(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	cal.week[BIZCAL_TUESDAY].count = 2;
	cal.week[BIZCAL_TUESDAY].intervals[0] = (struct bizcal_interval){9 * 60, 12 * 60};
	cal.week[BIZCAL_TUESDAY].intervals[1] = (struct bizcal_interval){11 * 60, 13 * 60};
	expect_invalid(&cal, BIZCAL_EOVERLAP, "tuesday: interval 2 (11:00-13:00) overlaps interval 1 (09:00-12:00)");
	/* An overlap hidden behind a wrong order is still named an overlap. */
	cal.week[BIZCAL_TUESDAY].count = 3;
	cal.week[BIZCAL_TUESDAY].intervals[0] = (struct bizcal_interval){9 * 60, 10 * 60};
	cal.week[BIZCAL_TUESDAY].intervals[1] = (struct bizcal_interval){14 * 60, 15 * 60};
	cal.week[BIZCAL_TUESDAY].intervals[2] = (struct bizcal_interval){9 * 60 + 30, 9 * 60 + 45};
	expect_invalid(&cal, BIZCAL_EOVERLAP, "overlaps interval 1");
	cal.week[BIZCAL_TUESDAY].count = 2;
	cal.week[BIZCAL_TUESDAY].intervals[0] = (struct bizcal_interval){14 * 60, 15 * 60};
	cal.week[BIZCAL_TUESDAY].intervals[1] = (struct bizcal_interval){9 * 60, 10 * 60};
	expect_invalid(&cal, BIZCAL_EORDER, "tuesday: interval 2 starts before interval 1");
}

static void test_bad_intervals_refused(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	cal.week[BIZCAL_WEDNESDAY].intervals[0] = (struct bizcal_interval){18 * 60, 9 * 60};
	expect_invalid(&cal, BIZCAL_EEND_BEFORE_START, "wednesday: interval 1 (18:00-09:00) ends before it starts");
	cal.week[BIZCAL_WEDNESDAY].intervals[0] = (struct bizcal_interval){9 * 60, 9 * 60};
	expect_invalid(&cal, BIZCAL_EEND_BEFORE_START, "ends before it starts");
	cal.week[BIZCAL_WEDNESDAY].intervals[0] = (struct bizcal_interval){9 * 60, 25 * 60};
	expect_invalid(&cal, BIZCAL_EBAD_TIME, "outside 00:00-24:00");
	cal.week[BIZCAL_WEDNESDAY].intervals[0] = (struct bizcal_interval){-1, 60};
	expect_invalid(&cal, BIZCAL_EBAD_TIME, "wednesday");
	cal.week[BIZCAL_WEDNESDAY] = day_hours("09:00-18:00");
	cal.week[BIZCAL_SUNDAY].count = BIZCAL_MAX_INTERVALS_PER_DAY + 1;
	expect_invalid(&cal, BIZCAL_ETOO_MANY, "sunday");
}

static void test_bad_dates_refused(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	const int32_t bad_month[] = {20261001, 20261301};
	cal.holidays = bad_month;
	cal.holiday_count = 2;
	expect_invalid(&cal, BIZCAL_EBAD_DATE, "holiday 2 (20261301) is not a valid date");
	const int32_t bad_leap[] = {20260229};
	cal.holidays = bad_leap;
	cal.holiday_count = 1;
	expect_invalid(&cal, BIZCAL_EBAD_DATE, "20260229");
	const int32_t unsorted[] = {20261002, 20261001};
	cal.holidays = unsorted;
	cal.holiday_count = 2;
	expect_invalid(&cal, BIZCAL_EDATE_ORDER, "holiday 2 (20261001) is not after holiday 1 (20261002)");
	const int32_t duplicate[] = {20261001, 20261001};
	cal.holidays = duplicate;
	expect_invalid(&cal, BIZCAL_EDATE_ORDER, "list dates once");
	cal.holidays = NULL;
	expect_invalid(&cal, BIZCAL_EINVAL, "holidays is NULL");
	cal.holiday_count = 0;

	struct bizcal_makeup_day makeups[2] = {{20261010, day_hours("09:00-18:00")}, {20261009, day_hours("09:00-18:00")}};
	cal.makeup_days = makeups;
	cal.makeup_day_count = 2;
	expect_invalid(&cal, BIZCAL_EDATE_ORDER, "make-up day 2 (20261009)");
	cal.makeup_day_count = 1;
	makeups[0].date = 20261032;
	expect_invalid(&cal, BIZCAL_EBAD_DATE, "make-up day 1 (20261032)");
	makeups[0].date = 20261010;
	makeups[0].hours.count = 0;
	expect_invalid(&cal, BIZCAL_ENO_HOURS, "make-up day 2026-10-10 has no working hours");
	makeups[0].hours = day_hours("09:00-18:00");
	makeups[0].hours.intervals[0].end_minute = 8 * 60;
	expect_invalid(&cal, BIZCAL_EEND_BEFORE_START, "make-up day 2026-10-10: interval 1");
}

static void test_holiday_and_makeup_on_one_date_refused(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(PLUS_8);
	const int32_t holidays[] = {20261001, 20261010};
	struct bizcal_makeup_day makeup = {20261010, day_hours("09:00-18:00")};
	cal.holidays = holidays;
	cal.holiday_count = 2;
	cal.makeup_days = &makeup;
	cal.makeup_day_count = 1;
	expect_invalid(&cal, BIZCAL_ECONFLICT, "2026-10-10 is both a holiday and a make-up day");
}

static void test_offset_out_of_range_refused(void **state)
{
	(void)state;
	struct bizcal cal = office_calendar(19 * 3600);
	expect_invalid(&cal, BIZCAL_EOFFSET, "utc offset 68400 s");
	int64_t due;
	assert_int_equal(bizcal_add_minutes(&cal, 1000, 1, &due), BIZCAL_EOFFSET);
	cal.utc_offset_secs = -BIZCAL_MAX_OFFSET_SECS;
	assert_int_equal(bizcal_validate(&cal, NULL, 0), BIZCAL_OK);
}

static void test_short_message_buffer_is_safe(void **state)
{
	(void)state;
	struct bizcal cal;
	memset(&cal, 0, sizeof cal);
	char message[8];
	assert_int_equal(bizcal_validate(&cal, message, sizeof message), BIZCAL_ENO_HOURS);
	assert_string_equal(message, "no work");
	assert_int_equal(bizcal_validate(NULL, NULL, 0), BIZCAL_EINVAL);
}

/* ---- parsing ---- */

static void test_parse_day(void **state)
{
	(void)state;
	struct bizcal_day day;
	assert_int_equal(bizcal_parse_day("09:00-12:00,13:30-18:00", &day), BIZCAL_OK);
	assert_int_equal(day.count, 2);
	assert_int_equal(day.intervals[0].start_minute, 540);
	assert_int_equal(day.intervals[0].end_minute, 720);
	assert_int_equal(day.intervals[1].start_minute, 810);
	assert_int_equal(day.intervals[1].end_minute, 1080);
	assert_int_equal(bizcal_parse_day("00:00-24:00", &day), BIZCAL_OK);
	assert_int_equal(day.intervals[0].end_minute, 1440);
	assert_int_equal(bizcal_parse_day("closed", &day), BIZCAL_OK);
	assert_int_equal(day.count, 0);
	assert_int_equal(bizcal_parse_day("00:00-01:00,01:00-02:00,02:00-03:00,03:00-04:00,"
	                                  "04:00-05:00,05:00-06:00,06:00-07:00,07:00-08:00", &day), BIZCAL_OK);
	assert_int_equal(day.count, 8);
}

static void test_parse_day_refuses_malformed_text(void **state)
{
	(void)state;
	struct bizcal_day day = day_hours("08:00-09:00");
	static const struct {
		const char *text;
		int code;
	} cases[] = {
		{"", BIZCAL_ESYNTAX},
		{"9:00-12:00", BIZCAL_ESYNTAX},
		{"09:00-12:00,", BIZCAL_ESYNTAX},
		{",09:00-12:00", BIZCAL_ESYNTAX},
		{" 09:00-12:00", BIZCAL_ESYNTAX},
		{"09:00-12:00 ", BIZCAL_ESYNTAX},
		{"09:00 - 12:00", BIZCAL_ESYNTAX},
		{"09:00-12:00;13:00-14:00", BIZCAL_ESYNTAX},
		{"09:00", BIZCAL_ESYNTAX},
		{"09:00-", BIZCAL_ESYNTAX},
		{"0900-1200", BIZCAL_ESYNTAX},
		{"09.00-12.00", BIZCAL_ESYNTAX},
		{"Closed", BIZCAL_ESYNTAX},
		{"09:00-12:000", BIZCAL_ESYNTAX},
		{"09:60-12:00", BIZCAL_EBAD_TIME},
		{"25:00-26:00", BIZCAL_EBAD_TIME},
		{"09:00-24:01", BIZCAL_EBAD_TIME},
		{"18:00-09:00", BIZCAL_EEND_BEFORE_START},
		{"09:00-09:00", BIZCAL_EEND_BEFORE_START},
		{"24:00-24:00", BIZCAL_EEND_BEFORE_START},
		{"09:00-12:30,12:00-18:00", BIZCAL_EOVERLAP},
		{"13:00-18:00,09:00-12:00", BIZCAL_EORDER},
		{"00:00-01:00,01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,06:00-07:00,"
		 "07:00-08:00,08:00-09:00", BIZCAL_ETOO_MANY},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = bizcal_parse_day(cases[i].text, &day);
		if (rc != cases[i].code)
			fail_msg("\"%s\": got %d (%s), want %d", cases[i].text, rc, bizcal_strerror(rc), cases[i].code);
	}
	/* Failure leaves the output alone. */
	assert_int_equal(day.count, 1);
	assert_int_equal(day.intervals[0].start_minute, 480);
	assert_int_equal(bizcal_parse_day(NULL, &day), BIZCAL_EINVAL);
	assert_int_equal(bizcal_parse_day("09:00-10:00", NULL), BIZCAL_EINVAL);
}

static void test_parse_date(void **state)
{
	(void)state;
	int32_t date = 0;
	assert_int_equal(bizcal_parse_date("2026-10-01", &date), BIZCAL_OK);
	assert_int_equal(date, 20261001);
	assert_int_equal(bizcal_parse_date("2028-02-29", &date), BIZCAL_OK);
	assert_int_equal(date, 20280229);
	assert_int_equal(bizcal_parse_date("2000-02-29", &date), BIZCAL_OK);
	assert_int_equal(bizcal_parse_date("9999-12-31", &date), BIZCAL_OK);
	assert_int_equal(bizcal_parse_date("0001-01-01", &date), BIZCAL_OK);
	assert_int_equal(date, 10101);
}

static void test_parse_date_refuses_malformed_dates(void **state)
{
	(void)state;
	int32_t date = 42;
	static const struct {
		const char *text;
		int code;
	} cases[] = {
		{"2026-02-29", BIZCAL_EBAD_DATE}, {"2100-02-29", BIZCAL_EBAD_DATE}, {"2026-13-01", BIZCAL_EBAD_DATE},
		{"2026-00-10", BIZCAL_EBAD_DATE}, {"2026-10-00", BIZCAL_EBAD_DATE}, {"2026-04-31", BIZCAL_EBAD_DATE},
		{"2026-10-32", BIZCAL_EBAD_DATE}, {"0000-01-01", BIZCAL_EBAD_DATE}, {"2026-1-01", BIZCAL_ESYNTAX},
		{"2026-10-1", BIZCAL_ESYNTAX},    {"2026-10-01x", BIZCAL_ESYNTAX},  {" 2026-10-01", BIZCAL_ESYNTAX},
		{"2026/10/01", BIZCAL_ESYNTAX},   {"20261001", BIZCAL_ESYNTAX},     {"", BIZCAL_ESYNTAX},
		{"+026-10-01", BIZCAL_ESYNTAX},   {"2026-10-0a", BIZCAL_ESYNTAX},   {"12026-10-01", BIZCAL_ESYNTAX},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = bizcal_parse_date(cases[i].text, &date);
		if (rc != cases[i].code)
			fail_msg("\"%s\": got %d, want %d", cases[i].text, rc, cases[i].code);
	}
	assert_int_equal(date, 42);
	assert_int_equal(bizcal_parse_date(NULL, &date), BIZCAL_EINVAL);
	assert_int_equal(bizcal_parse_date("2026-10-01", NULL), BIZCAL_EINVAL);
}

static void test_parse_offset(void **state)
{
	(void)state;
	int32_t offset = 1;
	assert_int_equal(bizcal_parse_offset("+08:00", &offset), BIZCAL_OK);
	assert_int_equal(offset, PLUS_8);
	assert_int_equal(bizcal_parse_offset("-05:00", &offset), BIZCAL_OK);
	assert_int_equal(offset, MINUS_5);
	assert_int_equal(bizcal_parse_offset("+05:45", &offset), BIZCAL_OK);
	assert_int_equal(offset, 5 * 3600 + 45 * 60);
	assert_int_equal(bizcal_parse_offset("-00:00", &offset), BIZCAL_OK);
	assert_int_equal(offset, 0);
	assert_int_equal(bizcal_parse_offset("+18:00", &offset), BIZCAL_OK);
	assert_int_equal(bizcal_parse_offset("08:00", &offset), BIZCAL_ESYNTAX);
	assert_int_equal(bizcal_parse_offset("+8:00", &offset), BIZCAL_ESYNTAX);
	assert_int_equal(bizcal_parse_offset("+0800", &offset), BIZCAL_ESYNTAX);
	assert_int_equal(bizcal_parse_offset("UTC+8", &offset), BIZCAL_ESYNTAX);
	assert_int_equal(bizcal_parse_offset("+18:01", &offset), BIZCAL_EOFFSET);
	assert_int_equal(bizcal_parse_offset("+08:60", &offset), BIZCAL_EOFFSET);
	assert_int_equal(offset, 18 * 3600);
}

static void test_small_helpers(void **state)
{
	(void)state;
	assert_true(bizcal_date_valid(20240229));
	assert_false(bizcal_date_valid(20230229));
	assert_false(bizcal_date_valid(0));
	assert_false(bizcal_date_valid(-20240101));
	assert_false(bizcal_date_valid(100000101));
	assert_string_equal(bizcal_weekday_name(BIZCAL_MONDAY), "monday");
	assert_string_equal(bizcal_weekday_name(BIZCAL_SUNDAY), "sunday");
	assert_null(bizcal_weekday_name(BIZCAL_WEEKDAY_COUNT));
	for (int code = 0; code >= BIZCAL_EPAUSE_ORDER; code--)
		assert_string_not_equal(bizcal_strerror(code), "unknown error");
	assert_string_equal(bizcal_strerror(-999), "unknown error");
}

/* ---- random comparison with a brute-force oracle ---- */

struct random {
	uint64_t state;
};

static uint64_t random_next(struct random *random)
{
	/* xorshift64*: reproducible without touching the C library's global rand() state. */
	random->state ^= random->state >> 12;
	random->state ^= random->state << 25;
	random->state ^= random->state >> 27;
	return random->state * UINT64_C(2685821657736338717);
}

static int64_t random_below(struct random *random, int64_t bound)
{
	return (int64_t)(random_next(random) % (uint64_t)bound);
}

#define ORACLE_MAX_SPECIAL 24

struct random_calendar {
	struct bizcal cal;
	int32_t holidays[ORACLE_MAX_SPECIAL];
	struct bizcal_makeup_day makeups[ORACLE_MAX_SPECIAL];
};

static bool in_list(const int32_t *dates, size_t count, int32_t date)
{
	for (size_t i = 0; i < count; i++)
		if (dates[i] == date)
			return true;
	return false;
}

/* Random ascending intervals (possibly none) on a 15-minute grid. */
static struct bizcal_day random_day(struct random *random)
{
	struct bizcal_day day = {0};
	int wanted = (int)random_below(random, 4);
	int minute = 0;
	for (int i = 0; i < wanted; i++) {
		int start = minute + 15 * (int)random_below(random, 24);
		int end = start + 15 * (1 + (int)random_below(random, 24));
		if (end > BIZCAL_MINUTES_PER_DAY)
			break;
		day.intervals[day.count++] = (struct bizcal_interval){start, end};
		minute = end;
	}
	return day;
}

static void make_random_calendar(struct random *random, struct random_calendar *out)
{
	memset(out, 0, sizeof *out);
	do {
		for (int weekday = 0; weekday < BIZCAL_WEEKDAY_COUNT; weekday++)
			out->cal.week[weekday] = random_day(random);
	} while (bizcal_validate(&out->cal, NULL, 0) != BIZCAL_OK);
	out->cal.utc_offset_secs = (int32_t)(15 * 60 * (random_below(random, 105) - 48)); /* -12:00..+14:00 */

	/* Special days scattered over March-April 2026, where the random clocks run. */
	size_t holidays = 0, makeups = 0;
	for (int day = 1; day <= 61; day++) {
		int32_t date = day <= 31 ? 20260300 + day : 20260400 + (day - 31);
		int64_t roll = random_below(random, 10);
		if (roll == 0 && holidays < ORACLE_MAX_SPECIAL) {
			out->holidays[holidays++] = date;
		} else if (roll == 1 && makeups < ORACLE_MAX_SPECIAL) {
			struct bizcal_day hours = random_day(random);
			if (hours.count > 0)
				out->makeups[makeups++] = (struct bizcal_makeup_day){date, hours};
		}
	}
	out->cal.holidays = out->holidays;
	out->cal.holiday_count = holidays;
	out->cal.makeup_days = out->makeups;
	out->cal.makeup_day_count = makeups;
	char message[160];
	if (bizcal_validate(&out->cal, message, sizeof message) != BIZCAL_OK)
		fail_msg("random calendar invalid: %s", message);
}

/* Whether the minute starting at utc (a whole minute in local time) is working time. */
static bool oracle_working_minute(const struct bizcal *cal, int64_t utc)
{
	time_t local = (time_t)(utc + cal->utc_offset_secs);
	struct tm tm;
	gmtime_r(&local, &tm);
	int32_t date = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	int minute = tm.tm_hour * 60 + tm.tm_min;
	const struct bizcal_day *hours = &cal->week[(tm.tm_wday + 6) % 7];
	for (size_t i = 0; i < cal->makeup_day_count; i++)
		if (cal->makeup_days[i].date == date)
			hours = &cal->makeup_days[i].hours;
	if (hours == &cal->week[(tm.tm_wday + 6) % 7] && in_list(cal->holidays, cal->holiday_count, date))
		return false;
	for (unsigned i = 0; i < hours->count; i++)
		if (minute >= hours->intervals[i].start_minute && minute < hours->intervals[i].end_minute)
			return true;
	return false;
}

static int64_t oracle_add(const struct bizcal *cal, int64_t start, int64_t minutes)
{
	if (minutes == 0)
		return start;
	for (int64_t t = start;; t += 60) {
		if (oracle_working_minute(cal, t) && --minutes == 0)
			return t + 60;
	}
}

static int64_t oracle_between(const struct bizcal *cal, int64_t from, int64_t to)
{
	int64_t minutes = 0;
	for (int64_t t = from; t < to; t += 60)
		minutes += oracle_working_minute(cal, t);
	return minutes;
}

static int64_t week_minutes(const struct bizcal *cal)
{
	int64_t minutes = 0;
	for (int weekday = 0; weekday < BIZCAL_WEEKDAY_COUNT; weekday++)
		for (unsigned i = 0; i < cal->week[weekday].count; i++)
			minutes += cal->week[weekday].intervals[i].end_minute - cal->week[weekday].intervals[i].start_minute;
	return minutes;
}

static void test_add_and_between_match_brute_force(void **state)
{
	(void)state;
	struct random random = {UINT64_C(0x9E3779B97F4A7C15)};
	struct random_calendar rc;
	int64_t window = local_time(2026, 3, 1, 0, 0, 0, 0);
	for (int round = 0; round < 300; round++) {
		make_random_calendar(&random, &rc);
		int64_t start = window + 60 * random_below(&random, 60 * 24 * 40);
		/* At most about six weeks of the calendar's work, so the oracle stays quick on sparse weeks. */
		int64_t minutes = random_below(&random, 6 * week_minutes(&rc.cal) < 3000 ? 6 * week_minutes(&rc.cal) : 3000);
		int64_t want = oracle_add(&rc.cal, start, minutes);
		int64_t got = add_minutes(&rc.cal, start, minutes);
		if (got != want)
			fail_msg("round %d: add(%lld, %lld) = %lld, oracle %lld", round, (long long)start,
			         (long long)minutes, (long long)got, (long long)want);
		int64_t end = start + 60 * random_below(&random, 60 * 24 * 30);
		int64_t between = minutes_between(&rc.cal, start, end);
		int64_t oracle = oracle_between(&rc.cal, start, end);
		if (between != oracle)
			fail_msg("round %d: between(%lld, %lld) = %lld, oracle %lld", round, (long long)start,
			         (long long)end, (long long)between, (long long)oracle);
	}
}

static void test_add_then_between_round_trips(void **state)
{
	(void)state;
	struct random random = {UINT64_C(0xD1B54A32D192ED03)};
	struct random_calendar rc;
	int64_t window = local_time(2026, 1, 1, 0, 0, 0, 0);
	for (int round = 0; round < 2000; round++) {
		make_random_calendar(&random, &rc);
		int64_t start = window + random_below(&random, 86400 * 200);
		/* Up to 2e8 s: even a 15-minute week stays well before year 9999. */
		int64_t seconds = 1 + random_below(&random, round % 2 ? INT64_C(200000000) : 500000);
		int64_t due, elapsed;
		assert_int_equal(bizcal_add_seconds(&rc.cal, start, seconds, &due), BIZCAL_OK);
		assert_int_equal(bizcal_seconds_between(&rc.cal, start, due, &elapsed), BIZCAL_OK);
		assert_int_equal(elapsed, seconds);
		/* The due time is the first instant: one second earlier the budget was not spent. */
		assert_int_equal(bizcal_seconds_between(&rc.cal, start, due - 1, &elapsed), BIZCAL_OK);
		assert_int_equal(elapsed, seconds - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_friday_1750_plus_60_is_monday_0950),
		cmocka_unit_test(test_seconds_of_the_start_are_kept),
		cmocka_unit_test(test_due_exactly_at_closing_is_closing_time),
		cmocka_unit_test(test_start_outside_hours_waits_for_opening),
		cmocka_unit_test(test_lunch_break_is_skipped),
		cmocka_unit_test(test_zero_minutes_is_the_start),
		cmocka_unit_test(test_night_shift_split_over_midnight),
		cmocka_unit_test(test_round_the_clock_calendar_is_wall_time),
		cmocka_unit_test(test_month_end),
		cmocka_unit_test(test_year_end_with_new_year_holiday),
		cmocka_unit_test(test_leap_day),
		cmocka_unit_test(test_negative_offset),
		cmocka_unit_test(test_offset_decides_the_local_day),
		cmocka_unit_test(test_holidays_are_skipped),
		cmocka_unit_test(test_makeup_saturday_works),
		cmocka_unit_test(test_holiday_on_a_weekend_changes_nothing),
		cmocka_unit_test(test_a_year_of_minutes_ends_at_closing_time),
		cmocka_unit_test(test_long_clock_over_holidays_is_consistent),
		cmocka_unit_test(test_range_errors),
		cmocka_unit_test(test_minutes_between),
		cmocka_unit_test(test_pause_over_a_weekend),
		cmocka_unit_test(test_pause_edges),
		cmocka_unit_test(test_open_pause),
		cmocka_unit_test(test_bad_pause_lists),
		cmocka_unit_test(test_valid_calendar_passes),
		cmocka_unit_test(test_calendar_without_hours_refused),
		cmocka_unit_test(test_overlapping_intervals_refused),
		cmocka_unit_test(test_bad_intervals_refused),
		cmocka_unit_test(test_bad_dates_refused),
		cmocka_unit_test(test_holiday_and_makeup_on_one_date_refused),
		cmocka_unit_test(test_offset_out_of_range_refused),
		cmocka_unit_test(test_short_message_buffer_is_safe),
		cmocka_unit_test(test_parse_day),
		cmocka_unit_test(test_parse_day_refuses_malformed_text),
		cmocka_unit_test(test_parse_date),
		cmocka_unit_test(test_parse_date_refuses_malformed_dates),
		cmocka_unit_test(test_parse_offset),
		cmocka_unit_test(test_small_helpers),
		cmocka_unit_test(test_add_and_between_match_brute_force),
		cmocka_unit_test(test_add_then_between_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
