/* complaint.c — COMPLAINT commands.
 *
 * Every handler loads the complaint, changes a copy, and hands both to
 * complaint_save(), which derives from the difference everything else the
 * change implies, in the same transaction: the list indexes (owner or
 * queue, status, escalated), the due index used by `overdue` lists, the
 * one timer entry that wakes the daemon at the next due time, the
 * statistics counters (by the complaint's opening day) and the timeline
 * entry with every field's old and new value. Handlers stay short and no
 * handler can forget an index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "calendar.h"
#include "care.h"
#include "complaint.h"
#include "contact.h"
#include "customer.h"
#include "volume.h"
#include "record.h"
#include "waybill.h"

#define SATISFACTION_MIN 1
#define SATISFACTION_MAX 5

/* The rules' config, built and checked once by complaint_setup(). */
static struct complaint_config rules;
/* Resolve targets in business minutes by category (0: the default option). */
static int64_t category_resolve_minutes[COMPLAINT_CATEGORY_COUNT];

/* Reads "category:minutes,..." (complaint_category_resolve_business_minutes). */
static int parse_category_minutes(const char *text)
{
	memset(category_resolve_minutes, 0, sizeof(category_resolve_minutes));
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *save = NULL, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(item, ':');
		enum complaint_category cat;
		char *end;
		long long minutes = colon ? strtoll(colon + 1, &end, 10) : 0;
		if (colon)
			*colon = '\0';
		if (!colon || *end || minutes < 1 || minutes > 366LL * 24 * 60 ||
		    complaint_category_parse(item, &cat) != COMPLAINT_OK) {
			fprintf(stderr, "parceldeskd: complaint_category_resolve_business_minutes: '%s' is not "
				"category:minutes with a known category and 1..527040 minutes\n", item);
			return -1;
		}
		category_resolve_minutes[cat] = minutes;
	}
	return 0;
}

/* The resolve target of a complaint in business minutes. */
static int64_t resolve_minutes(const struct config *cfg, const struct pd_value *c);

int complaint_setup(const struct config *cfg)
{
	int bad;
	if (complaint_config_from_options(cfg, &rules, &bad) != COMPLAINT_OK) {
		fprintf(stderr, "parceldeskd: complaint_%s_level: '%s' is not next, supervisor or manager\n",
			complaint_trigger_name((enum complaint_trigger)bad),
			complaint_trigger_level_option(cfg, (enum complaint_trigger)bad));
		return -1;
	}
	if (parse_category_minutes(cfg->complaint_category_resolve_business_minutes) < 0)
		return -1;
	const char *problem;
	if (complaint_config_validate(&rules, &problem) != COMPLAINT_OK) {
		fprintf(stderr, "parceldeskd: complaint options: %s\n", problem);
		return -1;
	}
	return 0;
}

static enum complaint_level role_level(enum pd_role r)
{
	return (enum complaint_level)role_authority_tier(r);
}

/* ---- reading fields of a stored complaint ---- */

static enum complaint_status status_of(const struct pd_value *c)
{
	enum complaint_status s = COMPLAINT_STATUS_OPEN;
	complaint_status_parse(rec_str(c, "status"), &s);
	return s;
}

static enum complaint_level level_of(const struct pd_value *c)
{
	enum complaint_level l = COMPLAINT_LEVEL_HANDLER;
	complaint_level_parse(rec_str(c, "level"), &l);
	return l;
}

static enum complaint_channel channel_of(const struct pd_value *c)
{
	enum complaint_channel ch = COMPLAINT_CHANNEL_PHONE;
	complaint_channel_parse(rec_str(c, "channel"), &ch);
	return ch;
}

static int64_t resolve_minutes(const struct config *cfg, const struct pd_value *c)
{
	enum complaint_category cat;
	if (complaint_category_parse(rec_str(c, "category"), &cat) == COMPLAINT_OK && category_resolve_minutes[cat])
		return category_resolve_minutes[cat];
	return cfg->complaint_resolve_business_minutes;
}

static enum service_level service_of(const struct pd_value *c)
{
	int s = service_level_parse(rec_str(c, "service_level"));
	return s < 0 ? SERVICE_BASIC : (enum service_level)s;
}

/* The legal ceiling on resolve-by. A complaint stored before the ceiling
 * existed has no legal_by: it is read as opened_at + the configured days. */
static int64_t legal_by_of(const struct pd_value *c)
{
	int64_t legal_by = rec_int(c, "legal_by");
	return legal_by ? legal_by : rec_int(c, "opened_at") + rules.legal_max_secs;
}

/* The due times stored on a complaint. */
static struct complaint_due stored_due(const struct pd_value *c)
{
	struct complaint_due due = {
		.acknowledge_by = rec_int(c, "acknowledge_by"),
		.resolve_by = rec_int(c, "resolve_by"),
		.regulator_reply_by = rec_int(c, "regulator_reply_by"),
		.close_by = rec_int(c, "close_by"),
		.legal_by = legal_by_of(c),
	};
	return due;
}

/* Statuses in which the complaint's clocks run. */
static bool clocks_run(enum complaint_status s)
{
	return s != COMPLAINT_STATUS_ACCEPTED && s != COMPLAINT_STATUS_EXTERNAL_REVIEW &&
	       s != COMPLAINT_STATUS_CLOSED;
}

static bool is_paused(const struct pd_value *c)
{
	return *rec_str(c, "waiting_for") != '\0';
}

/* The time the overdue list sorts by: the acknowledge clock until the
 * customer is contacted, then the resolve clock; while the resolve clock
 * is paused, the legal ceiling (a pause never stops the law's 7 days).
 * 0 when no clock runs. */
static int64_t due_of(const struct pd_value *c)
{
	if (!c || !clocks_run(status_of(c)))
		return 0;
	if (!rec_int(c, "acknowledged_at"))
		return rec_int(c, "acknowledge_by");
	return is_paused(c) ? legal_by_of(c) : rec_int(c, "resolve_by");
}

static void consider(int64_t *next, int64_t t)
{
	if (t && (!*next || t < *next))
		*next = t;
}

/* The next instant the daemon must act on this complaint, 0 for none: a
 * breach fires at the first second past a due time. A paused complaint's
 * resolve and update clocks wait. */
static int64_t next_action_of(const struct pd_value *c)
{
	if (!c || !clocks_run(status_of(c)))
		return 0;
	int64_t next = 0;
	if (!rec_int(c, "acknowledged_at") && !pd_map_bool(c, "acknowledge_breached"))
		consider(&next, rec_int(c, "acknowledge_by") + 1);
	if (!pd_map_bool(c, "resolve_breached"))
		consider(&next, (is_paused(c) ? legal_by_of(c) : rec_int(c, "resolve_by")) + 1);
	if (!pd_map_bool(c, "appeal_risk"))
		consider(&next, legal_by_of(c) + 1);
	if (!is_paused(c) && rec_int(c, "update_by") && !pd_map_bool(c, "update_breached"))
		consider(&next, rec_int(c, "update_by") + 1);
	return next;
}

/* ---- clocks in business time (docs/sla.md part 3) ----
 * A complaint's clocks count business minutes on its depot's calendar, the
 * version in force when the complaint was opened; without a calendar, or
 * for a regulator's deadline and the 30-day ceiling, they count calendar
 * time. */
static int64_t scaled(int64_t value, enum service_level level)
{
	return service_level_share(value, rules.service_level_percent[level]);
}

/* Complaints through an outside body keep calendar days: their deadline is
 * the body's (rules: "answered to the regulator within its deadline"). */
static bool resolve_in_business_time(const struct pd_value *c)
{
	uint32_t bit = COMPLAINT_CHANNEL_BIT(channel_of(c));
	return !(rules.regulator_deadline_channels & bit) && !rec_int(c, "regulator_reply_by");
}

static int64_t min_due(int64_t a, int64_t b)
{
	return (!a || (b && b < a)) ? b : a;
}

/* The resolve-by time of a period started at `start`: business time where it
 * applies, never past the legal ceiling, the 30-day ceiling or the
 * regulator's deadline. */
static int64_t resolve_due(const struct sla_calendar *cc, const struct pd_value *c,
			   int64_t start, int64_t business_minutes, int64_t calendar_due)
{
	int64_t due = calendar_due;
	if (cc->business && resolve_in_business_time(c))
		due = sla_add(cc, start, scaled(business_minutes, service_of(c)), 0);
	struct complaint_due ceilings = stored_due(c);
	return complaint_resolve_cap(&ceilings, due);
}

/* The customer must next hear from us by this time (from a contact now). */
static void restart_update_clock(struct cmd_ctx *ctx, struct pd_value *c)
{
	struct sla_calendar cc;
	if (sla_calendar_load(ctx, c, &cc))
		cc.business = false;
	enum service_level level = service_of(c);
	pd_map_set_int(ctx->a, c, "update_by",
		       sla_add(&cc, ctx->now, scaled(ctx->cfg->complaint_update_business_minutes, level),
				 scaled(ctx->cfg->complaint_update_secs, level)));
	pd_map_set_bool(ctx->a, c, "update_breached", false);
}

/* The customer heard from us: the update clock starts again. */
static void customer_contacted(struct cmd_ctx *ctx, struct pd_value *c)
{
	pd_map_set_int(ctx->a, c, "last_contact_at", ctx->now);
	restart_update_clock(ctx, c);
}

static bool is_overdue(const struct pd_value *c, int64_t now)
{
	int64_t due = due_of(c);
	return due && now > due;
}

/* Unresolved past the law's 7 days: the customer may now appeal to the
 * postal regulator. Stored once it happened (for the statistics), so a
 * complaint resolved late keeps the mark. */
static bool at_appeal_risk(const struct pd_value *c, int64_t now)
{
	return pd_map_bool(c, "appeal_risk") || (clocks_run(status_of(c)) && now > legal_by_of(c));
}

/* ---- keeping indexes, timer, counters and timeline ---- */

/* The owner index key: the owner, or the queue of the complaint's level
 * while nobody has taken it. */
static const char *owner_key(struct cmd_ctx *ctx, const struct pd_value *c)
{
	const char *owner = rec_str(c, "owner");
	return *owner ? pd_sprintf(ctx->a, "owner=%s", owner)
		      : pd_sprintf(ctx->a, "queue=%s", rec_str(c, "level"));
}

static const char *escalated_key(struct cmd_ctx *ctx, const struct pd_value *c)
{
	(void)ctx;
	return level_of(c) > COMPLAINT_LEVEL_HANDLER ? "escalated=1" : NULL;
}

/* Lists by date walk the opening days: a clock moved back loses nothing. */
static const char *opened_key(struct cmd_ctx *ctx, const struct pd_value *c)
{
	return pd_sprintf(ctx->a, "opened=%08lld", (long long)rec_int(c, "day"));
}

static struct pd_value *complaint_summary(struct cmd_ctx *ctx, const struct pd_value *before,
					  const struct pd_value *after);

/* A complaint is listed under each of its secondary categories too
 * ("also_categories", at most ALSO_MAX): the n-th one's key. */
