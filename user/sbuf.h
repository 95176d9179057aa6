/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An append-only string builder for the event writer (format.c): each event's
 * lines are built in a buffer on the stack and leave in one fwrite().  No
 * printf: in a connection storm (~100k events/s) its machinery was most of
 * wirestate's user time, the writer fell behind and the ring buffer lost events.
 *
 * Like snprintf, a builder over cap bytes holds at most cap - 1 of them, so
 * that sb_cstr() can end them with a NUL.  What does not fit is cut off,
 * unless the builder has a sink: then a full buffer is written to the sink
 * and building goes on, so an event is never cut however long it gets.
 */
#ifndef WS_SBUF_H
#define WS_SBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

/* the builder one event's lines go to (-DSB_EVENT_CAP=1 tests the sink) */
#ifndef SB_EVENT_CAP
#define SB_EVENT_CAP 8192
#endif

struct sbuf {
	char *p;
	size_t len;                /* bytes held in p */
	size_t cap;                /* size of p: at most cap - 1 bytes are held */
	size_t flushed;            /* bytes already written to the sink */
	FILE *sink;                /* NULL: cut off what does not fit */
};

static inline void sb_init(struct sbuf *sb, char *p, size_t cap, FILE *sink)
{
	sb->p = p;
	sb->len = 0;
	sb->cap = cap;
	sb->flushed = 0;
	sb->sink = sink;
}

static inline size_t sb_room(const struct sbuf *sb)
{
	return sb->cap ? sb->cap - 1 - sb->len : 0;
}

/* Bytes appended so far, those already written to the sink included. */
static inline size_t sb_pos(const struct sbuf *sb)
{
	return sb->flushed + sb->len;
}

/* The bytes held, NUL-terminated (nothing is written when cap is 0). */
static inline char *sb_cstr(struct sbuf *sb)
{
	if (sb->cap)
		sb->p[sb->len] = '\0';
	return sb->p;
}

/* Write what is held to the sink, if there is one (a single fwrite). */
static inline void sb_flush(struct sbuf *sb)
{
	if (!sb->sink || !sb->len)
		return;
	fwrite(sb->p, 1, sb->len, sb->sink);
	sb->flushed += sb->len;
	sb->len = 0;
}

/* n bytes that do not fit in the room left. */
static inline void sb_mem_slow(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->sink) {
		sb_flush(sb);
		if (n > sb_room(sb)) {
			fwrite(s, 1, n, sb->sink);
			sb->flushed += n;
			return;
		}
	} else if (n > sb_room(sb)) {
		n = sb_room(sb);
	}
	if (n) {
		memcpy(sb->p + sb->len, s, n);
		sb->len += n;
	}
}

static inline void sb_mem(struct sbuf *sb, const char *s, size_t n)
{
	if (__builtin_expect(n > sb_room(sb), 0)) {
		sb_mem_slow(sb, s, n);
		return;
	}
	if (n) {
		memcpy(sb->p + sb->len, s, n);
		sb->len += n;
	}
}

/*
 * The first n <= 16 bytes of t[16]: with room for 16, one fixed 16-byte copy
 * the compiler inlines, not a call to memcpy for a few digits.  The bytes
 * after the n are overwritten too, but not held: sb_cstr() ends before them.
 */
static inline void sb_small(struct sbuf *sb, const char t[16], size_t n)
{
	if (__builtin_expect(sb_room(sb) < 16, 0)) {
		sb_mem(sb, t, n);
		return;
	}
	memcpy(sb->p + sb->len, t, 16);
	sb->len += n;
}

static inline void sb_str(struct sbuf *sb, const char *s)
{
	sb_mem(sb, s, strlen(s));
}

/* A string literal: its length is known at compile time. */
#define sb_lit(sb, lit) sb_mem((sb), "" lit, sizeof(lit) - 1)

static inline void sb_ch(struct sbuf *sb, char c)
{
	if (__builtin_expect(sb_room(sb) == 0, 0)) {
		sb_mem_slow(sb, &c, 1);
		return;
	}
	sb->p[sb->len++] = c;
}

/* n spaces: printf's "%*s" with "". */
static inline void sb_pad(struct sbuf *sb, size_t n)
{
	static const char sp[] = "                                                                ";

	while (n) {
		size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;

		sb_mem(sb, sp, k);
		n -= k;
	}
}

/* printf's "%-*s": s, then spaces up to width. */
static inline void sb_str_left(struct sbuf *sb, const char *s, size_t width)
{
	size_t n = strlen(s);

	sb_mem(sb, s, n);
	if (n < width)
		sb_pad(sb, width - n);
}

/* printf's "%*s": spaces up to width, then s. */
static inline void sb_str_right(struct sbuf *sb, const char *s, size_t width)
{
	size_t n = strlen(s);

	if (n < width)
		sb_pad(sb, width - n);
	sb_mem(sb, s, n);
}

