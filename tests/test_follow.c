// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Following interfaces: the real build/wirestate attached by container
 * (--netns NAME|PATH, --pid PID), to every veth (--all-veth) and by name (-i),
 * while veths and namespaces come and go under it.
 *
 * Topology (scripts/topo.sh up wsf 2): containers wsfc1 = 172.17.0.2 and
 * wsfc2 = 172.17.0.3, host-side veths wsfh1 / wsfh2 on bridge wsfbr.  Tests
 * add their own links (host-side names wsfx*) and namespaces (wsfc3, wsfc4);
 * every test's teardown removes them, the group teardown removes the rest.
 *
 * The central check: at every step, the set of host interfaces named wsf*
 * that carry wirestate's ingress program is EXACTLY the set of host-side
 * veths wirestate should follow, and each of them also has ws_tc_egress.
 *
 * Needs root.  --all-veth attaches to every veth of the host: that test runs
 * only when no veth outside this prefix exists or WS_TEST_ALL_VETH=1.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nstest.h"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define PFX "wsf"
#define H1 PFX "h1"
#define H2 PFX "h2"
#define H3 PFX "h3"
#define H4 PFX "h4"
#define C1 PFX "c1"
#define C2 PFX "c2"
#define C3 PFX "c3"
#define C4 PFX "c4"
#define SRV4 "172.17.0.3"

#define ATTACH_MS 30000         /* loading can take seconds on a slow (emulated) machine */
#define EXIT_MS 10000

/* how fast a change must be followed: README says a tenth of a second; 1 s here, 3 s in the VM */
static int follow_ms(void)
{
	return getenv("VMTEST") ? 3000 : 1000;
}

/* how long the kernel may take to destroy a namespace nobody holds */
static int nsgone_ms(void)
{
	return getenv("VMTEST") ? 20000 : 5000;
}

/* ------------------------------------------------------------- wirestate */

static struct nproc *ws_spawn(bool json, const char *const *args)
{
	char *argv[40];
	int n = 0;

	argv[n++] = ns_wirestate;
	if (json)
		argv[n++] = "--json";
	for (int i = 0; args[i] && n < 39; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	struct nproc *p = np_spawnv(NULL, argv);

	NS_CHECK(p, "cannot start %s", ns_wirestate);
	return p;
}

/* Start, wait until attached to the NULL-ended ifs (and "watching" in text mode). */
static struct nproc *ws_start(bool json, const char *const *args, const char *const *ifs)
{
	struct nproc *ws = ws_spawn(json, args);