#define ALSO_MAX 3
static const char *also_key(struct cmd_ctx *ctx, const struct pd_value *c, int n)
{
	char *copy = pd_strdup(ctx->a, rec_str(c, "also_categories")), *save = NULL;
	char *item = strtok_r(copy, ",", &save);
	while (item && n-- > 0)
		item = strtok_r(NULL, ",", &save);
	return item ? pd_sprintf(ctx->a, "category=%s", item) : NULL;
}

static const char *also0_key(struct cmd_ctx *ctx, const struct pd_value *c) { return also_key(ctx, c, 0); }
static const char *also1_key(struct cmd_ctx *ctx, const struct pd_value *c) { return also_key(ctx, c, 1); }
static const char *also2_key(struct cmd_ctx *ctx, const struct pd_value *c) { return also_key(ctx, c, 2); }

/* An open complaint under the level holding it: the metrics page counts
 * them by level from this entry alone. */
static const char *open_level_key(struct cmd_ctx *ctx, const struct pd_value *c)
{
	return status_of(c) != COMPLAINT_STATUS_CLOSED ? record_key(ctx, "open_level", rec_str(c, "level"))
						       : NULL;
}

/* Where a complaint is listed: every list filter, the overdue list, and
 * the one timer entry that wakes the daemon at its next due time. */
static const struct record_index COMPLAINT_INDEXES[] = {
	{ "opened", NULL, opened_key },
	{ "also0", NULL, also0_key },
	{ "also1", NULL, also1_key },
	{ "also2", NULL, also2_key },
	{ "phone", "customer_phone", NULL },
	{ "owner", NULL, owner_key },
	{ "escalated", NULL, escalated_key },
	{ "open_level", NULL, open_level_key },
	{ NULL, NULL, NULL },
};

static const struct record_kind COMPLAINT = {
	RECORD_KIND("complaint", complaints, complaint_index),
	.fields = RECORD_FIELDS("depot", "category", "waybill", "status"),
	.indexes = COMPLAINT_INDEXES,
	.due_db = RECORD_DB(complaint_due),
	.due = due_of,
	.timer = next_action_of,
	.summary = complaint_summary,
};

static int count(struct cmd_ctx *ctx, const struct pd_value *c, const char *dim,
		 const char *value, int64_t delta)
{
	char key[160];
	snprintf(key, sizeof(key), "%08lld|%s|%s", (long long)rec_int(c, "day"), dim, value);
	return store_counter_add(ctx->txn, ctx->st->complaint_stats, key, delta);
}

static int duration_set(struct cmd_ctx *ctx, const struct pd_value *c, const char *kind,
			int64_t secs, bool add)
{
	char key[32];
	snprintf(key, sizeof(key), "%08lld|%s", (long long)rec_int(c, "day"), kind);
	unsigned char v[16];
	be64_put(v, (uint64_t)(secs < 0 ? 0 : secs));
	be64_put(v + 8, (uint64_t)rec_int(c, "id"));
	return add ? store_index_add(ctx->txn, ctx->st->complaint_durations, key, strlen(key), v, 16)
		   : store_index_del(ctx->txn, ctx->st->complaint_durations, key, strlen(key), v, 16);
}

/* Calls fn for each secondary category of a complaint ("also_categories":
 * names joined by ","); stops at the first non-zero return. */
static int each_also_category(struct cmd_ctx *ctx, const char *list,
			      int (*fn)(struct cmd_ctx *ctx, const char *category, void *ud), void *ud)
{
	char *copy = pd_strdup(ctx->a, list);
	int rc = 0;
	for (char *save = NULL, *item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save))
		rc = fn(ctx, item, ud);
	return rc;
}

static int count_also(struct cmd_ctx *ctx, const char *category, void *ud)
{
	return count(ctx, ud, "category", category, 1);
}

/* Categories that say the parcel went to the wrong person or place, or was
 * left without the receiver's consent: against delivery accuracy. */
static bool is_misdelivery(const char *category)
{
	return !strcmp(category, "wrong_signature") || !strcmp(category, "not_delivered_to_door") ||
	       !strcmp(category, "no_consent_drop");
}

/* A complaint that came through, or threatens, the media, the consumer
 * association or a regulator: a media-exposure incident for its account. */
static bool media_exposure(const struct pd_value *c)
{
	uint32_t bodies = rules.media_channels | rules.media_or_regulator_channels;
	return (bodies & COMPLAINT_CHANNEL_BIT(channel_of(c))) || pd_map_bool(c, "media_threat");
}

/* The monthly volume counters a complaint moves (volume.h): complaints and
 * late ones by opening month; on its waybill, the first complaint and a
 * misdelivery; the month's incidents on the first escalation; an account's
 * media-exposure warning as soon as the exposure is known, at opening or
 * later (COMPLAINT FLAG), escalated or not. */
static int update_volume(struct cmd_ctx *ctx, const struct pd_value *before,
			 const struct pd_value *after)
{
	int month = (int)(rec_int(after, "day") / 100);
	const char *customer = pd_map_str(after, "customer");
	const char *depot = rec_str(after, "depot");
	int rc = 0;
	if (!before && !rec_int(after, "appeals")) {
		if ((rc = volume_count_month(ctx, customer, depot, month, "complaints", 1)) ||
		    (rc = volume_count_month(ctx, customer, depot, month,
					     pd_sprintf(ctx->a, "complaints.%s", rec_str(after, "category")), 1)))
			return rc;
		const char *number = pd_map_str(after, "waybill");
		if (number && ((rc = waybill_mark_complained(ctx, number, is_misdelivery(rec_str(after, "category")))) ||
			       (rc = contact_trial_flag(ctx, customer, number, "complained"))))
			return rc;
	}
	if (!(before && pd_map_bool(before, "ever_overdue")) && pd_map_bool(after, "ever_overdue") &&
	    (rc = volume_count_month(ctx, customer, depot, month, "complaints_late", 1)))
		return rc;
	if (!(before && pd_map_bool(before, "ever_escalated")) && pd_map_bool(after, "ever_escalated")) {
		const char *source = pd_sprintf(ctx->a, "complaint:%lld", (long long)rec_int(after, "id"));
		if ((rc = volume_incident(ctx, (int)(pd_local_day(ctx->now) / 100), source)))
			return rc;
	}
	const char *source = pd_sprintf(ctx->a, "complaint:%lld", (long long)rec_int(after, "id"));
	if (media_exposure(after) && !(before && media_exposure(before)) &&
	    ((rc = warning_raise(ctx, customer, "service_incident", "media_exposure", source,
				 pd_map_bool(after, "media_threat")
					 ? "the customer threatens the media or a public body"
					 : pd_sprintf(ctx->a, "complaint through the %s channel", rec_str(after, "channel")))) ||
	     (rc = contact_apology(ctx, customer, source))))
		return rc;
	/* the account hears from us once more after the close */
	if (status_of(after) == COMPLAINT_STATUS_CLOSED && !(before && status_of(before) == COMPLAINT_STATUS_CLOSED))
		return contact_after_close(ctx, customer, source);
	return 0;
}

/* Counter changes implied by before -> after (before NULL: just opened). */
static int update_counters(struct cmd_ctx *ctx, const struct pd_value *before,
			   const struct pd_value *after)
{
	int rc = update_volume(ctx, before, after);
	if (rc)
		return rc;
	if (!before && rec_int(after, "appeals")) {
		/* an appeal is the same matter again: its own figure, not a new complaint */
		if ((rc = count(ctx, after, "appeals", "all", 1)))
			return rc;
	} else if (!before) {
		if ((rc = count(ctx, after, "opened", "all", 1)) ||
		    (rc = count(ctx, after, "category", rec_str(after, "category"), 1)) ||
		    (rc = each_also_category(ctx, rec_str(after, "also_categories"), count_also, (void *)after)) ||
		    (rc = count(ctx, after, "channel", rec_str(after, "channel"), 1)) ||
		    (rc = count(ctx, after, "depot", rec_str(after, "depot"), 1)))
			return rc;
	}
	bool was_esc = before && pd_map_bool(before, "ever_escalated");
	if (!was_esc && pd_map_bool(after, "ever_escalated") &&
	    (rc = count(ctx, after, "escalated", "all", 1)))
		return rc;
	bool was_over = before && pd_map_bool(before, "ever_overdue");
	if (!was_over && pd_map_bool(after, "ever_overdue") &&
	    (rc = count(ctx, after, "overdue", "all", 1)))
		return rc;
	if (!(before && pd_map_bool(before, "appeal_risk")) && pd_map_bool(after, "appeal_risk") &&
	    (rc = count(ctx, after, "appeal_risk", "all", 1)))
		return rc;
	if ((!before || !rec_int(before, "acknowledged_at")) && rec_int(after, "acknowledged_at") &&
	    (rc = duration_set(ctx, after, "ack", rec_int(after, "acknowledged_at") - rec_int(after, "opened_at"), true)))
		return rc;
	/* closing adds the close figures; reopening takes them back */
	bool was_closed = before && status_of(before) == COMPLAINT_STATUS_CLOSED;
	bool is_closed = status_of(after) == COMPLAINT_STATUS_CLOSED;
	if (was_closed != is_closed) {
		const struct pd_value *c = is_closed ? after : before;
		int64_t d = is_closed ? 1 : -1;
		if ((rc = count(ctx, c, "closed", "all", d)) ||
		    (rc = count(ctx, c, "responsible", rec_str(c, "responsible"), d)) ||
		    (rc = count(ctx, c, "stage", rec_str(c, "stage"), d)) ||
		    (rc = count(ctx, c, "satisfaction", "sum", d * rec_int(c, "satisfaction"))) ||
		    (rc = count(ctx, c, "satisfaction", "count", d)) ||
		    (rc = duration_set(ctx, c, "resolve", rec_int(c, "closed_at") - rec_int(c, "opened_at"), is_closed)) ||
		    (rc = count(ctx, c, "paused_secs", "sum", d * rec_int(c, "paused_secs"))))
			return rc;
		/* time to resolve in business time, less the paused time */
		struct sla_calendar cc;
		if ((rc = sla_calendar_load(ctx, c, &cc)))
			return rc;
		if (cc.business) {
			int64_t biz = sla_span(&cc, rec_int(c, "opened_at"), rec_int(c, "closed_at")) -
				      rec_int(c, "paused_business_secs");
			if ((rc = duration_set(ctx, c, "resolve_biz", biz, is_closed)))
				return rc;
		}
	}
	return 0;
}

/* Ends a pause: the paused span, in the resolve clock's own time, is added
 * to paused_secs (and in business time to paused_business_secs, for the
 * statistics); with move_due the resolve-by and update-by times move by it,
 * never past the 30-day ceiling or a regulator's deadline. Returns the span
 * through *span and whether it is business time. */
