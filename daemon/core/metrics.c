/* metrics.c — see metrics.h. Counters live here (the loop's plain, the
 * writer's atomic); the store's gauges are read at scrape time from its
 * indexes (modules_gauges), in one read snapshot. */
#include "metrics.h"
#include "repl.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "daemon.h"
#include "dispatch.h"
#include "version.h"

/* The metrics port is for a scraper, not for everyone on the LAN: a few
 * connections at once (the listener pauses at the bound; the kernel's
 * backlog holds the rest), one request each, a short deadline, small
 * headers. */
#define HTTP_MAX_CONNS 8
#define HTTP_TIMEOUT_SECS 10
#define HTTP_MAX_HEADERS 8192

/* Histogram bounds: latencies in microseconds, group sizes in jobs. The
 * last bucket (+Inf) is implicit. */
static const uint64_t lat_bounds[] = { 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
				       100000, 250000, 500000, 1000000, 2500000, 10000000 };
#define LAT_N (sizeof(lat_bounds) / sizeof(lat_bounds[0]))
static const uint64_t size_bounds[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 };
#define SIZE_N (sizeof(size_bounds) / sizeof(size_bounds[0]))
#define BUCKETS_MAX (LAT_N > SIZE_N ? LAT_N : SIZE_N)

struct histogram {
	_Atomic uint64_t bucket[BUCKETS_MAX + 1]; /* not cumulative; [n] is +Inf */
	_Atomic uint64_t count, sum;
};

enum { KIND_READ, KIND_WRITE, KIND_SLOW, KIND_N };
static const char *const kind_names[KIND_N] = { "read", "write", "slow" };

/* Each loop thread's own (like struct loop_stats): only it writes its
 * row, a scrape adds the rows up. */
struct loop_metrics {
	_Atomic uint64_t replies[PD_CMD_COUNT + 1][600]; /* [PD_CMD_COUNT]: no command */
	struct histogram latency[KIND_N];
};
static struct loop_metrics loop_m[LOOPS_MAX];
static struct histogram group_size, group_time;
static uint64_t timer_runs;
static int64_t timer_lag_last, timer_lag_max;
static struct evhttp *http;
static struct evconnlistener *http_listener;
static struct bufferevent *http_bevs[HTTP_MAX_CONNS]; /* the connections open */
static struct event *http_reaper;

uint64_t metrics_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t bucket_of(const uint64_t *bounds, size_t n, uint64_t v)
{
	size_t i = 0;
	while (i < n && v > bounds[i])
		i++;
	return i;
}

/* The writer's histograms: one writer thread, but a scrape reads them. */
static void observe(struct histogram *h, const uint64_t *bounds, size_t n, uint64_t v)
{
	atomic_fetch_add(&h->bucket[bucket_of(bounds, n, v)], 1);
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum, v);
}

/* A loop's own histogram: only its thread writes it. */
static void observe_own(struct histogram *h, const uint64_t *bounds, size_t n, uint64_t v)
{
	stat_inc(&h->bucket[bucket_of(bounds, n, v)]);
	stat_inc(&h->count);
	atomic_store_explicit(&h->sum, atomic_load_explicit(&h->sum, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

void metrics_reply(const struct pd_command *cmd, int code, uint64_t t0_us)
{
	if (code < 100 || code >= 600)
		return;
	struct loop_metrics *m = &loop_m[g_loop];
	stat_inc(&m->replies[cmd ? cmd->id : PD_CMD_COUNT][code]);
	if (!cmd || !t0_us)
		return;
	int kind = cmd->flags & CMD_WRITE ? KIND_WRITE : cmd->flags & CMD_SLOW ? KIND_SLOW : KIND_READ;
	observe_own(&m->latency[kind], lat_bounds, LAT_N, metrics_clock_us() - t0_us);
}

void metrics_group(size_t jobs, uint64_t usec)
{
	observe(&group_size, size_bounds, SIZE_N, jobs);
	observe(&group_time, lat_bounds, LAT_N, usec);
}

void metrics_timer_fired(int64_t due_at, int64_t now)
{
	int64_t lag = due_at && now > due_at ? now - due_at : 0;
	timer_runs++;
	timer_lag_last = lag;
	if (lag > timer_lag_max)
		timer_lag_max = lag;
}

/* ---- exposition (text format 0.0.4) ---- */

static void head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct evbuffer *b, const char *name, const char *type, const char *help,
		long long v)
{
	head(b, name, type, help);
	evbuffer_add_printf(b, "%s %lld\n", name, v);
}

/* label: "" or `kind="read"`; bounds in microseconds are shown in seconds
 * (scale 1e6), sizes as they are (scale 1). h is one histogram, or the
 * first of rows histograms stride bytes apart, added up. */
static void histogram_lines(struct evbuffer *b, const char *name, const char *label,
			    struct histogram *h, size_t stride, size_t rows,
			    const uint64_t *bounds, size_t n, double scale)
{
	uint64_t cum = 0;
	const char *sep = *label ? "," : "";
	for (size_t i = 0; i <= n; i++) {
		cum += rows_sum(&h->bucket[i], stride, rows);
		if (i < n)
			evbuffer_add_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, label, sep,
					    (double)bounds[i] / scale, (unsigned long long)cum);
		else
			evbuffer_add_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label, sep,
					    (unsigned long long)cum);
	}
	const char *open = *label ? "{" : "", *close = *label ? "}" : "";
	evbuffer_add_printf(b, "%s_sum%s%s%s %.6f\n", name, open, label, close,
			    (double)rows_sum(&h->sum, stride, rows) / scale);
	evbuffer_add_printf(b, "%s_count%s%s%s %llu\n", name, open, label, close,
			    (unsigned long long)rows_sum(&h->count, stride, rows));
}

