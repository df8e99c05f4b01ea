// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
)

func init() { register(mallocLarge) }

// malloc-large, after mimalloc-bench: 20 slots, random steps; each frees
// what its slot held and allocates a block of 5-25 MiB.
var mallocLarge = &Workload{
	order:  30,
	Name:   "malloc-large",
	Desc:   "20 slots, random steps: free the slot's block, allocate 5-25 MiB (ChaCha8, seed 42)",
	Rows:   func(*Params) []RowKey { return []RowKey{{"", metric.UsPerStep}} },
	Run:    runLarge,
	Panels: []Panel{{metric.UsPerStep, "malloc-large: free + allocate 5-25 MiB", "", "µs per step", "us", 1, false}},
	NotFor: notForArena("1000 steps would hold every block ever allocated (~15 GB)"),
	CArgs: func(p *Params) []string {
		return []string{"slots=" + strconv.Itoa(p.LargeSlots), "touch=" + strconv.Itoa(b2i(p.Touch))}
	},
	CStdin: func(p *Params) []byte {
		var b strings.Builder
		for _, s := range largeSteps(p.largeParams) {
			fmt.Fprintf(&b, "%d %d\n", s.slot, s.size)
		}
		return []byte(b.String())
	},
}

type largeParams struct {
	LargeSlots int     `json:"large_slots"`
	LargeSteps int     `json:"large_steps"`
	LargeMin   uintptr `json:"large_min"`
	LargeMax   uintptr `json:"large_max"`
	Seed       uint64  `json:"large_seed"`  // ChaCha8 seed
	Touch      bool    `json:"large_touch"` // write one byte per page of each block
}

func largeParamsFor(quick, touch bool) largeParams {
	p := largeParams{LargeSlots: 20, LargeSteps: 1000, LargeMin: 5 << 20, LargeMax: 25 << 20, Seed: 42, Touch: touch}
	if quick {
		p.LargeSteps = 200
	}
	return p
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type largeStep struct {
	slot int
	size uintptr
}

// largeSteps is malloc-large's sequence: for each step a slot in
// [0, LargeSlots) and a size uniform in [LargeMin, LargeMax], from a
// ChaCha8 generator whose seed is Seed in its first 8 bytes, little-endian.
// The Go child and the C side (through its stdin) run the same sequence.
func largeSteps(p largeParams) []largeStep {
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

func runLarge(e *Env) error {
	steps := largeSteps(e.P.largeParams)
	type slot struct {
		p unsafe.Pointer
		l nalloc.Layout
	}
	slots := make([]slot, e.P.LargeSlots)
	free := func() {
		for i, s := range slots {
			if s.p != nil {
				e.A.Deallocate(s.p, s.l)
				slots[i] = slot{}
			}
		}
	}
	defer free()
	t0 := cpuTime()
	for _, st := range steps {
		s := &slots[st.slot]
		if s.p != nil {
			e.A.Deallocate(s.p, s.l)
			s.p = nil
		}
		l := nalloc.Layout{Size: st.size, Align: blockAlign}
		p, err := e.A.Allocate(l)
		if err != nil {
			return err
		}
		if e.P.Touch {
			b := unsafe.Slice((*byte)(p), st.size)
			for off := 0; off < len(b); off += os.Getpagesize() {
				b[off] = 1
			}
		}
		*s = slot{p, l}
	}
	dt := cpuTime() - t0
	e.Put("", metric.UsPerStep, float64(dt.Nanoseconds())/1e3/float64(len(steps)))
	e.Stats("held")
	return nil
}
