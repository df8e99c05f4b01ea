/* Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT
 *
 * C fixtures for nalloc's tests and benchmarks, compiled at test time by
 * package ctest. The loops are "the limit": the same malloc+free pair the
 * Go benchmarks time, with no Go in between.
 */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Keep the compiler from proving the loop body dead. */
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

/* loop_malloc_free times n malloc(size)+free pairs through the given
 * function pointers, as a Go caller would reach them. */
long loop_malloc_free(void *(*m)(size_t), void (*f)(void *), size_t size, long n) {
	for (long i = 0; i < n; i++) {
		void *p = m(size);
		KEEP(p);
		f(p);
	}
	return n;
}

/* loop_aligned_free is loop_malloc_free for memalign-style functions
 * (alignment first, as aligned_alloc and memalign take it). */
long loop_aligned_free(void *(*m)(size_t, size_t), void (*f)(void *), size_t align,
		       size_t size, long n) {
	for (long i = 0; i < n; i++) {
		void *p = m(align, size);
		KEEP(p);
		f(p);
	}
	return n;
}

/* loop_sizefirst_aligned_free is loop_aligned_free for mimalloc's argument
 * order: mi_malloc_aligned(size, align), or mi_malloc_aligned_at(size,
 * align, offset) with offset 0 (the two-argument form ignores it). */
long loop_sizefirst_aligned_free(void *(*m)(size_t, size_t, size_t), void (*f)(void *),
				 size_t size, size_t align, long n) {
	for (long i = 0; i < n; i++) {
		void *p = m(size, align, 0);
		KEEP(p);
		f(p);
	}
	return n;
}

/* loop_heap_malloc_free is loop_malloc_free from a mimalloc heap:
 * mi_heap_malloc(heap, size) and mi_free. */
long loop_heap_malloc_free(void *(*m)(void *, size_t), void (*f)(void *), void *heap,
			   size_t size, long n) {
	for (long i = 0; i < n; i++) {
		void *p = m(heap, size);
		KEEP(p);
		f(p);
	}
	return n;
}

/* loop_mallocx_sdallocx is the jemalloc pair with flags and sized free. */
long loop_mallocx_sdallocx(void *(*m)(size_t, int), void (*f)(void *, size_t, int),
			   size_t size, long n) {
	for (long i = 0; i < n; i++) {
		void *p = m(size, 0);
		KEEP(p);
		f(p, size, 0);
	}
	return n;
}

/* loop_mallocx_sdallocx_flags is loop_mallocx_sdallocx with a flags word
 * for both calls (an arena's MALLOCX_ARENA | MALLOCX_TCACHE_NONE). */
long loop_mallocx_sdallocx_flags(void *(*m)(size_t, int), void (*f)(void *, size_t, int),
				 size_t size, int flags, long n) {
	for (long i = 0; i < n; i++) {
		void *p = m(size, flags);
		KEEP(p);
		f(p, size, flags);
	}
	return n;
}

/* noop is the cheapest C function there is: the bare crossing cost. */
uintptr_t noop(uintptr_t a) { return a; }

/* mix4 checks that four integer arguments arrive in order. */
uintptr_t mix4(uintptr_t a, uintptr_t b, uintptr_t c, uintptr_t d) {
	return a + 2 * b + 3 * c + 5 * d;
}

/* mix6 checks that six integer arguments arrive in order. */
uintptr_t mix6(uintptr_t a, uintptr_t b, uintptr_t c, uintptr_t d, uintptr_t e, uintptr_t f) {
	return a + 2 * b + 3 * c + 5 * d + 7 * e + 11 * f;
}

/* mix8 checks that eight integer arguments arrive in order: the last two
 * on the stack. */
uintptr_t mix8(uintptr_t a, uintptr_t b, uintptr_t c, uintptr_t d, uintptr_t e, uintptr_t f,
	       uintptr_t g, uintptr_t h) {
	return a + 2 * b + 3 * c + 5 * d + 7 * e + 11 * f + 13 * g + 17 * h;
}

/* counter_add adds n to a counter and returns its new value: a call with
 * an effect that tests can see (or see not happen). */
static uintptr_t counter;
uintptr_t counter_add(uintptr_t n) { return counter += n; }

/* sp_misalignment returns the misalignment of the stack at the call: 0
 * when the caller kept the C ABI's 16-byte rule. A misaligned stack breaks
 * real code (SSE spills with movaps), so every path must return 0. */