static int end_pause(struct cmd_ctx *ctx, struct pd_value *c, bool move_due, int64_t *span, bool *business)
{
	struct sla_calendar cc;
	int rc = sla_calendar_load(ctx, c, &cc);
	if (rc)
		return rc;
	const struct sla_calendar calendar_time = { .business = false };
	const struct sla_calendar *k = resolve_in_business_time(c) ? &cc : &calendar_time;
	int64_t paused_at = rec_int(c, "paused_at");
	*span = sla_span(k, paused_at, ctx->now);
	*business = k->business;
	if (move_due) {
		int64_t resolve_by = rec_int(c, "resolve_by"), moved;
		if (!(k->business && bizcal_add_seconds(&k->cal, resolve_by, *span, &moved) == 0))
			moved = resolve_by + *span;
		struct complaint_due ceilings = stored_due(c);
		pd_map_set_int(ctx->a, c, "resolve_by", complaint_resolve_cap(&ceilings, moved));
		if (rec_int(c, "update_by")) {
			int64_t update_by;
			if (!(k->business && bizcal_add_seconds(&k->cal, rec_int(c, "update_by"), *span, &update_by) == 0))
				update_by = rec_int(c, "update_by") + *span;
			pd_map_set_int(ctx->a, c, "update_by", update_by);
		}
	}
	pd_map_set_str(ctx->a, c, "waiting_for", "");
	pd_map_set_int(ctx->a, c, "paused_at", 0);
	pd_map_set_int(ctx->a, c, "paused_secs", rec_int(c, "paused_secs") + *span);
	pd_map_set_int(ctx->a, c, "paused_business_secs",
		       rec_int(c, "paused_business_secs") + sla_span(&cc, paused_at, ctx->now));
	return 0;
}

/* Writes the complaint and everything its change implies: what the
 * complaint rules derive, the counters, then record_save(). */
static int complaint_save(struct cmd_ctx *ctx, const struct pd_value *before,
			  struct pd_value *after, const char *action, const char *text)
{
	int rc;
	/* a change made past a due time makes the complaint one that was late,
	 * whether or not the sweep got there first */
	if (before && is_overdue(before, ctx->now))
		pd_map_set_bool(ctx->a, after, "ever_overdue", true);
	if (before && at_appeal_risk(before, ctx->now))
		pd_map_set_bool(ctx->a, after, "appeal_risk", true);
	/* accepted, referred or closed while waiting: the wait is over */
	if (is_paused(after) && !clocks_run(status_of(after))) {
		int64_t span;
		bool business;
		if ((rc = end_pause(ctx, after, false, &span, &business)))
			return rc;
	}
	if ((rc = update_counters(ctx, before, after)))
		return rc;
	return record_save(ctx, &COMPLAINT, before, after, action, text);
}

/* ---- escalation ---- */

/* Moves the complaint to the level the escalation check chose. */
static void escalate(struct cmd_ctx *ctx, struct pd_value *c, const struct complaint_escalation *e,
		     const char *to_user)
{
	struct pd_arena *a = ctx->a;
	enum complaint_level target = e->target_level;
	uint32_t triggers = e->triggers;
	struct complaint_due due = stored_due(c);
	struct complaint_due next;
	if (complaint_due_after_escalation(&rules, &due, service_of(c), ctx->now, &next) == COMPLAINT_OK) {
		struct sla_calendar cc;
		if (sla_calendar_load(ctx, c, &cc))
			cc.business = false;
		pd_map_set_int(a, c, "resolve_by",
			       resolve_due(&cc, c, ctx->now, ctx->cfg->complaint_escalated_resolve_business_minutes,
					   next.resolve_by));
	}
	char names[160];
	complaint_triggers_format(triggers, names, sizeof(names));
	pd_map_set_str(a, c, "level", complaint_level_name(target));
	pd_map_set_str(a, c, "status", complaint_status_name(COMPLAINT_STATUS_ESCALATED));
	pd_map_set_str(a, c, "owner", to_user ? to_user : "");
	pd_map_set_str(a, c, "last_triggers", names);
	pd_map_set_int(a, c, "escalations", rec_int(c, "escalations") + 1);
	pd_map_set_int(a, c, "escalated_at", ctx->now);
	pd_map_set_bool(a, c, "ever_escalated", true);
	/* escalated at or past the legal ceiling: the new owner has no time
	 * left, and the breach is shown rather than escalated again */
	bool past_ceiling = rec_int(c, "resolve_by") <= ctx->now;
	pd_map_set_bool(a, c, "resolve_breached", past_ceiling);
	if (past_ceiling || (triggers & COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_OVERDUE)))
		pd_map_set_bool(a, c, "ever_overdue", true);
}

static struct complaint_facts facts_of(struct cmd_ctx *ctx, const struct pd_value *c)
{
	struct complaint_facts f = {
		.status = status_of(c),
		.level = level_of(c),
		.channel = channel_of(c),
		.proposed_amount_fen = rec_int(c, "proposal_fen"),
		.owner_authority_fen = COMPLAINT_AUTHORITY_OF_LEVEL,
		.media_or_legal_threat = pd_map_bool(c, "media_threat"),
		.several_departments = pd_map_bool(c, "several_depots"),
		.customer_refused = status_of(c) == COMPLAINT_STATUS_REFUSED,
		/* a paused resolve clock cannot be overdue */
		.resolve_by = is_paused(c) ? COMPLAINT_MAX_UTC : rec_int(c, "resolve_by"),
		.now = ctx->now,
	};
	return f;
}

/* Escalates when a rule fires (media or regulator, several depots, amount
 * over the owner's authority, customer refused, resolve-by passed).
 * Returns true when it did. */
static bool auto_escalate(struct cmd_ctx *ctx, struct pd_value *c)
{
	struct complaint_facts f = facts_of(ctx, c);
	struct complaint_escalation e;
	if (complaint_escalation_check(&rules, &f, &e) != COMPLAINT_OK || !e.can_escalate)
		return false;
	escalate(ctx, c, &e, NULL);
	return true;
}

/* ---- loading and permissions ---- */

/* The owner works the complaint; so may anyone above its level. Nobody
 * works an escalated complaint still in its level's queue before TAKE. */
static int may_work(struct cmd_ctx *ctx, const struct pd_value *c)
{
	const char *owner = rec_str(c, "owner");
	if (strcmp(owner, ctx->sess->user) == 0 || role_level(ctx->sess->role) > level_of(c))
		return 0;
	if (!*owner)
		return reply_error(ctx, 403, "complaint %lld waits in the %s queue: a %s takes it first (COMPLAINT TAKE)",
				   (long long)rec_int(c, "id"), rec_str(c, "level"), rec_str(c, "level"));
	return reply_error(ctx, 403, "complaint %lld is owned by %s", (long long)rec_int(c, "id"), owner);
}

/* Whoever accepted the complaint follows it to the end (stored from issue
 * 11 on; before that the opener was the first contact). */
static const char *first_contact_of(const struct pd_value *c)
{
	const char *who = rec_str(c, "first_contact");
	return *who ? who : rec_str(c, "opened_by");
}

/* After an escalation the first contact still follows the complaint:
 * acknowledges, adds notes, keeps the customer informed, while the owner at
 * the higher level decides. Returns 1 for the first contact (who is not
 * the deciding owner), 0 for whoever may work it, -1 with the reply set. */
static int may_follow(struct cmd_ctx *ctx, const struct pd_value *c)
{
	const char *owner = rec_str(c, "owner");
	if (strcmp(owner, ctx->sess->user) != 0 && role_level(ctx->sess->role) <= level_of(c) &&
	    strcmp(first_contact_of(c), ctx->sess->user) == 0)
		return 1;
	return may_work(ctx, c);
}

/* Loads a complaint for a change: the stored copy and a working copy, or
 * nonzero with the reply set. */
static int load_for_change(struct cmd_ctx *ctx, struct pd_value **before, struct pd_value **after)
{
	int rc = record_load_arg(ctx, &COMPLAINT, before, after);
	return rc ? rc : may_work(ctx, *before);
}

static int move_to(struct cmd_ctx *ctx, struct pd_value *c, enum complaint_status to)
{
	enum complaint_status from = status_of(c);
	if (!complaint_transition_allowed(from, to, level_of(c)))
		return reply_error(ctx, 409, "complaint %lld is %s at %s level: cannot become %s",
				   (long long)rec_int(c, "id"), complaint_status_name(from),
				   rec_str(c, "level"), complaint_status_name(to));
	pd_map_set_str(ctx->a, c, "status", complaint_status_name(to));
	return 0;
}

/* The short state a change answers with. */
static struct pd_value *complaint_summary(struct cmd_ctx *ctx, const struct pd_value *before,
					  const struct pd_value *after)
{
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_int(ctx->a, d, "id", rec_int(after, "id"));
	pd_map_set_str(ctx->a, d, "status", rec_str(after, "status"));
	pd_map_set_str(ctx->a, d, "level", rec_str(after, "level"));
	pd_map_set_str(ctx->a, d, "owner", rec_str(after, "owner"));
	map_set_time(ctx, d, "acknowledge_by", rec_int(after, "acknowledge_by"));
	map_set_time(ctx, d, "resolve_by", rec_int(after, "resolve_by"));
	if (*rec_str(after, "last_triggers") && before &&
	    rec_int(after, "escalations") != rec_int(before, "escalations"))
		pd_map_set_str(ctx->a, d, "escalated_by", rec_str(after, "last_triggers"));
	return d;
}

/* Saves and answers with the complaint's short state. */
static int finish(struct cmd_ctx *ctx, const struct pd_value *before, struct pd_value *after,
		  const char *action, const char *text, int code, const char *msg)
{
	return record_reply(ctx, &COMPLAINT, complaint_save(ctx, before, after, action, text), before, after,
			    code, msg);
}

/* ---- commands ---- */

struct also_check {
	enum complaint_category main;
	uint32_t seen;
	int count;
};

static int check_one_also(struct cmd_ctx *ctx, const char *name, void *ud)
{
	struct also_check *k = ud;
	enum complaint_category cat;
	if (complaint_category_parse(name, &cat) != COMPLAINT_OK)
		return reply_error(ctx, 422, "also: '%s' is not a complaint category", name), -1;
	if (cat == k->main || (k->seen & (UINT32_C(1) << cat)))
		return reply_error(ctx, 422, "also: '%s' is given twice (the main category is %s)", name,
				   complaint_category_name(k->main)), -1;
	k->seen |= UINT32_C(1) << cat;
	if (++k->count > ALSO_MAX)
		return reply_error(ctx, 422, "also: at most %d secondary categories", ALSO_MAX), -1;
	return 0;
}

/* also=: a complaint may carry secondary categories (a lost parcel and a
 * rude courier); each must be a category, none twice nor the main one. */
static int check_also_categories(struct cmd_ctx *ctx, const char *also, enum complaint_category main)
{
	struct also_check k = { .main = main };
	if (!*also || also[strlen(also) - 1] == ',' || *also == ',' || strstr(also, ",,"))
		return reply_error(ctx, 422, "also: categories joined by ',' (e.g. also=attitude,charges)"), -1;
	return each_also_category(ctx, also, check_one_also, &k);
}

