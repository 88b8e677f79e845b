/* SPDX-License-Identifier: MIT */
/* simd_dom.c - xnb-simd's domain registry and shared domain table. */
/*
 * Theory of operation: domids 0 .. SIMD_MAX_DOMS - 1 index a table of
 * domains. Domain 0 is taken only on request; fresh guest ids come from a
 * rover starting at 1 that skips live ids (Xen, too, does not reuse a domid
 * at once). The domain table memfd holds one uint32_t generation per domid,
 * incremented at registration and at death (odd = alive); domains map it
 * read-only (it is sealed against new writable mappings), so a cached view
 * of a peer is valid exactly while its generation is unchanged. A domain's
 * memory and grant table memfds must be sealed against shrinking so that
 * peers can map them without risking SIGBUS.
 *
 * A guest is one process (one connection): a second REGISTER for its domid
 * is refused with EEXIST. Domain 0 may be several processes, as on real Xen
 * where the toolstack, backends and their workers each open the Xen
 * devices: a REGISTER for domid 0 while dom0 lives attaches the connection
 * as another process of it, without a new generation, so peers' cached
 * views and grants stay valid. Its memfds are closed unused: the domain's
 * memory and grant table are the first registrant's, kept by the registry
 * until the domain dies, so an additional process cannot grant pages of its
 * own (its gntshr would write a table nobody reads); backends never grant.
 * When a process goes, only its event-channel handles are closed; the
 * domain dies (generation bumped, everything freed) with its last process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

#include "simd.h"

#define GEN_BYTES (SIMD_MAX_DOMS * sizeof(uint32_t))

int simd_doms_init(struct simd_doms *d)
{
	memset(d, 0, sizeof(*d));
	d->rover = 1;
	d->evt_ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->evt_ep < 0)
		return -errno;
	d->gen_fd = memfd_create("xnb-simd-domains", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (d->gen_fd < 0) {
		int e = -errno;

		close(d->evt_ep);
		d->evt_ep = -1;
		return e;
	}
	if (ftruncate(d->gen_fd, GEN_BYTES) < 0)
		goto fail;
	d->gen = mmap(NULL, GEN_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, d->gen_fd, 0);
	if (d->gen == MAP_FAILED) {
		d->gen = NULL;
		goto fail;
	}
	if (fcntl(d->gen_fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		goto fail;
	return 0;
fail:
	{
		int e = -errno;

		if (d->gen)
			munmap(d->gen, GEN_BYTES);
		close(d->gen_fd);
		close(d->evt_ep);
		d->gen = NULL;
		d->gen_fd = -1;
		d->evt_ep = -1;
		return e;
	}
}

void simd_doms_fini(struct simd_doms *d)
{
	for (unsigned i = 0; i < SIMD_MAX_DOMS; i++)
		if (d->dom[i])
			simd_dom_release(d, d->dom[i]);
	if (d->gen)
		munmap(d->gen, GEN_BYTES);
	if (d->gen_fd >= 0)
		close(d->gen_fd);
	if (d->evt_ep >= 0)
		close(d->evt_ep);
	d->gen = NULL;
	d->gen_fd = -1;
	d->evt_ep = -1;
}

/* Size of a memfd sealed against shrinking and growing, or -1. */
static long long simd_memfd_size(int fd)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return st.st_size;
}

static void simd_gen_bump(struct simd_doms *d, uint16_t domid)
{
	__atomic_fetch_add(&d->gen[domid], 1, __ATOMIC_RELEASE);
}

struct simd_dom *simd_dom_register(struct simd_doms *d, uint32_t want, int mem_fd, int gt_fd,
				   bool *attached)
{
	long long msz = simd_memfd_size(mem_fd), gsz = simd_memfd_size(gt_fd);
	struct simd_dom *dom;
	uint32_t id;

	*attached = false;
	/* Checked even when attaching, so a request is valid or not whatever
	 * else is registered. */
	if (msz < 0 || gsz < 0 || msz % SIMD_PAGE_SIZE ||
	    (unsigned long long)msz / SIMD_PAGE_SIZE > SIMD_MAX_PAGES ||
	    (unsigned long long)gsz / sizeof(struct grant_entry_v1) > SIMD_MAX_GRANTS) {
		errno = EINVAL;
		return NULL;
	}
	if (want == 0 && d->dom[0]) {
		/* Another process of dom0; the memory stays the first one's. */
		dom = d->dom[0];
		dom->procs++;
		close(mem_fd);
		close(gt_fd);
		*attached = true;
		return dom;
	}
	if (want == SIMD_ANY) {
		unsigned i;

		for (i = 0; i < SIMD_MAX_DOMS - 1; i++) {
			id = d->rover;
			d->rover = d->rover + 1 >= SIMD_MAX_DOMS ? 1 : d->rover + 1;
			if (!d->dom[id])
				break;
		}
		if (i == SIMD_MAX_DOMS - 1) {
			errno = ENOSPC;
			return NULL;
		}
	} else if (want >= SIMD_MAX_DOMS) {
		errno = EINVAL;
		return NULL;
	} else if (d->dom[want]) {
		errno = EEXIST;
		return NULL;
	} else {
		id = want;
	}
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return NULL;
	dom->ports = calloc(SIMD_MAX_PORTS, sizeof(*dom->ports));
	if (!dom->ports) {
		free(dom);
		errno = ENOMEM;
		return NULL;
	}
	simd_evtchn_ports_init(dom->ports);
	dom->domid = (uint16_t)id;
	dom->mem_fd = mem_fd;
	dom->gt_fd = gt_fd;
	dom->pages = (unsigned)(msz / SIMD_PAGE_SIZE);
	dom->grants = (unsigned)(gsz / sizeof(struct grant_entry_v1));
	dom->next_handle = 1;
	dom->procs = 1;
	d->dom[id] = dom;
	simd_gen_bump(d, dom->domid);
	return dom;
}

struct simd_dom *simd_dom_find(struct simd_doms *d, uint32_t domid)
{
	return domid < SIMD_MAX_DOMS ? d->dom[domid] : NULL;
}

bool simd_dom_detach(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner)
{
	if (dom->procs > 1) {
		/* The domain lives on: only this process's handles go, and the
		 * generation stays, so the other processes' grants keep working. */
		simd_evtchn_owner_fini(d, dom, owner);
		dom->procs--;
		return false;
	}
	simd_dom_release(d, dom);
	return true;
}

void simd_dom_release(struct simd_doms *d, struct simd_dom *dom)
{
	/* Dead first, so peers' grant operations fail from now on. */
	simd_gen_bump(d, dom->domid);
	d->dom[dom->domid] = NULL;
	simd_evtchn_dom_fini(d, dom);
	close(dom->mem_fd);
	close(dom->gt_fd);
	free(dom->ports);
	free(dom);
}
