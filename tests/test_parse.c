// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the shared header parser (include/ws_parse.h) compiled
 * natively: ws_parse() and ws_parse_tcpopts() on frames built by
 * tests/frames.h, on frames patched into malformed shapes, and on every
 * prefix of several valid frames.
 *
 * The truncation sweeps copy each prefix into a malloc'd buffer of exactly
 * that size, so an over-read is caught when the binary is built with
 * -fsanitize=address,undefined or run under valgrind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "ws_parse.h"
#include "frames.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

/* ---------------------------------------------------------------- helpers */

static int parse(const uint8_t *buf, size_t len, struct ws_pkt *p)
{
	int r = ws_parse(buf, buf + len, p);

	assert_int_equal(r, p->err);    /* return value and p->err always agree */
	return r;
}

static uint32_t ip4(const char *txt)
{
	uint32_t a;

	assert_int_equal(inet_pton(AF_INET, txt, &a), 1);
	return a;                       /* network order, like ws_pkt */
}

static void assert_ip6(const uint32_t got[4], const char *txt)
{
	uint8_t want[16];

	assert_int_equal(inet_pton(AF_INET6, txt, want), 1);
	assert_memory_equal(got, want, 16);
}

static void assert_mac(const uint8_t got[6], const char *txt)
{
	uint8_t want[6];

	fr_mac(want, txt);
	assert_memory_equal(got, want, 6);
}

/* A Linux-like IPv4 SYN with every option frames.h knows. */
static struct tcpspec syn4(void)
{
	struct tcpspec s = {
		.family = 4, .src = "192.0.2.1", .dst = "198.51.100.7",
		.sport = 43210, .dport = 443, .seq = 0x11223344, .ack = 0,
		.flags = WS_TCP_SYN, .win = 0,
		.mss = 1460, .wscale = 7, .has_wscale = 1, .sack_ok = 1,
		.ts = 1, .tsval = 0xdeadbeef, .tsecr = 0,
	};
	return s;
}

static struct tcpspec syn6(void)
{
	struct tcpspec s = {
		.family = 6, .src = "2001:db8::1", .dst = "2001:db8:ffff::2",
		.sport = 50000, .dport = 22, .seq = 0xfffffff0, .ack = 0,
		.flags = WS_TCP_SYN, .win = 65000,
		.mss = 1440, .wscale = 10, .has_wscale = 1, .sack_ok = 1,
		.ts = 1, .tsval = 7, .tsecr = 0,
	};
	return s;
}

/* A data segment with no TCP options. */
static struct tcpspec data4(uint16_t paylen)
{
	struct tcpspec s = {
		.family = 4, .src = "10.1.2.3", .dst = "10.3.2.1",
		.sport = 8080, .dport = 60000, .seq = 1000, .ack = 2000,
		.flags = WS_TCP_ACK | WS_TCP_PSH, .win = 501, .paylen = paylen,
	};
	return s;
}

/* Recompute the IPv4 header checksum after patching a header. */
static void fix_ip4_csum(uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

	ip[10] = ip[11] = 0;
	fr_put16(ip + 10, fr_csum(ip, ihl, 0));
}

static void assert_opts_syn4(const struct ws_tcpopts *o)
{
	assert_int_equal(o->has_mss, 1);
	assert_int_equal(o->mss, 1460);
	assert_int_equal(o->has_wscale, 1);
	assert_int_equal(o->wscale, 7);
	assert_int_equal(o->sack_ok, 1);
	assert_int_equal(o->has_ts, 1);
	assert_int_equal(o->tsval, 0xdeadbeef);
	assert_int_equal(o->tsecr, 0);
	assert_int_equal(o->nsack, 0);
}

/* ------------------------------------------------------- frames.h itself */

TEST(test_frames_checksums)
{
	uint8_t buf[2048];
	struct tcpspec s = syn4();
	size_t len, l4;
	uint32_t psum;
	uint8_t ph[40];

	/* RFC 1071's example: 0001 f203 f4f5 f6f7 sums to ddf2, checksum 220d */
	{
		static const uint8_t ex[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

		assert_int_equal(fr_csum(ex, 8, 0), 0x220d);
		/* odd length: the last byte is padded with a zero byte */
		assert_int_equal(fr_csum(ex, 7, 0), 0x2304);
		assert_int_equal(fr_csum(ex + 1, 1, 0), 0xfeff);
		/* a starting sum is folded in: 0x1ffff + 0xddf2 folds to 0xddf3 */
		assert_int_equal(fr_csum(ex, 8, 0x1ffff), 0x220c);
	}

	/* IPv4: header and TCP checksums verify to 0 */
	s.ip_opts = 12;
	s.paylen = 11;     /* odd TCP length */
	len = fr_tcp(buf, &s);
	l4 = 14 + 32;
	assert_int_equal(len, l4 + 40 + 11);
	assert_int_equal(fr_csum(buf + 14, 32, 0), 0);
	memcpy(ph, buf + 14 + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	fr_put16(ph + 10, (uint32_t)(len - l4));
	psum = fr_sum16(ph, 12);
	assert_int_equal(fr_csum(buf + l4, len - l4, psum), 0);

	/* IPv6 with extension headers: pseudo-header uses the upper-layer length */
	s = syn6();
	s.ip6_ext = 3;
	s.paylen = 5;
	len = fr_tcp(buf, &s);
	l4 = 14 + 40 + 24;
	memcpy(ph, buf + 14 + 8, 32);
	fr_put32(ph + 32, (uint32_t)(len - l4));
	fr_put32(ph + 36, 6);
	psum = fr_sum16(ph, 40);
	assert_int_equal(fr_csum(buf + l4, len - l4, psum), 0);

	/* ARP is 42 bytes */
	assert_int_equal(fr_arp(buf, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.1"), 42);
}

/* ------------------------------------------------------------------ IPv4 */

TEST(test_ipv4_syn_all_options)
{
	uint8_t buf[2048];
	struct tcpspec s = syn4();
	struct ws_pkt p;
	struct ws_tcpopts o;
	size_t len = fr_tcp(buf, &s);

	assert_int_equal(len, 14 + 20 + 40);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.err, WS_OK);
	assert_int_equal(p.eth_proto, WS_ETH_P_IP);
	assert_int_equal(p.l3, WS_L3_IPV4);
	assert_int_equal(p.nvlan, 0);
	assert_int_equal(p.vlan_id[0], 0);
	assert_int_equal(p.vlan_id[1], 0);
	assert_int_equal(p.l4proto, WS_IPPROTO_TCP);
	assert_int_equal(p.is_tcp, 1);
	assert_int_equal(p.frag, 0);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.ip_paylen, 40);
	assert_int_equal(p.ttl, FR_TTL);
	assert_int_equal(p.saddr[0], ip4("192.0.2.1"));
	assert_int_equal(p.daddr[0], ip4("198.51.100.7"));
	assert_int_equal(p.saddr[1] | p.saddr[2] | p.saddr[3], 0);
	assert_int_equal(p.daddr[1] | p.daddr[2] | p.daddr[3], 0);
	assert_int_equal(p.sport, 43210);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.seq, 0x11223344);
	assert_int_equal(p.ack, 0);
	assert_int_equal(p.tcp_flags, WS_TCP_SYN);
	assert_int_equal(p.win, FR_WIN_DFL);
	assert_int_equal(p.doff, 40);
	assert_int_equal(p.paylen, 0);
	assert_int_equal(p.arp_op, 0);

	ws_parse_tcpopts(buf, buf + len, &p, &o);
	assert_opts_syn4(&o);
}

TEST(test_ipv4_data_fields)
{
	uint8_t buf[2048];
	struct tcpspec s = data4(1234);
	struct ws_pkt p;
	struct ws_tcpopts o;
	size_t len;

	s.flags = WS_TCP_ACK | WS_TCP_PSH | WS_TCP_FIN | WS_TCP_URG | WS_TCP_ECE | WS_TCP_CWR;
	s.seq = 0xfedcba98;
	s.ack = 0x01234567;
	len = fr_tcp(buf, &s);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.is_tcp, 1);
	assert_int_equal(p.sport, 8080);
	assert_int_equal(p.dport, 60000);
	assert_int_equal(p.seq, 0xfedcba98);
	assert_int_equal(p.ack, 0x01234567);
	assert_int_equal(p.tcp_flags, s.flags);
	assert_int_equal(p.win, 501);
	assert_int_equal(p.doff, 20);
	assert_int_equal(p.ip_paylen, 20 + 1234);
	assert_int_equal(p.paylen, 1234);

	ws_parse_tcpopts(buf, buf + len, &p, &o);
	assert_int_equal(o.has_mss | o.has_wscale | o.sack_ok | o.has_ts | o.nsack, 0);
}

