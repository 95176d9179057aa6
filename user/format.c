// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Turning events into the lines people read (text) and programs read (JSON). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ws_user.h"

void ws_fmt_time_text(uint64_t real_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(real_ns / 1000000000ull);
	struct tm tm;
	char hms[16];

	localtime_r(&sec, &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06u", hms, (unsigned)(real_ns % 1000000000ull / 1000));
}

/*
 * UTC, so the date part can be reused until the second changes: in a
 * connection storm gmtime+strftime were a good part of each JSON event.
 */
void ws_fmt_time_rfc3339(uint64_t real_ns, char *buf, size_t len)
{
	static __thread time_t last = -1;
	static __thread char date[32];
	time_t sec = (time_t)(real_ns / 1000000000ull);

	if (sec != last) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		last = sec;
	}
	snprintf(buf, len, "%s.%06uZ", date, (unsigned)(real_ns % 1000000000ull / 1000));
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 if there is none. */
static int utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80 ||
		    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * A JSON string (RFC 8259: UTF-8).  Interface names are bytes, not text: a
 * byte that does not start well-formed UTF-8 is written as \u00XX.
 */
/* The JSON string for str, quotes included, into dst (cap > 0); truncated to fit. */
size_t ws_json_esc(char *dst, size_t cap, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = 0;

#define PUT(...) do { int k_ = snprintf(dst + n, cap - n, __VA_ARGS__); \
		      n = k_ < 0 ? n : (n + (size_t)k_ < cap ? n + (size_t)k_ : cap - 1); } while (0)
	PUT("\"");
	while (*s && n + 1 < cap) {
		int u = utf8_len(s);

		if (*s == '"' || *s == '\\')
			PUT("\\%c", *s);
		else if (*s < 0x20 || u == 0)
			PUT("\\u%04x", *s);
		else {
			PUT("%.*s", u, (const char *)s);
			s += u;
			continue;
		}
		s++;
	}
	PUT("\"");
#undef PUT
	return n;
}

void ws_json_str(FILE *o, const char *str)
{
	char buf[1024];

	ws_json_esc(buf, sizeof(buf), str);
	fputs(buf, o);
}

/*
 * Has writing to o failed?  No flush here: the run loop flushes once per
 * batch of events, so a storm of events is not a storm of write()s.
 */
int ws_out_status(FILE *o)
{
	if (ferror(o))
		return -(errno ? errno : EIO);
	return 0;
}


static const char *dir_str(uint8_t dir)
{
	return dir == WS_DIR_EGRESS ? "out" : "in";
}

/* The frame's TCP options, decoded from the snapshot the kernel sent. */
static int event_tcpopts(const struct ws_event *e, struct ws_tcpopts *o)
{
	struct ws_pkt p;
	uint32_t cap = e->cap_len > WS_SNAP_MAX ? WS_SNAP_MAX : e->cap_len;

	memset(o, 0, sizeof(*o));
	if (!cap)
		return -1;
	ws_parse(e->frame, e->frame + cap, &p);
	if (!p.is_tcp || p.doff <= 20)
		return -1;
	ws_parse_tcpopts(e->frame, e->frame + cap, &p, o);
	return 0;
}

static void opts_text(const struct ws_tcpopts *o, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
#define ADD(...) do { if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); } while (0)
	if (o->has_mss)
		ADD("%smss %u", n ? "," : "", o->mss);
	if (o->sack_ok)
		ADD("%ssackOK", n ? "," : "");
	if (o->nsack)
		ADD("%ssack %u", n ? "," : "", o->nsack);
	if (o->has_ts)
		ADD("%sTS val %u ecr %u", n ? "," : "", o->tsval, o->tsecr);
	if (o->has_wscale)
		ADD("%swscale %u", n ? "," : "", o->wscale);
#undef ADD
}

