// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --explain: under each event, the frame snapshot the kernel sent
 * (e->frame[0, cap_len)) as a hex dump, then every header field in wire
 * order with its offset, raw bytes and meaning: Ethernet, VLAN tags, ARP,
 * IPv4 (+ options), IPv6 (+ extension headers), TCP (+ options), payload.
 * Checksums are verified where the snapshot holds what they cover.
 *
 * Nothing is read past cap_len: a field the snapshot ends before, or inside,
 * is reported as such and the walk stops there.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "ws_views.h"

struct xw {
	FILE *out;
	bool json, color;
	const uint8_t *fr;
	uint32_t cap, wire;
	const struct ws_explain_ctx *cx;
	const char *layer;
	int nrec;                  /* JSON records written */
};

/* ------------------------------------------------------------- checksums */

uint32_t ws_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t ws_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* ------------------------------------------------------------- output */


static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* "02 42 ac 11 00 03", at most 8 bytes, "..." after 7 when longer */
static void raw_text(const uint8_t *p, uint32_t len, char *buf, size_t blen)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < len && n + 4 < blen; i++) {
		if (i == 7 && len > 8) {
			snprintf(buf + n, blen - n, "...");
			return;
		}
		n += (size_t)snprintf(buf + n, blen - n, "%s%02x", i ? " " : "", p[i]);
	}
}

/* "0100 ...." for the bits of mask in 1 or 2 bytes */
static void bits_text(const uint8_t *p, uint32_t len, uint32_t mask, char *buf, size_t blen)
{
	uint32_t v = len == 1 ? p[0] : be16(p), nbits = len * 8;
	size_t n = 0;

	for (uint32_t i = 0; i < nbits && n + 2 < blen; i++) {
		uint32_t bit = 1u << (nbits - 1 - i);

		if (i && i % 4 == 0)
			buf[n++] = ' ';
		buf[n++] = (mask & bit) ? ((v & bit) ? '1' : '0') : '.';
	}
	buf[n] = '\0';
}

static void rec(struct xw *w, uint32_t off, uint32_t len, const char *bits, const char *name,
		const char *meaning)
{
	if (w->json) {
		fprintf(w->out, "%s{\"layer\":", w->nrec++ ? "," : "");
		ws_json_str(w->out, w->layer);
		fputs(",\"field\":", w->out);
		ws_json_str(w->out, name);
		fprintf(w->out, ",\"offset\":%u,\"length\":%u,\"raw\":\"", off, len);
		for (uint32_t i = 0; i < len; i++)
			fprintf(w->out, "%02x", w->fr[off + i]);
		fputc('"', w->out);
		if (bits) {
			fputs(",\"bits\":", w->out);
			ws_json_str(w->out, bits);
		}
		fputs(",\"value\":", w->out);
		ws_json_str(w->out, meaning);
		fputc('}', w->out);
		return;
	}
	char raw[32];

	if (bits)
		snprintf(raw, sizeof(raw), "%s", bits);
	else
		raw_text(w->fr + off, len, raw, sizeof(raw));
	fprintf(w->out, "      %04x  %-23s  %-22s %s\n", off, raw, name, meaning);
}

static __attribute__((format(printf, 5, 6)))
void fld(struct xw *w, uint32_t off, uint32_t len, const char *name, const char *fmt, ...)
{
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	rec(w, off, len, NULL, name, m);
}

static __attribute__((format(printf, 6, 7)))
void bitfld(struct xw *w, uint32_t off, uint32_t len, uint32_t mask, const char *name,
	    const char *fmt, ...)
{
	char m[512], bits[48];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	bits_text(w->fr + off, len, mask, bits, sizeof(bits));
	rec(w, off, len, bits, name, m);
}

static __attribute__((format(printf, 2, 3))) void note(struct xw *w, const char *fmt, ...)
{
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (w->json) {
		fprintf(w->out, "%s{\"layer\":", w->nrec++ ? "," : "");
		ws_json_str(w->out, w->layer);
		fputs(",\"note\":", w->out);
		ws_json_str(w->out, m);
		fputc('}', w->out);
	} else {
		fprintf(w->out, "      [%s]\n", m);
	}
}

static __attribute__((format(printf, 2, 3))) void layer(struct xw *w, const char *fmt, ...)
{
	static char name[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	w->layer = name;
	if (!w->json)
		fprintf(w->out, "    %s\n", name);
}

/* Does the snapshot hold [off, off+len)?  If not, say so: the walk stops. */
static bool need(struct xw *w, uint32_t off, uint32_t len, const char *what)
{
	if (off + len <= w->cap)
		return true;
	if (off < w->cap)
		note(w, "the snapshot ends at byte %u, inside %s (%u of its %u bytes captured); "
		     "the frame is %u bytes: --snaplen (up to %d) captures more",
		     w->cap, what, w->cap - off, len, w->wire, WS_SNAP_MAX);
	else
		note(w, "the snapshot ends at byte %u, before %s; the frame is %u bytes: "
		     "--snaplen (up to %d) captures more", w->cap, what, w->wire, WS_SNAP_MAX);
	return false;
}

/* ------------------------------------------------------------- names */

static const char *ethertype_name(uint16_t t)
{
	switch (t) {
	case 0x0800: return "IPv4";
	case 0x0806: return "ARP";
	case 0x86dd: return "IPv6";
	case 0x8100: return "802.1Q VLAN tag";
	case 0x88a8: return "802.1ad service VLAN tag (QinQ)";
	case 0x8035: return "RARP";
	case 0x88cc: return "LLDP";
	case 0x8847: return "MPLS";
	default: return t < 0x0600 ? "an 802.3 length, not an ethertype" : "not decoded";
	}
}

static const char *ipproto_name(uint8_t p)
{
	switch (p) {
	case 0: return "IPv6 hop-by-hop options";
	case 1: return "ICMP";
	case 2: return "IGMP";
	case 4: return "IPv4 in IP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 41: return "IPv6 in IP";
	case 43: return "IPv6 routing header";
	case 44: return "IPv6 fragment header";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "authentication header (AH)";
	case 58: return "ICMPv6";
	case 59: return "no next header";
	case 60: return "IPv6 destination options";
	case 132: return "SCTP";
	default: return "other";
	}
}

static const char *dscp_name(unsigned d)
{
	static const struct { unsigned v; const char *n; } m[] = {
		{ 0, "CS0, best effort" }, { 8, "CS1" }, { 10, "AF11" }, { 12, "AF12" },
		{ 14, "AF13" }, { 16, "CS2" }, { 18, "AF21" }, { 20, "AF22" }, { 22, "AF23" },
		{ 24, "CS3" }, { 26, "AF31" }, { 28, "AF32" }, { 30, "AF33" }, { 32, "CS4" },
		{ 34, "AF41" }, { 36, "AF42" }, { 38, "AF43" }, { 40, "CS5" },
		{ 44, "VOICE-ADMIT" }, { 46, "EF, expedited forwarding" }, { 48, "CS6" },
		{ 56, "CS7" },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i].v == d)
			return m[i].n;
	return "unassigned";
}

