// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --ladder: a sequence diagram per connection, printed when it ends.
 *
 *   client 172.17.0.2:36922                           server 172.17.0.3:6666
 *   CLOSED                                            LISTEN
 *   SYN_SENT      ---- [S] seq 100 ---------------->                 +0.000000
 *                 <--- [S.] seq 300 ack 101 --------  SYN_RECEIVED   +0.000055
 *   ESTABLISHED   ---- [.] ack 301 ---------------->  ESTABLISHED    +0.000066
 *
 * One arrow per control packet (every event of the connection), the client's
 * state changes on the left, the server's on the right, written on the row of
 * the packet that caused them; a packet that moves one side twice takes two
 * rows.  The time on the right is counted from the connection's first packet.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ws_views.h"

#define LADDER_ROWS (WS_LADDER_HEAD + WS_LADDER_TAIL)
#define STATE_W 14                 /* "SYN_RECEIVED" and two spaces */
#define ARROW_MIN 36

void ws_ladder_add(struct ws_vconn *c, const struct ws_event *e, uint64_t real_ns)
{
	const struct ws_tcp_ev *t = &e->tcp;
	struct ws_lrow *r;
	uint32_t slot;

	if (!c->rows) {
		c->rows = calloc(LADDER_ROWS, sizeof(*c->rows));
		if (!c->rows)
			return;            /* no memory: this connection draws no ladder */
	}
	slot = c->nrows < WS_LADDER_HEAD ? c->nrows :
	       WS_LADDER_HEAD + (c->nrows - WS_LADDER_HEAD) % WS_LADDER_TAIL;
	r = &c->rows[slot];
	r->ts = real_ns;
	r->tr = t->tr;
	r->seq = t->seq;
	r->ack = t->ack;
	r->expected_ack = t->expected_ack;
	r->paylen = t->paylen;
	r->from_role = t->from_role & 1;
	r->flags = t->flags;
	r->note = t->note;
	r->fflags = t->fflags;
	r->ntr = t->ntr > WS_MAX_TR ? WS_MAX_TR : t->ntr;
	c->nrows++;
}

/* The text on an arrow, without the flags' colour. */
static int label(const struct ws_lrow *r, char *buf, size_t len, int *flags_end)
{
	char fl[16];
	int n;

	ws_tcp_flags_str(r->flags, fl, sizeof(fl));
	n = snprintf(buf, len, "[%s]", fl);
	*flags_end = n - 1;
#define ADD(...) do { if ((size_t)n < len) n += snprintf(buf + n, len - (size_t)n, __VA_ARGS__); } while (0)
	if ((r->flags & (WS_TCP_SYN | WS_TCP_FIN | WS_TCP_RST)) || r->paylen || !(r->flags & WS_TCP_ACK))
		ADD(" seq %u", r->seq);
	if (r->flags & WS_TCP_ACK)
		ADD(" ack %u", r->ack);
	if (r->paylen)
		ADD(" len %u", r->paylen);
	if (r->note & WS_NOTE_RETRANS)
		ADD(" (retransmission)");
	if (r->note & WS_NOTE_BAD_ACK)
		ADD(" (bad ack, expected %u)", r->expected_ack);
	if (r->note & WS_NOTE_UNEXPECTED)
		ADD(" (unexpected)");
	if (r->note & WS_NOTE_REUSED)
		ADD(" (reused 4-tuple)");
	if ((r->fflags & WS_FF_REFUSED) && (r->flags & WS_TCP_RST))
		ADD(" (refused)");
#undef ADD
	return n < (int)len ? n : (int)len - 1;
}

static void spaces(FILE *out, int n)
{
	while (n-- > 0)
		fputc(' ', out);
}

static void dashes(FILE *out, int n)
{
	while (n-- > 0)
		fputc('-', out);
}

/* A state name padded to width w (colour codes take no room). */
static void state_cell(FILE *out, bool color, int st, int w)
{
	if (st < 0) {
		spaces(out, w);
		return;
	}
	const char *name = ws_state_name((uint8_t)st);

	fprintf(out, "%s%s%s", ws_sgr_state(color, (uint8_t)st), name, ws_sgr_end(color));
	spaces(out, w - (int)strlen(name));
}

static const struct ws_lrow *row_at(const struct ws_vconn *c, uint32_t k)
{
	uint32_t slot = k < WS_LADDER_HEAD ? k : WS_LADDER_HEAD + (k - WS_LADDER_HEAD) % WS_LADDER_TAIL;

	return &c->rows[slot];
}

