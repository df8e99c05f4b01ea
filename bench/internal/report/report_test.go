// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/workload"
	"golang.org/x/perf/benchfmt"
)

func TestSummarize(t *testing.T) {
	if Summarize(nil) != nil {
		t.Error("Summarize(nil) != nil")
	}
	for _, tc := range []struct {
		runs          []float64
		med, min, max float64
	}{
		{[]float64{5}, 5, 5, 5},
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{10, 10, 1000, 10, 9}, 10, 9, 1000},
	} {
		s := Summarize(tc.runs)
		if s.Median != tc.med || s.Min != tc.min || s.Max != tc.max || !slices.Equal(s.Runs, tc.runs) {
			t.Errorf("Summarize(%v) = %+v", tc.runs, s)
		}
	}
	in := []float64{3, 1, 2}
	Summarize(in)
	if !slices.Equal(in, []float64{3, 1, 2}) {
		t.Error("summarize sorted its argument")
	}
	if got := Summarize([]float64{90, 100, 110}).Spread(); math.Abs(got-0.1) > 1e-12 {
		t.Errorf("Spread = %v, want 0.1", got)
	}
}

// testReport is a report built from made-up runs, through the same code
// as a real one.
func testReport(t *testing.T) *Report {
	t.Helper()
	p := workload.ParamsFor(false, 2, false, 1<<30)
	ws := []*workload.Workload{workload.ByName("glibc-simple"), workload.ByName("glibc-thread")}
	loaded := []string{"go", "glibc", "jemalloc"}
	cells := map[CellKey]*CellData{}
	put := func(w, a string, v metric.Via, k workload.RowKey, vs ...float64) {
		d := cells[CellKey{Workload: w, Allocator: a}]
		if d == nil {
			d = NewCellData()
			cells[CellKey{Workload: w, Allocator: a}] = d
		}
		d.Runs[v][k] = vs
	}
	k16 := workload.RowKey{Case: "size=16B", Metric: metric.NsPerPair}
	put("glibc-simple", "go", metric.ViaGo, k16, 30, 31, 29)
	put("glibc-simple", "glibc", metric.ViaGo, k16, 20, 22, 21)
	put("glibc-simple", "glibc", metric.ViaC, k16, 10, 10, 10)
	// In C jemalloc is 50% faster than glibc; through nalloc it is slower.
	put("glibc-simple", "jemalloc", metric.ViaGo, k16, 25, 25, 25)
	put("glibc-simple", "jemalloc", metric.ViaC, k16, 5, 5, 5)
	k32 := workload.RowKey{Case: "size=32B", Metric: metric.NsPerPair}
	put("glibc-simple", "glibc", metric.ViaGo, k32, 20, 20, 20)
	put("glibc-simple", "jemalloc", metric.ViaGo, k32, 20, 20, 20) // a tie
	put("glibc-simple", "go", metric.ViaGo, workload.RowKey{Case: "", Metric: metric.PeakRSS}, 10<<20, 11<<20, 12<<20)
	put("glibc-simple", "glibc", metric.ViaGo, workload.RowKey{Case: "", Metric: metric.Stats("after", "mapped")}, 1<<20, 1<<20, 1<<20)
	kt := workload.RowKey{Case: "threads=1", Metric: metric.PairsPerSec}
	put("glibc-thread", "glibc", metric.ViaGo, kt, 10e6, 11e6, 12e6)
	put("glibc-thread", "glibc", metric.ViaC, kt, 20e6, 20e6, 20e6)
	put("glibc-thread", "go", metric.ViaGo, kt, 5e6, 5e6, 5e6)
	// Through cgo glibc and jemalloc are within 10%: no check; at 32 B
	// jemalloc is faster through cgo, but not through nalloc (a tie).
	put("glibc-simple", "glibc", metric.ViaCgo, k16, 60, 60, 60)
	put("glibc-simple", "jemalloc", metric.ViaCgo, k16, 62, 62, 62)
	put("glibc-simple", "glibc", metric.ViaCgo, k32, 70, 70, 70)
	put("glibc-simple", "jemalloc", metric.ViaCgo, k32, 50, 50, 50)
	d := NewCellData()
	d.Errs[metric.ViaGo] = "killed by signal segmentation fault"
	cells[CellKey{Workload: "glibc-thread", Allocator: "jemalloc"}] = d
	rep := &Report{
		Schema: SchemaVersion, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Seconds: 12,
		Machine: Machine{OS: "linux", Arch: "amd64", CPU: "Test CPU", CPUs: 2, GoVersion: "go1.26"},
		Config:  ReportConfig{Runs: 3, Threads: 2, Native: true, Params: p},
		Allocators: []AllocatorStatus{
			{Name: "go", Loaded: true}, {Name: "glibc", Backend: "glibc", Loaded: true, Info: map[string]string{"library": "libc.so.6"}},
			{Name: "jemalloc", Backend: "jemalloc", Loaded: true}, {Name: "mimalloc", Backend: "mimalloc", Error: "nalloc: library not found: mimalloc"},
		},
		Native: NativeStatus{Enabled: true, Compiler: "cc 12"},
		Cgo:    CgoStatus{Enabled: true},
	}
	rep.Workloads = BuildWorkloads(ws, &p, loaded, cells)
	rep.Rankings = CheckRankings(rep.Workloads)
	rep.Notes = RankingNotes(rep)
	return rep
}

