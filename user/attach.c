// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attaching to an interface: XDP for what arrives (TC ingress on veths, see
 * ws_attach), TC egress for what leaves.
 * Both as BPF links when the kernel has them, so the kernel detaches them
 * when the process dies, whatever kills it.  Never replaces a program that
 * someone else attached.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ws_user.h"

/* enum bpf_attach_type values of kernels >= 6.6, absent from Debian 12's headers */
#define BPF_TCX_INGRESS_WS 46
#define BPF_TCX_EGRESS_WS 47

void ws_prog_name_by_id(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	uint32_t ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name[0] ? info.name : "(no name)");
	close(fd);
}

/*
 * Asked once, of the loopback device every namespace has: a kernel without
 * tcx refuses the attach type (EINVAL).
 */
bool ws_kernel_has_tcx(void)
{
	static int have = -1;

	if (have < 0) {
		uint32_t ids[1], cnt = 1;
		int lo = (int)if_nametoindex("lo");

		have = lo > 0 && !bpf_prog_query(lo, (enum bpf_attach_type)BPF_TCX_INGRESS_WS, 0, NULL,
						   ids, &cnt);
	}
	return have;
}

const char *ws_attach_mode(const struct ws_iface *ifc)
{
	static __thread char buf[96];
	const char *in = ifc->xdp_fd >= 0 ? (ifc->xdp_generic ? "xdp link (generic)" :
					     "xdp link") :
			 ifc->in.fd >= 0 ? "tcx ingress link" :
			 ifc->in.legacy ? "tc clsact ingress filter" : "nothing in";
	const char *out = ifc->out.fd >= 0 ? "tcx egress link" :
			  ifc->out.legacy ? "tc clsact egress filter" : "nothing out";

	snprintf(buf, sizeof(buf), "%s + %s", in, out);
	return buf;
}

/*
 * bpf_tc_hook_create() finding the clsact qdisc already there (made for the
 * other direction, or by a container runtime) is EEXIST, which tc_attach()
 * expects and uses; libbpf also passes the kernel's words for it on as a
 * warning, which reads like a failure.  So around that one call, that one
 * message is dropped and everything else goes to the printer in place.
 */
static libbpf_print_fn_t tc_prev_print;

static int tc_hook_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[256];
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(msg, sizeof(msg), fmt, copy);
	va_end(copy);
	if (n >= 0 && (size_t)n < sizeof(msg) && strstr(msg, "Exclusivity flag on, cannot modify"))
		return 0;
	return tc_prev_print ? tc_prev_print(level, fmt, ap) : 0;
}

static int tc_hook_create_quiet(struct bpf_tc_hook *hook)
{
	int rc;

	tc_prev_print = libbpf_set_print(tc_hook_print);
	rc = bpf_tc_hook_create(hook);
	libbpf_set_print(tc_prev_print);
	return rc;
}

/*
 * One TC program on one direction: a tcx BPF link where the kernel has it
 * (>= 6.6; it dies with the process), else a clsact qdisc and a
 * direct-action filter (removed at exit, but not after SIGKILL).
 */
static int tc_attach(struct ws_iface *ifc, struct ws_tc_att *a, bool ingress,
		     struct bpf_program *prog, char *err, size_t errlen)
{
	const char *what = ingress ? "ingress" : "egress";
	int prog_fd = bpf_program__fd(prog);
	int fd = bpf_link_create(prog_fd, ifc->ifindex, (enum bpf_attach_type)(ingress ?
				 BPF_TCX_INGRESS_WS : BPF_TCX_EGRESS_WS), NULL);

	if (fd >= 0) {
		a->fd = fd;
		return 0;
	}
	if (fd != -EINVAL && fd != -EOPNOTSUPP && fd != -524 /* ENOTSUPP */) {
		snprintf(err, errlen, "%s: cannot attach the TC %s link: %s", ifc->name, what,
			 strerror(-fd));
		return fd;
	}

	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int rc = tc_hook_create_quiet(&hook);

	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "%s: cannot create the clsact qdisc: %s", ifc->name, strerror(-rc));
		return rc;
	}
	if (rc == 0)
		ifc->made_qdisc = true;
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		snprintf(err, errlen, "%s: cannot attach the TC %s filter: %s", ifc->name, what,
			 strerror(-rc));
		return rc;
	}
	a->legacy = true;
	a->handle = opts.handle;
	a->priority = opts.priority;
	return 0;
}

