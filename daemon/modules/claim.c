/* claim.c — CLAIM and RECOVERY commands: where the company's money goes out.
 *
 * A claim is filed against a waybill, collects its documents, is assessed
 * (the pure compensation engine in compensation.c computes what is owed,
 * line by line; every assessment is kept as a version), approved by someone
 * with the authority, paid once, and closed. Paying creates the recovery
 * items the engine names: the responsible depot reimburses the paying
 * depot, a depot recovers from its sub-carrier, the insurer pays back.
 *
 * As with complaints, handlers change a copy and claim_save() derives the
 * indexes, the deadline index, the timer and the timeline from the
 * difference (record.h); the statuses and their changes are
 * claim_rules.h's. Recovery items are recovery.c's. */
#include <stdio.h>
#include <string.h>

#include "timefmt.h"
#include "claim.h"
#include "claim_rules.h"
#include "calendar.h"
#include "care.h"
#include "complaint.h"
#include "compensation.h"
#include "customer.h"
#include "query.h"
#include "volume.h"
#include "record.h"
#include "recovery.h"
#include "waybill.h"
#include "waybill_rules.h"

/* The engine's config, built and checked once by claim_setup(). */
static struct comp_config comp_config;

int claim_setup(const struct config *cfg)
{
	comp_config_from_options(cfg, &comp_config);
	const char *bad;
	if (comp_config_validate(&comp_config, &bad) != 0) {
		fprintf(stderr, "parceldeskd: claim options: invalid %s\n", bad);
		return -1;
	}
	return 0;
}

/* ---- documents each claim type needs (protocol/PROTOCOL.md, Claims: claim form and
 * waybill for all; proof of value for loss and damage; photos and the
 * exception record for damage and mismatch; a repair quote or assessment
 * for partial damage; the claimant's ID) ---- */

static const char *const DOC_KINDS[] = {
	"claim_form", "waybill", "claimant_id", "proof_of_value", "photos",
	"exception_record", "repair_quote",
};
enum { DOC_BASE = 3 }; /* the first three are needed by every claim */

static bool doc_needed(enum comp_claim_type type, const char *kind)
{
	for (int i = 0; i < DOC_BASE; i++)
		if (!strcmp(kind, DOC_KINDS[i]))
			return true;
	bool goods = type != COMP_CLAIM_DELAY;
	bool damage_like = type == COMP_CLAIM_DAMAGE_TOTAL || type == COMP_CLAIM_DAMAGE_PARTIAL ||
			   type == COMP_CLAIM_MISMATCH_DIFFERENT_ITEM || type == COMP_CLAIM_MISMATCH_SHORT;
	bool partial = type == COMP_CLAIM_DAMAGE_PARTIAL || type == COMP_CLAIM_MISMATCH_SHORT;
	if (!strcmp(kind, "proof_of_value"))
		return goods;
	if (!strcmp(kind, "photos") || !strcmp(kind, "exception_record"))
		return damage_like;
	if (!strcmp(kind, "repair_quote"))
		return partial;
	return false;
}

static enum comp_claim_type type_of(const struct pd_value *c)
{
	enum comp_claim_type t = COMP_CLAIM_LOSS;
	comp_claim_type_parse(rec_str(c, "type"), &t);
	return t;
}

static bool has_doc(const struct pd_value *c, const char *kind)
{
	struct pd_value *docs = pd_map_get(c, "documents");
	if (docs && docs->type == PD_ARR)
		for (struct pd_entry *e = docs->u.c.head; e; e = e->next)
			if (!strcmp(rec_str(e->val, "kind"), kind))
				return true;
	return false;
}

/* The documents still missing, comma separated ("" when complete). */
static const char *missing_docs(struct cmd_ctx *ctx, const struct pd_value *c)
{
	struct pd_buf b;
	pd_buf_init(&b);
	pd_buf_add(&b, "", 0);
	for (size_t i = 0; i < sizeof(DOC_KINDS) / sizeof(DOC_KINDS[0]); i++)
		if (doc_needed(type_of(c), DOC_KINDS[i]) && !has_doc(c, DOC_KINDS[i])) {
			if (b.len)
				pd_buf_adds(&b, ", ");
			pd_buf_adds(&b, DOC_KINDS[i]);
		}
	const char *s = pd_strndup(ctx->a, b.data, b.len);
	pd_buf_free(&b);
	return s;
}

/* When the file became complete: for each kind the claim needs, the
 * earliest document of it received; the latest of those. 0 while a kind
 * is missing. */
static int64_t complete_time(const struct pd_value *c)
{
	struct pd_value *docs = pd_map_get(c, "documents");
	int64_t complete = 0;
	for (size_t i = 0; i < sizeof(DOC_KINDS) / sizeof(DOC_KINDS[0]); i++) {
		if (!doc_needed(type_of(c), DOC_KINDS[i]))
			continue;
		int64_t first = 0;
		bool found = false;
		if (docs && docs->type == PD_ARR)
			for (struct pd_entry *e = docs->u.c.head; e; e = e->next)
				if (!strcmp(rec_str(e->val, "kind"), DOC_KINDS[i]) &&
				    (!found || rec_int(e->val, "received_at") < first)) {
					first = rec_int(e->val, "received_at");
					found = true;
				}
		if (!found)
			return 0;
		if (first > complete)
			complete = first;
	}
	return complete;
}

/* ---- statuses, deadlines, levels ---- */

static enum claim_status status_of(const struct pd_value *c)
{
	enum claim_status s = CLAIM_FILED;
	claim_status_parse(rec_str(c, "status"), &s);
	return s;
}

static bool awaits_decision(const struct pd_value *c)
{
	return claim_awaits_decision(status_of(c));
}

static void set_status(struct cmd_ctx *ctx, struct pd_value *c, enum claim_status s)
{
	pd_map_set_str(ctx->a, c, "status", claim_status_name(s));
}

/* Waiting for the customer, a partner or documents pauses the update
 * clock (and, on a claim stored before decide_limit_by, the decide clock). */
static bool is_paused(const struct pd_value *c)
{
	return *rec_str(c, "waiting_for") != '\0';
}

/* The decide clock stops while waiting only on a claim whose file was
 * complete before the 30-day limit was kept (complete_at without
 * decide_limit_by, read as it was stored): otherwise the rule's days from
 * a complete file run through a wait. */
static bool decide_stopped(const struct pd_value *c)
{
	return is_paused(c) && rec_int(c, "complete_at") && !rec_int(c, "decide_limit_by");
}

static void consider(int64_t *due, int64_t t, int64_t past)
{
	if (t && (!*due || t + past < *due))
		*due = t + past;
}

/* The earliest deadline still to be met (0 = none): acknowledge, decide
 * (30 days from a complete file), pay (7 days from approval). A claim is
 * on time AT a deadline, as a complaint is: with for_timer, the first
 * second past each deadline not yet marked breached, the update clock's
 * included. */
static int64_t pending_deadline(const struct pd_value *c, bool for_timer)
{
	enum claim_status status = status_of(c);
	bool deciding = claim_awaits_decision(status);
	int64_t due = 0, past = for_timer ? 1 : 0;
	/* acknowledging matters until the claim is decided */
	if (!rec_int(c, "acknowledged_at") && deciding && !(for_timer && pd_map_bool(c, "acknowledge_breached")))
		consider(&due, rec_int(c, "acknowledge_by"), past);
	if (deciding && !decide_stopped(c) && !(for_timer && pd_map_bool(c, "decide_breached")))
		consider(&due, rec_int(c, "decide_by"), past);
	/* the update clock is shown and marked, never escalated: it is not an
	 * overdue deadline of the claim, so only the timer looks at it */
	if (for_timer && deciding && !is_paused(c) && !pd_map_bool(c, "update_breached"))
		consider(&due, rec_int(c, "update_by"), past);
	if (status == CLAIM_APPROVED && !(for_timer && pd_map_bool(c, "pay_breached")))
		consider(&due, rec_int(c, "pay_by"), past);
	return due;
}

