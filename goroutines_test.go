// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/native"
)

// The pattern services live in: many goroutines, each making a few calls.
// What a backend's call path costs there is a goroutine's stack (a path
// that runs C on the goroutine stack grows every calling goroutine) and
// the time to spawn one that makes a call.

// onePair is one Allocate+Deallocate of 64 bytes through the interface.
func onePair(a nalloc.Allocator) {
	l := nalloc.Layout{Size: 64, Align: 8}
	p, err := a.Allocate(l)
	if err != nil {
		panic(err)
	}
	a.Deallocate(p, l)
}

// nativeAllocators opens every registered native backend, skipping (with
// the reason logged) those whose library is not installed.
func nativeAllocators(tb testing.TB) map[string]nalloc.Allocator {
	tb.Helper()
	all := map[string]nalloc.Allocator{}
	for _, s := range native.Specs() {
		a, err := s.OpenLibrary("")
		if err != nil {
			tb.Logf("%s: %v", s.Name, err)
			continue
		}
		all[s.Name] = a
	}
	return all
}

// TestFirstCallGrowsNoStack: on every native backend, goroutines that each
// made one pair hold no more stack than goroutines that did make([]byte,
// 64), give or take 1 KiB each.
func TestFirstCallGrowsNoStack(t *testing.T) {
	if native.FastPathAllocates {
		t.Skip("the purego path grows the stack itself")
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	base := ctest.StackBytesPerGoroutine(n, func() { ctest.Keep(make([]byte, 64)) })
	for name, a := range nativeAllocators(t) {
		got := ctest.StackBytesPerGoroutine(n, func() { onePair(a) })
		t.Logf("%-10s %6.0f stack bytes per goroutine (make: %.0f)", name, got, base)
		if got > base+1024 {
			t.Errorf("%s: a goroutine's first call grew its stack: %.0f bytes per goroutine against %.0f after make", name, got, base)
		}
	}
}

// pairWorks are the goroutine benchmarks' works: one pair through each
// native backend, in the order of native.Specs, after make([]byte, 64).
func pairWorks(tb testing.TB) []ctest.GoroutineWork {
	works := []ctest.GoroutineWork{ctest.MakeWork}
	opened := nativeAllocators(tb)
	for _, s := range native.Specs() {
		if a, ok := opened[s.Name]; ok {
			works = append(works, ctest.GoroutineWork{Name: s.Name, Do: func() { onePair(a) }})
		}
	}
	return works
}

// BenchmarkSpawn spawns a goroutine that makes one pair through each
// backend and ends, per op, against one that does make([]byte, 64): a
// path that grows a fresh goroutine's stack pays the copy here.
func BenchmarkSpawn(b *testing.B) { ctest.BenchSpawn(b, "impl", pairWorks(b)) }

// BenchmarkStacks reports the stack bytes each of 20 000 live goroutines
// holds after one pair through each backend, against make([]byte, 64).
func BenchmarkStacks(b *testing.B) { ctest.BenchStacks(b, "impl", pairWorks(b)) }
