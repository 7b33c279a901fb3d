/*
 * bizcal: business-hours calendar arithmetic.  Contracts are in bizcal.h,
 * the rules and costs in docs/sla.md.
 *
 * Internally an instant is split into a local day number (days since
 * 1970-01-01 in the calendar's offset) and a second of that day.  Dates are
 * compared as YYYYMMDD integers, whose order is the calendar order.
 */
#include "bizcal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SECONDS_PER_MINUTE 60
#define DAYS_PER_WEEK 7
/* 1970-01-01 was a Thursday: day 0 has ISO weekday index 3 (Monday = 0). */
#define EPOCH_WEEKDAY BIZCAL_THURSDAY
#define NO_SPECIAL_DAY INT64_MAX

static const struct bizcal_day CLOSED_DAY = {0};

static const char *const WEEKDAY_NAMES[BIZCAL_WEEKDAY_COUNT] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};

/* ---- date arithmetic (proleptic Gregorian, after H. Hinnant's algorithms) ---- */

static int64_t floor_div(int64_t numerator, int64_t denominator)
{
	int64_t quotient = numerator / denominator;
	if (numerator % denominator != 0 && ((numerator < 0) != (denominator < 0)))
		quotient--;
	return quotient;
}

static bool is_leap_year(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int64_t year, int month)
{
	static const int LENGTHS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month == 2 && is_leap_year(year))
		return 29;
	return LENGTHS[month - 1];
}

static int64_t days_from_civil(int64_t year, int month, int day)
{
	year -= month <= 2;
	int64_t era = floor_div(year, 400);
	int64_t year_of_era = year - era * 400;
	int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * 146097 + day_of_era - 719468;
}

static int32_t date_of_day(int64_t day_number)
{
	int64_t z = day_number + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t day_of_era = z - era * 146097;
	int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	int64_t month_index = (5 * day_of_year + 2) / 153;
	int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
	int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
	int64_t year = year_of_era + era * 400 + (month <= 2);
	return (int32_t)(year * 10000 + month * 100 + day);
}

static int64_t day_of_date(int32_t yyyymmdd)
{
	return days_from_civil(yyyymmdd / 10000, (int)(yyyymmdd / 100 % 100), (int)(yyyymmdd % 100));
}

static int weekday_of_day(int64_t day_number)
{
	int64_t index = (day_number + EPOCH_WEEKDAY) % DAYS_PER_WEEK;
	return (int)(index < 0 ? index + DAYS_PER_WEEK : index);
}

bool bizcal_date_valid(int32_t yyyymmdd)
{
	int32_t year = yyyymmdd / 10000;
	int month = (int)(yyyymmdd / 100 % 100);
	int day = (int)(yyyymmdd % 100);
	if (yyyymmdd <= 0 || year < 1 || year > 9999 || month < 1 || month > 12)
		return false;
	return day >= 1 && day <= days_in_month(year, month);
}

/* ---- schedule look-up ---- */

