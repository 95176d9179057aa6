// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Turning events into the lines people read (text) and programs read (JSON). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sbuf.h"
#include "ws_user.h"

/* HH:MM:SS.uuuuuu, local time */
static void sb_time_text(struct sbuf *sb, uint64_t real_ns)
{
	time_t sec = (time_t)(real_ns / 1000000000ull);
	struct tm tm;
	char t[8];

	localtime_r(&sec, &tm);
	t[0] = (char)('0' + tm.tm_hour / 10 % 10);
	t[1] = (char)('0' + tm.tm_hour % 10);
	t[2] = ':';
	t[3] = (char)('0' + tm.tm_min / 10 % 10);
	t[4] = (char)('0' + tm.tm_min % 10);
	t[5] = ':';
	t[6] = (char)('0' + tm.tm_sec / 10 % 10);
	t[7] = (char)('0' + tm.tm_sec % 10);
	sb_mem(sb, t, sizeof(t));
	sb_ch(sb, '.');
	sb_u32_w(sb, (uint32_t)(real_ns % 1000000000ull / 1000), 6);
}

void ws_fmt_time_text(uint64_t real_ns, char *buf, size_t len)
{
	struct sbuf sb;

	sb_init(&sb, buf, len, NULL);
	sb_time_text(&sb, real_ns);
	sb_cstr(&sb);
}

/*
 * UTC, so the date part can be reused until the second changes: in a
 * connection storm gmtime+strftime were a good part of each JSON event.
 */
static void sb_time_rfc3339(struct sbuf *sb, uint64_t real_ns)
{
	static __thread time_t last = -1;
	static __thread char date[32];
	static __thread size_t dlen;
	time_t sec = (time_t)(real_ns / 1000000000ull);

	if (sec != last) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		dlen = strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		last = sec;
	}
	sb_mem(sb, date, dlen);
	sb_ch(sb, '.');
	sb_u32_w(sb, (uint32_t)(real_ns % 1000000000ull / 1000), 6);
	sb_ch(sb, 'Z');
}

void ws_fmt_time_rfc3339(uint64_t real_ns, char *buf, size_t len)
{
	struct sbuf sb;

	sb_init(&sb, buf, len, NULL);
	sb_time_rfc3339(&sb, real_ns);
	sb_cstr(&sb);
}

/*
 * A JSON string (RFC 8259: UTF-8).  Interface names are bytes, not text: a
 * byte that does not start well-formed UTF-8 is written as \u00XX.
 */
/* The JSON string for str, quotes included, into dst (cap > 0); truncated to fit. */
size_t ws_json_esc(char *dst, size_t cap, const char *str)
{
	struct sbuf sb;

	if (!cap)
		return 0;
	sb_init(&sb, dst, cap, NULL);
	sb_json_esc(&sb, str, cap - 1);
	sb_cstr(&sb);
	return sb.len;
}

