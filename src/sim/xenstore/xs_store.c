/* SPDX-License-Identifier: MIT */
/* xs_store.c - the XenStore tree with xenstored's permission, quota and transaction rules. */
#include "xs_store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

struct xs_node {
	char *name;               /* last component; "" for the root */
	struct xs_node *parent;
	struct xs_node **kids;    /* in creation order, as xenstored lists them */
	unsigned nkids, capkids;
	char *val;
	size_t len;
	struct xs_store_perm *perms;
	unsigned nperms;
	uint64_t gen;
};

enum tx_op_type { TX_OP_WRITE, TX_OP_MKDIR, TX_OP_RM, TX_OP_SETPERMS };

/* One logged mutation of a transaction, replayed at commit. */
struct tx_op {
	enum tx_op_type type;
	struct xs_store_caller caller;
	char *path;
	char *val;
	size_t len;
	struct xs_store_perm *perms;
	unsigned nperms;
	struct tx_op *next;
};

/* A path a transaction touched and its generation then (0: absent). */
struct tx_access {
	char *path;
	uint64_t gen;
};

struct owner_count {
	unsigned domid;
	unsigned count;
};

struct xs_store {
	struct xs_node *root;
	uint64_t gen;
	xs_store_notify_fn notify;
	void *notify_ctx;
	unsigned quota_nodes;
	size_t quota_size;
	struct owner_count *owners;
	unsigned nowners, capowners;
	/* transaction state */
	bool tracking;
	bool replaying;
	int track_err;            /* ENOMEM while tracking: the commit must fail */
	struct tx_access *acc;
	unsigned nacc, capacc;
	struct tx_op *log, **log_tail;
};

static void node_free(struct xs_node *n)
{
	if (!n)
		return;
	for (unsigned i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->val);
	free(n->perms);
	free(n);
}

static struct xs_node *node_alloc(const char *name, size_t nlen,
				  const struct xs_store_perm *perms, unsigned nperms)
{
	struct xs_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strndup(name, nlen);
	n->perms = malloc(sizeof(*perms) * nperms);
	if (!n->name || !n->perms) {
		node_free(n);
		return NULL;
	}
	memcpy(n->perms, perms, sizeof(*perms) * nperms);
	n->nperms = nperms;
	return n;
}

static struct owner_count *owner_find(const struct xs_store *st, unsigned domid)
{
	for (unsigned i = 0; i < st->nowners; i++)
		if (st->owners[i].domid == domid)
			return &st->owners[i];
	return NULL;
}

unsigned xs_store_nodes_owned(const struct xs_store *st, unsigned domid)
{
	const struct owner_count *o = owner_find(st, domid);

	return o ? o->count : 0;
}

