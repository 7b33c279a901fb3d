/* server.c — one libevent loop owns every connection.
 *
 * The road of a request: read -> frame (text line or msgpack array, chosen
 * by its first byte) -> parse -> look up the command table -> check the role
 * -> run a read handler here in an LMDB read transaction, or hand the job to
 * the writer (writes) or the slow thread (password hashing, backup) -> render
 * -> queue the reply. While a connection has a job out, its later requests
 * wait in its input buffer, so replies keep request order and a read
 * pipelined after a write sees the write. */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "daemon.h"
#include "logins.h"
#include "writer.h"

struct conn {
	uint64_t id;
	struct bufferevent *bev;
	struct session sess;
	unsigned jobs_out;  /* jobs with the writer or the slow thread */
	bool slow_out;      /* one of them is a slow job (AUTH, BACKUP) */
	bool closing;       /* close once the output is flushed */
	bool dead;          /* socket gone while a job is out: free on return */
	bool skipping_line; /* discarding an oversized text line up to its LF */
	bool read_paused;   /* back-pressure: too many unsent replies */
	bool peer_done;     /* the client half-closed: answer what it sent, then close */
	uint64_t users_seen; /* users_generation when the session was last checked */
	char peer[64];
	char addr[48];      /* the peer's address without the port */
	struct pd_arena arena;
	struct conn *prev, *next;
};

static struct event_base *base;
static struct evconnlistener *listener;
static struct conn *conns;
static MDB_txn *loop_rtxn;
static uint64_t next_conn_id = 1;
static uint64_t jobs_out;
static uint64_t slow_jobs_out;      /* with the slow thread (hashing, backup) */
static bool shutting_down;
static struct event *shutdown_timer;
static struct event *due_timer;     /* fires at the earliest entry of `timers` */

/* Bumped when a user is deleted, changes role or password: sessions of
 * other connections check their user again before their next request. */
static uint64_t users_generation;

/* Writes one connection may have with the writer at once. */
#define MAX_WRITES_OUT_PER_CONN 256
static bool sweep_out;              /* a SWEEP job is with the writer */

static void process_input(struct conn *c);
static void due_timer_arm(void);

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void conn_free(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->bev)
		bufferevent_free(c->bev);
	pd_arena_free(&c->arena);
	g_stats.connections_current--;
	free(c);
}

/* Closes now, or later when a job is still out (the writer's reply must
 * find the struct). */
static void conn_close(struct conn *c, const char *why)
{
	log_msg("info", c->id, c->sess.user, "close %s: %s", c->peer, why);
	if (c->jobs_out) {
		c->dead = true;
		if (c->bev) {
			bufferevent_free(c->bev);
			c->bev = NULL;
		}
		return;
	}
	conn_free(c);
}

static void count_reply(int code)
{
	if (code >= 400 && code < 600)
		g_stats.errors_by_code[code]++;
}

static void send_bytes(struct conn *c, const char *p, size_t n)
{
	evbuffer_add(bufferevent_get_output(c->bev), p, n);
}

static void send_reply(struct conn *c, enum pd_framing f, int code,
		       const char *msg)
{
	struct pd_reply rep = { .code = code, .msg = msg };
	struct pd_buf out;
	pd_buf_init(&out);
	pd_reply_render(&rep, f, &out);
	send_bytes(c, out.data, out.len);
	pd_buf_free(&out);
	count_reply(code);
}

/* The loop's read transaction: begun with the resize lock held (shared),
 * nested calls share it, so a burst of pipelined reads of one connection
 * reads one snapshot with one begin. Never held across loop iterations. */
static int loop_txn_depth;

/* Adopts a map another process grew. Returns 0 or an LMDB error (lock
 * released). */
static int loop_read_begin(void)
{
	if (loop_txn_depth) {
		loop_txn_depth++;
		return 0;
	}
	for (int tries = 0; tries < 2; tries++) {
		pthread_rwlock_rdlock(&g_store.resize_lock);
		int rc = loop_rtxn ? mdb_txn_renew(loop_rtxn)
				   : mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &loop_rtxn);
		if (rc == 0) {
			loop_txn_depth = 1;
			return 0;
		}
		pthread_rwlock_unlock(&g_store.resize_lock);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		store_adopt_map(&g_store);
	}
	return MDB_MAP_RESIZED;
}

