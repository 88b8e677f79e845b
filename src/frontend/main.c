/* SPDX-License-Identifier: MIT */
/*
 * main.c - xnb-netfront: options, platform handles and the event loop.
 *
 * Run inside the guest's network namespace: the NIC it creates there is a
 * TAP (default name eth0) carrying the guest's traffic to and from the
 * rings; multi-queue (IFF_MULTI_QUEUE) when more than one queue is wanted.
 * The main thread's epoll set: XenStore watches, the queue threads' notify
 * eventfd (a queue broke), with --hash the control ring's event channel
 * (ctrl.c), with --mcast-control the timer that reads the NIC's multicast
 * list (mcast.c), a timer armed while the backend still maps pages of
 * earlier connections (every second: try to release them, grants.c), and
 * a signalfd (SIGTERM: Closing, then Closed, threads joined, grants ended,
 * exit; SIGUSR1: counters to the log). The frames move on the queue
 * threads (datapath.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "netfront.h"

enum nf_source {
	NF_SRC_XS = 1, NF_SRC_QUEUE, NF_SRC_SIGNAL, NF_SRC_CTRL, NF_SRC_MCAST, NF_SRC_DEFERRED,
};

/* Deferred pages are tried again this often (Linux's deferred grants: every second). */
#define NF_DEFERRED_RETRY_S 1

static int add(int epfd, int fd, enum nf_source src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = src };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Linux's xennet_max_queues default: one per online CPU, at most 8. */
static unsigned default_queues(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		return 1;
	return cpus > (long)NF_MAX_QUEUES ? NF_MAX_QUEUES : (unsigned)cpus;
}

/*
 * A queue thread wrote nf->notify_fd: a queue broke the protocol, or the
 * NIC's TAP is gone (true: exit, there is nothing left to serve).
 */
static bool queue_news(struct netfront *nf)
{
	uint64_t v;
	const char *why;
	int err;

	if (read(nf->notify_fd, &v, sizeof(v)) < 0)
		return false;
	err = nf_datapath_tap_lost(nf);
	if (err) {
		log_err("%s: TAP %s (%s); exiting", nf->tap.name,
			err == EBADFD ? "removed by the host" : "unusable", strerror(err));
		return true;
	}
	why = nf_datapath_broken(nf);
	if (why)
		nf_mark_broken(nf, why);
	return false;
}

/* The retry timer runs while pages are deferred, and only then. */
static void deferred_timer_update(int timer, const struct netfront *nf, bool *armed)
{
	struct itimerspec its = { 0 };

	if (*armed == (nf->deferred != NULL))
		return;
	if (nf->deferred)
		its.it_value.tv_sec = its.it_interval.tv_sec = NF_DEFERRED_RETRY_S;
	if (timerfd_settime(timer, 0, &its, NULL) == 0)
		*armed = nf->deferred != NULL;
}

