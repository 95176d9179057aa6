// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/pcap.c: files written with ws_pcap_create/write/finish
 * (mode, O_EXCL, header, records) and read back with ws_pcap_open/next;
 * files crafted byte by byte (microsecond magic, the other byte order,
 * pcapng, other link types, damaged records); and, when tshark is
 * installed, a check that tshark reads what wirestate writes.
 *
 * Every test works in its own mkdtemp() directory, removed afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ws_user.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

#define T_NS (1795621577ull * 1000000000ull + 617782345ull)

/* ------------------------------------------------------------ fixture */

static char g_dir[64];
static int g_line;          /* the test line that called a checking helper */

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/ws_test_pcap.XXXXXX");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_in(const char *name)
{
	static char p[4][128];
	static int k;
	char *r = p[k++ & 3];

	snprintf(r, sizeof(p[0]), "%s/%s", g_dir, name);
	return r;
}

/* ------------------------------------------------------------ crafting files */

/* A growing byte buffer, written in either byte order. */
struct bytes {
	uint8_t b[4096];
	size_t n;
	bool big;           /* big-endian fields */
};

static void put16(struct bytes *o, uint16_t v)
{
	if (o->big) {
		o->b[o->n++] = (uint8_t)(v >> 8);
		o->b[o->n++] = (uint8_t)v;
	} else {
		o->b[o->n++] = (uint8_t)v;
		o->b[o->n++] = (uint8_t)(v >> 8);
	}
}

static void put32(struct bytes *o, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		o->b[o->n++] = (uint8_t)(o->big ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void putdata(struct bytes *o, const void *d, size_t len)
{
	memcpy(o->b + o->n, d, len);
	o->n += len;
}

static void file_header(struct bytes *o, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
	put32(o, magic);
	put16(o, 2);
	put16(o, 4);
	put32(o, 0);
	put32(o, 0);
	put32(o, snaplen);
	put32(o, linktype);
}

static void record(struct bytes *o, uint32_t sec, uint32_t frac, uint32_t cap, uint32_t orig,
		   const uint8_t *data)
{
	put32(o, sec);
	put32(o, frac);
	put32(o, cap);
	put32(o, orig);
	if (data)
		putdata(o, data, cap);
}

static bool host_big_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 0;
}

static const char *write_file(const char *name, const struct bytes *o, size_t len)
{
	const char *p = path_in(name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(o->b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
}

static void pattern(uint8_t *d, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(seed * 31 + i * 7);
}

static off_t file_size(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

/* Read the next record and check it. */
static void expect_record_(struct ws_pcap_reader *r, size_t bufsz, uint64_t ts, uint32_t cap,
			  uint32_t orig, const uint8_t *data)
{
	uint8_t buf[4096];
	uint32_t c = 0xdead, o = 0xbeef;
	uint64_t t = 1;
	char err[256] = "";
	int rc;

	assert_true(bufsz <= sizeof(buf));
	rc = ws_pcap_next(r, buf, bufsz, &c, &o, &t, err, sizeof(err));
	if (rc != 1)
		fail_msg("line %d: ws_pcap_next: %d (%s), want a record", g_line, rc, err);
	if (t != ts || c != cap || o != orig)
		fail_msg("line %d: record ts %llu caplen %u origlen %u, want ts %llu caplen %u "
			 "origlen %u", g_line, (unsigned long long)t, c, o, (unsigned long long)ts,
			 cap, orig);
	if (memcmp(buf, data, cap) != 0)
		fail_msg("line %d: record data differ", g_line);
}

static void expect_end_(struct ws_pcap_reader *r)
{
	uint8_t buf[64];
	uint32_t c, o;
	uint64_t t;
	char err[256] = "";
	int rc = ws_pcap_next(r, buf, sizeof(buf), &c, &o, &t, err, sizeof(err));

	if (rc != 0)
		fail_msg("line %d: ws_pcap_next: %d (%s), want the end of the file", g_line, rc, err);
}

/* ws_pcap_next must fail with an explanation. */
static void expect_damage_(struct ws_pcap_reader *r, size_t bufsz, const char *why)
{
	uint8_t buf[4096];
	uint32_t c, o;
	uint64_t t;
	char err[256] = "";
	int rc = ws_pcap_next(r, buf, bufsz, &c, &o, &t, err, sizeof(err));

	if (rc != -1)
		fail_msg("line %d: ws_pcap_next on %s: %d, want -1", g_line, why, rc);
	if (!err[0])
		fail_msg("line %d: ws_pcap_next on %s: no error message", g_line, why);
}

static void open_ok_(struct ws_pcap_reader *r, const char *p)
{
	char err[256] = "";

	if (ws_pcap_open(r, p, err, sizeof(err)) != 0)
		fail_msg("line %d: ws_pcap_open(%s): %s", g_line, p, err);
	assert_non_null(r->f);
}

/* ws_pcap_open must refuse the file, saying something that contains `want`. */
static void open_refused_(const char *p, const char *want)
{
	struct ws_pcap_reader r;
	char err[256] = "";

	memset(&r, 0xa5, sizeof(r));
	if (ws_pcap_open(&r, p, err, sizeof(err)) != -1)
		fail_msg("line %d: ws_pcap_open(%s) accepted the file, want it refused (%s)", g_line,
			 p, want);
	assert_null(r.f);
	if (!strstr(err, want))
		fail_msg("line %d: ws_pcap_open(%s): \"%s\" does not mention \"%s\"", g_line, p, err,
			 want);
}

#define expect_record(...) do { g_line = __LINE__; expect_record_(__VA_ARGS__); } while (0)
#define expect_end(...) do { g_line = __LINE__; expect_end_(__VA_ARGS__); } while (0)
#define expect_damage(...) do { g_line = __LINE__; expect_damage_(__VA_ARGS__); } while (0)
#define open_ok(...) do { g_line = __LINE__; open_ok_(__VA_ARGS__); } while (0)
#define open_refused(...) do { g_line = __LINE__; open_refused_(__VA_ARGS__); } while (0)

/* ------------------------------------------------------------ writing */

struct rec {
	uint64_t ts;
	uint32_t cap, orig;
	uint8_t data[256];
};

static void write_records(const char *p, const struct rec *recs, int n)
{
	struct ws_pcap_writer w;

	assert_int_equal(ws_pcap_create(&w, p, WS_SNAP_MAX, false), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(ws_pcap_write(&w, recs[i].ts, recs[i].data, recs[i].cap,
					       recs[i].orig), 0);
	assert_int_equal(ws_pcap_finish(&w), 0);
	assert_null(w.f);
	assert_int_equal(ws_pcap_finish(&w), 0);         /* twice is harmless */
}

static struct rec g_recs[4];

static void make_records(void)
{
	static const struct { uint64_t ts; uint32_t cap, orig; } r[4] = {
		{ T_NS, 60, 60 },
		{ T_NS + 1, WS_SNAP_DEFAULT, 1514 },   /* a snapshot of a longer frame */
		{ 0, 14, 14 },
		{ 4294967295ull * 1000000000ull + 999999999ull, WS_SNAP_MAX, 65535 },
	};

	for (int i = 0; i < 4; i++) {
		g_recs[i].ts = r[i].ts;
		g_recs[i].cap = r[i].cap;
		g_recs[i].orig = r[i].orig;
		pattern(g_recs[i].data, r[i].cap, (unsigned int)i);
	}
}

TEST(test_roundtrip)
{
	const char *p = path_in("out.pcap");
	struct ws_pcap_reader r;
	uint8_t hdr[24];
	uint32_t u32;
	uint16_t u16;
	struct stat st;
	FILE *f;

	make_records();
	umask(0);                       /* the mode must not depend on the umask */
	write_records(p, g_recs, 4);
	umask(022);

	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 24 + 4 * 16 + 60 + WS_SNAP_DEFAULT + 14 + WS_SNAP_MAX);

	/* the file header, in the writer's byte order: nanosecond magic, 2.4, Ethernet */
	f = fopen(p, "rb");
	assert_non_null(f);
	assert_int_equal(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	fclose(f);
	memcpy(&u32, hdr, 4);
	assert_int_equal(u32, 0xa1b23c4d);
	memcpy(&u16, hdr + 4, 2);
	assert_int_equal(u16, 2);
	memcpy(&u16, hdr + 6, 2);
	assert_int_equal(u16, 4);
	memcpy(&u32, hdr + 8, 4);
	assert_int_equal(u32, 0);
	memcpy(&u32, hdr + 12, 4);
	assert_int_equal(u32, 0);
	memcpy(&u32, hdr + 16, 4);
	assert_int_equal(u32, WS_SNAP_MAX);
	memcpy(&u32, hdr + 20, 4);
	assert_int_equal(u32, 1);

	open_ok(&r, p);
	assert_true(r.nsec);
	assert_false(r.swapped);
	assert_int_equal(r.linktype, 1);
	assert_int_equal(r.snaplen, WS_SNAP_MAX);
	for (int i = 0; i < 4; i++)
		expect_record(&r, 4096, g_recs[i].ts, g_recs[i].cap, g_recs[i].orig,
			      g_recs[i].data);
	expect_end(&r);
	expect_end(&r);
	ws_pcap_close(&r);
	assert_null(r.f);
	ws_pcap_close(&r);              /* twice is harmless */
}

TEST(test_origlen_never_below_caplen)
{
	const char *p = path_in("o.pcap");
	struct ws_pcap_reader r;
	struct rec rec = { .ts = 5, .cap = 40, .orig = 0 };

	pattern(rec.data, 40, 9);
	write_records(p, &rec, 1);
	open_ok(&r, p);
	expect_record(&r, 4096, 5, 40, 40, rec.data);
	expect_end(&r);
	ws_pcap_close(&r);
}

TEST(test_create_exclusive)
{
	const char *p = path_in("x.pcap");
	const char *target = path_in("target.pcap");
	const char *link = path_in("link.pcap");
	struct ws_pcap_writer w;
	struct ws_pcap_reader r;
	off_t size;

	make_records();
	write_records(p, g_recs, 2);
	size = file_size(p);

	/* a file that exists is refused, and left as it was */
	assert_int_equal(ws_pcap_create(&w, p, WS_SNAP_MAX, false), -EEXIST);
	assert_null(w.f);
	assert_int_equal(file_size(p), size);

	/* so is a symbolic link, even a dangling one: nothing is created through it */
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(ws_pcap_create(&w, link, WS_SNAP_MAX, false), -EEXIST);
	assert_int_equal(access(target, F_OK), -1);

	/* a directory that does not exist */
	assert_int_equal(ws_pcap_create(&w, path_in("no/such.pcap"), WS_SNAP_MAX, false),
			 -ENOENT);

	/* overwrite replaces the contents */
	assert_int_equal(ws_pcap_create(&w, p, 64, true), 0);
	assert_int_equal(ws_pcap_write(&w, 7, g_recs[2].data, 14, 14), 0);
	assert_int_equal(ws_pcap_finish(&w), 0);
	assert_int_equal(file_size(p), 24 + 16 + 14);
	open_ok(&r, p);
	assert_int_equal(r.snaplen, 64);
	expect_record(&r, 4096, 7, 14, 14, g_recs[2].data);
	expect_end(&r);
	ws_pcap_close(&r);
}

TEST(test_empty_capture)
{
	const char *p = path_in("empty.pcap");
	struct ws_pcap_reader r;

	write_records(p, NULL, 0);
	assert_int_equal(file_size(p), 24);
	open_ok(&r, p);
	expect_end(&r);
	ws_pcap_close(&r);
}

/* ------------------------------------------------------------ reading crafted files */

static void crafted_roundtrip(bool big, bool nsec)
{
	struct bytes o = { .big = big };
	struct ws_pcap_reader r;
	uint8_t d1[60], d2[42];
	const char *p;

	pattern(d1, sizeof(d1), 1);
	pattern(d2, sizeof(d2), 2);
	file_header(&o, nsec ? 0xa1b23c4d : 0xa1b2c3d4, 65535, 1);
	record(&o, 100, 5, sizeof(d1), 1514, d1);
	record(&o, 1795621577, nsec ? 999999999 : 999999, sizeof(d2), sizeof(d2), d2);
	p = write_file("c.pcap", &o, o.n);

	open_ok(&r, p);
	assert_int_equal(r.swapped, big != host_big_endian());
	assert_int_equal(r.nsec, nsec);
	assert_int_equal(r.snaplen, 65535);
	assert_int_equal(r.linktype, 1);
	expect_record(&r, 4096, 100000000000ull + (nsec ? 5 : 5000), sizeof(d1), 1514, d1);
	expect_record(&r, 4096, 1795621577000000000ull + (nsec ? 999999999 : 999999000),
		      sizeof(d2), sizeof(d2), d2);
	expect_end(&r);
	ws_pcap_close(&r);
}

TEST(test_read_usec_magic)
{
	crafted_roundtrip(host_big_endian(), false);
}

TEST(test_read_swapped)
{
	crafted_roundtrip(!host_big_endian(), false);
	crafted_roundtrip(!host_big_endian(), true);
}

TEST(test_linktype_fcs_bits)
{
	/* the upper bits of the link type field describe an FCS; Ethernet it stays */
	struct bytes o = { .big = host_big_endian() };
	struct ws_pcap_reader r;

	file_header(&o, 0xa1b2c3d4, 65535, 0x10000001);
	open_ok(&r, write_file("fcs.pcap", &o, o.n));
	assert_int_equal(r.linktype, 1);
	ws_pcap_close(&r);
}

TEST(test_reject_pcapng)
{
	/* a section header block: type, length, byte-order magic, version 1.0 */
	struct bytes o = { .big = host_big_endian() };

	put32(&o, 0x0a0d0d0a);
	put32(&o, 28);
	put32(&o, 0x1a2b3c4d);
	put16(&o, 1);
	put16(&o, 0);
	put32(&o, 0xffffffff);
	put32(&o, 0xffffffff);
	put32(&o, 28);
	open_refused(write_file("x.pcapng", &o, o.n), "pcapng");
}

TEST(test_reject_other_files)
{
	struct bytes o = { .big = host_big_endian() };

	/* not Ethernet: raw IP (101), Linux cooked capture (113), 802.11 (105) */
	file_header(&o, 0xa1b2c3d4, 65535, 101);
	open_refused(write_file("raw.pcap", &o, o.n), "101");
	o.n = 0;
	file_header(&o, 0xa1b23c4d, 65535, 113);
	open_refused(write_file("sll.pcap", &o, o.n), "113");
	o.n = 0;
	o.big = !o.big;
	file_header(&o, 0xa1b2c3d4, 65535, 105);
	open_refused(write_file("wifi.pcap", &o, o.n), "105");

	/* not pcap at all */
	o.n = 0;
	putdata(&o, "GIF89a this is not a capture file", 33);
	open_refused(write_file("gif", &o, o.n), "not a pcap file");
	/* shorter than a file header */
	o.n = 0;
	o.big = host_big_endian();
	file_header(&o, 0xa1b2c3d4, 65535, 1);
	open_refused(write_file("short.pcap", &o, 23), "too short");
	open_refused(write_file("zero.pcap", &o, 0), "too short");
	/* no such file */
	open_refused(path_in("missing.pcap"), "No such file");
}

/* ------------------------------------------------------------ damaged records */

TEST(test_truncated_record_header)
{
	struct bytes o = { .big = host_big_endian() };
	struct ws_pcap_reader r;
	uint8_t d[60];
	size_t whole;

	pattern(d, sizeof(d), 3);
	file_header(&o, 0xa1b2c3d4, 65535, 1);
	record(&o, 1, 2, sizeof(d), sizeof(d), d);
	whole = o.n;
	record(&o, 1, 3, sizeof(d), sizeof(d), d);
	/* every cut inside the second record's header */
	for (size_t cut = 1; cut < 16; cut++) {
		open_ok(&r, write_file("th.pcap", &o, whole + cut));
		expect_record(&r, 4096, 1000002000, sizeof(d), sizeof(d), d);
		expect_damage(&r, 4096, "a cut record header");
		ws_pcap_close(&r);
	}
}

TEST(test_truncated_record_data)
{
	struct bytes o = { .big = host_big_endian() };
	struct ws_pcap_reader r;
	uint8_t d[100];

	pattern(d, sizeof(d), 4);
	file_header(&o, 0xa1b2c3d4, 65535, 1);
	record(&o, 1, 2, sizeof(d), sizeof(d), d);
	for (size_t cut = 0; cut < sizeof(d); cut += 9) {
		open_ok(&r, write_file("td.pcap", &o, 24 + 16 + cut));
		expect_damage(&r, 4096, "cut record data");
		ws_pcap_close(&r);
	}
}

TEST(test_bad_record_fields)
{
	struct bytes o = { .big = host_big_endian() };
	struct ws_pcap_reader r;
	uint8_t d[16] = { 0 };

	/* a record larger than any snap length */
	file_header(&o, 0xa1b2c3d4, 65535, 1);
	record(&o, 1, 0, 262145, 262145, NULL);
	putdata(&o, d, sizeof(d));
	open_ok(&r, write_file("big.pcap", &o, o.n));
	expect_damage(&r, 4096, "a 262145-byte record");
	ws_pcap_close(&r);

	/* microseconds out of range */
	o.n = 0;
	file_header(&o, 0xa1b2c3d4, 65535, 1);
	record(&o, 1, 1000000, sizeof(d), sizeof(d), d);
	open_ok(&r, write_file("us.pcap", &o, o.n));
	expect_damage(&r, 4096, "usec 1000000");
	ws_pcap_close(&r);

	/* nanoseconds out of range; 999999 is fine there */
	o.n = 0;
	file_header(&o, 0xa1b23c4d, 65535, 1);
	record(&o, 1, 1000000, sizeof(d), sizeof(d), d);
	record(&o, 1, 1000000000, sizeof(d), sizeof(d), d);
	open_ok(&r, write_file("ns.pcap", &o, o.n));
	expect_record(&r, 4096, 1001000000, sizeof(d), sizeof(d), d);
	expect_damage(&r, 4096, "nsec 1000000000");
	ws_pcap_close(&r);
}

/* A record bigger than the caller's buffer: its prefix, then the next record. */
TEST(test_record_bigger_than_buffer)
{
	struct bytes o = { .big = host_big_endian() };
	struct ws_pcap_reader r;
	uint8_t d1[100], d2[30];

	pattern(d1, sizeof(d1), 5);
	pattern(d2, sizeof(d2), 6);
	file_header(&o, 0xa1b2c3d4, 65535, 1);
	record(&o, 1, 0, sizeof(d1), 1500, d1);
	record(&o, 2, 0, sizeof(d2), sizeof(d2), d2);
	open_ok(&r, write_file("bb.pcap", &o, o.n));
	expect_record(&r, 40, 1000000000, 40, 1500, d1);
	expect_record(&r, 40, 2000000000, sizeof(d2), sizeof(d2), d2);
	expect_end(&r);
	ws_pcap_close(&r);

	/* exactly the buffer's size */
	open_ok(&r, write_file("bb.pcap", &o, o.n));
	expect_record(&r, 100, 1000000000, 100, 1500, d1);
	ws_pcap_close(&r);
}

/*
 * The same, when the file ends inside the part of the record that does not
 * fit: the file is damaged, as when the record fits.
 */
TEST(test_record_bigger_than_buffer_truncated)
{
	struct bytes o = { .big = host_big_endian() };
	struct ws_pcap_reader r;
	uint8_t d1[100];
	uint8_t buf[64];
	uint32_t c, l;
	uint64_t t;
	char err[256] = "";
	int rc1, rc2;

	pattern(d1, sizeof(d1), 7);
	file_header(&o, 0xa1b2c3d4, 65535, 1);
	record(&o, 1, 0, sizeof(d1), sizeof(d1), d1);
	open_ok(&r, write_file("bt.pcap", &o, 24 + 16 + 60));
	/* the damage shows on this record or, at the latest, on the next call */
	rc1 = ws_pcap_next(&r, buf, 40, &c, &l, &t, err, sizeof(err));
	rc2 = rc1 == 1 ? ws_pcap_next(&r, buf, 40, &c, &l, &t, err, sizeof(err)) : rc1;
	ws_pcap_close(&r);
	if (rc2 != -1)
		fail_msg("a file cut inside an oversized record reads as %d then %d (%s), "
			 "want -1", rc1, rc2, err[0] ? err : "no error");
}

/* A pipe cannot seek: an oversized record read from one is skipped all the same. */
TEST(test_record_bigger_than_buffer_from_pipe)
{
	struct bytes o = { .big = host_big_endian() };
	struct ws_pcap_reader r;
	const char *fifo = path_in("fifo");
	uint8_t d1[100], d2[30];
	pid_t pid;
	int status;

	pattern(d1, sizeof(d1), 8);
	pattern(d2, sizeof(d2), 9);
	file_header(&o, 0xa1b2c3d4, 65535, 1);
	record(&o, 1, 0, sizeof(d1), sizeof(d1), d1);
	record(&o, 2, 0, sizeof(d2), sizeof(d2), d2);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(fifo, O_WRONLY);

		_exit(fd >= 0 && write(fd, o.b, o.n) == (ssize_t)o.n ? 0 : 1);
	}
	open_ok(&r, fifo);
	expect_record(&r, 40, 1000000000, 40, sizeof(d1), d1);
	expect_record(&r, 40, 2000000000, sizeof(d2), sizeof(d2), d2);
	expect_end(&r);
	ws_pcap_close(&r);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ------------------------------------------------------------ other readers */

TEST(test_tshark_reads_it)
{
	const char *p = path_in("t.pcap");
	char cmd[512], out[256] = "";
	size_t n;
	FILE *f;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		print_message("note: tshark is not installed; not checking that it reads our files\n");
		return;
	}
	make_records();
	write_records(p, g_recs, 3);
	/* stderr dropped: as root tshark warns about running as root */
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r '%s' -T fields -e frame.len -e frame.cap_len -e frame.time_epoch "
		 "2>/dev/null", p);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	assert_int_equal(pclose(f), 0);
	assert_string_equal(out,
			    "60\t60\t1795621577.617782345\n"
			    "1514\t128\t1795621577.617782346\n"
			    "14\t14\t0.000000000\n");
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_roundtrip),
		T(test_origlen_never_below_caplen),
		T(test_create_exclusive),
		T(test_empty_capture),
		T(test_read_usec_magic),
		T(test_read_swapped),
		T(test_linktype_fcs_bits),
		T(test_reject_pcapng),
		T(test_reject_other_files),
		T(test_truncated_record_header),
		T(test_truncated_record_data),
		T(test_bad_record_fields),
		T(test_record_bigger_than_buffer),
		T(test_tshark_reads_it),
		/*
		 * Fail while ws_pcap_next() skips the rest of an oversized record
		 * with fseek(): that succeeds past the end of a truncated file and
		 * fails on a pipe.
		 */
		T(test_record_bigger_than_buffer_truncated),
		T(test_record_bigger_than_buffer_from_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
