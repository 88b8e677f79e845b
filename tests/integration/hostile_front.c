/* SPDX-License-Identifier: MIT */
/*
 * hostile_front.c - a frontend that misbehaves on purpose, over the
 * simulated Xen (the 'sim' platform). Every mode but xs-values first does
 * the handshake properly (rings granted, one event channel, state
 * Connected) and waits for the backend to connect; then:
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
 *   one-slot      XSA-392's other half: keeps exactly one RX buffer posted
 *                 (a frame that fits is taken and the buffer posted again)
 *                 while the host sends frames that need several: the
 *                 backend must count the guest as stalled all the same
 *                 (carrier off, queue drained; test_rx_stall.sh). On
 *                 SIGUSR1 it posts 32 and keeps 32 posted from then on.
 *                 Prints the RX responses it took.
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
 * For test_hostile.sh, one mode per row of conformance/xsa.md that the
 * engine's unit tests cover in isolation, against a running xnbd. These
 * watch the host side of the vif too: a packet socket on its TAP (--ifname,
 * default vif<DOMID>.0) sees every frame the backend hands the host, with
 * its virtio-net header, and injects frames for the guest. Frames we send
 * carry a source MAC 02:b5:<sequence number>, so each is found again.
 *
 *   double-fetch  XSA-155: packets of one and two slots whose gref, offset
 *                 and size a second thread keeps rewriting in the shared
 *                 ring, between values that are each valid, from the moment
 *                 they are published until answered. Every packet must be
 *                 answered OKAY, and each frame at the TAP must be exactly
 *                 the bytes of one consistent reading of its requests.
 *   grant-fail    XSA-362/367: TX requests naming grant refs beyond the
 *                 table, reserved, granted to another domain, ended before
 *                 posting, or revoked right after posting, amid good ones;
 *                 RX buffers no copy can fill. Bad ones get NETIF_RSP_ERROR
 *                 (revoked ones OKAY or ERROR, as the race goes), good ones
 *                 OKAY and their bytes; the vif stays Connected.
 *   split-headers XSA-423: UDP and TCP with a blank checksum, TCP GSO over
 *                 IPv4 and IPv6, UDP over IPv6, their headers cut into 1 to 3
 *                 byte slots: each must reach the TAP byte for byte, with
 *                 the checksum offsets and GSO type and size it was sent with.
 *   tiny-slots    XSA-432: 18 slots of 1 or 2 bytes, packets shorter than
 *                 the headers they claim (blank checksum, GSO): answered
 *                 ERROR (bad checksum / bad GSO), or delivered as they are
 *                 when they claim nothing.
 *   zero-frags    XSA-448: packets whose every slot is empty (alone, 18 of
 *                 them, with GSO, with a blank checksum): ERROR, counted as
 *                 runts; and good packets with empty slots around their
 *                 data: delivered.
 *   drop-checks   Linux netback's drops: 19 and 20 slots, a fragment
 *                 longer than the packet, a first slot shorter than an
 *                 Ethernet header, extras of type 0 and unknown, GSO size 0
 *                 and an unknown GSO type: each answered ERROR and counted,
 *                 each followed by a good packet that must get through.
 *   fatal         --case slots | page | page-first | extras: 21 slots, a
 *                 fragment's offset + size past its page, the first slot's,
 *                 five extra slots: the backend must disconnect the vif as
 *                 broken (after a good packet went through), naming queue
 *                 0's TX ring; after the verdict, host frames and
 *                 notifications go on, as below, for a spinning worker to
 *                 show.
 *                 --case rx-prod: XSA-39 on the RX ring: once a buffer was
 *                 filled, an RX request producer a whole ring plus one
 *                 ahead of what the backend took, a notification and host
 *                 frames (UDP, a flow each), so that the RX path runs into
 *                 it: broken as well. --case rx-prod-q1: the same on queue
 *                 1 of two (XSA-90: the fault is found on the second
 *                 queue's thread, the vif disabled from there). After the
 *                 verdict both keep sending host frames and notifying, so
 *                 that a worker spinning on the dead vif would show, and
 *                 print "expect worker idle" for the script to measure it.
 *   ctrl          XSA-270: a control ring (feature-ctrl-ring) with hash
 *                 requests every one of which is wrong in its own way
 *                 (offset + length overflowing 32 bits, past the table,
 *                 mapping entries >= the queues, key too long, size too big,
 *                 grants that are not) amid good ones: each answered with
 *                 the status netif.h names; the vif stays Connected.
 *                 --case prod: a control request producer a ring ahead: the
 *                 vif is disconnected as broken.
 *   steer-stall   XSA-424: the RX drop path under load and under hash
 *                 steering. Two queues, Toeplitz hashing over the control
 *                 ring with the mapping [0, 1]; queue 0 keeps 64 buffers
 *                 posted, queue 1 none, while the host sends TCP frames of
 *                 many flows for --seconds (15 or more: the backend drains
 *                 after 10 s): queue 1 must be drained (rx_queue_drops) and
 *                 answer nothing, frames steered between the threads
 *                 (rx_hash_steered) and queue 0 still receiving in the last
 *                 2 s; the vif stays Connected.
 *   closing-stuck the frontend goes Closing after connecting, and stays so
 *                 while the toolstack removes the vif: it must go.
 *   xs-values     --case NAME: a handshake with one XenStore value wrong
 *                 (see xs_cases[]); the backend must close the vif, with the
 *                 reason in its error node (checked by the script).
 *
 * These print what the script is to find in xnbctl's answers, one line
 * each: "expect counter NAME = N" (or >= N) for `xnbctl stats --json`
 * totals, "expect show FIELD.KEY = V" for `xnbctl show --json`, "expect
 * broken TEXT" for the reason a broken vif is listed with, "expect broken_on
 * RING" for the ring it names (in the list and the error node), "expect error
 * TEXT" for the error node, "expect worker idle" for a worker that must not
 * use the CPU while we go on; then "verdict ok" or "verdict FAILED", and stay
 * (connected) until SIGTERM or --linger seconds, so that the script reads
 * the counters of a live vif. Exit status 0 with verdict ok, 1 otherwise.
 *
 * The flood / no-rx / mcast-full modes run for --seconds S (default 5),
 * print one line of counts and the backend's state then, and exit 0; the
 * simulated domain dies with the process, which is how the backend learns
 * it is gone. The data-path modes above repeat their pattern for --seconds
 * (one round at least). Setup failures exit 1, bad usage 2.
 *
 * usage: hostile_front DOMID
 *        hostile_front --mode MODE [--case C] [--seconds S] [--linger S]
 *                      [--ifname IF] DOMID
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "front_ctrl.h"
#include "platform.h"
#include "ring.h"
#include "xs_util.h"

#include <xen/io/xenbus.h>

enum mode {
	MODE_XSA39, MODE_FLOOD_STATE, MODE_FLOOD_EVTCHN, MODE_NO_RX, MODE_MCAST_FULL,
	MODE_ONE_SLOT, MODE_DOUBLE_FETCH, MODE_GRANT_FAIL, MODE_SPLIT_HEADERS, MODE_TINY_SLOTS,
	MODE_ZERO_FRAGS, MODE_DROP_CHECKS, MODE_FATAL, MODE_CTRL, MODE_STEER_STALL, MODE_CLOSING_STUCK,
	MODE_XS_VALUES,
};

static const char *const mode_names[] = {
	[MODE_XSA39] = "xsa39", [MODE_FLOOD_STATE] = "flood-state",
	[MODE_FLOOD_EVTCHN] = "flood-evtchn", [MODE_NO_RX] = "no-rx",
	[MODE_MCAST_FULL] = "mcast-full", [MODE_ONE_SLOT] = "one-slot",
	[MODE_DOUBLE_FETCH] = "double-fetch",
	[MODE_GRANT_FAIL] = "grant-fail", [MODE_SPLIT_HEADERS] = "split-headers",
	[MODE_TINY_SLOTS] = "tiny-slots", [MODE_ZERO_FRAGS] = "zero-frags",
	[MODE_DROP_CHECKS] = "drop-checks", [MODE_FATAL] = "fatal", [MODE_CTRL] = "ctrl",
	[MODE_STEER_STALL] = "steer-stall",
	[MODE_CLOSING_STUCK] = "closing-stuck", [MODE_XS_VALUES] = "xs-values",
};

/* Linux netback's XEN_NETBK_MCAST_MAX, which xnbd follows (VIF_MCAST_MAX). */
#define MCAST_TABLE 64u
#define RS ENGINE_TX_RING_SIZE
#define PAGE ENGINE_PAGE_SIZE
/* Pages granted to the backend for packet data and RX buffers. */
#define POOL 256u
/* Grant refs no copy may use: past the sim's table (4096), and one it reserves. */
#define REF_PAST_TABLE 50000u
#define REF_RESERVED 3u
/* Packets (and request ids) in one exchange. */
#define MAX_PKTS 96u
#define MAX_IDS RS
/* Frames captured per exchange, and the largest (a 64 KiB GSO frame). */
#define MAX_CAPS 256u
#define CAP_MAX 70000u
/* Our frames: source MAC 02:b5:<seq>, sent to a MAC nobody has. */
static const uint8_t dst_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
#define ETH_P_XNB 0x88b5 /* IEEE local experimental */

/* One packet of an exchange: what we sent, what we expect, what came back. */
struct tpkt {
	uint8_t frame[CAP_MAX];
	uint32_t len;           /* of frame: what the host should see if delivered */
	uint32_t seq;
	uint16_t id0, nids;     /* its data slots' request ids */
	int want;               /* NETIF_RSP_OKAY / _ERROR, or ANY */
	bool check_vh;          /* compare the virtio-net header with vh */
	struct virtio_net_hdr vh;
	int got;                /* its status, or NONE */
	bool captured;
};
#define ANY 100
#define NONE 101

struct cap {
	uint32_t seq;
	uint32_t len;
	struct virtio_net_hdr vh;
	uint8_t *data;
};

struct front {
	const struct platform_ops *ops;
	struct platform *p;
	struct platform_gntshr *shr;
	struct platform_evtchn *evt;
	struct xs_util u;
	unsigned domid;
	char fe[96], be[128];
	netif_tx_sring_t *txs;
	netif_rx_sring_t *rxs;
	uint32_t tx_ref, rx_ref;
	int port;
	unsigned nr_queues;    /* 1: the flat keys; 2: queue-0/ and queue-1/ (q1 below) */
	struct {
		netif_tx_sring_t *txs;
		netif_rx_sring_t *rxs;
		uint32_t tx_ref, rx_ref;
		int port;
		RING_IDX rx_prod, rx_cons;
	} q1;
	bool mcast_control;    /* write request-multicast-control=1 */
	bool want_ctrl;        /* a control ring */
	RING_IDX tx_prod, tx_cons; /* our TX requests written, responses read */
	RING_IDX rx_prod, rx_cons;
	/* packet data and RX buffers */
	uint8_t *pool;
	uint32_t pool_ref[POOL];
	unsigned pool_next;
	/* the host side */
	char ifname[IF_NAMESIZE];
	int cap;
	struct cap caps[MAX_CAPS];
	unsigned nr_caps;
	uint32_t seq;
	/* one exchange */
	struct tpkt *pkts;
	unsigned nr_pkts;
	uint16_t next_id;
	unsigned nulls_owed;
	/* the control ring */
	xen_netif_ctrl_sring_t *ctrl_sring;
	uint32_t ctrl_ref;
	int ctrl_port;
	struct engine_front_ctrl fctrl;
	/* tallies */
	unsigned long okay, errors, bad;
	/* fatal cases: host frames sent and notifications made after the verdict */
	bool keep_poking;
	unsigned long poke_frames, poke_notifies;
};

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t post_more; /* one-slot: SIGUSR1 seen */

