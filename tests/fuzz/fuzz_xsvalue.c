/* SPDX-License-Identifier: MIT */
/*
 * fuzz_xsvalue.c - XenStore value parsing against arbitrary bytes: whatever
 * it accepts must be exactly a run of decimal digits (one trailing NUL
 * allowed) whose value fits the target, and a refusal must leave the target
 * untouched. The rate node likewise against a model of "<digits>,<digits>":
 * accepted exactly when it has that shape and its numbers fit, and unlimited
 * whenever it is refused.
 */
#include <errno.h>

#include "fuzz_input.h"
#include "xsvalue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Digits only, non-empty; *@v saturates at UINT64_MAX. */
static bool model_number(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');

		/* Saturate only when v * 10 + d really exceeds it (not one early). */
		if (*v == UINT64_MAX || *v > (UINT64_MAX - d) / 10)
			*v = UINT64_MAX;
		else
			*v = *v * 10 + d;
	}
	return true;
}

static void check_rate(const char *s, size_t size)
{
	struct xsvalue_rate r = { 1, 1 };
	size_t n = size, commas = 0, at = 0;
	uint64_t b = 0, u = 0;
	bool shape;
	int rc;

	if (n && s[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',') {
			commas++;
			at = i;
		}
	shape = commas == 1 && model_number(s, at, &b) &&
		model_number(s + at + 1, n - at - 1, &u);
	rc = xsvalue_parse_rate(s, size, &r);
	if (rc == 0) {
		FUZZ_CHECK(shape && b < UINT64_MAX && u >= 1 && u <= UINT32_MAX);
		FUZZ_CHECK(r.bytes == b && r.usec == u);
	} else {
		FUZZ_CHECK(r.bytes == XSVALUE_RATE_UNLIMITED && r.usec == 0);
		FUZZ_CHECK(rc == -EINVAL ? !shape :
			   (shape && (b == UINT64_MAX || u == 0 || u > UINT32_MAX)));
	}
}

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
	check_rate(s, size);
	free(s);
	return 0;
}