	if (ifs && ifs[0])
		NS_CHECK(ns_wait_attached(ws, ifs, ATTACH_MS), "wirestate did not attach to %s",
			 ifs[0]);
	if (!json)
		NS_CHECK(np_wait_text(ws, 1, "watching", ATTACH_MS),
			 "no \"watching\" line on stderr in text mode");
	return ws;
}

/* SIGINT, then it must exit 0 by itself. */
#define ws_stop(ws) ns_stop_wirestate(ws, EXIT_MS)

/* Run a shell command that must succeed. */
#define SH(...)                                                                          \
	do {                                                                             \
		struct nbuf o_ = {};                                                     \
		int rc_ = nsh(&o_, 20000, __VA_ARGS__);                                  \
		if (rc_) {                                                               \
			char c_[512];                                                    \
			snprintf(c_, sizeof(c_), __VA_ARGS__);                           \
			NS_CHECK(0, "`%s` failed (%d): %s", c_, rc_, nbuf_str(&o_));     \
		}                                                                        \
		nbuf_free(&o_);                                                          \
	} while (0)

/* ------------------------------------------------------------- the set */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The host interfaces named PFX* (`ip -o link show`) that carry wirestate's
 * ingress program (ws_xdp on XDP, or ws_tc_ingress on TC ingress, the
 * default on veths where the kernel has tcx), sorted, separated by single
 * spaces.
 */
static void xdp_set(char *buf, size_t len)
{
	struct nbuf o = {};
	char *names[128];
	int n = 0;

	nsh(&o, 10000, "ip -o link show");
	for (char *l = o.s; l && *l;) {
		char *e = strchr(l, '\n');
		char *p = strstr(l, ": ");

		if (e)
			*e = '\0';
		if (p && !strncmp(p + 2, PFX, strlen(PFX)) && n < 128) {
			p += 2;
			/* "NAME@PEER: <...", "NAME: <..." */
			char *end = strstr(p, ": ");
			char *at = strchr(p, '@');

			if (at && (!end || at < end))
				end = at;
			names[n] = strndup(p, end ? (size_t)(end - p) : strlen(p));
			if (ns_ws_ingress(names[n], NULL))
				n++;
			else
				free(names[n]);
		}
		l = e ? e + 1 : NULL;
	}
	nbuf_free(&o);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t k = strlen(buf);

		snprintf(buf + k, len - k, "%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
}

/* The first member of the set "a b c" without ws_tc_egress (into name), or false. */
static bool egress_missing(const char *set, char *name, size_t len)
{
	char copy[2048], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", set);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (!ns_ws_attached(t, NULL, NULL)) {
			snprintf(name, len, "%s", t);
			return true;
		}
	return false;
}

/*
 * Wait up to ms for the set to be exactly want ("a b c", sorted) and for each
 * member to have ws_tc_egress too (wirestate attaches ingress first, egress
 * a moment later).  when: what just happened.
 */
static void expect_set(const char *want, int ms, const char *when)
{
	double end = ns_now() + ms / 1000.0, t0 = ns_now();
	char got[2048], bare[IF_NAMESIZE] = "";
	bool same, partial;

	for (;;) {
		xdp_set(got, sizeof(got));
		same = !strcmp(got, want);
		partial = same && egress_missing(want, bare, sizeof(bare));
		if ((same && !partial) || ns_now() >= end)
			break;
		np_pump(20);
	}
	NS_CHECK(same,
		 "%s: after %.2f s the interfaces carrying wirestate are {%s}, expected exactly {%s}",
		 when, ns_now() - t0, got, want);
	NS_CHECK(!partial, "%s: after %.2f s %s has wirestate's ingress program but not "
		 "ws_tc_egress", when, ns_now() - t0, bare);
}

static bool link_exists(const char *ifname)
{
	return if_nametoindex(ifname) != 0;
}

/* Wait up to ms for ifname to disappear from the host. */
static bool wait_link_gone(const char *ifname, int ms)
{
	double end = ns_now() + ms / 1000.0;

	while (link_exists(ifname)) {
		if (ns_now() >= end)
			return false;
		np_pump(20);
	}
	return true;
}

/* The file `ip netns add NAME` made (/run/netns, or /var/run/netns on old iproute2). */
static void netns_file(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "/run/netns/%s", name);
	if (access(buf, F_OK))
		snprintf(buf, len, "/var/run/netns/%s", name);
}