static const char *ecn_name(unsigned e)
{
	static const char *const n[4] = { "Not-ECT: no ECN", "ECT(1): ECN capable",
					  "ECT(0): ECN capable", "CE: congestion experienced" };
	return n[e & 3];
}

static void mac_meaning(const uint8_t *m, char *buf, size_t len)
{
	char s[24];
	const char *kind;

	ws_mac_str(m, s, sizeof(s));
	if (!memcmp(m, "\xff\xff\xff\xff\xff\xff", 6))
		kind = "broadcast";
	else if (m[0] == 0x01 && m[1] == 0x00 && m[2] == 0x5e)
		kind = "IPv4 multicast";
	else if (m[0] == 0x33 && m[1] == 0x33)
		kind = "IPv6 multicast";
	else if (m[0] & 1)
		kind = "multicast";
	else if (!memcmp(m, "\0\0\0\0\0\0", 6))
		kind = "zero";
	else if (m[0] & 2)
		kind = "unicast, locally administered";
	else
		kind = "unicast, globally unique (vendor OUI)";
	snprintf(buf, len, "%s (%s)", s, kind);
}

static const char *port_name(uint16_t p)
{
	switch (p) {
	case 22: return " (ssh)";
	case 25: return " (smtp)";
	case 53: return " (dns)";
	case 80: return " (http)";
	case 443: return " (https)";
	case 5432: return " (postgresql)";
	case 3306: return " (mysql)";
	case 6379: return " (redis)";
	case 8080: return " (http-alt)";
	default: return "";
	}
}

/* ------------------------------------------------------------- trailer */

/* Bytes after the network packet: Ethernet padding up to 60 bytes, or a trailer. */
static void trailer(struct xw *w, uint32_t end)
{
	if (end >= w->wire)
		return;
	layer(w, "after the packet");
	if (end >= w->cap) {
		note(w, "%u bytes of Ethernet padding/trailer follow the packet (not in the snapshot)",
		     w->wire - end);
		return;
	}
	uint32_t n = w->cap - end, all = w->wire - end;
	bool zero = true;

	for (uint32_t i = 0; i < n; i++)
		zero = zero && !w->fr[end + i];
	fld(w, end, n, "padding", "%u byte%s %s%s", all, all == 1 ? "" : "s",
	    zero ? "of zeros: Ethernet pads frames to 60 bytes" : "of trailer after the IP packet",
	    n < all ? " (partly captured)" : "");
}

/* ------------------------------------------------------------- TCP */

static void tcp_options(struct xw *w, uint32_t off, uint32_t end)
{
	while (off < end) {
		uint8_t kind, len;

		if (!need(w, off, 1, "a TCP option"))
			return;
		kind = w->fr[off];
		if (kind == 0) {
			uint32_t n = end - off;

			if (!need(w, off, n, "the end of the TCP options"))
				return;
			fld(w, off, n, "option EOL", "kind 0: end of option list%s", n > 1 ?
			    ", then padding" : "");
			return;
		}
		if (kind == 1) {
			fld(w, off, 1, "option NOP", "kind 1: no-operation (aligns the next option)");
			off++;
			continue;
		}
		if (!need(w, off + 1, 1, "a TCP option's length"))
			return;
		len = w->fr[off + 1];
		if (len < 2 || off + len > end) {
			fld(w, off, 2, "option ?", "kind %u length %u: malformed, runs past the TCP header "
			    "(%u bytes left): the rest is not decoded", kind, len, end - off);
			return;
		}
		if (!need(w, off, len, "a TCP option"))
			return;
		const uint8_t *o = w->fr + off;

		switch (kind) {
		case 2:
			if (len == 4)
				fld(w, off, len, "option MSS", "kind 2 length 4: maximum segment size %u bytes",
				    be16(o + 2));
			else
				fld(w, off, len, "option MSS", "kind 2 length %u: bad length (4 expected)", len);
			break;
		case 3:
			if (len == 3)
				fld(w, off, len, "option window scale", "kind 3 length 3: shift %u (windows of "
				    "this side x %u)%s", o[2], 1u << (o[2] > 14 ? 14 : o[2]),
				    o[2] > 14 ? "; over 14, so treated as 14 (RFC 7323)" : "");
			else
				fld(w, off, len, "option window scale", "kind 3 length %u: bad length (3 expected)",
				    len);
			break;
		case 4:
			fld(w, off, len, "option SACK permitted", "kind 4 length %u: selective "
			    "acknowledgments may be used", len);
			break;
		case 5: {
			char m[400];
			size_t n = (size_t)snprintf(m, sizeof(m), "kind 5 length %u: %u block%s", len,
						    (len - 2) / 8, (len - 2) / 8 == 1 ? "" : "s");

			for (unsigned b = 0; b < (unsigned)(len - 2) / 8 && n < sizeof(m); b++)
				n += (size_t)snprintf(m + n, sizeof(m) - n, "%s received %u-%u", b ? "," : ":",
						      be32(o + 2 + 8 * b), be32(o + 6 + 8 * b));
			fld(w, off, len, "option SACK", "%s", m);
			break;
		}
		case 8:
			if (len == 10)
				fld(w, off, len, "option timestamps", "kind 8 length 10: TSval %u, TSecr %u",
				    be32(o + 2), be32(o + 6));
			else
				fld(w, off, len, "option timestamps", "kind 8 length %u: bad length (10 expected)",
				    len);
			break;
		case 19:
			fld(w, off, len, "option MD5 signature", "kind 19 length %u: TCP MD5 signature "
			    "(RFC 2385)", len);
			break;
		case 28:
			fld(w, off, len, "option user timeout", "kind 28 length %u (RFC 5482)", len);
			break;
		case 29:
			fld(w, off, len, "option TCP-AO", "kind 29 length %u: authentication option "
			    "(RFC 5925)", len);
			break;
		case 30:
			fld(w, off, len, "option MPTCP", "kind 30 length %u: multipath TCP, subtype %u",
			    len, len > 2 ? o[2] >> 4 : 0);
			break;
		case 34:
			if (len == 2)
				fld(w, off, len, "option Fast Open", "kind 34 length 2: TFO cookie request");
			else
				fld(w, off, len, "option Fast Open", "kind 34 length %u: TFO cookie of %u "
				    "bytes", len, len - 2);
			break;
		case 253:
		case 254:
			fld(w, off, len, "option experimental", "kind %u length %u%s", kind, len,
			    len >= 4 ? ", experiment id in the first 2 bytes" : "");
			break;
		default:
			fld(w, off, len, "option", "kind %u length %u: not decoded", kind, len);
			break;
		}
		off += len;
	}
}

