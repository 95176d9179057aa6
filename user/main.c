// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * wirestate: watch TCP connections and ARP from inside the kernel.
 * See README.md for what it prints and why.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ws_user.h"
#include "ws_sock.h"
#include "ws_views.h"
#include "wirestate.skel.h"

#define WS_VERSION "0.1.0"
#define CAP_BPF_WS 39
#define CAP_PERFMON_WS 38
#define MAX_IFACES 64
#define ERR_STOP (-ECANCELED)      /* callback asks the ring-buffer loop to stop */
#define WS_POLL_MS 10              /* the longest a lone event waits to be read (wake_bytes) */

struct options {
	const char *ifaces[MAX_IFACES];
	int nifaces;
	const char *read_file;
	const char *write_file;
	const char *pid;           /* --pid: watch this process's container */
	const char *netns;         /* --netns NAME|PATH */
	bool all_veth;
	bool json;
	bool verbose;
	long long count;           /* 0: unlimited */
	double duration;           /* seconds, 0: unlimited */
	unsigned snaplen;
	unsigned long ringbuf_bytes;
	unsigned flows;
	unsigned time_wait;        /* seconds a TIME_WAIT lasts before we infer CLOSED */
	unsigned time_wait_max;    /* TIME_WAIT timers pending at once, at most */
#define WS_TW_MAX_DEFAULT 262144   /* see timers_add */
	uint32_t xdp_flags;        /* --xdp-mode */
	int ingress;               /* --ingress: WS_IN_* */
	bool ingress_set, xdp_mode_set;
	struct ws_sock_opts sock;  /* --sockets, --sockets-only and their filters */
	struct ws_views_opts views; /* --summary, --ladder, --explain, --no-color */
};

/*
 * A table of connections (struct ws_conn_id), chained hash.  Two uses:
 * numbering connections across interfaces (ids with ifindex 0) and knowing
 * which pending TIME_WAIT timers a RST or a reused 4-tuple cancelled.
 */
struct conn_ent {
	struct conn_ent *next;
	struct ws_conn_id id;
	uint32_t num;              /* numbering: the connection's number */
	uint32_t gen;              /* timers: bumped by a cancel */
	uint32_t pending;          /* timers: how many are queued */
};

/*
 * The table grows with what it holds: a connection storm queues a TIME_WAIT
 * timer per connection for 60 s (a million at 20k connections/s), and a
 * fixed 4096 buckets made conn_get the top of the reader's profile.
 */
#define CONN_BUCKETS_MIN 4096

struct conn_tab {
	struct conn_ent **b;       /* nb buckets (a power of two), NULL while empty */
	size_t nb, n;
	uint32_t next_num;
};

/* Hash and compare field by field: the struct has padding, which copies need not keep. */
static size_t conn_hash(const struct ws_conn_id *id, size_t nb)
{
	uint32_t h = 2166136261u;

#define MIX(v) (h = (h ^ (uint32_t)(v)) * 16777619u)
	MIX(id->ifindex);
	MIX(id->family);
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 4; j++)
			MIX(id->addr[i][j]);
		MIX(id->port[i]);
	}
#undef MIX
	return (h ^ (h >> 16)) & (nb - 1);
}

static bool conn_eq(const struct ws_conn_id *a, const struct ws_conn_id *b)
{
	return a->ifindex == b->ifindex && a->family == b->family &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr)) && a->port[0] == b->port[0] &&
	       a->port[1] == b->port[1];
}

