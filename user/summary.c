// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --summary: one record per connection when it ends (or at exit), like
 * tcplife: endpoints, each side's state path, handshake timings, retransmitted
 * SYNs, duration, time to close, who closed first, why it ended, and the
 * packets and bytes each side sent (the kernel's counters, as of the
 * connection's last event).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "ws_views.h"

enum ws_end_reason ws_conn_reason(const struct ws_vconn *c)
{
	uint8_t cl = c->cur[WS_CLIENT], sv = c->cur[WS_SERVER];
	bool ended = (cl == WS_ST_CLOSED || cl == WS_ST_TIME_WAIT) &&
		     (sv == WS_ST_CLOSED || sv == WS_ST_TIME_WAIT || sv == WS_ST_LISTEN);

	if (ended) {
		if (c->fflags & WS_FF_REFUSED)
			return WS_END_REFUSED;
		if (c->rst_by)
			return WS_END_RST;
		return WS_END_FIN;
	}
	/* open: was the handshake ever completed? */
	if (!c->established && !(c->fflags & WS_FF_MIDSTREAM) &&
	    (cl == WS_ST_SYN_SENT || sv == WS_ST_SYN_RECEIVED || cl == WS_ST_SYN_RECEIVED))
		return WS_END_TIMEOUT;
	return WS_END_OPEN;
}

const char *ws_end_reason_name(enum ws_end_reason r)
{
	switch (r) {
	case WS_END_FIN: return "fin";
	case WS_END_RST: return "rst";
	case WS_END_REFUSED: return "refused";
	case WS_END_TIMEOUT: return "timeout";
	case WS_END_OPEN: return "open";
	case WS_END_EVICTED: return "evicted";
	default: return "none";
	}
}


static void endpoint(const struct ws_vconn *c, uint8_t role, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN_WS];

	ws_addr_str(c->id.family, c->id.addr[role], a, sizeof(a));
	snprintf(buf, len, c->id.family == 6 ? "[%s]:%u" : "%s:%u", a, c->id.port[role]);
}

/* The states a side went through; the current state when it never changed. */
static int path_of(const struct ws_vconn *c, uint8_t role, uint8_t *out)
{
	if (!c->npath[role]) {
		out[0] = c->cur[role];
		return 1;
	}
	memcpy(out, c->path[role], c->npath[role]);
	return c->npath[role];
}

static const char *closer_name(const struct ws_vconn *c)
{
	if (c->fflags & WS_FF_SIMCLOSE)
		return "both";
	if (!c->first_closer)
		return NULL;
	return ws_role_name((uint8_t)(c->first_closer - 1));
}

static uint64_t us_between(uint64_t a, uint64_t b)
{
	return b > a ? (b - a) / 1000 : 0;
}

static uint64_t end_time(const struct ws_vconn *c)
{
	return c->t_end ? c->t_end : c->t_last;
}

static void json_path(FILE *out, const struct ws_vconn *c, uint8_t role)
{
	uint8_t p[WS_PATH_MAX];
	int n = path_of(c, role, p);

	fputc('[', out);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s\"%s\"", i ? "," : "",
			p[i] == WS_PATH_GAP ? "..." : ws_state_name(p[i]));
	fputc(']', out);
}

static void json_u64_or_null(FILE *out, const char *key, bool known, uint64_t v)
{
	if (known)
		fprintf(out, ",\"%s\":%" PRIu64, key, v);
	else
		fprintf(out, ",\"%s\":null", key);
}

static void conn_flags_json(FILE *out, uint8_t ff)
{
	static const struct { uint8_t bit; const char *name; } m[] = {
		{ WS_FF_MIDSTREAM, "midstream" }, { WS_FF_SIMOPEN, "simultaneous_open" },
		{ WS_FF_SIMCLOSE, "simultaneous_close" }, { WS_FF_GAP, "gap" },
		{ WS_FF_REFUSED, "refused" },
	};
	int n = 0;

	fputs(",\"conn\":[", out);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (ff & m[i].bit)
			fprintf(out, "%s\"%s\"", n++ ? "," : "", m[i].name);
	fputc(']', out);
}

