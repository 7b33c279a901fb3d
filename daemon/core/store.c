/* store.c — LMDB environment and record helpers. */
#include "store.h"

#include "changeset.h"
#include "daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Big-endian integers of n bytes: keys that sort as numbers. */
static void be_put(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

void be64_put(unsigned char *p, uint64_t v) { be_put(p, v, 8); }
void be32_put(unsigned char *p, uint32_t v) { be_put(p, v, 4); }

static _Atomic uint64_t users_generation;

uint64_t store_users_generation(void)
{
	return atomic_load(&users_generation);
}

void store_users_changed(void)
{
	atomic_fetch_add(&users_generation, 1);
}

const char *store_strerror(int rc)
{
	return mdb_strerror(rc);
}

static int open_dbi(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
	int rc = mdb_dbi_open(txn, name, flags | MDB_CREATE, dbi);
	if (rc)
		fprintf(stderr, "parceldeskd: cannot open database %s: %s\n", name,
			mdb_strerror(rc));
	else
		changeset_register_db(*dbi, name, flags & MDB_DUPSORT);
	return rc;
}

int store_schema_get(MDB_txn *txn, MDB_dbi meta, uint32_t *have)
{
	MDB_val k = { 14, "schema_version" }, v;
	int rc = mdb_get(txn, meta, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	*have = rc ? STORE_SCHEMA_OLDEST : v.mv_size == 4 ? be32_get(v.mv_data) : 0;
	return 0;
}

static int check_schema(MDB_txn *txn, struct store *st)
{
	uint32_t have;
	int rc = store_schema_get(txn, st->meta, &have);
	if (rc || have == STORE_SCHEMA_VERSION)
		return rc;
	if (have < STORE_SCHEMA_OLDEST || have > STORE_SCHEMA_VERSION) {
		fprintf(stderr, "parceldeskd: store has schema version %u, this build reads %u to %u\n",
			have, STORE_SCHEMA_OLDEST, STORE_SCHEMA_VERSION);
		return MDB_INCOMPATIBLE;
	}
	unsigned char buf[4];
	be32_put(buf, STORE_SCHEMA_VERSION);
	return store_put_bytes(txn, st->meta, "schema_version", 14, buf, 4, 0);
}

int store_lock_dir(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/lock", dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		fprintf(stderr, "parceldeskd: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		fprintf(stderr, "parceldeskd: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (err == EWOULDBLOCK)
			fprintf(stderr, "parceldeskd: the data directory %s is in use by process %s "
				"(it holds %s); stop it first\n", dir, pid[0] ? pid : "?", path);
		else
			fprintf(stderr, "parceldeskd: cannot lock %s: %s\n", path, strerror(err));
		close(fd);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		fprintf(stderr, "parceldeskd: cannot write %s: %s\n", path, strerror(errno));
	return fd; /* the pid stays after exit: it is read only while locked */
}

bool store_full_errno(int rc)
{
	/* LMDB reports a short write (the disk filled during it) as EIO */
	return rc == ENOSPC || rc == EDQUOT || rc == EFBIG || rc == EIO;
}

/* LMDB maps the data file and trusts it to be as long as its header says:
 * a truncated one (an incomplete copy) would crash the daemon with SIGBUS
 * at the first read past its end. So the length is checked first, against
 * the newer of the two meta pages (LMDB's layout: each page starts with a
 * 16-byte header; in the meta that follows, the magic at 16, the page size
 * in the free-page database's first field at 40, the last used page at 136
 * and the transaction id at 144). */
#define MDB_META_MAGIC 0xBEEFC0DEu

static uint64_t le_get(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* The store's data file in dir, into path: 0, or -1 when it does not fit. */
static int data_file_path(char *path, size_t cap, const char *dir)
{
	return (size_t)snprintf(path, cap, "%s/data.mdb", dir) < cap ? 0 : -1;
}

/* dir's data.mdb (flags: O_RDONLY or O_RDWR) through a descriptor of its
 * own with readahead off, so that what it reads comes in as single pages
 * (store_prefault below says why); -1 when it cannot. */
static int data_file_open_random(const char *dir, int flags)
{
	char path[4096];
	if (data_file_path(path, sizeof(path), dir) < 0)
		return -1;
	int fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* From the newer of data.mdb's two meta pages (fd: the file): the bytes its
 * pages reach (last page + 1) and the map size it records (what
 * mdb_env_set_mapsize(env, 0) maps); both 0 when there is no valid one. */
static void header_read(int fd, uint64_t *need, uint64_t *map_bytes)
{
	unsigned char meta[2][152];
	uint64_t txnid = 0;
	*need = *map_bytes = 0;
	if (pread(fd, meta[0], sizeof(meta[0]), 0) != (ssize_t)sizeof(meta[0]))
		return;
	uint64_t psize = le_get(meta[0] + 40, 4);
	int metas = psize >= 512 && psize <= (1u << 16) &&
		    pread(fd, meta[1], sizeof(meta[1]), (off_t)psize) == (ssize_t)sizeof(meta[1]) ? 2 : 1;
	for (int i = 0; i < metas; i++) {
		if (le_get(meta[i] + 16, 4) != MDB_META_MAGIC)
			continue;
		uint64_t t = le_get(meta[i] + 144, 8);
		if (t >= txnid) {
			txnid = t;
			*need = (le_get(meta[i] + 136, 8) + 1) * psize;
			*map_bytes = le_get(meta[i] + 32, 8);
		}
	}
}

/* Refuses a data.mdb shorter than its header says; *file_bytes: its size
 * (0: none yet). */
static int check_data_file(const char *dir, uint64_t *file_bytes)
{
	/* readahead off: the header's pages (the meta pages every commit
	 * writes) come in as single pages, which LMDB's own read then finds */
	int fd = data_file_open_random(dir, O_RDONLY);
	if (fd < 0)
		return 0; /* a new store, or LMDB says what is wrong */
	struct stat sb = { 0 };
	uint64_t need = 0, map_bytes;
	if (fstat(fd, &sb) == 0)
		header_read(fd, &need, &map_bytes);
	close(fd);
	*file_bytes = (uint64_t)sb.st_size;
	if (need > (uint64_t)sb.st_size) {
		fprintf(stderr, "parceldeskd: %s/data.mdb is %lld bytes, shorter than the %llu its header "
			"says: the file is truncated (an incomplete copy?); restore it from a backup\n",
			dir, (long long)sb.st_size, (unsigned long long)need);
		return -1;
	}
	return 0;
}

int store_open(struct store *st, const char *dir, size_t map_size)
{
	return store_open_env(st, dir, map_size, 0, NULL, false);
}

static void map_readahead(struct store *st, bool on);

int store_open_env(struct store *st, const char *dir, size_t map_size, unsigned env_flags, MDB_txn **pin,
		   bool read_in)
{
	memset(st, 0, sizeof(*st));
	if (pin)
		*pin = NULL;
	/* readers first (glibc's default, said here because it is relied on):
	 * a thread with a live write transaction takes the lock shared (a
	 * checkpoint's pin) while another, holding it shared, waits in
	 * store_write_begin() for LMDB's writer mutex; with writers first a
	 * growth waiting for the lock would deadlock the three. So also no
	 * loop waits behind a growth that waits for a long BACKUP copy. */
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_READER_NP);
	pthread_rwlock_init(&st->resize_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		fprintf(stderr, "parceldeskd: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	uint64_t file_bytes = 0;
	if (check_data_file(dir, &file_bytes) < 0)
		return -1;
	/* Room to grow: a map that ends where the file does grows at the
	 * first commit that needs a page past it, soon after every restart,
	 * and a growth unmaps the whole store under the resize lock (reads
	 * wait: 0.3 s of the writer at 1,000,000 waybills), after which the
	 * prefault maps it again. Twice the file (address space, not memory). */
	while (map_size < 2 * file_bytes && map_size <= SIZE_MAX / 2)
		map_size *= 2;
	int rc = mdb_env_create(&st->env);
	if (!rc)
		rc = mdb_env_set_maxdbs(st->env, 64);
	if (!rc)
		rc = mdb_env_set_maxreaders(st->env, 126);
	if (!rc)
		rc = mdb_env_set_mapsize(st->env, map_size);
	/* Default flags: every commit is synced (durable before we answer);
	 * MDB_NOSYNC when the write-ahead log makes commits durable (wal.h). */
	if (!rc)
		rc = mdb_env_open(st->env, dir, MDB_NOTLS | env_flags, 0640);
	if (rc) {
		fprintf(stderr, "parceldeskd: cannot open store in %s: %s\n", dir, mdb_strerror(rc));
		goto fail;
	}
	if (read_in) /* before the first read of the map */
		map_readahead(st, false);
	/* before anything commits: the snapshot the store opened at keeps its
	 * pages until the write-ahead log lets it go (wal_open) */
	if (pin && (rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, pin)) != 0) {
		fprintf(stderr, "parceldeskd: cannot open store in %s: %s\n", dir, mdb_strerror(rc));
		goto fail;
	}
	/* the file may already be larger than asked (grown before a restart) */
	MDB_envinfo info;
	mdb_env_info(st->env, &info);
	st->map_size = info.me_mapsize;

	MDB_txn *txn;
	rc = store_write_begin(st, &txn, NULL);
	if (rc)
		goto fail;
	if ((rc = open_dbi(txn, "meta", 0, &st->meta)) ||
	    (rc = open_dbi(txn, "users", 0, &st->users)) ||
	    (rc = open_dbi(txn, "waybills", 0, &st->waybills)) ||
	    (rc = open_dbi(txn, "events", 0, &st->events)) ||
	    (rc = open_dbi(txn, "wb_views", 0, &st->wb_views)) ||
	    (rc = open_dbi(txn, "idx_phone", MDB_DUPSORT, &st->idx_phone)) ||
	    (rc = open_dbi(txn, "idx_wb", MDB_DUPSORT, &st->idx_waybill)) ||
	    (rc = open_dbi(txn, "queries", 0, &st->queries)) ||
	    (rc = open_dbi(txn, "idx_query_waybill", MDB_DUPSORT, &st->idx_query_waybill)) ||
	    (rc = open_dbi(txn, "idx_query_user", MDB_DUPSORT, &st->idx_query_user)) ||
	    (rc = open_dbi(txn, "idx_query_day", MDB_DUPSORT, &st->idx_query_day)) ||
	    (rc = open_dbi(txn, "idx_query_open", MDB_DUPSORT, &st->query_due)) ||
	    (rc = open_dbi(txn, "idx_query", MDB_DUPSORT, &st->query_index)) ||
	    (rc = open_dbi(txn, "approvals", 0, &st->approvals)) ||
	    (rc = open_dbi(txn, "idem", 0, &st->idem)) ||
	    (rc = open_dbi(txn, "audit", 0, &st->audit)) ||
	    (rc = open_dbi(txn, "timers", MDB_DUPSORT, &st->timers)) ||
	    (rc = open_dbi(txn, "complaints", 0, &st->complaints)) ||
	    (rc = open_dbi(txn, "idx_c", MDB_DUPSORT, &st->complaint_index)) ||
	    (rc = open_dbi(txn, "idx_c_due", MDB_DUPSORT, &st->complaint_due)) ||
	    (rc = open_dbi(txn, "c_stats", 0, &st->complaint_stats)) ||
	    (rc = open_dbi(txn, "c_durations", MDB_DUPSORT, &st->complaint_durations)) ||
	    (rc = open_dbi(txn, "volume", 0, &st->volume)) ||
	    (rc = open_dbi(txn, "incidents", MDB_DUPSORT, &st->incidents)) ||
	    (rc = open_dbi(txn, "claims", 0, &st->claims)) ||
	    (rc = open_dbi(txn, "recoveries", 0, &st->recoveries)) ||
	    (rc = open_dbi(txn, "idx_cl", MDB_DUPSORT, &st->claim_index)) ||
	    (rc = open_dbi(txn, "idx_cl_due", MDB_DUPSORT, &st->claim_due)) ||
	    (rc = open_dbi(txn, "cl_totals", 0, &st->claim_totals)) ||
	    (rc = open_dbi(txn, "customers", 0, &st->customers)) ||
	    (rc = open_dbi(txn, "idx_cust", MDB_DUPSORT, &st->idx_cust)) ||
	    (rc = open_dbi(txn, "warnings", 0, &st->warnings)) ||
	    (rc = open_dbi(txn, "idx_warn", MDB_DUPSORT, &st->idx_warn)) ||
	    (rc = open_dbi(txn, "warning_due", MDB_DUPSORT, &st->warning_due)) ||
	    (rc = open_dbi(txn, "contacts", 0, &st->contacts)) ||
	    (rc = open_dbi(txn, "contact_index", MDB_DUPSORT, &st->contact_index)) ||
	    (rc = open_dbi(txn, "contact_due", MDB_DUPSORT, &st->contact_due)) ||
	    (rc = open_dbi(txn, "contact_owner_due", MDB_DUPSORT, &st->contact_owner_due)) ||
	    (rc = open_dbi(txn, "needs", 0, &st->needs)) ||
	    (rc = open_dbi(txn, "need_index", MDB_DUPSORT, &st->need_index)) ||
	    (rc = open_dbi(txn, "need_open", MDB_DUPSORT, &st->need_open)) ||
	    (rc = open_dbi(txn, "rectify_plans", 0, &st->rectify_plans)) ||
	    (rc = open_dbi(txn, "rectify_index", MDB_DUPSORT, &st->rectify_index)) ||
	    (rc = open_dbi(txn, "rectify_due", MDB_DUPSORT, &st->rectify_due)) ||
	    (rc = open_dbi(txn, "surveys", 0, &st->surveys)) ||
	    (rc = open_dbi(txn, "survey_index", MDB_DUPSORT, &st->survey_index)) ||
	    (rc = open_dbi(txn, "survey_due", MDB_DUPSORT, &st->survey_due)) ||
	    (rc = open_dbi(txn, "winbacks", 0, &st->winbacks)) ||
	    (rc = open_dbi(txn, "winback_index", MDB_DUPSORT, &st->winback_index)) ||
	    (rc = open_dbi(txn, "monthend_runs", 0, &st->monthend_runs)) ||
	    (rc = open_dbi(txn, "explanations", 0, &st->explanations)) ||
	    (rc = open_dbi(txn, "report_texts", 0, &st->report_texts)) ||
	    (rc = open_dbi(txn, "calendars", 0, &st->calendars)) ||
	    (rc = check_schema(txn, st))) {
		mdb_txn_abort(txn);
		goto fail;
	}
	/* databases and schema only, redone by every start; under the log,
	 * synced by the start's checkpoint before anything is answered */
	rc = mdb_txn_commit(txn);
	if (rc)
		goto fail;
	return 0;
fail:
	if (pin && *pin)
		mdb_txn_abort(*pin);
	mdb_env_close(st->env);
	st->env = NULL;
	return -1;
}

static void prefault_stop(struct store *st);

void store_close(struct store *st)
{
	prefault_stop(st);
	if (st->env) {
		/* the tools' stores (contrib) and a daemon whose start failed */
		mdb_env_sync(st->env, 1);
		mdb_env_close(st->env);
		st->env = NULL;
	}
	pthread_rwlock_destroy(&st->resize_lock);
}

/* ---- mapping the store's pages ahead of the reads ----
 *
 * A process that opens the store has none of its pages in its page tables:
 * the first read of each page takes a page fault, even when the page is in
 * the page cache. On a virtual machine a fault is dear: on a fresh
 * 1,000,000-waybill store a GET took 0.9 faults and 63 µs of the loop's
 * CPU, 24 µs once the pages were mapped (docs/performance.md, "Round 5").
 * madvise(MADV_POPULATE_READ) maps a range for a small part of that
 * (7 GiB in about 0.3 s of CPU). A thread of its own, at the lowest CPU
 * priority, maps the pages mincore() finds in memory: it adds no memory
 * but page tables (2 MiB a GiB mapped); RSS then counts those page-cache
 * pages, as it would once the reads touched them.
 *
 * Before it maps a chunk, when the store's used part fits in half the
 * memory available, it reads the chunk's pages that are not in memory
 * (after a reboot: all of them) through a descriptor of its own with
 * readahead off, so they come in as single pages. A page in a large folio
 * (what readahead makes of a sequential read, a `cat` or `cp` of the file:
 * up to 2 MiB) costs each commit that writes it: the kernel walks the
 * folio's 512 buffers and counts the whole folio dirty; at 1,000,000
 * waybills durable scans fell to a third (docs/performance.md, "Round
 * 14"). mincore() cannot tell a folio's size, so the daemon starts from
 * the disk: before the store opens, store_drop_cached() drops its cached
 * pages (those a `cp` of a restored backup left, say), and the first pass
 * reads them all.
 *
 * A growth of the map moves it (the page tables are gone): the thread maps
 * again. The map's address is found in /proc/self/maps (LMDB does not
 * give it), under the resize lock, shared, for each chunk. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#define PREFAULT_CHUNK (8u << 20)
#define PREFAULT_READ (1u << 20) /* one pread() of pages not in memory */

struct store_prefault {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned want, done; /* passes asked for and begun */
	bool stop;
	_Atomic size_t mapped; /* bytes the pass under way, or the last, mapped */
	_Atomic size_t read;   /* bytes read from disk by every pass so far */
	bool must_read;        /* the first pass reads (store_drop_cached() dropped) */
	atomic_bool busy;      /* a pass is asked for or under way */
	bool runway;           /* keeps a runway past the store's end (store_runway()) */
	size_t runway_end;     /* the file offset it reaches (the thread's own) */
	int runway_poll_ms;    /* how often it looks (RUNWAY_POLL_MS; tests: less) */
	atomic_bool urgent;    /* the start waits for the first pass (store_prefault_start()) */
	bool niced;            /* the thread is at nice 19 (its own) */
	int read_delay_ms;     /* tests: a pause before each read from disk */
};

/* The map of data.mdb in this process: its address and length, or NULL. */
static char *map_find(struct store *st, size_t *len)
{
	int fd;
	struct stat sb;
	if (mdb_env_get_fd(st->env, &fd) || fstat(fd, &sb) < 0)
		return NULL;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return NULL;
	char line[512];
	char *addr = NULL;
	while (!addr && fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		unsigned long long off, ino;
		unsigned maj, mnr;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %llx %x:%x %llu", &lo, &hi, &off, &maj, &mnr,
			   &ino) == 6 &&
		    off == 0 && ino == (unsigned long long)sb.st_ino && maj == major(sb.st_dev) &&
		    mnr == minor(sb.st_dev)) {
			addr = (char *)lo;
			*len = hi - lo;
		}
	}
	fclose(f);
	return addr;
}

/* MemAvailable of /proc/meminfo in bytes (0 when it cannot be read). */
static size_t memory_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return 0;
	char line[128];
	unsigned long long kb = 0;
	while (fgets(line, sizeof(line), f) && sscanf(line, "MemAvailable: %llu kB", &kb) != 1)
		;
	fclose(f);
	return (size_t)kb << 10;
}

/* The rule for reading the store in at start: it fits in half the memory
 * available, which leaves the rest to everything else. */
static bool fits_in_memory(size_t bytes)
{
	return bytes <= memory_available() / 2;
}

/* What the page cache holds of data.mdb is the daemon's own (single
 * pages) when the last daemon stopped cleanly on this boot and the file is
 * the one it left: the mark says so, "boot_id inode size mtime". */
#define CACHE_MARK "pagecache.mark"

static int cache_mark_line(const char *dir, char *line, size_t len)
{
	char path[4096], boot[64] = "";
	struct stat sb;
	if (data_file_path(path, sizeof(path), dir) < 0 || stat(path, &sb) < 0)
		return -1;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (!f)
		return -1;
	bool ok = fgets(boot, sizeof(boot), f) != NULL;
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	if (!ok || !boot[0])
		return -1;
	snprintf(line, len, "%s %llu %lld %lld.%09ld\n", boot, (unsigned long long)sb.st_ino, (long long)sb.st_size,
		 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
	return 0;
}

void store_mark_cached(const char *dir)
{
	char path[4096], line[256];
	if (cache_mark_line(dir, line, sizeof(line)) < 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/" CACHE_MARK, dir) >= sizeof(path))
		return;
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(line, f);
		fclose(f);
	}
}

bool store_drop_cached(const char *dir)
{
	char path[4096], mark[256] = "", now[256];
	if ((size_t)snprintf(path, sizeof(path), "%s/" CACHE_MARK, dir) >= sizeof(path))
		return false;
	/* read once, then gone: a start that crashes leaves none behind */
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(mark, sizeof(mark), f))
			mark[0] = '\0';
		fclose(f);
		unlink(path);
	}
	if (mark[0] && cache_mark_line(dir, now, sizeof(now)) == 0 && strcmp(mark, now) == 0) {
		fprintf(stderr, "parceldeskd: the store's page cache kept (a clean stop on this boot)\n");
		return false;
	}
	int fd = data_file_path(path, sizeof(path), dir) == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return false;
	struct stat sb;
	bool drop = fstat(fd, &sb) == 0 && fits_in_memory((size_t)sb.st_size);
	if (drop) {
		/* dirty pages are not dropped (a `cp` of a backup just before
		 * the start leaves all of them so): written first */
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		fprintf(stderr, "parceldeskd: the store's cached pages dropped, to be read again in single pages\n");
	}
	close(fd);
	return drop;
}

/* The open store's data.mdb, as data_file_open_random(). */
static int store_file_open_random(struct store *st, int flags)
{
	const char *dir;
	return mdb_env_get_path(st->env, &dir) ? -1 : data_file_open_random(dir, flags);
}

/* A descriptor of data.mdb with readahead off, for a pass that reads the
 * store's used bytes in; -1 when they do not fit in half the memory
 * available (then the reads' page faults bring pages in), unless the pass
 * must read: the store's cached pages were dropped at start, a moment ago
 * in memory. */
static int prefault_reader(struct store *st, size_t used, bool must)
{
	return !must && !fits_in_memory(used) ? -1 : store_file_open_random(st, O_RDONLY);
}

/* Takes the resize lock shared and finds which pages of a chunk of the map
 * are in memory (vec, as mincore gives it): 0, or -1 when mincore failed,
 * with the lock held; 1, lock released, when the map moved since gen. */
static int chunk_residency(struct store *st, unsigned gen, char *p, size_t len, unsigned char *vec)
{
	pthread_rwlock_rdlock(&st->resize_lock);
	if (st->map_gen != gen) { /* moved: the kick asked for another pass */
		pthread_rwlock_unlock(&st->resize_lock);
		return 1;
	}
	return mincore(p, len, vec) == 0 ? 0 : -1;
}

/* Gives the map the advice map_no_readahead says; under the resize lock. */
static void map_advise(struct store *st)
{
	size_t len = 0;
	char *map = map_find(st, &len);
	if (map)
		madvise(map, len, st->map_no_readahead ? MADV_RANDOM : MADV_NORMAL);
}

/* Turns the map's readahead off (MADV_RANDOM) or back on (MADV_NORMAL),
 * under the resize lock, exclusive (a growth in between would leave the
 * new map with the kernel's default). While the store is read in, a page fault's
 * read-around (8 MiB on this VM) comes in large folios and marks a page
 * that sets off more readahead, in larger folios, when a later fault or a
 * read() reaches it, even on a descriptor with readahead off: from a few
 * faults at start, the pass's own mapping of the pages it read ran ahead of
 * it through the file in 2 MiB folios (547 MiB store: 77 % of its pages;
 * docs/performance.md, "Round 15"). */
static void map_readahead(struct store *st, bool on)
{
	pthread_rwlock_wrlock(&st->resize_lock);
	if (st->map_no_readahead == on) {
		st->map_no_readahead = !on;
		map_advise(st);
	}
	pthread_rwlock_unlock(&st->resize_lock);
}

/* Tests only: pauses read_delay_ms before a read from disk, or until the
 * thread is stopped. */
static void test_read_delay(struct store_prefault *pf)
{
	if (!pf->read_delay_ms)
		return;
	struct timespec ts = clock_monotonic_in(pf->read_delay_ms);
	pthread_mutex_lock(&pf->mu);
	while (!pf->stop && pthread_cond_timedwait(&pf->cv, &pf->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&pf->mu);
}

/* The thread's priority: the daemon's while the start waits for its first
 * pass (at nice 19 it got next to no CPU beside busy processes: 93-215 s to
 * read 607-656 MiB beside four, docs/performance.md "Round 17"), else nice 19:
 * it takes the CPU the loops and the writer leave. Its reads stay in the
 * best-effort I/O class (nice 19 makes it level 7, which BFQ honours and
 * mq-deadline does not), not the idle class: a page its read has locked,
 * which a loop then faults on, would wait as long as others' I/O holds the
 * idle class back (mq-deadline: up to 10 s). */
static void prefault_nice(struct store_prefault *pf)
{
	if (!pf->niced && !atomic_load(&pf->urgent)) {
		setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
		pf->niced = true;
	}
}

/* Reads the runs of a chunk's pages that vec says are not in memory
 * (file offset off, n pages); returns the bytes read. */
static size_t read_absent(struct store_prefault *pf, int fd, size_t off, const unsigned char *vec, size_t n,
			  size_t page, char *buf)
{
	size_t got = 0;
	for (size_t i = 0; i < n;) {
		if (vec[i] & 1) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !(vec[j] & 1) && (j - i + 1) * page <= PREFAULT_READ)
			j++;
		test_read_delay(pf);
		prefault_nice(pf); /* the start stopped waiting: at once, not a chunk later */
		ssize_t r = pread(fd, buf, (j - i) * page, (off_t)(off + i * page));
		if (r < 0)
			fprintf(stderr, "parceldeskd: reading the store ahead of the reads: %s\n", strerror(errno));
		if (r <= 0)
			break;
		got += (size_t)r;
		i = j;
	}
	return got;
}

/* Reads in (when they fit) and maps the pages of the store's used part, a
 * chunk at a time; stops early when the map moved (another pass follows)
 * or on stop. */
static void prefault_pass(struct store *st)
{
	struct store_prefault *pf = st->prefault;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), mapped = 0, off = 0;
	unsigned char vec[PREFAULT_CHUNK / 4096];
	unsigned sum = 0;
	if (page < 4096 || page > PREFAULT_CHUNK)
		return;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_rwlock_rdlock(&st->resize_lock);
	unsigned gen = st->map_gen;
	size_t map_len = 0;
	char *map = map_find(st, &map_len);
	size_t used = store_used_bytes(st);
	pthread_rwlock_unlock(&st->resize_lock);
	if (!map) {
		map_readahead(st, true);
		return;
	}
	if (used > map_len)
		used = map_len;
	int reader = prefault_reader(st, used, pf->must_read);
	pf->must_read = false;
	char *buf = reader >= 0 ? malloc(PREFAULT_READ) : NULL;
	if (buf) /* a map moved since the start has its readahead on again */
		map_readahead(st, false);
	size_t read = 0;
	for (; off < used; off += PREFAULT_CHUNK) {
		pthread_mutex_lock(&pf->mu);
		bool again = pf->stop || pf->want != pf->done;
		pthread_mutex_unlock(&pf->mu);
		if (again)
			goto out;
		prefault_nice(pf); /* the start stopped waiting */
		size_t len = used - off < PREFAULT_CHUNK ? used - off : PREFAULT_CHUNK, n = len / page;
		int rc;
		if (buf) { /* the read itself runs without the lock: a growth need not wait for the disk */
			if ((rc = chunk_residency(st, gen, map + off, len, vec)) == 1)
				goto out;
			pthread_rwlock_unlock(&st->resize_lock);
			if (rc == 0) {
				size_t got = read_absent(pf, reader, off, vec, n, page, buf);
				read += got;
				atomic_fetch_add(&pf->read, got);
			}
		}
		if ((rc = chunk_residency(st, gen, map + off, len, vec)) == 1)
			goto out;
		for (size_t i = 0; rc == 0 && i < n;) {
			size_t j = i;
			while (j < n && (vec[j] & 1))
				j++;
			/* one call maps the run (before Linux 5.14 it fails, and
			 * the reads below map it); then a read of each page, so a
			 * virtual machine's own tables learn it too (2-3 µs a page
			 * at its first read otherwise) */
			if (j > i)
				madvise(map + off + i * page, (j - i) * page, MADV_POPULATE_READ);
			for (size_t k = i; k < j; k++)
				sum += ((volatile const unsigned char *)map)[off + k * page];
			mapped += (j - i) * page;
			i = j + 1;
		}
		atomic_store(&pf->mapped, mapped);
		pthread_rwlock_unlock(&st->resize_lock);
		if (rc)
			break;
	}
	(void)sum;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "parceldeskd: %zu MiB of the store's %zu MiB mapped ahead of reads (%zu MiB read from disk) in %.2f s\n",
		mapped >> 20, used >> 20, read >> 20, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
	/* read in, or not to be (no descriptor, no buffer): a page that leaves
	 * memory is faulted in with read-around again */
	map_readahead(st, true);
	free(buf);
	if (reader >= 0)
		close(reader);
}

