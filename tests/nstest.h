/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers of the namespace tests (test_e2e.c, test_cli.c, test_sockets.c,
 * test_follow.c), which run the real build/wirestate against real TCP stacks
 * in network namespaces:
 *
 *   - where the repository is (from argv[0], else the current directory);
 *   - child processes with their stdout and stderr captured through pipes,
 *     optionally inside a named network namespace or without root, and every
 *     wait bounded by a deadline;
 *   - shell commands with a timeout;
 *   - the topology (scripts/topo.sh) and an emergency cleanup that runs on
 *     SIGALRM/SIGINT/SIGTERM, so a hung or interrupted test still removes its
 *     namespaces and kills its children;
 *   - what is attached to an interface: XDP (any mode), TC egress (tcx links
 *     on >= 6.6, clsact filters before), BPF links by ifindex;
 *   - what the four binaries' main() and cmocka fixtures share: the start of
 *     main(), group setup and teardown (with the check for leftovers), and
 *     the per-test setup and teardown.
 *
 * Include after <cmocka.h>.  Each test binary owns a name prefix ("wse",
 * "wsc", "wss", "wsf", ...) and touches no namespace or interface outside it.
 */
#ifndef NSTEST_H
#define NSTEST_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#define NS_FN static __attribute__((unused))

/* seconds: SIGALRM backstop for one test (every wait has its own, shorter deadline) */
#define NS_TEST_TIMEOUT (getenv("VMTEST") ? 300 : 60)
#define NS_BPF_TCX_INGRESS 46       /* enum bpf_attach_type, kernel >= 6.6 */
#define NS_BPF_TCX_EGRESS 47
#define NS_LINK_TYPE_XDP 6
#define NS_LINK_TYPE_TCX 11

/* ------------------------------------------------------------------ paths */

static char ns_root[PATH_MAX];      /* the repository */
static char ns_wirestate[PATH_MAX]; /* build/wirestate */
static char ns_wsconn[PATH_MAX];    /* build/wsconn */
static char ns_topo[PATH_MAX];      /* scripts/topo.sh */
static char ns_prefix[16];          /* this binary's names: PREFIXc1, PREFIXh1, PREFIXbr */
static char ns_tmpdir[PATH_MAX];    /* a mkdtemp() directory, removed at the end */

static double ns_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void ns_sleep_ms(int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static bool ns_is_root_dir(const char *d)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/build/wirestate", d);
	if (access(p, X_OK))
		return false;
	snprintf(p, sizeof(p), "%s/scripts/topo.sh", d);
	return access(p, R_OK) == 0;
}

/*
 * The repository: two levels above the test binary (build/tests/test_x),
 * else the current directory (tests/run.sh cds there).  chdir()s into it.
 */
