/* need_rules.h — a customer's needs (docs/customers.md, "Needs"): where a
 * need of each kind is routed, what a result needs, and when a need may be
 * closed (the customer's written confirmation). Pure functions, no store. */
#ifndef PD_NEED_RULES_H
#define PD_NEED_RULES_H

#include <stdbool.h>
#include <stdint.h>

/* The department a need of `kind` goes to: price -> "marketing", service
 * -> "operations", price_adjustment and rebate -> "cs_head"; NULL for an
 * unknown kind. */
const char *need_route(const char *kind);

/* What a result of a need of `kind` lacks (NULL: nothing): a service need
 * is answered by operations with a service plan. */
const char *need_result_missing(const char *kind, bool has_plan);

/* Why a need in `status` cannot be closed yet (NULL: it can): only an
 * answered need, confirmed in writing (a document reference). */
const char *need_close_refusal(const char *status, const char *document);

/* Whole days a need has been open at `now`. */
int64_t need_age_days(int64_t created_at, int64_t now);

#endif
