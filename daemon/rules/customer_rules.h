/* customer_rules.h — the customer rules of docs/customers.md
 * as pure functions: month arithmetic, months of cooperation, tiers and
 * service levels, the revenue-drop warning, and the KPI formulas.
 *
 * No I/O, no clock, no globals, no allocation: months are YYYYMM integers,
 * days YYYYMMDD integers (the depot's calendar), money int64 fen, shares
 * basis points (1 bp = 0.01 %). Every figure comes in a config struct built
 * from the daemon's options (customer_rules_from_options; the defaults are
 * those of daemon/core/options.def).
 * docs/customers.md explains every default and every choice made where the
 * rules are silent. */
#ifndef PD_CUSTOMER_RULES_H
#define PD_CUSTOMER_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_WHOLE 10000 /* 100 % in basis points */

/* ---- months and days ---- */

bool year_is_leap(int year);
/* Days in a month (YYYYMM): February has 29 in a leap year. */
int month_length_days(int yyyymm);
/* A YYYYMM with year 1970..9999 and month 1..12. */
bool month_valid(int yyyymm);
/* Months since year 0 (year * 12 + month - 1): months subtract as integers. */
int month_index(int yyyymm);
int month_from_index(int index);
/* yyyymm moved by delta months (negative goes back): 202601 - 1 = 202512. */
int month_add(int yyyymm, int delta);
/* The first and the last day (YYYYMMDD) of a month. */
int month_first_day(int yyyymm);
int month_last_day(int yyyymm);

/* Whole months from start_day to through_day (both YYYYMMDD), counted as a
 * person's age is: a month is whole when through_day's day of the month has
 * reached start_day's (a month-end start counts the shorter month's last
 * day: Jan 31 -> Feb 28 (29) is one month). 0 when through_day is not after
 * start_day. */
int months_between(int start_day, int through_day);

/* Months of cooperation completed by the end of month yyyymm, for a
 * contract that started on start_day: months_between(start_day, the first
 * day of the next month). A contract starting on the 1st counts its first
 * month; one starting on the 2nd does not. */
int cooperation_months(int start_day, int yyyymm);

/* The day (YYYYMMDD) `months` whole months after day (YYYYMMDD), on the
 * same day of the month or the shorter month's last day (Nov 30 + 3 months
 * is Feb 28, or 29): the end of an account's trial period after its
 * hand-over from sales; months_between(day, end) == months. */
int trial_end_day(int day, int months);

/* A birthday of a person in a customer's file, "MM-DD" or "YYYY-MM-DD":
 * its month and day, 0; -1 when it is not a day of the calendar (02-29 is
 * one; a YYYY-02-29 only in a leap year). */
int birthday_parse(const char *s, int *month, int *day);
/* The next birthday (YYYYMMDD) on or after today (YYYYMMDD) of one born on
 * month/day: Feb 29 falls on Feb 28 in a common year. */
int birthday_next(int month, int day, int today);

/* ---- tiers and service levels ---- */

enum customer_tier {
	TIER_KEY,                  /* key */
	TIER_LOCAL_MAJOR,          /* local_major */
	TIER_MEDIUM_MONTHLY,       /* medium_monthly */
	TIER_REGULAR_MONTHLY,      /* regular_monthly */
	TIER_CASH,                 /* cash */
	TIER_HIGH_END_INDIVIDUAL,  /* high_end_individual */
	TIER_COUNT
};

enum customer_payment {
	PAYMENT_MONTHLY, /* monthly: a monthly account, billed */
	PAYMENT_CASH,    /* cash: pays per waybill */
	PAYMENT_COUNT
};

enum service_level {
	SERVICE_BASIC,       /* basic */
	SERVICE_VALUE_ADDED, /* value_added */
	SERVICE_EXCLUSIVE,   /* exclusive */
	SERVICE_CUSTOMISED,  /* customised */
	SERVICE_LEVEL_COUNT
};

