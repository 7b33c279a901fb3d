/*
 * bizcal: business-hours calendar arithmetic.
 *
 * A calendar is a weekly schedule of working intervals in local time, a fixed
 * UTC offset, a sorted list of holidays and a sorted list of make-up working
 * days.  Every function here is pure: no I/O, no clock reads, no globals, no
 * allocation.  Times are int64 UTC seconds; the caller supplies "now".
 *
 * Time zones: the daemon resolves the depot's IANA zone (e.g. Asia/Shanghai)
 * to a fixed offset once, when it loads the configuration, and passes that
 * offset here.  China has had no daylight-saving time since 1991, so one
 * offset is exact for every depot we serve.  A zone with DST would need a
 * calendar per offset period; this module does not model transitions.
 *
 * Contract: build a struct bizcal, call bizcal_validate() once (at config
 * load), then use the arithmetic functions.  The arithmetic functions repeat
 * only the cheap checks (NULL pointers, offset, some working time in the
 * week) so that they always terminate; on a calendar that failed validation
 * their results are unspecified.  See docs/sla.md for the cost of each call.
 */
#ifndef PARCELDESK_BIZCAL_H
#define PARCELDESK_BIZCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIZCAL_MINUTES_PER_DAY 1440
#define BIZCAL_SECONDS_PER_DAY 86400
#define BIZCAL_MAX_INTERVALS_PER_DAY 8
/* The widest offsets in use are -12:00 and +14:00; +-18:00 is ISO 8601's limit. */
#define BIZCAL_MAX_OFFSET_SECS (18 * 3600)
/* Supported instants: 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define BIZCAL_MIN_UTC INT64_C(0)
#define BIZCAL_MAX_UTC INT64_C(253402300799)
/* to_utc of a pause that has not ended yet. */
#define BIZCAL_OPEN_END INT64_MAX

/* Return codes: 0 on success, one of these (negative) on failure. */
enum bizcal_error {
	BIZCAL_OK = 0,
	BIZCAL_EINVAL = -1,           /* NULL pointer or negative amount */
	BIZCAL_ERANGE = -2,           /* instant or result outside BIZCAL_MIN_UTC..BIZCAL_MAX_UTC */
	BIZCAL_ESYNTAX = -3,          /* text does not follow the documented format */
	BIZCAL_EBAD_TIME = -4,        /* minute of day outside 00:00..24:00 */
	BIZCAL_EEND_BEFORE_START = -5, /* interval ends at or before its start */
	BIZCAL_EOVERLAP = -6,         /* two intervals of one day overlap */
	BIZCAL_EORDER = -7,           /* intervals of one day not in ascending order */
	BIZCAL_ETOO_MANY = -8,        /* more than BIZCAL_MAX_INTERVALS_PER_DAY intervals */
	BIZCAL_ENO_HOURS = -9,        /* no working time in the week, or an empty make-up day */
	BIZCAL_EBAD_DATE = -10,       /* not a real Gregorian date in years 1..9999 */
	BIZCAL_EDATE_ORDER = -11,     /* holidays or make-up days not strictly ascending */
	BIZCAL_ECONFLICT = -12,       /* one date is both a holiday and a make-up day */
	BIZCAL_EOFFSET = -13,         /* UTC offset beyond +-18:00 */
	BIZCAL_EPAUSED = -14,         /* the clock is paused with no end: no due time yet */
	BIZCAL_EPAUSE_ORDER = -15,    /* pause spans reversed, overlapping or out of order */
};

/* ISO 8601 weekday order: the week array of a calendar starts on Monday. */
enum bizcal_weekday {
	BIZCAL_MONDAY,
	BIZCAL_TUESDAY,
	BIZCAL_WEDNESDAY,
	BIZCAL_THURSDAY,
	BIZCAL_FRIDAY,
	BIZCAL_SATURDAY,
	BIZCAL_SUNDAY,
	BIZCAL_WEEKDAY_COUNT
};

/*
 * A working interval [start_minute, end_minute) in minutes from local
 * midnight; end_minute may be 1440 (24:00).  A shift that crosses midnight is
 * written as two intervals on consecutive days.
 */
struct bizcal_interval {
	int start_minute;
	int end_minute;
};

/* One day's working hours: intervals ascending and not overlapping; count 0 = closed. */
struct bizcal_day {
	unsigned count;
	struct bizcal_interval intervals[BIZCAL_MAX_INTERVALS_PER_DAY];
};

/* A date (YYYYMMDD) that works with the given hours whatever its weekday. */
struct bizcal_makeup_day {
	int32_t date;
	struct bizcal_day hours;
};

/*
 * The calendar.  The holiday and make-up arrays are owned by the caller and
 * must outlive every call that uses the calendar; both are sorted strictly
 * ascending by date.  A holiday replaces the weekly hours of its date with
 * none; a make-up day replaces them with its own hours.
 */
