/* SPDX-License-Identifier: MIT */
/*
 * vifs.c - the vifs the toolstack asked for, and the TAPs held for them.
 *
 * One watch covers the backend root (backend/vif under our domain's path).
 * Only the toolstack writes the nodes read here (a domain dir, a vif dir,
 * its `online` node); workers' own writes (state, features) fire the same
 * watch and are skipped by their path. Events are noted per domain and
 * applied once per wake-up, so a burst costs one read of each domain named,
 * never a re-read of every vif on the host.
 *
 * A vif online=1 gets a persistent TAP vif<domid>.<devid> (tap.h): the
 * device, its bridge port and its addresses then outlive any worker and the
 * supervisor itself; a new supervisor attaches to it again. The TAP is
 * removed when the worker reports that the toolstack removed the vif, when
 * the vif's directory is gone, and at start-up for a TAP of ours (its alias
 * says so) that no vif names: the toolstack removed it while no xnbd ran.
 *
 * A TAP the host deletes under a running vif (ip link del) is made again:
 * its worker finds every read failing and says so (IPC_TAP_LOST); our own
 * fd confirms it (a worker is not trusted), and the device comes back with
 * its name, queues, alias and MTU, in the bridge the toolstack's `bridge`
 * node names if there is one (what vif-bridge did), and a new worker takes
 * it while the guest stays Connected (as for a new vif: workers.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/xen.h>

#include "log.h"
#include "supervisor.h"
#include "xs_util.h"
#include "xsvalue.h"

#define ROOT_TOKEN "backend-root"
/* vifs held per guest at most: a toolstack never needs more (and a worker,
 * which holds a dom0 XenStore connection, cannot make us hold thousands). */
#define VIFS_PER_DOMAIN_MAX 64
/* Domains noted per wake-up before falling back to a full scan. */
#define NOTED_MAX 32

static unsigned noted[NOTED_MAX];
static unsigned nr_noted;
static bool rescan_all;
/* Domains with a vif whose TAP could not be made yet (e.g. EBUSY while a
 * dead worker's io_uring still holds the old file): scanned again. */
#define RETRY_MS 200
static unsigned retry[NOTED_MAX];
static unsigned nr_retry;
static uint64_t retry_at_ms;

/* Vifs whose deleted TAP could not be made again yet (vifs_tick retries). */
static unsigned nr_remake;

static void retry_later(unsigned domid)
{
	for (unsigned i = 0; i < nr_retry; i++)
		if (retry[i] == domid)
			return;
	if (nr_retry < NOTED_MAX)
		retry[nr_retry++] = domid;
	retry_at_ms = sup_now_ms() + RETRY_MS;
}

/*
 * Our TAPs carry an alias naming the xnbd instance (the platform, and the
 * simulator's directory), so that the stale-TAP sweep at start-up removes
 * only TAPs an earlier run of the same instance left, never another
 * instance's (tests run several simulated hosts on one machine).
 */
static void instance_tag(const struct supervisor *s, char *buf, size_t len)
{
	const char *dir = getenv("XNB_SIM_DIR");

	snprintf(buf, len, "xnb %s%s%s", s->platform_name,
		 strcmp(s->platform_name, "sim") == 0 ? " " : "",
		 strcmp(s->platform_name, "sim") == 0 ? (dir ? dir : "/run/xnb-sim") : "");
}

static int alias_path(const char *ifname, char *path, size_t len)
{
	return snprintf(path, len, "/sys/class/net/%s/ifalias", ifname) < (int)len ? 0 : -1;
}

static void tag_tap(const struct supervisor *s, const char *ifname)
{
	char path[300], tag[200];
	FILE *f;

	instance_tag(s, tag, sizeof(tag));
	if (alias_path(ifname, path, sizeof(path)) || !(f = fopen(path, "w")))
		return;
	fprintf(f, "%s\n", tag);
	fclose(f);
}

