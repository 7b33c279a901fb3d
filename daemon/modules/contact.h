/* contact.h — what other modules ask of the contact module: the contacts
 * the rules call for, raised when the event that calls for them happens
 * (docs/customers.md "Contacts the rules raise"). Each is planned for an
 * account customer (none for "" or an unknown account), owned by the
 * account team's member of the role the rule names (else the manager),
 * and raised once per source ("complaint:12"). 0 or an LMDB code; no reply
 * is set. */
#ifndef PD_CONTACT_H
#define PD_CONTACT_H

#include "daemon.h"

/* A query or complaint of `account` closed: the call-back, when the
 * contact_callback option is on. `source` names what closed. */
int contact_after_close(struct cmd_ctx *ctx, const char *account, const char *source);

/* An account was handed over from sales: the first joint visit (with the
 * salesperson) at `at`; `survey`: the id of the first satisfaction reading
 * still to be taken there (0: taken already). */
int contact_first_visit(struct cmd_ctx *ctx, const char *account, const char *sales, int64_t at, int64_t survey);

/* Waybill `number` of `account` went wrong (`what`: complained, damaged,
 * late) while the account is in its trial period: a follow-up call for the
 * account's owner, at once, once per waybill and what. */
int contact_trial_flag(struct cmd_ctx *ctx, const char *account, const char *number, const char *what);

/* A complaint of `account` came to the media (it escalates at once): the
 * apology visit, for a key account. */
int contact_apology(struct cmd_ctx *ctx, const char *account, const char *source);

/* The customer's due time (SWEEP, kind "customer", id: the customer's):
 * raises the birthday calls of its file that are due, each planned on the
 * birthday. 0 or an LMDB error. */
int customer_care_on_due(struct cmd_ctx *ctx, uint64_t id);

/* For CUSTOMER GET: sets on out the account's last contacts made
 * (contacts_last, newest first), its planned contacts not done
 * (contacts_planned, soonest first) and how many of those are overdue now
 * (contacts_overdue). 0 or an LMDB code. */
int contact_customer_page(struct cmd_ctx *ctx, const char *account, struct pd_value *out);

/* The account's contacts entered at or after `since`, newest first, at most
 * limit, as rows of cols (fields as shown, "" when absent) pushed on rows.
 * 0 or an LMDB code. */
int contact_rows_since(struct cmd_ctx *ctx, const char *account, int64_t since, const char *const *cols,
		       size_t n_cols, int64_t limit, struct pd_value *rows);

/* The account contact id is with, for a command that names the contact:
 * 0, or the LMDB code after replying 404 ("no contact ID") or the store
 * error. */
int contact_load_customer(struct cmd_ctx *ctx, int64_t id, const char **account);

/* The contacts section of REPORT MONTH for a scope of the monthly counters
 * (volume.h: "C", "D" or "N" and its id): planned, made and made late in
 * the month, in all and per kind, with the tier's plan (days between two
 * contacts of a kind) when tier is not NULL. */
struct pd_value *contact_month_report(struct cmd_ctx *ctx, const char *scope, const char *id, int month,
				      const char *tier);

#endif
