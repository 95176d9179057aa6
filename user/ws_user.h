/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* wirestate user space: what the pieces of user/ offer each other and the tests. */
#ifndef WS_USER_H
#define WS_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>

#include "ws_event.h"

#define INET6_ADDRSTRLEN_WS 46

/* names.c */
const char *ws_state_name(uint8_t st);          /* "SYN_SENT", "UNKNOWN" for WS_ST_NONE */
const char *ws_role_name(uint8_t role);         /* "client" / "server" */
void ws_tcp_flags_str(uint8_t flags, char *buf, size_t len);   /* tcpdump style: "S.", "F.", "R" */
void ws_addr_str(int family, const uint32_t *addr, char *buf, size_t len);
void ws_mac_str(const uint8_t *mac, char *buf, size_t len);

/* format.c: one event to text or JSON */
struct ws_fmt {
	FILE *out;
	bool json;
};

/* Wall-clock nanoseconds since the epoch, to print. */
void ws_fmt_time_text(uint64_t real_ns, char *buf, size_t len);    /* 15:46:17.617782 */
void ws_fmt_time_rfc3339(uint64_t real_ns, char *buf, size_t len); /* 2026-11-25T15:46:17.617782Z */

/* Print one ring-buffer event.  Returns <0 when the output failed (EPIPE...). */
int ws_print_event(const struct ws_fmt *f, const struct ws_event *e, const char *ifname,
		   uint64_t real_ns);

/* A transition user space infers itself: TIME_WAIT -> CLOSED when 2MSL passes. */
struct ws_conn_id {
	uint32_t ifindex;
	uint8_t family;
	uint32_t addr[2][4];       /* [0] client, [1] server */
	uint16_t port[2];
};
int ws_print_timer_close(const struct ws_fmt *f, const struct ws_conn_id *c, uint8_t role,
			 const char *ifname, uint64_t real_ns);

struct ws_totals {
	uint64_t stat[WS_STAT__MAX];   /* summed over CPUs */
	uint64_t received;             /* events read from the ring buffer */
	uint64_t truncated;            /* offline frames too short to run (< 14 bytes) */
};
int ws_print_stats(const struct ws_fmt *f, const struct ws_totals *t, FILE *text_out);

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

/* attach.c: per-interface XDP + TC egress attachment */
struct bpf_program;
struct ws_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	struct bpf_link *xdp_link;
	int tcx_fd;                /* TC egress as a tcx BPF link (kernel >= 6.6) */
	bool tc_legacy;            /* TC egress through a clsact filter (older kernels) */
	bool tc_made_qdisc;        /* we created the clsact qdisc */
	uint32_t tc_handle, tc_priority;
};
/* Attach both programs; on failure nothing stays attached and err says why. */
int ws_attach(struct ws_iface *ifc, const char *name, struct bpf_program *xdp,
	      struct bpf_program *tc, char *err, size_t errlen);
void ws_detach(struct ws_iface *ifc);
const char *ws_attach_mode(const struct ws_iface *ifc);   /* "xdp link + tcx link" ... */

#endif /* WS_USER_H */
