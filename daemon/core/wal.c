/* wal.c — the write-ahead log and LMDB checkpoints (wal.h). */
#include "wal.h"

#include "changeset.h"
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* A record: magic, payload length, seq, flags (be32, be32, be64, be32),
 * CRC-32C of those 20 bytes and the payload (be32), then the payload (a
 * sealed change set). A file is written from offset 0 again each time a
 * checkpoint turns to it; what lies past its last record is older records
 * (seqs below its first) or zeros, and reading stops at the first record
 * that is torn, zero, or not the next seq. */
#define REC_MAGIC 0x50445732u /* "PDW2" */
#define REC_HEAD 24
#define REC_MAX (256u << 20)
/* The checkpoint file: magic, txnid (be64), page size (be32), CRC-32C of
 * all else (be32), then data.mdb's first two pages (its meta pages). */
#define CKPT_MAGIC "PDCKPT01"
#define CKPT_HEAD 24
/* A log file grows by zeros written ahead (not fallocate: writing into
 * blocks already written changes no file metadata, so the sync of an
 * append flushes only its data). */
#define WAL_CHUNK ((off_t)4 << 20)

static const char *const log_names[2] = { "wal.0", "wal.1" };

struct logfile {
	int fd;
	off_t off, alloc;
};

/* A checkpoint taken between two commits: its snapshot pinned, and the
 * meta pages that describe it, copied when it was taken. */
struct ckpt {
	MDB_txn *pin;
	uint64_t txnid, seq;
	size_t psize;
	unsigned char *pages;
};

static struct {
	bool on;
	MDB_env *env;
	char dir[512];
	/* appending: only by the holder of LMDB's write transaction */
	struct logfile f[2];
	int cur;               /* the file appended to */
	off_t last_off;        /* the last record's offset in it */
	off_t every_bytes;
	int64_t every_secs;
	struct timespec last;  /* when the last checkpoint was taken */
	int test_fail;         /* tests: fail appends (wal_test_fail) */
	/* shared with the checkpoint thread */
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	pthread_t thread;
	bool thread_on, stopping;
	struct ckpt *taken;    /* taken, not yet durable: no other is taken */
	MDB_txn *pin;          /* the last durable checkpoint's snapshot */
	char failed[256];
	atomic_bool has_failed;
	atomic_uint_fast64_t appends, bytes, checkpoints, checkpoint_seq, replayed;
	atomic_int_fast64_t checkpoint_usec;
} w = { .f = { { .fd = -1 }, { .fd = -1 } }, .lock = PTHREAD_MUTEX_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER }; /* .wake, waited with a deadline: wal_open() */

static uint32_t crc_table[256];

static uint32_t crc32c_table(uint32_t crc, const unsigned char *b, size_t n)
{
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>
/* SSE4.2's crc32 instruction computes this very CRC (Castagnoli, reflected):
 * 8 bytes a step instead of one; the table's loop was 7 % of the writer's
 * CPU at 50 connections (docs/performance.md, round 5). */
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *b, size_t n)
{
	uint64_t c = crc;
	for (; n >= 8; n -= 8, b += 8) {
		uint64_t word;
		memcpy(&word, b, 8);
		c = _mm_crc32_u64(c, word);
	}
	crc = (uint32_t)c;
	while (n--)
		crc = _mm_crc32_u8(crc, *b++);
	return crc;
}
#endif

static uint32_t (*crc32c_step)(uint32_t, const unsigned char *, size_t) = crc32c_table;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		crc32c_step = crc32c_sse42;
#endif
}

uint32_t wal_crc32c(uint32_t crc, const void *p, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, crc_init);
	return ~crc32c_step(~crc, p, n);
}

