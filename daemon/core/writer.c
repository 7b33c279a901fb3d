/* writer.c — group commit writer, the hashing thread and the bulk thread. */
#include "writer.h"

#include "metrics.h"
#include "wal.h"

#include <pthread.h>
#include <semaphore.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A job queue and its one taker. The taker sleeps on a semaphore, posted
 * only when it said it sleeps, and after the queue's lock is released: a
 * condition variable signalled under the lock woke the writer into that
 * lock, and glibc leaves a mutex retaken after a wait marked contended, so
 * every job cost three more futex calls, two of them waking nobody
 * (docs/performance.md, round 11). The post is counted: one that comes
 * before the taker waits is not lost. */
struct job_list {
	struct job *head, *tail;
};

struct job_queue {
	pthread_mutex_t lock;
	sem_t wake;
	struct job_list first;
	struct job_list later;  /* taken when first is empty, or after
				   LATER_AFTER takes of first while it waited
				   (the hashing queue's password changes:
				   logins first, but not for ever) */
	int first_run;          /* takes of first since later was last taken */
	bool sleeping;          /* the taker waits (or is about to) on wake */
	bool stopping;
	bool refusing;          /* the daemon stops: queue nothing more
				   (the bulk queue, workers_stop_soon) */
	pthread_t thread;
	const char *name;       /* the taker's thread name (slow queues) */
	int test_delay_ms;      /* tests: sleep this long before each job */
};

static struct job_queue write_q = { .lock = PTHREAD_MUTEX_INITIALIZER };
/* The slow jobs, on two threads so that a login never waits behind a long
 * read: password hashes (AUTH, USER ADD, USER PASSWD: milliseconds each)
 * and the long reads flagged CMD_BULK (BACKUP, reports: seconds to tens of
 * seconds on a large store; a login waited up to 29 s behind a BACKUP,
 * docs/testing.md). On the hashing thread the logins go first, the
 * password changes (the writes) on the later list: one user's changes
 * queued on many connections delayed every login behind them (round 18). */
static struct job_queue hash_q = { .lock = PTHREAD_MUTEX_INITIALIZER, .name = "pd-hash" };
static struct job_queue bulk_q = { .lock = PTHREAD_MUTEX_INITIALIZER, .name = "pd-bulk" };

/* Finished jobs, handed back to the loop thread of each (job->loop). The
 * loop watches an eventfd of its own, written only when its queue goes
 * from empty to not empty: event_active() from the writer took the loop's
 * base lock, which the loop, woken by that very call, often wanted at once
 * (two more futex calls and a wait, docs/performance.md, round 11). */
struct done_queue {
	pthread_mutex_t lock;
	struct job *head, *tail;
	int efd;
	bool drain; /* the loop's backend has no edge trigger: read it */
	struct event *event;
};
static struct done_queue done_q[LOOPS_MAX];
static unsigned done_n;
static void (*done_fn)(struct job *);

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct job *job_new(void)
{
	struct job *job = calloc(1, sizeof(*job));
	if (!job)
		abort();
	pd_arena_init(&job->arena);
	return job;
}

void job_free(struct job *job)
{
	pd_arena_free(&job->arena);
	free(job);
}

/* Wakes q's taker if it sleeps; called with q->lock held, posts after. */
static bool queue_wake_needed(struct job_queue *q)
{
	bool wake = q->sleeping;
	q->sleeping = false;
	return wake;
}

/* Appends the jobs head..tail (linked, tail->next NULL) to q's list l
 * (first or later) in one take of the lock: the taker finds all of them
 * or none. False, nothing queued, when q is refusing. */
static bool queue_push(struct job_queue *q, struct job_list *l, struct job *head, struct job *tail)
{
	pthread_mutex_lock(&q->lock);
	if (q->refusing) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	if (l->tail)
		l->tail->next = head;
	else
		l->head = head;
	l->tail = tail;
	bool wake = queue_wake_needed(q);
	pthread_mutex_unlock(&q->lock);
	if (wake)
		sem_post(&q->wake);
	return true;
}

