// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package nalloc puts the native memory allocators (glibc malloc, jemalloc,
// mimalloc, tcmalloc and more: github.com/nalloc/nalloc/all links in every
// backend), a pure-Go bump arena and the Go heap behind one interface,
// Allocator, in the manner of Rust's std::alloc::Allocator.
//
// The native libraries are loaded at run time (github.com/ebitengine/purego
// finds them; no cgo toolchain is needed to build) and called through
// nalloc's own assembly trampolines, with no Go heap allocation per call;
// the repository's docs/callpath.md has what a call costs against the
// same call in C.
//
// # Use
//
//	import (
//		"github.com/nalloc/nalloc"
//		_ "github.com/nalloc/nalloc/glibc" // registers "glibc"
//	)
//
//	a, err := nalloc.Open("glibc")
//	l := nalloc.Layout{Size: 1 << 20, Align: 64}
//	p, err := a.Allocate(l)
//	defer a.Deallocate(p, l)
//
// Each backend package also has its own Open returning the concrete type,
// with that library's controls: glibc.Allocator.Mallopt, jemalloc's
// mallctl and heaps, mimalloc's heaps and options. What several backends
// can do has one small interface here: Purger
// (give free memory back to the OS), Native (the library's file and
// version), Tuner (settings by name), StatsReporter, UsableSizer. Find
// them with As, or call StatsOf, Purge, Tune and UsableSize, which look
// through the wrappers (Checked, Counting, Verbose) to the allocator they
// wrap. NewProfiled samples allocations into a heap profile that go
// tool pprof reads (package nallocpprof serves it over HTTP).
//
// # Vocabulary
//
// One name per concept, in every package of this module:
//
//   - Allocate and Deallocate: one block, from an Allocator and back to
//     it; Grow and Shrink resize one.
//   - Free: a Vec gives its block back. Close: a Map or BytesMap gives
//     every block back. Delete: one value from New, or one key of a map.
//   - Purge: give memory that is held but not in use back to the
//     operating system (every backend; Purge here finds it through
//     wrappers). glibc's Trim(pad) is malloc_trim with its argument.
//   - Destroy: free every block of a scoped heap at once (jemalloc's and
//     mimalloc's heaps). Reset and Release: the bump arena takes back
//     every block and keeps its largest chunk, or gives its chunks back.
//   - Stats: an allocator's figures (StatsReporter, StatsOf); Info: a
//     library's own text report; Library and Version: which shared
//     library was loaded (Native); Tune: a setting by name (Tuner).
//   - Unwrap: the allocator a wrapper passes its calls on to; As finds a
//     capability through wrappers.
//   - Try: TryPut and bump's TryAlloc do what Put and Alloc do only where
//     they can without the plain call's way out, and hand the failure to
//     the caller instead: an error instead of a panic, nil instead of a
//     new chunk.
//   - Addr: an address, as a uintptr (MisuseError.Addr, Leak.Addr).
//
// # Memory management
//
// Memory from an Allocator is not Go memory: the garbage collector neither
// scans nor frees it. It belongs to the caller from Allocate until
// Deallocate, which must be given the same Layout. It must hold no Go
// pointers (a pointer stored there does not keep its target alive); the
// typed containers refuse element types that have them, with
// ErrPointerType. Use after Deallocate, double Deallocate and a wrong
// Layout are undefined behaviour, as in C; NewChecked catches them.
//
// # Off-heap containers
//
// New and Delete (one value), MakeSlice, CopySlice and CopyString (slices
// and strings), Vec (a growable array), Map (a hash map on
// github.com/cockroachdb/swiss) and BytesMap (byte-string keys and values
// of any length, for caches) keep Go values in an Allocator's memory,
// where the garbage collector neither scans them nor counts them towards
// its heap goal. Their element types must be pointer-free, which they
// check (CheckPointerFree, ErrPointerType naming the offending field).
// Each says who frees what and when a view of it stops being valid.
//
// # GC pacing
//
// Because the collector does not count off-heap memory, moving a large
// live set off the heap shrinks the heap goal to a few MiB: the collector
// then runs hundreds of times more often, and GOMEMLIMIT no longer bounds
// the process. StartGCPacer, called once, makes GOGC apply to the Go
// heap plus the off-heap bytes and takes those bytes off the memory
// limit (GCPacer has the rules and what it counts). The repository's
// docs/gcpacer.md has the measurements behind its choices.
//
// # Errors
//
// Bad input is an error: an invalid Layout gives ErrInvalidLayout, an
// allocation that cannot be met ErrOutOfMemory, an unknown name
// ErrUnknownAllocator, a missing shared library ErrLibraryNotFound (its
// text names the Debian package to install), a capability that an
// allocator and what it wraps lack, or a backend that cannot run on this
// platform, ErrUnsupported. A failed Grow or Shrink
// leaves the block as it was. Two things panic, by design, where a Go
// program would die anyway and an error could not be acted on: the "go"
// allocator's Deallocate of a pointer it does not hold (C would corrupt
// its heap; GoHeap can see the bug), and Map.Put when the allocator
// refuses memory (as Go's own map does; TryPut is for callers who budget
// memory). Register panics on a programmer's mistake (a duplicate name).
package nalloc
