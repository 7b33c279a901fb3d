/* import.c — bulk import of text protocol request lines (as contrib/gen
 * writes them), one request a line, from a file or standard input.
 *
 * Into a running daemon:
 *   import [-h HOST] [-p PORT] [-u USER] [-a PASSWORD] [-c CONNS] [-w WINDOW] [FILE|-]
 * Each line is parsed with the protocol's own tokenizer (pd_parse_text_line)
 * and sent as a msgpack request (the words, then one map of the named
 * arguments). Requests are pipelined over a few connections, up to WINDOW
 * unanswered on each; every line of one waybill (the first positional
 * argument) goes to the same connection, so its scans follow its CREATE in
 * order. The daemon answers a connection's requests in order and starts its
 * next write only after the previous one is committed, so the rate grows
 * with the number of connections, not with the window.
 *
 * Into a stopped daemon's store:
 *   import --data-dir DIR [--config FILE] [--batch N] [--force] [FILE|-]
 * Opens the store with store_open() and runs every request through the same
 * command table and handlers as the daemon (pd_command_lookup,
 * pd_command_bind, dispatch_handler), each in a nested transaction of a
 * batch write transaction committed every N requests (default 10000), as
 * user "import" with the admin role. Indexes and audit entries are exactly
 * what the daemon writes. A request that fails rolls back only itself, as
 * in the daemon's writer; req=TOKEN is honoured the same way (per user).
 * Only write commands are applied.
 *
 * LMDB itself allows several processes on one store (writers take turns on
 * its writer lock), but the importer refuses a store another process has
 * open unless --force: a daemon does not adopt a map the importer had to
 * grow (its transactions then fail until it is restarted), it does not
 * re-arm its due-time timer for what the importer wrote, and a bulk batch
 * holds the writer lock for a long while. Import over the network instead.
 *
 * Both modes show a progress bar on a terminal (count, rate, time left when
 * the input is a file), print the first 20 rejected rows (line number, code,
 * message) and then only count them, and end with a summary. Exit status:
 * 0 every row accepted, 1 some rows rejected, 2 usage or fatal error.
 * Blank lines and lines starting with '#' are skipped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "daemon.h"
#include "writer.h"

#define BATCH_REQUESTS_DEFAULT 10000
#define WINDOW_DEFAULT 1000
#define CONNECTIONS_DEFAULT 16
#define MAX_CONNECTIONS 512
#define REJECTS_SHOWN 20
#define PROGRESS_INTERVAL_SECS 0.2
#define BAR_WIDTH 28
#define UNSENT_HIGH_BYTES (256 * 1024)
#define READ_CHUNK_BYTES (64 * 1024)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- input: lines of a file or stdin ---- */

struct input {
	FILE *f;
	const char *name;
	uint64_t total_bytes; /* 0 when unknown (a pipe) */
	uint64_t bytes;       /* read so far */
	uint64_t line_no;
	char *buf;
	size_t cap;
};

static void input_open(struct input *in, const char *path)
{
	memset(in, 0, sizeof(*in));
	in->name = path;
	in->f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!in->f)
		die("cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(in->f), &st) == 0 && S_ISREG(st.st_mode))
		in->total_bytes = (uint64_t)st.st_size;
}

static void input_close(struct input *in)
{
	free(in->buf);
	if (in->f != stdin)
		fclose(in->f);
}

/* Next request line without its terminator: 1, or 0 at the end. Blank
 * lines and '#' comments are skipped. */
static int input_next(struct input *in, char **line, size_t *len)
{
	for (;;) {
		ssize_t n = getline(&in->buf, &in->cap, in->f);
		if (n < 0) {
			if (ferror(in->f))
				die("reading %s: %s", in->name, strerror(errno));
			return 0;
		}
		in->bytes += (uint64_t)n;
		in->line_no++;
		size_t l = (size_t)n;
		if (l && in->buf[l - 1] == '\n')
			l--;
		if (l && in->buf[l - 1] == '\r')
			l--;
		size_t i = 0;
		while (i < l && (in->buf[i] == ' ' || in->buf[i] == '\t'))
			i++;
		if (i == l || in->buf[i] == '#')
			continue;
		*line = in->buf;
		*len = l;
		return 1;
	}
}

