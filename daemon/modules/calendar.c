/* calendar.c — CALENDAR commands and the calendar look-up for SLA clocks.
 *
 * Keys of the `calendars` database (names are words: letters, digits,
 * _ - ., so the three kinds never collide):
 *   NAME                  -> the calendar as it is now
 *   \x01 NAME \0 be64 V   -> the calendar as it was at version V (kept for
 *                            clocks started under V, also after DEL)
 *   depot=CODE            -> {depot, calendar, assigned_at, assigned_by}
 * A stored calendar keeps its days as canonical text ("09:00-12:00,
 * 13:30-18:00" or "closed") and its zone as defined; loading parses them
 * into a struct bizcal and validates it. Every write goes through
 * calendar_save(), which validates the whole calendar the change would
 * leave, bumps the version, keeps the copy and writes the timeline entry,
 * so no handler can store a calendar bizcal would refuse. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "timefmt.h"
#include "calendar.h"
#include "record.h"

#define KEY_MAX 96
#define VERSION_KEY_TAG '\x01'
#define DEPOT_KEY_PREFIX "depot="
#define MSG_MAX 240
#define ZONEINFO_DIR "/usr/share/zoneinfo/"
/* Assigned depots named in a refusal before "..." */
#define DEL_DEPOTS_NAMED 5

static const char *const DAY_KEYS[BIZCAL_WEEKDAY_COUNT] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};

/* Zones whose offset has not changed since 1991 at the latest, so one
 * offset is exact for every clock started today (docs/sla.md part 3). */
static const struct fixed_zone {
	const char *name;
	int32_t utc_offset_secs;
} FIXED_ZONES[] = {
	{ "UTC", 0 },
	{ "Etc/UTC", 0 },
	{ "Asia/Shanghai", 8 * 3600 },  /* no DST since 1991 */
	{ "Asia/Hong_Kong", 8 * 3600 }, /* none since 1979 */
	{ "Asia/Macau", 8 * 3600 },     /* none since 1979 */
	{ "Asia/Taipei", 8 * 3600 },    /* none since 1979 */
};
#define FIXED_ZONE_LIST "UTC, Etc/UTC, Asia/Shanghai, Asia/Hong_Kong, Asia/Macau, Asia/Taipei"

/* s as shown in a message: at most size - 1 bytes, cut before a UTF-8
 * sequence rather than inside one (replies must stay valid UTF-8). */
static const char *clip(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);
	if (n < size)
		return s;
	n = size - 4;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	return buf;
}

/* ---- zones ---- */

/* A name that could be a zoneinfo file: no "..", no leading "/". */
static bool zone_name_plausible(const char *zone)
{
	size_t n = strlen(zone);
	if (n == 0 || n > 48 || zone[0] == '/' || strstr(zone, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = zone[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '-' || c == '+'))
			return false;
	}
	return true;
}

