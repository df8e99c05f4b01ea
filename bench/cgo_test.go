// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build cgo

package main

import (
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
)

// TestCgoPeer runs the Go side of the workloads with a C side through the
// cgo peer, on every library the C side is tested against, each through
// its pair (plain, sized or mallocx/sdallocx).
func TestCgoPeer(t *testing.T) {
	for name, l := range cLibraries() {
		t.Run(name, func(t *testing.T) {
			a, err := openCgo(name, l.lib, l.pair)
			if err != nil && strings.Contains(err.Error(), "cannot open shared object file") {
				t.Skipf("%s is not installed: %v", l.lib, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			c := nalloc.NewCounting(a)
			for _, w := range workloads {
				if w.cArgs == nil {
					continue
				}
				n := 0
				e := &runEnv{a: c, open: func() (nalloc.Allocator, error) { return c, nil }, p: tinyParams(),
					put: func(string, string, float64) { n++ }}
				if err := w.run(e); err != nil {
					t.Fatalf("%s: %v", w.name, err)
				}
				if n == 0 {
					t.Errorf("%s reported nothing", w.name)
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