static void render_requests(struct evbuffer *b)
{
	size_t n;
	const struct pd_command *t = pd_command_table(&n);
	head(b, "parceldesk_requests_total", "counter",
	     "Replies to requests, by command and reply code (command \"\" when none was recognised).");
	for (size_t i = 0; i <= PD_CMD_COUNT; i++)
		for (int code = 100; code < 600; code++) {
			uint64_t v = rows_sum(&loop_m[0].replies[i][code], sizeof(loop_m[0]), g_loops);
			if (!v)
				continue;
			const char *word = i < n ? t[i].word : "";
			const char *sub = i < n && t[i].sub ? t[i].sub : "";
			evbuffer_add_printf(b, "parceldesk_requests_total{command=\"%s%s%s\",code=\"%d\"} %llu\n",
					    word, *sub ? " " : "", sub, code, (unsigned long long)v);
		}
	head(b, "parceldesk_errors_total", "counter",
	     "Error replies (4xx and 5xx) by code, also those before any request (429, 503 at accept).");
	for (int code = 400; code < 600; code++) {
		uint64_t v = stat_sum(&g_stats.loop[0].errors_by_code[code]);
		if (v)
			evbuffer_add_printf(b, "parceldesk_errors_total{code=\"%d\"} %llu\n", code,
					    (unsigned long long)v);
	}
	head(b, "parceldesk_request_duration_seconds", "histogram",
	     "From reading a request to its reply, by kind: read (on the loop), write (group commit), slow (off the loop).");
	for (int k = 0; k < KIND_N; k++) {
		char label[32];
		snprintf(label, sizeof(label), "kind=\"%s\"", kind_names[k]);
		histogram_lines(b, "parceldesk_request_duration_seconds", label, &loop_m[0].latency[k],
				sizeof(loop_m[0]), g_loops, lat_bounds, LAT_N, 1e6);
	}
}

/* The open and overdue records of every module, gathered, then written as
 * two families (a family's samples must follow its HELP and TYPE). */
struct gauge_set {
	struct module_gauges g[8];
	size_t n;
};

static void gauge_keep(void *ud, const struct module_gauges *g)
{
	struct gauge_set *set = ud;
	if (set->n < sizeof(set->g) / sizeof(set->g[0]))
		set->g[set->n++] = *g;
}

