// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
)

func init() { register(mallocThread) }

// malloc-thread, after glibc's benchtests/bench-malloc-thread.c: each
// thread keeps a working set of 1024 blocks and, at every iteration,
// frees the block at a random slot and allocates one of a random size in
// its place. The sizes (4 to 32768 B, inverse-square distributed: most
// are small, a few are large) and the slots come from two tables drawn
// once from glibc's rand(), as the original draws them; every thread walks
// the same tables from the start.
//
// The original runs each thread count for 10 seconds in a process of its
// own and reports the time per iteration summed over the threads' own
// clocks; here each thread runs a fixed number of iterations, the threads
// start together, and the time per iteration is the wall time of the
// round over the iterations of one thread (the same figure when the
// threads run in parallel, and one that does not flatter a thread that
// was descheduled while the others ran).
var mallocThread = &Workload{
	order:    60,
	Name:     "malloc-thread",
	Desc:     "glibc's bench-malloc-thread: 1024 blocks per thread, random 4-32768 B (inverse square), random replacement",
	Rows:     func(p *Params) []RowKey { return scalingRows(p.MTThreadCounts, metric.NsPerIter) },
	Run:      runMallocThread,
	Threaded: true,
	Panels:   []Panel{{metric.NsPerIter, "malloc-thread: time per iteration (4-32768 B)", "threads", "ns per iteration, per thread", "ns", 1, true}},
	NotFor:   notForArena("random replacement would hold every block ever allocated"),
	CArgs: func(p *Params) []string {
		return []string{"threads=" + joinInts(p.MTThreadCounts), "iters=" + strconv.Itoa(p.MTIters),
			"ws=" + strconv.Itoa(p.MTWorkingSet)}
	},
	CStdin: func(p *Params) []byte {
		sizes, slots := mtTables(p.mallocThreadParams)
		var b strings.Builder
		fmt.Fprintf(&b, "%d %d\n", len(sizes), len(slots))
		for _, s := range sizes {
			fmt.Fprintf(&b, "%d\n", s)
		}
		for _, s := range slots {
			fmt.Fprintf(&b, "%d\n", s)
		}
		return []byte(b.String())
	},
}

type mallocThreadParams struct {
	MTThreadCounts []int   `json:"mt_thread_counts"`
	MTIters        int     `json:"mt_iters"`       // iterations per thread
	MTWorkingSet   int     `json:"mt_working_set"` // blocks per thread (1024)
	MTMin          uintptr `json:"mt_min"`         // smallest block (4)
	MTMax          uintptr `json:"mt_max"`         // largest block (32768)
	MTSizes        int     `json:"mt_sizes"`       // entries of the size table (8000)
	MTSlots        int     `json:"mt_slots"`       // entries of the slot table (4 × the working set)
	MTSeed         uint32  `json:"mt_seed"`        // of glibc's rand()
}

// mtSeed is the seed bench-malloc-thread's tables come from. Its source
// defines RAND_SEED as 88 and reports that, but never calls srand, so
// rand() runs from its default seed, 1: the tables here are the ones it
// actually uses.
const mtSeed = 1

func mallocThreadParamsFor(quick bool, counts []int) mallocThreadParams {
	p := mallocThreadParams{MTThreadCounts: counts, MTIters: 200_000, MTWorkingSet: 1024,
		MTMin: 4, MTMax: 32768, MTSizes: 8000, MTSlots: 4 * 1024, MTSeed: mtSeed}
	if quick {
		p.MTIters = 40_000
	}
	return p
}

// mtTables draws malloc-thread's tables from glibc's rand() seeded with
// p.MTSeed, as bench-malloc-thread's init_random_values does: first the
// block sizes, then the slots.
func mtTables(p mallocThreadParams) (sizes, slots []uint32) {
	r := newGlibcRand(p.MTSeed)
	sizes = make([]uint32, p.MTSizes)
	for i := range sizes {
		sizes[i] = inverseSquare(r.next(), float32(p.MTMin), float32(p.MTMax))
	}
	slots = make([]uint32, p.MTSlots)
	for i := range slots {
		slots[i] = r.next() % uint32(p.MTWorkingSet)
	}
	return sizes, slots
}

// inverseSquare is bench-malloc-thread's get_block_size: a value of
// rand() (0 to RAND_MAX) mapped to a size in [lo, hi] with density
// proportional to 1/size², in float32 arithmetic as the C does it. The
// C's powf(x, -1) is 1/x, rounded once to float32; the conversions to
// float32 keep Go from fusing the multiply and add, which C does not.
func inverseSquare(rnd uint32, lo, hi float32) uint32 {
	const randMax = float32(1<<31 - 1) // rounds to 2^31, as in the C
	loPow, hiPow := 1/lo, 1/hi         // powf(v, -2 + 1)
	r := float32(rnd) / randMax
	x := float32(float32(hiPow-loPow)*r) + loPow
	return uint32(float32(1 / float64(x)))
}