static int summary_json(const struct ws_fmt *f, const struct ws_vconn *c, enum ws_end_reason why)
{
	FILE *out = f->out;
	char ts[48], start[48], ca[INET6_ADDRSTRLEN_WS], sa[INET6_ADDRSTRLEN_WS];
	const char *closer = closer_name(c);
	bool closed = why == WS_END_FIN || why == WS_END_RST;

	ws_fmt_time_rfc3339(end_time(c), ts, sizeof(ts));
	ws_fmt_time_rfc3339(c->t_first, start, sizeof(start));
	ws_addr_str(c->id.family, c->id.addr[WS_CLIENT], ca, sizeof(ca));
	ws_addr_str(c->id.family, c->id.addr[WS_SERVER], sa, sizeof(sa));
	fprintf(out, "{\"type\":\"summary\",\"ts\":\"%s\",\"start\":\"%s\",\"ifname\":\"", ts, start);
	for (const char *s = c->ifname; *s; s++)      /* interface names hold no quotes, but... */
		fprintf(out, (*s == '"' || *s == '\\') ? "\\%c" : "%c", *s);
	fprintf(out, "\",\"family\":%u,\"client_addr\":\"%s\",\"client_port\":%u,"
		"\"server_addr\":\"%s\",\"server_port\":%u,\"reason\":\"%s\"",
		c->id.family, ca, c->id.port[WS_CLIENT], sa, c->id.port[WS_SERVER],
		ws_end_reason_name(why));
	if (closer)
		fprintf(out, ",\"closed_by\":\"%s\"", closer);
	else
		fputs(",\"closed_by\":null", out);
	fputs(",\"client_states\":", out);
	json_path(out, c, WS_CLIENT);
	fputs(",\"server_states\":", out);
	json_path(out, c, WS_SERVER);
	json_u64_or_null(out, "syn_to_synack_us", c->t_syn && c->t_synack,
			 us_between(c->t_syn, c->t_synack));
	json_u64_or_null(out, "synack_to_ack_us", c->t_synack && c->t_ack,
			 us_between(c->t_synack, c->t_ack));
	fprintf(out, ",\"syn_retrans\":%u,\"synack_retrans\":%u,\"fin_retrans\":%u",
		c->syn_retrans, c->synack_retrans, c->fin_retrans);
	fprintf(out, ",\"duration_us\":%" PRIu64, us_between(c->t_first, end_time(c)));
	json_u64_or_null(out, "close_us", closed && c->t_fin, us_between(c->t_fin, end_time(c)));
	fprintf(out, ",\"client_pkts\":%" PRIu64 ",\"client_bytes\":%" PRIu64
		",\"server_pkts\":%" PRIu64 ",\"server_bytes\":%" PRIu64 ",\"events\":%u",
		(uint64_t)c->pkts[WS_CLIENT], (uint64_t)c->bytes[WS_CLIENT],
		(uint64_t)c->pkts[WS_SERVER], (uint64_t)c->bytes[WS_SERVER], c->nevents);
	conn_flags_json(out, c->fflags);
	fputs("}\n", out);
	return ws_out_status(out);
}

static void text_path(FILE *out, bool color, const struct ws_vconn *c, uint8_t role)
{
	uint8_t p[WS_PATH_MAX];
	int n = path_of(c, role, p);

	for (int i = 0; i < n; i++) {
		if (i)
			fputc('>', out);
		if (p[i] == WS_PATH_GAP)
			fputs("...", out);
		else
			fprintf(out, "%s%s%s", ws_sgr_state(color, p[i]), ws_state_name(p[i]),
				ws_sgr_end(color));
	}
}

static void text_us(FILE *out, bool known, uint64_t us)
{
	if (known)
		fprintf(out, "%" PRIu64 " us", us);
	else
		fputs("-", out);
}

