/* server.c — the loop's frame: the listener, signals and the due-time
 * timer. Connections and the request road are in conn.c; admission and
 * read commands in dispatch.c; writes in writer.c. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "conn.h"
#include "dispatch.h"

static struct event_base *base;
static struct evconnlistener *listener;
static bool shutting_down;
static struct event *shutdown_timer;
static struct event *due_timer;     /* fires at the earliest entry of `timers` */
static bool sweep_out;              /* a SWEEP job is with the writer */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *addr, int socklen, void *arg)
{
	(void)l; (void)socklen; (void)arg;
	conn_accept(fd, addr);
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
	if (!at)
		return;
	int64_t wait = at - clock_now();
	struct timeval tv = { wait > 0 ? (time_t)wait : 0, 0 };
	event_add(due_timer, &tv);
}

static void on_due_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (sweep_out || shutting_down)
		return;
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
	if (job->code >= 300)
		log_msg("error", 0, "parceldeskd", "sweep failed: %.*s", (int)job->out.len, job->out.data);
	job_free(job);
	due_timer_arm();
}

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (conn_jobs_out() > 0 || sweep_out)
		return; /* in-flight writes are finished and answered first */
	struct timeval grace = { 0, 200000 };
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
	event_del(due_timer);
	evconnlistener_disable(listener);
	conn_stop_reading();
	struct timeval tick = { 0, 10000 };
	shutdown_timer = event_new(base, -1, EV_PERSIST, on_shutdown_tick, NULL);
	event_add(shutdown_timer, &tick);
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
					   LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 1024,
					   (struct sockaddr *)&ss, sslen);
	if (!listener) {
		log_msg("error", 0, NULL, "cannot listen on %s: %s", g_config.listen,
			strerror(errno));
		return 1;
	}
	conn_setup(base, due_timer_arm);
	if (workers_start(base, job_done) < 0) {
		log_msg("error", 0, NULL, "cannot start the writer");
		return 1;
	}
	due_timer = evtimer_new(base, on_due_timer, NULL);
	due_timer_arm();
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, NULL);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	log_msg("info", 0, NULL, "listening on %s, data in %s", g_config.listen,
		g_config.data_dir);

	event_base_dispatch(base);

	workers_stop();
	conn_free_all();
	loop_read_close();
	evconnlistener_free(listener);
	event_free(sigterm);
	event_free(sigint);
	if (shutdown_timer)
		event_free(shutdown_timer);
	event_free(due_timer);
	event_base_free(base);
	log_msg("info", 0, NULL, "stopped");
	return 0;
}
