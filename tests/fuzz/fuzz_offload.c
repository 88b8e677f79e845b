/* SPDX-License-Identifier: MIT */
/*
 * fuzz_offload.c - header walking, checksum setup/completion and GSO checks
 * on arbitrary frames. After a successful completion the frame must verify:
 * the L4 sum over pseudo-header and segment folds to zero.
 */
#include <errno.h>

#include "csum.h"
#include "fuzz_input.h"
#include "offload.h"

#define MAX_FRAME 70000

static uint8_t frame[MAX_FRAME];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_pkt_meta m = { 0 };
	struct engine_hdrs h;
	uint32_t len;
	int rc;

	if (size < 1 || size > MAX_FRAME)
		return 0;
	m.gso_type = data[0] % 3;
	m.gso_size = data[0];
	len = (uint32_t)size - 1;
	/* Exactly len bytes in a heap block, so ASan sees any over-read. */
	uint8_t *f = malloc(len ? len : 1);
	if (!f)
		return 0;
	memcpy(f, data + 1, len);

	rc = engine_hdrs_parse(f, len, &h);
	if (rc == 0) {
		FUZZ_CHECK(h.l3_off >= 14 && h.l4_off > h.l3_off);
		FUZZ_CHECK((uint32_t)h.l4_off + h.l4_len <= len);
		FUZZ_CHECK(h.l4_hdr_len <= h.l4_len);
	} else {
		FUZZ_CHECK(rc == -EPROTO || rc == -EPROTONOSUPPORT);
	}
	(void)engine_gso_check(f, len, &m);
	memcpy(frame, f, len);
	if (engine_csum_setup(f, len, &m, data[0] & 1) == 0)
		FUZZ_CHECK((uint32_t)m.csum_start + m.csum_offset + 2 <= len);
	if (engine_csum_complete(frame, len, &m) == 0) {
		struct engine_hdrs v;
		uint8_t pseudo[40 + 8] = { 0 };
		uint32_t sum;
		size_t plen;

		FUZZ_CHECK(engine_hdrs_parse(frame, len, &v) == 0);
		if (v.ip_version == 4) {
			memcpy(pseudo, frame + v.l3_off + 12, 8);
			pseudo[9] = v.l4_proto;
			pseudo[10] = (uint8_t)(v.l4_len >> 8);
			pseudo[11] = (uint8_t)v.l4_len;
			plen = 12;
		} else {
			memcpy(pseudo, frame + v.l3_off + 8, 32);
			pseudo[34] = (uint8_t)(v.l4_len >> 8);
			pseudo[35] = (uint8_t)v.l4_len;
			pseudo[39] = v.l4_proto;
			plen = 40;
		}
		sum = csum_add_bytes(pseudo, plen, 0);
		sum = csum_add_bytes(frame + v.l4_off, v.l4_len, sum);
		FUZZ_CHECK(csum_fold(sum) == 0);
		if (v.ip_version == 4)
			FUZZ_CHECK(csum_fold(csum_add_bytes(frame + v.l3_off, v.l3_hdr_len, 0)) == 0);
	}
	free(f);
	return 0;
}