TEST(test_ipv4_ethernet_padding_ignored)
{
	/* a 54-byte frame padded to 60: paylen comes from the IP length */
	uint8_t buf[2048];
	struct tcpspec s = data4(0);
	struct ws_pkt p;
	size_t len = fr_tcp(buf, &s);

	assert_int_equal(len, 54);
	memset(buf + len, 0, 6);
	assert_int_equal(parse(buf, 60, &p), WS_OK);
	assert_int_equal(p.is_tcp, 1);
	assert_int_equal(p.paylen, 0);
	assert_int_equal(p.ip_paylen, 20);
}

TEST(test_ipv4_with_ip_options)
{
	static const int optlens[] = { 4, 8, 20, 40 };
	unsigned int i;

	for (i = 0; i < sizeof(optlens) / sizeof(optlens[0]); i++) {
		uint8_t buf[2048];
		struct tcpspec s = syn4();
		struct ws_pkt p;
		struct ws_tcpopts o;
		size_t len;

		s.ip_opts = optlens[i];
		s.paylen = 17;
		len = fr_tcp(buf, &s);
		assert_int_equal(buf[14] & 0x0f, 5 + optlens[i] / 4);
		assert_int_equal(parse(buf, len, &p), WS_OK);
		assert_int_equal(p.is_tcp, 1);
		assert_int_equal(p.l3_off, 14);
		assert_int_equal(p.l4_off, 14 + 20 + optlens[i]);
		assert_int_equal(p.ip_paylen, 40 + 17);
		assert_int_equal(p.sport, 43210);
		assert_int_equal(p.dport, 443);
		assert_int_equal(p.seq, 0x11223344);
		assert_int_equal(p.doff, 40);
		assert_int_equal(p.paylen, 17);
		assert_int_equal(p.saddr[0], ip4("192.0.2.1"));
		assert_int_equal(p.daddr[0], ip4("198.51.100.7"));
		ws_parse_tcpopts(buf, buf + len, &p, &o);
		assert_opts_syn4(&o);
	}
}

TEST(test_ipv4_ihl_below_5)
{
	unsigned int ihl;

	for (ihl = 0; ihl < 5; ihl++) {
		uint8_t buf[2048];
		struct tcpspec s = syn4();
		struct ws_pkt p;
		size_t len = fr_tcp(buf, &s);

		buf[14] = (uint8_t)(0x40 | ihl);
		fix_ip4_csum(buf + 14);
		assert_int_equal(parse(buf, len, &p), WS_ERR_IP_IHL);
		assert_int_equal(p.l3, WS_L3_IPV4);
		assert_int_equal(p.is_tcp, 0);
	}
}

TEST(test_ipv4_bad_version)
{
	uint8_t buf[2048];
	struct tcpspec s = syn4();
	struct ws_pkt p;
	size_t len = fr_tcp(buf, &s);

	buf[14] = 0x65;           /* IPv6 version nibble behind an IPv4 ethertype */
	assert_int_not_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.is_tcp, 0);
}

TEST(test_ipv4_total_length_below_header)
{
	uint8_t buf[2048];
	struct tcpspec s = syn4();
	struct ws_pkt p;
	size_t len;

	s.ip_opts = 8;
	len = fr_tcp(buf, &s);
	fr_put16(buf + 14 + 2, 27);       /* IHL is 28 */
	fix_ip4_csum(buf + 14);
	assert_int_equal(parse(buf, len, &p), WS_ERR_IP_LEN);
	assert_int_equal(p.is_tcp, 0);

	fr_put16(buf + 14 + 2, 28);       /* header only: no room for TCP */
	fix_ip4_csum(buf + 14);
	assert_int_equal(parse(buf, len, &p), WS_ERR_TCP_DOFF);
	assert_int_equal(p.is_tcp, 0);
	assert_int_equal(p.ip_paylen, 0);
}

