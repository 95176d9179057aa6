// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The socket view (--sockets, --sockets-only), end to end: the real
 * build/wirestate and real TCP connections between two "containers"
 * (network namespaces wssc1 = 172.17.0.2 / fd17::2 and wssc2 = 172.17.0.3 /
 * fd17::3 on bridge wssbr, scripts/topo.sh), checked from the JSON lines:
 *
 *   - both ends' state paths, written "OLD>NEW@who" per transition (who: c
 *     the client's pid, s the server's, - none, ? some other pid), so a
 *     missing, doubled or wrongly attributed transition shows in the message;
 *     TIME_WAIT never appears (the tracepoint does not report it);
 *   - the --netns / --pid, -4 / -6, --host and --port filters;
 *   - a refused connection: receive_reset in SYN_SENT, then SYN_SENT>CLOSED;
 *   - SYNs to an address nobody answers: retransmit [S] in SYN_SENT;
 *   - next to the wire view: a FIN the wire shows but the socket ignores
 *     (out of window, sent from a raw socket) is reported as "disagree".
 *
 * Each wirestate is known to be ready when a canary (a refused connection
 * to 127.0.0.1 in one of the namespaces) shows up in its output.
 * Needs root.  Every namespace is removed at the end, also on failure,
 * interruption or a hang (nstest.h's guard).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nstest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

#define PFX "wss"
#define H1 PFX "h1"
#define C1 PFX "c1"
#define C2 PFX "c2"
#define CLI4 "172.17.0.2"
#define SRV4 "172.17.0.3"
#define CLI6 "fd17::2"
#define SRV6 "fd17::3"
#define BLACKHOLE4 "172.17.0.99"

#define READY_MS 40000          /* loading can take many seconds under emulation */
#define EXIT_MS 10000

static uint32_t ino_c1, ino_c2;

static uint32_t netns_ino(const char *ns)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

/* ------------------------------------------------------------- wirestate */

/* A refused connection inside ns to 127.0.0.1 / ::1 port: the canary. */
static void canary(const char *ns, const char *addr, int port)
{
	char p[16];
	struct np_opts o = { .netns = ns };

	snprintf(p, sizeof(p), "%d", port);
	struct nproc *c = np_spawn(&o, ns_wsconn, "connect", addr, p, NULL);

	if (c) {
		np_wait_exit(c, 5000);
		np_free(c);
	}
}

/*
 * Start wirestate -j with the NULL-ended arguments and wait until the canary
 * (a connection from ns to addr:port, which must pass the filters) is seen.
 */
static struct nproc *ws_start(const char *const *args, const char *ns, const char *addr,
			      int port)
{
	char *argv[48], want[64];
	int n = 0;
	double end;

	argv[n++] = ns_wirestate;
	argv[n++] = "--json";
	for (int i = 0; args[i]; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	struct nproc *ws = np_spawnv(NULL, argv);

	NS_CHECK(ws, "cannot start %s", ns_wirestate);
	snprintf(want, sizeof(want), "\"daddr\":\"%s\",\"dport\":%d", addr, port);
	end = ns_now() + READY_MS / 1000.0;
	while (!strstr(nbuf_str(&ws->out), want)) {
		NS_CHECK(np_running(ws), "wirestate ended before it was ready");
		NS_CHECK(ns_now() < end, "wirestate never showed the canary (%s)", want);
		canary(ns, addr, port);
		np_wait_text(ws, 0, want, 300);
	}
	return ws;
}

/* SIGINT; it must exit 0 by itself. */
static void ws_stop(struct nproc *ws)
{
	ns_stop_wirestate(ws, EXIT_MS);
	NS_CHECK(strstr(nbuf_str(&ws->out), "\"type\":\"socket_stats\""),
		 "no socket_stats line at the end");
}

/* Wait for s at least n times in ws's output. */
static void ws_want(struct nproc *ws, const char *s, int n, int ms)
{
	NS_CHECK(np_wait_count(ws, s, n, ms), "wirestate did not print %d x %s in %d ms", n, s, ms);
}

static struct nproc *spawn_in(const char *ns, const char *a0, ...)
{
	char *argv[32];
	int n = 0;
	va_list ap;
	struct np_opts o = { .netns = ns };

	argv[n++] = (char *)a0;
	va_start(ap, a0);
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	struct nproc *p = np_spawnv(&o, argv);

	NS_CHECK(p, "cannot start %s in %s", a0, ns);
	return p;
}

/* wsconn serve in C2 on addr:port; waits for "listening". */
static struct nproc *serve(const char *addr, int port, const char *timeout)
{
	char p[16];

	snprintf(p, sizeof(p), "%d", port);
	struct nproc *s = spawn_in(C2, ns_wsconn, "serve", addr, p, "--timeout", timeout, NULL);

	NS_CHECK(np_wait_text(s, 0, "listening", 5000), "wsconn serve did not start");
	return s;
}

/* ------------------------------------------------------------- JSON lines */

static bool is_state_of(const char *l, uint32_t netns, long sport, long dport)
{
	return jis(l, "type", "socket") && jnum(l, "netns") == netns &&
	       (sport < 0 || jnum(l, "sport") == sport) && (dport < 0 || jnum(l, "dport") == dport);
}

/*
 * One socket's state changes, in order: "OLD>NEW@w OLD>NEW@w ..." with w: c
 * (cli_pid), s (srv_pid), - (no pid), ? (another pid).  Only the socket with
 * that namespace, local port and remote port (-1: any).
 */
static void path_of(const char *out, uint32_t netns, long sport, long dport, pid_t cli_pid,
		    pid_t srv_pid, char *buf, size_t len)
{
	struct nlines L;
	size_t n = 0;

	buf[0] = '\0';
	nlines_split(&L, out);
	for (int i = 0; i < L.n; i++) {
		const char *l = L.v[i];
		char o[32], w[32];
		long long pid = jnum(l, "pid");
		const char *who = pid == LLONG_MIN ? "-" : pid == cli_pid ? "c" : pid == srv_pid ? "s" : "?";

		if (!is_state_of(l, netns, sport, dport) || !jis(l, "event", "state"))
			continue;
		if (!jget(l, "old", o, sizeof(o)) || !jget(l, "new", w, sizeof(w)))
			continue;
		if (pid != LLONG_MIN && !jis(l, "comm", "wsconn"))
			who = "?";
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s>%s@%s", n ? " " : "", o, w, who);
	}
	nlines_free(&L);
}

/* The client's local port: from its CLOSED>SYN_SENT towards dst:dport in netns. */
static long client_port(const char *out, uint32_t netns, const char *dst, int dport)
{
	struct nlines L;
	long port = -1;

	nlines_split(&L, out);
	for (int i = 0; i < L.n && port < 0; i++) {
		const char *l = L.v[i];

		if (is_state_of(l, netns, -1, dport) && jis(l, "daddr", dst) && jis(l, "new", "SYN_SENT"))
			port = (long)jnum(l, "sport");
	}
	nlines_free(&L);
	return port;
}

/* Lines of type socket whose key is (not) val. */
static int count_lines(const char *out, const char *key, const char *val, bool equal)
{
	struct nlines L;
	int n = 0;

	nlines_split(&L, out);
	for (int i = 0; i < L.n; i++)
		if (jis(L.v[i], "type", "socket") && jis(L.v[i], key, val) == equal)
			n++;
	nlines_free(&L);
	return n;
}

static int count_netns(const char *out, uint32_t netns)
{
	struct nlines L;
	int n = 0;

	nlines_split(&L, out);
	for (int i = 0; i < L.n; i++)
		if (jis(L.v[i], "type", "socket") && jnum(L.v[i], "netns") == netns)
			n++;
	nlines_free(&L);
	return n;
}

/* ------------------------------------------------------------------ tests */

#define CLIENT_PATH "CLOSED>SYN_SENT@c SYN_SENT>ESTABLISHED@c ESTABLISHED>FIN_WAIT_1@c " \
		    "FIN_WAIT_1>FIN_WAIT_2@c FIN_WAIT_2>CLOSED@c"
/* the accepted socket is owned by nobody until the server's close() */
#define CHILD_PATH "LISTEN>SYN_RECEIVED@- SYN_RECEIVED>ESTABLISHED@- ESTABLISHED>CLOSE_WAIT@- " \
		   "CLOSE_WAIT>LAST_ACK@s LAST_ACK>CLOSED@s"
#define LISTENER_PATH "CLOSED>LISTEN@s LISTEN>CLOSED@s"

/* One connection c1 -> c2 (client closes first); both ends' paths. */
static void lifecycle(const char *cli, const char *srv, int port)
{
	const char *args[] = { "--sockets-only", "--port", NULL, NULL };
	char p[16], path[1024];

	snprintf(p, sizeof(p), "%d", port);
	args[2] = p;
	struct nproc *ws = ws_start(args, C1, strchr(cli, ':') ? "::1" : "127.0.0.1", port);
	struct nproc *s = serve(srv, port, "10");
	struct nproc *c = spawn_in(C1, ns_wsconn, "connect", srv, p, "--send", "5", NULL);

	NS_CHECK(np_wait_exit(c, 10000) && np_code(c) == 0, "wsconn connect failed");
	NS_CHECK(np_wait_exit(s, 10000) && np_code(s) == 0, "wsconn serve failed");
	/* the listener's LISTEN>CLOSED is the last transition of all */
	ws_want(ws, "\"old\":\"LISTEN\",\"new\":\"CLOSED\"", 1, 10000);
	np_pump(200);
	ws_stop(ws);

	const char *out = nbuf_str(&ws->out);
	long cport = client_port(out, ino_c1, srv, port);

	NS_CHECK(cport > 0, "no CLOSED>SYN_SENT of the client (netns %u) to %s:%d", ino_c1, srv, port);
	path_of(out, ino_c1, cport, port, c->pid, s->pid, path, sizeof(path));
	NS_CHECK(!strcmp(path, CLIENT_PATH), "client %s:%ld path\n  is   %s\n  want %s", cli, cport,
		 path, CLIENT_PATH);
	path_of(out, ino_c2, port, cport, c->pid, s->pid, path, sizeof(path));
	NS_CHECK(!strcmp(path, CHILD_PATH), "server's accepted socket path\n  is   %s\n  want %s",
		 path, CHILD_PATH);
	path_of(out, ino_c2, port, 0, c->pid, s->pid, path, sizeof(path));
	NS_CHECK(!strcmp(path, LISTENER_PATH), "listener path\n  is   %s\n  want %s", path,
		 LISTENER_PATH);
	NS_CHECK(!strstr(out, "TIME_WAIT"), "TIME_WAIT shown, but the tracepoint never reports it");
	/* addresses as given, the client's on both ends */
	NS_CHECK(strstr(out, cli), "the client address %s is missing", cli);
}

TEST(ipv4_both_ends)
{
	lifecycle(CLI4, SRV4, 47101);
}

TEST(ipv6_both_ends)
{
	lifecycle(CLI6, SRV6, 47102);
}

/* --netns shows that namespace's sockets only; --pid the namespace of a process. */
TEST(netns_and_pid_filters)
{
	const char *a1[] = { "--sockets-only", "--netns", C1, NULL };
	char pidbuf[16];
	struct nproc *s = serve(SRV4, 47103, "20");

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)s->pid);
	const char *a2[] = { "--sockets-only", "--pid", pidbuf, NULL };
	struct nproc *w1 = ws_start(a1, C1, "127.0.0.1", 47199);
	struct nproc *w2 = ws_start(a2, C2, "127.0.0.1", 47199);
	struct nproc *c = spawn_in(C1, ns_wsconn, "connect", SRV4, "47103", NULL);

	NS_CHECK(np_wait_exit(c, 10000) && np_code(c) == 0, "wsconn connect failed");
	NS_CHECK(np_wait_exit(s, 10000) && np_code(s) == 0, "wsconn serve failed");
	ws_want(w1, "\"old\":\"FIN_WAIT_2\",\"new\":\"CLOSED\"", 1, 10000);
	ws_want(w2, "\"old\":\"LAST_ACK\",\"new\":\"CLOSED\"", 1, 10000);
	np_pump(200);
	ws_stop(w1);
	ws_stop(w2);
	const char *o1 = nbuf_str(&w1->out), *o2 = nbuf_str(&w2->out);
	int n1 = count_lines(o1, "type", "socket", true), n2 = count_lines(o2, "type", "socket", true);

	NS_CHECK(n1 > 0 && count_netns(o1, ino_c1) == n1,
		 "--netns %s: %d lines, %d of them from its namespace %u", C1, n1,
		 count_netns(o1, ino_c1), ino_c1);
	NS_CHECK(n2 > 0 && count_netns(o2, ino_c2) == n2,
		 "--pid %s: %d lines, %d of them from its namespace %u", pidbuf, n2,
		 count_netns(o2, ino_c2), ino_c2);
	NS_CHECK(strstr(o1, "\"dport\":47103,\"old\":\"CLOSED\",\"new\":\"SYN_SENT\""),
		 "--netns %s: the client's connect is missing", C1);
	NS_CHECK(strstr(o2, "\"sport\":47103,\"daddr\":\"0.0.0.0\",\"dport\":0,\"old\":\"LISTEN\","
			    "\"new\":\"CLOSED\""), "--pid: the listener's close is missing");
}

