/* conn.c — one connection: its lifecycle, framing, back-pressure and its
 * place on the request road.
 *
 * The road of a request: bytes in -> one request taken from the input (a
 * text line or a msgpack array, chosen by its first byte) and parsed once
 * into c->pending -> dispatch_admit() (command, session, role, arguments)
 * -> a read runs here in the loop's read snapshot; a write becomes a job
 * for the writer (the writes of one turn handed over together, at its
 * end), a slow command a job for the hashing thread (AUTH) or the bulk
 * thread (BACKUP, reports) -> the
 * reply is queued on the output.
 *
 * Order: replies go out in request order. A reply made in the loop (a
 * read, a refusal) waits until every job of its connection is back. A write
 * may follow writes already with the writer (it applies them in order, so a
 * read pipelined after a write sees the write), but never a slow job, whose
 * effect on the session (a login) the next request must see. A request that
 * waits stays parsed in c->pending, and nothing more is read meanwhile. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "dispatch.h"
#include "logins.h"
#include "metrics.h"
#include "repl.h"
#include "tls.h"

/* Writes one connection may have with the writer at once. */
#define MAX_WRITES_OUT_PER_CONN 256
/* Requests one connection may run per event before the loop serves the
 * others (memcached's reqs_per_event): a client pipelining thousands of
 * cheap requests does not hold up everyone else's. */
#define REQS_PER_EVENT 32

/* One request taken from the input, parsed and waiting its turn. */
struct pending {
	enum { PENDING_NONE, PENDING_PARSED, PENDING_REFUSED, PENDING_ADMITTED } state;
	enum pd_framing framing;
	bool counts;           /* a request in STATS (not a framing error) */
	bool close_after;      /* the framing is lost: close after the reply */
	uint64_t t0_us;        /* when it was taken from the input (metrics) */
	int64_t seq_wait_ms;   /* a min_seq= read or PROMOTE waits until then (0: not yet) */
	struct pd_request req; /* PARSED: not admitted yet */
	struct admission adm;  /* ADMITTED: cmd and args; REFUSED: code, msg */
};

struct conn {
	uint64_t id;
	struct event *sniff;       /* waits for the first byte: TLS or not */
	evutil_socket_t fd;        /* -1 once closed */
	bool tls;
	/* The socket (see "The socket" below). in and out are NULL until the
	 * first byte chose TLS or not; under TLS they are the bufferevent's. */
	struct evbuffer *in, *out;
	struct bufferevent *bev;   /* TLS only */
	struct event *rd, *wr;     /* in clear: readable (armed while reading), writable */
	bool reading;              /* reading is on */
	bool read_off;             /* no more reading: a deadline was missed */
	struct timeval write_cut;  /* in clear: how long a reply may wait for the client */
	struct event *resume;   /* runs the rest of the input after a yield */
	struct session sess;
	unsigned jobs_out;      /* jobs with the writer or a slow thread */
	size_t job_bytes;       /* what those jobs hold (requests and replies) */
	bool slow_out;          /* one of them is a slow job (AUTH, BACKUP) */
	bool closing;           /* close once the output is flushed */
	bool replied;           /* a reply was queued: a close lingers for it */
	bool cut;               /* ended mid-stream (a 408, a lost framing): the
				 * client may still be sending */
	bool lingering;         /* closed but for reading what still comes */
	size_t linger_left;     /* bytes it may still discard */
	bool dead;              /* socket gone while a job is out: free on return */
	bool skipping_line;     /* discarding an oversized text line up to its LF */
	bool read_paused;       /* back-pressure: too many unsent replies */
	bool peer_done;         /* the client half-closed: answer what it sent, then close */
	bool local_admin;       /* came in on the admin socket: no limits */
	size_t line_scanned;    /* bytes of the input known to hold no LF */
	struct pd_mp_scan frame; /* how much of a msgpack frame has come */
	struct event *deadline; /* the login and request deadlines */
	int64_t accepted_ms;    /* monotonic */
	int64_t request_ms;     /* a request began arriving; 0 when none is partial */
	unsigned char addr[16]; /* the peer's address, for the per-address limit */
	int family;
	struct pending pending;
	char peer[64];
	struct pd_arena arena;  /* the pending request; reset after each */
	struct loop *loop;      /* the loop thread that serves it, for its life */
	bool addr_counted;      /* counted in its address's connections */
	bool flush_queued;      /* on its loop's flush list */
	struct conn *flush_next;
	struct conn *prev, *next;
};

/* ---- Loop threads ----
 * Each loop thread runs its own event base and serves its own connections
 * from accept to close: their events, reads (in its own read transaction,
 * dispatch.c), replies, and the jobs they hand the writer come back to it
 * (writer.c, job->loop). Loop 0 runs on the main thread; it alone listens,
 * checks the connection limits (so they hold exactly, whichever loop a
 * connection lands on) and hands each accepted socket to the loop with the
 * fewest connections. The due timer, signals, the metrics page and
 * replication's events stay on loop 0. What loops share: the counts below
 * (atomic, or under addr_lock), the failed-login table (logins.c, locked),
 * the users generation (dispatch.c, atomic); each counts its own
 * statistics (daemon.h, struct loop_stats). */

struct loop {
	unsigned idx;
	struct event_base *base;
	pthread_t thread;
	struct conn *conns;            /* its connections; its thread only */
	_Atomic unsigned long jobs_out; /* its connections' jobs out */
	_Atomic unsigned long n_conns; /* its connections, for the choice at accept */
	bool stopping;                 /* its thread's copy of the stop */
	_Atomic bool stop_asked;       /* set by loop 0, seen by on_inbox() */
	struct event *trim_timer;      /* gives freed buffers back to the system */
	int64_t trim_by;               /* mono ms: the pending trim runs by then */
	struct event *inbox_ev;        /* sockets handed over, or the stop */
	pthread_mutex_t inbox_lock;
	struct conn *inbox, *inbox_tail; /* linked by next */
	struct pd_buf out;             /* conn_reply()'s rendering, reused */
	struct conn *staging;          /* whose burst stage renders into (in clear) */
	struct pd_buf stage;           /* on room reserved in its output, */
	struct evbuffer_iovec room;    /* that room (stage_room()) */
	struct event *flush_ev;        /* writes the turn's replies (on_flush()) */
	struct conn *flush;            /* connections with replies to write this turn, */
	struct conn **flush_tail;      /* in the order they were served */
	struct job_batch writes;       /* process_input()'s writes, queued at its end */
};

static struct loop loops[LOOPS_MAX];
static unsigned n_loops;
static unsigned next_loop;          /* round robin among the least loaded */
static void (*on_timers_changed)(void);
static uint64_t next_conn_id = 1;   /* loop 0's */

static void process_input(struct conn *c);
static void on_readable(evutil_socket_t fd, short what, void *arg);
static void output_drained(struct conn *c);
static void out_queue(struct conn *c);

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#ifdef __GLIBC__
/* Above this much free memory at its top, an arena gives the rest back on
 * a free (conn_setup() says why this high). */
#define TRIM_THRESHOLD (16 << 20)
#endif

void conn_heap_setup(void)
{
#ifdef __GLIBC__
	/* Fixed thresholds: buffers this large are mapped and unmapped on
	 * free (glibc's default threshold rises after such a free, after which
	 * big reply buffers stay in the heap for the process's life), and what
	 * is freed stays for reuse until conn_heap_trim(). Not lower: every
	 * write's nested LMDB transaction allocates 3 MiB (its dirty list and
	 * free list) and frees them at its end; mapped, unmapped and faulted
	 * in again for each write, that was a quarter of the writer's CPU
	 * (docs/performance.md). */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
#endif
}

void conn_heap_trim(void)
{
#ifdef __GLIBC__
	/* malloc_trim() gives back the free pages inside every arena and the
	 * free top of the main one (loop 0's), but not the free top of a
	 * thread's arena (loops 1..n), where a loop's freed buffers gather when
	 * nothing newer lies above them: glibc gives that back only on a free
	 * of 64 KiB or more while the top is over the trim threshold. So the
	 * loop frees such a block under a threshold of 0, then restores it, one
	 * loop at a time: the threshold is the process's. (A writer's free
	 * meanwhile may give its lists back too: faulted in again once. A
	 * glibc whose tcache_max tunable holds 128 KiB would cache the block
	 * and trim nothing: tests/unit/test_heap_trim.c would say so.) */
	static pthread_mutex_t trim_lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&trim_lock);
	mallopt(M_TRIM_THRESHOLD, 0);
	void *volatile block = malloc(128 << 10); /* volatile: kept by the compiler */
	free(block);
	mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
	pthread_mutex_unlock(&trim_lock);
	malloc_trim(0);
