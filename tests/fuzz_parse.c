// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the shared header parser (include/ws_parse.h) and the
 * TCP state machine (include/ws_fsm.h), compiled natively.  `make fuzz` builds
 * it with ASan + UBSan (build/fuzz_parse) and runs it on tests/corpus/;
 * build/tests/test_fuzzdiff runs it for a bounded time as part of the suite.
 *
 * One input is one Ethernet frame.  It is copied into a heap buffer of
 * exactly its size, so ASan reports any read past the frame, and then:
 *
 *  1. ws_parse() is checked against ref_parse() below, a plain reference
 *     parser (size_t offsets, no masks, no verifier tricks) written from the
 *     parser's documented contract.  Every field of struct ws_pkt must agree,
 *     including what an error leaves filled in.  Structural invariants are
 *     checked too (offsets inside the frame, IPv6 TCP header after the fixed
 *     header, no TCP header decoded from a non-first fragment...).
 *  2. ws_parse_quick(), the data path's shortcut, must agree with ws_parse()
 *     on every frame it accepts (and accept only untagged, unfragmented
 *     IPv4 without options or IPv6 without extension headers, carrying TCP).
 *     ws_parse_tcpopts() runs on every TCP frame (sanitizers, invariants).
 *  3. A TCP segment is stepped through ws_fsm_step() the way ws_track() in
 *     bpf/wirestate.bpf.c does it for a new flow (SYN, SYN-ACK pickup,
 *     mid-stream pickup), then against flows in a dozen scripted states as
 *     either role, then the frame's TCP payload is read as a script of more
 *     segments (12-byte records, see run_script()) stepped through one flow.
 *     After every step: ntr <= WS_MAX_TR, states < WS_ST__MAX, every state
 *     change is reported by a transition (none lost to a full o->tr), the
 *     transitions of a role chain from its old state to its new one, and the
 *     flow's boolean fields stay 0/1 (fin_acked implies fin_sent).
 *
 * A broken invariant prints what it saw and calls abort(), which libFuzzer
 * reports as a crash and saves as an artifact.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_parse.h"
#include "ws_fsm.h"

/* ------------------------------------------------------------ reporting */

static const uint8_t *g_in;
static size_t g_len;

static void dump_input(void)
{
	size_t i;

	fprintf(stderr, "input (%zu bytes):", g_len);
	for (i = 0; i < g_len && i < 256; i++)
		fprintf(stderr, "%s%02x", (i % 32) ? " " : "\n  ", g_in[i]);
	fprintf(stderr, "%s\n", g_len > 256 ? " ..." : "");
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_parse: invariant broken: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	dump_input();
	abort();
}

#define CHECK(cond, ...) do { if (!(cond)) die(__VA_ARGS__); } while (0)

/* ------------------------------------------------------ reference parser */

static uint16_t rd16(const uint8_t *b, size_t off)
{
	return (uint16_t)(b[off] << 8 | b[off + 1]);
}

