// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel tests of the real BPF object: each test loads build/wirestate.bpf.o
 * through its skeleton (a fresh one per test, so no flow leaks from one test
 * into the next), feeds frames built by tests/frames.h to the ws_xdp program
 * with BPF_PROG_TEST_RUN, drains the ring buffer after every frame and
 * checks the events exactly: transitions, notes, flow flags, addresses,
 * ports, seq/ack, snapshots, and the per-CPU counters.
 *
 * Needs root (CAP_BPF + CAP_NET_ADMIN) and a kernel with BPF ring buffers,
 * bpf_xdp_load_bytes() and XDP test runs of frags programs (5.18+).  Without
 * root every test is skipped.  The tests that run only ws_xdp load the object
 * without verifying ws_tc_egress (setup_xdp), which halves the suite's time.
 *
 * Transitions are compared as text, "C:CLOSED>SYN_SENT S:LISTEN>SYN_RECEIVED",
 * so a failure shows the whole list that was expected and the one produced.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "ws_event.h"
#include "ws_user.h"
#include "wirestate.skel.h"
#include "frames.h"
#include "wstest.h"

#define MAX_EV 256

/* ---------------------------------------------------------------- fixture */

#define BT_FX_EXTRA \
	uint8_t frame[FR_BUF_MIN];      /* the last frame sent */ \
	size_t flen; \
	int lo;                         /* ifindex BPF_PROG_TEST_RUN reports (loopback) */
#include "bpftest.h"

/* Open the skeleton only: the test changes settings, then calls bt_load(). */
static int setup_open(void **state)
{
	(void)state;
	bt_open(NULL);
	fx.lo = (int)if_nametoindex("lo");
	return 0;
}

/* The whole object, as wirestate loads it. */
static int setup(void **state)
{
	setup_open(state);
	bt_load();
	return 0;
}

/*
 * The same object without verifying ws_tc_egress, for the tests that only
 * run ws_xdp: verification is most of a load's time (~0.2 s per program),
 * and this halves the time of the suite.
 */
static int setup_open_xdp(void **state)
{
	(void)state;
	bt_open(&(struct bt_opts){ .no_tc = 1 });
	fx.lo = (int)if_nametoindex("lo");
	return 0;
}

static int setup_xdp(void **state)
{
	setup_open_xdp(state);
	bt_load();
	return 0;
}

#define NEED() need_(1)
#define NEED_OPEN() need_(0)
#define LOAD() do { bt_load(); need_(1); } while (0)

/* ---------------------------------------------------------------- helpers */

static int prog_run(struct bpf_program *prog, const void *buf, size_t len, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (__u32)len,
		    .repeat = 1);
	int rc = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	*retval = o.retval;
	return rc;
}

/* Run one frame through ws_xdp; it must pass it.  Nothing is consumed. */
static void xdp_run(const void *buf, size_t len)
{
	__u32 ret = 0;
	int rc = prog_run(fx.skel->progs.ws_xdp, buf, len, &ret);

	if (rc)
		fail_msg("line %d: BPF_PROG_TEST_RUN of a %zu-byte frame: %s", g_line, len,
			 strerror(-rc));
	if (ret != XDP_PASS)
		fail_msg("line %d: ws_xdp returned %u for a %zu-byte frame, want XDP_PASS (2)",
			 g_line, ret, len);
	memcpy(fx.frame, buf, len);
	fx.flen = len;
}

static void send_frame(const void *buf, size_t len)
{
	xdp_run(buf, len);
	drain();
}

static void assert_stat_(enum ws_stat idx, const char *name, uint64_t want)
{
	uint64_t got = stat_get(idx);

	if (got != want)
		fail_msg("line %d: stat %s = %llu, want %llu", g_line, name,
			 (unsigned long long)got, (unsigned long long)want);
}
#define assert_stat(idx, want) do { g_line = __LINE__; assert_stat_(idx, #idx, want); } while (0)

/* One flow in the table, in these states. */
static void assert_one_flow_(int cst, int sst, int fflags)
{
	struct ws_flow f;
	int n = flow_count(NULL, &f);

	if (n != 1)
		fail_msg("line %d: %d flows in the table, want 1", g_line, n);
	if (f.st[C] != cst || f.st[S] != sst)
		fail_msg("line %d: flow states C:%s S:%s, want C:%s S:%s", g_line,
			 ws_state_name(f.st[C]), ws_state_name(f.st[S]), ws_state_name((uint8_t)cst),
			 ws_state_name((uint8_t)sst));
	if (f.fflags != fflags)
		fail_msg("line %d: flow flags 0x%x, want 0x%x", g_line, f.fflags, fflags);
	assert_int_equal(f.lock, 0);
}
#define assert_one_flow(...) do { g_line = __LINE__; assert_one_flow_(__VA_ARGS__); } while (0)

/* ------------------------------------------------------------ connections */

struct conn {
	int family;
	const char *cli, *srv;
	uint16_t cport, sport;
	int nvlan;
	uint16_t vlan[2];
	int ip_opts;
	int ip6_ext;
};

static const struct conn V4 = { .family = 4, .cli = "172.17.0.2", .srv = "172.17.0.3",
				.cport = 36922, .sport = 80 };
static const struct conn V6 = { .family = 6, .cli = "fd00:17::2", .srv = "fd00:17::3",
				.cport = 36922, .sport = 443 };

/* A segment of connection k sent by `role`; SYNs carry Linux's options. */
static size_t build(uint8_t *buf, const struct conn *k, int role, uint8_t flags, uint32_t seq,
		    uint32_t ack, uint16_t paylen)
{
	struct tcpspec s = {
		.family = k->family, .seq = seq, .ack = ack, .flags = flags, .paylen = paylen,
		.nvlan = k->nvlan, .vlan = { k->vlan[0], k->vlan[1] },
		.ip_opts = k->ip_opts, .ip6_ext = k->ip6_ext,
	};

	if (role == C) {
		s.src = k->cli, s.dst = k->srv, s.sport = k->cport, s.dport = k->sport;
	} else {
		s.src = k->srv, s.dst = k->cli, s.sport = k->sport, s.dport = k->cport;
	}
	if (flags & SYN) {
		s.mss = 1460;
		s.sack_ok = 1;
		s.ts = 1;
		s.tsval = 77;
		s.tsecr = (flags & ACK) ? 77 : 0;
		s.has_wscale = 1;
		s.wscale = 7;
	}
	return fr_tcp(buf, &s);
}

static void addr_of(int family, const char *txt, uint32_t out[4])
{
	memset(out, 0, 16);
	fr_addr(family == 6 ? AF_INET6 : AF_INET, out, txt);
}

static void trs_str(const struct ws_tcp_ev *t, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < t->ntr && i < WS_MAX_TR; i++) {
		uint8_t role, o, nw;

		ws_tr_unpack(t->tr, i, &role, &o, &nw);
		n += (size_t)snprintf(buf + n, len - n, "%s%c:%s>%s", i ? " " : "",
				      role == C ? 'C' : 'S', ws_state_name(o), ws_state_name(nw));
	}
}

/* The snapshot of the last frame sent, as the kernel must have copied it. */
static void check_snap(const struct ws_event *e)
{
	size_t want = fx.flen < fx.snaplen ? fx.flen : fx.snaplen;

	if (e->wire_len != fx.flen)
		fail_msg("line %d: wire_len %u, want %zu", g_line, e->wire_len, fx.flen);
	if (e->cap_len != want)
		fail_msg("line %d: cap_len %u, want %zu", g_line, e->cap_len, want);
	if (memcmp(e->frame, fx.frame, want) != 0)
		fail_msg("line %d: the event's frame bytes differ from the frame sent", g_line);
}

/*
 * Everything a TCP event says about the segment that caused it (the last
 * one sent), its flow's transitions, note and flags.
 */
