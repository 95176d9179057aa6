/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The views built on top of the event stream: a per-connection summary
 * (--summary), a sequence diagram per connection (--ladder) and a field by
 * field explanation of each event's frame snapshot (--explain).
 *
 * views.c   the connection table and the dispatch of events to the views
 * summary.c --summary, text and JSON
 * ladder.c  --ladder
 * explain.c --explain: hex dump and field walker
 * color.c   ANSI colours for state names and TCP flags (declared in ws_user.h)
 */
#ifndef WS_VIEWS_H
#define WS_VIEWS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ws_user.h"

/* Connections the table holds at most; the least recently active is evicted. */
#define WS_VIEWS_MAX_CONNS 16384
/* Ladder rows kept per connection: the first HEAD and the last TAIL. */
#define WS_LADDER_HEAD 40
#define WS_LADDER_TAIL 24
/* States kept per side for the summary's state path. */
#define WS_PATH_MAX 16
#define WS_PATH_GAP 0xff           /* path entry: transitions were lost here */

struct ws_views_opts {
	bool summary;              /* print a summary when a connection ends */
	bool ladder;               /* print a sequence diagram when a connection ends */
	bool explain;              /* hex dump + fields under every event */
	bool no_color;             /* --no-color */
	uint32_t max_conns;        /* 0: WS_VIEWS_MAX_CONNS */
};

/* The command line, for main.c (same pattern as ws_sock.h). */
#define WS_VIEWS_USAGE \
	"      --summary           print only a summary of each connection when it ends\n" \
	"                          (or at exit): states, handshake timings, close, traffic\n" \
	"      --ladder            print a sequence diagram of each connection when it ends\n" \
	"  -X, --explain           under each event: hex dump and every header field explained\n" \
	"      --no-color          no colours (default: colours on a terminal, unless NO_COLOR is set)\n"
enum { WS_VIEWS_OPT_SUMMARY = 0x3000, WS_VIEWS_OPT_LADDER, WS_VIEWS_OPT_NO_COLOR };
#define WS_VIEWS_SHORTOPTS "X"
#define WS_VIEWS_LONGOPTS \
	{ "summary", no_argument, NULL, WS_VIEWS_OPT_SUMMARY }, \
	{ "ladder", no_argument, NULL, WS_VIEWS_OPT_LADDER }, \
	{ "explain", no_argument, NULL, 'X' }, \
	{ "no-color", no_argument, NULL, WS_VIEWS_OPT_NO_COLOR }
/* getopt value c, one of the above: record it. */
void ws_views_parse_opt(struct ws_views_opts *o, int c);
/* After parsing: an error message for a bad combination, or NULL. */
const char *ws_views_check_opts(const struct ws_views_opts *o, bool json);
/* Is any view asked for (ws_views_new() needed)? */
bool ws_views_wanted(const struct ws_views_opts *o);

/* One control packet of a connection, as the ladder draws it. */
struct ws_lrow {
	uint64_t ts;               /* wall clock ns */
	uint64_t tr;               /* packed transitions (ws_tr_unpack) */
	uint32_t seq, ack, expected_ack;
	uint16_t paylen;
	uint8_t from_role, flags, note, fflags, ntr;
};

enum ws_end_reason {
	WS_END_NONE = 0,           /* still open */
	WS_END_FIN,                /* both sides closed with FINs */
	WS_END_RST,                /* a RST ended it */
	WS_END_REFUSED,            /* the SYN was answered by a RST */
	WS_END_TIMEOUT,            /* still in the handshake at exit: never answered/completed */
	WS_END_OPEN,               /* still open at exit */
	WS_END_EVICTED,            /* dropped from a full table while open */
};

