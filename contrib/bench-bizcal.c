/* bench-bizcal.c — the cost of computing an SLA due time (issue 7).
 *
 *   build/contrib/bench-bizcal [CALLS]
 *
 * Times bizcal_add_minutes() on a realistic depot calendar: Monday to Friday
 * 09:00-12:00 and 13:00-18:00 (+08:00), 30 public holidays a year and 6
 * make-up Saturdays a year (China moves weekend days around its holidays),
 * 2026-2031. For each budget (60, 480, 2400 and 100,000 business minutes) it
 * runs CALLS calls (default 200,000) from start instants spread over
 * 2026-2027 at random minutes and seconds (inside and outside working
 * hours), five rounds, and prints the median ns per call. Also
 * bizcal_seconds_between() over one to seven days, the cost of the business
 * time-to-resolve of a closed complaint. The sum of the results is printed so
 * the compiler cannot drop the calls. Pure CPU: no store, no network. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bizcal.h"

#define FIRST_YEAR 2026
#define YEARS 6
#define HOLIDAYS_PER_YEAR 30
#define MAKEUP_PER_YEAR 6
#define ROUNDS 5
#define CALLS_DEFAULT 200000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so every run measures the same calls */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int weekday(int64_t days) /* 0 = Monday */
{
	return (int)(((days % 7) + 7 + 3) % 7);
}

