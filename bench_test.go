// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/swiss"
	"github.com/nalloc/nalloc"
)

// mapImpl is one of the maps compared: Go's builtin map, swiss.Map on
// the Go heap, and nalloc.Map on each allocator.
type mapImpl struct {
	name string
	put  func(k, v uint64)
	get  func(k uint64) (uint64, bool)
	done func()
}

func mapImpls(b *testing.B, capacity int) []func() mapImpl {
	impls := []func() mapImpl{
		func() mapImpl {
			m := make(map[uint64]uint64, capacity)
			return mapImpl{"builtin", func(k, v uint64) { m[k] = v },
				func(k uint64) (uint64, bool) { v, ok := m[k]; return v, ok }, func() {}}
		},
		func() mapImpl {
			m := swiss.New[uint64, uint64](capacity)
			return mapImpl{"swiss", m.Put, m.Get, func() {}}
		},
	}
	for _, name := range nalloc.Names() {
		if !isModuleAllocator(name) {
			continue
		}
		a, ok := openHere(b, name)
		if !ok {
			continue
		}
		impls = append(impls, func() mapImpl {
			m, err := nalloc.NewMap[uint64, uint64](a, capacity)
			if err != nil {
				b.Fatal(err)
			}
			return mapImpl{"nalloc-" + name, m.Put, m.Get, m.Close}
		})
		if name == "glibc" { // TryPut's cost over Put's, on one backend
			impls = append(impls, func() mapImpl {
				m, err := nalloc.NewMap[uint64, uint64](a, capacity)
				if err != nil {
					b.Fatal(err)
				}
				tryPut := func(k, v uint64) {
					if err := m.TryPut(k, v); err != nil {
						b.Fatal(err)
					}
				}
				return mapImpl{"nalloc-glibc-tryput", tryPut, m.Get, m.Close}
			})
		}
	}
	return impls
}

// benchKeys returns n distinct keys in random order.
func benchKeys(n int) []uint64 {
	rng := rand.New(rand.NewChaCha8([32]byte{4}))
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = rng.Uint64()
	}
	return keys
}

// BenchmarkMapGet looks up keys that are there, in random order, in maps of
// 1Ki and 1Mi entries: one Get per op, called directly on each map type.
// The swiss and nalloc sub-benchmarks also report xbuiltin (and nalloc
// ones xswiss): the ratio of their Get time to the builtin map's (swiss's
// on the Go heap), the median of 15 rounds that time both loops back to
// back, so that a shared machine's load, which drifts, hits both alike.
func BenchmarkMapGet(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 20} {
		keys := benchKeys(n)
		builtin := make(map[uint64]uint64)
		sw := swiss.New[uint64, uint64](0)
		for i, k := range keys {
			builtin[k] = uint64(i)
			sw.Put(k, uint64(i))
		}
		builtinGet := func(keys []uint64) (sum uint64) {
			for _, k := range keys {
				sum += builtin[k]
			}
			return sum
		}
		swissGet := func(keys []uint64) (sum uint64) {
			for _, k := range keys {
				v, _ := sw.Get(k)
				sum += v
			}
			return sum
		}
		b.Run(fmt.Sprintf("n=%d/impl=builtin", n), func(b *testing.B) {
			benchGet(b, keys, func(k uint64) uint64 { return builtin[k] })
		})
		b.Run(fmt.Sprintf("n=%d/impl=swiss", n), func(b *testing.B) {
			benchGet(b, keys, func(k uint64) uint64 { v, _ := sw.Get(k); return v })
			b.ReportMetric(pairedRatio(keys, swissGet, builtinGet), "xbuiltin")
		})
		for _, name := range nalloc.Names() {
			if !isModuleAllocator(name) {
				continue
			}
			b.Run(fmt.Sprintf("n=%d/impl=nalloc-%s", n, name), func(b *testing.B) {
				a := openOrSkip(b, name)
				m, err := nalloc.NewMap[uint64, uint64](a, 0)
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				for i, k := range keys {
					m.Put(k, uint64(i))
				}
				benchGet(b, keys, func(k uint64) uint64 { v, _ := m.Get(k); return v })
				get := func(keys []uint64) (sum uint64) {
					for _, k := range keys {
						v, _ := m.Get(k)
						sum += v
					}
					return sum
				}
				b.ReportMetric(pairedRatio(keys, get, builtinGet), "xbuiltin")
				b.ReportMetric(pairedRatio(keys, get, swissGet), "xswiss")
			})
		}
	}
}

