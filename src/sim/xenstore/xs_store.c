/* SPDX-License-Identifier: MIT */
/* xs_store.c - the XenStore tree with xenstored's permission, quota and transaction rules. */
#include "xs_store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#define PERM_RW  (XS_STORE_PERM_READ | XS_STORE_PERM_WRITE)
#define PERM_ALL (PERM_RW | XS_STORE_PERM_OWNER)

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

struct owner_count {
	unsigned domid;
	unsigned count;
};

/* A released domain and the generation of its release (sorted by domid). */
struct death {
	unsigned domid;
	uint64_t gen;
};

struct xs_store {
	struct xs_node *root;
	uint64_t gen;
	unsigned long nnodes;
	xs_store_notify_fn notify;
	void *notify_ctx;
	struct xs_store_quotas quotas;
	struct owner_count *owners;
	unsigned nowners, capowners;
	struct death *deaths;
	unsigned ndeaths, capdeaths;
};

/*
 * A transaction's record of one path. Unmodified: only the generation the
 * path had when first touched (base, 0: absent), checked at commit.
 * Modified: the path as the transaction sees it: deleted (!exists; perms
 * kept to notify with), created (fresh: value and ACL its own, children
 * only those it added), or an existing node changed (value and ACL its own
 * when has_val / has_perms, children the tree's minus removed plus added).
 */
struct tx_ent {
	struct tx_ent *hnext;     /* hash chain */
	struct tx_ent *next;      /* every record, in the order first touched */
	struct tx_ent *fnext;     /* records to notify, in the order changed */
	char *path;
	size_t plen;
	uint64_t base;
	uint64_t gen;             /* the generation the transaction gave it */
	bool modified, exists, fresh, has_val, has_perms, fire, exact;
	char *val;
	size_t len;
	struct xs_store_perm *perms;
	unsigned nperms;
	char **added;
	unsigned nadded, capadded;
	char **removed;
	unsigned nremoved, capremoved;
	struct xs_node *node;     /* commit: the node made for a created path */
};

/* A node count change of one owner in a transaction. */
struct owner_delta {
	unsigned domid;
	long delta;
};

struct xs_store_tx {
	struct xs_store *st;
	bool live;                /* one operation outside any transaction */
	uint64_t start;           /* the store's generation at the start */
	struct tx_ent **hash;
	unsigned hsize, nents;
	struct tx_ent *head, **tail;
	struct tx_ent *fhead, **ftail;
	struct owner_delta *deltas;
	unsigned ndeltas, capdeltas;
	size_t bytes;
	int err;                  /* an access that failed: the commit fails with it */
};

/* One operation: on the tree (tx NULL: reads only) or in a transaction. */
struct op {
	struct xs_store *st;
	struct xs_store_tx *tx;
	const struct xs_store_caller *c;
};

/* What a path is in an operation's view. */
struct view {
	struct tx_ent *ent;       /* the transaction's record (NULL outside one) */
	struct xs_node *live;     /* the tree's node, when the view rests on it */
	bool exists;
};

static const struct xs_store_caller store_priv = { 0, true, false, 0 };
static const struct xs_store_perm perm_fallback = { 0, XS_STORE_PERM_NONE };

/* ---- nodes -------------------------------------------------------------- */

static void node_free(struct xs_store *st, struct xs_node *n)
{
	if (!n)
		return;
	for (unsigned i = 0; i < n->nkids; i++)
		node_free(st, n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->val);
	free(n->perms);
	free(n);
	if (st)
		st->nnodes--;
}

static struct xs_node *node_alloc(const char *name, size_t nlen)
{
	struct xs_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strndup(name, nlen);
	if (!n->name) {
		free(n);
		return NULL;
	}
	return n;
}

static struct xs_node *node_child(const struct xs_node *n, const char *name, size_t nlen)
{
	for (unsigned i = 0; i < n->nkids; i++) {
		const char *k = n->kids[i]->name;

		if (strncmp(k, name, nlen) == 0 && k[nlen] == '\0')
			return n->kids[i];
	}
	return NULL;
}

/* The tree's node at the first @plen characters of canonical @path, or NULL. */
static struct xs_node *node_walk(const struct xs_store *st, const char *path, size_t plen)
{
	struct xs_node *n = st->root;
	size_t i = 1;

	while (n && i < plen) {
		const char *e = memchr(path + i, '/', plen - i);
		size_t l = e ? (size_t)(e - (path + i)) : plen - i;

		n = node_child(n, path + i, l);
		i += l + 1;
	}
	return n;
}

/* The length of @path's parent ("/a/b" -> "/a", "/a" -> "/"). */
static size_t parent_len(const char *path, size_t plen)
{
	while (plen > 1 && path[plen - 1] != '/')
		plen--;
	return plen > 1 ? plen - 1 : 1;
}

/* ---- owners, deaths ----------------------------------------------------- */

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

unsigned long xs_store_nodes(const struct xs_store *st)
{
	return st->nnodes;
}

