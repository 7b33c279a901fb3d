/*
 * Unit tests for the msgpack framing: the bounded decoder pd_value_unpack(),
 * the framing pd_mp_scan() and the encoder (protocol/value.c),
 * pd_request_read_msgpack() and pd_request_from_msgpack() (protocol/request.c),
 * and a client's reading of a reply's status,
 * pd_reply_status_from_msgpack() (protocol/reply.c),
 * against PROTOCOL.md section 3.
 *
 * Inputs are written byte by byte from the msgpack specification, so the
 * decoder is checked against the format, not against our own encoder; the
 * round-trip tests then check the encoder against the decoder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reply.h"
#include "request.h"
#include "value.h"

static int setup(void **state)
{
	struct pd_arena *a = malloc(sizeof(*a));
	assert_non_null(a);
	pd_arena_init(a);
	*state = a;
	return 0;
}

static int teardown(void **state)
{
	pd_arena_free(*state);
	free(*state);
	return 0;
}

/* A small byte builder for hand-written msgpack. */
struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put8(struct bytes *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(b, &c, 1);
}

/* big-endian, n bytes */
static void put_be(struct bytes *b, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		put8(b, (unsigned)((v >> (8 * i)) & 0xff));
}

static void put_fixstr(struct bytes *b, const char *s)
{
	size_t n = strlen(s);
	assert_true(n < 32);
	put8(b, 0xa0 | (unsigned)n);
	put(b, s, n);
}

static void bytes_free(struct bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static enum pd_unpack_status unpack(struct pd_arena *a, const void *buf, size_t len,
				    size_t *used, struct pd_value **out)
{
	*used = (size_t)-1;
	*out = NULL;
	return pd_value_unpack(a, buf, len, used, out);
}

/* Decodes exactly all of buf as one value. */
static struct pd_value *unpack_all(struct pd_arena *a, const void *buf, size_t len)
{
	size_t used;
	struct pd_value *v;
	enum pd_unpack_status st = unpack(a, buf, len, &used, &v);
	if (st != PD_UNPACK_OK)
		fail_msg("unpack of %zu bytes: status %d", len, (int)st);
	assert_int_equal(used, len);
	assert_non_null(v);
	return v;
}

static int64_t unpack_int(struct pd_arena *a, const void *buf, size_t len)
{
	struct pd_value *v = unpack_all(a, buf, len);
	assert_int_equal(v->type, PD_INT);
	return v->u.i;
}

/* A byte string literal and its length (it may hold NUL bytes). */
#define B(s) s, sizeof(s) - 1

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
		       memcmp(x->u.s.ptr, y->u.s.ptr, x->u.s.len) == 0 &&
		       y->u.s.ptr[y->u.s.len] == '\0';
	case PD_MAP:
	case PD_ARR: {
		if (x->u.c.count != y->u.c.count)
			return false;
		const struct pd_entry *e = x->u.c.head, *f = y->u.c.head;
		size_t n = 0;
		for (; e && f; e = e->next, f = f->next, n++) {
			if (x->type == PD_MAP &&
			    (e->key_len != f->key_len ||
			     memcmp(e->key, f->key, e->key_len) != 0 ||
			     f->key[f->key_len] != '\0'))
				return false;
			if (!values_equal(e->val, f->val))
				return false;
		}
		return !e && !f && n == x->u.c.count;
	}
	}
	return false;
}

/* ---- every supported type ---- */

static void test_unpack_scalars(void **state)
{
	struct pd_arena *a = *state;
	struct pd_value *v;

	v = unpack_all(a, "\xc0", 1);
	assert_int_equal(v->type, PD_NIL);
	v = unpack_all(a, "\xc2", 1);
	assert_int_equal(v->type, PD_BOOL);
	assert_false(v->u.b);
	v = unpack_all(a, "\xc3", 1);
	assert_int_equal(v->type, PD_BOOL);
	assert_true(v->u.b);
}

