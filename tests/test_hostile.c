// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Hostile input for the real BPF object: crafted frames go through ws_xdp
 * with BPF_PROG_TEST_RUN, on a freshly loaded skeleton per test, and the
 * ring buffer, the flow table and the per-CPU counters must say exactly what
 * happened.  Malformed and truncated headers (every cut of several frames,
 * IHL < 5, TCP data offsets < 5 or past the packet), IPv4 options, IPv6
 * extension-header chains past the bound, fragments, VLAN stacks, a SYN
 * flood into a small flow table (memory bounded, drops counted), RST storms,
 * retransmitted and out-of-window FINs and RSTs, acks past a FIN, sequence
 * numbers that wrap.
 *
 * Each frame's verdict is also checked against the native ws_parse(), so a
 * failure says which parser error was expected.
 *
 * Tests named *_FINDING_* expose bugs in include/ (see their comments): they
 * fail until the proposed patch is applied.
 *
 * Needs root (CAP_BPF + CAP_NET_ADMIN); without it every test is skipped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "ws_parse.h"
#include "ws_event.h"
#include "wirestate.skel.h"
#include "frames.h"
#include "wstest.h"

#define MAX_EV 64

/* ---------------------------------------------------------------- fixture */

#define BT_FX_EXTRA uint64_t st0[WS_STAT__MAX];     /* counters at the last mark() */
#include "bpftest.h"

static int setup(void **state)
{
	(void)state;
	bt_open(&(struct bt_opts){ .ev_overflow_ok = 1 });
	bt_load();
	return 0;
}

/* The SYN flood's table: 4096 flows, as `wirestate --flows 4096` sets it. */
static int setup_small(void **state)
{
	(void)state;
	bt_open(&(struct bt_opts){ .flows_max = 4096, .ev_overflow_ok = 1 });
	bt_load();
	return 0;
}

#define need_bpf() need_(1)

/* ---------------------------------------------------------------- helpers */

static void mark(void)
{
	uint32_t i;

	for (i = 0; i < WS_STAT__MAX; i++)
		fx.st0[i] = stat_get(i);
}

/* How much a counter went up since mark(). */
static uint64_t delta(uint32_t idx)
{
	return stat_get(idx) - fx.st0[idx];
}

static int xdp_try(const void *buf, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (__u32)len, .repeat = 1);
	int rc = bpf_prog_test_run_opts(bpf_program__fd(fx.skel->progs.ws_xdp), &o);

	if (rc == 0 && o.retval != XDP_PASS)
		fail_msg("line %d: ws_xdp returned %u, want XDP_PASS", g_line, o.retval);
	return rc;
}

static void xdp(const void *buf, size_t len)
{
	if (xdp_try(buf, len))
		fail_msg("line %d: BPF_PROG_TEST_RUN of a %zu-byte frame: %s", g_line, len,
			 strerror(errno));
}

static int native(const uint8_t *buf, size_t len, struct ws_pkt *p)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = ws_parse(copy, copy + len, p);
	free(copy);
	return rc;
}

static const char *const err_names[] = {
	"OK", "ETH_TRUNC", "VLAN_TRUNC", "VLAN_DEPTH", "ARP_TRUNC", "IP_TRUNC", "IP_IHL",
	"IP_LEN", "IP6_TRUNC", "IP6_EXT_DEPTH", "TCP_TRUNC", "TCP_DOFF",
};

static const char *ename(unsigned int e)
{
	return e < WS_ERR__MAX ? err_names[e] : "?";
}

/*
 * Run one frame that must be rejected as malformed: the native parser says
 * want_err (or any error when want_err < 0), the kernel counts one parse
 * error, no event, no flow.
 */
static void reject_(const uint8_t *buf, size_t len, int want_err, const char *what)
{
	struct ws_pkt p;
	int err = native(buf, len, &p);
	int flows0 = flow_count(NULL, NULL);

	if (want_err >= 0 ? err != want_err : err == WS_OK)
		fail_msg("line %d: %s (%zu bytes): native parse %s, want %s", g_line, what, len,
			 ename((unsigned int)err), want_err >= 0 ? ename((unsigned int)want_err) : "an error");
	mark();
	xdp(buf, len);
	if (drain() != 0)
		fail_msg("line %d: %s (%zu bytes, %s): %d events, want none (first: type %u)", g_line,
			 what, len, ename((unsigned int)err), fx.nev, fx.ev[0].type);
	if (delta(WS_STAT_PARSE_ERR) != 1 || delta(WS_STAT_PACKETS) != 1)
		fail_msg("line %d: %s (%zu bytes, %s): parse errors +%llu packets +%llu, want +1 +1",
			 g_line, what, len, ename((unsigned int)err),
			 (unsigned long long)delta(WS_STAT_PARSE_ERR),
			 (unsigned long long)delta(WS_STAT_PACKETS));
	if (flow_count(NULL, NULL) != flows0)
		fail_msg("line %d: %s: the flow table changed", g_line, what);
}
#define reject(buf, len, want, what) do { g_line = __LINE__; reject_(buf, len, want, what); } while (0)

/* Run one frame that is fine: no parse error; returns the number of events. */
static int accept_(const uint8_t *buf, size_t len, const char *what)
{
	struct ws_pkt p;
	int err = native(buf, len, &p);

	if (err != WS_OK)
		fail_msg("line %d: %s: native parse %s, want OK", g_line, what, ename((unsigned int)err));
	mark();
	xdp(buf, len);
	drain();
	if (delta(WS_STAT_PARSE_ERR) != 0)
		fail_msg("line %d: %s: counted as a parse error", g_line, what);
	return fx.nev;
}
#define accept(buf, len, what) (g_line = __LINE__, accept_(buf, len, what))

