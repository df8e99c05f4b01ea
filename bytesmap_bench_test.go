// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// benchEntries are the entries of the BytesMap benchmarks: keys of 8 to
// 62 bytes and values skewed small (60% 32-255 bytes, 30% 256 B-1 KiB,
// 10% 1-4 KiB), the distribution of examples/cacheservice.
func benchEntries(n int) (keys []string, values [][]byte) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys, values = make([]string, n), make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%0*d", []string{"u:", "user:", "session:", "feed:timeline:v2:"}[i%4], 6+rng.IntN(31), i)
		var l int
		switch r := rng.IntN(10); {
		case r < 6:
			l = 32 + rng.IntN(224)
		case r < 9:
			l = 256 + rng.IntN(768)
		default:
			l = 1024 + rng.IntN(3072)
		}
		values[i] = make([]byte, l)
	}
	return keys, values
}

const benchMapEntries = 200_000

// BenchmarkBytesMap fills a BytesMap with benchMapEntries entries on each
// allocator, then times Get and Put (replacing values of the same
// length). It reports what an entry costs: payload, the bytes asked for
// (block sizes and index), and the bytes the allocator's size classes
// make of them (its usable size of each block, and the index).
func BenchmarkBytesMap(b *testing.B) {
	keys, values := benchEntries(benchMapEntries)
	for _, name := range nalloc.Names() {
		if !isModuleAllocator(name) || name == "bump" {
			continue
		}
		a, ok := openHere(b, name)
		if !ok {
			continue
		}
		m, err := nalloc.NewBytesMap(a, 0)
		if err != nil {
			b.Fatal(err)
		}
		for i, k := range keys {
			if err := m.Put(k, values[i]); err != nil {
				b.Fatal(err)
			}
		}
		n := float64(m.Len())
		report := func(b *testing.B) {
			b.ReportMetric(float64(m.PayloadBytes())/n, "payload-B/entry")
			b.ReportMetric(float64(m.AllocatedBytes())/n, "asked-B/entry")
			if _, ok := nalloc.As[interface{ UsableSize(unsafe.Pointer) uintptr }](a); ok {
				var held uintptr
				for k := range m.All() {
					held += nalloc.UsableSize(a, unsafe.Add(unsafe.Pointer(unsafe.SliceData(k)), -8))
				}
				index := m.AllocatedBytes() - m.PayloadBytes() - 8*m.Len()
				b.ReportMetric((float64(held)+float64(index))/n, "held-B/entry")
			}
		}
		b.Run("op=Get/alloc="+name, func(b *testing.B) {
			dst := make([]byte, 0, 8<<10)
			i := 0
			for b.Loop() {
				dst, _ = m.Get(keys[i], dst[:0])
				if i++; i == len(keys) {
					i = 0
				}
			}
			report(b)
		})
		b.Run("op=Put/alloc="+name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				m.Put(keys[i], values[i])
				if i++; i == len(keys) {
					i = 0
				}
			}
		})
		b.Run("op=PutNew/alloc="+name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if i == len(keys) {
					b.StopTimer()
					m.Clear()
					i = 0
					b.StartTimer()
				}
				m.Put(keys[i], values[i])
				i++
			}
		})
		m.Close()
	}
}