TEST(test_ipv4_ip_options_truncated)
{
	uint8_t buf[2048];
	struct tcpspec s = syn4();
	struct ws_pkt p;

	s.ip_opts = 40;
	fr_tcp(buf, &s);
	/* the fixed 20 bytes are there, the options are not */
	assert_int_equal(parse(buf, 14 + 20 + 39, &p), WS_ERR_IP_TRUNC);
	assert_int_equal(p.is_tcp, 0);
	assert_int_equal(parse(buf, 14 + 20, &p), WS_ERR_IP_TRUNC);
}

TEST(test_tcp_doff_below_5)
{
	unsigned int doff;

	for (doff = 0; doff < 5; doff++) {
		uint8_t buf[2048];
		struct tcpspec s = syn4();
		struct ws_pkt p;
		size_t len = fr_tcp(buf, &s);

		buf[14 + 20 + 12] = (uint8_t)(doff << 4);
		assert_int_equal(parse(buf, len, &p), WS_ERR_TCP_DOFF);
		assert_int_equal(p.l3, WS_L3_IPV4);
		assert_int_equal(p.is_tcp, 0);
	}
}

TEST(test_tcp_doff_past_ip_payload)
{
	uint8_t buf[2048];
	struct tcpspec s = data4(0);
	struct ws_pkt p;
	size_t len = fr_tcp(buf, &s);

	/* 20-byte TCP segment claiming 24 bytes of header */
	buf[14 + 20 + 12] = 6 << 4;
	assert_int_equal(parse(buf, len, &p), WS_ERR_TCP_DOFF);
	assert_int_equal(p.is_tcp, 0);

	/*
	 * The frame has 40 more bytes behind the IP datagram (padding): doff 60
	 * fits the frame but not the IP payload, which is what counts.
	 */
	memset(buf + len, 0, 40);
	buf[14 + 20 + 12] = 15 << 4;
	assert_int_equal(parse(buf, len + 40, &p), WS_ERR_TCP_DOFF);
	assert_int_equal(p.is_tcp, 0);

	/* doff exactly the IP payload: fine, no TCP payload */
	s = syn4();
	len = fr_tcp(buf, &s);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.doff, p.ip_paylen);
	assert_int_equal(p.paylen, 0);

	/* IPv6: doff past the payload length */
	s = syn6();
	s.mss = 0;
	s.ts = 0;
	s.sack_ok = 0;
	s.has_wscale = 0;
	len = fr_tcp(buf, &s);
	buf[14 + 40 + 12] = 6 << 4;
	assert_int_equal(parse(buf, len, &p), WS_ERR_TCP_DOFF);
	assert_int_equal(p.is_tcp, 0);
}

TEST(test_ipv4_first_fragment)
{
	uint8_t buf[2048];
	struct tcpspec s = data4(600);
	struct ws_pkt p;
	size_t len = fr_tcp(buf, &s);

	fr_put16(buf + 14 + 6, 0x2000);            /* MF, offset 0 */
	fix_ip4_csum(buf + 14);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.frag, 1);
	assert_int_equal(p.is_tcp, 1);
	assert_int_equal(p.l4proto, WS_IPPROTO_TCP);
	assert_int_equal(p.sport, 8080);
	assert_int_equal(p.dport, 60000);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.paylen, 600);           /* this fragment's share */
}

TEST(test_ipv4_later_fragment)
{
	static const uint16_t fragfield[] = {
		0x2000 | 75,     /* MF, offset 600 bytes */
		75,              /* last fragment */
		0x4000 | 1,      /* DF + offset (bogus but not first) */
		0x1fff,
	};
	unsigned int i;

	for (i = 0; i < sizeof(fragfield) / sizeof(fragfield[0]); i++) {
		uint8_t buf[2048];
		struct tcpspec s = data4(100);
		struct ws_pkt p;
		size_t len = fr_tcp(buf, &s);

		fr_put16(buf + 14 + 6, fragfield[i]);
		/* what follows the IP header is payload, not a TCP header */
		buf[14 + 20 + 12] = 0x10;      /* would be doff 4 */
		fix_ip4_csum(buf + 14);
		assert_int_equal(parse(buf, len, &p), WS_OK);
		assert_int_equal(p.frag, 2);
		assert_int_equal(p.is_tcp, 0);
		assert_int_equal(p.l3, WS_L3_IPV4);
		assert_int_equal(p.l4proto, WS_IPPROTO_TCP);
		assert_int_equal(p.l4_off, 34);
		assert_int_equal(p.ip_paylen, 120);
		assert_int_equal(p.sport, 0);
		assert_int_equal(p.seq, 0);
	}
	/* a later fragment too short to hold a TCP header is no error either */
	{
		uint8_t buf[2048];
		struct tcpspec s = data4(0);
		struct ws_pkt p;
		size_t len = fr_tcp(buf, &s);

		fr_put16(buf + 14 + 2, 28);
		fr_put16(buf + 14 + 6, 100);
		fix_ip4_csum(buf + 14);
		assert_int_equal(parse(buf, len - 12, &p), WS_OK);
		assert_int_equal(p.frag, 2);
		assert_int_equal(p.is_tcp, 0);
	}
}

TEST(test_ipv4_not_tcp)
{
	uint8_t buf[2048];
	struct tcpspec s = data4(8);
	struct ws_pkt p;
	size_t len = fr_tcp(buf, &s);

	buf[14 + 9] = 17;                  /* UDP */
	fix_ip4_csum(buf + 14);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.l3, WS_L3_IPV4);
	assert_int_equal(p.l4proto, 17);
	assert_int_equal(p.is_tcp, 0);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.saddr[0], ip4("10.1.2.3"));
}

/* ------------------------------------------------- the data path's shortcut */

/* ws_parse_quick() accepts the frame and says what ws_parse() says of it. */
static void assert_quick_agrees(const uint8_t *buf, size_t len)
{
	struct ws_quick q;
	struct ws_pkt p;

	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(ws_parse_quick(buf, buf + len, &q), 1);
	assert_int_equal(q.family, p.l3 == WS_L3_IPV6 ? 6 : 4);
	assert_memory_equal(q.saddr, p.saddr, 16);
	assert_memory_equal(q.daddr, p.daddr, 16);
	assert_int_equal(q.sport, p.sport);
	assert_int_equal(q.dport, p.dport);
	assert_int_equal(q.seq, p.seq);
	assert_int_equal(q.tcp_flags, p.tcp_flags);
	assert_int_equal(q.paylen, p.paylen);
}

