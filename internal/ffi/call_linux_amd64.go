// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

package ffi

// structCall passes the return buffer as the hidden first argument, in
// DI: the System V AMD64 rule for a struct returned in memory.
func structCall(fn, ret, size uintptr, a [5]uintptr) {
	slow(fn, ret, a[0], a[1], a[2], a[3], a[4])
}

// getg returns the g register (R14), which holds the running goroutine's
// g in Go code. Implemented in call_linux_amd64.s.
func getg() uintptr

// tlsG returns the g that the thread's TLS slot holds: the one the signal
// handler reads. Implemented in call_linux_amd64.s.
func tlsG() uintptr

// findTLSG has nothing to find on amd64: the assembler reaches the g
// slot through the TLS pseudo-register, as the runtime's own code does.
func findTLSG(g uintptr) error { return nil }

// schedPCFunc is the function the switch leaves in g.sched.pc: inC, whose
// frame an unwinder steps through to the caller.
const schedPCFunc = "ffi.inC"
