// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_cost: what ws_xdp costs per frame, measured with BPF_PROG_TEST_RUN next
 * to the empty program ws_xdp_empty of the same object (bench/README.md).
 *
 *   xdp_cost cost  [--repeat N] [--runs K] [--only TEXT] per-frame cost of ws_xdp, by kind of frame
 *   xdp_cost flows [--count N]               N distinct SYNs against the flow table
 *   xdp_cost attach-empty IFACE SECONDS [MODE]   hold empty programs on IFACE: MODE native
 *                                                (default) or generic (an XDP program only);
 *                                                tc or auto: in and out, on the hooks
 *                                                wirestate would use (ws_attach)
 *   xdp_cost attach-ws IFACE SECONDS RING [MODE] wirestate's programs on IFACE, events
 *                                                read and discarded (wirestate without its
 *                                                user space), attached by ws_attach as
 *                                                wirestate does; MODE auto (default: its
 *                                                choice on a veth, TC ingress where the
 *                                                kernel has tcx, else generic XDP), tc,
 *                                                generic or native (XDP)
 *
 * `cost` and `flows` print their results as tab-separated "ROW" lines (the
 * table bench/run.sh prints) and details as "#" lines.  Exit status 0 when
 * everything ran, 1 on errors: a target missed is not an error.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ws_user.h"
#include "frames.h"
#include "wirestate.skel.h"
#include "floor.skel.h"

#define MAX_RUNS 31

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/*
 * One BPF_PROG_TEST_RUN of `repeat` iterations; opts.duration is the kernel's
 * mean time per iteration in whole nanoseconds, time spent preempted (the
 * loop's cond_resched) excluded.  The syscall's wall time is no substitute:
 * with repeat > 1 the kernel switches the XDP dispatcher to the program and
 * back (bpf_prog_change_xdp, an RCU grace period each), milliseconds that
 * are not the program's.
 */
struct one_run {
	double ns;         /* per iteration */
	uint32_t retval;
};

static int test_run(int prog_fd, const void *frame, size_t len, uint32_t repeat, struct one_run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &o);

	if (err)
		return err;
	r->ns = (double)o.duration;
	r->retval = o.retval;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the median of n samples, sorted in place (0 for none) */
static double median_of(double *v, uint64_t n)
{
	if (!n)
		return 0;
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* the median of at most MAX_RUNS samples, left in their order */
static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	if (n <= 0)
		return 0;
	memcpy(s, v, (size_t)n * sizeof(double));
	return median_of(s, (uint64_t)n);
}

static void read_stats(struct wirestate_bpf *skel, uint64_t out[WS_STAT__MAX])
{
	ws_percpu_sums(bpf_map__fd(skel->maps.stats), WS_STAT__MAX, out);
}

static uint64_t received;

static int on_event(void *ctx, void *data, size_t len)
{
	received++;
	return 0;
}

static uint64_t next_pow2(uint64_t v)
{
	uint64_t p = 4096;

	while (p < v)
		p <<= 1;
	return p;
}

static uint64_t ring_record_size(void)
{
	return WS_RB_RECORD;
}

static struct wirestate_bpf *load(uint64_t ring_bytes, uint32_t flows)
{
	struct wirestate_bpf *skel = wirestate_bpf__open();
	int rc;

