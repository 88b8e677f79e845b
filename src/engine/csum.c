/* SPDX-License-Identifier: MIT */
/*
 * csum.c - the Internet checksum over a byte range.
 *
 * 32-bit words are summed into a 64-bit accumulator, four at a time, so
 * carries are only folded once at the end; ones'-complement addition is
 * associative, so summing 32-bit words and folding gives the same result as
 * summing 16-bit words. Loads go through memcpy, which compiles to plain
 * unaligned loads and keeps the code free of alignment assumptions.
 */
#include "csum.h"

#include <string.h>

static inline uint64_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint32_t csum_add_bytes(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;

	while (len >= 16) {
		acc += load32(p) + load32(p + 4);
		acc += load32(p + 8) + load32(p + 12);
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		acc += load32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, sizeof(w));
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd byte is the first of a 16-bit word whose second is 0. */
		uint8_t pad[2] = { *p, 0 };
		uint16_t w;

		memcpy(&w, pad, sizeof(w));
		acc += w;
	}
	/* Fold 64 -> 32 bits, end-around carry included. */
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
