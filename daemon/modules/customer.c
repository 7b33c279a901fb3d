/* customer.c — CUSTOMER commands: accounts, tiers and service levels.
 *
 * A customer is one record in `customers` (be64 id -> map), found by its
 * account through `idx_cust` ("account=C000101" -> id), which also holds
 * the list look-ups (name, phone, tier, depot, manager). As with complaints,
 * handlers change a copy and customer_save() moves exactly the index
 * entries whose keys differ and writes the timeline entry.
 *
 * The tier is computed by the pure rules (customer_rules.c) from the
 * monthly volume counters of the window ending with a complete month: at
 * each month end (monthend.c) and on demand (ADD, EDIT, TIER auto) for the
 * last complete month. `tier_month` remembers the month it was computed
 * for, so re-running an older month never turns a tier back. A manual
 * override wins over the rules until `tier=auto` removes it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "compensation.h"
#include "customer.h"
#include "record.h"
#include "volume.h"

#define STRENGTH_MIN 1
#define STRENGTH_MAX 5

/* The rules' config, built and checked once by customer_setup(). */
static struct customer_rules_config rules;

int customer_setup(const struct config *cfg)
{
	customer_rules_from_options(cfg, &rules);
	const char *problem;
	if (customer_rules_validate(&rules, &problem) != 0) {
		fprintf(stderr, "parceldeskd: customer options: %s\n", problem);
		return -1;
	}
	return 0;
}

const struct customer_rules_config *customer_rules(void)
{
	return &rules;
}

/* ---- months ---- */

int month_now(const struct cmd_ctx *ctx)
{
	return volume_month(ctx->now);
}

const char *month_text(struct cmd_ctx *ctx, int yyyymm)
{
	return pd_sprintf(ctx->a, "%04d-%02d", yyyymm / 100, yyyymm % 100);
}

int month_arg(struct cmd_ctx *ctx, const char *name, int *yyyymm)
{
	int y, m;
	const char *s = pd_arg_str(ctx->args, name);
	if (!s || pd_month_parse(s, &y, &m) < 0)
		return reply_error(ctx, 400, "argument '%s' must be a month like 2026-11", name);
	*yyyymm = y * 100 + m;
	if (*yyyymm > month_now(ctx))
		return reply_error(ctx, 422, "month %s is in the future", s);
	return 0;
}

int month_arg_or_last(struct cmd_ctx *ctx, const char *name, int *yyyymm)
{
	if (pd_arg_str(ctx->args, name))
		return month_arg(ctx, name, yyyymm);
	*yyyymm = month_add(month_now(ctx), -1);
	return 0;
}

/* ---- finding and saving ---- */

int customer_find(struct cmd_ctx *ctx, const char *account, struct pd_value **out, int64_t *id)
{
	const char *key = pd_sprintf(ctx->a, "account=%s", account);
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = mdb_get(ctx->txn, ctx->st->idx_cust, &k, &v);
	if (rc)
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	if (id)
		*id = (int64_t)be64_get(v.mv_data);
	unsigned char idkey[8];
	memcpy(idkey, v.mv_data, 8);
	return store_get(ctx->txn, ctx->st->customers, idkey, 8, ctx->a, out);
}

int customer_load(struct cmd_ctx *ctx, const char *account, struct pd_value **out)
{
	int rc = customer_find(ctx, account, out, NULL);
	if (rc == MDB_NOTFOUND)
		reply_error(ctx, 404, "no customer %s", account);
	else if (rc)
		reply_store_error(ctx, rc);
	return rc;
}

int customer_record_new(struct cmd_ctx *ctx, const struct record_kind *kind,
			const struct pd_value *c, struct pd_value **out)
{
	int rc = record_new(ctx, kind, out);
	if (rc)
		return rc;
	pd_map_set_str(ctx->a, *out, "customer", rec_str(c, "account"));
	pd_map_set_str(ctx->a, *out, "customer_name", rec_str(c, "name"));
	pd_map_set_str(ctx->a, *out, "depot", rec_str(c, "depot"));
	return 0;
}

int customer_start_day(const struct pd_value *c)
{
	int y, m, d;
	const char *start = rec_str(c, "contract_start");
	if (*start && pd_date_parse(start, &y, &m, &d) == 0)
		return y * 10000 + m * 100 + d;
	return pd_local_day(rec_int(c, "created_at"));
}