struct bizcal {
	struct bizcal_day week[BIZCAL_WEEKDAY_COUNT];
	int32_t utc_offset_secs;             /* local = UTC + offset; +08:00 is 28800 */
	const int32_t *holidays;             /* YYYYMMDD, ascending */
	size_t holiday_count;
	const struct bizcal_makeup_day *makeup_days; /* ascending by date */
	size_t makeup_day_count;
};

/* A span [from_utc, to_utc) during which an SLA clock does not run. */
struct bizcal_span {
	int64_t from_utc;
	int64_t to_utc; /* BIZCAL_OPEN_END while the pause goes on */
};

/*
 * Checks the whole calendar: offset range, every interval (bounds, end after
 * start, no overlap, ascending order, at most BIZCAL_MAX_INTERVALS_PER_DAY),
 * some working time in the weekly schedule, holiday and make-up dates real
 * and strictly ascending, no date both a holiday and a make-up day, no
 * make-up day without hours.  Returns 0 or the first problem's code; when
 * message is not NULL it receives a NUL-terminated sentence naming the
 * problem (e.g. "tuesday: interval 2 (11:00-13:00) overlaps interval 1
 * (09:00-12:00)"), truncated to message_size.  Cost O(H + M).
 */
int bizcal_validate(const struct bizcal *cal, char *message, size_t message_size);

/*
 * Due time of a clock that starts at start_utc and must run `seconds`
 * business seconds: the first instant at which that much working time has
 * passed.  A due time that falls exactly at the end of an interval is that
 * end (17:00 + 60 min on a 09:00-18:00 day is 18:00, not 09:00 next day).
 * Adding 0 returns start_utc even outside working hours.
 * Errors: BIZCAL_EINVAL (NULL, seconds < 0), BIZCAL_ERANGE (start or due
 * outside the supported range), BIZCAL_ENO_HOURS, BIZCAL_EOFFSET.
 */
int bizcal_add_seconds(const struct bizcal *cal, int64_t start_utc, int64_t seconds,
		       int64_t *due_utc);

/* bizcal_add_seconds() with minutes; exact to the second of start_utc. */
int bizcal_add_minutes(const struct bizcal *cal, int64_t start_utc, int64_t minutes,
		       int64_t *due_utc);

/*
 * Business seconds in [from_utc, to_utc).  to_utc before from_utc is
 * BIZCAL_EINVAL (ask the other way round).  Inverse of bizcal_add_seconds():
 * seconds_between(t, add_seconds(t, n)) == n.
 */
int bizcal_seconds_between(const struct bizcal *cal, int64_t from_utc, int64_t to_utc,
			   int64_t *seconds);

/* Whole business minutes in [from_utc, to_utc), rounded down. */
int bizcal_minutes_between(const struct bizcal *cal, int64_t from_utc, int64_t to_utc,
			   int64_t *minutes);

/*
 * Due time of a clock of `minutes` business minutes started at start_utc
 * that stops during each pause span: the plain due time shifted by the
 * business time that falls inside the pauses.  Spans must be ordered, each
 * from_utc <= to_utc and each from_utc >= the previous to_utc (touching is
 * fine); only the last may be open (to_utc == BIZCAL_OPEN_END).  Spans or
 * parts of spans before start_utc have no effect.  If the due time is
 * reached before an open pause begins, it is returned; otherwise
 * BIZCAL_EPAUSED (the clock is stopped, no due time exists yet).
 * Errors as bizcal_add_seconds(), plus BIZCAL_EPAUSE_ORDER and BIZCAL_EPAUSED.
 */
int bizcal_add_minutes_paused(const struct bizcal *cal, int64_t start_utc, int64_t minutes,
			      const struct bizcal_span *pauses, size_t pause_count,
			      int64_t *due_utc);

/*
 * Parses one day's hours: "HH:MM-HH:MM" intervals joined by "," with no
 * spaces, e.g. "09:00-12:00,13:30-18:00", or the word "closed" for none.
 * Hours are two digits 00..24, minutes two digits 00..59, 24:00 is the only
 * time with hour 24.  The result must pass the same interval checks as
 * bizcal_validate() (end after start, no overlap, ascending, at most
 * BIZCAL_MAX_INTERVALS_PER_DAY).  *day is written only on success.
 */
int bizcal_parse_day(const char *text, struct bizcal_day *day);

/* Parses "YYYY-MM-DD" (exactly; a real date in 0001..9999) to YYYYMMDD. */
int bizcal_parse_date(const char *text, int32_t *yyyymmdd);

/* Parses "+HH:MM" or "-HH:MM" (sign required, at most 18:00) to seconds. */
int bizcal_parse_offset(const char *text, int32_t *utc_offset_secs);

/* True when yyyymmdd is a real Gregorian date in years 1..9999. */
bool bizcal_date_valid(int32_t yyyymmdd);

/* "monday" .. "sunday"; NULL when out of range. */
const char *bizcal_weekday_name(enum bizcal_weekday weekday);

/* A short English description of a return code; never NULL. */
const char *bizcal_strerror(int code);

#endif
