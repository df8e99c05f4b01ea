/* Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT
 *
 * The shoot-out's workloads in C: the native column. The bench command
 * embeds this file, compiles it with the system C compiler into a temporary
 * directory, and runs it once per library, workload and run, interleaved
 * with the Go runs. Each workload here does exactly what its Go twin in
 * workloads.go does (same sizes, orders, writes and random steps), calling
 * the library's functions through pointers found with dlopen and dlsym, as
 * nalloc does; the difference between the two is the cost of crossing from
 * Go.
 *
 * usage: shootout WORKLOAD LIBRARY ALLOC FREE KIND [key=value ...]
 *   LIBRARY  a soname or path given to dlopen (libc.so.6, libjemalloc.so.2)
 *   ALLOC    void *ALLOC(size_t)              (KIND plain)
 *            void *ALLOC(size_t, int flags)    (KIND x: jemalloc's mallocx)
 *   FREE     void FREE(void *)                (KIND plain)
 *            void FREE(void *, size_t, int)    (KIND x: jemalloc's sdallocx)
 *   keys     sizes=16,32 reps=N threads=1,2 rounds=N boxes=N boxsize=N
 *            touch=0|1; malloc-large reads "slot size" lines from stdin.
 *
 * Output, one figure a line: "V<TAB>case<TAB>metric<TAB>value". Errors go
 * to stderr with a non-zero exit status.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The library's functions. Exactly one pair is set. */
static void *(*plain_alloc)(size_t);
static void (*plain_free)(void *);
static void *(*x_alloc)(size_t, int);
static void (*x_free)(void *, size_t, int);

static inline void *lib_alloc(size_t n) { return x_alloc ? x_alloc(n, 0) : plain_alloc(n); }
static inline void lib_free(void *p, size_t n) {
	if (x_free)
		x_free(p, n, 0);
	else
		plain_free(p);
}

/* pattern[j] == j: blocks are written "byte j as byte(j)" with one memcpy,
 * as the Go side does with one copy. */
static unsigned char pattern[256];

#define BLOCKS 1600 /* glibc-simple and glibc-thread: blocks per cycle */
#define HALF (BLOCKS / 2)

static void die(const char *what) {
	fprintf(stderr, "shootout.c: %s\n", what);
	exit(1);
}

/* cpu_ns is the process's CPU time (user and system, all threads), which
 * times the single-threaded workloads, as on the Go side; wall_ns times
 * glibc-thread, whose point is how it scales. */
