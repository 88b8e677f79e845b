/* SPDX-License-Identifier: MIT */
/*
 * main.c - xnb-netfront: options, platform handles and the event loop.
 *
 * Run inside the guest's network namespace: the NIC it creates there is a
 * TAP (default name eth0) carrying the guest's traffic to and from the
 * rings. One epoll set: the event channel, the TAP, XenStore watches and a
 * signalfd (SIGTERM: Closing, then Closed, grants ended, exit).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "netfront.h"

enum nf_source { NF_SRC_EVTCHN = 1, NF_SRC_TAP, NF_SRC_XS, NF_SRC_SIGNAL };

void nf_tap_poll(struct netfront *nf, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = NF_SRC_TAP };

	if (nf->tap_polled == on || nf->tap.fd < 0)
		return;
	if (epoll_ctl(nf->epfd, EPOLL_CTL_MOD, nf->tap.fd, &ev) == 0)
		nf->tap_polled = on;
}

static int add(struct netfront *nf, int fd, uint32_t events, enum nf_source src)
{
	struct epoll_event ev = { .events = events, .data.u32 = src };

	return epoll_ctl(nf->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void handle_evtchn(struct netfront *nf)
{
	for (int i = 0; i < 64; i++) {
		int port = nf->ops->evtchn_pending(nf->evt);

		if (port < 0)
			break;
		nf->ops->evtchn_unmask(nf->evt, (uint32_t)port);
		if (port == nf->port || port == nf->port_rx)
			nf_datapath_event(nf);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xnb-netfront --domid N [--devid N] [--ifname NAME] [--mtu N]\n"
		   "                    [--platform sim|xen] [--single-evtchn] [--no-reconnect]\n"
		   "  The guest side of vif N: waits for device/vif/N from the toolstack,\n"
		   "  connects to its backend and runs the NIC NAME (a TAP, default eth0)\n"
		   "  in the current network namespace.\n"
		   "  --no-reconnect  behave as Linux's xen-netfront: once the backend closes\n"
		   "                  the connection we go Closed and stay Closed (still\n"
		   "                  running) instead of connecting again when the backend\n"
		   "                  returns to InitWait; a backend InitWait is only acted\n"
		   "                  on while we are Initialising.\n");
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct netfront nf;
	const char *platform = getenv("XNB_PLATFORM"), *ifname = "eth0";
	int want_domid = PLATFORM_DOMID_ANY, sig_fd = -1, rc = 1, opt;
	sigset_t mask;

	nf.devid = 0;
	nf.mtu = TAP_MTU_DEFAULT;
	nf.port = nf.port_rx = -1;
	nf.want_split = true;
	nf.tap.fd = -1;
	nf.epfd = -1;
	nf.backend_state = -1;
	nf.rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	while ((opt = getopt_long(argc, argv, "d:n:i:m:p:sRh", opts, NULL)) != -1) {
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
		case 'h':
			usage(stdout);
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
	nf.plat = nf.ops->open(want_domid);
	if (!nf.plat) {
		log_err("cannot attach as domain %d: %s", want_domid, strerror(errno));
		return 1;
	}
	nf.self_domid = nf.ops->domid(nf.plat);
	snprintf(nf.fe_path, sizeof(nf.fe_path), "/local/domain/%u/device/vif/%u", nf.self_domid,
		 nf.devid);
	nf.shr = nf.ops->gntshr_open(nf.plat);
	nf.evt = nf.ops->evtchn_open(nf.plat);
	nf.xs = nf.ops->xs_open(nf.plat);
	nf.epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!nf.shr || !nf.evt || !nf.xs || nf.epfd < 0 || sig_fd < 0) {
		log_err("start-up failed: %s", strerror(errno));
		goto out;
	}
	rc = tap_open(&nf.tap, ifname, 0);
	if (rc) {
		log_err("cannot create the NIC %s: %s", ifname, strerror(-rc));
		rc = 1;
		goto out;
	}
	if (add(&nf, nf.ops->evtchn_fd(nf.evt), EPOLLIN, NF_SRC_EVTCHN) ||
	    add(&nf, nf.ops->xs_fd(nf.xs), EPOLLIN, NF_SRC_XS) ||
	    add(&nf, sig_fd, EPOLLIN, NF_SRC_SIGNAL) || add(&nf, nf.tap.fd, 0, NF_SRC_TAP)) {
		log_err("epoll registration failed: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	/* The toolstack may not have written device/vif/N yet: wait for it. */
	rc = nf.ops->xs_watch(nf.xs, nf.fe_path, "fe");
	for (int tries = 0; rc == 0 && nf_handshake_start(&nf) != 0; tries++) {
		struct epoll_event ev;
		char *path, *token;

		if (tries == 0)
			log_info("waiting for the toolstack to create %s", nf.fe_path);
		if (epoll_wait(nf.epfd, &ev, 1, 1000) == 1 && ev.data.u32 == NF_SRC_SIGNAL)
			goto out_quiet;
		while (nf.ops->xs_read_watch(nf.xs, &path, &token) == 1) {
			free(path);
			free(token);
		}
	}
	nf.ops->xs_unwatch(nf.xs, nf.fe_path, "fe");

	for (bool stop = false; !stop;) {
		struct epoll_event ev[16];
		int n = epoll_wait(nf.epfd, ev, 16, nf.work_pending ? 0 : -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			char *path, *token;

			switch (ev[i].data.u32) {
			case NF_SRC_EVTCHN:
				handle_evtchn(&nf);
				break;
			case NF_SRC_TAP:
				nf_datapath_tap_readable(&nf);
				break;
			case NF_SRC_XS:
				for (int k = 0; k < 64 && nf.ops->xs_read_watch(nf.xs, &path, &token) == 1;
				     k++) {
					free(path);
					free(token);
					nf_handshake_event(&nf);
				}
				break;
			case NF_SRC_SIGNAL:
				stop = true;
				break;
			}
		}
		if (nf.work_pending)
			nf_datapath_run_pending(&nf);
	}
	nf_handshake_close(&nf);
out_quiet:
	rc = 0;
out:
	tap_close(&nf.tap);
	if (sig_fd >= 0)
		close(sig_fd);
	if (nf.epfd >= 0)
		close(nf.epfd);
	if (nf.xs)
		nf.ops->xs_close(nf.xs);
	if (nf.evt)
		nf.ops->evtchn_close(nf.evt);
	if (nf.shr)
		nf.ops->gntshr_close(nf.shr);
	nf.ops->close(nf.plat);
	return rc;
}
