// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Differential test of the one parser as the kernel runs it and as user space
 * compiles it: every frame of tests/corpus/ plus thousands of random and
 * mutated frames (fixed PRNG seed) go through the native ws_parse() and
 * through the real ws_xdp program (BPF_PROG_TEST_RUN on one loaded
 * skeleton), and both must tell the same story:
 *
 *   native error            <=> the kernel's WS_STAT_PARSE_ERR went up by one
 *   native ARP, op 1 or 2   <=> one ARP event with the same op, MACs, IPs, VLANs
 *   native complete TCP     <=> one TCP event (a fresh flow every frame: the
 *                               flow table is emptied after each frame, and
 *                               every first segment of a flow is an event)
 *                               with the same addresses, ports, seq, ack,
 *                               flags, window, payload length, TTL and VLANs;
 *                               a flow is kept iff the segment is not a RST
 *   anything else           <=> no event
 *
 * Also here, so the suite runs them:
 *   - test_corpus_up_to_date: tests/corpus/ holds exactly the seeds built
 *     below (regenerate: build/tests/test_fuzzdiff --write-corpus tests/corpus);
 *   - test_fuzz_bounded: build/fuzz_parse (tests/fuzz_parse.c, `make fuzz`)
 *     for WS_FUZZ_SECONDS (default 20) on a temporary copy of the corpus;
 *     it must exit 0.  Skipped when build/fuzz_parse was not built.
 *
 * Environment: WS_FUZZDIFF_N random frames (default 20000), WS_FUZZDIFF_SEED,
 * WS_FUZZ_SECONDS.  Needs root for the BPF tests (skipped without).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "ws_parse.h"
#include "ws_event.h"
#include "wirestate.skel.h"
#include "frames.h"
#include "wstest.h"

/* ------------------------------------------------------------ seed corpus */

#define SEED_MAX 80

struct seed {
	char name[48];
	size_t len;
	uint8_t b[FR_BUF_MIN];
};

static FR_UNUSED struct tcpspec sd_v4(uint8_t flags)
{
	struct tcpspec s = {
		.family = 4, .src = "192.0.2.1", .dst = "198.51.100.7",
		.sport = 43210, .dport = 443, .seq = 0x11223344, .ack = 0x55667788,
		.flags = flags,
	};
	return s;
}

static FR_UNUSED struct tcpspec sd_v6(uint8_t flags)
{
	struct tcpspec s = {
		.family = 6, .src = "2001:db8::1", .dst = "2001:db8:ffff::2",
		.sport = 50000, .dport = 22, .seq = 0xfffffff0, .ack = 7,
		.flags = flags,
	};
	return s;
}

static FR_UNUSED void sd_linux_opts(struct tcpspec *s)
{
	s->mss = 1460;
	s->wscale = 7;
	s->has_wscale = 1;
	s->sack_ok = 1;
	s->ts = 1;
	s->tsval = 0xdeadbeef;
}