/* ---- the runway past the store's end ----
 *
 * LMDB writes the pages it adds past the file's end with pwrite()/writev()
 * runs of up to 64 pages, and a buffered write past the end makes a folio
 * of the run (ext4, Linux 6.16 and later): the store's single pages do not
 * last (45 % of a store100k copy's pages in folios of 2-64 pages after 40 s
 * of durable scans, docs/performance.md "Round 15"). A write into a page
 * the page cache already holds keeps its folio; so the prefault thread
 * keeps RUNWAY_BYTES past LMDB's last page allocated and read in as single
 * pages, topped up when LMDB has used half of it. fallocate() (mode 0)
 * extends the file without ever shrinking it, whatever LMDB writes
 * meanwhile; its unwritten blocks read as zeros, without the disk. Only
 * where the page cache has folios (not tmpfs) and while the store fits in
 * half the memory available (as the prefault's reads); a failure (the
 * disk full) leaves the file as it was and LMDB's own writes extend it. */
#define RUNWAY_BYTES (32u << 20)
#define RUNWAY_POLL_MS 100

static bool dir_on_page_cache_fs(const char *dir)
{
	struct statfs sf;
	/* tmpfs and ramfs: their pages are no disk's page cache */
	return statfs(dir, &sf) == 0 && (unsigned long)sf.f_type != 0x01021994UL && (unsigned long)sf.f_type != 0x858458f6UL;
}

