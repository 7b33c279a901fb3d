/*
 * complaint_rules: the complaint rules of docs/sla.md (with the service
 * levels of docs/customers.md) as pure functions: due times, escalation
 * triggers, the status machine, who may close, and the percentile used by
 * the statistics.  No I/O, no clock reads, no globals, no allocation: the
 * current time is an argument and every result goes to a caller's struct.
 *
 * Times are int64 UTC seconds and complaint periods run on calendar time
 * ("days are calendar days"); business-hours clocks live in bizcal.h.
 * Money is int64 fen.  docs/sla.md explains every default and every choice
 * made where the rules are silent.
 *
 * Every enum has a wire name in lower_snake_case: <enum>_name() returns it
 * (NULL when the value is out of range) and <enum>_parse() reads it back
 * (exact, case-sensitive match; COMPLAINT_EUNKNOWN otherwise).
 */
#ifndef PARCELDESK_COMPLAINT_RULES_H
#define PARCELDESK_COMPLAINT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "customer_rules.h" /* enum service_level */

#define COMPLAINT_HOUR_SECS INT64_C(3600)
#define COMPLAINT_DAY_SECS INT64_C(86400)
/* Supported instants: 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define COMPLAINT_MAX_UTC INT64_C(253402300799)
/* Longest period a config may set; keeps every sum far from overflow. */
#define COMPLAINT_MAX_PERIOD_SECS (366 * COMPLAINT_DAY_SECS)
/* authority_limit_fen of a level that may settle any amount. */
#define COMPLAINT_AUTHORITY_UNLIMITED_FEN INT64_MAX
/* complaint_config.trigger_level: one level above the current one. */
#define COMPLAINT_LEVEL_NEXT (-1)
/* complaint_facts.owner_authority_fen: use the config's limit for the level. */
#define COMPLAINT_AUTHORITY_OF_LEVEL INT64_C(-1)
/* regulator_deadline argument: the outside body stated no deadline. */
#define COMPLAINT_NO_DEADLINE INT64_C(0)

/* Return codes: 0 on success, one of these (negative) on failure. */
enum complaint_error {
	COMPLAINT_OK = 0,
	COMPLAINT_EINVAL = -1,   /* NULL pointer, enum out of range, negative amount, bad percent */
	COMPLAINT_ERANGE = -2,   /* instant outside 0..COMPLAINT_MAX_UTC */
	COMPLAINT_ECONFIG = -3,  /* the config fails complaint_config_validate() */
	COMPLAINT_EEMPTY = -4,   /* percentile of no values */
	COMPLAINT_EUNKNOWN = -5, /* not a wire name */
	COMPLAINT_ENOSPC = -6,   /* output buffer too small */
};

enum complaint_channel {
	COMPLAINT_CHANNEL_PHONE,                /* phone */
	COMPLAINT_CHANNEL_ONLINE,               /* online */
	COMPLAINT_CHANNEL_WALK_IN,              /* walk_in */
	COMPLAINT_CHANNEL_REGULATOR,            /* regulator: the postal regulator, incl. its website */
	COMPLAINT_CHANNEL_CONSUMER_ASSOCIATION, /* consumer_association (315) */
	COMPLAINT_CHANNEL_MARKET_REGULATOR,     /* market_regulator */
	COMPLAINT_CHANNEL_MEDIA,                /* media */
	COMPLAINT_CHANNEL_COUNT
};

enum complaint_category {
	COMPLAINT_CATEGORY_DELAY,                 /* delay */
	COMPLAINT_CATEGORY_LOSS,                  /* loss */
	COMPLAINT_CATEGORY_DAMAGE,                /* damage */
	COMPLAINT_CATEGORY_CONTENT_MISMATCH,      /* content_mismatch */
	COMPLAINT_CATEGORY_NOT_DELIVERED_TO_DOOR, /* not_delivered_to_door */
	COMPLAINT_CATEGORY_REFUSED_INSPECTION,    /* refused_inspection: refused inspection before signing */
	COMPLAINT_CATEGORY_WRONG_SIGNATURE,       /* wrong_signature */
	COMPLAINT_CATEGORY_NO_CONSENT_DROP,       /* no_consent_drop: left in a locker, at a station or with
						     someone else without the receiver's consent */
	COMPLAINT_CATEGORY_ATTITUDE,              /* attitude */
	COMPLAINT_CATEGORY_CHARGES,               /* charges */
	COMPLAINT_CATEGORY_OTHER,                 /* other */
	COMPLAINT_CATEGORY_COUNT
};

