/* care.h — keeping account customers (docs/customers.md): the modules
 * beside contacts, and what other modules call of them.
 *   need.c      NEED ADD/RESULT/DONE/GET/LIST: a customer's needs, routed
 *               by kind and confirmed in writing
 *   rectify.c   RECTIFY CHECK/CLOSE/GET/LIST: rectification plans after
 *               an incident (timer kind "rectify"); RECTIFY ADD in
 *               rectify_add.c, which reads the incident through its module
 *   survey.c    SURVEY SEND/ANSWER/GET/LIST: satisfaction surveys (timer
 *               kind "survey") and the satisfaction index
 *   winback.c   WINBACK ADD/SET/CLOSE/GET/LIST: win-back prospects */
#ifndef PD_CARE_H
#define PD_CARE_H

#include "daemon.h"

/* What a rectification plan is raised with (NULL strings: ""). */
struct rectify_in {
	const char *source;	/* complaint, claim, warning */
	int64_t source_id;
	const char *customer, *depot, *fault, *responsible, *action;
	const char *agreed_ops, *agreed_inspection, *owner, *accountability;
	int64_t due_at;		/* UTC, the last second of the due day */
};

/* Writes a new open plan (checked by the caller: the owner exists, the due
 * time is not past); *id is its id. 0 or an LMDB code, no reply. A complaint
 * closed with a rectification raises its plan this way. */
int rectify_raise(struct cmd_ctx *ctx, const struct rectify_in *in, int64_t *id);

/* RECTIFY ADD (rectify_add.c) after its checks: raises the plan and
 * answers 201 with it. Returns what the handler returns. */
int rectify_raise_reply(struct cmd_ctx *ctx, const struct rectify_in *in);

/* A due date argument as the last second of that day in the depot's zone;
 * replies 400 for a bad date, 422 for a day already past. 0 or
 * PD_EREPLIED. */
int rectify_due_arg(struct cmd_ctx *ctx, const char *name, int64_t *due_at);

/* The plans raised in `month` (YYYYMM) of a customer or a depot (both NULL:
 * the network): counts by state and the rows, for REPORT MONTH. */
int rectify_month(struct cmd_ctx *ctx, const char *customer, const char *depot, int month, struct pd_value **out);

/* An open plan's due time passed (SWEEP, kind "rectify"): marks it overdue. */
int rectify_on_due(struct cmd_ctx *ctx, uint64_t id);

/* A complaint closed (COMPLAINT CLOSE): its satisfaction joins the index
 * of its customer, depot and the network for this month, and an account
 * customer's survey after the incident falls due. 0 or an LMDB code. */
int survey_complaint_closed(struct cmd_ctx *ctx, const struct pd_value *complaint);
/* A closed complaint (as it was before COMPLAINT REOPEN) is reopened: its
 * close score leaves the index of the month it closed in, so a complaint
 * closed again counts once, with its last score. 0 or an LMDB code. */
int survey_complaint_reopened(struct cmd_ctx *ctx, const struct pd_value *closed);

/* An incident of `account` (kind "complaint" or "claim", its id) calls for
 * a survey survey_after_incident_days later, unless one after an incident
 * is pending; nothing for "" or a name that is not an account. */
int survey_after_incident_of(struct cmd_ctx *ctx, const char *account, const char *kind, int64_t id);

/* The satisfaction index of a scope ("C", "D", "N" of volume.h) and month;
 * with out, the section REPORT MONTH shows (each source, the index). */
struct satisfaction_index;
void satisfaction_of(struct cmd_ctx *ctx, const char *scope, const char *id, int month,
		     struct satisfaction_index *x, struct pd_value **out);

/* A warning closed as lost (WARNING CLOSE): its customer becomes a
 * win-back prospect (none while one is open). 0 or an LMDB code. */
int winback_after_lost_warning(struct cmd_ctx *ctx, const struct pd_value *warning);

/* The month-end run of `month` for a customer: a customer with no waybill
 * in its last winback_idle_months months, and some before, becomes a
 * win-back prospect (*raised: one was raised now, none was open). 0 or an
 * LMDB code. */
int winback_stopped_check(struct cmd_ctx *ctx, const struct pd_value *customer, int month, bool *raised);

/* The first satisfaction reading of account c, handed over from sales:
 * with a score (1..5, taken already) an answered survey of reason
 * first_reading, the overall score only, counted in the index now; with 0
 * a survey of that reason due at due_at (the first visit), unless one is
 * pending. *id: the survey's id. 0 or an LMDB code. */
int survey_first_reading(struct cmd_ctx *ctx, const struct pd_value *c, int64_t score, int64_t due_at, int64_t *id);

/* A due survey's time passed (SWEEP, kind "survey"): marks it overdue. */
int survey_on_due(struct cmd_ctx *ctx, uint64_t id);

#endif
