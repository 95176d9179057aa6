// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The socket view (--sockets, --sockets-only): loads bpf/sockets.bpf.c,
 * prints what local TCP sockets do, and (next to the wire view) notes when a
 * socket does not follow a FIN or RST the wire showed it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ws_user.h"
#include "ws_sock.h"
#include "sockets.skel.h"

#define ERR_STOP (-ECANCELED)      /* as in main.c: stop the ring-buffer loop */
#define CORR_MAX_SOCKETS 65536     /* sockets tracked for correlation, at most */
#define CORR_BUCKETS 4096

/* ---------------------------------------------------------------- options */

void ws_sock_opts_init(struct ws_sock_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->correlate_ms = 500;
}

const char *ws_sock_parse_opt(struct ws_sock_opts *o, int code, const char *arg, char *err,
			      size_t errlen)
{
	char *end;
	unsigned long v;

	switch (code) {
	case WS_SOCK_OPT_SOCKETS:
		o->enabled = true;
		return NULL;
	case WS_SOCK_OPT_ONLY:
		o->enabled = o->only = true;
		return NULL;
	case WS_SOCK_OPT_PORT:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || v < 1 || v > 65535) {
			snprintf(err, errlen, "--port: not a port number: '%s'", arg);
			return err;
		}
		o->port = (uint16_t)v;
		o->filtered = true;
		return NULL;
	case WS_SOCK_OPT_HOST:
		memset(o->host, 0, sizeof(o->host));
		if (inet_pton(AF_INET, arg, o->host) == 1) {
			o->host_family = 4;
		} else if (inet_pton(AF_INET6, arg, o->host) == 1) {
			o->host_family = 6;
		} else {
			snprintf(err, errlen, "--host: not an IPv4 or IPv6 address: '%s'", arg);
			return err;
		}
		o->filtered = true;
		return NULL;
	case '4':
	case '6':
		if (o->family && o->family != (code == '4' ? 4 : 6)) {
			snprintf(err, errlen, "-4 and -6 cannot be combined");
			return err;
		}
		o->family = code == '4' ? 4 : 6;
		o->filtered = true;
		return NULL;
	case WS_SOCK_OPT_CORRELATE:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || v > 3600000) {
			snprintf(err, errlen, "--correlate-ms: not a number of milliseconds: '%s'", arg);
			return err;
		}
		o->correlate_ms = (unsigned)v;
		return NULL;
	default:
		snprintf(err, errlen, "unknown socket view option");
		return err;
	}
}

const char *ws_sock_finish_opts(struct ws_sock_opts *o, bool wire_targets, bool offline,
				const char *pid, const char *netns)
{
	o->ns_spec = pid ? pid : netns;
	o->ns_is_pid = pid != NULL;
	if (!o->enabled && o->filtered)
		return "--port, --host, -4 and -6 filter the socket view: add --sockets or "
		       "--sockets-only";
	if (o->only && (wire_targets || offline))
		return "--sockets-only watches no interface: it cannot be combined with -i, "
		       "--all-veth or -r (use --sockets)";
	if (o->enabled && offline)
		return "--sockets watches the running kernel: it cannot be combined with -r";
	return NULL;
}

/* ---------------------------------------------------------------- output */

