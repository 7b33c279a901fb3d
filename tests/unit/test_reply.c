/*
 * Unit tests for reply rendering (protocol/reply.c) against PROTOCOL.md
 * section 2 ("Text replies") and section 3 (msgpack replies).
 *
 * Besides exact expected bytes for small cases, a generic reader written here
 * from the specification alone (status line, lines up to ".", undo the dot
 * stuffing, undo the escapes) must get every field back: that is the promise
 * that a client can split replies without knowing any command.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "help.h"
#include "reply.h"

struct fixture {
	struct pd_arena arena;
	struct pd_buf out;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	pd_arena_init(&f->arena);
	pd_buf_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pd_arena_free(&f->arena);
	pd_buf_free(&f->out);
	free(f);
	return 0;
}

static const char *render_text(struct fixture *f, int code, const char *msg,
			       struct pd_value *data)
{
	struct pd_reply r = { .code = code, .msg = msg, .data = data };
	pd_buf_free(&f->out);
	pd_reply_render_text(&r, &f->out);
	assert_non_null(f->out.data);
	assert_int_equal(strlen(f->out.data), f->out.len);
	return f->out.data;
}

static void assert_text(struct fixture *f, int code, const char *msg,
			struct pd_value *data, const char *want)
{
	const char *got = render_text(f, code, msg, data);
	if (strcmp(got, want) != 0)
		fail_msg("rendered\n[%s]\nwanted\n[%s]", got, want);
}

/* ---- a generic reader, from PROTOCOL.md ---- */

struct field {
	char key[128];
	char val[256];
	size_t val_len;
	int record; /* 0-based record number in a list */
};

struct parsed_reply {
	int code;
	char msg[256];
	size_t nfields;
	struct field fields[64];
	size_t consumed; /* bytes up to and including the terminating line */
};

/* Undoes the value escapes: \\ \r \n \t \xHH. */
static size_t unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		assert_true(i + 1 < n);
		char e = s[++i];
		switch (e) {
		case '\\': out[o++] = '\\'; break;
		case 'r': out[o++] = '\r'; break;
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'x': {
			assert_true(i + 2 < n);
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
			break;
		}
		default:
			fail_msg("unknown escape \\%c in a reply", e);
		}
	}
	return o;
}

static void read_reply(const char *buf, size_t len, struct parsed_reply *p)
{
	memset(p, 0, sizeof(*p));
	const char *end = buf + len;
	const char *eol = memchr(buf, '\n', len);
	assert_non_null(eol);
	assert_true(eol > buf && eol[-1] == '\r');
	/* status line: 3 digits, a space, the message; no bare CR or LF in it */
	assert_true(eol - buf >= 4);
	assert_true(buf[3] == ' ');
	p->code = (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
	size_t mlen = (size_t)(eol - 1 - (buf + 4));
	assert_null(memchr(buf, '\r', (size_t)(eol - 1 - buf)));
	p->msg[unescape(buf + 4, mlen, p->msg)] = '\0';
	const char *line = eol + 1;
	if (p->code < 200 || p->code >= 300) {
		p->consumed = (size_t)(line - buf);
		return;
	}
	int record = 0;
	for (;;) {
		assert_true(line < end);
		eol = memchr(line, '\n', (size_t)(end - line));
		assert_non_null(eol);
		assert_true(eol > line && eol[-1] == '\r');
		size_t n = (size_t)(eol - 1 - line);
		assert_null(memchr(line, '\r', n));
		if (n == 1 && line[0] == '.') {
			p->consumed = (size_t)(eol + 1 - buf);
			return;
		}
		if (n == 0) {
			record++;
			line = eol + 1;
			continue;
		}
		const char *l = line;
		if (l[0] == '.') { /* dot-stuffed */
			l++;
			n--;
		}
		const char *colon = NULL;
		/* a key holds no ": " (keys are names); the value may */
		for (size_t i = 0; i + 1 < n; i++)
			if (l[i] == ':' && l[i + 1] == ' ') {
				colon = l + i;
				break;
			}
		struct field *fl = &p->fields[p->nfields++];
		assert_true(p->nfields <= 64);
		fl->record = record;
		if (!colon) { /* "key:" for an empty map or array */
			assert_true(n >= 1 && l[n - 1] == ':');
			assert_true(n - 1 < sizeof(fl->key));
			fl->key[unescape(l, n - 1, fl->key)] = '\0';
			fl->val_len = (size_t)-1;
		} else {
			size_t klen = (size_t)(colon - l);
			assert_true(klen < sizeof(fl->key));
			fl->key[unescape(l, klen, fl->key)] = '\0';
			fl->val_len = unescape(colon + 2, n - klen - 2, fl->val);
		}
		line = eol + 1;
	}
}

static const struct field *find_field(const struct parsed_reply *p, int record,
				      const char *key)
{
	for (size_t i = 0; i < p->nfields; i++)
		if (p->fields[i].record == record && strcmp(p->fields[i].key, key) == 0)
			return &p->fields[i];
	fail_msg("no field '%s' in record %d", key, record);
	return NULL;
}

static void assert_field(const struct parsed_reply *p, int record, const char *key,
			 const char *val, size_t val_len)
{
	const struct field *f = find_field(p, record, key);
	assert_int_equal(f->val_len, val_len);
	assert_memory_equal(f->val, val, val_len);
}

/* ---- status line ---- */

static void test_status_line_and_terminator(void **state)
{
	struct fixture *f = *state;
	assert_text(f, 200, "PONG", NULL, "200 PONG\r\n.\r\n");
	assert_text(f, 201, "created", NULL, "201 created\r\n.\r\n");
	/* a nil data is no data */
	struct pd_value *nil = pd_nil(&f->arena);
	assert_text(f, 200, "ok", nil, "200 ok\r\n.\r\n");
	/* a missing message still gives a well-formed line */
	assert_text(f, 200, NULL, NULL, "200 \r\n.\r\n");
	/* the code is always 3 digits */
	assert_text(f, 404, "no such waybill", NULL, "404 no such waybill\r\n");
}

static void test_error_replies_are_status_line_only(void **state)
{
	struct fixture *f = *state;
	struct pd_value *rec = pd_map(&f->arena);
	pd_map_set_str(&f->arena, rec, "number", "986825");
	static const int codes[] = { 400, 401, 403, 404, 409, 413, 422, 429, 500, 503 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "%d refused\r\n", codes[i]);
		/* even with data attached, nothing follows the status line */
		assert_text(f, codes[i], "refused", rec, want);
	}
}

static void test_status_message_is_escaped(void **state)
{
	struct fixture *f = *state;
	assert_text(f, 400, "bad\r\n.\r\n200 ok", NULL, "400 bad\\r\\n.\\r\\n200 ok\r\n");
	assert_text(f, 400, "tab\there \\ \x01", NULL, "400 tab\\there \\\\ \\x01\r\n");
	/* UTF-8 is not escaped */
	assert_text(f, 422, "\xe8\xb6\x85\xe8\xbf\x87", NULL, "422 \xe8\xb6\x85\xe8\xbf\x87\r\n");
}

/* ---- records ---- */