static void render_store(struct evbuffer *b)
{
	size_t map, used = store_size_now(&g_store, &map);
	one(b, "parceldesk_store_used_bytes", "gauge", "Bytes of the LMDB map in use.", (long long)used);
	one(b, "parceldesk_store_map_bytes", "gauge",
	    "Size of the LMDB map (it doubles past three quarters, or when full).", (long long)map);
	head(b, "parceldesk_store_map_used_ratio", "gauge", "Share of the map in use (0 to 1).");
	evbuffer_add_printf(b, "parceldesk_store_map_used_ratio %.6f\n",
			    map ? (double)used / (double)map : 0.0);
	one(b, "parceldesk_store_map_grows_total", "counter", "Times the map grew.",
	    (long long)atomic_load(&g_store.grows));
	one(b, "parceldesk_store_map_grows_ahead_total", "counter",
	    "Times the map grew ahead of need (past three quarters, the lock free).",
	    (long long)atomic_load(&g_store.grows_ahead));
	struct gauge_set set = { .n = 0 };
	MDB_txn *txn;
	if (loop_read_begin(&txn) == 0) {
		modules_gauges(txn, &g_store, clock_now(), gauge_keep, &set);
		loop_read_end();
	}
	head(b, "parceldesk_open_records", "gauge",
	     "Open complaints and claims, by the level holding them.");
	for (size_t i = 0; i < set.n; i++)
		for (size_t l = 0; l < set.g[i].n_levels; l++)
			evbuffer_add_printf(b, "parceldesk_open_records{kind=\"%s\",level=\"%s\"} %llu\n",
					    set.g[i].kind, set.g[i].levels[l],
					    (unsigned long long)set.g[i].open[l]);
	head(b, "parceldesk_overdue_records", "gauge",
	     "Open complaints and claims past their current deadline.");
	for (size_t i = 0; i < set.n; i++)
		evbuffer_add_printf(b, "parceldesk_overdue_records{kind=\"%s\"} %llu\n", set.g[i].kind,
				    (unsigned long long)set.g[i].overdue);
}

static void render_repl(struct evbuffer *b)
{
	struct repl_info r;
	repl_info(&r);
	head(b, "parceldesk_repl_role", "gauge", "Always 1; the replication role (off, primary, "
	     "standby, replica) and the primary's address are the labels.");
	evbuffer_add_printf(b, "parceldesk_repl_role{role=\"%s\",primary=\"%s\"} 1\n", r.role,
			    r.primary);
	one(b, "parceldesk_repl_epoch", "gauge", "The primary's term this node follows or holds.",
	    (long long)r.epoch);
	head(b, "parceldesk_repl_seq", "gauge",
	     "Change sets: committed here, acknowledged by the log (a primary), applied (a follower).");
	evbuffer_add_printf(b, "parceldesk_repl_seq{state=\"committed\"} %llu\n"
			    "parceldesk_repl_seq{state=\"acked\"} %llu\n"
			    "parceldesk_repl_seq{state=\"applied\"} %llu\n",
			    (unsigned long long)r.committed, (unsigned long long)r.published,
			    (unsigned long long)r.applied);
	one(b, "parceldesk_repl_lag_entries", "gauge",
	    "A primary: change sets not yet in the log; a follower: change sets the log holds beyond it.",
	    (long long)r.lag_entries);
	one(b, "parceldesk_repl_lag_seconds", "gauge",
	    "A follower behind: age of the last change set it applied.", (long long)r.lag_secs);
	one(b, "parceldesk_repl_outbox_entries", "gauge",
	    "Change sets in the outbox, waiting for the log's acknowledgement.", (long long)r.outbox);
	one(b, "parceldesk_repl_refused_total", "counter",
	    "Change sets refused (out of order, older epoch, not applicable).", (long long)r.refused);
}