/* appeals=ID: a complaint through the postal regulator appealing an
 * earlier one about the same parcel (the customer may appeal after 7 days
 * without an answer, or with one they reject). Loads the earlier complaint
 * into *earlier (NULL without appeals=); nonzero with the reply set. */
static int load_appealed(struct cmd_ctx *ctx, enum complaint_channel channel, const char *number,
			 struct pd_value **earlier)
{
	int64_t id;
	*earlier = NULL;
	if (!pd_arg_int(ctx->args, "appeals", &id))
		return 0;
	if (channel != COMPLAINT_CHANNEL_REGULATOR)
		return reply_error(ctx, 422, "appeals= links a complaint through the postal regulator (channel regulator) "
				   "to the complaint it appeals; this one came through %s", complaint_channel_name(channel));
	int rc = record_load(ctx, &COMPLAINT, id, earlier);
	if (rc)
		return rc;
	const char *theirs = rec_str(*earlier, "waybill");
	if (!*theirs || !number || strcmp(theirs, number) != 0)
		return reply_error(ctx, 422, "complaint %lld is about waybill %s, this appeal about %s: an appeal is "
				   "linked to the complaint about the same parcel", (long long)id,
				   *theirs ? theirs : "(none)", number ? number : "(none)");
	if (rec_int(*earlier, "appeal"))
		return reply_error(ctx, 409, "complaint %lld is already appealed by complaint %lld", (long long)id,
				   (long long)rec_int(*earlier, "appeal"));
	return 0;
}

int cmd_complaint_open(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *number = pd_arg_str(ctx->args, "waybill");
	const char *depot = pd_arg_str(ctx->args, "depot");
	const char *service = pd_arg_str(ctx->args, "service_level");
	/* an account customer may be named without a waybill */
	const char *account = pd_arg_str(ctx->args, "customer");
	struct pd_value *wb = NULL, *customer = NULL;
	if (account && customer_load(ctx, account, &customer))
		return PD_EREPLIED;
	if (number) {
		if (waybill_load(ctx, number, &wb))
			return PD_EREPLIED;
		if (!depot)
			depot = pd_map_str(wb, "dest_depot");
		const char *owner = pd_map_str(wb, "customer");
		if (account && (!owner || strcmp(owner, account) != 0))
			return reply_error(ctx, 422, "waybill %s is not a waybill of account %s (%s%s)", number, account,
					   owner ? "it is account " : "it has no account", owner ? owner : "");
		account = owner;
	}
	if (!depot && customer)
		depot = pd_map_str(customer, "depot");
	/* an account customer's level, else the waybill's */
	if (!service && account && strcmp(customer_service_level(ctx, account), "basic") != 0)
		service = customer_service_level(ctx, account);
	if (!service && wb)
		service = pd_map_str(wb, "service_level");
	if (!depot)
		return reply_error(ctx, 400, "missing argument 'depot' (no waybill to take it from)");
	enum complaint_channel channel;
	enum complaint_category category;
	enum service_level level = SERVICE_BASIC;
	complaint_channel_parse(pd_arg_str(ctx->args, "channel"), &channel);
	complaint_category_parse(pd_arg_str(ctx->args, "category"), &category);
	const char *also = pd_arg_str(ctx->args, "also");
	if (also && check_also_categories(ctx, also, category) < 0)
		return PD_EREPLIED;
	if (service && service_level_parse(service) >= 0)
		level = (enum service_level)service_level_parse(service);
	struct pd_value *appealed;
	if (load_appealed(ctx, channel, number, &appealed))
		return PD_EREPLIED;
	int64_t deadline = COMPLAINT_NO_DEADLINE;
	pd_arg_int(ctx->args, "regulator_deadline", &deadline);
	if (deadline && deadline <= ctx->now)
		return reply_error(ctx, 422, "regulator_deadline is already past");
	struct complaint_due due;
	if (complaint_due_times(&rules, ctx->now, channel, category, level, deadline, &due) != COMPLAINT_OK)
		return reply_error(ctx, 500, "internal error: cannot compute due times");

	struct pd_value *c;
	int rc = record_new(ctx, &COMPLAINT, &c);
	if (rc)
		return reply_store_error(ctx, rc);
	pd_map_set_str(a, c, "status", "open");
	pd_map_set_str(a, c, "level", "handler");
	pd_map_set_str(a, c, "owner", ctx->sess->user);
	pd_map_set_str(a, c, "opened_by", ctx->sess->user);
	pd_map_set_str(a, c, "first_contact", ctx->sess->user);
	pd_map_set_int(a, c, "opened_at", ctx->now);
	pd_map_set_int(a, c, "day", pd_local_day(ctx->now));
	pd_map_set_str(a, c, "channel", complaint_channel_name(channel));
	pd_map_set_str(a, c, "category", complaint_category_name(category));
	if (number)
		pd_map_set_str(a, c, "waybill", number);
	pd_map_set_str(a, c, "depot", depot);
	if (account)
		pd_map_set_str(a, c, "customer", account);
	if (also)
		pd_map_set_str(a, c, "also_categories", also);
	pd_map_set_str(a, c, "customer_name", pd_arg_str(ctx->args, "customer_name"));
	pd_map_set_str(a, c, "customer_phone", pd_arg_str(ctx->args, "customer_phone"));
	pd_map_set_str(a, c, "text", pd_arg_str(ctx->args, "text"));
	pd_map_set_bool(a, c, "media_threat", pd_arg_bool(ctx->args, "media_threat", 0));
	pd_map_set_bool(a, c, "several_depots", pd_arg_bool(ctx->args, "several_depots", 0));
	pd_map_set_str(a, c, "service_level", service_level_name(level));
	pd_map_set_int(a, c, "regulator_reply_by", due.regulator_reply_by);
	pd_map_set_int(a, c, "close_by", due.close_by);
	pd_map_set_int(a, c, "legal_by", due.legal_by);
	/* the clocks run on the depot's calendar as it is now */
	struct sla_calendar cc;
	if ((rc = sla_calendar_start(ctx, depot, c, &cc)))
		return reply_store_error(ctx, rc);
	int64_t resolve_by = resolve_due(&cc, c, ctx->now, resolve_minutes(ctx->cfg, c),
					 due.resolve_by);
	int64_t ack_by = cc.business ? sla_add(&cc, ctx->now, scaled(ctx->cfg->complaint_ack_business_minutes, level), 0)
				     : due.acknowledge_by;
	pd_map_set_int(a, c, "acknowledge_by", min_due(ack_by, resolve_by));
	pd_map_set_int(a, c, "resolve_by", resolve_by);
	pd_map_set_int(a, c, "paused_secs", 0);
	pd_map_set_int(a, c, "escalations", 0);
	pd_map_set_bool(a, c, "ever_escalated", false);
	pd_map_set_bool(a, c, "ever_overdue", false);
	int64_t id = rec_int(c, "id");
	if (appealed) {
		/* both show the link; the earlier one records the appeal */
		struct pd_value *linked = pd_value_copy(a, appealed);
		pd_map_set_int(a, c, "appeals", rec_int(appealed, "id"));
		pd_map_set_int(a, linked, "appeal", id);
		if ((rc = complaint_save(ctx, appealed, linked, "appealed",
					 pd_sprintf(a, "appealed to the postal regulator: complaint %lld", (long long)id))))
			return reply_store_error(ctx, rc);
	}
	/* a complaint through a regulator or the media, or across depots, goes
	 * up at once: the opener stays its first-contact owner of record */
	bool escalated = auto_escalate(ctx, c);
	return finish(ctx, NULL, c, "open", NULL, 201,
	       escalated ? pd_sprintf(a, "complaint %lld opened and escalated", (long long)id)
			 : pd_sprintf(a, "complaint %lld opened", (long long)id));
}

/* One clock as GET shows it: basis, due time, state, time used and left
 * (in the clock's own time: business seconds on a business clock). */
static struct pd_value *clock_record(struct cmd_ctx *ctx, const struct sla_calendar *cc, bool business,
				     int64_t start, int64_t due, int64_t met_at, bool running, bool paused,
				     int64_t paused_secs)
{
	const struct sla_calendar calendar_time = { .business = false };
	const struct sla_calendar *k = business ? cc : &calendar_time;
	struct pd_value *r = pd_map(ctx->a);
	pd_map_set_str(ctx->a, r, "basis", business && cc->business ? "business" : "calendar");
	map_set_time(ctx, r, "due_at", due);
	const char *state;
	int64_t end = met_at ? met_at : ctx->now;
	if (met_at)
		state = met_at <= due ? "met" : "met_late";
	else if (!running)
		state = "stopped";
	else if (paused)
		state = "paused";
	else
		state = ctx->now > due ? "breached" : "running";
	int64_t used = sla_span(k, start, end) - paused_secs;
	pd_map_set_str(ctx->a, r, "state", state);
	pd_map_set_int(ctx->a, r, "used_secs", used > 0 ? used : 0);
	int64_t left = end <= due ? sla_span(k, end, due) : -sla_span(k, due, end);
	pd_map_set_int(ctx->a, r, "left_secs", met_at || !running ? 0 : left);
	if (paused_secs)
		pd_map_set_int(ctx->a, r, "paused_secs", paused_secs);
	return r;
}

static struct pd_value *complaint_present(struct cmd_ctx *ctx, const struct pd_value *c)
{
	struct pd_value *out = present(ctx, c);
	pd_map_set_bool(ctx->a, out, "overdue", is_overdue(c, ctx->now));
	pd_map_set_bool(ctx->a, out, "appeal_risk", at_appeal_risk(c, ctx->now));
	/* who follows it from the first call, and who decides it now */
	pd_map_set_str(ctx->a, out, "first_contact", first_contact_of(c));
	pd_map_set_str(ctx->a, out, "deciding_owner", rec_str(c, "owner"));
	return out;
}