#endif
}

static void on_trim(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	conn_heap_trim();
	stat_inc(LOOP_STAT(heap_trims));
}

static void on_inbox(evutil_socket_t fd, short what, void *arg);
static void on_flush(evutil_socket_t fd, short what, void *arg);

int conn_setup(struct event_base *b, unsigned n, void (*timers_changed)(void))
{
	on_timers_changed = timers_changed;
	n_loops = n < 1 ? 1 : n > LOOPS_MAX ? LOOPS_MAX : n;
	g_loops = n_loops;
	for (unsigned i = 0; i < n_loops; i++) {
		struct loop *l = &loops[i];
		l->idx = i;
		l->base = i ? event_base_new() : b;
		if (!l->base)
			return -1;
		pthread_mutex_init(&l->inbox_lock, NULL);
		l->trim_timer = evtimer_new(l->base, on_trim, NULL);
		l->inbox_ev = event_new(l->base, -1, 0, on_inbox, l);
		l->flush_ev = event_new(l->base, -1, 0, on_flush, l);
		if (!l->trim_timer || !l->inbox_ev || !l->flush_ev)
			return -1;
	}
	conn_heap_setup();
	return 0;
}

void conn_bases(struct event_base **out)
{
	for (unsigned i = 0; i < n_loops; i++)
		out[i] = loops[i].base;
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	g_loop = l->idx;
	char name[16]; /* seen in top -H, perf and /proc: which loop is busy */
	snprintf(name, sizeof(name), "pd-loop%u", l->idx);
	pthread_setname_np(pthread_self(), name);
	/* its events come and go with its connections */
	event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY);
	loop_read_close(); /* this thread's read transaction */
	return NULL;
}

int conn_loops_start(void)
{
	for (unsigned i = 1; i < n_loops; i++)
		if (pthread_create(&loops[i].thread, NULL, loop_main, &loops[i]))
			return -1;
	return 0;
}

void conn_loops_exit(const struct timeval *grace)
{
	for (unsigned i = 1; i < n_loops; i++)
		event_base_loopexit(loops[i].base, grace);
}

void conn_loops_join(void)
{
	for (unsigned i = 1; i < n_loops; i++)
		if (loops[i].thread) {
			pthread_join(loops[i].thread, NULL);
			loops[i].thread = 0;
		}
}

unsigned long conn_jobs_out(void)
{
	unsigned long n = 0;
	for (unsigned i = 0; i < n_loops; i++)
		n += atomic_load(&loops[i].jobs_out);
	return n;
}

/* ---- The socket ----
 * In clear the connection does its own socket calls, the fewest a request
 * can take (docs/performance.md, round 3): one read() of up to READ_CHUNK
 * bytes when the socket is readable (no FIONREAD first), and the replies of
 * a burst of requests written at once, straight from process_input(); the
 * write event is armed only when the socket would not take them all. Under
 * TLS the OpenSSL bufferevent reads and writes; both feed the same in and
 * out buffers and the same handlers below. */

/* Bytes one read() may take. */
#define READ_CHUNK 16384

/* The input the daemon holds before it stops reading a connection: one
 * request of either framing at its largest, and some. */
static size_t input_high(void)
{
	return (size_t)(g_config.max_frame_bytes + g_config.max_line_bytes + 4096);
}

/* Nothing read for this long (or nothing written while replies wait)
 * closes a connection. */
static struct timeval idle_time(void)
{
	struct timeval idle = { (time_t)g_config.idle_timeout_secs, 0 };
	return idle;
}

/* Reading is on unless replies are waiting for the client (back-pressure),
 * the client half-closed, a deadline was missed or the daemon stops; in
 * clear also while the input is full (a request waits for its turn). */
static void reading_update(struct conn *c)
{
	if (!c->in)
		return;
	bool want = !c->read_paused && !c->peer_done && !c->read_off && !c->loop->stopping;
	if (!c->bev && evbuffer_get_length(c->in) >= input_high())
		want = false;
	if (want == c->reading)
		return;
	c->reading = want;
	if (c->bev) {
		if (want)
			bufferevent_enable(c->bev, EV_READ);
		else
			bufferevent_disable(c->bev, EV_READ);
	} else if (want) {
		struct timeval idle = idle_time();
		event_add(c->rd, &idle);
	} else {
		event_del(c->rd);
	}
}

/* The idle clock starts again from now: a job's reply was just made, and
 * the client's next request may take the whole idle time to come (a slow
 * login is no reason to close the connection a moment after it). */
static void idle_restart(struct conn *c)
{
	if (!c->reading)
		return;
	if (c->bev) {
		bufferevent_enable(c->bev, EV_READ); /* re-armed with its timeout */
	} else {
		struct timeval idle = idle_time();
		event_add(c->rd, &idle);
	}
}

/* How long unsent replies may wait for a client that does not read them. */
static void write_cut(struct conn *c, time_t secs)
{
	struct timeval cut = { secs, 0 };
	if (c->bev) {
		bufferevent_set_timeouts(c->bev, NULL, &cut);
		return;
	}
	c->write_cut = cut;
	if (event_pending(c->wr, EV_WRITE, NULL))
		event_add(c->wr, &c->write_cut);
}

/* Sends the output: in clear written now, as far as the socket takes it,
 * and the write event armed for the rest (when it is armed the socket was
 * full: it waits for that event). Under TLS the bufferevent sends it.
 * Returns -1 when the client is gone (errno says why). */
