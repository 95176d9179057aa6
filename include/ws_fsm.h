/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-flow TCP state machine, as an observer on the wire infers it.
 * Compiled into the BPF programs and, natively, into the unit tests.
 *
 * Attribution rule: a packet changes its SENDER's state by what it shows the
 * sender did (sent a SYN, acked the peer's FIN...).  A change of the
 * RECEIVER's state is attributed to the first packet that proves it: the
 * SYN-ACK proves the server got the SYN, the ACK of a FIN proves its sender
 * got that FIN.  Only the receipt of an ACK, which the receiver never answers,
 * is attributed to the ACK itself.  So a lost SYN-ACK leaves the client in
 * SYN_SENT, as it really is.
 */
#ifndef WS_FSM_H
#define WS_FSM_H

#include "ws_event.h"

struct ws_fsm_out {
	__u8  ntr;
	__u8  note;            /* WS_NOTE_* */
	__u8  emit;            /* the packet is an event */
	__u8  pad;
	__u32 expected_ack;
	__u64 tr;              /* packed transitions, see ws_tr_pack() */
};

/*
 * Record that `role` moves to new_st.  Transitions are packed 16 bits each
 * into one u64 (a shift, not an indexed store: the verifier cannot follow
 * an index once the compiler has rewritten its bounds check).
 *
 * In the BPF object this is a global function, verified once on its own:
 * inlined at each of its call sites it multiplied the paths the verifier
 * walks through the state machine.
 */
#ifdef __bpf__
__attribute__((noinline)) int ws_tr(struct ws_flow *f, struct ws_fsm_out *o, __u32 role,
				    __u32 new_st)
#else
static inline int ws_tr(struct ws_flow *f, struct ws_fsm_out *o, __u32 role, __u32 new_st)
#endif
{
	__u8 old;
	__u32 n;

	if (!f || !o)
		return 0;
	old = f->st[role & 1];
	n = o->ntr;
	if (old == new_st)
		return 0;
	f->st[role & 1] = (__u8)new_st;
	o->emit = 1;
	if (n >= WS_MAX_TR)
		return 0;
	o->tr |= ws_tr_pack((__u8)role, old, (__u8)new_st) << ((n & 3) * 16);
	o->ntr = (__u8)(n + 1);
	return 0;
}

/* A connection opened by a SYN from the key endpoint `cli`. */
WS_INLINE void ws_flow_init(struct ws_flow *f, __u8 cli)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->cli = cli & 1;
	f->st[WS_CLIENT] = WS_ST_CLOSED;
	f->st[WS_SERVER] = WS_ST_LISTEN;
}

/*
 * A connection whose opening was not seen.  The client is guessed to be the
 * endpoint with the higher (ephemeral) port.  The caller steps the first
 * packet through ws_fsm_step afterwards.
 */
WS_INLINE void ws_flow_init_midstream(struct ws_flow *f, __u8 cli, struct ws_fsm_out *o)
{
	ws_flow_init(f, cli);
	f->st[WS_CLIENT] = WS_ST_NONE;
	f->st[WS_SERVER] = WS_ST_NONE;
	f->fflags = WS_FF_MIDSTREAM;
	ws_tr(f, o, WS_CLIENT, WS_ST_ESTABLISHED);
	ws_tr(f, o, WS_SERVER, WS_ST_ESTABLISHED);
	o->note |= WS_NOTE_PICKUP;
}

/* Does a packet without SYN/FIN/RST need a look at all? */
WS_INLINE __u8 ws_flow_pending(const struct ws_flow *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (f->st[i] == WS_ST_SYN_SENT || f->st[i] == WS_ST_SYN_RECEIVED)
			return 1;
		/* a FIN still waits for its ACK, unless a RST ended it all */
		if (f->fin_sent[i] && !f->fin_acked[i] && f->st[i] != WS_ST_CLOSED)
			return 1;
	}
	return 0;
}

/* Is this connection over, so that a new SYN on its 4-tuple starts a new one? */
WS_INLINE int ws_flow_finished(const struct ws_flow *f)
{
	__u8 c = f->st[WS_CLIENT], s = f->st[WS_SERVER];

	return (c == WS_ST_CLOSED || c == WS_ST_TIME_WAIT) &&
	       (s == WS_ST_CLOSED || s == WS_ST_TIME_WAIT || s == WS_ST_LISTEN);
}

/*
 * Does ack acknowledge y's SYN?  ISN + 1, or, when the SYN carried data
 * (TCP Fast Open, RFC 7413), ISN + 1 + that data: both answer the SYN.
 */
WS_INLINE int ws_acks_syn(const struct ws_flow *f, __u8 y, __u32 ack)
{
	return ack == f->isn[y & 1] + 1 || ack == f->isn[y & 1] + 1 + f->syn_len[y & 1];
}

