/*
 * Unit tests for daemon/rules/complaint_rules.c: one test per complaint
 * rule and each choice documented in docs/sla.md.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* timegm */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "bizcal.h"
#include "complaint_rules.h"

#define HOUR COMPLAINT_HOUR_SECS
#define DAY COMPLAINT_DAY_SECS

static int64_t utc(int year, int month, int day, int hour, int minute)
{
	struct tm tm = {0};
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	return (int64_t)timegm(&tm);
}

static struct complaint_config defaults(void)
{
	struct complaint_config config;
	complaint_config_defaults(&config);
	return config;
}

static struct complaint_due due_times(const struct complaint_config *config, int64_t opened_at,
				      enum complaint_channel channel, enum complaint_category category,
				      enum service_level service_level, int64_t regulator_deadline)
{
	struct complaint_due due;
	assert_int_equal(complaint_due_times(config, opened_at, channel, category, service_level, regulator_deadline, &due),
	                 COMPLAINT_OK);
	return due;
}

/* ---- wire names ---- */

static void test_wire_names_round_trip(void **state)
{
	(void)state;
	static const char *const channels[] = {"phone", "online", "walk_in", "regulator", "consumer_association",
	                                       "market_regulator", "media"};
	for (int i = 0; i < COMPLAINT_CHANNEL_COUNT; i++) {
		enum complaint_channel parsed;
		assert_string_equal(complaint_channel_name((enum complaint_channel)i), channels[i]);
		assert_int_equal(complaint_channel_parse(channels[i], &parsed), COMPLAINT_OK);
		assert_int_equal(parsed, i);
	}
	static const char *const categories[] = {"delay", "loss", "damage", "content_mismatch", "not_delivered_to_door",
	                                         "refused_inspection", "wrong_signature", "no_consent_drop", "attitude",
	                                         "charges", "other"};
	for (int i = 0; i < COMPLAINT_CATEGORY_COUNT; i++) {
		enum complaint_category parsed;
		assert_string_equal(complaint_category_name((enum complaint_category)i), categories[i]);
		assert_int_equal(complaint_category_parse(categories[i], &parsed), COMPLAINT_OK);
		assert_int_equal(parsed, i);
	}
	static const char *const levels[] = {"handler", "supervisor", "manager"};
	for (int i = 0; i < COMPLAINT_LEVEL_COUNT; i++) {
		enum complaint_level parsed;
		assert_string_equal(complaint_level_name((enum complaint_level)i), levels[i]);
		assert_int_equal(complaint_level_parse(levels[i], &parsed), COMPLAINT_OK);
		assert_int_equal(parsed, i);
	}
	static const char *const triggers[] = {"manual", "over_authority", "media_or_regulator", "several_departments",
	                                       "customer_refused", "overdue", "media"};
	for (int i = 0; i < COMPLAINT_TRIGGER_COUNT; i++) {
		enum complaint_trigger parsed;
		assert_string_equal(complaint_trigger_name((enum complaint_trigger)i), triggers[i]);
		assert_int_equal(complaint_trigger_parse(triggers[i], &parsed), COMPLAINT_OK);
		assert_int_equal(parsed, i);
	}
	static const char *const stages[] = {"pickup", "sorting", "line_haul", "subcarrier_handover", "delivery",
	                                     "customer_service"};
	for (int i = 0; i < COMPLAINT_STAGE_COUNT; i++) {
		enum complaint_stage parsed;
		assert_string_equal(complaint_stage_name((enum complaint_stage)i), stages[i]);
		assert_int_equal(complaint_stage_parse(stages[i], &parsed), COMPLAINT_OK);
		assert_int_equal(parsed, i);
	}
	static const char *const statuses[] = {"open", "acknowledged", "proposed", "accepted", "refused", "escalated",
	                                       "external_review", "closed"};
	for (int i = 0; i < COMPLAINT_STATUS_COUNT; i++) {
		enum complaint_status parsed;
		assert_string_equal(complaint_status_name((enum complaint_status)i), statuses[i]);
		assert_int_equal(complaint_status_parse(statuses[i], &parsed), COMPLAINT_OK);
		assert_int_equal(parsed, i);
	}
}

static void test_wire_names_are_strict(void **state)
{
	(void)state;
	enum complaint_channel channel = COMPLAINT_CHANNEL_MEDIA;
	assert_int_equal(complaint_channel_parse("walk-in", &channel), COMPLAINT_EUNKNOWN);
	assert_int_equal(complaint_channel_parse("Phone", &channel), COMPLAINT_EUNKNOWN);
	assert_int_equal(complaint_channel_parse("phone ", &channel), COMPLAINT_EUNKNOWN);
	assert_int_equal(complaint_channel_parse("", &channel), COMPLAINT_EUNKNOWN);
	assert_int_equal(channel, COMPLAINT_CHANNEL_MEDIA);
	assert_int_equal(complaint_channel_parse(NULL, &channel), COMPLAINT_EINVAL);
	assert_int_equal(complaint_channel_parse("phone", NULL), COMPLAINT_EINVAL);
	enum complaint_status status;
	assert_int_equal(complaint_status_parse("refused?", &status), COMPLAINT_EUNKNOWN);
	assert_null(complaint_channel_name(COMPLAINT_CHANNEL_COUNT));
	assert_null(complaint_category_name((enum complaint_category)-1));
	assert_null(complaint_level_name(COMPLAINT_LEVEL_COUNT));
	assert_null(complaint_trigger_name(COMPLAINT_TRIGGER_COUNT));
	assert_null(complaint_stage_name(COMPLAINT_STAGE_COUNT));
	assert_null(complaint_status_name(COMPLAINT_STATUS_COUNT));
}

static void test_triggers_format(void **state)
{
	(void)state;
	char text[128];
	assert_int_equal(complaint_triggers_format(0, text, sizeof text), 0);
	assert_string_equal(text, "");
	uint32_t mask = COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_OVERDUE) | COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_MANUAL);
	assert_int_equal(complaint_triggers_format(mask, text, sizeof text), 14);
	assert_string_equal(text, "manual,overdue");
	uint32_t all = (UINT32_C(1) << COMPLAINT_TRIGGER_COUNT) - 1;
	assert_true(complaint_triggers_format(all, text, sizeof text) > 0);
	assert_string_equal(text,
	                    "manual,over_authority,media_or_regulator,several_departments,customer_refused,overdue,media");
	assert_int_equal(complaint_triggers_format(mask, text, 14), COMPLAINT_ENOSPC);
	assert_string_equal(text, "");
	assert_int_equal(complaint_triggers_format(mask, text, 15), 14);
	assert_int_equal(complaint_triggers_format(UINT32_C(1) << COMPLAINT_TRIGGER_COUNT, text, sizeof text),
	                 COMPLAINT_EINVAL);
	assert_int_equal(complaint_triggers_format(mask, NULL, 10), COMPLAINT_EINVAL);
}

