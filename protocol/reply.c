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
}

void pd_buf_free(struct pd_buf *b)
{
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
	char *d = realloc(b->data, cap);
	if (!d)
		abort();
	b->data = d;
	b->cap = cap;
}

void pd_buf_add_int(struct pd_buf *b, long long v)
{
	char digits[24], *p = digits + sizeof(digits);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	pd_buf_add(b, p, (size_t)(digits + sizeof(digits) - p));
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

/* How many bytes of s come before the first that must be escaped: eight
 * at a time (a word has a byte below 0x20 when (x - 0x20..) & ~x & 0x80..
 * is not zero, and one equal to c when x ^ c.. has a zero byte), then
 * byte by byte from the word that has one. */
static size_t plain_prefix(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, bs, del;
		memcpy(&x, s + i, 8);
		bs = x ^ (ones * '\\');
		del = x ^ (ones * 0x7f);
		if (((x - ones * 0x20) & ~x & highs) | ((bs - ones) & ~bs & highs) |
		    ((del - ones) & ~del & highs))
			break;
	}
	while (i < n && !must_escape((unsigned char)s[i]))
		i++;
	return i;
}

static void escape_into(struct pd_buf *out, const char *s, size_t n)
{
	/* the common case, nothing to escape: one copy */
	size_t i = plain_prefix(s, n);
	if (i == n) {
		pd_buf_add(out, s, n);
		return;
	}
	size_t run = i;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!must_escape(c)) {
			run++;
			continue;
		}
		pd_buf_add(out, s + i - run, run);
		run = 0;
		switch (c) {
		case '\\': pd_buf_adds(out, "\\\\"); break;
		case '\n': pd_buf_adds(out, "\\n"); break;
		case '\r': pd_buf_adds(out, "\\r"); break;
		case '\t': pd_buf_adds(out, "\\t"); break;
		default: pd_buf_printf(out, "\\x%02x", c); break;
		}
	}
	pd_buf_add(out, s + n - run, run);
}

/* A scalar as it appears after "key: "; a container as its size. */
static void render_scalar(const struct pd_mp_item *it, struct pd_buf *out)
{
	switch (it->type) {
	case PD_NIL: break;
	case PD_BOOL: pd_buf_adds(out, it->b ? "yes" : "no"); break;
	case PD_INT: pd_buf_add_int(out, (long long)it->i); break;
	case PD_STR: escape_into(out, it->s, (size_t)it->count); break;
	case PD_MAP:
	case PD_ARR:
		pd_buf_printf(out, "(%llu item%s)", (unsigned long long)it->count, it->count == 1 ? "" : "s");
		break;
	}
}

void pd_value_render_text(const struct pd_value *v, struct pd_buf *out)
{
	struct pd_mp_item it = { .type = v->type };
	switch (v->type) {
	case PD_NIL: break;
	case PD_BOOL: it.b = v->u.b; break;
	case PD_INT: it.i = v->u.i; break;
	case PD_STR: it.s = v->u.s.ptr; it.count = v->u.s.len; break;
	case PD_MAP:
	case PD_ARR: it.count = v->u.c.count; break;
	}
	render_scalar(&it, out);
}

/* Text is rendered from the packed (msgpack) data, so a reply kept packed
 * (WAYBILL GET's stored body) renders without building a tree. */
struct packed {
	const unsigned char *p, *end;
};

/* One "key: value" line, dot-stuffed, recursing into maps and arrays.
 * prefix is the dotted key path, already escaped (escaping is byte by
 * byte, so each key is escaped once as it joins the path, not again on
 * every line under it). Returns -1 on bytes that are not packed data. */
static int render_field(struct pd_buf *out, struct pd_buf *prefix, struct packed *in,
			const struct pd_mp_item *it, int depth)
{
	if (it->type == PD_MAP || it->type == PD_ARR) {
		if (depth >= PD_UNPACK_MAX_DEPTH)
			return -1;
		size_t keep = prefix->len;
		if (it->count == 0) {
			if (prefix->len && prefix->data[0] == '.')
				pd_buf_adds(out, ".");
			pd_buf_add(out, prefix->data, prefix->len);
			pd_buf_adds(out, ":\r\n");
			return 0;
		}
		for (uint64_t index = 1; index <= it->count; index++) {
			struct pd_mp_item key, val;
			if (prefix->len)
				pd_buf_adds(prefix, ".");
			if (it->type == PD_MAP) {
				if (pd_mp_next(&in->p, in->end, &key) != PD_UNPACK_OK || key.type != PD_STR)
					return -1;
				escape_into(prefix, key.s, (size_t)key.count);
			} else {
				pd_buf_add_int(prefix, (long long)index);
			}
			if (pd_mp_next(&in->p, in->end, &val) != PD_UNPACK_OK ||
			    render_field(out, prefix, in, &val, depth + 1) < 0)
				return -1;
			prefix->len = keep;
		}
		return 0;
	}
	if (prefix->len && prefix->data[0] == '.')
		pd_buf_adds(out, ".");
	pd_buf_add(out, prefix->data, prefix->len);
	pd_buf_adds(out, ": ");
	render_scalar(it, out);
	pd_buf_adds(out, "\r\n");
	return 0;
}

static int render_record(struct pd_buf *out, struct pd_buf *prefix, struct packed *in)
{
	struct pd_mp_item it;
	if (pd_mp_next(&in->p, in->end, &it) != PD_UNPACK_OK)
		return -1;
	prefix->len = 0;
	pd_buf_add(prefix, "", 0);
	if (it.type != PD_MAP)
		pd_buf_adds(prefix, "value");
	else if (it.count == 0)
		return 0;
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
	pd_buf_init(&tmp);
	pd_buf_init(&prefix);
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
