/* SPDX-License-Identifier: MIT */
/*
 * hostile_back.c - a hostile backend domain over the simulated Xen (the
 * 'sim' platform): one that keeps its frontend's rings mapped across
 * reconnects (issue 13), or (--fault) answers badly on a running connection.
 *
 * It plays the backend's XenBus part for vif FE.0 of a netfront guest from
 * a driver domain BE (its nodes at /local/domain/BE/backend/vif/FE/0, which
 * the test script creates with the frontend's, as a toolstack would): it
 * offers feature-rx-copy and goes InitWait; when the frontend is Connected
 * it maps both rings (tx-ring-ref, rx-ring-ref, writable, as netback does)
 * and goes Connected; then Closing, and once the frontend is Closed, Closed
 * and InitWait again, WITHOUT unmapping. --cycles times, or until the
 * frontend no longer connects: it must hold back once NF_DEFERRED_MAX (the
 * --cap, 64) pages are still mapped, which the netfront's log (--frontend-log)
 * says ("not connecting until it unmaps them").
 *
 * What the frontend still grants us is counted in its grant table
 * (platform_sim_peer_grants(): entries that permit access to our domain),
 * which is where an abandoned share would stay. Checked:
 *   - each connection grants the same number of pages as the first (its
 *     rings and buffers) beside the pages we hold: base + 2 (i - 1);
 *   - each Closed frontend grants exactly the pages we hold: 2 i;
 *   - the frontend holds back at cycle cap / 2 + 1, with cap pages held,
 *     and stays so (Initialising, nothing more granted) for --hold seconds
 *     while we sit in InitWait;
 *   - once we unmap everything it connects again by itself (its retry
 *     timer), granting base pages and nothing more: the held ones ended;
 *   - then --honest cycles that unmap before Closing: each Closed frontend
 *     grants nothing, each connection base pages.
 * Finally an honest close (unmap, Closing, Closed). It prints one line per
 * step, "FAIL: ..." per failed check, then "verdict ok" or "verdict
 * FAILED"; exit 0 with verdict ok, 1 otherwise, 2 on bad usage.
 *
 * hostile_back --count BE FE prints the pages FE grants BE ("grants N")
 * and exits: with BE 0 while xnbd runs, it attaches to xnbd's dom0.
 *
 * hostile_back --fault MODE connects once (binding the frontend's event
 * channel), waits for the netfront's log (--frontend-log) to say it is
 * connected to us, then answers badly, and notifies:
 *   tx-id     once the guest has sent (the test script makes it), a TX
 *             response with an id none of the frontend's requests carries
 *             (the highest such id: it hands out the lowest free first);
 *   rx-page   an RX response in the first posted slot whose offset + status
 *             runs one byte past the page (96 + 4001), and a good 60-byte
 *             frame in the second;
 *   rsp-prod  RX rsp_prod a whole ring past the requests it posted.
 * Checked: after tx-id and rsp-prod the frontend goes Closing; after
 * rx-page it stays Connected (a malformed packet is dropped and counted,
 * as Linux's netfront does, and the next one still arrives); either way
 * its process (--frontend-pid) stays alive and uses under CPU_MAX_PCT % of
 * a CPU over the next CPU_WINDOW_S seconds: nothing spins. Then we go
 * Closing with both its rings still mapped: it must close granting us
 * exactly those 2 pages (its deferred list), and end them within
 * RELEASE_WAIT_S once we unmap. Finally it connects again, granting what
 * its first connection did, and closes honestly granting nothing. What the
 * netfront logs is the script's to check.
 *
 * usage: hostile_back [--cycles N] [--honest N] [--cap P] [--hold S]
 *                     [--frontend-log FILE] BE FE
 *        hostile_back --count BE FE
 *        hostile_back --fault tx-id|rx-page|rsp-prod --frontend-log FILE
 *                     [--frontend-pid PID] BE FE
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "platform.h"
#include "ring.h"
#include "sim.h"
#include "xs_util.h"

/* Any wait for the frontend gives up after this long (a loaded machine is slow). */
#define WAIT_S 30.0
#define HOLD_LINE "not connecting until it unmaps them"
#define MAX_HELD 1024u
/* --fault: the frontend's process is watched this long after the fault ... */
#define CPU_WINDOW_S 2
/* ... and may use at most this share of one CPU (a spinning thread takes all of it). */
#define CPU_MAX_PCT 10
/* The netfront retries its deferred pages every second (main.c): a few rounds. */
#define RELEASE_WAIT_S 5.0
/* rx-page: the bad slot ends one byte past its page; then a minimal Ethernet frame. */
#define BAD_OFFSET 96u
#define BAD_STATUS (ENGINE_PAGE_SIZE - BAD_OFFSET + 1u)
#define GOOD_LEN 60u
/* Slots of a one-page TX / RX ring (256), for printf. */
#define TX_SLOTS ((unsigned)ENGINE_TX_RING_SIZE)
#define RX_SLOTS ((unsigned)ENGINE_RX_RING_SIZE)

