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

#endif
