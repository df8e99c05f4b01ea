// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

package ffi

import (
	"syscall"
	"unsafe"
)

const (
	// directFrame is the stack the direct path gives a C function. See
	// "Why 16 KiB" in the package doc; StackUse measures what the
	// libraries really take. The TEXT line of Direct repeats the number.
	directFrame = 16 << 10
	// directCanary sits in the lowest word of the direct frame.
	directCanary = 0x6e616c6c6f632121 // "!!collan": an unlikely stack word

	blockingPath = PathBlocking
)

// DirectFrame is the number of bytes of stack a C function called on the
// direct path may use.
const DirectFrame = directFrame

// overrunMsg is what Direct writes to standard error before it ends the
// process.
var overrunMsg = "nalloc: fatal: a C function called on the direct path used more than " +
	"16 KiB of stack and may have corrupted memory; rebuild with -tags nalloc_systemstack " +
	"and report it at https://github.com/nalloc/nalloc/issues\n"

// Direct calls fn(a0, a1, a2, a3) on the goroutine's stack, in a frame of
// DirectFrame bytes. fn must be short, must not call back into Go, and
// must fit its stack in the frame; the first call of a library, which
// initialises it, goes through System instead. If fn overruns the frame,
// Direct ends the process with exit status 2.
//
// Direct is implemented in call_linux_amd64.s.
func Direct(fn, a0, a1, a2, a3 uintptr) (r uintptr)

// callOnStack runs fn with SP set to stack, a region the caller owns (see
// StackUse). Implemented in call_linux_amd64.s.
func callOnStack(fn, a0, a1, a2, a3, stack uintptr) (r uintptr)

// callArgs is the argument block the trampoline reads on the system stack.
// It lives on the caller's goroutine stack: runtime.asmcgocall and
// runtime.cgocall are declared noescape below, and the goroutine stack
// cannot move during either (no Go code runs on it meanwhile, and the
// runtime never shrinks the stack of a goroutine in a cgocall).
type callArgs struct {
	fn, a0, a1, a2, a3, a4, a5, a6, a7, r uintptr
}

// trampolineABI0 is the address of the C-ABI trampoline, set in assembly.
var trampolineABI0 uintptr

// runtime.asmcgocall and runtime.cgocall are reached by linkname. cgocall
// is on the runtime's list of symbols kept for outside packages (purego
// uses it too, go.dev/issue/67401). asmcgocall is an assembly function with
// no such promise: the linker lets the reference through because it goes
// to an ABI wrapper. Its signature has been the same since Go 1.5; if a
// release changes it, build with the nalloc_purego tag until nalloc
// follows. Both are noescape: the argument block stays on the stack.

//go:linkname runtime_asmcgocall runtime.asmcgocall
//go:noescape
func runtime_asmcgocall(fn uintptr, arg unsafe.Pointer) int32

//go:linkname runtime_cgocall runtime.cgocall
//go:noescape
func runtime_cgocall(fn uintptr, arg unsafe.Pointer) int32

// System calls fn on the system stack of the current thread with
// runtime.asmcgocall, without telling the scheduler.
func System(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	args := callArgs{fn: fn, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5}
	runtime_asmcgocall(trampolineABI0, unsafe.Pointer(&args))
	return args.r
}

// Blocking calls fn through runtime.cgocall: the goroutine enters a
// system-call state, so its P can run other goroutines meanwhile.
func Blocking(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	args := callArgs{fn: fn, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5}
	runtime_cgocall(trampolineABI0, unsafe.Pointer(&args))
	return args.r
}

// blocking8 is Blocking for fn(a0, ..., a7): the trampoline passes a6 and
// a7 on the stack, as the C ABI wants from the seventh integer argument.
func blocking8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	args := callArgs{fn: fn, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7}
	runtime_cgocall(trampolineABI0, unsafe.Pointer(&args))
	return args.r
}

// StackUse calls fn(a0, a1, a2, a3) on a separate 1 MiB stack filled with
// a pattern and reports how many bytes of it fn wrote: the figure that
// says whether fn fits the direct path's frame. It is for tests and
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