static void test_record_lines(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "number", "0001878765");
	pd_map_set_str(a, rec, "status", "in_transit");
	pd_map_set_int(a, rec, "fee_fen", 1200);
	pd_map_set_int(a, rec, "delta", -7);
	pd_map_set_bool(a, rec, "insured", true);
	pd_map_set_bool(a, rec, "late", false);
	pd_map_set(a, rec, "signer", pd_nil(a));
	pd_map_set_str(a, rec, "empty", "");
	assert_text(f, 200, "ok", rec,
		    "200 ok\r\n"
		    "number: 0001878765\r\n"
		    "status: in_transit\r\n"
		    "fee_fen: 1200\r\n"
		    "delta: -7\r\n"
		    "insured: yes\r\n"
		    "late: no\r\n"
		    "signer: \r\n"
		    "empty: \r\n"
		    ".\r\n");
}

static void test_int_extremes(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_int(a, rec, "min", INT64_MIN);
	pd_map_set_int(a, rec, "max", INT64_MAX);
	assert_text(f, 200, "ok", rec,
		    "200 ok\r\nmin: -9223372036854775808\r\nmax: 9223372036854775807\r\n.\r\n");
	/* digits are counted, then written: every count, either side of a
	 * power of ten, both signs, as printf writes them */
	for (long long p = 1;; p *= 10) {
		long long vs[] = { p - 1, p, p + 1, -(p - 1), -p, -(p + 1) };
		for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
			char want[24];
			snprintf(want, sizeof(want), "%lld", vs[i]);
			struct pd_buf b;
			pd_buf_init(&b);
			pd_value_render_text(pd_int(a, vs[i]), &b);
			assert_string_equal(b.data, want);
			pd_buf_free(&b);
		}
		if (p > INT64_MAX / 10)
			break;
	}
}

static void test_list_of_records(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *list = pd_arr(a);
	for (int i = 1; i <= 3; i++) {
		struct pd_value *rec = pd_map(a);
		pd_map_set_int(a, rec, "id", i);
		pd_map_set_str(a, rec, "kind", i == 2 ? "pickup" : "delivery");
		pd_arr_push(a, list, rec);
	}
	assert_text(f, 200, "3 queries", list,
		    "200 3 queries\r\n"
		    "id: 1\r\nkind: delivery\r\n"
		    "\r\n"
		    "id: 2\r\nkind: pickup\r\n"
		    "\r\n"
		    "id: 3\r\nkind: delivery\r\n"
		    ".\r\n");

	/* an empty list is an empty body */
	assert_text(f, 200, "0 queries", pd_arr(a), "200 0 queries\r\n.\r\n");

	/* one record: no separator */
	struct pd_value *one = pd_arr(a);
	struct pd_value *rec = pd_map(a);
	pd_map_set_int(a, rec, "id", 9);
	pd_arr_push(a, one, rec);
	assert_text(f, 200, "ok", one, "200 ok\r\nid: 9\r\n.\r\n");
}

static void test_nested_values_flatten(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "number", "986825");
	struct pd_value *sender = pd_map(a);
	pd_map_set_str(a, sender, "name", "Li Lei");
	pd_map_set_str(a, sender, "city", "Shanghai");
	pd_map_set(a, rec, "sender", sender);
	struct pd_value *events = pd_arr(a);
	const char *names[] = { "picked_up", "arrived" };
	for (int i = 0; i < 2; i++) {
		struct pd_value *ev = pd_map(a);
		pd_map_set_str(a, ev, "event", names[i]);
		pd_map_set_str(a, ev, "depot", i ? "BJ02" : "SH01");
		pd_arr_push(a, events, ev);
	}
	pd_map_set(a, rec, "events", events);
	struct pd_value *tags = pd_arr(a);
	pd_arr_push(a, tags, pd_str(a, "urgent"));
	struct pd_value *inner = pd_arr(a);
	pd_arr_push(a, inner, pd_int(a, 5));
	pd_arr_push(a, tags, inner);
	pd_map_set(a, rec, "tags", tags);
	pd_map_set(a, rec, "notes", pd_arr(a));
	pd_map_set(a, rec, "extra", pd_map(a));
	assert_text(f, 200, "ok", rec,
		    "200 ok\r\n"
		    "number: 986825\r\n"
		    "sender.name: Li Lei\r\n"
		    "sender.city: Shanghai\r\n"
		    "events.1.event: picked_up\r\n"
		    "events.1.depot: SH01\r\n"
		    "events.2.event: arrived\r\n"
		    "events.2.depot: BJ02\r\n"
		    "tags.1: urgent\r\n"
		    "tags.2.1: 5\r\n"
		    "notes:\r\n"
		    "extra:\r\n"
		    ".\r\n");
}

/* A record is "key: value" lines; a record with no fields has none. (An
 * empty map or array is "key:" only where it has a key, i.e. nested.) */
static void test_empty_record_is_an_empty_body(void **state)
{
	struct fixture *f = *state;
	assert_text(f, 200, "ok", pd_map(&f->arena), "200 ok\r\n.\r\n");
}

static void test_non_map_data(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	/* data that is not a record still renders as one key: value line */
	assert_text(f, 200, "ok", pd_str(a, "x"), "200 ok\r\nvalue: x\r\n.\r\n");
	struct pd_value *list = pd_arr(a);
	pd_arr_push(a, list, pd_int(a, 1));
	pd_arr_push(a, list, pd_int(a, 2));
	assert_text(f, 200, "ok", list, "200 ok\r\nvalue: 1\r\n\r\nvalue: 2\r\n.\r\n");
}

/* ---- dot-stuffing ---- */

static void test_dot_stuffing(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, ".", "a lone dot key");
	pd_map_set_str(a, rec, ".hidden", "x");
	pd_map_set_str(a, rec, "v", ".");            /* a dot value is not at line start */
	struct pd_value *nested = pd_map(a);
	pd_map_set_int(a, nested, "b", 1);
	pd_map_set(a, rec, ".a", nested);
	pd_map_set(a, rec, ".e", pd_arr(a));
	assert_text(f, 200, "ok", rec,
		    "200 ok\r\n"
		    "..: a lone dot key\r\n"
		    "..hidden: x\r\n"
		    "v: .\r\n"
		    "..a.b: 1\r\n"
		    "..e:\r\n"
		    ".\r\n");

	/* the generic reader sees the original keys, and the body ends only at
	 * the real terminator */
	const char *buf = render_text(f, 200, "ok", rec);
	struct parsed_reply p;
	read_reply(buf, strlen(buf), &p);
	assert_int_equal(p.consumed, strlen(buf));
	assert_field(&p, 0, ".", "a lone dot key", 14);
	assert_field(&p, 0, ".hidden", "x", 1);
	assert_field(&p, 0, ".a.b", "1", 1);
}

/* ---- escapes ---- */

/* Keys are escaped like values, so no key can break a line or end the body. */
static void test_keys_are_escaped(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "a\r\n.\r\nb", "v");
	pd_map_set_str(a, rec, "t\tk\\", "w");
	struct pd_value *inner = pd_map(a);
	pd_map_set_int(a, inner, "x\ny", 1);
	pd_map_set(a, rec, "n\x01", inner);
	pd_map_set(a, rec, "e\n", pd_arr(a));
	assert_text(f, 200, "ok", rec,
		    "200 ok\r\n"
		    "a\\r\\n.\\r\\nb: v\r\n"
		    "t\\tk\\\\: w\r\n"
		    "n\\x01.x\\ny: 1\r\n"
		    "e\\n:\r\n"
		    ".\r\n");
	const char *buf = render_text(f, 200, "ok", rec);
	struct parsed_reply p;
	read_reply(buf, strlen(buf), &p);
	assert_int_equal(p.consumed, strlen(buf));
	assert_int_equal(p.nfields, 4);
	assert_field(&p, 0, "a\r\n.\r\nb", "v", 1);
	assert_field(&p, 0, "t\tk\\", "w", 1);
	assert_field(&p, 0, "n\x01.x\ny", "1", 1);
}

