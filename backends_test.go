// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"math/bits"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/native"
)

// TestMallocSpecAlignment checks the alignment each native backend's Spec
// claims for its plain malloc against the library itself: for every size
// from 1 to 4 KiB, 32 blocks from the raw C function, each aligned to at
// least MinAlign, and to NaturalAlign from that size up. The adapter calls
// malloc, rather than the aligned function, on the strength of this claim.
func TestMallocSpecAlignment(t *testing.T) {
	for _, s := range native.Specs() {
		t.Run(s.Name, func(t *testing.T) {
			if s.Malloc.Zone != "" {
				t.Skip("its functions take a zone first: the conformance suite checks the adapter's alignments")
			}
			a, err := s.OpenLibrary("")
			if err != nil {
				t.Skip(err)
			}
			lib := a.(nalloc.Native).Library()
			sym := ctest.Lookup(t, lib)
			malloc, free := sym(s.Malloc.Malloc), sym(s.Malloc.Free)
			natural := max(s.Malloc.NaturalAlign, s.Malloc.MinAlign)
			var blocks [32]uintptr
			for size := uintptr(1); size <= 4096; size++ {
				want := s.Malloc.MinAlign
				if size >= natural {
					want = natural
				}
				for i := range blocks {
					blocks[i] = native.Sized(size, malloc, size, 0, 0, 0)
					if got := uintptr(1) << bits.TrailingZeros64(uint64(blocks[i])); got < want {
						t.Fatalf("%s(%d) = %#x, aligned to %d; the Spec claims %d", s.Malloc.Malloc, size, blocks[i], got, want)
					}
				}
				for _, p := range blocks {
					native.Sized(size, free, p, 0, 0, 0)
				}
			}
		})
	}
}

// BenchmarkAllocFree64 is the crossing cost on every native backend: one
// 64-byte Allocate+Deallocate per op through the nalloc.Allocator
// interface, with xC, its time over the same pair of C functions (the
// ones the backend's Spec calls for a small block) in a C loop run right
// after it in the same process, so that the ratio survives a noisy
// machine. docs/callpath.md's table per backend comes from it.
func BenchmarkAllocFree64(b *testing.B) {
	for _, s := range native.Specs() {
		b.Run("impl="+s.Name, func(b *testing.B) {
			if s.Pair.Kind != "plain" {
				b.Skipf("the C loop calls a plain pair; %s's is a %s pair", s.Name, s.Pair.Kind)
			}
			a, err := s.OpenLibrary("")
			if err != nil {
				b.Skip(err)
			}
			sym := ctest.Lookup(b, a.(nalloc.Native).Library())
			malloc, free := sym(s.Malloc.Malloc), sym(s.Malloc.Free)
			l := nalloc.Layout{Size: 64, Align: 8}
			for b.Loop() {
				p, _ := a.Allocate(l)
				a.Deallocate(p, l)
			}
			ctest.ReportVsC(b, "loop_malloc_free", malloc, free, 64)
		})
	}
}