static void tc_detach(struct ws_iface *ifc, struct ws_tc_att *a, bool ingress)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->legacy && !ifc->gone) {
		/* a gone interface took its filters along; its ifindex may be reused */
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = a->handle, .priority = a->priority);

		bpf_tc_detach(&hook, &opts);
	}
	a->legacy = false;
}

int ws_attach(struct ws_iface *ifc, const char *name, const struct ws_progs *pr,
	      const struct ws_attach_opts *ao, char *err, size_t errlen)
{
	uint32_t id = 0;
	int rc;

	memset(ifc, 0, sizeof(*ifc));
	ifc->xdp_fd = ifc->in.fd = ifc->out.fd = -1;
	if (strlen(name) >= sizeof(ifc->name)) {
		snprintf(err, errlen, "%s: interface name too long", name);
		return -EINVAL;
	}
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->ifindex = (int)if_nametoindex(name);
	if (!ifc->ifindex) {
		snprintf(err, errlen, "%s: no such interface", name);
		return -ENODEV;
	}

	/*
	 * On a veth, XDP costs bulk traffic either way: native XDP turns off
	 * the peer's TSO, generic XDP copies every skb before it runs (an
	 * empty program: 0.84-0.95x of the throughput in bench/).  TC ingress
	 * sees the same frames at no such cost, and from 6.6 on as a tcx link
	 * that dies with the process as an XDP link does.  So "auto" is TC
	 * there; XDP everywhere else, and on veths of kernels without tcx
	 * (a clsact filter would outlive a SIGKILL).
	 */
	bool tc_in = ao->ingress == WS_IN_TC ||
		     (ao->ingress == WS_IN_AUTO && ao->kind && !strcmp(ao->kind, "veth") &&
		      ws_kernel_has_tcx());

	if (tc_in) {
		rc = tc_attach(ifc, &ifc->in, true, pr->tc_in, err, errlen);
	} else {
		/* someone else's XDP program: say who, and leave it alone */
		rc = bpf_xdp_query_id(ifc->ifindex, 0, &id);
		if (rc == 0 && id) {
			char pname[32];

			ws_prog_name_by_id(id, pname, sizeof(pname));
			snprintf(err, errlen, "%s already has an XDP program (id %u, \"%s\"); wirestate "
				 "never replaces one: detach it first, watch another interface, or use "
				 "--ingress tc", name, id, pname);
			return -EBUSY;
		}
		/*
		 * Native XDP on a veth turns off its peer's TSO (0.3x bulk
		 * throughput, see bench/); generic XDP runs on the stack's own
		 * skbs.  So "auto" means generic on veths, the kernel's choice
		 * elsewhere.
		 */
		uint32_t flags = ao->xdp_flags;

		if (flags == WS_XDP_AUTO && ao->kind && !strcmp(ao->kind, "veth"))
			flags = WS_XDP_SKB;
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
		int fd = bpf_link_create(bpf_program__fd(pr->xdp), ifc->ifindex, BPF_XDP, &lo);

		if (fd < 0) {
			snprintf(err, errlen, "%s: cannot attach XDP%s: %s%s", name,
				 flags == WS_XDP_SKB ? " (generic)" : flags == WS_XDP_DRV ? " (native)" : "",
				 strerror(-fd), fd == -EBUSY ? " (another XDP program is attached)" :
				 fd == -EOPNOTSUPP ? " (the driver has no native XDP)" :
				 /* dev_xdp_attach(): no XDP below a device that has XDP */
				 fd == -EEXIST ? " (a device it belongs to, such as its bridge or bond, "
						 "has an XDP program: the kernel allows none below it; "
						 "--ingress tc does not use XDP)" : "");
			return fd;
		}
		ifc->xdp_fd = fd;
		ifc->xdp_generic = flags == WS_XDP_SKB;
		rc = 0;
	}
	if (!rc)
		rc = tc_attach(ifc, &ifc->out, false, pr->tc_out, err, errlen);
	if (rc)
		ws_detach(ifc);
	return rc;
}

void ws_detach(struct ws_iface *ifc)
{
	tc_detach(ifc, &ifc->out, false);
	tc_detach(ifc, &ifc->in, true);
	if (ifc->made_qdisc && !ifc->gone) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&hook);
	}
	ifc->made_qdisc = false;
	if (ifc->xdp_fd >= 0)
		close(ifc->xdp_fd);
	ifc->xdp_fd = -1;
}
