// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

// FastIf calls check(checkArg) and, only if that returns want, fn(a0, a1,
// a2, a3), on the fast path. It returns fn's result and true, or 0 and
// false without calling fn.
//
// It is for C state bound to one thread, such as a mimalloc heap: with
// check = pthread_getspecific and want a value set on the owner thread,
// the check and the call it guards happen on the same thread, with nothing
// in between. On the assembly paths both calls are made by one assembly
// function on the system stack, which is never an asynchronous preemption
// point and calls no Go code: the goroutine cannot move to another thread
// between them, and no other goroutine can run on this one. On the purego
// path (other platforms, the nalloc_purego tag) they are two separate
// calls, and the guarantee holds only while the goroutine is locked to
// its thread (runtime.LockOSThread).
//
// check and fn must obey the fast path's rules (see Fast1): short, bounded,
// no callbacks into Go, only C memory as pointer arguments.
func FastIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool) {
	return fastIf(check, checkArg, want, fn, a0, a1, a2, a3)
}

// SlowIf is FastIf on the slow path, for guarded calls that may take
// long (large blocks, destroying a heap). Like the other Slow functions it is
// //go:uintptrescapes.
//
//go:uintptrescapes
func SlowIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool) {
	return slowIf(check, checkArg, want, fn, a0, a1, a2, a3)
}
