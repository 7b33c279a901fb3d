/*
 * complaint_rules: contracts in complaint_rules.h, rules and defaults in
 * docs/sla.md.
 */
#include "complaint_rules.h"
#include "customer_rules.h"
#include "config.h"

#include <string.h>

#define PERCENT_WHOLE 100U

/* ---- wire names: one table per enum, in enum order ---- */

static const char *const CHANNEL_NAMES[COMPLAINT_CHANNEL_COUNT] = {
	"phone", "online", "walk_in", "regulator", "consumer_association", "market_regulator", "media",
};
static const char *const CATEGORY_NAMES[COMPLAINT_CATEGORY_COUNT] = {
	"delay", "loss", "damage", "content_mismatch", "not_delivered_to_door",
	"refused_inspection", "wrong_signature", "no_consent_drop", "attitude", "charges", "other",
};
static const char *const LEVEL_NAMES[COMPLAINT_LEVEL_COUNT] = {
	"handler", "supervisor", "manager",
};
static const char *const TRIGGER_NAMES[COMPLAINT_TRIGGER_COUNT] = {
	"manual", "over_authority", "media_or_regulator", "several_departments", "customer_refused", "overdue", "media",
};
static const char *const STAGE_NAMES[COMPLAINT_STAGE_COUNT] = {
	"pickup", "sorting", "line_haul", "subcarrier_handover", "delivery", "customer_service",
};
static const char *const STATUS_NAMES[COMPLAINT_STATUS_COUNT] = {
	"open", "acknowledged", "proposed", "accepted", "refused", "escalated", "external_review", "closed",
};

static const char *name_in(const char *const *names, int count, int value)
{
	return value >= 0 && value < count ? names[value] : NULL;
}

static int parse_in(const char *const *names, int count, const char *name, int *value)
{
	if (name == NULL || value == NULL)
		return COMPLAINT_EINVAL;
	for (int i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0) {
			*value = i;
			return COMPLAINT_OK;
		}
	}
	return COMPLAINT_EUNKNOWN;
}

/* Defines <prefix>_name() and <prefix>_parse() over a names table. */
#define DEFINE_WIRE_NAMES(prefix, enum_type, names, count)                          \
	const char *prefix##_name(enum_type value)                                      \
	{                                                                               \
		return name_in(names, count, (int)value);                                   \
	}                                                                               \
	int prefix##_parse(const char *name, enum_type *value)                          \
	{                                                                               \
		int index;                                                                  \
		if (value == NULL)                                                          \
			return COMPLAINT_EINVAL;                                                \
		int rc = parse_in(names, count, name, &index);                              \
		if (rc == COMPLAINT_OK)                                                     \
			*value = (enum_type)index;                                              \
		return rc;                                                                  \
	}

DEFINE_WIRE_NAMES(complaint_channel, enum complaint_channel, CHANNEL_NAMES, COMPLAINT_CHANNEL_COUNT)
DEFINE_WIRE_NAMES(complaint_category, enum complaint_category, CATEGORY_NAMES, COMPLAINT_CATEGORY_COUNT)
DEFINE_WIRE_NAMES(complaint_level, enum complaint_level, LEVEL_NAMES, COMPLAINT_LEVEL_COUNT)
DEFINE_WIRE_NAMES(complaint_trigger, enum complaint_trigger, TRIGGER_NAMES, COMPLAINT_TRIGGER_COUNT)
DEFINE_WIRE_NAMES(complaint_stage, enum complaint_stage, STAGE_NAMES, COMPLAINT_STAGE_COUNT)
DEFINE_WIRE_NAMES(complaint_status, enum complaint_status, STATUS_NAMES, COMPLAINT_STATUS_COUNT)