static int flush_out(struct conn *c)
{
	if (c->bev || !c->out || evbuffer_get_length(c->out) == 0 ||
	    event_pending(c->wr, EV_WRITE, NULL))
		return 0;
	if (evbuffer_write(c->out, c->fd) < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	if (evbuffer_get_length(c->out) > 0)
		event_add(c->wr, &c->write_cut);
	return 0;
}

/* Takes a connection whose socket goes off its loop's flush list. */
static void flush_unqueue(struct conn *c)
{
	if (!c->flush_queued)
		return;
	struct loop *l = c->loop;
	for (struct conn **p = &l->flush; *p; p = &(*p)->flush_next)
		if (*p == c) {
			*p = c->flush_next;
			if (l->flush_tail == &c->flush_next)
				l->flush_tail = p;
			break;
		}
	c->flush_queued = false;
	c->flush_next = NULL;
}

/* Frees what a socket in clear writes and buffers with (not its read
 * event or the socket: a lingering connection keeps those). */
static void io_buffers_free(struct conn *c)
{
	flush_unqueue(c);
	if (c->wr)
		event_free(c->wr);
	if (c->in)
		evbuffer_free(c->in);
	if (c->out)
		evbuffer_free(c->out);
	c->wr = NULL;
	c->in = c->out = NULL;
}

/* Closes the socket and frees its buffers and events. */
static void io_free(struct conn *c)
{
	flush_unqueue(c);
	if (c->bev) {
		bufferevent_free(c->bev); /* closes the socket */
	} else {
		if (c->rd)
			event_free(c->rd);
		io_buffers_free(c);
		if (c->fd >= 0)
			evutil_closesocket(c->fd);
	}
	c->bev = NULL;
	c->rd = c->wr = NULL;
	c->in = c->out = NULL;
	c->fd = -1;
	c->reading = false;
}

/* Frees a connection's socket, events and memory. */
static void release(struct conn *c)
{
	io_free(c);
	if (c->sniff)
		event_free(c->sniff);
	if (c->resume)
		event_free(c->resume);
	if (c->deadline)
		event_free(c->deadline);
	pd_arena_free(&c->arena);
	free(c);
}

static void addr_release(struct conn *c);

static void conn_free(struct conn *c)
{
	struct loop *l = c->loop;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	addr_release(c);
	release(c);
	atomic_fetch_sub(&l->n_conns, 1);
	atomic_fetch_sub(&g_stats.connections_current, 1);
	/* what a connection held goes back to the system a second after the
	 * loop's last close: a loop that keeps closing reuses it, and a trim
	 * would only be faulted in again (26-40 ms for a 12 MiB arena top on
	 * this VM); but no later than 10 s after the first close since the
	 * last trim, so that a trickle of closes does not keep a burst's
	 * memory for good */
	if (l->trim_timer) {
		int64_t now = mono_ms();
		if (!evtimer_pending(l->trim_timer, NULL))
			l->trim_by = now + 10000;
		if (now + 1000 <= l->trim_by) {
			struct timeval later = { 1, 0 };
			evtimer_add(l->trim_timer, &later);
		}
	}
}

/* A burst's replies (process_input() of a connection in clear) are
 * rendered straight into room reserved at the end of its output, and
 * committed together: one evbuffer chain for the burst and no copy of a
 * reply, where rendering each into the loop's buffer and adding it copied
 * it and took a chain for every two replies or so (libevent's chains grow
 * to 4 KiB at most; docs/performance.md, round 8). The room asked for at
 * a time (libevent gives the whole chain it makes: about twice this), and
 * what must be left of it for the next reply to start there. */
#define STAGE_ROOM 16384
#define STAGE_LOW 4096

/* Commits what the loop's burst rendered for c. A reply that outgrew the
 * room took the bytes to the heap (pd_buf_reserve): they are added. */
static void stage_commit(struct loop *l, struct conn *c)
{
	struct pd_buf *st = &l->stage;
	if (st->borrowed) {
		l->room.iov_len = st->len;
		evbuffer_commit_space(c->out, &l->room, 1);
	} else if (st->len) {
		evbuffer_add(c->out, st->data, st->len);
	}
	pd_buf_free(st);
}

/* Room for the next reply of c's burst: what is left of the reserved room,
 * or fresh room (or none: pd_buf then renders on the heap). */
static void stage_room(struct loop *l, struct conn *c)
{
	struct pd_buf *st = &l->stage;
	if (st->borrowed && st->cap - st->len >= STAGE_LOW)
		return;
	stage_commit(l, c);
	if (evbuffer_reserve_space(c->out, STAGE_ROOM, &l->room, 1) == 1)
		pd_buf_use(st, l->room.iov_base, l->room.iov_len);
}

/* Every reply is rendered and counted here, in the framing of its
 * request: the loop's own and those of jobs back from the writer or the
 * slow threads. cmd is the command the request named (NULL when none),
 * t0_us when an admitted request arrived whole (0: no latency). In a burst
 * (staging) into the output's room, else rendered and added at once. */
static void conn_reply(struct conn *c, enum pd_framing f, const struct pd_reply *rep,
		       const struct pd_command *cmd, uint64_t t0_us)
{
	struct loop *l = c->loop;
	if (l->staging == c) {
		stage_room(l, c);
		pd_reply_render(rep, f, &l->stage);
	} else {
		struct pd_buf *out = &l->out;
		out->len = 0;
		pd_reply_render(rep, f, out);
		evbuffer_add(c->out, out->data, out->len);
		/* one huge reply must not pin its buffer for the daemon's life */
		if (out->cap > 65536)
			pd_buf_free(out);
	}
	c->replied = true;
	if (rep->code >= 400 && rep->code < 600)
		stat_inc(LOOP_STAT(errors_by_code[rep->code]));
	metrics_reply(cmd, rep->code, t0_us);
}

/* ---- Lingering close ----
 * close() of a socket whose receive queue holds bytes the daemon has not
 * read makes the kernel answer with a reset instead of a FIN, and a reset
 * can cost the client the last reply (its kernel may drop what it has not
 * read yet; a reply still in our send queue is dropped here): a 408, the
 * 400 of a lost framing, QUIT's reply with more requests behind it. So a
 * connection closed after a reply while its client may still be sending
 * (linger_start() says when) lingers, as Apache's and nginx's lingering
 * close do:
 * once its output is all written, shutdown(SHUT_WR) sends the FIN after the
 * reply, and what the client still sends is read and thrown away until its
 * EOF (it read the reply and closed), LINGER_MS or LINGER_BYTES, then
 * close(). While it lingers it holds only its struct and socket (the
 * buffers are freed, the bytes are read into the stack) and it still
 * counts against max_connections and the per-address limit, so lingering
 * sockets cannot outgrow those. A stop of the daemon closes them at once.
 * Under TLS a close_notify goes first, then the same lingering on the raw
 * socket. */

/* Long enough for a client to read a reply and close, on a slow LAN;
 * short enough that a host at its per-address limit holds little (the
 * 2 s of Apache's short lingering). */
#define LINGER_MS 2000
/* A client still sending this much after its last reply is not reading
 * it: close anyway. */
#define LINGER_BYTES 65536

/* Bytes from the client the daemon has not taken: in its input buffer, or
 * still in the socket. */
static bool input_unread(const struct conn *c)
{
	char b;
	return (c->in && evbuffer_get_length(c->in) > 0) ||
	       recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Starts lingering instead of closing: true if it lingers. Only where a
 * reset is possible: the daemon cut the client mid-stream (it may still be
 * sending), or input is unread now. A client that finished (QUIT, an idle
 * close with nothing sent) is closed at once and its places are free for
 * its next connection at once, as they were before lingering: what it
 * might send after the FIN reaches a client that has the whole reply and
 * the end. Not either when it would save nothing: no reply was ever
 * queued, the client closed first, replies are unsent (it is cut for not
 * reading them), a job is out, the daemon stops. */
static bool linger_start(struct conn *c)
{
	if (!c->replied || c->peer_done || c->jobs_out || c->fd < 0 || c->loop->stopping ||
	    !c->out || evbuffer_get_length(c->out) > 0 || !(c->cut || input_unread(c)))
		return false;
	if (c->bev) {
		tls_close_notify(c->bev);
		/* the bufferevent closes its descriptor when freed: the
		 * socket lives on through a second one */
		evutil_socket_t fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return false;
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->in = c->out = NULL;
		c->fd = fd;
		c->rd = event_new(c->loop->base, fd, EV_READ | EV_PERSIST, on_readable, c);
		if (!c->rd)
			return false;
	}
	if (shutdown(c->fd, SHUT_WR) < 0)
		return false; /* the client is gone */
	io_buffers_free(c);
	pd_arena_free(&c->arena);
	event_del(c->resume);
	c->lingering = true;
	c->closing = true;
	c->linger_left = LINGER_BYTES;
	event_del(c->rd); /* its idle timeout off */
	event_add(c->rd, NULL);
	struct timeval bound = { LINGER_MS / 1000, (LINGER_MS % 1000) * 1000 };
	evtimer_add(c->deadline, &bound);
	return true;
}

/* The lingering socket is readable: discard what came; close at the
 * client's EOF or error, or once the byte budget is spent. */
static void linger_read(struct conn *c)
{
	char sink[4096];
	for (;;) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || (size_t)n >= c->linger_left)
			break;
		c->linger_left -= (size_t)n;
	}
	log_msg("debug", c->id, c->sess.user, "closed %s after lingering", c->peer);
	conn_free(c);
}

/* Closes now (lingering when that can save the last reply), or later when
 * a job is still out (the job's reply must find the struct). */
static void conn_close(struct conn *c, const char *why)
{
	log_msg("debug", c->id, c->sess.user, "close %s: %s", c->peer, why);
	if (c->jobs_out) {
		c->dead = true;
		addr_release(c); /* a dead connection holds no place of its address */
		io_free(c);
		event_del(c->resume);
		event_del(c->deadline);
		return;
	}
	if (!linger_start(c))
		conn_free(c);
}

/* The earliest of the connection's deadlines: logging in (a stranger may
 * not hold a connection for long) and completing a request it started (a
 * client trickling a byte a second holds nothing for long). */
static void deadline_arm(struct conn *c)
{
	int64_t at = 0;
	if (c->sess.role == ROLE_NONE && !c->local_admin)
		at = c->accepted_ms + g_config.login_timeout_secs * 1000;
	if (c->request_ms) {
		int64_t req = c->request_ms + g_config.request_timeout_secs * 1000;
		at = at && at < req ? at : req;
	}
	if (!at) {
		event_del(c->deadline);
		return;
	}
	int64_t wait = at - mono_ms();
	if (wait < 0)
		wait = 0;
	struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 };
	evtimer_add(c->deadline, &tv);
}

/* Ends a connection that missed a deadline: a 408 in the framing of what it
 * sent, then close once that is out; a client that does not read it is cut
 * after a short write timeout, not the idle one. */
