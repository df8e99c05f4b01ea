// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ctest

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
)

// GoroutineWork is one goroutine's work in BenchSpawn and BenchStacks: a
// call through some path, or the make([]byte, 64) baseline (MakeWork).
type GoroutineWork struct {
	Name string // the sub-benchmark's label value
	Do   func()
}

// MakeWork is the baseline the goroutine benchmarks compare against: what
// a goroutine that allocates on the Go heap does.
var MakeWork = GoroutineWork{"go-make", func() { Keep(make([]byte, 64)) }}

// BenchSpawn runs one sub-benchmark per work, named label=Name: per op, a
// fresh goroutine that does the work and ends. The pattern services live
// in; a path that grows a fresh goroutine's stack pays the copy here.
func BenchSpawn(b *testing.B, label string, works []GoroutineWork) {
	for _, w := range works {
		b.Run(label+"="+w.Name, func(b *testing.B) {
			var wg sync.WaitGroup
			for b.Loop() {
				wg.Go(w.Do)
			}
			wg.Wait()
		})
	}
}

// BenchStacks runs one sub-benchmark per work, named label=Name, that
// reports stack-B/goroutine: StackBytesPerGoroutine for 20 000 live
// goroutines that each did the work once, what it costs a server with
// many connection goroutines. Its ns/op is the time of a round of 20 000
// and means little.
func BenchStacks(b *testing.B, label string, works []GoroutineWork) {
	for _, w := range works {
		b.Run(label+"="+w.Name, func(b *testing.B) {
			var perG float64
			for b.Loop() {
				perG = StackBytesPerGoroutine(20000, w.Do)
			}
			b.ReportMetric(perG, "stack-B/goroutine")
		})
	}
}

// StackBytesPerGoroutine starts n goroutines that each run work and then
// wait until all have, and returns the growth of the goroutine stack
// memory in use (runtime/metrics' /memory/classes/heap/stacks:bytes) over
// n: what work costs each goroutine of a server with many of them. A
// fresh goroutine has 2 KiB; a path that makes it grow shows here.
func StackBytesPerGoroutine(n int, work func()) float64 {
	runtime.GC()
	before := stackBytes()
	var did, done sync.WaitGroup
	release := make(chan struct{})
	did.Add(n)
	for range n {
		done.Go(func() {
			work()
			did.Done()
			<-release
		})
	}
	did.Wait()
	after := stackBytes()
	close(release)
	done.Wait()
	return (float64(after) - float64(before)) / float64(n)
}

func stackBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Keep makes b escape to the heap, from any goroutine without a data
// race: the baseline work of the goroutine measurements, make([]byte, 64)
// that the compiler cannot drop or keep on the stack.
func Keep(b []byte) { kept.Store(&b) }

var kept atomic.Pointer[[]byte]
