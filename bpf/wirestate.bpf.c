// SPDX-License-Identifier: GPL-2.0
/*
 * wirestate kernel side: one parser, one flow table, one state machine,
 * attached twice per interface (XDP, or TC with --ingress tc, for what
 * arrives; TC for what leaves) so both directions of every connection are
 * seen once.  Only transitions reach user space, through the ring buffer
 * "events".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "ws_parse.h"
#include "ws_event.h"
#include "ws_fsm.h"

char LICENSE[] SEC("license") = "GPL";

#define WS_LOCK_SPINS 64

/* Set by user space before load (--snaplen): bytes of each event's frame to copy. */
const volatile __u32 snaplen = WS_SNAP_DEFAULT;

/* Where a frame came from. */
struct pctx {
	void *ctx;             /* struct xdp_md * or struct __sk_buff * */
	__u32 wire_len;        /* TC: whole frame; XDP: asked for only when an event needs it */
	__u32 ifindex;
	__u8 dir;              /* enum ws_dir */
	__u8 tc;               /* 0: XDP context, 1: TC (a constant in each program:
				* the other helper's branch folds away) */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);          /* user space may change it before load */
	__type(key, struct ws_flow_key);
	__type(value, struct ws_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);        /* user space may change it before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WS_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;        /* per-CPU: no atomic needed */
}

static __always_inline int flow_trylock(struct ws_flow *f)
{
	int i;

	for (i = 0; i < WS_LOCK_SPINS; i++) {
		if (__sync_val_compare_and_swap(&f->lock, 0, 1) == 0)
			return 1;
	}
	return 0;
}

static __always_inline void flow_unlock(struct ws_flow *f)
{
	__sync_lock_test_and_set(&f->lock, 0);
}

/*
 * Copy the first len bytes of the frame from its linear part [data, end),
 * 8 bytes at a time, without a helper call (each costs a call and a return,
 * and returns are expensive on CPUs with return-thunk mitigations).  The
 * last chunk may copy a few bytes past len, never past the frame or dst.
 * Returns 0 when the linear part holds fewer than len bytes.
 */
static __always_inline int copy_linear(__u8 *dst, const __u8 *data, const __u8 *end, __u32 len)
{
	__u32 off = 0;
	int i;

	for (i = 0; i < WS_SNAP_MAX / 8; i++) {
		if (off >= len || data + i * 8 + 8 > end)
			break;
		*(__u64 *)(dst + i * 8) = *(const __u64 *)(data + i * 8);
		off += 8;
	}
	if (off >= len)
		return 1;
	/* the frame ends inside this chunk: the rest byte by byte */
	for (i = 0; i < 7; i++) {
		if (off >= len || off >= WS_SNAP_MAX)
			break;
		if (data + (off & (WS_SNAP_MAX - 1)) + 1 > end)
			return 0;
		dst[off & (WS_SNAP_MAX - 1)] = data[off & (WS_SNAP_MAX - 1)];
		off++;
	}
	return off >= len;
}

/* Copy the first bytes of the frame into the event. */
static __always_inline void snap(struct ws_event *e, const struct pctx *c)
{
	__u32 wire = c->tc ? c->wire_len : (__u32)bpf_xdp_get_buff_len((struct xdp_md *)c->ctx);
	__u32 len = wire;
	void *data, *end;

	e->wire_len = wire;
	if (len > snaplen)
		len = snaplen;
	if (len > WS_SNAP_MAX)
		len = WS_SNAP_MAX;
	if (len == 0)
		return;
	/* the same value, in a form older verifiers can bound from below (>= 1) */
	len = ((len - 1) & (WS_SNAP_MAX - 1)) + 1;
	if (c->tc) {
		data = (void *)(long)((struct __sk_buff *)c->ctx)->data;
		end = (void *)(long)((struct __sk_buff *)c->ctx)->data_end;
	} else {
		data = (void *)(long)((struct xdp_md *)c->ctx)->data;
		end = (void *)(long)((struct xdp_md *)c->ctx)->data_end;
	}
	if (copy_linear(e->frame, data, end, len)) {
		e->cap_len = (__u16)len;
		return;
	}
	/* a multi-buffer frame or a non-linear skb: the helpers read across */
	if (!c->tc) {
		if (bpf_xdp_load_bytes(c->ctx, 0, e->frame, len))
			return;
	} else {
		if (bpf_skb_load_bytes(c->ctx, 0, e->frame, len))
			return;
	}
	e->cap_len = (__u16)len;
}

