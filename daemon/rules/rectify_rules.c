/* rectify_rules.c — the life of a rectification plan (see rectify_rules.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "rectify_rules.h"

static bool is(const char *status, const char *want)
{
	return status && strcmp(status, want) == 0;
}

bool rectify_overdue(const char *status, int64_t due_at, int64_t now)
{
	return is(status, "open") && due_at > 0 && now > due_at;
}

const char *rectify_check_refusal(const char *status, int64_t created_at, int64_t checked_at, int64_t now,
				  int64_t slack_secs)
{
	if (!is(status, "open"))
		return is(status, "checked") ? "the plan was checked already" : "the plan is closed";
	if (checked_at > now + slack_secs)
		return "a check is recorded after it was made: 'checked_at' is in the future";
	if (checked_at < created_at)
		return "'checked_at' is before the plan was made";
	return NULL;
}

const char *rectify_close_refusal(const char *status)
{
	if (is(status, "checked"))
		return NULL;
	return is(status, "closed") ? "the plan is closed already"
	       : "a plan is closed only after a check that it worked: record RECTIFY CHECK result=worked first";
}

const char *const RECTIFY_REQUIRED[RECTIFY_N_REQUIRED] = {
	"fault", "depot", "responsible", "action", "agreed_ops", "agreed_inspection", "owner",
};

int rectify_missing(const char *const values[RECTIFY_N_REQUIRED], char *buf, size_t size)
{
	int n = 0;
	size_t used = 0;
	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < RECTIFY_N_REQUIRED; i++) {
		if (values[i] && *values[i])
			continue;
		int w = snprintf(buf + used, size > used ? size - used : 0, "%s%s", n ? ", " : "", RECTIFY_REQUIRED[i]);
		if (w > 0 && used + (size_t)w < size)
			used += (size_t)w;
		else if (used < size)
			buf[used] = '\0'; /* cut whole names, never half of one */
		n++;
	}
	return n;
}

const char *rectify_state(const char *status, int64_t due_at, int64_t now)
{
	if (rectify_overdue(status, due_at, now))
		return "overdue";
	return is(status, "checked") || is(status, "closed") ? status : "open";
}