static FR_UNUSED struct seed *sd_add(struct seed *v, size_t *n, const char *name)
{
	struct seed *s;

	if (*n >= SEED_MAX)
		fr_die("too many seeds", name);
	s = &v[(*n)++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

static FR_UNUSED void sd_tcp(struct seed *v, size_t *n, const char *name, const struct tcpspec *t)
{
	struct seed *s = sd_add(v, n, name);

	s->len = fr_tcp(s->b, t);
}

/* A copy of the last seed under a new name, cut to len bytes. */
static FR_UNUSED struct seed *sd_cut(struct seed *v, size_t *n, const char *name, size_t len)
{
	struct seed *prev = &v[*n - 1];
	struct seed *s = sd_add(v, n, name);

	memcpy(s->b, prev->b, prev->len);
	s->len = len < prev->len ? len : prev->len;
	return s;
}

/*
 * One FSM script record of tests/fuzz_parse.c: role, seq/ack modes (0
 * absolute, 1 relative to isn+1, 2 relative to the FIN), flags, payload
 * length, seq and ack values.
 */
static FR_UNUSED size_t sd_rec(uint8_t *p, int role, int smode, int amode, uint8_t flags,
			       uint16_t paylen, uint32_t seq, uint32_t ack)
{
	p[0] = (uint8_t)(role | smode << 1 | amode << 3);
	p[1] = flags;
	fr_put16(p + 2, paylen);
	fr_put32(p + 4, seq);
	fr_put32(p + 8, ack);
	return 12;
}

/* A client SYN whose payload is an FSM script (the payload length is fixed up). */
static FR_UNUSED void sd_script(struct seed *v, size_t *n, const char *name, int family,
				const uint8_t *sc, size_t sclen)
{
	struct tcpspec t = family == 4 ? sd_v4(0x02) : sd_v6(0x02);
	struct seed *s;

	t.paylen = (uint16_t)sclen;
	s = sd_add(v, n, name);
	s->len = fr_tcp(s->b, &t);
	memcpy(s->b + s->len - sclen, sc, sclen);
}

#define SYN_ 0x02
#define ACK_ 0x10
#define FIN_ 0x01
#define RST_ 0x04
#define PSH_ 0x08

/* Build every seed into v (SEED_MAX entries); returns how many. */
static FR_UNUSED size_t seeds_build(struct seed *v)
{
	struct tcpspec t;
	struct seed *s;
	size_t n = 0, k;
	uint8_t sc[12 * 16];

	/* ---- IPv4 */
	t = sd_v4(SYN_);
	sd_linux_opts(&t);
	sd_tcp(v, &n, "v4-syn-linux-opts", &t);
	/* every cut inside the headers */
	sd_cut(v, &n, "trunc-v4-eth-only", 14);
	sd_cut(v, &n, "trunc-v4-in-ip", 14 + 19);
	sd_cut(v, &n, "trunc-v4-in-tcp", 14 + 20 + 19);
	sd_cut(v, &n, "trunc-v4-in-tcp-opts", 14 + 20 + 30);
	sd_cut(v, &n, "trunc-13-bytes", 13);

	t = sd_v4(SYN_ | ACK_);
	t.mss = 1400;
	sd_tcp(v, &n, "v4-synack-mss", &t);
	t = sd_v4(ACK_ | PSH_);
	t.paylen = 100;
	sd_tcp(v, &n, "v4-data-100", &t);
	t = sd_v4(FIN_ | ACK_);
	sd_tcp(v, &n, "v4-fin-ack", &t);
	t = sd_v4(RST_);
	sd_tcp(v, &n, "v4-rst", &t);
	t = sd_v4(RST_ | ACK_);
	t.seq = 0;
	sd_tcp(v, &n, "v4-rst-ack", &t);
	t = sd_v4(ACK_);
	t.seq = 0xffffffff;
	t.ack = 0xffffffff;
	sd_tcp(v, &n, "v4-ack-seq-wrap", &t);

	/* Ethernet padding: 54-byte ACK padded to 60 */
	t = sd_v4(ACK_);
	s = sd_add(v, &n, "v4-ack-eth-padded");
	s->len = fr_tcp(s->b, &t);
	memset(s->b + s->len, 0, 60 - s->len);
	s->len = 60;

	t = sd_v4(SYN_);
	t.ip_opts = 12;
	sd_tcp(v, &n, "v4-ip-opts-12", &t);
	t.ip_opts = 40;
	t.mss = 536;
	sd_tcp(v, &n, "v4-ip-opts-40", &t);

	/* TCP options: SACK blocks, odd lengths */
	t = sd_v4(ACK_);
	s = sd_add(v, &n, "v4-tcp-opts-sack-odd");
	t.mss = 1460;
	t.ts = 1;
	t.sack_ok = 1;
	t.has_wscale = 1;
	t.wscale = 14;
	s->len = fr_tcp(s->b, &t);      /* 20 option bytes at 54..74: rewrite them */
	{
		static const uint8_t o[20] = { 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 8, 9, 1, 2,
					       3, 2, 0, 0 };
		memcpy(s->b + 14 + 20 + 20, o, sizeof(o));
	}
	t = sd_v4(SYN_);
	s = sd_add(v, &n, "v4-tcp-opts-bad-len");
	t.mss = 1460;
	t.ts = 1;
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 20 + 20 + 1] = 1;     /* MSS option with length 1 */

	/* malformed IPv4 / TCP headers */
	t = sd_v4(SYN_);
	s = sd_add(v, &n, "v4-ihl-4");
	s->len = fr_tcp(s->b, &t);
	s->b[14] = 0x44;
	s = sd_add(v, &n, "v4-version-6-ihl-5");
	s->len = fr_tcp(s->b, &t);
	s->b[14] = 0x65;
	s = sd_add(v, &n, "v4-totlen-short");
	s->len = fr_tcp(s->b, &t);
	fr_put16(s->b + 16, 19);
	s = sd_add(v, &n, "v4-tcp-doff-4");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 20 + 12] = 0x40;
	s = sd_add(v, &n, "v4-tcp-doff-past-ip");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 20 + 12] = 0xf0;      /* 60 bytes, IP payload has 20 */
	s = sd_add(v, &n, "v4-tcp-doff-past-frame");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 20 + 12] = 0xf0;
	fr_put16(s->b + 16, 20 + 60);   /* the IP length claims the options */
	s = sd_add(v, &n, "v4-udp");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 9] = 17;

	/* IPv4 fragments */
	t = sd_v4(SYN_);
	t.paylen = 16;
	s = sd_add(v, &n, "v4-frag-first");
	s->len = fr_tcp(s->b, &t);
	fr_put16(s->b + 14 + 6, 0x2000);        /* MF, offset 0 */
	s = sd_add(v, &n, "v4-frag-later");
	s->len = fr_tcp(s->b, &t);
	fr_put16(s->b + 14 + 6, 0x0003);        /* offset 24 bytes, last */

	/* VLANs */
	t = sd_v4(SYN_ | ACK_);
	t.nvlan = 1;
	t.vlan[0] = 100;
	sd_tcp(v, &n, "v4-vlan", &t);
	t.nvlan = 2;
	t.vlan[0] = 4095;
	t.vlan[1] = 7;
	sd_tcp(v, &n, "v4-qinq", &t);
	sd_cut(v, &n, "trunc-qinq-in-inner-tag", 14 + 4 + 2);
	s = sd_add(v, &n, "vlan-three-tags");
	{
		uint16_t vl[2] = { 10, 20 };

		k = fr_eth(s->b, NULL, NULL, 2, vl, 0x8100);
		fr_put16(s->b + k, 30);
		fr_put16(s->b + k + 2, 0x0800);
		s->len = k + 4 + 40;
	}

	/* ---- IPv6 */
	t = sd_v6(SYN_);
	sd_linux_opts(&t);
	sd_tcp(v, &n, "v6-syn-linux-opts", &t);
	sd_cut(v, &n, "trunc-v6-in-ip", 14 + 39);
	t = sd_v6(ACK_ | PSH_);
	t.paylen = 33;
	t.ip6_ext = 1;
	sd_tcp(v, &n, "v6-ext1-data", &t);
	t = sd_v6(FIN_ | ACK_);
	t.ip6_ext = 3;
	sd_tcp(v, &n, "v6-ext3-fin", &t);
	sd_cut(v, &n, "trunc-v6-in-ext", 14 + 40 + 12);
	t = sd_v6(SYN_);
	t.ip6_ext = WS_MAX_IP6_EXT;
	sd_tcp(v, &n, "v6-ext-max", &t);
	t.ip6_ext = WS_MAX_IP6_EXT + 1;
	sd_tcp(v, &n, "v6-ext-too-deep", &t);
	t = sd_v6(RST_);
	t.nvlan = 2;
	t.vlan[0] = 1;
	t.vlan[1] = 2;
	sd_tcp(v, &n, "v6-qinq-rst", &t);

	/* IPv6 routing header, AH, fragment headers (rewritten hop-by-hop slots) */
	t = sd_v6(SYN_);
	t.ip6_ext = 1;
	s = sd_add(v, &n, "v6-routing");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 6] = 43;
	t.ip6_ext = 2;
	s = sd_add(v, &n, "v6-ah");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 6] = 51;
	s->b[14 + 40] = 6;
	s->b[14 + 41] = 2;                      /* (2 + 2) * 4 = 16 bytes */
	t.ip6_ext = 1;
	t.paylen = 8;
	s = sd_add(v, &n, "v6-frag-first");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 6] = 44;
	s->b[14 + 40] = 6;
	s->b[14 + 41] = 0;
	fr_put16(s->b + 14 + 42, 0x0001);       /* offset 0, M */
	fr_put32(s->b + 14 + 44, 0xabcd);
	s = sd_add(v, &n, "v6-frag-later");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 6] = 44;
	s->b[14 + 40] = 6;
	s->b[14 + 41] = 0;
	fr_put16(s->b + 14 + 42, 0x00a8);       /* offset 168, last */
	fr_put32(s->b + 14 + 44, 0xabcd);
	t = sd_v6(SYN_);
	s = sd_add(v, &n, "v6-udp");
	s->len = fr_tcp(s->b, &t);
	s->b[14 + 6] = 17;

	/* ---- ARP */
	s = sd_add(v, &n, "arp-request");
	s->len = fr_arp(s->b, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.1");
	s = sd_add(v, &n, "arp-reply");
	s->len = fr_arp(s->b, 2, "02:42:ac:11:00:01", "172.17.0.1", "02:42:ac:11:00:02",
			"172.17.0.2");
	sd_cut(v, &n, "trunc-arp-41", 41);
	s = sd_add(v, &n, "arp-op-3");
	s->len = fr_arp(s->b, 3, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.1");
	s = sd_add(v, &n, "arp-htype-6");
	s->len = fr_arp(s->b, 1, "02:42:ac:11:00:02", "172.17.0.2", NULL, "172.17.0.1");
	s->b[15] = 6;
	s = sd_add(v, &n, "arp-qinq");
	{
		uint8_t tmp[64];
		uint16_t vl[2] = { 300, 301 };
		size_t l = fr_arp(tmp, 2, "02:42:ac:11:00:01", "10.0.0.1", "02:42:ac:11:00:03",
				  "10.0.0.3");

		k = fr_eth(s->b, tmp, tmp + 6, 2, vl, 0x0806);
		memcpy(s->b + k, tmp + 14, l - 14);
		s->len = k + l - 14;
	}

	/* ---- other ethertypes */
	s = sd_add(v, &n, "eth-lldp");
	s->len = fr_eth(s->b, NULL, NULL, 0, NULL, 0x88cc) + 46;

	/* ---- FSM scripts (payload of a client SYN, see tests/fuzz_parse.c) */
	k = 0;
	k += sd_rec(sc + k, 1, 0, 1, SYN_ | ACK_, 0, 5000, 0);          /* SYN-ACK */
	k += sd_rec(sc + k, 0, 1, 1, ACK_, 0, 0, 0);                    /* handshake done */
	k += sd_rec(sc + k, 0, 1, 1, PSH_ | ACK_, 100, 0, 0);           /* data */
	k += sd_rec(sc + k, 0, 1, 1, FIN_ | ACK_, 0, 100, 0);           /* client FIN */
	k += sd_rec(sc + k, 0, 1, 1, FIN_ | ACK_, 0, 100, 0);           /* ... again */
	k += sd_rec(sc + k, 1, 1, 2, ACK_, 0, 0, 0);                    /* acked */
	k += sd_rec(sc + k, 1, 1, 2, FIN_ | ACK_, 0, 0, 0);             /* server FIN */
	k += sd_rec(sc + k, 0, 2, 2, ACK_, 0, 1, 0);                    /* acked: closed */
	k += sd_rec(sc + k, 0, 0, 0, SYN_, 0, 77, 0);                   /* reuse */
	sd_script(v, &n, "fsm-open-close-reuse", 4, sc, k);
	k = 0;
	k += sd_rec(sc + k, 1, 0, 0, SYN_, 0, 9000, 0);                 /* simultaneous open */
	k += sd_rec(sc + k, 1, 3, 1, SYN_ | ACK_, 0, 0, 0);
	k += sd_rec(sc + k, 0, 3, 1, SYN_ | ACK_, 0, 0, 0);
	k += sd_rec(sc + k, 0, 1, 1, FIN_ | ACK_, 0, 0, 0);             /* simultaneous close */
	k += sd_rec(sc + k, 1, 1, 1, FIN_ | ACK_, 0, 0, 0);
	k += sd_rec(sc + k, 0, 2, 2, ACK_, 0, 1, 0);
	k += sd_rec(sc + k, 1, 2, 2, ACK_, 0, 1, 0);
	sd_script(v, &n, "fsm-simultaneous", 6, sc, k);
	k = 0;
	k += sd_rec(sc + k, 1, 0, 1, RST_ | ACK_, 0, 0, 0);             /* refused */
	k += sd_rec(sc + k, 0, 0, 0, SYN_, 0, 0xffffffff, 0);           /* reuse at the wrap */
	k += sd_rec(sc + k, 1, 0, 1, SYN_ | ACK_, 0, 0xfffffffe, 0);
	k += sd_rec(sc + k, 0, 1, 1, ACK_, 0, 0, 0);
	k += sd_rec(sc + k, 0, 1, 1, FIN_ | ACK_, 0, 0x80000000, 0);    /* far away */
	k += sd_rec(sc + k, 1, 1, 2, ACK_, 0, 0, 5);                    /* past the FIN */
	k += sd_rec(sc + k, 1, 1, 1, RST_, 0, 12345, 0);
	sd_script(v, &n, "fsm-refused-wrap-rst", 4, sc, k);

	/* ---- parser findings (see tests/test_hostile.c) */
	s = sd_add(v, &n, "bug-ip6-ext-offset-wrap");
	{
		/*
		 * Hop-by-hop says 2048 bytes, the next header as AH 1028, then AH
		 * 980: the real chain ends 4096 bytes in, past this 1130-byte
		 * frame, but the 12-bit offset wraps to 0 and TCP is "found" in
		 * the IPv6 header itself.
		 */
		uint8_t *ip;

		k = fr_eth(s->b, NULL, NULL, 0, NULL, 0x86dd);
		ip = s->b + k;
		ip[0] = 0x60;
		fr_put16(ip + 4, 0xffff);
		ip[6] = 0;                      /* hop-by-hop */
		ip[7] = 64;
		ip[12] = 0x50;                  /* "data offset" 5 ... */
		ip[13] = 0x02;                  /* ... "SYN" */
		ip[40] = 51;
		ip[41] = 255;
		ip[1068] = 6;
		ip[1069] = 243;
		s->len = k + 1068 + 8 + 40;
	}
	s = sd_add(v, &n, "bug-ip6-later-fragment-walked");
	{
		/*
		 * A later fragment (offset 168) whose fragment header names a
		 * destination-options header: its data happens to look like a
		 * destination-options header, a first-fragment header and a TCP
		 * SYN.  Fragment data is not headers; no TCP may come of it.
		 */
		uint8_t *ip;

		k = fr_eth(s->b, NULL, NULL, 0, NULL, 0x86dd);
		ip = s->b + k;
		ip[0] = 0x60;
		fr_put16(ip + 4, 8 + 8 + 8 + 20);
		ip[6] = 44;
		ip[7] = 64;
		fr_addr(AF_INET6, ip + 8, "2001:db8::1");
		fr_addr(AF_INET6, ip + 24, "2001:db8::2");
		ip[40] = 60;                    /* fragment: next is dest. options */
		fr_put16(ip + 42, 0x00a8);      /* offset 168, last */
		ip[48] = 44;                    /* "dest. options", 8 bytes */
		ip[56] = 6;                     /* "fragment": offset 0, M */
		fr_put16(ip + 58, 0x0001);
		fr_put16(ip + 64, 1234);        /* "TCP" */
		fr_put16(ip + 66, 80);
		fr_put32(ip + 68, 1000);
		ip[76] = 0x50;
		ip[77] = 0x02;
		s->len = k + 40 + 24 + 20;
	}
	return n;
}

/* ------------------------------------------------------------------ paths */

#define PBUF (PATH_MAX + 512)       /* a path in g_corpus plus a file name */

static char g_corpus[PATH_MAX + 32];   /* tests/corpus */
static char g_fuzzer[PATH_MAX + 32];   /* build/fuzz_parse */

/* Paths from this binary's place (build/tests/test_fuzzdiff), so they hold in the VM too. */
static void find_paths(void)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	snprintf(g_corpus, sizeof(g_corpus), "tests/corpus");
	snprintf(g_fuzzer, sizeof(g_fuzzer), "build/fuzz_parse");
	if (n <= 0)
		return;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = 0;                                     /* .../build/tests */
	snprintf(g_fuzzer, sizeof(g_fuzzer), "%s/../fuzz_parse", exe);
	snprintf(g_corpus, sizeof(g_corpus), "%s/../../tests/corpus", exe);
}

