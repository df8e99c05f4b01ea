// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"strconv"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
)

func init() { register(glibcSimple) }

// glibc-simple, after glibc's benchtests and mimalloc-bench: 1600 blocks
// of S bytes, each written, the first 800 freed in allocation order, the
// other 800 from last to first.
var glibcSimple = &Workload{
	order: 10,
	Name:  "glibc-simple",
	Desc:  "1600 blocks of S bytes, each written; half freed in order, half in reverse",
	Rows: func(p *Params) (r []RowKey) {
		for _, s := range p.SimpleSizes {
			r = append(r, RowKey{sizeCase(s), metric.NsPerPair})
		}
		return r
	},
	Run:    runSimple,
	Panels: []Panel{{metric.NsPerPair, "glibc-simple: allocate+free pair", "block size", "ns per pair", "ns", 1, false}},
	CArgs: func(p *Params) []string {
		return []string{"sizes=" + joinInts(p.SimpleSizes), "reps=" + strconv.Itoa(p.SimpleReps)}
	},
}

type simpleParams struct {
	SimpleSizes []uintptr `json:"simple_sizes"` // block sizes, one case each
	SimpleReps  int       `json:"simple_reps"`  // timed cycles of 1600 blocks per size
}

func simpleParamsFor(quick bool) simpleParams {
	p := simpleParams{SimpleSizes: []uintptr{16, 32, 64, 128, 256}, SimpleReps: 200}
	if quick {
		p.SimpleReps = 40
	}
	return p
}

const cycleBlocks = 1600 // glibc-simple and glibc-thread: blocks per cycle

// cycler runs the glibc-simple cycle on one allocator: allocate 1600
// blocks, write each, free the first 800 in allocation order and the other
// 800 from last to first. An arena is Reset at the end of each cycle too,
// since its Deallocate reclaims nothing (the Deallocate calls are still
// made: they are part of the workload). Not for concurrent use: each
// goroutine has its own.
type cycler struct {
	a      nalloc.Allocator
	reset  Resetter
	blocks []unsafe.Pointer // Go memory holding pointers to allocator memory
}

func newCycler(a nalloc.Allocator) *cycler {
	c := &cycler{a: a, blocks: make([]unsafe.Pointer, cycleBlocks)}
	c.reset, _ = resetterOf(a)
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

func runSimple(e *Env) error {
	c := newCycler(e.A)
	for _, s := range e.P.SimpleSizes {
		if err := c.cycle(s, nil); err != nil { // warm-up, off the clock
			return err
		}
		t0 := cpuTime()
		for range e.P.SimpleReps {
			if err := c.cycle(s, nil); err != nil {
				return err
			}
		}
		dt := cpuTime() - t0
		e.Put(sizeCase(s), metric.NsPerPair, float64(dt.Nanoseconds())/float64(e.P.SimpleReps*cycleBlocks))
	}
	// One more cycle at the largest size, off the clock, to sample Stats
	// while the blocks are held.
	return c.cycle(e.P.SimpleSizes[len(e.P.SimpleSizes)-1], func() { e.Stats("held") })
}
