/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header-only frame builder for the test programs: Ethernet [+ 802.1Q /
 * QinQ tags] + IPv4 [+ options] or IPv6 [+ extension headers] + TCP
 * [+ options] + payload, and ARP.  Everything is written byte by byte in
 * network order, so the result does not depend on the host's byte order.
 *
 * All functions are static and marked unused, so a test that includes this
 * header but uses only part of it still compiles warning-free.
 *
 * Bad input (an address that does not parse, a frame that would not fit in
 * 2048 bytes, nvlan > 2, bad ip_opts) aborts: it is a bug in the test.
 */
#ifndef WS_TESTS_FRAMES_H
#define WS_TESTS_FRAMES_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

struct tcpspec {
	int family;               /* 4 or 6 */
	const char *src, *dst;    /* textual IPv4/IPv6 addresses */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;            /* WS_TCP_* bits (same values as TCP header byte 13) */
	uint16_t win;             /* 0 means 64240 */
	uint16_t paylen;          /* payload bytes appended (filled with 'x') */
	int mss;                  /* >0: MSS option */
	int wscale;               /* >=0 with has_wscale: window scale option */
	int has_wscale;
	int sack_ok;              /* SACK-permitted option */
	int ts;                   /* timestamps option with tsval/tsecr */
	uint32_t tsval, tsecr;
	int nvlan;                /* 0..2 VLAN tags; with 2 the outer one uses TPID 0x88a8 (QinQ) */
	uint16_t vlan[2];         /* VLAN ids, outer first */
	int ip_opts;              /* IPv4 only: bytes of IPv4 options (multiple of 4, <= 40), NOPs + EOL */
	int ip6_ext;              /* IPv6 only: number of 8-byte hop-by-hop/destination-option extension headers to chain before TCP */
	const uint8_t *src_mac, *dst_mac; /* NULL: 02:00:00:00:00:01 / 02:00:00:00:00:02 */
};

#define FR_BUF_MIN   2048     /* callers' buffers hold at least this much */
#define FR_TTL       64       /* IPv4 TTL / IPv6 hop limit of built frames */
#define FR_WIN_DFL   64240
#define FR_IP_ID     0x1234   /* IPv4 identification of built frames (DF set) */

#define FR_UNUSED __attribute__((unused))