static uint64_t netns_inode(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	netns_file(name, path, sizeof(path));
	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

/* Wait until process pid is in the named namespace (a child setns()es after fork). */
static bool wait_pid_in_ns(pid_t pid, const char *name, int ms)
{
	char path[64];
	double end = ns_now() + ms / 1000.0;
	uint64_t want = netns_inode(name);
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	for (;;) {
		if (want && !stat(path, &st) && (uint64_t)st.st_ino == want)
			return true;
		if (ns_now() >= end)
			return false;
		ns_sleep_ms(10);
	}
}

/* A "container" NAME with eth0 whose host side is HOST (up), like topo.sh's. */
static void make_container(const char *name, const char *host)
{
	SH("ip netns add %s", name);
	SH("ip link add %s type veth peer name eth0 netns %s", host, name);
	SH("ip link set %s up && ip -n %s link set lo up && ip -n %s link set eth0 up", host, name,
	   name);
}

/*
 * The veth's host end went away while wirestate ran: it must say so, keep
 * running (or have ended with 0) and hold nothing.  If the link does not go
 * away, tell whether wirestate is what keeps the namespace alive.
 */
static void expect_ns_death_followed(struct nproc *ws, const char *host, const char *how)
{
	char said[64];
	bool gone = wait_link_gone(host, nsgone_ms());

	if (!gone) {
		np_signal(ws, SIGINT);
		np_wait_exit(ws, EXIT_MS);
		bool after = wait_link_gone(host, nsgone_ms());

		NS_CHECK(0, "%s: %s still exists %d ms later while wirestate runs; %s", how, host,
			 nsgone_ms(),
			 after ? "it went away once wirestate exited: wirestate keeps the container's "
				 "network namespace alive (it holds the namespace fd and a netlink "
				 "socket in it), so the namespace and its veths are never destroyed "
				 "while it watches"
			       : "it stayed after wirestate exited too (the kernel is slow?)");
	}
	snprintf(said, sizeof(said), "wirestate: %s: detached", host);
	NS_CHECK(np_wait_text(ws, 1, said, follow_ms()),
		 "%s: %s went away but wirestate did not report \"%s\"", how, host, said);
	np_pump(50);
	NS_CHECK(!ws->reaped || np_code(ws) == 0, "wirestate ended with %d after %s",
		 np_code(ws), how);
	expect_set("", follow_ms(), how);
}

/* ------------------------------------------------------------ traffic */

/* One connection c1 -> c2:port; both ends must succeed. */
static void run_conn(int port)
{
	struct np_opts in_c1 = { .netns = C1 }, in_c2 = { .netns = C2 };
	char ps[16];

	snprintf(ps, sizeof(ps), "%d", port);
	struct nproc *srv = np_spawn(&in_c2, ns_wsconn, "serve", SRV4, ps, "--timeout", "8", NULL);

	NS_CHECK(srv, "cannot start the server");
	NS_CHECK(np_wait_text(srv, 0, "listening", 10000), "the server is not listening");
	struct nproc *cli = np_spawn(&in_c1, ns_wsconn, "connect", SRV4, ps, "--timeout", "8",
				     NULL);

	NS_CHECK(cli, "cannot start the client");
	NS_CHECK(np_wait_exit(cli, 15000) && np_code(cli) == 0, "client: exit %d", np_code(cli));
	NS_CHECK(np_wait_exit(srv, 15000) && np_code(srv) == 0, "server: exit %d", np_code(srv));
	np_free(cli);
	np_free(srv);
}

/* The text-mode output shows the connection on ifname: its state transitions. */
static void expect_conn_seen(struct nproc *ws, const char *ifname, int port)
{
	char ps[16];

	int ms = getenv("VMTEST") ? 20000 : 5000;     /* the connection is over: its events are due */

	snprintf(ps, sizeof(ps), ":%d", port);
	NS_CHECK(np_wait_text(ws, 0, "ESTABLISHED", ms) && np_wait_text(ws, 0, "SYN_SENT", 100),
		 "no state transitions (SYN_SENT, ESTABLISHED) for the connection within %d ms", ms);
	NS_CHECK(strstr(nbuf_str(&ws->out), ifname) && strstr(nbuf_str(&ws->out), ps),
		 "the output does not name %s and port %d", ifname, port);
}

/* ------------------------------------------------------------ JSON */

static void jv_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
		(*p)++;
}

static bool jv_string(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;

	if (*s++ != '"')
		return false;
	while (*s != '"') {
		if (*s < 0x20)
			return false;   /* a raw control character, or the end of the line */
		if (*s == '\\') {
			s++;
			if (*s && strchr("\"\\/bfnrt", *s)) {
				s++;
			} else if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit(s[i]))
						return false;
				s += 5;
			} else {
				return false;
			}
		} else {
			s++;
		}
	}
	*p = (const char *)s + 1;
	return true;
}

static bool jv_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s))
			s++;
	else
		return false;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	*p = s;
	return true;
}

static bool jv_value(const char **p, int depth)
{
	static const char *const lits[] = { "true", "false", "null" };

	if (depth > 32)
		return false;
	jv_ws(p);
	if (**p == '{' || **p == '[') {
		char close = **p == '{' ? '}' : ']';
		bool obj = **p == '{';

		(*p)++;
		jv_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		for (;;) {
			jv_ws(p);
			if (obj) {
				if (!jv_string(p))
					return false;
				jv_ws(p);
				if (*(*p)++ != ':')
					return false;
			}
			if (!jv_value(p, depth + 1))
				return false;
			jv_ws(p);
			if (**p == ',') {
				(*p)++;
				continue;
			}
			if (**p != close)
				return false;
			(*p)++;
			return true;
		}
	}
	if (**p == '"')
		return jv_string(p);
	for (int i = 0; i < 3; i++)
		if (!strncmp(*p, lits[i], strlen(lits[i]))) {
			*p += strlen(lits[i]);
			return true;
		}
	return jv_number(p);
}

/* One line is exactly one JSON object (RFC 8259). */
static bool json_object_line(const char *line)
{
	const char *p = line;

	jv_ws(&p);
	if (*p != '{' || !jv_value(&p, 0))
		return false;
	jv_ws(&p);
	return *p == '\0';
}

/* ------------------------------------------------------------- tests */

/*
 * --netns NAME: wsfc1's host-side veth is attached, wsfc2's is not; a
 * connection from c1 to c2 is seen; after SIGINT nothing is left.
 */