static const char *const st_names[] = {
	"NONE", "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
	"FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

static const char *trs(const struct ws_tcp_ev *t, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < t->ntr && i < WS_MAX_TR; i++) {
		__u8 role, o, nw;

		ws_tr_unpack(t->tr, i, &role, &o, &nw);
		n += (size_t)snprintf(buf + n, len - n, "%s%c:%s>%s", i ? " " : "", role ? 'S' : 'C',
				      o < WS_ST__MAX ? st_names[o] : "?",
				      nw < WS_ST__MAX ? st_names[nw] : "?");
	}
	return buf;
}

/* ----------------------------------------------------------- connections */

/* One IPv4 connection: client 10.0.0.1:40000, server 10.0.0.2:80. */
static size_t seg_frame(uint8_t *buf, int role, uint8_t flags, uint32_t seq, uint32_t ack,
			uint16_t paylen)
{
	struct tcpspec t = {
		.family = 4, .seq = seq, .ack = ack, .flags = flags, .paylen = paylen,
	};

	t.src = role == C ? "10.0.0.1" : "10.0.0.2";
	t.dst = role == C ? "10.0.0.2" : "10.0.0.1";
	t.sport = role == C ? 40000 : 80;
	t.dport = role == C ? 80 : 40000;
	if (flags & SYN) {
		t.mss = 1460;
		t.sack_ok = 1;
	}
	return fr_tcp(buf, &t);
}

/* Send one segment; it must parse; returns how many events it made (fx.ev). */
static int seg_(int role, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t paylen)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len = seg_frame(buf, role, flags, seq, ack, paylen);

	mark();
	xdp(buf, len);
	drain();
	if (delta(WS_STAT_PARSE_ERR))
		fail_msg("line %d: a well-formed segment counted as a parse error", g_line);
	if (fx.nev > 1)
		fail_msg("line %d: %d events for one segment", g_line, fx.nev);
	if (fx.nev == 1 && fx.ev[0].type != WS_EV_TCP)
		fail_msg("line %d: event type %u", g_line, fx.ev[0].type);
	return fx.nev;
}

/* A segment that must be an event with exactly these transitions and note. */
static void segx_(int role, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t paylen,
		  const char *want_trs, uint8_t want_note, const char *why)
{
	char got[256];

	if (seg_(role, flags, seq, ack, paylen) != 1)
		fail_msg("line %d: no event, want \"%s\" note 0x%02x%s%s", g_line, want_trs, want_note,
			 why ? ": " : "", why ? why : "");
	trs(&fx.ev[0].tcp, got, sizeof(got));
	if (strcmp(got, want_trs) != 0 || fx.ev[0].tcp.note != want_note)
		fail_msg("line %d: transitions \"%s\" note 0x%02x, want \"%s\" note 0x%02x%s%s", g_line,
			 got, fx.ev[0].tcp.note, want_trs, want_note, why ? ": " : "", why ? why : "");
}
#define seg(...) (g_line = __LINE__, seg_(__VA_ARGS__))
#define segx(role, flags, seq, ack, len, want, note) \
	do { g_line = __LINE__; segx_(role, flags, seq, ack, len, want, note, NULL); } while (0)
#define segw(role, flags, seq, ack, len, want, note, why) \
	do { g_line = __LINE__; segx_(role, flags, seq, ack, len, want, note, why); } while (0)

static void handshake(uint32_t ci, uint32_t si)
{
	segx(C, SYN, ci, 0, 0, "C:CLOSED>SYN_SENT", 0);
	segx(S, SYN | ACK, si, ci + 1, 0, "S:LISTEN>SYN_RECEIVED", WS_NOTE_ACKS_SYN);
	segx(C, ACK, ci + 1, si + 1, 0, "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED",
	     WS_NOTE_ACKS_SYN);
}

/* ------------------------------------------------------------ truncation */

TEST(test_truncated_every_offset)
{
	uint8_t full[FR_BUF_MIN];
	struct tcpspec t;
	size_t len, cut;
	int f, cuts = 0;

	need_bpf();
	for (f = 0; f < 5; f++) {
		const char *what;

		memset(&t, 0, sizeof(t));
		t.flags = SYN;
		t.sport = 40000;
		t.dport = 443;
		t.seq = 0x01020304;
		t.mss = 1460;
		t.ts = 1;
		t.sack_ok = 1;
		t.has_wscale = 1;
		t.wscale = 7;
		switch (f) {
		case 0:
			what = "IPv4 SYN with options";
			t.family = 4, t.src = "10.0.0.1", t.dst = "10.0.0.2";
			break;
		case 1:
			what = "QinQ IPv4 SYN with IP options";
			t.family = 4, t.src = "10.0.0.1", t.dst = "10.0.0.2";
			t.nvlan = 2, t.vlan[0] = 100, t.vlan[1] = 200, t.ip_opts = 8;
			break;
		case 2:
			what = "IPv6 SYN with options";
			t.family = 6, t.src = "2001:db8::1", t.dst = "2001:db8::2";
			break;
		case 3:
			what = "VLAN IPv6 SYN with 3 extension headers";
			t.family = 6, t.src = "2001:db8::1", t.dst = "2001:db8::2";
			t.nvlan = 1, t.vlan[0] = 7, t.ip6_ext = 3;
			break;
		default:
			what = "ARP request";
			break;
		}
		if (f == 4)
			len = fr_arp(full, 1, "02:00:00:00:00:01", "10.0.0.1", NULL, "10.0.0.2");
		else
			len = fr_tcp(full, &t);

		/* every cut: headers only, so each one cuts a header */
		for (cut = 0; cut < len; cut++) {
			struct ws_pkt p;

			if (cut < 14) {
				/* the kernel refuses to run XDP on less than Ethernet */
				assert_int_equal(native(full, cut, &p), WS_ERR_ETH_TRUNC);
				assert_int_not_equal(xdp_try(full, cut), 0);
				continue;
			}
			reject(full, cut, -1, what);
			cuts++;
		}
		/* the whole frame is one event; padded to 60 bytes, still one, same fields */
		if (accept(full, len, what) != 1)
			fail_msg("%s: complete frame: %d events, want 1", what, fx.nev);
		if (len < 60) {
			memset(full + len, 0, 60 - len);
			if (accept(full, 60, what) != 1)
				fail_msg("%s: padded frame: %d events, want 1", what, fx.nev);
		}
	}
	print_message("%d cut frames rejected, none made an event\n", cuts);
}