static int write_file(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (len && fwrite(b, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Read a whole (small) file; returns its length or -1. */
static ssize_t read_file(const char *path, uint8_t *b, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(b, 1, max, f);
	if (!feof(f) && fgetc(f) != EOF)
		n = max + 1;                            /* too long */
	fclose(f);
	return n > max ? -1 : (ssize_t)n;
}

static int write_corpus(const char *dir)
{
	struct seed *v = calloc(SEED_MAX, sizeof(*v));
	size_t n, i;
	char path[PBUF];

	if (!v)
		return 1;
	n = seeds_build(v);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
		if (write_file(path, v[i].b, v[i].len)) {
			perror(path);
			return 1;
		}
	}
	printf("wrote %zu seeds to %s\n", n, dir);
	free(v);
	return 0;
}

/* ------------------------------------------------------------------- PRNG */

static uint64_t g_rng;

static uint64_t rnd(void)
{
	/* splitmix64: tiny, fast, the same sequence everywhere */
	uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rn(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* ---------------------------------------------------------------- fixture */

#define MAX_EV 8
#include "bpftest.h"

static int setup(void **state)
{
	(void)state;
	bt_open(&(struct bt_opts){ .ev_overflow_ok = 1 });
	bt_load();
	return 0;
}

#define need_bpf() need_(1)

/* ------------------------------------------------------------- comparison */

struct diff_stats {
	unsigned int frames, short_frames, perr, tcp, arp, none, flows, mismatches;
};

static char g_report[16384];
static size_t g_rlen;

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	va_list ap;

	if (g_rlen >= sizeof(g_report) - 1)
		return;
	va_start(ap, fmt);
	g_rlen += (size_t)vsnprintf(g_report + g_rlen, sizeof(g_report) - g_rlen, fmt, ap);
	va_end(ap);
	if (g_rlen > sizeof(g_report) - 1)
		g_rlen = sizeof(g_report) - 1;
}

static void report_frame(const uint8_t *b, size_t len)
{
	size_t i;

	report("  frame (%zu bytes):", len);
	for (i = 0; i < len && i < 160; i++)
		report("%s%02x", (i % 32) ? "" : "\n    ", b[i]);
	report("%s\n", len > 160 ? " ..." : "");
}

#define MISMATCH(fmt, ...) do { \
	if (nbad++ == 0 && st->mismatches < 8) \
		report("%s: ", what); \
	if (st->mismatches < 8) \
		report(fmt "; ", ##__VA_ARGS__); \
} while (0)

#define CMP(field, nat, ker) do { \
	if ((uint64_t)(nat) != (uint64_t)(ker)) \
		MISMATCH("%s native %llu kernel %llu", field, (unsigned long long)(nat), \
			 (unsigned long long)(ker)); \
} while (0)

/* One frame through both parsers; the differences go to g_report. */
static void diff_one(const uint8_t *b, size_t len, const char *what, struct diff_stats *st)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b, .data_size_in = (__u32)len, .repeat = 1);
	struct ws_pkt p;
	uint64_t perr0, perr1, ev0, ev1, drop0, drop1;
	int rc, want_tcp, want_arp, nflows, nbad = 0;
	uint8_t *copy;

	/* native, on an exactly sized copy (valgrind/ASan see over-reads) */
	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, b, len);
	rc = ws_parse(copy, copy + len, &p);
	free(copy);
	assert_int_equal(rc, p.err);
	st->frames++;
	if (len < 14) {
		/* BPF_PROG_TEST_RUN refuses XDP frames shorter than Ethernet */
		st->short_frames++;
		if (p.err != WS_ERR_ETH_TRUNC)
			MISMATCH("%zu-byte frame: native err %u, want ETH_TRUNC", len, p.err);
		goto out;
	}
	want_arp = p.err == WS_OK && p.l3 == WS_L3_ARP && (p.arp_op == 1 || p.arp_op == 2);
	want_tcp = p.err == WS_OK && p.is_tcp;

	perr0 = stat_get(WS_STAT_PARSE_ERR);
	ev0 = stat_get(WS_STAT_EVENTS);
	drop0 = stat_get(WS_STAT_RB_DROPS);
	if (bpf_prog_test_run_opts(bpf_program__fd(fx.skel->progs.ws_xdp), &o))
		fail_msg("%s: BPF_PROG_TEST_RUN of %zu bytes: %s", what, len, strerror(errno));
	if (o.retval != XDP_PASS)
		MISMATCH("ws_xdp returned %u, want XDP_PASS", o.retval);
	fx.nev = 0;
	fx.bad_size = 0;
	if (ring_buffer__consume(fx.rb) < 0)
		fail_msg("ring_buffer__consume: %s", strerror(errno));
	perr1 = stat_get(WS_STAT_PARSE_ERR);
	ev1 = stat_get(WS_STAT_EVENTS);
	drop1 = stat_get(WS_STAT_RB_DROPS);
	nflows = flows_clear();

	CMP("parse error (err != OK vs PARSE_ERR delta)", p.err != WS_OK, perr1 - perr0);
	CMP("events counted vs read", ev1 - ev0, (uint64_t)fx.nev);
	CMP("ring buffer drops", 0, drop1 - drop0);
	if (fx.bad_size)
		MISMATCH("an event record of the wrong size");
	CMP("number of events", want_arp || want_tcp, fx.nev);
	CMP("flows kept", want_tcp && !(p.tcp_flags & WS_TCP_RST), nflows);
	if (p.err)
		st->perr++;
	else if (want_tcp)
		st->tcp++;
	else if (want_arp)
		st->arp++;
	else
		st->none++;
	st->flows += (unsigned int)nflows;

	if (fx.nev >= 1 && (want_arp || want_tcp)) {
		const struct ws_event *e = &fx.ev[0];
		uint32_t cap = len < 256 ? (uint32_t)len : 256;

		cap = cap < fx.skel->rodata->snaplen ? cap : fx.skel->rodata->snaplen;
		CMP("type", want_tcp ? WS_EV_TCP : WS_EV_ARP, e->type);
		CMP("dir", WS_DIR_INGRESS, e->dir);
		CMP("wire_len", len, e->wire_len);
		CMP("cap_len", cap, e->cap_len);
		if (e->cap_len <= WS_SNAP_MAX && memcmp(e->frame, b, e->cap_len))
			MISMATCH("snapshot differs from the frame");
		if (want_arp && e->type == WS_EV_ARP) {
			const struct ws_arp_ev *a = &e->arp;

			CMP("arp op", p.arp_op, a->op);
			CMP("nvlan", p.nvlan, a->nvlan);
			CMP("vlan_id[0]", p.vlan_id[0], a->vlan_id[0]);
			CMP("vlan_id[1]", p.vlan_id[1], a->vlan_id[1]);
			CMP("spa", p.spa, a->spa);
			CMP("tpa", p.tpa, a->tpa);
			if (memcmp(p.sha, a->sha, 6) || memcmp(p.tha, a->tha, 6))
				MISMATCH("sha/tha differ");
		} else if (want_tcp && e->type == WS_EV_TCP) {
			const struct ws_tcp_ev *t = &e->tcp;

			CMP("family", p.l3 == WS_L3_IPV6 ? 6 : 4, e->family);
			if (memcmp(p.saddr, t->saddr, 16) || memcmp(p.daddr, t->daddr, 16))
				MISMATCH("saddr/daddr differ");
			CMP("sport", p.sport, t->sport);
			CMP("dport", p.dport, t->dport);
			CMP("seq", p.seq, t->seq);
			CMP("ack", p.ack, t->ack);
			CMP("flags", p.tcp_flags, t->flags);
			CMP("win", p.win, t->win);
			CMP("paylen", p.paylen, t->paylen);
			CMP("ttl", p.ttl, t->ttl);
			CMP("nvlan", p.nvlan, t->nvlan);
			CMP("vlan_id[0]", p.vlan_id[0], t->vlan_id[0]);
			CMP("vlan_id[1]", p.vlan_id[1], t->vlan_id[1]);
			/*
			 * The first segment of a flow is counted once, to its
			 * sender; a RST for no known flow belongs to none.
			 */
			if (p.tcp_flags & WS_TCP_RST) {
				CMP("RST note", WS_NOTE_NO_FLOW, t->note);
				CMP("RST pkts", 0, t->pkts[0] + t->pkts[1]);
			} else {
				CMP("pkts", 1, t->pkts[0] + t->pkts[1]);
				CMP("bytes", p.paylen, t->bytes[0] + t->bytes[1]);
			}
		}
	}