static void assert_quick_declines(const uint8_t *buf, size_t len)
{
	struct ws_quick q;

	assert_int_equal(ws_parse_quick(buf, buf + len, &q), 0);
}

TEST(test_quick_common_frames)
{
	uint8_t buf[2048];
	struct tcpspec s = data4(1448);
	size_t len = fr_tcp(buf, &s);

	assert_quick_agrees(buf, len);
	s = data4(0);                       /* a bare ACK: 54 bytes, the shortest case */
	len = fr_tcp(buf, &s);
	assert_int_equal(len, 54);
	assert_quick_agrees(buf, len);
	memset(buf + len, 0, 6);            /* Ethernet padding: length from the IP header */
	assert_quick_agrees(buf, 60);
	s = syn4();                         /* TCP options are no obstacle */
	len = fr_tcp(buf, &s);
	assert_quick_agrees(buf, len);
	s = syn6();
	s.paylen = 100;
	len = fr_tcp(buf, &s);
	assert_quick_agrees(buf, len);
}

TEST(test_quick_declines_the_rest)
{
	uint8_t buf[2048];
	struct tcpspec s;
	size_t len;

	s = data4(10);
	s.nvlan = 1;
	s.vlan[0] = 5;
	assert_quick_declines(buf, fr_tcp(buf, &s));
	s = data4(10);
	s.ip_opts = 4;
	assert_quick_declines(buf, fr_tcp(buf, &s));
	s = syn6();
	s.ip6_ext = 1;
	assert_quick_declines(buf, fr_tcp(buf, &s));
	s = data4(10);
	len = fr_tcp(buf, &s);
	buf[14 + 6] |= 0x20;                /* more fragments: a first fragment */
	assert_quick_declines(buf, len);
	buf[14 + 6] &= (uint8_t)~0x20;
	buf[14 + 7] = 1;                    /* a later fragment */
	assert_quick_declines(buf, len);
	buf[14 + 7] = 0;
	buf[14 + 9] = 17;                   /* UDP */
	assert_quick_declines(buf, len);
	buf[14 + 9] = 6;
	assert_quick_declines(buf, 53);     /* TCP header cut short */
	buf[34 + 12] = 0x40;                /* doff 16 */
	assert_quick_declines(buf, len);
	buf[34 + 12] = 0xf0;                /* doff 60: past the IP payload */
	assert_quick_declines(buf, len);
	s = syn6();
	len = fr_tcp(buf, &s);
	assert_quick_declines(buf, 73);     /* IPv6: TCP header cut short */
	s = data4(0);
	len = fr_tcp(buf, &s);
	fr_put16(buf + 14 + 2, 19);         /* IP total length below the header */
	assert_quick_declines(buf, len);
	assert_int_equal(fr_arp(buf, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.1"), 42);
	assert_quick_declines(buf, 42);
}

/* ------------------------------------------------------------------ IPv6 */

TEST(test_ipv6_syn)
{
	uint8_t buf[2048];
	struct tcpspec s = syn6();
	struct ws_pkt p;
	struct ws_tcpopts o;
	size_t len = fr_tcp(buf, &s);

	assert_int_equal(len, 14 + 40 + 40);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.eth_proto, WS_ETH_P_IPV6);
	assert_int_equal(p.l3, WS_L3_IPV6);
	assert_int_equal(p.nvlan, 0);
	assert_int_equal(p.l4proto, WS_IPPROTO_TCP);
	assert_int_equal(p.is_tcp, 1);
	assert_int_equal(p.frag, 0);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 54);
	assert_int_equal(p.ip_paylen, 40);
	assert_int_equal(p.ttl, FR_TTL);
	assert_ip6(p.saddr, "2001:db8::1");
	assert_ip6(p.daddr, "2001:db8:ffff::2");
	assert_int_equal(p.sport, 50000);
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.seq, 0xfffffff0);
	assert_int_equal(p.ack, 0);
	assert_int_equal(p.tcp_flags, WS_TCP_SYN);
	assert_int_equal(p.win, 65000);
	assert_int_equal(p.doff, 40);
	assert_int_equal(p.paylen, 0);

	ws_parse_tcpopts(buf, buf + len, &p, &o);
	assert_int_equal(o.has_mss, 1);
	assert_int_equal(o.mss, 1440);
	assert_int_equal(o.has_wscale, 1);
	assert_int_equal(o.wscale, 10);
	assert_int_equal(o.sack_ok, 1);
	assert_int_equal(o.has_ts, 1);
	assert_int_equal(o.tsval, 7);
	assert_int_equal(o.tsecr, 0);
}

TEST(test_ipv6_ext_headers_within_limit)
{
	int n;

	for (n = 1; n <= WS_MAX_IP6_EXT; n++) {
		uint8_t buf[2048];
		struct tcpspec s = syn6();
		struct ws_pkt p;
		struct ws_tcpopts o;
		size_t len;

		s.paylen = 9;
		s.ip6_ext = n;
		len = fr_tcp(buf, &s);
		assert_int_equal(buf[14 + 6], 0);   /* hop-by-hop first */
		assert_int_equal(parse(buf, len, &p), WS_OK);
		assert_int_equal(p.is_tcp, 1);
		assert_int_equal(p.l4proto, WS_IPPROTO_TCP);
		assert_int_equal(p.frag, 0);
		assert_int_equal(p.l4_off, 54 + 8 * n);
		assert_int_equal(p.ip_paylen, 40 + 9);
		assert_int_equal(p.paylen, 9);
		assert_int_equal(p.sport, 50000);
		assert_int_equal(p.seq, 0xfffffff0);
		ws_parse_tcpopts(buf, buf + len, &p, &o);
		assert_int_equal(o.mss, 1440);
		assert_int_equal(o.has_ts, 1);
	}
}

