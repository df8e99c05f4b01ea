// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package ffi_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
)

func TestPathsPassArguments(t *testing.T) {
	mix4, mix6 := ctest.Symbol(t, "mix4"), ctest.Symbol(t, "mix6")
	const a, b, c, d, e, f = 1 << 40, 3, 1<<50 + 5, 7, 11, 13
	want4 := uintptr(a + 2*b + 3*c + 5*d)
	want6 := want4 + 7*e + 11*f
	for _, path := range paths {
		if got := path.call(mix4, a, b, c, d); got != want4 {
			t.Errorf("%s: mix4 = %#x, want %#x", path.name, got, want4)
		}
	}
	six := map[string]func(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr{
		"cgocall": ffi.Cgocall, "purego": ffi.Purego,
	}
	for name, call := range six {
		if got := call(mix6, a, b, c, d, e, f); got != want6 {
			t.Errorf("%s: mix6 = %#x, want %#x", name, got, want6)
		}
	}
	mix8 := ctest.Symbol(t, "mix8")
	const g, h = 1 << 33, 19
	want8 := want6 + 13*g + 17*h
	if got := ffi.Slow8(mix8, a, b, c, d, e, f, g, h); got != want8 {
		t.Errorf("Slow8: mix8 = %#x, want %#x", got, want8)
	}
	if got := ffi.Purego8(mix8, a, b, c, d, e, f, g, h); got != want8 {
		t.Errorf("Purego8: mix8 = %#x, want %#x", got, want8)
	}
	if got := ffi.Fast4(mix4, a, b, c, d); got != want4 {
		t.Errorf("Fast4: mix4 = %#x, want %#x", got, want4)
	}
}

// TestPathsAlignStack checks the C ABI's 16-byte stack alignment at the
// call on every path, at several goroutine stack depths (Go keeps SP only
// 8-byte aligned, so each path must align it itself).
func TestPathsAlignStack(t *testing.T) {
	fn := ctest.Symbol(t, "sp_misalignment")
	for _, path := range paths {
		for depth := range 4 {
			if got := atDepth(depth, func() uintptr { return path.call(fn, 0, 0, 0, 0) }); got != 0 {
				t.Errorf("%s at depth %d: C saw SP misaligned by %d", path.name, depth, got)
			}
		}
	}
	if got := ffi.Slow8(fn, 0, 0, 0, 0, 0, 0, 0, 0); got != 0 {
		t.Errorf("Slow8: C saw SP misaligned by %d", got)
	}
	if _, _, ok := ffi.StackUse(fn, 0, 0, 0, 0); ok {
		if got, _, _ := ffi.StackUse(fn, 0, 0, 0, 0); got != 0 {
			t.Errorf("StackUse: C saw SP misaligned by %d", got)
		}
	}
}

// atDepth calls f under depth extra frames of 8 bytes each, so that the
// caller's SP takes both values mod 16.
//
//go:noinline
func atDepth(depth int, f func() uintptr) uintptr {
	if depth == 0 {
		return f()
	}
	return atDepth(depth-1, f)
}

func TestStackUseMeasures(t *testing.T) {
	useStack := ctest.Symbol(t, "use_stack")
	_, used, ok := ffi.StackUse(useStack, 8192, 0, 0, 0)
	if !ok {
		t.Skip("StackUse needs the assembly paths")
	}
	if used < 8192 || used > 8192+1024 {
		t.Fatalf("StackUse(use_stack(8192)) = %d bytes, want 8192..9216", used)
	}
}

// TestSlowHandsOffP checks that the slow path lets other
// goroutines run during the call, even with GOMAXPROCS=1: the other
// goroutine's counter must move while a 100 ms C sleep is in progress.
func TestSlowHandsOffP(t *testing.T) {
	if ffi.SlowPath != ffi.PathCgocall {
		t.Skip("no cgocall path in this build")
	}
	usleep := symbol(t, loadLibc(t), "usleep")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var count atomic.Int64
	var stop atomic.Bool
	started := make(chan struct{})
	go func() {
		close(started)
		for !stop.Load() {
			count.Add(1)
			runtime.Gosched()
		}
	}()
	<-started
	before := count.Load()
	ffi.Slow1(usleep, 100_000)
	after := count.Load()
	stop.Store(true)
	if after == before {
		t.Fatal("no other goroutine ran during a 100 ms blocking call with GOMAXPROCS=1")
	}
}

// TestFastPreemption checks that a goroutine that does nothing but
// fast calls can still be preempted: with one P, main must get to run
// again, and a stop-the-world GC must complete, while it spins.
func TestFastPreemption(t *testing.T) {
	libc := loadLibc(t)
	malloc, free := symbol(t, libc, "malloc"), symbol(t, libc, "free")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var stop atomic.Bool
	var calls atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			ffi.Fast1(free, ffi.Fast1(malloc, 64))
			calls.Add(1)
		}
	}()
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	time.Sleep(10 * time.Millisecond) // needs the spinner preempted to return
	runtime.GC()                      // needs it stopped at a safe point
	stop.Store(true)
	<-done
	if calls.Load() == 0 {
		t.Fatal("spinner made no calls")
	}
}

