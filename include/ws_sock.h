/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The socket view: what bpf/sockets.bpf.c reports about local TCP sockets
 * (state changes from the inet_sock_set_state tracepoint, retransmissions,
 * resets) and the user-space side in user/sockets.c.
 *
 * States are the kernel's own TCP_* numbers (include/net/tcp_states.h), not
 * enum ws_state: the socket view reports what the kernel did, the wire view
 * what the packets imply.  ws_sock_state_name() maps them to the wire view's
 * names.
 */
#ifndef WS_SOCK_H
#define WS_SOCK_H

#include "ws_types.h"

/* include/net/tcp_states.h */
enum ws_ktcp_state {
	WS_KTCP_ESTABLISHED = 1,
	WS_KTCP_SYN_SENT,
	WS_KTCP_SYN_RECV,
	WS_KTCP_FIN_WAIT1,
	WS_KTCP_FIN_WAIT2,
	WS_KTCP_TIME_WAIT,
	WS_KTCP_CLOSE,
	WS_KTCP_CLOSE_WAIT,
	WS_KTCP_LAST_ACK,
	WS_KTCP_LISTEN,
	WS_KTCP_CLOSING,
	WS_KTCP_NEW_SYN_RECV,
	WS_KTCP__MAX
};

enum ws_sock_kind {
	WS_SK_STATE = 1,       /* old_state -> new_state */
	WS_SK_RETRANS,         /* a segment was retransmitted in new_state (tcp_flags: which) */
	WS_SK_SEND_RESET,      /* this host sent a RST in new_state (CLOSE: no socket) */
	WS_SK_RECV_RESET,      /* a RST was accepted in new_state */
};

/* How pid/comm were learned (ws_sock_ev.owner). */
enum ws_sock_owner {
	WS_OWN_NONE = 0,       /* unknown: pid and comm are empty */
	WS_OWN_CURRENT,        /* this transition ran in the owner's system call */
	WS_OWN_REMEMBERED,     /* from the last such system call on this socket */
};

struct ws_sock_ev {
	__u64 ts_ns;           /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 sk;              /* kernel socket address: an identity, never printed */
	__u32 netns;           /* network namespace inode (ls -l /proc/PID/ns/net) */
	__u32 pid;             /* thread group id, 0 when unknown */
	char  comm[16];
	__u8  kind;            /* enum ws_sock_kind */
	__u8  family;          /* 4 or 6 */
	__u8  old_state;       /* WS_KTCP_*, WS_SK_STATE only */
	__u8  new_state;       /* WS_KTCP_*: the new state, or the state of the socket */
	__u8  owner;           /* enum ws_sock_owner */
	__u8  tcp_flags;       /* WS_SK_RETRANS: WS_TCP_* of the retransmitted segment */
	__u16 sport, dport;    /* host order; sport is the local port */
	__u32 saddr[4];        /* local address, network order (IPv4 in [0]) */
	__u32 daddr[4];        /* remote address */
};

/* Per-CPU counters of the socket program (array map "sk_stats"). */
enum ws_sock_stat {
	WS_SKSTAT_EVENTS = 0,  /* events written to the ring buffer */
	WS_SKSTAT_RB_DROPS,    /* events lost: ring buffer full */
	WS_SKSTAT_OWNER_FAIL,  /* owner could not be remembered (map full) */
	WS_SKSTAT__MAX
};

#ifndef __bpf__
/* ---- user space (user/sockets.c) ---- */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* getopt_long codes of the socket view's options (main.c's table lists them) */
enum {
	WS_SOCK_OPT_SOCKETS = 0x2000,
	WS_SOCK_OPT_ONLY,
	WS_SOCK_OPT_PORT,
	WS_SOCK_OPT_HOST,
	WS_SOCK_OPT_CORRELATE,
};
#define WS_SOCK_SHORTOPTS "46"
#define WS_SOCK_LONGOPTS \
	{ "sockets", no_argument, NULL, WS_SOCK_OPT_SOCKETS }, \
	{ "sockets-only", no_argument, NULL, WS_SOCK_OPT_ONLY }, \
	{ "port", required_argument, NULL, WS_SOCK_OPT_PORT }, \
	{ "host", required_argument, NULL, WS_SOCK_OPT_HOST }, \
	{ "correlate-ms", required_argument, NULL, WS_SOCK_OPT_CORRELATE }