/* ---- configuration ---- */

static void test_defaults(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	assert_int_equal(config.acknowledge_secs, 24 * HOUR);
	assert_int_equal(config.resolve_secs, 7 * DAY);
	assert_int_equal(config.regulator_reply_secs, 7 * DAY);
	assert_int_equal(config.max_open_secs, 30 * DAY);
	assert_int_equal(config.escalated_resolve_secs, 7 * DAY);
	assert_int_equal(config.service_level_percent[SERVICE_BASIC], 100);
	assert_int_equal(config.service_level_percent[SERVICE_VALUE_ADDED], 90);
	assert_int_equal(config.service_level_percent[SERVICE_EXCLUSIVE], 75);
	assert_int_equal(config.service_level_percent[SERVICE_CUSTOMISED], 50);
	assert_int_equal(complaint_authority_limit(&config, COMPLAINT_LEVEL_HANDLER), 100000);
	assert_int_equal(complaint_authority_limit(&config, COMPLAINT_LEVEL_SUPERVISOR), 1000000);
	assert_int_equal(complaint_authority_limit(&config, COMPLAINT_LEVEL_MANAGER), COMPLAINT_AUTHORITY_UNLIMITED_FEN);
	assert_int_equal(complaint_authority_limit(&config, COMPLAINT_LEVEL_COUNT), -1);
	const char *problem = "x";
	assert_int_equal(complaint_config_validate(&config, &problem), COMPLAINT_OK);
	assert_null(problem);
}

static void expect_bad_config(const struct complaint_config *config, const char *fragment)
{
	const char *problem = NULL;
	assert_int_equal(complaint_config_validate(config, &problem), COMPLAINT_ECONFIG);
	assert_non_null(problem);
	if (strstr(problem, fragment) == NULL)
		fail_msg("problem \"%s\" does not name \"%s\"", problem, fragment);
	struct complaint_due due;
	assert_int_equal(complaint_due_times(config, utc(2026, 3, 6, 0, 0), COMPLAINT_CHANNEL_PHONE,
	                                     COMPLAINT_CATEGORY_DELAY, SERVICE_BASIC, COMPLAINT_NO_DEADLINE, &due),
	                 COMPLAINT_ECONFIG);
}

static void test_bad_configs_refused(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	config.acknowledge_secs = 0;
	expect_bad_config(&config, "acknowledge_secs");
	config = defaults();
	config.acknowledge_secs = 8 * DAY;
	expect_bad_config(&config, "acknowledge_secs exceeds resolve_secs");
	config = defaults();
	config.resolve_secs = 31 * DAY;
	expect_bad_config(&config, "resolve_secs exceeds max_open_secs");
	config = defaults();
	config.max_open_secs = 400 * DAY;
	expect_bad_config(&config, "max_open_secs");
	config = defaults();
	config.escalated_resolve_secs = 31 * DAY;
	expect_bad_config(&config, "escalated_resolve_secs");
	config = defaults();
	config.regulator_reply_secs = -1;
	expect_bad_config(&config, "regulator_reply_secs");
	config = defaults();
	config.category_resolve_secs[COMPLAINT_CATEGORY_LOSS] = 31 * DAY;
	expect_bad_config(&config, "category_resolve_secs");
	config = defaults();
	config.service_level_percent[SERVICE_CUSTOMISED] = 0;
	expect_bad_config(&config, "1..100");
	config = defaults();
	config.service_level_percent[SERVICE_BASIC] = 101;
	expect_bad_config(&config, "1..100");
	config = defaults();
	config.service_level_percent[SERVICE_EXCLUSIVE] = 95;
	expect_bad_config(&config, "must not grow");
	config = defaults();
	config.regulator_deadline_channels = UINT32_C(1) << COMPLAINT_CHANNEL_COUNT;
	expect_bad_config(&config, "regulator_deadline_channels");
	config = defaults();
	config.media_or_regulator_channels = UINT32_C(1) << 31;
	expect_bad_config(&config, "media_or_regulator_channels");
	config = defaults();
	config.media_channels = UINT32_C(1) << COMPLAINT_CHANNEL_COUNT;
	expect_bad_config(&config, "media_channels");
	config = defaults();
	config.trigger_level[COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR] = COMPLAINT_LEVEL_COUNT;
	expect_bad_config(&config, "trigger_level");
	config = defaults();
	/* a persistent trigger needs a level: "next" would climb at every check */
	config.trigger_level[COMPLAINT_TRIGGER_SEVERAL_DEPARTMENTS] = COMPLAINT_LEVEL_NEXT;
	expect_bad_config(&config, "trigger_level");
	config = defaults();
	config.trigger_level[COMPLAINT_TRIGGER_OVERDUE] = COMPLAINT_LEVEL_HANDLER;
	expect_bad_config(&config, "trigger_level");
	config = defaults();
	config.authority_limit_fen[COMPLAINT_LEVEL_SUPERVISOR] = 50000;
	expect_bad_config(&config, "must not fall");
	config = defaults();
	config.authority_limit_fen[COMPLAINT_LEVEL_HANDLER] = -1;
	expect_bad_config(&config, "negative");
	assert_int_equal(complaint_config_validate(NULL, NULL), COMPLAINT_ECONFIG);
}

/* ---- due times ---- */

static void test_basic_due_times(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	int64_t opened = utc(2026, 3, 6, 9, 41);
	struct complaint_due due = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.acknowledge_by, opened + 24 * HOUR);
	assert_int_equal(due.resolve_by, opened + 7 * DAY);
	assert_int_equal(due.regulator_reply_by, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.close_by, opened + 30 * DAY);
	/* Every category has the same default period. */
	for (int category = 0; category < COMPLAINT_CATEGORY_COUNT; category++) {
		struct complaint_due other = due_times(&config, opened, COMPLAINT_CHANNEL_ONLINE,
		                                       (enum complaint_category)category, SERVICE_BASIC,
		                                       COMPLAINT_NO_DEADLINE);
		assert_int_equal(other.resolve_by, due.resolve_by);
	}
}

