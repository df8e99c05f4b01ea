// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

// FastMalloc is the fast path of a malloc-style C allocator: malloc and
// free of a small block at an alignment malloc gives anyway, each one C
// call on the fast path (Fast1) after one test. internal/native's Malloc
// keeps one and tries it first on every Allocate and Deallocate.
// nalloc.Profiled, a wrapper, tries the same one when it wraps a native
// allocator directly (internal/opened hands it out), so that its frame
// takes the place of the allocator's instead of adding one: the test and
// the call are this code in both.
//
// The zero FastMalloc takes no call: Allocates and Frees report false,
// and the caller takes its own path.
type FastMalloc struct {
	// Aligns has bit k set if Align == k is served by a bare malloc (and
	// freed by a bare free) whatever the size: every power of two up to
	// malloc's minimum alignment. An invalid alignment has no bit, so the
	// one test also validates the Layout. 0 where every call needs more
	// (a mimalloc heap's guard, jemalloc sampling).
	Aligns uint64
	// Below is the size from which calls take the slow path instead
	// (native.SlowThreshold, or 0).
	Below uintptr
	// FreeBelow is the size under which a bare free(p) frees a block:
	// Below, or 0 where free takes more than the block (a macOS zone's,
	// which takes the zone first).
	FreeBelow uintptr
	// Malloc and Free are void *malloc(size_t) and void free(void *).
	Malloc, Free uintptr
}

// Allocates reports whether a block of size bytes at alignment align is
// for the fast path: then Fast1(f.Malloc, size) allocates it (a NULL
// sends the caller to its slow path, which validates the Layout and maps
// NULL to an error). A size below Below cannot overflow anything, and
// malloc(0) gives a block of its own in every library nalloc loads.
//
// It and Frees test and leave the call to the caller, so that they inline
// (a method that also called would be over the compiler's inlining
// budget, and cost a call of its own).
func (f *FastMalloc) Allocates(size, align uintptr) bool {
	return f.Aligns>>(align&63)&1 != 0 && align < 64 && size < f.Below
}

// Frees reports whether a block of size bytes is for the fast path: then
// Fast1(f.Free, p) frees it. free(NULL) does nothing in C.
func (f *FastMalloc) Frees(size uintptr) bool { return size < f.FreeBelow }
