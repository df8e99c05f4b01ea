// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && arm64 && !nalloc_purego

#include "textflag.h"
#include "go_asm.h"

// The C functions are called with AAPCS64: integer arguments in R0-R7, a
// struct returned in memory at the address in R8, the result in R0, SP
// 16-byte aligned, R19-R28 and R29 preserved by the callee. g is R28,
// callee-saved, so it survives the call; Go's SP waits in R19 and the
// return address in R20, both callee-saved (BL overwrites R30, and these
// functions have no frame to keep it in). The package doc walks through
// what the runtime sees; call_linux_amd64.s has the same design.

// TLS_G_ADDR(r, t) leaves the address of the thread's g slot in r, the one
// runtime.load_g reads (the signal handler loads g from it when the
// process has cgo or purego's fake cgo). tlsGOffset was found at start-up
// (findTLSG): Go 1.27 refuses a reference to runtime·tls_g from here.
#define TLS_G_ADDR(r, t) \
	MRS	TPIDR_EL0, r \
	MOVD	·tlsGOffset(SB), t \
	ADD	t, r

// CHECKS sends the call to its fallback when the start-up check has not
// passed, or when the scheduler asked g to stop (stackguard0 above SP;
// offset 16 is the one the compiler's prologues use), and to inplace when
// g is not g.m.curg (g0 or gsignal: the thread is on a system stack).
// It leaves R19 = SP and R8 = g.m.
#define CHECKS \
	MOVBU	·switchOK(SB), R9 \
	CBZ	R9, fallback \
	MOVD	16(g), R9 \
	MOVD	RSP, R19 \
	CMP	R9, R19 \
	BLS	fallback \
	MOVD	const_gM(g), R8 \
	MOVD	const_mCurg(R8), R9 \
	CMP	R9, g \
	BNE	inplace

// SWITCH saves g.sched as mcall does (SP, and the return address as the
// PC: to an unwinder, g is stopped at the call site, whose frame holds
// its own saved LR), puts g0 in the TLS slot and moves SP to g0.sched.sp
// (16-byte aligned on arm64, where every frame is). R20 keeps the return
// address across the BL.
#define SWITCH \
	MOVD	R30, R20 \
	STP	(R19, R30), (const_gSched+const_gobufSP)(g) \
	MOVD	const_mG0(R8), R9 \
	TLS_G_ADDR(R10, R11) \
	MOVD	R9, (R10) \
	MOVD	(const_gSched+const_gobufSP)(R9), R9 \
	MOVD	R9, RSP

// UNSWITCH returns to g's stack, puts g back in the TLS slot and the
// return address back in R30.
#define UNSWITCH \
	MOVD	R19, RSP \
	TLS_G_ADDR(R10, R11) \
	MOVD	g, (R10) \
	MOVD	R20, R30

// func inC()
//
// inC never runs; on amd64 it is the PC a switched goroutine shows. It is
// declared for both architectures so that the Go side is one file.
TEXT ·inC(SB), NOSPLIT|NOFRAME, $0-0
	UNDEF

// func switch1(fn, a0 uintptr) uintptr
TEXT ·switch1(SB), NOSPLIT|NOFRAME, $0-24
	CHECKS
	MOVD	fn+0(FP), R12
	MOVD	a0+8(FP), R0
	SWITCH
	BL	(R12)
	UNSWITCH
	MOVD	R0, ret+16(FP)
	RET
inplace:
	MOVD	fn+0(FP), R12
	MOVD	a0+8(FP), R0
	MOVD	R30, R20
	BL	(R12)
	MOVD	R20, R30
	MOVD	R0, ret+16(FP)
	RET
fallback:
	JMP	·switchFallback1(SB)

// func switch4(fn, a0, a1, a2, a3 uintptr) uintptr
TEXT ·switch4(SB), NOSPLIT|NOFRAME, $0-48
	CHECKS
	MOVD	fn+0(FP), R12
	MOVD	a0+8(FP), R0
	MOVD	a1+16(FP), R1
	MOVD	a2+24(FP), R2
	MOVD	a3+32(FP), R3
	SWITCH
	BL	(R12)
	UNSWITCH
	MOVD	R0, ret+40(FP)
	RET
inplace:
	MOVD	fn+0(FP), R12
	MOVD	a0+8(FP), R0
	MOVD	a1+16(FP), R1
	MOVD	a2+24(FP), R2
	MOVD	a3+32(FP), R3
	MOVD	R30, R20
	BL	(R12)
	MOVD	R20, R30
	MOVD	R0, ret+40(FP)
	RET
fallback:
	JMP	·switchFallback4(SB)

// func switchIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool)
//
// switchIf is switch1 with two C calls, as on amd64: between them R19
// still holds Go's SP, so want, fn and fn's arguments are read again
// from the argument frame through it (8(R19) is check+0(FP)).
TEXT ·switchIf(SB), NOSPLIT|NOFRAME, $0-73
	CHECKS
	MOVD	check+0(FP), R12
	MOVD	checkArg+8(FP), R0
	SWITCH
	BL	(R12)
	MOVD	(8+16)(R19), R9           // want
	CMP	R9, R0
	BNE	refused
	MOVD	(8+32)(R19), R0           // a0
	MOVD	(8+40)(R19), R1
	MOVD	(8+48)(R19), R2
	MOVD	(8+56)(R19), R3
	MOVD	(8+24)(R19), R12          // fn
	BL	(R12)
	UNSWITCH
	MOVD	R0, r+64(FP)
	MOVD	$1, R9
	MOVB	R9, ok+72(FP)
	RET