/* ---- progress, rejects and the summary ---- */

struct report {
	int tty;
	double start, last_draw;
	uint64_t accepted, rejected;
	uint64_t working;  /* applied in the open batch, not yet committed */
	int drawn;
	const struct input *in;
};

static struct report report;

static double now_secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void format_duration(double secs, char *out, size_t cap)
{
	long s = secs < 0 ? 0 : (long)(secs + 0.5);
	if (s >= 3600)
		snprintf(out, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, cap, "%ld:%02ld", s / 60, s % 60);
}

static void progress_clear(void)
{
	if (report.drawn) {
		fputs("\r\033[K", stderr);
		report.drawn = 0;
	}
}

static void progress_draw(int force)
{
	if (!report.tty)
		return;
	double now = now_secs();
	if (!force && now - report.last_draw < PROGRESS_INTERVAL_SECS)
		return;
	report.last_draw = now;
	double elapsed = now - report.start;
	uint64_t done = report.accepted + report.rejected + report.working;
	double rate = elapsed > 0 ? (double)done / elapsed : 0;
	char took[32], left[32];
	format_duration(elapsed, took, sizeof(took));
	const struct input *in = report.in;
	if (in->total_bytes) {
		double frac = (double)in->bytes / (double)in->total_bytes;
		if (frac > 1)
			frac = 1;
		char bar[BAR_WIDTH + 1];
		int fill = (int)(frac * BAR_WIDTH);
		for (int i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[BAR_WIDTH] = '\0';
		if (frac > 0)
			format_duration(elapsed * (1 - frac) / frac, left, sizeof(left));
		else
			snprintf(left, sizeof(left), "?");
		fprintf(stderr, "\r[%s] %5.1f%%  %llu rows  %.0f/s  %s left\033[K", bar,
			frac * 100, (unsigned long long)done, rate, left);
	} else {
		fprintf(stderr, "\r%llu rows  %.0f/s  %s\033[K", (unsigned long long)done,
			rate, took);
	}
	report.drawn = 1;
}

static void report_reject(uint64_t line_no, int code, const char *msg)
{
	report.rejected++;
	if (report.rejected > REJECTS_SHOWN)
		return;
	progress_clear();
	fprintf(stderr, "import: line %llu rejected: %d %s\n", (unsigned long long)line_no,
		code, msg ? msg : "");
	if (report.rejected == REJECTS_SHOWN)
		fprintf(stderr, "import: further rejected rows are only counted\n");
}

static int report_finish(void)
{
	progress_clear();
	double elapsed = now_secs() - report.start;
	uint64_t total = report.accepted + report.rejected;
	fprintf(stderr, "import: %llu rows: %llu accepted, %llu rejected, %.1f s, %.0f rows/s\n",
		(unsigned long long)total, (unsigned long long)report.accepted,
		(unsigned long long)report.rejected, elapsed,
		elapsed > 0 ? (double)total / elapsed : 0.0);
	return report.rejected ? 1 : 0;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	progress_clear();
	va_start(ap, fmt);
	fputs("import: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---- into a stopped daemon's store ---- */

static const struct session import_session = { .user = "import", .role = ROLE_ADMIN };

/* What became of one line. code 0: nothing to do (a blank request). */
struct outcome {
	int code;
	char msg[256];
};

static void outcome_set(struct outcome *o, int code, const char *msg)
{
	o->code = code;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
}

/* Applies one line inside the batch transaction, in a nested transaction
 * of its own. Returns 0 (the outcome says what happened), MDB_MAP_FULL
 * when the map must grow (the batch is run again), or another LMDB error
 * the batch cannot survive. */
static int apply_line(MDB_txn *batch, struct pd_arena *a, const char *line,
		      size_t len, struct outcome *out)
{
	pd_arena_reset(a);
	struct pd_request req;
	struct pd_error err;
	size_t used;
	struct pd_value *args;
	if (pd_parse_text_line(a, line, len, &req, &err) < 0) {
		outcome_set(out, err.code, err.msg);
		return 0;
	}
	if (req.word_count == 0) {
		outcome_set(out, 0, NULL);
		return 0;
	}
	const struct pd_command *cmd = pd_command_lookup(&req, &used, &err);
	if (!cmd || pd_command_bind(a, cmd, &req, used, &args, &err) < 0) {
		outcome_set(out, err.code, err.msg);
		return 0;
	}
	if (!(cmd->flags & CMD_WRITE)) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s%s%s is not a write: the importer applies writes only",
			 cmd->word, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "");
		outcome_set(out, 400, msg);
		return 0;
	}

	struct pd_reply rep = { 0 };
	struct cmd_ctx ctx = {
		.a = a, .cmd = cmd, .args = args, .rep = &rep, .st = &g_store,
		.sess = &import_session, .cfg = &g_config, .now = clock_now(),
	};
	int rc = write_prepare(cmd, a, args);
	if (rc == 0)
		rc = write_apply(batch, &ctx, true);
	if (rc == MDB_MAP_FULL)
		return rc;
	if (rc) {
		char msg[160];
		snprintf(msg, sizeof(msg), "internal error: store write failed, nothing written (%s)",
			 mdb_strerror(rc));
		outcome_set(out, 500, msg);
		return 0;
	}
	outcome_set(out, rep.code, rep.msg);
	return 0;
}

/* The lines of one batch, kept until it is committed so that it can run
 * again after the map has grown. */
struct batch {
	char *text;
	size_t len, cap;
	struct batch_line { uint64_t line_no; size_t off, len; } *lines;
	size_t count, lines_cap;
	struct pending_reject { uint64_t line_no; struct outcome o; } *rejects;
	size_t reject_count, rejects_cap;
};

static void *grow_array(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	p = realloc(p, n * elem);
	if (!p)
		die("out of memory");
	*cap = n;
	return p;
}

static void batch_add(struct batch *b, uint64_t line_no, const char *line, size_t len)
{
	b->text = grow_array(b->text, &b->cap, b->len + len, 1);
	memcpy(b->text + b->len, line, len);
	b->lines = grow_array(b->lines, &b->lines_cap, b->count + 1, sizeof(*b->lines));
	b->lines[b->count++] = (struct batch_line){ line_no, b->len, len };
	b->len += len;
}

static void batch_grow_map(size_t full)
{
	progress_clear();
	if (store_grow(&g_store, full) != 0)
		die("the store is full and its map cannot grow");
}

/* Runs the batch in one write transaction and commits it. */
static void batch_apply(struct batch *b, struct pd_arena *a)
{
	for (;;) {
		MDB_txn *txn;
		size_t map = g_store.map_size; /* the importer's one thread grows it */
		int rc = mdb_txn_begin(g_store.env, NULL, 0, &txn);
		if (rc)
			die("cannot begin a write transaction: %s", mdb_strerror(rc));
		b->reject_count = 0;
		uint64_t accepted = 0;
		report.working = 0;
		for (size_t i = 0; i < b->count && rc == 0; i++) {
			struct outcome o;
			rc = apply_line(txn, a, b->text + b->lines[i].off, b->lines[i].len, &o);
			if (rc)
				break;
			if (o.code >= 200 && o.code < 300) {
				accepted++;
			} else if (o.code) {
				b->rejects = grow_array(b->rejects, &b->rejects_cap, b->reject_count + 1,
							sizeof(*b->rejects));
				b->rejects[b->reject_count++] = (struct pending_reject){ b->lines[i].line_no, o };
			}
			report.working++;
			if ((i & 255) == 0)
				progress_draw(0);
		}
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL) {
			batch_grow_map(map);
			continue;
		}
		if (rc)
			die("write transaction failed, the last batch is not written: %s",
			    mdb_strerror(rc));
		report.working = 0;
		report.accepted += accepted;
		for (size_t i = 0; i < b->reject_count; i++)
			report_reject(b->rejects[i].line_no, b->rejects[i].o.code, b->rejects[i].o.msg);
		break;
	}
	b->len = 0;
	b->count = 0;
}

