/*
 * fuzz_request.c — libFuzzer target for everything a request goes through
 * before a handler: framing choice, the text tokenizer or the bounded
 * msgpack decoder, the msgpack request shape checks, command look-up,
 * argument binding, and reply rendering in both framings.
 *
 * The input is a connection's byte stream, cut the way daemon/core/conn.c cuts
 * it: a msgpack array start byte begins a frame (decoded from at most
 * MAX_FRAME_BYTES; an incomplete or bad frame ends the connection), anything
 * else is a text line up to '\n' with one '\r' before it dropped. Each
 * request gets a fresh arena, as in the daemon; all memory is freed.
 *
 * Besides "no crash, no leak, no undefined behaviour", it checks invariants
 * that hold for any input, and traps when one breaks:
 *   - the incremental framing (pd_mp_scan) ends a frame where the decoder does;
 *   - a msgpack request read straight from the bytes (as the daemon reads
 *     it) gets the decoder's status and length, and then the very answer
 *     the tree of the same bytes got before there was a reader (the
 *     reference below): the same words and named arguments, or the same
 *     error message;
 *   - a decoded msgpack value re-encodes to bytes that decode to one value;
 *   - every string of a parsed request, in either framing, is UTF-8;
 *   - an error reply is exactly one text line, its status the error code,
 *     and its message is UTF-8 (however it quotes or cuts the input);
 *   - a bound argument map renders as a well-terminated 2xx text reply and
 *     as a msgpack reply that decodes back.
 *
 * Build: make fuzz; run: build/fuzz_request CORPUS_DIR (copy
 * tests/fuzz/corpus to a scratch directory first so it is not rewritten).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "reply.h"
#include "request.h"
#include "value.h"

/* daemon defaults (PROTOCOL.md section 5) */
#define MAX_FRAME_BYTES 65536
#define MAX_LINE_BYTES 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void check_error_reply(int code, const char *msg, enum pd_framing f)
{
	CHECK(pd_utf8_valid(msg, strlen(msg)));
	struct pd_reply r = { .code = code, .msg = msg };
	struct pd_buf out;
	pd_buf_init(&out);
	pd_reply_render(&r, f, &out);
	CHECK(out.len > 0);
	if (f == PD_FRAMING_TEXT) {
		/* "CODE message\r\n": one line, nothing after it */
		CHECK(out.len >= 6);
		CHECK(memchr(out.data, '\n', out.len) == out.data + out.len - 1);
		CHECK(out.data[out.len - 2] == '\r');
		CHECK(memchr(out.data, '\r', out.len - 2) == NULL);
		CHECK((out.data[0] - '0') * 100 + (out.data[1] - '0') * 10 +
		      (out.data[2] - '0') == code);
	} else {
		struct pd_arena a;
		pd_arena_init(&a);
		struct pd_value *v;
		size_t used;
		CHECK(pd_value_unpack(&a, out.data, out.len, &used, &v) == PD_UNPACK_OK);
		CHECK(used == out.len);
		struct pd_reply back;
		CHECK(pd_reply_from_msgpack(v, &back) == 0);
		CHECK(back.code == code);
		CHECK(back.data == NULL);
		pd_arena_free(&a);
	}
	pd_buf_free(&out);
}

static void check_data_reply(struct pd_value *data)
{
	struct pd_reply r = { .code = 200, .msg = "ok", .data = data };
	struct pd_buf out;
	pd_buf_init(&out);
	pd_reply_render_text(&r, &out);
	CHECK(out.len >= 11);
	CHECK(memcmp(out.data + out.len - 5, "\r\n.\r\n", 5) == 0);
	/* the terminator appears once: no body line is a lone "." */
	CHECK(strstr(out.data, "\r\n.\r\n") == out.data + out.len - 5);
	pd_buf_free(&out);

	pd_buf_init(&out);
	pd_reply_render_msgpack(&r, &out);
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *v;
	size_t used;
	CHECK(pd_value_unpack(&a, out.data, out.len, &used, &v) == PD_UNPACK_OK);
	CHECK(used == out.len);
	pd_arena_free(&a);
	pd_buf_free(&out);
}

static void check_request_utf8(const struct pd_request *req)
{
	for (size_t i = 0; i < req->word_count; i++)
		if (req->words[i]->type == PD_STR)
			CHECK(pd_utf8_valid(req->words[i]->u.s.ptr, req->words[i]->u.s.len));
	for (const struct pd_entry *e = req->named->u.c.head; e; e = e->next)
		if (e->val->type == PD_STR)
			CHECK(pd_utf8_valid(e->val->u.s.ptr, e->val->u.s.len));
}