static void path_of(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int64_t usec_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	pthread_mutex_lock(&w.lock);
	bool first = !atomic_load(&w.has_failed);
	if (first) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w.failed, sizeof(w.failed), fmt, ap);
		va_end(ap);
		atomic_store(&w.has_failed, true);
		pthread_cond_broadcast(&w.done);
	}
	pthread_mutex_unlock(&w.lock);
	if (first)
		log_msg("error", 0, NULL, "%s; writes are refused until the daemon is restarted", w.failed);
}

const char *wal_failed(void)
{
	return atomic_load(&w.has_failed) ? w.failed : NULL;
}

bool wal_on(void)
{
	return w.on;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static bool full_errno(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG;
}

/* LMDB's meta page: the transaction id at 144 of the page, little-endian
 * (store.c's check_data_file reads the same layout). */
static uint64_t meta_txnid(const unsigned char *page)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | page[144 + i];
	return v;
}

static uint64_t newest_txnid(const unsigned char *pages, size_t psize)
{
	uint64_t a = meta_txnid(pages), b = meta_txnid(pages + psize);
	return a > b ? a : b;
}

int wal_restore(const char *dir)
{
	char path[600], data[600];
	path_of(path, sizeof(path), dir, "checkpoint");
	path_of(data, sizeof(data), dir, "data.mdb");
	int cfd = open(path, O_RDONLY | O_CLOEXEC);
	if (cfd < 0)
		return errno == ENOENT ? 0 : (fprintf(stderr, "parceldeskd: %s: %s\n", path, strerror(errno)), -1);
	unsigned char head[CKPT_HEAD];
	unsigned char *pages = NULL, *cur = NULL;
	int rc = -1, dfd = -1;
	if (read(cfd, head, CKPT_HEAD) != CKPT_HEAD || memcmp(head, CKPT_MAGIC, 8) != 0) {
		fprintf(stderr, "parceldeskd: %s is not a checkpoint file\n", path);
		goto out;
	}
	uint64_t txnid = be64_get(head + 8);
	uint32_t psize = be32_get(head + 16);
	if (psize < 512 || psize > (1u << 16)) {
		fprintf(stderr, "parceldeskd: %s: page size %u\n", path, psize);
		goto out;
	}
	pages = malloc(2 * (size_t)psize);
	cur = malloc(2 * (size_t)psize);
	if (!pages || !cur || read(cfd, pages, 2 * (size_t)psize) != (ssize_t)(2 * (size_t)psize) ||
	    wal_crc32c(wal_crc32c(0, head, 20), pages, 2 * (size_t)psize) != be32_get(head + 20)) {
		fprintf(stderr, "parceldeskd: %s is damaged (cut short or its checksum differs)\n", path);
		goto out;
	}
	dfd = open(data, O_RDWR | O_CLOEXEC);
	if (dfd < 0 || pread(dfd, cur, 2 * (size_t)psize, 0) != (ssize_t)(2 * (size_t)psize)) {
		fprintf(stderr, "parceldeskd: %s has a checkpoint but %s cannot be read: %s\n", dir, data,
			dfd < 0 ? strerror(errno) : "too short");
		goto out;
	}
	uint64_t have = newest_txnid(cur, psize);
	if (have < txnid) {
		fprintf(stderr, "parceldeskd: %s holds transaction %llu, older than its checkpoint's %llu: "
			"not the store the write-ahead log belongs to (a backup copied over it?); "
			"restore a backup into an empty directory\n", data, (unsigned long long)have,
			(unsigned long long)txnid);
		goto out;
	}
	if (memcmp(cur, pages, 2 * (size_t)psize) != 0) {
		if (pwrite(dfd, pages, 2 * (size_t)psize, 0) != (ssize_t)(2 * (size_t)psize) || fdatasync(dfd) < 0) {
			fprintf(stderr, "parceldeskd: cannot write the checkpoint's meta pages into %s: %s\n",
				data, strerror(errno));
			goto out;
		}
		log_msg("warn", 0, NULL, "store not stopped cleanly: back to its checkpoint (transaction %llu, "
			"the newest was %llu); the write-ahead log brings it up to date",
			(unsigned long long)txnid, (unsigned long long)have);
	}
	rc = 1;
out:
	free(pages);
	free(cur);
	if (dfd >= 0)
		close(dfd);
	close(cfd);
	return rc;
}

