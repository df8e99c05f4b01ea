// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

#include "textflag.h"
#include "go_asm.h"

// The C functions are called with the System V AMD64 convention: integer
// arguments in DI, SI, DX, CX, R8, R9, the result in AX, SP 16-byte
// aligned at the CALL, and BX, BP, R12-R15 preserved by the callee. R14 is
// Go's g register and R12 holds Go's SP across the call, both
// callee-saved, so neither needs a store. The package doc walks through
// what the runtime sees at each step.

// TLS_G reads and writes the thread's g slot, the one the signal handler
// reads (runtime.sigtramp loads g from TLS, not from R14).
#define TLS_G(r) 0(r)(TLS*1)

// SWITCH moves the thread onto its system stack. On entry R8 = g.m, R14 =
// g and R12 = SP at entry (the function has no frame, so 0(R12) is its
// return address and 8(R12) its first argument):
//
//   - g.sched.sp gets R12 and g.sched.pc a PC inside inC, a function with
//     no frame: to an unwinder, g is stopped in inC, called from this
//     function's caller. That is what a crash traceback of g
//     (tracebackothers, the GOTRACEBACK=crash dump of every M) reads
//     while g runs C code on another stack; nothing else reads g.sched
//     while g is running, and every park, preemption and stack growth
//     overwrites it before the runtime resumes or scans g from it;
//   - the TLS slot gets g0, so that a signal arriving in C code finds g0
//     running with curg set, the state asmcgocall and systemstack create:
//     it neither preempts g nor injects a panic into it;
//   - SP goes to g0.sched.sp, aligned down to 16 for the C ABI.
//
// A signal between these instructions finds TLS saying g or g0 and SP on
// g's stack, in a function the assembler marks SPWRITE: an unwinder stops
// there instead of guessing a frame.
#define SWITCH \
	MOVQ	const_mG0(R8), R9 \
	MOVQ	R12, (const_gSched+const_gobufSP)(R14) \
	LEAQ	·inC+1(SB), R11 \
	MOVQ	R11, (const_gSched+const_gobufPC)(R14) \
	MOVQ	TLS, R11 \
	MOVQ	R9, TLS_G(R11) \
	MOVQ	(const_gSched+const_gobufSP)(R9), SP \
	ANDQ	$~15, SP

// UNSWITCH returns to g's stack and puts g back in the TLS slot.
#define UNSWITCH \
	MOVQ	R12, SP \
	MOVQ	TLS, R11 \
	MOVQ	R14, TLS_G(R11)

// INPLACE calls fn where the thread already is: g is not g.m.curg, so
// this is g0 or gsignal (a system stack) and there is nothing to switch,
// as in asmcgocall's nosave case.
#define INPLACE_CALL \
	ANDQ	$~15, SP \
	CALL	8(R12) \
	MOVQ	R12, SP

// func inC()
//
// inC never runs. Its second byte is the PC that SWITCH leaves in
// g.sched, so that a traceback of a goroutine in a C call shows inC on
// top, called from the code that made the call. It has no frame and does
// not write SP, which is what lets an unwinder step from it to its
// "caller" through the return address at g.sched.sp.
TEXT ·inC(SB), NOSPLIT|NOFRAME, $0-0
	BYTE	$0x90                   // NOP: the PC in g.sched points past it
	UNDEF

// The switch entry points. Each is NOSPLIT with no frame: it uses none of
// g's stack beyond its return address, so a goroutine's first call grows
// nothing. Three tests come first, each sending the call to its
// switchFallbackN twin (a Go function with the same arguments, so a JMP
// hands it this frame as it is, and it takes the slow path):
//
//   - CMPB ·switchOK: the start-up check has not passed;
//   - CMPQ SP, g.stackguard0: the scheduler asked g to stop (stackguard0
//     is then above any SP), and the fallback's ordinary prologue honours
//     the request, as a Go function's would. This keeps a loop of nothing
//     but fast calls preemptible at every call (offset 16 is the one the
//     compiler's own prologues use);
//   - CMPQ m_curg: g is not the goroutine of its M, so the thread is on a
//     system stack already and the call is made in place.

// func switch1(fn, a0 uintptr) uintptr
TEXT ·switch1(SB), NOSPLIT|NOFRAME, $0-24
	CMPB	·switchOK(SB), $0
	JEQ	fallback
	CMPQ	SP, 16(R14)               // g.stackguard0: a preemption request?
	JLS	fallback
	MOVQ	a0+8(FP), DI
	MOVQ	SP, R12
	MOVQ	const_gM(R14), R8
	CMPQ	R14, const_mCurg(R8)
	JNE	inplace
	SWITCH
	CALL	8(R12)
	UNSWITCH
	MOVQ	AX, ret+16(FP)
	RET
inplace:
	INPLACE_CALL
	MOVQ	AX, ret+16(FP)
	RET
fallback:
	JMP	·switchFallback1(SB)

// func switch4(fn, a0, a1, a2, a3 uintptr) uintptr
TEXT ·switch4(SB), NOSPLIT|NOFRAME, $0-48
	CMPB	·switchOK(SB), $0
	JEQ	fallback
	CMPQ	SP, 16(R14)               // g.stackguard0: a preemption request?
	JLS	fallback
	MOVQ	a0+8(FP), DI
	MOVQ	a1+16(FP), SI
	MOVQ	a2+24(FP), DX
	MOVQ	a3+32(FP), CX
	MOVQ	SP, R12
	MOVQ	const_gM(R14), R8
	CMPQ	R14, const_mCurg(R8)
	JNE	inplace
	SWITCH
	CALL	8(R12)
	UNSWITCH
	MOVQ	AX, ret+40(FP)
	RET