static void loop_read_end(void)
{
	if (--loop_txn_depth > 0)
		return;
	mdb_txn_reset(loop_rtxn);
	pthread_rwlock_unlock(&g_store.resize_lock);
}

static void run_read_command(struct conn *c, const struct pd_command *cmd,
			     struct pd_value *args, enum pd_framing f)
{
	struct pd_reply rep = { 0 };
	struct cmd_ctx ctx = {
		.a = &c->arena, .cmd = cmd, .args = args, .rep = &rep,
		.st = &g_store, .sess = &c->sess, .cfg = &g_config,
		.now = clock_now(),
	};
	if (loop_read_begin() != 0) {
		send_reply(c, f, 503, "store unavailable");
		return;
	}
	ctx.txn = loop_rtxn;
	dispatch_handler(&ctx);
	struct pd_buf out;
	pd_buf_init(&out);
	pd_reply_render(&rep, f, &out);
	loop_read_end();
	send_bytes(c, out.data, out.len);
	pd_buf_free(&out);
	count_reply(rep.code);
	if (ctx.close_after)
		c->closing = true;
	if (ctx.timers_changed)
		due_timer_arm();
}

/* The session's user was deleted (or its role or password changed) since
 * it logged in: a deleted user is logged out, so is a session whose
 * password was changed by another connection; a changed role takes
 * effect. */
static void session_recheck(struct conn *c)
{
	c->users_seen = users_generation;
	if (loop_read_begin() != 0)
		return;
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *u;
	int rc = store_get(loop_rtxn, g_store.users, c->sess.user, strlen(c->sess.user), &a, &u);
	int64_t pw_seq = 0, pw_by = 0;
	if (rc == 0) {
		pd_map_int(u, "pw_seq", &pw_seq);
		pd_map_int(u, "pw_by_conn", &pw_by);
		if (pw_seq != c->sess.pw_seq && (uint64_t)pw_by == c->id)
			c->sess.pw_seq = pw_seq; /* this connection changed it */
	}
	if (rc == MDB_NOTFOUND || (rc == 0 && pw_seq != c->sess.pw_seq)) {
		log_msg("info", c->id, c->sess.user, "%s: session ends",
			rc ? "user deleted" : "password changed");
		c->sess.role = ROLE_NONE;
		c->sess.user[0] = '\0';
	} else if (rc == 0 && pd_map_str(u, "role")) {
		c->sess.role = pd_role_parse(pd_map_str(u, "role"));
	}
	pd_arena_free(&a);
	loop_read_end();
}

/* An AUTH may start hashing: the hashing queue has room (a flood of logins
 * is shed before the logged-in work of BACKUP and USER PASSWD, which always
 * queues), and its address and user are within their failed-login limits
 * (logins.h). Else the refusal is sent and false returned. */
static bool auth_admit(struct conn *c, const struct pd_value *args, enum pd_framing f)
{
	char msg[200];
	if ((int64_t)slow_jobs_out >= g_config.auth_queue_max) {
		send_reply(c, f, 503, "busy: too many logins waiting, try again in a moment");
		return false;
	}
	int code = login_begin(&g_config, c->addr, pd_arg_str(args, "user"), monotonic_ms(),
			       msg, sizeof(msg));
	if (code) {
		send_reply(c, f, code, msg);
		return false;
	}
	return true;
}

/* Handles one parsed request, or defers it (returns false: it stays in the
 * input and is parsed again) when its reply would overtake jobs still out. */
