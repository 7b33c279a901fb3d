/* repl.c — replication over NATS JetStream: the outbox the writer fills,
 * the one replication thread (publishing on a primary, applying on a
 * standby or replica), fencing, PROMOTE, STATS (repl.h). The event loop
 * never waits on NATS: only this thread talks to it. */
#include "repl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "changeset.h"
#include "daemon.h"
#include "wal.h"
#include "writer.h"

/* Keys of the meta database: the writer's commit number, which is the
 * last change set this store holds (changeset.h), and the primary's term
 * the writer seals into each change set. */
#define KEY_SEQ "seq:commit"
#define KEY_EPOCH "epoch"

/* How long a promotion tries (applying the log, appending the new term)
 * before it gives up; PROMOTE's answer waits a little longer. */
#define PROMOTE_DRAIN_MS (REPL_PROMOTE_WAIT_MS - 5000)
/* How long held writes wait for the log once the daemon is stopping. */
#define STOP_GRACE_MS 3000
/* The answer of a quorum write the log had not acknowledged at the stop. */
#define STOPPED_UNACKED "not acknowledged by the replication log before the daemon stopped: " \
	"committed here, may be lost on failover"
#define FENCED_UNACKED "not acknowledged by the replication log: this node was deposed as " \
	"primary (fenced); the write is committed here but not on the new primary"
/* Change sets a primary has in flight to the log at most. */
#define PUBLISH_WINDOW 64
/* In flight with no acknowledgement this long: taken back, sent again. */
#define PUBLISH_STALL_MS 5000
/* Apply delays kept for the lag percentiles in STATS. */
#define LAG_SAMPLES 1024

static const char *const role_names[] = { "", "primary", "standby", "replica" };

struct held {
	uint64_t seq;
	void *group;
	struct held *next;
};

static struct {
	atomic_int role;
	bool quorum;
	MDB_dbi changes;
	/* seq: the last change set committed (primary) or applied here;
	 * published: the last the log acknowledged (primary) */
	atomic_uint_fast64_t epoch, seq, published, outbox, refused, diverged;
	atomic_uint_fast64_t lag_entries;
	atomic_bool lease_held; /* a primary's last claim or renewal of the lease went through */
	atomic_uint_fast64_t sent; /* a primary: the last change set handed to the log */
	atomic_bool pub_failed;    /* an asynchronous append was refused or failed */
	bool kicked;          /* a wake-up came while the thread was not napping */
	atomic_int_fast64_t last_stored_ns; /* when the log stored the last applied one */
	pthread_mutex_t lock; /* the fields below */
	pthread_cond_t wake;
	bool stopping, promote_asked, thread_started;
	int64_t promote_until_ms; /* a promotion under way gives up then */
	char promote_failed[200]; /* why the last promotion gave up ("" none) */
	const char *held_error; /* set: writes are not held for the log but
				   answered this 503 (deposed, or stopping) */
	int64_t stop_at_ms;   /* repl_stop_soon: give up on held writes after */
	struct held *held, *held_tail;
	char primary[128];    /* the primary's client address, as its change sets say */
	char newer[200];      /* a follower: why applying stopped for good (a change set or
				 snapshot in a schema this build cannot read), "" none */
	char status[200];     /* what the thread is doing or waiting for */
	uint32_t lag_ms[LAG_SAMPLES];
	size_t lag_n;
	/* set once at start */
	pthread_t thread;
	struct event *promoted_ev;
	void (*release)(void *group, const char *error);
	void (*promoted)(void);
	char subject[96];
	char password[256];
	/* the replication thread's own */
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	kvStore *kv;          /* the lease bucket (lease_ms > 0) */
	uint64_t lease_rev;   /* the lease's revision last seen or written */
	int64_t lease_seen_ms; /* when it last changed (monotonic): a standby's clock */
	int64_t lease_due_ms; /* a primary renews it then */
	int64_t acked_ms;     /* when the log last acknowledged a change set */
	bool stream_ready;
	uint64_t delivered;   /* stream sequence of the last message read */
	uint64_t last_released; /* quorum writes are answered up to this seq */
} R = { .lock = PTHREAD_MUTEX_INITIALIZER }; /* .wake: repl_setup() (a nap's clock) */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool repl_enabled(void) { return atomic_load(&R.role) != REPL_OFF; }
enum repl_role repl_role(void) { return (enum repl_role)atomic_load(&R.role); }
uint64_t repl_epoch(void) { return atomic_load(&R.epoch); }

bool repl_writable(void)
{
	enum repl_role r = repl_role();
	return r == REPL_OFF || r == REPL_PRIMARY;
}

/* Logs what the thread is doing once when it changes, not once a try. */
static void set_status(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_status(const char *level, const char *fmt, ...)
{
	char buf[sizeof(R.status)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&R.lock);
	bool changed = strcmp(buf, R.status) != 0;
	if (changed)
		memcpy(R.status, buf, sizeof(buf));
	pthread_mutex_unlock(&R.lock);
	if (changed && level)
		log_msg(level, 0, NULL, "replication: %s", buf);
}

/* Waits up to ms for a wake-up (a commit, PROMOTE, stop). */
static void nap(int64_t ms)
{
	struct timespec ts = clock_monotonic_in(ms);
	pthread_mutex_lock(&R.lock);
	if (!R.stopping && !R.kicked)
		pthread_cond_timedwait(&R.wake, &R.lock, &ts);
	R.kicked = false;
	pthread_mutex_unlock(&R.lock);
}

/* Wakes the thread (a commit, an acknowledgement, PROMOTE, stop); one
 * that was not napping does not nap next time. Under R.lock. */
static void kick(void)
{
	R.kicked = true;
	pthread_cond_signal(&R.wake);
}

static bool should_stop(void)
{
	pthread_mutex_lock(&R.lock);
	bool stop = R.stopping;
	if (!stop && R.stop_at_ms && mono_ms() >= R.stop_at_ms)
		stop = true;
	pthread_mutex_unlock(&R.lock);
	return stop;
}

/* ------------------------------------------------------------ the store */

/* An outbox entry: be64 epoch, then the change set. */
struct entry {
	uint64_t epoch;
	void *blob;
	size_t len;
};

/* Copies the outbox entry seq out of the store (free e->blob). 0,
 * MDB_NOTFOUND or an LMDB error. */
static int outbox_read(uint64_t seq, struct entry *e)
{
	MDB_txn *txn;
	pthread_rwlock_rdlock(&g_store.resize_lock);
	int rc = mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &txn);
	if (rc == 0) {
		unsigned char key[8];
		be64_put(key, seq);
		MDB_val k = { 8, key }, v;
		rc = mdb_get(txn, R.changes, &k, &v);
		if (rc == 0 && v.mv_size < 8)
			rc = MDB_CORRUPTED;
		if (rc == 0) {
			e->epoch = be64_get(v.mv_data);
			e->len = v.mv_size - 8;
			e->blob = malloc(e->len ? e->len : 1);
			if (!e->blob)
				abort();
			memcpy(e->blob, (char *)v.mv_data + 8, e->len);
		}
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&g_store.resize_lock);
	return rc;
}

/* A change set to apply: its bytes and the seq it must have. */
struct set {
	const void *blob;
	size_t len;
	uint64_t seq;
};

/* Applies a change set as the commit it was (wal_apply: its ops, seq and
 * epoch together, so a crash cannot apply it twice or lose it once taken). */
static int apply_set(MDB_txn *txn, void *arg)
{
	const struct set *x = arg;
	struct changeset_head head;
	int rc = wal_apply(txn, x->blob, x->len, &head);
	return rc ? rc : head.seq != x->seq ? EBADMSG : 0;
}

static int op_on_users(void *ud, const struct changeset_op *op)
{
	(void)ud;
	return op->db_len == 5 && !memcmp(op->db, "users", 5);
}

/* Whether a commit of this thread changed the users database: a snapshot
 * (logged NULL) may have; a change set did when one of its ops is on it.
 * The loops' sessions are then checked again, so a user the primary
 * deleted or demoted loses that session here too. */
static bool touches_users(const struct set *logged)
{
	struct changeset_head head;
	return !logged || changeset_parse(logged->blob, logged->len, &head, op_on_users, NULL) == 1;
}

/* Runs fn in a write transaction of this thread and commits it durably,
 * growing the map when it is full: logged is the change set it applies
 * (through the write-ahead log when it is on: wal_commit), or NULL for a
 * copy no change set describes (a snapshot's, wal_commit_unlogged). A
 * follower's applying, PROMOTE's new term, a snapshot's restore. */
static int store_write(int (*fn)(MDB_txn *txn, void *arg), void *arg, const struct set *logged)
{
	for (;;) {
		MDB_txn *txn;
		size_t map;
		int rc = store_write_begin(&g_store, &txn, &map);
		if (rc)
			return rc;
		rc = fn(txn, arg);
		if (rc)
			mdb_txn_abort(txn);
		else if (logged)
			rc = wal_commit(txn, logged->seq, 0, logged->blob, logged->len);
		else
			rc = wal_commit_unlogged(txn);
		if (rc == 0 && touches_users(logged))
			store_users_changed();
		if (rc == 0)
			store_grow_ahead(&g_store);
		if (rc != MDB_MAP_FULL)
			return rc;
		if ((rc = store_grow(&g_store, map)) != 0)
			return rc;
	}
}

static int parse_role(const char *s)
{
	for (int r = 0; r < (int)(sizeof(role_names) / sizeof(role_names[0])); r++)
		if (!strcmp(s, role_names[r]))
			return r;
	return -1;
}

static int read_password(const char *path)
{
	if (!path[0])
		return 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "parceldeskd: cannot open nats_password_file %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (!fgets(R.password, sizeof(R.password), f))
		R.password[0] = '\0';
	fclose(f);
	R.password[strcspn(R.password, "\r\n")] = '\0';
	return 0;
}

/* One URL of --nats (len bytes at u): nats:// or tls://, an optional
 * user:password@, a host name, IPv4 or [IPv6] address, an optional port. */