// BenchmarkBytesMapIndex compares BytesMap's index with the alternative
// of a Swiss table (nalloc.Map, on cockroachdb/swiss) from the 64-bit
// hash of the key to the entry's block, on the same allocator and the
// same entries: lookups of keys that are there, and the index's bytes
// an entry. (The alternative is a measurement, not a map: it would also
// need a chain for two keys of the same 64-bit hash.)
func BenchmarkBytesMapIndex(b *testing.B) {
	keys, values := benchEntries(benchMapEntries)
	a, err := nalloc.Open("jemalloc")
	if err != nil {
		b.Skip(err)
	}
	b.Run("index=open-addressing", func(b *testing.B) {
		m, _ := nalloc.NewBytesMap(a, 0)
		defer m.Close()
		for i, k := range keys {
			m.Put(k, values[i])
		}
		dst := make([]byte, 0, 8<<10)
		i := 0
		for b.Loop() {
			dst, _ = m.Get(keys[i], dst[:0])
			if i++; i == len(keys) {
				i = 0
			}
		}
		b.ReportMetric(float64(m.AllocatedBytes()-m.PayloadBytes()-8*m.Len())/float64(m.Len()), "index-B/entry")
	})
	b.Run("index=swiss", func(b *testing.B) {
		c := nalloc.NewCounting(a)
		idx, err := nalloc.NewMap[uint64, uintptr](c, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer idx.Close()
		seed := maphash.MakeSeed()
		blocks := make([]unsafe.Pointer, len(keys))
		for i, k := range keys {
			l := nalloc.Layout{Size: uintptr(8 + len(k) + len(values[i])), Align: 8}
			p, err := a.Allocate(l)
			if err != nil {
				b.Fatal(err)
			}
			body := unsafe.Slice((*byte)(unsafe.Add(p, 8)), len(k)+len(values[i]))
			*(*[2]uint32)(p) = [2]uint32{uint32(len(k)), uint32(len(values[i]))}
			copy(body[copy(body, k):], values[i])
			blocks[i] = p
			idx.Put(maphash.String(seed, k), uintptr(p))
		}
		dst := make([]byte, 0, 8<<10)
		i := 0
		for b.Loop() {
			k := keys[i]
			if addr, ok := idx.Get(maphash.String(seed, k)); ok {
				p := blocks[i] // the same address: addr is kept as an integer in off-heap memory
				if uintptr(p) != addr {
					b.Fatal("wrong block")
				}
				lens := *(*[2]uint32)(p)
				body := unsafe.Slice((*byte)(unsafe.Add(p, 8)), lens[0]+lens[1])
				if string(body[:lens[0]]) == k {
					dst = append(dst[:0], body[lens[0]:]...)
				}
			}
			if i++; i == len(keys) {
				i = 0
			}
		}
		b.ReportMetric(float64(c.Counts().LiveBytes)/float64(idx.Len()), "index-B/entry")
		for i, p := range blocks {
			a.Deallocate(p, nalloc.Layout{Size: uintptr(8 + len(keys[i]) + len(values[i])), Align: 8})
		}
	})
}

// BenchmarkBytesMapChurn fills a BytesMap, then replaces values with
// values of new lengths drawn afresh from the distribution (each b.N
// Put one), on each native allocator, and reports what the allocator
// holds for it at the end (its Stats: Resident where it has it, else
// Active) per payload byte: the fragmentation that a cache's updates
// leave, which one block per entry hands to the allocator.
func BenchmarkBytesMapChurn(b *testing.B) {
	keys, values := benchEntries(benchMapEntries)
	// mimalloc's Stats have neither figure for a heap this size.
	for _, name := range []string{"glibc", "jemalloc", "tcmalloc"} {
		b.Run("alloc="+name, func(b *testing.B) {
			a, err := nalloc.Open(name)
			if err != nil {
				b.Skip(err)
			}
			before, err := nalloc.StatsOf(a)
			if err != nil {
				b.Skip(err)
			}
			m, err := nalloc.NewBytesMap(a, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			held := func() float64 {
				after, err := nalloc.StatsOf(a)
				if err != nil {
					b.Fatal(err)
				}
				if after.Resident == 0 {
					return float64(after.Active-before.Active) / float64(m.PayloadBytes())
				}
				return float64(after.Resident-before.Resident) / float64(m.PayloadBytes())
			}
			for i, k := range keys {
				m.Put(k, values[i])
			}
			filled := held()
			rng := rand.New(rand.NewPCG(3, 4))
			for b.Loop() {
				m.Put(keys[rng.IntN(len(keys))], values[rng.IntN(len(values))])
			}
			b.ReportMetric(filled, "filled-held/payload")
			b.ReportMetric(held(), "churned-held/payload")
		})
	}
}