NS_FN int ns_find_root(const char *argv0)
{
	char buf[PATH_MAX], *slash;
	int up;

	ns_root[0] = '\0';
	if (argv0 && realpath(argv0, buf)) {
		for (up = 0; up < 3 && (slash = strrchr(buf, '/')); up++) {
			*slash = '\0';
			if (up == 2 && ns_is_root_dir(buf[0] ? buf : "/")) {
				snprintf(ns_root, sizeof(ns_root), "%s", buf[0] ? buf : "/");
				break;
			}
		}
	}
	if (!ns_root[0] && getcwd(buf, sizeof(buf)) && ns_is_root_dir(buf))
		snprintf(ns_root, sizeof(ns_root), "%s", buf);
	if (!ns_root[0]) {
		fprintf(stderr, "nstest: cannot find the repository (build/wirestate and "
			"scripts/topo.sh) from '%s' or the current directory; run `make` first\n",
			argv0 ? argv0 : "?");
		return -1;
	}
	if (chdir(ns_root)) {
		fprintf(stderr, "nstest: chdir %s: %s\n", ns_root, strerror(errno));
		return -1;
	}
	snprintf(ns_wirestate, sizeof(ns_wirestate), "%s/build/wirestate", ns_root);
	snprintf(ns_wsconn, sizeof(ns_wsconn), "%s/build/wsconn", ns_root);
	snprintf(ns_topo, sizeof(ns_topo), "%s/scripts/topo.sh", ns_root);
	if (access(ns_wsconn, X_OK)) {
		fprintf(stderr, "nstest: %s is missing; run `make`\n", ns_wsconn);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- buffers */

struct nbuf {
	char *s;
	size_t len, cap;
};

static void nbuf_add(struct nbuf *b, const char *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (b->len + n + 1 > cap)
			cap *= 2;
		char *s = realloc(b->s, cap);

		if (!s)
			abort();
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, d, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static const char *nbuf_str(const struct nbuf *b)
{
	return b->s ? b->s : "";
}

static void nbuf_free(struct nbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* Occurrences of s in text. */
NS_FN int ns_count(const char *text, const char *s)
{
	int n = 0;
	size_t l = strlen(s);

	for (const char *p = text; l && (p = strstr(p, s)); p += l)
		n++;
	return n;
}

/* -------------------------------------------------------- child processes */

#define NP_MAX 24

struct nproc {
	bool used;
	char name[96];
	pid_t pid;
	int fd[2];                  /* read ends of stdout and stderr, -1 once at EOF */
	struct nbuf out, err;
	bool reaped;
	int status;                 /* wait status, once reaped */
	double t_spawn, t_exit;
};

static struct nproc np_pool[NP_MAX];

struct np_opts {
	const char *netns;          /* run inside the namespace `ip netns add NAME` made */
	bool drop_root;             /* setuid/setgid 65534, no groups: no capabilities */
	bool stdout_closed;         /* stdout: a pipe whose read end is already closed */
	bool sigint_ignored;        /* SIGINT ignored, as a script's background job starts */
};

static void np_release(struct nproc *p)
{
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	nbuf_free(&p->out);
	nbuf_free(&p->err);
	memset(p, 0, sizeof(*p));
}

/* Start argv[0] (PATH is searched) with the options; NULL when it cannot start. */
NS_FN struct nproc *np_spawnv(const struct np_opts *o, char *const argv[])
{
	static const struct np_opts none;
	struct nproc *p = NULL;
	int po[2], pe[2], devnull;
	pid_t parent = getpid();

	if (!o)
		o = &none;
	for (int i = 0; i < NP_MAX; i++)
		if (!np_pool[i].used) {
			p = &np_pool[i];
			break;
		}
	if (!p) {
		fprintf(stderr, "nstest: too many child processes\n");
		return NULL;
	}
	if (pipe2(po, O_CLOEXEC))
		return NULL;
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->fd[0] = po[0];
	p->fd[1] = pe[0];
	size_t n = 0;
	for (int i = 0; argv[i] && n < sizeof(p->name) - 1; i++)
		n += (size_t)snprintf(p->name + n, sizeof(p->name) - n, "%s%s", i ? " " : "",
				      i == 0 && strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
								      : argv[i]);
	fflush(stdout);
	fflush(stderr);
	p->t_spawn = ns_now();
	p->pid = fork();
	if (p->pid < 0) {
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		memset(p, 0, sizeof(*p));
		return NULL;
	}
	if (p->pid == 0) {
		/* the child: dies with the test, whatever kills the test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		if (o->sigint_ignored)
			signal(SIGINT, SIG_IGN);    /* kept across exec */
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pe[1], 2);
		dup2(po[1], 1);
		if (o->stdout_closed)
			close(po[0]);   /* O_CLOEXEC too: after exec nobody reads */
		if (o->netns) {
			char path[PATH_MAX];

			/* where `ip netns add` put it: /run/netns, or /var/run/netns on old iproute2 */
			snprintf(path, sizeof(path), "/run/netns/%s", o->netns);
			int fd = open(path, O_RDONLY | O_CLOEXEC);

			if (fd < 0) {
				snprintf(path, sizeof(path), "/var/run/netns/%s", o->netns);
				fd = open(path, O_RDONLY | O_CLOEXEC);
			}

			if (fd < 0 || setns(fd, CLONE_NEWNET)) {
				dprintf(2, "nstest child: netns %s: %s\n", o->netns, strerror(errno));
				_exit(126);
			}
		}
		if (o->drop_root) {
			if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
				dprintf(2, "nstest child: dropping root: %s\n", strerror(errno));
				_exit(126);
			}
		}
		execvp(argv[0], argv);
		dprintf(2, "nstest child: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (o->stdout_closed) {
		close(po[0]);
		p->fd[0] = -1;
	}
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0)
			fcntl(p->fd[i], F_SETFL, fcntl(p->fd[i], F_GETFL) | O_NONBLOCK);
	return p;
}

/* np_spawn(opts, "prog", "arg", ..., NULL) */
NS_FN struct nproc *np_spawn(const struct np_opts *o, const char *arg0, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;

	argv[n++] = (char *)arg0;
	va_start(ap, arg0);
	while (n < 63 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return np_spawnv(o, argv);
}

/* Read what the children wrote and reap the ones that ended; at most timeout_ms. */
static void np_pump(int timeout_ms)
{
	struct pollfd pf[NP_MAX * 2];
	struct nproc *owner[NP_MAX * 2];
	int which[NP_MAX * 2], n = 0;
	bool running = false;

	for (int i = 0; i < NP_MAX; i++) {
		struct nproc *p = &np_pool[i];

		if (!p->used)
			continue;
		if (!p->reaped)
			running = true;
		for (int k = 0; k < 2; k++)
			if (p->fd[k] >= 0) {
				pf[n] = (struct pollfd){ .fd = p->fd[k], .events = POLLIN };
				owner[n] = p;
				which[n++] = k;
			}
	}
	/* a child's exit wakes nobody when its pipes stay open: look again soon */
	if (running && timeout_ms > 20)
		timeout_ms = 20;
	if (n)
		poll(pf, (nfds_t)n, timeout_ms);
	else if (timeout_ms > 0)
		ns_sleep_ms(timeout_ms);
	for (int i = 0; i < n; i++) {
		char buf[8192];
		ssize_t r;

		if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		while ((r = read(pf[i].fd, buf, sizeof(buf))) > 0)
			nbuf_add(which[i] ? &owner[i]->err : &owner[i]->out, buf, (size_t)r);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			close(owner[i]->fd[which[i]]);
			owner[i]->fd[which[i]] = -1;
		}
	}
	for (int i = 0; i < NP_MAX; i++) {
		struct nproc *p = &np_pool[i];

		if (p->used && !p->reaped && waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
			p->reaped = true;
			p->t_exit = ns_now();
		}
	}
}

NS_FN bool np_running(struct nproc *p)
{
	np_pump(0);
	return !p->reaped;
}

/* Wait for p to end and its pipes to reach EOF.  false on timeout (p still runs). */
NS_FN bool np_wait_exit(struct nproc *p, int timeout_ms)
{
	double end = ns_now() + timeout_ms / 1000.0;

	while (!p->reaped && ns_now() < end)
		np_pump(20);
	if (!p->reaped)
		return false;
	/* a grandchild could hold the pipes: give them a moment, not forever */
	end = ns_now() + 0.5;
	while ((p->fd[0] >= 0 || p->fd[1] >= 0) && ns_now() < end)
		np_pump(20);
	return true;
}

/* Wait until p's stdout (stream 0) or stderr (1) contains s; false on timeout or exit. */
NS_FN bool np_wait_text(struct nproc *p, int stream, const char *s, int timeout_ms)
{
	double end = ns_now() + timeout_ms / 1000.0;
	const struct nbuf *b = stream ? &p->err : &p->out;

	for (;;) {
		if (strstr(nbuf_str(b), s))
			return true;
		if (ns_now() >= end)
			return false;
		if (p->reaped && p->fd[stream] < 0)
			return false;
		np_pump(20);
	}
}

/* Wait until s occurs at least n times in p's stdout. */
NS_FN bool np_wait_count(struct nproc *p, const char *s, int n, int timeout_ms)
{
	double end = ns_now() + timeout_ms / 1000.0;

	for (;;) {
		if (ns_count(nbuf_str(&p->out), s) >= n)
			return true;
		if (ns_now() >= end || (p->reaped && p->fd[0] < 0))
			return false;
		np_pump(20);
	}
}

NS_FN void np_signal(struct nproc *p, int sig)
{
	if (p && p->used && !p->reaped && p->pid > 0)
		kill(p->pid, sig);
}

/* Exit status, or 128 + signal, or -1 while it runs. */
NS_FN int np_code(const struct nproc *p)
{
	if (!p->reaped)
		return -1;
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status);
	if (WIFSIGNALED(p->status))
		return 128 + WTERMSIG(p->status);
	return -1;
}

NS_FN void np_free(struct nproc *p)
{
	if (!p || !p->used)
		return;
	if (!p->reaped && p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	np_release(p);
}

/* Kill every child still running and forget them all. */
NS_FN void np_kill_all(void)
{
	for (int i = 0; i < NP_MAX; i++)
		if (np_pool[i].used)
			np_free(&np_pool[i]);
}

/*
 * End every child: SIGINT first, so a wirestate detaches as it does on
 * Ctrl-C (without tcx a SIGKILL would leave its TC filter behind), SIGKILL
 * for what still runs after timeout_ms.  Then forget them all.
 */
NS_FN void np_stop_all(int timeout_ms)
{
	double end = ns_now() + timeout_ms / 1000.0;
	bool running;

	for (int i = 0; i < NP_MAX; i++)
		np_signal(&np_pool[i], SIGINT);
	do {
		np_pump(20);
		running = false;
		for (int i = 0; i < NP_MAX; i++)
			running |= np_pool[i].used && !np_pool[i].reaped;
	} while (running && ns_now() < end);
	np_kill_all();
}

/* Print every child's command line, status and output: context for a failure. */
NS_FN void ns_dump(void)
{
	np_pump(0);
	for (int i = 0; i < NP_MAX; i++) {
		struct nproc *p = &np_pool[i];

		if (!p->used)
			continue;
		fprintf(stderr, "---- [%s] %s\n", p->name,
			p->reaped ? "ended" : "still running");
		if (p->reaped)
			fprintf(stderr, "     status %d\n", np_code(p));
		if (p->out.len)
			fprintf(stderr, "     stdout:\n%s%s", nbuf_str(&p->out),
				p->out.s[p->out.len - 1] == '\n' ? "" : "\n");
		if (p->err.len)
			fprintf(stderr, "     stderr:\n%s%s", nbuf_str(&p->err),
				p->err.s[p->err.len - 1] == '\n' ? "" : "\n");
	}
}

/* A check that prints every child's output before failing the test. */
#define NS_CHECK(cond, ...)                                                              \
	do {                                                                             \
		if (!(cond)) {                                                           \
			ns_dump();                                                       \
			fail_msg(__VA_ARGS__);                                           \
		}                                                                        \
	} while (0)

/* ---------------------------------------------------------------- shell */

/*
 * Run a shell command with a timeout.  Returns its exit status (-1 on timeout
 * or signal); *out gets its stdout and stderr when out is not NULL.
 */
NS_FN int nsh(struct nbuf *out, int timeout_ms, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	struct nproc *p = np_spawn(NULL, "/bin/sh", "-c", cmd, NULL);

	if (!p)
		return -1;
	if (!np_wait_exit(p, timeout_ms)) {
		fprintf(stderr, "nstest: timed out after %d ms: %s\n", timeout_ms, cmd);
		np_free(p);
		return -1;
	}
	int rc = np_code(p);

	if (out) {
		nbuf_add(out, nbuf_str(&p->out), p->out.len);
		nbuf_add(out, nbuf_str(&p->err), p->err.len);
	}
	np_free(p);
	return rc > 127 ? -1 : rc;
}

NS_FN bool ns_have_cmd(const char *cmd)
{
	return nsh(NULL, 5000, "command -v %s >/dev/null 2>&1", cmd) == 0;
}

/* ---------------------------------------------------- topology and guard */

static char ns_emergency_msg[256];

/* SIGALRM (a test hung), SIGINT/SIGTERM/SIGHUP: kill, remove, leave. */
static void ns_emergency(int sig)
{
	static const char head[] = "\nnstest: emergency cleanup (";
	const char *what = sig == SIGALRM ? "test timed out" : "interrupted";

	if (write(2, head, sizeof(head) - 1) < 0 || write(2, what, strlen(what)) < 0 ||
	    write(2, ")\n", 2) < 0) {
		/* nothing to do about it */
	}
	for (int i = 0; i < NP_MAX; i++)
		if (np_pool[i].used && !np_pool[i].reaped && np_pool[i].pid > 0)
			kill(np_pool[i].pid, SIGKILL);
	for (int i = 0; i < NP_MAX; i++)
		if (np_pool[i].used && !np_pool[i].reaped && np_pool[i].pid > 0)
			waitpid(np_pool[i].pid, NULL, 0);
	if (ns_prefix[0] && ns_topo[0]) {
		pid_t c = fork();

		if (c == 0) {
			execl(ns_topo, ns_topo, "down", ns_prefix, (char *)NULL);
			_exit(127);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
	}
	if (ns_tmpdir[0]) {
		pid_t c = fork();

		if (c == 0) {
			execlp("rm", "rm", "-rf", ns_tmpdir, (char *)NULL);
			_exit(127);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
	}
	if (ns_emergency_msg[0] && write(2, ns_emergency_msg, strlen(ns_emergency_msg)) < 0) {
		/* ignore */
	}
	_exit(sig == SIGALRM ? 124 : 128 + sig);
}

NS_FN void ns_install_guard(void)
{
	struct sigaction sa = { .sa_handler = ns_emergency };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * One run per prefix at a time: two runs of the same test binary (say, two
 * `make test` at once) would tear down each other's namespaces.  Waits up to
 * timeout_s for the other run; the lock goes with the process.
 */
NS_FN int ns_lock(int timeout_s)
{
	char path[PATH_MAX];
	double end = ns_now() + timeout_s;
	bool said = false;

	snprintf(path, sizeof(path), "/tmp/.wirestate-nstest-%s.lock", ns_prefix);
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return 0;       /* no lock to be had: run anyway */
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK || ns_now() >= end) {
			fprintf(stderr, "nstest: another run with prefix %s holds %s\n", ns_prefix,
				path);
			close(fd);
			return -1;
		}
		if (!said)
			fprintf(stderr, "# waiting for another run with prefix %s to end\n",
				ns_prefix);
		said = true;
		ns_sleep_ms(200);
	}
	return 0;               /* fd stays open: the lock lasts until exit */
}

NS_FN int ns_topo_down(void)
{
	return nsh(NULL, 20000, "'%s' down '%s'", ns_topo, ns_prefix);
}

/* n containers PREFIXc1..n on bridge PREFIXbr (leftovers of a crashed run removed first) */
NS_FN int ns_topo_up(int n)
{
	struct nbuf o = {};
	int rc = nsh(&o, 30000, "'%s' up '%s' %d", ns_topo, ns_prefix, n);

	if (rc)
		fprintf(stderr, "nstest: topo.sh up %s %d failed (%d):\n%s\n", ns_prefix, n, rc,
			nbuf_str(&o));
	nbuf_free(&o);
	return rc;
}

NS_FN int ns_tmpdir_make(void)
{
	/* a run that was SIGKILLed left its directory; the prefix lock says none is in use */
	nsh(NULL, 10000, "rm -rf /tmp/%s-test.??????", ns_prefix);
	snprintf(ns_tmpdir, sizeof(ns_tmpdir), "/tmp/%s-test.XXXXXX", ns_prefix);
	if (!mkdtemp(ns_tmpdir)) {
		ns_tmpdir[0] = '\0';
		return -1;
	}
	return 0;
}

NS_FN void ns_tmpdir_remove(void)
{
	if (ns_tmpdir[0])
		nsh(NULL, 10000, "rm -rf '%s'", ns_tmpdir);
	ns_tmpdir[0] = '\0';
}

/*
 * After a test: no clsact qdisc on the n host-side veths (a wirestate that
 * was SIGKILLed on a kernel without tcx leaves its filter in one).
 */
NS_FN void ns_reset_tc(int n)
{
	for (int i = 1; i <= n; i++)
		nsh(NULL, 5000, "tc qdisc del dev %sh%d clsact 2>/dev/null", ns_prefix, i);
}

/*
 * Per-test bookkeeping for the cmocka fixtures: a SIGALRM backstop and, with
 * NSTEST_TIMING=1 in the environment, how long each test took on stderr.
 */
static double ns_test_t0;

NS_FN void ns_test_begin(void)
{
	ns_test_t0 = ns_now();
	alarm((unsigned)NS_TEST_TIMEOUT);
}

NS_FN void ns_test_end(void)
{
	alarm(0);
	if (getenv("NSTEST_TIMING"))
		fprintf(stderr, "# %.2f s\n", ns_now() - ns_test_t0);
}

/* Forget the neighbours of containers 1..n, so the next connection starts with ARP. */
NS_FN void ns_flush_neigh(int n)
{
	for (int i = 1; i <= n; i++)
		nsh(NULL, 5000, "ip -n %sc%d neigh flush all", ns_prefix, i);
}

/* ------------------------------------------------------------ attachment */

NS_FN void ns_prog_name(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	uint32_t ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name);
	close(fd);
}

NS_FN bool ns_prog_exists(uint32_t id)
{
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno != ENOENT;
}

/* The XDP program on ifname, any mode; 0 when none (or no such interface). */
NS_FN uint32_t ns_xdp_prog(const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ifindex = (int)if_nametoindex(ifname);

	if (!ifindex || bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (q.prog_id)
		return q.prog_id;
	if (q.drv_prog_id)
		return q.drv_prog_id;
	if (q.skb_prog_id)
		return q.skb_prog_id;
	return q.hw_prog_id;
}

static int ns_tcx = -1;        /* 1: the kernel has tcx, 0: it has not, -1: not known yet */

/*
 * The programs on ifname's TC ingress or egress: tcx programs when the
 * kernel has tcx, else the ids of the bpf filters `tc filter show dev IF
 * ingress|egress` lists.  Returns how many (ids[] gets up to max of them).
 */
NS_FN int ns_tc_progs(const char *ifname, bool ingress, uint32_t *ids, int max)
{
	uint32_t buf[64], cnt = 64;
	int ifindex = (int)if_nametoindex(ifname), n = 0;

	if (!ifindex)
		return 0;
	if (ns_tcx != 0) {
		int rc = bpf_prog_query(ifindex, (enum bpf_attach_type)(ingress ? NS_BPF_TCX_INGRESS :
					NS_BPF_TCX_EGRESS), 0, NULL, buf, &cnt);

		if (rc == 0) {
			ns_tcx = 1;
			for (uint32_t i = 0; i < cnt && n < max; i++)
				ids[n++] = buf[i];
			return (int)cnt;
		}
		if (errno == EINVAL)
			ns_tcx = 0;
		else
			return 0;
	}
	struct nbuf o = {};

	nsh(&o, 5000, "tc filter show dev %s %s", ifname, ingress ? "ingress" : "egress");
	for (const char *p = nbuf_str(&o); (p = strstr(p, " id ")); p += 4) {
		unsigned id;

		if (sscanf(p, " id %u", &id) == 1) {
			if (n < max)
				ids[n] = id;
			n++;
		}
	}
	nbuf_free(&o);
	return n;
}

NS_FN int ns_egress_progs(const char *ifname, uint32_t *ids, int max)
{
	return ns_tc_progs(ifname, false, ids, max);
}

/* The id of the program named name on ifname's TC ingress (egress), or 0. */
NS_FN uint32_t ns_tc_prog_named(const char *ifname, bool ingress, const char *name)
{
	uint32_t ids[16];
	char pname[32];
	int n = ns_tc_progs(ifname, ingress, ids, 16);

	for (int i = 0; i < n && i < 16; i++) {
		ns_prog_name(ids[i], pname, sizeof(pname));
		if (!strcmp(pname, name))
			return ids[i];
	}
	return 0;
}

/* Does the kernel have tcx?  Asked about one of our own interfaces. */
NS_FN bool ns_have_tcx(const char *ifname)
{
	uint32_t id;

	if (ns_tcx < 0)
		ns_egress_progs(ifname, &id, 1);
	return ns_tcx == 1;
}

/* XDP and TCX links whose ifindex is ifname's (both keep ifindex first in the union). */
NS_FN int ns_links_on(const char *ifname)
{
	uint32_t id = 0;
	int ifindex = (int)if_nametoindex(ifname), n = 0;

	if (!ifindex)
		return 0;
	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		uint32_t len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    (info.type == NS_LINK_TYPE_XDP || info.type == NS_LINK_TYPE_TCX) &&
		    (int)info.xdp.ifindex == ifindex)
			n++;
		close(fd);
	}
	return n;
}

/*
 * wirestate's program for what arrives on ifname: ws_xdp on XDP, or
 * ws_tc_ingress on TC ingress (the default on veths of kernels with tcx,
 * and --ingress tc); 0 when neither.  *is_xdp says which.
 */
NS_FN uint32_t ns_ws_ingress(const char *ifname, bool *is_xdp)
{
	uint32_t x = ns_xdp_prog(ifname);
	char name[32];

	if (x) {
		ns_prog_name(x, name, sizeof(name));
		if (!strcmp(name, "ws_xdp")) {
			if (is_xdp)
				*is_xdp = true;
			return x;
		}
	}
	if (is_xdp)
		*is_xdp = false;
	return ns_tc_prog_named(ifname, true, "ws_tc_ingress");
}

/* Is wirestate fully attached to ifname: its ingress program and ws_tc_egress on TC egress? */
NS_FN bool ns_ws_attached(const char *ifname, uint32_t *in_id, uint32_t *tc_id)
{
	uint32_t in = ns_ws_ingress(ifname, NULL), tc;

	if (!in || !(tc = ns_tc_prog_named(ifname, false, "ws_tc_egress")))
		return false;
	if (in_id)
		*in_id = in;
	if (tc_id)
		*tc_id = tc;
	return true;
}


/* SIGINT a wirestate; it must exit by itself, with status 0, within exit_ms. */
NS_FN void ns_stop_wirestate(struct nproc *ws, int exit_ms)
{
	np_signal(ws, SIGINT);
	NS_CHECK(np_wait_exit(ws, exit_ms), "wirestate did not exit within %d ms of SIGINT",
		 exit_ms);
	NS_CHECK(np_code(ws) == 0, "wirestate exited with %d after SIGINT", np_code(ws));
}

/*
 * Wait until wirestate (p) is attached to every interface of the NULL-ended
 * list; false when p ended first or the deadline passed.
 */
NS_FN bool ns_wait_attached(struct nproc *p, const char *const *ifnames, int timeout_ms)
{
	double end = ns_now() + timeout_ms / 1000.0;

	for (;;) {
		bool all = true;

		for (int i = 0; ifnames[i] && all; i++)
			all = ns_ws_attached(ifnames[i], NULL, NULL);
		if (all)
			return true;
		np_pump(10);
		if (p->reaped || ns_now() >= end)
			return false;
	}
}

/*
 * Nothing of anyone's is attached to ifname: no XDP program, no TC egress
 * program, no XDP/TCX link, and `ip -d link`, `bpftool net`, `tc qdisc` agree.
 * Polls up to timeout_ms for the kernel to finish letting go.
 * Returns NULL when clean, else what is still there (static buffer).
 */
NS_FN const char *ns_attached_leftover(const char *ifname, int timeout_ms)
{
	static char why[512];
	double end = ns_now() + timeout_ms / 1000.0;
	uint32_t ids[4];
	struct nbuf o = {};

	for (;;) {
		uint32_t x = ns_xdp_prog(ifname), in[4];
		int ne = ns_egress_progs(ifname, ids, 4);
		int ni = ns_tc_progs(ifname, true, in, 4);
		int nl = ns_links_on(ifname);

		if (!x && !ne && !ni && !nl)
			break;
		if (ns_now() >= end) {
			snprintf(why, sizeof(why), "%s: xdp prog %u, %d TC egress program(s)%s%u, "
				 "%d TC ingress program(s)%s%u, %d XDP/TCX link(s) still attached",
				 ifname, x, ne, ne ? " first id " : "", ne ? ids[0] : 0, ni,
				 ni ? " first id " : "", ni ? in[0] : 0, nl);
			return why;
		}
		ns_sleep_ms(20);
	}
	nsh(&o, 5000, "ip -d link show dev %s", ifname);
	if (strstr(nbuf_str(&o), "prog/xdp")) {
		snprintf(why, sizeof(why), "%s: `ip -d link show` still shows prog/xdp", ifname);
		goto out;
	}
	o.len = 0;
	nsh(&o, 5000, "tc qdisc show dev %s", ifname);
	if (strstr(nbuf_str(&o), "clsact")) {
		snprintf(why, sizeof(why), "%s: a clsact qdisc is left: %s", ifname, nbuf_str(&o));
		goto out;
	}
	o.len = 0;
	if (nsh(&o, 10000, "bpftool net show dev %s", ifname) == 0) {
		char needle[32];

		snprintf(needle, sizeof(needle), "%s(", ifname);
		if (strstr(nbuf_str(&o), needle) || strstr(nbuf_str(&o), "ws_xdp") ||
		    strstr(nbuf_str(&o), "ws_tc_egress") || strstr(nbuf_str(&o), "ws_tc_ingress")) {
			snprintf(why, sizeof(why), "%s: `bpftool net show` still lists it:\n%s", ifname,
				 nbuf_str(&o));
			goto out;
		}
	}
	nbuf_free(&o);
	return NULL;
out:
	nbuf_free(&o);
	return why;
}

#define NS_ASSERT_CLEAN(ifname)                                                          \
	do {                                                                             \
		const char *left_ = ns_attached_leftover(ifname, 3000);                  \
		NS_CHECK(!left_, "%s", left_ ? left_ : "");                              \
	} while (0)

/* Wait up to timeout_ms for the program id to be freed. */
NS_FN bool ns_wait_prog_gone(uint32_t id, int timeout_ms)
{
	double end = ns_now() + timeout_ms / 1000.0;

	while (ns_prog_exists(id)) {
		if (ns_now() >= end)
			return false;
		ns_sleep_ms(20);
	}
	return true;
}

/* ------------------------------------------------------------- fixtures */

/*
 * What one test binary is, for ns_main_begin() and the cmocka fixtures below
 * (a binary whose fixtures differ writes its own and calls these from it).
 */
struct ns_suite {
	const char *who;            /* "test_cli": the start of its messages */
	const char *prefix;         /* its names (ns_prefix) */
	bool lock;                  /* one run per prefix at a time: ns_lock(300) */
	int containers;             /* group setup: ns_topo_up(containers) */
	bool tmpdir;                /* group setup: ns_tmpdir_make() */
	const char *tcx_ifname;     /* group setup: say how TC egress attaches (asked of it) */
	int flush_neigh;            /* test setup: ns_flush_neigh(flush_neigh) */
	int reset_tc;               /* test teardown: ns_reset_tc(reset_tc) */
	const char *extra;          /* group teardown: PREFIX<extra>* are leftovers too */
	void (*cleanup)(void);      /* both teardowns, right after the children ended */
};

static const struct ns_suite *ns_suite;

/*
 * The start of main(): keep s for the fixtures, find the repository
 * (ns_find_root), take s->prefix as this binary's names, wait for another run
 * with the same prefix (when s->lock) and install the emergency cleanup.
 * -1 (after saying why) when the tests cannot run.
 */
NS_FN int ns_main_begin(const char *argv0, const struct ns_suite *s)
{
	ns_suite = s;
	if (ns_find_root(argv0))
		return -1;
	snprintf(ns_prefix, sizeof(ns_prefix), "%s", s->prefix);
	if (s->lock && ns_lock(300))
		return -1;
	ns_install_guard();
	return 0;
}

/*
 * Group setup: root is needed ("WHO: needs root ..." when not), then the
 * containers and, if asked, ns_tmpdir and a line on how TC egress attaches.
 */
NS_FN int ns_group_setup(void **state)
{
	const struct ns_suite *s = ns_suite;

	if (geteuid() != 0) {
		fprintf(stderr, "%s: needs root (namespaces, BPF)\n", s->who);
		return -1;
	}
	if (ns_topo_up(s->containers))
		return -1;
	if (s->tmpdir && ns_tmpdir_make())
		return -1;
	if (s->tcx_ifname)
		fprintf(stderr, "# kernel TC egress attachment: %s\n",
			ns_have_tcx(s->tcx_ifname) ? "tcx link" : "clsact filter (no tcx)");
	return 0;
}

/*
 * Group teardown: end every child (np_stop_all), the suite's cleanup, remove
 * ns_tmpdir and the topology, then check that `ip netns list` and
 * `ip -o link show` name nothing of ours: no PREFIXc*, PREFIXh*, PREFIXbr*
 * (nor PREFIX<extra>*).  Each leftover is printed as "WHO: left behind: LINE"
 * and fails the group.
 */
NS_FN int ns_group_teardown(void **state)
{
	const struct ns_suite *s = ns_suite;
	struct nbuf o = {};
	char pat[4][32];
	int npat = 0, rc = 0;

	np_stop_all(3000);
	if (s->cleanup)
		s->cleanup();
	ns_tmpdir_remove();
	ns_topo_down();
	snprintf(pat[npat++], sizeof(pat[0]), "%sc", ns_prefix);
	snprintf(pat[npat++], sizeof(pat[0]), "%sh", ns_prefix);
	snprintf(pat[npat++], sizeof(pat[0]), "%sbr", ns_prefix);
	if (s->extra)
		snprintf(pat[npat++], sizeof(pat[0]), "%s%s", ns_prefix, s->extra);
	nsh(&o, 5000, "ip netns list; ip -o link show");
	for (char *l = o.s; l && *l;) {
		char *e = strchr(l, '\n');
		bool ours = false;

		if (e)
			*e = '\0';
		for (int i = 0; i < npat && !ours; i++)
			ours = strstr(l, pat[i]) != NULL;
		if (ours) {
			fprintf(stderr, "%s: left behind: %s\n", s->who, l);
			rc = -1;
		}
		l = e ? e + 1 : NULL;
	}
	nbuf_free(&o);
	return rc;
}

/*
 * Test setup: the SIGALRM backstop (ns_test_begin) and fresh neighbour tables
 * in the first flush_neigh containers, so every connection starts with its
 * ARP exchange.
 */
NS_FN int ns_test_setup(void **state)
{
	ns_test_begin();
	ns_flush_neigh(ns_suite->flush_neigh);
	return 0;
}

/*
 * Test teardown: end every child (np_stop_all), the suite's cleanup, no
 * clsact on the first reset_tc host-side veths, ns_test_end().
 */
NS_FN int ns_test_teardown(void **state)
{
	np_stop_all(3000);
	if (ns_suite->cleanup)
		ns_suite->cleanup();
	ns_reset_tc(ns_suite->reset_tc);
	ns_test_end();
	return 0;
}

/* A test with the fixtures above. */
#define NS_TEST(f) cmocka_unit_test_setup_teardown(f, ns_test_setup, ns_test_teardown)

/* --------------------------------------------------------- JSON lines */

/*
 * The flat JSON wirestate prints: the value of "key" in one line, a string
 * without its quotes or a number / literal as written.  false when absent.
 */
NS_FN bool jget(const char *line, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (*p == '"') {
		size_t k = 0;

		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (k + 1 < n)
				out[k++] = *p;
		}
		out[k] = '\0';
		return *p == '"';
	}
	for (e = p; *e && *e != ',' && *e != '}' && *e != '\n'; e++)
		;
	snprintf(out, n, "%.*s", (int)(e - p), p);
	return true;
}

NS_FN long long jnum(const char *line, const char *key)
{
	char v[64], *end;

	if (!jget(line, key, v, sizeof(v)) || !v[0])
		return LLONG_MIN;
	long long x = strtoll(v, &end, 10);

	return *end ? LLONG_MIN : x;
}

NS_FN bool jis(const char *line, const char *key, const char *want)
{
	char v[256];

	return jget(line, key, v, sizeof(v)) && !strcmp(v, want);
}

struct nlines {
	char **v;
	int n;
};

/* Split text into lines (copies). */
NS_FN void nlines_split(struct nlines *L, const char *text)
{
	const char *p = text;

	L->v = NULL;
	L->n = 0;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char **v = realloc(L->v, (size_t)(L->n + 1) * sizeof(*v));

		if (!v)
			abort();
		L->v = v;
		L->v[L->n++] = strndup(p, len);
		p += len + (e ? 1 : 0);
	}
}

NS_FN void nlines_free(struct nlines *L)
{
	for (int i = 0; i < L->n; i++)
		free(L->v[i]);
	free(L->v);
	L->v = NULL;
	L->n = 0;
}

#endif /* NSTEST_H */
