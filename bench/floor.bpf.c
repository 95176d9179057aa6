// SPDX-License-Identifier: GPL-2.0
/*
 * Floors for section 1 of the benchmarks (bench/README.md): each program
 * below does one thing wirestate cannot avoid doing, and nothing else, so
 * `xdp_cost cost` can print what that thing alone costs next to the empty
 * program on this machine.  A target below a floor cannot be met by any
 * program that does that thing.  Not part of wirestate: only xdp_cost loads
 * this object.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "ws_parse.h"
#include "ws_event.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fl_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ws_flow_key);
	__type(value, __u64);
} fl_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);        /* xdp_cost sizes it before load */
} fl_events SEC(".maps");

/* What ws_xdp's data path reads of a frame: ws_parse_quick, the same code. */
SEC("xdp")
int floor_parse(struct xdp_md *ctx)
{
	struct ws_quick q;

	if (ws_parse_quick((void *)(long)ctx->data, (void *)(long)ctx->data_end, &q))
		asm volatile("" : : "r"(q.seq), "r"(q.paylen) : "memory");
	return XDP_PASS;
}

/* The parse and one per-CPU counter: the least state a packet can touch. */
SEC("xdp")
int floor_count(struct xdp_md *ctx)
{
	struct ws_quick q;
	__u32 zero = 0;
	__u64 *v;

	if (ws_parse_quick((void *)(long)ctx->data, (void *)(long)ctx->data_end, &q)) {
		v = bpf_map_lookup_elem(&fl_count, &zero);
		if (v)
			*v += q.paylen;
	}
	return XDP_PASS;
}

/* The parse and one lookup of the frame's flow in an LRU hash (the flow table). */
SEC("xdp")
int floor_lookup(struct xdp_md *ctx)
{
	struct ws_flow_key k = {};
	struct ws_quick q;
	__u64 *v;

	if (!ws_parse_quick((void *)(long)ctx->data, (void *)(long)ctx->data_end, &q))
		return XDP_PASS;
	k.family = q.family;
	__builtin_memcpy(k.addr[0], q.saddr, 16);
	__builtin_memcpy(k.addr[1], q.daddr, 16);
	k.port[0] = q.sport;
	k.port[1] = q.dport;
	v = bpf_map_lookup_elem(&fl_flows, &k);
	if (v) {
		*v += 1;
	} else {
		__u64 one = 1;

		/* the first run only: every later one finds the flow, as ws_xdp does */
		bpf_map_update_elem(&fl_flows, &k, &one, BPF_NOEXIST);
	}
	return XDP_PASS;
}

/*
 * One event and nothing else: reserve a record of the size wirestate's
 * smallest events take (WS_EV_SIZE(64): an ARP request, a RST), zero its
 * fixed part as wirestate does, stamp it with bpf_ktime_get_ns(), submit
 * it.  No parse, no frame bytes.  The zeroing is not optional work: a
 * record of which only the stamp is written cost ~150 ns here against
 * ~93 ns for one whose fixed part is zeroed (392-byte records, Xeon, KVM),
 * since the ring's lines are cold and sparse writes defeat the prefetcher.
 */
SEC("xdp")
int floor_event(struct xdp_md *ctx)
{
	struct ws_event *e = bpf_ringbuf_reserve(&fl_events, WS_EV_SIZE(64), 0);

	if (!e)
		return XDP_PASS;
	__builtin_memset(e, 0, WS_EV_FIXED);
	e->ts_ns = bpf_ktime_get_ns();
	e->type = WS_EV_ARP;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

/* The TC rows' baseline: a TC program that only says "next", as wirestate's do. */
SEC("tc")
int tc_empty(struct __sk_buff *skb)
{
	return -1;   /* TC_ACT_UNSPEC / TCX_NEXT */
}
