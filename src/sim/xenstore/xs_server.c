/* SPDX-License-Identifier: MIT */
/* xs_server.c - xenstored's wire protocol over non-blocking stream connections. */
#include "xs_server.h"
#include "xs_store.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/io/xs_wire.h>

#define XS_HDR_LEN sizeof(struct xsd_sockmsg)
#define XS_MSGS_PER_RUN 64       /* fairness: messages handled per connection per run */
#define XS_PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

enum { SPECIAL_INTRODUCE, SPECIAL_RELEASE, NSPECIAL };
static const char *const special_names[NSPECIAL] = { "@introduceDomain", "@releaseDomain" };

struct xs_domain;

/*
 * A request of an unprivileged domain not answered yet: held by its reply
 * until sent, and by the watch events it caused until they are sent to a
 * privileged reader (xenstored's "outstanding" requests).
 */
struct xs_pending {
	struct xs_domain *dom;
	unsigned refs;
};

struct xs_watch {
	struct xs_watch *next;
	char *path;      /* absolute, or a special "@..." name */
	char *token;
	bool relative;   /* registered relative: events carry relative paths */
};

struct xs_tx {
	struct xs_tx *next;
	uint32_t id;
	struct xs_store_tx *tx;
};

struct xs_out {
	struct xs_out *next;
	struct xs_pending *pend;
	size_t len, off;
	bool event;
	char data[];
};

/* A guest domain (dom0 has none: it is not limited). */
struct xs_domain {
	struct xs_domain *next;
	unsigned domid;
	bool introduced;
	struct xs_conn *conn;    /* its one connection */
	unsigned nwatches, ntxs, outstanding;
	bool has_target;         /* XS_SET_TARGET: it may act as @target */
	unsigned target;
};

struct xs_conn {
	struct xs_conn *next;
	struct xs_server *srv;
	struct xs_domain *dom;   /* NULL: privileged */
	int fd;
	unsigned domid;
	bool priv;
	bool dead;
	uint32_t ep_events;
	/* input: one message at a time, NUL-terminated payload */
	char in[XS_HDR_LEN + XENSTORE_PAYLOAD_MAX + 1];
	size_t in_have;
	/* output queue */
	struct xs_out *out_head, *out_tail;
	size_t out_bytes;
	unsigned out_events;
	unsigned long dropped_events;
	unsigned long replies;   /* messages other than watch events queued */
	struct xs_watch *watches;
	struct xs_tx *txs;
	uint32_t next_txid;
};

struct xs_server {
	int epfd;
	int lfd;
	char *lpath;
	struct xs_store *st;
	struct xs_conn *conns;
	struct xs_conn *dead;
	struct xs_domain *doms;
	struct xs_pending *cur;  /* the request being handled, if a domain's */
	struct xs_store_perm *special[NSPECIAL];
	unsigned nspecial[NSPECIAL];
};

/* ---- domains ---------------------------------------------------------------- */