static void test_unpack_unsigned_ints(void **state)
{
	struct pd_arena *a = *state;
	/* positive fixint */
	assert_int_equal(unpack_int(a, "\x00", 1), 0);
	assert_int_equal(unpack_int(a, "\x01", 1), 1);
	assert_int_equal(unpack_int(a, "\x7f", 1), 127);
	/* uint 8 / 16 / 32 / 64 */
	assert_int_equal(unpack_int(a, "\xcc\x00", 2), 0);
	assert_int_equal(unpack_int(a, "\xcc\x80", 2), 128);
	assert_int_equal(unpack_int(a, "\xcc\xff", 2), 255);
	assert_int_equal(unpack_int(a, "\xcd\x01\x00", 3), 256);
	assert_int_equal(unpack_int(a, "\xcd\xff\xff", 3), 65535);
	assert_int_equal(unpack_int(a, "\xce\x00\x01\x00\x00", 5), 65536);
	assert_int_equal(unpack_int(a, "\xce\xff\xff\xff\xff", 5), 4294967295LL);
	assert_true(unpack_int(a, "\xcf\x00\x00\x00\x01\x00\x00\x00\x00", 9) == 4294967296LL);
	assert_true(unpack_int(a, "\xcf\x12\x34\x56\x78\x9a\xbc\xde\xf0", 9) ==
		    0x123456789abcdef0LL);
	assert_true(unpack_int(a, "\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9) == INT64_MAX);
}

static void test_unpack_signed_ints(void **state)
{
	struct pd_arena *a = *state;
	/* negative fixint */
	assert_int_equal(unpack_int(a, "\xff", 1), -1);
	assert_int_equal(unpack_int(a, "\xf0", 1), -16);
	assert_int_equal(unpack_int(a, "\xe0", 1), -32);
	/* int 8 / 16 / 32 / 64, both signs */
	assert_int_equal(unpack_int(a, "\xd0\x7f", 2), 127);
	assert_int_equal(unpack_int(a, "\xd0\xdf", 2), -33);
	assert_int_equal(unpack_int(a, "\xd0\x80", 2), -128);
	assert_int_equal(unpack_int(a, "\xd1\x7f\xff", 3), 32767);
	assert_int_equal(unpack_int(a, "\xd1\xff\x7f", 3), -129);
	assert_int_equal(unpack_int(a, "\xd1\x80\x00", 3), -32768);
	assert_int_equal(unpack_int(a, "\xd2\x7f\xff\xff\xff", 5), INT32_MAX);
	assert_int_equal(unpack_int(a, "\xd2\xff\xff\x7f\xff", 5), -32769);
	assert_int_equal(unpack_int(a, "\xd2\x80\x00\x00\x00", 5), INT32_MIN);
	assert_true(unpack_int(a, "\xd3\xff\xff\xff\xff\x7f\xff\xff\xff", 9) ==
		    (int64_t)INT32_MIN - 1);
	assert_true(unpack_int(a, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9) == INT64_MIN);
	assert_true(unpack_int(a, "\xd3\x7f\xff\xff\xff\xff\xff\xff\xff", 9) == INT64_MAX);
	assert_true(unpack_int(a, "\xd3\xff\xff\xff\xff\xff\xff\xff\xff", 9) == -1);
}

static void test_uint64_above_int64_max_is_refused(void **state)
{
	struct pd_arena *a = *state;
	size_t used;
	struct pd_value *v;
	assert_int_equal(unpack(a, "\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9, &used, &v),
			 PD_UNPACK_MALFORMED);
	assert_int_equal(unpack(a, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, &used, &v),
			 PD_UNPACK_MALFORMED);
	/* also inside an array: the whole value is refused */
	assert_int_equal(unpack(a, "\x92\x01\xcf\x80\x00\x00\x00\x00\x00\x00\x01", 11,
				&used, &v), PD_UNPACK_MALFORMED);
	/* the framing reads it with the decoder's reader, so it refuses it too */
	struct pd_mp_scan s;
	pd_mp_scan_init(&s);
	assert_int_equal(pd_mp_scan(&s, "\x92\x01\xcf\x80\x00\x00\x00\x00\x00\x00\x01", 11),
			 PD_UNPACK_MALFORMED);
}

static void check_str(struct pd_arena *a, const struct bytes *b, const char *want,
		      size_t want_len)
{
	struct pd_value *v = unpack_all(a, b->p, b->len);
	assert_int_equal(v->type, PD_STR);
	assert_int_equal(v->u.s.len, want_len);
	assert_memory_equal(v->u.s.ptr, want, want_len);
	assert_int_equal(v->u.s.ptr[want_len], '\0');
}

static void test_unpack_strings(void **state)
{
	struct pd_arena *a = *state;
	size_t big_len = 70000;
	char *big = malloc(big_len);
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);

	struct bytes b = { 0 };
	put8(&b, 0xa0); /* empty fixstr */
	check_str(a, &b, "", 0);
	bytes_free(&b);

	put_fixstr(&b, "abc");
	check_str(a, &b, "abc", 3);
	bytes_free(&b);

	put8(&b, 0xbf); /* fixstr of 31 */
	put(&b, big, 31);
	check_str(a, &b, big, 31);
	bytes_free(&b);

	put8(&b, 0xd9); /* str 8 */
	put8(&b, 200);
	put(&b, big, 200);
	check_str(a, &b, big, 200);
	bytes_free(&b);

	put8(&b, 0xd9); /* str 8, empty */
	put8(&b, 0);
	check_str(a, &b, "", 0);
	bytes_free(&b);

	put8(&b, 0xda); /* str 16 */
	put_be(&b, 300, 2);
	put(&b, big, 300);
	check_str(a, &b, big, 300);
	bytes_free(&b);

	put8(&b, 0xdb); /* str 32 */
	put_be(&b, big_len, 4);
	put(&b, big, big_len);
	check_str(a, &b, big, big_len);
	bytes_free(&b);

	/* a NUL inside a string is kept: the length tells */
	put8(&b, 0xa3);
	put(&b, "a\0b", 3);
	check_str(a, &b, "a\0b", 3);
	bytes_free(&b);

	/* UTF-8 bytes pass through the decoder as they are */
	put_fixstr(&b, "\xe5\x8c\x85\xe8\xa3\xb9");
	check_str(a, &b, "\xe5\x8c\x85\xe8\xa3\xb9", 6);
	bytes_free(&b);
	free(big);
}

static void check_int_array(struct pd_arena *a, const struct bytes *b, size_t n)
{
	struct pd_value *v = unpack_all(a, b->p, b->len);
	assert_int_equal(v->type, PD_ARR);
	assert_int_equal(v->u.c.count, n);
	size_t i = 0;
	for (const struct pd_entry *e = v->u.c.head; e; e = e->next, i++) {
		assert_null(e->key);
		assert_int_equal(e->val->type, PD_INT);
		assert_int_equal(e->val->u.i, (int64_t)(i % 100));
	}
	assert_int_equal(i, n);
}

static void test_unpack_arrays(void **state)
{
	struct pd_arena *a = *state;
	static const size_t sizes[] = { 0, 1, 15, 16, 300, 70000 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		/* every header that can hold n: fixarray, array 16, array 32 */
		for (int form = 0; form < 3; form++) {
			struct bytes b = { 0 };
			if (form == 0) {
				if (n > 15)
					continue;
				put8(&b, 0x90 | (unsigned)n);
			} else if (form == 1) {
				if (n > 65535)
					continue;
				put8(&b, 0xdc);
				put_be(&b, n, 2);
			} else {
				put8(&b, 0xdd);
				put_be(&b, n, 4);
			}
			for (size_t i = 0; i < n; i++)
				put8(&b, (unsigned)(i % 100));
			check_int_array(a, &b, n);
			bytes_free(&b);
			pd_arena_reset(a);
		}
	}
}

static void check_map(struct pd_arena *a, const struct bytes *b, size_t n)
{
	struct pd_value *v = unpack_all(a, b->p, b->len);
	assert_int_equal(v->type, PD_MAP);
	assert_int_equal(v->u.c.count, n);
	size_t i = 0;
	for (const struct pd_entry *e = v->u.c.head; e; e = e->next, i++) {
		char key[32];
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(e->key_len, strlen(key));
		assert_string_equal(e->key, key);
		assert_int_equal(e->val->type, PD_INT);
		assert_int_equal(e->val->u.i, (int64_t)(i % 100));
	}
	assert_int_equal(i, n);
	if (n > 0) {
		/* look-up by key on a decoded map */
		int64_t x;
		assert_true(pd_map_int(v, "k0", &x));
		assert_int_equal(x, 0);
	}
}

static void test_unpack_maps(void **state)
{
	struct pd_arena *a = *state;
	static const size_t sizes[] = { 0, 1, 15, 16, 300, 70000 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		for (int form = 0; form < 3; form++) {
			struct bytes b = { 0 };
			if (form == 0) {
				if (n > 15)
					continue;
				put8(&b, 0x80 | (unsigned)n);
			} else if (form == 1) {
				if (n > 65535)
					continue;
				put8(&b, 0xde);
				put_be(&b, n, 2);
			} else {
				put8(&b, 0xdf);
				put_be(&b, n, 4);
			}
			for (size_t i = 0; i < n; i++) {
				char key[32];
				snprintf(key, sizeof(key), "k%zu", i);
				put_fixstr(&b, key);
				put8(&b, (unsigned)(i % 100));
			}
			check_map(a, &b, n);
			bytes_free(&b);
			pd_arena_reset(a);
		}
	}
}

static void test_map_keys_of_every_string_header(void **state)
{
	struct pd_arena *a = *state;
	struct bytes b = { 0 };
	put8(&b, 0x83);
	put8(&b, 0xd9); put8(&b, 1); put(&b, "a", 1); put8(&b, 1);
	put8(&b, 0xda); put_be(&b, 1, 2); put(&b, "b", 1); put8(&b, 2);
	put8(&b, 0xdb); put_be(&b, 1, 4); put(&b, "c", 1); put8(&b, 3);
	struct pd_value *v = unpack_all(a, b.p, b.len);
	int64_t x;
	assert_true(pd_map_int(v, "a", &x)); assert_int_equal(x, 1);
	assert_true(pd_map_int(v, "b", &x)); assert_int_equal(x, 2);
	assert_true(pd_map_int(v, "c", &x)); assert_int_equal(x, 3);
	bytes_free(&b);
}

static void test_used_counts_one_object(void **state)
{
	struct pd_arena *a = *state;
	/* two objects back to back (pipelining): the first is decoded alone */
	const unsigned char buf[] = { 0x92, 0xa4, 'P', 'I', 'N', 'G', 0x05,
				      0x91, 0xa4, 'P', 'I', 'N', 'G' };
	size_t used;
	struct pd_value *v;
	assert_int_equal(unpack(a, buf, sizeof(buf), &used, &v), PD_UNPACK_OK);
	assert_int_equal(used, 7);
	assert_int_equal(v->type, PD_ARR);
	assert_int_equal(v->u.c.count, 2);
	assert_int_equal(unpack(a, buf + used, sizeof(buf) - used, &used, &v), PD_UNPACK_OK);
	assert_int_equal(used, 6);
	assert_int_equal(v->u.c.count, 1);
}

/* ---- truncation ---- */

/* Every proper prefix of a complete object is INCOMPLETE, the whole is OK.
 * Each prefix is copied into a buffer of exactly its size, so a read past
 * the end is caught by AddressSanitizer in the sanitizer build. */
/* The incremental scanner, fed the bytes one at a time as a trickling
 * client sends them, finds the end exactly where the decoder does. */
static void check_scan_byte_by_byte(const unsigned char *buf, size_t len)
{
	struct pd_mp_scan s;
	pd_mp_scan_init(&s);
	for (size_t n = 1; n < len; n++) {
		size_t before = s.pos;
		if (pd_mp_scan(&s, (const char *)buf, n) != PD_UNPACK_INCOMPLETE)
			fail_msg("scan of %zu of %zu bytes: not INCOMPLETE", n, len);
		assert_true(s.pos >= before && s.pos <= n);
	}
	assert_int_equal(pd_mp_scan(&s, (const char *)buf, len), PD_UNPACK_OK);
	assert_int_equal(s.pos, len);
}

static void check_every_prefix(struct pd_arena *a, const unsigned char *buf, size_t len)
{
	check_scan_byte_by_byte(buf, len);
	for (size_t n = 0; n < len; n++) {
		size_t used;
		struct pd_value *v;
		unsigned char *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, buf, n);
		enum pd_unpack_status st = unpack(a, copy, n, &used, &v);
		free(copy);
		if (st != PD_UNPACK_INCOMPLETE)
			fail_msg("prefix %zu of %zu: status %d, want INCOMPLETE", n, len, (int)st);
		pd_arena_reset(a);
	}
	(void)unpack_all(a, buf, len);
	pd_arena_reset(a);
}

static void test_every_truncation_of_single_values(void **state)
{
	struct pd_arena *a = *state;
	static const struct { const char *bytes; size_t len; } whole[] = {
		{ B("\xa3" "abc") },
		{ B("\xd9\x03" "abc") },
		{ B("\xda\x00\x03" "abc") },
		{ B("\xdb\x00\x00\x00\x03" "abc") },
		{ B("\xcc\xff") },
		{ B("\xcd\xff\xff") },
		{ B("\xce\xff\xff\xff\xff") },
		{ B("\xcf\x00\x00\x00\x00\xff\xff\xff\xff") },
		{ B("\xd0\x80") },
		{ B("\xd1\x80\x00") },
		{ B("\xd2\x80\x00\x00\x00") },
		{ B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00") },
		{ B("\x92\xa4PING\xa3" "abc") },
		{ B("\x81\xa1k\xa2" "vv") },
		{ B("\xdc\x00\x01\xc3") },
		{ B("\xdd\x00\x00\x00\x01\xc2") },
		{ B("\xde\x00\x01\xa1k\xc0") },
		{ B("\xdf\x00\x00\x00\x01\xa1k\x07") },
	};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		check_every_prefix(a, (const unsigned char *)whole[i].bytes, whole[i].len);
}

static void test_every_truncation_of_an_encoded_request(void **state)
{
	struct pd_arena *a = *state;
	/* ["COMPLAINT", "OPEN", {...}] as our encoder writes it */
	struct pd_value *req = pd_arr(a);
	pd_arr_push(a, req, pd_str(a, "COMPLAINT"));
	pd_arr_push(a, req, pd_str(a, "OPEN"));
	struct pd_value *named = pd_map(a);
	pd_map_set_str(a, named, "waybill", "0001878765");
	pd_map_set_str(a, named, "text", "\xe5\x8c\x85\xe8\xa3\xb9 never arrived, "
					 "and this text is longer than thirty-one bytes");
	pd_map_set_int(a, named, "pieces", 3);
	pd_map_set_int(a, named, "weight_g", 70000);
	pd_map_set_int(a, named, "amount_fen", 5000000000LL);
	pd_map_set_int(a, named, "neg", -40000);
	pd_map_set_bool(a, named, "urgent", true);
	pd_map_set(a, named, "none", pd_nil(a));
	pd_arr_push(a, req, named);
	char *buf;
	size_t len;
	assert_int_equal(pd_value_to_msgpack(req, &buf, &len), 0);
	check_every_prefix(a, (const unsigned char *)buf, len);
	free(buf);
}

static void test_every_truncation_of_wide_headers(void **state)
{
	struct pd_arena *a = *state;
	/* array 32 of: array 16, map 16, map 32, str 8/16/32, ints of each width */
	struct bytes b = { 0 };
	put8(&b, 0xdd); put_be(&b, 12, 4);
	put8(&b, 0xdc); put_be(&b, 2, 2); put8(&b, 1); put8(&b, 2);
	put8(&b, 0xde); put_be(&b, 1, 2); put_fixstr(&b, "k"); put8(&b, 0xc3);
	put8(&b, 0xdf); put_be(&b, 1, 4); put_fixstr(&b, "m"); put8(&b, 0xc0);
	put8(&b, 0xd9); put8(&b, 3); put(&b, "abc", 3);
	put8(&b, 0xda); put_be(&b, 3, 2); put(&b, "def", 3);
	put8(&b, 0xdb); put_be(&b, 3, 4); put(&b, "ghi", 3);
	put8(&b, 0xcc); put8(&b, 200);
	put8(&b, 0xcd); put_be(&b, 60000, 2);
	put8(&b, 0xce); put_be(&b, 4000000000u, 4);
	put8(&b, 0xcf); put_be(&b, 1ULL << 40, 8);
	put8(&b, 0xd1); put_be(&b, 0xff00, 2);
	put8(&b, 0xd3); put_be(&b, (uint64_t)-5, 8);
	check_every_prefix(a, b.p, b.len);

	struct pd_value *v = unpack_all(a, b.p, b.len);
	assert_int_equal(v->u.c.count, 12);
	const struct pd_entry *e = v->u.c.head;
	for (int i = 0; i < 11; i++)
		e = e->next;
	assert_true(e->val->u.i == -5);
	bytes_free(&b);
}

static void test_lying_headers_cost_nothing(void **state)
{
	struct pd_arena *a = *state;
	static const struct { const char *bytes; size_t len; } lies[] = {
		{ B("\xdd\xff\xff\xff\xff\x01\x02\x03") },          /* array 32 */
		{ B("\xdf\xff\xff\xff\xff\xa1k\x01") },              /* map 32 */
		{ B("\xdb\xff\xff\xff\xff" "abc") },                 /* str 32 */
		{ B("\xdc\xff\xff\x01") },                           /* array 16 */
		{ B("\xde\xff\xff") },                               /* map 16 */
		{ B("\xda\xff\xff" "ab") },                          /* str 16 */
		{ B("\x91\xdd\xff\xff\xff\xff\xc0") },               /* nested */
		{ B("\xdd\xff\xff\xff\xff\xdd\xff\xff\xff\xff\xdd\xff\xff\xff\xff") },
	};
	clock_t start = clock();
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		size_t used;
		struct pd_value *v;
		enum pd_unpack_status st = unpack(a, lies[i].bytes, lies[i].len, &used, &v);
		if (st != PD_UNPACK_INCOMPLETE)
			fail_msg("lie %zu: status %d, want INCOMPLETE", i, (int)st);
		/* a few small allocations, never the claimed size */
		if (a->used_bytes > 4096)
			fail_msg("lie %zu: %zu bytes allocated", i, a->used_bytes);
		pd_arena_reset(a);
	}
	/* a lying array32 over a megabyte of real items: work in proportion
	 * to the bytes present, then INCOMPLETE */
	size_t n = 1 << 20;
	unsigned char *buf = malloc(n + 5);
	assert_non_null(buf);
	memcpy(buf, "\xdd\xff\xff\xff\xff", 5);
	memset(buf + 5, 0xc0, n);
	size_t used;
	struct pd_value *v;
	assert_int_equal(unpack(a, buf, n + 5, &used, &v), PD_UNPACK_INCOMPLETE);
	assert_true(a->used_bytes < 200 * n);
	free(buf);
	double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
	if (secs > 5.0)
		fail_msg("lying headers took %.1f s", secs);
}

/* ---- refused types ---- */

static void test_malformed_types(void **state)
{
	struct pd_arena *a = *state;
	static const struct { const char *bytes; size_t len; const char *what; } bad[] = {
		{ B("\xc1"), "0xc1 (never used)" },
		{ B("\xca\x3f\x80\x00\x00"), "float 32" },
		{ B("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"), "float 64" },
		{ B("\xc4\x01\x41"), "bin 8" },
		{ B("\xc5\x00\x01\x41"), "bin 16" },
		{ B("\xc6\x00\x00\x00\x01\x41"), "bin 32" },
		{ B("\xd4\x01\x41"), "fixext 1" },
		{ B("\xd5\x01\x41\x42"), "fixext 2" },
		{ B("\xd6\x01\x41\x42\x43\x44"), "fixext 4" },
		{ B("\xd7\x01" "12345678"), "fixext 8" },
		{ B("\xd8\x01" "1234567890123456"), "fixext 16" },
		{ B("\xc7\x01\x01\x41"), "ext 8" },
		{ B("\xc8\x00\x01\x01\x41"), "ext 16" },
		{ B("\xc9\x00\x00\x00\x01\x01\x41"), "ext 32" },
		{ B("\x92\xa4PING\xca\x3f\x80\x00\x00"), "float inside an array" },
		{ B("\x81\xa1k\xc4\x01\x41"), "bin as a map value" },
		{ B("\x81\x01\xa1" "a"), "integer map key" },
		{ B("\x81\xc0\xa1" "a"), "nil map key" },
		{ B("\x81\xc3\xa1" "a"), "bool map key" },
		{ B("\x81\x90\xa1" "a"), "array map key" },
		{ B("\x81\x80\xa1" "a"), "map map key" },
		{ B("\x92\xa1x\x81\x05\x06"), "integer key in a nested map" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t used;
		struct pd_value *v;
		enum pd_unpack_status st = unpack(a, bad[i].bytes, bad[i].len, &used, &v);
		if (st != PD_UNPACK_MALFORMED)
			fail_msg("%s: status %d, want MALFORMED", bad[i].what, (int)st);
		pd_arena_reset(a);
		/* the scanner refuses the same types; key types are left to the
		 * decoder, which sees the frame once it is whole */
		struct pd_mp_scan sc;
		pd_mp_scan_init(&sc);
		st = pd_mp_scan(&sc, (const char *)bad[i].bytes, bad[i].len);
		if (st != PD_UNPACK_MALFORMED && !(st == PD_UNPACK_OK && strstr(bad[i].what, "key")))
			fail_msg("%s: scan status %d", bad[i].what, (int)st);
	}
}

/* ---- depth ---- */

static enum pd_unpack_status unpack_nested(struct pd_arena *a, int levels, bool maps)
{
	struct bytes b = { 0 };
	for (int i = 0; i < levels - 1; i++) {
		if (maps) {
			put8(&b, 0x81);
			put_fixstr(&b, "k");
		} else {
			put8(&b, 0x91);
		}
	}
	put8(&b, maps ? 0x80 : 0x90);
	size_t used;
	struct pd_value *v;
	enum pd_unpack_status st = unpack(a, b.p, b.len, &used, &v);
	if (st == PD_UNPACK_OK) {
		assert_int_equal(used, b.len);
		/* the depth really is `levels` */
		int depth = 0;
		while (v && (v->type == PD_ARR || v->type == PD_MAP)) {
			depth++;
			v = v->u.c.head ? v->u.c.head->val : NULL;
		}
		assert_int_equal(depth, levels);
	}
	bytes_free(&b);
	pd_arena_reset(a);
	return st;
}

static void test_nesting_limit(void **state)
{
	struct pd_arena *a = *state;
	assert_int_equal(PD_UNPACK_MAX_DEPTH, 16);
	for (int maps = 0; maps < 2; maps++) {
		assert_int_equal(unpack_nested(a, 1, maps), PD_UNPACK_OK);
		assert_int_equal(unpack_nested(a, PD_UNPACK_MAX_DEPTH, maps), PD_UNPACK_OK);
		assert_int_equal(unpack_nested(a, PD_UNPACK_MAX_DEPTH + 1, maps),
				 PD_UNPACK_TOO_DEEP);
		assert_int_equal(unpack_nested(a, 100, maps), PD_UNPACK_TOO_DEEP);
	}
	/* a very deep input is refused without recursing through all of it */
	assert_int_equal(unpack_nested(a, 200000, false), PD_UNPACK_TOO_DEEP);

	/* 17 levels of arrays mixed with maps, truncated after the 17th header */
	struct bytes b = { 0 };
	for (int i = 0; i < 8; i++) {
		put8(&b, 0x91);
		put8(&b, 0x81);
		put_fixstr(&b, "k");
	}
	put8(&b, 0xdc);
	put_be(&b, 3, 2);
	size_t used;
	struct pd_value *v;
	assert_int_equal(unpack(a, b.p, b.len, &used, &v), PD_UNPACK_TOO_DEEP);
	struct pd_mp_scan sc;
	pd_mp_scan_init(&sc);
	assert_int_equal(pd_mp_scan(&sc, (const char *)b.p, b.len), PD_UNPACK_TOO_DEEP);
	bytes_free(&b);
}

/* ---- a client's reading of replies: framed, status read from the bytes ---- */

/* Frames after each other in one buffer, then a byte that is not msgpack:
 * the scanner ends each frame where the decoder's *used does, and never
 * looks past it. */
static void test_scan_stops_at_the_frames_end(void **state)
{
	struct pd_arena *a = *state;
	static const struct { const char *bytes; size_t len; } frames[] = {
		{ B("\x00") }, { B("\x7f") }, { B("\xe0") }, { B("\xff") },
		{ B("\xc0") }, { B("\xc2") }, { B("\xc3") },
		{ B("\xcc\xff") }, { B("\xcd\xff\xff") }, { B("\xce\xff\xff\xff\xff") },
		{ B("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff") },
		{ B("\xd0\x80") }, { B("\xd1\x80\x00") }, { B("\xd2\x80\x00\x00\x00") },
		{ B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00") },
		{ B("\xa0") }, { B("\xa3" "abc") }, { B("\xd9\x03" "abc") },
		{ B("\xda\x00\x03" "abc") }, { B("\xdb\x00\x00\x00\x03" "abc") },
		{ B("\x90") }, { B("\x92\x01\xa1x") }, { B("\xdc\x00\x01\xc3") },
		{ B("\xdd\x00\x00\x00\x01\xc2") },
		{ B("\x80") }, { B("\x81\xa1k\x91\x80") }, { B("\xde\x00\x01\xa1k\xc0") },
		{ B("\xdf\x00\x00\x00\x01\xa1k\x07") },
	};
	struct bytes b = { 0 };
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		put(&b, frames[i].bytes, frames[i].len);
	put8(&b, 0xc1);
	size_t at = 0;
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		struct pd_mp_scan s;
		pd_mp_scan_init(&s);
		assert_int_equal(pd_mp_scan(&s, (const char *)b.p + at, b.len - at), PD_UNPACK_OK);
		assert_int_equal(s.pos, frames[i].len);
		size_t used;
		struct pd_value *v;
		assert_int_equal(unpack(a, b.p + at, b.len - at, &used, &v), PD_UNPACK_OK);
		assert_int_equal(used, s.pos);
		at += s.pos;
		pd_arena_reset(a);
	}
	assert_int_equal(at, b.len - 1);
	bytes_free(&b);
}

/* The status read from a reply's bytes is pd_reply_from_msgpack()'s. */
static void check_status_as_tree(struct pd_arena *a, const char *buf, size_t len)
{
	struct pd_reply_status st;
	struct pd_value *v;
	struct pd_reply r;
	size_t used;
	int tree = unpack(a, buf, len, &used, &v) == PD_UNPACK_OK ? pd_reply_from_msgpack(v, &r) : -1;
	assert_int_equal(pd_reply_status_from_msgpack(buf, len, &st), tree);
	if (tree == 0) {
		assert_int_equal(st.code, r.code);
		const char *msg = r.msg ? r.msg : "";
		assert_int_equal(st.msg_len, strlen(msg));
		assert_memory_equal(st.msg, msg, st.msg_len);
	}
	pd_arena_reset(a);
}

/* A reply as the daemon renders it, followed by a second one in the same
 * buffer: framed at every split as it may arrive, ending where the decoder
 * ends it, its status as the tree's; and read from every prefix (exactly
 * that many bytes, for AddressSanitizer) the status reader stays inside
 * them. */
static void check_reply(struct pd_arena *a, const struct pd_reply *r)
{
	struct pd_buf out;
	pd_buf_init(&out);
	pd_reply_render_msgpack(r, &out);
	size_t len = out.len;
	check_scan_byte_by_byte((const unsigned char *)out.data, len);
	pd_buf_adds(&out, "\x81\xa4" "code\xcd\x01\xf4");
	struct pd_mp_scan s;
	pd_mp_scan_init(&s);
	assert_int_equal(pd_mp_scan(&s, out.data, out.len), PD_UNPACK_OK);
	assert_int_equal(s.pos, len);
	size_t used;
	struct pd_value *v;
	assert_int_equal(unpack(a, out.data, out.len, &used, &v), PD_UNPACK_OK);
	assert_int_equal(used, len);
	pd_arena_reset(a);
	struct pd_reply_status st;
	assert_int_equal(pd_reply_status_from_msgpack(out.data, len, &st), 0);
	assert_int_equal(st.code, r->code);
	assert_int_equal(st.msg_len, strlen(r->msg));
	assert_memory_equal(st.msg, r->msg, st.msg_len);
	check_status_as_tree(a, out.data, len);
	assert_int_equal(pd_reply_status_from_msgpack(out.data + len, out.len - len, &st), 0);
	assert_int_equal(st.code, 500);
	for (size_t n = 0; n < len; n++) {
		char *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, out.data, n);
		if (pd_reply_status_from_msgpack(copy, n, &st) == 0)
			assert_int_equal(st.code, r->code); /* code and msg came first */
		free(copy);
	}
	pd_buf_free(&out);
}

/* A waybill-like record: nested maps, a list of events, every scalar type
 * and string width. */
static struct pd_value *reply_record(struct pd_arena *a, int events)
{
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "number", "000000000005");
	pd_map_set_str(a, rec, "status", "in_transit");
	pd_map_set_str(a, rec, "sender_name", "\xe7\x8e\x8b\xe8\x8a\xb3");
	pd_map_set_int(a, rec, "fee_fen", 1800);
	pd_map_set_int(a, rec, "weight_g", 70000);
	pd_map_set_int(a, rec, "promised_at", 1795500000);
	pd_map_set_int(a, rec, "amount_fen", 5000000000LL);
	pd_map_set_int(a, rec, "late_secs", -40000);
	pd_map_set_bool(a, rec, "late", false);
	pd_map_set(a, rec, "signer", pd_nil(a));
	char note[300];
	memset(note, 'n', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	pd_map_set_str(a, rec, "note", note);          /* str 16 */
	note[40] = '\0';
	pd_map_set_str(a, rec, "remark", note);        /* str 8 */
	struct pd_value *list = pd_arr(a);
	for (int i = 0; i < events; i++) {
		struct pd_value *ev = pd_map(a);
		pd_map_set_str(a, ev, "event", i % 2 ? "arrived" : "departed");
		pd_map_set_str(a, ev, "depot", "BENCH01");
		pd_map_set_int(a, ev, "at", 1795400000 + i * 3600);
		pd_arr_push(a, list, ev);
	}
	pd_map_set(a, rec, "events", list);
	return rec;
}

static void test_reply_framed_and_status_read(void **state)
{
	struct pd_arena *a = *state;
	struct pd_arena data_arena;
	pd_arena_init(&data_arena);
	struct pd_value *rec = reply_record(&data_arena, 20);

	/* a record, as a tree and as kept packed */
	struct pd_reply r = { .code = 200, .msg = "waybill 000000000005: in_transit", .data = rec };
	check_reply(a, &r);
	char *packed;
	size_t packed_len;
	assert_int_equal(pd_value_to_msgpack(rec, &packed, &packed_len), 0);
	struct pd_reply kept = { .code = 200, .msg = "kept", .packed = packed,
				 .packed_len = packed_len };
	check_reply(a, &kept);
	free(packed);

	/* no data, an error, a msg of each string width */
	check_reply(a, &(struct pd_reply){ .code = 404, .msg = "no such waybill" });
	check_reply(a, &(struct pd_reply){ .code = 500, .msg = "" });
	char msg[70000];
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	check_reply(a, &(struct pd_reply){ .code = 413, .msg = msg }); /* str 32 */
	msg[300] = '\0';
	check_reply(a, &(struct pd_reply){ .code = 429, .msg = msg }); /* str 16 */

	/* a list of records; a list of 70,000 items (array 32) */
	struct pd_value *list = pd_arr(&data_arena);
	for (int i = 0; i < 3; i++)
		pd_arr_push(&data_arena, list, reply_record(&data_arena, i));
	check_reply(a, &(struct pd_reply){ .code = 200, .msg = "3 waybills", .data = list });
	struct pd_value *big = pd_arr(&data_arena);
	for (int i = 0; i < 70000; i++)
		pd_arr_push(&data_arena, big, pd_int(&data_arena, i));
	struct pd_value *wrap = pd_map(&data_arena);
	pd_map_set(&data_arena, wrap, "items", big);
	struct pd_reply large = { .code = 200, .msg = "large", .data = wrap };
	struct pd_buf out;
	pd_buf_init(&out);
	pd_reply_render_msgpack(&large, &out);
	struct pd_mp_scan s;
	pd_mp_scan_init(&s);
	assert_int_equal(pd_mp_scan(&s, out.data, out.len), PD_UNPACK_OK);
	assert_int_equal(s.pos, out.len);
	check_status_as_tree(a, out.data, out.len);
	pd_buf_free(&out);
	pd_arena_free(&data_arena);
}

/* Replies nested as deep as the decoder takes, and one level more. */
static void test_reply_depth(void **state)
{
	struct pd_arena *a = *state;
	for (int levels = PD_UNPACK_MAX_DEPTH - 1; levels <= PD_UNPACK_MAX_DEPTH; levels++) {
		struct bytes data = { 0 };
		for (int i = 0; i < levels - 1; i++)
			put8(&data, 0x91);
		put8(&data, 0x90);
		/* the reply map is one level more than its data */
		struct pd_reply r = { .code = 200, .msg = "deep", .packed = (const char *)data.p,
				      .packed_len = data.len };
		struct pd_buf out;
		pd_buf_init(&out);
		pd_reply_render_msgpack(&r, &out);
		struct pd_mp_scan s;
		pd_mp_scan_init(&s);
		size_t used;
		struct pd_value *v;
		enum pd_unpack_status want = levels + 1 > PD_UNPACK_MAX_DEPTH ? PD_UNPACK_TOO_DEEP
									      : PD_UNPACK_OK;
		assert_int_equal(unpack(a, out.data, out.len, &used, &v), want);
		assert_int_equal(pd_mp_scan(&s, out.data, out.len), want);
		pd_arena_reset(a);
		pd_buf_free(&out);
		bytes_free(&data);
	}
}

/* Maps that are not what the daemon writes: read as the tree reads them. */
static void test_reply_status_edge_cases(void **state)
{
	struct pd_arena *a = *state;
	static const struct { const char *bytes; size_t len; int rc, code; const char *msg; } cases[] = {
		/* data first, then msg and code: the container is stepped over */
		{ B("\x83\xa4" "data\x81\xa1k\x92\x91\x01\xa2xy\xa3msg\xa1m\xa4" "code\xcd\x01\x94"),
		  0, 404, "m" },
		{ B("\x81\xa4" "code\xcc\xc8"), 0, 200, "" },              /* no msg */
		{ B("\x82\xa4" "code\xcc\xc8\xa3msg\x05"), 0, 200, "" },   /* msg not a string */
		{ B("\x82\xa4" "code\xd1\xff\x38\xa3msg\xa1x"), 0, -200, "x" },
		{ B("\x82\xa4" "code\xc9\x01\xa3msg\xa1x"), -1, 0, "" },   /* code not an integer */
		{ B("\x81\xa4" "code\xa3" "200"), -1, 0, "" },
		{ B("\x81\xa3msg\xa1x"), -1, 0, "" },                      /* no code */
		{ B("\x80"), -1, 0, "" },
		{ B("\x92\xcc\xc8\xa1x"), -1, 0, "" },                     /* an array */
		{ B("\xc0"), -1, 0, "" },
		{ B("\xc1"), -1, 0, "" },
		{ B(""), -1, 0, "" },
		{ B("\x82\x01\x02\xa4" "code\xcc\xc8"), -1, 0, "" },       /* integer key */
		/* the first "code" and the first "msg" count, as pd_map_get finds them */
		{ B("\x84\xa4" "code\xcc\xc9\xa3msg\xa1" "a\xa4" "code\xcd\x01\xf4\xa3msg\xa1" "b"),
		  0, 201, "a" },
		{ B("\x83\xa5" "codex\x01\xa3" "cod\x02\xa4" "code\xcc\xca"), 0, 202, "" },
		{ B("\x82\xa3msg\xc0\xa4" "code\xcc\xcb"), 0, 203, "" },
		{ B("\x82\xa4" "code\xcc\xcc\xa3msg\xd9\x01z"), 0, 204, "z" }, /* str 8 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pd_reply_status st = { 0 };
		int rc = pd_reply_status_from_msgpack(cases[i].bytes, cases[i].len, &st);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %d, want %d", i, rc, cases[i].rc);
		if (rc == 0 && (st.code != cases[i].code || st.msg_len != strlen(cases[i].msg) ||
				memcmp(st.msg, cases[i].msg, st.msg_len) != 0))
			fail_msg("case %zu: %d '%.*s'", i, st.code, (int)st.msg_len, st.msg);
		check_status_as_tree(a, cases[i].bytes, cases[i].len);
	}
}

/* ---- encoder round trips ---- */

/* Appends a map entry without pd_map_set's duplicate search (for big maps). */
static void map_append(struct pd_arena *a, struct pd_value *m, const char *key,
		       struct pd_value *v)
{
	struct pd_entry *e = pd_alloc(a, sizeof(*e));
	e->key = pd_strdup(a, key);
	e->key_len = strlen(key);
	e->val = v;
	if (m->u.c.tail)
		m->u.c.tail->next = e;
	else
		m->u.c.head = e;
	m->u.c.tail = e;
	m->u.c.count++;
}

static void check_round_trip(struct pd_arena *a, const struct pd_value *v)
{
	char *buf;
	size_t len;
	assert_int_equal(pd_value_to_msgpack(v, &buf, &len), 0);
	struct pd_value *back = unpack_all(a, buf, len);
	if (!values_equal(v, back))
		fail_msg("round trip changed the value (%zu bytes)", len);
	free(buf);
}

static void test_round_trip_ints(void **state)
{
	struct pd_arena *a = *state;
	static const int64_t ints[] = {
		0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
		INT64_MAX, -1, -31, -32, -33, -127, -128, -129, -32767, -32768, -32769,
		INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN, 1000000000000000LL,
	};
	struct pd_value *arr = pd_arr(a);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		check_round_trip(a, pd_int(a, ints[i]));
		pd_arr_push(a, arr, pd_int(a, ints[i]));
	}
	check_round_trip(a, arr);
}

static void test_round_trip_strings(void **state)
{
	struct pd_arena *a = *state;
	static const size_t lens[] = { 0, 1, 31, 32, 255, 256, 65535, 65536, 100000 };
	char *s = malloc(100000);
	assert_non_null(s);
	for (size_t i = 0; i < 100000; i++)
		s[i] = (char)(i * 7 % 256);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		check_round_trip(a, pd_strn(a, s, lens[i]));
		pd_arena_reset(a);
	}
	free(s);
}

static void test_round_trip_containers(void **state)
{
	struct pd_arena *a = *state;
	static const size_t counts[] = { 0, 1, 15, 16, 65535, 65536 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct pd_value *arr = pd_arr(a);
		struct pd_value *map = pd_map(a);
		for (size_t i = 0; i < counts[c]; i++) {
			char key[32];
			snprintf(key, sizeof(key), "k%zu", i);
			pd_arr_push(a, arr, pd_int(a, (int64_t)i));
			map_append(a, map, key, i % 2 ? pd_str(a, key) : pd_bool(a, i % 4 == 0));
		}
		check_round_trip(a, arr);
		check_round_trip(a, map);
		pd_arena_reset(a);
	}
}

static void test_round_trip_record(void **state)
{
	struct pd_arena *a = *state;
	/* a stored record: nested map and list, every scalar type */
	struct pd_value *rec = pd_map(a);
	pd_map_set_str(a, rec, "number", "0001878765");
	pd_map_set_str(a, rec, "receiver_name", "\xe7\x8e\x8b\xe8\x8a\xb3");
	pd_map_set_int(a, rec, "fee_fen", 1200);
	pd_map_set_int(a, rec, "promised_at", 1795500000);
	pd_map_set_bool(a, rec, "insured", false);
	pd_map_set(a, rec, "signer", pd_nil(a));
	struct pd_value *events = pd_arr(a);
	for (int i = 0; i < 20; i++) {
		struct pd_value *ev = pd_map(a);
		pd_map_set_str(a, ev, "event", i % 2 ? "arrived" : "departed");
		pd_map_set_int(a, ev, "at", 1795400000 + i * 3600);
		pd_arr_push(a, events, ev);
	}
	pd_map_set(a, rec, "events", events);
	check_round_trip(a, rec);

	/* a deep copy packs to the same bytes */
	struct pd_value *copy = pd_value_copy(a, rec);
	assert_true(values_equal(rec, copy));
	char *b1, *b2;
	size_t l1, l2;
	assert_int_equal(pd_value_to_msgpack(rec, &b1, &l1), 0);
	assert_int_equal(pd_value_to_msgpack(copy, &b2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	free(b1);
	free(b2);
}

static void test_random_round_trips(void **state)
{
	struct pd_arena *a = *state;
	srand(20261124);
	for (int round = 0; round < 300; round++) {
		struct pd_value *top = pd_arr(a);
		struct pd_value *stack[PD_UNPACK_MAX_DEPTH] = { top };
		int depth = 1;
		int items = rand() % 60;
		for (int i = 0; i < items; i++) {
			struct pd_value *cur = stack[depth - 1];
			struct pd_value *v;
			switch (rand() % 8) {
			case 0: v = pd_nil(a); break;
			case 1: v = pd_bool(a, rand() % 2); break;
			case 2: v = pd_int(a, (int64_t)rand() - RAND_MAX / 2); break;
			case 3: v = pd_int(a, (int64_t)(((uint64_t)rand() << 33) ^ (uint64_t)rand())); break;
			case 4: {
				char s[40];
				int n = rand() % 40;
				for (int k = 0; k < n; k++)
					s[k] = (char)(rand() % 256);
				v = pd_strn(a, s, (size_t)n);
				break;
			}
			case 5:
			case 6:
				/* never deeper than the decoder takes */
				if (depth >= PD_UNPACK_MAX_DEPTH)
					continue;
				v = rand() % 2 ? pd_map(a) : pd_arr(a);
				break;
			default:
				if (depth > 1)
					depth--;
				continue;
			}
			if (cur->type == PD_MAP) {
				char key[32];
				snprintf(key, sizeof(key), "k%d", i);
				map_append(a, cur, key, v);
			} else {
				pd_arr_push(a, cur, v);
			}
			if (v->type == PD_MAP || v->type == PD_ARR)
				stack[depth++] = v;
		}
		check_round_trip(a, top);
		pd_arena_reset(a);
	}
}

/* ---- requests from msgpack ---- */

struct req_result {
	int rc;
	struct pd_request req;
	struct pd_error err;
};

/* Reads buf, all of it one msgpack object, as the daemon does (straight
 * from the bytes); its decoded tree, read with pd_request_from_msgpack(),
 * must give the same answer. */
static struct req_result from_bytes(struct pd_arena *a, const void *buf, size_t len)
{
	struct req_result r, t;
	memset(&r, 0, sizeof(r));
	memset(&t, 0, sizeof(t));
	size_t used = 0;
	assert_int_equal(pd_request_read_msgpack(a, buf, len, &used, &r.req, &r.err),
			 PD_UNPACK_OK);
	assert_int_equal(used, len);
	r.rc = r.err.code ? -1 : 0;
	t.rc = pd_request_from_msgpack(a, unpack_all(a, buf, len), &t.req, &t.err);
	assert_int_equal(t.rc, r.rc);
	if (r.rc < 0) {
		assert_int_equal(t.err.code, r.err.code);
		assert_string_equal(t.err.msg, r.err.msg);
	} else {
		assert_int_equal(t.req.word_count, r.req.word_count);
		assert_true(values_equal(t.req.named, r.req.named));
	}
	return r;
}

static void assert_req_refused(const struct req_result *r, const char *fragment)
{
	assert_int_equal(r->rc, -1);
	assert_int_equal(r->err.code, 400);
	if (!strstr(r->err.msg, fragment))
		fail_msg("message '%s' does not hold '%s'", r->err.msg, fragment);
}

static void test_request_words_and_named(void **state)
{
	struct pd_arena *a = *state;
	/* ["waybill", "get", "0001878765"] */
	struct bytes b = { 0 };
	put8(&b, 0x93);
	put_fixstr(&b, "waybill");
	put_fixstr(&b, "get");
	put_fixstr(&b, "0001878765");
	struct req_result r = from_bytes(a, b.p, b.len);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.req.framing, PD_FRAMING_MSGPACK);
	assert_int_equal(r.req.word_count, 3);
	assert_string_equal(r.req.words[2]->u.s.ptr, "0001878765");
	assert_non_null(r.req.named);
	assert_int_equal(r.req.named->u.c.count, 0);
	bytes_free(&b);

	/* ["SCAN", "986825", "arrived", {"depot": "BJ02", "at": nil, "n": 5, "f": true}] */
	put8(&b, 0x94);
	put_fixstr(&b, "SCAN");
	put_fixstr(&b, "986825");
	put_fixstr(&b, "arrived");
	put8(&b, 0x84);
	put_fixstr(&b, "depot"); put_fixstr(&b, "BJ02");
	put_fixstr(&b, "at"); put8(&b, 0xc0);
	put_fixstr(&b, "n"); put8(&b, 5);
	put_fixstr(&b, "f"); put8(&b, 0xc3);
	r = from_bytes(a, b.p, b.len);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.req.word_count, 3);
	assert_int_equal(r.req.named->u.c.count, 4);
	assert_string_equal(pd_map_str(r.req.named, "depot"), "BJ02");
	assert_int_equal(pd_map_get(r.req.named, "at")->type, PD_NIL);
	int64_t n;
	assert_true(pd_map_int(r.req.named, "n", &n));
	assert_int_equal(n, 5);
	assert_true(pd_map_bool(r.req.named, "f"));
	bytes_free(&b);
}

static void test_request_integers_as_words(void **state)
{
	struct pd_arena *a = *state;
	/* ["WAYBILL", "GET", 986825, -3] */
	const unsigned char buf[] = { 0x94, 0xa7, 'W', 'A', 'Y', 'B', 'I', 'L', 'L',
				      0xa3, 'G', 'E', 'T', 0xce, 0x00, 0x0f, 0x0e, 0xc9,
				      0xfd };
	struct req_result r = from_bytes(a, buf, sizeof(buf));
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.req.word_count, 4);
	assert_int_equal(r.req.words[2]->type, PD_INT);
	assert_int_equal(r.req.words[2]->u.i, 986825);
	assert_int_equal(r.req.words[3]->type, PD_INT);
	assert_int_equal(r.req.words[3]->u.i, -3);
}

