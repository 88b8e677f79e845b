/* SPDX-License-Identifier: MIT */
/*
 * xnbd.c - the backend daemon: options, platform handles, the event loop.
 *
 * One thread, one epoll set over typed sources: XenStore watches (the
 * handshake, xenbus.c), the event-channel fd (frontend notifications,
 * routed by port to their queue), each connected queue's TAP (host
 * traffic), the control socket (ctl.c), a 1 s timer (stall and drain
 * checks) and a signalfd (SIGTERM/SIGINT: every vif to Closed, rings
 * unmapped, ports closed, TAPs removed, then exit).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "xenbus.h"
#include "xnbd.h"

/* Ports handled per wake-up before the loop looks at other sources. */
#define EVTCHN_BUDGET 1024

static enum xnbd_source src_ctl_listen = SRC_CTL_LISTEN, src_signal = SRC_SIGNAL,
			src_timer = SRC_TIMER;

/*
 * The coarse clock is read from the vDSO on every clocksource; the precise
 * one is a system call under Xen's PV clock (~70 us in a PV dom0 under TCG),
 * and the guest-RX queue stamps every frame. Tick resolution is plenty for
 * a drain measured in seconds.
 */
uint64_t xnbd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int xnbd_port_route(struct xnbd *d, int port, struct vif_queue *q)
{
	if (port < 0)
		return -EINVAL;
	if ((unsigned)port >= d->port_map_len) {
		unsigned len = d->port_map_len ? d->port_map_len : 64;
		struct vif_queue **m;

		if (!q)
			return 0;
		while (len <= (unsigned)port)
			len *= 2;
		m = realloc(d->port_map, len * sizeof(*m));
		if (!m)
			return -ENOMEM;
		memset(m + d->port_map_len, 0, (len - d->port_map_len) * sizeof(*m));
		d->port_map = m;
		d->port_map_len = len;
	}
	d->port_map[port] = q;
	return 0;
}

