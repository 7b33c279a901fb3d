/* calendar.h — business-hours calendars (CALENDAR ...) and the look-up other
 * modules use to run an SLA clock in business time.
 *
 * A calendar is a named weekly schedule, a time zone, public holidays and
 * make-up working days, kept in the `calendars` database as a msgpack map.
 * Every change bumps the calendar's `version` and keeps a copy of that
 * version, so a clock records (calendar name, version) when it starts and
 * can be recomputed later (after a pause) on the calendar it started under:
 * changes apply to clocks started after them. A depot uses the calendar
 * assigned to it, else the calendar named `default`, else none (calendar
 * time). The arithmetic is bizcal.h; this module only stores, validates and
 * loads. The rules and choices are in docs/sla.md part 3. */
#ifndef PD_CALENDAR_H
#define PD_CALENDAR_H

#include "bizcal.h"
#include "daemon.h"

/* The calendar that serves depots without one of their own. */
#define CALENDAR_DEFAULT_NAME "default"
/* A calendar name is a word (at most 64 bytes) and its NUL. */
#define CALENDAR_NAME_MAX 65
#define CALENDAR_ZONE_MAX 64
/* Per calendar: about 30 years of Chinese public holidays and 40 of
 * make-up days; beyond, CALENDAR HOLIDAY / WORKDAY answer 422. */
#define CALENDAR_MAX_HOLIDAYS 1024
#define CALENDAR_MAX_WORKDAYS 256

/* What a loaded struct bizcal points into; the caller owns it (about 23 KiB,
 * fine on a stack) and keeps it alive while it uses the calendar. */
struct calendar_buffers {
	char name[CALENDAR_NAME_MAX];  /* the calendar that was loaded */
	char zone[CALENDAR_ZONE_MAX];  /* its zone as defined */
	int32_t holidays[CALENDAR_MAX_HOLIDAYS];
	struct bizcal_makeup_day workdays[CALENDAR_MAX_WORKDAYS];
};

/* Fills cal (and bufs) with the calendar serving depot: the one assigned
 * to it, else `default`. depot may be NULL or "" (then `default`).
 * *version receives the calendar's current version (store it with the
 * clock; bufs->name says which calendar it was).
 * Returns 0; MDB_NOTFOUND when the depot has no calendar and there is no
 * `default` (the clock runs on calendar time); MDB_CORRUPTED when the stored
 * record cannot be read as a valid calendar; or another LMDB error.
 * Works in any transaction (read or write), from any thread; allocates only
 * inside the call. Cost: one or two gets and decoding the record, O(H + M). */
int calendar_for_depot(MDB_txn *txn, struct store *st, const char *depot,
		       struct bizcal *cal, struct calendar_buffers *bufs,
		       int64_t *version);

/* Fills cal (and bufs) with calendar `name` as it was at `version`, or as it
 * is now when version is 0; *version_out (may be NULL) receives the version
 * loaded. Every version ever saved stays loadable, also after CALENDAR DEL,
 * so a clock can be recomputed on the calendar it started under.
 * Returns as calendar_for_depot() (MDB_NOTFOUND: no such calendar or
 * version). */
int calendar_load(MDB_txn *txn, struct store *st, const char *name,
		  int64_t version, struct bizcal *cal,
		  struct calendar_buffers *bufs, int64_t *version_out);

/* ---- SLA clocks (sla_*): what complaints and claims count their due
 * times on (the daemon's own time is clock_now(), daemon.h) ----
 * A record whose clocks run on a calendar keeps `calendar` (its name) and
 * `calendar_version` (the version in force when the clocks started). */
struct sla_calendar {
	bool business;                 /* false: calendar time */
	struct bizcal cal;
	struct calendar_buffers bufs;
};

/* Loads the calendar version a record's clocks run on; business stays false
 * for a record without one (or whose calendar cannot be found). Returns 0
 * or an LMDB error. */
int sla_calendar_load(struct cmd_ctx *ctx, const struct pd_value *rec,
			struct sla_calendar *cc);
/* Starts a record's clocks on the depot's calendar as it is now: sets
 * `clock_basis`, `calendar` and `calendar_version` on rec, fills cc.
 * Returns 0 or an LMDB error. */
int sla_calendar_start(struct cmd_ctx *ctx, const char *depot,
			 struct pd_value *rec, struct sla_calendar *cc);
/* start + a period: business minutes on a calendar, else calendar seconds. */
int64_t sla_add(const struct sla_calendar *cc, int64_t start,
		  int64_t business_minutes, int64_t calendar_secs);
/* The time between two instants as the clock counts it (seconds). */
int64_t sla_span(const struct sla_calendar *cc, int64_t from, int64_t to);

/* The UTC offset of a calendar zone: "+HH:MM" / "-HH:MM", or one of the
 * fixed-offset zone names listed in docs/sla.md (UTC, Asia/Shanghai, ...).
 * Zones with daylight-saving time are refused. Returns 0, or -1 with a
 * sentence naming the problem in msg. */
int calendar_zone_offset(const char *zone, int32_t *utc_offset_secs,
			 char *msg, size_t msg_size);

#endif
