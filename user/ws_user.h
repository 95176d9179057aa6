/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* wirestate user space: what the pieces of user/ offer each other and the tests. */
#ifndef WS_USER_H
#define WS_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include "ws_event.h"

#define INET6_ADDRSTRLEN_WS 46

/*
 * The ring buffer's wake-up mark (wake_bytes in bpf/wirestate.bpf.c) for a
 * ring of ring_bytes: a sixteenth of it, at most 256 KiB.  wirestate and the
 * bench's control reader both set it from here.
 */
static inline uint32_t ws_wake_bytes(uint64_t ring_bytes)
{
	uint64_t w = ring_bytes / 16;

	return (uint32_t)(w > (256u << 10) ? (256u << 10) : w);
}

/*
 * A record of the event ring (WS_EV_SIZE: the fixed part and 64, 128 or
 * WS_SNAP_MAX frame bytes) into a whole struct ws_event, the bytes the
 * record does not hold zeroed.  -1 when it cannot be an event: shorter than
 * the fixed part, longer than an event, or cap_len says more frame bytes
 * than it holds.
 */
static inline int ws_event_from_record(struct ws_event *e, const void *rec, size_t len)
{
	if (len < WS_EV_FIXED || len > sizeof(*e))
		return -1;
	memcpy(e, rec, len);
	memset((char *)e + len, 0, sizeof(*e) - len);
	return e->cap_len <= len - WS_EV_FIXED ? 0 : -1;
}

/* names.c */
const char *ws_state_name(uint8_t st);          /* "SYN_SENT", "UNKNOWN" for WS_ST_NONE */
const char *ws_role_name(uint8_t role);         /* "client" / "server" */
void ws_tcp_flags_str(uint8_t flags, char *buf, size_t len);   /* tcpdump style: "S.", "F.", "R" */
void ws_addr_str(int family, const uint32_t *addr, char *buf, size_t len);
void ws_mac_str(const uint8_t *mac, char *buf, size_t len);
void ws_endpoint_str(int family, const uint32_t *addr, uint16_t port, char *buf, size_t len);
int64_t ws_mono_to_real_offset(void);        /* monotonic (bpf_ktime_get_ns) -> wall clock */

/* format.c: one event to text or JSON */
struct ws_fmt {
	FILE *out;
	bool json;
	bool color;                /* ANSI colours for state names and flags (text only) */
	uint32_t conn;             /* with several interfaces: the connection's number, 0: none */
	const char *container;     /* --pid/--netns: the container's label for JSON, or NULL */
	uint64_t netns;            /* and its network namespace inode */
};

/* color.c: colour only on a terminal, without --no-color or NO_COLOR, never for JSON */
bool ws_color_wanted(int fd, bool no_color_opt, bool json);
const char *ws_sgr_state(bool on, uint8_t st);     /* escape sequence, "" when off */
const char *ws_sgr_flags(bool on, uint8_t tcp_flags);
const char *ws_sgr_warn(bool on);
const char *ws_sgr_end(bool on);

/* A JSON string: escaped, valid UTF-8 whatever the bytes (interface names are bytes). */
void ws_json_str(FILE *o, const char *s);
size_t ws_json_esc(char *dst, size_t cap, const char *s);  /* the same into a buffer */
/* <0 when writing to o has failed (EPIPE...); never flushes: the run loop does, per batch. */
int ws_out_status(FILE *o);

/* Wall-clock nanoseconds since the epoch, to print. */
void ws_fmt_time_text(uint64_t real_ns, char *buf, size_t len);    /* 15:46:17.617782 */
void ws_fmt_time_rfc3339(uint64_t real_ns, char *buf, size_t len); /* 2026-11-25T15:46:17.617782Z */

/* Print one ring-buffer event.  Returns <0 when the output failed (EPIPE...). */
int ws_print_event(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
		   uint64_t real_ns);

/* A transition user space infers itself: TIME_WAIT -> CLOSED when 2MSL passes. */
struct ws_conn_id {
	/* no implicit padding: ids are hashed and compared as bytes (views.c) */
	uint32_t ifindex;
	uint32_t addr[2][4];       /* [0] client, [1] server */
	uint16_t port[2];
	uint8_t family;
	uint8_t pad[3];
};
int ws_print_timer_close(const struct ws_fmt *f, const struct ws_conn_id *c, uint8_t role,
			 const char *ifname, uint64_t real_ns);

struct ws_totals {
	uint64_t stat[WS_STAT__MAX];   /* summed over CPUs */
	uint64_t received;             /* events read from the ring buffer */
	uint64_t truncated;            /* offline frames too short to run (< 14 bytes) */
	uint64_t flows_max;            /* the flow table's size (--flows) */
	bool flows_counted;            /* flows_held was counted (zeroed: not known) */
	uint64_t flows_held;           /* entries the flow table holds at the end */
	uint64_t tw_untracked;         /* TIME_WAITs not followed to CLOSED: tw_max were pending */
	uint64_t tw_max;               /* --time-wait-max */
};
int ws_print_stats(const struct ws_fmt *f, const struct ws_totals *t, FILE *text_out);

/* mapcount.c: entries 0..n-1 of a per-CPU array of u64 counters, each summed over CPUs
 * (0 where it cannot be read) */
void ws_percpu_sums(int fd, uint32_t n, uint64_t *out);
/* mapcount.c: the entries of a BPF hash map, into *n; 0 or -errno */
int ws_map_count(int fd, uint32_t key_size, uint32_t value_size, uint64_t *n);