TEST(test_ipv6_ext_headers_too_deep)
{
	uint8_t buf[2048];
	struct tcpspec s = syn6();
	struct ws_pkt p;
	size_t len;

	s.ip6_ext = WS_MAX_IP6_EXT + 1;
	len = fr_tcp(buf, &s);
	assert_int_equal(parse(buf, len, &p), WS_ERR_IP6_EXT_DEPTH);
	assert_int_equal(p.l3, WS_L3_IPV6);
	assert_int_equal(p.is_tcp, 0);

	s.ip6_ext = WS_MAX_IP6_EXT + 3;
	len = fr_tcp(buf, &s);
	assert_int_equal(parse(buf, len, &p), WS_ERR_IP6_EXT_DEPTH);
	assert_int_equal(p.is_tcp, 0);
}

TEST(test_ipv6_ext_header_longer_than_payload)
{
	uint8_t buf[2048];
	struct tcpspec s = syn6();
	struct ws_pkt p;
	size_t len;

	s.ip6_ext = 1;
	len = fr_tcp(buf, &s);
	buf[14 + 40 + 1] = 200;       /* 1608 bytes claimed */
	assert_int_equal(parse(buf, len, &p), WS_ERR_IP6_TRUNC);
	assert_int_equal(p.is_tcp, 0);
}

/* Turn the first (8-byte) extension header of an IPv6 frame into a fragment header. */
static void make_ip6_frag(uint8_t *buf, int prev_is_ext, uint8_t *ext, uint16_t off8, int more)
{
	uint8_t nh = ext[0];

	if (prev_is_ext)
		ext[-8] = 44;
	else
		buf[14 + 6] = 44;
	ext[0] = nh;
	ext[1] = 0;
	fr_put16(ext + 2, (uint32_t)(off8 << 3 | (more ? 1 : 0)));
	fr_put32(ext + 4, 0xabcdef01);
}

TEST(test_ipv6_fragment_header)
{
	struct {
		uint16_t off8;
		int more;
		int want_frag;
	} c[] = {
		{ 0, 1, 1 },       /* first fragment */
		{ 0, 0, 0 },       /* atomic fragment */
		{ 100, 1, 2 },     /* middle */
		{ 100, 0, 2 },     /* last */
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint8_t buf[2048];
		struct tcpspec s = syn6();
		struct ws_pkt p;
		size_t len;

		s.paylen = 30;
		s.ip6_ext = 1;
		len = fr_tcp(buf, &s);
		make_ip6_frag(buf, 0, buf + 54, c[i].off8, c[i].more);
		if (c[i].want_frag == 2)
			buf[54 + 8 + 12] = 0x20;   /* payload, not a header: doff 8 */
		assert_int_equal(parse(buf, len, &p), WS_OK);
		assert_int_equal(p.frag, c[i].want_frag);
		assert_int_equal(p.l4proto, WS_IPPROTO_TCP);
		assert_int_equal(p.l4_off, 62);
		assert_int_equal(p.ip_paylen, 40 + 30);
		if (c[i].want_frag == 2) {
			assert_int_equal(p.is_tcp, 0);
		} else {
			assert_int_equal(p.is_tcp, 1);
			assert_int_equal(p.sport, 50000);
			assert_int_equal(p.paylen, 30);
		}
	}

	/* hop-by-hop, then fragment, then destination options, then TCP */
	{
		uint8_t buf[2048];
		struct tcpspec s = syn6();
		struct ws_pkt p;
		size_t len;

		s.ip6_ext = 3;
		len = fr_tcp(buf, &s);
		make_ip6_frag(buf, 1, buf + 62, 0, 1);
		assert_int_equal(parse(buf, len, &p), WS_OK);
		assert_int_equal(p.frag, 1);
		assert_int_equal(p.is_tcp, 1);
		assert_int_equal(p.l4_off, 54 + 24);
	}
}

TEST(test_ipv6_not_tcp)
{
	uint8_t buf[2048];
	struct tcpspec s = syn6();
	struct ws_pkt p;
	size_t len;

	s.ip6_ext = 2;
	len = fr_tcp(buf, &s);
	buf[14 + 40 + 8] = 58;            /* ICMPv6 after the second ext header */
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.l4proto, 58);
	assert_int_equal(p.is_tcp, 0);
	assert_int_equal(p.l4_off, 54 + 16);
}

/* ------------------------------------------------------------------ VLAN */

TEST(test_vlan_single)
{
	uint8_t buf[2048];
	struct tcpspec s = syn4();
	struct ws_pkt p;
	size_t len;

	s.nvlan = 1;
	s.vlan[0] = 100;
	len = fr_tcp(buf, &s);
	assert_int_equal(len, 18 + 20 + 40);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan_id[0], 100);
	assert_int_equal(p.vlan_id[1], 0);
	assert_int_equal(p.eth_proto, WS_ETH_P_IP);
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(p.l4_off, 38);
	assert_int_equal(p.is_tcp, 1);
	assert_int_equal(p.sport, 43210);

	/* priority and DEI bits are not part of the id */
	fr_put16(buf + 14, 0xf000 | 4094);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.vlan_id[0], 4094);
}

TEST(test_vlan_qinq)
{
	uint8_t buf[2048];
	struct tcpspec s = syn6();
	struct ws_pkt p;
	size_t len;

	s.nvlan = 2;
	s.vlan[0] = 3000;
	s.vlan[1] = 42;
	len = fr_tcp(buf, &s);
	assert_int_equal(buf[12] << 8 | buf[13], WS_ETH_P_8021AD);
	assert_int_equal(buf[16] << 8 | buf[17], WS_ETH_P_8021Q);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan_id[0], 3000);
	assert_int_equal(p.vlan_id[1], 42);
	assert_int_equal(p.eth_proto, WS_ETH_P_IPV6);
	assert_int_equal(p.l3, WS_L3_IPV6);
	assert_int_equal(p.l3_off, 22);
	assert_int_equal(p.l4_off, 62);
	assert_int_equal(p.is_tcp, 1);

	/* two 802.1Q tags (old-style QinQ) are accepted as well */
	fr_put16(buf + 12, WS_ETH_P_8021Q);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan_id[0], 3000);
}