static void conn_expire(struct conn *c, const char *why)
{
	if (!c->in) { /* it never sent a byte */
		conn_close(c, why);
		return;
	}
	unsigned char first = 0;
	evbuffer_copyout(c->in, &first, 1);
	struct pd_reply rep = { .code = 408, .msg = why };
	conn_reply(c, pd_is_msgpack_start(first) ? PD_FRAMING_MSGPACK : PD_FRAMING_TEXT, &rep, NULL, 0);
	log_msg("info", c->id, c->sess.user, "%s: %s", c->peer, why);
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	c->read_off = true;
	reading_update(c);
	c->closing = true;
	c->cut = true;
	c->request_ms = 0;
	write_cut(c, 5);
	/* and a bound of its own: a write timeout runs only while a write
	 * waits, and a TLS handshake left half-done never gets to write the
	 * 408 (a stalled one held its place for good: red team, round 18) */
	struct timeval bound = { 5, 0 };
	evtimer_add(c->deadline, &bound);
	if (flush_out(c) < 0)
		conn_close(c, strerror(errno));
	else if (evbuffer_get_length(c->out) == 0)
		output_drained(c); /* the 408 is out: close */
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	struct conn *c = arg;
	if (c->lingering) {
		log_msg("debug", c->id, c->sess.user, "closed %s: lingered %d ms", c->peer, LINGER_MS);
		conn_free(c);
		return;
	}
	if (c->dead)
		return;
	if (c->closing) {
		if (c->cut) /* conn_expire()'s bound: its 408 was not taken */
			conn_close(c, "the client did not take its 408 within 5 s");
		return;
	}
	int64_t now = mono_ms();
	char msg[96];
	if (c->sess.role == ROLE_NONE && !c->local_admin &&
	    now >= c->accepted_ms + g_config.login_timeout_secs * 1000) {
		if (c->slow_out) { /* a login under way decides */
			struct timeval again = { 0, 100000 };
			evtimer_add(c->deadline, &again);
			return;
		}
		snprintf(msg, sizeof(msg), "not logged in within %lld s",
			 (long long)g_config.login_timeout_secs);
		conn_expire(c, msg);
	} else if (c->request_ms && now >= c->request_ms + g_config.request_timeout_secs * 1000) {
		snprintf(msg, sizeof(msg), "request not completed within %lld s",
			 (long long)g_config.request_timeout_secs);
		conn_expire(c, msg);
	} else {
		deadline_arm(c);
	}
}

static void apply_effects(struct conn *c, const struct cmd_effects *fx)
{
	dispatch_apply(&c->sess, fx);
	if (fx->logged_in)
		deadline_arm(c);
	if (fx->close_after)
		c->closing = true;
	if (fx->timers_changed)
		on_timers_changed();
}

/* A request that cannot be answered as such (a framing error, a line too
 * long) waits in c->pending like any other, so its reply keeps its place. */
static void pending_refuse(struct conn *c, enum pd_framing f, bool counts,
			   int code, const char *msg)
{
	struct pending *p = &c->pending;
	p->state = PENDING_REFUSED;
	p->framing = f;
	p->counts = counts;
	p->close_after = false;
	p->adm.cmd = NULL;
	p->adm.code = code;
	p->adm.msg = pd_strdup(&c->arena, msg);
}

/* Slow jobs out, of every loop, for their queues' bounds: AUTHs with the
 * hashing thread, and jobs with the bulk thread (CMD_BULK). USER ADD and
 * USER PASSWD are not counted here: they stay out until the writer is
 * done with them (with quorum replication, until the log holds them), and
 * counted, one user's password changes shed every login (round 17's
 * review); they are bounded per user name below, and the hashing thread
 * takes the logins before them. */
static _Atomic int64_t auth_jobs_out, bulk_jobs_out;

/* Slow jobs out per user name, of every loop, by kind: a password change
 * (USER ADD, USER PASSWD) per the name whose password it sets, one at a
 * time (PASSWORDS_PER_NAME), so that a user's changes on many connections
 * hold one place, not one a connection; and a bulk job per the user who
 * sent it, at most half of bulk_queue_max (bulk_share()), so that one
 * operator's reports leave room for another's. The names with jobs out,
 * scanned under a lock: few, and a slow job is rare next to a request. A
 * name too long for a user is not counted (its handler refuses it). */
#define PASSWORDS_PER_NAME 1
enum name_kind { NAME_PASSWORD = 'p', NAME_BULK = 'b' };
struct name_count {
	char key[USER_NAME_MAX + 1]; /* the kind, then the name */
	int64_t n;
};
static pthread_mutex_t name_lock = PTHREAD_MUTEX_INITIALIZER;
static struct name_count *name_counts;
static size_t name_len, name_cap;

static bool name_key(char *key, enum name_kind kind, const char *name)
{
	size_t len = name ? strlen(name) : USER_NAME_MAX;
	if (len >= USER_NAME_MAX)
		return false;
	key[0] = (char)kind;
	memcpy(key + 1, name, len + 1);
	return true;
}

static struct name_count *name_find(const char *key)
{
	for (size_t i = 0; i < name_len; i++)
		if (!strcmp(name_counts[i].key, key))
			return &name_counts[i];
	return NULL;
}

/* A place for one more job of kind for name: false when it has max out
 * already (a forced one is taken all the same: a BACKUP). */
static bool name_take(enum name_kind kind, const char *name, int64_t max, bool force)
{
	char key[USER_NAME_MAX + 1];
	if (!name_key(key, kind, name))
		return true;
	pthread_mutex_lock(&name_lock);
	struct name_count *e = name_find(key);
	if (!e && name_len == name_cap) {
		size_t cap = name_cap ? name_cap * 2 : 16;
		struct name_count *more = realloc(name_counts, cap * sizeof(*more));
		if (!more)
			abort(); /* as job_new(): the job would need memory too */
		name_counts = more;
		name_cap = cap;
	}
	if (!e) {
		e = &name_counts[name_len++];
		*e = (struct name_count){ .n = 0 };
		memcpy(e->key, key, sizeof(key));
	}
	bool ok = e->n < max || force;
	if (ok)
		e->n++;
	else if (e->n == 0)
		*e = name_counts[--name_len];
	pthread_mutex_unlock(&name_lock);
	return ok;
}

static void name_give(enum name_kind kind, const char *name)
{
	char key[USER_NAME_MAX + 1];
	if (!name_key(key, kind, name))
		return;
	pthread_mutex_lock(&name_lock);
	struct name_count *e = name_find(key);
	if (e && --e->n == 0)
		*e = name_counts[--name_len];
	pthread_mutex_unlock(&name_lock);
}

static _Atomic int64_t *slow_count(const struct pd_command *cmd)
{
	return cmd->flags & CMD_BULK ? &bulk_jobs_out : cmd->id == PD_CMD_auth ? &auth_jobs_out : NULL;
}

/* A user's share of bulk_queue_max: half of the places, at least one. */
static int64_t bulk_share(void)
{
	return g_config.bulk_queue_max > 1 ? g_config.bulk_queue_max / 2 : 1;
}

static void slow_place_give(const struct pd_command *cmd, const struct session *sess,
			    const struct pd_value *args)
{
	_Atomic int64_t *n = slow_count(cmd);
	if (n)
		atomic_fetch_sub(n, 1);
	if (cmd->flags & CMD_BULK)
		name_give(NAME_BULK, sess->user);
	else if (cmd->flags & CMD_WRITE)
		name_give(NAME_PASSWORD, pd_arg_str(args, "name"));
}

/* A place in cmd's slow queue, taken before the job is made; else false
 * and the refusal in msg. Bounded: an AUTH only while fewer than
 * auth_queue_max AUTHs are with the hashing thread; a report (a bulk job
 * but BACKUP) only while its user has fewer than bulk_share() bulk jobs
 * out and fewer than bulk_queue_max jobs, BACKUPs included, are with the
 * bulk thread, so a flood of either is shed before the logged-in work of
 * the admin's BACKUP, which always queues (and counts in both); a
 * password change only while none of the same name is out. Exact across
 * loops. */
static bool slow_place_take(const struct pd_command *cmd, const struct session *sess,
			    const struct pd_value *args, char *msg, size_t cap)
{
	_Atomic int64_t *n = slow_count(cmd);
	if (!n) { /* USER ADD, USER PASSWD */
		const char *name = pd_arg_str(args, "name");
		if (name_take(NAME_PASSWORD, name, PASSWORDS_PER_NAME, false))
			return true;
		snprintf(msg, cap, "busy: a password change for %s is already waiting, try again in a moment",
			 name);
		return false;
	}
	bool bulk = cmd->flags & CMD_BULK;
	bool bounded = !bulk || cmd->id != PD_CMD_backup;
	if (bulk && !name_take(NAME_BULK, sess->user, bulk_share(), !bounded)) {
		snprintf(msg, cap, "busy: your reports waiting fill a user's share of bulk_queue_max (%lld); "
			 "try again once one is answered", (long long)bulk_share());
		return false;
	}
	int64_t max = bulk ? g_config.bulk_queue_max : g_config.auth_queue_max;
	if (atomic_fetch_add(n, 1) < max || !bounded)
		return true;
	atomic_fetch_sub(n, 1);
	if (bulk)
		name_give(NAME_BULK, sess->user);
	snprintf(msg, cap, "%s", bulk ? "busy: too many reports waiting, try again in a moment"
				    : "busy: too many logins waiting, try again in a moment");
	return false;
}