static double cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double wall_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long minor_faults(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* peak_rss is VmHWM from /proc/self/status, in bytes. Not getrusage's
 * ru_maxrss: across exec, Linux keeps the larger of the old and new
 * address spaces' peaks, so a child of a Go process would report the
 * parent's RSS. */
static double peak_rss(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kb = 0;
	if (!f) return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
	fclose(f);
	return kb * 1024;
}

static void put(const char *cas, const char *metric, double v) {
	printf("V\t%s\t%s\t%.6g\n", cas, metric, v);
}

/* The key=value arguments. */
static int nargs;
static char **args;

static const char *arg(const char *key, const char *def) {
	size_t n = strlen(key);
	for (int i = 0; i < nargs; i++)
		if (strncmp(args[i], key, n) == 0 && args[i][n] == '=')
			return args[i] + n + 1;
	if (!def) {
		fprintf(stderr, "shootout.c: missing argument %s=\n", key);
		exit(2);
	}
	return def;
}

static long arg_long(const char *key) { return strtol(arg(key, NULL), NULL, 10); }

/* list parses "16,32,64" into out, returning the count. */
static int list(const char *key, long *out, int max) {
	const char *s = arg(key, NULL);
	int n = 0;
	while (*s && n < max) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s) break;
		out[n++] = v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* cycle is one round of glibc-simple: BLOCKS blocks of size s, each written,
 * the first half freed in allocation order, the second from last to first. */
static void cycle(void **blocks, size_t s) {
	for (int i = 0; i < BLOCKS; i++) {
		void *p = lib_alloc(s);
		if (!p) die("allocation failed");
		memcpy(p, pattern, s);
		blocks[i] = p;
	}
	for (int i = 0; i < HALF; i++) lib_free(blocks[i], s);
	for (int i = BLOCKS - 1; i >= HALF; i--) lib_free(blocks[i], s);
}

static void simple(void) {
	long sizes[16];
	int ns = list("sizes", sizes, 16);
	long reps = arg_long("reps");
	void *blocks[BLOCKS];
	for (int k = 0; k < ns; k++) {
		size_t s = (size_t)sizes[k];
		cycle(blocks, s); /* warm-up, as in Go */
		double t0 = cpu_ns();
		for (long r = 0; r < reps; r++) cycle(blocks, s);
		double dt = cpu_ns() - t0;
		char cas[32];
		snprintf(cas, sizeof cas, "size=%zuB", s);
		put(cas, "ns_per_pair", dt / ((double)reps * BLOCKS));
	}
}

struct worker {
	pthread_t t;
	pthread_barrier_t *ready, *start;
	long reps;
	size_t size;
};

static void *work(void *arg) {
	struct worker *w = arg;
	void *blocks[BLOCKS];
	cycle(blocks, w->size); /* warm this thread's caches before the clock */
	pthread_barrier_wait(w->ready);
	pthread_barrier_wait(w->start);
	for (long r = 0; r < w->reps; r++) cycle(blocks, w->size);
	return NULL;
}

static void thread(void) {
	long counts[16];
	int nc = list("threads", counts, 16);
	long reps = arg_long("reps");
	size_t size = (size_t)arg_long("size");
	double base = 0;
	for (int k = 0; k < nc; k++) {
		int n = (int)counts[k];
		struct worker *ws = calloc((size_t)n, sizeof *ws);
		pthread_barrier_t ready, start;
		if (!ws || pthread_barrier_init(&ready, NULL, (unsigned)n + 1) ||
		    pthread_barrier_init(&start, NULL, (unsigned)n + 1))
			die("thread setup failed");
		for (int i = 0; i < n; i++) {
			ws[i] = (struct worker){.ready = &ready, .start = &start, .reps = reps, .size = size};
			if (pthread_create(&ws[i].t, NULL, work, &ws[i])) die("pthread_create failed");
		}
		/* As on the Go side: every thread warmed up and waiting, then the
		 * clock starts, then the threads are released. Reading the clock
		 * after the release instead would miss whatever the threads did
		 * before this thread got a CPU back (with more threads than CPUs,
		 * most of the run). */
		pthread_barrier_wait(&ready);
		double t0 = wall_ns();
		pthread_barrier_wait(&start);
		for (int i = 0; i < n; i++) pthread_join(ws[i].t, NULL);
		double dt = wall_ns() - t0;
		pthread_barrier_destroy(&ready);
		pthread_barrier_destroy(&start);
		free(ws);
		double rate = (double)n * (double)reps * BLOCKS / (dt / 1e9);
		if (k == 0) base = rate;
		char cas[32];
		snprintf(cas, sizeof cas, "threads=%d", n);
		put(cas, "pairs_per_sec", rate);
		put(cas, "scaling", rate / base);
	}
}

static void large(void) {
	long slots = arg_long("slots");
	int touch = (int)arg_long("touch");
	long page = sysconf(_SC_PAGESIZE);
	/* The steps come from the Go side's ChaCha8 generator, on stdin, so
	 * that both sides allocate exactly the same sequence. */
	size_t cap = 1024, n = 0;
	long *slot = malloc(cap * sizeof *slot);
	size_t *size = malloc(cap * sizeof *size);
	long sl;
	size_t sz;
	while (scanf("%ld %zu", &sl, &sz) == 2) {
		if (n == cap) {
			cap *= 2;
			slot = realloc(slot, cap * sizeof *slot);
			size = realloc(size, cap * sizeof *size);
		}
		if (!slot || !size || sl < 0 || sl >= slots) die("bad step list");
		slot[n] = sl;
		size[n++] = sz;
	}
	void **held = calloc((size_t)slots, sizeof *held);
	size_t *heldsz = calloc((size_t)slots, sizeof *heldsz);
	double t0 = cpu_ns();
	for (size_t i = 0; i < n; i++) {
		long s = slot[i];
		if (held[s]) lib_free(held[s], heldsz[s]);
		char *p = lib_alloc(size[i]);
		if (!p) die("allocation failed");
		if (touch)
			for (size_t off = 0; off < size[i]; off += (size_t)page) p[off] = 1;
		held[s] = p;
		heldsz[s] = size[i];
	}
	double dt = cpu_ns() - t0;
	for (long s = 0; s < slots; s++)
		if (held[s]) lib_free(held[s], heldsz[s]);
	put("", "us_per_step", dt / 1e3 / (double)n);
}

static void boxes(void) {
	long rounds = arg_long("rounds"), nboxes = arg_long("boxes");
	size_t bs = (size_t)arg_long("boxsize");
	void **b = malloc((size_t)nboxes * sizeof *b);
	for (int warm = 1; warm >= 0; warm--) {
		double t0 = cpu_ns();
		for (long r = 0; r < (warm ? 1 : rounds); r++) {
			for (long i = 0; i < nboxes; i++) {
				void *p = lib_alloc(bs);
				if (!p) die("allocation failed");
				memcpy(p, pattern, bs);
				b[i] = p;
			}
			for (long i = 0; i < nboxes; i++) lib_free(b[i], bs);
		}
		if (!warm) put("", "ns_per_box", (cpu_ns() - t0) / ((double)rounds * (double)nboxes));
	}
}

static void *nothing(void *arg) { return arg; }

int main(int argc, char **argv) {
	if (argc < 6) {
		fprintf(stderr, "usage: shootout WORKLOAD LIBRARY ALLOC FREE plain|x [key=value ...]\n");
		return 2;
	}
	const char *workload = argv[1], *lib = argv[2], *kind = argv[5];
	nargs = argc - 6;
	args = argv + 6;
	for (int j = 0; j < 256; j++) pattern[j] = (unsigned char)j;

	/* A Go process is always multi-threaded. glibc's malloc takes faster
	 * paths (no atomic operations on the fastbins, no arena locking) in a
	 * process that has never had a second thread (SINGLE_THREAD_P), and
	 * would measure that here instead of what Go gets: start one thread
	 * and join it, which clears __libc_single_threaded for good. */
	pthread_t other;
	if (pthread_create(&other, NULL, nothing, NULL) || pthread_join(other, NULL)) die("pthread_create failed");

	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "shootout.c: dlopen %s: %s\n", lib, dlerror());
		return 3;
	}
	void *a = dlsym(h, argv[3]), *f = dlsym(h, argv[4]);
	if (!a || !f) {
		fprintf(stderr, "shootout.c: %s has no %s or %s\n", lib, argv[3], argv[4]);
		return 3;
	}
	if (strcmp(kind, "x") == 0) {
		x_alloc = (void *(*)(size_t, int))a;
		x_free = (void (*)(void *, size_t, int))f;
	} else {
		plain_alloc = (void *(*)(size_t))a;
		plain_free = (void (*)(void *))f;
	}
	/* The library's first call initialises it; keep it out of the clock,
	 * as the Go side does when it opens the allocator. */
	lib_free(lib_alloc(1), 1);

	long f0 = minor_faults();
	if (strcmp(workload, "glibc-simple") == 0)
		simple();
	else if (strcmp(workload, "glibc-thread") == 0)
		thread();
	else if (strcmp(workload, "malloc-large") == 0)
		large();
	else if (strcmp(workload, "arena-boxes") == 0)
		boxes();
	else {
		fprintf(stderr, "shootout.c: no workload %s\n", workload);
		return 2;
	}
	put("", "minor_faults", (double)(minor_faults() - f0));
	put("", "peak_rss", peak_rss());
	return 0;
}
