/* SPDX-License-Identifier: MIT */
/*
 * workers.c - one worker process per guest domain, started and restarted.
 *
 * A worker is xnbd-worker (../worker/) with one end of a SOCK_SEQPACKET
 * pair as its fd 3. It gets the TAPs of its guest's vifs, then IPC_START;
 * from then on it meets guest data in its sandbox, and the supervisor only
 * reads what it says (checked: a worker is not trusted) and asks it for
 * counters. A worker that dies is logged with its exit status or signal
 * (SIGSYS: its seccomp filter refused a system call) and started again:
 * at once when we replaced it (new vifs), otherwise after a back-off
 * that doubles from RESTART_MIN_MS to RESTART_MAX_MS and starts over once
 * a worker has run for RESTART_RESET_MS. The guest does not notice: the
 * new worker resumes its Connected vifs from the rings (xenbus.c).
 *
 * Workers die with the supervisor (PR_SET_PDEATHSIG): a new supervisor
 * starts new workers, which resume the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "supervisor.h"

#define RESTART_MIN_MS 100
#define RESTART_MAX_MS 10000
#define RESTART_RESET_MS 30000
/* Messages read from one worker per wake-up. */
#define WORKER_MSG_BUDGET 64

static struct sup_worker *find(struct supervisor *s, unsigned domid)
{
	for (struct sup_worker *w = s->workers; w; w = w->next)
		if (w->domid == domid)
			return w;
	return NULL;
}

/* The TAP's queue fds, queue 0 first, then the journal that goes with them. */
static int send_tap(struct sup_worker *w, const struct sup_vif *v)
{
	struct ipc_hdr jh = { .type = IPC_VIF_JOURNAL, .devid = v->devid };
	int rc = 0;

	if (v->nr_taps == 0)
		return 0; /* deleted by the host, not made again yet (vifs.c) */
	for (unsigned i = 0; i < v->nr_taps && rc == 0; i++) {
		struct ipc_hdr h = { .type = IPC_VIF_TAP, .devid = v->devid, .arg = i,
				     .len = (uint32_t)strlen(v->taps[0].name) + 1 };

		rc = ipc_send(w->fd, &h, v->taps[0].name, v->taps[i].fd);
	}
	if (rc == 0 && v->journal_fd >= 0)
		rc = ipc_send(w->fd, &jh, NULL, v->journal_fd);
	return rc;
}

static pid_t spawn(struct supervisor *s, unsigned domid, int child_end)
{
	char domid_arg[16], queues_arg[16], stall_arg[16];
	const char *argv[16];
	unsigned argc = 0;
	pid_t pid;

	snprintf(domid_arg, sizeof(domid_arg), "%u", domid);
	argv[argc++] = s->worker_path;
	argv[argc++] = "--domid";
	argv[argc++] = domid_arg;
	argv[argc++] = "--platform";
	argv[argc++] = s->platform_name;
	snprintf(queues_arg, sizeof(queues_arg), "%u", s->max_queues);
	argv[argc++] = "--max-queues";
	argv[argc++] = queues_arg;
	snprintf(stall_arg, sizeof(stall_arg), "%u", s->rx_stall_s);
	argv[argc++] = "--rx-stall-timeout";
	argv[argc++] = stall_arg;
	if (s->worker_user) {
		argv[argc++] = "--user";
		argv[argc++] = s->worker_user;
	}
	if (s->no_sandbox)
		argv[argc++] = "--no-sandbox";
	if (s->verbose)
		argv[argc++] = "--verbose";
	argv[argc] = NULL;

	pid = fork();
	if (pid != 0)
		return pid;
	/* Child: the channel on fd 3, nothing else of ours, default signals. */
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (child_end == IPC_WORKER_FD)
			fcntl(child_end, F_SETFD, 0); /* dup2() onto itself keeps CLOEXEC */
		else if (dup2(child_end, IPC_WORKER_FD) < 0)
			_exit(127);
		close_range(IPC_WORKER_FD + 1, ~0u, 0);
		execv(s->worker_path, (char *const *)argv);
		fprintf(stderr, "xnbd: cannot run %s: %s\n", s->worker_path, strerror(errno));
		_exit(127);
	}
}