TEST(netns_by_name)
{
	struct nproc *ws = ws_start(false, ARGS("--netns", C1), ARGS(H1));

	NS_CHECK(np_wait_text(ws, 1, "watching 1 interface of " C1, 1000),
		 "no \"watching 1 interface of %s\" on stderr", C1);
	expect_set(H1, 0, "--netns " C1);
	run_conn(5101);
	expect_conn_seen(ws, H1, 5101);
	ws_stop(ws);
	expect_set("", 0, "after SIGINT");
	NS_ASSERT_CLEAN(H1);
	NS_ASSERT_CLEAN(H2);
}

/* --pid PID of a process in wsfc1: the same as --netns wsfc1. */
TEST(pid_of_container_process)
{
	struct np_opts in_c1 = { .netns = C1 };
	struct nproc *sleeper = np_spawn(&in_c1, "sleep", "30", NULL);
	char pid[16], label[48];

	NS_CHECK(sleeper, "cannot start sleep in %s", C1);
	NS_CHECK(wait_pid_in_ns(sleeper->pid, C1, 5000), "sleep did not enter %s", C1);
	snprintf(pid, sizeof(pid), "%d", (int)sleeper->pid);
	snprintf(label, sizeof(label), "watching 1 interface of pid %s", pid);
	struct nproc *ws = ws_start(false, ARGS("--pid", pid), ARGS(H1));

	NS_CHECK(np_wait_text(ws, 1, label, 1000), "no \"%s\" on stderr", label);
	expect_set(H1, 0, "--pid (a process in " C1 ")");
	run_conn(5102);
	expect_conn_seen(ws, H1, 5102);
	ws_stop(ws);
	expect_set("", 0, "after SIGINT");
	NS_ASSERT_CLEAN(H1);
	NS_ASSERT_CLEAN(H2);
}

/* --pid of a host process, of no process: refused with exit 1, nothing attached. */
TEST(pid_refused)
{
	char self[16];

	snprintf(self, sizeof(self), "%d", (int)getpid());
	struct nproc *ws = ws_spawn(false, ARGS("--pid", self));

	NS_CHECK(np_wait_exit(ws, ATTACH_MS), "--pid %s (the host's namespace) did not end", self);
	NS_CHECK(np_code(ws) == 1, "--pid of a host process: exit %d, expected 1", np_code(ws));
	NS_CHECK(strstr(nbuf_str(&ws->err), "own network namespace") &&
		 strstr(nbuf_str(&ws->err), "-i IFACE"),
		 "--pid of a host process: no clear message:\n%s", nbuf_str(&ws->err));
	NS_CHECK(!strstr(nbuf_str(&ws->err), "watching"), "it claims to watch something");
	np_free(ws);

	ws = ws_spawn(false, ARGS("--pid", "2147483647"));
	NS_CHECK(np_wait_exit(ws, ATTACH_MS), "--pid of no process did not end");
	NS_CHECK(np_code(ws) == 1 && strstr(nbuf_str(&ws->err), "no such process"),
		 "--pid of no process: exit %d, expected 1 with \"no such process\":\n%s",
		 np_code(ws), nbuf_str(&ws->err));
	np_free(ws);
	expect_set("", 0, "after refused --pid");
}

/*
 * --netns wsfc1 while veths come and go: one added with its peer in wsfc1
 * (attached, reported), one into wsfc2 (not), one whose peer is moved in
 * later (attached), deleted (reported, dropped), moved out (dropped).
 */
