/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Records shared by the kernel programs and user space: TCP endpoint states,
 * the flow table's key and value, ring-buffer events and counters.
 */
#ifndef WS_EVENT_H
#define WS_EVENT_H

#include "ws_types.h"
#include "ws_parse.h"

/* TCP endpoint states, named as RFC 793 draws them. */
enum ws_state {
	WS_ST_NONE = 0,        /* not seen: the connection was picked up mid-stream */
	WS_ST_CLOSED,
	WS_ST_LISTEN,
	WS_ST_SYN_SENT,
	WS_ST_SYN_RECEIVED,
	WS_ST_ESTABLISHED,
	WS_ST_FIN_WAIT_1,
	WS_ST_FIN_WAIT_2,
	WS_ST_CLOSE_WAIT,
	WS_ST_CLOSING,
	WS_ST_LAST_ACK,
	WS_ST_TIME_WAIT,
	WS_ST__MAX
};

enum ws_role { WS_CLIENT = 0, WS_SERVER = 1 };

/* Flow flags (struct ws_flow.fflags, copied into every TCP event). */
#define WS_FF_MIDSTREAM 0x01   /* the handshake was not (completely) seen */
#define WS_FF_SIMOPEN   0x02   /* both ends sent a SYN */
#define WS_FF_SIMCLOSE  0x04   /* both ends sent a FIN before either was acked */
#define WS_FF_GAP       0x08   /* an event of this flow was lost (ring buffer full) */
#define WS_FF_REFUSED   0x10   /* the SYN was answered by a RST */

/* Per-event notes (struct ws_tcp_ev.note), a bit mask. */
#define WS_NOTE_RETRANS    0x01  /* retransmitted SYN, SYN-ACK or FIN */
#define WS_NOTE_BAD_ACK    0x02  /* ack is not seq+1 of the SYN/FIN it answers */
#define WS_NOTE_UNEXPECTED 0x04  /* control packet that fits no transition */
#define WS_NOTE_NO_FLOW    0x08  /* RST for a connection the table does not know */
#define WS_NOTE_PICKUP     0x10  /* first packet of a connection picked up mid-stream */
#define WS_NOTE_REUSED     0x20  /* a new SYN reused the 4-tuple of an old connection */
#define WS_NOTE_ACKS_SYN   0x40  /* ack is exactly the peer's SYN seq + 1 */
#define WS_NOTE_ACKS_FIN   0x80  /* ack is exactly the peer's FIN seq + 1 */

#define WS_MAX_TR 4            /* transitions one packet can cause, at most */

/* One transition in 16 bits: role (1 bit), old state (5 bits), new (5 bits). */
WS_INLINE __u64 ws_tr_pack(__u8 role, __u8 old_st, __u8 new_st)
{
	return (__u64)((role & 1) << 10 | (old_st & 0x1f) << 5 | (new_st & 0x1f));
}

WS_INLINE void ws_tr_unpack(__u64 tr, unsigned int i, __u8 *role, __u8 *old_st, __u8 *new_st)
{
	__u32 v = (__u32)(tr >> ((i & 3) * 16)) & 0xffff;

	*role = (__u8)(v >> 10 & 1);
	*old_st = (__u8)(v >> 5 & 0x1f);
	*new_st = (__u8)(v & 0x1f);
}

struct ws_flow_key {
	__u32 ifindex;
	__u8  family;          /* 4 or 6 */
	__u8  pad[3];
	__u32 addr[2][4];      /* [0] is the lower (address, port) endpoint */
	__u16 port[2];         /* host order */
};

struct ws_flow {
	__u32 lock;            /* try-lock word: 0 free, 1 held */
	__u8  cli;             /* key endpoint index (0/1) of the client */
	__u8  fflags;          /* WS_FF_* */
	__u8  pending;         /* a bare ACK may complete something: look at it */
	__u8  st[2];           /* by role */
	__u8  fin_sent[2];     /* by role */
	__u8  fin_acked[2];    /* by role: that role's FIN was acked by the peer */
	__u8  syn_acked[2];    /* by role: that role's SYN was acked by the peer */
	__u8  nxt_known[2];    /* by role: nxt[] holds a value */
	__u8  pad[1];
	__u32 isn[2];          /* by role: sequence number of the SYN */
	__u32 fin_seq[2];      /* by role: sequence number of the FIN */
	__u32 nxt[2];          /* by role: end of the furthest segment seen (ws_seq_seen) */
	__u16 syn_retrans;
	__u16 synack_retrans;
	__u16 syn_len[2];      /* by role: payload bytes of the SYN (TCP Fast Open) */
	__u64 pkts[2];         /* by role of the sender */
	__u64 bytes[2];        /* TCP payload bytes, by role of the sender */
	__u64 t_first;         /* ktime of the first packet seen */
	__u32 gap;             /* an event was lost: set atomically, outside the lock */
	__u32 pad3;
};

