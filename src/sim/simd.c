/* SPDX-License-Identifier: MIT */
/* simd.c - xnb-simd: the simulated Xen's daemon (domains, event channels, XenStore). */
/*
 * Theory of operation
 * -------------------
 * One single-threaded epoll loop over: the control socket (simd.sock,
 * SOCK_SEQPACKET, protocol in simd_proto.h), every control connection, the
 * embedded XenStore server (xs_server, privileged socket ./xenstored), the
 * event-channel handles' event sockets that wait for room (one epoll of
 * simd_evtchn.c's) and a signalfd for SIGTERM / SIGINT. Event-channel
 * notifications never come here: they go straight from one domain's process
 * to the other's (simd_evtchn.c), so a busy simd delays no event.
 *
 * A connection becomes a process of a domain with REGISTER; from then on
 * its requests act on that domain, and on the event-channel handles it
 * opened itself. A guest domain is one connection; dom0 may be several
 * (simd_dom.c). Closing a connection, however the process ends, closes that
 * process's event-channel handles (peers' ends of their ports revert to
 * unbound). When it was the domain's
 * last process, that is domain death: the domain is marked dead in the
 * domain table (peers' grant operations on it now fail with
 * GNTST_bad_domain), its event channels are closed, every descriptor and
 * byte it held is freed, and only then is the domain released in XenStore
 * (xs_server_release_domain(): its XenStore connection closed, the nodes it
 * owns removed and grants naming it void for any later domain with its id,
 * as xenstored does since XSA-322; then @releaseDomain fires), so a watcher
 * of @releaseDomain sees all of that done. A guest gets one XenStore
 * connection (XS_CONNECT again is EEXIST while it holds one); dom0's
 * processes as many as they open.
 *
 * Client input is never trusted: a malformed or refused request gets an
 * error reply on that connection only; a connection that will not take its
 * replies (send buffer full) is dropped. Descriptors that arrive with a
 * request that does not use them are closed.
 *
 * Start-up: the run directory is created if needed; simd.pid is opened and
 * flock()ed, so a second simd on the same directory reports "already
 * running (pid N)" and exits 1. --daemon forks and detaches after the
 * sockets are listening (the parent exits 0 once the child is ready).
 * SIGTERM / SIGINT remove the sockets and the pid file and exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "simd.h"
#include "simd_proto.h"
#include "xs_server.h"

enum simd_tag_kind { TAG_LISTEN, TAG_SIGNAL, TAG_XS, TAG_EVT, TAG_CONN };

struct simd_tag {
	enum simd_tag_kind kind;
};

struct simd_conn {
	struct simd_tag tag;  /* first: epoll data points here */
	struct simd_conn *next, *prev;
	int fd;
	struct simd_dom *dom;
};

struct simd {
	char dir[PATH_MAX - 64];
	char sock_path[PATH_MAX], xs_path[PATH_MAX], pid_path[PATH_MAX];
	int ep, lfd, sfd, pid_fd;
	struct simd_tag t_listen, t_signal, t_xs, t_evt;
	struct xs_server *xs;
	struct simd_doms doms;
	struct simd_conn *conns;
	bool stop;
};