/* A password change waits for at most this many logins' hashes: a steady
 * stream of logins (a credential-stuffing flood keeps auth_queue_max full)
 * must not stop an admin resetting a password for good (review, round 18). */
#define LATER_AFTER 4

/* Waits for work; takes at most max jobs, of the first list while it has
 * any (but of the later one after LATER_AFTER takes of first while it
 * waited), else of the later one. NULL when stopping and empty. */
static struct job *queue_take(struct job_queue *q, int64_t max, size_t *count)
{
	pthread_mutex_lock(&q->lock);
	while (!q->first.head && !q->later.head && !q->stopping) {
		q->sleeping = true;
		pthread_mutex_unlock(&q->lock);
		while (sem_wait(&q->wake) != 0) /* EINTR */
			;
		pthread_mutex_lock(&q->lock);
	}
	bool later = !q->first.head || (q->later.head && q->first_run >= LATER_AFTER);
	struct job_list *l = later ? &q->later : &q->first;
	q->first_run = later || !q->later.head ? 0 : q->first_run + 1;
	struct job *head = l->head, *last = NULL, *j = head;
	size_t n = 0;
	while (j && (int64_t)n < max) {
		last = j;
		j = j->next;
		n++;
	}
	if (last) {
		l->head = last->next;
		if (!l->head)
			l->tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	*count = n;
	return head;
}

/* handed: when the writer handed a group back (its first job carries it,
 * for writer_handback_usec); 0 for the slow threads' jobs. A group's jobs
 * go to their own loops' queues, in order. */
static void hand_back(struct job *list, uint64_t handed)
{
	if (!list)
		return;
	list->handed_us = handed;
	bool wake[LOOPS_MAX] = { false };
	for (struct job *j = list, *next; j; j = next) {
		next = j->next;
		j->next = NULL;
		struct done_queue *q = &done_q[j->loop < done_n ? j->loop : 0];
		pthread_mutex_lock(&q->lock);
		if (q->tail) {
			q->tail->next = j;
		} else {
			q->head = j;
			wake[q - done_q] = true;
		}
		q->tail = j;
		pthread_mutex_unlock(&q->lock);
	}
	static const uint64_t one = 1;
	for (unsigned i = 0; i < done_n; i++)
		if (wake[i] && write(done_q[i].efd, &one, sizeof(one)) < 0)
			abort(); /* cannot fail (on_done); a lost wake would strand the jobs */
}

/* The loop's side. The eventfd is watched edge-triggered and never read
 * (a read a hand-back saved): every write is a new edge, so a job queued
 * after the take below, which writes it again, comes with the next turn,
 * whichever of the two comes first. Its counter (2^64 - 2 at most) does
 * not fill in this daemon's life. A backend without edge triggers (libevent
 * honours EVENT_NOEPOLL=1: poll) would report the unread eventfd at every
 * turn and spin the loop, so there it is read, before the take: a job
 * queued after the read writes it again. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	struct done_queue *q = arg;
	uint64_t count;
	if (q->drain && read(q->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		abort(); /* cannot fail: an eventfd of ours, 8 bytes */
	pthread_mutex_lock(&q->lock);
	struct job *list = q->head;
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->lock);
	uint64_t now = mono_us();
	while (list) {
		struct job *next = list->next;
		if (list->handed_us)
			atomic_fetch_add(&g_stats.writer_handback_usec, now - list->handed_us);
		list->next = NULL;
		done_fn(list);
		list = next;
	}
}

/* Keeps a job's reply for the loop, which renders it with every other
 * (conn.c): copied out of the work arena and the transaction (a packed
 * reply may point into the map), both gone by then. */
