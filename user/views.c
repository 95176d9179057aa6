// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The views' connection table: every TCP event is attributed to a
 * connection keyed by (ifindex, client address/port, server address/port),
 * which keeps what --summary and --ladder print when the connection ends,
 * and the window scale each side offered, which --explain needs.
 *
 * The table is bounded: when it is full the least recently active entry is
 * evicted, ended ones first (they are kept only to absorb late packets such
 * as a retransmitted last ACK); an open one that is evicted is printed with
 * the reason "evicted" and counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ws_views.h"

#define NIL UINT32_MAX

struct lru {
	uint32_t head, tail;       /* head: least recently active */
	uint32_t n;
};

struct ws_views {
	const struct ws_fmt *fmt;
	struct ws_views_opts o;
	struct ws_vconn *c;        /* o.max_conns entries */
	uint32_t *bucket;          /* nbucket heads */
	uint32_t nbucket;          /* power of two */
	uint32_t free_head;        /* chained through lnext */
	struct lru live, done;
	uint64_t serial;
	struct ws_views_stats st;
};

static uint32_t hash_id(const struct ws_conn_id *id)
{
	const uint8_t *p = (const uint8_t *)id;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*id); i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 15);
}

void ws_views_conn_id(const struct ws_event *e, struct ws_conn_id *id)
{
	const struct ws_tcp_ev *t = &e->tcp;
	int cli_is_src = t->from_role == WS_CLIENT;

	memset(id, 0, sizeof(*id));
	id->ifindex = e->ifindex;
	id->family = e->family;
	memcpy(id->addr[0], cli_is_src ? t->saddr : t->daddr, 16);
	memcpy(id->addr[1], cli_is_src ? t->daddr : t->saddr, 16);
	id->port[0] = cli_is_src ? t->sport : t->dport;
	id->port[1] = cli_is_src ? t->dport : t->sport;
}

struct ws_views *ws_views_new(const struct ws_fmt *fmt, const struct ws_views_opts *o)
{
	struct ws_views *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->fmt = fmt;
	v->o = *o;
	if (!v->o.max_conns)
		v->o.max_conns = WS_VIEWS_MAX_CONNS;
	if (v->o.max_conns > (1u << 24))
		v->o.max_conns = 1u << 24;
	v->nbucket = 16;
	while (v->nbucket < v->o.max_conns * 2)
		v->nbucket <<= 1;
	v->c = calloc(v->o.max_conns, sizeof(*v->c));
	v->bucket = malloc(v->nbucket * sizeof(*v->bucket));
	if (!v->c || !v->bucket) {
		ws_views_free(v);
		return NULL;
	}
	for (uint32_t i = 0; i < v->nbucket; i++)
		v->bucket[i] = NIL;
	for (uint32_t i = 0; i < v->o.max_conns; i++)
		v->c[i].lnext = i + 1 < v->o.max_conns ? i + 1 : NIL;
	v->free_head = 0;
	v->live.head = v->live.tail = NIL;
	v->done.head = v->done.tail = NIL;
	return v;
}

void ws_views_free(struct ws_views *v)
{
	if (!v)
		return;
	if (v->c)
		for (uint32_t i = 0; i < v->o.max_conns; i++)
			free(v->c[i].rows);
	free(v->c);
	free(v->bucket);
	free(v);
}

bool ws_views_show_events(const struct ws_views *v)
{
	return !v->o.summary && !v->o.ladder;
}

void ws_views_get_stats(const struct ws_views *v, struct ws_views_stats *s)
{
	*s = v->st;
	s->live = v->live.n;
}

void ws_views_parse_opt(struct ws_views_opts *o, int c)
{
	switch (c) {
	case WS_VIEWS_OPT_SUMMARY:
		o->summary = true;
		break;
	case WS_VIEWS_OPT_LADDER:
		o->ladder = true;
		break;
	case WS_VIEWS_OPT_NO_COLOR:
		o->no_color = true;
		break;
	case 'X':
		o->explain = true;
		break;
	}
}

const char *ws_views_check_opts(const struct ws_views_opts *o, bool json)
{
	if (o->explain && (o->summary || o->ladder))
		return "--explain annotates the per-event lines, which --summary and --ladder replace: "
		       "use it on its own";
	if (o->ladder && json)
		return "--ladder draws text; --json with --summary gives connections as JSON";
	return NULL;
}

bool ws_views_wanted(const struct ws_views_opts *o)
{
	return o->summary || o->ladder || o->explain;
}

/* ------------------------------------------------------------- lists */

