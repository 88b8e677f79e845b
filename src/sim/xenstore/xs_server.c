/* SPDX-License-Identifier: MIT */
/* xs_server.c - xenstored's wire protocol over non-blocking stream connections. */
#include "xs_server.h"
#include "xs_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#define XS_HDR_LEN sizeof(struct xsd_sockmsg)
#define XS_MSGS_PER_RUN 64       /* fairness: messages handled per connection per run */
#define XS_PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

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
	size_t len, off;
	bool event;
	char data[];
};

struct xs_conn {
	struct xs_conn *next;
	struct xs_server *srv;
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
	unsigned nwatches;
	struct xs_tx *txs;
	unsigned ntxs;
	uint32_t next_txid;
};

struct xs_server {
	int epfd;
	int lfd;
	char *lpath;
	struct xs_store *st;
	struct xs_conn *conns;
	struct xs_conn *dead;
	unsigned *domains;
	unsigned ndomains, capdomains;
};

/* ---- output ---- */

static void conn_events_update(struct xs_conn *c)
{
	struct epoll_event ev = { 0 };

	if (c->dead)
		return;
	if (c->out_bytes < XS_SERVER_MAX_OUT_BYTES)
		ev.events |= EPOLLIN;
	if (c->out_head)
		ev.events |= EPOLLOUT;
	if (ev.events == c->ep_events)
		return;
	ev.data.ptr = c;
	if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ep_events = ev.events;
}

static void conn_watches_free(struct xs_conn *c)
{
	while (c->watches) {
		struct xs_watch *w = c->watches;

		c->watches = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
	c->nwatches = 0;
}

static void conn_txs_free(struct xs_conn *c)
{
	while (c->txs) {
		struct xs_tx *t = c->txs;

		c->txs = t->next;
		xs_store_tx_free(t->tx);
		free(t);
	}
	c->ntxs = 0;
}

/* Disconnect @c now; the struct itself lives on the dead list until reaped. */
static void conn_kill(struct xs_conn *c)
{
	struct xs_server *s = c->srv;
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
		free(o);
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
			free(o);
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

/* ---- watches ---- */

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
		struct xs_store_caller who = { c->domid, c->priv };
		bool allowed = (xs_store_perm_for(&who, perms, nperms) & XS_STORE_PERM_READ) != 0;

		if (c->dead || !allowed)
			continue;
		for (struct xs_watch *w = c->watches; w; w = w->next)
			if (watch_matches(w->path, path, exact))
				watch_fire_conn(c, w, path);
	}
}

/* Fire the special watch @name (@introduceDomain, @releaseDomain) to everyone watching it. */
static void server_fire_special(struct xs_server *s, const char *name)
{
	for (struct xs_conn *c = s->conns; c; c = c->next)
		for (struct xs_watch *w = c->watches; w; w = w->next)
			if (strcmp(w->path, name) == 0)
				conn_event(c, name, w->token);
}

/* ---- domains ---- */

static bool domain_known(const struct xs_server *s, unsigned domid)
{
	if (domid == 0)
		return true;
	for (unsigned i = 0; i < s->ndomains; i++)
		if (s->domains[i] == domid)
			return true;
	return false;
}

int xs_server_introduce_domain(struct xs_server *s, unsigned domid)
{
	static const struct xs_store_caller dom0 = { 0, true };
	struct xs_store_perm perms[2] = {
		{ domid, XS_STORE_PERM_NONE }, { 0, XS_STORE_PERM_READ },
	};
	char path[48];
	int err;

	if (!domain_known(s, domid)) {
		if (s->ndomains == s->capdomains) {
			unsigned cap = s->capdomains ? s->capdomains * 2 : 8;
			unsigned *d = realloc(s->domains, cap * sizeof(*d));

			if (!d)
				return -ENOMEM;
			s->domains = d;
			s->capdomains = cap;
		}
		s->domains[s->ndomains++] = domid;
	}
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	err = xs_store_mkdir(s->st, NULL, &dom0, path);
	if (!err)
		err = xs_store_set_perms(s->st, NULL, &dom0, path, perms, domid ? 2 : 1);
	if (err)
		return err;
	server_fire_special(s, "@introduceDomain");
	server_flush_all(s);
	return 0;
}

int xs_server_release_domain(struct xs_server *s, unsigned domid)
{
	struct xs_conn *c, *next;

	if (domid == 0)
		return -EINVAL;
	for (unsigned i = 0; i < s->ndomains; i++) {
		if (s->domains[i] == domid) {
			s->domains[i] = s->domains[--s->ndomains];
			break;
		}
	}
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (!c->priv && c->domid == domid)
			conn_kill(c);
	}
	server_fire_special(s, "@releaseDomain");
	server_flush_all(s);
	return 0;
}

/* ---- request handling ---- */

