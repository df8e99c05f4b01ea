// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/nalloctest"
)

// TestStress runs nalloctest.Stress on every goroutine-safe allocator of
// the module (the Go heap, every native backend, jemalloc's heaps; the
// bump arena and mimalloc's heaps are not: one per goroutine, one per
// thread), and on Checked over glibc. make stress runs it longer.
func TestStress(t *testing.T) {
	allocators := map[string]func(t testing.TB) nalloc.Allocator{
		"go": func(testing.TB) nalloc.Allocator { return nalloc.NewGoHeap() },
		"jemalloc-heap": func(t testing.TB) nalloc.Allocator {
			a, err := jemalloc.Open()
			if err != nil {
				t.Fatal(err)
			}
			h, err := a.NewHeap()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { h.Destroy() })
			return h
		},
		"checked-glibc": func(t testing.TB) nalloc.Allocator {
			a, err := glibc.Open()
			if err != nil {
				t.Fatal(err)
			}
			c := nalloc.NewChecked(a, nalloc.WithStackDepth(4))
			t.Cleanup(func() {
				if err := c.Err(); err != nil {
					t.Errorf("Checked saw misuse in a correct run: %v", err)
				}
				if leaks := c.Leaks(); len(leaks) != 0 {
					t.Errorf("Checked: %d leaks after every block was freed", len(leaks))
				}
			})
			return c
		},
	}
	for _, s := range native.Specs() {
		allocators[s.Name] = func(t testing.TB) nalloc.Allocator { return openOrSkip(t, s.Name) }
	}
	for name, open := range allocators {
		t.Run(name, func(t *testing.T) {
			nalloctest.Stress(t, nalloctest.Config{New: open})
		})
	}
}
