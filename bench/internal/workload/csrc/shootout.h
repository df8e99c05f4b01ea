/* Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT
 *
 * What the C workloads share (shootout.c has main and the first four
 * workloads; malloc-thread.c, xmalloc.c and larson.c one each): the library's pair
 * of functions, the clocks, the process figures and the arguments. */
#ifndef SHOOTOUT_H
#define SHOOTOUT_H

#include <stddef.h>

/* The library's pair, as its nalloc backend calls it (native.Pair):
 * p = alloc(size), free(p). */
extern void *lib_a, *lib_f;

static inline void *lib_alloc(size_t n) { return ((void *(*)(size_t))lib_a)(n); }

static inline void lib_free(void *p) { ((void (*)(void *))lib_f)(p); }

/* pattern[j] == j: blocks are written "byte j as byte(j)" with one memcpy,
 * as the Go side does with one copy. */
extern unsigned char pattern[256];

void die(const char *what);
/* put prints one figure: "V<TAB>case<TAB>metric<TAB>value". */
void put(const char *cas, const char *metric, double v);

/* cpu_ns is the process's CPU time (user and system, all threads), which
 * times the single-threaded workloads, as on the Go side; wall_ns times
 * the threaded ones, whose point is how they scale. */
double cpu_ns(void);
double wall_ns(void);

/* reset_peak_rss sets the peak RSS back to the current RSS; round_peak
 * reads the peak since, and keeps the highest for the run's own figure,
 * as the Go side's roundPeak. */
void reset_peak_rss(void);
double round_peak(void);

/* The key=value arguments: arg returns the value of key (def if absent;
 * exit 2 if absent and def is NULL), list parses "1,2,4" into out. */
const char *arg(const char *key, const char *def);
long arg_long(const char *key);
int list(const char *key, long *out, int max);

/* The threads of a round, as the Go side's onThreads: every thread calls
 * round_ready once it is set up, round_stop when its timed part is done;
 * the round's time runs from the moment all are ready to the last stop. */
struct round;
typedef void (*round_work)(struct round *r, int i, void *arg);
double run_round(int n, round_work work, void *arg);
void round_ready(struct round *r);
void round_stop(struct round *r, int i);

/* A workload registers itself, as its Go twin does: WORKLOAD("name", fn)
 * in its file adds fn under the name the Go side gives it, before main
 * runs (a constructor), so that main needs no list of them. */
void add_workload(const char *name, void (*run)(void));
#define WORKLOAD(name, fn) \
	__attribute__((constructor)) static void register_##fn(void) { add_workload(name, fn); }

#endif