TEST(netns_follows_veths)
{
	char buf[128];
	struct nproc *ws = ws_start(false, ARGS("--netns", C1), ARGS(H1));

	expect_set(H1, 0, "at start");

	SH("ip link add wsfx1 type veth peer name eth1 netns " C1);
	expect_set(H1 " wsfx1", follow_ms(), "a veth added with its peer in " C1);
	NS_CHECK(np_wait_text(ws, 1, "wirestate: wsfx1: attached", follow_ms()),
		 "no \"wsfx1: attached\" on stderr within %d ms", follow_ms());

	/* not ours: a veth into the other container; then one whose peer moves in */
	SH("ip link add wsfx2 type veth peer name eth1 netns " C2);
	SH("ip link add wsfx3 type veth peer name wsfx4 && ip link set wsfx4 netns " C1);
	expect_set(H1 " wsfx1 wsfx3", follow_ms(),
		   "wsfx2 added into " C2 ", wsfx3's peer moved into " C1);
	NS_CHECK(np_wait_text(ws, 1, "wirestate: wsfx3: attached", follow_ms()),
		 "no \"wsfx3: attached\" on stderr");
	NS_CHECK(!strstr(nbuf_str(&ws->err), "wsfx2"), "wsfx2 (into %s) was mentioned:\n%s", C2,
		 nbuf_str(&ws->err));

	SH("ip link del wsfx1");
	NS_CHECK(np_wait_text(ws, 1, "wirestate: wsfx1: detached: the interface went away",
			      follow_ms()),
		 "no \"wsfx1: detached: the interface went away\" within %d ms", follow_ms());
	expect_set(H1 " wsfx3", follow_ms(), "wsfx1 deleted");
	NS_CHECK(np_running(ws), "wirestate ended after a veth was deleted");

	/* wsfx3's peer leaves wsfc1: wsfx3 is no longer the container's */
	SH("ip -n " C1 " link set wsfx4 netns " C2);
	expect_set(H1, follow_ms(), "wsfx3's peer moved from " C1 " to " C2);
	np_pump(200);
	if (!np_wait_text(ws, 1, "wsfx3: detached", 10))
		fprintf(stderr, "# note: wsfx3 was dropped without a report (its peer left %s)\n",
			C1);
	NS_CHECK(np_running(ws), "wirestate ended");
	ws_stop(ws);
	expect_set("", 0, "after SIGINT");
	NS_ASSERT_CLEAN(H1);
	NS_ASSERT_CLEAN("wsfx2");
	NS_ASSERT_CLEAN("wsfx3");
	snprintf(buf, sizeof(buf), "%d", ns_count(nbuf_str(&ws->err), "wsfx3: attached"));
	NS_CHECK(!strcmp(buf, "1"), "wsfx3 reported attached %s times", buf);
}

/*
 * --netns on an empty namespace waits; its first veth is attached; then the
 * namespace is deleted (`ip netns del`): the kernel destroys it and its veths,
 * wirestate reports the host side gone and keeps running.
 */
TEST(netns_deleted_while_attached)
{
	SH("ip netns add " C3);
	struct nproc *ws = ws_start(false, ARGS("--netns", C3), NULL);

	NS_CHECK(np_wait_text(ws, 1, "waiting for one", 1000),
		 "--netns of a namespace without veths: no \"waiting\" message");
	expect_set("", 0, "an empty namespace");
	SH("ip link add " H3 " type veth peer name eth0 netns " C3);
	expect_set(H3, follow_ms(), "the first veth of " C3);
	NS_CHECK(np_wait_text(ws, 1, "wirestate: " H3 ": attached", follow_ms()),
		 "no \"%s: attached\"", H3);

	SH("ip netns del " C3);
	expect_ns_death_followed(ws, H3, "ip netns del " C3);
	NS_CHECK(np_running(ws), "--netns: wirestate ended when the namespace went away");
	ws_stop(ws);
	expect_set("", 0, "after SIGINT");
}

/*
 * --pid of the only process of an (unnamed) namespace: the process ends, the
 * namespace and its veth with it; wirestate reports the veth gone.
 */
TEST(pid_namespace_dies_with_process)
{
	struct np_opts in_c4 = { .netns = C4 };
	char pid[16];

	make_container(C4, H4);
	struct nproc *sleeper = np_spawn(&in_c4, "sleep", "30", NULL);

	NS_CHECK(sleeper, "cannot start sleep in %s", C4);
	NS_CHECK(wait_pid_in_ns(sleeper->pid, C4, 5000), "sleep did not enter %s", C4);
	SH("ip netns del " C4);         /* now the process alone holds it */
	snprintf(pid, sizeof(pid), "%d", (int)sleeper->pid);
	struct nproc *ws = ws_start(false, ARGS("--pid", pid), ARGS(H4));

	expect_set(H4, 0, "--pid of the process in " C4);
	kill(sleeper->pid, SIGKILL);
	NS_CHECK(np_wait_exit(sleeper, 5000), "sleep did not die");
	expect_ns_death_followed(ws, H4, "the namespace's only process ended");
	ws_stop(ws);
}

/*
 * ifindex collision: the host veth wsfxa (index X) has its peer in wsfc2 at
 * index P, and wsfc1 holds a veth of index P whose peer (in wsfc2) has index
 * X.  Each "names the other", but wsfxa is not wsfc1's: it must not be
 * attached, at start or when it appears later.
 */
