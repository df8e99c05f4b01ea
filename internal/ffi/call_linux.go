// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && (amd64 || arm64) && !nalloc_purego

package ffi

import (
	"syscall"
	"unsafe"
)

const slowPath = PathCgocall

// The switch path's entry points, in call_linux_GOARCH.s. Each switches to
// the thread's system stack and calls fn there, or calls in place when
// the goroutine is already on a system stack, or jumps to its
// switchFallbackN twin when the start-up check refused the switch.

//go:noescape
func switch1(fn, a0 uintptr) uintptr

//go:noescape
func switch4(fn, a0, a1, a2, a3 uintptr) uintptr

//go:noescape
func switchIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool)

// The fallbacks the switch entry points jump to when switchOK is false:
// the slow path, which needs nothing of the runtime's layout.

//lint:ignore U1000 called from assembly only (JMP in call_linux_GOARCH.s)
func switchFallback1(fn, a0 uintptr) uintptr { return slow(fn, a0, 0, 0, 0, 0, 0) }

//lint:ignore U1000 called from assembly only (JMP in call_linux_GOARCH.s)
func switchFallback4(fn, a0, a1, a2, a3 uintptr) uintptr {
	return slow(fn, a0, a1, a2, a3, 0, 0)
}

//lint:ignore U1000 called from assembly only (JMP in call_linux_GOARCH.s)
func switchFallbackIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	return slowIf(check, checkArg, want, fn, a0, a1, a2, a3)
}

// callArgs is the argument block the trampoline reads on the system stack.
// It lives on the caller's goroutine stack: runtime.cgocall is declared
// noescape below, and the goroutine stack cannot move during it (no Go
// code runs on it meanwhile, and the runtime never shrinks the stack of a
// goroutine in a system call). x8 is the indirect result register of
// arm64 (a struct returned in memory); amd64 ignores it.
type callArgs struct {
	fn, a0, a1, a2, a3, a4, a5, a6, a7, x8, r uintptr
}

// checkedArgs is the argument block of trampolineIf, kept on the caller's
// stack like callArgs.
type checkedArgs struct {
	check, checkArg, want, fn, a0, a1, a2, a3, r, ok uintptr
}

// The addresses of the C-ABI trampolines, set in assembly.
var trampolineABI0, trampolineIfABI0 uintptr

// runtime.cgocall is reached by linkname: the runtime pushes it for
// outside packages (purego uses it too; go.dev/issue/67401), and Go 1.27's
// stricter linkname check still accepts it. noescape: the argument block
// stays on the stack.
//
//go:linkname runtime_cgocall runtime.cgocall
//go:noescape
func runtime_cgocall(fn uintptr, arg unsafe.Pointer) int32

// slow calls fn through runtime.cgocall: the goroutine enters a
// system-call state, so its P can run other goroutines meanwhile.
func slow(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	args := callArgs{fn: fn, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5}
	runtime_cgocall(trampolineABI0, unsafe.Pointer(&args))
	return args.r
}

// slow8 is slow for fn(a0, ..., a7).
func slow8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	args := callArgs{fn: fn, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7}
	runtime_cgocall(trampolineABI0, unsafe.Pointer(&args))
	return args.r
}

// slowIf is FastIf through runtime.cgocall. The goroutine stays on its
// thread for the whole cgocall, so the two calls in the trampoline see the
// same thread.
func slowIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	args := checkedArgs{check: check, checkArg: checkArg, want: want, fn: fn, a0: a0, a1: a1, a2: a2, a3: a3}
	runtime_cgocall(trampolineIfABI0, unsafe.Pointer(&args))
	return args.r, args.ok != 0
}

// callOnStack runs fn with SP set to stack, a region the caller owns (see
// StackUse). Implemented in call_linux_GOARCH.s.
//
//go:noescape
func callOnStack(fn, a0, a1, a2, a3, stack uintptr) (r uintptr)

// StackUse calls fn(a0, a1, a2, a3) on a separate 1 MiB stack filled with
// a pattern and reports how many bytes of it fn wrote: the figure each
// backend's stack test holds against MinSystemStack. It is for tests and
// diagnostics (it maps and unmaps memory on every call), not for hot code.
// It reports ok false where there is no assembly to switch stacks.
func StackUse(fn, a0, a1, a2, a3 uintptr) (r, used uintptr, ok bool) {
	const size = 1 << 20
	const pattern = 0x5a5a5a5a5a5a5a5a
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return 0, 0, false
	}
	defer syscall.Munmap(mem)
	words := unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), size/8)
	for i := range words {
		words[i] = pattern
	}
	top := uintptr(unsafe.Pointer(&mem[0])) + size
	r = callOnStack(fn, a0, a1, a2, a3, top)
	for i, w := range words {
		if w != pattern {
			return r, size - uintptr(i)*8, true
		}
	}
	return r, 0, true
}

// inC is the frame a traceback shows on top of a goroutine in a C call on
// the switch path (see SWITCH in call_linux_GOARCH.s). It never runs.
//
//lint:ignore U1000 named from assembly only (its PC is left in g.sched.pc)
func inC()
