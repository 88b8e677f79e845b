/* SPDX-License-Identifier: MIT */
/*
 * xs_store.h - the XenStore tree: nodes, permissions, quotas, transactions.
 *
 * Theory of operation: a store is a tree of nodes, each with a value (bytes),
 * an ACL (first entry: owner and default permission, as in xenstored) and a
 * generation number (a store-wide counter) renewed on every change to the
 * node, including a change to its list of children. Every operation names
 * its caller (domain id, whether it is privileged, and the domain it may act
 * for, set by XS_SET_TARGET) and applies xenstored's permission rules.
 *
 * Transactions are overlays, as C xenstored's per-transaction node lists:
 * a transaction records, for each node it touches, the generation the node
 * had then (0: absent), and keeps its own version only of the nodes it
 * changes (value, ACL, children added or removed). Starting one costs
 * nothing; it costs what it touches. Removing a subtree touches every node
 * in it (as xenstored does), so that a change below conflicts. Commit
 * checks every touched node's generation against the tree (any difference:
 * -EAGAIN, nothing applied), checks the node quota of the domains whose
 * node count grew, applies the changes (allocating first, so nothing is left
 * half done) and only then fires the notifications, in the order the
 * transaction made them. An operation outside a transaction is one such
 * overlay, applied at once: the rules are the same code either way.
 *
 * Dead domains (xs_store_domain_release(), XSA-322): the nodes a released
 * domain owns are removed (xenstored 4.17's default, without -K), and an ACL
 * entry (other than the owner) that names a domain released after the node
 * last changed is ignored from then on, even when a new domain reuses the id.
 * Such entries are marked XS_STORE_PERM_IGNORE in place, as xenstored marks
 * them, so the mark survives later changes of the node. Unlike xenstored,
 * which ignores an entry naming a domain that does not exist yet, an entry
 * written before a domain with that id first exists is honoured: the
 * simulator's domains exist only once their process runs, and its toolstack
 * writes a guest's nodes before that, as libxl writes them after creating
 * the domain. Only the reuse of a dead domain's id is refused access.
 *
 * Quotas (for unprivileged callers, C xenstored 4.17's defaults): nodes per
 * owning domain, value size, ACL entries per node, nodes a transaction may
 * touch. A transaction checks the node quota as it creates nodes (counting
 * its own) and again at commit, against the tree as it is then.
 *
 * The store knows nothing of connections or watches: every change is
 * reported through the notify callback with the changed path, whether only
 * watches on exactly that path should fire (descendants of a removed node)
 * and the node's ACL, so that the server can decide who may hear of it.
 *
 * Paths given to the store are canonical absolute paths (xs_store_path_ok()).
 */
#ifndef XNB_SIM_XS_STORE_H
#define XNB_SIM_XS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Permission bits, as in xenstored (IGNORE: an entry naming a dead domain). */
#define XS_STORE_PERM_NONE   0u
#define XS_STORE_PERM_READ   1u
#define XS_STORE_PERM_WRITE  2u
#define XS_STORE_PERM_OWNER  4u
#define XS_STORE_PERM_IGNORE 0x10u

/* Default quotas for unprivileged domains: C xenstored 4.17's (xenstored_core.c). */
#define XS_STORE_QUOTA_NODES     1000u  /* quota_nb_entry_per_domain */
#define XS_STORE_QUOTA_NODE_SIZE 2048u  /* quota_max_entry_size (we count the value only) */
#define XS_STORE_QUOTA_PERMS     5u     /* quota_nb_perms_per_node */
#define XS_STORE_QUOTA_TX_NODES  1024u  /* quota_trans_nodes */

struct xs_store_quotas {
	unsigned nodes;      /* nodes a domain may own */
	size_t node_size;    /* bytes of a value */
	unsigned perms;      /* ACL entries of a node */
	unsigned tx_nodes;   /* nodes one transaction may touch */
};

/* One ACL entry: a domain and its permission bits (READ|WRITE, IGNORE). */
struct xs_store_perm {
	unsigned domid;
	unsigned bits;
};

/*
 * Who is asking: privileged callers (dom0, the socket) may do anything; a
 * caller with a target (XS_SET_TARGET) has that domain's rights as well.
 */
struct xs_store_caller {
	unsigned domid;
	bool priv;
	bool has_target;
	unsigned target;
};

/*
 * Change notification: @path changed; @exact: only watches on exactly @path
 * fire (a descendant of a removed node); @perms/@nperms: the node's ACL.
 */
typedef void (*xs_store_notify_fn)(void *ctx, const char *path, bool exact,
				   const struct xs_store_perm *perms, unsigned nperms);

struct xs_store;
struct xs_store_tx;

/** xs_store_new() - an empty store holding "/" (owner 0, perm none). NULL on ENOMEM. */
struct xs_store *xs_store_new(void);

/** xs_store_free() - free the store and every node (NULL is fine); free its transactions first. */
void xs_store_free(struct xs_store *st);

/** xs_store_notify_set() - install the change callback (NULL: none). */
void xs_store_notify_set(struct xs_store *st, xs_store_notify_fn fn, void *ctx);

/** xs_store_quotas_set() - replace the quotas for unprivileged callers. */
void xs_store_quotas_set(struct xs_store *st, const struct xs_store_quotas *q);

/** xs_store_quotas_get() - the quotas in force. */
void xs_store_quotas_get(const struct xs_store *st, struct xs_store_quotas *q);

