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

void pd_time_format(int64_t utc, char buf[PD_TIME_BUF])
{
	time_t t = (time_t)utc;
	struct tm tm;
	localtime_r(&t, &tm);
	int off = (int)tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	off %= 86400;
	snprintf(buf, PD_TIME_BUF, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, sign, off / 3600, (off % 3600) / 60);
}

int pd_local_day(int64_t utc)
{
	time_t t = (time_t)utc;
	struct tm tm;
	localtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

int64_t pd_local_day_start(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d,
			 .tm_isdst = -1 };
	return (int64_t)mktime(&tm);
}
