/* pipe_mode.c — one poll() loop over standard input and the socket.
 *
 * Waiting on both at once is what makes pipelining safe: we never block
 * writing requests while the daemon waits for us to read its replies (it
 * stops reading a client whose unread replies pile up), and a slow producer
 * on stdin does not hold back replies already received. */
#include "pipe_mode.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "request_build.h"

#define STDIN_CHUNK_BYTES (64 * 1024)
/* Stop turning lines into requests while this much is still unsent. */
#define SEND_BACKLOG_BYTES (256 * 1024)
/* A longer line is refused here, as the daemon would refuse it. */
#define MAX_INPUT_LINE_BYTES (1024 * 1024)

/* One line's place in the reply order: either awaiting the daemon's reply,
 * or already answered locally (local_error set). */
struct pending {
	bool local;
	struct client_error local_error;
	struct typed_yuan yuan;
};

struct pipe_state {
	struct server_conn *c;
	struct output *o;
	int input_fd;
	struct pd_buf input;    /* bytes of stdin not yet made into lines */
	size_t input_used;
	bool input_ended;       /* stdin said end of file (or failed) */
	bool quit_sent;         /* the daemon closes after QUIT: stop there */
	bool skipping_long_line;
	struct pd_buf outgoing; /* encoded requests not yet written */
	size_t outgoing_sent;
	struct pending queue[MAX_REQUESTS_IN_FLIGHT];
	size_t queue_head, queue_count;
	size_t awaiting;        /* queued entries that wait for the daemon */
	bool any_error;
	struct pd_arena arena;
};

static struct pending *queue_push(struct pipe_state *s)
{
	struct pending *p = &s->queue[(s->queue_head + s->queue_count++) % MAX_REQUESTS_IN_FLIGHT];
	memset(p, 0, sizeof(*p));
	return p;
}

static void queue_pop(struct pipe_state *s)
{
	s->queue_head = (s->queue_head + 1) % MAX_REQUESTS_IN_FLIGHT;
	s->queue_count--;
}

/* Prints the local answers at the head of the queue: their turn has come. */
static void print_local_answers(struct pipe_state *s)
{
	while (s->queue_count > 0 && s->queue[s->queue_head].local) {
		struct pd_reply r = { .code = 400, .msg = s->queue[s->queue_head].local_error.msg };
		output_reply(s->o, &r);
		s->any_error = true;
		queue_pop(s);
	}
}

static void handle_line(struct pipe_state *s, const char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return;

	struct pd_request req;
	struct client_error err;
	struct typed_yuan yuan;
	pd_arena_reset(&s->arena);
	if (request_from_line(&s->arena, line, len, &req, &yuan, &err) < 0) {
		struct pending *p = queue_push(s);
		p->local = true;
		p->local_error = err;
		return;
	}
	request_encode(&req, &s->outgoing);
	queue_push(s)->yuan = yuan;
	s->awaiting++;
	if (request_names(&req, "QUIT"))
		s->quit_sent = true;
}

static bool has_room(const struct pipe_state *s)
{
	return s->queue_count < MAX_REQUESTS_IN_FLIGHT &&
	       s->outgoing.len - s->outgoing_sent < SEND_BACKLOG_BYTES;
}

static void refuse_long_line(struct pipe_state *s)
{
	struct pending *p = queue_push(s);
	p->local = true;
	client_error_set(&p->local_error, "line longer than %d bytes", MAX_INPUT_LINE_BYTES);
}

/* Turns complete input lines into requests while the queue has room. */
static void take_input_lines(struct pipe_state *s)
{
	while (!s->quit_sent && has_room(s) && s->input.len > s->input_used) {
		const char *start = s->input.data + s->input_used;
		size_t avail = s->input.len - s->input_used;
		const char *eol = memchr(start, '\n', avail);
		if (!eol) {
			/* keep no more than a line's worth of a line too long */
			if (avail > MAX_INPUT_LINE_BYTES) {
				if (!s->skipping_long_line)
					refuse_long_line(s);
				s->skipping_long_line = true;
				s->input_used = s->input.len;
			}
			return;
		}
		size_t len = (size_t)(eol - start);
		s->input_used += len + 1;
		if (s->skipping_long_line)
			s->skipping_long_line = false;
		else if (len > MAX_INPUT_LINE_BYTES)
			refuse_long_line(s);
		else
			handle_line(s, start, len);
	}
}