	if (!skel) {
		fprintf(stderr, "xdp_cost: cannot open the BPF object: %s\n", strerror(errno));
		return NULL;
	}
	if (ring_bytes)
		bpf_map__set_max_entries(skel->maps.events, (uint32_t)ring_bytes);
	/* the wake-up mark wirestate sets (user/main.c): every row measures its programs */
	skel->rodata->wake_bytes = ws_wake_bytes(ring_bytes ? ring_bytes : 4u << 20);
	if (flows)
		bpf_map__set_max_entries(skel->maps.flows, flows);
	rc = wirestate_bpf__load(skel);
	if (rc) {
		fprintf(stderr, "xdp_cost: the kernel refused the BPF programs: %s\n", strerror(-rc));
		wirestate_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* "memlock:" of a map, from /proc/self/fdinfo (what bpftool map show prints) */
static long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- frames ---- */

struct frame {
	uint8_t buf[FR_BUF_MIN];
	size_t len;
};

static void tcp_frame(struct frame *f, int family, int from_client, uint8_t flags, uint32_t seq,
		      uint32_t ack, uint16_t paylen)
{
	struct tcpspec s = {
		.family = family,
		.src = family == 4 ? "10.0.0.1" : "fd00::1",
		.dst = family == 4 ? "10.0.0.2" : "fd00::2",
		.sport = 40000,
		.dport = 5201,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.paylen = paylen,
		.ts = 1, .tsval = 1000, .tsecr = 2000,
	};

	if (flags & WS_TCP_SYN) {
		s.mss = 1460;
		s.sack_ok = 1;
		s.has_wscale = 1;
		s.wscale = 7;
	}
	if (!from_client) {
		const char *a = s.src;
		uint16_t p = s.sport;

		s.src = s.dst;
		s.dst = a;
		s.sport = s.dport;
		s.dport = p;
	}
	f->len = fr_tcp(f->buf, &s);
}

/* SYN, SYN-ACK, ACK through ws_xdp: afterwards the flow needs no look at data. */
static int handshake(int prog_fd, int family)
{
	struct frame f;
	struct one_run r;
	const uint32_t cisn = 1000, sisn = 5000;
	int rc = 0;

	tcp_frame(&f, family, 1, WS_TCP_SYN, cisn, 0, 0);
	rc |= test_run(prog_fd, f.buf, f.len, 1, &r);
	tcp_frame(&f, family, 0, WS_TCP_SYN | WS_TCP_ACK, sisn, cisn + 1, 0);
	rc |= test_run(prog_fd, f.buf, f.len, 1, &r);
	tcp_frame(&f, family, 1, WS_TCP_ACK, cisn + 1, sisn + 1, 0);
	rc |= test_run(prog_fd, f.buf, f.len, 1, &r);
	return rc;
}

/* Every flow in the table is past its handshake: data takes the data path (quick_path). */
static int flows_settled(int fd, int *nflows)
{
	struct ws_flow_key key, next;
	struct ws_flow val;
	void *prev = NULL;
	int ok = 1;

	*nflows = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &val) == 0) {
			(*nflows)++;
			if (val.pending || val.st[WS_CLIENT] != WS_ST_ESTABLISHED ||
			    val.st[WS_SERVER] != WS_ST_ESTABLISHED)
				ok = 0;
		}
		key = next;
		prev = &key;
	}
	return ok;
}

struct ccase {
	const char *label;
	const char *target;       /* "1.3" / "2.5" / NULL */
	struct frame f;
};

static void row(const char *measure, const char *result, const char *baseline, const char *ratio,
		const char *target, const char *verdict, const char *notes)
{
	printf("ROW\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", measure, result, baseline, ratio, target,
	       verdict, notes);
}

/* What a TC program of wirestate's returns: TC_ACT_UNSPEC / TCX_NEXT (-1). */
#define TC_NEXT_RET 0xffffffffu

static int measure_ret(int prog, int empty, const struct frame *f, uint32_t repeat, int runs,
		       struct ring_buffer *rb, const char *label, const char *name, double *ws,
		       double *em, double *ratio, uint32_t want);

/*
 * `runs` pairs of BPF_PROG_TEST_RUN of prog and the empty program on frame f,
 * the order alternating so neither always runs first, rb drained after each
 * pair; per-iteration times into ws[] and em[], their ratios into ratio[].
 * Both programs must pass the frame.  0, or -1 after saying why.
 */
static int measure(int prog, int empty, const struct frame *f, uint32_t repeat, int runs,
		   struct ring_buffer *rb, const char *label, const char *name, double *ws,
		   double *em, double *ratio)
{
	return measure_ret(prog, empty, f, repeat, runs, rb, label, name, ws, em, ratio, XDP_PASS);
}