static void notes_json(FILE *out, uint8_t note, uint8_t fflags)
{
	static const struct { uint8_t bit; const char *name; } notes[] = {
		{ WS_NOTE_RETRANS, "retransmission" }, { WS_NOTE_BAD_ACK, "bad_ack" },
		{ WS_NOTE_UNEXPECTED, "unexpected" }, { WS_NOTE_NO_FLOW, "no_flow" },
		{ WS_NOTE_PICKUP, "midstream_pickup" }, { WS_NOTE_REUSED, "reused_tuple" },
	}, ff[] = {
		{ WS_FF_MIDSTREAM, "midstream" }, { WS_FF_SIMOPEN, "simultaneous_open" },
		{ WS_FF_SIMCLOSE, "simultaneous_close" }, { WS_FF_GAP, "gap" },
		{ WS_FF_REFUSED, "refused" },
	};
	int first = 1;

	fputs(",\"notes\":[", out);
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (note & notes[i].bit) {
			fprintf(out, "%s\"%s\"", first ? "" : ",", notes[i].name);
			first = 0;
		}
	fputs("],\"conn\":[", out);
	first = 1;
	for (size_t i = 0; i < sizeof(ff) / sizeof(ff[0]); i++)
		if (fflags & ff[i].bit) {
			fprintf(out, "%s\"%s\"", first ? "" : ",", ff[i].name);
			first = 0;
		}
	fputc(']', out);
}

/* Address and port of a role, from the packet: the sender is from_role. */
static void role_endpoint(const struct ws_tcp_ev *t, uint8_t role, const uint32_t **addr,
			  uint16_t *port)
{
	if (role == t->from_role) {
		*addr = t->saddr;
		*port = t->sport;
	} else {
		*addr = t->daddr;
		*port = t->dport;
	}
}

/*
 * The keys every tcp and state line of one packet share, from "ts" on,
 * rendered once per packet: printf dominated a connection storm's profile.
 */
static void tcp_common_json(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
			    const char *ts, char *buf, size_t cap)
{
	const struct ws_tcp_ev *t = &e->tcp;
	char sa[INET6_ADDRSTRLEN_WS], da[INET6_ADDRSTRLEN_WS], fl[16], ifn[80], ctr[280];
	int n;

	ws_addr_str(e->family, t->saddr, sa, sizeof(sa));
	ws_addr_str(e->family, t->daddr, da, sizeof(da));
	ws_tcp_flags_str(t->flags, fl, sizeof(fl));
	ws_json_esc(ifn, sizeof(ifn), ifname);
	n = snprintf(buf, cap, "\"ts\":\"%s\",\"ifname\":%s,\"dir\":\"%s\",\"family\":%u,"
		     "\"saddr\":\"%s\",\"sport\":%u,\"daddr\":\"%s\",\"dport\":%u,\"flags\":\"%s\","
		     "\"seq\":%u,\"ack\":%u", ts, ifn, dir_str(e->dir), e->family, sa, t->sport, da,
		     t->dport, fl, t->seq, t->ack);
	if (n < 0 || (size_t)n >= cap)
		return;
	if (f->container) {
		ws_json_esc(ctr, sizeof(ctr), f->container);
		n += snprintf(buf + n, cap - (size_t)n, ",\"container\":%s,\"netns\":%llu", ctr,
			      (unsigned long long)f->netns);
	}
	if (f->conn && n >= 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, ",\"conn_id\":%u", f->conn);
}

