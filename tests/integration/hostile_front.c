/* SPDX-License-Identifier: MIT */
/*
 * hostile_front.c - a frontend that misbehaves on purpose, over the
 * simulated Xen (the 'sim' platform). Every mode first does the handshake
 * properly (rings granted, one event channel, state Connected) and waits
 * for the backend to connect; then:
 *
 *   (default)     XSA-39, for test_e2e.sh: publishes a TX request producer
 *                 a whole ring plus one ahead and notifies. The backend
 *                 must disconnect this vif with a reason and keep serving
 *                 everyone else. Exits 0 once it has observed the backend
 *                 leave Connected, 1 otherwise.
 *   flood-state   rewrites its own frontend `state` node (4, 3, 4, 3...: a
 *                 frontend may go back to Initialised, and it is a change
 *                 every time) as fast as its XenStore connection allows.
 *   flood-evtchn  notifies its event channel in a tight loop: spurious
 *                 events, no request is ever posted.
 *   no-rx         posts no RX buffers (and no TX) and just stays
 *                 connected, while the host sends it traffic: the backend
 *                 must queue a bounded amount and drain (XSA-392).
 *   mcast-full    connects with request-multicast-control=1 and sends 65
 *                 distinct MCAST_ADD requests (netif.h's dummy transmit
 *                 request: a 0-size slot with NETTXF_extra_info, then the
 *                 extra) into a filter that holds 64 (Linux's
 *                 XEN_NETBK_MCAST_MAX): the first 64 must be answered
 *                 OKAY, the 65th NETIF_RSP_ERROR, every extra slot
 *                 NETIF_RSP_NULL; then one MCAST_DEL and the 65th ADD
 *                 again, both OKAY. Prints the statuses; exits 1 if any
 *                 differs (after the --seconds, like the others).
 *
 * The flood / no-rx / mcast-full modes run for --seconds S (default 5),
 * print one line of counts and the backend's state then, and exit 0; the
 * simulated domain dies with the process, which is how the backend learns
 * it is gone. Setup failures exit 1, bad usage 2.
 *
 * usage: hostile_front DOMID
 *        hostile_front --mode flood-state|flood-evtchn|no-rx|mcast-full [--seconds S] DOMID
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "platform.h"
#include "ring.h"
#include "xs_util.h"

enum mode { MODE_XSA39, MODE_FLOOD_STATE, MODE_FLOOD_EVTCHN, MODE_NO_RX, MODE_MCAST_FULL };

/* Linux netback's XEN_NETBK_MCAST_MAX, which xnbd follows (VIF_MCAST_MAX). */
#define MCAST_TABLE 64u

struct front {
	const struct platform_ops *ops;
	struct platform *p;
	struct platform_gntshr *shr;
	struct platform_evtchn *evt;
	struct xs_util u;
	char fe[96], be[128];
	netif_tx_sring_t *txs;
	netif_rx_sring_t *rxs;
	int port;
	bool mcast_control;    /* write request-multicast-control=1 */
	RING_IDX tx_prod, tx_cons; /* our TX requests written, responses read */
};

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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Open the domain, grant the rings, publish them, wait for Connected. 0 or -1. */
static int front_connect(struct front *f, int domid)
{
	const struct platform_ops *ops = f->ops;
	char tx_s[12], rx_s[12], port_s[12];
	uint32_t tx_ref, rx_ref;

	f->p = ops->open(domid);
	if (!f->p)
		return -1;
	f->shr = ops->gntshr_open(f->p);
	f->evt = ops->evtchn_open(f->p);
	f->u = (struct xs_util){ ops, ops->xs_open(f->p) };
	if (!f->shr || !f->evt || !f->u.xs)
		return -1;
	snprintf(f->fe, sizeof(f->fe), "/local/domain/%u/device/vif/0", ops->domid(f->p));
	if (xs_util_read_str(&f->u, f->fe, "backend", f->be, sizeof(f->be)) != 0 ||
	    wait_state(&f->u, f->be, XenbusStateInitWait, true) < 0) {
		fprintf(stderr, "hostile_front: no backend in InitWait\n");
		return -1;
	}
	f->txs = ops->gntshr_share(f->shr, 0, 1, &tx_ref, true);
	f->rxs = ops->gntshr_share(f->shr, 0, 1, &rx_ref, true);
	f->port = ops->evtchn_alloc_unbound(f->evt, 0);
	if (!f->txs || !f->rxs || f->port < 0)
		return -1;
	SHARED_RING_INIT(f->txs);
	SHARED_RING_INIT(f->rxs);
	snprintf(tx_s, sizeof(tx_s), "%u", tx_ref);
	snprintf(rx_s, sizeof(rx_s), "%u", rx_ref);
	snprintf(port_s, sizeof(port_s), "%d", f->port);
	{
		const struct xs_util_kv keys[] = {
			{ "tx-ring-ref", tx_s }, { "rx-ring-ref", rx_s }, { "event-channel", port_s },
			{ "request-rx-copy", "1" }, { "feature-rx-notify", "1" },
			/* sg: big host frames wait for buffers (no-rx) instead of being dropped */
			{ "feature-sg", "1" }, { "state", "4" },
		};
		const struct xs_util_kv mcast = { "request-multicast-control", "1" };

		/* Before the state: the backend samples it when it connects. */
		if ((f->mcast_control && xs_util_write_keys(&f->u, f->fe, &mcast, 1) != 0) ||
		    xs_util_write_keys(&f->u, f->fe, keys, sizeof(keys) / sizeof(keys[0])) != 0)
			return -1;
	}
	if (wait_state(&f->u, f->be, XenbusStateConnected, true) < 0) {
		fprintf(stderr, "hostile_front: backend did not connect\n");
		return -1;
	}
	return 0;
}

