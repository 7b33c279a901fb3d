/* customer.h — customer accounts, tiers and service levels, warning
 * customers, the month-end run, monthly reports and KPIs
 * (docs/customers.md). Counters live in volume.h; the
 * rules are pure functions in customer_rules.h.
 *
 *   customer.c  CUSTOMER ADD/EDIT/LIST/TIER/EXPLAIN, tiers on demand
 *   customer_page.c  CUSTOMER GET (reads complaints and claims through
 *               their modules)
 *   warning.c   WARNING ADD/FOLLOWUP/CLOSE/GET/LIST, warning_raise()
 *   contact.c   CONTACT ADD/DONE/GET/LIST, the contact plan (timer kind "contact")
 *   monthend.c  MONTHEND RUN/STATUS and its batches (timer kind "monthend")
 *   report.c    REPORT MONTH/TEXT and KPI */
#ifndef PD_CUSTOMER_H
#define PD_CUSTOMER_H

#include "customer_rules.h"
#include "daemon.h"

/* Raises a warning for an account customer (no-op for "" or an unknown
 * account), from an incident: a complaint escalated for media exposure
 * (type "service_incident", subtype "media_exposure"), a claim above the
 * supervisor's limit ("service_incident", "ordinary"). `source` names what
 * raised it ("complaint:12"); the same source never raises two warnings.
 * Returns 0 or an LMDB error. */
int warning_raise(struct cmd_ctx *ctx, const char *account, const char *type,
		  const char *subtype, const char *source, const char *text);

/* The rows of an account's warnings not closed, newest first, pushed on
 * rows; *n is their number. 0 or an LMDB code (no reply). */
/* Loads warning id as stored, without a reply: 0, MDB_NOTFOUND or an LMDB
 * code. */
int warning_get(struct cmd_ctx *ctx, int64_t id, struct pd_value **out);
int warning_active_of_customer(struct cmd_ctx *ctx, const char *account, struct pd_value *rows, size_t *n);

/* The service level of an account customer ("basic" for "" or unknown):
 * complaints and claims read their time limits from it. */
const char *customer_service_level(struct cmd_ctx *ctx, const char *account);

/* ---- shared by the customer modules ---- */

/* Builds the rules' config from the daemon's options and checks it, once
 * at start; 0 or -1 (message on stderr). */
int customer_setup(const struct config *cfg);
/* The rules' config customer_setup() built (tiers, warnings, KPIs). */
const struct customer_rules_config *customer_rules(void);

/* Finds an account: 0 with the record and its id, MDB_NOTFOUND, or an
 * LMDB error. No reply is set. */
int customer_find(struct cmd_ctx *ctx, const char *account, struct pd_value **out, int64_t *id);
/* The same, replying 404 ("no customer X") or a store error. */
int customer_load(struct cmd_ctx *ctx, const char *account, struct pd_value **out);
/* A new record of `kind` that belongs to account `c`: its id, then the
 * account, its name and depot as every care record shows them. 0 or an
 * LMDB code. */
struct record_kind;
int customer_record_new(struct cmd_ctx *ctx, const struct record_kind *kind,
			const struct pd_value *c, struct pd_value **out);

/* The member of an account's team who holds `role` (station_staff,
 * acceptance_clerk, maintenance_specialist, branch_manager, cs_manager,
 * senior_leader; docs/customers.md "The account team" says who gets what),
 * else its account manager; "" for neither. */
const char *customer_member(const struct pd_value *c, const char *role);

/* The special operating requirements of an account's file
 * (receipt_return, handling, delivery_window), as a map, NULL when it has
 * none or is not an account: WAYBILL GET shows them. 0 or an LMDB code. */
int customer_requirements(struct cmd_ctx *ctx, const char *account, struct pd_value **out);

/* An account handed over from sales in its trial period (docs/customers.md
 * "Hand-over from sales and the trial period"); when it becomes mature by
 * rule (the day after trial_end, local time; 0: no trial). */
bool customer_in_trial(const struct pd_value *c);
int64_t customer_mature_at(const struct pd_value *c);
/* Marks a customer copy mature now, by the session's user. */
void customer_set_mature(struct cmd_ctx *ctx, struct pd_value *c);