static bool tagged_ours(const struct supervisor *s, const char *ifname)
{
	char path[300], tag[200], have[256] = "";
	FILE *f;

	instance_tag(s, tag, sizeof(tag));
	if (alias_path(ifname, path, sizeof(path)) || !(f = fopen(path, "r")))
		return false;
	if (!fgets(have, sizeof(have), f))
		have[0] = '\0';
	fclose(f);
	have[strcspn(have, "\n")] = '\0';
	return strcmp(have, tag) == 0;
}

static struct sup_vif *find(struct supervisor *s, unsigned domid, unsigned devid)
{
	for (struct sup_vif *v = s->vifs; v; v = v->next)
		if (v->domid == domid && v->devid == devid)
			return v;
	return NULL;
}

unsigned vifs_count(const struct supervisor *s, unsigned domid)
{
	unsigned n = 0;

	for (const struct sup_vif *v = s->vifs; v; v = v->next)
		n += domid == ~0u || v->domid == domid;
	return n;
}

static void journal_path(const struct supervisor *s, unsigned domid, unsigned devid,
			 char *path, size_t len)
{
	snprintf(path, len, "%s/vif%u.%u.journal", s->run_dir, domid, devid);
}

/* The vif's response journal (worker/journal.h): a file, so it outlives us too. */
static int open_journal(const struct supervisor *s, unsigned domid, unsigned devid)
{
	char path[200];
	int fd;

	journal_path(s, domid, devid, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && ftruncate(fd, IPC_JOURNAL_BYTES) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		log_warn("vif%u.%u: no journal at %s (%s): a worker's death may cost a "
			 "batch of responses", domid, devid, path, strerror(errno));
	return fd;
}

static void drop(struct supervisor *s, struct sup_vif *v, bool remove)
{
	for (struct sup_vif **pp = &s->vifs; *pp; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	}
	if (v->nr_taps == 0 && v->remake_at_ms && nr_remake)
		nr_remake--;
	for (unsigned i = 1; i < v->nr_taps; i++)
		tap_close(&v->taps[i]);
	if (remove) {
		char path[200];

		tap_remove(&v->taps[0]); /* the last fd: the device goes */
		journal_path(s, v->domid, v->devid, path, sizeof(path));
		unlink(path);
	} else {
		tap_close(&v->taps[0]);
	}
	if (v->journal_fd >= 0)
		close(v->journal_fd);
	free(v);
}

/* The toolstack's word on one vif: online 1 (1), anything else (0), no dir (-ENOENT). */
static int read_online(struct supervisor *s, unsigned domid, unsigned devid)
{
	struct xs_util u = { s->ops, s->xs };
	char dir[128];
	uint32_t online;
	int rc;

	snprintf(dir, sizeof(dir), "%s/%u/%u", s->backend_root, domid, devid);
	rc = xs_util_read_u32(&u, dir, "online", &online);
	if (rc == -ENOENT) {
		char *val = NULL;
		size_t len;

		/* No `online` yet is not no directory: the toolstack writes it next. */
		if (s->ops->xs_read(s->xs, 0, dir, &val, &len) == 0) {
			free(val);
			return 0;
		}
		return -ENOENT;
	}
	return rc == 0 && online == 1;
}

static bool take(struct supervisor *s, unsigned domid, unsigned devid)
{
	struct sup_vif *v = calloc(1, sizeof(*v));
	char name[16];
	int rc;

	if (!v)
		return false;
	snprintf(name, sizeof(name), "vif%u.%u", domid, devid);
	rc = tap_open_persistent_queues(v->taps, s->max_queues, name);
	if (rc > 0) {
		v->nr_taps = (unsigned)rc;
		rc = 0;
	}
	if (rc) {
		log_warn("vif%u.%u: cannot create TAP %s: %s; trying again", domid, devid, name,
			 strerror(-rc));
		free(v);
		retry_later(domid);
		return false;
	}
	tag_tap(s, name);
	v->journal_fd = open_journal(s, domid, devid);
	v->domid = domid;
	v->devid = devid;
	v->seen = true;
	v->next = s->vifs;
	s->vifs = v;
	log_info("vif%u.%u: online, TAP %s held (%u queue%s)", domid, devid, name, v->nr_taps,
		 v->nr_taps == 1 ? "" : "s");
	return true;
}

/* Bring what we hold for @domid in line with its backend directory. */
static void scan_domain(struct supervisor *s, unsigned domid)
{
	char dir[96], **devs = NULL;
	unsigned ndevs = 0;
	bool took = false;
	int rc;

	for (struct sup_vif *v = s->vifs; v; v = v->next)
		if (v->domid == domid)
			v->seen = false;
	snprintf(dir, sizeof(dir), "%s/%u", s->backend_root, domid);
	rc = s->ops->xs_directory(s->xs, 0, dir, &devs, &ndevs);
	if (rc != 0 && rc != -ENOENT) {
		/* Not an answer: keep everything as it is until the next event. */
		log_warn("cannot list %s: %s", dir, strerror(-rc));
		for (struct sup_vif *v = s->vifs; v; v = v->next)
			if (v->domid == domid)
				v->seen = true;
		return;
	}
	if (rc)
		ndevs = 0;
	for (unsigned i = 0; i < ndevs; i++) {
		uint32_t devid;
		struct sup_vif *v;
		int online;

		if (xsvalue_parse_u32(devs[i], strlen(devs[i]), &devid) != 0 || devid > 0xffff)
			continue;
		v = find(s, domid, devid);
		if (v) {
			v->seen = true; /* the worker takes it from here, offline included */
			continue;
		}
		online = read_online(s, domid, devid);
		if (online == 1 && vifs_count(s, domid) >= VIFS_PER_DOMAIN_MAX)
			log_warn("vif%u.%u: domain %u has %u vifs already: refused", domid, devid,
				 domid, VIFS_PER_DOMAIN_MAX);
		else if (online == 1)
			took |= take(s, domid, devid);
	}
	free(devs);
	/* One worker start (or replacement) for all the vifs this scan took. */
	if (took)
		workers_ensure(s, domid, true);
	for (struct sup_vif *v = s->vifs, *next; v; v = next) {
		next = v->next;
		if (v->domid == domid && !v->seen) {
			log_info("vif%u.%u: directory gone, TAP %s removed", v->domid, v->devid,
				 v->taps[0].name);
			drop(s, v, true);
		}
	}
	if (vifs_count(s, domid) == 0)
		workers_retire(s, domid);
}

/* Every domain's vifs; false if the root could not be listed (nothing changed). */
static bool scan_all(struct supervisor *s)
{
	char **doms = NULL;
	unsigned ndoms = 0, *gone = NULL, nr_gone = 0;
	int rc = s->ops->xs_directory(s->xs, 0, s->backend_root, &doms, &ndoms);

	if (rc != 0 && rc != -ENOENT) {
		log_warn("cannot list %s: %s", s->backend_root, strerror(-rc));
		return false;
	}
	if (rc)
		ndoms = 0;
	for (unsigned i = 0; i < ndoms; i++) {
		uint32_t domid;

		if (xsvalue_parse_u32(doms[i], strlen(doms[i]), &domid) == 0 && domid > 0 &&
		    domid < DOMID_FIRST_RESERVED)
			scan_domain(s, domid);
	}
	/* Domains whose directory went away as a whole: each scanned once more. */
	for (struct sup_vif *v = s->vifs; v; v = v->next) {
		bool listed = false, noted_already = false;
		unsigned *grown;

		for (unsigned i = 0; i < ndoms && !listed; i++) {
			uint32_t domid;

			listed = xsvalue_parse_u32(doms[i], strlen(doms[i]), &domid) == 0 &&
				 domid == v->domid;
		}
		for (unsigned i = 0; i < nr_gone && !noted_already; i++)
			noted_already = gone[i] == v->domid;
		if (listed || noted_already)
			continue;
		grown = realloc(gone, (nr_gone + 1) * sizeof(*gone));
		if (!grown)
			break;
		gone = grown;
		gone[nr_gone++] = v->domid;
	}
	for (unsigned i = 0; i < nr_gone; i++)
		scan_domain(s, gone[i]);
	free(gone);
	free(doms);
	return true;
}

/* TAPs named like ours that no online vif accounts for: left by an earlier run. */
static void remove_stale_taps(struct supervisor *s)
{
	DIR *dir = opendir("/sys/class/net");
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		unsigned domid, devid;
		char path[300], tail;
		int rc;

		if (sscanf(e->d_name, "vif%u.%u%c", &domid, &devid, &tail) != 2 ||
		    find(s, domid, devid))
			continue;
		/* Only our TAPs: the kernel netback's vifs are not TUN devices at all. */
		snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", e->d_name);
		if (access(path, F_OK) != 0 || !tagged_ours(s, e->d_name))
			continue;
		rc = tap_remove_by_name(e->d_name);
		if (rc == 0)
			log_info("%s: no vif names it any more (removed while xnbd was down): removed",
				 e->d_name);
		else
			log_warn("%s: stale TAP not removed: %s", e->d_name, strerror(-rc));
	}
	closedir(dir);
	/* And their journals. */
	dir = opendir(s->run_dir);
	while (dir && (e = readdir(dir))) {
		unsigned domid, devid;
		char tail[16];

		if (sscanf(e->d_name, "vif%u.%u.%15s", &domid, &devid, tail) == 3 &&
		    strcmp(tail, "journal") == 0 && !find(s, domid, devid))
			unlinkat(dirfd(dir), e->d_name, 0);
	}
	if (dir)
		closedir(dir);
}