enum fault { FAULT_NONE, FAULT_TX_ID, FAULT_RX_PAGE, FAULT_RSP_PROD };

static const char *const fault_names[] = {
	[FAULT_TX_ID] = "tx-id",
	[FAULT_RX_PAGE] = "rx-page",
	[FAULT_RSP_PROD] = "rsp-prod",
};

struct back {
	const struct platform_ops *ops;
	struct platform *p;
	struct platform_gnttab *gt;
	struct xs_util u;
	unsigned fe_domid;
	char be[96], fe[96];
	const char *fe_log;
	void *held[MAX_HELD];      /* ring pages we map: TX, RX, TX, RX, ... */
	unsigned nheld;
	unsigned long bad;
	enum fault fault;
	int fe_pid;                /* --frontend-pid, or 0 */
	struct platform_evtchn *evt; /* --fault: bound to the frontend's port */
	int port;                  /* ours, or -1 */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 2, 3)))
static void bad(struct back *b, const char *fmt, ...)
{
	va_list ap;

	b->bad++;
	fputs("hostile_back: FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int fe_state(struct back *b)
{
	uint32_t st = 0;

	return xs_util_read_u32(&b->u, b->fe, "state", &st) == 0 ? (int)st : -1;
}

static void set_state(struct back *b, int st)
{
	char v[4];

	snprintf(v, sizeof(v), "%d", st);
	if (xs_util_write_str(&b->u, b->be, "state", v) != 0)
		bad(b, "cannot write our state %d", st);
}

static int grants(struct back *b)
{
	return platform_sim_peer_grants(b->p, (uint16_t)b->fe_domid);
}

/* The netfront's log has a line with @what in it. */
static bool fe_log_has(struct back *b, const char *what)
{
	char line[512];
	bool found = false;
	FILE *f;

	if (!b->fe_log || !(f = fopen(b->fe_log, "r")))
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

/* The netfront's log says it holds back. */
static bool fe_holds_back(struct back *b)
{
	return fe_log_has(b, HOLD_LINE);
}

/*
 * Until the frontend's state is @want: 1. With @held_ok, 0 when its log
 * says it holds back instead. -1 when it does neither within WAIT_S, or
 * goes Closing while we wait for it to connect (it could not share its
 * pages): its state then in *@last.
 */
static int wait_fe(struct back *b, int want, bool held_ok, int *last)
{
	double end = now_s() + WAIT_S;

	do {
		*last = fe_state(b);
		if (*last == want)
			return 1;
		if (want == XenbusStateConnected && *last == XenbusStateClosing)
			return -1;
		if (held_ok && fe_holds_back(b))
			return 0;
		usleep(5000);
	} while (now_s() < end);
	return -1;
}

/* Map the frontend's two rings, writable, as netback does; kept in held[]. 0 or -1. */
static int map_rings(struct back *b)
{
	static const char *const keys[] = { "tx-ring-ref", "rx-ring-ref" };

	for (unsigned k = 0; k < 2; k++) {
		uint32_t ref;
		int16_t st = 0;
		void *page;

		if (xs_util_read_u32(&b->u, b->fe, keys[k], &ref) != 0) {
			bad(b, "no %s from the frontend", keys[k]);
			return -1;
		}
		page = b->ops->gnttab_map(b->gt, (uint16_t)b->fe_domid, ref, true, &st);
		if (!page || b->nheld == MAX_HELD) {
			bad(b, "cannot map %s %u: status %d", keys[k], ref, st);
			return -1;
		}
		b->held[b->nheld++] = page;
	}
	return 0;
}

static void unmap_all(struct back *b)
{
	while (b->nheld)
		if (b->ops->gnttab_unmap(b->gt, b->held[--b->nheld]) != 0)
			bad(b, "cannot unmap a ring");
}

static void expect_grants(struct back *b, int want, const char *when)
{
	int g = grants(b);

	if (g != want)
		bad(b, "%s: the frontend grants us %d pages, expected %d", when, g, want);
}

/*
 * The frontend Connected: map its rings and go Connected; then Closing,
 * and Closed once it is. With @honest the rings are unmapped before
 * Closing. Returns the pages it granted while connected, or -1.
 */
static int one_connection(struct back *b, bool honest)
{
	int g, last;

	if (map_rings(b) != 0)
		return -1;
	g = grants(b);
	set_state(b, XenbusStateConnected);
	usleep(50000); /* its queue threads start */
	if (honest)
		unmap_all(b);
	set_state(b, XenbusStateClosing);
	if (wait_fe(b, XenbusStateClosed, false, &last) != 1) {
		bad(b, "the frontend did not close (state %d)", last);
		return -1;
	}
	set_state(b, XenbusStateClosed);
	return g;
}

static int run(struct back *b, unsigned cycles, unsigned honest, unsigned cap, double hold)
{
	int base = -1, g, last, r;
	unsigned held_at = 0;
	double t;

	if (xs_util_write_str(&b->u, b->be, "feature-rx-copy", "1") != 0) {
		fprintf(stderr, "hostile_back: cannot write %s\n", b->be);
		return -1;
	}
	set_state(b, XenbusStateInitWait);
	for (unsigned i = 1; i <= cycles; i++) {
		r = wait_fe(b, XenbusStateConnected, true, &last);
		if (r == 0) {
			held_at = i;
			break;
		}
		if (r < 0) {
			bad(b, "cycle %u: the frontend neither connected nor held back (state %d%s)",
			    i, last, last == XenbusStateClosing ? ": it could not set up its rings?" : "");
			return -1;
		}
		g = one_connection(b, false);
		if (g < 0)
			return -1;
		if (base < 0)
			base = g;
		else if (g != base + 2 * (int)(i - 1))
			bad(b, "cycle %u: connected with %d pages granted, expected %d (%d of the "
			    "connection, %u held)", i, g, base + 2 * (int)(i - 1), base,
			    2 * (i - 1));
		printf("hostile_back: cycle %u: connected (%d pages granted), closed with our "
		       "%u mapped pages still granted: %d\n", i, g, b->nheld, grants(b));
		expect_grants(b, (int)b->nheld, "closed");
		set_state(b, XenbusStateInitWait);
	}
	if (!held_at) {
		bad(b, "the frontend connected %u times while we kept %u of its pages mapped: no cap",
		    cycles, b->nheld);
		return -1;
	}
	printf("hostile_back: cycle %u: the frontend holds back with %u pages still mapped\n",
	       held_at, b->nheld);
	if (held_at != cap / 2 + 1)
		bad(b, "held back at cycle %u, expected %u (cap %u pages, 2 a cycle)", held_at,
		    cap / 2 + 1, cap);
	/* It stays held while we sit in InitWait, granting nothing new. */
	for (t = now_s() + hold; now_s() < t;) {
		if (fe_state(b) != XenbusStateInitialising) {
			bad(b, "held back, the frontend went to state %d", fe_state(b));
			break;
		}
		usleep(50000);
	}
	expect_grants(b, (int)b->nheld, "held back");

	unmap_all(b);
	t = now_s();
	if (wait_fe(b, XenbusStateConnected, false, &last) != 1) {
		bad(b, "released: the frontend did not connect again (state %d)", last);
		return -1;
	}
	printf("hostile_back: everything unmapped: the frontend connected again after %.1f s, "
	       "%d pages granted\n", now_s() - t, grants(b));
	expect_grants(b, base, "connected again");

	for (unsigned j = 1; j <= honest; j++) {
		g = one_connection(b, true);
		if (g < 0)
			return -1;
		if (g != base)
			bad(b, "honest cycle %u: connected with %d pages granted, expected %d", j, g,
			    base);
		expect_grants(b, 0, "closed after an honest connection");
		set_state(b, XenbusStateInitWait);
		if (wait_fe(b, XenbusStateConnected, false, &last) != 1) {
			bad(b, "honest cycle %u: the frontend did not connect (state %d)", j, last);
			return -1;
		}
	}
	printf("hostile_back: %u honest cycles: %d pages granted while connected, none after "
	       "each close\n", honest, base);
	/* An orderly end: nothing kept. */
	if (one_connection(b, true) < 0)
		return -1;
	expect_grants(b, 0, "closed at the end");
	return 0;
}

/* ---- --fault: one bad answer on a running connection ----------------------------- */

/*
 * CPU time (clock ticks) the frontend's process has used so far, or -1
 * when it is gone, a zombie included (it died and the script has not
 * reaped it yet).
 */
static long fe_cpu_ticks(struct back *b)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	char state;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", b->fe_pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* proc(5): after the command's closing parenthesis, state (3) ... utime (14), stime (15). */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state,
			 &ut, &st) != 3 || state == 'Z' || state == 'X')
		return -1;
	return (long)(ut + st);
}

