/* SPDX-License-Identifier: MIT */
/*
 * hostile_back.c - a backend domain that keeps its frontend's rings mapped
 * across reconnects (issue 13), over the simulated Xen (the 'sim' platform).
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
 * usage: hostile_back [--cycles N] [--honest N] [--cap P] [--hold S]
 *                     [--frontend-log FILE] BE FE
 *        hostile_back --count BE FE
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
#include "sim.h"
#include "xs_util.h"

/* Any wait for the frontend gives up after this long (a loaded machine is slow). */
#define WAIT_S 30.0
#define HOLD_LINE "not connecting until it unmaps them"
#define MAX_HELD 1024u

struct back {
	const struct platform_ops *ops;
	struct platform *p;
	struct platform_gnttab *gt;
	struct xs_util u;
	unsigned fe_domid;
	char be[96], fe[96];
	const char *fe_log;
	void *held[MAX_HELD];      /* ring pages we map */
	unsigned nheld;
	unsigned long bad;
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

/* The netfront's log says it holds back. */
static bool fe_holds_back(struct back *b)
{
	char line[512];
	bool found = false;
	FILE *f;

	if (!b->fe_log || !(f = fopen(b->fe_log, "r")))
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, HOLD_LINE) != NULL;
	fclose(f);
	return found;
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

static void usage(void)
{
	fprintf(stderr, "usage: hostile_back [--cycles N] [--honest N] [--cap P] [--hold S] "
			"[--frontend-log FILE] BE FE\n"
			"       hostile_back --count BE FE\n");
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
		{ NULL, 0, NULL, 0 },
	};
	static struct back b;
	unsigned cycles = 40, honest = 5, cap = 64;
	double hold = 2;
	bool count = false;
	int opt, be_domid, rc;

	b.ops = platform_by_name("sim");
	while ((opt = getopt_long(argc, argv, "c:H:p:h:l:C", opts, NULL)) != -1) {
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
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - 2 || !b.ops || cycles < 1 || cycles > MAX_HELD / 2 || !(hold >= 0)) {
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
	rc = b.gt && b.u.xs ? run(&b, cycles, honest, cap, hold) : -1;
	if (!b.gt || !b.u.xs)
		fprintf(stderr, "hostile_back: cannot open the grant table or XenStore\n");
	if (rc < 0 && !b.bad)
		b.bad++;
	unmap_all(&b);
	printf("hostile_back: verdict %s (%lu checks failed)\n", b.bad ? "FAILED" : "ok", b.bad);
	if (b.u.xs)
		b.ops->xs_close(b.u.xs);
	if (b.gt)
		b.ops->gnttab_close(b.gt);
	b.ops->close(b.p);
	return b.bad ? 1 : 0;
}
