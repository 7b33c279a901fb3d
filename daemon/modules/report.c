/* report.c — the monthly customer analysis report (REPORT MONTH, REPORT
 * TEXT) and the service KPIs (KPI), for one customer, one depot or the
 * whole network (docs/customers.md).
 *
 * Every figure comes from the monthly counters of volume.h (scope C|acct,
 * D|depot or N|all), so neither command reads a waybill: a report is a
 * few dozen counter look-ups, the month's incident list (`incidents`,
 * bounded by the month's major incidents) and, for the network's
 * complaints by category, the month's days of `complaint_stats`. Waybill figures
 * are about the waybills CREATED in the month (volume.h's cohort), so a
 * rate's numerator and denominator speak of the same parcels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "care.h"
#include "claim.h"
#include "complaint.h"
#include "contact.h"
#include "customer.h"
#include "record.h"
#include "survey_rules.h"
#include "volume.h"

static const char *const REPORT_SECTIONS[] = { "needs_forecast", "summary_focus", "competitor_news" };

struct scope {
	const char *kind;   /* customer, depot, network */
	const char *code;   /* C, D, N (volume.h) */
	const char *id;     /* account, depot, "all" */
	struct pd_value *customer;
};

/* From customer= or depot= (neither: the network). Replies 400 for both and
 * 404 for an unknown customer; -1 then. */
static int scope_from_args(struct cmd_ctx *ctx, struct scope *s)
{
	const char *customer = pd_arg_str(ctx->args, "customer");
	const char *depot = pd_arg_str(ctx->args, "depot");
	memset(s, 0, sizeof(*s));
	if (customer && depot) {
		reply_error(ctx, 400, "give customer or depot, not both (neither: the whole network)");
		return -1;
	}
	if (customer) {
		if (customer_load(ctx, customer, &s->customer))
			return -1;
		*s = (struct scope){ "customer", "C", customer, s->customer };
	} else if (depot) {
		*s = (struct scope){ "depot", "D", depot, NULL };
	} else {
		*s = (struct scope){ "network", "N", "all", NULL };
	}
	return 0;
}

static int64_t counter(struct cmd_ctx *ctx, const struct scope *s, int month, const char *metric)
{
	return volume_get(ctx->txn, ctx->st, s->code, s->id, month, metric);
}

static void set_pct(struct cmd_ctx *ctx, struct pd_value *m, const char *key, int64_t part, int64_t whole)
{
	char buf[32];
	bp_format(share_bp(part, whole), buf, sizeof(buf));
	pd_map_set_str(ctx->a, m, key, whole > 0 ? buf : "");
}

static void describe_scope(struct cmd_ctx *ctx, const struct scope *s, int month, struct pd_value *out)
{
	pd_map_set_str(ctx->a, out, "scope", s->kind);
	if (s->customer) {
		pd_map_set_str(ctx->a, out, "customer", s->id);
		pd_map_set_str(ctx->a, out, "customer_name", rec_str(s->customer, "name"));
		pd_map_set_str(ctx->a, out, "tier", rec_str(s->customer, "tier"));
		pd_map_set_str(ctx->a, out, "service_level", rec_str(s->customer, "service_level"));
	} else if (strcmp(s->kind, "depot") == 0) {
		pd_map_set_str(ctx->a, out, "depot", s->id);
	}
	pd_map_set_str(ctx->a, out, "month", month_text(ctx, month));
	/* the current month's figures are still moving */
	pd_map_set_bool(ctx->a, out, "complete", month < month_now(ctx));
}

/* ---- REPORT MONTH ---- */

/* (1) volume against last month and the same month last year */
static struct pd_value *volume_section(struct cmd_ctx *ctx, const struct scope *s, int month)
{
	struct pd_value *v = pd_map(ctx->a);
	static const char *const metrics[] = { "waybills", "revenue_fen", "declared_fen" };
	int last = month_add(month, -1), last_year = month_add(month, -12);
	pd_map_set_str(ctx->a, v, "last_month", month_text(ctx, last));
	pd_map_set_str(ctx->a, v, "same_month_last_year", month_text(ctx, last_year));
	for (size_t i = 0; i < 3; i++) {
		int64_t now = counter(ctx, s, month, metrics[i]);
		int64_t before = counter(ctx, s, last, metrics[i]);
		int64_t year = counter(ctx, s, last_year, metrics[i]);
		char buf[32];
		struct pd_value *m = pd_map(ctx->a);
		pd_map_set_int(ctx->a, m, "this_month", now);
		pd_map_set_int(ctx->a, m, "last_month", before);
		pd_map_set_int(ctx->a, m, "last_year", year);
		change_format(now, before, buf, sizeof(buf));
		pd_map_set_str(ctx->a, m, "vs_last_month_pct", buf);
		change_format(now, year, buf, sizeof(buf));
		pd_map_set_str(ctx->a, m, "vs_last_year_pct", buf);
		pd_map_set(ctx->a, v, metrics[i], m);
	}
	return v;
}