/* -6 keeps IPv6 sockets only, --host ADDR those with ADDR at either end. */
TEST(family_and_host_filters)
{
	const char *a6[] = { "--sockets-only", "-6", "--port", "47104", NULL };
	const char *ah[] = { "--sockets-only", "--host", SRV4, "--port", "47104", NULL };
	struct nproc *w6 = ws_start(a6, C1, "::1", 47104);
	struct nproc *wh = ws_start(ah, C1, SRV4, 47104);   /* nothing listens there yet */
	struct nproc *s = serve("::", 47104, "10");
	struct nproc *c = spawn_in(C1, ns_wsconn, "connect", SRV4, "47104", NULL);

	NS_CHECK(np_wait_exit(c, 10000) && np_code(c) == 0, "wsconn connect (IPv4) failed");
	NS_CHECK(np_wait_exit(s, 10000) && np_code(s) == 0, "wsconn serve failed");
	s = serve("::", 47104, "10");
	c = spawn_in(C1, ns_wsconn, "connect", SRV6, "47104", NULL);
	NS_CHECK(np_wait_exit(c, 10000) && np_code(c) == 0, "wsconn connect (IPv6) failed");
	NS_CHECK(np_wait_exit(s, 10000) && np_code(s) == 0, "wsconn serve failed");
	ws_want(w6, "\"saddr\":\"fd17::2\",\"sport\"", 4, 10000);
	ws_want(wh, "\"old\":\"FIN_WAIT_2\",\"new\":\"CLOSED\"", 1, 10000);
	np_pump(300);
	ws_stop(w6);
	ws_stop(wh);
	const char *o6 = nbuf_str(&w6->out), *oh = nbuf_str(&wh->out);

	NS_CHECK(count_lines(o6, "family", "6", false) == 0, "-6 printed IPv4 sockets:\n%s", o6);
	/* the server listens on :: (family 6) and its IPv4 peer appears as ::ffff:172.17.0.2 */
	NS_CHECK(strstr(o6, "::ffff:172.17.0.2"), "-6: the dual-stack server's IPv4 peer is missing");
	NS_CHECK(count_lines(oh, "family", "4", true) > 0, "--host %s: no IPv4 client line", SRV4);
	NS_CHECK(!strstr(oh, "fd17::"), "--host %s printed the IPv6 connection:\n%s", SRV4, oh);
}