/* The frontend's process is alive and nearly idle for CPU_WINDOW_S: nothing spins. */
static void expect_idle(struct back *b, const char *when)
{
	long hz = sysconf(_SC_CLK_TCK), t0, t1;

	if (b->fe_pid <= 0) {
		sleep(CPU_WINDOW_S);
		return;
	}
	t0 = fe_cpu_ticks(b);
	sleep(CPU_WINDOW_S);
	t1 = fe_cpu_ticks(b);
	if (t0 < 0 || t1 < 0) {
		bad(b, "%s: the frontend's process %d died", when, b->fe_pid);
		return;
	}
	printf("hostile_back: %s: the frontend's process used %ld ms of CPU in %d s\n", when,
	       (t1 - t0) * 1000 / hz, CPU_WINDOW_S);
	if ((t1 - t0) * 100 > (long)CPU_MAX_PCT * CPU_WINDOW_S * hz)
		bad(b, "%s: the frontend's process used %ld ms of CPU in %d s (more than %d %%): "
		    "it spins", when, (t1 - t0) * 1000 / hz, CPU_WINDOW_S, CPU_MAX_PCT);
}

/* Bind the frontend's (single, unsplit) event channel. 0 or -1. */
static int bind_port(struct back *b)
{
	uint32_t remote;

	if (xs_util_read_u32(&b->u, b->fe, "event-channel", &remote) != 0) {
		bad(b, "no event-channel from the frontend");
		return -1;
	}
	b->evt = b->ops->evtchn_open(b->p);
	if (!b->evt) {
		bad(b, "cannot open an event-channel handle: %s", strerror(errno));
		return -1;
	}
	b->port = b->ops->evtchn_bind_interdomain(b->evt, (uint16_t)b->fe_domid, remote);
	if (b->port < 0) {
		bad(b, "cannot bind the frontend's port %u: %s", remote, strerror(-b->port));
		return -1;
	}
	return 0;
}

