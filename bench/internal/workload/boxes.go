// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"strconv"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
)

func init() { register(arenaBoxes) }

// arena-boxes: 1000 boxes of 64 B, each written, freed together, 10 000
// times; an arena is Reset once per round instead.
var arenaBoxes = &Workload{
	order:  40,
	Name:   "arena-boxes",
	Desc:   "1000 boxes of 64 B, written, freed together; arenas Reset instead",
	Rows:   func(*Params) []RowKey { return []RowKey{{"", metric.NsPerBox}} },
	Run:    runBoxes,
	Panels: []Panel{{metric.NsPerBox, "arena-boxes: 1000 × 64 B, freed together", "", "ns per box", "ns", 1, false}},
	CArgs: func(p *Params) []string {
		return []string{"rounds=" + strconv.Itoa(p.BoxRounds), "boxes=" + strconv.Itoa(p.Boxes),
			"boxsize=" + strconv.Itoa(int(p.BoxSize))}
	},
}

type boxParams struct {
	BoxRounds int     `json:"box_rounds"`
	Boxes     int     `json:"boxes"`
	BoxSize   uintptr `json:"box_size"`
}

func boxParamsFor(quick bool) boxParams {
	p := boxParams{BoxRounds: 10000, Boxes: 1000, BoxSize: 64}
	if quick {
		p.BoxRounds = 1000
	}
	return p
}

func runBoxes(e *Env) error {
	l := nalloc.Layout{Size: e.P.BoxSize, Align: blockAlign}
	boxes := make([]unsafe.Pointer, e.P.Boxes)
	reset, _ := resetterOf(e.A)
	round := func(held func()) error {
		for i := range boxes {
			p, err := e.A.Allocate(l)
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
			e.A.Deallocate(p, l)
		}
		return nil
	}
	if err := round(nil); err != nil { // warm-up
		return err
	}
	t0 := cpuTime()
	for range e.P.BoxRounds {
		if err := round(nil); err != nil {
			return err
		}
	}
	dt := cpuTime() - t0
	e.Put("", metric.NsPerBox, float64(dt.Nanoseconds())/float64(e.P.BoxRounds*e.P.Boxes))
	return round(func() { e.Stats("held") })
}