int calendar_zone_offset(const char *zone, int32_t *utc_offset_secs, char *msg, size_t msg_size)
{
	char shown[41];
	if (zone[0] == '+' || zone[0] == '-') {
		int rc = bizcal_parse_offset(zone, utc_offset_secs);
		if (rc == BIZCAL_OK)
			return 0;
		snprintf(msg, msg_size, "zone %s is not an offset like +08:00 (at most 18:00 either way)",
			 clip(zone, shown, sizeof(shown)));
		return -1;
	}
	for (size_t i = 0; i < sizeof(FIXED_ZONES) / sizeof(FIXED_ZONES[0]); i++) {
		if (strcmp(zone, FIXED_ZONES[i].name) == 0) {
			*utc_offset_secs = FIXED_ZONES[i].utc_offset_secs;
			return 0;
		}
	}
	/* Only to word the refusal: a zone the system knows may have DST. */
	struct stat sb;
	char path[128];
	if (zone_name_plausible(zone) &&
	    snprintf(path, sizeof(path), ZONEINFO_DIR "%s", zone) < (int)sizeof(path) &&
	    stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		snprintf(msg, msg_size,
			 "zone %s is not a fixed-offset zone calendars accept (" FIXED_ZONE_LIST
			 ", or +HH:MM); daylight saving is not supported", zone);
	else
		snprintf(msg, msg_size, "unknown time zone %s: give an offset like +08:00 or one of " FIXED_ZONE_LIST,
			 clip(zone, shown, sizeof(shown)));
	return -1;
}

static void format_offset(int32_t secs, char buf[8])
{
	int32_t m = (secs < 0 ? -secs : secs) / 60;
	snprintf(buf, 8, "%c%02d:%02d", secs < 0 ? '-' : '+', (int)(m / 60 % 100), (int)(m % 60));
}

/* An instant in the calendar's own offset: 2026-03-09T09:50:00+08:00. */
static void format_in_offset(int64_t utc, int32_t offset_secs, char buf[PD_TIME_BUF])
{
	time_t t = (time_t)(utc + offset_secs);
	struct tm tm;
	char off[8];
	gmtime_r(&t, &tm);
	format_offset(offset_secs, off);
	snprintf(buf, PD_TIME_BUF, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off);
}

/* ---- hours ---- */

/* Parses one day's hours ("HH:MM-HH:MM" joined by ",", or "closed") one
 * interval at a time, so that each problem is named; overlap and order are
 * left to bizcal_validate(), which names both intervals. Returns 0, or the
 * reply code (400 unreadable, 422 refused) with msg set. */
static int parse_hours(const char *label, const char *text, struct bizcal_day *day, char *msg, size_t msg_size)
{
	memset(day, 0, sizeof(*day));
	if (strcmp(text, "closed") == 0)
		return 0;
	char shown[25];
	const char *p = text;
	for (unsigned n = 1;; n++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char piece[16];
		if (len != 11) {
			snprintf(msg, msg_size, "%s: \"%s\" is not HH:MM-HH:MM, intervals joined by commas, or closed",
				 label, clip(text, shown, sizeof(shown)));
			return 400;
		}
		memcpy(piece, p, len);
		piece[len] = '\0';
		struct bizcal_day one;
		int rc = bizcal_parse_day(piece, &one);
		if (rc == BIZCAL_EEND_BEFORE_START) {
			snprintf(msg, msg_size, "%s: interval %u (%s) ends before it starts; a shift past midnight is two intervals on two days",
				 label, n, piece);
			return 422;
		}
		if (rc == BIZCAL_EBAD_TIME) {
			snprintf(msg, msg_size, "%s: interval %u (%s) has a time outside 00:00-24:00", label, n, piece);
			return 400;
		}
		if (rc != BIZCAL_OK || one.count != 1) {
			snprintf(msg, msg_size, "%s: \"%s\" is not HH:MM-HH:MM, intervals joined by commas, or closed",
				 label, clip(text, shown, sizeof(shown)));
			return 400;
		}
		if (day->count == BIZCAL_MAX_INTERVALS_PER_DAY) {
			snprintf(msg, msg_size, "%s: more than %d intervals", label, BIZCAL_MAX_INTERVALS_PER_DAY);
			return 422;
		}
		day->intervals[day->count++] = one.intervals[0];
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* The canonical text of a day: what GET shows and the store keeps. */
static const char *hours_text(struct pd_arena *a, const struct bizcal_day *day)
{
	if (day->count == 0)
		return "closed";
	char buf[BIZCAL_MAX_INTERVALS_PER_DAY * 12 + 1];
	size_t used = 0;
	for (unsigned i = 0; i < day->count; i++) {
		const struct bizcal_interval *iv = &day->intervals[i];
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%02d:%02d-%02d:%02d", i ? "," : "",
					 iv->start_minute / 60, iv->start_minute % 60, iv->end_minute / 60,
					 iv->end_minute % 60);
	}
	return pd_strdup(a, buf);
}

static int64_t day_minutes(const struct bizcal_day *day)
{
	int64_t total = 0;
	for (unsigned i = 0; i < day->count; i++)
		total += day->intervals[i].end_minute - day->intervals[i].start_minute;
	return total;
}

/* ---- records <-> struct bizcal ---- */

/* Builds cal from a stored (or about to be stored) calendar record and
 * validates it. Returns 0, or a reply code with msg naming the problem. */
static int decode(const struct pd_value *rec, struct bizcal *cal, struct calendar_buffers *bufs, char *msg,
		  size_t msg_size)
{
	memset(cal, 0, sizeof(*cal));
	char shown[17];
	snprintf(bufs->name, sizeof(bufs->name), "%s", rec_str(rec, "name"));
	snprintf(bufs->zone, sizeof(bufs->zone), "%s", rec_str(rec, "zone"));
	if (calendar_zone_offset(rec_str(rec, "zone"), &cal->utc_offset_secs, msg, msg_size) < 0)
		return 422;
	int rc;
	for (int d = 0; d < BIZCAL_WEEKDAY_COUNT; d++) {
		const char *text = pd_map_str(rec, DAY_KEYS[d]);
		if ((rc = parse_hours(DAY_KEYS[d], text ? text : "closed", &cal->week[d], msg, msg_size)))
			return rc;
	}
	size_t n = 0;
	struct pd_value *list = pd_map_get(rec, "holidays");
	for (struct pd_entry *e = list && list->type == PD_ARR ? list->u.c.head : NULL; e; e = e->next, n++) {
		if (n == CALENDAR_MAX_HOLIDAYS) {
			snprintf(msg, msg_size, "more than %d holidays", CALENDAR_MAX_HOLIDAYS);
			return 422;
		}
		const char *date = rec_str(e->val, "date");
		if (bizcal_parse_date(date, &bufs->holidays[n]) != BIZCAL_OK) {
			snprintf(msg, msg_size, "holiday %zu: \"%s\" is not a date like 2026-10-01", n + 1, clip(date, shown, sizeof(shown)));
			return 400;
		}
	}
	cal->holidays = bufs->holidays;
	cal->holiday_count = n;
	n = 0;
	list = pd_map_get(rec, "workdays");
	for (struct pd_entry *e = list && list->type == PD_ARR ? list->u.c.head : NULL; e; e = e->next, n++) {
		if (n == CALENDAR_MAX_WORKDAYS) {
			snprintf(msg, msg_size, "more than %d make-up days", CALENDAR_MAX_WORKDAYS);
			return 422;
		}
		const char *date = rec_str(e->val, "date");
		struct bizcal_makeup_day *w = &bufs->workdays[n];
		if (bizcal_parse_date(date, &w->date) != BIZCAL_OK) {
			snprintf(msg, msg_size, "make-up day %zu: \"%s\" is not a date like 2026-10-10", n + 1, clip(date, shown, sizeof(shown)));
			return 400;
		}
		char label[40];
		snprintf(label, sizeof(label), "make-up day %s", date);
		if ((rc = parse_hours(label, rec_str(e->val, "hours"), &w->hours, msg, msg_size)))
			return rc;
	}
	cal->makeup_days = bufs->workdays;
	cal->makeup_day_count = n;
	if (bizcal_validate(cal, msg, msg_size) != BIZCAL_OK)
		return 422;
	return 0;
}

static size_t version_key(const char *name, int64_t version, unsigned char key[KEY_MAX])
{
	size_t n = strlen(name);
	if (n > CALENDAR_NAME_MAX - 1)
		n = CALENDAR_NAME_MAX - 1;
	key[0] = VERSION_KEY_TAG;
	memcpy(key + 1, name, n);
	key[n + 1] = '\0';
	be64_put(key + n + 2, (uint64_t)version);
	return n + 10;
}

static size_t depot_key(const char *depot, char key[KEY_MAX])
{
	int n = snprintf(key, KEY_MAX, DEPOT_KEY_PREFIX "%s", depot);
	return n < KEY_MAX ? (size_t)n : KEY_MAX - 1;
}

/* Loads and decodes; the API's one path. */
static int load_decoded(MDB_txn *txn, struct store *st, const char *name, int64_t version, struct bizcal *cal,
			struct calendar_buffers *bufs, int64_t *version_out)
{
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *rec;
	int rc;
	if (version > 0) {
		unsigned char key[KEY_MAX];
		rc = store_get(txn, st->calendars, key, version_key(name, version, key), &a, &rec);
	} else {
		rc = store_get(txn, st->calendars, name, strlen(name), &a, &rec);
	}
	if (rc == 0) {
		char msg[MSG_MAX];
		if (rec->type != PD_MAP || decode(rec, cal, bufs, msg, sizeof(msg)) != 0)
			rc = MDB_CORRUPTED;
		else if (version_out)
			*version_out = rec_int(rec, "version");
	}
	pd_arena_free(&a);
	return rc;
}

int calendar_load(MDB_txn *txn, struct store *st, const char *name, int64_t version, struct bizcal *cal,
		  struct calendar_buffers *bufs, int64_t *version_out)
{
	if (!name || !*name || strlen(name) >= CALENDAR_NAME_MAX || version < 0)
		return MDB_NOTFOUND;
	return load_decoded(txn, st, name, version, cal, bufs, version_out);
}

int calendar_for_depot(MDB_txn *txn, struct store *st, const char *depot, struct bizcal *cal,
		       struct calendar_buffers *bufs, int64_t *version)
{
	if (depot && *depot) {
		char key[KEY_MAX];
		struct pd_arena a;
		pd_arena_init(&a);
		struct pd_value *assignment;
		char name[CALENDAR_NAME_MAX] = "";
		int rc = store_get(txn, st->calendars, key, depot_key(depot, key), &a, &assignment);
		if (rc == 0)
			snprintf(name, sizeof(name), "%s", rec_str(assignment, "calendar"));
		pd_arena_free(&a);
		if (rc && rc != MDB_NOTFOUND)
			return rc;
		if (*name) {
			rc = calendar_load(txn, st, name, 0, cal, bufs, version);
			/* DEL refuses an assigned calendar; should one be missing
			 * anyway, the depot is served like one without. */
			if (rc != MDB_NOTFOUND)
				return rc;
		}
	}
	return calendar_load(txn, st, CALENDAR_DEFAULT_NAME, 0, cal, bufs, version);
}

/* The highest version ever saved under name, 0 for none: a calendar
 * deleted and defined again goes on counting, so versions never repeat. */
static int last_version(MDB_txn *txn, struct store *st, const char *name, int64_t *out)
{
	unsigned char key[KEY_MAX];
	size_t klen = version_key(name, 0, key);
	size_t plen = klen - 8;
	memset(key + plen, 0xff, 8);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, st->calendars, &cur);
	if (rc)
		return rc;
	MDB_val k = { klen, key }, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	*out = 0;
	if (rc == 0 && k.mv_size == klen && memcmp(k.mv_data, key, plen) == 0)
		*out = (int64_t)be64_get((const unsigned char *)k.mv_data + plen);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Depot assignments as {depot, calendar} maps in depot order; only those
 * of calendar `name` unless it is NULL. */
static int assignments(struct cmd_ctx *ctx, const char *name, struct pd_value **out)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->calendars, &cur);
	if (rc)
		return rc;
	struct pd_value *list = pd_arr(ctx->a);
	size_t plen = strlen(DEPOT_KEY_PREFIX);
	MDB_val k = { plen, DEPOT_KEY_PREFIX }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, DEPOT_KEY_PREFIX, plen) != 0)
			break;
		struct pd_value *rec;
		size_t used;
		if (pd_value_unpack(ctx->a, v.mv_data, v.mv_size, &used, &rec) != PD_UNPACK_OK || rec->type != PD_MAP) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (name && strcmp(rec_str(rec, "calendar"), name) != 0)
			continue;
		pd_arr_push(ctx->a, list, rec);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	*out = list;
	return 0;
}