static void store_runway(struct store *st)
{
	struct store_prefault *pf = st->prefault;
	size_t used = store_size_now(st, NULL);
	if (used + RUNWAY_BYTES / 2 <= pf->runway_end || !fits_in_memory(used + RUNWAY_BYTES))
		return;
	int fd = store_file_open_random(st, O_RDWR);
	if (fd < 0)
		return;
	size_t from = used > pf->runway_end ? used : pf->runway_end, to = used + RUNWAY_BYTES;
	char *buf = malloc(PREFAULT_READ);
	if (buf && fallocate(fd, 0, (off_t)from, (off_t)(to - from)) == 0) {
		for (size_t off = from; off < to; off += PREFAULT_READ)
			if (pread(fd, buf, PREFAULT_READ, (off_t)off) <= 0)
				break;
		pf->runway_end = to;
	}
	free(buf);
	close(fd);
}

static void *prefault_main(void *arg)
{
	struct store *st = arg;
	struct store_prefault *pf = st->prefault;
	pthread_setname_np(pthread_self(), "pd-prefault");
	prefault_nice(pf);
	pthread_mutex_lock(&pf->mu);
	for (;;) {
		if (pf->want == pf->done) {
			atomic_store(&pf->busy, false);
			pthread_cond_broadcast(&pf->cv); /* store_prefault_wait() */
		}
		while (!pf->stop && pf->want == pf->done) {
			if (!pf->runway) {
				pthread_cond_wait(&pf->cv, &pf->mu);
				continue;
			}
			struct timespec ts = clock_monotonic_in(pf->runway_poll_ms);
			if (pthread_cond_timedwait(&pf->cv, &pf->mu, &ts) == ETIMEDOUT) {
				pthread_mutex_unlock(&pf->mu);
				store_runway(st);
				pthread_mutex_lock(&pf->mu);
			}
		}
		if (pf->stop)
			break;
		pf->done = pf->want;
		pthread_mutex_unlock(&pf->mu);
		prefault_pass(st);
		atomic_store(&pf->urgent, false); /* the first pass is over */
		prefault_nice(pf);
		pthread_mutex_lock(&pf->mu);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

static void prefault_kick(struct store *st)
{
	struct store_prefault *pf = st->prefault;
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->want++;
	atomic_store(&pf->busy, true);
	pthread_cond_broadcast(&pf->cv); /* the thread, or store_prefault_wait() */
	pthread_mutex_unlock(&pf->mu);
}

int store_prefault_start(struct store *st, bool dropped, bool waited, int runway_poll_ms, int read_delay_ms)
{
	struct store_prefault *pf = calloc(1, sizeof(*pf));
	if (!pf)
		return -1;
	pf->must_read = dropped;
	atomic_store(&pf->urgent, waited);
	pf->read_delay_ms = read_delay_ms > 0 ? read_delay_ms : 0;
	const char *dir;
	pf->runway = mdb_env_get_path(st->env, &dir) == 0 && dir_on_page_cache_fs(dir);
	pf->runway_poll_ms = runway_poll_ms >= 0 ? runway_poll_ms : RUNWAY_POLL_MS;
	if (cond_init_monotonic(&pf->cv)) {
		free(pf);
		map_readahead(st, true); /* nothing will read the store in */
		return -1;
	}
	pthread_mutex_init(&pf->mu, NULL);
	pf->want = 1;
	atomic_store(&pf->busy, true);
	st->prefault = pf;
	if (pthread_create(&pf->thread, NULL, prefault_main, st)) {
		st->prefault = NULL;
		pthread_mutex_destroy(&pf->mu);
		pthread_cond_destroy(&pf->cv);
		free(pf);
		map_readahead(st, true); /* nothing will read the store in */
		return -1;
	}
	return 0;
}

bool store_prefault_wait(struct store *st, int timeout_ms)
{
	struct store_prefault *pf = st->prefault;
	if (!pf)
		return true;
	struct timespec ts = clock_monotonic_in(timeout_ms);
	pthread_mutex_lock(&pf->mu);
	while (!pf->stop && atomic_load(&pf->busy) && pthread_cond_timedwait(&pf->cv, &pf->mu, &ts) != ETIMEDOUT)
		;
	bool done = pf->stop || !atomic_load(&pf->busy);
	pthread_mutex_unlock(&pf->mu);
	atomic_store(&pf->urgent, false); /* no one waits any more */
	return done;
}

static void prefault_stop(struct store *st)
{
	struct store_prefault *pf = st->prefault;
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->stop = true;
	pthread_cond_broadcast(&pf->cv); /* the thread may wait in test_read_delay() */
	pthread_mutex_unlock(&pf->mu);
	pthread_join(pf->thread, NULL);
	pthread_mutex_destroy(&pf->mu);
	pthread_cond_destroy(&pf->cv);
	st->prefault = NULL;
	free(pf);
}

size_t store_prefaulted_bytes(struct store *st)
{
	return st->prefault ? atomic_load(&st->prefault->mapped) : 0;
}

size_t store_prefault_read_bytes(struct store *st)
{
	return st->prefault ? atomic_load(&st->prefault->read) : 0;
}

const char *store_prefault_state(struct store *st)
{
	return !st->prefault ? "off" : atomic_load(&st->prefault->busy) ? "running" : "done";
}

/* The map's size read under the lock the begin holds: a live write
 * transaction keeps the map (a growth meanwhile fails, EINVAL), so it is
 * the size the whole transaction runs with. */
static int write_begin_locked(struct store *st, MDB_txn **txn, size_t *map)
{
	pthread_rwlock_rdlock(&st->resize_lock);
	int rc = mdb_txn_begin(st->env, NULL, 0, txn);
	if (map)
		*map = st->map_size;
	pthread_rwlock_unlock(&st->resize_lock);
	return rc;
}

int store_write_begin(struct store *st, MDB_txn **txn, size_t *map)
{
	int rc = write_begin_locked(st, txn, map);
	if (rc == MDB_MAP_RESIZED && store_adopt_map(st) == 0)
		rc = write_begin_locked(st, txn, map);
	return rc;
}

/* Maps the store at size bytes (mdb_env_set_mapsize), or leaves the map as
 * it is: ENOMEM when a map that large cannot be made now. LMDB 0.9 unmaps
 * the store before it maps the new size, and when that mmap fails it keeps
 * no map at all: the next transaction of any thread reads the freed meta
 * pages (SIGSEGV), and there is no way back (a second mdb_env_set_mapsize
 * sees no map and only records the size). So the size is first tried with
 * an anonymous reservation (PROT_NONE, no memory, but counted against the
 * address space as the map is), beside the map that is there: stricter
 * than the need, by the old map's size. Should the map still fail (another
 * thread took the room in between), the process stops: everything answered
 * is durable, and a restart maps the store again. Under the resize lock,
 * exclusive. */
static int map_resize(struct store *st, size_t size)
{
	void *room = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (room == MAP_FAILED)
		return ENOMEM;
	munmap(room, size);
	int rc = mdb_env_set_mapsize(st->env, size);
	if (rc && rc != EINVAL) { /* EINVAL (a write transaction open) comes before the unmap */
		log_msg("error", 0, NULL, "the store's map of %zu MiB failed after the old one was unmapped "
			"(%s): the store has no map; stopping (restart the daemon)", size >> 20, mdb_strerror(rc));
		_exit(EXIT_FAILURE);
	}
	if (rc == 0) {
		MDB_envinfo info; /* LMDB raises a size below the store's end */
		mdb_env_info(st->env, &info);
		st->map_size = info.me_mapsize;
		if (st->map_no_readahead)
			map_advise(st);
		st->map_gen++;
	}
	return rc;
}

/* Doubles the map if it is still the size from that the caller saw, and
 * counts it (ahead: a growth ahead of need): EAGAIN when another thread
 * grew it since (the writer and replication's applying both write, and
 * grow, full or ahead), which is room enough for a write that found from
 * full. The caller holds the resize lock, exclusive, so a STATS that sees
 * the new size sees the count. The new map is read in again by the
 * prefault (after the unlock: grown_tell). */
static int map_double(struct store *st, size_t from, bool ahead)
{
	if (st->map_size != from)
		return EAGAIN;
	int rc = map_resize(st, st->map_size * 2);
	if (rc == 0) {
		atomic_fetch_add(&st->grows, 1);
		if (ahead)
			atomic_fetch_add(&st->grows_ahead, 1);
	}
	return rc;
}

static void grown_tell(struct store *st, size_t size, const char *why)
{
	fprintf(stderr, "parceldeskd: store map grown to %zu MiB%s\n", size >> 20, why);
	prefault_kick(st);
}

int store_grow(struct store *st, size_t full)
{
	pthread_rwlock_wrlock(&st->resize_lock);
	int rc = map_double(st, full, false);
	size_t size = st->map_size;
	pthread_rwlock_unlock(&st->resize_lock);
	if (rc == EAGAIN)
		return 0; /* grown since: the write runs again in the larger map */
	if (rc == 0)
		grown_tell(st, size, "");
	return rc;
}

bool store_grow_ahead(struct store *st)
{
	size_t map, used = store_size_now(st, &map);
	if (used <= map / 4 * 3 || atomic_load(&st->grow_ahead_failed) == map)
		return false;
	if (pthread_rwlock_trywrlock(&st->resize_lock) != 0)
		return false; /* a copy or a reader holds it: after a later commit */
	/* another writing thread may have grown it since the look: EAGAIN */
	int rc = map_double(st, map, true);
	size_t size = st->map_size;
	pthread_rwlock_unlock(&st->resize_lock);
	if (rc == ENOMEM) {
		atomic_store(&st->grow_ahead_failed, map);
		log_msg("warn", 0, NULL, "the store's map cannot grow ahead to %zu MiB (no address space); "
			"a write that needs the room will try again", (map * 2) >> 20);
	}
	if (rc)
		return false;
	grown_tell(st, size, " (ahead: the store filled three quarters of it)");
	return true;
}

int store_adopt_map(struct store *st)
{
	pthread_rwlock_wrlock(&st->resize_lock);
	/* the size the header records, as mdb_env_set_mapsize(env, 0) takes it */
	int fd;
	uint64_t need = 0, map_bytes = 0;
	if (mdb_env_get_fd(st->env, &fd) == 0)
		header_read(fd, &need, &map_bytes);
	size_t size = map_bytes > need ? map_bytes : need;
	int rc = size ? map_resize(st, size) : MDB_CORRUPTED;
	pthread_rwlock_unlock(&st->resize_lock);
	if (rc == 0)
		prefault_kick(st);
	return rc;
}

int store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
	      struct pd_arena *a, struct pd_value **out)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc = mdb_get(txn, dbi, &k, &v);
	if (rc)
		return rc;
	size_t used;
	if (pd_value_unpack(a, v.mv_data, v.mv_size, &used, out) != PD_UNPACK_OK)
		return MDB_CORRUPTED;
	return 0;
}

