/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * wirestate's one header parser, used by the XDP program, the TC program and
 * (compiled natively) by user space for --explain, tests and fuzzing.
 *
 * Every read is preceded by a bounds check against `end`, in the form the BPF
 * verifier understands (pointer + constant > end).  Multi-byte fields are
 * loaded whole (natively through memcpy, so an unaligned field is no undefined
 * behaviour) and converted from network order with ws_ntohs/ws_ntohl, which
 * know the host's byte order.  A BPF program only ever parses packet memory,
 * where the kernel allows unaligned loads (the verifier checks alignment
 * strictly only on architectures without efficient unaligned access); byte
 * by byte, each 32-bit field cost ten instructions on the data path.
 */
#ifndef WS_PARSE_H
#define WS_PARSE_H

#include "ws_types.h"

#define WS_ETH_P_IP     0x0800
#define WS_ETH_P_ARP    0x0806
#define WS_ETH_P_8021Q  0x8100
#define WS_ETH_P_8021AD 0x88a8
#define WS_ETH_P_IPV6   0x86dd

#define WS_IPPROTO_TCP  6
#define WS_MAX_VLAN     2    /* 802.1Q, or 802.1ad + 802.1Q (QinQ) */
#define WS_MAX_IP6_EXT  6    /* extension headers walked before giving up */

#define WS_TCP_FIN 0x01
#define WS_TCP_SYN 0x02
#define WS_TCP_RST 0x04
#define WS_TCP_PSH 0x08
#define WS_TCP_ACK 0x10
#define WS_TCP_URG 0x20
#define WS_TCP_ECE 0x40
#define WS_TCP_CWR 0x80

enum ws_l3 { WS_L3_OTHER = 0, WS_L3_ARP, WS_L3_IPV4, WS_L3_IPV6 };

/* Why a frame could not be parsed as far as its headers claim. */
enum ws_perr {
	WS_OK = 0,
	WS_ERR_ETH_TRUNC,       /* shorter than an Ethernet header */
	WS_ERR_VLAN_TRUNC,      /* VLAN tag cut short */
	WS_ERR_VLAN_DEPTH,      /* more tags than WS_MAX_VLAN */
	WS_ERR_ARP_TRUNC,       /* ARP shorter than its IPv4-over-Ethernet form */
	WS_ERR_IP_TRUNC,        /* IPv4 header cut short */
	WS_ERR_IP_IHL,          /* IHL < 5 */
	WS_ERR_IP_LEN,          /* total length smaller than the header */
	WS_ERR_IP6_TRUNC,       /* IPv6 header or an extension header cut short */
	WS_ERR_IP6_EXT_DEPTH,   /* more extension headers than WS_MAX_IP6_EXT */
	WS_ERR_TCP_TRUNC,       /* TCP header cut short */
	WS_ERR_TCP_DOFF,        /* data offset < 5 or beyond the IP payload */
	WS_ERR__MAX
};

struct ws_pkt {
	__u16 eth_proto;        /* innermost ethertype, host order */
	__u8  l3;               /* enum ws_l3 */
	__u8  nvlan;
	__u16 vlan_id[WS_MAX_VLAN];
	__u8  l4proto;          /* IPPROTO_* after extension headers */
	__u8  is_tcp;           /* a complete TCP header was parsed */
	__u8  frag;             /* 0 none, 1 first fragment, 2 later fragment */
	__u8  err;              /* enum ws_perr */
	__u16 l3_off;           /* offset of the IPv4/IPv6/ARP header */
	__u16 l4_off;           /* offset of the TCP header */
	__u16 ip_paylen;        /* bytes after the L3 headers per the IP length fields */
	__u8  ttl;              /* IPv4 TTL / IPv6 hop limit */
	__u8  pad0;
	__u32 saddr[4];         /* network order; IPv4 uses [0] only */
	__u32 daddr[4];
	/* TCP, host order */
	__u16 sport, dport;
	__u32 seq, ack;
	__u16 win;
	__u8  tcp_flags;
	__u8  doff;             /* TCP header length in bytes */
	__u16 paylen;           /* TCP payload bytes */
	/* ARP (Ethernet/IPv4 only) */
	__u16 arp_op;
	__u8  sha[6];
	__u8  tha[6];
	__u32 spa, tpa;         /* network order */
};

struct ws_tcpopts {
	__u16 mss;
	__u8  wscale;
	__u8  has_mss;
	__u8  has_wscale;
	__u8  sack_ok;
	__u8  has_ts;
	__u8  nsack;            /* SACK blocks present */
	__u32 tsval, tsecr;
};

