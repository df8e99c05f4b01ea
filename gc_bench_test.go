// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// liveRecord is a fixed-size, pointer-free record of 64 bytes: what a
// Vec holds off-heap.
type liveRecord struct {
	ID   uint64
	Key  [16]byte
	Vals [5]uint64
}

// liveRecordPtrs is the same record as Go code usually writes it, with
// its key as a string: 64 bytes, and one pointer, to a 16-byte object of
// its own, that the garbage collector must follow.
type liveRecordPtrs struct {
	ID   uint64
	Key  string
	Vals [5]uint64
}

func mkLiveKey(i int) (k [16]byte) {
	copy(k[:], strconv.AppendUint(k[:0], uint64(i)*0x9e3779b97f4a7c15, 16))
	return k
}

// gcFigures are what BenchmarkGCLiveSet measures over the stream of Go
// allocations that runs beside the live set.
type gcFigures struct {
	cycles   float64 // GC cycles
	cpu      float64 // GC CPU seconds (/cpu/classes/gc/total)
	pauseP99 float64 // seconds, over the stop-the-world pauses
	peakRSS  float64 // bytes
	procCPU  float64 // seconds of CPU the whole process used (user+system)
}

var gcMetrics = []string{
	"/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/total:cpu-seconds",
	"/sched/pauses/total/gc:seconds",
}

func readGCMetrics() []metrics.Sample {
	s := make([]metrics.Sample, len(gcMetrics))
	for i, name := range gcMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	return s
}

// gcDelta turns two readings into figures: the counters' differences, and
// the 99th percentile of the pauses between them (the upper bound of the
// histogram bucket it falls in).
func gcDelta(before, after []metrics.Sample) gcFigures {
	f := gcFigures{
		cycles: float64(after[0].Value.Uint64() - before[0].Value.Uint64()),
		cpu:    after[1].Value.Float64() - before[1].Value.Float64(),
	}
	hb, ha := before[2].Value.Float64Histogram(), after[2].Value.Float64Histogram()
	var total uint64
	counts := make([]uint64, len(ha.Counts))
	for i := range ha.Counts {
		counts[i] = ha.Counts[i] - hb.Counts[i]
		total += counts[i]
	}
	var seen uint64
	for i, c := range counts {
		if seen += c; total > 0 && float64(seen) >= 0.99*float64(total) {
			f.pauseP99 = ha.Buckets[i+1]
			break
		}
	}
	return f
}