out:
	if (nbad) {
		if (st->mismatches < 8) {
			report("\n");
			report_frame(b, len);
		}
		st->mismatches++;
	}
}

static void diff_done(const char *what, const struct diff_stats *st)
{
	print_message("%s: %u frames (%u shorter than 14 bytes: native only): %u parse errors, "
		      "%u TCP events, %u ARP events, %u silent, %u flows; %u mismatches\n",
		      what, st->frames, st->short_frames, st->perr, st->tcp, st->arp, st->none,
		      st->flows, st->mismatches);
	if (st->mismatches) {
		print_message("the first %u:\n%s", st->mismatches < 8 ? st->mismatches : 8, g_report);
		fail_msg("native parser and ws_xdp disagree on %u frames", st->mismatches);
	}
}

/* -------------------------------------------------------- random frames */

static const uint16_t etypes[] = { 0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x88cc, 0x0000 };
static const uint8_t nhs[] = { 0, 43, 44, 51, 60, 6, 17, 59 };

static void rnd_addr(int fam, char *buf, size_t len)
{
	if (fam == 4)
		snprintf(buf, len, "10.%u.%u.%u", rn(256), rn(256), rn(256));
	else
		snprintf(buf, len, "2001:db8:%x::%x", rn(65536), rn(65536));
}