static void test_request_shape_errors(void **state)
{
	struct pd_arena *a = *state;
	static const struct { const char *bytes; size_t len; const char *fragment; } bad[] = {
		{ B("\xa4PING"), "non-empty array" },               /* a string */
		{ B("\x81\xa1k\x01"), "non-empty array" },          /* a map */
		{ B("\x05"), "non-empty array" },                   /* an integer */
		{ B("\xc0"), "non-empty array" },                   /* nil */
		{ B("\x90"), "non-empty array" },                   /* empty */
		{ B("\xdc\x00\x00"), "non-empty array" },           /* empty array 16 */
		{ B("\x91\x80"), "command word" },                  /* only a map */
		{ B("\x91\x81\xa1k\x01"), "command word" },
		{ B("\x93\xa1x\x81\xa1k\x01\xa1y"), "word 2" },     /* map not last */
		{ B("\x93\xa1x\x80\x80"), "word 2" },               /* two maps */
		{ B("\x92\xa1x\x91\xa1y"), "word 2" },              /* array as a word */
		{ B("\x92\xa1x\xc3"), "word 2" },                   /* bool as a word */
		{ B("\x93\xa1x\xa1y\xc0"), "word 3" },              /* nil as a word */
		{ B("\x92\xa1x\x81\xa1k\x91\x01"), "'k' must be a string, integer or boolean" },
		{ B("\x92\xa1x\x81\xa1k\x81\xa1j\x01"), "'k' must be a string, integer or boolean" },
		{ B("\x92\xa1x\x81\xa1K\x01"), "bad argument name" },
		{ B("\x92\xa1x\x81\xa3k-k\x01"), "bad argument name" },
		{ B("\x92\xa1x\x81\xa0\x01"), "bad argument name" },
		{ B("\x92\xa1x\x81\xa3k\0k\x01"), "bad argument name" },
		{ B("\x92\xa1x\x82\xa1k\x01\xa1k\x02"), "'k' given twice" },
		{ B("\x92\xa1x\xa2\xc0\xaf"), "invalid UTF-8" },     /* word */
		{ B("\x91\xa3\xed\xa0\x80"), "invalid UTF-8" },  /* command word */
		{ B("\x92\xa1x\x81\xa1k\xa1\xff"), "invalid UTF-8" }, /* named value */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct req_result r = from_bytes(a, bad[i].bytes, bad[i].len);
		if (r.rc == 0)
			fail_msg("case %zu accepted", i);
		assert_req_refused(&r, bad[i].fragment);
		pd_arena_reset(a);
	}
}

