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