static void test_service_levels_shorten_times(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	int64_t opened = utc(2026, 3, 6, 9, 0);
	struct complaint_due value_added = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                                             SERVICE_VALUE_ADDED, COMPLAINT_NO_DEADLINE);
	assert_int_equal(value_added.acknowledge_by, opened + 24 * HOUR * 9 / 10);
	assert_int_equal(value_added.resolve_by, opened + 7 * DAY * 9 / 10);
	assert_int_equal(value_added.close_by, opened + 27 * DAY);
	struct complaint_due exclusive = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                                           SERVICE_EXCLUSIVE, COMPLAINT_NO_DEADLINE);
	assert_int_equal(exclusive.acknowledge_by, opened + 18 * HOUR);
	assert_int_equal(exclusive.resolve_by, opened + 126 * HOUR);
	/* Key accounts (customised) get half of every time. */
	struct complaint_due customised = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                                            SERVICE_CUSTOMISED, COMPLAINT_NO_DEADLINE);
	assert_int_equal(customised.acknowledge_by, opened + 12 * HOUR);
	assert_int_equal(customised.resolve_by, opened + 84 * HOUR);
	assert_int_equal(customised.close_by, opened + 15 * DAY);
	/* The percent is configurable; an odd period rounds down to the second. */
	config.acknowledge_secs = 3;
	config.service_level_percent[SERVICE_CUSTOMISED] = 50;
	customised = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                       SERVICE_CUSTOMISED, COMPLAINT_NO_DEADLINE);
	assert_int_equal(customised.acknowledge_by, opened + 1);
	config = defaults();
	config.service_level_percent[SERVICE_VALUE_ADDED] = 100;
	value_added = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                        SERVICE_VALUE_ADDED, COMPLAINT_NO_DEADLINE);
	assert_int_equal(value_added.resolve_by, opened + 7 * DAY);
}

static void test_regulator_channel_resolves_by_regulator_deadline(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	int64_t opened = utc(2026, 3, 6, 9, 0);
	struct complaint_due due = due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_DAMAGE,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.regulator_reply_by, opened + 7 * DAY);
	assert_int_equal(due.resolve_by, opened + 7 * DAY);
	/* A shorter regulator period wins over the resolve period. */
	config.regulator_reply_secs = 5 * DAY;
	due = due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_DAMAGE, SERVICE_BASIC,
	                COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.resolve_by, opened + 5 * DAY);
	assert_int_equal(due.acknowledge_by, opened + 24 * HOUR);
	/* A deadline stated in the regulator's letter is taken as is. */
	int64_t stated = opened + 3 * DAY + 7 * HOUR;
	due = due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_DAMAGE,
	                SERVICE_CUSTOMISED, stated);
	assert_int_equal(due.regulator_reply_by, stated);
	assert_int_equal(due.resolve_by, stated);
	/* A stated deadline later than our own resolve period does not extend it. */
	due = due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_DAMAGE, SERVICE_BASIC,
	                opened + 20 * DAY);
	assert_int_equal(due.resolve_by, opened + 7 * DAY);
	/* Other outside bodies have no default deadline, but a stated one counts. */
	due = due_times(&config, opened, COMPLAINT_CHANNEL_CONSUMER_ASSOCIATION, COMPLAINT_CATEGORY_DAMAGE,
	                SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.regulator_reply_by, COMPLAINT_NO_DEADLINE);
	due = due_times(&config, opened, COMPLAINT_CHANNEL_MARKET_REGULATOR, COMPLAINT_CATEGORY_DAMAGE,
	                SERVICE_BASIC, opened + 2 * DAY);
	assert_int_equal(due.resolve_by, opened + 2 * DAY);
	/* Deadline already passed at registration: overdue at once, acknowledge no later. */
	due = due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_DAMAGE, SERVICE_BASIC,
	                opened - HOUR);
	assert_int_equal(due.resolve_by, opened - HOUR);
	assert_int_equal(due.acknowledge_by, opened - HOUR);
}

static void test_outside_limits_shortening_is_configurable(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	int64_t opened = utc(2026, 3, 6, 9, 0);
	struct complaint_due due = due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_CUSTOMISED, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.regulator_reply_by, opened + 84 * HOUR);
	assert_int_equal(due.close_by, opened + 15 * DAY);
	config.shorten_outside_limits = false;
	due = due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_DELAY,
	                SERVICE_CUSTOMISED, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.regulator_reply_by, opened + 7 * DAY);
	assert_int_equal(due.close_by, opened + 30 * DAY);
	assert_int_equal(due.resolve_by, opened + 84 * HOUR);
}

static void test_category_override_and_ceiling(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	int64_t opened = utc(2026, 3, 6, 9, 0);
	config.category_resolve_secs[COMPLAINT_CATEGORY_LOSS] = 14 * DAY;
	config.category_resolve_secs[COMPLAINT_CATEGORY_ATTITUDE] = 2 * DAY;
	/* The law's 7 calendar days bind a 14-day category. */
	assert_int_equal(due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                           SERVICE_BASIC, COMPLAINT_NO_DEADLINE).resolve_by, opened + 7 * DAY);
	assert_int_equal(due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_ATTITUDE,
	                           SERVICE_BASIC, COMPLAINT_NO_DEADLINE).resolve_by, opened + 2 * DAY);
	/* The regulator's 7 days still bind a 14-day category. */
	assert_int_equal(due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_LOSS,
	                           SERVICE_BASIC, COMPLAINT_NO_DEADLINE).resolve_by, opened + 7 * DAY);
	/* With a longer legal ceiling configured, the category gets its 14 days. */
	config.legal_max_secs = 30 * DAY;
	assert_int_equal(due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                           SERVICE_BASIC, COMPLAINT_NO_DEADLINE).resolve_by, opened + 14 * DAY);
	/* A category may use the whole ceiling; resolve_by then coincides with close_by. */
	config.category_resolve_secs[COMPLAINT_CATEGORY_LOSS] = 30 * DAY;
	struct complaint_due due = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                                     SERVICE_CUSTOMISED, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.resolve_by, opened + 15 * DAY);
	assert_int_equal(due.resolve_by, due.close_by);
}

static void test_due_times_cross_month_year_and_leap_day(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	/* Calendar days in UTC: a complaint at 16:00Z is 00:00 next day at +08:00, the due is still 7 x 24 h. */
	struct complaint_due due = due_times(&config, utc(2026, 1, 28, 16, 0), COMPLAINT_CHANNEL_PHONE,
	                                     COMPLAINT_CATEGORY_DELAY, SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.resolve_by, utc(2026, 2, 4, 16, 0));
	due = due_times(&config, utc(2026, 12, 28, 10, 30), COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.acknowledge_by, utc(2026, 12, 29, 10, 30));
	assert_int_equal(due.resolve_by, utc(2027, 1, 4, 10, 30));
	assert_int_equal(due.close_by, utc(2027, 1, 27, 10, 30));
	due = due_times(&config, utc(2028, 2, 28, 12, 0), COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.acknowledge_by, utc(2028, 2, 29, 12, 0));
	assert_int_equal(due.resolve_by, utc(2028, 3, 6, 12, 0));
	due = due_times(&config, utc(2027, 2, 28, 12, 0), COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.acknowledge_by, utc(2027, 3, 1, 12, 0));
}