static bool nats_url_ok(const char *u, size_t len)
{
	const char *end = u + len, *host, *port = NULL;
	if (len > 7 && !strncmp(u, "nats://", 7))
		host = u + 7;
	else if (len > 6 && !strncmp(u, "tls://", 6))
		host = u + 6;
	else
		return false;
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			host = p + 1;
	if (host == end)
		return false;
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));
		if (!rb || rb == host + 1 || (rb + 1 < end && rb[1] != ':'))
			return false;
		port = rb + 1 < end ? rb + 2 : NULL;
	} else {
		const char *p = host;
		while (p < end && (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_'))
			p++;
		if (p == host || (p < end && *p != ':'))
			return false;
		port = p < end ? p + 1 : NULL;
	}
	if (!port)
		return true;
	if (port == end || end - port > 5)
		return false;
	long v = 0;
	for (const char *p = port; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535;
}

#define NATS_MAX_URLS 16

int repl_setup(void)
{
	const struct config *c = &g_config;
	if (cond_init_monotonic(&R.wake)) {
		fprintf(stderr, "parceldeskd: cannot make the replication thread's condition variable\n");
		return -1;
	}
	int role = parse_role(c->role);
	if (role < 0) {
		fprintf(stderr, "parceldeskd: role must be primary, standby or replica, got '%s'\n",
			c->role);
		return -1;
	}
	if (role == REPL_OFF) {
		if (c->nats[0]) {
			fprintf(stderr, "parceldeskd: nats is set but no role: give --role\n");
			return -1;
		}
		return 0;
	}
	if (!c->nats[0]) {
		fprintf(stderr, "parceldeskd: role %s needs --nats URL[,URL...]\n", c->role);
		return -1;
	}
	int n = 0;
	for (const char *u = c->nats;; n++) {
		size_t len = strcspn(u, ",");
		if (!nats_url_ok(u, len) || n == NATS_MAX_URLS) {
			fprintf(stderr, "parceldeskd: nats must be up to %d URLs nats://HOST[:PORT] or "
				"tls://HOST[:PORT] separated by commas, got '%s'\n", NATS_MAX_URLS, c->nats);
			return -1;
		}
		if (!u[len])
			break;
		u += len + 1;
	}
	if (strcmp(c->repl_ack, "local") && strcmp(c->repl_ack, "quorum")) {
		fprintf(stderr, "parceldeskd: repl_ack must be local or quorum, got '%s'\n",
			c->repl_ack);
		return -1;
	}
	if (c->nats_ca[0] && access(c->nats_ca, R_OK) != 0) {
		fprintf(stderr, "parceldeskd: cannot read nats_ca %s: %s\n", c->nats_ca, strerror(errno));
		return -1;
	}
	if (read_password(c->nats_password_file) < 0)
		return -1;
	R.quorum = !strcmp(c->repl_ack, "quorum");
	snprintf(R.subject, sizeof(R.subject), "%.63s.changes", c->nats_stream);
	atomic_store(&R.role, role);
	return 0;
}

int repl_open(void)
{
	const struct config *c = &g_config;
	int role = repl_role();
	if (role == REPL_OFF)
		return 0;
	MDB_txn *txn;
	int rc = store_write_begin(&g_store, &txn, NULL);
	uint64_t seq = 0, epoch = 0;
	MDB_stat st = { 0 };
	if (!rc && !(rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &R.changes)) &&
	    !(rc = store_meta_get(txn, &g_store, KEY_SEQ, &seq)) &&
	    !(rc = store_meta_get(txn, &g_store, KEY_EPOCH, &epoch)) &&
	    !(rc = mdb_stat(txn, R.changes, &st))) {
		if (epoch == 0 && role == REPL_PRIMARY)
			rc = store_meta_put(txn, &g_store, KEY_EPOCH, epoch = 1);
	}
	/* what the log has not acknowledged is still in the outbox: its
	 * first entry (the stream says more once connected) */
	uint64_t published = seq;
	if (!rc && st.ms_entries) {
		MDB_cursor *cur;
		MDB_val k, v;
		if (!(rc = mdb_cursor_open(txn, R.changes, &cur))) {
			if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8)
				published = be64_get(k.mv_data) - 1;
			mdb_cursor_close(cur);
		}
	}
	/* the database and a primary's first epoch, redone by every start;
	 * under the log, synced by the start's checkpoint (main.c) before the
	 * replication thread starts or anything is answered */
	rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
	if (rc) {
		fprintf(stderr, "parceldeskd: cannot open the replication state: %s\n", mdb_strerror(rc));
		return -1;
	}
	atomic_store(&R.seq, seq);
	atomic_store(&R.epoch, epoch);
	atomic_store(&R.published, published);
	atomic_store(&R.outbox, st.ms_entries);
	if (role == REPL_PRIMARY)
		snprintf(R.primary, sizeof(R.primary), "%.127s", c->advertise[0] ? c->advertise : c->listen);
	snprintf(R.status, sizeof(R.status), "connecting to %.150s", c->nats);
	return 0;
}

bool repl_has_seq(MDB_txn *txn, uint64_t seq)
{
	uint64_t have = 0;
	return !repl_enabled() || (store_meta_get(txn, &g_store, KEY_SEQ, &have) == 0 && have >= seq);
}

/* ---------------------------------------------------------- the writer */

/* Outbox entry seq: be64 epoch, then the change set. */
static int outbox_entry(MDB_txn *txn, MDB_dbi changes, uint64_t seq, uint64_t epoch, const void *blob,
			size_t len)
{
	unsigned char key[8];
	be64_put(key, seq);
	MDB_val k = { 8, key }, v = { len + 8, NULL };
	int rc = mdb_put(txn, changes, &k, &v, MDB_RESERVE);
	if (rc == 0) {
		be64_put(v.mv_data, epoch);
		memcpy((char *)v.mv_data + 8, blob, len);
	}
	return rc;
}

/* The writer's staged hook: the group's change set into the outbox, in
 * the group's transaction (writer.h). */
static int outbox_put(MDB_txn *txn, uint64_t seq, const void *blob, size_t len)
{
	uint64_t epoch = atomic_load(&R.epoch);
	/* what the log acknowledged leaves the outbox, a bounded few a
	 * group (the log keeps it for the followers) */
	uint64_t acked = atomic_load(&R.published);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, R.changes, &cur);
	if (rc)
		return rc;
	MDB_val k, v;
	uint64_t trimmed = 0;
	while (trimmed < 64 && (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
	       k.mv_size == 8 && be64_get(k.mv_data) <= acked) {
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		trimmed++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = outbox_entry(txn, R.changes, seq, epoch, blob, len)) != 0)
		return rc;
	atomic_fetch_sub(&R.outbox, trimmed); /* a gauge: a failed commit is rare */
	return 0;
}

int repl_restage(MDB_txn *txn, uint64_t seq, uint64_t epoch, const void *blob, size_t len)
{
	MDB_dbi changes;
	int rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &changes);
	return rc ? rc : outbox_entry(txn, changes, seq, epoch, blob, len);
}

/* In quorum mode: keeps the group until the log acknowledged change set
 * seq (release_held hands it back); false: its replies go now. commit:
 * seq is the group's own, just committed here. */
static bool hold_for_log(uint64_t seq, void *group, bool commit)
{
	struct held *h = R.quorum && group ? malloc(sizeof(*h)) : NULL;
	if (R.quorum && group && !h)
		abort();
	pthread_mutex_lock(&R.lock);
	const char *refuse_now = R.held_error;
	bool hold = h && !refuse_now && (commit || atomic_load(&R.published) < seq);
	if (hold) {
		*h = (struct held){ .seq = seq, .group = group };
		if (R.held_tail)
			R.held_tail->next = h;
		else
			R.held = h;
		R.held_tail = h;
	}
	/* the thread may publish seq only once it is in the list: stored
	 * before, a fast publish released the list without it, and the group
	 * waited for the next publish, which might never come */
	if (commit)
		atomic_store(&R.seq, seq);
	kick();
	pthread_mutex_unlock(&R.lock);
	if (h && refuse_now) {
		/* deposed, or stopping: nobody will wait for the log, and a
		 * write the log does not hold is never answered 2xx here */
		free(h);
		R.release(group, refuse_now);
		return true;
	}
	if (h && !hold)
		free(h);
	return hold;
}

/* The writer's durable hook: in quorum mode the group waits for the log
 * (released by release_held), else its replies go now. */
static bool committed(uint64_t seq, const void *blob, size_t len, void *group)
{
	(void)blob; (void)len;
	atomic_fetch_add(&R.outbox, 1);
	return hold_for_log(seq, group, true);
}

/* The writer's hook for a group that changed nothing: every job a repeat
 * of a req= already answered, or a refusal. Its replies speak of groups
 * committed before it, so in quorum mode they wait until the log holds
 * those too (on this thread R.seq is the last committed). Answered at
 * once, a client's retry of a write still waiting for the log (same req=)
 * got its 201 from the req= table: during a partition, an acknowledgement
 * of a write a standby promoted meanwhile does not have. */
static bool unchanged(void *group)
{
	return hold_for_log(atomic_load(&R.seq), group, false);
}

const struct writer_hooks *repl_hooks(void)
{
	static const struct writer_hooks hooks = {
		.staged = outbox_put, .durable = committed, .unchanged = unchanged, .reply_seq = true,
	};
	return &hooks;
}

/* Hands back the held groups up to seq (all of them with an error). */
static void release_held(uint64_t upto, const char *error)
{
	for (;;) {
		pthread_mutex_lock(&R.lock);
		struct held *h = R.held;
		if (h && (error || h->seq <= upto)) {
			R.held = h->next;
			if (!R.held)
				R.held_tail = NULL;
		} else {
			h = NULL;
		}
		pthread_mutex_unlock(&R.lock);
		if (!h)
			return;
		R.release(h->group, error);
		free(h);
	}
}

/* --------------------------------------------------------------- NATS */

static void nats_drop(void)
{
	if (R.sub) {
		natsSubscription_Unsubscribe(R.sub);
		natsSubscription_Destroy(R.sub);
		R.sub = NULL;
	}
	kvStore_Destroy(R.kv);
	R.kv = NULL;
	jsCtx_Destroy(R.js);
	R.js = NULL;
	natsConnection_Destroy(R.nc);
	R.nc = NULL;
	R.stream_ready = false;
}

static uint64_t header_u64(natsMsg *m, const char *key, bool *ok);

/* The log holds every change set up to seq (never moves back). */
static void published_upto(uint64_t seq)
{
	uint64_t cur = atomic_load(&R.published);
	while (seq > cur && !atomic_compare_exchange_weak(&R.published, &cur, seq))
		;
}