/* What the daemon answered each of these frames with when it decoded them
 * into a tree before checking the request (round 7; the same cases gave the
 * same answers there): a frame that does not decode is refused as such
 * (the connection closed) even where a word before the fault is wrong, and
 * a shape error is the first in the request's order. */
static void test_request_errors_as_decoded_first(void **state)
{
	struct pd_arena *a = *state;
	static const struct {
		const char *bytes;
		size_t len;
		enum pd_unpack_status st;
		size_t used;     /* with PD_UNPACK_OK */
		const char *msg; /* with PD_UNPACK_OK: the 400's message, NULL when taken */
	} cases[] = {
		/* trailing bytes are the next frame's: not read */
		{ B("\x93\xa7WAYBILL\xa3GET\xac" "000000000003\xc0\xc1"), PD_UNPACK_OK, 26, NULL },
		{ B("\x92\xa1x\xc3\x81\x01\x02"), PD_UNPACK_OK, 4,
		  "word 2 must be a string or an integer" },
		/* a wrong word, then bytes that do not decode */
		{ B("\x93\xa1x\xc3\xca\0\0\0\0"), PD_UNPACK_MALFORMED, 0, NULL }, /* float */
		{ B("\x93\xa1x\xc3\xa1"), PD_UNPACK_INCOMPLETE, 0, NULL },      /* truncated */
		{ B("\x92\xa1x\xc1"), PD_UNPACK_MALFORMED, 0, NULL },            /* never used */
		{ B("\x92\xa1x\xcf\x80\0\0\0\0\0\0\0"), PD_UNPACK_MALFORMED, 0, NULL },
		/* map keys: a string, of any string header, or the frame is malformed */
		{ B("\x92\xa1x\x81\x01\x02"), PD_UNPACK_MALFORMED, 0, NULL },
		{ B("\x92\xa1x\x81\xd9\x01k\x01"), PD_UNPACK_OK, 8, NULL },
		{ B("\x92\xa1x\x81\x91\xa1k\x01"), PD_UNPACK_MALFORMED, 0, NULL },
		/* a bad name before a key that is not a string */
		{ B("\x92\xa1x\x82\xa1K\x01\x01\x02"), PD_UNPACK_MALFORMED, 0, NULL },
		/* too deep: as a word, as a named value, as a key (the key's
		 * depth is found before its type) */
		{ B("\x92\xa1x\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x01"),
		  PD_UNPACK_TOO_DEEP, 0, NULL },
		{ B("\x92\xa1x\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x01"),
		  PD_UNPACK_OK, 19, "word 2 must be a string or an integer" },
		{ B("\x92\xa1x\x81\xa1k\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x01"),
		  PD_UNPACK_TOO_DEEP, 0, NULL },
		{ B("\x92\xa1x\x81\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x01\x02"),
		  PD_UNPACK_TOO_DEEP, 0, NULL },
		/* huge lengths and counts: more bytes needed, nothing allocated */
		{ B("\x92\xc0\xdb\xff\xff\xff\xff" "A"), PD_UNPACK_INCOMPLETE, 0, NULL },
		{ B("\x92\xa1x\xdd\xff\xff\xff\xff\x01"), PD_UNPACK_INCOMPLETE, 0, NULL },
		{ B("\x92\xa1x\xdf\xff\xff\xff\xff\xa1k\x01"), PD_UNPACK_INCOMPLETE, 0, NULL },
		{ B("\xdd\xff\xff\xff\xff\xa1x"), PD_UNPACK_INCOMPLETE, 0, NULL },
		/* the first of two errors in the request's order */
		{ B("\x92\xa1x\x82\xa1k\x01\xa1k\x02\xc0"), PD_UNPACK_OK, 10, "argument 'k' given twice" },
		{ B("\x92\xa1x\x82\xa1k\xa1\xff\xa1K\x01"), PD_UNPACK_OK, 11, "bad argument name 'K'" },
		{ B("\x92\xa1x\x82\xa1k\xa1\xff\xa1j\x91\x01"), PD_UNPACK_OK, 12,
		  "argument 'j' must be a string, integer or boolean" },
		{ B("\x93\xa2\xc0\xaf\xc3\x80"), PD_UNPACK_OK, 6, "invalid UTF-8" },
		{ B("\x92\xc3\x81\xa1K\x01"), PD_UNPACK_OK, 6, "word 1 must be a string or an integer" },
		{ B("\x91\x81\xa1k\xa1\xff"), PD_UNPACK_OK, 6, "invalid UTF-8" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pd_request req;
		struct pd_error err;
		size_t used = 0;
		enum pd_unpack_status st = pd_request_read_msgpack(a, cases[i].bytes, cases[i].len,
								   &used, &req, &err);
		if (st != cases[i].st)
			fail_msg("case %zu: status %d, not %d", i, (int)st, (int)cases[i].st);
		if (st == PD_UNPACK_OK) {
			assert_int_equal(used, cases[i].used);
			if (cases[i].msg) {
				assert_int_equal(err.code, 400);
				assert_string_equal(err.msg, cases[i].msg);
			} else {
				assert_int_equal(err.code, 0);
			}
		}
		pd_arena_reset(a);
	}
}

/* Whatever the bytes, the reader's status and length are the decoder's:
 * every cut of requests good and bad, and each with a byte changed. */
static void test_request_status_is_the_decoders(void **state)
{
	struct pd_arena *a = *state;
	static const struct { const char *bytes; size_t len; } reqs[] = {
		{ B("\x94\xa4SCAN\xa6" "986825\xa7" "arrived\x84\xa5" "depot\xa4" "BJ02\xa2" "at\xc0\xa1n\x05\xa1" "f\xc3") },
		{ B("\x94\xa7WAYBILL\xa3GET\xce\x00\x0f\x0e\xc9\xfd") },
		{ B("\x93\xa1x\x81\xa1k\x01\xa1y") },
		{ B("\x92\xa1x\x82\xa1K\x01\x91\x91\xa1k\x02") },
		{ B("\x92\xa1x\x81\xa1k\x81\xa1j\x81\x01\x02") },
		{ B("\x92\xa1x\xde\x00\x02\xa1" "a\x01\xa1" "b\xc2") },
	};
	static const unsigned char subst[] = { 0x00, 0x81, 0x91, 0xa1, 0xc0, 0xc1, 0xc3,
					       0xca, 0xcf, 0xd9, 0xdd, 0xdf, 0xff, 'K' };
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		unsigned char m[64];
		size_t n = reqs[i].len;
		assert_true(n <= sizeof(m));
		for (size_t at = 0; at <= n; at++) {
			for (size_t k = 0; k <= sizeof(subst); k++) {
				memcpy(m, reqs[i].bytes, n);
				size_t len = n;
				if (k == sizeof(subst))
					len = at; /* cut */
				else if (at < n)
					m[at] = subst[k];
				else
					break;
				struct pd_request req;
				struct pd_error err;
				struct pd_value *v;
				size_t used = 0, dused = 0;
				enum pd_unpack_status st = pd_request_read_msgpack(a, (const char *)m, len,
										   &used, &req, &err);
				enum pd_unpack_status dst = pd_value_unpack(a, (const char *)m, len, &dused, &v);
				if (st != dst)
					fail_msg("request %zu, byte %zu as %zu: status %d, the decoder's %d",
						 i, at, k, (int)st, (int)dst);
				if (st == PD_UNPACK_OK)
					assert_int_equal(used, dused);
				pd_arena_reset(a);
			}
		}
	}
}

