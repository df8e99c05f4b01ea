// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"fmt"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/peer"
	"github.com/nalloc/nalloc/internal/native"
)

func init() {
	register(gcPressure)
	register(gcPressurePaced)
}

// gc-pressure: a live set held in the allocator's memory (for make, the
// baseline, in Go slices) while the program allocates a steady stream of
// short-lived Go objects; what the garbage collector does meanwhile.
var gcPressure = &Workload{
	order: 50,
	Name:  "gc-pressure",
	Desc:  "a live set held in the allocator's memory (make: in Go slices) while Go allocates a steady stream",
	Rows: func(*Params) []RowKey {
		return []RowKey{{"", metric.BuildS}, {"", metric.StreamS}, {"", metric.GCCycles}, {"", metric.GCCPU}, {"", metric.GCP99}}
	},
	Run: func(e *Env) error { return runGCPressure(e, false) },
	Note: func(p *Params) string {
		return fmt.Sprintf("gc-pressure: %s live in %s blocks, then %s of short-lived Go allocations; "+
			"on make the live set is a [][]byte, as a program without nalloc would hold it, and the GC paces on it "+
			"(so it does on the go allocator's blocks and on a bump arena's chunks, which are Go memory); off the Go heap, "+
			"the heap the GC paces on is small, so it runs more often, on less; GOGC=%s, GOMEMLIMIT=%s",
			metric.FormatBytes(float64(p.GCLive)), metric.FormatBytes(float64(p.GCBlock)),
			metric.FormatBytes(float64(p.GCStream)), orDefault(os.Getenv("GOGC"), "100"), orDefault(os.Getenv("GOMEMLIMIT"), "off"))
	},
	Panels: []Panel{
		{metric.GCCPU, "gc-pressure: GC CPU during the Go stream", "", "CPU seconds", "s", 1, false},
		{metric.PeakRSS, "gc-pressure: peak RSS", "", "MiB", "B", 1 << 20, false},
	},
}

// gc-pressure-paced: the same under nalloc.StartGCPacer, started with its
// defaults once the live set is built, so that the collector's goal counts
// the off-heap set as GOGC would count it on the heap. A workload of its
// own rather than rows of gc-pressure, so that each run has a process and
// GC state of its own.
var gcPressurePaced = &Workload{
	order: 51,
	Name:  "gc-pressure-paced",
	Desc:  "gc-pressure under nalloc.StartGCPacer, which counts the off-heap live set in the collector's goal",
	Rows: func(*Params) []RowKey {
		return []RowKey{{"", metric.BuildS}, {"", metric.StreamS}, {"", metric.GCCycles}, {"", metric.GCCPU}, {"", metric.GCP99}}
	},
	Run: func(e *Env) error { return runGCPressure(e, true) },
	Note: func(*Params) string {
		return "gc-pressure-paced: the same under nalloc.StartGCPacer(), which counts the process's " +
			"resident memory outside the Go runtime as live heap for GOGC (and takes it off GOMEMLIMIT): " +
			"the Go heap grows into the headroom the set would have given it on the heap, so cycles and peak RSS " +
			"come near make's in gc-pressure"
	},
	Panels: []Panel{{metric.GCCPU, "gc-pressure-paced: GC CPU under nalloc.StartGCPacer", "", "CPU seconds", "s", 1, false}},
	NotFor: notForGoMemory,
}

// notForGoMemory says why pacing on off-heap memory does not apply to an
// allocator whose memory is the Go heap: make, the go allocator, and the
// bump arena, whose chunks come from it.
func notForGoMemory(a nalloc.Allocator) string {
	_, isMake := nalloc.As[*peer.Make](a)
	_, isGo := nalloc.As[*nalloc.GoHeap](a)
	if isMake || isGo {
		return "the live set is on the Go heap, which the collector paces on already"
	}
	if _, ok := resetterOf(a); ok {
		return "the arena's chunks are Go heap memory, which the collector paces on already"
	}
	return ""
}

type gcParams struct {
	GCLive   int64   `json:"gc_live"`   // bytes in the live set
	GCBlock  uintptr `json:"gc_block"`  // its block size
	GCStream int64   `json:"gc_stream"` // bytes of short-lived Go allocations while it is held
}

func gcParamsFor(live int64) gcParams {
	return gcParams{GCLive: live, GCBlock: 1 << 10, GCStream: 2 * live}
}

// The runtime/metrics gc-pressure reads.
const (
	gcCyclesMetric = "/gc/cycles/total:gc-cycles"
	gcCPUMetric    = "/cpu/classes/gc/total:cpu-seconds"
	gcPauseMetric  = "/sched/pauses/total/gc:seconds"
)

type gcSample struct {
	cycles uint64
	cpu    float64
	pauses *rtmetrics.Float64Histogram
}

func readGC() gcSample {
	s := []rtmetrics.Sample{{Name: gcCyclesMetric}, {Name: gcCPUMetric}, {Name: gcPauseMetric}}
	rtmetrics.Read(s)
	return gcSample{s[0].Value.Uint64(), s[1].Value.Float64(), s[2].Value.Float64Histogram()}
}

