// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
)

// statsNames and countNames are AppendMetrics's names, in its order.
var (
	statsNames = []string{"allocated_bytes", "active_bytes", "resident_bytes", "mapped_bytes", "retained_bytes", "metadata_bytes"}
	countNames = []string{"allocations_total", "deallocations_total", "resizes_total", "failures_total",
		"allocated_bytes_total", "live_bytes", "peak_live_bytes"}
)

func metricNames(ms []nalloc.Metric) []string {
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return names
}

func metricValue(ms []nalloc.Metric, name string) int64 {
	for _, m := range ms {
		if m.Name == name {
			return m.Value
		}
	}
	return -1
}

// bare is an Allocator with no optional interface.
type bare struct{ nalloc.Allocator }

// failingStats is an allocator whose Stats fails.
type failingStats struct{ nalloc.Allocator }

var errNoStats = errors.New("no stats today")

func (failingStats) Stats() (nalloc.Stats, error) { return nalloc.Stats{Allocated: 7}, errNoStats }

func TestAppendMetrics(t *testing.T) {
	arena := bump.New()
	c := nalloc.NewCounting(arena)
	l := nalloc.Layout{Size: 100, Align: 8}
	p, _ := c.Allocate(l)
	p, _ = c.Grow(p, l, nalloc.Layout{Size: 300, Align: 8})
	c.Deallocate(p, nalloc.Layout{Size: 300, Align: 8})
	_, _ = c.Allocate(nalloc.Layout{Size: 50, Align: 8})
	_, _ = c.Allocate(nalloc.Layout{Size: 1, Align: 3}) // a failure

	cases := []struct {
		name  string
		a     nalloc.Allocator
		names []string
		err   error
	}{
		{"bare", bare{nalloc.NewGoHeap()}, nil, nil},
		{"stats", arena, statsNames, nil},
		{"counting", c, append(slices.Clone(statsNames), countNames...), nil},
		{"failing", failingStats{nalloc.NewGoHeap()}, statsNames, errNoStats},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := nalloc.AppendMetrics([]nalloc.Metric{{Name: "kept"}}, tc.a)
			if !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if got := metricNames(ms); !slices.Equal(got, append([]string{"kept"}, tc.names...)) {
				t.Errorf("names %v, want kept then %v", got, tc.names)
			}
			if tc.err != nil && metricValue(ms, "allocated_bytes") != 0 {
				t.Errorf("a failed Stats left allocated_bytes = %d, want 0", metricValue(ms, "allocated_bytes"))
			}
		})
	}

	ms, _ := nalloc.AppendMetrics(nil, c)
	for name, want := range map[string]int64{
		"allocations_total": 2, "deallocations_total": 1, "resizes_total": 1, "failures_total": 1,
		"allocated_bytes_total": 350, "live_bytes": 50, "peak_live_bytes": 300,
		"allocated_bytes": int64(arena.AllocatedBytes()),
	} {
		if got := metricValue(ms, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

// TestMetricNames checks the conventions the adapters rely on: snake case,
// counters and only counters ending in _total, gauges of bytes ending in
// _bytes, and a help sentence for each.
func TestMetricNames(t *testing.T) {
	ms, _ := nalloc.AppendMetrics(nil, nalloc.NewCounting(nalloc.NewGoHeap()))
	valid := regexp.MustCompile(`^[a-z][a-z_]*[a-z]$`)
	seen := map[string]bool{}
	for _, m := range ms {
		if !valid.MatchString(m.Name) || seen[m.Name] {
			t.Errorf("%q: not snake case, or a duplicate", m.Name)
		}
		seen[m.Name] = true
		if total := strings.HasSuffix(m.Name, "_total"); total != (m.Kind == nalloc.Counter) {
			t.Errorf("%q is a %v: counters, and only they, end in _total", m.Name, m.Kind)
		}
		if m.Kind == nalloc.Gauge && !strings.HasSuffix(m.Name, "_bytes") {
			t.Errorf("gauge %q does not say its unit", m.Name)
		}
		if !strings.HasSuffix(m.Help, ".") || len(m.Help) < 20 {
			t.Errorf("%q: help %q is not a sentence", m.Name, m.Help)
		}
	}
}

func TestAppendMetricsNoAllocation(t *testing.T) {
	c := nalloc.NewCounting(bump.New())
	buf := make([]nalloc.Metric, 0, 32)
	if n := testing.AllocsPerRun(100, func() { _, _ = nalloc.AppendMetrics(buf, c) }); n != 0 {
		t.Errorf("%v allocations per AppendMetrics with room in dst, want 0", n)
	}
}
