// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Least privilege: once the programs are loaded and attached, keep only the
 * capabilities still needed (none for a fixed set of interfaces with BPF
 * links; CAP_BPF/CAP_NET_ADMIN/CAP_SYS_ADMIN to follow interfaces or remove
 * a TC filter) and forbid gaining any back through exec (no_new_privs).
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "ws_user.h"

int ws_drop_privs(uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	int last = 40;

	/* the bounding set first: it cannot be refilled once capabilities are gone */
	for (int c = 0; c <= 63; c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno == EINVAL && c > last)
			break;          /* past the kernel's last capability */
	}
	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));

		d[i].effective &= k;
		d[i].permitted &= k;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	/* ambient capabilities would survive an exec: clear them */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

/*
 * The signals that stop wirestate (Ctrl-C, SIGTERM, SIGHUP) are held from
 * the start until the handlers are in place, then let through.  Loading the
 * programs takes a while (half a second here, seconds on a slow VM): a
 * signal sent meanwhile is not lost when the shell started us with it
 * ignored (a background job of a script), and does not make the verifier
 * start over (it gives up when a signal is pending).  main() then sees it
 * and stops before attaching anything.
 */
static void stop_signals_mask(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(how, &set, NULL);
}

void ws_stop_signals_hold(void)
{
	stop_signals_mask(SIG_BLOCK);
}

void ws_stop_signals_release(void)
{
	stop_signals_mask(SIG_UNBLOCK);
}