int vifs_start(struct supervisor *s)
{
	int rc = s->ops->xs_watch(s->xs, s->backend_root, ROOT_TOKEN);

	if (rc)
		return rc;
	/* Stale TAPs only when we know which vifs exist. */
	if (scan_all(s))
		remove_stale_taps(s);
	return 0;
}

void vifs_watch_event(struct supervisor *s, const char *path)
{
	size_t root_len = strlen(s->backend_root);
	const char *rest;
	char node[32] = "";
	unsigned domid, devid;
	int n;

	if (strncmp(path, s->backend_root, root_len) != 0)
		return;
	rest = path + root_len;
	if (*rest == '\0') {
		rescan_all = true;
		return;
	}
	n = sscanf(rest, "/%u/%u/%31s", &domid, &devid, node);
	/* backend/vif/D, backend/vif/D/N, backend/vif/D/N/online: the toolstack's nodes. */
	if (n < 1 || (n == 3 && strcmp(node, "online") != 0))
		return;
	for (unsigned i = 0; i < nr_noted; i++)
		if (noted[i] == domid)
			return;
	if (nr_noted == NOTED_MAX)
		rescan_all = true;
	else
		noted[nr_noted++] = domid;
}

void vifs_apply(struct supervisor *s)
{
	if (rescan_all)
		scan_all(s);
	else
		for (unsigned i = 0; i < nr_noted; i++)
			if (noted[i] > 0 && noted[i] < DOMID_FIRST_RESERVED)
				scan_domain(s, noted[i]);
	rescan_all = false;
	nr_noted = 0;
}

