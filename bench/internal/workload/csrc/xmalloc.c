/* Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT
 *
 * xmalloc, the C side of xmalloc.go: mimalloc-bench's xmalloc-test as
 * mimalloc-bench runs it (-w W -t T -s 64): W producers allocate batches
 * of blocks and the batch itself with the library, W consumers free
 * them; for T (ms=) milliseconds per -w.
 *
 * keys: workers=1,2 (xmalloc-test's -w) size=S (bytes per block)
 * batch=N (blocks per batch) queue=N (batches in the queue at most)
 * ms=N (run time of each -w) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shootout.h"

/* stack is xmalloc-test's queue: a LIFO of batches under a mutex, with
 * condition variables for "not empty" and "not full". Once the time is up
 * (done), push no longer waits for room and pop no longer waits for a
 * batch, as in the original. */
struct stack {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	void ***items;
	int n, cap, limit;
};

static atomic_int done;

static void stack_init(struct stack *s, int limit) {
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->not_empty, NULL);
	pthread_cond_init(&s->not_full, NULL);
	s->cap = limit;
	s->items = malloc((size_t)s->cap * sizeof *s->items);
	if (!s->items) die("out of memory for the queue");
	s->n = 0;
	s->limit = limit;
}

static void stack_destroy(struct stack *s) {
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->not_empty);
	pthread_cond_destroy(&s->not_full);
	free(s->items);
}

static void push(struct stack *s, void **b) {
	pthread_mutex_lock(&s->lock);
	while (s->n >= s->limit && !atomic_load(&done)) pthread_cond_wait(&s->not_full, &s->lock);
	if (s->n == s->cap) { /* past the limit once the time is up */
		s->cap *= 2;
		s->items = realloc(s->items, (size_t)s->cap * sizeof *s->items);
		if (!s->items) die("out of memory for the queue");
	}
	s->items[s->n++] = b;
	pthread_cond_signal(&s->not_empty);
	pthread_mutex_unlock(&s->lock);
}

/* take returns the batch pushed last, or NULL; the lock is held. */
static void **take(struct stack *s) {
	void **b = s->n > 0 ? s->items[--s->n] : NULL;
	if (b) pthread_cond_signal(&s->not_full);
	return b;
}

static void **pop(struct stack *s) {
	pthread_mutex_lock(&s->lock);
	while (s->n == 0 && !atomic_load(&done)) pthread_cond_wait(&s->not_empty, &s->lock);
	void **b = take(s);
	pthread_mutex_unlock(&s->lock);
	return b;
}

static void wake(struct stack *s) {
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->not_empty);
	pthread_cond_broadcast(&s->not_full);
	pthread_mutex_unlock(&s->lock);
}

struct xm {
	struct stack queue;
	size_t size, fill;
	long batch, ms;
	atomic_long freed;
	atomic_int timer;
	pthread_t stopper; /* started by the first thread to start, joined by xmalloc */
};

static void free_batch(void **b, long n) {
	for (long j = 0; j < n; j++) lib_free(b[j]);
	lib_free(b);
}

static void *stop_after(void *p) {
	struct xm *x = p;
	struct timespec ts = {x->ms / 1000, (x->ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0) {
	}
	atomic_store(&done, 1);
	wake(&x->queue);
	return NULL;
}

static void xm_work(struct round *r, int i, void *p) {
	struct xm *x = p;
	round_ready(r);
	if (atomic_exchange(&x->timer, 1) == 0) { /* the first thread to start starts the clock */
		if (pthread_create(&x->stopper, NULL, stop_after, x)) die("pthread_create failed");
	}
	if (i % 2 == 1) { /* a producer */
		while (!atomic_load(&done)) {
			void **b = lib_alloc((size_t)x->batch * sizeof(void *));
			if (!b) die("allocation failed");
			for (long j = 0; j < x->batch; j++) {
				void *q = lib_alloc(x->size);
				if (!q) die("allocation failed");
				memset(q, (int)(j % 256), x->fill);
				b[j] = q;
			}
			push(&x->queue, b);
		}
		return;
	}
	long freed = 0; /* a consumer */
	while (!atomic_load(&done)) {
		void **b = pop(&x->queue);
		if (b) {
			free_batch(b, x->batch);
			freed += x->batch;
		}
	}
	atomic_fetch_add(&x->freed, freed);
}

static void xmalloc(void) {
	long workers[16];
	int nw = list("workers", workers, 16);
	struct xm x = {.size = (size_t)arg_long("size"), .batch = arg_long("batch"), .ms = arg_long("ms")};
	long queue = arg_long("queue");
	x.fill = x.size > 128 ? 128 : x.size;
	for (int k = 0; k < nw; k++) {
		int w = (int)workers[k];
		stack_init(&x.queue, (int)queue);
		atomic_store(&done, 0);
		atomic_store(&x.freed, 0);
		atomic_store(&x.timer, 0);
		reset_peak_rss();
		double dt = run_round(2 * w, xm_work, &x);
		pthread_join(x.stopper, NULL);
		/* What is left in the queue is freed off the clock, uncounted, as
		 * xmalloc-test's main frees it. */
		for (void **b; (b = take(&x.queue)) != NULL;) free_batch(b, x.batch);
		char cas[32];
		snprintf(cas, sizeof cas, "w=%d", w);
		put(cas, "frees_per_sec", (double)atomic_load(&x.freed) / (dt / 1e9));
		put(cas, "peak_rss", round_peak());
		stack_destroy(&x.queue);
	}
}
WORKLOAD("xmalloc", xmalloc)
