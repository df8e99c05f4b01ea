// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
	"github.com/nalloc/nalloc/bench/internal/benchtest" // registers test-arena
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/peer"
)

// tinyParams are the workloads at their smallest, for tests.
func tinyParams() *Params {
	p := ParamsFor(true, 4, true, 2<<20)
	p.SimpleReps, p.ThreadReps, p.LargeSteps, p.BoxRounds = 2, 2, 10, 5
	p.GCStream = 4 << 20
	p.MTIters, p.XSeconds, p.XBatch, p.XQueue = 3000, 0.02, 512, 2
	p.LarsonSlots, p.LarsonRounds, p.LarsonSeconds = 100, 2, 0.02
	return &p
}

func TestLargeSteps(t *testing.T) {
	p := ParamsFor(false, 16, false, 1<<30).largeParams
	a, b := largeSteps(p), largeSteps(p)
	if len(a) != 1000 || !slices.Equal(a, b) {
		t.Fatalf("largeSteps: %d steps, deterministic %v", len(a), slices.Equal(a, b))
	}
	seen := map[int]bool{}
	for _, s := range a {
		if s.slot < 0 || s.slot >= 20 || s.size < 5<<20 || s.size > 25<<20 {
			t.Fatalf("step %+v out of range", s)
		}
		seen[s.slot] = true
	}
	if len(seen) != 20 {
		t.Errorf("1000 steps used %d of 20 slots", len(seen))
	}
	// math/rand/v2's ChaCha8 is specified to be stable, so the sequence
	// is part of the workload's definition: a change here changes every
	// published malloc-large figure.
	want := []largeStep{{17, 9553787}, {5, 24255693}, {15, 5993639}}
	if !slices.Equal(a[:3], want) {
		t.Errorf("first steps %v, want %v", a[:3], want)
	}
}

// TestGlibcRand checks glibcRand against glibc's rand(): the first values
// after srand(1) (the default seed) and after srand(88) are those every
// glibc prints.
func TestGlibcRand(t *testing.T) {
	for seed, want := range map[uint32][]uint32{
		1:  {1804289383, 846930886, 1681692777, 1714636915, 1957747793},
		0:  {1804289383, 846930886, 1681692777}, // srand(0) is srand(1)
		42: {71876166, 708592740, 1483128881},
	} {
		r := newGlibcRand(seed)
		for i, w := range want {
			if got := r.next(); got != w {
				t.Errorf("seed %d: value %d is %d, want %d", seed, i, got, w)
			}
		}
	}
}

// TestMallocThreadTables: the tables are bench-malloc-thread's: sizes in
// [4, 32768], mostly small (inverse square: half of them under 8 B, the
// median of 1/x² on [4, 32768]), slots in the working set.
func TestMallocThreadTables(t *testing.T) {
	p := ParamsFor(false, 16, false, 1<<30).mallocThreadParams
	sizes, slots := mtTables(p)
	if len(sizes) != 8000 || len(slots) != 4096 {
		t.Fatalf("%d sizes, %d slots", len(sizes), len(slots))
	}
	small, big := 0, 0
	for _, s := range sizes {
		if s < 4 || s > 32768 {
			t.Fatalf("size %d out of [4, 32768]", s)
		}
		if s < 8 {
			small++
		}
		if s > 1024 {
			big++
		}
	}
	// P(size < 8) = (1/4 - 1/8) / (1/4 - 1/32768) ≈ 0.5; P(size > 1024)
	// = (1/1024 - 1/32768) / (1/4 - 1/32768) ≈ 0.0038.
	if small < 3800 || small > 4200 || big < 10 || big > 60 {
		t.Errorf("%d of 8000 sizes under 8 B (want about 4000), %d over 1 KiB (want about 30)", small, big)
	}
	for _, s := range slots {
		if s >= 1024 {
			t.Fatalf("slot %d out of the working set", s)
		}
	}
	// The first sizes and slots, as bench-malloc-thread's own
	// init_random_values computes them with glibc's rand and powf (the
	// whole tables were checked against it so).
	if want := []uint32{25, 6, 18, 19, 45}; !slices.Equal(sizes[:5], want) {
		t.Errorf("first sizes %v, want %v", sizes[:5], want)
	}
	if want := []uint32{546, 911, 1001}; !slices.Equal(slots[:3], want) {
		t.Errorf("first slots %v, want %v", slots[:3], want)
	}
	if s2, _ := mtTables(p); !slices.Equal(s2, sizes) {
		t.Errorf("the tables are not deterministic")
	}
}

