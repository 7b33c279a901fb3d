/*
 * fuzz_conn.c — libFuzzer target: byte streams through the daemon's own
 * connection handling (daemon/core/conn.c).
 *
 * Each input is one connection: a socketpair whose daemon end is handed to
 * conn_accept() on a private event_base, with the real writer and slow
 * threads behind it and a store in a temporary directory, so requests are
 * taken from the input (text lines, msgpack frames scanned incrementally),
 * admitted, run and answered as in the daemon. The first input byte chooses
 * how the rest is cut into chunks (one byte at a time up to all at once,
 * lengths drawn from that byte), and the loop runs between chunks, so
 * frames and lines arrive split at arbitrary points, or many pipelined in
 * one read. Then the client half-closes and the loop runs until the daemon
 * has answered everything and closed the connection; the replies are read
 * and dropped as they come, so back-pressure pauses and resumes reading.
 * A hang shows as libFuzzer's timeout.
 *
 * Small limits (1 KiB lines and frames, 4 and 8 KiB output budgets)
 * make the oversized-line, oversized-frame and back-pressure paths
 * reachable within -max_len. A user "fuzz" (supervisor: no BACKUP or USER
 * ADD) has a cheap SHA-256 crypt hash, so "AUTH fuzz fuzzpass" logs in
 * through the real AUTH without a yescrypt run; it is put back before an
 * input if an earlier one changed or deleted it. The store persists across
 * inputs (writes are real group commits).
 *
 * Build: make fuzz; run: build/fuzz_conn CORPUS_DIR (copy tests/fuzz/corpus_conn
 * to a scratch directory first).
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "conn.h"
#include "dispatch.h"
#include "daemon.h"
#include "writer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static struct event_base *base;
static char fuzz_hash[128];

static void remove_store(void)
{
	char cmd[128];
	workers_stop();
	conn_free_all();
	loop_read_close();
	store_close(&g_store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_conn: could not remove %s\n", dir);
}

static void timers_changed(void) {}

static void job_done(struct job *job)
{
	conn_job_done(job);
}

static void set(const char *key, const char *value)
{
	if (config_set(&g_config, key, value) < 0)
		abort();
}

/* Puts the user "fuzz" back as it was, if an input changed it. */
static void fuzz_user(void)
{
	MDB_txn *txn;
	struct pd_arena a;
	struct pd_value *u;
	pd_arena_init(&a);
	if (mdb_txn_begin(g_store.env, NULL, 0, &txn) != 0)
		abort();
	const char *hash = store_get(txn, g_store.users, "fuzz", 4, &a, &u) == 0
				   ? pd_map_str(u, "hash") : NULL;
	const char *role = hash ? pd_map_str(u, "role") : NULL;
	if (hash && !strcmp(hash, fuzz_hash) && role && !strcmp(role, "supervisor")) {
		mdb_txn_abort(txn);
	} else {
		u = pd_map(&a);
		pd_map_set_str(&a, u, "name", "fuzz");
		pd_map_set_str(&a, u, "role", "supervisor");
		pd_map_set_str(&a, u, "hash", fuzz_hash);
		pd_map_set_str(&a, u, "depot", "SH01");
		if (store_put(txn, g_store.users, "fuzz", 4, u, 0) != 0 || mdb_txn_commit(txn) != 0)
			abort();
	}
	pd_arena_free(&a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	/* a memory file system where there is one: a group commit's fsync
	 * would otherwise set the pace */
	snprintf(dir, sizeof(dir), "%s/pd-fuzz-conn-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	config_default(&g_config);
	set("max_line_bytes", "1024");
	set("max_frame_bytes", "1024");
	set("max_output_bytes", "8192");
	set("max_output_bytes_before_login", "4096");
	/* failed logins of one input must not lock out the next ones */
	set("login_free_failures", "1000");
	set("login_lockout_failures", "1000000");
	set("login_failure_window_secs", "1");
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	const char *h = crypt_rn("fuzzpass", "$5$rounds=1000$fuzzfuzzfuzz$", &cd, sizeof(cd));
	if (!h || h[0] == '*' || strlen(h) >= sizeof(fuzz_hash))
		abort();
	strcpy(fuzz_hash, h);
	evthread_use_pthreads();
	if (!mkdtemp(dir) || config_set(&g_config, "data_dir", dir) < 0 ||
	    config_validate(&g_config) < 0 || modules_setup(&g_config) != 0 ||
	    store_open(&g_store, dir, 64 << 20) < 0 || !(base = event_base_new()))
		abort();
	if (conn_setup(base, 1, timers_changed) < 0 || workers_start(&base, 1, job_done) < 0)
		abort();
	atexit(remove_store);
	return 0;
}

/* The client's end: replies are read and dropped; EOF once the daemon has
 * closed the connection. */
struct client {
	int fd;
	bool closed;
	struct event *ev;
};

static void on_client_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct client *cl = arg;
	char buf[16384];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		cl->closed = true;
		event_del(cl->ev); /* an EOF stays readable: it would keep the loop busy */
	}
}

/* Next chunk length: xorshift from the input's first byte. */
static size_t chunk_len(uint32_t *rnd, size_t max)
{
	*rnd ^= *rnd << 13;
	*rnd ^= *rnd >> 17;
	*rnd ^= *rnd << 5;
	return 1 + *rnd % max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t max_chunk[8] = { 1, 2, 3, 7, 16, 64, 512, 1 << 20 };
	if (size < 1)
		return 0;
	fuzz_user();
	uint32_t rnd = 0x9e3779b9u ^ data[0];
	size_t max = max_chunk[data[0] & 7];
	data++;
	size--;

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	struct client cl = { .fd = sv[0] };
	cl.ev = event_new(base, cl.fd, EV_READ | EV_PERSIST, on_client_read, &cl);
	event_add(cl.ev, NULL);
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40000) };
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conn_accept(sv[1], (struct sockaddr *)&peer, false);

	size_t off = 0;
	while (off < size && !cl.closed) {
		size_t n = chunk_len(&rnd, max);
		if (n > size - off)
			n = size - off;
		ssize_t w = send(cl.fd, data + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0)
			off += (size_t)w;
		else if (errno != EAGAIN && errno != EINTR)
			break; /* the daemon closed the connection */
		/* one pass over what is ready; a full socket waits for the
		 * daemon to read (or for our reading of its replies) */
		event_base_loop(base, w > 0 ? EVLOOP_ONCE | EVLOOP_NONBLOCK : EVLOOP_ONCE);
	}
	shutdown(cl.fd, SHUT_WR);
	/* answered and closed, and no job of it still out */
	while (!cl.closed || conn_jobs_out() > 0)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(cl.ev);
	close(cl.fd);
	return 0;
}