static const char *reason_text(enum ws_end_reason why)
{
	switch (why) {
	case WS_END_FIN: return "closed";
	case WS_END_RST: return "reset";
	case WS_END_REFUSED: return "refused";
	case WS_END_TIMEOUT: return "handshake not completed at exit (timeout)";
	case WS_END_OPEN: return "still open at exit";
	case WS_END_EVICTED: return "evicted while open (connection table full)";
	default: return "?";
	}
}

int ws_print_summary(const struct ws_fmt *f, const struct ws_vconn *c, enum ws_end_reason why)
{
	FILE *out = f->out;
	char ts[48], cl[64], sv[64];
	const char *closer = closer_name(c);
	uint64_t dur = end_time(c) > c->t_first ? end_time(c) - c->t_first : 0;
	bool closed = why == WS_END_FIN || why == WS_END_RST;

	if (f->json)
		return summary_json(f, c, why);
	ws_fmt_time_text(end_time(c), ts, sizeof(ts));
	endpoint(c, WS_CLIENT, cl, sizeof(cl));
	endpoint(c, WS_SERVER, sv, sizeof(sv));
	bool warn = f->color && why != WS_END_FIN && why != WS_END_OPEN;

	fprintf(out, "%s %-10s %s > %s %s%s%s", ts, c->ifname, cl, sv, ws_sgr_warn(warn),
		reason_text(why), ws_sgr_end(warn));
	if (why == WS_END_RST && c->rst_by)
		fprintf(out, " by the %s", ws_role_name((uint8_t)(c->rst_by - 1)));
	else if (why == WS_END_FIN && closer)
		fprintf(out, ", %s", !strcmp(closer, "both") ? "simultaneous close" :
			!strcmp(closer, "client") ? "client closed first" : "server closed first");
	fprintf(out, ", duration %" PRIu64 ".%06" PRIu64 " s\n", (uint64_t)(dur / 1000000000u),
		(uint64_t)(dur % 1000000000u / 1000));

	fputs("    client  ", out);
	text_path(out, f->color, c, WS_CLIENT);
	fputs("\n    server  ", out);
	text_path(out, f->color, c, WS_SERVER);
	fputs("\n    handshake  SYN->SYN-ACK ", out);
	text_us(out, c->t_syn && c->t_synack, us_between(c->t_syn, c->t_synack));
	fputs(", SYN-ACK->ACK ", out);
	text_us(out, c->t_synack && c->t_ack, us_between(c->t_synack, c->t_ack));
	fprintf(out, "; retransmitted: SYN %u, SYN-ACK %u", c->syn_retrans, c->synack_retrans);
	if (c->fflags & WS_FF_MIDSTREAM)
		fputs(" (picked up mid-stream: handshake not seen)", out);
	if (c->fflags & WS_FF_SIMOPEN)
		fputs(" (simultaneous open)", out);
	fputs("\n    close  ", out);
	if (closer)
		fprintf(out, "first by %s", !strcmp(closer, "both") ? "both (simultaneous)" : closer);
	else
		fputs("-", out);
	fputs(", FIN->last ACK ", out);
	text_us(out, closed && c->t_fin, us_between(c->t_fin, end_time(c)));
	if (c->fin_retrans)
		fprintf(out, "; retransmitted FIN %u", c->fin_retrans);
	fputs("\n    sent ", out);
	for (uint8_t role = WS_CLIENT; role <= WS_SERVER; role++) {
		uint64_t p = c->pkts[role], b = c->bytes[role];

		fprintf(out, "%s %s %" PRIu64 " packet%s %" PRIu64 " byte%s", role ? "," : "",
			ws_role_name(role), p, p == 1 ? "" : "s", b, b == 1 ? "" : "s");
	}
	if (c->fflags & WS_FF_GAP)
		fputs(" (gap: events were lost, states may skip)", out);
	fputc('\n', out);
	return ws_out_status(out);
}
