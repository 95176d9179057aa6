// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tests of the views: --summary, --ladder, --explain, colour, and -w with -r.
 *
 * Unit part (no root): the explainer on frames built by tests/frames.h
 * (checksums right, wrong, offloaded; snapshots cut short; IPv6 extension
 * headers; VLAN tags; ARP), the connection table (eviction, reasons), the
 * colour rules, option combinations, and that the crafted captures under
 * tests/pcaps/ are what the generators below write.
 *
 * Replay part (root: BPF_PROG_TEST_RUN): each capture under tests/pcaps/ is
 * replayed with build/wirestate -r in every view and compared byte for byte
 * with tests/golden/CAPTURE.VIEW.txt (TZ=UTC, stdout not a terminal).
 *
 *   WS_UPDATE_GOLDEN=1 build/tests/test_views   rewrite the crafted captures and
 *                                               the golden files (review the diff)
 *   WS_BIN=path                                 the wirestate binary (build/wirestate)
 *
 * Run from the repository root (tests/run.sh does); it finds it from argv[0] too.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ws_user.h"
#include "ws_views.h"
#include "frames.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static const char *ws_bin = "build/wirestate";
static bool update_golden;

/* ================================================================ helpers */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static char tmpdir[256];

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* Capture what f prints into a string (the caller frees it). */
struct memout {
	char *buf;
	size_t len;
	FILE *f;
};