/* The local midnight (UTC seconds) starting day YYYYMMDD. */
int64_t customer_day_start(int day);

/* Sets care_at, the customer's due time (timer kind "customer"): when the
 * next birthday call of a person of its file is to be raised, or its trial
 * period ends, whichever is first. */
void customer_plan_care(struct cmd_ctx *ctx, struct pd_value *c);

/* At the customer's due time: loads customer id and a copy in which every
 * birthday whose call is due now is marked raised, pushing {name, day} on
 * birthdays, the account marked mature when its trial has ended, and
 * care_at planned again. The caller raises the calls and saves. 0,
 * MDB_NOTFOUND or an LMDB code. */
int customer_care_take(struct cmd_ctx *ctx, int64_t id, struct pd_value **before, struct pd_value **after,
		       struct pd_value *birthdays);

/* Writes a customer and everything its change implies (indexes, timeline);
 * before is NULL for a new one. */
int customer_save(struct cmd_ctx *ctx, const struct pd_value *before,
		  struct pd_value *after, const char *action, const char *text);

/* Sets the automatic tier of a customer copy from the counters of the
 * window ending with `month` (YYYYMM), unless a later month already set it;
 * the effective tier and service level follow unless overridden. Returns
 * true when the effective tier or service level changed. */
bool customer_apply_tier(struct cmd_ctx *ctx, struct pd_value *c, int month);

/* The rules' tier verdict for a customer from the counters of the window
 * ending with `month` (YYYYMM). */
void customer_tier_for(struct cmd_ctx *ctx, const struct pd_value *c, int month, struct tier_result *out);

/* The contract start of a customer as YYYYMMDD. */
int customer_start_day(const struct pd_value *c);
/* How many customers there are. */
int64_t customer_count(struct cmd_ctx *ctx);
/* The customers after id `after`, in id order, at most n, pushed on batch
 * (read whole first: saving customers moves a cursor's pages); *more: some
 * are left after them. 0 or an LMDB code. */
int customer_batch(struct cmd_ctx *ctx, int64_t after, int64_t n, struct pd_value *batch, bool *more);
/* Whether staff marked the customer's month (YYYYMM) explained (CUSTOMER
 * EXPLAIN: a drop in revenue with a known reason). 0 or an LMDB code. */
int customer_month_explained(struct cmd_ctx *ctx, const char *account, int month, bool *explained);

/* Raises the revenue-drop warning of `month` for a customer when the rule
 * says so (idempotent per customer and month). *raised tells whether a new
 * warning or follow-up was written. Returns 0 or an LMDB error. */
int warning_revenue_drop(struct cmd_ctx *ctx, const struct pd_value *customer, int month,
			 bool *raised);

/* The month argument `name` as YYYYMM; replies 422 and returns PD_EREPLIED for a
 * month after the current one (the binder already refused a malformed one
 * with 400). */
int month_arg(struct cmd_ctx *ctx, const char *name, int *yyyymm);
/* The same, the last complete month when the argument is absent. */
int month_arg_or_last(struct cmd_ctx *ctx, const char *name, int *yyyymm);
/* The depot's current month, YYYYMM. */
int month_now(const struct cmd_ctx *ctx);
/* "2026-01" for 202601, in the arena. */
const char *month_text(struct cmd_ctx *ctx, int yyyymm);

/* A due month-end batch (SWEEP, kind "monthend", id YYYYMM). 0 or an LMDB
 * error. */
int monthend_on_due(struct cmd_ctx *ctx, uint64_t id);

/* A contact's planned time passed (SWEEP, kind "contact"): marks it
 * overdue. 0 or an LMDB error. */
int contact_on_due(struct cmd_ctx *ctx, uint64_t id);
/* A warning's first action fell due (kind "warning"): marks it
 * first_action_breached. */
int warning_on_due(struct cmd_ctx *ctx, uint64_t id);
/* The module's open step: the per-owner due index (the agenda) for a store
 * written before it. */
int contact_open(struct cmd_ctx *ctx, bool *more);

#endif
