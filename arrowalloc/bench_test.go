// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package arrowalloc_test

import (
	"runtime/metrics"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/arrowalloc"
	"github.com/nalloc/nalloc/bump"
)

// benchImpl is an Arrow allocator the benchmark runs on; reset, if not
// nil, runs after each operation.
type benchImpl struct {
	name  string
	mem   memory.Allocator
	reset func()
}

// cgoImpls are Arrow's own cgo allocators, added by bench_cgo_test.go when
// cgo is on.
var cgoImpls []benchImpl

// benchImpls returns Arrow's GoAllocator, its cgo allocators if built
// with cgo, and arrowalloc over every nalloc allocator that loads; the
// bump arena is reset after each operation, as a program that builds a
// batch, ships it and starts over would.
func benchImpls(b *testing.B) []benchImpl {
	impls := append([]benchImpl{{name: "arrow-go", mem: memory.NewGoAllocator()}}, cgoImpls...)
	for _, name := range nalloc.Names() {
		a, err := nalloc.Open(name)
		if err != nil {
			b.Logf("impl=nalloc-%s left out: %v", name, err)
			continue
		}
		impl := benchImpl{name: "nalloc-" + name, mem: arrowalloc.New(a)}
		if arena, ok := a.(*bump.Arena); ok {
			impl.reset = arena.Reset
		}
		impls = append(impls, impl)
	}
	return impls
}

// BenchmarkBuilder builds the test record (six columns: integers with
// nulls, floats, strings, booleans, a list and a struct) with Arrow's
// builders, one value at a time, and releases it: batch is a 1024-row
// record batch, as a streaming pipeline makes them (many small buffers);
// column is 128 Ki rows in one record (few buffers, grown by Reallocate
// through sizes up to 1 MiB). gc/op is the garbage collections per
// operation: the cost that GoAllocator's buffers put on the rest of the
// program.
func BenchmarkBuilder(b *testing.B) {
	workloads := []struct {
		name string
		rows int
	}{
		{"batch", 1024},
		{"column", 128 << 10},
	}
	gc := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	for _, w := range workloads {
		for _, impl := range benchImpls(b) {
			b.Run("workload="+w.name+"/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				metrics.Read(gc)
				cycles := gc[0].Value.Uint64()
				for b.Loop() {
					buildRecord(impl.mem, 0, w.rows).Release()
					if impl.reset != nil {
						impl.reset()
					}
				}
				metrics.Read(gc)
				b.ReportMetric(float64(gc[0].Value.Uint64()-cycles)/float64(b.N), "gc/op")
				b.ReportMetric(float64(w.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
