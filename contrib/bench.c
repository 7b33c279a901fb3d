/* bench.c — load generator for parceldeskd.
 *
 * One thread, non-blocking sockets and epoll. Every connection keeps up to
 * PIPELINE_DEPTH requests outstanding; replies come back in request order,
 * so each connection keeps the send times of its outstanding requests in a
 * ring and the oldest one is the reply's. Latencies go into a log-linear
 * histogram (every value kept within 1/128 of itself), read out for the
 * percentiles at the end.
 *
 * Two modes:
 *   mix   (default) requests drawn from --mix (get, scan, ping) on waybill
 *         numbers picked uniformly at random with a seeded PRNG, for -n
 *         requests or -d seconds;
 *   load  (--load N) registers N waybills and scans each so that it holds
 *         --events tracking events; each connection owns every C-th waybill
 *         and sends its CREATE and scans in order, pipelined (the daemon
 *         answers a connection's requests in order, and a write's reply
 *         leaves only after its commit, so the scans follow the create).
 *
 * --framing resp speaks Redis's protocol instead, so one client measures
 * both servers: get is GET key:NUMBER, scan is SET key:NUMBER with a value
 * of --value-bytes, ping is PING.
 *
 * Run `bench --help` for the options and the --csv columns. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "reply.h"
#include "value.h"

#define NUMBER_MAX_BYTES 24        /* a waybill number (20 digits) and its NUL */
#define WAYBILL_MIN_DIGITS 6
#define WAYBILL_MAX_DIGITS 20
#define DEFAULT_NUMBER_FORMAT "%012d"
#define DEFAULT_NUMBER_DIGITS 12   /* --prefix pads the counter up to this */
#define READ_CHUNK_BYTES 65536
#define MAX_REPLY_BYTES (16 << 20) /* a reply larger than this is a bug */
#define EPOLL_WAIT_MS 100
#define PROGRESS_EVERY_NS (10 * NS_PER_SEC)
#define NS_PER_SEC UINT64_C(1000000000)
#define NS_PER_US UINT64_C(1000)
#define PROMISE_AFTER_SECS (3 * 86400)
#define REPLY_CODE_COUNT 1000
#define ERROR_MSG_BYTES 160

/* ---- options ---- */

enum op_kind { OP_GET, OP_SCAN, OP_PING, OP_KIND_COUNT };
static const char *const op_names[OP_KIND_COUNT] = { "get", "scan", "ping" };

/* A waybill number pattern: DIGITS %0Nd DIGITS, parsed once so that a user's
 * format string never reaches printf. */
struct number_format {
	char prefix[NUMBER_MAX_BYTES];
	char suffix[NUMBER_MAX_BYTES];
	int width; /* the counter is zero-padded to this many digits */
};

/* Where waybill numbers come from: a list read from a file, or the counter
 * values first .. first + count - 1 rendered through the format. */
struct number_source {
	struct number_format format;
	uint64_t first, count;
	char **list;
	size_t list_len;
};

struct options {
	const char *host, *port, *user, *password;
	size_t connections, pipeline_depth;
	uint64_t total_requests;  /* 0: run for duration_secs */
	uint64_t duration_secs;
	unsigned mix_weight[OP_KIND_COUNT];
	unsigned mix_total;
	enum pd_framing framing;
	bool resp;                /* Redis's protocol (--framing resp) */
	uint64_t value_bytes;     /* SET's value size in resp mode */
	uint64_t seed;
	bool csv;
	uint64_t load_waybills;   /* 0: mix mode */
	unsigned load_events;
	const char *depot, *scan_event;
	uint64_t timeout_secs;
	struct number_source numbers;
};

/* ---- latency histogram ---- */

/* Values below 2^SUB_BITS have a bucket each; above, every power of two is
 * cut into 2^SUB_BITS buckets. */
#define HIST_SUB_BITS 7
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB_COUNT)

struct histogram {
	uint64_t bucket[HIST_BUCKETS];
	uint64_t count, max;
};

static size_t hist_index(uint64_t v)
{
	if (v < HIST_SUB_COUNT)
		return (size_t)v;
	int shift = 63 - __builtin_clzll(v) - HIST_SUB_BITS;
	return (size_t)(shift + 1) * HIST_SUB_COUNT + (size_t)((v >> shift) - HIST_SUB_COUNT);
}

/* The largest value that falls in bucket i. */
static uint64_t hist_bucket_high(size_t i)
{
	if (i < HIST_SUB_COUNT)
		return i;
	unsigned shift = (unsigned)(i / HIST_SUB_COUNT) - 1;
	uint64_t sub = i % HIST_SUB_COUNT + HIST_SUB_COUNT;
	return ((sub + 1) << shift) - 1;
}

static void hist_add(struct histogram *h, uint64_t v)
{
	h->bucket[hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

/* The value at a rank given in parts per 100000 (99900 = p99.9). */
static uint64_t hist_percentile(const struct histogram *h, uint64_t per_100k)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (h->count * per_100k + 99999) / 100000;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t high = hist_bucket_high(i);
			return high < h->max ? high : h->max;
		}
	}
	return h->max;
}

/* ---- connections ---- */

enum conn_state { CONN_CONNECTING, CONN_AUTH, CONN_READY };

/* Bytes received and not yet taken as replies: data[start..end). */
struct in_buffer {
	char *data;
	size_t start, end, cap;
};

struct conn {
	int fd;
	size_t index;
	enum conn_state state;
	bool want_write;          /* EPOLLOUT is registered */
	struct pd_buf out;        /* encoded requests; the first out_sent bytes are sent */
	size_t out_sent;
	struct in_buffer in;
	size_t text_scanned; /* text reply being read: where to search on for its end */
	struct pd_mp_scan frame; /* msgpack reply being read: how far it is framed */
	/* send times of the outstanding requests, oldest at ring_head */
	uint64_t *sent_ns;
	size_t ring_head, outstanding;
	/* load mode: the next waybill of this connection and its next step */
	uint64_t load_waybill;
	unsigned load_step;
};

