/* SPDX-License-Identifier: MIT */
/*
 * xsvalue.h - parsing numbers a peer wrote into XenStore.
 *
 * Ring refs, event channels, feature flags and queue counts all arrive as
 * XenStore strings the other end controls. These parsers take the value's
 * bytes and length as read (not necessarily NUL-terminated), accept only
 * plain decimal digits, reject anything out of the target's range, and
 * write the result only on success and only into the target itself.
 */
#ifndef XNB_ENGINE_XSVALUE_H
#define XNB_ENGINE_XSVALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * xsvalue_parse_uint() - @s[0..@len) as a decimal in [0, @max].
 * A single trailing NUL is tolerated (some writers include it).
 * Returns 0 and sets *@out, -EINVAL for anything but digits (empty, sign,
 * space, hex, trailing garbage), -ERANGE above @max. *@out is untouched on error.
 */
int xsvalue_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out);

/* The same into fields of a given width: only *@out is ever written. */
int xsvalue_parse_u8(const char *s, size_t len, uint8_t *out);
int xsvalue_parse_u16(const char *s, size_t len, uint16_t *out);
int xsvalue_parse_u32(const char *s, size_t len, uint32_t *out);

/*
 * xsvalue_parse_flag() - a feature-* key: "0" false, "1" true (Linux reads
 * any non-zero number as true; so do we). Garbage: -EINVAL.
 */
int xsvalue_parse_flag(const char *s, size_t len, bool *out);

/*
 * The backend's `rate` node: "<bytes>,<usec>", @bytes of guest TX allowed per
 * period of @usec microseconds. libxl writes it (libxl_nic.c, as
 * "%" PRIu64 ",%" PRIu32) only when a rate was configured; xl's "rate=10Mb/s"
 * becomes "62500,50000" (libxlu_vif.c: 1250000 bytes/s over the default
 * 50 ms period). No node means no limit.
 */
struct xsvalue_rate {
	uint64_t bytes;   /* per period; XSVALUE_RATE_UNLIMITED: no limit */
	uint32_t usec;    /* the period; 0 when unlimited */
};

/* Linux's default when the node is absent or bad: ~0UL bytes, 0 usec. */
#define XSVALUE_RATE_UNLIMITED UINT64_MAX

/*
 * xsvalue_parse_rate() - @s[0..@len) as "<bytes>,<usec>": two plain decimals
 * and one comma, a single trailing NUL tolerated. @usec must be in
 * [1, UINT32_MAX] (libxl's field is 32 bits and a zero period is no rate),
 * @bytes below UINT64_MAX. "0,<usec>" is valid: nothing passes, as in Linux.
 * Unlike the number parsers above, *@out is always written: the parsed rate
 * on success, unlimited on error, which is what Linux's xen_net_read_rate()
 * falls back to; the caller logs the bad value and carries on.
 * Returns 0, -EINVAL (not that shape), or -ERANGE (a number out of range).
 */
int xsvalue_parse_rate(const char *s, size_t len, struct xsvalue_rate *out);

#endif