/* The entry of id; created when `create` (NULL when out of memory). */
/* Twice the buckets, once there are twice as many entries as buckets; 0 or -ENOMEM. */
static int conn_grow(struct conn_tab *t)
{
	size_t nb = t->nb ? t->nb * 2 : CONN_BUCKETS_MIN;
	struct conn_ent **b = calloc(nb, sizeof(*b));

	if (!b)
		return t->b ? 0 : -ENOMEM;    /* a full table is slower, not wrong */
	for (size_t i = 0; i < t->nb; i++)
		while (t->b[i]) {
			struct conn_ent *c = t->b[i];
			size_t h = conn_hash(&c->id, nb);

			t->b[i] = c->next;
			c->next = b[h];
			b[h] = c;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

static struct conn_ent *conn_get(struct conn_tab *t, const struct ws_conn_id *id, bool create)
{
	if (t->b) {
		for (struct conn_ent *c = t->b[conn_hash(id, t->nb)]; c; c = c->next)
			if (conn_eq(&c->id, id))
				return c;
	}
	if (!create)
		return NULL;
	if ((!t->b || t->n >= 2 * t->nb) && conn_grow(t))
		return NULL;
	struct conn_ent *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	size_t h = conn_hash(id, t->nb);

	c->id = *id;
	c->next = t->b[h];
	t->b[h] = c;
	t->n++;
	return c;
}

static void conn_del(struct conn_tab *t, struct conn_ent *e)
{
	for (struct conn_ent **pp = &t->b[conn_hash(&e->id, t->nb)]; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			free(e);
			t->n--;
			return;
		}
}

static void conn_tab_clear(struct conn_tab *t)
{
	for (size_t i = 0; i < t->nb; i++)
		while (t->b[i]) {
			struct conn_ent *c = t->b[i];

			t->b[i] = c->next;
			free(c);
		}
	free(t->b);
	t->b = NULL;
	t->nb = 0;
	t->n = 0;
}

#define CONN_NUM_MAX 100000        /* then forget them all: numbers go on increasing */

/* The same number for a connection on every interface it crosses. */
static uint32_t conn_number(struct conn_tab *t, const struct ws_conn_id *in)
{
	struct ws_conn_id id = *in;
	struct conn_ent *c;

	id.ifindex = 0;
	if (t->n >= CONN_NUM_MAX && !conn_get(t, &id, false))
		conn_tab_clear(t);
	c = conn_get(t, &id, true);
	if (!c)
		return 0;
	if (!c->num)
		c->num = ++t->next_num;
	return c->num;
}

struct tw_timer {
	struct ws_conn_id id;
	uint8_t role;
	uint32_t gen;              /* its connection's generation when queued */
	uint64_t deadline_ns;      /* wall clock */
};

struct ifname_cache {
	uint32_t ifindex;
	char name[IF_NAMESIZE];
};

struct run {
	const struct options *o;
	struct ws_fmt fmt;
	int64_t mono_to_real;      /* add to a bpf_ktime_get_ns() value for wall clock */
	bool offline;
	uint64_t offline_ts;       /* capture time of the frame being replayed */
	const char *offline_name;
	long long printed;
	uint64_t received;
	uint64_t bad_records;      /* ring records that were not events (never expected) */
	uint64_t tw_untracked;     /* TIME_WAITs not followed: --time-wait-max were pending */
	int out_err;
	struct tw_timer *timers;   /* a queue: [timer_head, ntimers) are pending */
	size_t timer_head, ntimers, cap_timers;
	struct ifname_cache names[MAX_IFACES * 4];
	size_t nnames;
	struct ws_pcap_writer pcap;
	bool pcap_open;
	struct ws_sock *sk;        /* the socket view (--sockets), or NULL */
	struct ws_views *views;    /* --summary/--ladder/--explain, or NULL */
	struct conn_tab *conns;    /* numbering connections across interfaces, or NULL */
	struct conn_tab tw;        /* connections with pending TIME_WAIT timers */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wirestate -i IFACE [-i IFACE ...] | --pid PID | --netns NAME | --all-veth [options]\n"
		"       wirestate -r FILE.pcap [options]\n"
		"       wirestate --sockets-only [--pid PID | --netns NAME] [options]\n"
		"\n"
		"Watch TCP connections and ARP from inside the kernel (XDP or TC, both ways) and print\n"
		"every handshake, close, reset and ARP exchange with both endpoints' TCP states.\n"
		"\n"
		"  -i, --interface IFACE   attach to IFACE (repeatable)\n"
		"  -p, --pid PID           attach to the host side of every veth of PID's network\n"
		"                          namespace (a container), following veths that come and go\n"
		"  -n, --netns NAME|PATH   the same for a namespace under /var/run/netns or a path\n"
		"  -A, --all-veth          attach to every veth on the host, following changes\n"
		"  -r, --read FILE         replay a classic Ethernet pcap through the same XDP program\n"
		"  -w, --write FILE        write the observed control frames to FILE (pcap, mode 0600)\n"
		"  -j, --json              one JSON object per line\n"
		"  -c, --count N           stop after N events\n"
		"  -d, --duration SECONDS  stop after SECONDS\n"
		"      --snaplen N         bytes of each control frame the kernel copies (default %d, max %d)\n"
		"      --ringbuf-size N    ring buffer bytes, K/M suffixes (default 4M)\n"
		"      --flows N           flow table entries (LRU, default 65536)\n"
		"      --time-wait SECONDS how long TIME_WAIT lasts before CLOSED is inferred (default 60)\n"
		"      --time-wait-max N   TIME_WAITs followed to CLOSED at once (default 262144)\n"
		"      --ingress HOOK      the hook that sees arriving frames: auto (default: tc on\n"
		"                          veths if the kernel has tcx, else xdp), xdp or tc\n"
		"      --xdp-mode MODE     auto (default: generic on veths), native or generic;\n"
		"                          implies --ingress xdp\n"
		WS_SOCK_USAGE
		WS_VIEWS_USAGE
		"  -v, --verbose           libbpf's messages too\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this text\n"
		"\n"
		"Needs root (CAP_BPF and CAP_NET_ADMIN).  Nothing stays attached after exit.\n",
		WS_SNAP_DEFAULT, WS_SNAP_MAX);
}

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wirestate: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'wirestate --help'.\n");
	exit(2);
}

