// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package mimalloc is nalloc's backend for Microsoft's mimalloc, loaded at
// run time from libmimalloc.so.2 (Debian: apt-get install libmimalloc2.0).
// Importing it registers "mimalloc" with nalloc.Open.
//
// Beyond the nalloc.Allocator contract it gives mimalloc's own powers:
// heaps that are freed all at once (NewHeap, Heap.Destroy), options by
// name (ParseOption, SetOption), and its statistics (Stats, ProcessInfo,
// StatsText).
//
// # How the contract maps onto mimalloc
//
// mi_malloc, mi_calloc and mi_realloc align blocks of 16 bytes and more to
// 16 (as C's malloc must; every mimalloc size class above 8 bytes is a
// multiple of 16) and smaller blocks to 8. Layouts within that use them;
// larger alignments use mi_malloc_aligned, mi_zalloc_aligned and
// mi_realloc_aligned_at. The common case, Allocate and Deallocate of a
// small block with an alignment of 8 or less, is one mi_malloc or mi_free
// call on the direct path, with no Go allocation. Blocks of 256 KiB and
// more are allocated and freed on the blocking path (see
// internal/native.BlockingThreshold).
//
// # Alignment bugs of mimalloc 2.0.x, and what nalloc does about them
//
// Debian 12 (bookworm) ships mimalloc 2.0.9, which gets two things wrong
// (mimalloc issues #700 and #603); nalloc keeps its contract anyway:
//
//   - mi_malloc_aligned(size, align) returns blocks that are only 128-byte
//     aligned when size is a power of two from 256 to 1024 and align is
//     from 256 up to size: six pairs, (256, 256), (512, 256), (1024, 256),
//     (512, 512), (1024, 512), (1024, 1024), every time (#700; its fast
//     path assumes that small power-of-two blocks are aligned to their
//     size, which the 2.0 segment layout no longer guarantees). Fixed in
//     2.1.0 (and 1.8.0 on the v1 line), 2023-03-29. On the versions before,
//     nalloc calls mi_malloc_aligned_at(size, align, 0) and
//     mi_zalloc_aligned_at instead, which skip that fast path and are
//     otherwise the same function (from 2.1.0 mi_malloc_aligned is exactly
//     mi_malloc_aligned_at with offset 0). Heaps do the same with
//     mi_heap_malloc_aligned_at.
//   - mi_realloc_aligned(p, size, align) keeps the old block's offset from
//     the alignment instead of the alignment (#603): growing a block to a
//     larger alignment than it happens to have returns a misaligned block.
//     Reported against 1.7.6, present in 2.0.9, and fixed in upstream's
//     sources since (they pass offset 0). nalloc never calls it: it calls
//     mi_realloc_aligned_at(p, size, align, 0), which is what the fixed
//     sources do, on every version, so this workaround costs nothing and
//     needs no version check. A Heap resizes with mi_heap_realloc_aligned
//     only when the block is already aligned to the new alignment (then
//     its offset is 0 and the call is right on every version), and moves
//     the block itself otherwise.
//
// TestAlignmentSweep shows both bugs against the raw library (it logs the
// pairs that fail) and checks that nalloc's calls are right for every
// size from 0 to 2 KiB and around every power of two to 4 MiB, at every
// alignment from 1 to 64 KiB and, for fewer sizes, to 32 MiB;
// TestReallocAlignedSweep does the same for Grow and Shrink.
//
// # Heaps
//
// A Heap is a mimalloc heap: Destroy frees every block in it at once, and
// its Stats count what it holds. mimalloc lets only the thread that made a
// heap allocate from it, so NewHeap locks the calling goroutine to its
// thread until Destroy or Delete, and every restricted call checks that
// it runs there (a pthread_getspecific token compared inside the same
// assembly call as the mimalloc function: ffi.FastIf), returning
// ErrWrongThread otherwise. The check is 2 to 4 ns, pthread_getspecific
// included (internal/ffi's BenchmarkGuardedCall), and a Heap's
// Allocate+Deallocate of 64 bytes costs what the Allocator's does (below).
// The other way to make heaps safe from Go, a goroutine locked to the
// heap's thread that allocates on request over a channel, costs a
// cross-thread wake-up per call: 10.7 µs (impl=mimalloc-heap/via=served),
// five hundred times more. A program that wants one heap fed by many
// goroutines can build that on a Heap, and batch; this package does not
// offer it, since every allocation would pay for it.
//
// # Performance
//
// BenchmarkAllocFree64, 64-byte Allocate+Deallocate pairs, medians of 8
// runs of 300 ms on a 2-core AMD EPYC shared with other work (load 4 to
// 6, so the spread is ±20-40%), with CGO_ENABLED=0; xC is the ratio to the
// same pair in a C loop run right after in the same process:
//
//	Allocator, via nalloc.Allocator   20.0 ns   xC 2.4
//	Allocator, concrete type          20.9 ns   xC 2.5
//	Allocator, Align 64               24.7 ns   xC 2.4   (mi_malloc_aligned_at)
//	Heap                              20.4 ns   xC 3.0
//	mi_heap_malloc+mi_free, unchecked 14.0 ns   xC 1.9   (two bare ffi.Fast calls)
//	mimalloc C loop                    6.6 ns
//	Go make([]byte, 64)               52 ns
//
// The difference to the bare calls is nalloc's own work: the Layout check,
// the path choice by size and alignment, and a Go call into the shared
// adapter for each of the two calls. No Go allocation on any of them.
//
// # Stack
//
// mimalloc sets up a thread's data on its first allocation, on whatever
// stack that call runs on: for nalloc, the direct path's 16 KiB frame on
// the goroutine stack. TestStackUse measures the calls on fresh threads
// (ffi.StackUse): the first mi_malloc of a thread, and one that maps new
// pages and segments, take 1192 bytes; mi_malloc_aligned_at 752,
// mi_realloc_aligned_at 832, mi_zalloc_aligned 800, mi_free 432 (808 when
// it empties pages), mi_heap_malloc 688, mi_usable_size 24. The deepest
// path is printing a message (ShowErrors or Verbose on): 3640 bytes for an
// error from mi_malloc (TestStackUseMessages). All are under a quarter of
// the frame, so no mitigation is needed: nothing here moves the first call
// of a thread off the direct path.
//
// # Loading mimalloc into a Go process
//
// The library is loaded with dlopen(RTLD_NOW|RTLD_LOCAL). Debian's build
// exports malloc, free and the rest (it is built to override them), but
// RTLD_LOCAL keeps those symbols out of the global scope: the process's
// own malloc stays glibc's, cgo and other C code are unaffected, and only
// memory allocated through this package comes from mimalloc
// (TestLoadDoesNotOverrideMalloc). The library's constructor runs at
// dlopen: it reads the MIMALLOC_* environment variables (MIMALLOC_VERBOSE=1
// prints every option to standard error, for one), reserves what
// MIMALLOC_RESERVE_OS_MEMORY asks for, and registers an atexit handler
// that prints statistics when MIMALLOC_SHOW_STATS=1. Go programs do not
// leave through the C library's exit (the runtime calls exit_group
// itself), so that handler never runs, except in binaries built with
// -race, whose race runtime does end through exit: call StatsText to see
// the statistics. Without MIMALLOC_* variables the library prints nothing
// (TestLoadEnvironment).
package mimalloc

