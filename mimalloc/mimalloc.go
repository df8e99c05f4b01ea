// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package mimalloc is nalloc's backend for Microsoft's mimalloc, loaded at
// run time from libmimalloc.so.2 (Debian: apt-get install libmimalloc2.0).
// Importing it registers "mimalloc" with nalloc.Open.
//
// Beyond the nalloc.Allocator contract it gives mimalloc's own powers:
// heaps that are freed all at once (Allocator.WithHeap),
// options by name (ParseOption, SetOption, Tune), and its statistics
// (Stats, ProcessInfo, Info).
//
// # How the contract maps onto mimalloc
//
// mi_malloc, mi_calloc and mi_realloc align blocks of 16 bytes and more to
// 16 (as C's malloc must; every mimalloc size class above 8 bytes is a
// multiple of 16) and smaller blocks to 8. Layouts within that use them;
// larger alignments use mi_malloc_aligned_at, mi_zalloc_aligned_at and
// mi_realloc_aligned_at with offset 0. Deallocate is mi_free, from any
// goroutine, whichever thread allocated the block.
//
// # Alignment bugs of mimalloc 2.0.x, and why nalloc calls the _at forms
//
// Debian 12 (bookworm) ships mimalloc 2.0.9, which gets two things wrong
// (mimalloc issues #700 and #603):
//
//   - mi_malloc_aligned(size, align) returns blocks that are only 128-byte
//     aligned when size is a power of two from 256 to 1024 and align is
//     from 256 up to size: six pairs, every time (#700; its fast path
//     assumes that small power-of-two blocks are aligned to their size,
//     which the 2.0 segment layout no longer guarantees). Fixed in 2.1.0
//     and 1.8.0.
//   - mi_realloc_aligned(p, size, align) keeps the old block's offset from
//     the alignment instead of the alignment (#603): growing a block to a
//     larger alignment than it happens to have returns a misaligned block.
//
// The _at forms with offset 0 take the right path in every version (from
// 2.1.0, mi_malloc_aligned is exactly mi_malloc_aligned_at with offset 0),
// so nalloc calls them and needs no version check. TestAlignmentSweep
// shows both bugs against the raw library and checks nalloc's calls for
// every size to 2 KiB and around every power of two to 4 MiB, at every
// alignment to 64 KiB (and fewer sizes to 32 MiB); TestReallocAlignedSweep
// does the same for Grow and Shrink.
//
// # Loading mimalloc into a Go process
//
// The library is loaded with dlopen(RTLD_NOW|RTLD_LOCAL). Debian's build
// exports malloc, free and the rest (it is built to override them), but
// RTLD_LOCAL keeps those symbols out of the global scope: the process's
// own malloc stays glibc's, cgo and other C code are unaffected, and only
// memory allocated through this package comes from mimalloc
// (TestLoadDoesNotOverrideMalloc). Its static TLS is 9 bytes, which fits
// the room glibc keeps for libraries loaded late. The library's
// constructor runs at dlopen: it reads the MIMALLOC_* environment
// variables (MIMALLOC_VERBOSE=1 prints every option, for one), reserves
// what MIMALLOC_RESERVE_OS_MEMORY asks for, and registers an atexit
// handler that prints statistics when MIMALLOC_SHOW_STATS=1. Go programs
// do not leave through the C library's exit (the runtime calls exit_group
// itself), so that handler never runs, except in binaries built with
// -race, whose race runtime does end through exit: call Info to see
// the statistics. Without MIMALLOC_* variables the library prints nothing
// (TestLoadEnvironment).
package mimalloc

