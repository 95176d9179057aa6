// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * wsconn: the TCP endpoints the demo and the namespace tests drive.
 *   wsconn serve ADDR PORT [--close-first] [--rst]   accept one connection, read to EOF, close
 *   wsconn connect ADDR PORT [--send N] [--wait-eof] [--rst] [--timeout S]
 *   wsconn inject IFACE HEX       send one raw Ethernet frame (AF_PACKET) out of IFACE
 * --close-first (server): close right after accept, before the client does.
 * --wait-eof (client): wait for the server's FIN before closing.
 * --rst: abort with SO_LINGER 0 instead of closing (a RST).
 * Exit status 0 on success; connect prints "refused" and exits 3 when refused.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int mkaddr(const char *a, const char *p, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(p));
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(p));
		*len = sizeof(*s6);
		return AF_INET6;
	}
	fprintf(stderr, "wsconn: bad address %s\n", a);
	exit(2);
}

static void finish(int fd, int rst)
{
	if (rst) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(fd);
}

static int read_to_eof(int fd, int timeout_ms)
{
	char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		int n = poll(&p, 1, timeout_ms);
		if (n <= 0)
			return -1;
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
	}
}

/* A frame as written, byte by byte, onto the wire: tags stay in the frame. */
static int inject(const char *ifname, const char *hex)
{
	unsigned char f[1600];
	size_t n = 0;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	int fd;

	for (const char *h = hex; *h; h++) {
		unsigned v;

		if (*h == ' ' || *h == ':')
			continue;
		if (n == sizeof(f) || !isxdigit((unsigned char)h[0]) ||
		    !isxdigit((unsigned char)h[1]) || sscanf(h, "%2x", &v) != 1) {
			fprintf(stderr, "wsconn: bad frame hex at '%s'\n", h);
			return 2;
		}
		f[n++] = (unsigned char)v;
		h++;
	}
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex || n < 14) {
		fprintf(stderr, "wsconn: %s: %s\n", ifname, n < 14 ? "frame too short" : "no such interface");
		return 2;
	}
	memcpy(sll.sll_addr, f, 6);
	fd = socket(AF_PACKET, SOCK_RAW, 0);    /* protocol 0: send only */
	if (fd < 0 || sendto(fd, f, n, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)n) {
		perror("wsconn: inject");
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int close_first = 0, rst = 0, wait_eof = 0, timeout = 10;
	long send_n = 5;

	if (argc == 4 && !strcmp(argv[1], "inject"))
		return inject(argv[2], argv[3]);
	if (argc < 4) {
		fprintf(stderr, "usage: wsconn serve|connect ADDR PORT [options]\n");
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--close-first"))
			close_first = 1;
		else if (!strcmp(argv[i], "--rst"))
			rst = 1;
		else if (!strcmp(argv[i], "--wait-eof"))
			wait_eof = 1;
		else if (!strcmp(argv[i], "--send") && i + 1 < argc)
			send_n = atol(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else {
			fprintf(stderr, "wsconn: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	int fam = mkaddr(argv[2], argv[3], &ss, &len);
	int fd = socket(fam, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (!strcmp(argv[1], "serve")) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
			perror("wsconn: bind/listen");
			return 1;
		}
		printf("listening\n");
		fflush(stdout);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout * 1000) != 1) {
			fprintf(stderr, "wsconn: no connection within %d s\n", timeout);
			return 1;
		}
		int c = accept(fd, NULL, NULL);
		if (c < 0) {
			perror("accept");
			return 1;
		}
		if (close_first) {
			shutdown(c, SHUT_WR);
			read_to_eof(c, timeout * 1000);
			finish(c, rst);
		} else {
			int rc = read_to_eof(c, timeout * 1000);
			finish(c, rst);
			if (rc)
				return 1;
		}
		close(fd);
		return 0;
	}
	if (!strcmp(argv[1], "connect")) {
		if (connect(fd, (struct sockaddr *)&ss, len)) {
			if (errno == ECONNREFUSED) {
				printf("refused\n");
				return 3;
			}
			perror("wsconn: connect");
			return 1;
		}
		char buf[4096];
		memset(buf, 'x', sizeof(buf));
		while (send_n > 0) {
			ssize_t w = write(fd, buf, send_n > (long)sizeof(buf) ? sizeof(buf) : (size_t)send_n);
			if (w <= 0) {
				perror("wsconn: write");
				return 1;
			}
			send_n -= w;
		}
		if (wait_eof && read_to_eof(fd, timeout * 1000))
			return 1;
		finish(fd, rst);
		return 0;
	}
	fprintf(stderr, "wsconn: unknown mode %s\n", argv[1]);
	return 2;
}