/* Nothing listens: the client receives a RST in SYN_SENT and closes. */
TEST(refused_shows_the_reset)
{
	const char *args[] = { "--sockets-only", "--port", "47105", NULL };
	struct nproc *ws = ws_start(args, C1, "127.0.0.1", 47105);
	struct nproc *c = spawn_in(C1, ns_wsconn, "connect", SRV4, "47105", NULL);

	NS_CHECK(np_wait_exit(c, 10000) && np_code(c) == 3, "the connection was not refused");
	ws_want(ws, "\"daddr\":\"" SRV4 "\",\"dport\":47105,\"old\":\"SYN_SENT\",\"new\":\"CLOSED\"", 1,
		10000);
	np_pump(200);
	ws_stop(ws);
	const char *out = nbuf_str(&ws->out);
	long cport = client_port(out, ino_c1, SRV4, 47105);
	char path[512];

	NS_CHECK(cport > 0, "no CLOSED>SYN_SENT towards %s:47105", SRV4);
	path_of(out, ino_c1, cport, 47105, c->pid, 0, path, sizeof(path));
	NS_CHECK(!strcmp(path, "CLOSED>SYN_SENT@c SYN_SENT>CLOSED@c"), "refused client path: %s", path);

	struct nlines L;
	int rst = 0;

	nlines_split(&L, out);
	for (int i = 0; i < L.n; i++)
		if (is_state_of(L.v[i], ino_c1, cport, 47105) && jis(L.v[i], "event", "receive_reset")) {
			NS_CHECK(jis(L.v[i], "state", "SYN_SENT"), "receive_reset not in SYN_SENT: %s",
				 L.v[i]);
			rst++;
		}
	nlines_free(&L);
	NS_CHECK(rst == 1, "%d receive_reset lines for the refused client, want 1", rst);
	/* newer kernels also report the RST the server's stack sent without a socket */
	if (strstr(out, "\"event\":\"send_reset\""))
		NS_CHECK(strstr(out, "\"state\":\"CLOSED\",\"no_socket\":true"),
			 "send_reset without a socket is not marked no_socket");
}