/* Wire names (lower_snake_case); NULL out of range. _parse: exact match,
 * returns -1 for an unknown name. */
const char *customer_tier_name(enum customer_tier t);
int customer_tier_parse(const char *s);
const char *customer_payment_name(enum customer_payment p);
int customer_payment_parse(const char *s);
const char *service_level_name(enum service_level s);
int service_level_parse(const char *s);

/* ---- service levels shorten time limits (docs/customers.md) ----
 * Each level gets a share of a period, in percent: basic 100, and no level
 * more than the one below it. Complaints and queries keep their own shares
 * (options complaint_percent_*, query_percent_*) and scale with these. */
/* 0, or -1 with *problem naming what is wrong. */
int service_level_shares_check(const unsigned percent[SERVICE_LEVEL_COUNT], const char **problem);
/* secs * percent / 100, rounded down: a shortened limit errs towards the
 * customer. */
int64_t service_level_share(int64_t secs, unsigned percent);

struct customer_rules_config {
	/* tiers: average monthly payment (fen) at or above */
	int64_t tier_key_fen;
	int64_t tier_local_major_fen;
	int64_t tier_medium_fen;
	int tier_window_months;          /* complete months averaged */
	/* a cash customer is a high-end individual with, in the window: */
	int64_t high_end_min_waybills;   /* this many waybills, or */
	int64_t high_end_min_declared_fen; /* this much declared */
	/* warnings */
	int warning_min_months;          /* months of cooperation */
	int64_t warning_drop_bp;         /* revenue down this share or more */
	/* KPI targets */
	int64_t kpi_on_time_handling_bp;   /* at least */
	int64_t kpi_on_time_delivery_bp;   /* at least */
	int64_t kpi_without_complaint_bp;  /* at least */
	int64_t kpi_damage_rate_max_bp;    /* at most */
	int64_t kpi_delivery_accuracy_bp;  /* at least */
	int64_t kpi_satisfaction_bp;       /* at least */
};

struct config;
void customer_rules_from_options(const struct config *opt, struct customer_rules_config *c);
/* The same from the options' defaults. */
void customer_rules_defaults(struct customer_rules_config *c);
/* 0, or -1 with *problem naming what is wrong (thresholds out of order,
 * a window of 0 months, a share above 100 %). */
int customer_rules_validate(const struct customer_rules_config *c, const char **problem);

/* The facts a tier is decided on: payment terms and the counters of the
 * window of complete months ending with the month evaluated. */
struct tier_facts {
	enum customer_payment payment;
	/* months of the window the average is taken over: the window, or the
	 * months of cooperation when fewer (at least 1) */
	int months;
	int64_t revenue_fen;   /* sum over those `months` months */
	int64_t waybills;      /* over the whole window */
	int64_t declared_fen;  /* over the whole window */
};

struct tier_result {
	enum customer_tier tier;
	int64_t average_fen;   /* revenue_fen / months, rounded down (shown) */
};

/* The months the average is taken over for a customer with `cooperation`
 * months of cooperation: min(window, max(1, cooperation)). */
int tier_average_months(const struct customer_rules_config *c, int cooperation);

/* Monthly accounts by average monthly payment (a threshold is met exactly
 * at it: sum >= threshold * months, no rounding); cash customers are
 * high-end individuals with enough waybills OR declared value in the
 * window, else cash. Credit and the manager's strength rating do not enter
 * the automatic tier (docs/customers.md): they inform a manual override. */
void customer_tier_classify(const struct customer_rules_config *c,
			    const struct tier_facts *f, struct tier_result *out);

/* key -> customised, local major -> exclusive, medium monthly ->
 * value_added, every other tier basic. */
enum service_level customer_tier_service_level(enum customer_tier t);

/* ---- warning customers: revenue drop against the same month last year ---- */

struct revenue_drop {
	bool raise;
	int64_t drop_bp;      /* (last_year - month) / last_year, rounded down; 0 when not down */
	const char *why_not;  /* when !raise: the reason in words */
};