// p99Between returns the 99th percentile of the pauses recorded between
// two samples of the same histogram: the upper bound of the bucket it
// falls in (runtime/metrics keeps buckets, not pauses), or 0 if there was
// no pause.
func p99Between(a, b *rtmetrics.Float64Histogram) float64 {
	var total uint64
	for i := range b.Counts {
		total += b.Counts[i] - a.Counts[i]
	}
	if total == 0 {
		return 0
	}
	want := (total*99 + 99) / 100 // ceil(0.99 total)
	var seen uint64
	for i := range b.Counts {
		seen += b.Counts[i] - a.Counts[i]
		if seen >= want {
			if hi := b.Buckets[i+1]; hi < 1e300 {
				return hi
			}
			return b.Buckets[i]
		}
	}
	return b.Buckets[len(b.Buckets)-1]
}

// streamRing keeps the stream's most recent objects alive a little while,
// as requests in flight would.
var streamRing [4096][]byte

// runGCPressure runs gc-pressure, under nalloc.StartGCPacer (started once
// the live set is built, with its default settings) if paced.
func runGCPressure(e *Env, paced bool) error {
	var live liveSet = &offHeapSet{a: e.A, bl: nalloc.Layout{Size: e.P.GCBlock, Align: blockAlign}}
	if _, ok := nalloc.As[*peer.Make](e.A); ok {
		live = &goSliceSet{size: int(e.P.GCBlock)}
	}
	defer live.free()
	n := int(e.P.GCLive / int64(e.P.GCBlock))
	t0 := cpuTime()
	if err := live.build(n); err != nil {
		return err
	}
	e.Put("", metric.BuildS, (cpuTime() - t0).Seconds())
	e.Stats("held")
	if paced {
		p, err := nalloc.StartGCPacer()
		if err != nil {
			return err
		}
		defer p.Stop()
	}

	runtime.GC() // start the stream from a settled heap, the same for all
	g0 := readGC()
	t1 := cpuTime()
	var done int64
	for i := 0; done < e.P.GCStream; i++ {
		size := 256 + (i*37)%768
		streamRing[i%len(streamRing)] = make([]byte, size)
		done += int64(size)
	}
	dt := cpuTime() - t1
	g1 := readGC()
	clear(streamRing[:])
	e.Put("", metric.StreamS, dt.Seconds())
	e.Put("", metric.GCCycles, float64(g1.cycles-g0.cycles))
	e.Put("", metric.GCCPU, g1.cpu-g0.cpu)
	e.Put("", metric.GCP99, p99Between(g0.pauses, g1.pauses))
	runtime.KeepAlive(live)
	return nil
}

// liveSet is gc-pressure's live set: n blocks, each written.
type liveSet interface {
	build(n int) error
	free()
}

// fill writes b with the pattern, so that every page of it is resident.
func fill(b []byte) {
	for off := 0; off < len(b); off += len(pattern) {
		copy(b[off:], pattern[:])
	}
}

// offHeapSet holds the live set in an allocator's memory, the block
// addresses too (as uintptrs, in a block of their own): nothing of it is
// on the Go heap unless the allocator puts it there (the bump arena's
// chunks are Go memory, without pointers; the GoHeap keeps every block in
// its table).
type offHeapSet struct {
	a     nalloc.Allocator
	bl    nalloc.Layout
	tl    nalloc.Layout
	tp    unsafe.Pointer
	table []uintptr
	built int
}

func (s *offHeapSet) build(n int) error {
	s.tl = nalloc.Layout{Size: uintptr(n) * unsafe.Sizeof(uintptr(0)), Align: blockAlign}
	tp, err := s.a.Allocate(s.tl)
	if err != nil {
		return err
	}
	s.tp, s.table = tp, unsafe.Slice((*uintptr)(tp), n)
	for i := range s.table {
		p, err := s.a.Allocate(s.bl)
		if err != nil {
			return err
		}
		fill(unsafe.Slice((*byte)(p), s.bl.Size))
		s.table[i] = uintptr(p)
		s.built++
	}
	return nil
}

func (s *offHeapSet) free() {
	for _, p := range s.table[:s.built] {
		// The block at p is kept alive by its allocator, not by the
		// table: C memory, or for the "go" allocator the GoHeap's table.
		s.a.Deallocate(native.Ptr(p), s.bl)
	}
	if s.tp != nil {
		s.a.Deallocate(s.tp, s.tl)
	}
}

// goSliceSet is the baseline, the live set as a Go program holds it
// without nalloc: a [][]byte of Go-heap blocks. It stands in for the
// make peer here, whose blocks live only as long as something points at
// them: an offHeapSet keeps addresses as uintptrs, which the garbage
// collector does not follow.
type goSliceSet struct {
	size   int
	blocks [][]byte
}

func (s *goSliceSet) build(n int) error {
	s.blocks = make([][]byte, n)
	for i := range s.blocks {
		s.blocks[i] = make([]byte, s.size)
		fill(s.blocks[i])
	}
	return nil
}

func (s *goSliceSet) free() { s.blocks = nil }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
