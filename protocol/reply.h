/* reply.h — the one logical reply and its two renderings.
 *
 * Every command fills a struct pd_reply: a 3-digit code, a short message and
 * optional data (a map = one record, or an array of maps = a list). It is
 * rendered once, in the framing the request came in:
 *   text:    "CODE message\r\n"; for 2xx the body and a "." line follow.
 *            A record is "key: value" lines; nested maps and arrays flatten
 *            to dotted keys (events.1.event: arrived); a list is records
 *            separated by an empty line; a body line starting with "." gets
 *            one more "." in front. Values escape \ CR LF TAB and other
 *            control characters (\\ \r \n \t \xHH). A reply may bring
 *            its own text body instead (pd_reply.text).
 *   msgpack: {"code": int, "msg": str, "data": map | array | nil}. */
#ifndef PD_REPLY_H
#define PD_REPLY_H

#include <string.h>

#include "request.h"

struct pd_reply {
	int code;
	const char *msg;
	struct pd_value *data; /* NULL, PD_MAP or PD_ARR */
	/* Or the data already packed as msgpack (a reply kept as sent):
	 * rendered in either framing without building a tree. */
	const char *packed;
	size_t packed_len;
	/* The body in the text framing instead of the data's records: lines
	 * ending in "\n" (HELP's, help.h). msgpack carries the data alone. */
	const char *text;
};

/* A growable byte buffer. */
struct pd_buf {
	char *data;
	size_t len, cap;
	bool borrowed; /* data is room the buffer does not own (pd_buf_use) */
};

void pd_buf_init(struct pd_buf *b);
void pd_buf_free(struct pd_buf *b);
/* Starts the buffer, empty, on cap bytes of someone else's memory (the
 * stack, an output buffer's free room): written there in place, and
 * moved to the heap only if it outgrows them (borrowed is false then). */
void pd_buf_use(struct pd_buf *b, void *mem, size_t cap);
/* Grows the buffer for n more bytes (and a NUL). */
void pd_buf_reserve(struct pd_buf *b, size_t n);

/* Inline: the msgpack packer calls it for every header and body. The
 * buffer stays NUL-terminated for text use. */
static inline void pd_buf_add(struct pd_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap)
		pd_buf_reserve(b, n);
	__builtin_memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}
/* msgpack_packer's writer into a pd_buf (data): msgpack_packer_init(&pk,
 * buf, pd_buf_write). */
int pd_buf_write(void *data, const char *p, size_t n);
/* Inline so that a literal's length is known when compiling. */
static inline void pd_buf_adds(struct pd_buf *b, const char *s)
{
	pd_buf_add(b, s, strlen(s));
}
/* A decimal integer (no printf: the text framing writes many). */
void pd_buf_add_int(struct pd_buf *b, long long v);
void pd_buf_printf(struct pd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets the reply; msg is copied into the arena. */
void pd_reply_set(struct pd_arena *a, struct pd_reply *r, int code,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void pd_reply_render_text(const struct pd_reply *r, struct pd_buf *out);
void pd_reply_render_msgpack(const struct pd_reply *r, struct pd_buf *out);
void pd_reply_render(const struct pd_reply *r, enum pd_framing f,
		     struct pd_buf *out);

/* The text rendering of one value (as it appears after "key: "). */
void pd_value_render_text(const struct pd_value *v, struct pd_buf *out);

/* Decodes a msgpack reply map into r (client side). 0 or -1. */
int pd_reply_from_msgpack(const struct pd_value *v, struct pd_reply *r);

/* A reply's status, read from its msgpack bytes without building a tree:
 * what a client that counts replies needs (contrib/bench). */
struct pd_reply_status {
	int code;
	const char *msg; /* into the bytes, not NUL-terminated; "" when absent */
	size_t msg_len;
};

/* Reads code and msg from buf[0..len), one whole reply as pd_mp_scan()
 * framed it (so its depth is checked), and agrees with
 * pd_reply_from_msgpack() on it: the first "code" must be an integer, the
 * first "msg" is taken if it is a string. Stops once both are seen, so the
 * data after them is not walked. 0, or -1 when it is not a reply map. */
int pd_reply_status_from_msgpack(const char *buf, size_t len, struct pd_reply_status *st);

#endif
