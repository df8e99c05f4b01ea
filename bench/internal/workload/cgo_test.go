// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build cgo

package workload

import (
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/benchtest"
	"github.com/nalloc/nalloc/bench/internal/peer"
)

// TestCgoPeer runs the Go side of the workloads with a C side through the
// cgo peer, on every library the C side is tested against, each through
// its pair (plain, sized or mallocx/sdallocx).
func TestCgoPeer(t *testing.T) {
	for name, l := range benchtest.CLibraries() {
		t.Run(name, func(t *testing.T) {
			a, err := peer.OpenCgo(name, l.Lib, l.Pair)
			if err != nil && strings.Contains(err.Error(), "cannot open shared object file") {
				t.Skipf("%s is not installed: %v", l.Lib, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			c := nalloc.NewCounting(a)
			for _, w := range All() {
				if w.CArgs == nil {
					continue
				}
				n := 0
				e := &Env{A: c, Open: func() (nalloc.Allocator, error) { return c, nil }, P: tinyParams(),
					Put: func(string, string, float64) { n++ }}
				if err := w.Run(e); err != nil {
					t.Fatalf("%s: %v", w.Name, err)
				}
				if n == 0 {
					t.Errorf("%s reported nothing", w.Name)
				}
			}
			if got := c.Counts(); got.Allocations == 0 || got.LiveBytes != 0 {
				t.Errorf("counts %+v: want allocations, every one freed", got)
			}
			if _, err := a.Allocate(nalloc.Layout{Size: 64, Align: 64}); err == nil {
				t.Errorf("an alignment of 64 through the cgo peer, which calls the library's plain malloc: no error")
			}
		})
	}
}