static void tcp_window(struct xw *w, uint32_t off, uint16_t win, uint8_t flags)
{
	const struct ws_explain_ctx *cx = w->cx;
	uint8_t me = cx->from_role & 1, peer = me ^ 1;

	if (flags & WS_TCP_RST) {
		fld(w, off, 2, "window", "%u (not used: a RST advertises no window)", win);
	} else if (flags & WS_TCP_SYN) {
		fld(w, off, 2, "window", "%u bytes (never scaled in a SYN, RFC 7323)", win);
	} else if (!cx->tcp_event || !cx->conn_known || !cx->syn_seen[me]) {
		fld(w, off, 2, "window", "%u (scale unknown: this side's SYN was not seen)", win);
	} else if (cx->wscale[me] < 0) {
		fld(w, off, 2, "window", "%u bytes (no window scaling: this side's SYN did not offer it)",
		    win);
	} else if (!cx->syn_seen[peer]) {
		fld(w, off, 2, "window", "%u (x 2^%d = %llu bytes if the peer also offered scaling; its "
		    "SYN was not seen)", win, cx->wscale[me], (unsigned long long)win << cx->wscale[me]);
	} else if (cx->wscale[peer] < 0) {
		fld(w, off, 2, "window", "%u bytes (no window scaling: the peer's SYN did not offer it)",
		    win);
	} else {
		fld(w, off, 2, "window", "%u x 2^%d = %llu bytes (window scale %d from this side's SYN)",
		    win, cx->wscale[me], (unsigned long long)win << cx->wscale[me], cx->wscale[me]);
	}
}

static void tcp_checksum(struct xw *w, int fam, uint32_t l3, uint32_t l4, uint32_t seglen)
{
	uint32_t off = l4 + 16, psum;
	uint16_t stored = be16(w->fr + off), partial, expected;
	uint8_t ph[40];

	if (seglen < 20) {
		fld(w, off, 2, "checksum", "0x%04x (not verifiable: the IP length leaves %u bytes for "
		    "TCP, less than its header)", stored, seglen);
		return;
	}
	if (l4 + seglen > w->cap) {
		fld(w, off, 2, "checksum", "0x%04x (not verifiable: snapshot; it covers the whole "
		    "%u-byte segment, %u bytes of it captured)", stored, seglen,
		    w->cap > l4 ? w->cap - l4 : 0);
		return;
	}
	if (fam == 4) {
		memcpy(ph, w->fr + l3 + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = (uint8_t)(seglen >> 8);
		ph[11] = (uint8_t)seglen;
		psum = ws_csum_add(0, ph, 12);
	} else {
		memcpy(ph, w->fr + l3 + 8, 32);
		ph[32] = (uint8_t)(seglen >> 24);
		ph[33] = (uint8_t)(seglen >> 16);
		ph[34] = (uint8_t)(seglen >> 8);
		ph[35] = (uint8_t)seglen;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 6;
		psum = ws_csum_add(0, ph, 40);
	}
	partial = ws_csum_fold(psum);
	uint32_t s = ws_csum_add(psum, w->fr + l4, 16);

	s = ws_csum_add(s, w->fr + l4 + 18, seglen - 18);
	expected = (uint16_t)~ws_csum_fold(s);
	if (ws_csum_fold(ws_csum_add(s, w->fr + off, 2)) == 0xffff) {
		fld(w, off, 2, "checksum", "0x%04x correct (over the pseudo-header and %u bytes of "
		    "segment)", stored, seglen);
	} else if (stored == partial || (stored == 0xffff && partial == 0) ||
		   (stored == 0 && partial == 0xffff)) {
		fld(w, off, 2, "checksum", "0x%04x not yet computed (offloaded): it holds only the "
		    "pseudo-header sum, as the sender leaves it for the NIC (CHECKSUM_PARTIAL); "
		    "the full one would be 0x%04x", stored, expected);
	} else if (w->cx->dir == WS_DIR_EGRESS) {
		fld(w, off, 2, "checksum", "0x%04x not yet computed (offloaded): on egress the NIC "
		    "fills it in after this point; the full one would be 0x%04x", stored, expected);
	} else {
		fld(w, off, 2, "checksum", "0x%04x %sWRONG%s, expected 0x%04x", stored,
		    ws_sgr_warn(w->color), ws_sgr_end(w->color), expected);
	}
}

static void tcp_flag_bits(struct xw *w, uint32_t off)
{
	static const struct { uint8_t bit; const char *name, *what; } fl[] = {
		{ WS_TCP_CWR, "CWR", "congestion window reduced" },
		{ WS_TCP_ECE, "ECE", "ECN echo" },
		{ WS_TCP_URG, "URG", "the urgent pointer is valid" },
		{ WS_TCP_ACK, "ACK", "the acknowledgment number is valid" },
		{ WS_TCP_PSH, "PSH", "push: hand the data to the application" },
		{ WS_TCP_RST, "RST", "reset the connection" },
		{ WS_TCP_SYN, "SYN", "synchronize sequence numbers: opens a connection" },
		{ WS_TCP_FIN, "FIN", "no more data from the sender" },
	};
	uint8_t v = w->fr[off];
	char names[64] = "";
	size_t n = 0;

	/* named in the order people say them: SYN ACK, FIN ACK, ... */
	static const uint8_t order[8] = { 6, 7, 5, 4, 3, 2, 1, 0 };

	for (size_t k = 0; k < 8; k++) {
		size_t i = order[k];

		if (v & fl[i].bit)
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? " " : "",
					      fl[i].name);
	}
	fld(w, off, 1, "flags", "0x%02x: %s%s%s", v, ws_sgr_flags(w->color, v), n ? names : "none",
	    ws_sgr_end(w->color));
	for (size_t i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "  %s", fl[i].name);
		bitfld(w, off, 1, fl[i].bit, name, "%u%s%s", !!(v & fl[i].bit),
		       (v & fl[i].bit) ? ": " : "", (v & fl[i].bit) ? fl[i].what : "");
	}
}

