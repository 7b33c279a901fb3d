/* config.c — options: defaults, file, command line, validation. */
#include "config.h"
#include "daemon.h" /* log_level_rank */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_kind { OPT_STR, OPT_INT, OPT_FLAG };

struct option_desc {
	const char *name;
	enum opt_kind kind;
	size_t offset, size;
	int64_t min, max;
};

#define STR_OPT(n) { #n, OPT_STR, offsetof(struct config, n), sizeof(((struct config *)0)->n), 0, 0 }
#define INT_OPT(n, lo, hi) { #n, OPT_INT, offsetof(struct config, n), 0, lo, hi }
#define FLAG_OPT(n) { #n, OPT_FLAG, offsetof(struct config, n), 0, 0, 1 }

static const struct option_desc options[] = {
	STR_OPT(listen),
	STR_OPT(data_dir),
	STR_OPT(timezone),
	STR_OPT(admin_password_file),
	STR_OPT(admin_socket),
	STR_OPT(tls_cert),
	STR_OPT(tls_key),
	STR_OPT(tls_ca),
	FLAG_OPT(log_syslog),
	STR_OPT(log_level),
	STR_OPT(log_file),
	FLAG_OPT(enable_test_clock),
	FLAG_OPT(tls_required),
	INT_OPT(max_line_bytes, 256, 16 << 20),
	INT_OPT(max_frame_bytes, 256, 64 << 20),
	INT_OPT(max_connections, 1, 1000000),
	INT_OPT(max_connections_per_address, 1, 1000000),
	INT_OPT(idle_timeout_secs, 1, 86400 * 7),
	INT_OPT(login_timeout_secs, 1, 86400),
	INT_OPT(request_timeout_secs, 1, 86400),
	INT_OPT(max_output_bytes, 4096, 1LL << 32),
	INT_OPT(max_output_bytes_before_login, 4096, 1LL << 32),
	INT_OPT(max_group_jobs, 1, 100000),
	INT_OPT(map_size_mb, 1, 1 << 24),
	INT_OPT(list_limit_max, 1, 100000),
	INT_OPT(max_events_per_waybill, 10, 1000000),
	INT_OPT(waybill_events_page_max, 10, 100000),
	INT_OPT(login_free_failures, 1, 1000),
	INT_OPT(login_max_delay_secs, 1, 86400),
	INT_OPT(login_concurrent_per_address, 1, 100000),
	INT_OPT(login_lockout_failures, 1, 1000000),
	INT_OPT(login_lockout_secs, 0, 86400 * 365),
	INT_OPT(login_failure_window_secs, 1, 86400 * 30),
	INT_OPT(auth_queue_max, 1, 100000),
	INT_OPT(same_city_complete_delay_days, 1, 365),
	INT_OPT(intercity_complete_delay_days, 1, 365),
	INT_OPT(external_query_due_secs, 60, 86400 * 30),
	INT_OPT(find_approval_valid_secs, 60, 86400),
	INT_OPT(redirect_fee_same_city_fen, 0, 100000000),
	INT_OPT(redirect_fee_other_city_fen, 0, 100000000),
	INT_OPT(recall_fee_fen, 0, 100000000),
	INT_OPT(max_redirects_per_waybill, 0, 10),
	INT_OPT(query_retention_days, 365, 36500),
	INT_OPT(complaint_acknowledge_secs, 60, 366 * 86400),
	INT_OPT(complaint_resolve_secs, 60, 366 * 86400),
	INT_OPT(complaint_regulator_reply_secs, 60, 366 * 86400),
	INT_OPT(complaint_max_open_secs, 60, 366 * 86400),
	INT_OPT(complaint_escalated_resolve_secs, 60, 366 * 86400),
	INT_OPT(complaint_legal_max_days, 1, 366),
	STR_OPT(complaint_manual_level),
	STR_OPT(complaint_over_authority_level),
	STR_OPT(complaint_media_or_regulator_level),
	STR_OPT(complaint_several_departments_level),
	STR_OPT(complaint_customer_refused_level),
	STR_OPT(complaint_overdue_level),
	STR_OPT(complaint_media_level),
	INT_OPT(complaint_percent_value_added, 1, 100),
	INT_OPT(complaint_percent_exclusive, 1, 100),
	INT_OPT(complaint_percent_customised, 1, 100),
	FLAG_OPT(complaint_business_clocks),
	INT_OPT(complaint_ack_business_minutes, 1, 60 * 24 * 60),
	INT_OPT(complaint_update_business_minutes, 1, 60 * 24 * 60),
	INT_OPT(complaint_update_secs, 60, 366 * 86400),
	INT_OPT(complaint_resolve_business_minutes, 1, 366 * 24 * 60),
	STR_OPT(complaint_category_resolve_business_minutes),
	INT_OPT(complaint_escalated_resolve_business_minutes, 1, 366 * 24 * 60),
	INT_OPT(authority_handler_fen, 0, 1000000000000LL),
	INT_OPT(authority_supervisor_fen, 0, 1000000000000LL),
	INT_OPT(claim_deductible_fen, 0, 1000000000000LL),
	INT_OPT(insurer_deductible_fen, 0, 1000000000000LL),
	INT_OPT(uninsured_fee_multiple, 0, 1000),
	INT_OPT(clause_b_piece_value_fen, 0, 1000000000000LL),
	INT_OPT(claim_filing_days, 1, 3650),
	INT_OPT(claim_acknowledge_secs, 60, 30 * 86400),
	INT_OPT(claim_ack_business_minutes, 1, 30 * 24 * 60),
	INT_OPT(claim_update_business_minutes, 1, 60 * 24 * 60),
	INT_OPT(claim_update_secs, 60, 366 * 86400),
	INT_OPT(claim_decide_days, 1, 365),
	INT_OPT(claim_pay_days, 1, 365),
	INT_OPT(recovery_due_days, 1, 3650),
	INT_OPT(report_major_claim_fen, 0, 1000000000000LL),
	INT_OPT(tier_key_fen, 1, 1000000000000LL),
	INT_OPT(tier_local_major_fen, 1, 1000000000000LL),
	INT_OPT(tier_medium_fen, 1, 1000000000000LL),
	INT_OPT(tier_window_months, 1, 24),
	INT_OPT(high_end_min_waybills, 1, 1000000),
	INT_OPT(high_end_min_declared_fen, 1, 1000000000000LL),
	INT_OPT(warning_min_months, 0, 120),
	INT_OPT(warning_revenue_drop_bp, 1, 10000),
	INT_OPT(contact_key_visit_days, 0, 3650),
	INT_OPT(contact_key_meeting_days, 0, 3650),
	INT_OPT(contact_local_major_visit_days, 0, 3650),
	INT_OPT(contact_local_major_call_days, 0, 3650),
	INT_OPT(contact_medium_call_days, 0, 3650),
	INT_OPT(monthend_batch_customers, 1, 100000),
	INT_OPT(kpi_on_time_handling_bp, 0, 10000),
	INT_OPT(kpi_on_time_delivery_bp, 0, 10000),
	INT_OPT(kpi_without_complaint_bp, 0, 10000),
	INT_OPT(kpi_damage_rate_max_bp, 0, 10000),
	INT_OPT(kpi_delivery_accuracy_bp, 0, 10000),
};

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