/* The log's answer to an asynchronous append (a libnats thread): an
 * acknowledgement of N means the log holds every change set up to N
 * (each expected its predecessor as the log's last); anything else stops
 * publishing ahead until the thread sorted it out. */
static void on_pub_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js; (void)closure;
	bool ok = true;
	uint64_t seq = header_u64(m, "Pd-Seq", &ok);
	if (pa && !pae && ok && pa->Sequence == seq) {
		published_upto(seq);
	} else {
		atomic_store(&R.pub_failed, true);
	}
	natsMsg_Destroy(m);
	pthread_mutex_lock(&R.lock);
	kick();
	pthread_mutex_unlock(&R.lock);
}

/* A connection to the log and its JetStream context, with this node's
 * options (the replication thread's, or the snapshot thread's own). */
static natsStatus nats_dial(natsConnection **nc, jsCtx **js)
{
	const struct config *c = &g_config;
	natsOptions *o = NULL;
	char urls[sizeof(c->nats)];
	const char *servers[NATS_MAX_URLS];
	int n = 0;
	memcpy(urls, c->nats, sizeof(urls));
	for (char *save = NULL, *u = strtok_r(urls, ",", &save); u && n < NATS_MAX_URLS;
	     u = strtok_r(NULL, ",", &save))
		servers[n++] = u;
	char name[200];
	snprintf(name, sizeof(name), "parceldeskd %.15s %.127s", c->role, c->listen);
	natsStatus s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, servers, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, name);
	if (s == NATS_OK && c->nats_user[0])
		s = natsOptions_SetUserInfo(o, c->nats_user, R.password);
	if (s == NATS_OK && c->nats_ca[0]) {
		s = natsOptions_SetSecure(o, true);
		if (s == NATS_OK)
			s = natsOptions_LoadCATrustedCertificates(o, c->nats_ca);
	}
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 2000);
	if (s == NATS_OK)
		s = natsConnection_Connect(nc, o);
	natsOptions_Destroy(o);
	jsOptions jo;
	jsOptions_Init(&jo);
	jo.Wait = 5000;
	jo.PublishAsync.AckHandler = on_pub_ack;
	jo.PublishAsync.MaxPending = 2 * PUBLISH_WINDOW;
	if (s == NATS_OK)
		s = natsConnection_JetStream(js, *nc, &jo);
	return s;
}

static int nats_connect(void)
{
	natsStatus s = nats_dial(&R.nc, &R.js);
	if (s != NATS_OK) {
		set_status("warn", "cannot reach the log at %s: %s", g_config.nats, natsStatus_GetText(s));
		nats_drop();
		return -1;
	}
	set_status("info", "connected to the log at %s", g_config.nats);
	return 0;
}

/* The stream's state; creates the stream when there is none (a primary).
 * 0, or -1 (status set). */
static int stream_state(bool create, uint64_t *first, uint64_t *last)
{
	const struct config *c = &g_config;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, R.js, c->nats_stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND && create) {
		jsStreamConfig cfg;
		jsStreamConfig_Init(&cfg);
		const char *subjects[1] = { R.subject };
		cfg.Name = c->nats_stream;
		cfg.Subjects = subjects;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_FileStorage;
		cfg.Replicas = c->nats_replicas;
		cfg.MaxMsgs = c->nats_max_msgs ? c->nats_max_msgs : -1;
		s = js_AddStream(&si, R.js, &cfg, NULL, &jerr);
		if (s == NATS_OK)
			log_msg("info", 0, NULL, "replication: created stream %s (%lld copies)",
				c->nats_stream, (long long)c->nats_replicas);
	}
	if (s != NATS_OK) {
		set_status("warn", "stream %s unavailable: %s (%d)", c->nats_stream,
			   natsStatus_GetText(s), (int)jerr);
		return -1;
	}
	*first = si->State.FirstSeq;
	*last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return 0;
}

static uint64_t header_u64(natsMsg *m, const char *key, bool *ok)
{
	const char *v = NULL;
	if (natsMsgHeader_Get(m, key, &v) != NATS_OK || !v) {
		*ok = false;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || end == v || *end)
		*ok = false;
	return x;
}

/* The epoch of the message at stream sequence seq: 0 when it cannot be
 * read. */
static uint64_t log_epoch_at(uint64_t seq)
{
	natsMsg *m = NULL;
	if (js_GetMsg(&m, R.js, g_config.nats_stream, seq, NULL, NULL) != NATS_OK)
		return 0;
	bool ok = true;
	uint64_t e = header_u64(m, "Pd-Epoch", &ok);
	natsMsg_Destroy(m);
	return ok ? e : 0;
}

/* Whether the log's message seq is this change set: the same epoch and
 * the same bytes (two primaries' change sets of one seq and epoch differ
 * in what they wrote). */
static bool log_holds(uint64_t seq, uint64_t epoch, const void *blob, size_t len)
{
	natsMsg *m = NULL;
	if (js_GetMsg(&m, R.js, g_config.nats_stream, seq, NULL, NULL) != NATS_OK)
		return false;
	bool ok = true;
	uint64_t e = header_u64(m, "Pd-Epoch", &ok);
	ok = ok && e == epoch && (size_t)natsMsg_GetDataLength(m) == len &&
	     (!len || memcmp(natsMsg_GetData(m), blob, len) == 0);
	natsMsg_Destroy(m);
	return ok;
}

/* Whether the log's change set seq is this store's: one no longer in the
 * outbox came from the log (applied) or the log acknowledged it. */
static bool log_has_ours(uint64_t seq)
{
	struct entry e;
	if (outbox_read(seq, &e) != 0)
		return true;
	bool ours = log_holds(seq, e.epoch, e.blob, e.len);
	free(e.blob);
	return ours;
}

/* ------------------------------------------------------------- fencing */

/* This node is no longer the primary: another one wrote to the log. What
 * it committed that the log does not hold is a tail no other node has:
 * it stays a standby that applies nothing until restored. */
/* The primary's address, from the newest change set of the log. */
static void learn_primary(void)
{
	uint64_t first, last;
	natsMsg *m = NULL;
	const char *p = NULL;
	if (stream_state(false, &first, &last) < 0 || !last ||
	    js_GetMsg(&m, R.js, g_config.nats_stream, last, NULL, NULL) != NATS_OK)
		return;
	if (natsMsgHeader_Get(m, "Pd-Primary", &p) == NATS_OK && p) {
		pthread_mutex_lock(&R.lock);
		snprintf(R.primary, sizeof(R.primary), "%s", p);
		pthread_mutex_unlock(&R.lock);
	}
	natsMsg_Destroy(m);
}

static void fence(const char *why)
{
	uint64_t seq = atomic_load(&R.seq), pub = atomic_load(&R.published);
	learn_primary();
	pthread_mutex_lock(&R.lock);
	atomic_store(&R.role, REPL_STANDBY);
	R.held_error = FENCED_UNACKED;
	pthread_mutex_unlock(&R.lock);
	atomic_store(&R.diverged, seq > pub ? seq - pub : 0);
	R.stream_ready = false;
	log_msg("error", 0, NULL, "replication: fenced: %s; this node is no longer the primary "
		"and turns into a standby (%llu change sets committed here are not in the log)",
		why, (unsigned long long)(seq > pub ? seq - pub : 0));
	release_held(0, FENCED_UNACKED);
}

/* --------------------------------------------------------------- lease */

/* Automatic failover (lease_ms > 0): the primary keeps the key "primary"
 * of the bucket STREAM_lease ("EPOCH HOST:PORT"), renewing it with
 * compare-and-set on the revision it wrote last; a standby that sees the
 * revision unchanged for lease_ms takes it with compare-and-set on the
 * revision it saw — only one standby can — and promotes itself. Safety
 * does not rest on the lease (clocks, pauses): the log's fencing keeps a
 * deposed primary from appending; the lease only decides who tries. */
static bool lease_bucket(void)
{
	if (R.kv)
		return true;
	char bucket[96];
	snprintf(bucket, sizeof(bucket), "%.63s_lease", g_config.nats_stream);
	if (js_KeyValue(&R.kv, R.js, bucket) == NATS_OK)
		return true;
	kvConfig kc;
	kvConfig_Init(&kc);
	kc.Bucket = bucket;
	kc.History = 1;
	kc.Replicas = (int)g_config.nats_replicas;
	if (js_CreateKeyValue(&R.kv, R.js, &kc) == NATS_OK)
		return true;
	R.kv = NULL;
	return false;
}

static void lease_value(uint64_t epoch, char *buf, size_t cap)
{
	snprintf(buf, cap, "%llu %.127s", (unsigned long long)epoch,
		 g_config.advertise[0] ? g_config.advertise : g_config.listen);
}

/* A primary: renews the lease when due. */
static void lease_renew(void)
{
	if (!g_config.lease_ms || mono_ms() < R.lease_due_ms || !lease_bucket())
		return;
	char val[160];
	lease_value(atomic_load(&R.epoch), val, sizeof(val));
	uint64_t rev = 0;
	natsStatus s = R.lease_rev ? kvStore_UpdateString(&rev, R.kv, "primary", val, R.lease_rev)
				   : kvStore_PutString(&rev, R.kv, "primary", val);
	atomic_store(&R.lease_held, s == NATS_OK);
	if (s == NATS_OK) {
		R.lease_rev = rev;
		R.lease_due_ms = mono_ms() + g_config.lease_ms / 3;
	} else {
		/* someone else holds it now: the log will fence us if so */
		set_status("warn", "cannot renew the lease: %s", natsStatus_GetText(s));
		R.lease_rev = 0;
		R.lease_due_ms = mono_ms() + 200;
	}
}