/* A SYN nobody answers (static neighbour, no host): SYN retransmissions. */
TEST(unanswered_syn_is_retransmitted)
{
	const char *args[] = { "--sockets-only", "--netns", C1, "--port", "47106", NULL };
	struct nproc *ws = ws_start(args, C1, "127.0.0.1", 47106);

	NS_CHECK(nsh(NULL, 5000, "ip -n %s neigh replace %s lladdr 02:00:00:00:00:99 dev eth0 "
		     "nud permanent", C1, BLACKHOLE4) == 0, "cannot add the static neighbour");
	struct nproc *c = spawn_in(C1, ns_wsconn, "connect", BLACKHOLE4, "47106", NULL);
	double t0 = ns_now();

	/* the first retransmission after 1 s (RTO), the second 2 s later */
	ws_want(ws, "\"event\":\"retransmit\"", 2, 6000);
	double took = ns_now() - t0;

	np_signal(c, SIGKILL);
	np_wait_exit(c, 5000);
	ws_want(ws, "\"daddr\":\"" BLACKHOLE4 "\",\"dport\":47106,\"old\":\"SYN_SENT\","
		"\"new\":\"CLOSED\"", 1, 10000);
	np_pump(200);
	ws_stop(ws);
	nsh(NULL, 5000, "ip -n %s neigh del %s dev eth0", C1, BLACKHOLE4);
	NS_CHECK(took < 4.5, "two SYN retransmissions took %.1f s", took);

	const char *out = nbuf_str(&ws->out);
	long cport = client_port(out, ino_c1, BLACKHOLE4, 47106);
	struct nlines L;
	int n = 0;

	NS_CHECK(cport > 0, "no CLOSED>SYN_SENT towards %s", BLACKHOLE4);
	nlines_split(&L, out);
	for (int i = 0; i < L.n; i++) {
		if (!jis(L.v[i], "event", "retransmit"))
			continue;
		NS_CHECK(is_state_of(L.v[i], ino_c1, cport, 47106) && jis(L.v[i], "state", "SYN_SENT") &&
			 jis(L.v[i], "flags", "S") && jnum(L.v[i], "pid") == c->pid,
			 "unexpected retransmit line: %s", L.v[i]);
		n++;
	}
	nlines_free(&L);
	NS_CHECK(n >= 2, "%d SYN retransmissions, want 2", n);
}