static void mem_open(struct memout *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

static char *mem_close(struct memout *m)
{
	fclose(m->f);
	return m->buf;
}

/* ================================================================ crafted captures */

#define T0 1700000000000000000ull     /* 2023-11-14T22:13:20Z */
#define US 1000ull

struct cap {
	struct ws_pcap_writer w;
	uint8_t buf[FR_BUF_MIN];
};

static void cap_put(struct cap *c, uint64_t t_us, const uint8_t *frame, size_t len)
{
	assert_int_equal(ws_pcap_write(&c->w, T0 + t_us * US, frame, (uint32_t)len, (uint32_t)len), 0);
}

static struct tcpspec tcp4(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			   uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct tcpspec s = {
		.family = 4, .src = src, .dst = dst, .sport = sport, .dport = dport,
		.seq = seq, .ack = ack, .flags = flags, .wscale = -1,
	};
	return s;
}

static struct tcpspec tcp6(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			   uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct tcpspec s = tcp4(src, sport, dst, dport, flags, seq, ack);

	s.family = 6;
	return s;
}

static void syn_opts(struct tcpspec *s, int mss, int wscale, uint32_t tsval, uint32_t tsecr)
{
	s->mss = mss;
	s->sack_ok = 1;
	s->ts = 1;
	s->tsval = tsval;
	s->tsecr = tsecr;
	s->has_wscale = wscale >= 0;
	s->wscale = wscale;
}

static const uint8_t mac_c[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };
static const uint8_t mac_s[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x03 };

/* client -> server and server -> client MACs */
static void c2s(struct tcpspec *s)
{
	s->src_mac = mac_c;
	s->dst_mac = mac_s;
}

static void s2c(struct tcpspec *s)
{
	s->src_mac = mac_s;
	s->dst_mac = mac_c;
}

static size_t put_tcp(struct cap *c, uint64_t t_us, struct tcpspec s)
{
	size_t n = fr_tcp(c->buf, &s);

	cap_put(c, t_us, c->buf, n);
	return n;
}

/*
 * basic_v4: ARP who-has/is-at, then a connection 172.17.0.2:40000 ->
 * 172.17.0.3:8080 with window scaling, 100 bytes of data, a FIN carrying 300
 * bytes (longer than the default snapshot), and an orderly close.
 */
static void gen_basic_v4(struct cap *c)
{
	struct tcpspec s;
	size_t n;

	memset(c->buf, 0, 60);
	n = fr_arp(c->buf, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	cap_put(c, 0, c->buf, n < 60 ? 60 : n);            /* padded to 60 like on the wire */
	memset(c->buf, 0, 60);
	n = fr_arp(c->buf, 2, "02:42:ac:11:00:03", "172.17.0.3", "02:42:ac:11:00:02", "172.17.0.2");
	cap_put(c, 100, c->buf, n < 60 ? 60 : n);

	s = tcp4("172.17.0.2", 40000, "172.17.0.3", 8080, WS_TCP_SYN, 1000, 0);
	syn_opts(&s, 1460, 7, 111, 0);
	c2s(&s);
	put_tcp(c, 200, s);
	s = tcp4("172.17.0.3", 8080, "172.17.0.2", 40000, WS_TCP_SYN | WS_TCP_ACK, 5000, 1001);
	syn_opts(&s, 1400, 9, 222, 111);
	s.win = 65160;
	s2c(&s);
	put_tcp(c, 312, s);
	s = tcp4("172.17.0.2", 40000, "172.17.0.3", 8080, WS_TCP_ACK, 1001, 5001);
	s.win = 502;
	c2s(&s);
	put_tcp(c, 340, s);
	s = tcp4("172.17.0.2", 40000, "172.17.0.3", 8080, WS_TCP_ACK | WS_TCP_PSH, 1001, 5001);
	s.win = 502;
	s.paylen = 100;
	c2s(&s);
	put_tcp(c, 400, s);
	s = tcp4("172.17.0.3", 8080, "172.17.0.2", 40000, WS_TCP_ACK, 5001, 1101);
	s.win = 128;
	s2c(&s);
	put_tcp(c, 450, s);
	s = tcp4("172.17.0.2", 40000, "172.17.0.3", 8080, WS_TCP_ACK | WS_TCP_PSH | WS_TCP_FIN,
		 1101, 5001);
	s.win = 502;
	s.paylen = 300;
	c2s(&s);
	put_tcp(c, 1000, s);
	s = tcp4("172.17.0.3", 8080, "172.17.0.2", 40000, WS_TCP_ACK, 5001, 1402);
	s.win = 126;
	s2c(&s);
	put_tcp(c, 1100, s);
	s = tcp4("172.17.0.3", 8080, "172.17.0.2", 40000, WS_TCP_ACK | WS_TCP_FIN, 5001, 1402);
	s.win = 126;
	s2c(&s);
	put_tcp(c, 2000, s);
	s = tcp4("172.17.0.2", 40000, "172.17.0.3", 8080, WS_TCP_ACK, 1402, 5002);
	s.win = 502;
	c2s(&s);
	put_tcp(c, 2100, s);
}

/* refused: a SYN answered by a RST, then a stray RST for a connection never seen. */
static void gen_refused(struct cap *c)
{
	struct tcpspec s;

	s = tcp4("172.17.0.2", 41000, "172.17.0.3", 81, WS_TCP_SYN, 7000, 0);
	syn_opts(&s, 1460, 7, 1, 0);
	c2s(&s);
	put_tcp(c, 0, s);
	s = tcp4("172.17.0.3", 81, "172.17.0.2", 41000, WS_TCP_RST | WS_TCP_ACK, 0, 7001);
	s.win = 0;
	s2c(&s);
	put_tcp(c, 45, s);
	s = tcp4("172.17.0.3", 9999, "172.17.0.2", 50000, WS_TCP_RST, 1, 0);
	s2c(&s);
	put_tcp(c, 500, s);
}

/*
 * simclose: the example numbers (client ISN 100, server ISN 300); both
 * FINs cross on the wire before either is acknowledged.
 */
static void gen_simclose(struct cap *c)
{
	struct tcpspec s;

	s = tcp4("172.17.0.2", 36922, "172.17.0.3", 6666, WS_TCP_SYN, 100, 0);
	syn_opts(&s, 1460, 10, 5, 0);
	c2s(&s);
	put_tcp(c, 0, s);
	s = tcp4("172.17.0.3", 6666, "172.17.0.2", 36922, WS_TCP_SYN | WS_TCP_ACK, 300, 101);
	syn_opts(&s, 1460, 10, 6, 5);
	s2c(&s);
	put_tcp(c, 60, s);
	s = tcp4("172.17.0.2", 36922, "172.17.0.3", 6666, WS_TCP_ACK, 101, 301);
	s.win = 63;
	c2s(&s);
	put_tcp(c, 80, s);
	s = tcp4("172.17.0.2", 36922, "172.17.0.3", 6666, WS_TCP_ACK | WS_TCP_FIN, 101, 301);
	s.win = 63;
	c2s(&s);
	put_tcp(c, 1000, s);
	s = tcp4("172.17.0.3", 6666, "172.17.0.2", 36922, WS_TCP_ACK | WS_TCP_FIN, 301, 101);
	s.win = 63;
	s2c(&s);
	put_tcp(c, 1010, s);
	s = tcp4("172.17.0.3", 6666, "172.17.0.2", 36922, WS_TCP_ACK, 302, 102);
	s.win = 63;
	s2c(&s);
	put_tcp(c, 1100, s);
	s = tcp4("172.17.0.2", 36922, "172.17.0.3", 6666, WS_TCP_ACK, 102, 302);
	s.win = 63;
	c2s(&s);
	put_tcp(c, 1110, s);
}

/*
 * syn_retrans: the SYN is retransmitted after 1 s, the SYN-ACK after 1 s too
 * (that copy's TCP checksum is damaged), the client completes the handshake,
 * then resets the connection (that RST's IPv4 header checksum is damaged).
 */
static void gen_syn_retrans(struct cap *c)
{
	struct tcpspec s;
	size_t n;

	s = tcp4("10.0.0.1", 33000, "10.0.0.2", 80, WS_TCP_SYN, 9000, 0);
	syn_opts(&s, 1460, 7, 1000, 0);
	put_tcp(c, 0, s);
	s.tsval = 2000;
	put_tcp(c, 1000000, s);
	s = tcp4("10.0.0.2", 80, "10.0.0.1", 33000, WS_TCP_SYN | WS_TCP_ACK, 20000, 9001);
	syn_opts(&s, 1460, 7, 3000, 2000);
	s.src_mac = mac_s;
	s.dst_mac = mac_c;
	put_tcp(c, 1000150, s);
	n = fr_tcp(c->buf, &s);
	c->buf[14 + 20 + 16] ^= 0x5a;          /* TCP checksum: wrong */
	cap_put(c, 2000150, c->buf, n);
	s = tcp4("10.0.0.1", 33000, "10.0.0.2", 80, WS_TCP_ACK, 9001, 20001);
	s.win = 502;
	put_tcp(c, 2000230, s);
	s = tcp4("10.0.0.1", 33000, "10.0.0.2", 80, WS_TCP_RST, 9001, 0);
	s.win = 0;
	n = fr_tcp(c->buf, &s);
	c->buf[14 + 10] ^= 0xff;               /* IPv4 header checksum: wrong */
	cap_put(c, 3000000, c->buf, n);
}

/*
 * v6_vlan: IPv6 in 802.1Q VLAN 100.  One connection completes its handshake
 * (the SYN carries a hop-by-hop extension header; the ACK's checksum holds
 * only the pseudo-header sum, as checksum offload leaves it) and stays open;
 * a second one, in QinQ 200.100, never gets an answer to its SYN; a third is
 * picked up mid-stream by the server's FIN.
 */
static void gen_v6_vlan(struct cap *c)
{
	struct tcpspec s;
	struct ws_pkt p;
	uint8_t ph[40];
	size_t n;

	s = tcp6("fd17::2", 45000, "fd17::3", 443, WS_TCP_SYN, 0x10000000, 0);
	syn_opts(&s, 1440, 8, 7, 0);
	s.nvlan = 1;
	s.vlan[0] = 100;
	s.ip6_ext = 1;
	c2s(&s);
	put_tcp(c, 0, s);
	s = tcp6("fd17::3", 443, "fd17::2", 45000, WS_TCP_SYN | WS_TCP_ACK, 0x20000000, 0x10000001);
	syn_opts(&s, 1440, 8, 9, 7);
	s.nvlan = 1;
	s.vlan[0] = 100;
	s2c(&s);
	put_tcp(c, 90, s);
	s = tcp6("fd17::2", 45000, "fd17::3", 443, WS_TCP_ACK, 0x10000001, 0x20000001);
	s.win = 250;
	s.nvlan = 1;
	s.vlan[0] = 100;
	c2s(&s);
	n = fr_tcp(c->buf, &s);
	assert_int_equal(ws_parse(c->buf, c->buf + n, &p), WS_OK);
	memcpy(ph, c->buf + p.l3_off + 8, 32);    /* offload: only the pseudo-header sum */
	fr_put32(ph + 32, (uint32_t)(n - p.l4_off));
	fr_put32(ph + 36, 6);
	fr_put16(c->buf + p.l4_off + 16, (uint16_t)~fr_csum(ph, 40, 0));
	cap_put(c, 120, c->buf, n);

	s = tcp6("fd17::2", 45001, "fd17::3", 444, WS_TCP_SYN, 77, 0);
	syn_opts(&s, 1440, 8, 11, 0);
	s.nvlan = 2;
	s.vlan[0] = 200;
	s.vlan[1] = 100;
	c2s(&s);
	put_tcp(c, 500, s);

	s = tcp6("fd17::3", 8080, "fd17::2", 50500, WS_TCP_ACK | WS_TCP_FIN, 4242, 8484);
	s.win = 100;
	s.nvlan = 1;
	s.vlan[0] = 100;
	s2c(&s);
	put_tcp(c, 700, s);
}

struct crafted {
	const char *name;
	void (*gen)(struct cap *c);
};

static const struct crafted crafted[] = {
	{ "basic_v4", gen_basic_v4 },
	{ "refused", gen_refused },
	{ "simclose", gen_simclose },
	{ "syn_retrans", gen_syn_retrans },
	{ "v6_vlan", gen_v6_vlan },
};
#define NCRAFTED (sizeof(crafted) / sizeof(crafted[0]))

static void write_capture(const struct crafted *k, const char *path)
{
	struct cap *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(ws_pcap_create(&c->w, path, 65535, true), 0);
	k->gen(c);
	assert_int_equal(ws_pcap_finish(&c->w), 0);
	free(c);
}

/* The committed captures are exactly what the generators write. */
TEST(crafted_captures_match_generators)
{
	for (size_t i = 0; i < NCRAFTED; i++) {
		char fresh[512], committed[512];
		size_t la, lb;

		tmp_path(fresh, sizeof(fresh), "fresh.pcap");
		snprintf(committed, sizeof(committed), "tests/pcaps/%s.pcap", crafted[i].name);
		write_capture(&crafted[i], update_golden ? committed : fresh);
		if (update_golden)
			continue;
		char *a = slurp(fresh, &la), *b = slurp(committed, &lb);

		if (!b)
			fail_msg("%s missing: run WS_UPDATE_GOLDEN=1 build/tests/test_views", committed);
		if (la != lb || memcmp(a, b, la))
			fail_msg("%s differs from what its generator writes: run "
				 "WS_UPDATE_GOLDEN=1 build/tests/test_views and review", committed);
		free(a);
		free(b);
	}
}

/* ================================================================ explain (unit) */

static char *explain(const uint8_t *fr, uint32_t cap, uint32_t wire,
		     const struct ws_explain_ctx *cx, bool json)
{
	struct memout m;
	struct ws_fmt f;

	mem_open(&m);
	f = (struct ws_fmt){ .out = m.f, .json = json };
	assert_int_equal(ws_explain(&f, fr, cap, wire, cx), 0);
	return mem_close(&m);
}

#define assert_has(hay, needle) do { \
		if (!strstr((hay), (needle))) \
			fail_msg("missing \"%s\" in:\n%s", (needle), (hay)); \
	} while (0)
#define assert_hasnt(hay, needle) do { \
		if (strstr((hay), (needle))) \
			fail_msg("unexpected \"%s\" in:\n%s", (needle), (hay)); \
	} while (0)