/* A standby: true when it took an expired lease and should promote. */
static bool lease_take(void)
{
	if (!g_config.lease_ms || repl_role() != REPL_STANDBY || !lease_bucket())
		return false;
	kvEntry *e = NULL;
	natsStatus s = kvStore_Get(&e, R.kv, "primary");
	uint64_t rev = s == NATS_OK ? kvEntry_Revision(e) : 0;
	if (e) {
		pthread_mutex_lock(&R.lock);
		const char *v = kvEntry_ValueString(e), *sp = v ? strchr(v, ' ') : NULL;
		if (sp)
			snprintf(R.primary, sizeof(R.primary), "%s", sp + 1);
		pthread_mutex_unlock(&R.lock);
		kvEntry_Destroy(e);
	}
	if (s != NATS_OK && s != NATS_NOT_FOUND)
		return false;
	int64_t now = mono_ms();
	if (rev != R.lease_rev || !R.lease_seen_ms) {
		R.lease_rev = rev;
		R.lease_seen_ms = now;
		return false;
	}
	if (now - R.lease_seen_ms < g_config.lease_ms)
		return false;
	char val[160];
	lease_value(atomic_load(&R.epoch) + 1, val, sizeof(val));
	uint64_t mine = 0;
	s = rev ? kvStore_UpdateString(&mine, R.kv, "primary", val, rev)
		: kvStore_CreateString(&mine, R.kv, "primary", val);
	R.lease_seen_ms = now;
	if (s != NATS_OK)
		return false; /* another standby was first */
	R.lease_rev = mine;
	atomic_store(&R.lease_held, true);
	R.lease_due_ms = now + g_config.lease_ms / 3;
	log_msg("warn", 0, NULL, "replication: the primary's lease expired (%lld ms unchanged): "
		"took it, promoting", (long long)g_config.lease_ms);
	return true;
}

/* ----------------------------------------------------------- snapshots */

/* A follower the log was trimmed past restores a snapshot the primary
 * published: every snapshot_every change sets (by default half of
 * nats_max_msgs) the primary copies its store (a compacting copy, as
 * BACKUP makes), waits until the log holds every change set in it, and
 * publishes it to the stream NAME_SNAP: the file in chunks on NAME.snap.data,
 * then a manifest on NAME.snap.manifest (its seq, epoch, size, SHA-256 and
 * where its chunks are), then purges the older ones. libnats 3.4.1 has no
 * object store: the chunks are plain messages. */
#define SNAP_CHUNK (256 * 1024)
/* How long a snapshot waits for the log to hold its last change set. */
#define SNAP_PUBLISH_WAIT_MS 10000

struct manifest {
	uint64_t seq, epoch, bytes, first, chunks;
	char sha[65];
};

static void snap_names(char *stream, char *data, char *manifest, size_t cap)
{
	snprintf(stream, cap, "%.63s_SNAP", g_config.nats_stream);
	snprintf(data, cap, "%.63s.snap.data", g_config.nats_stream);
	snprintf(manifest, cap, "%.63s.snap.manifest", g_config.nats_stream);
}

static uint64_t snap_every(void)
{
	return g_config.snapshot_every ? (uint64_t)g_config.snapshot_every
				       : (uint64_t)g_config.nats_max_msgs / 2;
}

static void sha_hex(EVP_MD_CTX *md, char out[65])
{
	unsigned char d[32];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The newest manifest of the log. 0, or -1 when there is none (or the
 * log cannot say). */
static int snap_newest(jsCtx *js, struct manifest *m)
{
	char stream[96], data[96], subj[96];
	snap_names(stream, data, subj, sizeof(stream));
	natsMsg *msg = NULL;
	if (js_GetLastMsg(&msg, js, stream, subj, NULL, NULL) != NATS_OK)
		return -1;
	bool ok = true;
	const char *sha = NULL;
	m->seq = header_u64(msg, "Pd-Snap-Seq", &ok);
	m->epoch = header_u64(msg, "Pd-Snap-Epoch", &ok);
	m->bytes = header_u64(msg, "Pd-Snap-Bytes", &ok);
	m->first = header_u64(msg, "Pd-Snap-First", &ok);
	m->chunks = header_u64(msg, "Pd-Snap-Chunks", &ok);
	if (natsMsgHeader_Get(msg, "Pd-Snap-Sha256", &sha) != NATS_OK || !sha || strlen(sha) != 64)
		ok = false;
	else
		memcpy(m->sha, sha, 65);
	natsMsg_Destroy(msg);
	return ok ? 0 : -1;
}

/* Opens a snapshot file read-only and reads its seq, epoch and schema
 * version (schema may be NULL). */
static int snap_env_open(const char *file, MDB_env **env, uint64_t *seq, uint64_t *epoch, uint32_t *schema)
{
	MDB_txn *txn = NULL;
	MDB_dbi meta;
	int rc = mdb_env_create(env);
	if (!rc)
		rc = mdb_env_set_maxdbs(*env, 64);
	if (!rc)
		rc = mdb_env_open(*env, file, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0640);
	if (!rc)
		rc = mdb_txn_begin(*env, NULL, MDB_RDONLY, &txn);
	if (!rc && !(rc = mdb_dbi_open(txn, "meta", 0, &meta))) {
		MDB_val k = { strlen(KEY_SEQ), KEY_SEQ }, v;
		rc = mdb_get(txn, meta, &k, &v);
		*seq = rc == 0 && v.mv_size == 8 ? be64_get(v.mv_data) : 0;
		k = (MDB_val){ strlen(KEY_EPOCH), KEY_EPOCH };
		*epoch = mdb_get(txn, meta, &k, &v) == 0 && v.mv_size == 8 ? be64_get(v.mv_data) : 0;
		if (rc == 0 && schema)
			rc = store_schema_get(txn, meta, schema);
	}
	if (txn)
		mdb_txn_abort(txn);
	if (rc) {
		mdb_env_close(*env);
		*env = NULL;
	}
	return rc;
}

/* The primary's snapshot thread (its own connection to the log, so the
 * publishing of change sets goes on meanwhile). */
static struct {
	pthread_t thread;
	atomic_bool running;
	bool started;
	uint64_t last; /* seq of the newest snapshot in the log */
} S;

static int snap_publish_chunk(jsCtx *js, const char *subj, const void *buf, int len,
			      const char *hdr[][2], int nhdr, uint64_t *stream_seq)
{
	natsMsg *m = NULL;
	natsStatus s = natsMsg_Create(&m, subj, NULL, buf, len);
	for (int i = 0; s == NATS_OK && i < nhdr; i++)
		s = natsMsgHeader_Set(m, hdr[i][0], hdr[i][1]);
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = 10000;
	jsPubAck *pa = NULL;
	if (s == NATS_OK)
		s = js_PublishMsg(&pa, js, m, &po, NULL);
	if (s == NATS_OK && stream_seq)
		*stream_seq = pa->Sequence;
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	return s == NATS_OK ? 0 : -1;
}

/* Copies the store, waits until the log holds all of it, publishes it.
 * Returns why it did not, or NULL. */
static const char *snap_make(jsCtx *js, const char *dir, char *err, size_t cap)
{
	char stream[96], data[96], subj[96], file[1200];
	snap_names(stream, data, subj, sizeof(stream));
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	/* the copy reads the map, which a growth replaces: as BACKUP's, under
	 * the resize lock (a growth waits for the copy) */
	pthread_rwlock_rdlock(&g_store.resize_lock);
	int rc = mdb_env_copy2(g_store.env, dir, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&g_store.resize_lock);
	MDB_env *env = NULL;
	struct manifest m = { 0 };
	if (rc || (rc = snap_env_open(file, &env, &m.seq, &m.epoch, NULL)) != 0) {
		snprintf(err, cap, "cannot copy the store: %s", mdb_strerror(rc));
		return err;
	}
	mdb_env_close(env);
	/* every change set in it must be the log's: a snapshot never holds
	 * what a deposed primary committed alone */
	int64_t until = mono_ms() + SNAP_PUBLISH_WAIT_MS;
	while (atomic_load(&R.published) < m.seq && mono_ms() < until && !should_stop())
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	if (atomic_load(&R.published) < m.seq || repl_role() != REPL_PRIMARY ||
	    atomic_load(&R.epoch) != m.epoch) {
		snprintf(err, cap, "the log did not take change set %llu in time, or this node was deposed",
			 (unsigned long long)m.seq);
		return err;
	}
	jsStreamInfo *si = NULL;
	if (js_GetStreamInfo(&si, js, stream, NULL, NULL) == NATS_NOT_FOUND) {
		jsStreamConfig cfg;
		jsStreamConfig_Init(&cfg);
		char subjects[96];
		snprintf(subjects, sizeof(subjects), "%.63s.snap.>", g_config.nats_stream);
		const char *subs[1] = { subjects };
		cfg.Name = stream;
		cfg.Subjects = subs;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_FileStorage;
		cfg.Replicas = g_config.nats_replicas;
		js_AddStream(&si, js, &cfg, NULL, NULL);
	}
	jsStreamInfo_Destroy(si);
	FILE *f = fopen(file, "rb");
	if (!f) {
		snprintf(err, cap, "cannot read the copy: %s", strerror(errno));
		return err;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char *buf = malloc(SNAP_CHUNK), sseq[24], sidx[24];
	if (!buf || !md)
		abort();
	snprintf(sseq, sizeof(sseq), "%llu", (unsigned long long)m.seq);
	size_t n;
	const char *why = NULL;
	while (!why && (n = fread(buf, 1, SNAP_CHUNK, f)) > 0) {
		EVP_DigestUpdate(md, buf, n);
		snprintf(sidx, sizeof(sidx), "%llu", (unsigned long long)m.chunks);
		const char *hdr[][2] = { { "Pd-Snap-Seq", sseq }, { "Pd-Snap-Chunk", sidx } };
		uint64_t at = 0;
		if (should_stop() || snap_publish_chunk(js, data, buf, (int)n, hdr, 2, &at) < 0)
			why = "cannot publish it";
		if (m.chunks++ == 0)
			m.first = at;
		m.bytes += n;
	}
	if (ferror(f))
		why = "cannot read the copy";
	fclose(f);
	free(buf);
	sha_hex(md, m.sha);
	EVP_MD_CTX_free(md);
	if (why) {
		snprintf(err, cap, "%s", why);
		return err;
	}
	char v[5][24];
	uint64_t vals[5] = { m.seq, m.epoch, m.bytes, m.first, m.chunks };
	for (int i = 0; i < 5; i++)
		snprintf(v[i], sizeof(v[i]), "%llu", (unsigned long long)vals[i]);
	const char *hdr[][2] = { { "Pd-Snap-Seq", v[0] }, { "Pd-Snap-Epoch", v[1] },
				 { "Pd-Snap-Bytes", v[2] }, { "Pd-Snap-First", v[3] },
				 { "Pd-Snap-Chunks", v[4] }, { "Pd-Snap-Sha256", m.sha } };
	if (snap_publish_chunk(js, subj, NULL, 0, hdr, 6, NULL) < 0) {
		snprintf(err, cap, "cannot publish its manifest");
		return err;
	}
	/* the older snapshots go (a follower fetching one starts again);
	 * none when this one starts the stream (its first message is 1): a
	 * purge below message 1 purges everything in nats-server before 2.10
	 * (nats-server issue 4696; Debian 12 has 2.9.10), this snapshot too,
	 * and followers then found "its chunk 0 is gone from the log" */
	if (m.first > 1) {
		jsOptions po;
		jsOptions_Init(&po);
		po.Stream.Purge.Sequence = m.first;
		js_PurgeStream(js, stream, &po, NULL);
	}
	S.last = m.seq;
	log_msg("info", 0, NULL, "replication: published a snapshot of change set %llu "
		"(%llu bytes, %llu chunks from message %llu of %s)", (unsigned long long)m.seq,
		(unsigned long long)m.bytes, (unsigned long long)m.chunks, (unsigned long long)m.first,
		stream);
	return NULL;
}

/* Removes a snapshot's work directory (the copy, nothing else). */
static void snap_clean(const char *dir)
{
	char file[1200];
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	unlink(file);
	rmdir(dir);
}

static void *snap_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "pd-snapshot");
	char dir[1100], err[200];
	snprintf(dir, sizeof(dir), "%s/.snapshot-out.tmp", g_config.data_dir);
	snap_clean(dir);
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	const char *why = NULL;
	if (mkdir(dir, 0750) < 0)
		why = strerror(errno);
	else if (nats_dial(&nc, &js) != NATS_OK)
		why = "cannot reach the log";
	else
		why = snap_make(js, dir, err, sizeof(err));
	if (why)
		log_msg("warn", 0, NULL, "replication: no snapshot this time: %s", why);
	snap_clean(dir);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	atomic_store(&S.running, false);
	return NULL;
}