static void test_value_escapes(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "text", "a\\b\r\nc\td");
	pd_map_set(a, rec, "ctl", pd_strn(a, "\x00\x01\x1f\x7f" "e", 5));
	pd_map_set_str(a, rec, "dot", "line\n.\nnext");
	pd_map_set_str(a, rec, "utf8", "\xe5\x8c\x85\xe8\xa3\xb9");
	pd_map_set_str(a, rec, "hi", "\x80\xff"); /* bytes >= 0x80 pass */
	assert_text(f, 200, "ok", rec,
		    "200 ok\r\n"
		    "text: a\\\\b\\r\\nc\\td\r\n"
		    "ctl: \\x00\\x01\\x1f\\x7fe\r\n"
		    "dot: line\\n.\\nnext\r\n"
		    "utf8: \xe5\x8c\x85\xe8\xa3\xb9\r\n"
		    "hi: \x80\xff\r\n"
		    ".\r\n");

	struct pd_buf one;
	pd_buf_init(&one);
	pd_value_render_text(pd_str(a, "\\x41"), &one);
	assert_string_equal(one.data, "\\\\x41"); /* a literal backslash-x is not an escape */
	pd_buf_free(&one);
}

/* The escape of one byte as PROTOCOL.md gives it, byte by byte. */
static size_t escape_byte(int c, char *out)
{
	switch (c) {
	case '\\': return (size_t)sprintf(out, "\\\\");
	case '\n': return (size_t)sprintf(out, "\\n");
	case '\r': return (size_t)sprintf(out, "\\r");
	case '\t': return (size_t)sprintf(out, "\\t");
	}
	if (c < 0x20 || c == 0x7f)
		return (size_t)sprintf(out, "\\x%02x", c);
	out[0] = (char)c;
	return 1;
}

/* Values are scanned 16 bytes at a time: every byte value, at every place
 * of a value of 40 bytes (two whole blocks and an overlapping last one),
 * is escaped exactly when it must be. */
static void test_escape_at_every_position(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	for (int c = 0; c < 256; c++) {
		for (size_t at = 0; at < 40; at++) {
			char val[40], want[48];
			memset(val, 'a' + (int)(at % 26), sizeof(val));
			val[at] = (char)c;
			size_t n = 0;
			for (size_t i = 0; i < sizeof(val); i++)
				n += escape_byte((unsigned char)val[i], want + n);
			struct pd_buf b;
			pd_buf_init(&b);
			pd_value_render_text(pd_strn(a, val, sizeof(val)), &b);
			assert_int_equal(b.len, n);
			assert_memory_equal(b.data, want, n);
			pd_buf_free(&b);
		}
		pd_arena_reset(a);
	}
}

/* Checks the text of val[0..n) against PROTOCOL.md's escapes, byte by
 * byte: alone, as a record's last value (nothing to read past it), as a
 * value followed by more packed data (a byte to escape right after it:
 * escape_to reads past a short string, and shows only its own bytes),
 * and as a key, dot-stuffed when it starts the line with '.'. */
static void assert_escaped(struct fixture *f, const char *val, size_t n)
{
	struct pd_arena *a = &f->arena;
	char want[4 * 64 + 16], line[4 * 64 + 64];
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += escape_byte((unsigned char)val[i], want + len);
	struct pd_buf b;
	pd_buf_init(&b);
	pd_value_render_text(pd_strn(a, val, n), &b);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, want, len);
	pd_buf_free(&b);

	struct pd_value *last = pd_map(a), *inside = pd_map(a), *key = pd_map(a);
	pd_map_set(a, last, "k", pd_strn(a, val, n));
	pd_map_set(a, inside, "k", pd_strn(a, val, n));
	pd_map_set_int(a, inside, "z", 1); /* packed: 0xa1 'z' 0x01 after val */
	if (memchr(val, '\0', n) == NULL) { /* a key is a C string here */
		pd_map_set_int(a, key, pd_strndup(a, val, n), 1);
		pd_map_set_int(a, key, "z", 1);
	}
	struct pd_value *recs[] = { last, inside, key };
	for (size_t r = 0; r < 3; r++) {
		if (r == 2 && !key->u.c.count)
			break;
		size_t ll = 0;
		if (r < 2) {
			ll = (size_t)sprintf(line, "200 ok\r\nk: ");
			memcpy(line + ll, want, len);
			ll += len;
			ll += (size_t)sprintf(line + ll, "\r\n%s.\r\n", r ? "z: 1\r\n" : "");
		} else {
			ll = (size_t)sprintf(line, "200 ok\r\n%s", n && val[0] == '.' ? "." : "");
			memcpy(line + ll, want, len);
			ll += len;
			ll += (size_t)sprintf(line + ll, ": 1\r\nz: 1\r\n.\r\n");
		}
		struct pd_reply rep = { .code = 200, .msg = "ok", .data = recs[r] };
		pd_buf_init(&b);
		pd_reply_render_text(&rep, &b);
		assert_int_equal(b.len, ll);
		assert_memory_equal(b.data, line, ll);
		pd_buf_free(&b);
	}
}

/* Strings are tested 16 bytes at a time (a short one as one block read
 * past its end, a long one as blocks and a last block that overlaps):
 * every length from 0 to 40 (either side of one and two blocks), a byte
 * that must or must not be escaped at every place, a '.' first (a key
 * starting a line), and a value escaped throughout (four bytes shown for
 * each). */
static void test_escape_of_every_length(void **state)
{
	struct fixture *f = *state;
	static const unsigned char probe[] = { 0x00, '\n', 0x1f, ' ', '\\', 'a', 0x7f, 0x80, 0xff, '.' };
	for (size_t n = 0; n <= 40; n++) {
		char val[40] = { 0 }; /* n = 0 reads none; gcc -O2 cannot see that */
		for (size_t i = 0; i < n; i++)
			val[i] = (char)('A' + (int)i);
		assert_escaped(f, val, n);
		for (size_t at = 0; at < n; at++) {
			for (size_t k = 0; k < sizeof(probe); k++) {
				for (size_t i = 0; i < n; i++)
					val[i] = (char)('A' + (int)i);
				val[at] = (char)probe[k];
				assert_escaped(f, val, n);
			}
		}
		pd_arena_reset(&f->arena);
	}
	char ctl[64];
	memset(ctl, 0x01, sizeof(ctl));
	for (size_t n = 1; n <= sizeof(ctl); n++)
		assert_escaped(f, ctl, n);
}

/* A container shown as a scalar (a table cell, a timeline change) gives
 * its size in plain English: one item, two items. */