/* ----------------------------------------------------------- IPv4 header */

static size_t syn4(uint8_t *buf, int ip_opts)
{
	struct tcpspec t = {
		.family = 4, .src = "10.0.0.1", .dst = "10.0.0.2", .sport = 40000, .dport = 80,
		.seq = CISN, .flags = SYN, .ip_opts = ip_opts,
	};
	return fr_tcp(buf, &t);
}

TEST(test_ipv4_ihl_below_5)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len;
	int ihl;

	need_bpf();
	for (ihl = 0; ihl < 5; ihl++) {
		len = syn4(buf, 0);
		buf[14] = (uint8_t)(0x40 | ihl);
		reject(buf, len, WS_ERR_IP_IHL, "IHL < 5");
	}
	len = syn4(buf, 0);
	buf[14] = 0x65;                                 /* version 6 under ethertype IPv4 */
	reject(buf, len, WS_ERR_IP_IHL, "IP version 6 in an IPv4 frame");
	len = syn4(buf, 0);
	buf[14] = 0x4f;                                 /* IHL 15: 60 bytes, frame has 20 */
	reject(buf, 14 + 40, WS_ERR_IP_TRUNC, "IHL past the frame");
	len = syn4(buf, 0);
	fr_put16(buf + 16, 19);                         /* total length < header */
	reject(buf, len, WS_ERR_IP_LEN, "total length 19");
	assert_int_equal(flow_count(NULL, NULL), 0);
}

TEST(test_ipv4_options)
{
	uint8_t buf[FR_BUF_MIN];
	int opts;

	need_bpf();
	for (opts = 4; opts <= 40; opts += 4) {
		struct tcpspec t = {
			.family = 4, .src = "10.0.0.1", .dst = "10.0.0.2", .sport = (uint16_t)(40000 + opts),
			.dport = 80, .seq = CISN + (uint32_t)opts, .flags = SYN, .ip_opts = opts,
			.mss = 1460,
		};
		size_t len = fr_tcp(buf, &t);

		/* not only NOPs: a record-route option the parser must skip */
		if (opts >= 8) {
			buf[14 + 20] = 7;
			buf[14 + 21] = 7;
			buf[14 + 22] = 4;
		}
		if (accept(buf, len, "IPv4 options") != 1)
			fail_msg("%d option bytes: %d events", opts, fx.nev);
		assert_int_equal(fx.ev[0].tcp.sport, 40000 + opts);
		assert_int_equal(fx.ev[0].tcp.dport, 80);
		assert_int_equal(fx.ev[0].tcp.seq, CISN + (uint32_t)opts);
		assert_int_equal(fx.ev[0].tcp.flags, SYN);
		/* options longer than the frame */
		reject(buf, 14 + 20 + (size_t)opts - 1, WS_ERR_IP_TRUNC, "IPv4 options cut");
	}
	assert_int_equal(flow_count(NULL, NULL), 10);
	assert_int_equal(stat_get(WS_STAT_FLOWS), 10);
}

/* ----------------------------------------------------------- TCP header */

TEST(test_tcp_data_offset)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len;
	int doff;

	need_bpf();
	for (doff = 0; doff < 5; doff++) {
		len = syn4(buf, 0);
		buf[14 + 20 + 12] = (uint8_t)(doff << 4);
		reject(buf, len, WS_ERR_TCP_DOFF, "TCP data offset < 5");
	}
	/* 60-byte TCP header, IP payload 20 */
	len = syn4(buf, 0);
	buf[14 + 20 + 12] = 0xf0;
	reject(buf, len, WS_ERR_TCP_DOFF, "data offset past the IP payload");
	/* IP length claims the options, the frame ends first */
	len = syn4(buf, 0);
	buf[14 + 20 + 12] = 0xf0;
	fr_put16(buf + 16, 20 + 60);
	reject(buf, len, WS_ERR_TCP_TRUNC, "data offset past the frame");
	/* the same with the frame long enough: fine */
	memset(buf + len, 1, 40);
	if (accept(buf, len + 40, "60-byte TCP header") != 1)
		fail_msg("60-byte TCP header: %d events", fx.nev);
	assert_int_equal(fx.ev[0].tcp.paylen, 0);
	/* IPv4 payload shorter than a TCP header */
	len = syn4(buf, 0);
	fr_put16(buf + 16, 20 + 12);
	reject(buf, len, WS_ERR_TCP_DOFF, "IP payload shorter than the TCP header");
}