static void test_due_times_reject_bad_arguments(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	struct complaint_due due;
	int64_t opened = utc(2026, 3, 6, 9, 0);
	assert_int_equal(complaint_due_times(&config, -1, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE, &due), COMPLAINT_ERANGE);
	assert_int_equal(complaint_due_times(&config, COMPLAINT_MAX_UTC + 1, COMPLAINT_CHANNEL_PHONE,
	                                     COMPLAINT_CATEGORY_DELAY, SERVICE_BASIC, COMPLAINT_NO_DEADLINE, &due),
	                 COMPLAINT_ERANGE);
	assert_int_equal(complaint_due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_BASIC, INT64_MAX, &due), COMPLAINT_ERANGE);
	assert_int_equal(complaint_due_times(&config, opened, COMPLAINT_CHANNEL_COUNT, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE, &due), COMPLAINT_EINVAL);
	assert_int_equal(complaint_due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_COUNT,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE, &due), COMPLAINT_EINVAL);
	assert_int_equal(complaint_due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_LEVEL_COUNT, COMPLAINT_NO_DEADLINE, &due), COMPLAINT_EINVAL);
	assert_int_equal(complaint_due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE, NULL), COMPLAINT_EINVAL);
	/* The latest supported instant still adds 30 days without overflow. */
	assert_int_equal(complaint_due_times(&config, COMPLAINT_MAX_UTC, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE, &due), COMPLAINT_OK);
	assert_int_equal(due.close_by, COMPLAINT_MAX_UTC + 30 * DAY);
}

static void test_due_after_escalation(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	int64_t opened = utc(2026, 3, 6, 9, 0);
	struct complaint_due due = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_LOSS,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	struct complaint_due after;
	/* Refused on day 5: the supervisor has what is left of the law's 7 days. */
	int64_t escalated = opened + 5 * DAY;
	assert_int_equal(complaint_due_after_escalation(&config, &due, SERVICE_BASIC, escalated, &after),
	                 COMPLAINT_OK);
	assert_int_equal(after.resolve_by, opened + 7 * DAY);
	assert_int_equal(after.legal_by, opened + 7 * DAY);
	/* Refused on day 1: 7 days from the escalation would be day 8; the ceiling is day 7. */
	assert_int_equal(complaint_due_after_escalation(&config, &due, SERVICE_BASIC, opened + DAY, &after),
	                 COMPLAINT_OK);
	assert_int_equal(after.resolve_by, opened + 7 * DAY);
	/* Without a legal ceiling (a record stored before it existed, legal_by 0): 7 days from the escalation. */
	due.legal_by = COMPLAINT_NO_DEADLINE;
	assert_int_equal(complaint_due_after_escalation(&config, &due, SERVICE_BASIC, escalated, &after),
	                 COMPLAINT_OK);
	assert_int_equal(after.resolve_by, escalated + 7 * DAY);
	assert_int_equal(after.acknowledge_by, due.acknowledge_by);
	assert_int_equal(after.close_by, due.close_by);
	/* Key account: half. */
	assert_int_equal(complaint_due_after_escalation(&config, &due, SERVICE_CUSTOMISED, escalated, &after),
	                 COMPLAINT_OK);
	assert_int_equal(after.resolve_by, escalated + 84 * HOUR);
	/* Late in the life of the complaint: capped by the 30-day ceiling. */
	escalated = opened + 27 * DAY;
	assert_int_equal(complaint_due_after_escalation(&config, &due, SERVICE_BASIC, escalated, &after),
	                 COMPLAINT_OK);
	assert_int_equal(after.resolve_by, opened + 30 * DAY);
	/* A regulator complaint keeps the regulator's deadline. */
	due = due_times(&config, opened, COMPLAINT_CHANNEL_REGULATOR, COMPLAINT_CATEGORY_LOSS, SERVICE_BASIC,
	                COMPLAINT_NO_DEADLINE);
	assert_int_equal(complaint_due_after_escalation(&config, &due, SERVICE_BASIC, opened + HOUR, &after),
	                 COMPLAINT_OK);
	assert_int_equal(after.resolve_by, opened + 7 * DAY);
	assert_int_equal(complaint_due_after_escalation(&config, NULL, SERVICE_BASIC, opened, &after),
	                 COMPLAINT_EINVAL);
	assert_int_equal(complaint_due_after_escalation(&config, &due, SERVICE_BASIC, -5, &after),
	                 COMPLAINT_ERANGE);
}

/*
 * The law's 7 calendar days over a business calendar: a phone complaint
 * opened at 17:00 (+08:00) on Wednesday 2026-09-30, the last working day
 * before the National Day week (holidays 1-7 October, Saturday 10 October
 * a make-up working day).  Five working days of 8 hours end on Tuesday
 * 13 October at 17:00, 13 days later; the legal ceiling brings resolve-by
 * back to 7 October 17:00, with and without a pause.
 */