/* raw loads of 2 and 4 bytes (kept in network order) */
WS_INLINE __u16 ws_raw16(const __u8 *p)
{
#ifdef __bpf__
	return *(const __u16 *)(const void *)p;   /* clang splits a memcpy into bytes */
#else
	__u16 v;
	__builtin_memcpy(&v, p, 2);
	return v;
#endif
}

WS_INLINE __u32 ws_raw32(const __u8 *p)
{
#ifdef __bpf__
	return *(const __u32 *)(const void *)p;
#else
	__u32 v;
	__builtin_memcpy(&v, p, 4);
	return v;
#endif
}

/* An IPv6 address into 4 words, kept in network order (a memcpy would be 16 byte loads in BPF). */
WS_INLINE void ws_addr6(__u32 *dst, const __u8 *p)
{
	dst[0] = ws_raw32(p);
	dst[1] = ws_raw32(p + 4);
	dst[2] = ws_raw32(p + 8);
	dst[3] = ws_raw32(p + 12);
}

WS_INLINE __u16 ws_be16(const __u8 *p)
{
	return ws_ntohs(ws_raw16(p));
}

WS_INLINE __u32 ws_be32(const __u8 *p)
{
	return ws_ntohl(ws_raw32(p));
}

WS_INLINE int ws_parse_tcp(const __u8 *l4, const __u8 *end, struct ws_pkt *p)
{
	if (l4 + 20 > end)
		return WS_ERR_TCP_TRUNC;
	p->is_tcp = 0;
	p->sport = ws_be16(l4);
	p->dport = ws_be16(l4 + 2);
	p->seq = ws_be32(l4 + 4);
	p->ack = ws_be32(l4 + 8);
	p->doff = (__u8)((l4[12] >> 4) * 4);
	p->tcp_flags = l4[13];
	p->win = ws_be16(l4 + 14);
	if (p->doff < 20 || p->doff > p->ip_paylen)
		return WS_ERR_TCP_DOFF;
	if (l4 + p->doff > end)           /* options cut short */
		return WS_ERR_TCP_TRUNC;
	p->paylen = (__u16)(p->ip_paylen - p->doff);
	p->is_tcp = 1;
	return WS_OK;
}

WS_INLINE int ws_parse_ipv4(const __u8 *data, const __u8 *l3, const __u8 *end,
			    struct ws_pkt *p)
{
	__u16 tot, fragoff;
	__u32 ihl;

	if (l3 + 20 > end)
		return WS_ERR_IP_TRUNC;
	ihl = (__u32)(l3[0] & 0x0f) * 4;
	if ((l3[0] >> 4) != 4 || ihl < 20)
		return WS_ERR_IP_IHL;
	if (l3 + ihl > end)
		return WS_ERR_IP_TRUNC;
	tot = ws_be16(l3 + 2);
	if (tot < ihl)
		return WS_ERR_IP_LEN;
	p->ttl = l3[8];
	p->l4proto = l3[9];
	p->saddr[0] = ws_raw32(l3 + 12);
	p->daddr[0] = ws_raw32(l3 + 16);
	p->ip_paylen = (__u16)(tot - ihl);
	fragoff = ws_be16(l3 + 6);
	if (fragoff & 0x1fff)
		p->frag = 2;
	else if (fragoff & 0x2000)
		p->frag = 1;
	p->l4_off = (__u16)(l3 + ihl - data);
	if (p->frag == 2 || p->l4proto != WS_IPPROTO_TCP)
		return WS_OK;
	return ws_parse_tcp(l3 + ihl, end, p);
}

