// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
)

// statsNames and countNames are AppendMetrics's names, in its order.
var (
	statsNames = []string{"allocated_bytes", "active_bytes", "resident_bytes", "mapped_bytes", "retained_bytes", "metadata_bytes"}
	countNames = []string{"allocations_total", "deallocations_total", "resizes_total", "failures_total",
		"allocated_bytes_total", "live_bytes", "peak_live_bytes"}
	pacerNames = []string{"gcpacer_running", "gcpacer_off_heap_bytes",
		"gcpacer_gogc_percent", "gcpacer_program_gogc_percent",
		"gcpacer_gomemlimit_bytes", "gcpacer_program_gomemlimit_bytes", "gcpacer_container_limit_bytes",
		"gcpacer_purges_total", "gcpacer_purge_nanoseconds_total", "gcpacer_purged_bytes_total"}
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

// bare is an Allocator with no optional capability: only the four
// methods of the interface (capability_test.go uses it too).
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

// TestMetricNames checks the conventions the adapters rely on, over
// every metric nalloc reports: snake case, no name twice, counters and
// only counters ending in _total, gauges ending in their unit (_bytes, or
// _percent as runtime/metrics gives GOGC) but for gcpacer_running, which
// is 0 or 1, the pacer's and only the pacer's prefixed gcpacer_, and a
// help sentence for each.
func TestMetricNames(t *testing.T) {
	ms, _ := nalloc.AppendMetrics(nil, nalloc.NewCounting(nalloc.NewGoHeap()))
	p, err := nalloc.NewIdlePacer(nalloc.GCPacerAllocators(&fakeOffHeap{}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Restore()
	allocator := len(ms)
	ms = p.AppendMetrics(ms)
	if got := metricNames(ms[allocator:]); !slices.Equal(got, pacerNames) {
		t.Errorf("the pacer's metrics: %v, want %v", got, pacerNames)
	}
	valid := regexp.MustCompile(`^[a-z][a-z_]*[a-z]$`)
	seen := map[string]bool{}
	for i, m := range ms {
		if !valid.MatchString(m.Name) || seen[m.Name] {
			t.Errorf("%q: not snake case, or a duplicate", m.Name)
		}
		seen[m.Name] = true
		if total := strings.HasSuffix(m.Name, "_total"); total != (m.Kind == nalloc.Counter) {
			t.Errorf("%q is a %v: counters, and only they, end in _total", m.Name, m.Kind)
		}
		unit := strings.HasSuffix(m.Name, "_bytes") || strings.HasSuffix(m.Name, "_percent") || m.Name == "gcpacer_running"
		if m.Kind == nalloc.Gauge && !unit {
			t.Errorf("gauge %q does not say its unit", m.Name)
		}
		if pacer := strings.HasPrefix(m.Name, "gcpacer_"); pacer != (i >= allocator) {
			t.Errorf("%q: the pacer's metrics, and only they, start with gcpacer_", m.Name)
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

// TestGCPacerMetrics reads a running pacer's metrics, with the off-heap
// count and the program's settings known: each figure must be what the
// runtime reports, and after Stop what Stop left.
func TestGCPacerMetrics(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gogc  int
		limit int64
	}{
		{"gogc-and-limit", 100, 1 << 30},
		{"off-no-limit", -1, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withSettings(t, tc.gogc, tc.limit, func() {
				f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 256 * MiB}}
				p := startGCPacer(t, nalloc.GCPacerAllocators(f))
				defer p.Stop()
				gogc, limit := gcSettings()
				if (tc.gogc > 0) != (gogc > tc.gogc) || (tc.limit != math.MaxInt64) != (limit < tc.limit) {
					t.Errorf("pacing 256 MiB from GOGC %d, limit %d: GOGC %d, limit %d", tc.gogc, tc.limit, gogc, limit)
				}
				want := map[string]int64{
					"gcpacer_running": 1, "gcpacer_off_heap_bytes": 256 * MiB,
					"gcpacer_gogc_percent": int64(gogc), "gcpacer_program_gogc_percent": int64(tc.gogc),
					"gcpacer_gomemlimit_bytes": limit, "gcpacer_program_gomemlimit_bytes": tc.limit,
					"gcpacer_container_limit_bytes": math.MaxInt64,
				}
				check := func(when string) {
					t.Helper()
					ms := p.AppendMetrics(nil)
					if got := metricNames(ms); !slices.Equal(got, pacerNames) {
						t.Fatalf("%s: %v, want %v", when, got, pacerNames)
					}
					for _, m := range ms {
						kind := nalloc.Gauge
						if strings.HasSuffix(m.Name, "_total") {
							kind = nalloc.Counter // no Purge round under this limit: 0
						}
						if m.Kind != kind || m.Value != want[m.Name] {
							t.Errorf("%s: %s = %d (a %v), want the %v %d", when, m.Name, m.Value, m.Kind, kind, want[m.Name])
						}
					}
				}
				check("running")
				// A new count shows once the pacer has taken it, with the
				// limit it gives.
				f.set(nalloc.Stats{Mapped: 300 * MiB})
				waitFor(t, "the pacer to count 300 MiB", func() bool { return p.OffHeap() == 300*MiB })
				ms := p.AppendMetrics(nil)
				if _, limit := gcSettings(); metricValue(ms, "gcpacer_off_heap_bytes") != 300*MiB ||
					metricValue(ms, "gcpacer_gomemlimit_bytes") != limit {
					t.Errorf("after the count rose to 300 MiB: off-heap %d, limit %d; the runtime's limit %d",
						metricValue(ms, "gcpacer_off_heap_bytes"), metricValue(ms, "gcpacer_gomemlimit_bytes"), limit)
				}
				want["gcpacer_off_heap_bytes"] = 300 * MiB
				p.Stop()
				want["gcpacer_running"] = 0
				want["gcpacer_gogc_percent"], want["gcpacer_gomemlimit_bytes"] = int64(tc.gogc), tc.limit
				check("stopped")
			})
		})
	}
}

// TestGCPacerMetricsConcurrent reads the metrics from several goroutines
// while the pacer recomputes at every GC cycle and tick (for the race
// detector), and checks each read is one consistent state: the limit it
// reports is the program's less the count it reports.
func TestGCPacerMetricsConcurrent(t *testing.T) {
	withSettings(t, 100, 1<<30, func() {
		f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 64 * MiB}}
		p := startGCPacer(t, nalloc.GCPacerAllocators(f), nalloc.GCPacerInterval(time.Millisecond))
		defer p.Stop()
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				buf := make([]nalloc.Metric, 0, len(pacerNames))
				for {
					select {
					case <-stop:
						return
					default:
					}
					ms := p.AppendMetrics(buf[:0])
					limit, x := metricValue(ms, "gcpacer_gomemlimit_bytes"), metricValue(ms, "gcpacer_off_heap_bytes")
					// The limit follows the highest count of the last
					// second, so it is never above what the count just
					// taken allows (give or take the 1 MiB band).
					if metricValue(ms, "gcpacer_running") == 1 && limit > 1<<30-x+MiB {
						t.Errorf("limit %d with %d off-heap under 1 GiB", limit, x)
						return
					}
				}
			})
		}
		for i := range 200 {
			f.set(nalloc.Stats{Mapped: uint64(64+i%64) * MiB})
			if i%20 == 0 {
				runtime.GC()
			}
			time.Sleep(100 * time.Microsecond)
		}
		p.Stop()
		close(stop)
		wg.Wait()
	})
}

func TestGCPacerMetricsNoAllocation(t *testing.T) {
	p := startGCPacer(t, nalloc.GCPacerAllocators(&fakeOffHeap{}))
	defer p.Stop()
	buf := make([]nalloc.Metric, 0, len(pacerNames))
	if n := testing.AllocsPerRun(100, func() { _ = p.AppendMetrics(buf) }); n != 0 {
		t.Errorf("%v allocations per GCPacer.AppendMetrics with room in dst, want 0", n)
	}
}
