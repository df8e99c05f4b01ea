// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nallocvar_test

import (
	"encoding/json"
	"errors"
	"expvar"
	"io"
	"maps"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/nallocvar"
)

// read returns the map published as name, decoded from expvar's JSON.
func read(t *testing.T, name string) map[string]any {
	t.Helper()
	top, ok := expvar.Get(nallocvar.Var).(*expvar.Map)
	if !ok {
		t.Fatalf("expvar %q is %T, want *expvar.Map", nallocvar.Var, expvar.Get(nallocvar.Var))
	}
	v := top.Get(name)
	if v == nil {
		t.Fatalf("%s.%s is not published", nallocvar.Var, name)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(v.String()), &m); err != nil {
		t.Fatalf("%s.%s = %s: not JSON: %v", nallocvar.Var, name, v, err)
	}
	return m
}

// keys are the names every Counting publishes, in AppendMetrics's order.
var keys = []string{
	"allocated_bytes", "active_bytes", "resident_bytes", "mapped_bytes", "retained_bytes", "metadata_bytes",
	"allocations_total", "deallocations_total", "resizes_total", "failures_total",
	"allocated_bytes_total", "live_bytes", "peak_live_bytes",
}

func TestPublishCounting(t *testing.T) {
	c := nalloc.NewCounting(nalloc.NewGoHeap())
	if err := nallocvar.Publish("counting", c); err != nil {
		t.Fatal(err)
	}
	defer nallocvar.Unpublish("counting")
	l := nalloc.Layout{Size: 1000, Align: 8}
	p, err := c.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	m := read(t, "counting")
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing from %v", k, m)
		}
	}
	if len(m) != len(keys) {
		t.Errorf("%d keys, want %d: %v", len(m), len(keys), m)
	}
	for k, want := range map[string]float64{"allocations_total": 1, "live_bytes": 1000, "allocated_bytes": 1000} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	// Read afresh on every look.
	c.Deallocate(p, l)
	if m := read(t, "counting"); m["live_bytes"] != 0.0 || m["deallocations_total"] != 1.0 {
		t.Errorf("after Deallocate: live_bytes %v, deallocations_total %v; want 0 and 1",
			m["live_bytes"], m["deallocations_total"])
	}
}

func TestPublishNative(t *testing.T) {
	a, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := nallocvar.Publish("glibc", a); err != nil {
		t.Fatal(err)
	}
	defer nallocvar.Unpublish("glibc")
	l := nalloc.Layout{Size: 4 << 20, Align: 16}
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Deallocate(p, l)
	m := read(t, "glibc")
	if got, _ := m["allocated_bytes"].(float64); got < float64(l.Size) {
		t.Errorf("allocated_bytes = %v with a %d-byte block live", m["allocated_bytes"], l.Size)
	}
	if _, ok := m["allocations_total"]; ok {
		t.Errorf("counts published for an allocator that is not a Counting: %v", m)
	}
}

// failing is an allocator whose Stats fails.
type failing struct{ *nalloc.GoHeap }

var errStats = errors.New("stats unavailable")

func (failing) Stats() (nalloc.Stats, error) { return nalloc.Stats{}, errStats }

func TestPublishError(t *testing.T) {
	if err := nallocvar.Publish("failing", failing{nalloc.NewGoHeap()}); err != nil {
		t.Fatal(err)
	}
	defer nallocvar.Unpublish("failing")
	m := read(t, "failing")
	if m["error"] != errStats.Error() || m["allocated_bytes"] != 0.0 {
		t.Errorf("got %v; want the figures as 0 and the error", m)
	}
}

func TestPublishTwice(t *testing.T) {
	a := nalloc.NewGoHeap()
	if err := nallocvar.Publish("twice", a); err != nil {
		t.Fatal(err)
	}
	if err := nallocvar.Publish("twice", a); !errors.Is(err, nallocvar.ErrPublished) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Publish: %v; want ErrPublished naming the name", err)
	}
	nallocvar.Unpublish("twice")
	if err := nallocvar.Publish("twice", a); err != nil {
		t.Errorf("Publish after Unpublish: %v", err)
	}
	nallocvar.Unpublish("twice")
	nallocvar.Unpublish("never published") // does nothing
}