static unsigned long long parse_size(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		die_usage("%s: not a number: '%s'", what, s);
	if (*end == 'k' || *end == 'K' || *end == 'm' || *end == 'M') {
		unsigned shift = (*end == 'k' || *end == 'K') ? 10 : 20;

		if (v > (~0ull >> shift))
			die_usage("%s: too large: '%s'", what, s);
		v <<= shift;
		end++;
	}
	if (*end)
		die_usage("%s: not a number: '%s'", what, s);
	return v;
}

/* parse_size() within [lo, hi]: checked before any narrowing, so nothing wraps */
static unsigned long long parse_range(const char *s, const char *what, unsigned long long lo,
				      unsigned long long hi)
{
	unsigned long long v = parse_size(s, what);

	if (v < lo || v > hi)
		die_usage("%s must be between %llu and %llu", what, lo, hi);
	return v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_SNAPLEN = 256, OPT_RINGBUF, OPT_FLOWS, OPT_TW, OPT_TW_MAX, OPT_XDP_MODE,
	       OPT_INGRESS };
	static const struct option lo[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "pid", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 'n' },
		{ "all-veth", no_argument, NULL, 'A' },
		{ "read", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
		{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
		{ "flows", required_argument, NULL, OPT_FLOWS },
		{ "time-wait", required_argument, NULL, OPT_TW },
		{ "time-wait-max", required_argument, NULL, OPT_TW_MAX },
		{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
		{ "ingress", required_argument, NULL, OPT_INGRESS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		WS_SOCK_LONGOPTS,
		WS_VIEWS_LONGOPTS,
		{ 0 }
	};
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	o->snaplen = WS_SNAP_DEFAULT;
	o->ingress = WS_IN_AUTO;
	o->ringbuf_bytes = 4ul << 20;
	o->flows = 65536;
	o->time_wait = 60;
	o->time_wait_max = WS_TW_MAX_DEFAULT;
	ws_sock_opts_init(&o->sock);
	while ((c = getopt_long(argc, argv, "i:p:n:Ar:w:jc:d:vVh" WS_SOCK_SHORTOPTS WS_VIEWS_SHORTOPTS, lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (o->nifaces == MAX_IFACES)
				die_usage("at most %d interfaces", MAX_IFACES);
			o->ifaces[o->nifaces++] = optarg;
			break;
		case 'p':
			o->pid = optarg;
			break;
		case 'n':
			o->netns = optarg;
			break;
		case 'A':
			o->all_veth = true;
			break;
		case 'r':
			o->read_file = optarg;
			break;
		case 'w':
			o->write_file = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'c':
			o->count = (long long)parse_range(optarg, "--count", 1, 1ull << 62);
			break;
		case 'd':
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || *end || !(o->duration > 0))
				die_usage("--duration: not a positive number of seconds: '%s'", optarg);
			break;
		case OPT_SNAPLEN:
			o->snaplen = (unsigned)parse_range(optarg, "--snaplen", 14, WS_SNAP_MAX);
			break;
		case OPT_RINGBUF: {
			unsigned long long v = parse_size(optarg, "--ringbuf-size");

			if (v < 4096 || v > (1ull << 30) || (v & (v - 1)))
				die_usage("--ringbuf-size must be a power of two between 4K and 1G");
			o->ringbuf_bytes = (unsigned long)v;
			break;
		}
		case OPT_FLOWS:
			o->flows = (unsigned)parse_range(optarg, "--flows", 16, 1u << 26);
			break;
		case OPT_TW:
			o->time_wait = (unsigned)parse_range(optarg, "--time-wait", 0, 3600);
			break;
		case OPT_TW_MAX:
			o->time_wait_max = (unsigned)parse_range(optarg, "--time-wait-max", 0, 1u << 24);
			break;
		case OPT_INGRESS:
			if (!strcmp(optarg, "xdp"))
				o->ingress = WS_IN_XDP;
			else if (!strcmp(optarg, "tc"))
				o->ingress = WS_IN_TC;
			else if (!strcmp(optarg, "auto"))
				o->ingress = WS_IN_AUTO;
			else
				die_usage("--ingress must be auto, xdp or tc");
			o->ingress_set = true;
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "generic"))
				o->xdp_flags = WS_XDP_SKB;
			else if (!strcmp(optarg, "native"))
				o->xdp_flags = WS_XDP_DRV;
			else if (!strcmp(optarg, "auto"))
				o->xdp_flags = WS_XDP_AUTO;
			else
				die_usage("--xdp-mode must be auto, native or generic");
			o->xdp_mode_set = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'V':
			printf("wirestate %s (libbpf %s)\n", WS_VERSION, libbpf_version_string());
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case WS_SOCK_OPT_SOCKETS: case WS_SOCK_OPT_ONLY: case WS_SOCK_OPT_PORT:
		case WS_SOCK_OPT_HOST: case WS_SOCK_OPT_CORRELATE: case '4': case '6': {
			char serr[256];

			if (ws_sock_parse_opt(&o->sock, c, optarg, serr, sizeof(serr)))
				die_usage("%s", serr);
			break;
		}
		case WS_VIEWS_OPT_SUMMARY: case WS_VIEWS_OPT_LADDER: case WS_VIEWS_OPT_NO_COLOR: case 'X':
			ws_views_parse_opt(&o->views, c);
			break;
		default:
			fprintf(stderr, "Try 'wirestate --help'.\n");
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	bool live = o->nifaces || o->pid || o->netns || o->all_veth;
	const char *serr = ws_sock_finish_opts(&o->sock, o->nifaces || o->all_veth, o->read_file != NULL,
					       o->pid, o->netns);

	if (serr)
		die_usage("%s", serr);
	if ((serr = ws_views_check_opts(&o->views, o->json)))
		die_usage("%s", serr);
	if (!live && !o->read_file && !o->sock.only)
		die_usage("nothing to watch: give -i IFACE, --pid PID, --netns NAME, --all-veth "
			  "or -r FILE.pcap");
	if (live && o->read_file)
		die_usage("-r replays a capture: it cannot be combined with -i, --pid, --netns or --all-veth");
	if (o->pid && o->netns)
		die_usage("--pid and --netns both name a namespace: give one");
	/* asking for an XDP mode is asking for XDP, on veths too */
	if (o->xdp_mode_set && !o->ingress_set)
		o->ingress = WS_IN_XDP;
	if (o->xdp_mode_set && o->ingress == WS_IN_TC)
		die_usage("--xdp-mode is for XDP: it cannot be combined with --ingress tc");
}

static bool libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !libbpf_verbose))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Is the process allowed to load and attach BPF programs? */
static bool have_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
#define HAS(cap) (d[(cap) / 32].effective & (1u << ((cap) % 32)))
	bool net_admin = HAS(CAP_NET_ADMIN);
	bool sys_admin = HAS(CAP_SYS_ADMIN);
	bool bpf = 39 / 32 < 2 && HAS(39 /* CAP_BPF */);
