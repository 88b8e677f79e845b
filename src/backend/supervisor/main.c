/* SPDX-License-Identifier: MIT */
/*
 * main.c - xnbd, the supervisor: options, platform session, the event loop.
 *
 * One thread, one epoll set over typed sources: the XenStore watch on the
 * backend root (vifs.c), each worker's channel (workers.c), the control
 * socket and its clients (ctl.c), a 100 ms timer (restarts, control
 * deadlines, the stop deadline) and a signalfd (SIGCHLD: a worker ended;
 * SIGTERM/SIGINT: leave).
 *
 * Leaving is not closing: on SIGTERM the workers detach (guests stay
 * Connected, rings in guest memory, state in XenStore), the TAPs stay (they
 * are persistent), and the next xnbd (a restart, an upgrade) resumes every
 * vif. `xnbctl shutdown --disconnect` is the stop for good: every vif is
 * closed as the toolstack would expect, every TAP removed.
 *
 * Under systemd (Type=notify, notify.h): READY=1 once the backend root is
 * watched and the control socket listens, STATUS= with the vif and worker
 * counts whenever they change, WATCHDOG=1 from the 100 ms timer (so a loop
 * that hangs is restarted), STOPPING=1 when leaving.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "supervisor.h"

/* How long workers have to leave before they are killed. */
#define STOP_TIMEOUT_MS 5000
#ifndef XNB_LIBEXECDIR
#define XNB_LIBEXECDIR "/usr/libexec/xnb"
#endif

static enum sup_source src_signal = SUP_SIGNAL, src_timer = SUP_TIMER,
		       src_ctl_listen = SUP_CTL_LISTEN;

uint64_t sup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sup_epoll(struct supervisor *s, int op, int fd, uint32_t events, void *tag)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(s->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

/* The worker of our own build tree (src/backend/worker/), else the installed one. */
static void find_worker(struct supervisor *s)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if (snprintf(s->worker_path, sizeof(s->worker_path), "%s/worker/xnbd-worker",
			     dirname(self)) < (int)sizeof(s->worker_path) &&
		    access(s->worker_path, X_OK) == 0)
			return;
	}
	snprintf(s->worker_path, sizeof(s->worker_path), "%s/xnbd-worker", XNB_LIBEXECDIR);
}

/* The control socket's directory (systemd's RuntimeDirectory=, or ours). */
static int make_runtime_dir(const char *ctl_path)
{
	char dir[108];

	snprintf(dir, sizeof(dir), "%s", ctl_path);
	dirname(dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xnbd [--platform sim|xen] [--ctl PATH] [--worker PATH] [--user NAME]\n"
		"            [--no-sandbox] [--max-queues N] [--rx-stall-timeout SECONDS]\n"
		"            [--verbose] [--version]\n"
		"  Serves backend/vif/<domid>/<devid> under this domain's XenStore path: a\n"
		"  persistent TAP vif<domid>.<devid> per vif, a sandboxed worker per guest.\n"
		"  --max-queues: queues offered to each frontend (multi-queue-max-queues),\n"
		"  one thread each in the guest's worker; default: online CPUs, at most %u.\n"
		"  --rx-stall-timeout: a guest that posts too few RX buffers for a waiting\n"
		"  frame this long loses its vif's carrier until it posts enough (default\n"
		"  60, as Linux netback).\n"
		"  The platform defaults to $XNB_PLATFORM, else 'xen' on a Xen host, else\n"
		"  'sim'. The control socket defaults to $XNB_SIM_DIR/xnbd.sock on 'sim',\n"
		"  /run/xnb/xnbd.sock otherwise. Workers run as --user (default %s).\n"
		"  SIGTERM: exit, guests stay Connected, the next xnbd resumes them;\n"
		"  `xnbctl shutdown --disconnect`: close every vif, then exit.\n",
		IPC_MAX_QUEUES, WORKER_DEFAULT_USER);
}

/* STATUS= for `systemctl status`: sent when the counts change. */
static void notify_status(const struct supervisor *s, struct notifier *n)
{
	static char sent[96];
	char msg[96];

	snprintf(msg, sizeof(msg), "STATUS=serving %u vifs, %u workers running",
		 vifs_count(s, ~0u), workers_running(s));
	if (strcmp(msg, sent) != 0 && notify_send(n, msg) == 0)
		memcpy(sent, msg, sizeof(sent));
}