// TestServed reads the variables as a monitoring system does, from
// expvar's handler, and checks that the whole document is JSON with the
// map in it.
func TestServed(t *testing.T) {
	if err := nallocvar.Publish("served", nalloc.NewCounting(nalloc.NewGoHeap())); err != nil {
		t.Fatal(err)
	}
	defer nallocvar.Unpublish("served")
	srv := httptest.NewServer(expvar.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Nalloc   map[string]map[string]int64 `json:"nalloc"`
		Memstats json.RawMessage             `json:"memstats"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("/debug/vars is not JSON: %v\n%s", err, body)
	}
	if _, ok := doc.Nalloc["served"]["live_bytes"]; !ok || doc.Memstats == nil {
		t.Errorf("/debug/vars lacks nalloc.served.live_bytes or memstats:\n%s", body)
	}
}

// TestVarTaken runs in a child process, where the program has published
// its own "nalloc" before nallocvar could.
func TestVarTaken(t *testing.T) {
	if os.Getenv("NALLOCVAR_TAKEN") == "1" {
		expvar.NewString(nallocvar.Var).Set("mine")
		err := nallocvar.Publish("x", nalloc.NewGoHeap())
		if !errors.Is(err, nallocvar.ErrVarTaken) || !strings.Contains(err.Error(), "*expvar.String") {
			t.Fatalf("Publish with %q taken: %v; want ErrVarTaken naming the type", nallocvar.Var, err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestVarTaken$", "-test.count=1")
	cmd.Env = append(os.Environ(), "NALLOCVAR_TAKEN=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// offHeap is an allocator that allocates nothing and reports a fixed
// Mapped figure, for a GC pacer to count exactly.
type offHeap struct{ *nalloc.GoHeap }

const offHeapBytes = 96 << 20

func (offHeap) Stats() (nalloc.Stats, error) { return nalloc.Stats{Mapped: offHeapBytes}, nil }

// gcSettings reads GOGC and the memory limit as the runtime reports them.
func gcSettings() (gogc, limit int64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64()), int64(s[1].Value.Uint64())
}

func TestPublishGCPacer(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	p, err := nalloc.StartGCPacer(nalloc.GCPacerAllocators(offHeap{nalloc.NewGoHeap()}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if err := nallocvar.PublishGCPacer(p); err != nil {
		t.Fatal(err)
	}
	defer nallocvar.Unpublish(nallocvar.GCPacerName)

	gogc, limit := gcSettings()
	want := map[string]float64{
		"gcpacer_running":              1,
		"gcpacer_off_heap_bytes":       offHeapBytes,
		"gcpacer_gogc_percent":         float64(gogc),
		"gcpacer_program_gogc_percent": 100,
		"gcpacer_gomemlimit_bytes":     float64(limit), "gcpacer_program_gomemlimit_bytes": 1 << 30,
		"gcpacer_container_limit_bytes": math.MaxInt64,
		"gcpacer_purges_total":          0, "gcpacer_purge_nanoseconds_total": 0, "gcpacer_purged_bytes_total": 0,
	}
	if gogc <= 100 || limit != 1<<30-offHeapBytes {
		t.Errorf("pacing %d bytes: GOGC %d, limit %d", offHeapBytes, gogc, limit)
	}
	if m := read(t, nallocvar.GCPacerName); !maps.Equal(m, toAny(want)) {
		t.Errorf("%s.%s = %v, want %v", nallocvar.Var, nallocvar.GCPacerName, m, want)
	}
	if err := nallocvar.PublishGCPacer(p); !errors.Is(err, nallocvar.ErrPublished) {
		t.Errorf("second PublishGCPacer: %v, want ErrPublished", err)
	}
	// Read afresh: a stopped pacer says so, with the settings Stop put back.
	p.Stop()
	want["gcpacer_running"] = 0
	want["gcpacer_gogc_percent"], want["gcpacer_gomemlimit_bytes"] = 100, 1<<30
	if m := read(t, nallocvar.GCPacerName); !maps.Equal(m, toAny(want)) {
		t.Errorf("after Stop: %v, want %v", m, want)
	}
	// The next pacer is published once the name is free.
	nallocvar.Unpublish(nallocvar.GCPacerName)
	q, err := nalloc.StartGCPacer(nalloc.GCPacerAllocators(offHeap{nalloc.NewGoHeap()}))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Stop()
	if err := nallocvar.PublishGCPacer(q); err != nil {
		t.Fatalf("PublishGCPacer of the next pacer: %v", err)
	}
	if m := read(t, nallocvar.GCPacerName); m["gcpacer_running"] != 1.0 {
		t.Errorf("the next pacer: %v", m)
	}
	if err := nallocvar.PublishGCPacer(nil); !errors.Is(err, nallocvar.ErrInvalid) {
		t.Errorf("PublishGCPacer(nil) = %v, want ErrInvalid", err)
	}
}

// Publish refuses what nallocprom's WithAllocator refuses (an empty name,
// a nil allocator) and the pacer's name, under which allocator figures
// would show and PublishGCPacer then fail.
func TestPublishRefusesInvalid(t *testing.T) {
	for name, a := range map[string]nalloc.Allocator{
		"":                    nalloc.NewGoHeap(),
		nallocvar.GCPacerName: nalloc.NewGoHeap(),
		"nil-allocator":       nil,
	} {
		err := nallocvar.Publish(name, a)
		if !errors.Is(err, nallocvar.ErrInvalid) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Publish(%q, %v) = %v, want a one-line error wrapping ErrInvalid", name, a, err)
		}
		nallocvar.Unpublish(name)
	}
}

func toAny(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