void ws_json_str(FILE *o, const char *str)
{
	char buf[1024];

	fwrite(buf, 1, ws_json_esc(buf, sizeof(buf), str), o);
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

/* " [mss 1460,sackOK,TS val 1 ecr 0,wscale 7]", nothing when no option is known */
static void opts_text(struct sbuf *sb, const struct ws_tcpopts *o)
{
	const char *sep = " [";

	if (o->has_mss) {
		sb_str(sb, sep);
		sb_lit(sb, "mss ");
		sb_u32(sb, o->mss);
		sep = ",";
	}
	if (o->sack_ok) {
		sb_str(sb, sep);
		sb_lit(sb, "sackOK");
		sep = ",";
	}
	if (o->nsack) {
		sb_str(sb, sep);
		sb_lit(sb, "sack ");
		sb_u32(sb, o->nsack);
		sep = ",";
	}
	if (o->has_ts) {
		sb_str(sb, sep);
		sb_lit(sb, "TS val ");
		sb_u32(sb, o->tsval);
		sb_lit(sb, " ecr ");
		sb_u32(sb, o->tsecr);
		sep = ",";
	}
	if (o->has_wscale) {
		sb_str(sb, sep);
		sb_lit(sb, "wscale ");
		sb_u32(sb, o->wscale);
		sep = ",";
	}
	if (sep[0] == ',')
		sb_ch(sb, ']');
}

static void notes_json(struct sbuf *sb, uint8_t note, uint8_t fflags)
{
	static const struct { uint8_t bit; const char *name; } notes[] = {
		{ WS_NOTE_RETRANS, "\"retransmission\"" }, { WS_NOTE_BAD_ACK, "\"bad_ack\"" },
		{ WS_NOTE_UNEXPECTED, "\"unexpected\"" }, { WS_NOTE_NO_FLOW, "\"no_flow\"" },
		{ WS_NOTE_PICKUP, "\"midstream_pickup\"" }, { WS_NOTE_REUSED, "\"reused_tuple\"" },
	}, ff[] = {
		{ WS_FF_MIDSTREAM, "\"midstream\"" }, { WS_FF_SIMOPEN, "\"simultaneous_open\"" },
		{ WS_FF_SIMCLOSE, "\"simultaneous_close\"" }, { WS_FF_GAP, "\"gap\"" },
		{ WS_FF_REFUSED, "\"refused\"" },
	};
	bool first = true;

	sb_lit(sb, ",\"notes\":[");
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (note & notes[i].bit) {
			if (!first)
				sb_ch(sb, ',');
			sb_str(sb, notes[i].name);
			first = false;
		}
	sb_lit(sb, "],\"conn\":[");
	first = true;
	for (size_t i = 0; i < sizeof(ff) / sizeof(ff[0]); i++)
		if (fflags & ff[i].bit) {
			if (!first)
				sb_ch(sb, ',');
			sb_str(sb, ff[i].name);
			first = false;
		}
	sb_ch(sb, ']');
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

/* "%-*s" of an endpoint */
static void endpoint_left(struct sbuf *sb, int family, const uint32_t *addr, uint16_t port,
			  size_t width)
{
	size_t start = sb_pos(sb), n;

	sb_endpoint(sb, family, addr, port);
	n = sb_pos(sb) - start;
	if (n < width)
		sb_pad(sb, width - n);
}

/* ",\"vlan\":[10,20]"; "[10,]" when the inner id is 0 ("%.0u" printed 0 as nothing) */
static void vlan_json(struct sbuf *sb, uint8_t nvlan, const uint16_t *id)
{
	sb_lit(sb, ",\"vlan\":[");
	sb_u32(sb, id[0]);
	if (nvlan > 1) {
		sb_ch(sb, ',');
		if (id[1])
			sb_u32(sb, id[1]);
	}
	sb_ch(sb, ']');
}

/* "ts ifname dir ", the start of a text line; returns its length, the indent below it */
static size_t text_head(struct sbuf *sb, uint64_t real_ns, const char *ifname, const char *dir)
{
	size_t start = sb_pos(sb);

	sb_time_text(sb, real_ns);
	sb_ch(sb, ' ');
	sb_str_left(sb, ifname, 10);
	sb_ch(sb, ' ');
	sb_str_left(sb, dir, 3);
	sb_ch(sb, ' ');
	return sb_pos(sb) - start;
}

/* The event's lines leave in one fwrite; has writing to its stream failed? */
static int sb_done(struct sbuf *sb)
{
	sb_flush(sb);
	return ws_out_status(sb->sink);
}

/*
 * The keys every tcp and state line of one packet share, from "ts" on,
 * rendered once per packet: printf dominated a connection storm's profile.
 * The interface name is cut to 79 bytes of JSON, the container's to 279.
 */
static void tcp_common_json(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
			    uint64_t real_ns, struct sbuf *sb)
{
	const struct ws_tcp_ev *t = &e->tcp;
	char fl[16];

	ws_tcp_flags_str(t->flags, fl, sizeof(fl));
	sb_lit(sb, "\"ts\":\"");
	sb_time_rfc3339(sb, real_ns);
	sb_lit(sb, "\",\"ifname\":");
	sb_json_esc(sb, ifname, 80 - 1);
	sb_lit(sb, ",\"dir\":\"");
	sb_str(sb, dir_str(e->dir));
	sb_lit(sb, "\",\"family\":");
	sb_u32(sb, e->family);
	sb_lit(sb, ",\"saddr\":\"");
	sb_addr(sb, e->family, t->saddr);
	sb_lit(sb, "\",\"sport\":");
	sb_u32(sb, t->sport);
	sb_lit(sb, ",\"daddr\":\"");
	sb_addr(sb, e->family, t->daddr);
	sb_lit(sb, "\",\"dport\":");
	sb_u32(sb, t->dport);
	sb_lit(sb, ",\"flags\":\"");
	sb_str(sb, fl);
	sb_lit(sb, "\",\"seq\":");
	sb_u32(sb, t->seq);
	sb_lit(sb, ",\"ack\":");
	sb_u32(sb, t->ack);
	if (f->container) {
		sb_lit(sb, ",\"container\":");
		sb_json_esc(sb, f->container, 280 - 1);
		sb_lit(sb, ",\"netns\":");
		sb_u64(sb, f->netns);
	}
	if (f->conn) {
		sb_lit(sb, ",\"conn_id\":");
		sb_u32(sb, f->conn);
	}
}

static void opts_json(struct sbuf *sb, const struct ws_tcpopts *o)
{
	const char *sep = "";

	sb_lit(sb, ",\"options\":{");
	if (o->has_mss) {
		sb_lit(sb, "\"mss\":");
		sb_u32(sb, o->mss);
		sep = ",";
	}
	if (o->sack_ok) {
		sb_str(sb, sep);
		sb_lit(sb, "\"sack_ok\":true");
		sep = ",";
	}
	if (o->has_ts) {
		sb_str(sb, sep);
		sb_lit(sb, "\"tsval\":");
		sb_u32(sb, o->tsval);
		sb_lit(sb, ",\"tsecr\":");
		sb_u32(sb, o->tsecr);
		sep = ",";
	}
	if (o->has_wscale) {
		sb_str(sb, sep);
		sb_lit(sb, "\"wscale\":");
		sb_u32(sb, o->wscale);
	}
	sb_ch(sb, '}');
}

static void print_tcp_json(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
			   uint64_t real_ns, const struct ws_tcpopts *o, bool have_opts,
			   struct sbuf *sb)
{
	const struct ws_tcp_ev *t = &e->tcp;
	char cbuf[1024];
	struct sbuf common;

	sb_init(&common, cbuf, sizeof(cbuf), NULL);
	tcp_common_json(f, e, ifname, real_ns, &common);

	sb_lit(sb, "{\"type\":\"tcp\",");
	sb_mem(sb, common.p, common.len);
	sb_lit(sb, ",\"win\":");
	sb_u32(sb, t->win);
	sb_lit(sb, ",\"len\":");
	sb_u32(sb, t->paylen);
	sb_lit(sb, ",\"ttl\":");
	sb_u32(sb, t->ttl);
	sb_lit(sb, ",\"from\":\"");
	sb_str(sb, ws_role_name(t->from_role));
	sb_ch(sb, '"');
	if (t->nvlan)
		vlan_json(sb, t->nvlan, t->vlan_id);
	if (have_opts)
		opts_json(sb, o);
	if (t->note & (WS_NOTE_ACKS_SYN | WS_NOTE_ACKS_FIN)) {
		sb_lit(sb, ",\"acks\":\"");
		sb_str(sb, !(t->note & WS_NOTE_ACKS_FIN) ? "SYN" :
			   !(t->note & WS_NOTE_ACKS_SYN) ? "FIN" : "SYN+FIN");
		sb_ch(sb, '"');
	}
	if (t->note & WS_NOTE_BAD_ACK) {
		sb_lit(sb, ",\"expected_ack\":");
		sb_u32(sb, t->expected_ack);
	}
	notes_json(sb, t->note, t->fflags);
	sb_lit(sb, "}\n");

	for (unsigned i = 0; i < t->ntr && i < WS_MAX_TR; i++) {
		uint8_t role, old, nw;
		const uint32_t *addr;
		uint16_t port;

		ws_tr_unpack(t->tr, i, &role, &old, &nw);
		role_endpoint(t, role, &addr, &port);
		sb_lit(sb, "{\"type\":\"state\",");
		sb_mem(sb, common.p, common.len);
		sb_lit(sb, ",\"endpoint\":\"");
		sb_str(sb, ws_role_name(role));
		sb_lit(sb, "\",\"addr\":\"");
		sb_addr(sb, e->family, addr);
		sb_lit(sb, "\",\"port\":");
		sb_u32(sb, port);
		sb_lit(sb, ",\"old\":\"");
		sb_str(sb, ws_state_name(old));
		sb_lit(sb, "\",\"new\":\"");
		sb_str(sb, ws_state_name(nw));
		sb_lit(sb, "\"}\n");
	}
	if ((t->fflags & WS_FF_REFUSED) && (t->flags & WS_TCP_RST)) {
		const uint32_t *addr;
		uint16_t port;

		role_endpoint(t, WS_SERVER, &addr, &port);
		sb_lit(sb, "{\"type\":\"state\",");
		sb_mem(sb, common.p, common.len);
		sb_lit(sb, ",\"endpoint\":\"server\",\"addr\":\"");
		sb_addr(sb, e->family, addr);
		sb_lit(sb, "\",\"port\":");
		sb_u32(sb, port);
		sb_lit(sb, ",\"old\":\"CLOSED\",\"new\":\"CLOSED\",\"reason\":\"refused\"}\n");
	}
}

static void print_tcp_text(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
			   uint64_t real_ns, const struct ws_tcpopts *o, bool have_opts,
			   struct sbuf *sb)
{
	const struct ws_tcp_ev *t = &e->tcp;
	char fl[16];
	size_t indent = text_head(sb, real_ns, ifname, dir_str(e->dir));

	ws_tcp_flags_str(t->flags, fl, sizeof(fl));
	if (f->conn) {                  /* several interfaces: the same connection, one number */
		sb_ch(sb, '#');
		sb_u32(sb, f->conn);
		sb_ch(sb, ' ');
	}
	sb_endpoint(sb, e->family, t->saddr, t->sport);
	sb_lit(sb, " > ");
	sb_endpoint(sb, e->family, t->daddr, t->dport);
	sb_lit(sb, " [");
	sb_str(sb, ws_sgr_flags(f->color, t->flags));
	sb_str(sb, fl);
	sb_str(sb, ws_sgr_end(f->color));
	sb_lit(sb, "] seq ");
	sb_u32(sb, t->seq);
	if (t->flags & WS_TCP_ACK) {
		sb_lit(sb, " ack ");
		sb_u32(sb, t->ack);
		if (t->note & WS_NOTE_ACKS_SYN)
			sb_lit(sb, " (SYN+1)");
		else if (t->note & WS_NOTE_ACKS_FIN)
			sb_lit(sb, " (FIN+1)");
	}
	sb_lit(sb, " win ");
	sb_u32(sb, t->win);
	if (have_opts)
		opts_text(sb, o);
	sb_lit(sb, " len ");
	sb_u32(sb, t->paylen);
	if (t->nvlan) {                 /* "vlan 10.20"; "vlan 10." when the inner id is 0 */
		sb_lit(sb, " vlan ");
		sb_u32(sb, t->vlan_id[0]);
		if (t->nvlan > 1) {
			sb_ch(sb, '.');
			if (t->vlan_id[1])
				sb_u32(sb, t->vlan_id[1]);
		}
	}
	if (t->note & WS_NOTE_RETRANS)
		sb_lit(sb, " (retransmission)");
	if (t->note & WS_NOTE_REUSED)
		sb_lit(sb, " (new connection on a reused 4-tuple)");
	if (t->note & WS_NOTE_NO_FLOW)
		sb_lit(sb, " (RST for a connection not seen before)");
	if (t->note & WS_NOTE_UNEXPECTED)
		sb_lit(sb, " (fits no transition in this state)");
	sb_ch(sb, '\n');
	if (t->note & WS_NOTE_BAD_ACK) {
		sb_pad(sb, indent);
		sb_lit(sb, "!! ack ");
		sb_u32(sb, t->ack);
		sb_lit(sb, " does not acknowledge seq+1 of the SYN/FIN it answers: expected ");
		sb_u32(sb, t->expected_ack);
		sb_ch(sb, '\n');
	}
	if (t->note & WS_NOTE_PICKUP) {
		sb_pad(sb, indent);
		sb_lit(sb, "(connection picked up mid-stream: its handshake was not seen)\n");
	}
	if ((t->fflags & WS_FF_GAP)) {
		sb_pad(sb, indent);
		sb_lit(sb, "(gap: events of this connection were lost, states may skip)\n");
	}
	for (unsigned i = 0; i < t->ntr && i < WS_MAX_TR; i++) {
		uint8_t role, old, nw;
		const uint32_t *addr;
		uint16_t port;

		ws_tr_unpack(t->tr, i, &role, &old, &nw);
		role_endpoint(t, role, &addr, &port);
		sb_pad(sb, indent);
		sb_str(sb, ws_role_name(role));
		sb_ch(sb, ' ');
		endpoint_left(sb, e->family, addr, port, 22);
		sb_ch(sb, ' ');
		sb_str(sb, ws_sgr_state(f->color, old));
		sb_str(sb, ws_state_name(old));
		sb_str(sb, ws_sgr_end(f->color));
		sb_lit(sb, " -> ");
		sb_str(sb, ws_sgr_state(f->color, nw));
		sb_str(sb, ws_state_name(nw));
		sb_str(sb, ws_sgr_end(f->color));
		sb_ch(sb, '\n');
	}
	if ((t->fflags & WS_FF_REFUSED) && (t->flags & WS_TCP_RST)) {
		const uint32_t *addr;
		uint16_t port;

		role_endpoint(t, WS_SERVER, &addr, &port);
		sb_pad(sb, indent);
		sb_lit(sb, "server ");
		endpoint_left(sb, e->family, addr, port, 22);
		sb_lit(sb, " CLOSED (connection refused: nothing listening)\n");
	}
}

static int print_tcp(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
		     uint64_t real_ns)
{
	struct ws_tcpopts o;
	bool have_opts = event_tcpopts(e, &o) == 0;
	char buf[SB_EVENT_CAP];
	struct sbuf sb;

	sb_init(&sb, buf, sizeof(buf), f->out);
	if (f->json)
		print_tcp_json(f, e, ifname, real_ns, &o, have_opts, &sb);
	else
		print_tcp_text(f, e, ifname, real_ns, &o, have_opts, &sb);
	return sb_done(&sb);
}

static int print_arp(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
		     uint64_t real_ns)
{
	const struct ws_arp_ev *a = &e->arp;
	char buf[SB_EVENT_CAP];
	struct sbuf sb;

	sb_init(&sb, buf, sizeof(buf), f->out);
	if (f->json) {
		sb_lit(&sb, "{\"type\":\"arp\",\"ts\":\"");
		sb_time_rfc3339(&sb, real_ns);
		sb_lit(&sb, "\",\"ifname\":");
		sb_json_esc(&sb, ifname, 1024 - 1);
		sb_lit(&sb, ",\"dir\":\"");
		sb_str(&sb, dir_str(e->dir));
		sb_lit(&sb, "\",\"op\":\"");
		sb_str(&sb, a->op == 1 ? "request" : "reply");
		sb_lit(&sb, "\",\"sender_ip\":\"");
		sb_ipv4(&sb, &a->spa);
		sb_lit(&sb, "\",\"sender_mac\":\"");
		sb_mac(&sb, a->sha);
		sb_lit(&sb, "\",\"target_ip\":\"");
		sb_ipv4(&sb, &a->tpa);
		sb_lit(&sb, "\",\"target_mac\":\"");
		sb_mac(&sb, a->tha);
		sb_ch(&sb, '"');
		if (f->container) {
			sb_lit(&sb, ",\"container\":");
			sb_json_esc(&sb, f->container, 1024 - 1);
			sb_lit(&sb, ",\"netns\":");
			sb_u64(&sb, f->netns);
		}
		if (a->nvlan)
			vlan_json(&sb, a->nvlan, a->vlan_id);
		sb_lit(&sb, "}\n");
		return sb_done(&sb);
	}
	text_head(&sb, real_ns, ifname, dir_str(e->dir));
	sb_lit(&sb, "ARP ");
	if (a->op == 1 && a->spa == a->tpa) {
		sb_lit(&sb, "announce ");
		sb_ipv4(&sb, &a->spa);
		sb_lit(&sb, " (");
		sb_mac(&sb, a->sha);
		sb_ch(&sb, ')');
	} else if (a->op == 1) {
		sb_lit(&sb, "who-has ");
		sb_ipv4(&sb, &a->tpa);
		sb_lit(&sb, " tell ");
		sb_ipv4(&sb, &a->spa);
		sb_lit(&sb, " (");
		sb_mac(&sb, a->sha);
		sb_ch(&sb, ')');
	} else {
		sb_ipv4(&sb, &a->spa);
		sb_lit(&sb, " is-at ");
		sb_mac(&sb, a->sha);
	}
	if (a->nvlan) {
		sb_lit(&sb, " vlan ");
		sb_u32(&sb, a->vlan_id[a->nvlan - 1]);
	}
	sb_ch(&sb, '\n');
	return sb_done(&sb);
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
	char buf[SB_EVENT_CAP];
	struct sbuf sb;

	sb_init(&sb, buf, sizeof(buf), f->out);
	if (f->json) {
		sb_lit(&sb, "{\"type\":\"state\",\"ts\":\"");
		sb_time_rfc3339(&sb, real_ns);
		sb_lit(&sb, "\",\"ifname\":");
		sb_json_esc(&sb, ifname, 1024 - 1);
		sb_lit(&sb, ",\"family\":");
		sb_u32(&sb, c->family);
		sb_lit(&sb, ",\"saddr\":\"");
		sb_addr(&sb, c->family, c->addr[0]);
		sb_lit(&sb, "\",\"sport\":");
		sb_u32(&sb, c->port[0]);
		sb_lit(&sb, ",\"daddr\":\"");
		sb_addr(&sb, c->family, c->addr[1]);
		sb_lit(&sb, "\",\"dport\":");
		sb_u32(&sb, c->port[1]);
		sb_lit(&sb, ",\"flags\":\"\",\"seq\":0,\"ack\":0,\"endpoint\":\"");
		sb_str(&sb, ws_role_name(role));
		sb_lit(&sb, "\",\"addr\":\"");
		sb_addr(&sb, c->family, c->addr[role & 1]);
		sb_lit(&sb, "\",\"port\":");
		sb_u32(&sb, c->port[role & 1]);
		sb_lit(&sb, ",\"old\":\"TIME_WAIT\",\"new\":\"CLOSED\",\"reason\":\"2msl_timer\"}\n");
		return sb_done(&sb);
	}
	text_head(&sb, real_ns, ifname, "");
	sb_str(&sb, ws_role_name(role));
	sb_ch(&sb, ' ');
	endpoint_left(&sb, c->family, c->addr[role & 1], c->port[role & 1], 22);
	sb_lit(&sb, " TIME_WAIT -> CLOSED (2MSL timer expired; inferred, no packet)\n");
	return sb_done(&sb);
}

int ws_print_stats(const struct ws_fmt *f, const struct ws_totals *t, FILE *text_out)
{
	const uint64_t *s = t->stat;
	/* the programs never delete a flow: every insert no longer held was evicted */
	bool counted = t->flows_counted;
	uint64_t held = t->flows_held;
	uint64_t evicted = counted && s[WS_STAT_FLOWS] > held ? s[WS_STAT_FLOWS] - held : 0;

	if (f->json) {
		char hs[24] = "null", es[24] = "null";

		if (counted) {
			snprintf(hs, sizeof(hs), "%" PRIu64, held);
			snprintf(es, sizeof(es), "%" PRIu64, evicted);
		}
		fprintf(f->out, "{\"type\":\"stats\",\"packets\":%" PRIu64 ",\"events\":%" PRIu64
			",\"events_received\":%" PRIu64 ",\"ringbuf_drops\":%" PRIu64
			",\"parse_errors\":%" PRIu64 ",\"flows\":%" PRIu64 ",\"flows_held\":%s"
			",\"flows_evicted\":%s,\"flow_table_size\":%" PRIu64
			",\"flow_insert_failures\":%" PRIu64
			",\"lock_busy\":%" PRIu64 ",\"truncated_frames\":%" PRIu64
			",\"time_wait_untracked\":%" PRIu64 "}\n",
			s[WS_STAT_PACKETS], s[WS_STAT_EVENTS], t->received, s[WS_STAT_RB_DROPS],
			s[WS_STAT_PARSE_ERR], s[WS_STAT_FLOWS], hs, es, t->flows_max,
			s[WS_STAT_FLOW_FAIL], s[WS_STAT_LOCK_BUSY], t->truncated, t->tw_untracked);
		if (ws_out_status(f->out))
			return ws_out_status(f->out);
		/* and, like tcpdump's, the summary for people on stderr: also there with -j >/dev/null */
	}
	fprintf(text_out, "wirestate: %" PRIu64 " events (%" PRIu64 " received), %" PRIu64
		" lost (ring buffer full), %" PRIu64 " parse errors, %" PRIu64 " packets, %" PRIu64
		" flows", s[WS_STAT_EVENTS], t->received, s[WS_STAT_RB_DROPS],
		s[WS_STAT_PARSE_ERR] + t->truncated, s[WS_STAT_PACKETS], s[WS_STAT_FLOWS]);
	if (evicted)
		fprintf(text_out, ", %" PRIu64 " evicted (the flow table holds %" PRIu64 "; --flows)",
			evicted, t->flows_max);
	if (s[WS_STAT_FLOW_FAIL] || s[WS_STAT_LOCK_BUSY])
		fprintf(text_out, ", %" PRIu64 " flow inserts failed, %" PRIu64 " skipped (flow busy)",
			s[WS_STAT_FLOW_FAIL], s[WS_STAT_LOCK_BUSY]);
	if (t->tw_untracked)
		fprintf(text_out, ", %" PRIu64 " TIME_WAIT not followed to CLOSED (%" PRIu64
			" were pending; --time-wait-max)", t->tw_untracked, t->tw_max);
	fputc('\n', text_out);
	return ws_out_status(text_out);
}
