// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
	"golang.org/x/sys/unix"
)

// params are the sizes and counts of every workload: derived from the
// flags in the parent, handed to each child as they are, and to the C
// side as arguments, so that all three agree.
type params struct {
	SimpleSizes []uintptr `json:"simple_sizes"` // glibc-simple block sizes
	SimpleReps  int       `json:"simple_reps"`  // timed cycles of 1600 blocks per size

	ThreadSize   uintptr `json:"thread_size"`   // glibc-thread block size
	ThreadCounts []int   `json:"thread_counts"` // goroutines (threads) per measurement
	ThreadReps   int     `json:"thread_reps"`   // cycles of 1600 blocks per thread

	LargeSlots int     `json:"large_slots"`
	LargeSteps int     `json:"large_steps"`
	LargeMin   uintptr `json:"large_min"`
	LargeMax   uintptr `json:"large_max"`
	Seed       uint64  `json:"large_seed"`  // ChaCha8 seed of malloc-large
	Touch      bool    `json:"large_touch"` // write one byte per page of each large block

	BoxRounds int     `json:"box_rounds"`
	Boxes     int     `json:"boxes"`
	BoxSize   uintptr `json:"box_size"`

	GCLive   int64   `json:"gc_live"`   // bytes in the live set of gc-pressure
	GCBlock  uintptr `json:"gc_block"`  // its block size
	GCStream int64   `json:"gc_stream"` // bytes of short-lived Go allocations while it is held
}

// Every block in every workload has this alignment: what Go gives a
// struct of words, and what every allocator serves without an aligned
// entry point (malloc's 16 covers it; the Go heap's 8 is it).
const blockAlign = 8

const cycleBlocks = 1600 // glibc-simple: blocks per cycle

// pattern[j] == byte(j): a block of S <= 256 bytes is written "byte j as
// byte(j)" with one copy, as the C side does with one memcpy.
var pattern = func() (p [256]byte) {
	for i := range p {
		p[i] = byte(i)
	}
	return
}()

// A workload is one of the shoot-out's benchmarks.
type workload struct {
	name string
	desc string // one line, for the table and the JSON
	// rows lists the figures it reports, in table order (before the
	// common ones: peak RSS, faults, Stats).
	rows func(p params) []rowKey
	// run measures one run on allocator e.a, in a child process.
	run func(e *runEnv) error
	// notFor says why the workload does not apply to an allocator, or "".
	notFor func(a nalloc.Allocator) string
	// cArgs and cStdin give the C side its arguments; nil cArgs means the
	// workload has no C version.
	cArgs  func(p params) []string
	cStdin func(p params) []byte
}

// rowKey names one row: a case of the workload ("size=16B", "threads=4",
// "" for a single case) and a metric ID.
type rowKey struct{ Case, Metric string }

// resetter is what an arena has: the way to free everything at once.
// Workloads call Reset where the others call Deallocate for each block.
type resetter interface{ Reset() }

var workloads = []*workload{
	{
		name: "glibc-simple",
		desc: "1600 blocks of S bytes, each written; half freed in order, half in reverse",
		rows: func(p params) (r []rowKey) {
			for _, s := range p.SimpleSizes {
				r = append(r, rowKey{sizeCase(s), mNsPerPair})
			}
			return r
		},
		run: runSimple,
		cArgs: func(p params) []string {
			return []string{"sizes=" + joinInts(p.SimpleSizes), "reps=" + strconv.Itoa(p.SimpleReps)}
		},
	},
	{
		name: "glibc-thread",
		desc: "the glibc-simple cycle at 128 B on N goroutines, each locked to its OS thread",
		rows: func(p params) (r []rowKey) {
			for _, n := range p.ThreadCounts {
				r = append(r, rowKey{threadCase(n), mPairsPerSec})
			}
			for _, n := range p.ThreadCounts[1:] {
				r = append(r, rowKey{threadCase(n), mScaling})
			}
			return r
		},
		run: runThread,
		cArgs: func(p params) []string {
			return []string{"threads=" + joinInts(p.ThreadCounts), "reps=" + strconv.Itoa(p.ThreadReps),
				"size=" + strconv.Itoa(int(p.ThreadSize))}
		},
	},
	{
		name:   "malloc-large",
		desc:   "20 slots, random steps: free the slot's block, allocate 5-25 MiB (ChaCha8, seed 42)",
		rows:   func(params) []rowKey { return []rowKey{{"", mUsPerStep}} },
		run:    runLarge,
		notFor: notForArena,
		cArgs: func(p params) []string {
			return []string{"slots=" + strconv.Itoa(p.LargeSlots), "touch=" + strconv.Itoa(b2i(p.Touch))}
		},
		cStdin: func(p params) []byte {
			var b strings.Builder
			for _, s := range largeSteps(p) {
				fmt.Fprintf(&b, "%d %d\n", s.slot, s.size)
			}
			return []byte(b.String())
		},
	},
	{
		name: "arena-boxes",
		desc: "1000 boxes of 64 B, written, freed together; arenas Reset instead",
		rows: func(params) []rowKey { return []rowKey{{"", mNsPerBox}} },
		run:  runBoxes,
		cArgs: func(p params) []string {
			return []string{"rounds=" + strconv.Itoa(p.BoxRounds), "boxes=" + strconv.Itoa(p.Boxes),
				"boxsize=" + strconv.Itoa(int(p.BoxSize))}
		},
	},
	{
		name: "gc-pressure",
		desc: "a live set held in the allocator's memory (go: in Go slices) while Go allocates a steady stream",
		rows: func(params) []rowKey {
			return []rowKey{{"", mBuildS}, {"", mStreamS}, {"", mGCCycles}, {"", mGCCPU}, {"", mGCP99}}
		},
		run: func(e *runEnv) error { return runGCPressure(e, false) },
	},
	{
		name: "gc-pressure-paced",
		desc: "gc-pressure under nalloc.StartGCPacer, which counts the off-heap live set in the collector's goal",
		rows: func(params) []rowKey {
			return []rowKey{{"", mBuildS}, {"", mStreamS}, {"", mGCCycles}, {"", mGCCPU}, {"", mGCP99}}
		},
		run:    func(e *runEnv) error { return runGCPressure(e, true) },
		notFor: notForGoMemory,
	},
}