TEST(ifindex_collision_not_attached)
{
	int X = 0, P = 0;
	struct nbuf o = {};

	/* indexes free in the host (X), wsfc1 (P) and wsfc2 (both) */
	for (int base = 28400 + (int)(getpid() % 100) * 10; base < 60000 && !X; base += 1000) {
		char xs[16], ps[16];

		snprintf(xs, sizeof(xs), "%d", base);
		snprintf(ps, sizeof(ps), "%d", base + 1);
		o.len = 0;
		if (nsh(&o, 10000, "ip link add wsfxa index %s type veth peer name wsfxb netns %s "
			"index %s", xs, C2, ps) == 0) {
			X = base;
			P = base + 1;
		}
	}
	NS_CHECK(X, "cannot create a veth with a chosen ifindex: %s", nbuf_str(&o));
	nbuf_free(&o);
	/* wirestate starts with the collision in place */
	SH("ip -n %s link add wsfxc index %d type veth peer name wsfxd netns %s index %d", C1, P,
	   C2, X);
	struct nproc *ws = ws_start(false, ARGS("--netns", C1), ARGS(H1));

	expect_set(H1, 0, "at start, with the host veth wsfxa (index X) whose peer in " C2
		   " has the index P of a veth in " C1 " whose own peer has index X");
	/* and when a colliding veth appears later (then a real one, so we know it has looked) */
	SH("ip link del wsfxa");
	SH("ip link add wsfxa index %d type veth peer name wsfxb netns %s index %d", X, C2, P);
	SH("ip link add wsfx9 type veth peer name eth9 netns %s", C1);
	expect_set(H1 " wsfx9", follow_ms(), "the colliding wsfxa re-created, then wsfx9 into "
		   C1);
	ws_stop(ws);
	expect_set("", 0, "after SIGINT");
}

/*
 * -i: a deleted interface is reported and dropped; when the last one goes,
 * wirestate says "no interface left" and exits by itself.
 */
TEST(iface_mode_exits_when_none_left)
{
	SH("ip link add wsfxa type veth peer name wsfxb && ip link add wsfxc type veth peer name "
	   "wsfxd");
	struct nproc *ws = ws_start(false, ARGS("-i", "wsfxa", "-i", "wsfxc"),
				    ARGS("wsfxa", "wsfxc"));

	expect_set("wsfxa wsfxc", 0, "-i wsfxa -i wsfxc");
	SH("ip link del wsfxa");
	NS_CHECK(np_wait_text(ws, 1, "wirestate: wsfxa: detached: the interface went away",
			      follow_ms()),
		 "no \"wsfxa: detached\" within %d ms", follow_ms());
	expect_set("wsfxc", follow_ms(), "wsfxa deleted");
	NS_CHECK(np_running(ws), "wirestate ended while wsfxc is left");
	NS_CHECK(!strstr(nbuf_str(&ws->err), "no interface left"), "\"no interface left\" too early");

	SH("ip link del wsfxc");
	NS_CHECK(np_wait_text(ws, 1, "wirestate: wsfxc: detached", follow_ms()),
		 "no \"wsfxc: detached\"");
	NS_CHECK(np_wait_exit(ws, follow_ms() + 1000),
		 "wirestate still runs with no interface left");
	NS_CHECK(strstr(nbuf_str(&ws->err), "no interface left"),
		 "no \"no interface left\" message:\n%s", nbuf_str(&ws->err));
	NS_CHECK(np_code(ws) == 0, "exit %d when the last interface went away (expected 0)",
		 np_code(ws));
	expect_set("", 0, "after the exit");
}