int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
	      const struct pd_value *rec, unsigned flags)
{
	char *buf;
	size_t len;
	if (pd_value_to_msgpack(rec, &buf, &len) < 0)
		return ENOMEM;
	int rc = store_put_bytes(txn, dbi, key, klen, buf, len, flags);
	free(buf);
	return rc;
}

int store_put_bytes(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
		    const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_put(txn, dbi, &k, &v, flags);
	if (rc == 0)
		changeset_note_put(dbi, &k, &v, flags);
	return rc;
}

int store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
	      const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_del(txn, dbi, &k, val ? &v : NULL);
	if (rc == 0)
		changeset_note_del(dbi, &k, val ? &v : NULL);
	return rc;
}

int store_cursor_del(MDB_cursor *cur)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
	if (rc)
		return rc;
	/* k and v point into the page the delete changes: note them first,
	 * and take them back if the delete fails */
	struct changeset_mark m = changeset_mark();
	changeset_note_del(mdb_cursor_dbi(cur), &k, &v);
	rc = mdb_cursor_del(cur, 0);
	if (rc)
		changeset_rewind(m);
	return rc;
}

int store_nest_begin(MDB_txn *parent, struct store_nested *n)
{
	n->mark = changeset_mark();
	return mdb_txn_begin(mdb_txn_env(parent), parent, 0, &n->txn);
}