/* ---------------------------------------------------------------- IPv6 */

static size_t syn6(uint8_t *buf, int next, uint16_t sport)
{
	struct tcpspec t = {
		.family = 6, .src = "2001:db8::1", .dst = "2001:db8::2", .sport = sport, .dport = 80,
		.seq = CISN, .flags = SYN, .ip6_ext = next,
	};
	return fr_tcp(buf, &t);
}

TEST(test_ip6_ext_chain_depth)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len;
	int n;

	need_bpf();
	for (n = 0; n <= WS_MAX_IP6_EXT; n++) {
		len = syn6(buf, n, (uint16_t)(40000 + n));      /* a different flow each */
		if (accept(buf, len, "IPv6 extension headers within the bound") != 1)
			fail_msg("%d extension headers: %d events, want 1", n, fx.nev);
		assert_int_equal(fx.ev[0].family, 6);
		assert_int_equal(fx.ev[0].tcp.flags, SYN);
		assert_int_equal(fx.ev[0].tcp.seq, CISN);
	}
	for (n = WS_MAX_IP6_EXT + 1; n <= 40; n += (n < 10 ? 1 : 15)) {
		len = syn6(buf, n, 40000);
		reject(buf, len, WS_ERR_IP6_EXT_DEPTH, "IPv6 extension chain longer than the bound");
		/* the same chain cut short inside the bound is cut short */
		reject(buf, 14 + 40 + 8 * 3 + 4, WS_ERR_IP6_TRUNC, "IPv6 extension chain cut");
	}
	/* an extension header longer than the payload length says */
	len = syn6(buf, 1, 40000);
	buf[14 + 41] = 10;                              /* 88 bytes */
	reject(buf, len, WS_ERR_IP6_TRUNC, "extension header past the payload length");
	assert_int_equal(flow_count(NULL, NULL), WS_MAX_IP6_EXT + 1);
}

/*
 * FINDING (include/ws_parse.h, ws_parse_ipv6): the extension-header walk
 * keeps its offset modulo 4096 ("off = (off + len) & 0xfff") and reads each
 * header at "off & 0x7ff".  Headers whose lengths add up past 2047 bytes
 * make it read an earlier part of the frame again, and past 4095 the offset
 * wraps to 0: this 1130-byte frame, whose extension chain really ends 4096
 * bytes in, comes out as WS_OK with a TCP SYN decoded from the IPv6 header
 * itself (port 0x6000...), and ws_xdp opens a flow for it.  The chain is
 * cut short: it must be a parse error, no event.  Fix: stop the walk as
 * soon as the offset passes 0x7ff (patch in the report).
 */
TEST(test_ip6_FINDING_ext_offset_wraps)
{
	uint8_t buf[FR_BUF_MIN] = { 0 };
	uint8_t *ip;
	size_t k = fr_eth(buf, NULL, NULL, 0, NULL, 0x86dd), len;
	struct ws_pkt p;
	int err;

	need_bpf();
	ip = buf + k;
	ip[0] = 0x60;
	fr_put16(ip + 4, 0xffff);
	ip[6] = 0;                      /* hop-by-hop, 2048 bytes */
	ip[7] = 64;
	ip[12] = 0x50;
	ip[13] = 0x02;
	ip[40] = 51;                    /* then "AH": 1028 bytes */
	ip[41] = 255;
	ip[1068] = 6;                   /* then "AH": 980 bytes, next TCP */
	ip[1069] = 243;
	len = k + 1068 + 48;
	err = native(buf, len, &p);
	mark();
	xdp(buf, len);
	drain();
	if (err != WS_ERR_IP6_TRUNC || fx.nev || delta(WS_STAT_PARSE_ERR) != 1 || flow_count(NULL, NULL))
		fail_msg("FINDING: an IPv6 extension chain ending 4096 bytes into a %zu-byte frame: "
			 "native ws_parse %s (is_tcp %u, TCP header at %u, the IPv6 header at %u, "
			 "sport %#x flags %#x); ws_xdp: %d event(s), parse errors +%llu, %d flow(s); "
			 "want IP6_TRUNC, a parse error, no event, no flow", len,
			 ename((unsigned int)err), p.is_tcp, p.l4_off, p.l3_off, p.sport,
			 p.tcp_flags, fx.nev, (unsigned long long)delta(WS_STAT_PARSE_ERR),
			 flow_count(NULL, NULL));
	assert_int_equal(flow_count(NULL, NULL), 0);
}

/* ------------------------------------------------------------ fragments */

