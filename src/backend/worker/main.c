/* SPDX-License-Identifier: MIT */
/*
 * main.c - xnbd-worker: one guest's vifs, in a process of their own.
 *
 * Started by the supervisor (../supervisor/) with the IPC channel as fd 3
 * (../ipc.h). In order:
 *   1. platform handles: grant copy and map, event channels (confined to
 *      the guest at once), a XenStore connection of its own;
 *   2. the TAPs of the guest's vifs, handed over until IPC_START, each
 *      with its io_uring ring, restricted to that TAP (tap.c);
 *   3. the sandbox (sandbox.h): an unprivileged uid, no capabilities, no
 *      new privileges, rlimits, a seccomp allow-list. Only then is any
 *      guest-written byte read;
 *   4. the handshake (xenbus.c): new vifs to InitWait, Connected ones
 *      resumed from their rings;
 *   5. the queue threads (queue_thread.c), one per queue a frontend may
 *      have, each with its own event channels, grant copies and epoll set;
 *      this thread keeps one epoll loop over XenStore watches (drained and
 *      coalesced), the IPC channel, notices from the queue threads (a
 *      frontend that broke the protocol) and a signalfd.
 * SIGTERM detaches: rings unmapped, ports closed, XenStore untouched, so
 * the next worker resumes where this one stopped. IPC_DISCONNECT closes
 * every vif (Closed in XenStore) first: a stop for good. A vif added after
 * the sandbox is in place needs a TAP ring the sandbox can no longer set
 * up: the supervisor replaces the worker (SIGTERM, then a new one with
 * every TAP), which the guests' other vifs do not notice.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "journal.h"
#include "report.h"
#include "sandbox.h"
#include "worker.h"
#include "xenbus.h"

/* Watch events drained per wake-up; each vif is still evaluated once. */
#define WATCH_BUDGET 4096
/* IPC messages handled per wake-up. */
#define IPC_BUDGET 64
/* How long the supervisor has to hand over the TAPs. */
#define HANDOVER_TIMEOUT_MS 10000

static enum worker_source src_signal = SRC_SIGNAL, src_ipc = SRC_IPC, src_timer = SRC_TIMER;

/*
 * The coarse clock is read from the vDSO on every clocksource; the precise
 * one is a system call under Xen's PV clock (~70 us in a PV dom0 under TCG),
 * and the guest-RX queue stamps every frame. Tick resolution is plenty for
 * a drain measured in seconds.
 */
