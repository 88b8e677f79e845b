/* SPDX-License-Identifier: MIT */
/* test_xsvalue.c - strict parsing of peer-written XenStore numbers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "xsvalue.h"

/* Neighbouring fields with canaries: a parse must write only its target. */
struct fields {
	uint8_t before;
	uint8_t u8;
	uint8_t after8;
	uint16_t u16;
	uint16_t after16;
	uint32_t u32;
	uint32_t after32;
};

static void init_fields(struct fields *f)
{
	memset(f, 0xa5, sizeof(*f));
}

static void assert_canaries(const struct fields *f)
{
	assert_int_equal(f->before, 0xa5);
	assert_int_equal(f->after8, 0xa5);
	assert_int_equal(f->after16, 0xa5a5);
	assert_int_equal(f->after32, 0xa5a5a5a5u);
}

static int parse8(const char *s, uint8_t *out)
{
	return xsvalue_parse_u8(s, strlen(s), out);
}

static void test_u8_writes_only_its_field(void **state)
{
	struct fields f;

	(void)state;
	init_fields(&f);
	assert_int_equal(parse8("0", &f.u8), 0);
	assert_int_equal(f.u8, 0);
	assert_canaries(&f);
	assert_int_equal(parse8("255", &f.u8), 0);
	assert_int_equal(f.u8, 255);
	assert_canaries(&f);
}

static void test_u16_writes_only_its_field(void **state)
{
	struct fields f;

	(void)state;
	init_fields(&f);
	assert_int_equal(xsvalue_parse_u16("65535", 5, &f.u16), 0);
	assert_int_equal(f.u16, 65535);
	assert_int_equal(xsvalue_parse_u16("1234", 4, &f.u16), 0);
	assert_int_equal(f.u16, 1234);
	assert_canaries(&f);
	assert_int_equal(f.u8, 0xa5);
}

static void test_out_of_range_rejected_and_untouched(void **state)
{
	struct fields f;

	(void)state;
	init_fields(&f);
	assert_int_equal(parse8("256", &f.u8), -ERANGE);
	assert_int_equal(f.u8, 0xa5);
	assert_int_equal(xsvalue_parse_u16("65536", 5, &f.u16), -ERANGE);
	assert_int_equal(f.u16, 0xa5a5);
	assert_int_equal(xsvalue_parse_u32("4294967296", 10, &f.u32), -ERANGE);
	assert_int_equal(f.u32, 0xa5a5a5a5u);
	assert_int_equal(xsvalue_parse_u32("99999999999999999999999999", 26, &f.u32), -ERANGE);
	assert_int_equal(f.u32, 0xa5a5a5a5u);
	assert_canaries(&f);
}

static void test_garbage_rejected(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "0x10", "12a", "a12", "1.5", "1\n", "١",
	};
	uint32_t v = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xsvalue_parse_u32(bad[i], strlen(bad[i]), &v), -EINVAL);
		assert_int_equal(v, 77);
	}
	/* An embedded NUL is garbage; a single trailing one is tolerated. */
	assert_int_equal(xsvalue_parse_u32("1\0002", 3, &v), -EINVAL);
	assert_int_equal(xsvalue_parse_u32("42\0", 3, &v), 0);
	assert_int_equal(v, 42);
}

static void test_not_nul_terminated(void **state)
{
	/* Only the given length is read: the digits after it do not count. */
	const char buf[] = { '1', '2', '3', '4' };
	uint16_t v = 0;

	(void)state;
	assert_int_equal(xsvalue_parse_u16(buf, 2, &v), 0);
	assert_int_equal(v, 12);
}

