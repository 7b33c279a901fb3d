/* survey.c — satisfaction surveys of account customers and the
 * satisfaction index (SURVEY ...; docs/customers.md, "Satisfaction"), a
 * declared record kind (docs/records.md).
 *
 * A survey is `due` (raised by the tier's plan after the last one was
 * answered, or after an incident: a closed complaint of the account, a
 * paid claim), `sent` (through a contact: a visit, a call, a letter...) and
 * `answered` (an overall score and one per service dimension, 1 to 5, and
 * the customer's words). A due survey is listed by its due time in
 * `survey_due`; the one timer (kind "survey") marks it overdue the second
 * after. The index is kept as monthly counters of volume.h (customer, depot
 * and network): each answer adds its overall score, each complaint close
 * its satisfaction, so a report reads a few counters. */
#include <string.h>

#include "care.h"
#include "contact.h"
#include "customer.h"
#include "record.h"
#include "survey_rules.h"
#include "volume.h"

/* an answer may be recorded a little ahead of the daemon's clock */
#define ANSWER_FUTURE_SLACK_SECS 300

/* The service dimensions scored besides the overall score. */
static const char *const DIMENSIONS[] = { "timeliness", "safety", "attitude", "handling", "information" };
#define N_DIMENSIONS (sizeof(DIMENSIONS) / sizeof(DIMENSIONS[0]))

static bool is_answered(const struct pd_value *s)
{
	return strcmp(rec_str(s, "status"), "answered") == 0;
}

static int64_t due_of(const struct pd_value *s)
{
	return is_answered(s) ? 0 : rec_int(s, "due_at");
}

static int64_t timer_of(const struct pd_value *s)
{
	return rec_overdue_timer(s, due_of(s));
}

/* "pending=ACCOUNT:REASON" while not answered: one due survey of a reason
 * per account is enough */
static const char *pending_key(struct cmd_ctx *ctx, const struct pd_value *s)
{
	return is_answered(s) ? NULL
	       : pd_sprintf(ctx->a, "pending=%s:%s", rec_str(s, "customer"), rec_str(s, "reason"));
}

static const struct record_index SURVEY_INDEXES[] = {
	{ "pending", NULL, pending_key },
	{ NULL, NULL, NULL },
};

static const struct record_kind SURVEY = {
	RECORD_KIND("survey", surveys, survey_index),
	.fields = RECORD_FIELDS("customer", "depot", "status"),
	.indexes = SURVEY_INDEXES,
	.due_db = RECORD_DB(survey_due),
	.due = due_of,
	.timer = timer_of,
};

static void plan_from_config(const struct config *cfg, struct survey_plan *p)
{
	p->key_days = cfg->survey_key_days;
	p->local_major_days = cfg->survey_local_major_days;
	p->medium_days = cfg->survey_medium_days;
	p->after_incident_days = cfg->survey_after_incident_days;
}

static int survey_new(struct cmd_ctx *ctx, const struct pd_value *c, const char *reason, const char *status,
		      struct pd_value **out)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *s;
	int rc = customer_record_new(ctx, &SURVEY, c, &s);
	if (rc)
		return rc;
	pd_map_set_str(a, s, "reason", reason);
	pd_map_set_str(a, s, "status", status);
	pd_map_set_bool(a, s, "overdue", false);
	pd_map_set_int(a, s, "created_at", ctx->now);
	pd_map_set_str(a, s, "created_by", ctx->sess->user);
	*out = s;
	return 0;
}

/* Raises a due survey of `reason` for account c at due_at, unless one of
 * that reason is already pending (*id, when not NULL: the new one's id, or
 * the pending one's). */
static int raise_due(struct cmd_ctx *ctx, const struct pd_value *c, const char *reason, const char *incident,
		     int64_t due_at, int64_t *id)
{
	struct pd_value *ids = pd_arr(ctx->a);
	const char *key = pd_sprintf(ctx->a, "pending=%s:%s", rec_str(c, "account"), reason);
	int rc = record_ids_where(ctx, &SURVEY, &key, 1, "customer", rec_str(c, "account"), ids);
	if (rc)
		return rc;
	if (ids->u.c.head) {
		if (id)
			*id = ids->u.c.head->val->u.i;
		return 0;
	}
	struct pd_value *s;
	if ((rc = survey_new(ctx, c, reason, "due", &s)))
		return rc;
	if (id)
		*id = rec_int(s, "id");
	pd_map_set_int(ctx->a, s, "due_at", due_at);
	if (incident)
		pd_map_set_str(ctx->a, s, "incident", incident);
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	rc = record_save(ctx, &SURVEY, NULL, s, "due", incident);
	ctx->sess = saved;
	return rc;
}

