/* SPDX-License-Identifier: MIT */
/*
 * ctl.c - xnbd's control socket: `list`, `stats`, `dump-rings` (each with
 * an optional vif name and `json`), `shutdown [disconnect]`; one request
 * per connection, answered, then closed. Used by xnbctl.
 *
 * Nothing here blocks: a client is a small state machine in the loop. Its
 * request is relayed to every running worker (IPC_CTL with an id); the
 * parts come back as IPC_CTL_REPLY and are joined in arrival order; the
 * answer goes out when every worker answered or CTL_PARTS_MS passed
 * (a restarting worker's vifs are then missing from it), as far as the
 * client reads it. A client that takes longer than CTL_CLIENT_MS in all
 * is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "supervisor.h"

#define CTL_MAX_REQUEST 128
#define CTL_MAX_CLIENTS 32
#define CTL_PARTS_MS 1000
#define CTL_CLIENT_MS 5000

enum ctl_phase { CTL_READING, CTL_WAITING, CTL_WRITING };

struct sup_ctl_client {
	enum sup_source src;       /* SUP_CTL_CLIENT; first member */
	struct sup_ctl_client *next;
	int fd;
	enum ctl_phase phase;
	char req[CTL_MAX_REQUEST + 1];
	size_t req_len;
	uint32_t id;
	unsigned *owed;            /* domids whose workers are yet to answer */
	unsigned nr_owed;
	bool dead;                 /* closed; freed after the loop's batch (ctl_reap) */
	bool json;
	const char *json_key;      /* "vifs" or "rings" */
	char *out;                 /* the answer so far */
	size_t out_len, out_off;
	bool parts;                /* a JSON part is in: the next one needs a comma */
	uint64_t parts_deadline_ms, deadline_ms;
};

int ctl_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	chmod(path, 0600);
	return fd;
}

/* Closed now, freed by ctl_reap(): an event for it may still be in the batch. */
static void client_close(struct supervisor *s, struct sup_ctl_client *c)
{
	if (c->dead)
		return;
	sup_epoll(s, EPOLL_CTL_DEL, c->fd, 0, NULL);
	close(c->fd);
	c->fd = -1;
	c->dead = true;
}

void ctl_reap(struct supervisor *s)
{
	for (struct sup_ctl_client **pp = &s->clients; *pp;) {
		struct sup_ctl_client *c = *pp;

		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		free(c->owed);
		free(c->out);
		free(c);
	}
}

static void append(struct sup_ctl_client *c, const char *text, size_t len)
{
	char *grown = realloc(c->out, c->out_len + len + 1);

	if (!grown)
		return;
	memcpy(grown + c->out_len, text, len);
	c->out = grown;
	c->out_len += len;
	c->out[c->out_len] = '\0';
}

static void append_str(struct sup_ctl_client *c, const char *text)
{
	append(c, text, strlen(text));
}

static void start_writing(struct supervisor *s, struct sup_ctl_client *c)
{
	if (c->json && c->json_key)
		append_str(c, "]}\n");
	c->phase = CTL_WRITING;
	sup_epoll(s, EPOLL_CTL_MOD, c->fd, EPOLLOUT, &c->src);
}

static void summary(struct supervisor *s, struct sup_ctl_client *c)
{
	char line[160];

	snprintf(line, sizeof(line), "%u vifs, %u workers running\n", vifs_count(s, ~0u),
		 workers_running(s));
	append_str(c, line);
}

/* A whole request is in: relay it, or answer it here. */
static void dispatch(struct supervisor *s, struct sup_ctl_client *c)
{
	char cmd[32] = "", a1[32] = "", a2[32] = "";
	struct ipc_hdr h = { .type = IPC_CTL };

	sscanf(c->req, "%31s %31s %31s", cmd, a1, a2);
	c->json = strcmp(a1, "json") == 0 || strcmp(a2, "json") == 0;
	if (strcmp(cmd, "shutdown") == 0) {
		s->stopping = true;
		s->disconnect = strcmp(a1, "disconnect") == 0;
		log_info("shutdown requested over the control socket%s",
			 s->disconnect ? ": closing every vif" : ": guests stay Connected");
		append_str(c, s->disconnect ? "stopping; closing every vif\n"
					    : "stopping; guests stay Connected\n");
		start_writing(s, c);
		return;
	}
	if (strcmp(cmd, "status") == 0) {
		summary(s, c);
		start_writing(s, c);
		return;
	}
	if (strcmp(cmd, "list") != 0 && strcmp(cmd, "stats") != 0 &&
	    strcmp(cmd, "dump-rings") != 0) {
		append_str(c, "error: unknown request (list | stats | dump-rings [vif] [json] | "
			      "status | shutdown [disconnect])\n");
		start_writing(s, c);
		return;
	}
	c->json_key = strcmp(cmd, "dump-rings") == 0 ? "rings" : "vifs";
	if (c->json) {
		append_str(c, "{\"");
		append_str(c, c->json_key);
		append_str(c, "\":[");
	}
	c->id = ++s->next_ctl_id;
	h.id = c->id;
	h.len = (uint32_t)strlen(c->req);
	for (struct sup_worker *w = s->workers; w; w = w->next)
		if (w->fd >= 0) {
			unsigned *grown = realloc(c->owed, (c->nr_owed + 1) * sizeof(*grown));

			if (!grown)
				break;
			c->owed = grown;
			if (ipc_send(w->fd, &h, c->req, -1) == 0)
				c->owed[c->nr_owed++] = w->domid;
		}
	c->phase = CTL_WAITING;
	c->parts_deadline_ms = sup_now_ms() + CTL_PARTS_MS;
	/* Still told if the client hangs up (EPOLLHUP is always reported). */
	sup_epoll(s, EPOLL_CTL_MOD, c->fd, EPOLLRDHUP, &c->src);
	if (c->nr_owed == 0)
		start_writing(s, c);
}

