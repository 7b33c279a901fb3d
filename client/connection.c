/* connection.c — TCP, reply framing and decoding for the client. */
#include "connection.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define RECEIVE_CHUNK_BYTES (64 * 1024)

/* The TLS handshake, on the still blocking socket: the daemon's certificate
 * must chain to tls_ca (or the system's CAs) and name host. */
static int tls_start(struct server_conn *c, const char *host, struct client_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		client_error_set(err, "TLS: cannot set up");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (c->tls_ca ? SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL) != 1
		      : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		client_error_set(err, "TLS: cannot load the CA %s", c->tls_ca ? c->tls_ca : "(system)");
		SSL_CTX_free(ctx);
		return -1;
	}
	SSL *ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the session holds its own reference */
	if (!ssl) {
		client_error_set(err, "TLS: cannot set up");
		return -1;
	}
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1) {
		SSL_set_tlsext_host_name(ssl, host); /* a name, not an address */
		SSL_set1_host(ssl, host);
	}
	SSL_set_fd(ssl, c->fd);
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		char e[256];
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		client_error_set(err, "TLS with %s failed: %s", c->peer,
				 v != X509_V_OK ? X509_verify_cert_error_string(v) : e);
		SSL_free(ssl);
		return -1;
	}
	c->ssl = ssl;
	return 0;
}

void conn_init(struct server_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	pd_buf_init(&c->in);
	pd_arena_init(&c->probe);
}

static int connect_one(const struct addrinfo *ai, int *fd_out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int e = errno;
		close(fd);
		return e;
	}
	*fd_out = fd;
	return 0;
}

int conn_open(struct server_conn *c, const char *host, const char *port,
	      struct client_error *err)
{
	conn_close(c);
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *list;
	int rc = getaddrinfo(host, port, &hints, &list);
	if (rc != 0) {
		client_error_set(err, "cannot resolve %s: %s", c->peer, gai_strerror(rc));
		return -1;
	}
	int last_errno = 0, fd = -1;
	for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next)
		last_errno = connect_one(ai, &fd);
	freeaddrinfo(list);
	if (fd < 0) {
		if (last_errno == ECONNREFUSED)
			client_error_set(err, "cannot connect to %s: connection refused "
					 "(is parceldeskd running there?)", c->peer);
		else
			client_error_set(err, "cannot connect to %s: %s", c->peer,
					 strerror(last_errno));
		return -1;
	}
	/* requests are small and pipelined: send each as soon as it is written */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	if (c->tls && tls_start(c, host, err) < 0) {
		conn_close(c);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

void conn_close(struct server_conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl); /* best effort: tell the daemon we are done */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->peer_closed = false;
	pd_buf_free(&c->in);
	c->in_used = 0;
	pd_arena_free(&c->probe);
}

