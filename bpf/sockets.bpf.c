// SPDX-License-Identifier: GPL-2.0
/*
 * wirestate's socket view: what the local TCP sockets themselves do, from
 * tracepoints (tp_btf, so neither tracefs nor kprobes are needed):
 *
 *   inet_sock_set_state    every state change of a TCP socket
 *   tcp_retransmit_skb     retransmitted segments (SYNs in SYN_SENT...)
 *   tcp_retransmit_synack  retransmitted SYN-ACKs of a listener
 *   tcp_send_reset         a RST this host sends
 *   tcp_receive_reset      a RST a socket accepts
 *
 * Only inet_sock_set_state is required; user space switches the others off
 * when the running kernel lacks them.
 *
 * The owning process: pid/comm are taken from the current task only for the
 * transitions that happen inside the owner's own system call (connect(),
 * listen(), close()/shutdown()), remembered per socket, and reused for the
 * transitions that happen later in softirq context.  Anything else carries
 * no pid rather than whichever task the softirq interrupted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "ws_parse.h"
#include "ws_sock.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET    2
#define AF_INET6   10
#define PF_KTHREAD 0x00200000

/* Filters, set by user space before load (0: no filter). */
const volatile __u32 f_netns = 0;
const volatile __u16 f_port = 0;
const volatile __u8 f_family = 0;
const volatile __u8 f_host_family = 0;
const volatile __u32 f_host[4] = { 0, 0, 0, 0 };

struct owner {
	__u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);        /* user space may change it before load */
} sk_events SEC(".maps");

/* socket address -> the process that last acted on it in a system call */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct owner);
} owners SEC(".maps");

/*
 * CLOSE -> SYN_SENT is traced before connect() picks the local port, and
 * (on older kernels such as 6.1) LISTEN -> SYN_RECV before the new socket
 * knows its peer.  Such an event waits here and leaves with the socket's
 * next event (ESTABLISHED, a retransmission, a RST or CLOSE), what it lacked
 * filled in from that one, its own time kept.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct ws_sock_ev);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WS_SKSTAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} sk_stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&sk_stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline bool host_is(const __u32 *a, __u8 family)
{
	if (f_host_family == 4) {
		if (family == 4)
			return a[0] == f_host[0];
		/* an IPv6 socket talking IPv4: ::ffff:a.b.c.d */
		return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff) && a[3] == f_host[0];
	}
	return family == 6 && a[0] == f_host[0] && a[1] == f_host[1] && a[2] == f_host[2] &&
	       a[3] == f_host[3];
}

static __always_inline bool wanted(const struct ws_sock_ev *e)
{
	if (f_family && e->family != f_family)
		return false;
	if (f_netns && e->netns != f_netns)
		return false;
	if (f_port && e->sport != f_port && e->dport != f_port)
		return false;
	if (f_host_family && !host_is(e->saddr, e->family) && !host_is(e->daddr, e->family))
		return false;
	return true;
}

static __always_inline void emit(const struct ws_sock_ev *e)
{
	if (!wanted(e))
		return;
	if (bpf_ringbuf_output(&sk_events, (void *)e, sizeof(*e), 0))
		stat_inc(WS_SKSTAT_RB_DROPS);
	else
		stat_inc(WS_SKSTAT_EVENTS);
}

/*
 * Addresses, ports and namespace of a socket, request or timewait socket.
 * full: skc is a full socket's, whose local port is read from inet_sport:
 * skc_num is already 0 when the CLOSE transition is traced (the port went
 * back to the bind table first).
 */
static __always_inline int fill_sock(struct ws_sock_ev *e, const struct sock_common *skc,
				     bool full)
{
	__u16 family = BPF_CORE_READ(skc, skc_family);

	if (family == AF_INET) {
		e->family = 4;
		e->saddr[0] = BPF_CORE_READ(skc, skc_rcv_saddr);
		e->daddr[0] = BPF_CORE_READ(skc, skc_daddr);
	} else if (family == AF_INET6) {
		e->family = 6;
		bpf_core_read(e->saddr, sizeof(e->saddr), &skc->skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, sizeof(e->daddr), &skc->skc_v6_daddr);
	} else {
		return -1;
	}
	if (full)
		e->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)skc, inet_sport));
	else
		e->sport = BPF_CORE_READ(skc, skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	e->netns = BPF_CORE_READ(skc, skc_net.net, ns.inum);
	return 0;
}

