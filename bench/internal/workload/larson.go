// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
)

func init() { register(larson) }

// larson is Larson and Krishnan's server simulation ("Memory Allocation
// for Long-Running Server Applications", ISMM 1998) as mimalloc-bench runs
// it: larson 5 8 1000 5000 100 4141 N. The main thread allocates 5000
// blocks per thread of random sizes in [8, 1000), shuffles them and
// replaces 4 × that many at random (the warm-up); then each of N threads
// takes its 5000 slots and, 500 000 times (100 rounds of 5000), frees the
// block of a random slot, allocates one of a random size there and writes
// its first two bytes. A thread that is done starts a new thread on the
// same slots and exits, so blocks are freed by other threads than the
// ones that allocated them, and by threads that outlive them, as in a
// server whose workers come and go. The run lasts T seconds; the figure is
// the allocations over the wall time from the threads' start until the
// last one has stopped, and the peak RSS of each N.
//
// Every random number is larson's own (Wolfram Gloger's lran2, seeded
// with 4141 for the warm-up, which then draws each thread's seed), so the
// sizes and slots are the original's. Differences, the same on the C
// side, measured in bench/README.md: T is 0.5 s (-quick 0.1 s) instead of
// 5 s; one process runs every N in turn, each from a new warm-up with the
// generator seeded again, and frees the blocks after it; the original
// sleeps 2.5 s after its one N. A thread of the Go side is a goroutine
// locked to an OS thread of its own, which exits with it.
var larson = &Workload{
	order: 80,
	Name:  "larson",
	Desc:  "mimalloc-bench's larson 8 1000 5000 100 4141 N: N threads replace random blocks of 8-1000 B in 5000 slots each, and hand the slots to a new thread",
	Rows: func(p *Params) []RowKey {
		return rowsByCount(p.LarsonThreadCounts, threadCase, metric.OpsPerSec, metric.PeakRSS)
	},
	Run:      runLarson,
	Threaded: true,
	Panels: []Panel{
		{metric.OpsPerSec, "larson: throughput by threads (8-1000 B)", "threads (each replaced after 500 000 allocations)", "million allocations per second", "1/s", 1e6, true},
		{metric.PeakRSS, "larson: peak RSS by threads", "threads", "MiB", "B", 1 << 20, false},
	},
	NotFor: notForCrossThread,
	CArgs: func(p *Params) []string {
		return []string{"threads=" + joinInts(p.LarsonThreadCounts), "min=" + strconv.Itoa(int(p.LarsonMin)),
			"max=" + strconv.Itoa(int(p.LarsonMax)), "slots=" + strconv.Itoa(p.LarsonSlots),
			"rounds=" + strconv.Itoa(p.LarsonRounds), "seed=" + strconv.Itoa(int(p.LarsonSeed)),
			"ms=" + strconv.Itoa(int(p.LarsonSeconds*1000))}
	},
}

type larsonParams struct {
	LarsonThreadCounts []int   `json:"larson_thread_counts"`
	LarsonMin          uintptr `json:"larson_min"`     // smallest block (8)
	LarsonMax          uintptr `json:"larson_max"`     // sizes are below it (1000)
	LarsonSlots        int     `json:"larson_slots"`   // blocks per thread (5000)
	LarsonRounds       int     `json:"larson_rounds"`  // a thread's life: rounds × slots replacements (100)
	LarsonSeed         int64   `json:"larson_seed"`    // lran2's (4141)
	LarsonSeconds      float64 `json:"larson_seconds"` // the run time of each thread count
}

func larsonParamsFor(quick bool, counts []int) larsonParams {
	p := larsonParams{LarsonThreadCounts: counts, LarsonMin: 8, LarsonMax: 1000, LarsonSlots: 5000,
		LarsonRounds: 100, LarsonSeed: 4141, LarsonSeconds: 0.5}
	if quick {
		p.LarsonSeconds = 0.1
	}
	return p
}

// lran2 is larson's random number generator (Wolfram Gloger's, after
// Numerical Recipes), so that its sizes and slots are the original's.
type lran2 struct {
	x, y int64
	v    [97]int64
}

const (
	lran2Max = 714025
	lran2IA  = 1366
	lran2IC  = 150889
)

func newLran2(seed int64) *lran2 {
	d := &lran2{}
	x := (lran2IC - seed) % lran2Max
	if x < 0 {
		x = -x
	}
	for j := range d.v {
		x = (lran2IA*x + lran2IC) % lran2Max
		d.v[j] = x
	}
	d.x = (lran2IA*x + lran2IC) % lran2Max
	d.y = d.x
	return d
}

func (d *lran2) next() int64 {
	j := d.y % 97
	d.y = d.v[j]
	d.x = (lran2IA*d.x + lran2IC) % lran2Max
	d.v[j] = d.x
	return d.y
}

// larsonSlots are one thread's slots, handed from each thread to the one
// it starts: Go memory holding pointers to allocator memory.
type larsonSlots struct {
	blocks []unsafe.Pointer
	sizes  []uintptr
	rng    *lran2
	allocs int64 // by every thread on these slots
}