/* The same, for programs that pass a frame by returning want. */
static int measure_ret(int prog, int empty, const struct frame *f, uint32_t repeat, int runs,
		       struct ring_buffer *rb, const char *label, const char *name, double *ws,
		       double *em, double *ratio, uint32_t want)
{
	for (int i = 0; i < runs; i++) {
		struct one_run a = { 0 }, b = { 0 };
		int e1, e2;

		if (i & 1) {
			e1 = test_run(prog, f->buf, f->len, repeat, &a);
			e2 = test_run(empty, f->buf, f->len, repeat, &b);
		} else {
			e2 = test_run(empty, f->buf, f->len, repeat, &b);
			e1 = test_run(prog, f->buf, f->len, repeat, &a);
		}
		if (e1 || e2) {
			fprintf(stderr, "xdp_cost: BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
			return -1;
		}
		if (a.retval != want || b.retval != want) {
			fprintf(stderr, "xdp_cost: unexpected return value %u/%u\n", a.retval, b.retval);
			return -1;
		}
		ring_buffer__consume(rb);
		ws[i] = a.ns;
		em[i] = b.ns;
		ratio[i] = b.ns > 0 ? a.ns / b.ns : 0;
		printf("# %s run %d: %s %.0f ns, empty %.0f ns\n", label, i + 1, name, a.ns, b.ns);
	}
	return 0;
}

static int count_event(void *ctx, void *data, size_t len)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

/*
 * The floors (bench/floor.bpf.c): one unavoidable piece of work each, timed
 * like the rows above against the same empty program.  A ratio here is the
 * least any program doing that piece can get on this machine.
 */
static int floors(int empty, uint32_t repeat, int runs, const char *only)
{
	struct floor_case {
		const char *label;
		struct bpf_program *prog;
		int data;        /* 1: the IPv4 data segment; 0: the ARP request */
	} fl[4];
	struct floor_bpf *fs;
	struct ring_buffer *rb = NULL;
	uint64_t nev = 0;
	struct frame data, arp;
	int n = 0, rc = 1;

	fs = floor_bpf__open();
	if (!fs) {
		fprintf(stderr, "xdp_cost: cannot open the floor object: %s\n", strerror(errno));
		return 1;
	}
	bpf_map__set_max_entries(fs->maps.fl_events,
				 (uint32_t)next_pow2(ring_record_size() * (uint64_t)repeat + (1u << 20)));
	if (floor_bpf__load(fs)) {
		fprintf(stderr, "xdp_cost: the kernel refused the floor programs: %s\n", strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(fs->maps.fl_events), count_event, &nev, NULL);
	if (!rb) {
		fprintf(stderr, "xdp_cost: cannot map the floor ring buffer: %s\n", strerror(errno));
		goto out;
	}
	tcp_frame(&data, 4, 1, WS_TCP_ACK | WS_TCP_PSH, 1001, 5001, 1448);
	arp.len = fr_arp(arp.buf, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	fl[n++] = (struct floor_case){ "floor: parse only (ws_parse_quick; IPv4 data segment)",
				   fs->progs.floor_parse, 1 };
	fl[n++] = (struct floor_case){ "floor: parse + one per-CPU counter (array, inlined lookup)",
				   fs->progs.floor_count, 1 };
	fl[n++] = (struct floor_case){ "floor: parse + one LRU-hash lookup of the flow (a hit)",
				   fs->progs.floor_lookup, 1 };
	fl[n++] = (struct floor_case){ "floor: one event: reserve the smallest record, zero its fixed part, stamp, submit",
				   fs->progs.floor_event, 0 };
	for (int c = 0; c < n; c++) {
		const struct frame *f = fl[c].data ? &data : &arp;
		double ws[MAX_RUNS], em[MAX_RUNS], ratio[MAX_RUNS];
		char res[64], base[64], rat[32], notes[128];

		if (only && !strstr(fl[c].label, only))
			continue;
		if (measure(bpf_program__fd(fl[c].prog), empty, f, repeat, runs, rb, fl[c].label,
			    "floor", ws, em, ratio))
			goto out;
		snprintf(res, sizeof(res), "%.0f ns (+%.0f)", median(ws, runs),
			 median(ws, runs) - median(em, runs));
		snprintf(base, sizeof(base), "%.0f ns", median(em, runs));
		snprintf(rat, sizeof(rat), "%.2fx", median(ratio, runs));
		snprintf(notes, sizeof(notes), "median of %d x %u; bench/floor.bpf.c, not wirestate",
			 runs, repeat);
		row(fl[c].label, res, base, rat, "-", "-", notes);
	}
	if (nev)
		printf("# floor events received: %" PRIu64 "\n", nev);
	rc = 0;
out:
	ring_buffer__free(rb);
	floor_bpf__destroy(fs);
	return rc;
}

/*
 * wirestate's TC ingress program, the default hook on veths of kernels with
 * tcx, on the same frames against an empty TC program (floor.bpf.c).  The
 * issue's targets are for XDP: these rows have none.  The data segment
 * belongs to the flow the XDP handshake opened (test runs of both kinds run
 * on loopback, one ifindex); a second flow after the rows would mean it did
 * not, and is said.
 */
static int tc_rows(struct wirestate_bpf *skel, struct ring_buffer *rb, uint32_t repeat, int runs,
		   const char *only)
{
	struct { const char *label; struct frame f; } tc[2];
	struct floor_bpf *fs = floor_bpf__open();
	int nflows = 0, rc = 1;

	if (!fs || floor_bpf__load(fs)) {
		fprintf(stderr, "xdp_cost: cannot load the empty TC program: %s\n", strerror(errno));
		floor_bpf__destroy(fs);
		return 1;
	}
	tc[0].label = "TC ingress IPv4 data segment, tracked flow (1448 B; veths' default hook)";
	tcp_frame(&tc[0].f, 4, 1, WS_TCP_ACK | WS_TCP_PSH, 1001, 5001, 1448);
	tc[1].label = "TC ingress ARP request (event)";
	tc[1].f.len = fr_arp(tc[1].f.buf, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.3");
	for (int c = 0; c < 2; c++) {
		double ws[MAX_RUNS], em[MAX_RUNS], ratio[MAX_RUNS];
		char res[64], base[64], rat[32], notes[160];
		uint64_t s0[WS_STAT__MAX], s1[WS_STAT__MAX];

		if (only && !strstr(tc[c].label, only))
			continue;
		read_stats(skel, s0);
		if (measure_ret(bpf_program__fd(skel->progs.ws_tc_ingress),
				bpf_program__fd(fs->progs.tc_empty), &tc[c].f, repeat, runs, rb,
				tc[c].label, "ws_tc_ingress", ws, em, ratio, TC_NEXT_RET))
			goto out;
		read_stats(skel, s1);
		snprintf(res, sizeof(res), "%.0f ns (+%.0f)", median(ws, runs),
			 median(ws, runs) - median(em, runs));
		snprintf(base, sizeof(base), "%.0f ns", median(em, runs));
		snprintf(rat, sizeof(rat), "%.2fx", median(ratio, runs));
		snprintf(notes, sizeof(notes), "median of %d x %u against an empty TC program; events %"
			 PRIu64 ", drops %" PRIu64, runs, repeat,
			 s1[WS_STAT_EVENTS] - s0[WS_STAT_EVENTS], s1[WS_STAT_RB_DROPS] - s0[WS_STAT_RB_DROPS]);
		row(tc[c].label, res, base, rat, "-", "-", notes);
	}
	if (!flows_settled(bpf_map__fd(skel->maps.flows), &nflows) || nflows != 2)
		printf("# warning: %d flows after the TC rows: the TC data segment did not take the data path\n",
		       nflows);
	rc = 0;
out:
	floor_bpf__destroy(fs);
	return rc;
}

static int cmd_cost(uint32_t repeat, int runs, const char *only)
{
	uint64_t ring = next_pow2(ring_record_size() * (uint64_t)repeat + (1u << 20));
	struct wirestate_bpf *skel;
	struct ring_buffer *rb;
	struct ccase cases[5];
	int ncases = 0, rc = 1, nflows;

	if (ring > (1ull << 30))
		ring = 1ull << 30;
	/* a machine that cannot give that much gets a smaller ring: the rows then report drops */
	while (!(skel = load(ring, 0)) && ring > (16u << 20))
		ring >>= 1;
	if (!skel)
		return 1;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "xdp_cost: cannot map the ring buffer: %s\n", strerror(errno));
		goto out;
	}
	int xdp = bpf_program__fd(skel->progs.ws_xdp);
	int empty = bpf_program__fd(skel->progs.ws_xdp_empty);

	if (handshake(xdp, 4) || handshake(xdp, 6)) {
		fprintf(stderr, "xdp_cost: BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
		goto out;
	}
	ring_buffer__consume(rb);
	if (!flows_settled(bpf_map__fd(skel->maps.flows), &nflows) || nflows != 2) {
		fprintf(stderr, "xdp_cost: after the handshakes the flows are not ESTABLISHED without "
			"anything pending (%d flows): the data rows would not measure the data path\n",
			nflows);
		goto out;
	}
	printf("# ring buffer %" PRIu64 " MiB (at most %" PRIu64 " bytes per event), drained between runs\n",
	       ring >> 20, ring_record_size());
	{
		/* bench/run.sh turns it off; run alone, say what it does to the numbers */
		FILE *sf = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
		int on = 0;

		if (sf) {
			if (fscanf(sf, "%d", &on) != 1)
				on = 0;
			fclose(sf);
		}
		if (on)
			printf("# warning: kernel.bpf_stats_enabled=1: every run of either program also "
			       "reads the clock twice, which inflates the baseline and lowers every ratio\n");
	}

	/* the data segments belong to the flows the handshakes opened */
	cases[ncases] = (struct ccase){ .label = "XDP IPv4 data segment, tracked flow (1448 B, data path)", .target = "1.3" };
	tcp_frame(&cases[ncases++].f, 4, 1, WS_TCP_ACK | WS_TCP_PSH, 1001, 5001, 1448);
	cases[ncases] = (struct ccase){ .label = "XDP IPv6 data segment, tracked flow (1448 B, data path)", .target = "1.3" };
	tcp_frame(&cases[ncases++].f, 6, 1, WS_TCP_ACK | WS_TCP_PSH, 1001, 5001, 1448);
	/* a SYN of its own 4-tuple: the first run opens the flow, every later one is a retransmission */
	cases[ncases] = (struct ccase){ .label = "XDP SYN, same frame repeated (retransmission path: lock+FSM+event)", .target = "2.5" };
	{
		struct tcpspec s = { .family = 4, .src = "10.0.1.1", .dst = "10.0.0.2", .sport = 41000,
				     .dport = 80, .seq = 777, .flags = WS_TCP_SYN, .mss = 1460,
				     .sack_ok = 1, .ts = 1, .tsval = 1, .has_wscale = 1, .wscale = 7 };
		cases[ncases].f.len = fr_tcp(cases[ncases].f.buf, &s);
		ncases++;
	}
	cases[ncases] = (struct ccase){ .label = "XDP ARP request (event)", .target = "2.5" };
	cases[ncases].f.len = fr_arp(cases[ncases].f.buf, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL,
				     "172.17.0.3");
	ncases++;
	cases[ncases] = (struct ccase){ .label = "XDP truncated frame (IPv4, TCP header cut at 10 B: parse error)", .target = NULL };
	tcp_frame(&cases[ncases].f, 4, 1, WS_TCP_ACK, 1, 1, 0);
	cases[ncases++].f.len = 14 + 20 + 10;

	for (int c = 0; c < ncases; c++) {
		double ws[MAX_RUNS], em[MAX_RUNS], ratio[MAX_RUNS];

		if (only && !strstr(cases[c].label, only))
			continue;
		uint64_t s0[WS_STAT__MAX], s1[WS_STAT__MAX];
		uint64_t rcv0 = received;

		read_stats(skel, s0);
		if (measure(xdp, empty, &cases[c].f, repeat, runs, rb, cases[c].label, "ws_xdp", ws,
			    em, ratio))
			goto out;
		read_stats(skel, s1);

		uint64_t pkts = s1[WS_STAT_PACKETS] - s0[WS_STAT_PACKETS];
		uint64_t ev = s1[WS_STAT_EVENTS] - s0[WS_STAT_EVENTS];
		uint64_t drops = s1[WS_STAT_RB_DROPS] - s0[WS_STAT_RB_DROPS];
		uint64_t perr = s1[WS_STAT_PARSE_ERR] - s0[WS_STAT_PARSE_ERR];
		uint64_t busy = s1[WS_STAT_LOCK_BUSY] - s0[WS_STAT_LOCK_BUSY];
		double mr = median(ratio, runs);
		char res[64], base[64], rat[32], tgt[32], notes[256];

		snprintf(res, sizeof(res), "%.0f ns (+%.0f)", median(ws, runs),
			 median(ws, runs) - median(em, runs));
		snprintf(base, sizeof(base), "%.0f ns", median(em, runs));
		snprintf(rat, sizeof(rat), "%.2fx", mr);
		snprintf(tgt, sizeof(tgt), "%s", cases[c].target ? cases[c].target : "-");
		if (cases[c].target)
			snprintf(tgt, sizeof(tgt), "<= %sx", cases[c].target);
		snprintf(notes, sizeof(notes),
			 "median of %d x %u; events %" PRIu64 " (received %" PRIu64 "), drops %" PRIu64
			 ", parse errors %" PRIu64 "%s",
			 runs, repeat, ev, received - rcv0, drops, perr, busy ? ", lock busy" : "");
		row(cases[c].label, res, base, rat, tgt,
		    cases[c].target ? (mr <= atof(cases[c].target) ? "ok" : "MISSED") : "-", notes);
		if (pkts != (uint64_t)runs * repeat)
			printf("# warning: %" PRIu64 " packets counted, %" PRIu64 " expected\n", pkts,
			       (uint64_t)runs * repeat);
	}
	rc = tc_rows(skel, rb, repeat, runs, only);
	if (!rc)
		rc = floors(empty, repeat, runs, only);
out:
	ring_buffer__free(rb);
	wirestate_bpf__destroy(skel);
	return rc;
}

/*
 * N distinct SYNs (source address and port vary), each its own
 * BPF_PROG_TEST_RUN with repeat 1, against the default 65536-entry table.
 * Each SYN is followed by a repeat-1 run of the empty program: the same
 * syscall and timer overhead, so the pair gives the cost of a new flow.
 */
static int cmd_flows(uint32_t count)
{
	struct wirestate_bpf *skel = load(64ull << 20, 0);
	struct ring_buffer *rb = NULL;
	struct bpf_map_info info = {};
	uint32_t info_len = sizeof(info);
	struct frame f;
	uint64_t s0[WS_STAT__MAX], s1[WS_STAT__MAX];
	uint64_t errors = 0, n[2] = { 0 }, n_em[2] = { 0 };
	/*
	 * Every sample is kept: the rows show medians.  A mean of repeat-1 runs
	 * is at the mercy of a few that were interrupted (one run's empty
	 * baseline came out at 911 ns against 120-146 ns in the others).
	 */
	double *t_ws[2] = { calloc(count, sizeof(double)), calloc(count, sizeof(double)) };
	double *t_em[2] = { calloc(count / 16 + 1, sizeof(double)),
			    calloc(count / 16 + 1, sizeof(double)) };
	int rc = 1;

	if (!t_ws[0] || !t_ws[1] || !t_em[0] || !t_em[1]) {
		fprintf(stderr, "xdp_cost: out of memory\n");
		goto out;
	}
	if (!skel)
		goto out;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "xdp_cost: cannot map the ring buffer: %s\n", strerror(errno));
		goto out;
	}
	int xdp = bpf_program__fd(skel->progs.ws_xdp);
	int empty = bpf_program__fd(skel->progs.ws_xdp_empty);
	int flows_fd = bpf_map__fd(skel->maps.flows);

	if (bpf_obj_get_info_by_fd(flows_fd, &info, &info_len)) {
		fprintf(stderr, "xdp_cost: map info: %s\n", strerror(errno));
		goto out;
	}
	long long mem0 = map_memlock(flows_fd);

	struct tcpspec s = { .family = 4, .src = "10.0.0.1", .dst = "192.168.0.1", .sport = 1024,
			     .dport = 80, .seq = 1, .flags = WS_TCP_SYN, .mss = 1460, .sack_ok = 1,
			     .ts = 1, .tsval = 1, .has_wscale = 1, .wscale = 7 };
	f.len = fr_tcp(f.buf, &s);
	/* byte offsets of the IPv4 source address and the TCP source port */
	const size_t saddr_off = 14 + 12, sport_off = 14 + 20;

	read_stats(skel, s0);
	for (uint32_t i = 0; i < count; i++) {
		struct one_run a, b;
		/* 10.0.0.0/8 sources x 16 ports: every SYN is a new 4-tuple (checksums not redone:
		 * the parser does not look at them) */
		uint32_t src = (10u << 24) | ((i >> 4) & 0xffffff);

		fr_put32(f.buf + saddr_off, src);
		fr_put16(f.buf + sport_off, 1024 + (i & 15));
		fr_put32(f.buf + sport_off + 4, i);           /* seq */
		if (test_run(xdp, f.buf, f.len, 1, &a)) {
			errors++;
			continue;
		}
		/* phase 0: the table is filling; phase 1: full, each insert evicts */
		int ph = i >= info.max_entries;

		t_ws[ph][n[ph]++] = a.ns;
		/* the baseline, sampled: one empty run per 16 SYNs */
		if ((i & 15) == 0) {
			if (test_run(empty, f.buf, f.len, 1, &b)) {
				errors++;
				continue;
			}
			t_em[ph][n_em[ph]++] = b.ns;
		}
		if ((i & 1023) == 1023)
			ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
	read_stats(skel, s1);

	long long mem1 = map_memlock(flows_fd);
	uint64_t nheld = 0;
	/* what wirestate counts at exit, the same way (user/mapcount.c) */
	long long held = ws_map_count(flows_fd, sizeof(struct ws_flow_key), sizeof(struct ws_flow),
				      &nheld) ? -1 : (long long)nheld;
	uint64_t fl = s1[WS_STAT_FLOWS] - s0[WS_STAT_FLOWS];
	uint64_t ff = s1[WS_STAT_FLOW_FAIL] - s0[WS_STAT_FLOW_FAIL];
	uint64_t dr = s1[WS_STAT_RB_DROPS] - s0[WS_STAT_RB_DROPS];
	uint64_t ev = s1[WS_STAT_EVENTS] - s0[WS_STAT_EVENTS];
	int ok = errors == 0 && held >= 0 && held <= (long long)info.max_entries && mem1 == mem0 &&
		 ff == 0 && dr == 0 && fl == count;
	char res[128], base[64], notes[320], label[128], rat[32];

	printf("# flows: max_entries %u, memlock %lld -> %lld bytes, %lld keys at the end\n",
	       info.max_entries, mem0, mem1, held);
	snprintf(label, sizeof(label), "Flow table: %u distinct SYNs, LRU of %u entries", count,
		 info.max_entries);
	snprintf(res, sizeof(res), "%lld flows held, %lld evicted", held,
		 held >= 0 ? (long long)fl - held : -1);
	snprintf(base, sizeof(base), "max %u", info.max_entries);
	snprintf(notes, sizeof(notes),
		 "evicted = inserted - held (wirestate's flows_evicted); memlock %lld -> %lld B; "
		 "FLOWS +%" PRIu64 ", FLOW_FAIL +%" PRIu64 ", RB_DROPS +%" PRIu64
		 ", events %" PRIu64 ", test-run errors %" PRIu64,
		 mem0, mem1, fl, ff, dr, ev, errors);
	row(label, res, base, "-", "bounded, 0 fail/drop", ok ? "ok" : "MISSED", notes);

	for (int ph = 0; ph < 2; ph++) {
		if (!n[ph])
			continue;
		double w = median_of(t_ws[ph], n[ph]), e = median_of(t_em[ph], n_em[ph]);

		snprintf(label, sizeof(label), "XDP SYN of a new flow, table %s (repeat 1 each)",
			 ph ? "full: insert evicts" : "filling");
		snprintf(res, sizeof(res), "%.0f ns (+%.0f)", w, w - e);
		snprintf(base, sizeof(base), "%.0f ns", e);
		snprintf(rat, sizeof(rat), "%.2fx", e > 0 ? w / e : 0);
		snprintf(notes, sizeof(notes),
			 "median of %" PRIu64 " SYNs (empty: %" PRIu64 " samples); repeat=1: both "
			 "include the test-run setup", n[ph], n_em[ph]);
		row(label, res, base, rat, "<= 2.5x", e > 0 && w / e <= 2.5 ? "ok" : "MISSED", notes);
	}
	rc = errors ? 1 : 0;
out:
	for (int ph = 0; ph < 2; ph++) {
		free(t_ws[ph]);
		free(t_em[ph]);
	}
	ring_buffer__free(rb);
	wirestate_bpf__destroy(skel);
	return rc;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* An XDP link in the given mode ("native" or "generic"); -1 with errno on failure. */
static int xdp_link(int prog_fd, int ifindex, const char *mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, o,
		    .flags = strcmp(mode, "generic") ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);

	return bpf_link_create(prog_fd, ifindex, BPF_XDP, &o);
}

#define TCX_INGRESS 46    /* BPF_TCX_INGRESS (uapi of kernels >= 6.6) */
#define TCX_EGRESS 47     /* BPF_TCX_EGRESS */

/*
 * Attach pr to IFACE as wirestate does (ws_attach(): a tcx link, or a clsact
 * filter on kernels without tcx, removed again by ws_detach()), choosing the
 * ingress hook by mode: auto (wirestate's choice on a veth), tc, generic or
 * native (XDP).  Returns 0, or -1 after saying why.
 */
static int attach_like_ws(struct ws_iface *ifc, const char *ifname, const struct ws_progs *pr,
			  const char *mode)
{
	struct ws_attach_opts ao = { .ingress = WS_IN_XDP, .xdp_flags = WS_XDP_AUTO, .kind = "veth" };
	char err[256];

	if (!strcmp(mode, "auto"))
		ao.ingress = WS_IN_AUTO;
	else if (!strcmp(mode, "tc"))
		ao.ingress = WS_IN_TC;
	else if (!strcmp(mode, "generic"))
		ao.xdp_flags = WS_XDP_SKB;
	else if (!strcmp(mode, "native"))
		ao.xdp_flags = WS_XDP_DRV;
	else {
		fprintf(stderr, "xdp_cost: unknown mode %s\n", mode);
		return -1;
	}
	if (ws_attach(ifc, ifname, pr, &ao, err, sizeof(err))) {
		fprintf(stderr, "xdp_cost: %s\n", err);
		return -1;
	}
	return 0;
}

static void wait_until(double seconds)
{
	double end = now_ns() + seconds * 1e9;

	while (!stop && now_ns() < end)
		usleep(50000);
}

/*
 * Hold empty programs on IFACE for SECONDS (or until SIGINT/SIGTERM).  MODE
 * native or generic: ws_xdp_empty as an XDP link only, which dies with us.
 * tc or auto (the hooks wirestate picks on a veth): ws_xdp_empty or
 * tc_empty (bench/floor.bpf.c) for what arrives and tc_empty on egress,
 * attached and removed as wirestate does.
 */
static int cmd_attach_empty(const char *ifname, double seconds, const char *mode)
{
	struct wirestate_bpf *skel = load(0, 0);
	struct floor_bpf *fs = NULL;
	struct ws_iface ifc;
	int xl = -1, rc = 1;

	if (!skel)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!strcmp(mode, "native") || !strcmp(mode, "generic")) {
		int ifindex = (int)if_nametoindex(ifname);

		xl = ifindex ? xdp_link(bpf_program__fd(skel->progs.ws_xdp_empty), ifindex, mode) : -1;
		if (xl < 0) {
			fprintf(stderr, "xdp_cost: attaching to %s (%s): %s\n", ifname, mode,
				ifindex ? strerror(errno) : "no such interface");
			goto done;
		}
		printf("attached (xdp link, %s)\n", mode);
		fflush(stdout);
		wait_until(seconds);
		close(xl);
		rc = 0;
		goto done;
	}
	fs = floor_bpf__open_and_load();
	if (!fs) {
		fprintf(stderr, "xdp_cost: cannot load tc_empty: %s\n", strerror(errno));
		goto done;
	}
	struct ws_progs pr = { .xdp = skel->progs.ws_xdp_empty, .tc_in = fs->progs.tc_empty,
			       .tc_out = fs->progs.tc_empty };

	if (attach_like_ws(&ifc, ifname, &pr, mode))
		goto done;
	printf("attached (%s)\n", ws_attach_mode(&ifc));
	fflush(stdout);
	wait_until(seconds);
	ws_detach(&ifc);
	rc = 0;
done:
	floor_bpf__destroy(fs);
	wirestate_bpf__destroy(skel);
	return rc;
}

/*
 * wirestate's kernel side without its user space: its programs on the hooks
 * mode picks (see attach_like_ws), the ring buffer read and discarded.
 * A control for the connection storm: what is left of wirestate's cost
 * without formatting, output and TIME_WAIT timers.  Prints the counters at exit.
 */
static int cmd_attach_ws(const char *ifname, double seconds, uint64_t ring, const char *mode)
{
	struct wirestate_bpf *skel = load(ring, 0);
	struct ring_buffer *rb = NULL;
	struct ws_iface ifc;
	uint64_t st[WS_STAT__MAX];
	int rc = 1;

	if (!skel)
		return 1;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "xdp_cost: ring buffer: %s\n", strerror(errno));
		goto done;
	}
	struct ws_progs pr = { .xdp = skel->progs.ws_xdp, .tc_in = skel->progs.ws_tc_ingress,
			       .tc_out = skel->progs.ws_tc_egress };

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (attach_like_ws(&ifc, ifname, &pr, mode))
		goto done;
	printf("attached (%s)\n", ws_attach_mode(&ifc));
	fflush(stdout);
	double end = now_ns() + seconds * 1e9;

	while (!stop && now_ns() < end) {
		ring_buffer__poll(rb, 10);  /* wirestate's WS_POLL_MS */
		ring_buffer__consume(rb);   /* also what was submitted without a wakeup */
	}
	ws_detach(&ifc);
	ring_buffer__consume(rb);
	read_stats(skel, st);
	printf("{\"type\":\"stats\",\"packets\":%" PRIu64 ",\"events\":%" PRIu64
	       ",\"events_received\":%" PRIu64 ",\"ringbuf_drops\":%" PRIu64 "}\n",
	       st[WS_STAT_PACKETS], st[WS_STAT_EVENTS], received, st[WS_STAT_RB_DROPS]);
	rc = 0;
