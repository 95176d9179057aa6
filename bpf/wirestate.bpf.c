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

/*
 * How many times a segment tries its flow's lock before it is skipped (and
 * counted in lock_busy).  Each try is a bpf_loop() iteration: the verifier
 * checks the callback once, whatever the count, and a call per try spaces
 * the tries out (up to tens of microseconds in all), so a holder that was
 * interrupted, or whose vCPU was descheduled, still gets to finish first.
 */
#define WS_LOCK_TRIES 4096

/* Set by user space before load (--snaplen): bytes of each event's frame to copy. */
const volatile __u32 snaplen = WS_SNAP_DEFAULT;

/*
 * Wake the reader only once this many bytes wait in the ring (0: after every
 * event, the kernel's default).  Set by user space before load; the reader
 * then also empties the ring on a short timer, so a lone event waits for it
 * at most that long.  A wake-up per event (an irq_work, a context switch)
 * cost more than the event itself in a connection storm.
 */
const volatile __u32 wake_bytes = 0;

/* Where a frame came from. */
struct pctx {
	void *ctx;             /* struct xdp_md * or struct __sk_buff * */
	__u32 wire_len;        /* TC: whole frame; XDP: asked for only when an event needs it */
	__u32 ifindex;
	__u8 dir;              /* enum ws_dir */
	__u8 tc;               /* 0: XDP context, 1: TC (a constant in each program:
				* the other helper's branch folds away) */
	__u32 vlan;            /* TC: the skb's out-of-band 802.1Q/802.1ad tag as
				* (TPID in wire order) << 16 | TCI, or 0 */
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

/*
 * The quiet-flow cache: the data path without a hash-table lookup.
 *
 * A hash-map lookup is a call into the kernel (and a return, expensive on
 * CPUs with return-thunk mitigations); an array lookup is inlined by the
 * verifier.  So each CPU keeps, per bucket of a small direct-mapped table
 * (qslots, per-CPU), the key of one flow that waits for nothing, and counts
 * that flow's data segments there instead of in the flow.
 *
 * Safety (a segment that completes something must never be counted here):
 * a slot is valid only while its bucket's generation (qbuckets, shared) is
 * the one it was installed with.  Every locked update of a flow (any control
 * segment, any pending ACK) and every new flow bumps the generation of its
 * bucket after the state machine ran; an install reads the generation
 * (fully ordered) before it checks that the flow is not pending.  So an
 * install that raced with a state change is either refused or born invalid.
 *
 * Exact counters: what a slot counted stays there until its owner CPU moves
 * it into the flow under the flow's lock (when the slot is replaced); every
 * event adds the slots of its flow on every CPU (qbuckets.holders says
 * which), also under that lock.  Slots carry the flow's t_first, so what an
 * earlier connection on the same 4-tuple counted is never added to a new
 * one.  Every 64 segments the owner looks the flow up anyway: that keeps the
 * flow recent in the LRU and its sequence hint fresh, and notices eviction.
 */
#define WS_QCPUS 64            /* CPUs with an id below this use the cache */

/* struct ws_qslot and struct ws_qbucket: include/ws_event.h (tests read them) */

/* user space may lower both (same size), with qmask = size - 1, before load */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ws_qslot);
} qslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ws_qbucket);
} qbuckets SEC(".maps");

const volatile __u32 qmask = 1023;

/* a0, a1: words 0 and 3 of key endpoint 0's and 1's addresses; p0, p1: their ports */
static __always_inline __u32 qhash_of(__u32 a0, __u32 a1, __u32 p0, __u32 p1, __u32 ifindex)
{
	__u32 h = a0 ^ (a1 * 0x85ebca6bu) ^ (p0 << 16 | p1) ^ (ifindex * 0xc2b2ae35u);

	h *= 0x9e3779b1u;
	return (h ^ (h >> 15)) & qmask;
}

static __always_inline __u32 qhash(const struct ws_flow_key *k)
{
	return qhash_of(k->addr[0][0] ^ k->addr[0][3], k->addr[1][0] ^ k->addr[1][3], k->port[0],
			k->port[1], k->ifindex);
}

static __always_inline int key_eq(const struct ws_flow_key *a, const struct ws_flow_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 d = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*a) / 4); i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;        /* per-CPU: no atomic needed */
}

struct lock_try {
	struct ws_flow *f;
	int got;
};