/* Make sure @domid has a counter, so that counting up cannot fail. */
static int owner_reserve(struct xs_store *st, unsigned domid)
{
	if (owner_find(st, domid))
		return 0;
	if (st->nowners == st->capowners) {
		unsigned cap = st->capowners ? st->capowners * 2 : 8;
		struct owner_count *p = realloc(st->owners, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		st->owners = p;
		st->capowners = cap;
	}
	st->owners[st->nowners++] = (struct owner_count){ domid, 0 };
	return 0;
}

/* Count a node of @domid up or down; counting up needs owner_reserve() first. */
static void owner_add(struct xs_store *st, unsigned domid, int delta)
{
	struct owner_count *o = owner_find(st, domid);

	if (!o)
		return;
	if (delta < 0 && o->count < (unsigned)-delta)
		o->count = 0;
	else
		o->count += (unsigned)delta;
}

/* The generation at which @domid was last released, 0 if never. */
static uint64_t death_gen(const struct xs_store *st, unsigned domid)
{
	unsigned lo = 0, hi = st->ndeaths;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (st->deaths[mid].domid == domid)
			return st->deaths[mid].gen;
		if (st->deaths[mid].domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int death_record(struct xs_store *st, unsigned domid, uint64_t gen)
{
	unsigned i = 0;

	while (i < st->ndeaths && st->deaths[i].domid < domid)
		i++;
	if (i < st->ndeaths && st->deaths[i].domid == domid) {
		st->deaths[i].gen = gen;
		return 0;
	}
	if (st->ndeaths == st->capdeaths) {
		unsigned cap = st->capdeaths ? st->capdeaths * 2 : 8;
		struct death *d = realloc(st->deaths, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		st->deaths = d;
		st->capdeaths = cap;
	}
	memmove(&st->deaths[i + 1], &st->deaths[i], (st->ndeaths - i) * sizeof(st->deaths[0]));
	st->deaths[i] = (struct death){ domid, gen };
	st->ndeaths++;
	return 0;
}

/*
 * Mark the entries of an ACL last changed at generation @gen that name a
 * domain released since: from now on they are ignored (xenstored's
 * domain_adjust_node_perms()). The owner's entry is never marked: a dead
 * owner's nodes are removed.
 */
static void perms_refresh(const struct xs_store *st, struct xs_store_perm *p, unsigned n,
			  uint64_t gen)
{
	if (!st->ndeaths)
		return;
	for (unsigned i = 1; i < n; i++)
		if (!(p[i].bits & XS_STORE_PERM_IGNORE) && death_gen(st, p[i].domid) > gen)
			p[i].bits |= XS_STORE_PERM_IGNORE;
}

/* @n changes: keep its ACL's marks for the old generation, then renew it. */
static void node_bump(struct xs_store *st, struct xs_node *n)
{
	perms_refresh(st, n->perms, n->nperms, n->gen);
	n->gen = ++st->gen;
}

/* ---- the store ---------------------------------------------------------- */

struct xs_store *xs_store_new(void)
{
	struct xs_store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->root = node_alloc("", 0);
	if (st->root)
		st->root->perms = malloc(sizeof(*st->root->perms));
	if (!st->root || !st->root->perms || owner_reserve(st, 0)) {
		xs_store_free(st);
		errno = ENOMEM;
		return NULL;
	}
	st->root->perms[0] = (struct xs_store_perm){ 0, XS_STORE_PERM_NONE };
	st->root->nperms = 1;
	st->root->gen = ++st->gen;
	st->nnodes = 1;
	owner_add(st, 0, 1);
	st->quotas = (struct xs_store_quotas){
		XS_STORE_QUOTA_NODES, XS_STORE_QUOTA_NODE_SIZE,
		XS_STORE_QUOTA_PERMS, XS_STORE_QUOTA_TX_NODES,
	};
	return st;
}

void xs_store_free(struct xs_store *st)
{
	if (!st)
		return;
	node_free(NULL, st->root);
	free(st->owners);
	free(st->deaths);
	free(st);
}

void xs_store_notify_set(struct xs_store *st, xs_store_notify_fn fn, void *ctx)
{
	st->notify = fn;
	st->notify_ctx = ctx;
}

void xs_store_quotas_set(struct xs_store *st, const struct xs_store_quotas *q)
{
	st->quotas = *q;
}

void xs_store_quotas_get(const struct xs_store *st, struct xs_store_quotas *q)
{
	*q = st->quotas;
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

static bool caller_is(const struct xs_store_caller *c, unsigned domid)
{
	return domid == c->domid || (c->has_target && domid == c->target);
}

unsigned xs_store_perm_for(const struct xs_store_caller *c,
			   const struct xs_store_perm *p, unsigned n)
{
	if (c->priv)
		return PERM_ALL;
	if (n == 0)
		return XS_STORE_PERM_NONE;
	if (caller_is(c, p[0].domid))
		return PERM_ALL;
	for (unsigned i = 1; i < n; i++)
		if (!(p[i].bits & XS_STORE_PERM_IGNORE) && caller_is(c, p[i].domid))
			return p[i].bits & PERM_RW;
	return p[0].bits & PERM_RW;
}

bool xs_store_exists(struct xs_store *st, const char *path)
{
	return node_walk(st, path, strlen(path)) != NULL;
}

/* ---- transaction records ------------------------------------------------ */

static void tx_init(struct xs_store_tx *tx, struct xs_store *st, bool live)
{
	memset(tx, 0, sizeof(*tx));
	tx->st = st;
	tx->live = live;
	tx->start = st->gen;
	tx->tail = &tx->head;
	tx->ftail = &tx->fhead;
}

static void names_free(char **names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void ent_free(struct tx_ent *e)
{
	free(e->path);
	free(e->val);
	free(e->perms);
	names_free(e->added, e->nadded);
	names_free(e->removed, e->nremoved);
	node_free(NULL, e->node);
	free(e);
}

static void tx_fini(struct xs_store_tx *tx)
{
	while (tx->head) {
		struct tx_ent *e = tx->head;

		tx->head = e->next;
		ent_free(e);
	}
	free(tx->hash);
	free(tx->deltas);
}

/* Remember the first failure of an access: the transaction cannot commit. */
static int tx_fail(struct xs_store_tx *tx, int err)
{
	if (!tx->err)
		tx->err = err;
	return err;
}

static unsigned path_hash(const char *path, size_t plen)
{
	uint32_t h = 2166136261u;  /* FNV-1a */

	for (size_t i = 0; i < plen; i++)
		h = (h ^ (unsigned char)path[i]) * 16777619u;
	return h;
}

static struct tx_ent *ent_find(const struct xs_store_tx *tx, const char *path, size_t plen)
{
	if (!tx->hsize)
		return NULL;
	for (struct tx_ent *e = tx->hash[path_hash(path, plen) & (tx->hsize - 1)]; e; e = e->hnext)
		if (e->plen == plen && memcmp(e->path, path, plen) == 0)
			return e;
	return NULL;
}

static int tx_hash_grow(struct xs_store_tx *tx)
{
	unsigned size = tx->hsize ? tx->hsize * 2 : 16;
	struct tx_ent **h = calloc(size, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (struct tx_ent *e = tx->head; e; e = e->next) {
		unsigned b = path_hash(e->path, e->plen) & (size - 1);

		e->hnext = h[b];
		h[b] = e;
	}
	free(tx->hash);
	tx->hash = h;
	tx->bytes += (size - tx->hsize) * sizeof(*h);
	tx->hsize = size;
	return 0;
}

/* A new record of @path, absent from the transaction so far. */
static int ent_new(struct op *o, const char *path, size_t plen, uint64_t base, struct tx_ent **out)
{
	struct xs_store_tx *tx = o->tx;
	struct tx_ent *e;
	unsigned b;

	/* xenstored's quota_trans_nodes: what one transaction may touch */
	if (!tx->live && !o->c->priv && tx->nents >= o->st->quotas.tx_nodes)
		return tx_fail(tx, -ENOSPC);
	if (tx->nents >= tx->hsize && tx_hash_grow(tx))
		return tx_fail(tx, -ENOMEM);
	e = calloc(1, sizeof(*e));
	if (e)
		e->path = malloc(plen + 1);
	if (!e || !e->path) {
		free(e);
		return tx_fail(tx, -ENOMEM);
	}
	memcpy(e->path, path, plen);
	e->path[plen] = '\0';
	e->plen = plen;
	e->base = base;
	b = path_hash(path, plen) & (tx->hsize - 1);
	e->hnext = tx->hash[b];
	tx->hash[b] = e;
	*tx->tail = e;
	tx->tail = &e->next;
	tx->nents++;
	tx->bytes += sizeof(*e) + plen + 1;
	*out = e;
	return 0;
}

static long delta_get(const struct xs_store_tx *tx, unsigned domid)
{
	for (unsigned i = 0; i < tx->ndeltas; i++)
		if (tx->deltas[i].domid == domid)
			return tx->deltas[i].delta;
	return 0;
}

static int delta_add(struct op *o, unsigned domid, long delta)
{
	struct xs_store_tx *tx = o->tx;

	for (unsigned i = 0; i < tx->ndeltas; i++) {
		if (tx->deltas[i].domid == domid) {
			tx->deltas[i].delta += delta;
			return 0;
		}
	}
	if (tx->ndeltas == tx->capdeltas) {
		unsigned cap = tx->capdeltas ? tx->capdeltas * 2 : 4;
		struct owner_delta *d = realloc(tx->deltas, cap * sizeof(*d));

		if (!d)
			return tx_fail(tx, -ENOMEM);
		tx->bytes += (cap - tx->capdeltas) * sizeof(*d);
		tx->deltas = d;
		tx->capdeltas = cap;
	}
	tx->deltas[tx->ndeltas++] = (struct owner_delta){ domid, delta };
	return 0;
}

/* Queue a notification of @e's path at commit (a non-exact one wins over exact). */
static void ent_fire(struct op *o, struct tx_ent *e, bool exact)
{
	if (!e->fire) {
		e->fire = true;
		e->exact = exact;
		*o->tx->ftail = e;
		o->tx->ftail = &e->fnext;
	} else if (!exact) {
		e->exact = false;
	}
}

/* ---- the view of an operation --------------------------------------------- */

/* What the first @plen characters of @path are for @o, recording the access. */
static int view_get(struct op *o, const char *path, size_t plen, struct view *v)
{
	struct tx_ent *e = NULL;
	struct xs_node *live = node_walk(o->st, path, plen);
	int err;

	v->ent = NULL;
	v->live = live;
	v->exists = live != NULL;
	if (!o->tx)
		return 0;
	e = ent_find(o->tx, path, plen);
	if (!e) {
		err = ent_new(o, path, plen, live ? live->gen : 0, &e);
		if (err)
			return err;
	}
	v->ent = e;
	if (e->modified) {
		v->exists = e->exists;
		if (!e->exists || e->fresh)
			v->live = NULL;
	}
	return 0;
}

static bool view_mod(const struct view *v)
{
	return v->ent && v->ent->modified;
}

static const char *view_val(const struct view *v, size_t *len)
{
	if (view_mod(v) && v->ent->has_val) {
		*len = v->ent->len;
		return v->ent->val ? v->ent->val : "";
	}
	if (v->live) {
		*len = v->live->len;
		return v->live->val ? v->live->val : "";
	}
	*len = 0;
	return "";
}

static const struct xs_store_perm *view_perms(struct op *o, const struct view *v, unsigned *n)
{
	if (view_mod(v) && v->ent->has_perms) {
		perms_refresh(o->st, v->ent->perms, v->ent->nperms, o->tx->start);
		*n = v->ent->nperms;
		return v->ent->perms;
	}
	if (v->live) {
		perms_refresh(o->st, v->live->perms, v->live->nperms, v->live->gen);
		*n = v->live->nperms;
		return v->live->perms;
	}
	/* a node the tree lost under the transaction: it will not commit */
	*n = 1;
	return &perm_fallback;
}

static uint64_t view_gen(const struct view *v)
{
	if (view_mod(v))
		return v->ent->gen;
	return v->live ? v->live->gen : 0;
}

static bool view_allows(struct op *o, const struct view *v, unsigned want)
{
	unsigned n;
	const struct xs_store_perm *p = view_perms(o, v, &n);

	return (xs_store_perm_for(o->c, p, n) & want) == want;
}

static bool names_has(char *const *names, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* The names of @v's children in order: a malloc'd array of borrowed names (NULL if none). */
static int view_kids(const struct view *v, const char ***out, unsigned *n)
{
	const struct tx_ent *e = view_mod(v) ? v->ent : NULL;
	unsigned cap = (v->live ? v->live->nkids : 0) + (e ? e->nadded : 0), k = 0;
	const char **arr;

	*out = NULL;
	*n = 0;
	if (!cap)
		return 0;
	arr = malloc(cap * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (unsigned i = 0; v->live && i < v->live->nkids; i++) {
		const char *name = v->live->kids[i]->name;

		if (!e || !names_has(e->removed, e->nremoved, name))
			arr[k++] = name;
	}
	for (unsigned i = 0; e && i < e->nadded; i++)
		arr[k++] = e->added[i];
	*out = arr;
	*n = k;
	return 0;
}

/* The error for a missing @path: EACCES if @c may not @want its nearest existing ancestor. */
static int missing_err(struct op *o, const char *path, size_t plen, unsigned want)
{
	struct view a;
	int err;

	while (plen > 1) {
		plen = parent_len(path, plen);
		err = view_get(o, path, plen, &a);
		if (err)
			return err;
		if (a.exists)
			return view_allows(o, &a, want) ? -ENOENT : -EACCES;
	}
	return -ENOENT;
}

/* Look @path up for an operation needing @want. */
static int view_need(struct op *o, const char *path, size_t plen, unsigned want, struct view *v)
{
	int err = view_get(o, path, plen, v);

	if (err)
		return err;
	if (!v->exists)
		return missing_err(o, path, plen, want);
	return view_allows(o, v, want) ? 0 : -EACCES;
}

/* ---- changes in the view ---------------------------------------------------- */

/* @v (existing) changes: the transaction's own version from now on. */
static void ent_modify(struct op *o, struct view *v)
{
	struct tx_ent *e = v->ent;

	if (!e->modified) {
		e->modified = true;
		e->exists = true;
		e->fresh = false;
	}
	e->gen = ++o->st->gen;
}

static int names_append(struct op *o, char ***names, unsigned *n, unsigned *cap,
			const char *name, size_t nlen)
{
	char *copy;

	if (*n == *cap) {
		unsigned c = *cap ? *cap * 2 : 4;
		char **p = realloc(*names, c * sizeof(*p));

		if (!p)
			return tx_fail(o->tx, -ENOMEM);
		o->tx->bytes += (c - *cap) * sizeof(*p);
		*names = p;
		*cap = c;
	}
	copy = strndup(name, nlen);
	if (!copy)
		return tx_fail(o->tx, -ENOMEM);
	o->tx->bytes += nlen + 1;
	(*names)[(*n)++] = copy;
	return 0;
}

static int kid_add(struct op *o, struct view *parent, const char *name, size_t nlen)
{
	struct tx_ent *e = parent->ent;
	int err = names_append(o, &e->added, &e->nadded, &e->capadded, name, nlen);

	if (!err)
		ent_modify(o, parent);
	return err;
}

static int kid_remove(struct op *o, struct view *parent, const char *name)
{
	struct tx_ent *e = parent->ent;

	for (unsigned i = 0; view_mod(parent) && i < e->nadded; i++) {
		if (strcmp(e->added[i], name) == 0) {
			free(e->added[i]);
			memmove(&e->added[i], &e->added[i + 1], (e->nadded - i - 1) * sizeof(e->added[0]));
			e->nadded--;
			ent_modify(o, parent);
			return 0;
		}
	}
	if (!(view_mod(parent) && e->fresh)) {
		int err = names_append(o, &e->removed, &e->nremoved, &e->capremoved,
				       name, strlen(name));

		if (err)
			return err;
	}
	ent_modify(o, parent);
	return 0;
}

static struct xs_store_perm *perms_dup(const struct xs_store_perm *p, unsigned n)
{
	struct xs_store_perm *copy = malloc(n * sizeof(*p));

	if (copy)
		memcpy(copy, p, n * sizeof(*p));
	return copy;
}

static int ent_set_val(struct op *o, struct view *v, const void *val, size_t len)
{
	struct tx_ent *e = v->ent;
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return tx_fail(o->tx, -ENOMEM);
	if (len)
		memcpy(copy, val, len);
	ent_modify(o, v);
	if (e->has_val)
		o->tx->bytes -= e->len;
	free(e->val);
	e->val = copy;
	e->len = len;
	e->has_val = true;
	o->tx->bytes += len;
	return 0;
}

/* Install malloc'd @perms (taken) as @v's ACL. */
static void ent_set_perms(struct op *o, struct view *v, struct xs_store_perm *perms, unsigned n)
{
	struct tx_ent *e = v->ent;

	ent_modify(o, v);
	free(e->perms);
	e->perms = perms;
	e->nperms = n;
	e->has_perms = true;
	o->tx->bytes += n * sizeof(*perms);
}

/* Turn @e (missing in the view) into a created node with ACL @perms (taken), empty. */
static void ent_create(struct op *o, struct tx_ent *e, struct xs_store_perm *perms, unsigned n)
{
	free(e->val);
	free(e->perms);
	names_free(e->added, e->nadded);
	names_free(e->removed, e->nremoved);
	e->added = e->removed = NULL;
	e->nadded = e->capadded = e->nremoved = e->capremoved = 0;
	e->val = NULL;
	e->len = 0;
	e->perms = perms;
	e->nperms = n;
	e->modified = e->exists = e->fresh = e->has_val = e->has_perms = true;
	e->gen = ++o->st->gen;
	o->tx->bytes += n * sizeof(*perms);
}

/* Remove @v (existing) from the view; its ACL is kept for the notification. */
static int ent_delete(struct op *o, struct view *v, bool exact)
{
	struct tx_ent *e = v->ent;
	unsigned n;
	const struct xs_store_perm *p = view_perms(o, v, &n);
	struct xs_store_perm *copy = NULL;
	int err;

	if (!(view_mod(v) && e->has_perms)) {
		copy = perms_dup(p, n);
		if (!copy)
			return tx_fail(o->tx, -ENOMEM);
	}
	err = delta_add(o, p[0].domid, -1);
	if (err) {
		free(copy);
		return err;
	}
	if (copy) {
		free(e->perms);
		e->perms = copy;
		e->nperms = n;
		o->tx->bytes += n * sizeof(*copy);
	}
	free(e->val);
	e->val = NULL;
	names_free(e->added, e->nadded);
	names_free(e->removed, e->nremoved);
	e->added = e->removed = NULL;
	e->nadded = e->capadded = e->nremoved = e->capremoved = 0;
	e->modified = true;
	e->exists = e->fresh = e->has_val = e->has_perms = false;
	e->gen = ++o->st->gen;
	ent_fire(o, e, exact);
	return 0;
}

/*
 * Create missing @path (and missing parents, each inheriting its parent's
 * ACL, owned by an unprivileged creator) in the view; *@out: the new node.
 */
static int view_create(struct op *o, const char *path, size_t plen, struct view *out)
{
	struct view parent, k;
	size_t l = plen;
	unsigned missing = 1;
	int err;

	for (;;) {
		l = parent_len(path, l);
		err = view_get(o, path, l, &parent);
		if (err)
			return err;
		if (parent.exists)
			break;
		missing++;
	}
	if (!view_allows(o, &parent, XS_STORE_PERM_WRITE))
		return -EACCES;
	if (!o->c->priv) {
		long have = (long)xs_store_nodes_owned(o->st, o->c->domid) +
			    delta_get(o->tx, o->c->domid);

		if (have + (long)missing > (long)o->st->quotas.nodes)
			return -ENOSPC;
	}
	while (l < plen) {
		size_t start = l == 1 ? 1 : l + 1;
		const char *slash = memchr(path + start, '/', plen - start);
		size_t end = slash ? (size_t)(slash - path) : plen;
		const struct xs_store_perm *pp;
		struct xs_store_perm *perms;
		unsigned pn;

		err = view_get(o, path, end, &k);
		if (err)
			return tx_fail(o->tx, err);
		pp = view_perms(o, &parent, &pn);
		perms = perms_dup(pp, pn);
		if (!perms)
			return tx_fail(o->tx, -ENOMEM);
		if (!o->c->priv)
			perms[0].domid = o->c->domid;
		err = delta_add(o, perms[0].domid, 1);
		if (!err)
			err = kid_add(o, &parent, path + start, end - start);
		if (err) {
			free(perms);
			return tx_fail(o->tx, err);
		}
		ent_create(o, k.ent, perms, pn);
		k.exists = true;
		k.live = NULL;
		parent = k;
		l = end;
	}
	*out = parent;
	return 0;
}

/* Remove @v (path in @buf, @len chars) and its subtree from the view, children first. */
static int view_delete(struct op *o, char *buf, size_t len, struct view *v, bool exact)
{
	const char **kids;
	unsigned n;
	int err = view_kids(v, &kids, &n);

	if (err)
		return tx_fail(o->tx, err);
	for (unsigned i = n; i-- > 0 && !err; ) {
		size_t kl = strlen(kids[i]);
		struct view kv;

		if (len + 1 + kl > XENSTORE_ABS_PATH_MAX)
			continue;  /* cannot exist */
		buf[len] = '/';
		memcpy(buf + len + 1, kids[i], kl + 1);
		err = view_get(o, buf, len + 1 + kl, &kv);
		if (!err && kv.exists)
			err = view_delete(o, buf, len + 1 + kl, &kv, true);
		buf[len] = '\0';
	}
	free(kids);
	if (!err)
		err = ent_delete(o, v, exact);
	return err;
}

/* ---- commit ----------------------------------------------------------------- */

static int ent_cmp(const void *a, const void *b)
{
	const struct tx_ent *x = *(struct tx_ent *const *)a, *y = *(struct tx_ent *const *)b;
	size_t l = x->plen < y->plen ? x->plen : y->plen;
	int r = memcmp(x->path, y->path, l);

	if (r)
		return r;
	return x->plen < y->plen ? -1 : x->plen > y->plen;
}

/* Free @n's subtree, counting each node down. */
static void subtree_free(struct xs_store *st, struct xs_node *n)
{
	for (unsigned i = 0; i < n->nkids; i++)
		subtree_free(st, n->kids[i]);
	n->nkids = 0;
	owner_add(st, n->perms[0].domid, -1);
	node_free(st, n);
}

/* Unlink @n from the tree and free it with its subtree (counted down, not notified). */
static void live_remove(struct xs_store *st, struct xs_node *n)
{
	struct xs_node *parent = n->parent;

	for (unsigned i = 0; i < parent->nkids; i++) {
		if (parent->kids[i] == n) {
			memmove(&parent->kids[i], &parent->kids[i + 1],
				(parent->nkids - i - 1) * sizeof(parent->kids[0]));
			parent->nkids--;
			break;
		}
	}
	node_bump(st, parent);
	subtree_free(st, n);
}

static int kids_reserve(struct xs_node *n, unsigned more)
{
	unsigned want = n->nkids + more;
	struct xs_node **k;

	if (want <= n->capkids)
		return 0;
	k = realloc(n->kids, want * sizeof(*k));
	if (!k)
		return -ENOMEM;
	n->kids = k;
	n->capkids = want;
	return 0;
}

/* Allocate what applying @mods needs; nothing visible changes. */
static int tx_prepare(struct xs_store_tx *tx, struct tx_ent **mods, unsigned nmods)
{
	struct xs_store *st = tx->st;

	for (unsigned i = 0; i < tx->ndeltas; i++)
		if (tx->deltas[i].delta > 0 && owner_reserve(st, tx->deltas[i].domid))
			return -ENOMEM;
	for (unsigned i = 0; i < nmods; i++) {
		struct tx_ent *e = mods[i];

		if (!e->exists)
			continue;
		if (e->fresh) {
			size_t pl = parent_len(e->path, e->plen), start = pl == 1 ? 1 : pl + 1;

			e->node = node_alloc(e->path + start, e->plen - start);
			if (!e->node || kids_reserve(e->node, e->nadded))
				return -ENOMEM;
		} else if (e->nadded) {
			struct xs_node *n = node_walk(st, e->path, e->plen);

			if (n && kids_reserve(n, e->nadded))
				return -ENOMEM;
		}
		if (e->has_perms && owner_reserve(st, e->perms[0].domid))
			return -ENOMEM;
	}
	return 0;
}

/* Put @e's version of an existing node into the tree. */
static void apply_changed(struct xs_store_tx *tx, struct tx_ent *e, struct xs_node *n)
{
	struct xs_store *st = tx->st;

	/* the marks of the ACL it had, for the generation it had */
	perms_refresh(st, n->perms, n->nperms, n->gen);
	if (e->has_perms) {
		perms_refresh(st, e->perms, e->nperms, tx->start);
		if (e->perms[0].domid != n->perms[0].domid) {
			owner_add(st, n->perms[0].domid, -1);
			owner_add(st, e->perms[0].domid, 1);
		}
		free(n->perms);
		n->perms = e->perms;
		n->nperms = e->nperms;
		e->perms = NULL;
		e->has_perms = false;
	}
	if (e->has_val) {
		free(n->val);
		n->val = e->val;
		n->len = e->len;
		e->val = NULL;
		e->has_val = false;
	}
	n->gen = ++st->gen;
}

/* Link @e's new node into the tree (its parent is there: parents sort first). */
static void apply_created(struct xs_store_tx *tx, struct tx_ent *e)
{
	struct xs_store *st = tx->st;
	struct xs_node *k = e->node, *parent = node_walk(st, e->path, parent_len(e->path, e->plen));

	e->node = NULL;
	k->val = e->val;
	k->len = e->len;
	k->perms = e->perms;
	k->nperms = e->nperms;
	e->val = NULL;
	e->perms = NULL;
	e->has_val = e->has_perms = false;
	perms_refresh(st, k->perms, k->nperms, tx->start);
	k->parent = parent;
	parent->kids[parent->nkids++] = k;
	st->nnodes++;
	owner_add(st, k->perms[0].domid, 1);
	k->gen = ++st->gen;
	node_bump(st, parent);
}

/* Children the transaction added go last, in the order it added them. */
static void apply_order(struct xs_store *st, struct tx_ent *e)
{
	struct xs_node *n = node_walk(st, e->path, e->plen);

	for (unsigned a = 0; n && a < e->nadded; a++) {
		for (unsigned i = 0; i < n->nkids; i++) {
			struct xs_node *k = n->kids[i];

			if (strcmp(k->name, e->added[a]) == 0) {
				memmove(&n->kids[i], &n->kids[i + 1], (n->nkids - i - 1) * sizeof(k));
				n->kids[n->nkids - 1] = k;
				break;
			}
		}
	}
}

/* Check (a real transaction) and apply @tx for @c, then notify. */
static int tx_apply(struct xs_store_tx *tx, const struct xs_store_caller *c)
{
	struct xs_store *st = tx->st;
	struct tx_ent **mods;
	unsigned nmods = 0, i = 0;
	int err;

	if (!tx->live) {
		if (tx->err)
			return tx->err;
		for (struct tx_ent *e = tx->head; e; e = e->next) {
			struct xs_node *n = node_walk(st, e->path, e->plen);

			if ((n ? n->gen : 0) != e->base)
				return -EAGAIN;
		}
		/* The quota again, against the tree as it is now (xenstored's transaction_fix_domains) */
		for (unsigned d = 0; !c->priv && d < tx->ndeltas; d++) {
			const struct owner_delta *od = &tx->deltas[d];

			if (od->delta > 0 &&
			    (long)xs_store_nodes_owned(st, od->domid) + od->delta > (long)st->quotas.nodes)
				return -ENOSPC;
		}
	}
	for (struct tx_ent *e = tx->head; e; e = e->next)
		nmods += e->modified;
	mods = malloc((nmods ? nmods : 1) * sizeof(*mods));
	if (!mods)
		return -ENOMEM;
	for (struct tx_ent *e = tx->head; e; e = e->next)
		if (e->modified)
			mods[i++] = e;
	qsort(mods, nmods, sizeof(*mods), ent_cmp);
	err = tx_prepare(tx, mods, nmods);
	if (err) {
		for (i = 0; i < nmods; i++) {
			node_free(NULL, mods[i]->node);
			mods[i]->node = NULL;
		}
		free(mods);
		return err;
	}
	/* From here on nothing can fail. */
	for (i = 0; i < nmods; i++) {
		struct tx_ent *e = mods[i];
		struct xs_node *n = node_walk(st, e->path, e->plen);

		if (!e->exists || e->fresh) {
			if (n)
				live_remove(st, n);
			if (e->exists)
				apply_created(tx, e);
		} else if (n) {
			apply_changed(tx, e, n);
		}
	}
	for (i = 0; i < nmods; i++)
		if (mods[i]->exists && mods[i]->nadded)
			apply_order(st, mods[i]);
	free(mods);
	for (struct tx_ent *e = tx->fhead; e && st->notify; e = e->fnext) {
		struct xs_node *n = node_walk(st, e->path, e->plen);

		if (n)
			st->notify(st->notify_ctx, e->path, e->exact, n->perms, n->nperms);
		else if (e->perms)
			st->notify(st->notify_ctx, e->path, e->exact, e->perms, e->nperms);
	}
	return 0;
}

struct xs_store_tx *xs_store_tx_start(struct xs_store *st)
{
	struct xs_store_tx *tx = malloc(sizeof(*tx));

	if (!tx)
		return NULL;
	tx_init(tx, st, false);
	tx->start = ++st->gen;
	tx->bytes = sizeof(*tx);
	return tx;
}

int xs_store_tx_commit(struct xs_store_tx *tx, const struct xs_store_caller *c)
{
	return tx_apply(tx, c);
}

void xs_store_tx_free(struct xs_store_tx *tx)
{
	if (!tx)
		return;
	tx_fini(tx);
	free(tx);
}

unsigned xs_store_tx_nodes(const struct xs_store_tx *tx)
{
	return tx->nents;
}

size_t xs_store_tx_bytes(const struct xs_store_tx *tx)
{
	return tx->bytes;
}

/* ---- operations --------------------------------------------------------------- */

typedef int (*change_fn)(struct op *o, const char *path, size_t plen, const void *arg);

/* Run change @fn on the tree (one operation, applied at once) or in @tx. */
static int change(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		  const char *path, change_fn fn, const void *arg)
{
	struct xs_store_tx one;
	struct op o = { st, tx, c };
	int err;

	if (tx)
		return fn(&o, path, strlen(path), arg);
	tx_init(&one, st, true);
	o.tx = &one;
	err = fn(&o, path, strlen(path), arg);
	if (!err)
		err = tx_apply(&one, c);
	tx_fini(&one);
	return err;
}

int xs_store_read(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		  const char *path, const char **val, size_t *len)
{
	struct op o = { st, tx, c };
	struct view v;
	int err = view_need(&o, path, strlen(path), XS_STORE_PERM_READ, &v);

	if (!err)
		*val = view_val(&v, len);
	return err;
}

struct write_arg {
	const void *val;
	size_t len;
};

static int do_write(struct op *o, const char *path, size_t plen, const void *arg)
{
	const struct write_arg *w = arg;
	struct view v;
	int err;

	if (!o->c->priv && w->len > o->st->quotas.node_size)
		return -ENOSPC;
	err = view_get(o, path, plen, &v);
	if (err)
		return err;
	if (!v.exists)
		err = view_create(o, path, plen, &v);
	else if (!view_allows(o, &v, XS_STORE_PERM_WRITE))
		err = -EACCES;
	if (!err)
		err = ent_set_val(o, &v, w->val, w->len);
	if (!err)
		ent_fire(o, v.ent, false);
	return err;
}

int xs_store_write(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		   const char *path, const void *val, size_t len)
{
	struct write_arg w = { val, len };

	return change(st, tx, c, path, do_write, &w);
}

static int do_mkdir(struct op *o, const char *path, size_t plen, const void *arg)
{
	struct view v;
	int err = view_get(o, path, plen, &v);

	(void)arg;
	if (err)
		return err;
	if (v.exists)
		return view_allows(o, &v, XS_STORE_PERM_WRITE) ? 0 : -EACCES;
	err = view_create(o, path, plen, &v);
	if (!err)
		ent_fire(o, v.ent, false);
	return err;
}

int xs_store_mkdir(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		   const char *path)
{
	return change(st, tx, c, path, do_mkdir, NULL);
}

static int do_rm(struct op *o, const char *path, size_t plen, const void *arg)
{
	struct view v, parent;
	size_t pl = parent_len(path, plen);
	char *buf;
	int err;

	(void)arg;
	if (plen == 1)
		return -EINVAL;
	err = view_get(o, path, plen, &v);
	if (err)
		return err;
	if (!v.exists) {
		/* Missing is fine if the parent exists (xenstored's do_rm). */
		err = missing_err(o, path, plen, XS_STORE_PERM_WRITE);
		if (err != -ENOENT)
			return err;
		err = view_get(o, path, pl, &parent);
		return err ? err : parent.exists ? 0 : -ENOENT;
	}
	if (!view_allows(o, &v, XS_STORE_PERM_WRITE))
		return -EACCES;
	buf = malloc(XENSTORE_ABS_PATH_MAX + 2);
	if (!buf)
		return tx_fail(o->tx, -ENOMEM);
	memcpy(buf, path, plen);
	buf[plen] = '\0';
	err = view_delete(o, buf, plen, &v, false);
	free(buf);
	if (!err)
		err = view_get(o, path, pl, &parent);
	if (!err)
		err = kid_remove(o, &parent, path + pl + (pl > 1));
	return err;
}

int xs_store_rm(struct xs_store *st, struct xs_store_tx *tx, const struct xs_store_caller *c,
		const char *path)
{
	return change(st, tx, c, path, do_rm, NULL);
}

int xs_store_directory(struct xs_store *st, struct xs_store_tx *tx,
		       const struct xs_store_caller *c, const char *path,
		       char **buf, size_t *len, uint64_t *gen)
{
	struct op o = { st, tx, c };
	struct view v;
	const char **kids;
	unsigned n;
	size_t total = 0, off = 0;
	char *b;
	int err = view_need(&o, path, strlen(path), XS_STORE_PERM_READ, &v);

	*buf = NULL;
	*len = 0;
	if (err)
		return err;
	if (gen)
		*gen = view_gen(&v);
	err = view_kids(&v, &kids, &n);
	if (err)
		return err;
	for (unsigned i = 0; i < n; i++)
		total += strlen(kids[i]) + 1;
	if (!total) {
		free(kids);
		return 0;
	}
	b = malloc(total);
	if (!b) {
		free(kids);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(kids[i]) + 1;

		memcpy(b + off, kids[i], l);
		off += l;
	}
	free(kids);
	*buf = b;
	*len = total;
	return 0;
}

int xs_store_get_perms(struct xs_store *st, struct xs_store_tx *tx,
		       const struct xs_store_caller *c, const char *path,
		       struct xs_store_perm **perms, unsigned *n)
{
	struct op o = { st, tx, c };
	struct view v;
	const struct xs_store_perm *p;
	int err = view_need(&o, path, strlen(path), XS_STORE_PERM_READ, &v);

	if (err)
		return err;
	p = view_perms(&o, &v, n);
	*perms = perms_dup(p, *n);
	if (!*perms)
		return -ENOMEM;
	for (unsigned i = 0; i < *n; i++)
		(*perms)[i].bits &= PERM_RW;
	return 0;
}

struct perms_arg {
	const struct xs_store_perm *perms;
	unsigned n;
};

static int do_set_perms(struct op *o, const char *path, size_t plen, const void *arg)
{
	const struct perms_arg *a = arg;
	const struct xs_store_perm *cur;
	struct xs_store_perm *copy;
	struct view v;
	unsigned ncur;
	int err;

	if (a->n == 0)
		return -EINVAL;
	/* xenstored's quota_nb_perms_per_node: ENOSPC, before the node is looked at */
	if (!o->c->priv && a->n > o->st->quotas.perms)
		return -ENOSPC;
	err = view_need(o, path, plen, XS_STORE_PERM_WRITE | XS_STORE_PERM_OWNER, &v);
	if (err)
		return err;
	cur = view_perms(o, &v, &ncur);
	if (!o->c->priv && a->perms[0].domid != cur[0].domid)
		return -EPERM;
	copy = perms_dup(a->perms, a->n);
	if (!copy)
		return tx_fail(o->tx, -ENOMEM);
	for (unsigned i = 0; i < a->n; i++)
		copy[i].bits &= PERM_RW;
	if (copy[0].domid != cur[0].domid) {
		err = delta_add(o, cur[0].domid, -1);
		if (!err)
			err = delta_add(o, copy[0].domid, 1);
		if (err) {
			free(copy);
			return err;
		}
	}
	ent_set_perms(o, &v, copy, a->n);
	ent_fire(o, v.ent, false);
	return 0;
}

int xs_store_set_perms(struct xs_store *st, struct xs_store_tx *tx,
		       const struct xs_store_caller *c, const char *path,
		       const struct xs_store_perm *perms, unsigned n)
{
	struct perms_arg a = { perms, n };

	return change(st, tx, c, path, do_set_perms, &a);
}

/* ---- dead domains ------------------------------------------------------------- */

struct paths {
	char **p;
	unsigned n, cap;
};

/* The topmost nodes below @n (path in @buf, @len chars) that @domid owns. */
static int owned_roots(const struct xs_node *n, unsigned domid, char *buf, size_t len,
		       struct paths *out)
{
	for (unsigned i = 0; i < n->nkids; i++) {
		const struct xs_node *k = n->kids[i];
		size_t kl = strlen(k->name), l = len == 1 ? 1 + kl : len + 1 + kl;
		int err;

		if (l > XENSTORE_ABS_PATH_MAX)
			continue;
		if (len > 1)
			buf[len] = '/';
		memcpy(buf + (len == 1 ? 1 : len + 1), k->name, kl + 1);
		if (k->perms[0].domid == domid) {
			if (out->n == out->cap) {
				unsigned cap = out->cap ? out->cap * 2 : 8;
				char **p = realloc(out->p, cap * sizeof(*p));

				if (!p)
					return -ENOMEM;
				out->p = p;
				out->cap = cap;
			}
			out->p[out->n] = strdup(buf);
			if (!out->p[out->n])
				return -ENOMEM;
			out->n++;
		} else {
			err = owned_roots(k, domid, buf, l, out);
			if (err)
				return err;
		}
		buf[len] = '\0';
	}
	return 0;
}

int xs_store_domain_release(struct xs_store *st, unsigned domid)
{
	struct paths roots = { NULL, 0, 0 };
	struct xs_store_tx one;
	struct op o = { st, &one, &store_priv };
	char *buf;
	int err;

	if (domid == 0)
		return -EINVAL;
	/* room for the record first, so that the removal is never left without it */
	err = death_record(st, domid, death_gen(st, domid));
	if (err)
		return err;
	buf = malloc(XENSTORE_ABS_PATH_MAX + 2);
	if (!buf)
		return -ENOMEM;
	strcpy(buf, "/");
	err = owned_roots(st->root, domid, buf, 1, &roots);
	free(buf);
	tx_init(&one, st, true);
	for (unsigned i = 0; !err && i < roots.n; i++)
		err = do_rm(&o, roots.p[i], strlen(roots.p[i]), NULL);
	if (!err)
		err = tx_apply(&one, &store_priv);
	tx_fini(&one);
	for (unsigned i = 0; i < roots.n; i++)
		free(roots.p[i]);
	free(roots.p);
	/* From here on, entries naming it on nodes older than this are ignored. */
	death_record(st, domid, ++st->gen);
	return err;
}

/* ---- the wire form of ACLs ------------------------------------------------------ */

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