/* x acknowledges y's FIN (ack == FIN seq + 1). */
WS_INLINE void ws_fin_acked(struct ws_flow *f, struct ws_fsm_out *o, __u8 x, __u8 y)
{
	__u8 sx = f->st[x], sy = f->st[y];

	f->fin_acked[y] = 1;
	o->emit = 1;
	o->note |= WS_NOTE_ACKS_FIN;
	/* the sender x has received y's FIN */
	if (sx == WS_ST_ESTABLISHED || sx == WS_ST_SYN_RECEIVED)
		ws_tr(f, o, x, WS_ST_CLOSE_WAIT);
	else if (sx == WS_ST_FIN_WAIT_1)
		ws_tr(f, o, x, WS_ST_CLOSING);
	else if (sx == WS_ST_FIN_WAIT_2)
		ws_tr(f, o, x, WS_ST_TIME_WAIT);

	/* the receiver y gets the ACK of its FIN */
	if (sy == WS_ST_FIN_WAIT_1) {
		if (f->fin_sent[x]) {
			/*
			 * Simultaneous close: x's FIN went out before this ACK,
			 * so y, in order, received that FIN first.
			 */
			ws_tr(f, o, y, WS_ST_CLOSING);
			ws_tr(f, o, y, WS_ST_TIME_WAIT);
		} else {
			ws_tr(f, o, y, WS_ST_FIN_WAIT_2);
		}
	} else if (sy == WS_ST_CLOSING) {
		ws_tr(f, o, y, WS_ST_TIME_WAIT);
	} else if (sy == WS_ST_LAST_ACK) {
		ws_tr(f, o, y, WS_ST_CLOSED);
	}
}

/*
 * Sequence plausibility.  An observer does not know the receive windows, but
 * no TCP window exceeds 2^30 bytes (RFC 7323): a FIN or a RST further than
 * that from the end of what its sender was seen sending belongs to no live
 * connection (a blind injection, a segment of an old incarnation), and the
 * receiver drops it (RFC 793, RFC 5961).  So does the observer: such a
 * segment changes no state and is reported WS_NOTE_UNEXPECTED.
 */
#define WS_SEQ_WIN (1u << 30)

WS_INLINE int ws_seq_plausible(const struct ws_flow *f, __u8 x, __u32 seq)
{
	__s32 d = (__s32)(seq - f->nxt[x & 1]);

	if (!f->nxt_known[x & 1])
		return 1;               /* nothing seen from x yet: nothing to compare */
	return d >= -(__s32)WS_SEQ_WIN && d <= (__s32)WS_SEQ_WIN;
}

/*
 * Note the end of a segment x sent (SYN and FIN count one).  It only moves
 * forward, and only by a plausible segment.  The BPF program calls it on the
 * data path without the flow's lock: it is a hint, a lost update only makes
 * the next one move it further.
 */
WS_INLINE void ws_seq_seen(struct ws_flow *f, __u8 x, __u8 flags, __u32 seq, __u16 paylen)
{
	__u32 end = seq + paylen + ((flags & WS_TCP_SYN) ? 1 : 0) + ((flags & WS_TCP_FIN) ? 1 : 0);

	x &= 1;
	if (flags & WS_TCP_RST)
		return;
	if (f->nxt_known[x] && (!ws_seq_plausible(f, x, seq) || (__s32)(end - f->nxt[x]) <= 0))
		return;
	f->nxt[x] = end;
	f->nxt_known[x] = 1;
}

/*
 * Step one TCP segment sent by role x through the flow's state machine.
 * Fills *o with the transitions it caused; o->emit says whether the segment
 * is worth an event.  Sequence arithmetic is modulo 2^32 throughout.
 */
