// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * End-to-end tests: the real build/wirestate, attached to the host-side veths
 * of two "containers" (network namespaces wsec1 = 172.17.0.2 / fd17::2 and
 * wsec2 = 172.17.0.3 / fd17::3 on bridge wsebr, built by scripts/topo.sh),
 * watches real TCP connections between real kernel TCP stacks (build/wsconn),
 * and its output is checked line by line:
 *
 *   - ARP request and reply, field by field;
 *   - every TCP control packet exactly once per interface, in order, with its
 *     direction (the client's packets arrive on wseh1: "in");
 *   - each endpoint's path through the states, written "A>B>C" (a transition
 *     whose old state is not where the path stood shows as "|OLD>NEW", a
 *     reason as "(refused)"), so a missing, doubled or wrong transition shows
 *     in the failure message;
 *   - RFC 3339 timestamps close to now, the stats line, nothing left attached.
 *
 * Needs root.  Every namespace, link and attachment is removed at the end,
 * also when a test fails (group teardown), when the binary is interrupted or
 * a test hangs (SIGALRM backstop, see nstest.h), and leftovers of a crashed
 * earlier run are removed before the topology is built.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nstest.h"
#include "ws_user.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

#define PFX "wse"
#define H1 PFX "h1"
#define H2 PFX "h2"
#define C1 PFX "c1"
#define C2 PFX "c2"
#define CLI4 "172.17.0.2"
#define SRV4 "172.17.0.3"
#define CLI6 "fd17::2"
#define SRV6 "fd17::3"
#define MAC_CLI "02:42:ac:11:00:02"
#define MAC_SRV "02:42:ac:11:00:03"
#define MAC_ZERO "00:00:00:00:00:00"

#define ATTACH_MS 30000         /* loading can take seconds on a slow (emulated) machine */
#define EXIT_MS 10000

/* ------------------------------------------------------------- wirestate */

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double ws_started;      /* wall clock when the last wirestate was started */

/* Start wirestate on the NULL-ended interfaces and wait until it is attached to all. */
static struct nproc *ws_start(bool json, const char *const *ifs, const char *const *extra)
{
	char *argv[48];
	int n = 0;

	argv[n++] = ns_wirestate;
	if (json)
		argv[n++] = "--json";
	for (int i = 0; ifs[i]; i++) {
		argv[n++] = "-i";
		argv[n++] = (char *)ifs[i];
	}
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;

	ws_started = now_real();
	struct nproc *ws = np_spawnv(NULL, argv);

	NS_CHECK(ws, "cannot start %s", ns_wirestate);
	/* JSON mode prints nothing when it starts: ask the kernel instead */
	NS_CHECK(ns_wait_attached(ws, ifs, ATTACH_MS), "wirestate did not attach to %s%s%s",
		 ifs[0], ifs[1] ? " and " : "", ifs[1] ? ifs[1] : "");
	if (!json)
		NS_CHECK(np_wait_text(ws, 1, "watching", ATTACH_MS),
			 "no \"watching\" line on stderr in text mode");
	return ws;
}

/* SIGINT, then it must exit 0 by itself. */
#define ws_stop(ws) ns_stop_wirestate(ws, EXIT_MS)

/* ------------------------------------------------------------ connections */

/*
 * One connection from container 1 to container 2's addr:port.  srv_opt and
 * cli_opt are one wsconn option each or NULL.  want_cli 3: refused (no server).
 */
static void run_conn(const char *addr, int port, const char *srv_opt, const char *cli_opt,
		     int want_cli)
{
	struct np_opts in_c1 = { .netns = C1 }, in_c2 = { .netns = C2 };
	struct nproc *srv = NULL, *cli;
	char ps[16];

	snprintf(ps, sizeof(ps), "%d", port);
	if (want_cli != 3) {
		srv = np_spawn(&in_c2, ns_wsconn, "serve", addr, ps, "--timeout", "8", srv_opt,
			       NULL);
		NS_CHECK(srv, "cannot start the server");
		NS_CHECK(np_wait_text(srv, 0, "listening", 10000), "the server is not listening");
	}
	cli = np_spawn(&in_c1, ns_wsconn, "connect", addr, ps, "--timeout", "8", cli_opt, NULL);
	NS_CHECK(cli, "cannot start the client");
	NS_CHECK(np_wait_exit(cli, 15000), "the client did not finish");
	NS_CHECK(np_code(cli) == want_cli, "client exited %d, expected %d", np_code(cli),
		 want_cli);
	if (srv) {
		NS_CHECK(np_wait_exit(srv, 15000), "the server did not finish");
		NS_CHECK(np_code(srv) == 0, "server exited %d", np_code(srv));
	}
	np_free(cli);
	np_free(srv);
}

/* --------------------------------------------------------------- analysis */

/* RFC 3339 date-time with a fraction and Z or an offset: seconds since the epoch. */
static bool rfc3339(const char *s, double *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	struct tm tm = {};
	double frac = 0, scale = 0.1;
	const char *p;
	int off = 0;

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	}
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
		   p[2] <= '9' && p[3] == ':' && p[4] >= '0' && p[4] <= '9' && p[5] >= '0' &&
		   p[5] <= '9') {
		off = (atoi(p + 1) * 60 + atoi(p + 4)) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	*t = (double)timegm(&tm) - off + frac;
	return true;
}

static bool conn_match(const char *l, const char *type, const char *ifname, int port)
{
	if (!jis(l, "type", type))
		return false;
	if (ifname && !jis(l, "ifname", ifname))
		return false;
	return port <= 0 || jnum(l, "sport") == port || jnum(l, "dport") == port;
}

/*
 * Every line is a JSON object; every ts is RFC 3339 and lies between the
 * start of wirestate and now (a second of slack each way);
 * exactly one stats line, the last, with no ring-buffer drops and every
 * event produced also received.
 */
