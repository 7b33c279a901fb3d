/* main.c — parceldeskd: options, store, first admin, then the loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "repl.h"
#include "server.h"
#include "tls.h"
#include "version.h"
#include "wal.h"
#include "writer.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: parceldeskd [--listen HOST:PORT] [--data-dir DIR] [--config FILE]\n"
		"                   [--admin-password-file FILE] [--timezone ZONE]\n"
		"                   [--enable-test-clock] [--log-syslog] [--OPTION VALUE ...]\n"
		"       parceldeskd --version\n"
		"Every option of the config file can be given as --option-name VALUE.\n"
		"See parceldeskd(8) and contrib/parceldeskd.conf.\n");
}

/* --foo-bar -> foo_bar */
static void option_key(const char *arg, char *key, size_t cap)
{
	snprintf(key, cap, "%s", arg + 2);
	for (char *p = key; *p; p++)
		if (*p == '-')
			*p = '_';
}

static int parse_args(int argc, char **argv)
{
	/* the config file first, so the command line overrides it */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc) {
				usage(stderr);
				return -1;
			}
			if (config_load_file(&g_config, argv[i + 1]) < 0)
				return -1;
		}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char key[64];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "--version")) {
			printf("parceldeskd %s\n", pd_version());
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "parceldeskd: unexpected argument '%s'\n", a);
			usage(stderr);
			return -1;
		}
		if (!strcmp(a, "--config")) {
			i++;
			continue;
		}
		option_key(a, key, sizeof(key));
		if (!strcmp(key, "enable_test_clock") || !strcmp(key, "log_syslog") ||
		    !strcmp(key, "tls_required")) {
			if (config_set(&g_config, key, "yes") < 0)
				return -1;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "parceldeskd: %s needs a value\n", a);
			return -1;
		}
		if (config_set(&g_config, key, argv[++i]) < 0)
			return -1;
	}
	return 0;
}

static int set_timezone(const char *zone)
{
	char path[256];
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	if (strstr(zone, "..") || access(path, R_OK) != 0) {
		fprintf(stderr, "parceldeskd: unknown time zone '%s' (no %s)\n", zone, path);
		return -1;
	}
	setenv("TZ", zone, 1);
	tzset();
	return 0;
}

/* Tests only (with --enable-test-clock): every durable change set is
 * appended to the file named by PARCELDESK_TEST_CHANGESETS, each as a
 * be32 length and its bytes, so a test can apply them to a copy of the
 * store and compare (tests/e2e/test_changeset.py). */
static FILE *test_changesets;

static bool test_changeset_durable(uint64_t seq, const void *blob, size_t len, void *group)
{
	(void)seq; (void)group;
	unsigned char n[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
			       (unsigned char)(len >> 8), (unsigned char)len };
	if (fwrite(n, 4, 1, test_changesets) != 1 || fwrite(blob, len, 1, test_changesets) != 1 ||
	    fflush(test_changesets) != 0)
		log_msg("error", 0, NULL, "PARCELDESK_TEST_CHANGESETS: %s", strerror(errno));
	return false;
}