/* Names are searched by prefix without regard to ASCII case. */
static const char *name_key(struct cmd_ctx *ctx, const char *name)
{
	char *k = pd_sprintf(ctx->a, "name=%s", name);
	for (char *p = k + 5; *p; p++)
		if ((unsigned char)*p < 0x80)
			*p = (char)tolower((unsigned char)*p);
	return k;
}

static const char *name_index_key(struct cmd_ctx *ctx, const struct pd_value *c)
{
	return name_key(ctx, rec_str(c, "name"));
}

/* A customer is found by its account and listed by name, tier, depot,
 * manager and both phones (one key when they are the same). */
static const struct record_index CUSTOMER_INDEXES[] = {
	{ "name", NULL, name_index_key },
	{ "phone", "phone2", NULL },
	{ NULL, NULL, NULL },
};

/* The next instant the customer's care needs the daemon (a birthday call
 * to raise): kept in care_at by customer_plan_care(). */
static int64_t care_timer(const struct pd_value *c)
{
	return rec_int(c, "care_at");
}

static const struct record_kind CUSTOMER = {
	RECORD_KIND("customer", customers, idx_cust),
	.fields = RECORD_FIELDS("account", "tier", "depot", "manager", "phone"),
	.indexes = CUSTOMER_INDEXES,
	.timer = care_timer,
};

int customer_save(struct cmd_ctx *ctx, const struct pd_value *before,
		  struct pd_value *after, const char *action, const char *text)
{
	/* a month end that only notes the month it looked at keeps no entry */
	return record_save(ctx, &CUSTOMER, before, after, action, text);
}

const char *customer_member(const struct pd_value *c, const char *role)
{
	const struct pd_value *team = pd_map_get(c, "team");
	const char *who = team ? rec_str(team, role) : "";
	return *who ? who : rec_str(c, "manager");
}

/* ---- tiers ---- */

static int64_t sum_counter(struct cmd_ctx *ctx, const char *account, int last_month, int months,
			   const char *metric)
{
	/* each month's total is at most INT64_MAX (store_counter_add()):
	 * their sum stops there rather than wrap */
	int64_t sum = 0;
	for (int i = 0; i < months; i++)
		if (__builtin_add_overflow(sum, volume_get(ctx->txn, ctx->st, "C", account,
							   month_add(last_month, -i), metric), &sum))
			return INT64_MAX;
	return sum;
}

/* The rules' verdict for the window ending with `month`. */
void customer_tier_for(struct cmd_ctx *ctx, const struct pd_value *c, int month, struct tier_result *out)
{
	const char *account = rec_str(c, "account");
	int payment = customer_payment_parse(rec_str(c, "payment"));
	struct tier_facts f = {
		.payment = payment < 0 ? PAYMENT_MONTHLY : (enum customer_payment)payment,
		.months = tier_average_months(&rules, cooperation_months(customer_start_day(c), month)),
		.waybills = sum_counter(ctx, account, month, rules.tier_window_months, "waybills"),
		.declared_fen = sum_counter(ctx, account, month, rules.tier_window_months, "declared_fen"),
	};
	f.revenue_fen = sum_counter(ctx, account, month, f.months, "revenue_fen");
	customer_tier_classify(&rules, &f, out);
}

static int tier_month_of(const struct pd_value *c)
{
	int y, m;
	const char *s = rec_str(c, "tier_month");
	return *s && pd_month_parse(s, &y, &m) == 0 ? y * 100 + m : 0;
}

/* Sets tier and service_level from the override or the rules' tier. */
static void set_effective_tier(struct cmd_ctx *ctx, struct pd_value *c)
{
	const char *override = rec_str(c, "tier_override");
	const char *tier = *override ? override : rec_str(c, "tier_auto");
	int t = customer_tier_parse(tier);
	pd_map_set_str(ctx->a, c, "tier", tier);
	pd_map_set_str(ctx->a, c, "service_level",
		       service_level_name(t < 0 ? SERVICE_BASIC : customer_tier_service_level((enum customer_tier)t)));
}