/* (3) service quality */
static struct pd_value *quality_section(struct cmd_ctx *ctx, const struct scope *s, int month)
{
	struct pd_value *q = pd_map(ctx->a);
	int64_t waybills = counter(ctx, s, month, "waybills");
	int64_t delivered = counter(ctx, s, month, "delivered");
	int64_t on_time = counter(ctx, s, month, "delivered_on_time");
	int64_t claims = counter(ctx, s, month, "claims");
	int64_t damaged = counter(ctx, s, month, "damaged");
	int64_t lost = counter(ctx, s, month, "lost");
	int64_t late = delivered > on_time ? delivered - on_time : 0;
	pd_map_set_int(ctx->a, q, "waybills", waybills);
	pd_map_set_int(ctx->a, q, "delivered", delivered);
	pd_map_set_int(ctx->a, q, "delivered_late", late);
	set_pct(ctx, q, "late_rate_pct", late, delivered);
	pd_map_set_int(ctx->a, q, "claims", claims);
	set_pct(ctx, q, "claim_rate_pct", claims, waybills);
	pd_map_set_int(ctx->a, q, "claims_paid_fen", counter(ctx, s, month, "claims_paid_fen"));
	pd_map_set_int(ctx->a, q, "damaged", damaged);
	set_pct(ctx, q, "damage_rate_pct", damaged, waybills);
	pd_map_set_int(ctx->a, q, "lost", lost);
	set_pct(ctx, q, "loss_rate_pct", lost, waybills);
	set_pct(ctx, q, "damage_and_loss_rate_pct", damaged + lost, waybills);
	return q;
}

/* Queries with a due time (external queries and investigations) and those
 * late: counted late from their due instant, answered or not. */
static void queries_due(struct cmd_ctx *ctx, const struct scope *s, int month, int64_t *total, int64_t *late)
{
	*total = counter(ctx, s, month, "queries_external") + counter(ctx, s, month, "investigations");
	*late = counter(ctx, s, month, "queries_external_late") + counter(ctx, s, month, "investigations_late");
}

static struct pd_value *queries_section(struct cmd_ctx *ctx, const struct scope *s, int month)
{
	struct pd_value *q = pd_map(ctx->a);
	int64_t total, late;
	queries_due(ctx, s, month, &total, &late);
	pd_map_set_int(ctx->a, q, "external", counter(ctx, s, month, "queries_external"));
	pd_map_set_int(ctx->a, q, "investigations", counter(ctx, s, month, "investigations"));
	pd_map_set_int(ctx->a, q, "late", late);
	set_pct(ctx, q, "late_pct", late, total);
	return q;
}

/* Complaints of the month (by opening day) by category. A customer's or a
 * depot's come from the "complaints.CATEGORY" counters complaint.c keeps
 * at opening; the network's from complaint_stats, which also holds complaints
 * opened before those counters existed. */
static int complaints_section(struct cmd_ctx *ctx, const struct scope *s, int month, struct pd_value **out)
{
	struct pd_value *c = pd_map(ctx->a), *by = pd_map(ctx->a);
	for (int i = 0; i < COMPLAINT_CATEGORY_COUNT; i++) {
		const char *cat = complaint_category_name((enum complaint_category)i);
		int64_t n = strcmp(s->code, "N") == 0 ? 0 : counter(ctx, s, month, pd_sprintf(ctx->a, "complaints.%s", cat));
		pd_map_set_int(ctx->a, by, cat, n);
	}
	int rc = strcmp(s->code, "N") == 0
			 ? complaint_categories_of_days(ctx, month_first_day(month), month_last_day(month), by)
			 : 0;
	if (rc)
		return rc;
	int64_t total = counter(ctx, s, month, "complaints");
	pd_map_set_int(ctx->a, c, "total", total);
	pd_map_set_int(ctx->a, c, "late", counter(ctx, s, month, "complaints_late"));
	set_pct(ctx, c, "late_pct", counter(ctx, s, month, "complaints_late"), total);
	pd_map_set_int(ctx->a, c, "waybills_complained", counter(ctx, s, month, "complained"));
	pd_map_set(ctx->a, c, "by_category", by);
	*out = c;
	return 0;
}

