/* SPDX-License-Identifier: MIT */
/*
 * csum.h - the Internet checksum (RFC 1071), for checksum completion.
 *
 * Sums are kept unfolded in 32 bits between calls, over 16-bit words in
 * memory order, so the result can be stored back without byte swapping.
 */
#ifndef XNB_ENGINE_CSUM_H
#define XNB_ENGINE_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * csum_add_bytes() - add @len bytes at @buf to the running sum @sum.
 * @buf needs no alignment; @len may be odd only for the last piece of a
 * checksummed region (the odd byte is padded with zero, as RFC 1071 says).
 */
uint32_t csum_add_bytes(const void *buf, size_t len, uint32_t sum);

/* csum_fold() - fold a running sum to 16 bits and complement it. */
uint16_t csum_fold(uint32_t sum);

#endif