/* A valid frame of random shape (frames.h). */
static size_t rnd_valid(uint8_t *b)
{
	char src[64], dst[64];
	struct tcpspec t;

	if (rn(8) == 0) {
		char sha[32], tha[32];

		snprintf(sha, sizeof(sha), "02:%02x:%02x:%02x:%02x:%02x", rn(256), rn(256), rn(256),
			 rn(256), rn(256));
		snprintf(tha, sizeof(tha), "02:00:00:%02x:%02x:%02x", rn(256), rn(256), rn(256));
		rnd_addr(4, src, sizeof(src));
		rnd_addr(4, dst, sizeof(dst));
		return fr_arp(b, (int)rn(4), sha, src, rn(2) ? tha : NULL, dst);
	}
	memset(&t, 0, sizeof(t));
	t.family = rn(2) ? 4 : 6;
	rnd_addr(t.family, src, sizeof(src));
	rnd_addr(t.family, dst, sizeof(dst));
	t.src = src;
	t.dst = dst;
	t.sport = (uint16_t)rn(65536);
	t.dport = (uint16_t)rn(65536);
	t.seq = (uint32_t)rnd();
	t.ack = (uint32_t)rnd();
	t.flags = (uint8_t)rnd();
	t.win = (uint16_t)rnd();
	t.paylen = (uint16_t)(rn(4) ? rn(64) : rn(600));
	t.mss = rn(2) ? (int)rn(9000) : 0;
	t.has_wscale = (int)rn(2);
	t.wscale = (int)rn(15);
	t.sack_ok = (int)rn(2);
	t.ts = (int)rn(2);
	t.tsval = (uint32_t)rnd();
	t.tsecr = (uint32_t)rnd();
	t.nvlan = (int)rn(3);
	t.vlan[0] = (uint16_t)rn(4096);
	t.vlan[1] = (uint16_t)rn(4096);
	if (t.family == 4)
		t.ip_opts = (int)(rn(3) ? 0 : 4 * rn(11));
	else
		t.ip6_ext = (int)(rn(2) ? 0 : rn(WS_MAX_IP6_EXT + 3));
	return fr_tcp(b, &t);
}

