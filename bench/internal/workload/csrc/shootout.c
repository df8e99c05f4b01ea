/* Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT
 *
 * The shoot-out's workloads in C: the C column. The bench command embeds
 * csrc, compiles it with the system C compiler into a temporary directory,
 * and runs it once per library, workload and run, interleaved with the Go
 * runs. Each workload here does exactly what its Go twin does (same sizes,
 * orders, writes and random steps), calling the library's functions
 * through pointers found with dlopen and dlsym, as nalloc does; the
 * difference between the two is the cost of crossing from Go.
 *
 * usage: shootout WORKLOAD LIBRARY ALLOC FREE [key=value ...]
 *   LIBRARY  a soname or path given to dlopen (libc.so.6, libjemalloc.so.2)
 *   ALLOC    void *ALLOC(size_t)
 *   FREE     void FREE(void *)
 *   keys     each workload's own (see its function); malloc-large reads
 *            "slot size" lines from stdin, malloc-thread its tables.
 *
 * Output, one figure a line: "V<TAB>case<TAB>metric<TAB>value". Errors go
 * to stderr with a non-zero exit status; 3 means the library did not
 * load.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "shootout.h"

void *lib_a, *lib_f;
unsigned char pattern[256];

#define BLOCKS 1600 /* glibc-simple and glibc-thread: blocks per cycle */
#define HALF (BLOCKS / 2)

void die(const char *what) {
	fprintf(stderr, "shootout.c: %s\n", what);
	exit(1);
}

double cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double wall_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#ifdef __APPLE__
/* peak_rss is getrusage's ru_maxrss, in bytes on macOS, which has no
 * /proc; it cannot be reset, so it includes start-up. */
static double peak_rss(void) {
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
	return (double)ru.ru_maxrss;
}
#else
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
#endif

void reset_peak_rss(void) {
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "5", 1) < 0) { /* Linux before 4.0: the peak includes start-up */
		}
		close(fd);
	}
}

static double highest_peak;

double round_peak(void) {
	double v = peak_rss();
	if (v > highest_peak) highest_peak = v;
	return v;
}

void put(const char *cas, const char *metric, double v) { printf("V\t%s\t%s\t%.6g\n", cas, metric, v); }

static int nargs;
static char **args;

const char *arg(const char *key, const char *def) {
	size_t n = strlen(key);
	for (int i = 0; i < nargs; i++)
		if (strncmp(args[i], key, n) == 0 && args[i][n] == '=') return args[i] + n + 1;
	if (!def) {
		fprintf(stderr, "shootout.c: missing argument %s=\n", key);
		exit(2);
	}
	return def;
}

long arg_long(const char *key) { return strtol(arg(key, NULL), NULL, 10); }

int list(const char *key, long *out, int max) {
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

/* A round of threads (run_round). */
struct round {
	pthread_barrier_t ready, start;
	round_work work;
	void *arg;
	double *stop; /* each thread's end, wall_ns */
};

struct starter {
	pthread_t t;
	struct round *r;
	int i;
};

static void *round_thread(void *p) {
	struct starter *s = p;
	s->r->stop[s->i] = 0;
	s->r->work(s->r, s->i, s->r->arg);
	if (s->r->stop[s->i] == 0) s->r->stop[s->i] = wall_ns();
	return NULL;
}

void round_ready(struct round *r) {
	pthread_barrier_wait(&r->ready);
	pthread_barrier_wait(&r->start);
}

void round_stop(struct round *r, int i) { r->stop[i] = wall_ns(); }

double run_round(int n, round_work work, void *arg) {
	struct round r = {.work = work, .arg = arg, .stop = calloc((size_t)n, sizeof(double))};
	struct starter *ss = calloc((size_t)n, sizeof *ss);
	if (!r.stop || !ss || pthread_barrier_init(&r.ready, NULL, (unsigned)n + 1) ||
	    pthread_barrier_init(&r.start, NULL, (unsigned)n + 1))
		die("thread setup failed");
	for (int i = 0; i < n; i++) {
		ss[i] = (struct starter){.r = &r, .i = i};
		if (pthread_create(&ss[i].t, NULL, round_thread, &ss[i])) die("pthread_create failed");
	}
	/* As on the Go side: every thread set up and waiting, then the clock
	 * starts, then the threads are released. Reading the clock after the
	 * release instead would miss whatever the threads did before this
	 * thread got a CPU back (with more threads than CPUs, most of the
	 * run). */
	pthread_barrier_wait(&r.ready);
	double t0 = wall_ns();
	pthread_barrier_wait(&r.start);
	double end = t0;
	for (int i = 0; i < n; i++) {
		pthread_join(ss[i].t, NULL);
		if (r.stop[i] > end) end = r.stop[i];
	}
	pthread_barrier_destroy(&r.ready);
	pthread_barrier_destroy(&r.start);
	free(r.stop);
	free(ss);
	return end - t0;
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
	for (int i = 0; i < HALF; i++) lib_free(blocks[i]);
	for (int i = BLOCKS - 1; i >= HALF; i--) lib_free(blocks[i]);
}

/* glibc-simple: sizes=16,32 reps=N */
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
WORKLOAD("glibc-simple", simple)

struct thread_arg {
	long reps;
	size_t size;
};

static void thread_work(struct round *r, int i, void *p) {
	struct thread_arg *a = p;
	void *blocks[BLOCKS];
	(void)i;
	cycle(blocks, a->size); /* warm this thread's caches before the clock */
	round_ready(r);
	for (long k = 0; k < a->reps; k++) cycle(blocks, a->size);
}

/* glibc-thread: threads=1,2,4 reps=N size=S */
static void thread(void) {
	long counts[16];
	int nc = list("threads", counts, 16);
	struct thread_arg a = {.reps = arg_long("reps"), .size = (size_t)arg_long("size")};
	double base = 0;
	for (int k = 0; k < nc; k++) {
		int n = (int)counts[k];
		double dt = run_round(n, thread_work, &a);
		double rate = (double)n * (double)a.reps * BLOCKS / (dt / 1e9);
		if (k == 0) base = rate;
		char cas[32];
		snprintf(cas, sizeof cas, "threads=%d", n);
		put(cas, "pairs_per_sec", rate);
		if (k > 0) put(cas, "scaling", rate / base);
	}
}
WORKLOAD("glibc-thread", thread)

/* malloc-large: slots=N touch=0|1, the steps on stdin. */
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
	double t0 = cpu_ns();
	for (size_t i = 0; i < n; i++) {
		long s = slot[i];
		if (held[s]) lib_free(held[s]);
		char *p = lib_alloc(size[i]);
		if (!p) die("allocation failed");
		if (touch)
			for (size_t off = 0; off < size[i]; off += (size_t)page) p[off] = 1;
		held[s] = p;
	}
	double dt = cpu_ns() - t0;
	for (long s = 0; s < slots; s++)
		if (held[s]) lib_free(held[s]);
	put("", "us_per_step", dt / 1e3 / (double)n);
}
WORKLOAD("malloc-large", large)