/**
 * xs_store_path_ok() - whether @path is a valid canonical absolute node path:
 * starts with '/', no empty component, no trailing '/' (except "/"), only
 * [A-Za-z0-9_@/-], at most XENSTORE_ABS_PATH_MAX characters.
 */
bool xs_store_path_ok(const char *path);

/**
 * xs_store_perm_for() - the permission bits @c has on a node with ACL @p:
 * everything for the privileged and the owner (or the owner being @c's
 * target), else the first entry naming @c or its target that is not
 * marked XS_STORE_PERM_IGNORE, else the default (first entry).
 */
unsigned xs_store_perm_for(const struct xs_store_caller *c,
			   const struct xs_store_perm *p, unsigned n);

/*
 * The operations below act on the tree when @tx is NULL, else in
 * transaction @tx (of the same store).
 */

/**
 * xs_store_read() - the value of @path: *@val points into the store (valid
 * until the next change of the store or @tx), *@len its length.
 * 0, -ENOENT, -EACCES, or (in a transaction) -ENOSPC, -ENOMEM.
 */
int xs_store_read(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		  const char *path, const char **val, size_t *len);

/**
 * xs_store_write() - set @path's value, creating it and missing parents
 * (which inherit their parent's ACL, owned by an unprivileged creator).
 * 0, -EACCES, -ENOSPC (quota), -ENOMEM.
 */
int xs_store_write(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		   const char *path, const void *val, size_t len);

/** xs_store_mkdir() - create @path (and parents) with an empty value if missing. */
int xs_store_mkdir(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		   const char *path);

/**
 * xs_store_rm() - remove @path and its subtree. A missing node whose parent
 * exists is success; a missing parent is -ENOENT; "/" is -EINVAL.
 */
int xs_store_rm(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		const char *path);

/**
 * xs_store_directory() - the children of @path as consecutive NUL-terminated
 * names in a malloc'd buffer (*@buf, *@len bytes; NULL/0 when none) and the
 * node's generation in *@gen (may be NULL).
 */
int xs_store_directory(struct xs_store *st, struct xs_store_tx *tx,
		       const struct xs_store_caller *c, const char *path,
		       char **buf, size_t *len, uint64_t *gen);

/** xs_store_get_perms() - a malloc'd copy of @path's ACL (without the IGNORE marks). */
int xs_store_get_perms(struct xs_store *st, struct xs_store_tx *tx,
		       const struct xs_store_caller *c, const char *path,
		       struct xs_store_perm **perms, unsigned *n);

/**
 * xs_store_set_perms() - replace @path's ACL (the caller needs to own the
 * node; unprivileged callers may not change the owner: -EPERM, nor set more
 * than the quota's entries: -ENOSPC, as xenstored).
 */
int xs_store_set_perms(struct xs_store *st, struct xs_store_tx *tx,
		       const struct xs_store_caller *c, const char *path,
		       const struct xs_store_perm *perms, unsigned n);

/** xs_store_exists() - whether @path exists in the tree (no permission check). */
bool xs_store_exists(struct xs_store *st, const char *path);

/** xs_store_nodes_owned() - how many nodes of the tree @domid owns. */
unsigned xs_store_nodes_owned(const struct xs_store *st, unsigned domid);

/** xs_store_nodes() - how many nodes the tree holds. */
unsigned long xs_store_nodes(const struct xs_store *st);

/**
 * xs_store_domain_release() - @domid is dead: remove the nodes it owns
 * (notifying as xs_store_rm() does) and ignore, on every node not changed
 * since, the ACL entries that name it. 0, -EINVAL for domain 0, -ENOMEM.
 */
int xs_store_domain_release(struct xs_store *st, unsigned domid);

/** xs_store_tx_start() - a new transaction on @st. NULL on ENOMEM. */
struct xs_store_tx *xs_store_tx_start(struct xs_store *st);

/**
 * xs_store_tx_commit() - apply @tx for @c: -EAGAIN if a node it touched
 * changed since (nothing applied), -ENOSPC if it would take a domain past
 * its node quota (@c unprivileged) or if it hit a quota on the way, -ENOMEM
 * (also for an allocation that failed on the way), else 0 and the changes
 * notified. @tx is left as it was; free it with xs_store_tx_free().
 */
int xs_store_tx_commit(struct xs_store_tx *tx, const struct xs_store_caller *c);

/** xs_store_tx_free() - end @tx without applying it (NULL is fine). */
void xs_store_tx_free(struct xs_store_tx *tx);

/** xs_store_tx_nodes() - how many nodes @tx touched. */
unsigned xs_store_tx_nodes(const struct xs_store_tx *tx);

/** xs_store_tx_bytes() - about how many bytes @tx holds (its records and their data). */
size_t xs_store_tx_bytes(const struct xs_store_tx *tx);

/**
 * xs_store_perms_parse() - parse the wire form "r0\0w5\0" (@len bytes, the
 * last NUL optional) into a malloc'd array. 0 or -EINVAL/-ENOMEM.
 */
int xs_store_perms_parse(const char *buf, size_t len, struct xs_store_perm **perms, unsigned *n);

/**
 * xs_store_perms_format() - the wire form of an ACL (IGNORE marks left out,
 * as xenstored), malloc'd; *@len counts every NUL. NULL on ENOMEM.
 */
char *xs_store_perms_format(const struct xs_store_perm *perms, unsigned n, size_t *len);

#endif /* XNB_SIM_XS_STORE_H */