/* Damage a frame where it hurts: header bytes, lengths, next headers, cuts. */
static size_t rnd_mutate(uint8_t *b, size_t len)
{
	unsigned int i, k = 1 + rn(4);
	size_t hdr = len < 120 ? len : 120;

	for (i = 0; i < k && len; i++) {
		size_t at = rn(4) ? rn((uint32_t)hdr) : rn((uint32_t)len);

		switch (rn(9)) {
		case 0: b[at] ^= (uint8_t)(1u << rn(8)); break;
		case 1: b[at] = (uint8_t)rnd(); break;
		case 2: b[at] = (uint8_t)((b[at] & 0x0f) | rn(16) << 4); break;   /* doff, version */
		case 3: b[at] = (uint8_t)((b[at] & 0xf0) | rn(16)); break;        /* IHL */
		case 4: b[at] = nhs[rn(sizeof(nhs))]; break;                      /* protocol, nh */
		case 5: if (at + 1 < len) fr_put16(b + at, etypes[rn(7)]); break;
		case 6: if (at + 1 < len) fr_put16(b + at, (uint32_t)rn(3) ? rn(128) : rnd()); break;
		case 7: b[at] = (uint8_t)rn(4); break;                            /* small lengths */
		default: len = 14 + rn((uint32_t)(len > 14 ? len - 14 : 1)); break;   /* cut */
		}
	}
	if (rn(16) == 0 && len + 64 <= FR_BUF_MIN) {                            /* grow */
		for (i = 0; i < 64; i++)
			b[len + i] = (uint8_t)rnd();
		len += rn(65);
	}
	return len;
}

