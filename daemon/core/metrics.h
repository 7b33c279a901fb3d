/* metrics.h — Prometheus metrics on GET /metrics (--metrics-listen), served
 * by libevent's evhttp on the loop thread. Every metric is described in
 * parceldeskd(8). Fed from one place each: replies from conn.c (where every
 * reply is queued), groups from the writer, the due timer from server.c. */
#ifndef PD_METRICS_H
#define PD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "command.h"

/* Monotonic microseconds, for the t0 of metrics_reply. */
uint64_t metrics_clock_us(void);
/* Loop thread: a reply went out; cmd is NULL when the request named no
 * known command; t0 is when its request was read (0: no latency). */
void metrics_reply(const struct pd_command *cmd, int code, uint64_t t0_us);
/* Writer thread: a group of jobs was committed (or failed); usec spent
 * applying and committing it. */
void metrics_group(size_t jobs, uint64_t usec);
/* Loop thread: the due timer fired for a due time (UTC seconds) at now. */
void metrics_timer_fired(int64_t due_at, int64_t now);
/* Binds HOST:PORT ("" : off) and serves /metrics on base; -1 after a log
 * line. */
int metrics_start(struct event_base *base, const char *listen);
void metrics_stop(void);

#endif