int cmd_complaint_get(struct cmd_ctx *ctx)
{
	struct pd_value *c;
	if (record_load_arg(ctx, &COMPLAINT, &c, NULL))
		return PD_EREPLIED;
	struct pd_value *out = complaint_present(ctx, c);
	bool running = clocks_run(status_of(c));
	struct sla_calendar cc;
	int rc = sla_calendar_load(ctx, c, &cc);
	if (rc)
		return reply_store_error(ctx, rc);
	int64_t opened = rec_int(c, "opened_at");
	struct pd_value *clocks = pd_map(ctx->a);
	pd_map_set(ctx->a, clocks, "acknowledge",
		   clock_record(ctx, &cc, true, opened, rec_int(c, "acknowledge_by"), rec_int(c, "acknowledged_at"),
				running, false, 0));
	if (rec_int(c, "update_by"))
		pd_map_set(ctx->a, clocks, "update",
			   clock_record(ctx, &cc, true, rec_int(c, "last_contact_at"), rec_int(c, "update_by"), 0,
					running, is_paused(c), 0));
	int64_t resolved = rec_int(c, "closed_at") ? rec_int(c, "closed_at") : rec_int(c, "accepted_at");
	int64_t paused = rec_int(c, "paused_secs");
	if (is_paused(c))
		paused += sla_span(&cc, rec_int(c, "paused_at"), ctx->now);
	pd_map_set(ctx->a, clocks, "resolve",
		   clock_record(ctx, &cc, resolve_in_business_time(c), opened, rec_int(c, "resolve_by"), resolved,
				running, is_paused(c), paused));
	pd_map_set(ctx->a, clocks, "legal",
		   clock_record(ctx, &cc, false, opened, legal_by_of(c), resolved, running, false, 0));
	if (rec_int(c, "regulator_reply_by"))
		pd_map_set(ctx->a, clocks, "regulator_reply",
			   clock_record(ctx, &cc, false, opened, rec_int(c, "regulator_reply_by"),
					rec_int(c, "regulator_replied_at"), running, false, 0));
	pd_map_set(ctx->a, out, "clocks", clocks);
	const char *number = pd_map_str(c, "waybill");
	if (number) {
		struct pd_value *w;
		if (waybill_brief(ctx, number, &w) == 0)
			pd_map_set(ctx->a, out, "waybill_record", w);
	}
	struct pd_value *timeline;
	rc = rec_timeline(ctx, "complaint", rec_int(c, "id"), &timeline);
	if (rc)
		return reply_store_error(ctx, rc);
	pd_map_set(ctx->a, out, "timeline", timeline);
	ctx->rep->data = out;
	reply_ok(ctx, 200, "complaint %lld: %s", (long long)rec_int(c, "id"), rec_str(c, "status"));
	return 0;
}

int cmd_complaint_note(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &COMPLAINT, &before, &after) || may_follow(ctx, before) < 0)
		return PD_EREPLIED;
	const char *text = pd_arg_str(ctx->args, "text");
	pd_map_set_int(ctx->a, after, "notes", rec_int(after, "notes") + 1);
	bool contacted = pd_arg_bool(ctx->args, "contacted", 0);
	if (contacted && clocks_run(status_of(after)))
		customer_contacted(ctx, after);
	return finish(ctx, before, after, contacted ? "customer_update" : "note", text, 200,
	       contacted ? "update to the customer recorded" : "note added");
}

int cmd_complaint_ack(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	int follower;
	if (record_load_arg(ctx, &COMPLAINT, &before, &after) || (follower = may_follow(ctx, before)) < 0)
		return PD_EREPLIED;
	if (rec_int(before, "acknowledged_at"))
		return reply_error(ctx, 409, "complaint %lld is already acknowledged", (long long)rec_int(before, "id"));
	enum complaint_status s = status_of(after);
	/* the first contact tells the customer we have it; an escalated
	 * complaint still waits for its deciding owner */
	bool takes_over = !(follower && s == COMPLAINT_STATUS_ESCALATED);
	if (takes_over && (s == COMPLAINT_STATUS_OPEN || s == COMPLAINT_STATUS_ESCALATED)) {
		if (move_to(ctx, after, COMPLAINT_STATUS_ACKNOWLEDGED))
			return PD_EREPLIED;
	} else if (!clocks_run(s)) {
		return reply_error(ctx, 409, "complaint %lld is %s", (long long)rec_int(before, "id"),
				   complaint_status_name(s));
	}
	pd_map_set_int(ctx->a, after, "acknowledged_at", ctx->now);
	customer_contacted(ctx, after);
	return finish(ctx, before, after, "acknowledge", pd_arg_str(ctx->args, "text"), 200, "acknowledged");
}

int cmd_complaint_flag(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	if (!clocks_run(status_of(before)))
		return reply_error(ctx, 409, "complaint %lld is %s", (long long)rec_int(before, "id"), rec_str(before, "status"));
	struct pd_value *m = pd_map_get(ctx->args, "media_threat");
	struct pd_value *s = pd_map_get(ctx->args, "several_depots");
	if (!m && !s)
		return reply_error(ctx, 400, "give media_threat or several_depots");
	if (m)
		pd_map_set_bool(ctx->a, after, "media_threat", m->u.b);
	if (s)
		pd_map_set_bool(ctx->a, after, "several_depots", s->u.b);
	bool escalated = auto_escalate(ctx, after);
	return finish(ctx, before, after, "flag", pd_arg_str(ctx->args, "text"), 200,
	       escalated ? "flags recorded; escalated" : "flags recorded");
}

int cmd_complaint_propose(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	if (!rec_int(before, "acknowledged_at") && status_of(before) == COMPLAINT_STATUS_OPEN)
		return reply_error(ctx, 409, "acknowledge complaint %lld first: the customer must have been contacted",
				   (long long)rec_int(before, "id"));
	if (move_to(ctx, after, COMPLAINT_STATUS_PROPOSED))
		return PD_EREPLIED;
	int64_t amount = 0;
	pd_arg_int(ctx->args, "amount_fen", &amount);
	pd_map_set_str(ctx->a, after, "proposal", pd_arg_str(ctx->args, "text"));
	pd_map_set_int(ctx->a, after, "proposal_fen", amount);
	pd_map_set_int(ctx->a, after, "proposed_at", ctx->now);
	customer_contacted(ctx, after);
	/* above the owner's authority the proposal goes up before the customer hears it */
	bool escalated = auto_escalate(ctx, after);
	return finish(ctx, before, after, "propose", pd_arg_str(ctx->args, "text"), 200,
	       escalated ? "proposal recorded; above your authority, escalated for approval" : "proposal recorded");
}

int cmd_complaint_accept(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after) || move_to(ctx, after, COMPLAINT_STATUS_ACCEPTED))
		return PD_EREPLIED;
	pd_map_set_int(ctx->a, after, "accepted_at", ctx->now);
	return finish(ctx, before, after, "customer_accepted", pd_arg_str(ctx->args, "text"), 200,
	       "the customer accepted; close with their feedback");
}

int cmd_complaint_refuse(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after) || move_to(ctx, after, COMPLAINT_STATUS_REFUSED))
		return PD_EREPLIED;
	pd_map_set_int(ctx->a, after, "refusals", rec_int(after, "refusals") + 1);
	bool escalated = auto_escalate(ctx, after);
	return finish(ctx, before, after, "customer_refused", pd_arg_str(ctx->args, "text"), 200,
	       escalated ? "the customer refused; escalated"
			 : "the customer refused the final solution; refer to external review or propose again");
}

/* The user must exist and be of the complaint's level or above. */
static int check_new_owner(struct cmd_ctx *ctx, const char *name, enum complaint_level level)
{
	struct pd_value *u;
	int rc = user_load(ctx, name, &u);
	if (rc)
		return rc;
	if (role_level(pd_role_parse(rec_str(u, "role"))) < level)
		return reply_error(ctx, 422, "%s is %s %s: a complaint at %s level needs a %s or above", name,
				   strchr("aeiou", rec_str(u, "role")[0]) ? "an" : "a", rec_str(u, "role"),
				   complaint_level_name(level), complaint_level_name(level));
	return 0;
}

int cmd_complaint_handover(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	const char *to = pd_arg_str(ctx->args, "to");
	if (status_of(before) == COMPLAINT_STATUS_CLOSED)
		return reply_error(ctx, 409, "complaint %lld is closed", (long long)rec_int(before, "id"));
	if (strcmp(to, rec_str(before, "owner")) == 0)
		return reply_error(ctx, 409, "%s already owns complaint %lld", to, (long long)rec_int(before, "id"));
	if (check_new_owner(ctx, to, level_of(before)))
		return PD_EREPLIED;
	pd_map_set_str(ctx->a, after, "owner", to);
	/* at the first level the hand-over moves the first-contact ownership
	 * too; above it, only the deciding owner changes */
	if (level_of(before) == COMPLAINT_LEVEL_HANDLER)
		pd_map_set_str(ctx->a, after, "first_contact", to);
	pd_map_set_int(ctx->a, after, "handovers", rec_int(after, "handovers") + 1);
	return finish(ctx, before, after, "handover",
	       pd_sprintf(ctx->a, "from %s to %s: %s", *rec_str(before, "owner") ? rec_str(before, "owner") : "(queue)",
			  to, pd_arg_str(ctx->args, "reason")),
	       200, pd_sprintf(ctx->a, "handed over to %s", to));
}

int cmd_complaint_take(struct cmd_ctx *ctx)
{
	struct pd_value *before;
	if (record_load_arg(ctx, &COMPLAINT, &before, NULL))
		return PD_EREPLIED;
	if (*rec_str(before, "owner"))
		return reply_error(ctx, 409, "complaint %lld is owned by %s: ask for a hand-over",
				   (long long)rec_int(before, "id"), rec_str(before, "owner"));
	if (role_level(ctx->sess->role) < level_of(before))
		return reply_error(ctx, 403, "complaint %lld waits for a %s", (long long)rec_int(before, "id"),
				   rec_str(before, "level"));
	struct pd_value *after = pd_value_copy(ctx->a, before);
	pd_map_set_str(ctx->a, after, "owner", ctx->sess->user);
	return finish(ctx, before, after, "take", NULL, 200, pd_sprintf(ctx->a, "%s takes the complaint", ctx->sess->user));
}

int cmd_complaint_escalate(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	if (!complaint_transition_allowed(status_of(before), COMPLAINT_STATUS_ESCALATED, level_of(before)))
		return reply_error(ctx, 409, "complaint %lld is %s at %s level: it cannot go higher",
				   (long long)rec_int(before, "id"), rec_str(before, "status"), rec_str(before, "level"));
	struct complaint_facts f = facts_of(ctx, after);
	f.manual_request = true;
	struct complaint_escalation e;
	if (complaint_escalation_check(&rules, &f, &e) != COMPLAINT_OK)
		return reply_error(ctx, 500, "internal error: escalation check failed");
	const char *to = pd_arg_str(ctx->args, "to");
	if (to && check_new_owner(ctx, to, e.target_level))
		return PD_EREPLIED;
	escalate(ctx, after, &e, to);
	return finish(ctx, before, after, "escalate", pd_arg_str(ctx->args, "reason"), 200,
	       pd_sprintf(ctx->a, "escalated to %s", rec_str(after, "level")));
}

int cmd_complaint_refer(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after) || move_to(ctx, after, COMPLAINT_STATUS_EXTERNAL_REVIEW))
		return PD_EREPLIED;
	pd_map_set_str(ctx->a, after, "external_body", pd_arg_str(ctx->args, "body"));
	pd_map_set_int(ctx->a, after, "referred_at", ctx->now);
	return finish(ctx, before, after, "refer", pd_arg_str(ctx->args, "text"), 200,
	       pd_sprintf(ctx->a, "referred to %s", pd_arg_str(ctx->args, "body")));
}

int cmd_complaint_outcome(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	if (status_of(before) != COMPLAINT_STATUS_EXTERNAL_REVIEW)
		return reply_error(ctx, 409, "complaint %lld is not in external review", (long long)rec_int(before, "id"));
	pd_map_set_str(ctx->a, after, "external_outcome", pd_arg_str(ctx->args, "outcome"));
	pd_map_set_int(ctx->a, after, "outcome_at", ctx->now);
	return finish(ctx, before, after, "external_outcome", NULL, 200, "outcome recorded; close with the feedback");
}

