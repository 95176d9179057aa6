/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fixture of the tests that load the real BPF object (test_bpf,
 * test_fuzzdiff, test_hostile): a fresh skeleton per test, opened with
 * bt_open() (settings from struct bt_opts), then loaded with bt_load();
 * the ring buffer is drained into fx.ev[], and the per-CPU "stats" map and
 * the "flows" map are read back.
 *
 * Before including, a test may define
 *   MAX_EV       how many events of one drain fx.ev[] keeps (default 64);
 *   BT_FX_EXTRA  more members of fx, for the test's own state.
 * It must have included cmocka.h, bpf/libbpf.h, ws_event.h and
 * wirestate.skel.h.
 *
 * All functions are static and marked unused.
 */
#ifndef WS_TESTS_BPFTEST_H
#define WS_TESTS_BPFTEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ws_user.h"              /* ws_event_from_record */

#ifndef MAX_EV
#define MAX_EV 64
#endif

#define BT_UNUSED __attribute__((unused))

struct bt_opts {
	uint32_t flows_max;             /* 0: the object's default */
	int no_tc;                      /* do not load (verify) ws_tc_egress */
	int ev_overflow_ok;             /* a drain may hold more than MAX_EV events */
};

static struct {
	struct wirestate_bpf *skel;
	struct ring_buffer *rb;
	int err;                        /* why open/load failed (-errno) */
	const char *what;               /* which step failed */
	struct bt_opts opt;
	int ncpu;
	uint32_t snaplen;               /* what the loaded object uses */
	struct ws_event ev[MAX_EV];     /* events of the last drain (the first MAX_EV) */
	int nev;                        /* all events of the last drain */
	size_t rec_size[MAX_EV];        /* the ring-buffer record of each */
	int lost;                       /* events that did not fit ev[] */
	size_t bad_size;                /* a record of an unexpected size */
#ifdef BT_FX_EXTRA
	BT_FX_EXTRA
#endif
} fx;

static int g_line BT_UNUSED;

static BT_UNUSED int on_event(void *ctx, void *data, size_t size)
{
	struct ws_event e;

	(void)ctx;
	/* a record is exactly as long as the frame bytes it carries need (WS_EV_SIZE) */
	if (ws_event_from_record(&e, data, size) || size != WS_EV_SIZE(e.cap_len)) {
		fx.bad_size = size;
		return 0;
	}
	if (fx.nev < MAX_EV) {
		fx.ev[fx.nev] = e;
		fx.rec_size[fx.nev] = size;
	} else
		fx.lost++;
	fx.nev++;
	return 0;
}

static BT_UNUSED int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Open the skeleton and apply *o (NULL: defaults); nothing is loaded yet. */
static BT_UNUSED void bt_open(const struct bt_opts *o)
{
	memset(&fx, 0, sizeof(fx));
	if (o)
		fx.opt = *o;
	fx.ncpu = libbpf_num_possible_cpus();
	fx.skel = wirestate_bpf__open();
	if (!fx.skel) {
		fx.err = -errno;
		fx.what = "wirestate_bpf__open";
		return;
	}
	if (fx.opt.flows_max)
		bpf_map__set_max_entries(fx.skel->maps.flows, fx.opt.flows_max);
	if (fx.opt.no_tc)
		bpf_program__set_autoload(fx.skel->progs.ws_tc_egress, false);
}

/* Load what bt_open() opened and set up the ring buffer; 0 or -errno. */
static BT_UNUSED int bt_load(void)
{
	int err;

	if (!fx.skel)
		return fx.err;
	err = wirestate_bpf__load(fx.skel);
	if (err) {
		fx.err = err < 0 ? err : -EINVAL;
		fx.what = "wirestate_bpf__load";
		return fx.err;
	}
	fx.snaplen = fx.skel->rodata->snaplen;
	fx.rb = ring_buffer__new(bpf_map__fd(fx.skel->maps.events), on_event, NULL, NULL);
	if (!fx.rb) {
		fx.err = -errno;
		fx.what = "ring_buffer__new";
		return fx.err;
	}
	return 0;
}

static BT_UNUSED int teardown(void **state)
{
	(void)state;
	ring_buffer__free(fx.rb);
	wirestate_bpf__destroy(fx.skel);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

/*
 * Skip without privileges; a failure as root is a failure.  loaded: the
 * object must be loaded, not only opened.
 */
static BT_UNUSED void need_(int loaded)
{
	if (fx.skel && (!loaded || (fx.rb && !fx.err)))
		return;
	if (geteuid() != 0) {
		print_message("skipped: loading BPF needs root (%s: %s)\n",
			      fx.what ? fx.what : "?", strerror(-fx.err));
		skip();
	}
	fail_msg("%s failed: %s", fx.what ? fx.what : "loading", strerror(-fx.err));
}

/* Read everything the ring buffer holds into fx.ev; returns how many. */
static BT_UNUSED int drain(void)
{
	int rc;

	fx.nev = 0;
	fx.lost = 0;
	fx.bad_size = 0;
	rc = ring_buffer__consume(fx.rb);
	if (rc < 0)
		fail_msg("line %d: ring_buffer__consume: %s", g_line, strerror(-rc));
	if (fx.bad_size)
		fail_msg("line %d: ring buffer record of %zu bytes: not an event, or not the "
			 "size (WS_EV_SIZE) its frame bytes need", g_line, fx.bad_size);
	if (!fx.opt.ev_overflow_ok)
		assert_int_equal(fx.lost, 0);
	return fx.nev;
}

/* A counter of the per-CPU "stats" map, summed over the CPUs. */
static BT_UNUSED uint64_t stat_get(uint32_t idx)
{
	uint64_t v[fx.ncpu > 0 ? fx.ncpu : 1], sum = 0;
	int i;

	assert_true(fx.ncpu > 0);
	if (bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.stats), &idx, v))
		fail_msg("reading stats[%u]: %s", idx, strerror(errno));
	for (i = 0; i < fx.ncpu; i++)
		sum += v[i];
	return sum;
}

/* Number of entries in the flows map; the last one is copied to *key, *val. */
static BT_UNUSED int flow_count(struct ws_flow_key *key, struct ws_flow *val)
{
	int fd = bpf_map__fd(fx.skel->maps.flows);
	struct ws_flow_key cur, next;
	int n = 0;

	while (bpf_map_get_next_key(fd, n ? &cur : NULL, &next) == 0) {
		cur = next;
		if (++n > 100000)
			fail_msg("flows map iteration does not end");
	}
	if (n && key)
		*key = cur;
	if (n && val)
		assert_int_equal(bpf_map_lookup_elem(fd, &cur, val), 0);
	return n;
}

/* Empty the flow table; returns how many flows it held. */
static BT_UNUSED int flows_clear(void)
{
	int fd = bpf_map__fd(fx.skel->maps.flows), n = 0;
	struct ws_flow_key k;

	while (bpf_map_get_next_key(fd, NULL, &k) == 0) {
		if (bpf_map_delete_elem(fd, &k))
			fail_msg("deleting a flow: %s", strerror(errno));
		n++;
	}
	return n;
}

#endif /* WS_TESTS_BPFTEST_H */