static void front_close(struct front *f)
{
	if (f->u.xs)
		f->ops->xs_close(f->u.xs);
	if (f->evt)
		f->ops->evtchn_close(f->evt);
	if (f->shr)
		f->ops->gntshr_close(f->shr);
	if (f->p)
		f->ops->close(f->p);
}

/* XSA-39: a producer no honest frontend can publish. 0 if the backend let go. */
static int run_xsa39(struct front *f)
{
	int st;

	__atomic_store_n(&f->txs->req_prod, ENGINE_TX_RING_SIZE + 1, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)f->port);
	st = wait_state(&f->u, f->be, XenbusStateConnected, false);
	printf("hostile_front: backend state after the bad producer: %d\n", st);
	return st > XenbusStateConnected ? 0 : 1;
}

/* Each write is a XenStore round trip: the clock is read every 64 of them. */
static unsigned long flood_state(struct front *f, double end, unsigned long *errors)
{
	char path[128];
	unsigned long n = 0;

	snprintf(path, sizeof(path), "%s/state", f->fe);
	do {
		for (int i = 0; i < 64; i++, n++) {
			const char *val = (n & 1) ? "3" : "4";

			if (f->ops->xs_write(f->u.xs, 0, path, val, 1) != 0)
				(*errors)++;
		}
	} while (now_s() < end);
	/* Leave it Connected, as an honest frontend would read. */
	f->ops->xs_write(f->u.xs, 0, path, "4", 1);
	return n + 1;
}

static unsigned long flood_evtchn(struct front *f, double end, unsigned long *errors)
{
	unsigned long n = 0;

	do {
		for (int i = 0; i < 1024; i++, n++)
			if (f->ops->evtchn_notify(f->evt, (uint32_t)f->port) != 0)
				(*errors)++;
	} while (now_s() < end);
	return n;
}

/* One multicast filter request (two slots), written but not published. */
static void put_mcast(struct front *f, uint16_t id, bool add, const uint8_t addr[6])
{
	netif_tx_request_t *req = &f->txs->ring[f->tx_prod++ % ENGINE_TX_RING_SIZE].req;
	struct netif_extra_info ex;

	req->gref = 0;
	req->offset = 0;
	req->flags = NETTXF_extra_info;
	req->id = id;
	req->size = 0;
	memset(&ex, 0, sizeof(ex));
	ex.type = add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD : XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
	memcpy(ex.u.mcast.addr, addr, 6);
	memcpy(&f->txs->ring[f->tx_prod++ % ENGINE_TX_RING_SIZE].req, &ex, sizeof(ex));
}

/*
 * Publish what put_mcast() wrote, notify, and read every response (5 s at
 * most): the status of request id i goes to st[i], NULLs are counted.
 * 0 once all are answered, -1 otherwise.
 */
static int mcast_exchange(struct front *f, int16_t *st, unsigned nids, unsigned *nulls)
{
	__atomic_store_n(&f->txs->req_prod, f->tx_prod, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)f->port);
	for (int i = 0; i < 100; i++) {
		RING_IDX prod = __atomic_load_n(&f->txs->rsp_prod, __ATOMIC_ACQUIRE);

		while (f->tx_cons != prod && f->tx_cons != f->tx_prod) {
			netif_tx_response_t r = f->txs->ring[f->tx_cons++ % ENGINE_TX_RING_SIZE].rsp;

			if (r.status == NETIF_RSP_NULL)
				(*nulls)++;
			else if (r.id < nids)
				st[r.id] = r.status;
		}
		if (f->tx_cons == f->tx_prod)
			return 0;
		usleep(50000);
	}
	return -1;
}