static void simd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void simd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("xnb-simd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int simd_ep_add(struct simd *s, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* ---- connections ------------------------------------------------------ */

static void simd_conn_close(struct simd *s, struct simd_conn *c)
{
	if (c->dom) {
		unsigned domid = c->dom->domid;
		/* Dead in the domain table first (if this was its last process),
		 * so that whoever sees @releaseDomain also sees its grants fail. */
		bool died = simd_dom_detach(&s->doms, c->dom, c);

		c->dom = NULL;
		if (died && domid != 0) {
			int r = xs_server_release_domain(s->xs, domid);

			if (r < 0 && r != -ENOENT)
				simd_log("release of domain %u in XenStore: %s", domid, strerror(-r));
		}
	}
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void simd_accept(struct simd *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct simd_conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				simd_log("accept: %s", strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c || simd_ep_add(s, fd, c) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->tag.kind = TAG_CONN;
		c->fd = fd;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
	}
}

static int simd_do_register(struct simd *s, struct simd_conn *c, struct simd_msg *m,
			    int *fds, unsigned *nfds)
{
	struct simd_dom *dom;
	bool attached;

	if (c->dom)
		return -EALREADY;
	if (*nfds != 2)
		return -EINVAL;
	dom = simd_dom_register(&s->doms, m->arg[0], fds[0], fds[1], &attached);
	if (!dom)
		return -errno;
	*nfds = 0;  /* the registry owns them now (or closed them) */
	c->dom = dom;
	if (dom->domid != 0) {
		int r = xs_server_introduce_domain(s->xs, dom->domid);

		if (r < 0)
			simd_log("introduce of domain %u: %s", dom->domid, strerror(-r));
	}
	memset(m->arg, 0, sizeof(m->arg));
	m->arg[0] = dom->domid;
	m->arg[1] = attached;
	return 0;
}

static int simd_do_xs_connect(struct simd *s, struct simd_conn *c, int *out)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r = xs_server_add_conn(s->xs, sv[0], c->dom->domid);  /* takes sv[0] */
	if (r < 0) {
		close(sv[1]);
		return r;
	}
	*out = sv[1];
	return 0;
}

/* Handle one request; returns false if the connection must be dropped. */
static bool simd_request(struct simd *s, struct simd_conn *c, struct simd_msg *m, int *fds,
			 unsigned nfds)
{
	int out[SIMD_MAX_FDS];
	unsigned nout = 0;
	int own[2] = { -1, -1 };  /* out descriptors to close after sending (ours to give away) */
	uint32_t op = m->op, st[3], inc, end_id;
	struct simd_dom *dom = c->dom, *peer;
	int r = 0;

	if (op != SIMD_OP_REGISTER && !dom) {
		r = -EPROTO;
		goto reply;
	}
	switch (op) {
	case SIMD_OP_REGISTER:
		r = simd_do_register(s, c, m, fds, &nfds);
		if (r == 0) {
			out[nout++] = s->doms.gen_fd;
		}
		break;
	case SIMD_OP_PEER:
		peer = simd_dom_find(&s->doms, m->arg[0]);
		if (!peer) {
			r = -ESRCH;
			break;
		}
		m->arg[0] = s->doms.gen[peer->domid];
		m->arg[1] = peer->pages;
		m->arg[2] = peer->grants;
		out[nout++] = peer->gt_fd;
		out[nout++] = peer->mem_fd;
		break;
	case SIMD_OP_XS_CONNECT:
		r = simd_do_xs_connect(s, c, &own[0]);
		if (r == 0)
			out[nout++] = own[0];
		break;
	case SIMD_OP_EVTCHN_OPEN:
		r = simd_evtchn_open(dom, c, &m->arg[0], &out[0], &own[0], &own[1]);
		if (r == 0) {
			out[1] = own[0];
			out[2] = own[1];
			nout = 3;
		}
		break;
	case SIMD_OP_EVTCHN_CLOSE:
		r = simd_evtchn_close(&s->doms, dom, c, m->arg[0]);
		break;
	case SIMD_OP_EVTCHN_ALLOC_UNBOUND:
		r = simd_evtchn_alloc_unbound(dom, c, m->arg[0], m->arg[1], &inc);
		if (r >= 0) {
			memset(m->arg, 0, sizeof(m->arg));
			m->arg[0] = (uint32_t)r;
			m->arg[1] = inc;
			r = 0;
		}
		break;
	case SIMD_OP_EVTCHN_BIND:
		r = simd_evtchn_bind(&s->doms, dom, c, m->arg[0], m->arg[1], m->arg[2], &inc,
				     &end_id, &out[0]);
		if (r >= 0) {
			memset(m->arg, 0, sizeof(m->arg));
			m->arg[0] = (uint32_t)r;
			m->arg[1] = inc;
			m->arg[2] = end_id;
			nout = 1;
			r = 0;
		}
		break;
	case SIMD_OP_EVTCHN_UNBIND:
		r = simd_evtchn_unbind(&s->doms, dom, c, m->arg[0], m->arg[1]);
		break;
	case SIMD_OP_EVTCHN_FLUSH:
		r = simd_evtchn_flush(&s->doms, dom, c, m->arg[0]);
		if (r >= 0) {
			memset(m->arg, 0, sizeof(m->arg));
			m->arg[0] = (uint32_t)r;
			r = 0;
		}
		break;
	case SIMD_OP_EVTCHN_STATUS:
		r = simd_evtchn_status(dom, m->arg[0], st);
		if (r == 0)
			memcpy(m->arg, st, sizeof(st));
		break;
	default:
		r = -EINVAL;
		break;
	}
reply:
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	m->op = op | SIMD_REPLY;
	m->rc = r < 0 ? r : 0;
	if (r < 0) {
		memset(m->arg, 0, sizeof(m->arg));
		nout = 0;
	}
	r = simd_msg_send(c->fd, m, out, nout);
	for (unsigned i = 0; i < 2; i++)
		if (own[i] >= 0)
			close(own[i]);
	return r == 0;
}

static void simd_conn_input(struct simd *s, struct simd_conn *c)
{
	/* Bounded work per wake-up; the rest waits (epoll is level-triggered). */
	for (int budget = 64; budget > 0; budget--) {
		struct simd_msg m;
		int fds[SIMD_MAX_FDS];
		unsigned nfds;
		int r = simd_msg_recv(c->fd, &m, fds, &nfds);

		if (r == -EAGAIN)
			return;
		if (r == -EBADMSG) {
			struct simd_msg e = { .op = SIMD_REPLY, .rc = -EBADMSG };

			if (simd_msg_send(c->fd, &e, NULL, 0) < 0)
				goto drop;
			continue;
		}
		if (r < 0 || !simd_request(s, c, &m, fds, nfds))
			goto drop;
	}
	return;
drop:
	simd_conn_close(s, c);
}

/* ---- start-up ------------------------------------------------------------ */

static int simd_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);  /* stale: we hold the pid-file lock */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int simd_mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (char *q = buf + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*q = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Lock the pid file; 0, or -EEXIST (already running, *other = its pid), -errno. */
static int simd_pidfile_lock(struct simd *s, long *other)
{
	char buf[32];
	ssize_t n;

	s->pid_fd = open(s->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->pid_fd < 0)
		return -errno;
	if (flock(s->pid_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		*other = 0;
		n = pread(s->pid_fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = 0;
			*other = strtol(buf, NULL, 10);
		}
		close(s->pid_fd);
		s->pid_fd = -1;
		return e == EWOULDBLOCK ? -EEXIST : -e;
	}
	return 0;
}

static int simd_pidfile_write(struct simd *s)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(s->pid_fd, 0) < 0 || pwrite(s->pid_fd, buf, (size_t)len, 0) != len)
		return -errno;
	return 0;
}

