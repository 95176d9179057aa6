// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which interfaces wirestate is attached to, kept equal to what the user
 * asked for as interfaces come and go:
 *   -i NAME        that interface, for as long as it exists;
 *   --all-veth     every veth of the host namespace;
 *   --pid/--netns  the host-side peer of every veth inside that namespace.
 * Two tables of links (ours, the container's) are kept current from
 * rtnetlink, and after every change the attached set is reconciled to the
 * wanted set.  Nothing is ever attached twice or left attached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ws_user.h"

#define MAX_LINKS 4096

struct linktab {
	struct ws_link *v;
	size_t n, cap;
};

static void tab_put(struct linktab *t, const struct ws_link *l)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].ifindex == l->ifindex) {
			t->v[i] = *l;
			return;
		}
	if (t->n == t->cap) {
		size_t n = t->cap ? t->cap * 2 : 64;
		struct ws_link *v;

		if (n > MAX_LINKS || !(v = realloc(t->v, n * sizeof(*v))))
			return;
		t->v = v;
		t->cap = n;
	}
	t->v[t->n++] = *l;
}

static void tab_del(struct linktab *t, int ifindex)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].ifindex == ifindex) {
			t->v[i] = t->v[--t->n];
			return;
		}
}

static const struct ws_link *tab_get(const struct linktab *t, int ifindex)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].ifindex == ifindex)
			return &t->v[i];
	return NULL;
}

/* rtnetlink callback: ud is the struct linktab to keep current */
static void on_link(bool added, const struct ws_link *l, void *ud)
{
	struct linktab *tab = ud;

	if (added)
		tab_put(tab, l);
	else
		tab_del(tab, l->ifindex);
}

/*
 * List every link of the socket's namespace into *tab, replacing it only
 * when the listing completed: a partial table would make live interfaces
 * look gone.
 */
static int relist(int fd, struct linktab *tab)
{
	struct linktab fresh = {};
	int rc = ws_nl_dump_links(fd, on_link, &fresh);

	if (rc) {
		free(fresh.v);
		return rc;
	}
	free(tab->v);
	*tab = fresh;
	return 0;
}

