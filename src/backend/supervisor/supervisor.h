/* SPDX-License-Identifier: MIT */
/*
 * supervisor.h - xnbd's supervisor: its context, shared by its modules.
 *
 * The supervisor never touches guest data. It reads only what the
 * toolstack writes (backend/vif/<domid>/<devid>/online), holds each vif's
 * persistent TAP (vifs.c), runs one worker process per guest domain and
 * restarts it when it dies (workers.c), and answers xnbctl from what the
 * workers report, never blocking on a client or a worker (ctl.c).
 */
#ifndef XNB_BACKEND_SUPERVISOR_H
#define XNB_BACKEND_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc.h"
#include "platform.h"
#include "tap.h"

/* Event-loop tag: epoll data points at one of these, first in its owner. */
enum sup_source { SUP_XS, SUP_SIGNAL, SUP_TIMER, SUP_CTL_LISTEN, SUP_CTL_CLIENT, SUP_WORKER };

/* A vif the toolstack has put online, and the TAP we hold for it. */
struct sup_vif {
	struct sup_vif *next;
	unsigned domid, devid;
	struct tap taps[IPC_MAX_QUEUES]; /* one fd per queue of its TAP; [0] holds it */
	unsigned nr_taps;
	int journal_fd;            /* its response journal file (worker/journal.h), or -1 */
	bool seen;                 /* found again by the current scan */
	bool link_known, up;       /* carrier, as we last set it */
	bool admin_up;             /* we raised its admin state (never lowered) */
	unsigned mtu;              /* as we last set it (0: not yet) */
	uint64_t remake_at_ms;     /* its TAP was deleted and is not made again yet (0: held) */
};

/* The worker of one guest domain. */
struct sup_worker {
	enum sup_source src;       /* SUP_WORKER; first member */
	struct sup_worker *next;
	unsigned domid;
	pid_t pid;                 /* 0 while not running */
	int fd;                    /* our end of its channel; -1 while not running */
	bool exiting;              /* asked to go: no restart */
	bool respawn_wanted;       /* we asked it to make way for a new one */
	bool forget;               /* its guest has no vifs: freed by workers_collect() */
	unsigned backoff_ms;       /* before the next restart after a failure */
	uint64_t restart_at_ms;    /* 0: no restart scheduled */
	uint64_t started_ms;
	unsigned restarts;
};

struct sup_ctl_client;

struct supervisor {
	const struct platform_ops *ops;
	struct platform *plat;
	struct platform_xs *xs;
	const char *platform_name;
	char backend_root[64];     /* /local/domain/<self>/backend/vif */
	char run_dir[108];         /* the control socket's directory; vifs' journals */
	char worker_path[4096];
	const char *worker_user;   /* NULL: the worker's default */
	unsigned max_queues;       /* per vif: TAP queue fds, worker threads */
	unsigned rx_stall_s;       /* the workers' rx_stall_timeout */
	bool no_sandbox, verbose;
	int epfd;
	struct sup_vif *vifs;
	struct sup_worker *workers;
	struct sup_ctl_client *clients;
	uint32_t next_ctl_id;
	bool stopping;             /* leaving: workers detach (or disconnect) */
	bool disconnect;           /* ... and every vif is closed for good */
	uint64_t stop_deadline_ms;
	enum sup_source src_xs;
};

/* Monotonic milliseconds. */
uint64_t sup_now_ms(void);

/* sup_epoll() - add / modify / delete @fd in the loop with @tag. 0 or -errno. */
int sup_epoll(struct supervisor *s, int op, int fd, uint32_t events, void *tag);

/* ---- vifs.c: the toolstack's vifs and their TAPs ------------------------ */

/* vifs_start() - watch the backend root, take the vifs there, remove stale TAPs. */
int vifs_start(struct supervisor *s);
/* vifs_watch_event() - note a watch event on @path (coalesced until vifs_apply). */
void vifs_watch_event(struct supervisor *s, const char *path);
/* vifs_apply() - re-read what the noted events named; start workers for new guests. */
void vifs_apply(struct supervisor *s);
/* vifs_tick() - retry TAPs that could not be made yet. */
void vifs_tick(struct supervisor *s);
/* vifs_gone() - a worker says the toolstack removed @domid/@devid: drop its TAP. */
void vifs_gone(struct supervisor *s, unsigned domid, unsigned devid);
/*
 * vifs_tap_lost() - a worker says @domid/@devid's TAP fails: if our own fd
 * says the host deleted it, make it again and have a new worker take it.
 */
void vifs_tap_lost(struct supervisor *s, unsigned domid, unsigned devid, int err);
/* vifs_link() - a worker asks for its vif's link up or down (and an MTU). */
void vifs_link(struct supervisor *s, unsigned domid, unsigned devid, bool up, unsigned mtu);
/* vifs_count() - vifs held for @domid (all domains if @domid is ~0u). */
unsigned vifs_count(const struct supervisor *s, unsigned domid);
/* vifs_release() - close every TAP; @remove: the devices go too (a stop for good). */
void vifs_release(struct supervisor *s, bool remove);

/* ---- workers.c: one process per guest ----------------------------------- */

/*
 * workers_ensure() - a running worker for @domid; with @new_vifs, one that
 * has every TAP held for it (a running one is replaced, seamlessly).
 */
void workers_ensure(struct supervisor *s, unsigned domid, bool new_vifs);
/* workers_retire() - @domid has no vifs left: let its worker go. */
void workers_retire(struct supervisor *s, unsigned domid);
/* workers_input() - messages from @w. */
void workers_input(struct supervisor *s, struct sup_worker *w);
/* workers_reap() - SIGCHLD: collect, log and schedule restarts. */
void workers_reap(struct supervisor *s);
/* workers_tick() - due restarts. */
void workers_tick(struct supervisor *s);
/* workers_stop() - every worker to leave: detach, or close every vif (@disconnect). */
void workers_stop(struct supervisor *s, bool disconnect);
/* workers_running() - how many are alive. */
unsigned workers_running(const struct supervisor *s);
/* workers_kill_all() - SIGKILL whatever is left (stop deadline passed). */
void workers_kill_all(struct supervisor *s);
/* workers_collect() - free the workers forgotten during the last batch of events. */
void workers_collect(struct supervisor *s);
/* workers_free() - forget every worker (at exit, after they are gone). */
void workers_free(struct supervisor *s);

/* ---- ctl.c: the control socket ----------------------------------------- */

/* ctl_listen() - a UNIX stream socket at @path (replacing a stale one). fd or -errno. */
int ctl_listen(const char *path);
/* ctl_accept() - take new clients from @listen_fd. */
void ctl_accept(struct supervisor *s, int listen_fd);
/* ctl_client_event() - a client's fd is ready. */
void ctl_client_event(struct supervisor *s, struct sup_ctl_client *c, uint32_t events);
/* ctl_reply() - @w's part of answer @id (@len bytes); one per worker asked. */
void ctl_reply(struct supervisor *s, const struct sup_worker *w, uint32_t id, const char *part,
	       size_t len);
/* ctl_worker_gone() - a worker that owed answers is gone: stop waiting for it. */
void ctl_worker_gone(struct supervisor *s, const struct sup_worker *w);
/* ctl_tick() - clients past their deadline are answered with what there is, or dropped. */
void ctl_tick(struct supervisor *s);
/* ctl_reap() - free the clients closed during the last batch of events. */
void ctl_reap(struct supervisor *s);
/* ctl_free() - drop every client. */
void ctl_free(struct supervisor *s);

#endif