void config_default(struct config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->listen, "127.0.0.1:7420");
	strcpy(c->data_dir, "./parceldesk-data");
	strcpy(c->timezone, "Asia/Shanghai");
	strcpy(c->log_level, "info");
	c->max_line_bytes = 16384;
	c->max_frame_bytes = 65536;
	c->max_connections = 4096;
	c->max_connections_per_address = 64;
	c->idle_timeout_secs = 3600;
	c->login_timeout_secs = 60;
	c->request_timeout_secs = 30;
	c->max_output_bytes = 4 << 20;
	c->max_output_bytes_before_login = 64 << 10;
	c->max_group_jobs = 1024;
	c->map_size_mb = 1024;
	c->list_limit_max = 1000;
	c->max_events_per_waybill = 10000;
	c->waybill_events_page_max = 500;
	c->login_free_failures = 5;
	c->login_max_delay_secs = 60;
	c->login_concurrent_per_address = 16;
	c->login_lockout_failures = 20;
	c->login_lockout_secs = 3600;
	c->login_failure_window_secs = 900;
	c->auth_queue_max = 64;
	c->same_city_complete_delay_days = 3;
	c->intercity_complete_delay_days = 7;
	c->external_query_due_secs = 24 * 3600;
	c->find_approval_valid_secs = 30 * 60;
	c->redirect_fee_same_city_fen = 0;
	c->redirect_fee_other_city_fen = 1000;
	c->recall_fee_fen = 0;
	c->max_redirects_per_waybill = 1;
	c->query_retention_days = 365;
	c->complaint_acknowledge_secs = 24 * 3600;
	c->complaint_resolve_secs = 7 * 86400;
	c->complaint_regulator_reply_secs = 7 * 86400;
	c->complaint_max_open_secs = 30 * 86400;
	c->complaint_escalated_resolve_secs = 7 * 86400;
	c->complaint_legal_max_days = 7;
	strcpy(c->complaint_manual_level, "next");
	strcpy(c->complaint_over_authority_level, "next");
	strcpy(c->complaint_media_or_regulator_level, "supervisor");
	strcpy(c->complaint_several_departments_level, "supervisor");
	strcpy(c->complaint_customer_refused_level, "next");
	strcpy(c->complaint_overdue_level, "next");
	strcpy(c->complaint_media_level, "manager"); /* the media go to the top at once */
	c->complaint_percent_value_added = 90;
	c->complaint_percent_exclusive = 75;
	c->complaint_percent_customised = 50;
	c->complaint_business_clocks = 1;
	c->complaint_ack_business_minutes = 8 * 60;       /* one working day */
	c->complaint_update_business_minutes = 16 * 60;   /* every two working days */
	c->complaint_update_secs = 2 * 86400;
	c->complaint_resolve_business_minutes = 5 * 8 * 60; /* a working week */
	c->complaint_escalated_resolve_business_minutes = 5 * 8 * 60;
	c->authority_handler_fen = 100000;
	c->authority_supervisor_fen = 1000000;
	c->claim_deductible_fen = 30000;
	c->insurer_deductible_fen = 30000;
	c->uninsured_fee_multiple = 3;
	c->clause_b_piece_value_fen = 1000000;
	c->claim_filing_days = 365;
	c->claim_acknowledge_secs = 24 * 3600;
	c->claim_ack_business_minutes = 8 * 60; /* one working day */
	c->claim_update_business_minutes = 16 * 60; /* every two working days */
	c->claim_update_secs = 2 * 86400;
	c->claim_decide_days = 30;
	c->claim_pay_days = 7;
	c->recovery_due_days = 30;
	c->report_major_claim_fen = 100000;
	c->tier_key_fen = 20000000;             /* 200,000 yuan a month */
	c->tier_local_major_fen = 5000000;      /* 50,000 yuan */
	c->tier_medium_fen = 1000000;           /* 10,000 yuan */
	c->tier_window_months = 3;
	c->high_end_min_waybills = 20;
	c->high_end_min_declared_fen = 5000000; /* 50,000 yuan */
	c->warning_min_months = 6;
	c->warning_revenue_drop_bp = 2000;      /* 20 % */
	c->contact_key_visit_days = 30;         /* the contact plan: docs/customers.md */
	c->contact_key_meeting_days = 91;
	c->contact_local_major_visit_days = 91;
	c->contact_local_major_call_days = 30;
	c->contact_medium_call_days = 30;
	c->monthend_batch_customers = 500;
	c->kpi_on_time_handling_bp = 9900;
	c->kpi_on_time_delivery_bp = 9900;
	c->kpi_without_complaint_bp = 9800;
	c->kpi_damage_rate_max_bp = 10;         /* 0.1 % */
	c->kpi_delivery_accuracy_bp = 9800;
}