static void test_legal_ceiling_across_national_day(void **state)
{
	(void)state;
	static const int32_t holidays[] = { 20261001, 20261002, 20261003, 20261004, 20261005, 20261006, 20261007 };
	struct bizcal_makeup_day makeup = { .date = 20261010 };
	assert_int_equal(bizcal_parse_day("09:00-12:00,13:00-18:00", &makeup.hours), BIZCAL_OK);
	struct bizcal cal = { .utc_offset_secs = 8 * 3600, .holidays = holidays,
	                      .holiday_count = sizeof holidays / sizeof holidays[0],
	                      .makeup_days = &makeup, .makeup_day_count = 1 };
	for (int day = BIZCAL_MONDAY; day <= BIZCAL_FRIDAY; day++)
		cal.week[day] = makeup.hours;
	assert_int_equal(bizcal_validate(&cal, NULL, 0), BIZCAL_OK);

	struct complaint_config config = defaults();
	int64_t opened = utc(2026, 9, 30, 9, 0); /* 17:00 in Beijing */
	struct complaint_due due = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                                     SERVICE_BASIC, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.legal_by, utc(2026, 10, 7, 9, 0));
	int64_t business;
	assert_int_equal(bizcal_add_minutes(&cal, opened, 5 * 8 * 60, &business), BIZCAL_OK);
	assert_int_equal(business, utc(2026, 10, 13, 9, 0));
	assert_int_equal(complaint_resolve_cap(&due, business), utc(2026, 10, 7, 9, 0));
	/* One second before the ceiling is kept as is: the cap only makes a due time earlier. */
	assert_int_equal(complaint_resolve_cap(&due, due.legal_by - 1), due.legal_by - 1);

	/* Waiting for the customer from 17:30 to the first working morning
	 * (8 October 09:00) pushes the business due by half an hour: still
	 * capped at the 7th. */
	struct bizcal_span pause = { .from_utc = opened + 1800, .to_utc = utc(2026, 10, 8, 1, 0) };
	int64_t paused_due;
	assert_int_equal(bizcal_add_minutes_paused(&cal, opened, 5 * 8 * 60, &pause, 1, &paused_due), BIZCAL_OK);
	assert_int_equal(paused_due, utc(2026, 10, 13, 9, 30));
	assert_int_equal(complaint_resolve_cap(&due, paused_due), due.legal_by);
	/* A calendar-time resume (resolve-by moved by the paused span) is capped alike. */
	assert_int_equal(complaint_resolve_cap(&due, due.resolve_by + (pause.to_utc - pause.from_utc)), due.legal_by);

	/* A regulator deadline before the ceiling still wins; the 30-day ceiling never does. */
	due.regulator_reply_by = utc(2026, 10, 5, 9, 0);
	assert_int_equal(complaint_resolve_cap(&due, business), due.regulator_reply_by);
	/* The ceiling is not scaled by the service level: the law gives everyone 7 days. */
	due = due_times(&config, opened, COMPLAINT_CHANNEL_PHONE, COMPLAINT_CATEGORY_DELAY,
	                SERVICE_CUSTOMISED, COMPLAINT_NO_DEADLINE);
	assert_int_equal(due.legal_by, opened + 7 * DAY);
	assert_int_equal(due.resolve_by, opened + 84 * HOUR);
	/* And a bad ceiling is a config error. */
	config.legal_max_secs = 0;
	assert_int_equal(complaint_config_validate(&config, NULL), COMPLAINT_ECONFIG);
}

/* ---- escalation ---- */

static struct complaint_facts quiet_facts(void)
{
	struct complaint_facts facts;
	memset(&facts, 0, sizeof facts);
	facts.status = COMPLAINT_STATUS_ACKNOWLEDGED;
	facts.level = COMPLAINT_LEVEL_HANDLER;
	facts.channel = COMPLAINT_CHANNEL_PHONE;
	facts.owner_authority_fen = COMPLAINT_AUTHORITY_OF_LEVEL;
	facts.now = utc(2026, 3, 7, 9, 0);
	facts.resolve_by = utc(2026, 3, 13, 9, 0);
	return facts;
}

static struct complaint_escalation check(const struct complaint_facts *facts)
{
	struct complaint_config config = defaults();
	struct complaint_escalation result;
	assert_int_equal(complaint_escalation_check(&config, facts, &result), COMPLAINT_OK);
	return result;
}

static void expect_only(const struct complaint_facts *facts, enum complaint_trigger trigger)
{
	struct complaint_escalation result = check(facts);
	assert_int_equal(result.triggers, COMPLAINT_TRIGGER_BIT(trigger));
	assert_true(result.can_escalate);
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_SUPERVISOR);
}

static void test_no_trigger_no_escalation(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	struct complaint_escalation result = check(&facts);
	assert_int_equal(result.triggers, 0);
	assert_false(result.can_escalate);
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_SUPERVISOR);
}

static void test_trigger_manual(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.manual_request = true;
	expect_only(&facts, COMPLAINT_TRIGGER_MANUAL);
}

static void test_trigger_over_authority(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.status = COMPLAINT_STATUS_PROPOSED;
	facts.proposed_amount_fen = 100000; /* exactly the handler's 1,000 yuan: within authority */
	assert_int_equal(check(&facts).triggers, 0);
	facts.proposed_amount_fen = 100001;
	expect_only(&facts, COMPLAINT_TRIGGER_OVER_AUTHORITY);
	/* The owner's own limit replaces the level's. */
	facts.owner_authority_fen = 200000;
	assert_int_equal(check(&facts).triggers, 0);
	facts.owner_authority_fen = 0;
	facts.proposed_amount_fen = 1;
	expect_only(&facts, COMPLAINT_TRIGGER_OVER_AUTHORITY);
}

static void test_authority_of_each_level(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.status = COMPLAINT_STATUS_ESCALATED;
	facts.level = COMPLAINT_LEVEL_SUPERVISOR;
	facts.proposed_amount_fen = 1000000;
	assert_int_equal(check(&facts).triggers, 0);
	facts.proposed_amount_fen = 1000001;
	struct complaint_escalation result = check(&facts);
	assert_int_equal(result.triggers, COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_OVER_AUTHORITY));
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_MANAGER);
	assert_true(result.can_escalate);
	facts.level = COMPLAINT_LEVEL_MANAGER;
	facts.proposed_amount_fen = INT64_MAX;
	assert_int_equal(check(&facts).triggers, 0);
}

static void test_trigger_media_or_regulator(void **state)
{
	(void)state;
	static const enum complaint_channel outside[] = {COMPLAINT_CHANNEL_REGULATOR,
	                                                 COMPLAINT_CHANNEL_CONSUMER_ASSOCIATION,
	                                                 COMPLAINT_CHANNEL_MARKET_REGULATOR};
	struct complaint_facts facts = quiet_facts();
	facts.status = COMPLAINT_STATUS_OPEN;
	for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
		facts.channel = outside[i];
		expect_only(&facts, COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR);
		assert_int_equal(check(&facts).target_level, COMPLAINT_LEVEL_SUPERVISOR);
	}
	static const enum complaint_channel direct[] = {COMPLAINT_CHANNEL_PHONE, COMPLAINT_CHANNEL_ONLINE,
	                                                COMPLAINT_CHANNEL_WALK_IN};
	for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
		facts.channel = direct[i];
		assert_int_equal(check(&facts).triggers, 0);
	}
	/* Once at supervisor level the trigger is satisfied: checking again does not climb further. */
	facts.channel = COMPLAINT_CHANNEL_REGULATOR;
	facts.level = COMPLAINT_LEVEL_SUPERVISOR;
	facts.status = COMPLAINT_STATUS_ESCALATED;
	assert_int_equal(check(&facts).triggers, 0);
	/* Configured to need a manager, it fires at supervisor too. */
	struct complaint_config config = defaults();
	config.trigger_level[COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR] = COMPLAINT_LEVEL_MANAGER;
	struct complaint_escalation result;
	assert_int_equal(complaint_escalation_check(&config, &facts, &result), COMPLAINT_OK);
	assert_int_equal(result.triggers, COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR));
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_MANAGER);
}