import (
	"fmt"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/native"
)

func init() {
	native.Register("mimalloc", Open)
}

var spec = native.Spec{
	Name:    "mimalloc",
	Sonames: []string{"libmimalloc.so.2", "libmimalloc.so"},
	Package: "libmimalloc2.0",
}

// minAlign is what mi_malloc, mi_calloc and mi_realloc guarantee for every
// size: blocks of 8 bytes and less come from an 8-byte size class.
// naturalAlign is what they guarantee for blocks of 16 bytes and more, as
// C's malloc must (every size class above 8 bytes is a multiple of 16).
const (
	minAlign     = 8
	naturalAlign = 16
)

// Allocator is mimalloc behind the nalloc.Allocator interface. It is safe
// for concurrent use: each thread allocates from its own mimalloc heap,
// and blocks may be freed from any thread. Get one from Open or
// OpenLibrary; the zero value is not usable.
type Allocator struct {
	f       native.Family
	lib     *ffi.Library
	version int // mi_version(): major*100 + minor*10 + patch, 209 for 2.0.9

	// Heaps; the aligned functions are the _at forms below 2.1.0.
	heapNew, heapDelete, heapDestroy, heapCollect uintptr
	heapMalloc, heapZalloc, heapRealloc           uintptr
	heapMallocAligned, heapZallocAligned          uintptr
	heapReallocAligned, heapVisitBlocks           uintptr

	// Options and statistics.
	optionGet, optionSet, processInfo  uintptr
	statsMerge, statsPrintOut, collect uintptr
}