static void check_json_common(const struct nlines *L)
{
	double now = now_real();
	int stats = 0;

	NS_CHECK(L->n > 0, "wirestate printed nothing");
	for (int i = 0; i < L->n; i++) {
		const char *l = L->v[i];
		char ts[64], type[32];
		double t;

		NS_CHECK(l[0] == '{' && l[strlen(l) - 1] == '}', "line %d is not a JSON object: %s",
			 i + 1, l);
		NS_CHECK(jget(l, "type", type, sizeof(type)), "line %d has no type: %s", i + 1, l);
		if (!strcmp(type, "stats")) {
			stats++;
			NS_CHECK(i == L->n - 1, "the stats line is not the last line");
			NS_CHECK(jnum(l, "ringbuf_drops") == 0, "ring-buffer drops: %s", l);
			NS_CHECK(jnum(l, "events") >= 0 &&
				 jnum(l, "events") == jnum(l, "events_received"),
				 "events produced and received differ: %s", l);
			continue;
		}
		if (!strcmp(type, "iface"))
			continue;       /* attachment notices, if any: not events */
		NS_CHECK(jget(l, "ts", ts, sizeof(ts)), "line %d has no ts: %s", i + 1, l);
		NS_CHECK(rfc3339(ts, &t), "ts is not RFC 3339: '%s'", ts);
		NS_CHECK(t > ws_started - 1 && t < now + 1,
			 "ts %s is not between wirestate's start (%.1f s ago) and now (%+.1f s)", ts,
			 now - ws_started, t - now);
	}
	NS_CHECK(stats == 1, "%d stats lines, expected 1", stats);
}

/*
 * The TCP control packets of the connection (server port) on ifname, in
 * order: "from:flags:dir[:acks]", flags without P (whether data rides on a
 * segment is not the point), separated by spaces.
 */
static void tcp_trace(const struct nlines *L, const char *ifname, int port, char *out, size_t n)
{
	size_t k = 0;

	out[0] = '\0';
	for (int i = 0; i < L->n; i++) {
		const char *l = L->v[i];
		char from[16] = "?", flags[16] = "?", dir[8] = "?", acks[8] = "", f[16];
		size_t j = 0;

		if (!conn_match(l, "tcp", ifname, port))
			continue;
		jget(l, "from", from, sizeof(from));
		jget(l, "flags", flags, sizeof(flags));
		jget(l, "dir", dir, sizeof(dir));
		jget(l, "acks", acks, sizeof(acks));
		for (const char *c = flags; *c && j < sizeof(f) - 1; c++)
			if (*c != 'P')
				f[j++] = *c;
		f[j] = '\0';
		if (k < n)
			k += (size_t)snprintf(out + k, n - k, "%s%s:%s:%s%s%s", k ? " " : "", from, f,
					      dir, acks[0] ? ":" : "", acks);
	}
}

/*
 * One endpoint's (role "client"/"server") path through the states on ifname:
 * "CLOSED>SYN_SENT>...", "|OLD>NEW" where the old state is not where the
 * path stood, "(reason)" after a transition that has one, "!addr=X" or
 * "!port=N" where the endpoint's address or port is not the expected one
 * (want_port 0: not checked).
 */
static void state_path(const struct nlines *L, const char *ifname, int port, const char *role,
		       const char *want_addr, int want_port, char *out, size_t n)
{
	char last[32] = "";
	size_t k = 0;

	out[0] = '\0';
	for (int i = 0; i < L->n && k < n; i++) {
		const char *l = L->v[i];
		char old[32] = "?", nw[32] = "?", reason[32] = "", addr[64] = "";

		if (!conn_match(l, "state", ifname, port) || !jis(l, "endpoint", role))
			continue;
		jget(l, "old", old, sizeof(old));
		jget(l, "new", nw, sizeof(nw));
		jget(l, "reason", reason, sizeof(reason));
		jget(l, "addr", addr, sizeof(addr));
		if (!k)
			k += (size_t)snprintf(out + k, n - k, "%s>%s", old, nw);
		else if (strcmp(old, last))
			k += (size_t)snprintf(out + k, n - k, "|%s>%s", old, nw);
		else
			k += (size_t)snprintf(out + k, n - k, ">%s", nw);
		if (reason[0] && k < n)
			k += (size_t)snprintf(out + k, n - k, "(%s)", reason);
		if (strcmp(addr, want_addr) && k < n)
			k += (size_t)snprintf(out + k, n - k, "!addr=%s", addr);
		if (want_port && jnum(l, "port") != want_port && k < n)
			k += (size_t)snprintf(out + k, n - k, "!port=%lld", jnum(l, "port"));
		snprintf(last, sizeof(last), "%s", nw);
	}
}

static void expect_one_of(const char *what, const char *actual, const char *const *variants)
{
	for (int i = 0; variants[i]; i++)
		if (!strcmp(actual, variants[i]))
			return;
	ns_dump();
	fprintf(stderr, "%s:\n  got      %s\n", what, actual);
	for (int i = 0; variants[i]; i++)
		fprintf(stderr, "  expected %s\n", variants[i]);
	fail_msg("%s differs from every expected sequence", what);
}

static void expect_path(const char *what, const char *actual, const char *want)
{
	if (strcmp(actual, want)) {
		ns_dump();
		fprintf(stderr, "%s:\n  got      %s\n  expected %s\n", what, actual, want);
		fail_msg("%s: wrong state path", what);
	}
}

/* The client's port, from its SYN on ifname. */
static int client_port(const struct nlines *L, const char *ifname, int port)
{
	for (int i = 0; i < L->n; i++)
		if (conn_match(L->v[i], "tcp", ifname, port) && jis(L->v[i], "flags", "S"))
			return (int)jnum(L->v[i], "sport");
	return 0;
}