static void print_row(FILE *out, bool color, const struct ws_vconn *c, const struct ws_lrow *r,
		      int aw)
{
	int cs[WS_MAX_TR], ss[WS_MAX_TR], nc = 0, ns = 0, lines;
	char lb[160];
	int fe, ll = label(r, lb, sizeof(lb), &fe);
	uint64_t rel = r->ts > c->t_first ? r->ts - c->t_first : 0;

	for (unsigned i = 0; i < r->ntr; i++) {
		uint8_t role, old, nw;

		ws_tr_unpack(r->tr, i, &role, &old, &nw);
		if (role == WS_CLIENT)
			cs[nc++] = nw;
		else
			ss[ns++] = nw;
	}
	lines = nc > ns ? nc : ns;
	if (lines < 1)
		lines = 1;
	for (int k = 0; k < lines; k++) {
		if (k > 0 && k >= ns) {
			/* only the client moves again: no trailing blanks */
			state_cell(out, color, cs[k], 0);
			fputc('\n', out);
			continue;
		}
		state_cell(out, color, k < nc ? cs[k] : -1, STATE_W);
		if (k == 0) {
			/* "---- [S] seq 1 ---->" or "<--- [S.] seq 1 ack 2 -----" */
			fputs(r->from_role == WS_CLIENT ? "---- " : "<--- ", out);
			fprintf(out, "[%s%.*s%s]%s ", ws_sgr_flags(color, r->flags), fe - 1, lb + 1,
				ws_sgr_end(color), lb + fe + 1);
			if (r->from_role == WS_CLIENT) {
				dashes(out, aw - 5 - ll - 1 - 1);
				fputc('>', out);
			} else {
				dashes(out, aw - 5 - ll - 1);
			}
		} else {
			spaces(out, aw);
		}
		fputs("  ", out);
		if (k == 0) {
			state_cell(out, color, k < ns ? ss[k] : -1, STATE_W);
			fprintf(out, " +%" PRIu64 ".%06" PRIu64 "\n", (uint64_t)(rel / 1000000000u),
				(uint64_t)(rel % 1000000000u / 1000));
		} else {
			state_cell(out, color, ss[k], 0);
			fputc('\n', out);
		}
	}
}

static void endpoint(const struct ws_vconn *c, uint8_t role, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN_WS];

	ws_addr_str(c->id.family, c->id.addr[role], a, sizeof(a));
	snprintf(buf, len, c->id.family == 6 ? "[%s]:%u" : "%s:%u", a, c->id.port[role]);
}

static uint8_t first_state(const struct ws_vconn *c, uint8_t role)
{
	return c->npath[role] ? c->path[role][0] : c->cur[role];
}

int ws_print_ladder(const struct ws_fmt *f, const struct ws_vconn *c, enum ws_end_reason why)
{
	FILE *out = f->out;
	char cl[80], sv[80], lb[160];
	int aw = ARROW_MIN, fe, head_w, n;

	if (!c->rows && c->nrows) {
		fprintf(out, "(no memory to draw the ladder of this connection)\n");
		return 0;
	}
	for (uint32_t k = 0; k < c->nrows; k++) {
		if (k >= WS_LADDER_HEAD && k < c->nrows - WS_LADDER_TAIL && c->nrows > LADDER_ROWS)
			continue;
		n = label(row_at(c, k), lb, sizeof(lb), &fe) + 12;
		if (n > aw)
			aw = n;
	}
	endpoint(c, WS_CLIENT, cl, sizeof(cl));
	endpoint(c, WS_SERVER, sv, sizeof(sv));
	head_w = STATE_W + aw + 2;

	fprintf(out, "%s %s > %s: ", c->ifname, cl, sv);
	switch (why) {
	case WS_END_FIN:
		fprintf(out, "closed%s\n", (c->fflags & WS_FF_SIMCLOSE) ? " (simultaneous close)" : "");
		break;
	case WS_END_RST:
		fprintf(out, "reset by the %s\n", ws_role_name((uint8_t)(c->rst_by ? c->rst_by - 1 : 0)));
		break;
	case WS_END_REFUSED:
		fputs("refused (nothing listening)\n", out);
		break;
	case WS_END_TIMEOUT:
		fputs("handshake not completed at exit\n", out);
		break;
	case WS_END_EVICTED:
		fputs("evicted while open (connection table full)\n", out);
		break;
	default:
		fputs("still open at exit\n", out);
		break;
	}
	n = fprintf(out, "client %s", cl);
	spaces(out, head_w - n);
	fprintf(out, "server %s\n", sv);
	state_cell(out, f->color, first_state(c, WS_CLIENT), head_w);
	state_cell(out, f->color, first_state(c, WS_SERVER), 0);
	fputc('\n', out);
	for (uint32_t k = 0; k < c->nrows; k++) {
		if (c->nrows > LADDER_ROWS && k == WS_LADDER_HEAD) {
			uint32_t skip = c->nrows - LADDER_ROWS;

			spaces(out, STATE_W);
			fprintf(out, "... %u control packet%s not drawn ...\n", skip, skip == 1 ? "" : "s");
			k += skip - 1;
			continue;
		}
		print_row(out, f->color, c, row_at(c, k), aw);
	}
	if (c->fflags & WS_FF_GAP)
		fputs("(gap: events of this connection were lost; arrows and states may be missing)\n", out);
	fputc('\n', out);
	return ws_out_status(out);
}