static const char sb_digits2[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Decimal digits of v. */
static inline unsigned sb_ndigits(uint32_t v)
{
	unsigned n = 1;

	for (;;) {
		if (v < 10)
			return n;
		if (v < 100)
			return n + 1;
		if (v < 1000)
			return n + 2;
		if (v < 10000)
			return n + 3;
		v /= 10000;
		n += 4;
	}
}

/* v in decimal at t, at least width digits (zero-padded, width <= 10); the length */
static inline size_t sb_fmt_u32(char *t, uint32_t v, unsigned width)
{
	unsigned n = sb_ndigits(v), i;

	if (n < width) {
		memset(t, '0', width - n);
		t += width - n;
	}
	i = n;
	while (v >= 100) {
		unsigned r = v % 100;

		v /= 100;
		i -= 2;
		memcpy(t + i, sb_digits2 + 2 * r, 2);
	}
	if (v >= 10)
		memcpy(t, sb_digits2 + 2 * v, 2);
	else
		t[0] = (char)('0' + v);
	return n < width ? width : n;
}

/* "%u", and "%0*u": zero-padded to width digits (at most 10) */
static inline void sb_u32_w(struct sbuf *sb, uint32_t v, unsigned width)
{
	char t[16] = { 0 };

	sb_small(sb, t, sb_fmt_u32(t, v, width < 10 ? width : 10));
}

static inline void sb_u32(struct sbuf *sb, uint32_t v)
{
	sb_u32_w(sb, v, 0);
}

/* "%" PRIu64 */
static inline void sb_u64(struct sbuf *sb, uint64_t v)
{
	char t[20];
	size_t n;

	if (v <= UINT32_MAX) {
		sb_u32(sb, (uint32_t)v);
		return;
	}
	/* the high digits, then groups of 9, zero-padded (v / 1e9 can need 35 bits) */
	if (v / 1000000000u <= UINT32_MAX) {
		n = sb_fmt_u32(t, (uint32_t)(v / 1000000000u), 0);
	} else {
		n = sb_fmt_u32(t, (uint32_t)(v / 1000000000000000000u), 0);
		n += sb_fmt_u32(t + n, (uint32_t)(v / 1000000000u % 1000000000u), 9);
	}
	n += sb_fmt_u32(t + n, (uint32_t)(v % 1000000000u), 9);
	sb_mem(sb, t, n);
}

/* The dotted quad of an IPv4 address in network order (inet_ntop's). */
static inline void sb_ipv4(struct sbuf *sb, const void *addr)
{
	const uint8_t *b = addr;
	char t[16] = { 0 };
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (i)
			t[n++] = '.';
		if (v >= 100) {
			t[n++] = (char)('0' + v / 100);
			v %= 100;
			t[n++] = (char)('0' + v / 10);
		} else if (v >= 10) {
			t[n++] = (char)('0' + v / 10);
		}
		t[n++] = (char)('0' + v % 10);
	}
	sb_small(sb, t, n);
}

/* An address the way ws_addr_str() writes it: family 6 is IPv6, any other IPv4. */
static inline void sb_addr(struct sbuf *sb, int family, const uint32_t *addr)
{
	char a[INET6_ADDRSTRLEN];

	if (family != 6) {
		sb_ipv4(sb, addr);
		return;
	}
	if (!inet_ntop(AF_INET6, addr, a, sizeof(a)))
		sb_ch(sb, '?');
	else
		sb_str(sb, a);
}

/* "172.17.0.2:36922" or "[fd00::2]:36922" */
static inline void sb_endpoint(struct sbuf *sb, int family, const uint32_t *addr, uint16_t port)
{
	if (family == 6)
		sb_ch(sb, '[');
	sb_addr(sb, family, addr);
	if (family == 6)
		sb_ch(sb, ']');
	sb_ch(sb, ':');
	sb_u32(sb, port);
}

/* "02:42:ac:11:00:02" */
static inline void sb_mac(struct sbuf *sb, const uint8_t *m)
{
	static const char hex[] = "0123456789abcdef";
	char t[17];

	for (int i = 0; i < 6; i++) {
		t[i * 3] = hex[m[i] >> 4];
		t[i * 3 + 1] = hex[m[i] & 15];
		if (i < 5)
			t[i * 3 + 2] = ':';
	}
	sb_mem(sb, t, sizeof(t));
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 if there is none. */
static inline int sb_utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80 ||
		    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * str as a JSON string (RFC 8259: UTF-8), quotes included: '"' and '\' are
 * escaped with a backslash, control characters and every byte that does not
 * start well-formed UTF-8 are written as \u00xx, the rest as it is.  At most
 * max bytes are appended, the closing quote included: the rest is cut off,
 * wherever that falls (ws_json_esc() into cap bytes is max = cap - 1).
 */
static inline void sb_json_esc(struct sbuf *sb, const char *str, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;

#define SB_PUT(ptr, k) do { size_t k_ = (k); if (k_ > max) k_ = max; \
			    sb_mem(sb, (const char *)(ptr), k_); max -= k_; } while (0)
	SB_PUT("\"", 1);
	while (*s && max) {
		const unsigned char *run = s;
		char esc[6];

		/* the bytes that go as they are: printable ASCII */
		while (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
			s++;
		if (s != run) {
			SB_PUT(run, (size_t)(s - run));
			continue;
		}
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s++;
			SB_PUT(esc, 2);
		} else if (*s < 0x20 || sb_utf8_len(s) == 0) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*s >> 4];
			esc[5] = hex[*s & 15];
			s++;
			SB_PUT(esc, 6);
		} else {
			int u = sb_utf8_len(s);

			SB_PUT(s, (size_t)u);
			s += u;
		}
	}
	SB_PUT("\"", 1);
#undef SB_PUT
}

#endif /* WS_SBUF_H */