static uint32_t rd32(const uint8_t *b, size_t off)
{
	return (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 | (uint32_t)b[off + 2] << 8 |
	       b[off + 3];
}

static int ref_tcp(const uint8_t *b, size_t len, size_t l4, struct ws_pkt *p)
{
	if (l4 + 20 > len)
		return WS_ERR_TCP_TRUNC;
	p->is_tcp = 0;
	p->sport = rd16(b, l4);
	p->dport = rd16(b, l4 + 2);
	p->seq = rd32(b, l4 + 4);
	p->ack = rd32(b, l4 + 8);
	p->doff = (uint8_t)((b[l4 + 12] >> 4) * 4);
	p->tcp_flags = b[l4 + 13];
	p->win = rd16(b, l4 + 14);
	if (p->doff < 20 || p->doff > p->ip_paylen)
		return WS_ERR_TCP_DOFF;
	if (l4 + p->doff > len)
		return WS_ERR_TCP_TRUNC;
	p->paylen = (uint16_t)(p->ip_paylen - p->doff);
	p->is_tcp = 1;
	return WS_OK;
}

static int ref_ipv4(const uint8_t *b, size_t len, size_t l3, struct ws_pkt *p)
{
	size_t ihl;
	uint16_t tot, fo;

	if (l3 + 20 > len)
		return WS_ERR_IP_TRUNC;
	ihl = (size_t)(b[l3] & 0x0f) * 4;
	if ((b[l3] >> 4) != 4 || ihl < 20)
		return WS_ERR_IP_IHL;
	if (l3 + ihl > len)
		return WS_ERR_IP_TRUNC;
	tot = rd16(b, l3 + 2);
	if (tot < ihl)
		return WS_ERR_IP_LEN;
	p->ttl = b[l3 + 8];
	p->l4proto = b[l3 + 9];
	memcpy(&p->saddr[0], b + l3 + 12, 4);
	memcpy(&p->daddr[0], b + l3 + 16, 4);
	p->ip_paylen = (uint16_t)(tot - ihl);
	fo = rd16(b, l3 + 6);
	if (fo & 0x1fff)
		p->frag = 2;            /* a later fragment: no L4 header in it */
	else if (fo & 0x2000)
		p->frag = 1;
	p->l4_off = (uint16_t)(l3 + ihl);
	if (p->frag == 2 || p->l4proto != WS_IPPROTO_TCP)
		return WS_OK;
	return ref_tcp(b, len, l3 + ihl, p);
}

static int ref_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

/*
 * The IPv6 contract: walk at most WS_MAX_IP6_EXT extension headers; each
 * must lie inside the frame and inside the payload length; a chain reaching
 * past 2047 bytes of the IPv6 header is reported cut short (the parser's
 * fixed bound); after a fragment header of a later fragment the rest is
 * fragment data, not headers, and is not walked.
 */
static int ref_ipv6(const uint8_t *b, size_t len, size_t l3, struct ws_pkt *p)
{
	size_t off = 40, plen;
	uint8_t nh;
	int i;

	if (l3 + 40 > len)
		return WS_ERR_IP6_TRUNC;
	plen = rd16(b, l3 + 4);
	nh = b[l3 + 6];
	p->ttl = b[l3 + 7];
	memcpy(p->saddr, b + l3 + 8, 16);
	memcpy(p->daddr, b + l3 + 24, 16);
	for (i = 0; i < WS_MAX_IP6_EXT && ref_is_ext(nh); i++) {
		size_t h = l3 + off, hl;

		if (h + 8 > len)
			return WS_ERR_IP6_TRUNC;
		if (nh == 44) {
			hl = 8;
			if (rd16(b, h + 2) & 0xfff8)
				p->frag = 2;
			else if (b[h + 3] & 1)
				p->frag = 1;
		} else if (nh == 51) {
			hl = ((size_t)b[h + 1] + 2) * 4;
		} else {
			hl = ((size_t)b[h + 1] + 1) * 8;
		}
		nh = b[h];
		off += hl;
		if (off > 40 + plen || off > 0x7ff)
			return WS_ERR_IP6_TRUNC;
		if (p->frag == 2)
			break;
	}
	if (p->frag != 2 && ref_is_ext(nh))
		return WS_ERR_IP6_EXT_DEPTH;
	if (l3 + off > len)
		return WS_ERR_IP6_TRUNC;
	p->l4proto = nh;
	p->ip_paylen = (uint16_t)(plen - (off - 40));
	p->l4_off = (uint16_t)(l3 + off);
	if (p->frag == 2 || nh != WS_IPPROTO_TCP)
		return WS_OK;
	return ref_tcp(b, len, l3 + off, p);
}

static int ref_arp(const uint8_t *b, size_t len, size_t l3, struct ws_pkt *p)
{
	if (l3 + 28 > len)
		return WS_ERR_ARP_TRUNC;
	if (rd16(b, l3) != 1 || rd16(b, l3 + 2) != WS_ETH_P_IP || b[l3 + 4] != 6 || b[l3 + 5] != 4)
		return WS_OK;
	p->arp_op = rd16(b, l3 + 6);
	memcpy(p->sha, b + l3 + 8, 6);
	memcpy(&p->spa, b + l3 + 14, 4);
	memcpy(p->tha, b + l3 + 18, 6);
	memcpy(&p->tpa, b + l3 + 24, 4);
	return WS_OK;
}

static int ref_parse(const uint8_t *b, size_t len, struct ws_pkt *p)
{
	size_t off = 14;
	uint16_t proto;
	int i, err;

	memset(p, 0, sizeof(*p));
	if (len < 14)
		return p->err = WS_ERR_ETH_TRUNC;
	proto = rd16(b, 12);
	for (i = 0; i < WS_MAX_VLAN && (proto == WS_ETH_P_8021Q || proto == WS_ETH_P_8021AD); i++) {
		if (off + 4 > len)
			return p->err = WS_ERR_VLAN_TRUNC;
		p->vlan_id[i] = rd16(b, off) & 0x0fff;
		p->nvlan = (uint8_t)(i + 1);
		proto = rd16(b, off + 2);
		off += 4;
	}
	if (proto == WS_ETH_P_8021Q || proto == WS_ETH_P_8021AD)
		return p->err = WS_ERR_VLAN_DEPTH;
	p->eth_proto = proto;
	p->l3_off = (uint16_t)off;
	switch (proto) {
	case WS_ETH_P_ARP:
		p->l3 = WS_L3_ARP;
		err = ref_arp(b, len, off, p);
		break;
	case WS_ETH_P_IP:
		p->l3 = WS_L3_IPV4;
		err = ref_ipv4(b, len, off, p);
		break;
	case WS_ETH_P_IPV6:
		p->l3 = WS_L3_IPV6;
		err = ref_ipv6(b, len, off, p);
		break;
	default:
		err = WS_OK;
	}
	return p->err = (uint8_t)err;
}

static void pkt_diff(const struct ws_pkt *a, const struct ws_pkt *r)
{
#define F(f) if (a->f != r->f) fprintf(stderr, "  %-10s ws_parse %lu  reference %lu\n", #f, \
					(unsigned long)a->f, (unsigned long)r->f)
	F(err); F(eth_proto); F(l3); F(nvlan); F(vlan_id[0]); F(vlan_id[1]); F(l4proto);
	F(is_tcp); F(frag); F(l3_off); F(l4_off); F(ip_paylen); F(ttl); F(sport); F(dport);
	F(seq); F(ack); F(win); F(tcp_flags); F(doff); F(paylen); F(arp_op); F(spa); F(tpa);
#undef F
	if (memcmp(a->saddr, r->saddr, 16) || memcmp(a->daddr, r->daddr, 16))
		fprintf(stderr, "  saddr/daddr differ\n");
	if (memcmp(a->sha, r->sha, 6) || memcmp(a->tha, r->tha, 6))
		fprintf(stderr, "  sha/tha differ\n");
}