static void job_keep_reply(struct job *job, const struct pd_reply *rep)
{
	struct pd_arena *a = &job->arena;
	job->rep = (struct pd_reply){ .code = rep->code, .msg = rep->msg ? pd_strdup(a, rep->msg) : NULL };
	if (rep->data)
		job->rep.data = pd_value_copy(a, rep->data);
	if (rep->packed) {
		char *p = pd_alloc_raw(a, rep->packed_len);
		memcpy(p, rep->packed, rep->packed_len);
		job->rep.packed = p;
		job->rep.packed_len = rep->packed_len;
	}
}

static void render_plain(struct job *job, int code, const char *msg)
{
	struct pd_reply rep = { .code = code, .msg = msg };
	job_keep_reply(job, &rep);
}

/* Runs a slow job's handler in a read transaction (work holds what it
 * allocates) and keeps its reply. */
static void job_run(struct job *job, MDB_txn *txn, struct pd_arena *work)
{
	struct pd_reply rep = { 0 };
	struct cmd_ctx ctx = {
		.a = work, .cmd = job->cmd, .args = job->args, .rep = &rep,
		.st = &g_store, .txn = txn, .sess = &job->sess, .cfg = &g_config,
		.now = job->now,
	};
	dispatch_handler(&ctx);
	job->fx = ctx.fx;
	job_keep_reply(job, &rep);
}

/* The idempotency key of ctx's req= token: user \0 token (0: no token, or
 * one too long). */
static size_t idem_key(const struct cmd_ctx *ctx, char *key, size_t cap)
{
	const char *token = pd_map_str(ctx->args, "req");
	if (!token)
		return 0;
	size_t ul = strlen(ctx->sess->user), tl = strlen(token);
	if (ul + 1 + tl > cap)
		return 0;
	memcpy(key, ctx->sess->user, ul);
	key[ul] = '\0';
	memcpy(key + ul + 1, token, tl);
	return ul + 1 + tl;
}

/* Keeps the logical reply, so a repeat renders it in its own framing. */
static int idem_store(MDB_txn *txn, const char *key, size_t klen,
		      const struct pd_reply *rep, struct pd_arena *work)
{
	struct pd_value *v = pd_map(work);
	pd_map_set_int(work, v, "code", rep->code);
	pd_map_set_str(work, v, "msg", rep->msg ? rep->msg : "");
	pd_map_set(work, v, "data", rep->data ? rep->data : pd_nil(work));
	return store_put(txn, g_store.idem, key, klen, v, 0);
}

int write_answer(MDB_txn *txn, struct cmd_ctx *ctx)
{
	char key[256];
	size_t klen = idem_key(ctx, key, sizeof(key));
	return klen ? idem_store(txn, key, klen, ctx->rep, ctx->a) : 0;
}

/* Whether txn still takes writes: a write that failed inside LMDB (a page
 * it could not get) leaves the transaction refusing everything after it. */
static bool txn_usable(MDB_txn *txn)
{
	MDB_val k = { 5, "epoch" }, v;
	return mdb_get(txn, g_store.meta, &k, &v) != MDB_BAD_TXN;
}

int write_apply(MDB_txn *group, struct cmd_ctx *ctx, bool nested)
{
	char key[256];
	size_t klen = idem_key(ctx, key, sizeof(key));
	struct pd_value *stored;
	if (klen && store_get(group, g_store.idem, key, klen, ctx->a, &stored) == 0 &&
	    pd_reply_from_msgpack(stored, ctx->rep) == 0)
		return 0; /* a repeat: the first reply, nothing written */

	/* straight in group, the capture tells whether the job wrote: every
	 * write goes through store.c's wrappers, which note it */
	nested = nested || !changeset_capturing();
	uint64_t before = changeset_mark().count;
	struct store_nested child = { 0 };
	int rc = nested ? store_nest_begin(group, &child) : 0;
	if (rc)
		return rc;
	ctx->txn = nested ? child.txn : group;
	dispatch_handler(ctx);
	rc = ctx->store_rc == MDB_MAP_FULL ? MDB_MAP_FULL : 0;
	bool keep = rc == 0 && ((ctx->rep->code >= 200 && ctx->rep->code < 300) || ctx->fx.keep_writes);
	if (keep && klen)
		rc = idem_store(ctx->txn, key, klen, ctx->rep, ctx->a);
	ctx->txn = NULL;
	if (!nested) {
		/* a failed job that wrote nothing needs no undo; one that
		 * wrote (rare: handlers check before they write) throws the
		 * group away, which runs again nested */
		if (rc == 0 && !keep) {
			bool wrote = changeset_mark().count != before || !txn_usable(group);
			rc = wrote ? PD_EUNDO : write_answer(group, ctx);
		}
		return rc == 0 || rc == MDB_MAP_FULL ? rc : PD_EUNDO;
	}
	int end = store_nest_end(&child, keep && rc == 0);
	if (rc)
		return rc;
	/* nothing of a failed job is kept but its answer to a repeat */
	return keep ? end : write_answer(group, ctx);
}