static void walk_tcp(struct xw *w, int fam, uint32_t l3, uint32_t l4, uint32_t seglen)
{
	const struct ws_explain_ctx *cx = w->cx;
	uint32_t seq, ack, doff, paylen;
	uint8_t flags;

	layer(w, "TCP");
	if (!need(w, l4, 2, "the source port"))
		return;
	uint16_t sp = be16(w->fr + l4), dp;

	fld(w, l4, 2, "source port", "%u%s%s%s", sp, port_name(sp), cx->tcp_event ? ", the " : "",
	    cx->tcp_event ? ws_role_name(cx->from_role) : "");
	if (!need(w, l4 + 2, 2, "the destination port"))
		return;
	dp = be16(w->fr + l4 + 2);
	fld(w, l4 + 2, 2, "destination port", "%u%s%s%s", dp, port_name(dp),
	    cx->tcp_event ? ", the " : "", cx->tcp_event ? ws_role_name(cx->from_role ^ 1) : "");
	/* the flags say what seq and ack mean: peek at them when captured */
	flags = l4 + 13 < w->cap ? w->fr[l4 + 13] : 0;
	doff = l4 + 12 < w->cap ? (uint32_t)(w->fr[l4 + 12] >> 4) * 4 : 20;
	paylen = seglen > doff ? seglen - doff : 0;

	if (!need(w, l4 + 4, 4, "the sequence number"))
		return;
	seq = be32(w->fr + l4 + 4);
	if (flags & WS_TCP_SYN)
		fld(w, l4 + 4, 4, "sequence number", "%u: initial sequence number (ISN); the SYN "
		    "takes this number, data starts at %u", seq, seq + 1);
	else if ((flags & WS_TCP_FIN) && paylen)
		fld(w, l4 + 4, 4, "sequence number", "%u: first of %u data bytes; the FIN takes %u",
		    seq, paylen, seq + paylen);
	else if (flags & WS_TCP_FIN)
		fld(w, l4 + 4, 4, "sequence number", "%u: the FIN takes this number", seq);
	else if (paylen)
		fld(w, l4 + 4, 4, "sequence number", "%u: first of %u data bytes (up to %u)", seq,
		    paylen, seq + paylen - 1);
	else if ((flags & WS_TCP_RST) && (flags & WS_TCP_ACK) && cx->tcp_event &&
		 (cx->note & WS_NOTE_ACKS_SYN))
		fld(w, l4 + 4, 4, "sequence number", "%u (not checked: a RST answering a SYN counts "
		    "when its ack acknowledges the SYN, RFC 9293)", seq);
	else if (flags & WS_TCP_RST)
		fld(w, l4 + 4, 4, "sequence number", "%u: must fall in the receiver's window for the "
		    "RST to count", seq);
	else
		fld(w, l4 + 4, 4, "sequence number", "%u: the next byte this side will send", seq);

	if (!need(w, l4 + 8, 4, "the acknowledgment number"))
		return;
	ack = be32(w->fr + l4 + 8);
	if (!(flags & WS_TCP_ACK))
		fld(w, l4 + 8, 4, "acknowledgment number", "%u (ignored: the ACK flag is not set)", ack);
	else if (cx->tcp_event && (cx->note & WS_NOTE_BAD_ACK))
		fld(w, l4 + 8, 4, "acknowledgment number", "%u: %sdoes NOT acknowledge%s seq+1 of the "
		    "SYN/FIN it answers: expected %u", ack, ws_sgr_warn(w->color), ws_sgr_end(w->color),
		    cx->expected_ack);
	else if (cx->tcp_event && (cx->note & WS_NOTE_ACKS_SYN))
		fld(w, l4 + 8, 4, "acknowledgment number", "%u: acknowledges the peer's SYN (its "
		    "ISN + 1)", ack);
	else if (cx->tcp_event && (cx->note & WS_NOTE_ACKS_FIN))
		fld(w, l4 + 8, 4, "acknowledgment number", "%u: acknowledges the peer's FIN (its "
		    "seq + 1)", ack);
	else
		fld(w, l4 + 8, 4, "acknowledgment number", "%u: the next byte expected from the peer "
		    "(everything before it was received)", ack);

	if (!need(w, l4 + 12, 1, "the data offset"))
		return;
	bitfld(w, l4 + 12, 1, 0xf0, "data offset", "%u (x4 = %u bytes: %s)", doff / 4, doff,
	       doff < 20 ? "below the minimum 5, malformed" : doff == 20 ? "no options" : "with options");
	bitfld(w, l4 + 12, 1, 0x0e, "reserved", "%u%s", (w->fr[l4 + 12] >> 1) & 7,
	       (w->fr[l4 + 12] & 0x0e) ? " (should be zero)" : "");
	bitfld(w, l4 + 12, 1, 0x01, "AE", "%u (accurate ECN; formerly NS)", w->fr[l4 + 12] & 1);
	if (!need(w, l4 + 13, 1, "the flags"))
		return;
	tcp_flag_bits(w, l4 + 13);
	if (!need(w, l4 + 14, 2, "the window"))
		return;
	tcp_window(w, l4 + 14, be16(w->fr + l4 + 14), flags);
	if (!need(w, l4 + 16, 2, "the checksum"))
		return;
	tcp_checksum(w, fam, l3, l4, seglen);
	if (!need(w, l4 + 18, 2, "the urgent pointer"))
		return;
	uint16_t urg = be16(w->fr + l4 + 18);

	if (flags & WS_TCP_URG)
		fld(w, l4 + 18, 2, "urgent pointer", "%u: urgent data ends at seq %u", urg, seq + urg);
	else
		fld(w, l4 + 18, 2, "urgent pointer", "%u (unused: URG not set)", urg);
	if (doff < 20) {
		note(w, "data offset below 20 bytes: the header is malformed, nothing more is decoded");
		return;
	}
	if (doff > 20) {
		layer(w, "TCP options (%u bytes)", doff - 20);
		tcp_options(w, l4 + 20, l4 + doff);
		if (l4 + doff > w->cap)
			return;
	}
	if (paylen) {
		uint32_t off = l4 + doff;

		layer(w, "TCP payload");
		if (off >= w->cap) {
			note(w, "%u bytes of payload, not in the snapshot", paylen);
			return;
		}
		uint32_t n = w->cap - off < paylen ? w->cap - off : paylen;
		char pv[40];
		uint32_t k;

		for (k = 0; k < n && k < 32; k++)
			pv[k] = isprint(w->fr[off + k]) ? (char)w->fr[off + k] : '.';
		pv[k] = '\0';
		fld(w, off, n, "payload", "%u bytes (%u in the snapshot): \"%s\"%s", paylen, n, pv,
		    n > 32 ? "..." : "");
	}
}