int complaint_triggers_format(uint32_t mask, char *buffer, size_t buffer_size)
{
	if (buffer == NULL || buffer_size == 0)
		return COMPLAINT_EINVAL;
	buffer[0] = '\0';
	if (mask >> COMPLAINT_TRIGGER_COUNT != 0)
		return COMPLAINT_EINVAL;
	size_t length = 0;
	for (int trigger = 0; trigger < COMPLAINT_TRIGGER_COUNT; trigger++) {
		if (!(mask & COMPLAINT_TRIGGER_BIT(trigger)))
			continue;
		const char *name = TRIGGER_NAMES[trigger];
		size_t name_length = strlen(name);
		size_t separator = length > 0 ? 1 : 0;
		if (length + separator + name_length + 1 > buffer_size) {
			buffer[0] = '\0';
			return COMPLAINT_ENOSPC;
		}
		if (separator)
			buffer[length++] = ',';
		memcpy(buffer + length, name, name_length + 1);
		length += name_length;
	}
	return (int)length;
}

/* ---- configuration ---- */

const char *complaint_trigger_level_option(const struct config *opt, enum complaint_trigger trigger)
{
	switch (trigger) {
	case COMPLAINT_TRIGGER_MANUAL: return opt->complaint_manual_level;
	case COMPLAINT_TRIGGER_OVER_AUTHORITY: return opt->complaint_over_authority_level;
	case COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR: return opt->complaint_media_or_regulator_level;
	case COMPLAINT_TRIGGER_SEVERAL_DEPARTMENTS: return opt->complaint_several_departments_level;
	case COMPLAINT_TRIGGER_CUSTOMER_REFUSED: return opt->complaint_customer_refused_level;
	case COMPLAINT_TRIGGER_OVERDUE: return opt->complaint_overdue_level;
	case COMPLAINT_TRIGGER_MEDIA: return opt->complaint_media_level;
	default: return NULL;
	}
}

int complaint_config_from_options(const struct config *opt, struct complaint_config *config, int *bad_trigger)
{
	int rc = COMPLAINT_OK;
	memset(config, 0, sizeof *config);
	config->acknowledge_secs = opt->complaint_acknowledge_secs;
	config->resolve_secs = opt->complaint_resolve_secs;
	config->regulator_reply_secs = opt->complaint_regulator_reply_secs;
	config->max_open_secs = opt->complaint_max_open_secs;
	config->escalated_resolve_secs = opt->complaint_escalated_resolve_secs;
	config->legal_max_secs = opt->complaint_legal_max_days * COMPLAINT_DAY_SECS;
	config->service_level_percent[SERVICE_BASIC] = 100;
	config->service_level_percent[SERVICE_VALUE_ADDED] = (unsigned)opt->complaint_percent_value_added;
	config->service_level_percent[SERVICE_EXCLUSIVE] = (unsigned)opt->complaint_percent_exclusive;
	config->service_level_percent[SERVICE_CUSTOMISED] = (unsigned)opt->complaint_percent_customised;
	config->shorten_outside_limits = true;
	config->regulator_deadline_channels = COMPLAINT_CHANNEL_BIT(COMPLAINT_CHANNEL_REGULATOR);
	config->media_or_regulator_channels = COMPLAINT_CHANNEL_BIT(COMPLAINT_CHANNEL_REGULATOR) |
	                                      COMPLAINT_CHANNEL_BIT(COMPLAINT_CHANNEL_CONSUMER_ASSOCIATION) |
	                                      COMPLAINT_CHANNEL_BIT(COMPLAINT_CHANNEL_MARKET_REGULATOR);
	config->media_channels = COMPLAINT_CHANNEL_BIT(COMPLAINT_CHANNEL_MEDIA);
	config->authority_limit_fen[COMPLAINT_LEVEL_HANDLER] = opt->authority_handler_fen;
	config->authority_limit_fen[COMPLAINT_LEVEL_SUPERVISOR] = opt->authority_supervisor_fen;
	config->authority_limit_fen[COMPLAINT_LEVEL_MANAGER] = COMPLAINT_AUTHORITY_UNLIMITED_FEN;
	for (int t = COMPLAINT_TRIGGER_COUNT - 1; t >= 0; t--) {
		const char *text = complaint_trigger_level_option(opt, (enum complaint_trigger)t);
		enum complaint_level level;
		if (!strcmp(text, "next")) {
			config->trigger_level[t] = COMPLAINT_LEVEL_NEXT;
		} else if (complaint_level_parse(text, &level) == COMPLAINT_OK) {
			config->trigger_level[t] = (int)level;
		} else {
			config->trigger_level[t] = COMPLAINT_LEVEL_NEXT;
			rc = COMPLAINT_ECONFIG;
			if (bad_trigger != NULL)
				*bad_trigger = t; /* the first bad one, as the loop runs backwards */
		}
	}
	return rc;
}

