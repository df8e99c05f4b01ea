/* Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT
 *
 * larson, the C side of larson.go: mimalloc-bench's larson (larson 5 8
 * 1000 5000 100 4141 N) with the library's pair, for ms= milliseconds
 * per thread count.
 *
 * keys: threads=1,2,4 min=8 max=1000 slots=5000 (blocks per thread)
 * rounds=100 (a thread's life: rounds x slots replacements) seed=4141
 * ms=N (run time of each thread count) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "shootout.h"

/* lran2 is larson's random number generator (Wolfram Gloger's). */
struct lran2 {
	long x, y, v[97];
};

#define LRAN2_MAX 714025L
#define IA 1366L
#define IC 150889L

static void lran2_init(struct lran2 *d, long seed) {
	long x = (IC - seed) % LRAN2_MAX;
	if (x < 0) x = -x;
	for (int j = 0; j < 97; j++) {
		x = (IA * x + IC) % LRAN2_MAX;
		d->v[j] = x;
	}
	d->x = (IA * x + IC) % LRAN2_MAX;
	d->y = d->x;
}

static long lran2(struct lran2 *d) {
	int j = (int)(d->y % 97);
	d->y = d->v[j];
	d->x = (IA * d->x + IC) % LRAN2_MAX;
	d->v[j] = d->x;
	return d->y;
}

static long min_size, size_range, life;
static atomic_int stop, live;

static size_t block_size(struct lran2 *g) {
	return (size_t)(size_range == 0 ? min_size : min_size + lran2(g) % size_range);
}

/* slots are one thread's, handed from each thread to the one it starts. */
struct slots {
	char **blocks;
	long n, allocs;
	struct lran2 rng;
};

/* exercise_heap, as larson's: life replacements on s, or fewer if the
 * time is up; then, if it is not, the same on a new thread. */
static void *exercise_heap(void *p) {
	struct slots *s = p;
	for (long k = 0; k < life; k++) {
		long v = lran2(&s->rng) % s->n;
		lib_free(s->blocks[v]);
		s->blocks[v] = NULL;
		char *b = lib_alloc(block_size(&s->rng));
		if (!b) die("allocation failed");
		s->blocks[v] = b;
		s->allocs++;
		volatile char *w = b; /* "Write something!" */
		w[0] = 'a';
		w[1] = 'b';
		if (atomic_load(&stop)) break;
	}
	if (!atomic_load(&stop)) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, exercise_heap, s)) die("pthread_create failed");
		pthread_attr_destroy(&attr);
		return NULL;
	}
	atomic_fetch_sub(&live, 1);
	return NULL;
}

static void larson(void) {
	long counts[16];
	int nc = list("threads", counts, 16);
	long slots = arg_long("slots"), seed = arg_long("seed"), ms = arg_long("ms");
	min_size = arg_long("min");
	size_range = arg_long("max") - min_size;
	life = arg_long("rounds") * slots;
	for (int k = 0; k < nc; k++) {
		int n = (int)counts[k];
		long total = n * slots;
		/* larson's warmup, on this thread */
		struct lran2 g;
		lran2_init(&g, seed);
		char **blocks = malloc((size_t)total * sizeof *blocks);
		struct slots *ss = calloc((size_t)n, sizeof *ss);
		if (!blocks || !ss) die("out of memory for the slots");
		for (long i = 0; i < total; i++)
			if (!(blocks[i] = lib_alloc(block_size(&g)))) die("allocation failed");
		for (long i = total; i > 0; i--) { /* a random permutation */
			long v = lran2(&g) % i;
			char *t = blocks[v];
			blocks[v] = blocks[i - 1];
			blocks[i - 1] = t;
		}
		for (long i = 0; i < 4 * total; i++) {
			long v = lran2(&g) % total;
			lib_free(blocks[v]);
			if (!(blocks[v] = lib_alloc(block_size(&g)))) die("allocation failed");
		}
		for (int i = 0; i < n; i++) {
			ss[i].blocks = blocks + (long)i * slots;
			ss[i].n = slots;
			lran2_init(&ss[i].rng, lran2(&g));
		}
		atomic_store(&stop, 0);
		atomic_store(&live, n);
		reset_peak_rss();
		double t0 = wall_ns();
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		for (int i = 0; i < n; i++) {
			pthread_t t;
			if (pthread_create(&t, &attr, exercise_heap, &ss[i])) die("pthread_create failed");
		}
		pthread_attr_destroy(&attr);
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0) {
		}
		atomic_store(&stop, 1);
		struct timespec tick = {0, 100000};
		while (atomic_load(&live) > 0) nanosleep(&tick, NULL);
		double dt = wall_ns() - t0;
		long allocs = 0;
		for (int i = 0; i < n; i++) allocs += ss[i].allocs;
		for (long i = 0; i < total; i++)
			if (blocks[i]) lib_free(blocks[i]);
		char cas[32];
		snprintf(cas, sizeof cas, "threads=%d", n);
		put(cas, "ops_per_sec", (double)allocs / (dt / 1e9));
		put(cas, "peak_rss", round_peak());
		free(blocks);
		free(ss);
	}
}
WORKLOAD("larson", larson)