/* Raises when the customer has at least warning_min_months of cooperation
 * by the end of the month, revenue of the same month last year was above
 * 0, the month's revenue is down by warning_drop_bp or more (exactly 20 %
 * raises), and staff did not mark the month explained. */
void customer_revenue_drop(const struct customer_rules_config *c, int cooperation,
			   int64_t revenue_fen, int64_t last_year_fen, bool explained,
			   struct revenue_drop *out);

/* ---- KPIs (section 7) ---- */

enum kpi_kind {
	KPI_ON_TIME_HANDLING,   /* on_time_handling: queries and complaints */
	KPI_ON_TIME_DELIVERY,   /* on_time_delivery */
	KPI_WITHOUT_COMPLAINT,  /* without_complaint: waybills */
	KPI_DAMAGE_RATE,        /* damage_rate (at most) */
	KPI_DELIVERY_ACCURACY,  /* delivery_accuracy: right consignee and address */
	KPI_SATISFACTION,       /* satisfaction: the index's points over the top score */
	KPI_COUNT
};

const char *kpi_name(enum kpi_kind k);

struct kpi_result {
	int64_t numerator, denominator;
	int64_t target_bp;
	bool at_most;       /* the value must not exceed the target */
	bool no_data;       /* denominator 0: nothing to measure */
	int64_t value_bp;   /* rounded toward failing: floor for "at least",
			       ceiling for "at most", so a shown value never
			       looks met when it is not; 0 with no data */
	bool met;           /* exact: num * 10000 >= target * den (or <=);
			       true with no data (nothing failed) */
};

/* One share against a target. Negative counts are taken as 0 and a
 * numerator above the denominator as the denominator (counters that moved
 * out of step cannot make a share above 100 %). */
void kpi_share(int64_t numerator, int64_t denominator, int64_t target_bp,
	       bool at_most, struct kpi_result *out);

/* External queries answered on time plus complaints never overdue, over
 * external queries plus complaints. */
void kpi_on_time_handling(const struct customer_rules_config *c, int64_t queries,
			  int64_t queries_late, int64_t complaints,
			  int64_t complaints_late, struct kpi_result *out);
/* Deliveries at or before the promise, over deliveries. */
void kpi_on_time_delivery(const struct customer_rules_config *c, int64_t delivered,
			  int64_t delivered_on_time, struct kpi_result *out);
/* Waybills never complained about, over waybills. */
void kpi_without_complaint(const struct customer_rules_config *c, int64_t waybills,
			   int64_t complained, struct kpi_result *out);
/* Waybills damaged, over waybills; met when at most the target. */
void kpi_damage_rate(const struct customer_rules_config *c, int64_t waybills,
		     int64_t damaged, struct kpi_result *out);
/* Deliveries to the consignee (not later found misdelivered), over
 * deliveries. */
void kpi_delivery_accuracy(const struct customer_rules_config *c, int64_t delivered,
			   int64_t inaccurate, struct kpi_result *out);

/* Satisfaction readings' points (surveys and complaint closes) over the
 * top score of every reading (survey_rules.h's satisfaction_index()). */
void kpi_satisfaction(const struct customer_rules_config *c, int64_t points, int64_t top_points,
		      struct kpi_result *out);

/* ---- shares as text ---- */

/* bp as a percent with two decimals: 9850 -> "98.50". */
void bp_format(int64_t bp, char *buf, size_t cap);
/* part / whole in basis points, rounded half up; 0 when whole is 0. */
int64_t share_bp(int64_t part, int64_t whole);
/* (now - base) / base as a signed percent with two decimals, rounded half
 * away from zero: "+12.50", "-20.00", "0.00"; "" when base is 0. */
void change_format(int64_t now, int64_t base, char *buf, size_t cap);

/* The handling principles shown with every warning (docs/customers.md). */
extern const char *const WARNING_PRINCIPLES[5];

#endif