static int64_t deadline_of(const struct pd_value *c)
{
	return pending_deadline(c, false);
}

static int64_t timer_of(const struct pd_value *c)
{
	return pending_deadline(c, true);
}

static bool claim_overdue(const struct pd_value *c, int64_t now)
{
	int64_t due = pending_deadline(c, false);
	return due && now > due;
}

static enum comp_authority user_authority(enum pd_role r)
{
	return (enum comp_authority)role_authority_tier(r);
}

static enum comp_authority level_of(const struct pd_value *c)
{
	enum comp_authority a = COMP_AUTHORITY_ADJUSTER;
	comp_authority_parse(rec_str(c, "level"), &a);
	return a;
}

/* ---- saving ---- */

/* The open claim of a waybill and type: one at a time. */
static const char *open_key(struct cmd_ctx *ctx, const struct pd_value *c)
{
	return claim_status_is_open(status_of(c))
		       ? pd_sprintf(ctx->a, "open=%s|%s", rec_str(c, "waybill"), rec_str(c, "type"))
		       : NULL;
}

/* An open claim under the level holding it: the metrics page counts them
 * by level from this entry alone. */
static const char *open_level_key(struct cmd_ctx *ctx, const struct pd_value *c)
{
	return claim_status_is_open(status_of(c)) ? record_key(ctx, "open_level", rec_str(c, "level"))
						  : NULL;
}

static struct pd_value *claim_summary(struct cmd_ctx *ctx, const struct pd_value *before,
				      const struct pd_value *after);

static const struct record_index CLAIM_INDEXES[] = {
	{ "phone", "claimant_phone", NULL },
	{ "open", NULL, open_key },
	{ "open_level", NULL, open_level_key },
	{ NULL, NULL, NULL },
};

static const struct record_kind CLAIM = {
	RECORD_KIND("claim", claims, claim_index),
	.fields = RECORD_FIELDS("depot", "type", "waybill", "status"),
	.indexes = CLAIM_INDEXES,
	.due_db = RECORD_DB(claim_due),
	.due = deadline_of,
	.timer = timer_of,
	.summary = claim_summary,
};

/* Ends a pause: the paused span (calendar time, as the decide clock counts)
 * is added up and, with move_due, moves decide-by — never past the 30-day
 * limit from the complete file (decide_limit_by), as complaints' resolve-by
 * stops at the law's 7 days; a claim stored without the limit moves as it
 * did. */
static int64_t end_pause(struct cmd_ctx *ctx, struct pd_value *c, bool move_due)
{
	int64_t span = ctx->now - rec_int(c, "paused_at");
	if (span < 0)
		span = 0;
	int64_t decide_by = rec_int(c, "decide_by"), limit = rec_int(c, "decide_limit_by");
	if (move_due && decide_by) {
		int64_t moved = decide_by + span;
		if (limit && moved > limit)
			moved = limit > decide_by ? limit : decide_by;
		pd_map_set_int(ctx->a, c, "decide_by", moved);
	}
	pd_map_set_str(ctx->a, c, "waiting_for", "");
	pd_map_set_int(ctx->a, c, "paused_at", 0);
	pd_map_set_int(ctx->a, c, "paused_secs", rec_int(c, "paused_secs") + span);
	return span;
}

static int claim_save(struct cmd_ctx *ctx, const struct pd_value *before, struct pd_value *after,
		      const char *action, const char *text)
{
	/* decided while waiting: the wait is over */
	if (is_paused(after) && !awaits_decision(after))
		end_pause(ctx, after, false);
	return record_save(ctx, &CLAIM, before, after, action, text);
}


static struct pd_value *claim_summary(struct cmd_ctx *ctx, const struct pd_value *before,
				      const struct pd_value *after)
{
	(void)before;
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_int(ctx->a, d, "id", rec_int(after, "id"));
	pd_map_set_str(ctx->a, d, "status", rec_str(after, "status"));
	pd_map_set_str(ctx->a, d, "level", rec_str(after, "level"));
	pd_map_set_str(ctx->a, d, "missing_documents", missing_docs(ctx, after));
	static const char *const times[] = { "acknowledge_by", "decide_by", "pay_by" };
	for (size_t i = 0; i < 3; i++)
		if (rec_int(after, times[i]))
			map_set_time(ctx, d, times[i], rec_int(after, times[i]));
	return d;
}

static int finish(struct cmd_ctx *ctx, const struct pd_value *before, struct pd_value *after,
		  const char *action, const char *text, int code, const char *msg)
{
	return record_reply(ctx, &CLAIM, claim_save(ctx, before, after, action, text), before, after, code, msg);
}

/* ---- the waybill facts a claim needs ---- */

/* Late against the promise in force (waybill_late()); a delivered parcel
 * is never completely delayed. */
static int waybill_is_late(struct cmd_ctx *ctx, const struct pd_value *wb, bool *late, bool *completely)
{
	struct waybill_lateness l;
	int rc = waybill_late(ctx, wb, &l);
	*late = l.late;
	*completely = l.completely_delayed && waybill_status_parse(rec_str(wb, "status")) != WAYBILL_DELIVERED;
	return rc;
}

static const char *type_refusal_reason(struct cmd_ctx *ctx, enum comp_claim_type type, const struct pd_value *wb,
				       bool late, bool completely)
{
	int status = waybill_status_parse(rec_str(wb, "status"));
	switch (type) {
	case COMP_CLAIM_DELAY: {
		if (late)
			return NULL;
		if (!rec_int(wb, "original_promised_at"))
			return "the parcel is not late against its promise";
		/* the sender's address change, or a delivery failed by the
		 * receiver's doing, is not our delay (a waybill whose promise
		 * moved before promise_moved_by was kept: an address change) */
		char now[PD_TIME_BUF], was[PD_TIME_BUF];
		pd_time_format(rec_int(wb, "promised_at"), now);
		pd_time_format(rec_int(wb, "original_promised_at"), was);
		if (strcmp(rec_str(wb, "promise_moved_by"), "failed_delivery") == 0)
			return pd_sprintf(ctx->a, "the parcel is not late against the promise in force (%s, set when a "
						  "delivery failed by the receiver's doing moved it from %s): that is not "
						  "our delay", now, was);
		return pd_sprintf(ctx->a, "the parcel is not late against the promise in force (%s, set when the "
					  "sender's address change moved it from %s): a change the sender asked for is "
					  "not our delay", now, was);
	}
	case COMP_CLAIM_LOSS:
		if (status == WAYBILL_LOST || completely)
			return NULL;
		/* signed for, but an investigation found it never reached the receiver */
		if (status == WAYBILL_DELIVERED)
			return query_found_not_received(ctx, rec_str(wb, "number")) ? NULL
				: "the parcel was signed for: a loss is claimed on it only after an investigation found it "
				  "lost or misdelivered (QUERY LOG not_received=yes)";
		return "the parcel is neither reported lost nor completely delayed";
	case COMP_CLAIM_DAMAGE_TOTAL:
	case COMP_CLAIM_DAMAGE_PARTIAL:
		return (pd_map_bool(wb, "damaged") || status == WAYBILL_DELIVERED) ? NULL
			: "the parcel is neither delivered nor recorded as damaged";
	default:
		return status == WAYBILL_DELIVERED ? NULL : "a content mismatch is claimed after delivery";
	}
}

/* Can this type of claim be filed on the waybill as it stands? *why is
 * NULL when it can; returns 0 or an LMDB code. */
static int type_refusal(struct cmd_ctx *ctx, enum comp_claim_type type, const struct pd_value *wb,
			const char **why)
{
	bool late, completely;
	int rc = waybill_is_late(ctx, wb, &late, &completely);
	*why = rc ? NULL : type_refusal_reason(ctx, type, wb, late, completely);
	return rc;
}

/* ---- commands ---- */

