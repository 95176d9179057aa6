/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The short names the test programs share: a cmocka test's signature, the
 * two roles, the TCP flags, the notes of an acceptable ack of a SYN / FIN,
 * and the two initial sequence numbers of the scripted connections.
 * Include after ws_event.h or ws_fsm.h (which define WS_CLIENT etc.).
 */
#ifndef WS_TESTS_WSTEST_H
#define WS_TESTS_WSTEST_H

#include <stdio.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

#define C WS_CLIENT
#define S WS_SERVER

#define SYN WS_TCP_SYN
#define ACK WS_TCP_ACK
#define FIN WS_TCP_FIN
#define RST WS_TCP_RST
#define PSH WS_TCP_PSH

/* notes every acceptable ack of a SYN / FIN carries */
#define A_SYN WS_NOTE_ACKS_SYN
#define A_FIN WS_NOTE_ACKS_FIN

#define CISN 1000u      /* client's initial sequence number */
#define SISN 5000u      /* server's */

/* WS_NOTE_* bits as "ACKS_SYN|RETRANS", "0" for none: readable failure messages */
static __attribute__((unused)) const char *notes_str(unsigned int n, char *buf, size_t len)
{
	static const char *const names[8] = {
		"RETRANS", "BAD_ACK", "UNEXPECTED", "NO_FLOW",
		"PICKUP", "REUSED", "ACKS_SYN", "ACKS_FIN",
	};
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; i < 8; i++)
		if (n & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "|" : "",
						names[i]);
	if (!n)
		snprintf(buf, len, "0");
	return buf;
}

#endif /* WS_TESTS_WSTEST_H */