// pairedRatio returns the median, over 15 rounds, of the time f takes over
// keys divided by the time g takes, the two timed back to back (in
// alternating order) in each round. Long key lists are cut to 256Ki, and
// short ones repeated to as many, so that each timing is a few ms.
func pairedRatio(keys []uint64, f, g func([]uint64) uint64) float64 {
	if len(keys) > 1<<18 {
		keys = keys[:1<<18]
	}
	reps := max(1, (1<<18)/len(keys))
	f0, g0 := f, g
	f = func(keys []uint64) (sum uint64) {
		for range reps {
			sum += f0(keys)
		}
		return sum
	}
	g = func(keys []uint64) (sum uint64) {
		for range reps {
			sum += g0(keys)
		}
		return sum
	}
	f(keys) // warm both
	g(keys)
	ratios := make([]float64, 15)
	for r := range ratios {
		first, second := f, g
		if r%2 == 1 {
			first, second = g, f
		}
		t0 := time.Now()
		sink64 += first(keys)
		t1 := time.Now()
		sink64 += second(keys)
		t2 := time.Now()
		tf, tg := t1.Sub(t0), t2.Sub(t1)
		if r%2 == 1 {
			tf, tg = tg, tf
		}
		ratios[r] = float64(tf) / float64(tg)
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2]
}

// benchGet times get over keys, in order, round and round. get is inlined
// into the loop (benchGet is small enough to be inlined into each caller).
func benchGet(b *testing.B, keys []uint64, get func(uint64) uint64) {
	var sum uint64
	i := 0
	for b.Loop() {
		sum += get(keys[i])
		if i++; i == len(keys) {
			i = 0
		}
	}
	sink64 = sum
}

// BenchmarkMapPut fills an empty map (no capacity given) with n random
// keys: one op is the whole fill and Close, reported as ns/put; the
// growth of the map, and so the allocator, is in it. Like MapGet, the
// swiss and nalloc sub-benchmarks report xbuiltin from paired rounds.
func BenchmarkMapPut(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 20} {
		keys := benchKeys(n)
		impls := mapImpls(b, 0)
		fill := func(mk func() mapImpl) func([]uint64) uint64 {
			return func(keys []uint64) uint64 {
				m := mk()
				for i, k := range keys {
					m.put(k, uint64(i))
				}
				m.done()
				return 0
			}
		}
		builtinFill := fill(impls[0])
		for _, mk := range impls {
			name := mk().name
			b.Run(fmt.Sprintf("n=%d/impl=%s", n, name), func(b *testing.B) {
				f := fill(mk)
				for b.Loop() {
					f(keys)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/put")
				if name != "builtin" {
					b.ReportMetric(pairedRatio(keys, f, builtinFill), "xbuiltin")
				}
			})
		}
	}
}

var sink64 uint64

// BenchmarkVecAppend appends 1Mi 40-byte items one at a time to an empty
// Vec (or Go slice): ns/op is per Append, growth included.
func BenchmarkVecAppend(b *testing.B) {
	const n = 1 << 20
	b.Run("impl=go-append", func(b *testing.B) {
		for b.Loop() {
			var s []item
			for i := range n {
				s = append(s, item{ID: uint64(i)})
			}
			sinkItems = s
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/append")
	})
	for _, name := range nalloc.Names() {
		if !isModuleAllocator(name) {
			continue
		}
		b.Run("impl=vec-"+name, func(b *testing.B) {
			a := openOrSkip(b, name)
			for b.Loop() {
				v, _ := nalloc.NewVec[item](a, 0)
				for i := range n {
					if err := v.Append(item{ID: uint64(i)}); err != nil {
						b.Fatal(err)
					}
				}
				v.Free()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/append")
		})
	}
}

var sinkItems []item