/*
 * Addresses from the packet a RST answers (no socket to read them from):
 * the RST goes back, so the packet's destination is the local end.
 */
static __always_inline int fill_skb(struct ws_sock_ev *e, const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__u8 vihl;
	__u16 ports[2];

	if (!head || nh == 0xffff || th == 0xffff || th <= nh)
		return -1;
	if (bpf_probe_read_kernel(&vihl, 1, head + nh))
		return -1;
	if (vihl >> 4 == 4) {
		e->family = 4;
		if (bpf_probe_read_kernel(&e->saddr[0], 4, head + nh + 16) ||
		    bpf_probe_read_kernel(&e->daddr[0], 4, head + nh + 12))
			return -1;
	} else if (vihl >> 4 == 6) {
		e->family = 6;
		if (bpf_probe_read_kernel(e->saddr, 16, head + nh + 24) ||
		    bpf_probe_read_kernel(e->daddr, 16, head + nh + 8))
			return -1;
	} else {
		return -1;
	}
	if (bpf_probe_read_kernel(ports, sizeof(ports), head + th))
		return -1;
	e->sport = bpf_ntohs(ports[1]);
	e->dport = bpf_ntohs(ports[0]);
	e->netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	return 0;
}

static __always_inline void owner_copy(struct ws_sock_ev *e, const struct owner *o, __u8 how)
{
	e->pid = o->pid;
	__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	e->owner = how;
}

static __always_inline void owner_lookup(struct ws_sock_ev *e, __u64 key)
{
	struct owner *o = bpf_map_lookup_elem(&owners, &key);

	if (o)
		owner_copy(e, o, WS_OWN_REMEMBERED);
}

/*
 * Does this transition run in a system call of the socket's owner?
 * CLOSE -> SYN_SENT: connect() (or a TCP Fast Open sendmsg());
 * -> LISTEN: listen(); -> FIN_WAIT1 and CLOSE_WAIT -> LAST_ACK: close() or
 * shutdown().  Every other transition may run in softirq context, on top of
 * whatever task happened to be interrupted.  Kernel sockets (sk_kern_sock,
 * e.g. MPTCP subflows) and kernel threads own nothing a user would look for.
 */
static __always_inline bool in_owner_syscall(const struct sock *sk, int oldstate, int newstate)
{
	struct task_struct *task;

	if (!((oldstate == WS_KTCP_CLOSE && newstate == WS_KTCP_SYN_SENT) ||
	      newstate == WS_KTCP_LISTEN || newstate == WS_KTCP_FIN_WAIT1 ||
	      (oldstate == WS_KTCP_CLOSE_WAIT && newstate == WS_KTCP_LAST_ACK)))
		return false;
	if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock))
		return false;
	task = bpf_get_current_task_btf();
	return !(BPF_CORE_READ(task, flags) & PF_KTHREAD);
}

