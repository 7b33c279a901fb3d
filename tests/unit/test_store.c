/*
 * Unit tests for daemon/core/store.c's schema version: a new store is
 * marked with this build's version, an older one this build reads is
 * marked again when it opens (so a build older than the mark refuses it
 * rather than misread what this one writes), and a version this build
 * does not read is refused. Runs against a real LMDB store in a
 * temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_store_is_marked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_store_is_marked_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_version_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