/* ---- handler helpers ---- */

static int calendar_get_rec(struct cmd_ctx *ctx, const char *name, struct pd_value **out)
{
	int rc = store_get(ctx->txn, ctx->st->calendars, name, strlen(name), ctx->a, out);
	if (rc == MDB_NOTFOUND)
		reply_error(ctx, 404, "no calendar %s", name);
	else if (rc)
		reply_store_error(ctx, rc);
	return rc;
}

static struct calendar_buffers *new_buffers(struct cmd_ctx *ctx)
{
	return pd_alloc(ctx->a, sizeof(struct calendar_buffers));
}

/* What a date is in this calendar, for the timeline: "holiday National
 * Day", "make-up day 09:00-18:00", or "" (an ordinary day). */
static const char *date_role(struct pd_arena *a, const struct pd_value *rec, const char *date)
{
	struct pd_value *list = pd_map_get(rec, "holidays");
	for (struct pd_entry *e = list ? list->u.c.head : NULL; e; e = e->next)
		if (strcmp(rec_str(e->val, "date"), date) == 0)
			return pd_sprintf(a, "holiday %s", rec_str(e->val, "label"));
	list = pd_map_get(rec, "workdays");
	for (struct pd_entry *e = list ? list->u.c.head : NULL; e; e = e->next)
		if (strcmp(rec_str(e->val, "date"), date) == 0)
			return pd_sprintf(a, "make-up day %s %s", rec_str(e->val, "hours"), rec_str(e->val, "label"));
	return "";
}