static bool handle_request(struct conn *c, const struct pd_request *req)
{
	struct pd_error err;
	size_t used;
	if (req->word_count == 0)
		return true; /* blank line: nothing to answer */
	const struct pd_command *cmd = pd_command_lookup(req, &used, &err);
	struct pd_value *args = NULL;
	bool bad = !cmd || pd_command_bind(&c->arena, cmd, req, used, &args, &err) < 0;
	bool is_write = !bad && (cmd->flags & CMD_WRITE);
	if (c->jobs_out && (!is_write || c->slow_out || c->jobs_out >= MAX_WRITES_OUT_PER_CONN))
		return false;
	if (req->framing == PD_FRAMING_TEXT)
		g_stats.requests_text++;
	else
		g_stats.requests_msgpack++;
	if (bad) {
		send_reply(c, req->framing, err.code, err.msg);
		return true;
	}
	g_stats.commands[cmd->id]++;
	if (c->sess.role != ROLE_NONE && c->users_seen != users_generation)
		session_recheck(c);
	if (cmd->role != ROLE_NONE && c->sess.role == ROLE_NONE) {
		send_reply(c, req->framing, 401, "log in first: AUTH user password");
		return true;
	}
	if (c->sess.role < cmd->role) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%s%s%s needs the %s role", cmd->word,
			 cmd->sub ? " " : "", cmd->sub ? cmd->sub : "",
			 pd_role_name(cmd->role));
		send_reply(c, req->framing, 403, msg);
		return true;
	}
	if (!(cmd->flags & (CMD_WRITE | CMD_SLOW))) {
		run_read_command(c, cmd, args, req->framing);
		return true;
	}
	if (cmd->id == PD_CMD_auth && !auth_admit(c, args, req->framing))
		return true;
	struct job *job = job_new();
	job->conn = c;
	job->cmd = cmd;
	job->args = pd_value_copy(&job->arena, args);
	job->framing = req->framing;
	job->sess = c->sess;
	job->now = clock_now();
	c->jobs_out++;
	jobs_out++;
	if (cmd->flags & CMD_SLOW) {
		c->slow_out = true;
		slow_jobs_out++;
		slow_submit(job);
	} else {
		writer_submit(job);
	}
	return true;
}

static void job_done(struct job *job)
{
	struct conn *c = job->conn;
	jobs_out--;
	if (job->timers_changed)
		due_timer_arm();
	if (!c) {
		/* the daemon's own SWEEP: nobody to answer */
		sweep_out = false;
		if (job->code >= 300)
			log_msg("error", 0, "parceldeskd", "sweep failed: %.*s", (int)job->out.len, job->out.data);
		job_free(job);
		due_timer_arm();
		return;
	}
	c->jobs_out--;
	if (job->cmd->flags & CMD_SLOW) {
		c->slow_out = false;
		slow_jobs_out--;
	}
	if (job->cmd->id == PD_CMD_auth)
		login_end(&g_config, c->addr, pd_arg_str(job->args, "user"), job->auth_ok,
			  monotonic_ms());
	if (c->dead) {
		job_free(job);
		if (!c->jobs_out)
			conn_free(c);
		return;
	}
	send_bytes(c, job->out.data, job->out.len);
	count_reply(job->code);
	if ((job->cmd->id == PD_CMD_user_del || job->cmd->id == PD_CMD_user_passwd) &&
	    job->code >= 200 && job->code < 300)
		users_generation++;
	if (job->auth_ok) {
		memcpy(c->sess.user, job->auth_user, sizeof(c->sess.user));
		c->sess.role = job->auth_role;
		c->sess.pw_seq = job->auth_pw_seq;
		c->users_seen = users_generation;
		log_msg("info", c->id, c->sess.user, "logged in as %s",
			pd_role_name(c->sess.role));
	}
	if (job->close_after)
		c->closing = true;
	job_free(job);
	process_input(c);
}

/* One text line from the input, or a 413 for an oversized one. Returns 1 if
 * a request was handled, 0 when more bytes are needed. */