static void on_usr1(int sig)
{
	(void)sig;
	post_more = 1;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

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

/* A check of ours failed: say which, count it (the verdict). */
__attribute__((format(printf, 2, 3)))
static void bad(struct front *f, const char *fmt, ...)
{
	va_list ap;

	f->bad++;
	if (f->bad > 20)
		return; /* enough to go on */
	fputs("hostile_front: FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- the handshake ------------------------------------------------------- */

/* Open the domain and its handles, find the backend, wait for InitWait. 0 or -1. */
static int front_open(struct front *f, int domid)
{
	const struct platform_ops *ops = f->ops;

	f->p = ops->open(domid);
	if (!f->p)
		return -1;
	f->domid = ops->domid(f->p);
	f->shr = ops->gntshr_open(f->p);
	f->evt = ops->evtchn_open(f->p);
	f->u = (struct xs_util){ ops, ops->xs_open(f->p) };
	if (!f->shr || !f->evt || !f->u.xs)
		return -1;
	snprintf(f->fe, sizeof(f->fe), "/local/domain/%u/device/vif/0", f->domid);
	if (xs_util_read_str(&f->u, f->fe, "backend", f->be, sizeof(f->be)) != 0 ||
	    wait_state(&f->u, f->be, XenbusStateInitWait, true) < 0) {
		fprintf(stderr, "hostile_front: no backend in InitWait\n");
		return -1;
	}
	return 0;
}

/*
 * Grant the rings (the RX one read-only if asked), allocate the port; and
 * the second queue's, with its own port, if there are two. 0 or -1.
 */
static int front_rings(struct front *f, bool rx_readonly)
{
	const struct platform_ops *ops = f->ops;

	f->txs = ops->gntshr_share(f->shr, 0, 1, &f->tx_ref, true);
	f->rxs = ops->gntshr_share(f->shr, 0, 1, &f->rx_ref, !rx_readonly);
	f->port = ops->evtchn_alloc_unbound(f->evt, 0);
	if (!f->txs || !f->rxs || f->port < 0)
		return -1;
	SHARED_RING_INIT(f->txs);
	SHARED_RING_INIT(f->rxs);
	if (f->nr_queues < 2)
		return 0;
	f->q1.txs = ops->gntshr_share(f->shr, 0, 1, &f->q1.tx_ref, true);
	f->q1.rxs = ops->gntshr_share(f->shr, 0, 1, &f->q1.rx_ref, true);
	f->q1.port = ops->evtchn_alloc_unbound(f->evt, 0);
	if (!f->q1.txs || !f->q1.rxs || f->q1.port < 0)
		return -1;
	SHARED_RING_INIT(f->q1.txs);
	SHARED_RING_INIT(f->q1.rxs);
	return 0;
}

/* The control ring and its port, written with the other keys by front_publish. */
static int front_ctrl_ring(struct front *f)
{
	f->ctrl_sring = f->ops->gntshr_share(f->shr, 0, 1, &f->ctrl_ref, true);
	f->ctrl_port = f->ops->evtchn_alloc_unbound(f->evt, 0);
	if (!f->ctrl_sring || f->ctrl_port < 0)
		return -1;
	engine_front_ctrl_init(&f->fctrl, f->ctrl_sring);
	return 0;
}

/*
 * Publish our keys, @over overriding (or, with a NULL value, leaving out)
 * any of ours and adding the others, and state Connected. 0 or -1.
 */
static int front_publish(struct front *f, const struct xs_util_kv *over, unsigned nover)
{
	char tx_s[12], rx_s[12], port_s[12], cref_s[12], cport_s[12];
	char tx1_s[12], rx1_s[12], port1_s[12];
	struct xs_util_kv keys[24];
	unsigned n = 0;

	snprintf(tx_s, sizeof(tx_s), "%u", f->tx_ref);
	snprintf(rx_s, sizeof(rx_s), "%u", f->rx_ref);
	snprintf(port_s, sizeof(port_s), "%d", f->port);
	if (f->nr_queues == 2) {
		/* Linux's layout for more than one queue: each in its queue-N/. */
		snprintf(tx1_s, sizeof(tx1_s), "%u", f->q1.tx_ref);
		snprintf(rx1_s, sizeof(rx1_s), "%u", f->q1.rx_ref);
		snprintf(port1_s, sizeof(port1_s), "%d", f->q1.port);
		keys[n++] = (struct xs_util_kv){ "multi-queue-num-queues", "2" };
		keys[n++] = (struct xs_util_kv){ "queue-0/tx-ring-ref", tx_s };
		keys[n++] = (struct xs_util_kv){ "queue-0/rx-ring-ref", rx_s };
		keys[n++] = (struct xs_util_kv){ "queue-0/event-channel", port_s };
		keys[n++] = (struct xs_util_kv){ "queue-1/tx-ring-ref", tx1_s };
		keys[n++] = (struct xs_util_kv){ "queue-1/rx-ring-ref", rx1_s };
		keys[n++] = (struct xs_util_kv){ "queue-1/event-channel", port1_s };
	} else {
		keys[n++] = (struct xs_util_kv){ "tx-ring-ref", tx_s };
		keys[n++] = (struct xs_util_kv){ "rx-ring-ref", rx_s };
		keys[n++] = (struct xs_util_kv){ "event-channel", port_s };
	}
	keys[n++] = (struct xs_util_kv){ "request-rx-copy", "1" };
	keys[n++] = (struct xs_util_kv){ "feature-rx-notify", "1" };
	/* sg: big host frames wait for buffers (no-rx) instead of being dropped */
	keys[n++] = (struct xs_util_kv){ "feature-sg", "1" };
	if (f->mcast_control)
		keys[n++] = (struct xs_util_kv){ "request-multicast-control", "1" };
	if (f->want_ctrl) {
		snprintf(cref_s, sizeof(cref_s), "%u", f->ctrl_ref);
		snprintf(cport_s, sizeof(cport_s), "%d", f->ctrl_port);
		keys[n++] = (struct xs_util_kv){ "ctrl-ring-ref", cref_s };
		keys[n++] = (struct xs_util_kv){ "event-channel-ctrl", cport_s };
	}
	for (unsigned i = 0; i < nover; i++) {
		unsigned k;

		for (k = 0; k < n && strcmp(keys[k].key, over[i].key) != 0; k++)
			;
		if (k == n)
			keys[n++] = over[i];
		else
			keys[k].val = over[i].val;
	}
	/* Left out: the key holds no value. */
	for (unsigned k = 0; k < n;) {
		if (!keys[k].val)
			keys[k] = keys[--n];
		else
			k++;
	}
	keys[n++] = (struct xs_util_kv){ "state", "4" };
	/* The state last: the backend samples the rest when it sees it. */
	if (xs_util_write_keys(&f->u, f->fe, keys, n - 1) != 0 ||
	    xs_util_write_keys(&f->u, f->fe, &keys[n - 1], 1) != 0)
		return -1;
	return 0;
}

static int front_connect(struct front *f, int domid)
{
	if (front_open(f, domid) != 0 || front_rings(f, false) != 0 ||
	    (f->want_ctrl && front_ctrl_ring(f) != 0) || front_publish(f, NULL, 0) != 0)
		return -1;
	if (wait_state(&f->u, f->be, XenbusStateConnected, true) < 0) {
		fprintf(stderr, "hostile_front: backend did not connect\n");
		return -1;
	}
	return 0;
}

static void front_close(struct front *f)
{
	for (unsigned i = 0; i < f->nr_caps; i++)
		free(f->caps[i].data);
	if (f->cap >= 0)
		close(f->cap);
	if (f->u.xs)
		f->ops->xs_close(f->u.xs);
	if (f->evt)
		f->ops->evtchn_close(f->evt);
	if (f->shr)
		f->ops->gntshr_close(f->shr);
	if (f->p)
		f->ops->close(f->p);
	free(f->pkts);
}

/* ---- the original modes ---------------------------------------------------- */

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

/* One TX request slot, written at our private producer. */
static netif_tx_request_t *tx_slot(struct front *f)
{
	return &f->txs->ring[f->tx_prod++ % RS].req;
}

static void tx_req(struct front *f, uint32_t gref, uint16_t off, uint16_t flags, uint16_t id,
		   uint16_t size)
{
	netif_tx_request_t *req = tx_slot(f);

	req->gref = gref;
	req->offset = off;
	req->flags = flags;
	req->id = id;
	req->size = size;
}

static void tx_extra(struct front *f, const struct netif_extra_info *ex)
{
	memcpy(tx_slot(f), ex, sizeof(*ex));
}

/* One multicast filter request (two slots), written but not published. */
static void put_mcast(struct front *f, uint16_t id, bool add, const uint8_t addr[6])
{
	struct netif_extra_info ex;

	tx_req(f, 0, 0, NETTXF_extra_info, id, 0);
	memset(&ex, 0, sizeof(ex));
	ex.type = add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD : XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
	memcpy(ex.u.mcast.addr, addr, 6);
	tx_extra(f, &ex);
}

/*
 * Publish what was written, notify, and read every response (5 s at most):
 * the status of request id @base + i goes to st[i] (i < @nids), NULLs are
 * counted, and so are responses with ids outside that range in *@stray
 * (if not NULL). 0 once all are answered, -1 otherwise.
 */
static int tx_exchange(struct front *f, int16_t *st, uint16_t base, unsigned nids,
		       unsigned *nulls, unsigned *stray)
{
	__atomic_store_n(&f->txs->req_prod, f->tx_prod, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)f->port);
	for (int i = 0; i < 500; i++) {
		RING_IDX prod = __atomic_load_n(&f->txs->rsp_prod, __ATOMIC_ACQUIRE);

		while (f->tx_cons != prod && f->tx_cons != f->tx_prod) {
			netif_tx_response_t r = f->txs->ring[f->tx_cons++ % RS].rsp;

			if (r.status == NETIF_RSP_NULL)
				(*nulls)++;
			else if ((uint16_t)(r.id - base) < nids)
				st[(uint16_t)(r.id - base)] = r.status;
			else if (stray)
				(*stray)++;
		}
		if (f->tx_cons == f->tx_prod)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* mcast-full: 0 if the backend answered as Linux netback does. */
static int run_mcast_full(struct front *f)
{
	enum { N = MCAST_TABLE + 1, DEL_ID = N, READD_ID = N + 1, NIDS = N + 2 };
	uint8_t addr[N][6];
	int16_t st[NIDS];
	unsigned nulls = 0, nbad = 0;

	for (unsigned i = 0; i < NIDS; i++)
		st[i] = 99; /* no answer */
	for (unsigned i = 0; i < N; i++) {
		const uint8_t a[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, (uint8_t)i };

		memcpy(addr[i], a, 6);
		put_mcast(f, (uint16_t)i, true, addr[i]);
	}
	if (tx_exchange(f, st, 0, NIDS, &nulls, NULL) != 0)
		fprintf(stderr, "hostile_front: not every ADD was answered\n");
	put_mcast(f, DEL_ID, false, addr[0]);
	put_mcast(f, READD_ID, true, addr[N - 1]);
	if (tx_exchange(f, st, 0, NIDS, &nulls, NULL) != 0)
		fprintf(stderr, "hostile_front: the DEL and the ADD again were not answered\n");

	printf("hostile_front: mcast-full: ADD 1..%u statuses:", N);
	for (unsigned i = 0; i < N; i++) {
		printf(" %d", st[i]);
		nbad += st[i] != (i < MCAST_TABLE ? NETIF_RSP_OKAY : NETIF_RSP_ERROR);
	}
	printf("\nhostile_front: mcast-full: DEL of the 1st: %d, ADD of the %uth again: %d, "
	       "NULLs %u of %u\n", st[DEL_ID], N, st[READD_ID], nulls, N + 2);
	nbad += st[DEL_ID] != NETIF_RSP_OKAY;
	nbad += st[READD_ID] != NETIF_RSP_OKAY;
	nbad += nulls != N + 2;
	printf("hostile_front: mcast-full: %s\n", nbad ? "UNEXPECTED answers" : "as Linux netback");
	fflush(stdout);
	return nbad ? 1 : 0;
}

/* ---- frames ------------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Ethernet header: to nobody, from 02:b5:<seq>. Returns its length. */
static size_t eth(uint8_t *b, uint32_t seq, uint16_t type)
{
	memcpy(b, dst_mac, 6);
	b[6] = 0x02;
	b[7] = 0xb5;
	put32(b + 8, seq);
	put16(b + 12, type);
	return 14;
}

/* Bytes anyone can tell apart: the sequence number spread over the payload. */
static void pattern(uint8_t *p, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* A raw frame of @len bytes (our ethertype; whatever fits of the header below 14). */
static uint32_t frame_raw(uint8_t *b, uint32_t len, uint32_t seq)
{
	uint8_t hdr[14];

	eth(hdr, seq, ETH_P_XNB);
	memcpy(b, hdr, len < 14 ? len : 14);
	if (len > 14)
		pattern(b + 14, len - 14, seq);
	return len;
}

/*
 * An IPv4 (or, @v6, IPv6) frame carrying UDP (or, @tcp, TCP) with @payload
 * bytes, its L4 checksum field holding the pseudo-header sum (what a sender
 * leaving the checksum blank puts there). (No VLAN tag: the host's stack
 * takes it off before a packet socket sees the frame.) Returns its length;
 * *@csum_start and *@csum_offset say where the checksum goes.
 */
static uint32_t frame_ip(uint8_t *b, uint32_t seq, bool v6, bool tcp, uint32_t payload,
			 uint16_t *csum_start, uint16_t *csum_offset)
{
	size_t l2 = eth(b, seq, v6 ? ETH_P_IPV6 : ETH_P_IP);
	size_t l3 = v6 ? 40 : 20, l4 = tcp ? 20 : 8;
	uint32_t l4len = (uint32_t)l4 + payload, sum;
	uint8_t *ip, *th;

	ip = b + l2;
	memset(ip, 0, l3);
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 2;
		ip[24] = 0xfd;
		ip[39] = 1;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 4, (uint16_t)seq);
		ip[8] = 64;
		ip[9] = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		ip[12] = 10, ip[13] = 218, ip[14] = 255, ip[15] = 2;
		ip[16] = 10, ip[17] = 218, ip[18] = 255, ip[19] = 1;
		put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, 20)));
	}
	th = ip + l3;
	memset(th, 0, l4);
	put16(th, (uint16_t)(40000 + seq % 20000));
	put16(th + 2, 9);
	if (tcp) {
		put32(th + 4, seq * 100000u);
		th[12] = 5 << 4;
		th[13] = 0x18; /* PSH, ACK */
		put16(th + 14, 65535);
	} else {
		put16(th + 4, (uint16_t)l4len);
	}
	pattern(th + l4, payload, seq);
	/* The pseudo-header sum, not inverted: what csum_blank leaves in the field. */
	sum = v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);
	sum += v6 ? (l4len >> 16) + (l4len & 0xffff) : l4len;
	sum += tcp ? IPPROTO_TCP : IPPROTO_UDP;
	put16(th + (tcp ? 16 : 6), csum_fold(sum));
	*csum_start = (uint16_t)(l2 + l3);
	*csum_offset = tcp ? 16 : 6;
	return (uint32_t)(l2 + l3 + l4len);
}