static void test_container_sizes(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	const char *want[] = { "(0 items)", "(1 item)", "(2 items)" };
	struct pd_value *list = pd_arr(a), *map = pd_map(a);
	for (int n = 0; n < 3; n++) {
		struct pd_buf b;
		pd_buf_init(&b);
		pd_value_render_text(list, &b);
		pd_buf_add(&b, "", 0);
		assert_string_equal(b.data, want[n]);
		b.len = 0;
		pd_value_render_text(map, &b);
		pd_buf_add(&b, "", 0);
		assert_string_equal(b.data, want[n]);
		pd_buf_free(&b);
		pd_arr_push(a, list, pd_int(a, n));
		pd_map_set_int(a, map, n == 0 ? "a" : "b", n);
	}
}

/* Every value, whatever its bytes, comes back through the generic reader. */
static void test_reader_recovers_every_byte(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	srand(7);
	for (int round = 0; round < 500; round++) {
		struct pd_value *list = pd_arr(a);
		char vals[3][4][40];
		size_t lens[3][4];
		for (int r = 0; r < 3; r++) {
			struct pd_value *rec = pd_map(a);
			for (int k = 0; k < 4; k++) {
				size_t n = (size_t)(rand() % 40);
				for (size_t i = 0; i < n; i++) {
					/* bias towards the awkward bytes */
					static const char awkward[] = "\r\n.\\\t: \x00\x7f\"";
					vals[r][k][i] = rand() % 2
						? awkward[rand() % (int)(sizeof(awkward) - 1)]
						: (char)(rand() % 256);
				}
				lens[r][k] = n;
				char key[16];
				snprintf(key, sizeof(key), "k%d", k);
				pd_map_set(a, rec, pd_strdup(a, key), pd_strn(a, vals[r][k], n));
			}
			pd_arr_push(a, list, rec);
		}
		const char *buf = render_text(f, 200, "ok", list);
		size_t len = f->out.len;
		struct parsed_reply p;
		read_reply(buf, len, &p);
		assert_int_equal(p.code, 200);
		assert_int_equal(p.consumed, len);
		assert_int_equal(p.nfields, 12);
		for (int r = 0; r < 3; r++)
			for (int k = 0; k < 4; k++) {
				char key[16];
				snprintf(key, sizeof(key), "k%d", k);
				assert_field(&p, r, key, vals[r][k], lens[r][k]);
			}
		pd_arena_reset(a);
	}
}

static void test_pipelined_replies_split(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	/* three replies back to back: a reader finds each end */
	struct pd_buf all;
	pd_buf_init(&all);
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "m", ".\r\n.\r\n");
	pd_map_set_str(a, rec, ".", ".");
	struct pd_reply r1 = { .code = 200, .msg = "ok", .data = rec };
	struct pd_reply r2 = { .code = 404, .msg = "no such waybill" };
	struct pd_reply r3 = { .code = 201, .msg = "created" };
	pd_reply_render(&r1, PD_FRAMING_TEXT, &all);
	pd_reply_render(&r2, PD_FRAMING_TEXT, &all);
	pd_reply_render(&r3, PD_FRAMING_TEXT, &all);
	struct parsed_reply p;
	size_t off = 0;
	read_reply(all.data + off, all.len - off, &p);
	assert_int_equal(p.code, 200);
	assert_field(&p, 0, "m", ".\r\n.\r\n", 6);
	assert_field(&p, 0, ".", ".", 1);
	off += p.consumed;
	read_reply(all.data + off, all.len - off, &p);
	assert_int_equal(p.code, 404);
	assert_string_equal(p.msg, "no such waybill");
	off += p.consumed;
	read_reply(all.data + off, all.len - off, &p);
	assert_int_equal(p.code, 201);
	off += p.consumed;
	assert_int_equal(off, all.len);
	pd_buf_free(&all);
}

/* ---- msgpack ---- */

static bool values_equal(const struct pd_value *x, const struct pd_value *y)
{
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case PD_NIL: return true;
	case PD_BOOL: return x->u.b == y->u.b;
	case PD_INT: return x->u.i == y->u.i;
	case PD_STR:
		return x->u.s.len == y->u.s.len &&
		       memcmp(x->u.s.ptr, y->u.s.ptr, x->u.s.len) == 0;
	case PD_MAP:
	case PD_ARR: {
		if (x->u.c.count != y->u.c.count)
			return false;
		const struct pd_entry *e = x->u.c.head, *g = y->u.c.head;
		for (; e && g; e = e->next, g = g->next) {
			if (x->type == PD_MAP &&
			    (e->key_len != g->key_len || memcmp(e->key, g->key, e->key_len)))
				return false;
			if (!values_equal(e->val, g->val))
				return false;
		}
		return !e && !g;
	}
	}
	return false;
}

static struct pd_value *decode_reply(struct fixture *f, const struct pd_reply *r)
{
	pd_buf_free(&f->out);
	pd_reply_render_msgpack(r, &f->out);
	size_t used;
	struct pd_value *v;
	assert_int_equal(pd_value_unpack(&f->arena, f->out.data, f->out.len, &used, &v),
			 PD_UNPACK_OK);
	assert_int_equal(used, f->out.len);
	assert_int_equal(v->type, PD_MAP);
	assert_int_equal(v->u.c.count, 3);
	return v;
}

static void test_msgpack_reply_shape(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "number", "0001878765");
	pd_map_set_int(a, rec, "fee_fen", 1200);
	pd_map_set_bool(a, rec, "late", true);
	pd_map_set(a, rec, "signer", pd_nil(a));
	struct pd_value *events = pd_arr(a);
	struct pd_value *ev = pd_map(a);
	pd_map_set_str(a, ev, "event", "arrived");
	pd_arr_push(a, events, ev);
	pd_map_set(a, rec, "events", events);

	struct pd_reply r = { .code = 201, .msg = "created \xe5\x8c\x85", .data = rec };
	struct pd_value *v = decode_reply(f, &r);
	int64_t code;
	assert_true(pd_map_int(v, "code", &code));
	assert_int_equal(code, 201);
	assert_string_equal(pd_map_str(v, "msg"), "created \xe5\x8c\x85");
	struct pd_value *data = pd_map_get(v, "data");
	assert_non_null(data);
	assert_true(values_equal(data, rec)); /* nested values stay nested */

	/* no data: nil; no message: an empty string */
	struct pd_reply e = { .code = 404 };
	v = decode_reply(f, &e);
	assert_true(pd_map_int(v, "code", &code));
	assert_int_equal(code, 404);
	assert_string_equal(pd_map_str(v, "msg"), "");
	assert_non_null(pd_map_get(v, "data"));
	assert_int_equal(pd_map_get(v, "data")->type, PD_NIL);

	/* a list stays a list */
	struct pd_value *list = pd_arr(a);
	pd_arr_push(a, list, rec);
	pd_arr_push(a, list, rec);
	struct pd_reply l = { .code = 200, .msg = "2", .data = list };
	v = decode_reply(f, &l);
	assert_true(values_equal(pd_map_get(v, "data"), list));

	/* pd_reply_render picks the framing */
	struct pd_buf mp;
	pd_buf_init(&mp);
	pd_reply_render(&r, PD_FRAMING_MSGPACK, &mp);
	pd_buf_free(&f->out);
	pd_reply_render_msgpack(&r, &f->out);
	assert_int_equal(mp.len, f->out.len);
	assert_memory_equal(mp.data, f->out.data, mp.len);
	pd_buf_free(&mp);
}

