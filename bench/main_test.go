// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/bench/internal/benchtest" // registers test-arena and test-tuner
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/peer"
	"github.com/nalloc/nalloc/bench/internal/report"
	"github.com/nalloc/nalloc/bench/internal/run"
	"github.com/nalloc/nalloc/bench/internal/workload"
	"github.com/nalloc/nalloc/internal/platform"
)

// The test binary is also the children's binary: command() re-executes
// os.Executable(), which under go test is this binary, so TestMain does
// what main does.
func TestMain(m *testing.M) {
	setupProcess()
	if spec, ok := os.LookupEnv(run.ChildEnv); ok {
		os.Exit(run.ChildMain(spec, os.Stdout, os.Stderr))
	}
	// A test that needs the command in a fresh process of its own, on the
	// main thread as main runs it, sets this to its arguments (see
	// runCommand).
	if args, ok := os.LookupEnv(runArgsEnv); ok {
		os.Exit(command(strings.Fields(args), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const runArgsEnv = "NALLOC_BENCH_TEST_ARGS"

// Allocators that exist only in the test binary (and so in its children),
// to drive the paths no real backend takes on demand; benchtest registers
// two more, test-arena and test-tuner.
func init() {
	// One that cannot load, with a multi-line reason like the registry's.
	nalloc.Register("test-broken", func() (nalloc.Allocator, error) {
		return nil, errors.New("test-broken: libbroken.so.1 not found\n\tinstall it with: apt-get install libbroken1")
	})
	// One that fails in the middle of a workload.
	nalloc.Register("test-failing", func() (nalloc.Allocator, error) {
		return &failing{Allocator: nalloc.NewGoHeap()}, nil
	})
}

type failing struct {
	nalloc.Allocator
	n int
}

func (f *failing) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if f.n++; f.n > 100 {
		return nil, nalloc.OutOfMemory("test-failing", l)
	}
	return f.Allocator.Allocate(l)
}

// childTimeout bounds each child of a shoot-out run in these tests, well
// below go test's 10 minutes: a child that hangs (as one did once under
// qemu-user 7.2, docs/platforms.md) then fails its test with the child's
// name and output instead of stopping the whole binary with a goroutine
// dump.
const childTimeout = "4m"

// runCmd runs the command in process and returns its exit status and
// output. A shoot-out run (flags, no command) gets -timeout childTimeout
// unless the test gives its own.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	if len(args) > 0 && strings.HasPrefix(args[0], "-") && !slices.Contains(args, "-timeout") {
		args = append([]string{"-timeout", childTimeout}, args...)
	}
	var stdout, stderr bytes.Buffer
	code := command(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestQuickSmoke runs the whole command, -quick, with its children, in
// every output format that matters, and checks the parts that must be
// there.
func TestQuickSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole shoot-out (-short skips it)")
	}
	chart := t.TempDir() + "/chart.png"
	code, stdout, stderr := runCmd(t, "-quick", "-runs", "2", "-gc-live", "4MiB", "-threads", "4",
		"-allocators", "make,go,modernc,glibc,test-broken,test-arena", "-format", "json", "-chart", chart)
	if code != 0 {
		t.Fatalf("exit status %d\nstderr:\n%s", code, stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("-format json is not JSON: %v\n%s", err, stdout)
	}
	if rep.Schema != report.SchemaVersion {
		t.Errorf("schema = %q, want %q", rep.Schema, report.SchemaVersion)
	}
	if got := rep.LoadedNames(); strings.Join(got, ",") != "make,go,modernc,glibc,test-arena" {
		t.Errorf("loaded %v, want make, go, modernc, glibc, test-arena", got)
	}
	// Exactly one line for the allocator that did not load, on stderr
	// (stdout is the JSON), with its reason flattened.
	var skipped []string
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "skipped ") {
			skipped = append(skipped, line)
		}
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "test-broken: libbroken.so.1 not found install it with: apt-get install libbroken1") {
		t.Errorf("skipped lines = %q, want one for test-broken with its reason", skipped)
	}
	if len(rep.Workloads) != len(workload.All()) {
		t.Fatalf("%d workloads in the report, want %d", len(rep.Workloads), len(workload.All()))
	}
	for _, wr := range rep.Workloads {
		if len(wr.Errors) > 0 {
			t.Errorf("%s: errors %v", wr.Name, wr.Errors)
		}
		for _, row := range wr.Rows {
			for _, c := range row.Cells {
				if c.Go == nil && wr.NotApplicable[c.Allocator] == "" && metric.ByID(row.Metric).Better != "" {
					t.Errorf("%s %s %s: no figure for %s", wr.Name, row.Case, row.Metric, c.Allocator)
				}
				if c.Go != nil && len(c.Go.Runs) != 2 {
					t.Errorf("%s %s %s %s: %d runs, want 2", wr.Name, row.Case, row.Metric, c.Allocator, len(c.Go.Runs))
				}
			}
		}
	}
	for _, wr := range rep.Workloads {
		w := workload.ByName(wr.Name)
		// Every workload with a notFor rules the arena out (for its
		// Reset, or because its chunks are Go heap memory), with a reason.
		if why := wr.NotApplicable["test-arena"]; (w.NotFor != nil) != (why != "") {
			t.Errorf("%s on an arena: not_applicable = %q", wr.Name, why)
		}
		// What mimalloc-bench reports of every run, for every allocator
		// the workload applies to, and for the C and cgo sides of
		// glibc where it has them.
		for _, m := range metric.Process {
			row := findRow(t, &rep, wr.Name, "", m)
			for _, c := range row.Cells {
				if c.Go == nil && wr.NotApplicable[c.Allocator] == "" {
					t.Errorf("%s: no %s for %s", wr.Name, m, c.Allocator)
				}
				if c.Allocator == "glibc" && w.CArgs != nil && (rep.Native.Enabled && c.C == nil || rep.Cgo.Enabled && c.CGO == nil) {
					t.Errorf("%s: no %s for glibc in C or through cgo", wr.Name, m)
				}
			}
		}
	}
	if rep.Native.Enabled {
		for _, w := range []string{"glibc-simple", "malloc-thread", "xmalloc"} {
			if !rowHasC(rep, w, "glibc") {
				t.Errorf("native column enabled but %s has no C figure for glibc", w)
			}
		}
	} else if os.Getenv("NALLOC_REQUIRE_CC") == "1" {
		t.Errorf("no native column: %s (NALLOC_REQUIRE_CC=1)", rep.Native.Skipped)
	}
	if rep.Cgo.Enabled != peer.CgoBuilt {
		t.Errorf("cgo enabled %v in a binary built with cgo %v (%s)", rep.Cgo.Enabled, peer.CgoBuilt, rep.Cgo.Skipped)
	}
	if rep.Cgo.Enabled && rep.Native.Enabled {
		r := findRow(t, &rep, "glibc-simple", "size=64B", metric.NsPerPair)
		if c := r.Cells[3]; c.Allocator != "glibc" || c.CGO == nil || c.XCGO <= 0 {
			t.Errorf("glibc-simple 64 B: the glibc cell has no cgo figure: %+v", c)
		}
	}
	if !peer.CgoBuilt && !strings.Contains(strings.Join(rep.Notes, "\n"), "no cgo column: this binary was built with CGO_ENABLED=0") {
		t.Errorf("without cgo, no note says why there is no cgo column: %q", rep.Notes)
	}
	b, err := os.ReadFile(chart)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("-chart %s: not a PNG (%v)", chart, err)
	}
}