/* The key of the failed-login limit per address: the peer without its
 * port. */
static void login_addr(const struct conn *c, char *out, size_t cap)
{
	snprintf(out, cap, "%s", c->peer);
	char *colon = strrchr(out, ':');
	if (colon)
		*colon = '\0';
}

/* A slow job may be queued: its queue has a place (slow_place_take), and
 * an AUTH's address and user are within their failed-login limits
 * (logins.h). Else the refusal is sent and false returned. Any other job:
 * true. submit_job() uses the place. */
static bool slow_admit(struct conn *c, const struct admission *adm, enum pd_framing f, uint64_t t0_us)
{
	const struct pd_command *cmd = adm->cmd;
	if (!(cmd->flags & CMD_SLOW))
		return true;
	char msg[200], addr[64];
	struct pd_reply rep = { .code = 503, .msg = msg };
	if (slow_place_take(cmd, &c->sess, adm->args, msg, sizeof(msg))) {
		if (cmd->id != PD_CMD_auth)
			return true;
		login_addr(c, addr, sizeof(addr));
		rep.code = login_begin(&g_config, addr, pd_arg_str(adm->args, "user"), mono_ms(),
				       msg, sizeof(msg));
		if (!rep.code)
			return true;
		slow_place_give(cmd, &c->sess, adm->args);
	}
	conn_reply(c, f, &rep, cmd, t0_us);
	return false;
}

static void submit_job(struct conn *c, const struct admission *adm, enum pd_framing f,
		       uint64_t t0_us)
{
	struct job *job = job_new();
	job->t0_us = t0_us;
	job->conn = c;
	job->cmd = adm->cmd;
	job->args = pd_value_copy(&job->arena, adm->args);
	job->framing = f;
	job->sess = c->sess;
	job->now = clock_now();
	job->held = job->arena.used_bytes;
	c->job_bytes += job->held;
	job->loop = c->loop->idx;
	c->jobs_out++;
	atomic_fetch_add(&c->loop->jobs_out, 1);
	if (adm->cmd->flags & CMD_SLOW) {
		c->slow_out = true; /* slow_admit() took its place */
		/* a USER PASSWD reaches the writer from the hashing thread: the
		 * writes before it go first */
		writer_submit_batch(&c->loop->writes);
		slow_submit(job);
	} else {
		job_batch_add(&c->loop->writes, job);
	}
}

/* A read with min_seq= runs once this node holds that change set (a
 * replica catching up), after a bounded wait: false while it waits (it is
 * looked at again shortly), true to run it or to answer that it waited
 * too long. */
static bool min_seq_ready(struct conn *c, struct pending *p)
{
	int64_t want, now = mono_ms();
	if (p->state != PENDING_ADMITTED || !pd_map_int(p->adm.args, "min_seq", &want))
		return true;
	/* asked of the snapshot the read will see, not of a counter */
	MDB_txn *txn;
	bool has = true;
	if (loop_read_begin(&txn) == 0) {
		has = repl_has_seq(txn, (uint64_t)want);
		loop_read_end();
	}
	if (has)
		return true;
	if (!p->seq_wait_ms)
		p->seq_wait_ms = now + g_config.min_seq_wait_ms;
	if (now >= p->seq_wait_ms) {
		char msg[160];
		snprintf(msg, sizeof(msg), "this node has not applied change set %lld within %lld ms; "
			 "retry, or read from the primary", (long long)want,
			 (long long)g_config.min_seq_wait_ms);
		pending_refuse(c, p->framing, p->counts, 503, msg);
		return true;
	}
	struct timeval again = { 0, 5000 };
	event_add(c->resume, &again);
	return false;
}

/* PROMOTE answers once the promotion is over (repl.h): asked when it
 * comes, then parked like a min_seq= read while the replication thread
 * works, the loop going on; false while it waits. */
static bool promote_ready(struct conn *c, struct pending *p)
{
	if (p->state != PENDING_ADMITTED || p->adm.cmd->id != PD_CMD_promote)
		return true;
	int64_t now = mono_ms();
	if (!p->seq_wait_ms) {
		p->seq_wait_ms = now + REPL_PROMOTE_WAIT_MS;
		if (!repl_promote())
			return true; /* cmd_promote says why */
	}
	if (!repl_promoting() || now >= p->seq_wait_ms)
		return true;
	struct timeval again = { 0, 20000 };
	event_add(c->resume, &again);
	return false;
}

/* Runs c->pending if its turn has come. Returns false when it must wait
 * for jobs ahead (it stays parsed). */
static bool run_pending(struct conn *c)
{
	struct pending *p = &c->pending;
	if (p->state == PENDING_PARSED) {
		if (c->slow_out)
			return false; /* a login ahead may change the session */
		p->state = dispatch_admit(&c->sess, &p->req, &c->arena, &p->adm) == 0
				   ? PENDING_ADMITTED : PENDING_REFUSED;
	}
	bool is_write = p->state == PENDING_ADMITTED && (p->adm.cmd->flags & CMD_WRITE);
	if (is_write ? (c->slow_out || c->jobs_out >= MAX_WRITES_OUT_PER_CONN) : c->jobs_out > 0)
		return false;
	if (!min_seq_ready(c, p) || !promote_ready(c, p))
		return false;
	if (p->counts) {
		if (p->framing == PD_FRAMING_TEXT)
			stat_inc(LOOP_STAT(requests_text));
		else
			stat_inc(LOOP_STAT(requests_msgpack));
	}
	if (p->state == PENDING_REFUSED) {
		struct pd_reply rep = { .code = p->adm.code, .msg = p->adm.msg };
		conn_reply(c, p->framing, &rep, p->adm.cmd, 0);
		if (p->close_after)
			c->closing = c->cut = true; /* the framing is lost */
	} else if (p->adm.cmd->flags & (CMD_WRITE | CMD_SLOW)) {
		if (slow_admit(c, &p->adm, p->framing, p->t0_us))
			submit_job(c, &p->adm, p->framing, p->t0_us);
	} else {
		struct pd_reply rep;
		struct cmd_effects fx;
		dispatch_read(&c->sess, &p->adm, &c->arena, &rep, &fx);
		conn_reply(c, p->framing, &rep, p->adm.cmd, p->t0_us);
		apply_effects(c, &fx);
	}
	p->state = PENDING_NONE;
	p->seq_wait_ms = 0;
	pd_arena_reset(&c->arena);
	return true;
}

void conn_job_done(struct job *job)
{
	struct conn *c = job->conn;
	atomic_fetch_sub(&c->loop->jobs_out, 1);
	c->jobs_out--;
	c->job_bytes -= job->held;
	if (job->cmd->flags & CMD_SLOW) {
		c->slow_out = false;
		slow_place_give(job->cmd, &job->sess, job->args);
	}
	if (job->cmd->id == PD_CMD_auth) {
		char addr[64];
		login_addr(c, addr, sizeof(addr));
		login_end(&g_config, addr, pd_arg_str(job->args, "user"), job->fx.logged_in, mono_ms());
	}
	if (job->fx.timers_changed)
		on_timers_changed();
	if (c->dead) {
		/* the client is gone, not what its command did to others */
		struct cmd_effects others = { .users_changed = job->fx.users_changed };
		dispatch_apply(&c->sess, &others);
		job_free(job);
		if (!c->jobs_out)
			conn_free(c);
		return;
	}
	conn_reply(c, job->framing, &job->rep, job->cmd, job->t0_us);
	idle_restart(c);
	struct cmd_effects fx = job->fx;
	fx.timers_changed = false; /* done above */
	apply_effects(c, &fx);
	job_free(job);
	process_input(c);
}

static void refuse_long_line(struct conn *c)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "line longer than %lld bytes",
		 (long long)g_config.max_line_bytes);
	pending_refuse(c, PD_FRAMING_TEXT, false, 413, msg);
}

/* Takes one text line from the input into c->pending (or a 413 for an
 * oversized one; nothing for a blank line). Returns 1 if it took bytes, 0
 * when more are needed. */
