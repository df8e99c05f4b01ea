// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"math"
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

	// The count is the larger of the process's resident anonymous
	// memory less the Go runtime's and glibc's own Stats: the index's
	// 64 MiB and what else the C library holds.
	fmt.Println("counts the index:", p.OffHeap() >= 60<<20)
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	fmt.Println("GOGC raised from 100:", gogc[0].Value.Uint64() > 100)
	// Output:
	// counts the index: true
	// GOGC raised from 100: true
}

// A service in a container without GOMEMLIMIT keeps the whole process,
// Go heap and off-heap memory, within 90% of its memory cgroup's limit;
// near it, the native allocators give their free memory back before the
// collector is squeezed. With GOMEMLIMIT set, that limit is used instead.
func ExampleGCPacerContainerLimit() {
	p, err := nalloc.StartGCPacer(nalloc.GCPacerContainerLimit(0.9))
	if err != nil {
		// errors.Is(err, nalloc.ErrContainerLimit): a cgroup that is
		// there but cannot be read.
		panic(err)
	}
	defer p.Stop()
	for _, m := range p.AppendMetrics(nil) {
		if m.Name == "gcpacer_container_limit_bytes" && m.Value != math.MaxInt64 {
			fmt.Printf("Go plus off-heap within %d MiB\n", m.Value>>20)
		}
	}
}