/* --all-veth: every veth of the host, and new ones; never a bridge. */
TEST(all_veth)
{
	struct nbuf o = {};
	char *veths[129];
	int n = 0, foreign = 0;
	uint32_t xdp = 0;

	nsh(&o, 10000, "ip -o link show type veth");
	for (char *l = o.s; l && *l;) {
		char *e = strchr(l, '\n');
		char *p = strstr(l, ": ");

		if (e)
			*e = '\0';
		if (p && n < 128) {
			p += 2;
			size_t k = strcspn(p, "@:");

			veths[n++] = strndup(p, k);
			if (strncmp(p, PFX, strlen(PFX)))
				foreign++;
		}
		l = e ? e + 1 : NULL;
	}
	nbuf_free(&o);
	const char *env = getenv("WS_TEST_ALL_VETH");

	if (foreign && !(env && !strcmp(env, "1"))) {
		fprintf(stderr, "# skip: --all-veth would attach to %d veth(s) of others on this "
			"host (another test suite running?); set WS_TEST_ALL_VETH=1 to run it anyway\n",
			foreign);
		for (int i = 0; i < n; i++)
			free(veths[i]);
		skip();
	}
	veths[n] = NULL;
	struct nproc *ws = ws_start(false, ARGS("--all-veth"), (const char *const *)veths);

	NS_CHECK(ns_ws_attached(H1, &xdp, NULL), "%s not attached", H1);
	expect_set(H1 " " H2, 0, "--all-veth");       /* and not the bridge wsfbr */
	SH("ip link add wsfxa type veth peer name wsfxb");
	expect_set(H1 " " H2 " wsfxa wsfxb", follow_ms(), "a veth pair added");
	NS_CHECK(np_wait_text(ws, 1, "wsfxa: attached", follow_ms()) &&
		 np_wait_text(ws, 1, "wsfxb: attached", follow_ms()),
		 "the new pair was not reported attached");
	SH("ip link add wsfxn type bridge");
	SH("ip link del wsfxa");
	NS_CHECK(np_wait_text(ws, 1, "wsfxa: detached", follow_ms()) &&
		 np_wait_text(ws, 1, "wsfxb: detached", follow_ms()),
		 "the deleted pair was not reported detached");
	expect_set(H1 " " H2, follow_ms(), "the pair deleted, a bridge added");
	NS_CHECK(np_running(ws), "wirestate ended");
	ws_stop(ws);
	expect_set("", 0, "after SIGINT");
	for (int i = 0; i < n; i++) {
		if (!strncmp(veths[i], PFX, strlen(PFX)))
			NS_ASSERT_CLEAN(veths[i]);
		free(veths[i]);
	}
	NS_CHECK(ns_wait_prog_gone(xdp, 5000), "wirestate's ingress program %u still exists", xdp);
}

/*
 * JSON: every line is JSON; a veth added to and deleted from wsfc1 gives one
 * {"type":"iface","event":"attached"} and one "detached" line, naming it,
 * the container and its namespace.
 */
TEST(json_iface_lines)
{
	struct nlines L;
	int att = 0, det = 0;
	uint64_t ino = netns_inode(C1);
	struct nproc *ws = ws_start(true, ARGS("--netns", C1), ARGS(H1));

	SH("ip link add wsfx1 type veth peer name eth1 netns " C1);
	NS_CHECK(np_wait_text(ws, 0, "\"event\":\"attached\"", follow_ms()),
		 "no iface attached line within %d ms", follow_ms());
	expect_set(H1 " wsfx1", follow_ms(), "wsfx1 added");
	SH("ip link del wsfx1");
	NS_CHECK(np_wait_text(ws, 0, "\"event\":\"detached\"", follow_ms()),
		 "no iface detached line within %d ms", follow_ms());
	ws_stop(ws);
	nlines_split(&L, nbuf_str(&ws->out));
	for (int i = 0; i < L.n; i++) {
		const char *l = L.v[i];

		NS_CHECK(json_object_line(l), "line %d is not a JSON object: %s", i + 1, l);
		if (!jis(l, "type", "iface"))
			continue;
		NS_CHECK(jis(l, "ifname", "wsfx1"), "iface line for another interface: %s", l);
		NS_CHECK(jis(l, "container", C1), "iface line without \"container\":\"%s\": %s", C1,
			 l);
		NS_CHECK(jnum(l, "netns") == (long long)ino, "\"netns\" is not %llu: %s",
			 (unsigned long long)ino, l);
		char ts[64];

		NS_CHECK(jget(l, "ts", ts, sizeof(ts)) && strlen(ts) > 20 && ts[10] == 'T',
			 "no RFC 3339 ts: %s", l);
		if (jis(l, "event", "attached"))
			att++;
		else if (jis(l, "event", "detached"))
			det++;
		else
			NS_CHECK(0, "unexpected event: %s", l);
	}
	NS_CHECK(att == 1 && det == 1, "%d attached and %d detached lines, expected 1 and 1", att,
		 det);
	NS_CHECK(L.n > 0 && jis(L.v[L.n - 1], "type", "stats"), "the last line is not stats");
	nlines_free(&L);
	expect_set("", 0, "after SIGINT");
}

/*
 * JSON strings must be escaped in iface lines too: an interface name with
 * '"' and '\' (both legal in Linux names), a --netns path with them, and the
 * "not attached" detail, which quotes the name of the program already there.
 */
