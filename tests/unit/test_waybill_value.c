/*
 * Unit tests for a waybill's stored value (daemon/modules/waybill_value.c):
 * the view, the newest events and the record split out of the layout,
 * values written before (the view and the record; the record alone)
 * recognised, and a cut or overlong value or event refused rather than
 * read past its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "waybill.h"

static void test_split(void **state)
{
	(void)state;
	/* 0xc1, view length 3, "abc", then a one-entry map {"a": 1} */
	static const unsigned char val[] = { 0xc1, 0, 0, 0, 3, 'a', 'b', 'c', 0x81, 0xa1, 'a', 0x01 };
	MDB_val v = { sizeof(val), (void *)val };
	struct waybill_value wv;
	assert_int_equal(waybill_value_split(&v, &wv), 0);
	assert_false(wv.legacy);
	/* written before the newest events moved in: all in `events` */
	assert_false(wv.has_recent);
	assert_int_equal(wv.recent.mv_size, 0);
	assert_int_equal(wv.view.mv_size, 3);
	assert_memory_equal(wv.view.mv_data, "abc", 3);
	assert_int_equal(wv.rec.mv_size, 4);
	assert_ptr_equal(wv.rec.mv_data, val + 8);
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *wb;
	assert_int_equal(waybill_value_record(&a, &v, &wb), 0);
	int64_t one = 0;
	assert_true(pd_map_int(wb, "a", &one));
	assert_int_equal(one, 1);
	/* no view */
	static const unsigned char bare[] = { 0xc1, 0, 0, 0, 0, 0x80 };
	v = (MDB_val){ sizeof(bare), (void *)bare };
	assert_int_equal(waybill_value_split(&v, &wv), 0);
	assert_false(wv.legacy);
	assert_int_equal(wv.view.mv_size, 0);
	assert_int_equal(wv.rec.mv_size, 1);
	pd_arena_free(&a);
}

static void test_written_before(void **state)
{
	(void)state;
	static const unsigned char val[] = { 0x81, 0xa1, 'a', 0x01 };
	MDB_val v = { sizeof(val), (void *)val };
	struct waybill_value wv;
	assert_int_equal(waybill_value_split(&v, &wv), 0);
	assert_true(wv.legacy);
	assert_false(wv.has_recent);
	assert_int_equal(wv.view.mv_size, 0);
	assert_int_equal(wv.rec.mv_size, sizeof(val));
	assert_ptr_equal(wv.rec.mv_data, val);
}

static void test_cut_or_overlong(void **state)
{
	(void)state;
	static const unsigned char val[] = { 0xc1, 0, 0, 0, 4, 'a', 'b', 'c', 0x80 };
	struct waybill_value wv;
	for (size_t n = 1; n < 5; n++) {
		MDB_val v = { n, (void *)val };
		assert_int_equal(waybill_value_split(&v, &wv), MDB_CORRUPTED);
	}
	/* a view as long as the rest leaves no record to read */
	MDB_val v = { 9, (void *)val };
	assert_int_equal(waybill_value_split(&v, &wv), 0);
	assert_int_equal(wv.rec.mv_size, 0);
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *wb;
	assert_int_equal(waybill_value_record(&a, &v, &wb), MDB_CORRUPTED);
	/* a view longer than the value */
	v.mv_size = 8;
	assert_int_equal(waybill_value_split(&v, &wv), MDB_CORRUPTED);
	pd_arena_free(&a);
}

/* A value with its newest events: head, view "vw", two events
 * {"seq": 3} {"seq": 4} (seq 1..2 spilled), record {"a": 1}. */
static size_t recent_value(unsigned char *out)
{
	static const unsigned char evs[] = { 0x81, 0xa3, 's', 'e', 'q', 0x03, 0x81, 0xa3, 's', 'e', 'q', 0x04 };
	static const unsigned char rec[] = { 0x81, 0xa1, 'a', 0x01 };
	struct waybill_value wv = { .view = { 2, NULL }, .recent = { sizeof(evs), NULL }, .spilled = 2, .recent_n = 2 };
	waybill_value_head(out, &wv);
	size_t n = WAYBILL_VALUE_HEAD_RECENT;
	memcpy(out + n, "vw", 2);
	memcpy(out + n + 2, evs, sizeof(evs));
	memcpy(out + n + 2 + sizeof(evs), rec, sizeof(rec));
	return n + 2 + sizeof(evs) + sizeof(rec);
}

