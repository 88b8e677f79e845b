/* SPDX-License-Identifier: MIT */
/*
 * ring.h - the netif ring ABI as the engine sees it.
 *
 * The layouts come from the system's <xen/io/netif.h> and <xen/io/ring.h>
 * (Debian libxen-dev). ring.h leaves the memory barriers to its user; in
 * userspace we map them onto C11 fences: a full fence where the protocol
 * needs store->load ordering (publishing an index, then reading the peer's
 * event index), release/acquire elsewhere, which cost nothing on x86.
 */
#ifndef XNB_ENGINE_RING_H
#define XNB_ENGINE_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The current interface, as the Xen tools use it (no legacy barrier names). */
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif

#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

/* Netif rings are one page each; Xen grants are 4 KiB whatever the host uses. */
#define ENGINE_PAGE_SIZE 4096u

/* Entries in a one-page TX / RX ring (both are 256 on every ABI). */
#define ENGINE_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, ENGINE_PAGE_SIZE)
#define ENGINE_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, ENGINE_PAGE_SIZE)

/* Read an index the peer writes, exactly once (it may change under us). */
static inline RING_IDX engine_ring_read_idx(const RING_IDX *shared)
{
	return __atomic_load_n(shared, __ATOMIC_RELAXED);
}

/* Write an index the peer reads. */
static inline void engine_ring_write_idx(RING_IDX *shared, RING_IDX v)
{
	__atomic_store_n(shared, v, __ATOMIC_RELAXED);
}

/*
 * engine_ring_publish() - make private responses up to @new_prod visible
 * and tell whether the peer asked to hear of them. Like ring.h's
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY, except that the previous producer
 * comes from our own copy (@published), not from shared memory the peer can
 * scribble on. The full fence orders our producer store before the load of
 * the peer's event index; it pairs with the one the peer issues between
 * setting rsp_event and re-checking rsp_prod.
 */
static inline int engine_ring_publish(RING_IDX *shared_prod, const RING_IDX *shared_event,
				      RING_IDX *published, RING_IDX new_prod)
{
	RING_IDX old = *published, event;

	xen_wmb(); /* responses before the producer that covers them */
	engine_ring_write_idx(shared_prod, new_prod);
	*published = new_prod;
	xen_mb();
	event = engine_ring_read_idx(shared_event);
	return (RING_IDX)(new_prod - event) < (RING_IDX)(new_prod - old);
}

/*
 * engine_ring_arm() - set the peer's request event to @at and re-read its
 * producer: the final check against a request that raced in.
 */
static inline RING_IDX engine_ring_arm(RING_IDX *shared_event, const RING_IDX *shared_prod,
				       RING_IDX at)
{
	engine_ring_write_idx(shared_event, at);
	xen_mb();
	return engine_ring_read_idx(shared_prod);
}

#endif