/* Another process holding LMDB's lock file open keeps a shared fcntl lock
 * on its first byte (mdb_env_excl_lock); ask who, before we open it. */
static pid_t store_holder(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	int rc = fcntl(fd, F_GETLK, &fl);
	close(fd); /* drops no lock of ours: the store is not open yet */
	return rc == 0 && fl.l_type != F_UNLCK ? fl.l_pid : 0;
}

static void set_timezone(const char *zone)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	if (strstr(zone, "..") || access(path, R_OK) != 0)
		die("unknown time zone '%s' (no %s)", zone, path);
	setenv("TZ", zone, 1);
	tzset();
}

static int import_store(const char *dir, const char *config_path, long batch_size,
			int force, struct input *in)
{
	config_default(&g_config);
	if (config_path && config_load_file(&g_config, config_path) < 0)
		return 2;
	if (config_set(&g_config, "data_dir", dir) < 0 || config_validate(&g_config) < 0)
		return 2;
	/* the daemon's zone: times without an offset are read in it */
	set_timezone(g_config.timezone);
	if (modules_setup(&g_config) != 0)
		return 2;
	pid_t holder = store_holder(dir);
	if (holder && !force)
		die("the store in %s is open in process %ld (a running parceldeskd?): stop it, "
		    "or import over the network (-h HOST -p PORT), or give --force",
		    dir, (long)holder);
	if (store_open(&g_store, dir, (size_t)g_config.map_size_mb << 20) < 0)
		return 2;

	struct pd_arena arena;
	pd_arena_init(&arena);
	struct batch b = { 0 };
	char *line;
	size_t len;
	report.start = report.last_draw = now_secs();
	while (input_next(in, &line, &len)) {
		batch_add(&b, in->line_no, line, len);
		if ((long)b.count >= batch_size)
			batch_apply(&b, &arena);
	}
	if (b.count)
		batch_apply(&b, &arena);
	progress_draw(1);
	store_close(&g_store);
	pd_arena_free(&arena);
	free(b.text);
	free(b.lines);
	free(b.rejects);
	return report_finish();
}

