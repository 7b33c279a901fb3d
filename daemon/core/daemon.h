/* daemon.h — what the loop, the writer and the command handlers share. */
#ifndef PD_DAEMON_H
#define PD_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "command.h"
#include "reply.h"
#include "config.h"
#include "store.h"

#define USER_NAME_MAX 65

/* Who is asking: copied into every job, so the writer never touches a
 * connection. */
struct session {
	char user[USER_NAME_MAX];
	enum pd_role role;
	uint64_t conn_id;
	uint64_t users_seen; /* the users generation it was last checked at */
	int64_t pw_seq;      /* the user's password change count at login */
	bool private_line;   /* TLS or the admin socket: a password may cross it */
};

/* USER PASSWD name: one's own password, or any as an admin. Asked at
 * admission (dispatch_admit: before the password is hashed on the thread
 * logins share) and by the handler. */
#define PASSWD_OTHERS_REFUSAL "only an admin changes another user's password"
static inline bool session_may_set_password(const struct session *s, const char *name)
{
	return !strcmp(name, s->user) || s->role >= ROLE_ADMIN;
}

/* What a command asks beyond its reply: the one struct its side effects
 * travel in, from the handler (ctx->fx) through its job back to the loop. */
struct cmd_effects {
	bool close_after;     /* QUIT: close once the reply is out */
	bool timers_changed;  /* a due time was set: the loop re-arms its timer */
	bool keep_writes;     /* commit this job's writes although it answers
				 with an error (an approval above one's limit
				 is refused AND escalates) */
	bool users_changed;   /* a CMD_USERS command succeeded (set by
				 dispatch_handler from the table, not by hand):
				 every session is checked again */
	bool logged_in;       /* AUTH: the session becomes user / role */
	char user[USER_NAME_MAX];
	enum pd_role role;
	int64_t pw_seq;       /* AUTH: the user's password change count */
};

/* Everything a command handler gets. A handler validates, reads or writes
 * through ctx->txn, and fills ctx->rep; it never touches a socket. */
struct cmd_ctx {
	struct pd_arena *a;
	const struct pd_command *cmd;
	struct pd_value *args;
	struct pd_reply *rep;
	struct store *st;
	MDB_txn *txn;          /* read txn, or the job's nested write txn */
	const struct session *sess;
	const struct config *cfg;
	int64_t now;           /* UTC seconds, read once per request */
	int store_rc;          /* last LMDB error a handler met (MAP_FULL) */
	struct cmd_effects fx; /* applied by the loop after the reply */
};

/* The result of a handler, and of the helpers it calls: 0, or a negative
 * code. Like LMDB's MDB_* codes (-30799 .. -30780) the PD_E* codes sit in
 * one range below errno's, so an LMDB code passes through the same int
 * unchanged and pd_strerror() names any of them. A nonzero result always
 * comes with an error reply set in ctx->rep. */
enum {
	PD_E_FIRST = -32000,
	PD_EREPLIED = PD_E_FIRST, /* refused: the reply says why */
	PD_EUNDO,                 /* write_apply(): a job failed after it
				     wrote in the group's transaction; throw
				     it away (and run the group nested) */
	PD_E_LAST = PD_EUNDO,
};
const char *pd_strerror(int rc);

typedef int (*cmd_handler)(struct cmd_ctx *ctx);

/* Handlers, one per command, named cmd_<id> after commands.def. Each
 * returns 0 with ctx->rep set, or nonzero with an error reply set. */
#define CMD(id, word, sub, role, flags, args, help) int cmd_##id(struct cmd_ctx *ctx);
#include "commands.def"
#undef CMD

int dispatch_handler(struct cmd_ctx *ctx);

/* Reply helpers: set code and message, and return what the handler
 * returns: reply_ok 0, reply_error PD_EREPLIED, so a handler ends with
 * `return reply_error(ctx, 404, ...)`. */
