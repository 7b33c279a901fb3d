/* contact_rules.h — the contact plan of account customers (docs/customers.md,
 * "Contacts and the contact plan"): how often each tier is visited, called
 * or met, when the next planned contact falls due and when it is overdue.
 * Pure functions, no store. */
#ifndef PD_CONTACT_RULES_H
#define PD_CONTACT_RULES_H

#include <stdbool.h>
#include <stdint.h>

#define CONTACT_DAY_SECS 86400

/* Days between two contacts of a kind, per tier (0: not in the plan). */
struct contact_plan {
	int64_t key_visit_days;
	int64_t key_meeting_days;
	int64_t local_major_visit_days;
	int64_t local_major_call_days;
	int64_t medium_call_days;
};

void contact_plan_defaults(struct contact_plan *p);

/* Days the plan of `tier` puts between two contacts of `kind`, 0 when the
 * plan does not call for that kind. */
int64_t contact_plan_days(const struct contact_plan *p, const char *tier, const char *kind);

/* When the next planned contact of `kind` is due after one done at
 * last_done_at (UTC seconds), 0 when the plan calls for none. */
int64_t contact_next_due(const struct contact_plan *p, const char *tier, const char *kind,
			 int64_t last_done_at);

/* A planned contact not done is overdue from the first second past its
 * planned time. */
bool contact_overdue(int64_t planned_at, int64_t done_at, int64_t now);

/* A contact not done whose planned time is before now + horizon (the
 * overdue ones included): what an agenda of that horizon shows. */
bool contact_due_within(int64_t planned_at, int64_t done_at, int64_t now, int64_t horizon);

/* When the call-back a closed query or complaint calls for is due: `days`
 * after the close; 0 (none) when call-backs are off. */
int64_t contact_callback_due(bool enabled, int64_t days, int64_t closed_at);

#endif