/* ----------------------------------------------------------- parser checks */

static void check_parse(const uint8_t *buf, size_t len, const struct ws_pkt *p, int rc)
{
	struct ws_pkt r;

	CHECK(rc == p->err, "ws_parse returned %d but p->err is %u", rc, p->err);
	CHECK(p->err < WS_ERR__MAX, "err %u out of range", p->err);
	CHECK(p->nvlan <= WS_MAX_VLAN, "nvlan %u", p->nvlan);
	CHECK(p->l3 <= WS_L3_IPV6, "l3 %u", p->l3);
	CHECK(p->frag <= 2, "frag %u", p->frag);
	if (p->err == WS_OK)
		CHECK(p->l3_off >= 14 && p->l3_off <= len, "l3_off %u, frame %zu bytes", p->l3_off, len);
	if (p->is_tcp) {
		size_t min_l4 = p->l3_off + (p->l3 == WS_L3_IPV6 ? 40u : 20u);

		CHECK(p->err == WS_OK, "is_tcp with err %u", p->err);
		CHECK(p->l3 == WS_L3_IPV4 || p->l3 == WS_L3_IPV6, "is_tcp with l3 %u", p->l3);
		CHECK(p->l4proto == WS_IPPROTO_TCP, "is_tcp with l4proto %u", p->l4proto);
		CHECK(p->frag != 2, "TCP header decoded from a later fragment");
		CHECK(p->l4_off >= min_l4,
		      "TCP header at %u, inside the %s header that starts at %u",
		      p->l4_off, p->l3 == WS_L3_IPV6 ? "IPv6" : "IPv4", p->l3_off);
		CHECK(p->doff >= 20 && p->doff <= 60, "doff %u", p->doff);
		CHECK((size_t)p->l4_off + p->doff <= len, "TCP header [%u, +%u) past the %zu-byte frame",
		      p->l4_off, p->doff, len);
		CHECK((uint32_t)p->doff + p->paylen == p->ip_paylen, "doff %u + paylen %u != ip_paylen %u",
		      p->doff, p->paylen, p->ip_paylen);
	}
	if (p->err == WS_OK && p->l3 == WS_L3_IPV6 && p->l4_off)
		CHECK(p->l4_off >= p->l3_off + 40u, "IPv6 upper layer at %u, IPv6 header at %u",
		      p->l4_off, p->l3_off);

	ref_parse(buf, len, &r);
	if (memcmp(p, &r, sizeof(r)) != 0) {
		fprintf(stderr, "fuzz_parse: ws_parse and the reference parser disagree:\n");
		pkt_diff(p, &r);
		die("ws_parse != reference parser (err %u vs %u)", p->err, r.err);
	}
}