/* ---- the host side: a packet socket on the TAP -------------------------------- */

static int cap_open(struct front *f)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, buf = 8 << 20;

	for (int i = 0; i < 100 && !(sll.sll_ifindex = (int)if_nametoindex(f->ifname)); i++)
		usleep(50000);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "hostile_front: no interface %s\n", f->ifname);
		return -1;
	}
	f->cap = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (f->cap < 0 ||
	    setsockopt(f->cap, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) != 0 ||
	    bind(f->cap, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		perror("hostile_front: packet socket");
		return -1;
	}
	setsockopt(f->cap, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	return 0;
}

/* Forget what was captured. */
static void cap_reset(struct front *f)
{
	for (unsigned i = 0; i < f->nr_caps; i++)
		free(f->caps[i].data);
	f->nr_caps = 0;
}

/*
 * Collect the frames the backend handed the host (ours: source 02:b5:...)
 * until none came for @idle_ms.
 */
static void cap_collect(struct front *f, int idle_ms)
{
	static uint8_t buf[sizeof(struct virtio_net_hdr) + CAP_MAX];
	struct pollfd pfd = { .fd = f->cap, .events = POLLIN };

	while (poll(&pfd, 1, idle_ms) > 0) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(f->cap, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fl);
		const uint8_t *fr = buf + sizeof(struct virtio_net_hdr);
		size_t len;
		struct cap *c;

		if (n < (ssize_t)sizeof(struct virtio_net_hdr) || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		len = (size_t)n - sizeof(struct virtio_net_hdr);
		if (len < 12 || fr[6] != 0x02 || fr[7] != 0xb5 || f->nr_caps == MAX_CAPS ||
		    len > CAP_MAX)
			continue;
		c = &f->caps[f->nr_caps];
		c->data = malloc(len);
		if (!c->data)
			continue;
		memcpy(&c->vh, buf, sizeof(c->vh));
		memcpy(c->data, fr, len);
		c->len = (uint32_t)len;
		c->seq = get32(fr + 8);
		f->nr_caps++;
	}
}

/* Send @len bytes into the TAP, as the host would to the guest. */
static int cap_inject(struct front *f, const uint8_t *frame, size_t len)
{
	static uint8_t buf[sizeof(struct virtio_net_hdr) + 2048];

	if (len > 2048)
		return -1;
	memset(buf, 0, sizeof(struct virtio_net_hdr));
	memcpy(buf + sizeof(struct virtio_net_hdr), frame, len);
	return send(f->cap, buf, sizeof(struct virtio_net_hdr) + len, 0) < 0 ? -1 : 0;
}

/* ---- TX exchanges ---------------------------------------------------------------- */

static int pool_share(struct front *f)
{
	f->pool = f->ops->gntshr_share(f->shr, 0, POOL, f->pool_ref, true);
	f->pkts = calloc(MAX_PKTS, sizeof(*f->pkts));
	return f->pool && f->pkts ? 0 : -1;
}

/* A fresh pool page: its local address, its grant in *@ref. */
static uint8_t *pool_page(struct front *f, uint32_t *ref)
{
	unsigned i = f->pool_next++ % POOL;

	*ref = f->pool_ref[i];
	return f->pool + (size_t)i * PAGE;
}

/*
 * Queue 0's RX ring: post pool pages (reused in turn; what lands in them is
 * not looked at) until @want are outstanding, and notify if any were.
 */
static void rx_keep_posted(struct front *f, unsigned want)
{
	bool posted = false;

	while (f->rx_prod - f->rx_cons < want) {
		netif_rx_request_t *r = &f->rxs->ring[f->rx_prod % RS].req;
		uint32_t ref;

		pool_page(f, &ref);
		r->id = (uint16_t)(f->rx_prod % RS);
		r->gref = ref;
		f->rx_prod++;
		posted = true;
	}
	if (posted) {
		__atomic_store_n(&f->rxs->req_prod, f->rx_prod, __ATOMIC_RELEASE);
		f->ops->evtchn_notify(f->evt, (uint32_t)f->port);
	}
}

static void xchg_begin(struct front *f)
{
	f->nr_pkts = 0;
	f->next_id = 0;
	f->nulls_owed = 0;
	cap_reset(f);
}

static struct tpkt *new_pkt(struct front *f, int want)
{
	struct tpkt *p = &f->pkts[f->nr_pkts++];

	p->seq = ++f->seq;
	p->want = want;
	p->got = NONE;
	p->check_vh = false;
	p->captured = false;
	p->len = 0;
	p->id0 = f->next_id;
	p->nids = 0;
	return p;
}

/*
 * Write @p (its frame and len filled in) as @n data slots: slot k holds
 * own[k] bytes of the frame (zeros past its end), in a pool page at @off,
 * or for slots of 64 bytes or less, sharing a page at 64-byte steps; slot
 * 0's size field says @first_size; the @nex extras follow slot 0.
 */
static void put_pkt(struct front *f, struct tpkt *p, const uint16_t *own, unsigned n,
		    uint16_t first_size, uint16_t off, uint16_t txflags,
		    const struct netif_extra_info *ex, unsigned nex)
{
	uint8_t *small = NULL;
	uint32_t small_ref = 0, pos = 0;
	unsigned small_used = 0;

	for (unsigned k = 0; k < n; k++) {
		uint16_t flags = k == 0 ? txflags : 0, at = off;
		uint32_t ref;
		uint8_t *page;

		if (own[k] <= 64) {
			if (!small || small_used == PAGE / 64) {
				small = pool_page(f, &small_ref);
				small_used = 0;
			}
			page = small;
			ref = small_ref;
			at = (uint16_t)(small_used++ * 64);
		} else {
			page = pool_page(f, &ref);
			if ((uint32_t)at + own[k] > PAGE)
				at = 0;
		}
		for (uint32_t i = 0; i < own[k]; i++)
			page[at + i] = pos + i < p->len ? p->frame[pos + i] : 0;
		pos += own[k];
		if (k + 1 < n)
			flags |= NETTXF_more_data;
		if (k == 0 && nex)
			flags |= NETTXF_extra_info;
		tx_req(f, ref, at, flags, f->next_id++, k == 0 ? first_size : own[k]);
		p->nids++;
		for (unsigned e = 0; k == 0 && e < nex; e++) {
			struct netif_extra_info x = ex[e];

			if (e + 1 < nex)
				x.flags |= XEN_NETIF_EXTRA_FLAG_MORE;
			tx_extra(f, &x);
			f->nulls_owed++;
		}
	}
}

/* @p over @n slots as an honest frontend would: @own[k] bytes each, slot 0 the total. */
static void put_honest(struct front *f, struct tpkt *p, const uint16_t *own, unsigned n,
		       uint16_t txflags, const struct netif_extra_info *ex, unsigned nex)
{
	put_pkt(f, p, own, n, (uint16_t)p->len, 0, txflags, ex, nex);
}

/* A good one-slot raw packet of @len bytes: it must get through. */
static void put_good(struct front *f, uint32_t len)
{
	struct tpkt *p = new_pkt(f, NETIF_RSP_OKAY);
	uint16_t own = (uint16_t)len;

	p->len = frame_raw(p->frame, len, p->seq);
	put_honest(f, p, &own, 1, 0, NULL, 0);
}

/*
 * Publish and wait for every answer, then see what reached the TAP:
 * statuses as wanted (every slot of a packet the same), a frame for every
 * packet answered OKAY (the bytes sent; the virtio-net header asked for),
 * none for the others. -1 when the backend did not answer them all.
 */
static int xchg_run(struct front *f)
{
	static int16_t st[MAX_IDS];
	unsigned nulls = 0, stray = 0;
	int rc;

	for (unsigned i = 0; i < MAX_IDS; i++)
		st[i] = NONE;
	rc = tx_exchange(f, st, 0, MAX_IDS, &nulls, &stray);
	if (stray)
		bad(f, "%u responses with ids never sent", stray);
	if (rc != 0)
		bad(f, "%u of %u requests unanswered (backend state %d)",
		    (unsigned)(f->tx_prod - f->tx_cons), f->next_id + f->nulls_owed,
		    backend_state(&f->u, f->be));
	if (nulls != f->nulls_owed)
		bad(f, "%u NULL responses for %u extra slots", nulls, f->nulls_owed);
	cap_collect(f, 150);
	for (unsigned i = 0; i < f->nr_pkts; i++) {
		struct tpkt *p = &f->pkts[i];

		p->got = st[p->id0];
		for (unsigned k = 1; k < p->nids; k++)
			if (st[p->id0 + k] != p->got)
				bad(f, "packet %u: slot %u answered %d, its first %d", p->seq, k,
				    st[p->id0 + k], p->got);
		if (p->got == NETIF_RSP_OKAY)
			f->okay++;
		else if (p->got == NETIF_RSP_ERROR)
			f->errors++;
		if (p->want != ANY && p->got != p->want)
			bad(f, "packet %u: answered %d, not %d", p->seq, p->got, p->want);
		else if (p->want == ANY && p->got != NETIF_RSP_OKAY && p->got != NETIF_RSP_ERROR)
			bad(f, "packet %u: answered %d", p->seq, p->got);
	}
	for (unsigned c = 0; c < f->nr_caps; c++) {
		const struct cap *k = &f->caps[c];
		struct tpkt *p = NULL;

		for (unsigned i = 0; i < f->nr_pkts && !p; i++)
			if (f->pkts[i].seq == k->seq && f->pkts[i].len >= 12)
				p = &f->pkts[i];
		if (!p)
			continue; /* a frame of another exchange's, or whose marker we cut */
		if (p->captured)
			bad(f, "packet %u reached the host twice", p->seq);
		p->captured = true;
		if (p->got != NETIF_RSP_OKAY)
			bad(f, "packet %u answered %d, yet reached the host", p->seq, p->got);
		else if (k->len != p->len || memcmp(k->data, p->frame, p->len) != 0)
			bad(f, "packet %u: %u bytes at the host, %u sent, %s", p->seq, k->len, p->len,
			    k->len == p->len ? "contents differ" : "length differs");
		else if (p->check_vh &&
			 (k->vh.flags != p->vh.flags || k->vh.gso_type != p->vh.gso_type ||
			  k->vh.gso_size != p->vh.gso_size || k->vh.csum_start != p->vh.csum_start ||
			  k->vh.csum_offset != p->vh.csum_offset))
			bad(f, "packet %u: virtio-net header flags %u gso %u/%u csum %u+%u, sent "
			    "%u gso %u/%u csum %u+%u", p->seq, k->vh.flags, k->vh.gso_type,
			    k->vh.gso_size, k->vh.csum_start, k->vh.csum_offset, p->vh.flags,
			    p->vh.gso_type, p->vh.gso_size, p->vh.csum_start, p->vh.csum_offset);
	}
	for (unsigned i = 0; i < f->nr_pkts; i++) {
		const struct tpkt *p = &f->pkts[i];

		if (p->got == NETIF_RSP_OKAY && !p->captured && p->len >= 12)
			bad(f, "packet %u answered OKAY, never reached the host", p->seq);
	}
	return rc;
}

/* Still Connected? A data-path mode's last word on the vif. */
static void check_connected(struct front *f)
{
	int st = backend_state(&f->u, f->be);

	if (st != XenbusStateConnected)
		bad(f, "the backend left Connected (state %d)", st);
}

static void expect_counter(const char *name, const char *op, unsigned long v)
{
	printf("hostile_front: expect counter %s %s %lu\n", name, op, v);
}

/* ---- double-fetch (XSA-155) ------------------------------------------------------ */

/* A field of a published request that the flipper rewrites between two values. */
struct flip {
	void *field;
	unsigned width;         /* 2 or 4 bytes */
	uint32_t a, b;
};

#define MAX_FLIPS 256
static struct {
	pthread_t tid;
	struct flip f[MAX_FLIPS];
	unsigned n;
	int run;                /* 1: flip; 0: hold; -1: exit */
	int idle;               /* the thread saw run == 0 */
	unsigned long writes;
} flipper;

static void *flip_main(void *arg)
{
	uint32_t r = 12345;

	(void)arg;
	for (;;) {
		int run = __atomic_load_n(&flipper.run, __ATOMIC_ACQUIRE);

		if (run < 0)
			return NULL;
		if (run == 0) {
			__atomic_store_n(&flipper.idle, 1, __ATOMIC_RELEASE);
			usleep(100);
			continue;
		}
		__atomic_store_n(&flipper.idle, 0, __ATOMIC_RELEASE);
		for (unsigned i = 0; i < flipper.n; i++) {
			struct flip *x = &flipper.f[(i * 7 + r) % flipper.n];
			uint32_t v;

			r = r * 1103515245u + 12345u;
			v = (r >> 16) & 1 ? x->a : x->b;
			if (x->width == 2)
				__atomic_store_n((uint16_t *)x->field, (uint16_t)v, __ATOMIC_RELAXED);
			else
				__atomic_store_n((uint32_t *)x->field, v, __ATOMIC_RELAXED);
			flipper.writes++;
		}
	}
}

static void flip_set(int run)
{
	__atomic_store_n(&flipper.run, run, __ATOMIC_RELEASE);
	if (run == 0) {
		__atomic_store_n(&flipper.idle, 0, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&flipper.idle, __ATOMIC_ACQUIRE))
			usleep(50);
	}
}

