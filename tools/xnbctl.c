/* SPDX-License-Identifier: MIT */
/*
 * xnbctl - ask a running xnbd what it is doing.
 *
 *   xnbctl [--ctl PATH] list | stats [VIF] | dump-rings [VIF] [--json]
 *   xnbctl [--ctl PATH] status | shutdown [--disconnect]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: xnbctl [--ctl PATH] list|stats|dump-rings [VIF] [--json]\n"
		   "       xnbctl [--ctl PATH] status | shutdown [--disconnect]\n"
		   "  shutdown: xnbd exits, guests stay Connected and the next xnbd resumes\n"
		   "  them; with --disconnect every vif is closed and its TAP removed.\n"
		   "  PATH defaults to $XNB_SIM_DIR/xnbd.sock when XNB_SIM_DIR is set,\n"
		   "  else /run/xnb/xnbd.sock.\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *dir = getenv("XNB_SIM_DIR");
	char req[128] = "", buf[4096];
	int fd, i = 1;
	ssize_t n;

	if (dir)
		snprintf(a.sun_path, sizeof(a.sun_path), "%s/xnbd.sock", dir);
	else
		snprintf(a.sun_path, sizeof(a.sun_path), "/run/xnb/xnbd.sock");
	if (argc > 2 && strcmp(argv[1], "--ctl") == 0) {
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[2]);
		i = 3;
	}
	if (i >= argc || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	for (; i < argc; i++) {
		/* Flags travel as words: --json is "json", --disconnect "disconnect". */
		const char *w = strncmp(argv[i], "--", 2) == 0 ? argv[i] + 2 : argv[i];

		if (strlen(req) + strlen(w) + 2 > sizeof(req)) {
			usage(stderr);
			return 2;
		}
		strcat(req, w);
		strcat(req, " ");
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "xnbctl: cannot reach xnbd at %s: %s\n", a.sun_path, strerror(errno));
		return 1;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "xnbctl: %s\n", strerror(errno));
		return 1;
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}