static int owner_adjust(struct xs_store *st, unsigned domid, int delta)
{
	struct owner_count *o = owner_find(st, domid);

	if (!o) {
		if (delta < 0)
			return 0;
		if (st->nowners == st->capowners) {
			unsigned cap = st->capowners ? st->capowners * 2 : 8;
			struct owner_count *p = realloc(st->owners, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			st->owners = p;
			st->capowners = cap;
		}
		o = &st->owners[st->nowners++];
		o->domid = domid;
		o->count = 0;
	}
	if (delta < 0 && o->count < (unsigned)-delta)
		o->count = 0;
	else
		o->count += delta;
	return 0;
}

struct xs_store *xs_store_new(void)
{
	static const struct xs_store_perm root_perm = { 0, XS_STORE_PERM_NONE };
	struct xs_store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->root = node_alloc("", 0, &root_perm, 1);
	if (!st->root || owner_adjust(st, 0, 1)) {
		xs_store_free(st);
		errno = ENOMEM;
		return NULL;
	}
	st->root->gen = ++st->gen;
	st->quota_nodes = XS_STORE_QUOTA_NODES;
	st->quota_size = XS_STORE_QUOTA_NODE_SIZE;
	st->log_tail = &st->log;
	return st;
}

static void tx_op_free(struct tx_op *op)
{
	free(op->path);
	free(op->val);
	free(op->perms);
	free(op);
}

void xs_store_free(struct xs_store *st)
{
	if (!st)
		return;
	node_free(st->root);
	free(st->owners);
	for (unsigned i = 0; i < st->nacc; i++)
		free(st->acc[i].path);
	free(st->acc);
	while (st->log) {
		struct tx_op *op = st->log;

		st->log = op->next;
		tx_op_free(op);
	}
	free(st);
}

void xs_store_notify_set(struct xs_store *st, xs_store_notify_fn fn, void *ctx)
{
	st->notify = fn;
	st->notify_ctx = ctx;
}

void xs_store_quota_set(struct xs_store *st, unsigned max_nodes, size_t max_size)
{
	st->quota_nodes = max_nodes;
	st->quota_size = max_size;
}

bool xs_store_path_ok(const char *path)
{
	size_t len;

	if (!path || path[0] != '/')
		return false;
	len = strlen(path);
	if (len > XENSTORE_ABS_PATH_MAX)
		return false;
	if (len == 1)
		return true;
	if (path[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = path[i];

		if (ch == '/') {
			if (path[i + 1] == '/')
				return false;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '@'))
			return false;
	}
	return true;
}

unsigned xs_store_perm_for(const struct xs_store_caller *c,
			   const struct xs_store_perm *p, unsigned n)
{
	const unsigned all = XS_STORE_PERM_READ | XS_STORE_PERM_WRITE | XS_STORE_PERM_OWNER;

	if (c->priv)
		return all;
	if (n == 0)
		return XS_STORE_PERM_NONE;
	if (p[0].domid == c->domid)
		return all;
	for (unsigned i = 1; i < n; i++)
		if (p[i].domid == c->domid)
			return p[i].bits & (XS_STORE_PERM_READ | XS_STORE_PERM_WRITE);
	return p[0].bits & (XS_STORE_PERM_READ | XS_STORE_PERM_WRITE);
}

static bool node_allows(const struct xs_store_caller *c, const struct xs_node *n, unsigned want)
{
	return (xs_store_perm_for(c, n->perms, n->nperms) & want) == want;
}

static struct xs_node *node_child(const struct xs_node *n, const char *name, size_t nlen,
				  unsigned *idx)
{
	for (unsigned i = 0; i < n->nkids; i++) {
		struct xs_node *k = n->kids[i];

		if (strlen(k->name) == nlen && memcmp(k->name, name, nlen) == 0) {
			if (idx)
				*idx = i;
			return k;
		}
	}
	return NULL;
}

/*
 * Walk @path as far as it exists. Returns the node for the whole path or
 * NULL; *@deepest (optional) receives the deepest existing node and *@done
 * the length of @path it covers.
 */
static struct xs_node *node_walk(const struct xs_store *st, const char *path,
				 struct xs_node **deepest, size_t *done)
{
	struct xs_node *n = st->root;
	const char *p = path;

	while (*p == '/')
		p++;
	if (done)
		*done = 0;
	while (*p) {
		const char *e = strchrnul(p, '/');
		struct xs_node *k = node_child(n, p, (size_t)(e - p), NULL);

		if (!k)
			break;
		n = k;
		if (done)
			*done = (size_t)(e - path);
		p = *e ? e + 1 : e;
	}
	if (deepest)
		*deepest = n;
	return *p ? NULL : n;
}

bool xs_store_exists(struct xs_store *st, const char *path)
{
	return node_walk(st, path, NULL, NULL) != NULL;
}

/* Record that the transaction saw @path (with its current generation). */
static void tx_touch_len(struct xs_store *st, const char *path, size_t plen)
{
	struct xs_node *n;
	char *copy;

	if (!st->tracking || st->replaying)
		return;
	for (unsigned i = 0; i < st->nacc; i++)
		if (strlen(st->acc[i].path) == plen && memcmp(st->acc[i].path, path, plen) == 0)
			return;
	if (st->nacc == st->capacc) {
		unsigned cap = st->capacc ? st->capacc * 2 : 16;
		struct tx_access *a = realloc(st->acc, cap * sizeof(*a));

		if (!a) {
			st->track_err = ENOMEM;
			return;
		}
		st->acc = a;
		st->capacc = cap;
	}
	copy = strndup(path, plen);
	if (!copy) {
		st->track_err = ENOMEM;
		return;
	}
	n = node_walk(st, copy, NULL, NULL);
	st->acc[st->nacc].path = copy;
	st->acc[st->nacc].gen = n ? n->gen : 0;
	st->nacc++;
}

static void tx_touch(struct xs_store *st, const char *path)
{
	tx_touch_len(st, path, strlen(path));
}

static void tx_log(struct xs_store *st, enum tx_op_type type, const struct xs_store_caller *c,
		   const char *path, const void *val, size_t len,
		   const struct xs_store_perm *perms, unsigned nperms)
{
	struct tx_op *op;

	if (!st->tracking || st->replaying)
		return;
	op = calloc(1, sizeof(*op));
	if (!op)
		goto oom;
	op->type = type;
	op->caller = *c;
	op->path = strdup(path);
	op->len = len;
	op->val = malloc(len ? len : 1);
	op->nperms = nperms;
	op->perms = malloc(sizeof(*perms) * (nperms ? nperms : 1));
	if (!op->path || !op->val || !op->perms) {
		tx_op_free(op);
		goto oom;
	}
	if (len)
		memcpy(op->val, val, len);
	if (nperms)
		memcpy(op->perms, perms, sizeof(*perms) * nperms);
	*st->log_tail = op;
	st->log_tail = &op->next;
	return;
oom:
	st->track_err = ENOMEM;
}

static void store_notify(struct xs_store *st, const char *path, bool exact, const struct xs_node *n)
{
	if (st->notify)
		st->notify(st->notify_ctx, path, exact, n->perms, n->nperms);
}

/* The error for a missing @path: EACCES if the caller may not @want its deepest ancestor. */
static int missing_errno(struct xs_store *st, const struct xs_store_caller *c,
			 const char *path, unsigned want)
{
	struct xs_node *deepest;

	node_walk(st, path, &deepest, NULL);
	if (!st->replaying && !node_allows(c, deepest, want))
		return -EACCES;
	return -ENOENT;
}

/* Look @path up for an operation needing @want: the node or NULL with *@err set. */
static struct xs_node *node_get(struct xs_store *st, const struct xs_store_caller *c,
				const char *path, unsigned want, int *err)
{
	struct xs_node *n;

	tx_touch(st, path);
	n = node_walk(st, path, NULL, NULL);
	if (!n) {
		*err = missing_errno(st, c, path, want);
		return NULL;
	}
	if (!st->replaying && !node_allows(c, n, want)) {
		*err = -EACCES;
		return NULL;
	}
	return n;
}

int xs_store_read(struct xs_store *st, const struct xs_store_caller *c,
		  const char *path, const char **val, size_t *len)
{
	int err = 0;
	struct xs_node *n = node_get(st, c, path, XS_STORE_PERM_READ, &err);

	if (!n)
		return err;
	*val = n->val ? n->val : "";
	*len = n->len;
	return 0;
}

static int node_add_kid(struct xs_node *parent, struct xs_node *k)
{
	if (parent->nkids == parent->capkids) {
		unsigned cap = parent->capkids ? parent->capkids * 2 : 4;
		struct xs_node **p = realloc(parent->kids, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		parent->kids = p;
		parent->capkids = cap;
	}
	parent->kids[parent->nkids++] = k;
	k->parent = parent;
	return 0;
}

/*
 * Find or create @path for writing; *@created tells whether it was made.
 * Missing parents are created too, each inheriting its parent's ACL with an
 * unprivileged creator as owner.
 */
static struct xs_node *node_create(struct xs_store *st, const struct xs_store_caller *c,
				   const char *path, bool *created, int *err)
{
	struct xs_node *n, *deepest;
	size_t done;
	unsigned missing = 0;
	const char *p;

	*created = false;
	tx_touch(st, path);
	n = node_walk(st, path, &deepest, &done);
	if (n) {
		if (!st->replaying && !node_allows(c, n, XS_STORE_PERM_WRITE)) {
			*err = -EACCES;
			return NULL;
		}
		return n;
	}
	if (!st->replaying && !node_allows(c, deepest, XS_STORE_PERM_WRITE)) {
		*err = -EACCES;
		return NULL;
	}
	for (p = path + done; *p; p++)
		if (*p == '/')
			missing++;
	if (!st->replaying && !c->priv &&
	    xs_store_nodes_owned(st, c->domid) + missing > st->quota_nodes) {
		*err = -ENOSPC;
		return NULL;
	}
	/* The transaction sees the parent's child list change and every new path. */
	tx_touch_len(st, path, done ? done : 1);
	for (p = path + done + 1; ; p++) {
		if (*p == '/' || *p == '\0')
			tx_touch_len(st, path, (size_t)(p - path));
		if (!*p)
			break;
	}
	n = deepest;
	p = path + done;
	while (*p) {
		const char *name = p + 1, *e = strchrnul(name, '/');
		struct xs_node *k = node_alloc(name, (size_t)(e - name), n->perms, n->nperms);

		if (!k || node_add_kid(n, k)) {
			node_free(k);
			*err = -ENOMEM;
			return NULL;
		}
		if (!c->priv)
			k->perms[0].domid = c->domid;
		if (owner_adjust(st, k->perms[0].domid, 1)) {
			*err = -ENOMEM;
			return NULL;
		}
		n->gen = ++st->gen;
		k->gen = ++st->gen;
		n = k;
		p = e;
	}
	*created = true;
	return n;
}

int xs_store_write(struct xs_store *st, const struct xs_store_caller *c,
		   const char *path, const void *val, size_t len)
{
	struct xs_node *n;
	bool created;
	int err = 0;
	char *copy;

	if (!st->replaying && !c->priv && len > st->quota_size)
		return -ENOSPC;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	n = node_create(st, c, path, &created, &err);
	if (!n) {
		free(copy);
		return err;
	}
	if (len)
		memcpy(copy, val, len);
	free(n->val);
	n->val = copy;
	n->len = len;
	n->gen = ++st->gen;
	tx_log(st, TX_OP_WRITE, c, path, val, len, NULL, 0);
	store_notify(st, path, false, n);
	return 0;
}

int xs_store_mkdir(struct xs_store *st, const struct xs_store_caller *c, const char *path)
{
	bool created;
	int err = 0;
	struct xs_node *n = node_create(st, c, path, &created, &err);

	if (!n)
		return err;
	if (created) {
		tx_log(st, TX_OP_MKDIR, c, path, NULL, 0, NULL, 0);
		store_notify(st, path, false, n);
	}
	return 0;
}

/* Touch every descendant of @n (path in @buf, @len chars) for the transaction. */
static void subtree_touch(struct xs_store *st, struct xs_node *n, char *buf, size_t len)
{
	for (unsigned i = 0; i < n->nkids; i++) {
		size_t kl = strlen(n->kids[i]->name);

		if (len + 1 + kl > XENSTORE_ABS_PATH_MAX)
			continue;
		buf[len] = '/';
		memcpy(buf + len + 1, n->kids[i]->name, kl + 1);
		tx_touch_len(st, buf, len + 1 + kl);
		subtree_touch(st, n->kids[i], buf, len + 1 + kl);
	}
	buf[len] = '\0';
}

/* Delete @n's subtree, children first, notifying exact watches on each descendant. */
static void subtree_delete(struct xs_store *st, struct xs_node *n, char *buf, size_t len)
{
	while (n->nkids) {
		struct xs_node *k = n->kids[n->nkids - 1];
		size_t kl = strlen(k->name);

		n->nkids--;
		if (len + 1 + kl <= XENSTORE_ABS_PATH_MAX) {
			buf[len] = '/';
			memcpy(buf + len + 1, k->name, kl + 1);
			subtree_delete(st, k, buf, len + 1 + kl);
			store_notify(st, buf, true, k);
			buf[len] = '\0';
		} else {
			subtree_delete(st, k, buf, len);
		}
		owner_adjust(st, k->perms[0].domid, -1);
		node_free(k);
	}
}

int xs_store_rm(struct xs_store *st, const struct xs_store_caller *c, const char *path)
{
	struct xs_node *n, *parent;
	char *buf;
	size_t plen = strlen(path);
	unsigned idx = 0;
	int err = 0;

	if (strcmp(path, "/") == 0)
		return -EINVAL;
	n = node_get(st, c, path, XS_STORE_PERM_WRITE, &err);
	if (!n) {
		const char *slash = strrchr(path, '/');
		size_t ppl = slash == path ? 1 : (size_t)(slash - path);
		char *pp;

		if (err != -ENOENT)
			return err;
		pp = strndup(path, ppl);
		if (!pp)
			return -ENOMEM;
		tx_touch(st, pp);
		err = node_walk(st, pp, NULL, NULL) ? 0 : -ENOENT;
		free(pp);
		return err;
	}
	buf = malloc(XENSTORE_ABS_PATH_MAX + 2);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, path, plen + 1);
	parent = n->parent;
	{
		const char *slash = strrchr(path, '/');

		tx_touch_len(st, path, slash == path ? 1 : (size_t)(slash - path));
	}
	subtree_touch(st, n, buf, plen);
	tx_log(st, TX_OP_RM, c, path, NULL, 0, NULL, 0);
	subtree_delete(st, n, buf, plen);
	free(buf);
	store_notify(st, path, false, n);
	node_child(parent, n->name, strlen(n->name), &idx);
	memmove(&parent->kids[idx], &parent->kids[idx + 1],
		(parent->nkids - idx - 1) * sizeof(parent->kids[0]));
	parent->nkids--;
	parent->gen = ++st->gen;
	owner_adjust(st, n->perms[0].domid, -1);
	node_free(n);
	return 0;
}

int xs_store_directory(struct xs_store *st, const struct xs_store_caller *c,
		       const char *path, char **buf, size_t *len, uint64_t *gen)
{
	int err = 0;
	struct xs_node *n = node_get(st, c, path, XS_STORE_PERM_READ, &err);
	size_t total = 0, off = 0;
	char *b;

	*buf = NULL;
	*len = 0;
	if (!n)
		return err;
	if (gen)
		*gen = n->gen;
	for (unsigned i = 0; i < n->nkids; i++)
		total += strlen(n->kids[i]->name) + 1;
	if (!total)
		return 0;
	b = malloc(total);
	if (!b)
		return -ENOMEM;
	for (unsigned i = 0; i < n->nkids; i++) {
		size_t l = strlen(n->kids[i]->name) + 1;

		memcpy(b + off, n->kids[i]->name, l);
		off += l;
	}
	*buf = b;
	*len = total;
	return 0;
}

int xs_store_get_perms(struct xs_store *st, const struct xs_store_caller *c,
		       const char *path, struct xs_store_perm **perms, unsigned *n)
{
	int err = 0;
	struct xs_node *node = node_get(st, c, path, XS_STORE_PERM_READ, &err);

	if (!node)
		return err;
	*perms = malloc(sizeof(**perms) * node->nperms);
	if (!*perms)
		return -ENOMEM;
	memcpy(*perms, node->perms, sizeof(**perms) * node->nperms);
	*n = node->nperms;
	return 0;
}

int xs_store_set_perms(struct xs_store *st, const struct xs_store_caller *c,
		       const char *path, const struct xs_store_perm *perms, unsigned n)
{
	int err = 0;
	struct xs_node *node;
	struct xs_store_perm *copy;

	if (n == 0)
		return -EINVAL;
	node = node_get(st, c, path, XS_STORE_PERM_WRITE | XS_STORE_PERM_OWNER, &err);
	if (!node)
		return err;
	if (!st->replaying && !c->priv && perms[0].domid != node->perms[0].domid)
		return -EPERM;
	copy = malloc(sizeof(*perms) * n);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, perms, sizeof(*perms) * n);
	if (perms[0].domid != node->perms[0].domid) {
		if (owner_adjust(st, perms[0].domid, 1)) {
			free(copy);
			return -ENOMEM;
		}
		owner_adjust(st, node->perms[0].domid, -1);
	}
	free(node->perms);
	node->perms = copy;
	node->nperms = n;
	node->gen = ++st->gen;
	tx_log(st, TX_OP_SETPERMS, c, path, NULL, 0, perms, n);
	store_notify(st, path, false, node);
	return 0;
}