bool conn_is_alive(struct server_conn *c)
{
	if (c->fd < 0 || c->peer_closed)
		return false;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	if (poll(&p, 1, 0) <= 0)
		return true;
	if (p.revents & (POLLERR | POLLNVAL))
		return false;
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

static int wait_for(struct server_conn *c, short events, struct client_error *err)
{
	if ((events & POLLIN) && c->ssl && SSL_pending(c->ssl) > 0)
		return 0; /* decrypted bytes are waiting already */
	struct pollfd p = { .fd = c->fd, .events = events };
	while (poll(&p, 1, -1) < 0) {
		if (errno != EINTR) {
			client_error_set(err, "poll: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

long conn_send_some(struct server_conn *c, const void *buf, size_t len,
		    struct client_error *err)
{
	if (c->fd < 0) {
		client_error_set(err, "not connected to %s", c->peer);
		return -1;
	}
	if (c->ssl) {
		int n = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
		if (n > 0)
			return n;
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			return 0;
		client_error_set(err, "connection to %s closed by the server", c->peer);
		return -1;
	}
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return (long)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	if (errno == EPIPE || errno == ECONNRESET)
		client_error_set(err, "connection to %s closed by the server", c->peer);
	else
		client_error_set(err, "sending to %s: %s", c->peer, strerror(errno));
	return -1;
}

int conn_send_all(struct server_conn *c, const void *buf, size_t len,
		  struct client_error *err)
{
	const char *p = buf;
	while (len > 0) {
		long n = conn_send_some(c, p, len, err);
		if (n < 0)
			return -1;
		if (n == 0 && wait_for(c, POLLOUT, err) < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int conn_receive_some(struct server_conn *c, struct client_error *err)
{
	if (c->fd < 0 || c->peer_closed)
		return 0;
	/* drop what was decoded already, so the buffer holds one reply at most
	 * plus what follows it */
	if (c->in_used > 0) {
		memmove(c->in.data, c->in.data + c->in_used, c->in.len - c->in_used);
		c->in.len -= c->in_used;
		c->in_used = 0;
	}
	char chunk[RECEIVE_CHUNK_BYTES];
	if (c->ssl) {
		int n = SSL_read(c->ssl, chunk, sizeof(chunk));
		if (n > 0) {
			pd_buf_add(&c->in, chunk, (size_t)n);
			return 1;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		c->peer_closed = true; /* close_notify, or the socket closed */
		return 0;
	}
	ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
	if (n > 0) {
		pd_buf_add(&c->in, chunk, (size_t)n);
		return 1;
	}
	if (n == 0) {
		c->peer_closed = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	if (errno == ECONNRESET) {
		c->peer_closed = true;
		return 0;
	}
	client_error_set(err, "reading from %s: %s", c->peer, strerror(errno));
	return -1;
}

/* The daemon answers in text before it has seen a request in some cases
 * (its "429 too many connections" at accept). A msgpack reply always opens
 * with a map byte, so a leading digit means a text status line. */
static int take_text_status_line(struct server_conn *c, struct pd_arena *a,
				 struct pd_reply *r)
{
	const char *p = c->in.data + c->in_used;
	size_t avail = c->in.len - c->in_used;
	const char *eol = memchr(p, '\n', avail);
	if (!eol)
		return c->peer_closed && avail ? -1 : 0;
	size_t n = (size_t)(eol - p);
	if (n && p[n - 1] == '\r')
		n--;
	if (n < 3 || !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
		return -1;
	r->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	size_t skip = n > 3 && p[3] == ' ' ? 4 : 3;
	r->msg = pd_strndup(a, p + skip, n - skip);
	r->data = NULL;
	r->packed = NULL;
	r->packed_len = 0;
	r->text = NULL;
	c->in_used += (size_t)(eol - p) + 1;
	return 1;
}

int conn_take_reply(struct server_conn *c, struct pd_arena *a,
		    struct pd_reply *r, struct client_error *err)
{
	size_t avail = c->in.len - c->in_used;
	if (avail == 0)
		return 0;
	const char *p = c->in.data + c->in_used;
	if (isdigit((unsigned char)p[0])) {
		int rc = take_text_status_line(c, a, r);
		if (rc < 0)
			client_error_set(err, "unexpected text from %s", c->peer);
		return rc;
	}
	struct pd_value *v;
	size_t used;
	enum pd_unpack_status st = pd_value_unpack(&c->probe, p, avail, &used, &v);
	pd_arena_reset(&c->probe);
	if (st == PD_UNPACK_OK) /* the bytes are all here: this cannot fail */
		st = pd_value_unpack(a, p, avail, &used, &v);
	if (st == PD_UNPACK_INCOMPLETE) {
		if (avail > MAX_REPLY_BYTES) {
			client_error_set(err, "reply from %s larger than %u bytes",
					 c->peer, MAX_REPLY_BYTES);
			return -1;
		}
		return 0;
	}
	if (st != PD_UNPACK_OK || pd_reply_from_msgpack(v, r) < 0) {
		client_error_set(err, "malformed reply from %s%s", c->peer,
				 st == PD_UNPACK_TOO_DEEP ? " (nested too deep)" : "");
		return -1;
	}
	c->in_used += used;
	return 1;
}

int conn_read_reply(struct server_conn *c, struct pd_arena *a,
		    struct pd_reply *r, struct client_error *err)
{
	for (;;) {
		int rc = conn_take_reply(c, a, r, err);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
		if (c->peer_closed || c->fd < 0) {
			client_error_set(err, "connection to %s closed by the server "
					 "before it replied", c->peer);
			return -1;
		}
		rc = conn_receive_some(c, err);
		if (rc < 0)
			return -1;
		if (rc == 0 && !c->peer_closed && wait_for(c, POLLIN, err) < 0)
			return -1;
	}
}

int conn_call(struct server_conn *c, const struct pd_buf *request,
	      struct pd_arena *a, struct pd_reply *r, struct client_error *err)
{
	if (conn_send_all(c, request->data, request->len, err) < 0)
		return -1;
	return conn_read_reply(c, a, r, err);
}
