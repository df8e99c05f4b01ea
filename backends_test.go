// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"math/bits"
	"testing"

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
			a, err := s.OpenLibrary("")
			if err != nil {
				t.Skip(err)
			}
			lib := a.(interface{ Library() string }).Library()
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
