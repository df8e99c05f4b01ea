// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package ffi_test

// What the runtime does around fast calls: the claims of the package
// doc's "What the runtime sees", one test each.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
)

// TestFastNoAllocs: a fast pair makes no Go heap allocation (purego's
// does).
func TestFastNoAllocs(t *testing.T) {
	if ffi.FastPath == ffi.PathPurego {
		t.Skip("purego allocates")
	}
	libc := loadLibc(t)
	malloc, free := symbol(t, libc, "malloc"), symbol(t, libc, "free")
	if n := testing.AllocsPerRun(1000, func() { ffi.Fast1(free, ffi.Fast1(malloc, 64)) }); n != 0 {
		t.Fatalf("a fast malloc+free pair made %v Go allocations", n)
	}
}

// TestFirstCallGrowsNoStack: 20 000 fresh goroutines that each make one
// fast pair hold no more stack than ones that did make([]byte, 64), give
// or take 1 KiB each. (The direct path of old grew each to 32 KiB.)
func TestFirstCallGrowsNoStack(t *testing.T) {
	if ffi.FastPath == ffi.PathPurego {
		t.Skip("purego's SyscallN grows the stack itself")
	}
	libc := loadLibc(t)
	malloc, free := symbol(t, libc, "malloc"), symbol(t, libc, "free")
	n := 20000
	if testing.Short() {
		n = 2000
	}
	base := ctest.StackBytesPerGoroutine(n, func() { ctest.Keep(make([]byte, 64)) })
	fast := ctest.StackBytesPerGoroutine(n, func() { ffi.Fast1(free, ffi.Fast1(malloc, 64)) })
	t.Logf("stack bytes per goroutine: %.0f after make, %.0f after a fast pair", base, fast)
	if fast > base+1024 {
		t.Fatalf("a goroutine's first fast call grew its stack: %.0f bytes per goroutine against %.0f", fast, base)
	}
}