static void flip_add(void *field, unsigned width, uint32_t a, uint32_t b)
{
	if (flipper.n < MAX_FLIPS)
		flipper.f[flipper.n++] = (struct flip){ field, width, a, b };
}

/* Where a double-fetch packet may read: two grants, two offsets each. */
struct df_pkt {
	uint32_t seq;
	uint8_t *page[2];
	uint32_t ref[2];
	bool two;               /* a head slot (fixed) and a fragment that moves */
	uint8_t *head;          /* two: the head's page (offset 0) */
	uint16_t id;            /* of the (first) data slot */
};

#define DF_OFF_B 2048u
static const uint16_t df_size[2] = { 100, 1400 };    /* one slot: the packet's size */
static const uint16_t df_frag[2] = { 200, 1000 };    /* two slots: the fragment's */
static const uint16_t df_total[2] = { 1200, 1400 };  /* ... and the head's total */

/* The bytes at each place a packet may read: a frame header naming the place, then a pattern. */
static void df_fill(struct df_pkt *d)
{
	for (unsigned g = 0; g < 2; g++) {
		for (unsigned o = 0; o < 2; o++) {
			uint8_t *at = d->page[g] + (o ? DF_OFF_B : 0);

			eth(at, d->seq, ETH_P_XNB);
			at[14] = (uint8_t)(g * 2 + o); /* which place */
			pattern(at + 15, 1400 - 15, d->seq * 4 + g * 2 + o);
		}
	}
	if (d->two) {
		eth(d->head, d->seq, ETH_P_XNB);
		pattern(d->head + 14, 1400 - 14, d->seq);
	}
}

/*
 * Is @c exactly one consistent reading of @d's requests? -1 if not, else
 * which: 0 for the values as first written, above 0 for rewritten ones.
 */
static int df_reading(const struct df_pkt *d, const struct cap *c)
{
	for (unsigned g = 0; g < 2; g++) {
		for (unsigned o = 0; o < 2; o++) {
			const uint8_t *at = d->page[g] + (o ? DF_OFF_B : 0);

			for (unsigned s = 0; s < 2; s++) {
				if (!d->two) {
					if (c->len == df_size[s] && memcmp(c->data, at, c->len) == 0)
						return (int)(g * 4 + o * 2 + s);
					continue;
				}
				for (unsigned t = 0; t < 2; t++) {
					uint32_t head = (uint32_t)df_total[t] - df_frag[s];

					if (c->len == df_total[t] && memcmp(c->data, d->head, head) == 0 &&
					    memcmp(c->data + head, at, df_frag[s]) == 0)
						return (int)(g * 8 + o * 4 + s * 2 + t);
				}
			}
		}
	}
	return -1;
}

/*
 * Our request ids here: far from any grant ref, because a gref the flipper
 * writes after the backend put its response in the slot (responses overlay
 * requests: id and status sit where gref does) reads back as id = ref,
 * status OKAY. Such a response is ours to have spoiled, not the backend's.
 */
#define DF_ID_BASE 0x8000u

static void run_double_fetch(struct front *f, double end)
{
	enum { ONE = 24, TWO = 12, NIDS = 2 * (ONE + TWO) };
	static struct df_pkt d[ONE + TWO];
	static int16_t st[NIDS];
	unsigned long rounds = 0, frames = 0, spoiled = 0, checked = 0, rewritten = 0;

	if (pthread_create(&flipper.tid, NULL, flip_main, NULL) != 0) {
		bad(f, "no flipper thread");
		return;
	}
	do {
		unsigned nulls = 0, stray = 0;

		flip_set(0);
		flipper.n = 0;
		cap_reset(f);
		for (unsigned i = 0; i < ONE + TWO; i++) {
			netif_tx_request_t *r;

			d[i].seq = ++f->seq;
			d[i].two = i >= ONE;
			d[i].page[0] = pool_page(f, &d[i].ref[0]);
			d[i].page[1] = pool_page(f, &d[i].ref[1]);
			d[i].id = (uint16_t)(DF_ID_BASE + 2 * i);
			if (d[i].two) {
				uint32_t head_ref;

				d[i].head = pool_page(f, &head_ref);
				df_fill(&d[i]);
				r = tx_slot(f);
				*r = (netif_tx_request_t){ .gref = head_ref, .offset = 0,
							   .flags = NETTXF_more_data, .id = d[i].id,
							   .size = df_total[0] };
				flip_add(&r->size, 2, df_total[0], df_total[1]);
				r = tx_slot(f);
				*r = (netif_tx_request_t){ .gref = d[i].ref[0], .offset = 0, .flags = 0,
							   .id = (uint16_t)(d[i].id + 1),
							   .size = df_frag[0] };
				flip_add(&r->size, 2, df_frag[0], df_frag[1]);
			} else {
				df_fill(&d[i]);
				r = tx_slot(f);
				*r = (netif_tx_request_t){ .gref = d[i].ref[0], .offset = 0, .flags = 0,
							   .id = d[i].id, .size = df_size[0] };
				flip_add(&r->size, 2, df_size[0], df_size[1]);
			}
			flip_add(&r->gref, 4, d[i].ref[0], d[i].ref[1]);
			flip_add(&r->offset, 2, 0, DF_OFF_B);
		}
		for (unsigned i = 0; i < NIDS; i++)
			st[i] = NONE;
		/* Rewritten from before the backend can see them until all are answered. */
		flip_set(1);
		if (tx_exchange(f, st, DF_ID_BASE, NIDS, &nulls, &stray) != 0)
			bad(f, "round %lu: requests unanswered (backend state %d)", rounds,
			    backend_state(&f->u, f->be));
		flip_set(0);
		spoiled += stray;
		cap_collect(f, 100);
		for (unsigned i = 0; i < ONE + TWO; i++) {
			unsigned seen = 0, idx = d[i].id - DF_ID_BASE;

			/* Every answer we can still read says OKAY (and the counters, all). */
			for (unsigned k = 0; k < (d[i].two ? 2u : 1u); k++) {
				if (st[idx + k] == NONE)
					continue;
				checked++;
				if (st[idx + k] != NETIF_RSP_OKAY)
					bad(f, "packet %u slot %u answered %d", d[i].seq, k,
					    st[idx + k]);
			}
			for (unsigned c = 0; c < f->nr_caps; c++) {
				if (f->caps[c].seq != d[i].seq)
					continue;
				int how = df_reading(&d[i], &f->caps[c]);

				seen++;
				if (how < 0)
					bad(f, "packet %u: %u bytes at the host, no consistent reading of "
					    "its requests", d[i].seq, f->caps[c].len);
				rewritten += how > 0;
			}
			if (seen != 1)
				bad(f, "packet %u reached the host %u times", d[i].seq, seen);
			frames += seen;
		}
		f->okay += ONE + TWO;
		rounds++;
	} while (now_s() < end && !f->bad);
	flip_set(-1);
	pthread_join(flipper.tid, NULL);
	printf("hostile_front: double-fetch: %lu rounds, %lu packets, %lu frames at the host each "
	       "one consistent reading (%lu of rewritten values), %lu answers read OKAY (%lu "
	       "spoiled by our own rewrites), %lu rewrites of published requests\n", rounds,
	       f->okay, frames, rewritten, checked, spoiled, flipper.writes);
	if (checked == 0)
		bad(f, "no answer left readable");
	expect_counter("tx_errors", "=", 0);
	expect_counter("tx_packets", "=", f->okay);
	check_connected(f);
}

/* ---- grant-fail (XSA-362/367) ------------------------------------------------------ */

/* A packet whose data slot names @ref; @want: its answer. */
static void put_ref(struct front *f, uint32_t ref, int want)
{
	struct tpkt *p = new_pkt(f, want);

	p->len = frame_raw(p->frame, 200, p->seq);
	tx_req(f, ref, 0, 0, f->next_id++, (uint16_t)p->len);
	p->nids = 1;
}

/* A page shared on its own, the frame of @p in it: for ending its grant. */
static uint8_t *share_one(struct front *f, uint16_t domid, uint32_t *ref)
{
	uint8_t *pg = f->ops->gntshr_share(f->shr, domid, 1, ref, false);

	if (!pg)
		bad(f, "cannot share a page: %s", strerror(errno));
	return pg;
}