/* ------------------------------------------------------------- ARP */

static void walk_arp(struct xw *w, uint32_t a)
{
	layer(w, "ARP");
	if (!need(w, a, 8, "the ARP header"))
		return;
	uint16_t ht = be16(w->fr + a), pt = be16(w->fr + a + 2), op = be16(w->fr + a + 6);
	uint8_t hl = w->fr[a + 4], pl = w->fr[a + 5];

	fld(w, a, 2, "hardware type", "%u%s", ht, ht == 1 ? " (Ethernet)" : " (not Ethernet)");
	fld(w, a + 2, 2, "protocol type", "0x%04x (%s)", pt, pt == 0x0800 ? "IPv4" : "not IPv4");
	fld(w, a + 4, 1, "hardware size", "%u%s", hl, hl == 6 ? " (a MAC address)" : "");
	fld(w, a + 5, 1, "protocol size", "%u%s", pl, pl == 4 ? " (an IPv4 address)" : "");
	fld(w, a + 6, 2, "opcode", "%u (%s)", op, op == 1 ? "request" : op == 2 ? "reply" :
	    op == 3 ? "RARP request" : op == 4 ? "RARP reply" : "other");
	if (ht != 1 || pt != 0x0800 || hl != 6 || pl != 4) {
		note(w, "not Ethernet/IPv4 ARP: the addresses are not decoded");
		return;
	}
	if (!need(w, a + 8, 20, "the ARP addresses"))
		return;
	char m[64], spa[16], tpa[16];
	const uint8_t *tha = w->fr + a + 18;

	ws_addr_str(4, (const uint32_t *)(const void *)(w->fr + a + 14), spa, sizeof(spa));
	ws_addr_str(4, (const uint32_t *)(const void *)(w->fr + a + 24), tpa, sizeof(tpa));
	mac_meaning(w->fr + a + 8, m, sizeof(m));
	fld(w, a + 8, 6, "sender MAC", "%s", m);
	fld(w, a + 14, 4, "sender IP", "%s", spa);
	mac_meaning(tha, m, sizeof(m));
	fld(w, a + 18, 6, "target MAC", "%s%s", m, op == 1 ? ": unknown, it is what is asked" : "");
	fld(w, a + 24, 4, "target IP", "%s", tpa);
	if (op == 1 && !strcmp(spa, tpa))
		note(w, "gratuitous ARP: %s announces its own address", spa);
	else if (op == 1)
		note(w, "who has %s? tell %s", tpa, spa);
	else if (op == 2)
		note(w, "%s is at the sender MAC", spa);
	trailer(w, a + 28);
}

/* ------------------------------------------------------------- IPv4 */