static void simd_cleanup(struct simd *s)
{
	while (s->conns)
		simd_conn_close(s, s->conns);
	simd_doms_fini(&s->doms);
	if (s->xs) {
		xs_server_free(s->xs);
		unlink(s->xs_path);
	}
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->sock_path);
	}
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->pid_fd >= 0) {
		unlink(s->pid_path);
		close(s->pid_fd);
	}
}

static void simd_usage(FILE *f)
{
	fprintf(f, "usage: xnb-simd [--foreground|--daemon] [--dir DIR] [--version]\n"
		   "  --dir DIR   run directory (default $XNB_SIM_DIR, else %s)\n",
		SIMD_DEFAULT_DIR);
}

static int simd_setup(struct simd *s)
{
	struct rlimit rl;
	sigset_t set;
	int r;

	/* simd holds a descriptor per live event channel and per handle
	 * (simd_evtchn.c), and the kernel bounds the descriptors it has in
	 * flight to clients by the same limit: take all we are allowed. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sfd < 0)
		return -errno;
	r = simd_doms_init(&s->doms);
	if (r < 0)
		return r;
	s->xs = xs_server_new();
	if (!s->xs)
		return -errno;
	r = xs_server_listen(s->xs, s->xs_path);
	if (r < 0) {
		simd_log("%s: %s", s->xs_path, strerror(-r));
		return r;
	}
	s->lfd = simd_listen(s->sock_path);
	if (s->lfd < 0) {
		r = s->lfd;
		simd_log("%s: %s", s->sock_path, strerror(-r));
		return r;
	}
	s->t_listen.kind = TAG_LISTEN;
	s->t_signal.kind = TAG_SIGNAL;
	s->t_xs.kind = TAG_XS;
	s->t_evt.kind = TAG_EVT;
	if ((r = simd_ep_add(s, s->lfd, &s->t_listen)) < 0 ||
	    (r = simd_ep_add(s, s->sfd, &s->t_signal)) < 0 ||
	    (r = simd_ep_add(s, xs_server_fd(s->xs), &s->t_xs)) < 0 ||
	    (r = simd_ep_add(s, s->doms.evt_ep, &s->t_evt)) < 0)
		return r;
	return 0;
}

static void simd_run(struct simd *s)
{
	struct epoll_event evs[32];

	while (!s->stop) {
		int n = epoll_wait(s->ep, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			simd_log("epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			struct simd_tag *t = evs[i].data.ptr;

			switch (t->kind) {
			case TAG_LISTEN:
				simd_accept(s);
				break;
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(s->sfd, &si, sizeof(si)) == sizeof(si))
					s->stop = true;
				break;
			}
			case TAG_XS:
				xs_server_run(s->xs);
				break;
			case TAG_EVT:
				simd_evtchn_run(&s->doms);
				break;
			case TAG_CONN:
				/* An earlier event in this batch may have closed a conn and freed it: safe,
				 * because conns only close from their own events. */
				simd_conn_input(s, (struct simd_conn *)t);
				break;
			}
		}
		/* A domain's death may have queued XenStore events: flush them now. */
		xs_server_run(s->xs);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct simd s = { .ep = -1, .lfd = -1, .sfd = -1, .pid_fd = -1 };
	const char *dir = getenv("XNB_SIM_DIR");
	bool daemonize = false;
	int ready[2] = { -1, -1 };
	long other = 0;
	int c, r;

	s.doms.gen_fd = -1;
	s.doms.evt_ep = -1;
	while ((c = getopt_long(argc, argv, "fdD:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			daemonize = false;
			break;
		case 'd':
			daemonize = true;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'h':
			simd_usage(stdout);
			return 0;
		case 'V':
			printf("xnb-simd %s\n", XNB_VERSION);
			return 0;
		default:
			simd_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		simd_usage(stderr);
		return 2;
	}
	if (!dir || !*dir)
		dir = SIMD_DEFAULT_DIR;
	if ((size_t)snprintf(s.dir, sizeof(s.dir), "%s", dir) >= sizeof(s.dir)) {
		simd_log("%s: path too long", dir);
		return 1;
	}
	snprintf(s.sock_path, sizeof(s.sock_path), "%s/%s", s.dir, SIMD_SOCK_NAME);
	snprintf(s.xs_path, sizeof(s.xs_path), "%s/%s", s.dir, SIMD_XS_SOCK_NAME);
	snprintf(s.pid_path, sizeof(s.pid_path), "%s/%s", s.dir, SIMD_PID_NAME);
	r = simd_mkdir_p(s.dir);
	if (r < 0) {
		simd_log("%s: %s", s.dir, strerror(-r));
		return 1;
	}
	if (daemonize) {
		pid_t pid;
		char ok;

		if (pipe2(ready, O_CLOEXEC) < 0) {
			simd_log("pipe: %s", strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			simd_log("fork: %s", strerror(errno));
			return 1;
		}
		if (pid > 0) {
			close(ready[1]);
			/* The child reports readiness (one byte) or exits having said why. */
			return read(ready[0], &ok, 1) == 1 ? 0 : 1;
		}
		close(ready[0]);
		setsid();
	}
	r = simd_pidfile_lock(&s, &other);
	if (r == -EEXIST) {
		simd_log("already running (pid %ld) on %s", other, s.dir);
		return 1;
	}
	if (r < 0 || (r = simd_pidfile_write(&s)) < 0) {
		simd_log("%s: %s", s.pid_path, strerror(-r));
		simd_cleanup(&s);
		return 1;
	}
	r = simd_setup(&s);
	if (r < 0) {
		simd_log("start-up failed: %s", strerror(-r));
		simd_cleanup(&s);
		return 1;
	}
	if (daemonize) {
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (nul >= 0) {
			dup2(nul, STDIN_FILENO);
			dup2(nul, STDOUT_FILENO);
			close(nul);
		}
		if (write(ready[1], "", 1) != 1) {
			/* the parent is gone: keep running */
		}
		close(ready[1]);
	}
	simd_run(&s);
	simd_cleanup(&s);
	return 0;
}
