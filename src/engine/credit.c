/* SPDX-License-Identifier: MIT */
/* credit.c - guest TX rate limiting by credit, as Linux netback does it. */
#include "credit.h"

/* True if time @a comes before time @b: a wrapping clock is fine. */
static bool before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

/*
 * One period's worth of credit, capped so that idle time does not bank more
 * than a burst, yet always enough for a 128 KiB packet, or for @size.
 */
static void add_credit(struct engine_credit *c, uint32_t size)
{
	uint64_t cap = c->credit_bytes, sum;

	if (cap < ENGINE_CREDIT_BURST_MIN)
		cap = ENGINE_CREDIT_BURST_MIN;
	if (cap < size)
		cap = size;
	sum = c->remaining + c->credit_bytes;
	if (sum < c->remaining)
		sum = UINT64_MAX; /* a huge rate must not wrap to no credit */
	c->remaining = sum < cap ? sum : cap;
}

bool engine_credit_unlimited(const struct engine_credit *c)
{
	return c->credit_bytes == ENGINE_CREDIT_UNLIMITED || c->credit_usec == 0;
}

void engine_credit_init(struct engine_credit *c, uint64_t bytes, uint32_t usec,
			uint64_t now_us)
{
	*c = (struct engine_credit){
		.credit_bytes = bytes,
		.credit_usec = usec,
		.remaining = bytes,
		.window_start = now_us,
	};
	if (engine_credit_unlimited(c))
		c->remaining = UINT64_MAX;
}

bool engine_credit_set(struct engine_credit *c, uint64_t bytes, uint32_t usec,
		       uint64_t now_us)
{
	c->credit_bytes = bytes;
	c->credit_usec = usec;
	if (c->waiting) {
		/* Linux fires the pending timer at once, under the new rate. */
		c->waiting = false;
		c->window_start = now_us;
		add_credit(c, 0);
		return true;
	}
	if (c->remaining > bytes)
		c->remaining = bytes;
	return false;
}

bool engine_credit_check(struct engine_credit *c, uint64_t now_us, uint32_t size,
			 uint64_t *wait_until_us)
{
	uint64_t next;

	if (engine_credit_unlimited(c))
		return true;

	if (c->waiting) {
		if (before(now_us, c->wait_until)) {
			/* A wait never spans more than a period: if it seems to,
			 * the clock stepped back; wait one period from here. */
			if (c->wait_until - now_us > c->credit_usec) {
				c->stats.clock_backsteps++;
				c->wait_until = now_us + c->credit_usec;
				c->window_start = c->wait_until;
			} else {
				c->stats.early_checks++;
			}
			*wait_until_us = c->wait_until;
			return false;
		}
		/* What Linux's timer callback adds; the window began at the deadline. */
		c->waiting = false;
		add_credit(c, size);
	}
	if (size <= c->remaining)
		return true;

	/* Not waiting, the window never starts after now: unless the clock stepped back. */
	if (before(now_us, c->window_start)) {
		c->stats.clock_backsteps++;
		c->window_start = now_us;
	}
	next = c->window_start + c->credit_usec;
	if (!before(now_us, next)) {
		c->window_start = now_us;
		add_credit(c, size);
		if (size <= c->remaining)
			return true;
		next = now_us + c->credit_usec;
	}

	/* Wait for the window's end; the next window starts exactly there. */
	c->waiting = true;
	c->wait_until = next;
	c->window_start = next;
	c->stats.deferrals++;
	*wait_until_us = next;
	return false;
}

void engine_credit_charge(struct engine_credit *c, uint32_t size)
{
	c->remaining = size < c->remaining ? c->remaining - size : 0;
}

bool engine_credit_allow(struct engine_credit *c, uint64_t now_us, uint32_t size,
			 uint64_t *wait_until_us)
{
	if (!engine_credit_check(c, now_us, size, wait_until_us))
		return false;
	engine_credit_charge(c, size);
	return true;
}