int wal_apply(MDB_txn *txn, const void *blob, size_t len, struct changeset_head *head)
{
	uint64_t epoch;
	int rc = changeset_parse(blob, len, head, NULL, NULL);
	if (rc == 0)
		rc = changeset_apply(txn, blob, len);
	/* a writer's set ends with its seq:commit already; a new term's has no ops */
	if (rc == 0)
		rc = store_meta_put(txn, &g_store, "seq:commit", head->seq);
	if (rc == 0)
		rc = store_meta_get(txn, &g_store, "epoch", &epoch);
	if (rc == 0 && head->epoch > epoch)
		rc = store_meta_put(txn, &g_store, "epoch", head->epoch);
	return rc;
}

/* ------------------------------------------------------------ replay */

/* Reads the record at off of fd when it is change set `want`: 0 with its
 * payload in *buf (grown), or -1 (not there: torn, zero, another seq). */
static int read_record(int fd, off_t off, uint64_t want, char **buf, size_t *len, unsigned *flags)
{
	unsigned char h[REC_HEAD];
	if (pread(fd, h, REC_HEAD, off) != REC_HEAD || be32_get(h) != REC_MAGIC || be32_get(h + 4) > REC_MAX ||
	    be64_get(h + 8) != want)
		return -1;
	*len = be32_get(h + 4);
	*flags = be32_get(h + 16);
	char *nb = realloc(*buf, *len ? *len : 1);
	if (!nb)
		return -1;
	*buf = nb;
	if (pread(fd, *buf, *len, off + REC_HEAD) != (ssize_t)*len ||
	    wal_crc32c(wal_crc32c(0, h, 20), *buf, *len) != be32_get(h + 20))
		return -1; /* torn: its commit was never answered */
	return 0;
}

/* Applies file i's records from its start while they are *next, next+1, ... */
static int replay_file(int i, uint64_t *next, wal_restage_fn restage)
{
	char *buf = NULL;
	size_t len;
	unsigned flags;
	off_t off = 0;
	int rc = 0;
	struct changeset_head head = { 0 };
	while (rc == 0 && read_record(w.f[i].fd, off, *next, &buf, &len, &flags) == 0) {
		MDB_txn *txn;
		size_t map;
		/* synced by the start's checkpoint, before anything is answered */
		if ((rc = store_write_begin(&g_store, &txn, &map)) != 0)
			break;
		rc = wal_apply(txn, buf, len, &head);
		if (rc == 0 && head.seq != *next)
			rc = EBADMSG;
		if (rc == 0 && (flags & WAL_OUTBOX) && restage)
			rc = restage(txn, head.seq, head.epoch, buf, len);
		rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
		if (rc == MDB_MAP_FULL && store_grow(&g_store, map) == 0) {
			rc = 0; /* the same set again in a larger map */
			continue;
		}
		if (rc == 0) {
			atomic_fetch_add(&w.replayed, 1);
			(*next)++;
			off += REC_HEAD + (off_t)len;
		}
	}
	if (rc == EPROTONOSUPPORT)
		/* a log a newer build left (its store's mark would have stopped
		 * the start first, unless it was taken away) */
		fprintf(stderr, "parceldeskd: %s/%s: the change set %llu at byte %lld is in schema version "
			"%llu, this build reads %d to %d: not applied; start the build that wrote it\n",
			w.dir, log_names[i], (unsigned long long)*next, (long long)off,
			(unsigned long long)head.schema, STORE_SCHEMA_OLDEST, STORE_SCHEMA_VERSION);
	else if (rc)
		fprintf(stderr, "parceldeskd: %s/%s: the change set %llu at byte %lld cannot be applied: %s\n",
			w.dir, log_names[i], (unsigned long long)*next, (long long)off, mdb_strerror(rc));
	free(buf);
	return rc ? -1 : 0;
}