static struct xs_node *node_clone(const struct xs_node *src, struct xs_node *parent)
{
	struct xs_node *n = node_alloc(src->name, strlen(src->name), src->perms, src->nperms);

	if (!n)
		return NULL;
	n->parent = parent;
	n->gen = src->gen;
	n->len = src->len;
	if (src->val) {
		n->val = malloc(src->len ? src->len : 1);
		if (!n->val)
			goto fail;
		memcpy(n->val, src->val, src->len);
	}
	if (src->nkids) {
		n->kids = calloc(src->nkids, sizeof(*n->kids));
		if (!n->kids)
			goto fail;
		n->capkids = src->nkids;
		for (unsigned i = 0; i < src->nkids; i++) {
			n->kids[i] = node_clone(src->kids[i], n);
			if (!n->kids[i])
				goto fail;
			n->nkids++;
		}
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

struct xs_store *xs_store_clone(const struct xs_store *st)
{
	struct xs_store *tx = calloc(1, sizeof(*tx));

	if (!tx)
		goto oom;
	tx->log_tail = &tx->log;
	tx->root = node_clone(st->root, NULL);
	if (!tx->root)
		goto oom;
	if (st->nowners) {
		tx->owners = malloc(st->nowners * sizeof(*tx->owners));
		if (!tx->owners)
			goto oom;
		memcpy(tx->owners, st->owners, st->nowners * sizeof(*tx->owners));
		tx->nowners = tx->capowners = st->nowners;
	}
	tx->gen = st->gen;
	tx->quota_nodes = st->quota_nodes;
	tx->quota_size = st->quota_size;
	tx->tracking = true;
	return tx;
oom:
	xs_store_free(tx);
	errno = ENOMEM;
	return NULL;
}

int xs_store_commit(struct xs_store *st, struct xs_store *tx)
{
	if (tx->track_err)
		return -tx->track_err;
	for (unsigned i = 0; i < tx->nacc; i++) {
		struct xs_node *n = node_walk(st, tx->acc[i].path, NULL, NULL);

		if ((n ? n->gen : 0) != tx->acc[i].gen)
			return -EAGAIN;
	}
	st->replaying = true;
	for (struct tx_op *op = tx->log; op; op = op->next) {
		switch (op->type) {
		case TX_OP_WRITE:
			xs_store_write(st, &op->caller, op->path, op->val, op->len);
			break;
		case TX_OP_MKDIR:
			xs_store_mkdir(st, &op->caller, op->path);
			break;
		case TX_OP_RM:
			xs_store_rm(st, &op->caller, op->path);
			break;
		case TX_OP_SETPERMS:
			xs_store_set_perms(st, &op->caller, op->path, op->perms, op->nperms);
			break;
		}
	}
	st->replaying = false;
	return 0;
}

int xs_store_perms_parse(const char *buf, size_t len, struct xs_store_perm **perms, unsigned *n)
{
	unsigned count = 0, i = 0;
	size_t off;
	struct xs_store_perm *p;

	for (off = 0; off < len; ) {
		size_t l = strnlen(buf + off, len - off);

		if (l == 0)
			return -EINVAL;
		count++;
		off += l + 1;
	}
	if (count == 0 || count > XENSTORE_PAYLOAD_MAX / 2)
		return -EINVAL;
	p = calloc(count, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (off = 0; off < len; i++) {
		size_t l = strnlen(buf + off, len - off);
		unsigned long v = 0;

		switch (buf[off]) {
		case 'n': p[i].bits = XS_STORE_PERM_NONE; break;
		case 'r': p[i].bits = XS_STORE_PERM_READ; break;
		case 'w': p[i].bits = XS_STORE_PERM_WRITE; break;
		case 'b': p[i].bits = XS_STORE_PERM_READ | XS_STORE_PERM_WRITE; break;
		default: goto bad;
		}
		if (l < 2 || l > 11)
			goto bad;
		for (size_t j = 1; j < l; j++) {
			char ch = buf[off + j];

			if (ch < '0' || ch > '9')
				goto bad;
			v = v * 10 + (unsigned long)(ch - '0');
		}
		if (v > UINT_MAX)
			goto bad;
		p[i].domid = (unsigned)v;
		off += l + 1;
	}
	*perms = p;
	*n = count;
	return 0;
bad:
	free(p);
	return -EINVAL;
}

char *xs_store_perms_format(const struct xs_store_perm *perms, unsigned n, size_t *len)
{
	char *buf = malloc((size_t)n * 13 + 1), *p;

	if (!buf)
		return NULL;
	p = buf;
	for (unsigned i = 0; i < n; i++) {
		static const char chars[] = "nrwb";
		int l = sprintf(p, "%c%u", chars[perms[i].bits & 3], perms[i].domid);

		p += l + 1;
	}
	*len = (size_t)(p - buf);
	return buf;
}
