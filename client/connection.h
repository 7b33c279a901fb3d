/* connection.h — one TCP connection to parceldeskd speaking msgpack.
 *
 * The socket is non-blocking; the blocking helpers wait with poll(), so the
 * pipelining loop in pipe_mode.c and the one-request-at-a-time callers share
 * one buffer and one decoder. Received bytes stay in `in` until a whole reply
 * decodes: a reply may arrive in any number of pieces. */
#ifndef PD_CLIENT_CONNECTION_H
#define PD_CLIENT_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"
#include "client.h"

/* A reply larger than this is taken for a broken or hostile server. */
#define MAX_REPLY_BYTES (256u * 1024 * 1024)

struct server_conn {
	int fd;             /* -1 when closed */
	bool tls;           /* set before conn_open: speak TLS */
	const char *tls_ca; /* the CA to check the daemon against (NULL: system) */
	void *ssl;          /* the TLS session (SSL *), NULL in clear */
	char peer[300];     /* "host:port", for messages */
	struct pd_buf in;   /* received bytes; in.data[in_used..] not decoded */
	size_t in_used;
	bool peer_closed;   /* the server closed its side */
	/* Decoding attempts on an incomplete reply allocate; they go here and
	 * are thrown away, so the caller's arena only holds whole replies. */
	struct pd_arena probe;
};

void conn_init(struct server_conn *c);

/* Resolves host and connects. Returns 0, or -1 with err ("connection
 * refused", "no such host" ...). */
int conn_open(struct server_conn *c, const char *host, const char *port,
	      struct client_error *err);
void conn_close(struct server_conn *c);

/* False when the connection is closed, or the server has closed its side
 * while we were idle (the daemon's idle timeout). Never blocks. */
bool conn_is_alive(struct server_conn *c);

/* Writes all of buf, waiting as needed. 0 or -1 with err. */
int conn_send_all(struct server_conn *c, const void *buf, size_t len,
		  struct client_error *err);

/* Writes what the socket takes now; returns the bytes written (maybe 0) or
 * -1 with err. */
long conn_send_some(struct server_conn *c, const void *buf, size_t len,
		    struct client_error *err);

/* Reads what the socket holds now into `in`. Returns 1 if bytes arrived, 0
 * if none were waiting, -1 with err on a read error. A closed peer sets
 * peer_closed and returns 0. */
int conn_receive_some(struct server_conn *c, struct client_error *err);

/* Takes one whole reply from the bytes already received, decoding into a.
 * Returns 1 with *r filled, 0 if more bytes are needed, -1 with err if the
 * bytes are not a reply (after which the stream cannot be trusted). */
int conn_take_reply(struct server_conn *c, struct pd_arena *a,
		    struct pd_reply *r, struct client_error *err);

/* Waits for one whole reply. 0, or -1 with err (closed, malformed). */
int conn_read_reply(struct server_conn *c, struct pd_arena *a,
		    struct pd_reply *r, struct client_error *err);

/* Sends one encoded request and waits for its reply. */
int conn_call(struct server_conn *c, const struct pd_buf *request,
	      struct pd_arena *a, struct pd_reply *r, struct client_error *err);

#endif
