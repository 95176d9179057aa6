// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Faults and least privilege of the real build/wirestate:
 *
 *   - a consumer that stops (SIGSTOP for 5 s) while a burst of connections
 *     fills a small ring buffer: wirestate survives, resumes printing after
 *     SIGCONT, exits 0 on SIGINT, and its stats line accounts for every
 *     event (produced = received + lost, and something was lost);
 *   - once attached with -i: no effective or permitted capability left
 *     (CAP_NET_ADMIN only on a kernel without tcx), no_new_privs set, and
 *     no listening TCP or bound UDP socket;
 *   - a -w file has mode 0600 even under umask 000.
 *
 * Two "containers" wsxc1 = 172.17.0.2 and wsxc2 = 172.17.0.3 (host veths
 * wsxh1/wsxh2 on bridge wsxbr); everything is removed at the end, also on
 * failure (see nstest.h).  Needs root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "nstest.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

#define PFX "wsx"
#define H1 PFX "h1"
#define C1 PFX "c1"
#define SRV4 "172.17.0.3"
#define CLOSED_PORT "9"         /* nothing listens there: SYN, then RST */

#define ATTACH_MS 30000
#define STOP_S 5

static const char *const ifs_h1[] = { H1, NULL };

/* Start wirestate with args (NULL-ended, without argv[0]); wait until attached to H1. */
static struct nproc *ws_start(const char *const *args)
{
	char *argv[32];
	int n = 0;

	argv[n++] = ns_wirestate;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	struct nproc *p = np_spawnv(NULL, argv);