/* The fields a timeline entry compares: zone, the week, version, and the
 * date a HOLIDAY / WORKDAY change touched (keeps entries small however
 * many holidays the calendar has). */
static struct pd_value *audit_view(struct cmd_ctx *ctx, const struct pd_value *rec, const char *date)
{
	if (!rec)
		return NULL;
	struct pd_value *v = pd_map(ctx->a);
	pd_map_set_str(ctx->a, v, "zone", rec_str(rec, "zone"));
	for (int d = 0; d < BIZCAL_WEEKDAY_COUNT; d++)
		pd_map_set_str(ctx->a, v, DAY_KEYS[d], rec_str(rec, DAY_KEYS[d]));
	pd_map_set_int(ctx->a, v, "version", rec_int(rec, "version"));
	if (date) {
		const char *role = date_role(ctx->a, rec, date);
		pd_map_set_str(ctx->a, v, date, *role ? role : "ordinary day");
	}
	return v;
}

/* Validates the calendar `after` would be, then writes it as the next
 * version, keeps that version's copy and writes the timeline entry.
 * Returns 0, or nonzero with the reply set (nothing written: the writer rolls
 * back a job that does not answer 2xx). */
static int calendar_save(struct cmd_ctx *ctx, const struct pd_value *before, struct pd_value *after,
			 const char *action, const char *text, const char *date)
{
	const char *name = rec_str(after, "name");
	int64_t version = before ? rec_int(before, "version") : 0;
	int rc;
	if (!before && (rc = last_version(ctx->txn, ctx->st, name, &version)))
		return reply_store_error(ctx, rc);
	pd_map_set_int(ctx->a, after, "version", version + 1);
	pd_map_set_int(ctx->a, after, "changed_at", ctx->now);
	pd_map_set_str(ctx->a, after, "changed_by", ctx->sess->user);

	struct bizcal cal;
	char msg[MSG_MAX];
	int code = decode(after, &cal, new_buffers(ctx), msg, sizeof(msg));
	if (code)
		return reply_error(ctx, code, "calendar %s: %s", name, msg);
	unsigned char vkey[KEY_MAX];
	if ((rc = store_put(ctx->txn, ctx->st->calendars, name, strlen(name), after, 0)) ||
	    (rc = store_put(ctx->txn, ctx->st->calendars, vkey, version_key(name, version + 1, vkey), after, 0)) ||
	    (rc = rec_audit_change(ctx, "calendar", rec_int(after, "id"), action, text,
				   audit_view(ctx, before, date), audit_view(ctx, after, date))))
		return reply_store_error(ctx, rc);
	return 0;
}

/* The short form of a calendar a write answers with. */
static struct pd_value *summary(struct cmd_ctx *ctx, const struct pd_value *rec)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "name", rec_str(rec, "name"));
	pd_map_set_int(a, d, "version", rec_int(rec, "version"));
	map_set_time(ctx, d, "changed_at", rec_int(rec, "changed_at"));
	pd_map_set_str(a, d, "zone", rec_str(rec, "zone"));
	for (int i = 0; i < BIZCAL_WEEKDAY_COUNT; i++)
		pd_map_set_str(a, d, DAY_KEYS[i], rec_str(rec, DAY_KEYS[i]));
	struct pd_value *h = pd_map_get(rec, "holidays"), *w = pd_map_get(rec, "workdays");
	pd_map_set_int(a, d, "holiday_count", h ? (int64_t)h->u.c.count : 0);
	pd_map_set_int(a, d, "workday_count", w ? (int64_t)w->u.c.count : 0);
	return d;
}

#define APPLIES "applies to clocks started from now on"

static void answer_change(struct cmd_ctx *ctx, const struct pd_value *after, int code, const char *what)
{
	ctx->rep->data = summary(ctx, after);
	reply_ok(ctx, code, "calendar %s version %lld: %s; " APPLIES, rec_str(after, "name"),
		 (long long)rec_int(after, "version"), what);
}

/* Index in a dated list (holidays, workdays) of date, or -1. */
static int find_date(const struct pd_value *list, const char *date)
{
	int i = 0;
	for (struct pd_entry *e = list ? list->u.c.head : NULL; e; e = e->next, i++)
		if (strcmp(rec_str(e->val, "date"), date) == 0)
			return i;
	return -1;
}

static size_t list_count(const struct pd_value *list)
{
	return list && list->type == PD_ARR ? list->u.c.count : 0;
}

/* A copy of a dated list with item inserted in date order (item NULL:
 * with the entry of `date` left out). Dates are YYYY-MM-DD, so string
 * order is date order. */
static struct pd_value *list_with(struct pd_arena *a, const struct pd_value *list, const char *date,
				  struct pd_value *item)
{
	struct pd_value *out = pd_arr(a);
	for (struct pd_entry *e = list ? list->u.c.head : NULL; e; e = e->next) {
		int cmp = strcmp(rec_str(e->val, "date"), date);
		if (item && cmp > 0) {
			pd_arr_push(a, out, item);
			item = NULL;
		}
		if (cmp != 0)
			pd_arr_push(a, out, e->val);
	}
	if (item)
		pd_arr_push(a, out, item);
	return out;
}

/* Loads the named calendar for a change: the stored record and a working
 * copy, or nonzero with the reply set. */
static int load_for_change(struct cmd_ctx *ctx, struct pd_value **before, struct pd_value **after)
{
	int rc = calendar_get_rec(ctx, pd_arg_str(ctx->args, "name"), before);
	if (rc == 0)
		*after = pd_value_copy(ctx->a, *before);
	return rc;
}

/* ---- commands ---- */