static void snap_join(void)
{
	if (S.started) {
		pthread_join(S.thread, NULL);
		S.started = false;
	}
}

/* A primary: starts a snapshot when snapshot_every change sets were
 * published since the newest one. */
static void snap_maybe(void)
{
	uint64_t every = snap_every(), pub = atomic_load(&R.published);
	if (!every || atomic_load(&S.running) || pub < S.last + every)
		return;
	snap_join();
	atomic_store(&S.running, true);
	if (pthread_create(&S.thread, NULL, snap_main, NULL) == 0) {
		S.started = true;
	} else {
		atomic_store(&S.running, false);
		S.last = pub; /* try again after another round */
	}
}

/* A follower given a change set or snapshot (what) in a schema newer
 * than this build reads stops applying for good: every later one is in
 * it too, and applying it would store values this build misreads. Until
 * an upgrade it answers reads from what it has (min_seq= reads wait, then
 * 503 as on any follower behind) and is not promoted. */
static void stop_newer(const char *what, uint64_t schema)
{
	atomic_fetch_add(&R.refused, 1);
	pthread_mutex_lock(&R.lock);
	snprintf(R.newer, sizeof(R.newer), "%s is in schema version %llu, this build reads %d to %d: "
		 "applying stopped; upgrade this node to the primary's build", what,
		 (unsigned long long)schema, STORE_SCHEMA_OLDEST, STORE_SCHEMA_VERSION);
	pthread_mutex_unlock(&R.lock);
}

/* Why applying stopped for good (stop_newer), or false. */
static bool stopped_newer(char *why, size_t cap)
{
	pthread_mutex_lock(&R.lock);
	bool stopped = R.newer[0] != '\0';
	if (why)
		snprintf(why, cap, "%s", R.newer);
	pthread_mutex_unlock(&R.lock);
	return stopped;
}

/* Copies every database of the snapshot over the store's, in one
 * transaction: readers see the old store until it commits. The outbox is
 * left empty: every change set of a snapshot is the log's. */
static int restore_txn(MDB_txn *txn, void *arg)
{
	MDB_env *src = arg;
	MDB_txn *stx = NULL;
	MDB_cursor *cur = NULL, *sc = NULL;
	MDB_dbi main, sdb, db;
	MDB_val k, v;
	unsigned flags;
	int rc = mdb_dbi_open(txn, NULL, 0, &main);
	/* empty every database of the store (names first: dropping writes
	 * the main database the cursor walks) */
	char names[64][64];
	int n = 0;
	if (!rc && !(rc = mdb_cursor_open(txn, main, &cur))) {
		for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0 && n < 64;
		     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
			if (k.mv_size < sizeof(names[0]))
				snprintf(names[n++], sizeof(names[0]), "%.*s", (int)k.mv_size, (char *)k.mv_data);
		mdb_cursor_close(cur);
	}
	for (int i = 0; !rc && i < n; i++)
		if (!(rc = mdb_dbi_open(txn, names[i], 0, &db)))
			rc = mdb_drop(txn, db, 0);
	if (!rc)
		rc = mdb_txn_begin(src, NULL, MDB_RDONLY, &stx);
	if (!rc && !(rc = mdb_dbi_open(stx, NULL, 0, &main)) && !(rc = mdb_cursor_open(stx, main, &cur))) {
		for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && r == 0;
		     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			char name[64];
			if (k.mv_size >= sizeof(name))
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)k.mv_size, (char *)k.mv_data);
			if (!strcmp(name, "changes"))
				continue;
			if ((rc = mdb_dbi_open(stx, name, 0, &sdb)) || (rc = mdb_dbi_flags(stx, sdb, &flags)) ||
			    (rc = mdb_dbi_open(txn, name, (flags & MDB_DUPSORT) | MDB_CREATE, &db)) ||
			    (rc = mdb_cursor_open(stx, sdb, &sc)))
				break;
			MDB_val sk, sv;
			for (int r2 = mdb_cursor_get(sc, &sk, &sv, MDB_FIRST); !rc && r2 == 0;
			     r2 = mdb_cursor_get(sc, &sk, &sv, MDB_NEXT))
				rc = mdb_put(txn, db, &sk, &sv, 0);
			mdb_cursor_close(sc);
		}
		mdb_cursor_close(cur);
	}
	if (stx)
		mdb_txn_abort(stx);
	return rc;
}

/* A follower the log starts after: the newest snapshot that reaches the
 * log (its seq at least first - 1), fetched, checked and copied over this
 * store; then it follows from the snapshot's seq + 1. 0 done, -1 not now
 * (status says why). Runs on the replication thread: the loop answers
 * reads from the old store meanwhile. */
static int snap_restore(uint64_t first)
{
	struct manifest m;
	uint64_t want = atomic_load(&R.seq) + 1;
	if (snap_newest(R.js, &m) < 0 || m.seq + 1 < first) {
		set_status("warn", "the log starts at change set %llu, this store needs %llu: waiting "
			   "for the primary's next snapshot (or restore a BACKUP of it)",
			   (unsigned long long)first, (unsigned long long)want);
		return -1;
	}
	/* a snapshot of change set the log still holds must agree with it */
	if (m.seq >= first && log_epoch_at(m.seq) != m.epoch) {
		set_status("error", "the log's snapshot of change set %llu (epoch %llu) does not agree "
			   "with the log: not restored", (unsigned long long)m.seq, (unsigned long long)m.epoch);
		return -1;
	}
	set_status("info", "restoring the log's snapshot of change set %llu (%llu bytes)",
		   (unsigned long long)m.seq, (unsigned long long)m.bytes);
	char stream[96], data[96], subj[96], file[1200], sseq[24], why[160] = "";
	snap_names(stream, data, subj, sizeof(stream));
	snprintf(file, sizeof(file), "%s/.snapshot-in.tmp", g_config.data_dir);
	snprintf(sseq, sizeof(sseq), "%llu", (unsigned long long)m.seq);
	FILE *f = fopen(file, "wb");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		abort();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	uint64_t bytes = 0;
	if (!f)
		snprintf(why, sizeof(why), "cannot write %.60s: %s", file, strerror(errno));
	natsStatus unread = NATS_OK; /* a chunk the log could not give now */
	for (uint64_t i = 0; !why[0] && i < m.chunks; i++) {
		natsMsg *c = NULL;
		const char *hs = NULL;
		bool ok = true;
		natsStatus s = js_GetMsg(&c, R.js, stream, m.first + i, NULL, NULL);
		if (s == NATS_NOT_FOUND) {
			snprintf(why, sizeof(why), "its chunk %llu is gone from the log", (unsigned long long)i);
			break;
		}
		if (s != NATS_OK) {
			/* not the snapshot's fault (a stream still electing its
			 * leader, a timeout): tried again, not refused */
			unread = s;
			snprintf(why, sizeof(why), "its chunk %llu could not be read from the log: %s",
				 (unsigned long long)i, natsStatus_GetText(s));
			break;
		}
		if (natsMsgHeader_Get(c, "Pd-Snap-Seq", &hs) != NATS_OK || !hs || strcmp(hs, sseq) ||
		    header_u64(c, "Pd-Snap-Chunk", &ok) != i || !ok)
			snprintf(why, sizeof(why), "the log's message %llu is not its chunk %llu",
				 (unsigned long long)(m.first + i), (unsigned long long)i);
		size_t len = (size_t)natsMsg_GetDataLength(c);
		if (!why[0] && fwrite(natsMsg_GetData(c), 1, len, f) != len)
			snprintf(why, sizeof(why), "cannot write %.60s: %s", file, strerror(errno));
		EVP_DigestUpdate(md, natsMsg_GetData(c), len);
		bytes += len;
		natsMsg_Destroy(c);
	}
	char sha[65];
	sha_hex(md, sha);
	EVP_MD_CTX_free(md);
	if (f && fclose(f) != 0 && !why[0])
		snprintf(why, sizeof(why), "cannot write %.60s: %s", file, strerror(errno));
	if (!why[0] && (bytes != m.bytes || strcmp(sha, m.sha)))
		snprintf(why, sizeof(why), "its checksum or size does not match its manifest "
			 "(%llu bytes, SHA-256 %.12s..., expected %llu, %.12s...)", (unsigned long long)bytes,
			 sha, (unsigned long long)m.bytes, m.sha);
	MDB_env *env = NULL;
	uint64_t seq = 0, epoch = 0;
	uint32_t schema = 0;
	bool newer = false;
	int rc = 0;
	if (!why[0] && (rc = snap_env_open(file, &env, &seq, &epoch, &schema)) != 0)
		snprintf(why, sizeof(why), "cannot open it: %s", mdb_strerror(rc));
	else if (!why[0] && (seq != m.seq || epoch != m.epoch))
		snprintf(why, sizeof(why), "it holds change set %llu of epoch %llu, not what its "
			 "manifest says", (unsigned long long)seq, (unsigned long long)epoch);
	else if (!why[0] && schema > STORE_SCHEMA_VERSION)
		newer = true; /* checked before it replaces anything */
	else if (!why[0] && schema < STORE_SCHEMA_OLDEST)
		snprintf(why, sizeof(why), "its schema version is %u, this build reads %d to %d",
			 schema, STORE_SCHEMA_OLDEST, STORE_SCHEMA_VERSION);
	else if (!why[0] && (rc = store_write(restore_txn, env, NULL)) != 0)
		snprintf(why, sizeof(why), "cannot copy it into the store: %s", mdb_strerror(rc));
	if (env)
		mdb_env_close(env);
	unlink(file);
	if (unread != NATS_OK) {
		set_status("warn", "snapshot of change set %llu: %s; trying again",
			   (unsigned long long)m.seq, why);
		return -1;
	}
	if (newer) {
		char what[64];
		snprintf(what, sizeof(what), "the log's snapshot of change set %llu", (unsigned long long)seq);
		stop_newer(what, schema);
		return -1;
	}
	if (why[0]) {
		atomic_fetch_add(&R.refused, 1);
		set_status("error", "snapshot of change set %llu refused: %s; nothing restored",
			   (unsigned long long)m.seq, why);
		return -1;
	}
	atomic_store(&R.seq, seq);
	atomic_store(&R.epoch, epoch);
	atomic_store(&R.outbox, 0);
	log_msg("warn", 0, NULL, "replication: this store needed change set %llu, the log starts at "
		"%llu: restored the log's snapshot of change set %llu (%llu bytes)",
		(unsigned long long)want, (unsigned long long)first, (unsigned long long)seq,
		(unsigned long long)bytes);
	return 0;
}