#undef HAS
	return net_admin && (bpf || sys_admin);
}


static uint64_t now_real_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static const char *ifname_of(struct run *r, uint32_t ifindex)
{
	if (r->offline)
		return r->offline_name;
	for (size_t i = 0; i < r->nnames; i++)
		if (r->names[i].ifindex == ifindex)
			return r->names[i].name;
	size_t slot = r->nnames < sizeof(r->names) / sizeof(r->names[0]) ? r->nnames++ : 0;

	r->names[slot].ifindex = ifindex;
	if (!if_indextoname(ifindex, r->names[slot].name))
		snprintf(r->names[slot].name, sizeof(r->names[slot].name), "if%u", ifindex);
	return r->names[slot].name;
}


/*
 * TIME_WAIT timers.  Every one lasts --time-wait from its event, and events
 * come in time order, so the timers form a queue: firing looks at the head
 * only (a connection storm makes tens of thousands of them).  A RST or a new
 * SYN in TIME_WAIT cancels a connection's timers by bumping its generation
 * in r->tw; the head skips timers of an older generation.
 *
 * At most --time-wait-max are pending: 50,000 connections a second for the
 * default 60 s would otherwise hold 3 million of them (~400 MB).  Like the
 * kernel's tcp_max_tw_buckets (262144 is its usual value, and ours), the
 * ones past the limit are not followed; they are counted, and the summary
 * says how many TIME_WAIT -> CLOSED lines that left out.
 */
static void timers_cancel(struct run *r, const struct ws_conn_id *c)
{
	struct conn_ent *e = conn_get(&r->tw, c, false);

	if (e)
		e->gen++;
}

