/* timefmt.c — ISO 8601 parsing and formatting. */
#define _DEFAULT_SOURCE
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int pd_date_parse(const char *s, int *y, int *m, int *d)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if (digits(s, 4, y) || digits(s + 5, 2, m) || digits(s + 8, 2, d))
		return -1;
	if (*y < 1970 || *y > 9999 || *m < 1 || *m > 12 || *d < 1 ||
	    *d > days_in_month(*y, *m))
		return -1;
	return 0;
}

int pd_month_parse(const char *s, int *y, int *m)
{
	if (strlen(s) != 7 || s[4] != '-')
		return -1;
	if (digits(s, 4, y) || digits(s + 5, 2, m))
		return -1;
	return (*y < 1970 || *y > 9999 || *m < 1 || *m > 12) ? -1 : 0;
}

int pd_time_parse(const char *s, int64_t *utc)
{
	int y, mo, d, h, mi, sec = 0;
	size_t len = strlen(s);
	if (len < 16 || s[10] != 'T' || s[13] != ':')
		return -1;
	char date[11];
	memcpy(date, s, 10);
	date[10] = '\0';
	if (pd_date_parse(date, &y, &mo, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi))
		return -1;
	const char *p = s + 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &sec))
			return -1;
		p += 3;
	}
	if (h > 23 || mi > 59 || sec > 59)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = sec };
	if (*p == '\0') {
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		if (t == (time_t)-1)
			return -1;
		*utc = (int64_t)t;
		return 0;
	}
	int off = 0;
	if (*p == 'Z' && p[1] == '\0') {
		off = 0;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		const char *q = p + 1;
		if (digits(q, 2, &oh))
			return -1;
		q += 2;
		if (*q == ':')
			q++;
		if (digits(q, 2, &om) || q[2] != '\0' || oh > 14 || om > 59)
			return -1;
		off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
	} else {
		return -1;
	}
	*utc = (int64_t)timegm(&tm) - off;
	return 0;
}

/* The zone's UTC offset at a time. localtime_r() costs a microsecond or
 * more (glibc re-reads the zone's rules on every call), and a reply shows a
 * dozen times, so offsets are cached per hour of UTC, per thread: zone
 * transitions fall on whole hours in every zone parceldesk is used in.
 * Tests that change TZ call pd_time_zone_changed(). */
#define OFFSET_CACHE_SLOTS 64
static __thread struct { int64_t hour_plus_one; int offset; } offset_cache[OFFSET_CACHE_SLOTS];
static _Atomic unsigned zone_generation;
static __thread unsigned cache_generation;

void pd_time_zone_changed(void)
{
	zone_generation++;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int zone_offset(int64_t utc)
{
	if (cache_generation != zone_generation) {
		memset(offset_cache, 0, sizeof(offset_cache));
		cache_generation = zone_generation;
	}
	int64_t hour = floor_div(utc, 3600);
	unsigned slot = (unsigned)(hour & (OFFSET_CACHE_SLOTS - 1));
	if (offset_cache[slot].hour_plus_one == hour + 1)
		return offset_cache[slot].offset;
	time_t t = (time_t)utc;
	struct tm tm;
	localtime_r(&t, &tm);
	offset_cache[slot].hour_plus_one = hour + 1;
	offset_cache[slot].offset = (int)tm.tm_gmtoff;
	return (int)tm.tm_gmtoff;
}

/* Civil date of a day count since 1970-01-01 (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put2(char *p, int v)
{
	*p++ = (char)('0' + v / 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

void pd_time_format(int64_t utc, char buf[PD_TIME_BUF])
{
	int off = zone_offset(utc);
	int64_t local = utc + off;
	int64_t days = floor_div(local, 86400);
	int64_t secs = local - days * 86400;
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(buf, PD_TIME_BUF, "%lld", (long long)utc);
		return;
	}
	char *p = buf;
	p = put2(p, y / 100);
	p = put2(p, y % 100);
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = 'T';
	p = put2(p, (int)(secs / 3600));
	*p++ = ':';
	p = put2(p, (int)(secs / 60 % 60));
	*p++ = ':';
	p = put2(p, (int)(secs % 60));
	*p++ = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	p = put2(p, off / 3600 % 100);
	*p++ = ':';
	p = put2(p, off / 60 % 60);
	*p = '\0';
}

int pd_local_day(int64_t utc)
{
	int64_t days = floor_div(utc + zone_offset(utc), 86400);
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	return y * 10000 + m * 100 + d;
}

int64_t pd_local_day_start(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d,
			 .tm_isdst = -1 };
	return (int64_t)mktime(&tm);
}