/* ------------------------------------------------------------- primary */

/* Once connected: the stream exists, and what it holds agrees with this
 * store. 0 when publishing may start. */
static int primary_prepare(void)
{
	uint64_t first, last;
	if (stream_state(true, &first, &last) < 0)
		return -1;
	(void)first;
	uint64_t seq = atomic_load(&R.seq);
	if (last > seq) {
		char why[160];
		snprintf(why, sizeof(why), "the log holds change set %llu, this store only %llu",
			 (unsigned long long)last, (unsigned long long)seq);
		/* behind, not diverged, when the log's copy of our last is ours */
		atomic_store(&R.published, seq && !log_has_ours(seq) ? 0 : seq);
		fence(why);
		return -1;
	}
	if (last && !log_has_ours(last)) {
		char why[160];
		snprintf(why, sizeof(why), "the log's change set %llu is not this store's", (unsigned long long)last);
		atomic_store(&R.published, last - 1);
		fence(why);
		return -1;
	}
	atomic_store(&R.published, last);
	struct manifest m;
	if (!S.last && snap_newest(R.js, &m) == 0)
		S.last = m.seq;
	R.stream_ready = true;
	atomic_store(&R.sent, 0); /* publishing ahead starts after the last acknowledged */
	set_status("info", "primary at epoch %llu: the log holds up to %llu, this store %llu",
		   (unsigned long long)atomic_load(&R.epoch), (unsigned long long)last,
		   (unsigned long long)seq);
	return 0;
}

/* What the log said to an append. */
enum append { APPENDED, REFUSED, UNAVAILABLE };

/* The log's message of change set seq and its options (id: the caller's
 * buffer), so that it is appended as the log's message seq: Nats-Msg-Id
 * EPOCH:SEQ:HOST:PORT (this node's repeat is stored once; another node's
 * append of the same seq is not taken for one) and the log's last message
 * expected to be seq - 1 (fencing). libnats sends no expected last
 * sequence of 0 (its PubOptions take 0 for none), so the header is set
 * here for change set 1: nats-server takes the header's presence, not its
 * value, to mean "expected", and two primaries on an empty log cannot
 * both append change set 1. */
static natsStatus log_msg_new(natsMsg **m, jsPubOptions *po, char *id, size_t idcap, uint64_t seq,
			      uint64_t epoch, const void *blob, size_t len)
{
	char sseq[24], sepoch[24];
	const char *self = g_config.advertise[0] ? g_config.advertise : g_config.listen;
	snprintf(id, idcap, "%llu:%llu:%.127s", (unsigned long long)epoch,
		 (unsigned long long)seq, self);
	snprintf(sseq, sizeof(sseq), "%llu", (unsigned long long)seq);
	snprintf(sepoch, sizeof(sepoch), "%llu", (unsigned long long)epoch);
	*m = NULL;
	natsStatus s = natsMsg_Create(m, R.subject, NULL, blob, (int)len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(*m, "Pd-Seq", sseq);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(*m, "Pd-Epoch", sepoch);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(*m, "Pd-Primary", self);
	if (s == NATS_OK && seq == 1)
		s = natsMsgHeader_Set(*m, "Nats-Expected-Last-Sequence", "0");
	jsPubOptions_Init(po);
	po->MsgId = id;
	po->ExpectLastSeq = seq - 1;
	po->MaxWait = 5000;
	return s;
}

/* Appends change set seq and waits for the log's answer. */
static enum append log_append(uint64_t seq, uint64_t epoch, const void *blob, size_t len,
			      char *err, size_t cap)
{
	char id[200];
	natsMsg *m;
	jsPubOptions po;
	natsStatus s = log_msg_new(&m, &po, id, sizeof(id), seq, epoch, blob, len);
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	if (s == NATS_OK)
		s = js_PublishMsg(&pa, R.js, m, &po, &jerr);
	natsMsg_Destroy(m);
	enum append out = APPENDED;
	if (s == NATS_OK && pa->Sequence != seq) {
		snprintf(err, cap, "the log stored change set %llu as its %llu",
			 (unsigned long long)seq, (unsigned long long)pa->Sequence);
		out = REFUSED;
	} else if (s != NATS_OK && jerr == JSStreamWrongLastSequenceErr) {
		snprintf(err, cap, "the log refused change set %llu: another primary wrote after %llu",
			 (unsigned long long)seq, (unsigned long long)seq - 1);
		out = REFUSED;
	} else if (s != NATS_OK) {
		snprintf(err, cap, "cannot publish change set %llu: %s (%d)", (unsigned long long)seq,
			 natsStatus_GetText(s), (int)jerr);
		out = UNAVAILABLE;
	}
	jsPubAck_Destroy(pa);
	return out;
}

/* Publishes the outbox's change set seq. 0 done, -1 retry later (status
 * set), 1 fenced. */
static int publish(uint64_t seq)
{
	struct entry e;
	int rc = outbox_read(seq, &e);
	if (rc) {
		set_status("error", "change set %llu is not in the outbox: %s", (unsigned long long)seq,
			   mdb_strerror(rc));
		return -1;
	}
	char err[200];
	enum append r = log_append(seq, e.epoch, e.blob, e.len, err, sizeof(err));
	/* an append whose answer was lost, retried after the log forgot its
	 * id: the log holds this very change set, so it is ours */
	if (r == REFUSED && log_holds(seq, e.epoch, e.blob, e.len))
		r = APPENDED;
	free(e.blob);
	if (r == REFUSED) {
		fence(err);
		return 1;
	}
	if (r == UNAVAILABLE) {
		set_status("warn", "%s; writes wait", err);
		return -1;
	}
	published_upto(seq);
	release_held(seq, NULL);
	return 0;
}

/* Hands the change sets after the last sent to the log without waiting
 * for its answers, up to PUBLISH_WINDOW ahead of the last acknowledged
 * (on_pub_ack). Each still expects its predecessor as the log's last: the
 * log takes them in order or not at all. -1 when one could not be sent. */
static int publish_ahead(void)
{
	uint64_t top = atomic_load(&R.seq), acked = atomic_load(&R.published);
	for (uint64_t seq = atomic_load(&R.sent) + 1; seq <= top && seq <= acked + PUBLISH_WINDOW; seq++) {
		struct entry e;
		if (outbox_read(seq, &e) != 0)
			return -1;
		char id[200];
		natsMsg *m;
		jsPubOptions po;
		natsStatus s = log_msg_new(&m, &po, id, sizeof(id), seq, e.epoch, e.blob, e.len);
		free(e.blob);
		if (s == NATS_OK)
			s = js_PublishMsgAsync(R.js, &m, &po);
		natsMsg_Destroy(m);
		if (s != NATS_OK)
			return -1;
		atomic_store(&R.sent, seq);
	}
	return 0;
}

/* Takes back what is in flight (its answers are dropped): publishing
 * starts again after the last acknowledged. */
static void publish_rewind(void)
{
	natsMsgList pending = { 0 };
	if (js_PublishAsyncGetPendingList(&pending, R.js) == NATS_OK)
		natsMsgList_Destroy(&pending);
	atomic_store(&R.pub_failed, false);
	atomic_store(&R.sent, atomic_load(&R.published));
}

static void primary_step(void)
{
	lease_renew();
	if (!R.stream_ready && primary_prepare() < 0) {
		nap(500);
		return;
	}
	if (!R.stream_ready)
		return;
	snap_maybe();
	int64_t now = mono_ms();
	uint64_t acked = atomic_load(&R.published), sent = atomic_load(&R.sent);
	if (sent < acked)
		atomic_store(&R.sent, sent = acked);
	if (acked != R.last_released) {
		R.last_released = acked;
		R.acked_ms = now;
		release_held(acked, NULL);
		set_status(NULL, "primary at epoch %llu", (unsigned long long)atomic_load(&R.epoch));
	}
	if (atomic_load(&R.pub_failed) || (sent > acked && now - R.acked_ms > PUBLISH_STALL_MS)) {
		/* refused, failed or stalled: one at a time tells a fence
		 * (another primary wrote) from a pause of the log */
		publish_rewind();
		int r = publish(acked + 1);
		if (r < 0)
			nap(200);
		else if (r == 0)
			R.acked_ms = mono_ms();
		return;
	}
	if (acked >= atomic_load(&R.seq)) {
		nap(g_config.lease_ms ? g_config.lease_ms / 6 + 1 : 1000);
		return;
	}
	if (sent == acked)
		R.acked_ms = now; /* the wait for an answer starts now */
	if (publish_ahead() < 0)
		atomic_store(&R.pub_failed, true);
	nap(200); /* an acknowledgement or a commit wakes it */
}

/* ------------------------------------------------------------ follower */

static void refuse(uint64_t sseq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(uint64_t sseq, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&R.refused, 1);
	log_msg("error", 0, NULL, "replication: refused the log's message %llu: %s; nothing applied",
		(unsigned long long)sseq, why);
}

static void lag_sample(int64_t stored_ns)
{
	int64_t d = (real_ns() - stored_ns) / 1000000;
	pthread_mutex_lock(&R.lock);
	R.lag_ms[R.lag_n++ % LAG_SAMPLES] = d < 0 ? 0 : d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	pthread_mutex_unlock(&R.lock);
}

/* One message of the log: change set seq is applied only when it is the
 * one after this store's last, from the same or a newer epoch. */
static void apply_msg(natsMsg *m)
{
	jsMsgMetaData *meta = NULL;
	uint64_t sseq = 0;
	if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
		sseq = meta->Sequence.Stream;
		R.delivered = sseq;
		atomic_store(&R.lag_entries, meta->NumPending);
	}
	/* the change set itself says which it is; the headers must agree */
	const void *blob = natsMsg_GetData(m);
	size_t len = (size_t)natsMsg_GetDataLength(m);
	struct changeset_head head = { 0 };
	bool ok = true;
	uint64_t hseq = header_u64(m, "Pd-Seq", &ok), hepoch = header_u64(m, "Pd-Epoch", &ok);
	int prc = changeset_parse(blob, len, &head, NULL, NULL);
	uint64_t seq = head.seq, epoch = head.epoch;
	uint64_t have = atomic_load(&R.seq), cur = atomic_load(&R.epoch);
	/* EPROTONOSUPPORT: a newer layout, its epoch and seq read before
	 * it: judged below, in its turn */
	if (prc && prc != EPROTONOSUPPORT) {
		refuse(sseq, "not a change set: %s", pd_strerror(prc));
	} else if (!ok || hseq != seq || hepoch != epoch) {
		refuse(sseq, "change set %llu of epoch %llu under headers Pd-Seq %llu, Pd-Epoch %llu",
		       (unsigned long long)seq, (unsigned long long)epoch,
		       (unsigned long long)hseq, (unsigned long long)hepoch);
	} else if (seq <= have) {
		/* a change set this store holds: a repeat */
	} else if (seq != have + 1) {
		refuse(sseq, "change set %llu out of order: this store holds up to %llu",
		       (unsigned long long)seq, (unsigned long long)have);
	} else if (epoch < cur) {
		refuse(sseq, "change set %llu is from epoch %llu, older than this store's %llu",
		       (unsigned long long)seq, (unsigned long long)epoch, (unsigned long long)cur);
	} else if (head.schema > STORE_SCHEMA_VERSION) {
		char what[64];
		snprintf(what, sizeof(what), "change set %llu", (unsigned long long)seq);
		stop_newer(what, head.schema);
	} else {
		struct set x = { blob, len, seq };
		int rc = store_write(apply_set, &x, &x);
		if (rc) {
			/* skipping it would leave the store different from the
			 * primary's for good: stop here, say so */
			atomic_fetch_add(&R.refused, 1);
			set_status("error", "cannot apply change set %llu: %s; applying stopped",
				   (unsigned long long)seq, pd_strerror(rc));
			atomic_store(&R.diverged, 1);
		} else {
			atomic_store(&R.seq, seq);
			atomic_store(&R.epoch, epoch);
			const char *p = NULL;
			if (natsMsgHeader_Get(m, "Pd-Primary", &p) == NATS_OK && p) {
				pthread_mutex_lock(&R.lock);
				snprintf(R.primary, sizeof(R.primary), "%s", p);
				pthread_mutex_unlock(&R.lock);
			}
			if (meta) {
				atomic_store(&R.last_stored_ns, meta->Timestamp);
				lag_sample(meta->Timestamp);
			}
		}
	}
	jsMsgMetaData_Destroy(meta);
}

