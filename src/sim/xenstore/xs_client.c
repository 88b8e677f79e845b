/* SPDX-License-Identifier: MIT */
/* xs_client.c - blocking XenStore requests with queued watch events over a stream fd. */
#include "xs_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#define XS_HDR_LEN sizeof(struct xsd_sockmsg)
#define EV_BUCKETS 256u          /* the waiting events' hash (a power of two) */

struct xs_client_event {
	struct xs_client_event *next;   /* in arrival order */
	struct xs_client_event *hnext;  /* in its hash bucket */
	unsigned hash;
	char *path;
	char *token;
};

/* A watch this client set (path as given, relative or not), to fold events into. */
struct xs_client_watch {
	struct xs_client_watch *next;
	char *path;
	char *token;
};

struct xs_client {
	int fd;
	int epfd;
	int evfd;
	uint32_t next_req;
	bool broken;
	char rx[XS_HDR_LEN + XENSTORE_PAYLOAD_MAX + 1];
	size_t rx_have;
	struct xs_client_event *ev_head, *ev_tail;
	struct xs_client_event *ev_hash[EV_BUCKETS];
	unsigned nevents;
	struct xs_client_watch *watches;
	unsigned long merged, folded, dropped;
};

static void event_free(struct xs_client_event *e)
{
	free(e->path);
	free(e->token);
	free(e);
}

static void watches_clear(struct xs_client *c)
{
	while (c->watches) {
		struct xs_client_watch *w = c->watches;

		c->watches = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
}

void xs_client_close(struct xs_client *c)
{
	if (!c)
		return;
	while (c->ev_head) {
		struct xs_client_event *e = c->ev_head;

		c->ev_head = e->next;
		event_free(e);
	}
	watches_clear(c);
	if (c->fd >= 0)
		close(c->fd);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->evfd >= 0)
		close(c->evfd);
	free(c);
}

struct xs_client *xs_client_open_fd(int fd)
{
	struct xs_client *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	if (!c) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->next_req = 1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->epfd < 0 || c->evfd < 0)
		goto fail;
	ev.data.fd = fd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev))
		goto fail;
	ev.data.fd = c->evfd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev))
		goto fail;
	return c;
fail:
	err = errno;
	xs_client_close(c);
	errno = err;
	return NULL;
}

struct xs_client *xs_client_open_path(const char *sock_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	return xs_client_open_fd(fd);
}

int xs_client_fd(struct xs_client *c)
{
	return c->epfd;
}