int cmd_claim_file(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *number = pd_arg_str(ctx->args, "waybill");
	const char *type_name = pd_arg_str(ctx->args, "type");
	enum comp_claim_type type;
	comp_claim_type_parse(type_name, &type);
	int64_t claimed = 0;
	pd_arg_int(ctx->args, "claimed_fen", &claimed);
	if (claimed <= 0)
		return reply_error(ctx, 400, "argument 'claimed_fen' must be above 0");
	struct pd_value *wb;
	if (waybill_load(ctx, number, &wb) || check_id_args(ctx) < 0)
		return PD_EREPLIED;
	/* the claimant is the sender or the receiver, identified as for an
	 * address change; anyone else brings the sender's written authorisation */
	const char *claimant = pd_arg_str(ctx->args, "claimant");
	const char *authorisation = pd_arg_str(ctx->args, "authorisation");
	const char *verified = "sender_authorisation";
	if (strcmp(claimant, "other") == 0) {
		if (!authorisation || !*authorisation)
			return reply_error(ctx, 422, "a claimant who is neither the sender nor the receiver needs the "
						     "sender's written authorisation: give authorisation=<its reference>");
	} else if (!(verified = waybill_identify(ctx, wb, claimant, pd_arg_str(ctx->args, "claimant_name"),
						 pd_arg_str(ctx->args, "claimant_phone")))) {
		return reply_error(ctx, 422, "the claimant must be the %s on the waybill: give claimant_phone matching "
					     "the %s's phone, or an ID check (id_type, id_last4) of the %s by name; "
					     "anyone else files as claimant=other with the sender's written authorisation",
				   claimant, claimant, claimant);
	}
	int64_t created = rec_int(wb, "created_at");
	if (ctx->now > created + ctx->cfg->claim_filing_days * 86400)
		return reply_error(ctx, 422, "past the filing deadline: a claim is filed within %lld days of sending",
				   (long long)ctx->cfg->claim_filing_days);
	const char *why;
	int rc = type_refusal(ctx, type, wb, &why);
	if (rc)
		return reply_store_error(ctx, rc);
	if (why)
		return reply_error(ctx, 422, "a %s claim cannot be filed: %s", type_name, why);
	const char *okey = pd_sprintf(a, "open=%s|%s", number, type_name);
	MDB_val k = { strlen(okey), (void *)okey }, v;
	rc = mdb_get(ctx->txn, record_db(ctx, CLAIM.index_db), &k, &v);
	if (rc == 0)
		return reply_error(ctx, 409, "waybill %s already has an open %s claim (%llu)", number, type_name,
				   (unsigned long long)be64_get(v.mv_data));
	if (rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	struct pd_value *c;
	if ((rc = record_new(ctx, &CLAIM, &c)))
		return reply_store_error(ctx, rc);
	set_status(ctx, c, CLAIM_FILED);
	pd_map_set_str(a, c, "level", "adjuster");
	pd_map_set_str(a, c, "waybill", number);
	pd_map_set_str(a, c, "type", type_name);
	pd_map_set_int(a, c, "claimed_fen", claimed);
	pd_map_set_str(a, c, "claimant", pd_arg_str(ctx->args, "claimant"));
	pd_map_set_str(a, c, "claimant_name", pd_arg_str(ctx->args, "claimant_name"));
	pd_map_set_str(a, c, "claimant_phone", pd_arg_str(ctx->args, "claimant_phone"));
	pd_map_set_str(a, c, "claimant_verified_by", verified);
	if (pd_arg_str(ctx->args, "id_type")) {
		pd_map_set_str(a, c, "claimant_id_type", pd_arg_str(ctx->args, "id_type"));
		pd_map_set_str(a, c, "claimant_id_last4", pd_arg_str(ctx->args, "id_last4"));
	}
	if (pd_arg_str(ctx->args, "text"))
		pd_map_set_str(a, c, "text", pd_arg_str(ctx->args, "text"));
	/* the depot that accepted the parcel settles with the customer */
	pd_map_set_str(a, c, "depot", rec_str(wb, "origin_depot"));
	if (*rec_str(wb, "customer"))
		pd_map_set_str(a, c, "customer", rec_str(wb, "customer"));
	pd_map_set_str(a, c, "filed_by", ctx->sess->user);
	pd_map_set_int(a, c, "filed_at", ctx->now);
	/* acknowledging counts business minutes on the depot's calendar */
	struct sla_calendar cc;
	if ((rc = sla_calendar_start(ctx, rec_str(wb, "origin_depot"), c, &cc)))
		return reply_store_error(ctx, rc);
	pd_map_set_int(a, c, "acknowledge_by",
		       sla_add(&cc, ctx->now, ctx->cfg->claim_ack_business_minutes, ctx->cfg->claim_acknowledge_secs));
	struct pd_value *docs = pd_arr(a);
	if (strcmp(claimant, "other") == 0) {
		struct pd_value *doc = pd_map(a);
		pd_map_set_str(a, doc, "kind", "sender_authorisation");
		pd_map_set_str(a, doc, "ref", authorisation);
		pd_map_set_int(a, doc, "received_at", ctx->now);
		pd_map_set_str(a, doc, "received_by", ctx->sess->user);
		pd_map_set_bool(a, doc, "needed", true);
		pd_arr_push(a, docs, doc);
	}
	pd_map_set(a, c, "documents", docs);
	pd_map_set(a, c, "complaints", pd_arr(a));
	pd_map_set_int(a, c, "assessment_count", 0);
	if ((rc = volume_count(ctx, wb, rec_str(wb, "origin_depot"), "claims", 1)))
		return reply_store_error(ctx, rc);
	return finish(ctx, NULL, c, "file", NULL, 201, pd_sprintf(a, "claim %lld filed", (long long)rec_int(c, "id")));
}

/* The claimant heard from us: the update clock starts again, in business
 * time on the claim's calendar when it has one. */
static int claimant_contacted(struct cmd_ctx *ctx, struct pd_value *c)
{
	struct sla_calendar cc;
	int rc = sla_calendar_load(ctx, c, &cc);
	if (rc)
		return rc;
	pd_map_set_int(ctx->a, c, "last_contact_at", ctx->now);
	pd_map_set_int(ctx->a, c, "update_by",
		       sla_add(&cc, ctx->now, ctx->cfg->claim_update_business_minutes, ctx->cfg->claim_update_secs));
	pd_map_set_bool(ctx->a, c, "update_breached", false);
	return 0;
}

int cmd_claim_ack(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	if (rec_int(before, "acknowledged_at"))
		return reply_error(ctx, 409, "claim %lld is already acknowledged", (long long)rec_int(before, "id"));
	pd_map_set_int(ctx->a, after, "acknowledged_at", ctx->now);
	int rc = claimant_contacted(ctx, after);
	if (rc)
		return reply_store_error(ctx, rc);
	return finish(ctx, before, after, "acknowledge", pd_arg_str(ctx->args, "text"), 200, "acknowledged");
}

int cmd_claim_note(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	bool contacted = pd_arg_bool(ctx->args, "contacted", 0);
	pd_map_set_int(ctx->a, after, "notes", rec_int(after, "notes") + 1);
	if (contacted && awaits_decision(after)) {
		int rc = claimant_contacted(ctx, after);
		if (rc)
			return reply_store_error(ctx, rc);
	}
	return finish(ctx, before, after, contacted ? "claimant_update" : "note", pd_arg_str(ctx->args, "text"), 200,
	       contacted ? "update to the claimant recorded" : "note added");
}

int cmd_claim_wait(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	if (!awaits_decision(before))
		return reply_error(ctx, 409, "claim %lld is %s: nothing waits for a decision",
				   (long long)rec_int(before, "id"), rec_str(before, "status"));
	if (is_paused(before))
		return reply_error(ctx, 409, "claim %lld already waits for the %s", (long long)rec_int(before, "id"),
				   rec_str(before, "waiting_for"));
	pd_map_set_str(ctx->a, after, "waiting_for", pd_arg_str(ctx->args, "for"));
	pd_map_set_int(ctx->a, after, "paused_at", ctx->now);
	const char *what = pd_arg_str(ctx->args, "for");
	const char *msg = decide_stopped(after)
		? pd_sprintf(ctx->a, "waiting for the %s: the decide clock is paused", what)
		: pd_sprintf(ctx->a, "waiting for the %s: the update clock is paused; the decision is still due "
				     "within %lld days of the complete file", what,
			     (long long)ctx->cfg->claim_decide_days);
	return finish(ctx, before, after, "pause", pd_arg_str(ctx->args, "reason"), 200, msg);
}

int cmd_claim_resume(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	if (!is_paused(before))
		return reply_error(ctx, 409, "claim %lld is not waiting", (long long)rec_int(before, "id"));
	int64_t span = end_pause(ctx, after, true);
	if (rec_int(after, "update_by")) {
		/* the update clock starts again from the resume */
		struct sla_calendar cc;
		int rc = sla_calendar_load(ctx, after, &cc);
		if (rc)
			return reply_store_error(ctx, rc);
		pd_map_set_int(ctx->a, after, "update_by",
			       sla_add(&cc, ctx->now, ctx->cfg->claim_update_business_minutes,
					 ctx->cfg->claim_update_secs));
		pd_map_set_bool(ctx->a, after, "update_breached", false);
	}
	return finish(ctx, before, after, "resume", pd_arg_str(ctx->args, "text"), 200,
	       pd_sprintf(ctx->a, "resumed after %lld second(s) paused", (long long)span));
}

int cmd_claim_doc(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	if (!awaits_decision(before))
		return reply_error(ctx, 409, "claim %lld is %s: its file is settled", (long long)rec_int(before, "id"),
				   rec_str(before, "status"));
	const char *kind = pd_arg_str(ctx->args, "kind");
	int64_t received = ctx->now;
	pd_arg_int(ctx->args, "received_at", &received);
	if (received > ctx->now + 300)
		return reply_error(ctx, 422, "received_at is in the future");
	struct pd_value *doc = pd_map(ctx->a);
	pd_map_set_str(ctx->a, doc, "kind", kind);
	pd_map_set_str(ctx->a, doc, "ref", pd_arg_str(ctx->args, "ref"));
	pd_map_set_int(ctx->a, doc, "received_at", received);
	pd_map_set_str(ctx->a, doc, "received_by", ctx->sess->user);
	pd_map_set_bool(ctx->a, doc, "needed", doc_needed(type_of(before), kind));
	pd_arr_push(ctx->a, pd_map_get(after, "documents"), doc);
	bool complete = !*missing_docs(ctx, after);
	if (complete && !rec_int(after, "complete_at")) {
		/* the decision clock starts with a complete file: when the last
		 * document needed was received, not when it was recorded; no
		 * wait moves decide-by past that limit */
		int64_t at = complete_time(after);
		int64_t limit = at + ctx->cfg->claim_decide_days * 86400;
		pd_map_set_int(ctx->a, after, "complete_at", at);
		pd_map_set_int(ctx->a, after, "decide_by", limit);
		pd_map_set_int(ctx->a, after, "decide_limit_by", limit);
	}
	return finish(ctx, before, after, "document", pd_sprintf(ctx->a, "%s %s", kind, pd_arg_str(ctx->args, "ref")), 200,
	       complete ? "document recorded; the file is complete" : "document recorded");
}

/* The engine's answer as a record a supervisor reads line by line. */
static struct pd_value *steps_record(struct cmd_ctx *ctx, const struct comp_steps *steps)
{
	struct pd_value *list = pd_arr(ctx->a);
	for (size_t i = 0; i < steps->count; i++) {
		const struct comp_step *s = &steps->items[i];
		struct pd_value *r = pd_map(ctx->a);
		pd_map_set_str(ctx->a, r, "kind", comp_step_kind_name(s->kind));
		pd_map_set_str(ctx->a, r, "label", s->label);
		if (s->kind == COMP_STEP_AMOUNT)
			pd_map_set_int(ctx->a, r, "amount_fen", s->amount_fen);
		if (s->kind == COMP_STEP_RATIO) {
			pd_map_set_int(ctx->a, r, "numerator", s->numerator);
			pd_map_set_int(ctx->a, r, "denominator", s->denominator);
		}
		pd_map_set_str(ctx->a, r, "note", s->note);
		pd_arr_push(ctx->a, list, r);
	}
	return list;
}

static struct pd_value *reasons_record(struct cmd_ctx *ctx, const struct comp_reasons *reasons)
{
	struct pd_value *list = pd_arr(ctx->a);
	for (size_t i = 0; i < reasons->count; i++) {
		struct pd_value *r = pd_map(ctx->a);
		pd_map_set_str(ctx->a, r, "code", comp_reason_name(reasons->items[i]));
		pd_map_set_str(ctx->a, r, "text", comp_reason_text(reasons->items[i]));
		pd_arr_push(ctx->a, list, r);
	}
	return list;
}

static struct pd_value *result_record(struct cmd_ctx *ctx, const struct comp_result *res)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *r = pd_map(a);
	pd_map_set_str(a, r, "decision", comp_decision_name(res->decision));
	pd_map_set_int(a, r, "owed_fen", res->owed_fen);
	pd_map_set_int(a, r, "ex_gratia_fen", res->ex_gratia_fen);
	pd_map_set_int(a, r, "payable_fen", res->payable_fen);
	pd_map_set_str(a, r, "authority", comp_authority_name(res->authority));
	pd_map_set(a, r, "reasons", reasons_record(ctx, &res->reasons));
	pd_map_set(a, r, "steps", steps_record(ctx, &res->steps));
	struct pd_value *ins = pd_map(a);
	pd_map_set_str(a, ins, "clause", comp_clause_name(res->insurer.clause));
	pd_map_set_str(a, ins, "clause_note", res->insurer.clause_note ? res->insurer.clause_note : "");
	pd_map_set_bool(a, ins, "covered", res->insurer.covered);
	pd_map_set_int(a, ins, "pays_fen", res->insurer.pays_fen);
	pd_map_set_bool(a, ins, "subrogation", res->insurer.subrogation);
	pd_map_set(a, ins, "reasons", reasons_record(ctx, &res->insurer.reasons));
	pd_map_set(a, ins, "steps", steps_record(ctx, &res->insurer.steps));
	pd_map_set(a, r, "insurer", ins);
	const struct comp_network *n = &res->network;
	struct pd_value *net = pd_map(a);
	pd_map_set_str(a, net, "paying_depot", n->paying_depot);
	pd_map_set_int(a, net, "paid_to_customer_fen", n->paid_to_customer_fen);
	pd_map_set_str(a, net, "reimbursing_depot", n->reimbursing_depot);
	pd_map_set_int(a, net, "reimbursement_fen", n->reimbursement_fen);
	pd_map_set_str(a, net, "bearing_depot", n->bearing_depot);
	pd_map_set_str(a, net, "sub_carrier", n->sub_carrier);
	pd_map_set_bool(a, net, "sub_carrier_recovery_expected", n->sub_carrier_recovery_expected);
	pd_map_set_int(a, net, "sub_carrier_recovery_fen", n->sub_carrier_recovery_fen);
	pd_map_set_int(a, net, "bearing_depot_net_fen", n->bearing_depot_net_fen);
	pd_map_set(a, r, "network", net);
	return r;
}

