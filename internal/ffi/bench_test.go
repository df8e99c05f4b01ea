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
	{"fast", ffi.Fast4},
	{"cgocall", func(fn, a0, a1, a2, a3 uintptr) uintptr { return ffi.Blocking(fn, a0, a1, a2, a3, 0, 0) }},
	{"purego", func(fn, a0, a1, a2, a3 uintptr) uintptr { return ffi.Purego(fn, a0, a1, a2, a3, 0, 0) }},
}

type callPath struct {
	name string
	call func(fn, a0, a1, a2, a3 uintptr) uintptr
}

// BenchmarkMallocFree64 times one glibc malloc(64)+free pair per op on
// every path, next to the same pair in a C loop (the limit) and Go's
// make([]byte, 64), so that the ratios come from one run.
func BenchmarkMallocFree64(b *testing.B) {
	libc := loadLibc(b)
	malloc, free := symbol(b, libc, "malloc"), symbol(b, libc, "free")
	b.Run("path=C-loop", func(b *testing.B) {
		loop := ctest.Symbol(b, "loop_malloc_free")
		b.ResetTimer()
		ffi.Blocking(loop, malloc, free, 64, uintptr(b.N), 0, 0)
	})
	b.Run("path=fast", func(b *testing.B) {
		for b.Loop() {
			p := ffi.Fast1(malloc, 64)
			ffi.Fast1(free, p)
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

// BenchmarkGuardedCall is the price of FastIf's check: a noop call alone,
// and guarded by a pthread_getspecific check.
func BenchmarkGuardedCall(b *testing.B) {
	noop := ctest.Symbol(b, "noop")
	getspecific := symbol(b, loadLibc(b), "pthread_getspecific")
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