TEST(test_fragments)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len;
	int i;

	need_bpf();
	/* IPv4 first fragment (MF, offset 0): it holds the TCP header */
	len = syn4(buf, 0);
	fr_put16(buf + 14 + 6, 0x2000);
	if (accept(buf, len, "IPv4 first fragment") != 1)
		fail_msg("IPv4 first fragment: %d events, want 1", fx.nev);
	assert_int_equal(flow_count(NULL, NULL), 1);

	/* later fragments whose data looks like TCP SYNs: no event, no flow, no error */
	for (i = 1; i <= 200; i++) {
		len = syn4(buf, 0);
		fr_put16(buf + 14 + 6, (uint32_t)((i & 1 ? 0x2000 : 0) | i));
		buf[14 + 20] = (uint8_t)i;              /* "ports" vary */
		if (accept(buf, len, "IPv4 later fragment") != 0)
			fail_msg("IPv4 fragment at offset %d: %d events, want none", i * 8, fx.nev);
	}
	assert_int_equal(flow_count(NULL, NULL), 1);

	/* IPv6 fragment header: first fragment, later fragment */
	len = syn6(buf, 1, 40000);
	buf[14 + 6] = 44;
	buf[14 + 40] = 6;
	buf[14 + 41] = 0;
	fr_put16(buf + 14 + 42, 0x0001);                /* offset 0, M */
	if (accept(buf, len, "IPv6 first fragment") != 1)
		fail_msg("IPv6 first fragment: %d events, want 1", fx.nev);
	for (i = 1; i <= 200; i++) {
		fr_put16(buf + 14 + 42, (uint32_t)(i << 3 | (i & 1)));
		buf[14 + 48] = (uint8_t)i;
		if (accept(buf, len, "IPv6 later fragment") != 0)
			fail_msg("IPv6 fragment at offset %d: %d events, want none", i * 8, fx.nev);
	}
	assert_int_equal(flow_count(NULL, NULL), 2);
}

/*
 * FINDING (include/ws_parse.h, ws_parse_ipv6): after the fragment header of
 * a later fragment (offset != 0), the walk goes on reading the fragment's
 * data as more extension headers.  That data is the middle of some packet,
 * not headers: a later fragment is counted a parse error when its data does
 * not look like headers, and when it does, a "fragment header" in it resets
 * p->frag to 1 and a TCP header is decoded from the data: a TCP event from a
 * non-first fragment.  Fix: stop the walk after a later fragment's header
 * (patch in the report).
 */
TEST(test_ip6_FINDING_later_fragment_data_walked)
{
	uint8_t buf[FR_BUF_MIN] = { 0 };
	size_t k = fr_eth(buf, NULL, NULL, 0, NULL, 0x86dd), len = k + 40 + 24 + 20;
	uint8_t *ip = buf + k;
	struct ws_pkt p;

	need_bpf();
	ip[0] = 0x60;
	fr_put16(ip + 4, 8 + 8 + 8 + 20);
	ip[6] = 44;
	ip[7] = 64;
	fr_addr(AF_INET6, ip + 8, "2001:db8::1");
	fr_addr(AF_INET6, ip + 24, "2001:db8::2");
	ip[40] = 60;                    /* fragment header: later fragment, next dest. options */
	fr_put16(ip + 42, 0x00a8);
	ip[48] = 44;                    /* the fragment's data ... */
	ip[56] = 6;
	fr_put16(ip + 58, 0x0001);
	fr_put16(ip + 64, 1234);
	fr_put16(ip + 66, 80);
	fr_put32(ip + 68, 1000);
	ip[76] = 0x50;
	ip[77] = SYN;
	native(buf, len, &p);
	if (p.is_tcp)
		print_message("FINDING: native ws_parse decodes a TCP SYN %u -> %u from the data of a "
			      "fragment at offset 168 (frag %u)\n", p.sport, p.dport, p.frag);
	if (accept(buf, len, "IPv6 later fragment whose data looks like headers") != 0)
		fail_msg("FINDING: a later IPv6 fragment made %d TCP event(s) (sport %u dport %u): "
			 "its data was parsed as headers", fx.nev, fx.ev[0].tcp.sport,
			 fx.ev[0].tcp.dport);
	assert_int_equal(flow_count(NULL, NULL), 0);

	/* data that does not look like headers: a valid fragment, not a parse error */
	memset(ip + 48, 0xee, 36);
	ip[48] = 60;
	ip[49] = 200;                   /* "1608 bytes" */
	if (accept(buf, len, "FINDING: IPv6 later fragment whose data is just data") != 0)
		fail_msg("a later IPv6 fragment made %d events", fx.nev);
}

/* ----------------------------------------------------------------- VLAN */

TEST(test_vlan_qinq)
{
	uint8_t buf[FR_BUF_MIN];
	struct tcpspec t = {
		.family = 4, .src = "10.0.0.1", .dst = "10.0.0.2", .sport = 40000, .dport = 80,
		.seq = CISN, .flags = SYN, .nvlan = 2, .vlan = { 4095, 1 },
	};
	size_t len = fr_tcp(buf, &t), k;
	uint16_t vl[2] = { 10, 20 };

	need_bpf();
	/* 802.1ad + 802.1Q */
	if (accept(buf, len, "QinQ") != 1)
		fail_msg("QinQ SYN: %d events", fx.nev);
	assert_int_equal(fx.ev[0].tcp.nvlan, 2);
	assert_int_equal(fx.ev[0].tcp.vlan_id[0], 4095);
	assert_int_equal(fx.ev[0].tcp.vlan_id[1], 1);
	/* two 802.1Q tags (old-style QinQ) */
	fr_put16(buf + 12, 0x8100);
	buf[14 + 8 + 20 + 1] ^= 1;                      /* another flow */
	if (accept(buf, len, "802.1Q in 802.1Q") != 1)
		fail_msg("802.1Q in 802.1Q: %d events", fx.nev);
	assert_int_equal(fx.ev[0].tcp.nvlan, 2);
	/* PCP and DEI bits are not part of the id */
	fr_put16(buf + 14, 0xf000 | 5);
	buf[14 + 8 + 20 + 1] ^= 2;
	if (accept(buf, len, "VLAN with PCP/DEI") != 1)
		fail_msg("VLAN with PCP/DEI: %d events", fx.nev);
	assert_int_equal(fx.ev[0].tcp.vlan_id[0], 5);

	/* three tags */
	memset(buf, 0, sizeof(buf));
	k = fr_eth(buf, NULL, NULL, 2, vl, 0x8100);
	fr_put16(buf + k, 30);
	fr_put16(buf + k + 2, 0x0800);
	reject(buf, k + 4 + 40, WS_ERR_VLAN_DEPTH, "three VLAN tags");
	/* every cut inside the two tags */
	len = fr_tcp(buf, &t);
	for (k = 14; k < 22; k++)
		reject(buf, k, WS_ERR_VLAN_TRUNC, "VLAN tag cut");
	reject(buf, 22, WS_ERR_IP_TRUNC, "QinQ with nothing after the tags");

	/* ARP in QinQ */
	{
		uint8_t a[64];
		size_t l = fr_arp(a, 2, "02:00:00:00:00:01", "10.0.0.1", "02:00:00:00:00:02", "10.0.0.2");

		k = fr_eth(buf, a, a + 6, 2, vl, 0x0806);
		memcpy(buf + k, a + 14, l - 14);
		if (accept(buf, k + l - 14, "ARP in QinQ") != 1)
			fail_msg("ARP in QinQ: %d events", fx.nev);
		assert_int_equal(fx.ev[0].type, WS_EV_ARP);
		assert_int_equal(fx.ev[0].arp.op, 2);
		assert_int_equal(fx.ev[0].arp.nvlan, 2);
		assert_int_equal(fx.ev[0].arp.vlan_id[0], 10);
		assert_int_equal(fx.ev[0].arp.vlan_id[1], 20);
	}
}