/* Applies the logged change sets after the store's commit number: the
 * file that starts with the next one, then the other when it continues. */
static int replay(wal_restage_fn restage)
{
	MDB_txn *txn;
	uint64_t next = 0;
	int rc = mdb_txn_begin(w.env, NULL, MDB_RDONLY, &txn);
	if (rc == 0) {
		rc = store_meta_get(txn, &g_store, "seq:commit", &next);
		mdb_txn_abort(txn);
	}
	if (rc) {
		fprintf(stderr, "parceldeskd: the write-ahead log: %s\n", mdb_strerror(rc));
		return -1;
	}
	next++;
	char *buf = NULL;
	size_t len;
	unsigned flags;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 2; i++)
			if (w.f[i].fd >= 0 && read_record(w.f[i].fd, 0, next, &buf, &len, &flags) == 0 &&
			    replay_file(i, &next, restage) < 0) {
				free(buf);
				return -1;
			}
	free(buf);
	if (atomic_load(&w.replayed))
		log_msg("info", 0, NULL, "write-ahead log: %llu change sets applied again, up to %llu",
			(unsigned long long)atomic_load(&w.replayed), (unsigned long long)next - 1);
	return 0;
}

/* -------------------------------------------------------- appending */

/* Writes zeros in file lf from its end to at least upto (whole chunks)
 * and syncs. */
static int grow(struct logfile *lf, off_t upto)
{
	static const char zeros[1 << 16];
	off_t end = (upto + WAL_CHUNK - 1) / WAL_CHUNK * WAL_CHUNK;
	for (off_t at = lf->alloc; at < end;) {
		size_t n = end - at < (off_t)sizeof(zeros) ? (size_t)(end - at) : sizeof(zeros);
		ssize_t r = pwrite(lf->fd, zeros, n, at);
		if (r <= 0) {
			int e = r < 0 ? errno : ENOSPC;
			/* give back what was taken */
			if (ftruncate(lf->fd, lf->alloc) < 0)
				e = errno;
			return e;
		}
		at += r;
	}
	if (fdatasync(lf->fd) < 0)
		return errno;
	lf->alloc = end;
	return 0;
}

/* Tests only (with --enable-test-clock): while the file named by
 * PARCELDESK_TEST_WAL_FAIL exists, the step it names fails: "write ERRNO"
 * (an append's write), "sync" (the record is written, its fdatasync fails
 * with EIO), "checkpoint ERRNO" (the checkpoint's sync of data.mdb). The
 * errno asked for step `at`, or 0. */
static int test_failure(const char *at)
{
	const char *path = w.test_fail ? getenv("PARCELDESK_TEST_WAL_FAIL") : NULL;
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f)
		return 0;
	char what[32] = "";
	int e = 0;
	if (fscanf(f, "%31s %d", what, &e) < 1)
		what[0] = '\0';
	fclose(f);
	if (strcmp(what, at))
		return 0;
	return !strcmp(at, "sync") ? EIO : e > 0 ? e : 0;
}

static int take(struct ckpt **out);
static void turn(void);

/* A checkpoint is due (time or size) and none is under way: taken now,
 * between the last commit and this one (the caller holds the write
 * transaction, so no commit comes between), and handed to the thread. */
static void checkpoint_if_due(void)
{
	struct logfile *lf = &w.f[w.cur];
	if (lf->off == 0 || (lf->off < w.every_bytes && usec_since(&w.last) < w.every_secs * 1000000))
		return;
	pthread_mutex_lock(&w.lock);
	bool busy = w.taken != NULL;
	pthread_mutex_unlock(&w.lock);
	struct ckpt *c;
	if (busy || take(&c) != 0)
		return;
	turn();
	pthread_mutex_lock(&w.lock);
	w.taken = c;
	pthread_cond_signal(&w.wake);
	pthread_mutex_unlock(&w.lock);
}

