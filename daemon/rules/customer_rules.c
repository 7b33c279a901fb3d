/* customer_rules.c — tiers, warnings, KPIs and month arithmetic (see
 * customer_rules.h; the why of each choice is in docs/customers.md). */
#include "customer_rules.h"
#include "config.h"

#include <stdio.h>
#include <string.h>

/* Products of money and basis points can pass 2^63 for absurd but
 * accepted inputs (a fen argument goes up to 10^15): compare in 128 bits. */
__extension__ typedef __int128 wide; /* exact products of fen amounts */

const char *const WARNING_PRINCIPLES[5] = {
	"sincere communication",
	"speed first",
	"system-wide response",
	"take responsibility",
	"authoritative confirmation",
};

/* ---- months and days ---- */

bool year_is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int month_length_days(int yyyymm)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year = yyyymm / 100, month = yyyymm % 100;
	if (month < 1 || month > 12)
		return 0;
	return month == 2 && year_is_leap(year) ? 29 : days[month - 1];
}

bool month_valid(int yyyymm)
{
	int year = yyyymm / 100, month = yyyymm % 100;
	return year >= 1970 && year <= 9999 && month >= 1 && month <= 12;
}

int month_index(int yyyymm)
{
	return yyyymm / 100 * 12 + yyyymm % 100 - 1;
}

int month_from_index(int index)
{
	return index / 12 * 100 + index % 12 + 1;
}

int month_add(int yyyymm, int delta)
{
	return month_from_index(month_index(yyyymm) + delta);
}

int month_first_day(int yyyymm)
{
	return yyyymm * 100 + 1;
}

int month_last_day(int yyyymm)
{
	return yyyymm * 100 + month_length_days(yyyymm);
}

int months_between(int start_day, int through_day)
{
	int start_month = start_day / 100, through_month = through_day / 100;
	int months = month_index(through_month) - month_index(start_month);
	/* the anniversary day in through's month: a start on the 31st has its
	 * anniversary on the last day of a shorter month */
	int anniversary = start_day % 100;
	int length = month_length_days(through_month);
	if (anniversary > length)
		anniversary = length;
	if (through_day % 100 < anniversary)
		months--;
	return months > 0 ? months : 0;
}

int cooperation_months(int start_day, int yyyymm)
{
	return months_between(start_day, month_first_day(month_add(yyyymm, 1)));
}

int trial_end_day(int day, int months)
{
	int month = month_add(day / 100, months);
	int dom = day % 100, length = month_length_days(month);
	return month * 100 + (dom > length ? length : dom);
}

int birthday_parse(const char *s, int *month, int *day)
{
	int y = 2000, m, d; /* a leap year: 02-29 is a birthday */
	char tail;
	if (!s || (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 &&
		   (y = 2000, sscanf(s, "%2d-%2d%c", &m, &d, &tail) != 2)))
		return -1;
	if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > month_length_days(y * 100 + m))
		return -1;
	*month = m;
	*day = d;
	return 0;
}

int birthday_next(int month, int day, int today)
{
	for (int year = today / 10000;; year++) {
		int length = month_length_days(year * 100 + month);
		int at = year * 10000 + month * 100 + (day > length ? length : day);
		if (at >= today)
			return at;
	}
}

/* ---- names ---- */

static const char *const tier_names[TIER_COUNT] = {
	"key", "local_major", "medium_monthly", "regular_monthly", "cash", "high_end_individual",
};
static const char *const payment_names[PAYMENT_COUNT] = { "monthly", "cash" };
static const char *const service_names[SERVICE_LEVEL_COUNT] = {
	"basic", "value_added", "exclusive", "customised",
};
static const char *const kpi_names[KPI_COUNT] = {
	"on_time_handling", "on_time_delivery", "without_complaint", "damage_rate", "delivery_accuracy", "satisfaction",
};

