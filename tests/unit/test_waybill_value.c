/*
 * Unit tests for a waybill's stored value (daemon/modules/waybill_value.c):
 * the view and the record split out of the new layout, a value written
 * before (the record alone) recognised, and a cut or overlong value
 * refused rather than read past its end.
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
	MDB_val v = { sizeof(val), (void *)val }, view, rec;
	bool legacy = true;
	assert_int_equal(waybill_value_split(&v, &view, &rec, &legacy), 0);
	assert_false(legacy);
	assert_int_equal(view.mv_size, 3);
	assert_memory_equal(view.mv_data, "abc", 3);
	assert_int_equal(rec.mv_size, 4);
	assert_ptr_equal(rec.mv_data, val + 8);
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
	assert_int_equal(waybill_value_split(&v, &view, &rec, &legacy), 0);
	assert_false(legacy);
	assert_int_equal(view.mv_size, 0);
	assert_int_equal(rec.mv_size, 1);
	pd_arena_free(&a);
}

static void test_written_before(void **state)
{
	(void)state;
	static const unsigned char val[] = { 0x81, 0xa1, 'a', 0x01 };
	MDB_val v = { sizeof(val), (void *)val }, view, rec;
	bool legacy = false;
	assert_int_equal(waybill_value_split(&v, &view, &rec, &legacy), 0);
	assert_true(legacy);
	assert_int_equal(view.mv_size, 0);
	assert_int_equal(rec.mv_size, sizeof(val));
	assert_ptr_equal(rec.mv_data, val);
}

static void test_cut_or_overlong(void **state)
{
	(void)state;
	static const unsigned char val[] = { 0xc1, 0, 0, 0, 4, 'a', 'b', 'c', 0x80 };
	MDB_val view, rec;
	bool legacy;
	for (size_t n = 1; n < 5; n++) {
		MDB_val v = { n, (void *)val };
		assert_int_equal(waybill_value_split(&v, &view, &rec, &legacy), MDB_CORRUPTED);
	}
	/* a view as long as the rest leaves no record to read */
	MDB_val v = { 9, (void *)val };
	assert_int_equal(waybill_value_split(&v, &view, &rec, &legacy), 0);
	assert_int_equal(rec.mv_size, 0);
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *wb;
	assert_int_equal(waybill_value_record(&a, &v, &wb), MDB_CORRUPTED);
	/* a view longer than the value */
	v.mv_size = 8;
	assert_int_equal(waybill_value_split(&v, &view, &rec, &legacy), MDB_CORRUPTED);
	pd_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_written_before),
		cmocka_unit_test(test_cut_or_overlong),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