static int append(uint64_t seq, unsigned flags, const void *blob, size_t len)
{
	if (wal_failed())
		return EIO;
	if (len > REC_MAX)
		return EFBIG;
	checkpoint_if_due();
	struct logfile *lf = &w.f[w.cur];
	off_t need = REC_HEAD + (off_t)len;
	int rc = lf->off + need > lf->alloc ? grow(lf, lf->off + need) : 0;
	if (rc) {
		if (!full_errno(rc))
			fail("write-ahead log: cannot make room: %s", strerror(rc));
		return rc;
	}
	unsigned char h[REC_HEAD];
	be32_put(h, REC_MAGIC);
	be32_put(h + 4, (uint32_t)len);
	be64_put(h + 8, seq);
	be32_put(h + 16, flags);
	be32_put(h + 20, wal_crc32c(wal_crc32c(0, h, 20), blob, len));
	struct iovec iov[2] = { { h, REC_HEAD }, { (void *)blob, len } };
	int test_rc = test_failure("write");
	ssize_t r = test_rc ? (errno = test_rc, -1) : pwritev(lf->fd, iov, 2, lf->off);
	if (r != need) {
		/* a partial record is not read back (its checksum fails) */
		rc = r < 0 ? errno : ENOSPC;
		if (!full_errno(rc))
			fail("write-ahead log: write failed: %s", strerror(rc));
		return rc;
	}
	test_rc = test_failure("sync");
	if (test_rc || fdatasync(lf->fd) < 0) {
		rc = test_rc ? test_rc : errno;
		/* the record may or may not be on disk: never answer as if either */
		fail("write-ahead log: fdatasync failed: %s", strerror(rc));
		return EIO;
	}
	w.last_off = lf->off;
	lf->off += need;
	atomic_fetch_add(&w.appends, 1);
	atomic_fetch_add(&w.bytes, (uint64_t)need);
	return 0;
}

/* The set appended last was not committed: its record is voided. */
static void unappend(void)
{
	static const unsigned char zeros[REC_HEAD];
	struct logfile *lf = &w.f[w.cur];
	if (pwrite(lf->fd, zeros, REC_HEAD, w.last_off) != REC_HEAD || fdatasync(lf->fd) < 0) {
		fail("write-ahead log: cannot void a record whose commit failed: %s", strerror(errno));
		return;
	}
	lf->off = w.last_off;
}

int wal_commit(MDB_txn *txn, uint64_t seq, unsigned flags, const void *blob, size_t len)
{
	if (!w.on || !seq)
		return mdb_txn_commit(txn);
	int rc = append(seq, flags, blob, len);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc)
		unappend();
	return rc;
}

/* ------------------------------------------------------ checkpoints */

static void ckpt_free(struct ckpt *c)
{
	if (!c)
		return;
	if (c->pin)
		mdb_txn_abort(c->pin);
	free(c->pages);
	free(c);
}

/* Takes a checkpoint of the last commit: pins it, copies its meta pages
 * (written at its commit; no commit since). Holder of the write
 * transaction, or no writer at all. */
