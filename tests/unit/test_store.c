/*
 * Unit tests for daemon/core/store.c's schema version: a new store is
 * marked with this build's version, an older one this build reads is
 * marked again when it opens (so a build older than the mark refuses it
 * rather than misread what this one writes), and a version this build
 * does not read is refused; store_audit()'s record, byte for byte; a
 * growth of the map that cannot be mapped leaves the map as it was, and a
 * map another process grew is taken up. Runs
 * against a real LMDB store in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/pd_test_store.XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	config_default(&g_config);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* The stored schema_version's bytes (its size: 0 when it is absent). */
static size_t schema_bytes(const char *dir, unsigned char *out)
{
	assert_int_equal(store_open(&g_store, dir, (size_t)16 << 20), 0);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &txn), 0);
	MDB_val k = { 14, "schema_version" }, v;
	size_t n = 0;
	if (mdb_get(txn, g_store.meta, &k, &v) == 0) {
		assert_true(v.mv_size <= 8);
		memcpy(out, v.mv_data, v.mv_size);
		n = v.mv_size;
	}
	mdb_txn_abort(txn);
	store_close(&g_store);
	return n;
}

/* The store opened with LMDB alone, as another build would: its meta. */
static MDB_env *raw_open(const char *dir, unsigned flags, MDB_txn **txn, MDB_dbi *meta)
{
	MDB_env *env;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, dir, flags, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, flags & MDB_RDONLY, txn), 0);
	assert_int_equal(mdb_dbi_open(*txn, "meta", 0, meta), 0);
	return env;
}