void complaint_config_defaults(struct complaint_config *config)
{
	struct config opt;
	config_default(&opt);
	complaint_config_from_options(&opt, config, NULL);
}

static bool period_valid(int64_t secs)
{
	return secs >= 1 && secs <= COMPLAINT_MAX_PERIOD_SECS;
}

static bool level_valid(enum complaint_level level)
{
	return (int)level >= 0 && level < COMPLAINT_LEVEL_COUNT;
}

/* Triggers whose condition stays true after an escalation. */
static bool trigger_is_persistent(enum complaint_trigger trigger)
{
	return trigger == COMPLAINT_TRIGGER_MEDIA || trigger == COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR ||
	       trigger == COMPLAINT_TRIGGER_SEVERAL_DEPARTMENTS;
}

static int config_problem(const char **problem, const char *sentence)
{
	if (problem != NULL)
		*problem = sentence;
	return COMPLAINT_ECONFIG;
}

int complaint_config_validate(const struct complaint_config *config, const char **problem)
{
	const uint32_t all_channels = (UINT32_C(1) << COMPLAINT_CHANNEL_COUNT) - 1;
	if (problem != NULL)
		*problem = NULL;
	if (config == NULL)
		return config_problem(problem, "no config");
	if (!period_valid(config->acknowledge_secs))
		return config_problem(problem, "acknowledge_secs must be 1 s .. 366 days");
	if (!period_valid(config->resolve_secs))
		return config_problem(problem, "resolve_secs must be 1 s .. 366 days");
	if (!period_valid(config->regulator_reply_secs))
		return config_problem(problem, "regulator_reply_secs must be 1 s .. 366 days");
	if (!period_valid(config->max_open_secs))
		return config_problem(problem, "max_open_secs must be 1 s .. 366 days");
	if (!period_valid(config->escalated_resolve_secs))
		return config_problem(problem, "escalated_resolve_secs must be 1 s .. 366 days");
	if (!period_valid(config->legal_max_secs))
		return config_problem(problem, "legal_max_secs must be 1 s .. 366 days");
	if (config->acknowledge_secs > config->resolve_secs)
		return config_problem(problem, "acknowledge_secs exceeds resolve_secs");
	if (config->resolve_secs > config->max_open_secs)
		return config_problem(problem, "resolve_secs exceeds max_open_secs");
	if (config->escalated_resolve_secs > config->max_open_secs)
		return config_problem(problem, "escalated_resolve_secs exceeds max_open_secs");
	for (int category = 0; category < COMPLAINT_CATEGORY_COUNT; category++) {
		int64_t secs = config->category_resolve_secs[category];
		if (secs != 0 && (secs < 1 || secs > config->max_open_secs))
			return config_problem(problem, "category_resolve_secs must be 0 (use resolve_secs) or 1 s .. max_open_secs");
	}
	const char *shares;
	if (service_level_shares_check(config->service_level_percent, &shares) < 0)
		return config_problem(problem, shares);
	if ((config->regulator_deadline_channels & ~all_channels) != 0)
		return config_problem(problem, "regulator_deadline_channels names an unknown channel");
	if ((config->media_or_regulator_channels & ~all_channels) != 0)
		return config_problem(problem, "media_or_regulator_channels names an unknown channel");
	if ((config->media_channels & ~all_channels) != 0)
		return config_problem(problem, "media_channels names an unknown channel");
	for (int trigger = 0; trigger < COMPLAINT_TRIGGER_COUNT; trigger++) {
		int level = config->trigger_level[trigger];
		if (level == COMPLAINT_LEVEL_NEXT && !trigger_is_persistent((enum complaint_trigger)trigger))
			continue;
		if (level <= COMPLAINT_LEVEL_HANDLER || level >= COMPLAINT_LEVEL_COUNT)
			return config_problem(problem, "trigger_level must be supervisor or manager (or next, for a trigger "
			                               "that is not persistent)");
	}
	for (int level = 0; level < COMPLAINT_LEVEL_COUNT; level++) {
		if (config->authority_limit_fen[level] < 0)
			return config_problem(problem, "authority_limit_fen must not be negative");
		if (level > 0 && config->authority_limit_fen[level] < config->authority_limit_fen[level - 1])
			return config_problem(problem, "authority_limit_fen must not fall from handler to manager");
	}
	return COMPLAINT_OK;
}

