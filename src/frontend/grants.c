/* SPDX-License-Identifier: MIT */
/*
 * grants.c - the pages the netfront shares with its backend, and the ones
 * the backend will not give back.
 *
 * Every page the netfront grants (rings, TX and RX buffers, the control
 * ring's pages) is shared here and unshared here, on the main thread. An
 * unshare fails (-EBUSY) while the backend still maps one of the pages:
 * the platform then keeps the share whole and granted. Abandoning it would
 * leak those pages for the process's life, a connection's worth per
 * reconnect for a backend that cycles through InitWait while holding its
 * old mappings, until sharing fails. So, as Linux's
 * gnttab_end_foreign_access() puts a still-mapped grant on its deferred
 * list and retries from a timer, the share goes on nf->deferred and is
 * tried again: every second while the list is not empty (main.c's timer)
 * and before each new connection. Whatever comes free is logged once per
 * try, with what is still held ("deferred pages N", also in the stats line
 * of SIGUSR1 and the end of each connection).
 *
 * The bound: while NF_DEFERRED_MAX pages or more are still held, no new
 * connection starts (handshake.c holds it in Initialising, says so once,
 * and connects when the backend lets go), so a backend that keeps cycling
 * costs the guest at most that many pages beside one live connection.
 *
 * On Xen's gntalloc an unshare never fails: the kernel itself defers the
 * release of a page the peer still maps, out of our sight. The list then
 * stays empty.
 */
#include "netfront.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct nf_deferred {
	struct nf_deferred *next;
	void *addr;
	unsigned count;
};

void *nf_share(struct netfront *nf, unsigned count, uint32_t *refs, bool writable)
{
	void *addr = nf->ops->gntshr_share(nf->shr, (uint16_t)nf->backend_id, count, refs,
					   writable);

	if (addr)
		nf->shared_pages += count;
	return addr;
}

void nf_unshare(struct netfront *nf, void **addr, unsigned count, const char *what)
{
	struct nf_deferred *d;
	int rc;

	if (!*addr)
		return;
	rc = nf->ops->gntshr_unshare(nf->shr, *addr, count);
	if (rc == 0) {
		nf->shared_pages -= count;
		*addr = NULL;
		return;
	}
	if (rc == -EINVAL) {
		/* Not a share the platform knows: nothing a later try could release. */
		log_err("%s: cannot unshare %s: %s", nf->tap.name, what, strerror(-rc));
		nf->shared_pages -= count;
		*addr = NULL;
		return;
	}
	d = malloc(sizeof(*d));
	if (!d) {
		log_err("%s: backend still maps %s (%u page%s) and no memory to keep track: "
			"left granted", nf->tap.name, what, count, count > 1 ? "s" : "");
		*addr = NULL;
		return;
	}
	d->addr = *addr;
	d->count = count;
	d->next = nf->deferred;
	nf->deferred = d;
	nf->deferred_pages += count;
	*addr = NULL;
	log_warn("%s: backend still maps %s (%u page%s, %s): kept granted until it unmaps "
		 "them; deferred pages %u", nf->tap.name, what, count, count > 1 ? "s" : "",
		 strerror(-rc), nf->deferred_pages);
}

unsigned nf_deferred_retry(struct netfront *nf)
{
	unsigned released = 0;

	for (struct nf_deferred **pp = &nf->deferred, *d; (d = *pp);) {
		if (nf->ops->gntshr_unshare(nf->shr, d->addr, d->count) != 0) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		released += d->count;
		free(d);
	}
	if (!released)
		return 0;
	nf->deferred_pages -= released;
	nf->shared_pages -= released;
	nf->deferred_released += released;
	log_info("%s: backend released %u page%s of earlier connections; deferred pages %u",
		 nf->tap.name, released, released > 1 ? "s" : "", nf->deferred_pages);
	return released;
}

bool nf_deferred_full(const struct netfront *nf)
{
	return nf->deferred_pages >= NF_DEFERRED_MAX;
}

void nf_deferred_exit(struct netfront *nf)
{
	nf_deferred_retry(nf);
	if (nf->deferred_pages)
		log_warn("%s: backend still maps %u page%s at exit: left to the platform, which "
			 "frees them once unmapped", nf->tap.name, nf->deferred_pages,
			 nf->deferred_pages > 1 ? "s" : "");
	while (nf->deferred) {
		struct nf_deferred *d = nf->deferred;

		nf->deferred = d->next;
		free(d);
	}
	nf->deferred_pages = 0;
}