TEST(json_iface_lines_escaped)
{
	static const char qname[] = "wsfx\"q\\1";      /* wsfx"q\1 */
	char path[PATH_MAX + 32], target[PATH_MAX], bad[4096] = "";
	struct nlines L;
	int att = 0, det = 0, notatt = 0;

	netns_file(C1, target, sizeof(target));
	snprintf(path, sizeof(path), "%s/ns\"q\\1", ns_tmpdir);
	NS_CHECK(!symlink(target, path), "symlink %s: %s", path, strerror(errno));
	/*
	 * a foreign XDP program: another wirestate on wsfx5, whose peer then
	 * moves into c1 (both on XDP: TC programs would share the interface)
	 */
	SH("ip link add wsfx5 type veth peer name wsfx6");
	struct nproc *other = ws_start(false, ARGS("-i", "wsfx5", "--ingress", "xdp"), ARGS("wsfx5"));
	struct nproc *ws = ws_start(true, ARGS("--netns", path, "--ingress", "xdp"), ARGS(H1));

	SH("ip link add '%s' type veth peer name eth1 netns %s", qname, C1);
	NS_CHECK(np_wait_text(ws, 0, "\"event\":\"attached\"", follow_ms()),
		 "no iface attached line within %d ms", follow_ms());
	SH("ip link set wsfx6 netns %s", C1);
	NS_CHECK(np_wait_text(ws, 0, "\"event\":\"not attached\"", follow_ms()),
		 "no iface \"not attached\" line for wsfx5 (taken by another program)");
	SH("ip link del '%s'", qname);
	NS_CHECK(np_wait_text(ws, 0, "\"event\":\"detached\"", follow_ms()),
		 "no iface detached line within %d ms", follow_ms());
	ws_stop(ws);
	ws_stop(other);
	nlines_split(&L, nbuf_str(&ws->out));
	for (int i = 0; i < L.n; i++) {
		const char *l = L.v[i];
		size_t k = strlen(bad);

		if (!json_object_line(l)) {
			snprintf(bad + k, sizeof(bad) - k, "  %s\n", l);
			continue;
		}
		if (!jis(l, "type", "iface"))
			continue;
		NS_CHECK(jis(l, "container", path), "\"container\" is not the path %s: %s", path, l);
		if (jis(l, "event", "not attached")) {
			notatt++;
			NS_CHECK(jis(l, "ifname", "wsfx5"), "not attached: another interface: %s", l);
			continue;
		}
		NS_CHECK(jis(l, "ifname", qname), "\"ifname\" is not %s: %s", qname, l);
		att += jis(l, "event", "attached");
		det += jis(l, "event", "detached");
	}
	nlines_free(&L);
	NS_CHECK(!bad[0], "lines that are not JSON (strings not escaped):\n%s", bad);
	NS_CHECK(att == 1 && det == 1 && notatt >= 1,
		 "%d attached, %d detached, %d not attached lines", att, det, notatt);
	expect_set("", 0, "after SIGINT");
	unlink(path);
}

/* ------------------------------------------------------------ fixtures */

/* Links and namespaces of the tests, beyond topo.sh's; the base topology stays. */
static void remove_extras(void)
{
	nsh(NULL, 20000,
	    "for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do "
	    "  case \"$ns\" in "
	    "  %s|%s) ip -n \"$ns\" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | "
	    "      while IFS= read -r l; do case \"$l\" in lo|eth0) ;; "
	    "      *) ip -n \"$ns\" link del \"$l\" 2>/dev/null ;; esac; done ;; "
	    "  %s*) ip netns del \"$ns\" 2>/dev/null ;; "
	    "  esac; "
	    "done; "
	    "ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | "
	    "  while IFS= read -r l; do case \"$l\" in %sx*|%s|%s) ip link del \"$l\" 2>/dev/null ;; "
	    "  esac; done; true",
	    C1, C2, PFX, PFX, H3, H4);
}

static const struct ns_suite suite = {
	.who = "test_follow",
	.prefix = PFX,
	.lock = true,
	.containers = 2,
	.tmpdir = true,
	.tcx_ifname = H1,
	.flush_neigh = 0,               /* the neighbour tables are left as they are */
	.reset_tc = 2,
	.extra = "x",                   /* remove_extras()'s PFX "x*" count as leftovers too */
	.cleanup = remove_extras,
};

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		NS_TEST(netns_by_name),
		NS_TEST(pid_of_container_process),
		NS_TEST(pid_refused),
		NS_TEST(netns_follows_veths),
		NS_TEST(netns_deleted_while_attached),
		NS_TEST(pid_namespace_dies_with_process),
		NS_TEST(ifindex_collision_not_attached),
		NS_TEST(iface_mode_exits_when_none_left),
		NS_TEST(all_veth),
		NS_TEST(json_iface_lines),
		NS_TEST(json_iface_lines_escaped),
	};

	(void)argc;
	if (ns_main_begin(argv[0], &suite))
		return 1;
	return cmocka_run_group_tests(tests, ns_group_setup, ns_group_teardown);
}