/* ------------------------------------------------------------ SYN flood */

static uint64_t g_rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define FLOOD 100000
#define FLOOD_FLOWS 4096

TEST(test_syn_flood_small_table)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len = syn4(buf, 0);
	uint64_t pkts, flows, fail, events, drops, max_seen = 0;
	int i, n, got = 0;
	struct ws_flow f;

	need_bpf();
	assert_int_equal(bpf_map__max_entries(fx.skel->maps.flows), FLOOD_FLOWS);
	mark();
	for (i = 0; i < FLOOD; i++) {
		uint64_t r = rnd();

		/* a random source address and port, as a spoofed flood has */
		fr_put32(buf + 14 + 12, 0x0a000000u | (uint32_t)(r & 0xffffff));
		fr_put16(buf + 14 + 20, (uint32_t)(1024 + (r >> 32) % 64000));
		fr_put32(buf + 14 + 20 + 4, (uint32_t)(r >> 8));
		g_line = __LINE__;
		xdp(buf, len);
		if ((i + 1) % 10000 == 0) {
			n = flow_count(NULL, NULL);
			if ((uint64_t)n > max_seen)
				max_seen = (uint64_t)n;
			if (n > FLOOD_FLOWS)
				fail_msg("after %d SYNs the flow table holds %d flows, max_entries %d", i + 1,
					 n, FLOOD_FLOWS);
		}
	}
	pkts = delta(WS_STAT_PACKETS);
	flows = delta(WS_STAT_FLOWS);
	fail = delta(WS_STAT_FLOW_FAIL);
	events = delta(WS_STAT_EVENTS);
	drops = delta(WS_STAT_RB_DROPS);
	print_message("%d SYNs into %d flows: packets %llu, flows created %llu, insert failures "
		      "%llu, events %llu, ring buffer drops %llu, table peak %llu\n", FLOOD,
		      FLOOD_FLOWS, (unsigned long long)pkts, (unsigned long long)flows,
		      (unsigned long long)fail, (unsigned long long)events, (unsigned long long)drops,
		      (unsigned long long)max_seen);
	assert_int_equal(pkts, FLOOD);
	assert_int_equal(delta(WS_STAT_PARSE_ERR), 0);
	/* every SYN made a flow (the LRU table evicts the oldest) or counted a failure */
	assert_int_equal(flows + fail, FLOOD);
	assert_true(flows >= FLOOD * 99 / 100);
	/* every SYN is an event: written, or counted lost (nobody consumed) */
	assert_int_equal(events + drops, FLOOD);
	assert_true(drops > 0);
	assert_true(events > 0);
	/* the table stays bounded and full of the latest flows */
	n = flow_count(NULL, NULL);
	assert_true(n <= FLOOD_FLOWS);
	assert_true(n >= FLOOD_FLOWS / 2);
	/* the last SYN's event was lost: its flow says so */
	{
		/* find the flow whose client port and address are the last SYN's */
		int fd = bpf_map__fd(fx.skel->maps.flows);
		struct ws_flow_key cur, next;
		void *prev = NULL;
		uint32_t a;
		uint16_t port = (uint16_t)(buf[14 + 20] << 8 | buf[14 + 21]);

		memcpy(&a, buf + 14 + 12, 4);
		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			cur = next;
			prev = &cur;
			if ((cur.addr[0][0] == a && cur.port[0] == port) ||
			    (cur.addr[1][0] == a && cur.port[1] == port)) {
				assert_int_equal(bpf_map_lookup_elem(fd, &cur, &f), 0);
				got = 1;
				break;
			}
		}
	}
	assert_true(got);
	assert_int_equal(f.st[WS_CLIENT], WS_ST_SYN_SENT);
	assert_int_equal(f.gap, 1);
	/* what was written can be read, once */
	assert_int_equal(drain(), (int)events);
	assert_int_equal(drain(), 0);
}