static void say(struct ws_targets *t, const char *ifname, const char *what, const char *detail)
{
	struct timespec ts;
	char when[48];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (t->json) {
		ws_fmt_time_rfc3339((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, when,
				    sizeof(when));
		fprintf(t->out, "{\"type\":\"iface\",\"ts\":\"%s\",\"ifname\":", when);
		ws_json_str(t->out, ifname);
		fprintf(t->out, ",\"event\":\"%s\"", what);
		if (t->ctr_label[0]) {
			fprintf(t->out, ",\"netns\":%llu,\"container\":", (unsigned long long)t->ctr_ino);
			ws_json_str(t->out, t->ctr_label);
		}
		if (detail && detail[0]) {
			fputs(",\"detail\":", t->out);
			ws_json_str(t->out, detail);
		}
		fputs("}\n", t->out);
		fflush(t->out);
	} else {
		fprintf(stderr, "wirestate: %s: %s%s%s\n", ifname, what, detail && detail[0] ? ": " : "",
			detail ? detail : "");
	}
}

/* Is host link l one we want? */
static bool wanted(const struct ws_targets *t, const struct ws_link *l)
{
	for (int i = 0; i < t->nnames; i++)
		if (!strcmp(t->names[i], l->name))
			return true;
	if (t->all_veth && !strcmp(l->kind, "veth"))
		return true;
	if (t->ctr_label[0] && !strcmp(l->kind, "veth") && l->link_netnsid >= 0 &&
	    l->link_netnsid == t->ctr_nsid) {
		/*
		 * The host side of a container veth: its peer is in the
		 * container's namespace (an ifindex alone says nothing: each
		 * namespace numbers its own), and each names the other.
		 */
		const struct ws_link *c = tab_get(t->ctr, l->peer_ifindex);

		if (c && !strcmp(c->kind, "veth") && c->peer_ifindex == l->ifindex && c->link_netnsid >= 0)
			return true;
	}
	return false;
}

static int attach_one(struct ws_targets *t, const struct ws_link *l, bool initial)
{
	char err[512];
	struct ws_iface *ifc;

	if (t->n == t->cap) {
		size_t n = t->cap ? t->cap * 2 : 16;
		struct ws_iface *v = realloc(t->ifs, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->ifs = v;
		t->cap = n;
	}
	ifc = &t->ifs[t->n];
	struct ws_attach_opts ao = { .ingress = t->ingress, .xdp_flags = t->xdp_flags, .kind = l->kind };
	int rc = ws_attach(ifc, l->name, &t->progs, &ao, err, sizeof(err));

	if (rc) {
		if (initial)
			fprintf(stderr, "wirestate: %s\n", err);
		else
			say(t, l->name, "not attached", err);
		return rc;
	}
	t->n++;
	if (!initial || t->verbose)
		say(t, l->name, "attached", ws_attach_mode(ifc));
	return 0;
}

static void detach_at(struct ws_targets *t, size_t i, bool gone)
{
	struct ws_iface ifc = t->ifs[i];

	ifc.gone = gone;
	ws_detach(&ifc);
	if (gone)
		say(t, ifc.name, "detached", "the interface went away");
	t->ifs[i] = t->ifs[--t->n];
}

/* Make the attached set equal to the wanted set. */
static int reconcile(struct ws_targets *t, bool initial)
{
	int failed = 0;

	/* the kernel assigns it when it first reports one of our veths with its peer there */
	if (t->ctr_nsid < 0 && t->ctr_nsfd >= 0)
		t->ctr_nsid = ws_nl_nsid(t->ctr_nsfd);
	for (size_t i = 0; i < t->n;) {
		const struct ws_link *l = tab_get(t->host, t->ifs[i].ifindex);

		if (!l || !wanted(t, l))
			detach_at(t, i, !l);
		else
			i++;
	}
	for (size_t i = 0; i < t->host->n; i++) {
		const struct ws_link *l = &t->host->v[i];
		bool have = false;

		if (!wanted(t, l))
			continue;
		for (size_t j = 0; j < t->n && !have; j++)
			have = t->ifs[j].ifindex == l->ifindex;
		if (!have && attach_one(t, l, initial))
			failed++;
	}
	return failed;
}

int ws_targets_start(struct ws_targets *t)
{
	int rc;

	t->host = calloc(1, sizeof(*t->host));
	t->ctr = calloc(1, sizeof(*t->ctr));
	if (!t->host || !t->ctr)
		return -ENOMEM;
	t->host_nl = ws_nl_open(-1, true);
	if (t->host_nl < 0) {
		fprintf(stderr, "wirestate: rtnetlink: %s\n", strerror(-t->host_nl));
		return t->host_nl;
	}
	t->ctr_nl = -1;
	t->ctr_nsid = -1;
	if (t->ctr_nsfd >= 0) {
		t->ctr_nl = ws_nl_open(t->ctr_nsfd, true);
		if (t->ctr_nl < 0) {
			fprintf(stderr, "wirestate: %s: cannot enter its network namespace: %s\n",
				t->ctr_label, strerror(-t->ctr_nl));
			return t->ctr_nl;
		}
		rc = relist(t->ctr_nl, t->ctr);
		if (rc) {
			fprintf(stderr, "wirestate: %s: listing its links: %s\n", t->ctr_label, strerror(-rc));
			return rc;
		}
	}
	rc = relist(t->host_nl, t->host);
	if (rc) {
		fprintf(stderr, "wirestate: listing links: %s\n", strerror(-rc));
		return rc;
	}
	for (int i = 0; i < t->nnames; i++) {
		bool found = false;

		for (size_t j = 0; j < t->host->n && !found; j++)
			found = !strcmp(t->host->v[j].name, t->names[i]);
		if (!found) {
			fprintf(stderr, "wirestate: %s: no such interface\n", t->names[i]);
			return -ENODEV;
		}
	}
	if (reconcile(t, true))
		return -EINVAL;       /* the message is out; the caller detaches the rest */
	if (t->ctr_nsfd >= 0 && t->n == (size_t)t->nnames && !t->all_veth)
		fprintf(stderr, "wirestate: %s: no veth with a peer in this namespace yet; waiting for one\n",
			t->ctr_label);
	return 0;
}

/* Does the PID or the name still lead to the namespace we opened? */
static bool ctr_alive(const struct ws_targets *t)
{
	char label[128];
	uint64_t ino = 0;
	int fd = ws_netns_open(t->ctr_spec, t->ctr_is_pid, label, sizeof(label), &ino);

	if (fd < 0)
		return false;
	close(fd);
	return ino == t->ctr_ino;
}

/*
 * The container is gone (its process ended, its name was deleted): let go of
 * its namespace, which our fd and netlink socket would keep alive, with its
 * veths, for as long as we run.  Its host-side veths stay attached until the
 * kernel deletes them; they are reported then.
 */
static void ctr_release(struct ws_targets *t)
{
	struct timespec ts;
	char when[48];

	close(t->ctr_nl);
	close(t->ctr_nsfd);
	t->ctr_nl = t->ctr_nsfd = -1;
	if (t->json) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ws_fmt_time_rfc3339((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, when,
				    sizeof(when));
		fprintf(t->out, "{\"type\":\"container\",\"ts\":\"%s\",\"event\":\"gone\",\"netns\":%llu,"
			"\"container\":", when, (unsigned long long)t->ctr_ino);
		ws_json_str(t->out, t->ctr_label);
		fputs("}\n", t->out);
		fflush(t->out);
	} else {
		fprintf(stderr, "wirestate: %s: gone; its veths are dropped as the kernel deletes them\n",
			t->ctr_label);
	}
}

/* Read pending link changes and follow them.  Returns the number attached. */
size_t ws_targets_poll(struct ws_targets *t)
{
	if (t->ctr_nsfd >= 0 && t->ctr_spec && !ctr_alive(t))
		ctr_release(t);

	int r1 = ws_nl_drain(t->host_nl, on_link, t->host);
	int r2 = t->ctr_nl >= 0 ? ws_nl_drain(t->ctr_nl, on_link, t->ctr) : 0;

	/*
	 * A notification may come before the link is complete (a new veth's
	 * peer is missing from it), and -ENOBUFS means some were lost: after
	 * any change, list the namespace's links again.
	 */
	if ((r1 > 0 || r1 == -ENOBUFS) && relist(t->host_nl, t->host))
		return t->n;            /* keep the old view; the next change lists again */
	if ((r2 > 0 || r2 == -ENOBUFS) && relist(t->ctr_nl, t->ctr))
		return t->n;
	if (r1 == 0 && r2 == 0)
		return t->n;
	reconcile(t, false);
	return t->n;
}

void ws_targets_stop(struct ws_targets *t)
{
	while (t->n)
		detach_at(t, t->n - 1, false);
	if (t->host_nl >= 0)
		close(t->host_nl);
	if (t->ctr_nl >= 0)
		close(t->ctr_nl);
	t->host_nl = t->ctr_nl = -1;
	if (t->host)
		free(t->host->v);
	if (t->ctr)
		free(t->ctr->v);
	free(t->host);
	free(t->ctr);
	free(t->ifs);
	t->host = t->ctr = NULL;
	t->ifs = NULL;
}