/* As Linux netback (xenvif_max_queues): one queue per online CPU, at most IPC_MAX_QUEUES. */
static unsigned default_max_queues(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > IPC_MAX_QUEUES ? IPC_MAX_QUEUES : (unsigned)n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "worker", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "no-sandbox", no_argument, NULL, 'n' },
		{ "max-queues", required_argument, NULL, 'q' },
		{ "rx-stall-timeout", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *platform = getenv("XNB_PLATFORM");
	char ctl_path[108] = "";
	struct supervisor s = { .epfd = -1, .src_xs = SUP_XS };
	struct notifier notifier;
	struct itimerspec period = { { 0, 100000000 }, { 0, 100000000 } };
	enum log_level level = LOG_LVL_INFO;
	int sig_fd = -1, timer_fd = -1, ctl_fd = -1, rc = 1, opt;
	bool xs_lost = false;
	sigset_t mask;

	s.max_queues = default_max_queues();
	s.rx_stall_s = WORKER_RX_STALL_MS / 1000;
	while ((opt = getopt_long(argc, argv, "p:c:w:u:nq:s:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			platform = optarg;
			break;
		case 'c':
			snprintf(ctl_path, sizeof(ctl_path), "%s", optarg);
			break;
		case 'w':
			snprintf(s.worker_path, sizeof(s.worker_path), "%s", optarg);
			break;
		case 'u':
			s.worker_user = optarg;
			break;
		case 'n':
			s.no_sandbox = true;
			break;
		case 'q': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || n < 1 || n > IPC_MAX_QUEUES) {
				fprintf(stderr, "xnbd: --max-queues takes 1 to %u\n", IPC_MAX_QUEUES);
				return 2;
			}
			s.max_queues = (unsigned)n;
			break;
		}
		case 's': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || n < 1 || n > 3600) {
				fprintf(stderr, "xnbd: --rx-stall-timeout takes 1 to 3600 seconds\n");
				return 2;
			}
			s.rx_stall_s = (unsigned)n;
			break;
		}
		case 'v':
			level = LOG_LVL_DEBUG;
			s.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xnbd %s\n", XNB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	log_init("xnbd", level);
	rc = notify_init(&notifier);
	if (rc)
		log_warn("cannot use $NOTIFY_SOCKET: %s (systemd is not told we are ready)",
			 strerror(-rc));
	rc = 1;
	if (!platform)
		platform = platform_default_name();
	s.platform_name = platform;
	s.ops = platform_by_name(platform);
	if (!s.ops) {
		log_err("unknown platform '%s'", platform);
		return 2;
	}
	if (!s.worker_path[0])
		find_worker(&s);
	if (access(s.worker_path, X_OK) != 0) {
		log_err("no worker program at %s: %s", s.worker_path, strerror(errno));
		return 1;
	}
	if (!ctl_path[0]) {
		const char *dir = getenv("XNB_SIM_DIR");

		if (strcmp(platform, "sim") == 0)
			snprintf(ctl_path, sizeof(ctl_path), "%s/xnbd.sock", dir ? dir : "/run/xnb-sim");
		else
			snprintf(ctl_path, sizeof(ctl_path), "/run/xnb/xnbd.sock");
	}

	s.plat = s.ops->open(0);
	if (!s.plat) {
		log_err("cannot attach to the '%s' platform as dom0: %s", platform, strerror(errno));
		return 1;
	}
	snprintf(s.backend_root, sizeof(s.backend_root), "/local/domain/%u/backend/vif",
		 s.ops->domid(s.plat));
	s.xs = s.ops->xs_open(s.plat);
	if (!s.xs) {
		log_err("cannot open a XenStore connection: %s", strerror(errno));
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	snprintf(s.run_dir, sizeof(s.run_dir), "%s", ctl_path);
	dirname(s.run_dir);
	rc = make_runtime_dir(ctl_path);
	ctl_fd = rc ? rc : ctl_listen(ctl_path);
	rc = 1;
	if (sig_fd < 0 || timer_fd < 0 || s.epfd < 0 || ctl_fd < 0) {
		log_err("start-up failed (signalfd/timerfd/epoll/control socket %s): %s", ctl_path,
			strerror(ctl_fd < 0 ? -ctl_fd : errno));
		goto out;
	}
	timerfd_settime(timer_fd, 0, &period, NULL);
	if (sup_epoll(&s, EPOLL_CTL_ADD, s.ops->xs_fd(s.xs), EPOLLIN, &s.src_xs) ||
	    sup_epoll(&s, EPOLL_CTL_ADD, sig_fd, EPOLLIN, &src_signal) ||
	    sup_epoll(&s, EPOLL_CTL_ADD, timer_fd, EPOLLIN, &src_timer) ||
	    sup_epoll(&s, EPOLL_CTL_ADD, ctl_fd, EPOLLIN, &src_ctl_listen)) {
		log_err("epoll registration failed: %s", strerror(errno));
		goto out;
	}
	rc = vifs_start(&s);
	if (rc) {
		log_err("cannot watch %s: %s", s.backend_root, strerror(-rc));
		rc = 1;
		goto out;
	}
	log_info("serving %s on platform '%s' (control socket %s, workers %s)", s.backend_root,
		 platform, ctl_path, s.worker_path);
	notify_send(&notifier, "READY=1");
	notify_status(&s, &notifier);
	notify_watchdog(&notifier, sup_now_ms());

	for (;;) {
		struct epoll_event ev[64];
		int n;
		bool watched = false;

		if (s.stopping) {
			if (!s.stop_deadline_ms) {
				notify_send(&notifier, s.disconnect ?
					    "STOPPING=1\nSTATUS=closing every vif" :
					    "STOPPING=1\nSTATUS=leaving: workers detach, guests stay "
					    "Connected");
				s.stop_deadline_ms = sup_now_ms() + STOP_TIMEOUT_MS;
				workers_stop(&s, s.disconnect);
			}
			if (workers_running(&s) == 0)
				break;
			if (sup_now_ms() >= s.stop_deadline_ms) {
				workers_kill_all(&s);
				s.stop_deadline_ms = UINT64_MAX;
			}
		}
		n = epoll_wait(s.epfd, ev, 64, -1);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			enum sup_source *src = ev[i].data.ptr;

			switch (*src) {
			case SUP_XS: {
				char *path, *token;
				int r = 0;

				/* Bounded; only the toolstack writes what matters here. */
				for (int k = 0; k < 1024 &&
				     (r = s.ops->xs_read_watch(s.xs, &path, &token)) == 1; k++) {
					vifs_watch_event(&s, path);
					free(path);
					free(token);
				}
				watched = true;
				/* A dead connection stays readable: leave (workers detach,
				 * guests stay Connected) and fail, for a restart. */
				if (r < 0 && !xs_lost) {
					log_err("XenStore connection lost: %s; leaving", strerror(-r));
					xs_lost = s.stopping = true;
					epoll_ctl(s.epfd, EPOLL_CTL_DEL, s.ops->xs_fd(s.xs), NULL);
				}
				break;
			}
			case SUP_WORKER:
				workers_input(&s, (struct sup_worker *)src);
				break;
			case SUP_CTL_LISTEN:
				ctl_accept(&s, ctl_fd);
				break;
			case SUP_CTL_CLIENT:
				ctl_client_event(&s, (struct sup_ctl_client *)src, ev[i].events);
				break;
			case SUP_TIMER: {
				uint64_t expirations;

				if (read(timer_fd, &expirations, sizeof(expirations)) > 0) {
					notify_watchdog(&notifier, sup_now_ms());
					workers_tick(&s);
					if (!s.stopping)
						vifs_tick(&s);
					ctl_tick(&s);
				}
				break;
			}
			case SUP_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGCHLD)
						continue;
					if (!s.stopping)
						log_info("signal %u: leaving; guests stay Connected, the next "
							 "xnbd resumes them", si.ssi_signo);
					s.stopping = true;
				}
				workers_reap(&s);
				break;
			}
			default:
				break;
			}
		}
		if (watched && !s.stopping)
			vifs_apply(&s);
		ctl_reap(&s);
		workers_collect(&s);
		if (!s.stopping)
			notify_status(&s, &notifier);
	}
	vifs_release(&s, s.disconnect);
	rc = xs_lost ? 1 : 0;
out:
	ctl_free(&s);
	workers_free(&s);
	if (ctl_fd >= 0) {
		close(ctl_fd);
		unlink(ctl_path);
	}
	if (sig_fd >= 0)
		close(sig_fd);
	if (timer_fd >= 0)
		close(timer_fd);
	if (s.epfd >= 0)
		close(s.epfd);
	if (s.xs)
		s.ops->xs_close(s.xs);
	s.ops->close(s.plat);
	notify_close(&notifier);
	return rc;
}