/* ------------------------------------------------------------ RST storm */

TEST(test_rst_storm_unknown_flows)
{
	uint8_t buf[FR_BUF_MIN];
	size_t len;
	int i, total = 0;

	need_bpf();
	mark();
	for (i = 0; i < 20000; i++) {
		uint64_t r = rnd();

		len = seg_frame(buf, (int)(r & 1), (r & 2) ? RST | ACK : RST, (uint32_t)(r >> 32),
				(uint32_t)r, 0);
		fr_put32(buf + 14 + 12, 0x0a000000u | (uint32_t)((r >> 8) & 0xffffff));
		fr_put16(buf + 14 + 20, (uint32_t)(r >> 40));
		g_line = __LINE__;
		xdp(buf, len);
		if (i % 1000 == 999) {
			int n = drain(), j;

			for (j = 0; j < n && j < MAX_EV; j++)
				if (!(fx.ev[j].tcp.note & WS_NOTE_NO_FLOW) || fx.ev[j].tcp.ntr)
					fail_msg("a RST for no flow: note 0x%02x ntr %u, want NO_FLOW and "
						 "no transition", fx.ev[j].tcp.note, fx.ev[j].tcp.ntr);
			total += n;
		}
	}
	assert_int_equal(total, 20000);
	assert_int_equal(flow_count(NULL, NULL), 0);
	assert_int_equal(delta(WS_STAT_FLOWS), 0);
	assert_int_equal(delta(WS_STAT_FLOW_FAIL), 0);
	assert_int_equal(delta(WS_STAT_EVENTS), 20000);
	assert_int_equal(delta(WS_STAT_RB_DROPS), 0);
}

/* ------------------------------------------------- FIN / ACK / RST games */

TEST(test_fin_retransmitted_is_not_a_transition)
{
	need_bpf();
	handshake(CISN, SISN);
	assert_int_equal(seg(C, PSH | ACK, CISN + 1, SISN + 1, 100), 0);
	segx(C, FIN | ACK, CISN + 101, SISN + 1, 0, "C:ESTABLISHED>FIN_WAIT_1", 0);
	segx(C, FIN | ACK, CISN + 101, SISN + 1, 0, "", WS_NOTE_RETRANS);
	/* a retransmission with the unacked data in front ends at the same place */
	segx(C, FIN | PSH | ACK, CISN + 1, SISN + 1, 100, "", WS_NOTE_RETRANS);
	segx(S, ACK, SISN + 1, CISN + 102, 0, "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2",
	     WS_NOTE_ACKS_FIN);
	/* the ACK was lost: FIN again, acked again, nothing new */
	segx(C, FIN | ACK, CISN + 101, SISN + 1, 0, "", WS_NOTE_RETRANS);
	assert_int_equal(seg(S, ACK, SISN + 1, CISN + 102, 0), 0);
	segx(S, FIN | ACK, SISN + 1, CISN + 102, 0, "S:CLOSE_WAIT>LAST_ACK", 0);
	segx(S, FIN | ACK, SISN + 1, CISN + 102, 0, "", WS_NOTE_RETRANS);
	segx(C, ACK, CISN + 102, SISN + 2, 0, "C:FIN_WAIT_2>TIME_WAIT S:LAST_ACK>CLOSED",
	     WS_NOTE_ACKS_FIN);
	assert_int_equal(flow_count(NULL, NULL), 1);
}

TEST(test_ack_beyond_fin)
{
	need_bpf();
	handshake(CISN, SISN);
	segx(C, FIN | ACK, CISN + 1, SISN + 1, 0, "C:ESTABLISHED>FIN_WAIT_1", 0);
	/* acks a byte after the FIN, and far beyond: BAD_ACK, expected ack CISN + 2 */
	segx(S, ACK, SISN + 1, CISN + 3, 0, "", WS_NOTE_BAD_ACK);
	assert_int_equal(fx.ev[0].tcp.expected_ack, CISN + 2);
	segx(S, ACK, SISN + 1, CISN + 0x40000000u, 0, "", WS_NOTE_BAD_ACK);
	assert_int_equal(fx.ev[0].tcp.expected_ack, CISN + 2);
	/* an ack short of the FIN is an old ack: nothing */
	assert_int_equal(seg(S, ACK, SISN + 1, CISN + 1, 0), 0);
	/* a FIN-ACK from the server that acks past the client's FIN: BAD_ACK, its FIN still counts */
	segx(S, FIN | ACK, SISN + 1, CISN + 5, 0, "S:ESTABLISHED>FIN_WAIT_1", WS_NOTE_BAD_ACK);
	assert_int_equal(fx.ev[0].tcp.fflags & WS_FF_SIMCLOSE, WS_FF_SIMCLOSE);
	segx(S, ACK, SISN + 2, CISN + 2, 0, "S:FIN_WAIT_1>CLOSING C:FIN_WAIT_1>CLOSING C:CLOSING>TIME_WAIT",
	     WS_NOTE_ACKS_FIN);
}

/*
 * FINDING (include/ws_fsm.h, ws_fsm_step): a FIN or a RST is taken at its
 * word whatever its sequence number.  One segment with the connection's
 * addresses and ports and a seq 2^31 away from anything either side sent
 * (what a blind attacker or a stale segment from an old incarnation has)
 * moves a live, established connection to FIN_WAIT_1 or tears it down, and
 * the connection's real FIN is then reported as UNEXPECTED.  RFC 793/5961
 * receivers drop such segments.  Proposed patch (report): track the end of
 * what each side was seen sending (nxt[]) and ignore a FIN/RST whose seq is
 * more than one maximal window (2^30) away, as WS_NOTE_UNEXPECTED.
 */
