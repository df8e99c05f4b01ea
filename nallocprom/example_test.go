// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nallocprom_test

import (
	"fmt"
	"strings"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/nallocprom"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

func Example() {
	// Count a cache's allocations; its Stats come through the Counting.
	cache := nalloc.NewCounting(nalloc.NewGoHeap())
	c, err := nallocprom.NewCollector(nallocprom.WithAllocator("cache", cache))
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry() // or prometheus.DefaultRegisterer
	reg.MustRegister(c)

	l := nalloc.Layout{Size: 1 << 20, Align: 64}
	p, _ := cache.Allocate(l)
	defer cache.Deallocate(p, l)

	// What a scrape of promhttp.HandlerFor(reg, ...) shows, in part.
	text, _ := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain, "nalloc_live_bytes")
	fmt.Print(strings.TrimSpace(string(text)))
	// Output:
	// # HELP nalloc_live_bytes Bytes in blocks handed out and not given back, as their Layouts say, counted by nalloc.Counting.
	// # TYPE nalloc_live_bytes gauge
	// nalloc_live_bytes{allocator="cache"} 1.048576e+06
}

func ExampleWithGCPacer() {
	p, err := nalloc.StartGCPacer()
	if err != nil {
		panic(err)
	}
	defer p.Stop()
	c, err := nallocprom.NewCollector(nallocprom.WithGCPacer(p))
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	text, _ := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain, "nalloc_gcpacer_running")
	fmt.Print(strings.TrimSpace(string(text)))
	// Output:
	// # HELP nalloc_gcpacer_running 1 while the GC pacer runs, 0 once it is stopped.
	// # TYPE nalloc_gcpacer_running gauge
	// nalloc_gcpacer_running 1
}