// TestFastStress runs the fast path on several goroutines at varying
// stack depths while the GC runs continually (and moves and shrinks
// stacks), a CPU profile sends SIGPROF, and a storm of SIGUSR1 arrives.
// Every block is filled with its owner's pattern and checked before it is
// freed. Run under -race in CI.
func TestFastStress(t *testing.T) {
	libc := loadLibc(t)
	malloc, free := symbol(t, libc, "malloc"), symbol(t, libc, "free")
	duration := 1500 * time.Millisecond
	if testing.Short() {
		duration = 300 * time.Millisecond
	}
	defer debug.SetGCPercent(debug.SetGCPercent(1))

	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, syscall.SIGUSR1)
	defer signal.Stop(sigs)

	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	var received, sent atomic.Int64
	wg.Go(func() {
		for time.Now().Before(deadline) {
			syscall.Kill(os.Getpid(), syscall.SIGUSR1)
			sent.Add(1)
			time.Sleep(50 * time.Microsecond)
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-sigs:
				received.Add(1)
			case <-time.After(time.Until(deadline) + 100*time.Millisecond):
				return
			}
		}
	})
	wg.Go(func() {
		for time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	})
	var total atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var live []block
			var garbage [][]byte
			for time.Now().Before(deadline) {
				depth := rng.IntN(64)
				atDepth(depth, func() uintptr {
					size := uintptr(16 + rng.IntN(4096))
					p := ffi.Ptr(ffi.Fast1(malloc, size))
					if p == nil {
						t.Error("malloc returned NULL")
						return 0
					}
					b := block{p, size, byte(w + 1)}
					b.fill()
					live = append(live, b)
					return 0
				})
				garbage = append(garbage, make([]byte, 512)) // work for the GC
				if len(garbage) > 256 {
					garbage = nil
				}
				if len(live) > 64 || rng.IntN(3) == 0 {
					i := rng.IntN(len(live))
					b := live[i]
					live[i] = live[len(live)-1]
					live = live[:len(live)-1]
					if !b.check() {
						t.Errorf("worker %d: block %p of %d bytes was overwritten", w, b.p, b.size)
					}
					atDepth(rng.IntN(64), func() uintptr { return ffi.Fast1(free, uintptr(b.p)) })
				}
				total.Add(1)
			}
			for _, b := range live {
				if !b.check() {
					t.Errorf("worker %d: block %p was overwritten", w, b.p)
				}
				ffi.Fast1(free, uintptr(b.p))
			}
		})
	}
	wg.Wait()
	pprof.StopCPUProfile()
	if total.Load() == 0 || prof.Len() == 0 {
		t.Fatalf("stress did nothing: %d operations, %d-byte profile", total.Load(), prof.Len())
	}
	if received.Load() == 0 {
		t.Fatalf("sent %d SIGUSR1, received none", sent.Load())
	}
	t.Logf("%d operations, %d/%d signals, %d-byte CPU profile", total.Load(),
		received.Load(), sent.Load(), prof.Len())
}

type block struct {
	p    unsafe.Pointer
	size uintptr
	tag  byte
}

func (b block) bytes() []byte {
	return unsafe.Slice((*byte)(b.p), b.size)
}

func (b block) fill() {
	for i := range b.bytes() {
		b.bytes()[i] = b.tag ^ byte(i)
	}
}

func (b block) check() bool {
	for i, c := range b.bytes() {
		if c != b.tag^byte(i) {
			return false
		}
	}
	return true
}

func TestLoadErrors(t *testing.T) {
	_, err := ffi.Load("libnalloc-no-such-library.so.9", "/nonexistent/libx.so")
	var le *ffi.LoadError
	if !errors.As(err, &le) || len(le.Attempts) != 2 {
		t.Fatalf("Load of missing libraries: err = %v, want a *LoadError with 2 attempts", err)
	}
	if !strings.Contains(err.Error(), "libnalloc-no-such-library.so.9") {
		t.Errorf("error %q does not name the library", err)
	}
	if _, err := ffi.Load(); err == nil {
		t.Error("Load() with no names: no error")
	}
	libc := loadLibc(t)
	if _, err := libc.Symbol("nalloc_no_such_symbol"); err == nil ||
		!strings.Contains(err.Error(), "nalloc_no_such_symbol") {
		t.Errorf("Symbol of a missing name: err = %v, want one naming the symbol", err)
	}
	var a, b uintptr
	if err := libc.Symbols(ffi.Sym{Name: "malloc", Addr: &a}, ffi.Sym{Name: "free", Addr: &b}); err != nil || a == 0 || b == 0 {
		t.Errorf("Symbols(malloc, free) = %v, addresses %#x %#x", err, a, b)
	}
}

// TestLoadErrorText checks that dlerror's text reaches LoadError even
// when goroutines move between threads: dlopen and dlerror are two calls,
// and dlerror's text is per thread, so a goroutine that ran dlopen on one
// thread and dlerror on another got an empty message (and jemalloc's
// "static TLS" failure was then taken for a missing library).
func TestLoadErrorText(t *testing.T) {
	stop := make(chan struct{})
	var churn sync.WaitGroup
	for range 4 { // goroutines that keep the scheduler moving others around
		churn.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
			}
		})
	}
	defer func() { close(stop); churn.Wait() }()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				_, err := ffi.Load("libnalloc-no-such-library.so.9")
				var le *ffi.LoadError
				if !errors.As(err, &le) || !strings.Contains(le.Attempts[0].Err, "libnalloc-no-such-library.so.9") {
					t.Errorf("Load of a missing library: dlerror's text was lost: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}
