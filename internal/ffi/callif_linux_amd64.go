// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

package ffi

import "unsafe"

// DirectIf is FastIf on the direct path: one assembly function, with the
// frame and canary of Direct, calls check and then fn on the goroutine
// stack. Implemented in call_linux_amd64.s.
func DirectIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool)

// checkedArgs is the argument block of trampolineIf, kept on the caller's
// stack like callArgs (see there for why that is safe).
type checkedArgs struct {
	check, checkArg, want, fn, a0, a1, a2, a3, r, ok uintptr
}

// trampolineIfABI0 is the address of the C-ABI trampolineIf, set in
// assembly.
var trampolineIfABI0 uintptr

// SystemIf is FastIf through runtime.asmcgocall: both C calls run in one
// trampoline on the thread's system stack.
func SystemIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool) {
	args := checkedArgs{check: check, checkArg: checkArg, want: want, fn: fn, a0: a0, a1: a1, a2: a2, a3: a3}
	runtime_asmcgocall(trampolineIfABI0, unsafe.Pointer(&args))
	return args.r, args.ok != 0
}

// BlockingIf is FastIf through runtime.cgocall. The goroutine stays on its
// thread for the whole cgocall, so the two calls in the trampoline see the
// same thread here too.
func BlockingIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool) {
	args := checkedArgs{check: check, checkArg: checkArg, want: want, fn: fn, a0: a0, a1: a1, a2: a2, a3: a3}
	runtime_cgocall(trampolineIfABI0, unsafe.Pointer(&args))
	return args.r, args.ok != 0
}