static bool arg_bool_or(struct cmd_ctx *ctx, const char *name, bool dflt)
{
	return pd_arg_bool(ctx->args, name, dflt);
}

/* The customer's contract terms an assessment uses: the uninsured cap
 * (its own multiple, otherwise our carriage terms) and the lateness
 * discount (0 or none: the whole fee is waived). A sender without an
 * account record is on our carriage terms. */
static int contract_terms(struct cmd_ctx *ctx, const struct pd_value *claim, struct comp_waybill *w)
{
	const char *account = rec_str(claim, "customer");
	struct pd_value *customer;
	if (!*account)
		return 0;
	int rc = customer_find(ctx, account, &customer, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	w->contract_fee_multiple_set = pd_map_int(customer, "uninsured_fee_multiple", &w->contract_fee_multiple);
	int64_t bp = rec_int(customer, "lateness_discount_bp");
	w->lateness_discount_bp = bp > 0 && bp <= COMP_BASIS_POINTS_WHOLE ? (int32_t)bp : 0;
	return 0;
}

/* lateness_discount_bp= of an assessment overrides the contract's for this
 * claim (a contract amendment not yet entered, a disputed term): the
 * discount is a contract term a supervisor records (CUSTOMER ADD/EDIT), so
 * departing from it is a supervisor's decision too, with the reason on
 * record. The contract's own figure given again is no override. Returns 1
 * when overridden, 0 when not, -1 with the reply set. */
static int lateness_override(struct cmd_ctx *ctx, struct comp_waybill *w)
{
	int64_t bp;
	if (!pd_arg_int(ctx->args, "lateness_discount_bp", &bp))
		return 0;
	if (bp < 0 || bp > COMP_BASIS_POINTS_WHOLE)
		return reply_error(ctx, 400, "argument 'lateness_discount_bp' must be from 0 to 10000");
	if (bp == w->lateness_discount_bp)
		return 0;
	if (user_authority(ctx->sess->role) < COMP_AUTHORITY_SUPERVISOR)
		return reply_error(ctx, 403, "a lateness discount other than the contract's (%d bp) is a supervisor's "
					     "decision", (int)w->lateness_discount_bp);
	const char *why = pd_arg_str(ctx->args, "lateness_discount_reason");
	if (!why || !*why)
		return reply_error(ctx, 400, "a lateness discount other than the contract's needs "
					     "lateness_discount_reason");
	w->lateness_discount_bp = (int32_t)bp;
	w->lateness_discount_for_claim = true;
	return 1;
}

/* Setting the contract cap aside is a supervisor's decision, with the
 * reason (the higher loss the customer proved) on record. */
static int check_cap_set_aside(struct cmd_ctx *ctx)
{
	if (!arg_bool_or(ctx, "cap_set_aside", false))
		return 0;
	if (user_authority(ctx->sess->role) < COMP_AUTHORITY_SUPERVISOR)
		return reply_error(ctx, 403, "setting the contract cap aside is a supervisor's decision");
	const char *why = pd_arg_str(ctx->args, "cap_set_aside_reason");
	if (!why || !*why)
		return reply_error(ctx, 400, "setting the contract cap aside needs cap_set_aside_reason: "
					     "the higher loss the customer proved");
	return 0;
}

/* A claim assessed at or above the major-incident threshold is a major
 * incident: counted in the month's report and, for an account customer,
 * a warning at once ("speed first"), not when it is approved. Once per
 * claim, however often it is re-assessed. */
static int record_major_incident(struct cmd_ctx *ctx, struct pd_value *c)
{
	int64_t fen = rec_int(c, "payable_fen");
	if (fen < ctx->cfg->report_major_claim_fen || rec_int(c, "major_at"))
		return 0;
	pd_map_set_int(ctx->a, c, "major_at", ctx->now);
	const char *source = pd_sprintf(ctx->a, "claim:%lld", (long long)rec_int(c, "id"));
	int rc = volume_incident(ctx, volume_month(ctx->now), source);
	if (rc)
		return rc;
	return warning_raise(ctx, rec_str(c, "customer"), "service_incident", "ordinary", source,
			     pd_sprintf(ctx->a, "claim assessed at %lld fen, a major incident", (long long)fen));
}

int cmd_claim_assess(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *before, *after, *wb;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	const char *status = rec_str(before, "status");
	if (!claim_transition_allowed(status_of(before), CLAIM_ASSESSED))
		return reply_error(ctx, 409, "claim %lld is %s: it cannot be assessed", (long long)rec_int(before, "id"), status);
	const char *missing = missing_docs(ctx, before);
	if (*missing)
		return reply_error(ctx, 422, "cannot assess: documents missing: %s", missing);
	if (check_cap_set_aside(ctx) || waybill_load(ctx, rec_str(before, "waybill"), &wb))
		return PD_EREPLIED;

	struct comp_waybill w = {
		.fee_fen = rec_int(wb, "fee_fen"),
		.declared_value_fen = rec_int(wb, "declared_value_fen"),
		.insured = pd_map_bool(wb, "insured"),
		.pieces = (int32_t)rec_int(wb, "pieces"),
		.max_piece_value_fen = rec_int(wb, "max_piece_value_fen"),
		.used_goods = pd_map_bool(wb, "used_goods"),
		.over_limit = pd_map_bool(wb, "over_limit"),
		.over_limit_declared = pd_map_bool(wb, "over_limit_declared"),
		.goods_described_falsely = arg_bool_or(ctx, "goods_described_falsely", false),
		.prohibited_goods = arg_bool_or(ctx, "prohibited_goods", false),
		.delivered = waybill_status_parse(rec_str(wb, "status")) == WAYBILL_DELIVERED,
		.signer_is_consignee = pd_map_bool(wb, "signer_is_consignee"),
		.signed_with_remarks = pd_map_bool(wb, "signed_with_remarks"),
	};
	w.proof_of_delivery_available = arg_bool_or(ctx, "proof_of_delivery_available", w.delivered);
	comp_packaging_parse(rec_str(wb, "packaging"), &w.packaging);
	int rc = contract_terms(ctx, before, &w);
	if (rc)
		return reply_store_error(ctx, rc);
	int32_t contract_bp = w.lateness_discount_bp;
	int overridden = lateness_override(ctx, &w);
	if (overridden < 0)
		return PD_EREPLIED;

	struct comp_claim cl = { .type = type_of(before), .claimed_fen = rec_int(before, "claimed_fen") };
	pd_arg_int(ctx->args, "ex_gratia_fen", &cl.ex_gratia_fen);

	const char *accepting = rec_str(wb, "origin_depot");
	const char *responsible = pd_arg_str(ctx->args, "responsible_depot");
	const char *sub_carrier = pd_arg_str(ctx->args, "sub_carrier");
	struct comp_assessment as = {
		.accepting_depot = accepting,
		.responsible_depot = responsible ? responsible : accepting,
		.staff_advised_packaging = arg_bool_or(ctx, "staff_advised_packaging", false),
		.intentional_act = arg_bool_or(ctx, "intentional_act", false),
		.third_party_liable = arg_bool_or(ctx, "third_party_liable", false),
		.sub_carrier_at_fault = sub_carrier != NULL,
		.sub_carrier = sub_carrier ? sub_carrier : "",
		.sub_carrier_has_contract = arg_bool_or(ctx, "sub_carrier_has_contract", false),
		.cap_set_aside = arg_bool_or(ctx, "cap_set_aside", false),
	};
	pd_arg_int(ctx->args, "actual_loss_fen", &as.actual_loss_fen);
	pd_arg_int(ctx->args, "real_value_fen", &as.real_value_fen);
	pd_arg_int(ctx->args, "indirect_loss_fen", &as.indirect_loss_fen);
	comp_cause_parse(pd_arg_str(ctx->args, "cause"), &as.cause);
	comp_fault_parse(pd_arg_str(ctx->args, "fault"), &as.fault);

	struct comp_result res;
	if (comp_assess(&comp_config, &w, &cl, &as, &res) != 0) {
		if (res.invalid_field && !strcmp(res.invalid_field, "assessment.cap_set_aside"))
			return reply_error(ctx, 422, "only an uninsured goods claim has a contract cap to set aside");
		return reply_error(ctx, 422, "the assessment does not hold together: %s",
				   res.invalid_field ? res.invalid_field : "invalid input");
	}

	/* every assessment is kept: a re-assessment is a new version */
	int64_t version = rec_int(before, "assessment_count") + 1;
	struct pd_value *entry = pd_map(a);
	pd_map_set_int(a, entry, "version", version);
	pd_map_set_int(a, entry, "assessed_at", ctx->now);
	pd_map_set_str(a, entry, "assessed_by", ctx->sess->user);
	/* the inputs are the assessment's facts, not the request's plumbing */
	struct pd_value *inputs = pd_map(a);
	for (struct pd_entry *e = ctx->args->u.c.head; e; e = e->next)
		if (strcmp(e->key, "id") != 0 && strcmp(e->key, "req") != 0)
			pd_map_append(a, inputs, e->key, e->key_len, pd_value_copy(a, e->val));
	pd_map_set(a, entry, "inputs", inputs);
	if (as.cap_set_aside) {
		struct pd_value *aside = pd_map(a);
		pd_map_set_str(a, aside, "by", ctx->sess->user);
		pd_map_set_str(a, aside, "reason", pd_arg_str(ctx->args, "cap_set_aside_reason"));
		pd_map_set(a, entry, "cap_set_aside", aside);
	}
	if (overridden) {
		struct pd_value *o = pd_map(a);
		pd_map_set_str(a, o, "by", ctx->sess->user);
		pd_map_set_str(a, o, "reason", pd_arg_str(ctx->args, "lateness_discount_reason"));
		pd_map_set_int(a, o, "contract_bp", contract_bp);
		pd_map_set_int(a, o, "bp", w.lateness_discount_bp);
		pd_map_set(a, entry, "lateness_discount_override", o);
	}
	pd_map_set(a, entry, "result", result_record(ctx, &res));
	struct pd_value *versions = pd_map_get(after, "assessments");
	if (!versions || versions->type != PD_ARR) {
		versions = pd_arr(a);
		pd_map_set(a, after, "assessments", versions);
	}
	pd_arr_push(a, versions, entry);
	pd_map_set_int(a, after, "assessment_count", version);
	set_status(ctx, after, CLAIM_ASSESSED);
	pd_map_set_str(a, after, "decision", comp_decision_name(res.decision));
	pd_map_set_int(a, after, "payable_fen", res.payable_fen);
	/* the engine names the authority the amount needs; a claim a deadline
	 * already escalated stays at least where it is */
	enum comp_authority level = res.authority > level_of(before) ? res.authority : level_of(before);
	pd_map_set_str(a, after, "level", comp_authority_name(level));
	pd_map_set_str(a, after, "cause", pd_arg_str(ctx->args, "cause"));
	if ((rc = record_major_incident(ctx, after)))
		return reply_store_error(ctx, rc);
	ctx->rep->data = present(ctx, entry);
	return finish(ctx, before, after, "assess", pd_arg_str(ctx->args, "text"), 200,
	       pd_sprintf(a, "assessment %lld: %s, payable %lld fen, approval by %s", (long long)version,
			  comp_decision_name(res.decision), (long long)res.payable_fen,
			  comp_authority_name(res.authority)));
}

/* The latest assessment's result (NULL before any). */
static struct pd_value *current_result(const struct pd_value *c)
{
	struct pd_value *versions = pd_map_get(c, "assessments");
	if (!versions || versions->type != PD_ARR || !versions->u.c.tail)
		return NULL;
	return pd_map_get(versions->u.c.tail->val, "result");
}

int cmd_claim_approve(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	const char *status = rec_str(before, "status");
	bool was_escalated = status_of(before) == CLAIM_ESCALATED;
	if (!claim_transition_allowed(status_of(before), CLAIM_APPROVED))
		return reply_error(ctx, 409, "claim %lld is %s: only an assessed claim is approved",
				   (long long)rec_int(before, "id"), status);
	int64_t payable = rec_int(before, "payable_fen");
	if (payable <= 0)
		return reply_error(ctx, 409, "claim %lld has nothing payable (%s): refuse it with its reasons",
				   (long long)rec_int(before, "id"), rec_str(before, "decision"));
	enum comp_authority needed = level_of(before);
	enum comp_authority mine = user_authority(ctx->sess->role);
	if (mine < needed) {
		/* refused to this user, and the claim goes up: both are kept */
		bool first_time = !was_escalated;
		set_status(ctx, after, CLAIM_ESCALATED);
		pd_map_set_int(ctx->a, after, "escalations", rec_int(after, "escalations") + (first_time ? 1 : 0));
		int rc = claim_save(ctx, before, after, "approval_above_authority",
				    pd_sprintf(ctx->a, "%s (%s) may not approve %lld fen", ctx->sess->user,
					       comp_authority_name(mine), (long long)payable));
		if (rc)
			return reply_store_error(ctx, rc);
		ctx->fx.keep_writes = true;
		return reply_error(ctx, 403, "approving %lld fen needs a %s: claim %lld escalated", (long long)payable,
				   comp_authority_name(needed), (long long)rec_int(before, "id"));
	}
	set_status(ctx, after, CLAIM_APPROVED);
	pd_map_set_int(ctx->a, after, "approved_fen", payable);
	pd_map_set_int(ctx->a, after, "approved_at", ctx->now);
	pd_map_set_str(ctx->a, after, "approved_by", ctx->sess->user);
	pd_map_set_int(ctx->a, after, "pay_by", ctx->now + ctx->cfg->claim_pay_days * 86400);
	return finish(ctx, before, after, "approve", pd_arg_str(ctx->args, "text"), 200,
	       pd_sprintf(ctx->a, "approved: %lld fen", (long long)payable));
}

int cmd_claim_refuse(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	if (!awaits_decision(before))
		return reply_error(ctx, 409, "claim %lld is %s: it cannot be refused now",
				   (long long)rec_int(before, "id"), rec_str(before, "status"));
	/* refusing a payment takes the authority that covers it; refusing what
	 * the rules say we owe is never an adjuster's decision alone */
	int64_t payable = rec_int(before, "payable_fen");
	struct pd_value *res = current_result(before);
	bool owed = res && rec_int(res, "owed_fen") > 0;
	enum comp_authority needed = payable > 0 ? level_of(before) : COMP_AUTHORITY_ADJUSTER;
	if (owed && needed < COMP_AUTHORITY_SUPERVISOR)
		needed = COMP_AUTHORITY_SUPERVISOR;
	if (user_authority(ctx->sess->role) < needed)
		return reply_error(ctx, 403, "refusing a claim assessed at %lld fen needs a %s%s", (long long)payable,
				   comp_authority_name(needed),
				   owed ? ": the rules find it payable, and refusing what we owe is never an "
					  "adjuster's decision alone" : "");
	set_status(ctx, after, CLAIM_REFUSED);
	pd_map_set_str(ctx->a, after, "refusal_reason", pd_arg_str(ctx->args, "reason"));
	pd_map_set_int(ctx->a, after, "refused_at", ctx->now);
	pd_map_set_str(ctx->a, after, "refused_by", ctx->sess->user);
	return finish(ctx, before, after, "refuse", pd_arg_str(ctx->args, "reason"), 200, "refused");
}

static int month_key(struct cmd_ctx *ctx, char *buf, size_t cap)
{
	int day = pd_local_day(ctx->now);
	return snprintf(buf, cap, "%06d", day / 100);
}

static int add_total(struct cmd_ctx *ctx, const char *month, const char *dim, const char *value, int64_t fen)
{
	char key[160];
	snprintf(key, sizeof(key), "%s|%s|%s", month, dim, *value ? value : "-");
	return store_counter_add(ctx->txn, ctx->st->claim_totals, key, fen);
}

int cmd_claim_pay(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	const char *status = rec_str(before, "status");
	if (rec_int(before, "paid_at"))
		return reply_error(ctx, 409, "claim %lld is already paid", (long long)rec_int(before, "id"));
	if (!claim_transition_allowed(status_of(before), CLAIM_PAID))
		return reply_error(ctx, 409, "claim %lld is %s: only an approved claim is paid",
				   (long long)rec_int(before, "id"), status);
	int64_t amount = 0;
	pd_arg_int(ctx->args, "amount_fen", &amount);
	if (amount != rec_int(before, "approved_fen"))
		return reply_error(ctx, 422, "amount_fen %lld differs from the approved %lld fen", (long long)amount,
				   (long long)rec_int(before, "approved_fen"));
	set_status(ctx, after, CLAIM_PAID);
	pd_map_set_int(a, after, "paid_fen", amount);
	pd_map_set_str(a, after, "pay_method", pd_arg_str(ctx->args, "method"));
	pd_map_set_str(a, after, "pay_reference", pd_arg_str(ctx->args, "reference"));
	pd_map_set_int(a, after, "paid_at", ctx->now);
	pd_map_set_str(a, after, "paid_by", ctx->sess->user);

	struct pd_value *res = current_result(before);
	struct pd_value *net = res ? pd_map_get(res, "network") : NULL;
	struct pd_value *ins = res ? pd_map_get(res, "insurer") : NULL;
	struct pd_value *ids = pd_arr(a);
	int rc = 0;
	if (net) {
		const char *paying = rec_str(net, "paying_depot");
		if ((rc = recovery_create(ctx, before, "depot_reimbursement", rec_str(net, "reimbursing_depot"), paying,
					  rec_int(net, "reimbursement_fen"), ids)))
			return reply_store_error(ctx, rc);
		if (pd_map_bool(net, "sub_carrier_recovery_expected") &&
		    (rc = recovery_create(ctx, before, "sub_carrier", rec_str(net, "sub_carrier"),
					  rec_str(net, "bearing_depot"), rec_int(net, "sub_carrier_recovery_fen"), ids)))
			return reply_store_error(ctx, rc);
		/* the insurer pays back the depot that finally bears the loss */
		if (ins && (rc = recovery_create(ctx, before, "insurer", "insurer", rec_str(net, "bearing_depot"),
						  rec_int(ins, "pays_fen"), ids)))
			return reply_store_error(ctx, rc);
	}
	pd_map_set(a, after, "recovery_items", ids);
	char month[16];
	month_key(ctx, month, sizeof(month));
	if ((rc = add_total(ctx, month, "all", "all", amount)) ||
	    (rc = add_total(ctx, month, "type", rec_str(before, "type"), amount)) ||
	    (rc = add_total(ctx, month, "depot", rec_str(before, "depot"), amount)) ||
	    (rc = add_total(ctx, month, "cause", rec_str(before, "cause"), amount)) ||
	    (rc = add_total(ctx, month, "count", "all", 1)))
		return reply_store_error(ctx, rc);
	/* the waybill's month counts the money; a claim assessed before major
	 * incidents were counted at assessment is counted now */
	struct pd_value *wb;
	if ((rc = waybill_get(ctx, rec_str(before, "waybill"), &wb)) ||
	    (rc = volume_count(ctx, wb, rec_str(wb, "origin_depot"), "claims_paid_fen", amount)) ||
	    (rc = record_major_incident(ctx, after)) ||
	    (rc = survey_after_incident_of(ctx, rec_str(before, "customer"), "claim", rec_int(before, "id"))))
		return reply_store_error(ctx, rc);
	return finish(ctx, before, after, "pay",
	       pd_sprintf(a, "%lld fen by %s, ref %s", (long long)amount, pd_arg_str(ctx->args, "method"),
			  pd_arg_str(ctx->args, "reference")),
	       200, pd_sprintf(a, "paid %lld fen; %zu recovery item(s)", (long long)amount, ids->u.c.count));
}

int cmd_claim_close(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	const char *status = rec_str(before, "status");
	if (!claim_transition_allowed(status_of(before), CLAIM_CLOSED))
		return reply_error(ctx, 409, "claim %lld is %s: only a paid or refused claim is closed",
				   (long long)rec_int(before, "id"), status);
	set_status(ctx, after, CLAIM_CLOSED);
	pd_map_set_int(ctx->a, after, "closed_at", ctx->now);
	return finish(ctx, before, after, "close", pd_arg_str(ctx->args, "text"), 200,
	       "closed; open recovery items stay open until settled");
}

int cmd_claim_link(struct cmd_ctx *ctx)
{
	struct pd_value *before, *after;
	if (record_load_arg(ctx, &CLAIM, &before, &after))
		return PD_EREPLIED;
	int64_t cid;
	pd_arg_int(ctx->args, "complaint", &cid);
	struct pd_value *links = pd_map_get(after, "complaints");
	for (struct pd_entry *e = links->u.c.head; e; e = e->next)
		if (e->val->type == PD_INT && e->val->u.i == cid)
			return reply_error(ctx, 409, "claim %lld is already linked to complaint %lld",
					   (long long)rec_int(before, "id"), (long long)cid);
	/* the complaint shows the claim too, in its own timeline */
	int rc = complaint_link_claim(ctx, cid, rec_str(before, "waybill"), rec_int(before, "id"));
	if (rc)
		return rc;
	pd_arr_push(ctx->a, links, pd_int(ctx->a, cid));
	return finish(ctx, before, after, "link_complaint", NULL, 200,
		      pd_sprintf(ctx->a, "linked to complaint %lld", (long long)cid));
}

static struct pd_value *clock_state(struct cmd_ctx *ctx, const char *basis, int64_t due, int64_t met_at,
				    bool running, bool paused)
{
	struct pd_value *r = pd_map(ctx->a);
	pd_map_set_str(ctx->a, r, "basis", basis);
	map_set_time(ctx, r, "due_at", due);
	const char *state = met_at ? (met_at <= due ? "met" : "met_late")
			  : !running ? "stopped" : paused ? "paused" : ctx->now > due ? "breached" : "running";
	pd_map_set_str(ctx->a, r, "state", state);
	return r;
}

/* The claim's clocks: acknowledge (business time on the depot's calendar
 * when it has one), decide and pay (calendar days, as the rules set them). */
static struct pd_value *claim_clocks(struct cmd_ctx *ctx, const struct pd_value *c)
{
	bool deciding = awaits_decision(c);
	struct pd_value *clocks = pd_map(ctx->a);
	const char *basis = *rec_str(c, "clock_basis") ? rec_str(c, "clock_basis") : "calendar";
	pd_map_set(ctx->a, clocks, "acknowledge",
		   clock_state(ctx, basis, rec_int(c, "acknowledge_by"), rec_int(c, "acknowledged_at"),
			       deciding, false));
	if (rec_int(c, "decide_by")) {
		int64_t decided = rec_int(c, "approved_at") ? rec_int(c, "approved_at") : rec_int(c, "refused_at");
		struct pd_value *d = clock_state(ctx, "calendar", rec_int(c, "decide_by"), decided,
						 deciding || decided, decide_stopped(c));
		pd_map_set_int(ctx->a, d, "paused_secs", rec_int(c, "paused_secs"));
		if (rec_int(c, "decide_limit_by"))
			map_set_time(ctx, d, "limit_by", rec_int(c, "decide_limit_by"));
		pd_map_set(ctx->a, clocks, "decide", d);
	}
	if (rec_int(c, "update_by"))
		pd_map_set(ctx->a, clocks, "update",
			   clock_state(ctx, basis, rec_int(c, "update_by"), 0, deciding, is_paused(c)));
	if (rec_int(c, "pay_by"))
		pd_map_set(ctx->a, clocks, "pay",
			   clock_state(ctx, "calendar", rec_int(c, "pay_by"), rec_int(c, "paid_at"), true, false));
	return clocks;
}

/* What GET shows before the timeline: the documents missing, the clocks,
 * the assessment in force and the recovery items. */
static int claim_shown(struct cmd_ctx *ctx, const struct pd_value *c, struct pd_value *out)
{
	pd_map_set_str(ctx->a, out, "missing_documents", missing_docs(ctx, c));
	pd_map_set(ctx->a, out, "clocks", claim_clocks(ctx, c));
	pd_map_set_bool(ctx->a, out, "overdue", claim_overdue(c, ctx->now));
	struct pd_value *versions = pd_map_get(c, "assessments");
	if (versions && versions->type == PD_ARR && versions->u.c.tail)
		pd_map_set(ctx->a, out, "current_assessment", present(ctx, versions->u.c.tail->val));
	pd_map_set(ctx->a, out, "recovery", recovery_list_for(ctx, c));
	return 0;
}

int cmd_claim_get(struct cmd_ctx *ctx)
{
	return record_get_reply(ctx, &CLAIM, claim_shown, NULL);
}

/* ---- lists and totals ---- */

/* overdue= (ud: the argument) */
static bool overdue_keep(struct cmd_ctx *ctx, const struct pd_value *c, void *ud)
{
	const struct pd_value *overdue = ud;
	return !overdue || claim_overdue(c, ctx->now) == overdue->u.b;
}

static void row_overdue(struct cmd_ctx *ctx, const struct pd_value *c, struct pd_value *row, void *ud)
{
	(void)ud;
	pd_map_set_bool(ctx->a, row, "overdue", claim_overdue(c, ctx->now));
}

int cmd_claim_list(struct cmd_ctx *ctx)
{
	/* the narrowest index first */
	struct record_filter by[] = {
		{ .name = "waybill" }, { "phone", NULL, "claimant_phone" }, { .name = "status" }, { .name = "depot" },
		{ .name = "type" },
	};
	struct pd_value *overdue = pd_map_get(ctx->args, "overdue");
	struct record_rows list = {
		.by = by, .n = record_filter_args(ctx, by, 5),
		RECORD_COLS("id", "status", "level", "type", "waybill", "depot", "claimant_name", "claimed_fen",
			    "payable_fen", "filed_at"),
		.nil_absent = true, .keep = overdue_keep, .more = row_overdue, .ud = overdue, .rows = pd_arr(ctx->a),
	};
	/* overdue=yes alone: the deadline index, most overdue first, up to now */
	bool by_deadline = !record_filter_key(ctx, by, list.n) && overdue && overdue->u.b;
	return record_list_reply(ctx, &CLAIM, by_deadline ? ctx->now : 0, &list, "claims");
}

/* Walks one month's counters (a handful of keys): never the claims. */
int cmd_claim_totals(struct cmd_ctx *ctx)
{
	int y, m;
	pd_month_parse(pd_arg_str(ctx->args, "month"), &y, &m);
	char prefix[16];
	int plen = snprintf(prefix, sizeof(prefix), "%04d%02d|", y, m);
	struct pd_arena *a = ctx->a;
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "month", pd_arg_str(ctx->args, "month"));
	struct pd_value *by[3] = { pd_map(a), pd_map(a), pd_map(a) };
	static const char *const dims[3] = { "type", "depot", "cause" };
	int64_t total = 0, count = 0;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->claim_totals, &cur);
	if (rc)
		return reply_store_error(ctx, rc);
	MDB_val k = { (size_t)plen, prefix }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= (size_t)plen || memcmp(k.mv_data, prefix, (size_t)plen) != 0 || v.mv_size != 8)
			break;
		char key[160];
		size_t kl = k.mv_size - (size_t)plen < sizeof(key) - 1 ? k.mv_size - (size_t)plen : sizeof(key) - 1;
		memcpy(key, (char *)k.mv_data + plen, kl);
		key[kl] = '\0';
		char *val = strchr(key, '|');
		if (!val)
			continue;
		*val++ = '\0';
		int64_t n = (int64_t)be64_get(v.mv_data);
		if (!strcmp(key, "all"))
			total = n;
		else if (!strcmp(key, "count"))
			count = n;
		for (int i = 0; i < 3; i++)
			if (!strcmp(key, dims[i]))
				pd_map_set_int(a, by[i], pd_strdup(a, val), n);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	pd_map_set_int(a, d, "claims_paid", count);
	pd_map_set_int(a, d, "paid_fen", total);
	for (int i = 0; i < 3; i++)
		pd_map_set(a, d, pd_sprintf(a, "by_%s", dims[i]), by[i]);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "%lld fen paid on %s", (long long)total, count_of(ctx, count, "claim", "claims"));
	return 0;
}