static int take_text_line(struct conn *c, struct evbuffer *in, size_t len)
{
	size_t eol_len;
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	char msg[96];
	if (eol.pos < 0) {
		/* the limit counts the line, not its "\r\n": allow one \r more */
		if (len > (size_t)g_config.max_line_bytes + 1) {
			if (c->jobs_out)
				return 0; /* the 413 waits for the jobs ahead */
			snprintf(msg, sizeof(msg), "line longer than %lld bytes",
				 (long long)g_config.max_line_bytes);
			send_reply(c, PD_FRAMING_TEXT, 413, msg);
			evbuffer_drain(in, len);
			c->skipping_line = true;
			return 1;
		}
		return 0;
	}
	size_t line_len = (size_t)eol.pos;
	size_t content = line_len;
	if (content) {
		char last;
		struct evbuffer_ptr cr;
		evbuffer_ptr_set(in, &cr, line_len - 1, EVBUFFER_PTR_SET);
		if (evbuffer_copyout_from(in, &cr, &last, 1) == 1 && last == '\r')
			content--;
	}
	if (content > (size_t)g_config.max_line_bytes) {
		if (c->jobs_out)
			return 0;
		snprintf(msg, sizeof(msg), "line longer than %lld bytes",
			 (long long)g_config.max_line_bytes);
		send_reply(c, PD_FRAMING_TEXT, 413, msg);
		evbuffer_drain(in, line_len + eol_len);
		return 1;
	}
	char *line = (char *)evbuffer_pullup(in, (ssize_t)(line_len + eol_len));
	size_t n = line_len;
	if (n && line[n - 1] == '\r')
		n--;
	struct pd_request req;
	struct pd_error err;
	pd_arena_reset(&c->arena);
	if (pd_parse_text_line(&c->arena, line, n, &req, &err) < 0) {
		if (c->jobs_out)
			return 0; /* its error reply waits for the jobs ahead */
		g_stats.requests_text++;
		send_reply(c, PD_FRAMING_TEXT, err.code, err.msg);
	} else if (!handle_request(c, &req)) {
		return 0;
	}
	evbuffer_drain(in, line_len + eol_len);
	return 1;
}

static int take_msgpack_frame(struct conn *c, struct evbuffer *in, size_t len)
{
	size_t max = (size_t)g_config.max_frame_bytes;
	size_t avail = len < max ? len : max;
	const char *p = (const char *)evbuffer_pullup(in, (ssize_t)avail);
	struct pd_value *v;
	size_t used;
	pd_arena_reset(&c->arena);
	enum pd_unpack_status st = pd_value_unpack(&c->arena, p, avail, &used, &v);
	if (st != PD_UNPACK_OK && c->jobs_out)
		return 0; /* answered after the jobs ahead */
	if (st == PD_UNPACK_INCOMPLETE) {
		if (len < max)
			return 0;
		char msg[96];
		snprintf(msg, sizeof(msg), "msgpack frame larger than %zu bytes", max);
		send_reply(c, PD_FRAMING_MSGPACK, 413, msg);
		c->closing = true; /* no way to find the next frame */
		return 1;
	}
	if (st != PD_UNPACK_OK) {
		send_reply(c, PD_FRAMING_MSGPACK, 400,
			   st == PD_UNPACK_TOO_DEEP ? "msgpack nested too deep"
						    : "malformed msgpack");
		c->closing = true;
		return 1;
	}
	struct pd_request req;
	struct pd_error err;
	if (pd_request_from_msgpack(&c->arena, v, &req, &err) < 0) {
		if (c->jobs_out)
			return 0;
		g_stats.requests_msgpack++;
		send_reply(c, PD_FRAMING_MSGPACK, err.code, err.msg);
	} else if (!handle_request(c, &req)) {
		return 0;
	}
	evbuffer_drain(in, used);
	return 1;
}