static void lru_unlink(struct ws_views *v, struct lru *l, uint32_t i)
{
	struct ws_vconn *c = &v->c[i];

	if (c->lprev != NIL)
		v->c[c->lprev].lnext = c->lnext;
	else
		l->head = c->lnext;
	if (c->lnext != NIL)
		v->c[c->lnext].lprev = c->lprev;
	else
		l->tail = c->lprev;
	c->lprev = c->lnext = NIL;
	l->n--;
}

static void lru_push(struct ws_views *v, struct lru *l, uint32_t i)
{
	struct ws_vconn *c = &v->c[i];

	c->lnext = NIL;
	c->lprev = l->tail;
	if (l->tail != NIL)
		v->c[l->tail].lnext = i;
	else
		l->head = i;
	l->tail = i;
	l->n++;
}

static uint32_t find(const struct ws_views *v, const struct ws_conn_id *id)
{
	uint32_t i = v->bucket[hash_id(id) & (v->nbucket - 1)];

	while (i != NIL && memcmp(&v->c[i].id, id, sizeof(*id)))
		i = v->c[i].hnext;
	return i;
}

const struct ws_vconn *ws_views_lookup(const struct ws_views *v, const struct ws_conn_id *id)
{
	uint32_t i = find(v, id);

	return i == NIL ? NULL : &v->c[i];
}

static void remove_entry(struct ws_views *v, uint32_t i)
{
	struct ws_vconn *c = &v->c[i];
	uint32_t *pp = &v->bucket[hash_id(&c->id) & (v->nbucket - 1)];

	while (*pp != i)
		pp = &v->c[*pp].hnext;
	*pp = c->hnext;
	lru_unlink(v, c->done ? &v->done : &v->live, i);
	free(c->rows);
	memset(c, 0, sizeof(*c));
	c->lnext = v->free_head;
	v->free_head = i;
}

/* ------------------------------------------------------------- ending */

static int print_end(struct ws_views *v, struct ws_vconn *c, enum ws_end_reason why)
{
	int rc = 0;

	if (v->o.summary)
		rc = ws_print_summary(v->fmt, c, why);
	if (!rc && v->o.ladder)
		rc = ws_print_ladder(v->fmt, c, why);
	return rc;
}

/* The connection ended: print it and keep a small "done" entry for late packets. */
static int end_conn(struct ws_views *v, uint32_t i, enum ws_end_reason why)
{
	struct ws_vconn *c = &v->c[i];
	int rc = print_end(v, c, why);

	lru_unlink(v, &v->live, i);
	c->done = true;
	free(c->rows);
	c->rows = NULL;
	lru_push(v, &v->done, i);
	return rc;
}

static uint32_t alloc_entry(struct ws_views *v, int *rc)
{
	uint32_t i;

	if (v->free_head == NIL) {
		if (v->done.head != NIL) {
			remove_entry(v, v->done.head);
		} else {
			uint32_t old = v->live.head;

			v->st.evicted++;
			*rc = print_end(v, &v->c[old], WS_END_EVICTED);
			remove_entry(v, old);
		}
	}
	i = v->free_head;
	v->free_head = v->c[i].lnext;
	return i;
}

static uint32_t new_entry(struct ws_views *v, const struct ws_conn_id *id, const char *ifname,
			  int *rc)
{
	uint32_t i = alloc_entry(v, rc);
	struct ws_vconn *c = &v->c[i];
	uint32_t *b = &v->bucket[hash_id(id) & (v->nbucket - 1)];

	memset(c, 0, sizeof(*c));
	c->id = *id;
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname ? ifname : "?");
	c->serial = ++v->serial;
	c->wscale[0] = c->wscale[1] = -1;
	c->used = true;
	c->hnext = *b;
	*b = i;
	lru_push(v, &v->live, i);
	v->st.conns++;
	return i;
}

/* Both sides are done: CLOSED or TIME_WAIT (a refused server never left CLOSED/LISTEN). */
static bool finished(const struct ws_vconn *c)
{
	uint8_t cl = c->cur[WS_CLIENT], sv = c->cur[WS_SERVER];

	return (cl == WS_ST_CLOSED || cl == WS_ST_TIME_WAIT) &&
	       (sv == WS_ST_CLOSED || sv == WS_ST_TIME_WAIT || sv == WS_ST_LISTEN);
}

/* ------------------------------------------------------------- updating */

static void path_push(struct ws_vconn *c, uint8_t role, uint8_t st)
{
	uint8_t n = c->npath[role];

	if (n < WS_PATH_MAX) {
		c->path[role][n] = st;
		c->npath[role] = (uint8_t)(n + 1);
	} else {
		/* keep the start, a gap mark, and the end: how the side finished */
		memmove(c->path[role] + 2, c->path[role] + 3, WS_PATH_MAX - 3);
		c->path[role][1] = WS_PATH_GAP;
		c->path[role][WS_PATH_MAX - 1] = st;
	}
}