static void grant_fail_tx(struct front *f, unsigned long *bad_refs)
{
	enum { REVOKED = 8 };
	uint8_t *rev[REVOKED], *ended, *other;
	uint32_t rev_ref[REVOKED], ended_ref, other_ref;

	xchg_begin(f);
	/* Every page shared first: a share after an end could take the ended ref again. */
	ended = share_one(f, 0, &ended_ref);
	other = share_one(f, 1, &other_ref); /* granted, to another domain */
	for (unsigned i = 0; i < REVOKED; i++)
		rev[i] = share_one(f, 0, &rev_ref[i]);
	if (!ended || !other)
		return;
	/* Ended before we post it: the ref names no grant. */
	if (f->ops->gntshr_unshare(f->shr, ended, 1) != 0)
		bad(f, "cannot end a grant");
	put_good(f, 300);
	put_ref(f, REF_PAST_TABLE, NETIF_RSP_ERROR);
	put_good(f, 301);
	put_ref(f, REF_RESERVED, NETIF_RSP_ERROR);
	put_good(f, 302);
	put_ref(f, ended_ref, NETIF_RSP_ERROR);
	put_good(f, 303);
	put_ref(f, other_ref, NETIF_RSP_ERROR);
	put_good(f, 304);
	*bad_refs += 4;
	/* Revoked right after posting: whichever the backend meets first. */
	for (unsigned i = 0; i < REVOKED; i++) {
		struct tpkt *p;

		if (!rev[i])
			return;
		p = new_pkt(f, ANY);
		p->len = frame_raw(p->frame, 400, p->seq);
		memcpy(rev[i], p->frame, p->len);
		tx_req(f, rev_ref[i], 0, 0, f->next_id++, (uint16_t)p->len);
		p->nids = 1;
		put_good(f, 305 + i);
	}
	__atomic_store_n(&f->txs->req_prod, f->tx_prod, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)f->port);
	for (unsigned i = 0; i < REVOKED; i++) {
		/* -EBUSY while a copy is in flight (gnttab_end_foreign_access_ref). */
		for (int t = 0; t < 1000 && f->ops->gntshr_unshare(f->shr, rev[i], 1) == -EBUSY; t++)
			usleep(100);
	}
	xchg_run(f);
	f->ops->gntshr_unshare(f->shr, other, 1);
}

/* RX buffers no copy can fill, then good ones: what the host sends goes where it can. */
static void grant_fail_rx(struct front *f, unsigned long *bad_bufs)
{
	enum { NBAD = 4, NGOOD = 32, NEW = 4 };
	uint8_t *ro, *other, frame[600];
	uint32_t ro_ref, other_ref, refs[NBAD], good_ref[NGOOD];
	uint8_t *good[NGOOD];
	unsigned errors = 0, intact = 0;
	RING_IDX prod;

	ro = f->ops->gntshr_share(f->shr, 0, 1, &ro_ref, false); /* we must write into it: read-only */
	other = f->ops->gntshr_share(f->shr, 1, 1, &other_ref, true);
	if (!ro || !other) {
		bad(f, "cannot share RX pages");
		return;
	}
	refs[0] = REF_PAST_TABLE;
	refs[1] = REF_RESERVED;
	refs[2] = ro_ref;
	refs[3] = other_ref;
	for (unsigned i = 0; i < NBAD; i++) {
		netif_rx_request_t *r = &f->rxs->ring[f->rx_prod++ % RS].req;

		r->id = (uint16_t)(1000 + i);
		r->gref = refs[i];
	}
	__atomic_store_n(&f->rxs->req_prod, f->rx_prod, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)f->port);
	/* One frame a bad buffer; the host may send its own too (they go the same way). */
	for (unsigned i = 0; i < NBAD; i++) {
		uint32_t seq = ++f->seq;

		frame_raw(frame, sizeof(frame), seq);
		if (cap_inject(f, frame, sizeof(frame)) != 0)
			bad(f, "cannot send into the TAP: %s", strerror(errno));
	}
	for (int t = 0; t < 300 && f->rx_cons != f->rx_prod; t++) {
		prod = __atomic_load_n(&f->rxs->rsp_prod, __ATOMIC_ACQUIRE);
		while (f->rx_cons != prod && f->rx_cons != f->rx_prod) {
			netif_rx_response_t r = f->rxs->ring[f->rx_cons++ % RS].rsp;

			if (r.id < 1000 || r.id >= 1000 + NBAD)
				bad(f, "RX response for id %u, never posted", r.id);
			else if (r.status != NETIF_RSP_ERROR)
				bad(f, "RX into bad buffer %u: status %d", r.id - 1000, r.status);
			else
				errors++;
		}
		usleep(10000);
	}
	if (errors != NBAD)
		bad(f, "%u of %u bad RX buffers answered", errors, NBAD);
	*bad_bufs += errors;
	/* Good buffers now: our frames must land in them whole. */
	for (unsigned i = 0; i < NGOOD; i++) {
		netif_rx_request_t *r = &f->rxs->ring[f->rx_prod++ % RS].req;

		good[i] = pool_page(f, &good_ref[i]);
		memset(good[i], 0, PAGE);
		r->id = (uint16_t)(2000 + i);
		r->gref = good_ref[i];
	}
	__atomic_store_n(&f->rxs->req_prod, f->rx_prod, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)f->port);
	{
		uint32_t first = f->seq + 1;

		/* (Frames still queued for us, the host's or ours, come first.) */
		for (unsigned i = 0; i < NEW; i++) {
			frame_raw(frame, sizeof(frame), ++f->seq);
			cap_inject(f, frame, sizeof(frame));
		}
		for (int t = 0; t < 300 && intact < NEW && f->rx_cons != f->rx_prod; t++) {
			prod = __atomic_load_n(&f->rxs->rsp_prod, __ATOMIC_ACQUIRE);
			while (f->rx_cons != prod && f->rx_cons != f->rx_prod) {
				netif_rx_response_t r = f->rxs->ring[f->rx_cons++ % RS].rsp;
				const uint8_t *pg;
				uint32_t seq;

				if (r.id < 2000 || r.id >= 2000 + NGOOD) {
					bad(f, "RX response for id %u, never posted", r.id);
					continue;
				}
				if (r.status <= 0) {
					bad(f, "RX into good buffer %u: status %d", r.id - 2000, r.status);
					continue;
				}
				pg = good[r.id - 2000] + r.offset;
				if (r.status < 14 || pg[6] != 0x02 || pg[7] != 0xb5)
					continue; /* the host's own */
				seq = get32(pg + 8);
				frame_raw(frame, sizeof(frame), seq);
				if (seq > f->seq || r.status != (int16_t)sizeof(frame) ||
				    memcmp(pg, frame, sizeof(frame)) != 0)
					bad(f, "RX frame %u: %d bytes, not what the host sent", seq, r.status);
				else
					intact += seq >= first;
			}
			usleep(10000);
		}
	}
	if (intact != NEW)
		bad(f, "%u of %u frames for good RX buffers arrived intact", intact, NEW);
	f->ops->gntshr_unshare(f->shr, ro, 1);
	f->ops->gntshr_unshare(f->shr, other, 1);
}

static void run_grant_fail(struct front *f, double end)
{
	unsigned long bad_refs = 0, bad_bufs = 0, rounds = 0;

	do {
		grant_fail_tx(f, &bad_refs);
		rounds++;
	} while (now_s() < end && !f->bad);
	grant_fail_rx(f, &bad_bufs);
	check_connected(f);
	printf("hostile_front: grant-fail: %lu rounds, %lu packets OKAY, %lu ERROR (%lu named bad "
	       "grants, the rest revoked in flight); %lu RX buffers no copy could fill\n",
	       rounds, f->okay, f->errors, bad_refs, bad_bufs);
	expect_counter("tx_drop_copy", "=", f->errors);
	expect_counter("tx_errors", "=", f->errors);
	expect_counter("rx_drop_copy", ">=", bad_bufs);
}

/* ---- split-headers (XSA-423) ---------------------------------------------------------- */

/* Cut @hdr header bytes into slots of 1..3 bytes, the rest in slots of @rest_slot bytes. */
static unsigned cut(uint16_t *own, unsigned max, uint32_t hdr, uint32_t len, uint32_t rest_slot)
{
	unsigned n = 0;
	uint32_t done = 0;

	while (done < hdr && n < max - 1) {
		uint16_t s = (uint16_t)(1 + n % 3);

		if (s > hdr - done)
			s = (uint16_t)(hdr - done);
		own[n++] = s;
		done += s;
	}
	while (done < len && n < max) {
		uint32_t s = len - done < rest_slot ? len - done : rest_slot;

		own[n++] = (uint16_t)s;
		done += s;
	}
	return done == len ? n : 0;
}

static void put_split(struct front *f, bool v6, bool tcp, uint32_t payload, uint16_t mss)
{
	struct tpkt *p = new_pkt(f, NETIF_RSP_OKAY);
	uint16_t own[XEN_NETIF_NR_SLOTS_MIN], cs, co;
	struct netif_extra_info gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
	unsigned n;

	p->len = frame_ip(p->frame, p->seq, v6, tcp, payload, &cs, &co);
	n = cut(own, XEN_NETIF_NR_SLOTS_MIN, cs + (tcp ? 20u : 8u), p->len, PAGE);
	if (!n) {
		bad(f, "packet %u does not fit %u slots", p->seq, XEN_NETIF_NR_SLOTS_MIN);
		return;
	}
	p->check_vh = true;
	p->vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	p->vh.csum_start = cs;
	p->vh.csum_offset = co;
	if (mss) {
		p->vh.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		p->vh.gso_size = mss;
		gso.u.gso.type = v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
		gso.u.gso.size = mss;
	}
	put_honest(f, p, own, n, NETTXF_csum_blank | NETTXF_data_validated, &gso, mss ? 1 : 0);
}

static void run_split_headers(struct front *f, double end)
{
	unsigned long rounds = 0;

	do {
		xchg_begin(f);
		put_split(f, false, false, 300, 0);    /* UDP, blank checksum */
		put_good(f, 60);
		put_split(f, false, true, 3000, 1000); /* TCPv4 GSO */
		put_split(f, true, true, 4000, 1200);  /* TCPv6 GSO */
		put_split(f, true, false, 100, 0);     /* UDP over IPv6 */
		put_split(f, false, true, 20, 0);      /* TCPv4, a blank checksum, no GSO */
		put_good(f, 61);
		xchg_run(f);
		rounds++;
	} while (now_s() < end && !f->bad);
	check_connected(f);
	printf("hostile_front: split-headers: %lu rounds, %lu packets OKAY, headers in 1-3 byte "
	       "slots, checked at the host with their virtio-net headers\n", rounds, f->okay);
	expect_counter("tx_errors", "=", 0);
	expect_counter("tx_gso", ">=", rounds * 2);
}

/* ---- tiny-slots (XSA-432) ------------------------------------------------------------- */

/* @len bytes in 18 slots of 1 or 2 bytes (@len between 18 and 36). */
static void put_tiny(struct front *f, struct tpkt *p, uint16_t txflags,
		     const struct netif_extra_info *ex, unsigned nex)
{
	uint16_t own[XEN_NETIF_NR_SLOTS_MIN];

	for (unsigned k = 0; k < XEN_NETIF_NR_SLOTS_MIN; k++)
		own[k] = (uint16_t)(1 + (k < p->len - XEN_NETIF_NR_SLOTS_MIN));
	put_honest(f, p, own, XEN_NETIF_NR_SLOTS_MIN, txflags, ex, nex);
}

