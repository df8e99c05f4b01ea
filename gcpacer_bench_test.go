// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/osmem"
)

type offHeapSource struct {
	name  string
	count func() (uint64, error)
}

// offHeapSources are the candidate counts of off-heap memory that
// BenchmarkOffHeapCount compares; each returns bytes. The allocator's own
// sources are added per allocator.
var offHeapSources = []offHeapSource{
	// The pacer's default: /proc/self/statm's anonymous pages less the Go
	// runtime's memory.
	{"statm", nalloc.CountProcess},
	// The same counters as text, /proc/self/status's RssAnon.
	{"status", func() (uint64, error) {
		s, err := osmem.ReadCheap()
		return s.AnonRSS - min(s.AnonRSS, goRuntimeBytes()), err
	}},
	// smaps_rollup's Anonymous, which walks every page table.
	{"smaps-rollup", func() (uint64, error) {
		anon, err := smapsAnonymous()
		return anon - min(anon, goRuntimeBytes()), err
	}},
}

// smapsAnonymous is the Anonymous line of /proc/self/smaps_rollup.
func smapsAnonymous() (uint64, error) {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte("Anonymous:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no Anonymous line in /proc/self/smaps_rollup")
}

// BenchmarkOffHeapCount measures what each way of counting off-heap
// memory costs per read and what it reads, on each native backend
// holding a live set (1 GiB by default; NALLOC_OFFHEAP_MIB sets it) of
// 64-byte or 1 MiB blocks, each written: state=full holds all of it,
// state=half after every other block was freed (a fragmented heap, half
// the live bytes). Besides ns/op it reports live-MiB (the bytes in live
// blocks), counted-MiB (what the source reads) and grew-MiB (how much
// that rose from before the set was built: other allocators' leftovers
// in this process, the Go table of block addresses and the like are not
// in it). Run it with -benchtime=20x: mallinfo2 over a fragmented heap
// takes milliseconds. Each case reads best in a process of its own
// (-bench 'OffHeapCount/impl=glibc/block=64B/'), since allocators keep
// what an earlier case freed.
//
// The allocators' sources: stats is their Stats, as GCPacerAllocators
// reads it (heldBytes: Resident, Mapped or Allocated); for jemalloc,
// epoch+allocated is the least a read of its counters costs (one epoch
// bump, one mallctl).
func BenchmarkOffHeapCount(b *testing.B) {
	if testing.Short() {
		b.Skip("allocates GiBs")
	}
	liveBytes := envInt("NALLOC_OFFHEAP_MIB", 1024) << 20
	for _, spec := range native.Specs() {
		name := spec.Name
		for _, block := range []int{64, 1 << 20} {
			// The set is built only for the cases that -bench selects.
			b.Run(fmt.Sprintf("impl=%s/block=%s", name, sizeName(block)), func(b *testing.B) {
				benchOffHeapCount(b, name, liveBytes, block)
			})
		}
	}
}

func benchOffHeapCount(b *testing.B, name string, liveBytes, block int) {
	a, err := nalloc.Open(name)
	if err != nil {
		b.Skip(err)
	}
	sources := slices.Clone(offHeapSources)
	if sr, ok := a.(nalloc.StatsReporter); ok {
		sources = append(sources, offHeapSource{"stats", func() (uint64, error) {
			s, err := sr.Stats()
			return nalloc.HeldBytes(s), err
		}})
	}
	if j, ok := a.(*jemalloc.Allocator); ok {
		sources = append(sources, offHeapSource{"epoch+allocated", func() (uint64, error) {
			if err := jemalloc.SetMallctl(j, "epoch", uint64(1)); err != nil {
				return 0, err
			}
			return jemalloc.Mallctl[uint64](j, "stats.allocated")
		}})
	}
	before := make([]uint64, len(sources))
	runtime.GC()
	for i, s := range sources {
		before[i], _ = s.count()
	}
	set := buildOffHeap(b, a, liveBytes, block)
	defer func() {
		set.free()
		if p, ok := a.(nalloc.Purger); ok {
			p.Purge()
		}
		debug.FreeOSMemory()
	}()
	for _, state := range []string{"full", "half"} {
		if state == "half" {
			set.freeEvery(2)
		}
		runtime.GC()
		for i, s := range sources {
			b.Run("state="+state+"/source="+s.name, func(b *testing.B) {
				var got uint64
				var err error
				for b.Loop() {
					if got, err = s.count(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(set.live)/(1<<20), "live-MiB")
				b.ReportMetric(float64(got)/(1<<20), "counted-MiB")
				b.ReportMetric((float64(got)-float64(before[i]))/(1<<20), "grew-MiB")
			})
		}
	}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + "MiB"
	}
	return strconv.Itoa(n) + "B"
}

// offHeapBlocks is a live set of written blocks in an allocator, their
// addresses in a Go slice (pointer-free: the collector does not scan it).
type offHeapBlocks struct {
	a     nalloc.Allocator
	l     nalloc.Layout
	addrs []uintptr // 0 once freed
	live  int       // bytes in live blocks
}

func buildOffHeap(b *testing.B, a nalloc.Allocator, total, block int) *offHeapBlocks {
	s := &offHeapBlocks{a: a, l: nalloc.Layout{Size: uintptr(block), Align: 8}, addrs: make([]uintptr, total/block)}
	for i := range s.addrs {
		p, err := a.Allocate(s.l)
		if err != nil {
			s.free()
			b.Fatal(err)
		}
		buf := unsafe.Slice((*byte)(p), block)
		for off := 0; off < block; off += 64 { // every cache line, so every page
			buf[off] = byte(i)
		}
		s.addrs[i] = uintptr(p)
		s.live += block
	}
	return s
}