bool customer_apply_tier(struct cmd_ctx *ctx, struct pd_value *c, int month)
{
	const char *old_tier = pd_strdup(ctx->a, rec_str(c, "tier"));
	const char *old_level = pd_strdup(ctx->a, rec_str(c, "service_level"));
	if (tier_month_of(c) <= month) {
		struct tier_result r;
		customer_tier_for(ctx, c, month, &r);
		pd_map_set_str(ctx->a, c, "tier_auto", customer_tier_name(r.tier));
		pd_map_set_int(ctx->a, c, "average_payment_fen", r.average_fen);
		pd_map_set_str(ctx->a, c, "tier_month", month_text(ctx, month));
	}
	set_effective_tier(ctx, c);
	return strcmp(old_tier, rec_str(c, "tier")) != 0 || strcmp(old_level, rec_str(c, "service_level")) != 0;
}

const char *customer_service_level(struct cmd_ctx *ctx, const char *account)
{
	struct pd_value *c;
	if (!account || !*account || customer_find(ctx, account, &c, NULL) != 0)
		return "basic";
	const char *level = rec_str(c, "service_level");
	return *level ? level : "basic";
}

/* ---- arguments shared by ADD and EDIT ---- */

static const char *const STRING_FIELDS[] = {
	"name", "payment", "depot", "city", "contact", "phone", "contact2", "phone2",
	"contract_start", "manager", "credit_rating", "note",
};
static const char *const INT_FIELDS[] = { "credit_limit_fen", "lateness_discount_bp", "strength" };

/* The contract's uninsured cap: a multiple of the fee (0 .. the engine's
 * maximum), or "terms" for our carriage terms (the config's multiple),
 * stored as nil. Returns 1 when given, 0 when not, -1 with the reply set. */
static int apply_fee_multiple(struct cmd_ctx *ctx, struct pd_value *c)
{
	const char *word = pd_arg_str(ctx->args, "uninsured_fee_multiple");
	if (!word)
		return 0;
	if (strcmp(word, "terms") == 0) {
		pd_map_set(ctx->a, c, "uninsured_fee_multiple", pd_nil(ctx->a));
		return 1;
	}
	char *end;
	errno = 0;
	long long v = strtoll(word, &end, 10);
	if (!isdigit((unsigned char)word[0]) || *end || errno || v > COMP_MAX_FEE_MULTIPLE)
		return reply_error(ctx, 400, "argument 'uninsured_fee_multiple' must be a whole number from 0 to %d "
					     "(the contract's cap, times the fee) or terms (our carriage terms)",
				   COMP_MAX_FEE_MULTIPLE);
	pd_map_set_int(ctx->a, c, "uninsured_fee_multiple", v);
	return 1;
}

/* Checks the arguments given and copies them into c. Returns the number of
 * fields given, or a (negative) PD_E* or LMDB code with the reply set. */
static int apply_args(struct cmd_ctx *ctx, struct pd_value *c)
{
	int64_t v;
	int multiple = apply_fee_multiple(ctx, c);
	if (multiple < 0)
		return multiple;
	if (pd_arg_int(ctx->args, "strength", &v) && (v < STRENGTH_MIN || v > STRENGTH_MAX))
		return reply_error(ctx, 400, "argument 'strength' must be from %d to %d", STRENGTH_MIN, STRENGTH_MAX);
	if (pd_arg_int(ctx->args, "lateness_discount_bp", &v) && v > BP_WHOLE)
		return reply_error(ctx, 400, "argument 'lateness_discount_bp' must be from 0 to %d", BP_WHOLE);
	const char *manager = pd_arg_str(ctx->args, "manager");
	int rc;
	if (manager && (rc = user_load(ctx, manager, NULL)))
		return rc;
	int given = multiple;
	for (size_t i = 0; i < sizeof(STRING_FIELDS) / sizeof(STRING_FIELDS[0]); i++) {
		const char *s = pd_arg_str(ctx->args, STRING_FIELDS[i]);
		if (s) {
			pd_map_set_str(ctx->a, c, STRING_FIELDS[i], s);
			given++;
		}
	}
	for (size_t i = 0; i < sizeof(INT_FIELDS) / sizeof(INT_FIELDS[0]); i++)
		if (pd_arg_int(ctx->args, INT_FIELDS[i], &v)) {
			pd_map_set_int(ctx->a, c, INT_FIELDS[i], v);
			given++;
		}
	return given;
}

