/* SPDX-License-Identifier: MIT */
/*
 * queue_thread.c - the worker's data-path threads: thread i serves queue i
 * of each of the guest's vifs (worker.h explains the lock).
 *
 * Each thread sleeps in its own epoll set over: its event-channel handle
 * (the ports of its queues, and on thread 0 those of the vifs' control
 * rings, routed by port to one or the other), each of its queues' TAP fd
 * (routed by fd), a wake eventfd (stop, or look at every queue), the timer
 * of held-back unmasks, and a 1 s tick (stall and drain checks). It wakes,
 * takes its lock, does a bounded amount of work per source, and sleeps
 * again; work left over by the budgets brings it back before it sleeps.
 *
 * Late EOI, as Linux's event-channel driver does it for backends
 * (XSA-332): a port whose events keep bringing no work stays masked for a
 * while before it is unmasked again: 1 ms after the second spurious event
 * in a row, doubling up to EOI_DELAY_MAX_MS; the first event with work
 * resets it. A guest storming its event channel then costs its thread a
 * wake-up per delay, not per notification; notifications while masked
 * stay pending.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "worker.h"

/* Ports handled per wake-up before the thread looks at its other sources. */
#define EVTCHN_BUDGET 1024
#define EOI_DELAY_MAX_MS 1000

/* epoll data: the source in the high half, the fd in the low one. */
static uint64_t tag(enum worker_source src, int fd)
{
	return (uint64_t)src << 32 | (uint32_t)fd;
}