/* Ordered: a higher value is a higher level. */
enum complaint_level {
	COMPLAINT_LEVEL_HANDLER,    /* handler */
	COMPLAINT_LEVEL_SUPERVISOR, /* supervisor */
	COMPLAINT_LEVEL_MANAGER,    /* manager */
	COMPLAINT_LEVEL_COUNT
};

/* Reasons to escalate; bit COMPLAINT_TRIGGER_BIT(t) in a trigger mask. */
enum complaint_trigger {
	COMPLAINT_TRIGGER_MANUAL,              /* manual: the owner asks for it */
	COMPLAINT_TRIGGER_OVER_AUTHORITY,      /* over_authority: proposed amount above the owner's limit */
	COMPLAINT_TRIGGER_MEDIA_OR_REGULATOR,  /* media_or_regulator: through a regulator or the consumer association */
	COMPLAINT_TRIGGER_SEVERAL_DEPARTMENTS, /* several_departments: several departments or depots involved */
	COMPLAINT_TRIGGER_CUSTOMER_REFUSED,    /* customer_refused: the customer refused the proposal */
	COMPLAINT_TRIGGER_OVERDUE,             /* overdue: now is after resolve_by */
	COMPLAINT_TRIGGER_MEDIA,               /* media: the media channel, or the customer threatens the media */
	COMPLAINT_TRIGGER_COUNT
};
#define COMPLAINT_TRIGGER_BIT(trigger) (UINT32_C(1) << (trigger))

/* Where in the business the fault happened, recorded at close. */
enum complaint_stage {
	COMPLAINT_STAGE_PICKUP,              /* pickup */
	COMPLAINT_STAGE_SORTING,             /* sorting */
	COMPLAINT_STAGE_LINE_HAUL,           /* line_haul */
	COMPLAINT_STAGE_SUBCARRIER_HANDOVER, /* subcarrier_handover */
	COMPLAINT_STAGE_DELIVERY,            /* delivery */
	COMPLAINT_STAGE_CUSTOMER_SERVICE,    /* customer_service */
	COMPLAINT_STAGE_COUNT
};

/* The life of a complaint; complaint_transition_allowed() is the machine. */
enum complaint_status {
	COMPLAINT_STATUS_OPEN,            /* open: accepted by its first-contact owner */
	COMPLAINT_STATUS_ACKNOWLEDGED,    /* acknowledged: the customer was told; investigating */
	COMPLAINT_STATUS_PROPOSED,        /* proposed: a solution awaits the customer's answer */
	COMPLAINT_STATUS_ACCEPTED,        /* accepted: the customer accepted; feedback to record */
	COMPLAINT_STATUS_REFUSED,         /* refused: the customer refused the proposal */
	COMPLAINT_STATUS_ESCALATED,       /* escalated: handed to a higher level, new owner to act */
	COMPLAINT_STATUS_EXTERNAL_REVIEW, /* external_review: referred to an outside body */
	COMPLAINT_STATUS_CLOSED,          /* closed: final */
	COMPLAINT_STATUS_COUNT
};

const char *complaint_channel_name(enum complaint_channel channel);
int complaint_channel_parse(const char *name, enum complaint_channel *channel);
const char *complaint_category_name(enum complaint_category category);
int complaint_category_parse(const char *name, enum complaint_category *category);
const char *complaint_level_name(enum complaint_level level);
int complaint_level_parse(const char *name, enum complaint_level *level);
const char *complaint_trigger_name(enum complaint_trigger trigger);
int complaint_trigger_parse(const char *name, enum complaint_trigger *trigger);
const char *complaint_stage_name(enum complaint_stage stage);
int complaint_stage_parse(const char *name, enum complaint_stage *stage);
const char *complaint_status_name(enum complaint_status status);
int complaint_status_parse(const char *name, enum complaint_status *status);

/*
 * Writes the wire names of the triggers in mask, in enum order, joined by
 * "," ("" for 0), NUL-terminated.  Returns the length written, or
 * COMPLAINT_ENOSPC (buffer left "") / COMPLAINT_EINVAL (unknown bits, NULL).
 */
int complaint_triggers_format(uint32_t mask, char *buffer, size_t buffer_size);