static FR_UNUSED __attribute__((noreturn)) void fr_die(const char *what, const char *arg)
{
	fprintf(stderr, "frames.h: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
	abort();
}

static FR_UNUSED void fr_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static FR_UNUSED void fr_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Internet checksum (RFC 1071) of [data, data+len), big-endian 16-bit words,
 * starting from the partial sum `sum` (0, or a pseudo-header's sum of 16-bit
 * words).  Returns the folded, complemented checksum as a number: store it
 * big-endian (e.g. p[0] = c >> 8, p[1] = c & 0xff, or htons(c)).  Over data
 * that contains a correct checksum it returns 0.
 */
static FR_UNUSED uint16_t fr_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = (const uint8_t *)data;
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Sum of the 16-bit big-endian words of a buffer, unfolded (for pseudo-headers). */
static FR_UNUSED uint32_t fr_sum16(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static FR_UNUSED void fr_mac(uint8_t out[6], const char *txt)
{
	unsigned int b[6];
	char extra;
	int i;

	if (sscanf(txt, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &extra) != 6)
		fr_die("bad MAC address", txt);
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			fr_die("bad MAC address", txt);
		out[i] = (uint8_t)b[i];
	}
}

static FR_UNUSED void fr_addr(int af, void *out, const char *txt)
{
	if (!txt || inet_pton(af, txt, out) != 1)
		fr_die(af == AF_INET ? "bad IPv4 address" : "bad IPv6 address", txt);
}

/* Ethernet header and VLAN tags; returns the offset of the L3 header. */
static FR_UNUSED size_t fr_eth(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
			       int nvlan, const uint16_t *vlan, uint16_t ethertype)
{
	static const uint8_t dflt_src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t dflt_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	size_t off = 12;
	int i;

	if (nvlan < 0 || nvlan > 2)
		fr_die("nvlan must be 0..2", NULL);
	memcpy(buf, dst ? dst : dflt_dst, 6);
	memcpy(buf + 6, src ? src : dflt_src, 6);
	for (i = 0; i < nvlan; i++) {
		/* QinQ: the outer tag is an S-tag (802.1ad), the inner a C-tag */
		fr_put16(buf + off, (nvlan == 2 && i == 0) ? 0x88a8 : 0x8100);
		fr_put16(buf + off + 2, vlan[i] & 0x0fff);
		off += 4;
	}
	fr_put16(buf + off, ethertype);
	return off + 2;
}

/* TCP options in Linux's SYN layout; returns their length (multiple of 4). */
static FR_UNUSED size_t fr_tcpopts(uint8_t *o, const struct tcpspec *s)
{
	size_t n = 0;

	if (s->mss > 0) {
		o[n++] = 2;
		o[n++] = 4;
		fr_put16(o + n, (uint32_t)s->mss);
		n += 2;
	}
	if (s->ts) {
		if (s->sack_ok) {
			o[n++] = 4;
			o[n++] = 2;
		} else {
			o[n++] = 1;
			o[n++] = 1;
		}
		o[n++] = 8;
		o[n++] = 10;
		fr_put32(o + n, s->tsval);
		fr_put32(o + n + 4, s->tsecr);
		n += 8;
	} else if (s->sack_ok) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 4;
		o[n++] = 2;
	}
	if (s->has_wscale && s->wscale >= 0) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = (uint8_t)s->wscale;
	}
	while (n & 3)
		o[n++] = 0;         /* end of option list, padding */
	return n;
}

/*
 * Build Ethernet [+VLANs] + IPv4/IPv6 [+options/ext headers] + TCP [+options]
 * + payload into buf (buf must hold >= 2048 bytes).  Correct IPv4 header
 * checksum and TCP checksum (pseudo-header, v4 and v6).  IPv4 frames carry
 * ID FR_IP_ID, DF, TTL FR_TTL; IPv6 frames hop limit FR_TTL; the first IPv6
 * extension header is hop-by-hop (next header 0), the others destination
 * options (60), each one PadN option.  Returns the frame length.
 */
