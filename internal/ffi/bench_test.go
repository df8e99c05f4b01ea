// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi_test

import (
	"testing"

	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
)

// paths are the ways of calling C that this build has, each as a
// four-argument function.
var paths = []callPath{
	{"Fast4", ffi.Fast4},
	{"cgocall", func(fn, a0, a1, a2, a3 uintptr) uintptr { return ffi.Cgocall(fn, a0, a1, a2, a3, 0, 0) }},
	{"purego", func(fn, a0, a1, a2, a3 uintptr) uintptr { return ffi.Purego(fn, a0, a1, a2, a3, 0, 0) }},
}

type callPath struct {
	name string
	call func(fn, a0, a1, a2, a3 uintptr) uintptr
}

// The benchmarks below are the figures of docs/callpath.md; their names
// (path=...) let benchstat set the paths side by side. Each compares
// against a baseline from the same run: the pair in a C loop, or Go's
// make([]byte, 64).

// BenchmarkMallocFree64 times one glibc malloc(64)+free pair per op on
// every path, next to the same pair in a C loop (the limit) and Go's
// make([]byte, 64), so that the ratios come from one run.
func BenchmarkMallocFree64(b *testing.B) {
	libc := loadLibc(b)
	malloc, free := symbol(b, libc, "malloc"), symbol(b, libc, "free")
	b.Run("path=C-loop", func(b *testing.B) {
		loop := ctest.Symbol(b, "loop_malloc_free")
		b.ResetTimer()
		ffi.Cgocall(loop, malloc, free, 64, uintptr(b.N), 0, 0)
	})
	b.Run("path=fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ffi.Fast1(free, ffi.Fast1(malloc, 64))
		}
	})
	for _, path := range paths {
		b.Run("path="+path.name, func(b *testing.B) {
			for b.Loop() {
				p := path.call(malloc, 64, 0, 0, 0)
				path.call(free, p, 0, 0, 0)
			}
		})
	}
	b.Run("path=go-make", func(b *testing.B) {
		for b.Loop() {
			sink = make([]byte, 64)
		}
	})
}

// spawnWork are the works the spawn and stack benchmarks compare,
// around a glibc malloc(64)+free pair; the measurement of alternatives
// added to it.
func spawnWork(tb testing.TB) []ctest.GoroutineWork {
	libc := loadLibc(tb)
	malloc, free := symbol(tb, libc, "malloc"), symbol(tb, libc, "free")
	return []ctest.GoroutineWork{
		ctest.MakeWork,
		{Name: "fast", Do: func() { ffi.Fast1(free, ffi.Fast1(malloc, 64)) }},
	}
}

// BenchmarkSpawn: a fresh goroutine that makes one pair and ends, per
// op, against one that does make([]byte, 64).
func BenchmarkSpawn(b *testing.B) { ctest.BenchSpawn(b, "path", spawnWork(b)) }

// BenchmarkStacks: the goroutine stack bytes each of 20 000 live
// goroutines holds after one pair, against make([]byte, 64).
func BenchmarkStacks(b *testing.B) { ctest.BenchStacks(b, "path", spawnWork(b)) }

var sink []byte

func loadLibc(tb testing.TB) *ffi.Library {
	tb.Helper()
	lib, err := ffi.Load("libc.so.6")
	if err != nil {
		tb.Fatal(err)
	}
	return lib
}

func symbol(tb testing.TB, lib *ffi.Library, name string) uintptr {
	tb.Helper()
	p, err := lib.Symbol(name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkGuardedCall is the price of one crossing: an empty loop, a
// noop call (return a) alone, and guarded by a pthread_getspecific check.
// In instructions (callgrind), Fast1 minus none minus noop's two is what
// the path itself costs per call.
func BenchmarkGuardedCall(b *testing.B) {
	noop := ctest.Symbol(b, "noop")
	getspecific := symbol(b, loadLibc(b), "pthread_getspecific")
	b.Run("call=none", func(b *testing.B) { // the loop alone, to subtract
		for b.Loop() {
		}
	})
	b.Run("call=Fast1", func(b *testing.B) {
		for b.Loop() {
			ffi.Fast1(noop, 1)
		}
	})
	b.Run("call=FastIf", func(b *testing.B) {
		for b.Loop() {
			ffi.FastIf(getspecific, 0, 0, noop, 1, 0, 0, 0)
		}
	})
}