static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int r = poll(&p, 1, -1);

		if (r >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

static int send_all(struct xs_client *c, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = writev(c->fd, iov, iovcnt);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				int err = wait_fd(c->fd, POLLOUT);

				if (err)
					return err;
				continue;
			}
			return -errno;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static void event_signal(struct xs_client *c, bool on)
{
	uint64_t v = 1;

	if (on) {
		if (write(c->evfd, &v, sizeof(v)) < 0)
			return; /* the counter is saturated: already signalled */
	} else {
		if (read(c->evfd, &v, sizeof(v)) < 0)
			return; /* already clear */
	}
}

static unsigned event_hash(const char *path, const char *token)
{
	uint32_t h = 2166136261u;  /* FNV-1a over path, NUL, token */

	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h *= 16777619u;
	for (const char *p = token; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static bool event_waiting(const struct xs_client *c, const char *path, const char *token,
			  unsigned hash)
{
	for (const struct xs_client_event *e = c->ev_hash[hash % EV_BUCKETS]; e; e = e->hnext)
		if (e->hash == hash && strcmp(e->path, path) == 0 && strcmp(e->token, token) == 0)
			return true;
	return false;
}

/* Whether an event for @path can come from a watch on @wpath. */
static bool watch_covers(const char *wpath, const char *path)
{
	size_t wl = strlen(wpath);

	if (strcmp(wpath, "/") == 0)
		return path[0] == '/';
	return strncmp(wpath, path, wl) == 0 && (path[wl] == '\0' || path[wl] == '/');
}

/* The watch (most general first) that event @path/@token came from, or NULL. */
static const struct xs_client_watch *event_watch(const struct xs_client *c, const char *path,
						 const char *token)
{
	const struct xs_client_watch *best = NULL;

	for (const struct xs_client_watch *w = c->watches; w; w = w->next)
		if (strcmp(w->token, token) == 0 && watch_covers(w->path, path) &&
		    (!best || strlen(w->path) < strlen(best->path)))
			best = w;
	return best;
}

/* Queue the event @path/@token unless an equal one waits; 0 or -ENOMEM. */
static int event_add(struct xs_client *c, const char *path, size_t plen, const char *token)
{
	struct xs_client_event *e;
	unsigned hash;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->path = strndup(path, plen);
	e->token = strdup(token);
	if (!e->path || !e->token) {
		event_free(e);
		return -ENOMEM;
	}
	hash = e->hash = event_hash(e->path, e->token);
	if (event_waiting(c, e->path, e->token, hash)) {
		event_free(e);
		c->merged++;
		return 0;
	}
	e->hnext = c->ev_hash[hash % EV_BUCKETS];
	c->ev_hash[hash % EV_BUCKETS] = e;
	if (c->ev_tail)
		c->ev_tail->next = e;
	else
		c->ev_head = e;
	c->ev_tail = e;
	c->nevents++;
	if (c->ev_head == e)
		event_signal(c, true);
	return 0;
}

/* Queue a watch event from an XS_WATCH_EVENT payload, bounded (see xs_client.h). */
static int event_queue(struct xs_client *c, const char *payload, size_t len)
{
	size_t pl = strnlen(payload, len);
	const char *tok = pl < len ? payload + pl + 1 : "";
	const struct xs_client_watch *w;
	char *path;
	bool waiting;

	if (c->nevents < XS_CLIENT_MAX_EVENTS)
		return event_add(c, payload, pl, tok);
	path = strndup(payload, pl);
	if (!path)
		return -ENOMEM;
	waiting = event_waiting(c, path, tok, event_hash(path, tok));
	w = waiting ? NULL : event_watch(c, path, tok);
	free(path);
	if (waiting) {
		c->merged++;
		return 0;
	}
	if (!w) {
		c->dropped++;
		return 0;
	}
	c->folded++;
	return event_add(c, w->path, strlen(w->path), w->token);
}

/*
 * Receive one whole message into c->rx (payload NUL-terminated). Returns 1
 * when one is there, 0 if @block is false and none is complete, -errno.
 */
static int recv_msg(struct xs_client *c, bool block)
{
	if (c->broken)
		return -EIO;
	for (;;) {
		size_t want = XS_HDR_LEN;
		struct xsd_sockmsg hdr;
		ssize_t n;

		if (c->rx_have >= XS_HDR_LEN) {
			memcpy(&hdr, c->rx, XS_HDR_LEN);
			if (hdr.len > XENSTORE_PAYLOAD_MAX) {
				c->broken = true;
				return -EIO;
			}
			want += hdr.len;
		}
		if (c->rx_have >= XS_HDR_LEN && c->rx_have == want) {
			c->rx[want] = '\0';
			return 1;
		}
		if (!block) {
			struct pollfd p = { .fd = c->fd, .events = POLLIN };

			if (poll(&p, 1, 0) <= 0)
				return 0;
		}
		n = read(c->fd, c->rx + c->rx_have, want - c->rx_have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				int err;

				if (!block)
					return 0;
				err = wait_fd(c->fd, POLLIN);
				if (err)
					return err;
				continue;
			}
			c->broken = true;
			return -errno;
		}
		if (n == 0) {
			c->broken = true;
			return -ECONNRESET;
		}
		c->rx_have += (size_t)n;
	}
}

static int error_from_wire(const char *s)
{
	if (strcmp(s, "EQUOTA") == 0)
		return EDQUOT;
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(s, xsd_errors[i].errstring) == 0)
			return xsd_errors[i].errnum;
	return EINVAL;
}

/* Keep our list of watches in step with a request the server accepted. */
static void watches_note(struct xs_client *c, uint32_t type, const char *payload, size_t len)
{
	size_t pl = strnlen(payload, len), tl;
	struct xs_client_watch *w, **pp;

	if (type == XS_RESET_WATCHES) {
		watches_clear(c);
		return;
	}
	if ((type != XS_WATCH && type != XS_UNWATCH) || pl >= len)
		return;
	tl = strnlen(payload + pl + 1, len - pl - 1);
	for (pp = &c->watches; *pp; pp = &(*pp)->next) {
		w = *pp;
		if (strlen(w->path) == pl && memcmp(w->path, payload, pl) == 0 &&
		    strlen(w->token) == tl && memcmp(w->token, payload + pl + 1, tl) == 0)
			break;
	}
	if (type == XS_UNWATCH) {
		if (*pp) {
			w = *pp;
			*pp = w->next;
			free(w->path);
			free(w->token);
			free(w);
		}
		return;
	}
	if (*pp)
		return;
	w = calloc(1, sizeof(*w));
	if (!w)
		return;  /* events of it past the bound are dropped, not folded */
	w->path = strndup(payload, pl);
	w->token = strndup(payload + pl + 1, tl);
	if (!w->path || !w->token) {
		free(w->path);
		free(w->token);
		free(w);
		return;
	}
	w->next = c->watches;
	c->watches = w;
}

int xs_client_request(struct xs_client *c, uint32_t type, uint32_t txid,
		      const void *payload, size_t len, char **reply, size_t *rlen)
{
	struct xsd_sockmsg hdr = { type, 0, txid, (uint32_t)len };
	struct iovec iov[2] = {
		{ &hdr, XS_HDR_LEN }, { (void *)payload, len },
	};
	int err;

	if (reply)
		*reply = NULL;
	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	if (c->broken)
		return -EIO;
	hdr.req_id = c->next_req++;
	err = send_all(c, iov, len ? 2 : 1);
	if (err)
		return err;
	for (;;) {
		struct xsd_sockmsg in;
		int r = recv_msg(c, true);

		if (r < 0)
			return r;
		memcpy(&in, c->rx, XS_HDR_LEN);
		c->rx_have = 0;
		if (in.type == XS_WATCH_EVENT) {
			err = event_queue(c, c->rx + XS_HDR_LEN, in.len);
			if (err)
				return err;
			continue;
		}
		if (in.req_id != hdr.req_id)
			continue; /* a stale reply: not ours */
		if (in.type == XS_ERROR)
			return -error_from_wire(c->rx + XS_HDR_LEN);
		watches_note(c, type, (const char *)payload, len);
		if (reply) {
			*reply = malloc(in.len + 1);
			if (!*reply)
				return -ENOMEM;
			memcpy(*reply, c->rx + XS_HDR_LEN, in.len + 1);
		}
		if (rlen)
			*rlen = in.len;
		return 0;
	}
}

/* A request whose payload is NUL-terminated strings @a, @b (b may be NULL). */
static int request_strs(struct xs_client *c, uint32_t type, uint32_t txid,
			const char *a, const char *b, char **reply, size_t *rlen)
{
	size_t al = strlen(a) + 1, bl = b ? strlen(b) + 1 : 0;
	char buf[XENSTORE_PAYLOAD_MAX];

	if (al + bl > sizeof(buf))
		return -E2BIG;
	memcpy(buf, a, al);
	if (b)
		memcpy(buf + al, b, bl);
	return xs_client_request(c, type, txid, buf, al + bl, reply, rlen);
}

int xs_client_read(struct xs_client *c, uint32_t txid, const char *path, char **val, size_t *len)
{
	return request_strs(c, XS_READ, txid, path, NULL, val, len);
}

int xs_client_write(struct xs_client *c, uint32_t txid, const char *path, const void *val, size_t len)
{
	size_t pl = strlen(path) + 1;
	char buf[XENSTORE_PAYLOAD_MAX];

	if (pl + len > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, pl);
	if (len)
		memcpy(buf + pl, val, len);
	return xs_client_request(c, XS_WRITE, txid, buf, pl + len, NULL, NULL);
}

int xs_client_mkdir(struct xs_client *c, uint32_t txid, const char *path)
{
	return request_strs(c, XS_MKDIR, txid, path, NULL, NULL, NULL);
}

int xs_client_rm(struct xs_client *c, uint32_t txid, const char *path)
{
	return request_strs(c, XS_RM, txid, path, NULL, NULL, NULL);
}

/* Split @len bytes of NUL-terminated strings into one malloc'd names block. */
static int names_split(const char *buf, size_t len, char ***names, unsigned *n)
{
	unsigned count = 0, i = 0;
	char **arr, *strs;

	for (size_t off = 0; off < len; off += strnlen(buf + off, len - off) + 1)
		count++;
	arr = malloc(sizeof(char *) * (count + 1) + len + 1);
	if (!arr)
		return -ENOMEM;
	strs = (char *)(arr + count + 1);
	memcpy(strs, buf, len);
	strs[len] = '\0';
	for (size_t off = 0; off < len; off += strlen(strs + off) + 1)
		arr[i++] = strs + off;
	arr[count] = NULL;
	*names = arr;
	*n = count;
	return 0;
}

/* XS_DIRECTORY_PART loop for directories too long for one reply. */
static int directory_parts(struct xs_client *c, uint32_t txid, const char *path,
			   char ***names, unsigned *n)
{
	char *all = NULL, *gen0 = NULL;
	size_t have = 0;
	int err;

	for (;;) {
		char offs[24], *rep = NULL, *more;
		size_t rlen = 0, gl, dl;
		bool last;

		snprintf(offs, sizeof(offs), "%zu", have);
		err = request_strs(c, XS_DIRECTORY_PART, txid, path, offs, &rep, &rlen);
		if (err)
			break;
		gl = strnlen(rep, rlen) + 1;
		if (gl > rlen) {
			free(rep);
			err = -EIO;
			break;
		}
		if (gen0 && strcmp(gen0, rep) != 0) {
			/* The directory changed under us: start again. */
			free(rep);
			free(gen0);
			gen0 = NULL;
			have = 0;
			continue;
		}
		if (!gen0 && !(gen0 = strdup(rep))) {
			free(rep);
			err = -ENOMEM;
			break;
		}
		dl = rlen - gl;
		/* The last part ends with an extra empty string. */
		last = dl == 0 || dl == 1 || (rep[gl + dl - 1] == '\0' && rep[gl + dl - 2] == '\0');
		if (dl)
			dl -= last;
		more = realloc(all, have + dl + 1);
		if (!more) {
			free(rep);
			err = -ENOMEM;
			break;
		}
		all = more;
		memcpy(all + have, rep + gl, dl);
		have += dl;
		free(rep);
		if (last) {
			err = names_split(all, have, names, n);
			break;
		}
	}
	free(all);
	free(gen0);
	return err;
}

int xs_client_directory(struct xs_client *c, uint32_t txid, const char *path,
			char ***names, unsigned *n)
{
	char *rep = NULL;
	size_t rlen = 0;
	int err = request_strs(c, XS_DIRECTORY, txid, path, NULL, &rep, &rlen);

	*names = NULL;
	*n = 0;
	if (err == -E2BIG)
		return directory_parts(c, txid, path, names, n);
	if (err)
		return err;
	err = names_split(rep, rlen, names, n);
	free(rep);
	return err;
}

int xs_client_get_perms(struct xs_client *c, uint32_t txid, const char *path,
			struct xs_client_perm **perms, unsigned *n)
{
	char *rep = NULL;
	size_t rlen = 0;
	unsigned count = 0, i = 0;
	struct xs_client_perm *p;
	int err = request_strs(c, XS_GET_PERMS, txid, path, NULL, &rep, &rlen);

	*perms = NULL;
	*n = 0;
	if (err)
		return err;
	for (size_t off = 0; off < rlen; off += strlen(rep + off) + 1)
		count++;
	p = calloc(count ? count : 1, sizeof(*p));
	if (!p) {
		free(rep);
		return -ENOMEM;
	}
	for (size_t off = 0; off < rlen; off += strlen(rep + off) + 1, i++) {
		p[i].perm = rep[off];
		p[i].domid = (unsigned)strtoul(rep + off + (rep[off] ? 1 : 0), NULL, 10);
	}
	free(rep);
	*perms = p;
	*n = count;
	return 0;
}

int xs_client_set_perms(struct xs_client *c, uint32_t txid, const char *path,
			const struct xs_client_perm *perms, unsigned n)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t off = strlen(path) + 1;

	if (off > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, off);
	for (unsigned i = 0; i < n; i++) {
		int l;

		if (!strchr("nrwb", perms[i].perm) || !perms[i].perm)
			return -EINVAL;
		l = snprintf(buf + off, sizeof(buf) - off, "%c%u", perms[i].perm, perms[i].domid);
		if (l < 0 || (size_t)l + 1 > sizeof(buf) - off)
			return -E2BIG;
		off += (size_t)l + 1;
	}
	return xs_client_request(c, XS_SET_PERMS, txid, buf, off, NULL, NULL);
}