refused:
	UNSWITCH
	MOVD	ZR, r+64(FP)
	MOVB	ZR, ok+72(FP)
	RET
inplace:
	MOVD	check+0(FP), R12
	MOVD	checkArg+8(FP), R0
	MOVD	R30, R20
	BL	(R12)
	MOVD	(8+16)(R19), R9
	CMP	R9, R0
	BNE	inplacerefused
	MOVD	(8+32)(R19), R0
	MOVD	(8+40)(R19), R1
	MOVD	(8+48)(R19), R2
	MOVD	(8+56)(R19), R3
	MOVD	(8+24)(R19), R12
	BL	(R12)
	MOVD	R20, R30
	MOVD	R0, r+64(FP)
	MOVD	$1, R9
	MOVB	R9, ok+72(FP)
	RET
inplacerefused:
	MOVD	R20, R30
	MOVD	ZR, r+64(FP)
	MOVB	ZR, ok+72(FP)
	RET
fallback:
	JMP	·switchFallbackIf(SB)

// func getg() uintptr
TEXT ·getg(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	g, ret+0(FP)
	RET

// func threadPointer() uintptr
TEXT ·threadPointer(SB), NOSPLIT|NOFRAME, $0-8
	MRS	TPIDR_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// probeSP and probeTLSG are C-ABI leaves for checkSwitch (runtime_linux.go):
// the caller's SP at the call, and the g in the TLS slot.
TEXT probeSP<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	RSP, R0
	RET

TEXT probeTLSG<>(SB), NOSPLIT|NOFRAME, $0
	TLS_G_ADDR(R1, R2)
	MOVD	(R1), R0
	RET

GLOBL ·probeSPABI0(SB), NOPTR|RODATA, $8
DATA ·probeSPABI0(SB)/8, $probeSP<>(SB)
GLOBL ·probeTLSGABI0(SB), NOPTR|RODATA, $8
DATA ·probeTLSGABI0(SB)/8, $probeTLSG<>(SB)

// func callOnStack(fn, a0, a1, a2, a3, stack uintptr) (r uintptr)
//
// callOnStack runs fn with SP set to stack, a caller-owned region (see
// StackUse and its amd64 twin).
TEXT ·callOnStack(SB), NOSPLIT|NOFRAME, $0-56
	MOVD	fn+0(FP), R12
	MOVD	a0+8(FP), R0
	MOVD	a1+16(FP), R1
	MOVD	a2+24(FP), R2
	MOVD	a3+32(FP), R3
	MOVD	stack+40(FP), R4
	AND	$~15, R4
	MOVD	RSP, R19
	MOVD	R30, R20
	MOVD	R4, RSP
	BL	(R12)
	MOVD	R19, RSP
	MOVD	R20, R30
	MOVD	R0, r+48(FP)
	RET

// trampoline is the C-ABI function that runtime.cgocall runs on the system
// stack: void trampoline(callArgs *a). It loads the eight arguments into
// R0-R7 and the struct-return address into R8, calls a->fn and stores
// the result in a->r. R19 and R30 are saved in a 16-byte frame.
TEXT trampoline<>(SB), NOSPLIT|NOFRAME, $0
	SUB	$16, RSP
	STP	(R19, R30), (RSP)
	MOVD	R0, R19
	MOVD	callArgs_fn(R19), R12
	MOVD	callArgs_a0(R19), R0
	MOVD	callArgs_a1(R19), R1
	MOVD	callArgs_a2(R19), R2
	MOVD	callArgs_a3(R19), R3
	MOVD	callArgs_a4(R19), R4
	MOVD	callArgs_a5(R19), R5
	MOVD	callArgs_a6(R19), R6
	MOVD	callArgs_a7(R19), R7
	MOVD	callArgs_x8(R19), R8
	BL	(R12)
	MOVD	R0, callArgs_r(R19)
	LDP	(RSP), (R19, R30)
	ADD	$16, RSP
	RET

GLOBL ·trampolineABI0(SB), NOPTR|RODATA, $8
DATA ·trampolineABI0(SB)/8, $trampoline<>(SB)

// trampolineIf is trampoline for SlowIf: void trampolineIf(checkedArgs *a),
// check then fn, as on amd64.
TEXT trampolineIf<>(SB), NOSPLIT|NOFRAME, $0
	SUB	$16, RSP
	STP	(R19, R30), (RSP)
	MOVD	R0, R19
	MOVD	checkedArgs_check(R19), R12
	MOVD	checkedArgs_checkArg(R19), R0
	BL	(R12)
	MOVD	checkedArgs_want(R19), R9
	CMP	R9, R0
	BNE	done
	MOVD	checkedArgs_fn(R19), R12
	MOVD	checkedArgs_a0(R19), R0
	MOVD	checkedArgs_a1(R19), R1
	MOVD	checkedArgs_a2(R19), R2
	MOVD	checkedArgs_a3(R19), R3
	BL	(R12)
	MOVD	R0, checkedArgs_r(R19)
	MOVD	$1, R9
	MOVD	R9, checkedArgs_ok(R19)
done:
	LDP	(RSP), (R19, R30)
	ADD	$16, RSP
	RET

GLOBL ·trampolineIfABI0(SB), NOPTR|RODATA, $8
DATA ·trampolineIfABI0(SB)/8, $trampolineIf<>(SB)
