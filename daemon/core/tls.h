/* tls.h — TLS on the daemon's one port (OpenSSL, through libevent's
 * OpenSSL bufferevents).
 *
 * A connection is TLS when its first byte is 0x16, a TLS handshake record:
 * a text request never starts with a control byte and a msgpack request
 * starts with an array (0x90-0x9f, 0xdc, 0xdd), so one port serves all
 * three and no client has to be told a second address. */
#ifndef PD_TLS_H
#define PD_TLS_H

#include <stdbool.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#define TLS_RECORD_HANDSHAKE 0x16

/* Loads tls_cert / tls_key (and tls_ca: client certificates signed by it
 * are then required). Returns 0 (also when TLS is not configured) or -1
 * after a message on stderr. */
int tls_setup(void);
bool tls_enabled(void);

/* A bufferevent doing the server side of TLS on fd, or NULL. */
struct bufferevent *tls_bufferevent(struct event_base *base, evutil_socket_t fd);

/* Sends a close_notify on an established session (the client's is not
 * waited for): its end of the replies, before a close. */
void tls_close_notify(struct bufferevent *bev);

/* The last TLS error of a bufferevent, for the log. */
const char *tls_error(struct bufferevent *bev);

void tls_teardown(void);

#endif
