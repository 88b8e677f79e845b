/* SPDX-License-Identifier: MIT */
/* xsvalue.c - strict decimal parsing of peer-written XenStore values. */
#include "xsvalue.h"

#include <errno.h>

int xsvalue_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len > 0 && s[len - 1] == '\0')
		len--;
	if (len == 0)
		return -EINVAL;
	/* Bounded by @len, itself bounded by XenStore's payload limit. */
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			v = UINT64_MAX; /* saturate: still checking the rest are digits */
		else
			v = v * 10 + d;
	}
	if (v > max || v == UINT64_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

int xsvalue_parse_u8(const char *s, size_t len, uint8_t *out)
{
	uint64_t v;
	int rc = xsvalue_parse_uint(s, len, UINT8_MAX, &v);

	if (rc == 0)
		*out = (uint8_t)v;
	return rc;
}

int xsvalue_parse_u16(const char *s, size_t len, uint16_t *out)
{
	uint64_t v;
	int rc = xsvalue_parse_uint(s, len, UINT16_MAX, &v);

	if (rc == 0)
		*out = (uint16_t)v;
	return rc;
}

int xsvalue_parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;
	int rc = xsvalue_parse_uint(s, len, UINT32_MAX, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int xsvalue_parse_flag(const char *s, size_t len, bool *out)
{
	uint64_t v;
	int rc = xsvalue_parse_uint(s, len, UINT64_MAX, &v);

	if (rc == 0)
		*out = v != 0;
	return rc;
}
