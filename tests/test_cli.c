// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Command-line behaviour of the real build/wirestate: usage errors (exit 2),
 * runtime errors (exit 1) with a message on stderr that says what is wrong,
 * --help/--version, stopping by itself (-c, --duration), a stdout whose
 * reader went away, missing privileges, captures it cannot read, and
 * attachment conflicts: an interface that already carries another XDP
 * program is refused and its owner keeps running, and a failure on one of
 * several interfaces leaves nothing attached to the others.
 *
 * The live cases use two "containers" (namespaces wscc1 = 172.17.0.2 and
 * wscc2 = 172.17.0.3, host veths wsch1/wsch2 on bridge wscbr); everything is
 * removed at the end, also on failure (see nstest.h).  Needs root.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nstest.h"
#include "frames.h"
#include "ws_user.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

#define PFX "wsc"
#define H1 PFX "h1"
#define H2 PFX "h2"
#define C1 PFX "c1"
#define C2 PFX "c2"
#define BR PFX "br"
#define SRV4 "172.17.0.3"
#define NOIF "nosuchif0"

#define ATTACH_MS 30000
#define RUN_MS 30000            /* a run that fails must fail well within this */

/* ------------------------------------------------------------- helpers */

static char *ws_argv[64];

/* argv for wirestate: args is NULL-ended, without argv[0] */
static char **ws_args(const char *const *args)
{
	int n = 0;

	ws_argv[n++] = ns_wirestate;
	for (int i = 0; args[i] && n < 63; i++)
		ws_argv[n++] = (char *)args[i];
	ws_argv[n] = NULL;
	return ws_argv;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Run wirestate to its end (it must end within RUN_MS). */
static struct nproc *ws_run(const char *const *args)
{
	struct nproc *p = np_spawnv(NULL, ws_args(args));

	NS_CHECK(p, "cannot start wirestate");
	NS_CHECK(np_wait_exit(p, RUN_MS), "wirestate did not end within %d ms", RUN_MS);
	return p;
}

/* Start wirestate, and wait until it is attached to every interface of ifs. */
static struct nproc *ws_start(const struct np_opts *o, const char *const *args,
			      const char *const *ifs)
{
	struct nproc *p = np_spawnv(o, ws_args(args));

	NS_CHECK(p, "cannot start wirestate");
	NS_CHECK(ns_wait_attached(p, ifs, ATTACH_MS), "wirestate did not attach to %s", ifs[0]);
	return p;
}

static void describe(char *buf, size_t n, const char *const *args)
{
	size_t k = 0;

	buf[0] = '\0';
	for (int i = 0; args[i] && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? " " : "", args[i]);
}

/* The run ends with exit status `code` and stderr contains every needle. */
static struct nproc *expect_exit(int code, const char *const *args, const char *const *needles)
{
	char cmd[512];
	struct nproc *p = ws_run(args);

	describe(cmd, sizeof(cmd), args);
	NS_CHECK(np_code(p) == code, "wirestate %s: exit %d, expected %d", cmd, np_code(p), code);
	for (int i = 0; needles && needles[i]; i++)
		NS_CHECK(strstr(nbuf_str(&p->err), needles[i]),
			 "wirestate %s: stderr does not mention \"%s\":\n%s", cmd, needles[i],
			 nbuf_str(&p->err));
	return p;
}

/* A usage error: exit 2, the offending option named on stderr, nothing on stdout. */
static void expect_usage(const char *const *args, const char *option)
{
	struct nproc *p = expect_exit(2, args, ARGS(option));

	NS_CHECK(p->out.len == 0, "a usage error printed to stdout: %s", nbuf_str(&p->out));
	np_free(p);
}

/* A connection to a port of container 2 where nothing listens (refused: events, quickly). */
static void refused_connect(int port)
{
	struct np_opts in_c1 = { .netns = C1 };
	char ps[16];

	snprintf(ps, sizeof(ps), "%d", port);
	struct nproc *c = np_spawn(&in_c1, ns_wsconn, "connect", SRV4, ps, "--timeout", "5", NULL);

	NS_CHECK(c && np_wait_exit(c, 10000), "the client did not finish");
	NS_CHECK(np_code(c) == 3, "the client exited %d, expected 3 (refused)", np_code(c));
	np_free(c);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------ usage */

TEST(no_arguments)
{
	struct nproc *p = ws_run(ARGS(NULL));

	NS_CHECK(np_code(p) == 2, "no arguments: exit %d, expected 2", np_code(p));
	NS_CHECK(strstr(nbuf_str(&p->err), "-i IFACE") && strstr(nbuf_str(&p->err), "--help"),
		 "no arguments: stderr says neither what to give nor where help is:\n%s",
		 nbuf_str(&p->err));
	NS_CHECK(p->out.len == 0, "no arguments: something on stdout");
}

TEST(unknown_option)
{
	expect_usage(ARGS("--bogus", "-i", NOIF), "--bogus");
	expect_usage(ARGS("-i", NOIF, "stray"), "stray");
}

TEST(help_exits_0)
{
	struct nproc *p = ws_run(ARGS("--help"));

	NS_CHECK(np_code(p) == 0, "--help: exit %d", np_code(p));
	NS_CHECK(strstr(nbuf_str(&p->out), "Usage") && strstr(nbuf_str(&p->out), "--interface") &&
		 strstr(nbuf_str(&p->out), "--json"), "--help: no usage text on stdout");
	NS_CHECK(p->err.len == 0, "--help wrote to stderr: %s", nbuf_str(&p->err));
	np_free(p);
	p = ws_run(ARGS("-h"));
	NS_CHECK(np_code(p) == 0 && strstr(nbuf_str(&p->out), "Usage"), "-h: exit %d", np_code(p));
}

TEST(version)
{
	for (int i = 0; i < 2; i++) {
		struct nproc *p = ws_run(i ? ARGS("-V") : ARGS("--version"));
		const char *o = nbuf_str(&p->out);

		NS_CHECK(np_code(p) == 0, "--version: exit %d", np_code(p));
		NS_CHECK(!strncmp(o, "wirestate ", 10) && o[10] >= '0' && o[10] <= '9',
			 "--version prints \"%s\", not \"wirestate N...\"", o);
		np_free(p);
	}
}

TEST(no_such_interface)
{
	expect_exit(1, ARGS("-i", NOIF), ARGS(NOIF, "no such interface"));
}

TEST(interface_and_read_conflict)
{
	expect_usage(ARGS("-i", NOIF, "-r", "/nonexistent.pcap"), "-r");
	expect_usage(ARGS("-r", "/nonexistent.pcap", "-i", NOIF), "-i");
}

/* Each bad value is refused before anything else (the interface does not even exist). */
TEST(bad_count)
{
	static const char *const bad[] = { "0", "-1", "abc", "1x", "", "2.5" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_usage(ARGS("--count", bad[i], "-i", NOIF), "--count");
		expect_usage(ARGS("-c", bad[i], "-i", NOIF), "--count");
	}
}

TEST(bad_duration)
{
	static const char *const bad[] = { "0", "-1", "abc", "nan", "", "1s" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_usage(ARGS("--duration", bad[i], "-i", NOIF), "--duration");
		expect_usage(ARGS("-d", bad[i], "-i", NOIF), "--duration");
	}
}

TEST(bad_ingress)
{
	expect_usage(ARGS("--ingress", "ebpf", "-i", NOIF), "--ingress must be auto, xdp or tc");
	expect_usage(ARGS("--ingress", "tc", "--xdp-mode", "native", "-i", NOIF), "--xdp-mode");
}

TEST(bad_ringbuf_size)
{
	/* not a power of two, below 4K, above 1G, not a number, negative */
	static const char *const bad[] = { "1000", "2K", "2G", "abc", "0", "-4096", "3M", "1T" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_usage(ARGS("--ringbuf-size", bad[i], "-i", NOIF), "--ringbuf-size");
}

/*
 * A value too big for its option must be refused, not wrapped into range:
 * --flows 4294967312 is 2^32 + 16, which a cast to unsigned turns into 16;
 * 17592186044417M is (2^44 + 1) * 2^20 = 2^64 + 2^20, which the suffix shift
 * turns into 1M.
 */
TEST(numeric_options_do_not_wrap)
{
	expect_usage(ARGS("--flows", "15", "-i", NOIF), "--flows");
	expect_usage(ARGS("--snaplen", "13", "-i", NOIF), "--snaplen");
	expect_usage(ARGS("--flows", "4294967312", "-i", NOIF), "--flows");
	expect_usage(ARGS("--snaplen", "4294967310", "-i", NOIF), "--snaplen");
	expect_usage(ARGS("--time-wait", "4294967296", "-i", NOIF), "--time-wait");
	expect_usage(ARGS("--ringbuf-size", "17592186044417M", "-i", NOIF), "--ringbuf-size");
	expect_usage(ARGS("--count", "17592186044417M", "-i", NOIF), "--count");
}

/* ---------------------------------------------------------- privileges */

TEST(not_root)
{
	struct nbuf v = {};
	struct nproc *p;
	bool setpriv = nsh(&v, 5000, "setpriv --version 2>&1") == 0 &&
		       strstr(nbuf_str(&v), "util-linux");

	nbuf_free(&v);
	if (setpriv) {
		p = np_spawn(NULL, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			     ns_wirestate, "-i", H1, NULL);
	} else {
		/* no util-linux setpriv (busybox): setuid in the child itself */
		struct np_opts o = { .drop_root = true };

		p = np_spawn(&o, ns_wirestate, "-i", H1, NULL);
	}
	NS_CHECK(p && np_wait_exit(p, RUN_MS), "wirestate without root did not end");
	NS_CHECK(np_code(p) == 1, "without root: exit %d, expected 1", np_code(p));
	NS_CHECK(strstr(nbuf_str(&p->err), "CAP_BPF"), "without root: stderr does not name "
		 "CAP_BPF:\n%s", nbuf_str(&p->err));
	NS_ASSERT_CLEAN(H1);
}

/* ------------------------------------------------------------- captures */

TEST(read_missing_file)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/missing.pcap", ns_tmpdir);
	expect_exit(1, ARGS("-r", path), ARGS(path, strerror(ENOENT)));
}

/*
 * The flow table's evictions are counted: the SYNs of 40 connections
 * replayed through a table of 16 (--flows 16, the least).  The programs
 * never delete a flow, so evicted = inserted - held, and both the JSON stats
 * and the summary on stderr say how many.
 */
TEST(read_flow_table_evictions)
{
	char path[PATH_MAX + 32], want[96];
	struct ws_pcap_writer w;
	uint8_t f[FR_BUF_MIN];

	snprintf(path, sizeof(path), "%s/forty.pcap", ns_tmpdir);
	NS_CHECK(!ws_pcap_create(&w, path, 65535, false), "cannot create %s", path);
	for (int i = 0; i < 40; i++) {
		struct tcpspec sp = { .family = 4, .src = "10.0.0.1", .dst = "10.0.0.2",
				      .sport = (uint16_t)(40000 + i), .dport = 80,
				      .seq = 1000u * (uint32_t)i, .flags = WS_TCP_SYN };
		size_t n = fr_tcp(f, &sp);

		NS_CHECK(!ws_pcap_write(&w, 1700000000000000000ull + (uint64_t)i * 1000, f,
					(uint32_t)n, (uint32_t)n), "cannot write %s", path);
	}
	NS_CHECK(!ws_pcap_finish(&w), "cannot write %s", path);

	struct nproc *p = expect_exit(0, ARGS("-r", path, "--flows", "16", "--json"), NULL);
	const char *st = strstr(nbuf_str(&p->out), "{\"type\":\"stats\"");

	NS_CHECK(st, "no stats line:\n%s", nbuf_str(&p->out));
	long long flows = jnum(st, "flows"), held = jnum(st, "flows_held");
	long long evicted = jnum(st, "flows_evicted");

	NS_CHECK(flows == 40 && held > 0 && held <= 16 && evicted == flows - held &&
		 jnum(st, "flow_table_size") == 16 && jnum(st, "flow_insert_failures") == 0,
		 "stats: %s", st);
	snprintf(want, sizeof(want), ", %lld evicted (the flow table holds 16; --flows)", evicted);
	NS_CHECK(strstr(nbuf_str(&p->err), want), "stderr does not say \"%s\":\n%s", want,
		 nbuf_str(&p->err));
	np_free(p);

	/* a table big enough: nothing evicted, and the summary does not mention it */
	p = expect_exit(0, ARGS("-r", path, "--json"), NULL);
	st = strstr(nbuf_str(&p->out), "{\"type\":\"stats\"");
	NS_CHECK(st && jnum(st, "flows_held") == 40 && jnum(st, "flows_evicted") == 0,
		 "stats: %s", st ? st : nbuf_str(&p->out));
	NS_CHECK(!strstr(nbuf_str(&p->err), "evicted"), "stderr: %s", nbuf_str(&p->err));
	np_free(p);
}

TEST(read_not_a_pcap)
{
	static const char text[] = "this is a text file, not a capture of any kind\n";
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/text.pcap", ns_tmpdir);
	write_file(path, text, sizeof(text) - 1);
	expect_exit(1, ARGS("-r", path), ARGS(path, "not a pcap"));
	/* shorter than a pcap file header */
	write_file(path, "\xd4\xc3\xb2\xa1\x02\x00", 6);
	struct nproc *p = expect_exit(1, ARGS("-r", path), ARGS(path));

	NS_CHECK(p->out.len == 0 || strstr(nbuf_str(&p->out), "stats"),
		 "events from a 6-byte file: %s", nbuf_str(&p->out));
}

TEST(read_pcapng)
{
	/* a Section Header Block and an Interface Description Block (Ethernet) */
	static const unsigned char ng[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
		1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 0, 0,
	};
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/capture.pcapng", ns_tmpdir);
	write_file(path, ng, sizeof(ng));
	expect_exit(1, ARGS("-r", path), ARGS("pcapng"));
}

/* -w never overwrites: an existing file is an error before anything is attached. */
TEST(write_refuses_existing_file)
{
	static const char keep[] = "precious\n";
	char path[PATH_MAX + 32], buf[64] = "";

	snprintf(path, sizeof(path), "%s/exists.pcap", ns_tmpdir);
	write_file(path, keep, sizeof(keep) - 1);
	expect_exit(1, ARGS("-i", H1, "-w", path), ARGS(path, strerror(EEXIST)));
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[n] = '\0';
	NS_CHECK(!strcmp(buf, keep), "-w changed an existing file");
	NS_ASSERT_CLEAN(H1);
}

/* ---------------------------------------------------------- attachment */

/*
 * A second wirestate on an interface the first one holds: refused with a
 * message naming the program there, and the first keeps running, attached
 * and reporting.
 */
TEST(foreign_xdp_refused)
{
	const char *ifs[] = { H2, NULL };
	uint32_t xdp = 0, tc = 0, ids[8];
	char idstr[32];

	/* XDP on the veth, whatever the default there (an XDP program is one per interface) */
	struct nproc *a = ws_start(NULL, ARGS("-i", H2, "--ingress", "xdp"), ifs);

	NS_CHECK(ns_ws_attached(H2, &xdp, &tc), "the first wirestate is not attached");
	snprintf(idstr, sizeof(idstr), "%u", xdp);
	struct nproc *b = ws_run(ARGS("-i", H2, "--ingress", "xdp"));

	NS_CHECK(np_code(b) == 1, "the second wirestate: exit %d, expected 1", np_code(b));
	NS_CHECK(strstr(nbuf_str(&b->err), H2) && strstr(nbuf_str(&b->err), "ws_xdp") &&
		 strstr(nbuf_str(&b->err), idstr),
		 "the refusal does not name the interface and the program there (ws_xdp, id %u):\n%s",
		 xdp, nbuf_str(&b->err));
	NS_CHECK(!strstr(nbuf_str(&b->err), "watching"), "the second wirestate claims to watch");
	NS_CHECK(np_running(a), "the first wirestate ended");
	NS_CHECK(ns_xdp_prog(H2) == xdp, "the XDP program on %s changed", H2);
	NS_CHECK(ns_egress_progs(H2, ids, 8) == 1 && ids[0] == tc,
		 "TC egress of %s is not the first wirestate's program alone", H2);
	/* and it still sees traffic */
	refused_connect(6001);
	NS_CHECK(np_wait_text(a, 0, "SYN_SENT", 5000), "the first wirestate reports nothing");
	np_signal(a, SIGINT);
	NS_CHECK(np_wait_exit(a, 10000) && np_code(a) == 0, "the first wirestate: exit %d",
		 np_code(a));
	NS_ASSERT_CLEAN(H2);
}

/*
 * The default ingress hook follows the interface: a veth gets TC ingress
 * where the kernel has tcx (generic XDP would copy every skb), anything else
 * XDP (here a bridge); --xdp-mode asks for XDP on the veth too.  Where the
 * veth gets TC, a bridge and its port can be watched at once, and a second
 * wirestate on the veth runs beside the first (TC programs are not one per
 * interface); both see the same connection.
 */
TEST(default_ingress_by_kind)
{
	const char *ifs[] = { H2, BR, NULL }, *veth[] = { H2, NULL }, *br[] = { BR, NULL };
	bool veth_xdp = false, br_xdp = false;
	bool tcx = ns_have_tcx(H2);
	struct nproc *a;

	if (tcx) {
		a = ws_start(NULL, ARGS("-i", H2, "-i", BR), ifs);
	} else {
		/*
		 * No tcx: both get XDP, and the kernel refuses XDP on a bridge
		 * port while the bridge has some (EEXIST, which wirestate
		 * explains); so the bridge alone, then the veth alone.
		 */
		struct nproc *x = ws_start(NULL, ARGS("-i", BR), br);

		NS_CHECK(ns_ws_ingress(BR, &br_xdp) && br_xdp, "the bridge %s: ingress is not XDP", BR);
		struct nproc *y = ws_run(ARGS("-i", H2));

		NS_CHECK(np_code(y) == 1 && strstr(nbuf_str(&y->err), "its bridge"),
			 "a port of a bridge with XDP: exit %d, expected 1 with the reason:\n%s",
			 np_code(y), nbuf_str(&y->err));
		np_signal(x, SIGINT);
		NS_CHECK(np_wait_exit(x, 10000) && np_code(x) == 0, "exit %d", np_code(x));
		NS_ASSERT_CLEAN(BR);
		a = ws_start(NULL, ARGS("-i", H2), veth);
	}
	NS_CHECK(ns_ws_ingress(H2, &veth_xdp), "no ingress program on %s", H2);
	NS_CHECK(!tcx || (ns_ws_ingress(BR, &br_xdp) && br_xdp), "the bridge %s: ingress is not XDP",
		 BR);
	NS_CHECK(veth_xdp == !tcx, "the veth %s: ingress on %s, expected %s", H2,
		 veth_xdp ? "XDP" : "TC", tcx ? "TC (the kernel has tcx)" : "XDP (no tcx)");
	if (tcx) {
		uint32_t ids[8];
		struct nproc *b = np_spawnv(NULL, ws_args(ARGS("-i", H2)));
		double end = ns_now() + ATTACH_MS / 1000.0;

		NS_CHECK(b, "cannot start the second wirestate");
		while (ns_tc_progs(H2, true, ids, 8) < 2 && !b->reaped && ns_now() < end)
			np_pump(20);
		NS_CHECK(ns_tc_progs(H2, true, ids, 8) == 2 && ns_tc_progs(H2, false, ids, 8) == 2,
			 "the second wirestate is not attached beside the first:\n%s",
			 nbuf_str(&b->err));
		refused_connect(6003);
		NS_CHECK(np_wait_text(a, 0, "SYN_SENT", 5000) && np_wait_text(b, 0, "SYN_SENT", 5000),
			 "both wirestates must see the connection");
		np_signal(b, SIGINT);
		NS_CHECK(np_wait_exit(b, 10000) && np_code(b) == 0, "the second wirestate: exit %d",
			 np_code(b));
		NS_CHECK(ns_ws_attached(H2, NULL, NULL), "the first lost its programs with the second");
	}
	np_signal(a, SIGINT);
	NS_CHECK(np_wait_exit(a, 10000) && np_code(a) == 0, "the first wirestate: exit %d",
		 np_code(a));
	NS_ASSERT_CLEAN(H2);
	NS_ASSERT_CLEAN(BR);

	struct nproc *c = ws_start(NULL, ARGS("-i", H2, "--xdp-mode", "generic"), veth);

	NS_CHECK(ns_ws_ingress(H2, &veth_xdp) && veth_xdp, "--xdp-mode generic: ingress is not XDP");
	np_signal(c, SIGINT);
	NS_CHECK(np_wait_exit(c, 10000) && np_code(c) == 0, "exit %d", np_code(c));
	NS_ASSERT_CLEAN(H2);
}

/* -i wsch1 -i wsch2 where wsch2 is taken: wsch1 is not left half-attached. */
TEST(second_interface_fails_nothing_left)
{
	const char *ifs[] = { H2, NULL };
	uint32_t xdp = 0, tc = 0, ids[8];

	struct nproc *a = ws_start(NULL, ARGS("-i", H2, "--ingress", "xdp"), ifs);

	NS_CHECK(ns_ws_attached(H2, &xdp, &tc), "the first wirestate is not attached");
	struct nproc *b = ws_run(ARGS("-i", H1, "-i", H2, "--ingress", "xdp"));

	NS_CHECK(np_code(b) != 0, "attaching to a taken interface succeeded");
	NS_CHECK(strstr(nbuf_str(&b->err), H2), "the message does not name %s:\n%s", H2,
		 nbuf_str(&b->err));
	NS_ASSERT_CLEAN(H1);
	NS_CHECK(ns_xdp_prog(H2) == xdp, "the XDP program on %s changed", H2);
	NS_CHECK(ns_egress_progs(H2, ids, 8) == 1 && ids[0] == tc,
		 "TC egress of %s is not the first wirestate's program alone", H2);
	NS_CHECK(ns_links_on(H2) == (ns_have_tcx(H2) ? 2 : 1), "%d BPF links on %s",
		 ns_links_on(H2), H2);
	NS_CHECK(np_running(a), "the first wirestate ended");
	np_signal(a, SIGINT);
	NS_CHECK(np_wait_exit(a, 10000) && np_code(a) == 0, "the first wirestate: exit %d",
		 np_code(a));
	NS_ASSERT_CLEAN(H2);
}

/*
 * A run that fails before it captured anything leaves no -w file behind:
 * -w never overwrites (O_EXCL), so a 24-byte leftover would make the retry
 * fail with "File exists" once the cause is fixed.
 */
TEST(failed_attach_leaves_no_pcap)
{
	const char *ifs[] = { H2, NULL };
	char path[PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/retry.pcap", ns_tmpdir);
	unlink(path);
	/* taken: an XDP program is one per interface */
	struct nproc *a = ws_start(NULL, ARGS("-i", H2, "--ingress", "xdp"), ifs);
	struct nproc *b = ws_run(ARGS("-i", H2, "--ingress", "xdp", "-w", path));

	NS_CHECK(np_code(b) == 1, "attaching to a taken interface: exit %d", np_code(b));
	NS_CHECK(stat(path, &st) != 0, "the failed run left %s behind (%lld bytes): the same "
		 "command fails with \"File exists\" once the interface is free", path,
		 (long long)st.st_size);
	np_signal(a, SIGINT);
	NS_CHECK(np_wait_exit(a, 10000) && np_code(a) == 0, "the first wirestate: exit %d",
		 np_code(a));
	NS_ASSERT_CLEAN(H2);
}

/* ------------------------------------------------------ stopping by itself */

/* SIGTERM and SIGHUP detach as cleanly as SIGINT. */
TEST(sigterm_sighup_detach)
{
	const char *ifs[] = { H1, NULL };
	static const int sigs[] = { SIGTERM, SIGHUP };

	for (int i = 0; i < 2; i++) {
		struct nproc *p = ws_start(NULL, ARGS("-i", H1), ifs);

		np_signal(p, sigs[i]);
		NS_CHECK(np_wait_exit(p, 10000), "%s did not stop it", strsignal(sigs[i]));
		NS_CHECK(np_code(p) == 0, "%s: exit %d", strsignal(sigs[i]), np_code(p));
		NS_CHECK(strstr(nbuf_str(&p->err), " events ("), "%s: no stats line",
			 strsignal(sigs[i]));
		NS_ASSERT_CLEAN(H1);
		np_free(p);
	}
}

/* Has pid a BPF map open yet (the load has begun: maps come before programs)? */
static bool has_bpf_map(pid_t pid)
{
	char dir[64], path[320], target[64];
	struct dirent *d;
	bool found = false;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return false;
	while (!found && (d = readdir(dp))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			found = !strcmp(target, "anon_inode:bpf-map");
		}
	}
	closedir(dp);
	return found;
}

/*
 * A SIGINT while the programs are still loading stops wirestate too, cleanly
 * and before it attaches anything: with SIGINT at its default, and ignored
 * (how a script's background job starts; the handler replaces that, but
 * only once it is set).  Sent as soon as wirestate has a BPF map: the maps
 * are made first, the programs' verification takes most of the load.
 */
TEST(sigint_while_loading)
{
	for (int k = 0; k < 2; k++) {
		bool ign = k == 0;
		struct np_opts o = { .sigint_ignored = ign };
		struct nproc *p = np_spawnv(&o, ws_args(ARGS("-i", H1)));
		double end = ns_now() + 5;

		NS_CHECK(p, "cannot start wirestate");
		while (!has_bpf_map(p->pid) && np_running(p) && ns_now() < end)
			;
		NS_CHECK(has_bpf_map(p->pid), "wirestate never made a BPF map:\n%s",
			 nbuf_str(&p->err));
		np_signal(p, SIGINT);
		NS_CHECK(np_wait_exit(p, 20000), "SIGINT%s while loading did not stop it",
			 ign ? " (started ignored)" : "");
		if (strstr(nbuf_str(&p->err), "watching"))
			fprintf(stderr, "# note: wirestate had attached before the signal came\n");
		NS_CHECK(np_code(p) == 0, "SIGINT while loading: exit %d:\n%s", np_code(p),
			 nbuf_str(&p->err));
		NS_CHECK(strstr(nbuf_str(&p->err), " events ("), "SIGINT while loading: no stats line");
		NS_ASSERT_CLEAN(H1);
		np_free(p);
	}
}

/* -c 2: two events printed (ARP request and reply here), then exit 0. */
TEST(count_stops)
{
	const char *ifs[] = { H1, NULL };
	struct nlines L;
	int events = 0, stats = 0;

	struct nproc *p = ws_start(NULL, ARGS("--json", "-c", "2", "-i", H1), ifs);

	refused_connect(6003);   /* ARP request, reply, SYN, RST: four events */
	NS_CHECK(np_wait_exit(p, 10000), "-c 2 did not stop after 2 events");
	NS_CHECK(np_code(p) == 0, "-c 2: exit %d", np_code(p));
	nlines_split(&L, nbuf_str(&p->out));
	for (int i = 0; i < L.n; i++) {
		events += jis(L.v[i], "type", "arp") || jis(L.v[i], "type", "tcp");
		stats += jis(L.v[i], "type", "stats");
	}
	nlines_free(&L);
	NS_CHECK(events == 2, "-c 2 printed %d events", events);
	NS_CHECK(stats == 1, "-c 2: %d stats lines", stats);
	NS_ASSERT_CLEAN(H1);
}

/*
 * --duration 1 ends about a second after it started watching.  The clock
 * starts when "watching" arrives on stderr (printed once attached), looked
 * for every 20 ms and nothing slower in between.
 */
TEST(duration_stops)
{
	struct nproc *p = np_spawnv(NULL, ws_args(ARGS("--duration", "1", "-i", H1)));

	NS_CHECK(p && np_wait_text(p, 1, "watching", ATTACH_MS), "no \"watching\" line");
	double t0 = ns_now();

	NS_CHECK(np_wait_exit(p, 5000), "--duration 1 still runs after 5 s");
	double dt = p->t_exit - t0;

	NS_CHECK(np_code(p) == 0, "--duration 1: exit %d", np_code(p));
	NS_CHECK(dt > 0.8 && dt < 2.5, "--duration 1 ran %.2f s after attaching", dt);
	NS_CHECK(strstr(nbuf_str(&p->err), " events ("), "no stats line on stderr");
	NS_ASSERT_CLEAN(H1);
}

/* stdout is a pipe nobody reads any more (`wirestate ... | true`): exit 0 at the first event. */
TEST(closed_stdout)
{
	const char *ifs[] = { H1, NULL };
	struct np_opts o = { .stdout_closed = true };

	for (int json = 0; json < 2; json++) {
		struct nproc *p = np_spawnv(&o, ws_args(json ? ARGS("--json", "-i", H1) :
							ARGS("-i", H1)));

		NS_CHECK(p, "cannot start wirestate");
		/*
		 * Any event ends it: on a slow machine an ARP probe left from the
		 * previous round can come before we see it attached.  Then it has
		 * already exited, which the checks below judge.
		 */
		if (ns_wait_attached(p, ifs, ATTACH_MS))
			refused_connect(6005 + json);
		NS_CHECK(np_wait_exit(p, 10000), "%s: still runs with a closed stdout",
			 json ? "--json" : "text");
		NS_CHECK(WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0,
			 "%s: a closed stdout ends it with %d", json ? "--json" : "text", np_code(p));
		NS_CHECK(!strstr(nbuf_str(&p->err), "failed"), "a closed stdout is reported as a "
			 "failure: %s", nbuf_str(&p->err));
		NS_ASSERT_CLEAN(H1);
		np_free(p);
	}
}

/* ------------------------------------------------------------ fixtures */

static const struct ns_suite suite = {
	.who = "test_cli",
	.prefix = PFX,
	.lock = true,
	.containers = 2,
	.tmpdir = true,
	.flush_neigh = 2,
	.reset_tc = 2,
};

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		NS_TEST(no_arguments),
		NS_TEST(unknown_option),
		NS_TEST(help_exits_0),
		NS_TEST(version),
		NS_TEST(no_such_interface),
		NS_TEST(interface_and_read_conflict),
		NS_TEST(bad_count),
		NS_TEST(bad_duration),
		NS_TEST(bad_ingress),
		NS_TEST(bad_ringbuf_size),
		NS_TEST(numeric_options_do_not_wrap),
		NS_TEST(not_root),
		NS_TEST(read_missing_file),
		NS_TEST(read_not_a_pcap),
		NS_TEST(read_pcapng),
		NS_TEST(read_flow_table_evictions),
		NS_TEST(write_refuses_existing_file),
		NS_TEST(foreign_xdp_refused),
		NS_TEST(second_interface_fails_nothing_left),
		NS_TEST(default_ingress_by_kind),
		NS_TEST(failed_attach_leaves_no_pcap),
		NS_TEST(sigterm_sighup_detach),
		NS_TEST(sigint_while_loading),
		NS_TEST(count_stops),
		NS_TEST(duration_stops),
		NS_TEST(closed_stdout),
	};

	(void)argc;
	if (ns_main_begin(argv[0], &suite))
		return 1;
	return cmocka_run_group_tests(tests, ns_group_setup, ns_group_teardown);
}
