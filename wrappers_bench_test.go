// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"io"
	"testing"

	"github.com/nalloc/nalloc"
)

// BenchmarkWrappers is the cost each wrapper adds: one Allocate+Deallocate
// of 64 bytes per op through the nalloc.Allocator interface, on glibc bare
// and wrapped. Compare each wrap= line with wrap=none of the same run.
func BenchmarkWrappers(b *testing.B) {
	g := openGlibc(b)
	l := nalloc.Layout{Size: 64, Align: 8}
	for _, w := range []struct {
		name string
		a    nalloc.Allocator
	}{
		{"none", g},
		{"counting", nalloc.NewCounting(g)},
		{"verbose", nalloc.NewVerbose(g, io.Discard)},
		{"checked", nalloc.NewChecked(g)},
		{"checked-nostack", nalloc.NewChecked(g, nalloc.WithStackDepth(0))},
		{"checked-poison", nalloc.NewChecked(g, nalloc.WithPoisonFresh(), nalloc.WithPoisonFreed())},
	} {
		b.Run("impl=glibc/wrap="+w.name, func(b *testing.B) {
			a := w.a
			b.ReportAllocs()
			for b.Loop() {
				p, _ := a.Allocate(l)
				a.Deallocate(p, l)
			}
		})
	}
}