/* ---- into a running daemon ---- */

struct net_conn {
	int fd;
	struct pd_buf out;
	size_t out_sent;
	char *in;
	size_t in_len, in_cap;
	uint64_t *fifo; /* line numbers of the unanswered requests */
	size_t head, count, window;
	struct pd_arena arena;
};

/* A request as the daemon's msgpack framing takes it: the words, then one
 * map of the named arguments (when there are any). */
static void pack_request(struct pd_buf *out, const struct pd_request *req)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, out, pd_buf_write);
	size_t named = req->named->u.c.count;
	msgpack_pack_array(&pk, req->word_count + (named ? 1 : 0));
	for (size_t i = 0; i < req->word_count; i++)
		pd_value_pack(&pk, req->words[i]);
	if (named)
		pd_value_pack(&pk, req->named);
}

static void net_connect(struct net_conn *c, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		die("%s:%s: %s", host, port, gai_strerror(rc));
	c->fd = -1;
	int err = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (c->fd < 0)
			continue;
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		die("cannot connect to %s:%s: %s", host, port, strerror(err));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pd_buf_init(&c->out);
	pd_arena_init(&c->arena);
}

static void conn_send(struct net_conn *c)
{
	while (c->out_sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			die("sending to the daemon: %s", strerror(errno));
		}
		c->out_sent += (size_t)n;
	}
	if (c->out_sent == c->out.len) {
		c->out.len = 0;
		c->out_sent = 0;
	}
}