int store_nest_end(struct store_nested *n, bool keep)
{
	int rc = 0;
	if (keep)
		rc = mdb_txn_commit(n->txn); /* into its parent (no disk); frees it even when it fails */
	else
		mdb_txn_abort(n->txn);
	n->txn = NULL;
	if (!keep || rc)
		changeset_rewind(n->mark);
	return rc;
}

/* Looked up first: LMDB's put copies the pages on the path to the entry
 * (and the sub-database's) before it finds the pair already there, so an
 * entry that is kept (most index updates of a waybill) would dirty them
 * for nothing. */
int store_index_add(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
		    const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
	mdb_cursor_close(cur);
	if (rc == 0)
		return 0;
	if (rc != MDB_NOTFOUND)
		return rc;
	rc = store_put_bytes(txn, dbi, key, klen, val, vlen, MDB_NODUPDATA);
	return rc == MDB_KEYEXIST ? 0 : rc;
}

int store_index_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
		    const void *val, size_t vlen)
{
	int rc = store_del(txn, dbi, key, klen, val, vlen);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_meta_get(MDB_txn *txn, const struct store *st, const char *key, uint64_t *out)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = mdb_get(txn, st->meta, &k, &v);
	*out = rc == 0 && v.mv_size == 8 ? be64_get(v.mv_data) : 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_meta_put(MDB_txn *txn, const struct store *st, const char *key, uint64_t val)
{
	unsigned char buf[8];
	be64_put(buf, val);
	MDB_val k = { strlen(key), (void *)key }, v = { 8, buf };
	return mdb_put(txn, st->meta, &k, &v, 0);
}

int store_next_seq(MDB_txn *txn, struct store *st, const char *name,
		   uint64_t *out)
{
	char key[64]; /* "seq:" name, cut as snprintf would; no printf: every write takes one */
	size_t nl = strlen(name);
	if (nl > sizeof(key) - 5)
		nl = sizeof(key) - 5;
	memcpy(key, "seq:", 4);
	memcpy(key + 4, name, nl);
	int kl = (int)(4 + nl);
	MDB_val k = { (size_t)kl, key }, v;
	uint64_t cur = 0;
	int rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		cur = be64_get(v.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return rc;
	unsigned char buf[8];
	be64_put(buf, cur + 1);
	rc = store_put_bytes(txn, st->meta, key, (size_t)kl, buf, 8, 0);
	if (rc == 0)
		*out = cur + 1;
	return rc;
}

/* Kinds whose changes are kept in order of the sequence only: many, at
 * random ids (a waybill's scans), and never read back per object. Their
 * records go after every per-object key, under AUDIT_LOG_MARK + be64 seq,
 * appended: a group of writes fills the last page instead of dirtying one
 * page per object (docs/performance.md). The record names its kind and
 * id. Entries written before under kind:id stay where they are. */
#define AUDIT_LOG_MARK 0xFF

static bool audit_by_sequence(const char *kind)
{
	return strcmp(kind, "waybill") == 0;
}

static void pack_key(msgpack_packer *pk, const char *key)
{
	pd_pack_str(pk, key, strlen(key));
}

/* As a map's string value set with pd_map_set_str() packs: NULL is nil. */
static void pack_str_or_nil(msgpack_packer *pk, const char *s)
{
	if (s)
		pd_pack_str(pk, s, strlen(s));
	else
		msgpack_pack_nil(pk);
}

int store_audit(MDB_txn *txn, struct store *st, const char *kind,
		const char *id, const char *who, int64_t at, const char *action,
		const struct pd_value *detail)
{
	uint64_t seq;
	int rc = store_next_seq(txn, st, "audit", &seq);
	if (rc)
		return rc;
	bool logged = audit_by_sequence(kind);
	char key[128];
	int kl = 0;
	if (logged)
		key[kl++] = (char)AUDIT_LOG_MARK;
	else {
		kl = snprintf(key, sizeof(key), "%s:%s", kind, id);
		if (kl < 0 || (size_t)kl + 9 > sizeof(key))
			return EINVAL;
		key[kl++] = '\0';
	}
	be64_put((unsigned char *)key + kl, seq);

	/* the record's map packed as it is written, on the stack while it fits:
	 * no tree, arena or heap buffer on every write (docs/performance.md) */
	char mem[512];
	struct pd_buf b;
	pd_buf_use(&b, mem, sizeof(mem));
	msgpack_packer pk;
	msgpack_packer_init(&pk, &b, pd_buf_write);
	msgpack_pack_map(&pk, 4 + (logged ? 2 : 0) + (detail != NULL));
	pack_key(&pk, "seq");
	msgpack_pack_int64(&pk, (int64_t)seq);
	if (logged) {
		pack_key(&pk, "kind");
		pack_str_or_nil(&pk, kind);
		pack_key(&pk, "id");
		pack_str_or_nil(&pk, id);
	}
	pack_key(&pk, "who");
	pack_str_or_nil(&pk, who);
	pack_key(&pk, "at");
	msgpack_pack_int64(&pk, at);
	pack_key(&pk, "action");
	pack_str_or_nil(&pk, action);
	if (detail) {
		pack_key(&pk, "detail");
		rc = pd_value_pack(&pk, detail) ? ENOMEM : 0;
	}
	if (rc == 0)
		rc = store_put_bytes(txn, st->audit, key, (size_t)kl + 8, b.data, b.len, logged ? MDB_APPEND : 0);
	pd_buf_free(&b);
	return rc;
}

int store_audit_read(MDB_txn *txn, struct store *st, const char *kind,
		     const char *id, struct pd_arena *a, struct pd_value **out)
{
	if (audit_by_sequence(kind))
		return EINVAL; /* not kept per object */
	char prefix[128];
	int pl = snprintf(prefix, sizeof(prefix), "%s:%s", kind, id);
	if (pl < 0 || (size_t)pl + 1 >= sizeof(prefix))
		return EINVAL;
	prefix[pl] = '\0';
	size_t plen = (size_t)pl + 1; /* the NUL ends the object part of the key */
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, st->audit, &cur);
	if (rc)
		return rc;
	struct pd_value *list = pd_arr(a);
	MDB_val k = { plen, prefix }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		struct pd_value *rec;
		size_t used;
		if (pd_value_unpack(a, v.mv_data, v.mv_size, &used, &rec) != PD_UNPACK_OK) {
			rc = MDB_CORRUPTED;
			break;
		}
		pd_arr_push(a, list, rec);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	*out = list;
	return 0;
}

int store_counter_add(MDB_txn *txn, MDB_dbi dbi, const char *key, int64_t delta)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int64_t cur = 0;
	int rc = mdb_get(txn, dbi, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		cur = (int64_t)be64_get(v.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return rc;
	/* totals of money are sums of amounts each at most 10^15 fen
	 * (ARG_INT_MAX): enough of them pass 64 bits, which would wrap the
	 * total (or, in C, be undefined); the write that would is refused */
	int64_t sum;
	if (__builtin_add_overflow(cur, delta, &sum))
		return EOVERFLOW;
	unsigned char buf[8];
	be64_put(buf, (uint64_t)sum);
	return store_put_bytes(txn, dbi, key, k.mv_size, buf, 8, 0);
}

size_t store_used_bytes(struct store *st)
{
	MDB_envinfo info;
	MDB_stat stat;
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &stat);
	return (info.me_last_pgno + 1) * (size_t)stat.ms_psize;
}

size_t store_size_now(struct store *st, size_t *map)
{
	pthread_rwlock_rdlock(&st->resize_lock);
	size_t used = store_used_bytes(st);
	if (map)
		*map = st->map_size;
	pthread_rwlock_unlock(&st->resize_lock);
	return used;
}