static void ip4_options(struct xw *w, uint32_t off, uint32_t end)
{
	layer(w, "IPv4 options (%u bytes)", end - off);
	while (off < end) {
		uint8_t kind, len;

		if (!need(w, off, 1, "an IPv4 option"))
			return;
		kind = w->fr[off];
		if (kind == 0) {
			if (!need(w, off, end - off, "the end of the IPv4 options"))
				return;
			fld(w, off, end - off, "option EOL", "end of option list%s",
			    end - off > 1 ? ", then padding" : "");
			return;
		}
		if (kind == 1) {
			fld(w, off, 1, "option NOP", "no-operation");
			off++;
			continue;
		}
		if (!need(w, off + 1, 1, "an IPv4 option's length"))
			return;
		len = w->fr[off + 1];
		if (len < 2 || off + len > end) {
			fld(w, off, 2, "option ?", "kind %u length %u: malformed", kind, len);
			return;
		}
		if (!need(w, off, len, "an IPv4 option"))
			return;
		fld(w, off, len, "option", "kind %u (%s) length %u", kind,
		    kind == 7 ? "record route" : kind == 68 ? "timestamp" : kind == 130 ? "security" :
		    kind == 131 ? "loose source route" : kind == 137 ? "strict source route" :
		    kind == 148 ? "router alert" : "not decoded", len);
		off += len;
	}
}

static void walk_ip4(struct xw *w, uint32_t l3)
{
	layer(w, "IPv4");
	if (!need(w, l3, 1, "the IPv4 header"))
		return;
	uint8_t v = w->fr[l3] >> 4;
	uint32_t ihl = (uint32_t)(w->fr[l3] & 0x0f) * 4;

	bitfld(w, l3, 1, 0xf0, "version", "%u%s", v, v == 4 ? "" : " (not 4: malformed)");
	bitfld(w, l3, 1, 0x0f, "IHL", "%u (x4 = %u bytes%s)", ihl / 4, ihl,
	       ihl < 20 ? ": below the minimum 5, malformed" : ihl > 20 ? ", with options" : "");
	if (ihl < 20)
		return;
	if (!need(w, l3 + 1, 1, "the TOS byte"))
		return;
	uint8_t tos = w->fr[l3 + 1];

	bitfld(w, l3 + 1, 1, 0xfc, "DSCP", "%u (%s)", tos >> 2, dscp_name(tos >> 2));
	bitfld(w, l3 + 1, 1, 0x03, "ECN", "%u (%s)", tos & 3, ecn_name(tos));
	if (!need(w, l3 + 2, 2, "the total length"))
		return;
	uint16_t tot = be16(w->fr + l3 + 2);

	if (tot < ihl)
		fld(w, l3 + 2, 2, "total length", "%u bytes: smaller than the header, malformed", tot);
	else
		fld(w, l3 + 2, 2, "total length", "%u bytes (header %u + payload %u)", tot, ihl,
		    tot - ihl);
	if (!need(w, l3 + 4, 2, "the identification"))
		return;
	fld(w, l3 + 4, 2, "identification", "0x%04x (%u)", be16(w->fr + l3 + 4), be16(w->fr + l3 + 4));
	if (!need(w, l3 + 6, 2, "the flags and fragment offset"))
		return;
	uint16_t ff = be16(w->fr + l3 + 6);
	uint32_t fo = (uint32_t)(ff & 0x1fff) * 8;

	bitfld(w, l3 + 6, 2, 0x8000, "  reserved", "%u%s", ff >> 15, ff & 0x8000 ? " (must be zero)" : "");
	bitfld(w, l3 + 6, 2, 0x4000, "  DF", "%u%s", (ff >> 14) & 1, ff & 0x4000 ? ": don't fragment" : "");
	bitfld(w, l3 + 6, 2, 0x2000, "  MF", "%u%s", (ff >> 13) & 1, ff & 0x2000 ? ": more fragments follow" : "");
	bitfld(w, l3 + 6, 2, 0x1fff, "fragment offset", "%u (x8 = %u bytes)%s", ff & 0x1fff, fo,
	       fo ? ": a later fragment" : (ff & 0x2000) ? ": the first fragment" : ": not fragmented");
	if (!need(w, l3 + 8, 1, "the TTL"))
		return;
	fld(w, l3 + 8, 1, "TTL", "%u (hops left)", w->fr[l3 + 8]);
	if (!need(w, l3 + 9, 1, "the protocol"))
		return;
	uint8_t proto = w->fr[l3 + 9];

	fld(w, l3 + 9, 1, "protocol", "%u (%s)", proto, ipproto_name(proto));
	if (!need(w, l3 + 10, 2, "the header checksum"))
		return;
	uint16_t stored = be16(w->fr + l3 + 10);

	if (l3 + ihl > w->cap) {
		fld(w, l3 + 10, 2, "header checksum", "0x%04x (not verifiable: snapshot)", stored);
	} else {
		uint32_t s = ws_csum_add(ws_csum_add(0, w->fr + l3, 10), w->fr + l3 + 12, ihl - 12);
		uint16_t exp = (uint16_t)~ws_csum_fold(s);

		if (ws_csum_fold(ws_csum_add(s, w->fr + l3 + 10, 2)) == 0xffff)
			fld(w, l3 + 10, 2, "header checksum", "0x%04x correct", stored);
		else
			fld(w, l3 + 10, 2, "header checksum", "0x%04x %sWRONG%s, expected 0x%04x", stored,
			    ws_sgr_warn(w->color), ws_sgr_end(w->color), exp);
	}
	char a[16];

	if (!need(w, l3 + 12, 4, "the source address"))
		return;
	ws_addr_str(4, (const uint32_t *)(const void *)(w->fr + l3 + 12), a, sizeof(a));
	fld(w, l3 + 12, 4, "source address", "%s", a);
	if (!need(w, l3 + 16, 4, "the destination address"))
		return;
	ws_addr_str(4, (const uint32_t *)(const void *)(w->fr + l3 + 16), a, sizeof(a));
	fld(w, l3 + 16, 4, "destination address", "%s", a);
	if (ihl > 20) {
		ip4_options(w, l3 + 20, l3 + ihl);
		if (l3 + ihl > w->cap)
			return;
	}
	if (tot < ihl)
		return;
	if (fo) {
		layer(w, "IPv4 payload");
		note(w, "a later fragment: its %s header travels in the first fragment",
		     ipproto_name(proto));
	} else if (proto == 6) {
		walk_tcp(w, 4, l3, l3 + ihl, tot - ihl);
		if (l3 + ihl + 20 > w->cap)
			return;
	} else {
		layer(w, "IPv4 payload");
		note(w, "protocol %u (%s): %u bytes, not decoded", proto, ipproto_name(proto), tot - ihl);
	}
	if (l3 + tot <= w->cap || l3 + tot < w->wire)
		trailer(w, l3 + tot);
}