/* ------------------------------------------------------- correlation */

static uint16_t csum(const void *d, size_t n, uint32_t sum)
{
	const uint8_t *p = d;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* From inside ns: an IPv4 FIN|ACK src:sport > dst:dport with sequence number seq. */
static int raw_fin(const char *ns, const char *src, int sport, const char *dst, int dport,
		   uint32_t seq)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		char path[128];
		uint8_t pkt[40] = { 0 }, ph[12 + 20];
		struct sockaddr_in to = { .sin_family = AF_INET };
		uint32_t s, d;

		snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
		int fd = open(path, O_RDONLY);

		if (fd < 0 || setns(fd, CLONE_NEWNET))
			_exit(2);
		inet_pton(AF_INET, src, &s);
		inet_pton(AF_INET, dst, &d);
		pkt[0] = 0x45;
		pkt[3] = 40;
		pkt[8] = 64;
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, &s, 4);
		memcpy(pkt + 16, &d, 4);
		uint16_t c = csum(pkt, 20, 0);
		pkt[10] = (uint8_t)(c >> 8), pkt[11] = (uint8_t)c;
		uint8_t *t = pkt + 20;
		t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport;
		t[2] = (uint8_t)(dport >> 8), t[3] = (uint8_t)dport;
		t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16);
		t[6] = (uint8_t)(seq >> 8), t[7] = (uint8_t)seq;
		t[12] = 5 << 4;
		t[13] = 0x11;                           /* FIN, ACK */
		t[14] = 0xff;
		memcpy(ph, &s, 4);
		memcpy(ph + 4, &d, 4);
		ph[8] = 0, ph[9] = IPPROTO_TCP, ph[10] = 0, ph[11] = 20;
		memcpy(ph + 12, t, 20);
		c = csum(ph, sizeof(ph), 0);
		t[16] = (uint8_t)(c >> 8), t[17] = (uint8_t)c;
		int r = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

		to.sin_addr.s_addr = d;
		if (r < 0 || sendto(r, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) != 40)
			_exit(3);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * --sockets next to the wire view (-i wssh1): an ordinary connection gives
 * no "disagree"; a FIN far outside the window, which the wire shows and the
 * server's socket drops, is reported after --correlate-ms.
 */