/* The media go to the top at once: handler -> manager in one step. */
static void test_trigger_media_goes_to_the_top(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.status = COMPLAINT_STATUS_OPEN;
	facts.channel = COMPLAINT_CHANNEL_MEDIA;
	struct complaint_escalation result = check(&facts);
	assert_int_equal(result.triggers, COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_MEDIA));
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_MANAGER);
	assert_true(result.can_escalate);
	/* A threat of the media on a phone complaint, already with a supervisor: still to the manager. */
	facts.channel = COMPLAINT_CHANNEL_PHONE;
	facts.media_or_legal_threat = true;
	facts.level = COMPLAINT_LEVEL_SUPERVISOR;
	facts.status = COMPLAINT_STATUS_ESCALATED;
	result = check(&facts);
	assert_int_equal(result.triggers, COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_MEDIA));
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_MANAGER);
	/* At the manager: satisfied. */
	facts.level = COMPLAINT_LEVEL_MANAGER;
	assert_int_equal(check(&facts).triggers, 0);
	/* The level is an option: a depot that sends the media to a supervisor. */
	struct complaint_config config = defaults();
	config.trigger_level[COMPLAINT_TRIGGER_MEDIA] = COMPLAINT_LEVEL_SUPERVISOR;
	facts.level = COMPLAINT_LEVEL_HANDLER;
	facts.status = COMPLAINT_STATUS_OPEN;
	assert_int_equal(complaint_escalation_check(&config, &facts, &result), COMPLAINT_OK);
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_SUPERVISOR);
	/* With a manual request too, the higher of the two levels wins. */
	facts.manual_request = true;
	config.trigger_level[COMPLAINT_TRIGGER_MANUAL] = COMPLAINT_LEVEL_MANAGER;
	assert_int_equal(complaint_escalation_check(&config, &facts, &result), COMPLAINT_OK);
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_MANAGER);
}

static void test_trigger_several_departments(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.several_departments = true;
	expect_only(&facts, COMPLAINT_TRIGGER_SEVERAL_DEPARTMENTS);
	facts.level = COMPLAINT_LEVEL_SUPERVISOR;
	assert_int_equal(check(&facts).triggers, 0);
}

static void test_trigger_customer_refused(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.status = COMPLAINT_STATUS_REFUSED;
	facts.customer_refused = true;
	expect_only(&facts, COMPLAINT_TRIGGER_CUSTOMER_REFUSED);
	/* At supervisor level a refusal climbs once more. */
	facts.level = COMPLAINT_LEVEL_SUPERVISOR;
	struct complaint_escalation result = check(&facts);
	assert_int_equal(result.triggers, COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_CUSTOMER_REFUSED));
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_MANAGER);
}

static void test_trigger_overdue(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.now = facts.resolve_by; /* the due instant itself is still on time */
	assert_int_equal(check(&facts).triggers, 0);
	facts.now = facts.resolve_by + 1;
	expect_only(&facts, COMPLAINT_TRIGGER_OVERDUE);
}

static void test_several_triggers_at_once(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.status = COMPLAINT_STATUS_REFUSED;
	facts.channel = COMPLAINT_CHANNEL_REGULATOR;
	facts.proposed_amount_fen = 250000;
	facts.customer_refused = true;
	facts.several_departments = true;
	facts.manual_request = true;
	facts.media_or_legal_threat = true;
	facts.now = facts.resolve_by + DAY;
	struct complaint_escalation result = check(&facts);
	assert_int_equal(result.triggers, (UINT32_C(1) << COMPLAINT_TRIGGER_COUNT) - 1);
	assert_true(result.can_escalate);
}

static void test_manager_cannot_escalate_further(void **state)
{
	(void)state;
	struct complaint_facts facts = quiet_facts();
	facts.level = COMPLAINT_LEVEL_MANAGER;
	facts.status = COMPLAINT_STATUS_REFUSED;
	facts.customer_refused = true;
	facts.now = facts.resolve_by + 1;
	struct complaint_escalation result = check(&facts);
	/* Still reported, for alerts; nowhere higher to go. */
	assert_int_equal(result.triggers, COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_CUSTOMER_REFUSED) |
	                                      COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_OVERDUE));
	assert_int_equal(result.target_level, COMPLAINT_LEVEL_MANAGER);
	assert_false(result.can_escalate);
}

static void test_finished_complaints_never_escalate(void **state)
{
	(void)state;
	static const enum complaint_status finished[] = {COMPLAINT_STATUS_ACCEPTED, COMPLAINT_STATUS_EXTERNAL_REVIEW,
	                                                 COMPLAINT_STATUS_CLOSED};
	struct complaint_facts facts = quiet_facts();
	facts.manual_request = true;
	facts.channel = COMPLAINT_CHANNEL_MEDIA;
	facts.now = facts.resolve_by + DAY;
	for (size_t i = 0; i < sizeof finished / sizeof finished[0]; i++) {
		facts.status = finished[i];
		struct complaint_escalation result = check(&facts);
		assert_int_equal(result.triggers, 0);
		assert_false(result.can_escalate);
	}
}

static void test_escalation_check_rejects_bad_facts(void **state)
{
	(void)state;
	struct complaint_config config = defaults();
	struct complaint_escalation result;
	struct complaint_facts facts = quiet_facts();
	facts.proposed_amount_fen = -1;
	assert_int_equal(complaint_escalation_check(&config, &facts, &result), COMPLAINT_EINVAL);
	facts = quiet_facts();
	facts.owner_authority_fen = -2;
	assert_int_equal(complaint_escalation_check(&config, &facts, &result), COMPLAINT_EINVAL);
	facts = quiet_facts();
	facts.level = COMPLAINT_LEVEL_COUNT;
	assert_int_equal(complaint_escalation_check(&config, &facts, &result), COMPLAINT_EINVAL);
	facts = quiet_facts();
	facts.status = COMPLAINT_STATUS_COUNT;
	assert_int_equal(complaint_escalation_check(&config, &facts, &result), COMPLAINT_EINVAL);
	facts = quiet_facts();
	facts.channel = (enum complaint_channel)-1;
	assert_int_equal(complaint_escalation_check(&config, &facts, &result), COMPLAINT_EINVAL);
	assert_int_equal(complaint_escalation_check(&config, NULL, &result), COMPLAINT_EINVAL);
	assert_int_equal(complaint_escalation_check(NULL, &facts, &result), COMPLAINT_ECONFIG);
}

/* ---- status machine and closing ---- */

