/* reply.c — rendering replies as text or msgpack. */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pd_buf_init(struct pd_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->borrowed = false;
}

void pd_buf_use(struct pd_buf *b, void *mem, size_t cap)
{
	b->data = mem;
	b->len = 0;
	b->cap = cap;
	b->borrowed = true;
}

void pd_buf_free(struct pd_buf *b)
{
	if (!b->borrowed)
		free(b->data);
	pd_buf_init(b);
}

void pd_buf_reserve(struct pd_buf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *d = b->borrowed ? malloc(cap) : realloc(b->data, cap);
	if (!d)
		abort();
	if (b->borrowed && b->len)
		memcpy(d, b->data, b->len);
	b->borrowed = false;
	b->data = d;
	b->cap = cap;
}

/* Writes v in decimal at w and returns the end (room for 20 bytes). The
 * digits are counted first and written in place from the last: no copy
 * of a variable length (a call to memcpy for each number). */
static char *int_to(char *w, long long v)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	if (v < 0)
		*w++ = '-';
	size_t n = 1;
	for (unsigned long long t = u; t >= 10; t /= 10)
		n++;
	char *e = w + n;
	do
		*--e = (char)('0' + u % 10);
	while (u /= 10);
	return w + n;
}

/* The text framing writes a line at a time: room for the whole line is
 * reserved once, the pieces are written at end_of(b) without a check
 * each, and done() ends the line (the length and the NUL). */
static char *end_of(struct pd_buf *b, size_t room)
{
	if (b->len + room + 1 > b->cap)
		pd_buf_reserve(b, room);
	return b->data + b->len;
}

static void done(struct pd_buf *b, char *w)
{
	b->len = (size_t)(w - b->data);
	b->data[b->len] = '\0';
}

static char *put(char *w, const void *p, size_t n)
{
	memcpy(w, p, n);
	return w + n;
}

void pd_buf_add_int(struct pd_buf *b, long long v)
{
	done(b, int_to(end_of(b, 20), v));
}

void pd_buf_printf(struct pd_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		pd_buf_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		abort();
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	pd_buf_add(b, big, (size_t)n);
	free(big);
}

void pd_reply_set(struct pd_arena *a, struct pd_reply *r, int code,
		  const char *fmt, ...)
{
	va_list ap;
	char msg[256];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pd_utf8_sanitize(msg);
	r->code = code;
	r->msg = pd_strdup(a, msg);
}

/* The bytes a text value shows escaped: control characters, DEL, \. */
static bool must_escape(unsigned char c)
{
	return c < 0x20 || c == '\\' || c == 0x7f;
}

/* Sixteen bytes, tested at once with GCC's vector extension (portable: no
 * intrinsics; SSE2 or NEON where there is one). */
typedef unsigned char bytes16 __attribute__((vector_size(16)));

/* Which of the bytes of a must be escaped: 0xff each, 0 the others. */
static inline bytes16 escape_hits(bytes16 a)
{
	return (bytes16)((a < 0x20) | (a == '\\') | (a == 0x7f));
}

static inline bool any16(bytes16 hit)
{
	uint64_t h[2];
	memcpy(h, &hit, sizeof(h));
	return (h[0] | h[1]) != 0;
}

/* The most a value of n bytes takes escaped (\xHH for each byte), and the
 * 16 bytes escape_to may store past a short value's end (written over
 * next, or past the NUL). */
#define ESCAPED_ROOM(n) (4 * (n) + 16)

/* escape_to's way from a word with a byte to escape: byte by byte. */
static char *escape_slow(char *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!must_escape(c)) {
			*w++ = (char)c;
			continue;
		}
		*w++ = '\\';
		switch (c) {
		case '\\': *w++ = '\\'; break;
		case '\n': *w++ = 'n'; break;
		case '\r': *w++ = 'r'; break;
		case '\t': *w++ = 't'; break;
		default:
			*w++ = 'x';
			*w++ = hex[c >> 4];
			*w++ = hex[c & 15];
			break;
		}
	}
	return w;
}

/* Writes s[0..n) escaped at w and returns the end; s[0..avail) may be
 * read (avail >= n: a string inside packed data may be read past its end).
 * The common case, nothing to escape, 16 bytes at a time: a value of up to
 * 16 bytes with 16 to read is one load, one test of its first n bytes and
 * one store of 16 (ESCAPED_ROOM); a longer one is blocks of 16 and a last
 * block that overlaps the one before. From a block with a byte to escape
 * on, or for a short value at the end of its bytes, escape_slow. */