/* Subscribes from the change set after this store's last. 0 or -1. */
/* The first change set of the outbox the log does not hold as this
 * store's, or 0: a primary that died (or was deposed) before the log took
 * its last change sets, started again as a standby, must not read on past
 * them as if they were the log's: once the log holds another change set
 * at that seq, the store has diverged. */
static uint64_t outbox_not_in_log(void)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t from = 0;
	pthread_rwlock_rdlock(&g_store.resize_lock);
	if (mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &txn) == 0) {
		if (mdb_cursor_open(txn, R.changes, &cur) == 0) {
			if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8)
				from = be64_get(k.mv_data);
			mdb_cursor_close(cur);
		}
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&g_store.resize_lock);
	for (uint64_t seq = from; seq && seq <= atomic_load(&R.seq); seq++)
		if (!log_has_ours(seq))
			return seq;
	return 0;
}

static int follower_subscribe(void)
{
	uint64_t first, last, want = atomic_load(&R.seq) + 1;
	if (stream_state(false, &first, &last) < 0)
		return -1;
	learn_primary();
	uint64_t own = outbox_not_in_log();
	if (own && own > last) {
		/* not there yet: the primary may still publish it (a BACKUP
		 * copy's outbox), or a new one write another in its place */
		set_status("warn", "waiting for the log to reach change set %llu of this store",
			   (unsigned long long)own);
		return -1;
	}
	if (own) {
		atomic_store(&R.diverged, want - own);
		log_msg("error", 0, NULL, "replication: change sets %llu..%llu of this store are not "
			"in the log (a primary that was deposed or died before the log took them)",
			(unsigned long long)own, (unsigned long long)want - 1);
		return -1;
	}
	if (last >= first && first > want)
		return snap_restore(first) < 0 ? -1 : follower_subscribe();
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = g_config.nats_stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = want;
	jsErrCode jerr = 0;
	natsStatus s = js_SubscribeSync(&R.sub, R.js, R.subject, NULL, &so, &jerr);
	if (s != NATS_OK) {
		set_status("warn", "cannot read the log: %s (%d)", natsStatus_GetText(s), (int)jerr);
		R.sub = NULL;
		return -1;
	}
	R.delivered = want - 1;
	set_status("info", "%s following the log from change set %llu",
		   role_names[repl_role()], (unsigned long long)want);
	return 0;
}

/* Reads and applies one message; 0 when none came within ms. */
static int follow_one(int64_t ms)
{
	natsMsg *m = NULL;
	natsStatus s = natsSubscription_NextMsg(&m, R.sub, ms);
	if (s == NATS_TIMEOUT)
		return 0;
	if (s != NATS_OK) {
		set_status("warn", "reading the log: %s; subscribing again", natsStatus_GetText(s));
		natsSubscription_Destroy(R.sub);
		R.sub = NULL;
		return 0;
	}
	apply_msg(m);
	natsMsg_Destroy(m);
	return 1;
}

