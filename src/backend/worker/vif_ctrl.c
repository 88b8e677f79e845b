/* SPDX-License-Identifier: MIT */
/*
 * vif_ctrl.c - a vif's control ring: mapped and bound at connect, served
 * by queue thread 0, released at disconnect; the hash state it leaves for
 * every queue's RX.
 *
 * Theory of operation. A frontend that wants a say in how the packets it
 * receives are hashed (netif.h "Control ring"; Linux's hash.c) grants one
 * ring page, allocates an event channel, and writes their numbers as
 * ctrl-ring-ref and event-channel-ctrl beside its queues' keys. We map the
 * page with the main thread's handle, as the data rings, and bind the
 * channel on thread 0's event-channel handle: from then on thread 0 serves
 * the ring, under its lock, with its grant-copy handle, a bounded number
 * of batches per wake-up, each one
 *
 *   engine_ctrl_process   requests off the ring, up to one that needs a copy
 *   gnttab_copy           that key or mapping table, into private memory
 *   engine_ctrl_settle    checked there, folded into the batch's state
 *   engine_ctrl_commit    published for RX: under hash_lock, exclusive
 *   journal_ctrl_begin    the answers, and the state they answer for
 *   engine_ctrl_publish   the answers into the ring, a notification if asked
 *   journal_ctrl_end      that state is the settled one
 *
 * The state outlives a worker: the frontend sets it once, after it
 * connects, and never again, so the journal keeps it, and a resumed vif
 * restores it (engine_ctrl_restore checks it as requests are checked) and
 * attaches after the last answer, as the data rings do. A fresh connection
 * starts with hashing off, as Linux's xenvif_connect_ctrl() does.
 *
 * A frontend that breaks the ring (a producer more than a ring ahead) has
 * its vif disconnected by the main thread, as for a data-ring fault.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "vif.h"
#include "worker.h"

/* Batches per wake-up: a ring's worth, each with one grant copy at most. */
#define CTRL_ROUNDS ENGINE_CTRL_RING_SIZE

/* Thread 0: the frontend broke the ring; the main thread disconnects the vif. */
static void ctrl_fault(struct vif *v, const char *reason)
{
	if (v->ctrl.fault[0])
		return;
	snprintf(v->ctrl.fault, sizeof(v->ctrl.fault), "control ring: %s", reason);
	worker_notice(v->d);
}

/* After a change of ctrl.eng.hash, hash_lock held exclusive: does RX hash now? */
static bool update_hash_on(struct vif *v)
{
	const struct engine_hash *h = &v->ctrl.eng.hash;
	bool on = h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ && h->flags != 0;
	bool was = __atomic_exchange_n(&v->hash_on, on, __ATOMIC_RELEASE);

	return on != was;
}

/* @rl: the caller's thread's (the main thread's v->rl, thread 0's queue 0 one). */
static void log_hash(struct vif *v, struct log_ratelimit *rl, const char *how)
{
	const struct engine_hash *h = &v->ctrl.eng.hash;

	log_limited(rl, LOG_LVL_INFO, "vif%u.%u: %s: %s, hash types %#x, %u-entry mapping",
		    v->domid, v->devid, how,
		    h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ ? "Toeplitz" : "no algorithm",
		    h->flags, h->size);
}

int vif_ctrl_connect(struct vif *v, bool resume, char *why, size_t why_len)
{
	struct worker *d = v->d;
	struct worker_thread *t = &d->threads[0];
	struct vif_ctrl *c = &v->ctrl;
	struct engine_ctrl_config cfg = { .peer_domid = (uint16_t)v->domid,
					  .num_queues = v->nr_queues };
	struct engine_hash saved;
	unsigned replayed = 0;
	bool restored = false;
	int16_t st = 0;
	int rc;

	c->batch = malloc(sizeof(*c->batch));
	if (!c->batch) {
		snprintf(why, why_len, "out of memory for the control ring");
		return -ENOMEM;
	}
	c->ring = d->ops->gnttab_map(d->gnt, (uint16_t)v->domid, c->ref, true, &st);
	if (!c->ring) {
		rc = -errno;
		snprintf(why, why_len, "mapping ctrl-ring-ref %u failed (status %d)", c->ref, st);
		return rc;
	}
	worker_thread_lock(t);
	rc = d->ops->evtchn_bind_interdomain(t->evt, (uint16_t)v->domid, c->evtchn);
	if (rc < 0) {
		snprintf(why, why_len, "binding event-channel-ctrl %u failed: %s", c->evtchn,
			 strerror(-rc));
		goto out;
	}
	c->port = rc;
	rc = worker_port_route_ctrl(t, c->port, v);
	if (rc) {
		snprintf(why, why_len, "out of memory routing event-channel-ctrl");
		goto out;
	}
	/* A predecessor's state, and a publish it did not finish; or a clean slate. */
	if (resume)
		restored = journal_ctrl_resume(v->journal, c->ref, c->ring, &saved, &replayed) == 1;
	else
		journal_ctrl_reset(v->journal, c->ref);

	pthread_rwlock_wrlock(&v->hash_lock);
	rc = engine_ctrl_init(&c->eng, c->ring, &cfg);
	if (rc == 0 && restored && engine_ctrl_restore(&c->eng, &saved) != 0) {
		log_warn("vif%u.%u: the hash state the last worker kept does not fit this "
			 "connection: hashing off", v->domid, v->devid);
		restored = false;
	}
	update_hash_on(v);
	pthread_rwlock_unlock(&v->hash_lock);
	if (rc) {
		snprintf(why, why_len, "control ring: %s", strerror(-rc));
		goto out;
	}
	c->fault[0] = '\0';
	c->pending = false;
	c->spurious_streak = 0;
	rc = worker_ctrl_attach(t, v);
	if (rc)
		snprintf(why, why_len, "control ring: %s", strerror(-rc));
out:
	worker_thread_unlock(t);
	if (rc == 0 && replayed)
		log_info("vif%u.%u: control ring: %u answers the last worker recorded but did not "
			 "publish: published", v->domid, v->devid, replayed);
	if (rc == 0 && restored)
		log_hash(v, &v->rl, "hash state kept from the last worker");
	return rc;
}

