/* rectify_rules.h — rectification plans (docs/customers.md, "Rectification
 * plans"): when a plan is overdue, when its check may be recorded and when
 * it may be closed. Pure functions, no store. */
#ifndef PD_RECTIFY_RULES_H
#define PD_RECTIFY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A plan's states: open (the corrective action under way), checked (a
 * check found that it worked), closed. */

/* An open plan is overdue from the first second past its due time. */
bool rectify_overdue(const char *status, int64_t due_at, int64_t now);

/* Why a check at checked_at cannot be recorded on a plan in `status`
 * entered at created_at (NULL: it can): only an open plan, checked after it
 * was entered and not in the future (now plus slack_secs). */
const char *rectify_check_refusal(const char *status, int64_t created_at, int64_t checked_at, int64_t now,
				  int64_t slack_secs);

/* Why a plan in `status` cannot be closed (NULL: it can): closing needs the
 * check that the action worked. */
const char *rectify_close_refusal(const char *status);

/* The fields a plan must name before its action can be checked as having
 * worked, in the order they are reported: what failed, the responsible
 * depot and person, the corrective action, who agreed it for operations and
 * for the inspection department, and its owner. */
#define RECTIFY_N_REQUIRED 7
extern const char *const RECTIFY_REQUIRED[RECTIFY_N_REQUIRED];

/* The names of the required fields whose value (values[i] for
 * RECTIFY_REQUIRED[i]) is NULL or "", joined by ", " into buf (size bytes,
 * "" when none lacks); returns how many lack. */
int rectify_missing(const char *const values[RECTIFY_N_REQUIRED], char *buf, size_t size);

/* The state a report shows: "open", "overdue", "checked" or "closed". */
const char *rectify_state(const char *status, int64_t due_at, int64_t now);

#endif
