// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

// MEASUREMENT ONLY: the alternatives to the switch path that
// docs/callpath.md compares. Removed in the commit after the one that
// measured them.

#include "textflag.h"
#include "go_asm.h"

#define TLS_G(r) 0(r)(TLS*1)

// func altNoSched1(fn, a0 uintptr) uintptr: the switch without g.sched.
TEXT ·altNoSched1(SB), NOSPLIT|NOFRAME, $0-24
	CMPB	·switchOK(SB), $0
	JEQ	fallback
	MOVQ	fn+0(FP), AX
	MOVQ	a0+8(FP), DI
	MOVQ	const_gM(R14), R8
	CMPQ	R14, const_mCurg(R8)
	JNE	fallback
	MOVQ	const_mG0(R8), R9
	MOVQ	TLS, R11
	MOVQ	R9, TLS_G(R11)
	MOVQ	SP, R12
	MOVQ	(const_gSched+const_gobufSP)(R9), SP
	ANDQ	$~15, SP
	CALL	AX
	MOVQ	R12, SP
	MOVQ	TLS, R11
	MOVQ	R14, TLS_G(R11)
	MOVQ	AX, ret+16(FP)
	RET
fallback:
	JMP	·switchFallback1(SB)

// DIRECT(frame): Direct as it was, a frame of the given size on the
// goroutine stack (the ordinary prologue grows the stack), no canary.
#define DIRECT(frame) \
	MOVQ	fn+0(FP), AX \
	MOVQ	a0+8(FP), DI \
	MOVQ	SP, R12 \
	ADDQ	$frame, SP \
	ANDQ	$~15, SP \
	CALL	AX \
	MOVQ	R12, SP \
	MOVQ	AX, ret+16(FP) \
	RET

// func altDirect1K(fn, a0 uintptr) uintptr
TEXT ·altDirect1K(SB), 0, $1024-24
	DIRECT(1024)

// func altDirect4K(fn, a0 uintptr) uintptr
TEXT ·altDirect4K(SB), 0, $4096-24
	DIRECT(4096)

// func altDirect16K(fn, a0 uintptr) uintptr
TEXT ·altDirect16K(SB), 0, $16384-24
	DIRECT(16384)

// func altHybrid1(fn, a0 uintptr) uintptr: on the goroutine stack, below
// SP, when the stack already has 16 KiB free above its guard; switched
// otherwise (without g.sched, like altNoSched1).
TEXT ·altHybrid1(SB), NOSPLIT|NOFRAME, $0-24
	MOVQ	fn+0(FP), AX
	MOVQ	a0+8(FP), DI
	MOVQ	SP, R12
	MOVQ	16(R14), R11            // g.stackguard0
	ADDQ	$16384, R11
	CMPQ	R12, R11
	JLS	switch
	ANDQ	$~15, SP
	CALL	AX
	MOVQ	R12, SP
	MOVQ	AX, ret+16(FP)
	RET
switch:
	JMP	·altNoSched1(SB)
