// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * connstorm: as many short TCP connections as the machine makes, for a
 * bounded time (bench/README.md, "connection storm").
 *
 *   connstorm server ADDR PORT [--threads T] [--max-seconds S]
 *       accept and close at once (the server sends the first FIN), T threads;
 *       prints "ready" when listening; exits by itself after S seconds (default 60)
 *   connstorm client ADDR PORT [--conns N] [--seconds S]
 *       N parallel loops of connect, wait for the server's FIN, close;
 *       stops after S seconds (default 10) and prints one line:
 *       "connections C errors E seconds S rate R"
 *
 * Every connection goes through the full textbook sequence, the server ending
 * in TIME_WAIT and the client in LAST_ACK -> CLOSED, so client ports are free
 * again at once.  connect() and read() time out after 1 s (SO_SNDTIMEO /
 * SO_RCVTIMEO): a lost SYN costs a loop one second, never the deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int family;
static double deadline;
static atomic_ulong completed, errors;
static int lfd;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void mkaddr(const char *a, const char *p)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&addr;
	int port = atoi(p);

	memset(&addr, 0, sizeof(addr));
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "connstorm: bad port %s\n", p);
		exit(2);
	}
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		addrlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		addrlen = sizeof(*s6);
	} else {
		fprintf(stderr, "connstorm: bad address %s\n", a);
		exit(2);
	}
}

static void *server_loop(void *arg)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				continue;
			perror("connstorm: accept");
			exit(1);
		}
		close(fd);
	}
	return NULL;
}

static void *client_loop(void *arg)
{
	const struct timeval tmo = { .tv_sec = 1 };
	char buf[64];

	while (now_s() < deadline) {
		int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			atomic_fetch_add(&errors, 1);
			usleep(1000);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
		if (connect(fd, (struct sockaddr *)&addr, addrlen) == 0 &&
		    read(fd, buf, sizeof(buf)) == 0)
			atomic_fetch_add(&completed, 1);   /* the server's FIN arrived */
		else
			atomic_fetch_add(&errors, 1);
		close(fd);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: connstorm server ADDR PORT [--threads T] [--max-seconds S]\n"
			"       connstorm client ADDR PORT [--conns N] [--seconds S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	int nthreads = 0, server;
	double seconds = 0;

	if (argc < 4)
		usage();
	if (!strcmp(argv[1], "server"))
		server = 1;
	else if (!strcmp(argv[1], "client"))
		server = 0;
	else
		usage();
	mkaddr(argv[2], argv[3]);
	for (int i = 4; i < argc; i++) {
		if ((!strcmp(argv[i], "--threads") || !strcmp(argv[i], "--conns")) && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else if ((!strcmp(argv[i], "--seconds") || !strcmp(argv[i], "--max-seconds")) &&
			 i + 1 < argc)
			seconds = atof(argv[++i]);
		else
			usage();
	}
	if (nthreads <= 0)
		nthreads = server ? 2 : 8;
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	if (seconds <= 0)
		seconds = server ? 60 : 10;

	if (server) {
		int one = 1;

		alarm((unsigned)seconds + 1);           /* never outlive the benchmark */
		lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(lfd, (struct sockaddr *)&addr, addrlen) || listen(lfd, 4096)) {
			perror("connstorm: listen");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		for (int i = 1; i < nthreads; i++)
			pthread_create(&th[i], NULL, server_loop, NULL);
		server_loop(NULL);
		return 0;
	}

	double t0 = now_s();

	deadline = t0 + seconds;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, client_loop, NULL)) {
			fprintf(stderr, "connstorm: cannot start thread %d\n", i);
			return 1;
		}
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);

	double el = now_s() - t0;
	unsigned long c = atomic_load(&completed);

	printf("connections %lu errors %lu seconds %.2f rate %.0f\n", c, atomic_load(&errors), el,
	       el > 0 ? (double)c / el : 0);
	return 0;
}