static void test_normal_flow(void **state)
{
	(void)state;
	static const enum complaint_status path[] = {COMPLAINT_STATUS_OPEN, COMPLAINT_STATUS_ACKNOWLEDGED,
	                                             COMPLAINT_STATUS_PROPOSED, COMPLAINT_STATUS_ACCEPTED,
	                                             COMPLAINT_STATUS_CLOSED};
	for (size_t i = 1; i < sizeof path / sizeof path[0]; i++) {
		assert_true(complaint_transition_allowed(path[i - 1], path[i], COMPLAINT_LEVEL_HANDLER));
		assert_false(complaint_transition_allowed(path[i], path[i - 1], COMPLAINT_LEVEL_HANDLER));
	}
	/* No skipping: a complaint is closed only after the customer's answer is recorded. */
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_OPEN, COMPLAINT_STATUS_CLOSED, COMPLAINT_LEVEL_MANAGER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_OPEN, COMPLAINT_STATUS_PROPOSED, COMPLAINT_LEVEL_HANDLER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_PROPOSED, COMPLAINT_STATUS_CLOSED,
	                                          COMPLAINT_LEVEL_HANDLER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_PROPOSED, COMPLAINT_STATUS_PROPOSED,
	                                          COMPLAINT_LEVEL_HANDLER));
}

static void test_escalation_transitions(void **state)
{
	(void)state;
	static const enum complaint_status can_go_up[] = {COMPLAINT_STATUS_OPEN, COMPLAINT_STATUS_ACKNOWLEDGED,
	                                                  COMPLAINT_STATUS_PROPOSED, COMPLAINT_STATUS_REFUSED,
	                                                  COMPLAINT_STATUS_ESCALATED};
	for (size_t i = 0; i < sizeof can_go_up / sizeof can_go_up[0]; i++) {
		assert_true(complaint_transition_allowed(can_go_up[i], COMPLAINT_STATUS_ESCALATED, COMPLAINT_LEVEL_HANDLER));
		assert_true(complaint_transition_allowed(can_go_up[i], COMPLAINT_STATUS_ESCALATED,
		                                         COMPLAINT_LEVEL_SUPERVISOR));
		assert_false(complaint_transition_allowed(can_go_up[i], COMPLAINT_STATUS_ESCALATED, COMPLAINT_LEVEL_MANAGER));
	}
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_ACCEPTED, COMPLAINT_STATUS_ESCALATED,
	                                          COMPLAINT_LEVEL_HANDLER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_CLOSED, COMPLAINT_STATUS_ESCALATED,
	                                          COMPLAINT_LEVEL_HANDLER));
	/* The new owner takes over. */
	assert_true(complaint_transition_allowed(COMPLAINT_STATUS_ESCALATED, COMPLAINT_STATUS_ACKNOWLEDGED,
	                                         COMPLAINT_LEVEL_SUPERVISOR));
	assert_true(complaint_transition_allowed(COMPLAINT_STATUS_ESCALATED, COMPLAINT_STATUS_PROPOSED,
	                                         COMPLAINT_LEVEL_MANAGER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_ESCALATED, COMPLAINT_STATUS_CLOSED,
	                                          COMPLAINT_LEVEL_MANAGER));
}

static void test_refusal_and_external_review(void **state)
{
	(void)state;
	/* Below manager a refusal must be escalated (rule 4). */
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_REFUSED, COMPLAINT_STATUS_PROPOSED,
	                                          COMPLAINT_LEVEL_HANDLER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_REFUSED, COMPLAINT_STATUS_EXTERNAL_REVIEW,
	                                          COMPLAINT_LEVEL_SUPERVISOR));
	/* A manager's solution is the final internal one. */
	assert_true(complaint_transition_allowed(COMPLAINT_STATUS_REFUSED, COMPLAINT_STATUS_EXTERNAL_REVIEW,
	                                         COMPLAINT_LEVEL_MANAGER));
	assert_true(complaint_transition_allowed(COMPLAINT_STATUS_REFUSED, COMPLAINT_STATUS_PROPOSED,
	                                         COMPLAINT_LEVEL_MANAGER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_REFUSED, COMPLAINT_STATUS_CLOSED,
	                                          COMPLAINT_LEVEL_MANAGER));
	assert_true(complaint_transition_allowed(COMPLAINT_STATUS_EXTERNAL_REVIEW, COMPLAINT_STATUS_CLOSED,
	                                         COMPLAINT_LEVEL_MANAGER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_EXTERNAL_REVIEW, COMPLAINT_STATUS_PROPOSED,
	                                          COMPLAINT_LEVEL_MANAGER));
}

static void test_closed_is_final_and_bad_values_refused(void **state)
{
	(void)state;
	for (int to = 0; to < COMPLAINT_STATUS_COUNT; to++)
		for (int level = 0; level < COMPLAINT_LEVEL_COUNT; level++)
			assert_false(complaint_transition_allowed(COMPLAINT_STATUS_CLOSED, (enum complaint_status)to,
			                                          (enum complaint_level)level));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_COUNT, COMPLAINT_STATUS_CLOSED, COMPLAINT_LEVEL_HANDLER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_ACCEPTED, (enum complaint_status)-1,
	                                          COMPLAINT_LEVEL_HANDLER));
	assert_false(complaint_transition_allowed(COMPLAINT_STATUS_ACCEPTED, COMPLAINT_STATUS_CLOSED,
	                                          COMPLAINT_LEVEL_COUNT));
	/* The table in docs/sla.md: 13 moves below manager, 10 at manager. */
	static const int expected[COMPLAINT_LEVEL_COUNT] = {13, 13, 10};
	for (int level = 0; level < COMPLAINT_LEVEL_COUNT; level++) {
		int allowed = 0;
		for (int from = 0; from < COMPLAINT_STATUS_COUNT; from++)
			for (int to = 0; to < COMPLAINT_STATUS_COUNT; to++)
				allowed += complaint_transition_allowed((enum complaint_status)from, (enum complaint_status)to,
				                                        (enum complaint_level)level);
		assert_int_equal(allowed, expected[level]);
	}
}

static void test_who_may_close(void **state)
{
	(void)state;
	for (int role = 0; role < COMPLAINT_LEVEL_COUNT; role++)
		for (int level = 0; level < COMPLAINT_LEVEL_COUNT; level++)
			assert_int_equal(complaint_may_close((enum complaint_level)role, (enum complaint_level)level),
			                 role >= level);
	assert_false(complaint_may_close(COMPLAINT_LEVEL_COUNT, COMPLAINT_LEVEL_HANDLER));
	assert_false(complaint_may_close(COMPLAINT_LEVEL_MANAGER, (enum complaint_level)-1));
}

/* ---- percentiles ---- */

