/* SPDX-License-Identifier: MIT */
/* test_csum.c - the RFC 1071 checksum primitives against an independent byte-wise reference. */
#include "ring_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "csum.h"

/* The engine's folded checksum of @n bytes, as the big-endian number its memory bytes spell. */
static uint16_t engine_csum_be(const void *p, size_t n)
{
	return mem_as_be16(csum_fold(csum_add_bytes(p, n, 0)));
}

/* RFC 1071 section 3's worked example: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
static void test_rfc1071_example(void **state)
{
	static const uint8_t v[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	(void)state;

	assert_int_equal(engine_csum_be(v, sizeof(v)), (uint16_t)~0xddf2);
	/* and the reference agrees with the RFC, so the differential tests mean something */
	assert_int_equal(ref_csum(v, sizeof(v)), (uint16_t)~0xddf2);
}

/*
 * A well-known IPv4 header (20 bytes, checksum field zero); its checksum is
 * 0xb861. With the checksum in place, the whole header sums to zero.
 */
static void test_ipv4_header_vector(void **state)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t c;
	(void)state;

	assert_int_equal(engine_csum_be(h, sizeof(h)), 0xb861);
	/* store the engine's result as-is (memory order) and re-verify */
	c = csum_fold(csum_add_bytes(h, sizeof(h), 0));
	memcpy(h + 10, &c, 2);
	assert_int_equal(h[10], 0xb8);
	assert_int_equal(h[11], 0x61);
	assert_int_equal(csum_fold(csum_add_bytes(h, sizeof(h), 0)), 0);
}

/* Odd final byte is padded with zero on the right (RFC 1071: "the last octet is padded"). */
static void test_odd_length_padding(void **state)
{
	static const uint8_t a[3] = { 0x12, 0x34, 0x56 };
	static const uint8_t b[4] = { 0x12, 0x34, 0x56, 0x00 };
	static const uint8_t one[1] = { 0xab };
	(void)state;

	assert_int_equal(engine_csum_be(a, 3), engine_csum_be(b, 4));
	assert_int_equal(engine_csum_be(a, 3), (uint16_t)~(0x1234 + 0x5600));
	assert_int_equal(engine_csum_be(one, 1), (uint16_t)~0xab00);
}

static void test_empty_and_zero(void **state)
{
	static const uint8_t z[64];
	(void)state;

	/* nothing summed: fold of 0 is the complement of 0 */
	assert_int_equal(csum_fold(csum_add_bytes(z, 0, 0)), 0xffff);
	assert_int_equal(csum_fold(csum_add_bytes(z, 64, 0)), 0xffff);
	/* len 0 leaves the running sum alone */
	assert_int_equal(csum_fold(csum_add_bytes(z, 0, 0x1234)), (uint16_t)~0x1234);
}

/* All-ones data: every word is 0xffff, the ones-complement "negative zero". */
static void test_all_ones(void **state)
{
	uint8_t *p = malloc(65536);
	(void)state;

	assert_non_null(p);
	memset(p, 0xff, 65536);
	for (size_t n = 2; n <= 65536; n = n * 2 + 2) {
		if (n > 65536)
			break;
		assert_int_equal(engine_csum_be(p, n), ref_csum(p, n));
		assert_int_equal(engine_csum_be(p, n), 0x0000);
	}
	/* the largest frame a ring slot chain can carry */
	assert_int_equal(engine_csum_be(p, 65535), ref_csum(p, 65535));
	free(p);
}

/* csum_fold alone: end-around carries of any 32-bit value, compared with the reference fold. */
static void test_fold_values(void **state)
{
	static const uint32_t v[] = { 0, 1, 0xffff, 0x10000, 0x1fffe, 0x2ddf0, 0xffff0000u,
				      0xfffffffeu, 0xffffffffu, 0x8000ffffu, 0x0001fffeu, 0x12345678u };
	uint8_t seed[4];
	(void)state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(csum_fold(v[i]), ref_fold(v[i]));
	for (uint32_t i = 0; i < 20000; i++) {
		uint32_t x;

		fixture_fill_random(seed, 4, i);
		memcpy(&x, seed, 4);
		assert_int_equal(csum_fold(x), ref_fold(x));
	}
}

/* Every length 0..2000 at every start alignment 0..7, pseudo-random data. */
static void test_differential_lengths_alignments(void **state)
{
	uint8_t *buf = malloc(2000 + 8 + 8);
	(void)state;

	assert_non_null(buf);
	for (unsigned align = 0; align < 8; align++) {
		for (size_t len = 0; len <= 2000; len++) {
			uint8_t *p = buf + align;

			fixture_fill_random(buf, 2016, (uint32_t)(len * 8 + align));
			assert_int_equal(engine_csum_be(p, len), ref_csum(p, len));
		}
	}
	free(buf);
}

/* Splitting a region at even offsets and chaining the running sum gives the whole's checksum. */
static void test_chained_sums(void **state)
{
	uint8_t buf[1601];
	(void)state;

	for (unsigned round = 0; round < 200; round++) {
		size_t len = 1 + (round * 7919u) % 1600;
		size_t cut1, cut2;
		uint32_t s;

		fixture_fill_random(buf, sizeof(buf), round + 77);
		cut1 = ((round * 31u) % (len + 1)) & ~(size_t)1;
		cut2 = cut1 + ((((round * 17u) % (len - cut1 + 1))) & ~(size_t)1);
		s = csum_add_bytes(buf, cut1, 0);
		s = csum_add_bytes(buf + cut1, cut2 - cut1, s);
		s = csum_add_bytes(buf + cut2, len - cut2, s);
		assert_int_equal(mem_as_be16(csum_fold(s)), ref_csum(buf, len));
	}
}

/* Unaligned, odd-address starts of even-length pieces in a chain (pieces at odd addresses). */
static void test_chained_unaligned_pieces(void **state)
{
	uint8_t buf[2048 + 1];
	(void)state;

	fixture_fill_random(buf, sizeof(buf), 4242);
	for (size_t piece = 2; piece <= 64; piece += 2) {
		const uint8_t *p = buf + 1;
		size_t len = 2000;
		uint32_t s = 0;

		for (size_t o = 0; o < len; o += piece) {
			size_t n = len - o < piece ? len - o : piece;

			s = csum_add_bytes(p + o, n, s);
		}
		assert_int_equal(mem_as_be16(csum_fold(s)), ref_csum(p, len));
	}
}

/* A region checksummed with its own checksum in place verifies to zero, at any even position. */
static void test_verify_to_zero(void **state)
{
	uint8_t buf[512];
	(void)state;

	for (size_t pos = 0; pos + 2 <= sizeof(buf); pos += 2) {
		uint16_t c;

		fixture_fill_random(buf, sizeof(buf), (uint32_t)pos);
		buf[pos] = buf[pos + 1] = 0;
		c = csum_fold(csum_add_bytes(buf, sizeof(buf), 0));
		memcpy(buf + pos, &c, 2);
		assert_int_equal(ref_fold(ref_sum(buf, sizeof(buf), 0)), 0);
		assert_int_equal(csum_fold(csum_add_bytes(buf, sizeof(buf), 0)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_ipv4_header_vector),
		cmocka_unit_test(test_odd_length_padding),
		cmocka_unit_test(test_empty_and_zero),
		cmocka_unit_test(test_all_ones),
		cmocka_unit_test(test_fold_values),
		cmocka_unit_test(test_differential_lengths_alignments),
		cmocka_unit_test(test_chained_sums),
		cmocka_unit_test(test_chained_unaligned_pieces),
		cmocka_unit_test(test_verify_to_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
