// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"strconv"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// arena-boxes: 1000 boxes of 64 B, each written, freed together, 10 000
// times; an arena is Reset once per round instead.
var arenaBoxes = &workload{
	name: "arena-boxes",
	desc: "1000 boxes of 64 B, written, freed together; arenas Reset instead",
	rows: func(*params) []rowKey { return []rowKey{{"", mNsPerBox}} },
	run:  runBoxes,
	cArgs: func(p *params) []string {
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
