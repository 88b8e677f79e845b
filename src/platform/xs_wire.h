/* SPDX-License-Identifier: MIT */
/*
 * xs_wire.h - XenStore over its wire protocol, for both platforms: what
 * their XenStore ops share beyond calling xs_client (src/sim/xenstore).
 * The simulated platform talks to xnb-simd's xenstored; the Xen platform
 * to the real one, over its socket or the kernel's /dev/xen/xenbus, so
 * that both get xs_client's bounded, coalescing watch-event queue.
 */
#ifndef XNB_PLATFORM_XS_WIRE_H
#define XNB_PLATFORM_XS_WIRE_H

#include <stdint.h>

#include "platform.h"

struct xs_client;

/* The node's ACL as platform entries (*@perms: calloc'd, the caller frees). */
int xs_wire_get_perms(struct xs_client *c, uint32_t txid, const char *path,
		      struct platform_xs_perm **perms, unsigned *n);
int xs_wire_set_perms(struct xs_client *c, uint32_t txid, const char *path,
		      const struct platform_xs_perm *perms, unsigned n);

#endif