TEST(test_vlan_three_tags)
{
	uint8_t buf[2048], three[2048];
	struct tcpspec s = syn4();
	struct ws_pkt p;
	size_t len;

	s.nvlan = 2;
	s.vlan[0] = 10;
	s.vlan[1] = 20;
	len = fr_tcp(buf, &s);
	/* insert a third (802.1Q, id 30) tag behind the two */
	memcpy(three, buf, 20);
	fr_put16(three + 20, WS_ETH_P_8021Q);
	fr_put16(three + 22, 30);
	memcpy(three + 24, buf + 20, len - 20);
	assert_int_equal(parse(three, len + 4, &p), WS_ERR_VLAN_DEPTH);
	assert_int_equal(p.l3, WS_L3_OTHER);
	assert_int_equal(p.is_tcp, 0);
	assert_int_equal(p.nvlan, WS_MAX_VLAN);
	assert_int_equal(p.vlan_id[0], 10);
	assert_int_equal(p.vlan_id[1], 20);
}

/* ------------------------------------------------------------------- ARP */

TEST(test_arp_request)
{
	uint8_t buf[2048];
	struct ws_pkt p;
	size_t len = fr_arp(buf, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.1");
	static const uint8_t zero[6];

	assert_int_equal(len, 42);
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.l3, WS_L3_ARP);
	assert_int_equal(p.eth_proto, WS_ETH_P_ARP);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.is_tcp, 0);
	assert_int_equal(p.arp_op, 1);
	assert_mac(p.sha, "02:42:ac:11:00:02");
	assert_int_equal(p.spa, ip4("172.17.0.2"));
	assert_memory_equal(p.tha, zero, 6);
	assert_int_equal(p.tpa, ip4("172.17.0.1"));
}

TEST(test_arp_reply)
{
	uint8_t buf[2048];
	struct ws_pkt p;
	size_t len = fr_arp(buf, 2, "02:42:ac:11:00:01", "172.17.0.1",
			    "02:42:ac:11:00:02", "172.17.0.2");

	assert_int_equal(len, 42);
	assert_mac(buf, "02:42:ac:11:00:02");     /* unicast to the asker */
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.l3, WS_L3_ARP);
	assert_int_equal(p.arp_op, 2);
	assert_mac(p.sha, "02:42:ac:11:00:01");
	assert_int_equal(p.spa, ip4("172.17.0.1"));
	assert_mac(p.tha, "02:42:ac:11:00:02");
	assert_int_equal(p.tpa, ip4("172.17.0.2"));
}

TEST(test_arp_padded_and_vlan)
{
	uint8_t buf[2048], tagged[2048];
	struct ws_pkt p;
	size_t len = fr_arp(buf, 1, "02:00:00:00:00:0a", "10.0.0.10", NULL, "10.0.0.1");

	/* padded to the 60-byte minimum */
	memset(buf + len, 0, 60 - len);
	assert_int_equal(parse(buf, 60, &p), WS_OK);
	assert_int_equal(p.arp_op, 1);
	assert_int_equal(p.tpa, ip4("10.0.0.1"));

	/* behind an 802.1Q tag */
	memcpy(tagged, buf, 12);
	fr_put16(tagged + 12, WS_ETH_P_8021Q);
	fr_put16(tagged + 14, 7);
	memcpy(tagged + 16, buf + 12, len - 12);
	assert_int_equal(parse(tagged, len + 4, &p), WS_OK);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan_id[0], 7);
	assert_int_equal(p.l3, WS_L3_ARP);
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(p.arp_op, 1);
	assert_mac(p.sha, "02:00:00:00:00:0a");
	assert_int_equal(p.spa, ip4("10.0.0.10"));
}

TEST(test_arp_other_flavour)
{
	uint8_t buf[2048];
	struct ws_pkt p;
	size_t len = fr_arp(buf, 1, "02:00:00:00:00:0a", "10.0.0.10", NULL, "10.0.0.1");

	buf[14 + 1] = 6;                   /* hardware type IEEE 802 */
	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.l3, WS_L3_ARP);
	assert_int_equal(p.arp_op, 0);     /* recognised, not decoded */
	assert_int_equal(p.spa, 0);
}

/* ------------------------------------------------------------- other L3 */

TEST(test_non_ip_ethertype)
{
	static const uint16_t types[] = { 0x88cc /* LLDP */, 0x8847 /* MPLS */, 0x0842, 0x05dc };
	unsigned int i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		uint8_t buf[64] = { 0 };
		struct ws_pkt p;

		fr_put16(buf + 12, types[i]);
		assert_int_equal(parse(buf, sizeof(buf), &p), WS_OK);
		assert_int_equal(p.l3, WS_L3_OTHER);
		assert_int_equal(p.eth_proto, types[i]);
		assert_int_equal(p.l3_off, 14);
		assert_int_equal(p.is_tcp, 0);
		/* exactly an Ethernet header is enough */
		assert_int_equal(parse(buf, 14, &p), WS_OK);
		assert_int_equal(p.l3, WS_L3_OTHER);
	}
}

/* --------------------------------------------------------- TCP options */

/*
 * An IPv4 frame whose TCP header carries exactly `n` option bytes (n a
 * multiple of 4, <= 40) copied from `opts`.  Returns the frame length.
 */
static size_t frame_with_opts(uint8_t *buf, const uint8_t *opts, size_t n)
{
	struct tcpspec s = data4((uint16_t)n);
	size_t len = fr_tcp(buf, &s);

	buf[14 + 20 + 12] = (uint8_t)(((20 + n) / 4) << 4);
	memcpy(buf + 14 + 20 + 20, opts, n);
	return len;
}

static void parse_opts(const uint8_t *opts, size_t n, struct ws_tcpopts *o)
{
	uint8_t buf[2048];
	struct ws_pkt p;
	size_t len = frame_with_opts(buf, opts, n);

	assert_int_equal(parse(buf, len, &p), WS_OK);
	assert_int_equal(p.doff, 20 + n);
	assert_int_equal(p.paylen, 0);
	ws_parse_tcpopts(buf, buf + len, &p, o);
}

TEST(test_tcpopts_sack_blocks)
{
	uint8_t opts[40] = { 1, 1, 5, 26 };   /* NOP NOP SACK with 3 blocks */
	struct ws_tcpopts o;

	memset(opts + 4, 0x55, 24);
	opts[28] = 1;
	opts[29] = 1;
	opts[30] = 8;
	opts[31] = 10;
	fr_put32(opts + 32, 123);
	fr_put32(opts + 36, 456);
	parse_opts(opts, 40, &o);
	assert_int_equal(o.nsack, 3);
	assert_int_equal(o.has_ts, 1);
	assert_int_equal(o.tsval, 123);
	assert_int_equal(o.tsecr, 456);
	assert_int_equal(o.has_mss, 0);
}

