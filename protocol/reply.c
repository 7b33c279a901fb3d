/* reply.c — rendering replies as text or msgpack. */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Writes u in decimal at w, returns the end: the digits are counted
 * first and written in place from the last (no copy of a variable length:
 * a call to memcpy for each number). */
static char *digits_to(char *w, unsigned long long u)
{
	size_t n = 1;
	for (unsigned long long t = u; t >= 10; t /= 10)
		n++;
	char *e = w + n;
	do
		*--e = (char)('0' + u % 10);
	while (u /= 10);
	return w + n;
}

/* Writes v in decimal at w and returns the end (room for 21 bytes: one
 * past a digit written alone). Most numbers of a reply (an event's seq,
 * an array's index, most counts) are below 100: inline, two bytes of a
 * table, without a division. */
static inline char *int_to(char *w, long long v)
{
	static const char two[200] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	if (v < 0)
		*w++ = '-';
	if (u >= 100)
		return digits_to(w, u);
	memcpy(w, two + 2 * u + (u < 10), 2);
	return w + 1 + (u >= 10);
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
	done(b, int_to(end_of(b, 21), v));
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

/* Bit i set for a byte i that is hit. */
static inline unsigned hit_bits(bytes16 hit)
{
#ifdef __SSE2__
	return (unsigned)_mm_movemask_epi8((__m128i)hit);
#else
	unsigned bits = 0;
	for (int i = 0; i < 16; i++)
		bits |= (unsigned)(hit[i] & 1) << i;
	return bits;
#endif
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

/* escape_to's strings of more than 16 bytes, and short ones at the end
 * of their bytes: blocks of 16 and a last block that overlaps the one
 * before; from a block with a byte to escape on, escape_slow. */
static char *escape_long(char *w, const char *s, size_t n)
{
	if (n < 16)
		return escape_slow(w, s, n);
	bytes16 a;
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

/* Writes s[0..n) escaped at w and returns the end; s[0..avail) may be
 * read (avail >= n: a string inside packed data may be read past its end).
 * The common case, nothing to escape, 16 bytes at a time: a value of up to
 * 16 bytes with 16 to read is one load, one test of its first n bytes and
 * one store of 16 (ESCAPED_ROOM), inline in the renderer's loop; the
 * others in escape_long. */
static inline __attribute__((always_inline)) char *
escape_to(char *w, const char *s, size_t n, size_t avail)
{
	if (n > 16 || avail < 16)
		return escape_long(w, s, n);
	bytes16 a;
	memcpy(&a, s, 16);
	if (hit_bits(escape_hits(a)) & ((1u << n) - 1))
		return escape_slow(w, s, n);
	memcpy(w, &a, 16);
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
static inline __attribute__((always_inline)) char *
scalar_to(char *w, const struct pd_mp_item *it, const char *lim)
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

/* The text of the records being written: at w, up to end (one byte more
 * is kept for the NUL). A line is written piece by piece without a check
 * each: the room for all of it is checked once (line_room), and w stays in
 * a register where the buffer's length would be loaded and stored at every
 * piece. */
struct text_out {
	struct pd_buf *b;
	char *w, *end;
};

static void text_start(struct text_out *o, struct pd_buf *b)
{
	pd_buf_reserve(b, 0);
	o->b = b;
	o->w = b->data + b->len;
	o->end = b->data + b->cap - 1;
}

/* The length and the NUL, as pd_buf_add leaves them. */
static void text_done(struct text_out *o)
{
	done(o->b, o->w);
}

static __attribute__((noinline)) void text_grow(struct text_out *o, size_t n)
{
	text_done(o);
	pd_buf_reserve(o->b, n);
	text_start(o, o->b);
}

static inline void text_room(struct text_out *o, size_t n)
{
	if ((size_t)(o->end - o->w) < n)
		text_grow(o, n);
}

/* The most a line takes whose key and value came from `packed` bytes of
 * the data, under a head of head_len bytes: a packed byte shows as 4 at
 * most (a string's byte as \xHH; an int of 1 byte as 3 at most, of 9 as
 * 20), and besides: a dot-stuffing dot, an index key (20 digits at most),
 * ": ", CRLF, and 16 bytes for the stores of the copy of the head or of a
 * short string that run past the line's end. */
static inline size_t line_room(size_t head_len, size_t packed)
{
	return head_len + 1 + 20 + 2 + 2 + 16 + 4 * packed;
}

/* A line's head: the dotted path of the container whose scalars it shows,
 * escaped and dot-stuffed, with its trailing dot ("events.3."; "" at the
 * top), built once for the container and copied onto each of its lines
 * 16 bytes at a time: the copy runs up to 15 bytes past the head's end,
 * from bytes of the head's buffer kept for that (HEAD_SLACK), into room
 * the line's room counts, written over next. */
#define HEAD_SLACK 16

static inline char *put_head(char *w, const char *head, size_t len)
{
	for (size_t i = 0; i < len; i += 16)
		memcpy(w + i, head + i, 16);
	return w + len;
}

/* A key of the dotted path: a map's, escaped, or an array's index. */
struct path_key {
	const char *s; /* NULL: index */
	size_t len, avail; /* avail: bytes that may be read at s (escape_to) */
	uint64_t index;
};

/* Writes a key at w, under a head of head_len bytes, and returns the
 * end: where a line's ": " goes, or the '.' of a longer head. A key that
 * starts a line with '.' gets one more (a line may not begin with '.'). */
static inline __attribute__((always_inline)) char *
put_key(char *w, size_t head_len, const struct path_key *k)
{
	if (!k->s)
		return int_to(w, (long long)k->index);
	if (k->s[0] == '.' && !head_len && k->len) /* k->s[0] may be the next item's */
		*w++ = '.';
	return escape_to(w, k->s, k->len, k->avail);
}

static inline bool is_container(const struct pd_mp_item *it)
{
	return it->type == PD_MAP || it->type == PD_ARR;
}

/* The commonest line, a short string, a small number, yes or no under a
 * short string key ("status: in_transit", "events.3.at:
 * 2026-12-07T02:58:25+08:00", "events.3.seq: 3", "late: no"), read from
 * the two head bytes: a key of up to 31 bytes whose head is its type byte
 * (a fixstr), and a value that is one too, or whose head is all of it (an
 * int 0..127, a bool, nil); the key's bytes, and a string value's head
 * and bytes, 32 at most. p must have SHORT_PAIR_READ bytes after it (a
 * value's head is 32 bytes after the key's at most, and the 32 after it
 * are read), w room for line_room(hl, SHORT_PAIR_PACKED), what such a
 * line's packed bytes count for at most (the line takes hl + 40 bytes at
 * most, its copies of 32 bytes run up to 32 past its end). The strings
 * are tested for bytes to escape at once (a value's head between them,
 * 0xa0..0xbf, is never one). Returns the line's end and moves *pp past
 * it, or NULL, for the general way, on any other line. */
#define SHORT_PAIR_READ 65
#define SHORT_PAIR_PACKED 34

static inline __attribute__((always_inline)) char *
short_pair_line(char *w, const char *hd, size_t hl, const unsigned char **pp)
{
	const unsigned char *p = *pp;
	if ((p[0] & 0xe0) != 0xa0)
		return NULL;
	size_t nk = p[0] & 31, nv = 0, tested = nk;
	const unsigned char *v = p + 1 + nk;
	bool str = (*v & 0xe0) == 0xa0;
	if (str) {
		nv = *v & 31;
		tested += 1 + nv;
	} else if (*v > 0x7f && *v != 0xc0 && *v != 0xc2 && *v != 0xc3) {
		return NULL;
	}
	if (tested > 32)
		return NULL;
	bytes16 a, b;
	memcpy(&a, p + 1, 16);
	memcpy(&b, p + 17, 16);
	uint64_t hits = hit_bits(escape_hits(a));
	if (tested > 16) /* most lines test one block */
		hits |= (uint64_t)hit_bits(escape_hits(b)) << 16;
	if (hits & (((uint64_t)1 << tested) - 1))
		return NULL;
	w = put_head(w, hd, hl);
	if (!hl && nk && p[1] == '.')
		*w++ = '.';
	memcpy(w, &a, 16);
	memcpy(w + 16, &b, 16);
	w += nk;
	memcpy(w, ": ", 2);
	w += 2;
	if (str) {
		memcpy(w, v + 1, 16);
		memcpy(w + 16, v + 17, 16);
		w += nv;
	} else if (*v <= 0x7f) {
		w = int_to(w, *v);
	} else if (*v != 0xc0) { /* 0xc3 true, 0xc2 false */
		memcpy(w, *v & 1 ? "yes" : "no", 3);
		w += 2 + (*v & 1);
	}
	memcpy(w, "\r\n", 2);
	*pp = v + 1 + nv;
	return w + 2;
}

/* The lines of a map or an array, recursing into the ones it holds (a
 * scalar's line is written in the loop, without a call for each). head is
 * the lines' head (put_head). Returns -1 on bytes that are not packed
 * data. */
static int render_field(struct text_out *o, struct pd_buf *head, struct packed *in,
			const struct pd_mp_item *it, int depth)
{
	if (depth >= PD_UNPACK_MAX_DEPTH)
		return -1;
	size_t keep = head->len;
	if (it->count == 0) { /* "path:": the head without its dot */
		text_room(o, line_room(keep, 0));
		o->w = put(put_head(o->w, head->data, keep) - (keep > 0), ":\r\n", 3);
		return 0;
	}
	/* what the lines use, in registers (the bytes written could be any
	 * of the structs' for the compiler, which would load them again after
	 * each); written back for a call that moves them */
	const unsigned char *p = in->p, *end = in->end;
	char *w = o->w, *wend = o->end;
	const char *hd = head->data;
	const uint64_t count = it->count;
	const bool is_map = it->type == PD_MAP;
	const size_t pair_room = line_room(keep, SHORT_PAIR_PACKED);
	const size_t pair_read = is_map ? SHORT_PAIR_READ : SIZE_MAX; /* a map's lines only */
	for (uint64_t index = 1; index <= count; index++) {
		if ((size_t)(end - p) >= pair_read && (size_t)(wend - w) >= pair_room) {
			char *e = short_pair_line(w, hd, keep, &p);
			if (e) {
				w = e;
				continue;
			}
		}
		const unsigned char *p0 = p;
		struct pd_mp_item key, val;
		struct path_key k = { .index = index };
		if (is_map) {
			if (pd_mp_next(&p, end, &key) != PD_UNPACK_OK || key.type != PD_STR)
				goto bad;
			k.s = key.s;
			k.len = (size_t)key.count;
			k.avail = (size_t)((const char *)end - key.s);
		}
		if (pd_mp_next(&p, end, &val) != PD_UNPACK_OK)
			goto bad;
		if (!is_container(&val)) {
			size_t room = line_room(keep, (size_t)(p - p0));
			if ((size_t)(wend - w) < room) {
				o->w = w;
				text_grow(o, room);
				w = o->w;
				wend = o->end;
			}
			w = put_key(put_head(w, hd, keep), keep, &k);
			*w++ = ':';
			*w++ = ' ';
			w = scalar_to(w, &val, (const char *)end);
			*w++ = '\r';
			*w++ = '\n';
			continue;
		}
		/* the head of the lines under it: this head, the key, a dot */
		char *h = end_of(head, line_room(0, (size_t)(p - p0)) + HEAD_SLACK);
		h = put_key(h, keep, &k);
		if (h > head->data) /* a first key "" adds nothing: its lines are the top's */
			*h++ = '.';
		done(head, h);
		in->p = p;
		o->w = w;
		if (render_field(o, head, in, &val, depth + 1) < 0)
			return -1;
		p = in->p;
		w = o->w;
		wend = o->end;
		hd = head->data;
		head->len = keep;
	}
	in->p = p;
	o->w = w;
	return 0;
bad:
	o->w = w;
	return -1;
}

static int render_record(struct text_out *o, struct pd_buf *head, struct packed *in)
{
	const unsigned char *p0 = in->p;
	struct pd_mp_item it;
	if (pd_mp_next(&in->p, in->end, &it) != PD_UNPACK_OK)
		return -1;
	if (it.type == PD_MAP && it.count == 0)
		return 0;
	head->len = 0;
	if (it.type == PD_MAP)
		return render_field(o, head, in, &it, 0);
	/* a record that is not a map is shown under the key "value" */
	pd_buf_adds(head, "value.");
	if (is_container(&it))
		return render_field(o, head, in, &it, 0);
	text_room(o, line_room(head->len, (size_t)(in->p - p0)));
	char *w = put(put_head(o->w, head->data, head->len) - 1, ": ", 2);
	w = scalar_to(w, &it, (const char *)in->end);
	o->w = put(w, "\r\n", 2);
	return 0;
}

int pd_buf_write(void *data, const char *p, size_t n)
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
	msgpack_packer_init(&pk, tmp, pd_buf_write);
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
	struct pd_buf tmp, head;
	char path[256]; /* the lines' head, on the heap only when longer */
	pd_buf_init(&tmp);
	pd_buf_use(&head, path, sizeof(path));
	struct packed in;
	struct pd_mp_item top;
	if (packed_data(r, &tmp, &in) && pd_mp_next(&in.p, in.end, &top) == PD_UNPACK_OK) {
		struct text_out o;
		text_start(&o, out);
		if (top.type == PD_ARR) {
			/* a list: records separated by an empty line */
			for (uint64_t i = 0; i < top.count; i++) {
				if (i) {
					text_room(&o, 2);
					o.w = put(o.w, "\r\n", 2);
				}
				if (render_record(&o, &head, &in) < 0)
					break;
			}
		} else if (top.type != PD_NIL) {
			in.p = (const unsigned char *)(r->packed ? r->packed : tmp.data);
			render_record(&o, &head, &in);
		}
		text_done(&o);
	}
	pd_buf_free(&tmp);
	pd_buf_free(&head);
	pd_buf_adds(out, ".\r\n");
}

/* An int's msgpack head and bytes, as msgpack_pack_int() writes them
 * (the smallest form). */
static char *mp_int_to(char *w, int v)
{
	unsigned char *u = (unsigned char *)w;
	uint32_t x = (uint32_t)v;
	if (v >= -32 && v < 128) {
		u[0] = (unsigned char)x;
		return w + 1;
	}
	size_t n = v >= 0 ? (v < 256 ? 1 : v < 65536 ? 2 : 4) : (v >= -128 ? 1 : v >= -32768 ? 2 : 4);
	static const unsigned char pos[] = { [1] = 0xcc, [2] = 0xcd, [4] = 0xce };
	static const unsigned char neg[] = { [1] = 0xd0, [2] = 0xd1, [4] = 0xd2 };
	u[0] = v >= 0 ? pos[n] : neg[n];
	for (size_t i = 0; i < n; i++)
		u[1 + i] = (unsigned char)(x >> (8 * (n - 1 - i)));
	return w + 1 + n;
}

/* A string's msgpack head, as msgpack_pack_str() writes it. */
static char *mp_str_head_to(char *w, size_t n)
{
	unsigned char *u = (unsigned char *)w;
	if (n < 32) {
		u[0] = (unsigned char)(0xa0 | n);
		return w + 1;
	}
	size_t k = n < 256 ? 1 : n < 65536 ? 2 : 4;
	u[0] = k == 1 ? 0xd9 : k == 2 ? 0xda : 0xdb;
	for (size_t i = 0; i < k; i++)
		u[1 + i] = (unsigned char)((uint64_t)n >> (8 * (k - 1 - i)));
	return w + 1 + k;
}

/* The reply map's head, code and msg are written as bytes in one go, not
 * through the packer's writer a piece at a time (nine calls a reply:
 * docs/performance.md, round 11). */
void pd_reply_render_msgpack(const struct pd_reply *r, struct pd_buf *out)
{
	const char *msg = r->msg ? r->msg : "";
	size_t n = strlen(msg);
	/* map head, "code", int (5), "msg", str head (5), msg, "data", nil */
	char *w = end_of(out, 1 + 5 + 5 + 4 + 5 + n + 5 + 1);
	w = put(w, "\x83\xa4" "code", 6);
	w = mp_int_to(w, r->code);
	w = put(w, "\xa3" "msg", 4);
	w = put(mp_str_head_to(w, n), msg, n);
	w = put(w, "\xa4" "data", 5);
	if (r->packed) {
		done(out, w);
		pd_buf_add(out, r->packed, r->packed_len);
	} else if (r->data) {
		done(out, w);
		msgpack_packer pk;
		msgpack_packer_init(&pk, out, pd_buf_write);
		pd_value_pack(&pk, r->data);
	} else {
		*w++ = '\xc0';
		done(out, w);
	}
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