/* An event held back for its port or peer: send it before anything newer. */
static __always_inline void flush_pending(__u64 key, const struct ws_sock_ev *cur)
{
	struct ws_sock_ev *p = bpf_map_lookup_elem(&pending, &key);

	if (!p)
		return;
	if (!p->sport)
		p->sport = cur->sport;
	if (!p->dport && p->family == cur->family) {
		p->dport = cur->dport;
		__builtin_memcpy(p->daddr, cur->daddr, sizeof(p->daddr));
		if (!p->saddr[0] && !p->saddr[1] && !p->saddr[2] && !p->saddr[3])
			__builtin_memcpy(p->saddr, cur->saddr, sizeof(p->saddr));
	}
	emit(p);
	bpf_map_delete_elem(&pending, &key);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ws_sk_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct ws_sock_ev e = {};
	__u64 key = (__u64)sk;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (fill_sock(&e, &sk->__sk_common, true))
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.sk = key;
	e.kind = WS_SK_STATE;
	e.old_state = (__u8)oldstate;
	e.new_state = (__u8)newstate;

	if (in_owner_syscall(sk, oldstate, newstate)) {
		struct owner o = {};

		o.pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
		bpf_get_current_comm(o.comm, sizeof(o.comm));
		owner_copy(&e, &o, WS_OWN_CURRENT);
		if (bpf_map_update_elem(&owners, &key, &o, BPF_ANY))
			stat_inc(WS_SKSTAT_OWNER_FAIL);
	} else {
		owner_lookup(&e, key);
	}

	flush_pending(key, &e);
	if (((oldstate == WS_KTCP_CLOSE && newstate == WS_KTCP_SYN_SENT && !e.sport) ||
	     (oldstate == WS_KTCP_LISTEN && newstate == WS_KTCP_SYN_RECV && !e.dport)) &&
	    !bpf_map_update_elem(&pending, &key, &e, BPF_ANY))
		return 0;
	emit(&e);
	if (newstate == WS_KTCP_CLOSE)
		bpf_map_delete_elem(&owners, &key);     /* the address may be a new socket next */
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(ws_sk_retrans, const struct sock *sk, const struct sk_buff *skb)
{
	struct ws_sock_ev e = {};
	__u64 key = (__u64)sk;
	const struct tcp_skb_cb *tcb;

	if (!sk || fill_sock(&e, &sk->__sk_common, true))
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.sk = key;
	e.kind = WS_SK_RETRANS;
	e.new_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (skb) {
		tcb = (const struct tcp_skb_cb *)&skb->cb[0];
		e.tcp_flags = (__u8)BPF_CORE_READ_BITFIELD_PROBED(tcb, tcp_flags);
	}
	owner_lookup(&e, key);
	flush_pending(key, &e);
	emit(&e);
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(ws_sk_retrans_synack, const struct sock *sk, const struct request_sock *req)
{
	struct ws_sock_ev e = {};

	if (!req || fill_sock(&e, &req->__req_common, false))
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.sk = (__u64)req;
	e.kind = WS_SK_RETRANS;
	e.new_state = WS_KTCP_SYN_RECV;
	e.tcp_flags = WS_TCP_SYN | WS_TCP_ACK;
	if (sk)
		owner_lookup(&e, (__u64)sk);    /* the listener's owner answers the SYN */
	emit(&e);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(ws_sk_rcv_rst, struct sock *sk)
{
	struct ws_sock_ev e = {};
	__u64 key = (__u64)sk;

	if (!sk || fill_sock(&e, &sk->__sk_common, true))
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.sk = key;
	e.kind = WS_SK_RECV_RESET;
	e.new_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e.tcp_flags = WS_TCP_RST;
	owner_lookup(&e, key);
	flush_pending(key, &e);
	emit(&e);
	return 0;
}

/*
 * sk is NULL when no socket matched (a SYN to a closed port), a listener, a
 * request or timewait socket, or the full socket that aborts; skb is the
 * packet being answered, or NULL for an abort (newer kernels).
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(ws_sk_snd_rst, const struct sock *sk, const struct sk_buff *skb)
{
	struct ws_sock_ev e = {};
	__u8 state = WS_KTCP_CLOSE;
	int have = 0;

	if (sk) {
		state = BPF_CORE_READ(sk, __sk_common.skc_state);
		/* a listener has no peer: the packet says who was answered */
		if (state != WS_KTCP_LISTEN &&
		    !fill_sock(&e, &sk->__sk_common,
			       state != WS_KTCP_TIME_WAIT && state != WS_KTCP_NEW_SYN_RECV))
			have = 1;
	}
	if (!have && skb) {
		if (fill_skb(&e, skb))
			return 0;
		if (sk)
			e.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
		have = 1;
	}
	if (!have)
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.sk = (__u64)sk;
	e.kind = WS_SK_SEND_RESET;
	e.new_state = state;
	e.tcp_flags = WS_TCP_RST;
	if (sk && state != WS_KTCP_TIME_WAIT && state != WS_KTCP_NEW_SYN_RECV) {
		owner_lookup(&e, (__u64)sk);
		flush_pending((__u64)sk, &e);
	}
	emit(&e);
	return 0;
}