static void test_request_limits(void **state)
{
	struct pd_arena *a = *state;
	for (size_t words = PD_MAX_WORDS; words <= PD_MAX_WORDS + 1; words++) {
		struct bytes b = { 0 };
		put8(&b, 0xdc);
		put_be(&b, words, 2);
		for (size_t i = 0; i < words; i++)
			put8(&b, (unsigned)(i % 100));
		struct req_result r = from_bytes(a, b.p, b.len);
		if (words == PD_MAX_WORDS) {
			assert_int_equal(r.rc, 0);
			assert_int_equal(r.req.word_count, PD_MAX_WORDS);
		} else {
			assert_req_refused(&r, "too many words");
		}
		bytes_free(&b);
		pd_arena_reset(a);
	}
	for (size_t named = PD_MAX_NAMED_ARGS; named <= PD_MAX_NAMED_ARGS + 1; named++) {
		struct bytes b = { 0 };
		put8(&b, 0x92);
		put_fixstr(&b, "x");
		put8(&b, 0xde);
		put_be(&b, named, 2);
		for (size_t i = 0; i < named; i++) {
			char key[32];
			snprintf(key, sizeof(key), "k%zu", i);
			put_fixstr(&b, key);
			put8(&b, 1);
		}
		struct req_result r = from_bytes(a, b.p, b.len);
		if (named == PD_MAX_NAMED_ARGS) {
			assert_int_equal(r.rc, 0);
			assert_int_equal(r.req.named->u.c.count, PD_MAX_NAMED_ARGS);
		} else {
			assert_req_refused(&r, "too many named arguments");
		}
		bytes_free(&b);
		pd_arena_reset(a);
	}
}