struct bench {
	struct options opt;
	int epoll_fd;
	struct conn *conns;
	size_t ready_conns;
	bool timing;
	uint64_t start_ns, deadline_ns, last_reply_ns;
	uint64_t last_progress_ns;                 /* any reply: for --timeout */
	uint64_t last_report_ns, last_report_done; /* the loader's progress line */
	uint64_t issued, completed, outstanding, rx_bytes;
	uint64_t rng;
	char promised_at[32];      /* for the loader's CREATE */
	struct pd_arena request_arena;
	struct histogram latency;
	uint64_t replies_by_code[REPLY_CODE_COUNT];
	char first_error[ERROR_MSG_BYTES];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast, and the same seed gives the same run. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- waybill numbers ---- */

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Accepts DIGITS%[0][WIDTH][l|ll](d|u)DIGITS. */
static int number_format_parse(const char *s, struct number_format *f)
{
	memset(f, 0, sizeof(*f));
	const char *pct = strchr(s, '%');
	if (!pct || (size_t)(pct - s) >= sizeof(f->prefix) || !all_digits(s, (size_t)(pct - s)))
		return -1;
	memcpy(f->prefix, s, (size_t)(pct - s));
	const char *p = pct + 1;
	bool zero = *p == '0';
	while (*p >= '0' && *p <= '9')
		f->width = f->width * 10 + (*p++ - '0');
	if (f->width > WAYBILL_MAX_DIGITS || (f->width > 1 && !zero))
		return -1; /* space padding would not be a number */
	if (*p == 'l')
		p++;
	if (*p == 'l')
		p++;
	if (*p != 'd' && *p != 'u')
		return -1;
	p++;
	if (strlen(p) >= sizeof(f->suffix) || !all_digits(p, strlen(p)))
		return -1;
	strcpy(f->suffix, p);
	return 0;
}

/* Written out by hand rather than with a "%0*" format: the width is the
 * user's, and printf need never see it. Too long a result is cut; callers
 * check numbers with valid_waybill(). */
static void number_format_render(const struct number_format *f, uint64_t counter,
				 char buf[NUMBER_MAX_BYTES])
{
	char digits[NUMBER_MAX_BYTES];
	int n = 0;
	do {
		digits[n++] = (char)('0' + counter % 10);
		counter /= 10;
	} while (counter && n < NUMBER_MAX_BYTES);
	while (n < f->width && n < NUMBER_MAX_BYTES)
		digits[n++] = '0';
	size_t used = 0;
	for (const char *p = f->prefix; *p && used < NUMBER_MAX_BYTES - 1; p++)
		buf[used++] = *p;
	while (n > 0 && used < NUMBER_MAX_BYTES - 1)
		buf[used++] = digits[--n];
	for (const char *p = f->suffix; *p && used < NUMBER_MAX_BYTES - 1; p++)
		buf[used++] = *p;
	buf[used] = '\0';
}

/* The index-th number of the source (index < count or list_len). */
static void number_at(const struct number_source *src, uint64_t index,
		      char buf[NUMBER_MAX_BYTES])
{
	if (src->list)
		snprintf(buf, NUMBER_MAX_BYTES, "%s", src->list[index]);
	else
		number_format_render(&src->format, src->first + index, buf);
}

static uint64_t number_source_size(const struct number_source *src)
{
	return src->list ? src->list_len : src->count;
}

static bool valid_waybill(const char *s)
{
	size_t n = strlen(s);
	return n >= WAYBILL_MIN_DIGITS && n <= WAYBILL_MAX_DIGITS && all_digits(s, n);
}

/* One number a line; blank lines and lines starting with '#' are skipped. */
static int number_list_read(const char *path, struct number_source *src)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "bench: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[256];
	size_t cap = 0, lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		char *s = line + strspn(line, " \t");
		s[strcspn(s, " \t")] = '\0';
		if (!*s || *s == '#')
			continue;
		if (!valid_waybill(s)) {
			fprintf(stderr, "bench: %s:%zu: '%s' is not a waybill number (6 to 20 digits)\n",
				path, lineno, s);
			rc = -1;
			break;
		}
		if (src->list_len == cap) {
			cap = cap ? cap * 2 : 1024;
			char **grown = realloc(src->list, cap * sizeof(*grown));
			if (!grown)
				abort();
			src->list = grown;
		}
		src->list[src->list_len] = strdup(s);
		if (!src->list[src->list_len++])
			abort();
	}
	fclose(f);
	if (rc == 0 && src->list_len == 0) {
		fprintf(stderr, "bench: %s holds no waybill numbers\n", path);
		rc = -1;
	}
	return rc;
}

static void number_source_free(struct number_source *src)
{
	for (size_t i = 0; i < src->list_len; i++)
		free(src->list[i]);
	free(src->list);
	src->list = NULL;
	src->list_len = 0;
}

/* ---- requests: built as one value, encoded in the chosen framing ---- */

static struct pd_value *request_new(struct pd_arena *a, const char *word,
				    const char *sub)
{
	struct pd_value *req = pd_arr(a);
	pd_arr_push(a, req, pd_str(a, word));
	if (sub)
		pd_arr_push(a, req, pd_str(a, sub));
	return req;
}

static struct pd_value *request_auth(struct pd_arena *a, const char *user,
				     const char *password)
{
	struct pd_value *req = request_new(a, "AUTH", NULL);
	pd_arr_push(a, req, pd_str(a, user));
	pd_arr_push(a, req, pd_str(a, password));
	return req;
}

static struct pd_value *request_get(struct pd_arena *a, const char *number)
{
	struct pd_value *req = request_new(a, "WAYBILL", "GET");
	pd_arr_push(a, req, pd_str(a, number));
	return req;
}

static struct pd_value *request_scan(struct pd_arena *a, const char *number,
				     const char *event, const char *depot)
{
	struct pd_value *req = request_new(a, "SCAN", NULL);
	pd_arr_push(a, req, pd_str(a, number));
	pd_arr_push(a, req, pd_str(a, event));
	struct pd_value *named = pd_map(a);
	pd_map_set_str(a, named, "depot", depot);
	pd_arr_push(a, req, named);
	return req;
}

/* A plausible parcel: phones derived from the number keep the phone index
 * as spread out as real data. */
