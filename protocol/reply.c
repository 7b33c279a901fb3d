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

void pd_buf_adds(struct pd_buf *b, const char *s)
{
	pd_buf_add(b, s, strlen(s));
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

static void escape_into(struct pd_buf *out, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '\\' && c != 0x7f) {
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

void pd_value_render_text(const struct pd_value *v, struct pd_buf *out)
{
	switch (v->type) {
	case PD_NIL: break;
	case PD_BOOL: pd_buf_adds(out, v->u.b ? "yes" : "no"); break;
	case PD_INT: pd_buf_printf(out, "%lld", (long long)v->u.i); break;
	case PD_STR: escape_into(out, v->u.s.ptr, v->u.s.len); break;
	case PD_MAP:
	case PD_ARR: pd_buf_printf(out, "(%zu items)", v->u.c.count); break;
	}
}

/* One "key: value" line, dot-stuffed, recursing into maps and arrays. */
static void render_field(struct pd_buf *out, struct pd_buf *prefix,
			 const struct pd_value *v)
{
	if (v->type == PD_MAP || v->type == PD_ARR) {
		size_t keep = prefix->len;
		size_t index = 1;
		if (v->u.c.count == 0) {
			if (prefix->len && prefix->data[0] == '.')
				pd_buf_adds(out, ".");
			escape_into(out, prefix->data, prefix->len);
			pd_buf_adds(out, ":\r\n");
			return;
		}
		for (struct pd_entry *e = v->u.c.head; e; e = e->next, index++) {
			if (prefix->len)
				pd_buf_adds(prefix, ".");
			if (v->type == PD_MAP)
				pd_buf_add(prefix, e->key, e->key_len);
			else
				pd_buf_printf(prefix, "%zu", index);
			render_field(out, prefix, e->val);
			prefix->len = keep;
		}
		return;
	}
	if (prefix->len && prefix->data[0] == '.')
		pd_buf_adds(out, ".");
	escape_into(out, prefix->data, prefix->len);
	pd_buf_adds(out, ": ");
	pd_value_render_text(v, out);
	pd_buf_adds(out, "\r\n");
}

static void render_record(struct pd_buf *out, const struct pd_value *rec)
{
	struct pd_buf prefix;
	pd_buf_init(&prefix);
	pd_buf_add(&prefix, "", 0);
	if (rec->type == PD_MAP) {
		if (rec->u.c.count)
			render_field(out, &prefix, rec);
	} else {
		pd_buf_adds(&prefix, "value");
		render_field(out, &prefix, rec);
	}
	pd_buf_free(&prefix);
}

void pd_reply_render_text(const struct pd_reply *r, struct pd_buf *out)
{
	pd_buf_printf(out, "%03d ", r->code);
	escape_into(out, r->msg ? r->msg : "", r->msg ? strlen(r->msg) : 0);
	pd_buf_adds(out, "\r\n");
	if (r->code < 200 || r->code >= 300)
		return;
	if (r->data && r->data->type == PD_ARR) {
		int first = 1;
		for (struct pd_entry *e = r->data->u.c.head; e; e = e->next) {
			if (!first)
				pd_buf_adds(out, "\r\n");
			first = 0;
			render_record(out, e->val);
		}
	} else if (r->data && r->data->type != PD_NIL) {
		render_record(out, r->data);
	}
	pd_buf_adds(out, ".\r\n");
}

static int buf_write(void *data, const char *p, size_t n)
{
	pd_buf_add(data, p, n);
	return 0;
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
	if (r->data)
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
	r->data = pd_map_get(v, "data");
	if (r->data && r->data->type == PD_NIL)
		r->data = NULL;
	return 0;
}