static void unbind_port(struct back *b)
{
	if (!b->evt)
		return;
	if (b->port >= 0)
		b->ops->evtchn_unbind(b->evt, (uint32_t)b->port);
	b->ops->evtchn_close(b->evt);
	b->evt = NULL;
	b->port = -1;
}

static void notify_fe(struct back *b)
{
	int rc = b->ops->evtchn_notify(b->evt, (uint32_t)b->port);

	if (rc < 0)
		bad(b, "cannot notify the frontend: %s", strerror(-rc));
}

/* tx-id: once the guest sent, answer with an id none of its requests carries. */
static int fault_tx_id(struct back *b)
{
	netif_tx_sring_t *s = b->held[0];
	bool issued[TX_SLOTS] = { false };
	double end = now_s() + WAIT_S;
	RING_IDX prod, rsp;
	int id;

	while ((prod = __atomic_load_n(&s->req_prod, __ATOMIC_ACQUIRE)) == 0 && now_s() < end)
		usleep(5000);
	if (prod == 0 || prod > TX_SLOTS) {
		bad(b, "tx-id: the frontend's TX req_prod is %u after %.0f s, expected 1..%u", prod,
		    WAIT_S, TX_SLOTS);
		return -1;
	}
	/* Nothing answered yet: its requests are slots 0 .. prod - 1. */
	for (RING_IDX i = 0; i < prod; i++)
		issued[s->ring[i].req.id % TX_SLOTS] = true;
	for (id = TX_SLOTS - 1; id >= 0 && issued[id]; id--)
		;
	if (id < 0) {
		bad(b, "tx-id: every id is in the frontend's %u requests", prod);
		return -1;
	}
	rsp = s->rsp_prod; /* ours: 0 */
	s->ring[rsp % TX_SLOTS].rsp =
		(netif_tx_response_t){ .id = (uint16_t)id, .status = NETIF_RSP_OKAY };
	__atomic_store_n(&s->rsp_prod, rsp + 1, __ATOMIC_RELEASE);
	notify_fe(b);
	printf("hostile_back: tx-id: %u TX request%s seen; answered with id %d, which none "
	       "carries\n", prod, prod > 1 ? "s" : "", id);
	return 0;
}

