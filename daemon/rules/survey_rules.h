/* survey_rules.h — satisfaction surveys and the satisfaction index
 * (docs/customers.md, "Satisfaction"): when a survey of an account is due
 * (by tier, and after an incident), what a valid score is, and the index
 * from surveys and complaint close scores. Pure functions, no store. */
#ifndef PD_SURVEY_RULES_H
#define PD_SURVEY_RULES_H

#include <stdbool.h>
#include <stdint.h>

/* Scores of a survey, as of a complaint's close: 1 (very unhappy) to 5. */
#define SURVEY_SCORE_MIN 1
#define SURVEY_SCORE_MAX 5

/* Days between periodic surveys by tier (0: none) and after an incident. */
struct survey_plan {
	int64_t key_days;
	int64_t local_major_days;
	int64_t medium_days;
	int64_t after_incident_days;
};

bool survey_score_valid(int64_t score);

/* Days the plan of `tier` puts between two periodic surveys, 0: none. */
int64_t survey_plan_days(const struct survey_plan *p, const char *tier);

/* When the next periodic survey is due after one answered at `last_at`
 * (UTC), 0 when the tier has none. */
int64_t survey_next_periodic(const struct survey_plan *p, const char *tier, int64_t last_at);

/* When a survey is due after an incident closed or paid at `at`. */
int64_t survey_after_incident(const struct survey_plan *p, int64_t at);

/* A survey not answered is overdue from the first second past its due time
 * (0: none). */
bool survey_overdue(int64_t due_at, bool answered, int64_t now);

/* The readings of a scope and month: surveys (their overall scores) and
 * complaint close scores. */
struct satisfaction_in {
	int64_t surveys, survey_points;
	int64_t complaints, complaint_points;
};

/* Each source's average and the index (their readings together), in
 * hundredths of a point (425: 4.25), 0 with no readings; index_points and
 * index_max are the KPI's numerator and denominator (points against the
 * top score of every reading). */
struct satisfaction_index {
	int64_t survey_avg_c, complaint_avg_c, index_c;
	int64_t readings, index_points, index_max;
};

void satisfaction_index(const struct satisfaction_in *in, struct satisfaction_index *out);

#endif