/* Writes schema_version as bytes (n 0: deletes it). */
static void schema_set(const char *dir, const void *bytes, size_t n)
{
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_env *env = raw_open(dir, 0, &txn, &meta);
	MDB_val k = { 14, "schema_version" }, v = { n, (void *)bytes };
	int rc = n ? mdb_put(txn, meta, &k, &v, 0) : mdb_del(txn, meta, &k, NULL);
	assert_int_equal(rc, 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static uint32_t schema_of(const char *dir)
{
	unsigned char b[8];
	assert_int_equal(schema_bytes(dir, b), 4);
	return be32_get(b);
}

static void test_new_store_is_marked(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(schema_of(f->dir), STORE_SCHEMA_VERSION);
	/* and opens again unchanged */
	assert_int_equal(schema_of(f->dir), STORE_SCHEMA_VERSION);
}

static void test_older_store_is_marked_again(void **state)
{
	struct fixture *f = *state;
	assert_true(STORE_SCHEMA_OLDEST < STORE_SCHEMA_VERSION);
	assert_int_equal(schema_of(f->dir), STORE_SCHEMA_VERSION);
	unsigned char old[4];
	be32_put(old, STORE_SCHEMA_OLDEST);
	schema_set(f->dir, old, 4);
	assert_int_equal(schema_of(f->dir), STORE_SCHEMA_VERSION);
	/* a store from before the version was kept is read as the oldest */
	schema_set(f->dir, NULL, 0);
	assert_int_equal(schema_of(f->dir), STORE_SCHEMA_VERSION);
}

static void test_unknown_version_is_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(schema_of(f->dir), STORE_SCHEMA_VERSION);
	unsigned char newer[4], older[4];
	be32_put(newer, STORE_SCHEMA_VERSION + 1);
	be32_put(older, STORE_SCHEMA_OLDEST - 1);
	const struct { const void *bytes; size_t n; } bad[] = {
		{ newer, 4 }, { older, 4 }, { "\x00\x00\x02", 3 }, { "\x00\x00\x00\x02\x00", 5 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		schema_set(f->dir, bad[i].bytes, bad[i].n);
		assert_int_not_equal(store_open(&g_store, f->dir, (size_t)16 << 20), 0);
		assert_null(g_store.env);
		/* refused, and left as it was */
		MDB_txn *txn;
		MDB_dbi meta;
		MDB_env *env = raw_open(f->dir, MDB_RDONLY, &txn, &meta);
		MDB_val k = { 14, "schema_version" }, v;
		assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
		assert_int_equal(v.mv_size, bad[i].n);
		assert_memory_equal(v.mv_data, bad[i].bytes, bad[i].n);
		mdb_txn_abort(txn);
		mdb_env_close(env);
	}
}

/* store_audit() packs its record as a map built with pd_map_set_*() in
 * the same order would pack: seq, kind and id (the kinds kept in sequence),
 * who, at, action, detail. The stored bytes against that map's. */
static void audit_expect(const char *kind, const char *id, const char *who, int64_t at, const char *action,
			 const struct pd_value *detail, uint64_t seq, bool logged)
{
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *rec = pd_map(&a);
	pd_map_set_int(&a, rec, "seq", (int64_t)seq);
	if (logged) {
		pd_map_set_str(&a, rec, "kind", kind);
		pd_map_set_str(&a, rec, "id", id);
	}
	pd_map_set_str(&a, rec, "who", who);
	pd_map_set_int(&a, rec, "at", at);
	pd_map_set_str(&a, rec, "action", action);
	if (detail)
		pd_map_set(&a, rec, "detail", (struct pd_value *)detail);
	char *want;
	size_t want_len;
	assert_int_equal(pd_value_to_msgpack(rec, &want, &want_len), 0);

	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(g_store.env, NULL, 0, &txn), 0);
	assert_int_equal(store_audit(txn, &g_store, kind, id, who, at, action, detail), 0);
	unsigned char key[128];
	size_t kl = 0;
	if (logged)
		key[kl++] = 0xFF;
	else {
		kl = (size_t)snprintf((char *)key, sizeof(key), "%s:%s", kind, id);
		key[kl++] = '\0';
	}
	be64_put(key + kl, seq);
	MDB_val k = { kl + 8, key }, v;
	assert_int_equal(mdb_get(txn, g_store.audit, &k, &v), 0);
	assert_int_equal(v.mv_size, want_len);
	assert_memory_equal(v.mv_data, want, want_len);
	assert_int_equal(mdb_txn_commit(txn), 0);
	free(want);
	pd_arena_free(&a);
}

static void test_audit_record_bytes(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_open(&g_store, f->dir, (size_t)16 << 20), 0);
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *detail = pd_map(&a);
	pd_map_set_str(&a, detail, "event", "damaged");
	pd_map_set_str(&a, detail, "from", "in_transit");
	pd_map_set_int(&a, detail, "fee_fen", -1500);
	/* a long detail: the record outgrows the stack buffer */
	char big[2000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct pd_value *large = pd_map(&a);
	pd_map_set_str(&a, large, "note", big);
	audit_expect("waybill", "000000000777", "op1", 1796000000, "scan", detail, 1, true);
	audit_expect("waybill", "000000000778", "a-user-name-longer-than-thirty-one", -5, "create", NULL, 2, true);
	audit_expect("complaint", "C42", "sup1", 0, "close", large, 3, false);
	audit_expect("claim", "", "", 1, "", detail, 4, false);
	pd_arena_free(&a);
	store_close(&g_store);
}

/* A running total that would pass 64 bits (enough amounts of 10^15 fen)
 * is refused with EOVERFLOW and keeps its value: never wrapped to a
 * negative total, in either direction. */
static void test_counter_refuses_overflow(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_open(&g_store, f->dir, (size_t)16 << 20), 0);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(g_store.env, NULL, 0, &txn), 0);
	assert_int_equal(store_counter_add(txn, g_store.volume, "k", INT64_MAX - 5), 0);
	assert_int_equal(store_counter_add(txn, g_store.volume, "k", 5), 0);
	assert_int_equal(store_counter_add(txn, g_store.volume, "k", 1), EOVERFLOW);
	assert_int_equal(store_counter_add(txn, g_store.volume, "n", INT64_MIN + 1), 0);
	assert_int_equal(store_counter_add(txn, g_store.volume, "n", -1), 0);
	assert_int_equal(store_counter_add(txn, g_store.volume, "n", -1), EOVERFLOW);
	MDB_val k = { 1, "k" }, v;
	assert_int_equal(mdb_get(txn, g_store.volume, &k, &v), 0);
	assert_int_equal((int64_t)be64_get(v.mv_data), INT64_MAX);
	k.mv_data = "n";
	assert_int_equal(mdb_get(txn, g_store.volume, &k, &v), 0);
	assert_true((int64_t)be64_get(v.mv_data) == INT64_MIN);
	mdb_txn_abort(txn);
	store_close(&g_store);
}

