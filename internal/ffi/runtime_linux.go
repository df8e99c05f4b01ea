// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && (amd64 || arm64) && !nalloc_purego

package ffi

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// The runtime's layout that the switch path reads and writes: offsets in
// runtime.g, runtime.m and runtime.gobuf, the same on amd64 and arm64 in
// Go 1.26 and Go 1.27 (read from the go_asm.h each release generates for
// its runtime). The assembly takes them from go_asm.h as const_gM and so
// on. checkRuntime verifies every one of them at start-up before the
// switch path is used; a release that moves them gets the slow path.
const (
	gStackLo       = 0   // g.stack.lo
	gStackHi       = 8   // g.stack.hi
	gM             = 48  // g.m
	gSched         = 56  // g.sched, a gobuf
	gAtomicstatus  = 144 // g.atomicstatus (uint32)
	gobufSP        = 0   // gobuf.sp
	gobufPC        = 8   // gobuf.pc
	gobufG         = 16  // gobuf.g
	gobufBP        = 40  // gobuf.bp
	mG0            = 0   // m.g0
	mCurg          = 184 // m.curg
	gStatusWaiting = 4   // runtime._Gwaiting
)

// switchOK is set by init when checkRuntime passed; the switch entry
// points test it first and take the slow path while it is false.
var switchOK bool

// errSwitch is why switchOK is false, or nil.
var errSwitch error

func init() {
	errSwitch = checkRuntime()
}

//go:linkname runtime_iscgo runtime.iscgo
var runtime_iscgo bool

// word reads the machine word at address p of the runtime's memory.
func word(p uintptr) uintptr { return *(*uintptr)(Ptr(p)) }

// checkRuntime verifies, on the running Go release and thread, every fact
// about the runtime that the switch path relies on, then turns the switch
// path on and makes one call through it to check what the C side sees.
// It returns why it refused, naming the fact that failed.
func checkRuntime() error {
	if !knownRelease {
		return fmt.Errorf("ffi: %s is not a Go release whose runtime this package was checked against (Go 1.26, Go 1.27); "+
			"fast calls take the slow path; see the package doc's \"A new Go release\"", runtime.Version())
	}
	if !runtime_iscgo {
		return errors.New("ffi: neither runtime/cgo nor purego's fake cgo is linked: threads have no C state and the signal handler does not read g from TLS")
	}
	// One thread throughout, so that g.m stays the m read below.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g := getg()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("ffi: the runtime's layout is not the one this package knows ("+format+"); fast calls take the slow path", args...)
	}
	if err := findTLSG(g); err != nil {
		return err
	}
	if t := tlsG(); t != g {
		return bad("TLS holds g %#x, the g register %#x", t, g)
	}
	m := word(g + gM)
	if m == 0 || word(m+mCurg) != g {
		return bad("g.m.curg is not g")
	}
	g0 := word(m + mG0)
	if g0 == 0 || g0 == g || word(g0+gM) != m {
		return bad("g.m.g0.m is not g.m")
	}
	var local uintptr
	sp := uintptr(unsafe.Pointer(&local))
	if lo, hi := word(g+gStackLo), word(g+gStackHi); sp < lo || sp >= hi {
		return bad("g.stack [%#x, %#x) does not hold SP %#x", lo, hi, sp)
	}
	lo0, hi0, sp0 := word(g0+gStackLo), word(g0+gStackHi), word(g0+gSched+gobufSP)
	if sp0 <= lo0 || sp0 > hi0 {
		return bad("g0.stack [%#x, %#x) does not hold g0.sched.sp %#x", lo0, hi0, sp0)
	}
	if sp0-lo0 < MinSystemStack {
		return fmt.Errorf("ffi: the system stack of this thread has %d bytes free, less than MinSystemStack (%d); fast calls take the slow path", sp0-lo0, MinSystemStack)
	}
	if word(g0+gSched+gobufG) != g0 {
		return bad("g0.sched.g is not g0")
	}
	if err := checkParked(); err != nil {
		return err
	}
	return checkSwitch(g, g0, lo0, sp0)
}

// checkParked checks the gobuf offsets on a goroutine that mcall parked:
// its sched holds a PC in runtime.gopark and an SP and a frame pointer in
// its stack, and its status is _Gwaiting.
func checkParked() error {
	gs := make(chan uintptr)
	release := make(chan struct{})
	go func() {
		gs <- getg()
		<-release
	}()
	defer close(release)
	pg := <-gs
	for i := 0; *(*uint32)(Ptr(pg + gAtomicstatus)) != gStatusWaiting; i++ {
		if i == 100000 {
			return errors.New("ffi: a goroutine blocked in a channel receive never showed status _Gwaiting at g.atomicstatus; fast calls take the slow path")
		}
		runtime.Gosched()
	}
	lo, hi := word(pg+gStackLo), word(pg+gStackHi)
	s := pg + gSched
	if sp, bp := word(s+gobufSP), word(s+gobufBP); sp < lo || sp >= hi || bp < lo || bp >= hi {
		return fmt.Errorf("ffi: a parked goroutine's sched.sp %#x or sched.bp %#x is outside its stack [%#x, %#x); fast calls take the slow path", sp, bp, lo, hi)
	}
	if f := runtime.FuncForPC(word(s + gobufPC)); f == nil || f.Name() != "runtime.gopark" {
		return errors.New("ffi: a parked goroutine's sched.pc is not in runtime.gopark; fast calls take the slow path")
	}
	return nil
}

// checkSwitch turns the switch path on and calls two C-ABI probes through
// it: the C side must run on g0's stack, below g0.sched.sp, 16-byte
// aligned, with g0 in the TLS slot; afterwards TLS must hold g again and
// g.sched must describe the call (a PC in inC, an SP in g's stack),
// which is what a crash traceback of g reads; TestTracebackInC checks
// that such a traceback reaches the caller.
func checkSwitch(g, g0, lo0, sp0 uintptr) (err error) {
	switchOK = true
	defer func() {
		if err != nil {
			switchOK = false
		}
	}()
	csp := switch1(probeSPABI0, 0)
	if csp <= lo0 || csp > sp0 || csp%16 != 0 {
		return fmt.Errorf("ffi: C ran with SP %#x, not on the system stack [%#x, %#x] with the ABI's alignment; fast calls take the slow path", csp, lo0, sp0)
	}
	if ct := switch1(probeTLSGABI0, 0); ct != g0 {
		return fmt.Errorf("ffi: C ran with g %#x in TLS, not g0 %#x; fast calls take the slow path", ct, g0)
	}
	if t := tlsG(); t != g {
		return fmt.Errorf("ffi: TLS holds %#x after a switch, not g %#x; fast calls take the slow path", t, g)
	}
	pc, sp := word(g+gSched+gobufPC), word(g+gSched+gobufSP)
	if f := runtime.FuncForPC(pc); f == nil || !strings.HasSuffix(f.Name(), schedPCFunc) {
		return fmt.Errorf("ffi: after a switch, g.sched.pc is not in %s; fast calls take the slow path", schedPCFunc)
	}
	if lo, hi := word(g+gStackLo), word(g+gStackHi); sp < lo || sp >= hi {
		return errors.New("ffi: after a switch, g.sched.sp is not in g's stack; fast calls take the slow path")
	}
	return nil
}

// The C-ABI probes checkSwitch calls, set in assembly: probeSP returns the
// stack pointer its caller had at the call (on amd64, SP at entry plus the
// pushed return address), which the C ABIs want 16-byte aligned; probeTLSG
// returns the g in the thread's TLS slot.
var probeSPABI0, probeTLSGABI0 uintptr