/* After a serious complaint: the apology sent (visit, letter, call) and a
 * rectification plan with its owner and due date, raised as a plan of
 * rectify.c (its id in rectification.plan_id) to be followed to its check. */
static int record_aftercare(struct cmd_ctx *ctx, struct pd_value *c)
{
	const char *apology = pd_arg_str(ctx->args, "apology");
	const char *plan = pd_arg_str(ctx->args, "rectification");
	const char *owner = pd_arg_str(ctx->args, "rectification_owner");
	const char *due = pd_arg_str(ctx->args, "rectification_due");
	if (!plan && (owner || due)) {
		reply_error(ctx, 422, "rectification_owner and rectification_due belong to a rectification plan: give rectification=");
		return -1;
	}
	if (plan && (!owner || !due)) {
		reply_error(ctx, 422, "a rectification plan needs an owner and a due date: give %s",
			    !owner && !due ? "rectification_owner and rectification_due"
			    : !owner      ? "rectification_owner" : "rectification_due");
		return -1;
	}
	struct pd_value *u;
	int y, m, d;
	if (plan && user_load(ctx, owner, &u))
		return -1;
	if (plan && (pd_date_parse(due, &y, &m, &d) < 0 || pd_local_day_start(y, m, d) + 86399 < ctx->now)) {
		reply_error(ctx, 422, "rectification_due %s is already past", due);
		return -1;
	}
	if (apology) {
		pd_map_set_str(ctx->a, c, "apology", apology);
		pd_map_set_int(ctx->a, c, "apology_at", ctx->now);
	}
	if (plan) {
		struct pd_value *r = pd_map(ctx->a);
		pd_map_set_str(ctx->a, r, "plan", plan);
		pd_map_set_str(ctx->a, r, "owner", owner);
		pd_map_set_str(ctx->a, r, "due", due);
		pd_map_set_str(ctx->a, r, "raised_by", ctx->sess->user);
		/* the plan itself, followed to its check in rectify.c */
		struct rectify_in in = { .source = "complaint", .source_id = rec_int(c, "id"),
					 .customer = rec_str(c, "customer"), .depot = pd_arg_str(ctx->args, "responsible"),
					 .fault = pd_arg_str(ctx->args, "cause"), .action = plan, .owner = owner,
					 .due_at = pd_local_day_start(y, m, d) + 86399 };
		int64_t plan_id;
		int rc = rectify_raise(ctx, &in, &plan_id);
		if (rc) {
			reply_store_error(ctx, rc);
			return -1;
		}
		pd_map_set_int(ctx->a, r, "plan_id", plan_id);
		pd_map_set(ctx->a, c, "rectification", r);
	}
	return 0;
}

int cmd_complaint_close(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &COMPLAINT, &before, NULL))
		return PD_EREPLIED;
	int64_t satisfaction = 0;
	bool has_sat = pd_arg_int(ctx->args, "satisfaction", &satisfaction);
	if (has_sat && (satisfaction < SATISFACTION_MIN || satisfaction > SATISFACTION_MAX))
		return reply_error(ctx, 400, "argument 'satisfaction' must be from %d to %d",
				   SATISFACTION_MIN, SATISFACTION_MAX);
	static const char *const needed[] = { "satisfaction", "feedback", "responsible", "stage", "cause" };
	struct pd_missing missing = { 0 };
	for (size_t i = 0; i < 5; i++)
		if (!pd_map_get(ctx->args, needed[i]))
			pd_missing_add(&missing, needed[i]);
	struct pd_error err;
	if (pd_missing_error(&missing, &err) < 0)
		return reply_error(ctx, err.code, "%s", err.msg);
	if (!complaint_may_close(role_level(ctx->sess->role), level_of(before)))
		return reply_error(ctx, 403, "complaint %lld is at %s level: a %s or above closes it",
				   (long long)rec_int(before, "id"), rec_str(before, "level"), rec_str(before, "level"));
	if (may_work(ctx, before))
		return PD_EREPLIED;
	after = pd_value_copy(ctx->a, before);
	if (move_to(ctx, after, COMPLAINT_STATUS_CLOSED) || record_aftercare(ctx, after))
		return PD_EREPLIED;
	pd_map_set_int(ctx->a, after, "satisfaction", satisfaction);
	pd_map_set_str(ctx->a, after, "feedback", pd_arg_str(ctx->args, "feedback"));
	pd_map_set_str(ctx->a, after, "responsible", pd_arg_str(ctx->args, "responsible"));
	pd_map_set_str(ctx->a, after, "stage", pd_arg_str(ctx->args, "stage"));
	pd_map_set_str(ctx->a, after, "cause", pd_arg_str(ctx->args, "cause"));
	pd_map_set_int(ctx->a, after, "closed_at", ctx->now);
	pd_map_set_str(ctx->a, after, "closed_by", ctx->sess->user);
	if (ctx->now > rec_int(after, "resolve_by"))
		pd_map_set_bool(ctx->a, after, "ever_overdue", true);
	int rc = survey_complaint_closed(ctx, after);
	if (rc)
		return reply_store_error(ctx, rc);
	return finish(ctx, before, after, "close", NULL, 200, "closed");
}

int cmd_complaint_reopen(struct cmd_ctx *ctx)
{
	struct pd_value *before;
	if (record_load_arg(ctx, &COMPLAINT, &before, NULL))
		return PD_EREPLIED;
	if (status_of(before) != COMPLAINT_STATUS_CLOSED)
		return reply_error(ctx, 409, "complaint %lld is not closed", (long long)rec_int(before, "id"));
	struct pd_value *after = pd_value_copy(ctx->a, before);
	/* a reopened complaint gets fresh time limits from now, and the
	 * supervisor who reopens it owns it */
	struct complaint_due due;
	enum complaint_category category = COMPLAINT_CATEGORY_OTHER;
	complaint_category_parse(rec_str(before, "category"), &category);
	complaint_due_times(&rules, ctx->now, channel_of(before), category, service_of(before),
			    COMPLAINT_NO_DEADLINE, &due);
	pd_map_set_str(ctx->a, after, "status", "acknowledged");
	pd_map_set_str(ctx->a, after, "owner", ctx->sess->user);
	/* the reopening supervisor's level owns it; that is not an escalation
	 * (no trigger fired), so the statistics do not count it as one */
	if (level_of(after) < role_level(ctx->sess->role))
		pd_map_set_str(ctx->a, after, "level", complaint_level_name(role_level(ctx->sess->role)));
	pd_map_set_int(ctx->a, after, "close_by", due.close_by);
	pd_map_set_int(ctx->a, after, "regulator_reply_by", 0);
	/* a reopened complaint is a new receipt: the law's days count again */
	pd_map_set_int(ctx->a, after, "legal_by", due.legal_by);
	struct sla_calendar cc;
	if (sla_calendar_load(ctx, after, &cc))
		cc.business = false;
	pd_map_set_int(ctx->a, after, "resolve_by",
		       resolve_due(&cc, after, ctx->now, resolve_minutes(ctx->cfg, after), due.resolve_by));
	pd_map_set_str(ctx->a, after, "waiting_for", "");
	customer_contacted(ctx, after);
	pd_map_set_int(ctx->a, after, "reopens", rec_int(after, "reopens") + 1);
	pd_map_set_int(ctx->a, after, "closed_at", 0);
	pd_map_set_int(ctx->a, after, "accepted_at", 0);
	pd_map_set_bool(ctx->a, after, "resolve_breached", false);
	int rc = survey_complaint_reopened(ctx, before);
	if (rc)
		return reply_store_error(ctx, rc);
	return finish(ctx, before, after, "reopen", pd_arg_str(ctx->args, "reason"), 200, "reopened");
}

/* Waiting for the customer, a partner carrier or documents stops the
 * resolve and update clocks; RESUME moves resolve-by by the paused span, in
 * the clock's own time (business time across nights and weekends), never
 * past the 30-day ceiling or a regulator's deadline. */
int cmd_complaint_wait(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	if (!clocks_run(status_of(before)))
		return reply_error(ctx, 409, "complaint %lld is %s: its clocks do not run",
				   (long long)rec_int(before, "id"), rec_str(before, "status"));
	if (is_paused(before))
		return reply_error(ctx, 409, "complaint %lld already waits for the %s", (long long)rec_int(before, "id"),
				   rec_str(before, "waiting_for"));
	pd_map_set_str(ctx->a, after, "waiting_for", pd_arg_str(ctx->args, "for"));
	pd_map_set_int(ctx->a, after, "paused_at", ctx->now);
	pd_map_set_int(ctx->a, after, "pauses", rec_int(after, "pauses") + 1);
	return finish(ctx, before, after, "pause", pd_arg_str(ctx->args, "reason"), 200,
	       pd_sprintf(ctx->a, "waiting for the %s: the resolve clock is paused", pd_arg_str(ctx->args, "for")));
}

int cmd_complaint_resume(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (load_for_change(ctx, &before, &after))
		return PD_EREPLIED;
	if (!is_paused(before))
		return reply_error(ctx, 409, "complaint %lld is not waiting", (long long)rec_int(before, "id"));
	int64_t span;
	bool business;
	int rc = end_pause(ctx, after, true, &span, &business);
	if (rc)
		return reply_store_error(ctx, rc);
	return finish(ctx, before, after, "resume", pd_arg_str(ctx->args, "text"), 200,
	       pd_sprintf(ctx->a, "resumed after %lld %s second(s) paused", (long long)span,
			  business ? "business" : "calendar"));
}

/* Calls visit() with each statistics counter of the days first to last
 * (YYYYMMDD): "DAY|DIM|VALUE" -> n. 0 or an LMDB code. */
static int stats_walk(struct cmd_ctx *ctx, int first, int last,
		      void (*visit)(struct cmd_ctx *ctx, const char *dim, const char *val, int64_t n, void *ud), void *ud)
{
	char start[16], stop[16];
	snprintf(start, sizeof(start), "%08d|", first);
	snprintf(stop, sizeof(stop), "%08d", last);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->complaint_stats, &cur);
	if (rc)
		return rc;
	MDB_val k = { strlen(start), start }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 10 || memcmp(k.mv_data, stop, 8) > 0)
			break;
		char key[160];
		size_t kl = k.mv_size < sizeof(key) - 1 ? k.mv_size : sizeof(key) - 1;
		memcpy(key, k.mv_data, kl);
		key[kl] = '\0';
		char *dim = key + 9, *val = strchr(dim, '|');
		if (!val || v.mv_size != 8)
			continue;
		*val++ = '\0';
		visit(ctx, dim, val, (int64_t)be64_get(v.mv_data), ud);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static void add_category(struct cmd_ctx *ctx, const char *dim, const char *val, int64_t n, void *ud)
{
	struct pd_value *by = ud;
	int64_t prev = 0;
	if (strcmp(dim, "category") != 0)
		return;
	pd_map_int(by, val, &prev);
	pd_map_set_int(ctx->a, by, pd_strdup(ctx->a, val), prev + n);
}

