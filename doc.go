// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package nalloc puts the native memory allocators (glibc malloc, jemalloc,
// mimalloc), a pure-Go bump arena and the Go heap behind one interface,
// Allocator, in the manner of Rust's std::alloc::Allocator.
//
// The native libraries are loaded at run time (github.com/ebitengine/purego
// finds them; no cgo toolchain is needed to build) and called through
// nalloc's own assembly trampolines: one malloc+free pair costs about twice
// the same pair in C, and no Go heap allocation. See internal/ffi for how.
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
// mallctl and arenas, mimalloc's heaps and options.
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
// Bad input is an error, never a panic: an invalid Layout gives
// ErrInvalidLayout, an allocation that cannot be met ErrOutOfMemory, an
// unknown name ErrUnknownAllocator, a missing shared library
// ErrLibraryNotFound (its text names the Debian package to install). A
// failed Grow or Shrink leaves the block as it was.
package nalloc
