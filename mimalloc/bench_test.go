// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc_test

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/mimalloc"
)

// syms are the raw library functions the benchmarks compare with.
type syms struct {
	malloc, free, mallocAligned, mallocAlignedAt, heapNew, heapMalloc, heapDestroy uintptr
}

func loadSyms(b *testing.B, a *mimalloc.Allocator) syms {
	lib, err := ffi.Load(a.Library())
	if err != nil {
		b.Fatal(err)
	}
	var s syms
	if err := lib.Symbols(
		ffi.Sym{Name: "mi_malloc", Addr: &s.malloc},
		ffi.Sym{Name: "mi_free", Addr: &s.free},
		ffi.Sym{Name: "mi_malloc_aligned", Addr: &s.mallocAligned},
		ffi.Sym{Name: "mi_malloc_aligned_at", Addr: &s.mallocAlignedAt},
		ffi.Sym{Name: "mi_heap_new", Addr: &s.heapNew},
		ffi.Sym{Name: "mi_heap_malloc", Addr: &s.heapMalloc},
		ffi.Sym{Name: "mi_heap_destroy", Addr: &s.heapDestroy},
	); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkAllocFree64 is the crossing cost: one Allocate+Deallocate of a
// 64-byte block per op, through nalloc, with xC, the ratio to the same
// pair in a C loop run right after in the same process.
//
//   - impl=mimalloc: the Allocator, as a nalloc.Allocator and as the
//     concrete type (mi_malloc, mi_free), and with a 64-byte alignment
//     (mi_malloc_aligned, or mi_malloc_aligned_at below 2.1.0, the call
//     nalloc makes; the C loop makes the same one).
//   - impl=mimalloc-heap: a Heap (mi_heap_malloc guarded by its owner
//     check, mi_free), against mi_heap_malloc and mi_free in C.
//     via=unchecked is the same two calls without the owner check, and
//     via=served the other design a heap could have had: a goroutine
//     locked to the heap's thread that allocates on request over a
//     channel.
//   - impl=C-loop, impl=go-make: the C loop alone, and Go's
//     make([]byte, 64) for scale.
func BenchmarkAllocFree64(b *testing.B) {
	a := open(b)
	s := loadSyms(b, a)
	l := nalloc.Layout{Size: 64, Align: 8}
	aligned := s.mallocAlignedAt // what the Allocator calls

	b.Run("impl=mimalloc/via=interface", func(b *testing.B) {
		var na nalloc.Allocator = a
		for b.Loop() {
			p, _ := na.Allocate(l)
			na.Deallocate(p, l)
		}
		ctest.ReportVsC(b, "loop_malloc_free", s.malloc, s.free, 64)
	})
	b.Run("impl=mimalloc/via=concrete", func(b *testing.B) {
		for b.Loop() {
			p, _ := a.Allocate(l)
			a.Deallocate(p, l)
		}
		ctest.ReportVsC(b, "loop_malloc_free", s.malloc, s.free, 64)
	})
	b.Run("impl=mimalloc/align=64/via=concrete", func(b *testing.B) {
		l := nalloc.Layout{Size: 64, Align: 64}
		for b.Loop() {
			p, _ := a.Allocate(l)
			a.Deallocate(p, l)
		}
		ctest.ReportVsC(b, "loop_sizefirst_aligned_free", aligned, s.free, 64, 64)
	})
	b.Run("impl=mimalloc-heap/via=concrete", func(b *testing.B) {
		h := newHeap(b, a)
		defer h.Destroy()
		raw := ffi.Slow1(s.heapNew, 0) // the C loop's heap, on the same thread
		defer ffi.Slow1(s.heapDestroy, raw)
		b.ResetTimer()
		for b.Loop() {
			p, _ := h.Allocate(l)
			h.Deallocate(p, l)
		}
		ctest.ReportVsC(b, "loop_heap_malloc_free", s.heapMalloc, s.free, raw, 64)
	})
	b.Run("impl=mimalloc-heap/via=unchecked", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		raw := ffi.Slow1(s.heapNew, 0)
		defer ffi.Slow1(s.heapDestroy, raw)
		b.ResetTimer()
		for b.Loop() {
			p := ffi.Fast4(s.heapMalloc, raw, 64, 0, 0)
			ffi.Fast1(s.free, p)
		}
		ctest.ReportVsC(b, "loop_heap_malloc_free", s.heapMalloc, s.free, raw, 64)
	})
	b.Run("impl=mimalloc-heap/via=served", func(b *testing.B) {
		req, resp := make(chan uintptr), make(chan uintptr)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			raw := ffi.Slow1(s.heapNew, 0)
			for size := range req {
				resp <- ffi.Fast4(s.heapMalloc, raw, size, 0, 0)
			}
			ffi.Slow1(s.heapDestroy, raw)
			close(resp)
		}()
		defer func() { close(req); <-resp }()
		for b.Loop() {
			req <- 64
			ffi.Fast1(s.free, <-resp)
		}
	})
	b.Run("impl=C-loop", func(b *testing.B) {
		loop := ctest.Symbol(b, "loop_malloc_free")
		b.ResetTimer()
		ffi.Slow4(loop, s.malloc, s.free, 64, uintptr(b.N))
	})
	b.Run("impl=go-make", func(b *testing.B) {
		for b.Loop() {
			sink = make([]byte, 64)
		}
	})
}

var sink []byte

// BenchmarkHeapDestroy is the point of a heap: 1000 blocks of 64 bytes
// allocated, then all freed, per op, by Destroy against one Deallocate
// each.
func BenchmarkHeapDestroy(b *testing.B) {
	a := open(b)
	l := nalloc.Layout{Size: 64, Align: 8}
	ps := make([]unsafe.Pointer, 1000)
	b.Run("free=destroy", func(b *testing.B) {
		for b.Loop() {
			h := newHeap(b, a)
			for i := range ps {
				ps[i], _ = h.Allocate(l)
			}
			h.Destroy()
		}
	})
	b.Run("free=each", func(b *testing.B) {
		h := newHeap(b, a)
		defer h.Destroy()
		for b.Loop() {
			for i := range ps {
				ps[i], _ = h.Allocate(l)
			}
			for _, p := range ps {
				h.Deallocate(p, l)
			}
		}
	})
}