static __always_inline void emit_arp(const struct ws_pkt *p, const struct pctx *c)
{
	struct ws_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(WS_STAT_RB_DROPS);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e) - WS_SNAP_MAX);
	e->ts_ns = bpf_ktime_get_ns();
	e->ifindex = c->ifindex;
	e->type = WS_EV_ARP;
	e->dir = c->dir;
	e->arp.op = p->arp_op;
	e->arp.nvlan = p->nvlan;
	e->arp.vlan_id[0] = p->vlan_id[0];
	e->arp.vlan_id[1] = p->vlan_id[1];
	__builtin_memcpy(e->arp.sha, p->sha, 6);
	__builtin_memcpy(e->arp.tha, p->tha, 6);
	e->arp.spa = p->spa;
	e->arp.tpa = p->tpa;
	snap(e, c);
	bpf_ringbuf_submit(e, 0);
	stat_inc(WS_STAT_EVENTS);
}

/* What an event needs to know of its flow, copied out while it was locked. */
struct flow_snap {
	__u8 fflags;
	__u8 from_role;
	__u8 pad[6];
	__u64 pkts[2];
	__u64 bytes[2];
};

/*
 * The functions below that are not static are BPF "global" functions: the
 * verifier checks each once, on its own, instead of once per path that
 * reaches it.  That keeps verification of the whole object fast and far
 * from the instruction limit on every kernel.
 */

/*
 * The parser is inlined into each program rather than a global function: a
 * call and its return cost more than the verifier time it would save.
 */
static __always_inline int ws_parse_xdp(struct xdp_md *ctx, struct ws_pkt *p)
{
	return ws_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, p);
}

static __always_inline int ws_parse_skb(struct __sk_buff *skb, struct ws_pkt *p)
{
	return ws_parse((void *)(long)skb->data, (void *)(long)skb->data_end, p);
}

/* One segment through the state machine of flow f, sent by `role`. */
__noinline int ws_step(struct ws_flow *f, const struct ws_pkt *p, __u32 role,
		       struct ws_fsm_out *o)
{
	if (!f || !p || !o)
		return 0;
	ws_fsm_step(f, (__u8)role, p->tcp_flags, p->seq, p->ack, p->paylen, o);
	f->pending = ws_flow_pending(f);
	return o->emit;
}

static __always_inline int addr_cmp(const __u32 *a, const __u32 *b)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

/* Fill the normalised flow key; returns the key index (0/1) of the sender. */
static __always_inline __u8 flow_key(const struct ws_pkt *p, __u32 ifindex,
				     struct ws_flow_key *key)
{
	int cmp;
	__u8 src;

	key->ifindex = ifindex;
	key->family = p->l3 == WS_L3_IPV6 ? 6 : 4;
	cmp = addr_cmp(p->saddr, p->daddr);
	if (cmp == 0)
		cmp = p->sport < p->dport ? -1 : (p->sport > p->dport);
	src = cmp <= 0 ? 0 : 1;
	if (src == 0) {
		__builtin_memcpy(key->addr[0], p->saddr, 16);
		__builtin_memcpy(key->addr[1], p->daddr, 16);
		key->port[0] = p->sport;
		key->port[1] = p->dport;
	} else {
		__builtin_memcpy(key->addr[0], p->daddr, 16);
		__builtin_memcpy(key->addr[1], p->saddr, 16);
		key->port[0] = p->dport;
		key->port[1] = p->sport;
	}
	return src;
}

