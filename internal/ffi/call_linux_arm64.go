// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && arm64 && !nalloc_purego

package ffi

import "unsafe"

// structCall passes the return buffer in x8, AAPCS64's indirect result
// location register, leaving the arguments in x0-x4.
func structCall(fn, ret, size uintptr, a [5]uintptr) {
	args := callArgs{fn: fn, a0: a[0], a1: a[1], a2: a[2], a3: a[3], a4: a[4], x8: ret}
	runtime_cgocall(trampolineABI0, unsafe.Pointer(&args))
}

// getg returns the g register (R28). Implemented in call_linux_arm64.s.
func getg() uintptr

// threadPointer returns TPIDR_EL0, the thread pointer the TLS g slot is
// addressed from. Implemented in call_linux_arm64.s.
func threadPointer() uintptr

// tlsG returns the g that the thread's TLS slot holds: the one the signal
// handler loads (runtime.load_g) when the process has cgo or purego's
// fake cgo.
func tlsG() uintptr {
	return *(*uintptr)(Ptr(threadPointer() + tlsGOffset))
}
