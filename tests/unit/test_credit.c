/* SPDX-License-Identifier: MIT */
/*
 * test_credit.c - the TX credit scheduler over simulated time.
 *
 * A guest with an endless backlog of same-size packets, a TX loop that sends
 * until the scheduler says wait, and a timer that fires somewhat late: the
 * bytes that got through over many seconds of fake time must be the
 * configured rate, within 1%.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "credit.h"
#include "xsvalue.h"

#define SEC 1000000ull /* the scheduler's time is in microseconds */

struct sim {
	struct engine_credit c;
	uint64_t now;        /* us */
	uint64_t sent;       /* bytes that went */
	uint64_t packets;
	uint32_t late_max;   /* the timer fires up to this many us late */
	uint32_t cost;       /* us the TX loop spends per packet */
	uint32_t seed;
};

/* Deterministic jitter (an LCG): the same run every time. */
static uint32_t jitter(struct sim *s, uint32_t max)
{
	s->seed = s->seed * 1103515245u + 12345u;
	return max ? (s->seed >> 8) % (max + 1) : 0;
}

static void sim_init(struct sim *s, const char *rate, uint64_t start)
{
	struct xsvalue_rate r;

	memset(s, 0, sizeof(*s));
	assert_int_equal(xsvalue_parse_rate(rate, strlen(rate), &r), 0);
	s->now = start;
	s->seed = 1;
	engine_credit_init(&s->c, r.bytes, r.usec, start);
}

/* Wrap-safe "@a is before @b", as the scheduler itself compares times. */
static int sim_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

/* Run the TX loop on packets of @size for @duration us of fake time. */
static void sim_run(struct sim *s, uint64_t duration, uint32_t size)
{
	const uint64_t end = s->now + duration;
	uint64_t wait;

	while (sim_before(s->now, end)) {
		if (engine_credit_allow(&s->c, s->now, size, &wait)) {
			s->sent += size;
			s->packets++;
			s->now += s->cost;
			continue;
		}
		/* A deadline is in the future and never more than a period away. */
		assert_true(sim_before(s->now, wait));
		assert_true(wait - s->now <= s->c.credit_usec);
		s->now = wait + jitter(s, s->late_max);
	}
}

/* @bytes over @duration us is @per bytes per @usec, within 1%. */
static void assert_rate(uint64_t bytes, uint64_t duration, uint64_t per, uint64_t usec)
{
	double got = (double)bytes / (double)duration;
	double want = (double)per / (double)usec;

	if (got < want * 0.99 || got > want * 1.01)
		fail_msg("rate %.6f bytes/us, want %.6f (off by %.3f%%)", got, want,
			 (got - want) * 100.0 / want);
}

static void check_rate(const char *rate, uint64_t per, uint64_t usec, uint32_t size,
		       uint32_t late_max)
{
	struct sim s;
	const uint64_t duration = 60 * SEC;

	sim_init(&s, rate, 1000 * SEC);
	s.late_max = late_max;
	s.cost = 1;
	sim_run(&s, duration, size);
	assert_rate(s.sent, duration, per, usec);
	assert_true(s.c.stats.deferrals > 0);
	assert_int_equal(s.c.stats.clock_backsteps, 0);
}

/* xl's rate=10Mb/s: libxl writes "62500,50000" (50 ms, its default period). */
static void test_10mbit_libxl_default(void **state)
{
	(void)state;
	check_rate("62500,50000", 62500, 50000, 1514, 0);
	check_rate("62500,50000", 62500, 50000, 1514, 2000);
	check_rate("62500,50000", 62500, 50000, 65535, 0);
	check_rate("62500,50000", 62500, 50000, 65535, 2000);
}

/* xl's rate=10Mb/s@1ms: "1250,1000", smaller than one full-size frame. */
static void test_10mbit_1ms(void **state)
{
	(void)state;
	check_rate("1250,1000", 1250, 1000, 1514, 0);
	check_rate("1250,1000", 1250, 1000, 1514, 300);
	check_rate("1250,1000", 1250, 1000, 65535, 0);
	check_rate("1250,1000", 1250, 1000, 65535, 300);
}

/* The next window starts at the deadline, not at the late wake-up. */
static void test_late_timer_loses_nothing(void **state)
{
	(void)state;
	check_rate("62500,50000", 62500, 50000, 1514, 45000);
}

static void test_unlimited(void **state)
{
	struct engine_credit c;
	struct xsvalue_rate r;
	uint64_t wait = 0;

	(void)state;
	engine_credit_init(&c, ENGINE_CREDIT_UNLIMITED, 0, 0);
	assert_true(engine_credit_unlimited(&c));
	for (int i = 0; i < 1000000; i++)
		assert_true(engine_credit_allow(&c, 5, 65535, &wait));
	assert_int_equal(c.stats.deferrals, 0);

	/* A bad node is unlimited, straight from the parser. */
	assert_int_equal(xsvalue_parse_rate("junk", 4, &r), -EINVAL);
	engine_credit_init(&c, r.bytes, r.usec, 0);
	assert_true(engine_credit_unlimited(&c));
	assert_true(engine_credit_allow(&c, 0, 65535, &wait));
	assert_true(wait == 0);
}