	NS_CHECK(p, "cannot start wirestate");
	NS_CHECK(ns_wait_attached(p, ifs_h1, ATTACH_MS), "wirestate did not attach to %s", H1);
	return p;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* n refused connections from container 1 to container 2 (each: a SYN and a RST). */
static void refused_burst(int n)
{
	int rc = nsh(NULL, 60000,
		     "ip netns exec %s sh -c 'i=0; while [ $i -lt %d ]; do "
		     "\"%s\" connect %s %s --timeout 2 >/dev/null 2>&1; i=$((i + 1)); done'",
		     C1, n, ns_wsconn, SRV4, CLOSED_PORT);

	NS_CHECK(rc == 0, "the connection burst failed (%d)", rc);
}

/* "2025-01-02T03:04:05.123456Z" -> seconds since the epoch; < 0 when malformed */
static double rfc3339(const char *s)
{
	struct tm tm = {};
	unsigned us = 0;

	if (sscanf(s, "%d-%d-%dT%d:%d:%d.%6uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + us / 1e6;
}

static double real_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------------------- stopped consumer */

TEST(stopped_consumer)
{
	struct nproc *p = ws_start(ARGS("--json", "--ringbuf-size", "16K", "-i", H1));

	refused_burst(3);                       /* ARP done, output flowing */
	NS_CHECK(np_wait_text(p, 0, "\"type\":\"tcp\"", 10000), "no event before the stop");

	np_signal(p, SIGSTOP);
	double t_stop = ns_now();

	refused_burst(300);                     /* ~600 events into a 16K ring buffer */
	double left = STOP_S - (ns_now() - t_stop);

	if (left > 0)
		ns_sleep_ms((int)(left * 1000));
	double resumed = real_now();

	np_signal(p, SIGCONT);
	np_pump(100);
	NS_CHECK(!p->reaped, "wirestate died while stopped or on SIGCONT (status %d)",
		 np_code(p));

	refused_burst(20);
	/* output resumes: events stamped after SIGCONT */
	int after = 0;
	double end = ns_now() + 10;

	while (ns_now() < end && after < 20) {
		struct nlines L;

		np_pump(50);
		nlines_split(&L, nbuf_str(&p->out));
		after = 0;
		for (int i = 0; i < L.n; i++) {
			char ts[64];

			if (jis(L.v[i], "type", "tcp") && jget(L.v[i], "ts", ts, sizeof(ts)) &&
			    rfc3339(ts) > resumed)
				after++;
		}
		nlines_free(&L);
	}
	NS_CHECK(after >= 20, "only %d events stamped after SIGCONT (expected >= 20: 20 SYNs "
		 "and 20 RSTs)", after);

	np_signal(p, SIGINT);
	NS_CHECK(np_wait_exit(p, 10000), "wirestate did not end on SIGINT");
	NS_CHECK(np_code(p) == 0, "wirestate exited %d after SIGSTOP/SIGCONT", np_code(p));

	struct nlines L;
	const char *stats = NULL;

	nlines_split(&L, nbuf_str(&p->out));
	for (int i = 0; i < L.n; i++)
		if (jis(L.v[i], "type", "stats"))
			stats = L.v[i];
	NS_CHECK(stats, "no stats line");
	long long ev = jnum(stats, "events"), rcv = jnum(stats, "events_received");
	long long drops = jnum(stats, "ringbuf_drops");
	int printed = 0;

	for (int i = 0; i < L.n; i++)
		printed += jis(L.v[i], "type", "tcp") || jis(L.v[i], "type", "arp");
	NS_CHECK(ev >= 0 && rcv >= 0 && drops >= 0, "stats line without counters: %s", stats);
	NS_CHECK(ev >= rcv, "more events received than produced: %s", stats);
	NS_CHECK(drops > 0, "a 16K ring buffer, a consumer stopped for %d s and ~600 events, "
		 "but nothing lost: %s", STOP_S, stats);
	/*
	 * "events" counts what was written to the ring buffer (ws_event.h), a
	 * lost one is counted in ringbuf_drops instead; at SIGINT wirestate
	 * drains the ring buffer, so every written event was received, and
	 * written + lost covers every connection's SYN and RST.
	 */
	NS_CHECK(ev == rcv, "events %lld written, %lld received: %s", ev, rcv, stats);
	NS_CHECK(ev + drops >= 2 * (3 + 300 + 20),
		 "events + ringbuf_drops = %lld, below the %d SYNs and RSTs sent: %s", ev + drops,
		 2 * (3 + 300 + 20), stats);
	NS_CHECK(printed <= rcv && printed > 0, "%d event lines printed, %lld received: %s",
		 printed, rcv, stats);
	nlines_free(&L);
	np_free(p);
}

/* ------------------------------------------------------- least privilege */

/* The hex value of "Key:\t..." in /proc/PID/status; false when absent. */
static bool status_field(pid_t pid, const char *key, unsigned long long *v)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			found = sscanf(line + kl + 1, "%llx", v) == 1;
	fclose(f);
	return found;
}

/*
 * Listening sockets of pid: TCP in state LISTEN (0A) or any UDP socket, as
 * /proc/PID/net/{tcp,tcp6,udp,udp6} list them, that one of pid's fds is.
 * Returns how many; what[] says which.
 */
static int listeners(pid_t pid, char *what, size_t wlen)
{
	unsigned long inodes[256];
	int ni = 0, found = 0;
	char path[PATH_MAX], link[128];
	DIR *d;
	struct dirent *de;

	what[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && ni < 256) {
		char fp[PATH_MAX + 300];
		ssize_t n;

		snprintf(fp, sizeof(fp), "%s/%s", path, de->d_name);
		n = readlink(fp, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &inodes[ni]) == 1)
			ni++;
	}
	closedir(d);
	static const char *const tabs[] = { "tcp", "tcp6", "udp", "udp6" };

	for (int t = 0; t < 4; t++) {
		char line[512];

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, tabs[t]);
		FILE *f = fopen(path, "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned st;
			unsigned long ino;
			char local[64];

			/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
			if (sscanf(line, " %*s %63s %*s %x %*s %*s %*s %*u %*u %lu", local, &st,
				   &ino) != 3)
				continue;
			if (t < 2 && st != 0x0A)
				continue;
			for (int i = 0; i < ni; i++)
				if (inodes[i] == ino) {
					size_t k = strlen(what);

					snprintf(what + k, wlen - k, "%s %s (inode %lu); ", tabs[t],
						 local, ino);
					found++;
				}
		}
		fclose(f);
	}
	return found;
}