TEST(test_FINDING_out_of_window_fin)
{
	need_bpf();
	handshake(CISN, SISN);
	assert_int_equal(seg(C, PSH | ACK, CISN + 1, SISN + 1, 1000), 0);
	assert_int_equal(seg(S, ACK, SISN + 1, CISN + 1001, 0), 0);
	segw(C, FIN | ACK, CISN + 1001 + 0x80000000u, SISN + 1, 0, "", WS_NOTE_UNEXPECTED,
	     "FINDING: a FIN 2^31 away from anything the client sent is taken as its close");
	/* the real FIN */
	segx(C, FIN | ACK, CISN + 1001, SISN + 1, 0, "C:ESTABLISHED>FIN_WAIT_1", 0);
	segx(S, ACK, SISN + 1, CISN + 1002, 0, "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2",
	     WS_NOTE_ACKS_FIN);
	/* a bogus FIN from the server while it is in CLOSE_WAIT */
	segw(S, FIN | ACK, SISN + 1 + 0x7ffff000u, CISN + 1002, 0, "", WS_NOTE_UNEXPECTED,
	     "FINDING: an out-of-window FIN is taken as the server's close");
	segx(S, FIN | ACK, SISN + 1, CISN + 1002, 0, "S:CLOSE_WAIT>LAST_ACK", 0);
}

TEST(test_FINDING_out_of_window_rst)
{
	need_bpf();
	handshake(CISN, SISN);
	assert_int_equal(seg(S, PSH | ACK, SISN + 1, CISN + 1, 500), 0);
	segw(S, RST, SISN + 501 + 0x80000000u, 0, 0, "", WS_NOTE_UNEXPECTED,
	     "FINDING: a RST 2^31 away from anything the server sent tears the connection down");
	segw(C, RST | ACK, CISN + 1 - 0x60000000u, SISN + 501, 0, "", WS_NOTE_UNEXPECTED,
	     "FINDING: a RST 1.5 GiB behind the client's data tears the connection down");
	/* the connection is alive: its close is normal */
	segx(C, FIN | ACK, CISN + 1, SISN + 501, 0, "C:ESTABLISHED>FIN_WAIT_1", 0);
	/* a RST in the window ends it */
	segx(S, RST, SISN + 501, 0, 0, "S:ESTABLISHED>CLOSED C:FIN_WAIT_1>CLOSED", 0);
}

/* In-window control segments must still work when the sequence space wraps. */
TEST(test_seq_wrap)
{
	const uint32_t ci = 0xfffffff0u, si = 0xffffffffu;

	need_bpf();
	handshake(ci, si);
	/* 32 bytes from the client cross 2^32; its FIN is at 0x10 */
	assert_int_equal(seg(C, PSH | ACK, ci + 1, si + 1, 32), 0);
	assert_int_equal(seg(S, ACK, si + 1, ci + 33, 0), 0);
	segx(C, FIN | ACK, ci + 33, si + 1, 0, "C:ESTABLISHED>FIN_WAIT_1", 0);
	assert_int_equal(ci + 33, 0x11u);
	segx(S, ACK, 0, ci + 35, 0, "", WS_NOTE_BAD_ACK);              /* past it */
	assert_int_equal(fx.ev[0].tcp.expected_ack, 0x12u);
	assert_int_equal(seg(S, ACK, 0, 0xfffffff8u, 0), 0);            /* old ack, before the wrap */
	segx(S, ACK, 0, 0x12, 0, "S:ESTABLISHED>CLOSE_WAIT C:FIN_WAIT_1>FIN_WAIT_2", WS_NOTE_ACKS_FIN);
	/* the server's FIN at 0 (ISN 0xffffffff + 1) */
	segx(S, FIN | ACK, 0, 0x12, 0, "S:CLOSE_WAIT>LAST_ACK", 0);
	segx(S, FIN | ACK, 0, 0x12, 0, "", WS_NOTE_RETRANS);
	segx(C, ACK, 0x12, 1, 0, "C:FIN_WAIT_2>TIME_WAIT S:LAST_ACK>CLOSED", WS_NOTE_ACKS_FIN);

	/* a new connection on the same ports, ISN 0xffffffff: reuse, RST at the wrap */
	segx(C, SYN, 0xffffffffu, 0, 0, "C:CLOSED>SYN_SENT", WS_NOTE_REUSED);
	segx(S, SYN | ACK, 0x7fffffffu, 0, 0, "S:LISTEN>SYN_RECEIVED", WS_NOTE_ACKS_SYN);
	segx(C, ACK, 0, 0x80000000u, 0, "C:SYN_SENT>ESTABLISHED S:SYN_RECEIVED>ESTABLISHED",
	     WS_NOTE_ACKS_SYN);
	segx(C, RST, 0, 0, 0, "C:ESTABLISHED>CLOSED S:ESTABLISHED>CLOSED", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_truncated_every_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_ihl_below_5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_data_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip6_ext_chain_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip6_FINDING_ext_offset_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip6_FINDING_later_fragment_data_walked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vlan_qinq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_flood_small_table, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_rst_storm_unknown_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_retransmitted_is_not_a_transition, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ack_beyond_fin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_FINDING_out_of_window_fin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_FINDING_out_of_window_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_wrap, setup, teardown),
	};

	libbpf_set_print(quiet_print);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