/* ------------------------------------------------------------- IPv6 */

static void ip6_tlv_options(struct xw *w, uint32_t off, uint32_t end)
{
	while (off < end) {
		uint8_t t;

		if (!need(w, off, 1, "an option"))
			return;
		t = w->fr[off];
		if (t == 0) {
			fld(w, off, 1, "option Pad1", "type 0: one byte of padding");
			off++;
			continue;
		}
		if (!need(w, off + 1, 1, "an option's length"))
			return;
		uint32_t len = 2u + w->fr[off + 1];

		if (off + len > end) {
			fld(w, off, 2, "option ?", "type %u length %u: runs past the header, malformed", t,
			    len - 2);
			return;
		}
		if (!need(w, off, len, "an option"))
			return;
		static const char *const act[4] = { "skip it", "discard the packet",
						   "discard and send ICMP", "discard and send ICMP "
						   "unless multicast" };
		if (t == 1)
			fld(w, off, len, "option PadN", "type 1: %u bytes of padding", len);
		else if (t == 5 && len == 4)
			fld(w, off, len, "option router alert", "type 5: value %u", be16(w->fr + off + 2));
		else if (t == 0xc2 && len == 6)
			fld(w, off, len, "option jumbo payload", "type 0xc2: length %u", be32(w->fr + off + 2));
		else
			fld(w, off, len, "option", "type 0x%02x, %u data bytes; a node that does not know "
			    "it must %s", t, len - 2, act[t >> 6]);
		off += len;
	}
}

static void walk_ip6(struct xw *w, uint32_t l3)
{
	char a[INET6_ADDRSTRLEN_WS];

	layer(w, "IPv6");
	if (!need(w, l3, 4, "the IPv6 version, class and flow label"))
		return;
	uint32_t w0 = be32(w->fr + l3);
	uint8_t tc = (uint8_t)(w0 >> 20);

	bitfld(w, l3, 1, 0xf0, "version", "%u%s", w0 >> 28, (w0 >> 28) == 6 ? "" : " (not 6)");
	bitfld(w, l3, 2, 0x0ff0, "traffic class", "0x%02x: DSCP %u (%s), ECN %u (%s)", tc, tc >> 2,
	       dscp_name(tc >> 2), tc & 3, ecn_name(tc));
	fld(w, l3 + 1, 3, "flow label", "0x%05x (the low 4 bits of byte %u, then 2 bytes)%s",
	    w0 & 0xfffff, l3 + 1, (w0 & 0xfffff) ? "" : ": none");
	if (!need(w, l3 + 4, 2, "the payload length"))
		return;
	uint16_t plen = be16(w->fr + l3 + 4);

	fld(w, l3 + 4, 2, "payload length", "%u bytes after this 40-byte header", plen);
	if (!need(w, l3 + 6, 1, "the next header"))
		return;
	uint8_t nh = w->fr[l3 + 6];

	fld(w, l3 + 6, 1, "next header", "%u (%s)", nh, ipproto_name(nh));
	if (!need(w, l3 + 7, 1, "the hop limit"))
		return;
	fld(w, l3 + 7, 1, "hop limit", "%u (hops left)", w->fr[l3 + 7]);
	if (!need(w, l3 + 8, 16, "the source address"))
		return;
	ws_addr_str(6, (const uint32_t *)(const void *)(w->fr + l3 + 8), a, sizeof(a));
	fld(w, l3 + 8, 16, "source address", "%s", a);
	if (!need(w, l3 + 24, 16, "the destination address"))
		return;
	ws_addr_str(6, (const uint32_t *)(const void *)(w->fr + l3 + 24), a, sizeof(a));
	fld(w, l3 + 24, 16, "destination address", "%s", a);

	uint32_t off = l3 + 40, end = l3 + 40 + plen;
	bool later_frag = false;

	for (int i = 0; ws_is_ip6_ext(nh); i++) {
		uint32_t len;

		if (i == WS_MAX_IP6_EXT)
			note(w, "more than %d extension headers: the kernel's parser gives up here",
			     WS_MAX_IP6_EXT);
		if (i >= 16)
			return;
		layer(w, "%s", ipproto_name(nh));
		if (!need(w, off, 2, "the extension header"))
			return;
		uint8_t next = w->fr[off], hl = w->fr[off + 1];

		fld(w, off, 1, "next header", "%u (%s)", next, ipproto_name(next));
		if (nh == 44) {
			len = 8;
			fld(w, off + 1, 1, "reserved", "%u", hl);
			if (!need(w, off + 2, 6, "the fragment header"))
				return;
			uint16_t fo = be16(w->fr + off + 2);

			bitfld(w, off + 2, 2, 0xfff8, "fragment offset", "%u (x8 = %u bytes)", fo >> 3,
			       (uint32_t)(fo >> 3) * 8);
			bitfld(w, off + 2, 2, 0x0001, "  M", "%u%s", fo & 1, (fo & 1) ? ": more fragments" : "");
			fld(w, off + 4, 4, "identification", "0x%08x", be32(w->fr + off + 4));
			later_frag = (fo >> 3) != 0;
		} else if (nh == 51) {
			len = ((uint32_t)hl + 2) * 4;
			fld(w, off + 1, 1, "payload length", "%u ((%u + 2) x 4 = %u bytes)", hl, hl, len);
		} else {
			len = ((uint32_t)hl + 1) * 8;
			fld(w, off + 1, 1, "header ext length", "%u ((%u + 1) x 8 = %u bytes)", hl, hl, len);
			if (nh == 43) {
				if (!need(w, off + 2, 2, "the routing header"))
					return;
				fld(w, off + 2, 1, "routing type", "%u%s", w->fr[off + 2],
				    w->fr[off + 2] == 4 ? " (segment routing)" : "");
				fld(w, off + 3, 1, "segments left", "%u", w->fr[off + 3]);
			} else {
				ip6_tlv_options(w, off + 2, off + len);
			}
		}
		if (off + len > end) {
			note(w, "the extension header runs past the payload length: malformed");
			return;
		}
		if (off + len > w->cap)
			return;       /* need() said where the snapshot ended */
		off += len;
		nh = next;
	}
	if (later_frag) {
		layer(w, "IPv6 payload");
		note(w, "a later fragment: the %s header travels in the first fragment", ipproto_name(nh));
	} else if (nh == 6) {
		walk_tcp(w, 6, l3, off, end - off);
		if (off + 20 > w->cap)
			return;
	} else {
		layer(w, "IPv6 payload");
		note(w, "next header %u (%s): %u bytes, not decoded", nh, ipproto_name(nh), end - off);
	}
	if (end <= w->cap || end < w->wire)
		trailer(w, end);
}