static int print_tcp(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
		     uint64_t real_ns)
{
	const struct ws_tcp_ev *t = &e->tcp;
	FILE *out = f->out;
	struct ws_tcpopts o;
	char ts[48], src[64], dst[64], fl[16], opts[128], common[1024];
	int have_opts = event_tcpopts(e, &o) == 0;

	ws_tcp_flags_str(t->flags, fl, sizeof(fl));
	if (f->json) {
		ws_fmt_time_rfc3339(real_ns, ts, sizeof(ts));
		tcp_common_json(f, e, ifname, ts, common, sizeof(common));
		fprintf(out, "{\"type\":\"tcp\",%s", common);
		fprintf(out, ",\"win\":%u,\"len\":%u,\"ttl\":%u,\"from\":\"%s\"", t->win, t->paylen,
			t->ttl, ws_role_name(t->from_role));
		if (t->nvlan)
			fprintf(out, ",\"vlan\":[%u%s%.0u]", t->vlan_id[0],
				t->nvlan > 1 ? "," : "", t->nvlan > 1 ? t->vlan_id[1] : 0);
		if (have_opts) {
			fputs(",\"options\":{", out);
			int n = 0;
			if (o.has_mss)
				fprintf(out, "%s\"mss\":%u", n++ ? "," : "", o.mss);
			if (o.sack_ok)
				fprintf(out, "%s\"sack_ok\":true", n++ ? "," : "");
			if (o.has_ts)
				fprintf(out, "%s\"tsval\":%u,\"tsecr\":%u", n++ ? "," : "", o.tsval, o.tsecr);
			if (o.has_wscale)
				fprintf(out, "%s\"wscale\":%u", n++ ? "," : "", o.wscale);
			fputc('}', out);
		}
		if (t->note & (WS_NOTE_ACKS_SYN | WS_NOTE_ACKS_FIN))
			fprintf(out, ",\"acks\":\"%s\"",
				!(t->note & WS_NOTE_ACKS_FIN) ? "SYN" :
				!(t->note & WS_NOTE_ACKS_SYN) ? "FIN" : "SYN+FIN");
		if (t->note & WS_NOTE_BAD_ACK)
			fprintf(out, ",\"expected_ack\":%u", t->expected_ack);
		notes_json(out, t->note, t->fflags);
		fputs("}\n", out);

		for (unsigned i = 0; i < t->ntr && i < WS_MAX_TR; i++) {
			uint8_t role, old, nw;
			const uint32_t *addr;
			uint16_t port;
			char a[INET6_ADDRSTRLEN_WS];

			ws_tr_unpack(t->tr, i, &role, &old, &nw);
			role_endpoint(t, role, &addr, &port);
			ws_addr_str(e->family, addr, a, sizeof(a));
			fprintf(out, "{\"type\":\"state\",%s", common);
			fprintf(out, ",\"endpoint\":\"%s\",\"addr\":\"%s\",\"port\":%u,"
				"\"old\":\"%s\",\"new\":\"%s\"}\n", ws_role_name(role), a, port,
				ws_state_name(old), ws_state_name(nw));
		}
		if ((t->fflags & WS_FF_REFUSED) && (t->flags & WS_TCP_RST)) {
			const uint32_t *addr;
			uint16_t port;
			char a[INET6_ADDRSTRLEN_WS];

			role_endpoint(t, WS_SERVER, &addr, &port);
			ws_addr_str(e->family, addr, a, sizeof(a));
			fprintf(out, "{\"type\":\"state\",%s", common);
			fprintf(out, ",\"endpoint\":\"server\",\"addr\":\"%s\",\"port\":%u,"
				"\"old\":\"CLOSED\",\"new\":\"CLOSED\",\"reason\":\"refused\"}\n", a, port);
		}
		return ws_out_status(out);
	}

	ws_fmt_time_text(real_ns, ts, sizeof(ts));
	ws_endpoint_str(e->family, t->saddr, t->sport, src, sizeof(src));
	ws_endpoint_str(e->family, t->daddr, t->dport, dst, sizeof(dst));
	int indent = fprintf(out, "%s %-10s %-3s ", ts, ifname, dir_str(e->dir));
	if (f->conn)                    /* several interfaces: the same connection, one number */
		fprintf(out, "#%u ", f->conn);
	fprintf(out, "%s > %s [%s%s%s] seq %u", src, dst, ws_sgr_flags(f->color, t->flags), fl,
		ws_sgr_end(f->color), t->seq);
	if (t->flags & WS_TCP_ACK) {
		fprintf(out, " ack %u", t->ack);
		if (t->note & WS_NOTE_ACKS_SYN)
			fputs(" (SYN+1)", out);
		else if (t->note & WS_NOTE_ACKS_FIN)
			fputs(" (FIN+1)", out);
	}
	fprintf(out, " win %u", t->win);
	if (have_opts) {
		opts_text(&o, opts, sizeof(opts));
		if (opts[0])
			fprintf(out, " [%s]", opts);
	}
	fprintf(out, " len %u", t->paylen);
	if (t->nvlan)
		fprintf(out, " vlan %u%s%.0u", t->vlan_id[0], t->nvlan > 1 ? "." : "",
			t->nvlan > 1 ? t->vlan_id[1] : 0);
	if (t->note & WS_NOTE_RETRANS)
		fputs(" (retransmission)", out);
	if (t->note & WS_NOTE_REUSED)
		fputs(" (new connection on a reused 4-tuple)", out);
	if (t->note & WS_NOTE_NO_FLOW)
		fputs(" (RST for a connection not seen before)", out);
	if (t->note & WS_NOTE_UNEXPECTED)
		fputs(" (fits no transition in this state)", out);
	fputc('\n', out);
	if (t->note & WS_NOTE_BAD_ACK)
		fprintf(out, "%*s!! ack %u does not acknowledge seq+1 of the SYN/FIN it answers: "
			"expected %u\n", indent, "", t->ack, t->expected_ack);
	if (t->note & WS_NOTE_PICKUP)
		fprintf(out, "%*s(connection picked up mid-stream: its handshake was not seen)\n",
			indent, "");
	if ((t->fflags & WS_FF_GAP))
		fprintf(out, "%*s(gap: events of this connection were lost, states may skip)\n",
			indent, "");
	for (unsigned i = 0; i < t->ntr && i < WS_MAX_TR; i++) {
		uint8_t role, old, nw;
		const uint32_t *addr;
		uint16_t port;

		ws_tr_unpack(t->tr, i, &role, &old, &nw);
		role_endpoint(t, role, &addr, &port);
		ws_endpoint_str(e->family, addr, port, src, sizeof(src));
		fprintf(out, "%*s%s %-22s %s%s%s -> %s%s%s\n", indent, "", ws_role_name(role), src,
			ws_sgr_state(f->color, old), ws_state_name(old), ws_sgr_end(f->color),
			ws_sgr_state(f->color, nw), ws_state_name(nw), ws_sgr_end(f->color));
	}
	if ((t->fflags & WS_FF_REFUSED) && (t->flags & WS_TCP_RST)) {
		const uint32_t *addr;
		uint16_t port;

		role_endpoint(t, WS_SERVER, &addr, &port);
		ws_endpoint_str(e->family, addr, port, src, sizeof(src));
		fprintf(out, "%*sserver %-22s CLOSED (connection refused: nothing listening)\n",
			indent, "", src);
	}
	return ws_out_status(out);
}