/* rx-page: slot 0 runs one byte past its page; slot 1 carries a good frame. */
static int fault_rx_page(struct back *b)
{
	static const uint8_t hdr[14] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
		0x00, 0x16, 0x3e, 0x00, 0x58, 0x01, /* us */
		0x88, 0xb5,                         /* IEEE 802 local experimental */
	};
	netif_rx_sring_t *s = b->held[1];
	RING_IDX prod = __atomic_load_n(&s->req_prod, __ATOMIC_ACQUIRE);
	netif_rx_request_t q0, q1;
	int16_t st = 0;
	uint8_t *page;

	if (prod < 2 || prod > RX_SLOTS) {
		bad(b, "rx-page: the frontend's RX req_prod is %u, expected 2..%u", prod,
		    RX_SLOTS);
		return -1;
	}
	/* Requests and responses share the slots: copy the requests first. */
	q0 = s->ring[0].req;
	q1 = s->ring[1].req;
	page = b->ops->gnttab_map(b->gt, (uint16_t)b->fe_domid, q1.gref, true, &st);
	if (!page) {
		bad(b, "rx-page: cannot map the RX buffer %u: status %d", q1.gref, st);
		return -1;
	}
	memcpy(page, hdr, sizeof(hdr));
	for (unsigned i = sizeof(hdr); i < GOOD_LEN; i++)
		page[i] = (uint8_t)i;
	/* Unmapped at once: a buffer still mapped would keep all 256 of them granted. */
	if (b->ops->gnttab_unmap(b->gt, page) != 0)
		bad(b, "rx-page: cannot unmap the RX buffer");
	s->ring[0].rsp = (netif_rx_response_t){ .id = q0.id, .offset = BAD_OFFSET,
						.status = (int16_t)BAD_STATUS };
	s->ring[1].rsp = (netif_rx_response_t){ .id = q1.id, .status = GOOD_LEN };
	__atomic_store_n(&s->rsp_prod, 2, __ATOMIC_RELEASE);
	notify_fe(b);
	printf("hostile_back: rx-page: RX response offset %u + status %u = %u, past the page; "
	       "then a good %u-byte frame\n", BAD_OFFSET, BAD_STATUS, BAD_OFFSET + BAD_STATUS,
	       GOOD_LEN);
	return 0;
}

