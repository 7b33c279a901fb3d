/*
 * Unit tests for daemon/core/store.c's reads of the map under the resize
 * lock. store_size_now(): the store's size
 * comes from LMDB's meta pages, which lie in the map, and a growth
 * (store_grow(): mdb_env_set_mapsize) unmaps the map and maps it anew. A
 * thread that read the size without the resize lock while the writer grew
 * the map killed the daemon (round 16: the runway and the metrics page,
 * SIGSEGV in mdb_env_info). Here a thread reads the size without pause
 * while the map grows 16 times from 1 MiB; read unlocked, this crashed in
 * 10 of 10 runs, in under a second. store_write_begin(): LMDB reads the
 * meta pages before a write transaction counts as live (only a live one
 * makes a growth wait), and more than one thread writes (the writer,
 * replication's applying).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"

#define GROWTHS 16

static atomic_bool done;
static atomic_ulong looks;
static atomic_bool sane = true;

static void *look(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		size_t map, used = store_size_now(&g_store, &map);
		if (!used || used > map)
			atomic_store(&sane, false);
		atomic_fetch_add(&looks, 1);
	}
	return NULL;
}

static void *write_begins(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		MDB_txn *txn;
		if (store_write_begin(&g_store, &txn, NULL) == 0)
			mdb_txn_abort(txn);
		else
			atomic_store(&sane, false);
		atomic_fetch_add(&looks, 1);
	}
	return NULL;
}

/* Opens a store with a 1 MiB map, runs fn on a thread of its own and grows
 * the map GROWTHS times meanwhile, each after the thread went round 100
 * times; then checks what the thread saw and the map's size. */
static void grow_under(void *(*fn)(void *))
{
	char dir[] = "/tmp/pd_test_store_size.XXXXXX";
	assert_non_null(mkdtemp(dir));
	config_default(&g_config);
	assert_int_equal(store_open(&g_store, dir, (size_t)1 << 20), 0);
	atomic_store(&done, false);
	atomic_store(&looks, 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, fn, NULL), 0);
	for (int i = 0; i < GROWTHS; i++) {
		unsigned long seen = atomic_load(&looks);
		while (atomic_load(&looks) < seen + 100)
			;
		int rc;
		/* EINVAL: the other thread's write transaction was live
		 * (nothing changed); LMDB grows a map only between them */
		while ((rc = store_grow(&g_store, g_store.map_size)) == EINVAL)
			;
		assert_int_equal(rc, 0);
	}
	atomic_store(&done, true);
	pthread_join(t, NULL);
	assert_true(atomic_load(&sane));
	size_t map;
	store_size_now(&g_store, &map);
	assert_int_equal(map, (size_t)1 << (20 + GROWTHS));
	store_close(&g_store);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_size_read_while_the_map_grows(void **state)
{
	(void)state;
	grow_under(look);
}

static void test_write_begins_while_another_thread_grows(void **state)
{
	(void)state;
	grow_under(write_begins);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_read_while_the_map_grows),
		cmocka_unit_test(test_write_begins_while_another_thread_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