func findRow(t *testing.T, rep *Report, w, cs, m string) Row {
	t.Helper()
	for _, wr := range rep.Workloads {
		for _, r := range wr.Rows {
			if wr.Name == w && r.Case == cs && r.Metric == m {
				return r
			}
		}
	}
	t.Fatalf("no row %s %s %s", w, cs, m)
	return Row{}
}

func TestBuildWorkloads(t *testing.T) {
	rep := testReport(t)
	r := findRow(t, rep, "glibc-simple", "size=16B", metric.NsPerPair)
	if !slices.Equal(r.Winners, []string{"glibc"}) {
		t.Errorf("16B winners %v, want glibc", r.Winners)
	}
	if c := r.Cells[1]; c.Allocator != "glibc" || c.Go.Median != 21 || c.C.Median != 10 || c.XC != 2.1 {
		t.Errorf("glibc cell %+v", c)
	}
	if r := findRow(t, rep, "glibc-simple", "size=32B", metric.NsPerPair); !slices.Equal(r.Winners, []string{"glibc", "jemalloc"}) {
		t.Errorf("a tie: winners %v", r.Winners)
	}
	// Throughput: higher wins, and xC is C's over Go's.
	r = findRow(t, rep, "glibc-thread", "threads=1", metric.PairsPerSec)
	if !slices.Equal(r.Winners, []string{"glibc"}) || math.Abs(r.Cells[1].XC-20.0/11) > 1e-9 {
		t.Errorf("throughput row: winners %v, glibc xC %v", r.Winners, r.Cells[1].XC)
	}
	// Rows nobody measured are left out; Stats rows have no winner.
	for _, wr := range rep.Workloads {
		for _, r := range wr.Rows {
			if r.Metric == metric.Faults {
				t.Errorf("%s: a minor_faults row without figures", wr.Name)
			}
			if strings.HasPrefix(r.Metric, "stats_") && r.Winners != nil {
				t.Errorf("%s: Stats row with winners %v", wr.Name, r.Winners)
			}
		}
	}
	if rep.Workloads[1].Errors["jemalloc"] == "" {
		t.Errorf("the failed cell's error is lost")
	}
}

func TestRankingCheck(t *testing.T) {
	rep := testReport(t)
	if len(rep.Rankings) != 2 {
		t.Fatalf("ranking checks %+v, want two (glibc vs jemalloc at 16 B against C, at 32 B against cgo)", rep.Rankings)
	}
	c := rep.Rankings[0]
	if c.Against != metric.ViaC || c.Case != "size=16B" || c.Faster != "jemalloc" || c.Slower != "glibc" || c.Gap != 1 || c.Agrees {
		t.Errorf("check against C %+v", c)
	}
	c = rep.Rankings[1]
	if c.Against != metric.ViaCgo || c.Case != "size=32B" || c.Faster != "jemalloc" || c.Slower != "glibc" || math.Abs(c.Gap-0.4) > 1e-9 || c.Agrees {
		t.Errorf("check against cgo %+v", c)
	}
	joined := strings.Join(rep.Notes, "\n")
	for _, want := range []string{
		"ranking differs from C: glibc-simple size=16B: through C jemalloc beats glibc by 100%",
		"ranking check against C: the order through nalloc agrees in 0 of 1 comparisons",
		"ranking differs from cgo: glibc-simple size=32B: through cgo jemalloc beats glibc by 40%",
		"ranking check against cgo: the order through nalloc agrees in 0 of 1 comparisons",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
	// xcgo is the cgo figure's cost over C's, beside xC.
	if r := findRow(t, rep, "glibc-simple", "size=16B", metric.NsPerPair); r.Cells[1].XCGO != 6 || r.Cells[1].XC != 2.1 {
		t.Errorf("glibc 16 B: xcgo %v, xC %v; want 6 and 2.1", r.Cells[1].XCGO, r.Cells[1].XC)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	if err := writeTable(&b, testReport(t)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"nalloc shoot-out: linux/amd64, Test CPU, 2 CPUs",
		"skipped mimalloc: nalloc: library not found: mimalloc",
		"allocator glibc: libc.so.6",
		"in C: the same workloads in C (cc 12)",
		"via cgo: the same Go workloads calling the library through cgo",
		"*21.0 ±5%", // glibc wins 16 B: marked, with the spread of 20..22
		"error jemalloc: killed by signal segmentation fault",
		"note: ranking differs from C",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Columns line up: every line of a block has its cells at the same
	// right edge as the header.
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "glibc-simple:") {
			head, row := lines[i+1], lines[i+2]
			if len([]rune(head)) != len([]rune(row)) {
				t.Errorf("misaligned:\n%s\n%s", head, row)
			}
		}
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := writeCSV(&b, testReport(t)); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], csvHeader) {
		t.Errorf("header %v", recs[0])
	}
	found := false
	for _, r := range recs[1:] {
		if len(r) != len(csvHeader) {
			t.Fatalf("record of %d fields: %v", len(r), r)
		}
		if r[0] == "glibc-simple" && r[1] == "size=16B" && r[5] == "glibc" {
			found = true
			want := []string{"glibc-simple", "size=16B", "ns_per_pair", "ns", "lower", "glibc", "21", "20", "22", "10", "10", "10", "2.1", "true", "3",
				"60", "60", "60", "6"}
			if !slices.Equal(r, want) {
				t.Errorf("glibc 16B record\n got %v\nwant %v", r, want)
			}
		}
	}
	if !found {
		t.Error("no glibc 16B record")
	}
}