/* Reads what has arrived; returns 0 at the end of the stream. */
static int conn_recv(struct net_conn *c, int blocking)
{
	for (;;) {
		if (c->in_cap - c->in_len < READ_CHUNK_BYTES) {
			c->in_cap = c->in_cap ? c->in_cap * 2 : 4 * READ_CHUNK_BYTES;
			c->in = realloc(c->in, c->in_cap);
			if (!c->in)
				die("out of memory");
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len,
				 blocking ? 0 : MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			die("reading from the daemon: %s", strerror(errno));
		}
		if (n == 0)
			return 0;
		c->in_len += (size_t)n;
		if (blocking)
			return 1;
	}
}

/* Decodes the next complete reply, if one has arrived: 1 and rep, or 0. */
static int conn_next_reply(struct net_conn *c, size_t *off, struct pd_reply *rep)
{
	if (*off >= c->in_len)
		return 0;
	struct pd_value *v;
	size_t used;
	enum pd_unpack_status st = pd_value_unpack(&c->arena, c->in + *off, c->in_len - *off, &used, &v);
	if (st == PD_UNPACK_INCOMPLETE)
		return 0;
	if (st != PD_UNPACK_OK || pd_reply_from_msgpack(v, rep) < 0) {
		/* refusals before any request (429 too many connections) are text */
		const char *p = c->in + *off;
		size_t n = c->in_len - *off;
		const char *eol = memchr(p, '\n', n);
		if (n >= 4 && p[0] >= '1' && p[0] <= '5' && p[3] == ' ')
			die("the daemon said: %.*s", (int)((eol ? (size_t)(eol - p) : n) > 200 ? 200
							 : (eol ? (size_t)(eol - p) : n)), p);
		die("the daemon sent a reply that is not a msgpack reply map");
	}
	*off += used;
	return 1;
}

static void conn_consume(struct net_conn *c, size_t off)
{
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

static void net_auth_send(struct net_conn *c, const char *user, const char *password)
{
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_request req = { .framing = PD_FRAMING_MSGPACK, .word_count = 3, .named = pd_map(&a) };
	req.words[0] = pd_str(&a, "AUTH");
	req.words[1] = pd_str(&a, user);
	req.words[2] = pd_str(&a, password);
	pack_request(&c->out, &req);
	pd_arena_free(&a);
	while (c->out.len) {
		conn_send(c);
		if (c->out.len) {
			struct pollfd p = { .fd = c->fd, .events = POLLOUT };
			poll(&p, 1, 1000);
		}
	}
}

static void net_auth_wait(struct net_conn *c, const char *user)
{
	struct pd_reply rep;
	size_t off = 0;
	while (!conn_next_reply(c, &off, &rep))
		if (!conn_recv(c, 1))
			die("the daemon closed the connection during AUTH");
	if (rep.code != 200)
		die("AUTH %s: %d %s", user, rep.code, rep.msg ? rep.msg : "");
	conn_consume(c, off);
	pd_arena_reset(&c->arena);
}

static void conn_push(struct net_conn *c, uint64_t line_no)
{
	c->fifo[(c->head + c->count) % c->window] = line_no;
	c->count++;
}

static uint64_t conn_pop(struct net_conn *c)
{
	uint64_t line_no = c->fifo[c->head];
	c->head = (c->head + 1) % c->window;
	c->count--;
	return line_no;
}

/* Replies come in request order: each answers the oldest unanswered line. */
static void conn_take_replies(struct net_conn *c)
{
	size_t off = 0;
	struct pd_reply rep;
	while (c->count && conn_next_reply(c, &off, &rep)) {
		uint64_t line_no = conn_pop(c);
		if (rep.code >= 200 && rep.code < 300)
			report.accepted++;
		else
			report_reject(line_no, rep.code, rep.msg);
	}
	if (off)
		conn_consume(c, off);
	pd_arena_reset(&c->arena);
}

/* The connection of a line: by its waybill (the first positional argument,
 * or the waybill=/number= argument), so one parcel's lines stay in order. */
static size_t route(const struct pd_request *req, size_t conns)
{
	struct pd_error err;
	size_t used = 0;
	const struct pd_value *key = NULL;
	if (pd_command_lookup(req, &used, &err) && used < req->word_count)
		key = req->words[used];
	if (!key)
		key = pd_map_get(req->named, "waybill");
	if (!key)
		key = pd_map_get(req->named, "number");
	if (!key || key->type != PD_STR)
		return 0;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < key->u.s.len; i++)
		h = (h ^ (unsigned char)key->u.s.ptr[i]) * 1099511628211ULL;
	return (size_t)(h % conns);
}