static const struct option_desc *find_option(const char *key)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (strcmp(options[i].name, key) == 0)
			return &options[i];
	return NULL;
}

int config_set(struct config *c, const char *key, const char *value)
{
	const struct option_desc *o = find_option(key);
	if (!o) {
		fprintf(stderr, "parceldeskd: unknown option '%s'\n", key);
		return -1;
	}
	char *field = (char *)c + o->offset;
	if (o->kind == OPT_STR) {
		if (strlen(value) >= o->size) {
			fprintf(stderr, "parceldeskd: option '%s' is too long\n", key);
			return -1;
		}
		strcpy(field, value);
		return 0;
	}
	if (o->kind == OPT_FLAG) {
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			*field = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			*field = 0;
		else {
			fprintf(stderr, "parceldeskd: option '%s' must be yes or no\n", key);
			return -1;
		}
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno || end == value || *end || v < o->min || v > o->max) {
		fprintf(stderr, "parceldeskd: option '%s' must be an integer from %lld to %lld\n",
			key, (long long)o->min, (long long)o->max);
		return -1;
	}
	*(int64_t *)field = v;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int config_load_file(struct config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "parceldeskd: cannot open config %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[1024];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr, "parceldeskd: %s:%d: expected 'key = value'\n", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (config_set(c, trim(s), trim(eq + 1)) < 0) {
			fprintf(stderr, "parceldeskd: in %s:%d\n", path, lineno);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

int config_validate(const struct config *c)
{
	const char *colon = strrchr(c->listen, ':');
	if (!colon || colon == c->listen || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
		fprintf(stderr, "parceldeskd: listen must be HOST:PORT, got '%s'\n", c->listen);
		return -1;
	}
	if (!c->data_dir[0]) {
		fprintf(stderr, "parceldeskd: data_dir is empty\n");
		return -1;
	}
	if (log_level_rank(c->log_level) < 0) {
		fprintf(stderr, "parceldeskd: log_level must be debug, info, warn or error, got '%s'\n",
			c->log_level);
		return -1;
	}
	if (c->max_frame_bytes < 256 || c->max_line_bytes < 256)
		return -1;
	if (c->tls_required && !c->tls_cert[0]) {
		fprintf(stderr, "parceldeskd: tls_required needs tls_cert and tls_key\n");
		return -1;
	}
	if (c->tier_medium_fen >= c->tier_local_major_fen || c->tier_local_major_fen >= c->tier_key_fen) {
		fprintf(stderr, "parceldeskd: tier thresholds must rise: tier_medium_fen < tier_local_major_fen < tier_key_fen\n");
		return -1;
	}
	return 0;
}

void config_each(const struct config *c,
		 void (*fn)(void *ud, const char *key, const char *value),
		 void *ud)
{
	char buf[64];
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct option_desc *o = &options[i];
		const char *field = (const char *)c + o->offset;
		if (!strcmp(o->name, "admin_password_file"))
			continue;
		if (o->kind == OPT_STR) {
			fn(ud, o->name, field);
		} else if (o->kind == OPT_FLAG) {
			fn(ud, o->name, *field ? "yes" : "no");
		} else {
			snprintf(buf, sizeof(buf), "%lld", (long long)*(const int64_t *)field);
			fn(ud, o->name, buf);
		}
	}
}