// glibcRand is glibc's rand() (random(3) with its default state of 31
// words, the TYPE_3 additive feedback generator), so that the tables are
// bench-malloc-thread's own.
type glibcRand struct {
	r [34]int32 // the last 34 values of the recurrence, a ring
	k int       // index of the next one to compute
}

func newGlibcRand(seed uint32) *glibcRand {
	g := &glibcRand{}
	if seed == 0 {
		seed = 1
	}
	var r [344 + 34]int32
	r[0] = int32(seed)
	for i := 1; i < 31; i++ {
		// 16807 * r[i-1] % (2^31 - 1), by Schrage's method, as srandom_r.
		hi, lo := r[i-1]/127773, r[i-1]%127773
		w := 16807*lo - 2836*hi
		if w < 0 {
			w += 2147483647
		}
		r[i] = w
	}
	for i := 31; i < 34; i++ {
		r[i] = r[i-31]
	}
	// srandom_r discards the first 310 outputs: values 34 to 343.
	for i := 34; i < 344; i++ {
		r[i] = int32(uint32(r[i-31]) + uint32(r[i-3]))
	}
	for i := 344 - 34; i < 344; i++ {
		g.r[i%34] = r[i]
	}
	g.k = 344
	return g
}

// next returns the next value of rand(), in [0, 2^31).
func (g *glibcRand) next() uint32 {
	at := func(i int) int32 { return g.r[i%34] }
	v := int32(uint32(at(g.k-31)) + uint32(at(g.k-3)))
	g.r[g.k%34] = v
	g.k++
	return uint32(v) >> 1
}

func runMallocThread(e *Env) error {
	sizes, slots := mtTables(e.P.mallocThreadParams)
	var base float64
	for k, n := range e.P.MTThreadCounts {
		dt, err := onThreads(n, func(_ int, clock *threadClock) error {
			a, err := e.Open()
			if err != nil {
				clock.ready()
				return err
			}
			set := newWorkingSet(a, e.P.MTWorkingSet)
			clock.ready()
			err = set.replace(sizes, slots, e.P.MTIters)
			clock.stop()
			set.free()
			return err
		})
		if err != nil {
			return err
		}
		perIter := float64(dt.Nanoseconds()) / float64(e.P.MTIters)
		rate := float64(n) / perIter // iterations per ns, over all threads
		if k == 0 {
			base = rate
		}
		e.Put(threadCase(n), metric.NsPerIter, perIter)
		if k > 0 {
			e.Put(threadCase(n), metric.Scaling, rate/base)
		}
	}
	return nil
}

// workingSet is one thread's blocks in malloc-thread. Not for concurrent
// use.
type workingSet struct {
	a      nalloc.Allocator
	blocks []unsafe.Pointer // Go memory holding pointers to allocator memory
	sizes  []uint32
}

func newWorkingSet(a nalloc.Allocator, n int) *workingSet {
	return &workingSet{a: a, blocks: make([]unsafe.Pointer, n), sizes: make([]uint32, n)}
}

// replace runs iters iterations of bench-malloc-thread's loop: free the
// block at the next slot of the table, allocate one of the next size
// there. Both walks start at index 1 and wrap around, as the C's do. An
// empty slot (at the start) has nothing to free: the C calls free(NULL),
// which returns at once; here, as on the C side of the shoot-out, the
// call is skipped, since jemalloc's sdallocx and tcmalloc's sized free
// do not take NULL.
func (s *workingSet) replace(sizes, slots []uint32, iters int) error {
	si, ki := 0, 0
	for range iters {
		if ki++; ki == len(slots) {
			ki = 0
		}
		if si++; si == len(sizes) {
			si = 0
		}
		k := slots[ki]
		if p := s.blocks[k]; p != nil {
			s.a.Deallocate(p, nalloc.Layout{Size: uintptr(s.sizes[k]), Align: blockAlign})
		}
		p, err := s.a.Allocate(nalloc.Layout{Size: uintptr(sizes[si]), Align: blockAlign})
		if err != nil {
			s.blocks[k] = nil
			return err
		}
		s.blocks[k], s.sizes[k] = p, sizes[si]
	}
	return nil
}

func (s *workingSet) free() {
	for k, p := range s.blocks {
		if p != nil {
			s.a.Deallocate(p, nalloc.Layout{Size: uintptr(s.sizes[k]), Align: blockAlign})
			s.blocks[k] = nil
		}
	}
}