static void timers_add(struct run *r, const struct ws_conn_id *c, uint8_t role, uint64_t deadline)
{
	struct conn_ent *e;

	if (r->ntimers - r->timer_head >= r->o->time_wait_max) {
		r->tw_untracked++;
		return;
	}
	if (r->timer_head && r->timer_head >= r->ntimers / 2) {
		/* reuse the space of fired timers */
		memmove(r->timers, r->timers + r->timer_head,
			(r->ntimers - r->timer_head) * sizeof(*r->timers));
		r->ntimers -= r->timer_head;
		r->timer_head = 0;
	}
	if (r->ntimers == r->cap_timers) {
		size_t n = r->cap_timers ? r->cap_timers * 2 : 64;
		struct tw_timer *t = realloc(r->timers, n * sizeof(*t));

		if (!t)
			return;         /* no memory: the CLOSED line is the one thing lost */
		r->timers = t;
		r->cap_timers = n;
	}
	e = conn_get(&r->tw, c, true);
	if (!e)
		return;
	e->pending++;
	r->timers[r->ntimers] = (struct tw_timer){ .id = *c, .role = role, .gen = e->gen,
						   .deadline_ns = deadline };
	r->ntimers++;
}

static void timers_fire(struct run *r, uint64_t now)
{
	while (r->timer_head < r->ntimers && !r->out_err) {
		struct tw_timer *t = &r->timers[r->timer_head];
		struct conn_ent *e;
		bool live;

		if (t->deadline_ns > now)
			break;
		r->timer_head++;
		e = conn_get(&r->tw, &t->id, false);
		live = e && e->gen == t->gen;
		if (e && --e->pending == 0)
			conn_del(&r->tw, e);
		if (!live || (r->views && !ws_views_show_events(r->views)))
			continue;       /* cancelled; or --summary/--ladder print connections */
		int rc = ws_print_timer_close(&r->fmt, &t->id, t->role, ifname_of(r, t->id.ifindex),
					      t->deadline_ns);
		if (rc)
			r->out_err = rc;
	}
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;
	struct ws_event ev;
	const struct ws_event *e = &ev;
	uint64_t ts;
	int rc;

	if (ws_event_from_record(&ev, data, len)) {
		/* not possible with the programs this binary carries; said, and left out of "received" */
		if (!r->bad_records++)
			fprintf(stderr, "wirestate: skipped a ring-buffer record of %zu bytes that is "
				"not an event\n", len);
		return 0;
	}
	r->received++;
	ts = r->offline ? r->offline_ts : (uint64_t)((int64_t)e->ts_ns + r->mono_to_real);
	timers_fire(r, ts);
	ws_sock_wire_event(r->sk, e, ts);
	if (e->type == WS_EV_TCP) {
		struct ws_conn_id c;

		ws_views_conn_id(e, &c);
		if (r->conns)
			r->fmt.conn = conn_number(r->conns, &c);
		if ((e->tcp.note & WS_NOTE_REUSED || e->tcp.flags & WS_TCP_RST) &&
		    !(e->tcp.note & WS_NOTE_NO_FLOW))
			timers_cancel(r, &c);
		for (unsigned i = 0; i < e->tcp.ntr && i < WS_MAX_TR; i++) {
			uint8_t role, old, nw;

			ws_tr_unpack(e->tcp.tr, i, &role, &old, &nw);
			if (nw == WS_ST_TIME_WAIT)
				timers_add(r, &c, role, ts + (uint64_t)r->o->time_wait * 1000000000ull);
		}
	}
	rc = r->views ? ws_views_event(r->views, e, ifname_of(r, e->ifindex), ts)
		      : ws_print_event(&r->fmt, e, ifname_of(r, e->ifindex), ts);
	if (rc) {
		r->out_err = rc;
		return ERR_STOP;
	}
	if (r->pcap_open && e->cap_len) {
		uint32_t cap = e->cap_len > WS_SNAP_MAX ? WS_SNAP_MAX : e->cap_len;

		if (ws_pcap_write(&r->pcap, ts, e->frame, cap, e->wire_len)) {
			fprintf(stderr, "wirestate: writing %s failed\n", r->o->write_file);
			r->out_err = -EIO;
			return ERR_STOP;
		}
	}
	r->printed++;
	if (r->o->count && r->printed >= r->o->count)
		return ERR_STOP;
	return 0;
}

/* One write per batch of events, not one per event; a failure ends the run. */
static void flush_out(struct run *r)
{
	if (fflush(stdout) == EOF && !r->out_err)
		r->out_err = -(errno ? errno : EIO);
}

static void read_totals(struct wirestate_bpf *skel, struct run *r, struct ws_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->received = r->received;
	t->tw_untracked = r->tw_untracked;
	t->tw_max = r->o->time_wait_max;
	ws_percpu_sums(bpf_map__fd(skel->maps.stats), WS_STAT__MAX, t->stat);
	/* the programs never delete a flow: what was inserted and is gone was evicted */
	t->flows_max = bpf_map__max_entries(skel->maps.flows);
	t->flows_counted = !ws_map_count(bpf_map__fd(skel->maps.flows), sizeof(struct ws_flow_key),
					 sizeof(struct ws_flow), &t->flows_held);
}