static void run_tiny_slots(struct front *f, double end)
{
	unsigned long rounds = 0;
	struct netif_extra_info gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO,
					.u.gso = { .size = 100, .type = XEN_NETIF_GSO_TYPE_TCPV4 } };

	do {
		struct tpkt *p;
		uint16_t cs, co;

		xchg_begin(f);
		/* Claims nothing: 18 bytes delivered as they are. */
		p = new_pkt(f, NETIF_RSP_OKAY);
		p->len = frame_raw(p->frame, 18, p->seq);
		put_tiny(f, p, 0, NULL, 0);
		/* IPv4 and a blank checksum, 30 bytes: the IP header is cut short. */
		p = new_pkt(f, NETIF_RSP_ERROR);
		frame_ip(p->frame, p->seq, false, false, 0, &cs, &co);
		p->len = 30;
		put_tiny(f, p, NETTXF_csum_blank, NULL, 0);
		put_good(f, 70);
		/* TCPv4 GSO in 36 bytes. */
		p = new_pkt(f, NETIF_RSP_ERROR);
		frame_ip(p->frame, p->seq, false, true, 0, &cs, &co);
		p->len = 36;
		put_tiny(f, p, NETTXF_csum_blank, &gso, 1);
		/* IPv6 with a blank checksum, 36 bytes of a 62-byte header area. */
		p = new_pkt(f, NETIF_RSP_ERROR);
		frame_ip(p->frame, p->seq, true, false, 0, &cs, &co);
		p->len = 36;
		put_tiny(f, p, NETTXF_csum_blank | NETTXF_data_validated, NULL, 0);
		/* Validated, no blank checksum: taken as it is. */
		p = new_pkt(f, NETIF_RSP_OKAY);
		frame_ip(p->frame, p->seq, false, false, 0, &cs, &co);
		p->len = 33;
		put_tiny(f, p, NETTXF_data_validated, NULL, 0);
		put_good(f, 71);
		xchg_run(f);
		rounds++;
	} while (now_s() < end && !f->bad);
	check_connected(f);
	printf("hostile_front: tiny-slots: %lu rounds of 18-slot packets shorter than their "
	       "headers: %lu OKAY, %lu ERROR\n", rounds, f->okay, f->errors);
	expect_counter("tx_drop_bad_csum", "=", rounds * 2);
	expect_counter("tx_drop_bad_gso", "=", rounds);
	expect_counter("tx_errors", "=", rounds * 3);
}

/* ---- zero-frags (XSA-448) ------------------------------------------------------------- */

static void run_zero_frags(struct front *f, double end)
{
	unsigned long rounds = 0;
	static const uint16_t zeros[XEN_NETIF_NR_SLOTS_MIN];
	struct netif_extra_info gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO,
					.u.gso = { .size = 1000, .type = XEN_NETIF_GSO_TYPE_TCPV4 } };

	do {
		struct tpkt *p;
		uint16_t own[XEN_NETIF_NR_SLOTS_MIN] = { 0 };

		xchg_begin(f);
		p = new_pkt(f, NETIF_RSP_ERROR); /* one empty slot */
		put_honest(f, p, zeros, 1, 0, NULL, 0);
		p = new_pkt(f, NETIF_RSP_ERROR); /* 18 */
		put_honest(f, p, zeros, XEN_NETIF_NR_SLOTS_MIN, 0, NULL, 0);
		put_good(f, 80);
		p = new_pkt(f, NETIF_RSP_ERROR); /* with GSO */
		put_honest(f, p, zeros, 10, NETTXF_csum_blank, &gso, 1);
		p = new_pkt(f, NETIF_RSP_ERROR); /* with a blank checksum */
		put_honest(f, p, zeros, 5, NETTXF_csum_blank | NETTXF_data_validated, NULL, 0);
		/* Data in the first slot, 17 empty ones after it: fine. */
		p = new_pkt(f, NETIF_RSP_OKAY);
		p->len = frame_raw(p->frame, 90, p->seq);
		own[0] = 90;
		put_honest(f, p, own, XEN_NETIF_NR_SLOTS_MIN, 0, NULL, 0);
		/* An empty first slot, the data in the second: fine too. */
		p = new_pkt(f, NETIF_RSP_OKAY);
		p->len = frame_raw(p->frame, 91, p->seq);
		own[0] = 0;
		own[1] = 91;
		put_honest(f, p, own, 3, 0, NULL, 0);
		put_good(f, 81);
		xchg_run(f);
		rounds++;
	} while (now_s() < end && !f->bad);
	check_connected(f);
	printf("hostile_front: zero-frags: %lu rounds: %lu OKAY, %lu ERROR\n", rounds, f->okay,
	       f->errors);
	expect_counter("tx_drop_runt", "=", rounds * 4);
	expect_counter("tx_errors", "=", rounds * 4);
}

/* ---- drop-checks (Linux netback's drops) ------------------------------------------------ */

static void run_drop_checks(struct front *f, double end)
{
	unsigned long rounds = 0;

	do {
		struct tpkt *p;
		uint16_t own[20];
		struct netif_extra_info ex = { 0 };

		xchg_begin(f);
		for (unsigned n = 19; n <= 20; n++) { /* over XEN_NETIF_NR_SLOTS_MIN */
			p = new_pkt(f, NETIF_RSP_ERROR);
			for (unsigned k = 0; k < n; k++)
				own[k] = 100;
			p->len = frame_raw(p->frame, 100 * n, p->seq);
			put_honest(f, p, own, n, 0, NULL, 0);
			put_good(f, 90);
		}
		/* A fragment longer than what the first slot says is left. */
		p = new_pkt(f, NETIF_RSP_ERROR);
		p->len = frame_raw(p->frame, 300, p->seq);
		own[0] = 100;
		own[1] = 200;
		put_pkt(f, p, own, 2, 150, 0, 0, NULL, 0);
		put_good(f, 91);
		/* Shorter than an Ethernet header. */
		p = new_pkt(f, NETIF_RSP_ERROR);
		p->len = frame_raw(p->frame, 10, p->seq);
		own[0] = 10;
		put_honest(f, p, own, 1, 0, NULL, 0);
		put_good(f, 92);
		/* Extras of type 0 and of a type netif.h does not have. */
		ex.type = XEN_NETIF_EXTRA_TYPE_NONE;
		p = new_pkt(f, NETIF_RSP_ERROR);
		p->len = frame_raw(p->frame, 100, p->seq);
		own[0] = 100;
		put_honest(f, p, own, 1, 0, &ex, 1);
		ex.type = 200;
		p = new_pkt(f, NETIF_RSP_ERROR);
		p->len = frame_raw(p->frame, 100, p->seq);
		put_honest(f, p, own, 1, 0, &ex, 1);
		put_good(f, 93);
		/* GSO of size 0, and of a type netif.h does not have. */
		ex.type = XEN_NETIF_EXTRA_TYPE_GSO;
		ex.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
		ex.u.gso.size = 0;
		p = new_pkt(f, NETIF_RSP_ERROR);
		p->len = frame_raw(p->frame, 100, p->seq);
		put_honest(f, p, own, 1, NETTXF_csum_blank, &ex, 1);
		ex.u.gso.type = 7;
		ex.u.gso.size = 1000;
		p = new_pkt(f, NETIF_RSP_ERROR);
		p->len = frame_raw(p->frame, 100, p->seq);
		put_honest(f, p, own, 1, NETTXF_csum_blank, &ex, 1);
		put_good(f, 94);
		xchg_run(f);
		rounds++;
	} while (now_s() < end && !f->bad);
	check_connected(f);
	printf("hostile_front: drop-checks: %lu rounds: %lu OKAY, %lu ERROR\n", rounds, f->okay,
	       f->errors);
	expect_counter("tx_drop_slots_over", "=", rounds * 2);
	expect_counter("tx_drop_size_underflow", "=", rounds);
	expect_counter("tx_drop_runt", "=", rounds);
	expect_counter("tx_drop_bad_extra", "=", rounds * 2);
	expect_counter("tx_drop_bad_gso", "=", rounds * 2);
	expect_counter("tx_errors", "=", rounds * 8);
}

/* ---- fatal: packets that break the vif --------------------------------------------------- */

/* One of our queues' RX ring. */
struct rx_ring {
	netif_rx_sring_t *s;
	int port;
	RING_IDX *prod, *cons;  /* our requests posted, responses read */
};

/*
 * @n UDP frames from the host to the guest, each of a flow of its own (the
 * source port follows the sequence number), so that a multi-queue TAP
 * spreads them over its queues by their hash. (Their checksums are left
 * unfinished: nobody checks them.) Returns how many went.
 */
static unsigned host_frames(struct front *f, unsigned n)
{
	uint8_t frame[200];
	uint16_t csum_start, csum_offset;
	unsigned sent = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t len = frame_ip(frame, ++f->seq, false, false, 64, &csum_start, &csum_offset);

		sent += cap_inject(f, frame, len) == 0;
	}
	return sent;
}

/*
 * RX works on queue @qi (@r): one buffer posted, host frames sent until the
 * backend fills it (with one of ours or a frame of the host's own). Then
 * the backend has taken every request we posted, and can take no more
 * until we post again. 0, or -1 (counted).
 */
static int rx_fill_one(struct front *f, struct rx_ring *r, unsigned qi)
{
	netif_rx_request_t *req = &r->s->ring[*r->prod % ENGINE_RX_RING_SIZE].req;
	uint32_t ref;

	pool_page(f, &ref);
	req->id = 1;
	req->gref = ref;
	(*r->prod)++;
	__atomic_store_n(&r->s->req_prod, *r->prod, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)r->port);
	for (int t = 0; t < 300; t++) {
		RING_IDX prod = __atomic_load_n(&r->s->rsp_prod, __ATOMIC_ACQUIRE);

		if (prod != *r->cons) {
			netif_rx_response_t rsp = r->s->ring[*r->cons % ENGINE_RX_RING_SIZE].rsp;

			if (prod - *r->cons != 1) {
				bad(f, "queue %u: %u RX responses for one buffer", qi, prod - *r->cons);
				return -1;
			}
			(*r->cons)++;
			if (rsp.id != 1 || rsp.status <= 0) {
				bad(f, "queue %u: RX response id %u status %d, not a frame in buffer 1",
				    qi, rsp.id, rsp.status);
				return -1;
			}
			return 0;
		}
		if (t % 5 == 0 && host_frames(f, 4) != 4)
			bad(f, "cannot send into the TAP: %s", strerror(errno));
		usleep(10000);
	}
	bad(f, "queue %u: no frame filled its RX buffer in 3 s", qi);
	return -1;
}

/*
 * XSA-39 on the RX ring of queue 0 (rx-prod) or 1 of two (rx-prod-q1,
 * XSA-90: found by the second queue's thread): the producer a ring and one
 * past what the backend took. The engine looks at it when it has a frame
 * to place, so the host sends some until the backend lets go.
 */
static void fatal_rx(struct front *f, const char *which)
{
	const char *reason = "request producer ran past the ring size";
	struct rx_ring r;
	RING_IDX ahead;
	unsigned qi;
	int st = XenbusStateConnected;

	if (strcmp(which, "rx-prod") == 0) {
		qi = 0;
		r = (struct rx_ring){ f->rxs, f->port, &f->rx_prod, &f->rx_cons };
	} else if (strcmp(which, "rx-prod-q1") == 0 && f->nr_queues == 2) {
		qi = 1;
		r = (struct rx_ring){ f->q1.rxs, f->q1.port, &f->q1.rx_prod, &f->q1.rx_cons };
	} else {
		bad(f, "no fatal case %s", which);
		return;
	}
	if (rx_fill_one(f, &r, qi) != 0)
		return;
	ahead = *r.prod + ENGINE_RX_RING_SIZE + 1;
	__atomic_store_n(&r.s->req_prod, ahead, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)r.port);
	for (int t = 0; t < 100 && st == XenbusStateConnected; t++) {
		host_frames(f, 4);
		usleep(50000);
		st = backend_state(&f->u, f->be);
	}
	if (st <= XenbusStateConnected)
		bad(f, "still Connected 5 s after queue %u's RX producer went a ring ahead", qi);
	printf("hostile_front: fatal %s: queue %u of %u, RX producer %u with %u taken: backend "
	       "state %d after it\n", which, qi, f->nr_queues, ahead, *r.prod, st);
	printf("hostile_front: expect broken %s\n", reason);
	printf("hostile_front: expect broken_on queue %u's RX ring\n", qi);
	printf("hostile_front: expect error protocol error: %s\n", reason);
	printf("hostile_front: expect worker idle\n");
	f->keep_poking = true;
}

