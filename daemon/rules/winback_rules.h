/* winback_rules.h — win-back prospects (docs/customers.md, "Win-back"):
 * when a customer counts as having stopped sending, and the before/after
 * figures of a prospect. Pure functions, no store. */
#ifndef PD_WINBACK_RULES_H
#define PD_WINBACK_RULES_H

#include <stdbool.h>
#include <stdint.h>

/* Months of figures before leaving that the "before" average covers. */
#define WINBACK_BEFORE_MONTHS 3

/* The most months of no waybills the rule may wait for (the option's bound). */
#define WINBACK_MAX_IDLE_MONTHS 24

/* Why a customer left, from the cause of the warning it was lost in:
 * price -> "price"; attitude -> "maintenance"; lateness, damage, loss,
 * complaints -> "service_quality"; other causes "other"; none "unknown". */
const char *winback_reason_of_cause(const char *cause);

/* A customer stopped sending when each of its last idle_months months
 * (months[n - idle_months .. n - 1], oldest first) had no waybill and some
 * month before them had one; idle_months 0 turns the rule off. */
bool winback_stopped(const int64_t *waybills, int n, int idle_months);

/* The average of n monthly figures, rounded half up (0 for n 0). */
int64_t winback_monthly_average(const int64_t *figures, int n);

/* The change from `before` to `after` in basis points of before
 * (-10000: nothing since), 0 when before is 0. */
int64_t winback_change_bp(int64_t before, int64_t after);

#endif