int64_t complaint_authority_limit(const struct complaint_config *config, enum complaint_level level)
{
	if (config == NULL || !level_valid(level))
		return -1;
	return config->authority_limit_fen[level];
}

/* ---- due times ---- */

static bool instant_valid(int64_t utc)
{
	return utc >= 0 && utc <= COMPLAINT_MAX_UTC;
}

static int64_t scaled(int64_t secs, unsigned percent)
{
	return service_level_share(secs, percent);
}

static int64_t earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int complaint_due_times(const struct complaint_config *config, int64_t opened_at,
			enum complaint_channel channel, enum complaint_category category,
			enum service_level service_level, int64_t regulator_deadline,
			struct complaint_due *due)
{
	if (complaint_config_validate(config, NULL) != COMPLAINT_OK)
		return COMPLAINT_ECONFIG;
	if (due == NULL || (int)channel < 0 || channel >= COMPLAINT_CHANNEL_COUNT || (int)category < 0 ||
		category >= COMPLAINT_CATEGORY_COUNT || (int)service_level < 0 ||
		service_level >= SERVICE_LEVEL_COUNT)
		return COMPLAINT_EINVAL;
	if (!instant_valid(opened_at) || (regulator_deadline != COMPLAINT_NO_DEADLINE && !instant_valid(regulator_deadline)))
		return COMPLAINT_ERANGE;

	unsigned percent = config->service_level_percent[service_level];
	unsigned outside_percent = config->shorten_outside_limits ? percent : PERCENT_WHOLE;
	struct complaint_due result;
	result.close_by = opened_at + scaled(config->max_open_secs, outside_percent);
	result.regulator_reply_by = COMPLAINT_NO_DEADLINE;
	if (regulator_deadline != COMPLAINT_NO_DEADLINE)
		result.regulator_reply_by = regulator_deadline;
	else if (config->regulator_deadline_channels & COMPLAINT_CHANNEL_BIT(channel))
		result.regulator_reply_by = opened_at + scaled(config->regulator_reply_secs, outside_percent);

	int64_t resolve_secs = config->category_resolve_secs[category] != 0 ? config->category_resolve_secs[category]
	                                                                    : config->resolve_secs;
	result.legal_by = opened_at + config->legal_max_secs;
	result.resolve_by = complaint_resolve_cap(&result, opened_at + scaled(resolve_secs, percent));
	result.acknowledge_by = earliest(opened_at + scaled(config->acknowledge_secs, percent), result.resolve_by);
	*due = result;
	return COMPLAINT_OK;
}

int64_t complaint_resolve_cap(const struct complaint_due *due, int64_t candidate)
{
	const int64_t ceilings[] = { due->legal_by, due->close_by, due->regulator_reply_by };
	for (size_t i = 0; i < sizeof ceilings / sizeof ceilings[0]; i++)
		if (ceilings[i] != COMPLAINT_NO_DEADLINE)
			candidate = earliest(candidate, ceilings[i]);
	return candidate;
}

int complaint_due_after_escalation(const struct complaint_config *config, const struct complaint_due *current,
				   enum service_level service_level, int64_t escalated_at,
				   struct complaint_due *updated)
{
	if (complaint_config_validate(config, NULL) != COMPLAINT_OK)
		return COMPLAINT_ECONFIG;
	if (current == NULL || updated == NULL || (int)service_level < 0 ||
		service_level >= SERVICE_LEVEL_COUNT)
		return COMPLAINT_EINVAL;
	if (!instant_valid(escalated_at) || !instant_valid(current->close_by) || !instant_valid(current->legal_by) ||
		(current->regulator_reply_by != COMPLAINT_NO_DEADLINE && !instant_valid(current->regulator_reply_by)))
		return COMPLAINT_ERANGE;

