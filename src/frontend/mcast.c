/* SPDX-License-Identifier: MIT */
/*
 * mcast.c - --mcast-control: the backend's multicast filter follows the
 * guest NIC's multicast list.
 *
 * Theory of operation. A backend that offers feature-multicast-control (or
 * its dynamic variant) and finds request-multicast-control=1 in our
 * directory (handshake.c writes it with the other keys) stops flooding
 * multicast to us: it delivers only the groups we subscribed to with
 * MCAST_ADD requests on a TX ring (netif.h), broadcast always. So we keep
 * its filter equal to what the guest's stack asked the NIC for:
 *
 *   main thread    every second, reads the NIC's link-layer multicast list
 *                  from /proc/net/dev_mcast (what the kernel programs into a
 *                  real NIC's filter: the IPv6 solicited-node and all-nodes
 *                  groups, IPv4's all-hosts, the groups sockets joined, `ip
 *                  maddr add`); when it changed, publishes it (mcast_lock)
 *                  and wakes queue 0's thread (mcast_fd).
 *   queue 0        compares that list with what the backend holds for this
 *                  connection (struct nf_mcast_sync, its own) and writes
 *                  MCAST_DEL for groups gone, then MCAST_ADD for new ones
 *                  (removals first: they make room in a full table), on
 *                  its TX ring through engine_front_tx_mcast(); the answers
 *                  come back with the TX responses.
 *
 * RTM_GETLINK does not carry the list and no netlink group announces
 * link-layer changes (`ip maddr add`, IPv4 joins), hence the poll: at
 * worst a second late, which neighbour discovery's retransmissions cover.
 * One filter per vif: Linux netback keeps it for the vif whatever queue
 * the requests come on; we use queue 0's ring.
 *
 * A connection starts with an empty filter on the backend's side (it
 * forgets the list on a new connection and keeps it when it resumes ours),
 * so queue 0 starts from nothing and subscribes the whole list.
 *
 * An address the backend refuses (NETIF_RSP_ERROR: its table is full, 64
 * entries in Linux) is logged once per connection, and asked for again
 * whenever a removal has made room. Its frames stay filtered meanwhile:
 * the guest misses that group, nothing else.
 */
#include "netfront.h"

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* How often the NIC's list is read. */
#define MCAST_POLL_S 1

/* What queue 0 knows of one address in the backend's filter. */
enum {
	MC_ADDING = 1, /* MCAST_ADD sent, not yet answered */
	MC_ADDED,      /* ... answered OKAY: the backend delivers the group */
	MC_REFUSED,    /* ... answered otherwise: not subscribed */
	MC_DELETING,   /* MCAST_DEL sent, not yet answered */
};