// TestWorkloadsInProcess runs every workload's Go side, at its smallest,
// on a native allocator, the Go heap, the peers and an arena, and checks
// that each reports every row it declares.
func TestWorkloadsInProcess(t *testing.T) {
	for _, name := range []string{"glibc", "go", peer.MakeName, peer.ModerncName, "test-arena"} {
		for _, w := range All() {
			t.Run(name+"/"+w.Name, func(t *testing.T) {
				a, err := nalloc.Open(name)
				if err != nil {
					t.Fatal(err)
				}
				if w.NotFor != nil && w.NotFor(a) != "" {
					// Not for an arena: the workloads that free at
					// random. Not for Go memory (the Go heap, make, the
					// arena's chunks): pacing on off-heap memory.
					goHeap := name == "go" || name == peer.MakeName
					if name != "test-arena" && !(goHeap && w == gcPressurePaced) {
						t.Errorf("unexpectedly not applicable: %s", w.NotFor(a))
					}
					return
				}
				if name == "test-arena" && w.NotFor != nil {
					t.Errorf("%s applies to an arena", w.Name)
				}
				got := map[RowKey]float64{}
				e := &Env{A: a, Open: func() (nalloc.Allocator, error) { return nalloc.Open(name) }, P: tinyParams(),
					Put: func(c, m string, v float64) {
						if metric.ByID(m) == nil {
							t.Errorf("unknown metric %q", m)
						}
						got[RowKey{c, m}] = v
					}}
				if err := w.Run(e); err != nil {
					t.Fatal(err)
				}
				for _, k := range w.Rows(e.P) {
					// Times and rates are positive; the GC's figures may be 0.
					if v, ok := got[k]; !ok || v < 0 || v == 0 && metric.ByID(k.Metric).Crossing {
						t.Errorf("row %v: %v, %v", k, v, ok)
					}
				}
				held := []string{glibcSimple.Name, mallocLarge.Name, arenaBoxes.Name, gcPressure.Name}
				if _, ok := a.(nalloc.StatsReporter); ok && slices.Contains(held, w.Name) {
					if _, ok := got[RowKey{"", metric.Stats("held", "mapped")}]; !ok {
						t.Errorf("no Stats while held")
					}
				}
			})
		}
	}
	// The arena was Reset, not freed block by block, in arena-boxes.
	a, _ := nalloc.Open("test-arena")
	e := &Env{A: a, P: tinyParams(), Put: func(string, string, float64) {}}
	if err := runBoxes(e); err != nil || a.(*benchtest.Arena).Resets() != e.P.BoxRounds+2 {
		t.Errorf("arena-boxes on an arena: %v, %d resets, want %d", err, a.(*benchtest.Arena).Resets(), e.P.BoxRounds+2)
	}
}

// TestXmallocFreesEverything counts blocks and batches: the producers
// allocate both through the allocator under test, in whole batches, and
// the consumers (or the drain at the end) free every one of them.
func TestXmallocFreesEverything(t *testing.T) {
	c := &sizeCounter{Allocator: nalloc.NewGoHeap(), n: map[uintptr]*[2]atomic.Int64{}}
	p := tinyParams()
	batch := uintptr(p.XBatch) * unsafe.Sizeof(uintptr(0))
	for _, size := range []uintptr{p.XObjectSize, batch} {
		c.n[size] = new([2]atomic.Int64)
	}
	var frees []float64
	e := &Env{A: c, P: p, Put: func(_, m string, v float64) {
		if m == metric.FreesPerSec {
			frees = append(frees, v)
		}
	}}
	if err := runXmalloc(e); err != nil {
		t.Fatal(err)
	}
	blocks, batches := c.n[p.XObjectSize], c.n[batch]
	if batches[0].Load() == 0 || blocks[0].Load() != batches[0].Load()*int64(p.XBatch) {
		t.Errorf("%d blocks in %d batches of %d", blocks[0].Load(), batches[0].Load(), p.XBatch)
	}
	for _, n := range []*[2]atomic.Int64{blocks, batches} {
		if n[0].Load() != n[1].Load() {
			t.Errorf("%d allocated, %d freed", n[0].Load(), n[1].Load())
		}
	}
	if len(frees) != len(p.XWorkers) || slices.Contains(frees, 0) {
		t.Errorf("frees/s %v for -w %v", frees, p.XWorkers)
	}
}