/* arena-boxes: rounds=N boxes=N boxsize=S */
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
			for (long i = 0; i < nboxes; i++) lib_free(b[i]);
		}
		if (!warm) put("", "ns_per_box", (cpu_ns() - t0) / ((double)rounds * (double)nboxes));
	}
}
WORKLOAD("arena-boxes", boxes)

/* The workloads, as they registered themselves (WORKLOAD). */
static struct {
	const char *name;
	void (*run)(void);
} workloads[32];
static int nworkloads;

void add_workload(const char *name, void (*run)(void)) {
	if (nworkloads == (int)(sizeof workloads / sizeof workloads[0])) die("too many workloads");
	workloads[nworkloads].name = name;
	workloads[nworkloads++].run = run;
}

static void (*find_workload(const char *name))(void) {
	for (int i = 0; i < nworkloads; i++)
		if (strcmp(workloads[i].name, name) == 0) return workloads[i].run;
	return NULL;
}

static void *nothing(void *arg) { return arg; }

static double tv_seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

int main(int argc, char **argv) {
	if (argc < 5) {
		fprintf(stderr, "usage: shootout WORKLOAD LIBRARY ALLOC FREE [key=value ...]\n");
		return 2;
	}
	const char *workload = argv[1], *lib = argv[2];
	nargs = argc - 5;
	args = argv + 5;
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
	lib_a = dlsym(h, argv[3]);
	lib_f = dlsym(h, argv[4]);
	if (!lib_a || !lib_f) {
		fprintf(stderr, "shootout.c: %s has no %s or %s\n", lib, argv[3], argv[4]);
		return 3;
	}
	/* The library's first call initialises it; keep it out of the clock,
	 * as the Go side does when it opens the allocator. */
	lib_free(lib_alloc(1));

	/* The run's process figures, as the Go side's startProcess. */
	reset_peak_rss();
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	double w0 = wall_ns();
	void (*run)(void) = find_workload(workload);
	if (!run) {
		fprintf(stderr, "shootout.c: no workload %s\n", workload);
		return 2;
	}
	run();
	double elapsed = (wall_ns() - w0) / 1e9;
	getrusage(RUSAGE_SELF, &ru1);
	round_peak();
	put("", "peak_rss", highest_peak);
	put("", "minor_faults", (double)(ru1.ru_minflt - ru0.ru_minflt));
	put("", "major_faults", (double)(ru1.ru_majflt - ru0.ru_majflt));
	put("", "elapsed_seconds", elapsed);
	put("", "user_cpu_seconds", tv_seconds(ru1.ru_utime) - tv_seconds(ru0.ru_utime));
	put("", "system_cpu_seconds", tv_seconds(ru1.ru_stime) - tv_seconds(ru0.ru_stime));
	return 0;
}
