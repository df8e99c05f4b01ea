// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package jemalloc is nalloc's backend for jemalloc 5 (Debian's
// libjemalloc2), loaded at run time without cgo. Importing it registers
// "jemalloc" with nalloc.Open.
//
// Beyond the nalloc.Allocator contract it gives jemalloc's own powers:
// explicit arenas (Allocator.NewArena) whose memory is attributed,
// purged and destroyed apart from the rest of the process; mallctl by
// name, typed (Mallctl, SetMallctl, MallctlDo); statistics (Stats,
// Arena.ArenaStats); resizing strictly in place (ResizeInPlace, xallocx);
// size classes without allocating (SizeClass, nallocx).
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
// an error wrapping ErrStaticTLS that names three remedies:
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
// Open returns one shared Allocator per library path. Its first call into
// a freshly loaded library runs on the system stack (see internal/ffi);
// jemalloc has initialised itself in a constructor at dlopen.
//
// # How the contract maps onto jemalloc
//
// Allocate is mallocx(size, flags) and Deallocate is sdallocx(p, size,
// flags), jemalloc's sized free: it finds the block's size class from size
// and flags without looking the pointer up, which is why the Layout given
// to Deallocate must be exact (a wrong one corrupts jemalloc's heap rather
// than failing). Size 0 is passed as 1, since mallocx(0) is undefined.
// flags carries MALLOCX_LG_ALIGN(lg Align) only when the size class would
// not give the alignment by itself (Align above 8, and Align 16 for blocks
// of 8 bytes or less): flags 0 is what sdallocx's fast path wants, and the
// same rule at both ends keeps their size classes equal
// (TestAlignFlags checks the rule against nallocx for every size to
// 4 KiB).
//
// Grow and Shrink are one rallocx. jemalloc tries in place first on its
// own (arena_ralloc_no_move for blocks that keep their small size class,
// large_ralloc_no_move for large extents, which grow into free pages
// after them and give back their tails), and moves the block, copying,
// only when that fails or when the block is not aligned to the new
// alignment. So Grow makes no xallocx call of its own: it would be a
// second crossing per Grow for what rallocx already tries. xallocx is
// offered as ResizeInPlace, for a caller who must keep the address. A
// failed rallocx returns NULL and leaves the block as it was (checked by
// the conformance suite with 2^62-byte requests). Either way the block's
// size class is afterwards the new Layout's, as sdallocx needs
// (TestSizeClassInvariant).
//
// AllocateZeroed is mallocx with MALLOCX_ZERO, which skips clearing pages
// that come fresh from the OS. GrowZeroed is rallocx with MALLOCX_ZERO,
// but jemalloc zeroes only past the old block's real size (its size
// class), in place (xallocx and rallocx alike) or moved (the copy takes
// the whole old real size), as jemalloc(3) says and TestZeroBoundary
// checks on dirtied memory: the bytes between old.Size and the real size
// keep whatever they held. GrowZeroed reads the real size first (sallocx)
// and clears those bytes in the result.
//
// Calls for blocks under 256 KiB (internal/native.BlockingThreshold) take
// the fast path; larger ones the blocking path, since they may map,
// unmap or copy many pages. Mallctl, Stats, Purge and Destroy are always
// blocking.
//
// # Stack use on the fast path
//
// The first jemalloc call a thread makes sets up its tsd and tcache (and
// may create the automatic arena the thread is given); in nalloc that
// call comes through the fast path, so it runs on the goroutine stack, in
// the direct path's 16 KiB frame. TestStackUse measures it with
// ffi.StackUse on 12 threads started at once (so that jemalloc also
// creates arenas), then a random mix of the fast-path calls. Measured with
// CGO_ENABLED=0 and =1 alike, Debian's jemalloc 5.3.0 on amd64:
//
//	first mallocx on a new thread (tsd, tcache, arena)  2216-2664 bytes
//	first arena mallocx on a new thread                 2216-2664 bytes
//	mallocx, steady state (tcache hit)                   192 bytes
//	arena mallocx, steady state (bin lock)               352 bytes
//	mallocx, worst seen (new slab or extent)            2328 bytes
//	sdallocx, worst seen (tcache flush)            1608-1840 bytes
//	rallocx, worst seen (moving a large block)          3272 bytes
//	xallocx, worst seen                                 2920 bytes
//
// The worst case is 3.3 KiB, a fifth of the frame and well under the
// half that the test allows, so the direct path needs no mitigation here.
//
// # Arenas
//
// NewArena creates an arena (arenas.create) and returns it as an
// nalloc.Allocator that passes MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE on
// every call: no thread cache stands between the arena and its blocks, so
// its statistics (ArenaStats, from stats.arenas.<i>.*) are exact to the
// byte, Purge (arena.<i>.purge) returns its dirty pages to the OS at
// once, and Destroy (arena.<i>.destroy) frees every block and unmaps the
// arena's memory in one call, with no cached pointer left anywhere. The
// tests show it with figures: an arena's small.allocated and
// large.allocated equal the blocks' size classes, another arena shows
// none of it, Purge drops its dirty pages to 0 and the process's RSS by
// as much, and Destroy drops stats.allocated and the RSS by the arena's
// whole footprint. After Destroy every method returns ErrArenaDestroyed
// (Deallocate does nothing), even when jemalloc has given the index to a
// new arena. Blocks of 8 MiB and more (opt.oversize_threshold) are not
// kept dirty: jemalloc returns them to the OS when they are freed.
//
// Without a thread cache, every Arena call takes the arena's bin lock: an
// Allocate+Deallocate pair costs several times the Allocator's (in C as
// in Go), and, in an arena whose slab would go empty with the free, much
// more, as jemalloc releases and re-creates the slab each time.
//
// # Performance
//
// BenchmarkAllocFree64 reports xC, the ratio of Allocate+Deallocate of 64
// bytes to the same mallocx+sdallocx pair in a C loop, measured in the
// same run, with 0 Go allocations per pair. Medians of 8 runs on a shared
// 2-core AMD EPYC, Go 1.26, CGO_ENABLED=0 (the README has the tables):
//
//	Allocator, through nalloc.Allocator   25 ns   2.2xC
//	the two fast-path calls alone          11 ns   2.1xC
//	Arena (bin lock, no tcache)           136 ns   2.2xC  (C: 65 ns)
//	C loop, mallocx+sdallocx               7.4 ns
//	purego.SyscallN                       270 ns, 2 allocations
//
// Nearly all of the distance to C is the crossing itself (ffi-fast): the
// Layout checks, the flags and the interface call add about 5%.
package jemalloc