static void test_leading_zeros_and_max(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(xsvalue_parse_u32("000000000000000000000000007", 27, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(xsvalue_parse_u32("4294967295", 10, &v), 0);
	assert_int_equal(v, 4294967295u);
}

static void test_flag(void **state)
{
	bool b = false;

	(void)state;
	assert_int_equal(xsvalue_parse_flag("1", 1, &b), 0);
	assert_true(b);
	assert_int_equal(xsvalue_parse_flag("0", 1, &b), 0);
	assert_false(b);
	assert_int_equal(xsvalue_parse_flag("2", 1, &b), 0);
	assert_true(b);
	b = false;
	assert_int_equal(xsvalue_parse_flag("yes", 3, &b), -EINVAL);
	assert_false(b);
}

static int parse_rate(const char *s, struct xsvalue_rate *r)
{
	return xsvalue_parse_rate(s, strlen(s), r);
}

static void assert_unlimited(const struct xsvalue_rate *r)
{
	assert_true(r->bytes == XSVALUE_RATE_UNLIMITED);
	assert_int_equal(r->usec, 0);
}

static void test_rate_libxl(void **state)
{
	struct xsvalue_rate r;

	(void)state;
	/* xl "rate=10Mb/s": libxlu_vif.c's default 50 ms period. */
	assert_int_equal(parse_rate("62500,50000", &r), 0);
	assert_true(r.bytes == 62500);
	assert_int_equal(r.usec, 50000);
	/* xl "rate=10Mb/s@1ms". */
	assert_int_equal(parse_rate("1250,1000", &r), 0);
	assert_true(r.bytes == 1250);
	assert_int_equal(r.usec, 1000);
	/* With the NUL some writers include, and not NUL-terminated at all. */
	assert_int_equal(xsvalue_parse_rate("7,9\0", 4, &r), 0);
	assert_true(r.bytes == 7);
	assert_int_equal(r.usec, 9);
	assert_int_equal(xsvalue_parse_rate("12,34567", 5, &r), 0);
	assert_true(r.bytes == 12);
	assert_int_equal(r.usec, 34);
}

static void test_rate_limits(void **state)
{
	struct xsvalue_rate r;

	(void)state;
	/* The widest values libxl can write: PRIu64 bytes, PRIu32 usec. */
	assert_int_equal(parse_rate("18446744073709551614,4294967295", &r), 0);
	assert_true(r.bytes == UINT64_MAX - 1);
	assert_true(r.usec == UINT32_MAX);
	/* Zero bytes is a rate (libxl writes it for a tiny one): nothing passes. */
	assert_int_equal(parse_rate("0,50000", &r), 0);
	assert_true(r.bytes == 0);
	assert_int_equal(r.usec, 50000);

	/* Out of range: unlimited, and said so. */
	assert_int_equal(parse_rate("18446744073709551615,1", &r), -ERANGE);
	assert_unlimited(&r);
	assert_int_equal(parse_rate("99999999999999999999999,1", &r), -ERANGE);
	assert_unlimited(&r);
	assert_int_equal(parse_rate("1,4294967296", &r), -ERANGE);
	assert_unlimited(&r);
	/* A zero period would be no rate at all; libxl never writes one. */
	assert_int_equal(parse_rate("62500,0", &r), -ERANGE);
	assert_unlimited(&r);
}

static void test_rate_garbage(void **state)
{
	static const char *const bad[] = {
		"", ",", "1,", ",1", "1", "1,2,3", "1,,2", " 1,2", "1 ,2", "1, 2", "1,2 ",
		"1,2\n", "+1,2", "1,-2", "0x10,2", "1,0x10", "1;2", "1.5,2", "1,2ms",
		"10Mb/s", "10Mb/s@50ms", "62500,50000,", "١,2",
		/* Garbage wins over range: the value is not a rate at all. */
		"99999999999999999999999,x", "1,0,",
	};
	struct xsvalue_rate r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.bytes = 1;
		r.usec = 1;
		assert_int_equal(parse_rate(bad[i], &r), -EINVAL);
		assert_unlimited(&r);
	}
	/* One trailing NUL is tolerated, not two, nor one anywhere else. */
	assert_int_equal(xsvalue_parse_rate("1,2\0\0", 5, &r), -EINVAL);
	assert_unlimited(&r);
	assert_int_equal(xsvalue_parse_rate("1\0,2", 4, &r), -EINVAL);
	assert_unlimited(&r);
	assert_int_equal(xsvalue_parse_rate("1,\0002", 4, &r), -EINVAL);
	assert_unlimited(&r);
	assert_int_equal(xsvalue_parse_rate("\0", 1, &r), -EINVAL);
	assert_unlimited(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u8_writes_only_its_field),
		cmocka_unit_test(test_u16_writes_only_its_field),
		cmocka_unit_test(test_out_of_range_rejected_and_untouched),
		cmocka_unit_test(test_garbage_rejected),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_leading_zeros_and_max),
		cmocka_unit_test(test_flag),
		cmocka_unit_test(test_rate_libxl),
		cmocka_unit_test(test_rate_limits),
		cmocka_unit_test(test_rate_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
