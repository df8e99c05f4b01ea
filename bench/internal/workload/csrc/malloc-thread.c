/* Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT
 *
 * malloc-thread, the C side of mallocthread.go: glibc's
 * benchtests/bench-malloc-thread.c loop on the shoot-out's terms.
 *
 * keys: threads=1,2,4 iters=N (per thread) ws=N (blocks per thread);
 * stdin: "NSIZES NSLOTS", then the size table and the slot table, one
 * number a line, drawn by the Go side from glibc's rand() as the
 * original draws them. */
#include <stdio.h>
#include <stdlib.h>

#include "shootout.h"

struct mt {
	unsigned *sizes, *slots;
	long nsizes, nslots, iters, ws;
};

static void mt_work(struct round *r, int i, void *p) {
	struct mt *m = p;
	void **blocks = calloc((size_t)m->ws, sizeof *blocks);
	if (!blocks) die("out of memory for the working set");
	round_ready(r);
	/* Both walks start at index 1 and wrap around, as the original's.
	 * An empty slot (at the start) has nothing to free: the original
	 * calls free(NULL); sdallocx and tc_free_sized do not take NULL, so
	 * the call is skipped here, as on the Go side. */
	long si = 0, ki = 0;
	for (long it = 0; it < m->iters; it++) {
		if (++ki == m->nslots) ki = 0;
		if (++si == m->nsizes) si = 0;
		unsigned k = m->slots[ki];
		if (blocks[k]) lib_free(blocks[k]);
		void *q = lib_alloc(m->sizes[si]);
		if (!q) die("allocation failed");
		blocks[k] = q;
	}
	round_stop(r, i);
	for (long k = 0; k < m->ws; k++)
		if (blocks[k]) lib_free(blocks[k]);
	free(blocks);
}

static void malloc_thread(void) {
	long counts[16];
	int nc = list("threads", counts, 16);
	struct mt m = {.iters = arg_long("iters"), .ws = arg_long("ws")};
	if (scanf("%ld %ld", &m.nsizes, &m.nslots) != 2 || m.nsizes < 1 || m.nslots < 1) die("bad tables on stdin");
	m.sizes = calloc((size_t)m.nsizes, sizeof *m.sizes);
	m.slots = calloc((size_t)m.nslots, sizeof *m.slots);
	if (!m.sizes || !m.slots) die("out of memory for the tables");
	for (long i = 0; i < m.nsizes; i++)
		if (scanf("%u", &m.sizes[i]) != 1) die("bad size table");
	for (long i = 0; i < m.nslots; i++)
		if (scanf("%u", &m.slots[i]) != 1 || m.slots[i] >= (unsigned)m.ws) die("bad slot table");
	double base = 0;
	for (int k = 0; k < nc; k++) {
		int n = (int)counts[k];
		double per_iter = run_round(n, mt_work, &m) / (double)m.iters;
		double rate = n / per_iter;
		if (k == 0) base = rate;
		char cas[32];
		snprintf(cas, sizeof cas, "threads=%d", n);
		put(cas, "ns_per_iter", per_iter);
		if (k > 0) put(cas, "scaling", rate / base);
	}
}
WORKLOAD("malloc-thread", malloc_thread)