import (
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// minAlign is what mi_malloc, mi_calloc and mi_realloc guarantee for every
// size: blocks of 8 bytes and less come from an 8-byte size class.
// naturalAlign is what they guarantee for blocks of 16 bytes and more, as
// C's malloc must (every size class above 8 bytes is a multiple of 16).
const (
	minAlign     = 8
	naturalAlign = 16
)

var backend = native.Backend[*Allocator]{
	Spec: native.Spec{
		Name:    "mimalloc",
		Sonames: []string{"libmimalloc.so.2", "libmimalloc.so"},
		Package: "libmimalloc2.0",
		MacOS: native.MacOS{Dylibs: []string{"libmimalloc.3.dylib", "libmimalloc.2.dylib", "libmimalloc.dylib"},
			Formula: "mimalloc", DefaultZone: true},
		Malloc: native.MallocSpec{
			MinAlign: minAlign, NaturalAlign: naturalAlign,
			Malloc: "mi_malloc", Calloc: "mi_calloc", Realloc: "mi_realloc", Free: "mi_free",
			UsableSize: "mi_usable_size",
			Aligned:    "mi_malloc_aligned_at", SizeFirst: true, // (size, align, offset 0)
			ZeroAligned:    "mi_zalloc_aligned_at",
			AlignedRealloc: "mi_realloc_aligned_at", // (p, size, align, offset 0)
		},
	},
	New: newAllocator,
}

// heapSpec is the same calls on a heap: the kernel passes the heap first
// to every allocating call; mi_free and mi_usable_size serve every heap.
// mi_heap_realloc_aligned_at takes five arguments, one more than a
// guarded call passes, so a heap moves a block itself when the block must
// change alignment.
var heapSpec = native.MallocSpec{
	MinAlign: minAlign, NaturalAlign: naturalAlign,
	Malloc: "mi_heap_malloc", Calloc: "mi_heap_calloc", Realloc: "mi_heap_realloc", Free: "mi_free",
	UsableSize: "mi_usable_size",
	Aligned:    "mi_heap_malloc_aligned_at", SizeFirst: true,
	ZeroAligned: "mi_heap_zalloc_aligned_at",
}

func init() { backend.Register() }

// The kernel checks the capabilities every backend has (native.Allocator).
var _ nalloc.StatsReporter = (*Allocator)(nil)

// Allocator is mimalloc behind the nalloc.Allocator interface: the package
// doc says which C function serves which call. It is safe for concurrent
// use: each thread allocates from its own mimalloc heap, and blocks may be
// freed from any thread. A block is the caller's until Deallocate (or a
// Grow or Shrink that returns another). Get one from Open or OpenLibrary;
// the zero value is not usable.
type Allocator struct {
	native.Malloc
	version int // mi_version(): major*100 + minor*10 + patch, 209 for 2.0.9

	heapNew, heapDelete, heapDestroy, heapCollect, heapVisitBlocks uintptr

	// Options and statistics.
	optionGet, optionSet, processInfo  uintptr
	statsMerge, statsPrintOut, collect uintptr
}

// Open returns the allocator of libmimalloc.so.2 (or libmimalloc.so).
// Every call returns the same Allocator. If neither loads, the error
// wraps nalloc.ErrLibraryNotFound and names the Debian package to install.
func Open() (*Allocator, error) { return backend.Open("") }

// OpenLibrary returns an allocator for the mimalloc library at path (a
// soname or a file), or the default sonames if path is empty. The same
// path gives the same Allocator. The library is loaded once and never
// unloaded.
func OpenLibrary(path string) (*Allocator, error) { return backend.Open(path) }

func newAllocator(lib *native.Lib, m native.Malloc) (*Allocator, error) {
	a := &Allocator{Malloc: m}
	var version uintptr
	if err := lib.Symbols(
		native.Sym{Name: "mi_version", Addr: &version},
		native.Sym{Name: "mi_heap_new", Addr: &a.heapNew},
		native.Sym{Name: "mi_heap_delete", Addr: &a.heapDelete},
		native.Sym{Name: "mi_heap_destroy", Addr: &a.heapDestroy},
		native.Sym{Name: "mi_heap_collect", Addr: &a.heapCollect},
		native.Sym{Name: "mi_heap_visit_blocks", Addr: &a.heapVisitBlocks},
		native.Sym{Name: "mi_option_get", Addr: &a.optionGet},
		native.Sym{Name: "mi_option_set", Addr: &a.optionSet},
		native.Sym{Name: "mi_process_info", Addr: &a.processInfo},
		native.Sym{Name: "mi_stats_merge", Addr: &a.statsMerge},
		native.Sym{Name: "mi_stats_print_out", Addr: &a.statsPrintOut},
		native.Sym{Name: "mi_collect", Addr: &a.collect},
	); err != nil {
		return nil, err
	}
	a.version = int(int32(native.Slow1(version, 0)))
	return a, nil
}

// Version returns the library's version, "2.0.9" for example, from
// mi_version() (which gives major*100 + minor*10 + patch).
func (a *Allocator) Version() string {
	return fmt.Sprintf("%d.%d.%d", a.version/100, a.version/10%10, a.version%10)
}

// Purge implements nalloc.Purger with mi_collect(true): the calling
// thread's free pages, the segments mimalloc keeps for reuse and those
// abandoned by exited threads go back to the OS.
func (a *Allocator) Purge() error {
	native.Slow1(a.collect, 1)
	return nil
}
