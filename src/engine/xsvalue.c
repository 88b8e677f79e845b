/* SPDX-License-Identifier: MIT */
/* xsvalue.c - strict decimal parsing of peer-written XenStore values. */
#include "xsvalue.h"

#include <errno.h>
#include <string.h>

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

int xsvalue_parse_rate(const char *s, size_t len, struct xsvalue_rate *out)
{
	const char *comma;
	size_t blen;
	uint64_t bytes = 0;
	uint32_t usec = 0;
	int rb, ru;

	/* Bad or not, the limit the node stands for is decided here. */
	out->bytes = XSVALUE_RATE_UNLIMITED;
	out->usec = 0;

	if (len > 0 && s[len - 1] == '\0')
		len--;
	/* Strip the one NUL here: the halves must not tolerate another. */
	if (memchr(s, '\0', len))
		return -EINVAL;
	comma = memchr(s, ',', len);
	if (!comma)
		return -EINVAL;
	blen = (size_t)(comma - s);
	/* Digits only on each side, so a second comma is garbage too. */
	rb = xsvalue_parse_uint(s, blen, UINT64_MAX, &bytes);
	ru = xsvalue_parse_u32(comma + 1, len - blen - 1, &usec);
	/* A malformed value is reported as such before any range trouble. */
	if (rb == -EINVAL || ru == -EINVAL)
		return -EINVAL;
	if (rb != 0 || ru != 0 || usec == 0)
		return -ERANGE;
	out->bytes = bytes;
	out->usec = usec;
	return 0;
}