/*
 * What vif-bridge did for the deleted TAP, done again for the new one: a
 * port of the bridge the toolstack's `bridge` node names. Anything else a
 * hotplug script did (vif-route's routes, vif-nat's addresses) is not.
 */
static void rebridge(struct supervisor *s, const struct sup_vif *v)
{
	char path[160], *bridge = NULL;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%u/%u/bridge", s->backend_root, v->domid, v->devid);
	if (s->ops->xs_read(s->xs, 0, path, &bridge, &len) != 0 || len == 0 || !bridge[0]) {
		log_warn("vif%u.%u: TAP %s made again, in no bridge (no %s node): what the "
			 "hotplug script did for the old one (routes, addresses) is not redone",
			 v->domid, v->devid, v->taps[0].name, path);
		free(bridge);
		return;
	}
	rc = tap_join_bridge(&v->taps[0], bridge);
	if (rc)
		log_warn("vif%u.%u: TAP %s made again, but not added to bridge %s: %s", v->domid,
			 v->devid, v->taps[0].name, bridge, strerror(-rc));
	else
		log_info("vif%u.%u: TAP %s made again and added to bridge %s", v->domid, v->devid,
			 v->taps[0].name, bridge);
	free(bridge);
}

/*
 * Make @v's deleted TAP again, as take() made it, with the MTU we had set;
 * a new worker takes it (the guest stays Connected). False: not yet (the
 * name may be taken meanwhile), vifs_tick tries again.
 */