/* Random bytes under a plausible Ethernet header. */
static size_t rnd_bytes(uint8_t *b)
{
	size_t len = rn(10) ? 14 + rn(140) : rn(14), i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)rnd();
	if (len >= 14)
		fr_put16(b + 12, etypes[rn(7)]);
	if (len >= 15 && rn(2))
		b[14] = rn(2) ? 0x45 : 0x60;
	return len;
}

/* ------------------------------------------------------------------ tests */

TEST(test_corpus_up_to_date)
{
	struct seed *v = calloc(SEED_MAX, sizeof(*v));
	uint8_t *buf = malloc(FR_BUF_MIN + 1);
	char path[PBUF];
	size_t n, i;
	unsigned int bad = 0;

	assert_non_null(v);
	assert_non_null(buf);
	n = seeds_build(v);
	assert_true(n >= 30);
	for (i = 0; i < n; i++) {
		ssize_t got;

		snprintf(path, sizeof(path), "%s/%s", g_corpus, v[i].name);
		got = read_file(path, buf, FR_BUF_MIN);
		if (got != (ssize_t)v[i].len || memcmp(buf, v[i].b, v[i].len)) {
			print_message("%s: %s\n", path, got < 0 ? "missing" : "differs from its seed");
			bad++;
		}
	}
	free(v);
	free(buf);
	if (bad)
		fail_msg("%u seed files out of date: run build/tests/test_fuzzdiff --write-corpus "
			 "tests/corpus", bad);
}

TEST(test_diff_corpus)
{
	struct diff_stats st = { 0 };
	uint8_t *buf = malloc(FR_BUF_MIN + 1);
	struct dirent **names;
	int n, i;

	need_bpf();
	assert_non_null(buf);
	g_rlen = 0;
	g_report[0] = 0;
	n = scandir(g_corpus, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("%s: %s", g_corpus, strerror(errno));
	for (i = 0; i < n; i++) {
		char path[PBUF];
		ssize_t len;

		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", g_corpus, names[i]->d_name);
			len = read_file(path, buf, FR_BUF_MIN);
			if (len >= 0)
				diff_one(buf, (size_t)len, names[i]->d_name, &st);
			else
				print_message("%s: skipped (unreadable or over %d bytes)\n", path,
					      FR_BUF_MIN);
		}
		free(names[i]);
	}
	free(names);
	free(buf);
	assert_true(st.frames >= 30);
	diff_done("corpus", &st);
}

TEST(test_diff_random)
{
	struct diff_stats st = { 0 };
	struct seed *v = calloc(SEED_MAX, sizeof(*v));
	uint8_t *buf = malloc(FR_BUF_MIN + 64);
	const char *e;
	unsigned long i, n = 20000;
	uint64_t seed = 0x5eed2024u;
	size_t nseeds;
	char what[96];

	need_bpf();
	assert_non_null(v);
	assert_non_null(buf);
	if ((e = getenv("WS_FUZZDIFF_N")))
		n = strtoul(e, NULL, 0);
	if ((e = getenv("WS_FUZZDIFF_SEED")))
		seed = strtoull(e, NULL, 0);
	g_rng = seed;
	g_rlen = 0;
	g_report[0] = 0;
	nseeds = seeds_build(v);
	for (i = 0; i < n; i++) {
		size_t len;
		uint32_t kind = rn(8);

		if (kind < 2) {
			len = rnd_bytes(buf);
		} else if (kind < 5) {
			len = rnd_valid(buf);
			if (kind > 2)
				len = rnd_mutate(buf, len);
		} else {
			const struct seed *s = &v[rn((uint32_t)nseeds)];

			memcpy(buf, s->b, s->len);
			len = rnd_mutate(buf, s->len);
		}
		snprintf(what, sizeof(what), "random frame %lu (WS_FUZZDIFF_SEED=%#llx)", i,
			 (unsigned long long)seed);
		diff_one(buf, len, what, &st);
	}
	free(v);
	free(buf);
	/* the generator must reach every outcome, or the test proves little */
	assert_true(st.perr > n / 20);
	assert_true(st.tcp > n / 20);
	assert_true(st.arp > n / 200);
	assert_true(st.none > n / 20);
	assert_int_equal(stat_get(WS_STAT_PACKETS), st.frames - st.short_frames);
	diff_done("random", &st);
}