int survey_after_incident_of(struct cmd_ctx *ctx, const char *account, const char *kind, int64_t id)
{
	struct pd_value *c;
	int64_t cid;
	if (!account || !*account)
		return 0;
	int rc = customer_find(ctx, account, &c, &cid);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	struct survey_plan plan;
	plan_from_config(ctx->cfg, &plan);
	return raise_due(ctx, c, "incident", pd_sprintf(ctx->a, "%s:%lld", kind, (long long)id),
			 survey_after_incident(&plan, ctx->now), NULL);
}

/* A complaint's close score in the index of the month it closed in: sign 1
 * at the close, -1 when it is reopened, so only its last close counts. */
static int count_close_score(struct cmd_ctx *ctx, const struct pd_value *complaint, int month, int64_t sign)
{
	const char *account = rec_str(complaint, "customer"), *depot = rec_str(complaint, "depot");
	int64_t score = rec_int(complaint, "satisfaction");
	int rc = 0;
	if (survey_score_valid(score) &&
	    !(rc = volume_count_month(ctx, account, depot, month, "complaint_scores", sign)))
		rc = volume_count_month(ctx, account, depot, month, "complaint_points", sign * score);
	return rc;
}

int survey_complaint_closed(struct cmd_ctx *ctx, const struct pd_value *complaint)
{
	int rc = count_close_score(ctx, complaint, volume_month(ctx->now), 1);
	return rc ? rc : survey_after_incident_of(ctx, rec_str(complaint, "customer"), "complaint",
						  rec_int(complaint, "id"));
}

int survey_complaint_reopened(struct cmd_ctx *ctx, const struct pd_value *closed)
{
	return count_close_score(ctx, closed, volume_month(rec_int(closed, "closed_at")), -1);
}

int cmd_survey_send(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	int64_t id = 0, contact = 0;
	bool given = pd_arg_int(ctx->args, "id", &id);
	const char *account = pd_arg_str(ctx->args, "customer");
	struct pd_value *before = NULL, *after, *c;
	const char *with;
	if (given == (account != NULL))
		return reply_error(ctx, 400, "give the id of a due survey, or customer= for a new one");
	if (given) {
		if (record_load_arg(ctx, &SURVEY, &before, &after))
			return PD_EREPLIED;
		if (strcmp(rec_str(before, "status"), "due"))
			return reply_error(ctx, 409, "survey %lld was sent already", (long long)id);
		account = rec_str(before, "customer");
	}
	if (customer_load(ctx, account, &c))
		return PD_EREPLIED;
	if (pd_arg_int(ctx->args, "contact", &contact)) {
		if (contact_load_customer(ctx, contact, &with))
			return PD_EREPLIED;
		if (strcmp(with, account))
			return reply_error(ctx, 422, "contact %lld is with %s, not %s", (long long)contact, with, account);
	}
	int rc;
	if (!given && (rc = survey_new(ctx, c, pd_arg_str(ctx->args, "reason") ? pd_arg_str(ctx->args, "reason")
					    : "adhoc", "sent", &after)))
		return reply_store_error(ctx, rc);
	pd_map_set_str(a, after, "status", "sent");
	pd_map_set_str(a, after, "via", pd_arg_str(ctx->args, "via"));
	if (contact)
		pd_map_set_int(a, after, "contact", contact);
	pd_map_set_int(a, after, "sent_at", ctx->now);
	pd_map_set_str(a, after, "sent_by", ctx->sess->user);
	return record_reply(ctx, &SURVEY, record_save(ctx, &SURVEY, before, after, "send", NULL), before, after,
			    given ? 200 : 201, pd_sprintf(a, "survey %lld sent", (long long)rec_int(after, "id")));
}

/* An answered survey s of customer c, scored at `at`: its scores join the
 * index of that month (scores[0] the overall score, then one per dimension
 * unless only the overall score was taken), s is saved, and the next
 * periodic survey of the tier's plan falls due (s no longer pending). */