// resetPeakRSS restarts the kernel's peak-RSS count (VmHWM) for this
// process; peakRSS reads it.
func resetPeakRSS() error { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS() float64 {
	status, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return math.NaN()
}

// streamNode is the ordinary Go allocation of the stream: a small object
// with a pointer to a buffer, as a request's data would be.
type streamNode struct {
	id  uint64
	buf []byte
}

// stream allocates total bytes in objects of 48 to 560 bytes, keeping the
// last 4096 alive (a working set of about 1 MiB, like the requests in
// flight of a service), and returns a checksum.
func stream(total int) uint64 {
	var ring [4096]*streamNode
	var sum uint64
	for i, done := 0, 0; done < total; i++ {
		n := &streamNode{id: uint64(i), buf: make([]byte, 16+i%512)}
		n.buf[0] = byte(i)
		if old := ring[i%len(ring)]; old != nil {
			sum += old.id + uint64(old.buf[0])
		}
		ring[i%len(ring)] = n
		done += 32 + len(n.buf)
	}
	return sum
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkGCLiveSet is the payoff of off-heap memory: a live set of
// fixed-size records (1 GiB by default; NALLOC_LIVE_MIB sets it) held
// either on the Go heap or in a Vec, while a stream of ordinary Go
// allocations (4 GiB by default; NALLOC_STREAM_MIB) runs. It reports, over
// the stream: GC cycles, GC CPU seconds, the p99 GC pause and the peak RSS,
// and the process's own CPU time, and logs them side by side (-v shows the
// log). Run it once:
// -benchtime=1x.
//
// Two settings of the collector are measured. gogc=100 is the default:
// the heap goal is twice the live Go heap, so a live set on the Go heap
// also buys the stream a heap goal a live set's size above it, while off
// the heap the goal shrinks to the stream's own few MiB (4 MiB at least)
// and the collector runs far more often; the vec-*-paced cases run the
// stream under StartGCPacer, which gives the collector back the headroom
// of the off-heap set. headroom=live gives every case
// the same room for garbage, the size of the live set, with GOGC=off and a
// memory limit of what the runtime holds after building plus that room:
// what a service that moves its live set off-heap would set, and what the
// pacer would set from a limit of the total, so it has no paced cases.
//
// The Go heap is measured twice: as a []liveRecordPtrs, records with a
// string key (the garbage collector scans the slice and marks one string
// per record), and as a []liveRecord, the same pointer-free records as the
// Vec holds (the garbage collector never looks inside it: one noscan
// object). The Vec holds liveRecord in each allocator's memory.
func BenchmarkGCLiveSet(b *testing.B) {
	if testing.Short() {
		b.Skip("allocates GiBs")
	}
	liveBytes := envInt("NALLOC_LIVE_MIB", 1024) << 20
	streamBytes := envInt("NALLOC_STREAM_MIB", 4096) << 20
	n := liveBytes / int(unsafe.Sizeof(liveRecord{}))

	type impl struct {
		name  string
		build func(b *testing.B) (free func())
		paced bool // under StartGCPacer, gogc=100 only
	}
	impls := []impl{
		{name: "go-slice-pointers", build: func(b *testing.B) func() {
			s := make([]liveRecordPtrs, n)
			for i := range s {
				k := mkLiveKey(i)
				s[i] = liveRecordPtrs{ID: uint64(i), Key: string(k[:])}
			}
			return func() { runtime.KeepAlive(s) }
		}},
		{name: "go-slice", build: func(b *testing.B) func() {
			s := make([]liveRecord, n)
			for i := range s {
				s[i] = liveRecord{ID: uint64(i), Key: mkLiveKey(i)}
			}
			return func() { runtime.KeepAlive(s) }
		}},
	}
	for _, name := range nalloc.Names() {
		if !isModuleAllocator(name) {
			continue
		}
		build := func(b *testing.B) func() {
			a := openOrSkip(b, name)
			v, err := nalloc.NewVec[liveRecord](a, n)
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				if err := v.Append(liveRecord{ID: uint64(i), Key: mkLiveKey(i)}); err != nil {
					b.Fatal(err)
				}
			}
			return v.Free
		}
		impls = append(impls, impl{name: "vec-" + name, build: build})
		if name != "go" && name != "bump" { // those two Vecs live on the Go heap: nothing to pace
			impls = append(impls, impl{name: "vec-" + name + "-paced", build: build, paced: true})
		}
	}

	for _, mode := range []string{"gogc=100", "headroom=live"} {
		var report bytes.Buffer
		fmt.Fprintf(&report, "%s: live set %d MiB (%d records), stream %d MiB, GOMAXPROCS=%d\n",
			mode, liveBytes>>20, n, streamBytes>>20, runtime.GOMAXPROCS(0))
		fmt.Fprintf(&report, "%-20s %7s %9s %11s %10s %12s %12s %8s\n", "impl", "cycles", "gc-cpu-s",
			"pause-p99", "peak-rss", "vs-pointers", "vs-go-slice", "cpu-s")
		figures := make(map[string]gcFigures)
		var run []impl
		for _, im := range impls {
			if im.paced && mode != "gogc=100" {
				continue // the limit here is the same room for garbage everywhere, as a paced limit would be
			}
			run = append(run, im)
		}
		for _, im := range run {
			b.Run(mode+"/impl="+im.name, func(b *testing.B) {
				var f gcFigures
				for b.Loop() {
					runtime.GC()
					debug.FreeOSMemory()
					free := im.build(b)
					runtime.GC()
					if mode == "headroom=live" {
						// The same room for garbage in every case: the
						// memory the Go runtime holds now, plus the size
						// of the live set, with no GOGC rule.
						defer debug.SetGCPercent(debug.SetGCPercent(-1))
						defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(goRuntimeBytes()) + int64(liveBytes)))
					}
					if im.paced {
						defer startGCPacer(b).Stop()
					}
					if err := resetPeakRSS(); err != nil {
						b.Logf("peak RSS not measured: %v", err)
					}
					before, cpu0 := readGCMetrics(), processCPU()
					sink64 += stream(streamBytes)
					f = gcDelta(before, readGCMetrics())
					f.procCPU = processCPU() - cpu0
					f.peakRSS = peakRSS()
					free()
				}
				b.ReportMetric(f.cycles, "gc-cycles")
				b.ReportMetric(f.cpu, "gc-cpu-s")
				b.ReportMetric(f.pauseP99*1e6, "pause-p99-µs")
				b.ReportMetric(f.peakRSS/(1<<20), "peak-rss-MiB")
				b.ReportMetric(f.procCPU, "process-cpu-s")
				figures[im.name] = f
			})
			runtime.GC()
			debug.FreeOSMemory()
		}
		if len(figures) == 0 {
			continue // -bench left this mode out
		}
		// The GC CPU of each case as a fraction of the two Go heap ones:
		// how many times less it spends.
		for _, im := range run {
			f := figures[im.name]
			fmt.Fprintf(&report, "%-20s %7.0f %9.3f %9.0fµs %7.0fMiB %11.2fx %11.2fx %8.2f\n",
				im.name, f.cycles, f.cpu, f.pauseP99*1e6, f.peakRSS/(1<<20),
				figures["go-slice-pointers"].cpu/f.cpu, figures["go-slice"].cpu/f.cpu, f.procCPU)
		}
		b.Log("\n" + report.String())
	}
}

// goRuntimeBytes is the memory the Go runtime holds, as its memory limit
// counts it: /memory/classes/total less what it has released to the OS.
func goRuntimeBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}