/* The reply's head is written as bytes, not with the packer: the same
 * bytes as msgpack-c's for every size of code and message. */
static void test_msgpack_head_matches_packer(void **state)
{
	struct fixture *f = *state;
	static const int codes[] = { INT32_MIN, -32769, -32768, -129, -128, -33, -32, -1, 0, 127,
				     128, 200, 255, 256, 404, 65535, 65536, INT32_MAX };
	static const size_t lens[] = { 0, 1, 31, 32, 255, 256, 65535, 65536 };
	char *text = malloc(65537);
	assert_non_null(text);
	memset(text, 'm', 65536);
	for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (int d = 0; d < 3; d++) {
				text[lens[l]] = '\0';
				struct pd_value *rec = pd_map(&f->arena);
				pd_map_set_int(&f->arena, rec, "n", 1);
				struct pd_reply r = { .code = codes[c], .msg = text,
						      .data = d == 1 ? rec : NULL,
						      .packed = d == 2 ? "\x90" : NULL, .packed_len = 1 };
				struct pd_buf want;
				pd_buf_init(&want);
				msgpack_packer pk;
				msgpack_packer_init(&pk, &want, pd_buf_write);
				msgpack_pack_map(&pk, 3);
				msgpack_pack_str_with_body(&pk, "code", 4);
				msgpack_pack_int(&pk, codes[c]);
				msgpack_pack_str_with_body(&pk, "msg", 3);
				msgpack_pack_str_with_body(&pk, text, lens[l]);
				msgpack_pack_str_with_body(&pk, "data", 4);
				if (d == 1)
					pd_value_pack(&pk, rec);
				else if (d == 2)
					pd_buf_add(&want, "\x90", 1);
				else
					msgpack_pack_nil(&pk);
				pd_buf_free(&f->out);
				pd_buf_adds(&f->out, "before"); /* rendered after what is there */
				pd_reply_render_msgpack(&r, &f->out);
				assert_int_equal(f->out.len, 6 + want.len);
				assert_memory_equal(f->out.data, "before", 6);
				assert_memory_equal(f->out.data + 6, want.data, want.len);
				assert_int_equal(f->out.data[f->out.len], '\0');
				pd_buf_free(&want);
				text[lens[l]] = 'm';
			}
	free(text);
}

/* Data kept packed renders as the same data given as a tree, in both
 * framings: a record with nested events, and a list of records. */
static void test_packed_data_renders_as_tree(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "number", "SF1\r\n.x");
	pd_map_set_int(a, rec, "late_secs", -70000);
	pd_map_set_bool(a, rec, "late", true);
	pd_map_set(a, rec, "none", pd_nil(a));
	pd_map_set(a, rec, "empty", pd_map(a));
	struct pd_value *events = pd_arr(a);
	for (int i = 0; i < 20; i++) {
		struct pd_value *ev = pd_map(a);
		pd_map_set_int(a, ev, "seq", i + 1);
		pd_map_set_str(a, ev, "event", ".arrived");
		pd_arr_push(a, events, ev);
	}
	pd_map_set(a, rec, "events", events);
	struct pd_value *list = pd_arr(a);
	pd_arr_push(a, list, rec);
	pd_arr_push(a, list, pd_str(a, "x"));
	pd_arr_push(a, list, rec);
	struct pd_value *datas[] = { rec, list };
	for (size_t d = 0; d < 2; d++) {
		char *packed;
		size_t len;
		assert_int_equal(pd_value_to_msgpack(datas[d], &packed, &len), 0);
		struct pd_reply tree = { .code = 200, .msg = "ok", .data = datas[d] };
		struct pd_reply kept = { .code = 200, .msg = "ok", .packed = packed, .packed_len = len };
		for (int fr = 0; fr < 2; fr++) {
			enum pd_framing framing = fr ? PD_FRAMING_TEXT : PD_FRAMING_MSGPACK;
			struct pd_buf x, y;
			pd_buf_init(&x);
			pd_buf_init(&y);
			pd_reply_render(&tree, framing, &x);
			pd_reply_render(&kept, framing, &y);
			assert_int_equal(x.len, y.len);
			assert_memory_equal(x.data, y.data, x.len);
			pd_buf_free(&x);
			pd_buf_free(&y);
		}
		free(packed);
	}
}

static void test_reply_from_msgpack(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "k", "v");
	struct pd_reply r = { .code = 200, .msg = "ok", .data = rec };
	struct pd_value *v = decode_reply(f, &r);
	struct pd_reply back;
	memset(&back, 0xa5, sizeof(back));
	assert_int_equal(pd_reply_from_msgpack(v, &back), 0);
	assert_int_equal(back.code, 200);
	assert_string_equal(back.msg, "ok");
	assert_non_null(back.data);
	assert_true(values_equal(back.data, rec));

	/* nil data comes back as no data */
	struct pd_reply e = { .code = 409, .msg = "not allowed" };
	v = decode_reply(f, &e);
	assert_int_equal(pd_reply_from_msgpack(v, &back), 0);
	assert_int_equal(back.code, 409);
	assert_string_equal(back.msg, "not allowed");
	assert_null(back.data);

	/* not a reply */
	struct pd_value *m = pd_map(a);
	assert_int_equal(pd_reply_from_msgpack(m, &back), -1);              /* no code */
	pd_map_set_str(a, m, "code", "200");
	assert_int_equal(pd_reply_from_msgpack(m, &back), -1);              /* code not int */
	assert_int_equal(pd_reply_from_msgpack(pd_arr(a), &back), -1);
	assert_int_equal(pd_reply_from_msgpack(pd_int(a, 200), &back), -1);
	/* only a code: msg and data absent */
	m = pd_map(a);
	pd_map_set_int(a, m, "code", 503);
	assert_int_equal(pd_reply_from_msgpack(m, &back), 0);
	assert_int_equal(back.code, 503);
	assert_null(back.msg);
	assert_null(back.data);
}

/* ---- helpers ---- */

static void test_reply_set_and_buf(void **state)
{
	struct fixture *f = *state;
	struct pd_reply r = { .code = 0 };
	pd_reply_set(&f->arena, &r, 422, "over the limit of %d fen for %s", 50000, "operator");
	assert_int_equal(r.code, 422);
	assert_string_equal(r.msg, "over the limit of 50000 fen for operator");

	/* a long message is cut, never overflows */
	char long_msg[1000];
	memset(long_msg, 'm', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	pd_reply_set(&f->arena, &r, 400, "%s", long_msg);
	assert_true(strlen(r.msg) > 0 && strlen(r.msg) < sizeof(long_msg) - 1);
	assert_int_equal(strspn(r.msg, "m"), strlen(r.msg));

	/* a message cut inside a UTF-8 character is still UTF-8 */
	char cut[300];
	memset(cut, 'a', 254);
	strcpy(cut + 254, "\xe5\x8c\x85");
	pd_reply_set(&f->arena, &r, 400, "%s", cut);
	assert_true(strlen(r.msg) >= 254);
	assert_memory_equal(r.msg, cut, 254);
	if (!pd_utf8_valid(r.msg, strlen(r.msg)))
		fail_msg("pd_reply_set left a cut UTF-8 sequence");

	/* pd_buf_printf grows past its small buffer */
	struct pd_buf b;
	pd_buf_init(&b);
	pd_buf_printf(&b, "%s|%d", long_msg, 42);
	assert_int_equal(b.len, strlen(long_msg) + 3);
	assert_memory_equal(b.data + b.len - 3, "|42", 3);
	pd_buf_add(&b, "\0x", 2); /* binary-safe */
	assert_int_equal(b.len, strlen(long_msg) + 5);
	assert_int_equal(b.data[b.len], '\0');
	pd_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);

	/* a buffer on borrowed room is written there until it outgrows it,
	 * then moves to the heap with its bytes; freeing it leaves the room */
	char room[16];
	pd_buf_use(&b, room, sizeof(room));
	pd_buf_adds(&b, "0123456789");
	assert_ptr_equal(b.data, room);
	assert_true(b.borrowed);
	assert_string_equal(room, "0123456789");
	pd_buf_adds(&b, "abcdefghij");
	assert_ptr_not_equal(b.data, room);
	assert_false(b.borrowed);
	assert_string_equal(b.data, "0123456789abcdefghij");
	pd_buf_free(&b);
	pd_buf_use(&b, room, sizeof(room));
	pd_buf_adds(&b, "x");
	pd_buf_free(&b); /* not the heap's: nothing freed */
	assert_null(b.data);
}