/* A full store (the disk, a quota, a file size limit, or a map that cannot
 * grow) refuses writes with 503 until a commit succeeds again. Logged once
 * when it starts and once when it ends, with the count, not once per
 * refused write. Writer thread only. */
static struct {
	bool full;
	uint64_t refused;
} store_full;

static void store_full_refuse(struct job *group, const char *reason)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "store full: %s", reason);
	size_t n = 0;
	for (struct job *j = group; j; j = j->next, n++)
		render_plain(j, 503, msg);
	if (!store_full.full)
		log_msg("error", 0, NULL, "%s; refusing writes until there is room", msg);
	store_full.full = true;
	store_full.refused += n;
}

static void store_full_over(void)
{
	if (!store_full.full)
		return;
	log_msg("info", 0, NULL, "store writable again after refusing %llu writes while full",
		(unsigned long long)store_full.refused);
	store_full.full = false;
	store_full.refused = 0;
}

/* Applies one job of the group (write_apply): straight in the group's
 * transaction, or nested when the group runs again because a job failed
 * after it had written. Returns 0 (answered), MDB_MAP_FULL (the map must
 * grow: the whole group runs again) or PD_EUNDO (not nested: throw the
 * group away and run it again nested). */
static int writer_apply(struct job *job, MDB_txn *group, struct pd_arena *work, bool nested)
{
	struct pd_reply rep = { 0 };
	struct cmd_ctx ctx = {
		.a = work, .cmd = job->cmd, .args = job->args, .rep = &rep,
		.st = &g_store, .sess = &job->sess, .cfg = &g_config, .now = job->now,
	};
	int rc = write_apply(group, &ctx, nested);
	if (rc == MDB_MAP_FULL || rc == PD_EUNDO)
		return rc;
	job->fx = ctx.fx;
	if (rc)
		render_plain(job, 500, "internal error: store write failed, nothing written");
	else
		job_keep_reply(job, &rep);
	return 0;
}

static const struct writer_hooks *hooks;

void writer_set_hooks(const struct writer_hooks *h)
{
	hooks = h;
}


/* The group's change set: numbered (the commit number, in meta, so it
 * survives restarts and travels with the set), sealed, and given to the
 * hook, in the group's transaction. A group that changed nothing gets no
 * number. Returns 0 or an LMDB code (MDB_MAP_FULL: grow and rerun). */
static int group_seal(MDB_txn *txn, struct changeset *cs, uint64_t *seq)
{
	*seq = 0;
	if (cs->count == 0)
		return 0;
	int rc = store_next_seq(txn, &g_store, "commit", seq);
	if (rc)
		return rc;
	MDB_val k = { 5, "epoch" }, v;
	uint64_t epoch = mdb_get(txn, g_store.meta, &k, &v) == 0 && v.mv_size == 8 ? be64_get(v.mv_data) : 0;
	changeset_seal(cs, epoch, *seq);
	changeset_capture(NULL); /* the hook's own writes are not in the set */
	return hooks && hooks->staged ? hooks->staged(txn, *seq, cs->sealed.data, cs->sealed.len) : 0;
}

