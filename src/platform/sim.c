/* SPDX-License-Identifier: MIT */
/* sim.c - the 'sim' platform: this process as a domain of xnb-simd's simulated Xen. */
/*
 * Theory of operation
 * -------------------
 * open() connects to XNB_SIM_DIR/simd.sock (default /run/xnb-sim) and
 * registers: it creates the domain's memory (a sealed memfd of
 * XNB_SIM_PAGES pages, default 4096) and grant table (a sealed memfd of
 * XNB_SIM_GRANTS struct grant_entry_v1, default 4096), passes both to simd
 * and gets back a domid and simd's domain table (generation per domid, odd =
 * alive). The wire protocol is in src/sim/simd_proto.h.
 *
 * Each session is one process of its domain as simd sees it. A guest is one
 * session; opening its domid again fails with EEXIST. Domain 0 may be
 * several sessions, in one process or many (xnbd's supervisor and its
 * per-guest workers, as dom0 processes on real Xen each open gntdev, evtchn
 * and xenstore): open(0) while dom0 lives attaches to it. An attached
 * session shares dom0's generation, so peers see no change; its event
 * channel handles are its own (another session cannot use them) and are
 * closed with it, its ports reverting to unbound for dom0 so that another
 * session can bind the guest's port again, while dom0 itself dies only with
 * its last session. dom0's memory and grant table are the first session's,
 * so an attached session cannot grant pages: gntshr_open fails with
 * EOPNOTSUPP there (backends only map and copy, they never grant).
 *
 * Granting (gntshr) works on our own memory and grant table exactly as a
 * guest kernel does: pick free pages and free refs (0-7 are reserved, as in
 * Linux), write domid and frame, then publish flags with a release store.
 * Ending access is the Linux gnttab_end_foreign_access_ref() loop: refuse
 * while GTF_reading / GTF_writing, else compare-and-swap the flags to 0.
 *
 * Grant copy and map do what the hypervisor does on our behalf. For a peer
 * domain we ask simd once (PEER) for its grant table and memory memfds, map
 * them, and cache them with the peer's generation; the cache is used only
 * while the domain table still shows that generation, otherwise the
 * operation fails with GNTST_bad_domain. Acquiring a grant follows Xen's
 * acquire_grant_for_copy() / map_grant_ref() with _set_status_v1():
 *   ref >= table size                              GNTST_bad_gntref
 *   not GTF_permit_access, or granted to another
 *   domid, or a write to a GTF_readonly grant      GNTST_general_error
 *   (Xen reports all three as general_error, not permission_denied:
 *    PIN_FAIL(..., GNTST_general_error, "Bad flags/dom", "Attempt to
 *    write-pin a r/o grant entry"); permission_denied is only XSM's refusal
 *    or a frame-based copy of another domain's memory)
 *   frame beyond the peer's memory                 GNTST_bad_page
 *   offset + len > 4096 on a grant side            GNTST_bad_copy_arg
 *   (checked after acquiring, as Xen's gnttab_copy_buf() does)
 * The first pin sets GTF_reading (and GTF_writing for a write) with a CAS
 * on the entry's (flags, domid) word, re-validating on every retry (at most
 * 4, then general_error, like Xen); our own pin counts per (peer, ref) play
 * the role of Xen's active entry, so the flags are cleared when the last
 * copy / map releases them. A mapped page is our own mmap() of the peer's
 * memfd at the granted frame: it stays valid even after the peer dies, as
 * Xen keeps the page until unmap.
 *
 * Event channels: simd keeps the ports' states (alloc, bind, unbind and
 * status are requests) but never carries a notification. A bound pair of
 * ports is a channel, a datagram socketpair with one end in each owner's
 * process (src/sim/simd_evtchn.c, protocol in simd_proto.h): notify sends
 * one empty datagram on our end, one send() without simd or the session
 * lock. The binder gets its end in the BIND reply; the other side's end
 * comes on the handle's event socket, which simd wrote (and registered the
 * end in our epoll instance) before answering the binder, so nothing after
 * a bind waits for simd. Masking is the Linux evtchn device's, done here:
 *   - evtchn_fd() is an epoll instance (made by simd) in which each end is
 *     registered EPOLLIN | EPOLLONESHOT, its data the end's id and port.
 *     The one-shot report is the port firing and the end disarmed by it is
 *     the mask: evtchn_pending() takes the report, reads every datagram
 *     queued (notifications coalesce, as Xen's pending bit: the ends' send
 *     buffers are the smallest, so a sender meets EAGAIN after a few, which
 *     means "pending already") and returns the port.
 *   - evtchn_unmask() re-arms it (EPOLL_CTL_MOD): datagrams that came while
 *     it was masked make it report again at once, once however many.
 *   - an end that came on the event socket is first reported through simd's
 *     registration (SIMD_EVT_FIRST), whose report is also what makes us read
 *     the event socket; only then do we register the end ourselves. The
 *     event socket itself is not in the epoll instance, so evtchn_fd() is
 *     readable only when a port has fired.
 *   - the bind's pending event is a datagram simd sent before handing out
 *     the ends. When either port closes, or its owner dies, simd shuts both
 *     ends down for writing: a later notify fails (EPIPE) and is dropped, as
 *     Xen drops it, while what the peer sent before stays readable (Xen's
 *     pending bit stays set), and a datagram socket gets no end of file, so
 *     a peer going away wakes nobody. A port bound again gets a new
 *     socketpair, so nothing from an old channel reaches the new one; an
 *     old end still holding notifications is kept (pt->old) and read with
 *     the new one when the port next fires, then closed.
 *   - the channel ends and event messages name the port's incarnation
 *     (from the alloc / bind reply), so an end for a port we closed, whose
 *     number may have been reused since, is closed unused.
 * One case still wakes the caller for nothing: a port rebound by its peer
 * while masked (or while an old end still holds notifications) gets its
 * first report through simd's registration, which we cannot disarm;
 * pending() then returns -EAGAIN and the port fires at unmask. And one case
 * still asks simd after a bind: a handle that let its event socket fill up
 * (hundreds of binds unread) reads the ends simd kept back (EVTCHN_FLUSH),
 * when the count on the handle's shared page says there are any.
 * The peer holds only its own end of each channel it shares with us: it can
 * make that one port of ours pending, or stop listening; datagrams it sends
 * with descriptors attached are read without a control buffer, which
 * discards them. That is what it could do through simd before, and no more.
 * Descriptors: a handle holds two (the epoll instance and the event socket)
 * plus one per port with a channel, two at most while an old end still
 * holds notifications after a rebinding; an unbound port holds none. A
 * worker (one guest, RLIMIT_NOFILE 256; about 24 descriptors of its own with
 * one thread) with 64 single-queue vifs of split event channels thus needs
 * 128 for channel ends beside its 64 TAPs: about 216. Each more queue of a
 * vif costs a TAP and two ends. Once a handle is open, only epoll_ctl,
 * epoll_wait, recvfrom, sendto, recvmsg, sendmsg and close are used, all in
 * the worker's seccomp allow-list.
 *
 * XenStore goes through xs_client: dom0 opens XNB_SIM_DIR/xenstored, a guest
 * asks simd for a connection (XS_CONNECT) that xs_server treats as its own.
 *
 * All state hangs off struct platform, guarded by its mutex, so one process
 * may even hold several sessions (several domains, or several processes of
 * dom0), which the tests use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>

#include "platform.h"
#include "sim.h"
#include "../sim/simd_proto.h"
#include "xs_client.h"
#include "xs_wire.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the grant entry word layout below assumes little endian"
#endif

#define PAGE 4096u
#define NR_RESERVED_REFS 8u

/* Xen's active-entry pin counts, per (peer, ref), for our own pins. */
struct sim_pin {
	uint16_t readers;  /* every pin (a writer reads too) */
	uint16_t writers;
	uint32_t frame;    /* frame latched at the first pin */
};