static long lock_try_cb(__u64 i, void *ctx)
{
	struct lock_try *t = ctx;
	struct ws_flow *f = t->f;

	if (!f)
		return 1;
	/* the compare-and-swap only when the lock looks free: no cache-line ping-pong */
	if (*(volatile __u32 *)&f->lock == 0 && __sync_val_compare_and_swap(&f->lock, 0, 1) == 0) {
		t->got = 1;
		return 1;
	}
	return 0;
}

static __always_inline int flow_trylock(struct ws_flow *f)
{
	struct lock_try t = { .f = f };

	if (__sync_val_compare_and_swap(&f->lock, 0, 1) == 0)
		return 1;       /* the usual case: free */
	bpf_loop(WS_LOCK_TRIES, lock_try_cb, &t, 0);
	return t.got;
}

static __always_inline void flow_unlock(struct ws_flow *f)
{
	__sync_lock_test_and_set(&f->lock, 0);
}

/*
 * Copy the first len bytes of the frame from its linear part [data, end),
 * 8 bytes at a time, without a helper call (each costs a call and a return,
 * and returns are expensive on CPUs with return-thunk mitigations).  The
 * last chunk may copy a few bytes past len, never past the frame or room
 * (what dst holds: 64, 128 or WS_SNAP_MAX, len <= room).
 * Returns 0 when the linear part holds fewer than len bytes.
 */
static __always_inline int copy_linear(__u8 *dst, const __u8 *data, const __u8 *end, __u32 len,
				       __u32 room)
{
	__u32 off = 0;
	int i;

	for (i = 0; i < WS_SNAP_MAX / 8; i++) {
		if (off >= len || off + 8 > room || data + i * 8 + 8 > end)
			break;
		*(__u64 *)(dst + i * 8) = *(const __u64 *)(data + i * 8);
		off += 8;
	}
	if (off >= len)
		return 1;
	/* the frame ends inside this chunk: the rest byte by byte */
	for (i = 0; i < 7; i++) {
		if (off >= len || off >= room)
			break;
		if (data + (off & (WS_SNAP_MAX - 1)) + 1 > end)
			return 0;
		dst[off & (WS_SNAP_MAX - 1)] = data[off & (WS_SNAP_MAX - 1)];
		off++;
	}
	return off >= len;
}

/* What an event carries of its frame: the frame's length and how many of its first bytes. */
struct snap_len {
	__u32 wire;            /* the frame's length */
	__u32 len;             /* bytes to carry: wire, at most snaplen and WS_SNAP_MAX */
	__u32 room;            /* frame bytes the record has room for: WS_EV_ROOM(len) */
};

static __always_inline void snap_measure(struct snap_len *sl, const struct pctx *c)
{
	__u32 wire = c->tc ? c->wire_len : (__u32)bpf_xdp_get_buff_len((struct xdp_md *)c->ctx);
	__u32 len = wire;

	if (len > snaplen)
		len = snaplen;
	if (len > WS_SNAP_MAX)
		len = WS_SNAP_MAX;
	sl->wire = wire;
	sl->len = len;
}

/*
 * Reserve the record of an event that carries sl->len frame bytes: the
 * smallest of the three sizes that holds them (WS_EV_ROOM), so that a
 * control frame does not take a whole WS_SNAP_MAX of ring.  Each branch
 * reserves a constant size, as the verifier requires; it follows each on
 * its own, knowing both the record's size and sl->room there.
 */
static __always_inline struct ws_event *ev_reserve(struct snap_len *sl)
{
	struct ws_event *e;

	sl->room = WS_EV_ROOM(sl->len);
	if (sl->room == 64)
		e = bpf_ringbuf_reserve(&events, WS_EV_FIXED + 64, 0);
	else if (sl->room == 128)
		e = bpf_ringbuf_reserve(&events, WS_EV_FIXED + 128, 0);
	else
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		stat_inc(WS_STAT_RB_DROPS);
	else
		__builtin_memset(e, 0, WS_EV_FIXED);
	return e;
}

/*
 * The frame of an skb whose outermost VLAN tag the stack keeps out of band
 * (skb->vlan_tci: always on TC ingress, after the stack's untagging; on TC
 * egress when a VLAN device hands the tag to a device that inserts it):
 * the tag goes back where it is on the wire, after the MAC addresses, as
 * tcpdump shows it.  len (1 <= len <= room) counts the tag's 4 bytes.
 */
