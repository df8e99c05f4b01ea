// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

#include "textflag.h"
#include "go_asm.h"

// The trampolines below call a C function with the System V AMD64 calling
// convention: integer arguments in DI, SI, DX, CX, R8, R9, the result in AX,
// SP 16-byte aligned at the CALL, and BX, BP, R12-R15 preserved by the
// callee. See doc.go for which stack each one runs on and why that is safe.

// func Direct(fn, a0, a1, a2, a3 uintptr) (r uintptr)
//
// Direct runs fn on the goroutine's own stack. Its frame is
// const_directFrame bytes; the ordinary Go prologue (no NOSPLIT) grows the
// goroutine stack until the whole frame fits. The C function gets the frame
// as its stack: SP is moved to the top of the frame, so C's pushes grow down
// into memory this function owns.
//
// The lowest word of the frame holds a canary. If the C code reached it,
// it may have written below the frame too, into memory the goroutine does
// not own; nothing can be trusted after that, so overrun writes a message
// and ends the process with raw system calls, running no Go code.
//
// Because it writes SP, the assembler marks this function SPWRITE, and the
// runtime's unwinder stops at it instead of reading a frame it cannot
// describe: a SIGPROF that lands here gives a short profile stack, never a
// wild read. It calls no Go code, so the GC never scans its frame.
TEXT ·Direct(SB), 0, $16384-48  // 16384 is const_directFrame; vet needs the number
	MOVQ	fn+0(FP), R11
	MOVQ	a0+8(FP), DI
	MOVQ	a1+16(FP), SI
	MOVQ	a2+24(FP), DX
	MOVQ	a3+32(FP), CX
	MOVQ	$const_directCanary, R8
	MOVQ	R8, 0(SP)               // canary at the bottom of the frame
	MOVQ	SP, R12                 // Go's SP, kept in a C callee-saved register
	ADDQ	$const_directFrame, SP  // C's stack starts at the top of the frame
	ANDQ	$~15, SP                // aligned as the C ABI requires
	XORL	AX, AX                  // AL: no vector arguments, for variadic functions
	CALL	R11
	MOVQ	R12, SP
	MOVQ	AX, r+40(FP)
	MOVQ	$const_directCanary, R8
	CMPQ	R8, 0(SP)
	JNE	overrun
	RET
overrun:
	JMP	directOverrun<>(SB)

// directOverrun ends the process when a C function called on the direct
// path reached the canary: it writes overrunMsg to standard error and
// calls exit_group(2) with raw system calls, running no Go code (the Go
// stack below the frame may be corrupt). It does not return.
TEXT directOverrun<>(SB), NOSPLIT|NOFRAME, $0
	MOVL	$1, AX                  // write(2, overrunMsg, len)
	MOVL	$2, DI
	MOVQ	·overrunMsg(SB), SI     // the string's data pointer...
	MOVQ	·overrunMsg+8(SB), DX   // ...and its length
	SYSCALL
	MOVL	$231, AX                // exit_group(2)
	MOVL	$2, DI
	SYSCALL
	RET

// func callOnStack(fn, a0, a1, a2, a3, stack uintptr) (r uintptr)
//
// callOnStack runs fn with SP set to stack, a caller-owned region that is
// not the goroutine stack. It exists to measure how much stack a C function
// uses (see StackUse): the caller fills the region with a pattern and looks
// at how far down it was overwritten. NOSPLIT with no frame: nothing here
// needs the goroutine stack.
TEXT ·callOnStack(SB), NOSPLIT|NOFRAME, $0-56
	MOVQ	fn+0(FP), AX
	MOVQ	a0+8(FP), DI
	MOVQ	a1+16(FP), SI
	MOVQ	a2+24(FP), DX
	MOVQ	a3+32(FP), CX
	MOVQ	stack+40(FP), R8
	MOVQ	SP, R12
	MOVQ	R8, SP
	ANDQ	$~15, SP
	CALL	AX
	MOVQ	R12, SP
	MOVQ	AX, r+48(FP)
	RET

// Guarded calls: check(checkArg) == want, then fn(a0, a1, a2, a3), with no
// Go code and no preemption point in between. See FastIf in callif.go.

