// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"runtime"
	"strconv"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/jemalloc"
	_ "github.com/nalloc/nalloc/mimalloc"
)

// BenchmarkProfiled is what Profiled adds to an Allocate+Deallocate of 64
// bytes through the nalloc.Allocator interface, beside Counting and
// Checked, on glibc, jemalloc and mimalloc: wrap=none is the bare pair,
// wrap=profiled at the default rate (with 1024 blocks of 64 KiB live
// through it, so that the table of sampled blocks is in use),
// wrap=profiled-rate1 samples every block (the stack capture's cost).
// par=8 runs the pair on 8 goroutines (b.RunParallel), ns per pair.
func BenchmarkProfiled(b *testing.B) {
	l := nalloc.Layout{Size: 64, Align: 8}
	big := nalloc.Layout{Size: 64 << 10, Align: 8}
	for _, impl := range []string{"glibc", "jemalloc", "mimalloc"} {
		a, err := nalloc.Open(impl)
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range []struct {
			name string
			a    nalloc.Allocator
		}{
			{"none", a},
			{"counting", nalloc.NewCounting(a)},
			{"checked", nalloc.NewChecked(a)},
			{"profiled", nalloc.NewProfiled(a)},
			{"profiled-rate1", nalloc.NewProfiled(a, nalloc.ProfileRate(1))},
		} {
			// Blocks live through the wrapper while it is measured.
			var live []unsafe.Pointer
			for range 1024 {
				p, err := w.a.Allocate(big)
				if err != nil {
					b.Fatal(err)
				}
				live = append(live, p)
			}
			for _, par := range []int{1, 8} {
				b.Run("impl="+impl+"/wrap="+w.name+"/par="+strconv.Itoa(par), func(b *testing.B) {
					a := w.a
					b.ReportAllocs()
					if par == 1 {
						for b.Loop() {
							p, _ := a.Allocate(l)
							a.Deallocate(p, l)
						}
						return
					}
					b.SetParallelism((par + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							p, _ := a.Allocate(l)
							a.Deallocate(p, l)
						}
					})
				})
			}
			for _, p := range live {
				w.a.Deallocate(p, big)
			}
		}
	}
}