static void test_request_same_as_text(void **state)
{
	struct pd_arena *a = *state;
	/* both framings give the same words and named arguments */
	const char *line = "complaint open waybill=986825 text=\"parcel never arrived\"";
	struct pd_request text;
	struct pd_error err;
	assert_int_equal(pd_parse_text_line(a, line, strlen(line), &text, &err), 0);

	struct bytes b = { 0 };
	put8(&b, 0x93);
	put_fixstr(&b, "complaint");
	put_fixstr(&b, "open");
	put8(&b, 0x82);
	put_fixstr(&b, "waybill"); put_fixstr(&b, "986825");
	put_fixstr(&b, "text"); put_fixstr(&b, "parcel never arrived");
	struct req_result r = from_bytes(a, b.p, b.len);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.req.word_count, text.word_count);
	for (size_t i = 0; i < text.word_count; i++)
		assert_true(values_equal(text.words[i], r.req.words[i]));
	assert_true(values_equal(text.named, r.req.named));
	bytes_free(&b);
}

/* pd_pack_str() writes what msgpack-c writes for every length, at each
 * header's edges; a fixstr in one call of the writer. */
static int count_calls(void *data, const char *buf, size_t len)
{
	(void)buf;
	(void)len;
	(*(int *)data)++;
	return 0;
}