static __always_inline void snap_flow(struct flow_snap *s, const struct ws_flow *f, __u8 role)
{
	s->fflags = f->fflags | (f->gap ? WS_FF_GAP : 0);
	s->from_role = role;
	s->pkts[0] = f->pkts[0];
	s->pkts[1] = f->pkts[1];
	s->bytes[0] = f->bytes[0];
	s->bytes[1] = f->bytes[1];
}

/*
 * Account the segment to its flow and step the flow's state machine.
 * Returns 1 when the segment is an event (o and s say what to report).
 */
__noinline int ws_track(const struct ws_pkt *p, __u32 ifindex, struct ws_fsm_out *o,
			struct flow_snap *s)
{
	struct ws_flow_key key = {};
	struct ws_flow *f;
	__u8 flags, src, role;

	if (!p || !o || !s)
		return 0;
	flags = p->tcp_flags;
	src = flow_key(p, ifindex, &key);

	f = bpf_map_lookup_elem(&flows, &key);
	if (f) {
		role = src == f->cli ? WS_CLIENT : WS_SERVER;
		__sync_fetch_and_add(&f->pkts[role], 1);
		if (p->paylen)
			__sync_fetch_and_add(&f->bytes[role], p->paylen);
		if (!(flags & (WS_TCP_SYN | WS_TCP_FIN | WS_TCP_RST)) && !f->pending) {
			/* unlocked, like the counters: a hint that only moves forward */
			ws_seq_seen(f, role, flags, p->seq, p->paylen);
			return 0;                    /* the data path ends here */
		}
		if (!flow_trylock(f)) {
			stat_inc(WS_STAT_LOCK_BUSY);
			return 0;
		}
		if ((flags & (WS_TCP_SYN | WS_TCP_ACK)) == WS_TCP_SYN && ws_flow_finished(f)) {
			/*
			 * A new connection on the 4-tuple of a finished one.  Built
			 * aside and copied in whole, so the lock word never reads 0
			 * while we hold it.
			 */
			struct ws_flow nf;

			ws_flow_init(&nf, src);
			nf.lock = 1;
			nf.t_first = bpf_ktime_get_ns();
			nf.pkts[WS_CLIENT] = 1;
			nf.bytes[WS_CLIENT] = p->paylen;
			*f = nf;
			o->note |= WS_NOTE_REUSED;
			role = WS_CLIENT;
		}
		ws_step(f, p, role, o);
		snap_flow(s, f, role);
		flow_unlock(f);
		return o->emit;
	}

	if (flags & WS_TCP_RST) {
		/* a RST for no known connection: report it, keep nothing */
		o->note = WS_NOTE_NO_FLOW;
		o->emit = 1;
		s->from_role = p->sport > p->dport ? WS_CLIENT : WS_SERVER;
		return 1;
	}

	struct ws_flow nf;

	if ((flags & (WS_TCP_SYN | WS_TCP_ACK)) == WS_TCP_SYN) {
		ws_flow_init(&nf, src);
	} else if (flags & WS_TCP_SYN) {
		/* SYN-ACK whose SYN was not seen: the receiver is the client */
		ws_flow_init(&nf, src ^ 1);
		nf.st[WS_CLIENT] = WS_ST_SYN_SENT;
		nf.isn[WS_CLIENT] = p->ack - 1;
		nf.fflags = WS_FF_MIDSTREAM;
		o->note |= WS_NOTE_PICKUP;
	} else {
		ws_flow_init_midstream(&nf, p->sport > p->dport ? src : src ^ 1, o);
	}
	role = src == nf.cli ? WS_CLIENT : WS_SERVER;
	nf.t_first = bpf_ktime_get_ns();
	nf.pkts[role] = 1;
	nf.bytes[role] = p->paylen;
	ws_step(&nf, p, role, o);
	snap_flow(s, &nf, role);
	if (bpf_map_update_elem(&flows, &key, &nf, BPF_NOEXIST) == 0)
		stat_inc(WS_STAT_FLOWS);
	else
		stat_inc(WS_STAT_FLOW_FAIL);
	return o->emit;
}