static void render(struct evbuffer *b)
{
	head(b, "parceldesk_build_info", "gauge", "Always 1; the version is the label.");
	evbuffer_add_printf(b, "parceldesk_build_info{version=\"%s\"} 1\n", pd_version());
	one(b, "parceldesk_start_time_seconds", "gauge", "When the daemon started (Unix time).",
	    (long long)g_stats.started_at);
	render_requests(b);
	one(b, "parceldesk_connections", "gauge", "Connections open now.",
	    (long long)atomic_load(&g_stats.connections_current));
	one(b, "parceldesk_connections_total", "counter", "Connections accepted.",
	    (long long)atomic_load(&g_stats.connections_total));
	one(b, "parceldesk_connections_rejected_total", "counter",
	    "Connections turned away (max_connections, per address, out of descriptors).",
	    (long long)atomic_load(&g_stats.connections_rejected));
	one(b, "parceldesk_heap_trims_total", "counter",
	    "Times a connection thread gave closed connections' memory back to the system.",
	    (long long)stat_sum(&g_stats.loop[0].heap_trims));
	head(b, "parceldesk_writer_group_size", "histogram", "Writes committed together (one fsync).");
	histogram_lines(b, "parceldesk_writer_group_size", "", &group_size, 0, 1, size_bounds, SIZE_N, 1);
	head(b, "parceldesk_writer_group_seconds", "histogram",
	     "Time the writer spent on a group: applying its writes and the commit (fsync included).");
	histogram_lines(b, "parceldesk_writer_group_seconds", "", &group_time, 0, 1, lat_bounds, LAT_N, 1e6);
	render_store(b);
	one(b, "parceldesk_timer_runs_total", "counter", "Times the due timer fired (one SWEEP each).",
	    (long long)timer_runs);
	one(b, "parceldesk_timer_lag_seconds", "gauge",
	    "How late the due timer's last firing was after the due time it was set for.",
	    (long long)timer_lag_last);
	one(b, "parceldesk_timer_lag_max_seconds", "gauge", "The largest such lag since start.",
	    (long long)timer_lag_max);
	render_repl(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Connection", "close"); /* one request a connection */
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET || !path || strcmp(path, "/metrics")) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only GET /metrics");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	render(b);
	evhttp_add_header(out, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* evhttp tells nobody when it frees a connection. Each connection's
 * bufferevent holds a reference of ours; one whose callbacks evhttp
 * cleared (bufferevent_free does) is released here, once a second, which
 * counts the connections still open. */
static void http_reap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	size_t open = 0;
	for (size_t i = 0; i < HTTP_MAX_CONNS; i++) {
		bufferevent_event_cb on_event;
		if (!http_bevs[i])
			continue;
		bufferevent_getcb(http_bevs[i], NULL, NULL, &on_event, NULL);
		if (on_event) {
			open++;
			continue;
		}
		bufferevent_decref(http_bevs[i]);
		http_bevs[i] = NULL;
	}
	if (open < HTTP_MAX_CONNS)
		evconnlistener_enable(http_listener);
	if (!open)
		event_del(http_reaper);
}

static struct bufferevent *http_conn_new(struct event_base *base, void *arg)
{
	(void)arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	size_t used = 0, slot = HTTP_MAX_CONNS;
	for (size_t i = 0; i < HTTP_MAX_CONNS; i++)
		if (http_bevs[i])
			used++;
		else if (slot == HTTP_MAX_CONNS)
			slot = i;
	if (!bev || slot == HTTP_MAX_CONNS)
		return bev; /* NULL: evhttp makes its own */
	bufferevent_incref(bev);
	http_bevs[slot] = bev;
	if (used + 1 == HTTP_MAX_CONNS)
		evconnlistener_disable(http_listener); /* the backlog waits */
	if (!event_pending(http_reaper, EV_TIMEOUT, NULL)) {
		struct timeval second = { 1, 0 };
		event_add(http_reaper, &second);
	}
	return bev;
}

int metrics_start(struct event_base *base, const char *listen)
{
	if (!listen[0])
		return 0;
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	if (evutil_parse_sockaddr_port(listen, (struct sockaddr *)&ss, &sslen) < 0) {
		log_msg("error", 0, NULL, "bad metrics_listen address %s", listen);
		return -1;
	}
	http = evhttp_new(base);
	http_reaper = event_new(base, -1, EV_PERSIST, http_reap, NULL);
	if (http && http_reaper)
		http_listener = evconnlistener_new_bind(base, NULL, NULL,
							LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
							LEV_OPT_CLOSE_ON_EXEC, 16,
							(struct sockaddr *)&ss, sslen);
	if (!http_listener || !evhttp_bind_listener(http, http_listener)) {
		log_msg("error", 0, NULL, "cannot serve metrics on %s: %s", listen, strerror(errno));
		if (http_listener)
			evconnlistener_free(http_listener);
		http_listener = NULL;
		metrics_stop();
		return -1;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
	evhttp_set_timeout(http, HTTP_TIMEOUT_SECS);
	evhttp_set_max_headers_size(http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(http, 1024);
	evhttp_set_bevcb(http, http_conn_new, NULL);
	evhttp_set_gencb(http, on_request, NULL);
	log_msg("info", 0, NULL, "metrics on http://%s/metrics", listen);
	return 0;
}

void metrics_stop(void)
{
	if (http)
		evhttp_free(http); /* frees its connections and bound listener */
	http = NULL;
	http_listener = NULL;
	for (size_t i = 0; i < HTTP_MAX_CONNS; i++)
		if (http_bevs[i])
			bufferevent_decref(http_bevs[i]);
	memset(http_bevs, 0, sizeof(http_bevs));
	if (http_reaper)
		event_free(http_reaper);
	http_reaper = NULL;
}
