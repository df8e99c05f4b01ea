// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
)

// ifPaths are the guarded calls of this build.
var ifPaths = []ifPath{
	{"cgocall", ffi.CgocallIf},
	{"purego", ffi.PuregoIf},
	{"FastIf", ffi.FastIf},
	{"SlowIf", ffi.SlowIf},
}

type ifPath struct {
	name string
	call func(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool)
}

func TestIfPaths(t *testing.T) {
	noop, mix4 := ctest.Symbol(t, "noop"), ctest.Symbol(t, "mix4")
	counterAdd, misalign := ctest.Symbol(t, "counter_add"), ctest.Symbol(t, "sp_misalignment")
	const a, b, c, d = 1 << 40, 3, 1<<50 + 5, 7
	for _, path := range ifPaths {
		if r, ok := path.call(noop, 42, 42, mix4, a, b, c, d); !ok || r != a+2*b+3*c+5*d {
			t.Errorf("%s: check passes: mix4 = %#x, %v; want %#x, true", path.name, r, ok, a+2*b+3*c+5*d)
		}
		before := ffi.Slow1(counterAdd, 0)
		if r, ok := path.call(noop, 42, 43, counterAdd, 1, 0, 0, 0); ok || r != 0 {
			t.Errorf("%s: check fails: got %#x, %v; want 0, false", path.name, r, ok)
		}
		if after := ffi.Slow1(counterAdd, 0); after != before {
			t.Errorf("%s: fn ran although the check failed", path.name)
		}
		for depth := range 4 {
			r, ok := atDepthIf(depth, func() (uintptr, bool) { return path.call(noop, 0, 0, misalign, 0, 0, 0, 0) })
			if !ok || r != 0 {
				t.Errorf("%s at depth %d: C saw SP misaligned by %d (ok %v)", path.name, depth, r, ok)
			}
		}
	}
}

//go:noinline
func atDepthIf(depth int, f func() (uintptr, bool)) (uintptr, bool) {
	if depth == 0 {
		return f()
	}
	return atDepthIf(depth-1, f)
}

// TestIfSameThread checks what FastIf is for: when the check passes, fn
// runs on the thread the check ran on. The goroutines are not locked to
// their threads and the scheduler is kept busy, so a goroutine moves
// between threads often; a guarded call whose check (pthread_self ==
// the thread seen just before) passes must see the same thread in fn.
func TestIfSameThread(t *testing.T) {
	if ffi.FastPath == ffi.PathPurego {
		t.Skip("on the purego path the two calls are separate; only a locked goroutine keeps them together")
	}
	libc := loadLibc(t)
	self := symbol(t, libc, "pthread_self")
	iterations := 200000
	if testing.Short() {
		iterations = 20000
	}
	var passed, refused atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) { // churn: goroutines that yield all the time
		wg.Go(func() {
			for !stop.Load() {
				runtime.Gosched()
			}
		})
	}
	var workers sync.WaitGroup
	for range 4 {
		workers.Go(func() {
			for i := range iterations {
				before := ffi.Fast1(self, 0)
				if i%64 == 0 {
					runtime.Gosched() // invite a move between the two
				}
				for _, call := range []func(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool){ffi.FastIf, ffi.SlowIf} {
					r, ok := call(self, 0, before, self, 0, 0, 0, 0)
					if !ok {
						refused.Add(1)
						continue
					}
					passed.Add(1)
					if r != before {
						t.Errorf("the check saw thread %#x, fn ran on %#x", before, r)
						return
					}
				}
			}
		})
	}
	workers.Wait()
	stop.Store(true)
	wg.Wait()
	t.Logf("%d guarded calls passed, %d were refused after the goroutine moved", passed.Load(), refused.Load())
	if passed.Load() == 0 {
		t.Fatal("no guarded call passed its check")
	}
}
