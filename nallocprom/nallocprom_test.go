// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nallocprom_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
	"github.com/nalloc/nalloc/bump"
	"github.com/nalloc/nalloc/nallocprom"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// TestGather registers a Collector on a pedantic registry (which checks
// that what Collect sends matches what Describe announced) and compares
// the figures of a Counting over an arena, after calls whose counts are
// known, with the exposition text they must give.
func TestGather(t *testing.T) {
	arena := bump.New()
	c := nalloc.NewCounting(arena)
	l := nalloc.Layout{Size: 100, Align: 8}
	p, _ := c.Allocate(l)
	c.Deallocate(p, l)
	_, _ = c.Allocate(nalloc.Layout{Size: 4000, Align: 8})
	_, _ = c.Allocate(nalloc.Layout{Size: 1, Align: 3}) // refused: a failure

	col, err := nallocprom.NewCollector(nallocprom.WithAllocator("arena", c))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(col)
	want := `
# HELP nalloc_allocations_total Successful allocations counted by nalloc.Counting.
# TYPE nalloc_allocations_total counter
nalloc_allocations_total{allocator="arena"} 2
# HELP nalloc_failures_total Calls that returned an error, counted by nalloc.Counting.
# TYPE nalloc_failures_total counter
nalloc_failures_total{allocator="arena"} 1
# HELP nalloc_live_bytes Bytes in blocks handed out and not given back, as their Layouts say, counted by nalloc.Counting.
# TYPE nalloc_live_bytes gauge
nalloc_live_bytes{allocator="arena"} 4000
# HELP nalloc_allocated_bytes_total Bytes handed out in all (allocations and growth), counted by nalloc.Counting.
# TYPE nalloc_allocated_bytes_total counter
nalloc_allocated_bytes_total{allocator="arena"} 4100
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"nalloc_allocations_total", "nalloc_failures_total", "nalloc_live_bytes", "nalloc_allocated_bytes_total"); err != nil {
		t.Error(err)
	}
	// The arena's own Stats come through Counting.
	if got := gauge(t, reg, "nalloc_allocated_bytes", "arena"); got != float64(arena.AllocatedBytes()) {
		t.Errorf("nalloc_allocated_bytes = %v, want the arena's %d", got, arena.AllocatedBytes())
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 13 {
		t.Errorf("%d metrics gathered (err %v), want the 6 Stats and 7 Counts figures", n, err)
	}
}

// gauge returns the value of the metric name with allocator="alloc" in
// what reg gathers, or fails t.
func gauge(t *testing.T, reg prometheus.Gatherer, name, alloc string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelOf(m) == alloc {
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s{allocator=%q} gathered", name, alloc)
	return 0
}

func labelOf(m *dto.Metric) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == nallocprom.AllocatorLabel {
			return lp.GetValue()
		}
	}
	return ""
}

// TestNativeAllocators gathers the Stats of every allocator that loads,
// each under its own label, and checks each native one counts a 4 MiB
// block held while it is gathered.
func TestNativeAllocators(t *testing.T) {
	var opts []nallocprom.Option
	var held []func()
	reporters := 0
	for _, name := range nalloc.Names() {
		if name == "bump" {
			continue
		}
		a, err := nalloc.Open(name)
		if err != nil {
			if name == "glibc" || name == "jemalloc" || name == "mimalloc" || name == "go" {
				t.Fatalf("nalloc.Open(%q): %v", name, err)
			}
			t.Logf("%s left out: %v", name, err)
			continue
		}
		l := nalloc.Layout{Size: 4 << 20, Align: 64}
		p, err := a.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, func() { a.Deallocate(p, l) })
		opts = append(opts, nallocprom.WithAllocator(name, a))
		if _, ok := a.(nalloc.StatsReporter); ok {
			reporters++
		}
	}
	defer func() {
		for _, f := range held {
			f()
		}
	}()
	col, err := nallocprom.NewCollector(opts...)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(col)
	for _, name := range []string{"glibc", "go", "jemalloc", "mimalloc"} {
		// mimalloc's release builds count no blocks (Allocated is 0, see
		// mimalloc.Allocator.Stats), only what they committed.
		allocated := gauge(t, reg, "nalloc_allocated_bytes", name)
		mapped := gauge(t, reg, "nalloc_mapped_bytes", name)
		if max(allocated, mapped) < 4<<20 {
			t.Errorf("allocator=%q: allocated %v and mapped %v bytes with a 4 MiB block live", name, allocated, mapped)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "nalloc_resident_bytes"); err != nil || n != reporters {
		t.Errorf("%d series of nalloc_resident_bytes (err %v), want one per allocator with Stats, %d", n, err, reporters)
	}
}

// TestLint runs client_golang's linter (promlint: units, suffixes, help)
// over what the Collector gives.
func TestLint(t *testing.T) {
	col, err := nallocprom.NewCollector(nallocprom.WithAllocator("go", nalloc.NewCounting(nalloc.NewGoHeap())))
	if err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(col)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// failing is an allocator whose Stats fails.
type failing struct{ *nalloc.GoHeap }

var errStats = errors.New("stats unavailable")

func (failing) Stats() (nalloc.Stats, error) { return nalloc.Stats{}, errStats }

func TestStatsError(t *testing.T) {
	col, err := nallocprom.NewCollector(
		nallocprom.WithAllocator("good", nalloc.NewGoHeap()),
		nallocprom.WithAllocator("bad", failing{nalloc.NewGoHeap()}),
	)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(col)
	mfs, err := reg.Gather()
	if !errors.Is(err, errStats) || !strings.Contains(err.Error(), `allocator="bad"`) {
		t.Errorf("Gather: %v; want the Stats error naming the allocator", err)
	}
	// The other allocator's figures are still there, the failing one's
	// are missing rather than 0.
	good := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch labelOf(m) {
			case "bad":
				t.Errorf("%s{allocator=\"bad\"} gathered from a failed read", mf.GetName())
			case "good":
				good++
			}
		}
	}
	if good != 6 {
		t.Errorf("%d series of the good allocator gathered, want its 6 Stats figures", good)
	}
}

func TestConfigErrors(t *testing.T) {
	g := nalloc.NewGoHeap()
	for name, opts := range map[string][]nallocprom.Option{
		"empty name": {nallocprom.WithAllocator("", g)},
		"nil":        {nallocprom.WithAllocator("x", nil)},
		"twice":      {nallocprom.WithAllocator("x", g), nallocprom.WithAllocator("x", g)},
	} {
		if _, err := nallocprom.NewCollector(opts...); !errors.Is(err, nallocprom.ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
}

// TestScrape serves the registry with promhttp, as a program does, and
// reads the text exposition a Prometheus server would.
func TestScrape(t *testing.T) {
	col, err := nallocprom.NewCollector(nallocprom.WithAllocator("go", nalloc.NewGoHeap()))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range []string{
		"# TYPE nalloc_allocated_bytes gauge",
		`nalloc_allocated_bytes{allocator="go"} 0`,
		"# TYPE nalloc_resident_bytes gauge",
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("the scrape lacks %q:\n%s", line, body)
		}
	}
	// A second Collector of the same metrics is refused, as the doc says.
	if err := reg.Register(col); err == nil {
		t.Errorf("registering the Collector twice succeeded")
	}
}