// larsonRound is one thread count: the allocator, the sizes and the stop
// flag, read by every thread.
type larsonRound struct {
	a        nalloc.Allocator
	min, rng int64 // sizes are min + r % rng
	life     int   // replacements per thread
	stop     atomic.Bool
	live     sync.WaitGroup
	err      atomic.Pointer[error]
}

// fail records the first error and stops every thread. (A function of its
// own, so that the error escapes to the heap only when there is one: in
// the loop, &err would cost a Go allocation per replacement.)
func (r *larsonRound) fail(err error) {
	r.err.CompareAndSwap(nil, &err)
	r.stop.Store(true)
}

func (r *larsonRound) size(g *lran2) uintptr {
	if r.rng == 0 {
		return uintptr(r.min)
	}
	return uintptr(r.min + g.next()%r.rng)
}

// thread is larson's exercise_heap, on a new goroutine locked to an OS
// thread of its own that exits with it: life replacements on s, or fewer
// if the time is up; then, if it is not, the same on a new thread.
func (r *larsonRound) thread(s *larsonSlots) {
	runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
	defer r.live.Done()
	n := int64(len(s.blocks))
	for range r.life {
		v := s.rng.next() % n
		r.a.Deallocate(s.blocks[v], nalloc.Layout{Size: s.sizes[v], Align: blockAlign})
		s.blocks[v] = nil
		size := r.size(s.rng)
		p, err := r.a.Allocate(nalloc.Layout{Size: size, Align: blockAlign})
		if err != nil {
			r.fail(err)
			return
		}
		s.blocks[v], s.sizes[v] = p, size
		s.allocs++
		b := unsafe.Slice((*byte)(p), 2) // "Write something!"
		b[0] = 'a'
		b[1] = 'b'
		if r.stop.Load() {
			return
		}
	}
	r.live.Add(1)
	go r.thread(s)
}

func runLarson(e *Env) error {
	p := e.P.larsonParams
	for _, n := range p.LarsonThreadCounts {
		r := &larsonRound{a: e.A, min: int64(p.LarsonMin), rng: int64(p.LarsonMax - p.LarsonMin),
			life: p.LarsonRounds * p.LarsonSlots}
		slots, err := larsonWarmup(r, n, p)
		if err != nil {
			return err
		}
		ResetPeakRSS()
		t0 := time.Now()
		r.live.Add(n)
		for _, s := range slots {
			go r.thread(s)
		}
		time.Sleep(time.Duration(p.LarsonSeconds * float64(time.Second)))
		r.stop.Store(true)
		r.live.Wait()
		dt := time.Since(t0)
		var allocs int64
		for _, s := range slots {
			allocs += s.allocs
			for i, b := range s.blocks {
				if b != nil {
					e.A.Deallocate(b, nalloc.Layout{Size: s.sizes[i], Align: blockAlign})
				}
			}
		}
		if err := r.err.Load(); err != nil {
			return *err
		}
		e.Put(threadCase(n), metric.OpsPerSec, float64(allocs)/dt.Seconds())
		e.Put(threadCase(n), metric.PeakRSS, e.RoundPeak())
	}
	return nil
}

// larsonWarmup is larson's warmup on this thread (the main one): n ×
// slots blocks of random sizes, shuffled, then 4 × as many random
// replacements; then each thread's seed from the same generator.
func larsonWarmup(r *larsonRound, n int, p larsonParams) ([]*larsonSlots, error) {
	g := newLran2(p.LarsonSeed)
	total := n * p.LarsonSlots
	blocks, sizes := make([]unsafe.Pointer, total), make([]uintptr, total)
	freeAll := func() {
		for i, b := range blocks {
			if b != nil {
				r.a.Deallocate(b, nalloc.Layout{Size: sizes[i], Align: blockAlign})
			}
		}
	}
	for i := range blocks {
		sizes[i] = r.size(g)
		b, err := r.a.Allocate(nalloc.Layout{Size: sizes[i], Align: blockAlign})
		if err != nil {
			freeAll()
			return nil, err
		}
		blocks[i] = b
	}
	for k := total; k > 0; k-- { // a random permutation
		v := g.next() % int64(k)
		blocks[v], blocks[k-1] = blocks[k-1], blocks[v]
		sizes[v], sizes[k-1] = sizes[k-1], sizes[v]
	}
	for range 4 * total {
		v := g.next() % int64(total)
		r.a.Deallocate(blocks[v], nalloc.Layout{Size: sizes[v], Align: blockAlign})
		sizes[v] = r.size(g)
		b, err := r.a.Allocate(nalloc.Layout{Size: sizes[v], Align: blockAlign})
		blocks[v] = b
		if err != nil {
			freeAll()
			return nil, err
		}
	}
	slots := make([]*larsonSlots, n)
	for i := range slots {
		lo, hi := i*p.LarsonSlots, (i+1)*p.LarsonSlots
		slots[i] = &larsonSlots{blocks: blocks[lo:hi:hi], sizes: sizes[lo:hi:hi], rng: newLran2(g.next())}
	}
	return slots, nil
}
