// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"strconv"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
)

// jemallocSyms are the jemalloc functions the C loops call.
type jemallocSyms struct{ malloc, free, mallocx, sdallocx uintptr }

func symbols(b *testing.B) jemallocSyms {
	sym := ctest.Lookup(b, "libjemalloc.so.2")
	return jemallocSyms{sym("malloc"), sym("free"), sym("mallocx"), sym("sdallocx")}
}

// BenchmarkAllocFree64 is the crossing cost: one Allocate+Deallocate of a
// 64-byte block per op, through nalloc (as a nalloc.Allocator and as the
// concrete type) with xC, the ratio to the same malloc+free pair (the
// Allocator's entry points, jemalloc's fastest) in a C loop run right
// after in the same process; the same for a Heap (mallocx and sdallocx
// with MALLOCX_ARENA | MALLOCX_TCACHE_NONE, against the same calls in C);
// next to them, the two fast-path calls alone (ffi-fast, the floor), the
// C loop alone, purego.SyscallN, and Go's make([]byte, 64).
func BenchmarkAllocFree64(b *testing.B) {
	je := open(b)
	s := symbols(b)
	mallocx, sdallocx := s.mallocx, s.sdallocx
	l := nalloc.Layout{Size: 64, Align: 8}

	b.Run("impl=jemalloc/via=interface", func(b *testing.B) {
		var a nalloc.Allocator = je
		for b.Loop() {
			p, _ := a.Allocate(l)
			a.Deallocate(p, l)
		}
		ctest.ReportVsC(b, "loop_malloc_free", s.malloc, s.free, 64)
	})
	b.Run("impl=jemalloc/via=concrete", func(b *testing.B) {
		for b.Loop() {
			p, _ := je.Allocate(l)
			je.Deallocate(p, l)
		}
		ctest.ReportVsC(b, "loop_malloc_free", s.malloc, s.free, 64)
	})
	// A heap in use has other blocks in the slab: one is kept live
	// here. Without it ("emptyslab"), every free empties the slab and
	// jemalloc gives it back to the arena's extents, and every allocation
	// makes a new one: ten times slower, in C as much as in Go.
	for _, ballast := range []bool{true, false} {
		name := "impl=jemalloc-heap/via=interface"
		if !ballast {
			name = "impl=jemalloc-heap-emptyslab/via=interface"
		}
		b.Run(name, func(b *testing.B) {
			ar := newHeap(b)
			if ballast {
				keep, err := ar.Allocate(l)
				if err != nil {
					b.Fatal(err)
				}
				defer ar.Deallocate(keep, l)
			}
			var a nalloc.Allocator = ar
			for b.Loop() {
				p, _ := a.Allocate(l)
				a.Deallocate(p, l)
			}
			flags := uintptr(ar.Index()+1)<<20 | 1<<8 // MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE
			ctest.ReportVsC(b, "loop_mallocx_sdallocx_flags", mallocx, sdallocx, 64, flags)
		})
	}
	// The floor: the two fast-path crossings alone, no Layout checks, no
	// interface call.
	b.Run("impl=ffi-fast", func(b *testing.B) {
		for b.Loop() {
			p := ffi.Fast1(s.malloc, 64)
			ffi.Fast1(s.free, p)
		}
		ctest.ReportVsC(b, "loop_malloc_free", s.malloc, s.free, 64)
	})
	b.Run("impl=C-loop", func(b *testing.B) {
		loop := ctest.Symbol(b, "loop_malloc_free")
		b.ResetTimer()
		ffi.Slow4(loop, s.malloc, s.free, 64, uintptr(b.N))
	})
	b.Run("impl=C-loop/calls=mallocx-sdallocx", func(b *testing.B) {
		loop := ctest.Symbol(b, "loop_mallocx_sdallocx")
		b.ResetTimer()
		ffi.Slow4(loop, mallocx, sdallocx, 64, uintptr(b.N))
	})
	b.Run("impl=purego-SyscallN", func(b *testing.B) {
		for b.Loop() {
			p, _, _ := purego.SyscallN(s.malloc, 64)
			purego.SyscallN(s.free, p)
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
// 1 MiB (the last on the slow path) and at a 4 KiB alignment, with
// the ratio to malloc+free in C (so the aligned case includes what
// memalign costs jemalloc).
func BenchmarkAllocFreeSizes(b *testing.B) {
	je := open(b)
	s := symbols(b)
	for _, l := range []nalloc.Layout{{Size: 16, Align: 8}, {Size: 256, Align: 8}, {Size: 4096, Align: 8},
		{Size: 4096, Align: 4096}, {Size: 64 << 10, Align: 8}, {Size: 1 << 20, Align: 8}} {
		name := "impl=jemalloc/size=" + strconv.Itoa(int(l.Size)) + "/align=" + strconv.Itoa(int(l.Align))
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				p, _ := je.Allocate(l)
				je.Deallocate(p, l)
			}
			ctest.ReportVsC(b, "loop_malloc_free", s.malloc, s.free, l.Size)
		})
	}
}

// BenchmarkGrow grows a block from 64 B to 1 MiB, by half its size each
// step, then frees it, per op. strategy=grow is Grow alone (realloc for
// the Allocator, one rallocx for a Heap, each trying in place by
// itself). strategy=xallocx-first tries ResizeInPlace (xallocx) before
// Grow, as a caller wanting in-place growth first would.
func BenchmarkGrow(b *testing.B) {
	for _, where := range []string{"allocator", "heap"} {
		for _, strategy := range []string{"grow", "xallocx-first"} {
			b.Run("impl=jemalloc/"+where+"/strategy="+strategy, func(b *testing.B) {
				var a interface {
					nalloc.Allocator
					ResizeInPlace(p unsafe.Pointer, old, new nalloc.Layout) (bool, error)
				}
				if where == "heap" {
					a = newHeap(b)
				} else {
					a = open(b)
				}
				for b.Loop() {
					l := nalloc.Layout{Size: 64, Align: 8}
					p, _ := a.Allocate(l)
					for l.Size < 1<<20 {
						next := nalloc.Layout{Size: l.Size + l.Size/2, Align: 8}
						if strategy == "grow" {
							p, _ = a.Grow(p, l, next)
						} else if ok, _ := a.ResizeInPlace(p, l, next); !ok {
							p, _ = a.Grow(p, l, next)
						}
						l = next
					}
					a.Deallocate(p, l)
				}
			})
		}
	}
}
