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
			size_t used = 0;
			enum pd_unpack_status st = pd_value_unpack(&a, in + off, avail, &used, &v);
			check_scan(in + off, avail, st, used);
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
			check_reencode(v);
			if (pd_request_from_msgpack(&a, v, &req, &err) < 0) {
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
