/* conn.h — connections: lifecycle, framing, back-pressure, fairness. The
 * listener (server.c) hands each accepted socket to conn_accept(). */
#ifndef PD_CONN_H
#define PD_CONN_H

#include <stdbool.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "writer.h"

/* Once, before the first connection: n loop threads (1 .. LOOPS_MAX),
 * base is loop 0's, run by the caller's thread; the others' bases are made
 * here. timers_changed is called, on the loop that saw it, when a command
 * run in a loop, or a job of a connection, set a due time. 0 or -1. */
int conn_setup(struct event_base *base, unsigned n, void (*timers_changed)(void));
/* The heap's policy (conn_setup() applies it): fixed mmap and trim
 * thresholds; and the trim a loop runs a second after its last close,
 * which gives back the calling thread's arena's free top too. */
void conn_heap_setup(void);
void conn_heap_trim(void);
/* Every loop's base, in order (n of them), for workers_start(). */
void conn_bases(struct event_base **out);
/* Starts the threads of loops 1 .. n - 1 (each runs its base). 0 or -1. */
int conn_loops_start(void);
/* Ends the other loops' dispatch after grace (any thread). */
void conn_loops_exit(const struct timeval *grace);
/* After loop 0's dispatch returned: waits for the other loops' threads. */
void conn_loops_join(void);

/* On loop 0: takes an accepted socket (closed on failure), checks the
 * connection limits and hands it to the loop with the fewest connections.
 * A connection on the local admin socket is exempt from the connection
 * limits and the login deadline. */
void conn_accept(evutil_socket_t fd, const struct sockaddr *addr, bool local_admin);

/* Turns a client away before its connection is one (past a limit: 429;
 * out of descriptors: 503): counts it in connections_rejected and the
 * code's errors, sends line (always text: no request has chosen a framing
 * yet) and the FIN, drops what the client already sent (so the close is
 * not a reset) and closes fd. */
void conn_refuse(evutil_socket_t fd, int code, const char *line);

/* A job of a connection came back from the writer or a slow thread. */
void conn_job_done(struct job *job);

/* Jobs of connections (of every loop) still with the writer or a slow
 * thread. */
unsigned long conn_jobs_out(void);

/* Shutdown, on loop 0: every loop stops reading its connections (replies
 * still go out). */
void conn_stop_reading(void);

/* At exit, after conn_loops_join() and workers_stop(): frees every
 * connection and the other loops' bases. */
void conn_free_all(void);

#endif
