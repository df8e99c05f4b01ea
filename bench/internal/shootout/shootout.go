// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package shootout is the shoot-out itself: its flags, the plan of runs
// over allocators, workloads and ways (Go, cgo, C), the children that
// measure them (package run), and the report it writes (package report).
package shootout

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/peer"
	"github.com/nalloc/nalloc/bench/internal/report"
	"github.com/nalloc/nalloc/bench/internal/run"
	"github.com/nalloc/nalloc/bench/internal/workload"
)

// Run is the shoot-out's command: the flags in args, then a run, or a
// replay of a saved report (-from). It returns the exit status: 0; 1 if a
// run failed or no allocator loaded; 2 for a bad command line; 130 if
// interrupted.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\nrun 'go run ./bench -h' for the flags\n", err)
		return 2
	}
	if cfg.From != "" {
		return replay(cfg, stdout, stderr)
	}
	return shootout(ctx, cfg, stdout, stderr)
}

// replay prints a report saved with -format json, as -from asks: in
// another format, or as a chart, without measuring again.
func replay(cfg *config, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(cfg.From)
	if err != nil {
		fmt.Fprintf(stderr, "bench: -from: %v\n", err)
		return 1
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil || rep.Schema != report.SchemaVersion {
		fmt.Fprintf(stderr, "bench: -from %s: not a report of schema %s (save one with -format json): %v\n", cfg.From, report.SchemaVersion, err)
		return 1
	}
	return report.Output(&rep, cfg.Format, cfg.Chart, stdout, stderr)
}

// job is one run of one workload on one allocator, by one way.
type job struct {
	w   *workload.Workload
	c   *column
	run int
	via metric.Via
}

func (j job) String() string {
	switch j.via {
	case metric.ViaC:
		return j.w.Name + " on " + j.c.Name + " in C"
	case metric.ViaCgo:
		return j.w.Name + " on " + j.c.Name + " through cgo"
	}
	return j.w.Name + " on " + j.c.Name
}

// column is a contender that loaded, and what its native library is
// measured through besides nalloc.
type column struct {
	contender
	library string // the library the C and cgo sides load: what the backend loaded
	c, cgo  bool   // it has a C figure, a cgo figure
}

// plan orders the runs: run by run, workload by workload, every allocator
// (and its cgo and C twins right after it) within, starting each run from
// a different allocator, so that slow drifts of a shared machine spread
// over all of them instead of favouring whoever comes first.
func plan(cfg *config, cols []*column) []job {
	var jobs []job
	for r := range cfg.Runs {
		for _, w := range cfg.Workloads {
			for i := range cols {
				c := cols[(i+r)%len(cols)]
				jobs = append(jobs, job{w: w, c: c, run: r, via: metric.ViaGo})
				if w.CArgs == nil {
					continue
				}
				if c.cgo {
					jobs = append(jobs, job{w: w, c: c, run: r, via: metric.ViaCgo})
				}
				if c.c {
					jobs = append(jobs, job{w: w, c: c, run: r, via: metric.ViaC})
				}
			}
		}
	}
	return jobs
}

// shootout runs the shoot-out that cfg describes and writes the report
// to stdout. It returns the exit status: 0, 1 if a run failed or no
// allocator loaded, 130 if interrupted.
func shootout(ctx context.Context, cfg *config, stdout, stderr io.Writer) int {
	t0 := time.Now()
	rep := &report.Report{
		Notes:   []string{},
		Schema:  report.SchemaVersion,
		Started: t0.UTC().Truncate(time.Second),
		Machine: report.ThisMachine(),
		Config:  report.ReportConfig{Runs: cfg.Runs, Quick: cfg.Quick, Threads: cfg.Threads, Native: cfg.Native, Params: cfg.Params},
	}
	if rep.Machine.Emulated != "" {
		fmt.Fprintln(stderr, rep.Machine.Emulated) // whatever the -format
	}
	prog := newProgress(stderr)
	defer prog.done()
	r := &run.Runner{Timeout: cfg.Timeout}

	cols := loadAllocators(ctx, cfg, r, rep, prog)
	if len(cols) == 0 {
		prog.done()
		for _, a := range rep.Allocators {
			fmt.Fprintf(stderr, "skipped %s: %s\n", a.Name, a.Error)
		}
		fmt.Fprintln(stderr, "bench: no allocator loaded; nothing to compare")
		return 1
	}
	if cfg.Native {
		prog.show("compiling the C workloads")
		dir, err := os.MkdirTemp("", "nalloc-bench-")
		if err != nil {
			r.C.Skipped = "no temporary directory for the C program: " + err.Error()
		} else {
			defer os.RemoveAll(dir)
			r.C = run.BuildNative(ctx, dir)
		}
		rep.Native = report.NativeStatus{Enabled: r.C.Bin != "", Compiler: r.C.Compiler, Skipped: r.C.Skipped}
	} else {
		rep.Native.Skipped = "turned off with -no-native"
	}
	rep.Cgo = report.CgoStatus{Enabled: peer.CgoBuilt}
	if !peer.CgoBuilt {
		rep.Cgo.Skipped = peer.ErrNoCgo.Error()
	}
	for _, c := range cols {
		// The C side and the cgo peer call a plain pair, Alloc(size) and
		// Free(p); a backend on a zone of its own (libsystem) has none.
		plain := c.Native != nil && c.Native.Pair.Kind == "plain"
		c.c = plain && rep.Native.Enabled
		c.cgo = plain && rep.Cgo.Enabled
	}

	cells, interrupted := runJobs(ctx, cfg, r, plan(cfg, cols), prog)
	if interrupted != "" {
		rep.Notes = append(rep.Notes, interrupted)
	}
	prog.done()

	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	rep.Workloads = report.BuildWorkloads(cfg.Workloads, &cfg.Params, names, cells)
	rep.Rankings = append([]report.RankingCheck{}, report.CheckRankings(rep.Workloads)...) // [] in JSON, not null
	rep.Notes = append(rep.Notes, report.RankingNotes(rep)...)
	rep.Notes = append(rep.Notes, contextNotes(cfg, rep)...)
	rep.Seconds = time.Since(t0).Seconds()

	code := report.Output(rep, cfg.Format, cfg.Chart, stdout, stderr)
	if interrupted != "" {
		return 130
	}
	return code
}

// loadAllocators tries each allocator in a child, as the runs will open
// it, and records in rep which loaded and why the others did not.
func loadAllocators(ctx context.Context, cfg *config, r *run.Runner, rep *report.Report, prog *progress) []*column {
	var cols []*column
	for _, c := range cfg.Allocators {
		prog.show("loading " + c.Name)
		st := report.AllocatorStatus{Name: c.Name, Path: c.Library}
		if c.Native != nil {
			st.Backend = c.Native.Name
		}
		res, err := r.GoChild(ctx, c.spec(metric.ViaGo, ""))
		if err != nil {
			st.Error = strings.TrimPrefix(run.OneLine(err), run.ErrNoOpen.Error()+": ")
		} else {
			st.Loaded, st.Info = true, res.Info
			col := &column{contender: c, library: c.Library}
			if lib := res.Info["library"]; lib != "" {
				col.library = lib // the library the backend itself loaded
			}
			if col.library == "" && c.Native != nil && len(c.Native.Sonames) > 0 {
				col.library = c.Native.Sonames[0]
			}
			cols = append(cols, col)
		}
		rep.Allocators = append(rep.Allocators, st)
	}
	return cols
}

// runJobs runs the jobs in order, each in a child, and gathers their
// figures. A cell that failed, or does not apply, is not run again. If
// ctx ends first, it stops and says so in the returned note.
func runJobs(ctx context.Context, cfg *config, r *run.Runner, jobs []job, prog *progress) (map[report.CellKey]*report.CellData, string) {
	cells := map[report.CellKey]*report.CellData{}
	eta := newETA()
	for i, j := range jobs {
		if ctx.Err() != nil {
			return cells, fmt.Sprintf("interrupted after %d of %d runs: the figures are partial", i, len(jobs))
		}
		key := report.CellKey{Workload: j.w.Name, Allocator: j.c.Name}
		d := cells[key]
		if d == nil {
			d = report.NewCellData()
			cells[key] = d
		}
		if d.NA != "" || d.Errs[j.via] != "" {
			continue // it failed or does not apply: once is enough
		}
		prog.show(fmt.Sprintf("[%d/%d] run %d/%d: %s%s", i+1, len(jobs), j.run+1, cfg.Runs, j, eta.left(jobs[i:])))
		var res run.Result
		var err error
		if j.via == metric.ViaC {
			res, err = r.CChild(ctx, j.c.library, j.c.Native.Pair, j.w, &cfg.Params)
		} else {
			spec := j.c.spec(j.via, j.c.library)
			spec.Workload, spec.Params = j.w.Name, cfg.Params
			res, err = r.GoChild(ctx, spec)
		}
		eta.record(j, res.Took)
		switch {
		case err != nil && ctx.Err() != nil:
			// interrupted: reported at the top of the loop
		case err != nil:
			d.Errs[j.via] = run.OneLine(err)
		case res.NA != "":
			d.NA = res.NA
		default:
			for _, v := range res.Values {
				if metric.ByID(v.Metric) == nil {
					d.Errs[j.via] = fmt.Sprintf("reported an unknown metric %q", v.Metric)
					break
				}
				d.Runs[j.via][v.RowKey] = append(d.Runs[j.via][v.RowKey], v.V)
			}
		}
	}
	if ctx.Err() != nil {
		return cells, "interrupted during the last run: the figures are partial"
	}
	return cells, ""
}

// contextNotes are what a reader needs to read the figures right.
func contextNotes(cfg *config, rep *report.Report) []string {
	var notes []string
	threaded := false
	for _, w := range cfg.Workloads {
		threaded = threaded || w.Threaded
		if w.Note != nil {
			notes = append(notes, w.Note(&cfg.Params))
		}
	}
	if threaded && cfg.Threads > rep.Machine.CPUs {
		notes = append(notes, fmt.Sprintf("threads: this machine has %d CPUs; beyond that, more threads measure contention and scheduling, not parallel speed-up",
			rep.Machine.CPUs))
	}
	for _, a := range rep.Allocators {
		if !a.Loaded {
			continue
		}
		switch a.Name {
		case peer.MakeName:
			notes = append(notes, "make is the idiomatic Go program: make([]byte, n) for each block, nothing on free, "+
				"the garbage collector collects once the workload drops its pointer (its times include the GC's)")
		case "go":
			notes = append(notes, "go is nalloc's GoHeap: each block is a Go byte slice that it keeps in a table until "+
				"Deallocate, so its figures are make's plus that table (a lock, a map insert and delete per block)")
		case peer.ModerncName:
			notes = append(notes, "modernc is modernc.org/memory, one allocator shared behind a mutex, as modernc.org/libc "+
				"(under modernc's sqlite) shares it")
		}
		if a.Info["arena"] != "" {
			notes = append(notes, fmt.Sprintf("%s is an arena (it has Reset): glibc-simple and glibc-thread Reset it at the end of each cycle, "+
				"arena-boxes once per round instead of freeing the boxes; malloc-large, malloc-thread, xmalloc and larson do not apply", a.Name))
		}
	}
	if rep.Cgo.Enabled {
		notes = append(notes, "cgo: the same Go workload calling each native library's pair through cgo (one cgo call per "+
			"allocate and per free, the library dlopen'ed with RTLD_LOCAL); xcgo is its cost over C's, beside xC")
	} else if rep.Cgo.Skipped != "" {
		notes = append(notes, "no cgo column: "+rep.Cgo.Skipped)
	}
	var below []string
	for _, wr := range rep.Workloads {
		for _, row := range wr.Rows {
			for _, c := range row.Cells {
				if c.XC > 0 && c.XC < 0.9 {
					where := wr.Name + " " + row.Label
					if row.Case != "" {
						where = wr.Name + " " + row.Case
					}
					below = append(below, where+" on "+c.Allocator)
				}
			}
		}
	}
	if len(below) > 0 {
		notes = append(notes, fmt.Sprintf("xC under 1 (%s): there the crossing is not what dominates. At 128 and 256 B glibc "+
			"gives its heap top back to the OS at the end of every cycle (M_TRIM_THRESHOLD, 128 KiB) and faults it back in "+
			"the next (see minor faults); with more threads than CPUs the scheduler decides. Such costs vary more between "+
			"processes and moments than the crossing does: read xC under 1 as their noise, not as a gain",
			strings.Join(below, "; ")))
	}
	if cfg.Quick {
		notes = append(notes, "-quick: fewer runs, rounds and steps, and a smaller live set; a smoke run, not figures to quote")
	}
	return notes
}

// eta estimates the time left from how long each kind of run took last.
type eta struct {
	last map[string]time.Duration
	sum  time.Duration
	n    int
}

func newETA() *eta { return &eta{last: map[string]time.Duration{}} }

func (e *eta) record(j job, d time.Duration) {
	e.last[j.String()] = d
	e.sum += d
	e.n++
}

func (e *eta) left(rest []job) string {
	if e.n == 0 {
		return ""
	}
	var t time.Duration
	for _, j := range rest {
		if d, ok := e.last[j.String()]; ok {
			t += d
		} else {
			t += e.sum / time.Duration(e.n)
		}
	}
	return fmt.Sprintf(" (about %s left)", report.FormatDuration(t.Seconds()))
}