/* pcap.c: classic pcap, Ethernet link type */
struct ws_pcap_reader {
	FILE *f;
	bool swapped;
	bool nsec;
	uint32_t linktype;
	uint32_t snaplen;
};
int ws_pcap_open(struct ws_pcap_reader *r, const char *path, char *err, size_t errlen);
/* 1: a record, 0: end of file, -1: damaged file (err says why) */
int ws_pcap_next(struct ws_pcap_reader *r, uint8_t *buf, size_t bufsz, uint32_t *caplen,
		 uint32_t *origlen, uint64_t *ts_ns, char *err, size_t errlen);
void ws_pcap_close(struct ws_pcap_reader *r);

struct ws_pcap_writer {
	FILE *f;
};
/* Creates the file with mode 0600 (O_EXCL unless overwrite). */
int ws_pcap_create(struct ws_pcap_writer *w, const char *path, uint32_t snaplen, bool overwrite);
int ws_pcap_write(struct ws_pcap_writer *w, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
		  uint32_t origlen);
int ws_pcap_finish(struct ws_pcap_writer *w);

/* attach.c: per-interface attachment: XDP (or TC) ingress + TC egress */
struct bpf_program;
struct ws_tc_att {
	int fd;                    /* a tcx BPF link (kernel >= 6.6), or -1 */
	bool legacy;               /* a clsact direct-action filter instead (older kernels) */
	uint32_t handle, priority;
};
struct ws_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int xdp_fd;                /* the XDP BPF link, or -1 when TC sees what arrives */
	bool xdp_generic;
	struct ws_tc_att in, out;
	bool made_qdisc;           /* we created the clsact qdisc: we remove it */
	bool gone;                 /* the interface was deleted: its attachments went with it */
};
struct ws_progs {
	struct bpf_program *xdp, *tc_in, *tc_out;
};
#define WS_IN_XDP  0
#define WS_IN_TC   1
#define WS_IN_AUTO 2               /* TC on veths when the kernel has tcx links, else XDP */
#define WS_XDP_AUTO 0              /* generic on veths, the kernel's choice elsewhere */
#define WS_XDP_SKB  (1u << 1)      /* XDP_FLAGS_SKB_MODE: generic, on the stack's skbs */
#define WS_XDP_DRV  (1u << 2)      /* XDP_FLAGS_DRV_MODE: native, in the driver */
struct ws_attach_opts {
	int ingress;               /* WS_IN_* */
	uint32_t xdp_flags;        /* WS_XDP_* */
	const char *kind;          /* rtnetlink link kind ("veth"...), or NULL */
};
/* Attach; on failure nothing stays attached and err says why. */
int ws_attach(struct ws_iface *ifc, const char *name, const struct ws_progs *pr,
	      const struct ws_attach_opts *ao, char *err, size_t errlen);
void ws_detach(struct ws_iface *ifc);
bool ws_kernel_has_tcx(void);     /* tcx links (>= 6.6): TC attachments that die with us */
void ws_prog_name_by_id(uint32_t id, char *buf, size_t len);   /* "?" if unknown */
const char *ws_attach_mode(const struct ws_iface *ifc);   /* "xdp link + tcx egress link"... */

/* ifwatch.c: rtnetlink links, containers, and following changes */
#define PATH_MAX_WS 4096
struct ws_link {
	int ifindex;
	char name[IF_NAMESIZE];
	char kind[16];             /* "veth", "bridge", ... ("" for physical) */
	int peer_ifindex;          /* IFLA_LINK: a veth's peer, in link_netnsid's namespace */
	int link_netnsid;          /* -1: the peer is in the same namespace */
};
typedef void (*ws_link_cb)(bool added, const struct ws_link *l, void *ud);
int ws_nl_open(int nsfd, bool monitor);           /* a socket in nsfd's namespace (-1: ours) */
int ws_nl_dump_links(int fd, ws_link_cb cb, void *ud);
int ws_nl_drain(int fd, ws_link_cb cb, void *ud);  /* changes seen, or -ENOBUFS: lost some */
int ws_netns_open(const char *spec, bool is_pid, char *label, size_t lablen, uint64_t *inode);
bool ws_netns_is_self(int nsfd);
int ws_nl_nsid(int nsfd);         /* our id for nsfd's namespace; -1: none yet, < -1: -errno */

/* targets.c: the set of attached interfaces, kept equal to what was asked for */
struct linktab;
struct ws_targets {
	/* asked for */
	const char *const *names;  /* -i NAME ... */
	int nnames;
	bool all_veth;
	int ctr_nsfd;              /* --pid/--netns: the container's namespace, or -1 */
	char ctr_label[128];
	uint64_t ctr_ino;
	const char *ctr_spec;      /* the PID or NAME|PATH: is it still that namespace? */
	bool ctr_is_pid;
	int ctr_nsid;              /* our id for the container's namespace, -1 while unknown */
	struct ws_progs progs;
	int ingress;               /* WS_IN_* */
	uint32_t xdp_flags;        /* WS_XDP_* */
	FILE *out;                 /* JSON "iface" lines go here */
	bool json, verbose;
	/* state */
	struct ws_iface *ifs;
	size_t n, cap;
	int host_nl, ctr_nl;
	struct linktab *host, *ctr;
};
int ws_targets_start(struct ws_targets *t);    /* <0: failed, message printed; call stop */
size_t ws_targets_poll(struct ws_targets *t);
void ws_targets_stop(struct ws_targets *t);

/* privs.c: keep only the capabilities in `keep` (bit n = capability n), set no_new_privs */
#define WS_CAP(n) (1ull << (n))
int ws_drop_privs(uint64_t keep);
/* privs.c: SIGINT/SIGTERM/SIGHUP held from the start until the handlers are set */
void ws_stop_signals_hold(void);
void ws_stop_signals_release(void);

#endif /* WS_USER_H */