int cmd_calendar_set(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *name = pd_arg_str(ctx->args, "name");
	const char *zone = pd_arg_str(ctx->args, "zone");
	char msg[MSG_MAX];
	int32_t offset;
	if (calendar_zone_offset(zone, &offset, msg, sizeof(msg)) < 0)
		return reply_error(ctx, 422, "%s", msg);
	const char *days[BIZCAL_WEEKDAY_COUNT];
	for (int d = 0; d < BIZCAL_WEEKDAY_COUNT; d++) {
		const char *text = pd_arg_str(ctx->args, DAY_KEYS[d]);
		struct bizcal_day day;
		int code = parse_hours(DAY_KEYS[d], text ? text : "closed", &day, msg, sizeof(msg));
		if (code)
			return reply_error(ctx, code, "calendar %s: %s", name, msg);
		days[d] = hours_text(a, &day);
	}

	struct pd_value *before = NULL, *after;
	int rc = store_get(ctx->txn, ctx->st->calendars, name, strlen(name), a, &before);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	if (rc == MDB_NOTFOUND) {
		uint64_t id;
		if ((rc = store_next_seq(ctx->txn, ctx->st, "calendar", &id)))
			return reply_store_error(ctx, rc);
		before = NULL;
		after = pd_map(a);
		pd_map_set_int(a, after, "id", (int64_t)id);
		pd_map_set_str(a, after, "name", name);
	} else {
		bool same = strcmp(rec_str(before, "zone"), zone) == 0;
		for (int d = 0; d < BIZCAL_WEEKDAY_COUNT && same; d++)
			same = strcmp(rec_str(before, DAY_KEYS[d]), days[d]) == 0;
		if (same) {
			ctx->rep->data = summary(ctx, before);
			return reply_ok(ctx, 200, "calendar %s unchanged (version %lld)", name,
					(long long)rec_int(before, "version"));
		}
		after = pd_value_copy(a, before);
	}
	pd_map_set_str(a, after, "zone", zone);
	for (int d = 0; d < BIZCAL_WEEKDAY_COUNT; d++)
		pd_map_set_str(a, after, DAY_KEYS[d], days[d]);
	if (!before) {
		pd_map_set(a, after, "holidays", pd_arr(a));
		pd_map_set(a, after, "workdays", pd_arr(a));
		pd_map_set_int(a, after, "created_at", ctx->now);
	}
	if (calendar_save(ctx, before, after, before ? "change" : "create", NULL, NULL))
		return PD_EREPLIED;
	answer_change(ctx, after, before ? 200 : 201, before ? "hours changed" : "created");
	return 0;
}

/* The two lists of dated exceptions a calendar keeps: holidays (days off)
 * and make-up working days. CALENDAR HOLIDAY and WORKDAY add to one, the
 * UN- commands remove from it; a date is in one list at most. */
struct dated_list {
	const char *field;	/* the calendar's list: holidays, workdays */
	const char *noun;	/* holiday, make-up day */
	const char *nouns;	/* holidays, make-up days */
	int max;
	const char *again;	/* after "already a NOUN of calendar X" */
	const char *blocking;	/* what a date of this list is to the other's add */
	const char *remove_cmd;	/* the command that frees such a date */
	const char *action, *unaction; /* in the timeline */
	/* the item's own fields (a make-up day's hours), or nonzero with the
	 * reply set */
	int (*fill)(struct cmd_ctx *ctx, const char *name, const char *date, struct pd_value *item);
	const struct dated_list *other;
};

static int workday_hours(struct cmd_ctx *ctx, const char *name, const char *date, struct pd_value *item)
{
	char what[40], msg[MSG_MAX];
	snprintf(what, sizeof(what), "make-up day %s", date);
	struct bizcal_day day;
	int code = parse_hours(what, pd_arg_str(ctx->args, "hours"), &day, msg, sizeof(msg));
	if (code)
		return reply_error(ctx, code, "calendar %s: %s", name, msg);
	if (day.count == 0)
		return reply_error(ctx, 422, "calendar %s: %s needs working hours; a day off is a holiday (CALENDAR HOLIDAY)",
				   name, what);
	pd_map_set_str(ctx->a, item, "hours", hours_text(ctx->a, &day));
	return 0;
}

static const struct dated_list HOLIDAYS, WORKDAYS;

static const struct dated_list HOLIDAYS = {
	"holidays", "holiday", "holidays", CALENDAR_MAX_HOLIDAYS, "",
	"a holiday", "CALENDAR UNHOLIDAY", "holiday", "unholiday", NULL, &WORKDAYS,
};

static const struct dated_list WORKDAYS = {
	"workdays", "make-up day", "make-up days", CALENDAR_MAX_WORKDAYS, ": remove it first to change its hours",
	"a make-up working day", "CALENDAR UNWORKDAY", "workday", "unworkday", workday_hours, &HOLIDAYS,
};

/* Adds the request's date (and label) to one of the calendar's lists. */
static int add_date(struct cmd_ctx *ctx, const struct dated_list *l)
{
	struct pd_arena *a = ctx->a;
	const char *date = pd_arg_str(ctx->args, "date");
	const char *label = pd_arg_str(ctx->args, "label");
	int32_t ymd;
	if (bizcal_parse_date(date, &ymd) != BIZCAL_OK)
		return reply_error(ctx, 400, "argument 'date' must be a date like 2026-11-24");
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	const char *name = rec_str(before, "name");
	struct pd_value *item = pd_map(a);
	pd_map_set_str(a, item, "date", date);
	if (l->fill && l->fill(ctx, name, date, item))
		return PD_EREPLIED;
	pd_map_set_str(a, item, "label", label ? label : "");
	struct pd_value *list = pd_map_get(before, l->field);
	if (find_date(list, date) >= 0)
		return reply_error(ctx, 409, "%s is already a %s of calendar %s%s", date, l->noun, name, l->again);
	if (find_date(pd_map_get(before, l->other->field), date) >= 0)
		return reply_error(ctx, 409, "%s is %s of calendar %s: remove it first (%s)", date,
				   l->other->blocking, name, l->other->remove_cmd);
	if (list_count(list) >= (size_t)l->max)
		return reply_error(ctx, 422, "calendar %s has %d %s, the most allowed: remove past ones first",
				   name, l->max, l->nouns);
	pd_map_set(a, after, l->field, list_with(a, list, date, item));
	if (calendar_save(ctx, before, after, l->action, label, date))
		return PD_EREPLIED;
	answer_change(ctx, after, 201, pd_sprintf(a, "%s %s added", l->noun, date));
	return 0;
}