	struct complaint_due result = *current;
	unsigned percent = config->service_level_percent[service_level];
	result.resolve_by = complaint_resolve_cap(current, escalated_at + scaled(config->escalated_resolve_secs, percent));
	*updated = result;
	return COMPLAINT_OK;
}

/* ---- escalation and status ---- */

/* Statuses in which the complaint is still being handled internally, so escalation means something. */
static bool status_is_handled_internally(enum complaint_status status)
{
	switch (status) {
	case COMPLAINT_STATUS_OPEN:
	case COMPLAINT_STATUS_ACKNOWLEDGED:
	case COMPLAINT_STATUS_PROPOSED:
	case COMPLAINT_STATUS_REFUSED:
	case COMPLAINT_STATUS_ESCALATED:
		return true;
	default:
		return false;
	}
}

int complaint_escalation_check(const struct complaint_config *config, const struct complaint_facts *facts,
			       struct complaint_escalation *result)
{
	if (complaint_config_validate(config, NULL) != COMPLAINT_OK)
		return COMPLAINT_ECONFIG;
	if (facts == NULL || result == NULL || (int)facts->status < 0 || facts->status >= COMPLAINT_STATUS_COUNT ||
		!level_valid(facts->level) || (int)facts->channel < 0 || facts->channel >= COMPLAINT_CHANNEL_COUNT ||
		facts->proposed_amount_fen < 0 ||
		(facts->owner_authority_fen < 0 && facts->owner_authority_fen != COMPLAINT_AUTHORITY_OF_LEVEL))
		return COMPLAINT_EINVAL;

	uint32_t triggers = 0;
	if (status_is_handled_internally(facts->status)) {
		int64_t authority = facts->owner_authority_fen == COMPLAINT_AUTHORITY_OF_LEVEL
		                        ? config->authority_limit_fen[facts->level]
		                        : facts->owner_authority_fen;
		uint32_t channel = COMPLAINT_CHANNEL_BIT(facts->channel);
		bool outside_body = (config->media_or_regulator_channels & channel) != 0;
		bool media = (config->media_channels & channel) != 0 || facts->media_or_legal_threat;
		const int *target = config->trigger_level;
		if (facts->manual_request)
			triggers |= COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_MANUAL);
		if (facts->proposed_amount_fen > authority)
			triggers |= COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_OVER_AUTHORITY);
		if (media && (int)facts->level < target[COMPLAINT_TRIGGER_MEDIA])
			triggers |= COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_MEDIA);
		if (outside_body && (int)facts->level < target[COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR])
			triggers |= COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR);
		if (facts->several_departments && (int)facts->level < target[COMPLAINT_TRIGGER_SEVERAL_DEPARTMENTS])
			triggers |= COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_SEVERAL_DEPARTMENTS);
		if (facts->customer_refused)
			triggers |= COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_CUSTOMER_REFUSED);
		/* resolve_by is the last instant still on time. */
		if (facts->now > facts->resolve_by)
			triggers |= COMPLAINT_TRIGGER_BIT(COMPLAINT_TRIGGER_OVERDUE);
	}

	/* at least one level up; higher when a fired trigger's level says so */
	int target_level = facts->level < COMPLAINT_LEVEL_MANAGER ? (int)facts->level + 1 : COMPLAINT_LEVEL_MANAGER;
	for (int trigger = 0; trigger < COMPLAINT_TRIGGER_COUNT; trigger++)
		if ((triggers & COMPLAINT_TRIGGER_BIT(trigger)) && config->trigger_level[trigger] > target_level)
			target_level = config->trigger_level[trigger];
	result->triggers = triggers;
	result->target_level = (enum complaint_level)target_level;
	result->can_escalate = triggers != 0 && facts->level < COMPLAINT_LEVEL_MANAGER;
	return COMPLAINT_OK;
}

