/* SPDX-License-Identifier: MIT */
/*
 * xen.c - the 'xen' platform: the ops table over Xen's own userspace
 * libraries (Debian libxen-dev): libxengnttab (grant copy, map, and the
 * gntalloc side, xengntshr), libxenevtchn, and libxenctrl for the one
 * query the others lack (event-channel status, dom0 only). XenStore is
 * our own client of its wire protocol (see the XenStore section).
 *
 * Theory of operation: every op is a thin call; what needs care is the
 * translation of errors to the platform's 0 / -errno convention, and the
 * grant-copy batch, which is handed to xengnttab_grant_copy() as it is:
 * struct engine_copy_seg has xengnttab_grant_copy_segment_t's layout
 * (checked below at compile time), so no per-segment translation happens
 * on the data path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "platform.h"
#include "xen.h"
#include "xs_client.h"
#include "xs_wire.h"

#define SEG_SAME(f) (offsetof(struct engine_copy_seg, f) == \
		     offsetof(xengnttab_grant_copy_segment_t, f))
_Static_assert(sizeof(struct engine_copy_seg) == sizeof(xengnttab_grant_copy_segment_t) &&
	       SEG_SAME(source.foreign.ref) && SEG_SAME(source.foreign.offset) &&
	       SEG_SAME(source.foreign.domid) && SEG_SAME(dest.virt) && SEG_SAME(len) &&
	       SEG_SAME(flags) && SEG_SAME(status),
	       "engine_copy_seg must match xengnttab_grant_copy_segment_t");

struct platform {
	unsigned domid;
	xc_interface *xc;  /* for evtchn_status; NULL outside dom0 */
};

struct platform_gnttab {
	xengnttab_handle *h;
};

struct platform_gntshr {
	xengntshr_handle *h;
};

struct platform_evtchn {
	struct platform *p;
	xenevtchn_handle *h;
};

struct platform_xs {
	struct xs_client *c;
};

static struct xs_client *xs_connect(void);

/* Our own domid: XenStore's relative `domid` node, written by the toolstack. */
static int read_own_domid(unsigned *domid)
{
	struct xs_client *c = xs_connect();
	char *val = NULL;
	int rc;

	if (!c)
		return -errno;
	rc = xs_client_read(c, 0, "domid", &val, NULL);
	if (rc == 0) {
		char *end;
		unsigned long v = strtoul(val, &end, 10);

		rc = -ENOENT;
		if (end != val && *end == '\0' && v < DOMID_FIRST_RESERVED) {
			*domid = (unsigned)v;
			rc = 0;
		}
		free(val);
	}
	xs_client_close(c);
	return rc;
}

static struct platform *xen_open(int want_domid)
{
	struct platform *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return NULL;
	rc = read_own_domid(&p->domid);
	if (rc) {
		free(p);
		errno = -rc;
		return NULL;
	}
	if (want_domid != PLATFORM_DOMID_ANY && (unsigned)want_domid != p->domid) {
		free(p);
		errno = EPERM; /* on real Xen we are who we are */
		return NULL;
	}
	if (p->domid == 0)
		p->xc = xc_interface_open(NULL, NULL, 0);
	return p;
}

static void xen_close(struct platform *p)
{
	if (!p)
		return;
	if (p->xc)
		xc_interface_close(p->xc);
	free(p);
}

static unsigned xen_domid(const struct platform *p)
{
	return p->domid;
}

/* ---- grants, foreign side ---------------------------------------------- */

static struct platform_gnttab *xen_gnttab_open(struct platform *p)
{
	struct platform_gnttab *g = calloc(1, sizeof(*g));

	(void)p;
	if (!g)
		return NULL;
	g->h = xengnttab_open(NULL, 0);
	if (!g->h) {
		int e = errno;

		free(g);
		errno = e;
		return NULL;
	}
	return g;
}

static void xen_gnttab_close(struct platform_gnttab *g)
{
	if (!g)
		return;
	xengnttab_close(g->h);
	free(g);
}

