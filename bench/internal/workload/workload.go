// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package workload holds the shoot-out's workloads, one file each (and
// its C twin in csrc), each registering itself: what it runs on an
// allocator, the rows it reports, its parameters, its chart panels. The
// child processes that run them are package run's.
package workload

import (
	"embed"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
)

// A Workload is one of the shoot-out's benchmarks. Each is defined in a
// file of its own, which registers it (register, from init) with its
// rows, its chart panels and notes; its parameters are a struct of its
// own, embedded in Params; its C twin in csrc registers itself there
// (WORKLOAD).
type Workload struct {
	Name string
	Desc string // one line, for the table and the JSON
	// Rows lists the figures it reports, in table order (before the
	// common ones: the process figures and Stats).
	Rows func(p *Params) []RowKey
	// Run measures one run on allocator e.A, in a child process.
	Run func(e *Env) error
	// NotFor says why the workload does not apply to an allocator, or "".
	NotFor func(a nalloc.Allocator) string
	// CArgs and CStdin give the C side its arguments and its standard
	// input. A workload with CArgs has a C side (csrc/shootout.c) and a
	// cgo figure; nil CArgs means neither.
	CArgs  func(p *Params) []string
	CStdin func(p *Params) []byte
	// Threaded says that its point is how it scales with threads: the
	// report notes what more threads than CPUs measure.
	Threaded bool
	// Note, if not nil, is what a reader needs to read its figures right,
	// for the report's notes.
	Note func(p *Params) string
	// Panels are its panels of the chart, in order.
	Panels []Panel

	order int // its place among the workloads: the order they run and print in
}

// A Panel is one panel of the shoot-out's chart: a metric of a workload,
// as grouped bars per case (or one group), or as lines against the case
// (the thread count).
type Panel struct {
	Metric                string
	Title, XLabel, YLabel string
	Unit                  string  // "s" plots in ms when every figure is under a second
	Scale                 float64 // the figures are divided by it (bytes to MiB)
	Lines                 bool    // lines against the case, not bars
}

var registered []*Workload

// register adds w to the workloads, in its order. Every workload's file
// calls it from init.
func register(w *Workload) {
	i := sort.Search(len(registered), func(i int) bool { return registered[i].order > w.order })
	registered = slices.Insert(registered, i, w)
}

// All returns the workloads, in the order the shoot-out runs and prints
// them.
func All() []*Workload { return slices.Clone(registered) }

// Params are the sizes and counts of every workload, each workload's in
// a struct of its own, embedded so that the JSON keeps one flat object
// (the schema's config.params). They are derived from the flags in the
// parent, handed to each child as they are, and to the C side as
// arguments, so that all three agree.
type Params struct {
	simpleParams
	threadParams
	largeParams
	boxParams
	gcParams
	mallocThreadParams
	xmallocParams
	larsonParams
}

// ParamsFor derives every workload's parameters from the flags.
func ParamsFor(quick bool, threads int, touch bool, gcLive int64) Params {
	counts := threadCounts(threads)
	return Params{
		simpleParams:       simpleParamsFor(quick),
		threadParams:       threadParamsFor(quick, counts),
		largeParams:        largeParamsFor(quick, touch),
		boxParams:          boxParamsFor(quick),
		gcParams:           gcParamsFor(gcLive),
		mallocThreadParams: mallocThreadParamsFor(quick, counts),
		xmallocParams:      xmallocParamsFor(quick, counts),
		larsonParams:       larsonParamsFor(quick, counts),
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

// RowKey names one row: a case of the workload ("size=16B", "threads=4",
// "" for a single case) and a metric ID.
type RowKey struct{ Case, Metric string }

// CommonRows are reported by every workload after its own: what
// mimalloc-bench reports of each run's process, and the allocator's
// Stats.
func CommonRows() []RowKey {
	var r []RowKey
	for _, m := range metric.Process {
		r = append(r, RowKey{"", m})
	}
	for _, when := range []string{"held", "after"} {
		for _, f := range metric.StatsFields {
			r = append(r, RowKey{"", metric.Stats(when, f)})
		}
	}
	return r
}

// ByName returns the workload of that name, or nil.
func ByName(name string) *Workload {
	for _, w := range registered {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Names returns the workloads' names, in order.
func Names() []string {
	names := make([]string, len(registered))
	for i, w := range registered {
		names[i] = w.Name
	}
	return names
}

func sizeCase(s uintptr) string { return fmt.Sprintf("size=%dB", s) }
func threadCase(n int) string   { return fmt.Sprintf("threads=%d", n) }

// rowsByCount are the rows of a workload run once for each of counts
// (threads, or xmalloc's -w), each case named by caseOf: every count's
// row of the first metric, then of the next, in the order given.
func rowsByCount(counts []int, caseOf func(int) string, metrics ...string) (r []RowKey) {
	for _, m := range metrics {
		for _, n := range counts {
			r = append(r, RowKey{caseOf(n), m})
		}
	}
	return r
}

func joinInts[T int | uintptr](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatUint(uint64(x), 10)
	}
	return strings.Join(s, ",")
}

// Resetter is what an arena has: the way to free everything at once.
// Workloads call Reset where the others call Deallocate for each block.
type Resetter interface{ Reset() }

// resetterOf returns a's Reset, found through its wrappers, if it has one.
func resetterOf(a nalloc.Allocator) (Resetter, bool) { return nalloc.As[Resetter](a) }

// notForArena rules out arenas from a workload whose blocks die one by
// one at random: an arena would hold every block ever allocated.
func notForArena(why string) func(a nalloc.Allocator) string {
	return func(a nalloc.Allocator) string {
		if _, ok := resetterOf(a); ok {
			return "an arena frees only on Reset, so " + why
		}
		return ""
	}
}

// notForCrossThread rules out arenas from a workload that frees blocks on
// other threads than the ones that allocated them (xmalloc, larson).
var notForCrossThread = notForArena("blocks freed one by one on other threads would never be reclaimed (and an arena is for one goroutine)")

// Env is what a workload's run sees: the allocator and the figures it
// reports. It lives in a child process (package run).
type Env struct {
	A nalloc.Allocator
	// Open returns another handle on the same allocator, for a thread of
	// its own: the shared instance of a native backend, a new arena or
	// GoHeap.
	Open func() (nalloc.Allocator, error)
	P    *Params
	Put  func(cas, metric string, v float64)
	Peak float64 // the highest peak RSS a round has read (RoundPeak)
}

// RoundPeak returns the peak RSS since the last ResetPeakRSS, for a
// workload that reports one per case, and keeps the highest, so that the
// run's own peak (the common row) still covers every round.
func (e *Env) RoundPeak() float64 {
	v := PeakRSS()
	e.Peak = max(e.Peak, v)
	return v
}

// Stats reports the allocator's nalloc.Stats, found through its
// wrappers, if it has them, sampled at when ("held" or "after").
func (e *Env) Stats(when string) {
	s, err := nalloc.StatsOf(e.A)
	if err != nil {
		return
	}
	for i, v := range [...]uint64{s.Allocated, s.Active, s.Resident, s.Mapped, s.Retained, s.Metadata} {
		e.Put("", metric.Stats(when, metric.StatsFields[i]), float64(v))
	}
}

// CSources are the C workloads, the C twin of each Go one (csrc), which
// package run compiles for the C side.
//
//go:embed csrc/*.c csrc/*.h
var CSources embed.FS

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
