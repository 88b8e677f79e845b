/* SPDX-License-Identifier: MIT */
/*
 * xs_server.h - a XenStore daemon core speaking xenstored's wire protocol.
 *
 * Theory of operation: the server owns one xs_store and any number of
 * connections: clients of the privileged unix socket (dom0 tools, including
 * Debian's libxenstore with XENSTORED_PATH pointing at it) and stream fds
 * adopted as a given domain's connection. All fds are non-blocking and
 * registered in one epoll set; the embedding event loop polls
 * xs_server_fd() and calls xs_server_run(), which accepts, reads whole
 * messages (struct xsd_sockmsg + payload, at most XENSTORE_PAYLOAD_MAX),
 * handles them and writes replies and watch events as far as the peer takes
 * them. A client that breaks the framing is disconnected; nothing a client
 * sends can stop the others. No threads, no blocking calls.
 *
 * Domains, as in xenstored: a guest domain has one connection (a second one
 * is refused with EEXIST unless the first has hung up); domain 0 may have
 * any number (its tools and each backend process). Quotas are the domain's,
 * C xenstored 4.17's defaults: nodes it owns, watches, open transactions,
 * outstanding requests (one not answered yet, or whose watch events are
 * still queued for a privileged reader, which is how xenstored counts them):
 * at the quota the server stops reading the domain's requests until one is
 * answered. Output is bounded per connection: past the bound, watch events
 * for that connection are dropped, an event equal to one still queued is
 * dropped (as xenstored does), and requests are not read until the
 * connection drains its replies.
 *
 * A released domain (xs_server_release_domain(), XS_RELEASE) loses its
 * connection, its watches and transactions; the nodes it owns are removed
 * and ACL entries naming it are ignored from then on (xs_store.h), it leaves
 * the special nodes' ACLs and any XS_SET_TARGET relation, and only then
 * @releaseDomain fires.
 *
 * @introduceDomain and @releaseDomain fire only for watchers that may read
 * the special node (its ACL: dom0 only unless dom0 grants more with
 * SET_PERMS), as in xenstored since 4.15.
 *
 * Every argument must be a NUL-terminated string (xenstored's onearg()):
 * a path, domid or token without its NUL is EINVAL for every request.
 *
 * Errors returned over the wire follow xenstored: ENOSPC for the node, node
 * size, ACL size and transaction quotas, E2BIG for the watch quota.
 */
#ifndef XNB_SIM_XS_SERVER_H
#define XNB_SIM_XS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

/* Per unprivileged domain: C xenstored 4.17's defaults (xenstored_core.c). */
#define XS_SERVER_QUOTA_WATCHES      128u  /* quota_nb_watch_per_domain */
#define XS_SERVER_QUOTA_TRANSACTIONS 10u   /* quota_max_transaction */
#define XS_SERVER_QUOTA_OUTSTANDING  20u   /* quota_req_outstanding */
/* Per connection output bounds (ours). */
#define XS_SERVER_MAX_OUT_EVENTS   1024u
#define XS_SERVER_MAX_OUT_BYTES    (1024u * 1024u)

struct xs_server;

/* What a domain holds, for tests and the fuzzer. */
struct xs_server_domain_usage {
	bool known;          /* the server has a record of it */
	bool introduced;
	bool connected;
	unsigned nodes;      /* nodes it owns */
	unsigned watches;
	unsigned transactions;
	unsigned outstanding;
	size_t tx_bytes;     /* what its open transactions hold */
};

/* What the whole server holds. */
struct xs_server_usage {
	unsigned conns;
	unsigned domains;    /* domain records */
	unsigned long nodes;
	size_t out_bytes;    /* queued replies and events */
	size_t tx_bytes;
};

/** xs_server_new() - a server with an empty store ("/" only). NULL + errno on failure. */
struct xs_server *xs_server_new(void);

/** xs_server_free() - close every connection and the socket, free everything (NULL is fine). */
void xs_server_free(struct xs_server *s);

/**
 * xs_server_listen() - listen on unix stream socket @path (replacing a stale
 * socket file) for privileged (dom0) clients. 0 or -errno.
 */
int xs_server_listen(struct xs_server *s, const char *path);

/**
 * xs_server_add_conn() - adopt connected stream @fd as domain @domid's
 * connection; domain 0 is privileged. Ownership of @fd is taken even on
 * failure. 0, -EEXIST (the guest domain has a live connection already),
 * -EINVAL (@domid not below DOMID_FIRST_RESERVED) or -errno.
 */
int xs_server_add_conn(struct xs_server *s, int fd, unsigned domid);

/** xs_server_fd() - the fd to poll for readability (an epoll fd). */
int xs_server_fd(struct xs_server *s);

/** xs_server_run() - handle all ready I/O without blocking. 0 or -errno. */
int xs_server_run(struct xs_server *s);

/**
 * xs_server_introduce_domain() - mark @domid introduced, create
 * /local/domain/<domid> owned by it (dom0 readable) and fire
 * @introduceDomain; nothing if it is introduced already. 0, -EINVAL for
 * domain 0 or an id not below DOMID_FIRST_RESERVED, -errno.
 */
int xs_server_introduce_domain(struct xs_server *s, unsigned domid);

/**
 * xs_server_release_domain() - @domid is gone: close its connection
 * (dropping its watches and transactions), remove its nodes and its rights
 * (see above), then fire @releaseDomain. 0, -EINVAL for domain 0, -ENOENT
 * if it was not introduced, -ENOMEM (the release is done all the same).
 */
int xs_server_release_domain(struct xs_server *s, unsigned domid);

/** xs_server_domain_usage() - what @domid holds now. */
void xs_server_domain_usage(struct xs_server *s, unsigned domid,
			    struct xs_server_domain_usage *u);

/** xs_server_usage() - what the server holds now. */
void xs_server_usage(struct xs_server *s, struct xs_server_usage *u);

#endif /* XNB_SIM_XS_SERVER_H */