/* What dispatch_admit() does but the session check: look-up and binding. */
static void handle(struct pd_arena *a, const struct pd_request *req)
{
	check_request_utf8(req);
	if (req->word_count == 0)
		return; /* blank line: no reply */
	struct pd_error err;
	size_t used = 0;
	struct pd_value *args = NULL;
	const struct pd_command *cmd = pd_command_lookup(req, &used, &err);
	if (!cmd || pd_command_bind(a, cmd, req, used, &args, &err) < 0) {
		CHECK(err.code >= 400 && err.code <= 599);
		check_error_reply(err.code, err.msg, req->framing);
		return;
	}
	CHECK(used == 1 || used == 2);
	CHECK(args && args->type == PD_MAP);
	check_data_reply(args);
}

/* The daemon frames with pd_mp_scan() before it decodes: fed the bytes in
 * two pieces, the scanner agrees with the decoder on where a frame ends,
 * and on an incomplete or too deep one (a malformed one may be seen later
 * by the scanner, which leaves key types to the decoder). */
static void check_scan(const char *p, size_t avail, enum pd_unpack_status st, size_t used)
{
	struct pd_mp_scan s;
	pd_mp_scan_init(&s);
	enum pd_unpack_status sc = pd_mp_scan(&s, p, avail / 2);
	if (sc == PD_UNPACK_INCOMPLETE)
		sc = pd_mp_scan(&s, p, avail);
	if (st == PD_UNPACK_OK)
		CHECK(sc == PD_UNPACK_OK && s.pos == used);
	else if (st != PD_UNPACK_MALFORMED)
		CHECK(sc == st);
}

/* The reference: how a request was made from its decoded tree before it
 * was read from the bytes (round 7's checks, in their order). Returns 0,
 * or -1 with the message in msg. */
static int arg_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int tree_request(struct pd_arena *a, const struct pd_value *v,
			const struct pd_value **words, size_t *word_count,
			struct pd_value *named, struct pd_error *err)
{
	*word_count = 0;
	if (v->type != PD_ARR || v->u.c.count == 0) {
		pd_error_set(err, 400, "a msgpack request is a non-empty array");
		return -1;
	}
	for (const struct pd_entry *e = v->u.c.head; e; e = e->next) {
		const struct pd_value *w = e->val;
		if (w->type == PD_MAP && !e->next) {
			for (const struct pd_entry *m = w->u.c.head; m; m = m->next) {
				if (!arg_name_ok(m->key, m->key_len)) {
					pd_error_set(err, 400, "bad argument name '%.*s'",
						     (int)(m->key_len > 40 ? 40 : m->key_len), m->key);
					return -1;
				}
				if (m->val->type == PD_MAP || m->val->type == PD_ARR) {
					pd_error_set(err, 400, "argument '%s' must be a string, integer or boolean",
						     m->key);
					return -1;
				}
				if (pd_map_get(named, m->key)) {
					pd_error_set(err, 400, "argument '%s' given twice", m->key);
					return -1;
				}
				if (named->u.c.count >= PD_MAX_NAMED_ARGS) {
					pd_error_set(err, 400, "too many named arguments (at most %d)",
						     PD_MAX_NAMED_ARGS);
					return -1;
				}
				pd_map_set(a, named, m->key, m->val);
			}
			continue;
		}
		if (w->type != PD_STR && w->type != PD_INT) {
			pd_error_set(err, 400, "word %zu must be a string or an integer",
				     *word_count + 1);
			return -1;
		}
		if (w->type == PD_STR && !pd_utf8_valid(w->u.s.ptr, w->u.s.len)) {
			pd_error_set(err, 400, "invalid UTF-8");
			return -1;
		}
		if (*word_count >= PD_MAX_WORDS) {
			pd_error_set(err, 400, "too many words (at most %d)", PD_MAX_WORDS);
			return -1;
		}
		words[(*word_count)++] = w;
	}
	for (const struct pd_entry *m = named->u.c.head; m; m = m->next)
		if (m->val->type == PD_STR && !pd_utf8_valid(m->val->u.s.ptr, m->val->u.s.len)) {
			pd_error_set(err, 400, "invalid UTF-8");
			return -1;
		}
	if (*word_count == 0) {
		pd_error_set(err, 400, "a msgpack request needs a command word");
		return -1;
	}
	return 0;
}

static int same_scalar(const struct pd_value *x, const struct pd_value *y)
{
	if (x->type != y->type)
		return 0;
	switch (x->type) {
	case PD_BOOL: return x->u.b == y->u.b;
	case PD_INT: return x->u.i == y->u.i;
	case PD_STR: return x->u.s.len == y->u.s.len &&
			    memcmp(x->u.s.ptr, y->u.s.ptr, x->u.s.len) == 0 &&
			    x->u.s.ptr[x->u.s.len] == '\0';
	default: return x->type == PD_NIL;
	}
}