static void run_fatal(struct front *f, const char *which)
{
	struct tpkt *p;
	uint16_t own[21];
	const char *reason;
	int st;

	/* The vif works first. */
	xchg_begin(f);
	put_good(f, 100);
	xchg_run(f);
	if (strncmp(which, "rx-", 3) == 0) {
		fatal_rx(f, which);
		return;
	}
	xchg_begin(f);
	p = new_pkt(f, ANY);
	if (strcmp(which, "slots") == 0) {
		for (unsigned k = 0; k < 21; k++)
			own[k] = 60;
		p->len = frame_raw(p->frame, 60 * 21, p->seq);
		put_honest(f, p, own, 21, 0, NULL, 0);
		reason = "packet uses more slots than the fatal threshold";
	} else if (strcmp(which, "page") == 0) {
		own[0] = 100;
		own[1] = 200;
		p->len = frame_raw(p->frame, 300, p->seq);
		put_honest(f, p, own, 1, 0, NULL, 0);
		f->txs->ring[(f->tx_prod - 1) % RS].req.flags |= NETTXF_more_data;
		tx_req(f, f->pool_ref[0], 4000, 0, f->next_id++, 200); /* 4000 + 200 > 4096 */
		reason = "request crosses its page boundary";
	} else if (strcmp(which, "page-first") == 0) {
		p->len = frame_raw(p->frame, 200, p->seq);
		tx_req(f, f->pool_ref[0], 4000, 0, f->next_id++, 200);
		reason = "request crosses its page boundary";
	} else if (strcmp(which, "extras") == 0) {
		struct netif_extra_info ex[5] = { 0 };

		for (unsigned e = 0; e < 5; e++) {
			ex[e].type = XEN_NETIF_EXTRA_TYPE_HASH;
			ex[e].u.hash.type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
		}
		own[0] = 100;
		p->len = frame_raw(p->frame, 100, p->seq);
		put_honest(f, p, own, 1, 0, ex, 5);
		reason = "extra-info chain longer than the known types";
	} else {
		bad(f, "no fatal case %s (slots, page, page-first, extras, rx-prod, rx-prod-q1)",
		    which);
		return;
	}
	__atomic_store_n(&f->txs->req_prod, f->tx_prod, __ATOMIC_RELEASE);
	f->ops->evtchn_notify(f->evt, (uint32_t)f->port);
	st = wait_state(&f->u, f->be, XenbusStateConnected, false);
	if (st <= XenbusStateConnected)
		bad(f, "still Connected after the %s packet", which);
	printf("hostile_front: fatal %s: backend state %d after it\n", which, st);
	printf("hostile_front: expect broken %s\n", reason);
	printf("hostile_front: expect broken_on queue 0's TX ring\n");
	printf("hostile_front: expect error protocol error: %s\n", reason);
	printf("hostile_front: expect worker idle\n");
	f->keep_poking = true;
}

/* ---- ctrl (XSA-270) ---------------------------------------------------------------------- */

struct ctrl_req {
	const char *what;
	uint16_t type;
	uint32_t d0, d1, d2;
	uint32_t want;
	int gref;               /* d0 from: -1 as is, 0 the key page, 1 the good table, 2 the bad one */
};

/* One control request, answered: its status (and *@data), or -1 if none came in 3 s. */
static int ctrl_call(struct front *f, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
		     uint32_t *data)
{
	struct engine_front_ctrl_rsp rsp;
	bool more;
	int n = 0;

	if (engine_front_ctrl_send(&f->fctrl, type, d0, d1, d2) < 0)
		return -1;
	engine_front_ctrl_push(&f->fctrl);
	f->ops->evtchn_notify(f->evt, (uint32_t)f->ctrl_port);
	for (int t = 0; t < 300 && n == 0; t++) {
		n = engine_front_ctrl_poll(&f->fctrl, &rsp, 1, &more);
		if (n == 0)
			usleep(10000);
	}
	if (n != 1)
		return -1;
	if (data)
		*data = rsp.data;
	return (int)rsp.status;
}

static void run_ctrl(struct front *f, const char *which)
{
	enum { KEY, GOOD_MAP, BAD_MAP, NPAGES };
	uint32_t ref[NPAGES];
	uint8_t *pg[NPAGES];
	const struct ctrl_req reqs[] = {
		{ "algorithm Toeplitz", XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		  XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, XEN_NETIF_CTRL_STATUS_SUCCESS, -1 },
		{ "algorithm 7", XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 7, 0, 0,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, -1 },
		{ "flags past the known", XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0xffff, 0, 0,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, -1 },
		{ "flags", XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0xf, 0, 0,
		  XEN_NETIF_CTRL_STATUS_SUCCESS, -1 },
		{ "key of 41 octets", XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, 41, 0,
		  XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, KEY },
		{ "key of 0xffffffff octets", XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, 0xffffffffu, 0,
		  XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, KEY },
		{ "key from no grant", XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, REF_PAST_TABLE, 40, 0,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, -1 },
		{ "key", XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, 40, 0, XEN_NETIF_CTRL_STATUS_SUCCESS,
		  KEY },
		{ "mapping size 129", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 129, 0, 0,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, -1 },
		{ "mapping size 8", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 8, 0, 0,
		  XEN_NETIF_CTRL_STATUS_SUCCESS, -1 },
		{ "mapping at 0xffffffff, 2 entries", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 0, 2,
		  0xffffffffu, XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, GOOD_MAP },
		{ "mapping at 0x80000000, 0x80000001 entries", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING,
		  0, 0x80000001u, 0x80000000u, XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, GOOD_MAP },
		{ "mapping of 0xffffffff entries", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 0,
		  0xffffffffu, 0, XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, GOOD_MAP },
		{ "mapping at 6, 4 entries (size 8)", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 0, 4, 6,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, GOOD_MAP },
		{ "mapping naming queue 1 of 1", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 0, 8, 0,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, BAD_MAP },
		{ "mapping from no grant", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, REF_RESERVED, 8, 0,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, -1 },
		{ "mapping", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 0, 8, 0,
		  XEN_NETIF_CTRL_STATUS_SUCCESS, GOOD_MAP },
		{ "type 99", 99, 0, 0, 0, XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED, -1 },
		{ "mapping size after all that", XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0,
		  XEN_NETIF_CTRL_STATUS_SUCCESS, -1 },
	};
	enum { NREQ = sizeof(reqs) / sizeof(reqs[0]) };
	unsigned refused = 0, answered = 0;

	if (strcmp(which, "prod") == 0) {
		int st;

		__atomic_store_n(&f->ctrl_sring->req_prod, ENGINE_CTRL_RING_SIZE + 1,
				 __ATOMIC_RELEASE);
		f->ops->evtchn_notify(f->evt, (uint32_t)f->ctrl_port);
		st = wait_state(&f->u, f->be, XenbusStateConnected, false);
		if (st <= XenbusStateConnected)
			bad(f, "still Connected after the control ring's bad producer");
		printf("hostile_front: ctrl prod: backend state %d after it\n", st);
		printf("hostile_front: expect broken control ring: request producer ran past the "
		       "ring size\n");
		return;
	}
	if (which[0]) {
		bad(f, "no ctrl case %s (prod, or none)", which);
		return;
	}
	for (unsigned i = 0; i < NPAGES; i++) {
		pg[i] = pool_page(f, &ref[i]);
		memset(pg[i], 0, PAGE);
	}
	for (unsigned i = 0; i < 40; i++)
		pg[KEY][i] = (uint8_t)(0x6d + i);
	((uint32_t *)(void *)pg[BAD_MAP])[3] = 1; /* one queue: 1 is no queue */
	/* One at a time: each sees what the last did. */
	for (unsigned i = 0; i < NREQ; i++) {
		const struct ctrl_req *r = &reqs[i];
		uint32_t data = 0;
		int st = ctrl_call(f, r->type, r->gref >= 0 ? ref[r->gref] : r->d0, r->d1, r->d2,
				   &data);

		if (st < 0) {
			bad(f, "%s: not sent or no answer", r->what);
			continue;
		}
		answered++;
		if ((uint32_t)st != r->want)
			bad(f, "%s: status %d, not %u", r->what, st, r->want);
		if (st != XEN_NETIF_CTRL_STATUS_SUCCESS)
			refused++;
		if (r->type == XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE && data != 128)
			bad(f, "mapping size %u, not 128", data);
	}
	check_connected(f);
	printf("hostile_front: ctrl: %u requests answered, %u refused\n", answered, refused);
	printf("hostile_front: expect show ctrl_ring.refused = %u\n", refused);
	printf("hostile_front: expect show ctrl_ring.requests = %u\n", answered);
	printf("hostile_front: expect show hash.mapping_size = 8\n");
	printf("hostile_front: expect show hash.algorithm = toeplitz\n");
}

/* ---- steer-stall (XSA-424) ------------------------------------------------------------------ */

/*
 * Two queues and Toeplitz hashing with the mapping [0, 1], so the worker's
 * threads steer host frames to each other; queue 0 keeps 64 RX buffers
 * posted and takes what comes, queue 1 posts none. The host sends TCP
 * frames of many flows until @end. Queue 1's queue and inbox fill while
 * queue 0's thread goes on steering into that inbox, and after the
 * backend's RX drain deadline (10 s) queue 1 is drained: the drop path
 * under load and under steering. Queue 0 must keep receiving to the end,
 * queue 1 must answer nothing, the vif must stay Connected.
 */
static void run_steer_stall(struct front *f, double end)
{
	const struct {
		const char *what;
		uint16_t type;
		uint32_t d0, d1, d2;
	} setup[] = {
		{ "algorithm", XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		  XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0 },
		{ "flags", XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0 },
		{ "key", XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, 40, 0 },
		{ "mapping size", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 2, 0, 0 },
		{ "mapping", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 2, 0 },
	};
	uint32_t ref[2];
	uint8_t *key = pool_page(f, &ref[0]), *map = pool_page(f, &ref[1]);
	unsigned long taken = 0, taken_late = 0, sent = 0;
	double late = end - 2;

	if (f->nr_queues != 2) {
		bad(f, "steer-stall needs two queues, got %u", f->nr_queues);
		return;
	}
	for (unsigned i = 0; i < 40; i++)
		key[i] = (uint8_t)(0x6d + 7 * i);
	((uint32_t *)(void *)map)[0] = 0;
	((uint32_t *)(void *)map)[1] = 1;
	for (unsigned i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
		uint32_t d0 = setup[i].type == XEN_NETIF_CTRL_TYPE_SET_HASH_KEY ? ref[0]
			      : setup[i].type == XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING ? ref[1]
			      : setup[i].d0;
		int st = ctrl_call(f, setup[i].type, d0, setup[i].d1, setup[i].d2, NULL);

		if (st != XEN_NETIF_CTRL_STATUS_SUCCESS) {
			bad(f, "hash %s refused (%d)", setup[i].what, st);
			return;
		}
	}
	while (now_s() < end && !stop_signal) {
		RING_IDX prod = __atomic_load_n(&f->rxs->rsp_prod, __ATOMIC_ACQUIRE);

		for (unsigned i = 0; i < 16; i++) {
			uint8_t frame[200];
			uint16_t cs, co;
			uint32_t len = frame_ip(frame, ++f->seq, false, true, 64, &cs, &co);

			sent += cap_inject(f, frame, len) == 0;
		}
		if (prod - f->rx_cons > RS) {
			bad(f, "queue 0: RX response producer %u with %u taken", prod, f->rx_cons);
			break;
		}
		taken += prod - f->rx_cons;
		if (now_s() >= late)
			taken_late += prod - f->rx_cons;
		f->rx_cons = prod;
		rx_keep_posted(f, 64);
		if (__atomic_load_n(&f->q1.rxs->rsp_prod, __ATOMIC_ACQUIRE) != 0) {
			bad(f, "queue 1 answered, though it posted no buffer");
			break;
		}
		usleep(20000);
	}
	printf("hostile_front: steer-stall: %lu host frames sent, queue 0 took %lu RX responses "
	       "(%lu in the last 2 s), queue 1 none\n", sent, taken, taken_late);
	if (!taken_late)
		bad(f, "queue 0 took nothing in the last 2 s: the drop path held it up");
	check_connected(f);
	printf("hostile_front: expect counter rx_hash_steered >= 1\n");
	printf("hostile_front: expect counter rx_queue_drops >= 1\n");
	printf("hostile_front: expect counter rx_hash_extras >= 1\n");
}