static struct pd_value *request_create(struct pd_arena *a, const char *number,
				       const char *depot, const char *promised_at)
{
	size_t n = strlen(number);
	const char *tail = n > 8 ? number + n - 8 : number;
	struct pd_value *req = request_new(a, "WAYBILL", "CREATE");
	pd_arr_push(a, req, pd_str(a, number));
	struct pd_value *m = pd_map(a);
	pd_map_set_str(a, m, "sender_name", "Bench Sender");
	pd_map_set_str(a, m, "sender_phone", pd_sprintf(a, "139%s", tail));
	pd_map_set_str(a, m, "sender_address", "1 Benchmark Road");
	pd_map_set_str(a, m, "sender_city", "Shanghai");
	pd_map_set_str(a, m, "receiver_name", "Bench Receiver");
	pd_map_set_str(a, m, "receiver_phone", pd_sprintf(a, "138%s", tail));
	pd_map_set_str(a, m, "receiver_address", "2 Load Street");
	pd_map_set_str(a, m, "receiver_city", "Beijing");
	pd_map_set_str(a, m, "origin_depot", depot);
	pd_map_set_str(a, m, "dest_depot", "BJ01");
	pd_map_set_str(a, m, "goods", "books");
	pd_map_set_int(a, m, "pieces", 1);
	pd_map_set_int(a, m, "weight_g", 1200);
	pd_map_set_str(a, m, "packaging", "carrier");
	pd_map_set_int(a, m, "fee_fen", 1800);
	pd_map_set_str(a, m, "payment", "cash");
	pd_map_set_str(a, m, "promised_at", promised_at);
	pd_arr_push(a, req, m);
	return req;
}

static bool text_needs_quotes(const char *s, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c == 0x7f)
			return true;
	}
	return false;
}

static void text_add_value(struct pd_buf *out, const struct pd_value *v)
{
	if (v->type == PD_INT) {
		pd_buf_printf(out, "%" PRId64, v->u.i);
		return;
	}
	if (v->type == PD_BOOL) {
		pd_buf_adds(out, v->u.b ? "yes" : "no");
		return;
	}
	const char *s = v->type == PD_STR ? v->u.s.ptr : "";
	size_t n = v->type == PD_STR ? v->u.s.len : 0;
	if (!text_needs_quotes(s, n)) {
		pd_buf_add(out, s, n);
		return;
	}
	pd_buf_adds(out, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			pd_buf_printf(out, "\\%c", c);
		else if (c < ' ' || c == 0x7f)
			pd_buf_printf(out, "\\x%02x", c);
		else
			pd_buf_add(out, &s[i], 1);
	}
	pd_buf_adds(out, "\"");
}

/* One line: the words, then key=value for the trailing map. */
static void encode_text(const struct pd_value *req, struct pd_buf *out)
{
	bool first = true;
	for (struct pd_entry *e = req->u.c.head; e; e = e->next) {
		if (e->val->type == PD_MAP) {
			for (struct pd_entry *m = e->val->u.c.head; m; m = m->next) {
				pd_buf_adds(out, " ");
				pd_buf_add(out, m->key, m->key_len);
				pd_buf_adds(out, "=");
				text_add_value(out, m->val);
			}
			continue;
		}
		if (!first)
			pd_buf_adds(out, " ");
		first = false;
		text_add_value(out, e->val);
	}
	pd_buf_adds(out, "\r\n");
}

/* A RESP array of bulk strings. */
static void resp_add(struct pd_buf *out, const char *s, size_t n)
{
	pd_buf_printf(out, "$%zu\r\n", n);
	pd_buf_add(out, s, n);
	pd_buf_adds(out, "\r\n");
}

/* The request in Redis's terms: WAYBILL GET n -> GET key:n, SCAN n ... ->
 * SET key:n VALUE, PING -> PING. */
static void encode_resp(const struct options *o, const struct pd_value *req, struct pd_buf *out)
{
	const struct pd_entry *w = req->u.c.head;
	bool get = !strcmp(w->val->u.s.ptr, "WAYBILL"), scan = !strcmp(w->val->u.s.ptr, "SCAN");
	if (!get && !scan) {
		pd_buf_adds(out, "*1\r\n$4\r\nPING\r\n");
		return;
	}
	const struct pd_value *number = get ? w->next->next->val : w->next->val;
	char key[NUMBER_MAX_BYTES + 8];
	int kn = snprintf(key, sizeof(key), "key:%s", number->u.s.ptr);
	pd_buf_adds(out, get ? "*2\r\n$3\r\nGET\r\n" : "*3\r\n$3\r\nSET\r\n");
	resp_add(out, key, (size_t)kn);
	if (scan) {
		pd_buf_printf(out, "$%" PRIu64 "\r\n", o->value_bytes);
		pd_buf_reserve(out, o->value_bytes + 2);
		memset(out->data + out->len, 'x', o->value_bytes);
		out->len += o->value_bytes;
		pd_buf_adds(out, "\r\n");
	}
}

static void encode_request(const struct options *o, const struct pd_value *req,
			   struct pd_buf *out)
{
	enum pd_framing framing = o->framing;
	if (o->resp) {
		encode_resp(o, req, out);
		return;
	}
	if (framing == PD_FRAMING_TEXT) {
		encode_text(req, out);
		return;
	}
	msgpack_packer pk;
	msgpack_packer_init(&pk, out, pd_buf_write);
	pd_value_pack(&pk, req);
}

/* ---- what to send next ---- */

static enum op_kind mix_pick(struct bench *b)
{
	unsigned r = (unsigned)(rng_next(&b->rng) % b->opt.mix_total);
	for (int k = 0; k < OP_KIND_COUNT; k++) {
		if (r < b->opt.mix_weight[k])
			return (enum op_kind)k;
		r -= b->opt.mix_weight[k];
	}
	return OP_PING;
}

static struct pd_value *mix_next(struct bench *b)
{
	struct pd_arena *a = &b->request_arena;
	enum op_kind kind = mix_pick(b);
	if (kind == OP_PING)
		return request_new(a, "PING", NULL);
	char number[NUMBER_MAX_BYTES];
	uint64_t size = number_source_size(&b->opt.numbers);
	number_at(&b->opt.numbers, rng_next(&b->rng) % size, number);
	if (kind == OP_GET)
		return request_get(a, number);
	return request_scan(a, number, b->opt.scan_event, b->opt.depot);
}

/* Scan step 1 is the pick-up; then the parcel departs and arrives in turn,
 * ending in_transit, where both `arrived` and `damaged` stay valid. */
static const char *load_event(unsigned step)
{
	if (step == 1)
		return "picked_up";
	return step % 2 == 0 ? "departed" : "arrived";
}