static bool remake(struct supervisor *s, struct sup_vif *v)
{
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "vif%u.%u", v->domid, v->devid);
	rc = tap_open_persistent_queues(v->taps, s->max_queues, name);
	if (rc < 0) {
		/* Said once: the name may stay taken (another device) for long. */
		if (!v->remake_at_ms)
			log_warn("vif%u.%u: cannot make TAP %s again: %s; trying again every %u ms, "
				 "its guest's traffic dropped meanwhile", v->domid, v->devid, name,
				 strerror(-rc), RETRY_MS);
		v->remake_at_ms = sup_now_ms() + RETRY_MS;
		return false;
	}
	v->nr_taps = (unsigned)rc;
	v->remake_at_ms = 0;
	tag_tap(s, name);
	/* The next worker raises it and sets the carrier; the MTU it does not resend. */
	v->link_known = v->admin_up = false;
	if (v->mtu && v->mtu != TAP_MTU_DEFAULT) {
		rc = tap_set_mtu(&v->taps[0], v->mtu);
		if (rc)
			log_warn("vif%u.%u: cannot set MTU %u on %s again: %s", v->domid, v->devid,
				 v->mtu, name, strerror(-rc));
	}
	log_info("vif%u.%u: TAP %s made again (%u queue%s)", v->domid, v->devid, name,
		 v->nr_taps, v->nr_taps == 1 ? "" : "s");
	rebridge(s, v);
	workers_ensure(s, v->domid, true);
	return true;
}

void vifs_tap_lost(struct supervisor *s, unsigned domid, unsigned devid, int err)
{
	struct sup_vif *v = find(s, domid, devid);

	if (!v || v->nr_taps == 0)
		return; /* gone, or being made again already */
	if (!tap_detached(&v->taps[0])) {
		/* Its fds failed, not the device: nothing for us to make again. */
		log_warn("vif%u.%u: the worker says TAP %s fails (%s), but it is there: left alone",
			 domid, devid, v->taps[0].name, strerror(err > 0 && err < 4096 ? err : EIO));
		return;
	}
	log_warn("vif%u.%u: TAP %s removed by the host: making it again", domid, devid,
		 v->taps[0].name);
	for (unsigned i = 0; i < v->nr_taps; i++)
		tap_close(&v->taps[i]);
	v->nr_taps = 0;
	if (!remake(s, v))
		nr_remake++;
}

void vifs_tick(struct supervisor *s)
{
	unsigned doms[NOTED_MAX], n = nr_retry;

	if (nr_remake) {
		uint64_t now = sup_now_ms();

		for (struct sup_vif *v = s->vifs; v; v = v->next)
			if (v->nr_taps == 0 && v->remake_at_ms && now >= v->remake_at_ms &&
			    remake(s, v))
				nr_remake--;
	}

	if (n == 0 || sup_now_ms() < retry_at_ms)
		return;
	memcpy(doms, retry, n * sizeof(doms[0]));
	nr_retry = 0;
	for (unsigned i = 0; i < n; i++)
		scan_domain(s, doms[i]);
}

/*
 * A TAP we remove while its vif stays (the stop for good) takes its bridge
 * port with it: the hotplug script's "connected" no longer holds. Reset the
 * node to what libxl creates, so that a later xnbd waits for (and warns
 * about) a hotplug run before it connects the vif again, as Linux's netback
 * removes it on the way out. Only an existing node is rewritten (in one
 * transaction): a directory the toolstack removed is not recreated.
 */