enum ws_ev_type { WS_EV_TCP = 1, WS_EV_ARP = 2 };
enum ws_dir { WS_DIR_INGRESS = 0, WS_DIR_EGRESS = 1 };

struct ws_tcp_ev {
	__u32 saddr[4], daddr[4];
	__u16 sport, dport;
	__u32 seq, ack;
	__u16 win;
	__u8  flags;
	__u8  ttl;
	__u16 paylen;
	__u8  nvlan;
	__u8  from_role;       /* role of the sender */
	__u16 vlan_id[WS_MAX_VLAN];
	__u8  note;            /* WS_NOTE_* */
	__u8  fflags;          /* the flow's WS_FF_* after this packet */
	__u8  ntr;
	__u8  pad;
	__u32 expected_ack;    /* with WS_NOTE_BAD_ACK */
	__u64 tr;              /* ntr transitions, ws_tr_unpack() */
	__u64 pkts[2];         /* flow counters after this packet, by role */
	__u64 bytes[2];
};

struct ws_arp_ev {
	__u16 op;
	__u8  nvlan;
	__u8  pad;
	__u16 vlan_id[WS_MAX_VLAN];
	__u8  sha[6], tha[6];
	__u32 spa, tpa;        /* network order */
};

#define WS_SNAP_MAX     256    /* most bytes of a frame an event carries */
#define WS_SNAP_DEFAULT 128

struct ws_event {
	__u64 ts_ns;           /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;
	__u8  type;            /* enum ws_ev_type */
	__u8  dir;             /* enum ws_dir */
	__u8  family;          /* 4 or 6 for TCP */
	__u8  pad;
	union {
		struct ws_tcp_ev tcp;
		struct ws_arp_ev arp;
	};
	/*
	 * The first cap_len bytes of the frame (wire_len long): user space
	 * decodes TCP options from them, explains them and writes them to pcap,
	 * so the kernel never walks options.
	 */
	__u16 cap_len;
	__u16 pad2;
	__u32 wire_len;
	__u8  frame[WS_SNAP_MAX];
};

/*
 * A record in the ring buffer holds the event's fixed part and only as many
 * frame bytes as it carries, rounded up to 64, 128 or WS_SNAP_MAX: a
 * control frame (54-94 bytes) takes 200 or 264 bytes of ring, not 392, so
 * a ring holds half again to twice as many events, and the program writes
 * fewer cold cache lines.  User space copies a record into a whole struct
 * ws_event, the rest zeroed (ws_event_from_record, user/ws_user.h).
 */
#define WS_EV_FIXED ((__u32)__builtin_offsetof(struct ws_event, frame))
#define WS_EV_ROOM(cap) ((cap) <= 64 ? 64u : (cap) <= 128 ? 128u : (__u32)WS_SNAP_MAX)
#define WS_EV_SIZE(cap) (WS_EV_FIXED + WS_EV_ROOM(cap))

_Static_assert(__builtin_offsetof(struct ws_event, frame) % 8 == 0,
	       "the frame bytes start 8-aligned: the kernel copies them 8 at a time");

/* Bytes a record of `size` takes in the ring buffer: an 8-byte header, rounded up to 8. */
#define WS_RB_RECORD_OF(size) (((__u64)(size) + 8 + 7) & ~(__u64)7)
/* ... and the largest record */
#define WS_RB_RECORD WS_RB_RECORD_OF(sizeof(struct ws_event))

/* The quiet-flow cache of the data path (bpf/wirestate.bpf.c says how it works). */
struct ws_qslot {
	struct ws_flow_key key;
	__u32 gen;             /* the bucket's generation when installed */
	__u64 t_first;         /* the flow's t_first: which connection on this key */
	__u64 pkts[2];         /* by role: counted here, not yet in the flow */
	__u64 bytes[2];
	__u32 end[2];          /* by role: furthest sequence end counted here */
	__u32 n;               /* segments counted since installed */
	__u8  live;            /* holds a flow (its counts may not be in the flow yet) */
	__u8  cli;             /* the flow's cli */
	__u8  used;            /* counted something since a colliding flow asked for the slot */
	__u8  end_known[2];
	__u8  pad[3];
};

struct ws_qbucket {
	__u32 gen;
	__u32 pad;
	__u64 holders;         /* bit c: CPU c's slot of this bucket is live */
};

/* Per-CPU counters (array map "stats"). */
enum ws_stat {
	WS_STAT_PACKETS = 0,   /* frames seen by the programs */
	WS_STAT_EVENTS,        /* events written to the ring buffer */
	WS_STAT_RB_DROPS,      /* events lost: ring buffer full */
	WS_STAT_PARSE_ERR,     /* frames whose headers were malformed or cut short */
	WS_STAT_FLOWS,         /* flows created */
	WS_STAT_FLOW_FAIL,     /* flow could not be inserted */
	WS_STAT_LOCK_BUSY,     /* control packet skipped: its flow was locked by another CPU */
	WS_STAT__MAX
};

#endif /* WS_EVENT_H */