/* This connection's next request of the load, or NULL when its share is
 * done: waybills index, index + C, index + 2C, ... */
static struct pd_value *load_next(struct bench *b, struct conn *c)
{
	if (c->load_waybill >= b->opt.load_waybills)
		return NULL;
	char number[NUMBER_MAX_BYTES];
	number_at(&b->opt.numbers, c->load_waybill, number);
	struct pd_value *req = c->load_step == 0
		? request_create(&b->request_arena, number, b->opt.depot, b->promised_at)
		: request_scan(&b->request_arena, number, load_event(c->load_step), b->opt.depot);
	if (++c->load_step == b->opt.load_events) {
		c->load_step = 0;
		c->load_waybill += b->opt.connections;
	}
	return req;
}

/* ---- connection I/O ---- */

static int conn_watch(struct bench *b, struct conn *c, bool want_write)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (want_write ? EPOLLOUT : 0),
		.data.ptr = c,
	};
	if (epoll_ctl(b->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		fprintf(stderr, "bench: epoll_ctl: %s\n", strerror(errno));
		return -1;
	}
	c->want_write = want_write;
	return 0;
}

/* Sends what the socket takes; asks for EPOLLOUT while anything is left. */
static int conn_flush(struct bench *b, struct conn *c)
{
	while (c->out_sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			fprintf(stderr, "bench: connection %zu: send: %s\n", c->index, strerror(errno));
			return -1;
		}
		c->out_sent += (size_t)n;
	}
	if (c->out_sent == c->out.len) {
		c->out.len = 0;
		c->out_sent = 0;
	}
	bool pending = c->out.len > 0;
	return pending == c->want_write ? 0 : conn_watch(b, c, pending);
}

static bool may_issue(const struct bench *b, uint64_t now)
{
	if (b->opt.total_requests)
		return b->issued < b->opt.total_requests;
	return now < b->deadline_ns;
}

/* Tops the connection's pipeline up to its depth, then sends. */
static int conn_fill(struct bench *b, struct conn *c)
{
	uint64_t now = now_ns();
	size_t depth = b->opt.pipeline_depth;
	while (c->outstanding < depth && may_issue(b, now)) {
		struct pd_value *req = b->opt.load_waybills ? load_next(b, c) : mix_next(b);
		if (!req)
			break;
		encode_request(&b->opt, req, &c->out);
		pd_arena_reset(&b->request_arena);
		c->sent_ns[(c->ring_head + c->outstanding) % depth] = now;
		c->outstanding++;
		b->outstanding++;
		b->issued++;
	}
	return conn_flush(b, c);
}