static void check_tcp(const struct ws_event *e, const struct conn *k, int role, uint8_t flags,
		      uint32_t seq, uint32_t ack, uint16_t paylen, uint8_t note, uint8_t ff,
		      const char *want_trs)
{
	const struct ws_tcp_ev *t = &e->tcp;
	uint32_t sa[4], da[4];
	char got[256], g[128], w[128];

	if (e->type != WS_EV_TCP)
		fail_msg("line %d: event type %u, want TCP", g_line, e->type);
	assert_int_equal(e->dir, WS_DIR_INGRESS);
	assert_int_equal(e->family, k->family);
	assert_int_equal(e->ifindex, fx.lo);
	assert_true(e->ts_ns != 0);
	addr_of(k->family, role == C ? k->cli : k->srv, sa);
	addr_of(k->family, role == C ? k->srv : k->cli, da);
	if (memcmp(t->saddr, sa, 16) || memcmp(t->daddr, da, 16))
		fail_msg("line %d: event addresses are not the segment's", g_line);
	assert_int_equal(t->sport, role == C ? k->cport : k->sport);
	assert_int_equal(t->dport, role == C ? k->sport : k->cport);
	if (t->flags != flags)
		fail_msg("line %d: flags 0x%02x, want 0x%02x", g_line, t->flags, flags);
	if (t->seq != seq || t->ack != ack)
		fail_msg("line %d: seq %u ack %u, want seq %u ack %u", g_line, t->seq, t->ack,
			 seq, ack);
	assert_int_equal(t->win, FR_WIN_DFL);
	assert_int_equal(t->ttl, FR_TTL);
	assert_int_equal(t->paylen, paylen);
	assert_int_equal(t->nvlan, k->nvlan);
	if (k->nvlan > 0)
		assert_int_equal(t->vlan_id[0], k->vlan[0]);
	if (k->nvlan > 1)
		assert_int_equal(t->vlan_id[1], k->vlan[1]);
	if (t->from_role != role)
		fail_msg("line %d: from_role %s, want %s", g_line, ws_role_name(t->from_role),
			 ws_role_name((uint8_t)role));
	if (t->note != note)
		fail_msg("line %d: note %s, want %s", g_line, notes_str(t->note, g, sizeof(g)),
			 notes_str(note, w, sizeof(w)));
	if (t->fflags != ff)
		fail_msg("line %d: flow flags 0x%02x, want 0x%02x", g_line, t->fflags, ff);
	assert_in_range(t->ntr, 0, WS_MAX_TR);
	if (t->ntr < WS_MAX_TR)
		assert_int_equal(t->tr >> (t->ntr * 16), 0);
	trs_str(t, got, sizeof(got));
	if (strcmp(got, want_trs) != 0)
		fail_msg("line %d: transitions \"%s\", want \"%s\"", g_line, got, want_trs);
	if (!(note & WS_NOTE_BAD_ACK))
		assert_int_equal(t->expected_ack, 0);
	check_snap(e);
}

/* Send one segment; exactly one event must describe it.  Returns the event. */
static const struct ws_event *ev_(const struct conn *k, int role, uint8_t flags, uint32_t seq,
				  uint32_t ack, uint16_t paylen, uint8_t note, uint8_t ff,
				  const char *trs)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len = build(buf, k, role, flags, seq, ack, paylen);

	send_frame(buf, len);
	if (fx.nev != 1)
		fail_msg("line %d: %d events for the segment, want 1", g_line, fx.nev);
	check_tcp(&fx.ev[0], k, role, flags, seq, ack, paylen, note, ff, trs);
	return &fx.ev[0];
}
#define EV(...) (g_line = __LINE__, ev_(__VA_ARGS__))

/* Send one segment; it must not be an event. */
static void quiet_(const struct conn *k, int role, uint8_t flags, uint32_t seq, uint32_t ack,
		   uint16_t paylen)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len = build(buf, k, role, flags, seq, ack, paylen);

	send_frame(buf, len);
	if (fx.nev != 0) {
		char t[256];

		trs_str(&fx.ev[0].tcp, t, sizeof(t));
		fail_msg("line %d: %d events for a segment that is no event (first: \"%s\")",
			 g_line, fx.nev, t);
	}
}
#define QUIET(...) do { g_line = __LINE__; quiet_(__VA_ARGS__); } while (0)

static void assert_counters(const struct ws_event *e, uint64_t pc, uint64_t ps, uint64_t bc,
			    uint64_t bs)
{
	if (e->tcp.pkts[C] != pc || e->tcp.pkts[S] != ps || e->tcp.bytes[C] != bc ||
	    e->tcp.bytes[S] != bs)
		fail_msg("line %d: counters pkts %llu/%llu bytes %llu/%llu, want %llu/%llu %llu/%llu",
			 g_line, (unsigned long long)e->tcp.pkts[C],
			 (unsigned long long)e->tcp.pkts[S], (unsigned long long)e->tcp.bytes[C],
			 (unsigned long long)e->tcp.bytes[S], (unsigned long long)pc,
			 (unsigned long long)ps, (unsigned long long)bc, (unsigned long long)bs);
}

/* The usual three-way handshake of k, checked event by event. */
static void handshake(const struct conn *k, uint8_t ff)
{
	const struct ws_event *e;

	e = EV(k, C, SYN, CISN, 0, 0, 0, ff, "C:CLOSED>SYN_SENT");
	assert_counters(e, 1, 0, 0, 0);
	EV(k, S, SYN | ACK, SISN, CISN + 1, 0, A_SYN, ff, "S:LISTEN>SYN_RECEIVED");
	e = EV(k, C, ACK, CISN + 1, SISN + 1, 0, A_SYN, ff,
	       "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED");
	assert_counters(e, 2, 1, 0, 0);
}

static void client_close(const struct conn *k, uint32_t cseq, uint32_t sseq, uint8_t ff)
{
	EV(k, C, FIN | ACK, cseq, sseq, 0, 0, ff, "C:ESTABLISHED>FIN_WAIT_1");
	EV(k, S, ACK, sseq, cseq + 1, 0, A_FIN, ff,
	   "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2");
	EV(k, S, FIN | ACK, sseq, cseq + 1, 0, 0, ff, "S:CLOSE_WAIT>LAST_ACK");
	EV(k, C, ACK, cseq + 1, sseq + 1, 0, A_FIN, ff,
	   "C:FIN_WAIT_2>TIME_WAIT S:LAST_ACK>CLOSED");
}

/* Send an ARP frame; exactly one ARP event must describe it. */
static const struct ws_event *arp_(int op, const char *sha, const char *spa, const char *tha,
				   const char *tpa)
{
	uint8_t buf[FR_BUF_MIN], mac[6], zero[6] = { 0 };
	const struct ws_event *e;
	uint32_t a;
	size_t len = fr_arp(buf, op, sha, spa, tha, tpa);

	send_frame(buf, len);
	if (fx.nev != 1)
		fail_msg("line %d: %d events for an ARP frame, want 1", g_line, fx.nev);
	e = &fx.ev[0];
	assert_int_equal(e->type, WS_EV_ARP);
	assert_int_equal(e->dir, WS_DIR_INGRESS);
	assert_int_equal(e->ifindex, fx.lo);
	assert_int_equal(e->arp.op, op);
	assert_int_equal(e->arp.nvlan, 0);
	fr_mac(mac, sha);
	assert_memory_equal(e->arp.sha, mac, 6);
	if (tha)
		fr_mac(mac, tha);
	assert_memory_equal(e->arp.tha, tha ? mac : zero, 6);
	fr_addr(AF_INET, &a, spa);
	assert_int_equal(e->arp.spa, a);
	fr_addr(AF_INET, &a, tpa);
	assert_int_equal(e->arp.tpa, a);
	check_snap(e);
	return e;
}
#define ARP(...) (g_line = __LINE__, arp_(__VA_ARGS__))

/* ------------------------------------------------------------- programs */

TEST(test_empty_prog_passes)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len = build(buf, &V4, C, SYN, CISN, 0, 0);
	__u32 ret = 99;

	NEED();
	assert_int_equal(prog_run(fx.skel->progs.ws_xdp_empty, buf, len, &ret), 0);
	assert_int_equal(ret, XDP_PASS);
	assert_int_equal(drain(), 0);
	assert_stat(WS_STAT_PACKETS, 0);
}

