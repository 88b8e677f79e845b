/* SPDX-License-Identifier: MIT */
/*
 * xnbctl - ask a running xnbd what it is doing.
 *
 *   xnbctl [--ctl PATH] list | show | dump-rings [VIF] [--json]
 *   xnbctl [--ctl PATH] stats [VIF] [--json | --prometheus] [--reset]
 *   xnbctl [--ctl PATH] reset [VIF] | status [--json] | shutdown [--disconnect]
 *
 * The request goes to xnbd as words (flags without their dashes); xnbd
 * answers in full (joining its workers' parts) and closes. An answer that
 * starts with "error:" makes the exit status 1.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* xnbd reads at most this much of a request (IPC_CTL_REQUEST_MAX). */
#define REQUEST_MAX 128

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xnbctl [--ctl PATH] COMMAND [VIF] [FLAGS] | --help | --version\n"
		"  list [VIF] [--json]        vifs, their state, TAP and frontend\n"
		"  show [VIF] [--json]        a vif's configuration: state, TAP, paths, mtu,\n"
		"                             queues, negotiated features (sg, gso_tcpv4,\n"
		"                             gso_tcpv6, csum, ipv6_csum, mcast_control), split\n"
		"                             event channels, multicast addresses subscribed,\n"
		"                             control ring and its requests, hash algorithm,\n"
		"                             flags, mapping size\n"
		"  stats [VIF] [--json]       every counter, per queue and a total per vif\n"
		"  stats [VIF] --prometheus   the same in Prometheus text format 0.0.4\n"
		"  stats [VIF] --reset        show the counters, then zero them (nothing lost\n"
		"                             in between)\n"
		"  reset [VIF] [--json]       zero the counters (of every vif without VIF)\n"
		"  dump-rings [VIF] [--json]  shared and private ring indices per queue\n"
		"  status [--json]            vifs, workers, their restarts\n"
		"  shutdown [--disconnect]    xnbd exits, guests stay Connected and the next\n"
		"                             xnbd resumes them; with --disconnect every vif\n"
		"                             is closed and its TAP removed\n"
		"VIF is vifDOMID.DEVID, e.g. vif1.0.\n"
		"Formats of stats:\n"
		"  text: per queue a block \"vifD.N queue Q (state)\", then \"vifD.N total\n"
		"    (K queues)\": a line per group (guest tx, tx drops, guest rx, rx drops,\n"
		"    host rx, events) of \"name value\" pairs, names without the group's prefix.\n"
		"  --json: {\"vifs\":[one object per queue: name, domid, devid, queue, state,\n"
		"    broken, then every counter], \"totals\":[one object per vif: name, domid,\n"
		"    devid, queues, then every counter summed over its queues]}. Counter keys\n"
		"    are stable snake_case (tx_packets, tx_drop_runt, rx_csum_completed, ...);\n"
		"    rx_copy_errors is kept as another name of rx_drop_copy.\n"
		"  --prometheus: xnb_<counter>_total{vif=\"vifD.N\",domid=\"D\",devid=\"N\",\n"
		"    queue=\"Q\"}, per queue only (sum without (queue) for a vif's total), and\n"
		"    xnb_worker_restarts_total{domid}, xnb_worker_up{domid}; HELP and TYPE once\n"
		"    per family. For node_exporter's textfile collector:\n"
		"    xnbctl stats --prometheus > DIR/xnb.prom.$$ && mv DIR/xnb.prom.$$ DIR/xnb.prom\n"
		"PATH defaults to $XNB_SIM_DIR/xnbd.sock when XNB_SIM_DIR is set, else\n"
		"/run/xnb/xnbd.sock.\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *dir = getenv("XNB_SIM_DIR");
	char req[REQUEST_MAX] = "", buf[4096];
	bool error = false, first = true;
	int fd, i = 1;
	ssize_t n;

	if (dir)
		snprintf(a.sun_path, sizeof(a.sun_path), "%s/xnbd.sock", dir);
	else
		snprintf(a.sun_path, sizeof(a.sun_path), "/run/xnb/xnbd.sock");
	if (argc > 2 && strcmp(argv[1], "--ctl") == 0) {
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[2]);
		i = 3;
	}
	if (i < argc && strcmp(argv[i], "--version") == 0) {
		printf("xnbctl %s\n", XNB_VERSION);
		return 0;
	}
	if (i >= argc || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	for (; i < argc; i++) {
		/* Flags travel as words: --json is "json", --disconnect "disconnect". */
		const char *w = strncmp(argv[i], "--", 2) == 0 ? argv[i] + 2 : argv[i];

		if (strlen(req) + strlen(w) + 2 > sizeof(req)) {
			usage(stderr);
			return 2;
		}
		strcat(req, w);
		strcat(req, " ");
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "xnbctl: cannot reach xnbd at %s: %s\n", a.sun_path, strerror(errno));
		return 1;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "xnbctl: %s\n", strerror(errno));
		return 1;
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (first)
			error = (size_t)n >= 6 && memcmp(buf, "error:", 6) == 0;
		first = false;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	close(fd);
	return error ? 1 : 0;
}