/* A dotted path longer than the room the renderer keeps for it on the
 * stack (256 bytes) moves to the heap and renders the same. */
static void test_long_key_paths(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	char key[301];
	memset(key, 'k', 300);
	key[300] = '\0';
	struct pd_value *rec = pd_map(a), *inner = pd_map(a), *deeper = pd_map(a);
	pd_map_set_int(a, deeper, "z", 7);
	pd_map_set(a, inner, key, deeper);
	pd_map_set_str(a, inner, "b", "v");
	pd_map_set(a, rec, key, inner);
	pd_map_set_int(a, rec, "after", 1);
	char want[1000];
	snprintf(want, sizeof(want), "200 ok\r\n%s.%s.z: 7\r\n%s.b: v\r\nafter: 1\r\n.\r\n",
		 key, key, key);
	assert_text(f, 200, "ok", rec, want);
}

/* ---- a plain reference renderer, byte by byte from PROTOCOL.md ---- */

static void ref_escaped(struct pd_buf *b, const char *s, size_t n)
{
	char e[8];
	for (size_t i = 0; i < n; i++)
		pd_buf_add(b, e, escape_byte((unsigned char)s[i], e));
}

/* One body line: dot-stuffed, CRLF. */
static void ref_line(struct pd_buf *out, const struct pd_buf *line)
{
	if (line->len && line->data[0] == '.')
		pd_buf_adds(out, ".");
	pd_buf_add(out, line->data, line->len);
	pd_buf_adds(out, "\r\n");
}

/* The lines of v under the dotted path[0..plen): "path: scalar", "path:"
 * for an empty map or array, a container's items one key deeper. */
static void ref_field(struct pd_buf *out, const char *path, size_t plen, const struct pd_value *v)
{
	struct pd_buf line;
	pd_buf_init(&line);
	pd_buf_add(&line, path, plen);
	if (v->type != PD_MAP && v->type != PD_ARR) {
		pd_buf_adds(&line, ": ");
		switch (v->type) {
		case PD_NIL: break;
		case PD_BOOL: pd_buf_adds(&line, v->u.b ? "yes" : "no"); break;
		case PD_INT: pd_buf_printf(&line, "%lld", (long long)v->u.i); break;
		default: ref_escaped(&line, v->u.s.ptr, v->u.s.len); break;
		}
		ref_line(out, &line);
	} else if (!v->u.c.count) {
		pd_buf_adds(&line, ":");
		ref_line(out, &line);
	} else {
		size_t index = 0;
		for (const struct pd_entry *e = v->u.c.head; e; e = e->next) {
			line.len = plen;
			if (plen)
				pd_buf_adds(&line, ".");
			if (v->type == PD_MAP)
				ref_escaped(&line, e->key, e->key_len);
			else
				pd_buf_printf(&line, "%zu", ++index);
			ref_field(out, line.data, line.len, e->val);
		}
	}
	pd_buf_free(&line);
}

/* A whole 2xx text reply of data (a record, or a list of records). */
static void ref_reply(struct pd_buf *out, const char *msg, const struct pd_value *data)
{
	pd_buf_adds(out, "200 ");
	ref_escaped(out, msg, strlen(msg));
	pd_buf_adds(out, "\r\n");
	size_t n = data->type == PD_ARR ? data->u.c.count : 1;
	const struct pd_entry *e = data->type == PD_ARR ? data->u.c.head : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct pd_value *rec = e ? e->val : data;
		if (i)
			pd_buf_adds(out, "\r\n");
		if (rec->type != PD_MAP) /* a record that is not a map: under the key "value" */
			ref_field(out, "value", 5, rec);
		else if (rec->u.c.count) /* an empty one shows no line */
			ref_field(out, "", 0, rec);
		e = e ? e->next : NULL;
	}
	pd_buf_adds(out, ".\r\n");
}

/* The renderer gives the reference's bytes for data, from the tree and
 * from its packed bytes (held in memory of their exact size, so a read
 * past them is caught under ASan), into an empty buffer and into borrowed
 * room of several sizes (exact, so a write past the room is caught): the
 * room runs out at a different line each time. */
static void assert_renders_as_reference(const struct pd_value *data)
{
	struct pd_buf want;
	pd_buf_init(&want);
	ref_reply(&want, "ok", data);
	char *packed, *exact;
	size_t plen;
	assert_int_equal(pd_value_to_msgpack(data, &packed, &plen), 0);
	exact = malloc(plen);
	assert_non_null(exact);
	memcpy(exact, packed, plen);
	free(packed);
	const size_t rooms[] = { 0, 1, 7, 16, 100, 333, want.len / 2, want.len - 1, want.len,
				 want.len + 1, want.len + 17, want.len + 64 };
	for (int kept = 0; kept < 2; kept++) {
		struct pd_reply r = { .code = 200, .msg = "ok" };
		if (kept) {
			r.packed = exact;
			r.packed_len = plen;
		} else {
			r.data = (struct pd_value *)data;
		}
		for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
			struct pd_buf got;
			char *room = rooms[i] ? malloc(rooms[i]) : NULL;
			if (room)
				pd_buf_use(&got, room, rooms[i]);
			else
				pd_buf_init(&got);
			pd_reply_render_text(&r, &got);
			if (got.len != want.len || memcmp(got.data, want.data, want.len) != 0)
				fail_msg("room %zu, %s: rendered\n[%.*s]\nwanted\n[%s]", rooms[i],
					 kept ? "packed" : "tree", (int)got.len, got.data, want.data);
			assert_int_equal(got.data[got.len], '\0');
			pd_buf_free(&got);
			free(room);
		}
	}
	free(exact);
	pd_buf_free(&want);
}

/* Strings of every length 0..40 (either side of one and two blocks of 16),
 * plain, starting with '.', and escaped throughout (4 bytes shown for each:
 * the most a byte takes), as keys and values at the top, under a key and
 * two keys deep, and as array items; the empty string too. */