/* Read the signalfd: SIGUSR1 logs the counters; true for SIGTERM / SIGINT. */
static bool stop_signal(int sig_fd, struct netfront *nf)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			nf_datapath_report(nf, "SIGUSR1");
		else
			stop = true;
	}
	return stop;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xnb-netfront --domid N [--devid N] [--ifname NAME] [--mtu N]\n"
		   "                    [--platform sim|xen] [--single-evtchn] [--no-reconnect]\n"
		   "                    [--queues N] [--hash] [--mcast-control] [--version]\n"
		   "  The guest side of vif N: waits for device/vif/N from the toolstack,\n"
		   "  connects to its backend and runs the NIC NAME (a TAP, default eth0)\n"
		   "  in the current network namespace.\n"
		   "  --no-reconnect  behave as Linux's xen-netfront: once the backend closes\n"
		   "                  the connection we go Closed and stay Closed (still\n"
		   "                  running) instead of connecting again when the backend\n"
		   "                  returns to InitWait; a backend InitWait is only acted\n"
		   "                  on while we are Initialising.\n"
		   "  --queues N      at most N queue pairs, 1..%u (default: one per online CPU,\n"
		   "                  at most %u, as Linux's netfront); fewer if the backend's\n"
		   "                  multi-queue-max-queues says so, one if it has none.\n"
		   "                  With N > 1 the NIC is a multi-queue TAP, one fd and one\n"
		   "                  thread per queue. SIGUSR1 logs the counters.\n"
		   "  --hash          if the backend offers a control ring (feature-ctrl-ring),\n"
		   "                  connect one and have the backend hash what it sends us\n"
		   "                  (Toeplitz, IPv4/IPv6 with and without TCP, a mapping over\n"
		   "                  our queues); each hash received is checked against our\n"
		   "                  own and counted (hash match / mismatch). Off by default,\n"
		   "                  as Linux's netfront has no control ring.\n"
		   "  --hash-rotate   --hash, with a mapping table that sends each hash to the\n"
		   "                  next queue (entry i names queue i + 1): a table the host's\n"
		   "                  own flow steering does not follow, to check that the\n"
		   "                  backend steers by it (hash wrong queue counts misses).\n"
		   "  --mcast-control when the backend offers (dynamic-)multicast-control, ask\n"
		   "                  it to filter multicast (request-multicast-control) and\n"
		   "                  keep its filter to the NIC's multicast list, read every\n"
		   "                  second: the groups the guest's stack and sockets joined.\n",
		NF_MAX_QUEUES, NF_MAX_QUEUES);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domid", required_argument, NULL, 'd' },
		{ "devid", required_argument, NULL, 'n' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "platform", required_argument, NULL, 'p' },
		{ "single-evtchn", no_argument, NULL, 's' },
		{ "no-reconnect", no_argument, NULL, 'R' },
		{ "queues", required_argument, NULL, 'Q' },
		{ "hash", no_argument, NULL, 'H' },
		{ "hash-rotate", no_argument, NULL, 'T' },
		{ "mcast-control", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct netfront nf;
	const char *platform = getenv("XNB_PLATFORM"), *ifname = "eth0";
	int want_domid = PLATFORM_DOMID_ANY, sig_fd = -1, epfd = -1, deferred_timer = -1, rc = 1;
	int opt;
	bool deferred_armed = false;
	long queues = default_queues();
	bool failed = false;
	sigset_t mask;

	nf.devid = 0;
	nf.mtu = TAP_MTU_DEFAULT;
	nf.want_split = true;
	nf.tap.fd = -1;
	nf.stop_fd = nf.notify_fd = -1;
	nf.ctrl.port = -1;
	nf.mcast_timer = nf.mcast_fd = -1;
	nf.backend_state = -1;
	while ((opt = getopt_long(argc, argv, "d:n:i:m:p:sRQ:HMhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			want_domid = atoi(optarg);
			break;
		case 'n':
			nf.devid = (unsigned)atoi(optarg);
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'm':
			nf.mtu = (unsigned)atoi(optarg);
			break;
		case 'p':
			platform = optarg;
			break;
		case 's':
			nf.want_split = false;
			break;
		case 'R':
			nf.no_reconnect = true;
			break;
		case 'Q':
			queues = strtol(optarg, NULL, 10);
			break;
		case 'H':
			nf.want_hash = true;
			break;
		case 'T':
			nf.want_hash = true;
			nf.hash_rotate = 1;
			break;
		case 'M':
			nf.want_mcast = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xnb-netfront %s\n", XNB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	log_init("xnb-netfront", LOG_LVL_INFO);
	nf.ops = platform_by_name(platform ? platform : platform_default_name());
	if (!nf.ops) {
		log_err("unknown platform '%s'", platform);
		return 2;
	}
	if (want_domid == 0 || nf.mtu < 68 || nf.mtu > TAP_MTU_MAX_SG) {
		log_err("a frontend runs in a guest domain (domid > 0) with 68 <= mtu <= %d",
			TAP_MTU_MAX_SG);
		return 2;
	}
	if (queues < 1 || queues > (long)NF_MAX_QUEUES) {
		log_err("--queues takes 1..%u", NF_MAX_QUEUES);
		return 2;
	}
	nf.want_queues = (unsigned)queues;
	nf.plat = nf.ops->open(want_domid);
	if (!nf.plat) {
		log_err("cannot attach as domain %d: %s", want_domid, strerror(errno));
		return 1;
	}
	nf.self_domid = nf.ops->domid(nf.plat);
	snprintf(nf.fe_path, sizeof(nf.fe_path), "/local/domain/%u/device/vif/%u", nf.self_domid,
		 nf.devid);
	nf.shr = nf.ops->gntshr_open(nf.plat);
	nf.xs = nf.ops->xs_open(nf.plat);
	if (nf.want_hash) {
		nf.ctrl_evt = nf.ops->evtchn_open(nf.plat);
		if (!nf.ctrl_evt) {
			log_err("cannot open an event channel handle for the control ring: %s",
				strerror(errno));
			goto out;
		}
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	nf.notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* Blocked before any queue thread exists: they inherit the mask, and
	 * the signals all come to the main thread's signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	deferred_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!nf.shr || !nf.xs || epfd < 0 || nf.notify_fd < 0 || sig_fd < 0 ||
	    deferred_timer < 0) {
		log_err("start-up failed: %s", strerror(errno));
		goto out;
	}
	/* Multi-queue only if we may want several: with --queues 1 the NIC is as before. */
	rc = tap_open(&nf.tap, ifname, nf.want_queues > 1);
	if (rc) {
		log_err("cannot create the NIC %s: %s", ifname, strerror(-rc));
		rc = 1;
		goto out;
	}
	if (add(epfd, nf.ops->xs_fd(nf.xs), NF_SRC_XS) || add(epfd, nf.notify_fd, NF_SRC_QUEUE) ||
	    add(epfd, sig_fd, NF_SRC_SIGNAL) || add(epfd, deferred_timer, NF_SRC_DEFERRED) ||
	    (nf.ctrl_evt && add(epfd, nf.ops->evtchn_fd(nf.ctrl_evt), NF_SRC_CTRL))) {
		log_err("epoll registration failed: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	/* Before the handshake: queue 0 polls mcast_fd from the start. */
	if (nf.want_mcast) {
		rc = nf_mcast_init(&nf);
		if (rc) {
			log_err("--mcast-control: %s", strerror(-rc));
			rc = 1;
			goto out;
		}
	}
	/* The toolstack may not have written device/vif/N yet: wait for it. */
	rc = nf.ops->xs_watch(nf.xs, nf.fe_path, "fe");
	for (int tries = 0; rc == 0 && nf_handshake_start(&nf) != 0; tries++) {
		struct epoll_event ev;
		char *path, *token;

		if (tries == 0)
			log_info("waiting for the toolstack to create %s", nf.fe_path);
		if (epoll_wait(epfd, &ev, 1, 1000) == 1 && ev.data.u32 == NF_SRC_SIGNAL &&
		    stop_signal(sig_fd, &nf))
			goto out_quiet;
		while (nf.ops->xs_read_watch(nf.xs, &path, &token) == 1) {
			free(path);
			free(token);
		}
	}
	nf.ops->xs_unwatch(nf.xs, nf.fe_path, "fe");
	/* Only now: the wait above does not read the timer. */
	if (nf.want_mcast && add(epfd, nf.mcast_timer, NF_SRC_MCAST)) {
		log_err("epoll registration failed: %s", strerror(errno));
		rc = 1;
		goto out;
	}

	for (bool stop = false; !stop;) {
		struct epoll_event ev[16];
		int n = epoll_wait(epfd, ev, 16, -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			char *path, *token;

			switch (ev[i].data.u32) {
			case NF_SRC_XS: {
				int r = 0;

				for (int k = 0; k < 64 &&
				     (r = nf.ops->xs_read_watch(nf.xs, &path, &token)) == 1; k++) {
					free(path);
					free(token);
					nf_handshake_event(&nf);
				}
				/* XenStore gone (its daemon died): nothing more will come; a
				 * readable dead connection would otherwise spin this loop. */
				if (r < 0) {
					log_err("XenStore connection lost: %s; exiting", strerror(-r));
					stop = true;
				}
				break;
			}
			case NF_SRC_QUEUE:
				if (queue_news(&nf))
					stop = failed = true;
				break;
			case NF_SRC_CTRL:
				nf_ctrl_event(&nf);
				break;
			case NF_SRC_SIGNAL:
				stop = stop_signal(sig_fd, &nf);
				break;
			case NF_SRC_MCAST:
				nf_mcast_refresh(&nf);
				break;
			case NF_SRC_DEFERRED: {
				uint64_t ticks;

				if (read(deferred_timer, &ticks, sizeof(ticks)) == sizeof(ticks))
					nf_handshake_tick(&nf);
				break;
			}
			}
		}
		deferred_timer_update(deferred_timer, &nf, &deferred_armed);
	}
	nf_handshake_close(&nf);
out_quiet:
	rc = failed ? 1 : 0;
out:
	if (nf.shr)
		nf_deferred_exit(&nf); /* before the handle closes */
	nf_mcast_close(&nf); /* after the threads: queue 0 polls mcast_fd */
	tap_close(&nf.tap);
	if (sig_fd >= 0)
		close(sig_fd);
	if (deferred_timer >= 0)
		close(deferred_timer);
	if (epfd >= 0)
		close(epfd);
	if (nf.notify_fd >= 0)
		close(nf.notify_fd);
	if (nf.ctrl_evt)
		nf.ops->evtchn_close(nf.ctrl_evt);
	if (nf.xs)
		nf.ops->xs_close(nf.xs);
	if (nf.shr)
		nf.ops->gntshr_close(nf.shr);
	nf.ops->close(nf.plat);
	return rc;
}