struct sim_peer {
	struct sim_peer *next;
	uint16_t domid;
	uint32_t gen;
	struct grant_entry_v1 *gt;
	unsigned nr_ents;
	uint8_t *mem;
	unsigned npages;
	int mem_fd;
	struct sim_pin *pins;
	unsigned maps;     /* pages mapped through gnttab_map */
	unsigned copying;  /* grant copies in flight outside the lock */
};

struct platform {
	pthread_mutex_t lock;
	int ctl;
	uint16_t domid;
	bool attached;     /* another process of a live dom0: no gntshr */
	char dir[PATH_MAX - 32];
	const uint32_t *domtab;
	int mem_fd;
	uint8_t *mem;
	unsigned npages;
	uint8_t *page_used;
	int gt_fd;
	struct grant_entry_v1 *gt;
	unsigned nr_ents;
	uint8_t *ref_used;
	struct sim_peer *peers;
};

struct sim_map {
	struct sim_map *next;
	void *addr;
	struct sim_peer *peer;
	uint32_t ref;
	bool writable;
};

struct platform_gnttab {
	struct platform *p;
	struct sim_map *maps;
};

struct sim_share {
	struct sim_share *next;
	uint8_t *addr;
	unsigned count;
	bool *ended;
	uint32_t refs[];
};

struct platform_gntshr {
	struct platform *p;
	struct sim_share *shares;
};

/* One of a port's channel ends, as its owner holds it. */
struct sim_evt_end {
	int fd;         /* or -1 */
	uint32_t id;    /* simd's id of the end: its reports carry it */
	bool reg;       /* in the epoll instance by our own registration */
	bool first;     /* simd's registration of it has not reported yet */
};

/* One port of an event-channel handle. */
struct sim_evt_port {
	struct sim_evt_end cur;  /* the newest channel's end: sends go there */
	struct sim_evt_end old;  /* a revoked earlier channel's end that still
	                          * holds notifications we have not taken */
	uint32_t inc;     /* simd's incarnation of our binding of the port */
	uint32_t fired;   /* an end whose first report came before the end did */
	bool bound;       /* this handle allocated or bound it */
	bool masked;      /* fired (returned by pending) and not unmasked since */
};

struct platform_evtchn {
	struct platform *p;
	uint32_t handle;
	int ep;             /* evtchn_fd(): the epoll instance simd made */
	int ev;             /* the event socket, or -1 */
	const uint32_t *kept; /* the shared page: how many ends simd keeps for us */
	int only_domid;     /* evtchn_restrict()'s domain, or -1 */
	struct sim_evt_port port[SIMD_MAX_PORTS];
};

struct platform_xs {
	struct platform *p;
	struct xs_client *c;
};

/* ---- helpers ---------------------------------------------------------- */

static const char *sim_dir_get(void)
{
	const char *d = getenv("XNB_SIM_DIR");

	return d && *d ? d : SIMD_DEFAULT_DIR;
}

static unsigned sim_env_uint(const char *name, unsigned dflt, unsigned max)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v == 0 || v > max)
		return dflt;
	return (unsigned)v;
}

static void sim_fds_close(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * One request / reply round trip on the control socket (caller holds the
 * lock). Received descriptors go to rfds (up to *rn on entry; the count
 * received on return); extra ones are closed. Returns the reply's rc.
 */
static int sim_call(struct platform *p, struct simd_msg *m, const int *sfds, unsigned sn,
		    int *rfds, unsigned *rn)
{
	uint32_t op = m->op;
	int fds[SIMD_MAX_FDS];
	unsigned n, want = rn ? *rn : 0;
	int r;

	if (rn)
		*rn = 0;
	r = simd_msg_send(p->ctl, m, sfds, sn);
	if (r < 0)
		return r;
	r = simd_msg_recv(p->ctl, m, fds, &n);
	if (r < 0)
		return r;
	if (m->op != (op | SIMD_REPLY)) {
		sim_fds_close(fds, n);
		return -EPROTO;
	}
	if (n > want) {
		sim_fds_close(fds + want, n - want);
		n = want;
	}
	if (m->rc < 0) {
		sim_fds_close(fds, n);
		return m->rc;
	}
	if (n < want) {
		sim_fds_close(fds, n);
		return -EPROTO;
	}
	/* n <= want, which is 0 without rn; GCC cannot always see that rfds
	 * (NULL for such calls) is then unused, and -O3 warns (-Wnonnull). */
	if (n && rfds)
		memcpy(rfds, fds, n * sizeof(int));
	if (rn)
		*rn = n;
	return m->rc;
}

static inline uint32_t *sim_ent_word(struct grant_entry_v1 *e)
{
	return (uint32_t *)(void *)e;  /* (flags, domid): one 32-bit word */
}

static int sim_memfd_new(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Size of a sealed memfd, or -1 if it is not sealed against shrinking. */
static long long sim_memfd_size(int fd)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(fd, &st) < 0)
		return -1;
	return st.st_size;
}

/* ---- session ------------------------------------------------------------ */

static void sim_peer_free(struct sim_peer *pe)
{
	if (pe->gt)
		munmap(pe->gt, (size_t)pe->nr_ents * sizeof(*pe->gt));
	if (pe->mem)
		munmap(pe->mem, (size_t)pe->npages * PAGE);
	if (pe->mem_fd >= 0)
		close(pe->mem_fd);
	free(pe->pins);
	free(pe);
}

