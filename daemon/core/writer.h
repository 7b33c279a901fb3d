/* writer.h — the writer thread (group commit) and the two slow threads.
 *
 * The loop hands jobs to writer_submit_batch() (the daemon's own SWEEP to
 * writer_submit()); the writer applies every job
 * waiting in its queue inside one LMDB write transaction (a job that fails
 * leaves nothing: when it had written, the group runs again with each job
 * in a nested transaction of its own), commits once (one fsync for the
 * group), and only then hands the jobs back to the loop, which sends the replies. Slow work (CMD_SLOW) goes to slow_submit() so it
 * neither blocks the loop nor delays a group commit: password hashes (AUTH,
 * and the first half of USER ADD and USER PASSWD) to the hashing thread,
 * long reads (CMD_BULK: BACKUP, the reports) to the bulk thread, so no
 * login waits behind them. */
#ifndef PD_WRITER_H
#define PD_WRITER_H

#include <event2/event.h>

#include "daemon.h"

struct job {
	struct job *next;
	void *conn;               /* owned by the loop; opaque here; NULL for
				     the daemon's own jobs (SWEEP) */
	unsigned loop;            /* the loop thread it goes back to (0: SWEEP) */
	const struct pd_command *cmd;
	struct pd_arena arena;    /* the request's arguments */
	struct pd_value *args;
	enum pd_framing framing;
	struct session sess;
	int64_t now;
	uint64_t t0_us;           /* its request was read (metrics; 0: none) */
	size_t held;              /* counted against its connection's budget */
	uint64_t handed_us;       /* writer.c's, for STATS */
	/* results */
	struct pd_reply rep;      /* the logical reply, kept in arena; the
				     loop renders it (conn.c) */
	struct cmd_effects fx;
};

struct job *job_new(void);
void job_free(struct job *job);

/* Starts the writer and the slow threads; done(job) is called for every finished job on the
 * loop thread of job->loop, the one running bases[job->loop] (n loops).
 * Returns 0 or -1. */
int workers_start(struct event_base *const *bases, unsigned n, void (*done)(struct job *));
void writer_submit(struct job *job);
/* The writes of one connection's turn (conn.c's process_input()), queued
 * together and the writer woken once: woken by the first, it took that one
 * alone while the loop still parsed the rest of the read, so a pipelined
 * burst was split into groups (two commits) by the scheduler's timing
 * (docs/performance.md, round 15). */
struct job_batch {
	struct job *head, *tail;
};
void job_batch_add(struct job_batch *b, struct job *job);
/* Queues b's jobs in order, after every job queued before; b is empty
 * after. Nothing when b is empty. */
void writer_submit_batch(struct job_batch *b);
/* A slow job: to the bulk thread when flagged CMD_BULK, else to the
 * hashing thread, which takes the logins (AUTH) first and then the writes
 * (USER ADD, USER PASSWD), each prepared (write_prepare) and passed on to
 * the writer. */
void slow_submit(struct job *job);
/* The daemon stops (SIGTERM): the bulk jobs not started, and any queued
 * from now on, are answered 503 "shutting down: try again" (handed back
 * like finished ones); the one under way is finished and answered. A
 * queued report may take tens of seconds: run, they delayed the stop past
 * systemd's stop timeout. Logins and writes are not touched. */
void workers_stop_soon(void);
/* Tests only (PARCELDESK_TEST_HASH_DELAY_MS, PARCELDESK_TEST_BULK_DELAY_MS,
 * main.c): the hashing and the bulk thread sleep that many ms before each
 * job (0 or less: not), so a test can hold a job under way and others
 * queued behind it. Before workers_start(). */
void workers_test_delays(int hash_ms, int bulk_ms);
/* What replication hangs on the writer (set before workers_start).
 * staged: in the group's transaction, after the group's change set is
 * complete and before the commit (the set's bytes, its commit number);
 * it may write (an outbox), and those writes are not in the set. A
 * nonzero return fails the group (MDB_MAP_FULL: the map grows and the
 * group runs again). durable: on the writer thread once that commit is
 * on disk, before the group's replies are handed back; true when it keeps
 * the group (the jobs, opaque) to hand it back later with
 * writer_release() (replication waiting for the log). Groups that changed
 * nothing have no number and call neither, but unchanged (when set):
 * true when it keeps the group in the same way (replication: until the
 * log holds what was committed before it). reply_seq: every successful
 * write's reply record gets `seq`, its commit number. */
struct writer_hooks {
	int (*staged)(MDB_txn *txn, uint64_t seq, const void *blob, size_t len);
	bool (*durable)(uint64_t seq, const void *blob, size_t len, void *group);
	bool (*unchanged)(void *group);
	bool reply_seq;
};
void writer_set_hooks(const struct writer_hooks *h);
/* A start-up write that travels like a group's (a primary's first
 * admin): seals what cs captured in txn as a change set (nothing when it
 * captured nothing), runs the staged hook, commits txn (aborted on an
 * error) and runs the durable hook. 0 or an LMDB code. */
struct changeset;
int writer_commit_captured(MDB_txn *txn, struct changeset *cs);
/* Hands back a group a durable hook kept: error, when not NULL, is the
 * 503 every job of it answers instead. Any thread. */
void writer_release(void *group, const char *error);

/* Finishes the jobs already queued, then stops the threads. */
void workers_stop(void);


/* Applies one write inside a group transaction, exactly as the writer does
 * (also used by contrib/import for a stopped store): a repeated req= token
 * gets its first reply and writes nothing. Otherwise the handler runs, with
 * nested, in a nested transaction that is kept if it succeeded (or set
 * fx.keep_writes) and rolled back if not; without, straight in group (a
 * nested transaction's begin, page copies and merge cost about a quarter
 * of a job: docs/performance.md, round 11), which needs this thread's
 * change set capture on (else it nests): a failed job that wrote nothing
 * (the capture's count did not move) needs no undo, but one that wrote,
 * or left group refusing writes, returns PD_EUNDO, and the caller aborts
 * group and runs it again nested. Either way a failed job leaves only its
 * answer to a repeat (write_answer()). ctx is filled but for txn; ctx->rep
 * receives the reply. Returns 0, MDB_MAP_FULL (grow the map and run the
 * group again), PD_EUNDO (not nested only), or, nested, another LMDB error
 * (nothing of this write was kept). */
int write_apply(MDB_txn *group, struct cmd_ctx *ctx, bool nested);
/* Stores ctx->rep as the answer to a repeat of ctx's req= token (nothing
 * without a token). 0 or an LMDB code. */
int write_answer(MDB_txn *txn, struct cmd_ctx *ctx);

/* The CPU-heavy half of a write flagged CMD_SLOW, done before write_apply()
 * and outside the group transaction (USER ADD and USER PASSWD hash the
 * password). a owns args. Returns 0 or -1 (the handler then refuses). */
int write_prepare(const struct pd_command *cmd, struct pd_arena *a,
		  struct pd_value *args);

#endif