var opened native.Opened[Allocator]

// Open returns the allocator of libmimalloc.so.2 (or libmimalloc.so).
// Every call returns the same Allocator. If neither loads, the error
// wraps nalloc.ErrLibraryNotFound and names the Debian package to install.
func Open() (*Allocator, error) { return OpenLibrary("") }

// OpenLibrary returns an allocator for the mimalloc library at path (a
// soname or a file), or the default sonames if path is empty. The same
// path gives the same Allocator. The library is loaded once and never
// unloaded.
func OpenLibrary(path string) (*Allocator, error) { return opened.Get(path, openLibrary) }

func openLibrary(path string) (*Allocator, error) {
	lib, err := native.Load(spec, path)
	if err != nil {
		return nil, err
	}
	a := &Allocator{lib: lib}
	a.f = native.Family{Name: "mimalloc", MinAlign: minAlign, NaturalAlign: naturalAlign, SizeFirst: true}
	var version, malloc, mallocAt, zalloc, zallocAt, heapMalloc, heapMallocAt, heapZalloc, heapZallocAt uintptr
	if err := native.Symbols(spec, lib,
		ffi.Sym{Name: "mi_version", Addr: &version},
		ffi.Sym{Name: "mi_malloc", Addr: &a.f.Malloc},
		ffi.Sym{Name: "mi_calloc", Addr: &a.f.Calloc},
		ffi.Sym{Name: "mi_realloc", Addr: &a.f.Realloc},
		ffi.Sym{Name: "mi_free", Addr: &a.f.Free},
		ffi.Sym{Name: "mi_usable_size", Addr: &a.f.MallocUsableSize},
		ffi.Sym{Name: "mi_malloc_aligned", Addr: &malloc},
		ffi.Sym{Name: "mi_malloc_aligned_at", Addr: &mallocAt},
		ffi.Sym{Name: "mi_zalloc_aligned", Addr: &zalloc},
		ffi.Sym{Name: "mi_zalloc_aligned_at", Addr: &zallocAt},
		ffi.Sym{Name: "mi_realloc_aligned_at", Addr: &a.f.AlignedRealloc},

		ffi.Sym{Name: "mi_heap_new", Addr: &a.heapNew},
		ffi.Sym{Name: "mi_heap_delete", Addr: &a.heapDelete},
		ffi.Sym{Name: "mi_heap_destroy", Addr: &a.heapDestroy},
		ffi.Sym{Name: "mi_heap_collect", Addr: &a.heapCollect},
		ffi.Sym{Name: "mi_heap_malloc", Addr: &a.heapMalloc},
		ffi.Sym{Name: "mi_heap_zalloc", Addr: &a.heapZalloc},
		ffi.Sym{Name: "mi_heap_realloc", Addr: &a.heapRealloc},
		ffi.Sym{Name: "mi_heap_malloc_aligned", Addr: &heapMalloc},
		ffi.Sym{Name: "mi_heap_malloc_aligned_at", Addr: &heapMallocAt},
		ffi.Sym{Name: "mi_heap_zalloc_aligned", Addr: &heapZalloc},
		ffi.Sym{Name: "mi_heap_zalloc_aligned_at", Addr: &heapZallocAt},
		ffi.Sym{Name: "mi_heap_realloc_aligned", Addr: &a.heapReallocAligned},
		ffi.Sym{Name: "mi_heap_visit_blocks", Addr: &a.heapVisitBlocks},

		ffi.Sym{Name: "mi_option_get", Addr: &a.optionGet},
		ffi.Sym{Name: "mi_option_set", Addr: &a.optionSet},
		ffi.Sym{Name: "mi_process_info", Addr: &a.processInfo},
		ffi.Sym{Name: "mi_stats_merge", Addr: &a.statsMerge},
		ffi.Sym{Name: "mi_stats_print_out", Addr: &a.statsPrintOut},
		ffi.Sym{Name: "mi_collect", Addr: &a.collect},
	); err != nil {
		return nil, err
	}
	// The library initialised the process at dlopen (its constructor);
	// this thread's first call sets up its thread data: both on the
	// system stack.
	a.version = int(int32(ffi.System(version, 0, 0, 0, 0, 0, 0)))
	a.f.Warm()
	if alignedFastPathBug(a.version) {
		a.f.Aligned, a.f.ZeroAligned, a.f.OffsetArg = mallocAt, zallocAt, true
		a.heapMallocAligned, a.heapZallocAligned = heapMallocAt, heapZallocAt
	} else {
		a.f.Aligned, a.f.ZeroAligned = malloc, zalloc
		a.heapMallocAligned, a.heapZallocAligned = heapMalloc, heapZalloc
	}
	return a, nil
}

