// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"unsafe"

	"github.com/nalloc/nalloc/internal/ffi"
)

// SlowThreshold is the block size from which calls take the slow
// path (runtime.cgocall: the scheduler may hand the goroutine's P to
// another thread while C runs) instead of the fast path. Below it, malloc
// and free are almost always served from thread caches and bins in tens
// of nanoseconds. At and above it they routinely mmap, munmap or copy
// hundreds of kilobytes (glibc's default mmap threshold is 128 KiB, and it
// adapts upwards; mimalloc maps huge pages from 512 KiB): microseconds or
// more, during which a fast-path call holds its P and cannot be
// preempted. It bounds the common case, not the worst one; the package
// doc says what no size can bound.
const SlowThreshold = 256 << 10

// FastPathAllocates says this build's fast path allocates on the Go heap:
// it is purego.SyscallN (architectures without nalloc's assembly, or the
// nalloc_purego tag), which the conformance suite's zero-allocation check
// must then skip.
const FastPathAllocates = ffi.FastPath == ffi.PathPurego

// Sized calls fn(a0, a1, a2, a3) on the path a block of size bytes calls
// for: fast below SlowThreshold, slow from it. It is for the
// allocating and freeing calls a backend makes itself, outside Malloc
// (jemalloc's heaps). C functions of fewer arguments ignore the rest.
func Sized(size, fn, a0, a1, a2, a3 uintptr) uintptr {
	if size < SlowThreshold {
		return ffi.Fast4(fn, a0, a1, a2, a3)
	}
	return ffi.Slow4(fn, a0, a1, a2, a3)
}

// Slow1 calls fn(a0) on the slow path: for every call that is not an
// allocation or free of a small block (controls, statistics, trimming,
// destroying a heap), since any of them may take long.
//
// # Pointer arguments
//
// The Slow functions are //go:uintptrescapes: an argument written as
// uintptr(unsafe.Pointer(&x)) in the call makes x live on the heap and
// stay alive until the call returns, so C may read or write it (an out
// parameter). Sized gives no such promise: pass it only C memory.
//
//go:uintptrescapes
func Slow1(fn, a0 uintptr) uintptr { return ffi.Slow1(fn, a0) }

// Slow2 is Slow1 for fn(a0, a1).
//
//go:uintptrescapes
func Slow2(fn, a0, a1 uintptr) uintptr { return ffi.Slow2(fn, a0, a1) }

// Slow3 is Slow1 for fn(a0, a1, a2).
//
//go:uintptrescapes
func Slow3(fn, a0, a1, a2 uintptr) uintptr { return ffi.Slow3(fn, a0, a1, a2) }

// Slow4 is Slow1 for fn(a0, a1, a2, a3).
//
//go:uintptrescapes
func Slow4(fn, a0, a1, a2, a3 uintptr) uintptr { return ffi.Slow4(fn, a0, a1, a2, a3) }

// Slow5 is Slow1 for fn(a0, ..., a4).
//
//go:uintptrescapes
func Slow5(fn, a0, a1, a2, a3, a4 uintptr) uintptr { return ffi.Slow5(fn, a0, a1, a2, a3, a4) }

// Slow8 is Slow1 for fn(a0, ..., a7).
//
//go:uintptrescapes
func Slow8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	return ffi.Slow8(fn, a0, a1, a2, a3, a4, a5, a6, a7)
}

// SlowStruct calls fn(args...), a C function that returns a struct by
// value, on the slow path and stores the struct in *ret (see
// ffi.SlowStruct for what T must be; glibc's mallinfo2 is such a
// function).
func SlowStruct[T any](fn uintptr, ret *T, args ...uintptr) { ffi.SlowStruct(fn, ret, args...) }

// SlowIf is Slow4 through a guard (see Guard): fn runs only if
// check(arg) returns want on the same thread, and ok says whether it ran.
//
//go:uintptrescapes
func SlowIf(g *Guard, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool) {
	return ffi.SlowIf(g.Check, g.Arg, g.Want, fn, a0, a1, a2, a3)
}

// NewCallback returns a C function pointer that calls the Go function fn,
// for C functions that take a callback (mi_heap_visit_blocks); see
// CallWithCallback.
func NewCallback(fn any) (uintptr, error) { return ffi.NewCallback(fn) }

// CallWithCallback calls fn(a0, ..., a3), a C function that may call
// back into Go through a NewCallback pointer, on the one path that allows
// it (see ffi.CallWithCallback).
func CallWithCallback(fn, a0, a1, a2, a3 uintptr) uintptr {
	return ffi.CallWithCallback(fn, a0, a1, a2, a3)
}

// Ptr turns an address that C returned into an unsafe.Pointer (see
// ffi.Ptr).
func Ptr(u uintptr) unsafe.Pointer { return ffi.Ptr(u) }

// GoString copies the NUL-terminated C string at p; nil gives "".
func GoString(p uintptr) string { return ffi.GoString(p) }