// commonRows are reported by every workload after its own.
func commonRows() []rowKey {
	r := []rowKey{{"", mPeakRSS}, {"", mFaults}}
	for _, when := range []string{"held", "after"} {
		for _, f := range statsFields {
			r = append(r, rowKey{"", statsMetric(when, f)})
		}
	}
	return r
}

func workloadByName(name string) *workload {
	for _, w := range workloads {
		if w.name == name {
			return w
		}
	}
	return nil
}

func workloadNames() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.name
	}
	return names
}

func sizeCase(s uintptr) string { return fmt.Sprintf("size=%dB", s) }
func threadCase(n int) string   { return fmt.Sprintf("threads=%d", n) }

func joinInts[T int | uintptr](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatUint(uint64(x), 10)
	}
	return strings.Join(s, ",")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func notForArena(a nalloc.Allocator) string {
	if _, ok := a.(resetter); ok {
		return "an arena frees only on Reset, so 1000 steps would hold every block ever allocated (~15 GB)"
	}
	return ""
}

// runEnv is what a workload's run sees: the allocator and the figures it
// reports. It lives in a child process (child.go).
type runEnv struct {
	name string // the allocator's registered name, to Open more of it
	a    nalloc.Allocator
	p    params
	put  func(cas, metric string, v float64)
}

// stats reports a's nalloc.Stats, if it has them, sampled at when
// ("held" or "after").
func (e *runEnv) stats(when string) {
	sr, ok := e.a.(nalloc.StatsReporter)
	if !ok {
		return
	}
	s, err := sr.Stats()
	if err != nil {
		return
	}
	for i, v := range [...]uint64{s.Allocated, s.Active, s.Resident, s.Mapped, s.Retained, s.Metadata} {
		e.put("", statsMetric(when, statsFields[i]), float64(v))
	}
}

// cycler runs the glibc-simple cycle on one allocator: allocate 1600
// blocks, write each, free the first 800 in allocation order and the other
// 800 from last to first. An arena is Reset at the end of each cycle too,
// since its Deallocate reclaims nothing (the Deallocate calls are still
// made: they are part of the workload). Not for concurrent use: each
// goroutine has its own.
type cycler struct {
	a      nalloc.Allocator
	reset  resetter
	blocks []unsafe.Pointer // Go memory holding pointers to allocator memory
}

func newCycler(a nalloc.Allocator) *cycler {
	c := &cycler{a: a, blocks: make([]unsafe.Pointer, cycleBlocks)}
	c.reset, _ = a.(resetter)
	return c
}

// cycle runs one cycle with blocks of size bytes, calling held, if not
// nil, while every block is allocated.
func (c *cycler) cycle(size uintptr, held func()) error {
	l := nalloc.Layout{Size: size, Align: blockAlign}
	for i := range c.blocks {
		p, err := c.a.Allocate(l)
		if err != nil {
			return err
		}
		copy(unsafe.Slice((*byte)(p), size), pattern[:size])
		c.blocks[i] = p
	}
	if held != nil {
		held()
	}
	for i := range cycleBlocks / 2 {
		c.a.Deallocate(c.blocks[i], l)
	}
	for i := cycleBlocks - 1; i >= cycleBlocks/2; i-- {
		c.a.Deallocate(c.blocks[i], l)
	}
	if c.reset != nil {
		c.reset.Reset()
	}
	return nil
}