/* The short answer of a change: who the customer is and where it stands. */
static int finish(struct cmd_ctx *ctx, const struct pd_value *before, struct pd_value *after,
		   const char *action, const char *text, int code, const char *msg)
{
	int rc = customer_save(ctx, before, after, action, text);
	if (rc)
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_int(ctx->a, d, "id", rec_int(after, "id"));
	pd_map_set_str(ctx->a, d, "account", rec_str(after, "account"));
	pd_map_set_str(ctx->a, d, "tier", rec_str(after, "tier"));
	pd_map_set_str(ctx->a, d, "tier_source", *rec_str(after, "tier_override") ? "override" : "auto");
	pd_map_set_str(ctx->a, d, "service_level", rec_str(after, "service_level"));
	ctx->rep->data = d;
	reply_ok(ctx, code, "%s", msg);
	return 0;
}

/* ---- commands ---- */

int cmd_customer_add(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	const char *account = pd_arg_str(ctx->args, "account");
	struct pd_value *existing;
	int rc = customer_find(ctx, account, &existing, NULL);
	if (rc == 0)
		return reply_error(ctx, 409, "customer %s exists", account);
	if (rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	struct pd_value *c;
	if ((rc = record_new(ctx, &CUSTOMER, &c)))
		return reply_store_error(ctx, rc);
	pd_map_set_str(a, c, "account", account);
	if (apply_args(ctx, c) < 0)
		return PD_EREPLIED;
	pd_map_set_int(a, c, "created_at", ctx->now);
	pd_map_set_str(a, c, "created_by", ctx->sess->user);
	/* without a contract date, cooperation counts from registration */
	int today = pd_local_day(ctx->now);
	if (!pd_arg_str(ctx->args, "contract_start"))
		pd_map_set_str(a, c, "contract_start",
			       pd_sprintf(a, "%04d-%02d-%02d", today / 10000, today / 100 % 100, today % 100));
	pd_map_set_str(a, c, "tier_override", "");
	customer_apply_tier(ctx, c, month_add(month_now(ctx), -1));
	return finish(ctx, NULL, c, "add", NULL, 201, pd_sprintf(a, "customer %s added", account));
}

int cmd_customer_edit(struct cmd_ctx *ctx)
{
	struct pd_value *before;
	if (customer_load(ctx, pd_arg_str(ctx->args, "account"), &before))
		return PD_EREPLIED;
	struct pd_value *after = pd_value_copy(ctx->a, before);
	int given = apply_args(ctx, after);
	if (given < 0)
		return PD_EREPLIED;
	if (given == 0)
		return reply_error(ctx, 400, "nothing to change: give at least one field");
	/* payment terms and the contract start decide the tier: ask the rules
	 * again for the last complete month */
	customer_apply_tier(ctx, after, month_add(month_now(ctx), -1));
	return finish(ctx, before, after, "edit", NULL, 200, "changed");
}

int cmd_customer_tier(struct cmd_ctx *ctx)
{
	struct pd_value *before;
	if (customer_load(ctx, pd_arg_str(ctx->args, "account"), &before))
		return PD_EREPLIED;
	struct pd_value *after = pd_value_copy(ctx->a, before);
	const char *tier = pd_arg_str(ctx->args, "tier");
	const char *reason = pd_arg_str(ctx->args, "reason");
	if (strcmp(tier, "auto") == 0) {
		pd_map_set_str(ctx->a, after, "tier_override", "");
		pd_map_set_str(ctx->a, after, "tier_override_reason", "");
		pd_map_set_str(ctx->a, after, "tier_override_by", "");
		pd_map_set_int(ctx->a, after, "tier_override_at", 0);
		customer_apply_tier(ctx, after, month_add(month_now(ctx), -1));
		return finish(ctx, before, after, "tier_auto", reason, 200,
			      pd_sprintf(ctx->a, "tier follows the rules: %s", rec_str(after, "tier")));
	}
	if (!reason)
		return reply_error(ctx, 400, "missing argument 'reason' (a manual tier needs one)");
	pd_map_set_str(ctx->a, after, "tier_override", tier);
	pd_map_set_str(ctx->a, after, "tier_override_reason", reason);
	pd_map_set_str(ctx->a, after, "tier_override_by", ctx->sess->user);
	pd_map_set_int(ctx->a, after, "tier_override_at", ctx->now);
	set_effective_tier(ctx, after);
	return finish(ctx, before, after, "tier_override", reason, 200, pd_sprintf(ctx->a, "tier set by hand: %s", tier));
}

/* The map c[key] of a customer copy, added empty when absent. */
static struct pd_value *submap(struct cmd_ctx *ctx, struct pd_value *c, const char *key)
{
	struct pd_value *m = pd_map_get(c, key);
	if (!m) {
		m = pd_map(ctx->a);
		pd_map_set(ctx->a, c, key, m);
	}
	return m;
}

/* The team replaces one manager by a member per role; without a user the
 * role is left to the manager again. */
int cmd_customer_team(struct cmd_ctx *ctx)
{
	struct pd_value *before;
	if (customer_load(ctx, pd_arg_str(ctx->args, "account"), &before))
		return PD_EREPLIED;
	const char *role = pd_arg_str(ctx->args, "role"), *user = pd_arg_str(ctx->args, "user");
	if (user && user_load(ctx, user, NULL))
		return PD_EREPLIED;
	struct pd_value *after = pd_value_copy(ctx->a, before);
	struct pd_value *team = submap(ctx, after, "team");
	pd_map_set_str(ctx->a, team, role, user ? user : "");
	return finish(ctx, before, after, "team", pd_sprintf(ctx->a, "%s: %s", role, user ? user : "(the manager)"), 200,
		      user ? pd_sprintf(ctx->a, "%s is %s of %s", user, role, rec_str(after, "account"))
			   : pd_sprintf(ctx->a, "%s of %s: the manager", role, rec_str(after, "account")));
}

int64_t customer_count(struct cmd_ctx *ctx)
{
	MDB_stat s;
	return mdb_stat(ctx->txn, ctx->st->customers, &s) == 0 ? (int64_t)s.ms_entries : 0;
}

int customer_batch(struct cmd_ctx *ctx, int64_t after, int64_t n, struct pd_value *batch, bool *more)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->customers, &cur);
	if (rc)
		return rc;
	unsigned char start[8];
	be64_put(start, (uint64_t)after + 1);
	MDB_val k = { 8, start }, v;
	int64_t done = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && done < n;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct pd_value *c;
		size_t used;
		if (pd_value_unpack(ctx->a, v.mv_data, v.mv_size, &used, &c) != PD_UNPACK_OK) {
			rc = MDB_CORRUPTED;
			break;
		}
		pd_arr_push(ctx->a, batch, c);
		done++;
	}
	*more = rc == 0; /* stopped at n with a customer left */
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* "account|YYYYMM": a month of a customer staff explained. */
static const char *explanation_key(struct cmd_ctx *ctx, const char *account, int month)
{
	return pd_sprintf(ctx->a, "%s|%06d", account, month);
}