static void test_recent_events(void **state)
{
	(void)state;
	unsigned char val[64];
	MDB_val v = { recent_value(val), val }, ev;
	assert_int_equal(val[0], WAYBILL_VALUE_TAG_RECENT);
	struct waybill_value wv;
	assert_int_equal(waybill_value_split(&v, &wv), 0);
	assert_false(wv.legacy);
	assert_true(wv.has_recent);
	assert_int_equal(wv.spilled, 2);
	assert_int_equal(wv.recent_n, 2);
	assert_int_equal(wv.view.mv_size, 2);
	assert_memory_equal(wv.view.mv_data, "vw", 2);
	assert_int_equal(wv.recent.mv_size, 12);
	assert_int_equal(wv.rec.mv_size, 4);
	/* the events one at a time, then nothing */
	const unsigned char *p = wv.recent.mv_data, *end = p + wv.recent.mv_size;
	assert_int_equal(waybill_recent_next(&p, end, &ev), 0);
	assert_int_equal(ev.mv_size, 6);
	assert_int_equal(((const unsigned char *)ev.mv_data)[5], 3);
	assert_int_equal(waybill_recent_next(&p, end, &ev), 0);
	assert_int_equal(((const unsigned char *)ev.mv_data)[5], 4);
	assert_ptr_equal(p, end);
	assert_int_equal(waybill_recent_next(&p, end, &ev), MDB_CORRUPTED);
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *wb;
	int64_t one = 0;
	assert_int_equal(waybill_value_record(&a, &v, &wb), 0);
	assert_true(pd_map_int(wb, "a", &one));
	assert_int_equal(one, 1);
	pd_arena_free(&a);
}

static void test_recent_corrupt(void **state)
{
	(void)state;
	unsigned char val[64], bad[64];
	size_t n = recent_value(val);
	struct waybill_value wv;
	MDB_val v = { n, bad };
	/* cut inside the head */
	memcpy(bad, val, n);
	for (size_t cut = 1; cut < WAYBILL_VALUE_HEAD_RECENT; cut++) {
		v.mv_size = cut;
		assert_int_equal(waybill_value_split(&v, &wv), MDB_CORRUPTED);
	}
	v.mv_size = n;
	/* the events' length past the value's end */
	be32_put(bad + 5, (uint32_t)n);
	assert_int_equal(waybill_value_split(&v, &wv), MDB_CORRUPTED);
	/* view and events together past it (each alone within it) */
	memcpy(bad, val, n);
	be32_put(bad + 1, (uint32_t)(n - WAYBILL_VALUE_HEAD_RECENT - 4));
	assert_int_equal(waybill_value_split(&v, &wv), MDB_CORRUPTED);
	/* more events than bytes, events without a count, a count that
	 * overflows seq */
	memcpy(bad, val, n);
	be32_put(bad + 13, 13);
	assert_int_equal(waybill_value_split(&v, &wv), MDB_CORRUPTED);
	be32_put(bad + 13, 0);
	assert_int_equal(waybill_value_split(&v, &wv), MDB_CORRUPTED);
	be32_put(bad + 13, 2);
	be32_put(bad + 9, UINT32_MAX);
	assert_int_equal(waybill_value_split(&v, &wv), MDB_CORRUPTED);
	/* an event whose string runs past the events' bytes: refused when read */
	memcpy(bad, val, n);
	bad[WAYBILL_VALUE_HEAD_RECENT + 2 + 6 + 1] = 0xa9; /* "seq" claims 9 bytes */
	assert_int_equal(waybill_value_split(&v, &wv), 0);
	const unsigned char *p = wv.recent.mv_data, *end = p + wv.recent.mv_size;
	MDB_val ev;
	assert_int_equal(waybill_recent_next(&p, end, &ev), 0);
	assert_int_equal(waybill_recent_next(&p, end, &ev), MDB_CORRUPTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_written_before),
		cmocka_unit_test(test_cut_or_overlong),
		cmocka_unit_test(test_recent_events),
		cmocka_unit_test(test_recent_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
