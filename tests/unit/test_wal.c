/*
 * Unit tests for the write-ahead log's checksum (daemon/core/wal.c):
 * CRC-32C gives the published check values, and the same value as a
 * bit-by-bit reference for every length and alignment, whole or in
 * pieces (the hardware path takes 8 bytes a step, the rest bytewise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "wal.h"

static uint32_t crc_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

static void test_check_values(void **state)
{
	(void)state;
	unsigned char zeros[32] = { 0 }, ones[32];
	memset(ones, 0xff, sizeof(ones));
	/* RFC 3720, B.4, and the usual "123456789" check */
	assert_int_equal(wal_crc32c(0, zeros, 32), 0x8A9136AAu);
	assert_int_equal(wal_crc32c(0, ones, 32), 0x62A8AB43u);
	assert_int_equal(wal_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(wal_crc32c(0, "", 0), 0);
}

static void test_lengths_and_pieces(void **state)
{
	(void)state;
	unsigned char buf[300];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	for (size_t off = 0; off < 9; off++)
		for (size_t n = 0; off + n <= sizeof(buf); n++) {
			uint32_t want = crc_bitwise(0, buf + off, n);
			assert_int_equal(wal_crc32c(0, buf + off, n), want);
			size_t cut = n / 3;
			assert_int_equal(wal_crc32c(wal_crc32c(0, buf + off, cut), buf + off + cut, n - cut), want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_values),
		cmocka_unit_test(test_lengths_and_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