/* mcast-full: 0 if the backend answered as Linux netback does. */
static int run_mcast_full(struct front *f)
{
	enum { N = MCAST_TABLE + 1, DEL_ID = N, READD_ID = N + 1, NIDS = N + 2 };
	uint8_t addr[N][6];
	int16_t st[NIDS];
	unsigned nulls = 0, bad = 0;

	for (unsigned i = 0; i < NIDS; i++)
		st[i] = 99; /* no answer */
	for (unsigned i = 0; i < N; i++) {
		const uint8_t a[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, (uint8_t)i };

		memcpy(addr[i], a, 6);
		put_mcast(f, (uint16_t)i, true, addr[i]);
	}
	if (mcast_exchange(f, st, NIDS, &nulls) != 0)
		fprintf(stderr, "hostile_front: not every ADD was answered\n");
	put_mcast(f, DEL_ID, false, addr[0]);
	put_mcast(f, READD_ID, true, addr[N - 1]);
	if (mcast_exchange(f, st, NIDS, &nulls) != 0)
		fprintf(stderr, "hostile_front: the DEL and the ADD again were not answered\n");

	printf("hostile_front: mcast-full: ADD 1..%u statuses:", N);
	for (unsigned i = 0; i < N; i++) {
		printf(" %d", st[i]);
		bad += st[i] != (i < MCAST_TABLE ? NETIF_RSP_OKAY : NETIF_RSP_ERROR);
	}
	printf("\nhostile_front: mcast-full: DEL of the 1st: %d, ADD of the %uth again: %d, "
	       "NULLs %u of %u\n", st[DEL_ID], N, st[READD_ID], nulls, N + 2);
	bad += st[DEL_ID] != NETIF_RSP_OKAY;
	bad += st[READD_ID] != NETIF_RSP_OKAY;
	bad += nulls != N + 2;
	printf("hostile_front: mcast-full: %s\n", bad ? "UNEXPECTED answers" : "as Linux netback");
	fflush(stdout);
	return bad ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: hostile_front DOMID\n"
			"       hostile_front --mode flood-state|flood-evtchn|no-rx|mcast-full "
			"[--seconds S] DOMID\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct front f = { .ops = platform_by_name("sim") };
	enum mode mode = MODE_XSA39;
	unsigned long count = 0, errors = 0;
	double secs = 5, start, end;
	const char *what = "", *mode_name = "xsa39";
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "m:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			mode_name = optarg;
			if (strcmp(optarg, "flood-state") == 0)
				mode = MODE_FLOOD_STATE;
			else if (strcmp(optarg, "flood-evtchn") == 0)
				mode = MODE_FLOOD_EVTCHN;
			else if (strcmp(optarg, "no-rx") == 0)
				mode = MODE_NO_RX;
			else if (strcmp(optarg, "mcast-full") == 0)
				mode = MODE_MCAST_FULL;
			else {
				usage();
				return 2;
			}
			break;
		case 's':
			secs = strtod(optarg, NULL);
			if (!(secs > 0 && secs < 86400)) {
				usage();
				return 2;
			}
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - 1 || !f.ops) {
		usage();
		return 2;
	}
	f.mcast_control = mode == MODE_MCAST_FULL;
	if (front_connect(&f, atoi(argv[optind])) != 0) {
		front_close(&f);
		return 1;
	}
	if (mode == MODE_XSA39) {
		rc = run_xsa39(&f);
		front_close(&f);
		return rc;
	}

	start = now_s();
	end = start + secs;
	rc = 0;
	switch (mode) {
	case MODE_FLOOD_STATE:
		what = "state writes";
		count = flood_state(&f, end, &errors);
		break;
	case MODE_FLOOD_EVTCHN:
		what = "notifications";
		count = flood_evtchn(&f, end, &errors);
		break;
	case MODE_MCAST_FULL:
		what = "filter requests";
		count = MCAST_TABLE + 3;
		rc = run_mcast_full(&f);
		while (now_s() < end) /* connected a while: the test reads the counters */
			usleep(100000);
		break;
	default: /* MODE_NO_RX: the rings stay empty on our side */
		what = "buffers posted";
		while (now_s() < end)
			usleep(100000);
		break;
	}
	printf("hostile_front: %s: %lu %s in %.1f s (%lu failed), backend state %d\n",
	       mode_name, count, what, now_s() - start, errors, backend_state(&f.u, f.be));
	front_close(&f);
	return rc;
}