// func DirectIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool)
//
// DirectIf is Direct (call_linux_amd64.s) with two C calls instead of one.
// fn's arguments wait at the bottom of the frame, just above the canary,
// while check runs: the C stack starts at the top of the frame and would
// reach them only by overrunning it, which the canary catches. want and fn
// wait in BX and R13, and Go's SP in R12: all three are callee-saved in
// the C ABI, so check and fn leave them as they were.
TEXT ·DirectIf(SB), 0, $16384-73  // 16384 is const_directFrame; vet needs the number
	MOVQ	$const_directCanary, R8
	MOVQ	R8, 0(SP)               // canary at the bottom of the frame
	MOVQ	a0+32(FP), R8           // fn's arguments above it
	MOVQ	R8, 8(SP)
	MOVQ	a1+40(FP), R8
	MOVQ	R8, 16(SP)
	MOVQ	a2+48(FP), R8
	MOVQ	R8, 24(SP)
	MOVQ	a3+56(FP), R8
	MOVQ	R8, 32(SP)
	MOVQ	fn+24(FP), R13
	MOVQ	want+16(FP), BX
	MOVQ	check+0(FP), R11
	MOVQ	checkArg+8(FP), DI
	MOVQ	SP, R12                 // Go's SP, kept in a C callee-saved register
	ADDQ	$const_directFrame, SP  // C's stack starts at the top of the frame
	ANDQ	$~15, SP                // aligned as the C ABI requires
	XORL	AX, AX                  // AL: no vector arguments, for variadic functions
	CALL	R11
	CMPQ	AX, BX
	JNE	refused
	MOVQ	8(R12), DI
	MOVQ	16(R12), SI
	MOVQ	24(R12), DX
	MOVQ	32(R12), CX
	XORL	AX, AX
	CALL	R13
	MOVQ	R12, SP
	MOVQ	AX, r+64(FP)
	MOVB	$1, ok+72(FP)
	JMP	canary
refused:
	MOVQ	R12, SP
	MOVQ	$0, r+64(FP)
	MOVB	$0, ok+72(FP)
canary:
	MOVQ	$const_directCanary, R8
	CMPQ	R8, 0(SP)
	JNE	overrun
	RET
overrun:
	JMP	directOverrun<>(SB)

// trampolineIf is the C-ABI function that SystemIf and BlockingIf run on
// the system stack: void trampolineIf(checkedArgs *a). It calls
// a->check(a->checkArg); if that returns a->want, it calls a->fn(a->a0,
// ..., a->a3) and stores the result in a->r and 1 in a->ok. Otherwise r
// and ok stay 0, as the caller initialised them.
TEXT trampolineIf<>(SB), NOSPLIT|NOFRAME, $0
	PUSHQ	BX                      // callee-saved; the push also restores 16-byte alignment
	MOVQ	DI, BX
	MOVQ	checkedArgs_check(BX), R11
	MOVQ	checkedArgs_checkArg(BX), DI
	XORL	AX, AX
	CALL	R11
	CMPQ	AX, checkedArgs_want(BX)
	JNE	done
	MOVQ	checkedArgs_fn(BX), R11
	MOVQ	checkedArgs_a0(BX), DI
	MOVQ	checkedArgs_a1(BX), SI
	MOVQ	checkedArgs_a2(BX), DX
	MOVQ	checkedArgs_a3(BX), CX
	XORL	AX, AX
	CALL	R11
	MOVQ	AX, checkedArgs_r(BX)
	MOVQ	$1, checkedArgs_ok(BX)
done:
	POPQ	BX
	RET

// trampolineIfABI0 holds the address of trampolineIf for the Go side.
GLOBL ·trampolineIfABI0(SB), NOPTR|RODATA, $8
DATA ·trampolineIfABI0(SB)/8, $trampolineIf<>(SB)

// trampoline is the C-ABI function that runtime.asmcgocall and
// runtime.cgocall run on the system stack: void trampoline(callArgs *a).
// It loads the eight arguments from the block, six in registers and the
// seventh and eighth on the stack (pushed last first, so a6 is at 0(SP) at
// the call, as the C ABI places stack arguments), calls a->fn and stores
// the result in a->r. A function of fewer arguments ignores the rest; the
// two pushes cost a nanosecond at most on paths that cost 30 ns and more.
// AL is zeroed so that variadic C functions see no vector arguments.
TEXT trampoline<>(SB), NOSPLIT|NOFRAME, $0
	PUSHQ	BX                      // callee-saved; the push also restores 16-byte alignment
	MOVQ	DI, BX
	PUSHQ	callArgs_a7(BX)         // two pushes keep the 16-byte alignment
	PUSHQ	callArgs_a6(BX)
	MOVQ	callArgs_fn(BX), R11
	MOVQ	callArgs_a0(BX), DI
	MOVQ	callArgs_a1(BX), SI
	MOVQ	callArgs_a2(BX), DX
	MOVQ	callArgs_a3(BX), CX
	MOVQ	callArgs_a4(BX), R8
	MOVQ	callArgs_a5(BX), R9
	XORL	AX, AX
	CALL	R11
	POPQ	R11                     // drop a6 and a7 (POPs, so that the
	POPQ	R11                     // assembler sees the pushes balanced)
	MOVQ	AX, callArgs_r(BX)
	POPQ	BX
	RET

// trampolineABI0 holds the address of trampoline for the Go side.
GLOBL ·trampolineABI0(SB), NOPTR|RODATA, $8
DATA ·trampolineABI0(SB)/8, $trampoline<>(SB)