/* Removes the request's date from one of the calendar's lists. */
static int remove_date(struct cmd_ctx *ctx, const struct dated_list *l)
{
	const char *date = pd_arg_str(ctx->args, "date");
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	struct pd_value *list = pd_map_get(before, l->field);
	if (find_date(list, date) < 0)
		return reply_error(ctx, 404, "%s is not a %s of calendar %s", date, l->noun, rec_str(before, "name"));
	pd_map_set(ctx->a, after, l->field, list_with(ctx->a, list, date, NULL));
	if (calendar_save(ctx, before, after, l->unaction, NULL, date))
		return PD_EREPLIED;
	answer_change(ctx, after, 200, pd_sprintf(ctx->a, "%s %s removed", l->noun, date));
	return 0;
}

int cmd_calendar_holiday(struct cmd_ctx *ctx)
{
	return add_date(ctx, &HOLIDAYS);
}

int cmd_calendar_unholiday(struct cmd_ctx *ctx)
{
	return remove_date(ctx, &HOLIDAYS);
}

int cmd_calendar_workday(struct cmd_ctx *ctx)
{
	return add_date(ctx, &WORKDAYS);
}

int cmd_calendar_unworkday(struct cmd_ctx *ctx)
{
	return remove_date(ctx, &WORKDAYS);
}

int cmd_calendar_get(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *name = pd_arg_str(ctx->args, "name");
	int64_t version = 0;
	pd_arg_int(ctx->args, "version", &version);
	struct pd_value *rec;
	if (version > 0) {
		unsigned char key[KEY_MAX];
		int rc = store_get(ctx->txn, ctx->st->calendars, key, version_key(name, version, key), a, &rec);
		if (rc == MDB_NOTFOUND)
			return reply_error(ctx, 404, "no calendar %s version %lld", name, (long long)version);
		if (rc)
			return reply_store_error(ctx, rc);
	} else if (calendar_get_rec(ctx, name, &rec)) {
		return PD_EREPLIED;
	}
	struct bizcal cal;
	char msg[MSG_MAX];
	if (decode(rec, &cal, new_buffers(ctx), msg, sizeof(msg)))
		return reply_error(ctx, 500, "internal error: stored calendar %s: %s", name, msg);
	struct pd_value *out = present(ctx, rec);
	char off[8];
	format_offset(cal.utc_offset_secs, off);
	pd_map_set_str(a, out, "utc_offset", off);
	int64_t week = 0;
	for (int d = 0; d < BIZCAL_WEEKDAY_COUNT; d++)
		week += day_minutes(&cal.week[d]);
	pd_map_set_int(a, out, "week_minutes", week);
	pd_map_set_bool(a, out, "serves_unassigned_depots", strcmp(name, CALENDAR_DEFAULT_NAME) == 0);
	struct pd_value *assigned, *depots = pd_arr(a), *timeline;
	int rc = assignments(ctx, name, &assigned);
	if (rc)
		return reply_store_error(ctx, rc);
	for (struct pd_entry *e = assigned->u.c.head; e; e = e->next)
		pd_arr_push(a, depots, pd_str(a, rec_str(e->val, "depot")));
	pd_map_set(a, out, "depots", depots);
	if ((rc = rec_timeline(ctx, "calendar", rec_int(rec, "id"), &timeline)))
		return reply_store_error(ctx, rc);
	pd_map_set(a, out, "timeline", timeline);
	ctx->rep->data = out;
	reply_ok(ctx, 200, "calendar %s version %lld", name, (long long)rec_int(rec, "version"));
	return 0;
}

int cmd_calendar_list(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *assigned;
	int rc = assignments(ctx, NULL, &assigned);
	if (rc)
		return reply_store_error(ctx, rc);
	MDB_cursor *cur;
	if ((rc = mdb_cursor_open(ctx->txn, ctx->st->calendars, &cur)))
		return reply_store_error(ctx, rc);
	struct pd_value *list = pd_arr(a);
	/* the version copies (tag \x01) sort before every name */
	char start[1] = { VERSION_KEY_TAG + 1 };
	MDB_val k = { 1, start }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (memchr(k.mv_data, '=', k.mv_size))
			continue; /* a depot assignment */
		struct pd_value *rec;
		size_t used;
		if (pd_value_unpack(a, v.mv_data, v.mv_size, &used, &rec) != PD_UNPACK_OK || rec->type != PD_MAP) {
			rc = MDB_CORRUPTED;
			break;
		}
		const char *name = rec_str(rec, "name");
		int64_t depots = 0;
		for (struct pd_entry *e = assigned->u.c.head; e; e = e->next)
			depots += strcmp(rec_str(e->val, "calendar"), name) == 0;
		struct pd_value *row = summary(ctx, rec);
		pd_map_set_int(a, row, "depot_count", depots);
		pd_arr_push(a, list, row);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	ctx->rep->data = list;
	reply_ok(ctx, 200, "%s", count_of(ctx, (int64_t)list->u.c.count, "calendar", "calendars"));
	return 0;
}

/* Writes the timeline entry of a depot's move on calendar `name` (if it
 * still exists). */