/* The request read from the bytes against the reference's answer for the
 * decoded tree v. */
static void check_as_tree(struct pd_arena *a, const struct pd_value *v,
			  const struct pd_request *req, const struct pd_error *err)
{
	const struct pd_value *words[PD_MAX_WORDS];
	size_t count;
	struct pd_value *named = pd_map(a);
	struct pd_error want;
	if (tree_request(a, v, words, &count, named, &want) < 0) {
		CHECK(err->code == want.code);
		CHECK(strcmp(err->msg, want.msg) == 0);
		return;
	}
	CHECK(err->code == 0);
	CHECK(req->word_count == count);
	for (size_t i = 0; i < count; i++)
		CHECK(same_scalar(req->words[i], words[i]));
	CHECK(req->named->u.c.count == named->u.c.count);
	const struct pd_entry *m = named->u.c.head;
	for (const struct pd_entry *e = req->named->u.c.head; e; e = e->next, m = m->next) {
		CHECK(e->key_len == m->key_len && strcmp(e->key, m->key) == 0);
		CHECK(same_scalar(e->val, m->val));
	}
}

/* A decoded value survives our encoder and decoder. */
static void check_reencode(const struct pd_value *v)
{
	char *buf;
	size_t len;
	CHECK(pd_value_to_msgpack(v, &buf, &len) == 0);
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *back;
	size_t used;
	CHECK(pd_value_unpack(&a, buf, len, &used, &back) == PD_UNPACK_OK);
	CHECK(used == len);
	CHECK(back->type == v->type);
	pd_arena_free(&a);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (pd_commands_init() < 0)
			abort();
		ready = 1;
	}
	const char *in = (const char *)data;
	size_t off = 0;
	while (off < size) {
		struct pd_arena a;
		pd_arena_init(&a);
		struct pd_request req;
		struct pd_error err;
		if (pd_is_msgpack_start(data[off])) {
			size_t avail = size - off < MAX_FRAME_BYTES ? size - off : MAX_FRAME_BYTES;
			struct pd_value *v = NULL;
			size_t used = 0, rused = 0;
			enum pd_unpack_status st = pd_value_unpack(&a, in + off, avail, &used, &v);
			check_scan(in + off, avail, st, used);
			/* read as the daemon reads it: the decoder's verdict */
			CHECK(pd_request_read_msgpack(&a, in + off, avail, &rused, &req, &err) == st);
			if (st != PD_UNPACK_OK) {
				/* incomplete at the end of the stream, or malformed:
				 * the daemon answers and closes the connection */
				CHECK(st == PD_UNPACK_INCOMPLETE || st == PD_UNPACK_MALFORMED ||
				      st == PD_UNPACK_TOO_DEEP);
				check_error_reply(st == PD_UNPACK_INCOMPLETE ? 413 : 400,
						  "malformed msgpack", PD_FRAMING_MSGPACK);
				pd_arena_free(&a);
				break;
			}
			CHECK(used > 0 && used <= avail && v != NULL);
			CHECK(rused == used);
			check_reencode(v);
			check_as_tree(&a, v, &req, &err);
			/* and the tree read through pd_request_from_msgpack() */
			struct pd_request treq;
			struct pd_error terr;
			CHECK(pd_request_from_msgpack(&a, v, &treq, &terr) == (err.code ? -1 : 0));
			CHECK(!err.code || strcmp(terr.msg, err.msg) == 0);
			if (err.code) {
				CHECK(err.code == 400);
				check_error_reply(err.code, err.msg, PD_FRAMING_MSGPACK);
			} else {
				CHECK(req.framing == PD_FRAMING_MSGPACK);
				CHECK(req.word_count >= 1 && req.word_count <= PD_MAX_WORDS);
				handle(&a, &req);
			}
			off += used;
		} else {
			const char *eol = memchr(in + off, '\n', size - off);
			size_t line_len = eol ? (size_t)(eol - (in + off)) : size - off;
			size_t n = line_len;
			if (n && in[off + n - 1] == '\r')
				n--;
			if (line_len > MAX_LINE_BYTES) {
				check_error_reply(413, "line too long", PD_FRAMING_TEXT);
			} else if (pd_parse_text_line(&a, in + off, n, &req, &err) < 0) {
				CHECK(err.code == 400);
				check_error_reply(err.code, err.msg, PD_FRAMING_TEXT);
			} else {
				CHECK(req.framing == PD_FRAMING_TEXT);
				CHECK(req.word_count <= PD_MAX_WORDS);
				handle(&a, &req);
			}
			off += line_len + (eol ? 1 : 0);
		}
		pd_arena_free(&a);
	}
	return 0;
}
