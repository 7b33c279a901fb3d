/* survey_rules.c — survey due times and the satisfaction index (see
 * survey_rules.h). */
#include <stddef.h>
#include <string.h>

#include "survey_rules.h"

#define DAY_SECS 86400

bool survey_score_valid(int64_t score)
{
	return score >= SURVEY_SCORE_MIN && score <= SURVEY_SCORE_MAX;
}

int64_t survey_plan_days(const struct survey_plan *p, const char *tier)
{
	if (!tier)
		return 0;
	if (strcmp(tier, "key") == 0)
		return p->key_days;
	if (strcmp(tier, "local_major") == 0)
		return p->local_major_days;
	if (strcmp(tier, "medium_monthly") == 0)
		return p->medium_days;
	return 0;
}

int64_t survey_next_periodic(const struct survey_plan *p, const char *tier, int64_t last_at)
{
	int64_t days = survey_plan_days(p, tier);
	return days > 0 && last_at > 0 ? last_at + days * DAY_SECS : 0;
}

int64_t survey_after_incident(const struct survey_plan *p, int64_t at)
{
	return at + p->after_incident_days * DAY_SECS;
}

bool survey_overdue(int64_t due_at, bool answered, int64_t now)
{
	return !answered && due_at > 0 && now > due_at;
}

/* hundredths of a point, rounded half up */
static int64_t avg_c(int64_t points, int64_t n)
{
	return n > 0 ? (points * 100 + n / 2) / n : 0;
}

void satisfaction_index(const struct satisfaction_in *in, struct satisfaction_index *out)
{
	int64_t surveys = in->surveys > 0 ? in->surveys : 0;
	int64_t complaints = in->complaints > 0 ? in->complaints : 0;
	out->survey_avg_c = avg_c(in->survey_points, surveys);
	out->complaint_avg_c = avg_c(in->complaint_points, complaints);
	out->readings = surveys + complaints;
	out->index_points = (surveys ? in->survey_points : 0) + (complaints ? in->complaint_points : 0);
	out->index_c = avg_c(out->index_points, out->readings);
	out->index_max = out->readings * SURVEY_SCORE_MAX;
}