TEST(explain_ipv4_syn_fields)
{
	uint8_t b[FR_BUF_MIN];
	struct tcpspec s = tcp4("192.0.2.1", 43210, "198.51.100.7", 443, WS_TCP_SYN, 0x11223344, 0);
	struct ws_explain_ctx cx = { .tcp_event = true, .from_role = WS_CLIENT };

	syn_opts(&s, 1460, 7, 0xdeadbeef, 0);
	size_t n = fr_tcp(b, &s);
	char *o = explain(b, (uint32_t)n, (uint32_t)n, &cx, false);

	assert_has(o, "    0x0000:  0200 0000 0002 0200 0000 0001 0800 45");
	assert_has(o, "destination MAC        02:00:00:00:00:02 (unicast, locally administered)");
	assert_has(o, "ethertype              0x0800 (IPv4)");
	assert_has(o, "IHL                    5 (x4 = 20 bytes)");
	assert_has(o, "DF                   1: don't fragment");
	assert_has(o, "TTL                    64 (hops left)");
	assert_has(o, "protocol               6 (TCP)");
	assert_has(o, "header checksum        0x");
	assert_has(o, " correct\n");
	assert_has(o, "source port            43210, the client");
	assert_has(o, "destination port       443 (https), the server");
	assert_has(o, "sequence number        287454020: initial sequence number (ISN)");
	assert_has(o, "acknowledgment number  0 (ignored: the ACK flag is not set)");
	assert_has(o, "flags                  0x02: SYN");
	assert_has(o, ".... ..1.                  SYN                  1: synchronize");
	assert_has(o, "window                 64240 bytes (never scaled in a SYN, RFC 7323)");
	assert_has(o, "correct (over the pseudo-header and 40 bytes of segment)");
	assert_has(o, "option MSS             kind 2 length 4: maximum segment size 1460 bytes");
	assert_has(o, "option timestamps      kind 8 length 10: TSval 3735928559, TSecr 0");
	assert_has(o, "option window scale    kind 3 length 3: shift 7 (windows of this side x 128)");
	assert_hasnt(o, "WRONG");
	free(o);
}