static int save_answered(struct cmd_ctx *ctx, const struct pd_value *c, const struct pd_value *before,
			 struct pd_value *s, int64_t at, const int64_t *scores, bool dimensions, const char *words)
{
	const char *account = rec_str(s, "customer"), *depot = rec_str(s, "depot");
	int month = volume_month(at);
	int rc = volume_count_month(ctx, account, depot, month, "surveys", 1);
	if (!rc)
		rc = volume_count_month(ctx, account, depot, month, "survey_points", scores[0]);
	if (!rc && !dimensions) /* left out of the dimensions' averages */
		rc = volume_count_month(ctx, account, depot, month, "surveys_overall_only", 1);
	for (size_t i = 0; dimensions && i < N_DIMENSIONS && !rc; i++)
		rc = volume_count_month(ctx, account, depot, month, pd_sprintf(ctx->a, "survey_%s", DIMENSIONS[i]),
					scores[i + 1]);
	if (!rc)
		rc = record_save(ctx, &SURVEY, before, s, "answer", words);
	struct survey_plan plan;
	plan_from_config(ctx->cfg, &plan);
	int64_t next = survey_next_periodic(&plan, rec_str(c, "tier"), at);
	if (!rc && next)
		rc = raise_due(ctx, c, "periodic", NULL, next, NULL);
	return rc;
}

int survey_first_reading(struct cmd_ctx *ctx, const struct pd_value *c, int64_t score, int64_t due_at, int64_t *id)
{
	if (!score)
		return raise_due(ctx, c, "first_reading", NULL, due_at, id);
	struct pd_value *s;
	int rc = survey_new(ctx, c, "first_reading", "answered", &s);
	if (rc)
		return rc;
	pd_map_set_str(ctx->a, s, "via", "handover");
	pd_map_set_int(ctx->a, s, "overall", score);
	pd_map_set_str(ctx->a, s, "words", "");
	pd_map_set_int(ctx->a, s, "answered_at", ctx->now);
	pd_map_set_str(ctx->a, s, "answered_by", ctx->sess->user);
	*id = rec_int(s, "id");
	return save_answered(ctx, c, NULL, s, ctx->now, &score, false, "taken at the hand-over from sales");
}

int cmd_survey_answer(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *before, *after, *c;
	if (record_load_arg(ctx, &SURVEY, &before, &after))
		return PD_EREPLIED;
	int64_t scores[N_DIMENSIONS + 1];
	pd_arg_int(ctx->args, "overall", &scores[0]);
	for (size_t i = 0; i < N_DIMENSIONS; i++)
		pd_arg_int(ctx->args, DIMENSIONS[i], &scores[i + 1]);
	for (size_t i = 0; i <= N_DIMENSIONS; i++)
		if (!survey_score_valid(scores[i]))
			return reply_error(ctx, 400, "argument '%s' must be from %d to %d",
					   i ? DIMENSIONS[i - 1] : "overall", SURVEY_SCORE_MIN, SURVEY_SCORE_MAX);
	if (strcmp(rec_str(before, "status"), "sent"))
		return reply_error(ctx, 409, "survey %lld is %s: only a sent survey is answered",
				   (long long)rec_int(before, "id"), rec_str(before, "status"));
	int64_t at = ctx->now;
	pd_arg_int(ctx->args, "answered_at", &at);
	if (at > ctx->now + ANSWER_FUTURE_SLACK_SECS || at < rec_int(before, "sent_at"))
		return reply_error(ctx, 422, "'answered_at' must be between the sending and now");
	if (customer_load(ctx, rec_str(before, "customer"), &c))
		return PD_EREPLIED;
	pd_map_set_str(a, after, "status", "answered");
	pd_map_set_int(a, after, "overall", scores[0]);
	for (size_t i = 0; i < N_DIMENSIONS; i++)
		pd_map_set_int(a, after, DIMENSIONS[i], scores[i + 1]);
	pd_map_set_str(a, after, "words", pd_arg_str(ctx->args, "words") ? pd_arg_str(ctx->args, "words") : "");
	if (pd_arg_str(ctx->args, "respondent"))
		pd_map_set_str(a, after, "respondent", pd_arg_str(ctx->args, "respondent"));
	pd_map_set_int(a, after, "answered_at", at);
	pd_map_set_str(a, after, "answered_by", ctx->sess->user);
	if (pd_map_bool(after, "overdue"))
		pd_map_set_bool(a, after, "answered_late", true);
	pd_map_set_bool(a, after, "overdue", false);
	/* the index: the month of the answer, the customer's home depot */
	int rc = save_answered(ctx, c, before, after, at, scores, true, pd_arg_str(ctx->args, "words"));
	return record_reply(ctx, &SURVEY, rc, before, after, 200, pd_sprintf(a, "survey %lld answered: %lld of %d",
							   (long long)rec_int(after, "id"), (long long)scores[0],
							   SURVEY_SCORE_MAX));
}