static int parse_name(const char *const *names, int count, const char *s)
{
	for (int i = 0; s && i < count; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *customer_tier_name(enum customer_tier t)
{
	return t >= 0 && t < TIER_COUNT ? tier_names[t] : NULL;
}

int customer_tier_parse(const char *s)
{
	return parse_name(tier_names, TIER_COUNT, s);
}

const char *customer_payment_name(enum customer_payment p)
{
	return p >= 0 && p < PAYMENT_COUNT ? payment_names[p] : NULL;
}

int customer_payment_parse(const char *s)
{
	return parse_name(payment_names, PAYMENT_COUNT, s);
}

const char *service_level_name(enum service_level s)
{
	return s >= 0 && s < SERVICE_LEVEL_COUNT ? service_names[s] : NULL;
}

int service_level_parse(const char *s)
{
	for (int i = 0; s && i < SERVICE_LEVEL_COUNT; i++)
		if (strcmp(s, service_names[i]) == 0)
			return i;
	return -1;
}

int service_level_shares_check(const unsigned percent[SERVICE_LEVEL_COUNT], const char **problem)
{
	const char *p = NULL;
	for (int level = 0; level < SERVICE_LEVEL_COUNT && !p; level++)
		if (percent[level] < 1 || percent[level] > 100)
			p = "service_level_percent must be 1..100";
		else if (level > 0 && percent[level] > percent[level - 1])
			p = "service_level_percent must not grow from basic to customised";
	if (problem)
		*problem = p;
	return p ? -1 : 0;
}

int64_t service_level_share(int64_t secs, unsigned percent)
{
	return secs * (int64_t)percent / 100;
}

const char *kpi_name(enum kpi_kind k)
{
	return k >= 0 && k < KPI_COUNT ? kpi_names[k] : NULL;
}

/* ---- config ---- */

void customer_rules_from_options(const struct config *opt, struct customer_rules_config *c)
{
	memset(c, 0, sizeof(*c));
	c->tier_key_fen = opt->tier_key_fen;
	c->tier_local_major_fen = opt->tier_local_major_fen;
	c->tier_medium_fen = opt->tier_medium_fen;
	c->tier_window_months = (int)opt->tier_window_months;
	c->high_end_min_waybills = opt->high_end_min_waybills;
	c->high_end_min_declared_fen = opt->high_end_min_declared_fen;
	c->warning_min_months = (int)opt->warning_min_months;
	c->warning_drop_bp = opt->warning_revenue_drop_bp;
	c->kpi_on_time_handling_bp = opt->kpi_on_time_handling_bp;
	c->kpi_on_time_delivery_bp = opt->kpi_on_time_delivery_bp;
	c->kpi_without_complaint_bp = opt->kpi_without_complaint_bp;
	c->kpi_damage_rate_max_bp = opt->kpi_damage_rate_max_bp;
	c->kpi_delivery_accuracy_bp = opt->kpi_delivery_accuracy_bp;
	c->kpi_satisfaction_bp = opt->kpi_satisfaction_bp;
}

void customer_rules_defaults(struct customer_rules_config *c)
{
	struct config opt;
	config_default(&opt);
	customer_rules_from_options(&opt, c);
}

int customer_rules_validate(const struct customer_rules_config *c, const char **problem)
{
	const char *p = NULL;
	if (c->tier_medium_fen < 1 || c->tier_local_major_fen <= c->tier_medium_fen ||
	    c->tier_key_fen <= c->tier_local_major_fen)
		p = "tier thresholds must rise: 0 < medium < local major < key";
	else if (c->tier_window_months < 1 || c->tier_window_months > 24)
		p = "the tier window is 1 to 24 months";
	else if (c->high_end_min_waybills < 1 || c->high_end_min_declared_fen < 1)
		p = "high-end individual thresholds must be above 0";
	else if (c->warning_min_months < 0 || c->warning_drop_bp < 1 || c->warning_drop_bp > BP_WHOLE)
		p = "the warning drop is 1 to 10000 basis points";
	else if (c->kpi_on_time_handling_bp > BP_WHOLE || c->kpi_on_time_delivery_bp > BP_WHOLE ||
		 c->kpi_without_complaint_bp > BP_WHOLE || c->kpi_damage_rate_max_bp > BP_WHOLE ||
		 c->kpi_delivery_accuracy_bp > BP_WHOLE || c->kpi_satisfaction_bp > BP_WHOLE)
		p = "a KPI target is at most 10000 basis points";
	if (problem)
		*problem = p;
	return p ? -1 : 0;
}

/* ---- tiers ---- */

int tier_average_months(const struct customer_rules_config *c, int cooperation)
{
	int months = cooperation < 1 ? 1 : cooperation;
	return months < c->tier_window_months ? months : c->tier_window_months;
}

static bool average_at_least(int64_t sum, int months, int64_t threshold)
{
	return (wide)sum >= (wide)threshold * months;
}

void customer_tier_classify(const struct customer_rules_config *c,
			    const struct tier_facts *f, struct tier_result *out)
{
	int months = f->months < 1 ? 1 : f->months;
	out->average_fen = f->revenue_fen / months;
	if (f->payment == PAYMENT_CASH) {
		bool high_end = f->waybills >= c->high_end_min_waybills ||
				f->declared_fen >= c->high_end_min_declared_fen;
		out->tier = high_end ? TIER_HIGH_END_INDIVIDUAL : TIER_CASH;
		return;
	}
	if (average_at_least(f->revenue_fen, months, c->tier_key_fen))
		out->tier = TIER_KEY;
	else if (average_at_least(f->revenue_fen, months, c->tier_local_major_fen))
		out->tier = TIER_LOCAL_MAJOR;
	else if (average_at_least(f->revenue_fen, months, c->tier_medium_fen))
		out->tier = TIER_MEDIUM_MONTHLY;
	else
		out->tier = TIER_REGULAR_MONTHLY;
}

enum service_level customer_tier_service_level(enum customer_tier t)
{
	switch (t) {
	case TIER_KEY:
		return SERVICE_CUSTOMISED;
	case TIER_LOCAL_MAJOR:
		return SERVICE_EXCLUSIVE;
	case TIER_MEDIUM_MONTHLY:
		return SERVICE_VALUE_ADDED;
	default:
		return SERVICE_BASIC;
	}
}

/* ---- warnings ---- */

void customer_revenue_drop(const struct customer_rules_config *c, int cooperation,
			   int64_t revenue_fen, int64_t last_year_fen, bool explained,
			   struct revenue_drop *out)
{
	memset(out, 0, sizeof(*out));
	int64_t drop = last_year_fen - revenue_fen;
	if (last_year_fen > 0 && drop > 0)
		out->drop_bp = (int64_t)((wide)drop * BP_WHOLE / last_year_fen);
	if (explained)
		out->why_not = "staff marked the month explained";
	else if (cooperation < c->warning_min_months)
		out->why_not = "too few months of cooperation";
	else if (last_year_fen <= 0)
		out->why_not = "no revenue in the same month last year";
	else if (drop <= 0 || (wide)drop * BP_WHOLE < (wide)c->warning_drop_bp * last_year_fen)
		out->why_not = "revenue not down enough";
	else
		out->raise = true;
}

/* ---- KPIs ---- */

void kpi_share(int64_t numerator, int64_t denominator, int64_t target_bp,
	       bool at_most, struct kpi_result *out)
{
	if (denominator < 0)
		denominator = 0;
	if (numerator < 0)
		numerator = 0;
	if (numerator > denominator)
		numerator = denominator;
	memset(out, 0, sizeof(*out));
	out->numerator = numerator;
	out->denominator = denominator;
	out->target_bp = target_bp;
	out->at_most = at_most;
	if (denominator == 0) {
		out->no_data = true;
		out->met = true;
		return;
	}
	wide scaled = (wide)numerator * BP_WHOLE;
	if (at_most) {
		out->value_bp = (int64_t)((scaled + denominator - 1) / denominator);
		out->met = scaled <= (wide)target_bp * denominator;
	} else {
		out->value_bp = (int64_t)(scaled / denominator);
		out->met = scaled >= (wide)target_bp * denominator;
	}
}

static int64_t at_most_of(int64_t part, int64_t whole)
{
	if (part < 0)
		return 0;
	return part < whole ? part : whole;
}

void kpi_on_time_handling(const struct customer_rules_config *c, int64_t queries,
			  int64_t queries_late, int64_t complaints,
			  int64_t complaints_late, struct kpi_result *out)
{
	if (queries < 0)
		queries = 0;
	if (complaints < 0)
		complaints = 0;
	int64_t on_time = queries - at_most_of(queries_late, queries) +
			  complaints - at_most_of(complaints_late, complaints);
	kpi_share(on_time, queries + complaints, c->kpi_on_time_handling_bp, false, out);
}

void kpi_on_time_delivery(const struct customer_rules_config *c, int64_t delivered,
			  int64_t delivered_on_time, struct kpi_result *out)
{
	kpi_share(delivered_on_time, delivered, c->kpi_on_time_delivery_bp, false, out);
}

void kpi_without_complaint(const struct customer_rules_config *c, int64_t waybills,
			   int64_t complained, struct kpi_result *out)
{
	kpi_share(waybills - at_most_of(complained, waybills), waybills,
		  c->kpi_without_complaint_bp, false, out);
}

void kpi_damage_rate(const struct customer_rules_config *c, int64_t waybills,
		     int64_t damaged, struct kpi_result *out)
{
	kpi_share(damaged, waybills, c->kpi_damage_rate_max_bp, true, out);
}

void kpi_delivery_accuracy(const struct customer_rules_config *c, int64_t delivered,
			   int64_t inaccurate, struct kpi_result *out)
{
	kpi_share(delivered - at_most_of(inaccurate, delivered), delivered,
		  c->kpi_delivery_accuracy_bp, false, out);
}

/* ---- shares as text ---- */

void bp_format(int64_t bp, char *buf, size_t cap)
{
	const char *sign = bp < 0 ? "-" : "";
	if (bp < 0)
		bp = -bp;
	snprintf(buf, cap, "%s%lld.%02lld", sign, (long long)(bp / 100), (long long)(bp % 100));
}

int64_t share_bp(int64_t part, int64_t whole)
{
	if (whole <= 0)
		return 0;
	wide bp = ((wide)part * BP_WHOLE + whole / 2) / whole;
	/* a share of a tiny base (1 fen last month) passes int64: shown as
	 * the largest, never wrapped to a wrong sign */
	return bp > INT64_MAX ? INT64_MAX : bp < -INT64_MAX ? -INT64_MAX : (int64_t)bp;
}

void change_format(int64_t now, int64_t base, char *buf, size_t cap)
{
	if (base <= 0) {
		snprintf(buf, cap, "%s", "");
		return;
	}
	int64_t diff = now - base;
	int64_t magnitude = share_bp(diff < 0 ? -diff : diff, base);
	char digits[32];
	bp_format(magnitude, digits, sizeof(digits));
	snprintf(buf, cap, "%s%s", magnitude == 0 ? "" : diff < 0 ? "-" : "+", digits);
}

void kpi_satisfaction(const struct customer_rules_config *c, int64_t points, int64_t top_points,
		      struct kpi_result *out)
{
	kpi_share(points, top_points, c->kpi_satisfaction_bp, false, out);
}
