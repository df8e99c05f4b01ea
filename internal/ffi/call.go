// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

import "unsafe"

// Path names one way of calling C from Go. See the package doc for what
// each costs and when each is safe.
type Path uint8

const (
	// PathDirect calls on the goroutine's own stack (amd64 only).
	PathDirect Path = iota
	// PathSystem switches to the system stack with runtime.asmcgocall.
	PathSystem
	// PathBlocking goes through runtime.cgocall: the scheduler hands the
	// P to another M while the call runs.
	PathBlocking
	// PathPurego is purego.SyscallN, the portable fallback.
	PathPurego
)

func (p Path) String() string {
	switch p {
	case PathDirect:
		return "direct"
	case PathSystem:
		return "systemstack"
	case PathBlocking:
		return "cgocall"
	case PathPurego:
		return "purego"
	}
	return "unknown"
}

// FastPath is the path Fast1..Fast4 take in this build: PathDirect on
// amd64, PathSystem with the nalloc_systemstack tag, PathBlocking with
// nalloc_safecall, PathPurego on other architectures or with nalloc_purego.
const FastPath = fastPath

// BlockingPath is the path Block1..Block6 take in this build: PathBlocking,
// or PathPurego where there is no assembly.
const BlockingPath = blockingPath

// Fast1 calls the C function fn(a0) on the fast path. Use it only for calls
// that are short and bounded (small malloc and free): on the direct path
// the call holds its P, cannot be preempted, and delays a stop-the-world
// until it returns. fn must not call back into Go.
func Fast1(fn, a0 uintptr) uintptr { return fast(fn, a0, 0, 0, 0) }

// Fast2 is Fast1 for fn(a0, a1).
func Fast2(fn, a0, a1 uintptr) uintptr { return fast(fn, a0, a1, 0, 0) }

// Fast3 is Fast1 for fn(a0, a1, a2).
func Fast3(fn, a0, a1, a2 uintptr) uintptr { return fast(fn, a0, a1, a2, 0) }

// Fast4 is Fast1 for fn(a0, a1, a2, a3).
func Fast4(fn, a0, a1, a2, a3 uintptr) uintptr { return fast(fn, a0, a1, a2, a3) }

// fast picks the path with constant conditions, which the inliner drops,
// so that FastN costs one call to Direct in the default build.
func fast(fn, a0, a1, a2, a3 uintptr) uintptr {
	if FastPath == PathDirect {
		return Direct(fn, a0, a1, a2, a3)
	}
	if FastPath == PathSystem {
		return System(fn, a0, a1, a2, a3, 0, 0)
	}
	if FastPath == PathBlocking {
		return Blocking(fn, a0, a1, a2, a3, 0, 0)
	}
	return Purego(fn, a0, a1, a2, a3, 0, 0)
}

// Block1 calls fn(a0) on the blocking path, for calls that may take long:
// large allocations and frees (page faults, mmap, munmap), trimming,
// purging, statistics. The goroutine's P is handed off while fn runs, as
// for a system call. fn must not call back into Go.
//
// # Pointer arguments
//
// The BlockN functions are //go:uintptrescapes: an argument written as
// uintptr(unsafe.Pointer(&x)) in the call makes x live on the heap and stay
// alive until the call returns, so C may read or write it (an out
// parameter). The FastN functions give no such promise: pass them only
// addresses of C memory.
//
//go:uintptrescapes
func Block1(fn, a0 uintptr) uintptr { return block(fn, a0, 0, 0, 0, 0, 0) }

// Block2 is Block1 for fn(a0, a1).
//
//go:uintptrescapes
func Block2(fn, a0, a1 uintptr) uintptr { return block(fn, a0, a1, 0, 0, 0, 0) }

// Block3 is Block1 for fn(a0, a1, a2).
//
//go:uintptrescapes
func Block3(fn, a0, a1, a2 uintptr) uintptr { return block(fn, a0, a1, a2, 0, 0, 0) }

// Block4 is Block1 for fn(a0, a1, a2, a3).
//
//go:uintptrescapes
func Block4(fn, a0, a1, a2, a3 uintptr) uintptr { return block(fn, a0, a1, a2, a3, 0, 0) }

// Block5 is Block1 for fn(a0, a1, a2, a3, a4).
//
//go:uintptrescapes
func Block5(fn, a0, a1, a2, a3, a4 uintptr) uintptr { return block(fn, a0, a1, a2, a3, a4, 0) }

// Block6 is Block1 for fn(a0, a1, a2, a3, a4, a5).
//
//go:uintptrescapes
func Block6(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	return block(fn, a0, a1, a2, a3, a4, a5)
}

// Block8 is Block1 for fn(a0, ..., a7): the seventh and eighth arguments
// go on the C stack (mi_process_info takes eight out parameters).
//
//go:uintptrescapes
func Block8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	if BlockingPath == PathBlocking {
		return blocking8(fn, a0, a1, a2, a3, a4, a5, a6, a7)
	}
	return Purego8(fn, a0, a1, a2, a3, a4, a5, a6, a7)
}

func block(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	if BlockingPath == PathBlocking {
		return Blocking(fn, a0, a1, a2, a3, a4, a5)
	}
	return Purego(fn, a0, a1, a2, a3, a4, a5)
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