static int take(struct ckpt **out)
{
	struct ckpt *c = calloc(1, sizeof(*c));
	MDB_stat ms;
	mdb_filehandle_t dfd;
	int rc = c ? 0 : ENOMEM;
	pthread_rwlock_rdlock(&g_store.resize_lock);
	if (rc == 0)
		rc = mdb_txn_begin(w.env, NULL, MDB_RDONLY, &c->pin);
	if (rc == 0 && (rc = mdb_env_stat(w.env, &ms)) == 0)
		rc = mdb_env_get_fd(w.env, &dfd);
	pthread_rwlock_unlock(&g_store.resize_lock);
	if (rc == 0) {
		c->psize = ms.ms_psize;
		c->txnid = mdb_txn_id(c->pin);
		rc = store_meta_get(c->pin, &g_store, "seq:commit", &c->seq);
	}
	if (rc == 0 && !(c->pages = malloc(2 * c->psize)))
		rc = ENOMEM;
	if (rc == 0 && pread(dfd, c->pages, 2 * c->psize, 0) != (ssize_t)(2 * c->psize))
		rc = errno ? errno : EIO;
	if (rc == 0 && newest_txnid(c->pages, c->psize) != c->txnid)
		rc = EIO; /* the meta pages do not hold the snapshot being pinned */
	if (rc) {
		fail("checkpoint: cannot take it: %s", mdb_strerror(rc));
		ckpt_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* The commits after a checkpoint just taken go to the other file, from
 * its start: that file's records are all covered by the last durable
 * checkpoint. */
static void turn(void)
{
	w.cur ^= 1;
	w.f[w.cur].off = 0;
	clock_gettime(CLOCK_MONOTONIC, &w.last);
}

/* Saves c's meta pages in DIR/checkpoint, durably. */
static int save(const struct ckpt *c)
{
	char path[600], tmp[600];
	path_of(path, sizeof(path), w.dir, "checkpoint");
	path_of(tmp, sizeof(tmp), w.dir, "checkpoint.tmp");
	unsigned char head[CKPT_HEAD];
	memcpy(head, CKPT_MAGIC, 8);
	be64_put(head + 8, c->txnid);
	be32_put(head + 16, (uint32_t)c->psize);
	be32_put(head + 20, wal_crc32c(wal_crc32c(0, head, 20), c->pages, 2 * c->psize));
	struct iovec iov[2] = { { head, CKPT_HEAD }, { c->pages, 2 * c->psize } };
	int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		rc = errno;
	errno = 0;
	if (rc == 0 && (writev(fd, iov, 2) != (ssize_t)(CKPT_HEAD + 2 * c->psize) || fdatasync(fd) < 0))
		rc = errno ? errno : ENOSPC;
	if (fd >= 0)
		close(fd);
	if (rc == 0 && (rename(tmp, path) < 0 || fsync_dir(w.dir) < 0))
		rc = errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* Makes checkpoint c durable: data.mdb synced (its pages and any written
 * since), its meta pages saved. Then it is the one a restart goes back
 * to: the previous pin goes, and the file before the turn is free. */
static int finish(struct ckpt *c)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = test_failure("checkpoint");
	if (rc == 0)
		rc = mdb_env_sync(w.env, 1);
	if (rc) {
		/* Not tried again, a full disk's error neither: the kernel reports
		 * a failed writeback once, and the pages it could not write need
		 * not be dirty any more, so a later sync could succeed over them.
		 * Only a restart writes them again: it goes back to the last
		 * durable checkpoint and replays the log, which keeps every record
		 * since (no other checkpoint is taken while this one is). */
		fail("checkpoint: data.mdb cannot be synced: %s", mdb_strerror(rc));
		return rc;
	}
	rc = save(c);
	if (rc) {
		/* a full disk: tried again (data.mdb is synced; only the meta
		 * pages' file is missing); the log grows (or refuses) meanwhile */
		if (!full_errno(rc))
			fail("checkpoint failed: %s", mdb_strerror(rc));
		else
			log_msg("error", 0, NULL, "checkpoint failed: %s", mdb_strerror(rc));
		return rc;
	}
	pthread_mutex_lock(&w.lock);
	MDB_txn *old = w.pin;
	w.pin = c->pin;
	c->pin = NULL;
	if (w.taken == c)
		w.taken = NULL;
	pthread_cond_broadcast(&w.done);
	pthread_mutex_unlock(&w.lock);
	if (old)
		mdb_txn_abort(old);
	atomic_store(&w.checkpoint_seq, c->seq);
	atomic_fetch_add(&w.checkpoints, 1);
	atomic_store(&w.checkpoint_usec, usec_since(&t0));
	ckpt_free(c);
	return 0;
}

/* The checkpoint thread: data.mdb's flush is never waited for by a commit. */
static void *checkpoint_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "pd-checkpoint");
	pthread_mutex_lock(&w.lock);
	while (!w.stopping) {
		struct ckpt *c = w.taken;
		if (!c || wal_failed()) {
			pthread_cond_wait(&w.wake, &w.lock);
			continue;
		}
		pthread_mutex_unlock(&w.lock);
		int rc = finish(c);
		pthread_mutex_lock(&w.lock);
		if (rc && !w.stopping) { /* a second, then again */
			struct timespec ts = clock_monotonic_in(1000);
			pthread_cond_timedwait(&w.wake, &w.lock, &ts);
		}
	}
	pthread_mutex_unlock(&w.lock);
	return NULL;
}