TEST(wire_and_socket_disagree)
{
	const char *args[] = { "--sockets", "-i", H1, "--port", "47107", "--correlate-ms", "300",
			       NULL };
	struct nproc *ws = ws_start(args, C1, "127.0.0.1", 47107);
	const char *ifs[] = { H1, NULL };

	NS_CHECK(ns_wait_attached(ws, ifs, READY_MS), "wirestate did not attach to %s", H1);
	/* ordinary: the wire view still prints its lines, nothing disagrees */
	struct nproc *s = serve(SRV4, 47107, "10");
	struct nproc *c = spawn_in(C1, ns_wsconn, "connect", SRV4, "47107", "--send", "5", NULL);

	NS_CHECK(np_wait_exit(c, 10000) && np_code(c) == 0, "wsconn connect failed");
	NS_CHECK(np_wait_exit(s, 10000) && np_code(s) == 0, "wsconn serve failed");
	ws_want(ws, "\"type\":\"state\"", 6, 10000);
	ws_want(ws, "\"old\":\"LAST_ACK\",\"new\":\"CLOSED\"", 2, 10000);   /* wire and socket */
	np_pump(800);
	NS_CHECK(!strstr(nbuf_str(&ws->out), "\"disagree\""), "an ordinary close disagrees");

	/* an idle connection, then a FIN the server's socket must ignore */
	s = serve(SRV4, 47107, "4");
	c = spawn_in(C1, ns_wsconn, "connect", SRV4, "47107", "--wait-eof", "--timeout", "4", NULL);
	/* the client's ESTABLISHED, second of its kind (socket lines only: "dport" then "old") */
	ws_want(ws, "\"daddr\":\"" SRV4 "\",\"dport\":47107,\"old\":\"SYN_SENT\",\"new\":\"ESTABLISHED\"",
		2, 10000);
	long cport = -1;
	int seen = 0;
	struct nlines E;

	nlines_split(&E, nbuf_str(&ws->out));
	for (int i = 0; i < E.n && seen < 2; i++)
		if (is_state_of(E.v[i], ino_c1, -1, 47107) && jis(E.v[i], "event", "state") &&
		    jis(E.v[i], "new", "ESTABLISHED") && ++seen == 2)
			cport = (long)jnum(E.v[i], "sport");
	nlines_free(&E);
	NS_CHECK(cport > 0, "the idle connection's client port is unknown");
	char srv_est[128];

	/* and the server's accepted socket is ESTABLISHED too */
	snprintf(srv_est, sizeof(srv_est), "\"dport\":%ld,\"old\":\"SYN_RECEIVED\",\"new\":\"ESTABLISHED\"",
		 cport);
	ws_want(ws, srv_est, 1, 10000);
	NS_CHECK(raw_fin(C1, CLI4, (int)cport, SRV4, 47107, 0x12345678u) == 0,
		 "cannot send the raw FIN");
	ws_want(ws, "\"event\":\"disagree\"", 1, 5000);
	np_pump(100);

	struct nlines L;
	int n = 0;

	nlines_split(&L, nbuf_str(&ws->out));
	for (int i = 0; i < L.n; i++) {
		if (!jis(L.v[i], "event", "disagree"))
			continue;
		NS_CHECK(jnum(L.v[i], "netns") == ino_c2 && jnum(L.v[i], "sport") == 47107 &&
			 jnum(L.v[i], "dport") == cport && jis(L.v[i], "state", "ESTABLISHED") &&
			 jis(L.v[i], "wire", "FIN"), "unexpected disagree line: %s", L.v[i]);
		n++;
	}
	nlines_free(&L);
	NS_CHECK(n == 1, "%d disagree lines, want 1", n);
	np_wait_exit(c, 10000);
	np_wait_exit(s, 10000);
	ws_stop(ws);
	NS_ASSERT_CLEAN(H1);
}

