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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