static int xen_gnttab_copy(struct platform_gnttab *g, struct engine_copy_seg *segs, unsigned n)
{
	int rc;

	if (n == 0)
		return 0;
	if (xengnttab_grant_copy(g->h, n, (xengnttab_grant_copy_segment_t *)segs) == 0)
		return 0;
	/*
	 * gntdev copies in chunks and writes each chunk's statuses as it goes:
	 * a call that fails part way leaves some segments reading okay and the
	 * rest whatever they were. Trust none of them (the contract: a failed
	 * call fails every segment).
	 */
	rc = -errno;
	for (unsigned i = 0; i < n; i++)
		segs[i].status = GNTST_general_error;
	return rc;
}

static void *xen_gnttab_map(struct platform_gnttab *g, uint16_t domid, uint32_t ref,
			    bool writable, int16_t *gntst)
{
	void *addr = xengnttab_map_grant_ref(g->h, domid, ref,
					     PROT_READ | (writable ? PROT_WRITE : 0));

	if (gntst)
		*gntst = addr ? GNTST_okay : GNTST_general_error; /* gntdev reports no code */
	return addr;
}

static int xen_gnttab_unmap(struct platform_gnttab *g, void *addr)
{
	return xengnttab_unmap(g->h, addr, 1) ? -errno : 0;
}

/* ---- grants, granting side (gntalloc) ---------------------------------- */

static struct platform_gntshr *xen_gntshr_open(struct platform *p)
{
	struct platform_gntshr *s = calloc(1, sizeof(*s));

	(void)p;
	if (!s)
		return NULL;
	s->h = xengntshr_open(NULL, 0);
	if (!s->h) {
		int e = errno;

		free(s);
		errno = e;
		return NULL;
	}
	return s;
}

static void xen_gntshr_close(struct platform_gntshr *s)
{
	if (!s)
		return;
	xengntshr_close(s->h);
	free(s);
}

static void *xen_gntshr_share(struct platform_gntshr *s, uint16_t domid, unsigned count,
			      uint32_t *refs, bool writable)
{
	return xengntshr_share_pages(s->h, domid, (int)count, refs, writable);
}

/*
 * gntalloc has no per-grant end of access: a page's grant ends when it is
 * unshared, and the kernel defers the release while the peer maps it.
 */
static int xen_gntshr_end_access(struct platform_gntshr *s, uint32_t ref)
{
	(void)s;
	(void)ref;
	return -EOPNOTSUPP;
}

static int xen_gntshr_unshare(struct platform_gntshr *s, void *addr, unsigned count)
{
	return xengntshr_unshare(s->h, addr, count) ? -errno : 0;
}

/* ---- event channels ---------------------------------------------------- */

static struct platform_evtchn *xen_evtchn_open(struct platform *p)
{
	struct platform_evtchn *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->p = p;
	e->h = xenevtchn_open(NULL, 0);
	if (!e->h) {
		int err = errno;

		free(e);
		errno = err;
		return NULL;
	}
	/*
	 * xenevtchn_pending() is a read() on this fd: blocking by default. The
	 * loop drains it until -EAGAIN, so it must not block (the 'sim' fd
	 * behaves the same way).
	 */
	fcntl(xenevtchn_fd(e->h), F_SETFL, fcntl(xenevtchn_fd(e->h), F_GETFL) | O_NONBLOCK);
	return e;
}

static void xen_evtchn_close(struct platform_evtchn *e)
{
	if (!e)
		return;
	xenevtchn_close(e->h);
	free(e);
}

static int xen_evtchn_fd(struct platform_evtchn *e)
{
	return xenevtchn_fd(e->h);
}

static int xen_evtchn_alloc_unbound(struct platform_evtchn *e, uint16_t remote_domid)
{
	xenevtchn_port_or_error_t port = xenevtchn_bind_unbound_port(e->h, remote_domid);

	return port < 0 ? -errno : (int)port;
}