static __always_inline void snap_tagged(struct ws_event *e, const struct pctx *c, __u32 len,
					__u32 room)
{
	if (bpf_skb_load_bytes(c->ctx, 0, e->frame, 12))
		return;
	*(__u16 *)(e->frame + 12) = (__u16)(c->vlan >> 16);        /* TPID, wire order */
	*(__u16 *)(e->frame + 14) = __builtin_bswap16((__u16)c->vlan); /* TCI, from host order */
	if (len > 16) {
		/*
		 * n = len - 16 bytes after the tag, 1 <= n <= room - 16, in a
		 * form 6.1's verifier bounds: masked by the constant room, and
		 * checked in the very register that is then incremented and
		 * passed (the empty asm keeps the compiler from checking one
		 * copy and passing another, whose bound 6.1 does not know).
		 */
		__u32 m = (len - 17) & (room - 1);

		if (m >= room - 16)
			return;
		asm volatile("" : "+r"(m));
		if (bpf_skb_load_bytes(c->ctx, 12, e->frame + 16, m + 1))
			return;
	}
	e->cap_len = (__u16)len;
}

/* Copy the first bytes of the frame into the event (sl: snap_measure, ev_reserve). */
static __always_inline void snap(struct ws_event *e, const struct pctx *c,
				 const struct snap_len *sl)
{
	__u32 len = sl->len, room = sl->room;
	void *data, *end;

	e->wire_len = sl->wire;
	if (len == 0 || len > room)
		return;                          /* len > room: never (ev_reserve chose room) */
	/*
	 * The same value (1 <= len <= room, a power of two), in a form every
	 * verifier bounds by room itself: room is a known constant on each of
	 * ev_reserve's paths, but 6.1 does not carry a comparison's bound over
	 * to a spilled copy of len, and the helper calls below need it.
	 */
	len = ((len - 1) & (room - 1)) + 1;
	if (c->tc && c->vlan) {
		snap_tagged(e, c, len, room);
		return;
	}
	if (c->tc) {
		data = (void *)(long)((struct __sk_buff *)c->ctx)->data;
		end = (void *)(long)((struct __sk_buff *)c->ctx)->data_end;
	} else {
		data = (void *)(long)((struct xdp_md *)c->ctx)->data;
		end = (void *)(long)((struct xdp_md *)c->ctx)->data_end;
	}
	if (copy_linear(e->frame, data, end, len, room)) {
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

/*
 * Submit e (sl->room: its size), waking the reader only when this event is
 * the one that takes what waits past wake_bytes.  Past the mark no event
 * wakes it again (that would be a wake-up per event once the reader falls
 * behind); if concurrent events on other CPUs all land past the mark before
 * any of them looks, none wakes it, and the reader's timer finds them.
 */
static __always_inline void ev_submit(void *e, const struct snap_len *sl)
{
	__u64 flags = 0, avail, rec = WS_RB_RECORD_OF(WS_EV_FIXED + sl->room);

	if (wake_bytes) {
		avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
		flags = avail >= wake_bytes && avail - rec < wake_bytes ? BPF_RB_FORCE_WAKEUP
									 : BPF_RB_NO_WAKEUP;
	}
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void emit_arp(const struct ws_pkt *p, const struct pctx *c)
{
	struct snap_len sl;
	struct ws_event *e;

	snap_measure(&sl, c);
	e = ev_reserve(&sl);
	if (!e)
		return;
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
	snap(e, c, &sl);
	ev_submit(e, &sl);
	stat_inc(WS_STAT_EVENTS);
}

/* What an event needs to know of its flow, copied out while it was locked. */
struct flow_snap {
	__u8 fflags;
	__u8 from_role;
	__u8 pad[6];
	__u64 pkts[2];
	__u64 bytes[2];
	__u64 now;             /* a clock read this segment already made, or 0 */
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

/*
 * The normalised flow key: endpoint 0 is the lower (address, port).
 * key_src() says which key endpoint (0/1) the sender is; key_fill() builds
 * the key in that orientation.  The data path (qkey_is() too) and the full
 * path both orient through key_src(), so they always find the same flow.
 */
static __always_inline __u8 key_src(__u8 family, const __u32 *saddr, const __u32 *daddr,
				    __u16 sport, __u16 dport)
{
	int cmp;

	/* IPv4 uses word 0 only (the others are 0 on both sides) */
	cmp = family == 4 ? (saddr[0] == daddr[0] ? 0 : saddr[0] < daddr[0] ? -1 : 1)
			  : addr_cmp(saddr, daddr);
	if (cmp == 0)
		cmp = sport < dport ? -1 : (sport > dport);
	return cmp <= 0 ? 0 : 1;
}

static __always_inline void key_fill(struct ws_flow_key *key, __u8 src, __u32 ifindex,
				     __u8 family, const __u32 *saddr, const __u32 *daddr,
				     __u16 sport, __u16 dport)
{
	key->ifindex = ifindex;
	key->family = family;
	if (src == 0) {
		__builtin_memcpy(key->addr[0], saddr, 16);
		__builtin_memcpy(key->addr[1], daddr, 16);
		key->port[0] = sport;
		key->port[1] = dport;
	} else {
		__builtin_memcpy(key->addr[0], daddr, 16);
		__builtin_memcpy(key->addr[1], saddr, 16);
		key->port[0] = dport;
		key->port[1] = sport;
	}
}

static __always_inline __u8 flow_key(const struct ws_pkt *p, __u32 ifindex,
				     struct ws_flow_key *key)
{
	__u8 family = p->l3 == WS_L3_IPV6 ? 6 : 4;
	__u8 src = key_src(family, p->saddr, p->daddr, p->sport, p->dport);

	key_fill(key, src, ifindex, family, p->saddr, p->daddr, p->sport, p->dport);
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

/* ---- the quiet-flow cache (see qslots above) ---- */

/*
 * Add what the slots of every CPU counted for f and hold yet (f is locked).
 * b is bucket idx of qbuckets, f's bucket.
 */
static __always_inline void qpeek(struct ws_qbucket *b, __u32 idx, const struct ws_flow_key *key,
				  const struct ws_flow *f, struct flow_snap *sn)
{
	__u64 mask;
	__u32 cpu;

	if (!b)
		return;
	mask = *(volatile __u64 *)&b->holders;
	for (cpu = 0; cpu < WS_QCPUS; cpu++) {
		struct ws_qslot *q;

		if (!mask)
			break;
		if (!(mask & 1)) {
			mask >>= 1;
			continue;
		}
		mask >>= 1;
		q = bpf_map_lookup_percpu_elem(&qslots, &idx, cpu);
		if (!q || !q->live || q->t_first != f->t_first || !key_eq(&q->key, key))
			continue;
		sn->pkts[0] += q->pkts[0];
		sn->pkts[1] += q->pkts[1];
		sn->bytes[0] += q->bytes[0];
		sn->bytes[1] += q->bytes[1];
	}
}

/* A locked update of a flow of bucket b happened: its slots are no longer valid. */
static __always_inline void qbump(struct ws_qbucket *b)
{
	if (b)
		__sync_fetch_and_add(&b->gen, 1);
}

/* This CPU's slot q (bucket b) gives up its flow: its counts go to the flow. */
static __always_inline int qsettle(struct ws_qslot *q, struct ws_qbucket *b, __u32 cpu)
{
	struct ws_flow *f = bpf_map_lookup_elem(&flows, &q->key);
	int r;

	if (f && f->t_first == q->t_first) {
		if (!flow_trylock(f))
			return 0;                /* later: the counts stay visible to events */
		__sync_fetch_and_add(&f->pkts[0], q->pkts[0]);
		__sync_fetch_and_add(&f->pkts[1], q->pkts[1]);
		__sync_fetch_and_add(&f->bytes[0], q->bytes[0]);
		__sync_fetch_and_add(&f->bytes[1], q->bytes[1]);
		for (r = 0; r < 2; r++)
			if (q->end_known[r])
				ws_seq_seen(f, (__u8)r, WS_TCP_ACK, q->end[r], 0);
		q->live = 0;
		flow_unlock(f);
	} else {
		q->live = 0;                     /* that connection is gone: nothing to add to */
	}
	__sync_fetch_and_and(&b->holders, ~(1ull << cpu));
	return 1;
}

/*
 * f (key, bucket idx) was found quiet by this CPU's data path: make this
 * CPU's slot of the bucket count it from now on, if the slot can be had.
 */
static __noinline void qinstall(const struct ws_flow_key *key, struct ws_flow *f)
{
	__u32 idx = qhash(key), cpu = bpf_get_smp_processor_id(), g;
	struct ws_qbucket *b;
	struct ws_qslot *q;

	if (cpu >= WS_QCPUS)
		return;
	q = bpf_map_lookup_elem(&qslots, &idx);
	b = bpf_map_lookup_elem(&qbuckets, &idx);
	if (!q || !b)
		return;
	if (q->live) {
		int stale = q->gen != *(volatile __u32 *)&b->gen;

		if (!stale && key_eq(&q->key, key))
			return;                  /* already this flow's (qcount would have counted) */
		if (!stale && q->used) {
			q->used = 0;             /* a busy flow holds it: ask again later */
			return;
		}
		if (!qsettle(q, b, cpu))
			return;
	}
	/* generation first, fully ordered, then the flow's state (see qslots) */
	g = __sync_fetch_and_add(&b->gen, 0);
	if (*(volatile __u8 *)&f->pending)
		return;
	__builtin_memcpy(&q->key, key, sizeof(*key));
	q->gen = g;
	q->t_first = f->t_first;
	q->cli = f->cli;
	q->pkts[0] = q->pkts[1] = 0;
	q->bytes[0] = q->bytes[1] = 0;
	q->end_known[0] = q->end_known[1] = 0;
	q->n = 0;
	q->used = 1;
	q->live = 1;
	__sync_fetch_and_or(&b->holders, 1ull << cpu);
}

/*
 * Is k the key key_fill() would build for this segment (src: key_src())?
 * Compared field by field, so the data path builds no key when its slot hits.
 */
static __always_inline int qkey_is(const struct ws_flow_key *k, const struct ws_quick *qp,
				   __u32 ifindex, __u8 src)
{
	__u32 d = (k->ifindex ^ ifindex) | (k->family ^ qp->family);
	int i;

	src &= 1;
#pragma unroll
	for (i = 0; i < 4; i++)
		d |= (k->addr[src][i] ^ qp->saddr[i]) | (k->addr[src ^ 1][i] ^ qp->daddr[i]);
	d |= (k->port[src] ^ qp->sport) | (k->port[src ^ 1] ^ qp->dport);
	return d == 0;
}

/*
 * Count a data segment in this CPU's slot when the slot is valid for its
 * flow (the slot qhash() of its key picks).  Returns 1 when counted.
 */
static __always_inline int qcount(const struct ws_quick *qp, __u32 ifindex, __u8 src)
{
	__u32 sa = qp->saddr[0] ^ qp->saddr[3], da = qp->daddr[0] ^ qp->daddr[3];
	__u32 idx = src ? qhash_of(da, sa, qp->dport, qp->sport, ifindex)
			: qhash_of(sa, da, qp->sport, qp->dport, ifindex);
	__u32 cpu = bpf_get_smp_processor_id(), end;
	struct ws_qbucket *b;
	struct ws_qslot *q;
	__u8 role;

	if (cpu >= WS_QCPUS)
		return 0;
	q = bpf_map_lookup_elem(&qslots, &idx);
	b = bpf_map_lookup_elem(&qbuckets, &idx);
	if (!q || !b || !q->live || q->gen != *(volatile __u32 *)&b->gen ||
	    !qkey_is(&q->key, qp, ifindex, src))
		return 0;
	role = src == q->cli ? WS_CLIENT : WS_SERVER;
	q->pkts[role] += 1;
	q->bytes[role] += qp->paylen;
	q->used = 1;
	end = qp->seq + qp->paylen;
	if (!q->end_known[role] || (__s32)(end - q->end[role]) > 0) {
		q->end[role] = end;
		q->end_known[role] = 1;
	}
	if ((++q->n & 63) == 0) {
		/* keep the flow recent in the LRU, its sequence hint fresh; notice eviction */
		struct ws_flow *f = bpf_map_lookup_elem(&flows, &q->key);

		if (!f || f->t_first != q->t_first) {
			q->live = 0;             /* evicted: nothing to add the counts to */
			__sync_fetch_and_and(&b->holders, ~(1ull << cpu));
		} else if (q->end_known[role]) {
			ws_seq_seen(f, role, WS_TCP_ACK, q->end[role], 0);
		}
	}
	return 1;
}

/*
 * Where ws_track() builds a new flow before inserting it, or before copying
 * it over a finished one: per CPU, not on its stack, so the deepest call
 * chain (program -> ws_track -> ws_step -> ws_tr) stays well inside the 512
 * bytes older kernels allow (scripts/bpf-stack.sh).  Programs on one CPU do
 * not interleave (XDP and TC run with bottom halves off), so one is enough.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ws_flow);
} newflow SEC(".maps");

/*
 * Account the segment to its flow and step the flow's state machine.
 * Returns 1 when the segment is an event (o and s say what to report).
 */
__noinline int ws_track(const struct ws_pkt *p, __u32 ifindex, struct ws_fsm_out *o,
			struct flow_snap *s)
{
	struct ws_flow_key key = {};
	struct ws_flow *nf;      /* one for both paths below: newflow */
	__u32 zero = 0;
	struct ws_qbucket *qb;
	struct ws_flow *f;
	__u32 qidx;
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
			nf = bpf_map_lookup_elem(&newflow, &zero);
			if (!nf) {
				flow_unlock(f);
				return 0;
			}
			ws_flow_init(nf, src);
			nf->lock = 1;
			nf->t_first = s->now = bpf_ktime_get_ns();
			nf->pkts[WS_CLIENT] = 1;
			nf->bytes[WS_CLIENT] = p->paylen;
			*f = *nf;
			o->note |= WS_NOTE_REUSED;
			role = WS_CLIENT;
		}
		ws_step(f, p, role, o);
		snap_flow(s, f, role);
		qidx = qhash(&key);
		qb = bpf_map_lookup_elem(&qbuckets, &qidx);
		qpeek(qb, qidx, &key, f, s);
		flow_unlock(f);
		qbump(qb);      /* after the state machine ran, before the segment goes on */
		return o->emit;
	}

	if (flags & WS_TCP_RST) {
		/* a RST for no known connection: report it, keep nothing */
		o->note = WS_NOTE_NO_FLOW;
		o->emit = 1;
		s->from_role = p->sport > p->dport ? WS_CLIENT : WS_SERVER;
		return 1;
	}

	nf = bpf_map_lookup_elem(&newflow, &zero);
	if (!nf)
		return 0;
	if ((flags & (WS_TCP_SYN | WS_TCP_ACK)) == WS_TCP_SYN) {
		ws_flow_init(nf, src);
	} else if (flags & WS_TCP_SYN) {
		/* SYN-ACK whose SYN was not seen: the receiver is the client */
		ws_flow_init(nf, src ^ 1);
		nf->st[WS_CLIENT] = WS_ST_SYN_SENT;
		nf->isn[WS_CLIENT] = p->ack - 1;
		nf->fflags = WS_FF_MIDSTREAM;
		o->note |= WS_NOTE_PICKUP;
	} else {
		ws_flow_init_midstream(nf, p->sport > p->dport ? src : src ^ 1, o);
	}
	role = src == nf->cli ? WS_CLIENT : WS_SERVER;
	nf->t_first = s->now = bpf_ktime_get_ns();
	nf->pkts[role] = 1;
	nf->bytes[role] = p->paylen;
	ws_step(nf, p, role, o);
	snap_flow(s, nf, role);
	if (bpf_map_update_elem(&flows, &key, nf, BPF_NOEXIST) == 0)
		stat_inc(WS_STAT_FLOWS);
	else
		stat_inc(WS_STAT_FLOW_FAIL);
	qidx = qhash(&key);
	qbump(bpf_map_lookup_elem(&qbuckets, &qidx));   /* a slot of an evicted flow of this key is void */
	return o->emit;
}

/*
 * The data path, kept short: a segment without SYN, FIN or RST, of a flow the
 * table knows and that waits for nothing (no handshake or FIN to complete).
 * It only counts.  Returns 1 when the frame is done; 0 sends it down the
 * full path (ws_parse, ws_track), which also handles what this one skipped:
 * tags, IP options, extension headers, errors, new flows, pending ACKs.
 */
/* The data path's stack, shared with the full path's struct ws_pkt (512 bytes in all). */
union scratch {
	struct ws_pkt p;
	struct {
		struct ws_flow_key key;
		struct ws_quick q;
	} d;
};

static __always_inline int quick_path(void *data, void *end, __u32 ifindex, union scratch *u)
{
	struct ws_flow_key *kp = &u->d.key;
	struct ws_quick *qp = &u->d.q;
	struct ws_flow *f;
	__u8 src, role;

	if (!ws_parse_quick(data, end, qp) ||
	    (qp->tcp_flags & (WS_TCP_SYN | WS_TCP_FIN | WS_TCP_RST)))
		return 0;
	src = key_src(qp->family, qp->saddr, qp->daddr, qp->sport, qp->dport);
	if (qcount(qp, ifindex, src)) {
		stat_inc(WS_STAT_PACKETS);
		return 1;
	}
	__builtin_memset(kp, 0, sizeof(*kp));
	key_fill(kp, src, ifindex, qp->family, qp->saddr, qp->daddr, qp->sport, qp->dport);
	f = bpf_map_lookup_elem(&flows, kp);
	if (!f || f->pending)
		return 0;
	role = src == f->cli ? WS_CLIENT : WS_SERVER;
	__sync_fetch_and_add(&f->pkts[role], 1);
	if (qp->paylen)
		__sync_fetch_and_add(&f->bytes[role], qp->paylen);
	/* unlocked, like the counters: a hint that only moves forward */
	ws_seq_seen(f, role, qp->tcp_flags, qp->seq, qp->paylen);
	qinstall(kp, f);
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
	struct snap_len sl;
	struct ws_event *e;

	snap_measure(&sl, c);
	e = ev_reserve(&sl);
	if (!e)
		return 0;
	/* a new flow's first event: the time it was created (one clock read, ~10% of a SYN) */
	e->ts_ns = s->now ? s->now : bpf_ktime_get_ns();
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
	snap(e, c, &sl);
	ev_submit(e, &sl);
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

/*
 * Each program runs the data path (quick_path) inline, without a call, and
 * falls back to the full path; the two share their largest stack objects
 * (union scratch), so the deepest call chain stays within 512 bytes.
 */
static __always_inline void full_xdp(struct xdp_md *ctx, struct ws_pkt *p)
{
	struct pctx c = {
		.ctx = ctx,
		.ifindex = ctx->ingress_ifindex,
		.dir = WS_DIR_INGRESS,
	};
	int err = ws_parse_xdp(ctx, p);

	handle(&c, p, err);
}

static __always_inline void full_skb(struct __sk_buff *skb, __u8 dir, struct ws_pkt *p)
{
	struct pctx c = {
		.ctx = skb,
		.wire_len = skb->len,
		.ifindex = skb->ifindex,
		.dir = dir,
		.tc = 1,
	};
	int err = ws_parse_skb(skb, p);

	/*
	 * An out-of-band tag is the frame's outermost: the parser saw only
	 * the tags still in the frame, inside it.  Past WS_MAX_VLAN tags the
	 * innermost go unreported, as the parser's own limit would have it.
	 */
	if (skb->vlan_present) {
		c.vlan = skb->vlan_proto << 16 | (skb->vlan_tci & 0xffff);
		c.wire_len += 4;
		/* ws_parse's limit counts every tag, wherever the stack keeps it */
		if (p->nvlan >= WS_MAX_VLAN)
			err = p->err = WS_ERR_VLAN_DEPTH;
		p->vlan_id[1] = p->vlan_id[0];
		p->vlan_id[0] = skb->vlan_tci & 0x0fff;
		if (p->nvlan < WS_MAX_VLAN)
			p->nvlan++;
	}
	handle(&c, p, err);
}

SEC("xdp.frags")
int ws_xdp(struct xdp_md *ctx)
{
	union scratch u;

	if (!quick_path((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			ctx->ingress_ifindex, &u))
		full_xdp(ctx, &u.p);
	return XDP_PASS;
}

#define WS_TC_NEXT (-1)   /* TC_ACT_UNSPEC / TCX_NEXT: let whatever follows decide */

SEC("tc")
int ws_tc_egress(struct __sk_buff *skb)
{
	union scratch u;

	if (!quick_path((void *)(long)skb->data, (void *)(long)skb->data_end, skb->ifindex, &u))
		full_skb(skb, WS_DIR_EGRESS, &u.p);
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
	union scratch u;

	if (!quick_path((void *)(long)skb->data, (void *)(long)skb->data_end, skb->ifindex, &u))
		full_skb(skb, WS_DIR_INGRESS, &u.p);
	return WS_TC_NEXT;
}

/* The baseline for benchmarks and tests: an XDP program that only passes. */
SEC("xdp")
int ws_xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}
