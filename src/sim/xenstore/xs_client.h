/* SPDX-License-Identifier: MIT */
/*
 * xs_client.h - a small XenStore client over any connected stream fd.
 *
 * Theory of operation: requests are blocking: one xsd_sockmsg goes out and
 * messages are read until the reply with the same req_id arrives. Watch
 * events that arrive meanwhile (or whenever the fd is read) are queued in
 * order. xs_client_fd() returns an epoll fd that is readable while the
 * socket has data or the queue holds an event, so an event loop can poll it
 * and drain xs_client_read_watch() until it returns 0.
 *
 * The queue is bounded, and nothing a flood of events says is lost. An
 * event carries no value, only "this path changed": its reader reads the
 * node, so an event equal (path and token) to one still queued is merged
 * into it. At most XS_CLIENT_MAX_EVENTS different events wait; past that,
 * an event is replaced by its watch's own (the path the watch was set on,
 * and its token: "something under here changed", as the watch's first
 * firing says), merged like any other, so at most one more per watch
 * waits. A reader that re-reads what is under the path it is told about
 * (xnbd, its workers and xnb-netfront do) misses nothing. An event no
 * registered watch explains is dropped past the bound. The queue holds at
 * most XS_CLIENT_MAX_EVENTS + (number of watches) events.
 *
 * Every function returns 0 or -errno; error replies map the wire's strings
 * (xsd_errors of xs_wire.h, plus "EQUOTA" -> -EDQUOT) back to errno values.
 * Paths may be absolute or relative to the connection's /local/domain/<id>.
 * One client is not thread-safe.
 */
#ifndef XNB_SIM_XS_CLIENT_H
#define XNB_SIM_XS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Different events waiting at most, before they fold into their watches' (see above). */
#define XS_CLIENT_MAX_EVENTS 1024u

struct xs_client;

/* What the event queue did (counters since the client was opened). */
struct xs_client_stats {
	unsigned pending;          /* events waiting now */
	unsigned long merged;      /* equal to one waiting: merged into it */
	unsigned long folded;      /* past the bound: replaced by their watch's own */
	unsigned long dropped;     /* past the bound, no watch of ours: dropped */
};

/* One ACL entry: 'n' none, 'r' read, 'w' write, 'b' both. */
struct xs_client_perm {
	unsigned domid;
	char perm;
};

/** xs_client_open_fd() - a client over connected stream @fd (taken over; closed by xs_client_close()). NULL + errno. */
struct xs_client *xs_client_open_fd(int fd);

/** xs_client_open_path() - connect to the unix socket @sock_path. NULL + errno. */
struct xs_client *xs_client_open_path(const char *sock_path);

/** xs_client_close() - close the connection, drop queued events (NULL is fine). */
void xs_client_close(struct xs_client *c);

/** xs_client_read() - read @path: *@val malloc'd and NUL-terminated, *@len its length (without the NUL; @len may be NULL). */
int xs_client_read(struct xs_client *c, uint32_t txid, const char *path, char **val, size_t *len);

/** xs_client_write() - write @len bytes of @val to @path (created with missing parents). */
int xs_client_write(struct xs_client *c, uint32_t txid, const char *path, const void *val, size_t len);

/** xs_client_mkdir() - create @path with an empty value if it is missing. */
int xs_client_mkdir(struct xs_client *c, uint32_t txid, const char *path);

/** xs_client_rm() - remove @path and everything under it. */
int xs_client_rm(struct xs_client *c, uint32_t txid, const char *path);

/**
 * xs_client_directory() - the children of @path: *@names is one malloc'd
 * block (pointers, then strings), free it with free(); *@n entries. Falls
 * back to XS_DIRECTORY_PART when the list does not fit one message.
 */
int xs_client_directory(struct xs_client *c, uint32_t txid, const char *path,
			char ***names, unsigned *n);

/** xs_client_get_perms() - @path's ACL as a malloc'd array (*@perms, *@n entries; first: owner and default). */
int xs_client_get_perms(struct xs_client *c, uint32_t txid, const char *path,
			struct xs_client_perm **perms, unsigned *n);

/** xs_client_set_perms() - replace @path's ACL with @n entries of @perms. */
int xs_client_set_perms(struct xs_client *c, uint32_t txid, const char *path,
			const struct xs_client_perm *perms, unsigned n);

/** xs_client_transaction_start() - start a transaction; its id in *@txid. */
int xs_client_transaction_start(struct xs_client *c, uint32_t *txid);

/** xs_client_transaction_end() - commit (@commit) or abort transaction @txid; a conflicting commit is -EAGAIN. */
int xs_client_transaction_end(struct xs_client *c, uint32_t txid, bool commit);

/** xs_client_watch() - watch @path (or "@introduceDomain"/"@releaseDomain") with @token; fires once at once. */
int xs_client_watch(struct xs_client *c, const char *path, const char *token);

/** xs_client_unwatch() - remove the watch @path/@token. */
int xs_client_unwatch(struct xs_client *c, const char *path, const char *token);

/** xs_client_stats() - the event queue's counters. */
void xs_client_stats(const struct xs_client *c, struct xs_client_stats *st);

/** xs_client_fd() - an fd readable while a watch event may be pending. */
int xs_client_fd(struct xs_client *c);

/**
 * xs_client_read_watch() - the next watch event without blocking: 1 with
 * *@path and *@token malloc'd (caller frees both), 0 if none, -errno.
 */
int xs_client_read_watch(struct xs_client *c, char **path, char **token);

/**
 * xs_client_request() - send any request (type from xs_wire.h, @len bytes
 * of @payload) and wait for its reply: *@reply malloc'd and NUL-terminated
 * (may be NULL to discard), *@rlen its length (may be NULL).
 */
int xs_client_request(struct xs_client *c, uint32_t type, uint32_t txid,
		      const void *payload, size_t len, char **reply, size_t *rlen);

#endif /* XNB_SIM_XS_CLIENT_H */