/* A rate so big that adding a period's credit would wrap must not wrap to nothing. */
static void test_huge_rate_does_not_wrap(void **state)
{
	struct engine_credit c;
	uint64_t wait;

	(void)state;
	engine_credit_init(&c, UINT64_MAX - 1, 50000, 0);
	assert_false(engine_credit_unlimited(&c));
	c.remaining = 100; /* as if 2^64 bytes had gone */
	assert_true(engine_credit_allow(&c, 50000, 1514, &wait));
	/* 100 + (2^64 - 2) wrapped would be 98: clamped to the cap instead. */
	assert_true(c.remaining == UINT64_MAX - 1 - 1514);
}

static void test_live_change(void **state)
{
	struct sim s;
	uint64_t wait, sent;

	(void)state;
	sim_init(&s, "62500,50000", 0);
	s.cost = 1;
	s.late_max = 500;
	sim_run(&s, 10 * SEC, 1514);
	assert_rate(s.sent, 10 * SEC, 62500, 50000);

	/* Doubled while waiting: the wait ends now, the caller is told to run. */
	assert_false(engine_credit_allow(&s.c, s.now, 65535, &wait));
	assert_true(s.c.waiting);
	assert_true(engine_credit_set(&s.c, 125000, 50000, s.now));
	assert_false(s.c.waiting);
	assert_true(engine_credit_allow(&s.c, s.now, 1514, &wait));
	sent = s.sent;
	sim_run(&s, 20 * SEC, 1514);
	assert_rate(s.sent - sent, 20 * SEC, 125000, 50000);

	/* Cut down while not waiting: credit above the new rate goes. */
	s.now += SEC;
	assert_true(engine_credit_allow(&s.c, s.now, 64, &wait));
	assert_false(s.c.waiting);
	assert_false(engine_credit_set(&s.c, 1000, 50000, s.now));
	assert_true(s.c.remaining <= 1000);
	sent = s.sent;
	sim_run(&s, 60 * SEC, 1514);
	assert_rate(s.sent - sent, 60 * SEC, 1000, 50000);

	/* Lifted while waiting: everything goes at once. */
	assert_false(engine_credit_allow(&s.c, s.now, 65535, &wait));
	assert_true(s.c.waiting);
	assert_true(engine_credit_set(&s.c, ENGINE_CREDIT_UNLIMITED, 0, s.now));
	assert_true(engine_credit_unlimited(&s.c));
	for (int i = 0; i < 1000; i++)
		assert_true(engine_credit_allow(&s.c, s.now, 65535, &wait));

	/* And limited again: the unlimited credit is cut to one period's. */
	assert_false(engine_credit_set(&s.c, 62500, 50000, s.now));
	assert_true(s.c.remaining == 62500);
	sent = s.sent;
	sim_run(&s, 10 * SEC, 1514);
	assert_rate(s.sent - sent, 10 * SEC, 62500, 50000);
}

/* Time until a packet of @size first goes at @rate from a cold start. */
static uint64_t time_to_send(const char *rate, uint32_t size, uint64_t limit)
{
	struct sim s;

	sim_init(&s, rate, 77);
	while (s.now - 77 < limit) {
		uint64_t wait;

		if (engine_credit_allow(&s.c, s.now, size, &wait))
			return s.now - 77;
		s.now = wait;
	}
	return UINT64_MAX;
}

static void test_huge_packet_never_starves(void **state)
{
	uint64_t t;

	(void)state;
	/* 100 bytes per 50 ms: a 64 KiB packet needs 655 periods of credit. */
	t = time_to_send("100,50000", 65535, 3600 * SEC);
	assert_true(t == 655 * 50000ull);
	/* Bigger than the 128 KiB burst Linux allows (no ring can carry it). */
	t = time_to_send("1000,1000", 200000, 3600 * SEC);
	assert_true(t == 199 * 1000ull);
}

/*
 * After an idle spell a packet that one period's credit cannot cover waits
 * for the end of the window that just began, and earns its credit at the
 * rate. (Linux would arm its timer for the end of the old window, long past,
 * and pay out two periods' credit per wake-up while its window catches up.)
 */
static void test_big_packet_after_idle(void **state)
{
	struct engine_credit c;
	uint64_t now = 0, start, wait;

	(void)state;
	engine_credit_init(&c, 1250, 1000, now);
	assert_true(engine_credit_allow(&c, now, 1250, &wait));
	now = start = 10 * SEC;
	while (!engine_credit_allow(&c, now, 65535, &wait)) {
		assert_true(wait > now);
		assert_true(wait - now == 1000);
		now = wait;
	}
	/* 1250 at once, then 52 periods more until 66250 >= 65535. */
	assert_true(now - start == 52 * 1000ull);
	assert_int_equal(c.stats.deferrals, 52);
}