// TestLockedThread: fast calls from goroutines locked to their threads
// run on those threads, call after call.
func TestLockedThread(t *testing.T) {
	self := symbol(t, loadLibc(t), "pthread_self")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			first := ffi.Fast1(self, 0)
			for i := range 10000 {
				if i%100 == 0 {
					runtime.Gosched()
				}
				if got := ffi.Fast1(self, 0); got != first {
					t.Errorf("a locked goroutine's call ran on thread %#x, then %#x", first, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestManyGoroutines: thousands of goroutines at once, each allocating,
// writing, checking and freeing through the fast path.
func TestManyGoroutines(t *testing.T) {
	libc := loadLibc(t)
	malloc, free := symbol(t, libc, "malloc"), symbol(t, libc, "free")
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := range 5000 {
		wg.Go(func() {
			b := block{ffi.Ptr(ffi.Fast1(malloc, 256)), 256, byte(i)}
			b.fill()
			runtime.Gosched()
			if !b.check() {
				bad.Add(1)
			}
			ffi.Fast1(free, uintptr(b.p))
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d blocks were overwritten", bad.Load())
	}
}

// TestStacksWhileInC: a goroutine profile and runtime.Stack of every
// goroutine, taken again and again while other goroutines make fast calls
// (some of them a millisecond long), complete and show those goroutines
// in Go code: both stop the world, which waits for each C call to
// return.
func TestStacksWhileInC(t *testing.T) {
	libc := loadLibc(t)
	usleep, malloc, free := symbol(t, libc, "usleep"), symbol(t, libc, "malloc"), symbol(t, libc, "free")
	var stop atomic.Bool
	var wg, started sync.WaitGroup
	started.Add(4)
	for i := range 4 {
		wg.Go(func() { inCWorker(&stop, &started, i, usleep, malloc, free) })
	}
	started.Wait()
	defer func() { stop.Store(true); wg.Wait() }()
	buf := make([]byte, 1<<20)
	for range 20 {
		n := runtime.Stack(buf, true)
		if !bytes.Contains(buf[:n], []byte("ffi_test.inCWorker")) {
			t.Fatalf("runtime.Stack(all) does not show the workers:\n%s", buf[:n])
		}
		var prof bytes.Buffer
		if err := pprof.Lookup("goroutine").WriteTo(&prof, 1); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(prof.String(), "inCWorker") {
			t.Fatalf("the goroutine profile does not show the workers:\n%s", prof.String())
		}
	}
}

//go:noinline
func inCWorker(stop *atomic.Bool, started *sync.WaitGroup, i int, usleep, malloc, free uintptr) {
	ffi.Fast1(free, ffi.Fast1(malloc, 64))
	started.Done()
	for !stop.Load() {
		if i == 0 {
			ffi.Fast1(usleep, 1000)
		} else {
			ffi.Fast1(free, ffi.Fast1(malloc, 64))
		}
	}
}

// TestCrashInC: a fault in C code called on the fast path ends the
// process with the runtime's report (the signal, the PC, and the Go stack
// that made the call, through inC) rather than a Go panic or a hang.
func TestCrashInC(t *testing.T) {
	crash := ctest.Symbol(t, "crash_null")
	if os.Getenv("NALLOC_FFI_CRASH_CHILD") == "1" {
		crashingCaller(crash)
		t.Fatal("crash_null returned")
	}
	out, code := runChild(t, "^TestCrashInC$", "NALLOC_FFI_CRASH_CHILD=1")
	if code != 2 {
		t.Fatalf("child exited with %d, want 2 (a fatal signal); output:\n%s", code, out)
	}
	want := []string{"SIGSEGV", "PC=", "ffi_test.crashingCaller"}
	if ffi.FastPath == ffi.PathSwitch && ffi.SwitchErr() == nil {
		want = append(want, "[running]") // cgocall's goroutine says [syscall]
		if runtime.GOARCH == "amd64" {
			want = append(want, "ffi.inC") // arm64 shows the call site as mcall would
		}
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the crash report lacks %q; output:\n%s", w, out)
		}
	}
}

//go:noinline
func crashingCaller(crash uintptr) { ffi.Fast1(crash, 1) }

// TestTracebackInC: with GOTRACEBACK=crash, a SIGQUIT makes every thread
// print its goroutine; the thread in a long C call finds g0 current and
// prints its goroutine's Go stack from what the switch left in g.sched,
// and the process ends.
func TestTracebackInC(t *testing.T) {
	libc := loadLibc(t)
	malloc := symbol(t, libc, "malloc")
	sleep := ctest.Symbol(t, "flag_then_sleep")
	if os.Getenv("NALLOC_FFI_TRACEBACK_CHILD") == "1" {
		debug.SetGCPercent(-1) // no stop-the-world to divert the call
		flag := ffi.Fast1(malloc, 8)
		*(*uintptr)(ffi.Ptr(flag)) = 0
		go sleeperInC(sleep, flag)
		for *(*uintptr)(ffi.Ptr(flag)) == 0 {
			runtime.Gosched()
		}
		fmt.Fprintln(os.Stderr, "nalloc: TestTracebackInC sends SIGQUIT")
		syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		time.Sleep(time.Minute)
	}
	if ffi.FastPath != ffi.PathSwitch || ffi.SwitchErr() != nil {
		t.Skipf("the report of a goroutine in C comes from the switch path, not %v", ffi.FastPath)
	}
	var out string
	for range 3 { // a preemption request can send the call down the slow path
		out, _ = runChild(t, "^TestTracebackInC$", "NALLOC_FFI_TRACEBACK_CHILD=1", "GOTRACEBACK=crash")
		if !strings.Contains(out, "TestTracebackInC sends SIGQUIT") || !strings.Contains(out, "SIGQUIT: quit") {
			t.Fatalf("the child did not quit as planned; output:\n%s", out)
		}
		if !strings.Contains(out, "switchFallback") {
			break
		}
	}
	// Frames as a traceback prints them, name and "(": a bare name also
	// matches the annotations of the hex dump that the unwinding of the
	// thread's own g0 prints, which names any Go return address left on
	// that stack whether or not the goroutine's stack is printed.
	want := []string{"ffi_test.sleeperInC("}
	if runtime.GOARCH == "amd64" {
		want = append(want, "ffi.inC(")
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the crash dump lacks %q for the goroutine in C; output:\n%s", w, out)
		}
	}
}

//go:noinline
func sleeperInC(sleep, flag uintptr) { ffi.Fast4(sleep, flag, 10_000_000, 0, 0) }

// runChild runs this test binary on one test with extra environment and
// returns its combined output and exit code; it fails the test if the
// child is still running after a minute.
func runChild(t *testing.T, run string, env ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the child hung; output so far:\n%s", out)
	}
	return string(out), cmd.ProcessState.ExitCode()
}