/* Wrong combinations are refused before anything is loaded (exit status 2). */
TEST(option_errors)
{
	static const char *const bad[] = {
		"--sockets-only --port 0",
		"--sockets-only --port 70000",
		"--sockets-only -i lo",
		"--sockets-only --all-veth",
		"-i lo --port 80",
		"-i lo -6",
		"--sockets -r /dev/null",
		"--sockets-only --host 300.1.2.3",
		"--sockets-only -4 -6",
		"--sockets-only --correlate-ms x",
	};
	struct nbuf o = {};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.len = 0;
		int rc = nsh(&o, 10000, "'%s' %s", ns_wirestate, bad[i]);

		NS_CHECK(rc == 2, "wirestate %s: exit %d, want 2:\n%s", bad[i], rc, nbuf_str(&o));
	}
	o.len = 0;
	int rc = nsh(&o, 10000, "'%s' --sockets-only --netns %sdoesnotexist", ns_wirestate, PFX);

	NS_CHECK(rc == 1 && strstr(nbuf_str(&o), "no such network namespace"),
		 "an unknown --netns: exit %d:\n%s", rc, nbuf_str(&o));
	nbuf_free(&o);
}

/* ------------------------------------------------------------ fixtures */

static const struct ns_suite suite = {
	.who = "test_sockets",
	.prefix = PFX,
	.lock = true,
	.containers = 2,
};

static int group_setup(void **state)
{
	if (ns_group_setup(state))
		return -1;
	ino_c1 = netns_ino(C1);
	ino_c2 = netns_ino(C2);
	if (!ino_c1 || !ino_c2) {
		fprintf(stderr, "test_sockets: cannot stat the namespaces\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	np_kill_all();         /* SIGKILL, as after each test: nothing is left to stop */
	return ns_group_teardown(state);
}

static int test_setup(void **state)
{
	alarm(NS_TEST_TIMEOUT + 30);     /* loading is slow under emulation */
	return 0;
}

static int test_teardown(void **state)
{
	np_kill_all();
	alarm(0);
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (ns_main_begin(argv[0], &suite))
		return 1;

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
	const struct CMUnitTest tests[] = {
		T(option_errors),
		T(ipv4_both_ends),
		T(ipv6_both_ends),
		T(netns_and_pid_filters),
		T(family_and_host_filters),
		T(refused_shows_the_reset),
		T(unanswered_syn_is_retransmitted),
		T(wire_and_socket_disagree),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