/*
 * Say once, while it happens, that the flow table has started to evict:
 * more flows were inserted than it holds.  From then on a connection whose
 * flow was evicted shows up as picked up mid-stream.  The exact count is in
 * the summary at exit.
 */
static void check_flow_table(struct wirestate_bpf *skel, bool *warned)
{
	uint64_t max = bpf_map__max_entries(skel->maps.flows), st[WS_STAT__MAX];

	if (*warned)
		return;
	ws_percpu_sums(bpf_map__fd(skel->maps.stats), WS_STAT__MAX, st);
	if (st[WS_STAT_FLOWS] <= max)
		return;
	*warned = true;
	fprintf(stderr, "wirestate: the flow table is full (%" PRIu64 " flows): the least recently "
		"seen flows are being evicted, and a connection whose flow was evicted shows up as "
		"picked up mid-stream; --flows raises the limit\n", max);
}

static int replay_pcap(struct wirestate_bpf *skel, struct ring_buffer *rb, struct run *r,
		       struct ws_totals *extra)
{
	static uint8_t buf[65536];
	struct ws_pcap_reader rd;
	char err[256];
	int prog_fd = bpf_program__fd(skel->progs.ws_xdp);
	uint32_t cap, orig;
	uint64_t ts;
	int rc = 0;

