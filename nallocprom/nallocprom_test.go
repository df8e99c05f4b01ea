// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nallocprom_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
	"github.com/nalloc/nalloc/bump"
	"github.com/nalloc/nalloc/nallocprom"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
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

// offHeap is an allocator that allocates nothing and reports a fixed
// Mapped figure, for a GC pacer to count exactly.
type offHeap struct{ *nalloc.GoHeap }

const offHeapBytes = 96 << 20

func (offHeap) Stats() (nalloc.Stats, error) { return nalloc.Stats{Mapped: offHeapBytes}, nil }

// startPacer starts a GC pacer counting offHeapBytes under the given
// settings, and returns the function that stops it and puts the settings
// back.
func startPacer(t *testing.T, gogc int, limit int64) (*nalloc.GCPacer, func()) {
	t.Helper()
	oldG, oldL := debug.SetGCPercent(gogc), debug.SetMemoryLimit(limit)
	p, err := nalloc.StartGCPacer(nalloc.GCPacerAllocators(offHeap{nalloc.NewGoHeap()}))
	if err != nil {
		debug.SetGCPercent(oldG)
		debug.SetMemoryLimit(oldL)
		t.Fatal(err)
	}
	return p, func() {
		p.Stop()
		debug.SetGCPercent(oldG)
		debug.SetMemoryLimit(oldL)
	}
}

// TestGCPacer gathers a pacer's metrics from a pedantic registry, beside
// an allocator's and the Go collector's: with GOGC off and a 1 GiB limit
// every figure is known, and the limit the pacer reports is the one the
// Go collector reads from the runtime.
func TestGCPacer(t *testing.T) {
	p, stop := startPacer(t, -1, 1<<30)
	defer stop()
	col, err := nallocprom.NewCollector(
		nallocprom.WithAllocator("go", nalloc.NewGoHeap()),
		nallocprom.WithGCPacer(p),
	)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(col, collectors.NewGoCollector())
	names := []string{
		"nalloc_gcpacer_running", "nalloc_gcpacer_off_heap_bytes",
		"nalloc_gcpacer_gogc_percent", "nalloc_gcpacer_program_gogc_percent",
		"nalloc_gcpacer_gomemlimit_bytes", "nalloc_gcpacer_program_gomemlimit_bytes",
		"nalloc_gcpacer_container_limit_bytes",
		"nalloc_gcpacer_purges_total", "nalloc_gcpacer_purge_seconds_total", "nalloc_gcpacer_purged_bytes_total",
	}
	exposition := func(running int, limit int64) string {
		return fmt.Sprintf(`
# HELP nalloc_gcpacer_running 1 while the GC pacer runs, 0 once it is stopped.
# TYPE nalloc_gcpacer_running gauge
nalloc_gcpacer_running %d
# HELP nalloc_gcpacer_off_heap_bytes Off-heap bytes the GC pacer counted last; it paces on the highest count of the last second.
# TYPE nalloc_gcpacer_off_heap_bytes gauge
nalloc_gcpacer_off_heap_bytes %d
# HELP nalloc_gcpacer_gogc_percent The GOGC the GC pacer has set for the Go heap plus the off-heap bytes (-1: off); the program's after Stop.
# TYPE nalloc_gcpacer_gogc_percent gauge
nalloc_gcpacer_gogc_percent -1
# HELP nalloc_gcpacer_program_gogc_percent The program's own GOGC, which the GC pacer scales and Stop puts back (-1: off).
# TYPE nalloc_gcpacer_program_gogc_percent gauge
nalloc_gcpacer_program_gogc_percent -1
# HELP nalloc_gcpacer_gomemlimit_bytes The Go runtime's memory limit as the GC pacer has set it, the program's less the off-heap bytes (math.MaxInt64: none); the program's after Stop.
# TYPE nalloc_gcpacer_gomemlimit_bytes gauge
nalloc_gcpacer_gomemlimit_bytes %d
# HELP nalloc_gcpacer_program_gomemlimit_bytes The program's own memory limit, on the Go runtime plus the off-heap bytes, which Stop puts back (math.MaxInt64: none).
# TYPE nalloc_gcpacer_program_gomemlimit_bytes gauge
nalloc_gcpacer_program_gomemlimit_bytes %d
# HELP nalloc_gcpacer_container_limit_bytes The limit on the Go runtime plus the off-heap bytes that GCPacerContainerLimit took from the memory cgroup, in force while the program sets none (math.MaxInt64: none).
# TYPE nalloc_gcpacer_container_limit_bytes gauge
nalloc_gcpacer_container_limit_bytes 9223372036854775807
# HELP nalloc_gcpacer_purges_total Rounds in which the GC pacer had the native allocators give free memory back (Purge) as the process neared its limit.
# TYPE nalloc_gcpacer_purges_total counter
nalloc_gcpacer_purges_total 0
# HELP nalloc_gcpacer_purge_seconds_total Time the GC pacer's Purge rounds took, on its own goroutine.
# TYPE nalloc_gcpacer_purge_seconds_total counter
nalloc_gcpacer_purge_seconds_total 0
# HELP nalloc_gcpacer_purged_bytes_total What the GC pacer's off-heap count fell by across its Purge rounds: memory the allocators gave back.
# TYPE nalloc_gcpacer_purged_bytes_total counter
nalloc_gcpacer_purged_bytes_total 0
`, running, offHeapBytes, limit, 1<<30)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(exposition(1, 1<<30-offHeapBytes)), names...); err != nil {
		t.Error(err)
	}
	if got, want := value(t, reg, "nalloc_gcpacer_gomemlimit_bytes"), value(t, reg, "go_gc_gomemlimit_bytes"); got != want {
		t.Errorf("nalloc_gcpacer_gomemlimit_bytes %v, the Go collector's go_gc_gomemlimit_bytes %v", got, want)
	}
	// The allocator's series keep their label; the pacer's have none.
	if n, err := testutil.GatherAndCount(reg, names...); err != nil || n != len(names) {
		t.Errorf("%d pacer series (err %v), want %d", n, err, len(names))
	}
	if got := gauge(t, reg, "nalloc_allocated_bytes", "go"); got != 0 {
		t.Errorf(`nalloc_allocated_bytes{allocator="go"} = %v beside the pacer, want 0`, got)
	}
	// Stopped: the settings Stop put back.
	p.Stop()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(exposition(0, 1<<30)), names...); err != nil {
		t.Errorf("after Stop: %v", err)
	}

	problems, err := testutil.CollectAndLint(col)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// TestGCPacerGOGC: under GOGC=100 the pacer's GOGC is the runtime's, as