static int64_t percentile(const int64_t *values, size_t count, unsigned percent)
{
	int64_t result = 0;
	assert_int_equal(complaint_percentile(values, count, percent, &result), COMPLAINT_OK);
	return result;
}

static void test_percentile_empty_and_bad_arguments(void **state)
{
	(void)state;
	int64_t result = 99;
	const int64_t one[] = {5};
	assert_int_equal(complaint_percentile(NULL, 0, 50, &result), COMPLAINT_EEMPTY);
	assert_int_equal(complaint_percentile(one, 0, 50, &result), COMPLAINT_EEMPTY);
	assert_int_equal(result, 99);
	assert_int_equal(complaint_percentile(NULL, 3, 50, &result), COMPLAINT_EINVAL);
	assert_int_equal(complaint_percentile(one, 1, 0, &result), COMPLAINT_EINVAL);
	assert_int_equal(complaint_percentile(one, 1, 101, &result), COMPLAINT_EINVAL);
	assert_int_equal(complaint_percentile(one, 1, 50, NULL), COMPLAINT_EINVAL);
	struct complaint_duration_stats stats = {7, 7, 7};
	assert_int_equal(complaint_duration_stats(NULL, 0, &stats), COMPLAINT_EEMPTY);
	assert_int_equal(stats.count, 7);
}

static void test_percentile_one_element(void **state)
{
	(void)state;
	const int64_t one[] = {3600};
	assert_int_equal(percentile(one, 1, 1), 3600);
	assert_int_equal(percentile(one, 1, 50), 3600);
	assert_int_equal(percentile(one, 1, 90), 3600);
	assert_int_equal(percentile(one, 1, 100), 3600);
}

static void test_percentile_even_count_takes_lower_middle(void **state)
{
	(void)state;
	const int64_t two[] = {40, 10};
	assert_int_equal(percentile(two, 2, 50), 10);
	assert_int_equal(percentile(two, 2, 51), 40);
	assert_int_equal(percentile(two, 2, 90), 40);
	const int64_t four[] = {400, 100, 300, 200};
	assert_int_equal(percentile(four, 4, 50), 200);
	assert_int_equal(percentile(four, 4, 90), 400);
	assert_int_equal(percentile(four, 4, 75), 300);
	assert_int_equal(percentile(four, 4, 76), 400);
}

static void test_percentile_nearest_rank(void **state)
{
	(void)state;
	/* Ten values: p90 is the 9th smallest; eleven values: ceil(9.9) = 10th smallest. */
	int64_t values[11] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 11};
	assert_int_equal(percentile(values, 10, 90), 9);
	assert_int_equal(percentile(values, 10, 50), 5);
	assert_int_equal(percentile(values, 11, 90), 10);
	assert_int_equal(percentile(values, 11, 50), 6);
	assert_int_equal(percentile(values, 11, 100), 11);
	assert_int_equal(percentile(values, 11, 1), 1);
	/* The input is left as it was. */
	const int64_t original[11] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 11};
	assert_memory_equal(values, original, sizeof values);
	struct complaint_duration_stats stats;
	assert_int_equal(complaint_duration_stats(values, 11, &stats), COMPLAINT_OK);
	assert_int_equal(stats.count, 11);
	assert_int_equal(stats.median, 6);
	assert_int_equal(stats.p90, 10);
}

static void test_percentile_duplicates_and_extremes(void **state)
{
	(void)state;
	const int64_t same[] = {7, 7, 7, 7, 7};
	assert_int_equal(percentile(same, 5, 50), 7);
	const int64_t extremes[] = {INT64_MAX, INT64_MIN, 0, INT64_MIN, INT64_MAX};
	assert_int_equal(percentile(extremes, 5, 1), INT64_MIN);
	assert_int_equal(percentile(extremes, 5, 40), INT64_MIN);
	assert_int_equal(percentile(extremes, 5, 50), 0);
	assert_int_equal(percentile(extremes, 5, 61), INT64_MAX);
	assert_int_equal(percentile(extremes, 5, 100), INT64_MAX);
	const int64_t negative[] = {-5, -1, -3};
	assert_int_equal(percentile(negative, 3, 50), -3);
	/* A hundred values 1..100: the p-th percentile is p. */
	int64_t hundred[100];
	for (int i = 0; i < 100; i++)
		hundred[i] = 100 - i;
	for (unsigned p = 1; p <= 100; p++)
		assert_int_equal(percentile(hundred, 100, p), p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_names_round_trip),
		cmocka_unit_test(test_wire_names_are_strict),
		cmocka_unit_test(test_triggers_format),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_configs_refused),
		cmocka_unit_test(test_basic_due_times),
		cmocka_unit_test(test_service_levels_shorten_times),
		cmocka_unit_test(test_regulator_channel_resolves_by_regulator_deadline),
		cmocka_unit_test(test_outside_limits_shortening_is_configurable),
		cmocka_unit_test(test_category_override_and_ceiling),
		cmocka_unit_test(test_due_times_cross_month_year_and_leap_day),
		cmocka_unit_test(test_due_times_reject_bad_arguments),
		cmocka_unit_test(test_due_after_escalation),
		cmocka_unit_test(test_no_trigger_no_escalation),
		cmocka_unit_test(test_trigger_manual),
		cmocka_unit_test(test_trigger_over_authority),
		cmocka_unit_test(test_authority_of_each_level),
		cmocka_unit_test(test_trigger_media_or_regulator),
		cmocka_unit_test(test_trigger_several_departments),
		cmocka_unit_test(test_trigger_customer_refused),
		cmocka_unit_test(test_trigger_overdue),
		cmocka_unit_test(test_several_triggers_at_once),
		cmocka_unit_test(test_manager_cannot_escalate_further),
		cmocka_unit_test(test_finished_complaints_never_escalate),
		cmocka_unit_test(test_escalation_check_rejects_bad_facts),
		cmocka_unit_test(test_normal_flow),
		cmocka_unit_test(test_escalation_transitions),
		cmocka_unit_test(test_refusal_and_external_review),
		cmocka_unit_test(test_closed_is_final_and_bad_values_refused),
		cmocka_unit_test(test_who_may_close),
		cmocka_unit_test(test_percentile_empty_and_bad_arguments),
		cmocka_unit_test(test_percentile_one_element),
		cmocka_unit_test(test_legal_ceiling_across_national_day),
		cmocka_unit_test(test_trigger_media_goes_to_the_top),
		cmocka_unit_test(test_percentile_even_count_takes_lower_middle),
		cmocka_unit_test(test_percentile_nearest_rank),
		cmocka_unit_test(test_percentile_duplicates_and_extremes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