// freeEvery frees every nth live block.
func (s *offHeapBlocks) freeEvery(n int) {
	for i := 0; i < len(s.addrs); i += n {
		if s.addrs[i] != 0 {
			s.a.Deallocate(*(*unsafe.Pointer)(unsafe.Pointer(&s.addrs[i])), s.l)
			s.addrs[i] = 0
			s.live -= int(s.l.Size)
		}
	}
}

func (s *offHeapBlocks) free() { s.freeEvery(1) }

// BenchmarkGCPacerUpdate is what the pacer costs per GC cycle and per
// tick: one recomputation (runtime/metrics, the count, the rules), with
// nothing to change (source=statm), or with both settings changed each
// time (set=both, the rare case). The process holds no live set.
func BenchmarkGCPacerUpdate(b *testing.B) {
	b.Run("source=statm", func(b *testing.B) {
		p, err := nalloc.NewIdlePacer()
		if err != nil {
			b.Fatal(err)
		}
		defer p.Restore()
		b.ReportAllocs()
		for b.Loop() {
			p.Update()
		}
	})
	b.Run("set=both", func(b *testing.B) {
		defer debug.SetGCPercent(debug.SetGCPercent(100))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
		var i int64
		b.ReportAllocs()
		for b.Loop() {
			i++
			debug.SetGCPercent(int(100 + i&1))
			debug.SetMemoryLimit(1<<40 + i&1)
		}
	})
}

// BenchmarkLiveBytesCounter is the price of the candidate count that the
// pacer does not use: live bytes kept by nalloc on the allocation path.
// One Allocate+Deallocate of 64 bytes per op on glibc from every P at
// once, bare (count=none) and through a Counting (count=atomic: the
// atomic adds on counters that every goroutine shares).
func BenchmarkLiveBytesCounter(b *testing.B) {
	g := openGlibc(b)
	l := nalloc.Layout{Size: 64, Align: 8}
	for _, c := range []struct {
		name string
		a    nalloc.Allocator
	}{{"none", g}, {"atomic", nalloc.NewCounting(g)}} {
		b.Run("impl=glibc/count="+c.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p, _ := c.a.Allocate(l)
					c.a.Deallocate(p, l)
				}
			})
		})
	}
}

// BenchmarkGCPacerLimit is the memory limit's promise: GOGC=off, a limit
// L of the off-heap set X (1 GiB by default; NALLOC_LIVE_MIB) plus 512
// MiB, and a stream of written Go garbage (4 GiB by default;
// NALLOC_STREAM_MIB) in 64 KiB objects, without the pacer and with it.
// It reports the Go runtime's own memory at its highest (go-peak-MiB,
// /memory/classes/total less heap/released, sampled every 4 MiB of the
// stream), X as the pacer's count reads it before the stream
// (offheap-MiB), L - X (go-room-MiB), how far the peak went over it
// (over-MiB), the GC cycles and the process's peak RSS. Without the pacer the runtime
// grows to L, over the room by X; with it, it stays in L - X. The
// pacer counts what earlier cases left resident too (allocators keep some
// of what they free): for figures, run each case in its own process
// (-bench 'GCPacerLimit/impl=glibc/').
func BenchmarkGCPacerLimit(b *testing.B) {
	if testing.Short() {
		b.Skip("allocates GiBs")
	}
	liveBytes := envInt("NALLOC_LIVE_MIB", 1024) << 20
	streamBytes := envInt("NALLOC_STREAM_MIB", 4096) << 20
	const headroom = 512 << 20
	for _, spec := range native.Specs() {
		for _, paced := range []bool{false, true} {
			b.Run(fmt.Sprintf("impl=%s/paced=%v", spec.Name, paced), func(b *testing.B) {
				a, err := nalloc.Open(spec.Name)
				if err != nil {
					b.Skip(err)
				}
				set := buildOffHeap(b, a, liveBytes, 1<<10)
				defer func() {
					set.free()
					if p, ok := a.(nalloc.Purger); ok {
						p.Purge() // the next case counts what this one leaves
					}
				}()
				runtime.GC()
				limit := int64(liveBytes + headroom)
				defer debug.SetGCPercent(debug.SetGCPercent(-1))
				defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
				x, err := nalloc.CountProcess()
				if err != nil {
					b.Fatal(err)
				}
				if paced {
					defer startGCPacer(b).Stop()
				}
				if err := resetPeakRSS(); err != nil {
					b.Logf("peak RSS not measured: %v", err)
				}
				before := readGCMetrics()
				var ring [256][]byte
				var peak uint64
				for b.Loop() {
					for i := range streamBytes / (64 << 10) {
						buf := make([]byte, 64<<10)
						for j := 0; j < len(buf); j += 4 << 10 {
							buf[j] = 1
						}
						ring[i%len(ring)] = buf
						if i%64 == 0 {
							peak = max(peak, goRuntimeBytes())
						}
					}
				}
				f := gcDelta(before, readGCMetrics())
				b.ReportMetric(float64(peak)/(1<<20), "go-peak-MiB")
				room := float64(limit) - float64(x)
				b.ReportMetric(room/(1<<20), "go-room-MiB")
				b.ReportMetric((float64(peak)-room)/(1<<20), "over-MiB")
				b.ReportMetric(float64(x)/(1<<20), "offheap-MiB")
				b.ReportMetric(f.cycles, "gc-cycles")
				b.ReportMetric(peakRSS()/(1<<20), "peak-rss-MiB")
				runtime.KeepAlive(ring)
			})
			runtime.GC()
			debug.FreeOSMemory()
		}
	}
}