/* ---- closing-stuck -------------------------------------------------------------------------- */

static void run_closing_stuck(struct front *f)
{
	char path[128];
	int st;

	snprintf(path, sizeof(path), "%s/state", f->fe);
	if (f->ops->xs_write(f->u.xs, 0, path, "5", 1) != 0)
		bad(f, "cannot write our state");
	st = wait_state(&f->u, f->be, XenbusStateClosing, true);
	if (st != XenbusStateClosing)
		bad(f, "backend did not follow to Closing");
	printf("hostile_front: closing-stuck: Closing, the backend too; staying so\n");
}

/* ---- xs-values ------------------------------------------------------------------------------ */

struct xs_case {
	const char *name;
	const char *key, *val;   /* overriding ours; val NULL: left out */
	const char *key2, *val2;
	unsigned flags;
	const char *error;       /* what the error node must say */
};
#define XS_RX_READONLY 1u    /* the RX ring granted read-only */
#define XS_RINGS_AHEAD 2u    /* the TX ring's producer far ahead at connect */
#define XS_CTRL_PORT 4u      /* event-channel-ctrl: a real unbound port (as %d) */
#define XS_PORT2 8u          /* key2's value: a second real unbound port */

static const struct xs_case xs_cases[] = {
	{ "no-tx-ring-ref", "tx-ring-ref", NULL, NULL, NULL, 0, "missing or bad tx-ring-ref" },
	{ "no-rx-ring-ref", "rx-ring-ref", NULL, NULL, NULL, 0, "missing or bad rx-ring-ref" },
	{ "no-event-channel", "event-channel", NULL, NULL, NULL, 0, "missing or bad event-channel" },
	{ "event-channel-garbage", "event-channel", "7x", NULL, NULL, 0,
	  "missing or bad event-channel" },
	{ "ring-ref-overflow", "tx-ring-ref", "4294967296", NULL, NULL, 0,
	  "missing or bad tx-ring-ref" },
	{ "ring-ref-ungranted", "tx-ring-ref", "3000", NULL, NULL, 0,
	  "mapping tx-ring-ref 3000 failed" },
	{ "rx-ring-readonly", NULL, NULL, NULL, NULL, XS_RX_READONLY, "mapping rx-ring-ref" },
	{ "event-channel-unbound", "event-channel", "999", NULL, NULL, 0,
	  "binding event channel 999 failed" },
	{ "split-channel-half", "event-channel", NULL, "event-channel-tx", "", XS_PORT2,
	  "missing or bad event-channel" },
	{ "queues-zero", "multi-queue-num-queues", "0", NULL, NULL, 0, "guest requested 0 queues" },
	{ "queues-garbage", "multi-queue-num-queues", "2x", NULL, NULL, 0,
	  "bad multi-queue-num-queues" },
	{ "queue-keys-missing", "multi-queue-num-queues", "2", NULL, NULL, 0,
	  "missing or bad queue-0/tx-ring-ref" },
	{ "ctrl-ring-alone", "ctrl-ring-ref", "20", NULL, NULL, 0,
	  "ctrl-ring-ref without event-channel-ctrl" },
	{ "ctrl-ring-ungranted", "ctrl-ring-ref", "3000", "event-channel-ctrl", "", XS_CTRL_PORT,
	  "mapping ctrl-ring-ref 3000 failed" },
	{ "rx-copy-off", "request-rx-copy", "0", NULL, NULL, 0, "rx-copy" },
	{ "feature-garbage", "feature-sg", "yes", NULL, NULL, 0, "bad feature value" },
	{ "rings-ahead", NULL, NULL, NULL, NULL, XS_RINGS_AHEAD,
	  "rings of queue 0 handed over with impossible indices" },
};

static int run_xs_values(struct front *f, int domid, const char *which)
{
	const struct xs_case *c = NULL;
	struct xs_util_kv over[2];
	char port_s[12];
	unsigned n = 0;
	int st;

	for (unsigned i = 0; i < sizeof(xs_cases) / sizeof(xs_cases[0]); i++)
		if (strcmp(xs_cases[i].name, which) == 0)
			c = &xs_cases[i];
	if (!c) {
		fprintf(stderr, "hostile_front: no xs-values case %s; there are:", which);
		for (unsigned i = 0; i < sizeof(xs_cases) / sizeof(xs_cases[0]); i++)
			fprintf(stderr, " %s", xs_cases[i].name);
		fputc('\n', stderr);
		return 2;
	}
	if (front_open(f, domid) != 0 || front_rings(f, c->flags & XS_RX_READONLY) != 0)
		return 1;
	if (c->flags & (XS_CTRL_PORT | XS_PORT2)) {
		int port = f->ops->evtchn_alloc_unbound(f->evt, 0);

		snprintf(port_s, sizeof(port_s), "%d", port);
	}
	if (c->flags & XS_RINGS_AHEAD)
		__atomic_store_n(&f->txs->req_prod, 1000, __ATOMIC_RELEASE);
	if (c->key)
		over[n++] = (struct xs_util_kv){ c->key, c->val };
	if (c->key2)
		over[n++] = (struct xs_util_kv){ c->key2,
						 c->flags & (XS_CTRL_PORT | XS_PORT2) ? port_s
										     : c->val2 };
	if (front_publish(f, over, n) != 0)
		return 1;
	for (int i = 0; i < 100; i++) {
		st = backend_state(&f->u, f->be);
		if (st == XenbusStateClosed || st == XenbusStateConnected)
			break;
		usleep(50000);
	}
	printf("hostile_front: xs-values %s: backend state %d\n", which, st);
	if (st != XenbusStateClosed)
		bad(f, "backend state %d, not Closed", st);
	printf("hostile_front: expect error %s\n", c->error);
	return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: hostile_front DOMID\n"
			"       hostile_front --mode MODE [--case C] [--seconds S] [--linger S] "
			"[--ifname IF] DOMID\n"
			"MODE: flood-state flood-evtchn no-rx mcast-full double-fetch grant-fail "
			"split-headers\n      tiny-slots zero-frags drop-checks fatal ctrl "
			"steer-stall closing-stuck xs-values\n");
}

/*
 * one-slot: keep @want RX buffers posted (pool pages, reused in turn; no
 * frame's bytes are looked at) until @end; @want becomes 32 on SIGUSR1.
 * Returns the RX responses taken.
 */
static unsigned long run_one_slot(struct front *f, double end)
{
	unsigned long taken = 0;
	unsigned want = 1;

	while (now_s() < end && !stop_signal) {
		RING_IDX prod = __atomic_load_n(&f->rxs->rsp_prod, __ATOMIC_ACQUIRE);

		if (prod - f->rx_cons > RS) /* a backend gone mad: stop reading */
			break;
		for (; f->rx_cons != prod; f->rx_cons++)
			taken++;
		if (post_more)
			want = 32;
		rx_keep_posted(f, want);
		f->rxs->rsp_event = f->rx_cons + 1;
		usleep(20000);
	}
	return taken;
}

/*
 * After a fatal case: what would keep a worker busy that still served
 * the dead vif: host frames (8 every 50 ms) and a notification on each port.
 */
static void poke(struct front *f)
{
	f->poke_frames += host_frames(f, 8);
	f->poke_notifies += f->ops->evtchn_notify(f->evt, (uint32_t)f->port) == 0;
	if (f->nr_queues == 2)
		f->poke_notifies += f->ops->evtchn_notify(f->evt, (uint32_t)f->q1.port) == 0;
}

/*
 * The verdict, then stay (connected) until SIGTERM or @linger s for the
 * script's checks, poking the backend meanwhile if asked.
 */
static int verdict(struct front *f, double linger)
{
	double start = now_s(), until = start + linger;

	printf("hostile_front: verdict %s (%lu checks failed)\n", f->bad ? "FAILED" : "ok", f->bad);
	fflush(stdout);
	while (!stop_signal && now_s() < until) {
		if (f->keep_poking)
			poke(f);
		usleep(50000);
	}
	if (f->keep_poking)
		printf("hostile_front: after the verdict, in %.1f s: %lu host frames sent, %lu "
		       "notifications made\n", now_s() - start, f->poke_frames, f->poke_notifies);
	return f->bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "case", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "linger", required_argument, NULL, 'l' },
		{ "ifname", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	static struct front f = { .cap = -1 };
	enum mode mode = MODE_XSA39;
	unsigned long count = 0, errors = 0;
	double secs = 5, linger = 30, start, end;
	const char *what = "", *which = "";
	int opt, rc, domid;

	f.ops = platform_by_name("sim");
	while ((opt = getopt_long(argc, argv, "m:c:s:l:i:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': {
			unsigned m;

			for (m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]); m++)
				if (strcmp(optarg, mode_names[m]) == 0)
					break;
			if (m == sizeof(mode_names) / sizeof(mode_names[0])) {
				usage();
				return 2;
			}
			mode = (enum mode)m;
			break;
		}
		case 'c':
			which = optarg;
			break;
		case 's':
		case 'l': {
			double v = strtod(optarg, NULL);

			if (!(v > 0 && v < 86400)) {
				usage();
				return 2;
			}
			*(opt == 's' ? &secs : &linger) = v;
			break;
		}
		case 'i':
			snprintf(f.ifname, sizeof(f.ifname), "%s", optarg);
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
	domid = atoi(argv[optind]);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_usr1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!f.ifname[0])
		snprintf(f.ifname, sizeof(f.ifname), "vif%d.0", domid);
	f.nr_queues = (mode == MODE_FATAL && strcmp(which, "rx-prod-q1") == 0) ||
		      mode == MODE_STEER_STALL ? 2 : 1;
	if (mode == MODE_XS_VALUES) {
		rc = run_xs_values(&f, domid, which);
		if (rc == 0)
			rc = verdict(&f, 0.01);
		front_close(&f);
		return rc;
	}
	f.mcast_control = mode == MODE_MCAST_FULL;
	f.want_ctrl = mode == MODE_CTRL || mode == MODE_STEER_STALL;
	if (front_connect(&f, domid) != 0) {
		front_close(&f);
		return 1;
	}
	if (mode == MODE_XSA39) {
		rc = run_xsa39(&f);
		front_close(&f);
		return rc;
	}
	if (mode >= MODE_DOUBLE_FETCH) {
		if (pool_share(&f) != 0 || cap_open(&f) != 0) {
			fprintf(stderr, "hostile_front: setup for %s failed\n", mode_names[mode]);
			front_close(&f);
			return 1;
		}
		end = now_s() + secs;
		switch (mode) {
		case MODE_DOUBLE_FETCH:
			run_double_fetch(&f, end);
			break;
		case MODE_GRANT_FAIL:
			run_grant_fail(&f, end);
			break;
		case MODE_SPLIT_HEADERS:
			run_split_headers(&f, end);
			break;
		case MODE_TINY_SLOTS:
			run_tiny_slots(&f, end);
			break;
		case MODE_ZERO_FRAGS:
			run_zero_frags(&f, end);
			break;
		case MODE_DROP_CHECKS:
			run_drop_checks(&f, end);
			break;
		case MODE_FATAL:
			run_fatal(&f, which);
			break;
		case MODE_CTRL:
			run_ctrl(&f, which);
			break;
		case MODE_STEER_STALL:
			run_steer_stall(&f, end);
			break;
		default: /* MODE_CLOSING_STUCK */
			run_closing_stuck(&f);
			break;
		}
		rc = verdict(&f, linger);
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
	case MODE_ONE_SLOT:
		what = "RX responses taken";
		if (pool_share(&f) != 0) {
			fprintf(stderr, "hostile_front: cannot share its pool\n");
			rc = 1;
			break;
		}
		count = run_one_slot(&f, end);
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
	       mode_names[mode], count, what, now_s() - start, errors,
	       backend_state(&f.u, f.be));
	front_close(&f);
	return rc;
}