static inline char *escape_to(char *w, const char *s, size_t n, size_t avail)
{
	bytes16 a;
	if (n <= 16) {
		if (avail < 16)
			return escape_slow(w, s, n);
		/* the first n bytes' mask: 16 - n bytes into 16 0xff, 16 0 */
		static const unsigned char firsts[32] = {
			255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255
		};
		bytes16 first_n;
		memcpy(&first_n, firsts + 16 - n, 16);
		memcpy(&a, s, 16);
		if (any16(escape_hits(a) & first_n))
			return escape_slow(w, s, n);
		memcpy(w, &a, 16);
		return w + n;
	}
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		memcpy(&a, s + i, 16);
		if (any16(escape_hits(a)))
			return escape_slow(w + i, s + i, n - i);
		memcpy(w + i, &a, 16);
	}
	if (i < n) {
		memcpy(&a, s + n - 16, 16);
		if (any16(escape_hits(a)))
			return escape_slow(w + i, s + i, n - i);
		memcpy(w + n - 16, &a, 16);
	}
	return w + n;
}

static void escape_into(struct pd_buf *out, const char *s, size_t n)
{
	done(out, escape_to(end_of(out, ESCAPED_ROOM(n)), s, n, n));
}

/* The most a scalar other than a string takes: "(%llu items)". */
#define SCALAR_ROOM 32

/* A scalar as it appears after "key: "; a container as its size. Writes
 * at w (room for SCALAR_ROOM, or ESCAPED_ROOM of a string) and returns
 * the end. A string's bytes may be read up to lim (the end of its packed
 * data). */
static char *scalar_to(char *w, const struct pd_mp_item *it, const char *lim)
{
	switch (it->type) {
	case PD_NIL: break;
	case PD_BOOL: w = it->b ? put(w, "yes", 3) : put(w, "no", 2); break;
	case PD_INT: w = int_to(w, (long long)it->i); break;
	case PD_STR: w = escape_to(w, it->s, (size_t)it->count, (size_t)(lim - it->s)); break;
	case PD_MAP:
	case PD_ARR:
		*w++ = '(';
		w = int_to(w, (long long)it->count); /* a count fits: packed data */
		w = it->count == 1 ? put(w, " item)", 6) : put(w, " items)", 7);
		break;
	}
	return w;
}

static size_t scalar_room(const struct pd_mp_item *it)
{
	return it->type == PD_STR ? ESCAPED_ROOM((size_t)it->count) : SCALAR_ROOM;
}

void pd_value_render_text(const struct pd_value *v, struct pd_buf *out)
{
	if (v->type == PD_STR) { /* no bytes to read past its end */
		escape_into(out, v->u.s.ptr, v->u.s.len);
		return;
	}
	struct pd_mp_item it = { .type = v->type };
	switch (v->type) {
	case PD_NIL: case PD_STR: break;
	case PD_BOOL: it.b = v->u.b; break;
	case PD_INT: it.i = v->u.i; break;
	case PD_MAP:
	case PD_ARR: it.count = v->u.c.count; break;
	}
	done(out, scalar_to(end_of(out, SCALAR_ROOM), &it, NULL));
}

/* Text is rendered from the packed (msgpack) data, so a reply kept packed
 * (WAYBILL GET's stored body) renders without building a tree. */
struct packed {
	const unsigned char *p, *end;
};

/* The dotted path is copied onto every line under it: a word at a time,
 * the last word running up to 7 bytes past its end, into bytes of the
 * path's buffer and of the line's room that were reserved for that
 * (PATH_SLACK) and are written over next (or lie past the NUL). */
#define PATH_SLACK 8

static inline char *put_path(char *w, const struct pd_buf *path)
{
	for (size_t i = 0; i < path->len; i += 8)
		memcpy(w + i, path->data + i, 8);
	return w + path->len;
}

/* A line's start: the path, dot-stuffed (a line may not begin with '.'). */
static inline char *put_key(char *w, const struct pd_buf *path)
{
	if (path->len && path->data[0] == '.')
		*w++ = '.';
	return put_path(w, path);
}

/* A key of the dotted path: a map's, escaped, or an array's index. */
struct path_key {
	const char *s; /* NULL: index */
	size_t len, avail; /* avail: bytes that may be read at s (escape_to) */
	uint64_t index;
};

static inline size_t key_room(const struct path_key *k)
{
	return 1 + (k->s ? ESCAPED_ROOM(k->len) : 20);
}

/* Writes ".key" (no dot at the path's start) at w, returns the end. */
static inline char *put_path_key(char *w, bool first, const struct path_key *k)
{
	if (!first)
		*w++ = '.';
	return k->s ? escape_to(w, k->s, k->len, k->avail) : int_to(w, (long long)k->index);
}

/* One "[.]prefix.key: value" line of a scalar, its room reserved once.
 * The last key is written from its own bytes, not from the path: the path
 * is copied a word at a time, and words loaded from bytes just written
 * piecemeal wait for those stores (most lines are one key deep, written
 * into the path a moment before). Inlined by force: the compiler would
 * make a call of it, one a line. */