static void syn_options(struct ws_vconn *c, const struct ws_event *e)
{
	uint32_t cap = e->cap_len > WS_SNAP_MAX ? WS_SNAP_MAX : e->cap_len;
	struct ws_tcpopts o;
	struct ws_pkt p;
	uint8_t role = e->tcp.from_role & 1;

	if (!cap)
		return;
	ws_parse(e->frame, e->frame + cap, &p);
	if (!p.is_tcp)
		return;
	ws_parse_tcpopts(e->frame, e->frame + cap, &p, &o);
	c->syn_seen[role] = true;
	c->wscale[role] = o.has_wscale ? (int8_t)(o.wscale > 14 ? 14 : o.wscale) : -1;
}

static void update(struct ws_vconn *c, const struct ws_event *e, uint64_t ts, bool ladder)
{
	const struct ws_tcp_ev *t = &e->tcp;
	uint8_t x = t->from_role & 1, fl = t->flags;

	if (!c->nevents) {
		c->t_first = ts;
		if ((fl & (WS_TCP_SYN | WS_TCP_ACK)) == WS_TCP_SYN && x == WS_CLIENT) {
			c->cur[WS_CLIENT] = WS_ST_CLOSED;
			c->cur[WS_SERVER] = WS_ST_LISTEN;
		} else if ((fl & (WS_TCP_SYN | WS_TCP_ACK)) == (WS_TCP_SYN | WS_TCP_ACK) &&
			   (t->note & WS_NOTE_PICKUP)) {
			c->cur[WS_CLIENT] = WS_ST_SYN_SENT;   /* its SYN was not seen */
			c->cur[WS_SERVER] = WS_ST_LISTEN;
		}
	}
	c->nevents++;
	c->t_last = ts;
	c->fflags |= t->fflags;
	memcpy(c->pkts, t->pkts, sizeof(c->pkts));
	memcpy(c->bytes, t->bytes, sizeof(c->bytes));

	if (fl & WS_TCP_SYN) {
		bool first = !(t->note & (WS_NOTE_RETRANS | WS_NOTE_BAD_ACK | WS_NOTE_UNEXPECTED));

		if (!(fl & WS_TCP_ACK)) {
			if (t->note & WS_NOTE_RETRANS)
				c->syn_retrans++;
			else if (first && x == WS_CLIENT && !c->t_syn)
				c->t_syn = ts;
		} else {
			if (t->note & WS_NOTE_RETRANS)
				c->synack_retrans++;
			else if (first && x == WS_SERVER && c->t_syn && !c->t_synack)
				c->t_synack = ts;
		}
		if (first || !c->syn_seen[x])
			syn_options(c, e);
	} else if ((fl & WS_TCP_ACK) && (t->note & WS_NOTE_ACKS_SYN) && x == WS_CLIENT &&
		   c->t_synack && !c->t_ack) {
		c->t_ack = ts;          /* the third packet of the handshake */
	}
	if (fl & WS_TCP_FIN) {
		if (t->note & WS_NOTE_RETRANS)
			c->fin_retrans++;
		else if (!c->t_fin)
			c->t_fin = ts;
	}
	if ((fl & (WS_TCP_FIN | WS_TCP_RST)) && !c->first_closer && !(t->note & WS_NOTE_BAD_ACK))
		c->first_closer = (uint8_t)(x + 1);
	if ((fl & WS_TCP_RST) && !(t->note & WS_NOTE_BAD_ACK) && !c->rst_by)
		c->rst_by = (uint8_t)(x + 1);

	for (unsigned i = 0; i < t->ntr && i < WS_MAX_TR; i++) {
		uint8_t role, old, nw;

		ws_tr_unpack(t->tr, i, &role, &old, &nw);
		if (!c->npath[role]) {
			path_push(c, role, old);   /* the kernel's word on where it started */
		} else if (c->path[role][c->npath[role] - 1] != old) {
			path_push(c, role, WS_PATH_GAP);
			path_push(c, role, old);
		}
		path_push(c, role, nw);
		c->cur[role] = nw;
	}
	if ((t->fflags & WS_FF_REFUSED) && (fl & WS_TCP_RST))
		c->cur[WS_SERVER] = WS_ST_CLOSED;    /* nothing was listening */
	if (c->cur[WS_CLIENT] == WS_ST_ESTABLISHED && c->cur[WS_SERVER] == WS_ST_ESTABLISHED)
		c->established = true;
	if (ladder)
		ws_ladder_add(c, e, ts);
}