/* Exactly one ARP request "who-has server tell client" and one reply on ifname. */
static void check_arp(const struct nlines *L, const char *ifname, const char *cdir,
		      const char *sdir)
{
	int req = 0, rep = 0;

	for (int i = 0; i < L->n; i++) {
		const char *l = L->v[i];

		if (!conn_match(l, "arp", ifname, 0))
			continue;
		if (jis(l, "op", "request") && jis(l, "sender_ip", CLI4) && jis(l, "target_ip", SRV4)) {
			req++;
			NS_CHECK(jis(l, "sender_mac", MAC_CLI) && jis(l, "target_mac", MAC_ZERO) &&
				 jis(l, "dir", cdir), "wrong ARP request on %s: %s", ifname, l);
		} else if (jis(l, "op", "reply") && jis(l, "sender_ip", SRV4) &&
			   jis(l, "target_ip", CLI4)) {
			rep++;
			NS_CHECK(jis(l, "sender_mac", MAC_SRV) && jis(l, "target_mac", MAC_CLI) &&
				 jis(l, "dir", sdir), "wrong ARP reply on %s: %s", ifname, l);
		}
	}
	NS_CHECK(req == 1, "%d ARP requests who-has %s tell %s on %s, expected 1", req, SRV4, CLI4,
		 ifname);
	NS_CHECK(rep == 1, "%d ARP replies %s is-at on %s, expected 1", rep, SRV4, ifname);
}

static int count_type(const struct nlines *L, const char *type, const char *ifname)
{
	int n = 0;

	for (int i = 0; i < L->n; i++)
		if (conn_match(L->v[i], type, ifname, 0))
			n++;
	return n;
}

static double line_ts(const char *l)
{
	char ts[64];
	double t = 0;

	if (jget(l, "ts", ts, sizeof(ts)))
		rfc3339(ts, &t);
	return t;
}

/*
 * A connection where the client closes first, seen on ifname where the
 * client's packets go cdir and the server's sdir.  TIME_WAIT lasts 1 s.
 */
static void check_client_closes(const struct nlines *L, const char *ifname, int port,
				const char *cli_addr, const char *srv_addr, int family,
				const char *cdir, const char *sdir)
{
	char trace[1024], a[512], b[512], path[1024];
	int cport = client_port(L, ifname, port);

	NS_CHECK(cport > 0, "no SYN to port %d on %s", port, ifname);
	/* the server's ACK of the client's FIN rides on its FIN, or comes first on its own */
	snprintf(a, sizeof(a), "client:S:%s server:S.:%s:SYN client:.:%s:SYN client:F.:%s "
		 "server:F.:%s:FIN client:.:%s:FIN", cdir, sdir, cdir, cdir, sdir, cdir);
	snprintf(b, sizeof(b), "client:S:%s server:S.:%s:SYN client:.:%s:SYN client:F.:%s "
		 "server:.:%s:FIN server:F.:%s client:.:%s:FIN", cdir, sdir, cdir, cdir, sdir,
		 sdir, cdir);
	tcp_trace(L, ifname, port, trace, sizeof(trace));
	expect_one_of(ifname, trace, (const char *const[]){ a, b, NULL });

	for (int i = 0; i < L->n; i++) {
		const char *l = L->v[i];

		if (!conn_match(l, "tcp", ifname, port))
			continue;
		NS_CHECK(jnum(l, "family") == family, "family is not %d: %s", family, l);
		bool from_cli = jis(l, "from", "client");

		NS_CHECK(jis(l, "saddr", from_cli ? cli_addr : srv_addr) &&
			 jis(l, "daddr", from_cli ? srv_addr : cli_addr) &&
			 jnum(l, from_cli ? "dport" : "sport") == port &&
			 jnum(l, from_cli ? "sport" : "dport") == cport,
			 "addresses or ports are wrong: %s", l);
	}

	state_path(L, ifname, port, "client", cli_addr, cport, path, sizeof(path));
	expect_path("client", path, "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>"
		    "CLOSED(2msl_timer)");
	state_path(L, ifname, port, "server", srv_addr, port, path, sizeof(path));
	expect_path("server", path, "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED");

	/* the inferred CLOSED comes --time-wait (1 s) after TIME_WAIT */
	double t_tw = 0, t_closed = 0;

	for (int i = 0; i < L->n; i++) {
		const char *l = L->v[i];

		if (!conn_match(l, "state", ifname, port) || !jis(l, "endpoint", "client"))
			continue;
		if (jis(l, "new", "TIME_WAIT"))
			t_tw = line_ts(l);
		if (jis(l, "reason", "2msl_timer"))
			t_closed = line_ts(l);
	}
	NS_CHECK(t_closed - t_tw > 0.99 && t_closed - t_tw < 1.5,
		 "TIME_WAIT -> CLOSED after %.3f s, expected --time-wait 1", t_closed - t_tw);
}

/* ------------------------------------------------------------------ tests */

/* The demo's connection: 172.17.0.2 -> 172.17.0.3:5001, the client closes first. */
TEST(ipv4_client_closes_first)
{
	const char *ifs[] = { H1, NULL };
	struct nlines L;

	struct nproc *ws = ws_start(true, ifs, (const char *const[]){ "--time-wait", "1", NULL });

	run_conn(SRV4, 5001, NULL, NULL, 0);
	NS_CHECK(np_wait_count(ws, "2msl_timer", 1, 5000), "no TIME_WAIT -> CLOSED within 5 s");
	ws_stop(ws);
	nlines_split(&L, nbuf_str(&ws->out));
	check_json_common(&L);
	check_arp(&L, H1, "in", "out");
	check_client_closes(&L, H1, 5001, CLI4, SRV4, 4, "in", "out");
	nlines_free(&L);
	NS_ASSERT_CLEAN(H1);
}