static void process_input(struct conn *c)
{
	/* one read snapshot for the burst of requests read in this callback */
	bool snapshot = c->bev && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 &&
			loop_read_begin() == 0;
	while (!c->closing && !c->dead && !shutting_down) {
		struct evbuffer *in = bufferevent_get_input(c->bev);
		struct evbuffer *out = bufferevent_get_output(c->bev);
		if (evbuffer_get_length(out) > (size_t)g_config.max_output_bytes) {
			/* back-pressure: stop reading until the client reads */
			bufferevent_disable(c->bev, EV_READ);
			c->read_paused = true;
			break;
		}
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			break;
		if (c->skipping_line) {
			size_t eol_len;
			struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
			if (eol.pos < 0) {
				evbuffer_drain(in, len);
				break;
			}
			evbuffer_drain(in, (size_t)eol.pos + eol_len);
			c->skipping_line = false;
			continue;
		}
		unsigned char first;
		evbuffer_copyout(in, &first, 1);
		int took = pd_is_msgpack_start(first) ? take_msgpack_frame(c, in, len)
						      : take_text_line(c, in, len);
		if (!took)
			break;
	}
	if (snapshot)
		loop_read_end();
	bool drained = c->peer_done && !c->jobs_out &&
		       evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
	if ((c->closing || drained) && !c->jobs_out &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close(c, c->closing ? "done" : "client closed");
	else if (drained)
		c->closing = true; /* close once the replies are out */
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process_input(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->closing && !c->jobs_out &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		conn_close(c, "done");
		return;
	}
	if (c->read_paused) {
		c->read_paused = false;
		bufferevent_enable(bev, EV_READ);
		process_input(c);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		conn_close(c, "idle timeout");
	} else if (what & BEV_EVENT_EOF) {
		/* a half-close (printf ... | nc) still gets every reply: run
		 * what is buffered, finish the job out, then close */
		c->peer_done = true;
		bufferevent_disable(c->bev, EV_READ);
		process_input(c);
	}
	else if (what & BEV_EVENT_ERROR)
		conn_close(c, strerror(EVUTIL_SOCKET_ERROR()));
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *addr, int socklen, void *arg)
{
	(void)l; (void)socklen; (void)arg;
	if ((int64_t)g_stats.connections_current >= g_config.max_connections) {
		static const char msg[] = "429 too many connections\r\n";
		g_stats.connections_rejected++;
		g_stats.errors_by_code[429]++;
		if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			(void)0;
		evutil_closesocket(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->id = next_conn_id++;
	c->sess.conn_id = c->id;
	pd_arena_init(&c->arena);
	char host[48] = "?";
	if (addr->sa_family == AF_INET)
		evutil_inet_ntop(AF_INET, &((struct sockaddr_in *)addr)->sin_addr, host, sizeof(host));
	else if (addr->sa_family == AF_INET6)
		evutil_inet_ntop(AF_INET6, &((struct sockaddr_in6 *)addr)->sin6_addr, host, sizeof(host));
	int port = addr->sa_family == AF_INET ? ntohs(((struct sockaddr_in *)addr)->sin_port)
					      : ntohs(((struct sockaddr_in6 *)addr)->sin6_port);
	snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
	snprintf(c->addr, sizeof(c->addr), "%s", host);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	g_stats.connections_total++;
	g_stats.connections_current++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* stop reading a client that sends far ahead of its replies */
	bufferevent_setwatermark(c->bev, EV_READ, 0,
				 (size_t)(g_config.max_frame_bytes + g_config.max_line_bytes + 4096));
	bufferevent_setwatermark(c->bev, EV_WRITE, (size_t)g_config.max_output_bytes / 2, 0);
	/* idle both ways: a client that neither sends nor reads its replies
	 * (reading is paused by back-pressure) is closed too */
	struct timeval idle = { (time_t)g_config.idle_timeout_secs, 0 };
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_msg("info", c->id, NULL, "accept %s", c->peer);
}

/* One timer for every due time in the store: it is set to the earliest
 * entry of `timers` (an O(log n) look-up) and, when it fires, SWEEP runs in
 * the writer. Re-armed after every job that changed a due time. */
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
	jobs_out++;
	writer_submit(job);
}

static void due_timer_arm(void)
{
	if (!due_timer || sweep_out || shutting_down)
		return;
	int64_t at = 0;
	if (loop_read_begin() == 0) {
		at = timer_next(loop_rtxn, &g_store);
		loop_read_end();
	}
	event_del(due_timer);
	if (!at)
		return;
	int64_t wait = at - clock_now();
	struct timeval tv = { wait > 0 ? (time_t)wait : 0, 0 };
	event_add(due_timer, &tv);
}

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (jobs_out > 0)
		return; /* in-flight writes are finished and answered first */
	struct timeval grace = { 0, 200000 };
	event_base_loopexit(base, &grace);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what; (void)arg;
	if (shutting_down)
		return;
	log_msg("info", 0, NULL, "signal %d: stopping (finishing %llu in-flight jobs)",
		(int)sig, (unsigned long long)jobs_out);
	shutting_down = true;
	event_del(due_timer);
	evconnlistener_disable(listener);
	for (struct conn *c = conns; c; c = c->next)
		if (c->bev)
			bufferevent_disable(c->bev, EV_READ);
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
	while (conns)
		conn_free(conns);
	if (loop_rtxn)
		mdb_txn_abort(loop_rtxn);
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