/* A claim deadline has passed: mark it and raise the level that must act,
 * as complaints do (adjuster -> supervisor -> manager). */
int claim_on_due(struct cmd_ctx *ctx, uint64_t id)
{
	struct pd_value *before, *after;
	int rc = record_get_copy(ctx, &CLAIM, (int64_t)id, &before, &after);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	bool deciding = awaits_decision(after);
	const char *what = NULL;
	int breaches = 0; /* each deadline passed raises one level, however late the sweep */
	/* on time AT a deadline, breached from the second after (as complaints) */
	if (!rec_int(after, "acknowledged_at") && deciding &&
	    !pd_map_bool(after, "acknowledge_breached") && ctx->now > rec_int(after, "acknowledge_by")) {
		pd_map_set_bool(ctx->a, after, "acknowledge_breached", true);
		what = "acknowledge_breached";
		breaches++;
	}
	if (deciding && !decide_stopped(after) && rec_int(after, "decide_by") &&
	    !pd_map_bool(after, "decide_breached") && ctx->now > rec_int(after, "decide_by")) {
		pd_map_set_bool(ctx->a, after, "decide_breached", true);
		/* a wait does not stop the 30 days: the breach says what we waited for */
		if (is_paused(after))
			pd_map_set_str(ctx->a, after, "breached_waiting_for", rec_str(after, "waiting_for"));
		what = "decide_breached";
		breaches++;
	}
	if (status_of(after) == CLAIM_APPROVED && !pd_map_bool(after, "pay_breached") &&
	    ctx->now > rec_int(after, "pay_by")) {
		pd_map_set_bool(ctx->a, after, "pay_breached", true);
		what = "pay_breached";
		breaches++;
	}
	if (deciding && !is_paused(after) && rec_int(after, "update_by") &&
	    !pd_map_bool(after, "update_breached") && ctx->now > rec_int(after, "update_by")) {
		/* the claimant has not heard from us in time: shown, not escalated */
		pd_map_set_bool(ctx->a, after, "update_breached", true);
		pd_map_set_int(ctx->a, after, "update_breaches", rec_int(after, "update_breaches") + 1);
		if (!what)
			what = "update_breached";
	}
	for (int i = 0; i < breaches && level_of(after) < COMP_AUTHORITY_MANAGER; i++) {
		pd_map_set_str(ctx->a, after, "level", comp_authority_name(level_of(after) + 1));
		pd_map_set_int(ctx->a, after, "escalations", rec_int(after, "escalations") + 1);
		if (deciding)
			set_status(ctx, after, CLAIM_ESCALATED);
	}
	const struct session *saved = ctx->sess;
	ctx->sess = &record_daemon;
	rc = claim_save(ctx, before, after, what ? what : "clock", NULL);
	ctx->sess = saved;
	return rc;
}