bool complaint_transition_allowed(enum complaint_status from, enum complaint_status to, enum complaint_level level)
{
	if ((int)from < 0 || from >= COMPLAINT_STATUS_COUNT || (int)to < 0 || to >= COMPLAINT_STATUS_COUNT ||
		!level_valid(level))
		return false;
	bool higher_level_exists = level < COMPLAINT_LEVEL_MANAGER;
	if (to == COMPLAINT_STATUS_ESCALATED)
		return higher_level_exists && status_is_handled_internally(from);

	switch (from) {
	case COMPLAINT_STATUS_OPEN:
		return to == COMPLAINT_STATUS_ACKNOWLEDGED;
	case COMPLAINT_STATUS_ACKNOWLEDGED:
		return to == COMPLAINT_STATUS_PROPOSED;
	case COMPLAINT_STATUS_PROPOSED:
		return to == COMPLAINT_STATUS_ACCEPTED || to == COMPLAINT_STATUS_REFUSED;
	case COMPLAINT_STATUS_ACCEPTED:
		return to == COMPLAINT_STATUS_CLOSED;
	case COMPLAINT_STATUS_REFUSED:
		/* Below manager a refusal must go up (rule 4); a manager may offer again or refer outside. */
		return !higher_level_exists && (to == COMPLAINT_STATUS_PROPOSED || to == COMPLAINT_STATUS_EXTERNAL_REVIEW);
	case COMPLAINT_STATUS_ESCALATED:
		/* The new owner confirms the take-over to the customer, or proposes at once. */
		return to == COMPLAINT_STATUS_ACKNOWLEDGED || to == COMPLAINT_STATUS_PROPOSED;
	case COMPLAINT_STATUS_EXTERNAL_REVIEW:
		return to == COMPLAINT_STATUS_CLOSED;
	case COMPLAINT_STATUS_CLOSED:
	default:
		return false;
	}
}

bool complaint_may_close(enum complaint_level role_level, enum complaint_level complaint_level)
{
	return level_valid(role_level) && level_valid(complaint_level) && role_level >= complaint_level;
}

/* ---- statistics ---- */

/* ceil(percent * count / 100) without overflowing for any size_t count. */
static size_t nearest_rank(size_t count, unsigned percent)
{
	size_t hundreds = count / PERCENT_WHOLE;
	size_t rest = count % PERCENT_WHOLE;
	return hundreds * percent + (rest * percent + PERCENT_WHOLE - 1) / PERCENT_WHOLE;
}

int complaint_percentile(const int64_t *values, size_t count, unsigned percent, int64_t *result)
{
	if (result == NULL || percent < 1 || percent > PERCENT_WHOLE)
		return COMPLAINT_EINVAL;
	if (count == 0)
		return COMPLAINT_EEMPTY;
	if (values == NULL)
		return COMPLAINT_EINVAL;

	size_t rank = nearest_rank(count, percent);
	int64_t low = values[0], high = values[0];
	for (size_t i = 1; i < count; i++) {
		if (values[i] < low)
			low = values[i];
		if (values[i] > high)
			high = values[i];
	}
	/*
	 * Smallest v in [low, high] with at least `rank` values <= v; it is
	 * always one of the values.  The midpoint is taken in unsigned
	 * arithmetic because high - low can exceed INT64_MAX.
	 */
	while (low < high) {
		int64_t middle = low + (int64_t)(((uint64_t)high - (uint64_t)low) / 2);
		size_t at_or_below = 0;
		for (size_t i = 0; i < count; i++)
			at_or_below += values[i] <= middle;
		if (at_or_below >= rank)
			high = middle;
		else
			low = middle + 1;
	}
	*result = low;
	return COMPLAINT_OK;
}

int complaint_duration_stats(const int64_t *values, size_t count, struct complaint_duration_stats *stats)
{
	if (stats == NULL)
		return COMPLAINT_EINVAL;
	struct complaint_duration_stats result = {.count = count};
	int rc = complaint_percentile(values, count, 50, &result.median);
	if (rc == COMPLAINT_OK)
		rc = complaint_percentile(values, count, 90, &result.p90);
	if (rc == COMPLAINT_OK)
		*stats = result;
	return rc;
}
