// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attaching to an interface: XDP for what arrives, TC egress for what leaves.
 * Both as BPF links when the kernel has them, so the kernel detaches them
 * when the process dies, whatever kills it.  Never replaces a program that
 * someone else attached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ws_user.h"

#ifndef BPF_TCX_EGRESS_WS
#define BPF_TCX_EGRESS_WS 47       /* enum bpf_attach_type BPF_TCX_EGRESS, kernel >= 6.6 */
#endif

static void prog_name_by_id(uint32_t id, char *buf, size_t len)
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

const char *ws_attach_mode(const struct ws_iface *ifc)
{
	if (ifc->tcx_fd >= 0)
		return "xdp link + tcx link";
	if (ifc->tc_legacy)
		return "xdp link + tc clsact filter";
	return "not attached";
}

static int attach_tc(struct ws_iface *ifc, struct bpf_program *tc, char *err, size_t errlen)
{
	int prog_fd = bpf_program__fd(tc);
	int fd = bpf_link_create(prog_fd, ifc->ifindex, (enum bpf_attach_type)BPF_TCX_EGRESS_WS, NULL);

	if (fd >= 0) {
		ifc->tcx_fd = fd;
		return 0;
	}
	if (fd != -EINVAL && fd != -EOPNOTSUPP && fd != -524 /* ENOTSUPP */) {
		snprintf(err, errlen, "%s: cannot attach the TC egress link: %s", ifc->name,
			 strerror(-fd));
		return fd;
	}

	/* Kernel without tcx (< 6.6): a clsact qdisc and a direct-action filter. */
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int rc = bpf_tc_hook_create(&hook);

	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "%s: cannot create the clsact qdisc: %s", ifc->name, strerror(-rc));
		return rc;
	}
	ifc->tc_made_qdisc = rc == 0;
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		snprintf(err, errlen, "%s: cannot attach the TC egress filter: %s", ifc->name,
			 strerror(-rc));
		if (ifc->tc_made_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
			ifc->tc_made_qdisc = false;
		}
		return rc;
	}
	ifc->tc_legacy = true;
	ifc->tc_handle = opts.handle;
	ifc->tc_priority = opts.priority;
	return 0;
}

int ws_attach(struct ws_iface *ifc, const char *name, struct bpf_program *xdp,
	      struct bpf_program *tc, char *err, size_t errlen)
{
	uint32_t id = 0;
	int rc;

	memset(ifc, 0, sizeof(*ifc));
	ifc->tcx_fd = -1;
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

	/* someone else's XDP program: say who, and leave it alone */
	rc = bpf_xdp_query_id(ifc->ifindex, 0, &id);
	if (rc == 0 && id) {
		char pname[32];

		prog_name_by_id(id, pname, sizeof(pname));
		snprintf(err, errlen, "%s already has an XDP program (id %u, \"%s\"); wirestate never "
			 "replaces one: detach it first or watch another interface", name, id, pname);
		return -EBUSY;
	}

	ifc->xdp_link = bpf_program__attach_xdp(xdp, ifc->ifindex);
	if (!ifc->xdp_link) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot attach XDP: %s%s", name, strerror(-rc),
			 rc == -EBUSY ? " (another XDP program is attached)" : "");
		ifc->xdp_link = NULL;
		return rc;
	}
	rc = attach_tc(ifc, tc, err, errlen);
	if (rc) {
		bpf_link__destroy(ifc->xdp_link);
		ifc->xdp_link = NULL;
		return rc;
	}
	return 0;
}

void ws_detach(struct ws_iface *ifc)
{
	if (ifc->gone) {
		/* the kernel removed the filter with the device; its ifindex may be reused */
		ifc->tc_legacy = false;
	}
	if (ifc->tcx_fd >= 0) {
		close(ifc->tcx_fd);
		ifc->tcx_fd = -1;
	}
	if (ifc->tc_legacy) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex, .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = ifc->tc_handle, .priority = ifc->tc_priority);

		bpf_tc_detach(&hook, &opts);
		if (ifc->tc_made_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		ifc->tc_legacy = false;
	}
	if (ifc->xdp_link) {
		bpf_link__destroy(ifc->xdp_link);
		ifc->xdp_link = NULL;
	}
}