/* Index of the first holiday on or after date (holiday_count if none). */
static size_t holiday_lower_bound(const struct bizcal *cal, int32_t date)
{
	size_t low = 0, high = cal->holiday_count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (cal->holidays[middle] < date)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

/* Index of the first make-up day on or after date (makeup_day_count if none). */
static size_t makeup_lower_bound(const struct bizcal *cal, int32_t date)
{
	size_t low = 0, high = cal->makeup_day_count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (cal->makeup_days[middle].date < date)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

static const struct bizcal_day *hours_of_day(const struct bizcal *cal, int64_t day_number)
{
	int32_t date = date_of_day(day_number);
	size_t makeup = makeup_lower_bound(cal, date);
	if (makeup < cal->makeup_day_count && cal->makeup_days[makeup].date == date)
		return &cal->makeup_days[makeup].hours;
	size_t holiday = holiday_lower_bound(cal, date);
	if (holiday < cal->holiday_count && cal->holidays[holiday] == date)
		return &CLOSED_DAY;
	return &cal->week[weekday_of_day(day_number)];
}

/* Day number of the first holiday or make-up day on or after day_number. */
static int64_t next_special_day(const struct bizcal *cal, int64_t day_number)
{
	int32_t date = date_of_day(day_number);
	int64_t next = NO_SPECIAL_DAY;
	size_t holiday = holiday_lower_bound(cal, date);
	if (holiday < cal->holiday_count)
		next = day_of_date(cal->holidays[holiday]);
	size_t makeup = makeup_lower_bound(cal, date);
	if (makeup < cal->makeup_day_count) {
		int64_t makeup_day = day_of_date(cal->makeup_days[makeup].date);
		if (makeup_day < next)
			next = makeup_day;
	}
	return next;
}

/*
 * Working seconds of a day before second_of_day.  Intervals that end at or
 * before they start are skipped so that a calendar that failed validation
 * still cannot make a clock run backwards (and a loop run forever).
 */
static int64_t worked_before(const struct bizcal_day *hours, int64_t second_of_day)
{
	int64_t total = 0;
	unsigned count = hours->count < BIZCAL_MAX_INTERVALS_PER_DAY ? hours->count : BIZCAL_MAX_INTERVALS_PER_DAY;
	for (unsigned i = 0; i < count; i++) {
		int64_t start = (int64_t)hours->intervals[i].start_minute * SECONDS_PER_MINUTE;
		int64_t end = (int64_t)hours->intervals[i].end_minute * SECONDS_PER_MINUTE;
		if (end <= start || second_of_day <= start)
			continue;
		total += (second_of_day < end ? second_of_day : end) - start;
	}
	return total;
}

static int64_t day_total(const struct bizcal_day *hours)
{
	return worked_before(hours, BIZCAL_SECONDS_PER_DAY);
}

static int64_t week_total(const struct bizcal *cal)
{
	int64_t total = 0;
	for (int weekday = 0; weekday < BIZCAL_WEEKDAY_COUNT; weekday++)
		total += day_total(&cal->week[weekday]);
	return total;
}

/*
 * Runs the clock through one day from second_of_day.  Returns true and the
 * second of day at which *remaining reaches zero, or false with *remaining
 * reduced by the day's working time after second_of_day.
 */
static bool consume_day(const struct bizcal_day *hours, int64_t second_of_day, int64_t *remaining,
			int64_t *due_second_of_day)
{
	unsigned count = hours->count < BIZCAL_MAX_INTERVALS_PER_DAY ? hours->count : BIZCAL_MAX_INTERVALS_PER_DAY;
	for (unsigned i = 0; i < count; i++) {
		int64_t start = (int64_t)hours->intervals[i].start_minute * SECONDS_PER_MINUTE;
		int64_t end = (int64_t)hours->intervals[i].end_minute * SECONDS_PER_MINUTE;
		if (end <= start || end <= second_of_day)
			continue;
		int64_t from = start > second_of_day ? start : second_of_day;
		int64_t available = end - from;
		if (*remaining <= available) {
			*due_second_of_day = from + *remaining;
			return true;
		}
		*remaining -= available;
	}
	return false;
}

/* The cheap checks every arithmetic call repeats; the rest is bizcal_validate()'s. */
static int check_usable(const struct bizcal *cal)
{
	if (cal == NULL || (cal->holiday_count > 0 && cal->holidays == NULL) ||
		(cal->makeup_day_count > 0 && cal->makeup_days == NULL))
		return BIZCAL_EINVAL;
	if (cal->utc_offset_secs < -BIZCAL_MAX_OFFSET_SECS || cal->utc_offset_secs > BIZCAL_MAX_OFFSET_SECS)
		return BIZCAL_EOFFSET;
	if (week_total(cal) <= 0)
		return BIZCAL_ENO_HOURS;
	return BIZCAL_OK;
}

static bool in_supported_range(int64_t utc)
{
	return utc >= BIZCAL_MIN_UTC && utc <= BIZCAL_MAX_UTC;
}

/* ---- arithmetic ---- */

int bizcal_add_seconds(const struct bizcal *cal, int64_t start_utc, int64_t seconds, int64_t *due_utc)
{
	int rc = check_usable(cal);
	if (rc != BIZCAL_OK)
		return rc;
	if (due_utc == NULL || seconds < 0)
		return BIZCAL_EINVAL;
	if (!in_supported_range(start_utc))
		return BIZCAL_ERANGE;
	/* Business time never outruns wall time, so this bound also keeps every sum below from overflowing. */
	if (seconds > BIZCAL_MAX_UTC - start_utc)
		return BIZCAL_ERANGE;
	if (seconds == 0) {
		*due_utc = start_utc;
		return BIZCAL_OK;
	}

	int64_t weekly = week_total(cal);
	int64_t local = start_utc + cal->utc_offset_secs;
	int64_t day = floor_div(local, BIZCAL_SECONDS_PER_DAY);
	int64_t second_of_day = local - day * BIZCAL_SECONDS_PER_DAY;
	int64_t last_day = floor_div(BIZCAL_MAX_UTC + cal->utc_offset_secs, BIZCAL_SECONDS_PER_DAY);
	int64_t remaining = seconds;
	for (;;) {
		/*
		 * Whole weeks without a holiday or make-up day all hold `weekly`
		 * seconds: skip them in one step.  (remaining - 1) keeps at least one
		 * second for the day-by-day walk, so the due time lands inside the
		 * last interval rather than after it.
		 */
		if (second_of_day == 0 && remaining > weekly) {
			int64_t weeks = (remaining - 1) / weekly;
			int64_t special = next_special_day(cal, day);
			if (special != NO_SPECIAL_DAY && (special - day) / DAYS_PER_WEEK < weeks)
				weeks = (special - day) / DAYS_PER_WEEK;
			day += weeks * DAYS_PER_WEEK;
			remaining -= weeks * weekly;
		}
		/* A sparse calendar can push the walk past year 9999; stop before dates stop being dates. */
		if (day > last_day)
			return BIZCAL_ERANGE;
		int64_t due_second_of_day;
		if (consume_day(hours_of_day(cal, day), second_of_day, &remaining, &due_second_of_day)) {
			int64_t due = day * BIZCAL_SECONDS_PER_DAY + due_second_of_day - cal->utc_offset_secs;
			if (!in_supported_range(due))
				return BIZCAL_ERANGE;
			*due_utc = due;
			return BIZCAL_OK;
		}
		day++;
		second_of_day = 0;
	}
}

int bizcal_add_minutes(const struct bizcal *cal, int64_t start_utc, int64_t minutes, int64_t *due_utc)
{
	if (minutes < 0)
		return BIZCAL_EINVAL;
	if (minutes > INT64_MAX / SECONDS_PER_MINUTE)
		return BIZCAL_ERANGE;
	return bizcal_add_seconds(cal, start_utc, minutes * SECONDS_PER_MINUTE, due_utc);
}

/*
 * Working seconds in the whole days [first_day, end_day): whole weeks of the
 * weekly schedule, the leftover days one by one, then a correction for each
 * holiday and make-up day in range.  O(log(H + M) + k), k the special days in range.
 */
static int64_t worked_in_days(const struct bizcal *cal, int64_t first_day, int64_t end_day)
{
	int64_t days = end_day - first_day;
	int64_t total = days / DAYS_PER_WEEK * week_total(cal);
	for (int64_t day = first_day + days / DAYS_PER_WEEK * DAYS_PER_WEEK; day < end_day; day++)
		total += day_total(&cal->week[weekday_of_day(day)]);

	int32_t first_date = date_of_day(first_day);
	int32_t end_date = date_of_day(end_day);
	for (size_t i = holiday_lower_bound(cal, first_date); i < cal->holiday_count && cal->holidays[i] < end_date; i++)
		total -= day_total(&cal->week[weekday_of_day(day_of_date(cal->holidays[i]))]);
	for (size_t i = makeup_lower_bound(cal, first_date);
	     i < cal->makeup_day_count && cal->makeup_days[i].date < end_date; i++) {
		const struct bizcal_makeup_day *makeup = &cal->makeup_days[i];
		total += day_total(&makeup->hours) - day_total(&cal->week[weekday_of_day(day_of_date(makeup->date))]);
	}
	return total;
}

int bizcal_seconds_between(const struct bizcal *cal, int64_t from_utc, int64_t to_utc, int64_t *seconds)
{
	int rc = check_usable(cal);
	if (rc != BIZCAL_OK)
		return rc;
	if (seconds == NULL || to_utc < from_utc)
		return BIZCAL_EINVAL;
	if (!in_supported_range(from_utc) || !in_supported_range(to_utc))
		return BIZCAL_ERANGE;

	int64_t local_from = from_utc + cal->utc_offset_secs;
	int64_t local_to = to_utc + cal->utc_offset_secs;
	int64_t from_day = floor_div(local_from, BIZCAL_SECONDS_PER_DAY);
	int64_t to_day = floor_div(local_to, BIZCAL_SECONDS_PER_DAY);
	*seconds = worked_in_days(cal, from_day, to_day)
	           - worked_before(hours_of_day(cal, from_day), local_from - from_day * BIZCAL_SECONDS_PER_DAY)
	           + worked_before(hours_of_day(cal, to_day), local_to - to_day * BIZCAL_SECONDS_PER_DAY);
	return BIZCAL_OK;
}

int bizcal_minutes_between(const struct bizcal *cal, int64_t from_utc, int64_t to_utc, int64_t *minutes)
{
	int64_t seconds;
	if (minutes == NULL)
		return BIZCAL_EINVAL;
	int rc = bizcal_seconds_between(cal, from_utc, to_utc, &seconds);
	if (rc != BIZCAL_OK)
		return rc;
	*minutes = seconds / SECONDS_PER_MINUTE;
	return BIZCAL_OK;
}

static int check_pauses(const struct bizcal_span *pauses, size_t pause_count)
{
	if (pause_count > 0 && pauses == NULL)
		return BIZCAL_EINVAL;
	for (size_t i = 0; i < pause_count; i++) {
		if (pauses[i].to_utc < pauses[i].from_utc)
			return BIZCAL_EPAUSE_ORDER;
		if (i > 0 && pauses[i].from_utc < pauses[i - 1].to_utc)
			return BIZCAL_EPAUSE_ORDER;
		if (pauses[i].to_utc == BIZCAL_OPEN_END && i + 1 != pause_count)
			return BIZCAL_EPAUSE_ORDER;
	}
	return BIZCAL_OK;
}

int bizcal_add_minutes_paused(const struct bizcal *cal, int64_t start_utc, int64_t minutes,
			      const struct bizcal_span *pauses, size_t pause_count, int64_t *due_utc)
{
	int rc = check_pauses(pauses, pause_count);
	if (rc != BIZCAL_OK)
		return rc;
	int64_t candidate;
	rc = bizcal_add_minutes(cal, start_utc, minutes, &candidate);
	if (rc != BIZCAL_OK || minutes == 0) {
		/* A zero budget is due at once, paused or not. */
		if (rc == BIZCAL_OK)
			*due_utc = candidate;
		return rc;
	}

	/* Run the clock from pause end to pause start, carrying what is left of the budget. */
	int64_t cursor = start_utc;
	int64_t remaining = minutes * SECONDS_PER_MINUTE;
	for (size_t i = 0; i < pause_count; i++) {
		const struct bizcal_span *pause = &pauses[i];
		if (pause->to_utc <= cursor)
			continue;
		if (pause->from_utc > cursor) {
			rc = bizcal_add_seconds(cal, cursor, remaining, &candidate);
			if (rc != BIZCAL_OK)
				return rc;
			if (candidate <= pause->from_utc) {
				*due_utc = candidate;
				return BIZCAL_OK;
			}
			int64_t worked;
			rc = bizcal_seconds_between(cal, cursor, pause->from_utc, &worked);
			if (rc != BIZCAL_OK)
				return rc;
			remaining -= worked;
		}
		if (pause->to_utc == BIZCAL_OPEN_END)
			return BIZCAL_EPAUSED;
		cursor = pause->to_utc;
	}
	return bizcal_add_seconds(cal, cursor, remaining, due_utc);
}

/* ---- validation ---- */

static int report(char *message, size_t message_size, int code, const char *format, ...)
{
	if (message != NULL && message_size > 0) {
		va_list arguments;
		va_start(arguments, format);
		vsnprintf(message, message_size, format, arguments);
		va_end(arguments);
	}
	return code;
}

/* Checks one day's intervals; `label` names the day in the message ("tuesday", "make-up day 2026-10-10"). */
static int validate_day(const struct bizcal_day *hours, const char *label, char *message, size_t message_size)
{
	if (hours->count > BIZCAL_MAX_INTERVALS_PER_DAY)
		return report(message, message_size, BIZCAL_ETOO_MANY, "%s: %u intervals, at most %d allowed",
		              label, hours->count, BIZCAL_MAX_INTERVALS_PER_DAY);
	for (unsigned i = 0; i < hours->count; i++) {
		int start = hours->intervals[i].start_minute;
		int end = hours->intervals[i].end_minute;
		if (start < 0 || start > BIZCAL_MINUTES_PER_DAY || end < 0 || end > BIZCAL_MINUTES_PER_DAY)
			return report(message, message_size, BIZCAL_EBAD_TIME,
			              "%s: interval %u (minutes %d-%d) is outside 00:00-24:00", label, i + 1, start, end);
		if (end <= start)
			return report(message, message_size, BIZCAL_EEND_BEFORE_START,
			              "%s: interval %u (%02d:%02d-%02d:%02d) ends before it starts", label, i + 1,
			              start / 60, start % 60, end / 60, end % 60);
	}
	/* Overlap first, over all pairs, so an overlap is named as such even when the order is also wrong. */
	for (unsigned i = 0; i < hours->count; i++) {
		for (unsigned j = 0; j < i; j++) {
			const struct bizcal_interval *a = &hours->intervals[j], *b = &hours->intervals[i];
			if (b->start_minute < a->end_minute && a->start_minute < b->end_minute)
				return report(message, message_size, BIZCAL_EOVERLAP,
				              "%s: interval %u (%02d:%02d-%02d:%02d) overlaps interval %u (%02d:%02d-%02d:%02d)",
				              label, i + 1, b->start_minute / 60, b->start_minute % 60, b->end_minute / 60,
				              b->end_minute % 60, j + 1, a->start_minute / 60, a->start_minute % 60,
				              a->end_minute / 60, a->end_minute % 60);
		}
	}
	for (unsigned i = 1; i < hours->count; i++) {
		if (hours->intervals[i].start_minute < hours->intervals[i - 1].end_minute)
			return report(message, message_size, BIZCAL_EORDER,
			              "%s: interval %u starts before interval %u; list intervals in time order", label,
			              i + 1, i);
	}
	return BIZCAL_OK;
}

static void format_date(int32_t yyyymmdd, char text[16])
{
	snprintf(text, 16, "%04d-%02d-%02d", (int)(yyyymmdd / 10000), (int)(yyyymmdd / 100 % 100),
	         (int)(yyyymmdd % 100));
}

int bizcal_validate(const struct bizcal *cal, char *message, size_t message_size)
{
	if (message != NULL && message_size > 0)
		message[0] = '\0';
	if (cal == NULL)
		return report(message, message_size, BIZCAL_EINVAL, "no calendar");
	if (cal->utc_offset_secs < -BIZCAL_MAX_OFFSET_SECS || cal->utc_offset_secs > BIZCAL_MAX_OFFSET_SECS)
		return report(message, message_size, BIZCAL_EOFFSET, "utc offset %d s is outside -18:00..+18:00",
		              (int)cal->utc_offset_secs);
	for (int weekday = 0; weekday < BIZCAL_WEEKDAY_COUNT; weekday++) {
		int rc = validate_day(&cal->week[weekday], WEEKDAY_NAMES[weekday], message, message_size);
		if (rc != BIZCAL_OK)
			return rc;
	}
	if (week_total(cal) == 0)
		return report(message, message_size, BIZCAL_ENO_HOURS, "no working hours on any day of the week");

	if (cal->holiday_count > 0 && cal->holidays == NULL)
		return report(message, message_size, BIZCAL_EINVAL, "holiday_count is %zu but holidays is NULL",
		              cal->holiday_count);
	for (size_t i = 0; i < cal->holiday_count; i++) {
		if (!bizcal_date_valid(cal->holidays[i]))
			return report(message, message_size, BIZCAL_EBAD_DATE, "holiday %zu (%d) is not a valid date",
			              i + 1, (int)cal->holidays[i]);
		if (i > 0 && cal->holidays[i] <= cal->holidays[i - 1])
			return report(message, message_size, BIZCAL_EDATE_ORDER,
			              "holiday %zu (%d) is not after holiday %zu (%d); list dates once, ascending", i + 1,
			              (int)cal->holidays[i], i, (int)cal->holidays[i - 1]);
	}

	if (cal->makeup_day_count > 0 && cal->makeup_days == NULL)
		return report(message, message_size, BIZCAL_EINVAL, "makeup_day_count is %zu but makeup_days is NULL",
		              cal->makeup_day_count);
	for (size_t i = 0; i < cal->makeup_day_count; i++) {
		const struct bizcal_makeup_day *makeup = &cal->makeup_days[i];
		if (!bizcal_date_valid(makeup->date))
			return report(message, message_size, BIZCAL_EBAD_DATE, "make-up day %zu (%d) is not a valid date",
			              i + 1, (int)makeup->date);
		if (i > 0 && makeup->date <= cal->makeup_days[i - 1].date)
			return report(message, message_size, BIZCAL_EDATE_ORDER,
			              "make-up day %zu (%d) is not after make-up day %zu (%d); list dates once, ascending",
			              i + 1, (int)makeup->date, i, (int)cal->makeup_days[i - 1].date);
		char date_text[16], label[40];
		format_date(makeup->date, date_text);
		snprintf(label, sizeof label, "make-up day %s", date_text);
		int rc = validate_day(&makeup->hours, label, message, message_size);
		if (rc != BIZCAL_OK)
			return rc;
		if (makeup->hours.count == 0)
			return report(message, message_size, BIZCAL_ENO_HOURS,
			              "%s has no working hours; a day off is a holiday", label);
	}

	/* Both lists are ascending: one merge pass finds a date in both. */
	size_t h = 0, m = 0;
	while (h < cal->holiday_count && m < cal->makeup_day_count) {
		if (cal->holidays[h] < cal->makeup_days[m].date) {
			h++;
		} else if (cal->holidays[h] > cal->makeup_days[m].date) {
			m++;
		} else {
			char date_text[16];
			format_date(cal->holidays[h], date_text);
			return report(message, message_size, BIZCAL_ECONFLICT, "%s is both a holiday and a make-up day",
			              date_text);
		}
	}
	return BIZCAL_OK;
}

/* ---- parsing ---- */

/* Reads exactly `width` decimal digits; no sign, no spaces. */
static bool read_digits(const char *text, int width, int *value)
{
	int result = 0;
	for (int i = 0; i < width; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		result = result * 10 + (text[i] - '0');
	}
	*value = result;
	return true;
}

/* Reads "HH:MM" at *cursor into minutes of day, advancing the cursor. */
static int read_clock_time(const char **cursor, int *minute_of_day)
{
	const char *text = *cursor;
	int hours, minutes;
	if (!read_digits(text, 2, &hours) || text[2] != ':' || !read_digits(text + 3, 2, &minutes))
		return BIZCAL_ESYNTAX;
	if (hours > 24 || minutes > 59 || (hours == 24 && minutes != 0))
		return BIZCAL_EBAD_TIME;
	*minute_of_day = hours * 60 + minutes;
	*cursor = text + 5;
	return BIZCAL_OK;
}

int bizcal_parse_day(const char *text, struct bizcal_day *day)
{
	if (text == NULL || day == NULL)
		return BIZCAL_EINVAL;
	struct bizcal_day parsed = {0};
	if (strcmp(text, "closed") == 0) {
		*day = parsed;
		return BIZCAL_OK;
	}
	const char *cursor = text;
	for (;;) {
		struct bizcal_interval interval;
		int rc = read_clock_time(&cursor, &interval.start_minute);
		if (rc != BIZCAL_OK)
			return rc;
		if (*cursor++ != '-')
			return BIZCAL_ESYNTAX;
		rc = read_clock_time(&cursor, &interval.end_minute);
		if (rc != BIZCAL_OK)
			return rc;
		if (parsed.count == BIZCAL_MAX_INTERVALS_PER_DAY)
			return BIZCAL_ETOO_MANY;
		parsed.intervals[parsed.count++] = interval;
		if (*cursor == '\0')
			break;
		if (*cursor++ != ',')
			return BIZCAL_ESYNTAX;
	}
	int rc = validate_day(&parsed, "day", NULL, 0);
	if (rc != BIZCAL_OK)
		return rc;
	*day = parsed;
	return BIZCAL_OK;
}

int bizcal_parse_date(const char *text, int32_t *yyyymmdd)
{
	if (text == NULL || yyyymmdd == NULL)
		return BIZCAL_EINVAL;
	int year, month, day;
	if (strlen(text) != 10 || !read_digits(text, 4, &year) || text[4] != '-' || !read_digits(text + 5, 2, &month) ||
		text[7] != '-' || !read_digits(text + 8, 2, &day))
		return BIZCAL_ESYNTAX;
	int32_t value = (int32_t)year * 10000 + month * 100 + day;
	if (!bizcal_date_valid(value))
		return BIZCAL_EBAD_DATE;
	*yyyymmdd = value;
	return BIZCAL_OK;
}

int bizcal_parse_offset(const char *text, int32_t *utc_offset_secs)
{
	if (text == NULL || utc_offset_secs == NULL)
		return BIZCAL_EINVAL;
	int hours, minutes;
	if (strlen(text) != 6 || (text[0] != '+' && text[0] != '-') || !read_digits(text + 1, 2, &hours) ||
		text[3] != ':' || !read_digits(text + 4, 2, &minutes))
		return BIZCAL_ESYNTAX;
	int32_t magnitude = hours * 3600 + minutes * 60;
	if (minutes > 59 || magnitude > BIZCAL_MAX_OFFSET_SECS)
		return BIZCAL_EOFFSET;
	*utc_offset_secs = text[0] == '-' ? -magnitude : magnitude;
	return BIZCAL_OK;
}

const char *bizcal_weekday_name(enum bizcal_weekday weekday)
{
	if ((int)weekday < 0 || weekday >= BIZCAL_WEEKDAY_COUNT)
		return NULL;
	return WEEKDAY_NAMES[weekday];
}

const char *bizcal_strerror(int code)
{
	switch (code) {
	case BIZCAL_OK: return "ok";
	case BIZCAL_EINVAL: return "invalid argument";
	case BIZCAL_ERANGE: return "time outside 1970-01-01..9999-12-31";
	case BIZCAL_ESYNTAX: return "syntax error";
	case BIZCAL_EBAD_TIME: return "time of day outside 00:00..24:00";
	case BIZCAL_EEND_BEFORE_START: return "interval ends before it starts";
	case BIZCAL_EOVERLAP: return "intervals overlap";
	case BIZCAL_EORDER: return "intervals not in time order";
	case BIZCAL_ETOO_MANY: return "too many intervals in one day";
	case BIZCAL_ENO_HOURS: return "no working hours";
	case BIZCAL_EBAD_DATE: return "not a valid date";
	case BIZCAL_EDATE_ORDER: return "dates not in ascending order";
	case BIZCAL_ECONFLICT: return "date is both a holiday and a make-up day";
	case BIZCAL_EOFFSET: return "utc offset outside -18:00..+18:00";
	case BIZCAL_EPAUSED: return "clock paused: no due time yet";
	case BIZCAL_EPAUSE_ORDER: return "pause spans out of order";
	default: return "unknown error";
	}
}