func TestJSONSchema(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, testReport(t)); err != nil {
		t.Fatal(err)
	}
	// The documented top-level fields, and nothing else.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"allocators", "cgo", "config", "machine", "native", "notes", "ranking_checks", "schema", "seconds", "started", "workloads"}
	if !slices.Equal(keys, want) {
		t.Errorf("top-level keys %v, want %v", keys, want)
	}
	// A cell as the package comment documents it.
	var doc struct {
		Schema    string
		Workloads []struct {
			Name string
			Rows []struct {
				Case, Metric, Unit, Better string
				Cells                      []map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "nalloc-bench/v1" {
		t.Errorf("schema %q", doc.Schema)
	}
	r := doc.Workloads[0].Rows[0]
	if r.Case != "size=16B" || r.Metric != "ns_per_pair" || r.Unit != "ns" || r.Better != "lower" {
		t.Errorf("first row %+v", r)
	}
	var s Summary
	if err := json.Unmarshal(r.Cells[1]["go"], &s); err != nil || s.Median != 21 || len(s.Runs) != 3 {
		t.Errorf("glibc go summary %s: %v", r.Cells[1]["go"], err)
	}
	if string(r.Cells[1]["allocator"]) != `"glibc"` || string(r.Cells[1]["xc"]) != "2.1" {
		t.Errorf("glibc cell %v", r.Cells[1])
	}
	// Round trip.
	var rep Report
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil || rep.Config.Params.SimpleReps != 200 {
		t.Errorf("round trip: %v, params %+v", err, rep.Config.Params)
	}
}

// TestBenchstat parses the output with benchstat's own reader.
func TestBenchstat(t *testing.T) {
	var b bytes.Buffer
	if err := writeBenchstat(&b, testReport(t)); err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(&b, "shootout.txt")
	got := map[string][]float64{}
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.Result:
			for _, v := range rec.Values {
				k := string(rec.Name) + " " + v.Unit
				got[k] = append(got[k], v.Value)
			}
		case *benchfmt.SyntaxError:
			t.Errorf("benchstat cannot read a line: %v", rec)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	// benchfmt scales ns to sec, as benchstat will show them.
	for k, want := range map[string][]float64{
		"GlibcSimple/size=16B/impl=glibc/via=go sec/pair":  {20e-9, 22e-9, 21e-9},
		"GlibcSimple/size=16B/impl=glibc/via=c sec/pair":   {10e-9, 10e-9, 10e-9},
		"GlibcSimple/size=16B/impl=glibc/via=cgo sec/pair": {60e-9, 60e-9, 60e-9},
		"GlibcSimple/impl=go/via=go peak-RSS-B":            {10 << 20, 11 << 20, 12 << 20},
		"GlibcThread/threads=1/impl=go/via=go pairs/s":     {5e6, 5e6, 5e6},
	} {
		if !slices.EqualFunc(got[k], want, func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) }) {
			t.Errorf("%s: %v, want %v", k, got[k], want)
		}
	}
}
