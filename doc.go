// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package nalloc puts the native memory allocators (glibc malloc, jemalloc,
// mimalloc, tcmalloc and more: github.com/nalloc/nalloc/all links in every
// backend), a pure-Go bump arena and the Go heap behind one interface,
// Allocator, in the manner of Rust's std::alloc::Allocator.
//
// The native libraries are loaded at run time (github.com/ebitengine/purego
// finds them; no cgo toolchain is needed to build) and called through
// nalloc's own assembly trampolines, with no Go heap allocation per call;
// the README has what a call costs against the same call in C.
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
// can do has one small interface here, found by type assertion: Purger
// (give free memory back to the OS), Native (the library's file and
// version), Tuner (settings by name), StatsReporter, UsableSizer.
//
// # Vocabulary
//
// One word per thing, in every package: Deallocate gives one block back;
// Purge gives free memory back to the OS; Destroy frees every block of a
// scoped heap at once (jemalloc's and mimalloc's heaps); Free frees a Vec
// and its elements, Close a Map, Delete a single value from New; the bump
// arena's Reset takes back every block and keeps its largest chunk, and
// Release gives its chunks back to their parent.
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
// and strings), Vec (a growable array) and Map (a hash map on
// github.com/cockroachdb/swiss) keep Go values in an Allocator's memory,
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
// limit (GCPacer has the rules). It counts the process's anonymous
// resident memory (/proc/self/statm) less the Go runtime's, the one
// candidate that is cheap, sees every allocator and cgo library and adds
// nothing to any allocation path. Measured with 1 GiB off-heap in 64-byte
// and 1 MiB blocks (2-core AMD EPYC, shared; Linux 6.18; go1.26.8;
// go test -bench OffHeapCount): 1.3-2.2 µs a read; /proc/self/status 17-25
// µs; smaps_rollup 5-61 ms (it walks the page tables); jemalloc's Stats
// 23-31 µs (epoch and stats.allocated alone 15-26 µs, exact live bytes);
// glibc's mallinfo2 0.7 µs over live blocks but 103 ms over 8 M freed
// 64-byte chunks, under the arena lock; mimalloc's release build only
// its committed memory, 1.6 µs; live bytes counted by nalloc, a shared
// atomic on every call: 29 ns instead of 10.9 per 64-byte glibc pair, 58
// instead of 6.4 from two goroutines. One recomputation costs 1.4 µs and
// no allocation, after each GC cycle and every 100 ms. In the shoot-out's
// gc-pressure (1 GiB in 1 KiB blocks, 2 GiB of Go garbage), paced, every
// native allocator runs the 2 cycles of a [][]byte instead of 270-350,
// for 20-40 times less GC CPU than the [][]byte, and its peak RSS rises to
// the [][]byte's; under GOGC=off and a limit L the Go runtime stays within
// L minus the off-heap bytes, give or take 15 MiB. The repository's
// docs/gcpacer.md has the tables and the commands.
//
// # Errors
//
// Bad input is an error: an invalid Layout gives ErrInvalidLayout, an
// allocation that cannot be met ErrOutOfMemory, an unknown name
// ErrUnknownAllocator, a missing shared library ErrLibraryNotFound (its
// text names the Debian package to install). A failed Grow or Shrink
// leaves the block as it was. Two things panic, by design, where a Go
// program would die anyway and an error could not be acted on: the "go"
// allocator's Deallocate of a pointer it does not hold (C would corrupt
// its heap; GoHeap can see the bug), and Map.Put when the allocator
// refuses memory (as Go's own map does; TryPut is for callers who budget
// memory). Register panics on a programmer's mistake (a duplicate name).
package nalloc