static void in_buffer_reserve(struct in_buffer *in, size_t n)
{
	if (in->start > 0 && in->start == in->end)
		in->start = in->end = 0;
	if (in->cap - in->end >= n)
		return;
	if (in->start > 0) {
		memmove(in->data, in->data + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
		if (in->cap - in->end >= n)
			return;
	}
	size_t cap = in->cap ? in->cap : READ_CHUNK_BYTES;
	while (cap - in->end < n)
		cap *= 2;
	char *grown = realloc(in->data, cap);
	if (!grown)
		abort();
	in->data = grown;
	in->cap = cap;
}

/* Whether a line starts with "." at one of q[1..16], that is, "\n." at
 * one of the 16 pairs from q[0]: 16 bytes compared at once (GCC's vector
 * extension: SSE2 on x86-64, scalar code elsewhere). */
typedef unsigned char bytes16 __attribute__((vector_size(16)));
static bool dot_line_in_16(const char *q)
{
	bytes16 a, b;
	uint64_t hit[2];
	memcpy(&a, q, sizeof(a));
	memcpy(&b, q + 1, sizeof(b));
	bytes16 both = (bytes16)((a == '\n') & (b == '.'));
	memcpy(hit, &both, sizeof(hit));
	return (hit[0] | hit[1]) != 0;
}

/* Where a text reply's body ends: the index past the line holding a single
 * ".", searched from the "\n" at p[*from] on; 0 when it has not come yet
 * (*from is then where to search again). A body line starting with "." has
 * another "." put before it (reply.h), so "\n." is rare in a body: the
 * pairs are tested 16 at a time and only a hit is looked at byte by byte,
 * where a memchr a line cost a call for each of a GET's ~100 lines. */
static size_t text_body_end(const char *p, size_t avail, size_t *from)
{
	size_t j = *from;
	while (j + 1 < avail) {
		if (j + 17 <= avail && !dot_line_in_16(p + j)) {
			j += 16;
			continue;
		}
		if (p[j] == '\n' && p[j + 1] == '.') {
			size_t eol = j + 2 < avail && p[j + 2] == '\r' ? j + 3 : j + 2;
			if (eol >= avail)
				break; /* the line's end has not come: look again from j */
			if (p[eol] == '\n')
				return eol + 1;
		}
		j++;
	}
	*from = j;
	return 0;
}

/* Takes one text reply: "CODE msg" line, and for 2xx body lines up to a
 * line holding a single ".". Returns 1 when taken, 0 when more bytes are
 * needed, -1 when the bytes are not a reply. The search for the end
 * resumes where the previous call stopped, so a long reply arriving in
 * pieces costs no more than one arriving whole. */
static int take_text_reply(struct conn *c, struct pd_reply_status *st)
{
	const char *p = c->in.data + c->in.start;
	size_t avail = c->in.end - c->in.start;
	const char *eol = memchr(p, '\n', avail);
	if (!eol)
		return avail > MAX_REPLY_BYTES ? -1 : 0;
	size_t status_len = (size_t)(eol - p), end = status_len + 1;
	if (status_len && p[status_len - 1] == '\r')
		status_len--;
	if (status_len < 3 || !all_digits(p, 3) || (status_len > 3 && p[3] != ' '))
		return -1;
	int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (code >= 200 && code < 300) {
		if (c->text_scanned < end - 1)
			c->text_scanned = end - 1; /* an empty body: "\n." right after it */
		end = text_body_end(p, avail, &c->text_scanned);
		if (!end)
			return avail > MAX_REPLY_BYTES ? -1 : 0;
	}
	st->code = code;
	st->msg = status_len > 4 ? p + 4 : "";
	st->msg_len = status_len > 4 ? status_len - 4 : 0;
	c->in.start += end;
	c->text_scanned = 0;
	return 1;
}

/* Takes one RESP reply: +status, -error, :integer, $bulk or $-1 (nil).
 * Codes as ours: 200, 500 for an error, 404 for nil. Same returns. */
static int take_resp_reply(struct conn *c, struct pd_reply_status *st)
{
	const char *p = c->in.data + c->in.start;
	size_t avail = c->in.end - c->in.start;
	const char *nl = memchr(p, '\n', avail);
	if (!nl)
		return avail > MAX_REPLY_BYTES ? -1 : 0;
	size_t head = (size_t)(nl - p) + 1, total = head;
	st->code = p[0] == '-' ? 500 : 200;
	st->msg = p + 1;
	st->msg_len = head > 3 ? head - 3 : 0;
	if (p[0] == '$') {
		long n = strtol(p + 1, NULL, 10);
		if (n < 0) {
			st->code = 404;
		} else {
			total += (size_t)n + 2;
			if (avail < total)
				return total > MAX_REPLY_BYTES ? -1 : 0;
		}
	} else if (p[0] != '+' && p[0] != '-' && p[0] != ':') {
		return -1;
	}
	c->in.start += total;
	return 1;
}

/* Takes one msgpack reply map {"code", "msg", "data"}: framed (its end
 * found, each header looked at once, the framing resumed where the last
 * call stopped) and its status read from the bytes, without a tree, as a
 * RESP reply is taken by its length. Same returns. */
static int take_msgpack_reply(struct conn *c, struct pd_reply_status *st)
{
	const char *p = c->in.data + c->in.start;
	size_t avail = c->in.end - c->in.start;
	enum pd_unpack_status rc = pd_mp_scan(&c->frame, p, avail);
	if (rc == PD_UNPACK_INCOMPLETE)
		return avail > MAX_REPLY_BYTES ? -1 : 0;
	if (rc != PD_UNPACK_OK || pd_reply_status_from_msgpack(p, c->frame.pos, st) < 0)
		return -1;
	c->in.start += c->frame.pos;
	pd_mp_scan_init(&c->frame);
	return 1;
}

static void count_reply(struct bench *b, const struct pd_reply_status *st)
{
	int code = st->code >= 0 && st->code < REPLY_CODE_COUNT ? st->code : 0;
	b->replies_by_code[code]++;
	if (code >= 400 && !b->first_error[0])
		snprintf(b->first_error, sizeof(b->first_error), "%d %.*s", st->code,
			 (int)st->msg_len, st->msg);
}

static int start_timing(struct bench *b)
{
	b->timing = true;
	b->start_ns = b->last_progress_ns = b->last_report_ns = now_ns();
	b->deadline_ns = b->start_ns + b->opt.duration_secs * NS_PER_SEC;
	for (size_t i = 0; i < b->opt.connections; i++)
		if (conn_fill(b, &b->conns[i]) < 0)
			return -1;
	return 0;
}

/* The AUTH reply: the connection is ready, or the run cannot go on. */
static int conn_authenticated(struct bench *b, struct conn *c,
			      const struct pd_reply_status *st)
{
	if (st->code != 200) {
		fprintf(stderr, "bench: AUTH as %s refused: %d %.*s\n", b->opt.user, st->code,
			(int)st->msg_len, st->msg);
		return -1;
	}
	c->state = CONN_READY;
	if (++b->ready_conns == b->opt.connections)
		return start_timing(b);
	return 0;
}

static int conn_read(struct bench *b, struct conn *c)
{
	for (;;) {
		in_buffer_reserve(&c->in, READ_CHUNK_BYTES);
		size_t room = c->in.cap - c->in.end;
		ssize_t n = recv(c->fd, c->in.data + c->in.end, room, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			fprintf(stderr, "bench: connection %zu: recv: %s\n", c->index, strerror(errno));
			return -1;
		}
		if (n == 0) {
			fprintf(stderr, "bench: connection %zu: closed by the server%s%s\n", c->index,
				b->first_error[0] ? "; first error reply: " : "", b->first_error);
			return -1;
		}
		c->in.end += (size_t)n;
		b->rx_bytes += (size_t)n;
		if ((size_t)n < room)
			break; /* a short read: the socket is drained */
	}
	uint64_t now = now_ns();
	bool took_any = false;
	for (;;) {
		struct pd_reply_status st = { 0 }; /* gcc -fsanitize=thread sees a path without it */
		int rc = b->opt.resp ? take_resp_reply(c, &st)
			 : b->opt.framing == PD_FRAMING_TEXT ? take_text_reply(c, &st)
							     : take_msgpack_reply(c, &st);
		if (rc < 0) {
			fprintf(stderr, "bench: connection %zu: malformed reply\n", c->index);
			return -1;
		}
		if (rc == 0)
			break;
		b->last_progress_ns = now;
		if (c->state == CONN_AUTH) {
			if (conn_authenticated(b, c, &st) < 0)
				return -1;
			continue;
		}
		if (c->outstanding == 0) {
			fprintf(stderr, "bench: connection %zu: a reply nobody asked for\n", c->index);
			return -1;
		}
		hist_add(&b->latency, now - c->sent_ns[c->ring_head]);
		c->ring_head = (c->ring_head + 1) % b->opt.pipeline_depth;
		c->outstanding--;
		b->outstanding--;
		b->completed++;
		count_reply(b, &st);
		took_any = true;
	}
	if (took_any) {
		b->last_reply_ns = now;
		return conn_fill(b, c);
	}
	return 0;
}

/* The non-blocking connect finished: log in, or start right away. */
static int conn_connected(struct bench *b, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		fprintf(stderr, "bench: connect to %s:%s: %s\n", b->opt.host, b->opt.port,
			strerror(err));
		return -1;
	}
	b->last_progress_ns = now_ns();
	if (b->opt.user) {
		c->state = CONN_AUTH;
		encode_request(&b->opt,
			       request_auth(&b->request_arena, b->opt.user, b->opt.password), &c->out);
		pd_arena_reset(&b->request_arena);
		return conn_flush(b, c);
	}
	c->state = CONN_READY;
	if (conn_watch(b, c, false) < 0)
		return -1;
	if (++b->ready_conns == b->opt.connections)
		return start_timing(b);
	return 0;
}

