/* server.c — the loops' frame: the listener, signals and the due-time
 * timer, all on loop 0 (the main thread). Connections, the request road and
 * the other loop threads are in conn.c; admission and read commands in
 * dispatch.c; writes in writer.c. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "conn.h"
#include "dispatch.h"
#include "metrics.h"
#include "repl.h"

static struct event_base *base;
static struct evconnlistener *listener;
static struct evconnlistener *admin_listener; /* the local admin socket */
static bool shutting_down;
static struct event *accept_backoff; /* listeners paused: out of descriptors */
static int reserve_fd = -1;          /* freed to turn a client away then */
static uint64_t refused_no_fd;       /* clients turned away meanwhile */
static struct event *shutdown_timer;
static struct event *due_timer;     /* fires at the earliest entry of `timers` */
static struct event *due_rearm;     /* another loop saw a due time change */
static int64_t due_timer_at;        /* the due time it is set for */
static bool sweep_out;              /* a SWEEP job is with the writer */

/* Descriptors the daemon needs besides its connections: listeners, the
 * log, LMDB, the loop's and threads' own, the reserve. */
#define FD_OVERHEAD 64

int server_fd_limit(void)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)g_config.max_connections + FD_OVERHEAD;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return 0;
	}
	fprintf(stderr, "parceldeskd: max_connections %lld needs %llu open files, but the "
		"limit is %llu (hard limit %llu): raise it (ulimit -n, systemd LimitNOFILE=) "
		"or lower max_connections\n",
		(long long)g_config.max_connections, (unsigned long long)need,
		(unsigned long long)rl.rlim_cur,
		(unsigned long long)rl.rlim_max);
	return -1;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *addr, int socklen, void *arg)
{
	(void)l; (void)socklen; (void)arg;
	if (refused_no_fd) {
		log_msg("info", 0, NULL, "descriptors free again: accepting (%llu clients "
			"were turned away meanwhile)", (unsigned long long)refused_no_fd);
		refused_no_fd = 0;
	}
	conn_accept(fd, addr, l == admin_listener);
}

static void on_accept_backoff(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (shutting_down)
		return;
	evconnlistener_enable(listener);
	if (admin_listener)
		evconnlistener_enable(admin_listener);
}

/* Out of descriptors (EMFILE, ENFILE): the waiting client would hang and
 * the listener fire again at once, for ever. Free the reserve descriptor,
 * take the client and close it with a 503, pause accepting a moment, and
 * say so once, not once per try. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)arg;
	int err = EVUTIL_SOCKET_ERROR();
	if (err != EMFILE && err != ENFILE) {
		log_msg("warn", 0, NULL, "accept: %s", strerror(err));
		return;
	}
	if (!refused_no_fd)
		log_msg("error", 0, NULL, "out of descriptors (%s): turning new clients away "
			"until connections close", strerror(err));
	refused_no_fd++;
	if (reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
	}
	int fd = accept4(evconnlistener_get_fd(l), NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		conn_refuse(fd, 503, "503 out of descriptors, try again later\r\n");
	}
	evconnlistener_disable(listener);
	if (admin_listener)
		evconnlistener_disable(admin_listener);
	struct timeval pause = { 0, 200000 };
	evtimer_add(accept_backoff, &pause);
}

/* The local admin socket: only who may open the file (mode 0600, the
 * daemon's user) can connect, and its connections are not counted against
 * any connection limit, so an administrator always gets in. */
static struct evconnlistener *admin_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	if (strlen(path) >= sizeof(sun.sun_path))
		return NULL;
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* left by a daemon that did not stop cleanly */
	mode_t old = umask(0077);
	struct evconnlistener *l = evconnlistener_new_bind(base, on_accept, NULL,
							   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
							   (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	return l;
}

/* One timer for every due time in the store: it is set to the earliest
 * entry of `timers` (an O(log n) look-up) and, when it fires, SWEEP runs in
 * the writer. Re-armed after every command that changed a due time. */
static void due_timer_arm(void)
{
	if (!due_timer || sweep_out || shutting_down)
		return;
	int64_t at = 0;
	MDB_txn *txn;
	if (loop_read_begin(&txn) == 0) {
		at = timer_next(txn, &g_store);
		loop_read_end();
	}
	event_del(due_timer);
	due_timer_at = at;
	if (!at)
		return;
	int64_t wait = at - clock_now();
	struct timeval tv = { wait > 0 ? (time_t)wait : 0, 0 };
	event_add(due_timer, &tv);
}

static void on_due_rearm(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	due_timer_arm();
}

/* A command on any loop changed a due time: the timer is loop 0's. */
static void timers_changed(void)
{
	if (g_loop == 0)
		due_timer_arm();
	else
		event_active(due_rearm, EV_READ, 0);
}

static void on_due_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	/* a standby's or replica's due records are the primary's to act on:
	 * their results arrive as change sets */
	if (sweep_out || shutting_down || !repl_writable())
		return;
	metrics_timer_fired(due_timer_at, clock_now());
	struct job *job = job_new();
	job->cmd = pd_command_by_id(PD_CMD_sweep);
	job->args = pd_map(&job->arena);
	job->framing = PD_FRAMING_MSGPACK;
	job->sess.role = ROLE_ADMIN;
	snprintf(job->sess.user, sizeof(job->sess.user), "parceldeskd");
	job->now = clock_now();
	sweep_out = true;
	writer_submit(job);
}

