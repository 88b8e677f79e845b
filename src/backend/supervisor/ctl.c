/* SPDX-License-Identifier: MIT */
/*
 * ctl.c - xnbd's control socket: `list`, `stats`, `show`, `dump-rings`,
 * `reset` (each with an optional vif name and `json`; `stats` also
 * `prometheus` and `reset`), `status [json]`, `shutdown [disconnect]`; one
 * request per connection, answered, then closed. Used by xnbctl.
 *
 * Nothing here blocks: a client is a small state machine in the loop. Its
 * request is relayed to every running worker (IPC_CTL with an id); the
 * parts come back as IPC_CTL_REPLY and are joined in arrival order; the
 * answer goes out when every worker answered or CTL_PARTS_MS passed
 * (a restarting worker's vifs are then missing from it), as far as the
 * client reads it. A client that takes longer than CTL_CLIENT_MS in all
 * is dropped.
 *
 * Joining: text parts are concatenated. JSON parts are runs of objects,
 * one run per array of the answer (IPC_CTL_RUN_SEP between them), each
 * joined with commas into its array. Prometheus parts are each a valid
 * exposition of one guest, but the format wants every metric family once,
 * its samples together, and several guests have the same families: the
 * answer is regrouped here (regroup_exposition()), once it is complete.
 * Doing it here rather than in xnbctl keeps the socket's answer valid for
 * any client (a textfile-collector script with socat), and needs no JSON
 * parser in xnbctl; the supervisor adds its own families the same way.
 */
#include <errno.h>
#include <stdarg.h>
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

#define CTL_MAX_REQUEST IPC_CTL_REQUEST_MAX
/* Arrays in a JSON answer (`stats`: "vifs", "totals"). */
#define CTL_MAX_RUNS 2
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
	bool json, prometheus;
	const char *keys[CTL_MAX_RUNS]; /* JSON: the answer's arrays, in the parts' order */
	unsigned nr_keys;
	struct ctl_buf {
		char *text;
		size_t len;
	} runs[CTL_MAX_RUNS];      /* JSON: each array's objects so far */
	char *out;                 /* the answer so far (text), then all of it */
	size_t out_len, out_off;
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
		for (unsigned i = 0; i < CTL_MAX_RUNS; i++)
			free(c->runs[i].text);
		free(c);
	}
}

static void buf_append(char **buf, size_t *buf_len, const char *text, size_t len)
{
	char *grown = realloc(*buf, *buf_len + len + 1);

	if (!grown)
		return;
	memcpy(grown + *buf_len, text, len);
	*buf = grown;
	*buf_len += len;
	(*buf)[*buf_len] = '\0';
}

static void append(struct sup_ctl_client *c, const char *text, size_t len)
{
	buf_append(&c->out, &c->out_len, text, len);
}

static void append_str(struct sup_ctl_client *c, const char *text)
{
	append(c, text, strlen(text));
}

