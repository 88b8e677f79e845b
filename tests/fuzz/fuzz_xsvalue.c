/* SPDX-License-Identifier: MIT */
/*
 * fuzz_xsvalue.c - XenStore value parsing against arbitrary bytes: whatever
 * it accepts must be exactly a run of decimal digits (one trailing NUL
 * allowed) whose value fits the target, and a refusal must leave the target
 * untouched.
 */
#include <errno.h>

#include "fuzz_input.h"
#include "xsvalue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: ASan flags any read past the value's length. */
	char *s = malloc(size ? size : 1);
	uint16_t v16 = 0xbeef;
	uint64_t ref = 0;
	size_t digits = size;
	bool all_digits = size > 0, overflow = false;
	int rc;

	if (!s)
		return 0;
	memcpy(s, data, size);
	if (digits && s[digits - 1] == '\0')
		digits--;
	all_digits = digits > 0;
	for (size_t i = 0; i < digits && all_digits; i++) {
		all_digits = s[i] >= '0' && s[i] <= '9';
		if (ref > 100000)
			overflow = true;
		else
			ref = ref * 10 + (uint64_t)(s[i] - '0');
	}
	rc = xsvalue_parse_u16(s, size, &v16);
	if (rc == 0) {
		FUZZ_CHECK(all_digits && !overflow && ref <= UINT16_MAX && v16 == ref);
	} else {
		FUZZ_CHECK(v16 == 0xbeef);
		FUZZ_CHECK(rc == -EINVAL ? !all_digits : (all_digits && (overflow || ref > UINT16_MAX)));
	}
	free(s);
	return 0;
}
