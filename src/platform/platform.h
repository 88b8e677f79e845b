/* SPDX-License-Identifier: MIT */
/* platform.h - the one interface between xnb's daemons and Xen (real or simulated). */
/*
 * Theory of operation
 * -------------------
 * Everything xnb needs from Xen goes through one const ops table, struct
 * platform_ops, chosen by name with platform_by_name(). Its shape follows the
 * Xen user-space libraries one to one, so that an implementation over them
 * (the 'xen' platform) and the simulator ('sim') are interchangeable:
 *
 *   session   open / close / domid   (the process's own domain)
 *   gnttab_*  libxengnttab: batch grant copy, map / unmap of one page
 *   gntshr_*  libxengntshr (gntalloc): share pages with a peer, end access
 *   evtchn_*  libxenevtchn: alloc unbound, bind interdomain, notify,
 *             pending + unmask, unbind, plus a status query (xc_evtchn_status)
 *   xs_*      XenStore (xs_client): read, write, mkdir, rm, directory, permissions,
 *             watches, transactions
 *
 * Every handle is opaque and exposes a file descriptor that becomes readable
 * when the handle has something to report, for the caller's epoll loop
 * (gnttab and gntshr never have anything to report: their fd, like
 * xengnttab_fd(), is only there for completeness and is -1 on 'sim').
 *
 * Conventions: functions returning int return 0 (or a non-negative value
 * documented below) on success and -errno on failure; functions returning a
 * pointer return NULL and set errno on failure. Grant copy reports per-segment
 * results with Xen's GNTST_* codes (<xen/grant_table.h>). Strings and arrays
 * handed back to the caller are malloc'd and freed by the caller with free()
 * (a directory listing is one allocation: free the array only).
 *
 * Handles are not thread-safe by themselves: use one handle per thread, or
 * serialise. The simulator's session is internally locked.
 */
#ifndef XNB_PLATFORM_H
#define XNB_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/copy.h"

/* Ask platform open() for any free guest domid. */
#define PLATFORM_DOMID_ANY (-1)

struct platform;          /* a session: this process as one domain */
struct platform_gnttab;   /* grant copy / map (xengnttab_handle) */
struct platform_gntshr;   /* page sharing (xengntshr_handle) */
struct platform_evtchn;   /* event channels (xenevtchn_handle) */
struct platform_xs;       /* XenStore connection (struct xs_handle) */

/* One XenStore permission entry: perm is 'n', 'r', 'w' or 'b'. */
struct platform_xs_perm {
	unsigned domid;
	char perm;
};

struct platform_ops {
	const char *name;

	/*
	 * Session. open() attaches this process to the platform as a domain:
	 * want_domid is 0 for the privileged dom0, a specific guest domid, or
	 * PLATFORM_DOMID_ANY for a fresh one (on real Xen the running domain's
	 * own id must match, or be ANY). Close every handle before close();
	 * on 'sim', close() (or the process's exit) is the domain's death.
	 */
	struct platform *(*open)(int want_domid);
	void (*close)(struct platform *p);
	/* This session's own domid. */
	unsigned (*domid)(const struct platform *p);

	/* Grant tables, foreign side (libxengnttab). */
	struct platform_gnttab *(*gnttab_open)(struct platform *p);
	void (*gnttab_close)(struct platform_gnttab *g);
	int (*gnttab_fd)(struct platform_gnttab *g);
	/*
	 * Batch grant copy (xengnttab_grant_copy): each segment's status gets
	 * a GNTST_* code. Returns 0 when the batch was processed (check the
	 * statuses), -errno when it could not be (e.g. -EINVAL for a segment
	 * with no grant reference on either side, as gntdev refuses); then
	 * every status reads failed, whatever part of the batch was done.
	 */
	int (*gnttab_copy)(struct platform_gnttab *g, struct engine_copy_seg *segs,
			   unsigned n);
	/*
	 * Map one granted page (xengnttab_map_grant_ref) read-only or
	 * writable. NULL + errno (EINVAL, as gntdev reports any failed map) on
	 * failure; if gntst is not NULL it receives the GNTST_* code.
	 */
	void *(*gnttab_map)(struct platform_gnttab *g, uint16_t domid, uint32_t ref,
			    bool writable, int16_t *gntst);
	/* Unmap a page returned by gnttab_map (xengnttab_unmap, count 1). */
	int (*gnttab_unmap)(struct platform_gnttab *g, void *addr);

	/* Grant tables, granting side (libxengntshr / gntalloc). */
	struct platform_gntshr *(*gntshr_open)(struct platform *p);
	void (*gntshr_close)(struct platform_gntshr *s);
	int (*gntshr_fd)(struct platform_gntshr *s);
	/*
	 * Allocate count zeroed, contiguous pages and grant each to domid
	 * (xengntshr_share_pages); refs[i] receives page i's grant reference.
	 * Returns the local mapping, or NULL + errno (ENOMEM, ENOSPC).
	 */
	void *(*gntshr_share)(struct platform_gntshr *s, uint16_t domid,
			      unsigned count, uint32_t *refs, bool writable);
	/*
	 * End the peer's access to one shared page's grant
	 * (gnttab_end_foreign_access_ref): -EBUSY while the peer has it mapped
	 * or a copy is in flight, then the peer's ops fail; -ENOENT if ref is
	 * not one of this handle's live grants.
	 */
	int (*gntshr_end_access)(struct platform_gntshr *s, uint32_t ref);
	/*
	 * Release count pages shared at addr (xengntshr_unshare): ends access
	 * on every grant still active, all or nothing (-EBUSY while any is
	 * mapped by the peer), then frees refs and pages.
	 */
	int (*gntshr_unshare)(struct platform_gntshr *s, void *addr, unsigned count);

