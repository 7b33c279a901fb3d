/* config.h — every option of parceldeskd in one struct, with one source of
 * defaults (config_default), filled from the config file then the command
 * line, validated once at start (config_validate), shown by STATS. */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct config {
	char listen[128];        /* HOST:PORT */
	char data_dir[512];
	char timezone[64];       /* IANA zone the depot's times are shown in */
	char admin_password_file[512];
	char admin_socket[108];  /* a local socket exempt from connection limits */
	char tls_cert[512];      /* PEM chain: TLS on the same port when set */
	char tls_key[512];
	char tls_ca[512];        /* client certificates signed by it are required */
	char tls_required;       /* passwords (AUTH, USER ADD/PASSWD) only over TLS
				    or the admin socket */
	char log_syslog;         /* also log to syslog */
	char log_level[8];       /* debug, info, warn or error */
	char log_file[512];      /* instead of stderr; reopened on SIGHUP */
	char enable_test_clock;  /* allow CLOCK SET (tests only) */

	/* limits (each also in STATS) */
	int64_t max_line_bytes;
	int64_t max_frame_bytes;
	int64_t max_connections;
	int64_t max_connections_per_address;
	int64_t idle_timeout_secs;
	int64_t login_timeout_secs;   /* not logged in this long after connecting: closed */
	int64_t request_timeout_secs; /* a request started and not complete this long: 408 */
	int64_t max_output_bytes;  /* stop reading a connection holding more */
	int64_t max_output_bytes_before_login; /* the same before AUTH */
	int64_t max_group_jobs;    /* writes in one group commit */
	int64_t map_size_mb;       /* initial LMDB map; grows by itself */
	int64_t list_limit_max;
	int64_t max_events_per_waybill;   /* a longer history is refused */
	int64_t waybill_events_page_max;  /* events in one WAYBILL GET */

	/* logins (logins.h) */
	int64_t login_free_failures;       /* failures before the delays start */
	int64_t login_max_delay_secs;      /* the longest delay between tries */
	int64_t login_concurrent_per_address; /* logins being hashed at once */
	int64_t login_lockout_failures;    /* a user name is locked after these */
	int64_t login_lockout_secs;        /* for this long; 0: until USER UNLOCK */
	int64_t login_failure_window_secs; /* older failures are forgotten */
	int64_t auth_queue_max;            /* logins waiting for the hashing thread */

	/* business rules (domain-rules.md; all defaults, all configurable) */
	int64_t same_city_complete_delay_days;
	int64_t intercity_complete_delay_days;
	int64_t external_query_due_secs;
	int64_t find_approval_valid_secs;
	int64_t redirect_fee_same_city_fen;
	int64_t redirect_fee_other_city_fen;
	int64_t recall_fee_fen;
	int64_t max_redirects_per_waybill;
	int64_t query_retention_days;

	/* complaints (section 4; see docs/sla.md) */
	int64_t complaint_acknowledge_secs;
	int64_t complaint_resolve_secs;
	int64_t complaint_regulator_reply_secs;
	int64_t complaint_max_open_secs;
	int64_t complaint_escalated_resolve_secs;
	int64_t complaint_legal_max_days;      /* the law's ceiling on every resolve-by */
	/* the level each escalation trigger goes to: next, supervisor or manager */
	char complaint_manual_level[16];
	char complaint_over_authority_level[16];
	char complaint_media_or_regulator_level[16];
	char complaint_several_departments_level[16];
	char complaint_customer_refused_level[16];
	char complaint_overdue_level[16];
	char complaint_media_level[16];
	int64_t complaint_percent_value_added;  /* share of each period by service level */
	int64_t complaint_percent_exclusive;
	int64_t complaint_percent_customised;
	char complaint_business_clocks;         /* count on the depot's calendar */
	int64_t complaint_ack_business_minutes;
	int64_t complaint_update_business_minutes;
	int64_t complaint_update_secs;          /* calendar time, without a calendar */
	int64_t complaint_resolve_business_minutes;
	/* per category: "loss:4800,damage:3600" (others: the figure above) */
	char complaint_category_resolve_business_minutes[512];
	int64_t complaint_escalated_resolve_business_minutes;
	int64_t authority_handler_fen;          /* what each level may settle */
	int64_t authority_supervisor_fen;

	/* claims (section 5; docs/compensation.md) */
	int64_t claim_deductible_fen;
	int64_t insurer_deductible_fen;
	int64_t uninsured_fee_multiple;
	int64_t clause_b_piece_value_fen;
	int64_t claim_filing_days;      /* after sending */
	int64_t claim_acknowledge_secs;          /* without a calendar */
	int64_t claim_ack_business_minutes;     /* on the depot's calendar */
	int64_t claim_update_business_minutes;  /* the claimant hears from us */
	int64_t claim_update_secs;              /* the same without a calendar */
	int64_t claim_decide_days;      /* after a complete file */
	int64_t claim_pay_days;         /* after approval */
	int64_t recovery_due_days;

	/* reports (section 7) */
	int64_t report_major_claim_fen;  /* a claim assessed this large is a major incident (report and warning) */

	/* customers, warnings, KPIs (sections 6 and 7; docs/customers.md) */
	int64_t tier_key_fen;                 /* average monthly payment at or above */
	int64_t tier_local_major_fen;
	int64_t tier_medium_fen;
	int64_t tier_window_months;           /* complete months averaged */
	int64_t high_end_min_waybills;        /* a cash customer in the window ... */
	int64_t high_end_min_declared_fen;    /* ... or this much declared */
	int64_t warning_min_months;           /* months of cooperation */
	int64_t warning_revenue_drop_bp;      /* against the same month last year */
	int64_t contact_key_visit_days;       /* the contact plan: days between contacts, 0: none */
	int64_t contact_key_meeting_days;
	int64_t contact_local_major_visit_days;
	int64_t contact_local_major_call_days;
	int64_t contact_medium_call_days;
	int64_t monthend_batch_customers;     /* customers per writer job */
	int64_t kpi_on_time_handling_bp;      /* targets, basis points */
	int64_t kpi_on_time_delivery_bp;
	int64_t kpi_without_complaint_bp;
	int64_t kpi_damage_rate_max_bp;
	int64_t kpi_delivery_accuracy_bp;
};

void config_default(struct config *c);
/* Reads "key = value" lines ('#' comments). Returns 0 or -1 with a message
 * on stderr naming the file and line. */
int config_load_file(struct config *c, const char *path);
/* Sets one option by its config-file name. Returns 0 or -1. */
int config_set(struct config *c, const char *key, const char *value);
int config_validate(const struct config *c);

/* Calls fn for every option, rendered as text (for STATS). */
void config_each(const struct config *c,
		 void (*fn)(void *ud, const char *key, const char *value),
		 void *ud);

#endif