static bool list_has(const struct nf_mcast_list *l, const uint8_t addr[6])
{
	for (unsigned i = 0; i < l->n; i++)
		if (memcmp(l->addr[i], addr, 6) == 0)
			return true;
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Twelve hex digits (dev_mcast prints the address so) into @addr. 0 or -EINVAL. */
static int parse_hex_mac(const char *s, uint8_t addr[6])
{
	if (strlen(s) != 12)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		addr[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * The multicast list of interface @ifindex, from /proc/net/dev_mcast (the
 * reader's network namespace: the guest's). Each line is
 * "ifindex name users global-users address-in-hex". Broadcast needs no
 * subscription and is left out; so is anything without the group bit.
 * *@overflow is set when the list had more than NF_MCAST_MAX. 0 or -errno.
 */
static int read_list(unsigned ifindex, struct nf_mcast_list *l, bool *overflow)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	FILE *f = fopen("/proc/net/dev_mcast", "re");
	char line[256];

	l->n = 0;
	*overflow = false;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char name[IF_NAMESIZE], hex[16];
		unsigned idx, users, global;
		uint8_t addr[6];

		if (sscanf(line, "%u %15s %u %u %15s", &idx, name, &users, &global, hex) != 5 ||
		    idx != ifindex || parse_hex_mac(hex, addr) != 0)
			continue;
		if (!(addr[0] & 1) || memcmp(addr, bcast, 6) == 0 || list_has(l, addr))
			continue;
		if (l->n == NF_MCAST_MAX) {
			*overflow = true;
			continue;
		}
		memcpy(l->addr[l->n++], addr, 6);
	}
	fclose(f);
	return 0;
}

int nf_mcast_init(struct netfront *nf)
{
	struct itimerspec its = { .it_interval = { MCAST_POLL_S, 0 },
				  .it_value = { MCAST_POLL_S, 0 } };

	nf->mcast_ifindex = if_nametoindex(nf->tap.name);
	if (nf->mcast_ifindex == 0)
		return -errno;
	if (pthread_mutex_init(&nf->mcast_lock, NULL) != 0)
		return -ENOMEM;
	nf->mcast_lock_init = true;
	nf->mcast_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (nf->mcast_fd < 0)
		return -errno;
	nf->mcast_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (nf->mcast_timer < 0)
		return -errno;
	if (timerfd_settime(nf->mcast_timer, 0, &its, NULL) < 0)
		return -errno;
	nf_mcast_refresh(nf);
	return 0;
}

void nf_mcast_close(struct netfront *nf)
{
	if (nf->mcast_timer >= 0)
		close(nf->mcast_timer);
	if (nf->mcast_fd >= 0)
		close(nf->mcast_fd);
	nf->mcast_timer = nf->mcast_fd = -1;
	if (nf->mcast_lock_init)
		pthread_mutex_destroy(&nf->mcast_lock);
	nf->mcast_lock_init = false;
}

void nf_mcast_refresh(struct netfront *nf)
{
	struct nf_mcast_list l;
	uint64_t expired, one = 1;
	bool overflow, changed;
	int rc;

	if (read(nf->mcast_timer, &expired, sizeof(expired)) < 0 && errno != EAGAIN)
		log_debug("%s: multicast timer: %s", nf->tap.name, strerror(errno));
	rc = read_list(nf->mcast_ifindex, &l, &overflow);
	if (rc) {
		if (!nf->mcast_read_failed)
			log_warn("%s: cannot read /proc/net/dev_mcast: %s (the backend's filter "
				 "stays as it is)", nf->tap.name, strerror(-rc));
		nf->mcast_read_failed = true;
		return;
	}
	nf->mcast_read_failed = false;
	if (overflow && !nf->mcast_overflow_logged)
		log_warn("%s: more than %u multicast addresses: only the first %u are subscribed",
			 nf->tap.name, NF_MCAST_MAX, NF_MCAST_MAX);
	nf->mcast_overflow_logged = overflow;
	pthread_mutex_lock(&nf->mcast_lock);
	changed = l.n != nf->mcast_want.n ||
		  memcmp(l.addr, nf->mcast_want.addr, (size_t)l.n * 6) != 0;
	if (changed)
		nf->mcast_want = l;
	pthread_mutex_unlock(&nf->mcast_lock);
	if (!changed)
		return;
	log_debug("%s: multicast list now %u address%s", nf->tap.name, l.n, l.n == 1 ? "" : "es");
	if (write(nf->mcast_fd, &one, sizeof(one)) < 0)
		log_debug("%s: multicast wake-up: %s", nf->tap.name, strerror(errno)); /* saturated */
}

/* ---- queue 0's thread --------------------------------------------------- */

static struct nf_mcast_entry *find(struct nf_mcast_sync *s, const uint8_t addr[6])
{
	for (unsigned i = 0; i < s->n; i++)
		if (memcmp(s->e[i].addr, addr, 6) == 0)
			return &s->e[i];
	return NULL;
}

static void forget(struct nf_mcast_sync *s, struct nf_mcast_entry *e)
{
	*e = s->e[--s->n];
}

static void fmt_mac(char out[18], const uint8_t a[6])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The backend answered one of our requests. */
static void answered(struct nf_queue *q, const struct engine_front_mcast_result *r)
{
	struct nf_mcast_sync *s = &q->mc;
	struct nf_mcast_entry *e = find(s, r->addr);
	char mac[18];

	if (!e)
		return; /* every request has its entry until answered: cannot happen */
	if (r->add && e->state == MC_ADDING) {
		if (r->status == NETIF_RSP_OKAY) {
			e->state = MC_ADDED;
			return;
		}
		e->state = MC_REFUSED;
		if (!s->refused_logged) {
			fmt_mac(mac, r->addr);
			log_warn("%s: the backend refused multicast group %s (status %d: its filter "
				 "is full?); its frames stay filtered, tried again when a group is "
				 "removed (further refusals not logged)", q->tap->name, mac, r->status);
			s->refused_logged = true;
		}
	} else if (!r->add && e->state == MC_DELETING) {
		forget(s, e);
		if (r->status != NETIF_RSP_OKAY)
			return;
		/* Room in the backend's table: the refused may now fit, ask again. */
		for (unsigned i = 0; i < s->n;) {
			if (s->e[i].state == MC_REFUSED)
				forget(s, &s->e[i]);
			else
				i++;
		}
	}
}

bool nf_mcast_sync(struct nf_queue *q, bool woken)
{
	struct nf_mcast_sync *s = &q->mc;
	struct nf_mcast_list want;
	struct engine_front_mcast_result r;
	struct netfront *nf = q->nf;
	uint64_t wakeups;
	bool wrote = false;

	while (engine_front_tx_mcast_result(&q->tx, &r)) {
		answered(q, &r);
		s->dirty = true;
	}
	/* Drained before the list is copied: a change after the copy wakes us again.
	 * Only then: every other call comes with the TX responses, on the hot path. */
	if (woken && read(nf->mcast_fd, &wakeups, sizeof(wakeups)) == sizeof(wakeups))
		s->dirty = true;
	if (!s->dirty)
		return false;
	s->dirty = false;
	pthread_mutex_lock(&nf->mcast_lock);
	want = nf->mcast_want;
	pthread_mutex_unlock(&nf->mcast_lock);

	/* Removals first: a full table makes room before the additions. */
	for (unsigned i = 0; i < s->n;) {
		struct nf_mcast_entry *e = &s->e[i];

		if (list_has(&want, e->addr) || e->state == MC_ADDING || e->state == MC_DELETING) {
			i++; /* wanted, or its answer comes first */
			continue;
		}
		if (e->state == MC_REFUSED) {
			forget(s, e); /* never in the backend's table */
			continue;
		}
		if (engine_front_tx_mcast(&q->tx, false, e->addr) != 0) {
			s->dirty = true; /* -EAGAIN: the TX responses bring us back */
			return wrote;
		}
		e->state = MC_DELETING;
		wrote = true;
		i++;
	}
	for (unsigned k = 0; k < want.n; k++) {
		struct nf_mcast_entry *e;

		if (find(s, want.addr[k]))
			continue; /* subscribed, refused, or being added or removed */
		if (s->n == NF_MCAST_MAX || engine_front_tx_mcast(&q->tx, true, want.addr[k]) != 0) {
			/* a full table here waits for a removal's answer */
			s->dirty = true;
			break;
		}
		e = &s->e[s->n++];
		memcpy(e->addr, want.addr[k], 6);
		e->state = MC_ADDING;
		wrote = true;
	}
	return wrote;
}