func runSimple(e *runEnv) error {
	c := newCycler(e.a)
	for _, s := range e.p.SimpleSizes {
		if err := c.cycle(s, nil); err != nil { // warm-up, off the clock
			return err
		}
		t0 := cpuTime()
		for range e.p.SimpleReps {
			if err := c.cycle(s, nil); err != nil {
				return err
			}
		}
		dt := cpuTime() - t0
		e.put(sizeCase(s), mNsPerPair, float64(dt.Nanoseconds())/float64(e.p.SimpleReps*cycleBlocks))
	}
	// One more cycle at the largest size, off the clock, to sample Stats
	// while the blocks are held.
	return c.cycle(e.p.SimpleSizes[len(e.p.SimpleSizes)-1], func() { e.stats("held") })
}

func runThread(e *runEnv) error {
	var base float64
	for k, n := range e.p.ThreadCounts {
		rate, err := threadRound(e, n)
		if err != nil {
			return err
		}
		if k == 0 {
			base = rate
		}
		e.put(threadCase(n), mPairsPerSec, rate)
		if k > 0 {
			e.put(threadCase(n), mScaling, rate/base)
		}
	}
	return nil
}

// threadRound runs n goroutines, each locked to its own OS thread with
// its own allocator from nalloc.Open (the shared instance for native
// backends, a new arena or GoHeap otherwise), and returns the pairs per
// second over all of them, from the start signal to the last one done.
func threadRound(e *runEnv, n int) (float64, error) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			// Never unlocked: the thread exits with the goroutine, so each
			// n starts on fresh threads, as the C side's pthreads do.
			runtime.LockOSThread()
			a, err := nalloc.Open(e.name)
			var c *cycler
			if err == nil {
				c = newCycler(a)
				err = c.cycle(e.p.ThreadSize, nil) // warm this thread's caches
			}
			ready.Done()
			<-start
			for r := 0; err == nil && r < e.p.ThreadReps; r++ {
				err = c.cycle(e.p.ThreadSize, nil)
			}
			errs[i] = err
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	dt := time.Since(t0)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return float64(n*e.p.ThreadReps*cycleBlocks) / dt.Seconds(), nil
}

type largeStep struct {
	slot int
	size uintptr
}

// largeSteps is malloc-large's sequence: for each step a slot in
// [0, LargeSlots) and a size uniform in [LargeMin, LargeMax], from a
// ChaCha8 generator whose seed is Seed in its first 8 bytes, little-endian.
// The Go child and the C side (through its stdin) run the same sequence.
func largeSteps(p params) []largeStep {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], p.Seed)
	r := rand.New(rand.NewChaCha8(seed))
	steps := make([]largeStep, p.LargeSteps)
	for i := range steps {
		steps[i].slot = r.IntN(p.LargeSlots)
		steps[i].size = p.LargeMin + uintptr(r.Uint64N(uint64(p.LargeMax-p.LargeMin)+1))
	}
	return steps
}

func runLarge(e *runEnv) error {
	steps := largeSteps(e.p)
	type slot struct {
		p unsafe.Pointer
		l nalloc.Layout
	}
	slots := make([]slot, e.p.LargeSlots)
	free := func() {
		for i, s := range slots {
			if s.p != nil {
				e.a.Deallocate(s.p, s.l)
				slots[i] = slot{}
			}
		}
	}
	defer free()
	t0 := cpuTime()
	for _, st := range steps {
		s := &slots[st.slot]
		if s.p != nil {
			e.a.Deallocate(s.p, s.l)
			s.p = nil
		}
		l := nalloc.Layout{Size: st.size, Align: blockAlign}
		p, err := e.a.Allocate(l)
		if err != nil {
			return err
		}
		if e.p.Touch {
			b := unsafe.Slice((*byte)(p), st.size)
			for off := 0; off < len(b); off += os.Getpagesize() {
				b[off] = 1
			}
		}
		*s = slot{p, l}
	}
	dt := cpuTime() - t0
	e.put("", mUsPerStep, float64(dt.Nanoseconds())/1e3/float64(len(steps)))
	e.stats("held")
	return nil
}

