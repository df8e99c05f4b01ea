// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ctest

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

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