TEST(test_tcpopts_forty_nops_then_nothing)
{
	uint8_t opts[40];
	struct ws_tcpopts o;

	memset(opts, 1, sizeof(opts));
	parse_opts(opts, 40, &o);
	assert_int_equal(o.has_mss | o.has_wscale | o.sack_ok | o.has_ts | o.nsack, 0);

	/* 36 NOPs and an MSS in the last 4 bytes */
	opts[36] = 2;
	opts[37] = 4;
	fr_put16(opts + 38, 536);
	parse_opts(opts, 40, &o);
	assert_int_equal(o.has_mss, 1);
	assert_int_equal(o.mss, 536);
}

TEST(test_tcpopts_eol_stops)
{
	static const uint8_t opts[8] = { 0, 0, 2, 4, 0x05, 0xb4, 0, 0 };
	struct ws_tcpopts o;

	parse_opts(opts, 8, &o);
	assert_int_equal(o.has_mss, 0);
}

TEST(test_tcpopts_bad_lengths)
{
	struct ws_tcpopts o;

	/* MSS, then a window scale option of length 1: the walk stops there */
	{
		static const uint8_t opts[8] = { 2, 4, 0x05, 0xb4, 3, 1, 7, 0 };

		parse_opts(opts, 8, &o);
		assert_int_equal(o.has_mss, 1);
		assert_int_equal(o.mss, 1460);
		assert_int_equal(o.has_wscale, 0);
	}
	/* length 0 must not loop forever */
	{
		static const uint8_t opts[8] = { 30, 0, 2, 4, 0x05, 0xb4, 0, 0 };

		parse_opts(opts, 8, &o);
		assert_int_equal(o.has_mss, 0);
	}
	/* MSS of the wrong length is skipped by its length, the rest is read */
	{
		static const uint8_t opts[8] = { 2, 3, 9, 1, 3, 3, 14, 0 };

		parse_opts(opts, 8, &o);
		assert_int_equal(o.has_mss, 0);
		assert_int_equal(o.has_wscale, 1);
		assert_int_equal(o.wscale, 14);
	}
	/* a timestamp option running past the header is not read */
	{
		static const uint8_t opts[12] = { 1, 1, 4, 2, 1, 1, 8, 10, 0, 0, 0, 1 };

		parse_opts(opts, 12, &o);
		assert_int_equal(o.sack_ok, 1);
		assert_int_equal(o.has_ts, 0);
	}
	/* unknown kinds are skipped */
	{
		static const uint8_t opts[12] = { 254, 6, 1, 2, 3, 4, 1, 3, 3, 2, 0, 0 };

		parse_opts(opts, 12, &o);
		assert_int_equal(o.has_wscale, 1);
		assert_int_equal(o.wscale, 2);
	}
}

TEST(test_tcpopts_not_tcp)
{
	uint8_t buf[2048];
	struct ws_pkt p;
	struct ws_tcpopts o;
	size_t len = fr_arp(buf, 1, "02:00:00:00:00:0a", "10.0.0.10", NULL, "10.0.0.1");

	assert_int_equal(parse(buf, len, &p), WS_OK);
	memset(&o, 0xff, sizeof(o));
	ws_parse_tcpopts(buf, buf + len, &p, &o);
	assert_int_equal(o.has_mss | o.has_wscale | o.sack_ok | o.has_ts | o.nsack, 0);
	assert_int_equal(o.mss, 0);
	assert_int_equal(o.tsval, 0);
}

/* ---------------------------------------------------- truncation sweeps */

enum fkind { FK_ARP, FK_IP4, FK_IP6 };

struct layout {
	enum fkind kind;
	size_t l3;          /* 14 + 4 * VLAN tags */
	size_t l4;          /* TCP header offset */
	size_t doff;        /* TCP header length */
};

/* The error a prefix of n bytes must give; *opt_cut: n cuts the TCP options. */
static int expected_err(const struct layout *L, size_t n, int *opt_cut)
{
	*opt_cut = 0;
	if (n < 14)
		return WS_ERR_ETH_TRUNC;
	if (n < L->l3)
		return WS_ERR_VLAN_TRUNC;
	switch (L->kind) {
	case FK_ARP:
		return n < L->l3 + 28 ? WS_ERR_ARP_TRUNC : WS_OK;
	case FK_IP4:
		if (n < L->l4)
			return WS_ERR_IP_TRUNC;
		break;
	case FK_IP6:
		if (n < L->l4)
			return WS_ERR_IP6_TRUNC;
		break;
	}
	if (n < L->l4 + 20)
		return WS_ERR_TCP_TRUNC;
	if (n < L->l4 + L->doff) {
		*opt_cut = 1;
		return WS_ERR_TCP_TRUNC;
	}
	return WS_OK;
}

static const char *const err_names[] = {
	"WS_OK", "ETH_TRUNC", "VLAN_TRUNC", "VLAN_DEPTH", "ARP_TRUNC", "IP_TRUNC",
	"IP_IHL", "IP_LEN", "IP6_TRUNC", "IP6_EXT_DEPTH", "TCP_TRUNC", "TCP_DOFF",
};

static const char *ename(int e)
{
	return e >= 0 && e < WS_ERR__MAX ? err_names[e] : "?";
}

/*
 * Parse every prefix 0..len-1 of frame, each from an exactly-sized heap
 * copy, and check the error (and, from the end of the headers on, that
 * the result equals the full parse).  Prefixes that cut the TCP options
 * are checked last, so everything else has been covered when they fail.
 */