/* Commits the group: through the write-ahead log, which syncs its change
 * set before LMDB commits to the page cache (a reader never sees a change
 * that is not yet durable), or LMDB's own synced commit (wal no). The
 * only staged hook is replication's outbox: a replay puts it back. */
static int group_commit(MDB_txn *txn, uint64_t seq, const struct changeset *cs)
{
	return wal_commit(txn, seq, hooks && hooks->staged ? WAL_OUTBOX : 0, cs->sealed.data, cs->sealed.len);
}

int writer_commit_captured(MDB_txn *txn, struct changeset *cs)
{
	uint64_t seq = 0;
	int rc = group_seal(txn, cs, &seq);
	changeset_capture(NULL);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = group_commit(txn, seq, cs)) != 0)
		return rc;
	if (seq && hooks && hooks->durable)
		hooks->durable(seq, cs->sealed.data, cs->sealed.len, NULL);
	return 0;
}

static void refuse_group(struct job *group, int code, const char *fmt, const char *why)
{
	char msg[400];
	snprintf(msg, sizeof(msg), fmt, why);
	for (struct job *j = group; j; j = j->next)
		render_plain(j, code, msg);
}

/* Runs a group in one transaction and commits it; every job gets its
 * reply. Returns the commit number of what was committed (0: nothing). */
static uint64_t group_run(struct job *group, struct changeset *cs, struct pd_arena *work,
			  uint64_t *t_apply, uint64_t *t_commit)
{
	if (wal_failed()) {
		refuse_group(group, 503, "store unavailable: %s; restart the daemon", wal_failed());
		return 0;
	}
	/* jobs run straight in the group's transaction; nested (each undone
	 * alone) only after one failed having written (write_apply) */
	bool nested = false;
	for (;;) {
		MDB_txn *txn;
		uint64_t seq = 0;
		size_t map;
		int rc = store_write_begin(&g_store, &txn, &map);
		if (rc) {
			for (struct job *j = group; j; j = j->next)
				render_plain(j, 503, "store unavailable");
			return 0;
		}
		changeset_capture(cs);
		uint64_t t = mono_us();
		for (struct job *j = group; j && !rc; j = j->next) {
			pd_arena_reset(work);
			rc = writer_apply(j, txn, work, nested);
		}
		if (rc == 0)
			rc = group_seal(txn, cs, &seq);
		changeset_capture(NULL);
		*t_apply += mono_us() - t;
		if (rc == PD_EUNDO) {
			atomic_fetch_add(&g_stats.writer_reruns, 1);
			/* rerunning is safe: job->now is fixed, sequences come
			 * from the aborted transaction, as on MDB_MAP_FULL */
			mdb_txn_abort(txn);
			nested = true;
			continue;
		}
		if (rc) {
			mdb_txn_abort(txn);
		} else {
			t = mono_us();
			rc = group_commit(txn, seq, cs);
			*t_commit += mono_us() - t;
		}
		if (rc && wal_failed()) {
			log_msg("error", 0, NULL, "a group of %s writes may or may not be kept: %s",
				group->next ? "several" : "one", wal_failed());
			refuse_group(group, 500, "internal error: %s; this write may or may not be kept", wal_failed());
			return 0;
		}
		if (rc == 0) {
			store_full_over();
			return seq;
		} else if (store_full_errno(rc)) {
			store_full_refuse(group, strerror(rc));
			return 0;
		} else if (rc != MDB_MAP_FULL) {
			log_msg("error", 0, NULL, "commit failed: %s", pd_strerror(rc));
			for (struct job *j = group; j; j = j->next)
				render_plain(j, 500, "internal error: commit failed, nothing written");
			return 0;
		}
		if ((rc = store_grow(&g_store, map)) != 0) {
			store_full_refuse(group, pd_strerror(rc));
			return 0;
		}
	}
}

void writer_release(void *group, const char *error)
{
	if (error)
		for (struct job *j = group; j; j = j->next)
			render_plain(j, 503, error);
	hand_back(group, mono_us());
}