/* The server closes first (shutdown right after accept): the roles' paths swap. */
TEST(ipv4_server_closes_first)
{
	const char *ifs[] = { H1, NULL };
	char trace[1024], path[1024];
	struct nlines L;

	struct nproc *ws = ws_start(true, ifs, (const char *const[]){ "--time-wait", "1", NULL });

	run_conn(SRV4, 5002, "--close-first", "--wait-eof", 0);
	NS_CHECK(np_wait_count(ws, "2msl_timer", 1, 5000), "no TIME_WAIT -> CLOSED within 5 s");
	ws_stop(ws);
	nlines_split(&L, nbuf_str(&ws->out));
	check_json_common(&L);
	check_arp(&L, H1, "in", "out");
	int cport = client_port(&L, H1, 5002);

	NS_CHECK(cport > 0, "no SYN to port 5002");
	tcp_trace(&L, H1, 5002, trace, sizeof(trace));
	expect_one_of("packets", trace, (const char *const[]){
		"client:S:in server:S.:out:SYN client:.:in:SYN server:F.:out client:.:in:FIN "
		"client:F.:in server:.:out:FIN",
		"client:S:in server:S.:out:SYN client:.:in:SYN server:F.:out client:F.:in:FIN "
		"server:.:out:FIN",
		NULL });
	state_path(&L, H1, 5002, "server", SRV4, 5002, path, sizeof(path));
	expect_path("server", path, "LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>"
		    "TIME_WAIT>CLOSED(2msl_timer)");
	state_path(&L, H1, 5002, "client", CLI4, cport, path, sizeof(path));
	expect_path("client", path, "CLOSED>SYN_SENT>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED");
	nlines_free(&L);
	NS_ASSERT_CLEAN(H1);
}

/* Nothing listens on the port: SYN answered by RST+ACK. */
TEST(ipv4_refused)
{
	const char *ifs[] = { H1, NULL };
	char trace[1024], path[1024];
	struct nlines L;

	struct nproc *ws = ws_start(true, ifs, NULL);

	run_conn(SRV4, 5003, NULL, NULL, 3);
	NS_CHECK(np_wait_text(ws, 0, "\"reason\":\"refused\"", 5000),
		 "no state event with reason refused within 5 s");
	ws_stop(ws);
	nlines_split(&L, nbuf_str(&ws->out));
	check_json_common(&L);
	int cport = client_port(&L, H1, 5003);

	NS_CHECK(cport > 0, "no SYN to port 5003");
	tcp_trace(&L, H1, 5003, trace, sizeof(trace));
	expect_one_of("packets", trace,
		      (const char *const[]){ "client:S:in server:R.:out:SYN", NULL });
	for (int i = 0; i < L.n; i++)
		if (conn_match(L.v[i], "tcp", H1, 5003) && jis(L.v[i], "flags", "R."))
			NS_CHECK(strstr(L.v[i], "\"conn\":[\"refused\"]"),
				 "the RST does not mark the connection refused: %s", L.v[i]);
	state_path(&L, H1, 5003, "client", CLI4, cport, path, sizeof(path));
	expect_path("client", path, "CLOSED>SYN_SENT>CLOSED");
	state_path(&L, H1, 5003, "server", SRV4, 5003, path, sizeof(path));
	expect_path("server", path, "CLOSED>CLOSED(refused)");
	nlines_free(&L);
	NS_ASSERT_CLEAN(H1);
}

/* fd17::2 -> [fd17::3]:5004: neighbour discovery instead of ARP, so no ARP events. */
TEST(ipv6_client_closes_first)
{
	const char *ifs[] = { H1, NULL };
	struct nlines L;

	struct nproc *ws = ws_start(true, ifs, (const char *const[]){ "--time-wait", "1", NULL });

	run_conn(SRV6, 5004, NULL, NULL, 0);
	NS_CHECK(np_wait_count(ws, "2msl_timer", 1, 5000), "no TIME_WAIT -> CLOSED within 5 s");
	ws_stop(ws);
	nlines_split(&L, nbuf_str(&ws->out));
	check_json_common(&L);
	NS_CHECK(count_type(&L, "arp", NULL) == 0, "ARP events during an IPv6-only exchange");
	check_client_closes(&L, H1, 5004, CLI6, SRV6, 6, "in", "out");
	nlines_free(&L);
	NS_ASSERT_CLEAN(H1);
}

/* -i wseh1 -i wseh2: the same connection once per interface, directions mirrored. */
TEST(two_interfaces_each_once)
{
	const char *ifs[] = { H1, H2, NULL };
	struct nlines L;

	struct nproc *ws = ws_start(true, ifs, (const char *const[]){ "--time-wait", "1", NULL });

	run_conn(SRV4, 5005, NULL, NULL, 0);
	NS_CHECK(np_wait_count(ws, "2msl_timer", 2, 5000),
		 "no TIME_WAIT -> CLOSED on both interfaces within 5 s");
	ws_stop(ws);
	nlines_split(&L, nbuf_str(&ws->out));
	check_json_common(&L);
	/* the client's frames arrive on wseh1 and leave on wseh2 towards the server */
	check_arp(&L, H1, "in", "out");
	check_arp(&L, H2, "out", "in");
	check_client_closes(&L, H1, 5005, CLI4, SRV4, 4, "in", "out");
	check_client_closes(&L, H2, 5005, CLI4, SRV4, 4, "out", "in");
	for (int i = 0; i < L.n; i++) {
		char ifn[32];

		if (jis(L.v[i], "type", "stats") || jis(L.v[i], "type", "iface"))
			continue;
		NS_CHECK(jget(L.v[i], "ifname", ifn, sizeof(ifn)) &&
			 (!strcmp(ifn, H1) || !strcmp(ifn, H2)), "unexpected ifname: %s", L.v[i]);
	}
	nlines_free(&L);
	NS_ASSERT_CLEAN(H1);
	NS_ASSERT_CLEAN(H2);
}

