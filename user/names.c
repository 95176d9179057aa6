// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "sbuf.h"
#include "ws_user.h"

static const char *const state_names[WS_ST__MAX] = {
	[WS_ST_NONE] = "UNKNOWN",
	[WS_ST_CLOSED] = "CLOSED",
	[WS_ST_LISTEN] = "LISTEN",
	[WS_ST_SYN_SENT] = "SYN_SENT",
	[WS_ST_SYN_RECEIVED] = "SYN_RECEIVED",
	[WS_ST_ESTABLISHED] = "ESTABLISHED",
	[WS_ST_FIN_WAIT_1] = "FIN_WAIT_1",
	[WS_ST_FIN_WAIT_2] = "FIN_WAIT_2",
	[WS_ST_CLOSE_WAIT] = "CLOSE_WAIT",
	[WS_ST_CLOSING] = "CLOSING",
	[WS_ST_LAST_ACK] = "LAST_ACK",
	[WS_ST_TIME_WAIT] = "TIME_WAIT",
};

const char *ws_state_name(uint8_t st)
{
	return st < WS_ST__MAX ? state_names[st] : "INVALID";
}

const char *ws_role_name(uint8_t role)
{
	return role == WS_CLIENT ? "client" : "server";
}

void ws_tcp_flags_str(uint8_t flags, char *buf, size_t len)
{
	static const struct { uint8_t bit; char c; } map[] = {
		{ WS_TCP_SYN, 'S' }, { WS_TCP_FIN, 'F' }, { WS_TCP_RST, 'R' },
		{ WS_TCP_PSH, 'P' }, { WS_TCP_URG, 'U' }, { WS_TCP_ECE, 'E' },
		{ WS_TCP_CWR, 'W' }, { WS_TCP_ACK, '.' },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && n + 1 < len; i++)
		if (flags & map[i].bit)
			buf[n++] = map[i].c;
	if (n == 0 && len > 4) {
		strcpy(buf, "none");
		return;
	}
	if (len)
		buf[n < len ? n : len - 1] = '\0';
}

/* inet_ntop's text; "?" (cut to len) when it does not fit, as inet_ntop then fails */
void ws_addr_str(int family, const uint32_t *addr, char *buf, size_t len)
{
	if (family != 6) {
		char a[16];
		struct sbuf sb;

		sb_init(&sb, a, sizeof(a), NULL);
		sb_ipv4(&sb, addr);
		if (sb.len < len) {
			memcpy(buf, a, sb.len);
			buf[sb.len] = '\0';
			return;
		}
	} else if (inet_ntop(AF_INET6, addr, buf, (socklen_t)len)) {
		return;
	}
	if (len > 1)
		memcpy(buf, "?", 2);
	else if (len)
		buf[0] = '\0';
}

void ws_mac_str(const uint8_t *m, char *buf, size_t len)
{
	struct sbuf sb;

	sb_init(&sb, buf, len, NULL);
	sb_mac(&sb, m);
	sb_cstr(&sb);
}

/* "172.17.0.2:36922" or "[fd00::2]:36922" */
void ws_endpoint_str(int family, const uint32_t *addr, uint16_t port, char *buf, size_t len)
{
	struct sbuf sb;

	sb_init(&sb, buf, len, NULL);
	sb_endpoint(&sb, family, addr, port);
	sb_cstr(&sb);
}

/* Add to a bpf_ktime_get_ns() value (CLOCK_MONOTONIC) to get wall-clock ns. */
int64_t ws_mono_to_real_offset(void)
{
	struct timespec m1, r, m2;

	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	int64_t mono = ((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec +
			(int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec) / 2;
	return (int64_t)r.tv_sec * 1000000000 + r.tv_nsec - mono;
}