int wal_checkpoint(void)
{
	if (!w.on)
		return 0;
	if (wal_failed())
		return EIO;
	/* one the thread left (wal_close, after it stopped) */
	int rc = w.taken ? finish(w.taken) : 0;
	struct ckpt *c;
	if (rc == 0 && (rc = take(&c)) == 0) {
		turn();
		if ((rc = finish(c)) != 0)
			ckpt_free(c);
	}
	return rc;
}

/* Waits until no checkpoint is under way (the thread needs no LMDB lock):
 * false when the log failed meanwhile. */
static bool wait_no_checkpoint(void)
{
	pthread_mutex_lock(&w.lock);
	while (w.taken && !wal_failed())
		pthread_cond_wait(&w.done, &w.lock);
	pthread_mutex_unlock(&w.lock);
	return !wal_failed();
}

int wal_commit_unlogged(MDB_txn *txn)
{
	if (!w.on)
		return mdb_txn_commit(txn);
	if (!wait_no_checkpoint()) {
		mdb_txn_abort(txn);
		return EIO;
	}
	int rc = mdb_txn_commit(txn);
	if (rc)
		return rc;
	/* the checkpoint under the write transaction again, so that nothing
	 * commits between taking it and turning to the other file */
	MDB_txn *hold;
	struct ckpt *c = NULL;
	rc = store_write_begin(&g_store, &hold, NULL);
	if (rc == 0) {
		if (!wait_no_checkpoint())
			rc = EIO;
		else if ((rc = take(&c)) == 0) {
			turn();
			if ((rc = finish(c)) != 0)
				ckpt_free(c);
		}
		mdb_txn_abort(hold);
	}
	/* committed but not durable: nothing may be written on top of it */
	if (rc)
		fail("checkpoint after a copy over the store failed: %s", mdb_strerror(rc));
	return 0;
}

/* ------------------------------------------------------------- open */