static int test_hooks_setup(void)
{
	static const struct writer_hooks hooks = { .durable = test_changeset_durable };
	const char *path = getenv("PARCELDESK_TEST_CHANGESETS");
	if (!path || !g_config.enable_test_clock)
		return 0;
	if (!(test_changesets = fopen(path, "ab"))) {
		fprintf(stderr, "parceldeskd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	writer_set_hooks(&hooks);
	return 0;
}

/* A test knob of milliseconds, 0..60000, read from the environment only
 * with --enable-test-clock; -1 when not set (or not valid: warned). */
static int test_knob_ms(const char *name)
{
	const char *val = g_config.enable_test_clock ? getenv(name) : NULL;
	if (!val)
		return -1;
	char *end;
	long ms = strtol(val, &end, 10);
	if (!*val || *end || ms < 0 || ms > 60000) {
		log_msg("warn", 0, NULL, "%s is not 0..60000: %.40s", name, val);
		return -1;
	}
	return (int)ms;
}

/* How often the runway looks at the store: -1, the default, but for a test
 * that races that look against the map's growth (tests/e2e/test_prefault.py):
 * PARCELDESK_TEST_RUNWAY_POLL_MS. */
static int test_runway_poll_ms(void)
{
	return test_knob_ms("PARCELDESK_TEST_RUNWAY_POLL_MS");
}

/* After an unclean stop, how long the log's replay waits at most for the
 * prefault's first pass (see main()). */
#define REPLAY_WAIT_MS 5000

int main(int argc, char **argv)
{
	config_default(&g_config);
	if (parse_args(argc, argv) < 0 || config_validate(&g_config) < 0)
		return 2;
	if (set_timezone(g_config.timezone) < 0)
		return 2;
	int rc = modules_setup(&g_config);
	if (rc)
		return rc;
	if (server_fd_limit() < 0 || tls_setup() < 0 || repl_setup() < 0 || test_hooks_setup() < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	/* past a file size limit a write fails with EFBIG (answered, like a
	 * full disk) instead of killing the daemon */
	signal(SIGXFSZ, SIG_IGN);
	if (log_open(&g_config) < 0)
		return 2;
	log_msg("info", 0, NULL, "parceldeskd %s starting, pid %d", pd_version(), (int)getpid());
	g_stats.started_at = (int64_t)time(NULL); /* real time: uptime ignores CLOCK SET */

	if (store_lock_dir(g_config.data_dir) < 0)
		return 1;
	backup_remove_partial(g_config.data_dir);
	MDB_txn *pin;
	int unclean = wal_restore(g_config.data_dir);
	if (unclean < 0)
		return 1;
	/* the prefault then reads the store in single pages (store.c) */
	bool dropped = g_config.store_prefault && store_drop_cached(g_config.data_dir);
	if (store_open_env(&g_store, g_config.data_dir, (size_t)g_config.map_size_mb << 20,
			   g_config.wal ? MDB_NOSYNC : 0, &pin, dropped) < 0)
		return 1;
	/* reads then take no page fault on the first touch of each page. After
	 * a drop the map's faults read a page each until the pass has read the
	 * store in (store_open_env): after an unclean stop the log's replay,
	 * which touches pages all over the store, waits for that read (1 MiB a
	 * pread: 745 MiB in 0.95 s here, where the replay's faults, a page
	 * each, made the restart take 2.7-3.6 s), but at most REPLAY_WAIT_MS:
	 * on a busy machine the whole read took 84-215 s, and the daemon
	 * listens only after the replay (docs/performance.md, "Round 17") */
	bool wait = dropped && unclean; /* dropped: only with store_prefault */
	/* tests: PARCELDESK_TEST_PREFAULT_READ_DELAY_MS, a slow disk made
	 * deterministic (tests/e2e/test_prefault.py) */
	if (g_config.store_prefault &&
	    store_prefault_start(&g_store, dropped, wait, test_runway_poll_ms(),
				 test_knob_ms("PARCELDESK_TEST_PREFAULT_READ_DELAY_MS")) < 0)
		log_msg("warn", 0, NULL, "cannot start the thread mapping the store ahead of reads");
	else if (wait && !store_prefault_wait(&g_store, REPLAY_WAIT_MS))
		log_msg("warn", 0, NULL, "the store is not read in after %d s: the write-ahead log's replay goes on, "
			"its page faults reading a page each", REPLAY_WAIT_MS / 1000);
	/* the log's sets first (repl_open reads the state they leave), then
	 * the start-up steps, then a checkpoint makes all of it durable before
	 * anything is logged again, answered or published */
	if (wal_open(g_config.data_dir, g_config.wal, g_config.wal_checkpoint_secs, g_config.wal_checkpoint_mb,
		     repl_restage, pin) < 0 ||
	    modules_open(&g_store, &g_config) < 0 || repl_open() < 0 || wal_checkpoint() != 0) {
		wal_close();
		store_close(&g_store);
		return 1;
	}
	if (repl_enabled())
		writer_set_hooks(repl_hooks()); /* PARCELDESK_TEST_CHANGESETS is not for a replica set */
	/* after the hooks: a primary's first admin travels as change set 1
	 * (logged like a group); without replication it is a start-up commit,
	 * synced by a checkpoint like the others */
	if (auth_bootstrap_admin(&g_store, &g_config, repl_writable() ? NULL : g_config.role,
				 repl_enabled() ? writer_commit_captured : NULL) < 0 ||
	    wal_checkpoint() != 0) {
		wal_close();
		store_close(&g_store);
		return 1;
	}
	/* a test holds a hash or a long read under way (tests/e2e/test_hardening.py) */
	workers_test_delays(test_knob_ms("PARCELDESK_TEST_HASH_DELAY_MS"),
			    test_knob_ms("PARCELDESK_TEST_BULK_DELAY_MS"));
	rc = server_run();
	wal_close();
	store_close(&g_store);
	if (rc == 0 && g_config.store_prefault)
		store_mark_cached(g_config.data_dir);
	tls_teardown();
	return rc;
}