static int conn_event(struct bench *b, struct conn *c, uint32_t events)
{
	if (c->state == CONN_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			return conn_connected(b, c);
		return 0;
	}
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && conn_read(b, c) < 0)
		return -1;
	if ((events & EPOLLOUT) && conn_flush(b, c) < 0)
		return -1;
	return 0;
}

static int conns_open(struct bench *b)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	int rc = getaddrinfo(b->opt.host, b->opt.port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "bench: %s:%s: %s\n", b->opt.host, b->opt.port, gai_strerror(rc));
		return -1;
	}
	b->conns = calloc(b->opt.connections, sizeof(*b->conns));
	if (!b->conns)
		abort();
	for (size_t i = 0; i < b->opt.connections; i++)
		b->conns[i].fd = -1;
	rc = 0;
	for (size_t i = 0; i < b->opt.connections && rc == 0; i++) {
		struct conn *c = &b->conns[i];
		c->index = i;
		c->load_waybill = i;
		pd_mp_scan_init(&c->frame);
		pd_buf_init(&c->out);
		c->sent_ns = calloc(b->opt.pipeline_depth, sizeof(*c->sent_ns));
		if (!c->sent_ns)
			abort();
		c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			fprintf(stderr, "bench: socket: %s\n", strerror(errno));
			rc = -1;
			break;
		}
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			fprintf(stderr, "bench: connect to %s:%s: %s\n", b->opt.host, b->opt.port,
				strerror(errno));
			rc = -1;
			break;
		}
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
		if (epoll_ctl(b->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			fprintf(stderr, "bench: epoll_ctl: %s\n", strerror(errno));
			rc = -1;
		}
		c->want_write = true;
	}
	freeaddrinfo(ai);
	return rc;
}

static void conns_close(struct bench *b)
{
	if (!b->conns)
		return;
	for (size_t i = 0; i < b->opt.connections; i++) {
		struct conn *c = &b->conns[i];
		if (c->fd >= 0)
			close(c->fd);
		pd_buf_free(&c->out);
		free(c->in.data);
		free(c->sent_ns);
	}
	free(b->conns);
	b->conns = NULL;
}

static bool finished(const struct bench *b, uint64_t now)
{
	return b->timing && b->outstanding == 0 && !may_issue(b, now);
}

static void report_progress(struct bench *b, uint64_t now)
{
	if (!b->opt.load_waybills || !b->timing || now - b->last_report_ns < PROGRESS_EVERY_NS)
		return;
	uint64_t total = b->opt.load_waybills * b->opt.load_events;
	uint64_t rate = (b->completed - b->last_report_done) * NS_PER_SEC /
			(now - b->last_report_ns);
	fprintf(stderr, "bench: load: %" PRIu64 " of %" PRIu64 " requests done, %" PRIu64 "/s\n",
		b->completed, total, rate);
	b->last_report_ns = now;
	b->last_report_done = b->completed;
}

static int run(struct bench *b)
{
	b->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epoll_fd < 0) {
		fprintf(stderr, "bench: epoll_create1: %s\n", strerror(errno));
		return -1;
	}
	b->last_progress_ns = now_ns();
	int rc = conns_open(b);
	struct epoll_event events[256];
	while (rc == 0) {
		uint64_t now = now_ns();
		if (finished(b, now))
			break;
		if (now - b->last_progress_ns > b->opt.timeout_secs * NS_PER_SEC) {
			fprintf(stderr, "bench: no reply for %" PRIu64 " s (%" PRIu64
				" outstanding, %zu of %zu connections ready)\n",
				b->opt.timeout_secs, b->outstanding, b->ready_conns, b->opt.connections);
			rc = -1;
			break;
		}
		report_progress(b, now);
		int n = epoll_wait(b->epoll_fd, events, 256, EPOLL_WAIT_MS);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "bench: epoll_wait: %s\n", strerror(errno));
			rc = -1;
		}
		for (int i = 0; i < n && rc == 0; i++)
			rc = conn_event(b, events[i].data.ptr, events[i].events);
	}
	conns_close(b);
	close(b->epoll_fd);
	return rc;
}

/* ---- results ---- */

static uint64_t error_count(const struct bench *b)
{
	uint64_t n = 0;
	for (int code = 0; code < REPLY_CODE_COUNT; code++)
		if (code < 200 || code >= 300)
			n += b->replies_by_code[code];
	return n;
}

