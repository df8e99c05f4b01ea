// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import "math"

// Metric is one figure that nalloc reports about an allocator, named and
// described for monitoring systems. The names follow Prometheus's
// conventions, which expvar users read just as well: snake case, the unit
// last (_bytes), counters ending in _total. The adapters publish them
// under those names: package nallocvar as expvar values, the nallocprom
// module as Prometheus metrics prefixed nalloc_ and labelled with the
// allocator's name.
type Metric struct {
	Name  string // "allocated_bytes", "allocations_total"
	Help  string // one sentence: what is counted, and where it comes from
	Kind  MetricKind
	Value int64
}

// MetricKind says how a Metric's value moves.
type MetricKind uint8

const (
	// Gauge is a level that goes up and down: bytes held now.
	Gauge MetricKind = iota
	// Counter only grows while the process runs: calls made, bytes
	// handed out in all.
	Counter
)

// String returns "gauge" or "counter".
func (k MetricKind) String() string {
	if k == Counter {
		return "counter"
	}
	return "gauge"
}

// metricDef is one metric of a source that reads a T once per report:
// its name, help and kind, and its figure in that T. Every metric nalloc
// reports is a row of one of the tables below, so that its name, help
// and kind are written once.
type metricDef[T any] struct {
	name, help string
	kind       MetricKind
	get        func(T) int64
}

// appendDefs appends the metrics defs give for v to dst.
func appendDefs[T any](dst []Metric, defs []metricDef[T], v T) []Metric {
	for _, d := range defs {
		dst = append(dst, Metric{Name: d.name, Help: d.help, Kind: d.kind, Value: d.get(v)})
	}
	return dst
}

// The metrics AppendMetrics reports, in its order: statsMetrics from
// Stats, countMetrics from a Counting's Counts; and gcPacerMetrics, those
// of GCPacer.AppendMetrics.
var (
	statsMetrics = [...]metricDef[Stats]{
		{"allocated_bytes", "Bytes in blocks handed out and not yet given back, as the allocator counts them.", Gauge,
			func(s Stats) int64 { return int64(s.Allocated) }},
		{"active_bytes", "Bytes in pages the allocator uses for live blocks.", Gauge,
			func(s Stats) int64 { return int64(s.Active) }},
		{"resident_bytes", "Bytes of physical memory the allocator holds.", Gauge,
			func(s Stats) int64 { return int64(s.Resident) }},
		{"mapped_bytes", "Bytes of address space the allocator has mapped.", Gauge,
			func(s Stats) int64 { return int64(s.Mapped) }},
		{"retained_bytes", "Bytes of address space kept for reuse after their pages went back to the OS.", Gauge,
			func(s Stats) int64 { return int64(s.Retained) }},
		{"metadata_bytes", "Bytes the allocator uses for its own bookkeeping.", Gauge,
			func(s Stats) int64 { return int64(s.Metadata) }},
	}
	countMetrics = [...]metricDef[Counts]{
		{"allocations_total", "Successful allocations counted by nalloc.Counting.", Counter,
			func(c Counts) int64 { return int64(c.Allocations) }},
		{"deallocations_total", "Blocks given back, counted by nalloc.Counting.", Counter,
			func(c Counts) int64 { return int64(c.Deallocations) }},
		{"resizes_total", "Successful Grow and Shrink calls counted by nalloc.Counting.", Counter,
			func(c Counts) int64 { return int64(c.Resizes) }},
		{"failures_total", "Calls that returned an error, counted by nalloc.Counting.", Counter,
			func(c Counts) int64 { return int64(c.Failures) }},
		{"allocated_bytes_total", "Bytes handed out in all (allocations and growth), counted by nalloc.Counting.", Counter,
			func(c Counts) int64 { return int64(c.BytesAllocated) }},
		{"live_bytes", "Bytes in blocks handed out and not given back, as their Layouts say, counted by nalloc.Counting.", Gauge,
			func(c Counts) int64 { return c.LiveBytes }},
		{"peak_live_bytes", "The highest live_bytes seen, counted by nalloc.Counting.", Gauge,
			func(c Counts) int64 { return c.PeakLiveBytes }},
	}
	gcPacerMetrics = [...]metricDef[gcPacerState]{
		{"gcpacer_running", "1 while the GC pacer runs, 0 once it is stopped.", Gauge,
			func(s gcPacerState) int64 {
				if s.running {
					return 1
				}
				return 0
			}},
		{"gcpacer_off_heap_bytes", "Off-heap bytes the GC pacer counted last; it paces on the highest count of the last second.", Gauge,
			func(s gcPacerState) int64 { return int64(min(s.offHeap, math.MaxInt64)) }},
		{"gcpacer_gogc_percent", "The GOGC the GC pacer has set for the Go heap plus the off-heap bytes (-1: off); the program's after Stop.", Gauge,
			func(s gcPacerState) int64 { return int64(s.gogc) }},
		{"gcpacer_program_gogc_percent", "The program's own GOGC, which the GC pacer scales and Stop puts back (-1: off).", Gauge,
			func(s gcPacerState) int64 { return int64(s.userGOGC) }},
		{"gcpacer_gomemlimit_bytes", "The Go runtime's memory limit as the GC pacer has set it, the program's less the off-heap bytes (math.MaxInt64: none); the program's after Stop.", Gauge,
			func(s gcPacerState) int64 { return s.limit }},
		{"gcpacer_program_gomemlimit_bytes", "The program's own memory limit, on the Go runtime plus the off-heap bytes, which Stop puts back (math.MaxInt64: none).", Gauge,
			func(s gcPacerState) int64 { return s.userLimit }},
		{"gcpacer_container_limit_bytes", "The limit on the Go runtime plus the off-heap bytes that GCPacerContainerLimit took from the memory cgroup, in force while the program sets none (math.MaxInt64: none).", Gauge,
			func(s gcPacerState) int64 { return s.container }},
		{"gcpacer_purges_total", "Rounds in which the GC pacer had the native allocators give free memory back (Purge) as the process neared its limit.", Counter,
			func(s gcPacerState) int64 { return int64(s.purges) }},
		{"gcpacer_purge_nanoseconds_total", "Time the GC pacer's Purge rounds took, on its own goroutine.", Counter,
			func(s gcPacerState) int64 { return int64(s.purgeTime) }},
		{"gcpacer_purged_bytes_total", "What the GC pacer's off-heap count fell by across its Purge rounds: memory the allocators gave back.", Counter,
			func(s gcPacerState) int64 { return int64(min(s.purged, math.MaxInt64)) }},
	}
)

