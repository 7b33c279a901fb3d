/* contact_rules.c — the contact plan by tier (see contact_rules.h). */
#include <stddef.h>
#include <string.h>

#include "contact_rules.h"

void contact_plan_defaults(struct contact_plan *p)
{
	p->key_visit_days = 30;		/* a visit a month */
	p->key_meeting_days = 91;	/* a review meeting a quarter */
	p->local_major_visit_days = 91; /* a visit a quarter */
	p->local_major_call_days = 30;	/* and a call a month */
	p->medium_call_days = 30;	/* a call a month */
}

int64_t contact_plan_days(const struct contact_plan *p, const char *tier, const char *kind)
{
	static const struct {
		const char *tier, *kind;
		size_t field;
	} PLAN[] = {
		{ "key", "visit", offsetof(struct contact_plan, key_visit_days) },
		{ "key", "meeting", offsetof(struct contact_plan, key_meeting_days) },
		{ "local_major", "visit", offsetof(struct contact_plan, local_major_visit_days) },
		{ "local_major", "call", offsetof(struct contact_plan, local_major_call_days) },
		{ "medium_monthly", "call", offsetof(struct contact_plan, medium_call_days) },
	};
	if (!tier || !kind)
		return 0;
	for (size_t i = 0; i < sizeof(PLAN) / sizeof(PLAN[0]); i++)
		if (strcmp(PLAN[i].tier, tier) == 0 && strcmp(PLAN[i].kind, kind) == 0)
			return *(const int64_t *)((const char *)p + PLAN[i].field);
	return 0;
}

int64_t contact_next_due(const struct contact_plan *p, const char *tier, const char *kind,
			 int64_t last_done_at)
{
	int64_t days = contact_plan_days(p, tier, kind);
	return days > 0 && last_done_at > 0 ? last_done_at + days * CONTACT_DAY_SECS : 0;
}

bool contact_overdue(int64_t planned_at, int64_t done_at, int64_t now)
{
	return !done_at && planned_at > 0 && now > planned_at;
}

bool contact_due_within(int64_t planned_at, int64_t done_at, int64_t now, int64_t horizon)
{
	return !done_at && planned_at > 0 && planned_at < now + horizon;
}

int64_t contact_callback_due(bool enabled, int64_t days, int64_t closed_at)
{
	return enabled && closed_at > 0 ? closed_at + days * CONTACT_DAY_SECS : 0;
}