/*
 * The data path, kept short: a segment without SYN, FIN or RST, of a flow the
 * table knows and that waits for nothing (no handshake or FIN to complete).
 * It only counts.  Returns 1 when the frame is done; 0 sends it down the
 * full path (ws_parse, ws_track), which also handles what this one skipped:
 * tags, IP options, extension headers, errors, new flows, pending ACKs.
 */
static __noinline int quick_path(void *data, void *end, __u32 ifindex)
{
	struct ws_flow_key key = {};
	struct ws_quick q;
	struct ws_flow *f;
	__u8 src, role;
	int cmp;

	if (!ws_parse_quick(data, end, &q) ||
	    (q.tcp_flags & (WS_TCP_SYN | WS_TCP_FIN | WS_TCP_RST)))
		return 0;
	/* the same key as flow_key() builds from a struct ws_pkt */
	key.ifindex = ifindex;
	key.family = q.family;
	cmp = q.family == 4 ? (q.saddr[0] == q.daddr[0] ? 0 : q.saddr[0] < q.daddr[0] ? -1 : 1)
			    : addr_cmp(q.saddr, q.daddr);
	if (cmp == 0)
		cmp = q.sport < q.dport ? -1 : (q.sport > q.dport);
	src = cmp <= 0 ? 0 : 1;
	if (src == 0) {
		__builtin_memcpy(key.addr[0], q.saddr, 16);
		__builtin_memcpy(key.addr[1], q.daddr, 16);
		key.port[0] = q.sport;
		key.port[1] = q.dport;
	} else {
		__builtin_memcpy(key.addr[0], q.daddr, 16);
		__builtin_memcpy(key.addr[1], q.saddr, 16);
		key.port[0] = q.dport;
		key.port[1] = q.sport;
	}
	f = bpf_map_lookup_elem(&flows, &key);
	if (!f || f->pending)
		return 0;
	role = src == f->cli ? WS_CLIENT : WS_SERVER;
	__sync_fetch_and_add(&f->pkts[role], 1);
	if (q.paylen)
		__sync_fetch_and_add(&f->bytes[role], q.paylen);
	/* unlocked, like the counters: a hint that only moves forward */
	ws_seq_seen(f, role, q.tcp_flags, q.seq, q.paylen);
	stat_inc(WS_STAT_PACKETS);
	return 1;
}

/* An event of this flow was lost: say so in its later events. */
__noinline int ws_mark_gap(const struct ws_pkt *p, __u32 ifindex)
{
	struct ws_flow_key key = {};
	struct ws_flow *f;

	if (!p)
		return 0;
	flow_key(p, ifindex, &key);
	f = bpf_map_lookup_elem(&flows, &key);
	if (f)
		__sync_fetch_and_or(&f->gap, 1);
	return 0;
}