static void append_fmt(struct sup_ctl_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void append_fmt(struct sup_ctl_client *c, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		append(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Length of the metric name @line starts with (a sample), or that it names (# HELP, # TYPE). */
static size_t family_of(const char *line, const char **name)
{
	if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0)
		line += 7;
	else if (line[0] == '#')
		return 0;
	*name = line;
	return strcspn(line, "{ \t");
}

/*
 * Regroup the joined Prometheus parts in c->out: families in the order they
 * first appear, each with the first HELP and TYPE given for it, then every
 * sample of it in arrival order. Other comments and blank lines go. Our
 * metrics are counters and gauges, whose samples carry the family's name
 * (text format 0.0.4); histograms' suffixed samples are not handled.
 */
static void regroup_exposition(struct sup_ctl_client *c)
{
	size_t nr_lines = 0, nr_fam = 0, len = 0;
	char **lines, *text = c->out, *out = NULL;
	struct family {
		const char *name;
		size_t len;
	} *fam;

	if (!text)
		return;
	for (char *p = text; *p; p++)
		nr_lines += *p == '\n';
	lines = calloc(nr_lines + 1, sizeof(*lines));
	fam = calloc(nr_lines + 1, sizeof(*fam));
	if (!lines || !fam)
		goto out;
	nr_lines = 0;
	for (char *p = text, *nl; *p; p = nl + 1) {
		const char *name;
		size_t n;
		unsigned f;

		nl = strchr(p, '\n');
		if (!nl)
			break; /* not a whole line: left out */
		*nl = '\0';
		n = family_of(p, &name);
		if (n == 0)
			continue;
		lines[nr_lines++] = p;
		for (f = 0; f < nr_fam; f++)
			if (fam[f].len == n && memcmp(fam[f].name, name, n) == 0)
				break;
		if (f == nr_fam)
			fam[nr_fam++] = (struct family){ name, n };
	}
	for (size_t f = 0; f < nr_fam; f++) {
		/* Pass 0: the first HELP; 1: the first TYPE; 2: every sample. */
		for (int pass = 0; pass < 3; pass++) {
			for (size_t i = 0; i < nr_lines; i++) {
				const char *name, *l = lines[i];
				bool help = strncmp(l, "# HELP ", 7) == 0, type = strncmp(l, "# TYPE ", 7) == 0;

				if ((pass == 0 && !help) || (pass == 1 && !type) ||
				    (pass == 2 && (help || type)))
					continue;
				if (family_of(l, &name) != fam[f].len ||
				    memcmp(name, fam[f].name, fam[f].len) != 0)
					continue;
				buf_append(&out, &len, l, strlen(l));
				buf_append(&out, &len, "\n", 1);
				if (pass < 2)
					break;
			}
		}
	}
	free(c->out);
	c->out = out;
	c->out_len = len;
	out = NULL;
out:
	free(out);
	free(lines);
	free(fam);
}

static void start_writing(struct supervisor *s, struct sup_ctl_client *c)
{
	if (c->json && c->nr_keys) {
		append_str(c, "{");
		for (unsigned i = 0; i < c->nr_keys; i++) {
			append_fmt(c, "%s\"%s\":[", i ? "," : "", c->keys[i]);
			if (c->runs[i].text)
				append(c, c->runs[i].text, c->runs[i].len);
			append_str(c, "]");
		}
		append_str(c, "}\n");
	}
	if (c->prometheus)
		regroup_exposition(c);
	c->phase = CTL_WRITING;
	sup_epoll(s, EPOLL_CTL_MOD, c->fd, EPOLLOUT, &c->src);
}

static void summary(struct supervisor *s, struct sup_ctl_client *c)
{
	uint64_t now = sup_now_ms();
	bool first = true;

	if (c->json)
		append_fmt(c, "{\"vifs\":%u,\"workers_running\":%u,\"workers\":[",
			   vifs_count(s, ~0u), workers_running(s));
	else
		append_fmt(c, "%u vifs, %u workers running\n", vifs_count(s, ~0u),
			   workers_running(s));
	for (const struct sup_worker *w = s->workers; w; w = w->next) {
		unsigned long long up_s = w->pid > 0 ? (now - w->started_ms) / 1000 : 0;

		if (c->json)
			append_fmt(c, "%s{\"domid\":%u,\"pid\":%d,\"running\":%s,\"restarts\":%u,"
				   "\"uptime_s\":%llu}", first ? "" : ",", w->domid, (int)w->pid,
				   w->pid > 0 ? "true" : "false", w->restarts, up_s);
		else
			append_fmt(c, "  worker domid %u: %s, pid %d, up %llus, %u restarts\n",
				   w->domid, w->pid > 0 ? "running" : "not running", (int)w->pid, up_s,
				   w->restarts);
		first = false;
	}
	if (c->json)
		append_str(c, "]}\n");
}

/* The supervisor's own families for `stats prometheus`, regrouped with the workers'. */
static void sup_metrics(struct supervisor *s, struct sup_ctl_client *c)
{
	append_str(c, "# HELP xnb_worker_restarts_total Restarts of a guest's worker after it died.\n"
		      "# TYPE xnb_worker_restarts_total counter\n");
	for (const struct sup_worker *w = s->workers; w; w = w->next)
		append_fmt(c, "xnb_worker_restarts_total{domid=\"%u\"} %u\n", w->domid, w->restarts);
	append_str(c, "# HELP xnb_worker_up Whether a guest's worker is running (1) or not (0).\n"
		      "# TYPE xnb_worker_up gauge\n");
	for (const struct sup_worker *w = s->workers; w; w = w->next)
		append_fmt(c, "xnb_worker_up{domid=\"%u\"} %d\n", w->domid, w->pid > 0);
}

/* Whether @word is one of @req's words after the first. */
static bool has_word(const char *req, const char *word)
{
	size_t n = strlen(word);
	const char *p = req + strcspn(req, " \t\n");

	while (*(p += strspn(p, " \t\n"))) {
		size_t len = strcspn(p, " \t\n");

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* A whole request is in: relay it, or answer it here. */
static void dispatch(struct supervisor *s, struct sup_ctl_client *c)
{
	char cmd[32] = "";
	struct ipc_hdr h = { .type = IPC_CTL };

	sscanf(c->req, "%31s", cmd);
	c->prometheus = strcmp(cmd, "stats") == 0 && has_word(c->req, "prometheus");
	c->json = !c->prometheus && has_word(c->req, "json");
	if (strcmp(cmd, "shutdown") == 0) {
		s->stopping = true;
		s->disconnect = has_word(c->req, "disconnect");
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
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "show") == 0) {
		c->keys[c->nr_keys++] = "vifs";
	} else if (strcmp(cmd, "stats") == 0) {
		c->keys[c->nr_keys++] = "vifs";   /* one object per queue */
		c->keys[c->nr_keys++] = "totals"; /* one per vif: its queues summed */
		if (c->prometheus)
			sup_metrics(s, c);
	} else if (strcmp(cmd, "dump-rings") == 0) {
		c->keys[c->nr_keys++] = "rings";
	} else if (strcmp(cmd, "reset") == 0) {
		c->keys[c->nr_keys++] = "reset";
	} else {
		append_str(c, "error: unknown request (list | show | dump-rings | reset [vif] [json] | "
			      "stats [vif] [json | prometheus] [reset] | status [json] | "
			      "shutdown [disconnect])\n");
		c->json = false;
		start_writing(s, c);
		return;
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

/* A worker's JSON part: its runs of objects, each joined into its array. */
static void add_runs(struct sup_ctl_client *c, const char *part, size_t len)
{
	const char *end = part + len;

	for (unsigned i = 0; i < c->nr_keys && part <= end; i++) {
		const char *sep = memchr(part, IPC_CTL_RUN_SEP, (size_t)(end - part));
		size_t n = (size_t)((sep ? sep : end) - part);
		struct ctl_buf *r = &c->runs[i];

		if (n) {
			if (r->len)
				buf_append(&r->text, &r->len, ",", 1);
			buf_append(&r->text, &r->len, part, n);
		}
		if (!sep)
			break;
		part = sep + 1;
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
		/* A part cut at IPC_PAYLOAD_MAX ends in a piece of a line: not
		 * to run into the next part's first. */
		if (c->prometheus)
			while (len && part[len - 1] != '\n')
				len--;
		if (c->json)
			add_runs(c, part, len);
		else
			append(c, part, len);
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