/* The human format: tcpdump-like ARP lines, "OLD -> NEW" lines, stats on stderr. */
TEST(text_mode)
{
	const char *ifs[] = { H1, NULL };

	struct nproc *ws = ws_start(false, ifs, (const char *const[]){ "--time-wait", "1", NULL });

	run_conn(SRV4, 5006, NULL, NULL, 0);
	NS_CHECK(np_wait_text(ws, 0, "TIME_WAIT -> CLOSED", 5000),
		 "no TIME_WAIT -> CLOSED line within 5 s");
	ws_stop(ws);
	const char *out = nbuf_str(&ws->out), *err = nbuf_str(&ws->err);
	static const char *const want[] = {
		"who-has 172.17.0.3 tell 172.17.0.2", "172.17.0.3 is-at 02:42:ac:11:00:03",
		"CLOSED -> SYN_SENT", "LISTEN -> SYN_RECEIVED", "SYN_SENT -> ESTABLISHED",
		"ESTABLISHED -> FIN_WAIT_1", "CLOSE_WAIT -> LAST_ACK", "LAST_ACK -> CLOSED",
		"172.17.0.3:5006",
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		NS_CHECK(strstr(out, want[i]), "text output lacks \"%s\"", want[i]);
	NS_CHECK(ns_count(out, "CLOSED -> SYN_SENT") == 1, "CLOSED -> SYN_SENT more than once");
	/* the start line names the hooks: they depend on the kernel */
	NS_CHECK(strstr(err, ns_have_tcx(H1) ? "watching 1 interface (TC in and out);" :
			"watching 1 interface (XDP in, TC out);"),
		 "the \"watching\" line does not name the hooks in use:\n%s", err);
	const char *who = strstr(out, "who-has");
	const char *bol = who;

	while (bol > out && bol[-1] != '\n')
		bol--;
	NS_CHECK(strstr(bol, H1) && strstr(bol, H1) < who, "the ARP line does not name %s", H1);
	NS_CHECK(out[0] != '{', "text mode printed JSON");
	NS_CHECK(strstr(err, "watching 1 interface"), "no \"watching\" line on stderr");
	NS_CHECK(strstr(err, " events ("), "no stats line on stderr at exit");
	NS_ASSERT_CLEAN(H1);
}

/*
 * A flow table that overflows while wirestate runs: it says so on stderr
 * then (within its one-second check), and its summary at exit counts the
 * evicted flows.  20 connections through --flows 16, the least.
 */
TEST(flow_table_full_warned)
{
	const char *ifs[] = { H1, NULL };

	struct nproc *ws = ws_start(false, ifs, (const char *const[]){ "--flows", "16", NULL });

	for (int i = 0; i < 20; i++)
		run_conn(SRV4, 5100 + i, NULL, NULL, 0);
	NS_CHECK(np_wait_text(ws, 1, "the flow table is full (16 flows)", 5000),
		 "no warning on stderr within 5 s of the 17th flow:\n%s", nbuf_str(&ws->err));
	ws_stop(ws);
	NS_CHECK(ns_count(nbuf_str(&ws->err), "the flow table is full") == 1,
		 "the warning was given more than once:\n%s", nbuf_str(&ws->err));
	NS_CHECK(strstr(nbuf_str(&ws->err), " evicted (the flow table holds 16; --flows)"),
		 "the summary does not count evicted flows:\n%s", nbuf_str(&ws->err));
	NS_ASSERT_CLEAN(H1);
}

/*
 * TIME_WAIT timers are bounded: with --time-wait-max 2, the third and fourth
 * TIME_WAIT within --time-wait 20 are not followed to CLOSED, and the
 * summary counts them (a storm would otherwise hold millions of timers).
 */
TEST(time_wait_bounded)
{
	const char *ifs[] = { H1, NULL };

	struct nproc *ws = ws_start(true, ifs, (const char *const[]){ "--time-wait", "20",
		"--time-wait-max", "2", NULL });

	for (int i = 0; i < 4; i++)
		run_conn(SRV4, 5200 + i, NULL, NULL, 0);
	NS_CHECK(np_wait_text(ws, 0, "\"new\":\"TIME_WAIT\"", 5000), "no TIME_WAIT within 5 s");
	ws_stop(ws);
	NS_CHECK(ns_count(nbuf_str(&ws->out), "\"new\":\"TIME_WAIT\"") == 4,
		 "expected 4 TIME_WAIT transitions:\n%s", nbuf_str(&ws->out));
	NS_CHECK(strstr(nbuf_str(&ws->out), "\"time_wait_untracked\":2"),
		 "the stats do not count 2 untracked TIME_WAITs:\n%s", nbuf_str(&ws->out));
	NS_CHECK(strstr(nbuf_str(&ws->err),
			", 2 TIME_WAIT not followed to CLOSED (2 were pending; --time-wait-max)"),
		 "the summary does not say so:\n%s", nbuf_str(&ws->err));
	NS_ASSERT_CLEAN(H1);
}

/* Attached while it runs, and after SIGINT nothing is left: links, programs, tc. */
TEST(detached_after_sigint)
{
	const char *ifs[] = { H1, H2, NULL };
	uint32_t xdp[2] = {}, tc[2] = {};
	struct nbuf o = {};

	struct nproc *ws = ws_start(true, ifs, NULL);

	for (int i = 0; i < 2; i++) {
		char needle[32];
		bool is_xdp = false;

		NS_CHECK(ns_ws_attached(ifs[i], &xdp[i], &tc[i]), "not attached to %s", ifs[i]);
		/* the default on a veth: TC ingress where the kernel has tcx, else XDP */
		ns_ws_ingress(ifs[i], &is_xdp);
		NS_CHECK(is_xdp == !ns_have_tcx(ifs[i]), "%s: ingress on %s, expected %s",
			 ifs[i], is_xdp ? "XDP" : "TC", is_xdp ? "TC (tcx)" : "XDP (no tcx)");
		/* the tools the leftover check asks do see the attachment */
		o.len = 0;
		if (is_xdp) {
			nsh(&o, 5000, "ip -d link show dev %s", ifs[i]);
			NS_CHECK(strstr(nbuf_str(&o), "prog/xdp"), "`ip -d link` shows no prog/xdp on %s",
				 ifs[i]);
		} else if (nsh(&o, 10000, "bpftool link show") == 0) {
			/* Debian 12's iproute2 and bpftool show a tcx link only here: "type 11  prog N" */
			snprintf(needle, sizeof(needle), "prog %u ", xdp[i]);
			NS_CHECK(strstr(nbuf_str(&o), needle), "`bpftool link show` lists no link of "
				 "ws_tc_ingress (id %u):\n%s", xdp[i], nbuf_str(&o));
		}
		o.len = 0;
		snprintf(needle, sizeof(needle), "%s(", ifs[i]);
		if (is_xdp && nsh(&o, 10000, "bpftool net show dev %s", ifs[i]) == 0)
			NS_CHECK(strstr(nbuf_str(&o), needle), "`bpftool net` does not list %s:\n%s",
				 ifs[i], nbuf_str(&o));
		NS_CHECK(ns_links_on(ifs[i]) == (ns_have_tcx(H1) ? 2 : 1),
			 "%d BPF links on %s, expected %d", ns_links_on(ifs[i]), ifs[i],
			 ns_have_tcx(H1) ? 2 : 1);
	}
	NS_CHECK(xdp[0] == xdp[1] && tc[0] == tc[1],
		 "both interfaces should run the same two programs");
	ws_stop(ws);
	NS_ASSERT_CLEAN(H1);
	NS_ASSERT_CLEAN(H2);
	NS_CHECK(ns_wait_prog_gone(xdp[0], 3000), "the ingress program (id %u) is still loaded",
		 xdp[0]);
	NS_CHECK(ns_wait_prog_gone(tc[0], 3000), "ws_tc_egress (id %u) still loaded", tc[0]);
	o.len = 0;
	if (nsh(&o, 10000, "bpftool link show") == 0) {
		/* "113: xdp  prog 352": no link may still hold either program */
		for (const char *s = nbuf_str(&o); (s = strstr(s, "prog ")); s += 5) {
			unsigned id;

			if (sscanf(s, "prog %u", &id) == 1)
				NS_CHECK(id != xdp[0] && id != tc[0],
					 "`bpftool link show` still lists program %u:\n%s", id,
					 nbuf_str(&o));
		}
	}
	nbuf_free(&o);
}

/* SIGKILL in the middle of a transfer: the kernel drops the links with the process. */
TEST(sigkill_leaves_nothing)
{
	const char *ifs[] = { H1, H2, NULL };
	struct np_opts in_c1 = { .netns = C1 }, in_c2 = { .netns = C2 };
	uint32_t xdp = 0, tc = 0;

	struct nproc *ws = ws_start(true, ifs, NULL);

	NS_CHECK(ns_ws_attached(H1, &xdp, &tc), "not attached");
	struct nproc *srv = np_spawn(&in_c2, ns_wsconn, "serve", SRV4, "5007", "--timeout", "20",
				     NULL);

	NS_CHECK(srv && np_wait_text(srv, 0, "listening", 10000), "the server is not listening");
	/* long enough to be under way when the kill comes, short on an emulated machine */
	struct nproc *cli = np_spawn(&in_c1, ns_wsconn, "connect", SRV4, "5007", "--send",
				     getenv("VMTEST") ? "4000000" : "30000000", "--timeout", "20",
				     NULL);

	NS_CHECK(cli, "cannot start the client");
	/* the handshake has been seen: the transfer is under way */
	NS_CHECK(np_wait_text(ws, 0, "\"new\":\"ESTABLISHED\"", 10000), "no handshake seen");
	np_signal(ws, SIGKILL);
	NS_CHECK(np_wait_exit(ws, EXIT_MS), "wirestate survived SIGKILL");
	NS_CHECK(np_code(ws) == 128 + SIGKILL, "wirestate ended with %d", np_code(ws));
	if (!ns_have_tcx(H1)) {
		/* no tcx: TC egress is a clsact filter, which no process owns */
		for (int i = 0; i < 2; i++) {
			NS_CHECK(!ns_xdp_prog(ifs[i]) && !ns_links_on(ifs[i]),
				 "XDP left on %s after SIGKILL", ifs[i]);
			fprintf(stderr, "# note: kernel without tcx: the clsact egress filter on %s "
				"outlives SIGKILL (documented); removing it\n", ifs[i]);
			nsh(NULL, 5000, "tc qdisc del dev %s clsact", ifs[i]);
		}
	} else {
		NS_CHECK(ns_wait_prog_gone(xdp, 3000), "the ingress program (id %u) is still loaded",
			 xdp);
		NS_CHECK(ns_wait_prog_gone(tc, 3000), "ws_tc_egress (id %u) still loaded", tc);
	}
	NS_ASSERT_CLEAN(H1);
	NS_ASSERT_CLEAN(H2);
	/* the traffic did not notice */
	NS_CHECK(np_wait_exit(cli, 30000) && np_code(cli) == 0, "the client failed");
	NS_CHECK(np_wait_exit(srv, 30000) && np_code(srv) == 0, "the server failed");
}

/* Read a classic pcap: true when well formed; *nrec records, *syn a SYN to port. */
static bool read_pcap(const char *path, int port, int *nrec, bool *syn, char *why, size_t wl)
{
	FILE *f = fopen(path, "rb");
	uint32_t h[6], r[4];
	uint8_t d[65536];
	bool swap;

	*nrec = 0;
	*syn = false;
	if (!f) {
		snprintf(why, wl, "%s: %s", path, strerror(errno));
		return false;
	}
	if (fread(h, 1, sizeof(h), f) != sizeof(h)) {
		snprintf(why, wl, "no pcap header");
		goto bad;
	}
	if (h[0] == 0xa1b2c3d4u || h[0] == 0xa1b23c4du) {
		swap = false;
	} else if (h[0] == 0xd4c3b2a1u || h[0] == 0x4d3cb2a1u) {
		swap = true;
	} else {
		snprintf(why, wl, "magic 0x%08x is not pcap", h[0]);
		goto bad;
	}
#define SW(x) (swap ? __builtin_bswap32(x) : (x))
	if ((SW(h[5]) & 0xffff) != 1) {
		snprintf(why, wl, "link type %u is not Ethernet", SW(h[5]));
		goto bad;
	}
	size_t n;

	while ((n = fread(r, 1, sizeof(r), f)) == sizeof(r)) {
		uint32_t cap = SW(r[2]), orig = SW(r[3]);

		if (cap > sizeof(d) || orig < cap || fread(d, 1, cap, f) != cap) {
			snprintf(why, wl, "record %d is damaged (cap %u, orig %u)", *nrec + 1, cap, orig);
			goto bad;
		}
		(*nrec)++;
		size_t off = 12;
		uint16_t et = cap >= 14 ? (uint16_t)(d[12] << 8 | d[13]) : 0;

		while ((et == 0x8100 || et == 0x88a8) && off + 6 <= cap) {
			off += 4;
			et = (uint16_t)(d[off] << 8 | d[off + 1]);
		}
		off += 2;
		size_t tcp = 0;

		if (et == 0x0800 && off + 20 <= cap && d[off + 9] == 6)
			tcp = off + (size_t)(d[off] & 0xf) * 4;
		else if (et == 0x86dd && off + 40 <= cap && d[off + 6] == 6)
			tcp = off + 40;
		if (tcp && tcp + 14 <= cap && (d[tcp + 13] & 0x12) == 0x02 &&
		    (d[tcp + 2] << 8 | d[tcp + 3]) == port)
			*syn = true;
	}
#undef SW
	if (n != 0) {
		snprintf(why, wl, "a record header is cut short");
		goto bad;
	}
	fclose(f);
	return true;
bad:
	fclose(f);
	return false;
}

/* -w FILE: a classic pcap, mode 0600, one frame per event, that tshark reads. */
TEST(pcap_write)
{
	const char *ifs[] = { H1, NULL };
	char path[PATH_MAX + 32], why[256];
	struct stat st;
	struct nlines L;
	int nrec;
	bool syn;

	snprintf(path, sizeof(path), "%s/cap.pcap", ns_tmpdir);
	unlink(path);
	struct nproc *ws = ws_start(true, ifs,
				    (const char *const[]){ "--time-wait", "1", "-w", path, NULL });

	run_conn(SRV4, 5008, NULL, NULL, 0);
	NS_CHECK(np_wait_count(ws, "2msl_timer", 1, 5000), "no TIME_WAIT -> CLOSED within 5 s");
	ws_stop(ws);
	nlines_split(&L, nbuf_str(&ws->out));
	int events = count_type(&L, "tcp", NULL) + count_type(&L, "arp", NULL);

	nlines_free(&L);
	NS_CHECK(stat(path, &st) == 0, "%s was not written", path);
	NS_CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600, "%s has mode %04o, not 0600",
		 path, (unsigned)(st.st_mode & 07777));
	NS_CHECK(read_pcap(path, 5008, &nrec, &syn, why, sizeof(why)), "bad pcap: %s", why);
	NS_CHECK(syn, "the pcap holds no SYN to port 5008");
	NS_CHECK(nrec == events, "%d frames in the pcap, %d events printed", nrec, events);
	if (ns_have_cmd("tshark")) {
		struct nbuf o = {};
		int rc = nsh(&o, 30000, "tshark -n -r '%s' -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' "
			     "-T fields -e tcp.dstport 2>/dev/null", path);

		NS_CHECK(rc == 0, "tshark failed (%d) on %s:\n%s", rc, path, nbuf_str(&o));
		NS_CHECK(strstr(nbuf_str(&o), "5008"), "tshark finds no SYN to 5008:\n%s",
			 nbuf_str(&o));
		o.len = 0;
		rc = nsh(&o, 30000, "tshark -n -r '%s' 2>/dev/null | wc -l", path);
		NS_CHECK(rc == 0 && atoi(nbuf_str(&o)) == nrec, "tshark reads %s frames, expected %d",
			 nbuf_str(&o), nrec);
		nbuf_free(&o);
	} else {
		fprintf(stderr, "# skip: tshark is not installed: the pcap was checked by this "
			"test's own reader only\n");
	}
	unlink(path);
	NS_ASSERT_CLEAN(H1);
}