static int epoll_set(struct worker_thread *t, int op, int fd, uint32_t events,
		     enum worker_source src)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag(src, fd) };

	return epoll_ctl(t->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

void worker_thread_lock(struct worker_thread *t)
{
	pthread_mutex_lock(&t->lock);
}

void worker_thread_unlock(struct worker_thread *t)
{
	pthread_mutex_unlock(&t->lock);
}

/*
 * @map (of *@len entries of @size bytes) grown so that @index fits, new
 * entries zeroed: the map to use, or NULL (out of memory, @map unchanged).
 */
static void *map_fit(void *map, size_t size, unsigned *len, unsigned index)
{
	unsigned n = *len ? *len : 64;
	char *m;

	if (index < *len)
		return map;
	while (n <= index)
		n *= 2;
	m = realloc(map, n * size);
	if (!m)
		return NULL;
	memset(m + (size_t)*len * size, 0, (size_t)(n - *len) * size);
	*len = n;
	return m;
}

static int route(struct worker_thread *t, int port, struct worker_route r)
{
	struct worker_route *map;

	if (port < 0)
		return -EINVAL;
	if (!r.q && !r.ctrl && (unsigned)port >= t->port_map_len)
		return 0;
	map = map_fit(t->port_map, sizeof(*map), &t->port_map_len, (unsigned)port);
	if (!map)
		return -ENOMEM;
	t->port_map = map;
	t->port_map[port] = r;
	return 0;
}

int worker_port_route(struct worker_thread *t, int port, struct vif_queue *q)
{
	return route(t, port, (struct worker_route){ .q = q });
}

int worker_port_route_ctrl(struct worker_thread *t, int port, struct vif *v)
{
	return route(t, port, (struct worker_route){ .ctrl = v });
}

/* A port going away: its held-back unmask goes with it. */
static void forget_port(struct worker_thread *t, int port)
{
	for (unsigned i = 0; i < t->nr_deferred;) {
		if (t->deferred[i].port == port)
			t->deferred[i] = t->deferred[--t->nr_deferred]; /* look at i again */
		else
			i++;
	}
}

uint64_t worker_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void arm_at_us(int fd, uint64_t due_us)
{
	struct itimerspec at = { { 0, 0 }, { (time_t)(due_us / 1000000),
					     (long)(due_us % 1000000) * 1000 } };

	if (due_us == 0)
		at.it_value.tv_nsec = 0; /* disarm */
	timerfd_settime(fd, TFD_TIMER_ABSTIME, &at, NULL);
}

void worker_rate_wait(struct vif_queue *q)
{
	struct worker_thread *t = q->t;
	uint64_t due = q->tx.rate_wait_until_us ? q->tx.rate_wait_until_us : 1;

	if (t->rate_due_us == 0 || due < t->rate_due_us) {
		t->rate_due_us = due;
		arm_at_us(t->rate_timer_fd, due);
	}
}

/* Credit came: run the queues that waited for it, wait again for the rest. */
static void rate_due(struct worker_thread *t)
{
	uint64_t expirations, now = worker_now_us();

	if (read(t->rate_timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	t->rate_due_us = 0;
	for (unsigned i = 0; i < t->nr_queues; i++)
		vif_queue_rate_due(t->queues[i], now);
}

static void kick(struct worker_thread *t)
{
	uint64_t one = 1;

	t->kicked = true;
	if (write(t->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is full: the thread has a wake-up waiting anyway. */
	}
}

void worker_kick(struct worker_thread *t)
{
	kick(t);
}

void worker_steer_wake(struct worker_thread *t)
{
	uint64_t one = 1;

	/* Another thread's call, without @t's lock: the flag is atomic. */
	if (__atomic_exchange_n(&t->steered, true, __ATOMIC_RELEASE))
		return; /* a wake-up is on its way */
	if (write(t->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is full: the thread has a wake-up waiting anyway. */
	}
}

int worker_queue_attach(struct worker_thread *t, struct vif_queue *q)
{
	struct vif_queue **fd_map;
	int fd = q->tap.fd, rc;

	if (t->nr_queues == WORKER_VIFS_MAX)
		return -ENOSPC;
	fd_map = map_fit(t->fd_map, sizeof(*fd_map), &t->fd_map_len, (unsigned)fd);
	if (!fd_map)
		return -ENOMEM;
	t->fd_map = fd_map;
	/* A TAP found unusable stays out: it would report EPOLLERR for ever. */
	if (!q->tap_error) {
		rc = epoll_set(t, EPOLL_CTL_ADD, fd, EPOLLIN, SRC_TAP);
		if (rc)
			return rc;
		t->fd_map[fd] = q;
		q->tap_registered = q->tap_polled = true;
	}
	t->queues[t->nr_queues++] = q;
	q->connected = true;
	kick(t); /* work may have been posted before anyone listened */
	return 0;
}

void worker_queue_detach(struct worker_thread *t, struct vif_queue *q)
{
	for (unsigned i = 0; i < t->nr_queues; i++) {
		if (t->queues[i] == q) {
			t->queues[i] = t->queues[--t->nr_queues];
			break;
		}
	}
	worker_tap_forget(q);
	for (int k = 0; k < 2; k++) {
		int port = k ? q->port_rx : q->port_tx;

		if (port >= 0) {
			forget_port(t, port);
			worker_port_route(t, port, NULL);
		}
	}
	q->connected = false;
}

int worker_ctrl_attach(struct worker_thread *t, struct vif *v)
{
	if (t->nr_ctrls == WORKER_VIFS_MAX)
		return -ENOSPC;
	t->ctrls[t->nr_ctrls++] = v;
	v->ctrl.connected = true;
	kick(t); /* requests may have been posted before anyone listened */
	return 0;
}

void worker_ctrl_detach(struct worker_thread *t, struct vif *v)
{
	for (unsigned i = 0; i < t->nr_ctrls; i++) {
		if (t->ctrls[i] == v) {
			t->ctrls[i] = t->ctrls[--t->nr_ctrls];
			break;
		}
	}
	if (v->ctrl.port >= 0) {
		forget_port(t, v->ctrl.port);
		worker_port_route_ctrl(t, v->ctrl.port, NULL);
	}
	v->ctrl.connected = false;
}

void worker_tap_forget(struct vif_queue *q)
{
	struct worker_thread *t = q->t;

	if (q->tap_registered) {
		epoll_set(t, EPOLL_CTL_DEL, q->tap.fd, 0, SRC_TAP);
		if ((unsigned)q->tap.fd < t->fd_map_len)
			t->fd_map[q->tap.fd] = NULL;
	}
	q->tap_registered = q->tap_polled = false;
}

void worker_tap_poll(struct vif_queue *q, bool on)
{
	struct worker_thread *t = q->t;

	if (!q->tap_registered || q->tap_polled == on)
		return;
	if (epoll_set(t, EPOLL_CTL_MOD, q->tap.fd, on ? EPOLLIN : 0, SRC_TAP) == 0)
		q->tap_polled = on;
}

/* ---- late EOI ----------------------------------------------------------- */

/* The timer's own clock: the coarse one may lag it by a tick. Only storms read it. */
static uint64_t eoi_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned eoi_delay_ms(unsigned streak)
{
	if (streak < 2)
		return 0;
	return streak - 2 >= 10 ? EOI_DELAY_MAX_MS : 1u << (streak - 2);
}

static void arm_eoi_timer(struct worker_thread *t)
{
	struct itimerspec at = { { 0, 0 }, { 0, 0 } };
	uint64_t first = UINT64_MAX;

	for (unsigned i = 0; i < t->nr_deferred; i++)
		if (t->deferred[i].due_ms < first)
			first = t->deferred[i].due_ms;
	if (first != UINT64_MAX) {
		at.it_value.tv_sec = (time_t)(first / 1000);
		at.it_value.tv_nsec = (long)(first % 1000) * 1000000;
	}
	timerfd_settime(t->eoi_timer_fd, TFD_TIMER_ABSTIME, &at, NULL);
}

static void unmask_due(struct worker_thread *t)
{
	struct worker *d = t->d;
	uint64_t expirations, now = eoi_now_ms();

	if (read(t->eoi_timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	for (unsigned i = 0; i < t->nr_deferred;) {
		if (t->deferred[i].due_ms <= now) {
			d->ops->evtchn_unmask(t->evt, (uint32_t)t->deferred[i].port);
			t->deferred[i] = t->deferred[--t->nr_deferred];
		} else {
			i++;
		}
	}
	arm_eoi_timer(t);
}

/*
 * Unmask @port now, or later if its events keep being spurious: @streak
 * counts them (NULL: a port nobody serves, unmasked at once), @delayed
 * counts the unmasks held back.
 */
static void eoi(struct worker_thread *t, int port, unsigned *streak, uint64_t *delayed,
		bool spurious)
{
	struct worker *d = t->d;
	unsigned delay;

	if (!streak) {
		d->ops->evtchn_unmask(t->evt, (uint32_t)port);
		return;
	}
	*streak = spurious ? *streak + 1 : 0;
	delay = eoi_delay_ms(*streak);
	if (delay == 0 || t->nr_deferred == WORKER_DEFERRED_MAX) {
		d->ops->evtchn_unmask(t->evt, (uint32_t)port);
		return;
	}
	(*delayed)++;
	t->deferred[t->nr_deferred].port = port;
	t->deferred[t->nr_deferred].due_ms = eoi_now_ms() + delay;
	t->nr_deferred++;
	arm_eoi_timer(t);
}

/* ---- the loop ----------------------------------------------------------- */

static void handle_evtchn(struct worker_thread *t)
{
	struct worker *d = t->d;

	for (int i = 0; i < EVTCHN_BUDGET; i++) {
		int port = d->ops->evtchn_pending(t->evt);
		struct worker_route r = { 0 };

		if (port < 0)
			break;
		if ((unsigned)port < t->port_map_len)
			r = t->port_map[port];
		/* Handled while masked: what the guest sends meanwhile stays pending. */
		if (r.q) {
			bool spurious = vif_queue_event(r.q);

			eoi(t, port, &r.q->spurious_streak[port == r.q->port_tx ? 0 : 1],
			    &r.q->stats.eoi_delayed, spurious);
		} else if (r.ctrl) {
			bool spurious = vif_ctrl_event(r.ctrl);

			eoi(t, port, &r.ctrl->ctrl.spurious_streak, &r.ctrl->ctrl.eoi_delayed,
			    spurious);
		} else {
			eoi(t, port, NULL, NULL, false);
		}
	}
}

static void handle_wake(struct worker_thread *t)
{
	uint64_t n;

	if (read(t->wake_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: a wake-up already consumed; the flags below are what counts. */
	}
	if (t->kicked) {
		t->kicked = false;
		for (unsigned i = 0; i < t->nr_queues; i++)
			vif_queue_event(t->queues[i]);
		for (unsigned i = 0; i < t->nr_ctrls; i++)
			vif_ctrl_event(t->ctrls[i]);
	}
	if (__atomic_exchange_n(&t->steered, false, __ATOMIC_ACQUIRE))
		for (unsigned i = 0; i < t->nr_queues; i++)
			vif_queue_inbox(t->queues[i]);
}

static void tick(struct worker_thread *t)
{
	uint64_t expirations, now = worker_now_ms();

	if (read(t->tick_fd, &expirations, sizeof(expirations)) < 0)
		return;
	for (unsigned i = 0; i < t->nr_queues; i++)
		vif_queue_tick(t->queues[i], now);
}

static void run_pending(struct worker_thread *t)
{
	t->work_pending = false;
	for (unsigned i = 0; i < t->nr_queues; i++)
		vif_queue_run_pending(t->queues[i]);
	for (unsigned i = 0; i < t->nr_ctrls; i++)
		vif_ctrl_run_pending(t->ctrls[i]);
}

static void *thread_main(void *arg)
{
	struct worker_thread *t = arg;

	worker_thread_lock(t);
	while (!t->stop) {
		struct epoll_event ev[64];
		int n;

		worker_thread_unlock(t);
		n = epoll_wait(t->epfd, ev, 64, t->work_pending ? 0 : -1);
		worker_thread_lock(t);
		for (int i = 0; i < n && !t->stop; i++) {
			int fd = (int)(uint32_t)ev[i].data.u64;

			switch ((enum worker_source)(ev[i].data.u64 >> 32)) {
			case SRC_EVTCHN:
				handle_evtchn(t);
				break;
			case SRC_TAP: {
				/* Routed by fd under the lock: a queue detached meanwhile is gone. */
				struct vif_queue *q = (unsigned)fd < t->fd_map_len ? t->fd_map[fd] : NULL;

				if (q)
					vif_queue_tap_readable(q);
				break;
			}
			case SRC_WAKE:
				handle_wake(t);
				break;
			case SRC_EOI:
				unmask_due(t);
				break;
			case SRC_TICK:
				tick(t);
				break;
			case SRC_RATE:
				rate_due(t);
				break;
			default:
				break;
			}
		}
		if (t->work_pending && !t->stop)
			run_pending(t);
	}
	worker_thread_unlock(t);
	return NULL;
}

/* ---- set-up and tear-down ------------------------------------------------ */

static void thread_close(struct worker_thread *t)
{
	struct worker *d = t->d;

	if (t->started) {
		worker_thread_lock(t);
		t->stop = true;
		kick(t);
		worker_thread_unlock(t);
		pthread_join(t->tid, NULL);
		t->started = false;
	}
	if (t->evt)
		d->ops->evtchn_close(t->evt);
	if (t->gnt)
		d->ops->gnttab_close(t->gnt);
	t->evt = NULL;
	t->gnt = NULL;
	int *fds[] = { &t->epfd, &t->wake_fd, &t->eoi_timer_fd, &t->tick_fd, &t->rate_timer_fd };

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	free(t->port_map);
	free(t->fd_map);
	t->port_map = NULL;
	t->fd_map = NULL;
	t->port_map_len = t->fd_map_len = 0;
	pthread_mutex_destroy(&t->lock);
}

int worker_threads_open(struct worker *d)
{
	struct itimerspec period = { { 1, 0 }, { 1, 0 } };

	for (unsigned i = 0; i < d->max_queues; i++) {
		struct worker_thread *t = &d->threads[i];
		int rc;

		t->d = d;
		t->index = i;
		t->epfd = t->wake_fd = t->eoi_timer_fd = t->tick_fd = t->rate_timer_fd = -1;
		pthread_mutex_init(&t->lock, NULL);
		t->gnt = d->ops->gnttab_open(d->plat);
		t->evt = d->ops->evtchn_open(d->plat);
		if (!t->gnt || !t->evt)
			return -errno;
		rc = d->ops->evtchn_restrict(t->evt, (uint16_t)d->guest_domid);
		if (rc)
			return rc;
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		t->eoi_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		t->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		t->rate_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (t->epfd < 0 || t->wake_fd < 0 || t->eoi_timer_fd < 0 || t->tick_fd < 0 ||
		    t->rate_timer_fd < 0)
			return -errno;
		timerfd_settime(t->tick_fd, 0, &period, NULL);
		rc = epoll_set(t, EPOLL_CTL_ADD, d->ops->evtchn_fd(t->evt), EPOLLIN, SRC_EVTCHN);
		if (!rc)
			rc = epoll_set(t, EPOLL_CTL_ADD, t->wake_fd, EPOLLIN, SRC_WAKE);
		if (!rc)
			rc = epoll_set(t, EPOLL_CTL_ADD, t->eoi_timer_fd, EPOLLIN, SRC_EOI);
		if (!rc)
			rc = epoll_set(t, EPOLL_CTL_ADD, t->tick_fd, EPOLLIN, SRC_TICK);
		if (!rc)
			rc = epoll_set(t, EPOLL_CTL_ADD, t->rate_timer_fd, EPOLLIN, SRC_RATE);
		if (rc)
			return rc;
	}
	return 0;
}

int worker_threads_start(struct worker *d)
{
	for (unsigned i = 0; i < d->max_queues; i++) {
		struct worker_thread *t = &d->threads[i];
		int rc = pthread_create(&t->tid, NULL, thread_main, t);

		if (rc)
			return -rc;
		t->started = true;
	}
	return 0;
}

void worker_threads_close(struct worker *d)
{
	for (unsigned i = 0; i < d->max_queues; i++)
		if (d->threads[i].d)
			thread_close(&d->threads[i]);
}