static int open_logs(bool create)
{
	for (int i = 0; i < 2; i++) {
		char path[600];
		path_of(path, sizeof(path), w.dir, log_names[i]);
		w.f[i] = (struct logfile){ .fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0640) };
		if (w.f[i].fd < 0 && !(errno == ENOENT && !create)) {
			fprintf(stderr, "parceldeskd: cannot open %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void close_logs(void)
{
	for (int i = 0; i < 2; i++) {
		if (w.f[i].fd >= 0)
			close(w.f[i].fd);
		w.f[i].fd = -1;
	}
}

/* Log off: its sets are in the store now; synced, the files go. */
static int retire_logs(void)
{
	char ckpt[600];
	path_of(ckpt, sizeof(ckpt), w.dir, "checkpoint");
	bool had = w.f[0].fd >= 0 || w.f[1].fd >= 0 || access(ckpt, F_OK) == 0;
	close_logs();
	if (!had)
		return 0;
	int rc = mdb_env_sync(w.env, 1);
	bool ok = rc == 0 && (unlink(ckpt) == 0 || errno == ENOENT);
	for (int i = 0; ok && i < 2; i++) {
		char path[600];
		path_of(path, sizeof(path), w.dir, log_names[i]);
		ok = unlink(path) == 0 || errno == ENOENT;
	}
	if (!ok || fsync_dir(w.dir) < 0) {
		fprintf(stderr, "parceldeskd: cannot retire the write-ahead log in %s: %s\n", w.dir,
			rc ? mdb_strerror(rc) : strerror(errno));
		return -1;
	}
	log_msg("info", 0, NULL, "write-ahead log off: its change sets are in the store, its files removed");
	return 0;
}

int wal_open(const char *dir, bool on, int64_t checkpoint_secs, int64_t checkpoint_mb, wal_restage_fn restage,
	     MDB_txn *pin)
{
	w.env = g_store.env;
	w.pin = pin;
	w.every_secs = checkpoint_secs;
	w.every_bytes = (off_t)checkpoint_mb << 20;
	w.test_fail = g_config.enable_test_clock;
	snprintf(w.dir, sizeof(w.dir), "%s", dir);
	clock_gettime(CLOCK_MONOTONIC, &w.last);
	if (open_logs(on) < 0 || replay(restage) < 0)
		return -1;
	if (!on) {
		int rc = retire_logs();
		/* synced: the snapshot opened at is not needed any more */
		mdb_txn_abort(w.pin);
		w.pin = NULL;
		return rc;
	}
	bool created = false;
	for (int i = 0; i < 2; i++) {
		struct stat sb;
		if (fstat(w.f[i].fd, &sb) < 0)
			return -1;
		created |= sb.st_size == 0;
		w.f[i].alloc = sb.st_size / WAL_CHUNK * WAL_CHUNK;
		int rc = w.f[i].alloc ? 0 : grow(&w.f[i], WAL_CHUNK);
		if (rc) {
			fprintf(stderr, "parceldeskd: cannot make room for the write-ahead log in %s: %s\n", dir,
				strerror(rc));
			return -1;
		}
	}
	if (created && fsync_dir(dir) < 0) {
		fprintf(stderr, "parceldeskd: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (cond_init_monotonic(&w.wake) || pthread_create(&w.thread, NULL, checkpoint_main, NULL) != 0) {
		fprintf(stderr, "parceldeskd: cannot start the checkpoint thread\n");
		return -1;
	}
	w.thread_on = true;
	w.on = true;
	return 0;
}

void wal_close(void)
{
	if (w.thread_on) {
		pthread_mutex_lock(&w.lock);
		w.stopping = true;
		pthread_cond_signal(&w.wake);
		pthread_mutex_unlock(&w.lock);
		pthread_join(w.thread, NULL);
		pthread_cond_destroy(&w.wake);
		w.thread_on = false;
	}
	if (!w.on) {
		if (w.pin)
			mdb_txn_abort(w.pin);
		w.pin = NULL;
		return;
	}
	int rc = wal_checkpoint();
	ckpt_free(w.taken);
	w.taken = NULL;
	if (w.pin)
		mdb_txn_abort(w.pin);
	w.pin = NULL;
	/* a clean stop leaves a plain synced store: tools that write a stopped
	 * store (contrib/import, a test planting old records) are not undone
	 * at the next start by the checkpoint's meta pages */
	char path[600];
	path_of(path, sizeof(path), w.dir, "checkpoint");
	if (rc == 0 && !wal_failed() && (unlink(path) < 0 || fsync_dir(w.dir) < 0))
		log_msg("error", 0, NULL, "cannot remove %s: %s", path, strerror(errno));
	close_logs();
	w.on = false;
}

void wal_stats(struct wal_stats *out)
{
	*out = (struct wal_stats){
		.appends = atomic_load(&w.appends), .bytes = atomic_load(&w.bytes),
		.checkpoints = atomic_load(&w.checkpoints), .checkpoint_seq = atomic_load(&w.checkpoint_seq),
		.replayed = atomic_load(&w.replayed), .checkpoint_usec = atomic_load(&w.checkpoint_usec),
	};
}