TEST(explain_checksums_wrong_and_offloaded)
{
	uint8_t b[FR_BUF_MIN];
	struct tcpspec s = tcp4("10.1.1.1", 1111, "10.2.2.2", 2222, WS_TCP_ACK | WS_TCP_FIN, 5, 6);
	struct ws_explain_ctx in = { .dir = WS_DIR_INGRESS }, out = { .dir = WS_DIR_EGRESS };
	size_t n = fr_tcp(b, &s);
	uint16_t good_ip = fr_csum(b + 14, 20, 0) ? 0 : (uint16_t)(b[24] << 8 | b[25]);
	uint16_t good_tcp = (uint16_t)(b[50] << 8 | b[51]);
	char want[128], *o;

	/* a wrong IPv4 header checksum says what it should be */
	b[24] ^= 0x11;
	o = explain(b, (uint32_t)n, (uint32_t)n, &in, false);
	snprintf(want, sizeof(want), "WRONG, expected 0x%04x", good_ip);
	assert_has(o, want);
	free(o);
	b[24] ^= 0x11;

	/* a wrong TCP checksum received: wrong; sent (egress): not yet computed */
	b[51] ^= 0x01;
	o = explain(b, (uint32_t)n, (uint32_t)n, &in, false);
	snprintf(want, sizeof(want), "checksum               0x%04x WRONG, expected 0x%04x",
		 good_tcp ^ 1, good_tcp);
	assert_has(o, want);
	free(o);
	o = explain(b, (uint32_t)n, (uint32_t)n, &out, false);
	assert_has(o, "not yet computed (offloaded)");
	assert_hasnt(o, "WRONG");
	free(o);

	/* the pseudo-header sum only, as CHECKSUM_PARTIAL leaves it: offloaded either way */
	uint8_t ph[12];

	memcpy(ph, b + 14 + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	fr_put16(ph + 10, 20);
	fr_put16(b + 50, (uint16_t)~fr_csum(ph, 12, 0));
	o = explain(b, (uint32_t)n, (uint32_t)n, &in, false);
	assert_has(o, "not yet computed (offloaded): it holds only the pseudo-header sum");
	snprintf(want, sizeof(want), "the full one would be 0x%04x", good_tcp);
	assert_has(o, want);
	free(o);
}

TEST(explain_snapshot_cut_short)
{
	uint8_t b[FR_BUF_MIN];
	struct tcpspec s = tcp4("10.1.1.1", 1111, "10.2.2.2", 2222, WS_TCP_SYN, 5, 0);

	syn_opts(&s, 1460, 7, 1, 0);
	size_t n = fr_tcp(b, &s);
	char *o;

	/* inside the source address: the walk stops there, nothing is read past the end */
	for (uint32_t cap = 0; cap <= n; cap++) {
		uint8_t *copy = malloc(cap ? cap : 1);

		memcpy(copy, b, cap);
		o = explain(copy, cap, (uint32_t)n, NULL, false);
		if (cap == 0)
			assert_has(o, "no snapshot: the kernel copied no bytes of this frame");
		else if (cap < n)
			assert_has(o, "the snapshot ends at byte");
		else
			assert_hasnt(o, "the snapshot ends");
		free(o);
		o = explain(copy, cap, (uint32_t)n, NULL, true);
		assert_has(o, "{\"type\":\"explain\"");
		assert_has(o, "]}\n");
		free(o);
		free(copy);
	}
	o = explain(b, 28, (uint32_t)n, NULL, false);
	assert_has(o, "the snapshot ends at byte 28, inside the source address (2 of its 4 bytes "
		   "captured); the frame is 74 bytes");
	free(o);
	o = explain(b, 54, (uint32_t)n, NULL, false);
	assert_has(o, "the snapshot ends at byte 54, before a TCP option");
	assert_has(o, "not verifiable: snapshot");
	free(o);
}

TEST(explain_ipv6_ext_vlan_window_scale)
{
	uint8_t b[FR_BUF_MIN];
	struct tcpspec s = tcp6("2001:db8::1", 50000, "2001:db8::2", 22, WS_TCP_ACK, 7, 9);
	struct ws_explain_ctx cx = {
		.tcp_event = true, .from_role = WS_SERVER, .note = WS_NOTE_ACKS_SYN,
		.conn_known = true, .syn_seen = { true, true }, .wscale = { 7, 9 },
	};

	s.win = 100;
	s.ip6_ext = 2;
	s.nvlan = 2;
	s.vlan[0] = 200;
	s.vlan[1] = 100;
	size_t n = fr_tcp(b, &s);
	char *o = explain(b, (uint32_t)n, (uint32_t)n, &cx, false);

	assert_has(o, "TPID                   0x88a8 (802.1ad service VLAN tag (QinQ))");
	assert_has(o, "VLAN id                200");
	assert_has(o, "VLAN id                100");
	assert_has(o, "ethertype              0x86dd (IPv6)");
	assert_has(o, "next header            0 (IPv6 hop-by-hop options)");
	assert_has(o, "    IPv6 destination options\n");
	assert_has(o, "option PadN            type 1: 6 bytes of padding");
	assert_has(o, "source address         2001:db8::1");
	assert_has(o, "acknowledgment number  9: acknowledges the peer's SYN (its ISN + 1)");
	assert_has(o, "window                 100 x 2^9 = 51200 bytes (window scale 9 from this side's SYN)");
	assert_has(o, " correct (over the pseudo-header");
	free(o);

	/* scaling not offered by the peer; the sender's SYN never seen */
	cx.wscale[WS_CLIENT] = -1;
	o = explain(b, (uint32_t)n, (uint32_t)n, &cx, false);
	assert_has(o, "100 bytes (no window scaling: the peer's SYN did not offer it)");
	free(o);
	cx.syn_seen[WS_SERVER] = false;
	o = explain(b, (uint32_t)n, (uint32_t)n, &cx, false);
	assert_has(o, "100 (scale unknown: this side's SYN was not seen)");
	free(o);
	cx.note = WS_NOTE_BAD_ACK;
	cx.expected_ack = 8;
	o = explain(b, (uint32_t)n, (uint32_t)n, &cx, false);
	assert_has(o, "9: does NOT acknowledge seq+1 of the SYN/FIN it answers: expected 8");
	free(o);
}

TEST(explain_arp)
{
	uint8_t b[FR_BUF_MIN] = { 0 };
	size_t n = fr_arp(b, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	char *o = explain(b, 60, 60, NULL, false);

	(void)n;
	assert_has(o, "destination MAC        ff:ff:ff:ff:ff:ff (broadcast)");
	assert_has(o, "ethertype              0x0806 (ARP)");
	assert_has(o, "hardware type          1 (Ethernet)");
	assert_has(o, "protocol type          0x0800 (IPv4)");
	assert_has(o, "opcode                 1 (request)");
	assert_has(o, "sender IP              172.17.0.2");
	assert_has(o, "target MAC             00:00:00:00:00:00 (zero): unknown, it is what is asked");
	assert_has(o, "[who has 172.17.0.3? tell 172.17.0.2]");
	assert_has(o, "padding                18 bytes of zeros: Ethernet pads frames to 60 bytes");
	free(o);
	memset(b, 0, sizeof(b));
	fr_arp(b, 2, "02:42:ac:11:00:03", "172.17.0.3", "02:42:ac:11:00:02", "172.17.0.2");
	o = explain(b, 42, 42, NULL, true);
	assert_has(o, "\"field\":\"opcode\",\"offset\":20,\"length\":2,\"raw\":\"0002\",\"value\":\"2 (reply)\"");
	free(o);
}

TEST(checksum_helpers)
{
	/* RFC 1071's example words: 0001 f203 f4f5 f6f7 sum to 0xddf2 */
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	assert_int_equal(ws_csum_fold(ws_csum_add(0, d, sizeof(d))), 0xddf2);
	assert_int_equal((uint16_t)~ws_csum_fold(ws_csum_add(0, d, sizeof(d))), fr_csum(d, sizeof(d), 0));
}

/* ================================================================ table (unit) */

static struct ws_event syn_event(uint16_t sport, uint64_t ts)
{
	struct ws_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = ts;
	e.ifindex = 1;
	e.type = WS_EV_TCP;
	e.family = 4;
	e.tcp.saddr[0] = htonl(0x0a000001);
	e.tcp.daddr[0] = htonl(0x0a000002);
	e.tcp.sport = sport;
	e.tcp.dport = 80;
	e.tcp.flags = WS_TCP_SYN;
	e.tcp.seq = 1;
	e.tcp.from_role = WS_CLIENT;
	e.tcp.ntr = 1;
	e.tcp.tr = ws_tr_pack(WS_CLIENT, WS_ST_CLOSED, WS_ST_SYN_SENT);
	e.tcp.pkts[WS_CLIENT] = 1;
	return e;
}

TEST(table_evicts_oldest_and_counts)
{
	struct ws_views_opts vo = { .summary = true, .max_conns = 4 };
	struct ws_views_stats st;
	struct memout m;
	struct ws_fmt f;
	struct ws_views *v;
	char *o;

	mem_open(&m);
	f = (struct ws_fmt){ .out = m.f, .json = true };
	v = ws_views_new(&f, &vo);
	assert_non_null(v);
	for (uint16_t p = 1000; p < 1010; p++) {
		struct ws_event e = syn_event(p, T0 + p);

		assert_int_equal(ws_views_event(v, &e, "x", T0 + p * US), 0);
	}
	ws_views_get_stats(v, &st);
	assert_int_equal(st.conns, 10);
	assert_int_equal(st.evicted, 6);
	assert_int_equal(st.live, 4);
	{
		struct ws_event e = syn_event(1000, 0);
		struct ws_conn_id id;

		ws_views_conn_id(&e, &id);
		assert_null(ws_views_lookup(v, &id));         /* the oldest went first */
		e = syn_event(1009, 0);
		ws_views_conn_id(&e, &id);
		assert_non_null(ws_views_lookup(v, &id));
	}
	assert_int_equal(ws_views_finish(v, T0 + 5000 * US), 0);
	ws_views_free(v);
	o = mem_close(&m);
	assert_has(o, "\"client_port\":1000,\"server_addr\":\"10.0.0.2\",\"server_port\":80,"
		   "\"reason\":\"evicted\"");
	assert_has(o, "\"client_port\":1009,\"server_addr\":\"10.0.0.2\",\"server_port\":80,"
		   "\"reason\":\"timeout\"");
	/* 6 evicted + 4 at exit */
	size_t k = 0;

	for (const char *p = o; (p = strstr(p, "\"type\":\"summary\"")); p++)
		k++;
	assert_int_equal(k, 10);
	free(o);
}

TEST(table_late_packets_are_absorbed)
{
	struct ws_views_opts vo = { .summary = true };
	struct ws_views_stats st;
	struct memout m;
	struct ws_fmt f;
	struct ws_views *v;
	struct ws_event e = syn_event(2000, 0);
	char *o;

	mem_open(&m);
	f = (struct ws_fmt){ .out = m.f };
	v = ws_views_new(&f, &vo);
	assert_non_null(v);
	assert_int_equal(ws_views_event(v, &e, "x", T0), 0);
	/* refused: RST-ACK from the server */
	e.tcp.saddr[0] = htonl(0x0a000002);
	e.tcp.daddr[0] = htonl(0x0a000001);
	e.tcp.sport = 80;
	e.tcp.dport = 2000;
	e.tcp.flags = WS_TCP_RST | WS_TCP_ACK;
	e.tcp.from_role = WS_SERVER;
	e.tcp.note = WS_NOTE_ACKS_SYN;
	e.tcp.fflags = WS_FF_REFUSED;
	e.tcp.tr = ws_tr_pack(WS_CLIENT, WS_ST_SYN_SENT, WS_ST_CLOSED);
	e.tcp.pkts[WS_SERVER] = 1;
	assert_int_equal(ws_views_event(v, &e, "x", T0 + 40 * US), 0);
	/* the same RST again: absorbed by the ended connection, no second summary */
	e.tcp.ntr = 0;
	assert_int_equal(ws_views_event(v, &e, "x", T0 + 50 * US), 0);
	ws_views_get_stats(v, &st);
	assert_int_equal(st.conns, 1);
	assert_int_equal(st.live, 0);
	assert_int_equal(ws_views_finish(v, T0 + 60 * US), 0);
	ws_views_free(v);
	o = mem_close(&m);
	assert_has(o, "10.0.0.1:2000 > 10.0.0.2:80 refused, duration 0.000040 s\n"
		   "    client  CLOSED>SYN_SENT>CLOSED\n    server  CLOSED\n");
	assert_hasnt(strstr(o, "refused") + 1, "refused, duration");
	free(o);
}

/* ================================================================ options and colour (unit) */

TEST(view_option_combinations)
{
	struct ws_views_opts o = { 0 };

	ws_views_parse_opt(&o, WS_VIEWS_OPT_SUMMARY);
	assert_true(o.summary);
	assert_null(ws_views_check_opts(&o, true));
	ws_views_parse_opt(&o, 'X');
	assert_non_null(ws_views_check_opts(&o, false));
	o = (struct ws_views_opts){ .ladder = true };
	assert_null(ws_views_check_opts(&o, false));
	assert_non_null(ws_views_check_opts(&o, true));
	o = (struct ws_views_opts){ .explain = true };
	assert_null(ws_views_check_opts(&o, true));
	assert_true(ws_views_wanted(&o));
	o = (struct ws_views_opts){ .no_color = true };
	assert_false(ws_views_wanted(&o));
}

TEST(color_rules)
{
	int master, slave, pfd[2];

	if (openpty(&master, &slave, NULL, NULL, NULL)) {
		print_message("[ SKIPPED  ] no pseudo-terminal (openpty: %s)\n", strerror(errno));
		skip();
		return;
	}
	assert_int_equal(pipe(pfd), 0);
	unsetenv("NO_COLOR");
	setenv("TERM", "xterm", 1);
	assert_true(ws_color_wanted(slave, false, false));
	assert_false(ws_color_wanted(pfd[1], false, false));     /* piped */
	assert_false(ws_color_wanted(slave, true, false));       /* --no-color */
	assert_false(ws_color_wanted(slave, false, true));       /* JSON */
	setenv("NO_COLOR", "", 1);
	assert_true(ws_color_wanted(slave, false, false));       /* empty NO_COLOR: ignored */
	setenv("NO_COLOR", "1", 1);
	assert_false(ws_color_wanted(slave, false, false));
	unsetenv("NO_COLOR");
	setenv("TERM", "dumb", 1);
	assert_false(ws_color_wanted(slave, false, false));
	setenv("TERM", "xterm", 1);
	assert_string_equal(ws_sgr_state(false, WS_ST_ESTABLISHED), "");
	assert_string_equal(ws_sgr_state(true, WS_ST_ESTABLISHED), "\033[32m");
	assert_string_equal(ws_sgr_flags(true, WS_TCP_RST | WS_TCP_ACK), "\033[1;31m");
	assert_string_equal(ws_sgr_end(true), "\033[0m");
	close(master);
	close(slave);
	close(pfd[0]);
	close(pfd[1]);
}

/* ================================================================ replay (root) */

struct run_result {
	int status;
	char *out, *err;
	size_t out_len;
};

/*
 * Run build/wirestate with argv (NULL-terminated, without argv[0]), TZ=UTC,
 * stdout and stderr to files (or stdout to a pty when pty_out), env extras
 * ("NAME=value" or "NAME" to unset).
 */
static void run_ws(const char *const *args, const char *const *env, bool pty_out,
		   struct run_result *r)
{
	char outp[512], errp[512];
	const char *argv[32];
	int n = 0, master = -1, slave = -1;
	pid_t pid;

	tmp_path(outp, sizeof(outp), "stdout");
	tmp_path(errp, sizeof(errp), "stderr");
	argv[n++] = ws_bin;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pty_out) {
		struct winsize ws = { .ws_row = 50, .ws_col = 200 };

		assert_int_equal(openpty(&master, &slave, NULL, NULL, &ws), 0);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = pty_out ? slave : open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0)
			_exit(126);
		dup2(o, 1);
		dup2(e, 2);
		setenv("TZ", "UTC", 1);
		unsetenv("NO_COLOR");
		setenv("TERM", "xterm", 1);
		for (int i = 0; env && env[i]; i++) {
			if (strchr(env[i], '='))
				putenv((char *)env[i]);
			else
				unsetenv(env[i]);
		}
		execv(ws_bin, (char *const *)argv);
		_exit(127);
	}
	if (pty_out) {
		/* read the terminal until the child is gone */
		FILE *f = fopen(outp, "wb");
		char buf[4096];
		ssize_t k;

		close(slave);
		assert_non_null(f);
		while ((k = read(master, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)k, f);
		fclose(f);
		close(master);
	}
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
	r->out = slurp(outp, &r->out_len);
	r->err = slurp(errp, NULL);
	assert_non_null(r->out);
	assert_non_null(r->err);
}

static void free_result(struct run_result *r)
{
	free(r->out);
	free(r->err);
}

static bool can_replay(void)
{
	if (geteuid() != 0) {
		print_message("[ SKIPPED  ] replaying a capture needs root (BPF_PROG_TEST_RUN)\n");
		return false;
	}
	if (access(ws_bin, X_OK)) {
		print_message("[ SKIPPED  ] %s not built\n", ws_bin);
		return false;
	}
	return true;
}

struct view {
	const char *suffix;
	const char *args[6];
};

static const struct view views[] = {
	{ "events", { NULL } },
	{ "json", { "--json", NULL } },
	{ "summary", { "--summary", NULL } },
	{ "summary-json", { "--summary", "--json", NULL } },
	{ "ladder", { "--ladder", NULL } },
	{ "explain", { "--explain", NULL } },
};

static void golden_one(const char *capture, const char *suffix, const char *const *extra)
{
	char pcap[256], golden[256];
	const char *args[16];
	struct run_result r;
	int n = 0;

	snprintf(pcap, sizeof(pcap), "tests/pcaps/%s.pcap", capture);
	snprintf(golden, sizeof(golden), "tests/golden/%s.%s.txt", capture, suffix);
	args[n++] = "-r";
	args[n++] = pcap;
	for (int i = 0; extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	run_ws(args, NULL, false, &r);
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
		fail_msg("wirestate -r %s %s: exit status 0x%x; stderr:\n%s", pcap, suffix, r.status,
			 r.err);
	if (update_golden) {
		spit(golden, r.out, r.out_len);
		print_message("[  GOLDEN  ] wrote %s\n", golden);
	} else {
		size_t glen;
		char *g = slurp(golden, &glen);

		if (!g)
			fail_msg("%s missing: run WS_UPDATE_GOLDEN=1 build/tests/test_views", golden);
		if (glen != r.out_len || memcmp(g, r.out, glen)) {
			char actual[512], cmd[1200];

			tmp_path(actual, sizeof(actual), "actual.txt");
			spit(actual, r.out, r.out_len);
			snprintf(cmd, sizeof(cmd), "diff -u %s %s | head -60 >&2", golden, actual);
			if (system(cmd) < 0)
				perror("diff");
			fail_msg("%s: output differs (WS_UPDATE_GOLDEN=1 rewrites it)", golden);
		}
		free(g);
	}
	free_result(&r);
}

static void golden_capture(const char *capture)
{
	if (!can_replay()) {
		skip();
		return;
	}
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		golden_one(capture, views[i].suffix, views[i].args);
}

TEST(golden_basic_v4)
{
	static const char *const snap60[] = { "--explain", "--snaplen", "60", NULL };
	static const char *const xjson[] = { "--explain", "--json", NULL };

	golden_capture("basic_v4");
	if (can_replay()) {
		golden_one("basic_v4", "explain-snaplen60", snap60);
		golden_one("basic_v4", "explain-json", xjson);
	}
}

TEST(golden_refused)
{
	golden_capture("refused");
}

TEST(golden_simclose)
{
	golden_capture("simclose");
}

TEST(golden_syn_retrans)
{
	golden_capture("syn_retrans");
}

TEST(golden_v6_vlan)
{
	golden_capture("v6_vlan");
}

/* A real connection between two namespaces, recorded by tests/pcaps/record_real.sh. */
TEST(golden_real_v4)
{
	static const char *const both[] = { "--summary", "--ladder", NULL };

	golden_capture("real_v4");
	if (can_replay())
		golden_one("real_v4", "summary-ladder", both);
}

/* Colours on a terminal; none with NO_COLOR, --no-color or JSON. */
TEST(replay_colors_on_a_terminal)
{
	static const char *const sum[] = { "-r", "tests/pcaps/simclose.pcap", "--summary", NULL };
	static const char *const sum_nc[] = { "-r", "tests/pcaps/simclose.pcap", "--summary",
					      "--no-color", NULL };
	static const char *const lad[] = { "-r", "tests/pcaps/refused.pcap", "--ladder", NULL };
	static const char *const ev[] = { "-r", "tests/pcaps/refused.pcap", NULL };
	static const char *const js[] = { "-r", "tests/pcaps/refused.pcap", "--json", NULL };
	static const char *const no_color[] = { "NO_COLOR=1", NULL };
	struct run_result r;

	int pm, ps;

	if (!can_replay()) {
		skip();
		return;
	}
	if (openpty(&pm, &ps, NULL, NULL, NULL)) {
		print_message("[ SKIPPED  ] no pseudo-terminal (openpty: %s)\n", strerror(errno));
		skip();
		return;
	}
	close(pm);
	close(ps);
	run_ws(sum, NULL, true, &r);
	assert_has(r.out, "\033[32mESTABLISHED\033[0m");
	assert_has(r.out, "\033[36mTIME_WAIT\033[0m");
	free_result(&r);
	run_ws(lad, NULL, true, &r);
	assert_has(r.out, "[\033[1;31mR.\033[0m]");
	assert_has(r.out, "\033[33mSYN_SENT\033[0m");
	free_result(&r);
	run_ws(ev, NULL, true, &r);
	assert_has(r.out, "[\033[1;32mS\033[0m]");
	assert_has(r.out, "\033[1mCLOSED\033[0m");
	free_result(&r);
	run_ws(sum, no_color, true, &r);
	assert_hasnt(r.out, "\033[");
	assert_has(r.out, "ESTABLISHED");
	free_result(&r);
	run_ws(sum_nc, NULL, true, &r);
	assert_hasnt(r.out, "\033[");
	free_result(&r);
	run_ws(js, NULL, true, &r);
	assert_hasnt(r.out, "\033[");
	free_result(&r);
}

/* -w with -r: the written pcap holds every event's frame, as tshark reads it. */
TEST(replay_write_pcap_tshark)
{
	char wpath[512], cmd[1200], line[512];
	const char *args[] = { "-r", "tests/pcaps/basic_v4.pcap", "--json", "-w", wpath, NULL };
	struct run_result r;
	FILE *p;
	int frames = 0, events = 0;

	if (!can_replay()) {
		skip();
		return;
	}
	tmp_path(wpath, sizeof(wpath), "written.pcap");
	unlink(wpath);
	run_ws(args, NULL, false, &r);
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	for (const char *q = r.out; (q = strstr(q, "{\"type\":\"")); q++)
		if (!strncmp(q + 9, "tcp\"", 4) || !strncmp(q + 9, "arp\"", 4))
			events++;
	free_result(&r);
	assert_int_equal(events, 9);

	/* our own reader first */
	struct ws_pcap_reader rd;
	uint8_t buf[2048];
	uint32_t cap, orig;
	uint64_t ts;
	char err[256];
	int n = 0;

	assert_int_equal(ws_pcap_open(&rd, wpath, err, sizeof(err)), 0);
	while (ws_pcap_next(&rd, buf, sizeof(buf), &cap, &orig, &ts, err, sizeof(err)) == 1) {
		assert_true(cap <= WS_SNAP_DEFAULT);
		assert_true(orig >= cap);
		assert_true(ts >= T0);
		n++;
	}
	ws_pcap_close(&rd);
	assert_int_equal(n, events);

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		print_message("[   NOTE   ] tshark not installed: the pcap was checked with our reader only\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -E separator=, -e frame.len -e frame.cap_len "
		 "-e arp.opcode -e tcp.srcport -e tcp.dstport -e tcp.flags -e tcp.seq_raw 2>/dev/null",
		 wpath);
	p = popen(cmd, "r");
	assert_non_null(p);
	char *all = NULL;
	size_t alen = 0;
	FILE *m = open_memstream(&all, &alen);

	while (fgets(line, sizeof(line), p)) {
		fputs(line, m);
		frames++;
	}
	fclose(m);
	assert_int_equal(pclose(p), 0);
	assert_int_equal(frames, events);
	/* ARP request and reply, the SYN, and the FIN whose 300 bytes were cut to the snapshot */
	assert_has(all, "60,60,1,,,,\n");
	assert_has(all, "60,60,2,,,,\n");
	assert_has(all, "74,74,,40000,8080,0x0002,1000\n");
	assert_has(all, "354,128,,40000,8080,0x0019,1101\n");
	free(all);
}

/* ================================================================ main */

static int setup_tmp(void **state __attribute__((unused)))
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ws-test-views.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state __attribute__((unused)))
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crafted_captures_match_generators),
		cmocka_unit_test(explain_ipv4_syn_fields),
		cmocka_unit_test(explain_checksums_wrong_and_offloaded),
		cmocka_unit_test(explain_snapshot_cut_short),
		cmocka_unit_test(explain_ipv6_ext_vlan_window_scale),
		cmocka_unit_test(explain_arp),
		cmocka_unit_test(checksum_helpers),
		cmocka_unit_test(table_evicts_oldest_and_counts),
		cmocka_unit_test(table_late_packets_are_absorbed),
		cmocka_unit_test(view_option_combinations),
		cmocka_unit_test(color_rules),
		cmocka_unit_test(golden_basic_v4),
		cmocka_unit_test(golden_refused),
		cmocka_unit_test(golden_simclose),
		cmocka_unit_test(golden_syn_retrans),
		cmocka_unit_test(golden_v6_vlan),
		cmocka_unit_test(golden_real_v4),
		cmocka_unit_test(replay_colors_on_a_terminal),
		cmocka_unit_test(replay_write_pcap_tshark),
	};
	const char *u = getenv("WS_UPDATE_GOLDEN"), *bin = getenv("WS_BIN");

	(void)argc;
	update_golden = u && !strcmp(u, "1");
	if (bin && bin[0])
		ws_bin = bin;
	/* run from the repository root, wherever we were started */
	if (access("tests/golden", F_OK) && access("tests/pcaps", F_OK)) {
		char *self = strdup(argv[0]), root[4096];

		snprintf(root, sizeof(root), "%s/../..", dirname(self));
		free(self);
		if (chdir(root))
			perror("chdir");
	}
	mkdir("tests/golden", 0755);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