static bool in_scope(const struct scope *s, const struct pd_value *r)
{
	if (s->customer)
		return strcmp(rec_str(r, "customer"), s->id) == 0;
	if (strcmp(s->kind, "depot") == 0)
		return strcmp(rec_str(r, "depot"), s->id) == 0;
	return true;
}

/* Money a complaint cost: the amount proposed, or what its linked claims
 * paid when more. */
static int complaint_cost(struct cmd_ctx *ctx, const struct pd_value *c, int64_t *fen)
{
	int64_t paid = 0;
	struct pd_value *claims = pd_map_get(c, "claims");
	if (claims && claims->type == PD_ARR)
		for (struct pd_entry *e = claims->u.c.head; e; e = e->next) {
			struct pd_value *cl;
			int rc = e->val->type == PD_INT ? claim_get(ctx, e->val->u.i, &cl) : MDB_NOTFOUND;
			if (rc == 0)
				paid += rec_int(cl, "paid_fen");
			else if (rc != MDB_NOTFOUND)
				return rc;
		}
	int64_t proposed = rec_int(c, "proposal_fen");
	*fen = proposed > paid ? proposed : paid;
	return 0;
}

/* (2) the month's major incidents: complaints first escalated in the month
 * and claims assessed at or above report_major_claim_fen (the one
 * major-incident threshold, which also raises the customer's warning),
 * split by whether they cost money: what was paid, or before payment
 * what the assessment found payable. */
static int incidents_section(struct cmd_ctx *ctx, const struct scope *s, int month, struct pd_value **out)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *with = pd_arr(a), *without = pd_arr(a);
	struct pd_value *whats = pd_arr(a);
	int rc = volume_incidents(ctx, month, whats);
	if (rc)
		return rc;
	for (const struct pd_entry *e = whats->u.c.head; e; e = e->next) {
		const char *what = e->val->u.s.ptr;
		const char *colon = strchr(what, ':');
		if (!colon)
			continue;
		bool is_claim = strncmp(what, "claim:", 6) == 0;
		int64_t id = strtoll(colon + 1, NULL, 10);
		struct pd_value *r;
		int lrc = is_claim ? claim_get(ctx, id, &r) : complaint_get(ctx, id, &r);
		if (lrc == MDB_NOTFOUND)
			continue;
		if (lrc) {
			rc = lrc;
			break;
		}
		if (!in_scope(s, r))
			continue;
		int64_t fen = 0;
		if (is_claim)
			fen = rec_int(r, "paid_at") ? rec_int(r, "paid_fen")
			    : rec_int(r, "refused_at") ? 0 : rec_int(r, "payable_fen");
		else if ((rc = complaint_cost(ctx, r, &fen)))
			break;
		struct pd_value *row = pd_map(a);
		pd_map_set_str(a, row, "kind", is_claim ? "claim" : "complaint");
		pd_map_set_int(a, row, "id", id);
		pd_map_set_str(a, row, "waybill", rec_str(r, "waybill"));
		pd_map_set_str(a, row, "customer", rec_str(r, "customer"));
		pd_map_set_str(a, row, "depot", rec_str(r, "depot"));
		pd_map_set_str(a, row, "what", rec_str(r, is_claim ? "type" : "category"));
		pd_map_set_str(a, row, "status", rec_str(r, "status"));
		pd_map_set_int(a, row, "amount_fen", fen);
		/* claims counted at payment by earlier versions have no major_at */
		int64_t at = is_claim ? rec_int(r, "major_at") : rec_int(r, "escalated_at");
		map_set_time(ctx, row, "at", at ? at : rec_int(r, "paid_at"));
		pd_arr_push(a, fen > 0 ? with : without, row);
	}
	if (rc)
		return rc;
	struct pd_value *inc = pd_map(a);
	pd_map_set_int(a, inc, "with_financial_loss", (int64_t)with->u.c.count);
	pd_map_set_int(a, inc, "without_financial_loss", (int64_t)without->u.c.count);
	pd_map_set(a, inc, "with_loss", with);
	pd_map_set(a, inc, "without_loss", without);
	*out = inc;
	return 0;
}

static const char *text_key(struct cmd_ctx *ctx, const struct scope *s, int month, const char *section)
{
	return pd_sprintf(ctx->a, "%s|%s|%06d|%s", s->code, s->id, month, section);
}