int customer_month_explained(struct cmd_ctx *ctx, const char *account, int month, bool *explained)
{
	const char *key = explanation_key(ctx, account, month);
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = mdb_get(ctx->txn, ctx->st->explanations, &k, &v);
	*explained = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int cmd_customer_explain(struct cmd_ctx *ctx)
{
	const char *account = pd_arg_str(ctx->args, "account");
	int y, m;
	pd_month_parse(pd_arg_str(ctx->args, "month"), &y, &m);
	int month = y * 100 + m;
	struct pd_value *c;
	if (customer_load(ctx, account, &c))
		return PD_EREPLIED;
	const char *key = explanation_key(ctx, account, month);
	struct pd_value *e = pd_map(ctx->a);
	pd_map_set_str(ctx->a, e, "account", account);
	pd_map_set_str(ctx->a, e, "month", month_text(ctx, month));
	pd_map_set_str(ctx->a, e, "reason", pd_arg_str(ctx->args, "reason"));
	pd_map_set_str(ctx->a, e, "explained_by", ctx->sess->user);
	pd_map_set_int(ctx->a, e, "explained_at", ctx->now);
	int rc;
	struct pd_value *detail = pd_map(ctx->a);
	pd_map_set_str(ctx->a, detail, "month", month_text(ctx, month));
	pd_map_set_str(ctx->a, detail, "text", pd_arg_str(ctx->args, "reason"));
	if ((rc = store_put(ctx->txn, ctx->st->explanations, key, strlen(key), e, 0)) ||
	    (rc = store_audit(ctx->txn, ctx->st, "customer", pd_sprintf(ctx->a, "%lld", (long long)rec_int(c, "id")),
			      ctx->sess->user, ctx->now, "explain", detail)))
		return reply_store_error(ctx, rc);
	ctx->rep->data = present(ctx, e);
	reply_ok(ctx, 200, "%s %s marked explained", account, month_text(ctx, month));
	return 0;
}

/* ---- the customer file (docs/customers.md "The customer file") ---- */

/* The terms kept in `file`; the last three are the special operating
 * requirements every depot sees on the account's waybills. */
static const char *const FILE_TERMS[] = { "insurance", "payment_terms", "rebates", "handling", "delivery_window" };
#define FILE_REQUIREMENTS_FROM 3

int cmd_customer_file(struct cmd_ctx *ctx)
{
	struct pd_value *before;
	if (customer_load(ctx, pd_arg_str(ctx->args, "account"), &before))
		return PD_EREPLIED;
	struct pd_value *after = pd_value_copy(ctx->a, before);
	struct pd_value *file = submap(ctx, after, "file");
	int given = 0;
	for (size_t i = 0; i < sizeof(FILE_TERMS) / sizeof(FILE_TERMS[0]); i++) {
		const char *v = pd_arg_str(ctx->args, FILE_TERMS[i]);
		if (v) {
			pd_map_set_str(ctx->a, file, FILE_TERMS[i], v);
			given++;
		}
	}
	if (pd_map_get(ctx->args, "receipt_return")) {
		pd_map_set_bool(ctx->a, file, "receipt_return", pd_arg_bool(ctx->args, "receipt_return", 0));
		given++;
	}
	if (!given)
		return reply_error(ctx, 400, "nothing to change: give at least one term");
	return finish(ctx, before, after, "file", NULL, 200,
		      pd_sprintf(ctx->a, "file of %s changed", rec_str(after, "account")));
}

int customer_requirements(struct cmd_ctx *ctx, const char *account, struct pd_value **out)
{
	struct pd_value *c;
	*out = NULL;
	int rc = account && *account ? customer_find(ctx, account, &c, NULL) : MDB_NOTFOUND;
	const struct pd_value *file = rc ? NULL : pd_map_get(c, "file");
	if (!file)
		return rc == MDB_NOTFOUND ? 0 : rc;
	struct pd_value *req = pd_map(ctx->a);
	if (pd_map_bool(file, "receipt_return"))
		pd_map_set_bool(ctx->a, req, "receipt_return", true);
	for (size_t i = FILE_REQUIREMENTS_FROM; i < sizeof(FILE_TERMS) / sizeof(FILE_TERMS[0]); i++)
		if (*rec_str(file, FILE_TERMS[i]))
			pd_map_set_str(ctx->a, req, FILE_TERMS[i], rec_str(file, FILE_TERMS[i]));
	*out = req->u.c.count ? req : NULL;
	return 0;
}

/* The next birthday of person p a call is raised for (YYYYMMDD, 0: none):
 * the next one from today on that has not had its call yet. */
static int next_birthday(const struct cmd_ctx *ctx, const struct pd_value *p)
{
	int m, d;
	if (birthday_parse(rec_str(p, "birthday"), &m, &d) < 0)
		return 0;
	int day = birthday_next(m, d, pd_local_day(ctx->now));
	return day == rec_int(p, "birthday_raised") ? birthday_next(m, d, day + 1) : day;
}

int64_t customer_day_start(int day)
{
	return pd_local_day_start(day / 10000, day / 100 % 100, day % 100);
}

static int64_t birthday_raise_at(const struct cmd_ctx *ctx, int day)
{
	return customer_day_start(day) - ctx->cfg->contact_birthday_ahead_days * 86400;
}

void customer_plan_care(struct cmd_ctx *ctx, struct pd_value *c)
{
	int64_t at = 0;
	const struct pd_value *persons = pd_map_get(c, "persons");
	for (const struct pd_entry *e = persons ? persons->u.c.head : NULL; e; e = e->next) {
		int day = next_birthday(ctx, e->val);
		if (day && (!at || birthday_raise_at(ctx, day) < at))
			at = birthday_raise_at(ctx, day);
	}
	int64_t mature = customer_in_trial(c) ? customer_mature_at(c) : 0;
	if (mature && (!at || mature < at))
		at = mature;
	pd_map_set_int(ctx->a, c, "care_at", at);
}

bool customer_in_trial(const struct pd_value *c)
{
	return strcmp(rec_str(c, "trial_status"), "trial") == 0;
}

int64_t customer_mature_at(const struct pd_value *c)
{
	int y, m, d;
	if (pd_date_parse(rec_str(c, "trial_end"), &y, &m, &d) < 0)
		return 0;
	return customer_day_start(y * 10000 + m * 100 + d) + 86400;
}

void customer_set_mature(struct cmd_ctx *ctx, struct pd_value *c)
{
	pd_map_set_str(ctx->a, c, "trial_status", "mature");
	pd_map_set_int(ctx->a, c, "matured_at", ctx->now);
	pd_map_set_str(ctx->a, c, "matured_by", ctx->sess->user);
	customer_plan_care(ctx, c);
}

int customer_care_take(struct cmd_ctx *ctx, int64_t id, struct pd_value **before, struct pd_value **after,
		       struct pd_value *birthdays)
{
	int rc = record_get(ctx, &CUSTOMER, id, before);
	if (rc)
		return rc;
	*after = pd_value_copy(ctx->a, *before);
	struct pd_value *persons = pd_map_get(*after, "persons");
	for (struct pd_entry *e = persons ? persons->u.c.head : NULL; e; e = e->next) {
		int day = next_birthday(ctx, e->val);
		if (!day || birthday_raise_at(ctx, day) > ctx->now)
			continue;
		struct pd_value *b = pd_map(ctx->a);
		pd_map_set_str(ctx->a, b, "name", rec_str(e->val, "name"));
		pd_map_set_int(ctx->a, b, "day", day);
		pd_arr_push(ctx->a, birthdays, b);
		pd_map_set_int(ctx->a, e->val, "birthday_raised", day);
	}
	/* the trial ends by rule when its time has come */
	if (customer_in_trial(*after) && customer_mature_at(*after) <= ctx->now)
		customer_set_mature(ctx, *after);
	customer_plan_care(ctx, *after);
	return 0;
}

/* One person of the file by name: added, changed (the fields given) or
 * removed. A changed birthday has its call raised again. */
int cmd_customer_person(struct cmd_ctx *ctx)
{
	struct pd_value *before;
	const char *name = pd_arg_str(ctx->args, "name");
	bool remove = pd_arg_bool(ctx->args, "remove", 0);
	static const char *const FIELDS[] = { "role", "phone", "birthday", "preferences" };
	size_t n_fields = sizeof(FIELDS) / sizeof(FIELDS[0]), given = 0;
	for (size_t i = 0; i < n_fields; i++)
		given += pd_arg_str(ctx->args, FIELDS[i]) != NULL;
	if (remove && given)
		return reply_error(ctx, 400, "remove=yes takes no other field");
	int m, d;
	const char *birthday = pd_arg_str(ctx->args, "birthday");
	if (birthday && birthday_parse(birthday, &m, &d) < 0)
		return reply_error(ctx, 400, "argument 'birthday' must be a day of the calendar as MM-DD or YYYY-MM-DD");
	if (customer_load(ctx, pd_arg_str(ctx->args, "account"), &before))
		return PD_EREPLIED;
	struct pd_value *after = pd_value_copy(ctx->a, before);
	struct pd_value *old = pd_map_get(after, "persons"), *persons = pd_arr(ctx->a), *p = NULL;
	for (struct pd_entry *e = old ? old->u.c.head : NULL; e; e = e->next)
		if (strcmp(rec_str(e->val, "name"), name) == 0)
			p = e->val;
		else
			pd_arr_push(ctx->a, persons, e->val);
	if (remove && !p)
		return reply_error(ctx, 404, "no person '%s' in the file of %s", name, rec_str(after, "account"));
	const char *done = remove ? "removed from" : p ? "changed in" : "added to";
	if (!remove) {
		if (!p) {
			p = pd_map(ctx->a);
			pd_map_set_str(ctx->a, p, "name", name);
		}
		for (size_t i = 0; i < n_fields; i++)
			if (pd_arg_str(ctx->args, FIELDS[i]))
				pd_map_set_str(ctx->a, p, FIELDS[i], pd_arg_str(ctx->args, FIELDS[i]));
		if (birthday)
			pd_map_set_int(ctx->a, p, "birthday_raised", 0);
		pd_arr_push(ctx->a, persons, p);
	}
	pd_map_set(ctx->a, after, "persons", persons);
	customer_plan_care(ctx, after);
	return finish(ctx, before, after, "person", name, 200,
		      pd_sprintf(ctx->a, "%s %s the file of %s", name, done, rec_str(after, "account")));
}

/* ---- LIST ---- */

struct list_filter {
	const char *name_prefix, *phone, *tier, *depot, *manager;
	struct pd_value *rows;
};

static bool has_phone(const struct pd_value *c, const char *phone)
{
	return strcmp(rec_str(c, "phone"), phone) == 0 || strcmp(rec_str(c, "phone2"), phone) == 0;
}

static bool list_keep(struct cmd_ctx *ctx, const struct pd_value *c, void *ud)
{
	struct list_filter *f = ud;
	if ((f->phone && !has_phone(c, f->phone)) ||
	    (f->tier && strcmp(f->tier, rec_str(c, "tier")) != 0) ||
	    (f->depot && strcmp(f->depot, rec_str(c, "depot")) != 0) ||
	    (f->manager && strcmp(f->manager, rec_str(c, "manager")) != 0))
		return false;
	if (f->name_prefix) {
		const char *k = name_key(ctx, rec_str(c, "name"));
		if (strncmp(k, f->name_prefix, strlen(f->name_prefix)) != 0)
			return false;
	}
	struct pd_value *r = pd_map(ctx->a);
	static const char *const cols[] = { "id", "account", "name", "tier", "service_level", "payment",
					    "depot", "city", "manager", "phone" };
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		struct pd_value *v = pd_map_get(c, cols[i]);
		pd_map_set(ctx->a, r, cols[i], v ? v : pd_str(ctx->a, ""));
	}
	pd_arr_push(ctx->a, f->rows, r);
	return true;
}

