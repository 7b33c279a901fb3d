/* claim_rules.h — the claim's state machine as pure functions: its
 * statuses, which change is allowed, when a claim is open and when it
 * waits for a decision. No I/O, no clock, no globals. The money rules
 * (what is owed, who may approve it) are compensation.h's.
 *
 *   filed -> assessed -> approved -> paid -> closed
 *   filed, assessed, escalated -> escalated (a deadline passed, or an
 *     approval above the user's authority) -> assessed, approved
 *   filed, assessed, escalated -> refused -> closed
 *
 * A claim is open until it is refused or closed. The functions return
 * their answer (a bool, a name or NULL); they never reply to a request. */
#ifndef PD_CLAIM_RULES_H
#define PD_CLAIM_RULES_H

#include <stdbool.h>

enum claim_status {
	CLAIM_FILED,     /* filed: documents come in */
	CLAIM_ASSESSED,  /* assessed: the engine named what is owed */
	CLAIM_ESCALATED, /* escalated: waits for a higher authority */
	CLAIM_APPROVED,  /* approved: to be paid */
	CLAIM_PAID,      /* paid: recovery items may still be open */
	CLAIM_REFUSED,   /* refused, with its reasons */
	CLAIM_CLOSED,    /* closed */
	CLAIM_STATUS_COUNT
};

/* The wire name ("filed"), NULL out of range. */
const char *claim_status_name(enum claim_status s);
/* Reads a wire name; false (and *out unchanged) when it is none. */
bool claim_status_parse(const char *name, enum claim_status *out);

/* Open until refused or closed. */
bool claim_status_is_open(enum claim_status s);
/* Filed, assessed or escalated: the acknowledge, decide and update clocks
 * run, documents and assessments are taken, it may be refused. */
bool claim_awaits_decision(enum claim_status s);
/* May a claim in `from` become `to`? A claim that awaits a decision may be
 * assessed again and escalated again. */
bool claim_transition_allowed(enum claim_status from, enum claim_status to);

#endif
