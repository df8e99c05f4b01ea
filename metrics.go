// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

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

// The metrics AppendMetrics reports, in its order: statsMetrics from
// Stats, countMetrics from a Counting's Counts. Each entry reads its
// figure from the value the call fetched once.
var (
	statsMetrics = [...]struct {
		name, help string
		get        func(Stats) uint64
	}{
		{"allocated_bytes", "Bytes in blocks handed out and not yet given back, as the allocator counts them.",
			func(s Stats) uint64 { return s.Allocated }},
		{"active_bytes", "Bytes in pages the allocator uses for live blocks.",
			func(s Stats) uint64 { return s.Active }},
		{"resident_bytes", "Bytes of physical memory the allocator holds.",
			func(s Stats) uint64 { return s.Resident }},
		{"mapped_bytes", "Bytes of address space the allocator has mapped.",
			func(s Stats) uint64 { return s.Mapped }},
		{"retained_bytes", "Bytes of address space kept for reuse after their pages went back to the OS.",
			func(s Stats) uint64 { return s.Retained }},
		{"metadata_bytes", "Bytes the allocator uses for its own bookkeeping.",
			func(s Stats) uint64 { return s.Metadata }},
	}
	countMetrics = [...]struct {
		name, help string
		kind       MetricKind
		get        func(Counts) int64
	}{
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
)

// AppendMetrics appends a's metrics to dst and returns the extended
// slice: the six Stats figures (allocated_bytes, active_bytes,
// resident_bytes, mapped_bytes, retained_bytes, metadata_bytes) if a is a
// StatsReporter, then, if a is a *Counting, its Counts
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
	if sr, ok := a.(StatsReporter); ok {
		var s Stats
		s, err = sr.Stats()
		if err != nil {
			s = Stats{}
		}
		for _, m := range statsMetrics {
			dst = append(dst, Metric{Name: m.name, Help: m.help, Kind: Gauge, Value: int64(m.get(s))})
		}
	}
	if c, ok := a.(*Counting); ok {
		counts := c.Counts()
		for _, m := range countMetrics {
			dst = append(dst, Metric{Name: m.name, Help: m.help, Kind: m.kind, Value: m.get(counts)})
		}
	}
	return dst, err
}
