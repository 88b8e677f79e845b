/* SPDX-License-Identifier: MIT */
/*
 * xs_testd.c - a stand-alone simulated xenstored for tests.
 *
 * Usage: xs_testd SOCKET [-d DOMID]...
 * Listens on SOCKET for privileged clients (point XENSTORED_PATH at it),
 * introduces every DOMID, prints "ready" on stdout and serves until SIGTERM
 * or SIGINT, then frees everything (so valgrind can check for leaks).
 */
#include "xs_server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct xs_server *s;
	struct pollfd pfd[2];
	sigset_t mask;
	int sfd, err, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SOCKET [-d DOMID]...\n", argv[0]);
		return 2;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	s = xs_server_new();
	if (sfd < 0 || !s) {
		perror("xs_testd: setup");
		return 1;
	}
	err = xs_server_listen(s, argv[1]);
	if (err) {
		fprintf(stderr, "xs_testd: listen %s: %s\n", argv[1], strerror(-err));
		xs_server_free(s);
		return 1;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-d") == 0)
			xs_server_introduce_domain(s, (unsigned)strtoul(argv[i + 1], NULL, 10));
	}
	printf("ready\n");
	fflush(stdout);
	pfd[0].fd = xs_server_fd(s);
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = 1;
			break;
		}
		if (pfd[1].revents)
			break;
		err = xs_server_run(s);
		if (err) {
			fprintf(stderr, "xs_testd: run: %s\n", strerror(-err));
			rc = 1;
			break;
		}
	}
	xs_server_free(s);
	close(sfd);
	return rc;
}