/* Zero bytes per period is what Linux does with it: nothing goes. */
static void test_zero_rate_holds_everything(void **state)
{
	(void)state;
	assert_true(time_to_send("0,50000", 60, 3600 * SEC) == UINT64_MAX);
}

static void test_clock_wraps(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, "62500,50000", UINT64_MAX - 5 * SEC);
	s.cost = 1;
	s.late_max = 700;
	sim_run(&s, 20 * SEC, 1514);
	assert_true(s.now < 20 * SEC); /* it did wrap */
	assert_rate(s.sent, 20 * SEC, 62500, 50000);
	assert_int_equal(s.c.stats.clock_backsteps, 0);
}

static void test_clock_steps_back(void **state)
{
	struct sim s;
	uint64_t wait, sent;

	(void)state;
	sim_init(&s, "62500,50000", 3600 * SEC);
	s.cost = 1;
	sim_run(&s, 5 * SEC, 1514);

	/* Back an hour while waiting: one period's wait, not an hour's. */
	assert_false(engine_credit_allow(&s.c, s.now, 65535, &wait));
	s.now -= 3600 * SEC;
	assert_false(engine_credit_allow(&s.c, s.now, 65535, &wait));
	assert_true(wait - s.now == 50000);
	assert_int_equal(s.c.stats.clock_backsteps, 1);
	sent = s.sent;
	sim_run(&s, 10 * SEC, 1514);
	assert_rate(s.sent - sent, 10 * SEC, 62500, 50000);

	/* Back an hour while not waiting (credit left): the window restarts here. */
	s.now += SEC;
	assert_true(engine_credit_allow(&s.c, s.now, 64, &wait));
	assert_false(s.c.waiting);
	s.now -= 3600 * SEC;
	while (engine_credit_allow(&s.c, s.now, 1514, &wait))
		;
	assert_true(wait - s.now <= 50000);
	assert_int_equal(s.c.stats.clock_backsteps, 2);
	sent = s.sent;
	sim_run(&s, 10 * SEC, 1514);
	assert_rate(s.sent - sent, 10 * SEC, 62500, 50000);
}

/* A long idle spell (or a clock leaping ahead) banks no more than the cap. */
static void test_idle_banks_one_burst(void **state)
{
	struct engine_credit c;
	uint64_t wait, burst = 0, now = 0;

	(void)state;
	engine_credit_init(&c, 62500, 50000, now);
	now += 24 * 3600 * SEC;
	while (engine_credit_allow(&c, now, 1514, &wait))
		burst += 1514;
	/* What was left before the idle spell, plus one period, capped. */
	assert_true(burst <= 62500 + ENGINE_CREDIT_BURST_MIN);
	assert_true(burst >= 62500 * 2 - 1514);
}

static void test_check_then_charge(void **state)
{
	struct engine_credit c;
	uint64_t wait = 0;

	(void)state;
	engine_credit_init(&c, 10000, 1000, 0);
	/* A check consumes nothing, however often it is asked. */
	for (int i = 0; i < 100; i++)
		assert_true(engine_credit_check(&c, 0, 10000, &wait));
	assert_true(c.remaining == 10000);
	engine_credit_charge(&c, 6000);
	assert_true(c.remaining == 4000);
	/* The guest grew the packet between check and parse: zero, not a wrap. */
	engine_credit_charge(&c, 65535);
	assert_true(c.remaining == 0);
	assert_false(engine_credit_check(&c, 10, 1, &wait));
	assert_true(wait == 1000);
}

static void test_early_wakeup(void **state)
{
	struct engine_credit c;
	uint64_t wait = 0, wait2 = 0;

	(void)state;
	engine_credit_init(&c, 1000, 50000, 0);
	assert_true(engine_credit_allow(&c, 0, 1000, &wait));
	assert_false(engine_credit_allow(&c, 10, 100, &wait));
	assert_true(wait == 50000);
	assert_int_equal(c.stats.deferrals, 1);
	/* Woken by the guest, not the timer: still waiting, nothing added. */
	assert_false(engine_credit_allow(&c, 49999, 100, &wait2));
	assert_true(wait2 == 50000);
	assert_true(c.remaining == 0);
	assert_int_equal(c.stats.early_checks, 1);
	assert_int_equal(c.stats.deferrals, 1);
	assert_true(engine_credit_allow(&c, 50000, 100, &wait));
	assert_true(c.remaining == 900);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_10mbit_libxl_default),
		cmocka_unit_test(test_10mbit_1ms),
		cmocka_unit_test(test_late_timer_loses_nothing),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_huge_rate_does_not_wrap),
		cmocka_unit_test(test_live_change),
		cmocka_unit_test(test_huge_packet_never_starves),
		cmocka_unit_test(test_big_packet_after_idle),
		cmocka_unit_test(test_zero_rate_holds_everything),
		cmocka_unit_test(test_clock_wraps),
		cmocka_unit_test(test_clock_steps_back),
		cmocka_unit_test(test_idle_banks_one_burst),
		cmocka_unit_test(test_check_then_charge),
		cmocka_unit_test(test_early_wakeup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