/* Every finished job: a connection's goes back to it; the daemon's own
 * SWEEP has nobody to answer. */
static void job_done(struct job *job)
{
	if (job->conn) {
		conn_job_done(job);
		return;
	}
	sweep_out = false;
	if (job->rep.code >= 300)
		log_msg("error", 0, "parceldeskd", "sweep failed: %d %s", job->rep.code, job->rep.msg);
	job_free(job);
	due_timer_arm();
}

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (conn_jobs_out() > 0 || sweep_out)
		return; /* in-flight writes are finished and answered first */
	struct timeval grace = { 0, 200000 };
	conn_loops_exit(&grace);
	event_base_loopexit(base, &grace);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what; (void)arg;
	if (shutting_down)
		return;
	log_msg("info", 0, NULL, "signal %d: stopping (finishing %lu in-flight jobs)",
		(int)sig, conn_jobs_out() + (sweep_out ? 1 : 0));
	shutting_down = true;
	service_notify("STOPPING=1");
	workers_stop_soon();
	repl_stop_soon();
	event_del(due_timer);
	evconnlistener_disable(listener);
	if (admin_listener)
		evconnlistener_disable(admin_listener);
	conn_stop_reading();
	struct timeval tick = { 0, 10000 };
	shutdown_timer = event_new(base, -1, EV_PERSIST, on_shutdown_tick, NULL);
	event_add(shutdown_timer, &tick);
}

static void on_hangup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig; (void)what; (void)arg;
	log_reopen();
}

/* loop_threads 0: one per CPU this process may run on, at most 8 (a loop
 * per core is what reads can use). Its affinity, not the machine's CPUs: a
 * daemon under taskset or in a cpuset gets as many loops as it has cores,
 * not loops that only take turns on them. (One loop fewer than cores was
 * measured on 2 CPUs and not taken: docs/performance.md, round 5.) */
static unsigned loop_count(void)
{
	if (g_config.loop_threads > 0)
		return (unsigned)g_config.loop_threads;
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
								 : sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 1 ? 1 : cpus > 8 ? 8 : (unsigned)cpus;
}

int server_run(void)
{
	evthread_use_pthreads();
	base = event_base_new();
	if (!base)
		return 1;
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	if (evutil_parse_sockaddr_port(g_config.listen, (struct sockaddr *)&ss, &sslen) < 0) {
		log_msg("error", 0, NULL, "bad listen address %s", g_config.listen);
		return 1;
	}
	listener = evconnlistener_new_bind(base, on_accept, NULL,
					   LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024,
					   (struct sockaddr *)&ss, sslen);
	if (!listener) {
		log_msg("error", 0, NULL, "cannot listen on %s: %s", g_config.listen,
			strerror(errno));
		return 1;
	}
	if (g_config.admin_socket[0]) {
		admin_listener = admin_listen(g_config.admin_socket);
		if (!admin_listener) {
			log_msg("error", 0, NULL, "cannot listen on %s: %s", g_config.admin_socket,
				strerror(errno));
			evconnlistener_free(listener);
			return 1;
		}
	}
	if (metrics_start(base, g_config.metrics_listen) < 0) {
		evconnlistener_free(listener);
		if (admin_listener)
			evconnlistener_free(admin_listener);
		return 1;
	}
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	accept_backoff = evtimer_new(base, on_accept_backoff, NULL);
	evconnlistener_set_error_cb(listener, on_accept_error);
	if (admin_listener)
		evconnlistener_set_error_cb(admin_listener, on_accept_error);
	struct event_base *bases[LOOPS_MAX];
	if (conn_setup(base, loop_count(), timers_changed) < 0) {
		log_msg("error", 0, NULL, "cannot set up the loop threads");
		return 1;
	}
	conn_bases(bases);
	due_timer = evtimer_new(base, on_due_timer, NULL);
	due_rearm = event_new(base, -1, 0, on_due_rearm, NULL);
	if (workers_start(bases, g_loops, job_done) < 0 ||
	    repl_start(base, writer_release, due_timer_arm) < 0) {
		log_msg("error", 0, NULL, "cannot start the writer");
		return 1;
	}
	if (conn_loops_start() < 0) {
		log_msg("error", 0, NULL, "cannot start the loop threads");
		return 1;
	}
	due_timer_arm();
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, NULL);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	struct event *sighup = evsignal_new(base, SIGHUP, on_hangup, NULL);
	event_add(sighup, NULL);
	log_msg("info", 0, NULL, "listening on %s%s%s, data in %s, %u loop thread%s",
		g_config.listen, admin_listener ? ", admin socket " : "", g_config.admin_socket,
		g_config.data_dir, g_loops, g_loops == 1 ? "" : "s");
	service_notify("READY=1");

	event_base_dispatch(base);
	conn_loops_join();

	metrics_stop();
	workers_stop();
	repl_stop();
	conn_free_all();
	loop_read_close();
	evconnlistener_free(listener);
	if (admin_listener) {
		evconnlistener_free(admin_listener);
		unlink(g_config.admin_socket);
	}
	event_free(accept_backoff);
	if (reserve_fd >= 0)
		close(reserve_fd);
	event_free(sigterm);
	event_free(sigint);
	event_free(sighup);
	if (shutdown_timer)
		event_free(shutdown_timer);
	event_free(due_timer);
	event_free(due_rearm);
	event_base_free(base);
	log_msg("info", 0, NULL, "stopped");
	return 0;
}