// AppendMetrics appends a's metrics to dst and returns the extended
// slice: the six Stats figures (allocated_bytes, active_bytes,
// resident_bytes, mapped_bytes, retained_bytes, metadata_bytes) if a or
// an allocator it wraps is a StatsReporter (see As), then, if a *Counting
// is in that chain, its Counts
// (allocations_total, deallocations_total, resizes_total, failures_total,
// allocated_bytes_total, live_bytes, peak_live_bytes). Which metrics
// appear depends only on a's type, never on what a call returns, so a
// monitoring system sees the same set on every read; a figure a backend
// cannot know is 0, as Stats documents.
//
// If Stats fails, its figures are appended as 0 and its error is
// returned with the full list. AppendMetrics makes no Go heap allocation
// when dst has room; reading Stats may take long on a native backend (it
// walks the allocator's state), so read metrics when asked, not in a hot
// path.
func AppendMetrics(dst []Metric, a Allocator) ([]Metric, error) {
	var err error
	if sr, ok := As[StatsReporter](a); ok {
		var s Stats
		s, err = sr.Stats()
		if err != nil {
			s = Stats{}
		}
		dst = appendDefs(dst, statsMetrics[:], s)
	}
	if c, ok := As[*Counting](a); ok {
		dst = appendDefs(dst, countMetrics[:], c.Counts())
	}
	return dst, err
}

// AppendMetrics appends the pacer's metrics to dst and returns the
// extended slice: whether it runs (gcpacer_running, 1 or 0), the off-heap
// bytes it counted last (gcpacer_off_heap_bytes, OffHeap's figure), and
// each setting as it has set it and as the program has it
// (gcpacer_gogc_percent and gcpacer_program_gogc_percent, -1 for off;
// gcpacer_gomemlimit_bytes and gcpacer_program_gomemlimit_bytes,
// math.MaxInt64 for no limit), the units of runtime/metrics'
// /gc/gogc:percent and /gc/gomemlimit:bytes; the limit taken from the
// memory cgroup (gcpacer_container_limit_bytes, math.MaxInt64 for none);
// and its off-heap scavenging: Purge rounds (gcpacer_purges_total), their
// time (gcpacer_purge_nanoseconds_total) and what the count fell by
// across them (gcpacer_purged_bytes_total). While the pacer runs, the
// first of each pair is what the runtime reports, the second what Stop
// will put back; after Stop both are what Stop left, and the count is the
// last one taken. They are names in the same scheme as the allocators'
// (package nallocvar and the nallocprom module publish them beside
// those), prefixed gcpacer_ because they describe the process, not an
// allocator.
//
// The figures are those of the pacer's last recomputation (at the last GC
// cycle or background tick), a consistent set; reading them costs a lock
// the pacer holds only to copy them, and makes no Go heap allocation when
// dst has room. It is safe to call from any goroutine, at any time.
func (p *GCPacer) AppendMetrics(dst []Metric) []Metric {
	return appendDefs(dst, gcPacerMetrics[:], p.report())
}