static int audit_assignment(struct cmd_ctx *ctx, const char *name, const char *action, const char *text,
			    const struct pd_value *before, const struct pd_value *after)
{
	struct pd_value *cal;
	int rc = store_get(ctx->txn, ctx->st->calendars, name, strlen(name), ctx->a, &cal);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	return rec_audit_change(ctx, "calendar", rec_int(cal, "id"), action, text, before, after);
}

int cmd_calendar_assign(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *depot = pd_arg_str(ctx->args, "depot");
	const char *name = pd_arg_str(ctx->args, "calendar");
	struct pd_value *cal, *old = NULL;
	if (calendar_get_rec(ctx, name, &cal))
		return PD_EREPLIED;
	char key[KEY_MAX];
	size_t klen = depot_key(depot, key);
	int rc = store_get(ctx->txn, ctx->st->calendars, key, klen, a, &old);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	if (rc == MDB_NOTFOUND)
		old = NULL;
	const char *previous = old ? rec_str(old, "calendar") : "";
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "depot", depot);
	pd_map_set_str(a, d, "calendar", name);
	pd_map_set_str(a, d, "previous", previous);
	pd_map_set_int(a, d, "version", rec_int(cal, "version"));
	if (strcmp(previous, name) == 0) {
		ctx->rep->data = d;
		return reply_ok(ctx, 200, "depot %s already uses calendar %s", depot, name);
	}
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "depot", depot);
	pd_map_set_str(a, rec, "calendar", name);
	pd_map_set_int(a, rec, "assigned_at", ctx->now);
	pd_map_set_str(a, rec, "assigned_by", ctx->sess->user);
	struct pd_value *view_old = pd_map(a), *view_new = pd_map(a);
	pd_map_set_str(a, view_old, pd_sprintf(a, "depot %s", depot), previous);
	pd_map_set_str(a, view_new, pd_sprintf(a, "depot %s", depot), name);
	if ((rc = store_put(ctx->txn, ctx->st->calendars, key, klen, rec, 0)) ||
	    (rc = audit_assignment(ctx, name, "assign", depot, old ? view_old : NULL, view_new)) ||
	    (old && (rc = audit_assignment(ctx, previous, "unassign", pd_sprintf(a, "%s moved to %s", depot, name),
					   view_old, view_new))))
		return reply_store_error(ctx, rc);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "depot %s uses calendar %s (version %lld); " APPLIES, depot, name,
		 (long long)rec_int(cal, "version"));
	return 0;
}

int cmd_calendar_unassign(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *depot = pd_arg_str(ctx->args, "depot");
	char key[KEY_MAX];
	size_t klen = depot_key(depot, key);
	struct pd_value *old;
	int rc = store_get(ctx->txn, ctx->st->calendars, key, klen, a, &old);
	if (rc == MDB_NOTFOUND)
		return reply_error(ctx, 404, "depot %s has no calendar of its own", depot);
	if (rc)
		return reply_store_error(ctx, rc);
	const char *previous = rec_str(old, "calendar");
	struct pd_value *view_old = pd_map(a), *view_new = pd_map(a);
	pd_map_set_str(a, view_old, pd_sprintf(a, "depot %s", depot), previous);
	pd_map_set_str(a, view_new, pd_sprintf(a, "depot %s", depot), "");
	if ((rc = store_del(ctx->txn, ctx->st->calendars, key, klen, NULL, 0)) ||
	    (rc = audit_assignment(ctx, previous, "unassign", depot, view_old, view_new)))
		return reply_store_error(ctx, rc);
	struct pd_value *def;
	bool has_default = store_get(ctx->txn, ctx->st->calendars, CALENDAR_DEFAULT_NAME,
				     strlen(CALENDAR_DEFAULT_NAME), a, &def) == 0;
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "depot", depot);
	pd_map_set_str(a, d, "calendar", has_default ? CALENDAR_DEFAULT_NAME : "");
	pd_map_set_str(a, d, "previous", previous);
	ctx->rep->data = d;
	if (has_default)
		reply_ok(ctx, 200, "depot %s uses calendar " CALENDAR_DEFAULT_NAME "; " APPLIES, depot);
	else
		reply_ok(ctx, 200, "depot %s has no calendar: its clocks run on calendar time; " APPLIES, depot);
	return 0;
}

int cmd_calendar_del(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *name = pd_arg_str(ctx->args, "name");
	struct pd_value *before, *assigned;
	if (calendar_get_rec(ctx, name, &before))
		return PD_EREPLIED;
	int rc = assignments(ctx, name, &assigned);
	if (rc)
		return reply_store_error(ctx, rc);
	if (assigned->u.c.count) {
		struct pd_buf b;
		pd_buf_init(&b);
		size_t i = 0;
		for (struct pd_entry *e = assigned->u.c.head; e && i < DEL_DEPOTS_NAMED; e = e->next, i++)
			pd_buf_printf(&b, "%s%s", i ? ", " : "", rec_str(e->val, "depot"));
		if (assigned->u.c.count > DEL_DEPOTS_NAMED)
			pd_buf_printf(&b, " and %zu more", assigned->u.c.count - DEL_DEPOTS_NAMED);
		pd_buf_add(&b, "", 1);
		reply_error(ctx, 409, "calendar %s is assigned to depot %s: assign them another calendar first", name,
			    b.data);
		pd_buf_free(&b);
		return PD_EREPLIED;
	}
	struct pd_value *view_new = audit_view(ctx, before, NULL);
	pd_map_set_bool(a, view_new, "deleted", true);
	if ((rc = store_del(ctx->txn, ctx->st->calendars, name, strlen(name), NULL, 0)) ||
	    (rc = rec_audit_change(ctx, "calendar", rec_int(before, "id"), "delete", NULL,
				   audit_view(ctx, before, NULL), view_new)))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "name", name);
	pd_map_set_int(a, d, "version", rec_int(before, "version"));
	ctx->rep->data = d;
	if (strcmp(name, CALENDAR_DEFAULT_NAME) == 0)
		reply_ok(ctx, 200, "calendar %s deleted: depots without a calendar now run on calendar time; "
			 "clocks already started keep theirs", name);
	else
		reply_ok(ctx, 200, "calendar %s deleted; clocks already started on it keep their due times", name);
	return 0;
}