/* Every successful write's reply says the change set it committed in (a
 * read on a replica may ask for it: min_seq=). A reply whose data is not
 * a record keeps its shape. */
static void reply_seq(struct job *group, uint64_t seq)
{
	for (struct job *j = group; j; j = j->next) {
		struct pd_reply *r = &j->rep;
		if (r->code >= 300 || r->packed || (r->data && r->data->type != PD_MAP))
			continue;
		if (!r->data)
			r->data = pd_map(&j->arena);
		pd_map_set_int(&j->arena, r->data, "seq", (int64_t)seq);
	}
}

static void *writer_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "pd-writer");
	struct pd_arena work;
	struct changeset cs;
	pd_arena_init(&work);
	changeset_init(&cs);
	for (;;) {
		size_t n;
		uint64_t t = mono_us(), t_apply = 0, t_commit = 0;
		struct job *group = queue_take(&write_q, g_config.max_group_jobs, &n);
		if (!group)
			break;
		atomic_fetch_add(&g_stats.writer_wait_usec, mono_us() - t);
		uint64_t seq = group_run(group, &cs, &work, &t_apply, &t_commit);
		if (seq)
			atomic_store(&g_stats.commit_seq, seq);
		if (seq && hooks && hooks->reply_seq)
			reply_seq(group, seq);
		/* a kept group belongs to the hook from here on */
		bool kept = hooks && (seq ? hooks->durable &&
					    hooks->durable(seq, cs.sealed.data, cs.sealed.len, group)
					  : hooks->unchanged && hooks->unchanged(group));
		atomic_fetch_add(&g_stats.writer_groups, 1);
		atomic_fetch_add(&g_stats.writer_jobs, n);
		atomic_fetch_add(&g_stats.writer_apply_usec, t_apply);
		atomic_fetch_add(&g_stats.writer_commit_usec, t_commit);
		if (n > atomic_load(&g_stats.writer_max_group))
			atomic_store(&g_stats.writer_max_group, n);
		metrics_group(n, t_apply + t_commit);
		pd_arena_reset(&work);
		if (!kept)
			hand_back(group, mono_us());
		if (seq)
			store_grow_ahead(&g_store);
	}
	changeset_free(&cs);
	pd_arena_free(&work);
	return NULL;
}

int write_prepare(const struct pd_command *cmd, struct pd_arena *a,
		  struct pd_value *args)
{
	return (cmd->flags & CMD_SLOW) ? password_args_hash(a, args) : 0;
}

void workers_test_delays(int hash_ms, int bulk_ms)
{
	hash_q.test_delay_ms = hash_ms;
	bulk_q.test_delay_ms = bulk_ms;
}

/* The body of both slow threads; arg is the queue it takes from. */
static void *slow_main(void *arg)
{
	struct job_queue *q = arg;
	pthread_setname_np(pthread_self(), q->name);
	struct pd_arena work;
	pd_arena_init(&work);
	for (;;) {
		size_t n;
		struct job *job = queue_take(q, 1, &n);
		if (!job)
			break;
		if (q->test_delay_ms > 0) {
			struct timespec d = { q->test_delay_ms / 1000, (long)(q->test_delay_ms % 1000) * 1000000 };
			while (nanosleep(&d, &d) != 0 && errno == EINTR)
				;
		}
		if (job->cmd->flags & CMD_WRITE) {
			write_prepare(job->cmd, &job->arena, job->args);
			writer_submit(job);
			continue;
		}
		MDB_txn *txn = NULL;
		pthread_rwlock_rdlock(&g_store.resize_lock);
		if (mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &txn) != 0)
			txn = NULL;
		pd_arena_reset(&work);
		if (txn)
			job_run(job, txn, &work);
		else
			render_plain(job, 503, "store unavailable");
		if (txn)
			mdb_txn_abort(txn);
		pthread_rwlock_unlock(&g_store.resize_lock);
		hand_back(job, 0);
	}
	pd_arena_free(&work);
	return NULL;
}