const char *ws_sock_state_name(uint8_t st)
{
	static const char *const names[WS_KTCP__MAX] = {
		[WS_KTCP_ESTABLISHED] = "ESTABLISHED",
		[WS_KTCP_SYN_SENT] = "SYN_SENT",
		[WS_KTCP_SYN_RECV] = "SYN_RECEIVED",
		[WS_KTCP_FIN_WAIT1] = "FIN_WAIT_1",
		[WS_KTCP_FIN_WAIT2] = "FIN_WAIT_2",
		[WS_KTCP_TIME_WAIT] = "TIME_WAIT",
		[WS_KTCP_CLOSE] = "CLOSED",
		[WS_KTCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[WS_KTCP_LAST_ACK] = "LAST_ACK",
		[WS_KTCP_LISTEN] = "LISTEN",
		[WS_KTCP_CLOSING] = "CLOSING",
		[WS_KTCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
	};

	return st < WS_KTCP__MAX && names[st] ? names[st] : "UNKNOWN";
}



static bool addr_zero(const uint32_t *a)
{
	return !a[0] && !a[1] && !a[2] && !a[3];
}

static const char *kind_json(uint8_t kind)
{
	switch (kind) {
	case WS_SK_STATE:
		return "state";
	case WS_SK_RETRANS:
		return "retransmit";
	case WS_SK_SEND_RESET:
		return "send_reset";
	case WS_SK_RECV_RESET:
		return "receive_reset";
	default:
		return "unknown";
	}
}

/* The common head of a line: time, "socket", namespace, owner, endpoints. */
static void head_text(FILE *out, const struct ws_sock_ev *e, uint64_t real_ns)
{
	char ts[48], src[64], dst[64];
	char comm[sizeof(e->comm) + 1];

	ws_fmt_time_text(real_ns, ts, sizeof(ts));
	fprintf(out, "%s %-14s netns %u", ts, "socket", e->netns);
	if (e->pid) {
		memcpy(comm, e->comm, sizeof(e->comm));
		comm[sizeof(e->comm)] = '\0';
		for (char *c = comm; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
		fprintf(out, " pid %u (%s)", e->pid, comm);
	}
	ws_endpoint_str(e->family, e->saddr, e->sport, src, sizeof(src));
	if (!e->dport && addr_zero(e->daddr)) {
		fprintf(out, " %s", src);          /* a listener: no peer */
	} else {
		ws_endpoint_str(e->family, e->daddr, e->dport, dst, sizeof(dst));
		fprintf(out, " %s > %s", src, dst);
	}
}

static void head_json(FILE *out, const struct ws_sock_ev *e, const char *event, uint64_t real_ns)
{
	char ts[48], sa[INET6_ADDRSTRLEN_WS], da[INET6_ADDRSTRLEN_WS];

	ws_fmt_time_rfc3339(real_ns, ts, sizeof(ts));
	ws_addr_str(e->family, e->saddr, sa, sizeof(sa));
	ws_addr_str(e->family, e->daddr, da, sizeof(da));
	fprintf(out, "{\"type\":\"socket\",\"ts\":\"%s\",\"event\":\"%s\",\"netns\":%u", ts, event,
		e->netns);
	if (e->pid) {
		fprintf(out, ",\"pid\":%u,\"comm\":", e->pid);
		char comm[sizeof(e->comm) + 1];

		memcpy(comm, e->comm, sizeof(e->comm));
		comm[sizeof(e->comm)] = '\0';
		ws_json_str(out, comm);
	}
	fprintf(out, ",\"family\":%u,\"saddr\":\"%s\",\"sport\":%u,\"daddr\":\"%s\",\"dport\":%u",
		e->family, sa, e->sport, da, e->dport);
}

int ws_sock_print(const struct ws_fmt *f, const struct ws_sock_ev *e, uint64_t real_ns)
{
	FILE *out = f->out;
	char fl[16];
	bool nosock = e->kind == WS_SK_SEND_RESET && !e->sk;

	if (e->family != 4 && e->family != 6)
		return 0;
	ws_tcp_flags_str(e->tcp_flags, fl, sizeof(fl));
	if (f->json) {
		head_json(out, e, kind_json(e->kind), real_ns);
		if (e->kind == WS_SK_STATE)
			fprintf(out, ",\"old\":\"%s\",\"new\":\"%s\"}\n", ws_sock_state_name(e->old_state),
				ws_sock_state_name(e->new_state));
		else
			fprintf(out, ",\"state\":\"%s\"%s%s%s%s}\n", ws_sock_state_name(e->new_state),
				e->kind == WS_SK_RETRANS ? ",\"flags\":\"" : "",
				e->kind == WS_SK_RETRANS ? fl : "",
				e->kind == WS_SK_RETRANS ? "\"" : "",
				nosock ? ",\"no_socket\":true" : "");
		return ws_out_status(out);
	}
	head_text(out, e, real_ns);
	switch (e->kind) {
	case WS_SK_STATE:
		fprintf(out, " %s -> %s\n", ws_sock_state_name(e->old_state),
			ws_sock_state_name(e->new_state));
		break;
	case WS_SK_RETRANS:
		fprintf(out, " retransmit [%s] in %s\n", fl, ws_sock_state_name(e->new_state));
		break;
	case WS_SK_SEND_RESET:
		if (nosock)
			fputs(" send RST (no socket: nothing listening)\n", out);
		else
			fprintf(out, " send RST in %s\n", ws_sock_state_name(e->new_state));
		break;
	case WS_SK_RECV_RESET:
		fprintf(out, " receive RST in %s\n", ws_sock_state_name(e->new_state));
		break;
	default:
		fputc('\n', out);
	}
	return ws_out_status(out);
}

/* ---------------------------------------------------------------- correlation */

/*
 * Every local socket the socket view has seen (until it reaches CLOSE), so a
 * FIN or RST the wire view shows towards it can be checked: the socket
 * should change state right after.  Times are CLOCK_MONOTONIC, like both
 * programs' events.
 */
struct corr_sock {
	struct corr_sock *next;
	uint64_t sk;
	uint32_t netns;
	uint8_t family;            /* 4 also for an IPv6 socket with v4-mapped addresses */
	uint8_t state;             /* WS_KTCP_* */
	uint8_t wire_flag;         /* armed: WS_TCP_FIN or WS_TCP_RST seen on the wire */
	uint32_t laddr[4], raddr[4];
	uint16_t lport, rport;
	uint64_t changed_ns;       /* monotonic time of the last state change */
	uint64_t wire_ns;          /* monotonic time the wire showed the FIN/RST */
	struct ws_sock_ev last;    /* for printing: owner, namespace, endpoints */
};

struct ws_sock {
	struct sockets_bpf *skel;
	struct ring_buffer *own_rb;    /* --sockets-only */
	const struct ws_fmt *f;
	long long *printed;
	long long count;
	int *out_err;
	int64_t mono_to_real;
	uint64_t received;
	unsigned correlate_ms;
	struct corr_sock *buckets[CORR_BUCKETS];
	size_t ncorr, narmed;
};

static bool v4mapped(const uint32_t *a)
{
	return !a[0] && !a[1] && a[2] == htonl(0xffff);
}

/* Addresses as the wire sees them: ::ffff:a.b.c.d is a.b.c.d. */
static uint8_t wire_family(uint8_t family, const uint32_t *l, const uint32_t *r, uint32_t *lo,
			   uint32_t *ro)
{
	memset(lo, 0, 16);
	memset(ro, 0, 16);
	if (family == 6 && v4mapped(l) && v4mapped(r)) {
		lo[0] = l[3];
		ro[0] = r[3];
		return 4;
	}
	memcpy(lo, l, 16);
	memcpy(ro, r, 16);
	return family;
}

static unsigned corr_hash(uint8_t family, const uint32_t *l, uint16_t lport, const uint32_t *r,
			  uint16_t rport)
{
	uint32_t h = 2166136261u ^ family;

	for (int i = 0; i < 4; i++)
		h = (h ^ l[i]) * 16777619u, h = (h ^ r[i]) * 16777619u;
	h = (h ^ lport) * 16777619u;
	h = (h ^ rport) * 16777619u;
	return h % CORR_BUCKETS;
}

static bool corr_same(const struct corr_sock *c, uint8_t family, const uint32_t *l,
		      uint16_t lport, const uint32_t *r, uint16_t rport)
{
	return c->family == family && c->lport == lport && c->rport == rport &&
	       !memcmp(c->laddr, l, 16) && !memcmp(c->raddr, r, 16);
}

static void corr_socket_event(struct ws_sock *s, const struct ws_sock_ev *e)
{
	uint32_t l[4], r[4];
	uint8_t fam;
	unsigned h;
	struct corr_sock **pp, *c;

	if (!s->correlate_ms || e->kind != WS_SK_STATE || !e->sk)
		return;
	fam = wire_family(e->family, e->saddr, e->daddr, l, r);
	h = corr_hash(fam, l, e->sport, r, e->dport);
	for (pp = &s->buckets[h]; (c = *pp); pp = &c->next)
		if (c->sk == e->sk && corr_same(c, fam, l, e->sport, r, e->dport))
			break;
	if (e->new_state == WS_KTCP_CLOSE || e->new_state == WS_KTCP_LISTEN || !e->dport) {
		if (c) {
			*pp = c->next;
			s->narmed -= c->wire_flag != 0;
			s->ncorr--;
			free(c);
		}
		return;
	}
	if (!c) {
		if (s->ncorr >= CORR_MAX_SOCKETS || !(c = calloc(1, sizeof(*c))))
			return;
		c->sk = e->sk;
		c->family = fam;
		memcpy(c->laddr, l, 16);
		memcpy(c->raddr, r, 16);
		c->lport = e->sport;
		c->rport = e->dport;
		c->next = s->buckets[h];
		s->buckets[h] = c;
		s->ncorr++;
	}
	c->netns = e->netns;
	c->state = e->new_state;
	if (e->ts_ns > c->changed_ns)
		c->changed_ns = e->ts_ns;
	c->last = *e;
}

void ws_sock_wire_event(struct ws_sock *s, const struct ws_event *e, uint64_t real_ns)
{
	const struct ws_tcp_ev *t = &e->tcp;
	struct corr_sock *c, *match = NULL;
	uint32_t l[4] = { 0 }, r[4] = { 0 };
	int n = 0;

	(void)real_ns;
	if (!s || !s->correlate_ms || e->type != WS_EV_TCP || !(t->flags & (WS_TCP_FIN | WS_TCP_RST)))
		return;
	/* the receiver: its local end is the packet's destination */
	memcpy(l, t->daddr, e->family == 6 ? 16 : 4);
	memcpy(r, t->saddr, e->family == 6 ? 16 : 4);
	for (c = s->buckets[corr_hash(e->family, l, t->dport, r, t->sport)]; c; c = c->next)
		if (corr_same(c, e->family, l, t->dport, r, t->sport))
			match = c, n++;
	if (n != 1 || match->wire_flag)
		return;        /* unknown, already armed, or the same 4-tuple in two namespaces */
	match->wire_flag = t->flags & WS_TCP_RST ? WS_TCP_RST : WS_TCP_FIN;
	match->wire_ns = e->ts_ns;
	s->narmed++;
}

/* States in which the wire's FIN (RST) must move the socket. */
static bool expects_change(uint8_t state, uint8_t wire_flag)
{
	if (wire_flag == WS_TCP_RST)
		return state != WS_KTCP_LISTEN && state != WS_KTCP_CLOSE;
	return state == WS_KTCP_ESTABLISHED || state == WS_KTCP_SYN_RECV ||
	       state == WS_KTCP_FIN_WAIT1 || state == WS_KTCP_FIN_WAIT2;
}

static int print_disagree(struct ws_sock *s, const struct corr_sock *c, uint8_t wire_flag,
			  uint64_t real_ns)
{
	FILE *out = s->f->out;
	struct ws_sock_ev e = c->last;
	const char *what = wire_flag == WS_TCP_RST ? "RST" : "FIN";
	char wts[48], peer[64];

	e.new_state = c->state;
	if (s->f->json) {
		ws_fmt_time_rfc3339((uint64_t)((int64_t)c->wire_ns + s->mono_to_real), wts, sizeof(wts));
		head_json(out, &e, "disagree", real_ns);
		fprintf(out, ",\"state\":\"%s\",\"wire\":\"%s\",\"wire_ts\":\"%s\",\"after_ms\":%u}\n",
			ws_sock_state_name(c->state), what, wts, s->correlate_ms);
		return ws_out_status(out);
	}
	ws_fmt_time_text((uint64_t)((int64_t)c->wire_ns + s->mono_to_real), wts, sizeof(wts));
	ws_endpoint_str(e.family, e.daddr, e.dport, peer, sizeof(peer));
	head_text(out, &e, real_ns);
	fprintf(out, " !! the wire showed a %s from %s at %s, the socket is still %s %u ms later\n",
		what, peer, wts, ws_sock_state_name(c->state), s->correlate_ms);
	return ws_out_status(out);
}

static int count_line(struct ws_sock *s)
{
	(*s->printed)++;
	if (s->count && *s->printed >= s->count)
		return ERR_STOP;
	return 0;
}

/* Disagreement notes are annotations: they do not count towards -c. */
void ws_sock_tick(struct ws_sock *s, uint64_t real_ns)
{
	if (!s || !s->narmed || *s->out_err)
		return;
	uint64_t now_mono = (uint64_t)((int64_t)real_ns - s->mono_to_real);
	uint64_t wait_ns = (uint64_t)s->correlate_ms * 1000000ull;

	for (unsigned b = 0; b < CORR_BUCKETS && s->narmed; b++) {
		for (struct corr_sock *c = s->buckets[b]; c; c = c->next) {
			if (!c->wire_flag || c->wire_ns + wait_ns > now_mono)
				continue;
			uint8_t flag = c->wire_flag;
			bool stuck = expects_change(c->state, flag) && c->changed_ns < c->wire_ns;

			c->wire_flag = 0;
			s->narmed--;
			if (!stuck)
				continue;
			int rc = print_disagree(s, c, flag, real_ns);

			if (rc) {
				*s->out_err = rc;
				return;
			}
		}
	}
}

/* ---------------------------------------------------------------- loading */


static int on_sock_event(void *ctx, void *data, size_t len)
{
	struct ws_sock *s = ctx;
	const struct ws_sock_ev *e = data;
	uint64_t real;
	int rc;

	if (len < sizeof(*e))
		return 0;
	if (*s->out_err)
		return ERR_STOP;
	s->received++;
	real = (uint64_t)((int64_t)e->ts_ns + s->mono_to_real);
	corr_socket_event(s, e);
	rc = ws_sock_print(s->f, e, real);
	if (rc) {
		*s->out_err = rc;
		return ERR_STOP;
	}
	return count_line(s);
}

/* The tracepoints a program needs (typedef btf_trace_<name> in the kernel's BTF). */
static const struct {
	const char *tp;
	const char *what;
} optional_tps[] = {
	{ "tcp_retransmit_skb", "retransmissions" },
	{ "tcp_retransmit_synack", "SYN-ACK retransmissions" },
	{ "tcp_receive_reset", "received resets" },
	{ "tcp_send_reset", "sent resets" },
};

static struct bpf_program *optional_prog(struct sockets_bpf *skel, size_t i)
{
	switch (i) {
	case 0:
		return skel->progs.ws_sk_retrans;
	case 1:
		return skel->progs.ws_sk_retrans_synack;
	case 2:
		return skel->progs.ws_sk_rcv_rst;
	default:
		return skel->progs.ws_sk_snd_rst;
	}
}

static int open_load_attach(struct ws_sock *s, const struct ws_sock_opts *o, bool optional)
{
	struct btf *vmlinux = optional ? btf__load_vmlinux_btf() : NULL;
	size_t n = sizeof(optional_tps) / sizeof(optional_tps[0]);
	int rc;

	s->skel = sockets_bpf__open();
	if (!s->skel) {
		rc = -errno;
		fprintf(stderr, "wirestate: cannot open the socket view's BPF object: %s\n",
			strerror(errno));
		btf__free(vmlinux);
		return rc ? rc : -EINVAL;
	}
	s->skel->rodata->f_netns = o->netns;
	s->skel->rodata->f_port = o->port;
	s->skel->rodata->f_family = o->family;
	s->skel->rodata->f_host_family = o->host_family;
	memcpy((void *)s->skel->rodata->f_host, o->host, sizeof(o->host));
	for (size_t i = 0; i < n; i++) {
		char name[128];
		bool have = false;

		if (vmlinux) {
			snprintf(name, sizeof(name), "btf_trace_%s", optional_tps[i].tp);
			have = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
			if (!have)
				fprintf(stderr, "wirestate: this kernel has no %s tracepoint: the socket "
					"view shows no %s\n", optional_tps[i].tp, optional_tps[i].what);
		}
		if (!have)
			bpf_program__set_autoload(optional_prog(s->skel, i), false);
	}
	btf__free(vmlinux);
	rc = sockets_bpf__load(s->skel);
	if (!rc)
		rc = sockets_bpf__attach(s->skel);
	if (rc) {
		sockets_bpf__destroy(s->skel);
		s->skel = NULL;
	}
	return rc;
}

static int sock_open(struct ws_sock **sp, const struct ws_sock_opts *o, const struct ws_fmt *f,
		     long long *printed, long long count, int *out_err)
{
	struct ws_sock *s = calloc(1, sizeof(*s));
	struct ws_sock_opts oo = *o;
	int rc;

	*sp = NULL;
	if (!s)
		return -ENOMEM;
	s->f = f;
	s->printed = printed;
	s->count = count;
	s->out_err = out_err;
	s->correlate_ms = o->correlate_ms;
	if (o->ns_spec) {
		char label[128];
		uint64_t ino = 0;
		int fd = ws_netns_open(o->ns_spec, o->ns_is_pid, label, sizeof(label), &ino);

		if (fd < 0 || !ino || ino > UINT32_MAX) {
			fprintf(stderr, "wirestate: %s %s: no such %s (%s)\n",
				o->ns_is_pid ? "--pid" : "--netns", o->ns_spec,
				o->ns_is_pid ? "process" : "network namespace",
				strerror(fd < 0 ? -fd : EINVAL));
			if (fd >= 0)
				close(fd);
			free(s);
			return fd < 0 ? fd : -EINVAL;
		}
		close(fd);
		oo.netns = (uint32_t)ino;
	}
	rc = open_load_attach(s, &oo, true);
	if (rc) {
		/* an optional program the kernel refuses must not cost the state view */
		int rc2 = open_load_attach(s, &oo, false);

		if (!rc2)
			fprintf(stderr, "wirestate: the socket view runs without retransmissions and "
				"resets: the kernel refused those programs (%s)\n", strerror(-rc));
		rc = rc2;
	}
	if (rc) {
		fprintf(stderr, "wirestate: the kernel refused the socket view's BPF programs: %s "
			"(run with -v for libbpf's messages)\n", strerror(-rc));
		free(s);
		return rc;
	}
	s->mono_to_real = ws_mono_to_real_offset();
	*sp = s;
	return 0;
}

int ws_sock_start(struct ws_sock **sp, const struct ws_sock_opts *o, struct ring_buffer *rb,
		  const struct ws_fmt *f, long long *printed, long long count, int *out_err)
{
	int rc = sock_open(sp, o, f, printed, count, out_err);

	if (rc)
		return rc;
	rc = ring_buffer__add(rb, bpf_map__fd((*sp)->skel->maps.sk_events), on_sock_event, *sp);
	if (rc) {
		fprintf(stderr, "wirestate: cannot map the socket view's ring buffer: %s\n",
			strerror(-rc));
		sockets_bpf__destroy((*sp)->skel);
		free(*sp);
		*sp = NULL;
		return rc;
	}
	return 0;
}

static void print_stats(struct ws_sock *s)
{
	uint64_t tot[WS_SKSTAT__MAX];

	ws_percpu_sums(bpf_map__fd(s->skel->maps.sk_stats), WS_SKSTAT__MAX, tot);
	if (s->f->json) {
		fprintf(s->f->out, "{\"type\":\"socket_stats\",\"events\":%" PRIu64
			",\"events_received\":%" PRIu64 ",\"ringbuf_drops\":%" PRIu64
			",\"owner_failures\":%" PRIu64 "}\n", tot[WS_SKSTAT_EVENTS], s->received,
			tot[WS_SKSTAT_RB_DROPS], tot[WS_SKSTAT_OWNER_FAIL]);
		ws_out_status(s->f->out);
		return;
	}
	fprintf(stderr, "wirestate: socket view: %" PRIu64 " events (%" PRIu64 " received), %" PRIu64
		" lost (ring buffer full)\n", tot[WS_SKSTAT_EVENTS], s->received,
		tot[WS_SKSTAT_RB_DROPS]);
}

void ws_sock_stop(struct ws_sock *s)
{
	if (!s)
		return;
	if (!*s->out_err)
		print_stats(s);
	ring_buffer__free(s->own_rb);
	sockets_bpf__destroy(s->skel);
	for (unsigned b = 0; b < CORR_BUCKETS; b++) {
		for (struct corr_sock *c = s->buckets[b], *n; c; c = n) {
			n = c->next;
			free(c);
		}
	}
	free(s);
}

/* ---------------------------------------------------------------- --sockets-only */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

int ws_sock_main(const struct ws_sock_opts *o, const struct ws_fmt *f, long long count,
		 double duration)
{
	struct ws_sock *s;
	long long printed = 0;
	int out_err = 0, exit_code = 1, rc;
	struct ws_sock_opts oo = *o;
	struct timespec start, now;
	struct sigaction sa = { .sa_handler = on_signal };

	oo.correlate_ms = 0;               /* nothing to correlate with */
	if (sock_open(&s, &oo, f, &printed, count, &out_err))
		return 1;
	s->own_rb = ring_buffer__new(bpf_map__fd(s->skel->maps.sk_events), on_sock_event, s, NULL);
	if (!s->own_rb) {
		fprintf(stderr, "wirestate: cannot map the socket view's ring buffer: %s\n",
			strerror(errno));
		out_err = -1;              /* no statistics */
		ws_sock_stop(s);
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ws_stop_signals_release();      /* held since main() began: see privs.c */
	/* attached: BPF links and the ring buffer need no capability any more */
	rc = ws_drop_privs(0);
	if (rc)
		fprintf(stderr, "wirestate: warning: could not drop privileges: %s\n", strerror(-rc));
	if (!f->json && !stop_signal)
		fprintf(stderr, "wirestate: watching TCP sockets%s%s%s; Ctrl-C to stop\n",
			o->ns_spec ? (o->ns_is_pid ? " of pid " : " of ") : "",
			o->ns_spec ? o->ns_spec : "", o->filtered ? " (filtered)" : "");
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop_signal) {
		rc = ring_buffer__poll(s->own_rb, 100);
		if (fflush(f->out) == EOF && !out_err)      /* one write per batch */
			out_err = -(errno ? errno : EIO);
		if (rc == ERR_STOP || out_err)
			break;
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "wirestate: reading the ring buffer: %s\n", strerror(-rc));
			goto done;
		}
		if (duration > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >=
			    duration)
				break;
		}
	}
	exit_code = 0;
done:
	if (!out_err && !(count && printed >= count))
		ring_buffer__consume(s->own_rb);
	if (fflush(f->out) == EOF && !out_err)
		out_err = -(errno ? errno : EIO);
	if (out_err == -EPIPE) {
		exit_code = 0;
	} else if (out_err) {
		fprintf(stderr, "wirestate: writing output failed: %s\n", strerror(-out_err));
		exit_code = 1;
	}
	ws_sock_stop(s);
	return exit_code;
}