static void check_quick(const uint8_t *buf, size_t len, const struct ws_pkt *p)
{
	struct ws_quick q;
	uint32_t zero[4] = { 0 };

	memset(&q, 0xa5, sizeof(q));
	if (!ws_parse_quick(buf, buf + len, &q))
		return;
	CHECK(p->err == WS_OK && p->is_tcp && p->nvlan == 0 && p->frag == 0,
	      "ws_parse_quick accepted a frame ws_parse reads as err %u is_tcp %u nvlan %u frag %u",
	      p->err, p->is_tcp, p->nvlan, p->frag);
	CHECK(q.family == (p->l3 == WS_L3_IPV6 ? 6 : 4), "quick family %u, l3 %u", q.family, p->l3);
	CHECK(p->l4_off == (p->l3 == WS_L3_IPV6 ? 54 : 34), "quick took a frame with TCP at %u",
	      p->l4_off);
	CHECK(!memcmp(q.saddr, p->saddr, 16) && !memcmp(q.daddr, p->daddr, 16),
	      "quick addresses differ from ws_parse's");
	CHECK(q.family == 6 || (!memcmp(q.saddr + 1, zero, 12) && !memcmp(q.daddr + 1, zero, 12)),
	      "quick IPv4 address words 1-3 not zero");
	CHECK(q.sport == p->sport && q.dport == p->dport && q.seq == p->seq &&
	      q.tcp_flags == p->tcp_flags && q.paylen == p->paylen,
	      "quick ports %u/%u seq %u flags %#x paylen %u, ws_parse %u/%u %u %#x %u",
	      q.sport, q.dport, q.seq, q.tcp_flags, q.paylen, p->sport, p->dport, p->seq,
	      p->tcp_flags, p->paylen);
}

static void check_tcpopts(const uint8_t *buf, size_t len, const struct ws_pkt *p)
{
	struct ws_tcpopts o;

	ws_parse_tcpopts(buf, buf + len, p, &o);
	CHECK(o.has_mss <= 1 && o.has_wscale <= 1 && o.sack_ok <= 1 && o.has_ts <= 1,
	      "option flags not 0/1");
	CHECK(o.nsack <= 4, "nsack %u (at most 4 blocks fit in 40 option bytes)", o.nsack);
	CHECK(o.has_mss || o.mss == 0, "mss without has_mss");
	CHECK(o.has_wscale || o.wscale == 0, "wscale without has_wscale");
	CHECK(o.has_ts || (o.tsval == 0 && o.tsecr == 0), "timestamps without has_ts");
	if (!p->is_tcp || p->doff <= 20)
		CHECK(!o.has_mss && !o.has_wscale && !o.sack_ok && !o.has_ts && !o.nsack,
		      "options decoded from a segment without options");
}

