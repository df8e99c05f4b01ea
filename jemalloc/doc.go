// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package jemalloc is nalloc's backend for jemalloc 5 (Debian's
// libjemalloc2), loaded at run time without cgo. Importing it registers
// "jemalloc" with nalloc.Open.
//
// Beyond the nalloc.Allocator contract it gives jemalloc's own powers:
// heaps on arenas of their own (Allocator.NewHeap) whose memory is
// attributed, purged and destroyed apart from the rest of the process;
// mallctl by name, typed (Mallctl, SetMallctl, MallctlDo, Tune);
// statistics (Stats, Heap.DetailedStats) and the text report (Info);
// resizing strictly in place (ResizeInPlace, xallocx); size classes
// without allocating (SizeClass, nallocx).
//
// # Loading
//
// Debian's libjemalloc.so.2 keeps its thread state in initial-exec TLS,
// which must come from the static TLS block glibc sizes when the process
// starts. A library named by the binary (DT_NEEDED) or LD_PRELOAD is
// counted in; one dlopen'ed later must fit the few hundred bytes glibc
// keeps spare (512 in glibc 2.36), and jemalloc's 2.6 KiB do not: dlopen
// fails with "cannot allocate memory in static TLS block". This happens in
// every process nalloc runs in, with CGO_ENABLED=0 and =1 alike, for a
// binary from go build as for a test binary under go test: the TLS that
// Go's runtime, cgo, and the race detector bring is static TLS of the
// executable itself, so none of them changes the outcome. Open then returns
// an error wrapping ErrStaticTLS, whose doc names three remedies:
//
//   - Reexec, called first thing in main: if (and only if) jemalloc cannot
//     be loaded for this reason, it re-executes the program with
//     GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 added (keeping
//     other tunables), once: the re-executed process carries a marker with
//     its own PID, which survives execve and no other process has. This
//     package's tests do it in TestMain; the bench command does it in
//     main. Nothing to set up.
//   - The tunable set by the user: GLIBC_TUNABLES=
//     glibc.rtld.optional_static_tls=16384 ./program. (Ignored by glibc in
//     setuid programs.)
//   - The build tag nalloc_jemalloc_linked (LinkedTag), which makes the
//     binary name libjemalloc.so.2 as DT_NEEDED, so that the loader maps it
//     at start. With CGO_ENABLED=0 a //go:cgo_import_dynamic directive
//     does it (Go's own linker writes the entry, as purego does for
//     libdl); with CGO_ENABLED=1, #cgo LDFLAGS:
//     -l:libjemalloc.so.2 with --no-as-needed, which names the runtime
//     library itself, so no -dev package is needed. The library becomes a
//     hard requirement: the binary does not start without it. Both put
//     libc.so.6 before libjemalloc.so.2, so that glibc's malloc stays the
//     process's malloc: jemalloc defines malloc too, and named first it
//     would replace glibc's for all C code in the process, as LD_PRELOAD
//     does. Loaded any way, this package uses jemalloc only for the blocks
//     it allocates.
//
// Open returns one shared Allocator per library path. jemalloc initialises
// itself in a constructor at dlopen, and each thread's state (its tsd and
// tcache) at the thread's first allocation.
//
// # How the contract maps onto jemalloc
//
// The Allocator calls jemalloc's standard entry points: malloc, calloc,
// realloc and free, memalign for alignments above what malloc gives (8 for
// blocks of 8 bytes and less, 16 for larger ones), malloc_usable_size.
// Debian's jemalloc 5.3.0 keeps its fast paths there: a malloc+free pair
// takes far fewer instructions than mallocx+sdallocx, whose flags word and
// sized free take slower code (docs/backends.md, "Entry points", has the
// counts). Size 0 is passed as 1. realloc does not keep an
// alignment above 16, so Grow and Shrink of such blocks stay in place when
// the block has room and move it otherwise.
//
// jemalloc's own API, the calls that take flags (mallocx, rallocx,
// xallocx, sallocx, sdallocx, nallocx), serves what the standard calls
// cannot: GrowZeroed (rallocx with MALLOCX_ZERO), ResizeInPlace
// (xallocx), SizeClass (nallocx), and every call of a Heap, whose arena and
// tcache choice are flags. GrowZeroed's rallocx with MALLOCX_ZERO zeroes
// only past the old block's real size (its size class), in place or moved,
// as jemalloc(3) says and TestZeroBoundary checks on dirtied memory: the
// bytes between old.Size and the real size keep whatever they held, so
// GrowZeroed reads the real size first (sallocx) and clears those bytes in
// the result. A failed rallocx returns NULL and leaves the block as it was.
//
// Calls for blocks under 256 KiB take the fast path; larger ones the
// slow path, since they may map, unmap or copy many pages. Mallctl,
// Stats, Purge and Destroy always take the slow path. With heap profiling on
// (MALLOC_CONF=prof:true) every call takes the slow path: sampling
// takes a backtrace (9 KiB of stack) and may write a profile.
//
// # Heaps
//
// NewHeap creates an arena (arenas.create) and returns a Heap, an
// nalloc.Allocator that passes MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE on
// every call: no thread cache stands between the arena and its blocks, so
// its statistics (DetailedStats, from stats.arenas.<i>.*) are exact to the
// byte, Purge (arena.<i>.purge) returns its dirty pages to the OS at
// once, and Destroy (arena.<i>.destroy) frees every block and unmaps the
// arena's memory in one call, with no cached pointer left anywhere. After
// Destroy every method returns ErrHeapClosed (Deallocate does nothing),
// even when jemalloc has given the index to a new arena. Blocks of 8 MiB
// and more (opt.oversize_threshold) are not kept dirty: jemalloc returns
// them to the OS when they are freed.
//
// A Heap frees with sdallocx(p, size, flags), jemalloc's sized free: it
// finds the block's size class from size and flags without looking the
// pointer up, which is why the Layout given to Deallocate must be exact (a
// wrong one corrupts jemalloc's heap rather than failing; nalloc.Checked
// catches it). flags carries MALLOCX_LG_ALIGN(lg Align) only when the size
// class would not give the alignment by itself, and the same rule at both
// ends keeps their size classes equal (TestAlignFlags checks the rule
// against nallocx for every size to 4 KiB; TestSizeClassInvariant checks
// that after Allocate, Grow and Shrink the real size is the Layout's
// class).
//
// Without a thread cache, every Heap call takes the arena's bin lock: an
// Allocate+Deallocate pair costs several times the Allocator's (in C as
// in Go), and, in an arena whose slab would go empty with the free, much
// more, as jemalloc releases and re-creates the slab each time.
package jemalloc