/* A growth whose map cannot be made (the doubling asks 2 PiB, more than
 * any address space): ENOMEM, and the store keeps the map it had (LMDB
 * alone would have unmapped it, and the next transaction read freed
 * memory): reads and writes go on, and a growth that can map still does. */
static void test_growth_that_cannot_map_keeps_the_map(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_open(&g_store, f->dir, (size_t)1 << 20), 0);
	size_t map_size = g_store.map_size;
	unsigned gen = g_store.map_gen;
	g_store.map_size = (size_t)1 << 50;
	assert_int_equal(store_grow(&g_store, g_store.map_size), ENOMEM);
	assert_true(g_store.map_size == (size_t)1 << 50); /* not touched */
	assert_int_equal(g_store.map_gen, gen);
	g_store.map_size = map_size;

	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &txn), 0);
	MDB_val k = { 14, "schema_version" }, v;
	assert_int_equal(mdb_get(txn, g_store.meta, &k, &v), 0);
	mdb_txn_abort(txn);
	assert_int_equal(mdb_txn_begin(g_store.env, NULL, 0, &txn), 0);
	MDB_val wk = { 4, "grow" }, wv = { 4, "ok\0\0" };
	assert_int_equal(mdb_put(txn, g_store.meta, &wk, &wv, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);

	assert_int_equal(store_grow(&g_store, g_store.map_size), 0);
	assert_true(g_store.map_size == 2 * map_size);
	assert_int_equal(g_store.map_gen, gen + 1);
	assert_int_equal(mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_get(txn, g_store.meta, &wk, &v), 0);
	assert_int_equal(v.mv_size, 4);
	mdb_txn_abort(txn);
	store_close(&g_store);
}

/* Another process grew the map and wrote past the end of ours: a
 * transaction of ours answers MDB_MAP_RESIZED, and store_adopt_map() maps
 * the size that process's header records. */
static void test_adopt_map_grown_by_another_process(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_open(&g_store, f->dir, (size_t)1 << 20), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* an importer: its own environment, an 8 MiB map, 2 MiB and more written */
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		static char big[4096];
		int ok = mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 64) == 0 &&
			 mdb_env_set_mapsize(env, (size_t)8 << 20) == 0 && mdb_env_open(env, f->dir, 0, 0640) == 0 &&
			 mdb_txn_begin(env, NULL, 0, &txn) == 0 && mdb_dbi_open(txn, "grown", MDB_CREATE, &dbi) == 0;
		for (int i = 0; ok && i < 300; i++) {
			MDB_val k = { sizeof(i), &i }, v = { sizeof(big), big };
			ok = mdb_put(txn, dbi, &k, &v, 0) == 0;
		}
		ok = ok && mdb_txn_commit(txn) == 0;
		_exit(ok ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unsigned gen = g_store.map_gen;
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &txn), MDB_MAP_RESIZED);
	assert_int_equal(store_adopt_map(&g_store), 0);
	assert_true(g_store.map_size == (size_t)8 << 20);
	assert_int_equal(g_store.map_gen, gen + 1);
	assert_int_equal(mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &txn), 0);
	MDB_dbi dbi;
	assert_int_equal(mdb_dbi_open(txn, "grown", 0, &dbi), 0);
	int i = 299;
	MDB_val k = { sizeof(i), &i }, v;
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, 4096);
	mdb_txn_abort(txn);
	store_close(&g_store);
}

static void *hold_shared(void *arg)
{
	pthread_barrier_t *b = arg;
	pthread_rwlock_rdlock(&g_store.resize_lock);
	pthread_barrier_wait(&b[0]); /* held */
	pthread_barrier_wait(&b[1]); /* the test is done with it */
	pthread_rwlock_unlock(&g_store.resize_lock);
	return NULL;
}

/* Commits 4 KiB values until the store fills more than three quarters of
 * its 1 MiB map. */