	if (ws_pcap_open(&rd, r->o->read_file, err, sizeof(err))) {
		fprintf(stderr, "wirestate: %s\n", err);
		return -1;
	}
	while (!stop_signal && !r->out_err && (rc = ws_pcap_next(&rd, buf, sizeof(buf), &cap, &orig,
								 &ts, err, sizeof(err))) == 1) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = buf, .data_size_in = cap, .repeat = 1);

		r->offline_ts = ts;
		if (cap < 14) {
			extra->truncated++;     /* too short for BPF_PROG_TEST_RUN: a runt */
			continue;
		}
		int trc = bpf_prog_test_run_opts(prog_fd, &t);

		if (trc) {
			fprintf(stderr, "wirestate: %s: frame of %u bytes could not be run: %s\n",
				r->o->read_file, cap, strerror(-trc));
			extra->truncated++;
			continue;
		}
		if (ring_buffer__consume(rb) == ERR_STOP || r->out_err)
			break;
		flush_out(r);
	}
	ws_pcap_close(&rd);
	if (rc < 0) {
		fprintf(stderr, "wirestate: %s: %s\n", r->o->read_file, err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct run r = {};
	struct wirestate_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct ws_targets tg = { .ctr_nsfd = -1, .host_nl = -1, .ctr_nl = -1 };
	bool tg_started = false;
	struct ws_totals totals, extra = {};
	int exit_code = 1;
	int rc;

	ws_stop_signals_hold();      /* until the handlers are set, below */
	parse_args(argc, argv, &o);
	r.o = &o;
	r.fmt.out = stdout;
	r.fmt.json = o.json;
	r.fmt.color = ws_color_wanted(STDOUT_FILENO, o.views.no_color, o.json);
	r.offline = o.read_file != NULL;
	r.offline_name = "pcap";

	if (!have_caps()) {
		fprintf(stderr, "wirestate: permission denied: loading and attaching BPF programs needs "
			"CAP_BPF and CAP_NET_ADMIN (run as root)\n");
		return 1;
	}
	if (!r.offline && access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "wirestate: this kernel exposes no BTF (/sys/kernel/btf/vmlinux: %s); "
			"a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < o.nifaces; i++) {
		if (!if_nametoindex(o.ifaces[i])) {
			fprintf(stderr, "wirestate: %s: no such interface\n", o.ifaces[i]);
			return 1;
		}
	}
	if (o.sock.only) {
		libbpf_verbose = o.verbose;
		libbpf_set_print(libbpf_print);
		return ws_sock_main(&o.sock, &r.fmt, o.count, o.duration);
	}
	if (o.pid || o.netns) {
		int fd = ws_netns_open(o.pid ? o.pid : o.netns, o.pid != NULL, tg.ctr_label,
				       sizeof(tg.ctr_label), &tg.ctr_ino);

		if (fd < 0) {
			fprintf(stderr, "wirestate: %s %s: no such %s (%s)\n", o.pid ? "--pid" : "--netns",
				o.pid ? o.pid : o.netns, o.pid ? "process" : "network namespace",
				strerror(-fd));
			return 1;
		}
		if (ws_netns_is_self(fd)) {
			fprintf(stderr, "wirestate: %s is in wirestate's own network namespace: it has no "
				"host-side veth to watch; use -i IFACE\n", tg.ctr_label);
			close(fd);
			return 1;
		}
		tg.ctr_nsfd = fd;
		tg.ctr_spec = o.pid ? o.pid : o.netns;
		tg.ctr_is_pid = o.pid != NULL;
	}

	libbpf_verbose = o.verbose;
	libbpf_set_print(libbpf_print);

	skel = wirestate_bpf__open();
	if (!skel) {
		fprintf(stderr, "wirestate: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->snaplen = o.snaplen;
	/* woken at the mark and every WS_POLL_MS by the loop below: no wake-up per event */
	if (!r.offline)
		skel->rodata->wake_bytes = ws_wake_bytes(o.ringbuf_bytes);
	/* verify only what will run: each TC program costs the verifier as much as XDP */
	if (r.offline || o.ingress == WS_IN_XDP || (o.ingress == WS_IN_AUTO && !ws_kernel_has_tcx()))
		bpf_program__set_autoload(skel->progs.ws_tc_ingress, false);
	if (r.offline)
		bpf_program__set_autoload(skel->progs.ws_tc_egress, false);
	bpf_map__set_max_entries(skel->maps.flows, o.flows);
	bpf_map__set_max_entries(skel->maps.events, (uint32_t)o.ringbuf_bytes);
	/* the data path's quiet-flow cache is per possible CPU: at most ~8 MiB on any machine */
	{
		int nc = libbpf_num_possible_cpus();
		uint32_t qn = 1024;

		while (qn > 64 && nc > 0 && (uint64_t)qn * sizeof(struct ws_qslot) * (uint64_t)nc >
					      (8u << 20))
			qn >>= 1;
		bpf_map__set_max_entries(skel->maps.qslots, qn);
		bpf_map__set_max_entries(skel->maps.qbuckets, qn);
		skel->rodata->qmask = qn - 1;
	}
	rc = wirestate_bpf__load(skel);
	if (rc) {
		fprintf(stderr, "wirestate: the kernel refused the BPF programs: %s%s\n", strerror(-rc),
			o.verbose ? "" : " (run with -v for the verifier's log)");
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &r, NULL);
	if (!rb) {
		fprintf(stderr, "wirestate: cannot map the ring buffer: %s\n", strerror(errno));
		goto out;
	}
	if (o.sock.enabled &&
	    ws_sock_start(&r.sk, &o.sock, rb, &r.fmt, &r.printed, o.count, &r.out_err))
		goto out;
	if (ws_views_wanted(&o.views) && !(r.views = ws_views_new(&r.fmt, &o.views))) {
		fprintf(stderr, "wirestate: no memory for the connection table\n");
		goto out;
	}
	if (o.write_file) {
		rc = ws_pcap_create(&r.pcap, o.write_file, WS_SNAP_MAX, false);
		if (rc) {
			fprintf(stderr, "wirestate: %s: %s\n", o.write_file, strerror(-rc));
			goto out;
		}
		r.pcap_open = true;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);       /* a closed stdout shows up as EPIPE from fflush */
	ws_stop_signals_release();
	if (stop_signal) {
		/* stopped while loading: attach nothing, say so in the usual summary */
		exit_code = 0;
		goto done;
	}

	if (r.offline) {
		/* replaying needs only the loaded program's fd: drop every capability */
		rc = ws_drop_privs(0);
		if (rc)
			fprintf(stderr, "wirestate: warning: could not drop privileges: %s\n", strerror(-rc));
		rc = replay_pcap(skel, rb, &r, &extra);
		exit_code = rc ? 1 : 0;
		goto done;
	}

	tg.names = o.ifaces;
	tg.nnames = o.nifaces;
	tg.all_veth = o.all_veth;
	tg.progs.xdp = skel->progs.ws_xdp;
	tg.progs.tc_in = skel->progs.ws_tc_ingress;
	tg.progs.tc_out = skel->progs.ws_tc_egress;
	tg.ingress = o.ingress;
	tg.xdp_flags = o.xdp_flags;
	tg.out = stdout;
	tg.json = o.json;
	tg.verbose = o.verbose;
	tg_started = true;
	if (ws_targets_start(&tg))
		goto done;
	{
		/*
		 * Everything is attached.  Following interfaces needs CAP_BPF,
		 * CAP_NET_ADMIN and (for older kernels' BPF) CAP_SYS_ADMIN; a
		 * TC filter on a kernel without tcx needs CAP_NET_ADMIN to be
		 * removed.  BPF links and the ring buffer need nothing more.
		 */
		bool follow = o.all_veth || tg.ctr_nsfd >= 0;
		bool legacy_tc = false;
		uint64_t keep = 0;

		for (size_t i = 0; i < tg.n; i++)
			legacy_tc |= tg.ifs[i].in.legacy || tg.ifs[i].out.legacy;
		if (follow)
			keep = WS_CAP(CAP_BPF_WS) | WS_CAP(CAP_NET_ADMIN) | WS_CAP(CAP_SYS_ADMIN) |
			       WS_CAP(CAP_PERFMON_WS);
		else if (legacy_tc)
			keep = WS_CAP(CAP_NET_ADMIN);
		/* with --pid/--netns, the monitor socket was opened in the namespace already */
		rc = ws_drop_privs(keep);
		if (rc)
			fprintf(stderr, "wirestate: warning: could not drop privileges: %s\n", strerror(-rc));
	}
	if (o.nifaces > 1 || o.all_veth || tg.ctr_nsfd >= 0)
		r.conns = calloc(1, sizeof(*r.conns));   /* NULL: just no numbers */
	if (tg.ctr_nsfd >= 0) {
		r.fmt.container = tg.ctr_label;
		r.fmt.netns = tg.ctr_ino;
	}
	r.mono_to_real = ws_mono_to_real_offset();
	if (!o.json) {
		/* which hook sees arriving frames depends on the interface and the kernel: say it */
		size_t nxdp = 0;

		for (size_t i = 0; i < tg.n; i++)
			nxdp += tg.ifs[i].xdp_fd >= 0;
		fprintf(stderr, "wirestate: watching %zu interface%s%s%s%s; Ctrl-C to stop\n", tg.n,
			tg.n == 1 ? "" : "s", tg.ctr_label[0] ? " of " : "", tg.ctr_label,
			!tg.n ? "" : nxdp == tg.n ? " (XDP in, TC out)" : !nxdp ? " (TC in and out)" :
			" (XDP or TC in, TC out; -v says which)");
	}

	struct timespec start;
	bool flows_warned = false;
	uint64_t next_check = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop_signal) {
		rc = ring_buffer__poll(rb, WS_POLL_MS);
		/* a timeout: what waits below the wake-up mark (wake_bytes) is read now */
		if (rc == 0)
			rc = ring_buffer__consume(rb);
		flush_out(&r);
		if (rc == ERR_STOP || r.out_err)
			break;
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "wirestate: reading the ring buffer: %s\n", strerror(-rc));
			goto done;
		}
		timers_fire(&r, now_real_ns());
		ws_sock_tick(r.sk, now_real_ns());
		if (now_real_ns() >= next_check) {
			check_flow_table(skel, &flows_warned);
			next_check = now_real_ns() + 1000000000ull;
		}
		if (!ws_targets_poll(&tg) && o.nifaces && !o.all_veth && !tg.ctr_label[0]) {
			fprintf(stderr, "wirestate: no interface left to watch\n");
			break;
		}
		if (o.duration > 0) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >=
			    o.duration)
				break;
		}
	}
	exit_code = 0;
