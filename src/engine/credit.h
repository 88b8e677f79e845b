/* SPDX-License-Identifier: MIT */
/*
 * credit.h - the credit scheduler that rate-limits a guest's TX.
 *
 * Theory of operation. It behaves as Linux netback's (tx_credit_exceeded,
 * tx_add_credit, xenvif_tx_credit_callback, xen_net_rate_changed). A queue
 * holds @remaining bytes of credit. A packet that fits is charged and goes.
 * One that does not fit looks whether the current window (@credit_usec long,
 * from @window_start) is over: if so the window restarts now and one period's
 * @credit_bytes are added. If it still does not fit, the queue waits: the
 * next window is made to start exactly when this one ends (so a late wake-up
 * loses no time), and at that moment one more period's credit is added.
 * Credit is never allowed to grow past max(@credit_bytes, 128 KiB), so idle
 * time does not bank an unbounded burst, yet a packet bigger than one
 * period's credit still goes once enough periods have added up. The achieved
 * rate is therefore @credit_bytes per @credit_usec, whatever the packet size.
 *
 * No clock is read here: the caller passes monotonic time in microseconds.
 * Times are compared by signed difference, so a clock that wraps is fine; a
 * clock that steps back is detected and costs at most one period's wait.
 *
 * Differences from Linux, each deliberate:
 *  - The period is used to the microsecond. Linux rounds it down to whole
 *    milliseconds and then up to jiffies (52 ms for 50 ms at HZ=250; a
 *    period under 1 ms becomes zero, and credit comes at every check).
 *  - A zero period is unlimited (the rate parser never yields one).
 *  - The cap on credit also covers the packet being asked about, so even a
 *    packet over 128 KiB cannot wait for ever. The ring's 16-bit sizes never
 *    reach that, so for real traffic this is Linux's cap exactly.
 *  - When a packet still does not fit right after a new window began, Linux
 *    arms its timer for the end of the old window, already past: a second
 *    period's credit comes at once and the window lags behind the clock,
 *    paying out faster until it catches up. Here the wait is for the end of
 *    the new window.
 *  - A rate change that ends a wait starts a new window there and then
 *    (Linux keeps the window of the wait it cut short).
 *  - The timer callback's credit is added when the caller comes back at or
 *    after the deadline, not by the timer itself: the same sum, no callback.
 *
 * How to wire it (the worker). One struct engine_credit per TX queue, as in
 * Linux, where every queue gets the whole rate (a 4-queue vif may send 4x
 * @rate); share one between the queues (and run them all when its timer
 * fires) to limit the vif as a whole.
 * At connect, read the backend's `rate` node with xsvalue_parse_rate() (an
 * absent node is unlimited; a bad one is logged and is unlimited) and call
 * engine_credit_init(); watch the node and call engine_credit_set() when it
 * fires; if that returns true, run the TX loop now.
 * In the TX loop, for each packet: take its size from the first request
 * (txreq.size holds the whole packet's length) out of the private copy of
 * that request, never from a second read of the shared ring, and ask
 * engine_credit_check() before consuming anything. When the packet is
 * taken, engine_credit_charge() its size (engine_credit_allow() is the two
 * in one). In xnb the first request is copied inside engine_tx_parse(), so
 * that is where the check belongs; a packet it leaves on the ring
 * (incomplete, batch full) must not be charged.
 * If the check says no: stop taking requests, leaving that one on the ring;
 * finish the batch already parsed as usual; arm a timer (timerfd,
 * CLOCK_MONOTONIC, absolute) for *@wait_until_us; and leave the loop without
 * engine_tx_more() and without marking the queue pending. engine_tx_more()
 * would report the waiting requests and send the loop round again, a busy
 * wait; and like Linux while rate_limited, leaving req_event alone stops the
 * guest's notifications, which could only wake us for nothing. When the
 * timer fires, run the TX loop: it ends with engine_tx_more() as usual.
 * Report stats.deferrals as tx_rate_deferrals: Linux counts nothing, so a
 * rate-limited guest is otherwise invisible; a growing stats.early_checks
 * means the loop is being run before its timer.
 */
#ifndef XNB_ENGINE_CREDIT_H
#define XNB_ENGINE_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

/* Linux's ~0UL credit_bytes: no limit (XSVALUE_RATE_UNLIMITED, the same value). */
#define ENGINE_CREDIT_UNLIMITED UINT64_MAX

/* Linux tx_add_credit: credit may always build up to a 128 KiB jumbo packet. */
#define ENGINE_CREDIT_BURST_MIN 131072u

struct engine_credit_stats {
	uint64_t deferrals;       /* a packet was held back and a wait began */
	uint64_t early_checks;    /* asked again while still waiting */
	uint64_t clock_backsteps; /* now was before a time already seen */
};

struct engine_credit {
	uint64_t credit_bytes;    /* per period; ENGINE_CREDIT_UNLIMITED */
	uint32_t credit_usec;     /* the period; 0: unlimited */
	uint64_t remaining;       /* bytes that may still go */
	uint64_t window_start;    /* us: start of the current period */
	uint64_t wait_until;      /* us: end of the wait, when waiting */
	bool waiting;             /* Linux: credit_timeout pending */
	struct engine_credit_stats stats;
};

/*
 * engine_credit_init() - start @c at @now_us with @bytes per @usec, a full
 * period's credit in hand (Linux's connect()).
 * @bytes ENGINE_CREDIT_UNLIMITED or @usec 0: no limit.
 */
void engine_credit_init(struct engine_credit *c, uint64_t bytes, uint32_t usec,
			uint64_t now_us);

/*
 * engine_credit_set() - a live change of rate at @now_us (the `rate` watch
 * fired). As Linux: a wait in progress ends now, with a period of the new
 * rate's credit added; otherwise credit above the new @bytes is cut down to it.
 * Returns true if a wait was ended: the caller should run the TX loop now
 * (and may disarm its timer).
 */
bool engine_credit_set(struct engine_credit *c, uint64_t bytes, uint32_t usec,
		       uint64_t now_us);

/* engine_credit_unlimited() - true if @c lets everything through. */
bool engine_credit_unlimited(const struct engine_credit *c);

/*
 * engine_credit_check() - may a packet of @size bytes go at @now_us?
 * Adds the credit that is due. Returns true if it may (charge it with
 * engine_credit_charge() once it is taken); false if the caller must wait:
 * *@wait_until_us is then when to ask again, and the packet stays on the ring.
 */
bool engine_credit_check(struct engine_credit *c, uint64_t now_us, uint32_t size,
			 uint64_t *wait_until_us);

/*
 * engine_credit_charge() - @size bytes were taken. Never goes below zero,
 * even if the guest's size grew between the check and the parse.
 */
void engine_credit_charge(struct engine_credit *c, uint32_t size);

/* engine_credit_allow() - engine_credit_check(), and the charge if it may go. */
bool engine_credit_allow(struct engine_credit *c, uint64_t now_us, uint32_t size,
			 uint64_t *wait_until_us);

#endif