/* (4)-(6) the staff's text */
static int text_section(struct cmd_ctx *ctx, const struct scope *s, int month, struct pd_value **out)
{
	struct pd_value *t = pd_map(ctx->a);
	for (size_t i = 0; i < sizeof(REPORT_SECTIONS) / sizeof(REPORT_SECTIONS[0]); i++) {
		const char *key = text_key(ctx, s, month, REPORT_SECTIONS[i]);
		struct pd_value *r;
		int rc = store_get(ctx->txn, ctx->st->report_texts, key, strlen(key), ctx->a, &r);
		if (rc == MDB_NOTFOUND) {
			r = pd_map(ctx->a);
			pd_map_set_str(ctx->a, r, "text", "");
		} else if (rc) {
			return rc;
		}
		pd_map_set(ctx->a, t, REPORT_SECTIONS[i], present(ctx, r));
	}
	*out = t;
	return 0;
}

/* Runs off the event loop (CMD_BULK: the bulk thread): the incident list
 * loads records. */
int cmd_report_month(struct cmd_ctx *ctx)
{
	struct scope s;
	int month, rc;
	if (scope_from_args(ctx, &s) || month_arg_or_last(ctx, "month", &month))
		return PD_EREPLIED;
	struct pd_value *out = pd_map(ctx->a), *section;
	describe_scope(ctx, &s, month, out);
	pd_map_set(ctx->a, out, "volume", volume_section(ctx, &s, month));
	if ((rc = incidents_section(ctx, &s, month, &section)))
		return reply_store_error(ctx, rc);
	pd_map_set(ctx->a, out, "incidents", section);
	pd_map_set(ctx->a, out, "quality", quality_section(ctx, &s, month));
	pd_map_set(ctx->a, out, "queries", queries_section(ctx, &s, month));
	if ((rc = complaints_section(ctx, &s, month, &section)))
		return reply_store_error(ctx, rc);
	pd_map_set(ctx->a, out, "complaints", section);
	if ((rc = rectify_month(ctx, s.customer ? s.id : NULL, strcmp(s.kind, "depot") == 0 ? s.id : NULL, month,
				&section)))
		return reply_store_error(ctx, rc);
	pd_map_set(ctx->a, out, "rectification", section);
	struct satisfaction_index sat;
	satisfaction_of(ctx, s.code, s.id, month, &sat, &section);
	pd_map_set(ctx->a, out, "satisfaction", section);
	if ((rc = text_section(ctx, &s, month, &section)))
		return reply_store_error(ctx, rc);
	pd_map_set(ctx->a, out, "text", section);
	pd_map_set(ctx->a, out, "contacts",
		   contact_month_report(ctx, s.code, s.id, month, s.customer ? rec_str(s.customer, "tier") : NULL));
	ctx->rep->data = out;
	reply_ok(ctx, 200, "report of %s%s%s for %s", s.kind, s.customer || strcmp(s.kind, "depot") == 0 ? " " : "",
		 s.customer || strcmp(s.kind, "depot") == 0 ? s.id : "", month_text(ctx, month));
	return 0;
}

/* scope=network | customer:ACCOUNT | depot:CODE */
static int scope_from_text(struct cmd_ctx *ctx, const char *text, struct scope *s)
{
	memset(s, 0, sizeof(*s));
	if (strcmp(text, "network") == 0) {
		*s = (struct scope){ "network", "N", "all", NULL };
		return 0;
	}
	const char *colon = strchr(text, ':');
	const char *id = colon ? colon + 1 : "";
	bool word = *id && strlen(id) <= 64;
	for (const char *p = id; *p && word; p++)
		word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		       *p == '_' || *p == '-' || *p == '.';
	if (colon && word && colon - text == 8 && strncmp(text, "customer", 8) == 0) {
		struct pd_value *c;
		if (customer_load(ctx, id, &c))
			return -1;
		*s = (struct scope){ "customer", "C", id, c };
		return 0;
	}
	if (colon && word && colon - text == 5 && strncmp(text, "depot", 5) == 0) {
		*s = (struct scope){ "depot", "D", id, NULL };
		return 0;
	}
	reply_error(ctx, 400, "argument 'scope' must be network, customer:ACCOUNT or depot:CODE");
	return -1;
}