/* ------------------------------------------------------------- dispatch */

static int print_event(struct ws_views *v, const struct ws_event *e, const char *ifname,
		       uint64_t ts, const struct ws_vconn *c)
{
	struct ws_explain_ctx cx = { .dir = e->dir };
	uint32_t cap;
	int rc = ws_print_event(v->fmt, e, ifname, ts);

	if (rc || !v->o.explain)
		return rc;
	if (e->type == WS_EV_TCP) {
		cx.tcp_event = true;
		cx.from_role = e->tcp.from_role;
		cx.note = e->tcp.note;
		cx.expected_ack = e->tcp.expected_ack;
		if (c) {
			cx.conn_known = true;
			memcpy(cx.syn_seen, c->syn_seen, sizeof(cx.syn_seen));
			memcpy(cx.wscale, c->wscale, sizeof(cx.wscale));
		}
	}
	cap = e->cap_len > WS_SNAP_MAX ? WS_SNAP_MAX : e->cap_len;
	return ws_explain(v->fmt, e->frame, cap, e->wire_len, &cx);
}

int ws_views_event(struct ws_views *v, const struct ws_event *e, const char *ifname,
		   uint64_t real_ns)
{
	bool show = ws_views_show_events(v);
	struct ws_conn_id id;
	struct ws_vconn *c;
	uint32_t i;
	int rc = 0;

	if (e->type != WS_EV_TCP)
		return show ? print_event(v, e, ifname, real_ns, NULL) : 0;

	ws_views_conn_id(e, &id);
	i = find(v, &id);
	if (i != NIL && v->c[i].done) {
		bool new_syn = (e->tcp.flags & (WS_TCP_SYN | WS_TCP_ACK)) == WS_TCP_SYN &&
			       !(e->tcp.note & WS_NOTE_RETRANS);

		if (!(e->tcp.note & WS_NOTE_REUSED) && !new_syn) {
			/* a late packet of a connection already printed */
			return show ? print_event(v, e, ifname, real_ns, &v->c[i]) : 0;
		}
		remove_entry(v, i);
		i = NIL;
	} else if (i != NIL && (e->tcp.note & WS_NOTE_REUSED)) {
		/* the kernel saw the old one finish; we missed its end */
		rc = end_conn(v, i, ws_conn_reason(&v->c[i]));
		remove_entry(v, i);
		i = NIL;
	}
	if (i == NIL) {
		if ((e->tcp.note & WS_NOTE_NO_FLOW) || (!e->tcp.ntr && !(e->tcp.flags & WS_TCP_SYN))) {
			/* nothing to follow: a stray RST, or a late packet of a forgotten connection */
			v->st.ignored++;
			return show ? print_event(v, e, ifname, real_ns, NULL) : 0;
		}
		i = new_entry(v, &id, ifname, &rc);
		if (rc)
			return rc;
	}
	c = &v->c[i];
	update(c, e, real_ns, v->o.ladder);
	/* most recently active last */
	lru_unlink(v, &v->live, i);
	lru_push(v, &v->live, i);

	if (show && (rc = print_event(v, e, ifname, real_ns, c)))
		return rc;
	if (finished(c)) {
		c->t_end = real_ns;
		rc = end_conn(v, i, ws_conn_reason(c));
	}
	return rc;
}

static int by_serial(const void *a, const void *b)
{
	const struct ws_vconn *x = *(struct ws_vconn *const *)a, *y = *(struct ws_vconn *const *)b;

	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

int ws_views_finish(struct ws_views *v, uint64_t real_ns)
{
	struct ws_vconn **list;
	uint32_t n = 0;
	int rc = 0;

	if (!v)
		return 0;
	if (v->st.evicted)
		fprintf(stderr, "wirestate: %llu open connection%s evicted from the connection table "
			"(it holds %u; printed with reason \"evicted\")\n",
			(unsigned long long)v->st.evicted, v->st.evicted == 1 ? " was" : "s were",
			v->o.max_conns);
	if (!v->live.n)
		return 0;
	list = malloc(v->live.n * sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (uint32_t i = v->live.head; i != NIL; i = v->c[i].lnext)
		list[n++] = &v->c[i];
	qsort(list, n, sizeof(*list), by_serial);    /* in the order they began */
	for (uint32_t k = 0; k < n && !rc; k++) {
		struct ws_vconn *c = list[k];

		c->t_end = real_ns > c->t_last ? real_ns : c->t_last;
		rc = print_end(v, c, ws_conn_reason(c));
	}
	free(list);
	return rc;
}