static void fill_three_quarters(void)
{
	static char big[4096];
	for (int i = 0;; i++) {
		size_t map, used = store_size_now(&g_store, &map);
		if (used > map / 4 * 3)
			return;
		MDB_txn *txn;
		assert_int_equal(store_write_begin(&g_store, &txn, NULL), 0);
		MDB_val k = { sizeof(i), &i }, v = { sizeof(big), big };
		assert_int_equal(mdb_put(txn, g_store.meta, &k, &v, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
}

/* The growth ahead (store_grow_ahead): nothing while the store fills at
 * most three quarters of the map; past that, while another thread holds
 * the resize lock shared (BACKUP's copy does for the whole copy), no
 * growth and no wait (it returns with the lock still held there); once
 * the lock is free, the map doubles. (A size whose map cannot be made:
 * test_map_limit.py.) */
static void test_growth_ahead_never_waits(void **state)
{
	struct fixture *f = *state;
	alarm(20); /* a growth ahead that waits for the lock would hang here */
	assert_int_equal(store_open(&g_store, f->dir, (size_t)1 << 20), 0);
	assert_false(store_grow_ahead(&g_store));
	assert_true(g_store.map_size == (size_t)1 << 20);
	fill_three_quarters();

	pthread_barrier_t b[2];
	pthread_barrier_init(&b[0], NULL, 2);
	pthread_barrier_init(&b[1], NULL, 2);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, hold_shared, b), 0);
	pthread_barrier_wait(&b[0]);
	assert_false(store_grow_ahead(&g_store));
	assert_true(g_store.map_size == (size_t)1 << 20);
	pthread_barrier_wait(&b[1]);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&b[0]);
	pthread_barrier_destroy(&b[1]);

	unsigned gen = g_store.map_gen;
	assert_true(store_grow_ahead(&g_store));
	assert_true(g_store.map_size == (size_t)2 << 20);
	assert_int_equal(g_store.map_gen, gen + 1);
	assert_false(store_grow_ahead(&g_store)); /* now under half full */
	assert_int_equal(g_store.grows, 1);
	assert_int_equal(g_store.grows_ahead, 1);
	store_close(&g_store);
	alarm(0);
}

/* Two writing threads (the writer, replication's applying), one full map:
 * a write finds it full, the other thread's growth ahead (after its own
 * commit) doubles it before this one's growth, which then leaves it as it
 * is (round 17: it doubled it again), as does a third thread's that found
 * the same map full; the write fits at its second run, and a write that
 * finds the grown map full grows it. */
static void test_map_full_grown_since_grows_no_more(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_open(&g_store, f->dir, (size_t)1 << 20), 0);
	static char big[4096];
	size_t full = 0;
	int rc = 0, i;
	for (i = 0; rc == 0; i++) {
		MDB_txn *txn;
		assert_int_equal(store_write_begin(&g_store, &txn, &full), 0);
		MDB_val k = { sizeof(i), &i }, v = { sizeof(big), big };
		rc = mdb_put(txn, g_store.meta, &k, &v, 0);
		rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
	}
	assert_int_equal(rc, MDB_MAP_FULL);
	assert_true(full == (size_t)1 << 20);
	unsigned gen = g_store.map_gen;
	assert_true(store_grow_ahead(&g_store));
	assert_int_equal(store_grow(&g_store, full), 0);
	assert_int_equal(store_grow(&g_store, full), 0);
	assert_true(g_store.map_size == (size_t)2 << 20);
	assert_int_equal(g_store.map_gen, gen + 1);
	assert_int_equal(g_store.grows, 1);
	assert_int_equal(g_store.grows_ahead, 1);

	MDB_txn *txn;
	assert_int_equal(store_write_begin(&g_store, &txn, &full), 0);
	assert_true(full == (size_t)2 << 20);
	i--;
	MDB_val k = { sizeof(i), &i }, v = { sizeof(big), big };
	assert_int_equal(mdb_put(txn, g_store.meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(store_grow(&g_store, full), 0);
	assert_true(g_store.map_size == (size_t)4 << 20);
	assert_int_equal(g_store.grows, 2);
	store_close(&g_store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_store_is_marked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_store_is_marked_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_version_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_record_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_refuses_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth_that_cannot_map_keeps_the_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_map_grown_by_another_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth_ahead_never_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full_grown_since_grows_no_more, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