static int32_t yyyymmdd(int64_t days)
{
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	return y * 10000 + m * 100 + d;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int32_t holidays[YEARS * HOLIDAYS_PER_YEAR];
static struct bizcal_makeup_day makeups[YEARS * MAKEUP_PER_YEAR];

/* Holidays in blocks like China's (New Year 1, Spring Festival 7 with 2
 * make-up days, Qingming 1, Labour Day 5 with 1, Dragon Boat 1, Mid-Autumn
 * 1, National Day 7 with 2), then a few single days: 30 a year, weekdays
 * and weekends alike as the real list has; 6 make-up Saturdays or Sundays
 * next to the blocks. */
static void build_calendar(struct bizcal *cal)
{
	memset(cal, 0, sizeof(*cal));
	struct bizcal_day day = { 2, { { 9 * 60, 12 * 60 }, { 13 * 60, 18 * 60 } } };
	for (int w = BIZCAL_MONDAY; w <= BIZCAL_FRIDAY; w++)
		cal->week[w] = day;
	cal->utc_offset_secs = 8 * 3600;
	size_t nh = 0, nm = 0;
	static const struct { int month, day, len, makeups; } blocks[] = {
		{ 1, 1, 1, 0 }, { 2, 10, 7, 2 }, { 4, 5, 1, 0 }, { 5, 1, 5, 1 },
		{ 6, 10, 1, 0 }, { 9, 15, 1, 1 }, { 10, 1, 7, 2 },
	};
	for (int y = FIRST_YEAR; y < FIRST_YEAR + YEARS; y++) {
		int32_t year_h[HOLIDAYS_PER_YEAR];
		size_t yh = 0;
		int64_t mk[MAKEUP_PER_YEAR];
		size_t ym = 0;
		for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
			int64_t first = days_from_civil(y, blocks[b].month, blocks[b].day);
			for (int k = 0; k < blocks[b].len; k++)
				year_h[yh++] = yyyymmdd(first + k);
			/* make-up days: the weekend days just after the block */
			int64_t d = first + blocks[b].len;
			for (int k = 0; k < blocks[b].makeups; d++)
				if (weekday(d) >= BIZCAL_SATURDAY) {
					mk[ym++] = d;
					k++;
				}
		}
		/* the rest: single days, spread over the year */
		while (yh < HOLIDAYS_PER_YEAR) {
			int64_t d = days_from_civil(y, 1, 1) + (int64_t)(rng() % 365);
			int32_t v = yyyymmdd(d);
			int dup = 0;
			for (size_t i = 0; i < yh; i++)
				dup |= year_h[i] == v;
			for (size_t i = 0; i < ym; i++)
				dup |= yyyymmdd(mk[i]) == v;
			if (!dup)
				year_h[yh++] = v;
		}
		qsort(year_h, yh, sizeof(year_h[0]), cmp_i32);
		memcpy(holidays + nh, year_h, yh * sizeof(year_h[0]));
		nh += yh;
		while (ym < MAKEUP_PER_YEAR) /* (the blocks give exactly six) */
			mk[ym++] = mk[0];
		for (size_t i = 0; i < ym; i++) {
			int32_t v = yyyymmdd(mk[i]);
			int seen = 0;
			for (size_t j = 0; j < nm; j++)
				seen |= makeups[j].date == v;
			for (size_t j = 0; j < yh; j++)
				seen |= year_h[j] == v;
			if (!seen) {
				makeups[nm].date = v;
				makeups[nm].hours = day;
				nm++;
			}
		}
	}
	/* make-up days ascending */
	for (size_t i = 1; i < nm; i++)
		for (size_t j = i; j > 0 && makeups[j - 1].date > makeups[j].date; j--) {
			struct bizcal_makeup_day t = makeups[j];
			makeups[j] = makeups[j - 1];
			makeups[j - 1] = t;
		}
	cal->holidays = holidays;
	cal->holiday_count = nh;
	cal->makeup_days = makeups;
	cal->makeup_day_count = nm;
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : CALLS_DEFAULT;
	if (calls < 1000)
		calls = 1000;
	struct bizcal cal;
	build_calendar(&cal);
	char msg[256];
	if (bizcal_validate(&cal, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "bench-bizcal: calendar refused: %s\n", msg);
		return 2;
	}
	int64_t *starts = malloc((size_t)calls * sizeof(*starts));
	if (!starts)
		return 2;
	int64_t from = (days_from_civil(FIRST_YEAR, 1, 1) * 86400) - 8 * 3600;
	for (long i = 0; i < calls; i++)
		starts[i] = from + (int64_t)(rng() % (2 * 365 * 86400ULL));

	printf("calendar: Mon-Fri 09:00-12:00,13:00-18:00 +08:00, %zu holidays and %zu make-up days in %d-%d\n",
	       cal.holiday_count, cal.makeup_day_count, FIRST_YEAR, FIRST_YEAR + YEARS - 1);
	printf("%ld calls per round, %d rounds, median round:\n", calls, ROUNDS);
	static const int64_t budgets[] = { 60, 480, 2400, 100000 };
	int64_t sum = 0;
	for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
		double ns[ROUNDS];
		for (int r = 0; r < ROUNDS; r++) {
			double t0 = now_ns();
			for (long i = 0; i < calls; i++) {
				int64_t due;
				if (bizcal_add_minutes(&cal, starts[i], budgets[b], &due) != 0) {
					fprintf(stderr, "bench-bizcal: add_minutes failed\n");
					return 1;
				}
				sum += due;
			}
			ns[r] = (now_ns() - t0) / (double)calls;
		}
		qsort(ns, ROUNDS, sizeof(ns[0]), cmp_double);
		printf("  bizcal_add_minutes %6lld min: %8.1f ns/call (min %.1f, max %.1f)\n",
		       (long long)budgets[b], ns[ROUNDS / 2], ns[0], ns[ROUNDS - 1]);
	}
	{
		double ns[ROUNDS];
		for (int r = 0; r < ROUNDS; r++) {
			double t0 = now_ns();
			for (long i = 0; i < calls; i++) {
				int64_t secs;
				int64_t to = starts[i] + 86400 + (int64_t)(i % 7) * 86400 + (int64_t)(i % 3600);
				if (bizcal_seconds_between(&cal, starts[i], to, &secs) != 0) {
					fprintf(stderr, "bench-bizcal: seconds_between failed\n");
					return 1;
				}
				sum += secs;
			}
			ns[r] = (now_ns() - t0) / (double)calls;
		}
		qsort(ns, ROUNDS, sizeof(ns[0]), cmp_double);
		printf("  bizcal_seconds_between 1-7 days: %8.1f ns/call (min %.1f, max %.1f)\n", ns[ROUNDS / 2],
		       ns[0], ns[ROUNDS - 1]);
	}
	printf("checksum %lld\n", (long long)sum);
	free(starts);
	return 0;
}