int complaint_categories_of_days(struct cmd_ctx *ctx, int first_day, int last_day, struct pd_value *by)
{
	return stats_walk(ctx, first_day, last_day, add_category, by);
}

int complaint_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	struct pd_value *before, *after;
	int rc = record_get_copy(ctx, &COMPLAINT, (int64_t)id, &before, &after);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	const char *action = "clock";
	if (!pd_map_bool(after, "appeal_risk") && at_appeal_risk(after, ctx->now)) {
		pd_map_set_bool(ctx->a, after, "appeal_risk", true);
		action = "appeal_risk";
	}
	if (clocks_run(status_of(after))) {
		if (!rec_int(after, "acknowledged_at") && ctx->now > rec_int(after, "acknowledge_by") &&
		    !pd_map_bool(after, "acknowledge_breached")) {
			pd_map_set_bool(ctx->a, after, "acknowledge_breached", true);
			pd_map_set_bool(ctx->a, after, "ever_overdue", true);
			action = "acknowledge_breached";
		}
		if (!is_paused(after) && rec_int(after, "update_by") && ctx->now > rec_int(after, "update_by") &&
		    !pd_map_bool(after, "update_breached")) {
			/* the customer has not heard from us in time: shown, not escalated */
			pd_map_set_bool(ctx->a, after, "update_breached", true);
			pd_map_set_int(ctx->a, after, "update_breaches", rec_int(after, "update_breaches") + 1);
			action = "update_breached";
		}
		if (is_paused(after) && ctx->now > legal_by_of(after) && !pd_map_bool(after, "resolve_breached")) {
			/* waiting for the customer does not stop the law's days:
			 * the breach is recorded with what we were waiting for */
			pd_map_set_bool(ctx->a, after, "resolve_breached", true);
			pd_map_set_bool(ctx->a, after, "ever_overdue", true);
			pd_map_set_str(ctx->a, after, "breached_waiting_for", rec_str(after, "waiting_for"));
			action = "legal_ceiling_breached";
		}
		if (!is_paused(after) && ctx->now > rec_int(after, "resolve_by") &&
		    !pd_map_bool(after, "resolve_breached")) {
			if (auto_escalate(ctx, after)) {
				action = "escalate";
			} else {
				/* at the top level there is nobody to escalate to: the
				 * breach stays visible in lists and statistics */
				pd_map_set_bool(ctx->a, after, "resolve_breached", true);
				pd_map_set_bool(ctx->a, after, "ever_overdue", true);
				action = "resolve_breached";
			}
		}
	}
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	rc = complaint_save(ctx, before, after, action, NULL);
	ctx->sess = saved;
	return rc;
}

/* ---- lists ---- */

struct list_filter {
	const char *owner, *queue, *status, *depot, *category, *waybill, *phone;
	struct pd_value *overdue, *escalated, *appeal_risk;
	int64_t from, to; /* opened_at bounds, 0 = none */
};

static int is_name(struct cmd_ctx *ctx, const char *category, void *ud)
{
	(void)ctx;
	return strcmp(category, ud) == 0;
}

/* The main category or one of the secondary ones. */
static bool has_category(struct cmd_ctx *ctx, const struct pd_value *c, const char *category)
{
	return !strcmp(category, rec_str(c, "category")) ||
	       each_also_category(ctx, rec_str(c, "also_categories"), is_name, (void *)category);
}

static bool filter_matches(struct cmd_ctx *ctx, const struct list_filter *f, const struct pd_value *c)
{
	if (f->owner && strcmp(f->owner, rec_str(c, "owner")) != 0)
		return false;
	if (f->queue && (*rec_str(c, "owner") || strcmp(f->queue, rec_str(c, "level")) != 0))
		return false;
	if (f->status && strcmp(f->status, rec_str(c, "status")) != 0)
		return false;
	if (f->depot && strcmp(f->depot, rec_str(c, "depot")) != 0)
		return false;
	if (f->category && !has_category(ctx, c, f->category))
		return false;
	if (f->waybill && strcmp(f->waybill, rec_str(c, "waybill")) != 0)
		return false;
	if (f->phone && strcmp(f->phone, rec_str(c, "customer_phone")) != 0)
		return false;
	if (f->overdue && is_overdue(c, ctx->now) != f->overdue->u.b)
		return false;
	if (f->escalated && (level_of(c) > COMPLAINT_LEVEL_HANDLER) != f->escalated->u.b)
		return false;
	if (f->appeal_risk && at_appeal_risk(c, ctx->now) != f->appeal_risk->u.b)
		return false;
	int64_t opened = rec_int(c, "opened_at");
	if ((f->from && opened < f->from) || (f->to && opened >= f->to))
		return false;
	return true;
}

static int date_bound(const char *s, int64_t *out)
{
	int y, m, d;
	if (!s)
		return 0;
	if (pd_date_parse(s, &y, &m, &d) < 0)
		return -1;
	*out = pd_local_day_start(y, m, d);
	return 0;
}

/* Adds c to the list when it passes every filter. */
static bool list_keep(struct cmd_ctx *ctx, const struct list_filter *f, const struct pd_value *c,
		      struct pd_value *list)
{
	if (!filter_matches(ctx, f, c))
		return false;
	struct pd_value *r = pd_map(ctx->a);
	static const char *const cols[] = { "id", "status", "level", "owner", "channel", "category",
					    "depot", "waybill", "customer_name", "opened_at", "resolve_by" };
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		struct pd_value *val = pd_map_get(c, cols[i]);
		pd_map_set(ctx->a, r, cols[i], val ? present_field(ctx, cols[i], val) : pd_str(ctx->a, ""));
	}
	pd_map_set_bool(ctx->a, r, "overdue", is_overdue(c, ctx->now));
	pd_map_set_bool(ctx->a, r, "appeal_risk", at_appeal_risk(c, ctx->now));
	pd_arr_push(ctx->a, list, r);
	return true;
}

/* Walks the ids under one index key newest first. */
static int walk_key(struct cmd_ctx *ctx, MDB_cursor *cur, const char *key, int64_t before,
		    int64_t limit, const struct list_filter *f, struct pd_value *list)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
	for (; rc == 0 && (int64_t)list->u.c.count < limit; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV_DUP)) {
		if (before && be64_get(v.mv_data) >= (uint64_t)before)
			continue;
		struct pd_value *c;
		if ((rc = store_get(ctx->txn, ctx->st->complaints, v.mv_data, 8, ctx->a, &c)))
			return rc;
		list_keep(ctx, f, c, list);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The overdue list alone: the due index from the most overdue on, up to
 * now. Paging by (due time, id): before=ID continues after that row. */
static int walk_due(struct cmd_ctx *ctx, int64_t before, int64_t limit, const struct list_filter *f,
		    struct pd_value *list)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->complaint_due, &cur);
	if (rc)
		return rc;
	MDB_val k, v;
	unsigned char kb[8], vb[8];
	struct pd_value *last = NULL;
	be64_put(vb, (uint64_t)before);
	if (before && store_get(ctx->txn, ctx->st->complaints, vb, 8, ctx->a, &last) == 0 &&
	    rec_int(last, "due_key")) {
		be64_put(kb, (uint64_t)rec_int(last, "due_key"));
		be64_put(vb, (uint64_t)before);
		k = (MDB_val){ 8, kb };
		v = (MDB_val){ 8, vb };
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
		if (rc == 0 && be64_get(v.mv_data) == (uint64_t)before)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		else if (rc == MDB_NOTFOUND) {
			k = (MDB_val){ 8, kb };
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		}
	} else {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	}
	for (; rc == 0 && (int64_t)list->u.c.count < limit; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((int64_t)be64_get(k.mv_data) >= ctx->now)
			break; /* due at or after now: not overdue, nor anything after */
		struct pd_value *c;
		if ((rc = store_get(ctx->txn, ctx->st->complaints, v.mv_data, 8, ctx->a, &c)))
			break;
		list_keep(ctx, f, c, list);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Picks the narrowest index for the filters and keeps what matches every
 * filter: newest first by opening day and id; with overdue=yes alone, most
 * overdue first. */
int cmd_complaint_list(struct cmd_ctx *ctx)
{
	struct list_filter f = {
		.owner = pd_arg_str(ctx->args, "owner"), .queue = pd_arg_str(ctx->args, "queue"),
		.status = pd_arg_str(ctx->args, "status"), .depot = pd_arg_str(ctx->args, "depot"),
		.category = pd_arg_str(ctx->args, "category"), .waybill = pd_arg_str(ctx->args, "waybill"),
		.phone = pd_arg_str(ctx->args, "phone"),
		.overdue = pd_map_get(ctx->args, "overdue"), .escalated = pd_map_get(ctx->args, "escalated"),
		.appeal_risk = pd_map_get(ctx->args, "appeal_risk"),
	};
	int64_t limit, before;
	if (rec_list_args(ctx, &limit, &before))
		return PD_EREPLIED;
	int64_t to_day = 0;
	date_bound(pd_arg_str(ctx->args, "from"), &f.from);
	date_bound(pd_arg_str(ctx->args, "to"), &to_day);
	if (to_day)
		f.to = to_day + 86400; /* the `to` day is included */

	const char *key = NULL;
	if (f.waybill) key = pd_sprintf(ctx->a, "waybill=%s", f.waybill);
	else if (f.phone) key = pd_sprintf(ctx->a, "phone=%s", f.phone);
	else if (f.owner) key = pd_sprintf(ctx->a, "owner=%s", f.owner);
	else if (f.queue) key = pd_sprintf(ctx->a, "queue=%s", f.queue);
	else if (f.escalated && f.escalated->u.b) key = "escalated=1";
	else if (f.status) key = pd_sprintf(ctx->a, "status=%s", f.status);
	else if (f.depot) key = pd_sprintf(ctx->a, "depot=%s", f.depot);
	else if (f.category) key = pd_sprintf(ctx->a, "category=%s", f.category);

	struct pd_value *list = pd_arr(ctx->a);
	int rc = 0;
	if (!key && f.overdue && f.overdue->u.b) {
		rc = walk_due(ctx, before, limit, &f, list);
	} else {
		MDB_cursor *cur;
		if ((rc = mdb_cursor_open(ctx->txn, ctx->st->complaint_index, &cur)))
			return reply_store_error(ctx, rc);
		if (key) {
			rc = walk_key(ctx, cur, key, before, limit, &f, list);
		} else {
			/* by opening day, newest day first: a day index, so a clock
			 * that went back loses nothing */
			int64_t first = f.from ? f.from : 0;
			int64_t last = f.to ? f.to - 1 : 0;
			if (!last) {
				/* no `to`: from the latest opening day there is (a clock
				 * moved back may have opened complaints "after" now) */
				MDB_val k = { 7, "opened>" }, v;
				int day = 0;
				int r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
				r = r == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : mdb_cursor_get(cur, &k, &v, MDB_LAST);
				if (r == 0 && k.mv_size == 15 && !memcmp(k.mv_data, "opened=", 7))
					day = atoi(pd_strndup(ctx->a, (char *)k.mv_data + 7, 8));
				last = day ? pd_local_day_start(day / 10000, day / 100 % 100, day % 100) + 86399 : ctx->now;
			}
			if (!first) {
				/* no `from`: back to the earliest opening day there is */
				MDB_val k = { 7, "opened=" }, v;
				int day = 0;
				if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 && k.mv_size == 15 &&
				    !memcmp(k.mv_data, "opened=", 7))
					day = atoi(pd_strndup(ctx->a, (char *)k.mv_data + 7, 8));
				first = day ? pd_local_day_start(day / 10000, day / 100 % 100, day % 100) : last + 1;
			}
			for (int64_t t = last; t >= first && !rc && (int64_t)list->u.c.count < limit; t -= 86400)
				rc = walk_key(ctx, cur, pd_sprintf(ctx->a, "opened=%08d", pd_local_day(t)), before,
					      limit, &f, list);
		}
		mdb_cursor_close(cur);
	}
	if (rc)
		return reply_store_error(ctx, rc);
	ctx->rep->data = list;
	reply_ok(ctx, 200, "%s", count_of(ctx, (int64_t)list->u.c.count, "complaint", "complaints"));
	return 0;
}

