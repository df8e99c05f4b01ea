// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && (amd64 || arm64) && !nalloc_purego && !nalloc_safecall && nalloc_asmcgocall

package ffi

import "unsafe"

// The nalloc_asmcgocall build: the fast calls switch stacks with the
// runtime's own runtime.asmcgocall, the path before the switch path
// existed. It links only with Go 1.26: Go 1.27's linker refuses the
// reference (asmcgocall is not pushed for outside packages, and 1.27 no
// longer lets ABI wrappers through unchecked), which is what
// asmcgocall_go127.go says when built with a newer Go.

const fastPath = PathAsmcgocall

//go:linkname runtime_asmcgocall runtime.asmcgocall
//go:noescape
func runtime_asmcgocall(fn uintptr, arg unsafe.Pointer) int32

func asmcgocall(fn, a0, a1, a2, a3 uintptr) uintptr {
	args := callArgs{fn: fn, a0: a0, a1: a1, a2: a2, a3: a3}
	runtime_asmcgocall(trampolineABI0, unsafe.Pointer(&args))
	return args.r
}

func fast1(fn, a0 uintptr) uintptr             { return asmcgocall(fn, a0, 0, 0, 0) }
func fast2(fn, a0, a1 uintptr) uintptr         { return asmcgocall(fn, a0, a1, 0, 0) }
func fast3(fn, a0, a1, a2 uintptr) uintptr     { return asmcgocall(fn, a0, a1, a2, 0) }
func fast4(fn, a0, a1, a2, a3 uintptr) uintptr { return asmcgocall(fn, a0, a1, a2, a3) }

func fastIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	args := checkedArgs{check: check, checkArg: checkArg, want: want, fn: fn, a0: a0, a1: a1, a2: a2, a3: a3}
	runtime_asmcgocall(trampolineIfABI0, unsafe.Pointer(&args))
	return args.r, args.ok != 0
}