/*
 * VLAN tags on either ingress hook.  Generic XDP sees a tagged frame as it
 * came; the stack then moves the outermost tag out of the frame
 * (skb->vlan_tci) before TC ingress runs.  With --ingress xdp and with
 * --ingress tc, the same frames must give the same events (vlan ids), the
 * same parse errors (a third tag) and the same frames in the -w capture,
 * tag and length as on the wire.  The frames are written raw (AF_PACKET)
 * by container 1, so the tags are in them when they cross the veth.
 */
#define ARP_99 "0001 0800 0604 0001 0242ac110002 ac110002 000000000000 ac110063"
static const struct {
	const char *hex, *vlan_json;    /* NULL: no "vlan" key (frame 3: no event at all) */
	unsigned wire;
	const char *at12;                /* the capture's bytes 12..19, or fewer */
} vlan_frames[] = {
	{ "ffffffffffff 0242ac110002 0806 " ARP_99, NULL, 42, "0806" },
	{ "ffffffffffff 0242ac110002 8100 200a 0806 " ARP_99, "\"vlan\":[10]", 46, "8100200a0806" },
	{ "ffffffffffff 0242ac110002 88a8 0064 8100 000a 0806 " ARP_99, "\"vlan\":[100,10]", 50,
	  "88a800648100000a" },
	{ "ffffffffffff 0242ac110002 88a8 0064 8100 000a 8100 0014 0806 " ARP_99, NULL, 54, NULL },
};