/* Returns 0 when the event was lost. */
static __always_inline int emit_tcp(const struct pctx *c, const struct ws_pkt *p,
				    const struct ws_fsm_out *o, const struct flow_snap *s)
{
	struct ws_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(WS_STAT_RB_DROPS);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e) - WS_SNAP_MAX);
	e->ts_ns = bpf_ktime_get_ns();
	e->ifindex = c->ifindex;
	e->type = WS_EV_TCP;
	e->dir = c->dir;
	e->family = p->l3 == WS_L3_IPV6 ? 6 : 4;
	__builtin_memcpy(e->tcp.saddr, p->saddr, 16);
	__builtin_memcpy(e->tcp.daddr, p->daddr, 16);
	e->tcp.sport = p->sport;
	e->tcp.dport = p->dport;
	e->tcp.seq = p->seq;
	e->tcp.ack = p->ack;
	e->tcp.win = p->win;
	e->tcp.flags = p->tcp_flags;
	e->tcp.ttl = p->ttl;
	e->tcp.paylen = p->paylen;
	e->tcp.nvlan = p->nvlan;
	e->tcp.vlan_id[0] = p->vlan_id[0];
	e->tcp.vlan_id[1] = p->vlan_id[1];
	e->tcp.from_role = s->from_role;
	e->tcp.note = o->note;
	e->tcp.fflags = s->fflags;
	e->tcp.ntr = o->ntr;
	e->tcp.expected_ack = o->expected_ack;
	e->tcp.tr = o->tr;
	e->tcp.pkts[0] = s->pkts[0];
	e->tcp.pkts[1] = s->pkts[1];
	e->tcp.bytes[0] = s->bytes[0];
	e->tcp.bytes[1] = s->bytes[1];
	snap(e, c);
	bpf_ringbuf_submit(e, 0);
	stat_inc(WS_STAT_EVENTS);
	return 1;
}

static __always_inline void handle(const struct pctx *c, struct ws_pkt *p, int err)
{
	struct ws_fsm_out o = {};
	struct flow_snap s = {};

	stat_inc(WS_STAT_PACKETS);
	if (err != WS_OK) {
		stat_inc(WS_STAT_PARSE_ERR);
		return;
	}
	if (p->l3 == WS_L3_ARP) {
		if (p->arp_op == 1 || p->arp_op == 2)
			emit_arp(p, c);
		return;
	}
	if (!p->is_tcp)
		return;
	if (ws_track(p, c->ifindex, &o, &s) && !emit_tcp(c, p, &o, &s))
		ws_mark_gap(p, c->ifindex);
}

SEC("xdp.frags")
int ws_xdp(struct xdp_md *ctx)
{
	struct pctx c = {
		.ctx = ctx,
		.ifindex = ctx->ingress_ifindex,
		.dir = WS_DIR_INGRESS,
	};

	struct ws_pkt p;
	int err;

	if (quick_path((void *)(long)ctx->data, (void *)(long)ctx->data_end, c.ifindex))
		return XDP_PASS;
	err = ws_parse_xdp(ctx, &p);
	handle(&c, &p, err);
	return XDP_PASS;
}

#define WS_TC_NEXT (-1)   /* TC_ACT_UNSPEC / TCX_NEXT: let whatever follows decide */

SEC("tc")
int ws_tc_egress(struct __sk_buff *skb)
{
	struct pctx c = {
		.ctx = skb,
		.wire_len = skb->len,
		.ifindex = skb->ifindex,
		.dir = WS_DIR_EGRESS,
		.tc = 1,
	};
	struct ws_pkt p;
	int err;

	if (quick_path((void *)(long)skb->data, (void *)(long)skb->data_end, c.ifindex))
		return WS_TC_NEXT;
	err = ws_parse_skb(skb, &p);
	handle(&c, &p, err);
	return WS_TC_NEXT;
}

/*
 * The same, on the TC ingress hook: --ingress tc.  On veths, XDP costs the
 * sender its TSO (native mode) or every skb a copy (generic mode); the TC
 * hook sees the stack's own skbs and costs neither.
 */
SEC("tc")
int ws_tc_ingress(struct __sk_buff *skb)
{
	struct pctx c = {
		.ctx = skb,
		.wire_len = skb->len,
		.ifindex = skb->ifindex,
		.dir = WS_DIR_INGRESS,
		.tc = 1,
	};
	struct ws_pkt p;
	int err;

	if (quick_path((void *)(long)skb->data, (void *)(long)skb->data_end, c.ifindex))
		return WS_TC_NEXT;
	err = ws_parse_skb(skb, &p);
	handle(&c, &p, err);
	return WS_TC_NEXT;
}

/* The baseline for benchmarks and tests: an XDP program that only passes. */
SEC("xdp")
int ws_xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}