/* A connection as user space follows it.  Roles index every [2]. */
struct ws_vconn {
	struct ws_conn_id id;      /* the key: ifindex, client and server endpoints */
	char ifname[IF_NAMESIZE];
	uint64_t serial;           /* creation order */
	uint8_t cur[2];            /* current state */
	uint8_t path[2][WS_PATH_MAX];
	uint8_t npath[2];
	uint8_t fflags;            /* WS_FF_* seen, or'ed */
	uint8_t first_closer;      /* 1 + role of the first FIN or RST sender, 0 none */
	uint8_t rst_by;            /* 1 + role of the RST sender, 0 none */
	bool done;                 /* ended and printed: absorbs late packets */
	bool established;          /* both sides reached ESTABLISHED at some point */
	bool syn_seen[2];          /* a SYN of that role was seen: wscale[] is known */
	int8_t wscale[2];          /* from that role's SYN, -1: not offered */
	uint16_t syn_retrans, synack_retrans, fin_retrans;
	uint64_t t_first, t_last;  /* wall clock ns of the first and the latest event */
	uint64_t t_syn, t_synack, t_ack; /* handshake: 0 not seen */
	uint64_t t_fin;            /* first FIN */
	uint64_t t_end;            /* the packet that ended it */
	uint64_t pkts[2], bytes[2];/* kernel counters from the latest event */
	uint32_t nevents;
	/* ladder rows (only with --ladder): head[] in order, then a ring of the tail */
	struct ws_lrow *rows;
	uint32_t nrows;            /* rows seen in all */
	/* table links (indices, UINT32_MAX: none) */
	uint32_t hnext, lprev, lnext;
	bool used;
};

struct ws_views_stats {
	uint64_t conns;            /* connections followed */
	uint64_t evicted;          /* open connections dropped because the table was full */
	uint64_t ignored;          /* events for no followed connection, with nothing to follow */
	uint32_t live;             /* open connections in the table now */
};

struct ws_views;

/* fmt is kept by reference.  NULL when out of memory. */
struct ws_views *ws_views_new(const struct ws_fmt *fmt, const struct ws_views_opts *o);
void ws_views_free(struct ws_views *v);
/* Replaces ws_print_event(): prints what the views want for this event.  <0: output failed. */
int ws_views_event(struct ws_views *v, const struct ws_event *e, const char *ifname,
		   uint64_t real_ns);
/* Do the per-event lines show (no --summary/--ladder)? */
bool ws_views_show_events(const struct ws_views *v);
/* At exit: print the connections still open (real_ns: now, or the capture's last time). */
int ws_views_finish(struct ws_views *v, uint64_t real_ns);
void ws_views_get_stats(const struct ws_views *v, struct ws_views_stats *s);
/* The connection an event belongs to, NULL when not followed (for tests). */
const struct ws_vconn *ws_views_lookup(const struct ws_views *v, const struct ws_conn_id *id);

/* The key of an event's connection (client endpoint first). */
void ws_views_conn_id(const struct ws_event *e, struct ws_conn_id *id);

/* summary.c */
enum ws_end_reason ws_conn_reason(const struct ws_vconn *c);
const char *ws_end_reason_name(enum ws_end_reason r);
int ws_print_summary(const struct ws_fmt *f, const struct ws_vconn *c, enum ws_end_reason why);

/* ladder.c */
void ws_ladder_add(struct ws_vconn *c, const struct ws_event *e, uint64_t real_ns);
int ws_print_ladder(const struct ws_fmt *f, const struct ws_vconn *c, enum ws_end_reason why);

/* explain.c */
struct ws_explain_ctx {
	uint8_t dir;               /* enum ws_dir: egress checksums may be left to offload */
	bool tcp_event;            /* the fields below are set */
	uint8_t from_role;
	uint8_t note;              /* WS_NOTE_* of the event */
	uint32_t expected_ack;
	/* window scaling of the connection, when followed */
	bool conn_known;
	bool syn_seen[2];
	int8_t wscale[2];
};
/* The hex dump and the fields of frame[0, cap_len), wire_len bytes on the wire. */
int ws_explain(const struct ws_fmt *f, const uint8_t *frame, uint32_t cap_len,
	       uint32_t wire_len, const struct ws_explain_ctx *cx);

/* Internet checksum helpers (explain.c), exposed for the tests. */
uint32_t ws_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t ws_csum_fold(uint32_t sum);

#endif /* WS_VIEWS_H */
