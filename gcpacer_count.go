// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"time"

	"github.com/nalloc/nalloc/internal/opened"
)

// countProcess (gcpacer_resident.go, gcpacer_other.go) returns the
// process's anonymous resident memory (osmem.Resident) less goHeld, the memory the Go
// runtime holds, or 0 if the runtime holds more (as it can while it has
// memory it has not touched).

// openedStats is the default count's second source: the Stats of every
// native allocator the process has opened, where they are cheap. The
// kernel's count less the Go runtime's memory reads low by whatever the
// runtime holds but never touched (a fresh make([]byte, n) that is never
// written is counted in full by the runtime and not at all by the
// kernel), which on a small off-heap set can be most of it; the
// allocators' own figures have no such error (floorBytes says which).
// The count is the larger of
// the two: the kernel's sees what no Stats do (cgo libraries, tbbmalloc),
// the Stats what the kernel's subtraction hides.
//
// Each allocator's Stats are read at most once per holdFalls, the time
// the pacer holds a count anyway, and the last figure stands in between:
// reading them costs from 1 µs (mimalloc) to 30 µs (jemalloc's epoch and
// mallctls, which also allocate on the Go heap), too much for every tick.
// A call that takes longer than statsCheap (glibc's mallinfo2 walks its
// free lists: 100 ms over 8 M free chunks) waits statsCostFactor times
// its cost before the next, so that Stats take at most about
// 1/statsCostFactor of the time. A Purge round makes the next count read
// them afresh.
type openedStats struct {
	all []any // opened.Append's buffer, reused
	per []statsReading
}

// statsReading is one opened allocator's last Stats figure.
type statsReading struct {
	held uint64
	next time.Time // no new read before
}

const (
	statsCheap      = time.Millisecond
	statsCostFactor = 100
)

// count returns the sum of the opened allocators' heldBytes, each read
// afresh if its time has come.
func (o *openedStats) count(now time.Time) uint64 {
	o.all = opened.Append(o.all[:0])
	for len(o.per) < len(o.all) {
		o.per = append(o.per, statsReading{})
	}
	var total uint64
	for i, x := range o.all {
		r := &o.per[i]
		if a, ok := x.(Allocator); ok && !now.Before(r.next) {
			start := time.Now()
			s, err := StatsOf(a)
			d := time.Since(start)
			r.held = 0
			if err == nil { // ErrUnsupported: tbbmalloc keeps none
				r.held = floorBytes(s)
			}
			wait := holdFalls
			if d > statsCheap {
				wait = max(wait, statsCostFactor*d)
			}
			r.next = now.Add(wait)
		}
		total += r.held
	}
	clear(o.all) // keep no allocator alive through the buffer
	return total
}

// refresh makes the next count read every allocator's Stats afresh.
func (o *openedStats) refresh() {
	for i := range o.per {
		o.per[i].next = time.Time{}
	}
}

// countAllocators returns the sum of the allocators' heldBytes, or for
// one without Stats the live bytes of the Counting that wraps it.
func countAllocators(as []Allocator) (uint64, error) {
	var total uint64
	for _, a := range as {
		if sr, ok := As[StatsReporter](a); ok {
			s, err := sr.Stats()
			if err != nil {
				return 0, fmt.Errorf("nalloc: the GC pacer cannot count %T: %w", a, err)
			}
			total += heldBytes(s)
		} else if c, ok := As[*Counting](a); ok {
			total += uint64(max(c.Counts().LiveBytes, 0))
		}
	}
	return total, nil
}

// floorBytes is the memory an allocator holds at least by its own
// Stats, in a figure that giving memory back updates: Resident where it
// knows it (jemalloc, tcmalloc), else Allocated, the live bytes (glibc:
// its Mapped, the arenas' size, stays the same when malloc_trim gives
// their free pages back, and would hold the count up after a Purge),
// else Mapped (mimalloc's committed memory, all its release build
// reports).
func floorBytes(s Stats) uint64 {
	switch {
	case s.Resident > 0:
		return s.Resident
	case s.Allocated > 0:
		return s.Allocated
	}
	return s.Mapped
}

// heldBytes is the memory an allocator holds by its own Stats: Resident
// where it knows it, else Mapped, else Allocated. Each backend fills the
// first of them it can (Stats), and the first it fills is the largest.
func heldBytes(s Stats) uint64 {
	switch {
	case s.Resident > 0:
		return s.Resident
	case s.Mapped > 0:
		return s.Mapped
	}
	return s.Allocated
}