/* The capture's frames, read with wirestate's own reader: wire lengths and hex of bytes 12..19. */
static int pcap_frames(const char *path, unsigned *wire, char (*hex)[17], int max)
{
	struct ws_pcap_reader r;
	uint8_t d[WS_SNAP_MAX];
	uint32_t cap, orig;
	uint64_t ts;
	char err[256];
	int n = 0;

	if (ws_pcap_open(&r, path, err, sizeof(err)))
		return -1;
	while (n < max && ws_pcap_next(&r, d, sizeof(d), &cap, &orig, &ts, err, sizeof(err)) == 1) {
		wire[n] = orig;
		hex[n][0] = '\0';
		for (uint32_t i = 12; i < 20 && i < cap; i++)
			snprintf(hex[n] + (i - 12) * 2, 3, "%02x", d[i]);
		n++;
	}
	ws_pcap_close(&r);
	return n;
}

TEST(vlan_tags_same_on_either_hook)
{
	static const char *const hooks[] = { "xdp", "tc" };
	struct np_opts in_c1 = { .netns = C1 };
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/vlan.pcap", ns_tmpdir);
	for (int k = 0; k < 2; k++) {
		unlink(path);
		struct nproc *ws = np_spawnv(NULL, (char *[]){ ns_wirestate, "--json", "-i", H1,
					     "--ingress", (char *)hooks[k], "-w", path, NULL });
		double end = ns_now() + ATTACH_MS / 1000.0;
		uint32_t ids[16];
		bool up = false;

		NS_CHECK(ws, "cannot start wirestate");
		/* ingress is attached before TC egress: egress there means both are */
		while (!up && !ws->reaped && ns_now() < end) {
			int n = ns_egress_progs(H1, ids, 16);
			char name[32];

			for (int i = 0; i < n && i < 16 && !up; i++) {
				ns_prog_name(ids[i], name, sizeof(name));
				up = !strcmp(name, "ws_tc_egress");
			}
			if (!up)
				np_pump(10);
		}
		NS_CHECK(up, "--ingress %s: wirestate did not attach to %s:\n%s", hooks[k], H1,
			 nbuf_str(&ws->err));
		for (size_t i = 0; i < sizeof(vlan_frames) / sizeof(vlan_frames[0]); i++) {
			struct nproc *inj = np_spawn(&in_c1, ns_wsconn, "inject", "eth0",
						     vlan_frames[i].hex, NULL);

			NS_CHECK(inj && np_wait_exit(inj, 5000) && np_code(inj) == 0,
				 "cannot inject frame %zu:\n%s", i, inj ? nbuf_str(&inj->err) : "");
			np_free(inj);
		}
		NS_CHECK(np_wait_count(ws, "172.17.0.99", 3, 5000),
			 "--ingress %s: fewer than 3 ARP events for 172.17.0.99:\n%s", hooks[k],
			 nbuf_str(&ws->out));
		ws_stop(ws);
		/* on 6.1 --ingress tc makes the clsact qdisc for ingress, then finds it for egress */
		NS_CHECK(!strstr(nbuf_str(&ws->err), "libbpf:"),
			 "--ingress %s: libbpf spoke on stderr:\n%s", hooks[k], nbuf_str(&ws->err));

		struct nlines L;
		int j = 0;
		long long perr = -1;

		nlines_split(&L, nbuf_str(&ws->out));
		for (int i = 0; i < L.n; i++) {
			const char *l = L.v[i];

			if (jis(l, "type", "stats"))
				perr = jnum(l, "parse_errors");
			if (!jis(l, "type", "arp") || !jis(l, "target_ip", "172.17.0.99"))
				continue;
			/* frames 0-2 give an event each, in order; frame 3 none */
			NS_CHECK(j < 3, "--ingress %s: an ARP event too many: %s", hooks[k], l);
			if (vlan_frames[j].vlan_json)
				NS_CHECK(strstr(l, vlan_frames[j].vlan_json),
					 "--ingress %s: frame %d: want %s in %s", hooks[k], j,
					 vlan_frames[j].vlan_json, l);
			else
				NS_CHECK(!strstr(l, "\"vlan\""),
					 "--ingress %s: an untagged frame with a vlan: %s", hooks[k], l);
			j++;
		}
		nlines_free(&L);
		NS_CHECK(j == 3, "--ingress %s: %d ARP events, expected 3", hooks[k], j);
		NS_CHECK(perr == 1, "--ingress %s: parse_errors %lld, expected 1 (three tags)",
			 hooks[k], perr);

		unsigned wire[8];
		char hex[8][17];
		int n = pcap_frames(path, wire, hex, 8);

		NS_CHECK(n == 3, "--ingress %s: %d frames in %s, expected 3", hooks[k], n, path);
		for (int i = 0; i < 3; i++) {
			NS_CHECK(wire[i] == vlan_frames[i].wire,
				 "--ingress %s: frame %d: length %u on the wire, captured as %u",
				 hooks[k], i, vlan_frames[i].wire, wire[i]);
			NS_CHECK(!strncmp(hex[i], vlan_frames[i].at12, strlen(vlan_frames[i].at12)),
				 "--ingress %s: frame %d: bytes 12.. are %s, want %s", hooks[k], i,
				 hex[i], vlan_frames[i].at12);
		}
		np_free(ws);
	}
	unlink(path);
	NS_ASSERT_CLEAN(H1);
}

/* ------------------------------------------------------------ fixtures */

static const struct ns_suite suite = {
	.who = "test_e2e",
	.prefix = PFX,
	.lock = true,
	.containers = 2,
	.tmpdir = true,
	.tcx_ifname = H1,
	/* fresh neighbour tables: every connection starts with its ARP exchange */
	.flush_neigh = 2,
	.reset_tc = 2,
};

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		NS_TEST(ipv4_client_closes_first),
		NS_TEST(ipv4_server_closes_first),
		NS_TEST(ipv4_refused),
		NS_TEST(ipv6_client_closes_first),
		NS_TEST(two_interfaces_each_once),
		NS_TEST(text_mode),
		NS_TEST(flow_table_full_warned),
		NS_TEST(time_wait_bounded),
		NS_TEST(detached_after_sigint),
		NS_TEST(sigkill_leaves_nothing),
		NS_TEST(pcap_write),
		NS_TEST(vlan_tags_same_on_either_hook),
	};

	(void)argc;
	if (ns_main_begin(argv[0], &suite))
		return 1;
	return cmocka_run_group_tests(tests, ns_group_setup, ns_group_teardown);
}