/* Every period is in seconds; see docs/sla.md for the defaults and why. */
struct complaint_config {
	int64_t acknowledge_secs;
	int64_t resolve_secs;
	int64_t regulator_reply_secs;     /* answer to the outside body */
	int64_t max_open_secs;            /* no complaint stays open longer */
	int64_t escalated_resolve_secs;   /* the new owner's time after an escalation */
	/* the legal ceiling on every resolve-by, never scaled or moved by a pause */
	int64_t legal_max_secs;
	/* 0 = resolve_secs; else this category's own resolve period (<= max_open_secs). */
	int64_t category_resolve_secs[COMPLAINT_CATEGORY_COUNT];
	/* Share of each period a service level gets, 1..100, non-increasing by level (basic 100). */
	unsigned service_level_percent[SERVICE_LEVEL_COUNT];
	/* Whether the percent also shortens regulator_reply_secs and max_open_secs (true). */
	bool shorten_outside_limits;
	/* Channels whose complaints get a regulator reply deadline by default (regulator). */
	uint32_t regulator_deadline_channels;
	/* Channels that fire media_or_regulator (regulator, consumer_association, market_regulator). */
	uint32_t media_or_regulator_channels;
	/* Channels that fire media (media). */
	uint32_t media_channels;
	/*
	 * The level each trigger escalates to: a level above handler, or
	 * COMPLAINT_LEVEL_NEXT (one level up).  Defaults: media manager,
	 * media_or_regulator and several_departments supervisor, the others
	 * next.  The persistent triggers (media, media_or_regulator,
	 * several_departments) need a level, and stop firing once the
	 * complaint is there, so that checking again after an escalation does
	 * not escalate again.
	 */
	int trigger_level[COMPLAINT_TRIGGER_COUNT];
	/* Highest amount each level may settle; non-decreasing by level. */
	int64_t authority_limit_fen[COMPLAINT_LEVEL_COUNT]; /* the manager's unlimited */
};
#define COMPLAINT_CHANNEL_BIT(channel) (UINT32_C(1) << (channel))

struct config;
/* Fills config from the daemon's options (the periods, the service level
 * shares, the level each trigger escalates to, the authority limits) and
 * the fixed rules (channels, the manager's unlimited authority). Returns
 * COMPLAINT_OK, or COMPLAINT_ECONFIG when a complaint_<trigger>_level option
 * is neither "next" nor a level name; *bad_trigger (when not NULL) is then
 * the first such trigger. */
int complaint_config_from_options(const struct config *opt, struct complaint_config *config, int *bad_trigger);
/* The text of the option complaint_<trigger>_level. */
const char *complaint_trigger_level_option(const struct config *opt, enum complaint_trigger trigger);
/* The same from the options' defaults (daemon/core/options.def). */
void complaint_config_defaults(struct complaint_config *config);

/*
 * Checks a config: periods in 1..COMPLAINT_MAX_PERIOD_SECS with
 * acknowledge <= resolve <= max_open and escalated_resolve <= max_open,
 * category overrides 0 or within 1..max_open, percents 1..100 and
 * non-increasing by service level, channel masks within the enum, trigger
 * levels valid, authority limits >= 0 and non-decreasing by level.
 * Returns 0 or COMPLAINT_ECONFIG with *problem (when not NULL) set to a
 * static sentence naming the field.
 */
int complaint_config_validate(const struct complaint_config *config, const char **problem);

/* The config's authority limit for a level; -1 when the level is out of range. */
int64_t complaint_authority_limit(const struct complaint_config *config, enum complaint_level level);

/* Due times of one complaint, all UTC seconds. */
struct complaint_due {
	int64_t acknowledge_by;     /* tell the customer we have it; never after resolve_by */
	int64_t resolve_by;         /* solution agreed, or escalated; overdue after this instant */
	int64_t regulator_reply_by; /* answer to the outside body; COMPLAINT_NO_DEADLINE when none */
	int64_t close_by;           /* the hard ceiling: opened + max open period */
	int64_t legal_by;           /* the legal ceiling on resolve_by: opened + legal_max_secs; 0 = none */
};

/*
 * The earliest of candidate and the ceilings of *due: legal_by, close_by and
 * regulator_reply_by (each only when set, i.e. non-zero).  Every resolve-by
 * a caller computes (business clock, escalation, resume after a pause) goes
 * through this, so none can pass the legal ceiling.
 */
int64_t complaint_resolve_cap(const struct complaint_due *due, int64_t candidate);

