/* modules.c — every module of the daemon in one table (what it builds at
 * start, which due times it keeps and who handles them), SWEEP, which hands
 * due entries to their modules, and the daemon's process-wide objects;
 * apart from main() so unit tests and contrib tools link the daemon's
 * modules without it. The core reaches a module only through this table
 * (and the command table, commands.def). */
#include <stdio.h>
#include <string.h>

#include "care.h"
#include "claim.h"
#include "complaint.h"
#include "contact.h"
#include "customer.h"
#include "daemon.h"
#include "query.h"
#include "record.h"
#include "waybill.h"

struct stats g_stats;
__thread unsigned g_loop;
unsigned g_loops = 1;
struct config g_config;
struct store g_store;

uint64_t rows_sum(const _Atomic uint64_t *first, size_t stride, size_t rows)
{
	uint64_t sum = 0;
	for (size_t r = 0; r < rows; r++)
		sum += atomic_load_explicit((const _Atomic uint64_t *)((const char *)first + r * stride),
					    memory_order_relaxed);
	return sum;
}

static const struct pd_module modules[] = {
	{ "auth", NULL, NULL, NULL, NULL, NULL },
	{ "waybill", NULL, NULL, NULL, waybill_list_open, NULL },
	{ "query", query_setup, "query", query_on_due, query_open, NULL },
	{ "calendar", NULL, NULL, NULL, NULL, NULL },
	{ "volume", NULL, NULL, NULL, NULL, NULL },
	{ "complaint", complaint_setup, "complaint", complaint_on_due, complaint_open, complaint_gauges },
	{ "claim", claim_setup, "claim", claim_on_due, claim_open, claim_gauges },
	/* a customer's due time raises contacts: the contact module handles it */
	{ "customer", customer_setup, "customer", customer_care_on_due, NULL, NULL },
	{ "contact", NULL, "contact", contact_on_due, contact_open, NULL },
	{ "need", NULL, NULL, NULL, NULL, NULL },
	{ "rectify", NULL, "rectify", rectify_on_due, NULL, NULL },
	{ "survey", NULL, "survey", survey_on_due, NULL, NULL },
	{ "winback", NULL, NULL, NULL, NULL, NULL },
	{ "warning", NULL, "warning", warning_on_due, NULL, NULL },
	{ "monthend", NULL, "monthend", monthend_on_due, NULL, NULL },
	{ "report", NULL, NULL, NULL, NULL, NULL },
	{ "system", NULL, NULL, NULL, NULL, NULL },
};

#define MODULE_COUNT (sizeof(modules) / sizeof(modules[0]))

int modules_setup(const struct config *cfg)
{
	if (pd_commands_init() < 0)
		return 1;
	for (size_t i = 0; i < MODULE_COUNT; i++)
		if (modules[i].setup && modules[i].setup(cfg) < 0)
			return 2;
	return 0;
}

int modules_open(struct store *st, const struct config *cfg)
{
	for (size_t i = 0; i < MODULE_COUNT; i++) {
		bool more = modules[i].open != NULL;
		while (more) {
			struct pd_arena a;
			MDB_txn *txn;
			size_t map;
			int rc = store_write_begin(st, &txn, &map);
			if (rc) {
				fprintf(stderr, "parceldeskd: %s: %s\n", modules[i].name, mdb_strerror(rc));
				return -1;
			}
			pd_arena_init(&a);
			struct cmd_ctx ctx = { .a = &a, .st = st, .txn = txn, .sess = &record_daemon, .cfg = cfg,
					       .now = clock_now() };
			rc = modules[i].open(&ctx, &more);
			/* a start-up step (redone by a start that finds it
			 * undone); under the write-ahead log, synced by the
			 * start's checkpoint before anything is answered */
			if (rc == 0)
				rc = mdb_txn_commit(txn);
			else
				mdb_txn_abort(txn);
			pd_arena_free(&a);
			/* a full map grows and the step runs again */
			if (rc == MDB_MAP_FULL && store_grow(st, map) == 0) {
				more = true;
				continue;
			}
			if (rc) {
				fprintf(stderr, "parceldeskd: cannot bring the %s records up to date: %s\n",
					modules[i].name, mdb_strerror(rc));
				return -1;
			}
		}
	}
	return 0;
}

void modules_gauges(MDB_txn *txn, struct store *st, int64_t now,
		    void (*fn)(void *ud, const struct module_gauges *g), void *ud)
{
	for (size_t i = 0; i < MODULE_COUNT; i++) {
		struct module_gauges g = { 0 };
		if (modules[i].gauges && modules[i].gauges(txn, st, now, &g) == 0)
			fn(ud, &g);
	}
}

static const struct pd_module *module_for_timer(const char *kind)
{
	for (size_t i = 0; i < MODULE_COUNT; i++)
		if (modules[i].timer_kind && strcmp(modules[i].timer_kind, kind) == 0)
			return &modules[i];
	return NULL;
}

#define SWEEP_BATCH 256

/* Runs one due entry with its module's handler in a nested transaction,
 * so a handler that fails loses only its own writes. */
static int run_due(struct cmd_ctx *ctx, const struct timer_due *e)
{
	const struct pd_module *m = module_for_timer(e->kind);
	if (!m) {
		log_msg("error", 0, "parceldeskd", "due entry of unknown kind '%s:%llu' dropped",
			e->kind, (unsigned long long)e->id);
		return 0;
	}
	MDB_txn *parent = ctx->txn;
	struct store_nested child;
	int rc = store_nest_begin(parent, &child);
	if (rc)
		return rc;
	ctx->txn = child.txn;
	rc = m->on_due(ctx, e->id);
	ctx->txn = parent;
	if (rc) {
		store_nest_end(&child, false);
		if (rc == MDB_MAP_FULL)
			return rc;
		log_msg("error", 0, "parceldeskd", "due %s:%llu failed, dropped: %s",
			e->kind, (unsigned long long)e->id, pd_strerror(rc));
		return 0;
	}
	return store_nest_end(&child, true);
}

/* Takes at most SWEEP_BATCH due entries out of `timers`, then hands each
 * to its module's on_due, which sets a new entry if its record needs one.
 * A handler that fails is logged and its entry dropped (its record's next
 * change sets its due time again); MDB_MAP_FULL fails the whole SWEEP, the
 * writer grows the map and runs it again. `more: yes` asks the loop to run
 * again at once. */
int cmd_sweep(struct cmd_ctx *ctx)
{
	struct timer_due batch[SWEEP_BATCH];
	size_t n;
	bool more;
	int rc = timers_take_due(ctx, batch, SWEEP_BATCH, &n, &more);
	if (rc)
		return reply_store_error(ctx, rc);
	for (size_t i = 0; i < n; i++)
		if ((rc = run_due(ctx, &batch[i])))
			return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_int(ctx->a, d, "done", (int64_t)n);
	pd_map_set_bool(ctx->a, d, "more", more);
	ctx->rep->data = d;
	ctx->fx.timers_changed = true;
	reply_ok(ctx, 200, "%zu due action(s) run", n);
	return 0;
}