/* The payload split into NUL-terminated strings: up to @max pointers, returns how many. */
static unsigned msg_strings(const char *payload, size_t len, const char **vec, unsigned max)
{
	unsigned n = 0;
	size_t off = 0;

	while (off < len && n < max) {
		vec[n++] = payload + off;
		off += strnlen(payload + off, len - off) + 1;
	}
	return n;
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

static bool is_special(const char *p)
{
	return strcmp(p, "@introduceDomain") == 0 || strcmp(p, "@releaseDomain") == 0;
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
	c->ntxs--;
}

static int handle_watch(struct xs_conn *c, const struct xsd_sockmsg *req, const char **v, unsigned n)
{
	char path[XS_PATH_BUF];
	bool relative = false;
	struct xs_watch *w;
	int err;

	if (n < 2)
		return -EINVAL;
	if (v[0][0] == '@') {
		if (strlen(v[0]) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		strcpy(path, v[0]);
	} else if ((err = conn_path(c, v[0], path, &relative))) {
		return err;
	}
	for (w = c->watches; w; w = w->next)
		if (strcmp(w->path, path) == 0 && strcmp(w->token, v[1]) == 0)
			return -EEXIST;
	if (!c->priv && c->nwatches >= XS_SERVER_MAX_WATCHES)
		return -E2BIG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->path = strdup(path);
	w->token = strdup(v[1]);
	if (!w->path || !w->token) {
		free(w->path);
		free(w->token);
		free(w);
		return -ENOMEM;
	}
	w->relative = relative;
	/* Append, so events of several matching watches come in registration order. */
	{
		struct xs_watch **pp = &c->watches;

		while (*pp)
			pp = &(*pp)->next;
		*pp = w;
	}
	c->nwatches++;
	conn_ack(c, req);
	conn_event(c, v[0], v[1]);
	return 0;
}

static int handle_unwatch(struct xs_conn *c, const struct xsd_sockmsg *req, const char **v, unsigned n)
{
	char path[XS_PATH_BUF];
	int err;

	if (n < 2)
		return -EINVAL;
	if (v[0][0] == '@') {
		if (strlen(v[0]) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		strcpy(path, v[0]);
	} else if ((err = conn_path(c, v[0], path, NULL))) {
		return err;
	}
	for (struct xs_watch **pp = &c->watches; *pp; pp = &(*pp)->next) {
		struct xs_watch *w = *pp;

		if (strcmp(w->path, path) == 0 && strcmp(w->token, v[1]) == 0) {
			*pp = w->next;
			free(w->path);
			free(w->token);
			free(w);
			c->nwatches--;
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
	if (!c->priv && c->ntxs >= XS_SERVER_MAX_TRANSACTIONS)
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
	c->ntxs++;
	snprintf(buf, sizeof(buf), "%u", tx->id);
	conn_reply_str(c, req, buf);
	return 0;
}

static int handle_tx_end(struct xs_conn *c, const struct xsd_sockmsg *req, struct xs_tx *tx,
			 const char **v, unsigned n)
{
	struct xs_store_caller who = { c->domid, c->priv };
	int err = 0;

	if (!tx)
		return -ENOENT;
	if (n < 1 || (strcmp(v[0], "T") && strcmp(v[0], "F")))
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

static int handle_perms(struct xs_conn *c, const struct xsd_sockmsg *req,
			struct xs_store_tx *stx, const struct xs_store_caller *who,
			const char *payload, size_t plen, const char **v, unsigned n)
{
	char path[XS_PATH_BUF];
	struct xs_store_perm *perms = NULL;
	unsigned np = 0;
	size_t flen;
	char *fmt;
	int err;

	if (n < 1)
		return -EINVAL;
	if (req->type == XS_GET_PERMS) {
		if (is_special(v[0])) {
			static const struct xs_store_perm def = { 0, XS_STORE_PERM_NONE };

			perms = malloc(sizeof(*perms));
			if (!perms)
				return -ENOMEM;
			*perms = def;
			np = 1;
		} else {
			err = conn_path(c, v[0], path, NULL);
			if (!err)
				err = xs_store_get_perms(c->srv->st, stx, who, path, &perms, &np);
			if (err)
				return err;
		}
		fmt = xs_store_perms_format(perms, np, &flen);
		free(perms);
		if (!fmt)
			return -ENOMEM;
		conn_reply(c, req, fmt, flen);
		free(fmt);
		return 0;
	}
	/* XS_SET_PERMS: path, then the ACL */
	{
		size_t off = strlen(v[0]) + 1;

		if (off >= plen)
			return -EINVAL;
		err = xs_store_perms_parse(payload + off, plen - off, &perms, &np);
		if (err)
			return err;
	}
	if (is_special(v[0]))
		err = c->priv ? 0 : -EACCES;
	else if (!(err = conn_path(c, v[0], path, NULL)))
		err = xs_store_set_perms(c->srv->st, stx, who, path, perms, np);
	free(perms);
	if (err)
		return err;
	conn_ack(c, req);
	return 0;
}

/* Handle one complete message; the payload is NUL-terminated at in[len]. */
static void conn_handle(struct xs_conn *c, const struct xsd_sockmsg *req, const char *payload)
{
	struct xs_server *s = c->srv;
	struct xs_store_caller who = { c->domid, c->priv };
	struct xs_store_tx *stx = NULL;
	struct xs_tx *tx = NULL;
	const char *v[4];
	unsigned n = msg_strings(payload, req->len, v, 4);
	char path[XS_PATH_BUF];
	unsigned long replies = c->replies;
	unsigned domid;
	int err = 0;

	if (req->tx_id && req->type != XS_WATCH && req->type != XS_UNWATCH) {
		tx = conn_tx_find(c, req->tx_id);
		if (!tx && req->type != XS_TRANSACTION_START) {
			conn_error(c, req, ENOENT);
			return;
		}
		if (tx)
			stx = tx->tx;
	}
	switch (req->type) {
	case XS_READ: {
		const char *val;
		size_t len;

		if ((err = n < 1 ? -EINVAL : conn_path(c, v[0], path, NULL)))
			break;
		err = xs_store_read(s->st, stx, &who, path, &val, &len);
		if (!err)
			conn_reply(c, req, val, len);
		break;
	}
	case XS_WRITE: {
		size_t off;

		if ((err = n < 1 ? -EINVAL : conn_path(c, v[0], path, NULL)))
			break;
		off = strlen(v[0]) + 1;
		if (off > req->len) {
			err = -EINVAL;
			break;
		}
		err = xs_store_write(s->st, stx, &who, path, payload + off, req->len - off);
		if (!err)
			conn_ack(c, req);
		break;
	}
	case XS_MKDIR:
	case XS_RM:
		if ((err = n < 1 ? -EINVAL : conn_path(c, v[0], path, NULL)))
			break;
		err = req->type == XS_MKDIR ? xs_store_mkdir(s->st, stx, &who, path)
					    : xs_store_rm(s->st, stx, &who, path);
		if (!err)
			conn_ack(c, req);
		break;
	case XS_DIRECTORY: {
		char *kids = NULL;
		size_t klen = 0;

		if ((err = n < 1 ? -EINVAL : conn_path(c, v[0], path, NULL)))
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
		if ((err = n < 2 ? -EINVAL : conn_path(c, v[0], path, NULL)))
			break;
		err = handle_directory_part(c, req, stx, &who, path, v[1]);
		break;
	case XS_GET_PERMS:
	case XS_SET_PERMS:
		err = handle_perms(c, req, stx, &who, payload, req->len, v, n);
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
		if ((err = n < 1 ? -EINVAL : parse_uint(v[0], &domid)))
			break;
		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		conn_reply_str(c, req, path);
		break;
	case XS_IS_DOMAIN_INTRODUCED:
		if ((err = n < 1 ? -EINVAL : parse_uint(v[0], &domid)))
			break;
		conn_reply_str(c, req, domain_known(s, domid) ? "T" : "F");
		break;
	case XS_INTRODUCE:
	case XS_RELEASE:
		if (!c->priv) {
			err = -EACCES;
			break;
		}
		if ((err = n < 1 ? -EINVAL : parse_uint(v[0], &domid)))
			break;
		if (req->type == XS_INTRODUCE) {
			err = domid == 0 ? -EINVAL : xs_server_introduce_domain(s, domid);
		} else {
			if (domid == 0)
				err = -EINVAL;
			else if (!domain_known(s, domid))
				err = -ENOENT;
			else
				err = xs_server_release_domain(s, domid);
		}
		if (!err)
			conn_ack(c, req);
		break;
	case XS_RESUME:
	case XS_SET_TARGET:
		if (!c->priv)
			err = -EACCES;
		else
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

/* Read and handle what @c sent, up to XS_MSGS_PER_RUN messages. */
static void conn_read(struct xs_conn *c)
{
	unsigned handled = 0;

	while (!c->dead && handled < XS_MSGS_PER_RUN && c->out_bytes < XS_SERVER_MAX_OUT_BYTES) {
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
		conn_handle(c, &hdr, c->in + XS_HDR_LEN);
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

/* ---- public API ---- */

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
	if (s->lfd >= 0) {
		close(s->lfd);
		if (s->lpath)
			unlink(s->lpath);
	}
	free(s->lpath);
	if (s->epfd >= 0)
		close(s->epfd);
	xs_store_free(s->st);
	free(s->domains);
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
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	if (!conn_new(s, fd, domid, domid == 0)) {
		int err = errno ? errno : ENOMEM;

		close(fd);
		return -err;
	}
	return 0;
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
		if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			conn_read(c);
	}
	server_flush_all(s);
	server_reap(s);
	return 0;
}