func runBoxes(e *runEnv) error {
	l := nalloc.Layout{Size: e.p.BoxSize, Align: blockAlign}
	boxes := make([]unsafe.Pointer, e.p.Boxes)
	reset, _ := e.a.(resetter)
	round := func(held func()) error {
		for i := range boxes {
			p, err := e.a.Allocate(l)
			if err != nil {
				return err
			}
			copy(unsafe.Slice((*byte)(p), l.Size), pattern[:l.Size])
			boxes[i] = p
		}
		if held != nil {
			held()
		}
		if reset != nil {
			reset.Reset()
			return nil
		}
		for _, p := range boxes {
			e.a.Deallocate(p, l)
		}
		return nil
	}
	if err := round(nil); err != nil { // warm-up
		return err
	}
	t0 := cpuTime()
	for range e.p.BoxRounds {
		if err := round(nil); err != nil {
			return err
		}
	}
	dt := cpuTime() - t0
	e.put("", mNsPerBox, float64(dt.Nanoseconds())/float64(e.p.BoxRounds*e.p.Boxes))
	return round(func() { e.stats("held") })
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

// notForGoMemory says why pacing on off-heap memory does not apply to
// an allocator whose memory is the Go heap: the "go" allocator, and the
// bump arena, whose chunks come from it.
func notForGoMemory(a nalloc.Allocator) string {
	if _, ok := a.(*nalloc.GoHeap); ok {
		return "the live set is on the Go heap, which the collector paces on already"
	}
	if _, ok := a.(resetter); ok {
		return "the arena's chunks are Go heap memory, which the collector paces on already"
	}
	return ""
}

// runGCPressure runs gc-pressure, under nalloc.StartGCPacer (started once
// the live set is built, with its default settings) if paced.
func runGCPressure(e *runEnv, paced bool) error {
	var live liveSet = &offHeapSet{a: e.a, bl: nalloc.Layout{Size: e.p.GCBlock, Align: blockAlign}}
	if _, ok := e.a.(*nalloc.GoHeap); ok {
		live = &goSliceSet{size: int(e.p.GCBlock)}
	}
	defer live.free()
	n := int(e.p.GCLive / int64(e.p.GCBlock))
	t0 := cpuTime()
	if err := live.build(n); err != nil {
		return err
	}
	e.put("", mBuildS, (cpuTime() - t0).Seconds())
	e.stats("held")
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
	for i := 0; done < e.p.GCStream; i++ {
		size := 256 + (i*37)%768
		streamRing[i%len(streamRing)] = make([]byte, size)
		done += int64(size)
	}
	dt := cpuTime() - t1
	g1 := readGC()
	clear(streamRing[:])
	e.put("", mStreamS, dt.Seconds())
	e.put("", mGCCycles, float64(g1.cycles-g0.cycles))
	e.put("", mGCCPU, g1.cpu-g0.cpu)
	e.put("", mGCP99, p99Between(g0.pauses, g1.pauses))
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
// chunks are Go memory, without pointers).
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
		s.a.Deallocate(addr(p), s.bl)
	}
	if s.tp != nil {
		s.a.Deallocate(s.tp, s.tl)
	}
}

// goSliceSet is the baseline, the live set as a Go program holds it
// without nalloc: a [][]byte of Go-heap blocks. It stands in for the "go"
// allocator here, whose own table of blocks (a map, for Deallocate) would
// add GC work that no such program has.
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

// paramsFor derives the workloads' sizes from the flags.
func paramsFor(quick bool, threads int, touch bool, gcLive int64) params {
	p := params{
		SimpleSizes: []uintptr{16, 32, 64, 128, 256},
		SimpleReps:  200,
		ThreadSize:  128,
		ThreadReps:  100,
		LargeSlots:  20,
		LargeSteps:  1000,
		LargeMin:    5 << 20,
		LargeMax:    25 << 20,
		Seed:        42,
		Touch:       touch,
		BoxRounds:   10000,
		Boxes:       1000,
		BoxSize:     64,
		GCLive:      gcLive,
		GCBlock:     1 << 10,
	}
	if quick {
		p.SimpleReps = 40
		p.ThreadReps = 20
		p.LargeSteps = 200
		p.BoxRounds = 1000
	}
	p.GCStream = 2 * p.GCLive
	for n := 1; n <= threads; n *= 2 {
		p.ThreadCounts = append(p.ThreadCounts, n)
	}
	if last := p.ThreadCounts[len(p.ThreadCounts)-1]; last != threads {
		p.ThreadCounts = append(p.ThreadCounts, threads)
	}
	return p
}

// cpuTime returns the CPU time of the whole process so far: user and
// system, every thread, the garbage collector's included. The
// single-threaded workloads are timed with it (and so is the C side), so
// that what else runs on the machine does not count, while everything
// the process itself spends, page faults and GC included, does.
func cpuTime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// addr turns an address kept as a uintptr back into a pointer (in the
// manner of internal/ffi.Ptr, which vet accepts). The block at u is kept
// alive by its allocator, not by this conversion: C memory, or for the
// "go" allocator the GoHeap's table.
func addr(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }
