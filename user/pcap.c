// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Classic pcap files: reading captures for -r, writing control frames. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ws_user.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define LINKTYPE_ETHERNET 1
#define PCAP_MAX_SNAP 262144u

static uint32_t sw32(uint32_t v, bool swap)
{
	return swap ? __builtin_bswap32(v) : v;
}

int ws_pcap_open(struct ws_pcap_reader *r, const char *path, char *err, size_t errlen)
{
	uint32_t h[6];

	memset(r, 0, sizeof(*r));
	r->f = fopen(path, "rb");
	if (!r->f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(h, 1, sizeof(h), r->f) != sizeof(h)) {
		snprintf(err, errlen, "%s: too short for a pcap file header", path);
		goto fail;
	}
	if (h[0] == PCAP_MAGIC_US || h[0] == PCAP_MAGIC_NS) {
		r->swapped = false;
	} else if (h[0] == __builtin_bswap32(PCAP_MAGIC_US) || h[0] == __builtin_bswap32(PCAP_MAGIC_NS)) {
		r->swapped = true;
	} else if (h[0] == 0x0a0d0d0au) {
		snprintf(err, errlen, "%s: pcapng is not supported; convert it with "
			 "'editcap -F pcap in.pcapng out.pcap'", path);
		goto fail;
	} else {
		snprintf(err, errlen, "%s: not a pcap file (magic 0x%08x)", path, h[0]);
		goto fail;
	}
	r->nsec = sw32(h[0], r->swapped) == PCAP_MAGIC_NS;
	r->snaplen = sw32(h[4], r->swapped);
	r->linktype = sw32(h[5], r->swapped) & 0x0fffffff;
	if (r->linktype != LINKTYPE_ETHERNET) {
		snprintf(err, errlen, "%s: link type %u is not Ethernet (1); only Ethernet "
			 "captures can be replayed through the XDP program", path, r->linktype);
		goto fail;
	}
	return 0;
fail:
	fclose(r->f);
	r->f = NULL;
	return -1;
}

int ws_pcap_next(struct ws_pcap_reader *r, uint8_t *buf, size_t bufsz, uint32_t *caplen,
		 uint32_t *origlen, uint64_t *ts_ns, char *err, size_t errlen)
{
	uint32_t h[4];
	size_t n = fread(h, 1, sizeof(h), r->f);

	if (n == 0 && feof(r->f))
		return 0;
	if (n != sizeof(h)) {
		snprintf(err, errlen, "record header cut short (file truncated)");
		return -1;
	}
	uint32_t sec = sw32(h[0], r->swapped), frac = sw32(h[1], r->swapped);
	uint32_t cap = sw32(h[2], r->swapped), orig = sw32(h[3], r->swapped);

	if (cap > PCAP_MAX_SNAP) {
		snprintf(err, errlen, "record of %u bytes is larger than any snap length", cap);
		return -1;
	}
	if (r->nsec ? frac >= 1000000000u : frac >= 1000000u) {
		snprintf(err, errlen, "record timestamp fraction %u out of range", frac);
		return -1;
	}
	*ts_ns = (uint64_t)sec * 1000000000ull + (r->nsec ? frac : (uint64_t)frac * 1000u);
	*origlen = orig;
	*caplen = cap;
	if (cap > bufsz) {
		/*
		 * Keep what fits, skip the rest: a frame bigger than our buffer.
		 * Skipped by reading, not fseek(): a seek past the end of a file
		 * succeeds (hiding a truncated file) and a pipe cannot seek.
		 */
		uint8_t skip[4096];
		uint32_t left = cap - (uint32_t)bufsz;

		if (fread(buf, 1, bufsz, r->f) != bufsz)
			goto cut;
		while (left) {
			size_t k = left < sizeof(skip) ? left : sizeof(skip);

			if (fread(skip, 1, k, r->f) != k)
				goto cut;
			left -= (uint32_t)k;
		}
		*caplen = (uint32_t)bufsz;
		return 1;
	}
	if (fread(buf, 1, cap, r->f) != cap)
		goto cut;
	return 1;
cut:
	snprintf(err, errlen, "record data cut short (file truncated)");
	return -1;
}

void ws_pcap_close(struct ws_pcap_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
}

int ws_pcap_create(struct ws_pcap_writer *w, const char *path, uint32_t snaplen, bool overwrite)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		uint32_t thiszone, sigfigs, snaplen, linktype;
	} h = { PCAP_MAGIC_NS, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET };
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL), 0600);

	w->f = NULL;
	if (fd < 0)
		return -errno;
	w->f = fdopen(fd, "wb");
	if (!w->f) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (fwrite(&h, 1, sizeof(h), w->f) != sizeof(h)) {
		fclose(w->f);
		w->f = NULL;
		return -EIO;
	}
	return 0;
}

int ws_pcap_write(struct ws_pcap_writer *w, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
		  uint32_t origlen)
{
	uint32_t h[4] = { (uint32_t)(ts_ns / 1000000000ull), (uint32_t)(ts_ns % 1000000000ull),
			  caplen, origlen < caplen ? caplen : origlen };

	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h) || fwrite(data, 1, caplen, w->f) != caplen)
		return -EIO;
	return 0;
}

int ws_pcap_finish(struct ws_pcap_writer *w)
{
	int rc = 0;

	if (!w->f)
		return 0;
	if (fflush(w->f) == EOF || ferror(w->f))
		rc = -EIO;
	if (fclose(w->f) == EOF && !rc)
		rc = -errno;
	w->f = NULL;
	return rc;
}