static int take_text_line(struct conn *c, struct evbuffer *in, size_t len,
			  const struct evbuffer_iovec *first)
{
	size_t eol_len = 1, line_len;
	const char *line = NULL; /* the line in place, when it is in one chain */
	/* A pipelined burst's lines are in the input's first chain mostly:
	 * found there with one memchr and read in place, without the
	 * evbuffer_ptr calls, the search, the copy of the last byte and the
	 * pullup a line (docs/performance.md, round 11). */
	bool in_first = c->line_scanned < first->iov_len;
	const char *nl = in_first ? memchr((const char *)first->iov_base + c->line_scanned, '\n',
					   first->iov_len - c->line_scanned) : NULL;
	if (nl) {
		line = first->iov_base;
		line_len = (size_t)(nl - line);
	} else {
		struct evbuffer_ptr from;
		bool resume = evbuffer_ptr_set(in, &from, c->line_scanned, EVBUFFER_PTR_SET) == 0;
		struct evbuffer_ptr eol = in_first && first->iov_len == len
			? (struct evbuffer_ptr){ .pos = -1 } /* all of it looked at above */
			: evbuffer_search_eol(in, resume ? &from : NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			/* the limit counts the line, not its "\r\n": allow one \r more */
			if (len > (size_t)g_config.max_line_bytes + 1) {
				evbuffer_drain(in, len);
				c->line_scanned = 0;
				c->skipping_line = true;
				refuse_long_line(c);
				return 1;
			}
			c->line_scanned = len;
			return 0;
		}
		line_len = (size_t)eol.pos;
	}
	c->line_scanned = 0;
	size_t content = line_len;
	if (content) {
		char last;
		struct evbuffer_ptr cr;
		if (line)
			last = line[line_len - 1];
		else if (evbuffer_ptr_set(in, &cr, line_len - 1, EVBUFFER_PTR_SET) != 0 ||
			 evbuffer_copyout_from(in, &cr, &last, 1) != 1)
			last = 0;
		if (last == '\r')
			content--;
	}
	if (content > (size_t)g_config.max_line_bytes) {
		evbuffer_drain(in, line_len + eol_len);
		refuse_long_line(c);
		return 1;
	}
	if (!line)
		line = (const char *)evbuffer_pullup(in, (ssize_t)(line_len + eol_len));
	struct pending *p = &c->pending;
	struct pd_error err;
	if (pd_parse_text_line(&c->arena, line, content, &p->req, &err) < 0) {
		pending_refuse(c, PD_FRAMING_TEXT, true, err.code, err.msg);
	} else if (p->req.word_count > 0) { /* a blank line gets no reply */
		p->state = PENDING_PARSED;
		p->framing = PD_FRAMING_TEXT;
		p->counts = true;
		p->close_after = false;
	}
	evbuffer_drain(in, line_len + eol_len);
	return 1;
}

static int take_msgpack_frame(struct conn *c, struct evbuffer *in, size_t len)
{
	size_t max = (size_t)g_config.max_frame_bytes;
	size_t avail = len < max ? len : max;
	const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)avail);
	struct pending *p = &c->pending;
	struct pd_error err;
	size_t used = 0;
	/* A frame that came whole is read at once. One cut short is framed as
	 * it comes and read once whole: a trickled frame is looked at once. */
	bool fresh = c->frame.pos == 0 && c->frame.left[0] == 0;
	enum pd_unpack_status st = fresh
		? pd_request_read_msgpack(&c->arena, buf, avail, &used, &p->req, &err)
		: PD_UNPACK_INCOMPLETE;
	if (st != PD_UNPACK_OK) {
		if (fresh) {
			/* What that read built is not kept while the rest comes:
			 * a frame cut short could pin about 64 bytes an input
			 * byte (its tree, when a word is of the wrong type).
			 * Nothing else is in the arena between requests. */
			pd_arena_reset(&c->arena);
			pd_mp_scan_init(&c->frame);
		}
		st = pd_mp_scan(&c->frame, buf, avail);
		if (st == PD_UNPACK_INCOMPLETE && len < max)
			return 0;
		if (st == PD_UNPACK_OK)
			st = pd_request_read_msgpack(&c->arena, buf, c->frame.pos, &used, &p->req, &err);
		memset(&c->frame, 0, sizeof(c->frame));
	}
	if (st != PD_UNPACK_OK) {
		char msg[96];
		if (st == PD_UNPACK_INCOMPLETE)
			snprintf(msg, sizeof(msg), "msgpack frame larger than %zu bytes", max);
		pending_refuse(c, PD_FRAMING_MSGPACK, false,
			       st == PD_UNPACK_INCOMPLETE ? 413 : 400,
			       st == PD_UNPACK_INCOMPLETE ? msg
			       : st == PD_UNPACK_TOO_DEEP ? "msgpack nested too deep"
							  : "malformed msgpack");
		p->close_after = true; /* no way to find the next frame */
		evbuffer_drain(in, len);
		return 1;
	}
	if (err.code) {
		pending_refuse(c, PD_FRAMING_MSGPACK, true, err.code, err.msg);
	} else {
		p->state = PENDING_PARSED;
		p->framing = PD_FRAMING_MSGPACK;
		p->counts = true;
		p->close_after = false;
	}
	evbuffer_drain(in, used);
	return 1;
}

/* Takes the next request from the input into c->pending. Returns 1 if it
 * took bytes, 0 when more are needed. */
static int take_request(struct conn *c, struct evbuffer *in)
{
	size_t len = evbuffer_get_length(in);
	if (len == 0)
		return 0;
	if (c->skipping_line) {
		size_t eol_len;
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			evbuffer_drain(in, len);
			return 0;
		}
		evbuffer_drain(in, (size_t)eol.pos + eol_len);
		c->skipping_line = false;
		return 1;
	}
	/* The input's first chain, where a burst's requests mostly are: its
	 * first byte says the framing without a copy-out, and a text line
	 * whole in it is read in place. */
	struct evbuffer_iovec first;
	if (evbuffer_peek(in, -1, NULL, &first, 1) < 1)
		first.iov_len = 0;
	unsigned char b;
	if (first.iov_len)
		b = *(const unsigned char *)first.iov_base;
	else
		evbuffer_copyout(in, &b, 1);
	c->pending.t0_us = metrics_clock_us();
	bool mp = pd_is_msgpack_start(b);
	if (mp ? take_msgpack_frame(c, in, len) : take_text_line(c, in, len, &first))
		return 1;
	if (!c->peer_done)
		return 0;
	/* the client half-closed inside a request: the rest will never
	 * come, so say so instead of waiting for the request deadline */
	evbuffer_drain(in, len);
	c->line_scanned = 0;
	memset(&c->frame, 0, sizeof(c->frame));
	pending_refuse(c, mp ? PD_FRAMING_MSGPACK : PD_FRAMING_TEXT, false, 400,
		       "incomplete request: the client closed before its end");
	return 1;
}

/* Starts the request deadline when the input ends in part of a request
 * (or in an oversized line being skipped), and stops it when a request was
 * complete. */
static void request_deadline(struct conn *c, bool starved)
{
	bool partial = starved && !c->read_paused &&
		       (c->skipping_line || evbuffer_get_length(c->in) > 0);
	if (partial == (c->request_ms != 0))
		return;
	c->request_ms = partial ? mono_ms() : 0;
	deadline_arm(c);
}

/* What one connection may make the daemon hold before it stops reading
 * it: replies not yet sent plus the requests of its jobs out. A stranger
 * gets far less than a logged-in user. (The input holds at most one
 * request more: its read watermark.) */
static bool output_full(struct conn *c)
{
	int64_t budget = c->sess.role == ROLE_NONE ? g_config.max_output_bytes_before_login
						   : g_config.max_output_bytes;
	size_t staged = c->loop->staging == c ? c->loop->stage.len : 0;
	return evbuffer_get_length(c->out) + staged + c->job_bytes > (size_t)budget;
}

/* The output is down to half the budget: a paused connection may read
 * again. */
static bool output_low(struct conn *c)
{
	return evbuffer_get_length(c->out) <= (size_t)g_config.max_output_bytes / 2;
}

static void process_input(struct conn *c)
{
	struct evbuffer *in = c->in;
	/* one read snapshot for the burst of requests of this event */
	MDB_txn *snap;
	bool snapshot = (evbuffer_get_length(in) > 0 || c->pending.state != PENDING_NONE) &&
			loop_read_begin(&snap) == 0;
	int budget = REQS_PER_EVENT;
	bool starved = false, took = false;
	if (!c->bev)
		c->loop->staging = c; /* its replies committed together below */
	while (!c->closing && !c->loop->stopping) {
		if (output_full(c)) {
			/* back-pressure: stop reading until the client reads */
			c->read_paused = true;
			break;
		}
		if (c->pending.state == PENDING_NONE) {
			if (!take_request(c, in)) {
				starved = true;
				break;
			}
			took = true;
		}
		if (c->pending.state != PENDING_NONE && !run_pending(c))
			break; /* it waits for the jobs ahead */
		if (--budget == 0) {
			event_active(c->resume, EV_TIMEOUT, 0); /* the rest after the others */
			break;
		}
	}
	/* the burst's writes in one group (writer.h, struct job_batch) */
	writer_submit_batch(&c->loop->writes);
	if (c->loop->staging == c) {
		stage_commit(c->loop, c);
		c->loop->staging = NULL;
	}
	if (snapshot)
		loop_read_end();
	if (took && c->request_ms) {
		c->request_ms = 0; /* a request arrived whole: the clock starts again */
		deadline_arm(c);
	}
	if (!c->closing)
		request_deadline(c, starved);
	if (c->peer_done && !c->jobs_out && c->pending.state == PENDING_NONE &&
	    evbuffer_get_length(in) == 0)
		c->closing = true; /* drained: close once the replies are out */
	reading_update(c);
	/* the replies of the whole burst in one write, at the end of the turn */
	out_queue(c);
}

