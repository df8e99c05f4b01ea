// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nalloc/nalloc"
)

// A workload is one of the shoot-out's benchmarks. Each is defined in a
// file of its own (simple.go, thread.go, large.go, boxes.go,
// gcpressure.go, mallocthread.go, xmalloc.go) with its own parameters,
// which params gathers.
type workload struct {
	name string
	desc string // one line, for the table and the JSON
	// rows lists the figures it reports, in table order (before the
	// common ones: the process figures and Stats).
	rows func(p *params) []rowKey
	// run measures one run on allocator e.a, in a child process.
	run func(e *runEnv) error
	// notFor says why the workload does not apply to an allocator, or "".
	notFor func(a nalloc.Allocator) string
	// cArgs and cStdin give the C side its arguments and its standard
	// input. A workload with cArgs has a C side (csrc/shootout.c) and a
	// cgo figure; nil cArgs means neither.
	cArgs  func(p *params) []string
	cStdin func(p *params) []byte
}

// params are the sizes and counts of every workload, each workload's in
// a struct of its own, embedded so that the JSON keeps one flat object
// (the schema's config.params). They are derived from the flags in the
// parent, handed to each child as they are, and to the C side as
// arguments, so that all three agree.
type params struct {
	simpleParams
	threadParams
	largeParams
	boxParams
	gcParams
	mallocThreadParams
	xmallocParams
}

// paramsFor derives every workload's parameters from the flags.
func paramsFor(quick bool, threads int, touch bool, gcLive int64) params {
	counts := threadCounts(threads)
	return params{
		simpleParams:       simpleParamsFor(quick),
		threadParams:       threadParamsFor(quick, counts),
		largeParams:        largeParamsFor(quick, touch),
		boxParams:          boxParamsFor(quick),
		gcParams:           gcParamsFor(gcLive),
		mallocThreadParams: mallocThreadParamsFor(quick, counts),
		xmallocParams:      xmallocParamsFor(quick, counts),
	}
}

// threadCounts is 1, 2, 4, ... up to n, and n itself.
func threadCounts(n int) []int {
	var counts []int
	for k := 1; k <= n; k *= 2 {
		counts = append(counts, k)
	}
	if counts[len(counts)-1] != n {
		counts = append(counts, n)
	}
	return counts
}

// workloads are the shoot-out's workloads, in the order it runs and
// prints them.
var workloads = []*workload{
	glibcSimple, glibcThread, mallocLarge, arenaBoxes, gcPressure, gcPressurePaced, mallocThread, xmalloc,
}

// rowKey names one row: a case of the workload ("size=16B", "threads=4",
// "" for a single case) and a metric ID.
type rowKey struct{ Case, Metric string }

// commonRows are reported by every workload after its own: what
// mimalloc-bench reports of each run's process, and the allocator's
// Stats.
func commonRows() []rowKey {
	var r []rowKey
	for _, m := range processMetrics {
		r = append(r, rowKey{"", m})
	}
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

// resetter is what an arena has: the way to free everything at once.
// Workloads call Reset where the others call Deallocate for each block.
type resetter interface{ Reset() }

// notForArena rules out arenas from a workload whose blocks die one by
// one at random: an arena would hold every block ever allocated.
func notForArena(why string) func(a nalloc.Allocator) string {
	return func(a nalloc.Allocator) string {
		if _, ok := a.(resetter); ok {
			return "an arena frees only on Reset, so " + why
		}
		return ""
	}
}

// runEnv is what a workload's run sees: the allocator and the figures it
// reports. It lives in a child process (child.go).
type runEnv struct {
	a nalloc.Allocator
	// open returns another handle on the same allocator, for a thread of
	// its own: the shared instance of a native backend, a new arena or
	// GoHeap.
	open func() (nalloc.Allocator, error)
	p    *params
	put  func(cas, metric string, v float64)
	peak float64 // the highest peak RSS a round has read (roundPeak)
}

// roundPeak returns the peak RSS since the last resetPeakRSS, for a
// workload that reports one per case, and keeps the highest, so that the
// run's own peak (the common row) still covers every round.
func (e *runEnv) roundPeak() float64 {
	v := peakRSS()
	e.peak = max(e.peak, v)
	return v
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

// Every block in every workload has this alignment: what Go gives a
// struct of words, and what every allocator serves without an aligned
// entry point (malloc's 16 covers it; the Go heap's 8 is it).
const blockAlign = 8

// pattern[j] == byte(j): a block of S <= 256 bytes is written "byte j as
// byte(j)" with one copy, as the C side does with one memcpy.
var pattern = func() (p [256]byte) {
	for i := range p {
		p[i] = byte(i)
	}
	return
}()