void vif_ctrl_disconnect(struct vif *v)
{
	struct worker *d = v->d;
	struct worker_thread *t = &d->threads[0];
	struct vif_ctrl *c = &v->ctrl;

	worker_thread_lock(t);
	if (c->connected)
		worker_ctrl_detach(t, v);
	else if (c->port >= 0)
		worker_port_route_ctrl(t, c->port, NULL); /* routed, never attached */
	if (c->port >= 0)
		d->ops->evtchn_unbind(t->evt, (uint32_t)c->port);
	c->port = -1;
	c->fault[0] = '\0';
	c->pending = false;
	worker_thread_unlock(t);
	/* The queues may still be running (they go after us): exclusive. */
	pthread_rwlock_wrlock(&v->hash_lock);
	engine_hash_init(&c->eng.hash, v->nr_queues);
	update_hash_on(v);
	pthread_rwlock_unlock(&v->hash_lock);
	if (c->ring)
		d->ops->gnttab_unmap(d->gnt, c->ring);
	c->ring = NULL;
	free(c->batch);
	c->batch = NULL;
}

/* One batch's copy, settle, commit and publish (see the top of the file). */
static void complete(struct vif *v, struct engine_ctrl_batch *b)
{
	struct vif_ctrl *c = &v->ctrl;
	struct worker *d = v->d;
	struct worker_thread *t = &d->threads[0];
	struct log_ratelimit *rl = &v->queues[0].rl; /* thread 0's */
	uint64_t commits = c->eng.stats.commits;
	bool toggled;

	/* A refused call leaves the segment's status failed: answered INVALID_PARAMETER. */
	if (b->nr_segs && d->ops->gnttab_copy(t->gnt, b->segs, b->nr_segs) != 0)
		log_limited(rl, LOG_LVL_WARN, "vif%u.%u: control ring: grant copy refused",
			    v->domid, v->devid);
	engine_ctrl_settle(&c->eng, b);
	pthread_rwlock_wrlock(&v->hash_lock);
	engine_ctrl_commit(&c->eng, b);
	toggled = update_hash_on(v);
	pthread_rwlock_unlock(&v->hash_lock);
	journal_ctrl_begin(v->journal, &c->eng, b);
	if (engine_ctrl_publish(&c->eng, b))
		d->ops->evtchn_notify(t->evt, (uint32_t)c->port);
	journal_ctrl_end(v->journal);
	if (toggled)
		log_hash(v, rl, __atomic_load_n(&v->hash_on, __ATOMIC_RELAXED)
					? "frontend turned hashing on" : "frontend turned hashing off");
	else if (c->eng.stats.commits != commits)
		log_debug("vif%u.%u: hash state changed: types %#x, %u-entry mapping", v->domid,
			  v->devid, c->eng.hash.flags, c->eng.hash.size);
}

bool vif_ctrl_event(struct vif *v)
{
	struct vif_ctrl *c = &v->ctrl;
	unsigned taken = 0;

	if (!c->connected || c->fault[0])
		return false;
	c->events++;
	c->pending = false;
	for (unsigned round = 0;; round++) {
		int n = engine_ctrl_process(&c->eng, c->batch);

		if (n < 0) {
			ctrl_fault(v, engine_fault_str(c->eng.fault));
			return false;
		}
		if (n > 0) {
			taken += (unsigned)n;
			complete(v, c->batch);
		}
		if (!engine_ctrl_more(&c->eng))
			break;
		if (round + 1 == CTRL_ROUNDS) {
			c->pending = true; /* thread 0 comes back before it sleeps */
			v->d->threads[0].work_pending = true;
			break;
		}
	}
	if (taken == 0)
		c->spurious_events++;
	return taken == 0;
}

void vif_ctrl_run_pending(struct vif *v)
{
	if (v->ctrl.connected && !v->ctrl.fault[0] && v->ctrl.pending)
		vif_ctrl_event(v);
}