/* rsp-prod: RX rsp_prod a whole ring past the requests posted. */
static int fault_rsp_prod(struct back *b)
{
	netif_rx_sring_t *s = b->held[1];
	RING_IDX prod = __atomic_load_n(&s->req_prod, __ATOMIC_ACQUIRE);

	__atomic_store_n(&s->rsp_prod, prod + RX_SLOTS, __ATOMIC_RELEASE);
	notify_fe(b);
	printf("hostile_back: rsp-prod: RX rsp_prod %u, a whole ring past the %u requests "
	       "posted\n", prod + RX_SLOTS, prod);
	return 0;
}

/* Until the frontend grants us @want pages, at most @secs; the last count. */
static int wait_grants(struct back *b, int want, double secs)
{
	double end = now_s() + secs;
	int g;

	while ((g = grants(b)) != want && now_s() < end)
		usleep(20000);
	return g;
}

static int run_fault(struct back *b)
{
	char line[160];
	int base, g, last, r;
	double t;

	if (xs_util_write_str(&b->u, b->be, "feature-rx-copy", "1") != 0) {
		fprintf(stderr, "hostile_back: cannot write %s\n", b->be);
		return -1;
	}
	set_state(b, XenbusStateInitWait);
	if (wait_fe(b, XenbusStateConnected, false, &last) != 1) {
		bad(b, "the frontend did not connect (state %d)", last);
		return -1;
	}
	if (map_rings(b) != 0 || bind_port(b) != 0)
		return -1;
	base = grants(b);
	set_state(b, XenbusStateConnected);
	/* Its queue thread runs once it logs this (handshake.c bring_up). */
	snprintf(line, sizeof(line), "connected to %s ", b->be);
	for (t = now_s() + WAIT_S; !fe_log_has(b, line) && now_s() < t;)
		usleep(5000);
	if (!fe_log_has(b, line)) {
		bad(b, "the frontend's log never says \"%s\"", line);
		return -1;
	}
	printf("hostile_back: connected, the frontend grants %d pages\n", base);

	switch (b->fault) {
	case FAULT_TX_ID:
		r = fault_tx_id(b);
		break;
	case FAULT_RX_PAGE:
		r = fault_rx_page(b);
		break;
	default:
		r = fault_rsp_prod(b);
		break;
	}
	if (r != 0)
		return -1;
	t = now_s();
	if (b->fault == FAULT_RX_PAGE) {
		expect_idle(b, "after the bad packet");
		if ((last = fe_state(b)) != XenbusStateConnected)
			bad(b, "a malformed RX packet: the frontend left Connected (state %d)", last);
		else
			printf("hostile_back: the frontend stays Connected\n");
	} else {
		if (wait_fe(b, XenbusStateClosing, false, &last) != 1)
			bad(b, "the frontend did not go Closing after the fault (state %d)", last);
		else
			printf("hostile_back: the frontend went Closing %.2f s after the fault, "
			       "granting %d pages\n", now_s() - t, grants(b));
		expect_idle(b, "closing after the fault");
	}

	/* We close with its rings still mapped: those stay granted, the rest ends. */
	unbind_port(b);
	set_state(b, XenbusStateClosing);
	if (wait_fe(b, XenbusStateClosed, false, &last) != 1) {
		bad(b, "the frontend did not close (state %d)", last);
		return -1;
	}
	expect_grants(b, (int)b->nheld, "closed with its rings still mapped");
	printf("hostile_back: closed with its rings still mapped: it grants %d pages\n", grants(b));
	unmap_all(b);
	t = now_s();
	g = wait_grants(b, 0, RELEASE_WAIT_S);
	if (g != 0)
		bad(b, "rings unmapped: the frontend still grants %d pages after %.0f s", g,
		    RELEASE_WAIT_S);
	else
		printf("hostile_back: rings unmapped: the frontend ended their grants within "
		       "%.1f s\n", now_s() - t);
	set_state(b, XenbusStateClosed);

	/* It is not wedged: a fresh connection, closed honestly. */
	set_state(b, XenbusStateInitWait);
	if (wait_fe(b, XenbusStateConnected, false, &last) != 1) {
		bad(b, "after the fault the frontend did not connect again (state %d)", last);
		return -1;
	}
	g = one_connection(b, true);
	if (g < 0)
		return -1;
	if (g != base)
		bad(b, "connected again with %d pages granted, expected %d as the first time", g,
		    base);
	expect_grants(b, 0, "closed at the end");
	printf("hostile_back: connected again (%d pages granted) and closed: nothing granted\n",
	       g);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: hostile_back [--cycles N] [--honest N] [--cap P] [--hold S] "
			"[--frontend-log FILE] BE FE\n"
			"       hostile_back --count BE FE\n"
			"       hostile_back --fault tx-id|rx-page|rsp-prod --frontend-log FILE "
			"[--frontend-pid PID] BE FE\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cycles", required_argument, NULL, 'c' },
		{ "honest", required_argument, NULL, 'H' },
		{ "cap", required_argument, NULL, 'p' },
		{ "hold", required_argument, NULL, 'h' },
		{ "frontend-log", required_argument, NULL, 'l' },
		{ "count", no_argument, NULL, 'C' },
		{ "fault", required_argument, NULL, 'f' },
		{ "frontend-pid", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	static struct back b;
	unsigned cycles = 40, honest = 5, cap = 64;
	double hold = 2;
	bool count = false;
	int opt, be_domid, rc;

	b.ops = platform_by_name("sim");
	b.port = -1;
	while ((opt = getopt_long(argc, argv, "c:H:p:h:l:Cf:P:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cycles = (unsigned)atoi(optarg);
			break;
		case 'H':
			honest = (unsigned)atoi(optarg);
			break;
		case 'p':
			cap = (unsigned)atoi(optarg);
			break;
		case 'h':
			hold = strtod(optarg, NULL);
			break;
		case 'l':
			b.fe_log = optarg;
			break;
		case 'C':
			count = true;
			break;
		case 'f':
			for (unsigned i = FAULT_TX_ID; i <= FAULT_RSP_PROD; i++)
				if (strcmp(optarg, fault_names[i]) == 0)
					b.fault = (enum fault)i;
			if (b.fault == FAULT_NONE) {
				usage();
				return 2;
			}
			break;
		case 'P':
			b.fe_pid = atoi(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - 2 || !b.ops || cycles < 1 || cycles > MAX_HELD / 2 || !(hold >= 0) ||
	    (b.fault && !b.fe_log)) {
		usage();
		return 2;
	}
	be_domid = atoi(argv[optind]);
	b.fe_domid = (unsigned)atoi(argv[optind + 1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	b.p = b.ops->open(be_domid);
	if (!b.p) {
		fprintf(stderr, "hostile_back: cannot open domain %d: %s\n", be_domid,
			strerror(errno));
		return 1;
	}
	if (count) {
		rc = grants(&b);
		if (rc >= 0)
			printf("grants %d\n", rc);
		else
			fprintf(stderr, "hostile_back: domain %u: %s\n", b.fe_domid, strerror(-rc));
		b.ops->close(b.p);
		return rc >= 0 ? 0 : 1;
	}
	b.gt = b.ops->gnttab_open(b.p);
	b.u = (struct xs_util){ b.ops, b.ops->xs_open(b.p) };
	snprintf(b.be, sizeof(b.be), "/local/domain/%d/backend/vif/%u/0", be_domid, b.fe_domid);
	snprintf(b.fe, sizeof(b.fe), "/local/domain/%u/device/vif/0", b.fe_domid);
	if (!b.gt || !b.u.xs)
		rc = -1;
	else if (b.fault)
		rc = run_fault(&b);
	else
		rc = run(&b, cycles, honest, cap, hold);
	if (!b.gt || !b.u.xs)
		fprintf(stderr, "hostile_back: cannot open the grant table or XenStore\n");
	if (rc < 0 && !b.bad)
		b.bad++;
	unbind_port(&b);
	unmap_all(&b);
	printf("hostile_back: verdict %s (%lu checks failed)\n", b.bad ? "FAILED" : "ok", b.bad);
	if (b.u.xs)
		b.ops->xs_close(b.u.xs);
	if (b.gt)
		b.ops->gnttab_close(b.gt);
	b.ops->close(b.p);
	return b.bad ? 1 : 0;
}