int workers_start(struct event_base *const *bases, unsigned n, void (*done)(struct job *))
{
	done_fn = done;
	done_n = n;
	for (unsigned i = 0; i < n; i++) {
		struct done_queue *q = &done_q[i];
		pthread_mutex_init(&q->lock, NULL);
		q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->drain = !(event_base_get_features(bases[i]) & EV_FEATURE_ET);
		q->event = q->efd < 0 ? NULL : event_new(bases[i], q->efd,
							 EV_READ | EV_PERSIST | (q->drain ? 0 : EV_ET), on_done, q);
		if (!q->event || event_add(q->event, NULL) != 0)
			return -1;
	}
	if (sem_init(&write_q.wake, 0, 0) || sem_init(&hash_q.wake, 0, 0) || sem_init(&bulk_q.wake, 0, 0))
		return -1;
	if (pthread_create(&write_q.thread, NULL, writer_main, NULL) ||
	    pthread_create(&hash_q.thread, NULL, slow_main, &hash_q) ||
	    pthread_create(&bulk_q.thread, NULL, slow_main, &bulk_q))
		return -1;
	return 0;
}

void writer_submit(struct job *job)
{
	job->next = NULL;
	queue_push(&write_q, &write_q.first, job, job);
}

void job_batch_add(struct job_batch *b, struct job *job)
{
	job->next = NULL;
	if (b->tail)
		b->tail->next = job;
	else
		b->head = job;
	b->tail = job;
}

void writer_submit_batch(struct job_batch *b)
{
	if (!b->head)
		return;
	queue_push(&write_q, &write_q.first, b->head, b->tail);
	b->head = b->tail = NULL;
}

/* Answers bulk jobs the bulk thread has not started (a list) 503: the
 * daemon stops. */
static void bulk_refuse(struct job *list)
{
	size_t n = 0;
	for (struct job *j = list; j; j = j->next, n++)
		render_plain(j, 503, "shutting down: try again");
	if (n)
		log_msg("info", 0, NULL, "stopping: %zu long read%s not started answered 503", n, n == 1 ? "" : "s");
	hand_back(list, 0);
}

void slow_submit(struct job *job)
{
	job->next = NULL;
	if (!(job->cmd->flags & CMD_BULK)) /* a write here is a password change: after the logins */
		queue_push(&hash_q, job->cmd->flags & CMD_WRITE ? &hash_q.later : &hash_q.first, job, job);
	else if (!queue_push(&bulk_q, &bulk_q.first, job, job))
		bulk_refuse(job);
}

void workers_stop_soon(void)
{
	pthread_mutex_lock(&bulk_q.lock);
	bulk_q.refusing = true;
	struct job *list = bulk_q.first.head;
	bulk_q.first.head = bulk_q.first.tail = NULL;
	pthread_mutex_unlock(&bulk_q.lock);
	bulk_refuse(list);
}

static void queue_stop(struct job_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	bool wake = queue_wake_needed(q);
	pthread_mutex_unlock(&q->lock);
	if (wake)
		sem_post(&q->wake);
	pthread_join(q->thread, NULL);
	sem_destroy(&q->wake);
}

void workers_stop(void)
{
	/* the slow threads first: the hashing thread may still pass prepared
	 * writes on; both hand back to the loops' queues, drained below. The
	 * loops answered every job before they ended (server.c): a BACKUP
	 * under way at SIGTERM is finished and answered, not cut off (the
	 * ones not started were answered 503 then, workers_stop_soon) */
	queue_stop(&hash_q);
	queue_stop(&bulk_q);
	queue_stop(&write_q);
	for (unsigned i = 0; i < done_n; i++) {
		on_done(-1, 0, &done_q[i]);
		event_free(done_q[i].event);
		done_q[i].event = NULL;
		close(done_q[i].efd);
		done_q[i].efd = -1;
		pthread_mutex_destroy(&done_q[i].lock);
	}
	done_n = 0;
}