inplace:
	INPLACE_CALL
	MOVQ	AX, ret+40(FP)
	RET
fallback:
	JMP	·switchFallback4(SB)

// func switchIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool)
//
// switchIf is switch1 with two C calls: check(checkArg), then, if it
// returned want, fn(a0, ..., a3). Between the two, R12 still holds Go's
// SP, so want, fn and fn's arguments are read again from the argument
// frame through R12 (8(R12) is check+0(FP)): g's stack does not move
// while no Go code runs on it. Nothing between the two calls can move
// the goroutine to another thread.
TEXT ·switchIf(SB), NOSPLIT|NOFRAME, $0-73
	CMPB	·switchOK(SB), $0
	JEQ	fallback
	CMPQ	SP, 16(R14)               // g.stackguard0: a preemption request?
	JLS	fallback
	MOVQ	checkArg+8(FP), DI
	MOVQ	SP, R12
	MOVQ	const_gM(R14), R8
	CMPQ	R14, const_mCurg(R8)
	JNE	inplace
	SWITCH
	CALL	8(R12)                    // check
	CMPQ	AX, (8+16)(R12)           // want
	JNE	refused
	MOVQ	(8+32)(R12), DI           // a0
	MOVQ	(8+40)(R12), SI           // a1
	MOVQ	(8+48)(R12), DX           // a2
	MOVQ	(8+56)(R12), CX           // a3
	CALL	(8+24)(R12)               // fn
	UNSWITCH
	MOVQ	AX, r+64(FP)
	MOVB	$1, ok+72(FP)
	RET
refused:
	UNSWITCH
	MOVQ	$0, r+64(FP)
	MOVB	$0, ok+72(FP)
	RET
inplace:
	ANDQ	$~15, SP
	CALL	8(R12)
	CMPQ	AX, (8+16)(R12)
	JNE	inplacerefused
	MOVQ	(8+32)(R12), DI
	MOVQ	(8+40)(R12), SI
	MOVQ	(8+48)(R12), DX
	MOVQ	(8+56)(R12), CX
	CALL	(8+24)(R12)
	MOVQ	R12, SP
	MOVQ	AX, r+64(FP)
	MOVB	$1, ok+72(FP)
	RET
inplacerefused:
	MOVQ	R12, SP
	MOVQ	$0, r+64(FP)
	MOVB	$0, ok+72(FP)
	RET
fallback:
	JMP	·switchFallbackIf(SB)

// func getg() uintptr
TEXT ·getg(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ	R14, ret+0(FP)
	RET

// func tlsG() uintptr
TEXT ·tlsG(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ	TLS, AX
	MOVQ	TLS_G(AX), AX
	MOVQ	AX, ret+0(FP)
	RET

// probeSP and probeTLSG are C-ABI leaves for checkSwitch (runtime_linux.go).
// probeSP returns its caller's SP at the call (SP at entry plus the return
// address); probeTLSG returns the g in the TLS slot.
TEXT probeSP<>(SB), NOSPLIT|NOFRAME, $0
	LEAQ	8(SP), AX
	RET

TEXT probeTLSG<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ	TLS, AX
	MOVQ	TLS_G(AX), AX
	RET

GLOBL ·probeSPABI0(SB), NOPTR|RODATA, $8
DATA ·probeSPABI0(SB)/8, $probeSP<>(SB)
GLOBL ·probeTLSGABI0(SB), NOPTR|RODATA, $8
DATA ·probeTLSGABI0(SB)/8, $probeTLSG<>(SB)

// func callOnStack(fn, a0, a1, a2, a3, stack uintptr) (r uintptr)
//
// callOnStack runs fn with SP set to stack, a caller-owned region that is
// not the goroutine stack. It exists to measure how much stack a C function
// uses (see StackUse): the caller fills the region with a pattern and looks
// at how far down it was overwritten. g stays in TLS: a signal that lands
// in fn sees g running outside its stack, which the handler tolerates
// (a profiling sample without a Go stack); StackUse is for tests.
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

// trampolineIf is the C-ABI function that SlowIf runs on the system stack
// through runtime.cgocall: void trampolineIf(checkedArgs *a). It calls
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

GLOBL ·trampolineIfABI0(SB), NOPTR|RODATA, $8
DATA ·trampolineIfABI0(SB)/8, $trampolineIf<>(SB)

// trampoline is the C-ABI function that runtime.cgocall runs on the system
// stack: void trampoline(callArgs *a). It loads the eight arguments from
// the block, six in registers and the seventh and eighth on the stack
// (pushed last first, so a6 is at 0(SP) at the call, as the C ABI places
// stack arguments), calls a->fn and stores the result in a->r. A function
// of fewer arguments ignores the rest. AL is zeroed so that variadic C
// functions see no vector arguments.
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

GLOBL ·trampolineABI0(SB), NOPTR|RODATA, $8
DATA ·trampolineABI0(SB)/8, $trampoline<>(SB)