/* ------------------------------------------------------ bounded fuzz run */

static int copy_dir(const char *from, const char *to)
{
	uint8_t *buf = malloc(70000);
	struct dirent *d;
	DIR *dir = opendir(from);
	int n = 0;

	if (!dir || !buf) {
		free(buf);
		if (dir)
			closedir(dir);
		return -1;
	}
	while ((d = readdir(dir))) {
		char src[PBUF], dst[PBUF + PBUF];
		ssize_t len;

		if (d->d_name[0] == '.')
			continue;
		snprintf(src, sizeof(src), "%s/%s", from, d->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, d->d_name);
		len = read_file(src, buf, 70000 - 1);
		if (len < 0 || write_file(dst, buf, (size_t)len))
			continue;
		n++;
	}
	closedir(dir);
	free(buf);
	return n;
}

/* The value after `key` on the last line of log that has it, or "?". */
static void log_value(const char *log, const char *key, char *out, size_t len)
{
	FILE *f = fopen(log, "r");
	char line[1024];

	snprintf(out, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, key);

		if (p) {
			p += strlen(key);
			while (*p == ' ')
				p++;
			snprintf(out, len, "%.*s", (int)strcspn(p, " \n"), p);
		}
	}
	fclose(f);
}

/* The lines of the fuzzer's log that say what broke (not its stack traces). */
static void print_log_findings(const char *log)
{
	static const char *const keys[] = {
		"fuzz_parse:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
		"SUMMARY:", "Test unit written", "ERROR: libFuzzer", "input (",
	};
	FILE *f = fopen(log, "r");
	char line[1024];
	int n = 0;
	size_t i;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n < 60) {
		int show = line[0] == ' ' && line[1] == ' ' && line[2] != ' ';  /* our dumps */

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && !show; i++)
			show = strstr(line, keys[i]) != NULL;
		if (show) {
			print_message("  | %s", line);
			n++;
		}
	}
	fclose(f);
}

TEST(test_fuzz_bounded)
{
	char tmp[] = "/tmp/ws-fuzz.XXXXXX", seeds[PBUF], log[PBUF], art[PBUF];
	char a_time[64], a_log[PBUF], a_art[PBUF + 32];
	char execs[32], rate[32], cov[32], ft[32], added[32];
	const char *e = getenv("WS_FUZZ_SECONDS");
	unsigned int secs = e ? (unsigned int)strtoul(e, NULL, 0) : 20;
	int nseeds, status;
	pid_t pid;
	time_t t0;

	if (access(g_fuzzer, X_OK)) {
		print_message("skipped: %s is missing (make build/fuzz_parse; needs libclang-rt-dev)\n",
			      g_fuzzer);
		skip();
	}
	assert_non_null(mkdtemp(tmp));
	snprintf(seeds, sizeof(seeds), "%s/corpus", tmp);
	snprintf(log, sizeof(log), "%s/fuzz.log", tmp);
	snprintf(art, sizeof(art), "%s/", tmp);
	assert_int_equal(mkdir(seeds, 0700), 0);
	nseeds = copy_dir(g_corpus, seeds);
	if (nseeds < 30)
		fail_msg("copied %d seeds from %s, want >= 30", nseeds, g_corpus);

	snprintf(a_time, sizeof(a_time), "-max_total_time=%u", secs);
	snprintf(a_log, sizeof(a_log), "%s", log);
	snprintf(a_art, sizeof(a_art), "-artifact_prefix=%s", art);
	t0 = time(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(a_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		alarm(secs + 120);      /* a hung fuzzer dies by SIGALRM */
		execl(g_fuzzer, g_fuzzer, a_time, "-timeout=10", "-rss_limit_mb=2048",
		      "-print_final_stats=1", a_art, seeds, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);

	log_value(log, "stat::number_of_executed_units:", execs, sizeof(execs));
	log_value(log, "stat::average_exec_per_sec:", rate, sizeof(rate));
	log_value(log, "stat::new_units_added:", added, sizeof(added));
	log_value(log, "cov:", cov, sizeof(cov));
	log_value(log, "ft:", ft, sizeof(ft));
	print_message("fuzz_parse: %lds on %d seeds: %s execs (%s/s), coverage %s edges, "
		      "%s features, %s new inputs\n", (long)(time(NULL) - t0), nseeds, execs, rate,
		      cov, ft, added);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_message("fuzz_parse failed (%s %d):\n",
			      WIFEXITED(status) ? "exit" : "signal",
			      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		print_log_findings(log);
		fail_msg("fuzz_parse found a problem: log and crash input kept in %s "
			 "(reproduce: %s %s/crash-*)", tmp, g_fuzzer, tmp);
	}
	{
		char cmd[PBUF + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			print_message("could not remove %s\n", tmp);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_up_to_date),
		cmocka_unit_test_setup_teardown(test_diff_corpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_random, setup, teardown),
		cmocka_unit_test(test_fuzz_bounded),
	};

	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	if (argc > 1) {
		fprintf(stderr, "usage: %s [--write-corpus DIR]\n", argv[0]);
		return 2;
	}
	find_paths();
	libbpf_set_print(quiet_print);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