static void hotplug_reset(struct supervisor *s, const struct sup_vif *v)
{
	char path[160], *val = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%u/%u/hotplug-status", s->backend_root, v->domid, v->devid);
	for (int tries = 0; tries < 5; tries++) {
		uint32_t tx;
		int rc;

		if (s->ops->xs_transaction_start(s->xs, &tx) != 0)
			return;
		rc = s->ops->xs_read(s->xs, tx, path, &val, &len);
		free(val);
		val = NULL;
		if (rc == 0)
			rc = s->ops->xs_write(s->xs, tx, path, "", 0);
		if (s->ops->xs_transaction_end(s->xs, tx, rc == 0) != -EAGAIN)
			return;
	}
}

void vifs_gone(struct supervisor *s, unsigned domid, unsigned devid)
{
	struct sup_vif *v = find(s, domid, devid);

	if (!v)
		return;
	if (s->stopping && s->disconnect) {
		/* The stop for good: the worker closed it, the toolstack did not remove it. */
		log_info("vif%u.%u: closed, TAP %s removed", domid, devid, v->taps[0].name);
		hotplug_reset(s, v);
	} else {
		log_info("vif%u.%u: removed by the toolstack, TAP %s removed", domid, devid,
			 v->taps[0].name);
	}
	drop(s, v, true);
	if (vifs_count(s, domid) == 0)
		workers_retire(s, domid);
}

/*
 * The guest's link: carrier on when its frontend is connected and taking
 * frames, off when it is gone or stalled. The admin state is only ever
 * raised (a hotplug script usually has): taking it down would drop the
 * vif's IPv6 addresses and vif-route's routes when a guest reconnects in
 * place. The frontend's MTU is applied unless someone else (the
 * administrator, a hotplug script) has set another since the TAP was made:
 * the device still has the default, or what we set last.
 */
void vifs_link(struct supervisor *s, unsigned domid, unsigned devid, bool up, unsigned mtu)
{
	struct sup_vif *v = find(s, domid, devid);
	const char *what = "carrier";
	int rc = 0;

	if (!v || v->nr_taps == 0)
		return; /* no TAP until it is made again */
	/* A worker is not trusted: sane MTUs only, and no work for a no-op. */
	if (up && mtu >= 68 && mtu <= TAP_MTU_MAX_SG && mtu != v->mtu) {
		int now = tap_get_mtu(&v->taps[0]);

		if (now == (int)mtu) {
			v->mtu = mtu;
		} else if (now == TAP_MTU_DEFAULT || (v->mtu && now == (int)v->mtu)) {
			what = "MTU";
			rc = tap_set_mtu(&v->taps[0], mtu);
			if (rc == 0)
				v->mtu = mtu;
		} else if (now > 0) {
			log_info("vif%u.%u: keeping the MTU %d set on %s since it was made (the "
				 "frontend's is %u)", domid, devid, now, v->taps[0].name, mtu);
			v->mtu = mtu; /* said once */
		}
	}
	if (rc == 0 && up && !v->admin_up) {
		what = "up";
		rc = tap_set_up(&v->taps[0], true);
		if (rc == 0)
			v->admin_up = true;
	}
	if (rc == 0 && (v->link_known ? v->up != up : true)) {
		what = "carrier";
		rc = tap_set_carrier(&v->taps[0], up);
		if (rc == 0) {
			v->up = up;
			v->link_known = true;
		}
	}
	if (rc)
		log_warn("vif%u.%u: cannot set %s %s%s: %s", domid, devid, v->taps[0].name, what,
			 strcmp(what, "carrier") ? "" : up ? " on" : " off", strerror(-rc));
}

void vifs_release(struct supervisor *s, bool remove)
{
	while (s->vifs) {
		if (remove)
			hotplug_reset(s, s->vifs);
		drop(s, s->vifs, remove);
	}
	s->ops->xs_unwatch(s->xs, s->backend_root, ROOT_TOKEN);
}