static inline __attribute__((always_inline)) void
render_line(struct pd_buf *out, const struct pd_buf *prefix, const struct path_key *k,
	    const struct pd_mp_item *it, const char *lim)
{
	char *w = end_of(out, 1 + prefix->len + PATH_SLACK + key_room(k) + 2 + scalar_room(it) + 2);
	if (prefix->len)
		w = put_key(w, prefix);
	else if (k->s && k->len && k->s[0] == '.')
		*w++ = '.'; /* dot-stuffed: the key starts the line */
	w = put_path_key(w, prefix->len == 0, k);
	*w++ = ':';
	*w++ = ' ';
	w = scalar_to(w, it, lim);
	*w++ = '\r';
	*w++ = '\n';
	done(out, w);
}

static inline bool is_container(const struct pd_mp_item *it)
{
	return it->type == PD_MAP || it->type == PD_ARR;
}

/* The lines of a map or an array, recursing into the ones it holds (a
 * scalar's line is written in the loop, without a call for each). prefix
 * is the dotted key path, already escaped (escaping is byte by byte, so
 * each key is escaped once as it joins the path, not again on every line
 * under it). Returns -1 on bytes that are not packed data. */
static int render_field(struct pd_buf *out, struct pd_buf *prefix, struct packed *in,
			const struct pd_mp_item *it, int depth)
{
	if (depth >= PD_UNPACK_MAX_DEPTH)
		return -1;
	size_t keep = prefix->len;
	if (it->count == 0) {
		char *w = put_key(end_of(out, 1 + prefix->len + PATH_SLACK + 3), prefix);
		done(out, put(w, ":\r\n", 3));
		return 0;
	}
	for (uint64_t index = 1; index <= it->count; index++) {
		struct pd_mp_item key, val;
		struct path_key k = { .index = index };
		if (it->type == PD_MAP) {
			if (pd_mp_next(&in->p, in->end, &key) != PD_UNPACK_OK || key.type != PD_STR)
				return -1;
			k.s = key.s;
			k.len = (size_t)key.count;
			k.avail = (size_t)((const char *)in->end - key.s);
		}
		if (pd_mp_next(&in->p, in->end, &val) != PD_UNPACK_OK)
			return -1;
		if (!is_container(&val)) {
			render_line(out, prefix, &k, &val, (const char *)in->end);
			continue;
		}
		done(prefix, put_path_key(end_of(prefix, key_room(&k) + PATH_SLACK), keep == 0, &k));
		if (render_field(out, prefix, in, &val, depth + 1) < 0)
			return -1;
		prefix->len = keep;
	}
	return 0;
}

static int render_record(struct pd_buf *out, struct pd_buf *prefix, struct packed *in)
{
	struct pd_mp_item it;
	if (pd_mp_next(&in->p, in->end, &it) != PD_UNPACK_OK)
		return -1;
	/* a record that is not a map is shown under the key "value" */
	const struct path_key value = { .s = "value", .len = 5, .avail = 5 };
	prefix->len = 0;
	if (it.type == PD_MAP && it.count == 0)
		return 0;
	if (!is_container(&it)) {
		render_line(out, prefix, &value, &it, (const char *)in->end);
		return 0;
	}
	if (it.type != PD_MAP)
		done(prefix, put_path_key(end_of(prefix, key_room(&value) + PATH_SLACK), true, &value));
	return render_field(out, prefix, in, &it, 0);
}

static int buf_write(void *data, const char *p, size_t n)
{
	pd_buf_add(data, p, n);
	return 0;
}

/* The reply's data as msgpack: kept packed, or packed now into tmp. */
static bool packed_data(const struct pd_reply *r, struct pd_buf *tmp, struct packed *in)
{
	if (r->packed) {
		in->p = (const unsigned char *)r->packed;
		in->end = in->p + r->packed_len;
		return true;
	}
	if (!r->data)
		return false;
	msgpack_packer pk;
	msgpack_packer_init(&pk, tmp, buf_write);
	pd_value_pack(&pk, r->data);
	in->p = (const unsigned char *)tmp->data;
	in->end = in->p + tmp->len;
	return true;
}