/* ------------------------------------------------------------- frame */

static void walk(struct xw *w)
{
	char m[64];
	uint32_t off = 12;
	uint16_t et;

	layer(w, "Ethernet");
	if (!need(w, 0, 6, "the destination MAC"))
		return;
	mac_meaning(w->fr, m, sizeof(m));
	fld(w, 0, 6, "destination MAC", "%s", m);
	if (!need(w, 6, 6, "the source MAC"))
		return;
	mac_meaning(w->fr + 6, m, sizeof(m));
	fld(w, 6, 6, "source MAC", "%s", m);
	for (int i = 0;; i++) {
		if (!need(w, off, 2, "the ethertype"))
			return;
		et = be16(w->fr + off);
		if (et != WS_ETH_P_8021Q && et != WS_ETH_P_8021AD)
			break;
		layer(w, "VLAN tag %d", i + 1);
		if (i == WS_MAX_VLAN)
			note(w, "more than %d VLAN tags: the kernel's parser rejects such frames",
			     WS_MAX_VLAN);
		fld(w, off, 2, "TPID", "0x%04x (%s)", et, ethertype_name(et));
		if (!need(w, off + 2, 2, "the VLAN tag control"))
			return;
		uint16_t tci = be16(w->fr + off + 2);

		bitfld(w, off + 2, 2, 0xe000, "priority (PCP)", "%u", tci >> 13);
		bitfld(w, off + 2, 2, 0x1000, "DEI", "%u%s", (tci >> 12) & 1,
		       (tci & 0x1000) ? ": drop eligible" : "");
		bitfld(w, off + 2, 2, 0x0fff, "VLAN id", "%u", tci & 0x0fff);
		off += 4;
		if (i >= 7)
			return;
	}
	fld(w, off, 2, "ethertype", "0x%04x (%s)", et, ethertype_name(et));
	off += 2;
	switch (et) {
	case WS_ETH_P_ARP:
		walk_arp(w, off);
		break;
	case WS_ETH_P_IP:
		walk_ip4(w, off);
		break;
	case WS_ETH_P_IPV6:
		walk_ip6(w, off);
		break;
	default:
		break;
	}
}

static void hexdump(struct xw *w)
{
	for (uint32_t o = 0; o < w->cap; o += 16) {
		uint32_t n = w->cap - o < 16 ? w->cap - o : 16, i;

		fprintf(w->out, "    0x%04x: ", o);
		for (i = 0; i < 16; i++) {
			if (i % 2 == 0)
				fputc(' ', w->out);
			if (i < n)
				fprintf(w->out, "%02x", w->fr[o + i]);
			else
				fputs("  ", w->out);
		}
		fputs("  ", w->out);
		for (i = 0; i < n; i++)
			fputc(isprint(w->fr[o + i]) ? w->fr[o + i] : '.', w->out);
		fputc('\n', w->out);
	}
}

int ws_explain(const struct ws_fmt *f, const uint8_t *frame, uint32_t cap_len,
	       uint32_t wire_len, const struct ws_explain_ctx *cx)
{
	static const struct ws_explain_ctx none;
	struct xw w = {
		.out = f->out, .json = f->json, .color = f->color && !f->json,
		.fr = frame, .cap = cap_len, .wire = wire_len < cap_len ? cap_len : wire_len,
		.cx = cx ? cx : &none, .layer = "",
	};
	struct ws_pkt p;

	if (w.json) {
		fprintf(w.out, "{\"type\":\"explain\",\"wire_len\":%u,\"cap_len\":%u,\"hex\":\"",
			w.wire, w.cap);
		for (uint32_t i = 0; i < w.cap; i++)
			fprintf(w.out, "%02x", frame[i]);
		fputs("\",\"fields\":[", w.out);
	} else {
		fprintf(w.out, "    frame: %u bytes on the wire, %u in the snapshot%s\n", w.wire, w.cap,
			w.cap < w.wire ? " (--snaplen)" : "");
		hexdump(&w);
	}
	if (!w.cap)
		note(&w, "no snapshot: the kernel copied no bytes of this frame");
	else
		walk(&w);
	/* the shared parser's verdict on the same bytes, when it disagrees */
	if (w.cap && ws_parse(frame, frame + w.cap, &p) != WS_OK && w.cap >= w.wire) {
		w.layer = "parser";
		note(&w, "the shared parser rejects this frame (error %u)", p.err);
	}
	if (w.json)
		fputs("]}\n", w.out);
	return ws_out_status(w.out);
}