static struct xs_domain *domain_find(const struct xs_server *s, unsigned domid)
{
	for (struct xs_domain *d = s->doms; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

static struct xs_domain *domain_get(struct xs_server *s, unsigned domid)
{
	struct xs_domain *d = domain_find(s, domid);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->domid = domid;
	d->next = s->doms;
	s->doms = d;
	return d;
}

/* Forget @d once nothing refers to it. */
static void domain_gc(struct xs_server *s, struct xs_domain *d)
{
	if (d->introduced || d->conn || d->outstanding)
		return;
	for (struct xs_domain **pp = &s->doms; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	free(d);
}

static bool domain_known(const struct xs_server *s, unsigned domid)
{
	const struct xs_domain *d = domain_find(s, domid);

	return domid == 0 || (d && d->introduced);
}

static struct xs_store_caller conn_caller(const struct xs_conn *c)
{
	struct xs_store_caller who = { c->domid, c->priv, false, 0 };

	if (c->dom && c->dom->has_target) {
		who.has_target = true;
		who.target = c->dom->target;
	}
	return who;
}

/* ---- output ----------------------------------------------------------------- */

static void conn_events_update(struct xs_conn *c);

/* Whether @c's requests may be read now. */
static bool conn_can_read(const struct xs_conn *c)
{
	if (c->out_bytes >= XS_SERVER_MAX_OUT_BYTES)
		return false;
	return !c->dom || c->dom->outstanding < XS_SERVER_QUOTA_OUTSTANDING;
}

static struct xs_pending *pend_get(struct xs_pending *p)
{
	if (p)
		p->refs++;
	return p;
}

static void pend_put(struct xs_server *s, struct xs_pending *p)
{
	struct xs_domain *d;

	if (!p || --p->refs)
		return;
	d = p->dom;
	free(p);
	d->outstanding--;
	if (d->conn)
		conn_events_update(d->conn);
	else
		domain_gc(s, d);
}

static void out_free(struct xs_server *s, struct xs_out *o)
{
	pend_put(s, o->pend);
	free(o);
}

static void conn_events_update(struct xs_conn *c)
{
	struct epoll_event ev = { 0 };

	if (c->dead)
		return;
	if (conn_can_read(c))
		ev.events |= EPOLLIN;
	if (c->out_head)
		ev.events |= EPOLLOUT;
	if (ev.events == c->ep_events)
		return;
	ev.data.ptr = c;
	if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ep_events = ev.events;
}

static void watch_free(struct xs_watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

static void conn_watches_free(struct xs_conn *c)
{
	while (c->watches) {
		struct xs_watch *w = c->watches;

		c->watches = w->next;
		watch_free(w);
		if (c->dom)
			c->dom->nwatches--;
	}
}

static void conn_txs_free(struct xs_conn *c)
{
	while (c->txs) {
		struct xs_tx *t = c->txs;

		c->txs = t->next;
		xs_store_tx_free(t->tx);
		free(t);
		if (c->dom)
			c->dom->ntxs--;
	}
}

/* Disconnect @c now; the struct itself lives on the dead list until reaped. */
static void conn_kill(struct xs_conn *c)
{
	struct xs_server *s = c->srv;
	struct xs_domain *d = c->dom;
	struct xs_conn **pp;

	if (c->dead)
		return;
	c->dead = true;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	conn_watches_free(c);
	conn_txs_free(c);
	while (c->out_head) {
		struct xs_out *o = c->out_head;

		c->out_head = o->next;
		out_free(s, o);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
	for (pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->next = s->dead;
	s->dead = c;
	if (d) {
		d->conn = NULL;
		c->dom = NULL;
		domain_gc(s, d);
	}
}

static void server_reap(struct xs_server *s)
{
	while (s->dead) {
		struct xs_conn *c = s->dead;

		s->dead = c->next;
		free(c);
	}
}

/* Write as much queued output as @c takes. */
static void conn_flush(struct xs_conn *c)
{
	while (!c->dead && c->out_head) {
		struct xs_out *o = c->out_head;
		ssize_t n = send(c->fd, o->data + o->off, o->len - o->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == ENOTSOCK)
			n = write(c->fd, o->data + o->off, o->len - o->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_kill(c);
			return;
		}
		o->off += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (o->off == o->len) {
			c->out_head = o->next;
			if (!c->out_head)
				c->out_tail = NULL;
			if (o->event)
				c->out_events--;
			out_free(c->srv, o);
		}
	}
	conn_events_update(c);
}

static void server_flush_all(struct xs_server *s)
{
	struct xs_conn *c, *next;

	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->out_head)
			conn_flush(c);
	}
}

/* An event equal to @data (@len bytes) still waiting whole in @c's queue? */
static bool event_queued(const struct xs_conn *c, const char *data, size_t len)
{
	for (const struct xs_out *o = c->out_head; o; o = o->next)
		if (o->event && o->off == 0 && o->len == len && memcmp(o->data, data, len) == 0)
			return true;
	return false;
}

/* Queue one message: header and up to two payload pieces. */
static int conn_queue(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		      const void *a, size_t alen, const void *b, size_t blen, bool event)
{
	struct xsd_sockmsg hdr = { type, req_id, tx_id, (uint32_t)(alen + blen) };
	struct xs_out *o;

	if (c->dead)
		return -EPIPE;
	if (event && (c->out_events >= XS_SERVER_MAX_OUT_EVENTS ||
		      c->out_bytes + XS_HDR_LEN + alen + blen > XS_SERVER_MAX_OUT_BYTES)) {
		c->dropped_events++;
		return -ENOSPC;
	}
	o = malloc(sizeof(*o) + XS_HDR_LEN + alen + blen);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = XS_HDR_LEN + alen + blen;
	o->off = 0;
	o->event = event;
	memcpy(o->data, &hdr, XS_HDR_LEN);
	if (alen)
		memcpy(o->data + XS_HDR_LEN, a, alen);
	if (blen)
		memcpy(o->data + XS_HDR_LEN + alen, b, blen);
	/* xenstored's send_event(): an event already waiting is not queued twice */
	if (event && ((const char *)a)[0] != '@' && event_queued(c, o->data, o->len)) {
		free(o);
		c->dropped_events++;
		return 0;
	}
	/* A reply answers its request; an event to a privileged reader is owed by it too. */
	o->pend = (!event || c->priv) ? pend_get(c->srv->cur) : NULL;
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += o->len;
	if (event)
		c->out_events++;
	else
		c->replies++;
	return 0;
}

static void conn_reply(struct xs_conn *c, const struct xsd_sockmsg *req,
		       const void *data, size_t len)
{
	conn_queue(c, req->type, req->req_id, req->tx_id, data, len, NULL, 0, false);
}

static void conn_reply_str(struct xs_conn *c, const struct xsd_sockmsg *req, const char *str)
{
	conn_reply(c, req, str, strlen(str) + 1);
}

static void conn_ack(struct xs_conn *c, const struct xsd_sockmsg *req)
{
	conn_reply_str(c, req, "OK");
}

static void conn_error(struct xs_conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = "EINVAL";

	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
		if (xsd_errors[i].errnum == err) {
			name = xsd_errors[i].errstring;
			break;
		}
	}
	conn_queue(c, XS_ERROR, req->req_id, req->tx_id, name, strlen(name) + 1, NULL, 0, false);
}

static void conn_event(struct xs_conn *c, const char *path, const char *token)
{
	/* An event no client could accept (path + token too long) is dropped. */
	if (strlen(path) + strlen(token) + 2 > XENSTORE_PAYLOAD_MAX) {
		c->dropped_events++;
		return;
	}
	conn_queue(c, XS_WATCH_EVENT, 0, 0, path, strlen(path) + 1, token, strlen(token) + 1, true);
}

/* ---- watches ------------------------------------------------------------------ */

static size_t domain_prefix(unsigned domid, char *buf, size_t size)
{
	int n = snprintf(buf, size, "/local/domain/%u/", domid);

	return n < 0 ? 0 : (size_t)n;
}

/* Does a change of @path (exact: only watches on @path itself) fire watch @wpath? */
static bool watch_matches(const char *wpath, const char *path, bool exact)
{
	size_t wl = strlen(wpath);

	if (strcmp(wpath, path) == 0)
		return true;
	if (exact || path[0] != '/' || wpath[0] != '/')
		return false;
	if (wl == 1)
		return true;
	return strncmp(wpath, path, wl) == 0 && path[wl] == '/';
}

static void watch_fire_conn(struct xs_conn *c, const struct xs_watch *w, const char *path)
{
	if (w->relative) {
		char pre[48];
		size_t pl = domain_prefix(c->domid, pre, sizeof(pre));

		if (strncmp(path, pre, pl) == 0 && path[pl]) {
			conn_event(c, path + pl, w->token);
			return;
		}
	}
	conn_event(c, path, w->token);
}

/* Store callback: @path changed; tell every watcher allowed to read the node. */
static void server_notify(void *ctx, const char *path, bool exact,
			  const struct xs_store_perm *perms, unsigned nperms)
{
	struct xs_server *s = ctx;

	for (struct xs_conn *c = s->conns; c; c = c->next) {
		struct xs_store_caller who = conn_caller(c);
		bool allowed = (xs_store_perm_for(&who, perms, nperms) & XS_STORE_PERM_READ) != 0;

		if (c->dead || !allowed)
			continue;
		for (struct xs_watch *w = c->watches; w; w = w->next)
			if (watch_matches(w->path, path, exact))
				watch_fire_conn(c, w, path);
	}
}

static int special_index(const char *name)
{
	for (int i = 0; i < NSPECIAL; i++)
		if (strcmp(name, special_names[i]) == 0)
			return i;
	return -1;
}

/*
 * Fire special watch @which to every watcher that may read it: since
 * xenstored 4.15, privileged ones and those its ACL lets read.
 */
static void server_fire_special(struct xs_server *s, int which)
{
	const char *name = special_names[which];

	for (struct xs_conn *c = s->conns; c; c = c->next) {
		struct xs_store_caller who = conn_caller(c);

		if (!(xs_store_perm_for(&who, s->special[which], s->nspecial[which]) &
		      XS_STORE_PERM_READ))
			continue;
		for (struct xs_watch *w = c->watches; w; w = w->next)
			if (strcmp(w->path, name) == 0)
				conn_event(c, name, w->token);
	}
}

/* ---- introduce, release ---------------------------------------------------------- */

int xs_server_introduce_domain(struct xs_server *s, unsigned domid)
{
	static const struct xs_store_caller dom0 = { 0, true, false, 0 };
	struct xs_store_perm perms[2] = {
		{ domid, XS_STORE_PERM_NONE }, { 0, XS_STORE_PERM_READ },
	};
	struct xs_domain *d;
	char path[48];
	int err;

	if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	d = domain_get(s, domid);
	if (!d)
		return -ENOMEM;
	if (d->introduced)
		return 0;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	err = xs_store_mkdir(s->st, NULL, &dom0, path);
	if (!err)
		err = xs_store_set_perms(s->st, NULL, &dom0, path, perms, 2);
	if (err) {
		domain_gc(s, d);
		return err;
	}
	d->introduced = true;
	server_fire_special(s, SPECIAL_INTRODUCE);
	server_flush_all(s);
	return 0;
}

/* Drop @domid from ACL @p (xenstored's remove_domid_from_perm()). */
static void special_forget(struct xs_store_perm *p, unsigned *n, unsigned domid)
{
	unsigned k = 1;

	if (p[0].domid == domid)
		p[0].domid = 0;
	for (unsigned i = 1; i < *n; i++)
		if (p[i].domid != domid)
			p[k++] = p[i];
	*n = k;
}

int xs_server_release_domain(struct xs_server *s, unsigned domid)
{
	struct xs_domain *d = domain_find(s, domid);
	int err;

	if (domid == 0)
		return -EINVAL;
	if (!d || !d->introduced)
		return -ENOENT;
	d->introduced = false;
	d->has_target = false;
	if (d->conn)
		conn_kill(d->conn);
	for (struct xs_domain *o = s->doms; o; o = o->next)
		if (o->has_target && o->target == domid)
			o->has_target = false;
	err = xs_store_domain_release(s->st, domid);
	for (int i = 0; i < NSPECIAL; i++)
		special_forget(s->special[i], &s->nspecial[i], domid);
	server_fire_special(s, SPECIAL_RELEASE);
	server_flush_all(s);
	d = domain_find(s, domid);
	if (d)
		domain_gc(s, d);
	return err;
}

/* ---- request handling --------------------------------------------------------------- */

/*
 * The payload as NUL-terminated strings: up to @max pointers in @vec;
 * returns how many strings there are, or -1 if the payload does not end
 * with a NUL (an argument without its terminator).
 */
static int msg_strings(const char *payload, size_t len, const char **vec, unsigned max)
{
	unsigned n = 0;
	size_t off = 0;

	while (off < len) {
		size_t l = strnlen(payload + off, len - off);

		if (off + l == len)
			return -1;
		if (n < max)
			vec[n] = payload + off;
		n++;
		off += l + 1;
	}
	return (int)n;
}

/* Canonicalize @in (absolute or relative to the connection's domain) into @out. */
static int conn_path(const struct xs_conn *c, const char *in, char *out, bool *relative)
{
	size_t il = strlen(in);

	if (relative)
		*relative = false;
	if (in[0] == '@')
		return -EINVAL;  /* special names are only for watches and permissions */
	if (in[0] != '/') {
		size_t pl;

		if (il == 0 || il > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		pl = domain_prefix(c->domid, out, XS_PATH_BUF);
		if (pl + il >= XS_PATH_BUF)
			return -EINVAL;
		memcpy(out + pl, in, il + 1);
		if (relative)
			*relative = true;
	} else {
		if (il >= XS_PATH_BUF)
			return -EINVAL;
		memcpy(out, in, il + 1);
	}
	return xs_store_path_ok(out) ? 0 : -EINVAL;
}

static int parse_uint(const char *str, unsigned *out)
{
	unsigned long v = 0;

	if (!*str)
		return -EINVAL;
	for (const char *p = str; *p; p++) {
		if (*p < '0' || *p > '9' || v > 0xffffffffUL / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 0xffffffffUL)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static struct xs_tx *conn_tx_find(struct xs_conn *c, uint32_t id)
{
	for (struct xs_tx *t = c->txs; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static void conn_tx_drop(struct xs_conn *c, struct xs_tx *tx)
{
	for (struct xs_tx **pp = &c->txs; *pp; pp = &(*pp)->next) {
		if (*pp == tx) {
			*pp = tx->next;
			break;
		}
	}
	xs_store_tx_free(tx->tx);
	free(tx);
	if (c->dom)
		c->dom->ntxs--;
}

/* A watch path: a special name as is, else canonical. */
static int watch_path(const struct xs_conn *c, const char *in, char *out, bool *relative)
{
	*relative = false;
	if (in[0] == '@') {
		if (strlen(in) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		strcpy(out, in);
		return 0;
	}
	return conn_path(c, in, out, relative);
}

static int handle_watch(struct xs_conn *c, const struct xsd_sockmsg *req, const char **v, int n)
{
	char path[XS_PATH_BUF];
	bool relative = false;
	struct xs_watch *w, **pp;
	int err;

	if (n != 2)
		return -EINVAL;
	if ((err = watch_path(c, v[0], path, &relative)))
		return err;
	for (w = c->watches; w; w = w->next)
		if (strcmp(w->path, path) == 0 && strcmp(w->token, v[1]) == 0)
			return -EEXIST;
	if (c->dom && c->dom->nwatches >= XS_SERVER_QUOTA_WATCHES)
		return -E2BIG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->path = strdup(path);
	w->token = strdup(v[1]);
	if (!w->path || !w->token) {
		watch_free(w);
		return -ENOMEM;
	}
	w->relative = relative;
	/* Append, so events of several matching watches come in registration order. */
	for (pp = &c->watches; *pp; pp = &(*pp)->next)
		;
	*pp = w;
	if (c->dom)
		c->dom->nwatches++;
	conn_ack(c, req);
	/* It fires once at once, whatever the watcher may read (xenstored's do_watch()). */
	conn_event(c, v[0], v[1]);
	return 0;
}

static int handle_unwatch(struct xs_conn *c, const struct xsd_sockmsg *req, const char **v, int n)
{
	char path[XS_PATH_BUF];
	bool relative;
	int err;

	if (n != 2)
		return -EINVAL;
	if ((err = watch_path(c, v[0], path, &relative)))
		return err;
	for (struct xs_watch **pp = &c->watches; *pp; pp = &(*pp)->next) {
		struct xs_watch *w = *pp;

		if (strcmp(w->path, path) == 0 && strcmp(w->token, v[1]) == 0) {
			*pp = w->next;
			watch_free(w);
			if (c->dom)
				c->dom->nwatches--;
			conn_ack(c, req);
			return 0;
		}
	}
	return -ENOENT;
}

static int handle_tx_start(struct xs_conn *c, const struct xsd_sockmsg *req)
{
	struct xs_tx *tx;
	char buf[16];

	if (req->tx_id)
		return -EBUSY;
	if (c->dom && c->dom->ntxs >= XS_SERVER_QUOTA_TRANSACTIONS)
		return -ENOSPC;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	tx->tx = xs_store_tx_start(c->srv->st);
	if (!tx->tx) {
		free(tx);
		return -ENOMEM;
	}
	do {
		tx->id = ++c->next_txid;
	} while (tx->id == 0 || conn_tx_find(c, tx->id));
	tx->next = c->txs;
	c->txs = tx;
	if (c->dom)
		c->dom->ntxs++;
	snprintf(buf, sizeof(buf), "%u", tx->id);
	conn_reply_str(c, req, buf);
	return 0;
}

static int handle_tx_end(struct xs_conn *c, const struct xsd_sockmsg *req, struct xs_tx *tx,
			 const char **v, int n)
{
	struct xs_store_caller who = conn_caller(c);
	int err = 0;

	if (!tx)
		return -ENOENT;
	if (n != 1 || (strcmp(v[0], "T") && strcmp(v[0], "F")))
		return -EINVAL;
	if (v[0][0] == 'T')
		err = xs_store_tx_commit(tx->tx, &who);
	conn_tx_drop(c, tx);
	if (err)
		return err;
	conn_ack(c, req);
	return 0;
}

static int handle_directory_part(struct xs_conn *c, const struct xsd_sockmsg *req,
				 struct xs_store_tx *stx, const struct xs_store_caller *who,
				 const char *path, const char *offs)
{
	char *kids = NULL, *out;
	size_t klen = 0, len = 0, genlen, maxlen;
	uint64_t gen = 0;
	unsigned off;
	char genbuf[24];
	int err;

	if (parse_uint(offs, &off))
		return -EINVAL;
	err = xs_store_directory(c->srv->st, stx, who, path, &kids, &klen, &gen);
	if (err)
		return err;
	genlen = (size_t)snprintf(genbuf, sizeof(genbuf), "%llu", (unsigned long long)gen) + 1;
	out = malloc(XENSTORE_PAYLOAD_MAX + 1);
	if (!out) {
		free(kids);
		return -ENOMEM;
	}
	memcpy(out, genbuf, genlen);
	if (off >= klen) {
		out[genlen] = '\0';
		len = 1;
	} else {
		maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
		while (off + len < klen) {
			size_t l = strlen(kids + off + len) + 1;

			if (len + l > maxlen)
				break;
			len += l;
		}
		memcpy(out + genlen, kids + off, len);
		if (off + len == klen)
			out[genlen + len++] = '\0';
	}
	conn_reply(c, req, out, genlen + len);
	free(out);
	free(kids);
	return 0;
}

static int handle_get_perms(struct xs_conn *c, const struct xsd_sockmsg *req,
			    struct xs_store_tx *stx, const struct xs_store_caller *who,
			    const char **v, int n)
{
	struct xs_server *s = c->srv;
	char path[XS_PATH_BUF];
	struct xs_store_perm *perms = NULL;
	int sp = n == 1 ? special_index(v[0]) : -1;
	unsigned np = 0;
	size_t flen;
	char *fmt;
	int err = 0;

	if (n != 1)
		return -EINVAL;
	if (sp >= 0) {
		fmt = xs_store_perms_format(s->special[sp], s->nspecial[sp], &flen);
	} else {
		err = conn_path(c, v[0], path, NULL);
		if (!err)
			err = xs_store_get_perms(s->st, stx, who, path, &perms, &np);
		if (err)
			return err;
		fmt = xs_store_perms_format(perms, np, &flen);
		free(perms);
	}
	if (!fmt)
		return -ENOMEM;
	conn_reply(c, req, fmt, flen);
	free(fmt);
	return 0;
}

/* The special node's new ACL: its owner (or the privileged) may set it. */
static int special_set(struct xs_server *s, int which, const struct xs_store_caller *who,
		       struct xs_store_perm *perms, unsigned np)
{
	const unsigned want = XS_STORE_PERM_WRITE | XS_STORE_PERM_OWNER;
	struct xs_store_perm *copy;

	if ((xs_store_perm_for(who, s->special[which], s->nspecial[which]) & want) != want)
		return -EACCES;
	copy = malloc(np * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, perms, np * sizeof(*copy));
	free(s->special[which]);
	s->special[which] = copy;
	s->nspecial[which] = np;
	return 0;
}

static int handle_set_perms(struct xs_conn *c, const struct xsd_sockmsg *req,
			    struct xs_store_tx *stx, const struct xs_store_caller *who,
			    const char *payload, size_t plen, const char **v, int n)
{
	struct xs_server *s = c->srv;
	char path[XS_PATH_BUF];
	struct xs_store_perm *perms = NULL;
	struct xs_store_quotas q;
	size_t off;
	unsigned np = 0;
	int sp, err;

	/* the path, then at least one entry, every one NUL-terminated */
	if (n < 2)
		return -EINVAL;
	off = strlen(v[0]) + 1;
	err = xs_store_perms_parse(payload + off, plen - off, &perms, &np);
	if (err)
		return err;
	xs_store_quotas_get(s->st, &q);
	sp = special_index(v[0]);
	if (!c->priv && np > q.perms)
		err = -ENOSPC;
	else if (sp >= 0)
		err = special_set(s, sp, who, perms, np);
	else if (!(err = conn_path(c, v[0], path, NULL)))
		err = xs_store_set_perms(s->st, stx, who, path, perms, np);
	free(perms);
	if (err)
		return err;
	conn_ack(c, req);
	return 0;
}

static int handle_set_target(struct xs_conn *c, const struct xsd_sockmsg *req,
			     const char **v, int n)
{
	struct xs_server *s = c->srv;
	unsigned domid, target;
	struct xs_domain *d;

	if (!c->priv)
		return -EACCES;
	if (n != 2 || parse_uint(v[0], &domid) || parse_uint(v[1], &target))
		return -EINVAL;
	/* dom0 needs no target, and nobody gets dom0's rights through one */
	if (domid == 0 || target == 0)
		return -EINVAL;
	d = domain_find(s, domid);
	if (!d || !d->introduced || !domain_known(s, target))
		return -ENOENT;
	d->has_target = true;
	d->target = target;
	conn_ack(c, req);
	return 0;
}

/* One argument, a path: canonical in @path. */
static int path_arg(const struct xs_conn *c, const char **v, int n, char *path)
{
	return n == 1 ? conn_path(c, v[0], path, NULL) : -EINVAL;
}

/* Handle one complete message; the payload is NUL-terminated at in[len]. */
static void conn_handle(struct xs_conn *c, const struct xsd_sockmsg *req, const char *payload)
{
	struct xs_server *s = c->srv;
	struct xs_store_caller who = conn_caller(c);
	struct xs_store_tx *stx = NULL;
	struct xs_tx *tx = NULL;
	const char *v[4];
	int n = msg_strings(payload, req->len, v, 4);
	char path[XS_PATH_BUF];
	unsigned long replies = c->replies;
	unsigned domid;
	int err = 0;

	if (req->tx_id && req->type != XS_WATCH && req->type != XS_UNWATCH) {
		tx = conn_tx_find(c, req->tx_id);
		if (!tx) {
			conn_error(c, req, ENOENT);
			return;
		}
		stx = tx->tx;
	}
	switch (req->type) {
	case XS_READ: {
		const char *val;
		size_t len;

		if ((err = path_arg(c, v, n, path)))
			break;
		err = xs_store_read(s->st, stx, &who, path, &val, &len);
		if (!err)
			conn_reply(c, req, val, len);
		break;
	}
	case XS_WRITE: {
		/* the path with its NUL, then the value (any bytes) */
		size_t off = strnlen(payload, req->len) + 1;

		if (off > req->len) {
			err = -EINVAL;
			break;
		}
		if ((err = conn_path(c, payload, path, NULL)))
			break;
		err = xs_store_write(s->st, stx, &who, path, payload + off, req->len - off);
		if (!err)
			conn_ack(c, req);
		break;
	}
	case XS_MKDIR:
	case XS_RM:
		if ((err = path_arg(c, v, n, path)))
			break;
		err = req->type == XS_MKDIR ? xs_store_mkdir(s->st, stx, &who, path)
					    : xs_store_rm(s->st, stx, &who, path);
		if (!err)
			conn_ack(c, req);
		break;
	case XS_DIRECTORY: {
		char *kids = NULL;
		size_t klen = 0;

		if ((err = path_arg(c, v, n, path)))
			break;
		err = xs_store_directory(s->st, stx, &who, path, &kids, &klen, NULL);
		if (!err && klen > XENSTORE_PAYLOAD_MAX)
			err = -E2BIG;
		if (!err)
			conn_reply(c, req, kids, klen);
		free(kids);
		break;
	}
	case XS_DIRECTORY_PART:
		if ((err = n != 2 ? -EINVAL : conn_path(c, v[0], path, NULL)))
			break;
		err = handle_directory_part(c, req, stx, &who, path, v[1]);
		break;
	case XS_GET_PERMS:
		err = handle_get_perms(c, req, stx, &who, v, n);
		break;
	case XS_SET_PERMS:
		err = handle_set_perms(c, req, stx, &who, payload, req->len, v, n);
		break;
	case XS_WATCH:
		err = handle_watch(c, req, v, n);
		break;
	case XS_UNWATCH:
		err = handle_unwatch(c, req, v, n);
		break;
	case XS_TRANSACTION_START:
		err = handle_tx_start(c, req);
		break;
	case XS_TRANSACTION_END:
		err = handle_tx_end(c, req, tx, v, n);
		break;
	case XS_GET_DOMAIN_PATH:
		if ((err = n != 1 ? -EINVAL : parse_uint(v[0], &domid)))
			break;
		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		conn_reply_str(c, req, path);
		break;
	case XS_IS_DOMAIN_INTRODUCED:
		/* privileged in xenstored (XS_FLAG_PRIV) */
		if (!c->priv)
			err = -EACCES;
		else if (!(err = n != 1 ? -EINVAL : parse_uint(v[0], &domid)))
			conn_reply_str(c, req, domain_known(s, domid) ? "T" : "F");
		break;
	case XS_INTRODUCE:
	case XS_RELEASE:
		if (!c->priv) {
			err = -EACCES;
			break;
		}
		/* INTRODUCE: domid, gfn, event channel (the last two unused here) */
		if (n != (req->type == XS_INTRODUCE ? 3 : 1) || parse_uint(v[0], &domid)) {
			err = -EINVAL;
			break;
		}
		if (req->type == XS_INTRODUCE)
			err = xs_server_introduce_domain(s, domid);
		else
			err = xs_server_release_domain(s, domid);
		if (!err && !c->dead)
			conn_ack(c, req);
		break;
	case XS_SET_TARGET:
		err = handle_set_target(c, req, v, n);
		break;
	case XS_RESUME:
		if (!c->priv)
			err = -EACCES;
		else if (!(err = n != 1 ? -EINVAL : parse_uint(v[0], &domid)))
			err = domain_known(s, domid) && domid ? 0 : -ENOENT;
		if (!err)
			conn_ack(c, req);
		break;
	case XS_RESET_WATCHES:
		conn_watches_free(c);
		conn_txs_free(c);
		conn_ack(c, req);
		break;
	case XS_CONTROL:
		if (!c->priv)
			err = -EACCES;
		else if (n >= 1 && (!strcmp(v[0], "print") || !strcmp(v[0], "check") ||
				    !strcmp(v[0], "log")))
			conn_ack(c, req);
		else
			err = -EINVAL;
		break;
	default:
		err = -EINVAL;
		break;
	}
	/* Every request gets exactly one answer. */
	if (!err && c->replies == replies && !c->dead)
		err = -EINVAL;
	if (err)
		conn_error(c, req, err);
}

/* Handle one message of @c, counting it as outstanding for a guest until answered. */
static void conn_handle_counted(struct xs_conn *c, const struct xsd_sockmsg *req,
				const char *payload)
{
	struct xs_server *s = c->srv;
	struct xs_pending *p = NULL;

	if (c->dom) {
		p = malloc(sizeof(*p));
		if (p) {
			p->dom = c->dom;
			p->refs = 1;
			c->dom->outstanding++;
		}
	}
	s->cur = p;
	conn_handle(c, req, payload);
	s->cur = NULL;
	pend_put(s, p);
}

/* Read and handle what @c sent, up to XS_MSGS_PER_RUN messages. */
static void conn_read(struct xs_conn *c)
{
	unsigned handled = 0;

	while (!c->dead && handled < XS_MSGS_PER_RUN && conn_can_read(c)) {
		struct xsd_sockmsg hdr;
		size_t want = XS_HDR_LEN;
		ssize_t r;

		if (c->in_have >= XS_HDR_LEN) {
			memcpy(&hdr, c->in, XS_HDR_LEN);
			want += hdr.len;
		}
		if (c->in_have < want) {
			r = read(c->fd, c->in + c->in_have, want - c->in_have);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (r <= 0) {
				conn_kill(c);
				return;
			}
			c->in_have += (size_t)r;
			if (c->in_have == XS_HDR_LEN) {
				memcpy(&hdr, c->in, XS_HDR_LEN);
				if (hdr.len > XENSTORE_PAYLOAD_MAX) {
					/* Broken framing: nothing after it can be trusted. */
					conn_kill(c);
					return;
				}
			}
			continue;
		}
		c->in[want] = '\0';
		c->in_have = 0;
		conn_handle_counted(c, &hdr, c->in + XS_HDR_LEN);
		handled++;
	}
	if (!c->dead)
		conn_flush(c);
}

static struct xs_conn *conn_new(struct xs_server *s, int fd, unsigned domid, bool priv)
{
	struct xs_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	c->domid = domid;
	c->priv = priv;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(c);
		return NULL;
	}
	c->ep_events = EPOLLIN;
	c->next = s->conns;
	s->conns = c;
	return c;
}

static void server_accept(struct xs_server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or out of fds: try again next time */
		}
		if (!conn_new(s, fd, 0, true))
			close(fd);
	}
}

/* Whether @c's peer has closed its end. */
static bool conn_hung_up(const struct xs_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* ---- public API ------------------------------------------------------------------ */

struct xs_server *xs_server_new(void)
{
	struct xs_server *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->lfd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		goto fail;
	s->st = xs_store_new();
	if (!s->st)
		goto fail;
	/* The special nodes: dom0's, nobody else may read (xenstored's set_dom_perms_default()). */
	for (int i = 0; i < NSPECIAL; i++) {
		s->special[i] = calloc(1, sizeof(*s->special[i]));
		if (!s->special[i]) {
			errno = ENOMEM;
			goto fail;
		}
		s->nspecial[i] = 1;
	}
	xs_store_notify_set(s->st, server_notify, s);
	return s;
fail:
	err = errno;
	xs_server_free(s);
	errno = err;
	return NULL;
}

void xs_server_free(struct xs_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_kill(s->conns);
	server_reap(s);
	while (s->doms) {
		struct xs_domain *d = s->doms;

		s->doms = d->next;
		free(d);
	}
	if (s->lfd >= 0) {
		close(s->lfd);
		if (s->lpath)
			unlink(s->lpath);
	}
	free(s->lpath);
	if (s->epfd >= 0)
		close(s->epfd);
	xs_store_free(s->st);
	for (int i = 0; i < NSPECIAL; i++)
		free(s->special[i]);
	free(s);
}

int xs_server_listen(struct xs_server *s, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int fd, err;

	if (s->lfd >= 0)
		return -EBUSY;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	s->lpath = strdup(path);
	if (!s->lpath)
		return -ENOMEM;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64) ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev))
		goto fail;
	s->lfd = fd;
	return 0;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	free(s->lpath);
	s->lpath = NULL;
	return -err;
}

int xs_server_add_conn(struct xs_server *s, int fd, unsigned domid)
{
	struct xs_domain *d = NULL;
	struct xs_conn *c;
	int fl = fcntl(fd, F_GETFL), err;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	if (domid >= DOMID_FIRST_RESERVED) {
		err = -EINVAL;
		goto fail;
	}
	if (domid != 0) {
		d = domain_get(s, domid);
		if (!d) {
			err = -ENOMEM;
			goto fail;
		}
		/* One connection per guest: a new one only replaces one whose peer is gone. */
		if (d->conn && conn_hung_up(d->conn))
			conn_kill(d->conn);
		d = domain_get(s, domid);
		if (!d) {
			err = -ENOMEM;
			goto fail;
		}
		if (d->conn) {
			err = -EEXIST;
			goto fail;
		}
	}
	c = conn_new(s, fd, domid, domid == 0);
	if (!c) {
		err = -(errno ? errno : ENOMEM);
		if (d)
			domain_gc(s, d);
		goto fail;
	}
	if (d) {
		c->dom = d;
		d->conn = c;
	}
	return 0;
fail:
	close(fd);
	return err;
}

int xs_server_fd(struct xs_server *s)
{
	return s->epfd;
}

int xs_server_run(struct xs_server *s)
{
	struct epoll_event evs[64];
	int n;

	server_reap(s);
	n = epoll_wait(s->epfd, evs, 64, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct xs_conn *c = evs[i].data.ptr;

		if (!c) {
			server_accept(s);
			continue;
		}
		if (c->dead)
			continue;
		if (evs[i].events & EPOLLOUT)
			conn_flush(c);
		if (c->dead)
			continue;
		if (evs[i].events & (EPOLLHUP | EPOLLERR) && !conn_can_read(c))
			conn_kill(c);  /* gone while we would not read it: level-triggered, so now */
		else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c);
	}
	server_flush_all(s);
	server_reap(s);
	return 0;
}

void xs_server_domain_usage(struct xs_server *s, unsigned domid,
			    struct xs_server_domain_usage *u)
{
	const struct xs_domain *d = domain_find(s, domid);

	memset(u, 0, sizeof(*u));
	u->nodes = xs_store_nodes_owned(s->st, domid);
	if (!d)
		return;
	u->known = true;
	u->introduced = d->introduced;
	u->connected = d->conn != NULL;
	u->watches = d->nwatches;
	u->transactions = d->ntxs;
	u->outstanding = d->outstanding;
	if (d->conn)
		for (const struct xs_tx *t = d->conn->txs; t; t = t->next)
			u->tx_bytes += xs_store_tx_bytes(t->tx);
}

void xs_server_usage(struct xs_server *s, struct xs_server_usage *u)
{
	memset(u, 0, sizeof(*u));
	u->nodes = xs_store_nodes(s->st);
	for (const struct xs_conn *c = s->conns; c; c = c->next) {
		u->conns++;
		u->out_bytes += c->out_bytes;
		for (const struct xs_tx *t = c->txs; t; t = t->next)
			u->tx_bytes += xs_store_tx_bytes(t->tx);
	}
	for (const struct xs_domain *d = s->doms; d; d = d->next)
		u->domains++;
}