static int print_arp(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
		     uint64_t real_ns)
{
	const struct ws_arp_ev *a = &e->arp;
	FILE *out = f->out;
	char ts[48], sha[24], tha[24], spa[16], tpa[16];

	ws_mac_str(a->sha, sha, sizeof(sha));
	ws_mac_str(a->tha, tha, sizeof(tha));
	ws_addr_str(4, &a->spa, spa, sizeof(spa));
	ws_addr_str(4, &a->tpa, tpa, sizeof(tpa));
	if (f->json) {
		ws_fmt_time_rfc3339(real_ns, ts, sizeof(ts));
		fprintf(out, "{\"type\":\"arp\",\"ts\":\"%s\",\"ifname\":", ts);
		ws_json_str(out, ifname);
		fprintf(out, ",\"dir\":\"%s\",\"op\":\"%s\",\"sender_ip\":\"%s\",\"sender_mac\":\"%s\","
			"\"target_ip\":\"%s\",\"target_mac\":\"%s\"",
			dir_str(e->dir), a->op == 1 ? "request" : "reply", spa, sha, tpa, tha);
		if (f->container) {
			fputs(",\"container\":", out);
			ws_json_str(out, f->container);
			fprintf(out, ",\"netns\":%llu", (unsigned long long)f->netns);
		}
		if (a->nvlan)
			fprintf(out, ",\"vlan\":[%u%s%.0u]", a->vlan_id[0],
				a->nvlan > 1 ? "," : "", a->nvlan > 1 ? a->vlan_id[1] : 0);
		fputs("}\n", out);
		return ws_out_status(out);
	}
	ws_fmt_time_text(real_ns, ts, sizeof(ts));
	fprintf(out, "%s %-10s %-3s ARP ", ts, ifname, dir_str(e->dir));
	if (a->op == 1 && a->spa == a->tpa)
		fprintf(out, "announce %s (%s)", spa, sha);
	else if (a->op == 1)
		fprintf(out, "who-has %s tell %s (%s)", tpa, spa, sha);
	else
		fprintf(out, "%s is-at %s", spa, sha);
	if (a->nvlan)
		fprintf(out, " vlan %u", a->vlan_id[a->nvlan - 1]);
	fputc('\n', out);
	return ws_out_status(out);
}

