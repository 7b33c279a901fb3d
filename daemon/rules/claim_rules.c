/* claim_rules.c — the claim's state machine (see claim_rules.h). */
#include <string.h>

#include "claim_rules.h"

static const char *const NAMES[CLAIM_STATUS_COUNT] = {
	"filed", "assessed", "escalated", "approved", "paid", "refused", "closed",
};

const char *claim_status_name(enum claim_status s)
{
	return (unsigned)s < CLAIM_STATUS_COUNT ? NAMES[s] : NULL;
}

bool claim_status_parse(const char *name, enum claim_status *out)
{
	for (int i = 0; name && i < CLAIM_STATUS_COUNT; i++)
		if (strcmp(name, NAMES[i]) == 0) {
			*out = (enum claim_status)i;
			return true;
		}
	return false;
}

bool claim_status_is_open(enum claim_status s)
{
	return (unsigned)s < CLAIM_STATUS_COUNT && s != CLAIM_REFUSED && s != CLAIM_CLOSED;
}

bool claim_awaits_decision(enum claim_status s)
{
	return s == CLAIM_FILED || s == CLAIM_ASSESSED || s == CLAIM_ESCALATED;
}

bool claim_transition_allowed(enum claim_status from, enum claim_status to)
{
	switch (to) {
	case CLAIM_ASSESSED:
	case CLAIM_ESCALATED:
	case CLAIM_REFUSED:
		return claim_awaits_decision(from);
	case CLAIM_APPROVED:
		return from == CLAIM_ASSESSED || from == CLAIM_ESCALATED;
	case CLAIM_PAID:
		return from == CLAIM_APPROVED;
	case CLAIM_CLOSED:
		return from == CLAIM_PAID || from == CLAIM_REFUSED;
	default:
		return false; /* nothing becomes filed again */
	}
}