static int xen_evtchn_bind_interdomain(struct platform_evtchn *e, uint16_t remote_domid,
				       uint32_t remote_port)
{
	xenevtchn_port_or_error_t port = xenevtchn_bind_interdomain(e->h, remote_domid, remote_port);

	return port < 0 ? -errno : (int)port;
}

static int xen_evtchn_notify(struct platform_evtchn *e, uint32_t port)
{
	return xenevtchn_notify(e->h, port) ? -errno : 0;
}

static int xen_evtchn_pending(struct platform_evtchn *e)
{
	xenevtchn_port_or_error_t port = xenevtchn_pending(e->h);

	return port < 0 ? -EAGAIN : (int)port;
}

static int xen_evtchn_unmask(struct platform_evtchn *e, uint32_t port)
{
	return xenevtchn_unmask(e->h, port) ? -errno : 0;
}

static int xen_evtchn_unbind(struct platform_evtchn *e, uint32_t port)
{
	return xenevtchn_unbind(e->h, port) ? -errno : 0;
}

static int xen_evtchn_restrict(struct platform_evtchn *e, uint16_t domid)
{
	if (xenevtchn_restrict(e->h, domid) < 0)
		return -errno;
	/* A confined process keeps no privcmd: it could reach any domain. */
	if (e->p->xc) {
		xc_interface_close(e->p->xc);
		e->p->xc = NULL;
	}
	return 0;
}

static int xen_evtchn_status(struct platform_evtchn *e, uint32_t port, uint16_t *remote_domid,
			     uint32_t *remote_port)
{
	xc_evtchn_status_t st = { .dom = DOMID_SELF, .port = port };

	if (!e->p->xc)
		return -EOPNOTSUPP;
	if (xc_evtchn_status(e->p->xc, &st) < 0)
		return -errno;
	if (st.status == EVTCHNSTAT_interdomain) {
		if (remote_domid)
			*remote_domid = st.u.interdomain.dom;
		if (remote_port)
			*remote_port = st.u.interdomain.port;
	}
	return (int)st.status;
}

/* ---- XenStore ---------------------------------------------------------- */

/*
 * Our own wire-protocol client (xs_client.h), not libxenstore: its reader
 * thread queues every watch event a guest's writes cause, without bound,
 * while xs_client's queue is bounded and merges events per node. The same
 * places libxenstore looks: xenstored's socket ($XENSTORED_PATH, as
 * libxenstore reads it), else the kernel's xenbus device, which is what a
 * guest or a driver domain has.
 */
#define XEN_XS_SOCKET "/run/xenstored/socket"
#define XEN_XS_DEVICE "/dev/xen/xenbus"

static struct xs_client *xs_connect(void)
{
	const char *sock = getenv("XENSTORED_PATH");
	struct xs_client *c = xs_client_open_path(sock && *sock ? sock : XEN_XS_SOCKET);
	int fd;

	if (c)
		return c;
	fd = open(XEN_XS_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	return xs_client_open_fd(fd); /* takes fd, even on failure */
}

static struct platform_xs *xen_xs_open(struct platform *p)
{
	struct platform_xs *x = calloc(1, sizeof(*x));

