/* SPDX-License-Identifier: MIT */
/*
 * hostile_front.c - a frontend that breaks the ring protocol on purpose,
 * for test_e2e.sh: it does the handshake properly (through the platform
 * interface, on the simulated Xen), waits for the backend to connect, then
 * publishes a TX request producer a whole ring plus one ahead (XSA-39) and
 * notifies. The backend must disconnect this vif with a reason, and keep
 * serving everyone else. Exits 0 once it has done its part and observed
 * the backend leave Connected, 1 otherwise.
 *
 * usage: hostile_front DOMID
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "platform.h"
#include "ring.h"
#include "xs_util.h"

static int backend_state(const struct xs_util *u, const char *be)
{
	uint32_t st = 0;

	return xs_util_read_u32(u, be, "state", &st) == 0 ? (int)st : -1;
}

static int wait_state(const struct xs_util *u, const char *be, int want, bool equal)
{
	for (int i = 0; i < 100; i++) {
		int st = backend_state(u, be);

		if ((st == want) == equal)
			return st;
		usleep(50000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct platform_ops *ops = platform_by_name("sim");
	struct platform *p;
	struct platform_gntshr *shr;
	struct platform_evtchn *evt;
	struct xs_util u;
	char fe[96], be[128], tx_s[12], rx_s[12], port_s[12];
	uint32_t tx_ref, rx_ref;
	netif_tx_sring_t *txs;
	netif_rx_sring_t *rxs;
	int port, st;

	if (argc != 2 || !ops)
		return 2;
	p = ops->open(atoi(argv[1]));
	if (!p)
		return 1;
	shr = ops->gntshr_open(p);
	evt = ops->evtchn_open(p);
	u = (struct xs_util){ ops, ops->xs_open(p) };
	if (!shr || !evt || !u.xs)
		return 1;
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/0", ops->domid(p));
	if (xs_util_read_str(&u, fe, "backend", be, sizeof(be)) != 0 ||
	    wait_state(&u, be, XenbusStateInitWait, true) < 0) {
		fprintf(stderr, "hostile_front: no backend in InitWait\n");
		return 1;
	}
	txs = ops->gntshr_share(shr, 0, 1, &tx_ref, true);
	rxs = ops->gntshr_share(shr, 0, 1, &rx_ref, true);
	port = ops->evtchn_alloc_unbound(evt, 0);
	if (!txs || !rxs || port < 0)
		return 1;
	SHARED_RING_INIT(txs);
	SHARED_RING_INIT(rxs);
	snprintf(tx_s, sizeof(tx_s), "%u", tx_ref);
	snprintf(rx_s, sizeof(rx_s), "%u", rx_ref);
	snprintf(port_s, sizeof(port_s), "%d", port);
	{
		const struct xs_util_kv keys[] = {
			{ "tx-ring-ref", tx_s }, { "rx-ring-ref", rx_s }, { "event-channel", port_s },
			{ "request-rx-copy", "1" }, { "feature-rx-notify", "1" }, { "state", "4" },
		};

		if (xs_util_write_keys(&u, fe, keys, sizeof(keys) / sizeof(keys[0])) != 0)
			return 1;
	}
	if (wait_state(&u, be, XenbusStateConnected, true) < 0) {
		fprintf(stderr, "hostile_front: backend did not connect\n");
		return 1;
	}
	/* XSA-39: a producer no honest frontend can publish. */
	__atomic_store_n(&txs->req_prod, ENGINE_TX_RING_SIZE + 1, __ATOMIC_RELEASE);
	ops->evtchn_notify(evt, (uint32_t)port);
	st = wait_state(&u, be, XenbusStateConnected, false);
	printf("hostile_front: backend state after the bad producer: %d\n", st);
	ops->xs_close(u.xs);
	ops->evtchn_close(evt);
	ops->gntshr_close(shr);
	ops->close(p);
	return st > XenbusStateConnected ? 0 : 1;
}