/* What follows a write of the output (or its absence): close a connection
 * that is done once its replies are out, and resume a paused one. */
static void out_sent(struct conn *c)
{
	if (c->closing && !c->jobs_out && evbuffer_get_length(c->out) == 0) {
		conn_close(c, c->peer_done ? "client closed" : "done");
		return;
	}
	if (c->read_paused && !c->bev && !event_pending(c->wr, EV_WRITE, NULL) && !output_full(c))
		/* the socket took the replies at once: on_writable() resumes
		 * it, after a turn of the loop (resuming here would let a
		 * client that reads nothing fill its socket buffer while
		 * nobody else is served). Still full with the output sent:
		 * its jobs' return resumes it. */
		event_add(c->wr, &c->write_cut);
}

/* In clear, the replies made during a turn of the loop are written once
 * every event of that turn has run (on_flush(), activated last), as Redis
 * writes its replies before it sleeps: a client with many connections
 * finds the replies of a burst together and takes them in one wake-up,
 * rather than being woken, and preempting the loop, for each
 * (docs/performance.md, round 6). Output the write event waits to send,
 * TLS's and an empty one go on at once. */
static void out_queue(struct conn *c)
{
	struct loop *l = c->loop;
	if (c->bev || evbuffer_get_length(c->out) == 0 || event_pending(c->wr, EV_WRITE, NULL)) {
		out_sent(c);
		return;
	}
	if (c->flush_queued)
		return;
	c->flush_queued = true;
	c->flush_next = NULL;
	if (!l->flush) {
		l->flush_tail = &l->flush;
		event_active(l->flush_ev, EV_TIMEOUT, 0);
	}
	*l->flush_tail = c;
	l->flush_tail = &c->flush_next;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	struct loop *l = arg;
	struct conn *c;
	while ((c = l->flush)) {
		l->flush = c->flush_next;
		c->flush_queued = false;
		c->flush_next = NULL;
		if (flush_out(c) < 0)
			conn_close(c, strerror(errno));
		else
			out_sent(c);
	}
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	struct conn *c = arg;
	if (c->in && !c->dead)
		process_input(c);
}

/* The replies went out (or below half the output budget): close a
 * connection that was closing, or read again one that was paused. */
static void output_drained(struct conn *c)
{
	if (c->closing && !c->jobs_out && evbuffer_get_length(c->out) == 0) {
		conn_close(c, "done");
		return;
	}
	if (c->read_paused) {
		c->read_paused = false;
		process_input(c); /* turns reading on again */
	}
}

/* Nothing read (which: EV_READ), or nothing written (EV_WRITE), for the
 * idle time. */
static void idle_timeout(struct conn *c, short which)
{
	if (c->jobs_out) {
		/* it waits for the daemon (a slow login, a write): not idle (in
		 * clear the event stays armed; a bufferevent stopped it) */
		if (c->bev)
			bufferevent_enable(c->bev, which);
		return;
	}
	conn_close(c, "idle timeout");
}

/* A half-close (printf ... | nc) still gets every reply: run what is
 * buffered, finish the jobs out, then close. */
static void peer_eof(struct conn *c)
{
	c->peer_done = true;
	reading_update(c);
	process_input(c);
}

/* In clear: the socket is readable (or was idle). */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->lingering) {
		linger_read(c);
		return;
	}
	if (what & EV_TIMEOUT) {
		idle_timeout(c, EV_READ);
		return;
	}
	size_t len = evbuffer_get_length(c->in), high = input_high();
	size_t want = len < high && high - len < READ_CHUNK ? high - len : READ_CHUNK;
	struct evbuffer_iovec v;
	if (evbuffer_reserve_space(c->in, (ev_ssize_t)want, &v, 1) < 1) {
		conn_close(c, "out of memory");
		return;
	}
	ssize_t n = recv(fd, v.iov_base, want < v.iov_len ? want : v.iov_len, 0);
	if (n > 0) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(c->in, &v, 1);
		process_input(c);
	} else if (n == 0) {
		peer_eof(c);
	} else if (errno != EAGAIN && errno != EINTR) {
		conn_close(c, strerror(errno));
	}
}

/* In clear: the socket takes more of the output (or a reply waited too
 * long). */
static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (what & EV_TIMEOUT) {
		idle_timeout(c, EV_WRITE);
		return;
	}
	if (evbuffer_get_length(c->out) > 0 && evbuffer_write(c->out, fd) < 0 &&
	    errno != EAGAIN && errno != EINTR) {
		conn_close(c, strerror(errno));
		return;
	}
	if (evbuffer_get_length(c->out) == 0)
		event_del(c->wr);
	if (output_low(c))
		output_drained(c);
}

/* Under TLS, the bufferevent's callbacks. */
static void on_tls_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process_input(arg);
}

static void on_tls_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	output_drained(arg);
}

static void on_tls_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		idle_timeout(c, (what & BEV_EVENT_READING) ? EV_READ : EV_WRITE);
	} else if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_WRITING)) {
		/* nobody to read the replies (TLS reports a reset while
		 * writing as an EOF) */
		conn_close(c, "client gone");
	} else if (what & BEV_EVENT_EOF) {
		peer_eof(c);
	} else if (what & BEV_EVENT_ERROR) {
		const char *tls = tls_error(c->bev);
		conn_close(c, tls ? tls : strerror(EVUTIL_SOCKET_ERROR()));
	}
}

static void peer_name(const struct sockaddr *addr, char *out, size_t cap)
{
	char host[48] = "?";
	int port = 0;
	if (addr->sa_family == AF_UNIX) {
		snprintf(out, cap, "%s", LOGIN_ADMIN_SOCKET);
		return;
	}
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;
		evutil_inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		port = ntohs(in4->sin_port);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, cap, "%s:%d", host, port);
}

