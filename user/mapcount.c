// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading BPF maps as a whole: the per-CPU counters summed over CPUs, and
 * how many entries a hash map holds (the flow table's count at exit, from
 * which its evictions follow: the programs never delete a flow, so every
 * insert that is no longer there was evicted by the LRU).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ws_user.h"

#define CHUNK 1024

void ws_percpu_sums(int fd, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	memset(out, 0, n * sizeof(*out));
	if (ncpu <= 0 || !(vals = calloc((size_t)ncpu, sizeof(*vals))))
		return;
	for (uint32_t k = 0; k < n; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
}

/* One key at a time: kernels or maps without batch lookups. */
static int count_by_keys(int fd, uint32_t key_size, uint64_t *n)
{
	void *a = calloc(2, key_size);
	void *cur = NULL, *next = a;
	uint64_t k = 0;
	int rc = 0;

	if (!a)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, cur, next)) {
		k++;
		cur = next;
		next = (char *)a + (cur == a ? key_size : 0);
	}
	if (errno != ENOENT)
		rc = -errno;
	free(a);
	*n = k;
	return rc;
}

int ws_map_count(int fd, uint32_t key_size, uint32_t value_size, uint64_t *n)
{
	/* the batch cursor of a hash map is a bucket index (4 bytes); 8 is room enough */
	uint64_t in = 0, out = 0;
	void *keys = calloc(CHUNK, key_size), *vals = calloc(CHUNK, value_size);
	uint64_t total = 0;
	bool first = true;
	int rc = 0;

	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint32_t got = CHUNK;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &got, NULL);

		if (err && errno != ENOENT) {
			/* ENOSPC: a bucket holds more than CHUNK; EINVAL/ENOTSUPP: no batches */
			rc = count_by_keys(fd, key_size, &total);
			goto out;
		}
		total += got;
		if (err)
			break;                   /* ENOENT: that was the last batch */
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	*n = total;
	return rc;
}