/* -------------------------------------------------------------- FSM checks */

static const char *const st_names[] = {
	"NONE", "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
	"FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

static const char *sn(unsigned int st)
{
	return st < WS_ST__MAX ? st_names[st] : "?";
}

struct seg {
	uint8_t role, flags;
	uint32_t seq, ack;
	uint16_t paylen;
};

static void check_flow(const struct ws_flow *f)
{
	int r;

	CHECK(f->cli <= 1, "cli %u", f->cli);
	for (r = 0; r < 2; r++) {
		CHECK(f->st[r] < WS_ST__MAX, "role %d state %u >= WS_ST__MAX", r, f->st[r]);
		CHECK(f->fin_sent[r] <= 1 && f->fin_acked[r] <= 1 && f->syn_acked[r] <= 1,
		      "role %d: fin_sent %u fin_acked %u syn_acked %u", r, f->fin_sent[r],
		      f->fin_acked[r], f->syn_acked[r]);
		CHECK(!f->fin_acked[r] || f->fin_sent[r], "role %d: FIN acked but never sent", r);
	}
}

/*
 * The step's transitions must account for every state change: for each
 * role they chain from the state before the step to the state after it.
 * The one change the FSM makes without a transition is LISTEN -> CLOSED of
 * a server that turns out never to have listened (refused, simultaneous
 * open); a transition may start from CLOSED there.
 */
static void check_out(const struct seg *s, const uint8_t before[2], const struct ws_flow *f,
		      const struct ws_fsm_out *o)
{
	uint8_t cur[2] = { before[0], before[1] };
	unsigned int i;

	CHECK(o->ntr <= WS_MAX_TR, "ntr %u > WS_MAX_TR", o->ntr);
	if (o->ntr < WS_MAX_TR)
		CHECK((o->tr >> (o->ntr * 16)) == 0, "bits set beyond %u transitions", o->ntr);
	CHECK(!o->ntr || o->emit, "%u transitions but no event", o->ntr);
	CHECK(!(o->note & WS_NOTE_BAD_ACK) || o->emit, "BAD_ACK note but no event");
	for (i = 0; i < o->ntr; i++) {
		__u8 role, old_st, new_st;

		ws_tr_unpack(o->tr, i, &role, &old_st, &new_st);
		CHECK(old_st < WS_ST__MAX && new_st < WS_ST__MAX && old_st != new_st,
		      "transition %u: %u>%u", i, old_st, new_st);
		CHECK(old_st == cur[role] || (cur[role] == WS_ST_LISTEN && old_st == WS_ST_CLOSED),
		      "segment role %u flags 0x%02x seq %u ack %u len %u: transition %u of role %u "
		      "starts at %s, the role was in %s", s->role, s->flags, s->seq, s->ack,
		      s->paylen, i, role, sn(old_st), sn(cur[role]));
		cur[role] = new_st;
	}
	for (i = 0; i < 2; i++)
		CHECK(cur[i] == f->st[i] || (cur[i] == WS_ST_LISTEN && f->st[i] == WS_ST_CLOSED),
		      "segment role %u flags 0x%02x seq %u ack %u len %u: role %u went %s -> %s but "
		      "the %u reported transitions end at %s (a transition was lost)", s->role,
		      s->flags, s->seq, s->ack, s->paylen, i, sn(before[i]), sn(f->st[i]), o->ntr,
		      sn(cur[i]));
	check_flow(f);
}

/* One checked step; the o passed in may already hold transitions (pickup). */
static void step_out(struct ws_flow *f, const struct seg *s, struct ws_fsm_out *o,
		     const uint8_t before[2])
{
	ws_fsm_step(f, s->role, s->flags, s->seq, s->ack, s->paylen, o);
	check_out(s, before, f, o);
	(void)ws_flow_pending(f);
	(void)ws_flow_finished(f);
}

static void step(struct ws_flow *f, const struct seg *s)
{
	struct ws_fsm_out o;
	uint8_t before[2] = { f->st[0], f->st[1] };

	memset(&o, 0, sizeof(o));
	step_out(f, s, &o, before);
}

/*
 * What ws_track() does with the first segment of a flow it does not know:
 * a RST is reported and forgotten; a SYN opens a flow; a SYN-ACK is picked
 * up with the client in SYN_SENT; anything else is picked up mid-stream.
 * Returns 0 when no flow is kept.
 */
static int track_first(struct ws_flow *f, const struct seg *in, struct seg *s)
{
	struct ws_fsm_out o;
	uint8_t before[2];

	*s = *in;
	memset(&o, 0, sizeof(o));
	if (s->flags & WS_TCP_RST)
		return 0;
	if ((s->flags & (WS_TCP_SYN | WS_TCP_ACK)) == WS_TCP_SYN) {
		ws_flow_init(f, 0);
		s->role = WS_CLIENT;
	} else if (s->flags & WS_TCP_SYN) {
		ws_flow_init(f, 1);
		f->st[WS_CLIENT] = WS_ST_SYN_SENT;
		f->isn[WS_CLIENT] = s->ack - 1;
		f->fflags = WS_FF_MIDSTREAM;
		s->role = WS_SERVER;
	} else {
		uint8_t none[2] = { WS_ST_NONE, WS_ST_NONE };

		/*
		 * NONE -> ESTABLISHED for both, then the segment itself: all
		 * of it is one event, so its transitions share one o->tr.
		 */
		ws_flow_init_midstream(f, 0, &o);
		step_out(f, s, &o, none);
		return 1;
	}
	before[0] = f->st[0];
	before[1] = f->st[1];
	step_out(f, s, &o, before);
	return 1;
}

#define CISN 1000u
#define SISN 5000u

/* Flows in the states a connection passes through, built by normal segments. */
static void scripted_flow(struct ws_flow *f, int which)
{
	static const struct seg open[] = {
		{ WS_CLIENT, WS_TCP_SYN, CISN, 0, 0 },
		{ WS_SERVER, WS_TCP_SYN | WS_TCP_ACK, SISN, CISN + 1, 0 },
		{ WS_CLIENT, WS_TCP_ACK, CISN + 1, SISN + 1, 0 },
	};
	static const struct seg cfin = { WS_CLIENT, WS_TCP_FIN | WS_TCP_ACK, CISN + 1, SISN + 1, 0 };
	static const struct seg sfin = { WS_SERVER, WS_TCP_FIN | WS_TCP_ACK, SISN + 1, CISN + 1, 0 };
	static const struct seg sack = { WS_SERVER, WS_TCP_ACK, SISN + 1, CISN + 2, 0 };
	static const struct seg sfin2 = { WS_SERVER, WS_TCP_FIN | WS_TCP_ACK, SISN + 1, CISN + 2, 0 };
	static const struct seg cack2 = { WS_CLIENT, WS_TCP_ACK, CISN + 2, SISN + 2, 0 };
	static const struct seg ssyn = { WS_SERVER, WS_TCP_SYN, SISN, 0, 0 };
	int i, n = which < 3 ? which : 3;

	ws_flow_init(f, 0);
	if (which == 9) {                  /* simultaneous open: both SYN_SENT */
		step(f, &open[0]);
		step(f, &ssyn);
		return;
	}
	for (i = 0; i < n; i++)
		step(f, &open[i]);
	switch (which) {
	case 4: step(f, &cfin); break;                                   /* FIN_WAIT_1 */
	case 5: step(f, &sfin); break;                                   /* server FIN */
	case 6: step(f, &cfin); step(f, &sfin); break;                   /* simultaneous close */
	case 7: step(f, &cfin); step(f, &sack); break;                   /* FIN_WAIT_2 */
	case 8: step(f, &cfin); step(f, &sack); step(f, &sfin2); break;  /* LAST_ACK */
	case 10: step(f, &cfin); step(f, &sack); step(f, &sfin2); step(f, &cack2); break;
	default: break;
	}
}

/*
 * The TCP payload as a script: 12-byte records
 *   [0] bit 0 role, bits 1-2 seq mode, bits 3-4 ack mode
 *   [1] TCP flags   [2..3] payload length   [4..7] seq   [8..11] ack (big endian)
 * seq mode: 0 absolute, 1 isn[x] + 1 + v, 2 fin_seq[x] + v, 3 isn[x] + v
 * ack mode: 0 absolute, 1 isn[y] + 1 + v, 2 fin_seq[y] + 1 + v, 3 isn[y] + 1 + syn_len[y] + v
 * (x the sender, y the peer), so the fuzzer reaches exact acks easily.  A SYN
 * without ACK on a finished flow starts it afresh, as ws_track() does.
 */
static void run_script(struct ws_flow *f, const uint8_t *sc, size_t n)
{
	size_t i;

	for (i = 0; i + 12 <= n && i < 64 * 12; i += 12) {
		struct seg s;
		uint32_t vs = rd32(sc, i + 4), va = rd32(sc, i + 8);
		uint8_t x = sc[i] & 1, y = x ^ 1;

		s.role = x;
		s.flags = sc[i + 1];
		s.paylen = rd16(sc, i + 2);
		switch ((sc[i] >> 1) & 3) {
		case 0: s.seq = vs; break;
		case 1: s.seq = f->isn[x] + 1 + vs; break;
		case 2: s.seq = f->fin_seq[x] + vs; break;
		default: s.seq = f->isn[x] + vs; break;
		}
		switch ((sc[i] >> 3) & 3) {
		case 0: s.ack = va; break;
		case 1: s.ack = f->isn[y] + 1 + va; break;
		case 2: s.ack = f->fin_seq[y] + 1 + va; break;
		default: s.ack = f->isn[y] + 1 + f->syn_len[y] + va; break;
		}
		if ((s.flags & (WS_TCP_SYN | WS_TCP_ACK)) == WS_TCP_SYN && ws_flow_finished(f)) {
			ws_flow_init(f, f->cli);
			s.role = WS_CLIENT;
		}
		step(f, &s);
	}
}

static void fuzz_fsm(const uint8_t *buf, size_t len, const struct ws_pkt *p)
{
	struct ws_flow f;
	struct seg in, s;
	int which, role;

	in.role = p->sport > p->dport ? WS_CLIENT : WS_SERVER;
	in.flags = p->tcp_flags;
	in.seq = p->seq;
	in.ack = p->ack;
	in.paylen = p->paylen;

	/* as the first segment of a flow */
	if (track_first(&f, &in, &s)) {
		size_t pay = (size_t)p->l4_off + p->doff;

		/* then the payload's script on that flow */
		if (pay < len)
			run_script(&f, buf + pay, len - pay);
	}

	/* against a flow in each scripted state, from either side */
	for (which = 0; which <= 10; which++) {
		for (role = 0; role < 2; role++) {
			scripted_flow(&f, which);
			s = in;
			s.role = (uint8_t)role;
			step(&f, &s);
			s.flags ^= WS_TCP_ACK;       /* and with the ACK bit flipped */
			scripted_flow(&f, which);
			step(&f, &s);
		}
	}
}

/* ------------------------------------------------------------------ entry */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_pkt p;
	uint8_t *buf;
	int rc;

	if (size > 65535)
		return 0;
	/* exactly sized (malloc(0) may return NULL: give it one byte, use none) */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	g_in = buf;
	g_len = size;

	rc = ws_parse(buf, buf + size, &p);
	check_parse(buf, size, &p, rc);
	check_quick(buf, size, &p);
	if (p.is_tcp) {
		check_tcpopts(buf, size, &p);
		fuzz_fsm(buf, size, &p);
	} else {
		/* options of a non-TCP parse must come out empty, never read */
		check_tcpopts(buf, size, &p);
	}
	free(buf);
	return 0;
}
