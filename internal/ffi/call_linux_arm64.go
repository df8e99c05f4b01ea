// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && arm64 && !nalloc_purego

package ffi

import (
	"errors"
	"runtime"
	"unsafe"
)

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

// tlsGOffset is the offset of the runtime's g slot from TPIDR_EL0, found
// by findTLSG. The runtime knows it as runtime·tls_g, which Go 1.27's
// linker no longer lets this package name from assembly.
var tlsGOffset uintptr

// findTLSG finds the g slot: the one word near the thread pointer that
// holds g on this thread, and holds its own g on another thread. The
// executable's TLS block comes first after the 16-byte thread control
// block (AArch64 uses TLS variant I), and the runtime's slot is in it, so
// a short scan cannot leave the thread's static TLS area.
func findTLSG(g uintptr) error {
	const from, to = 16, 512
	tp := threadPointer()
	found := uintptr(0)
	for off := uintptr(from); off < to; off += 8 {
		if word(tp+off) == g {
			if found != 0 {
				return errors.New("ffi: two TLS words hold g; cannot tell the runtime's g slot; fast calls take the slow path")
			}
			found = off
		}
	}
	if found == 0 {
		return errors.New("ffi: no TLS word near the thread pointer holds g; fast calls take the slow path")
	}
	// The same offset must hold another goroutine's g on another thread.
	ok := make(chan bool)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tp2 := threadPointer()
		ok <- tp2 != tp && word(tp2+found) == getg()
	}()
	if !<-ok {
		return errors.New("ffi: the TLS word that holds g here does not hold g on another thread; fast calls take the slow path")
	}
	tlsGOffset = found
	return nil
}

// schedPCFunc is the function whose PC the switch leaves in g.sched.pc: the
// caller's, as mcall leaves it (checkSwitch makes the call).
const schedPCFunc = "ffi.checkSwitch"
