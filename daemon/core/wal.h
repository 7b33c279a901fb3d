/* wal.h — the write-ahead log: one fdatasync per commit.
 *
 * With the log on (option wal), LMDB runs with MDB_NOSYNC: every commit
 * that changes the store (a writer group, a follower's applied change set,
 * PROMOTE's new term) has its change set (changeset.h) appended to the log
 * and synced, then is committed to LMDB's pages in the page cache only.
 *
 * Checkpoints make data.mdb durable so the log can be reused. The log is
 * two files, DIR/wal.0 and DIR/wal.1: a checkpoint is taken between two
 * commits (a read transaction pins that snapshot, its meta pages are
 * copied) and the commits after it go to the other file; the checkpoint
 * thread then syncs data.mdb and saves the meta pages in DIR/checkpoint,
 * while commits go on. Only then is the older file free for the next
 * checkpoint, and the pin of the previous checkpoint released: LMDB never
 * reuses a page the last durable checkpoint still needs, so after a power
 * loss the saved meta pages point to intact pages. At start the saved meta
 * pages are written back and the change sets logged after them applied
 * again (docs/design.md "Durability"). */
#ifndef PD_WAL_H
#define PD_WAL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct changeset_head;

/* A logged change set went into replication's outbox in its transaction
 * (the writer's staged hook); replay puts it there again. */
#define WAL_OUTBOX 1u

/* Redoes, at replay, the outbox entry of a set logged with WAL_OUTBOX. */
typedef int (*wal_restage_fn)(MDB_txn *txn, uint64_t seq, uint64_t epoch, const void *blob, size_t len);

/* Before the environment is opened: when DIR/checkpoint exists, puts its
 * meta pages back over data.mdb's (an unclean stop, or a power loss, may
 * have left newer ones whose pages are not all on disk). Returns 1 when
 * it found one (the log's replay follows), 0 when the store stopped
 * cleanly, or -1 after a message on stderr (the daemon does not start). */
int wal_restore(const char *dir);

/* After the store is opened (g_store; pin: a read transaction begun before
 * anything was committed, on the snapshot wal_restore went back to; the
 * log owns it): applies the logged change sets that follow the store's
 * commit number (seq:commit in meta), in order, up to the first incomplete
 * one (never acknowledged), and opens the log for appending when on (off:
 * the store is synced and the log's files removed). Returns 0 or -1 after
 * a message. With the log on, wal_checkpoint() (start-up writes included)
 * must come before the first write is answered. */
int wal_open(const char *dir, bool on, int64_t checkpoint_secs, int64_t checkpoint_mb, wal_restage_fn restage,
	     MDB_txn *pin);

bool wal_on(void);

/* Applies a change set in txn as the commit it was: its ops, then meta's
 * seq:commit = its seq and epoch raised to its epoch (head: its head).
 * A follower's apply, PROMOTE's new term, the log's replay. */
int wal_apply(MDB_txn *txn, const void *blob, size_t len, struct changeset_head *head);

/* Commits txn durably. Log on and seq nonzero: the change set blob (seq,
 * flags WAL_*) is appended and synced first, then LMDB commits to the page
 * cache; a commit that fails after the log took the set voids its record.
 * Log off, or seq 0 (nothing changed): mdb_txn_commit (synced when the log
 * is off). The caller holds txn, LMDB's only write transaction, which
 * orders the appends of every thread. txn is gone after the call. 0, or
 * an errno / LMDB code: a full disk (ENOSPC, EFBIG, EDQUOT) refuses the
 * set and nothing of it is kept; any other failure of the log sets
 * wal_failed(). */
int wal_commit(MDB_txn *txn, uint64_t seq, unsigned flags, const void *blob, size_t len);

/* Commits txn, which no change set describes (a snapshot copied over the
 * store), durably: log off, a synced commit; on, a checkpoint of it taken
 * at once and waited for (the writer waits meanwhile: rare). Holder of the
 * write transaction; txn is gone after the call. */
int wal_commit_unlogged(MDB_txn *txn);

/* Set when the log or a checkpoint failed to reach the disk: no write can
 * be acknowledged until a restart. NULL while the log works. */
const char *wal_failed(void);

/* A checkpoint now, waited for (at start, with no other thread writing). */
int wal_checkpoint(void);

/* Stops the checkpoint thread, makes a last checkpoint, then removes
 * DIR/checkpoint (the store is synced: a stopped store may be written by
 * other tools); closes the log. After every writer stopped. */
void wal_close(void);

/* CRC-32C (Castagnoli) of n bytes at p, continuing crc (0 to start): the
 * log's and the checkpoint file's checksum. */
uint32_t wal_crc32c(uint32_t crc, const void *p, size_t n);

struct wal_stats {
	uint64_t appends, bytes, checkpoints, checkpoint_seq, replayed;
	int64_t checkpoint_usec;   /* the last checkpoint's sync and save */
};
void wal_stats(struct wal_stats *out);

#endif