static int epoll_set(struct xnbd *d, int op, int fd, uint32_t events, void *tag)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(d->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int xnbd_tap_add(struct xnbd *d, struct vif_queue *q)
{
	int rc;

	if (q->tap_registered)
		return 0;
	rc = epoll_set(d, EPOLL_CTL_ADD, q->vif->tap.fd, EPOLLIN, &q->tap_src);
	if (rc == 0)
		q->tap_registered = q->tap_polled = true;
	return rc;
}

void xnbd_tap_del(struct xnbd *d, struct vif_queue *q)
{
	if (!q->tap_registered)
		return;
	epoll_set(d, EPOLL_CTL_DEL, q->vif->tap.fd, 0, NULL);
	q->tap_registered = q->tap_polled = false;
}

void xnbd_tap_poll(struct xnbd *d, struct vif_queue *q, bool on)
{
	if (!q->tap_registered || q->tap_polled == on)
		return;
	if (epoll_set(d, EPOLL_CTL_MOD, q->vif->tap.fd, on ? EPOLLIN : 0, &q->tap_src) == 0)
		q->tap_polled = on;
}

/* Still one of ours? A watch handled earlier in the same wake-up may have removed it. */
static bool queue_alive(struct xnbd *d, const struct vif_queue *q)
{
	for (struct vif *v = d->vifs; v; v = v->next)
		for (unsigned i = 0; i < v->nr_queues; i++)
			if (&v->queues[i] == q)
				return v->connected;
	return false;
}

static void handle_watches(struct xnbd *d)
{
	char *path, *token;

	/* Bounded: each call returns queued events only (XSA-349: the store coalesces). */
	for (int i = 0; i < 256 && d->ops->xs_read_watch(d->xs, &path, &token) == 1; i++) {
		xenbus_watch_event(d, path, token);
		free(path);
		free(token);
	}
}

static void handle_evtchn(struct xnbd *d)
{
	for (int i = 0; i < EVTCHN_BUDGET; i++) {
		int port = d->ops->evtchn_pending(d->evt);
		struct vif_queue *q;

		if (port < 0)
			break;
		d->ops->evtchn_unmask(d->evt, (uint32_t)port);
		q = (unsigned)port < d->port_map_len ? d->port_map[port] : NULL;
		if (q)
			vif_queue_event(q);
	}
}

static void run_pending(struct xnbd *d)
{
	d->work_pending = false;
	for (struct vif *v = d->vifs; v; v = v->next)
		for (unsigned i = 0; i < v->nr_queues; i++)
			vif_queue_run_pending(&v->queues[i]);
}

static void tick(struct xnbd *d, int timer_fd)
{
	uint64_t expirations, now = xnbd_now_ms();

	if (read(timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	for (struct vif *v = d->vifs; v; v = v->next)
		for (unsigned i = 0; i < v->nr_queues; i++)
			vif_queue_tick(&v->queues[i], now);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xnbd [--platform sim|xen] [--ctl PATH] [--verbose]\n"
		   "  Serves backend/vif/<domid>/<devid> under this domain's XenStore path,\n"
		   "  with a TAP vif<domid>.<devid> per vif. The platform defaults to\n"
		   "  $XNB_PLATFORM, else 'xen' on a Xen host, else 'sim'. The control socket\n"
		   "  defaults to $XNB_SIM_DIR/xnbd.sock on 'sim', /run/xnb/xnbd.sock otherwise.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *platform = getenv("XNB_PLATFORM");
	char ctl_path[108] = "";
	struct xnbd d = { .epfd = -1, .src_xs = SRC_XS, .src_evtchn = SRC_EVTCHN };
	struct itimerspec period = { { 1, 0 }, { 1, 0 } };
	enum log_level level = LOG_LVL_INFO;
	int sig_fd = -1, timer_fd = -1, ctl_fd = -1, rc = 1, opt;
	sigset_t mask;

	while ((opt = getopt_long(argc, argv, "p:c:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			platform = optarg;
			break;
		case 'c':
			snprintf(ctl_path, sizeof(ctl_path), "%s", optarg);
			break;
		case 'v':
			level = LOG_LVL_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	log_init("xnbd", level);
	if (!platform)
		platform = platform_default_name();
	d.ops = platform_by_name(platform);
	if (!d.ops) {
		log_err("unknown platform '%s'", platform);
		return 2;
	}
	if (!ctl_path[0]) {
		const char *dir = getenv("XNB_SIM_DIR");

		if (strcmp(platform, "sim") == 0)
			snprintf(ctl_path, sizeof(ctl_path), "%s/xnbd.sock", dir ? dir : "/run/xnb-sim");
		else
			snprintf(ctl_path, sizeof(ctl_path), "/run/xnb/xnbd.sock");
	}

	d.plat = d.ops->open(0);
	if (!d.plat) {
		log_err("cannot attach to the '%s' platform as dom0: %s", platform, strerror(errno));
		return 1;
	}
	d.self_domid = d.ops->domid(d.plat);
	snprintf(d.backend_root, sizeof(d.backend_root), "/local/domain/%u/backend/vif",
		 d.self_domid);
	d.gnt = d.ops->gnttab_open(d.plat);
	d.evt = d.ops->evtchn_open(d.plat);
	d.xs = d.ops->xs_open(d.plat);
	if (!d.gnt || !d.evt || !d.xs) {
		log_err("cannot open grant table, event channel or XenStore handles: %s",
			strerror(errno));
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	ctl_fd = ctl_listen(ctl_path);
	if (sig_fd < 0 || timer_fd < 0 || d.epfd < 0 || ctl_fd < 0) {
		log_err("start-up failed (signalfd/timerfd/epoll/control socket %s): %s", ctl_path,
			strerror(ctl_fd < 0 ? -ctl_fd : errno));
		goto out;
	}
	timerfd_settime(timer_fd, 0, &period, NULL);
	if (epoll_set(&d, EPOLL_CTL_ADD, d.ops->xs_fd(d.xs), EPOLLIN, &d.src_xs) ||
	    epoll_set(&d, EPOLL_CTL_ADD, d.ops->evtchn_fd(d.evt), EPOLLIN, &d.src_evtchn) ||
	    epoll_set(&d, EPOLL_CTL_ADD, sig_fd, EPOLLIN, &src_signal) ||
	    epoll_set(&d, EPOLL_CTL_ADD, timer_fd, EPOLLIN, &src_timer) ||
	    epoll_set(&d, EPOLL_CTL_ADD, ctl_fd, EPOLLIN, &src_ctl_listen)) {
		log_err("epoll registration failed: %s", strerror(errno));
		goto out;
	}
	rc = xenbus_start(&d);
	if (rc) {
		log_err("cannot watch %s: %s", d.backend_root, strerror(-rc));
		rc = 1;
		goto out;
	}
	log_info("serving %s on platform '%s' (control socket %s)", d.backend_root, platform,
		 ctl_path);

	while (!d.stopping) {
		struct epoll_event ev[64];
		int n = epoll_wait(d.epfd, ev, 64, d.work_pending ? 0 : -1);
		bool vifs_changed = false;

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			enum xnbd_source *src = ev[i].data.ptr;

			switch (*src) {
			case SRC_XS:
				handle_watches(&d);
				vifs_changed = true;
				break;
			case SRC_EVTCHN:
				handle_evtchn(&d);
				break;
			case SRC_TAP: {
				struct vif_queue *q = (struct vif_queue *)src;

				if (!vifs_changed || queue_alive(&d, q))
					vif_queue_tap_readable(q);
				break;
			}
			case SRC_CTL_LISTEN: {
				int c = accept4(ctl_fd, NULL, NULL, SOCK_CLOEXEC);

				if (c >= 0)
					ctl_serve(&d, c);
				break;
			}
			case SRC_TIMER:
				tick(&d, timer_fd);
				break;
			case SRC_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
					log_info("signal %u: closing every vif", si.ssi_signo);
				d.stopping = true;
				break;
			}
			default:
				break;
			}
		}
		if (d.work_pending)
			run_pending(&d);
	}
	xenbus_stop(&d);
	rc = 0;
out:
	if (ctl_fd >= 0) {
		close(ctl_fd);
		unlink(ctl_path);
	}
	if (sig_fd >= 0)
		close(sig_fd);
	if (timer_fd >= 0)
		close(timer_fd);
	if (d.epfd >= 0)
		close(d.epfd);
	free(d.port_map);
	if (d.xs)
		d.ops->xs_close(d.xs);
	if (d.evt)
		d.ops->evtchn_close(d.evt);
	if (d.gnt)
		d.ops->gnttab_close(d.gnt);
	d.ops->close(d.plat);
	return rc;
}