static int import_net(const char *host, const char *port, const char *user,
		      const char *password, int conn_count, long window, struct input *in)
{
	if (pd_commands_init() < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	struct net_conn *conns = calloc((size_t)conn_count, sizeof(*conns));
	struct pollfd *pfd = calloc((size_t)conn_count, sizeof(*pfd));
	if (!conns || !pfd)
		die("out of memory");
	/* every login is a deliberately slow password hash on the daemon's one
	 * hashing thread: send them all, then wait */
	double login_start = now_secs();
	for (int i = 0; i < conn_count; i++) {
		net_connect(&conns[i], host, port);
		net_auth_send(&conns[i], user, password);
	}
	for (int i = 0; i < conn_count; i++) {
		net_auth_wait(&conns[i], user);
		conns[i].window = (size_t)window;
		conns[i].fifo = calloc((size_t)window, sizeof(uint64_t));
		if (!conns[i].fifo)
			die("out of memory");
	}

	struct pd_arena line_arena;
	pd_arena_init(&line_arena);
	struct pd_request req;
	struct pd_error err;
	int have_pending = 0, input_done = 0;
	size_t target = 0;
	uint64_t outstanding = 0;
	report.start = report.last_draw = now_secs();
	if (report.start - login_start > 1)
		fprintf(stderr, "import: %d connections logged in in %.1f s (not counted in the rate)\n",
			conn_count, report.start - login_start);

	while (!input_done || outstanding) {
		/* queue lines until a connection's window is full */
		int unsent_high = 0;
		while (!input_done && !unsent_high) {
			if (!have_pending) {
				char *line;
				size_t len;
				if (!input_next(in, &line, &len)) {
					input_done = 1;
					break;
				}
				pd_arena_reset(&line_arena);
				if (pd_parse_text_line(&line_arena, line, len, &req, &err) < 0) {
					/* the daemon's own tokenizer: it would answer the same */
					report_reject(in->line_no, err.code, err.msg);
					continue;
				}
				if (req.word_count == 0)
					continue;
				target = route(&req, (size_t)conn_count);
				have_pending = 1;
			}
			struct net_conn *c = &conns[target];
			if (c->count >= c->window)
				break;
			pack_request(&c->out, &req);
			conn_push(c, in->line_no);
			outstanding++;
			have_pending = 0;
			unsent_high = c->out.len - c->out_sent > UNSENT_HIGH_BYTES;
		}
		for (int i = 0; i < conn_count; i++) {
			conn_send(&conns[i]);
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN | (conns[i].out.len ? POLLOUT : 0);
			pfd[i].revents = 0;
		}
		if (!outstanding && input_done)
			break;
		if (poll(pfd, (nfds_t)conn_count, 200) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (int i = 0; i < conn_count; i++) {
			struct net_conn *c = &conns[i];
			if (pfd[i].revents & POLLOUT)
				conn_send(c);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				int open = conn_recv(c, 0);
				uint64_t before = c->count;
				conn_take_replies(c);
				outstanding -= before - c->count;
				if (!open && c->count)
					die("the daemon closed a connection with %zu requests unanswered "
					    "(from line %llu on)", c->count,
					    (unsigned long long)c->fifo[c->head]);
				if (!open && !input_done)
					die("the daemon closed a connection");
			}
		}
		progress_draw(0);
	}
	progress_draw(1);
	for (int i = 0; i < conn_count; i++) {
		close(conns[i].fd);
		pd_buf_free(&conns[i].out);
		pd_arena_free(&conns[i].arena);
		free(conns[i].in);
		free(conns[i].fifo);
	}
	free(conns);
	free(pfd);
	pd_arena_free(&line_arena);
	return report_finish();
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: import [-h HOST] [-p PORT] [-u USER] [-a PASSWORD] [-c CONNS] [-w WINDOW] [FILE|-]\n"
		"       import --data-dir DIR [--config FILE] [--batch N] [--force] [FILE|-]\n"
		"Imports parceldesk text requests, one a line (as contrib/gen writes them).\n"
		"Into a running daemon (default 127.0.0.1:7420, user admin; the password from -a or\n"
		"PARCELDESK_PASSWORD), pipelined over CONNS connections (default %d), WINDOW requests\n"
		"unanswered on each (default %d); the lines of one waybill share a connection.\n"
		"Or into the store of a stopped daemon in DIR, through the daemon's own handlers, as\n"
		"user 'import', committing every N requests (default %d); --config reads the daemon's\n"
		"config file for its time zone and rules. Refuses a store another process has open\n"
		"unless --force.\n"
		"Exit status: 0 all rows accepted, 1 some rejected, 2 error.\n",
		CONNECTIONS_DEFAULT, WINDOW_DEFAULT, BATCH_REQUESTS_DEFAULT);
}