/* By name: the names index from the prefix on, in name order. */
static int list_by_name(struct cmd_ctx *ctx, struct list_filter *f, int64_t limit)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->idx_cust, &cur);
	if (rc)
		return rc;
	size_t plen = strlen(f->name_prefix);
	MDB_val k = { plen, (void *)f->name_prefix }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && (int64_t)f->rows->u.c.count < limit; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, f->name_prefix, plen) != 0)
			break;
		struct pd_value *c;
		unsigned char idkey[8];
		if (v.mv_size != 8)
			continue;
		memcpy(idkey, v.mv_data, 8);
		if ((rc = store_get(ctx->txn, ctx->st->customers, idkey, 8, ctx->a, &c)))
			break;
		list_keep(ctx, c, f);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int cmd_customer_list(struct cmd_ctx *ctx)
{
	struct list_filter f = {
		.phone = pd_arg_str(ctx->args, "phone"), .tier = pd_arg_str(ctx->args, "tier"),
		.depot = pd_arg_str(ctx->args, "depot"), .manager = pd_arg_str(ctx->args, "manager"),
		.rows = pd_arr(ctx->a),
	};
	const char *name = pd_arg_str(ctx->args, "name");
	if (name)
		f.name_prefix = name_key(ctx, name);
	int64_t limit, before;
	if (rec_list_args(ctx, &limit, &before))
		return PD_EREPLIED;
	int rc;
	size_t kept;
	const char *key = f.phone ? pd_sprintf(ctx->a, "phone=%s", f.phone)
			: f.manager ? pd_sprintf(ctx->a, "manager=%s", f.manager)
			: f.depot ? pd_sprintf(ctx->a, "depot=%s", f.depot)
			: f.tier ? pd_sprintf(ctx->a, "tier=%s", f.tier) : NULL;
	if (name && !key)
		rc = list_by_name(ctx, &f, limit);
	else
		rc = rec_walk_newest(ctx, ctx->st->customers, ctx->st->idx_cust, key, before, limit, list_keep, &f, &kept);
	if (rc)
		return reply_store_error(ctx, rc);
	ctx->rep->data = f.rows;
	reply_ok(ctx, 200, "%s", count_of(ctx, (int64_t)f.rows->u.c.count, "customer", "customers"));
	return 0;
}
