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
 * sends can stop the others. Output is bounded per connection: past the
 * bound, watch events for that connection are dropped and its requests are
 * not read until it drains its replies. No threads, no blocking calls.
 *
 * Errors returned over the wire follow cxenstored: ENOSPC for the node,
 * node size and transaction quotas, E2BIG for the watch quota.
 */
#ifndef XNB_SIM_XS_SERVER_H
#define XNB_SIM_XS_SERVER_H

#include <stdbool.h>

/* Per unprivileged connection limits. */
#define XS_SERVER_MAX_WATCHES      128u
#define XS_SERVER_MAX_TRANSACTIONS 10u
#define XS_SERVER_MAX_OUT_EVENTS   1024u
#define XS_SERVER_MAX_OUT_BYTES    (1024u * 1024u)

struct xs_server;

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
 * failure. 0 or -errno.
 */
int xs_server_add_conn(struct xs_server *s, int fd, unsigned domid);

/** xs_server_fd() - the fd to poll for readability (an epoll fd). */
int xs_server_fd(struct xs_server *s);

/** xs_server_run() - handle all ready I/O without blocking. 0 or -errno. */
int xs_server_run(struct xs_server *s);

/**
 * xs_server_introduce_domain() - mark @domid introduced, create
 * /local/domain/<domid> owned by it (dom0 readable) and fire @introduceDomain.
 * 0 or -errno.
 */
int xs_server_introduce_domain(struct xs_server *s, unsigned domid);

/**
 * xs_server_release_domain() - forget @domid as introduced, close its
 * connections (dropping their watches and transactions) and fire
 * @releaseDomain. Its nodes stay (the toolstack removes them). 0, or
 * -EINVAL for domain 0. (Over the wire, XS_RELEASE of a domain that was not
 * introduced is ENOENT.)
 */
int xs_server_release_domain(struct xs_server *s, unsigned domid);

#endif /* XNB_SIM_XS_SERVER_H */