void pd_reply_render_text(const struct pd_reply *r, struct pd_buf *out)
{
	if (r->code >= 0 && r->code <= 999) { /* "%03d " without printf */
		char code[4] = { (char)('0' + r->code / 100), (char)('0' + r->code / 10 % 10),
				 (char)('0' + r->code % 10), ' ' };
		pd_buf_add(out, code, sizeof(code));
	} else {
		pd_buf_printf(out, "%03d ", r->code);
	}
	escape_into(out, r->msg ? r->msg : "", r->msg ? strlen(r->msg) : 0);
	pd_buf_adds(out, "\r\n");
	if (r->code < 200 || r->code >= 300)
		return;
	if (r->text) {
		for (const char *p = r->text; *p;) {
			size_t n = strcspn(p, "\n");
			if (*p == '.')
				pd_buf_adds(out, "."); /* stuffed, like a record line */
			escape_into(out, p, n);
			pd_buf_adds(out, "\r\n");
			p += n + (p[n] == '\n');
		}
		pd_buf_adds(out, ".\r\n");
		return;
	}
	struct pd_buf tmp, prefix;
	char path[256]; /* the dotted path, on the heap only when longer */
	pd_buf_init(&tmp);
	pd_buf_use(&prefix, path, sizeof(path));
	struct packed in;
	struct pd_mp_item top;
	if (packed_data(r, &tmp, &in) && pd_mp_next(&in.p, in.end, &top) == PD_UNPACK_OK) {
		if (top.type == PD_ARR) {
			/* a list: records separated by an empty line */
			for (uint64_t i = 0; i < top.count; i++) {
				if (i)
					pd_buf_adds(out, "\r\n");
				if (render_record(out, &prefix, &in) < 0)
					break;
			}
		} else if (top.type != PD_NIL) {
			in.p = (const unsigned char *)(r->packed ? r->packed : tmp.data);
			render_record(out, &prefix, &in);
		}
	}
	pd_buf_free(&tmp);
	pd_buf_free(&prefix);
	pd_buf_adds(out, ".\r\n");
}

void pd_reply_render_msgpack(const struct pd_reply *r, struct pd_buf *out)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, out, buf_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "code", 4);
	msgpack_pack_int(&pk, r->code);
	msgpack_pack_str_with_body(&pk, "msg", 3);
	const char *msg = r->msg ? r->msg : "";
	msgpack_pack_str_with_body(&pk, msg, strlen(msg));
	msgpack_pack_str_with_body(&pk, "data", 4);
	if (r->packed)
		pd_buf_add(out, r->packed, r->packed_len);
	else if (r->data)
		pd_value_pack(&pk, r->data);
	else
		msgpack_pack_nil(&pk);
}

void pd_reply_render(const struct pd_reply *r, enum pd_framing f,
		     struct pd_buf *out)
{
	if (f == PD_FRAMING_MSGPACK)
		pd_reply_render_msgpack(r, out);
	else
		pd_reply_render_text(r, out);
}

int pd_reply_from_msgpack(const struct pd_value *v, struct pd_reply *r)
{
	int64_t code;
	if (v->type != PD_MAP || !pd_map_int(v, "code", &code))
		return -1;
	r->code = (int)code;
	r->msg = pd_map_str(v, "msg");
	r->packed = NULL;
	r->packed_len = 0;
	r->text = NULL;
	r->data = pd_map_get(v, "data");
	if (r->data && r->data->type == PD_NIL)
		r->data = NULL;
	return 0;
}

/* Steps *p over the value at *p, a container with all it holds. */
static bool mp_skip(const unsigned char **p, const unsigned char *end)
{
	struct pd_mp_scan s;
	pd_mp_scan_init(&s);
	if (pd_mp_scan(&s, (const char *)*p, (size_t)(end - *p)) != PD_UNPACK_OK)
		return false;
	*p += s.pos;
	return true;
}

int pd_reply_status_from_msgpack(const char *buf, size_t len, struct pd_reply_status *st)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	struct pd_mp_item top, key, val;
	bool seen_code = false, seen_msg = false;
	st->msg = "";
	st->msg_len = 0;
	if (pd_mp_next(&p, end, &top) != PD_UNPACK_OK || top.type != PD_MAP)
		return -1;
	for (uint64_t i = 0; i < top.count && !(seen_code && seen_msg); i++) {
		if (pd_mp_next(&p, end, &key) != PD_UNPACK_OK || key.type != PD_STR)
			return -1;
		bool is_code = key.count == 4 && !memcmp(key.s, "code", 4) && !seen_code;
		bool is_msg = key.count == 3 && !memcmp(key.s, "msg", 3) && !seen_msg;
		const unsigned char *at = p;
		if (pd_mp_next(&p, end, &val) != PD_UNPACK_OK)
			return -1;
		if (val.type == PD_MAP || val.type == PD_ARR) {
			p = at;
			if (!mp_skip(&p, end))
				return -1;
		}
		if (is_code) {
			if (val.type != PD_INT)
				return -1; /* as pd_map_int() finds the first "code" */
			st->code = (int)val.i;
			seen_code = true;
		} else if (is_msg) {
			if (val.type == PD_STR) {
				st->msg = val.s;
				st->msg_len = (size_t)val.count;
			}
			seen_msg = true;
		}
	}
	return seen_code ? 0 : -1;
}