int reply_ok(struct cmd_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int reply_error(struct cmd_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* reply_ok with a message the handler put together itself in the arena
 * (no printf: WAYBILL GET's, said by every look-up); made valid UTF-8 in
 * place like any message. */
int reply_ok_msg(struct cmd_ctx *ctx, int code, char *msg);
/* Maps an LMDB error to 500/503, remembers it (for MAP_FULL) and returns
 * it (nonzero). PD_EREPLIED (a helper refused and replied) passes
 * through, reply kept. */
int reply_store_error(struct cmd_ctx *ctx, int rc);
/* "N NOUN" with the noun agreeing: "1 claim", "0 claims", "2 queries". */
const char *count_of(struct cmd_ctx *ctx, int64_t n, const char *one, const char *many);

/* A stored record as a reply shows it: integer fields named at, *_at or
 * *_by (UTC seconds) become ISO 8601 times in the depot's zone, 0 an empty
 * string. present_field() does it for one named value. */
struct pd_value *present(struct cmd_ctx *ctx, const struct pd_value *rec);
struct pd_value *present_field(struct cmd_ctx *ctx, const char *key,
			       const struct pd_value *v);

/* Times in replies: ISO 8601 in the depot's zone. */
void map_set_time(struct cmd_ctx *ctx, struct pd_value *m, const char *key,
		  int64_t utc);

/* Loop threads (option loop_threads; docs/design.md "Loop threads"). */
#define LOOPS_MAX 16

/* Which loop thread runs this code: 0 on the main thread (loop 0) and on
 * threads that are no loop (the writer's code never counts in these). */
extern __thread unsigned g_loop;
/* How many loop threads run (set at start, before any of them). */
extern unsigned g_loops;

/* What each loop thread counts for itself: only that thread writes its own
 * row (stat_inc(), no locked instruction and no cache line shared with the
 * other loops), STATS and the metrics page add the rows up (stat_sum()). */
struct loop_stats {
	_Atomic uint64_t commands[PD_CMD_COUNT];
	_Atomic uint64_t errors_by_code[600];
	_Atomic uint64_t requests_text, requests_msgpack;
	_Atomic uint64_t heap_trims;   /* its trims after closes (conn.c, on_trim()) */
} __attribute__((aligned(64)));

/* Counters shown by STATS. Fields every thread may touch are atomic. */
struct stats {
	int64_t started_at;
	atomic_uint_fast64_t connections_total;
	atomic_uint_fast64_t connections_current;
	atomic_uint_fast64_t connections_rejected;
	struct loop_stats loop[LOOPS_MAX];
	atomic_uint_fast64_t writer_groups;
	atomic_uint_fast64_t writer_jobs;
	atomic_uint_fast64_t writer_max_group;
	atomic_uint_fast64_t writer_reruns; /* groups run again nested (a job failed after writing) */
	/* where a group's time goes, in microseconds (writer.c): waiting for
	 * work, running the jobs, the commit (its page writes and syncs), and
	 * from handing the group back until the loop takes it */
	atomic_uint_fast64_t writer_wait_usec, writer_apply_usec;
	atomic_uint_fast64_t writer_commit_usec, writer_handback_usec;
	atomic_uint_fast64_t commit_seq;  /* the last group committed (docs/changeset.md) */
};

/* A counter of this loop thread's row: LOOP_STAT(requests_text). */
#define LOOP_STAT(field) (&g_stats.loop[g_loop].field)

/* Adds one to a counter only this thread writes. */
static inline void stat_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* first, and the counters stride bytes after it, rows in all, added up:
 * one counter of every loop's row. */
uint64_t rows_sum(const _Atomic uint64_t *first, size_t stride, size_t rows);

/* The sum over the loops of one counter, named by loop 0's copy:
 * stat_sum(&g_stats.loop[0].commands[i]). */
#define stat_sum(loop0_field) rows_sum((loop0_field), sizeof(struct loop_stats), g_loops)

extern struct stats g_stats;
extern struct config g_config;
extern struct store g_store;

/* What a module shows on the metrics page (metrics.c): its open records by
 * the level holding them, and how many of them are overdue. */
#define GAUGE_LEVELS_MAX 3
struct module_gauges {
	const char *kind;                 /* "complaint" */
	size_t n_levels;
	const char *levels[GAUGE_LEVELS_MAX];
	uint64_t open[GAUGE_LEVELS_MAX];
	uint64_t overdue;
};

/* modules.c: one row per module. */
struct pd_module {
	const char *name;
	/* Builds and checks the module's rules from the options, once at
	 * start: 0, or -1 after a message on stderr. NULL: nothing to build. */
	int (*setup)(const struct config *cfg);
	/* The kind of its entries in `timers` ("KIND:ID"); NULL: none. */
	const char *timer_kind;
	/* An entry of timer_kind is due. SWEEP has already removed it: the
	 * handler sets a new one with timer_set() (old_at 0 or the record's
	 * last due time) when the record needs attention again, and a
	 * missing record needs nothing. Returns 0 or an LMDB error. */
	int (*on_due)(struct cmd_ctx *ctx, uint64_t id);
	/* Brings the module's databases up to date once the store is open
	 * (an index of records written by an earlier version), as the daemon,
	 * in bounded steps: sets *more while work is left. 0 or an LMDB
	 * error. NULL: nothing to do. */
	int (*open)(struct cmd_ctx *ctx, bool *more);
	/* Fills g from the module's indexes in txn, cheaply: it runs on the
	 * loop at each scrape. NULL: no gauges. Returns 0 or an LMDB error. */
	int (*gauges)(MDB_txn *txn, struct store *st, int64_t now, struct module_gauges *g);
};
/* Parses the command table and runs every module's setup, for the daemon
 * and for tools that run its handlers. Returns 0, or the exit code (1
 * table, 2 options) after a message. */
int modules_setup(const struct config *cfg);
/* Runs every module's open step on the opened store, one write
 * transaction a step (the map grows when full). 0, or -1 after a message. */
int modules_open(struct store *st, const struct config *cfg);
/* Calls fn with each module's gauges, read in txn. */
void modules_gauges(MDB_txn *txn, struct store *st, int64_t now,
		    void (*fn)(void *ud, const struct module_gauges *g), void *ud);

/* clock.c: the one clock. Tests move it with CLOCK SET. */
int64_t clock_now(void);
void clock_set(int64_t utc);
/* Every condvar waited with a deadline is made by cond_init_monotonic()
 * (its clock CLOCK_MONOTONIC; 0 or an errno), and its deadline is
 * clock_monotonic_in(ms): the instant ms from now on that clock. */
int cond_init_monotonic(pthread_cond_t *cv);
struct timespec clock_monotonic_in(int64_t ms);

/* auth.c */
/* The first admin, when the store has no users: none on a follower
 * (follower: its role's name, its users come from the primary); commit,
 * when not NULL, seals it as a change set and commits (a primary's
 * travels: writer_commit_captured). 0 or -1 after a message. */
struct changeset;
int auth_bootstrap_admin(struct store *st, const struct config *cfg, const char *follower,
			 int (*commit)(MDB_txn *txn, struct changeset *cs));
int password_hash(const char *password, char *out, size_t out_len);
int password_check(const char *password, const char *hash);
int password_args_hash(struct pd_arena *a, struct pd_value *args);
/* The authority tier of a role, shared by complaint levels and claim
 * approval levels, which both count three in this order: 0 handler or
 * adjuster (operator, adjuster), 1 supervisor, 2 manager (manager, admin). */
int role_authority_tier(enum pd_role r);
/* Loads a user (u may be NULL to check it exists); replies 404 ("no user
 * 'NAME'") or a store error and returns the LMDB code. */
int user_load(struct cmd_ctx *ctx, const char *name, struct pd_value **u);

/* system.c: removes the incomplete backups (.NAME.tmp) a killed daemon
 * left; at start, with the data directory locked. */
void backup_remove_partial(const char *data_dir);

/* timers.c: due-time actions. One loop timer fires at the earliest entry of
 * the `timers` database and runs SWEEP (modules.c) in the writer, which
 * takes the due entries out and hands each to its module's on_due; each
 * module keeps its own entries up to date with timer_set(). */
int timer_set(struct cmd_ctx *ctx, const char *kind, uint64_t id,
	      int64_t old_at, int64_t new_at);
/* The earliest due time, or 0 when there is none. */
int64_t timer_next(MDB_txn *txn, struct store *st);
/* A due entry taken out of `timers`. */
struct timer_due {
	char kind[64];
	uint64_t id;
};
/* Takes up to cap entries due at ctx->now out of `timers` into out[*n]
 * (an unreadable one is dropped and logged); *more when more are due.
 * Returns 0 or an LMDB error. */
int timers_take_due(struct cmd_ctx *ctx, struct timer_due *out, size_t cap,
		    size_t *n, bool *more);

/* log.c: one line per event, at a level: "debug", "info", "warn" or
 * "error" (lines below cfg->log_level are dropped). log_open returns -1
 * when the log file cannot be opened; log_reopen (SIGHUP) opens it again,
 * for logrotate. log_level_rank: 0..3, or -1 for an unknown name. */
int log_open(const struct config *cfg);
void log_reopen(void);
int log_level_rank(const char *name);

/* notify.c: tells systemd (Type=notify) "READY=1" once the port is bound,
 * "STOPPING=1" on SIGTERM; does nothing when not built with libsystemd or
 * not started by systemd. */
void service_notify(const char *state);
void log_msg(const char *level, uint64_t conn_id, const char *user,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