void ctl_accept(struct supervisor *s, int listen_fd)
{
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct sup_ctl_client *c;
		unsigned n = 0;

		if (fd < 0)
			return;
		for (c = s->clients; c; c = c->next)
			n += !c->dead;
		c = n < CTL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd); /* too many at once: the client may retry */
			continue;
		}
		c->src = SUP_CTL_CLIENT;
		c->fd = fd;
		c->deadline_ms = sup_now_ms() + CTL_CLIENT_MS;
		if (sup_epoll(s, EPOLL_CTL_ADD, fd, EPOLLIN, &c->src) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->clients;
		s->clients = c;
	}
}

void ctl_client_event(struct supervisor *s, struct sup_ctl_client *c, uint32_t events)
{
	ssize_t n;

	if (c->dead)
		return;
	if (c->phase == CTL_WAITING) {
		if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
			client_close(s, c); /* gone before its answer: nobody to wait for */
		return;
	}
	if (c->phase == CTL_READING) {
		n = recv(c->fd, c->req + c->req_len, CTL_MAX_REQUEST - c->req_len, MSG_DONTWAIT);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				client_close(s, c);
			return;
		}
		c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
		/* xnbctl sends its words then waits: a request is what one read brings. */
		dispatch(s, c);
		return;
	}
	if (c->phase == CTL_WRITING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		while (c->out_off < c->out_len) {
			n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n <= 0)
				break;
			c->out_off += (size_t)n;
		}
		client_close(s, c);
	}
}

/* Take @domid off @c's list; false if it owed nothing (a second answer). */
static bool settle(struct sup_ctl_client *c, unsigned domid)
{
	for (unsigned i = 0; i < c->nr_owed; i++) {
		if (c->owed[i] == domid) {
			c->owed[i] = c->owed[--c->nr_owed];
			return true;
		}
	}
	return false;
}

void ctl_reply(struct supervisor *s, const struct sup_worker *w, uint32_t id, const char *part,
	       size_t len)
{
	for (struct sup_ctl_client *c = s->clients; c; c = c->next) {
		if (c->dead || c->phase != CTL_WAITING || c->id != id)
			continue;
		/* One part per worker asked: a worker cannot answer for others. */
		if (!settle(c, w->domid))
			return;
		if (len) {
			if (c->json && c->parts)
				append_str(c, ",");
			append(c, part, len);
			c->parts = true;
		}
		if (c->nr_owed == 0)
			start_writing(s, c);
		return;
	}
}

void ctl_worker_gone(struct supervisor *s, const struct sup_worker *w)
{
	for (struct sup_ctl_client *c = s->clients; c; c = c->next)
		if (!c->dead && c->phase == CTL_WAITING && settle(c, w->domid) && c->nr_owed == 0)
			start_writing(s, c);
}

void ctl_tick(struct supervisor *s)
{
	uint64_t now = sup_now_ms();

	for (struct sup_ctl_client *c = s->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (now >= c->deadline_ms)
			client_close(s, c);
		else if (c->phase == CTL_WAITING && now >= c->parts_deadline_ms)
			start_writing(s, c);
	}
}

void ctl_free(struct supervisor *s)
{
	for (struct sup_ctl_client *c = s->clients; c; c = c->next) {
		/* Last words (a `shutdown` answer) go out if the socket takes them. */
		if (!c->dead && c->phase == CTL_WRITING && c->out_off < c->out_len)
			(void)!send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				    MSG_DONTWAIT | MSG_NOSIGNAL);
		client_close(s, c);
	}
	ctl_reap(s);
}