uintptr_t __attribute__((noinline)) sp_misalignment(void) {
	/* At entry the return address has just been pushed: SP+8 is aligned. */
	return ((uintptr_t)__builtin_frame_address(0) + 16) & 15;
}

/* use_stack writes n bytes of stack below its own frame and returns their
 * sum; it lets tests check the direct path's frame and its canary. */
uintptr_t __attribute__((noinline)) use_stack(size_t n) {
	volatile unsigned char buf[n];
	memset((void *)buf, 1, n);
	uintptr_t s = 0;
	for (size_t i = 0; i < n; i += 512)
		s += buf[i];
	return s;
}

/* spin burns about n iterations of work: a long call for the blocking
 * path's tests. */
uintptr_t spin(uintptr_t n) {
	volatile uintptr_t x = 0;
	for (uintptr_t i = 0; i < n; i++)
		x += i;
	return x;
}

/* crash_null writes through a null pointer: a fault in C code, for the
 * tests that check what the runtime reports about it. */
uintptr_t crash_null(uintptr_t a) {
	*(volatile uintptr_t *)(uintptr_t)0 = a;
	return a;
}

/* flag_then_sleep sets *flag (C memory) and sleeps usec microseconds: a
 * long C call whose start another goroutine can see. The sleep resumes
 * after every signal: the runtime's preemption signals (SIGURG) reach a
 * thread in C on the switch path every 10 ms or so, and a sleep they cut
 * short (as usleep's was, counted as whole) let the call end before the
 * test's SIGQUIT came, under qemu. */
uintptr_t flag_then_sleep(volatile uintptr_t *flag, uintptr_t usec) {
	*flag = 1;
	struct timespec left = {.tv_sec = usec / 1000000, .tv_nsec = (long)(usec % 1000000) * 1000};
	while (nanosleep(&left, &left) != 0 && errno == EINTR) {
	}
	return 0;
}

/* A zone-shaped allocator over libc's malloc, for the kernel's zone path
 * (internal/native's MallocSpec.Zone): every call takes the zone first,
 * free too, as macOS's malloc_zone_* calls do. Each call checks that it
 * got a zone zone_create made, and memalign checks its alignment as
 * macOS's does; zone_live counts a zone's live blocks, zone_wrong the
 * calls that were made wrongly (a bad zone or alignment, a NULL freed). */
struct zone { long live; };
static struct zone zones[8];
static int zones_made;
static long zones_wrong;

void *zone_create(size_t start_size, unsigned flags) {
	int i = __atomic_fetch_add(&zones_made, 1, __ATOMIC_RELAXED);
	if (start_size != 0 || flags != 0 || i >= 8)
		return NULL;
	return &zones[i];
}

static int zone_bad(struct zone *z) {
	if (z >= zones && z < zones + 8)
		return 0;
	__atomic_fetch_add(&zones_wrong, 1, __ATOMIC_RELAXED);
	return 1;
}

static void *zone_got(struct zone *z, void *p) {
	if (p)
		__atomic_fetch_add(&z->live, 1, __ATOMIC_RELAXED);
	return p;
}

void *zone_malloc(struct zone *z, size_t size) {
	return zone_bad(z) ? NULL : zone_got(z, malloc(size));
}

void *zone_calloc(struct zone *z, size_t n, size_t size) {
	return zone_bad(z) ? NULL : zone_got(z, calloc(n, size));
}

void *zone_realloc(struct zone *z, void *p, size_t size) {
	if (zone_bad(z))
		return NULL;
	void *q = realloc(p, size);
	return p ? q : zone_got(z, q);
}

void *zone_memalign(struct zone *z, size_t align, size_t size) {
	if (zone_bad(z))
		return NULL;
	if (align < sizeof(void *) || (align & (align - 1)) != 0) {
		__atomic_fetch_add(&zones_wrong, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	void *p = NULL;
	return posix_memalign(&p, align, size) == 0 ? zone_got(z, p) : NULL;
}

void zone_free(struct zone *z, void *p) {
	if (zone_bad(z))
		return;
	if (!p) {
		__atomic_fetch_add(&zones_wrong, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_sub(&z->live, 1, __ATOMIC_RELAXED);
	free(p);
}

size_t zone_size(void *p) { return malloc_usable_size(p); }

long zone_live(struct zone *z) { return zone_bad(z) ? -1 : __atomic_load_n(&z->live, __ATOMIC_RELAXED); }

long zone_wrong(void) { return __atomic_load_n(&zones_wrong, __ATOMIC_RELAXED); }