static void sweep(const char *name, const uint8_t *frame, size_t len, const struct layout *L)
{
	struct ws_pkt ref, p;
	struct ws_tcpopts ref_o, o;
	int pass;
	size_t n;

	assert_int_equal(parse(frame, len, &ref), WS_OK);
	if (L->kind != FK_ARP) {
		assert_int_equal(ref.is_tcp, 1);
		assert_int_equal(ref.l4_off, L->l4);
		assert_int_equal(ref.doff, L->doff);
	}
	ws_parse_tcpopts(frame, frame + len, &ref, &ref_o);

	for (pass = 0; pass < 2; pass++) {
		for (n = 0; n < len; n++) {
			uint8_t *b = malloc(n);
			int opt_cut, want, r;

			if (!b && n)
				fail_msg("out of memory");
			memcpy(b, frame, n);
			r = ws_parse(b, b + n, &p);
			/* runs on every prefix: an over-read here is caught too */
			ws_parse_tcpopts(b, b + n, &p, &o);
			free(b);

			want = expected_err(L, n, &opt_cut);
			if (opt_cut != pass)
				continue;
			if (r != p.err)
				fail_msg("%s: prefix %zu/%zu: returned %s, p.err %s", name, n, len,
					 ename(r), ename(p.err));
			if (want != WS_OK) {
				if (r != want || p.is_tcp)
					fail_msg("%s: prefix %zu/%zu%s: got %s is_tcp=%d, want %s is_tcp=0",
						 name, n, len,
						 opt_cut ? " (TCP options cut short)" : "",
						 ename(r), p.is_tcp, ename(want));
			} else {
				if (r != WS_OK || memcmp(&p, &ref, sizeof(p)) != 0)
					fail_msg("%s: prefix %zu/%zu holds all headers but does not "
						 "parse like the whole frame (got %s)", name, n, len, ename(r));
				if (memcmp(&o, &ref_o, sizeof(o)) != 0)
					fail_msg("%s: prefix %zu/%zu: TCP options differ from the "
						 "whole frame's", name, n, len);
			}
		}
	}
}

TEST(test_trunc_ipv4_tcp_options)
{
	uint8_t buf[2048];
	struct tcpspec s = syn4();
	struct layout L = { FK_IP4, 14, 14 + 28, 40 };
	size_t len;

	s.ip_opts = 8;
	s.paylen = 5;
	len = fr_tcp(buf, &s);
	sweep("IPv4+opts TCP+opts", buf, len, &L);
}

TEST(test_trunc_ipv6_tcp)
{
	uint8_t buf[2048];
	struct tcpspec s = syn6();
	struct layout L = { FK_IP6, 14, 54, 40 };
	size_t len;

	s.paylen = 3;
	len = fr_tcp(buf, &s);
	sweep("IPv6 TCP", buf, len, &L);
}

TEST(test_trunc_ipv6_ext_tcp)
{
	uint8_t buf[2048];
	struct tcpspec s = syn6();
	struct layout L = { FK_IP6, 14 + 4, 18 + 40 + 16, 40 };
	size_t len;

	s.nvlan = 1;
	s.vlan[0] = 9;
	s.ip6_ext = 2;
	len = fr_tcp(buf, &s);
	sweep("VLAN IPv6+2ext TCP", buf, len, &L);
}

TEST(test_trunc_arp)
{
	uint8_t buf[2048];
	struct layout L = { FK_ARP, 14, 0, 0 };
	size_t len = fr_arp(buf, 2, "02:42:ac:11:00:01", "172.17.0.1",
			    "02:42:ac:11:00:02", "172.17.0.2");

	sweep("ARP", buf, len, &L);
}

TEST(test_trunc_qinq_ipv4_tcp)
{
	uint8_t buf[2048];
	struct tcpspec s = syn4();
	struct layout L = { FK_IP4, 22, 22 + 20, 40 };
	size_t len;

	s.nvlan = 2;
	s.vlan[0] = 100;
	s.vlan[1] = 200;
	s.paylen = 2;
	len = fr_tcp(buf, &s);
	sweep("QinQ IPv4 TCP", buf, len, &L);
}

/* A data segment without options has no option bytes to cut: it must pass today. */
TEST(test_trunc_ipv4_tcp_no_options)
{
	uint8_t buf[2048];
	struct tcpspec s = data4(20);
	struct layout L = { FK_IP4, 14, 34, 20 };
	size_t len = fr_tcp(buf, &s);

	sweep("IPv4 TCP no options", buf, len, &L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_checksums),
		cmocka_unit_test(test_ipv4_syn_all_options),
		cmocka_unit_test(test_ipv4_data_fields),
		cmocka_unit_test(test_ipv4_ethernet_padding_ignored),
		cmocka_unit_test(test_ipv4_with_ip_options),
		cmocka_unit_test(test_ipv4_ihl_below_5),
		cmocka_unit_test(test_ipv4_bad_version),
		cmocka_unit_test(test_ipv4_total_length_below_header),
		cmocka_unit_test(test_ipv4_ip_options_truncated),
		cmocka_unit_test(test_tcp_doff_below_5),
		cmocka_unit_test(test_tcp_doff_past_ip_payload),
		cmocka_unit_test(test_ipv4_first_fragment),
		cmocka_unit_test(test_ipv4_later_fragment),
		cmocka_unit_test(test_ipv4_not_tcp),
		cmocka_unit_test(test_quick_common_frames),
		cmocka_unit_test(test_quick_declines_the_rest),
		cmocka_unit_test(test_ipv6_syn),
		cmocka_unit_test(test_ipv6_ext_headers_within_limit),
		cmocka_unit_test(test_ipv6_ext_headers_too_deep),
		cmocka_unit_test(test_ipv6_ext_header_longer_than_payload),
		cmocka_unit_test(test_ipv6_fragment_header),
		cmocka_unit_test(test_ipv6_not_tcp),
		cmocka_unit_test(test_vlan_single),
		cmocka_unit_test(test_vlan_qinq),
		cmocka_unit_test(test_vlan_three_tags),
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_arp_reply),
		cmocka_unit_test(test_arp_padded_and_vlan),
		cmocka_unit_test(test_arp_other_flavour),
		cmocka_unit_test(test_non_ip_ethertype),
		cmocka_unit_test(test_tcpopts_sack_blocks),
		cmocka_unit_test(test_tcpopts_forty_nops_then_nothing),
		cmocka_unit_test(test_tcpopts_eol_stops),
		cmocka_unit_test(test_tcpopts_bad_lengths),
		cmocka_unit_test(test_tcpopts_not_tcp),
		cmocka_unit_test(test_trunc_ipv4_tcp_no_options),
		cmocka_unit_test(test_trunc_arp),
		cmocka_unit_test(test_trunc_ipv4_tcp_options),
		cmocka_unit_test(test_trunc_ipv6_tcp),
		cmocka_unit_test(test_trunc_ipv6_ext_tcp),
		cmocka_unit_test(test_trunc_qinq_ipv4_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