static long parse_long(const char *opt, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s needs an integer from %ld to %ld, got '%s'", opt, min, max, s);
	return v;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "7420", *user = "admin";
	const char *password = getenv("PARCELDESK_PASSWORD");
	const char *data_dir = NULL, *config_path = NULL, *path = NULL;
	long conn_count = CONNECTIONS_DEFAULT, window = WINDOW_DEFAULT;
	long batch_size = BATCH_REQUESTS_DEFAULT;
	int force = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--force")) {
			force = 1;
			continue;
		}
		if (a[0] != '-' || !strcmp(a, "-")) {
			if (path)
				die("one input file only (got '%s' and '%s')", path, a);
			path = a;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "import: %s needs a value (or is unknown)\n", a);
			usage(stderr);
			return 2;
		}
		const char *v = argv[++i];
		if (!strcmp(a, "-h") || !strcmp(a, "--host"))
			host = v;
		else if (!strcmp(a, "-p") || !strcmp(a, "--port"))
			port = v;
		else if (!strcmp(a, "-u") || !strcmp(a, "--user"))
			user = v;
		else if (!strcmp(a, "-a") || !strcmp(a, "--password"))
			password = v;
		else if (!strcmp(a, "-c") || !strcmp(a, "--connections"))
			conn_count = parse_long(a, v, 1, MAX_CONNECTIONS);
		else if (!strcmp(a, "-w") || !strcmp(a, "--window"))
			window = parse_long(a, v, 1, 1000000);
		else if (!strcmp(a, "--data-dir"))
			data_dir = v;
		else if (!strcmp(a, "--config"))
			config_path = v;
		else if (!strcmp(a, "--batch"))
			batch_size = parse_long(a, v, 1, 10000000);
		else {
			fprintf(stderr, "import: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	struct input in;
	input_open(&in, path ? path : "-");
	report.in = &in;
	report.tty = isatty(STDERR_FILENO);
	if (!data_dir && !password)
		die("no password: give -a PASSWORD or set PARCELDESK_PASSWORD");
	int rc = data_dir ? import_store(data_dir, config_path, batch_size, force, &in)
			  : import_net(host, port, user, password, (int)conn_count, window, &in);
	input_close(&in);
	return rc;
}
