/*
 * Unit tests for daemon/modules/volume.c's volume_key(): the counter's key
 * is what snprintf(key, VOLUME_KEY_MAX, "%s|%s|%06d|%s", ...) writes, byte
 * for byte, for every month (negative, short, wider than six digits) and
 * for ids and metrics long enough to be cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume.h"

static void check(const char *scope, const char *id, int month, const char *metric)
{
	char want[VOLUME_KEY_MAX], got[VOLUME_KEY_MAX];
	memset(got, 'x', sizeof(got));
	snprintf(want, sizeof(want), "%s|%s|%06d|%s", scope, id, month, metric);
	size_t n = volume_key(got, scope, id, month, metric);
	assert_string_equal(got, want);
	assert_int_equal(n, strlen(want));
}

static void test_key_as_snprintf(void **state)
{
	(void)state;
	static const int months[] = { 202612, 0, 1, 9, 99999, 100000, 999999, 1000000, 12345678,
				      INT_MAX, -1, -9, -99999, -100000, INT_MIN };
	for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++) {
		check("D", "BJ01", months[i], "delivered_on_time");
		check("C", "", months[i], "");
	}
	/* ids and metrics of every length up to past the key: cut as snprintf cuts */
	char id[200], metric[200];
	for (size_t n = 0; n < sizeof(id) - 1; n += 7) {
		memset(id, 'a' + (int)(n % 26), n);
		id[n] = '\0';
		memset(metric, 'm', n);
		metric[n] = '\0';
		check("N", id, 202612, "damaged");
		check("C", "ACME", -202612, metric);
		check("D", id, 7, metric);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_as_snprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