// the Go collector reads it, and above the program's 100.
func TestGCPacerGOGC(t *testing.T) {
	p, stop := startPacer(t, 100, math.MaxInt64)
	defer stop()
	col, err := nallocprom.NewCollector(nallocprom.WithGCPacer(p))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(col, collectors.NewGoCollector())
	var paced, runtime float64
	for range 10 { // a recomputation may fall between the two reads; not ten times in a row
		if paced, runtime = value(t, reg, "nalloc_gcpacer_gogc_percent"), value(t, reg, "go_gc_gogc_percent"); paced == runtime {
			break
		}
	}
	if paced != runtime || paced <= 100 || value(t, reg, "nalloc_gcpacer_program_gogc_percent") != 100 {
		t.Errorf("nalloc_gcpacer_gogc_percent %v, go_gc_gogc_percent %v, program's %v; want the first two equal and above 100",
			paced, runtime, value(t, reg, "nalloc_gcpacer_program_gogc_percent"))
	}
	if got := value(t, reg, "nalloc_gcpacer_gomemlimit_bytes"); got != math.MaxInt64 {
		t.Errorf("nalloc_gcpacer_gomemlimit_bytes %v with no limit, want math.MaxInt64", got)
	}
}

// value returns the value of the unlabelled metric name in what reg
// gathers, or fails t.
func value(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 && len(mf.GetMetric()[0].GetLabel()) == 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no unlabelled %s gathered", name)
	return 0
}

func TestGCPacerConfigErrors(t *testing.T) {
	p, stop := startPacer(t, 100, math.MaxInt64)
	defer stop()
	for name, opts := range map[string][]nallocprom.Option{
		"nil":   {nallocprom.WithGCPacer(nil)},
		"twice": {nallocprom.WithGCPacer(p), nallocprom.WithGCPacer(p)},
	} {
		if _, err := nallocprom.NewCollector(opts...); !errors.Is(err, nallocprom.ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
}