// TestLran2 checks larson's generator against the original's C, built
// from mimalloc-bench's larson.cpp: its first values from the seed
// mimalloc-bench gives (4141) and from a seed above LRAN2_MAX.
func TestLran2(t *testing.T) {
	for seed, want := range map[int64][]int64{
		4141:   {562984, 514304, 603572, 409634, 264819},
		200000: {584661, 296363, 345037},
	} {
		g := newLran2(seed)
		for i, w := range want {
			if v := g.next(); v != w {
				t.Errorf("seed %d: value %d is %d, want %d", seed, i, v, w)
			}
		}
	}
}

// TestLarsonFreesEverything checks that larson's threads replace blocks,
// hand their slots on to new threads, and that every block is freed at
// the end of each thread count.
func TestLarsonFreesEverything(t *testing.T) {
	c := nalloc.NewCounting(nalloc.NewGoHeap())
	p := tinyParams()
	var ops []float64
	e := &Env{A: c, P: p, Put: func(_, m string, v float64) {
		if m == metric.OpsPerSec {
			ops = append(ops, v)
		}
	}}
	if err := runLarson(e); err != nil {
		t.Fatal(err)
	}
	n := c.Counts()
	warm := 0
	for _, threads := range p.LarsonThreadCounts {
		warm += 5 * threads * p.LarsonSlots // the warm-up: allocate, then replace 4 times
	}
	// With 2 × 100 replacements per thread life and 20 ms, every
	// thread lives several lives.
	if n.Allocations <= uint64(warm) || n.Allocations != n.Deallocations || n.LiveBytes != 0 {
		t.Errorf("counts %+v: want more than the warm-up's %d allocations, all freed", n, warm)
	}
	if len(ops) != len(p.LarsonThreadCounts) || slices.Contains(ops, 0) {
		t.Errorf("ops/s %v for threads %v", ops, p.LarsonThreadCounts)
	}
}

// sizeCounter counts allocations and frees by size, of the sizes in n.
type sizeCounter struct {
	nalloc.Allocator
	n map[uintptr]*[2]atomic.Int64 // allocated, freed
}

func (c *sizeCounter) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	p, err := c.Allocator.Allocate(l)
	if err == nil && c.n[l.Size] != nil {
		c.n[l.Size][0].Add(1)
	}
	return p, err
}

func (c *sizeCounter) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	if c.n[l.Size] != nil {
		c.n[l.Size][1].Add(1)
	}
	c.Allocator.Deallocate(p, l)
}

// TestResetSignature: an allocator with a method named Reset must have
// exactly Reset(), the Resetter the workloads look for. Otherwise they
// would take it for a malloc, free its blocks one by one and never
// reclaim them: arena-boxes would hold 640 MB, malloc-large ~15 GB.
func TestResetSignature(t *testing.T) {
	for _, name := range nalloc.Names() {
		a, err := nalloc.Open(name)
		if err != nil {
			continue
		}
		if m, ok := reflect.TypeOf(a).MethodByName("Reset"); ok {
			if _, ok := a.(Resetter); !ok {
				t.Errorf("%s: %T has Reset of type %v, not func(): the shoot-out would not see it is an arena", name, a, m.Type)
			}
		}
	}
}

// TestRowsNameMetrics: every row a workload declares names a metric.
func TestRowsNameMetrics(t *testing.T) {
	p := ParamsFor(false, 16, false, 1<<30)
	for _, w := range All() {
		for _, k := range append(w.Rows(&p), CommonRows()...) {
			if metric.ByID(k.Metric) == nil {
				t.Errorf("%s: row %v names no metric", w.Name, k)
			}
		}
	}
}