	(void)p;
	if (!x)
		return NULL;
	x->c = xs_connect();
	if (!x->c) {
		int e = errno;

		free(x);
		errno = e;
		return NULL;
	}
	return x;
}

static void xen_xs_close(struct platform_xs *x)
{
	if (!x)
		return;
	xs_client_close(x->c);
	free(x);
}

static int xen_xs_fd(struct platform_xs *x)
{
	return xs_client_fd(x->c);
}

static int xen_xs_read(struct platform_xs *x, uint32_t txid, const char *path, char **val,
		       size_t *len)
{
	return xs_client_read(x->c, txid, path, val, len);
}

static int xen_xs_write(struct platform_xs *x, uint32_t txid, const char *path, const void *val,
			size_t len)
{
	return xs_client_write(x->c, txid, path, val, len);
}

static int xen_xs_mkdir(struct platform_xs *x, uint32_t txid, const char *path)
{
	return xs_client_mkdir(x->c, txid, path);
}

static int xen_xs_rm(struct platform_xs *x, uint32_t txid, const char *path)
{
	return xs_client_rm(x->c, txid, path);
}

static int xen_xs_directory(struct platform_xs *x, uint32_t txid, const char *path,
			    char ***names, unsigned *n)
{
	return xs_client_directory(x->c, txid, path, names, n);
}

static int xen_xs_get_perms(struct platform_xs *x, uint32_t txid, const char *path,
			    struct platform_xs_perm **perms, unsigned *n)
{
	return xs_wire_get_perms(x->c, txid, path, perms, n);
}

static int xen_xs_set_perms(struct platform_xs *x, uint32_t txid, const char *path,
			    const struct platform_xs_perm *perms, unsigned n)
{
	return xs_wire_set_perms(x->c, txid, path, perms, n);
}

static int xen_xs_watch(struct platform_xs *x, const char *path, const char *token)
{
	return xs_client_watch(x->c, path, token);
}

static int xen_xs_unwatch(struct platform_xs *x, const char *path, const char *token)
{
	return xs_client_unwatch(x->c, path, token);
}

static int xen_xs_read_watch(struct platform_xs *x, char **path, char **token)
{
	return xs_client_read_watch(x->c, path, token);
}

static int xen_xs_transaction_start(struct platform_xs *x, uint32_t *txid)
{
	return xs_client_transaction_start(x->c, txid);
}

static int xen_xs_transaction_end(struct platform_xs *x, uint32_t txid, bool commit)
{
	return xs_client_transaction_end(x->c, txid, commit);
}

const struct platform_ops platform_xen_ops = {
	.name = "xen",
	.open = xen_open,
	.close = xen_close,
	.domid = xen_domid,
	.gnttab_open = xen_gnttab_open,
	.gnttab_close = xen_gnttab_close,
	.gnttab_copy = xen_gnttab_copy,
	.gnttab_map = xen_gnttab_map,
	.gnttab_unmap = xen_gnttab_unmap,
	.gntshr_open = xen_gntshr_open,
	.gntshr_close = xen_gntshr_close,
	.gntshr_share = xen_gntshr_share,
	.gntshr_end_access = xen_gntshr_end_access,
	.gntshr_unshare = xen_gntshr_unshare,
	.evtchn_open = xen_evtchn_open,
	.evtchn_close = xen_evtchn_close,
	.evtchn_fd = xen_evtchn_fd,
	.evtchn_alloc_unbound = xen_evtchn_alloc_unbound,
	.evtchn_bind_interdomain = xen_evtchn_bind_interdomain,
	.evtchn_notify = xen_evtchn_notify,
	.evtchn_pending = xen_evtchn_pending,
	.evtchn_unmask = xen_evtchn_unmask,
	.evtchn_unbind = xen_evtchn_unbind,
	.evtchn_status = xen_evtchn_status,
	.evtchn_restrict = xen_evtchn_restrict,
	.xs_open = xen_xs_open,
	.xs_close = xen_xs_close,
	.xs_fd = xen_xs_fd,
	.xs_read = xen_xs_read,
	.xs_write = xen_xs_write,
	.xs_mkdir = xen_xs_mkdir,
	.xs_rm = xen_xs_rm,
	.xs_directory = xen_xs_directory,
	.xs_get_perms = xen_xs_get_perms,
	.xs_set_perms = xen_xs_set_perms,
	.xs_watch = xen_xs_watch,
	.xs_unwatch = xen_xs_unwatch,
	.xs_read_watch = xen_xs_read_watch,
	.xs_transaction_start = xen_xs_transaction_start,
	.xs_transaction_end = xen_xs_transaction_end,
};