uint64_t worker_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int epoll_set(struct worker *d, int op, int fd, uint32_t events, void *tag)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(d->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int worker_take_tap(struct worker *d, unsigned devid, struct tap *out, unsigned *nr_queues,
		    struct vif_journal **journal)
{
	for (struct worker_tap **pp = &d->taps; *pp; pp = &(*pp)->next) {
		struct worker_tap *t = *pp;

		if (t->devid == devid) {
			for (unsigned i = 0; i < t->nr_queues; i++)
				out[i] = t->tap[i];
			*nr_queues = t->nr_queues;
			*journal = t->journal;
			*pp = t->next;
			free(t);
			return 0;
		}
	}
	return -ENOENT;
}

static void drop_tap(struct worker *d, unsigned devid)
{
	struct vif_journal *j;
	struct tap t[VIF_MAX_QUEUES];
	unsigned n;

	if (worker_take_tap(d, devid, t, &n, &j) == 0) {
		for (unsigned i = 0; i < n; i++)
			tap_close(&t[i]);
		journal_unmap(j);
	}
}

static void send_to_supervisor(struct worker *d, struct ipc_hdr *h, const char *what)
{
	int rc = ipc_send(d->ipc_fd, h, NULL, -1);

	if (rc)
		log_warn("cannot tell the supervisor %s: %s", what, strerror(-rc));
}

void worker_link(struct worker *d, const struct vif *v, bool up, unsigned mtu)
{
	struct ipc_hdr h = { .type = IPC_LINK, .devid = v->devid, .arg = up, .arg2 = mtu };

	send_to_supervisor(d, &h, "a link change");
}

void worker_vif_gone(struct worker *d, const struct vif *v)
{
	struct ipc_hdr h = { .type = IPC_VIF_GONE, .devid = v->devid };

	send_to_supervisor(d, &h, "a removed vif");
}

void worker_tap_lost(struct worker *d, const struct vif *v)
{
	struct ipc_hdr h = { .type = IPC_TAP_LOST, .devid = v->devid, .arg = (uint32_t)v->tap_lost };

	send_to_supervisor(d, &h, "a lost TAP");
}

/*
 * Drain the connection's queued events (bounded), noting what they name,
 * then act once per vif: a guest rewriting its state node in a loop costs
 * one evaluation per wake-up, not one per write.
 */
static int handle_watches(struct worker *d)
{
	struct xenbus_events ev = { 0 };
	char *path, *token;
	int r = 0;

	for (int i = 0; i < WATCH_BUDGET && (r = d->ops->xs_read_watch(d->xs, &path, &token)) == 1;
	     i++) {
		xenbus_note_event(d, &ev, token);
		free(path);
		free(token);
	}
	xenbus_watch_events(d, &ev);
	return r < 0 ? r : 0;
}

void worker_notice(struct worker *d)
{
	uint64_t one = 1;

	if (write(d->notice_fd, &one, sizeof(one)) < 0) {
		/* The counter is full: a notice is waiting anyway. */
	}
}

/*
 * Keep a handed-over TAP queue fd until its vif is probed. Queue 0 starts
 * the vif's entry (a newer one replaces it); the others follow in order.
 */
static int stash_tap(struct worker *d, unsigned devid, unsigned queue, int fd, const char *name)
{
	struct worker_tap *t;
	int rc;

	if (queue > 0) {
		for (t = d->taps; t && t->devid != devid; t = t->next)
			;
		if (!t || queue != t->nr_queues || queue >= VIF_MAX_QUEUES) {
			close(fd);
			return -EINVAL;
		}
		rc = tap_attach_fd(&t->tap[queue], fd, name);
		if (rc) {
			close(fd);
			return rc;
		}
		t->nr_queues++;
		return 0;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	rc = tap_attach_fd(&t->tap[0], fd, name);
	if (rc) {
		close(fd);
		free(t);
		return rc;
	}
	drop_tap(d, devid);
	t->devid = devid;
	t->nr_queues = 1;
	t->next = d->taps;
	d->taps = t;
	return 0;
}

/* Map a vif's journal now (before the sandbox) and keep it with its TAP. */
static int stash_journal(struct worker *d, unsigned devid, int fd)
{
	for (struct worker_tap *t = d->taps; t; t = t->next) {
		if (t->devid != devid)
			continue;
		journal_unmap(t->journal);
		t->journal = journal_map(fd);
		return t->journal ? 0 : -errno;
	}
	close(fd);
	return -ENOENT;
}

static void answer_ctl(struct worker *d, const struct ipc_msg *m)
{
	struct ipc_hdr h = { .type = IPC_CTL_REPLY, .id = m->h.id };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int rc;

	if (!out)
		return;
	/* The counters are the queue threads': read them with the threads held. */
	for (unsigned i = 0; i < d->max_queues; i++)
		worker_thread_lock(&d->threads[i]);
	report_format(d, m->payload, out);
	for (unsigned i = d->max_queues; i-- > 0;)
		worker_thread_unlock(&d->threads[i]);
	fclose(out);
	h.len = len > IPC_PAYLOAD_MAX ? IPC_PAYLOAD_MAX : (uint32_t)len;
	rc = ipc_send(d->ipc_fd, &h, buf, -1);
	if (rc)
		log_warn("control answer not sent: %s", strerror(-rc));
	free(buf);
}

enum ipc_outcome { IPC_GO_ON, IPC_STARTED, IPC_EXIT_DETACH, IPC_EXIT_DISCONNECT };

static enum ipc_outcome handle_ipc(struct worker *d, bool started)
{
	for (int i = 0; i < IPC_BUDGET; i++) {
		static struct ipc_msg m; /* 60 KiB: not on the stack */
		int rc = ipc_recv(d->ipc_fd, &m);

		if (rc == 0)
			return IPC_GO_ON;
		if (rc < 0) {
			log_err("supervisor channel: %s; detaching", strerror(-rc));
			return IPC_EXIT_DETACH;
		}
		switch (m.h.type) {
		case IPC_VIF_TAP:
			if (started) {
				/* Its ring could not be set up in the sandbox; the supervisor
				 * replaces us for new vifs instead of sending them. */
				log_warn("vif%u.%u: a TAP after the start: ignored", d->guest_domid,
					 m.h.devid);
				break;
			}
			rc = stash_tap(d, m.h.devid, m.h.arg, m.fd, m.payload);
			m.fd = -1; /* taken */
			if (rc)
				log_err("vif%u.%u: TAP %s queue %u not usable: %s", d->guest_domid,
					m.h.devid, m.payload, m.h.arg, strerror(-rc));
			break;
		case IPC_VIF_JOURNAL:
			if (started || m.fd < 0)
				break; /* comes right after its TAP, which restarts us */
			rc = stash_journal(d, m.h.devid, m.fd);
			m.fd = -1;
			if (rc)
				log_warn("vif%u.%u: no journal (%s): a restart may lose responses",
					 d->guest_domid, m.h.devid, strerror(-rc));
			break;
		case IPC_START:
			if (!started)
				return IPC_STARTED;
			break;
		case IPC_CTL:
			answer_ctl(d, &m); /* before IPC_START: no vifs yet, an empty part */
			break;
		case IPC_DISCONNECT:
			return IPC_EXIT_DISCONNECT;
		default:
			break;
		}
		if (m.fd >= 0)
			close(m.fd); /* none expected, or not taken */
	}
	return IPC_GO_ON;
}

/* Step 2: TAPs until IPC_START, within HANDOVER_TIMEOUT_MS. */
static int receive_taps(struct worker *d)
{
	uint64_t deadline = worker_now_ms() + HANDOVER_TIMEOUT_MS;

	for (;;) {
		struct pollfd p = { .fd = d->ipc_fd, .events = POLLIN };
		uint64_t now = worker_now_ms();
		enum ipc_outcome o;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return -errno;
		o = handle_ipc(d, false);
		if (o == IPC_STARTED)
			return 0;
		if (o != IPC_GO_ON)
			return -EPIPE;
	}
}

static int enter_sandbox(const char *user, unsigned long max_data_mb, pid_t supervisor)
{
	struct sandbox_config c = {
		.max_fds = WORKER_MAX_FDS,
		.max_data_bytes = (rlim_t)max_data_mb << 20,
		.seccomp = true,
		.parent_death_signal = SIGKILL, /* die with the supervisor */
		.parent = supervisor,
	};
	int rc = sandbox_user_lookup(user, &c.uid, &c.gid);

	if (rc == -ENOENT && strcmp(user, WORKER_DEFAULT_USER) == 0) {
		/* `make install` / the package creates it; a build tree may not have it. */
		log_warn("no user '%s': running as nobody (65534)", user);
		c.uid = c.gid = 65534;
		rc = 0;
	}
	if (rc) {
		log_err("unknown user '%s'", user);
		return rc;
	}
	rc = sandbox_enter(&c);
	if (rc == 0)
		log_info("sandboxed: uid %u, no capabilities, %s, %lu MiB data", (unsigned)c.uid,
			 sandbox_seccomp_supported() ? "seccomp allow-list" : "no seccomp filter",
			 max_data_mb);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xnbd-worker --domid N [--platform sim|xen] [--user NAME] [--no-sandbox]\n"
		   "                   [--max-queues N] [--rx-stall-timeout SECONDS] [--max-data MIB]\n"
		   "                   [--verbose] [--version]\n"
		   "  Serves guest N's vifs for xnbd, which starts it with the channel on fd 3.\n"
		   "  --user: the unprivileged user it runs as (default %s).\n",
		WORKER_DEFAULT_USER);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domid", required_argument, NULL, 'd' },
		{ "platform", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "no-sandbox", no_argument, NULL, 'n' },
		{ "max-data", required_argument, NULL, 'm' },
		{ "max-queues", required_argument, NULL, 'q' },
		{ "rx-stall-timeout", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *platform = getenv("XNB_PLATFORM"), *user = WORKER_DEFAULT_USER;
	struct worker d = { .epfd = -1, .ipc_fd = IPC_WORKER_FD, .notice_fd = -1,
			    .src_xs = SRC_XS, .src_notice = SRC_NOTICE, .max_queues = 1,
			    .rx_stall_ms = WORKER_RX_STALL_MS };
	enum log_level level = LOG_LVL_INFO;
	enum ipc_outcome outcome = IPC_GO_ON;
	unsigned long max_data_mb = WORKER_MAX_DATA_MB;
	long domid = -1;
	pid_t supervisor;
	bool sandbox = true;
	struct itimerspec period = { { 1, 0 }, { 1, 0 } };
	int sig_fd = -1, timer_fd = -1, rc = WORKER_EXIT_FAILED, opt;
	bool xs_lost = false;
	char prog[32];
	sigset_t mask;

	while ((opt = getopt_long(argc, argv, "d:p:u:nm:q:s:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			domid = strtol(optarg, NULL, 10);
			break;
		case 'p':
			platform = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'n':
			sandbox = false;
			break;
		case 'm':
			max_data_mb = strtoul(optarg, NULL, 10);
			break;
		case 'q':
			d.max_queues = (unsigned)strtoul(optarg, NULL, 10);
			if (d.max_queues < 1 || d.max_queues > VIF_MAX_QUEUES) {
				usage(stderr);
				return WORKER_EXIT_USAGE;
			}
			break;
		case 's':
			d.rx_stall_ms = (unsigned)strtoul(optarg, NULL, 10) * 1000;
			break;
		case 'v':
			level = LOG_LVL_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xnbd-worker %s\n", XNB_VERSION);
			return 0;
		default:
			usage(stderr);
			return WORKER_EXIT_USAGE;
		}
	}
	if (domid <= 0 || domid >= 0x7ff0 || fcntl(IPC_WORKER_FD, F_GETFD) < 0) {
		usage(stderr);
		return WORKER_EXIT_USAGE;
	}
	snprintf(prog, sizeof(prog), "xnbd-worker[%ld]", domid);
	log_init(prog, level);
	/* Die with the supervisor: the next one starts a worker of its own. */
	supervisor = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != supervisor || supervisor == 1)
		return WORKER_EXIT_FAILED;
	d.guest_domid = (unsigned)domid;
	fcntl(d.ipc_fd, F_SETFL, O_NONBLOCK);
	if (!platform)
		platform = platform_default_name();
	d.ops = platform_by_name(platform);
	if (!d.ops) {
		log_err("unknown platform '%s'", platform);
		return WORKER_EXIT_USAGE;
	}

	/* 1. Platform handles, confined to the guest. */
	d.plat = d.ops->open(0);
	if (!d.plat) {
		log_err("cannot attach to the '%s' platform as dom0: %s", platform, strerror(errno));
		return WORKER_EXIT_FAILED;
	}
	d.self_domid = d.ops->domid(d.plat);
	snprintf(d.backend_root, sizeof(d.backend_root), "/local/domain/%u/backend/vif",
		 d.self_domid);
	snprintf(d.guest_dir, sizeof(d.guest_dir), "%s/%u", d.backend_root, d.guest_domid);
	d.gnt = d.ops->gnttab_open(d.plat);
	d.xs = d.ops->xs_open(d.plat);
	if (!d.gnt || !d.xs) {
		log_err("cannot open grant table or XenStore handles: %s", strerror(errno));
		goto out;
	}
	rc = worker_threads_open(&d);
	if (rc) {
		log_err("cannot set up the queue threads' handles (event channels confined to "
			"domain %u): %s", d.guest_domid, strerror(-rc));
		rc = WORKER_EXIT_FAILED;
		goto out;
	}
	rc = WORKER_EXIT_FAILED;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d.notice_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sig_fd < 0 || d.notice_fd < 0 || timer_fd < 0 || d.epfd < 0) {
		log_err("start-up failed (signalfd/eventfd/timerfd/epoll): %s", strerror(errno));
		goto out;
	}
	timerfd_settime(timer_fd, 0, &period, NULL);
	if (epoll_set(&d, EPOLL_CTL_ADD, d.ops->xs_fd(d.xs), EPOLLIN, &d.src_xs) ||
	    epoll_set(&d, EPOLL_CTL_ADD, d.notice_fd, EPOLLIN, &d.src_notice) ||
	    epoll_set(&d, EPOLL_CTL_ADD, sig_fd, EPOLLIN, &src_signal) ||
	    epoll_set(&d, EPOLL_CTL_ADD, timer_fd, EPOLLIN, &src_timer) ||
	    epoll_set(&d, EPOLL_CTL_ADD, d.ipc_fd, EPOLLIN, &src_ipc)) {
		log_err("epoll registration failed: %s", strerror(errno));
		goto out;
	}

	/* 2. The TAPs. */
	if (receive_taps(&d) != 0) {
		log_err("the supervisor handed over no TAPs in time");
		goto out;
	}
	/* 3. The sandbox, before any guest data. */
	if (sandbox && enter_sandbox(user, max_data_mb, supervisor) != 0) {
		log_err("cannot enter the sandbox: %s", strerror(errno));
		goto out;
	}
	/* 4. The queue threads, then the handshake. */
	rc = worker_threads_start(&d);
	if (rc) {
		log_err("cannot start the queue threads: %s", strerror(-rc));
		rc = WORKER_EXIT_FAILED;
		goto out;
	}
	rc = WORKER_EXIT_FAILED;
	if (xenbus_start(&d) != 0) {
		log_err("cannot watch %s", d.guest_dir);
		goto out;
	}
	log_info("serving domain %u's vifs on platform '%s', up to %u queue%s each", d.guest_domid,
		 platform, d.max_queues, d.max_queues == 1 ? "" : "s");

	while (outcome == IPC_GO_ON) {
		struct epoll_event ev[16];
		int n = epoll_wait(d.epfd, ev, 16, -1);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && outcome == IPC_GO_ON; i++) {
			enum worker_source *src = ev[i].data.ptr;

			switch (*src) {
			case SRC_XS: {
				int r = handle_watches(&d);

				/* A dead connection stays readable: detach, and be restarted. */
				if (r < 0) {
					log_err("XenStore connection lost: %s; detaching", strerror(-r));
					outcome = IPC_EXIT_DETACH;
					xs_lost = true;
				}
				break;
			}
			case SRC_NOTICE: {
				uint64_t count;

				if (read(d.notice_fd, &count, sizeof(count)) > 0)
					vif_check_notices(&d);
				break;
			}
			case SRC_IPC:
				outcome = handle_ipc(&d, true);
				break;
			case SRC_TIMER: {
				uint64_t count;

				/* The handshake's own checks (a hotplug script that never answers). */
				if (read(timer_fd, &count, sizeof(count)) > 0)
					xenbus_tick(&d, worker_now_ms());
				break;
			}
			case SRC_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
					log_info("signal %u: detaching, guests stay Connected",
						 si.ssi_signo);
				outcome = IPC_EXIT_DETACH;
				break;
			}
			default:
				break;
			}
		}
	}
	if (outcome == IPC_EXIT_DISCONNECT) {
		log_info("closing every vif of domain %u", d.guest_domid);
		xenbus_stop(&d);
	} else {
		xenbus_detach(&d);
	}
	rc = xs_lost ? WORKER_EXIT_FAILED : WORKER_EXIT_OK;
out:
	while (d.taps)
		drop_tap(&d, d.taps->devid);
	worker_threads_close(&d);
	if (sig_fd >= 0)
		close(sig_fd);
	if (d.notice_fd >= 0)
		close(d.notice_fd);
	if (timer_fd >= 0)
		close(timer_fd);
	if (d.epfd >= 0)
		close(d.epfd);
	if (d.xs)
		d.ops->xs_close(d.xs);
	if (d.gnt)
		d.ops->gnttab_close(d.gnt);
	d.ops->close(d.plat);
	close(d.ipc_fd);
	return rc;
}
