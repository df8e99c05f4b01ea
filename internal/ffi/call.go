// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

import "unsafe"

// Path names one way of calling C from Go. The package doc says which
// stack each runs on and what the runtime sees; docs/callpath.md has what
// each costs.
type Path uint8

const (
	// PathSwitch switches the thread to its system stack in a few
	// instructions of this package's assembly and calls C there, telling
	// the scheduler nothing (linux/amd64 and linux/arm64).
	PathSwitch Path = iota
	// PathCgocall goes through runtime.cgocall: the scheduler may hand
	// the P to another M while the call runs.
	PathCgocall
	// PathPurego is purego.SyscallN, the portable fallback.
	PathPurego
)

func (p Path) String() string {
	switch p {
	case PathSwitch:
		return "switch"
	case PathCgocall:
		return "cgocall"
	case PathPurego:
		return "purego"
	}
	return "unknown"
}

// FastPath is the path Fast1, Fast4 and FastIf take in this build:
// PathSwitch on linux/amd64 and linux/arm64, PathCgocall with the
// nalloc_safecall tag, PathPurego on other platforms or with
// nalloc_purego. If the start-up check of the runtime's layout fails (a
// Go release this package does not know), the switch path falls back to
// PathCgocall at run time; FastPath still says PathSwitch.
const FastPath = fastPath

// MinSystemStack is the least system stack the switch path's start-up
// check accepts on a thread: C functions on every path run on the thread's system stack,
// so each must fit in this (each backend's stack test holds its library's
// deepest call, measured with StackUse, to half of it). Threads the
// runtime starts with cgo or purego's fake cgo have pthread stacks of
// megabytes.
const MinSystemStack = 64 << 10

// Fast1 calls the C function fn(a0) on the fast path. Use it only for calls
// that are short and bounded (malloc and free of small blocks): the call
// holds its P and cannot be preempted, so a stop-the-world (a GC's among
// them) waits until it returns. fn must not call back into Go, must not
// be variadic, and takes only addresses of C memory as pointers (see
// Slow1 for Go memory).
func Fast1(fn, a0 uintptr) uintptr { return fast1(fn, a0) }

// Fast4 is Fast1 for fn(a0, a1, a2, a3). C functions of fewer arguments
// ignore the extra ones (the C calling conventions allow it), so Fast4
// also serves functions of two and three.
func Fast4(fn, a0, a1, a2, a3 uintptr) uintptr { return fast4(fn, a0, a1, a2, a3) }

// Slow1 calls fn(a0) on the slow path, for calls that may take long:
// large allocations and frees (page faults, mmap, munmap), a library's
// first call (it reads its configuration and maps its first memory),
// trimming, purging, statistics. The goroutine's P is handed off while fn
// runs, as for a system call. fn must not call back into Go.
//
// # Pointer arguments
//
// The Slow functions are //go:uintptrescapes: an argument written as
// uintptr(unsafe.Pointer(&x)) in the call makes x live on the heap and stay
// alive until the call returns, so C may read or write it (an out
// parameter). The Fast functions give no such promise: pass them only
// addresses of C memory.
//
//go:uintptrescapes
func Slow1(fn, a0 uintptr) uintptr { return slow(fn, a0, 0, 0, 0, 0, 0) }

// Slow2 is Slow1 for fn(a0, a1).
//
//go:uintptrescapes
func Slow2(fn, a0, a1 uintptr) uintptr { return slow(fn, a0, a1, 0, 0, 0, 0) }

// Slow3 is Slow1 for fn(a0, a1, a2).
//
//go:uintptrescapes
func Slow3(fn, a0, a1, a2 uintptr) uintptr { return slow(fn, a0, a1, a2, 0, 0, 0) }

// Slow4 is Slow1 for fn(a0, a1, a2, a3).
//
//go:uintptrescapes
func Slow4(fn, a0, a1, a2, a3 uintptr) uintptr { return slow(fn, a0, a1, a2, a3, 0, 0) }

// Slow5 is Slow1 for fn(a0, a1, a2, a3, a4).
//
//go:uintptrescapes
func Slow5(fn, a0, a1, a2, a3, a4 uintptr) uintptr { return slow(fn, a0, a1, a2, a3, a4, 0) }

// Slow8 is Slow1 for fn(a0, ..., a7): on amd64 the seventh and eighth
// arguments go on the C stack (mi_process_info takes eight out
// parameters).
//
//go:uintptrescapes
func Slow8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	return slow8(fn, a0, a1, a2, a3, a4, a5, a6, a7)
}

// SlowStruct calls fn(args...) on the slow path for a C function that
// returns a struct by value, and stores the struct in *ret. T must be the
// C struct's exact layout, hold no Go pointers, be larger than 16 bytes
// and not be made of floating-point fields only: such a struct is returned
// in memory that the caller provides, which is what SlowStruct passes
// (the hidden first argument in DI on amd64, the x8 register on arm64;
// smaller structs come back in registers, which this call does not read).
// At most five arguments; ret stays alive and in place until the call
// returns. glibc's mallinfo2 is such a function:
//
//	var mi Mallinfo2 // ten size_t fields
//	ffi.SlowStruct(mallinfo2, &mi)
func SlowStruct[T any](fn uintptr, ret *T, args ...uintptr) {
	if unsafe.Sizeof(*ret) <= 16 {
		panic("ffi: SlowStruct needs a struct of more than 16 bytes; smaller ones are returned in registers")
	}
	if len(args) > 5 {
		panic("ffi: SlowStruct takes at most five arguments")
	}
	var a [5]uintptr
	copy(a[:], args)
	slowStruct(fn, uintptr(unsafe.Pointer(ret)), unsafe.Sizeof(*ret), a)
}

// slowStruct is //go:uintptrescapes so that *ret is kept alive (and on
// the heap) for the call, as the Slow functions' out parameters are.
//
//go:uintptrescapes
func slowStruct(fn, ret, size uintptr, a [5]uintptr) {
	structCall(fn, ret, size, a)
}

// Ptr turns an address that C returned into an unsafe.Pointer. The
// address must be C memory (or nil), never an address inside Go's heap:
// the garbage collector treats the result as a pointer, and it finds no
// Go object there. Reading the bits through memory, rather than converting
// with unsafe.Pointer(u), states that this uintptr was never a Go pointer
// (and keeps go vet's unsafeptr check for the conversions that matter).
func Ptr(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }

// GoString copies the NUL-terminated C string at p into a Go string; nil
// gives "".
func GoString(p uintptr) string {
	if p == 0 {
		return ""
	}
	s := Ptr(p)
	n := 0
	for *(*byte)(unsafe.Add(s, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(s), n))
}
