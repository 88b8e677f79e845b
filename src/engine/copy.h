/* SPDX-License-Identifier: MIT */
/*
 * copy.h - one grant-copy segment, as the engine plans it.
 *
 * The layout is that of libxengnttab's xengnttab_grant_copy_segment_t, so the
 * real-Xen platform can hand a whole batch to xengnttab_grant_copy() without
 * translating it (the platform checks the layout with static asserts). The
 * engine fills source, dest, len and flags; the platform fills status with a
 * GNTST_* code per segment.
 */
#ifndef XNB_ENGINE_COPY_H
#define XNB_ENGINE_COPY_H

#include <stdint.h>

union engine_copy_ptr {
	void *virt;
	struct {
		uint32_t ref;    /* grant reference */
		uint16_t offset; /* byte offset inside the granted page */
		uint16_t domid;  /* the domain that granted it */
	} foreign;
};

struct engine_copy_seg {
	union engine_copy_ptr source, dest;
	uint16_t len;
	uint16_t flags;  /* GNTCOPY_source_gref / GNTCOPY_dest_gref */
	int16_t status;  /* GNTST_*, written by the platform */
};

#endif