/* "404=3;409=1" (no commas, so it sits in one CSV field) */
static void error_codes(const struct bench *b, char *out, size_t cap, const char *sep)
{
	size_t used = 0;
	out[0] = '\0';
	for (int code = 0; code < REPLY_CODE_COUNT && used < cap; code++) {
		if ((code >= 200 && code < 300) || !b->replies_by_code[code])
			continue;
		int w = snprintf(out + used, cap - used, "%s%d=%" PRIu64, used ? sep : "", code,
				 b->replies_by_code[code]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void print_results(const struct bench *b)
{
	uint64_t elapsed = b->last_reply_ns > b->start_ns ? b->last_reply_ns - b->start_ns : 1;
	uint64_t ops = b->completed;
	uint64_t rate = ops * NS_PER_SEC / elapsed;
	const struct histogram *h = &b->latency;
	uint64_t p50 = hist_percentile(h, 50000) / NS_PER_US;
	uint64_t p99 = hist_percentile(h, 99000) / NS_PER_US;
	uint64_t p999 = hist_percentile(h, 99900) / NS_PER_US;
	uint64_t max = h->max / NS_PER_US;
	uint64_t errors = error_count(b);
	uint64_t rx_per_op = ops ? b->rx_bytes / ops : 0;
	char codes[256];

	if (b->opt.csv) {
		error_codes(b, codes, sizeof(codes), ";");
		printf("%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		       ",%" PRIu64 ",%" PRIu64 ",%s,%" PRIu64 "\n",
		       ops, elapsed / 1000000, rate, p50, p99, p999, max, errors, codes, rx_per_op);
		return;
	}
	error_codes(b, codes, sizeof(codes), " ");
	if (b->opt.load_waybills) {
		printf("load:      %" PRIu64 " waybills x %u events over %s, %zu connections, pipeline %zu\n",
		       b->opt.load_waybills, b->opt.load_events,
		       b->opt.resp ? "resp" : b->opt.framing == PD_FRAMING_TEXT ? "text" : "msgpack",
		       b->opt.connections, b->opt.pipeline_depth);
	} else {
		printf("mix:      ");
		for (int k = 0; k < OP_KIND_COUNT; k++)
			if (b->opt.mix_weight[k])
				printf(" %s:%u", op_names[k], b->opt.mix_weight[k]);
		printf(" over %s, %zu connections, pipeline %zu\n",
		       b->opt.resp ? "resp" : b->opt.framing == PD_FRAMING_TEXT ? "text" : "msgpack",
		       b->opt.connections, b->opt.pipeline_depth);
	}
	printf("requests:  %" PRIu64 " in %" PRIu64 ".%03" PRIu64 " s = %" PRIu64 " ops/s\n", ops,
	       elapsed / NS_PER_SEC, elapsed % NS_PER_SEC / 1000000, rate);
	printf("latency:   p50 %" PRIu64 " us, p99 %" PRIu64 " us, p99.9 %" PRIu64
	       " us, max %" PRIu64 " us\n", p50, p99, p999, max);
	printf("received:  %" PRIu64 " bytes per reply\n", rx_per_op);
	printf("errors:    %" PRIu64 "%s%s\n", errors, errors ? ": " : "", codes);
	if (b->first_error[0])
		printf("first:     %s\n", b->first_error);
}

/* ---- command line ---- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: bench [-h HOST] [-p PORT] [-c CONNECTIONS] [-P PIPELINE_DEPTH]\n"
"             [-n TOTAL_REQUESTS | -d DURATION_SECS] [-u USER -a PASSWORD]\n"
"             [--mix get:90,scan:10] [--framing msgpack|text|resp]\n"
"             [--value-bytes N]\n"
"             [--number-format FMT] [--number-count N] [--number-first N]\n"
"             [--prefix DIGITS --count N] [--waybills FILE]\n"
"             [--scan-event EVENT] [--depot DEPOT] [--seed N] [--timeout SECS]\n"
"             [--csv]\n"
"       bench --load N [--events E] [-c C] [-P P] -u USER -a PASSWORD ...\n"
"\n"
"Mix mode sends requests drawn from --mix (weights of get, scan and ping):\n"
"  get   WAYBILL GET <number>\n"
"  scan  SCAN <number> <EVENT> depot=<DEPOT>   a durable write; EVENT is\n"
"        --scan-event (default damaged, valid again and again; arrived\n"
"        suits waybills in transit)\n"
"  ping  PING\n"
"--framing resp talks to Redis instead: get is GET key:NUMBER, scan is\n"
"SET key:NUMBER with a value of --value-bytes (default 1771), ping PING.\n"
"Numbers are picked uniformly at random (seeded by --seed) from\n"
"--number-count counter values starting at --number-first (default 1),\n"
"rendered by --number-format (digits around one %%0Nd; default %%012d),\n"
"or from --waybills FILE (one number a line). --prefix P --count N is\n"
"--number-format 'P%%0Wd' --number-count N, W = 12 less the prefix length.\n"
"\n"
"Load mode (--load N) registers waybills number-first .. + N - 1 and scans\n"
"each (picked_up, departed, arrived, departed, ...) until its history holds\n"
"--events events (default 10; the creation is the first).\n"
"\n"
"Defaults: -h 127.0.0.1 -p 7420 -c 1 -P 1 -d 10, msgpack, mix get:100.\n"
"Each connection sends AUTH USER PASSWORD first when -u is given; the clock\n"
"starts when every connection is logged in.\n"
"--csv prints one line: ops,elapsed_ms,ops_per_sec,p50_us,p99_us,p999_us,\n"
"max_us,errors,error_codes,rx_bytes_per_op (error_codes like 404=3;409=1).\n"
"Exit status: 0; 1 when a connection fails (or, loading, any error reply);\n"
"2 for a usage error.\n");
}

static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_mix(const char *s, struct options *o)
{
	memset(o->mix_weight, 0, sizeof(o->mix_weight));
	o->mix_total = 0;
	char buf[256];
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *save;
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(item, ':');
		uint64_t weight = 1;
		if (colon) {
			*colon = '\0';
			if (parse_uint(colon + 1, 0, 1000000, &weight) < 0)
				return -1;
		}
		int kind = -1;
		for (int k = 0; k < OP_KIND_COUNT; k++)
			if (strcmp(item, op_names[k]) == 0)
				kind = k;
		if (kind < 0)
			return -1;
		o->mix_weight[kind] = (unsigned)weight;
		o->mix_total += (unsigned)weight;
	}
	return o->mix_total > 0 ? 0 : -1;
}

enum long_option {
	OPT_MIX = 256, OPT_WAYBILLS, OPT_PREFIX, OPT_COUNT, OPT_NUMBER_FORMAT,
	OPT_NUMBER_COUNT, OPT_NUMBER_FIRST, OPT_FRAMING, OPT_VALUE_BYTES, OPT_SEED, OPT_CSV,
	OPT_LOAD, OPT_EVENTS, OPT_DEPOT, OPT_SCAN_EVENT, OPT_TIMEOUT, OPT_HELP,
};

static const struct option long_options[] = {
	{ "mix", required_argument, NULL, OPT_MIX },
	{ "waybills", required_argument, NULL, OPT_WAYBILLS },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "number-format", required_argument, NULL, OPT_NUMBER_FORMAT },
	{ "number-count", required_argument, NULL, OPT_NUMBER_COUNT },
	{ "number-first", required_argument, NULL, OPT_NUMBER_FIRST },
	{ "framing", required_argument, NULL, OPT_FRAMING },
	{ "value-bytes", required_argument, NULL, OPT_VALUE_BYTES },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "load", required_argument, NULL, OPT_LOAD },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "depot", required_argument, NULL, OPT_DEPOT },
	{ "scan-event", required_argument, NULL, OPT_SCAN_EVENT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse_options(int argc, char **argv, struct options *o)
{
	const char *format = DEFAULT_NUMBER_FORMAT, *prefix = NULL, *waybills = NULL;
	uint64_t v;
	int ch;
	*o = (struct options){
		.host = "127.0.0.1", .port = "7420", .connections = 1, .pipeline_depth = 1,
		.duration_secs = 10, .framing = PD_FRAMING_MSGPACK, .seed = 1, .value_bytes = 1771,
		.load_events = 10, .depot = "BENCH01", .scan_event = "damaged",
		.timeout_secs = 30,
		.numbers = { .first = 1, .count = 0 },
	};
	o->mix_weight[OP_GET] = o->mix_total = 100;

#define NEED(cond, what) do { if (!(cond)) { \
		fprintf(stderr, "bench: %s\n", what); return -1; } } while (0)
	while ((ch = getopt_long(argc, argv, "h:p:c:P:n:d:u:a:", long_options, NULL)) != -1) {
		switch (ch) {
		case 'h': o->host = optarg; break;
		case 'p': o->port = optarg; break;
		case 'c':
			NEED(parse_uint(optarg, 1, 100000, &v) == 0, "-c must be from 1 to 100000");
			o->connections = (size_t)v;
			break;
		case 'P':
			NEED(parse_uint(optarg, 1, 100000, &v) == 0, "-P must be from 1 to 100000");
			o->pipeline_depth = (size_t)v;
			break;
		case 'n':
			NEED(parse_uint(optarg, 1, UINT64_MAX / 2, &o->total_requests) == 0,
			     "-n must be a positive number");
			break;
		case 'd':
			NEED(parse_uint(optarg, 1, 86400 * 365, &o->duration_secs) == 0,
			     "-d must be a positive number of seconds");
			o->total_requests = 0;
			break;
		case 'u': o->user = optarg; break;
		case 'a': o->password = optarg; break;
		case OPT_MIX:
			NEED(parse_mix(optarg, o) == 0,
			     "--mix is like get:90,scan:10 (kinds: get, scan, ping)");
			break;
		case OPT_WAYBILLS: waybills = optarg; break;
		case OPT_PREFIX: prefix = optarg; break;
		case OPT_COUNT:
		case OPT_NUMBER_COUNT:
			NEED(parse_uint(optarg, 1, UINT64_MAX / 2, &o->numbers.count) == 0,
			     "--number-count must be a positive number");
			break;
		case OPT_NUMBER_FORMAT: format = optarg; break;
		case OPT_NUMBER_FIRST:
			NEED(parse_uint(optarg, 0, UINT64_MAX / 2, &o->numbers.first) == 0,
			     "--number-first must be a number");
			break;
		case OPT_FRAMING:
			NEED(!strcmp(optarg, "msgpack") || !strcmp(optarg, "text") || !strcmp(optarg, "resp"),
			     "--framing is msgpack, text or resp");
			o->framing = !strcmp(optarg, "text") ? PD_FRAMING_TEXT : PD_FRAMING_MSGPACK;
			o->resp = !strcmp(optarg, "resp");
			break;
		case OPT_VALUE_BYTES:
			NEED(parse_uint(optarg, 1, 1 << 20, &o->value_bytes) == 0,
			     "--value-bytes must be from 1 to 1048576");
			break;
		case OPT_SEED:
			NEED(parse_uint(optarg, 0, UINT64_MAX, &o->seed) == 0, "--seed must be a number");
			break;
		case OPT_CSV: o->csv = true; break;
		case OPT_LOAD:
			NEED(parse_uint(optarg, 1, UINT64_MAX / 1024, &o->load_waybills) == 0,
			     "--load must be a positive number of waybills");
			break;
		case OPT_EVENTS:
			NEED(parse_uint(optarg, 1, 1000, &v) == 0, "--events must be from 1 to 1000");
			o->load_events = (unsigned)v;
			break;
		case OPT_DEPOT: o->depot = optarg; break;
		case OPT_SCAN_EVENT: o->scan_event = optarg; break;
		case OPT_TIMEOUT:
			NEED(parse_uint(optarg, 1, 86400, &o->timeout_secs) == 0,
			     "--timeout must be a positive number of seconds");
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	NEED(optind == argc, "unexpected arguments (see --help)");
	NEED(!o->user == !o->password, "-u and -a go together");

	char pattern[64];
	if (prefix) {
		size_t n = strlen(prefix);
		NEED(n < DEFAULT_NUMBER_DIGITS && all_digits(prefix, n),
		     "--prefix must be fewer than 12 digits");
		snprintf(pattern, sizeof(pattern), "%s%%0%zud", prefix, DEFAULT_NUMBER_DIGITS - n);
		format = pattern;
	}
	NEED(number_format_parse(format, &o->numbers.format) == 0,
	     "--number-format must be digits around one %0Nd (like %012d)");
	if (waybills && number_list_read(waybills, &o->numbers) < 0)
		return -1;
	if (o->load_waybills) {
		NEED(!waybills, "--load numbers its waybills itself; drop --waybills");
		NEED(o->user, "--load needs -u and -a (creating waybills needs a login)");
		o->numbers.count = o->load_waybills;
	}
	if (!o->numbers.list) {
		NEED(o->numbers.count > 0 || (!o->mix_weight[OP_GET] && !o->mix_weight[OP_SCAN]),
		     "say which waybills to read: --number-count N, --count N or --waybills FILE");
		if (o->numbers.count > 0) {
			char first[NUMBER_MAX_BYTES], last[NUMBER_MAX_BYTES];
			number_at(&o->numbers, 0, first);
			number_at(&o->numbers, o->numbers.count - 1, last);
			NEED(valid_waybill(first) && valid_waybill(last),
			     "the number format yields numbers that are not 6 to 20 digits");
		}
	}
#undef NEED
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b; /* the histogram is large: not on the stack */
	signal(SIGPIPE, SIG_IGN);
	if (parse_options(argc, argv, &b.opt) < 0)
		return 2;
	if (b.opt.load_waybills)
		b.opt.total_requests = b.opt.load_waybills * b.opt.load_events;
	b.rng = b.opt.seed * 0x9e3779b97f4a7c15ull + 1; /* never zero for small seeds */
	if (b.rng == 0)
		b.rng = 1;
	time_t promised = time(NULL) + PROMISE_AFTER_SECS;
	struct tm tm;
	gmtime_r(&promised, &tm);
	strftime(b.promised_at, sizeof(b.promised_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pd_arena_init(&b.request_arena);

	int rc = run(&b);
	if (b.timing)
		print_results(&b);
	pd_arena_free(&b.request_arena);
	number_source_free(&b.opt.numbers);
	if (rc < 0)
		return 1;
	if (b.opt.load_waybills && error_count(&b) > 0)
		return 1;
	return 0;
}