WS_INLINE int ws_is_ip6_ext(__u8 nh)
{
	/* hop-by-hop, routing, fragment, AH, destination options */
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

WS_INLINE int ws_parse_ipv6(const __u8 *data, const __u8 *l3, const __u8 *end,
			    struct ws_pkt *p)
{
	const __u8 *cur;
	__u32 plen, off = 40;
	__u8 nh;
	int i;

	if (l3 + 40 > end)
		return WS_ERR_IP6_TRUNC;
	plen = ws_be16(l3 + 4);
	nh = l3[6];
	p->ttl = l3[7];
	ws_addr6(p->saddr, l3 + 8);
	ws_addr6(p->daddr, l3 + 24);

	/*
	 * The walk keeps one offset, masked to a fixed range, and one shape per
	 * iteration: every pass then looks alike to the BPF verifier, which
	 * otherwise walks each combination of header kinds separately.
	 */
	for (i = 0; i < WS_MAX_IP6_EXT; i++) {
		__u32 len;

		if (!ws_is_ip6_ext(nh))
			break;
		cur = l3 + (off & 0x7ff);
		if (cur + 8 > end)
			return WS_ERR_IP6_TRUNC;
		if (nh == 44) {
			len = 8;
			if (ws_be16(cur + 2) & 0xfff8)
				p->frag = 2;
			else if (cur[3] & 1)
				p->frag = 1;
		} else if (nh == 51) {
			len = ((__u32)cur[1] + 2) * 4;
		} else {
			len = ((__u32)cur[1] + 1) * 8;
		}
		nh = cur[0];
		off += len;
		/*
		 * Past 0x7ff the masked offset above would alias an earlier
		 * header (and a wrapped one the IPv6 header itself): stop.
		 */
		if (off > 40 + plen || off > 0x7ff)
			return WS_ERR_IP6_TRUNC;
		/* a later fragment's data is the middle of a packet, not headers */
		if (p->frag == 2)
			break;
	}
	if (p->frag != 2 && ws_is_ip6_ext(nh))
		return WS_ERR_IP6_EXT_DEPTH;
	cur = l3 + (off & 0x7ff);
	if (off > 0x7ff || cur > end)
		return WS_ERR_IP6_TRUNC;
	p->l4proto = nh;
	p->ip_paylen = (__u16)(plen - (off - 40));
	p->l4_off = (__u16)(cur - data);
	if (p->frag == 2 || nh != WS_IPPROTO_TCP)
		return WS_OK;
	return ws_parse_tcp(cur, end, p);
}

WS_INLINE int ws_parse_arp(const __u8 *l3, const __u8 *end, struct ws_pkt *p)
{
	/* htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4: 28 bytes */
	if (l3 + 28 > end)
		return WS_ERR_ARP_TRUNC;
	if (ws_be16(l3) != 1 || ws_be16(l3 + 2) != WS_ETH_P_IP || l3[4] != 6 || l3[5] != 4)
		return WS_OK;  /* some other ARP flavour: recognised, not decoded */
	p->arp_op = ws_be16(l3 + 6);
	__builtin_memcpy(p->sha, l3 + 8, 6);
	p->spa = ws_raw32(l3 + 14);
	__builtin_memcpy(p->tha, l3 + 18, 6);
	p->tpa = ws_raw32(l3 + 24);
	return WS_OK;
}

/*
 * Parse one Ethernet frame [data, end).  Returns enum ws_perr and fills *p
 * as far as it got; p->l3 says which network protocol was found.
 */
WS_INLINE int ws_parse(const void *vdata, const void *vend, struct ws_pkt *p)
{
	const __u8 *data = (const __u8 *)vdata;
	const __u8 *end = (const __u8 *)vend;
	const __u8 *cur = data;
	__u16 proto;
	int i;

	__builtin_memset(p, 0, sizeof(*p));
	if (cur + 14 > end)
		return p->err = WS_ERR_ETH_TRUNC;
	proto = ws_be16(cur + 12);
	cur += 14;

	for (i = 0; i < WS_MAX_VLAN; i++) {
		if (proto != WS_ETH_P_8021Q && proto != WS_ETH_P_8021AD)
			break;
		if (cur + 4 > end)
			return p->err = WS_ERR_VLAN_TRUNC;
		p->vlan_id[i] = ws_be16(cur) & 0x0fff;
		p->nvlan = (__u8)(i + 1);
		proto = ws_be16(cur + 2);
		cur += 4;
	}
	if (proto == WS_ETH_P_8021Q || proto == WS_ETH_P_8021AD)
		return p->err = WS_ERR_VLAN_DEPTH;

	p->eth_proto = proto;
	p->l3_off = (__u16)(cur - data);
	switch (proto) {
	case WS_ETH_P_ARP:
		p->l3 = WS_L3_ARP;
		return p->err = (__u8)ws_parse_arp(cur, end, p);
	case WS_ETH_P_IP:
		p->l3 = WS_L3_IPV4;
		return p->err = (__u8)ws_parse_ipv4(data, cur, end, p);
	case WS_ETH_P_IPV6:
		p->l3 = WS_L3_IPV6;
		return p->err = (__u8)ws_parse_ipv6(data, cur, end, p);
	default:
		return WS_OK;
	}
}

/*
 * The data path's shortcut.  Most frames are untagged IPv4 (no IP options, not
 * a fragment) or IPv6 (no extension header) carrying a complete TCP header;
 * for exactly those ws_parse_quick() returns 1 and fills the few fields the
 * data path needs, with a single bounds check.  Anything else returns 0 and
 * goes through ws_parse(), which also names every malformation.  Whenever it
 * returns 1, its fields equal ws_parse()'s for the same frame: test_parse and
 * the fuzz target check that.
 */
struct ws_quick {
	__u32 saddr[4];         /* network order; IPv4 uses [0] only, the rest is 0 */
	__u32 daddr[4];
	__u32 seq;
	__u16 sport, dport;     /* host order */
	__u16 paylen;
	__u8  tcp_flags;
	__u8  family;           /* 4 or 6 */
};

WS_INLINE int ws_parse_quick(const void *vdata, const void *vend, struct ws_quick *q)
{
	const __u8 *d = (const __u8 *)vdata;
	const __u8 *end = (const __u8 *)vend;
	const __u8 *l4;
	__u32 iplen, doff;

	if (d + 54 > end)                       /* Ethernet + IPv4 + TCP */
		return 0;
	if (ws_raw16(d + 12) == ws_htons(WS_ETH_P_IP)) {
		if (d[14] != 0x45 || d[23] != WS_IPPROTO_TCP ||
		    (ws_raw16(d + 20) & ws_htons(0x3fff)))
			return 0;       /* IP options, not TCP, or a fragment */
		iplen = ws_be16(d + 16);
		if (iplen < 20)
			return 0;
		iplen -= 20;
		l4 = d + 34;
		q->saddr[0] = ws_raw32(d + 26);
		q->daddr[0] = ws_raw32(d + 30);
		q->saddr[1] = q->saddr[2] = q->saddr[3] = 0;
		q->daddr[1] = q->daddr[2] = q->daddr[3] = 0;
		q->family = 4;
	} else if (ws_raw16(d + 12) == ws_htons(WS_ETH_P_IPV6)) {
		if (d + 74 > end)               /* Ethernet + IPv6 + TCP */
			return 0;
		if ((d[14] >> 4) != 6 || d[20] != WS_IPPROTO_TCP)
			return 0;       /* an extension header comes first, or not TCP */
		iplen = ws_be16(d + 18);
		l4 = d + 54;
		ws_addr6(q->saddr, d + 22);
		ws_addr6(q->daddr, d + 38);
		q->family = 6;
	} else {
		return 0;
	}
	doff = (__u32)(l4[12] >> 4) * 4;
	if (doff < 20 || doff > iplen || l4 + doff > end)
		return 0;
	q->sport = ws_be16(l4);
	q->dport = ws_be16(l4 + 2);
	q->seq = ws_be32(l4 + 4);
	q->tcp_flags = l4[13];
	q->paylen = (__u16)(iplen - doff);
	return 1;
}

/*
 * TCP options, walked only for the packets that become events (a SYN, FIN
 * or RST), never on the data path.  At most 40 option bytes exist.
 */
WS_INLINE void ws_parse_tcpopts(const void *vdata, const void *vend,
				const struct ws_pkt *p, struct ws_tcpopts *o)
{
	const __u8 *data = (const __u8 *)vdata;
	const __u8 *end = (const __u8 *)vend;
	__u32 off = 20, optend = p->doff;
	int i;

	__builtin_memset(o, 0, sizeof(*o));
	if (!p->is_tcp || optend > 60 || p->l4_off > 1500)
		return;
	for (i = 0; i < 40; i++) {
		const __u8 *opt;
		__u8 kind, len;

		if (off >= optend || off > 60)
			break;
		/* masks keep the offset provably small for the verifier */
		opt = data + (((__u32)p->l4_off + off) & 0x7ff);
		if (opt + 1 > end)
			break;
		kind = opt[0];
		if (kind == 0)              /* end of option list */
			break;
		if (kind == 1) {            /* NOP */
			off++;
			continue;
		}
		if (opt + 2 > end)
			break;
		len = opt[1];
		if (len < 2 || off + len > optend)
			break;
		if (kind == 2 && len == 4 && opt + 4 <= end) {
			o->mss = ws_be16(opt + 2);
			o->has_mss = 1;
		} else if (kind == 3 && len == 3 && opt + 3 <= end) {
			o->wscale = opt[2];
			o->has_wscale = 1;
		} else if (kind == 4 && len == 2) {
			o->sack_ok = 1;
		} else if (kind == 5) {
			o->nsack = (__u8)((len - 2) / 8);
		} else if (kind == 8 && len == 10 && opt + 10 <= end) {
			o->tsval = ws_be32(opt + 2);
			o->tsecr = ws_be32(opt + 6);
			o->has_ts = 1;
		}
		off += len;
	}
}

#endif /* WS_PARSE_H */