static void test_render_matches_reference_every_length(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	for (size_t n = 0; n <= 40; n++) {
		for (int kind = 0; kind < 4; kind++) {
			char s[41];
			for (size_t i = 0; i < n; i++)
				s[i] = kind == 2 ? '\x01' : (char)('a' + (int)(i % 26));
			if (kind == 1 && n)
				s[0] = '.';
			if (kind == 3 && n)
				s[n - 1] = '\\';
			struct pd_value *top = pd_map(a), *mid = pd_map(a), *deep = pd_map(a),
					*list = pd_arr(a);
			pd_map_append(a, deep, pd_strndup(a, s, n), n, pd_strn(a, s, n));
			pd_map_set_int(a, deep, "z", 1);
			pd_map_append(a, mid, pd_strndup(a, s, n), n, deep);
			pd_map_append(a, mid, "v", 1, pd_strn(a, s, n));
			pd_arr_push(a, list, pd_strn(a, s, n));
			pd_arr_push(a, list, pd_map(a));
			pd_map_append(a, top, pd_strndup(a, s, n), n, pd_strn(a, s, n));
			pd_map_append(a, top, "m", 1, mid);
			pd_map_append(a, top, "l", 1, list);
			pd_map_set_str(a, top, "last", s[0] == '.' ? "." : "x");
			assert_renders_as_reference(top);
			struct pd_value *recs = pd_arr(a);
			pd_arr_push(a, recs, top);
			pd_arr_push(a, recs, pd_strn(a, s, n));
			pd_arr_push(a, recs, list);
			assert_renders_as_reference(recs);
		}
		pd_arena_reset(a);
	}
}

/* The worst cases of the room a line is given: a path as deep as packed
 * data goes, of keys escaped throughout, over a value escaped throughout;
 * many tiny items (an index key, an empty value); ints of every width at
 * their extremes; empty keys and empty containers. */
static void test_render_matches_reference_worst_cases(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	char ctl[31];
	memset(ctl, '\x1f', sizeof(ctl));
	struct pd_value *leaf = pd_strn(a, ctl, sizeof(ctl));
	for (int depth = 1; depth < PD_UNPACK_MAX_DEPTH; depth++) {
		struct pd_value *v = leaf;
		for (int d = 0; d < depth; d++) {
			struct pd_value *m = pd_map(a);
			pd_map_append(a, m, ctl, sizeof(ctl), v);
			pd_map_append(a, m, "x", 1, pd_strn(a, ctl, sizeof(ctl)));
			v = m;
		}
		assert_renders_as_reference(v);
	}
	struct pd_value *tiny = pd_map(a), *list = pd_arr(a), *nils = pd_map(a);
	for (int i = 0; i < 3000; i++)
		pd_arr_push(a, list, i % 3 ? pd_int(a, 0) : pd_nil(a));
	for (int i = 0; i < 1000; i++) {
		char k[16];
		snprintf(k, sizeof(k), "%c%d", i % 2 ? '.' : 'k', i);
		pd_map_set(a, nils, pd_strdup(a, k), pd_nil(a));
	}
	pd_map_set(a, tiny, "l", list);
	pd_map_set(a, tiny, "n", nils);
	assert_renders_as_reference(tiny);
	assert_renders_as_reference(nils);
	static const int64_t ints[] = { 0, 1, 9, 10, 11, 42, 99, 100, 101, 127, 128, 255, 256, 65535, 65536,
		4294967295LL, 4294967296LL, INT64_MAX, -1, -9, -10, -32, -33, -99, -100, -128, -129,
		-32768, -32769, -2147483648LL, -2147483649LL, INT64_MIN };
	struct pd_value *nums = pd_map(a), *arr = pd_arr(a);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		char k[32];
		snprintf(k, sizeof(k), "i%zu", i);
		pd_map_set_int(a, nums, pd_strdup(a, k), ints[i]);
		pd_arr_push(a, arr, pd_int(a, ints[i]));
	}
	pd_map_set(a, nums, "arr", arr);
	assert_renders_as_reference(nums);
	assert_renders_as_reference(arr);
	/* empty keys: a first one holding a container adds nothing to the
	 * path (its lines are the top's); below the top it is an empty part */
	struct pd_value *e = pd_map(a), *in = pd_map(a), *in2 = pd_map(a);
	pd_map_set_int(a, in2, ".b", 2);
	pd_map_set(a, in2, "", pd_map(a));
	pd_map_set(a, in, "", in2);
	pd_map_set_int(a, in, ".a", 1);
	pd_map_set(a, in, "e", pd_arr(a));
	pd_map_set(a, e, "", in);
	pd_map_set(a, e, ".x", in);
	pd_map_set(a, e, "y", pd_bool(a, false));
	pd_map_set(a, e, "t", pd_bool(a, true));
	assert_renders_as_reference(e);
	struct pd_value *empties = pd_map(a);
	pd_map_set(a, empties, "", pd_map(a));
	assert_renders_as_reference(empties);
}

/* A line of a short key and a short string or small number is read from
 * its two head bytes when 66 bytes or more of the data follow it: every
 * pair of key and value lengths 0..31 (either side of the 32 bytes taken
 * that way), plain, with a byte to escape first or last in either, a
 * key starting with '.' at the top and under a key; ints either side of
 * 0..127 (one head byte), yes, no, nil, and empty containers (a head
 * byte next to them);
 * each with data after it and without; and lines with every length of
 * data 0..80 after them (the packed bytes held at their exact size: a
 * read past them is caught under ASan). */
static void test_render_matches_reference_short_pairs(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	char pad[100];
	memset(pad, 'p', sizeof(pad));
	for (size_t nk = 0; nk <= 31; nk++) {
		for (size_t nv = 0; nv <= 31; nv++) {
			for (int kind = 0; kind < 8; kind++) {
				char k[32], v[32];
				for (size_t i = 0; i < nk; i++)
					k[i] = (char)('a' + (int)i);
				for (size_t i = 0; i < nv; i++)
					v[i] = (char)('A' + (int)i);
				if (kind == 1 && nk)
					k[0] = '.';
				if (kind == 2 && nk)
					k[nk - 1] = '\n';
				if (kind == 3 && nv)
					v[nv - 1] = '\x7f';
				if (kind == 4 && nv)
					v[0] = '\\';
				struct pd_value *val = pd_strn(a, v, nv);
				if (kind == 5) {
					/* 46 is '.' as a head byte: after a key "" */
					static const int64_t ints[] = { 0, 9, 10, 46, 99, 100, 127, 128, -1 };
					val = pd_int(a, ints[nv % 9]);
				}
				if (kind == 6)
					val = nv % 2 ? pd_map(a) : pd_arr(a);
				if (kind == 7)
					val = nv % 3 ? pd_bool(a, nv % 3 == 1) : pd_nil(a);
				struct pd_value *top = pd_map(a), *in = pd_map(a);
				pd_map_append(a, in, pd_strndup(a, k, nk), nk, val);
				pd_map_append(a, in, "pad", 3, pd_strn(a, pad, sizeof(pad)));
				pd_map_append(a, top, pd_strndup(a, k, nk), nk, val);
				pd_map_append(a, top, "in", 2, in);
				pd_map_append(a, top, pd_strndup(a, k, nk), nk, val);
				assert_renders_as_reference(top);
			}
			pd_arena_reset(a);
		}
	}
	for (size_t nk = 0; nk <= 31; nk += 31) {
		for (size_t after = 0; after <= 80; after++) {
			char k[32];
			memset(k, 'k', nk);
			struct pd_value *top = pd_map(a);
			pd_map_append(a, top, pd_strndup(a, k, nk), nk, pd_int(a, 7));
			pd_map_append(a, top, pd_strndup(a, k, nk), nk, pd_strn(a, "", 0));
			pd_map_append(a, top, "z", 1, pd_strn(a, pad, after));
			assert_renders_as_reference(top);
		}
	}
}