static void sim_session_free(struct platform *p)
{
	while (p->peers) {
		struct sim_peer *pe = p->peers;

		p->peers = pe->next;
		sim_peer_free(pe);
	}
	if (p->ctl >= 0)
		close(p->ctl);
	if (p->domtab)
		munmap((void *)p->domtab, SIMD_MAX_DOMS * sizeof(uint32_t));
	if (p->mem)
		munmap(p->mem, (size_t)p->npages * PAGE);
	if (p->gt)
		munmap(p->gt, (size_t)p->nr_ents * sizeof(*p->gt));
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	if (p->gt_fd >= 0)
		close(p->gt_fd);
	free(p->page_used);
	free(p->ref_used);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int sim_connect(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, SIMD_SOCK_NAME) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static struct platform *sim_open(int want_domid)
{
	struct platform *p;
	struct simd_msg m = { .op = SIMD_OP_REGISTER };
	int sfds[2], rfd;
	unsigned rn = 1;
	int r;

	if (want_domid != PLATFORM_DOMID_ANY &&
	    (want_domid < 0 || (unsigned)want_domid >= SIMD_MAX_DOMS)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	p->ctl = p->mem_fd = p->gt_fd = -1;
	snprintf(p->dir, sizeof(p->dir), "%s", sim_dir_get());
	p->npages = sim_env_uint("XNB_SIM_PAGES", 4096, SIMD_MAX_PAGES);
	p->nr_ents = sim_env_uint("XNB_SIM_GRANTS", 4096, SIMD_MAX_GRANTS);
	if (p->nr_ents <= NR_RESERVED_REFS)
		p->nr_ents = NR_RESERVED_REFS + 1;
	p->page_used = calloc(p->npages, 1);
	p->ref_used = calloc(p->nr_ents, 1);
	if (!p->page_used || !p->ref_used) {
		r = -ENOMEM;
		goto fail;
	}
	p->mem_fd = sim_memfd_new("xnb-sim-memory", (size_t)p->npages * PAGE);
	p->gt_fd = sim_memfd_new("xnb-sim-grant-table", (size_t)p->nr_ents * sizeof(*p->gt));
	if (p->mem_fd < 0 || p->gt_fd < 0) {
		r = -errno;
		goto fail;
	}
	p->mem = mmap(NULL, (size_t)p->npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->mem_fd, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		r = -errno;
		goto fail;
	}
	p->gt = mmap(NULL, (size_t)p->nr_ents * sizeof(*p->gt), PROT_READ | PROT_WRITE,
		     MAP_SHARED, p->gt_fd, 0);
	if (p->gt == MAP_FAILED) {
		p->gt = NULL;
		r = -errno;
		goto fail;
	}
	for (unsigned i = 0; i < NR_RESERVED_REFS; i++)
		p->ref_used[i] = 1;
	r = sim_connect(p->dir);
	if (r < 0)
		goto fail;
	p->ctl = r;
	m.arg[0] = want_domid == PLATFORM_DOMID_ANY ? SIMD_ANY : (uint32_t)want_domid;
	sfds[0] = p->mem_fd;
	sfds[1] = p->gt_fd;
	r = sim_call(p, &m, sfds, 2, &rfd, &rn);
	if (r < 0)
		goto fail;
	p->domid = (uint16_t)m.arg[0];
	p->attached = m.arg[1] != 0;
	p->domtab = mmap(NULL, SIMD_MAX_DOMS * sizeof(uint32_t), PROT_READ, MAP_SHARED, rfd, 0);
	close(rfd);
	if (p->domtab == MAP_FAILED) {
		p->domtab = NULL;
		r = -errno;
		goto fail;
	}
	return p;
fail:
	sim_session_free(p);
	errno = -r;
	return NULL;
}

static void sim_close(struct platform *p)
{
	if (p)
		sim_session_free(p);
}

static unsigned sim_domid(const struct platform *p)
{
	return p->domid;
}

/* ---- grant copy and map (the hypervisor's side) ------------------------ */

static uint32_t sim_domtab_gen(const struct platform *p, uint16_t domid)
{
	if (domid >= SIMD_MAX_DOMS)
		return 0;
	return __atomic_load_n(&p->domtab[domid], __ATOMIC_ACQUIRE);
}

/*
 * Drop cached peers that died and that we no longer map: their memfd and
 * mappings go with them. Runs on lookups and on XenStore watch reads (a
 * death fires @releaseDomain), so a dead domain's cache does not outlive
 * the event that announces its death. Caller holds p->lock.
 */
static void sim_peers_prune(struct platform *p)
{
	for (struct sim_peer **pp = &p->peers, *pe; (pe = *pp);) {
		if (pe->maps == 0 && pe->copying == 0 && pe->gen != sim_domtab_gen(p, pe->domid)) {
			*pp = pe->next;
			sim_peer_free(pe);
			continue;
		}
		pp = &pe->next;
	}
}

/* The live cached peer for domid, fetched from simd if needed; NULL = bad_domain. */
static struct sim_peer *sim_peer_get(struct platform *p, uint16_t domid)
{
	struct sim_peer **pp, *pe;
	struct simd_msg m = { .op = SIMD_OP_PEER };
	uint32_t gen = sim_domtab_gen(p, domid);
	int fds[2];
	unsigned n = 2;
	long long gsz, msz;

	if (domid == DOMID_SELF)
		domid = p->domid, gen = sim_domtab_gen(p, domid);
	if (!(gen & 1))
		return NULL;
	sim_peers_prune(p);
	for (pp = &p->peers; (pe = *pp); pp = &pe->next)
		if (pe->domid == domid && pe->gen == gen)
			return pe;
	m.arg[0] = domid;
	if (sim_call(p, &m, NULL, 0, fds, &n) < 0)
		return NULL;
	pe = calloc(1, sizeof(*pe));
	gsz = sim_memfd_size(fds[0]);
	msz = sim_memfd_size(fds[1]);
	if (!pe || gsz < 0 || msz < 0 ||
	    (unsigned long long)gsz < (unsigned long long)m.arg[2] * sizeof(*pe->gt) ||
	    (unsigned long long)msz < (unsigned long long)m.arg[1] * PAGE ||
	    m.arg[1] > SIMD_MAX_PAGES || m.arg[2] > SIMD_MAX_GRANTS)
		goto fail;
	pe->domid = domid;
	pe->gen = m.arg[0];
	pe->npages = m.arg[1];
	pe->nr_ents = m.arg[2];
	pe->mem_fd = fds[1];
	pe->pins = calloc(pe->nr_ents ? pe->nr_ents : 1, sizeof(*pe->pins));
	if (!pe->pins)
		goto fail;
	if (pe->nr_ents) {
		pe->gt = mmap(NULL, (size_t)pe->nr_ents * sizeof(*pe->gt), PROT_READ | PROT_WRITE,
			      MAP_SHARED, fds[0], 0);
		if (pe->gt == MAP_FAILED)
			goto fail_map;
	}
	if (pe->npages) {
		pe->mem = mmap(NULL, (size_t)pe->npages * PAGE, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fds[1], 0);
		if (pe->mem == MAP_FAILED)
			goto fail_map;
	}
	close(fds[0]);
	pe->next = p->peers;
	p->peers = pe;
	return pe;
fail_map:
	if (pe->gt == MAP_FAILED)
		pe->gt = NULL;
	if (pe->mem == MAP_FAILED)
		pe->mem = NULL;
	close(fds[0]);
	sim_peer_free(pe);
	return NULL;
fail:
	if (pe)
		free(pe->pins);
	free(pe);
	sim_fds_close(fds, 2);
	return NULL;
}

/* Pin a grant for reading (and writing); GNTST_okay and *frame, or a GNTST_* error. */
static int16_t sim_grant_acquire(struct platform *p, struct sim_peer *pe, uint32_t ref,
				 bool write, uint32_t *frame)
{
	struct sim_pin *pin;
	uint32_t *w, cur, nw;
	int tries = 0;

	if (ref >= pe->nr_ents)
		return GNTST_bad_gntref;
	pin = &pe->pins[ref];
	if (pin->readers == UINT16_MAX)
		return GNTST_general_error;  /* counter overflow, as Xen */
	if (pin->readers == 0 || (write && pin->writers == 0)) {
		w = sim_ent_word(&pe->gt[ref]);
		cur = __atomic_load_n(w, __ATOMIC_ACQUIRE);
		for (;;) {
			uint16_t flags = (uint16_t)cur, dom = (uint16_t)(cur >> 16);

			if (pin->readers == 0 &&
			    ((flags & GTF_type_mask) != GTF_permit_access || dom != p->domid))
				return GNTST_general_error;
			if (write && (flags & GTF_readonly))
				return GNTST_general_error;
			nw = cur | GTF_reading | (write ? GTF_writing : 0);
			if (__atomic_compare_exchange_n(w, &cur, nw, false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				break;
			if (tries++ == 4)
				return GNTST_general_error;  /* "unstable", as Xen */
		}
		if (pin->readers == 0) {
			uint32_t f = __atomic_load_n(&pe->gt[ref].frame, __ATOMIC_RELAXED);

			if (f >= pe->npages) {
				__atomic_fetch_and(w, ~(uint32_t)(GTF_reading | GTF_writing),
						   __ATOMIC_RELEASE);
				return GNTST_bad_page;
			}
			pin->frame = f;
		}
	}
	pin->readers++;
	if (write)
		pin->writers++;
	*frame = pin->frame;
	return GNTST_okay;
}

static void sim_grant_release(struct sim_peer *pe, uint32_t ref, bool write)
{
	struct sim_pin *pin = &pe->pins[ref];
	uint32_t clear = 0;

	if (write && --pin->writers == 0)
		clear |= GTF_writing;
	if (--pin->readers == 0)
		clear |= GTF_reading | GTF_writing;
	if (clear)
		__atomic_fetch_and(sim_ent_word(&pe->gt[ref]), ~clear, __ATOMIC_RELEASE);
}

struct sim_side {
	struct sim_peer *pe;
	uint32_t ref;
	uint8_t *ptr;
	bool held;
};

static int16_t sim_side_claim(struct platform *p, const union engine_copy_ptr *cp,
			      bool gref, bool write, struct sim_side *s)
{
	uint32_t frame;
	int16_t st;

	s->held = false;
	if (!gref) {
		s->ptr = cp->virt;
		return GNTST_okay;
	}
	s->ref = cp->foreign.ref;
	st = sim_grant_acquire(p, s->pe, s->ref, write, &frame);
	if (st != GNTST_okay)
		return st;
	s->held = true;
	s->ptr = s->pe->mem + (size_t)frame * PAGE + cp->foreign.offset;
	return GNTST_okay;
}

/*
 * A segment's two sides, claimed under the session lock: the grants are
 * pinned (GTF_reading/GTF_writing, as Xen does for a copy in flight, so the
 * granter cannot end access meanwhile) and the peers kept, so the bytes
 * can move with the lock dropped and several threads copy at once.
 */
struct sim_claim {
	struct sim_side src, dst;
};

static int16_t sim_copy_claim(struct platform *p, struct engine_copy_seg *sg, struct sim_claim *c)
{
	bool sg_src = sg->flags & GNTCOPY_source_gref, sg_dst = sg->flags & GNTCOPY_dest_gref;
	int16_t st;

	memset(c, 0, sizeof(*c));
	/* Xen: lock both domains, claim source, claim dest, then check offsets. */
	if (sg_src && !(c->src.pe = sim_peer_get(p, sg->source.foreign.domid)))
		return GNTST_bad_domain;
	if (sg_dst && !(c->dst.pe = sim_peer_get(p, sg->dest.foreign.domid)))
		return GNTST_bad_domain;
	st = sim_side_claim(p, &sg->source, sg_src, false, &c->src);
	if (st == GNTST_okay)
		st = sim_side_claim(p, &sg->dest, sg_dst, true, &c->dst);
	if (st == GNTST_okay &&
	    ((sg_src && (unsigned)sg->source.foreign.offset + sg->len > PAGE) ||
	     (sg_dst && (unsigned)sg->dest.foreign.offset + sg->len > PAGE)))
		st = GNTST_bad_copy_arg;
	if (c->src.held)
		c->src.pe->copying++;
	if (c->dst.held)
		c->dst.pe->copying++;
	return st;
}

static void sim_copy_release(struct sim_claim *c)
{
	if (c->src.held) {
		sim_grant_release(c->src.pe, c->src.ref, false);
		c->src.pe->copying--;
	}
	if (c->dst.held) {
		sim_grant_release(c->dst.pe, c->dst.ref, true);
		c->dst.pe->copying--;
	}
}

static struct platform_gnttab *sim_gnttab_open(struct platform *p)
{
	struct platform_gnttab *g = calloc(1, sizeof(*g));

	if (g)
		g->p = p;
	return g;
}

static void sim_map_drop(struct sim_map *mp)
{
	munmap(mp->addr, PAGE);
	sim_grant_release(mp->peer, mp->ref, mp->writable);
	mp->peer->maps--;
	free(mp);
}

static void sim_gnttab_close(struct platform_gnttab *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->p->lock);
	while (g->maps) {
		struct sim_map *mp = g->maps;

		g->maps = mp->next;
		sim_map_drop(mp);
	}
	pthread_mutex_unlock(&g->p->lock);
	free(g);
}

static int sim_gnttab_fd(struct platform_gnttab *g)
{
	(void)g;
	return -1;  /* nothing to poll: grant operations complete synchronously */
}

/* Segments claimed at a time (a TX batch's worth of small packets, on the stack). */
#define SIM_COPY_CHUNK 64

static int sim_gnttab_copy(struct platform_gnttab *g, struct engine_copy_seg *segs, unsigned n)
{
	struct platform *p = g->p;

	/* gntdev refuses a batch holding a local-to-local segment. */
	for (unsigned i = 0; i < n; i++) {
		if (!(segs[i].flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref))) {
			for (unsigned k = 0; k < n; k++)
				segs[k].status = GNTST_general_error;
			return -EINVAL;
		}
	}
	/* In chunks, in order: claim under the lock, copy without it, release under it. */
	for (unsigned base = 0; base < n; base += SIM_COPY_CHUNK) {
		struct sim_claim c[SIM_COPY_CHUNK];
		unsigned k = n - base < SIM_COPY_CHUNK ? n - base : SIM_COPY_CHUNK;

		pthread_mutex_lock(&p->lock);
		for (unsigned i = 0; i < k; i++)
			segs[base + i].status = sim_copy_claim(p, &segs[base + i], &c[i]);
		pthread_mutex_unlock(&p->lock);
		for (unsigned i = 0; i < k; i++)
			if (segs[base + i].status == GNTST_okay)
				memmove(c[i].dst.ptr, c[i].src.ptr, segs[base + i].len);
		pthread_mutex_lock(&p->lock);
		for (unsigned i = 0; i < k; i++)
			sim_copy_release(&c[i]);
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

static void *sim_gnttab_map(struct platform_gnttab *g, uint16_t domid, uint32_t ref,
			    bool writable, int16_t *gntst)
{
	struct platform *p = g->p;
	struct sim_peer *pe;
	struct sim_map *mp = NULL;
	uint32_t frame;
	int16_t st;
	void *addr = NULL;

	pthread_mutex_lock(&p->lock);
	pe = sim_peer_get(p, domid);
	if (!pe) {
		st = GNTST_bad_domain;
		goto out;
	}
	st = sim_grant_acquire(p, pe, ref, writable, &frame);
	if (st != GNTST_okay)
		goto out;
	mp = calloc(1, sizeof(*mp));
	addr = mp ? mmap(NULL, PAGE, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
			 pe->mem_fd, (off_t)frame * PAGE) : MAP_FAILED;
	if (addr == MAP_FAILED) {
		int e = mp ? errno : ENOMEM;

		sim_grant_release(pe, ref, writable);
		free(mp);
		pthread_mutex_unlock(&p->lock);
		if (gntst)
			*gntst = GNTST_general_error;
		errno = e;
		return NULL;
	}
	mp->addr = addr;
	mp->peer = pe;
	mp->ref = ref;
	mp->writable = writable;
	mp->next = g->maps;
	g->maps = mp;
	pe->maps++;
out:
	pthread_mutex_unlock(&p->lock);
	if (gntst)
		*gntst = st;
	if (st != GNTST_okay) {
		errno = EINVAL;
		return NULL;
	}
	return addr;
}

static int sim_gnttab_unmap(struct platform_gnttab *g, void *addr)
{
	struct sim_map **pp, *mp;
	int r = -EINVAL;

	pthread_mutex_lock(&g->p->lock);
	for (pp = &g->maps; (mp = *pp); pp = &mp->next) {
		if (mp->addr == addr) {
			*pp = mp->next;
			sim_map_drop(mp);
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&g->p->lock);
	return r;
}

/* ---- sharing (the granting guest kernel's side) ------------------------ */

static struct platform_gntshr *sim_gntshr_open(struct platform *p)
{
	struct platform_gntshr *s;

	if (p->attached) {
		/* Peers map the first registrant's grant table, not ours. */
		errno = EOPNOTSUPP;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->p = p;
	return s;
}

/* gnttab_end_foreign_access_ref(): 0, or -EBUSY while in use. */
static int sim_grant_end(struct platform *p, uint32_t ref)
{
	uint32_t *w = sim_ent_word(&p->gt[ref]);
	uint32_t cur = __atomic_load_n(w, __ATOMIC_ACQUIRE);

	do {
		if (cur & (GTF_reading | GTF_writing))
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(w, &cur, cur & 0xffff0000u, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return 0;
}

static void sim_grant_publish(struct platform *p, uint32_t ref, uint16_t domid, uint32_t frame,
			      bool writable)
{
	struct grant_entry_v1 *e = &p->gt[ref];

	e->domid = domid;
	e->frame = frame;
	__atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access | (writable ? 0 : GTF_readonly)),
			 __ATOMIC_RELEASE);
}

/* Free a share's pages and refs (all grants already ended). */
static void sim_share_free(struct platform *p, struct sim_share *sh)
{
	size_t first = (size_t)(sh->addr - p->mem) / PAGE;

	for (unsigned i = 0; i < sh->count; i++) {
		p->ref_used[sh->refs[i]] = 0;
		p->page_used[first + i] = 0;
	}
	free(sh->ended);
	free(sh);
}

static void sim_gntshr_close(struct platform_gntshr *s)
{
	struct platform *p;

	if (!s)
		return;
	p = s->p;
	pthread_mutex_lock(&p->lock);
	while (s->shares) {
		struct sim_share *sh = s->shares;
		bool busy = false;

		s->shares = sh->next;
		for (unsigned i = 0; i < sh->count; i++)
			if (!sh->ended[i] && sim_grant_end(p, sh->refs[i]) < 0)
				busy = true;
		if (busy) {
			/* Still mapped by the peer: pages and refs stay reserved, as Linux defers. */
			free(sh->ended);
			free(sh);
		} else {
			sim_share_free(p, sh);
		}
	}
	pthread_mutex_unlock(&p->lock);
	free(s);
}

static void *sim_gntshr_share(struct platform_gntshr *s, uint16_t domid, unsigned count,
			      uint32_t *refs, bool writable)
{
	struct platform *p = s->p;
	struct sim_share *sh;
	unsigned first = 0, run = 0, i, r, got = 0;

	if (count == 0 || count > p->npages || domid >= DOMID_FIRST_RESERVED) {
		errno = EINVAL;
		return NULL;
	}
	sh = calloc(1, sizeof(*sh) + count * sizeof(uint32_t));
	if (!sh || !(sh->ended = calloc(count, sizeof(bool)))) {
		free(sh);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->npages && run < count; i++) {
		if (p->page_used[i])
			run = 0;
		else if (run++ == 0)
			first = i;
	}
	if (run < count)
		goto nospace;
	for (r = NR_RESERVED_REFS; r < p->nr_ents && got < count; r++)
		if (!p->ref_used[r])
			sh->refs[got++] = r;
	if (got < count)
		goto nospace;
	sh->addr = p->mem + (size_t)first * PAGE;
	sh->count = count;
	memset(sh->addr, 0, (size_t)count * PAGE);
	for (i = 0; i < count; i++) {
		p->page_used[first + i] = 1;
		p->ref_used[sh->refs[i]] = 1;
		sim_grant_publish(p, sh->refs[i], domid, first + i, writable);
		refs[i] = sh->refs[i];
	}
	sh->next = s->shares;
	s->shares = sh;
	pthread_mutex_unlock(&p->lock);
	return sh->addr;
nospace:
	pthread_mutex_unlock(&p->lock);
	free(sh->ended);
	free(sh);
	errno = ENOSPC;
	return NULL;
}

static int sim_gntshr_fd(struct platform_gntshr *s)
{
	(void)s;
	return -1;  /* nothing to poll */
}

static int sim_gntshr_end_access(struct platform_gntshr *s, uint32_t ref)
{
	struct platform *p = s->p;
	int r = -ENOENT;

	pthread_mutex_lock(&p->lock);
	for (struct sim_share *sh = s->shares; sh; sh = sh->next) {
		for (unsigned i = 0; i < sh->count; i++) {
			if (sh->refs[i] != ref || sh->ended[i])
				continue;
			r = sim_grant_end(p, ref);
			if (r == 0)
				sh->ended[i] = true;
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

static int sim_gntshr_unshare(struct platform_gntshr *s, void *addr, unsigned count)
{
	struct platform *p = s->p;
	struct sim_share **pp, *sh;
	int r = -EINVAL;

	pthread_mutex_lock(&p->lock);
	for (pp = &s->shares; (sh = *pp); pp = &sh->next)
		if (sh->addr == addr && sh->count == count)
			break;
	if (sh) {
		uint16_t *saved = calloc(count, sizeof(*saved));
		unsigned i;

		if (!saved) {
			pthread_mutex_unlock(&p->lock);
			return -ENOMEM;
		}
		r = 0;
		for (i = 0; i < count; i++) {
			if (sh->ended[i])
				continue;
			saved[i] = __atomic_load_n(&p->gt[sh->refs[i]].flags, __ATOMIC_RELAXED);
			if (sim_grant_end(p, sh->refs[i]) < 0) {
				r = -EBUSY;
				break;
			}
		}
		if (r < 0) {
			/* All or nothing: re-grant what this call ended. */
			while (i-- > 0)
				if (!sh->ended[i])
					__atomic_store_n(&p->gt[sh->refs[i]].flags, saved[i],
							 __ATOMIC_RELEASE);
		} else {
			*pp = sh->next;
			sim_share_free(p, sh);
		}
		free(saved);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* ---- event channels ----------------------------------------------------- */

/* Take the notifications queued on an end: 1 if there were any, else 0. */
static int sim_evt_take(int fd)
{
	int got = 0;
	char c;

	/* A few at most (the peer's send buffer is the smallest there is); the
	 * bound only matters against a peer that enlarged it. */
	for (int i = 0; i < 64; i++) {
		if (recv(fd, &c, sizeof(c), MSG_DONTWAIT) >= 0) {
			got = 1;
			continue;
		}
		/* ECONNRESET: a hostile peer reconnected its end; reported once. */
		if (errno != EINTR && errno != ECONNRESET)
			break;
	}
	return got;
}

/*
 * Arm our registration of one of port's ends, for one report
 * (EPOLLONESHOT): the report is the port firing, and the end disarmed by it
 * is the port masked. Nothing to do while simd's own registration of the
 * end has not reported yet: it listens for us.
 */
static int sim_evt_arm(struct platform_evtchn *e, uint32_t port, struct sim_evt_end *end)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
				  .data.u64 = SIMD_EVT_DATA(end->id, port) };

	if (end->fd < 0 || end->first)
		return 0;
	if (!end->reg && epoll_ctl(e->ep, EPOLL_CTL_ADD, end->fd, &ev) == 0) {
		end->reg = true;
		return 0;
	}
	/* Registered by us, or EEXIST: simd's registration, disarmed by its
	 * report, happens to have our descriptor number (epoll knows an end
	 * by file and number); it is as good as ours. */
	if (!end->reg && errno != EEXIST)
		return -errno;
	end->reg = true;
	return epoll_ctl(e->ep, EPOLL_CTL_MOD, end->fd, &ev) < 0 ? -errno : 0;
}

/* Listen for the port (it is not masked). */
static int sim_evt_listen(struct platform_evtchn *e, uint32_t port)
{
	struct sim_evt_port *pt = &e->port[port];
	int r = sim_evt_arm(e, port, &pt->old), r2 = sim_evt_arm(e, port, &pt->cur);

	return r < 0 ? r : r2;
}

static void sim_evt_unregister(struct platform_evtchn *e, struct sim_evt_end *end)
{
	if (end->reg)
		epoll_ctl(e->ep, EPOLL_CTL_DEL, end->fd, NULL);
	end->reg = false;
}

static void sim_evt_end_close(struct platform_evtchn *e, struct sim_evt_end *end)
{
	if (end->fd < 0)
		return;
	sim_evt_unregister(e, end);
	close(end->fd);
	*end = (struct sim_evt_end){ .fd = -1 };
}

static struct sim_evt_end *sim_evt_end_find(struct sim_evt_port *pt, uint32_t id)
{
	if (pt->cur.fd >= 0 && pt->cur.id == id)
		return &pt->cur;
	if (pt->old.fd >= 0 && pt->old.id == id)
		return &pt->old;
	return NULL;
}

/*
 * A new channel for port: fd (with simd's id for it) becomes the end sends
 * go to. The end it replaces was revoked (simd binds a port again only
 * after its last channel closed) but may hold notifications we have not
 * taken, which Xen would keep pending: then it stays, as pt->old, until the
 * port fires. A third end with notifications adds nothing (they coalesce)
 * and is closed. first: simd registered the end in our epoll instance.
 */
static void sim_evt_install(struct platform_evtchn *e, uint32_t port, int fd, uint32_t id,
			    bool first)
{
	struct sim_evt_port *pt = &e->port[port];
	char c;

	if (pt->cur.fd >= 0) {
		if (pt->old.fd < 0 && recv(pt->cur.fd, &c, sizeof(c), MSG_PEEK | MSG_DONTWAIT) >= 0)
			pt->old = pt->cur;
		else
			sim_evt_end_close(e, &pt->cur);
	}
	pt->cur = (struct sim_evt_end){ .fd = fd, .id = id, .first = first && pt->fired != id };
	pt->fired = 0;
	if (!pt->masked)
		sim_evt_listen(e, port);
}

/*
 * Take the channel ends simd sent on the handle's event socket (the other
 * side bound one of our ports); the number taken. Each names the
 * incarnation of our binding of the port: one for a port we have closed
 * since, its number maybe reused, is closed unused.
 */
static unsigned sim_evt_read_events(struct platform_evtchn *e)
{
	unsigned got = 0;

	/* Bounded by what simd can queue; the constant only guards the loop. */
	for (unsigned i = 0; e->ev >= 0 && i < 4 * SIMD_MAX_PORTS; i++) {
		struct simd_msg m;
		int fds[SIMD_MAX_FDS];
		unsigned n;
		int r = simd_msg_recv(e->ev, &m, fds, &n);
		uint32_t port;

		if (r == -EAGAIN)
			break;
		if (r == -EBADMSG)
			continue;
		if (r < 0) {
			close(e->ev);  /* simd is gone: nothing more will come */
			e->ev = -1;
			break;
		}
		got++;
		port = m.arg[0];
		if (m.op == SIMD_OP_EVTCHN_CHANNEL && n == 1 && port > 0 && port < SIMD_MAX_PORTS &&
		    e->port[port].bound && e->port[port].inc == m.arg[1]) {
			sim_evt_install(e, port, fds[0], m.arg[2], true);
			continue;
		}
		sim_fds_close(fds, n);
	}
	return got;
}

/*
 * Be up to date with the channels simd made for our ports. Normally that is
 * reading the event socket; only if we let it fill up does simd keep ends
 * back (its count is on the shared page), and then we ask for them.
 */
static void sim_evt_events(struct platform_evtchn *e)
{
	sim_evt_read_events(e);
	for (int i = 0; i < 64 && e->ev >= 0 && __atomic_load_n(e->kept, __ATOMIC_ACQUIRE); i++) {
		struct simd_msg m = { .op = SIMD_OP_EVTCHN_FLUSH, .arg = { e->handle } };
		int r;

		pthread_mutex_lock(&e->p->lock);
		r = sim_call(e->p, &m, NULL, 0, NULL, NULL);
		pthread_mutex_unlock(&e->p->lock);
		if (r < 0 || sim_evt_read_events(e) == 0)
			break;
	}
}

static void sim_evt_port_drop(struct platform_evtchn *e, uint32_t port)
{
	struct sim_evt_port *pt = &e->port[port];

	sim_evt_end_close(e, &pt->old);
	sim_evt_end_close(e, &pt->cur);
	pt->bound = false;
	pt->masked = false;
	pt->fired = 0;
}

static void sim_evt_free(struct platform_evtchn *e)
{
	for (uint32_t port = 1; port < SIMD_MAX_PORTS; port++)
		sim_evt_port_drop(e, port);
	if (e->ev >= 0)
		close(e->ev);
	if (e->ep >= 0)
		close(e->ep);
	if (e->kept != MAP_FAILED)
		munmap((void *)e->kept, SIMD_PAGE_SIZE);
	free(e);
}

static struct platform_evtchn *sim_evtchn_open(struct platform *p)
{
	struct platform_evtchn *e = calloc(1, sizeof(*e));
	struct simd_msg m = { .op = SIMD_OP_EVTCHN_OPEN };
	int fds[3];
	unsigned n = 3;
	int r;

	if (!e)
		return NULL;
	e->p = p;
	e->only_domid = -1;
	e->kept = MAP_FAILED;
	for (uint32_t port = 0; port < SIMD_MAX_PORTS; port++)
		e->port[port].cur.fd = e->port[port].old.fd = -1;
	pthread_mutex_lock(&p->lock);
	r = sim_call(p, &m, NULL, 0, fds, &n);
	pthread_mutex_unlock(&p->lock);
	if (r < 0) {
		free(e);
		errno = -r;
		return NULL;
	}
	e->handle = m.arg[0];
	e->ep = fds[0];
	e->ev = fds[1];
	e->kept = mmap(NULL, SIMD_PAGE_SIZE, PROT_READ, MAP_SHARED, fds[2], 0);
	close(fds[2]);
	if (e->kept == MAP_FAILED) {
		struct simd_msg c = { .op = SIMD_OP_EVTCHN_CLOSE, .arg = { e->handle } };

		r = errno;
		pthread_mutex_lock(&p->lock);
		sim_call(p, &c, NULL, 0, NULL, NULL);
		pthread_mutex_unlock(&p->lock);
		sim_evt_free(e);
		errno = r;
		return NULL;
	}
	return e;
}

static void sim_evtchn_close(struct platform_evtchn *e)
{
	struct simd_msg m = { .op = SIMD_OP_EVTCHN_CLOSE };
	struct platform *p;

	if (!e)
		return;
	p = e->p;
	/* simd first: once it has revoked the channels and dropped its copies,
	 * closing our ends releases them, and with them every registration. */
	m.arg[0] = e->handle;
	pthread_mutex_lock(&p->lock);
	sim_call(p, &m, NULL, 0, NULL, NULL);
	pthread_mutex_unlock(&p->lock);
	sim_evt_free(e);
}

static int sim_evtchn_fd(struct platform_evtchn *e)
{
	return e->ep;
}

/* ALLOC_UNBOUND or BIND (m), and the new port's local state: the port or -errno. */
static int sim_evtchn_bind_common(struct platform_evtchn *e, struct simd_msg *m)
{
	bool bind = m->op == SIMD_OP_EVTCHN_BIND;
	unsigned n = bind ? 1 : 0;
	int end = -1, r;
	uint32_t port;

	pthread_mutex_lock(&e->p->lock);
	r = sim_call(e->p, m, NULL, 0, &end, &n);
	pthread_mutex_unlock(&e->p->lock);
	if (r < 0)
		return r;
	port = m->arg[0];
	if (port == 0 || port >= SIMD_MAX_PORTS) {
		if (end >= 0)
			close(end);
		return -EPROTO;
	}
	sim_evt_port_drop(e, port);  /* nothing there unless simd and we disagree */
	e->port[port].bound = true;
	e->port[port].inc = m->arg[1];
	if (bind)
		sim_evt_install(e, port, end, m->arg[2], false);  /* pending: simd sent one */
	return (int)port;
}

static int sim_evtchn_alloc_unbound(struct platform_evtchn *e, uint16_t remote_domid)
{
	struct simd_msg m = { .op = SIMD_OP_EVTCHN_ALLOC_UNBOUND,
			      .arg = { e->handle, remote_domid } };

	if (e->only_domid >= 0 && e->only_domid != remote_domid)
		return -EPERM;
	return sim_evtchn_bind_common(e, &m);
}

static int sim_evtchn_restrict(struct platform_evtchn *e, uint16_t domid)
{
	/* Like the evtchn device, once only: a second call cannot widen it. */
	if (e->only_domid >= 0 && e->only_domid != domid)
		return -EPERM;
	e->only_domid = domid;
	return 0;
}

static int sim_evtchn_bind_interdomain(struct platform_evtchn *e, uint16_t remote_domid,
				       uint32_t remote_port)
{
	struct simd_msg m = { .op = SIMD_OP_EVTCHN_BIND,
			      .arg = { e->handle, remote_domid, remote_port } };

	if (e->only_domid >= 0 && e->only_domid != remote_domid)
		return -EPERM;
	return sim_evtchn_bind_common(e, &m);
}

static int sim_evtchn_notify(struct platform_evtchn *e, uint32_t port)
{
	struct sim_evt_port *pt;

	if (port >= SIMD_MAX_PORTS || !e->port[port].bound)
		return -ENOTCONN;  /* as the Linux evtchn device */
	pt = &e->port[port];
	if (pt->cur.fd < 0)
		sim_evt_events(e);  /* has the other side bound it since we looked? */
	for (int tries = 0; pt->cur.fd >= 0 && tries < 3; tries++) {
		int fd = pt->cur.fd;

		/* EAGAIN: the peer has its fill queued already, and one pending
		 * notification is as good as many. */
		if (send(fd, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL) == 0 || errno == EAGAIN)
			return 0;
		if (errno == EINTR)
			continue;
		/* EPIPE: the channel was revoked; a newer one may be waiting. */
		sim_evt_events(e);
		if (pt->cur.fd == fd)
			break;
	}
	return 0;  /* unbound or closed by the peer: dropped, as Xen drops it */
}

static int sim_evtchn_pending(struct platform_evtchn *e)
{
	/* A pass that returns nothing consumed a report, so this only guards. */
	for (unsigned pass = 0; pass < 2 * SIMD_MAX_PORTS; pass++) {
		struct epoll_event ev;
		struct sim_evt_port *pt;
		struct sim_evt_end *end;
		uint32_t port, id;
		bool first;
		int n = epoll_wait(e->ep, &ev, 1, 0), got = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EAGAIN;
		port = (uint32_t)ev.data.u64 & ~SIMD_EVT_FIRST;
		id = (uint32_t)(ev.data.u64 >> 32);
		first = ev.data.u64 & SIMD_EVT_FIRST;
		if (port >= SIMD_MAX_PORTS || !e->port[port].bound)
			continue;  /* a port closed since */
		pt = &e->port[port];
		end = sim_evt_end_find(pt, id);
		if (!end && first) {
			sim_evt_events(e);  /* the end simd announced: read it now */
			end = sim_evt_end_find(pt, id);
		}
		if (!end) {
			if (first)
				pt->fired = id;  /* kept back by simd: we listen when it comes */
			continue;
		}
		if (first)
			end->first = false;  /* from now on we listen to it ourselves */
		if (pt->masked)
			continue;  /* a new channel's first report while masked: it waits */
		/* Take everything the port has: one event, however many ends. */
		if (pt->old.fd >= 0) {
			got = sim_evt_take(pt->old.fd);
			sim_evt_end_close(e, &pt->old);  /* revoked and now empty */
		}
		if (pt->cur.fd >= 0)
			got |= sim_evt_take(pt->cur.fd);
		if (got) {
			/* Fired: masked until unmask. The reported end is disarmed;
			 * if it was the old one, the current one must not report. */
			if (end != &pt->cur)
				sim_evt_unregister(e, &pt->cur);
			pt->masked = true;
			return (int)port;
		}
		sim_evt_listen(e, port);  /* a spurious report: listen again */
	}
	return -EAGAIN;
}

static int sim_evtchn_unmask(struct platform_evtchn *e, uint32_t port)
{
	struct sim_evt_port *pt;

	if (port >= SIMD_MAX_PORTS || !e->port[port].bound)
		return 0;  /* the Linux evtchn device ignores unknown ports */
	pt = &e->port[port];
	if (!pt->masked)
		return 0;
	pt->masked = false;
	/* Re-armed, an end with notifications queued while masked reports at
	 * once, and only once however many there are. */
	return sim_evt_listen(e, port);
}

static int sim_evtchn_unbind(struct platform_evtchn *e, uint32_t port)
{
	struct simd_msg m = { .op = SIMD_OP_EVTCHN_UNBIND, .arg = { e->handle, port } };
	int r;

	if (port >= SIMD_MAX_PORTS || !e->port[port].bound)
		return -ENOTCONN;
	/* simd first, as in close; the port takes nothing more either way. */
	pthread_mutex_lock(&e->p->lock);
	r = sim_call(e->p, &m, NULL, 0, NULL, NULL);
	pthread_mutex_unlock(&e->p->lock);
	sim_evt_port_drop(e, port);
	return r < 0 ? r : 0;
}

static int sim_evtchn_status(struct platform_evtchn *e, uint32_t port, uint16_t *remote_domid,
			     uint32_t *remote_port)
{
	struct simd_msg m = { .op = SIMD_OP_EVTCHN_STATUS, .arg = { port } };
	int r;

	pthread_mutex_lock(&e->p->lock);
	r = sim_call(e->p, &m, NULL, 0, NULL, NULL);
	pthread_mutex_unlock(&e->p->lock);
	if (r < 0)
		return r;
	if (remote_domid)
		*remote_domid = (uint16_t)m.arg[1];
	if (remote_port)
		*remote_port = m.arg[2];
	return (int)m.arg[0];
}

/* ---- XenStore ------------------------------------------------------------ */

static struct platform_xs *sim_xs_open(struct platform *p)
{
	struct platform_xs *x = calloc(1, sizeof(*x));
	char path[PATH_MAX];
	int r = 0;

	if (!x)
		return NULL;
	x->p = p;
	if (p->domid == 0) {
		snprintf(path, sizeof(path), "%s/%s", p->dir, SIMD_XS_SOCK_NAME);
		x->c = xs_client_open_path(path);
		if (!x->c)
			r = -errno;
	} else {
		struct simd_msg m = { .op = SIMD_OP_XS_CONNECT };
		int fd;
		unsigned n = 1;

		pthread_mutex_lock(&p->lock);
		r = sim_call(p, &m, NULL, 0, &fd, &n);
		pthread_mutex_unlock(&p->lock);
		if (r >= 0) {
			x->c = xs_client_open_fd(fd);  /* takes fd, even on failure */
			if (!x->c)
				r = -errno;
		}
	}
	if (r < 0) {
		free(x);
		errno = -r;
		return NULL;
	}
	return x;
}

static void sim_xs_close(struct platform_xs *x)
{
	if (!x)
		return;
	xs_client_close(x->c);
	free(x);
}

static int sim_xs_fd(struct platform_xs *x)
{
	return xs_client_fd(x->c);
}

static int sim_xs_read(struct platform_xs *x, uint32_t txid, const char *path, char **val,
		       size_t *len)
{
	return xs_client_read(x->c, txid, path, val, len);
}

static int sim_xs_write(struct platform_xs *x, uint32_t txid, const char *path,
			const void *val, size_t len)
{
	return xs_client_write(x->c, txid, path, val, len);
}

static int sim_xs_mkdir(struct platform_xs *x, uint32_t txid, const char *path)
{
	return xs_client_mkdir(x->c, txid, path);
}

static int sim_xs_rm(struct platform_xs *x, uint32_t txid, const char *path)
{
	return xs_client_rm(x->c, txid, path);
}

static int sim_xs_directory(struct platform_xs *x, uint32_t txid, const char *path,
			    char ***names, unsigned *n)
{
	return xs_client_directory(x->c, txid, path, names, n);
}

static int sim_xs_get_perms(struct platform_xs *x, uint32_t txid, const char *path,
			    struct platform_xs_perm **perms, unsigned *n)
{
	return xs_wire_get_perms(x->c, txid, path, perms, n);
}

static int sim_xs_set_perms(struct platform_xs *x, uint32_t txid, const char *path,
			    const struct platform_xs_perm *perms, unsigned n)
{
	return xs_wire_set_perms(x->c, txid, path, perms, n);
}

static int sim_xs_watch(struct platform_xs *x, const char *path, const char *token)
{
	return xs_client_watch(x->c, path, token);
}

static int sim_xs_unwatch(struct platform_xs *x, const char *path, const char *token)
{
	return xs_client_unwatch(x->c, path, token);
}

static int sim_xs_read_watch(struct platform_xs *x, char **path, char **token)
{
	pthread_mutex_lock(&x->p->lock);
	sim_peers_prune(x->p);
	pthread_mutex_unlock(&x->p->lock);
	return xs_client_read_watch(x->c, path, token);
}

static int sim_xs_transaction_start(struct platform_xs *x, uint32_t *txid)
{
	return xs_client_transaction_start(x->c, txid);
}

static int sim_xs_transaction_end(struct platform_xs *x, uint32_t txid, bool commit)
{
	return xs_client_transaction_end(x->c, txid, commit);
}

/* ---- test hooks ------------------------------------------------------------ */

struct grant_entry_v1 *platform_sim_grant_table(struct platform *p, unsigned *n)
{
	*n = p->nr_ents;
	return p->gt;
}

unsigned platform_sim_pages(struct platform *p)
{
	return p->npages;
}

int platform_sim_peer_grants(struct platform *p, uint16_t domid)
{
	struct sim_peer *pe;
	int n = 0;

	pthread_mutex_lock(&p->lock);
	pe = sim_peer_get(p, domid);
	if (!pe)
		n = -ESRCH;
	for (unsigned r = 0; pe && r < pe->nr_ents; r++) {
		uint32_t w = __atomic_load_n(sim_ent_word(&pe->gt[r]), __ATOMIC_ACQUIRE);

		if ((w & GTF_type_mask) == GTF_permit_access && (uint16_t)(w >> 16) == p->domid)
			n++;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

int platform_sim_ctl_fd(struct platform *p)
{
	return p->ctl;
}

uint32_t platform_sim_evtchn_handle(struct platform_evtchn *e)
{
	return e->handle;
}

const struct platform_ops platform_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.domid = sim_domid,
	.gnttab_open = sim_gnttab_open,
	.gnttab_close = sim_gnttab_close,
	.gnttab_fd = sim_gnttab_fd,
	.gnttab_copy = sim_gnttab_copy,
	.gnttab_map = sim_gnttab_map,
	.gnttab_unmap = sim_gnttab_unmap,
	.gntshr_open = sim_gntshr_open,
	.gntshr_close = sim_gntshr_close,
	.gntshr_fd = sim_gntshr_fd,
	.gntshr_share = sim_gntshr_share,
	.gntshr_end_access = sim_gntshr_end_access,
	.gntshr_unshare = sim_gntshr_unshare,
	.evtchn_open = sim_evtchn_open,
	.evtchn_close = sim_evtchn_close,
	.evtchn_fd = sim_evtchn_fd,
	.evtchn_alloc_unbound = sim_evtchn_alloc_unbound,
	.evtchn_bind_interdomain = sim_evtchn_bind_interdomain,
	.evtchn_notify = sim_evtchn_notify,
	.evtchn_pending = sim_evtchn_pending,
	.evtchn_unmask = sim_evtchn_unmask,
	.evtchn_unbind = sim_evtchn_unbind,
	.evtchn_status = sim_evtchn_status,
	.evtchn_restrict = sim_evtchn_restrict,
	.xs_open = sim_xs_open,
	.xs_close = sim_xs_close,
	.xs_fd = sim_xs_fd,
	.xs_read = sim_xs_read,
	.xs_write = sim_xs_write,
	.xs_mkdir = sim_xs_mkdir,
	.xs_rm = sim_xs_rm,
	.xs_directory = sim_xs_directory,
	.xs_get_perms = sim_xs_get_perms,
	.xs_set_perms = sim_xs_set_perms,
	.xs_watch = sim_xs_watch,
	.xs_unwatch = sim_xs_unwatch,
	.xs_read_watch = sim_xs_read_watch,
	.xs_transaction_start = sim_xs_transaction_start,
	.xs_transaction_end = sim_xs_transaction_end,
};