done:
	ring_buffer__free(rb);
	wirestate_bpf__destroy(skel);
	return rc;
}

/*
 * What is attached to IFACE, one "hook:program" per word: "xdp:ws_xdp
 * tcx_egress:ws_tc_egress".  Debian 12's ip and bpftool do not show tcx
 * programs by device; run.sh asks this instead.  Exit 1: nothing.
 */
static int cmd_hooks(const char *ifname)
{
	static const struct { int type; const char *name; } tcx[] = {
		{ TCX_INGRESS, "tcx_ingress" }, { TCX_EGRESS, "tcx_egress" },
	};
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ifindex = (int)if_nametoindex(ifname), n = 0;
	char name[32];

	if (!ifindex)
		return 1;
	if (!bpf_xdp_query(ifindex, 0, &q) && q.prog_id) {
		ws_prog_name_by_id(q.prog_id, name, sizeof(name));
		printf("%sxdp:%s", n++ ? " " : "", name);
	}
	for (size_t t = 0; t < sizeof(tcx) / sizeof(tcx[0]); t++) {
		uint32_t ids[16], cnt = 16;

		if (bpf_prog_query(ifindex, (enum bpf_attach_type)tcx[t].type, 0, NULL, ids, &cnt))
			continue;
		for (uint32_t i = 0; i < cnt && i < 16; i++) {
			ws_prog_name_by_id(ids[i], name, sizeof(name));
			printf("%s%s:%s", n++ ? " " : "", tcx[t].name, name);
		}
	}
	printf("\n");
	return n ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: xdp_cost cost [--repeat N] [--runs K] [--only TEXT]\n"
			"       xdp_cost flows [--count N]\n"
			"       xdp_cost attach-empty IFACE SECONDS [native|generic|tc|auto]\n"
			"       xdp_cost attach-ws IFACE SECONDS RINGBUF_BYTES [auto|tc|generic|native]\n"
			"       xdp_cost hooks IFACE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint32_t repeat = 1000000, count = 1000000;
	int runs = 5;
	const char *only = NULL;    /* cost: only the rows whose label contains this (profiling) */

	if (argc < 2)
		usage();
	libbpf_set_print(libbpf_quiet);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "attach-empty")) {
		if (argc != 4 && argc != 5)
			usage();
		return cmd_attach_empty(argv[2], atof(argv[3]), argc == 5 ? argv[4] : "native");
	}
	if (!strcmp(argv[1], "hooks")) {
		if (argc != 3)
			usage();
		return cmd_hooks(argv[2]);
	}
	if (!strcmp(argv[1], "attach-ws")) {
		if (argc != 5 && argc != 6)
			usage();
		return cmd_attach_ws(argv[2], atof(argv[3]), next_pow2(strtoull(argv[4], NULL, 0)),
				     argc == 6 ? argv[5] : "auto");
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = (uint32_t)strtoul(argv[++i], NULL, 0);
		else
			usage();
	}
	if (runs < 1 || runs > MAX_RUNS || repeat < 1 || count < 1)
		usage();
	if (!strcmp(argv[1], "cost"))
		return cmd_cost(repeat, runs, only);
	if (!strcmp(argv[1], "flows"))
		return cmd_flows(count);
	usage();
}