int ws_print_event(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
		   uint64_t real_ns)
{
	switch (e->type) {
	case WS_EV_TCP:
		return print_tcp(f, e, ifname, real_ns);
	case WS_EV_ARP:
		return print_arp(f, e, ifname, real_ns);
	default:
		return 0;
	}
}

int ws_print_timer_close(const struct ws_fmt *f, const struct ws_conn_id *c, uint8_t role,
			 const char *ifname, uint64_t real_ns)
{
	FILE *out = f->out;
	char ts[48], ep[64], a[INET6_ADDRSTRLEN_WS];

	if (f->json) {
		char sa[INET6_ADDRSTRLEN_WS], da[INET6_ADDRSTRLEN_WS];

		ws_fmt_time_rfc3339(real_ns, ts, sizeof(ts));
		ws_addr_str(c->family, c->addr[0], sa, sizeof(sa));
		ws_addr_str(c->family, c->addr[1], da, sizeof(da));
		ws_addr_str(c->family, c->addr[role & 1], a, sizeof(a));
		fprintf(out, "{\"type\":\"state\",\"ts\":\"%s\",\"ifname\":", ts);
		ws_json_str(out, ifname);
		fprintf(out, ",\"family\":%u,\"saddr\":\"%s\",\"sport\":%u,\"daddr\":\"%s\",\"dport\":%u,"
			"\"flags\":\"\",\"seq\":0,\"ack\":0,\"endpoint\":\"%s\",\"addr\":\"%s\",\"port\":%u,"
			"\"old\":\"TIME_WAIT\",\"new\":\"CLOSED\",\"reason\":\"2msl_timer\"}\n",
			c->family, sa, c->port[0], da, c->port[1], ws_role_name(role), a,
			c->port[role & 1]);
		return ws_out_status(out);
	}
	ws_fmt_time_text(real_ns, ts, sizeof(ts));
	ws_endpoint_str(c->family, c->addr[role & 1], c->port[role & 1], ep, sizeof(ep));
	int indent = fprintf(out, "%s %-10s %-3s ", ts, ifname, "");
	(void)indent;
	fprintf(out, "%s %-22s TIME_WAIT -> CLOSED (2MSL timer expired; inferred, no packet)\n",
		ws_role_name(role), ep);
	return ws_out_status(out);
}

int ws_print_stats(const struct ws_fmt *f, const struct ws_totals *t, FILE *text_out)
{
	const uint64_t *s = t->stat;

	if (f->json) {
		fprintf(f->out, "{\"type\":\"stats\",\"packets\":%" PRIu64 ",\"events\":%" PRIu64
			",\"events_received\":%" PRIu64 ",\"ringbuf_drops\":%" PRIu64
			",\"parse_errors\":%" PRIu64 ",\"flows\":%" PRIu64 ",\"flow_insert_failures\":%" PRIu64
			",\"lock_busy\":%" PRIu64 ",\"truncated_frames\":%" PRIu64 "}\n",
			s[WS_STAT_PACKETS], s[WS_STAT_EVENTS], t->received, s[WS_STAT_RB_DROPS],
			s[WS_STAT_PARSE_ERR], s[WS_STAT_FLOWS], s[WS_STAT_FLOW_FAIL],
			s[WS_STAT_LOCK_BUSY], t->truncated);
		return ws_out_status(f->out);
	}
	fprintf(text_out, "wirestate: %" PRIu64 " events (%" PRIu64 " received), %" PRIu64
		" lost (ring buffer full), %" PRIu64 " parse errors, %" PRIu64 " packets, %" PRIu64
		" flows", s[WS_STAT_EVENTS], t->received, s[WS_STAT_RB_DROPS],
		s[WS_STAT_PARSE_ERR] + t->truncated, s[WS_STAT_PACKETS], s[WS_STAT_FLOWS]);
	if (s[WS_STAT_FLOW_FAIL] || s[WS_STAT_LOCK_BUSY])
		fprintf(text_out, ", %" PRIu64 " flow inserts failed, %" PRIu64 " skipped (flow busy)",
			s[WS_STAT_FLOW_FAIL], s[WS_STAT_LOCK_BUSY]);
	fputc('\n', text_out);
	return ws_out_status(text_out);
}