WS_INLINE void ws_fsm_step(struct ws_flow *f, __u8 x, __u8 flags, __u32 seq,
			   __u32 ack, __u16 paylen, struct ws_fsm_out *o)
{
	__u8 y;
	int has_ack = (flags & WS_TCP_ACK) != 0;
	int inwin;

	x &= 1;
	y = x ^ 1;
	inwin = ws_seq_plausible(f, x, seq);
	ws_seq_seen(f, x, flags, seq, paylen);

	if (flags & WS_TCP_RST) {
		o->emit = 1;
		if (f->st[y] == WS_ST_SYN_SENT && f->st[x] != WS_ST_SYN_SENT) {
			/* RFC 793: in SYN-SENT a RST counts only if it acks the SYN */
			if (!has_ack || !ws_acks_syn(f, y, ack)) {
				o->note |= WS_NOTE_BAD_ACK;
				o->expected_ack = f->isn[y] + 1;
				return;
			}
			o->note |= WS_NOTE_ACKS_SYN;
			if (x == WS_SERVER && f->st[x] == WS_ST_LISTEN) {
				/* nobody was listening: the server side never left CLOSED */
				f->st[x] = WS_ST_CLOSED;
				f->fflags |= WS_FF_REFUSED;
			}
		} else if (!inwin) {
			o->note |= WS_NOTE_UNEXPECTED;
			return;
		}
		ws_tr(f, o, x, WS_ST_CLOSED);
		ws_tr(f, o, y, WS_ST_CLOSED);
		return;
	}

	if ((flags & WS_TCP_SYN) && !has_ack) {
		o->emit = 1;
		if (f->st[x] == WS_ST_CLOSED && x == WS_CLIENT) {
			f->isn[x] = seq;
			f->syn_len[x] = paylen;
			ws_tr(f, o, x, WS_ST_SYN_SENT);
		} else if (f->st[x] == WS_ST_SYN_SENT && seq == f->isn[x]) {
			o->note |= WS_NOTE_RETRANS;
			f->syn_retrans++;
		} else if (x == WS_SERVER && f->st[x] == WS_ST_LISTEN &&
			   f->st[y] == WS_ST_SYN_SENT) {
			/* simultaneous open: the "server" was never listening */
			f->st[x] = WS_ST_CLOSED;
			f->isn[x] = seq;
			f->syn_len[x] = paylen;
			f->fflags |= WS_FF_SIMOPEN;
			ws_tr(f, o, x, WS_ST_SYN_SENT);
		} else {
			o->note |= WS_NOTE_UNEXPECTED;
		}
		return;
	}

	if (flags & WS_TCP_SYN) {            /* SYN-ACK */
		o->emit = 1;
		if (!ws_acks_syn(f, y, ack)) {
			o->note |= WS_NOTE_BAD_ACK;
			o->expected_ack = f->isn[y] + 1;
			return;
		}
		o->note |= WS_NOTE_ACKS_SYN;
		if (f->st[x] == WS_ST_LISTEN) {
			f->isn[x] = seq;
			f->syn_acked[y] = 1;
			ws_tr(f, o, x, WS_ST_SYN_RECEIVED);
		} else if (f->st[x] == WS_ST_SYN_SENT) {
			/* simultaneous open: x got y's SYN and answers it */
			f->syn_acked[y] = 1;
			ws_tr(f, o, x, WS_ST_SYN_RECEIVED);
			if (f->syn_acked[x])
				ws_tr(f, o, x, WS_ST_ESTABLISHED);
			if (f->st[y] == WS_ST_SYN_RECEIVED)
				ws_tr(f, o, y, WS_ST_ESTABLISHED);
		} else if (f->st[x] == WS_ST_SYN_RECEIVED && seq == f->isn[x]) {
			o->note |= WS_NOTE_RETRANS;
			f->synack_retrans++;
		} else {
			o->note |= WS_NOTE_UNEXPECTED;
		}
		return;
	}

	if ((flags & WS_TCP_FIN) && !inwin) {
		/* not believed: neither its FIN nor its ack */
		o->emit = 1;
		o->note |= WS_NOTE_UNEXPECTED;
		return;
	}

	if (has_ack) {
		/* completes the handshake: x acks y's SYN */
		if (f->st[y] == WS_ST_SYN_RECEIVED) {
			if (ack == f->isn[y] + 1) {
				o->note |= WS_NOTE_ACKS_SYN;
				f->syn_acked[y] = 1;
				if (f->st[x] == WS_ST_SYN_SENT)
					ws_tr(f, o, x, WS_ST_ESTABLISHED);
				ws_tr(f, o, y, WS_ST_ESTABLISHED);
			} else {
				o->emit = 1;
				o->note |= WS_NOTE_BAD_ACK;
				o->expected_ack = f->isn[y] + 1;
			}
		}
		/* acks y's FIN */
		if (f->fin_sent[y] && !f->fin_acked[y]) {
			__u32 want = f->fin_seq[y] + 1;

			if (ack == want) {
				ws_fin_acked(f, o, x, y);
			} else if ((__s32)(ack - want) > 0) {
				/* acks past the FIN: nothing was ever sent there */
				o->emit = 1;
				o->note |= WS_NOTE_BAD_ACK;
				o->expected_ack = want;
			}
		}
	}

	if (flags & WS_TCP_FIN) {
		__u32 fseq = seq + paylen;

		o->emit = 1;
		if (!f->fin_sent[x]) {
			__u8 sx = f->st[x];

			if (sx == WS_ST_ESTABLISHED || sx == WS_ST_SYN_RECEIVED) {
				f->fin_sent[x] = 1;
				f->fin_seq[x] = fseq;
				if (f->fin_sent[y] && !f->fin_acked[y])
					f->fflags |= WS_FF_SIMCLOSE;
				ws_tr(f, o, x, WS_ST_FIN_WAIT_1);
			} else if (sx == WS_ST_CLOSE_WAIT) {
				f->fin_sent[x] = 1;
				f->fin_seq[x] = fseq;
				ws_tr(f, o, x, WS_ST_LAST_ACK);
			} else {
				/* a FIN from an endpoint with no connection: remember nothing */
				o->note |= WS_NOTE_UNEXPECTED;
			}
		} else if (fseq == f->fin_seq[x]) {
			o->note |= WS_NOTE_RETRANS;
		} else {
			o->note |= WS_NOTE_UNEXPECTED;
		}
	}
}

#endif /* WS_FSM_H */