static int open_claim_keys(struct cmd_ctx *ctx, const char **keys)
{
	int n = 0;
	for (int i = 0; i < CLAIM_STATUS_COUNT; i++)
		if (claim_status_is_open((enum claim_status)i))
			keys[n++] = pd_sprintf(ctx->a, "status=%s", claim_status_name((enum claim_status)i));
	return n;
}

int claim_open_of_customer(struct cmd_ctx *ctx, const char *account, struct pd_value *ids)
{
	const char *keys[CLAIM_STATUS_COUNT];
	return record_ids_where(ctx, &CLAIM, keys, (size_t)open_claim_keys(ctx, keys), "customer", account, ids);
}

int claim_get(struct cmd_ctx *ctx, int64_t id, struct pd_value **out)
{
	return record_get(ctx, &CLAIM, id, out);
}

int claim_open(struct cmd_ctx *ctx, bool *more)
{
	*more = false; /* one step: the records are walked once, at start */
	return record_index_fill(ctx, &CLAIM, "open_level");
}

int claim_gauges(MDB_txn *txn, struct store *st, int64_t now, struct module_gauges *g)
{
	const char *levels[] = { comp_authority_name(COMP_AUTHORITY_ADJUSTER),
				 comp_authority_name(COMP_AUTHORITY_SUPERVISOR),
				 comp_authority_name(COMP_AUTHORITY_MANAGER) };
	return record_gauges(txn, st, &CLAIM, "open_level", levels, 3, now, g);
}