int xs_client_transaction_start(struct xs_client *c, uint32_t *txid)
{
	char *rep = NULL;
	char *end;
	unsigned long v;
	int err = request_strs(c, XS_TRANSACTION_START, 0, "", NULL, &rep, NULL);

	if (err)
		return err;
	errno = 0;
	v = strtoul(rep, &end, 10);
	if (errno || end == rep || v == 0 || v > 0xffffffffUL)
		err = -EIO;
	else
		*txid = (uint32_t)v;
	free(rep);
	return err;
}

int xs_client_transaction_end(struct xs_client *c, uint32_t txid, bool commit)
{
	return request_strs(c, XS_TRANSACTION_END, txid, commit ? "T" : "F", NULL, NULL, NULL);
}

int xs_client_watch(struct xs_client *c, const char *path, const char *token)
{
	return request_strs(c, XS_WATCH, 0, path, token, NULL, NULL);
}

int xs_client_unwatch(struct xs_client *c, const char *path, const char *token)
{
	return request_strs(c, XS_UNWATCH, 0, path, token, NULL, NULL);
}

int xs_client_read_watch(struct xs_client *c, char **path, char **token)
{
	struct xs_client_event *e;

	while (!c->ev_head) {
		struct xsd_sockmsg in;
		int r = recv_msg(c, false);

		if (r <= 0)
			return r;
		memcpy(&in, c->rx, XS_HDR_LEN);
		c->rx_have = 0;
		if (in.type == XS_WATCH_EVENT) {
			r = event_queue(c, c->rx + XS_HDR_LEN, in.len);
			if (r)
				return r;
		}
		/* anything else is a reply nobody waits for: dropped */
	}
	e = c->ev_head;
	c->ev_head = e->next;
	if (!c->ev_head) {
		c->ev_tail = NULL;
		event_signal(c, false);
	}
	for (struct xs_client_event **pp = &c->ev_hash[e->hash % EV_BUCKETS]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	c->nevents--;
	*path = e->path;
	*token = e->token;
	free(e);
	return 1;
}

void xs_client_stats(const struct xs_client *c, struct xs_client_stats *st)
{
	st->pending = c->nevents;
	st->merged = c->merged;
	st->folded = c->folded;
	st->dropped = c->dropped;
}
