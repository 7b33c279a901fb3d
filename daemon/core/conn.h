/* conn.h — connections: lifecycle, framing, back-pressure, fairness. The
 * listener (server.c) hands each accepted socket to conn_accept(). */
#ifndef PD_CONN_H
#define PD_CONN_H

#include <stdbool.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "writer.h"

/* Once, before the first connection. timers_changed is called when a
 * command run in the loop, or a job of a connection, set a due time. */
void conn_setup(struct event_base *base, void (*timers_changed)(void));

/* Takes an accepted socket (closed on failure). A connection on the local
 * admin socket is exempt from the connection limits and the login
 * deadline. */
void conn_accept(evutil_socket_t fd, const struct sockaddr *addr, bool local_admin);

/* A job of a connection came back from the writer or the slow thread. */
void conn_job_done(struct job *job);

/* Jobs of connections still with the writer or the slow thread. */
unsigned long conn_jobs_out(void);

/* Shutdown: stop reading every connection (replies still go out). */
void conn_stop_reading(void);

/* At exit: frees every connection. */
void conn_free_all(void);

#endif