// rowHasC reports whether a crossing row of workload has a C figure for
// alloc, with its xC.
func rowHasC(rep report.Report, workload, alloc string) bool {
	for _, wr := range rep.Workloads {
		for _, row := range wr.Rows {
			for _, c := range row.Cells {
				if wr.Name == workload && metric.ByID(row.Metric).Crossing && c.Allocator == alloc && c.C != nil && c.XC > 0 {
					return true
				}
			}
		}
	}
	return false
}

// TestFailingRun: a run that fails costs its cell, is reported once, and
// makes the exit status 1.
func TestFailingRun(t *testing.T) {
	code, stdout, stderr := runCmd(t, "-allocators", "go,test-failing", "-workloads", "arena-boxes",
		"-runs", "2", "-quick", "-no-native")
	if code != 1 {
		t.Fatalf("exit status %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if n := strings.Count(stdout, "error test-failing: "); n != 1 {
		t.Errorf("%d error lines for test-failing, want 1:\n%s", n, stdout)
	}
	if !strings.Contains(stdout, "nalloc: out of memory: test-failing cannot allocate") {
		t.Errorf("the error line does not give the child's reason:\n%s", stdout)
	}
	if !strings.Contains(stdout, "native column skipped: turned off with -no-native") {
		t.Errorf("the table does not say the native column is off:\n%s", stdout)
	}
}

func TestNoAllocatorLoads(t *testing.T) {
	code, _, stderr := runCmd(t, "-allocators", "test-broken", "-no-native")
	if code != 1 || !strings.Contains(stderr, "skipped test-broken: ") || !strings.Contains(stderr, "no allocator loaded") {
		t.Errorf("exit status %d, stderr:\n%s", code, stderr)
	}
}

func TestCommands(t *testing.T) {
	code, _, stderr := runCmd(t, "probe", "-allocator", "glibc")
	if _, ok := commands["probe"]; !ok && (code != 2 || !strings.Contains(stderr, `unknown command "probe"`)) {
		t.Errorf("probe without the probe command: exit status %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCmd(t, "-h")
	if code != 0 || !strings.Contains(stderr, "glibc-simple") || !strings.Contains(stderr, "-allocators") {
		t.Errorf("-h: exit status %d, usage:\n%s", code, stderr)
	}
}

// TestLibraryColumn measures a library at a path of the user's under its
// backend, as -library does for a newer build: the column loads that
// file, on the Go side and in C alike.
func TestLibraryColumn(t *testing.T) {
	path := "/usr/lib/" + platform.Multiarch() + "/libmimalloc.so.2.0" // this process's architecture's
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no %s to measure: %v", path, err)
	}
	code, stdout, stderr := runCmd(t, "-quick", "-runs", "1", "-allocators", "go", "-library", "mimalloc="+path,
		"-workloads", "glibc-simple", "-format", "json")
	if code != 0 {
		t.Fatalf("exit status %d\nstderr:\n%s", code, stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	a := rep.Allocators[1]
	if a.Name != "mimalloc@libmimalloc.so.2.0" || a.Backend != "mimalloc" || a.Path != path || !a.Loaded {
		t.Fatalf("the -library column: %+v", a)
	}
	// The library the backend says it loaded (a nalloc.Native; mimalloc
	// is one once its Version is a string).
	if lib := a.Info["library"]; lib != "" && lib != path {
		t.Errorf("the -library column loaded %s, not %s", lib, path)
	}
	if rep.Native.Enabled && !rowHasC(rep, "glibc-simple", a.Name) {
		t.Errorf("no C figure for %s", a.Name)
	}
}

// TestFrom prints a saved report again, in another format, without
// measuring: the table from the JSON is the table of the same report.
func TestFrom(t *testing.T) {
	p := workload.ParamsFor(true, 2, false, 1<<30)
	k := workload.RowKey{Case: "size=16B", Metric: metric.NsPerPair}
	cells := map[report.CellKey]*report.CellData{}
	for a, v := range map[string]float64{"go": 30, "glibc": 20} {
		d := report.NewCellData()
		d.Runs[metric.ViaGo][k] = []float64{v, v + 1, v - 1}
		cells[report.CellKey{Workload: "glibc-simple", Allocator: a}] = d
	}
	cells[report.CellKey{Workload: "glibc-simple", Allocator: "glibc"}].Errs[metric.ViaC] = "killed by signal segmentation fault"
	rep := &report.Report{Schema: report.SchemaVersion, Machine: report.ThisMachine(), Config: report.ReportConfig{Runs: 3, Params: p},
		Allocators: []report.AllocatorStatus{{Name: "go", Loaded: true}, {Name: "glibc", Backend: "glibc", Loaded: true}}}
	rep.Workloads = report.BuildWorkloads([]*workload.Workload{workload.ByName("glibc-simple")}, &p, []string{"go", "glibc"}, cells)
	var js, want bytes.Buffer
	if code := report.Output(rep, "json", "", &js, io.Discard); code != 1 {
		t.Fatalf("json: exit status %d, want 1 for the failed cell", code)
	}
	if code := report.Output(rep, "table", "", &want, io.Discard); code != 1 {
		t.Fatalf("table: exit status %d, want 1 for the failed cell", code)
	}
	path := t.TempDir() + "/out.json"
	if err := os.WriteFile(path, js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "-from", path, "-format", "table")
	// The saved report has a failed cell (glibc in C): exit 1.
	if code != 1 || stdout != want.String() {
		t.Errorf("-from: exit status %d, stderr %q; table\n%s\nwant\n%s", code, stderr, stdout, want.String())
	}
	if code, _, stderr := runCmd(t, "-from", os.Args[0]); code != 1 || !strings.Contains(stderr, "not a report of schema") {
		t.Errorf("-from a binary: exit status %d, stderr %q", code, stderr)
	}
}

func findRow(t *testing.T, rep *report.Report, w, cs, m string) report.Row {
	t.Helper()
	for _, wr := range rep.Workloads {
		for _, r := range wr.Rows {
			if wr.Name == w && r.Case == cs && r.Metric == m {
				return r
			}
		}
	}
	t.Fatalf("no row %s %s %s", w, cs, m)
	return report.Row{}
}