static FR_UNUSED size_t fr_tcp(uint8_t *buf, const struct tcpspec *s)
{
	uint8_t opts[40], pseudo[40];
	size_t l3, l4, optlen, tcplen, hlen, total, i;
	uint8_t *ip, *tcp;
	uint32_t psum;

	optlen = fr_tcpopts(opts, s);
	tcplen = 20 + optlen + s->paylen;

	if (s->family == 4) {
		if (s->ip_opts < 0 || s->ip_opts > 40 || (s->ip_opts & 3))
			fr_die("ip_opts must be a multiple of 4, 0..40", NULL);
		hlen = 20 + (size_t)s->ip_opts;
	} else if (s->family == 6) {
		if (s->ip6_ext < 0 || s->ip6_ext > 100)
			fr_die("ip6_ext out of range", NULL);
		hlen = 40 + 8 * (size_t)s->ip6_ext;
	} else {
		fr_die("family must be 4 or 6", NULL);
	}
	total = 14 + 4 * (size_t)(s->nvlan > 0 ? s->nvlan : 0) + hlen + tcplen;
	if (total > FR_BUF_MIN)
		fr_die("frame too long for a 2048-byte buffer", NULL);

	l3 = fr_eth(buf, s->dst_mac, s->src_mac, s->nvlan, s->vlan,
		    s->family == 4 ? 0x0800 : 0x86dd);
	ip = buf + l3;

	if (s->family == 4) {
		ip[0] = (uint8_t)(0x40 | (hlen / 4));
		ip[1] = 0;
		fr_put16(ip + 2, (uint32_t)(hlen + tcplen));
		fr_put16(ip + 4, FR_IP_ID);
		fr_put16(ip + 6, 0x4000);               /* DF */
		ip[8] = FR_TTL;
		ip[9] = 6;
		fr_put16(ip + 10, 0);
		fr_addr(AF_INET, ip + 12, s->src);
		fr_addr(AF_INET, ip + 16, s->dst);
		if (s->ip_opts) {
			memset(ip + 20, 1, (size_t)s->ip_opts - 1);   /* NOPs */
			ip[hlen - 1] = 0;                            /* EOL */
		}
		fr_put16(ip + 10, fr_csum(ip, hlen, 0));
		/* pseudo-header: src, dst, zero, protocol, TCP length */
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = 6;
		fr_put16(pseudo + 10, (uint32_t)tcplen);
		psum = fr_sum16(pseudo, 12);
	} else {
		uint8_t *ext = ip + 40;
		int k;

		fr_put32(ip, 0x60000000);              /* version 6, no class, no flow label */
		fr_put16(ip + 4, (uint32_t)(hlen - 40 + tcplen));
		ip[6] = s->ip6_ext ? 0 : 6;
		ip[7] = FR_TTL;
		fr_addr(AF_INET6, ip + 8, s->src);
		fr_addr(AF_INET6, ip + 24, s->dst);
		for (k = 0; k < s->ip6_ext; k++, ext += 8) {
			ext[0] = k + 1 < s->ip6_ext ? 60 : 6;   /* next header */
			ext[1] = 0;                             /* 8 bytes long */
			ext[2] = 1;                             /* PadN */
			ext[3] = 4;
			memset(ext + 4, 0, 4);
		}
		/* pseudo-header: src, dst, upper-layer length (32 bits), zero, next header */
		memcpy(pseudo, ip + 8, 32);
		fr_put32(pseudo + 32, (uint32_t)tcplen);
		fr_put32(pseudo + 36, 6);
		psum = fr_sum16(pseudo, 40);
	}

	l4 = l3 + hlen;
	tcp = buf + l4;
	fr_put16(tcp, s->sport);
	fr_put16(tcp + 2, s->dport);
	fr_put32(tcp + 4, s->seq);
	fr_put32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	tcp[13] = s->flags;
	fr_put16(tcp + 14, s->win ? s->win : FR_WIN_DFL);
	fr_put16(tcp + 16, 0);
	fr_put16(tcp + 18, 0);
	memcpy(tcp + 20, opts, optlen);
	for (i = 0; i < s->paylen; i++)
		tcp[20 + optlen + i] = 'x';
	fr_put16(tcp + 16, fr_csum(tcp, tcplen, psum));
	return l4 + tcplen;
}

/*
 * ARP over Ethernet/IPv4: op 1 request (Ethernet dst broadcast, target MAC
 * zero when tha is NULL) or 2 reply (Ethernet dst tha; broadcast and zero
 * target MAC when tha is NULL).  MACs as "02:42:ac:11:00:02" strings, IPs as
 * dotted quads.  Returns the frame length (42, not padded to 60).
 */
static FR_UNUSED size_t fr_arp(uint8_t *buf, int op, const char *sha, const char *spa,
			       const char *tha, const char *tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t smac[6], tmac[6] = { 0 };
	uint8_t *a;
	size_t l3;

	fr_mac(smac, sha);
	if (tha)
		fr_mac(tmac, tha);
	l3 = fr_eth(buf, (op == 2 && tha) ? tmac : bcast, smac, 0, NULL, 0x0806);
	a = buf + l3;
	fr_put16(a, 1);            /* Ethernet */
	fr_put16(a + 2, 0x0800);   /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	fr_put16(a + 6, (uint32_t)op);
	memcpy(a + 8, smac, 6);
	fr_addr(AF_INET, a + 14, spa);
	memcpy(a + 18, tmac, 6);
	fr_addr(AF_INET, a + 24, tpa);
	return l3 + 28;
}

#endif /* WS_TESTS_FRAMES_H */