/* Random records of the awkward: keys and values of the bytes that are
 * escaped or stuffed, of lengths either side of 16 and 32, ints of every
 * width, nested maps and arrays, empty ones. */
static size_t random_awkward(char *s, size_t max)
{
	static const char awkward[] = "\r\n.\\\t: \x00\x7f\x1f\x80\xff";
	size_t n = (size_t)rand() % max;
	for (size_t i = 0; i < n; i++)
		s[i] = rand() % 3 ? (char)('a' + rand() % 26)
				  : awkward[rand() % (int)(sizeof(awkward) - 1)];
	return n;
}

static struct pd_value *random_value(struct pd_arena *a, int depth)
{
	char s[40];
	switch (rand() % (depth < 4 ? 7 : 5)) {
	case 0: return pd_nil(a);
	case 1: return pd_bool(a, rand() % 2);
	case 2: return pd_int(a, (int64_t)(((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^
					   (uint64_t)rand()) >> (rand() % 64));
	case 3: case 4: return pd_strn(a, s, random_awkward(s, sizeof(s)));
	case 5: {
		struct pd_value *m = pd_map(a);
		for (int i = rand() % 12; i > 0; i--) {
			size_t n = random_awkward(s, 20);
			pd_map_append(a, m, pd_strndup(a, s, n), n, random_value(a, depth + 1));
		}
		return m;
	}
	default: {
		struct pd_value *l = pd_arr(a);
		for (int i = rand() % 12; i > 0; i--)
			pd_arr_push(a, l, random_value(a, depth + 1));
		return l;
	}
	}
}

static void test_render_matches_reference_random(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	srand(13);
	for (int round = 0; round < 300; round++) {
		struct pd_value *v = random_value(a, 0);
		if (v->type != PD_MAP && v->type != PD_ARR) {
			struct pd_value *m = pd_map(a);
			pd_map_set(a, m, "k", v);
			v = m;
		}
		assert_renders_as_reference(v);
		pd_arena_reset(a);
	}
}

static struct pd_value *help_record(struct pd_arena *a, const char *command, const char *args,
				     const char *role, const char *help)
{
	struct pd_value *r = pd_map(a);
	pd_map_set_str(a, r, "command", command);
	pd_map_set_str(a, r, "args", args);
	pd_map_set_str(a, r, "role", role);
	pd_map_set_str(a, r, "kind", "read");
	pd_map_set_str(a, r, "help", help);
	return r;
}

/* HELP over text: one line a command, the arguments in short. */
static void test_help_text_lists_one_line_a_command(void **state)
{
	struct fixture *f = *state;
	struct pd_value *list = pd_arr(&f->arena);
	pd_arr_push(&f->arena, list, help_record(&f->arena, "PING", "", "none", "answers PONG"));
	pd_arr_push(&f->arena, list, help_record(&f->arena, "COMPLAINT NOTE",
						 "<id:id> text=text! contacted=bool", "operator",
						 "add a note"));
	assert_string_equal(pd_help_text(&f->arena, list),
			    "PING            none      - answers PONG\n"
			    "COMPLAINT NOTE  operator  <id> text= [contacted=]  - add a note\n");
	struct pd_reply r = { .code = 200, .msg = "2 commands", .data = list,
			      .text = pd_help_text(&f->arena, list) };
	pd_reply_render_text(&r, &f->out);
	assert_string_equal(f->out.data, "200 2 commands\r\n"
			    "PING            none      - answers PONG\r\n"
			    "COMPLAINT NOTE  operator  <id> text= [contacted=]  - add a note\r\n.\r\n");
	/* msgpack keeps the structure */
	pd_buf_free(&f->out);
	pd_reply_render_msgpack(&r, &f->out);
	assert_null(memmem(f->out.data, f->out.len, "[contacted=]", 12));
}

/* HELP of one command: its line and a table of its arguments. */
static void test_help_text_of_one_command_is_a_table(void **state)
{
	struct fixture *f = *state;
	struct pd_arena *a = &f->arena;
	struct pd_value *c = help_record(a, "SCAN", "<number:waybill> <event:enum(held|lost)>", "operator",
					 "record a tracking event");
	struct pd_value *args = pd_arr(a);
	const char *names[] = { "number", "event", "note" }, *types[] = { "waybill", "enum", "str" };
	for (int i = 0; i < 3; i++) {
		struct pd_value *arg = pd_map(a);
		pd_map_set_str(a, arg, "name", names[i]);
		pd_map_set_str(a, arg, "type", types[i]);
		pd_map_set_bool(a, arg, "required", i < 2);
		pd_map_set_bool(a, arg, "positional", i < 2);
		if (i == 1) {
			struct pd_value *vals = pd_arr(a);
			pd_arr_push(a, vals, pd_str(a, "held"));
			pd_arr_push(a, vals, pd_str(a, "lost"));
			pd_map_set(a, arg, "values", vals);
		}
		pd_arr_push(a, args, arg);
	}
	pd_map_set(a, c, "arguments", args);
	struct pd_value *list = pd_arr(a);
	pd_arr_push(a, list, c);
	assert_string_equal(pd_help_text(a, list),
			    "SCAN  (read, role operator): record a tracking event\n"
			    "  argument  type     required  given       values\n"
			    "  number    waybill  yes       position\n"
			    "  event     enum     yes       position    held|lost\n"
			    "  note      str      no        name=value\n");
	/* any other data is not HELP's: no text body */
	struct pd_value *other = pd_arr(a);
	pd_arr_push(a, other, pd_map(a));
	assert_null(pd_help_text(a, other));
	assert_null(pd_help_text(a, NULL));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_status_line_and_terminator),
		T(test_error_replies_are_status_line_only),
		T(test_status_message_is_escaped),
		T(test_record_lines),
		T(test_int_extremes),
		T(test_list_of_records),
		T(test_nested_values_flatten),
		T(test_empty_record_is_an_empty_body),
		T(test_non_map_data),
		T(test_dot_stuffing),
		T(test_keys_are_escaped),
		T(test_value_escapes),
		T(test_escape_at_every_position),
		T(test_escape_of_every_length),
		T(test_container_sizes),
		T(test_reader_recovers_every_byte),
		T(test_pipelined_replies_split),
		T(test_msgpack_reply_shape),
		T(test_msgpack_head_matches_packer),
		T(test_reply_from_msgpack),
		T(test_packed_data_renders_as_tree),
		T(test_reply_set_and_buf),
	T(test_long_key_paths),
		T(test_render_matches_reference_every_length),
		T(test_render_matches_reference_worst_cases),
		T(test_render_matches_reference_short_pairs),
		T(test_render_matches_reference_random),
		T(test_help_text_lists_one_line_a_command),
		T(test_help_text_of_one_command_is_a_table),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