TEST(listener_check_works)
{
	/* the check itself: it must see a listening TCP and a bound UDP socket of ours */
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	char what[1024];

	assert_true(t >= 0 && u >= 0);
	assert_int_equal(bind(t, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(t, 1), 0);
	assert_int_equal(listeners(getpid(), what, sizeof(what)), 1);
	assert_int_equal(bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listeners(getpid(), what, sizeof(what)), 2);
	close(t);
	close(u);
	assert_int_equal(listeners(getpid(), what, sizeof(what)), 0);
}

TEST(least_privilege)
{
	struct nproc *p = ws_start(ARGS("-i", H1));
	unsigned long long eff = ~0ull, prm = ~0ull, nnp = 0, want;
	double end = ns_now() + 5;
	char what[1024];

	/* attached is slightly before dropped: poll briefly */
	want = ns_have_tcx(H1) ? 0 : 1ull << 12;       /* CAP_NET_ADMIN removes a TC filter */
	while (ns_now() < end) {
		NS_CHECK(status_field(p->pid, "CapEff", &eff) &&
			 status_field(p->pid, "CapPrm", &prm) &&
			 status_field(p->pid, "NoNewPrivs", &nnp), "cannot read /proc/%d/status",
			 (int)p->pid);
		if (eff == want && prm == want && nnp == 1)
			break;
		np_pump(50);
	}
	NS_CHECK(eff == want, "CapEff %016llx, expected %016llx (tcx: %d)", eff, want,
		 ns_have_tcx(H1));
	NS_CHECK(prm == want, "CapPrm %016llx, expected %016llx", prm, want);
	NS_CHECK(nnp == 1, "NoNewPrivs %llu, expected 1", nnp);

	/* still working without them: one connection is seen */
	refused_burst(1);
	NS_CHECK(np_wait_text(p, 0, "[S]", 10000), "no event after dropping privileges");
	int n = listeners(p->pid, what, sizeof(what));

	NS_CHECK(n == 0, "wirestate has %d listening socket(s): %s", n, what);
	np_signal(p, SIGINT);
	NS_CHECK(np_wait_exit(p, 10000) && np_code(p) == 0, "wirestate exited %d", np_code(p));
	NS_ASSERT_CLEAN(H1);
	np_free(p);
}

/* --------------------------------------------------------- -w file mode */

TEST(write_mode_0600_under_umask_000)
{
	char path[PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/umask0.pcap", ns_tmpdir);
	mode_t old = umask(0);
	struct nproc *p = ws_start(ARGS("-i", H1, "-w", path));

	umask(old);
	refused_burst(1);
	NS_CHECK(np_wait_text(p, 0, "[S]", 10000), "no event");
	np_signal(p, SIGINT);
	NS_CHECK(np_wait_exit(p, 10000) && np_code(p) == 0, "wirestate exited %d", np_code(p));
	NS_CHECK(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	NS_CHECK((st.st_mode & 07777) == 0600, "-w file mode %04o under umask 000, expected 0600",
		 (unsigned)(st.st_mode & 07777));
	NS_CHECK(st.st_size > 24, "-w file has no frame (%lld bytes)", (long long)st.st_size);
	np_free(p);
}

/* ------------------------------------------------------------ fixtures */

static int group_setup(void **state)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_faults: needs root (namespaces, BPF)\n");
		return -1;
	}
	if (ns_topo_up(2) || ns_tmpdir_make())
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	struct nbuf o = {};
	int rc = 0;

	np_stop_all(3000);
	ns_tmpdir_remove();
	ns_topo_down();
	nsh(&o, 5000, "ip netns list; ip -o link show");
	for (char *l = o.s; l && *l;) {
		char *e = strchr(l, '\n');

		if (e)
			*e = '\0';
		if (strstr(l, PFX "c") || strstr(l, PFX "h") || strstr(l, PFX "br")) {
			fprintf(stderr, "test_faults: left behind: %s\n", l);
			rc = -1;
		}
		l = e ? e + 1 : NULL;
	}
	nbuf_free(&o);
	return rc;
}

static int test_setup(void **state)
{
	ns_test_begin();
	ns_flush_neigh(2);
	return 0;
}

static int test_teardown(void **state)
{
	/* a wirestate left stopped by a failed check must see the SIGINT: detach cleanly */
	for (int i = 0; i < NP_MAX; i++)
		np_signal(&np_pool[i], SIGCONT);
	np_stop_all(3000);
	ns_reset_tc(2);
	ns_test_end();
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (ns_find_root(argv[0]))
		return 1;
	snprintf(ns_prefix, sizeof(ns_prefix), "%s", PFX);
	if (ns_lock(300))
		return 1;
	ns_install_guard();

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
	const struct CMUnitTest tests[] = {
		T(stopped_consumer),
		T(listener_check_works),
		T(least_privilege),
		T(write_mode_0600_under_umask_000),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
