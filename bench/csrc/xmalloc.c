/* Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT
 *
 * xmalloc, the C side of xmalloc.go: mimalloc-bench's xmalloc-test on the
 * shoot-out's terms (a fixed number of batches per producer; the arrays
 * that carry a batch's pointers recycled instead of malloc'ed).
 *
 * keys: threads=2,4 (half producers, half consumers) size=S (bytes per
 * block) batch=N (blocks per batch) batches=N (per producer) queue=N
 * (batches in the queue at most). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shootout.h"

/* stack is xmalloc-test's queue: a LIFO of batches under a mutex, with
 * condition variables for "not empty" and "not full"; closed once the
 * producers are done. */
struct stack {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	void ***items;
	int n, limit, closed;
};

static void stack_init(struct stack *s, int limit) {
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->not_empty, NULL);
	pthread_cond_init(&s->not_full, NULL);
	s->items = calloc((size_t)limit, sizeof *s->items);
	if (!s->items) die("out of memory for the queue");
	s->n = 0;
	s->limit = limit;
	s->closed = 0;
}

static void stack_destroy(struct stack *s) {
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->not_empty);
	pthread_cond_destroy(&s->not_full);
	free(s->items);
}

static void push(struct stack *s, void **b) {
	pthread_mutex_lock(&s->lock);
	while (s->n >= s->limit) pthread_cond_wait(&s->not_full, &s->lock);
	s->items[s->n++] = b;
	pthread_cond_signal(&s->not_empty);
	pthread_mutex_unlock(&s->lock);
}

/* pop returns NULL once the stack is closed and empty. */
static void **pop(struct stack *s) {
	pthread_mutex_lock(&s->lock);
	while (s->n == 0 && !s->closed) pthread_cond_wait(&s->not_empty, &s->lock);
	void **b = s->n > 0 ? s->items[--s->n] : NULL;
	if (b) pthread_cond_signal(&s->not_full);
	pthread_mutex_unlock(&s->lock);
	return b;
}

static void stack_close(struct stack *s) {
	pthread_mutex_lock(&s->lock);
	s->closed = 1;
	pthread_cond_broadcast(&s->not_empty);
	pthread_mutex_unlock(&s->lock);
}

struct xm {
	struct stack queue, spare;
	size_t size, fill;
	long batch, batches;
	int workers, producing;
	pthread_mutex_t producing_lock;
};

static void xm_work(struct round *r, int i, void *p) {
	struct xm *x = p;
	round_ready(r);
	if (i < x->workers) { /* a producer */
		for (long k = 0; k < x->batches; k++) {
			void **b = pop(&x->spare);
			for (long j = 0; j < x->batch; j++) {
				void *q = lib_alloc(x->size);
				if (!q) die("allocation failed");
				memset(q, (int)(j % 256), x->fill);
				b[j] = q;
			}
			push(&x->queue, b);
		}
		pthread_mutex_lock(&x->producing_lock);
		if (--x->producing == 0) stack_close(&x->queue);
		pthread_mutex_unlock(&x->producing_lock);
		return;
	}
	void **b;
	while ((b = pop(&x->queue)) != NULL) { /* a consumer, until the producers are done */
		for (long j = 0; j < x->batch; j++) lib_free(b[j]);
		push(&x->spare, b);
	}
}

void xmalloc(void) {
	long counts[16];
	int nc = list("threads", counts, 16);
	struct xm x = {.size = (size_t)arg_long("size"), .batch = arg_long("batch"), .batches = arg_long("batches")};
	long queue = arg_long("queue");
	x.fill = x.size > 128 ? 128 : x.size;
	pthread_mutex_init(&x.producing_lock, NULL);
	for (int k = 0; k < nc; k++) {
		int n = (int)counts[k];
		x.workers = n / 2;
		x.producing = x.workers;
		/* Enough arrays that a producer never waits for one: a full
		 * queue, plus one in the hands of each thread. */
		int narrays = (int)queue + n;
		stack_init(&x.queue, (int)queue);
		stack_init(&x.spare, narrays);
		void **arrays = calloc((size_t)narrays * (size_t)x.batch, sizeof(void *));
		if (!arrays) die("out of memory for the batches");
		for (int a = 0; a < narrays; a++) push(&x.spare, arrays + (size_t)a * (size_t)x.batch);
		reset_peak_rss();
		double dt = run_round(n, xm_work, &x);
		char cas[32];
		snprintf(cas, sizeof cas, "threads=%d", n);
		put(cas, "frees_per_sec", (double)x.workers * (double)x.batches * (double)x.batch / (dt / 1e9));
		put(cas, "peak_rss", round_peak());
		free(arrays);
		stack_destroy(&x.queue);
		stack_destroy(&x.spare);
	}
	pthread_mutex_destroy(&x.producing_lock);
}