static void test_pack_str_same_bytes(void **state)
{
	static char text[70000];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	static const size_t lens[] = { 0, 1, 30, 31, 32, 33, 255, 256, 65535, 65536, 69999 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		msgpack_sbuffer ours, theirs;
		msgpack_packer pk;
		msgpack_sbuffer_init(&ours);
		msgpack_sbuffer_init(&theirs);
		msgpack_packer_init(&pk, &ours, msgpack_sbuffer_write);
		assert_int_equal(pd_pack_str(&pk, text, lens[i]), 0);
		msgpack_packer_init(&pk, &theirs, msgpack_sbuffer_write);
		assert_int_equal(msgpack_pack_str_with_body(&pk, text, lens[i]), 0);
		assert_int_equal(ours.size, theirs.size);
		assert_memory_equal(ours.data, theirs.data, ours.size);
		msgpack_sbuffer_destroy(&ours);
		msgpack_sbuffer_destroy(&theirs);
		int calls = 0;
		msgpack_packer_init(&pk, &calls, count_calls);
		assert_int_equal(pd_pack_str(&pk, text, lens[i]), 0);
		assert_int_equal(calls, lens[i] < 32 ? 1 : 2);
	}
	/* a map of short and long keys and values: the bytes by hand */
	struct pd_arena *a = *state;
	struct pd_value *m = pd_map(a);
	pd_map_set_str(a, m, "k", "v");
	pd_map_set(a, m, "long", pd_strn(a, text, 40));
	char *buf;
	size_t len;
	assert_int_equal(pd_value_to_msgpack(m, &buf, &len), 0);
	struct bytes want = { 0 };
	put8(&want, 0x82);
	put_fixstr(&want, "k");
	put_fixstr(&want, "v");
	put_fixstr(&want, "long");
	put8(&want, 0xd9);
	put8(&want, 40);
	put(&want, text, 40);
	assert_int_equal(len, want.len);
	assert_memory_equal(buf, want.p, len);
	free(buf);
	bytes_free(&want);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_unpack_scalars),
		T(test_unpack_unsigned_ints),
		T(test_unpack_signed_ints),
		T(test_uint64_above_int64_max_is_refused),
		T(test_unpack_strings),
		T(test_unpack_arrays),
		T(test_unpack_maps),
		T(test_map_keys_of_every_string_header),
		T(test_used_counts_one_object),
		T(test_every_truncation_of_single_values),
		T(test_every_truncation_of_an_encoded_request),
		T(test_every_truncation_of_wide_headers),
		T(test_lying_headers_cost_nothing),
		T(test_malformed_types),
		T(test_nesting_limit),
		T(test_scan_stops_at_the_frames_end),
		T(test_reply_framed_and_status_read),
		T(test_reply_depth),
		T(test_reply_status_edge_cases),
		T(test_round_trip_ints),
		T(test_round_trip_strings),
		T(test_pack_str_same_bytes),
		T(test_round_trip_containers),
		T(test_round_trip_record),
		T(test_random_round_trips),
		T(test_request_words_and_named),
		T(test_request_integers_as_words),
		T(test_request_shape_errors),
		T(test_request_errors_as_decoded_first),
		T(test_request_status_is_the_decoders),
		T(test_request_limits),
		T(test_request_same_as_text),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
