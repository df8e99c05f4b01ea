// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"runtime/metrics"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
)

// A program that keeps its large data off the Go heap starts the pacer
// once, so that the garbage collector paces on that data too: with
// GOGC=100 the Go heap may grow by as much as the off-heap set before a
// cycle, as it would if the set were on the heap.
func ExampleStartGCPacer() {
	a, err := glibc.Open()
	if err != nil {
		panic(err)
	}
	index, err := nalloc.NewVec[[8]uint64](a, 1<<20) // 64 MiB off the Go heap
	if err != nil {
		panic(err)
	}
	defer index.Free()
	for i := range uint64(1 << 20) {
		index.Append([8]uint64{i})
	}

	p, err := nalloc.StartGCPacer()
	if err != nil {
		panic(err)
	}
	defer p.Stop() // GOGC and the memory limit as they were

	// The count is the process's resident anonymous memory less the Go
	// runtime's, which includes a few MiB the runtime has mapped but not
	// yet touched: it reads a little under the index's 64 MiB.
	fmt.Println("counts the index:", p.OffHeap() >= 60<<20)
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	fmt.Println("GOGC raised from 100:", gogc[0].Value.Uint64() > 100)
	// Output:
	// counts the index: true
	// GOGC raised from 100: true
}