/* ---- statistics: counters and duration indexes, never every complaint ---- */

static void add_share(struct cmd_ctx *ctx, struct pd_value *d, const char *key, int64_t part, int64_t whole)
{
	int64_t bp = whole ? (part * 10000 + whole / 2) / whole : 0; /* basis points, rounded */
	pd_map_set_str(ctx->a, d, key, pd_sprintf(ctx->a, "%lld.%02lld", (long long)(bp / 100), (long long)(bp % 100)));
}

struct int64_vec {
	int64_t *v;
	size_t n, cap;
};

static void vec_push(struct int64_vec *vec, int64_t x)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 1024;
		int64_t *nv = realloc(vec->v, vec->cap * sizeof(*nv));
		if (!nv)
			abort();
		vec->v = nv;
	}
	vec->v[vec->n++] = x;
}

static void add_duration_stats(struct cmd_ctx *ctx, struct pd_value *d, const char *name, struct int64_vec *vec)
{
	struct complaint_duration_stats s = { 0 };
	if (vec->n)
		complaint_duration_stats(vec->v, vec->n, &s);
	pd_map_set_int(ctx->a, d, pd_sprintf(ctx->a, "%s_count", name), (int64_t)vec->n);
	pd_map_set_int(ctx->a, d, pd_sprintf(ctx->a, "%s_median_secs", name), s.median);
	pd_map_set_int(ctx->a, d, pd_sprintf(ctx->a, "%s_p90_secs", name), s.p90);
}

/* COMPLAINT STATS' sums of the counters. */
struct stats_sums {
	int64_t opened, closed, escalated, overdue, sat_sum, sat_n, paused_total, appeal_risk, appeals;
	struct pd_value **groups; /* by the dimensions of STATS_DIMS */
};

static const char *const STATS_DIMS[] = { "category", "channel", "depot", "responsible", "stage" };

static void add_stat(struct cmd_ctx *ctx, const char *dim, const char *val, int64_t n, void *ud)
{
	struct stats_sums *t = ud;
	if (!strcmp(dim, "opened")) t->opened += n;
	else if (!strcmp(dim, "closed")) t->closed += n;
	else if (!strcmp(dim, "escalated")) t->escalated += n;
	else if (!strcmp(dim, "overdue")) t->overdue += n;
	else if (!strcmp(dim, "appeal_risk")) t->appeal_risk += n;
	else if (!strcmp(dim, "appeals")) t->appeals += n;
	else if (!strcmp(dim, "satisfaction")) { if (!strcmp(val, "sum")) t->sat_sum += n; else t->sat_n += n; }
	else if (!strcmp(dim, "paused_secs")) t->paused_total += n;
	else {
		for (int i = 0; i < 5; i++)
			if (!strcmp(dim, STATS_DIMS[i]) && n) {
				int64_t prev = 0;
				pd_map_int(t->groups[i], val, &prev);
				pd_map_set_int(ctx->a, t->groups[i], pd_strdup(ctx->a, val), prev + n);
			}
	}
}

/* Runs on the bulk thread with a read transaction: a year's range walks
 * many counters. Figures are about the complaints OPENED in the period. */
int cmd_complaint_stats(struct cmd_ctx *ctx)
{
	int y1, m1, d1 = 1, y2, m2, d2;
	const char *month = pd_arg_str(ctx->args, "month");
	const char *from = pd_arg_str(ctx->args, "from"), *to = pd_arg_str(ctx->args, "to");
	if (month && (from || to))
		return reply_error(ctx, 400, "give month, or from and to, not both");
	if (month) {
		pd_month_parse(month, &y1, &m1);
		y2 = y1; m2 = m1; d2 = 31;
	} else if (from && to) {
		pd_date_parse(from, &y1, &m1, &d1);
		pd_date_parse(to, &y2, &m2, &d2);
	} else if (!from && !to) {
		int today = pd_local_day(ctx->now);
		y1 = y2 = today / 10000; m1 = m2 = today / 100 % 100; d2 = 31;
	} else {
		return reply_error(ctx, 400, "give both from and to");
	}
	int first = y1 * 10000 + m1 * 100 + d1, last = y2 * 10000 + m2 * 100 + d2;
	if (last < first)
		return reply_error(ctx, 400, "'to' is before 'from'");

	struct pd_arena *a = ctx->a;
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "from", pd_sprintf(a, "%04d-%02d-%02d", first / 10000, first / 100 % 100, first % 100));
	pd_map_set_str(a, d, "to", month ? pd_sprintf(a, "%s (whole month)", month)
					 : pd_sprintf(a, "%04d-%02d-%02d", last / 10000, last / 100 % 100, last % 100));
	struct pd_value *groups[6];
	for (int i = 0; i < 5; i++)
		groups[i] = pd_map(a);
	struct stats_sums t = { .groups = groups };
	char start[16], stop[16];
	snprintf(start, sizeof(start), "%08d|", first);
	snprintf(stop, sizeof(stop), "%08d|~", last);
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = stats_walk(ctx, first, last, add_stat, &t);
	if (rc)
		return reply_store_error(ctx, rc);
	struct int64_vec ack = { 0 }, res = { 0 }, res_biz = { 0 };
	rc = mdb_cursor_open(ctx->txn, ctx->st->complaint_durations, &cur);
	if (rc)
		return reply_store_error(ctx, rc);
	k.mv_size = strlen(start);
	k.mv_data = start;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 10 || memcmp(k.mv_data, stop, 8) > 0)
			break;
		if (v.mv_size != 16)
			continue;
		const char *kind = (const char *)k.mv_data + 9;
		size_t kind_len = k.mv_size - 9;
		struct int64_vec *vec = (kind_len == 3 && !memcmp(kind, "ack", 3)) ? &ack
				      : (kind_len == 11 && !memcmp(kind, "resolve_biz", 11)) ? &res_biz : &res;
		vec_push(vec, (int64_t)be64_get(v.mv_data));
	}
	mdb_cursor_close(cur);

	pd_map_set_int(a, d, "opened", t.opened);
	pd_map_set_int(a, d, "closed", t.closed);
	pd_map_set_int(a, d, "escalated", t.escalated);
	add_share(ctx, d, "escalated_pct", t.escalated, t.opened);
	pd_map_set_int(a, d, "overdue", t.overdue);
	add_share(ctx, d, "overdue_pct", t.overdue, t.opened);
	pd_map_set_int(a, d, "appeal_risk", t.appeal_risk);
	pd_map_set_int(a, d, "appeals", t.appeals);
	add_duration_stats(ctx, d, "acknowledge", &ack);
	add_duration_stats(ctx, d, "resolve", &res);
	add_duration_stats(ctx, d, "resolve_business", &res_biz);
	pd_map_set_int(a, d, "paused_secs_total", t.paused_total);
	pd_map_set_int(a, d, "satisfaction_count", t.sat_n);
	int64_t avg100 = t.sat_n ? (t.sat_sum * 100 + t.sat_n / 2) / t.sat_n : 0;
	pd_map_set_str(a, d, "satisfaction_avg", pd_sprintf(a, "%lld.%02lld", (long long)(avg100 / 100), (long long)(avg100 % 100)));
	for (int i = 0; i < 5; i++)
		pd_map_set(a, d, pd_sprintf(a, "by_%s", STATS_DIMS[i]), groups[i]);
	free(ack.v);
	free(res.v);
	free(res_biz.v);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "%lld complaints opened in the period", (long long)t.opened);
	return 0;
}

int complaint_open_of_customer(struct cmd_ctx *ctx, const char *account, struct pd_value *ids)
{
	const char *keys[COMPLAINT_STATUS_COUNT];
	size_t n = 0;
	for (int i = 0; i < COMPLAINT_STATUS_COUNT; i++)
		if (i != COMPLAINT_STATUS_CLOSED)
			keys[n++] = pd_sprintf(ctx->a, "status=%s", complaint_status_name((enum complaint_status)i));
	return record_ids_where(ctx, &COMPLAINT, keys, n, "customer", account, ids);
}

int complaint_link_claim(struct cmd_ctx *ctx, int64_t id, const char *waybill, int64_t claim)
{
	struct pd_value *before;
	int rc = record_load(ctx, &COMPLAINT, id, &before);
	if (rc)
		return rc;
	if (strcmp(rec_str(before, "waybill"), waybill) != 0)
		return reply_error(ctx, 422, "complaint %lld is not about waybill %s", (long long)id, waybill);
	struct pd_value *after = pd_value_copy(ctx->a, before);
	struct pd_value *claims = pd_map_get(after, "claims");
	if (!claims || claims->type != PD_ARR) {
		claims = pd_arr(ctx->a);
		pd_map_set(ctx->a, after, "claims", claims);
	}
	pd_arr_push(ctx->a, claims, pd_int(ctx->a, claim));
	/* a link moves no clock and no counter: record_save(), not complaint_save() */
	rc = record_save(ctx, &COMPLAINT, before, after, "link_claim", NULL);
	return rc ? reply_store_error(ctx, rc) : 0;
}

int complaint_open(struct cmd_ctx *ctx, bool *more)
{
	*more = false; /* one step: the records are walked once, at start */
	return record_index_fill(ctx, &COMPLAINT, "open_level");
}

int complaint_gauges(MDB_txn *txn, struct store *st, int64_t now, struct module_gauges *g)
{
	const char *levels[COMPLAINT_LEVEL_COUNT];
	for (int i = 0; i < COMPLAINT_LEVEL_COUNT; i++)
		levels[i] = complaint_level_name((enum complaint_level)i);
	return record_gauges(txn, st, &COMPLAINT, "open_level", levels, COMPLAINT_LEVEL_COUNT, now, g);
}

int complaint_get(struct cmd_ctx *ctx, int64_t id, struct pd_value **out)
{
	return record_get(ctx, &COMPLAINT, id, out);
}