	/* Event channels (libxenevtchn). Ports are returned as int >= 0. */
	struct platform_evtchn *(*evtchn_open)(struct platform *p);
	void (*evtchn_close)(struct platform_evtchn *e);
	/* Readable while a bound port has fired and not been read by pending. */
	int (*evtchn_fd)(struct platform_evtchn *e);
	/* A port that remote_domid may bind to (xenevtchn_bind_unbound_port). */
	int (*evtchn_alloc_unbound)(struct platform_evtchn *e, uint16_t remote_domid);
	/*
	 * Connect to remote_domid's unbound port (-ESRCH, -EINVAL as Xen).
	 * As in Xen, the new local port starts pending (the peer may have
	 * notified before the bind): expect one event right away.
	 */
	int (*evtchn_bind_interdomain)(struct platform_evtchn *e, uint16_t remote_domid,
				       uint32_t remote_port);
	/* Signal the peer; -ENOTCONN if this handle did not bind port. */
	int (*evtchn_notify)(struct platform_evtchn *e, uint32_t port);
	/*
	 * Next port that fired, or -EAGAIN. A port that fired stays masked
	 * until evtchn_unmask(); notifications while masked are kept pending
	 * and delivered at unmask, as the Linux evtchn device does.
	 */
	int (*evtchn_pending)(struct platform_evtchn *e);
	int (*evtchn_unmask)(struct platform_evtchn *e, uint32_t port);
	/* Close the port (the peer's end reverts to unbound, as in Xen). */
	int (*evtchn_unbind)(struct platform_evtchn *e, uint32_t port);
	/*
	 * Confine the handle to one guest for good, before meeting its data
	 * (xenevtchn_restrict, IOCTL_EVTCHN_RESTRICT_DOMID): binds and
	 * unbound ports to any other domain fail with -EPERM. On Xen it also
	 * closes the session's privcmd handle: evtchn_status then answers
	 * -EOPNOTSUPP. Returns 0 or -errno.
	 */
	int (*evtchn_restrict)(struct platform_evtchn *e, uint16_t domid);
	/*
	 * Port state (xc_evtchn_status): EVTCHNSTAT_closed / _unbound /
	 * _interdomain; for interdomain, *remote_domid and *remote_port (may
	 * be NULL) receive the other end.
	 */
	int (*evtchn_status)(struct platform_evtchn *e, uint32_t port,
			     uint16_t *remote_domid, uint32_t *remote_port);

	/* XenStore (the wire protocol, xs_wire.h). txid 0 = no transaction. */
	struct platform_xs *(*xs_open)(struct platform *p);
	void (*xs_close)(struct platform_xs *x);
	/* Readable when read_watch has an event. */
	int (*xs_fd)(struct platform_xs *x);
	int (*xs_read)(struct platform_xs *x, uint32_t txid, const char *path,
		       char **val, size_t *len);
	int (*xs_write)(struct platform_xs *x, uint32_t txid, const char *path,
			const void *val, size_t len);
	int (*xs_mkdir)(struct platform_xs *x, uint32_t txid, const char *path);
	int (*xs_rm)(struct platform_xs *x, uint32_t txid, const char *path);
	int (*xs_directory)(struct platform_xs *x, uint32_t txid, const char *path,
			    char ***names, unsigned *n);
	int (*xs_get_perms)(struct platform_xs *x, uint32_t txid, const char *path,
			    struct platform_xs_perm **perms, unsigned *n);
	int (*xs_set_perms)(struct platform_xs *x, uint32_t txid, const char *path,
			    const struct platform_xs_perm *perms, unsigned n);
	int (*xs_watch)(struct platform_xs *x, const char *path, const char *token);
	int (*xs_unwatch)(struct platform_xs *x, const char *path, const char *token);
	/* 1 and an event (caller frees both strings), 0 none, -errno. */
	int (*xs_read_watch)(struct platform_xs *x, char **path, char **token);
	int (*xs_transaction_start)(struct platform_xs *x, uint32_t *txid);
	/* -EAGAIN when a committed transaction conflicted: retry it. */
	int (*xs_transaction_end)(struct platform_xs *x, uint32_t txid, bool commit);
};

/**
 * platform_by_name() - the ops table of the named platform.
 * @name: "sim" (the simulator), later "xen".
 *
 * Return: the table, or NULL with errno = ENOENT for an unknown name.
 */
const struct platform_ops *platform_by_name(const char *name);

/*
 * platform_default_name() - "xen" when running on Xen with the 'xen'
 * platform built in, else "sim".
 */
const char *platform_default_name(void);

#endif