/*
 * Due times of a complaint opened at opened_at.  Each period is scaled by
 * the service level's percent (rounded down to the second), except
 * legal_by = opened_at + legal_max_secs, which is the law's and unscaled.
 * resolve_by is the earliest of opened_at + the (category's) resolve
 * period, close_by, legal_by and regulator_reply_by.  regulator_deadline is the deadline stated by the
 * outside body, if any (COMPLAINT_NO_DEADLINE otherwise): it is used as is,
 * unscaled, for any channel; without it, channels in
 * regulator_deadline_channels get opened_at + regulator_reply_secs.
 * Errors: COMPLAINT_EINVAL, COMPLAINT_ERANGE, COMPLAINT_ECONFIG.
 */
int complaint_due_times(const struct complaint_config *config, int64_t opened_at,
			enum complaint_channel channel, enum complaint_category category,
			enum service_level service_level, int64_t regulator_deadline,
			struct complaint_due *due);

/*
 * Due times after an escalation at escalated_at: a copy of *current whose
 * resolve_by is the earliest of escalated_at + escalated_resolve_secs
 * (scaled by the service level), capped by complaint_resolve_cap().  An
 * escalation never moves the ceilings or an outside body's deadline.
 */
int complaint_due_after_escalation(const struct complaint_config *config, const struct complaint_due *current,
				   enum service_level service_level, int64_t escalated_at,
				   struct complaint_due *updated);

/* What the escalation check looks at. */
struct complaint_facts {
	enum complaint_status status;
	enum complaint_level level;      /* level of the current owner */
	enum complaint_channel channel;
	int64_t proposed_amount_fen;     /* compensation proposed or asked for; 0 when none */
	int64_t owner_authority_fen;     /* the owner's own limit, or COMPLAINT_AUTHORITY_OF_LEVEL */
	bool media_or_legal_threat;      /* the media are involved, or the customer threatens them */
	bool several_departments;        /* several departments or depots involved */
	bool customer_refused;           /* the customer refused the current proposal */
	bool manual_request;             /* the owner asks to escalate */
	int64_t resolve_by;
	int64_t now;
};

struct complaint_escalation {
	uint32_t triggers;                 /* COMPLAINT_TRIGGER_BIT() of each trigger that fires */
	enum complaint_level target_level; /* the highest level a fired trigger asks for, at least one up, at most manager */
	bool can_escalate;                 /* triggers fired and there is a higher level */
};

/*
 * Which escalation triggers fire for these facts.  Nothing fires for a
 * complaint that is accepted, in external review or closed.  At manager
 * level triggers are still reported (for alerts and statistics) but
 * can_escalate is false and target_level stays manager; a refusal there
 * leads to external review (see complaint_transition_allowed()).
 * Errors: COMPLAINT_EINVAL, COMPLAINT_ECONFIG.
 */
int complaint_escalation_check(const struct complaint_config *config, const struct complaint_facts *facts,
			       struct complaint_escalation *result);

/*
 * The status machine (docs/sla.md has the diagram).  `level` is the
 * current owner's level: escalating needs a higher level to exist, and only
 * a manager's refused solution is final enough for external review; below
 * manager a refusal must be escalated.  Self-transitions are refused except
 * escalated -> escalated (a second escalation before the new owner acted).
 * Out-of-range values are refused.
 */
bool complaint_transition_allowed(enum complaint_status from, enum complaint_status to,
				  enum complaint_level level);

/* A user whose role is role_level may close a complaint at complaint_level when role_level >= complaint_level. */
bool complaint_may_close(enum complaint_level role_level, enum complaint_level complaint_level);

/*
 * The nearest-rank percentile of values[0..count): the smallest value v such
 * that at least ceil(percent * count / 100) values are <= v.  percent is
 * 1..100; 50 gives the median (for an even count the lower of the two middle
 * values, never an average, so the answer is always an observed time) and
 * 100 the maximum.  values is not modified: the answer is found by a binary
 * search over the value range, at most 64 counting passes, O(64 * count).
 * Errors: COMPLAINT_EEMPTY (count 0), COMPLAINT_EINVAL.
 */
int complaint_percentile(const int64_t *values, size_t count, unsigned percent, int64_t *result);

/* Median and 90th percentile of the times to acknowledge or to resolve. */
struct complaint_duration_stats {
	size_t count;
	int64_t median;
	int64_t p90;
};
int complaint_duration_stats(const int64_t *values, size_t count, struct complaint_duration_stats *stats);

#endif