int cmd_survey_get(struct cmd_ctx *ctx)
{
	return record_get_reply(ctx, &SURVEY, NULL, NULL);
}

static void row_overdue(struct cmd_ctx *ctx, const struct pd_value *s, struct pd_value *row, void *ud)
{
	(void)ud;
	pd_map_set_bool(ctx->a, row, "overdue", survey_overdue(rec_int(s, "due_at"), is_answered(s), ctx->now));
}

int cmd_survey_list(struct cmd_ctx *ctx)
{
	struct record_filter by[] = { { .name = "customer" }, { .name = "depot" }, { .name = "status" } };
	struct record_rows list = {
		.by = by, .n = record_filter_args(ctx, by, 3),
		RECORD_COLS("id", "customer", "depot", "reason", "incident", "status", "due_at", "sent_at", "answered_at",
			    "overall"),
		.more = row_overdue, .rows = pd_arr(ctx->a),
	};
	/* due=: the surveys due and not answered by due time; up to now, or all */
	return record_list_reply(ctx, &SURVEY, record_due_arg(ctx), &list, "surveys");
}

static void set_avg(struct cmd_ctx *ctx, struct pd_value *m, const char *key, int64_t hundredths, int64_t n)
{
	pd_map_set_str(ctx->a, m, key, n ? pd_sprintf(ctx->a, "%lld.%02lld", (long long)(hundredths / 100),
						      (long long)(hundredths % 100)) : "");
}

void satisfaction_of(struct cmd_ctx *ctx, const char *scope, const char *id, int month,
		     struct satisfaction_index *x, struct pd_value **out)
{
	struct satisfaction_in in = {
		volume_get(ctx->txn, ctx->st, scope, id, month, "surveys"),
		volume_get(ctx->txn, ctx->st, scope, id, month, "survey_points"),
		volume_get(ctx->txn, ctx->st, scope, id, month, "complaint_scores"),
		volume_get(ctx->txn, ctx->st, scope, id, month, "complaint_points"),
	};
	satisfaction_index(&in, x);
	if (!out)
		return;
	struct pd_value *m = pd_map(ctx->a), *sv = pd_map(ctx->a), *cp = pd_map(ctx->a);
	pd_map_set_int(ctx->a, sv, "count", in.surveys);
	pd_map_set_int(ctx->a, sv, "points", in.survey_points);
	set_avg(ctx, sv, "average", x->survey_avg_c, in.surveys);
	/* the dimensions' averages are over the surveys that scored them */
	int64_t scored = in.surveys - volume_get(ctx->txn, ctx->st, scope, id, month, "surveys_overall_only");
	for (size_t i = 0; i < N_DIMENSIONS; i++) {
		int64_t sum = volume_get(ctx->txn, ctx->st, scope, id, month, pd_sprintf(ctx->a, "survey_%s", DIMENSIONS[i]));
		struct satisfaction_in one = { scored, sum, 0, 0 };
		struct satisfaction_index d;
		satisfaction_index(&one, &d);
		set_avg(ctx, sv, DIMENSIONS[i], d.survey_avg_c, scored);
	}
	pd_map_set_int(ctx->a, cp, "count", in.complaints);
	pd_map_set_int(ctx->a, cp, "points", in.complaint_points);
	set_avg(ctx, cp, "average", x->complaint_avg_c, in.complaints);
	pd_map_set(ctx->a, m, "surveys", sv);
	pd_map_set(ctx->a, m, "complaint_closes", cp);
	pd_map_set_int(ctx->a, m, "readings", x->readings);
	set_avg(ctx, m, "index", x->index_c, x->readings);
	*out = m;
}

static bool overdue_now(const struct pd_value *s, int64_t now)
{
	return survey_overdue(rec_int(s, "due_at"), is_answered(s), now);
}

int survey_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	return record_mark_overdue(ctx, &SURVEY, id, overdue_now);
}