int cmd_report_text(struct cmd_ctx *ctx)
{
	struct scope s;
	int month, rc;
	if (scope_from_text(ctx, pd_arg_str(ctx->args, "scope"), &s) || month_arg(ctx, "month", &month))
		return PD_EREPLIED;
	const char *section = pd_arg_str(ctx->args, "section");
	const char *key = text_key(ctx, &s, month, section);
	struct pd_value *r = pd_map(ctx->a);
	pd_map_set_str(ctx->a, r, "text", pd_arg_str(ctx->args, "text"));
	pd_map_set_str(ctx->a, r, "written_by", ctx->sess->user);
	pd_map_set_int(ctx->a, r, "written_at", ctx->now);
	struct pd_value *detail = pd_map(ctx->a);
	pd_map_set_str(ctx->a, detail, "section", section);
	pd_map_set_str(ctx->a, detail, "text", pd_arg_str(ctx->args, "text"));
	if ((rc = store_put(ctx->txn, ctx->st->report_texts, key, strlen(key), r, 0)) ||
	    (rc = store_audit(ctx->txn, ctx->st, "report", pd_sprintf(ctx->a, "%s|%s|%06d", s.code, s.id, month),
			      ctx->sess->user, ctx->now, "text", detail)))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(ctx->a);
	describe_scope(ctx, &s, month, d);
	pd_map_set_str(ctx->a, d, "section", section);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "%s written", section);
	return 0;
}

/* ---- KPI ---- */

static struct pd_value *kpi_row(struct cmd_ctx *ctx, enum kpi_kind kind, const struct kpi_result *r)
{
	struct pd_value *row = pd_map(ctx->a);
	char value[32], target[32];
	bp_format(r->value_bp, value, sizeof(value));
	bp_format(r->target_bp, target, sizeof(target));
	pd_map_set_str(ctx->a, row, "kpi", kpi_name(kind));
	pd_map_set_str(ctx->a, row, "value_pct", r->no_data ? "" : value);
	pd_map_set_int(ctx->a, row, "numerator", r->numerator);
	pd_map_set_int(ctx->a, row, "denominator", r->denominator);
	pd_map_set_str(ctx->a, row, "target_pct", target);
	pd_map_set_str(ctx->a, row, "comparison", r->at_most ? "at_most" : "at_least");
	pd_map_set_bool(ctx->a, row, "met", r->met);
	pd_map_set_bool(ctx->a, row, "no_data", r->no_data);
	return row;
}

/* A read on the loop: fifteen counter look-ups. */
int cmd_kpi(struct cmd_ctx *ctx)
{
	struct scope s;
	int month;
	if (scope_from_args(ctx, &s) || month_arg_or_last(ctx, "month", &month))
		return PD_EREPLIED;
	const struct customer_rules_config *rules = customer_rules();
	struct kpi_result r[KPI_COUNT];
	int64_t waybills = counter(ctx, &s, month, "waybills");
	int64_t delivered = counter(ctx, &s, month, "delivered");
	int64_t queries, queries_late;
	queries_due(ctx, &s, month, &queries, &queries_late);
	kpi_on_time_handling(rules, queries, queries_late, counter(ctx, &s, month, "complaints"),
			     counter(ctx, &s, month, "complaints_late"), &r[KPI_ON_TIME_HANDLING]);
	kpi_on_time_delivery(rules, delivered, counter(ctx, &s, month, "delivered_on_time"), &r[KPI_ON_TIME_DELIVERY]);
	kpi_without_complaint(rules, waybills, counter(ctx, &s, month, "complained"), &r[KPI_WITHOUT_COMPLAINT]);
	kpi_damage_rate(rules, waybills, counter(ctx, &s, month, "damaged"), &r[KPI_DAMAGE_RATE]);
	kpi_delivery_accuracy(rules, delivered, counter(ctx, &s, month, "inaccurate"), &r[KPI_DELIVERY_ACCURACY]);
	struct satisfaction_index sat;
	satisfaction_of(ctx, s.code, s.id, month, &sat, NULL);
	kpi_satisfaction(rules, sat.index_points, sat.index_max, &r[KPI_SATISFACTION]);
	struct pd_value *rows = pd_arr(ctx->a);
	int met = 0, measured = 0;
	for (int i = 0; i < KPI_COUNT; i++) {
		struct pd_value *row = kpi_row(ctx, (enum kpi_kind)i, &r[i]);
		pd_map_set_str(ctx->a, row, "scope", s.kind);
		pd_map_set_str(ctx->a, row, "id", strcmp(s.kind, "network") == 0 ? "" : s.id);
		pd_map_set_str(ctx->a, row, "month", month_text(ctx, month));
		pd_arr_push(ctx->a, rows, row);
		/* a KPI with nothing to measure is neither met nor missed */
		measured += !r[i].no_data;
		met += r[i].met && !r[i].no_data;
	}
	ctx->rep->data = rows;
	reply_ok(ctx, 200, "%d of %d KPIs met%s: %s%s%s, %s", met, measured,
		 measured < KPI_COUNT ? pd_sprintf(ctx->a, " (%d without data)", KPI_COUNT - measured) : "", s.kind,
		 strcmp(s.kind, "network") ? " " : "", strcmp(s.kind, "network") ? s.id : "", month_text(ctx, month));
	return 0;
}