// alignedFastPathBug reports whether mi_malloc_aligned and
// mi_heap_malloc_aligned of this version have the fast path of issue #700
// (see the package doc): the 2.0 line before 2.1.0, and, to be safe, the
// same code on the v1 line before 1.8.0, where the fix landed on the same
// day. The _at forms are right on every version.
func alignedFastPathBug(version int) bool {
	return version < 180 || (version >= 200 && version < 210)
}

// Allocate returns a block from mi_malloc (alignments up to 8) or
// mi_malloc_aligned. Give it back with Deallocate.
func (a *Allocator) Allocate(l nalloc.Layout) (unsafe.Pointer, error) { return a.f.Allocate(l) }

// AllocateZeroed returns a zero-filled block from mi_calloc or
// mi_zalloc_aligned, which skip clearing memory fresh from the OS.
func (a *Allocator) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	return a.f.AllocateZeroed(l)
}

// Deallocate frees a block with mi_free. Any goroutine may free any block,
// whichever thread allocated it.
func (a *Allocator) Deallocate(p unsafe.Pointer, l nalloc.Layout) { a.f.Deallocate(p, l) }

// Grow enlarges a block with mi_realloc (alignments up to 8) or
// mi_realloc_aligned_at. Like realloc, mimalloc moves the block unless its
// size class already has the room.
func (a *Allocator) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return a.f.Grow(p, old, new)
}

// Shrink reduces a block with mi_realloc or mi_realloc_aligned_at, which
// keep it in place while the new size needs at least half of it.
func (a *Allocator) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return a.f.Shrink(p, old, new)
}

// UsableSize returns mi_usable_size(p): the size of the block's size
// class (less the alignment offset for aligned blocks), at least what
// was asked for.
func (a *Allocator) UsableSize(p unsafe.Pointer) uintptr { return a.f.UsableSize(p) }

// Library is the name of the library this Allocator was loaded from.
func (a *Allocator) Library() string { return a.lib.Name() }

// Version returns the library's version, as mi_version() gives it:
// major*100 + minor*10 + patch, 209 for 2.0.9.
func (a *Allocator) Version() int { return a.version }

// VersionString returns the version as "2.0.9".
func (a *Allocator) VersionString() string {
	return fmt.Sprintf("%d.%d.%d", a.version/100, a.version/10%10, a.version%10)
}