#define WS_SOCK_USAGE \
	"      --sockets           also show local TCP sockets' state changes (socket view)\n" \
	"      --sockets-only      only the socket view: no interface needed\n" \
	"      --port N            socket view: only sockets with local or remote port N\n" \
	"      --host ADDR         socket view: only sockets with local or remote address ADDR\n" \
	"  -4, -6                  socket view: only IPv4 / IPv6 sockets\n" \
	"                          (--pid and --netns limit the socket view to that namespace)\n" \
	"      --correlate-ms N    with --sockets and -i: report a socket that has not followed\n" \
	"                          the wire's FIN/RST within N ms (default 500, 0: off)\n"

struct ws_sock_opts {
	bool enabled;          /* --sockets or --sockets-only */
	bool only;             /* --sockets-only */
	bool filtered;         /* a filter option was given */
	const char *ns_spec;   /* --pid PID or --netns NAME|PATH (main.c's options), or NULL */
	bool ns_is_pid;
	uint16_t port;
	uint8_t family;        /* -4 / -6 */
	uint8_t host_family;   /* --host: 4 or 6, 0 none */
	uint32_t host[4];
	uint32_t netns;        /* ns_spec's inode, once resolved; 0 none */
	unsigned correlate_ms;
};

struct ws_fmt;
struct ws_event;
struct ring_buffer;
struct ws_sock;

/* Defaults; call before parsing. */
void ws_sock_opts_init(struct ws_sock_opts *o);
/* One option (a WS_SOCK_OPT_* code, '4' or '6'); NULL or what is wrong with it. */
const char *ws_sock_parse_opt(struct ws_sock_opts *o, int code, const char *arg, char *err,
			      size_t errlen);
/*
 * After parsing: takes --pid/--netns (NULL when not given) as the socket
 * view's namespace; NULL or why the combination is wrong.  wire_targets: -i
 * or --all-veth was given; offline: -r.
 */
const char *ws_sock_finish_opts(struct ws_sock_opts *o, bool wire_targets, bool offline,
				const char *pid, const char *netns);

/* Kernel numbering -> the wire view's names ("CLOSED", "SYN_RECEIVED", ...). */
const char *ws_sock_state_name(uint8_t kstate);
/* Print one event; real_ns is wall-clock time.  <0 when the output failed. */
int ws_sock_print(const struct ws_fmt *f, const struct ws_sock_ev *e, uint64_t real_ns);

/*
 * --sockets next to the wire view: load the socket program and add its ring
 * buffer to rb, so the caller's ring_buffer__poll() delivers both.  printed,
 * count and out_err are the caller's: socket lines count towards -c, and the
 * callback returns -ECANCELED when the count is reached or output failed.
 * Returns 0 or a negative errno (a message was printed).
 */
int ws_sock_start(struct ws_sock **sp, const struct ws_sock_opts *o, struct ring_buffer *rb,
		  const struct ws_fmt *f, long long *printed, long long count, int *out_err);
/* The wire view's events, for correlation (may be called with s == NULL). */
void ws_sock_wire_event(struct ws_sock *s, const struct ws_event *e, uint64_t real_ns);
/* Periodically from the poll loop: correlation deadlines. */
void ws_sock_tick(struct ws_sock *s, uint64_t real_ns);
/* Detach, print the socket view's counters (unless output failed) and free. */
void ws_sock_stop(struct ws_sock *s);

/* --sockets-only: the whole program.  Returns the exit status. */
int ws_sock_main(const struct ws_sock_opts *o, const struct ws_fmt *f, long long count,
		 double duration);
#endif /* !__bpf__ */

#endif /* WS_SOCK_H */