int cmd_calendar_due(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *name = pd_arg_str(ctx->args, "name");
	const char *depot = pd_arg_str(ctx->args, "depot");
	int64_t start = 0, minutes = 0, version = 0, due;
	pd_arg_int(ctx->args, "version", &version);
	pd_arg_int(ctx->args, "start", &start);
	pd_arg_int(ctx->args, "minutes", &minutes);
	if (!name && !depot)
		return reply_error(ctx, 400, "give a calendar name or depot=");
	if (name && depot)
		return reply_error(ctx, 400, "give a calendar name or depot=, not both");
	if (depot && version)
		return reply_error(ctx, 400, "version= goes with a calendar name, not with depot=");
	struct bizcal cal;
	struct calendar_buffers *bufs = new_buffers(ctx);
	int rc = name ? calendar_load(ctx->txn, ctx->st, name, version, &cal, bufs, &version)
		      : calendar_for_depot(ctx->txn, ctx->st, depot, &cal, bufs, &version);
	struct pd_value *d = pd_map(a);
	if (depot)
		pd_map_set_str(a, d, "depot", depot);
	if (rc == MDB_NOTFOUND && name && version)
		return reply_error(ctx, 404, "no calendar %s version %lld", name, (long long)version);
	if (rc == MDB_NOTFOUND && name)
		return reply_error(ctx, 404, "no calendar %s", name);
	if (rc == MDB_NOTFOUND) {
		/* no calendar for the depot: what its clocks do, calendar time */
		due = start + minutes * 60;
		if (start < BIZCAL_MIN_UTC || due > BIZCAL_MAX_UTC)
			return reply_error(ctx, 422, "the due time falls outside 1970-01-01..9999-12-31");
		pd_map_set_str(a, d, "calendar", "");
		pd_map_set_str(a, d, "basis", "calendar_time");
		map_set_time(ctx, d, "start", start);
		pd_map_set_int(a, d, "minutes", minutes);
		map_set_time(ctx, d, "due", due);
		ctx->rep->data = d;
		char buf[PD_TIME_BUF];
		pd_time_format(due, buf);
		return reply_ok(ctx, 200, "due %s (depot %s has no calendar: calendar time)", buf, depot);
	}
	if (rc)
		return reply_store_error(ctx, rc);
	rc = bizcal_add_minutes(&cal, start, minutes, &due);
	if (rc == BIZCAL_ERANGE)
		return reply_error(ctx, 422, "the due time falls outside 1970-01-01..9999-12-31");
	if (rc)
		return reply_error(ctx, 422, "cannot compute a due time: %s", bizcal_strerror(rc));
	char local[PD_TIME_BUF], off[8];
	format_in_offset(due, cal.utc_offset_secs, local);
	format_offset(cal.utc_offset_secs, off);
	pd_map_set_str(a, d, "calendar", bufs->name);
	pd_map_set_int(a, d, "version", version);
	pd_map_set_str(a, d, "basis", "business_hours");
	pd_map_set_str(a, d, "zone", bufs->zone);
	pd_map_set_str(a, d, "utc_offset", off);
	map_set_time(ctx, d, "start", start);
	pd_map_set_int(a, d, "minutes", minutes);
	map_set_time(ctx, d, "due", due);
	pd_map_set_str(a, d, "due_local", local);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "due %s", local);
	return 0;
}

/* ---- clocks ---- */

int sla_calendar_load(struct cmd_ctx *ctx, const struct pd_value *rec, struct sla_calendar *cc)
{
	cc->business = false;
	const char *name = pd_map_str(rec, "calendar");
	if (!name || !*name)
		return 0;
	int64_t version = 0;
	pd_map_int(rec, "calendar_version", &version);
	int rc = calendar_load(ctx->txn, ctx->st, name, version, &cc->cal, &cc->bufs, NULL);
	cc->business = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int sla_calendar_start(struct cmd_ctx *ctx, const char *depot, struct pd_value *rec,
			 struct sla_calendar *cc)
{
	cc->business = false;
	int64_t version = 0;
	if (ctx->cfg->complaint_business_clocks) {
		int rc = calendar_for_depot(ctx->txn, ctx->st, depot, &cc->cal, &cc->bufs, &version);
		if (rc && rc != MDB_NOTFOUND)
			return rc;
		cc->business = rc == 0;
	}
	pd_map_set_str(ctx->a, rec, "clock_basis", cc->business ? "business" : "calendar");
	if (cc->business) {
		pd_map_set_str(ctx->a, rec, "calendar", cc->bufs.name);
		pd_map_set_int(ctx->a, rec, "calendar_version", version);
	}
	return 0;
}

int64_t sla_add(const struct sla_calendar *cc, int64_t start, int64_t business_minutes,
		  int64_t calendar_secs)
{
	int64_t due;
	if (cc->business && bizcal_add_minutes(&cc->cal, start, business_minutes, &due) == 0)
		return due;
	return start + calendar_secs;
}

int64_t sla_span(const struct sla_calendar *cc, int64_t from, int64_t to)
{
	if (to <= from)
		return 0;
	int64_t secs;
	if (cc->business && bizcal_seconds_between(&cc->cal, from, to, &secs) == 0)
		return secs;
	return to - from;
}