TEST(test_xdp_passes_every_frame)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len;
	int n = 0;

	NEED();
	g_line = __LINE__;
	/* an Ethernet header and nothing else, of an unknown ethertype */
	memset(buf, 0, sizeof(buf));
	fr_put16(buf + 12, 0x88cc);
	send_frame(buf, 14), n++;
	send_frame(buf, 60), n++;
	assert_int_equal(fx.nev, 0);
	/* three VLAN tags: one too many */
	fr_put16(buf + 12, 0x88a8);
	fr_put16(buf + 16, 0x8100);
	fr_put16(buf + 20, 0x8100);
	fr_put16(buf + 24, 0x0800);
	send_frame(buf, 80), n++;
	assert_int_equal(fx.nev, 0);
	/* an IPv4 header with IHL 4 */
	len = build(buf, &V4, C, SYN, CISN, 0, 0);
	buf[14] = 0x44;
	send_frame(buf, len), n++;
	assert_int_equal(fx.nev, 0);
	/* UDP */
	len = build(buf, &V4, C, SYN, CISN, 0, 0);
	buf[14 + 9] = 17;
	send_frame(buf, len), n++;
	assert_int_equal(fx.nev, 0);
	/* a full-size data segment of an unknown flow is picked up */
	len = build(buf, &V4, C, PSH | ACK, CISN, SISN, 1460);
	send_frame(buf, len), n++;
	assert_int_equal(fx.nev, 1);
	/* an ARP flavour that is not Ethernet/IPv4: recognised, not reported */
	len = fr_arp(buf, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	buf[14 + 1] = 6;          /* htype 6 (IEEE 802) */
	send_frame(buf, len), n++;
	assert_int_equal(fx.nev, 0);
	/* ARP op 3 (RARP request) is no event either */
	len = fr_arp(buf, 3, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	send_frame(buf, len), n++;
	assert_int_equal(fx.nev, 0);

	assert_stat(WS_STAT_PACKETS, (uint64_t)n);
	assert_stat(WS_STAT_PARSE_ERR, 2);        /* VLAN depth, IHL */
	assert_stat(WS_STAT_EVENTS, 1);
}

/* ------------------------------------------------------ textbook paths */

TEST(test_handshake_client_close)
{
	const struct ws_event *e;
	uint64_t t0;

	NEED();
	/* the client resolves the server's MAC first */
	e = ARP(1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	assert_int_equal(e->cap_len, 42);
	t0 = e->ts_ns;
	e = ARP(2, "02:42:ac:11:00:03", "172.17.0.3", "02:42:ac:11:00:02", "172.17.0.2");
	assert_true(e->ts_ns >= t0);

	handshake(&V4, 0);
	assert_one_flow(WS_ST_ESTABLISHED, WS_ST_ESTABLISHED, 0);

	/* data both ways: no event */
	QUIET(&V4, C, PSH | ACK, CISN + 1, SISN + 1, 100);
	QUIET(&V4, S, ACK, SISN + 1, CISN + 101, 0);
	QUIET(&V4, S, PSH | ACK, SISN + 1, CISN + 101, 50);

	e = EV(&V4, C, FIN | ACK, CISN + 101, SISN + 51, 0, 0, 0, "C:ESTABLISHED>FIN_WAIT_1");
	assert_counters(e, 4, 3, 100, 50);
	e = EV(&V4, S, ACK, SISN + 51, CISN + 102, 0, A_FIN, 0,
	       "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2");
	assert_counters(e, 4, 4, 100, 50);
	EV(&V4, S, FIN | ACK, SISN + 51, CISN + 102, 0, 0, 0, "S:CLOSE_WAIT>LAST_ACK");
	e = EV(&V4, C, ACK, CISN + 102, SISN + 52, 0, A_FIN, 0,
	       "C:FIN_WAIT_2>TIME_WAIT S:LAST_ACK>CLOSED");
	assert_counters(e, 5, 5, 100, 50);
	assert_true(e->ts_ns >= t0);
	assert_one_flow(WS_ST_TIME_WAIT, WS_ST_CLOSED, 0);

	/* a late duplicate ACK changes nothing */
	QUIET(&V4, C, ACK, CISN + 102, SISN + 52, 0);

	assert_stat(WS_STAT_PACKETS, 2 + 11);
	assert_stat(WS_STAT_EVENTS, 2 + 7);
	assert_stat(WS_STAT_FLOWS, 1);
	assert_stat(WS_STAT_PARSE_ERR, 0);
	assert_stat(WS_STAT_RB_DROPS, 0);
	assert_stat(WS_STAT_FLOW_FAIL, 0);
	assert_stat(WS_STAT_LOCK_BUSY, 0);
}

TEST(test_server_close)
{
	NEED();
	handshake(&V4, 0);
	QUIET(&V4, C, PSH | ACK, CISN + 1, SISN + 1, 20);
	EV(&V4, S, FIN | ACK, SISN + 1, CISN + 21, 0, 0, 0, "S:ESTABLISHED>FIN_WAIT_1");
	EV(&V4, C, ACK, CISN + 21, SISN + 2, 0, A_FIN, 0,
	   "C:ESTABLISHED>CLOSE_WAIT S:FIN_WAIT_1>FIN_WAIT_2");
	/* half-closed: the client still sends, the server acks */
	QUIET(&V4, C, PSH | ACK, CISN + 21, SISN + 2, 10);
	QUIET(&V4, S, ACK, SISN + 2, CISN + 31, 0);
	EV(&V4, C, FIN | ACK, CISN + 31, SISN + 2, 0, 0, 0, "C:CLOSE_WAIT>LAST_ACK");
	EV(&V4, S, ACK, SISN + 2, CISN + 32, 0, A_FIN, 0,
	   "S:FIN_WAIT_2>TIME_WAIT C:LAST_ACK>CLOSED");
	assert_one_flow(WS_ST_CLOSED, WS_ST_TIME_WAIT, 0);
	assert_stat(WS_STAT_EVENTS, 7);
}

TEST(test_refused)
{
	const struct ws_event *e;

	NEED();
	EV(&V4, C, SYN, CISN, 0, 0, 0, 0, "C:CLOSED>SYN_SENT");
	e = EV(&V4, S, RST | ACK, 0, CISN + 1, 0, A_SYN, WS_FF_REFUSED, "C:SYN_SENT>CLOSED");
	assert_counters(e, 1, 1, 0, 0);
	assert_one_flow(WS_ST_CLOSED, WS_ST_CLOSED, WS_FF_REFUSED);
	assert_stat(WS_STAT_EVENTS, 2);
}

TEST(test_simultaneous_close)
{
	const uint8_t ff = WS_FF_SIMCLOSE;

	NEED();
	handshake(&V4, 0);
	EV(&V4, C, FIN | ACK, CISN + 1, SISN + 1, 0, 0, 0, "C:ESTABLISHED>FIN_WAIT_1");
	/* the FINs cross: the server's does not ack the client's */
	EV(&V4, S, FIN | ACK, SISN + 1, CISN + 1, 0, 0, ff, "S:ESTABLISHED>FIN_WAIT_1");
	EV(&V4, C, ACK, CISN + 2, SISN + 2, 0, A_FIN, ff,
	   "C:FIN_WAIT_1>CLOSING S:FIN_WAIT_1>CLOSING S:CLOSING>TIME_WAIT");
	EV(&V4, S, ACK, SISN + 2, CISN + 2, 0, A_FIN, ff, "C:CLOSING>TIME_WAIT");
	assert_one_flow(WS_ST_TIME_WAIT, WS_ST_TIME_WAIT, ff);
}

TEST(test_simultaneous_open)
{
	const uint8_t ff = WS_FF_SIMOPEN;

	NEED();
	EV(&V4, C, SYN, CISN, 0, 0, 0, 0, "C:CLOSED>SYN_SENT");
	EV(&V4, S, SYN, SISN, 0, 0, 0, ff, "S:CLOSED>SYN_SENT");
	EV(&V4, C, SYN | ACK, CISN, SISN + 1, 0, A_SYN, ff, "C:SYN_SENT>SYN_RECEIVED");
	EV(&V4, S, SYN | ACK, SISN, CISN + 1, 0, A_SYN, ff,
	   "S:SYN_SENT>SYN_RECEIVED S:SYN_RECEIVED>ESTABLISHED C:SYN_RECEIVED>ESTABLISHED");
	QUIET(&V4, C, ACK, CISN + 1, SISN + 1, 0);
	QUIET(&V4, C, PSH | ACK, CISN + 1, SISN + 1, 10);
	assert_one_flow(WS_ST_ESTABLISHED, WS_ST_ESTABLISHED, ff);
	client_close(&V4, CISN + 11, SISN + 1, ff);
	assert_stat(WS_STAT_FLOWS, 1);
}

TEST(test_syn_retransmit)
{
	const struct ws_event *e;

	NEED();
	EV(&V4, C, SYN, CISN, 0, 0, 0, 0, "C:CLOSED>SYN_SENT");
	e = EV(&V4, C, SYN, CISN, 0, 0, WS_NOTE_RETRANS, 0, "");
	assert_counters(e, 2, 0, 0, 0);
	EV(&V4, C, SYN, CISN, 0, 0, WS_NOTE_RETRANS, 0, "");
	EV(&V4, S, SYN | ACK, SISN, CISN + 1, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED");
	/* the SYN-ACK is retransmitted too */
	EV(&V4, S, SYN | ACK, SISN, CISN + 1, 0, A_SYN | WS_NOTE_RETRANS, 0, "");
	EV(&V4, C, ACK, CISN + 1, SISN + 1, 0, A_SYN, 0,
	   "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED");
	assert_one_flow(WS_ST_ESTABLISHED, WS_ST_ESTABLISHED, 0);
	assert_stat(WS_STAT_FLOWS, 1);
}

TEST(test_synack_bad_ack)
{
	const struct ws_event *e;

	NEED();
	EV(&V4, C, SYN, CISN, 0, 0, 0, 0, "C:CLOSED>SYN_SENT");
	e = EV(&V4, S, SYN | ACK, SISN, CISN + 77, 0, WS_NOTE_BAD_ACK, 0, "");
	assert_int_equal(e->tcp.expected_ack, CISN + 1);
	assert_one_flow(WS_ST_SYN_SENT, WS_ST_LISTEN, 0);
	/* the right one then opens the connection */
	EV(&V4, S, SYN | ACK, SISN, CISN + 1, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED");
	/* a handshake ACK that misses the server's ISN+1 */
	e = EV(&V4, C, ACK, CISN + 1, SISN + 9, 0, WS_NOTE_BAD_ACK, 0, "");
	assert_int_equal(e->tcp.expected_ack, SISN + 1);
	EV(&V4, C, ACK, CISN + 1, SISN + 1, 0, A_SYN, 0,
	   "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED");
}

TEST(test_midstream_pickup)
{
	const uint8_t ff = WS_FF_MIDSTREAM;
	const struct conn k2 = { .family = 4, .cli = "10.0.0.1", .srv = "10.0.0.2",
				 .cport = 50000, .sport = 22 };
	const struct ws_event *e;

	NEED();
	/* the first packet seen is the client's data */
	e = EV(&V4, C, PSH | ACK, CISN, SISN, 100, WS_NOTE_PICKUP, ff,
	       "C:UNKNOWN>ESTABLISHED S:UNKNOWN>ESTABLISHED");
	assert_counters(e, 1, 0, 100, 0);
	QUIET(&V4, S, ACK, SISN, CISN + 100, 0);
	QUIET(&V4, S, PSH | ACK, SISN, CISN + 100, 30);
	QUIET(&V4, C, PSH | ACK, CISN + 100, SISN + 30, 100);
	assert_one_flow(WS_ST_ESTABLISHED, WS_ST_ESTABLISHED, ff);
	e = EV(&V4, C, FIN | ACK, CISN + 200, SISN + 30, 0, 0, ff, "C:ESTABLISHED>FIN_WAIT_1");
	assert_counters(e, 3, 2, 200, 30);
	EV(&V4, S, FIN | ACK, SISN + 30, CISN + 201, 0, A_FIN, ff,
	   "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2 S:CLOSE_WAIT>LAST_ACK");
	EV(&V4, C, ACK, CISN + 201, SISN + 31, 0, A_FIN, ff,
	   "C:FIN_WAIT_2>TIME_WAIT S:LAST_ACK>CLOSED");
	assert_one_flow(WS_ST_TIME_WAIT, WS_ST_CLOSED, ff);

	/* picked up on the server's data: the client is still the high port */
	e = EV(&k2, S, PSH | ACK, SISN, CISN, 64, WS_NOTE_PICKUP, ff,
	       "C:UNKNOWN>ESTABLISHED S:UNKNOWN>ESTABLISHED");
	assert_counters(e, 0, 1, 0, 64);
	QUIET(&k2, C, ACK, CISN, SISN + 64, 0);
	assert_int_equal(flow_count(NULL, NULL), 2);
	assert_stat(WS_STAT_FLOWS, 2);
}

TEST(test_rst_no_flow)
{
	const struct ws_event *e;
	struct ws_flow_key key;

	NEED();
	e = EV(&V4, S, RST | ACK, SISN, CISN, 0, WS_NOTE_NO_FLOW, 0, "");
	assert_counters(e, 0, 0, 0, 0);
	assert_int_equal(flow_count(NULL, NULL), 0);
	assert_true(bpf_map_get_next_key(bpf_map__fd(fx.skel->maps.flows), NULL, &key) < 0);
	/* from the high port: the client's RST */
	EV(&V4, C, RST, CISN, 0, 0, WS_NOTE_NO_FLOW, 0, "");
	assert_int_equal(flow_count(NULL, NULL), 0);
	assert_stat(WS_STAT_FLOWS, 0);
	assert_stat(WS_STAT_EVENTS, 2);
}

/* ------------------------------------------------------------ encapsulations */

TEST(test_ipv6_handshake)
{
	const struct ws_event *e;
	uint8_t a[16];

	NEED();
	handshake(&V6, 0);
	e = &fx.ev[0];
	assert_int_equal(e->family, 6);
	assert_int_equal(inet_pton(AF_INET6, "fd00:17::2", a), 1);
	assert_memory_equal(e->tcp.saddr, a, 16);
	assert_int_equal(inet_pton(AF_INET6, "fd00:17::3", a), 1);
	assert_memory_equal(e->tcp.daddr, a, 16);
	client_close(&V6, CISN + 1, SISN + 1, 0);
	assert_one_flow(WS_ST_TIME_WAIT, WS_ST_CLOSED, 0);
	{
		struct ws_flow_key key;

		flow_count(&key, NULL);
		assert_int_equal(key.family, 6);
	}
}

TEST(test_vlan_handshake)
{
	struct conn k = V4;

	NEED();
	k.nvlan = 1;
	k.vlan[0] = 100;
	handshake(&k, 0);
	assert_int_equal(fx.ev[0].tcp.nvlan, 1);
	assert_int_equal(fx.ev[0].tcp.vlan_id[0], 100);
	client_close(&k, CISN + 1, SISN + 1, 0);
}

TEST(test_qinq_handshake)
{
	struct conn k = V6;

	NEED();
	k.nvlan = 2;
	k.vlan[0] = 100;
	k.vlan[1] = 4094;
	handshake(&k, 0);
	assert_int_equal(fx.ev[0].tcp.nvlan, 2);
	assert_int_equal(fx.ev[0].tcp.vlan_id[0], 100);
	assert_int_equal(fx.ev[0].tcp.vlan_id[1], 4094);
	QUIET(&k, C, PSH | ACK, CISN + 1, SISN + 1, 500);
	client_close(&k, CISN + 501, SISN + 1, 0);
	k.vlan[0] = 4;
	k.vlan[1] = 0;
	QUIET(&k, C, ACK, CISN + 502, SISN + 2, 0);     /* the same flow: no pickup */
}

TEST(test_ipv4_options)
{
	struct conn k = V4;

	NEED();
	k.ip_opts = 40;                /* the longest IPv4 header */
	handshake(&k, 0);
	k.ip_opts = 12;
	QUIET(&k, C, PSH | ACK, CISN + 1, SISN + 1, 10);
	client_close(&k, CISN + 11, SISN + 1, 0);
	assert_one_flow(WS_ST_TIME_WAIT, WS_ST_CLOSED, 0);
}

TEST(test_ipv6_ext_headers)
{
	struct conn k = V6;

	NEED();
	k.ip6_ext = 3;                 /* hop-by-hop + 2 destination options */
	handshake(&k, 0);
	k.ip6_ext = 1;
	QUIET(&k, C, PSH | ACK, CISN + 1, SISN + 1, 10);
	k.ip6_ext = WS_MAX_IP6_EXT;
	client_close(&k, CISN + 11, SISN + 1, 0);
	assert_one_flow(WS_ST_TIME_WAIT, WS_ST_CLOSED, 0);
	/* one extension header too many: a parse error, no event */
	k.ip6_ext = WS_MAX_IP6_EXT + 1;
	QUIET(&k, C, RST, CISN + 12, 0, 0);
	assert_stat(WS_STAT_PARSE_ERR, 1);
}

/* ------------------------------------------------------------ bad frames */

/* Every prefix of a frame from 14 bytes up cuts a header: a parse error. */
static int cut_sweep(const uint8_t *frame, size_t len)
{
	uint8_t buf[FR_BUF_MIN];
	size_t n;
	int runs = 0;

	for (n = 14; n < len; n++) {
		/* a copy of just n bytes, so nothing past n is ever there */
		memcpy(buf, frame, n);
		g_line = __LINE__;
		send_frame(buf, n);
		if (fx.nev != 0)
			fail_msg("frame cut to %zu of %zu bytes made %d events", n, len, fx.nev);
		runs++;
	}
	return runs;
}

TEST(test_truncated_frames)
{
	uint8_t f[FR_BUF_MIN];
	struct conn k;
	uint64_t runs = 0;
	size_t len;

	NEED();
	/* IPv4 SYN with IP and TCP options */
	k = V4;
	k.ip_opts = 8;
	len = build(f, &k, C, SYN, CISN, 0, 0);
	runs += (uint64_t)cut_sweep(f, len);
	assert_stat(WS_STAT_PARSE_ERR, runs);
	/* QinQ IPv6 with extension headers */
	k = V6;
	k.nvlan = 2;
	k.vlan[0] = 7;
	k.vlan[1] = 8;
	k.ip6_ext = 2;
	len = build(f, &k, C, SYN, CISN, 0, 0);
	runs += (uint64_t)cut_sweep(f, len);
	assert_stat(WS_STAT_PARSE_ERR, runs);
	/* ARP */
	len = fr_arp(f, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	runs += (uint64_t)cut_sweep(f, len);
	assert_stat(WS_STAT_PARSE_ERR, runs);
	assert_stat(WS_STAT_PACKETS, runs);
	assert_stat(WS_STAT_EVENTS, 0);
	assert_int_equal(flow_count(NULL, NULL), 0);

	/* the whole frames still work afterwards */
	EV(&V4, C, SYN, CISN, 0, 0, 0, 0, "C:CLOSED>SYN_SENT");
	assert_stat(WS_STAT_PARSE_ERR, runs);
}

TEST(test_runt_frames_rejected)
{
	uint8_t buf[64] = { 0 };
	size_t n;
	__u32 ret;

	NEED();
	/* BPF_PROG_TEST_RUN refuses XDP frames shorter than an Ethernet header */
	for (n = 1; n < 14; n++) {
		int rc = prog_run(fx.skel->progs.ws_xdp, buf, n, &ret);

		if (rc >= 0)
			fail_msg("a %zu-byte frame was run (rc %d)", n, rc);
	}
	assert_int_equal(drain(), 0);
	assert_stat(WS_STAT_PACKETS, 0);
	assert_stat(WS_STAT_PARSE_ERR, 0);
}

TEST(test_non_first_fragment)
{
	uint8_t f[FR_BUF_MIN];
	size_t len;

	NEED();
	/* IPv4: fragment offset 185 (1480 bytes), a SYN's bytes where TCP would be */
	len = build(f, &V4, C, SYN, CISN, 0, 0);
	fr_put16(f + 14 + 6, 185);
	fr_put16(f + 14 + 10, 0);
	fr_put16(f + 14 + 10, fr_csum(f + 14, 20, 0));
	g_line = __LINE__;
	send_frame(f, len);
	assert_int_equal(fx.nev, 0);

	/* IPv6: a fragment header (offset 1480, more fragments) before "TCP" */
	len = build(f, &V6, C, SYN, CISN, 0, 0);
	{
		uint8_t g[FR_BUF_MIN];
		size_t l3 = 14, tcp = l3 + 40;

		memcpy(g, f, tcp);
		g[l3 + 6] = 44;                       /* next header: fragment */
		fr_put16(g + l3 + 4, (uint32_t)(len - tcp + 8));
		g[tcp] = 6;                           /* fragment header: next is TCP */
		g[tcp + 1] = 0;
		fr_put16(g + tcp + 2, 185u << 3 | 1);  /* offset 185 (x8 bytes), M */
		fr_put32(g + tcp + 4, 0xabcd);
		memcpy(g + tcp + 8, f + tcp, len - tcp);
		send_frame(g, len + 8);
		assert_int_equal(fx.nev, 0);

		/* the same with offset 0: the first fragment, whose TCP header is there */
		fr_put16(g + tcp + 2, 1);
		send_frame(g, len + 8);
		assert_int_equal(fx.nev, 1);
		assert_int_equal(fx.ev[0].tcp.flags, SYN);
		assert_int_equal(fx.ev[0].tcp.seq, CISN);
	}
	assert_stat(WS_STAT_PARSE_ERR, 0);
	assert_stat(WS_STAT_PACKETS, 3);
	assert_int_equal(flow_count(NULL, NULL), 1);      /* only the first fragment's */
}

/* Ethernet pads short frames to 60 bytes: the padding is no payload. */
TEST(test_padding_not_payload)
{
	uint8_t f[FR_BUF_MIN];
	size_t len;

	NEED();
	handshake(&V4, 0);
	EV(&V4, C, FIN | ACK, CISN + 1, SISN + 1, 0, 0, 0, "C:ESTABLISHED>FIN_WAIT_1");
	/* the server's ACK of the FIN, 54 bytes, padded to 64 */
	len = build(f, &V4, S, ACK, SISN + 1, CISN + 2, 0);
	assert_int_equal(len, 54);
	memset(f + len, 0, 64 - len);
	g_line = __LINE__;
	send_frame(f, 64);
	assert_int_equal(fx.nev, 1);
	assert_int_equal(fx.ev[0].tcp.paylen, 0);
	assert_int_equal(fx.ev[0].tcp.bytes[S], 0);
	assert_int_equal(fx.ev[0].wire_len, 64);
	assert_int_equal(fx.ev[0].tcp.note, A_FIN);
}

/* ------------------------------------------------------------ reuse, snapshots */

/*
 * A new flow's first event carries the time the flow was created (one clock
 * read for both), and so does the first event of a reused 4-tuple.
 */
TEST(test_new_flow_event_time)
{
	struct ws_flow_key key;
	struct ws_flow f;
	uint64_t ts;

	NEED();
	ts = EV(&V4, C, SYN, CISN, 0, 0, 0, 0, "C:CLOSED>SYN_SENT")->ts_ns;
	assert_int_equal(flow_count(&key, &f), 1);
	assert_true(ts != 0);
	assert_true(ts == f.t_first);
	ts = EV(&V4, S, SYN | ACK, SISN, CISN + 1, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED")->ts_ns;
	assert_true(ts >= f.t_first);
	EV(&V4, C, ACK, CISN + 1, SISN + 1, 0, A_SYN, 0,
	   "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED");
	client_close(&V4, CISN + 1, SISN + 1, 0);

	ts = EV(&V4, C, SYN, 90000, 0, 0, WS_NOTE_REUSED, 0, "C:CLOSED>SYN_SENT")->ts_ns;
	assert_int_equal(flow_count(&key, &f), 1);
	assert_true(ts == f.t_first);
}

TEST(test_port_reuse)
{
	const struct ws_event *e;

	NEED();
	handshake(&V4, 0);
	QUIET(&V4, C, PSH | ACK, CISN + 1, SISN + 1, 10);
	client_close(&V4, CISN + 11, SISN + 1, 0);
	assert_one_flow(WS_ST_TIME_WAIT, WS_ST_CLOSED, 0);

	/* the same 4-tuple, a new ISN: a new connection */
	e = EV(&V4, C, SYN, 90000, 0, 0, WS_NOTE_REUSED, 0, "C:CLOSED>SYN_SENT");
	assert_counters(e, 1, 0, 0, 0);
	e = EV(&V4, S, SYN | ACK, 70000, 90001, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED");
	assert_counters(e, 1, 1, 0, 0);
	EV(&V4, C, ACK, 90001, 70001, 0, A_SYN, 0,
	   "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED");
	assert_one_flow(WS_ST_ESTABLISHED, WS_ST_ESTABLISHED, 0);
	assert_stat(WS_STAT_FLOWS, 1);
}

/* Reused after a refused connection, and by the other end. */
TEST(test_port_reuse_after_refused)
{
	/* the same 4-tuple with the ends' roles swapped */
	const struct conn rev = { .family = 4, .cli = V4.srv, .srv = V4.cli,
				  .cport = V4.sport, .sport = V4.cport };

	NEED();
	EV(&V4, C, SYN, CISN, 0, 0, 0, 0, "C:CLOSED>SYN_SENT");
	EV(&V4, S, RST | ACK, 0, CISN + 1, 0, A_SYN, WS_FF_REFUSED, "C:SYN_SENT>CLOSED");
	/* the former server now connects out from its port 80 to 36922: it is the client */
	EV(&rev, C, SYN, SISN, 0, 0, WS_NOTE_REUSED, 0, "C:CLOSED>SYN_SENT");
	EV(&rev, S, SYN | ACK, 3000, SISN + 1, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED");
	assert_one_flow(WS_ST_SYN_SENT, WS_ST_SYN_RECEIVED, 0);
	assert_stat(WS_STAT_FLOWS, 1);
}

/*
 * A new connection on a finished 4-tuple whose SYN carries data (TCP Fast
 * Open) counts that data, as the first SYN of a flow does.
 */
TEST(test_port_reuse_syn_with_data)
{
	const struct ws_event *e;

	NEED();
	e = EV(&V4, C, SYN, CISN, 0, 20, 0, 0, "C:CLOSED>SYN_SENT");
	assert_counters(e, 1, 0, 20, 0);           /* a new flow: the data is counted */
	EV(&V4, S, RST | ACK, 0, CISN + 21, 0, A_SYN, WS_FF_REFUSED, "C:SYN_SENT>CLOSED");
	/* again, on the finished tuple */
	e = EV(&V4, C, SYN, 90000, 0, 20, WS_NOTE_REUSED, 0, "C:CLOSED>SYN_SENT");
	assert_counters(e, 1, 0, 20, 0);
}

/* A SYN-ACK is the first packet seen: the client is its receiver. */
TEST(test_synack_pickup)
{
	const uint8_t ff = WS_FF_MIDSTREAM;
	const struct ws_event *e;

	NEED();
	e = EV(&V4, S, SYN | ACK, SISN, CISN + 1, 0, WS_NOTE_PICKUP | A_SYN, ff,
	       "S:LISTEN>SYN_RECEIVED");
	assert_counters(e, 0, 1, 0, 0);
	EV(&V4, C, ACK, CISN + 1, SISN + 1, 0, A_SYN, ff,
	   "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED");
	QUIET(&V4, C, PSH | ACK, CISN + 1, SISN + 1, 5);
	client_close(&V4, CISN + 6, SISN + 1, ff);
}

TEST(test_fin_retransmit)
{
	NEED();
	handshake(&V4, 0);
	EV(&V4, C, FIN | ACK, CISN + 1, SISN + 1, 0, 0, 0, "C:ESTABLISHED>FIN_WAIT_1");
	EV(&V4, C, FIN | ACK, CISN + 1, SISN + 1, 0, WS_NOTE_RETRANS, 0, "");
	/* an ACK that does not reach the FIN yet is no event */
	QUIET(&V4, S, ACK, SISN + 1, CISN + 1, 0);
	/* one past the FIN acks what was never sent */
	EV(&V4, S, ACK, SISN + 1, CISN + 3, 0, WS_NOTE_BAD_ACK, 0, "");
	assert_int_equal(fx.ev[0].tcp.expected_ack, CISN + 2);
	EV(&V4, S, ACK, SISN + 1, CISN + 2, 0, A_FIN, 0,
	   "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2");
}

/* A control packet whose flow another CPU holds is skipped and counted. */
TEST(test_lock_busy)
{
	struct ws_flow_key key;
	struct ws_flow f;
	int fd;

	NEED();
	handshake(&V4, 0);
	fd = bpf_map__fd(fx.skel->maps.flows);
	assert_int_equal(flow_count(&key, &f), 1);
	f.lock = 1;
	assert_int_equal(bpf_map_update_elem(fd, &key, &f, BPF_EXIST), 0);
	QUIET(&V4, C, FIN | ACK, CISN + 1, SISN + 1, 0);
	assert_stat(WS_STAT_LOCK_BUSY, 1);
	/* data is still counted: it needs no lock */
	QUIET(&V4, C, PSH | ACK, CISN + 1, SISN + 1, 7);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &f), 0);
	assert_int_equal(f.bytes[C], 7);
	assert_int_equal(f.st[C], WS_ST_ESTABLISHED);
	f.lock = 0;
	assert_int_equal(bpf_map_update_elem(fd, &key, &f, BPF_EXIST), 0);
	EV(&V4, C, FIN | ACK, CISN + 8, SISN + 1, 0, 0, 0, "C:ESTABLISHED>FIN_WAIT_1");
	assert_stat(WS_STAT_LOCK_BUSY, 1);
}

TEST(test_snapshot_default)
{
	uint8_t f[FR_BUF_MIN];
	size_t len;

	NEED();
	assert_int_equal(fx.snaplen, WS_SNAP_DEFAULT);
	/* a SYN with 300 bytes of data (TCP Fast Open): cut at 128 */
	len = build(f, &V4, C, SYN, CISN, 0, 300);
	g_line = __LINE__;
	send_frame(f, len);
	assert_int_equal(fx.nev, 1);
	assert_int_equal(fx.ev[0].wire_len, len);
	assert_int_equal(fx.ev[0].cap_len, WS_SNAP_DEFAULT);
	assert_memory_equal(fx.ev[0].frame, f, WS_SNAP_DEFAULT);
	assert_int_equal(fx.ev[0].tcp.paylen, 300);
	assert_counters(&fx.ev[0], 1, 0, 300, 0);
	/* a SYN-ACK of 74 bytes: whole */
	EV(&V4, S, SYN | ACK, SISN, CISN + 301, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED");
	assert_int_equal(fx.ev[0].cap_len, 74);
	/* a frame of exactly the snap length */
	len = build(f, &V4, C, FIN | ACK, CISN + 301, SISN + 1, 128 - 54);
	assert_int_equal(len, 128);
	send_frame(f, len);
	assert_int_equal(fx.nev, 1);
	assert_int_equal(fx.ev[0].cap_len, 128);
	assert_memory_equal(fx.ev[0].frame, f, 128);
}

TEST(test_snaplen_64)
{
	uint8_t f[FR_BUF_MIN];
	size_t len;

	NEED_OPEN();
	fx.skel->rodata->snaplen = 64;
	LOAD();
	assert_int_equal(fx.snaplen, 64);
	EV(&V4, C, SYN, CISN, 0, 0, 0, 0, "C:CLOSED>SYN_SENT");     /* checks cap 64 */
	assert_int_equal(fx.ev[0].cap_len, 64);
	assert_int_equal(fx.ev[0].wire_len, 74);
	/* ARP: 42 bytes, whole */
	ARP(1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	assert_int_equal(fx.ev[0].cap_len, 42);
	len = build(f, &V6, C, SYN, CISN, 0, 1000);
	send_frame(f, len);
	assert_int_equal(fx.nev, 1);
	assert_int_equal(fx.ev[0].cap_len, 64);
	assert_int_equal(fx.ev[0].wire_len, len);
	assert_memory_equal(fx.ev[0].frame, f, 64);
}

/* Did the reader get woken (its epoll fd reports the ring) within ms? */
static int woken(int ms)
{
	struct epoll_event ev;

	return epoll_wait(ring_buffer__epoll_fd(fx.rb), &ev, 1, ms);
}

/*
 * wake_bytes: no wake-up for the events below the mark, one for the event
 * that reaches it.  Without a mark (0, the kernel's rule) the first event
 * into an empty ring wakes the reader.
 */
TEST(test_wake_mark)
{
	uint8_t f[FR_BUF_MIN];
	size_t len = fr_arp(f, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	/* what one ARP event takes of the ring: its record is sized for its 42 frame bytes */
	const size_t rec = WS_RB_RECORD_OF(WS_EV_SIZE(len));

	NEED_OPEN();
	fx.skel->rodata->wake_bytes = (uint32_t)(3 * rec);
	LOAD();
	g_line = __LINE__;
	assert_int_equal(woken(0), 0);
	xdp_run(f, len);
	assert_int_equal(woken(50), 0);
	xdp_run(f, len);
	assert_int_equal(woken(50), 0);
	xdp_run(f, len);                     /* 3 records: the mark */
	assert_int_equal(woken(2000), 1);
	assert_int_equal(drain(), 3);
	assert_int_equal(woken(0), 0);
}

TEST(test_wake_default)
{
	uint8_t f[FR_BUF_MIN];
	size_t len = fr_arp(f, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");

	NEED();
	assert_int_equal(fx.skel->rodata->wake_bytes, 0);
	g_line = __LINE__;
	xdp_run(f, len);
	assert_int_equal(woken(2000), 1);
	assert_int_equal(drain(), 1);
}

TEST(test_snaplen_max)
{
	uint8_t f[FR_BUF_MIN];
	size_t len;

	NEED_OPEN();
	fx.skel->rodata->snaplen = WS_SNAP_MAX;
	LOAD();
	len = build(f, &V4, C, SYN, CISN, 0, 1400);
	g_line = __LINE__;
	send_frame(f, len);
	assert_int_equal(fx.nev, 1);
	assert_int_equal(fx.ev[0].cap_len, WS_SNAP_MAX);
	assert_memory_equal(fx.ev[0].frame, f, WS_SNAP_MAX);
}

/*
 * A record holds the event's fixed part and 64, 128 or 256 frame bytes,
 * the fewest that hold what it carries: ARP frames padded to each side of
 * each boundary, their padding not zero so that a short copy shows.
 */
TEST(test_record_sizes)
{
	static const struct {
		size_t wire, cap, room;
	} c[] = {
		{ 42, 42, 64 }, { 64, 64, 64 }, { 65, 65, 128 }, { 128, 128, 128 },
		{ 129, 129, 256 }, { 256, 256, 256 }, { 300, 256, 256 },
	};
	uint8_t f[FR_BUF_MIN];

	NEED_OPEN();
	fx.skel->rodata->snaplen = WS_SNAP_MAX;
	LOAD();
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t n = fr_arp(f, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");

		for (size_t k = n; k < c[i].wire; k++)
			f[k] = (uint8_t)(0xa0 + k);
		g_line = __LINE__;
		xdp_run(f, c[i].wire);
		assert_int_equal(drain(), 1);
		assert_int_equal(fx.ev[0].type, WS_EV_ARP);
		assert_int_equal(fx.ev[0].wire_len, c[i].wire);
		assert_int_equal(fx.ev[0].cap_len, c[i].cap);
		assert_memory_equal(fx.ev[0].frame, f, c[i].cap);
		assert_int_equal(fx.rec_size[0], 128 + c[i].room);
	}
}

/* ------------------------------------------------------------ ring buffer full */

TEST(test_ringbuf_full_gap)
{
	enum { NSYN = 40 };
	uint8_t f[FR_BUF_MIN];
	struct conn k = V4;
	uint64_t drops, events;
	int i, n;

	NEED_OPEN();
	assert_int_equal(bpf_map__set_max_entries(fx.skel->maps.events, 4096), 0);
	LOAD();

	/* 40 connections open without anyone reading: ~10 events fit */
	for (i = 0; i < NSYN; i++) {
		k.cport = (uint16_t)(40000 + i);
		size_t len = build(f, &k, C, SYN, CISN + (uint32_t)i, 0, 0);

		g_line = __LINE__;
		xdp_run(f, len);
	}
	drops = stat_get(WS_STAT_RB_DROPS);
	events = stat_get(WS_STAT_EVENTS);
	assert_true(drops > 0);
	assert_true(events > 0);
	assert_int_equal(drops + events, NSYN);
	assert_int_equal(stat_get(WS_STAT_FLOWS), NSYN);
	g_line = __LINE__;
	n = drain();
	assert_int_equal(n, events);
	/* what got through came in order, first to last, without a gap of its own */
	for (i = 0; i < n; i++) {
		assert_int_equal(fx.ev[i].tcp.sport, 40000 + i);
		assert_int_equal(fx.ev[i].tcp.fflags, 0);
	}

	/* the last connection's SYN event was lost: its SYN-ACK says so */
	k.cport = 40000 + NSYN - 1;
	EV(&k, S, SYN | ACK, SISN, CISN + NSYN, 0, A_SYN, WS_FF_GAP, "S:LISTEN>SYN_RECEIVED");
	EV(&k, C, ACK, CISN + NSYN, SISN + 1, 0, A_SYN, WS_FF_GAP,
	   "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED");
	/* the first one's was not */
	k.cport = 40000;
	EV(&k, S, SYN | ACK, SISN, CISN + 1, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED");
	assert_int_equal(stat_get(WS_STAT_RB_DROPS), drops);
}

/* ------------------------------------------------------------ TC egress */

TEST(test_tc_egress)
{
	uint8_t f[FR_BUF_MIN];
	size_t len;
	__u32 ret = 0;

	NEED();
	len = build(f, &V4, C, SYN, CISN, 0, 0);
	assert_int_equal(prog_run(fx.skel->progs.ws_tc_egress, f, len, &ret), 0);
	assert_int_equal((int)ret, -1);             /* TC_ACT_UNSPEC: next */
	g_line = __LINE__;
	drain();
	assert_int_equal(fx.nev, 1);
	assert_int_equal(fx.ev[0].dir, WS_DIR_EGRESS);
	assert_int_equal(fx.ev[0].type, WS_EV_TCP);
	assert_int_equal(fx.ev[0].tcp.flags, SYN);
	assert_int_equal(fx.ev[0].cap_len, len);
	assert_int_equal(fx.ev[0].wire_len, len);
	assert_memory_equal(fx.ev[0].frame, f, len);
	/* the answer on ingress belongs to the same flow */
	EV(&V4, S, SYN | ACK, SISN, CISN + 1, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED");
}

/* ------------------------------------------ the quiet-flow cache (qslots) */

/*
 * Move this thread to one CPU (BPF_PROG_TEST_RUN runs on the caller's CPU).
 * The first move saves the CPUs the test was given; unpin() (also run by
 * teardown_unpin when an assertion fails) gives them back.
 */
static cpu_set_t g_cpus;
static int g_pinned;

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (!g_pinned) {
		if (sched_getaffinity(0, sizeof(g_cpus), &g_cpus))
			return -1;
		g_pinned = 1;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void unpin(void)
{
	if (g_pinned && sched_setaffinity(0, sizeof(g_cpus), &g_cpus) == 0)
		g_pinned = 0;
}

static int teardown_unpin(void **state)
{
	unpin();
	return teardown(state);
}

/* What the live slots of connection k hold, summed over CPUs; returns how many are live. */
static int qslots_of(const struct conn *k, uint64_t pk[2], uint64_t by[2])
{
	int fd = bpf_map__fd(fx.skel->maps.qslots);
	uint32_t n = bpf_map__max_entries(fx.skel->maps.qslots);
	struct ws_qslot *v = calloc((size_t)fx.ncpu, sizeof(*v));
	int live = 0;

	assert_non_null(v);
	pk[0] = pk[1] = by[0] = by[1] = 0;
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &i, v), 0);
		for (int c = 0; c < fx.ncpu; c++) {
			const struct ws_qslot *q = &v[c];

			if (!q->live || q->key.family != k->family ||
			    !((q->key.port[0] == k->cport && q->key.port[1] == k->sport) ||
			      (q->key.port[1] == k->cport && q->key.port[0] == k->sport)))
				continue;
			live++;
			pk[0] += q->pkts[0];
			pk[1] += q->pkts[1];
			by[0] += q->bytes[0];
			by[1] += q->bytes[1];
		}
	}
	free(v);
	return live;
}

/*
 * Data segments of a quiet flow are counted in this CPU's slot, not in the
 * flow, and every event still reports exact counters; the ACK of a FIN,
 * which comes after data the slot counted, is still seen.  The slot is
 * matched against each segment's own addresses and ports (no key is built
 * when it hits): both directions, IPv4 and IPv6, must hit it.
 */
static void quiet_cache_counts(const struct conn *k)
{
	const struct ws_event *e;
	uint64_t pk[2], by[2];
	uint32_t cseq = CISN + 1;
	int i;

	assert_int_equal(pin_cpu(0), 0);
	handshake(k, 0);
	for (i = 0; i < 200; i++, cseq += 100)
		QUIET(k, C, PSH | ACK, cseq, SISN + 1, 100);
	for (i = 0; i < 100; i++)
		QUIET(k, S, ACK, SISN + 1, CISN + 1 + (uint32_t)(i + 1) * 200, 0);
	/* the cache did the counting: all but the first segment, which installed the slot */
	assert_int_equal(qslots_of(k, pk, by), 1);
	assert_int_equal(pk[C], 199);
	assert_int_equal(pk[S], 100);
	assert_int_equal(by[C], 199 * 100);

	e = EV(k, C, FIN | ACK, cseq, SISN + 1, 0, 0, 0, "C:ESTABLISHED>FIN_WAIT_1");
	assert_counters(e, 2 + 200 + 1, 1 + 100, 200 * 100, 0);
	e = EV(k, S, ACK, SISN + 1, cseq + 1, 0, A_FIN, 0,
	       "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2");
	assert_counters(e, 203, 102, 20000, 0);
	unpin();
}

TEST(test_quiet_cache_counts)
{
	NEED();
	quiet_cache_counts(&V4);
}

TEST(test_quiet_cache_counts_v6)
{
	NEED();
	quiet_cache_counts(&V6);
}

/*
 * Two CPUs: each counts one direction in its own slot; events on either
 * CPU add both, the stale slot of the other CPU never swallows the ACK of
 * a FIN, and a new connection on the same 4-tuple starts from zero.
 */
TEST(test_quiet_cache_two_cpus)
{
	const struct ws_event *e;
	uint64_t pk[2], by[2];
	uint32_t cseq = CISN + 1, sseq = SISN + 1;
	int i;

	NEED();
	if (fx.ncpu < 2 || pin_cpu(1) != 0) {
		unpin();
		skip();
	}
	assert_int_equal(pin_cpu(0), 0);
	handshake(&V4, 0);
	for (i = 0; i < 100; i++, cseq += 10)
		QUIET(&V4, C, PSH | ACK, cseq, sseq, 10);
	assert_int_equal(pin_cpu(1), 0);
	for (i = 0; i < 70; i++, sseq += 30)
		QUIET(&V4, S, PSH | ACK, sseq, cseq, 30);
	assert_int_equal(qslots_of(&V4, pk, by), 2);
	assert_int_equal(pk[C], 99);
	assert_int_equal(pk[S], 69);

	assert_int_equal(pin_cpu(0), 0);
	e = EV(&V4, C, FIN | ACK, cseq, sseq, 0, 0, 0, "C:ESTABLISHED>FIN_WAIT_1");
	assert_counters(e, 2 + 100 + 1, 1 + 70, 1000, 2100);
	assert_int_equal(pin_cpu(1), 0);
	e = EV(&V4, S, ACK, sseq, cseq + 1, 0, A_FIN, 0,
	       "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2");
	assert_counters(e, 103, 72, 1000, 2100);
	e = EV(&V4, S, FIN | ACK, sseq, cseq + 1, 0, 0, 0, "S:CLOSE_WAIT>LAST_ACK");
	assert_int_equal(pin_cpu(0), 0);
	e = EV(&V4, C, ACK, cseq + 1, sseq + 1, 0, A_FIN, 0,
	       "C:FIN_WAIT_2>TIME_WAIT S:LAST_ACK>CLOSED");
	assert_counters(e, 104, 73, 1000, 2100);

	/* the same 4-tuple again: what the old slots hold is not the new connection's */
	e = EV(&V4, C, SYN, 90000, 0, 0, WS_NOTE_REUSED, 0, "C:CLOSED>SYN_SENT");
	assert_counters(e, 1, 0, 0, 0);
	assert_int_equal(pin_cpu(1), 0);
	EV(&V4, S, SYN | ACK, 70000, 90001, 0, A_SYN, 0, "S:LISTEN>SYN_RECEIVED");
	assert_int_equal(pin_cpu(0), 0);
	EV(&V4, C, ACK, 90001, 70001, 0, A_SYN, 0,
	   "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED");
	for (i = 0; i < 5; i++)
		QUIET(&V4, C, PSH | ACK, 90001 + (uint32_t)i * 7, 70001, 7);
	assert_int_equal(pin_cpu(1), 0);
	for (i = 0; i < 3; i++)
		QUIET(&V4, S, PSH | ACK, 70001 + (uint32_t)i * 9, 90036, 9);
	e = EV(&V4, S, FIN | ACK, 70028, 90036, 0, 0, 0, "S:ESTABLISHED>FIN_WAIT_1");
	assert_counters(e, 2 + 5, 1 + 3 + 1, 35, 27);
	unpin();
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup_xdp, teardown)
#define TF(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define TO(t) cmocka_unit_test_setup_teardown(t, setup_open_xdp, teardown)
	const struct CMUnitTest tests[] = {
		TF(test_empty_prog_passes),
		T(test_xdp_passes_every_frame),
		TF(test_handshake_client_close),
		T(test_server_close),
		T(test_refused),
		T(test_simultaneous_close),
		T(test_simultaneous_open),
		T(test_syn_retransmit),
		T(test_synack_bad_ack),
		T(test_midstream_pickup),
		T(test_rst_no_flow),
		T(test_ipv6_handshake),
		T(test_vlan_handshake),
		T(test_qinq_handshake),
		T(test_ipv4_options),
		T(test_ipv6_ext_headers),
		T(test_truncated_frames),
		T(test_runt_frames_rejected),
		T(test_non_first_fragment),
		T(test_padding_not_payload),
		T(test_new_flow_event_time),
		T(test_port_reuse),
		T(test_port_reuse_after_refused),
		T(test_synack_pickup),
		T(test_fin_retransmit),
		T(test_lock_busy),
		T(test_snapshot_default),
		TO(test_snaplen_64),
		TO(test_snaplen_max),
		TO(test_record_sizes),
		TO(test_wake_mark),
		T(test_wake_default),
		TO(test_ringbuf_full_gap),
		TF(test_tc_egress),
		/*
		 * Fails while ws_track()'s reuse path in bpf/wirestate.bpf.c resets
		 * the flow without counting the SYN's payload in bytes[WS_CLIENT].
		 */
		T(test_port_reuse_syn_with_data),
		cmocka_unit_test_setup_teardown(test_quiet_cache_counts, setup_xdp, teardown_unpin),
		cmocka_unit_test_setup_teardown(test_quiet_cache_counts_v6, setup_xdp, teardown_unpin),
		cmocka_unit_test_setup_teardown(test_quiet_cache_two_cpus, setup_xdp, teardown_unpin),
	};

	libbpf_set_print(quiet_print);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
