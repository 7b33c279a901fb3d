/* timefmt.h — ISO 8601 on the wire, UTC seconds inside.
 *
 * Times are stored as int64 UTC seconds. They are shown in the depot's zone,
 * which is the process's TZ (the daemon sets it from its `timezone` option at
 * start). Input may carry an offset (`Z`, `+08:00`, `+0800`); without one it
 * is read in the depot's zone. */
#ifndef PD_TIMEFMT_H
#define PD_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define PD_TIME_BUF 96

/* Accepts YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM|+HHMM|-..]. Returns 0 or -1. */
int pd_time_parse(const char *s, int64_t *utc);
/* Writes e.g. 2026-11-24T09:30:00+08:00 in the local zone. */
void pd_time_format(int64_t utc, char buf[PD_TIME_BUF]);
/* Call after changing TZ (the formatting caches the zone's offsets). */
void pd_time_zone_changed(void);
/* YYYY-MM-DD (a real calendar date). Returns 0 or -1; fills y, m, d. */
int pd_date_parse(const char *s, int *y, int *m, int *d);
/* YYYY-MM. */
int pd_month_parse(const char *s, int *y, int *m);
/* Local-zone day number YYYYMMDD of a UTC time (for day indexes). */
int pd_local_day(int64_t utc);
/* UTC time of local midnight starting a YYYY-MM-DD day. */
int64_t pd_local_day_start(int y, int m, int d);

#endif
