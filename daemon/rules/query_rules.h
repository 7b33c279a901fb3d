/* query_rules.h — the time limits of queries (docs/rules.md section 2) as
 * pure functions: which queries wait for an answer and until when, by the
 * customer's service level, when an unanswered one is late, and what an
 * investigation's outcome allows. */
#ifndef PD_QUERY_RULES_H
#define PD_QUERY_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "customer_rules.h"

enum query_kind {
	QUERY_DELIVERY,      /* delivery: the receiver asks */
	QUERY_PICKUP,        /* pickup: the sender asks */
	QUERY_NO_WAYBILL,    /* no_waybill: a search by phone and name */
	QUERY_EXTERNAL,      /* external: we ask a partner carrier */
	QUERY_INVESTIGATION, /* investigation: signed for, the customer says it never arrived */
	QUERY_KIND_COUNT
};

/* What an investigation found. */
enum query_outcome {
	QUERY_DELIVERED_CONFIRMED, /* delivered_confirmed: the receiver (or whom they chose) has it */
	QUERY_FOUND_REDELIVERED,   /* found_redelivered: found (wrong locker, neighbour ...) and handed over now */
	QUERY_MISDELIVERED,        /* misdelivered: given to the wrong person or address */
	QUERY_LOST,                /* lost: not found */
	QUERY_DISPUTED,            /* disputed: our proof says delivered, the customer does not accept it */
	QUERY_OUTCOME_COUNT
};

/* Wire names; NULL out of range. _parse: exact match, -1 when unknown. */
const char *query_kind_name(enum query_kind k);
int query_kind_parse(const char *s);
const char *query_outcome_name(enum query_outcome o);
int query_outcome_parse(const char *s);

struct query_rules {
	int64_t external_due_secs;      /* a partner's answer */
	int64_t investigation_due_secs; /* an investigation's outcome */
	unsigned service_level_percent[SERVICE_LEVEL_COUNT]; /* share of each, basic 100 */
};

struct config;
void query_rules_from_options(const struct config *opt, struct query_rules *r);
/* 0, or -1 with *problem naming what is wrong. */
int query_rules_validate(const struct query_rules *r, const char **problem);

/* The due time of a query of kind k registered at opened_at for a
 * customer of service level s: the kind's period scaled by the level's
 * share (rounded down). 0 for kinds answered at once (delivery, pickup,
 * no_waybill), which have no time limit. */
int64_t query_due_at(const struct query_rules *r, enum query_kind k, enum service_level s, int64_t opened_at);

/* Whether a query due at due_at is late: answered (answered_at > 0) after
 * its due second, or still unanswered at now past it. Answered at the due
 * second is on time; a query without a due time is never late. */
bool query_late(int64_t due_at, int64_t answered_at, int64_t now);

/* Whether an investigation with this outcome may lead to a claim: the
 * parcel did not reach the receiver (lost, misdelivered). */
bool query_outcome_allows_claim(enum query_outcome o);

#endif