static void start(struct supervisor *s, struct sup_worker *w)
{
	struct ipc_hdr go = { .type = IPC_START };
	int sv[2], rc = 0;

	w->restart_at_ms = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("domain %u: no channel for a worker: %s", w->domid, strerror(errno));
		w->restart_at_ms = sup_now_ms() + w->backoff_ms;
		return;
	}
	w->pid = spawn(s, w->domid, sv[1]);
	close(sv[1]);
	if (w->pid < 0) {
		log_err("domain %u: cannot start a worker: %s", w->domid, strerror(errno));
		close(sv[0]);
		w->pid = 0;
		w->restart_at_ms = sup_now_ms() + w->backoff_ms;
		return;
	}
	w->fd = sv[0];
	fcntl(w->fd, F_SETFL, O_NONBLOCK);
	w->started_ms = sup_now_ms();
	sup_epoll(s, EPOLL_CTL_ADD, w->fd, EPOLLIN, &w->src);
	/* The socket buffer holds these: a few small messages, sent before it reads. */
	for (struct sup_vif *v = s->vifs; v && rc == 0; v = v->next)
		if (v->domid == w->domid)
			rc = send_tap(w, v);
	if (rc == 0)
		rc = ipc_send(w->fd, &go, NULL, -1);
	if (rc)
		log_err("domain %u: cannot hand over the TAPs: %s", w->domid, strerror(-rc));
	log_info("domain %u: worker started (pid %d)%s", w->domid, (int)w->pid,
		 w->restarts ? ", a restart" : "");
}

void workers_ensure(struct supervisor *s, unsigned domid, bool new_vifs)
{
	struct sup_worker *w = find(s, domid);

	if (s->stopping)
		return;
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return;
		w->src = SUP_WORKER;
		w->domid = domid;
		w->fd = -1;
		w->backoff_ms = RESTART_MIN_MS;
		w->next = s->workers;
		s->workers = w;
	}
	w->exiting = false;
	w->forget = false;
	if (w->pid > 0) {
		/* New TAPs need rings set up outside the sandbox: a new worker
		 * (this one detaches; the next resumes its vifs and takes all). */
		if (new_vifs) {
			w->respawn_wanted = true;
			kill(w->pid, SIGTERM);
		}
		return;
	}
	if (w->restart_at_ms == 0)
		start(s, w);
}

void workers_retire(struct supervisor *s, unsigned domid)
{
	struct sup_worker *w = find(s, domid);

	if (!w)
		return;
	w->exiting = true;
	w->restart_at_ms = 0;
	if (w->pid > 0)
		kill(w->pid, SIGTERM);
	else
		w->forget = true; /* nothing running to wait for */
}

static void close_channel(struct supervisor *s, struct sup_worker *w)
{
	if (w->fd < 0)
		return;
	sup_epoll(s, EPOLL_CTL_DEL, w->fd, 0, NULL);
	close(w->fd);
	w->fd = -1;
	ctl_worker_gone(s, w);
}

void workers_input(struct supervisor *s, struct sup_worker *w)
{
	static struct ipc_msg m; /* 60 KiB: not on the stack */

	for (int i = 0; i < WORKER_MSG_BUDGET && w->fd >= 0; i++) {
		int rc = ipc_recv(w->fd, &m);

		if (rc == 0)
			return;
		if (rc < 0) {
			/* Gone, or talking nonsense: either way we stop listening. */
			if (rc != -EPIPE)
				log_warn("domain %u: bad message from the worker: %s", w->domid,
					 strerror(-rc));
			close_channel(s, w);
			return;
		}
		if (m.fd >= 0)
			close(m.fd); /* a worker hands us nothing */
		switch (m.h.type) {
		case IPC_VIF_GONE:
			vifs_gone(s, w->domid, m.h.devid);
			break;
		case IPC_LINK:
			vifs_link(s, w->domid, m.h.devid, m.h.arg != 0, m.h.arg2);
			break;
		case IPC_TAP_LOST:
			vifs_tap_lost(s, w->domid, m.h.devid, (int)m.h.arg);
			break;
		case IPC_CTL_REPLY:
			ctl_reply(s, w, m.h.id, m.payload, m.h.len);
			break;
		default:
			log_warn("domain %u: unknown message %u from the worker", w->domid, m.h.type);
			break;
		}
	}
}

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status)) {
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		snprintf(buf, len, "killed by signal %d (%s)%s", sig, strsignal(sig),
			 sig == SIGSYS ? ": its seccomp filter refused a system call (the kernel's "
			 "audit line, type=1326, names it: syscall=N)" : "");
	} else {
		snprintf(buf, len, "ended with wait status 0x%x", status);
	}
}