/* The address bytes of an IPv4 or IPv6 peer (16 bytes, zero-padded). */
static void peer_addr(const struct sockaddr *addr, unsigned char out[16])
{
	memset(out, 0, 16);
	if (addr->sa_family == AF_INET)
		memcpy(out, &((const struct sockaddr_in *)addr)->sin_addr, 4);
	else if (addr->sa_family == AF_INET6)
		memcpy(out, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
}

void conn_refuse(evutil_socket_t fd, int code, const char *line)
{
	atomic_fetch_add(&g_stats.connections_rejected, 1);
	stat_inc(LOOP_STAT(errors_by_code[code]));
	if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		(void)0; /* it is closed either way */
	/* A client's first request may be here already: closed unread, it
	 * would turn the FIN after the line into a reset ("Lingering close"
	 * above). The FIN goes first (a reset that still follows, for bytes
	 * arriving during the drain, reaches a client that has the line and
	 * the end), then what came is dropped, once; no lingering: the
	 * connection is past the limits. */
	shutdown(fd, SHUT_WR);
	char sink[4096];
	for (int i = 0; i < 4 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	evutil_closesocket(fd);
}

/* Connections open per address, for max_connections_per_address: loop 0
 * takes a place at accept, the connection's loop gives it back when it
 * closes (or, with jobs out, when its socket is gone). The addresses that
 * have connections, scanned: at most max_connections of them, and an
 * accept is rare next to a request. */
struct addr_count {
	int family;
	unsigned char a[16];
	int64_t n;
};
static pthread_mutex_t addr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct addr_count *addr_counts;
static size_t addr_len, addr_cap;

static struct addr_count *addr_find(int family, const unsigned char a[16])
{
	for (size_t i = 0; i < addr_len; i++)
		if (addr_counts[i].family == family && !memcmp(addr_counts[i].a, a, 16))
			return &addr_counts[i];
	return NULL;
}

/* A place for one more connection from the address: false at the limit
 * (or out of memory). */
static bool addr_take(int family, const unsigned char a[16])
{
	bool ok = false;
	pthread_mutex_lock(&addr_lock);
	struct addr_count *e = addr_find(family, a);
	if (!e && addr_len == addr_cap) {
		size_t cap = addr_cap ? addr_cap * 2 : 64;
		struct addr_count *more = realloc(addr_counts, cap * sizeof(*more));
		if (more) {
			addr_counts = more;
			addr_cap = cap;
		}
	}
	if (!e && addr_len < addr_cap) {
		e = &addr_counts[addr_len++];
		*e = (struct addr_count){ .family = family };
		memcpy(e->a, a, 16);
	}
	if (e && e->n < g_config.max_connections_per_address) {
		e->n++;
		ok = true;
	}
	pthread_mutex_unlock(&addr_lock);
	return ok;
}

static void addr_release(struct conn *c)
{
	if (!c->addr_counted)
		return;
	c->addr_counted = false;
	pthread_mutex_lock(&addr_lock);
	struct addr_count *e = addr_find(c->family, c->addr);
	if (e && --e->n == 0)
		*e = addr_counts[--addr_len];
	pthread_mutex_unlock(&addr_lock);
}

/* Sets up the socket's buffers and events once TLS or not is known. */
static int conn_start(struct conn *c)
{
	struct timeval idle = idle_time();
	if (c->tls) {
		c->bev = tls_bufferevent(c->loop->base, c->fd);
		if (!c->bev)
			return -1;
		c->in = bufferevent_get_input(c->bev);
		c->out = bufferevent_get_output(c->bev);
		bufferevent_setcb(c->bev, on_tls_read, on_tls_write, on_tls_event, c);
		/* stop reading a client that sends far ahead of its replies */
		bufferevent_setwatermark(c->bev, EV_READ, 0, input_high());
		/* on_tls_write() when the output is low (output_low()) */
		bufferevent_setwatermark(c->bev, EV_WRITE, (size_t)g_config.max_output_bytes / 2, 0);
		/* idle both ways: a client that neither sends nor reads its
		 * replies (reading is paused by back-pressure) is closed too */
		bufferevent_set_timeouts(c->bev, &idle, &idle);
		bufferevent_enable(c->bev, EV_WRITE);
	} else {
		c->in = evbuffer_new();
		c->out = evbuffer_new();
		c->rd = event_new(c->loop->base, c->fd, EV_READ | EV_PERSIST, on_readable, c);
		c->wr = event_new(c->loop->base, c->fd, EV_WRITE | EV_PERSIST, on_writable, c);
		c->write_cut = idle;
		if (!c->in || !c->out || !c->rd || !c->wr)
			return -1;
	}
	reading_update(c);
	return 0;
}

/* The first byte has come (peeked, not read): a TLS handshake, or a request
 * in clear. */
static void on_sniff(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct conn *c = arg;
	unsigned char first;
	ssize_t n = recv(fd, &first, 1, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		event_add(c->sniff, NULL);
		return;
	}
	if (n <= 0) {
		conn_close(c, n == 0 ? "client closed" : strerror(errno));
		return;
	}
	event_free(c->sniff);
	c->sniff = NULL;
	c->tls = first == TLS_RECORD_HANDSHAKE;
	c->sess.private_line |= c->tls;
	if (conn_start(c) < 0)
		conn_close(c, "out of memory");
}

/* The loop with the fewest connections (ties in turn). */
static struct loop *loop_pick(void)
{
	struct loop *best = NULL;
	for (unsigned k = 0; k < n_loops; k++) {
		struct loop *l = &loops[(next_loop + k) % n_loops];
		if (!best || atomic_load(&l->n_conns) < atomic_load(&best->n_conns))
			best = l;
	}
	next_loop = (best->idx + 1) % n_loops;
	return best;
}

/* Gives back what conn_accept() counted for a connection. */
static void conn_discount(struct conn *c)
{
	addr_release(c);
	atomic_fetch_sub(&c->loop->n_conns, 1);
	atomic_fetch_sub(&g_stats.connections_current, 1);
}

/* On the connection's own loop: its events, and it is served from now. */
static void conn_attach(struct conn *c)
{
	struct loop *l = c->loop;
	/* with TLS on, the first byte says which this connection speaks */
	bool sniff = tls_enabled() && !c->local_admin;
	if (sniff)
		c->sniff = event_new(l->base, c->fd, EV_READ, on_sniff, c);
	c->resume = event_new(l->base, -1, 0, on_resume, c);
	c->deadline = evtimer_new(l->base, on_deadline, c);
	if ((sniff && !c->sniff) || !c->resume || !c->deadline || (!sniff && conn_start(c) < 0)) {
		conn_discount(c);
		release(c);
		return;
	}
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	if (c->sniff)
		event_add(c->sniff, NULL);
	deadline_arm(c);
	log_msg("debug", c->id, NULL, "accept %s (loop %u)", c->peer, l->idx);
}

/* Loop 0 asked every loop to stop reading. */
static void loop_stop_reading(struct loop *l)
{
	l->stopping = true;
	for (struct conn *c = l->conns, *next; c; c = next) {
		next = c->next;
		if (c->lingering)
			conn_free(c); /* the stop does not wait for them */
		else if (c->in)
			reading_update(c);
		else if (c->sniff)
			event_del(c->sniff);
	}
}

/* Sockets loop 0 handed to this loop, and the stop. */
static void on_inbox(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	struct loop *l = arg;
	pthread_mutex_lock(&l->inbox_lock);
	struct conn *c = l->inbox;
	l->inbox = l->inbox_tail = NULL;
	pthread_mutex_unlock(&l->inbox_lock);
	while (c) {
		struct conn *next = c->next;
		c->next = NULL;
		conn_attach(c);
		c = next;
	}
	if (atomic_load(&l->stop_asked) && !l->stopping)
		loop_stop_reading(l);
}

void conn_accept(evutil_socket_t fd, const struct sockaddr *addr, bool local_admin)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	peer_addr(addr, c->addr);
	/* checked and counted here, on loop 0 alone: the limits are exact
	 * whichever loop serves the connection */
	const char *refusal = NULL;
	if (!local_admin && (int64_t)atomic_load(&g_stats.connections_current) >= g_config.max_connections)
		refusal = "429 too many connections\r\n";
	else if (!local_admin && !addr_take(addr->sa_family, c->addr))
		refusal = "429 too many connections from this address\r\n";
	if (refusal) {
		free(c);
		conn_refuse(fd, 429, refusal);
		return;
	}
	c->id = next_conn_id++;
	c->sess.conn_id = c->id;
	c->local_admin = local_admin;
	c->addr_counted = !local_admin;
	c->sess.private_line = local_admin;
	c->family = addr->sa_family;
	c->accepted_ms = mono_ms();
	pd_arena_init(&c->arena);
	peer_name(addr, c->peer, sizeof(c->peer));
	c->fd = fd;
	int one = 1;
	if (!local_admin)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->loop = loop_pick();
	atomic_fetch_add(&c->loop->n_conns, 1);
	atomic_fetch_add(&g_stats.connections_total, 1);
	atomic_fetch_add(&g_stats.connections_current, 1);
	if (c->loop->idx == g_loop) {
		conn_attach(c);
		return;
	}
	struct loop *l = c->loop;
	pthread_mutex_lock(&l->inbox_lock);
	if (l->inbox_tail)
		(l->inbox_tail)->next = c;
	else
		l->inbox = c;
	l->inbox_tail = c;
	pthread_mutex_unlock(&l->inbox_lock);
	event_active(l->inbox_ev, EV_READ, 0);
}

void conn_stop_reading(void)
{
	for (unsigned i = 0; i < n_loops; i++) {
		if (i == g_loop) {
			loop_stop_reading(&loops[i]);
			continue;
		}
		atomic_store(&loops[i].stop_asked, true);
		event_active(loops[i].inbox_ev, EV_READ, 0);
	}
}

void conn_free_all(void)
{
	for (unsigned i = 0; i < n_loops; i++) {
		struct loop *l = &loops[i];
		/* handed over, never attached: the loop had stopped */
		for (struct conn *c = l->inbox, *next; c; c = next) {
			next = c->next;
			conn_discount(c);
			release(c);
		}
		l->inbox = l->inbox_tail = NULL;
		while (l->conns)
			conn_free(l->conns);
		if (l->trim_timer)
			event_free(l->trim_timer);
		if (l->inbox_ev)
			event_free(l->inbox_ev);
		if (l->flush_ev)
			event_free(l->flush_ev);
		l->trim_timer = l->inbox_ev = l->flush_ev = NULL;
		l->flush = NULL;
		pd_buf_free(&l->out);
		pthread_mutex_destroy(&l->inbox_lock);
		if (i)
			event_base_free(l->base); /* loop 0's is the caller's */
		l->base = NULL;
	}
}