/* Reads stdin; at its end, a last line without a newline still counts. */
static void read_input(struct pipe_state *s)
{
	if (s->input_used > 0) {
		memmove(s->input.data, s->input.data + s->input_used,
			s->input.len - s->input_used);
		s->input.len -= s->input_used;
		s->input_used = 0;
	}
	char chunk[STDIN_CHUNK_BYTES];
	ssize_t n = read(s->input_fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		pd_buf_add(&s->input, chunk, (size_t)n);
		return;
	}
	if (n < 0)
		fprintf(stderr, "parceldesk: reading standard input: %s\n", strerror(errno));
	if (s->skipping_long_line)
		s->input_used = s->input.len;
	else if (s->input.len > s->input_used)
		pd_buf_add(&s->input, "\n", 1);
	s->input_ended = true;
}

/* Prints every whole reply received. -1 when the stream is broken. */
static int print_replies(struct pipe_state *s)
{
	for (;;) {
		print_local_answers(s);
		struct pd_reply r;
		struct client_error err;
		pd_arena_reset(&s->arena);
		int rc = conn_take_reply(s->c, &s->arena, &r, &err);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			fprintf(stderr, "parceldesk: %s\n", err.msg);
			return -1;
		}
		if (s->awaiting == 0) {
			fprintf(stderr, "parceldesk: %s sent a reply nobody asked for\n",
				s->c->peer);
			return -1;
		}
		s->o->yuan = &s->queue[s->queue_head].yuan;
		output_reply(s->o, &r);
		s->o->yuan = NULL;
		if (r.code < 200 || r.code > 299)
			s->any_error = true;
		queue_pop(s);
		s->awaiting--;
	}
}

static int run(struct pipe_state *s)
{
	struct client_error err;
	for (;;) {
		take_input_lines(s);
		print_local_answers(s);
		bool unsent = s->outgoing.len > s->outgoing_sent;
		bool no_more_lines = s->quit_sent ||
				     (s->input_ended && s->input_used == s->input.len);
		if (no_more_lines && s->queue_count == 0 && !unsent)
			return 0;
		if (s->c->peer_closed) {
			fprintf(stderr, "parceldesk: connection to %s closed by the server", s->c->peer);
			if (s->awaiting)
				fprintf(stderr, "; %zu replies missing", s->awaiting);
			fputc('\n', stderr);
			return -1;
		}

		struct pollfd fds[2] = {
			{ .fd = s->c->fd, .events = POLLIN | (unsent ? POLLOUT : 0) },
			{ .fd = -1, .events = POLLIN },
		};
		if (!s->input_ended && !s->quit_sent && has_room(s))
			fds[1].fd = s->input_fd;
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "parceldesk: poll: %s\n", strerror(errno));
			return -1;
		}
		if (fds[0].revents & POLLOUT) {
			long n = conn_send_some(s->c, s->outgoing.data + s->outgoing_sent,
						s->outgoing.len - s->outgoing_sent, &err);
			if (n < 0) {
				fprintf(stderr, "parceldesk: %s\n", err.msg);
				return -1;
			}
			s->outgoing_sent += (size_t)n;
			if (s->outgoing_sent == s->outgoing.len)
				s->outgoing.len = s->outgoing_sent = 0;
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (conn_receive_some(s->c, &err) < 0) {
				fprintf(stderr, "parceldesk: %s\n", err.msg);
				return -1;
			}
			if (print_replies(s) < 0)
				return -1;
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
			read_input(s);
	}
}

int pipe_mode_run(struct server_conn *c, int input_fd, struct output *o)
{
	struct pipe_state s = { .c = c, .o = o, .input_fd = input_fd };
	pd_buf_init(&s.input);
	pd_buf_init(&s.outgoing);
	pd_arena_init(&s.arena);
	int rc = run(&s);
	pd_arena_free(&s.arena);
	pd_buf_free(&s.input);
	pd_buf_free(&s.outgoing);
	if (rc < 0)
		return EXIT_TROUBLE;
	return s.any_error ? EXIT_REPLY_ERROR : EXIT_REPLY_OK;
}