void workers_reap(struct supervisor *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct sup_worker *w = s->workers;
		uint64_t now = sup_now_ms();
		char how[160];
		bool clean;

		while (w && w->pid != pid)
			w = w->next;
		if (!w)
			continue;
		describe_exit(status, how, sizeof(how));
		w->pid = 0;
		workers_input(s, w); /* what it said last (a removed vif, an answer) */
		close_channel(s, w);
		clean = WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_OK;
		if (s->stopping || w->exiting || vifs_count(s, w->domid) == 0) {
			log_info("domain %u: worker (pid %d) %s", w->domid, (int)pid, how);
			/* Its guest has no vifs left: forgotten after this batch of events. */
			w->forget = !s->stopping && vifs_count(s, w->domid) == 0;
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_USAGE) {
			log_err("domain %u: worker (pid %d) %s: not restarted (check its options)",
				w->domid, (int)pid, how);
			continue;
		}
		w->restarts++;
		if (now - w->started_ms >= RESTART_RESET_MS)
			w->backoff_ms = RESTART_MIN_MS;
		/* At once only when we asked for it (new vifs: workers_ensure): a
		 * worker a guest makes exit "cleanly" gets the back-off. */
		clean = clean && w->respawn_wanted;
		w->respawn_wanted = false;
		if (clean) {
			log_info("domain %u: worker (pid %d) %s: restarting now", w->domid, (int)pid,
				 how);
			start(s, w);
			continue;
		}
		log_warn("domain %u: worker (pid %d) %s: restarting in %u ms", w->domid, (int)pid,
			 how, w->backoff_ms);
		w->restart_at_ms = now + w->backoff_ms;
		w->backoff_ms = w->backoff_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : w->backoff_ms * 2;
	}
}

void workers_tick(struct supervisor *s)
{
	uint64_t now = sup_now_ms();

	for (struct sup_worker *w = s->workers; w; w = w->next)
		if (w->restart_at_ms && now >= w->restart_at_ms && !w->pid && !s->stopping)
			start(s, w);
}

void workers_stop(struct supervisor *s, bool disconnect)
{
	struct ipc_hdr h = { .type = IPC_DISCONNECT };

	for (struct sup_worker *w = s->workers; w; w = w->next) {
		w->restart_at_ms = 0;
		/* A stop for good reaches every guest: one whose worker is down
		 * (backing off) gets one to close its vifs. */
		if (w->pid <= 0 && disconnect && vifs_count(s, w->domid) > 0)
			start(s, w);
		if (w->pid <= 0)
			continue;
		if (disconnect && w->fd >= 0 && ipc_send(w->fd, &h, NULL, -1) == 0)
			continue;
		kill(w->pid, SIGTERM);
	}
}

unsigned workers_running(const struct supervisor *s)
{
	unsigned n = 0;

	for (const struct sup_worker *w = s->workers; w; w = w->next)
		n += w->pid > 0;
	return n;
}

void workers_kill_all(struct supervisor *s)
{
	for (struct sup_worker *w = s->workers; w; w = w->next)
		if (w->pid > 0) {
			log_warn("domain %u: worker (pid %d) did not stop in time: killed", w->domid,
				 (int)w->pid);
			kill(w->pid, SIGKILL);
		}
}

void workers_collect(struct supervisor *s)
{
	for (struct sup_worker **pp = &s->workers; *pp;) {
		struct sup_worker *w = *pp;

		if (!w->forget || w->pid > 0 || w->fd >= 0) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		free(w);
	}
}

void workers_free(struct supervisor *s)
{
	while (s->workers) {
		struct sup_worker *w = s->workers;

		s->workers = w->next;
		close_channel(s, w);
		free(w);
	}
}