/* The promotion under way gives up: PROMOTE answers why. */
static void promote_give_up(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void promote_give_up(const char *fmt, ...)
{
	char why[sizeof(R.promote_failed)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&R.lock);
	R.promote_asked = false;
	memcpy(R.promote_failed, why, sizeof(why));
	pthread_mutex_unlock(&R.lock);
	set_status("error", "promotion abandoned: %s", why);
}

/* When the promotion under way gives up: set by its first try. */
static int64_t promote_deadline(void)
{
	if (!R.promote_until_ms)
		R.promote_until_ms = mono_ms() + PROMOTE_DRAIN_MS;
	return R.promote_until_ms;
}

/* A promotion step that did not get through (why: NULL for what the
 * status says): tried again until the promotion's deadline, then given
 * up. */
static void promote_retry(const char *why)
{
	char status[sizeof(R.status)];
	if (!why) {
		pthread_mutex_lock(&R.lock);
		memcpy(status, R.status, sizeof(status));
		pthread_mutex_unlock(&R.lock);
		why = status;
	}
	if (mono_ms() >= promote_deadline()) {
		promote_give_up("not done within %d s: %s", PROMOTE_DRAIN_MS / 1000, why);
		return;
	}
	set_status("warn", "promotion: %s; trying again", why);
	nap(200);
}

/* PROMOTE: apply everything the log holds, then open the next epoch with
 * a change set of its own appended to the log (expecting the log's last
 * to be the last applied here): from then on the old primary's appends
 * are refused. Only then is it committed here, the lease taken (lease_ms)
 * and writes taken. */
static void promote(void)
{
	uint64_t first, last;
	char err[200];
	int64_t until = promote_deadline();
	if ((!R.sub && follower_subscribe() < 0) || stream_state(false, &first, &last) < 0) {
		promote_retry(NULL);
		return;
	}
	while (R.sub && R.delivered < last && mono_ms() < until && !stopped_newer(NULL, 0))
		follow_one(200);
	uint64_t seq = atomic_load(&R.seq);
	if (atomic_load(&R.diverged)) {
		promote_give_up("this store holds change sets the log does not");
		return;
	}
	if (R.delivered < last || seq != last) {
		snprintf(err, sizeof(err), "applied up to change set %llu, the log holds %llu%s",
			 (unsigned long long)seq, (unsigned long long)last,
			 R.delivered >= last ? " (some were refused)" : "");
		promote_retry(err);
		return;
	}
	uint64_t es[2] = { atomic_load(&R.epoch) + 1, seq + 1 };
	struct changeset cs;
	changeset_init(&cs);
	changeset_seal(&cs, es[0], es[1]);
	enum append r = log_append(es[1], es[0], cs.sealed.data, cs.sealed.len, err, sizeof(err));
	if (r == REFUSED) {
		/* another primary wrote meanwhile: it stays the primary */
		changeset_free(&cs);
		promote_give_up("%s", err);
		return;
	}
	if (r == UNAVAILABLE) {
		changeset_free(&cs);
		promote_retry(err);
		return;
	}
	/* the new term's set (no ops: its epoch and seq) is stored like any
	 * applied one */
	struct set term = { cs.sealed.data, cs.sealed.len, es[1] };
	int rc;
	while ((rc = store_write(apply_set, &term, &term)) != 0) {
		/* the log has the new term: this node is the primary whatever
		 * happens, so storing it is retried, never given up */
		set_status("error", "promotion: cannot store epoch %llu: %s; trying again",
			   (unsigned long long)es[0], mdb_strerror(rc));
		if (should_stop()) {
			changeset_free(&cs);
			return;
		}
		nap(500);
	}
	changeset_free(&cs);
	natsSubscription_Unsubscribe(R.sub);
	natsSubscription_Destroy(R.sub);
	R.sub = NULL;
	atomic_store(&R.epoch, es[0]);
	atomic_store(&R.seq, es[1]);
	atomic_store(&R.published, es[1]);
	R.stream_ready = true;
	atomic_store(&R.sent, 0); /* publishing ahead starts after the last acknowledged */
	/* the lease is this node's now, whoever held it (the log decided) */
	R.lease_rev = 0;
	R.lease_due_ms = 0;
	lease_renew();
	pthread_mutex_lock(&R.lock);
	R.promote_asked = false;
	R.promote_failed[0] = '\0';
	R.held_error = NULL;
	snprintf(R.primary, sizeof(R.primary), "%.127s", g_config.advertise[0] ? g_config.advertise
									   : g_config.listen);
	pthread_mutex_unlock(&R.lock);
	atomic_store(&R.role, REPL_PRIMARY);
	log_msg("info", 0, NULL, "replication: promoted: primary at epoch %llu from change set %llu",
		(unsigned long long)es[0], (unsigned long long)es[1]);
	set_status(NULL, "primary at epoch %llu", (unsigned long long)es[0]);
	event_active(R.promoted_ev, EV_TIMEOUT, 0);
}

static void follower_step(void)
{
	char why[sizeof(R.newer)];
	if (stopped_newer(why, sizeof(why))) {
		/* read no further: nothing after it can be applied */
		if (R.sub) {
			natsSubscription_Unsubscribe(R.sub);
			natsSubscription_Destroy(R.sub);
			R.sub = NULL;
		}
		set_status("error", "%s", why);
		if (repl_promoting())
			promote_give_up("%s", why);
		nap(1000);
		return;
	}
	if (atomic_load(&R.diverged)) {
		set_status("error", "this store holds change sets the log does not (deposed primary): "
			   "it applies nothing; restore a BACKUP of the primary");
		nap(1000);
		return;
	}
	pthread_mutex_lock(&R.lock);
	bool promote_now = R.promote_asked;
	pthread_mutex_unlock(&R.lock);
	if (!promote_now && lease_take()) {
		pthread_mutex_lock(&R.lock);
		promote_now = R.promote_asked = true;
		R.promote_until_ms = 0;
		R.promote_failed[0] = '\0';
		pthread_mutex_unlock(&R.lock);
	}
	if (promote_now) {
		promote();
		return;
	}
	if (!R.sub && follower_subscribe() < 0) {
		nap(500);
		return;
	}
	follow_one(200);
}

/* Why this node cannot be promoted, or NULL. */
static const char *unpromotable(void)
{
	enum repl_role r = repl_role();
	if (r == REPL_REPLICA)
		return "a replica is never promoted: promote a standby";
	if (r == REPL_OFF)
		return "replication is off (no --role)";
	if (r == REPL_STANDBY && atomic_load(&R.diverged))
		return "this store holds change sets the log does not: restore it first";
	if (r == REPL_STANDBY && stopped_newer(NULL, 0))
		return "this build cannot read the primary's schema version (repl.status): upgrade it first";
	return NULL;
}

bool repl_promote(void)
{
	if (unpromotable() || repl_role() != REPL_STANDBY)
		return false;
	pthread_mutex_lock(&R.lock);
	if (!R.promote_asked) {
		R.promote_asked = true;
		R.promote_until_ms = 0;
		R.promote_failed[0] = '\0';
	}
	kick();
	pthread_mutex_unlock(&R.lock);
	return true;
}

bool repl_promoting(void)
{
	pthread_mutex_lock(&R.lock);
	bool asked = R.promote_asked;
	pthread_mutex_unlock(&R.lock);
	return asked && repl_role() == REPL_STANDBY;
}

int repl_promote_answer(char *msg, size_t cap)
{
	const char *no = unpromotable();
	if (no) {
		snprintf(msg, cap, "%s", no);
		return 409;
	}
	if (repl_role() == REPL_PRIMARY) {
		snprintf(msg, cap, "this node is the primary at epoch %llu%s",
			 (unsigned long long)atomic_load(&R.epoch),
			 !g_config.lease_ms ? "" : atomic_load(&R.lease_held) ? ", holding the lease"
							    : ", the lease not taken yet");
		return 200;
	}
	pthread_mutex_lock(&R.lock);
	if (R.promote_failed[0])
		snprintf(msg, cap, "not promoted: %s", R.promote_failed);
	else
		snprintf(msg, cap, "not promoted yet: %s", R.status);
	pthread_mutex_unlock(&R.lock);
	return 503;
}

/* -------------------------------------------------------------- thread */


static void *repl_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "pd-repl");
	while (!should_stop()) {
		if (!R.nc && nats_connect() < 0) {
			/* a promotion asked while the log cannot be reached gives
			 * up on time too: left asked, it answered "not promoted
			 * yet" and ran whenever the log came back, long after
			 * PROMOTE's 503 (test_promote.py) */
			if (repl_promoting())
				promote_retry(NULL);
			nap(500);
			continue;
		}
		if (repl_role() == REPL_PRIMARY)
			primary_step();
		else
			follower_step();
	}
	pthread_mutex_lock(&R.lock);
	R.held_error = STOPPED_UNACKED;
	pthread_mutex_unlock(&R.lock);
	release_held(0, STOPPED_UNACKED);
	nats_drop();
	return NULL;
}

static void on_promoted(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	R.promoted();
}

int repl_start(struct event_base *base, void (*release)(void *group, const char *error),
	       void (*promoted)(void))
{
	if (!repl_enabled())
		return 0;
	R.release = release;
	R.promoted = promoted;
	R.promoted_ev = event_new(base, -1, 0, on_promoted, NULL);
	if (!R.promoted_ev || pthread_create(&R.thread, NULL, repl_main, NULL))
		return -1;
	R.thread_started = true;
	return 0;
}

void repl_stop_soon(void)
{
	pthread_mutex_lock(&R.lock);
	if (!R.stop_at_ms)
		R.stop_at_ms = mono_ms() + STOP_GRACE_MS;
	kick();
	pthread_mutex_unlock(&R.lock);
}

void repl_stop(void)
{
	if (!R.thread_started)
		return;
	pthread_mutex_lock(&R.lock);
	R.stopping = true;
	kick();
	pthread_mutex_unlock(&R.lock);
	pthread_join(R.thread, NULL);
	snap_join();
	R.thread_started = false;
	event_free(R.promoted_ev);
	R.promoted_ev = NULL;
	nats_CloseAndWait(2000);
}

/* --------------------------------------------------------------- STATS */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void repl_refusal(char *buf, size_t cap)
{
	pthread_mutex_lock(&R.lock);
	snprintf(buf, cap, "read-only %s; the primary is %s", role_names[repl_role()],
		 R.primary[0] ? R.primary : "not known yet");
	pthread_mutex_unlock(&R.lock);
}

void repl_info(struct repl_info *o)
{
	enum repl_role r = repl_role();
	memset(o, 0, sizeof(*o));
	o->role = r == REPL_OFF ? "off" : role_names[r];
	o->ack = R.quorum ? "quorum" : "local";
	if (r == REPL_OFF)
		return;
	uint64_t seq = atomic_load(&R.seq), pub = atomic_load(&R.published);
	bool primary = r == REPL_PRIMARY;
	o->epoch = atomic_load(&R.epoch);
	o->committed = seq;
	o->published = primary ? pub : 0;
	o->sent = primary ? atomic_load(&R.sent) : 0;
	if (o->sent < o->published)
		o->sent = o->published;
	o->applied = primary ? 0 : seq;
	/* a primary's lag: what the log does not hold yet (lost if it died
	 * now, in local mode); a follower's: what the log holds beyond it */
	o->lag_entries = primary ? (seq > pub ? seq - pub : 0) : atomic_load(&R.lag_entries);
	int64_t stored = atomic_load(&R.last_stored_ns);
	o->lag_secs = !primary && o->lag_entries && stored ? (uint64_t)((real_ns() - stored) / 1000000000) : 0;
	o->outbox = atomic_load(&R.outbox);
	o->refused = atomic_load(&R.refused);
	o->diverged = atomic_load(&R.diverged);
	uint32_t lags[LAG_SAMPLES];
	pthread_mutex_lock(&R.lock);
	size_t n = R.lag_n < LAG_SAMPLES ? R.lag_n : LAG_SAMPLES;
	memcpy(lags, R.lag_ms, n * sizeof(lags[0]));
	memcpy(o->primary, R.primary, sizeof(o->primary));
	memcpy(o->status, R.status, sizeof(o->status));
	pthread_mutex_unlock(&R.lock);
	qsort(lags, n, sizeof(lags[0]), cmp_u32);
	o->lag_p50_ms = n ? lags[n / 2] : 0;
	o->lag_p99_ms = n ? lags[n * 99 / 100] : 0;
}

void repl_stats(struct pd_arena *a, struct pd_value *d)
{
	struct repl_info o;
	repl_info(&o);
	pd_map_set_str(a, d, "repl.role", o.role);
	if (!repl_enabled())
		return;
	pd_map_set_str(a, d, "repl.ack", o.ack);
	pd_map_set_int(a, d, "repl.epoch", (int64_t)o.epoch);
	pd_map_set_int(a, d, "repl.seq_committed", (int64_t)o.committed);
	pd_map_set_int(a, d, "repl.seq_published", (int64_t)o.sent);
	pd_map_set_int(a, d, "repl.seq_acked", (int64_t)o.published);
	pd_map_set_int(a, d, "repl.seq_applied", (int64_t)o.applied);
	pd_map_set_int(a, d, "repl.lag_entries", (int64_t)o.lag_entries);
	pd_map_set_int(a, d, "repl.lag_secs", (int64_t)o.lag_secs);
	pd_map_set_int(a, d, "repl.outbox_entries", (int64_t)o.outbox);
	pd_map_set_int(a, d, "repl.refused", (int64_t)o.refused);
	pd_map_set_int(a, d, "repl.diverged", (int64_t)o.diverged);
	pd_map_set_str(a, d, "repl.primary", o.primary);
	pd_map_set_str(a, d, "repl.status", o.status);
	pd_map_set_int(a, d, "repl.lag_p50_ms", (int64_t)o.lag_p50_ms);
	pd_map_set_int(a, d, "repl.lag_p99_ms", (int64_t)o.lag_p99_ms);
}
