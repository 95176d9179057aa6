// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Interfaces through rtnetlink: list the links of a network namespace (with
 * each veth's peer), resolve containers (PID or netns name) to the host-side
 * veths that carry their traffic, and follow links as they come and go.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ws_user.h"

/* A netlink socket in namespace nsfd (-1: ours), optionally subscribed to link changes. */
int ws_nl_open(int nsfd, bool monitor)
{
	int self = -1, fd, e;

	if (nsfd >= 0) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0)
			return -errno;
		if (setns(nsfd, CLONE_NEWNET)) {
			e = -errno;
			close(self);
			return e;
		}
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	e = fd < 0 ? -errno : 0;
	if (self >= 0) {
		/* back home; the socket stays in the namespace it was made in */
		if (setns(self, CLONE_NEWNET) && !e)
			e = -errno;
		close(self);
	}
	if (e) {
		if (fd >= 0)
			close(fd);
		return e;
	}
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = monitor ? RTMGRP_LINK : 0 };

	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void parse_link(struct nlmsghdr *h, struct ws_link *l)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	struct rtattr *a;

	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->link_netnsid = -1;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			snprintf(l->name, sizeof(l->name), "%.*s", (int)RTA_PAYLOAD(a), (char *)RTA_DATA(a));
			break;
		case IFLA_LINK:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&l->peer_ifindex, RTA_DATA(a), 4);
			break;
		case IFLA_LINK_NETNSID:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&l->link_netnsid, RTA_DATA(a), 4);
			break;
		case IFLA_LINKINFO: {
			struct rtattr *n = RTA_DATA(a);
			int nlen = (int)RTA_PAYLOAD(a);

			for (; RTA_OK(n, nlen); n = RTA_NEXT(n, nlen))
				if (n->rta_type == IFLA_INFO_KIND)
					snprintf(l->kind, sizeof(l->kind), "%.*s", (int)RTA_PAYLOAD(n),
						 (char *)RTA_DATA(n));
			break;
		}
		}
	}
}

/* Handle every RTM_NEWLINK / RTM_DELLINK message in buf. */
static int walk(char *buf, ssize_t n, ws_link_cb cb, void *ud, bool *done, int *count)
{
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
	     h = NLMSG_NEXT(h, n)) {
		struct ws_link l;

		if (h->nlmsg_type == NLMSG_DONE) {
			*done = true;
			return 0;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			*done = true;
			return e->error;
		}
		if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
			continue;
		parse_link(h, &l);
		cb(h->nlmsg_type == RTM_NEWLINK, &l, ud);
		if (count)
			(*count)++;
	}
	return 0;
}

int ws_nl_dump_links(int fd, ws_link_cb cb, void *ud)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.i = { .ifi_family = AF_UNSPEC },
	};
	char buf[32768];
	bool done = false;
	int rc = 0;

	if (send(fd, &req, sizeof(req), 0) < 0)
		return -errno;
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			usleep(1000);   /* the dump is in flight: a non-blocking socket */
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		rc = walk(buf, n, cb, ud, &done, NULL);
	}
	return rc;
}

int ws_nl_drain(int fd, ws_link_cb cb, void *ud)
{
	char buf[32768];
	bool done = false;
	int count = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return count;
		if (n < 0)
			return -errno;       /* ENOBUFS: messages were lost; caller re-lists */
		if (n == 0)
			return -EIO;
		walk(buf, n, cb, ud, &done, &count);
	}
}

/* The network namespace of a PID, a name under /var/run/netns, or a path. */
int ws_netns_open(const char *spec, bool is_pid, char *label, size_t lablen, uint64_t *inode)
{
	char path[PATH_MAX_WS];
	struct stat st;
	int fd;

	if (is_pid) {
		char *end;
		long pid = strtol(spec, &end, 10);

		if (*end || pid <= 0)
			return -EINVAL;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		snprintf(label, lablen, "pid %ld", pid);
	} else if (strchr(spec, '/')) {
		snprintf(path, sizeof(path), "%s", spec);
		snprintf(label, lablen, "%s", spec);
	} else {
		snprintf(path, sizeof(path), "/var/run/netns/%s", spec);
		snprintf(label, lablen, "%s", spec);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int e = -errno;
		close(fd);
		return e;
	}
	*inode = (uint64_t)st.st_ino;
	return fd;
}

/* Is nsfd the namespace we run in? */
bool ws_netns_is_self(int nsfd)
{
	struct stat a, b;

	return !fstat(nsfd, &a) && !stat("/proc/self/ns/net", &b) && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

/*
 * The id (nsid) our namespace gives nsfd's namespace: the IFLA_LINK_NETNSID
 * of our veths whose peer is there.  -1 while none is assigned (the kernel
 * assigns one when it first reports such a link).
 */
int ws_nl_nsid(int nsfd)
{
	char buf[4096] __attribute__((aligned(4)));
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct rtattr *a;
	int fd, rc = -EIO;

	memset(buf, 0, 64);
	h->nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
	h->nlmsg_type = RTM_GETNSID;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = 2;
	((struct rtgenmsg *)NLMSG_DATA(h))->rtgen_family = AF_UNSPEC;
	a = (struct rtattr *)(buf + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = NETNSA_FD;
	a->rta_len = RTA_LENGTH(sizeof(uint32_t));
	memcpy(RTA_DATA(a), &nsfd, sizeof(uint32_t));
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);

	fd = ws_nl_open(-1, false);
	if (fd < 0)
		return fd;
	if (send(fd, buf, h->nlmsg_len, 0) < 0) {
		rc = -errno;
		goto out;
	}
	for (int tries = 0; tries < 1000; tries++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			usleep(1000);
			continue;
		}
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				rc = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				rc = rc ? rc : -EIO;
				goto out;
			}
			if (h->nlmsg_type != RTM_NEWNSID)
				continue;
			int len = (int)h->nlmsg_len -
				  (int)NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg)));

			rc = -1;
			for (a = (struct rtattr *)((char *)NLMSG_DATA(h) +
						   NLMSG_ALIGN(sizeof(struct rtgenmsg)));
			     RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= 4)
					memcpy(&rc, RTA_DATA(a), 4);
			if (rc < 0)
				rc = -1;        /* NETNSA_NSID_NOT_ASSIGNED */
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}
