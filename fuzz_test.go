// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/nalloctest"
)

func FuzzGoHeap(f *testing.F) {
	nalloctest.Fuzz(f, nalloctest.Config{New: func(testing.TB) nalloc.Allocator { return nalloc.NewGoHeap() }})
}

func FuzzCheckedGoHeap(f *testing.F) {
	nalloctest.Fuzz(f, nalloctest.Config{New: func(t testing.TB) nalloc.Allocator {
		c := nalloc.NewChecked(nalloc.NewGoHeap(), nalloc.WithStackDepth(0), nalloc.WithPoisonFreed())
		t.Cleanup(func() {
			if err := c.Err(); err != nil {
				t.Errorf("Checked found a misuse in a correct sequence: %v", err)
			}
			if leaks := c.Leaks(); len(leaks) != 0 {
				t.Errorf("Checked reports %d leaks after every block was freed", len(leaks))
			}
		})
		return c
	}})
}