done:
	/* detach first, then drain what is already in the ring */
	if (tg_started)
		ws_targets_stop(&tg);
	if (tg.ctr_nsfd >= 0)
		close(tg.ctr_nsfd);
	if (rb && !r.out_err && !(o.count && r.printed >= o.count))
		ring_buffer__consume(rb);
	if (r.views && !r.out_err)      /* connections still open: their summaries/ladders */
		r.out_err = ws_views_finish(r.views, r.offline ? r.offline_ts : now_real_ns());
	flush_out(&r);
	if (r.out_err == -EPIPE) {
		exit_code = 0;          /* the reader went away: not our failure */
	} else if (r.out_err) {
		fprintf(stderr, "wirestate: writing output failed: %s\n", strerror(-r.out_err));
		exit_code = 1;
	}
	if (r.pcap_open && ws_pcap_finish(&r.pcap)) {
		fprintf(stderr, "wirestate: %s: write failed\n", o.write_file);
		exit_code = 1;
	}
	if (r.pcap_open && exit_code && !r.printed)
		unlink(o.write_file);   /* we never ran: leave no empty capture behind */
	if (skel && r.out_err != -EPIPE) {
		read_totals(skel, &r, &totals);
		totals.truncated = extra.truncated;
		ws_print_stats(&r.fmt, &totals, stderr);
	}
out:
	ring_buffer__free(rb);
	ws_sock_stop(r.sk);
	ws_views_free(r.views);
	wirestate_bpf__destroy(skel);
	free(r.timers);
	if (r.conns) {
		conn_tab_clear(r.conns);
		free(r.conns);
	}
	conn_tab_clear(&r.tw);
	return exit_code;
}
