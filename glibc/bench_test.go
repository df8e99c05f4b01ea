// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package glibc_test

import (
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
)

// BenchmarkAllocFree64 is the crossing cost: one Allocate+Deallocate of a
// 64-byte block per op, through nalloc (as a nalloc.Allocator and as the
// concrete type) with xC, the ratio to the same malloc+free pair in a C
// loop run right after in the same process; next to it, the C loop alone,
// purego.SyscallN, and Go's make([]byte, 64).
func BenchmarkAllocFree64(b *testing.B) {
	g := open(b)
	libc, err := ffi.Load("libc.so.6")
	if err != nil {
		b.Fatal(err)
	}
	malloc, _ := libc.Symbol("malloc")
	free, _ := libc.Symbol("free")
	l := nalloc.Layout{Size: 64, Align: 8}

	b.Run("impl=glibc/via=interface", func(b *testing.B) {
		var a nalloc.Allocator = g
		for b.Loop() {
			p, _ := a.Allocate(l)
			a.Deallocate(p, l)
		}
		ctest.ReportVsC(b, "loop_malloc_free", malloc, free, 64)
	})
	b.Run("impl=glibc/via=concrete", func(b *testing.B) {
		for b.Loop() {
			p, _ := g.Allocate(l)
			g.Deallocate(p, l)
		}
		ctest.ReportVsC(b, "loop_malloc_free", malloc, free, 64)
	})
	b.Run("impl=C-loop", func(b *testing.B) {
		loop := ctest.Symbol(b, "loop_malloc_free")
		b.ResetTimer()
		ffi.Slow4(loop, malloc, free, 64, uintptr(b.N))
	})
	b.Run("impl=purego-SyscallN", func(b *testing.B) {
		for b.Loop() {
			p, _, _ := purego.SyscallN(malloc, 64)
			purego.SyscallN(free, p)
		}
	})
	b.Run("impl=go-make", func(b *testing.B) {
		for b.Loop() {
			sink = make([]byte, 64)
		}
	})
}

var sink []byte

// BenchmarkAllocFreeSizes is Allocate+Deallocate at sizes from 16 B to
// 1 MiB (the last on the slow path) with its ratio to C.
func BenchmarkAllocFreeSizes(b *testing.B) {
	g := open(b)
	libc, _ := ffi.Load("libc.so.6")
	malloc, _ := libc.Symbol("malloc")
	free, _ := libc.Symbol("free")
	for _, size := range []uintptr{16, 256, 4096, 64 << 10, 1 << 20} {
		l := nalloc.Layout{Size: size, Align: 8}
		b.Run("impl=glibc/size="+sizeName(size), func(b *testing.B) {
			var p unsafe.Pointer
			for b.Loop() {
				p, _ = g.Allocate(l)
				g.Deallocate(p, l)
			}
			ctest.ReportVsC(b, "loop_malloc_free", malloc, free, size)
		})
	}
}

func sizeName(n uintptr) string {
	switch {
	case n >= 1<<20:
		return itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n uintptr) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
