/* repl.h — replication over NATS JetStream (docs/replication.md).
 *
 * A primary keeps each group commit's change set in the `changes`
 * database, in the group's own transaction (a transactional outbox); its
 * replication thread publishes them, in order, to a JetStream stream whose
 * sequence is the change set's seq: each publish carries Nats-Msg-Id
 * EPOCH:SEQ:HOST:PORT (a repeat is recognised) and expects the stream's last
 * sequence to be SEQ - 1, so a deposed primary's publish is refused
 * (fenced) and it turns itself into a standby. A standby or a replica
 * consumes the stream and applies change set SEQ only when it is the one
 * after the last applied, storing that in the same transaction.
 *
 * With no role configured nothing here runs and nothing is added to a
 * write. */
#ifndef PD_REPL_H
#define PD_REPL_H

#include <event2/event.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "value.h"

enum repl_role { REPL_OFF, REPL_PRIMARY, REPL_STANDBY, REPL_REPLICA };

/* Checks the options (role, nats, repl_ack, nats_ca, the password file)
 * before the store is opened: 0, or -1 after a message on stderr (the
 * daemon exits 2, a usage error). */
int repl_setup(void);
/* Opens the `changes` database and reads this store's seq and epoch. At
 * start, store open, after repl_setup, before any thread. 0 or -1. */
int repl_open(void);

/* Starts the replication thread. release(group, error) hands a group of
 * jobs held for the log's acknowledgement (quorum) back to the loop;
 * error, when not NULL, replaces their replies (503). promoted() is run
 * on the loop when this node became the primary (the loop arms its
 * due-time timer). 0 or -1. */
int repl_start(struct event_base *base, void (*release)(void *group, const char *error),
	       void (*promoted)(void));
/* SIGTERM: held writes get their answer within a few seconds even if the
 * log does not answer. */
void repl_stop_soon(void);
/* After the writer stopped: ends the thread and the NATS connection. */
void repl_stop(void);

bool repl_enabled(void);
enum repl_role repl_role(void);
/* This node takes writes: no role configured, or the primary. */
bool repl_writable(void);
/* The refusal of a write on a node that does not take them ("read-only
 * replica; the primary is HOST:PORT"), into buf. */
void repl_refusal(char *buf, size_t cap);

/* The writer's hooks (writer.h): the outbox in the group's transaction,
 * and the wait for the log after the commit in quorum mode. */
struct writer_hooks;
const struct writer_hooks *repl_hooks(void);
uint64_t repl_epoch(void);
/* The write-ahead log's replay (wal_restage_fn): the outbox entry of a
 * logged writer group, put back in txn. Before repl_open, any role. */
int repl_restage(MDB_txn *txn, uint64_t seq, uint64_t epoch, const void *blob, size_t len);

/* PROMOTE: a standby applies what the log holds and becomes the primary.
 * repl_promote() asks the replication thread (false: this node cannot be
 * promoted); repl_promoting() says whether it is still at it (it gives up
 * within REPL_PROMOTE_WAIT_MS - 5 s); repl_promote_answer() is PROMOTE's
 * answer, its code (200 this node is the primary, 409 it cannot be
 * promoted, 503 it was not) and msg. The loop parks the request
 * meanwhile (conn.c). */
#define REPL_PROMOTE_WAIT_MS 35000
bool repl_promote(void);
bool repl_promoting(void);
int repl_promote_answer(char *msg, size_t cap);

/* A read with min_seq=: the snapshot txn holds change set seq (always
 * true with replication off). */
bool repl_has_seq(MDB_txn *txn, uint64_t seq);

/* What STATS and the metrics show (docs/replication.md). */
struct repl_info {
	const char *role, *ack;
	uint64_t epoch, committed, sent, published, applied;
	uint64_t lag_entries, lag_secs, lag_p50_ms, lag_p99_ms;
	uint64_t outbox, refused, diverged;
	char primary[128], status[200];
};
void repl_info(struct repl_info *out);
/* STATS: repl.* fields. */
void repl_stats(struct pd_arena *a, struct pd_value *map);

#endif
